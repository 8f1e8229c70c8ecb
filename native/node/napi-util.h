// napi-util.h: the node side's small raw N-API helpers, for making JS values and
// reading them. Raw N-API on purpose: they may run while the isolate is being
// terminated (watchdog, process.exit), where node-addon-api's error objects
// abort. JS thread only.
#pragma once

#include <node_version.h>  // it defines NAPI_VERSION: first, as instance.h does
#undef NAPI_VERSION
#define NAPI_VERSION 8
#include <node_api.h>

#include <cstdint>
#include <string>

namespace glujs {

// ---- making JS values ----
napi_value Undefined(napi_env env);
napi_value Null(napi_env env);
napi_value Num(napi_env env, double d);
napi_value Str(napi_env env, const char* s, size_t len = NAPI_AUTO_LENGTH);
napi_value BigU(napi_env env, uint64_t u);
napi_value Buf(napi_env env, const void* p, size_t n);  // a copy
napi_value Obj(napi_env env);
void Set(napi_env env, napi_value o, const char* k, napi_value v);
std::string Uuid(const uint8_t* g);                // "xxxxxxxx-xxxx-..."
napi_value Gfid(napi_env env, const uint8_t* g);  // Uuid as a JS string
bool ParseUuid(const std::string& s, uint8_t* out);

// ---- reading JS values (false, and for Fail a pending TypeError, on bad input) ----
bool Fail(napi_env env, const std::string& msg);  // throws a TypeError; returns false
napi_valuetype Type(napi_env env, napi_value v);
bool GetString(napi_env env, napi_value v, std::string* out);
bool GetInt(napi_env env, napi_value v, int64_t* out);  // a finite number, a bigint or a boolean
bool GetU64(napi_env env, napi_value v, uint64_t* out);
bool Prop(napi_env env, napi_value o, const char* k, uint64_t* out);  // a numeric property; absent reads 0
// A Buffer, a byte TypedArray or a string (copied into *hold) as bytes.
bool GetBytes(napi_env env, napi_value v, const void** p, size_t* n, std::string* hold);

}  // namespace glujs
