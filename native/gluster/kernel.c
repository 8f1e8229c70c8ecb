/* kernel.c: the kernel tier of the fast path.
 *
 * A FUSE client mounted with negative-timeout=N (and entry-timeout=M > 1 s)
 * lets the kernel answer repeat lookups from its dentry cache, with no request
 * to this process at all. GlusterFS itself never tells the kernel to forget
 * such an entry, so another client's create stays hidden for N seconds. Here,
 * when glujs is at the top of a FUSE client's graph (nothing above it can
 * answer a lookup it would not see), every (parent, name) the kernel may hold
 * because of a reply that passed up through glujs is recorded, and everything
 * that can make such an answer wrong makes the kernel forget it with
 * FUSE_NOTIFY_INVAL_ENTRY, written to the mount's own /dev/fuse:
 *   - an upcall naming the directory (on the thread that receives it, and once
 *     more after JS has heard of it: JS may have answered from what it knew);
 *   - JS's fast.invalidate();
 *   - child down or up, a hot reload, and PARENT_DOWN (a graph switch: the
 *     kernel's nodeids belong to the graph that linked them);
 *   - this client's own entry fops, where the kernel does not already follow
 *     (EEXIST on a create, ENOENT on a removal, an rmdir's directory);
 *   - forgetting a record (LRU within the limit): it is invalidated first.
 * A reply that was decided before an invalidation of its directory and is
 * unwound after it is invalidated again once the kernel has it: the kernel
 * holds the parent's lock through a lookup, so the notification, written after
 * the reply, finds the entry installed.
 *
 * Notifications are written by a thread of their own, never by a GlusterFS
 * thread: the kernel takes the directory's lock to apply one, and a process
 * holding that lock may be waiting for a reply this process is producing.
 * Nodeids are fuse-bridge's (10.3): the root is 1, any other inode is the
 * address of its inode_t in the graph that linked it. After a graph switch the
 * kernel may still know a directory by the old graph's inode, so a
 * notification goes to the directory's inode in every graph of the process. */
#include "glue.h"
#include <dirent.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define KT_DIR_BUCKETS 1024
#define KT_RECENT 256 /* directory invalidations remembered for the race check */
#define KT_DEFAULT_LIMIT (1u << 18)

typedef struct kdir kdir_t;

typedef struct kname {
    gj_hlink_t link; /* in names, by hash_name */
    struct list_head lru; /* oldest first */
    struct list_head sib; /* the names of its directory */
    kdir_t *dir;
    uint64_t at_ms; /* when the kernel last got it */
    char name[];
} kname_t;

struct kdir {
    kdir_t *hnext;
    uuid_t gfid;
    struct list_head names;
};

typedef struct kinval {
    struct list_head list;
    uuid_t pargfid;
    uint64_t due_ms;
    char name[];
} kinval_t;

struct gj_kernel {
    xlator_t *xl;
    pthread_mutex_t lock;
    gj_htab_t names;
    uint64_t n, limit;
    uint64_t max_age_ms; /* records older than this are invalidated (0: never) */
    kdir_t *dirs[KT_DIR_BUCKETS];
    struct list_head lru;
    uint64_t gen, floor; /* gen: bumped by every invalidation (atomically, under lock, so that
                          * gj_kernel_enter reads it without); floor: by everything at once */
    struct {
        uuid_t gfid;
        uint64_t gen;
    } recent[KT_RECENT];
    uint32_t nrecent, rhead;
    int neg, pos; /* the tiers: the kernel keeps ENOENT / found names */
    double neg_s, entry_s;

    int fd; /* our own duplicate of the mount's /dev/fuse */
    pthread_t thread;
    int running, stop, dead;
    pthread_cond_t cond;
    struct list_head queue;
    uint64_t queued;

    gf_atomic_t recorded, written, not_held, evicted;
};

/* the reply of an entry fop on its way up (the cookie of the self-wind) */
typedef struct {
    int code;
    uint64_t gen;
    int nnames;
    uuid_t par[2];
    const char *name[2];
    int hold[2];  /* after the reply the kernel may hold it: record */
    int drop[2];  /* the kernel follows by itself: forget the record */
    int inval[2]; /* tell the kernel to forget it (after the unwind) */
    int has_dir, inval_dir;
    uuid_t dir; /* rmdir's directory, readdirp's */
    char buf[];
} kck_t;

static uint32_t
hash_name(const uint8_t *gfid, const char *name)
{
    return gj_fnv1a(name, strlen(name), gj_fnv1a(gfid, 16, GJ_FNV_SEED));
}

static kdir_t **
dir_slot(gj_kernel_t *k, const uint8_t *gfid)
{
    kdir_t **d = &k->dirs[hash_name(gfid, "") & (KT_DIR_BUCKETS - 1)];
    while (*d && memcmp((*d)->gfid, gfid, 16) != 0)
        d = &(*d)->hnext;
    return d;
}

static gj_hlink_t **
name_slot(gj_kernel_t *k, const kdir_t *dir, const char *name, uint32_t h)
{
    gj_hlink_t **e = gj_htab_chain(&k->names, h);
    while (*e && ((*e)->hash != h || ((kname_t *)*e)->dir != dir ||
                  strcmp(((kname_t *)*e)->name, name) != 0))
        e = &(*e)->next;
    return e;
}

/* Queue a notification for (pargfid, name), due in delay_ms. Lock held. */
static void
queue_inval(gj_kernel_t *k, const uint8_t *pargfid, const char *name, uint32_t delay_ms)
{
    size_t len = strlen(name);
    kinval_t *q = malloc(sizeof(*q) + len + 1);
    if (!q)
        return; /* no memory: nothing better to do than to go on */
    memcpy(q->pargfid, pargfid, 16);
    memcpy(q->name, name, len + 1);
    q->due_ms = gj_now_ms() + delay_ms;
    list_add_tail(&q->list, &k->queue);
    k->queued++;
    pthread_cond_signal(&k->cond);
}

/* Forget a record, telling the kernel first when `tell`. Lock held. */
static void
unrecord(gj_kernel_t *k, kname_t *e, int tell)
{
    gj_hlink_t **slot = name_slot(k, e->dir, e->name, e->link.hash);
    kdir_t *d = e->dir;
    if (tell)
        queue_inval(k, d->gfid, e->name, 0);
    *slot = e->link.next;
    list_del(&e->lru);
    list_del(&e->sib);
    k->n--;
    free(e);
    if (list_empty(&d->names)) {
        kdir_t **ds = dir_slot(k, d->gfid);
        *ds = d->hnext;
        free(d);
    }
}

static kname_t *
find(gj_kernel_t *k, const uint8_t *pargfid, const char *name)
{
    kdir_t *d = *dir_slot(k, pargfid);
    if (!d || !k->names.nb)
        return NULL;
    return (kname_t *)*name_slot(k, d, name, hash_name(pargfid, name));
}

/* Record that the kernel may hold (pargfid, name). Lock held. */
static void
record(gj_kernel_t *k, const uint8_t *pargfid, const char *name)
{
    uint32_t h = hash_name(pargfid, name);
    kdir_t **ds = dir_slot(k, pargfid), *d = *ds;
    gj_hlink_t **slot;
    kname_t *e;
    size_t len = strlen(name);
    if (d && k->names.nb && (e = (kname_t *)*name_slot(k, d, name, h))) {
        list_move_tail(&e->lru, &k->lru);
        e->at_ms = gj_now_ms();
        return;
    }
    while (k->n >= k->limit && !list_empty(&k->lru)) {
        unrecord(k, list_first_entry(&k->lru, kname_t, lru), 1);
        GF_ATOMIC_INC(k->evicted);
        ds = dir_slot(k, pargfid); /* the directory may have gone with its last name */
        d = *ds;
    }
    if (k->n >= (uint64_t)k->names.nb * 2 && gj_htab_grow(&k->names, 1024) != 0)
        goto nomem;
    if (!d) {
        d = calloc(1, sizeof(*d));
        if (!d)
            goto nomem;
        memcpy(d->gfid, pargfid, 16);
        INIT_LIST_HEAD(&d->names);
        *ds = d;
    }
    e = malloc(sizeof(*e) + len + 1);
    if (!e) {
        if (list_empty(&d->names)) {
            *ds = d->hnext;
            free(d);
        }
        goto nomem;
    }
    memcpy(e->name, name, len + 1);
    e->at_ms = gj_now_ms();
    e->link.hash = h;
    e->dir = d;
    slot = name_slot(k, d, name, h);
    e->link.next = *slot;
    *slot = &e->link;
    list_add_tail(&e->lru, &k->lru);
    list_add_tail(&e->sib, &d->names);
    k->n++;
    GF_ATOMIC_INC(k->recorded);
    return;
nomem:
    /* not recorded, so the kernel must not keep it: forget it at once */
    queue_inval(k, pargfid, name, 0);
}

static void
note_dir_invalidated(gj_kernel_t *k, const uint8_t *gfid)
{
    uint64_t gen = __atomic_add_fetch(&k->gen, 1, __ATOMIC_RELEASE);
    memcpy(k->recent[k->rhead].gfid, gfid, 16);
    k->recent[k->rhead].gen = gen;
    k->rhead = (k->rhead + 1) % KT_RECENT;
    if (k->nrecent < KT_RECENT)
        k->nrecent++;
}

/* Was directory `gfid` invalidated after generation `gen`? Lock held. */
static int
raced(gj_kernel_t *k, const uint8_t *gfid, uint64_t gen)
{
    if (gen < k->floor)
        return 1;
    if (gen == k->gen)
        return 0;
    for (uint32_t i = 0; i < k->nrecent; i++) {
        uint32_t j = (k->rhead + KT_RECENT - 1 - i) % KT_RECENT;
        if (k->recent[j].gen <= gen)
            return 0;
        if (memcmp(k->recent[j].gfid, gfid, 16) == 0)
            return 1;
    }
    return k->nrecent == KT_RECENT; /* fell off the ring: assume it was */
}

static void
inval_dir_locked(gj_kernel_t *k, const uint8_t *gfid)
{
    kdir_t *d;
    note_dir_invalidated(k, gfid);
    while ((d = *dir_slot(k, gfid))) /* a directory goes with its last name */
        unrecord(k, list_first_entry(&d->names, kname_t, sib), 1);
}

/* ---- the notifier thread ---- */

/* One FUSE_NOTIFY_INVAL_ENTRY for `name` under kernel nodeid `parent`. */
static void
write_inval(gj_kernel_t *k, uint64_t parent, const char *name)
{
    struct fuse_out_header oh = {0};
    struct fuse_notify_inval_entry_out ie = {0};
    size_t len = strlen(name);
    struct iovec iov[3] = {{&oh, sizeof(oh)}, {&ie, sizeof(ie)}, {(void *)name, len + 1}};
    ssize_t r;
    oh.len = sizeof(oh) + sizeof(ie) + len + 1;
    oh.error = FUSE_NOTIFY_INVAL_ENTRY;
    oh.unique = 0;
    ie.parent = parent;
    ie.namelen = len;
    do
        r = writev(k->fd, iov, 3);
    while (r < 0 && errno == EINTR);
    if (r >= 0)
        GF_ATOMIC_INC(k->written);
    else if (errno == ENOENT || errno == ENOTDIR)
        GF_ATOMIC_INC(k->not_held); /* the kernel does not hold it: fine */
    else if (errno == ENODEV || errno == EBADF || errno == ENOTCONN) {
        if (!k->dead)
            gf_log(k->xl->name, GF_LOG_INFO, "kernel tier: the FUSE connection is gone (%s); no more invalidations",
                   strerror(errno));
        k->dead = 1;
    } else
        gf_log(k->xl->name, GF_LOG_WARNING, "kernel tier: invalidating %s: %s", name, strerror(errno));
}

/* The kernel's nodeids for directory gfid: 1 for the root, else its inode in
 * each graph of the process that holds it (the graphs are never freed in a
 * FUSE client; the list only grows, at its head, on a graph switch). */
static void
send_inval(gj_kernel_t *k, const uint8_t *pargfid, const char *name)
{
    glusterfs_ctx_t *ctx = k->xl->ctx;
    glusterfs_graph_t *g;
    static const uuid_t root = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (memcmp(pargfid, root, 16) == 0) {
        write_inval(k, 1, name);
        return;
    }
    list_for_each_entry(g, &ctx->graphs, list)
    {
        xlator_t *top = g->top;
        inode_t *in;
        if (!top || !top->itable)
            continue;
        in = inode_find(top->itable, (unsigned char *)pargfid);
        if (!in)
            continue;
        write_inval(k, (uint64_t)(uintptr_t)in, name);
        inode_unref(in);
    }
}

static void *
notifier(void *arg)
{
    gj_kernel_t *k = arg;
    THIS = k->xl;
    pthread_mutex_lock(&k->lock);
    while (!k->stop || !list_empty(&k->queue)) {
        kinval_t *q = NULL, *it;
        uint64_t now = gj_now_ms(), next = UINT64_MAX;
        /* records past their age go (oldest first: the LRU is in recording order) */
        while (k->max_age_ms && !list_empty(&k->lru)) {
            kname_t *old = list_first_entry(&k->lru, kname_t, lru);
            if (old->at_ms + k->max_age_ms > now)
                break;
            unrecord(k, old, 1);
            GF_ATOMIC_INC(k->evicted);
        }
        if (k->max_age_ms)
            next = now + 1000; /* look again in a second */
        list_for_each_entry(it, &k->queue, list)
        {
            if (it->due_ms <= now || k->stop) {
                q = it;
                break;
            }
            if (it->due_ms < next)
                next = it->due_ms;
        }
        if (!q) {
            if (next == UINT64_MAX)
                pthread_cond_wait(&k->cond, &k->lock);
            else {
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                uint64_t ns = (uint64_t)ts.tv_nsec + (next - now) * 1000000ull;
                ts.tv_sec += ns / 1000000000ull;
                ts.tv_nsec = ns % 1000000000ull;
                pthread_cond_timedwait(&k->cond, &k->lock, &ts);
            }
            continue;
        }
        list_del(&q->list);
        k->queued--;
        pthread_mutex_unlock(&k->lock);
        if (!k->dead)
            send_inval(k, q->pargfid, q->name);
        free(q);
        pthread_mutex_lock(&k->lock);
    }
    pthread_mutex_unlock(&k->lock);
    return NULL;
}

/* ---- set-up: is this process's kernel ours to keep? ---- */

/* The one descriptor of this process open on /dev/fuse, duplicated; -1 if none or several. */
static int
find_fuse_fd(int *count)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int found = -1;
    *count = 0;
    if (!d)
        return -1;
    while ((de = readdir(d))) {
        char path[64], target[64];
        ssize_t n;
        snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
        n = readlink(path, target, sizeof(target) - 1);
        if (n <= 0)
            continue;
        target[n] = 0;
        if (strcmp(target, "/dev/fuse") == 0) {
            (*count)++;
            found = atoi(de->d_name);
        }
    }
    closedir(d);
    if (*count != 1)
        return -1;
    return fcntl(found, F_DUPFD_CLOEXEC, 3);
}

/* A translator above `xl` that may answer a lookup without winding it down,
 * or NULL. io-stats and meta (the .meta directory) pass every other lookup on. */
static xlator_t *
blocker_above(xlator_t *xl)
{
    for (xlator_list_t *p = xl->parents; p; p = p->next) {
        xlator_t *x = p->xlator, *b;
        if (!x->type || (strcmp(x->type, "debug/io-stats") != 0 && strcmp(x->type, "meta") != 0))
            return x;
        if ((b = blocker_above(x)))
            return b;
    }
    return NULL;
}

static double
fuse_option(xlator_t *master, const char *key, double dflt)
{
    double v = dflt;
    if (master->options && dict_get_double(master->options, (char *)key, &v) != 0)
        v = dflt;
    return v;
}

gj_kernel_t *
gj_kernel_new(xlator_t *this)
{
    xlator_t *master = this->ctx->root, *above; /* fuse-bridge, in a FUSE client */
    double neg, ent;
    int fd, nfd;
    gj_kernel_t *k;
    if (!master || !master->type || strcmp(master->type, "mount/fuse") != 0) {
        gf_log(this->name, GF_LOG_INFO,
               "kernel tier off: this process is not a FUSE client (%s); there is no kernel cache to keep",
               master && master->type ? master->type : this->ctx->process_mode == GF_SERVER_PROCESS ? "a brick" : "no mount");
        return NULL;
    }
    neg = fuse_option(master, "negative-timeout", 0);
    ent = fuse_option(master, "entry-timeout", 1);
    if (neg <= 0 && ent <= 1) {
        gf_log(this->name, GF_LOG_INFO,
               "kernel tier off: the mount caches lookups only as GlusterFS does by default "
               "(negative-timeout=%g, entry-timeout=%g s); mount with negative-timeout=N to turn it on",
               neg, ent);
        return NULL;
    }
    if ((above = blocker_above(this))) {
        gf_log(this->name, GF_LOG_WARNING,
               "kernel tier refused: %s (%s) is above this translator and may answer lookups it never sees, "
               "so names the kernel caches may stay stale for up to negative-timeout=%g s (entry-timeout=%g s); "
               "put glujs at the top of the client graph (below io-stats, glujs filter's default)",
               above->name, above->type ? above->type : "?", neg, ent);
        return NULL;
    }
    fd = find_fuse_fd(&nfd);
    if (fd < 0) {
        gf_log(this->name, GF_LOG_WARNING,
               "kernel tier refused: %s, so names the kernel caches may stay stale for up to "
               "negative-timeout=%g s (entry-timeout=%g s)",
               nfd ? "several /dev/fuse descriptors in this process" : "no /dev/fuse descriptor in this process",
               neg, ent);
        return NULL;
    }
    k = calloc(1, sizeof(*k));
    if (!k) {
        close(fd);
        return NULL;
    }
    k->xl = this;
    k->fd = fd;
    k->neg = neg > 0;
    k->pos = ent > 1;
    k->neg_s = neg;
    k->entry_s = ent;
    k->limit = KT_DEFAULT_LIMIT;
    k->gen = 1;
    pthread_mutex_init(&k->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&k->cond, &ca);
    pthread_condattr_destroy(&ca);
    INIT_LIST_HEAD(&k->lru);
    INIT_LIST_HEAD(&k->queue);
    GF_ATOMIC_INIT(k->recorded, 0);
    GF_ATOMIC_INIT(k->written, 0);
    GF_ATOMIC_INIT(k->not_held, 0);
    GF_ATOMIC_INIT(k->evicted, 0);
    if (gj_thread_start(&k->thread, "glujs-kinval", notifier, k) != 0) {
        gf_log(this->name, GF_LOG_WARNING, "kernel tier refused: cannot start its thread");
        gj_kernel_free(k);
        return NULL;
    }
    k->running = 1;
    gf_log(this->name, GF_LOG_INFO,
           "kernel tier on: the kernel answers repeat lookups itself (negative-timeout=%g s, entry-timeout=%g s); "
           "glujs records the %s names it may hold (at most %" PRIu64 ") and invalidates them on upcall, "
           "fast.invalidate(), child down/up, reload and graph switch",
           neg, ent, k->neg && k->pos ? "missing and found" : k->neg ? "missing" : "found", k->limit);
    return k;
}

void
gj_kernel_free(gj_kernel_t *k)
{
    if (!k)
        return;
    if (k->running) {
        pthread_mutex_lock(&k->lock);
        k->stop = 1;
        pthread_cond_signal(&k->cond);
        pthread_mutex_unlock(&k->lock);
        pthread_join(k->thread, NULL); /* sends what is queued first */
    }
    while (!list_empty(&k->lru))
        unrecord(k, list_first_entry(&k->lru, kname_t, lru), 0);
    free(k->names.b);
    if (k->fd >= 0)
        close(k->fd);
    pthread_cond_destroy(&k->cond);
    pthread_mutex_destroy(&k->lock);
    free(k);
}

static gj_kernel_t *
kernel_of(xlator_t *this)
{
    gj_private_t *priv = this->private;
    return priv ? priv->kernel : NULL;
}

static int
loc_name(loc_t *loc, uint8_t *pargfid, const char **name)
{
    if (!loc || !loc->name || !*loc->name)
        return 0;
    if (!gf_uuid_is_null(loc->pargfid))
        memcpy(pargfid, loc->pargfid, 16);
    else if (loc->parent && !gf_uuid_is_null(loc->parent->gfid))
        memcpy(pargfid, loc->parent->gfid, 16);
    else
        return 0;
    *name = loc->name;
    return 1;
}

void *
gj_kernel_enter(xlator_t *this, int code, loc_t *a, loc_t *b, fd_t *fd)
{
    gj_kernel_t *k = kernel_of(this);
    loc_t *locs[2] = {a, b};
    size_t need = 0;
    kck_t *ck;
    if (!k || (code == GF_FOP_READDIRP && !k->pos)) /* readdirp's names: the positive tier only */
        return NULL;
    for (int i = 0; i < 2; i++)
        if (locs[i] && locs[i]->name)
            need += strlen(locs[i]->name) + 1;
    ck = calloc(1, sizeof(*ck) + need);
    if (!ck)
        return NULL;
    ck->code = code;
    ck->gen = __atomic_load_n(&k->gen, __ATOMIC_ACQUIRE);
    char *p = ck->buf;
    for (int i = 0; i < 2; i++) {
        const char *name;
        if (!loc_name(locs[i], ck->par[ck->nnames], &name))
            continue;
        strcpy(p, name);
        ck->name[ck->nnames++] = p;
        p += strlen(name) + 1;
    }
    if (code == GF_FOP_RMDIR && a && a->inode && !gf_uuid_is_null(a->inode->gfid)) {
        memcpy(ck->dir, a->inode->gfid, 16);
        ck->has_dir = 1;
    } else if (code == GF_FOP_READDIRP && fd && fd->inode) {
        memcpy(ck->dir, fd->inode->gfid, 16);
        ck->has_dir = 1;
    }
    return ck;
}

void
gj_kernel_reply(xlator_t *this, void *cookie, int32_t op_ret, int32_t op_errno, gf_dirent_t *entries)
{
    gj_kernel_t *k = kernel_of(this);
    kck_t *ck = cookie;
    int ok = op_ret >= 0;
    if (!k || !ck)
        return;
    switch (ck->code) {
        case GF_FOP_LOOKUP:
            /* the kernel keeps an ENOENT for negative-timeout, a found name for entry-timeout */
            ck->hold[0] = ok ? k->pos : op_errno == ENOENT && k->neg;
            break;
        case GF_FOP_CREATE:
        case GF_FOP_MKNOD:
        case GF_FOP_MKDIR:
        case GF_FOP_SYMLINK:
        case GF_FOP_LINK: {
            int i = ck->code == GF_FOP_LINK ? ck->nnames - 1 : 0; /* link: the new name */
            if (i < 0)
                break;
            if (ok)
                (k->pos ? ck->hold : ck->drop)[i] = 1; /* the kernel made the entry itself */
            else if (op_errno == EEXIST)
                ck->inval[i] = 1; /* the kernel believed it missing */
            break;
        }
        case GF_FOP_UNLINK:
        case GF_FOP_RMDIR:
        case GF_FOP_RENAME:
            for (int i = 0; i < ck->nnames; i++) {
                if (ok)
                    (k->pos ? ck->hold : ck->drop)[i] = 1;
                else if (op_errno == ENOENT || op_errno == EEXIST || op_errno == ENOTEMPTY)
                    ck->inval[i] = 1; /* the kernel believed otherwise */
            }
            if (ok && ck->code == GF_FOP_RMDIR && ck->has_dir)
                ck->inval_dir = 1;
            break;
        case GF_FOP_READDIRP:
            break;
    }
    pthread_mutex_lock(&k->lock);
    for (int i = 0; i < ck->nnames; i++) {
        if (ck->hold[i]) {
            record(k, ck->par[i], ck->name[i]);
            if (raced(k, ck->par[i], ck->gen))
                ck->inval[i] = 1;
        } else if (ck->drop[i]) {
            kname_t *e = find(k, ck->par[i], ck->name[i]);
            if (e)
                unrecord(k, e, 0);
            if (raced(k, ck->par[i], ck->gen))
                ck->inval[i] = 1;
        }
    }
    if (ck->code == GF_FOP_READDIRP && ok && k->pos && ck->has_dir && entries) {
        gf_dirent_t *e;
        list_for_each_entry(e, &entries->list, list)
        {
            if (e->inode && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                record(k, ck->dir, e->d_name);
        }
        if (raced(k, ck->dir, ck->gen))
            ck->inval_dir = 1;
    }
    pthread_mutex_unlock(&k->lock);
}

void
gj_kernel_done(xlator_t *this, void *cookie)
{
    gj_kernel_t *k = kernel_of(this);
    kck_t *ck = cookie;
    int any = ck && ck->inval_dir;
    for (int i = 0; ck && i < ck->nnames; i++)
        any |= ck->inval[i];
    if (k && any) {
        pthread_mutex_lock(&k->lock);
        for (int i = 0; i < ck->nnames; i++)
            if (ck->inval[i]) {
                kname_t *e = find(k, ck->par[i], ck->name[i]);
                if (e)
                    unrecord(k, e, 0);
                queue_inval(k, ck->par[i], ck->name[i], 0);
                /* a revalidation of a found name applies its reply without
                 * the directory's lock: once more, a little later */
                if (k->pos)
                    queue_inval(k, ck->par[i], ck->name[i], 20);
            }
        if (ck->inval_dir)
            inval_dir_locked(k, ck->dir);
        pthread_mutex_unlock(&k->lock);
    }
    free(ck);
}

void
gj_kernel_invalidate(xlator_t *this, const uint8_t pargfid[16], const char *name)
{
    gj_kernel_t *k = kernel_of(this);
    if (!k)
        return;
    pthread_mutex_lock(&k->lock);
    if (name) {
        kname_t *e = find(k, pargfid, name);
        note_dir_invalidated(k, pargfid);
        if (e)
            unrecord(k, e, 1);
    } else {
        inval_dir_locked(k, pargfid);
    }
    pthread_mutex_unlock(&k->lock);
}

void
gj_kernel_upcall(xlator_t *this, const uint8_t gfid[16], int gfid_may_be_dir, const uint8_t pargfid[16],
                 const uint8_t oldpargfid[16])
{
    gj_kernel_t *k = kernel_of(this);
    const uint8_t *named[3] = {pargfid, oldpargfid, gfid_may_be_dir ? gfid : NULL};
    if (!k)
        return;
    pthread_mutex_lock(&k->lock);
    for (int i = 0; i < 3; i++)
        if (named[i] && !gf_uuid_is_null((unsigned char *)named[i]))
            inval_dir_locked(k, named[i]);
    pthread_mutex_unlock(&k->lock);
}

void
gj_event_delivered(void *xl, const gj_event_t *ev)
{
    if (ev->type == GJ_EV_UPCALL)
        gj_kernel_upcall(xl, ev->gfid, 1, ev->pargfid, ev->oldpargfid);
}

void
gj_kernel_invalidate_all(xlator_t *this, const char *why)
{
    gj_kernel_t *k = kernel_of(this);
    uint64_t n;
    if (!k)
        return;
    pthread_mutex_lock(&k->lock);
    n = k->n;
    k->floor = __atomic_add_fetch(&k->gen, 1, __ATOMIC_RELEASE);
    while (!list_empty(&k->lru))
        unrecord(k, list_first_entry(&k->lru, kname_t, lru), 1);
    pthread_mutex_unlock(&k->lock);
    if (n)
        gf_log(this->name, GF_LOG_INFO, "kernel tier: %s: invalidating the %" PRIu64 " names the kernel may hold",
               why, n);
}

void
gj_kernel_bound(xlator_t *this, uint64_t limit, uint32_t max_age_ms)
{
    gj_kernel_t *k = kernel_of(this);
    if (!k)
        return;
    pthread_mutex_lock(&k->lock);
    k->limit = limit ? limit : KT_DEFAULT_LIMIT;
    k->max_age_ms = max_age_ms;
    pthread_cond_signal(&k->cond);
    while (k->n > k->limit && !list_empty(&k->lru)) {
        unrecord(k, list_first_entry(&k->lru, kname_t, lru), 1);
        GF_ATOMIC_INC(k->evicted);
    }
    pthread_mutex_unlock(&k->lock);
}

void
gj_kernel_stats(xlator_t *this, gj_fast_stats_t *out)
{
    gj_kernel_t *k = kernel_of(this);
    if (!k)
        return;
    pthread_mutex_lock(&k->lock);
    out->kernel_tier = (k->neg ? 1 : 0) | (k->pos ? 2 : 0);
    out->kernel_names = k->n;
    out->kernel_queued = k->queued;
    pthread_mutex_unlock(&k->lock);
    out->kernel_recorded = GF_ATOMIC_GET(k->recorded);
    out->kernel_invalidations = GF_ATOMIC_GET(k->written);
    out->kernel_not_held = GF_ATOMIC_GET(k->not_held);
    out->kernel_evicted = GF_ATOMIC_GET(k->evicted);
}
