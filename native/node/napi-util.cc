// napi-util.cc: see napi-util.h.
#include "napi-util.h"

#include <cmath>
#include <cstring>

namespace glujs {

napi_value Undefined(napi_env env) {
  napi_value v = nullptr;
  napi_get_undefined(env, &v);
  return v;
}
napi_value Null(napi_env env) {
  napi_value v = nullptr;
  napi_get_null(env, &v);
  return v;
}
napi_value Num(napi_env env, double d) {
  napi_value v = nullptr;
  napi_create_double(env, d, &v);
  return v;
}
napi_value Str(napi_env env, const char* s, size_t len) {
  napi_value v = nullptr;
  if (!s) return Null(env);
  napi_create_string_utf8(env, s, len, &v);
  return v;
}
napi_value BigU(napi_env env, uint64_t u) {
  napi_value v = nullptr;
  napi_create_bigint_uint64(env, u, &v);
  return v;
}
napi_value Buf(napi_env env, const void* p, size_t n) {
  napi_value v = nullptr;
  void* data;
  napi_create_buffer_copy(env, n, p ? p : "", &data, &v);
  return v;
}
void Set(napi_env env, napi_value o, const char* k, napi_value v) { napi_set_named_property(env, o, k, v); }
napi_value Obj(napi_env env) {
  napi_value o = nullptr;
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
  // A value a failed call never set (a throwing getter, a Proxy trap) reads as undefined.
  napi_valuetype t = napi_undefined;
  if (!v || napi_typeof(env, v, &t) != napi_ok) return napi_undefined;
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
  napi_value v = nullptr;
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
    napi_value ab = nullptr;
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

}  // namespace glujs
