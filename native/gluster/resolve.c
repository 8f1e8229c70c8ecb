/* resolve.c: what a fop that JS originates needs and a fop from above brings
 * along: locs, fds and inodes found in the graph's inode table, a call stack
 * with credentials, GlusterFS's usual defaults, and the linking of the inodes
 * it makes (what fuse-bridge, gfapi and the server do for their own fops). */
#include "glue.h"
#include <glusterfs/syncop.h>

/* The inode table of the graph xl is in: the nearest xlator above that has
 * one (fuse's and gfapi's graph top, the brick's bound subvolume). */
static inode_table_t *
table_of(xlator_t *this, char *err, size_t errlen)
{
    for (xlator_t *x = this; x; x = x->parents ? x->parents->xlator : NULL)
        if (x->itable)
            return x->itable;
    snprintf(err, errlen, "no inode table above %s yet (the graph is not serving)", this->name);
    return NULL;
}

static const uint8_t null_gfid[16];

int
gj_children(void *xl, const char **names, int n)
{
    int i = 0;
    for (xlator_list_t *c = ((xlator_t *)xl)->children; c; c = c->next, i++)
        if (i < n)
            names[i] = c->xlator->name;
    return i;
}

void *
gj_hold_ref(int kind, void *p)
{
    switch (kind) {
        case GJ_LOC: return gj_hold_loc(p);
        case GJ_FD: return gj_hold_fd(p);
        case GJ_INODE: return gj_hold_inode(p);
        default: return NULL;
    }
}

void *
gj_find_inode(void *xl, const uint8_t gfid[16], char *err, size_t errlen)
{
    inode_table_t *t = table_of(xl, err, errlen);
    inode_t *inode;
    if (!t)
        return NULL;
    inode = inode_find(t, (unsigned char *)gfid);
    if (!inode)
        snprintf(err, errlen, "inode %s is not known here (look it up first)", uuid_utoa((unsigned char *)gfid));
    return inode;
}

void *
gj_find_fd(void *xl, const uint8_t gfid[16], uint64_t id, char *err, size_t errlen)
{
    inode_t *inode = gj_find_inode(xl, gfid, err, errlen);
    fd_t *fd, *found = NULL;
    if (!inode)
        return NULL;
    /* Only an fd still on its inode's list is compared (fd_unref takes it off
     * under this lock before freeing it), so a stale id is never dereferenced. */
    LOCK(&inode->lock);
    list_for_each_entry(fd, &inode->fd_list, inode_list)
    {
        if ((uint64_t)(uintptr_t)fd == id && GF_ATOMIC_GET(fd->refcount) > 0) {
            GF_ATOMIC_INC(fd->refcount);
            found = fd;
            break;
        }
    }
    UNLOCK(&inode->lock);
    inode_unref(inode);
    if (!found)
        snprintf(err, errlen, "fd %" PRIu64 " of %s is not open (any more)", id, uuid_utoa((unsigned char *)gfid));
    return found;
}

void *
gj_make_loc(void *xl, const uint8_t gfid[16], const uint8_t pargfid[16], const char *name, char *err,
            size_t errlen)
{
    inode_table_t *t = table_of(xl, err, errlen);
    int named = name && *name;
    loc_t *loc;
    if (!t)
        return NULL;
    if (named && (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))) {
        snprintf(err, errlen, "'%s' is not a name (a loc's name is one path component)", name);
        return NULL;
    }
    if (named ? !memcmp(pargfid, null_gfid, 16) : !memcmp(gfid, null_gfid, 16)) {
        snprintf(err, errlen, named ? "a loc with a name needs its parent's gfid (pargfid)"
                                    : "a loc needs a path, a gfid, or a pargfid and a name");
        return NULL;
    }
    loc = calloc(1, sizeof(*loc));
    if (!loc) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (named) {
        loc->parent = inode_find(t, (unsigned char *)pargfid);
        if (!loc->parent) {
            snprintf(err, errlen, "parent %s is not known here (look it up first, or give a path)",
                     uuid_utoa((unsigned char *)pargfid));
            free(loc);
            return NULL;
        }
        gf_uuid_copy(loc->pargfid, pargfid);
        if (memcmp(gfid, null_gfid, 16))
            loc->inode = inode_find(t, (unsigned char *)gfid);
        if (!loc->inode)
            loc->inode = inode_grep(t, loc->parent, name);
        if (!loc->inode)
            loc->inode = inode_new(t); /* an entry to make, or to look up */
        if (gf_uuid_is_null(loc->inode->gfid) && memcmp(gfid, null_gfid, 16))
            gf_uuid_copy(loc->gfid, gfid); /* what the child goes by when the inode is not linked here */
        if (inode_path(loc->parent, name, (char **)&loc->path) < 0 || !loc->path)
            gf_asprintf((char **)&loc->path, "<gfid:%s>/%s", uuid_utoa(loc->parent->gfid), name);
    } else {
        loc->inode = inode_find(t, (unsigned char *)gfid);
        if (!loc->inode)
            loc->inode = inode_new(t); /* a nameless lookup by gfid links it */
        gf_uuid_copy(loc->gfid, gfid);
        if (inode_path(loc->inode, NULL, (char **)&loc->path) < 0 || !loc->path)
            gf_asprintf((char **)&loc->path, "<gfid:%s>", uuid_utoa((unsigned char *)gfid));
    }
    if (!loc->inode || !loc->path) {
        loc_wipe(loc);
        free(loc);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (named) {
        const char *slash = strrchr(loc->path, '/');
        loc->name = slash ? slash + 1 : loc->path;
    }
    if (!gf_uuid_is_null(loc->inode->gfid))
        gf_uuid_copy(loc->gfid, loc->inode->gfid);
    return loc;
}

call_frame_t *
gj_origin_frame(xlator_t *this)
{
    /* GlusterFS's own frame for a fop a translator makes by itself (syncop's):
     * the daemon's euid, egid, pid and groups; then a lock owner of its own */
    call_frame_t *frame = syncop_create_frame(this);
    if (frame)
        set_lk_owner_from_ptr(&frame->root->lk_owner, frame->root);
    return frame;
}

void
gj_origin_apply(call_frame_t *frame, const gj_origin_t *who)
{
    call_stack_t *root = frame->root;
    if (!who)
        return;
    if (who->set & GJ_WHO_UID)
        root->uid = who->uid;
    if (who->set & GJ_WHO_GID)
        root->gid = who->gid;
    if (who->set & GJ_WHO_PID)
        root->pid = who->pid;
    if ((who->set & GJ_WHO_GROUPS) && call_stack_alloc_groups(root, who->ngroups) == 0) {
        for (uint32_t i = 0; i < who->ngroups && i < 32; i++)
            root->groups[i] = who->groups[i];
        root->ngrps = who->ngroups < 32 ? who->ngroups : 32;
    }
    if ((who->set & GJ_WHO_LKOWNER) && who->lk_owner_len <= GF_MAX_LOCK_OWNER_LEN) {
        root->lk_owner.len = who->lk_owner_len;
        memcpy(root->lk_owner.data, who->lk_owner, who->lk_owner_len);
    }
}

/* The index of the first (or last) argument of `kind` of fop `code`, or -1. */
static int
arg_of(int code, int kind, int last)
{
    const gj_fop_desc_t *d = &gj_fop_table[code];
    int found = -1;
    for (int i = 0; i < d->nargs; i++)
        if (d->arg_kinds[i] == kind) {
            found = i;
            if (!last)
                break;
        }
    return found;
}

int
gj_origin_prepare(xlator_t *this, int code, gj_val_t *args, call_frame_t *frame)
{
    int l = arg_of(code, GJ_LOC, 1), f = arg_of(code, GJ_FD, 0), x = arg_of(code, GJ_DICT, 1);
    loc_t *loc = l >= 0 ? args[l].p : NULL;
    if ((code == GF_FOP_OPEN || code == GF_FOP_CREATE || code == GF_FOP_OPENDIR) && f >= 0 && !args[f].p &&
        loc && loc->inode) {
        args[f].p = fd_create(loc->inode, frame->root->pid);
        if (!args[f].p)
            return -1;
    }
    for (int i = 0; i < gj_fop_table[code].nargs; i++)
        if ((gj_fop_table[code].arg_kinds[i] == GJ_LOC || gj_fop_table[code].arg_kinds[i] == GJ_FD) && !args[i].p)
            return -5 - i; /* argument i is missing */
    if ((code == GF_FOP_CREATE || code == GF_FOP_MKDIR || code == GF_FOP_MKNOD || code == GF_FOP_SYMLINK) &&
        x >= 0) {
        dict_t *xdata = args[x].p;
        uuid_t gfid;
        if (!xdata && !(xdata = args[x].p = dict_new()))
            return -1;
        if (!dict_get(xdata, "gfid-req")) {
            gf_uuid_generate(gfid);
            if (dict_set_gfuuid(xdata, "gfid-req", gfid, _gf_true) != 0)
                return -1;
        }
    }
    return 0;
}

void
gj_origin_linked(xlator_t *this, int code, gj_val_t *args, gj_val_t *r)
{
    const gj_fop_desc_t *d = &gj_fop_table[code];
    int l = arg_of(code, GJ_LOC, 1), f = arg_of(code, GJ_FD, 0);
    loc_t *loc = l >= 0 ? args[l].p : NULL;
    fd_t *fd = f >= 0 ? args[f].p : NULL;
    if (r[0].i < 0)
        return;
    /* An entry fop's reply: the inode, then its iatt (lookup, create, mkdir,
     * mknod, symlink, link). */
    for (int i = 2; loc && i + 1 < d->nreply; i++) {
        inode_t *linked;
        struct iatt *ia = r[i + 1].p;
        if (d->reply_kinds[i] != GJ_INODE || d->reply_kinds[i + 1] != GJ_IATT || !r[i].p || !ia)
            continue;
        if (gf_uuid_is_null(ia->ia_gfid))
            break;
        linked = inode_link(r[i].p, loc->name ? loc->parent : NULL, loc->name, ia);
        if (!linked)
            break;
        /* As gfapi does for its own: an inode with no lookup count is retired
         * at its last unref, and could not be found by its gfid next time. It
         * then lives in the table's LRU (lru-limit bounds it) once unreferenced. */
        inode_lookup(linked);
        if (linked != r[i].p) {
            inode_unref(r[i].p); /* the reply's hold moves to the inode the table keeps */
            r[i].p = linked;
        } else {
            inode_unref(linked);
        }
        break;
    }
    if (fd && (code == GF_FOP_OPEN || code == GF_FOP_CREATE || code == GF_FOP_OPENDIR) &&
        !gf_uuid_is_null(fd->inode->gfid))
        fd_bind(fd);
}
