#include "runtime/engine.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <future>

#include "runtime/coroutine.hpp"
#include "runtime/embedded.hpp"
#include "runtime/errors.hpp"
#include "runtime/pool.hpp"
#include "runtime/scheduler.hpp"

namespace mw {

// Watches SIGINT/SIGTERM (and the signals scripts asked for) on a helper thread with its own
// io_context, and posts to the engine: the engine's loop then has no pending signal wait that
// would keep the process alive.
struct Engine::SignalWatcher {
  boost::asio::io_context io{1};
  boost::asio::signal_set signals{io, SIGINT, SIGTERM};
  std::thread thread;
  // A SIGINT/SIGTERM while the shutdown runs, or while the loop has not yet taken the previous
  // one (it may be stuck in a busy Lua loop), exits at once.
  std::atomic<bool> shutting_down{false};
  std::atomic<int> pending{0};

  explicit SignalWatcher(Engine& engine) : shutting_down(engine.shutting_down()) {
    arm(engine);
    thread = std::thread([this] { io.run(); });
  }
  ~SignalWatcher() {
    io.stop();
    if (thread.joinable()) thread.join();
  }
  void arm(Engine& engine) {
    signals.async_wait([this, &engine](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      bool stops = sig == SIGINT || sig == SIGTERM;
      if (stops && (shutting_down || pending > 0)) std::_Exit(128 + sig);  // second signal: exit at once
      if (stops) ++pending;
      boost::asio::post(engine.io(), [this, &engine, sig, stops] {
        if (stops) --pending;
        engine.handle_signal(sig);
      });
      arm(engine);
    });
  }
  // Runs on the watcher's thread (a signal_set is not shared between threads); waits for it.
  void change(int sig, bool on) {
    std::promise<void> done;
    boost::asio::post(io, [&] {
      boost::system::error_code ec;
      if (on) signals.add(sig, ec);
      else signals.remove(sig, ec);
      done.set_value();
    });
    done.get_future().wait();
  }
};

// What luaL_newstate installs (lauxlib keeps these static), for a state on the pool allocator.
static int panic(lua_State* L) {
  const char* msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "error object is not a string";
  std::fprintf(stderr, "PANIC: unprotected error in call to Lua API (%s)\n", msg);
  return 0;  // then abort()
}

static void warn_off(void* ud, const char* message, int tocont);
static void warn_on(void* ud, const char* message, int tocont);

// "@on" / "@off" switch warnings (lua -W, warn("@on")).
static bool warn_control(lua_State* L, const char* message, int tocont) {
  if (tocont || *message != '@') return false;
  if (std::string_view(message + 1) == "off") lua_setwarnf(L, warn_off, L);
  if (std::string_view(message + 1) == "on") lua_setwarnf(L, warn_on, L);
  return true;
}

static void warn_off(void* ud, const char* message, int tocont) {
  warn_control(static_cast<lua_State*>(ud), message, tocont);
}

static void warn_cont(void* ud, const char* message, int tocont) {
  auto* L = static_cast<lua_State*>(ud);
  std::fputs(message, stderr);
  if (tocont) {
    lua_setwarnf(L, warn_cont, L);
  } else {
    std::fputs("\n", stderr);
    std::fflush(stderr);
    lua_setwarnf(L, warn_on, L);
  }
}

static void warn_on(void* ud, const char* message, int tocont) {
  if (warn_control(static_cast<lua_State*>(ud), message, tocont)) return;
  std::fputs("Lua warning: ", stderr);
  warn_cont(ud, message, tocont);
}

// Lua's tables, strings and closures come from the pool: a script that handles messages makes
// and drops several small objects per message.
static lua_State* new_state() {
  lua_State* L = lua_newstate(pool_lua_alloc, nullptr);
  if (L) {
    lua_atpanic(L, panic);
    lua_setwarnf(L, warn_off, L);
  }
  return L;
}

static std::atomic<uint64_t> g_engine_serial{0};

// One thread runs the loop and starts every socket operation, so the reactor's per-socket
// locks are not needed (two lock/unlock pairs per read or write). Other threads (the signal
// watcher, the REPL's line reader, the resolver) only post handlers: the scheduler stays locked.
static constexpr int kConcurrencyHint = BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO;

Engine::Engine(std::initializer_list<ModuleOpener> openers)
    : L_(new_state()), io_(std::make_unique<boost::asio::io_context>(kConcurrencyHint)), serial_(++g_engine_serial) {
  if (!L_) {
    std::fprintf(stderr, "moonwire: cannot create Lua state: not enough memory\n");
    std::exit(1);
  }
  *static_cast<Engine**>(lua_getextraspace(L_)) = this;
  scheduler_ = std::make_unique<Scheduler>(*this);
  luaL_openlibs(L_);
  open_runtime(L_);
  for (ModuleOpener open : openers) open(L_);
}

Engine::~Engine() {
  signals_.reset();
  scheduler_->before_close();
  closing_ = true;
  lua_close(L_);
  io_.reset();
}

int Engine::run_main(int nargs) {
  Task* t = scheduler_->create(L_, nargs);
  t->is_main = true;  // before it runs: an error in the main chunk is reported as such
  lua_pop(L_, 1);
  scheduler_->start(t);
  run_loop();
  scheduler_->check_unhandled();  // failures of the last turn (os.exit, the end of the tests)
  return exit_code();
}

void Engine::run_loop() {
  for (;;) {
    if (forced_exit_ >= 0) return;
    io_->restart();
    io_->poll();
    if (!io_->stopped()) {
      if (signals_wanted_ && !signals_) signals_ = std::make_unique<SignalWatcher>(*this);
      io_->run();
      if (forced_exit_ >= 0) return;
    }
    // Out of work. Tasks still waiting can only be woken by what a finalizer does (closing a
    // connection nobody references wakes its reader): collect once, then look again.
    if (scheduler_->live_tasks() == 0) return;
    lua_gc(L_, LUA_GCCOLLECT);
    io_->restart();
    if (io_->poll() > 0) continue;
    if (scheduler_->report_deadlock()) failed_ = true;
    return;
  }
}

void Engine::request_exit(int code) {
  forced_exit_ = code;
  io_->stop();
}

int Engine::exit_code() const {
  if (forced_exit_ >= 0) return forced_exit_;
  if (shutdown_signal_) return 128 + shutdown_signal_;
  return failed_ ? 1 : 0;
}

uint64_t Engine::add_shutdown_hook(Hook h) {
  uint64_t id = next_hook_id_++;
  shutdown_hooks_.emplace(id, std::move(h));
  return id;
}

void Engine::remove_shutdown_hook(uint64_t id) { shutdown_hooks_.erase(id); }

uint64_t Engine::add_idle_hook(Hook h) {
  uint64_t id = next_hook_id_++;
  idle_hooks_.emplace(id, std::move(h));
  return id;
}

void Engine::remove_idle_hook(uint64_t id) { idle_hooks_.erase(id); }

void Engine::notify_idle() {
  if (idle_hooks_.empty() || idle_posted_) return;
  idle_posted_ = true;
  boost::asio::post(*io_, [this] {
    idle_posted_ = false;
    if (closing_ || scheduler_->live_tasks() > 0) return;
    auto hooks = idle_hooks_;  // a hook may remove itself
    for (auto& [id, hook] : hooks) hook();
  });
}

void Engine::watch_signal(int sig, bool on) {
  signals_wanted_ = true;
  if (!signals_) signals_ = std::make_unique<SignalWatcher>(*this);
  if (sig != SIGINT && sig != SIGTERM) signals_->change(sig, on);  // those are always watched
}

void Engine::handle_signal(int sig) {
  if (closing_) return;
  if (signal_hook_ && signal_hook_(sig)) return;
  if (sig == SIGINT || sig == SIGTERM) shutdown(sig);
}

void Engine::shutdown(int signal_number) {
  if (shutdown_signal_) return;
  shutdown_signal_ = signal_number;
  if (signals_) signals_->shutting_down = true;
  auto hooks = std::move(shutdown_hooks_);
  shutdown_hooks_.clear();
  for (auto& [id, hook] : hooks) hook();
  scheduler_->cancel_all();
}

// --- runtime library -------------------------------------------------------------------------

void open_require(lua_State* L);  // require.cpp

// For the test runner (debug.getregistry()[...]): how many task failures were reported as
// uncaught so far, after reporting those of the current turn.
static int uncaught_failures(lua_State* L) {
  Scheduler& sched = Engine::of(L).scheduler();
  sched.check_unhandled();
  lua_pushinteger(L, static_cast<lua_Integer>(sched.uncaught_failures()));
  return 1;
}

// os.exit: failures of the current turn are reported before the process ends.
static int os_exit(lua_State* L) {
  Engine::of(L).scheduler().check_unhandled();
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

void open_runtime(lua_State* L) {
  lua_getglobal(L, "os");
  lua_getfield(L, -1, "exit");
  lua_pushcclosure(L, os_exit, 1);
  lua_setfield(L, -2, "exit");
  lua_pop(L, 1);
  lua_pushcfunction(L, uncaught_failures);
  lua_setfield(L, LUA_REGISTRYINDEX, "moonwire.uncaught_failures");
  open_errors(L);
  open_task_type(L);
  open_coroutine(L);
  open_require(L);
}

}  // namespace mw
