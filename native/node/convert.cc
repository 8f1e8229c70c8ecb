// convert.cc: see convert.h.
#include "convert.h"

#include <cstring>

#include "napi-util.h"

namespace glujs {

thread_local std::vector<FieldNames> tls_names;

bool ReadIatt(napi_env env, napi_value o, gj_iatt_t* st) {
  memset(st, 0, sizeof(*st));
  if (Type(env, o) != napi_object) return false;
  napi_value g = nullptr;
  napi_get_named_property(env, o, "gfid", &g);
  if (Type(env, g) == napi_string) {
    std::string s;
    GetString(env, g, &s);
    if (!ParseUuid(s, st->gfid)) return false;
  }
  uint64_t v;
#define F(js, field)                                \
  if (!Prop(env, o, js, &v)) return false;          \
  st->field = static_cast<decltype(st->field)>(v);
  F("ino", ino) F("dev", dev) F("rdev", rdev) F("size", size) F("blocks", blocks) F("flags", flags)
  F("mode", mode) F("nlink", nlink) F("uid", uid) F("gid", gid) F("blksize", blksize)
  F("atime", atime) F("mtime", mtime) F("ctime", ctime) F("btime", btime)
  F("atimeNsec", atime_nsec) F("mtimeNsec", mtime_nsec) F("ctimeNsec", ctime_nsec) F("btimeNsec", btime_nsec)
#undef F
  return true;
}

napi_value IattJs(napi_env env, const gj_iatt_t& s) {
  napi_value o = Obj(env);
  Set(env, o, "gfid", Gfid(env, s.gfid));
  Set(env, o, "ino", BigU(env, s.ino));
  Set(env, o, "dev", Num(env, static_cast<double>(s.dev)));
  Set(env, o, "mode", Num(env, s.mode));
  Set(env, o, "nlink", Num(env, s.nlink));
  Set(env, o, "uid", Num(env, s.uid));
  Set(env, o, "gid", Num(env, s.gid));
  Set(env, o, "rdev", Num(env, static_cast<double>(s.rdev)));
  Set(env, o, "size", Num(env, static_cast<double>(s.size)));
  Set(env, o, "blksize", Num(env, s.blksize));
  Set(env, o, "blocks", Num(env, static_cast<double>(s.blocks)));
  Set(env, o, "atime", Num(env, static_cast<double>(s.atime)));
  Set(env, o, "atimeNsec", Num(env, s.atime_nsec));
  Set(env, o, "mtime", Num(env, static_cast<double>(s.mtime)));
  Set(env, o, "mtimeNsec", Num(env, s.mtime_nsec));
  Set(env, o, "ctime", Num(env, static_cast<double>(s.ctime)));
  Set(env, o, "ctimeNsec", Num(env, s.ctime_nsec));
  Set(env, o, "btime", Num(env, static_cast<double>(s.btime)));
  Set(env, o, "btimeNsec", Num(env, s.btime_nsec));
  Set(env, o, "flags", Num(env, static_cast<double>(s.flags)));
  return o;
}

static void DictItem(void* ctx, const char* key, int type, const void* data, size_t len) {
  auto* c = static_cast<std::pair<napi_env, napi_value>*>(ctx);
  napi_env env = c->first;
  napi_value v = nullptr;
  switch (type) {
    case GJ_DV_INT: v = Num(env, static_cast<double>(*static_cast<const int64_t*>(data))); break;
    case GJ_DV_UINT: v = Num(env, static_cast<double>(*static_cast<const uint64_t*>(data))); break;
    case GJ_DV_DOUBLE: v = Num(env, *static_cast<const double*>(data)); break;
    case GJ_DV_STR: v = Str(env, static_cast<const char*>(data), len); break;
    case GJ_DV_GFID: v = Gfid(env, static_cast<const uint8_t*>(data)); break;
    default: v = Buf(env, data, len);
  }
  uint32_t n;
  napi_get_array_length(env, c->second, &n);
  napi_set_element(env, c->second, n, Str(env, key));
  napi_set_element(env, c->second, n + 1, Num(env, type));
  napi_set_element(env, c->second, n + 2, v);
}

// A held value as JS sees it. Dicts come as [key, type, value, ...] and entries
// as plain objects; the runtime wraps them (Dict, DirEntry).
napi_value ToJs(napi_env env, int kind, gj_val_t v, ReplyRec* rec) {
  if (kind == GJ_NUM) return Num(env, static_cast<double>(v.i));
  if (!v.p) return Null(env);
  switch (kind) {
    case GJ_STR: return Str(env, static_cast<const char*>(v.p));
    case GJ_DICT: {
      napi_value arr = nullptr;
      napi_create_array(env, &arr);
      std::pair<napi_env, napi_value> c{env, arr};
      gj_dict_foreach(v.p, DictItem, &c);
      return arr;
    }
    case GJ_IATT: {
      gj_iatt_t s;
      gj_view_iatt(v.p, &s);
      return IattJs(env, s);
    }
    case GJ_LOC: {
      gj_loc_view_t l;
      gj_view_loc(v.p, &l);
      napi_value o = Obj(env);
      Set(env, o, "path", Str(env, l.path));
      Set(env, o, "name", Str(env, l.name));
      Set(env, o, "gfid", Gfid(env, l.gfid));
      Set(env, o, "pargfid", Gfid(env, l.pargfid));
      return o;
    }
    case GJ_FD: {
      gj_fd_view_t f;
      gj_view_fd(v.p, &f);
      napi_value o = Obj(env);
      Set(env, o, "gfid", Gfid(env, f.gfid));
      Set(env, o, "flags", Num(env, f.flags));
      Set(env, o, "pid", Num(env, static_cast<double>(f.pid)));
      Set(env, o, "id", Num(env, static_cast<double>(f.id)));
      return o;
    }
    case GJ_INODE: {
      uint8_t g[16];
      gj_view_inode(v.p, g);
      napi_value o = Obj(env);
      Set(env, o, "gfid", Gfid(env, g));
      return o;
    }
    case GJ_DATA: {
      size_t n = gj_data_size(v.p);
      napi_value b = nullptr;
      void* d;
      napi_create_buffer(env, n, &d, &b);
      gj_data_copyout(v.p, d);
      return b;
    }
    case GJ_ENTRIES: {
      size_t n = gj_entries_count(v.p);
      std::vector<gj_dirent_view_t> views(n);
      gj_entries_views(v.p, views.data(), n);
      napi_value arr = nullptr;
      napi_create_array_with_length(env, n, &arr);
      for (size_t i = 0; i < n; i++) {
        napi_value o = Obj(env);
        Set(env, o, "name", Str(env, views[i].name));
        Set(env, o, "ino", BigU(env, views[i].ino));
        Set(env, o, "off", BigU(env, views[i].off));
        Set(env, o, "type", Num(env, views[i].type));
        Set(env, o, "stat", IattJs(env, views[i].stat));
        Set(env, o, "index", Num(env, static_cast<double>(i)));
        napi_set_element(env, arr, i, o);
      }
      if (rec) rec->entries = std::move(views);
      return arr;
    }
    case GJ_STATVFS: {
      gj_statvfs_t s;
      gj_view_statvfs(v.p, &s);
      napi_value o = Obj(env);
#define F(k) Set(env, o, #k, Num(env, static_cast<double>(s.k)));
      F(bsize) F(frsize) F(blocks) F(bfree) F(bavail) F(files) F(ffree) F(favail) F(fsid) F(flag) F(namemax)
#undef F
      return o;
    }
    case GJ_FLOCK: {
      gj_flock_view_t f;
      gj_view_flock(v.p, &f);
      napi_value o = Obj(env);
      Set(env, o, "type", Num(env, f.type));
      Set(env, o, "whence", Num(env, f.whence));
      Set(env, o, "start", Num(env, static_cast<double>(f.start)));
      Set(env, o, "len", Num(env, static_cast<double>(f.len)));
      Set(env, o, "pid", Num(env, f.pid));
      Set(env, o, "owner", Buf(env, f.owner, f.owner_len));
      return o;
    }
    case GJ_CHECKSUM: return Buf(env, v.p, 32);
    default: return Null(env);  // lease, locklist, opaque: passed through untouched
  }
}

// A JS value as a new held value of `kind` (owned by the caller).
bool FromJs(napi_env env, int kind, napi_value js, ReplyRec* rec, gj_val_t* out, const std::string& what) {
  napi_valuetype t = Type(env, js);
  out->p = nullptr;
  if (kind == GJ_NUM) {
    if (!GetInt(env, js, &out->i)) return Fail(env, what + ": expected a number");
    return true;
  }
  if (t == napi_null) return true;  // NULL pointer
  switch (kind) {
    case GJ_STR: {
      std::string s;
      if (t != napi_string || !GetString(env, js, &s)) return Fail(env, what + ": expected a string");
      out->p = gj_make_str(s.data(), s.size());
      return true;
    }
    case GJ_DATA:
    case GJ_CHECKSUM: {
      const void* p;
      size_t n;
      std::string hold;
      if (!GetBytes(env, js, &p, &n, &hold)) return Fail(env, what + ": expected a Buffer");
      out->p = kind == GJ_DATA ? gj_make_data(p, n) : gj_make_checksum(p, n);
      return true;
    }
    case GJ_IATT: {
      gj_iatt_t s;
      if (!ReadIatt(env, js, &s)) return Fail(env, what + ": expected an Iatt object (numeric fields, gfid a UUID string)");
      out->p = gj_make_iatt(&s);
      return true;
    }
    case GJ_STATVFS: {
      gj_statvfs_t s{};
      if (t != napi_object) return Fail(env, what + ": expected a Statvfs object");
#define F(k) if (!Prop(env, js, #k, &s.k)) return Fail(env, what + ": " #k " must be a number");
      F(bsize) F(frsize) F(blocks) F(bfree) F(bavail) F(files) F(ffree) F(favail) F(fsid) F(flag) F(namemax)
#undef F
      out->p = gj_make_statvfs(&s);
      return true;
    }
    case GJ_FLOCK: {
      // { type, whence, start, len, pid, owner }: l_type F_RDLCK 0, F_WRLCK 1, F_UNLCK 2
      gj_flock_view_t f{};
      uint64_t type, whence, pid;
      int64_t start = 0, len = 0;
      napi_value sv = nullptr, lv = nullptr, ov = nullptr;
      std::string hold;
      const void* owner = nullptr;
      size_t owner_len = 0;
      if (t != napi_object || !Prop(env, js, "type", &type) || !Prop(env, js, "whence", &whence) ||
          !Prop(env, js, "pid", &pid))
        return Fail(env, what + ": expected a Flock ({ type, whence, start, len, pid, owner })");
      napi_get_named_property(env, js, "start", &sv);
      napi_get_named_property(env, js, "len", &lv);
      if ((Type(env, sv) != napi_undefined && !GetInt(env, sv, &start)) ||
          (Type(env, lv) != napi_undefined && !GetInt(env, lv, &len)))
        return Fail(env, what + ": start and len must be integers");
      napi_get_named_property(env, js, "owner", &ov);
      if (Type(env, ov) != napi_undefined && (!GetBytes(env, ov, &owner, &owner_len, &hold) || owner_len > 1024))
        return Fail(env, what + ": owner must be a Buffer of at most 1024 bytes");
      f.type = static_cast<int32_t>(type);
      f.whence = static_cast<int32_t>(whence);
      f.pid = static_cast<int32_t>(pid);
      f.start = start;
      f.len = len;
      f.owner = static_cast<const char*>(owner);
      f.owner_len = owner_len;
      out->p = gj_make_flock(&f);
      if (!out->p) return Fail(env, what + ": out of memory");
      return true;
    }
    case GJ_DICT: {
      // [key, type, value, ...] as the runtime's Dict flattens it
      bool is;
      if (napi_is_array(env, js, &is) != napi_ok || !is) return Fail(env, what + ": expected a Dict");
      uint32_t n;
      napi_get_array_length(env, js, &n);
      void* d = gj_make_dict();
      for (uint32_t i = 0; i + 2 < n + 2 && i < n; i += 3) {
        napi_value k = nullptr, ty = nullptr, v = nullptr;
        napi_get_element(env, js, i, &k);
        napi_get_element(env, js, i + 1, &ty);
        napi_get_element(env, js, i + 2, &v);
        std::string key, hold;
        int64_t type;
        const void* p = nullptr;
        size_t len = 0;
        int64_t iv;
        uint64_t uv;
        double dv;
        uint8_t g[16];
        bool ok = GetString(env, k, &key) && GetInt(env, ty, &type);
        if (ok) switch (type) {
            case GJ_DV_INT: ok = GetInt(env, v, &iv); p = &iv; break;
            case GJ_DV_UINT: ok = GetU64(env, v, &uv); p = &uv; break;
            case GJ_DV_DOUBLE: ok = napi_get_value_double(env, v, &dv) == napi_ok; p = &dv; break;
            case GJ_DV_GFID: ok = GetString(env, v, &hold) && ParseUuid(hold, g); p = g; len = 16; break;
            case GJ_DV_STR: ok = GetString(env, v, &hold); p = hold.data(); len = hold.size(); break;
            default: ok = GetBytes(env, v, &p, &len, &hold);
          }
        if (!ok || len > GJ_DICT_VALUE_MAX || gj_dict_put(d, key.c_str(), static_cast<int>(type), p, len) != 0) {
          gj_val_t dv2;
          dv2.p = d;
          gj_val_release(GJ_DICT, dv2);
          return Fail(env, what + ": bad value for key '" + key + "'" +
                               (ok && len > GJ_DICT_VALUE_MAX ? " (a dict value holds at most 1 MB)" : ""));
        }
      }
      out->p = d;
      return true;
    }
    case GJ_ENTRIES: {
      bool is;
      if (napi_is_array(env, js, &is) != napi_ok || !is) return Fail(env, what + ": expected an array of DirEntry");
      uint32_t n;
      napi_get_array_length(env, js, &n);
      void* list = gj_make_entries();
      for (uint32_t i = 0; i < n; i++) {
        napi_value e = nullptr, name = nullptr, stat = nullptr;
        napi_get_element(env, js, i, &e);
        std::string nm;
        gj_dirent_view_t dv{};
        uint64_t idx = UINT64_MAX, ino, off, type;
        napi_value iv = nullptr;
        bool ok = Type(env, e) == napi_object && napi_get_named_property(env, e, "name", &name) == napi_ok &&
                  Type(env, name) == napi_string && GetString(env, name, &nm) && !nm.empty() &&
                  nm.find('/') == std::string::npos && Prop(env, e, "ino", &ino) && Prop(env, e, "off", &off) &&
                  Prop(env, e, "type", &type);
        if (ok && napi_get_named_property(env, e, "index", &iv) == napi_ok && Type(env, iv) == napi_number)
          GetU64(env, iv, &idx);
        if (ok && napi_get_named_property(env, e, "stat", &stat) == napi_ok && Type(env, stat) == napi_object) {
          ok = ReadIatt(env, stat, &dv.stat);
          dv.has_stat = 1;
        }
        if (!ok) {
          gj_val_t lv;
          lv.p = list;
          gj_val_release(GJ_ENTRIES, lv);
          return Fail(env, what + "[" + std::to_string(i) + "]: expected {name, ino, off, type, stat}");
        }
        dv.name = nm.c_str();
        dv.ino = ino;
        dv.off = off;
        dv.type = static_cast<uint32_t>(type);
        if (rec && idx < rec->entries.size() && nm == rec->entries[idx].name) {
          dv.inode = rec->entries[idx].inode;  // keep what GlusterFS linked
          dv.xdata = rec->entries[idx].xdata;
        }
        gj_entries_add(list, &dv);
      }
      out->p = list;
      return true;
    }
    default:
      return Fail(env, what + ": this field cannot be replaced from JS; leave it out to keep it");
  }
}

std::string FieldName(int code, bool reply, int i) {
  if (code < static_cast<int>(tls_names.size())) {
    auto& v = reply ? tls_names[code].reply : tls_names[code].args;
    if (i < static_cast<int>(v.size())) return std::string(gj_fop_name(code)) + (reply ? " reply." : " ") + v[i];
  }
  return std::string(gj_fop_name(code)) + (reply ? " reply field " : " argument ") + std::to_string(i);
}

// Builds the values for a wind (reply == false) or unwind; fields[i] undefined = keep.
bool Collect(napi_env env, OpRec* r, ReplyRec* rep, bool reply, napi_value fields, gj_val_t* vals, bool* owned,
             int* count) {
  const unsigned char* kinds;
  int code = gj_op_fop(r->op);
  int n = gj_fop_kinds(code, reply, &kinds);
  bool have = Type(env, fields) == napi_object;
  int64_t op_ret = 0;
  *count = n;
  for (int i = 0; i < n; i++) {
    napi_value v = nullptr;
    owned[i] = false;
    if (have) napi_get_element(env, fields, i, &v);
    if (v && Type(env, v) != napi_undefined) {
      if (!FromJs(env, kinds[i], v, rep, &vals[i], FieldName(code, reply, i))) {
        for (int j = 0; j < i; j++)
          if (owned[j]) gj_val_release(kinds[j], vals[j]);
        return false;
      }
      owned[i] = kinds[i] != GJ_NUM;
      // A wind passes its arguments to a child that dereferences them (a NULL
      // fd or loc crashes protocol/client): null is an argument only where the
      // op's own is null too (getxattr's name for a listing), or for a dict.
      if (!reply && !vals[i].p && kinds[i] != GJ_NUM && kinds[i] != GJ_DICT && gj_op_arg(r->op, i).p) {
        for (int j = 0; j < i; j++)
          if (owned[j]) gj_val_release(kinds[j], vals[j]);
        napi_throw_type_error(env, "ERR_GLUJS_WIND",
                              (FieldName(code, reply, i) + ": null cannot be wound; leave it out to keep the op's own").c_str());
        return false;
      }
    } else if (!reply) {
      vals[i] = gj_op_arg(r->op, i);
    } else if (rep) {
      vals[i] = gj_reply_val(rep->reply, i);
    } else {
      vals[i].p = nullptr;  // a reply JS made up: what it left out is filled below
      if (kinds[i] == GJ_NUM) vals[i].i = 0;
    }
    if (reply && i == 0) op_ret = vals[0].i;
  }
  // A success reply must not hand a parent a NULL it dereferences (fuse-bridge
  // binds a create's fd, links its inode): a field left out, or given as null,
  // comes from the op's own arguments, or is a zeroed value of its kind.
  for (int i = 1; reply && op_ret >= 0 && i < n; i++) {
    if (kinds[i] == GJ_NUM || kinds[i] == GJ_DICT || vals[i].p) continue;
    owned[i] = false;  // a null from JS owns nothing; what is lent below is borrowed
    if (kinds[i] == GJ_INODE) vals[i].p = gj_op_inode(r->op);
    else if (kinds[i] == GJ_FD || kinds[i] == GJ_FLOCK || kinds[i] == GJ_LEASE)
      vals[i].p = gj_op_first_arg(r->op, kinds[i]);
    if (!vals[i].p) {
      vals[i].p = gj_make_zero(kinds[i]);
      owned[i] = vals[i].p != nullptr;
    }
    if (!vals[i].p && (kinds[i] == GJ_FD || kinds[i] == GJ_INODE)) {
      for (int j = 0; j < n; j++)
        if (owned[j]) gj_val_release(kinds[j], vals[j]);
      napi_throw_type_error(env, "ERR_GLUJS_REPLY",
                            (FieldName(code, reply, i) + ": a success reply needs it, and the op has none to lend").c_str());
      return false;
    }
  }
  // An entry fop's success (lookup, create, mkdir, mknod, symlink, link: an
  // inode, then its iatt) makes the parent link the inode under the iatt's
  // gfid; a null gfid makes fuse-bridge bind a NULL inode and crash.
  for (int i = 1; reply && op_ret >= 0 && i + 1 < n; i++) {
    if (kinds[i] != GJ_INODE || kinds[i + 1] != GJ_IATT || !vals[i + 1].p) continue;
    gj_iatt_t ia;
    gj_view_iatt(vals[i + 1].p, &ia);
    static const uint8_t zero[16] = {0};
    if (memcmp(ia.gfid, zero, 16) != 0) continue;
    for (int j = 0; j < n; j++)
      if (owned[j]) gj_val_release(kinds[j], vals[j]);
    napi_throw_type_error(env, "ERR_GLUJS_REPLY",
                          (FieldName(code, reply, i + 1) +
                           ": a success needs the entry's iatt with its gfid (return the child's reply, or fail)").c_str());
    return false;
  }
  return true;
}

namespace {

// A gfid property of object o ("" or absent: the null gfid). false: not a UUID.
bool GfidProp(napi_env env, napi_value o, const char* k, uint8_t* g) {
  napi_value v = nullptr;
  memset(g, 0, 16);
  if (napi_get_named_property(env, o, k, &v) != napi_ok) return false;
  napi_valuetype t = Type(env, v);
  if (t == napi_undefined || t == napi_null) return true;
  std::string s;
  return t == napi_string && GetString(env, v, &s) && (s.empty() || ParseUuid(s, g));
}

// The value at [isReply, handle, index] when that op or reply is still held: a new reference.
void* FromSource(napi_env env, Instance* inst, int kind, napi_value src) {
  bool is = false;
  if (!src || napi_is_array(env, src, &is) != napi_ok || !is) return nullptr;
  napi_value e[3] = {};
  double v[3] = {-1, -1, -1};
  for (uint32_t i = 0; i < 3; i++) {
    napi_get_element(env, src, i, &e[i]);
    napi_get_value_double(env, e[i], &v[i]);
  }
  gj_val_t val{};
  const unsigned char* kinds;
  int n, i = static_cast<int>(v[2]);
  if (v[0] == 1) {
    ReplyRec* r = inst->replies.Get(v[1]);
    if (!r) return nullptr;
    n = gj_fop_kinds(gj_op_fop(gj_reply_op(r->reply)), 1, &kinds);
    if (i < 0 || i >= n || kinds[i] != kind) return nullptr;
    val = gj_reply_val(r->reply, i);
  } else {
    OpRec* r = inst->ops.Get(v[1]);
    if (!r || gj_op_done(r->op)) return nullptr;
    n = gj_fop_kinds(gj_op_fop(r->op), 0, &kinds);
    if (i < 0 || i >= n || kinds[i] != kind) return nullptr;
    val = gj_op_arg(r->op, i);
  }
  return val.p ? gj_hold_ref(kind, val.p) : nullptr;
}

// A loc, fd or inode for an originated fop: from where JS got it (src), else
// found by the gfids and name the object carries.
bool RefFromJs(napi_env env, Instance* inst, int kind, napi_value js, napi_value src, gj_val_t* out,
               const std::string& what) {
  out->p = FromSource(env, inst, kind, src);
  if (out->p) return true;
  if (Type(env, js) != napi_object) {
    return Fail(env, what + (kind == GJ_LOC   ? ": expected a loc ({ path }, { gfid }, { pargfid, name }, or a Loc)"
                             : kind == GJ_FD ? ": expected an Fd (from an op or a reply)"
                                             : ": expected an inode ({ gfid })"));
  }
  char err[256] = "";
  uint8_t gfid[16], pargfid[16];
  if (!GfidProp(env, js, "gfid", gfid)) return Fail(env, what + ": gfid must be a UUID string");
  if (kind == GJ_LOC) {
    std::string name;
    napi_value nv = nullptr;
    napi_get_named_property(env, js, "name", &nv);
    napi_valuetype nt = Type(env, nv);
    if (nt != napi_undefined && nt != napi_null && (nt != napi_string || !GetString(env, nv, &name)))
      return Fail(env, what + ": name must be a string");
    if (!GfidProp(env, js, "pargfid", pargfid)) return Fail(env, what + ": pargfid must be a UUID string");
    out->p = gj_make_loc(inst->xl, gfid, pargfid, name.c_str(), err, sizeof(err));
  } else if (kind == GJ_FD) {
    uint64_t id = 0;
    if (!Prop(env, js, "id", &id)) return Fail(env, what + ": id must be a number");
    out->p = gj_find_fd(inst->xl, gfid, id, err, sizeof(err));
  } else {
    out->p = gj_find_inode(inst->xl, gfid, err, sizeof(err));
  }
  if (!out->p) {
    napi_throw_error(env, "ESTALE", (what + ": " + err).c_str());
    return false;
  }
  return true;
}

}  // namespace

bool CollectOrigin(napi_env env, Instance* inst, int code, napi_value fields, napi_value sources, gj_val_t* vals,
                   int* count) {
  const unsigned char* kinds;
  int n = gj_fop_kinds(code, 0, &kinds);
  bool have = Type(env, fields) == napi_object, have_src = Type(env, sources) == napi_object;
  *count = n < 0 ? 0 : n;
  for (int i = 0; i < n; i++) {
    napi_value v = nullptr, src = nullptr;
    if (have) napi_get_element(env, fields, i, &v);
    if (have_src) napi_get_element(env, sources, i, &src);
    napi_valuetype t = v ? Type(env, v) : napi_undefined;
    bool ok;
    vals[i].p = nullptr;
    if (kinds[i] == GJ_LOC || kinds[i] == GJ_FD || kinds[i] == GJ_INODE) {
      // left out: NULL; gj_originate makes the fd open, create and opendir open, and refuses the rest
      ok = t == napi_undefined || t == napi_null || RefFromJs(env, inst, kinds[i], v, src, &vals[i], FieldName(code, false, i));
    } else if (t == napi_undefined) {
      ok = true;  // GlusterFS's defaults: 0, NULL (no xdata, no name)
      if (kinds[i] == GJ_NUM) vals[i].i = 0;
    } else {
      ok = FromJs(env, kinds[i], v, nullptr, &vals[i], FieldName(code, false, i));
    }
    if (!ok) {
      for (int j = 0; j < i; j++) gj_val_release(kinds[j], vals[j]);
      return false;
    }
  }
  return true;
}

void Release(const unsigned char* kinds, int n, gj_val_t* vals, bool* owned) {
  for (int i = 0; i < n; i++)
    if (owned[i]) gj_val_release(kinds[i], vals[i]);
}

}  // namespace glujs
