// Task switch baseline: the minimal version of what moonwire does for task.yield().
// One asio::io_context on one thread; K Lua coroutines, each running
//     local yield, n = ...; for i = 1, n do yield() end
// where yield is a C function returning lua_yield(L, 0). A posted handler lua_resume()s a
// coroutine; when it yields the handler posts itself again. One round trip (post -> resume ->
// yield back to C) counts as one switch, exactly like one task.yield() under moonwire.
//
// usage: bench_switch_baseline TOTAL_SWITCHES [COROUTINES]
// prints: switches=<n> seconds=<s> rate=<switches/s>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
}

namespace asio = boost::asio;

static int c_yield(lua_State* L) { return lua_yield(L, 0); }

static const char* kBody = "local yield, n = ...; for i = 1, n do yield() end";

struct Runner {
  asio::io_context& io;
  lua_State* co;
  int nargs;
  long long* switches;

  void step() {
    int nres = 0;
    int status = lua_resume(co, nullptr, nargs, &nres);
    nargs = 0;
    ++*switches;
    if (status == LUA_YIELD) {
      lua_pop(co, nres);
      asio::post(io, [this] { step(); });
    } else if (status != LUA_OK) {
      std::fprintf(stderr, "coroutine error: %s\n", lua_tostring(co, -1));
      std::exit(1);
    }
  }
};

int main(int argc, char** argv) {
  long long total = argc > 1 ? std::atoll(argv[1]) : 1000000;
  int k = argc > 2 ? std::atoi(argv[2]) : 1;
  if (total <= 0 || k <= 0) {
    std::fprintf(stderr, "usage: %s TOTAL_SWITCHES [COROUTINES]\n", argv[0]);
    return 2;
  }
  lua_State* L = luaL_newstate();
  luaL_openlibs(L);
  asio::io_context io(1);
  long long switches = 0;
  std::vector<Runner> runners;
  runners.reserve(k);
  for (int i = 0; i < k; ++i) {
    lua_State* co = lua_newthread(L);
    luaL_ref(L, LUA_REGISTRYINDEX);  // keep the coroutine alive
    if (luaL_loadstring(co, kBody) != LUA_OK) {
      std::fprintf(stderr, "%s\n", lua_tostring(co, -1));
      return 1;
    }
    lua_pushcfunction(co, c_yield);
    lua_pushinteger(co, total / k);
    runners.push_back(Runner{io, co, 2, &switches});
  }
  auto t0 = std::chrono::steady_clock::now();
  for (auto& r : runners) asio::post(io, [&r] { r.step(); });
  io.run();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Each coroutine is resumed n+1 times (the last resume returns); count yields only.
  long long yields = switches - k;
  std::printf("switches=%lld seconds=%.6f rate=%.0f\n", yields, secs, yields / secs);
  lua_close(L);
  return 0;
}
