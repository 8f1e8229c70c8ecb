// instance.h: the node-facing half's private header. One Instance per glujs
// xlator: its own JS thread and Node environment (see README "Design notes").
#pragma once

#include <node.h>
#include <uv.h>
#undef NAPI_VERSION
#define NAPI_VERSION 8
#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../bridge.h"

namespace glujs {

// Handles JS holds for native records: index + generation, so that a stale or
// forged handle is refused instead of dereferenced.
template <typename T>
class HandleTable {
 public:
  double Put(T* p) {
    uint32_t i;
    if (!free_.empty()) {
      i = free_.back();
      free_.pop_back();
    } else {
      i = static_cast<uint32_t>(slots_.size());
      slots_.push_back({0, nullptr});
    }
    slots_[i].p = p;
    return static_cast<double>(slots_[i].gen) * kSpan + i;
  }
  T* Get(double h) const {
    if (!(h >= 0) || h > 9007199254740991.0) return nullptr;
    uint64_t v = static_cast<uint64_t>(h);
    uint64_t i = v % kSpan;
    if (i >= slots_.size() || slots_[i].gen != v / kSpan) return nullptr;
    return slots_[i].p;
  }
  T* Take(double h) {
    T* p = Get(h);
    if (!p) return nullptr;
    uint32_t i = static_cast<uint32_t>(static_cast<uint64_t>(h) % kSpan);
    slots_[i].p = nullptr;
    slots_[i].gen = (slots_[i].gen + 1) % (1u << 28);
    free_.push_back(i);
    return p;
  }
  template <typename F>
  void Each(F f) {
    for (auto& s : slots_)
      if (s.p) f(s.p);
  }
  size_t Live() const { return slots_.size() - free_.size(); }

 private:
  static constexpr uint64_t kSpan = 1ull << 24;
  struct Slot {
    uint32_t gen;
    T* p;
  };
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
};

struct OpRec {
  gj_op_t* op;  // holds the JS side's reference
};
struct ReplyRec {
  gj_reply_t* reply;
  std::vector<gj_dirent_view_t> entries;  // views of a held entry list, by index
};

// A message from a GlusterFS thread to the JS thread (tsfn payload).
struct Message {
  enum Kind { kOp, kReply, kEvent, kExpired, kFini, kHandoff } kind;
  void* ptr;
  gj_event_t ev;
};

struct Instance;
void CallJs(Napi::Env env, Napi::Function, Instance* inst, Message* m);  // queue.cc
using Tsfn = Napi::TypedThreadSafeFunction<Instance, Message, CallJs>;

struct Instance {
  void* xl;
  std::string name, module, runtime;
  std::vector<std::pair<std::string, std::string>> options;
  uint32_t watchdog_ms;
  uint32_t heap_limit_mb;

  pthread_t thread{};  // the JS thread (gj_thread_start)
  bool thread_running = false;
  std::mutex join_mu;  // gj_js_shutdown and gj_js_atexit may both join it
  std::mutex mu;  // guards everything below that other threads touch
  std::condition_variable cv;
  enum { kLoading, kRunning, kFailed, kDead } state = kLoading;
  std::string load_error;
  bool stopping = false;      // the owner wants the environment gone
  bool accepting = false;     // posts go through (tsfn valid)
  bool holding = false;       // not accepting, but restarting: ops are held for the next environment
  bool replies_open = false;  // replies go through (tsfn valid) even before loaded(): originated in init()
  std::string restart_reason; // set by process.exit / watchdog
  node::Environment* env = nullptr;
  v8::Isolate* isolate = nullptr;
  Tsfn tsfn;
  unsigned char handled[GJ_FOP_MAX] = {0};
  unsigned char events[GJ_EV_MAX] = {0};
  std::string published;  // the runtime's latest statedump snapshot
  std::vector<std::string> sources;  // local files the module loaded (option watch)
  bool fini_done = false;  // the module's fini() hook has run
  std::string handoff_in;  // state from the instance this one replaces (v8-serialized)
  std::string handoff_out; // this instance's state for its successor
  bool handoff_ready = false;
  bool shut = false;       // gj_js_shutdown has run

  // JS-thread only
  napi_ref callbacks = nullptr;  // { onFop, onReply, onEvent, onExpired }
  napi_env callbacks_env = nullptr;  // the env `callbacks` belongs to
  HandleTable<OpRec> ops;
  HandleTable<ReplyRec> replies;
  std::atomic<uint64_t> last_tick_ms{0};  // watchdog: the event loop's last heartbeat
  std::atomic<bool> loading_js{false};  // in LoadEnvironment (set under mu): node::Stop must wait
  uint64_t restarts = 0;
  // Awake for a while after each message (queue.cc KeepAwake): the loop polls
  // instead of sleeping, so the next fop or reply needs no wake-up.
  uv_idle_t spin{};
  bool spin_ready = false;
  uint64_t spin_until_ns = 0;
  uint32_t spin_us = 0;
};

napi_value InitBinding(napi_env env, napi_value exports);  // binding.cc
void ReleaseAll(Instance* inst);                            // queue.cc: drop JS-held records
void SpinStart(Instance* inst, uv_loop_t* loop);            // queue.cc: the awake window's idle handle
void SpinStop(Instance* inst);
void ResumeHeld(Instance* inst);                            // queue.cc: post the ops held for a restart (mu held)
void JoinThread(Instance* inst);                            // embed.cc: wait for its JS thread (not from it)

}  // namespace glujs
