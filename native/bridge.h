/*
 * bridge.h: where the gluster-facing C (native/gluster/) and the node-facing
 * C++ (native/node/) meet. Nothing here needs a GlusterFS or a Node header.
 *
 * A fop that JS handles becomes a gj_op_t: its arguments are held (references
 * taken, or copies made) as an array of gj_val_t, one per field of the fop's
 * table entry (tools/gen-fops.mjs), each of a gj_kind_t. Every reply from a wind
 * becomes a gj_reply_t holding the callback's fields the same way. The C side
 * owns both; the C++ side reads them through views and builds new values with
 * the gj_make_* functions.
 *
 * Each function says which thread may call it:
 *   [GF]  a GlusterFS thread (a fop's, an epoll or timer thread, init/fini/notify);
 *   [JS]  an instance's JS thread (native/node/, while it runs the environment);
 *   [any] either, or a thread of glujs's own.
 * A [JS] function never blocks on a GlusterFS thread, and a [GF] one never waits
 * for JS, but for gj_js_start and gj_js_handoff (init and reconfigure, bounded).
 */
#ifndef GLUJS_BRIDGE_H
#define GLUJS_BRIDGE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "gen/shared.h" /* kinds, events, log levels, dict types, option names, fast counters */

#ifdef __cplusplus
extern "C" {
#endif

/* A held value: a number, or a pointer the C side owns a reference to. */
typedef union {
    int64_t i;
    void *p;
} gj_val_t;

#define GJ_FOP_MAX 64  /* > GF_FOP_MAXVALUE */
#define GJ_MAX_VALS 12 /* most fields of any fop or reply */

/* ---- the fop table (generated) [any] ---- */
/* Kinds of fop `code`'s arguments (reply == 0) or reply fields; returns the count,
 * or -1 when the fop cannot be handled in JS. */
int gj_fop_kinds(int code, int reply, const unsigned char **kinds);
const char *gj_fop_name(int code);

/* ---- views of held values (borrowed; valid while the value is held) [JS] ---- */
typedef struct {
    uint8_t gfid[16];
    uint64_t ino, dev, rdev, size, blocks, flags;
    uint32_t mode; /* st_mode: type and permission bits */
    uint32_t nlink, uid, gid, blksize;
    int64_t atime, mtime, ctime, btime;
    uint32_t atime_nsec, mtime_nsec, ctime_nsec, btime_nsec;
} gj_iatt_t;

typedef struct {
    uint64_t bsize, frsize, blocks, bfree, bavail, files, ffree, favail, fsid,
        flag, namemax;
} gj_statvfs_t;

typedef struct {
    const char *path, *name;
    uint8_t gfid[16], pargfid[16];
} gj_loc_view_t;

typedef struct {
    uint8_t gfid[16];
    int32_t flags;
    int64_t pid;
    uint64_t id; /* identifies the fd while it is open */
} gj_fd_view_t;

typedef struct {
    int32_t type, whence, pid;
    int64_t start, len;
    const char *owner;
    size_t owner_len;
} gj_flock_view_t;

typedef struct {
    const char *name;
    uint64_t ino, off;
    uint32_t type;
    int has_stat;
    gj_iatt_t stat;
    void *inode, *xdata; /* borrowed; gj_entries_add takes its own refs */
} gj_dirent_view_t;

/* Dict values come with a GJ_DV_* type (gen/shared.h). */
typedef void (*gj_dict_cb)(void *ctx, const char *key, int type, const void *data, size_t len);

void gj_view_iatt(const void *iatt, gj_iatt_t *out);
void gj_view_statvfs(const void *st, gj_statvfs_t *out);
void gj_view_loc(const void *loc, gj_loc_view_t *out);
void gj_view_fd(const void *fd, gj_fd_view_t *out);
void gj_view_inode(const void *inode, uint8_t gfid[16]);
void gj_view_flock(const void *fl, gj_flock_view_t *out);
void gj_dict_foreach(void *dict, gj_dict_cb cb, void *ctx);
size_t gj_data_size(const void *data);
void gj_data_copyout(const void *data, void *dst);
size_t gj_entries_count(const void *entries);
/* Fills out[0..n) with views of the held entry list; returns how many. */
size_t gj_entries_views(const void *entries, gj_dirent_view_t *out, size_t n);

/* ---- new values (owned by the caller until handed to wind/unwind) [JS] ---- */
void *gj_make_iatt(const gj_iatt_t *v);
void *gj_make_statvfs(const gj_statvfs_t *v);
/* A struct gf_flock (the owner at most 1024 bytes, else NULL). */
void *gj_make_flock(const gj_flock_view_t *v);
void *gj_make_str(const char *s, size_t len);
void *gj_make_data(const void *buf, size_t len);
void *gj_make_checksum(const void *buf, size_t len);
void *gj_make_dict(void);
/* GlusterFS's limit on one dict value (DICT_KEY_VALUE_MAX_SIZE); longer ones are refused. */
#define GJ_DICT_VALUE_MAX 1048576
int gj_dict_put(void *dict, const char *key, int type, const void *data, size_t len);
void *gj_make_entries(void);
int gj_entries_add(void *entries, const gj_dirent_view_t *v);
/* A zeroed value of a kind (an empty string, data or entry list), for the
 * fields a fabricated success reply leaves out. */
void *gj_make_zero(int kind);
void gj_val_release(int kind, gj_val_t v);

/* ---- fops in flight [JS] (the op's own thread-safety: claims and references) ---- */
typedef struct gj_op gj_op_t;
typedef struct gj_reply gj_reply_t;
typedef struct gj_js gj_js_t; /* an instance: one JS environment (native/node/) */

int gj_op_fop(const gj_op_t *op);
gj_val_t gj_op_arg(const gj_op_t *op, int i);
void *gj_op_xl(const gj_op_t *op);
/* 1 once the op has completed (unwound, failed, timed out, forwarded). */
int gj_op_done(const gj_op_t *op);
/* Wind a copy of the op to child `child` (volfile order, 0 first); the reply comes
 * back as a gj_reply_t carrying `cookie`. vals[i] are borrowed. 0; -1 when the op
 * has completed; -2 no memory; -3 no such child. */
int gj_op_wind(gj_op_t *op, int child, const gj_val_t *vals, uint64_t cookie);
/* Complete the op by winding it on to `child`; the child's reply goes straight up. */
int gj_op_forward(gj_op_t *op, int child, const gj_val_t *vals);
/* Complete the op with a reply (vals borrowed) or an error. 0, or -1 when already done. */
int gj_op_unwind(gj_op_t *op, const gj_val_t *vals);
int gj_op_fail(gj_op_t *op, int op_errno, const char *why);
void gj_op_ref(gj_op_t *op);
/* A number the JS side keeps on the op (its handle), for messages about it. */
void gj_op_set_tag(gj_op_t *op, double tag);
double gj_op_tag(const gj_op_t *op);
/* Who asked: the call stack's credentials (frame->root). 0, or -1 once done. */
typedef struct {
    uint32_t uid, gid;
    int32_t pid;
    uint32_t ngroups;
    uint32_t groups[32]; /* the first 32 */
    char client[256];    /* on a brick: the client's id (client_uid), else "" */
} gj_caller_t;
int gj_op_caller(const gj_op_t *op, gj_caller_t *out);
/* The inode a fabricated reply stands for: the op's loc's inode, else its fd's. */
void *gj_op_inode(const gj_op_t *op);
/* The op's first argument of a kind, or NULL (for fabricated replies: the fd of
 * open/create/opendir, the flock of lk). */
void *gj_op_first_arg(const gj_op_t *op, int kind);
void gj_op_unref(gj_op_t *op);

/* Credentials for an originated fop, over those of its call stack (`set`: GJ_WHO_*). */
enum { GJ_WHO_UID = 1, GJ_WHO_GID = 2, GJ_WHO_PID = 4, GJ_WHO_GROUPS = 8, GJ_WHO_LKOWNER = 16 };
typedef struct {
    int set;
    uint32_t uid, gid;
    int32_t pid;
    uint32_t ngroups;
    uint32_t groups[32];
    uint32_t lk_owner_len; /* at most 1024 (GF_MAX_LOCK_OWNER_LEN) */
    uint8_t lk_owner[1024];
} gj_origin_t;
/* Originate fop `code` on child `child` of xl, for instance js: on the call stack
 * of op `parent` (a handler's, while it is not done: its credentials and lock
 * owner), else on a new one with the daemon's credentials; `who` (or NULL)
 * overrides them. vals[0..nargs) are taken over (owned by the fop from here,
 * whatever the result). An fd left NULL for open, create or opendir is made,
 * and gfid-req is added for the fops that make an inode. The reply comes back
 * as a gj_reply_t with `cookie` (op_ret -1 ETIMEDOUT after handler-timeout).
 * 0; -2 no memory; -3 no such child; -4 not a fop JS can originate; -5 - i:
 * argument i (a loc or an fd) is missing. */
int gj_originate(void *xl, gj_js_t *js, gj_op_t *parent, int child, int code, const gj_val_t *vals,
                 const gj_origin_t *who, uint64_t cookie);
/* The names of xl's children in volfile order (n at most); returns how many it has. */
int gj_children(void *xl, const char **names, int n);
/* Values for an originated fop's arguments, found as GlusterFS finds them: in
 * the inode table of the graph xl is in. NULL with err set when not found. */
/* A loc by gfid (nameless) or by parent gfid and name (the inode linked there,
 * or a new one for an entry a fop makes). The parent must be known here. */
void *gj_make_loc(void *xl, const uint8_t gfid[16], const uint8_t pargfid[16], const char *name, char *err,
                  size_t errlen);
/* An open fd of inode gfid, by its id (gj_fd_view_t.id): a reference taken. */
void *gj_find_fd(void *xl, const uint8_t gfid[16], uint64_t id, char *err, size_t errlen);
void *gj_find_inode(void *xl, const uint8_t gfid[16], char *err, size_t errlen);
/* A new reference to (or copy of) a held loc, fd or inode. */
void *gj_hold_ref(int kind, void *p);

/* 1 when JS is to see reply r (the op still wants it; for an originated fop,
 * claims it); 0: drop it (gj_reply_free). */
int gj_reply_take(gj_reply_t *r);
gj_op_t *gj_reply_op(const gj_reply_t *r);
uint64_t gj_reply_cookie(const gj_reply_t *r);
gj_val_t gj_reply_val(const gj_reply_t *r, int i);
void gj_reply_free(gj_reply_t *r);

/* ---- events without a reply: notify and the inode/fd callbacks [GF] posts, [JS] reads ---- */
typedef struct {
    int type; /* GJ_EV_* */
    uint8_t gfid[16];
    uint32_t flags;   /* upcall: cache-invalidation flags */
    uint32_t expire;  /* upcall: seconds the invalidation stays relevant */
    uint8_t pargfid[16], oldpargfid[16];
} gj_event_t;

/* [JS] After JS has run its handler for event ev: an upcall's directories are
 * invalidated in the kernel once more, since JS may have answered a lookup from
 * what it knew before it heard of the upcall. */
void gj_event_delivered(void *xl, const gj_event_t *ev);

/* ---- the native answer cache (fast path) [JS]; GlusterFS threads read it inside gluster/ ---- */
/* Answer lookup(parent, name) with ENOENT on the GlusterFS thread. `gen` is the
 * generation returned by gj_fast_gen when the negative reply was produced: an
 * entry whose generation is older than a later invalidation of the same parent
 * is refused (returns 0). ttl_ms 0 means until invalidated. */
uint64_t gj_fast_gen(void *xl);
int gj_fast_add_negative(void *xl, const uint8_t pargfid[16], const char *name,
                         uint64_t gen, uint32_t ttl_ms);
/* Parent P is complete: names not in `names` (NUL-separated, n of them) are negative. */
int gj_fast_set_complete(void *xl, const uint8_t pargfid[16], const char *names,
                         size_t len, uint64_t gen, uint32_t ttl_ms);
void gj_fast_invalidate(void *xl, const uint8_t pargfid[16], const char *name);
void gj_fast_invalidate_all(void *xl);
/* A learn rule: lookups the table cannot answer are wound natively (not via
 * JS); an ENOENT reply is added as a negative entry for ttl_ms, under the
 * generation taken at the wind. max_names caps the table. ttl_ms 0: off. */
void gj_fast_learn(void *xl, uint32_t ttl_ms, uint64_t max_names);
void gj_fast_stats(void *xl, gj_fast_stats_t *out);

/* ---- time and threads ---- */
/* [any] Milliseconds of CLOCK_MONOTONIC. */
uint64_t gj_now_ms(void);
/* [any] Start a joinable thread running fn(arg), named `name` (15 characters at
 * most), with the signal mask every glujs thread has: asynchronous signals
 * blocked, faults deliverable. 0, or an errno. */
int gj_thread_start(pthread_t *t, const char *name, void *(*fn)(void *), void *arg);

/* ---- logging into the GlusterFS log, under the xlator's name ---- */
/* [any] level: GJ_LOG_* */
void gj_log(void *xl, int level, const char *msg);
/* [JS] A thread of the node side that will wind, unwind or log for xl (sets THIS). */
void gj_thread_enter(void *xl);

/* =========== implemented by the node side (native/node/) =========== */

typedef struct {
    const char *name;     /* xlator name, for logs */
    const char *module;   /* the translator module's path */
    const char *runtime;  /* dist/lib/daemon/runtime.js */
    int nopts;
    const char *const *keys, *const *vals; /* every volfile option */
    uint32_t watchdog_ms; /* a synchronous JS run longer than this is terminated */
    uint32_t heap_limit_mb; /* V8 old-space limit (process-wide: the first instance sets it) */
    uint32_t spin_us;     /* the JS thread stays awake this long after its last message */
    const void *handoff;  /* state from the instance this one replaces (v8 serialized), or NULL */
    size_t handoff_len;
} gj_js_config_t;

/* [GF: init, reconfigure] Start a JS environment on its own thread and load the module. Blocks until
 * the module is loaded (or failed: NULL, and err says why). handled[code] is
 * set to 1 for every fop the module's class has a handler for; events[type]
 * likewise for notify/forget/release/releasedir/invalidate. */
gj_js_t *gj_js_start(void *xl, const gj_js_config_t *cfg, unsigned char handled[GJ_FOP_MAX],
                     unsigned char events[GJ_EV_MAX], char *err, size_t errlen);
/* [any] Hand an op / reply / event to the JS thread; never blocks. 0, or -1 when the
 * JS environment is gone (the caller keeps ownership). */
int gj_js_post_op(gj_js_t *js, gj_op_t *op);
int gj_js_post_reply(gj_js_t *js, gj_reply_t *r);
int gj_js_post_event(gj_js_t *js, const gj_event_t *ev);
/* [any] Ops already handed over that the C side completed (timeout); lets JS drop them. */
int gj_js_post_expired(gj_js_t *js, gj_op_t *op);
/* [GF: statedump, metrics] Calls `line` for each "key=value" the JS side last published. */
void gj_js_dump(gj_js_t *js, void (*line)(void *ctx, const char *key, const char *val), void *ctx);
/* [GF: init, the watcher] Calls `each` for every local file the module loaded (its own
 * and those it imports, not packages), as the runtime reported them after the load. */
void gj_js_sources(gj_js_t *js, void (*each)(void *ctx, const char *path), void *ctx);
/* [GF: reconfigure, the watcher] Ask the module for the state it hands to its successor (hot reload); bounded
 * wait. Returns a malloc'd buffer (caller frees) or NULL. */
void *gj_js_handoff(gj_js_t *js, size_t *len);
/* [GF: fini, a retire thread] Run the module's fini(), stop the environment and join its thread. The
 * instance stays valid (posts to it return -1) until gj_js_free. */
void gj_js_shutdown(gj_js_t *js);
void gj_js_free(gj_js_t *js);
/* [any: atexit] Stop every environment before the daemon's exit() runs. */
void gj_js_atexit(void);

/* [JS] Called by the node side when its environment is gone for good or is being
 * restarted: every op still pending with that instance fails with op_errno;
 * the ops held for the restart (gj_op_hold) too only when waiting_too. */
void gj_ops_abort_all(void *xl, gj_js_t *js, int op_errno, const char *why, int waiting_too);
/* [any] While an environment restarts, a posted op is held rather than refused: it
 * stays pending (handler-timeout still applies) and keeps the JS side's
 * reference. Call with the instance's own lock held, as gj_ops_resume is. */
void gj_op_hold(gj_op_t *op);
/* [JS] The new environment runs: post every op held for instance js, in arrival
 * order (post returns 0 when it took the op). */
void gj_ops_resume(void *xl, gj_js_t *js, int (*post)(void *ctx, gj_op_t *op), void *ctx);

#ifdef __cplusplus
}
#endif
#endif
