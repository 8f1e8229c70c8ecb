// convert.h: fop values between their C form (bridge.h's held values) and JS,
// kind by kind: ToJs makes the JS form of a held value (lazily, on the JS
// side's request), FromJs a new held value from a JS one, and Collect the whole
// argument or reply list for a wind or an unwind, with the rules that keep a
// parent from dereferencing what JS left out. JS thread only.
#pragma once

#include <string>
#include <vector>

#include "instance.h"

namespace glujs {

// The runtime's field names by fop code (attach() sets them), for messages.
struct FieldNames {
  std::vector<std::string> args, reply;
};
extern thread_local std::vector<FieldNames> tls_names;
// "lookup loc", "create reply.buf": a field as messages name it.
std::string FieldName(int code, bool reply, int i);

bool ReadIatt(napi_env env, napi_value o, gj_iatt_t* st);
napi_value IattJs(napi_env env, const gj_iatt_t& s);
// The JS form of held value v of `kind`; rec (a reply) keeps views its entries need.
napi_value ToJs(napi_env env, int kind, gj_val_t v, ReplyRec* rec);
// A new held value of `kind` (owned by the caller) from js; false with a pending TypeError.
bool FromJs(napi_env env, int kind, napi_value js, ReplyRec* rec, gj_val_t* out, const std::string& what);
// The values for a wind (reply false) or an unwind of op r; fields[i] undefined
// keeps the op's own argument or the child's reply field. owned[i]: release it after.
bool Collect(napi_env env, OpRec* r, ReplyRec* rep, bool reply, napi_value fields, gj_val_t* vals, bool* owned,
             int* count);
// The values for a fop JS originates (all owned: gj_originate takes them).
// fields[i] undefined: GlusterFS's default (0, NULL); a loc, fd or inode comes
// from sources[i] ([isReply, handle, index], where JS got it) while that op or
// reply is held, else it is found by the gfids it carries (ESTALE if not).
bool CollectOrigin(napi_env env, Instance* inst, int code, napi_value fields, napi_value sources, gj_val_t* vals,
                   int* count);
void Release(const unsigned char* kinds, int n, gj_val_t* vals, bool* owned);

}  // namespace glujs
