/* instance.c: the JS instances of one features/glujs xlator, from the
 * GlusterFS side: starting one (the runtime's path, the options it gets),
 * the options signature that says when a reconfigure needs a new one, hot
 * reload (a new instance replaces the current one), retiring the old one once
 * its fops in flight are through, and the watcher of option watch. The
 * environment itself is native/node/'s (gj_js_*). */
#include "glue.h"
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

/* dist/lib/daemon/runtime.js, found from where this .so really lives
 * (<root>/build/Release/glujs.node, whatever symlink GlusterFS loaded). */
static int
runtime_path(char *out, size_t len)
{
    Dl_info info;
    char real[PATH_MAX], *root;
    if (!dladdr((void *)runtime_path, &info) || !realpath(info.dli_fname, real))
        return -1;
    root = dirname(dirname(dirname(real)));
    return snprintf(out, len, "%s/dist/lib/daemon/runtime.js", root) >= (int)len ? -1 : 0;
}

struct opts {
    int n, cap;
    const char **keys, **vals;
};

static int
collect_opt(dict_t *d, char *key, data_t *v, void *data)
{
    struct opts *o = data;
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 16;
        o->keys = realloc(o->keys, o->cap * sizeof(char *));
        o->vals = realloc(o->vals, o->cap * sizeof(char *));
    }
    o->keys[o->n] = key;
    o->vals[o->n] = v->data;
    o->n++;
    return 0;
}

/* Starts a JS instance for `module` (blocks until it is loaded or failed). */
gj_js_t *
gj_instance_start(xlator_t *this, dict_t *options, const char *module, unsigned char *handled,
               unsigned char *events, const void *handoff, size_t handoff_len, char *err,
               size_t errlen)
{
    gj_private_t *priv = this->private;
    char runtime[PATH_MAX];
    struct opts o = {0};
    gj_js_config_t cfg;
    gj_js_t *js;
    if (runtime_path(runtime, sizeof(runtime)) != 0) {
        snprintf(err, errlen, "cannot locate glujs's runtime (dist/lib/daemon/runtime.js)");
        return NULL;
    }
    dict_foreach(options, collect_opt, &o);
    cfg = (gj_js_config_t){.name = this->name, .module = module, .runtime = runtime,
                           .nopts = o.n, .keys = o.keys, .vals = o.vals,
                           .watchdog_ms = (uint32_t)priv->watchdog_s * 1000,
                           .spin_us = priv->spin_us,
                           .heap_limit_mb = (uint32_t)(priv->heap_limit >> 20),
                           .handoff = handoff, .handoff_len = handoff_len};
    js = gj_js_start(this, &cfg, handled, events, err, errlen);
    free(o.keys);
    free(o.vals);
    return js;
}

int
gj_module_mtime(const char *module, struct timespec *out)
{
    struct stat st;
    if (stat(module, &st) != 0)
        return -1;
    *out = st.st_mtim;
    return 0;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The options an instance was started with, as one sorted "k=v\n" string,
 * leaving out those glujs applies itself without a new instance. */
char *
gj_options_signature(dict_t *options)
{
    struct opts o = {0};
    char **lines, *sig;
    size_t len = 1;
    int n = 0;
    dict_foreach(options, collect_opt, &o);
    lines = calloc(o.n + 1, sizeof(char *));
    for (int i = 0; lines && i < o.n; i++) {
        if (!strcmp(o.keys[i], GJ_OPT_HANDLER_TIMEOUT) || !strcmp(o.keys[i], GJ_OPT_MAX_PENDING))
            continue;
        if (asprintf(&lines[n], "%s=%s\n", o.keys[i], o.vals[i] ? o.vals[i] : "") < 0)
            break;
        len += strlen(lines[n++]);
    }
    if (lines)
        qsort(lines, n, sizeof(char *), cmp_str);
    sig = lines ? calloc(1, len) : NULL;
    for (int i = 0; i < n; i++) {
        if (sig)
            strcat(sig, lines[i]);
        free(lines[i]);
    }
    free(lines);
    free(o.keys);
    free(o.vals);
    return sig;
}

struct retire_arg {
    xlator_t *this;
    gj_js_t *js;
    int final; /* parent down: nothing follows this instance */
};

/* Lets an instance's ops in flight finish on its code (up to handler-timeout),
 * then shuts it down and frees it (no op refers to it any more: those still
 * pending were failed by the shutdown). After a parent down, the xlator's own
 * threads stop too: the old graph is never fini'd. Runs on its own thread,
 * never on a GlusterFS one. */
static void *
retire_main(void *arg)
{
    struct retire_arg *a = arg;
    gj_private_t *priv = a->this->private;
    uint64_t waited = 0, limit = priv->timeout_ms ? priv->timeout_ms + 1000 : 30000;
    THIS = a->this;
    while (gj_ops_pending_for(a->this, a->js) > 0 && waited < limit) {
        usleep(20000);
        waited += 20;
    }
    gj_js_free(a->js);
    if (a->final)
        gj_ops_stop(a->this); /* the timeout thread; the watcher sees parent_down */
    free(a);
    __atomic_sub_fetch(&priv->retiring, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

void
gj_instance_retire(xlator_t *this, gj_js_t *js, int final)
{
    gj_private_t *priv = this->private;
    struct retire_arg *a = calloc(1, sizeof(*a));
    pthread_t t;
    if (!a) {
        gj_js_shutdown(js); /* leaks the instance struct, never its environment */
        return;
    }
    *a = (struct retire_arg){this, js, final};
    __atomic_add_fetch(&priv->retiring, 1, __ATOMIC_SEQ_CST);
    if (gj_thread_start(&t, "glujs-retire", retire_main, a) == 0)
        pthread_detach(t);
    else
        retire_main(a);
}

/* Hot reload: a new instance of `module` replaces the current one. Fops
 * already in flight finish on the old code; new fops go to the new one. The
 * old instance's handoff() state reaches the new one's adopt(). */
int
gj_instance_reload(xlator_t *this, dict_t *options, const char *module)
{
    gj_private_t *priv = this->private;
    unsigned char handled[GJ_FOP_MAX] = {0}, events[GJ_EV_MAX] = {0};
    char err[1024] = "";
    gj_js_t *old = priv->js, *js;
    size_t hlen = 0;
    void *hstate = old ? gj_js_handoff(old, &hlen) : NULL;
    js = gj_instance_start(this, options, module, handled, events, hstate, hlen, err, sizeof(err));
    free(hstate);
    if (!js) {
        gf_log(this->name, GF_LOG_ERROR, "cannot reload translator module %s: %s; the previous one stays",
               module, err);
        return -1;
    }
    memcpy(priv->handled, handled, sizeof(handled));
    memcpy(priv->events, events, sizeof(events));
    __atomic_store_n(&priv->js, js, __ATOMIC_RELEASE);
    if (priv->module != module) {
        GF_FREE(priv->module);
        priv->module = gf_strdup(module);
    }
    gj_sources_mtime(this, &priv->module_mtime);
    gf_log(this->name, GF_LOG_INFO, "reloaded translator module %s (watchdog %lds)", priv->module,
           (long)priv->watchdog_s);
    gj_kernel_invalidate_all(this, "reload"); /* the new module may answer otherwise */
    if (old)
        gj_instance_retire(this, old, 0);
    return 0;
}

static void
latest(void *ctx, const char *path)
{
    struct timespec *t = ctx, m;
    if (gj_module_mtime(path, &m) == 0 && (m.tv_sec > t->tv_sec || (m.tv_sec == t->tv_sec && m.tv_nsec > t->tv_nsec)))
        *t = m;
}

int
gj_sources_mtime(xlator_t *this, struct timespec *out)
{
    gj_private_t *priv = this->private;
    gj_js_t *js = __atomic_load_n(&priv->js, __ATOMIC_ACQUIRE);
    if (gj_module_mtime(priv->module, out) != 0)
        return -1;
    if (js)
        gj_js_sources(js, latest, out);
    return 0;
}

/* option watch: poll the mtimes of the module file and of the local files it
 * loaded (a helper it imports), reload when the latest changes. The current
 * instance is read under reload_lock: only a reload replaces (and retires) it. */
void *
gj_watch_main(void *arg)
{
    xlator_t *this = arg;
    gj_private_t *priv = this->private;
    THIS = this;
    while (!priv->stopping && !priv->parent_down) {
        struct timespec m;
        sleep(1);
        if (priv->stopping || priv->parent_down)
            continue;
        pthread_mutex_lock(&priv->reload_lock);
        if (gj_sources_mtime(this, &m) == 0 &&
            (m.tv_sec != priv->module_mtime.tv_sec || m.tv_nsec != priv->module_mtime.tv_nsec)) {
            priv->module_mtime = m; /* a broken edit is not retried until the next change */
            gj_instance_reload(this, priv->options ? priv->options : this->options, priv->module);
        }
        pthread_mutex_unlock(&priv->reload_lock);
    }
    return NULL;
}

