// time (CopperMoon): now, now_ms, monotonic, monotonic_ms, sleep(ms); and the timer globals
// setTimeout/setInterval/clearTimeout/clearInterval, each callback run in its own task.
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cmath>
#include <unordered_map>

#include "runtime/engine.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/modules.hpp"

namespace mw {

int sleep_ms(lua_State* L, int64_t ms, const char* what);  // task.cpp

using Clock = std::chrono::steady_clock;

static int time_now(lua_State* L) {
  auto d = std::chrono::system_clock::now().time_since_epoch();
  lua_pushnumber(L, std::chrono::duration<double>(d).count());
  return 1;
}

static int time_now_ms(lua_State* L) {
  auto d = std::chrono::system_clock::now().time_since_epoch();
  lua_pushinteger(L, std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  return 1;
}

static int time_monotonic(lua_State* L) {
  lua_pushnumber(L, std::chrono::duration<double>(Clock::now().time_since_epoch()).count());
  return 1;
}

static int time_monotonic_ms(lua_State* L) {
  lua_pushinteger(L, std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count());
  return 1;
}

static int time_sleep(lua_State* L) {
  luaL_checknumber(L, 1);
  return sleep_ms(L, check_delay(L, 1, 1, 0, "duration"), "time.sleep");
}

int open_time(lua_State* L) {
  const luaL_Reg funcs[] = {{"now", time_now},
                            {"now_ms", time_now_ms},
                            {"monotonic", time_monotonic},
                            {"monotonic_ms", time_monotonic_ms},
                            {"sleep", time_sleep},
                            {nullptr, nullptr}};
  luaL_newlib(L, funcs);
  return 1;
}

// --- timers -----------------------------------------------------------------------------------

struct Timer {
  explicit Timer(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
  Clock::duration interval{};
  bool repeat = false;
  int callback_ref = LUA_NOREF;  // {fn, args...}
};

struct Timers {
  std::unordered_map<lua_Integer, std::shared_ptr<Timer>> active;
  lua_Integer next_id = 1;
  Engine* engine = nullptr;
  uint64_t shutdown_hook = 0;
};

static Timers& timers_of(lua_State* L) {
  return *static_cast<Timers*>(lua_touserdata(L, lua_upvalueindex(1)));
}

static void clear_timer(lua_State* L, Timers& ts, lua_Integer id) {
  auto it = ts.active.find(id);
  if (it == ts.active.end()) return;
  it->second->timer.cancel();
  luaL_unref(L, LUA_REGISTRYINDEX, it->second->callback_ref);
  ts.active.erase(it);
}

static void arm(Engine& engine, Timers& ts, lua_Integer id, std::shared_ptr<Timer> t) {
  t->timer.async_wait([&engine, &ts, id, t](const boost::system::error_code& ec) {
    if (ec || !ts.active.count(id)) return;
    lua_State* L = engine.L();
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->callback_ref);
    int n = static_cast<int>(lua_rawlen(L, -1));
    for (int i = 1; i <= n; ++i) lua_rawgeti(L, -i, i);
    lua_remove(L, -(n + 1));
    if (t->repeat) {
      t->timer.expires_at(t->timer.expiry() + t->interval);  // no drift
      arm(engine, ts, id, t);
    } else {
      luaL_unref(L, LUA_REGISTRYINDEX, t->callback_ref);
      ts.active.erase(id);
    }
    engine.scheduler().spawn(L, n - 1, true);
    lua_pop(L, 1);
  });
}

static int set_timer(lua_State* L, bool repeat) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  int64_t ms = check_delay(L, 2, 1, 0, "delay");
  if (repeat && ms == 0) ms = 1;  // an interval of 0 would spin
  Engine& engine = Engine::of(L);
  Timers& ts = timers_of(L);
  int nargs = lua_gettop(L);
  lua_createtable(L, nargs - 1, 0);
  lua_pushvalue(L, 1);
  lua_rawseti(L, -2, 1);
  for (int i = 3; i <= nargs; ++i) {
    lua_pushvalue(L, i);
    lua_rawseti(L, -2, i - 1);
  }
  auto t = std::make_shared<Timer>(engine.io());
  t->callback_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  t->repeat = repeat;
  if (ms == kForever) {
    t->repeat = false;  // it never fires
    t->timer.expires_at(Clock::time_point::max());
  } else {
    t->interval = std::chrono::milliseconds(ms);
    t->timer.expires_after(t->interval);
  }
  lua_Integer id = ts.next_id++;
  ts.active.emplace(id, t);
  arm(engine, ts, id, t);
  lua_pushinteger(L, id);
  return 1;
}

static int set_timeout(lua_State* L) { return set_timer(L, false); }
static int set_interval(lua_State* L) { return set_timer(L, true); }

static int clear_timeout(lua_State* L) {
  if (lua_isnoneornil(L, 1)) return 0;
  clear_timer(L, timers_of(L), luaL_checkinteger(L, 1));
  return 0;
}

// Graceful shutdown (SIGINT/SIGTERM) cancels every timer: a pending setInterval or setTimeout
// must neither keep the process alive nor fire after the signal.
static void clear_all_timers(lua_State* L, Timers& ts) {
  while (!ts.active.empty()) clear_timer(L, ts, ts.active.begin()->first);
}

static int timers_gc(lua_State* L) {
  auto* ts = static_cast<Timers*>(lua_touserdata(L, 1));
  ts->engine->remove_shutdown_hook(ts->shutdown_hook);
  ts->~Timers();
  return 0;
}

int open_timers(lua_State* L) {
  void* mem = lua_newuserdatauv(L, sizeof(Timers), 0);
  auto* ts = new (mem) Timers();
  Engine& engine = Engine::of(L);
  ts->engine = &engine;
  ts->shutdown_hook = engine.add_shutdown_hook([ts, &engine] { clear_all_timers(engine.L(), *ts); });
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, timers_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  const luaL_Reg funcs[] = {{"setTimeout", set_timeout},
                            {"setInterval", set_interval},
                            {"clearTimeout", clear_timeout},
                            {"clearInterval", clear_timeout},
                            {nullptr, nullptr}};
  lua_newtable(L);  // module table: timers.setTimeout, ...
  for (const luaL_Reg* f = funcs; f->name; ++f) {
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, f->func, 1);
    lua_pushvalue(L, -1);
    lua_setglobal(L, f->name);
    lua_setfield(L, -2, f->name);
  }
  lua_remove(L, -2);
  return 1;
}

}  // namespace mw
