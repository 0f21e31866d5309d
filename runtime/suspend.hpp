#pragma once
// THE bridge between Lua and Asio. A blocking-looking C function starts an Asio operation and
// returns mw::suspend(...): the calling coroutine (and the coroutine chain up to its task)
// yields; the operation's completion handler calls op->resume(...) or op->fail(...), which
// pushes results onto the waiting coroutine and resumes its task. No module yields any other way.
//
//   static int conn_read(lua_State* L) {
//     auto* c = check_conn(L, 1);
//     return mw::suspend(L, "read", c->timeout_ms, [&](const mw::OpPtr& op) {
//       c->sock.async_wait(tcp::socket::wait_read, [op, c = c->shared()](auto ec) {
//         if (!op->active()) return;              // timed out / cancelled meanwhile
//         if (ec) return op->fail(ec, "read");
//         op->resume([&](lua_State* L) { lua_pushstring(L, "..."); });
//       });
//     });
//   }
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "runtime/lua.hpp"

namespace mw {

class Engine;
struct Task;

class Op : public std::enable_shared_from_this<Op> {
 public:
  Op(Engine& engine, lua_State* thread, Task* task, const char* what);
  ~Op();

  // False once the op completed, failed, timed out or was cancelled: a late completion
  // handler must then do nothing (and leave any unread data where the next call finds it).
  bool active() const { return state_ != State::finished && !engine_closing(); }
  const char* what() const { return what_; }
  Engine& engine() const { return engine_; }
  // The waiting coroutine (its stack holds the suspended call's arguments).
  lua_State* thread() const { return thread_; }

  // Success: `push(L)` pushes the results onto the waiting coroutine `L`.
  template <class Push>
  void resume(Push&& push) {
    if (!active()) return;
    if (state_ == State::starting) {
      deferred_ = std::forward<Push>(push);
      finish_early(true);
      return;
    }
    lua_State* L = begin_resume(true);
    push(L);
    end_resume();
  }
  void resume() {
    resume([](lua_State*) {});
  }
  // Failure with a code ("ECONNREFUSED", "closed", ...) and message; the error object is built
  // in the waiting coroutine with the caller's position.
  void fail(std::string_view code, std::string_view message);
  void fail(const boost::system::error_code& ec, std::string_view context);
  // Failure with an arbitrary Lua value pushed by `push` (re-raised as is, e.g. by join).
  void fail_with(std::function<void(lua_State*)> push);

  // Called when the op is abandoned (timeout, task cancel, shutdown) before completing; use it
  // to stop work that must not outlive the call (a connect in progress, ...).
  void on_abandon(std::function<void()> f) { on_abandon_ = std::move(f); }
  // Per-operation cancellation for Asio operations that support it; emitted on abandon.
  boost::asio::cancellation_slot slot() { return cancel_signal_.slot(); }

  // Internal (scheduler/suspend): timeouts and cancellation.
  void arm_timeout(int64_t ms);
  void set_timeout(int64_t ms) { timeout_ms_ = ms; }
  int64_t timeout_ms() const { return timeout_ms_; }
  void abandon(std::string_view code, std::string_view message);
  bool completed_early() const { return early_; }
  Task* task() const { return task_; }
  void mark_pending() { state_ = State::pending; }
  void push_early_results(lua_State* L);

 private:
  enum class State { starting, pending, finished };
  bool engine_closing() const;
  lua_State* begin_resume(bool ok);
  void end_resume();
  void finish_early(bool ok);

  Engine& engine_;
  lua_State* thread_;
  Task* task_;
  const char* what_;
  State state_ = State::starting;
  int64_t timeout_ms_ = -1;
  bool early_ = false;
  bool early_ok_ = false;
  std::function<void(lua_State*)> deferred_;
  std::function<void()> on_abandon_;
  std::unique_ptr<boost::asio::steady_timer> timer_;
  boost::asio::cancellation_signal cancel_signal_;
};

using OpPtr = std::shared_ptr<Op>;

// Prepares a suspension of the running coroutine: raises a clear error where Lua cannot yield
// (naming `what`), or when the task was cancelled. `timeout_ms` < 0 means no deadline.
OpPtr begin_suspend(lua_State* L, const char* what, int64_t timeout_ms);
// Registers the op with its task and pushes what finish_suspend needs; returns a token.
int prepare_wait(lua_State* L, const OpPtr& op);
// Yields (or returns at once if the op already completed during start).
int finish_suspend(lua_State* L, int token);

// lua_yieldk and lua_error longjmp (Lua is built as C): C++ objects alive in the calling frame
// would never be destroyed. So the op lives in an inner scope, and callers of suspend() keep
// only trivially destructible locals (pointers, string_views, numbers) in their own frame.
// `start` may raise (e.g. a bad option) only before it has started any asynchronous work: the
// op is not armed or registered until start returns.
template <class Start>
int suspend(lua_State* L, const char* what, int64_t timeout_ms, Start&& start) {
  int token;
  {
    OpPtr op = begin_suspend(L, what, timeout_ms);
    start(op);
    token = prepare_wait(L, op);
  }
  return finish_suspend(L, token);
}

// For calls that completed at once (data already buffered): returns `nresults` (already on
// the stack), but every so often yields first so one busy connection cannot starve the others.
int complete_now(lua_State* L, int nresults);

// Lets other tasks run (task.yield).
int yield_turn(lua_State* L);

// Sentinel yielded through coroutine chains for I/O suspensions.
extern char kIoYield;
inline bool is_io_yield(lua_State* L, int nres) {
  return nres == 1 && lua_touserdata(L, -1) == &kIoYield;
}

}  // namespace mw
