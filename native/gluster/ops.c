/* ops.c: the life of a fop handed to JS. It completes exactly once: by JS
 * (unwind, fail, forward), by the handler-timeout, or by the loss of the JS
 * environment, whichever comes first; the others find it done and back off.
 * A fop JS originates (gj_originate) is an op too, with no parent to unwind:
 * it completes when its reply reaches JS, or by the same timeout and loss. */
#include "glue.h"
#include <glusterfs/client_t.h>
#include <signal.h>
#include <time.h>

struct gj_op {
    struct list_head list; /* priv->pending while not done */
    gf_atomic_t ref;
    int done;              /* under priv->lock */
    int waiting;           /* under priv->lock: held for an environment that restarts (gj_op_hold) */
    int code;
    call_frame_t *frame;   /* valid only while !done */
    xlator_t *this;
    uint64_t arrived_ms;   /* when it reached glujs; the list is in this order */
    gj_js_t *js;           /* the instance that has it (a reload does not move it) */
    double tag;
    int origin;            /* originated by JS: completing it delivers a reply to JS, nothing unwinds */
    uint64_t cookie;       /* origin: the JS side's cookie for its reply */
    xlator_t *child;       /* origin: where it went (for messages) */
    gj_val_t args[GJ_MAX_VALS];
};

struct gj_reply {
    gj_op_t *op; /* holds a reference */
    uint64_t cookie;
    int synthetic; /* origin: made by glujs (timeout); the op was claimed for it */
    gj_val_t vals[GJ_MAX_VALS];
};

typedef struct {
    gj_op_t *op;
    uint64_t cookie;
} gj_wind_t;

static const gj_fop_desc_t *
desc(int code)
{
    return &gj_fop_table[code];
}

int
gj_fop_kinds(int code, int reply, const unsigned char **kinds)
{
    if (code <= 0 || code >= GJ_FOP_MAX || !gj_fop_table[code].name || !gj_fop_table[code].js)
        return -1;
    *kinds = reply ? gj_fop_table[code].reply_kinds : gj_fop_table[code].arg_kinds;
    return reply ? gj_fop_table[code].nreply : gj_fop_table[code].nargs;
}

const char *
gj_fop_name(int code)
{
    return (code > 0 && code < GJ_FOP_MAX) ? gj_fop_table[code].name : NULL;
}

void
gj_op_ref(gj_op_t *op)
{
    GF_ATOMIC_INC(op->ref);
}

void
gj_op_unref(gj_op_t *op)
{
    if (GF_ATOMIC_DEC(op->ref) != 0)
        return;
    gj_release_vals(desc(op->code)->arg_kinds, desc(op->code)->nargs, op->args);
    free(op);
}

int gj_op_fop(const gj_op_t *op) { return op->code; }
void gj_op_set_tag(gj_op_t *op, double tag) { op->tag = tag; }
double gj_op_tag(const gj_op_t *op) { return op->tag; }

void *
gj_op_first_arg(const gj_op_t *op, int kind)
{
    const gj_fop_desc_t *d = desc(op->code);
    for (int i = 0; i < d->nargs; i++)
        if (d->arg_kinds[i] == kind && op->args[i].p)
            return op->args[i].p;
    return NULL;
}


void *
gj_op_inode(const gj_op_t *op)
{
    loc_t *loc = gj_op_first_arg(op, GJ_LOC);
    fd_t *fd = gj_op_first_arg(op, GJ_FD);
    return loc && loc->inode ? loc->inode : fd ? fd->inode : NULL;
}
gj_val_t gj_op_arg(const gj_op_t *op, int i) { return op->args[i]; }
void *gj_op_xl(const gj_op_t *op) { return op->this; }

int
gj_op_caller(const gj_op_t *op, gj_caller_t *out)
{
    gj_private_t *priv = op->this->private;
    int ret = -1;
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&priv->lock); /* the frame is valid while the op is not done */
    if (!op->done && op->frame && op->frame->root) {
        call_stack_t *root = op->frame->root;
        out->uid = root->uid;
        out->gid = root->gid;
        out->pid = root->pid;
        out->ngroups = root->ngrps;
        for (uint32_t i = 0; i < root->ngrps && i < 32 && root->groups; i++)
            out->groups[i] = root->groups[i];
        if (root->client && root->client->client_uid)
            snprintf(out->client, sizeof(out->client), "%s", root->client->client_uid);
        ret = 0;
    }
    pthread_mutex_unlock(&priv->lock);
    return ret;
}

int
gj_op_done(const gj_op_t *op)
{
    gj_private_t *priv = op->this->private;
    int done;
    pthread_mutex_lock(&priv->lock);
    done = op->done;
    pthread_mutex_unlock(&priv->lock);
    return done;
}

/* Take the op out of the pending list; only the first caller succeeds. */
static int
claim(gj_op_t *op)
{
    gj_private_t *priv = op->this->private;
    int ok = 0;
    pthread_mutex_lock(&priv->lock);
    if (!op->done) {
        op->done = 1;
        list_del_init(&op->list);
        priv->npending--;
        priv->norigin -= op->origin;
        ok = 1;
    }
    pthread_mutex_unlock(&priv->lock);
    return ok;
}

/* Refuses a fop with EAGAIN: too many are already waiting for JS (max-pending). */
/* Unwind fop `code` on `frame` with op_ret -1 and op_errno, every other reply
 * field NULL or 0: the one error unwind (busy, no memory, fail, timeout, abort). */
static void
unwind_error(call_frame_t *frame, int code, int op_errno)
{
    gj_val_t r[GJ_MAX_VALS] = {{0}};
    r[0].i = -1;
    r[1].i = op_errno;
    desc(code)->unwind(frame, r);
}

static int
refuse_busy(call_frame_t *frame, xlator_t *this, int code, gj_val_t *args)
{
    gj_private_t *priv = this->private;
    static __thread time_t last_log;
    time_t now = time(NULL);
    GF_ATOMIC_INC(priv->busy);
    if (now != last_log) { /* at most once a second per thread */
        last_log = now;
        gf_log(this->name, GF_LOG_WARNING,
               "%s failed with EAGAIN: %" PRIu64 " fops already wait for JS (max-pending)",
               desc(code)->name, priv->npending - priv->norigin);
    }
    gj_release_vals(desc(code)->arg_kinds, desc(code)->nargs, args);
    unwind_error(frame, code, EAGAIN);
    return 0;
}

/* Put op on the pending list (handler-timeout, retire and abort see it there). */
static void
add_pending(gj_private_t *priv, gj_op_t *op)
{
    pthread_mutex_lock(&priv->lock);
    op->arrived_ms = gj_now_ms(); /* under the lock: the pending list stays in arrival order */
    list_add_tail(&op->list, &priv->pending);
    priv->norigin += op->origin;
    if (priv->npending++ == 0)
        pthread_cond_signal(&priv->cond);
    pthread_mutex_unlock(&priv->lock);
}

int
gj_fop_enter(call_frame_t *frame, xlator_t *this, int code, gj_val_t *args)
{
    gj_private_t *priv = this->private;
    gj_op_t *op;
    if (priv->max_pending && priv->npending - priv->norigin >= priv->max_pending)
        return refuse_busy(frame, this, code, args);
    op = calloc(1, sizeof(*op));
    if (!op) {
        gj_release_vals(desc(code)->arg_kinds, desc(code)->nargs, args);
        unwind_error(frame, code, ENOMEM);
        return 0;
    }
    INIT_LIST_HEAD(&op->list);
    GF_ATOMIC_INIT(op->ref, 2); /* one for pending, one for the JS side */
    op->code = code;
    op->frame = frame;
    op->this = this;
    memcpy(op->args, args, sizeof(gj_val_t) * desc(code)->nargs);
    op->js = __atomic_load_n(&priv->js, __ATOMIC_ACQUIRE);

    /* forget/release reach an xlator only for inodes/fds it keeps a context
     * on: mark those that pass through a handler when JS wants to hear of them. */
    if (priv->events[GJ_EV_FORGET] || priv->events[GJ_EV_INVALIDATE]) {
        inode_t *inode = gj_op_inode(op);
        if (inode && inode_ctx_get0(inode, this, NULL) != 0)
            inode_ctx_set0(inode, this, &(uint64_t){1});
    }
    if (priv->events[GJ_EV_RELEASE] || priv->events[GJ_EV_RELEASEDIR]) {
        fd_t *fd = gj_op_first_arg(op, GJ_FD);
        if (fd && fd_ctx_get(fd, this, NULL) != 0)
            fd_ctx_set(fd, this, 1);
    }

    add_pending(priv, op);
    GF_ATOMIC_INC(priv->fops_in);

    if (!op->js || gj_js_post_op(op->js, op) != 0) {
        gj_op_unref(op); /* the JS side's reference */
        gj_op_fail(op, ENOTCONN, "the JS environment is not running");
    }
    return 0;
}

/* Unwind a claimed op with a reply (vals), or with op_errno when vals is NULL. */
static void
unwind_with(gj_op_t *op, const gj_val_t *vals, int op_errno)
{
    xlator_t *old = THIS;
    THIS = op->this;
    if (vals)
        desc(op->code)->unwind(op->frame, vals);
    else
        unwind_error(op->frame, op->code, op_errno);
    THIS = old;
    op->frame = NULL;
}

int
gj_op_unwind(gj_op_t *op, const gj_val_t *vals)
{
    if (!claim(op))
        return -1;
    unwind_with(op, vals, 0);
    gj_op_unref(op);
    return 0;
}

int
gj_op_fail(gj_op_t *op, int op_errno, const char *why)
{
    gj_private_t *priv = op->this->private;
    if (!claim(op))
        return -1;
    GF_ATOMIC_INC(priv->fops_failed);
    if (why)
        gf_log(op->this->name, GF_LOG_ERROR, "%s failed with %s: %s", desc(op->code)->name,
               strerror(op_errno), why);
    unwind_with(op, NULL, op_errno);
    gj_op_unref(op);
    return 0;
}

int
gj_op_forward(gj_op_t *op, int child, const gj_val_t *vals)
{
    xlator_t *old = THIS;
    xlator_t *to = gj_child(op->this, child);
    call_frame_t *frame = op->frame;
    if (!to)
        return -3;
    if (!claim(op))
        return -1;
    THIS = op->this;
    desc(op->code)->forward(frame, to, vals);
    THIS = old;
    op->frame = NULL;
    gj_op_unref(op);
    return 0;
}

/* A frame for a wind of `frame`'s fop on a call stack of its own (copy_frame),
 * carrying the whole identity of the caller. copy_frame copies the credentials,
 * lk-owner, unique, op, flags and ctime, but not the client: on a brick,
 * features/locks keys every lock on frame->root->client (exclusivity between
 * clients, cleanup at a client's disconnect), and features/upcall, leases and
 * quota do too. protocol/server sets it (and `identifier`) on every stack it
 * creates; the copy takes its own reference, since it may outlive the op.
 * `state` is protocol/server's own and stays behind. */
static call_frame_t *
wind_frame(call_frame_t *frame)
{
    call_frame_t *wf = copy_frame(frame);
    call_stack_t *from = frame->root, *to;
    if (!wf)
        return NULL;
    to = wf->root;
    memcpy(to->identifier, from->identifier, sizeof(to->identifier));
    to->ns_info = from->ns_info;
    if (from->client)
        to->client = gf_client_ref(from->client);
    return wf;
}

static void
wind_frame_destroy(call_frame_t *frame)
{
    client_t *client = frame->root->client;
    frame->root->client = NULL;
    STACK_DESTROY(frame->root);
    if (client)
        gf_client_unref(client);
}

xlator_t *
gj_child(xlator_t *this, int i)
{
    xlator_list_t *c = this->children;
    for (; c && i > 0; c = c->next)
        i--;
    return c && i == 0 ? c->xlator : NULL;
}

int
gj_op_wind(gj_op_t *op, int child, const gj_val_t *vals, uint64_t cookie)
{
    gj_private_t *priv = op->this->private;
    call_frame_t *wf = NULL;
    xlator_t *to = gj_child(op->this, child);
    gj_wind_t *w;
    xlator_t *old = THIS;
    if (!to)
        return -3;
    w = malloc(sizeof(*w));
    if (!w)
        return -2;
    /* The wind runs on its own copy of the frame, so that the op can be
     * unwound (timeout, early answer) while the child still holds the wind. */
    THIS = op->this;
    pthread_mutex_lock(&priv->lock);
    if (!op->done)
        wf = wind_frame(op->frame);
    pthread_mutex_unlock(&priv->lock);
    if (!wf) {
        THIS = old;
        free(w);
        return op->done ? -1 : -2;
    }
    gj_op_ref(op);
    w->op = op;
    w->cookie = cookie;
    desc(op->code)->wind(wf, to, w, vals);
    THIS = old;
    return 0;
}

void
gj_wind_done(call_frame_t *frame, void *cookie, xlator_t *this, gj_val_t *r)
{
    gj_private_t *priv = this->private;
    gj_wind_t *w = cookie;
    gj_op_t *op = w->op;
    gj_reply_t *rep = malloc(sizeof(*rep));
    int n = desc(op->code)->nreply;

    wind_frame_destroy(frame);
    if (op->origin)
        gj_origin_linked(op->this, op->code, op->args, r); /* before JS, or anyone, uses the reply */
    if (rep) {
        rep->op = op; /* takes over the wind's reference */
        rep->cookie = w->cookie;
        rep->synthetic = 0;
        memcpy(rep->vals, r, sizeof(gj_val_t) * n);
    }
    free(w);
    if (!rep) {
        gj_release_vals(desc(op->code)->reply_kinds, n, r);
        if (op->origin && claim(op))
            gj_op_unref(op); /* the pending reference */
        gj_op_unref(op);
        return;
    }
    /* An origin op stays pending (its instance alive) until JS takes the reply. */
    if (gj_op_done(op) || gj_js_post_reply(op->js, rep) != 0) {
        GF_ATOMIC_INC(priv->late_answers);
        if (op->origin && claim(op))
            gj_op_unref(op);
        gj_reply_free(rep);
    }
}

int
gj_reply_take(gj_reply_t *r)
{
    gj_op_t *op = r->op;
    if (!op->origin)
        return !gj_op_done(op);
    if (r->synthetic)
        return 1;
    if (!claim(op))
        return 0; /* timed out while the reply was on its way */
    gj_op_unref(op); /* the pending reference; the reply keeps its own */
    return 1;
}

/* An origin op claimed by the timeout or an abort: JS hears of it as a reply
 * with op_ret -1 (when its environment still runs), and the pending
 * reference goes. The child's frame stays until the child replies. */
static void
origin_failed(gj_op_t *op, int op_errno)
{
    gj_reply_t *rep = calloc(1, sizeof(*rep));
    if (rep) {
        gj_op_ref(op);
        rep->op = op;
        rep->cookie = op->cookie;
        rep->synthetic = 1;
        rep->vals[0].i = -1;
        rep->vals[1].i = op_errno;
        if (gj_js_post_reply(op->js, rep) != 0)
            gj_reply_free(rep);
    }
    gj_op_unref(op);
}

int
gj_originate(void *xl, gj_js_t *js, gj_op_t *parent, int child, int code, const gj_val_t *vals,
             const gj_origin_t *who, uint64_t cookie)
{
    xlator_t *this = xl, *old = THIS;
    gj_private_t *priv = this->private;
    xlator_t *to = gj_child(this, child);
    const gj_fop_desc_t *d = code > 0 && code < GJ_FOP_MAX ? desc(code) : NULL;
    call_frame_t *frame = NULL;
    gj_wind_t *w;
    gj_op_t *op;
    int rc;
    if (!d || !d->js) {
        gj_release_vals(d ? d->arg_kinds : NULL, d ? d->nargs : 0, (gj_val_t *)vals);
        return -4;
    }
    if (!to) {
        gj_release_vals(d->arg_kinds, d->nargs, (gj_val_t *)vals);
        return -3;
    }
    THIS = this;
    op = calloc(1, sizeof(*op));
    w = malloc(sizeof(*w));
    if (op)
        memcpy(op->args, vals, sizeof(gj_val_t) * d->nargs); /* owned by the op from here */
    if (parent) {
        pthread_mutex_lock(&priv->lock);
        if (!parent->done)
            frame = wind_frame(parent->frame); /* the handler's call stack: its credentials */
        pthread_mutex_unlock(&priv->lock);
    }
    if (!frame && (frame = gj_origin_frame(this)))
        frame->root->op = code; /* what io-stats and the latency counters file it under */
    if (frame)
        gj_origin_apply(frame, who);
    rc = op && w && frame ? gj_origin_prepare(this, code, op->args, frame) : -2;
    if (rc != 0) {
        if (op)
            gj_release_vals(d->arg_kinds, d->nargs, op->args);
        else
            gj_release_vals(d->arg_kinds, d->nargs, (gj_val_t *)vals);
        free(op);
        free(w);
        if (frame)
            wind_frame_destroy(frame);
        THIS = old;
        return rc == -1 ? -2 : rc;
    }
    INIT_LIST_HEAD(&op->list);
    GF_ATOMIC_INIT(op->ref, 2); /* one for pending, one for the wind */
    op->code = code;
    op->this = this;
    op->js = js;
    op->origin = 1;
    op->cookie = cookie;
    op->child = to;
    op->frame = frame;
    add_pending(priv, op);
    GF_ATOMIC_INC(priv->fops_originated);
    w->op = op;
    w->cookie = cookie;
    d->wind(frame, to, w, op->args);
    THIS = old;
    return 0;
}

gj_op_t *gj_reply_op(const gj_reply_t *r) { return r->op; }
uint64_t gj_reply_cookie(const gj_reply_t *r) { return r->cookie; }
gj_val_t gj_reply_val(const gj_reply_t *r, int i) { return r->vals[i]; }

void
gj_reply_free(gj_reply_t *r)
{
    const gj_fop_desc_t *d = desc(r->op->code);
    gj_release_vals(d->reply_kinds, d->nreply, r->vals);
    gj_op_unref(r->op);
    free(r);
}

/* Fail every op in `list` (already claimed) with op_errno. */
static void
fail_claimed(xlator_t *this, struct list_head *list, int op_errno, const char *why, int expired)
{
    gj_private_t *priv = this->private;
    gj_op_t *op, *tmp;
    list_for_each_entry_safe(op, tmp, list, list)
    {
        int was_waiting = op->waiting; /* claimed: nobody else reads it now */
        op->waiting = 0;
        list_del_init(&op->list);
        if (op->origin) {
            gf_log(this->name, GF_LOG_ERROR, "%s originated by JS to %s failed with %s: %s",
                   desc(op->code)->name, op->child->name, strerror(op_errno),
                   expired ? "no reply from the child within handler-timeout" : why);
            GF_ATOMIC_INC(priv->fops_failed);
            origin_failed(op, op_errno);
            continue;
        }
        gf_log(this->name, GF_LOG_ERROR, "%s failed with %s: %s", desc(op->code)->name,
               strerror(op_errno), why);
        GF_ATOMIC_INC(priv->fops_failed);
        unwind_with(op, NULL, op_errno);
        if (was_waiting) {
            gj_op_unref(op); /* the JS side's: JS never saw it */
        } else if (expired && op->js && gj_js_post_expired(op->js, op) == 0) {
            continue; /* the pending reference goes with the message */
        }
        gj_op_unref(op);
    }
}

/* Claims the pending ops that arrived by `arrived_by` (all of them: UINT64_MAX),
 * or only those of instance `js` when it is not NULL. One handler-timeout
 * applies to every op, so arrival order is also expiry order. */
static void
claim_all(gj_private_t *priv, struct list_head *out, uint64_t arrived_by, gj_js_t *js,
          int waiting_too)
{
    gj_op_t *op, *tmp;
    list_for_each_entry_safe(op, tmp, &priv->pending, list)
    {
        if (op->arrived_ms > arrived_by)
            break;
        if ((js && op->js != js) || (op->waiting && !waiting_too))
            continue;
        op->done = 1;
        list_move_tail(&op->list, out);
        priv->npending--;
        priv->norigin -= op->origin;
    }
}

void
gj_ops_abort_all(void *xl, gj_js_t *js, int op_errno, const char *why, int waiting_too)
{
    xlator_t *this = xl;
    gj_private_t *priv = this->private;
    struct list_head doomed;
    INIT_LIST_HEAD(&doomed);
    pthread_mutex_lock(&priv->lock);
    claim_all(priv, &doomed, UINT64_MAX, js, waiting_too);
    pthread_mutex_unlock(&priv->lock);
    fail_claimed(this, &doomed, op_errno, why, 0);
}

void
gj_op_hold(gj_op_t *op)
{
    gj_private_t *priv = op->this->private;
    pthread_mutex_lock(&priv->lock);
    if (!op->done)
        op->waiting = 1;
    pthread_mutex_unlock(&priv->lock);
}

void
gj_ops_resume(void *xl, gj_js_t *js, int (*post)(void *ctx, gj_op_t *op), void *ctx)
{
    xlator_t *this = xl;
    gj_private_t *priv = this->private;
    gj_op_t *op;
    pthread_mutex_lock(&priv->lock);
    list_for_each_entry(op, &priv->pending, list)
    {
        if (op->js != js || !op->waiting)
            continue;
        op->waiting = 0;
        if (post(ctx, op) != 0)
            op->waiting = 1; /* not taken: it stays, and the final abort or the timeout ends it */
    }
    pthread_mutex_unlock(&priv->lock);
}

int
gj_ops_pending_for(xlator_t *this, gj_js_t *js)
{
    gj_private_t *priv = this->private;
    gj_op_t *op;
    int n = 0;
    pthread_mutex_lock(&priv->lock);
    list_for_each_entry(op, &priv->pending, list) n += op->js == js;
    pthread_mutex_unlock(&priv->lock);
    return n;
}

/* The handler-timeout thread. It reads the timeout at every turn, so a
 * reconfigure (gj_ops_set_timeout wakes it) applies at once to the ops
 * already waiting, measured from their arrival, in both directions. */
static void *
timer_main(void *arg)
{
    xlator_t *this = arg;
    gj_private_t *priv = this->private;
    THIS = this;
    pthread_mutex_lock(&priv->lock);
    while (!priv->stopping) {
        struct list_head expired;
        uint64_t now = gj_now_ms(), timeout = priv->timeout_ms;
        INIT_LIST_HEAD(&expired);
        if (timeout && now >= timeout)
            claim_all(priv, &expired, now - timeout, NULL, 1);
        if (!list_empty(&expired)) {
            char why[128];
            pthread_mutex_unlock(&priv->lock);
            snprintf(why, sizeof(why),
                     "no answer from the JS handler within handler-timeout (%" PRIu64 " ms)", timeout);
            GF_ATOMIC_INC(priv->timeouts);
            fail_claimed(this, &expired, ETIMEDOUT, why, 1);
            pthread_mutex_lock(&priv->lock);
            continue;
        }
        if (!timeout || list_empty(&priv->pending)) {
            pthread_cond_wait(&priv->cond, &priv->lock);
        } else {
            gj_op_t *first = list_first_entry(&priv->pending, gj_op_t, list);
            uint64_t due = first->arrived_ms + timeout, wait = due > now ? due - now : 0;
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += wait / 1000;
            ts.tv_nsec += (wait % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&priv->cond, &priv->lock, &ts);
        }
    }
    pthread_mutex_unlock(&priv->lock);
    return NULL;
}

void
gj_ops_init(xlator_t *this)
{
    gj_private_t *priv = this->private;
    pthread_condattr_t ca;
    pthread_mutex_init(&priv->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&priv->cond, &ca);
    pthread_condattr_destroy(&ca);
    INIT_LIST_HEAD(&priv->pending);
}

/* Starts the timeout thread, whatever handler-timeout is now: a reconfigure
 * may set one later. */
int
gj_ops_start(xlator_t *this)
{
    gj_private_t *priv = this->private;
    if (gj_thread_start(&priv->timer, "glujs-timer", timer_main, this) != 0)
        return -1;
    priv->timer_running = 1;
    return 0;
}

void
gj_ops_set_timeout(xlator_t *this, uint32_t timeout_ms)
{
    gj_private_t *priv = this->private;
    pthread_mutex_lock(&priv->lock);
    priv->timeout_ms = timeout_ms;
    pthread_cond_broadcast(&priv->cond);
    pthread_mutex_unlock(&priv->lock);
}

/* Stops the timeout thread; safe after gj_ops_init alone (init's error path). */
void
gj_ops_stop(xlator_t *this)
{
    gj_private_t *priv = this->private;
    pthread_mutex_lock(&priv->lock);
    priv->stopping = 1;
    pthread_cond_broadcast(&priv->cond);
    pthread_mutex_unlock(&priv->lock);
    if (priv->timer_running)
        pthread_join(priv->timer, NULL);
    priv->timer_running = 0;
}
