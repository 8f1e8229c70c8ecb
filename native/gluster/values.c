/* values.c: holding, viewing, making and releasing each kind of fop value.
 * "Hold" turns a pointer borrowed for the duration of a fop call into one the
 * bridge owns (a reference or a copy), so JS can use it later on its thread. */
#include "glue.h"
#include <glusterfs/iobuf.h>
#include <glusterfs/gf-dirent.h>
#include <glusterfs/common-utils.h>

#define CHECKSUM_LEN 32 /* SHA256, what posix's rchecksum produces */

typedef struct {
    struct iovec *iov;
    int32_t count;
    struct iobref *iobref;
} gj_data_t;

static void *
dup_mem(const void *p, size_t n)
{
    void *c;
    if (!p)
        return NULL;
    c = malloc(n);
    if (c)
        memcpy(c, p, n);
    return c;
}

void *gj_hold_str(void *s) { return s ? strdup(s) : NULL; }
void *gj_hold_dict(void *d) { return d ? dict_ref(d) : NULL; }
void *gj_hold_iatt(void *b) { return dup_mem(b, sizeof(struct iatt)); }
void *gj_hold_fd(void *f) { return f ? fd_ref(f) : NULL; }
void *gj_hold_inode(void *i) { return i ? inode_ref(i) : NULL; }
void *gj_hold_statvfs(void *s) { return dup_mem(s, sizeof(struct statvfs)); }
void *gj_hold_flock(void *f) { return dup_mem(f, sizeof(struct gf_flock)); }
void *gj_hold_lease(void *l) { return dup_mem(l, sizeof(struct gf_lease)); }
void *gj_hold_checksum(void *c) { return dup_mem(c, CHECKSUM_LEN); }
/* Never reached: fops with these kinds are passed through in C. */
void *gj_hold_locklist(void *l) { return NULL; }
void *gj_hold_opaque(void *o) { return NULL; }
void *gj_hold_iobref(void *o) { return NULL; }

void *
gj_hold_loc(void *l)
{
    loc_t *c;
    if (!l)
        return NULL;
    c = calloc(1, sizeof(*c));
    if (c && loc_copy(c, l) != 0) {
        free(c);
        c = NULL;
    }
    return c;
}

void *
gj_hold_data(struct iovec *vec, int32_t count, struct iobref *iobref)
{
    gj_data_t *d;
    if (!vec)
        return NULL;
    d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->iov = dup_mem(vec, sizeof(*vec) * (count > 0 ? count : 1));
    d->count = count;
    d->iobref = iobref ? iobref_ref(iobref) : NULL;
    return d;
}

struct iovec *gj_data_iov(void *d) { return d ? ((gj_data_t *)d)->iov : NULL; }
int32_t gj_data_count(void *d) { return d ? ((gj_data_t *)d)->count : 0; }
struct iobref *gj_data_iobref(void *d) { return d ? ((gj_data_t *)d)->iobref : NULL; }

static gf_dirent_t *
dirent_copy(const gj_dirent_view_t *v, const struct iatt *stat)
{
    gf_dirent_t *e = gf_dirent_for_name(v->name);
    if (!e)
        return NULL;
    e->d_ino = v->ino;
    e->d_off = v->off;
    e->d_type = v->type;
    if (stat)
        e->d_stat = *stat;
    e->inode = v->inode ? inode_ref(v->inode) : NULL;
    e->dict = v->xdata ? dict_ref(v->xdata) : NULL;
    return e;
}

void *
gj_hold_entries(void *list)
{
    gf_dirent_t *src = list, *copy, *e, *n;
    if (!src)
        return NULL;
    copy = calloc(1, sizeof(*copy));
    if (!copy)
        return NULL;
    INIT_LIST_HEAD(&copy->list);
    list_for_each_entry(e, &src->list, list)
    {
        gj_dirent_view_t v = {.name = e->d_name, .ino = e->d_ino, .off = e->d_off,
                              .type = e->d_type, .inode = e->inode, .xdata = e->dict};
        n = dirent_copy(&v, &e->d_stat);
        if (n)
            list_add_tail(&n->list, &copy->list);
    }
    return copy;
}

static void
release(int kind, void *p)
{
    if (!p)
        return;
    switch (kind) {
        case GJ_DICT: dict_unref(p); break;
        case GJ_LOC: loc_wipe(p); free(p); break;
        case GJ_FD: fd_unref(p); break;
        case GJ_INODE: inode_unref(p); break;
        case GJ_DATA: {
            gj_data_t *d = p;
            if (d->iobref)
                iobref_unref(d->iobref);
            free(d->iov);
            free(d);
            break;
        }
        case GJ_ENTRIES: gf_dirent_free(p); free(p); break;
        default: free(p); /* str, iatt, statvfs, flock, lease, checksum */
    }
}

void
gj_val_release(int kind, gj_val_t v)
{
    if (kind != GJ_NUM)
        release(kind, v.p);
}

void
gj_release_vals(const unsigned char *kinds, int n, gj_val_t *v)
{
    for (int i = 0; i < n; i++)
        gj_val_release(kinds[i], v[i]);
}

/* ---- views ---- */
static void
iatt_to_view(const struct iatt *b, gj_iatt_t *o)
{
    memcpy(o->gfid, b->ia_gfid, 16);
    o->ino = b->ia_ino;
    o->dev = b->ia_dev;
    o->rdev = b->ia_rdev;
    o->size = b->ia_size;
    o->blocks = b->ia_blocks;
    o->flags = b->ia_flags;
    o->mode = st_mode_from_ia(b->ia_prot, b->ia_type);
    o->nlink = b->ia_nlink;
    o->uid = b->ia_uid;
    o->gid = b->ia_gid;
    o->blksize = b->ia_blksize;
    o->atime = b->ia_atime;
    o->mtime = b->ia_mtime;
    o->ctime = b->ia_ctime;
    o->btime = b->ia_btime;
    o->atime_nsec = b->ia_atime_nsec;
    o->mtime_nsec = b->ia_mtime_nsec;
    o->ctime_nsec = b->ia_ctime_nsec;
    o->btime_nsec = b->ia_btime_nsec;
}

static void
view_to_iatt(const gj_iatt_t *o, struct iatt *b)
{
    memset(b, 0, sizeof(*b));
    memcpy(b->ia_gfid, o->gfid, 16);
    b->ia_ino = o->ino;
    b->ia_dev = o->dev;
    b->ia_rdev = o->rdev;
    b->ia_size = o->size;
    b->ia_blocks = o->blocks;
    b->ia_flags = o->flags;
    b->ia_type = ia_type_from_st_mode(o->mode);
    b->ia_prot = ia_prot_from_st_mode(o->mode);
    b->ia_nlink = o->nlink;
    b->ia_uid = o->uid;
    b->ia_gid = o->gid;
    b->ia_blksize = o->blksize;
    b->ia_atime = o->atime;
    b->ia_mtime = o->mtime;
    b->ia_ctime = o->ctime;
    b->ia_btime = o->btime;
    b->ia_atime_nsec = o->atime_nsec;
    b->ia_mtime_nsec = o->mtime_nsec;
    b->ia_ctime_nsec = o->ctime_nsec;
    b->ia_btime_nsec = o->btime_nsec;
}

void gj_view_iatt(const void *iatt, gj_iatt_t *out) { iatt_to_view(iatt, out); }

void
gj_view_statvfs(const void *p, gj_statvfs_t *o)
{
    const struct statvfs *s = p;
    *o = (gj_statvfs_t){s->f_bsize, s->f_frsize, s->f_blocks, s->f_bfree, s->f_bavail,
                        s->f_files, s->f_ffree, s->f_favail, s->f_fsid, s->f_flag,
                        s->f_namemax};
}

void
gj_view_loc(const void *p, gj_loc_view_t *o)
{
    const loc_t *l = p;
    memset(o, 0, sizeof(*o));
    o->path = l->path;
    o->name = l->name;
    if (!gf_uuid_is_null((unsigned char *)l->gfid))
        memcpy(o->gfid, l->gfid, 16);
    else if (l->inode)
        memcpy(o->gfid, l->inode->gfid, 16);
    if (!gf_uuid_is_null((unsigned char *)l->pargfid))
        memcpy(o->pargfid, l->pargfid, 16);
    else if (l->parent)
        memcpy(o->pargfid, l->parent->gfid, 16);
}

void
gj_view_fd(const void *p, gj_fd_view_t *o)
{
    const fd_t *fd = p;
    memset(o, 0, sizeof(*o));
    if (fd->inode)
        memcpy(o->gfid, fd->inode->gfid, 16);
    o->flags = fd->flags;
    o->pid = fd->pid;
    o->id = (uint64_t)(uintptr_t)fd;
}

void
gj_view_inode(const void *p, uint8_t gfid[16])
{
    memcpy(gfid, ((const inode_t *)p)->gfid, 16);
}

void
gj_view_flock(const void *p, gj_flock_view_t *o)
{
    const struct gf_flock *f = p;
    o->type = f->l_type;
    o->whence = f->l_whence;
    o->pid = f->l_pid;
    o->start = f->l_start;
    o->len = f->l_len;
    o->owner = f->l_owner.data;
    o->owner_len = f->l_owner.len;
}

struct foreach_ctx {
    gj_dict_cb cb;
    void *ctx;
};

static int
dict_item(dict_t *d, char *key, data_t *v, void *data)
{
    struct foreach_ctx *c = data;
    int64_t i;
    uint64_t u;
    double dbl;
    switch (v->data_type) {
        case GF_DATA_TYPE_INT:
            i = data_to_int64(v);
            c->cb(c->ctx, key, GJ_DV_INT, &i, sizeof(i));
            break;
        case GF_DATA_TYPE_UINT:
            u = data_to_uint64(v);
            c->cb(c->ctx, key, GJ_DV_UINT, &u, sizeof(u));
            break;
        case GF_DATA_TYPE_DOUBLE:
            dbl = v->data ? strtod(v->data, NULL) : 0; /* stored as text */
            c->cb(c->ctx, key, GJ_DV_DOUBLE, &dbl, sizeof(dbl));
            break;
        case GF_DATA_TYPE_STR:
        case GF_DATA_TYPE_STR_OLD:
            c->cb(c->ctx, key, GJ_DV_STR, v->data, v->len ? strnlen(v->data, v->len) : 0);
            break;
        case GF_DATA_TYPE_GFUUID:
            c->cb(c->ctx, key, GJ_DV_GFID, v->data, 16);
            break;
        default:
            c->cb(c->ctx, key, GJ_DV_BIN, v->data, v->len);
    }
    return 0;
}

void
gj_dict_foreach(void *dict, gj_dict_cb cb, void *ctx)
{
    struct foreach_ctx c = {cb, ctx};
    if (dict)
        dict_foreach(dict, dict_item, &c);
}

size_t
gj_data_size(const void *p)
{
    const gj_data_t *d = p;
    return d ? iov_length(d->iov, d->count) : 0;
}

void
gj_data_copyout(const void *p, void *dst)
{
    const gj_data_t *d = p;
    char *o = dst;
    for (int i = 0; d && i < d->count; i++) {
        memcpy(o, d->iov[i].iov_base, d->iov[i].iov_len);
        o += d->iov[i].iov_len;
    }
}

size_t
gj_entries_count(const void *p)
{
    const gf_dirent_t *list = p, *e;
    size_t n = 0;
    if (list)
        list_for_each_entry(e, &list->list, list) n++;
    return n;
}

size_t
gj_entries_views(const void *p, gj_dirent_view_t *out, size_t n)
{
    const gf_dirent_t *list = p, *e;
    size_t i = 0;
    if (!list)
        return 0;
    list_for_each_entry(e, &list->list, list)
    {
        if (i == n)
            break;
        out[i] = (gj_dirent_view_t){.name = e->d_name, .ino = e->d_ino, .off = e->d_off,
                                    .type = e->d_type, .has_stat = 1, .inode = e->inode,
                                    .xdata = e->dict};
        iatt_to_view(&e->d_stat, &out[i].stat);
        i++;
    }
    return i;
}

/* ---- making new values from JS ---- */
void *
gj_make_iatt(const gj_iatt_t *v)
{
    struct iatt *b = malloc(sizeof(*b));
    if (b)
        view_to_iatt(v, b);
    return b;
}

void *
gj_make_flock(const gj_flock_view_t *v)
{
    struct gf_flock *f;
    if (v->owner_len > GF_MAX_LOCK_OWNER_LEN)
        return NULL;
    f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->l_type = v->type;
    f->l_whence = v->whence;
    f->l_pid = v->pid;
    f->l_start = v->start;
    f->l_len = v->len;
    f->l_owner.len = v->owner_len;
    if (v->owner_len)
        memcpy(f->l_owner.data, v->owner, v->owner_len);
    return f;
}

void *
gj_make_statvfs(const gj_statvfs_t *v)
{
    struct statvfs *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->f_bsize = v->bsize;
    s->f_frsize = v->frsize;
    s->f_blocks = v->blocks;
    s->f_bfree = v->bfree;
    s->f_bavail = v->bavail;
    s->f_files = v->files;
    s->f_ffree = v->ffree;
    s->f_favail = v->favail;
    s->f_fsid = v->fsid;
    s->f_flag = v->flag;
    s->f_namemax = v->namemax;
    return s;
}

void *
gj_make_str(const char *s, size_t len)
{
    char *c = malloc(len + 1);
    if (c) {
        memcpy(c, s, len);
        c[len] = 0;
    }
    return c;
}

void *
gj_make_checksum(const void *buf, size_t len)
{
    uint8_t *c = calloc(1, CHECKSUM_LEN);
    if (c)
        memcpy(c, buf, len < CHECKSUM_LEN ? len : CHECKSUM_LEN);
    return c;
}

void *
gj_make_data(const void *buf, size_t len)
{
    xlator_t *this = THIS;
    struct iobuf *iob = iobuf_get2(this->ctx->iobuf_pool, len ? len : 1);
    struct iobref *ref = iobref_new();
    struct iovec iov;
    void *d = NULL;
    if (!iob || !ref)
        goto out;
    memcpy(iobuf_ptr(iob), buf, len);
    iobref_add(ref, iob);
    iov.iov_base = iobuf_ptr(iob);
    iov.iov_len = len;
    d = gj_hold_data(&iov, 1, ref);
out:
    if (iob)
        iobuf_unref(iob);
    if (ref)
        iobref_unref(ref);
    return d;
}

void *gj_make_dict(void) { return dict_new(); }

int
gj_dict_put(void *dict, const char *key, int type, const void *data, size_t len)
{
    _Static_assert(GJ_DICT_VALUE_MAX == DICT_KEY_VALUE_MAX_SIZE, "bridge.h's dict value limit");
    char *k = (char *)key;
    /* dict_set_bin refuses longer values and leaves the buffer to the caller */
    if (len > GJ_DICT_VALUE_MAX)
        return -1;
    switch (type) {
        case GJ_DV_INT: return dict_set_int64(dict, k, *(const int64_t *)data);
        case GJ_DV_UINT: return dict_set_uint64(dict, k, *(const uint64_t *)data);
        case GJ_DV_DOUBLE: return dict_set_double(dict, k, *(const double *)data);
        case GJ_DV_GFID: {
            /* the dict takes ownership of non-static values: GF_MALLOC it */
            unsigned char *u = GF_MALLOC(16, gf_common_mt_char);
            if (!u)
                return -1;
            memcpy(u, data, 16);
            /* on failure the dict may or may not have freed it: never free twice */
            return dict_set_gfuuid(dict, k, u, false);
        }
        case GJ_DV_STR: {
            char *s = gj_make_str(data, len);
            int ret = s ? dict_set_dynstr_with_alloc(dict, k, s) : -1;
            free(s);
            return ret;
        }
        default: {
            void *b = GF_MALLOC(len ? len : 1, gf_common_mt_char);
            if (!b)
                return -1;
            memcpy(b, data, len);
            return dict_set_bin(dict, k, b, len); /* as above: never free twice */
        }
    }
}

void *
gj_make_entries(void)
{
    gf_dirent_t *l = calloc(1, sizeof(*l));
    if (l)
        INIT_LIST_HEAD(&l->list);
    return l;
}

int
gj_entries_add(void *list, const gj_dirent_view_t *v)
{
    struct iatt st;
    gf_dirent_t *e;
    if (v->has_stat)
        view_to_iatt(&v->stat, &st);
    e = dirent_copy(v, v->has_stat ? &st : NULL);
    if (!e)
        return -1;
    list_add_tail(&e->list, &((gf_dirent_t *)list)->list);
    return 0;
}

void *
gj_make_zero(int kind)
{
    switch (kind) {
        case GJ_IATT: return calloc(1, sizeof(struct iatt));
        case GJ_STATVFS: return calloc(1, sizeof(struct statvfs));
        case GJ_FLOCK: return calloc(1, sizeof(struct gf_flock));
        case GJ_LEASE: return calloc(1, sizeof(struct gf_lease));
        case GJ_CHECKSUM: return calloc(1, CHECKSUM_LEN);
        case GJ_STR: return strdup("");
        case GJ_DATA: return gj_make_data("", 0);
        case GJ_ENTRIES: return gj_make_entries();
        default: return NULL;
    }
}
