// embed.cc: Node inside a GlusterFS daemon. Process-wide set-up once, then one
// environment per glujs instance on its own thread, restarted when JS brings it
// down (process.exit, the watchdog), stopped before the daemon exits.
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <uv.h>

#include "instance.h"

namespace glujs {

namespace {

std::mutex g_mu;
std::unique_ptr<node::MultiIsolatePlatform> g_platform;
std::string g_init_error;
std::vector<Instance*> g_instances;  // for the atexit stop
bool g_exiting = false;

constexpr int kMaxRestarts = 5;         // within kRestartWindowMs, then give up
constexpr uint64_t kRestartWindowMs = 60000;
constexpr uint64_t kLoadTimeoutMs = 60000;
constexpr uint64_t kFiniTimeoutMs = 2000;

void Log(Instance* inst, int level, const std::string& msg) { gj_log(inst->xl, level, msg.c_str()); }

// Once per process, on a thread whose asynchronous signals are blocked, so that
// V8's platform threads inherit that mask and never take the daemon's signals.
bool InitProcess(const Instance* first, std::string* err) {
  std::lock_guard<std::mutex> lk(g_mu);
  if (g_platform) return true;
  if (!g_init_error.empty()) {
    *err = g_init_error;
    return false;
  }
  // GlusterFS loads xlators RTLD_LOCAL and dlclose()s them on graph switch: pin
  // this .so and make libnode's napi_* symbols global for ordinary addons.
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&InitProcess), &info)) dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  dlopen("libnode.so.108", RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL | RTLD_NODELETE);

  // Debian's libnode 18 does not export InitializeOncePerProcess(); its
  // predecessor takes the same flags.
  std::vector<std::string> args{"glujs"}, exec_args, errors;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  int rc = node::InitializeNodeWithArgs(
      &args, &exec_args, &errors,
      static_cast<node::ProcessInitializationFlags::Flags>(
          node::ProcessInitializationFlags::kNoDefaultSignalHandling |
          node::ProcessInitializationFlags::kNoStdioInitialization |
          node::ProcessInitializationFlags::kNoAdjustResourceLimits |
          node::ProcessInitializationFlags::kNoParseGlobalDebugVariables |
          node::ProcessInitializationFlags::kNoUseLargePages |
          node::ProcessInitializationFlags::kNoPrintHelpOrVersionOutput |
          node::ProcessInitializationFlags::kDisableNodeOptionsEnv |
          node::ProcessInitializationFlags::kDisableCLIOptions |
          node::ProcessInitializationFlags::kNoInitializeV8 |
          node::ProcessInitializationFlags::kNoInitializeNodeV8Platform));
#pragma GCC diagnostic pop
  if (rc != 0 || !errors.empty()) {
    g_init_error = "Node process initialisation failed";
    for (auto& e : errors) g_init_error += ": " + e;
    *err = g_init_error;
    return false;
  }
  // One heap limit for every isolate in the process (V8 takes it per process);
  // an environment that reaches it is stopped and restarted (NearHeapLimit),
  // never the daemon.
  std::string flags = "--max-old-space-size=" + std::to_string(first->heap_limit_mb);
  v8::V8::SetFlagsFromString(flags.c_str(), flags.size());
  g_platform = node::MultiIsolatePlatform::Create(2);
  v8::V8::InitializePlatform(g_platform.get());
  v8::V8::Initialize();
  return true;
}

std::string Bootstrap(const Instance* inst) {
  // Only builtins are known to require() here; the runtime loads the rest.
  std::string rt;
  for (char c : inst->runtime) {
    if (c == '\\' || c == '\'') rt += '\\';
    rt += c;
  }
  return "const rt = require('module').createRequire('" + rt + "')('" + rt +
         "');\nrt.start(process._linkedBinding('glujs'));\n";
}

napi_value RegisterBinding(napi_env env, napi_value exports) { return InitBinding(env, exports); }

thread_local Instance* tls_instance = nullptr;

// Watchdog: the JS thread's event loop ticks a heartbeat every 100 ms; when
// it has not ticked for watchdog_ms (a synchronous run that does not end), the
// environment is stopped (V8 TerminateExecution) and restarted. Loading the
// module gets the longer kLoadTimeoutMs.
// The heap is near its limit: stop this environment (it will be restarted)
// and give V8 room to unwind instead of letting it abort the process.
size_t NearHeapLimit(void* data, size_t current, size_t initial) {
  auto* inst = static_cast<Instance*>(data);
  std::lock_guard<std::mutex> lk(inst->mu);
  if (inst->env && inst->restart_reason.empty()) {
    inst->restart_reason = "the JS heap reached its limit (" + std::to_string(current >> 20) + " MB)";
    Log(inst, GJ_LOG_ERROR, inst->restart_reason + "; terminating it");
    inst->isolate->TerminateExecution();
    node::Stop(inst->env);
  }
  return current + (current >> 1);
}

void Heartbeat(uv_timer_t* t) { static_cast<Instance*>(t->data)->last_tick_ms = gj_now_ms(); }

void Watchdog(Instance* inst, std::atomic<bool>* quit) {
  while (!quit->load()) {
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, nullptr);
    uint64_t tick = inst->last_tick_ms.load();
    uint64_t budget = inst->loading_js ? kLoadTimeoutMs : inst->watchdog_ms;
    if (!budget || !tick || gj_now_ms() - tick < budget) continue;
    std::lock_guard<std::mutex> lk(inst->mu);
    if (inst->env && inst->restart_reason.empty()) {
      inst->restart_reason = "JS ran synchronously for more than " + std::to_string(budget) +
                             " ms without returning to its event loop (watchdog)";
      Log(inst, GJ_LOG_ERROR, inst->restart_reason + "; terminating it");
      node::Stop(inst->env);
    }
  }
}

// One environment's life. Returns false when the module failed to load.
bool RunEnvironment(Instance* inst) {
  std::vector<std::string> errors;
  std::vector<std::string> args{"glujs", inst->module}, exec_args;
  auto setup = node::CommonEnvironmentSetup::Create(
      g_platform.get(), &errors, args, exec_args,
      static_cast<node::EnvironmentFlags::Flags>(node::EnvironmentFlags::kNoFlags |
                                                 node::EnvironmentFlags::kNoCreateInspector));
  if (!setup) {
    std::string e = "cannot create a Node environment";
    for (auto& s : errors) e += ": " + s;
    std::lock_guard<std::mutex> lk(inst->mu);
    inst->load_error = e;
    return false;
  }
  // Node registers the destructors of some function-local statics (the
  // externalized builtins' table, filled when an environment is created) with
  // __cxa_atexit at first use, after gj_init registered the atexit stop. Exit
  // handlers run in reverse order, so exit() would destroy them before the stop
  // runs: an environment being created meanwhile (a restart) aborted the daemon
  // in BuiltinLoader::Add. Registering the stop again now puts it first.
  static std::once_flag atexit_again;
  std::call_once(atexit_again, [] { atexit(gj_js_atexit); });
  v8::Isolate* isolate = setup->isolate();
  node::Environment* env = setup->env();
  bool loaded = false;
  {
    v8::Locker locker(isolate);
    v8::Isolate::Scope isolate_scope(isolate);
    v8::HandleScope handle_scope(isolate);
    v8::Context::Scope context_scope(setup->context());
    {
      std::lock_guard<std::mutex> lk(inst->mu);
      inst->env = env;
      inst->isolate = isolate;
      inst->restart_reason.clear();
    }
    isolate->AddNearHeapLimitCallback(NearHeapLimit, inst);
    node::SetProcessExitHandler(env, [inst](node::Environment* e, int code) {
      std::lock_guard<std::mutex> lk(inst->mu);
      if (inst->restart_reason.empty())
        inst->restart_reason = "the module called process.exit(" + std::to_string(code) + ")";
      Log(inst, GJ_LOG_ERROR, inst->restart_reason + "; its environment is stopped, the daemon lives on");
      node::Stop(e);
    });
    node::AddLinkedBinding(env, "glujs", RegisterBinding, 8);
    uv_timer_t heartbeat;
    uv_timer_init(setup->event_loop(), &heartbeat);
    heartbeat.data = inst;
    uv_timer_start(&heartbeat, Heartbeat, 100, 100);
    uv_unref(reinterpret_cast<uv_handle_t*>(&heartbeat));
    SpinStart(inst, setup->event_loop());
    inst->last_tick_ms = gj_now_ms();
    // node::Stop during LoadEnvironment aborts the process (a CHECK in the
    // builtin loader): a stop that comes meanwhile (daemon exit, fini) waits
    // for the load to return, and is carried out here.
    bool stop_now;
    {
      std::lock_guard<std::mutex> lk(inst->mu);
      stop_now = inst->stopping || g_exiting;
      if (!stop_now) inst->loading_js = true;
    }
    v8::MaybeLocal<v8::Value> r;
    if (!stop_now) r = node::LoadEnvironment(env, Bootstrap(inst).c_str());
    inst->last_tick_ms = gj_now_ms();
    {
      std::unique_lock<std::mutex> lk(inst->mu);
      inst->loading_js = false;
      stop_now = stop_now || inst->stopping || g_exiting;
      if (r.IsEmpty() && inst->load_error.empty())
        inst->load_error = stop_now ? "the daemon stopped while the module was loading"
                           : inst->restart_reason.empty() ? "the runtime failed to start" : inst->restart_reason;
    }
    if (!r.IsEmpty() && !stop_now) {
      // The module may load asynchronously (import()); the runtime reports
      // through the binding's loaded(), which ends kLoading.
      node::SpinEventLoop(env).FromMaybe(1);
    }
    std::lock_guard<std::mutex> lk(inst->mu);
    loaded = inst->state == Instance::kRunning;
    inst->accepting = false;
    inst->replies_open = false;
    // An environment that ran and went down restarts (unless it is being
    // stopped): fops that come meanwhile wait for the next one.
    inst->holding = loaded && !inst->stopping && !g_exiting;
    if (inst->callbacks) {
      inst->tsfn.Abort();
      napi_delete_reference(inst->callbacks_env, inst->callbacks);
    }
    inst->callbacks = nullptr;
    inst->callbacks_env = nullptr;
    inst->last_tick_ms = 0;
    uv_timer_stop(&heartbeat);
    uv_close(reinterpret_cast<uv_handle_t*>(&heartbeat), nullptr);
    SpinStop(inst);
    uv_run(setup->event_loop(), UV_RUN_NOWAIT);  // let the close complete
  }
  ReleaseAll(inst);
  {
    std::lock_guard<std::mutex> lk(inst->mu);
    inst->env = nullptr;
    inst->isolate = nullptr;
  }
  node::Stop(env);
  setup.reset();  // frees the environment and its isolate
  return loaded;
}

void* ThreadMain(void* arg) {
  auto* inst = static_cast<Instance*>(arg);
  tls_instance = inst;
  gj_thread_enter(inst->xl);
  std::string err;
  // V8's platform threads, started by the first instance, inherit this name
  pthread_setname_np(pthread_self(), "glujs-v8");
  bool ok = InitProcess(inst, &err);
  pthread_setname_np(pthread_self(), "glujs-js");
  if (!ok) {
    std::lock_guard<std::mutex> lk(inst->mu);
    inst->load_error = err;
    inst->state = Instance::kFailed;
    inst->cv.notify_all();
    return nullptr;
  }
  std::atomic<bool> quit{false};
  std::thread watchdog(Watchdog, inst, &quit);
  std::vector<uint64_t> restarts;
  for (;;) {
    bool loaded = RunEnvironment(inst);
    std::unique_lock<std::mutex> lk(inst->mu);
    if (!loaded || inst->state == Instance::kFailed) {
      // a load failure is final (the owner reports it); only a running
      // environment that went down is restarted
      if (inst->state != Instance::kFailed) {
        inst->state = Instance::kFailed;
        if (inst->load_error.empty()) inst->load_error = "the module did not finish loading";
      }
      inst->cv.notify_all();
      break;
    }
    std::string why = inst->restart_reason.empty() ? "the JS environment stopped" : inst->restart_reason;
    if (inst->stopping || g_exiting) break;
    lk.unlock();
    // the fops the old environment had fail; those held since wait for the new one
    gj_ops_abort_all(inst->xl, reinterpret_cast<gj_js_t*>(inst), EIO,
                     ("the JS environment was restarted: " + why).c_str(), 0);
    uint64_t now = gj_now_ms();
    restarts.push_back(now);
    while (!restarts.empty() && now - restarts.front() > kRestartWindowMs) restarts.erase(restarts.begin());
    if (restarts.size() > kMaxRestarts) {
      Log(inst, GJ_LOG_ERROR, "the JS environment stopped " + std::to_string(restarts.size()) +
                                  " times in a minute; giving up: fops with handlers now fail with ENOTCONN");
      break;
    }
    inst->restarts++;
    Log(inst, GJ_LOG_WARNING, "restarting the JS environment (" + why + ")");
    lk.lock();
    inst->state = Instance::kLoading;
    inst->load_error.clear();
  }
  {
    std::lock_guard<std::mutex> lk(inst->mu);
    if (inst->state != Instance::kFailed) inst->state = Instance::kDead;
    inst->accepting = false;
    inst->replies_open = false;
    inst->holding = false;
  }
  quit = true;
  watchdog.join();
  if (!g_exiting)
    gj_ops_abort_all(inst->xl, reinterpret_cast<gj_js_t*>(inst), ENOTCONN, "the JS environment is gone", 1);
  return nullptr;
}

// Runs the module's fini() hook (bounded wait: this is fini or exit, not a fop),
// then stops the environment. Called with inst->mu held.
void FiniAndStop(Instance* inst, std::unique_lock<std::mutex>& lk) {
  if (inst->accepting && inst->state == Instance::kRunning) {
    auto* m = new Message{Message::kFini, nullptr, {}};
    if (inst->tsfn.NonBlockingCall(m) == napi_ok)
      inst->cv.wait_for(lk, std::chrono::milliseconds(kFiniTimeoutMs), [inst] { return inst->fini_done; });
    else
      delete m;
  }
  inst->stopping = true;
  inst->accepting = false;
  inst->replies_open = false;
  inst->holding = false;
  if (inst->env && !inst->loading_js) node::Stop(inst->env);  // else RunEnvironment stops it after the load
}

}  // namespace

Instance* CurrentInstance() { return tls_instance; }

void JoinThread(Instance* inst) {
  std::lock_guard<std::mutex> g(inst->join_mu);
  if (inst->thread_running) pthread_join(inst->thread, nullptr);
  inst->thread_running = false;
}

}  // namespace glujs

using glujs::Instance;

extern "C" {

gj_js_t* gj_js_start(void* xl, const gj_js_config_t* cfg, unsigned char handled[GJ_FOP_MAX],
                     unsigned char events[GJ_EV_MAX], char* err, size_t errlen) {
  auto* inst = new Instance();
  inst->xl = xl;
  inst->name = cfg->name;
  inst->module = cfg->module;
  inst->runtime = cfg->runtime;
  inst->watchdog_ms = cfg->watchdog_ms;
  inst->spin_us = cfg->spin_us;
  inst->heap_limit_mb = cfg->heap_limit_mb ? cfg->heap_limit_mb : 512;
  for (int i = 0; i < cfg->nopts; i++) inst->options.emplace_back(cfg->keys[i], cfg->vals[i]);
  if (cfg->handoff) inst->handoff_in.assign(static_cast<const char*>(cfg->handoff), cfg->handoff_len);

  // The JS thread's mask is inherited by every thread Node starts from it.
  if (int e = gj_thread_start(&inst->thread, "glujs-js", glujs::ThreadMain, inst)) {
    snprintf(err, errlen, "cannot start the JS thread: %s", strerror(e));
    delete inst;
    return nullptr;
  }
  inst->thread_running = true;

  std::unique_lock<std::mutex> lk(inst->mu);
  bool done = inst->cv.wait_for(lk, std::chrono::milliseconds(glujs::kLoadTimeoutMs),
                                [inst] { return inst->state != Instance::kLoading; });
  if (!done) inst->load_error = "the module did not finish loading within 60 s";
  if (inst->state != Instance::kRunning) {
    snprintf(err, errlen, "%s", inst->load_error.c_str());
    inst->stopping = true;
    if (inst->env && !inst->loading_js) node::Stop(inst->env);  // a load in progress ends by itself
    lk.unlock();
    glujs::JoinThread(inst);
    delete inst;
    return nullptr;
  }
  memcpy(handled, inst->handled, GJ_FOP_MAX);
  memcpy(events, inst->events, GJ_EV_MAX);
  {
    std::lock_guard<std::mutex> g(glujs::g_mu);
    glujs::g_instances.push_back(inst);
  }
  return reinterpret_cast<gj_js_t*>(inst);
}

void gj_js_dump(gj_js_t* js, void (*line)(void*, const char*, const char*), void* ctx) {
  auto* inst = reinterpret_cast<Instance*>(js);
  std::string snap;
  uint64_t restarts;
  {
    std::lock_guard<std::mutex> lk(inst->mu);
    snap = inst->published;
    restarts = inst->restarts;
  }
  line(ctx, "js_restarts", std::to_string(restarts).c_str());
  // The runtime publishes "key=value" lines (counters, latency, heap, dump()).
  size_t pos = 0;
  while (pos < snap.size()) {
    size_t nl = snap.find('\n', pos);
    if (nl == std::string::npos) nl = snap.size();
    std::string l = snap.substr(pos, nl - pos);
    size_t eq = l.find('=');
    if (eq != std::string::npos) line(ctx, l.substr(0, eq).c_str(), l.substr(eq + 1).c_str());
    pos = nl + 1;
  }
}

void gj_js_sources(gj_js_t* js, void (*each)(void*, const char*), void* ctx) {
  auto* inst = reinterpret_cast<Instance*>(js);
  std::vector<std::string> copy;
  {
    std::lock_guard<std::mutex> lk(inst->mu);
    copy = inst->sources;
  }
  for (auto& p : copy) each(ctx, p.c_str());
}

void* gj_js_handoff(gj_js_t* js, size_t* len) {
  auto* inst = reinterpret_cast<Instance*>(js);
  std::unique_lock<std::mutex> lk(inst->mu);
  *len = 0;
  if (!inst->accepting || inst->state != Instance::kRunning) return nullptr;
  inst->handoff_ready = false;
  auto* m = new glujs::Message{glujs::Message::kHandoff, nullptr, {}};
  if (inst->tsfn.NonBlockingCall(m) != napi_ok) {
    delete m;
    return nullptr;
  }
  if (!inst->cv.wait_for(lk, std::chrono::milliseconds(glujs::kFiniTimeoutMs), [inst] { return inst->handoff_ready; }) ||
      inst->handoff_out.empty())
    return nullptr;
  void* buf = malloc(inst->handoff_out.size());
  if (!buf) return nullptr;
  memcpy(buf, inst->handoff_out.data(), inst->handoff_out.size());
  *len = inst->handoff_out.size();
  return buf;
}

void gj_js_shutdown(gj_js_t* js) {
  auto* inst = reinterpret_cast<Instance*>(js);
  if (!inst) return;
  {
    std::lock_guard<std::mutex> g(glujs::g_mu);
    auto& v = glujs::g_instances;
    for (auto it = v.begin(); it != v.end(); ++it)
      if (*it == inst) {
        v.erase(it);
        break;
      }
  }
  {
    std::unique_lock<std::mutex> lk(inst->mu);
    if (inst->shut) return;
    inst->shut = true;
    glujs::FiniAndStop(inst, lk);
  }
  glujs::JoinThread(inst);
}

void gj_js_free(gj_js_t* js) {
  if (!js) return;
  gj_js_shutdown(js);
  delete reinterpret_cast<Instance*>(js);
}

void gj_js_atexit(void) {
  std::vector<Instance*> all;
  {
    std::lock_guard<std::mutex> g(glujs::g_mu);
    glujs::g_exiting = true;
    all = glujs::g_instances;
  }
  // Stop every environment and wait for its thread, so exit() never tears
  // V8 down under a running isolate. The instances themselves are left: the
  // process is going away and GlusterFS threads may still post (refused).
  for (Instance* inst : all) {
    {
      std::unique_lock<std::mutex> lk(inst->mu);
      glujs::FiniAndStop(inst, lk);
    }
    glujs::JoinThread(inst);
  }
}

}  // extern "C"
