#include "runtime/suspend.hpp"

#include <boost/asio/post.hpp>
#include <unordered_map>

#include "runtime/coroutine.hpp"
#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/pool.hpp"
#include "runtime/scheduler.hpp"

namespace mw {

char kIoYield;

// After this many calls in a row that completed without suspending, a task gives others a turn.
static constexpr int kFairnessBudget = 64;

Op::Op(Engine& engine, lua_State* thread, Task* task, const char* what)
    : engine_(engine), thread_(thread), task_(task), what_(what) {}

Op::~Op() = default;

bool Op::engine_closing() const { return engine_.closing(); }

lua_State* Op::begin_resume(bool ok) {
  state_ = State::finished;
  if (timer_) timer_->cancel();
  lua_pushboolean(thread_, ok);
  return thread_;
}

void Op::end_resume() {
  Task* t = task_;
  Scheduler& sched = engine_.scheduler();
  OpPtr keep;  // may hold the last reference to *this: nothing below touches members
  if (t->op.get() == this) keep = std::move(t->op);
  sched.wake(t);
}

void Op::finish_early(bool ok) {
  state_ = State::finished;
  early_ = true;
  early_ok_ = ok;
  if (timer_) timer_->cancel();
}

void Op::push_early_results(lua_State* L) {
  lua_pushboolean(L, early_ok_);
  if (deferred_) deferred_(L);
}

void Op::fail(std::string_view code, std::string_view message) {
  if (!active()) return;
  if (state_ == State::starting) {
    deferred_ = [c = std::string(code), m = std::string(message)](lua_State* L) {
      push_sv(L, c);
      push_sv(L, m);
    };
    finish_early(false);
    return;
  }
  lua_State* L = begin_resume(false);
  push_sv(L, code);
  push_sv(L, message);
  end_resume();
}

void Op::fail(const boost::system::error_code& ec, std::string_view context) {
  std::string msg(context);
  if (!msg.empty()) msg += ": ";
  msg += error_text(ec);
  fail(error_code_name(ec), msg);
}

void Op::fail_with(std::function<void(lua_State*)> push) {
  if (!active()) return;
  if (state_ == State::starting) {
    deferred_ = std::move(push);
    finish_early(false);
    return;
  }
  lua_State* L = begin_resume(false);
  push(L);
  end_resume();
}

void Op::arm_timeout(int64_t ms) {
  timer_ = std::make_unique<boost::asio::steady_timer>(engine_.io(), std::chrono::milliseconds(ms));
  timer_->async_wait([w = std::weak_ptr<Op>(shared_from_this()), ms](const boost::system::error_code& ec) {
    auto op = w.lock();
    if (ec || !op || !op->active()) return;
    std::string msg = std::string(op->what()) + " timed out after " + std::to_string(ms) + " ms";
    op->abandon(kTimedOut, msg);
  });
}

void Op::abandon(std::string_view code, std::string_view message) {
  if (!active()) return;
  OpPtr keep = shared_from_this();
  // Stop the underlying work first: completion handlers never run synchronously here.
  if (auto f = std::move(on_abandon_)) f();
  cancel_signal_.emit(boost::asio::cancellation_type::terminal);
  fail(code, message);
}

// Continuation of every suspended call. The stack holds the call's own frame up to `base`,
// then a marker (true: results follow; false: an error follows, either code+message or a value).
static int io_continue(lua_State* L, int status, lua_KContext ctx) {
  int base = static_cast<int>(ctx);
  if (lua_toboolean(L, base + 1)) return lua_gettop(L) - (base + 1);
  if (lua_gettop(L) - (base + 1) == 2) push_error(L, to_sv(L, base + 2), to_sv(L, base + 3), 1);
  return lua_error(L);
}

[[noreturn]] static void raise_not_yieldable(lua_State* L, const char* what) {
  // Name the C function that prevents yielding (table.sort, string.gsub, ...), if there is one.
  lua_Debug ar;
  const char* inside = nullptr;
  for (int level = 1; lua_getstack(L, level, &ar); ++level) {
    lua_getinfo(L, "Snf", &ar);
    if (*ar.what == 'C') {
      inside = global_function_name(L);
      if (!inside) inside = ar.name;
      if (inside) break;
    } else {
      lua_pop(L, 1);
    }
  }
  if (inside)
    raisef(L, "not_yieldable", "%s cannot wait inside '%s': Lua cannot yield across that C call; do the I/O outside it",
           what, inside);
  raisef(L, "not_yieldable",
         "%s cannot wait here (inside a metamethod, __gc or another call Lua cannot yield across); do the I/O outside it",
         what);
}

OpPtr begin_suspend(lua_State* L, const char* what, int64_t timeout_ms) {
  Engine& engine = Engine::of(L);
  Task* task = engine.scheduler().current();
  if (!task || !chain_is_yieldable(L, task)) raise_not_yieldable(L, what);
  if (task->cancel_requested) {
    task->cancel_requested = false;
    raisef(L, kCancelled, "task cancelled (in %s)", what);
  }
  auto op = std::allocate_shared<Op>(PoolAllocator<Op>(), engine, L, task, what);
  op->set_timeout(timeout_ms);  // armed by prepare_wait, once the op really waits
  return op;
}

int prepare_wait(lua_State* L, const OpPtr& op) {
  int base = lua_gettop(L);
  if (op->completed_early()) {
    op->push_early_results(L);
    return base * 2 + 1;
  }
  op->mark_pending();
  if (op->timeout_ms() >= 0) op->arm_timeout(op->timeout_ms());
  Task* task = op->task();
  task->op = op;
  task->sync_streak = 0;
  return base * 2;
}

int finish_suspend(lua_State* L, int token) {
  int base = token / 2;
  if (token & 1) return complete_now(L, io_continue(L, LUA_OK, base));
  lua_pushlightuserdata(L, &kIoYield);
  return lua_yieldk(L, 1, base, io_continue);
}

static int after_turn(lua_State* L, int status, lua_KContext ctx) { return static_cast<int>(ctx); }

// Gives every other ready task a turn: the task is simply posted to the back of the queue. No Op
// is needed: a cancellation meanwhile is delivered at the task's next suspension.
static int yield_with(lua_State* L, int nresults) {
  Scheduler& sched = Engine::of(L).scheduler();
  Task* task = sched.current();
  task->op.reset();
  task->sync_streak = 0;
  sched.post_wake(task);
  lua_pushlightuserdata(L, &kIoYield);
  return lua_yieldk(L, 1, nresults, after_turn);
}

int complete_now(lua_State* L, int nresults) {
  Task* task = Engine::of(L).scheduler().current();
  if (!task || ++task->sync_streak < kFairnessBudget || !chain_is_yieldable(L, task)) return nresults;
  return yield_with(L, nresults);
}

int yield_turn(lua_State* L) {
  Task* task = Engine::of(L).scheduler().current();
  if (!task || !chain_is_yieldable(L, task)) raise_not_yieldable(L, "task.yield");
  if (task->cancel_requested) {
    task->cancel_requested = false;
    raise(L, kCancelled, "task cancelled (in task.yield)");
  }
  return yield_with(L, 0);
}

}  // namespace mw
