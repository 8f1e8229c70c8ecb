// queue.cc: the messages from GlusterFS threads to an instance's JS thread (a
// thread-safe function's queue) and their consumer, which turns each into a
// call of the runtime's callbacks (onFop, onReply, onEvent, onExpired, onFini,
// onHandoff). Producers (gj_js_post_*) never block; the consumer runs on the JS
// thread, or lets go of the message when the environment is going away.
#include "napi-util.h"
#include "instance.h"
#include <sched.h>
#include <time.h>
#include <cstdlib>

namespace glujs {

namespace {

// A new environment of a restarted instance takes the ops held for it. mu held.
int PostHeld(void* ctx, gj_op_t* op) {
  auto* inst = static_cast<Instance*>(ctx);
  auto* m = new Message{Message::kOp, op, {}};
  if (inst->tsfn.NonBlockingCall(m) == napi_ok) return 0;
  delete m;
  return -1;
}

// Any thread: queue a message for the JS thread, or hold an op while the
// environment restarts. 0, or -1 when it is refused (the caller keeps ptr).
int Post(gj_js_t* js, Message::Kind kind, void* ptr, const gj_event_t* ev = nullptr) {
  auto* inst = reinterpret_cast<Instance*>(js);
  std::lock_guard<std::mutex> lk(inst->mu);
  if (!inst->accepting && !(kind == Message::kReply && inst->replies_open)) {
    if (kind != Message::kOp || !inst->holding) return -1;
    gj_op_hold(static_cast<gj_op_t*>(ptr));  // until the restarted environment runs
    return 0;
  }
  auto* m = new Message{kind, ptr, ev ? *ev : gj_event_t{}};
  if (inst->tsfn.NonBlockingCall(m) == napi_ok) return 0;
  delete m;
  return -1;
}

void Call(napi_env env, Instance* inst, const char* name, size_t argc, napi_value* argv) {
  napi_value cbs = nullptr, fn = nullptr, global = nullptr, res = nullptr;
  if (!inst->callbacks || napi_get_reference_value(env, inst->callbacks, &cbs) != napi_ok || !cbs) return;
  if (napi_get_named_property(env, cbs, name, &fn) != napi_ok) return;
  napi_get_global(env, &global);
  if (napi_call_function(env, global, fn, argc, argv, &res) == napi_pending_exception) {
    napi_value e = nullptr;
    napi_get_and_clear_last_exception(env, &e);  // the runtime catches its own; this is the terminating case
  }
}

uint64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// The awake window: while the idle handle is active, the loop polls its
// descriptors without blocking, and yields the core between polls, so a
// GlusterFS thread that posts now finds the JS thread running and needs no
// wake-up (a cross-core wake-up costs ~40 µs on a small VM, a poll ~1 µs).
// The window ends spin_us after the last message: an idle daemon sleeps.
void SpinTick(uv_idle_t* h) {
  auto* inst = static_cast<Instance*>(h->data);
  if (NowNs() >= inst->spin_until_ns) {
    uv_idle_stop(h);
  } else {
    sched_yield();
  }
}

void KeepAwake(Instance* inst) {
  if (!inst->spin_ready || !inst->spin_us) return;
  inst->spin_until_ns = NowNs() + inst->spin_us * 1000ull;
  uv_idle_start(&inst->spin, SpinTick);  // no-op while active
}

}  // namespace

void SpinStart(Instance* inst, uv_loop_t* loop) {
  uv_idle_init(loop, &inst->spin);
  inst->spin.data = inst;
  uv_unref(reinterpret_cast<uv_handle_t*>(&inst->spin));  // never what keeps the loop alive
  inst->spin_ready = true;
}

void SpinStop(Instance* inst) {
  if (!inst->spin_ready) return;
  uv_idle_stop(&inst->spin);
  uv_close(reinterpret_cast<uv_handle_t*>(&inst->spin), nullptr);
  inst->spin_ready = false;
}

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
  KeepAwake(inst);
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
      if (!gj_reply_take(r)) {
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
      gj_event_delivered(inst->xl, &ev);
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

void ResumeHeld(Instance* inst) { gj_ops_resume(inst->xl, reinterpret_cast<gj_js_t*>(inst), PostHeld, inst); }

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

}  // namespace glujs

extern "C" {

int gj_js_post_op(gj_js_t* js, gj_op_t* op) { return glujs::Post(js, glujs::Message::kOp, op); }
int gj_js_post_reply(gj_js_t* js, gj_reply_t* r) { return glujs::Post(js, glujs::Message::kReply, r); }
int gj_js_post_event(gj_js_t* js, const gj_event_t* ev) { return glujs::Post(js, glujs::Message::kEvent, nullptr, ev); }
int gj_js_post_expired(gj_js_t* js, gj_op_t* op) { return glujs::Post(js, glujs::Message::kExpired, op); }

}  // extern "C"
