// mw::Callback: a Lua function run from the event loop as a task (runtime/callback.hpp).
#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <string>

#include "runtime/callback.hpp"
#include "runtime/engine.hpp"
#include "stdlib/stdlib.hpp"

namespace {

struct Held {
  mw::Callback cb;
};

// hold(fn, bound...) keeps fn in the engine's state; fire(n) runs it from the loop n times,
// each time with the extra argument i (1..n).
int hold(lua_State* L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  mw::Engine::of(L).state<Held>().cb = mw::Callback(L, 1, lua_gettop(L) - 1);
  return 0;
}

int fire(lua_State* L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  mw::Engine& e = mw::Engine::of(L);
  boost::asio::post(e.io(), [&e, n] {
    for (lua_Integer i = 1; i <= n; ++i)
      e.state<Held>().cb.run([i](lua_State* L) { return lua_pushinteger(L, i), 1; });
  });
  return 0;
}

int drop(lua_State* L) {
  mw::Engine::of(L).state<Held>().cb.release();
  return 0;
}

int run(mw::Engine& e, const char* code) {
  lua_register(e.L(), "hold", hold);
  lua_register(e.L(), "fire", fire);
  lua_register(e.L(), "drop", drop);
  if (luaL_loadstring(e.L(), code) != LUA_OK) {
    ADD_FAILURE() << lua_tostring(e.L(), -1);
    return -1;
  }
  return e.run_main(0);
}

std::string global_str(mw::Engine& e, const char* name) {
  lua_getglobal(e.L(), name);
  std::string v = lua_isstring(e.L(), -1) ? lua_tostring(e.L(), -1) : "<not a string>";
  lua_pop(e.L(), 1);
  return v;
}

TEST(Callback, RunsAsTasksWithBoundAndExtraArgumentsInOrder) {
  mw::Engine e{mw::open_stdlib};
  EXPECT_EQ(run(e, R"(
    log = ""
    hold(function(a, b, c, i)
      log = log .. tostring(a) .. tostring(b) .. tostring(c) .. i .. ";"
      task.sleep(0.01)  -- a callback may wait: it is a task of its own
      log = log .. "w" .. i .. ";"
    end, "x", nil, 3)
    fire(2)
    task.sleep(0.1)
  )"),
            0);
  EXPECT_EQ(global_str(e, "log"), "xnil31;xnil32;w1;w2;");
}

TEST(Callback, AnErrorIsReportedLikeATaskFailureAndOthersRun) {
  mw::Engine e{mw::open_stdlib};
  testing::internal::CaptureStderr();
  int code = run(e, R"(
    log = ""
    hold(function(i)
      if i == 1 then error("callback one broke") end
      log = log .. i
    end)
    fire(3)
    task.sleep(0.05)
  )");
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(code, 1);
  EXPECT_EQ(global_str(e, "log"), "23");
  EXPECT_NE(err.find("callback one broke"), std::string::npos);
  EXPECT_NE(err.find("stack traceback"), std::string::npos);
}

TEST(Callback, ReleasedDoesNotRunAndMayBeReleasedFromItsOwnTask) {
  mw::Engine e{mw::open_stdlib};
  EXPECT_EQ(run(e, R"(
    n = 0
    hold(function() n = n + 1; drop() end)  -- releases itself while it runs
    fire(3)
    task.sleep(0.05)
    drop()
    fire(1)
    task.sleep(0.05)
    result = tostring(n)
  )"),
            0);
  EXPECT_EQ(global_str(e, "result"), "1");
}

TEST(Callback, HeldPastTheEngineIsDestroyedSafely) {
  // The engine's state outlives its Lua state: the Callback must not touch the registry then.
  mw::Engine e{mw::open_stdlib};
  EXPECT_EQ(run(e, "hold(function() end, 1, 2)"), 0);
}

}  // namespace
