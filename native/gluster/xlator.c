/* xlator.c: features/glujs as GlusterFS sees it, on one page in the order of
 * GlusterFS's playground/template: init, fini, reconfigure, notify, the
 * inode/fd callbacks, statedump and metrics, the options and xlator_api.
 * The fops are generated (native/gen/fops.c); their life in flight is
 * ops.c's, the JS instances' is instance.c's, the native answer table fast.c's. */
#include "glue.h"
#include <glusterfs/upcall-utils.h>
#include <unistd.h>

#include "../gen/build-info.h"
/* `glujs install` reads this from the binary to refuse a mismatched GlusterFS. */
__attribute__((used)) const char gj_build_info[] = "GLUJS_BUILT_FOR_GLUSTERFS=" GJ_BUILT_FOR;

static void
free_private(gj_private_t *priv)
{
    if (!priv)
        return;
    gj_kernel_free(priv->kernel);
    gj_fast_free(priv->fast);
    GF_FREE(priv->module);
    free(priv->opts_sig);
    if (priv->options)
        dict_unref(priv->options);
    GF_FREE(priv);
}

static int32_t
gj_mem_acct_init(xlator_t *this)
{
    return xlator_mem_acct_init(this, gf_common_mt_end + 1);
}

static int32_t
gj_init(xlator_t *this)
{
    gj_private_t *priv = NULL;
    char err[1024] = "";
    char *module = NULL;
    time_t timeout_s = 0;
    static int atexit_done;

    if (!this->children) {
        gf_log(this->name, GF_LOG_ERROR, "glujs needs at least one child (subvolumes); fops from above go to the first");
        return -1;
    }
    if (!this->parents)
        gf_log(this->name, GF_LOG_WARNING, "dangling volume: no parent; check the volfile");

    priv = GF_CALLOC(1, sizeof(*priv), gf_common_mt_char);
    if (!priv)
        return -1;
    this->private = priv;
    pthread_mutex_init(&priv->reload_lock, NULL);
    gj_ops_init(this); /* before any goto err: gj_ops_stop takes its lock */
    GF_OPTION_INIT(GJ_OPT_MODULE, module, path, err);
    GF_OPTION_INIT(GJ_OPT_HANDLER_TIMEOUT, timeout_s, time, err);
    GF_OPTION_INIT(GJ_OPT_WATCHDOG, priv->watchdog_s, time, err);
    GF_OPTION_INIT(GJ_OPT_WATCH, priv->watch, bool, err);
    GF_OPTION_INIT(GJ_OPT_HEAP_LIMIT, priv->heap_limit, size_uint64, err);
    GF_OPTION_INIT(GJ_OPT_MAX_PENDING, priv->max_pending, uint64, err);
    GF_OPTION_INIT(GJ_OPT_SPIN, priv->spin_us, uint32, err);
    if (!module || !*module) {
        gf_log(this->name, GF_LOG_ERROR,
               "option module is required: the path of the translator module (.ts, .mjs or .js)");
        goto err;
    }
    priv->timeout_ms = (uint32_t)timeout_s * 1000;
    priv->module = gf_strdup(module);
    priv->fast = gj_fast_new();
    priv->kernel = gj_kernel_new(this);
    gj_module_mtime(priv->module, &priv->module_mtime);
    if (gj_ops_start(this) != 0)
        goto err;
    if (!atexit_done) {
        atexit_done = 1;
        atexit(gj_js_atexit); /* stop JS before exit() tears the process down */
    }
    priv->js = gj_instance_start(this, this->options, priv->module, priv->handled, priv->events, NULL,
                              0, err, sizeof(err));
    priv->opts_sig = gj_options_signature(this->options);
    if (!priv->js) {
        gf_log(this->name, GF_LOG_ERROR, "cannot load translator module %s: %s", priv->module, err);
        goto err;
    }
    gj_sources_mtime(this, &priv->module_mtime); /* the files it loaded are known now */
    if (priv->watch)
        priv->watcher_running = gj_thread_start(&priv->watcher, "glujs-watch", gj_watch_main, this) == 0;
    gf_log(this->name, GF_LOG_INFO, "loaded translator module %s", priv->module);
    return 0;
err:
    gj_ops_stop(this);
    free_private(priv);
    this->private = NULL;
    return -1;
}

static void
gj_fini(xlator_t *this)
{
    gj_private_t *priv = this->private;
    if (!priv)
        return;
    priv->stopping = 1;
    if (priv->watcher_running)
        pthread_join(priv->watcher, NULL);
    while (__atomic_load_n(&priv->retiring, __ATOMIC_SEQ_CST) > 0)
        usleep(10000); /* retire threads hold this->private */
    pthread_mutex_lock(&priv->reload_lock);
    gj_js_free(priv->js); /* runs fini(), fails what JS still had */
    priv->js = NULL;
    pthread_mutex_unlock(&priv->reload_lock);
    gj_ops_stop(this); /* joins the timer thread, which reads this->private */
    this->private = NULL;
    free_private(priv);
}

static int32_t
gj_reconfigure(xlator_t *this, dict_t *options)
{
    gj_private_t *priv = this->private;
    time_t timeout_s = 0;
    char *module = NULL, *sig = NULL;
    struct timespec m = {0};
    int ret = 0;
    GF_OPTION_RECONF(GJ_OPT_HANDLER_TIMEOUT, timeout_s, options, time, out);
    GF_OPTION_RECONF(GJ_OPT_MAX_PENDING, priv->max_pending, options, uint64, out);
    /* an instance takes its watchdog and spin at start: a change reloads (the signature) */
    GF_OPTION_RECONF(GJ_OPT_WATCHDOG, priv->watchdog_s, options, time, out);
    GF_OPTION_RECONF(GJ_OPT_SPIN, priv->spin_us, options, uint32, out);
    gj_ops_set_timeout(this, (uint32_t)timeout_s * 1000);
    GF_OPTION_RECONF(GJ_OPT_MODULE, module, options, path, out);
    if (!module || !*module) {
        gf_log(this->name, GF_LOG_ERROR,
               "reconfigure: option module is required; the running module %s stays", priv->module);
        return -1;
    }
    gj_module_mtime(module, &m);
    sig = gj_options_signature(options);
    pthread_mutex_lock(&priv->reload_lock);
    /* a new module, the same file changed since it was loaded, or options the
     * module sees changed: a new instance gets them */
    if (strcmp(module, priv->module) != 0 || m.tv_sec != priv->module_mtime.tv_sec ||
        m.tv_nsec != priv->module_mtime.tv_nsec || !sig || !priv->opts_sig ||
        strcmp(sig, priv->opts_sig) != 0) {
        ret = gj_instance_reload(this, options, module);
        if (ret == 0) {
            free(priv->opts_sig);
            priv->opts_sig = sig;
            sig = NULL;
            if (priv->options)
                dict_unref(priv->options);
            priv->options = dict_ref(options); /* for the watcher's reloads */
        }
    }
    pthread_mutex_unlock(&priv->reload_lock);
    free(sig);
    return ret;
out:
    return -1;
}

static void
post_event(xlator_t *this, gj_event_t *ev)
{
    gj_private_t *priv = this->private;
    if (priv && priv->js && priv->events[ev->type])
        gj_js_post_event(priv->js, ev);
}

static int32_t
gj_notify(xlator_t *this, int32_t event, void *data, ...)
{
    gj_event_t ev = {0};
    switch (event) {
        case GF_EVENT_CHILD_UP:
            /* what the kernel holds may have changed unseen while the child was away */
            gj_kernel_invalidate_all(this, "child up");
            ev.type = GJ_EV_CHILD_UP;
            post_event(this, &ev);
            break;
        case GF_EVENT_CHILD_DOWN:
            gj_kernel_invalidate_all(this, "child down");
            ev.type = GJ_EV_CHILD_DOWN;
            post_event(this, &ev);
            break;
        case GF_EVENT_PARENT_DOWN: {
            /* The graph is going away (graph switch, brick detach): the old
             * graph is never fini'd, so release its environment here, after
             * its fops in flight are through. */
            gj_private_t *priv = this->private;
            /* the kernel's nodeids belong to the graph that linked them */
            gj_kernel_invalidate_all(this, "parent down (graph switch)");
            if (priv && !__atomic_exchange_n(&priv->parent_down, 1, __ATOMIC_SEQ_CST) && priv->js) {
                gj_js_t *js = priv->js;
                gf_log(this->name, GF_LOG_INFO, "parent down: releasing the JS environment");
                __atomic_store_n(&priv->js, NULL, __ATOMIC_RELEASE); /* later fops: ENOTCONN */
                gj_instance_retire(this, js, 1);
            }
            break;
        }
        case GF_EVENT_UPCALL: {
            struct gf_upcall *up = data;
            if (up && up->event_type == GF_UPCALL_CACHE_INVALIDATION && up->data) {
                struct gf_upcall_cache_invalidation *ci = up->data;
                ev.type = GJ_EV_UPCALL;
                memcpy(ev.gfid, up->gfid, 16);
                ev.flags = ci->flags;
                ev.expire = ci->expire_time_attr;
                memcpy(ev.pargfid, ci->p_stat.ia_gfid, 16);
                memcpy(ev.oldpargfid, ci->oldp_stat.ia_gfid, 16);
                /* a directory, or a type not sent: it may have entries here */
                int maydir = ci->stat.ia_type == IA_IFDIR || ci->stat.ia_type == IA_INVAL;
                gj_fast_upcall(this, ev.gfid, maydir, ev.pargfid, ev.oldpargfid);
                gj_kernel_upcall(this, ev.gfid, maydir, ev.pargfid, ev.oldpargfid);
                post_event(this, &ev);
            }
            break;
        }
    }
    return default_notify(this, event, data);
}

static void
cbk_event(xlator_t *this, int type, inode_t *inode)
{
    gj_event_t ev = {.type = type};
    if (inode)
        memcpy(ev.gfid, inode->gfid, 16);
    post_event(this, &ev);
}

static int32_t gj_forget(xlator_t *this, inode_t *inode) { cbk_event(this, GJ_EV_FORGET, inode); return 0; }
static int32_t gj_release(xlator_t *this, fd_t *fd) { cbk_event(this, GJ_EV_RELEASE, fd->inode); return 0; }
static int32_t gj_releasedir(xlator_t *this, fd_t *fd) { cbk_event(this, GJ_EV_RELEASEDIR, fd->inode); return 0; }
static int32_t gj_invalidate(xlator_t *this, inode_t *inode) { cbk_event(this, GJ_EV_INVALIDATE, inode); return 0; }

static void
dump_line(void *ctx, const char *key, const char *val)
{
    gf_proc_dump_write((char *)key, "%s", val);
}

/* The counters of this->private, for the statedump and the metrics alike. */
static void
each_counter(xlator_t *this, void (*put)(void *ctx, const char *key, uint64_t val), void *ctx)
{
    gj_private_t *priv = this->private;
    gj_fast_stats_t fast;
    put(ctx, "fops_to_js", GF_ATOMIC_GET(priv->fops_in));
    put(ctx, "fops_failed", GF_ATOMIC_GET(priv->fops_failed));
    put(ctx, "timeouts", GF_ATOMIC_GET(priv->timeouts));
    put(ctx, "late_answers", GF_ATOMIC_GET(priv->late_answers));
    put(ctx, "fops_originated", GF_ATOMIC_GET(priv->fops_originated));
    put(ctx, "pending", priv->npending - priv->norigin);
    put(ctx, "originated_pending", priv->norigin);
    put(ctx, "refused_busy", GF_ATOMIC_GET(priv->busy));
    gj_fast_stats(this, &fast);
#define PUT_FAST(name, desc) put(ctx, "fast_" #name, fast.name);
    GJ_FAST_COUNTERS(PUT_FAST)
#undef PUT_FAST
}

static void
dump_counter(void *ctx, const char *key, uint64_t val)
{
    gf_proc_dump_write((char *)key, "%" PRIu64, val);
}

static int32_t
gj_dump_priv(xlator_t *this)
{
    gj_private_t *priv = this->private;
    char key[GF_DUMP_MAX_BUF_LEN];
    gj_js_t *js;
    if (!priv)
        return 0;
    gf_proc_dump_build_key(key, "xlator.features.glujs", "%s.priv", this->name);
    gf_proc_dump_add_section("%s", key);
    gf_proc_dump_write("module", "%s", priv->module);
    gf_proc_dump_write("built_for", "%s", GJ_BUILT_FOR);
    gf_proc_dump_write("handler_timeout_ms", "%u", priv->timeout_ms);
    gf_proc_dump_write("watchdog_ms", "%" PRIu64, (uint64_t)priv->watchdog_s * 1000);
    gf_proc_dump_write("max_pending", "%" PRIu64, priv->max_pending);
    each_counter(this, dump_counter, NULL);
    js = __atomic_load_n(&priv->js, __ATOMIC_ACQUIRE);
    if (js)
        gj_js_dump(js, dump_line, NULL);
    return 0;
}

struct metrics_ctx {
    xlator_t *this;
    int fd;
};

static void
metric_line(void *ctx, const char *key, const char *val)
{
    struct metrics_ctx *m = ctx;
    /* "name value" lines; histogram buckets and the like stay one value each */
    dprintf(m->fd, "%s.%s %s\n", m->this->name, key, val);
}

static void
metric_counter(void *ctx, const char *key, uint64_t val)
{
    struct metrics_ctx *m = ctx;
    dprintf(m->fd, "%s.%s %" PRIu64 "\n", m->this->name, key, val);
}

/* The statedump's counters, in the metrics format (one "key value" a line). */
static int32_t
gj_dump_metrics(xlator_t *this, int fd)
{
    gj_private_t *priv = this->private;
    struct metrics_ctx m = {this, fd};
    gj_js_t *js;
    if (!priv)
        return 0;
    each_counter(this, metric_counter, &m);
    js = __atomic_load_n(&priv->js, __ATOMIC_ACQUIRE);
    if (js)
        gj_js_dump(js, metric_line, &m);
    return 0;
}

static struct xlator_cbks gj_cbks = {
    .forget = gj_forget,
    .release = gj_release,
    .releasedir = gj_releasedir,
    .invalidate = gj_invalidate,
};

static struct xlator_dumpops gj_dumpops = {
    .priv = gj_dump_priv,
};

static struct volume_options gj_options[] = {
    {.key = {GJ_OPT_MODULE},
     .type = GF_OPTION_TYPE_PATH,
     .description = "The translator module: a .ts, .mjs or .js file whose default export "
                    "extends Translator from 'glujs'."},
    {.key = {GJ_OPT_HANDLER_TIMEOUT},
     .type = GF_OPTION_TYPE_TIME,
     .default_value = "120",
     .min = 0,
     .max = 86400,
     .description = "Seconds a fop may stay with JS before it fails with ETIMEDOUT (0: never)."},
    {.key = {GJ_OPT_WATCHDOG},
     .type = GF_OPTION_TYPE_TIME,
     .default_value = "5",
     .min = 0,
     .max = 3600,
     .description = "Seconds one synchronous run of JS may take before it is terminated and "
                    "the environment restarted (0: never)."},
    {.key = {GJ_OPT_MAX_PENDING},
     .type = GF_OPTION_TYPE_INT,
     .default_value = "65536",
     .min = 0,
     .max = 1 << 30,
     .description = "Fops that may wait for JS at once; more fail with EAGAIN at once "
                    "(0: no limit). GlusterFS threads never wait for JS."},
    {.key = {GJ_OPT_HEAP_LIMIT},
     .type = GF_OPTION_TYPE_SIZET,
     .default_value = "512MB",
     .min = 16 * 1024 * 1024,
     .max = 16ULL * 1024 * 1024 * 1024,
     .description = "V8 heap limit. An environment that reaches it is restarted, the daemon "
                    "lives on. Process-wide: the first glujs instance of a process sets it."},
    {.key = {GJ_OPT_SPIN},
     .type = GF_OPTION_TYPE_INT,
     .default_value = "250",
     .min = 0,
     .max = 100000,
     .description = "Microseconds the JS thread stays awake (polling, yielding the core) after its last "
                    "fop, reply or event, so that the next one needs no wake-up (0: sleep at once). "
                    "An idle daemon sleeps."},
    {.key = {GJ_OPT_WATCH},
     .type = GF_OPTION_TYPE_BOOL,
     .default_value = "off",
     .description = "Reload the module when its file changes (for development)."},
    {.key = {"*"}, .type = GF_OPTION_TYPE_ANY, .description = "Handed to the module as this.options."},
    {.key = {NULL}},
};

xlator_api_t xlator_api = {
    .init = gj_init,
    .fini = gj_fini,
    .notify = gj_notify,
    .reconfigure = gj_reconfigure,
    .mem_acct_init = gj_mem_acct_init,
    .dump_metrics = gj_dump_metrics,
    .op_version = {1},
    .dumpops = &gj_dumpops,
    .fops = &gj_fops,
    .cbks = &gj_cbks,
    .options = gj_options,
    .identifier = "glujs",
    .category = GF_EXPERIMENTAL,
};
