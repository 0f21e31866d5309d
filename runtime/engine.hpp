#pragma once
// The engine: one lua_State and one io_context on one thread. Knows Lua and Asio, no protocol.
#include <boost/asio/io_context.hpp>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "runtime/lua.hpp"

namespace mw {

class Scheduler;

// Opens modules into a fresh Lua state (globals, package.loaded/preload). The engine's host
// (main.cpp, the tests) hands the engine its openers: the runtime knows no module.
using ModuleOpener = void (*)(lua_State* L);

class Engine {
 public:
  // Opens the standard Lua libraries and the runtime's own (open_runtime), then `openers` in order.
  explicit Engine(std::initializer_list<ModuleOpener> openers = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  static Engine& of(lua_State* L) { return **static_cast<Engine**>(lua_getextraspace(L)); }

  lua_State* L() const { return L_; }
  boost::asio::io_context& io() { return *io_; }
  // True while the engine is being destroyed: completions must not touch Lua any more.
  bool closing() const { return closing_; }
  // Unique per engine in this process (an address may be reused by a later engine): the key
  // of a cache that remembers one engine's state<T>() on a hot path.
  uint64_t serial() const { return serial_; }
  Scheduler& scheduler() { return *scheduler_; }

  // Per-engine state of a module: one T per engine and type, value-initialized on first use,
  // destroyed with the engine after the Lua state and every pending handler (so destructors of
  // Lua objects and handlers may still use it). Instead of process-wide statics.
  template <class T>
  T& state() {
    static const char key = 0;  // one per T
    auto& slot = states_[&key];
    if (!slot) slot = std::make_shared<T>();
    return *static_cast<T*>(slot.get());
  }

  // Runs the function at the top of the main thread's stack (with `nargs` arguments above it)
  // as the main task, then the event loop until no task, timer or listener remains.
  // Returns the process exit code.
  int run_main(int nargs);
  // Runs the event loop until no work remains (used by run_main and the REPL).
  void run_loop();

  // Exit policy.
  void note_uncaught_failure() { failed_ = true; }
  bool failed() const { return failed_; }
  void request_exit(int code);  // os.exit(n) from inside a task
  int exit_code() const;

  // Graceful shutdown (SIGINT/SIGTERM): closes listeners and WebSockets via their hooks, then
  // cancels every task. Hooks are registered by modules; the returned id removes one.
  using Hook = std::function<void()>;
  uint64_t add_shutdown_hook(Hook h);
  void remove_shutdown_hook(uint64_t id);
  void shutdown(int signal_number);

  // Idle hooks run (from a fresh handler) each time the last live task has finished. Modules
  // whose background work keeps the loop busy (WebSocket read loops) use them to release what
  // no script can reach any more, so such a script still ends.
  uint64_t add_idle_hook(Hook h);
  void remove_idle_hook(uint64_t id);
  void notify_idle();
  bool shutting_down() const { return shutdown_signal_ != 0; }

  // Signals are watched on a helper thread that only posts to this engine's loop, so a watched
  // signal never keeps the process alive on its own. The thread starts only once the loop
  // has work to wait for: a script that never waits (`moonwire -e ''`) starts faster, and a
  // signal before that point simply ends the process as it would any program.
  void watch_signals() { signals_wanted_ = true; }

  // Signals for scripts (process.on_signal). `hook` runs on the loop for each watched signal
  // and returns true when it took the signal: SIGINT/SIGTERM then skip the default shutdown
  // (the hook may start it later with shutdown()).
  using SignalHook = std::function<bool(int)>;
  void set_signal_hook(SignalHook hook) { signal_hook_ = std::move(hook); }
  // Watches `sig` too (SIGHUP, SIGUSR1, ...), or stops watching it (its default disposition
  // comes back). Starts the watcher now, so a signal sent once this returns is seen.
  void watch_signal(int sig, bool on);

 private:
  std::unordered_map<const void*, std::shared_ptr<void>> states_;  // first member: destroyed last
  lua_State* L_;
  // Destroyed explicitly after lua_close: pending handlers may own objects (servers,
  // connections) whose destructors still use the engine.
  std::unique_ptr<boost::asio::io_context> io_;
  bool closing_ = false;
  uint64_t serial_;
  std::unique_ptr<Scheduler> scheduler_;
  std::map<uint64_t, Hook> shutdown_hooks_;
  std::map<uint64_t, Hook> idle_hooks_;
  bool idle_posted_ = false;
  uint64_t next_hook_id_ = 1;
  bool failed_ = false;
  int forced_exit_ = -1;
  int shutdown_signal_ = 0;
  struct SignalWatcher;
  std::unique_ptr<SignalWatcher> signals_;
  bool signals_wanted_ = false;
  SignalHook signal_hook_;
  void handle_signal(int sig);
};

// The runtime replacements (coroutine, require, os.exit, error objects). Called by Engine's
// constructor before the module openers.
void open_runtime(lua_State* L);

}  // namespace mw
