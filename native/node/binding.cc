// binding.cc: what the runtime (lib/daemon/) sees as process._linkedBinding('glujs'):
// its exported functions (arg, wind, unwind, fail, log, fast*, ...), each a thin
// layer over convert.h and bridge.h. Raw N-API on purpose: these functions may
// run while the isolate is being terminated (watchdog, process.exit), where
// node-addon-api's error objects abort.
#include <cstring>
#include <string>

#include "convert.h"
#include "instance.h"
#include "napi-util.h"

namespace glujs {

Instance* CurrentInstance();  // embed.cc

namespace {

// ---- binding functions ----
struct CbInfo {
  size_t argc = 7;
  napi_value argv[7] = {};
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

// A child index argument: 0 when absent; false (a RangeError thrown) when it names no child.
bool ChildArg(napi_env env, Instance* inst, napi_value v, int* child) {
  int64_t c = 0;
  *child = 0;
  if (!v || Type(env, v) == napi_undefined) return true;
  if (!GetInt(env, v, &c) || c < 0 || c >= gj_children(inst->xl, nullptr, 0)) {
    napi_throw_range_error(env, "ERR_GLUJS_CHILD",
                           ("no child " + std::to_string(c) + ": this xlator has " +
                            std::to_string(gj_children(inst->xl, nullptr, 0)) + " (this.children)").c_str());
    return false;
  }
  *child = static_cast<int>(c);
  return true;
}

// wind(op, overrides, cookie, child) / forward(op, overrides, child)
napi_value WindOrForward(napi_env env, napi_callback_info info, bool forward) {
  INST();
  OpRec* r = GetOp(env, inst, a.argv[0]);
  if (!r) return nullptr;
  int child;
  if (!ChildArg(env, inst, a.argv[forward ? 2 : 3], &child)) return nullptr;
  gj_val_t vals[GJ_MAX_VALS];
  bool owned[GJ_MAX_VALS];
  int n;
  if (!Collect(env, r, nullptr, false, a.argv[1], vals, owned, &n)) return nullptr;
  int64_t cookie = 0;
  if (!forward) GetInt(env, a.argv[2], &cookie);
  int rc = forward ? gj_op_forward(r->op, child, vals)
                   : gj_op_wind(r->op, child, vals, static_cast<uint64_t>(cookie));
  const unsigned char* kinds;
  gj_fop_kinds(gj_op_fop(r->op), 0, &kinds);
  Release(kinds, n, vals, owned);
  if (rc == -1) napi_throw_error(env, "ERR_GLUJS_OP_DONE", "this op has already completed");
  else if (rc != 0) napi_throw_error(env, "ENOMEM", "cannot wind: out of memory");
  return rc == 0 ? Undefined(env) : nullptr;
}

// The credentials an originated fop asks for: { uid, gid, pid, groups, lkOwner }, each optional.
bool WhoArg(napi_env env, napi_value o, gj_origin_t* who) {
  memset(who, 0, sizeof(*who));
  if (!o || Type(env, o) != napi_object) return true;
  static const struct {
    const char* key;
    int bit;
  } nums[] = {{"uid", GJ_WHO_UID}, {"gid", GJ_WHO_GID}, {"pid", GJ_WHO_PID}};
  for (auto& f : nums) {
    napi_value v = nullptr;
    int64_t x;
    napi_get_named_property(env, o, f.key, &v);
    if (Type(env, v) == napi_undefined) continue;
    if (!GetInt(env, v, &x) || (f.bit != GJ_WHO_PID && (x < 0 || x > UINT32_MAX)) || x < INT32_MIN || x > UINT32_MAX)
      return Fail(env, std::string("caller.") + f.key + " must be an integer id");
    who->set |= f.bit;
    if (f.bit == GJ_WHO_UID) who->uid = static_cast<uint32_t>(x);
    else if (f.bit == GJ_WHO_GID) who->gid = static_cast<uint32_t>(x);
    else who->pid = static_cast<int32_t>(x);
  }
  napi_value g = nullptr, lk = nullptr;
  napi_get_named_property(env, o, "groups", &g);
  if (Type(env, g) != napi_undefined) {
    bool is = false;
    uint32_t n = 0;
    napi_is_array(env, g, &is);
    if (is) napi_get_array_length(env, g, &n);
    if (!is || n > 32) return Fail(env, "caller.groups must be an array of at most 32 group ids");
    for (uint32_t i = 0; i < n; i++) {
      napi_value e = nullptr;
      int64_t x;
      napi_get_element(env, g, i, &e);
      if (!GetInt(env, e, &x) || x < 0 || x > UINT32_MAX) return Fail(env, "caller.groups must be an array of group ids");
      who->groups[i] = static_cast<uint32_t>(x);
    }
    who->ngroups = n;
    who->set |= GJ_WHO_GROUPS;
  }
  napi_get_named_property(env, o, "lkOwner", &lk);
  if (Type(env, lk) != napi_undefined) {
    const void* p;
    size_t n;
    std::string hold;
    if (!GetBytes(env, lk, &p, &n, &hold) || n > sizeof(who->lk_owner))
      return Fail(env, "caller.lkOwner must be a Buffer of at most 1024 bytes");
    memcpy(who->lk_owner, p, n);
    who->lk_owner_len = static_cast<uint32_t>(n);
    who->set |= GJ_WHO_LKOWNER;
  }
  return true;
}

// originate(code, child, fields, sources, cookie, parentOp | -1, caller?)
napi_value JsOriginate(napi_env env, napi_callback_info info) {
  INST();
  int64_t code = 0, cookie = 0;
  int child;
  const unsigned char* kinds;
  if (!GetInt(env, a.argv[0], &code) || code <= 0 || code >= GJ_FOP_MAX || gj_fop_kinds(static_cast<int>(code), 0, &kinds) < 0) {
    Fail(env, "originate: not a fop JS can originate");
    return nullptr;
  }
  if (!ChildArg(env, inst, a.argv[1], &child)) return nullptr;
  GetInt(env, a.argv[4], &cookie);
  double ph = -1;
  napi_get_value_double(env, a.argv[5], &ph);
  OpRec* parent = ph >= 0 ? inst->ops.Get(ph) : nullptr;
  gj_origin_t who;
  if (!WhoArg(env, a.argv[6], &who)) return nullptr;
  gj_val_t vals[GJ_MAX_VALS];
  int n;
  if (!CollectOrigin(env, inst, static_cast<int>(code), a.argv[2], a.argv[3], vals, &n)) return nullptr;
  int rc = gj_originate(inst->xl, reinterpret_cast<gj_js_t*>(inst), parent ? parent->op : nullptr, child,
                        static_cast<int>(code), vals, &who, static_cast<uint64_t>(cookie));
  if (rc <= -5) {
    napi_throw_type_error(env, "ERR_GLUJS_ORIGINATE",
                          (FieldName(static_cast<int>(code), false, -5 - rc) +
                           ": required (an originated fop has no op to take it from)").c_str());
    return nullptr;
  }
  if (rc != 0) {
    napi_throw_error(env, rc == -2 ? "ENOMEM" : "ERR_GLUJS_ORIGINATE",
                     rc == -2 ? "cannot originate: out of memory" : "cannot originate this fop");
    return nullptr;
  }
  return Undefined(env);
}

// children() -> the children's names, in volfile order
napi_value JsChildren(napi_env env, napi_callback_info info) {
  INST();
  const char* names[64];
  int n = gj_children(inst->xl, names, 64);
  napi_value arr = nullptr;
  napi_create_array(env, &arr);
  for (int i = 0; i < n && i < 64; i++) napi_set_element(env, arr, i, Str(env, names[i]));
  return arr;
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
  napi_value res = nullptr;
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
  napi_value res = nullptr;
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
      napi_value v = nullptr;
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

// sources([path, ...]): the local files the module loaded (option watch polls them)
napi_value JsSources(napi_env env, napi_callback_info info) {
  INST();
  bool is = false;
  uint32_t n = 0;
  napi_is_array(env, a.argv[0], &is);
  if (is) napi_get_array_length(env, a.argv[0], &n);
  std::vector<std::string> list;
  for (uint32_t i = 0; i < n && i < 4096; i++) {
    napi_value v = nullptr;
    std::string s;
    napi_get_element(env, a.argv[0], i, &v);
    if (Type(env, v) == napi_string && GetString(env, v, &s)) list.push_back(std::move(s));
  }
  std::lock_guard<std::mutex> lk(inst->mu);
  inst->sources = std::move(list);
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
    napi_value pair = nullptr;
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
    napi_value pair = nullptr;
    napi_get_element(env, a.argv[1], code, &pair);
    if (Type(env, pair) != napi_object) continue;
    for (int side = 0; side < 2; side++) {
      napi_value list = nullptr;
      uint32_t m = 0;
      napi_get_element(env, pair, side, &list);
      napi_get_array_length(env, list, &m);
      for (uint32_t j = 0; j < m; j++) {
        napi_value s = nullptr;
        std::string str;
        napi_get_element(env, list, j, &s);
        GetString(env, s, &str);
        (side ? tls_names[code].reply : tls_names[code].args).push_back(str);
      }
    }
  }
  inst->tsfn = Tsfn::New(env, "glujs", 0, 1, inst);
  std::lock_guard<std::mutex> lk(inst->mu);
  inst->replies_open = !inst->stopping;  // originated fops may reply while the module loads (init)
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
      napi_value v = nullptr;
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
    napi_value v = nullptr;
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

}  // namespace

napi_value InitBinding(napi_env env, napi_value exports) {
  static const struct {
    const char* name;
    napi_callback cb;
  } fns[] = {
      {"config", JsConfig},       {"attach", JsAttach},       {"loaded", JsLoaded},
      {"arg", JsArg},             {"replyField", JsReplyField}, {"wind", JsWind},
      {"caller", JsCaller},       {"originate", JsOriginate}, {"children", JsChildren},
      {"forward", JsForward},     {"unwind", JsUnwind},       {"fail", JsFail},
      {"release", JsRelease},     {"log", JsLog},             {"publish", JsPublish},
      {"sources", JsSources},
      {"finiDone", JsFiniDone},   {"handoffDone", JsHandoffDone},
      {"fastGen", JsFastGen},     {"fastNegative", JsFastNegative}, {"fastComplete", JsFastComplete},
      {"fastInvalidate", JsFastInvalidate}, {"fastStats", JsFastStats}, {"fastLearn", JsFastLearn},
  };
  for (auto& f : fns) {
    napi_value fn = nullptr;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &fn);
    napi_set_named_property(env, exports, f.name, fn);
  }
  return exports;
}

}  // namespace glujs
