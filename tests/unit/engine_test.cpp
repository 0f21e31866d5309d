// Engine-level tests: the suspend bridge, the scheduler, cancellation and error objects,
// driven from C++ with small Lua chunks.
#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <thread>
#include <unistd.h>
#include <vector>
#include <string>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/stdlib.hpp"

namespace {

// Runs `code` as the main task and returns the exit code.
int run(mw::Engine& e, const char* code) {
  if (luaL_loadstring(e.L(), code) != LUA_OK) {
    ADD_FAILURE() << lua_tostring(e.L(), -1);
    return -1;
  }
  return e.run_main(0);
}

lua_Integer global_int(mw::Engine& e, const char* name) {
  lua_getglobal(e.L(), name);
  lua_Integer v = lua_tointeger(e.L(), -1);
  lua_pop(e.L(), 1);
  return v;
}

std::string global_str(mw::Engine& e, const char* name) {
  lua_getglobal(e.L(), name);
  std::string v = lua_isstring(e.L(), -1) ? lua_tostring(e.L(), -1) : "<not a string>";
  lua_pop(e.L(), 1);
  return v;
}

// after_ms(ms, a, b) → a+b after ms, through the bridge with a real Asio timer.
int after_ms(lua_State* L) {
  lua_Integer ms = luaL_checkinteger(L, 1);
  lua_Integer sum = luaL_checkinteger(L, 2) + luaL_checkinteger(L, 3);
  int64_t timeout = luaL_optinteger(L, 4, -1);
  return mw::suspend(L, "after_ms", timeout, [&](const mw::OpPtr& op) {
    auto t = std::make_shared<boost::asio::steady_timer>(op->engine().io(), std::chrono::milliseconds(ms));
    t->async_wait(boost::asio::bind_cancellation_slot(op->slot(), [op, t, sum](const boost::system::error_code& ec) {
      if (ec || !op->active()) return;
      op->resume([sum](lua_State* L) {
        lua_pushinteger(L, sum);
        lua_pushliteral(L, "second");
      });
    }));
  });
}

// instant(x) → completes during start (no yield).
int instant(lua_State* L) {
  lua_Integer x = luaL_checkinteger(L, 1);
  return mw::suspend(L, "instant", -1, [&](const mw::OpPtr& op) {
    op->resume([x](lua_State* L) { lua_pushinteger(L, x * 10); });
  });
}

// failing() → fails asynchronously with a code.
int failing(lua_State* L) {
  return mw::suspend(L, "failing", -1, [&](const mw::OpPtr& op) {
    boost::asio::post(op->engine().io(), [op] { op->fail("EFAKE", "it failed"); });
  });
}

void register_helpers(mw::Engine& e) {
  lua_register(e.L(), "after_ms", after_ms);
  lua_register(e.L(), "instant", instant);
  lua_register(e.L(), "failing", failing);
}

}  // namespace

TEST(Engine, RunsMainChunk) {
  mw::Engine e{mw::open_stdlib};
  EXPECT_EQ(run(e, "x = 1 + 1"), 0);
  EXPECT_EQ(global_int(e, "x"), 2);
}

TEST(Engine, MainChunkErrorExitsWithOne) {
  mw::Engine e{mw::open_stdlib};
  testing::internal::CaptureStderr();
  EXPECT_EQ(run(e, "error('boom')"), 1);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("boom"), std::string::npos);
  EXPECT_NE(err.find("stack traceback"), std::string::npos);
}

TEST(Engine, FailedTaskSetsExitCodeButOthersKeepRunning) {
  mw::Engine e{mw::open_stdlib};
  testing::internal::CaptureStderr();
  int code = run(e, R"(
    task.spawn(function() task.sleep(0.01); error('task died') end)
    task.spawn(function() task.sleep(0.05); finished = 1 end)
  )");
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(code, 1);
  EXPECT_EQ(global_int(e, "finished"), 1);
  EXPECT_NE(err.find("task died"), std::string::npos);
}

TEST(Bridge, SuspendsAndResumesWithResults) {
  mw::Engine e{mw::open_stdlib};
  register_helpers(e);
  EXPECT_EQ(run(e, "a, b = after_ms(5, 2, 3)"), 0);
  EXPECT_EQ(global_int(e, "a"), 5);
  EXPECT_EQ(global_str(e, "b"), "second");
}

TEST(Bridge, CompletionDuringStartDoesNotYield) {
  mw::Engine e{mw::open_stdlib};
  register_helpers(e);
  EXPECT_EQ(run(e, "v = instant(4)"), 0);
  EXPECT_EQ(global_int(e, "v"), 40);
}

TEST(Bridge, FailureRaisesErrorObjectWithCode) {
  mw::Engine e{mw::open_stdlib};
  register_helpers(e);
  EXPECT_EQ(run(e, "local ok, err = pcall(failing); code = err.code; msg = tostring(err)"), 0);
  EXPECT_EQ(global_str(e, "code"), "EFAKE");
  EXPECT_NE(global_str(e, "msg").find("it failed"), std::string::npos);
}

TEST(Bridge, DeadlineTimesOut) {
  mw::Engine e{mw::open_stdlib};
  register_helpers(e);
  EXPECT_EQ(run(e, "local ok, err = pcall(after_ms, 1000, 1, 1, 10); code = err.code"), 0);
  EXPECT_EQ(global_str(e, "code"), "ETIMEDOUT");
}

TEST(Bridge, NotYieldableContextIsAClearError) {
  mw::Engine e{mw::open_stdlib};
  register_helpers(e);
  EXPECT_EQ(run(e, "local ok, err = pcall(table.sort, {2, 1}, function(a, b) after_ms(1, 0, 0) return a < b end)"
                   " code = err.code; msg = tostring(err)"),
            0);
  EXPECT_EQ(global_str(e, "code"), "not_yieldable");
  EXPECT_NE(global_str(e, "msg").find("table.sort"), std::string::npos);
}

TEST(Bridge, SuspensionInsideUserCoroutinePropagates) {
  mw::Engine e{mw::open_stdlib};
  register_helpers(e);
  EXPECT_EQ(run(e, R"(
    local gen = coroutine.wrap(function() coroutine.yield(after_ms(1, 1, 1)); coroutine.yield(after_ms(1, 2, 2)) end)
    r1 = gen(); r2 = gen()
  )"),
            0);
  EXPECT_EQ(global_int(e, "r1"), 2);
  EXPECT_EQ(global_int(e, "r2"), 4);
}

TEST(Scheduler, CancelWakesWaitingTaskWithCancelled) {
  mw::Engine e{mw::open_stdlib};
  register_helpers(e);
  EXPECT_EQ(run(e, R"(
    local t = task.spawn(function() after_ms(10000, 0, 0) end)
    t:cancel()
    local ok, err = pcall(t.join, t)
    code = err.code; status = t.status
  )"),
            0);
  EXPECT_EQ(global_str(e, "code"), "cancelled");
  EXPECT_EQ(global_str(e, "status"), "cancelled");
  EXPECT_EQ(e.scheduler().live_tasks(), 0u);
}

TEST(Scheduler, ShutdownCancelsTasksAndSetsSignalExitCode) {
  mw::Engine e{mw::open_stdlib};
  register_helpers(e);
  bool hook_ran = false;
  e.add_shutdown_hook([&] { hook_ran = true; });
  boost::asio::post(e.io(), [&] { e.shutdown(15); });
  EXPECT_EQ(run(e, "task.spawn(function() after_ms(10000, 0, 0) end) after_ms(10000, 0, 0)"), 143);
  EXPECT_TRUE(hook_ran);
  EXPECT_EQ(e.scheduler().live_tasks(), 0u);
}

TEST(Scheduler, ManyTasksInterleave) {
  mw::Engine e{mw::open_stdlib};
  EXPECT_EQ(run(e, R"(
    n = 0
    local ts = {}
    for i = 1, 1000 do ts[i] = task.spawn(function() for _ = 1, 10 do task.yield() end n = n + 1 end) end
    for i = 1, 1000 do ts[i]:join() end
  )"),
            0);
  EXPECT_EQ(global_int(e, "n"), 1000);
  EXPECT_GT(e.scheduler().switches(), 10000u);
}

TEST(Errors, ObjectsBehaveLikeStrings) {
  mw::Engine e{mw::open_stdlib};
  lua_State* L = e.L();
  mw::push_error(L, "ECODE", "something broke", 0);
  lua_setglobal(L, "err");
  EXPECT_EQ(run(e, R"(
    s = tostring(err); c = err.code; cat = "x: " .. err; found = err:find("broke") and 1 or 0
  )"),
            0);
  EXPECT_EQ(global_str(e, "s"), "something broke");
  EXPECT_EQ(global_str(e, "c"), "ECODE");
  EXPECT_EQ(global_str(e, "cat"), "x: something broke");
  EXPECT_EQ(global_int(e, "found"), 1);
}

TEST(Errors, MapsSystemErrorCodes) {
  EXPECT_EQ(mw::error_code_name(boost::system::error_code(ECONNREFUSED, boost::system::system_category())),
            "ECONNREFUSED");
  EXPECT_EQ(mw::error_code_name(boost::asio::error::host_not_found), "ENOTFOUND");
  EXPECT_EQ(mw::error_code_name(boost::asio::error::operation_aborted), "cancelled");
}

TEST(Engine, IdleHookRunsOnceTheLastTaskFinished) {
  mw::Engine e{mw::open_stdlib};
  int runs = 0;
  size_t live_at_run = 99;
  e.add_idle_hook([&] {
    ++runs;
    live_at_run = e.scheduler().live_tasks();
  });
  EXPECT_EQ(run(e, "task.spawn(function() task.sleep(0.02) end) task.sleep(0.01)"), 0);
  EXPECT_EQ(runs, 1);  // not when the main task ended while the other still slept
  EXPECT_EQ(live_at_run, 0u);
}

TEST(Engine, RemovedIdleHookDoesNotRun) {
  mw::Engine e{mw::open_stdlib};
  bool ran = false;
  uint64_t id = e.add_idle_hook([&] { ran = true; });
  e.remove_idle_hook(id);
  EXPECT_EQ(run(e, "task.yield()"), 0);
  EXPECT_FALSE(ran);
}

namespace {

// Engine::watch_signal + set_signal_hook: a watched signal reaches the hook on the loop thread;
// a hook that takes SIGTERM keeps the default shutdown from starting.
TEST(EngineSignals, HookSeesWatchedSignalsAndCanTakeSigterm) {
  mw::Engine e{mw::open_stdlib};
  std::vector<int> seen;
  std::thread::id loop_thread = std::this_thread::get_id();
  bool on_loop = true;
  e.set_signal_hook([&](int sig) {
    seen.push_back(sig);
    on_loop = on_loop && std::this_thread::get_id() == loop_thread;
    return true;
  });
  e.watch_signal(SIGUSR2, true);
  e.watch_signal(SIGTERM, true);
  ::kill(::getpid(), SIGUSR2);
  ::kill(::getpid(), SIGTERM);
  // The main task waits long enough for both to arrive (the hook keeps the shutdown away).
  EXPECT_EQ(run(e, "for _ = 1, 200 do task.sleep(0.005) if _G.stop then break end end"), 0);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], SIGUSR2);
  EXPECT_EQ(seen[1], SIGTERM);
  EXPECT_TRUE(on_loop);
  EXPECT_FALSE(e.shutting_down());
  e.watch_signal(SIGUSR2, false);
  struct sigaction sa {};
  ::sigaction(SIGUSR2, nullptr, &sa);
  EXPECT_EQ(sa.sa_handler, SIG_DFL);  // the default disposition is back
}

}  // namespace
// The engine opens only what its host hands it.
namespace {
std::string opened;
void open_a(lua_State* L) {
  opened += 'a';
  lua_pushinteger(L, 1);
  lua_setglobal(L, "from_a");
}
void open_b(lua_State*) { opened += 'b'; }
}  // namespace

TEST(Engine, OpensOnlyTheModulesItIsGiven) {
  {
    mw::Engine bare;
    lua_getglobal(bare.L(), "task");
    EXPECT_TRUE(lua_isnil(bare.L(), -1));  // no stdlib module without an opener
    lua_pop(bare.L(), 1);
    lua_getglobal(bare.L(), "string");
    EXPECT_TRUE(lua_istable(bare.L(), -1));  // the standard libraries always
    lua_pop(bare.L(), 1);
  }
  opened.clear();
  mw::Engine e{open_b, open_a};
  EXPECT_EQ(opened, "ba");  // each once, in the order given
  EXPECT_EQ(global_int(e, "from_a"), 1);
}

namespace {
struct Counter {
  int value = 0;
  static inline int destroyed = 0;
  ~Counter() { ++destroyed; }
};
}  // namespace

TEST(Engine, StateIsPerEngineAndDestroyedWithIt) {
  Counter::destroyed = 0;
  {
    mw::Engine a, b;
    a.state<Counter>().value = 5;
    EXPECT_EQ(a.state<Counter>().value, 5);  // the same object on every call
    EXPECT_EQ(b.state<Counter>().value, 0);  // another engine's own
    EXPECT_EQ(&a.state<Counter>(), &a.state<Counter>());
    EXPECT_NE(static_cast<void*>(&a.state<Counter>()), static_cast<void*>(&a.state<int>()));
  }
  EXPECT_EQ(Counter::destroyed, 2);
}
