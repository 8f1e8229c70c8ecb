/* glue.h: the gluster-facing half's private header (C only; GlusterFS headers
 * do not compile as C++). */
#ifndef GLUJS_GLUE_H
#define GLUJS_GLUE_H

#include "gf-config.h"
#include <glusterfs/xlator.h>
#include <glusterfs/defaults.h>
#include <glusterfs/stack.h>
#include <glusterfs/statedump.h>
#include <pthread.h>
#include "../bridge.h"

typedef struct gj_fop_desc {
    const char *name;
    int code;
    int js; /* 0: carries a value glujs cannot hold; always passed through */
    int nargs;
    unsigned char arg_kinds[GJ_MAX_VALS];
    int nreply;
    unsigned char reply_kinds[GJ_MAX_VALS];
    /* wind to `child` (any child of the xlator); the reply reaches gj_wind_done */
    void (*wind)(call_frame_t *frame, xlator_t *child, void *cookie, const gj_val_t *a);
    void (*forward)(call_frame_t *frame, xlator_t *child, const gj_val_t *a);
    void (*unwind)(call_frame_t *frame, const gj_val_t *r);
} gj_fop_desc_t;

extern const gj_fop_desc_t gj_fop_table[GJ_FOP_MAX];
extern struct xlator_fops gj_fops;

typedef struct gj_fast gj_fast_t; /* fast.c */
typedef struct gj_kernel gj_kernel_t; /* kernel.c */

/* this->private */
typedef struct {
    gj_js_t *js;                       /* the current instance (atomic: a reload swaps it) */
    char *opts_sig;                    /* the options the current instance got */
    dict_t *options;                   /* the latest reconfigured options (watcher reloads) */
    pthread_mutex_t reload_lock;
    int parent_down;
    int retiring;                      /* retire threads still running */
    gf_boolean_t watch;                /* reload when the module file changes */
    pthread_t watcher;
    int watcher_running;
    struct timespec module_mtime;
    time_t watchdog_s;
    uint64_t heap_limit;
    unsigned char handled[GJ_FOP_MAX]; /* fops the module has handlers for */
    unsigned char events[GJ_EV_MAX];           /* notify/cbk events it has handlers for */
    uint32_t timeout_ms;               /* handler-timeout; 0 = none */
    uint32_t spin_us;                  /* option spin */
    char *module;

    /* ops handed to JS and not yet completed, oldest first (for the timeout) */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct list_head pending;
    uint64_t npending;                 /* ops in `pending`, originated ones included */
    uint64_t norigin;                  /* of which originated by JS (gj_originate) */
    pthread_t timer;
    int timer_running, stopping;

    gj_fast_t *fast;
    gj_kernel_t *kernel; /* NULL: the kernel tier is off */

    /* counters (statedump / metrics) */
    uint64_t max_pending;              /* more fops waiting for JS fail with EAGAIN */
    gf_atomic_t fops_in, fops_passed, fops_failed, timeouts, late_answers, fast_hits, busy, fops_originated;
} gj_private_t;

/* support.c: a chained hash table, for fast.c's and kernel.c's names. An
 * entry begins with a gj_hlink_t holding its hash; its owner compares keys. */
typedef struct gj_hlink {
    struct gj_hlink *next;
    uint32_t hash;
} gj_hlink_t;
typedef struct {
    gj_hlink_t **b;
    uint32_t nb; /* a power of two, or 0 before the first grow */
} gj_htab_t;
#define GJ_FNV_SEED 2166136261u
/* FNV-1a over n bytes, going on from h (GJ_FNV_SEED to start). */
static inline uint32_t
gj_fnv1a(const void *p, size_t n, uint32_t h)
{
    const unsigned char *c = p;
    while (n--)
        h = (h ^ *c++) * 16777619u;
    return h;
}
/* The chain for hash h (the table has buckets). */
static inline gj_hlink_t **
gj_htab_chain(gj_htab_t *t, uint32_t h)
{
    return &t->b[h & (t->nb - 1)];
}
/* Double the buckets (the first time: `first`, a power of two) and rehash. 0, or -1: no memory, the table is as it was. */
int gj_htab_grow(gj_htab_t *t, uint32_t first);

/* instance.c */
/* Start a JS instance of `module` with `options` (blocks until loaded or failed). */
gj_js_t *gj_instance_start(xlator_t *this, dict_t *options, const char *module, unsigned char *handled,
                           unsigned char *events, const void *handoff, size_t handoff_len, char *err,
                           size_t errlen);
/* The options an instance sees, as one sorted string (malloc'd): equal strings need no new instance. */
char *gj_options_signature(dict_t *options);
int gj_module_mtime(const char *module, struct timespec *out);
/* The latest mtime of the module file and of the local files its current
 * instance loaded (what option watch reloads on). */
int gj_sources_mtime(xlator_t *this, struct timespec *out);
/* Hot reload: a new instance replaces the current one (reload_lock held). 0, or -1: the old one stays. */
int gj_instance_reload(xlator_t *this, dict_t *options, const char *module);
/* Free an instance once its fops in flight are through, on a thread of its own;
 * final (parent down): the xlator's own threads stop too. */
void gj_instance_retire(xlator_t *this, gj_js_t *js, int final);
/* The thread of option watch: reloads when the module file changes. */
void *gj_watch_main(void *arg);

/* values.c */
void *gj_hold_str(void *s);
void *gj_hold_dict(void *d);
void *gj_hold_iatt(void *b);
void *gj_hold_loc(void *l);
void *gj_hold_fd(void *f);
void *gj_hold_inode(void *i);
void *gj_hold_data(struct iovec *vec, int32_t count, struct iobref *iobref);
void *gj_hold_entries(void *e);
void *gj_hold_statvfs(void *s);
void *gj_hold_flock(void *f);
void *gj_hold_lease(void *l);
void *gj_hold_checksum(void *c);
void *gj_hold_locklist(void *l);
void *gj_hold_opaque(void *o);
void *gj_hold_iobref(void *o);
struct iovec *gj_data_iov(void *d);
int32_t gj_data_count(void *d);
struct iobref *gj_data_iobref(void *d);
void gj_release_vals(const unsigned char *kinds, int n, gj_val_t *v);

/* ops.c */
static inline int
gj_handled(xlator_t *this, int code)
{
    gj_private_t *priv = this->private;
    return priv && priv->handled[code];
}
/* Hand a held fop to JS. 0: JS owns it now. -1: JS is gone; the args were
 * released and the caller winds the fop on (fail-open). */
int gj_fop_enter(call_frame_t *frame, xlator_t *this, int code, gj_val_t *args);
/* The callback of a wind made by JS (frame is the wind's own copy). */
void gj_wind_done(call_frame_t *frame, void *cookie, xlator_t *this, gj_val_t *r);
/* The pending list and its lock (right after this->private is set), the
 * handler-timeout thread, a new handler-timeout, and the thread's stop. */
void gj_ops_init(xlator_t *this);
int gj_ops_start(xlator_t *this);
void gj_ops_set_timeout(xlator_t *this, uint32_t timeout_ms);
void gj_ops_stop(xlator_t *this);
/* How many ops instance js still has in flight. */
int gj_ops_pending_for(xlator_t *this, gj_js_t *js);
/* Child i of this xlator, in volfile order, or NULL. */
xlator_t *gj_child(xlator_t *this, int i);

/* resolve.c: what an originated fop needs that a fop from above brings along */
/* A new call stack for a fop that no handler's stack lends credentials to:
 * the daemon's own (its euid, egid and pid), a lock owner of its own. */
call_frame_t *gj_origin_frame(xlator_t *this);
/* The credentials JS asked for, over those of the frame. */
void gj_origin_apply(call_frame_t *frame, const gj_origin_t *who);
/* GlusterFS's usual defaults for what JS left out: the fd that open, create
 * and opendir open (fd_create), gfid-req for the fops that make an inode.
 * 0; -1 no memory; -5 - i: argument i (a loc or an fd) is missing. */
int gj_origin_prepare(xlator_t *this, int code, gj_val_t *args, call_frame_t *frame);
/* After a successful originated reply: link the new inode under its name (as
 * fuse-bridge and gfapi do for theirs) and bind an opened fd, so that later
 * fops can find both by gfid. r[2..] may be replaced by the linked inode. */
void gj_origin_linked(xlator_t *this, int code, gj_val_t *args, gj_val_t *r);

/* fast.c */
gj_fast_t *gj_fast_new(void);
void gj_fast_free(gj_fast_t *f);
/* 1 if the lookup was taken here (answered ENOENT, or wound natively under a
 * learn rule), 0 to go on to JS. */
int gj_fast_lookup(call_frame_t *frame, xlator_t *this, loc_t *loc, dict_t *xdata);
/* An upcall named these (the inode, whether it may be a directory, its parent
 * and old parent; null gfids are skipped): drop what the table holds for the
 * directories now, before JS hears of it. */
void gj_fast_upcall(void *xl, const uint8_t gfid[16], int gfid_may_be_dir,
                    const uint8_t pargfid[16], const uint8_t oldpargfid[16]);

/* kernel.c: the kernel tier (what a FUSE mount's kernel caches, kept coherent) */
/* [GF: init] The tier, when this process is a FUSE client mounted with
 * negative-timeout or entry-timeout > 1 s and nothing above glujs may answer
 * lookups; else NULL, and the log says why (one line). */
gj_kernel_t *gj_kernel_new(xlator_t *this);
void gj_kernel_free(gj_kernel_t *k);
/* Fop `code` (generated fops, native/gen/fops.c) before it goes on, with its
 * names (a, b: its locs; fd: readdirp's): a cookie for gj_kernel_reply and
 * gj_kernel_done, or NULL when the tier has no use for it (or no memory). */
void *gj_kernel_enter(xlator_t *this, int code, loc_t *a, loc_t *b, fd_t *fd);
/* Before the reply goes up: record what the kernel may keep of it. */
void gj_kernel_reply(xlator_t *this, void *cookie, int32_t op_ret, int32_t op_errno, gf_dirent_t *entries);
/* After it went up: invalidate what the reply raced with; frees the cookie. */
void gj_kernel_done(xlator_t *this, void *cookie);
/* Make the kernel forget (pargfid, name), or every recorded name under pargfid (name NULL). */
void gj_kernel_invalidate(xlator_t *this, const uint8_t pargfid[16], const char *name);
/* Everything recorded (why: for the log). */
void gj_kernel_invalidate_all(xlator_t *this, const char *why);
/* An upcall named these directories (null gfids skipped). */
void gj_kernel_upcall(xlator_t *this, const uint8_t gfid[16], int gfid_may_be_dir,
                      const uint8_t pargfid[16], const uint8_t oldpargfid[16]);
/* At most `limit` records (0: the default), none older than max_age_ms (0:
 * any age): the kernel is told to forget those beyond. The learn rule's ttl
 * and cap (gj_fast_learn) set both. */
void gj_kernel_bound(xlator_t *this, uint64_t limit, uint32_t max_age_ms);
void gj_kernel_stats(xlator_t *this, gj_fast_stats_t *out);

#endif
