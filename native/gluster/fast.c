/* fast.c: answers JS has decided, served on the GlusterFS thread.
 *
 * Per parent directory (gfid) the table keeps negative names (lookup -> ENOENT
 * until expiry or invalidation) and, for a directory JS knows completely, the
 * set of names present (anything else -> ENOENT). JS owns the policy: it adds
 * and invalidates entries. The C side only guards against races: every change
 * that may make a name exist bumps the generation and stamps the parent with it,
 * and an answer JS learnt from a lookup wound before that change (it carries
 * the older generation it took before winding) is refused, as nl-cache does
 * with its time stamps. One fact the C side acts on by itself: an upcall from
 * the brick (another client changed a directory) drops what the table holds
 * for the directories it names at once, on the thread that received it; JS
 * hears of it a thread hop later, and until then a name another client had
 * just created would still be answered ENOENT. */
#include "glue.h"
#include <time.h>

#define DIR_BUCKETS 1024
#define MAX_NAMES (1u << 20) /* hard caps on what is held; past one the table is dropped */
#define MAX_DIRS (1u << 16)

typedef struct name_ent {
    gj_hlink_t link;
    uint64_t expire_ms; /* 0: until invalidated */
    char name[];
} name_ent_t;

typedef struct {
    gj_htab_t t;
    uint32_t n;
} nameset_t;

typedef struct fdir {
    struct fdir *next;
    uuid_t gfid;
    uint64_t inval_gen;
    int complete;
    uint64_t complete_expire_ms;
    nameset_t neg, present;
} fdir_t;

struct gj_fast {
    pthread_rwlock_t lock;
    fdir_t *dirs[DIR_BUCKETS];
    uint64_t gen;   /* atomically incremented */
    uint64_t floor; /* answers learnt before this generation are refused */
    uint64_t names; /* under lock */
    uint64_t ndirs;
    gf_atomic_t hits, invalidations, learnt;
    uint32_t learn_ttl_ms; /* the learn rule; 0: off */
    uint64_t max_names;
};

typedef struct {
    uint64_t gen;
    uuid_t pargfid;
    char name[];
} learn_t;

static gj_hlink_t **
ns_slot(nameset_t *s, const char *name, uint32_t h)
{
    gj_hlink_t **e;
    if (!s->t.nb)
        return NULL;
    e = gj_htab_chain(&s->t, h);
    while (*e && ((*e)->hash != h || strcmp(((name_ent_t *)*e)->name, name) != 0))
        e = &(*e)->next;
    return e;
}

static uint32_t
ns_hash(const char *name)
{
    return gj_fnv1a(name, strlen(name), GJ_FNV_SEED);
}

static name_ent_t *
ns_find(nameset_t *s, const char *name)
{
    gj_hlink_t **e = ns_slot(s, name, ns_hash(name));
    return e ? (name_ent_t *)*e : NULL;
}

static void
ns_free(nameset_t *s, uint64_t *count)
{
    for (uint32_t i = 0; i < s->t.nb; i++)
        for (gj_hlink_t *e = s->t.b[i], *n; e; e = n) {
            n = e->next;
            free(e);
            (*count)--;
        }
    free(s->t.b);
    memset(s, 0, sizeof(*s));
}

static int
ns_add(nameset_t *s, const char *name, uint64_t expire_ms, uint64_t *count)
{
    gj_hlink_t **slot;
    name_ent_t *e;
    size_t len = strlen(name);
    uint32_t h = ns_hash(name);
    if (s->n >= s->t.nb && gj_htab_grow(&s->t, 16) != 0)
        return -1;
    slot = ns_slot(s, name, h);
    if (*slot) {
        ((name_ent_t *)*slot)->expire_ms = expire_ms;
        return 0;
    }
    e = malloc(sizeof(*e) + len + 1);
    if (!e)
        return -1;
    memcpy(e->name, name, len + 1);
    e->expire_ms = expire_ms;
    e->link.next = NULL;
    e->link.hash = h;
    *slot = &e->link;
    s->n++;
    (*count)++;
    return 0;
}

static void
ns_del(nameset_t *s, const char *name, uint64_t *count)
{
    gj_hlink_t **slot = ns_slot(s, name, ns_hash(name)), *e;
    if (!slot || !*slot)
        return;
    e = *slot;
    *slot = e->next;
    free(e);
    s->n--;
    (*count)--;
}

static fdir_t **
dir_slot(gj_fast_t *f, const uint8_t *gfid)
{
    fdir_t **d = &f->dirs[gj_fnv1a(gfid, 16, GJ_FNV_SEED) & (DIR_BUCKETS - 1)];
    while (*d && memcmp((*d)->gfid, gfid, 16) != 0)
        d = &(*d)->next;
    return d;
}

static void drop_all(gj_fast_t *f);

static fdir_t *
dir_get(gj_fast_t *f, const uint8_t *gfid)
{
    fdir_t **slot = dir_slot(f, gfid);
    if (!*slot && f->ndirs >= MAX_DIRS) {
        drop_all(f);
        slot = dir_slot(f, gfid);
    }
    if (!*slot) {
        fdir_t *d = calloc(1, sizeof(*d));
        if (!d)
            return NULL;
        memcpy(d->gfid, gfid, 16);
        d->inval_gen = f->floor; /* a dropped record's history is unknown */
        *slot = d;
        f->ndirs++;
    }
    return *slot;
}

static void
drop_all(gj_fast_t *f)
{
    for (int i = 0; i < DIR_BUCKETS; i++) {
        for (fdir_t *d = f->dirs[i], *n; d; d = n) {
            n = d->next;
            ns_free(&d->neg, &f->names);
            ns_free(&d->present, &f->names);
            free(d);
        }
        f->dirs[i] = NULL;
    }
    f->ndirs = 0;
    f->floor = __atomic_add_fetch(&f->gen, 1, __ATOMIC_SEQ_CST);
}

/* Forgets what the table holds for d and stamps it with gen: an answer learnt
 * from a lookup wound before gen cannot be added back. Under the write lock. */
static void
dir_forget(gj_fast_t *f, fdir_t *d, uint64_t gen)
{
    d->inval_gen = gen;
    ns_free(&d->neg, &f->names);
    ns_free(&d->present, &f->names);
    d->complete = 0;
}

gj_fast_t *
gj_fast_new(void)
{
    gj_fast_t *f = calloc(1, sizeof(*f));
    if (f) {
        pthread_rwlock_init(&f->lock, NULL);
        f->gen = 1;
        f->max_names = MAX_NAMES;
    }
    return f;
}

void
gj_fast_free(gj_fast_t *f)
{
    if (!f)
        return;
    drop_all(f);
    pthread_rwlock_destroy(&f->lock);
    free(f);
}

static gj_fast_t *
fast_of(void *xl)
{
    gj_private_t *priv = ((xlator_t *)xl)->private;
    return priv ? priv->fast : NULL;
}

static int32_t
learn_cbk(call_frame_t *frame, void *cookie, xlator_t *this, int32_t op_ret, int32_t op_errno,
          inode_t *inode, struct iatt *buf, dict_t *xdata, struct iatt *postparent)
{
    learn_t *l = cookie;
    gj_fast_t *f = fast_of(this);
    uint32_t ttl = f ? __atomic_load_n(&f->learn_ttl_ms, __ATOMIC_ACQUIRE) : 0;
    if (op_ret < 0 && op_errno == ENOENT && ttl) {
        gj_fast_add_negative(this, l->pargfid, l->name, l->gen, ttl);
        GF_ATOMIC_INC(f->learnt);
    }
    free(l);
    STACK_UNWIND_STRICT(lookup, frame, op_ret, op_errno, inode, buf, xdata, postparent);
    return 0;
}

int
gj_fast_lookup(call_frame_t *frame, xlator_t *this, loc_t *loc, dict_t *xdata)
{
    gj_fast_t *f = fast_of(this);
    const uint8_t *pgfid;
    int hit = 0;
    uint32_t learn_ttl = f ? __atomic_load_n(&f->learn_ttl_ms, __ATOMIC_ACQUIRE) : 0;
    if (!f || (!f->ndirs && !learn_ttl) || !loc->name || !*loc->name)
        return 0;
    pgfid = !gf_uuid_is_null(loc->pargfid) ? loc->pargfid : loc->parent ? loc->parent->gfid : NULL;
    if (!pgfid)
        return 0;
    if (f->ndirs) {
        pthread_rwlock_rdlock(&f->lock);
        fdir_t *d = *dir_slot(f, pgfid);
        if (d) {
            uint64_t now = gj_now_ms();
            name_ent_t *e = ns_find(&d->neg, loc->name);
            if (e && (!e->expire_ms || e->expire_ms > now))
                hit = 1;
            else if (d->complete && (!d->complete_expire_ms || d->complete_expire_ms > now) &&
                     !ns_find(&d->present, loc->name))
                hit = 1;
        }
        pthread_rwlock_unlock(&f->lock);
    }
    if (hit) {
        GF_ATOMIC_INC(f->hits);
        STACK_UNWIND_STRICT(lookup, frame, -1, ENOENT, NULL, NULL, NULL, NULL);
        return 1;
    }
    if (learn_ttl) {
        /* the learn rule: wind here, learn an ENOENT in the callback; the
         * generation is taken before the wind, as JS would */
        size_t n = strlen(loc->name);
        learn_t *l = malloc(sizeof(*l) + n + 1);
        if (!l)
            return 0;
        l->gen = gj_fast_gen(this);
        memcpy(l->pargfid, pgfid, 16);
        memcpy(l->name, loc->name, n + 1);
        STACK_WIND_COOKIE(frame, learn_cbk, l, FIRST_CHILD(this), FIRST_CHILD(this)->fops->lookup,
                          loc, xdata);
        return 1;
    }
    return 0;
}

void
gj_fast_learn(void *xl, uint32_t ttl_ms, uint64_t max_names)
{
    gj_fast_t *f = fast_of(xl);
    if (!f)
        return;
    f->max_names = max_names ? max_names : MAX_NAMES;
    __atomic_store_n(&f->learn_ttl_ms, ttl_ms, __ATOMIC_RELEASE);
    /* the same bounds for what the kernel holds: a name the kernel keeps is
     * asked again after ttl_ms, as the table's own entries would be */
    gj_kernel_bound(xl, max_names, ttl_ms);
}

uint64_t
gj_fast_gen(void *xl)
{
    gj_fast_t *f = fast_of(xl);
    return f ? __atomic_load_n(&f->gen, __ATOMIC_SEQ_CST) : 0;
}

int
gj_fast_add_negative(void *xl, const uint8_t pargfid[16], const char *name, uint64_t gen,
                     uint32_t ttl_ms)
{
    gj_fast_t *f = fast_of(xl);
    int ret = -1;
    if (!f)
        return -1;
    pthread_rwlock_wrlock(&f->lock);
    if (f->names >= f->max_names)
        drop_all(f);
    fdir_t *d = dir_get(f, pargfid);
    if (d && d->inval_gen <= gen) /* equal: the invalidation came before the wind */
        ret = ns_add(&d->neg, name, ttl_ms ? gj_now_ms() + ttl_ms : 0, &f->names);
    else if (d)
        ret = 0; /* stale: an invalidation came after the lookup was wound */
    pthread_rwlock_unlock(&f->lock);
    return ret;
}

int
gj_fast_set_complete(void *xl, const uint8_t pargfid[16], const char *names, size_t len,
                     uint64_t gen, uint32_t ttl_ms)
{
    gj_fast_t *f = fast_of(xl);
    int ret = 0;
    if (!f)
        return -1;
    pthread_rwlock_wrlock(&f->lock);
    if (f->names >= f->max_names)
        drop_all(f);
    fdir_t *d = dir_get(f, pargfid);
    if (!d || d->inval_gen > gen) {
        pthread_rwlock_unlock(&f->lock);
        return d ? 0 : -1;
    }
    ns_free(&d->present, &f->names);
    for (const char *p = names; p < names + len && ret == 0; p += strlen(p) + 1)
        ret = ns_add(&d->present, p, 0, &f->names);
    d->complete = ret == 0;
    d->complete_expire_ms = ttl_ms ? gj_now_ms() + ttl_ms : 0;
    pthread_rwlock_unlock(&f->lock);
    return ret;
}

void
gj_fast_invalidate(void *xl, const uint8_t pargfid[16], const char *name)
{
    gj_fast_t *f = fast_of(xl);
    uint64_t gen;
    if (!f)
        return;
    gen = __atomic_add_fetch(&f->gen, 1, __ATOMIC_SEQ_CST);
    GF_ATOMIC_INC(f->invalidations);
    pthread_rwlock_wrlock(&f->lock);
    fdir_t *d = dir_get(f, pargfid);
    if (d && name) {
        d->inval_gen = gen;
        ns_del(&d->neg, name, &f->names);
        if (d->complete)
            ns_add(&d->present, name, 0, &f->names);
    } else if (d) {
        dir_forget(f, d, gen);
    }
    pthread_rwlock_unlock(&f->lock);
    gj_kernel_invalidate(xl, pargfid, name);
}

void
gj_fast_upcall(void *xl, const uint8_t gfid[16], int gfid_may_be_dir,
               const uint8_t pargfid[16], const uint8_t oldpargfid[16])
{
    gj_fast_t *f = fast_of(xl);
    const uint8_t *named[3] = {pargfid, oldpargfid, gfid_may_be_dir ? gfid : NULL};
    const uint8_t *dirs[3];
    int n = 0;
    uint64_t gen;
    if (!f || (!f->ndirs && !__atomic_load_n(&f->learn_ttl_ms, __ATOMIC_ACQUIRE)))
        return; /* nothing held, nothing being learnt */
    for (int i = 0; i < 3; i++)
        if (named[i] && !gf_uuid_is_null((unsigned char *)named[i]) /* reads only */)
            dirs[n++] = named[i];
    if (!n)
        return; /* a file's attributes: the table holds nothing about it */
    gen = __atomic_add_fetch(&f->gen, 1, __ATOMIC_SEQ_CST);
    pthread_rwlock_wrlock(&f->lock);
    /* each directory gets a record even if it had none, so that a learn
     * wound before now cannot add */
    for (int i = 0; i < n; i++) {
        fdir_t *d = dir_get(f, dirs[i]);
        if (d)
            dir_forget(f, d, gen);
    }
    pthread_rwlock_unlock(&f->lock);
    GF_ATOMIC_INC(f->invalidations);
}

void
gj_fast_invalidate_all(void *xl)
{
    gj_fast_t *f = fast_of(xl);
    if (!f)
        return;
    pthread_rwlock_wrlock(&f->lock);
    drop_all(f); /* raises the floor: lookups wound before now cannot add */
    pthread_rwlock_unlock(&f->lock);
    GF_ATOMIC_INC(f->invalidations);
    gj_kernel_invalidate_all(xl, "fast.invalidate()");
}

void
gj_fast_stats(void *xl, gj_fast_stats_t *out)
{
    gj_fast_t *f = fast_of(xl);
    memset(out, 0, sizeof(*out));
    if (!f)
        return;
    pthread_rwlock_rdlock(&f->lock);
    out->hits = GF_ATOMIC_GET(f->hits);
    out->entries = f->names;
    out->dirs = f->ndirs;
    out->invalidations = GF_ATOMIC_GET(f->invalidations);
    out->learnt = GF_ATOMIC_GET(f->learnt);
    pthread_rwlock_unlock(&f->lock);
    gj_kernel_stats(xl, out);
}
