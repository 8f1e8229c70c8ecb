// binding.cc: what the runtime (lib/runtime.ts) sees as process._linkedBinding('glujs'):
// fops arriving, values converted kind by kind, winds and unwinds going back.
// Raw N-API on purpose: these functions may run while the isolate is being
// terminated (watchdog, process.exit), where node-addon-api's error objects abort.
#include <cstring>
#include <string>

#include "instance.h"

namespace glujs {

Instance* CurrentInstance();  // embed.cc

namespace {

struct Names {
  std::vector<std::string> args, reply;
};
thread_local std::vector<Names> tls_names;  // field names by fop code (for messages)

napi_value Undefined(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}
napi_value Null(napi_env env) {
  napi_value v;
  napi_get_null(env, &v);
  return v;
}
napi_value Num(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}
napi_value Str(napi_env env, const char* s, size_t len = NAPI_AUTO_LENGTH) {
  napi_value v;
  if (!s) return Null(env);
  napi_create_string_utf8(env, s, len, &v);
  return v;
}
napi_value BigU(napi_env env, uint64_t u) {
  napi_value v;
  napi_create_bigint_uint64(env, u, &v);
  return v;
}
napi_value Buf(napi_env env, const void* p, size_t n) {
  napi_value v;
  void* data;
  napi_create_buffer_copy(env, n, p ? p : "", &data, &v);
  return v;
}
void Set(napi_env env, napi_value o, const char* k, napi_value v) { napi_set_named_property(env, o, k, v); }
napi_value Obj(napi_env env) {
  napi_value o;
  napi_create_object(env, &o);
  return o;
}

std::string Uuid(const uint8_t* g) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += hex[g[i] >> 4];
    s += hex[g[i] & 15];
  }
  return s;
}
napi_value Gfid(napi_env env, const uint8_t* g) { return Str(env, Uuid(g).c_str()); }

bool ParseUuid(const std::string& s, uint8_t* out) {
  size_t j = 0;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '-') continue;
    int v = isdigit(s[i]) ? s[i] - '0' : (tolower(s[i]) >= 'a' && tolower(s[i]) <= 'f') ? tolower(s[i]) - 'a' + 10 : -1;
    if (v < 0 || j >= 32) return false;
    out[j / 2] = (j % 2) ? (out[j / 2] | v) : static_cast<uint8_t>(v << 4);
    j++;
  }
  return j == 32;
}

// ---- reading JS values (false + a pending TypeError on bad input) ----
bool Fail(napi_env env, const std::string& msg) {
  napi_throw_type_error(env, nullptr, msg.c_str());
  return false;
}

bool GetString(napi_env env, napi_value v, std::string* out) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) return false;
  out->resize(len);
  napi_get_value_string_utf8(env, v, &(*out)[0], len + 1, &len);
  return true;
}

napi_valuetype Type(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t;
}

bool GetInt(napi_env env, napi_value v, int64_t* out) {
  switch (Type(env, v)) {
    case napi_number: {
      double d;
      napi_get_value_double(env, v, &d);
      if (d != d || d == 1.0 / 0.0 || d == -1.0 / 0.0) return false;
      *out = static_cast<int64_t>(d);
      return true;
    }
    case napi_bigint: {
      bool lossless;
      return napi_get_value_bigint_int64(env, v, out, &lossless) == napi_ok;
    }
    case napi_boolean: {
      bool b;
      napi_get_value_bool(env, v, &b);
      *out = b;
      return true;
    }
    default:
      return false;
  }
}

bool GetU64(napi_env env, napi_value v, uint64_t* out) {
  if (Type(env, v) == napi_bigint) {
    bool lossless;
    return napi_get_value_bigint_uint64(env, v, out, &lossless) == napi_ok;
  }
  int64_t i;
  if (!GetInt(env, v, &i)) return false;
  *out = static_cast<uint64_t>(i);
  return true;
}

// A numeric property; absent or undefined reads as 0.
bool Prop(napi_env env, napi_value o, const char* k, uint64_t* out) {
  napi_value v;
  if (napi_get_named_property(env, o, k, &v) != napi_ok) return false;
  napi_valuetype t = Type(env, v);
  if (t == napi_undefined || t == napi_null) {
    *out = 0;
    return true;
  }
  return GetU64(env, v, out);
}

bool GetBytes(napi_env env, napi_value v, const void** p, size_t* n, std::string* hold) {
  bool is;
  if (napi_is_buffer(env, v, &is) == napi_ok && is) {
    void* d;
    napi_get_buffer_info(env, v, &d, n);
    *p = d;
    return true;
  }
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type t;
    size_t len, off;
    void* d;
    napi_value ab;
    napi_get_typedarray_info(env, v, &t, &len, &d, &ab, &off);
    *p = d;
    *n = len;  // Uint8Array is what is meant; other views are read as bytes too
    if (t != napi_uint8_array && t != napi_uint8_clamped_array && t != napi_int8_array) return false;
    return true;
  }
  if (Type(env, v) == napi_string && GetString(env, v, hold)) {
    *p = hold->data();
    *n = hold->size();
    return true;
  }
  return false;
}

bool ReadIatt(napi_env env, napi_value o, gj_iatt_t* st) {
  memset(st, 0, sizeof(*st));
  if (Type(env, o) != napi_object) return false;
  napi_value g;
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

void DictItem(void* ctx, const char* key, int type, const void* data, size_t len) {
  auto* c = static_cast<std::pair<napi_env, napi_value>*>(ctx);
  napi_env env = c->first;
  napi_value v;
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
      napi_value arr;
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
      napi_value b;
      void* d;
      napi_create_buffer(env, n, &d, &b);
      gj_data_copyout(v.p, d);
      return b;
    }
    case GJ_ENTRIES: {
      size_t n = gj_entries_count(v.p);
      std::vector<gj_dirent_view_t> views(n);
      gj_entries_views(v.p, views.data(), n);
      napi_value arr;
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
    case GJ_DICT: {
      // [key, type, value, ...] as the runtime's Dict flattens it
      bool is;
      if (napi_is_array(env, js, &is) != napi_ok || !is) return Fail(env, what + ": expected a Dict");
      uint32_t n;
      napi_get_array_length(env, js, &n);
      void* d = gj_make_dict();
      for (uint32_t i = 0; i + 2 < n + 2 && i < n; i += 3) {
        napi_value k, ty, v;
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
        if (!ok || gj_dict_put(d, key.c_str(), static_cast<int>(type), p, len) != 0) {
          gj_val_t dv2;
          dv2.p = d;
          gj_val_release(GJ_DICT, dv2);
          return Fail(env, what + ": bad value for key '" + key + "'");
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
        napi_value e, name, stat;
        napi_get_element(env, js, i, &e);
        std::string nm;
        gj_dirent_view_t dv{};
        uint64_t idx = UINT64_MAX, ino, off, type;
        napi_value iv;
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

// ---- binding functions ----
struct CbInfo {
  size_t argc = 4;
  napi_value argv[4];
};
bool Args(napi_env env, napi_callback_info info, CbInfo* a) {
  return napi_get_cb_info(env, info, &a->argc, a->argv, nullptr, nullptr) == napi_ok;
}

OpRec* GetOp(napi_env env, Instance* inst, napi_value h) {
  double d = -1;
  napi_get_value_double(env, h, &d);
  OpRec* r = inst->ops.Get(d);
  if (!r) napi_throw_error(env, "ERR_GLUJS_OP_DONE", "this op has already completed");
  return r;
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

void Release(const unsigned char* kinds, int n, gj_val_t* vals, bool* owned) {
  for (int i = 0; i < n; i++)
    if (owned[i]) gj_val_release(kinds[i], vals[i]);
}

#define INST()                          \
  Instance* inst = CurrentInstance();   \
  CbInfo a;                             \
  if (!inst || !Args(env, info, &a)) return nullptr;

napi_value JsArg(napi_env env, napi_callback_info info) {
  INST();
  OpRec* r = GetOp(env, inst, a.argv[0]);
  if (!r) return nullptr;
  int64_t i;
  const unsigned char* kinds;
  int n = gj_fop_kinds(gj_op_fop(r->op), 0, &kinds);
  if (!GetInt(env, a.argv[1], &i) || i < 0 || i >= n) return Undefined(env);
  return ToJs(env, kinds[i], gj_op_arg(r->op, static_cast<int>(i)), nullptr);
}

napi_value JsCaller(napi_env env, napi_callback_info info) {
  INST();
  OpRec* r = GetOp(env, inst, a.argv[0]);
  if (!r) return nullptr;
  gj_caller_t c;
  if (gj_op_caller(r->op, &c) != 0) {
    napi_throw_error(env, "ERR_GLUJS_OP_DONE", "this op has already completed");
    return nullptr;
  }
  napi_value o = Obj(env), groups;
  Set(env, o, "uid", Num(env, c.uid));
  Set(env, o, "gid", Num(env, c.gid));
  Set(env, o, "pid", Num(env, c.pid));
  napi_create_array(env, &groups);
  for (uint32_t i = 0; i < c.ngroups && i < 32; i++) napi_set_element(env, groups, i, Num(env, c.groups[i]));
  Set(env, o, "groups", groups);
  if (c.client[0]) Set(env, o, "client", Str(env, c.client));
  return o;
}

napi_value JsReplyField(napi_env env, napi_callback_info info) {
  INST();
  double h = -1;
  napi_get_value_double(env, a.argv[0], &h);
  ReplyRec* rep = inst->replies.Get(h);
  if (!rep) {
    napi_throw_error(env, "ERR_GLUJS_OP_DONE", "this reply belongs to an op that has already completed");
    return nullptr;
  }
  int64_t i;
  const unsigned char* kinds;
  int n = gj_fop_kinds(gj_op_fop(gj_reply_op(rep->reply)), 1, &kinds);
  if (!GetInt(env, a.argv[1], &i) || i < 0 || i >= n) return Undefined(env);
  return ToJs(env, kinds[i], gj_reply_val(rep->reply, static_cast<int>(i)), rep);
}

// wind(op, overrides, cookie) / forward(op, overrides)
napi_value WindOrForward(napi_env env, napi_callback_info info, bool forward) {
  INST();
  OpRec* r = GetOp(env, inst, a.argv[0]);
  if (!r) return nullptr;
  gj_val_t vals[GJ_MAX_VALS];
  bool owned[GJ_MAX_VALS];
  int n;
  if (!Collect(env, r, nullptr, false, a.argv[1], vals, owned, &n)) return nullptr;
  int64_t cookie = 0;
  if (!forward) GetInt(env, a.argv[2], &cookie);
  int rc = forward ? gj_op_forward(r->op, vals) : gj_op_wind(r->op, vals, static_cast<uint64_t>(cookie));
  const unsigned char* kinds;
  gj_fop_kinds(gj_op_fop(r->op), 0, &kinds);
  Release(kinds, n, vals, owned);
  if (rc == -1) napi_throw_error(env, "ERR_GLUJS_OP_DONE", "this op has already completed");
  else if (rc != 0) napi_throw_error(env, "ENOMEM", "cannot wind: out of memory");
  return rc == 0 ? Undefined(env) : nullptr;
}
napi_value JsWind(napi_env env, napi_callback_info info) { return WindOrForward(env, info, false); }
napi_value JsForward(napi_env env, napi_callback_info info) { return WindOrForward(env, info, true); }

// unwind(op, reply | -1, fields) -> true, or false when the op had already completed
napi_value JsUnwind(napi_env env, napi_callback_info info) {
  INST();
  OpRec* r = GetOp(env, inst, a.argv[0]);
  if (!r) return nullptr;
  double h = -1;
  napi_get_value_double(env, a.argv[1], &h);
  ReplyRec* rep = h >= 0 ? inst->replies.Get(h) : nullptr;
  if (rep && gj_reply_op(rep->reply) != r->op) rep = nullptr;
  gj_val_t vals[GJ_MAX_VALS];
  bool owned[GJ_MAX_VALS];
  int n;
  if (!Collect(env, r, rep, true, a.argv[2], vals, owned, &n)) return nullptr;
  int rc = gj_op_unwind(r->op, vals);
  const unsigned char* kinds;
  gj_fop_kinds(gj_op_fop(r->op), 1, &kinds);
  Release(kinds, n, vals, owned);
  napi_value res;
  napi_get_boolean(env, rc == 0, &res);
  return res;
}

// fail(op, errno, why?) -> true, or false when already completed
napi_value JsFail(napi_env env, napi_callback_info info) {
  INST();
  OpRec* r = GetOp(env, inst, a.argv[0]);
  if (!r) return nullptr;
  int64_t err;
  if (!GetInt(env, a.argv[1], &err) || err <= 0) err = EIO;
  std::string why;
  bool have_why = a.argc > 2 && Type(env, a.argv[2]) == napi_string && GetString(env, a.argv[2], &why);
  napi_value res;
  napi_get_boolean(env, gj_op_fail(r->op, static_cast<int>(err), have_why ? why.c_str() : nullptr) == 0, &res);
  return res;
}

// release(op, [replyIds]): JS is done with the op; drop its references.
napi_value JsRelease(napi_env env, napi_callback_info info) {
  INST();
  double h = -1;
  napi_get_value_double(env, a.argv[0], &h);
  bool is = false;
  if (a.argc > 1) napi_is_array(env, a.argv[1], &is);
  if (is) {
    uint32_t n;
    napi_get_array_length(env, a.argv[1], &n);
    for (uint32_t i = 0; i < n; i++) {
      napi_value v;
      double rh = -1;
      napi_get_element(env, a.argv[1], i, &v);
      napi_get_value_double(env, v, &rh);
      if (ReplyRec* rep = inst->replies.Take(rh)) {
        gj_reply_free(rep->reply);
        delete rep;
      }
    }
  }
  if (OpRec* r = inst->ops.Take(h)) {
    gj_op_unref(r->op);
    delete r;
  }
  return Undefined(env);
}

napi_value JsLog(napi_env env, napi_callback_info info) {
  INST();
  int64_t level = GJ_LOG_INFO;
  std::string msg;
  GetInt(env, a.argv[0], &level);
  if (GetString(env, a.argv[1], &msg)) gj_log(inst->xl, static_cast<int>(level), msg.c_str());
  return Undefined(env);
}

napi_value JsFiniDone(napi_env env, napi_callback_info info) {
  INST();
  std::lock_guard<std::mutex> lk(inst->mu);
  inst->fini_done = true;
  inst->cv.notify_all();
  return Undefined(env);
}

// handoffDone(state: Buffer | null)
napi_value JsHandoffDone(napi_env env, napi_callback_info info) {
  INST();
  const void* p = nullptr;
  size_t n = 0;
  std::string hold;
  bool have = a.argc > 0 && Type(env, a.argv[0]) == napi_object && GetBytes(env, a.argv[0], &p, &n, &hold);
  std::lock_guard<std::mutex> lk(inst->mu);
  inst->handoff_out.assign(have ? static_cast<const char*>(p) : "", have ? n : 0);
  inst->handoff_ready = true;
  inst->cv.notify_all();
  return Undefined(env);
}

napi_value JsPublish(napi_env env, napi_callback_info info) {
  INST();
  std::string s;
  if (GetString(env, a.argv[0], &s)) {
    std::lock_guard<std::mutex> lk(inst->mu);
    inst->published = std::move(s);
  }
  return Undefined(env);
}

napi_value JsConfig(napi_env env, napi_callback_info info) {
  INST();
  napi_value o = Obj(env), opts;
  Set(env, o, "name", Str(env, inst->name.c_str()));
  Set(env, o, "module", Str(env, inst->module.c_str()));
  Set(env, o, "restarts", Num(env, static_cast<double>(inst->restarts)));
  napi_create_array(env, &opts);
  uint32_t i = 0;
  for (auto& kv : inst->options) {
    napi_value pair;
    napi_create_array(env, &pair);
    napi_set_element(env, pair, 0, Str(env, kv.first.c_str()));
    napi_set_element(env, pair, 1, Str(env, kv.second.c_str()));
    napi_set_element(env, opts, i++, pair);
  }
  Set(env, o, "options", opts);
  if (!inst->handoff_in.empty()) Set(env, o, "handoff", Buf(env, inst->handoff_in.data(), inst->handoff_in.size()));
  return o;
}

// attach(callbacks, names): callbacks = {onFop, onReply, onEvent, onExpired};
// names[code] = [argNames, replyNames] (for error messages).
napi_value JsAttach(napi_env env, napi_callback_info info) {
  INST();
  if (Type(env, a.argv[0]) != napi_object || inst->callbacks) return Undefined(env);  // once per env
  napi_create_reference(env, a.argv[0], 1, &inst->callbacks);
  inst->callbacks_env = env;
  bool is = false;
  napi_is_array(env, a.argv[1], &is);
  tls_names.assign(GJ_FOP_MAX, {});
  uint32_t n = 0;
  if (is) napi_get_array_length(env, a.argv[1], &n);
  for (uint32_t code = 0; code < n && code < GJ_FOP_MAX; code++) {
    napi_value pair;
    napi_get_element(env, a.argv[1], code, &pair);
    if (Type(env, pair) != napi_object) continue;
    for (int side = 0; side < 2; side++) {
      napi_value list;
      uint32_t m = 0;
      napi_get_element(env, pair, side, &list);
      napi_get_array_length(env, list, &m);
      for (uint32_t j = 0; j < m; j++) {
        napi_value s;
        std::string str;
        napi_get_element(env, list, j, &s);
        GetString(env, s, &str);
        (side ? tls_names[code].reply : tls_names[code].args).push_back(str);
      }
    }
  }
  inst->tsfn = Tsfn::New(env, "glujs", 0, 1, inst);
  return Undefined(env);
}

// loaded(error | null, handledCodes[], eventTypes[])
napi_value JsLoaded(napi_env env, napi_callback_info info) {
  INST();
  std::string err;
  bool failed = Type(env, a.argv[0]) == napi_string && GetString(env, a.argv[0], &err);
  std::lock_guard<std::mutex> lk(inst->mu);
  if (inst->state != Instance::kLoading) return Undefined(env);
  for (int side = 1; side <= 2 && !failed; side++) {
    bool is = false;
    napi_is_array(env, a.argv[side], &is);
    uint32_t n = 0;
    if (is) napi_get_array_length(env, a.argv[side], &n);
    for (uint32_t i = 0; i < n; i++) {
      napi_value v;
      int64_t c;
      napi_get_element(env, a.argv[side], i, &v);
      if (!GetInt(env, v, &c)) continue;
      if (side == 1 && c > 0 && c < GJ_FOP_MAX) inst->handled[c] = 1;
      if (side == 2 && c >= 0 && c < GJ_EV_MAX) inst->events[c] = 1;
    }
  }
  if (failed) {
    inst->load_error = err;
    inst->state = Instance::kFailed;
    node::Stop(inst->env);
  } else {
    inst->state = Instance::kRunning;
    inst->accepting = inst->callbacks != nullptr;
    if (inst->accepting) ResumeHeld(inst);  // fops that arrived during a restart, in order
  }
  inst->cv.notify_all();
  return Undefined(env);
}

bool GfidArg(napi_env env, napi_value v, uint8_t* g) {
  std::string s;
  if (!GetString(env, v, &s) || !ParseUuid(s, g)) return Fail(env, "expected a gfid (UUID string)");
  return true;
}

napi_value JsFastGen(napi_env env, napi_callback_info info) {
  INST();
  return BigU(env, gj_fast_gen(inst->xl));
}

// fastNegative(pargfid, name, gen, ttlMs)
napi_value JsFastNegative(napi_env env, napi_callback_info info) {
  INST();
  uint8_t g[16];
  std::string name;
  uint64_t gen, ttl;
  if (!GfidArg(env, a.argv[0], g)) return nullptr;
  if (!GetString(env, a.argv[1], &name) || !GetU64(env, a.argv[2], &gen) || !GetU64(env, a.argv[3], &ttl)) {
    Fail(env, "fastNegative(pargfid, name, gen, ttlMs)");
    return nullptr;
  }
  gj_fast_add_negative(inst->xl, g, name.c_str(), gen, static_cast<uint32_t>(ttl));
  return Undefined(env);
}

// fastComplete(pargfid, names[], gen, ttlMs)
napi_value JsFastComplete(napi_env env, napi_callback_info info) {
  INST();
  uint8_t g[16];
  uint64_t gen, ttl;
  bool is = false;
  if (!GfidArg(env, a.argv[0], g)) return nullptr;
  napi_is_array(env, a.argv[1], &is);
  if (!is || !GetU64(env, a.argv[2], &gen) || !GetU64(env, a.argv[3], &ttl)) {
    Fail(env, "fastComplete(pargfid, names, gen, ttlMs)");
    return nullptr;
  }
  uint32_t n;
  napi_get_array_length(env, a.argv[1], &n);
  std::string packed;
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    std::string s;
    napi_get_element(env, a.argv[1], i, &v);
    if (!GetString(env, v, &s)) continue;
    packed += s;
    packed += '\0';
  }
  gj_fast_set_complete(inst->xl, g, packed.data(), packed.size(), gen, static_cast<uint32_t>(ttl));
  return Undefined(env);
}

// fastInvalidate(pargfid?, name?): no pargfid = everything
napi_value JsFastInvalidate(napi_env env, napi_callback_info info) {
  INST();
  if (a.argc < 1 || Type(env, a.argv[0]) != napi_string) {
    gj_fast_invalidate_all(inst->xl);
    return Undefined(env);
  }
  uint8_t g[16];
  if (!GfidArg(env, a.argv[0], g)) return nullptr;
  std::string name;
  bool have = a.argc > 1 && Type(env, a.argv[1]) == napi_string && GetString(env, a.argv[1], &name);
  gj_fast_invalidate(inst->xl, g, have ? name.c_str() : nullptr);
  return Undefined(env);
}

// fastLearn(ttlMs, maxNames): 0 turns the rule off
napi_value JsFastLearn(napi_env env, napi_callback_info info) {
  INST();
  uint64_t ttl = 0, max = 0;
  GetU64(env, a.argv[0], &ttl);
  if (a.argc > 1) GetU64(env, a.argv[1], &max);
  gj_fast_learn(inst->xl, static_cast<uint32_t>(ttl), max);
  return Undefined(env);
}

napi_value JsFastStats(napi_env env, napi_callback_info info) {
  INST();
  gj_fast_stats_t s;
  gj_fast_stats(inst->xl, &s);
  napi_value o = Obj(env);
#define SET_COUNTER(name, desc) Set(env, o, #name, Num(env, static_cast<double>(s.name)));
  GJ_FAST_COUNTERS(SET_COUNTER)
#undef SET_COUNTER
  return o;
}

void Call(napi_env env, Instance* inst, const char* name, size_t argc, napi_value* argv) {
  napi_value cbs, fn, global, res;
  if (!inst->callbacks || napi_get_reference_value(env, inst->callbacks, &cbs) != napi_ok || !cbs) return;
  if (napi_get_named_property(env, cbs, name, &fn) != napi_ok) return;
  napi_get_global(env, &global);
  if (napi_call_function(env, global, fn, argc, argv, &res) == napi_pending_exception) {
    napi_value e;
    napi_get_and_clear_last_exception(env, &e);  // the runtime catches its own; this is the terminating case
  }
}

}  // namespace

void CallJs(Napi::Env napienv, Napi::Function, Instance* inst, Message* m) {
  napi_env env = napienv;
  if (!env || !inst->callbacks) {  // the environment is going away: just let go
    switch (m->kind) {
      case Message::kOp:
      case Message::kExpired: gj_op_unref(static_cast<gj_op_t*>(m->ptr)); break;
      case Message::kReply: gj_reply_free(static_cast<gj_reply_t*>(m->ptr)); break;
      case Message::kFini:
      case Message::kHandoff: {
        std::lock_guard<std::mutex> lk(inst->mu);
        (m->kind == Message::kFini ? inst->fini_done : inst->handoff_ready) = true;
        inst->cv.notify_all();
        break;
      }
      default: break;
    }
    delete m;
    return;
  }
  switch (m->kind) {
    case Message::kOp: {
      auto* op = static_cast<gj_op_t*>(m->ptr);
      if (gj_op_done(op)) {
        gj_op_unref(op);
        break;
      }
      double h = inst->ops.Put(new OpRec{op});
      gj_op_set_tag(op, h);
      napi_value argv[2] = {Num(env, h), Num(env, gj_op_fop(op))};
      Call(env, inst, "onFop", 2, argv);
      break;
    }
    case Message::kReply: {
      auto* r = static_cast<gj_reply_t*>(m->ptr);
      if (gj_op_done(gj_reply_op(r))) {
        gj_reply_free(r);
        break;
      }
      double h = inst->replies.Put(new ReplyRec{r, {}});
      napi_value argv[2] = {Num(env, static_cast<double>(gj_reply_cookie(r))), Num(env, h)};
      Call(env, inst, "onReply", 2, argv);
      break;
    }
    case Message::kEvent: {
      const gj_event_t& ev = m->ev;
      napi_value argv[5] = {Num(env, ev.type), Gfid(env, ev.gfid), Num(env, ev.flags), Gfid(env, ev.pargfid),
                            Gfid(env, ev.oldpargfid)};
      Call(env, inst, "onEvent", 5, argv);
      break;
    }
    case Message::kExpired: {
      auto* op = static_cast<gj_op_t*>(m->ptr);
      napi_value argv[1] = {Num(env, gj_op_tag(op))};
      Call(env, inst, "onExpired", 1, argv);
      gj_op_unref(op);
      break;
    }
    case Message::kFini:
      Call(env, inst, "onFini", 0, nullptr);  // the runtime calls finiDone() when the hook is through
      break;
    case Message::kHandoff:
      Call(env, inst, "onHandoff", 0, nullptr);  // the runtime calls handoffDone(state)
      break;
  }
  delete m;
}

void ReleaseAll(Instance* inst) {
  inst->replies.Each([](ReplyRec* r) {
    gj_reply_free(r->reply);
    delete r;
  });
  inst->ops.Each([](OpRec* r) {
    gj_op_unref(r->op);
    delete r;
  });
  inst->replies = HandleTable<ReplyRec>();
  inst->ops = HandleTable<OpRec>();
}

napi_value InitBinding(napi_env env, napi_value exports) {
  static const struct {
    const char* name;
    napi_callback cb;
  } fns[] = {
      {"config", JsConfig},       {"attach", JsAttach},       {"loaded", JsLoaded},
      {"arg", JsArg},             {"replyField", JsReplyField}, {"wind", JsWind},
      {"caller", JsCaller},
      {"forward", JsForward},     {"unwind", JsUnwind},       {"fail", JsFail},
      {"release", JsRelease},     {"log", JsLog},             {"publish", JsPublish},
      {"finiDone", JsFiniDone},   {"handoffDone", JsHandoffDone},
      {"fastGen", JsFastGen},     {"fastNegative", JsFastNegative}, {"fastComplete", JsFastComplete},
      {"fastInvalidate", JsFastInvalidate}, {"fastStats", JsFastStats}, {"fastLearn", JsFastLearn},
  };
  for (auto& f : fns) {
    napi_value fn;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &fn);
    napi_set_named_property(env, exports, f.name, fn);
  }
  return exports;
}

}  // namespace glujs
