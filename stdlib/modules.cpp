// The registry of stdlib modules: each is a global and require-able by its name.
#include "stdlib/modules.hpp"

#include "runtime/engine.hpp"
#include "stdlib/compat.hpp"
#include "stdlib/net/redis/redis.hpp"
#include "stdlib/stdlib.hpp"

namespace mw {
namespace {

struct ModuleEntry {
  const char* name;
  lua_CFunction open;
  bool global;
};

// Xoron's `websocket` global (stdlib/lua/compat/xoron_websocket.lua), loaded on first use.
static int open_websocket(lua_State* L) {
  lua_settop(L, 0);
  lua_pushstring(L, "compat.xoron_websocket");
  return open_lua_module(L);
}

static const ModuleEntry kModules[] = {
    {"task", open_task, true},   {"time", open_time, true}, {"timers", open_timers, false},
    {"json", open_json, true},   {"net", open_net, true},   {"process", open_process, true},
    {"crypto", open_crypto, true}, {"buffer", open_buffer, true},
    {"fs", open_fs, true}, {"os_ext", open_os_ext, true}, {"path", open_lua_module, true},
    {"websocket", open_websocket, true}, {"compat.errors", open_compat_errors, false},
    {"_redis_core", net::open_redis_core, false}, {"redis", open_lua_module, true},
    {"_strings", open_strings, false},  // string.* and table.* helpers; no module value
};

}  // namespace

void open_stdlib(lua_State* L) {
  for (const auto& m : kModules) {
    luaL_requiref(L, m.name, m.open, m.global);
    lua_pop(L, 1);
  }
  open_stdin(L);
  // `http` is net.http, also as a global and a module; http.server is the router, written in
  // Lua and loaded on first use (require("net.http.server") and require("http.server") too).
  lua_getglobal(L, "net");
  if (lua_getfield(L, -1, "http") == LUA_TTABLE) {
    lua_pushcfunction(L, open_lua_module);
    lua_pushstring(L, "_http_router");
    lua_call(L, 1, 1);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "net.http.server");
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "http.server");
    lua_pop(L, 1);
    lua_setfield(L, -2, "server");
    lua_pushvalue(L, -1);
    lua_setglobal(L, "http");
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "http");
    lua_pop(L, 1);
  }
  lua_pop(L, 2);
}

}  // namespace mw
