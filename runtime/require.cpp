// A yieldable `require`: Lua's own ll_require calls the loader with lua_call, so a module whose
// top level does I/O could not suspend. This one is the same algorithm with lua_callk. Also the
// searcher for modules embedded in the binary (test runner, compatibility layers), tried after
// the files on package.path so a script's own module of the same name wins.
#include <cstring>

#include "runtime/embedded.hpp"
#include "runtime/lua.hpp"

namespace mw {

// Names the seed APIs require, and the compatibility layer each one is (stdlib/lua/compat/).
// Being found by this searcher, after the file searchers, they never hide a script's own
// lua/network.lua.
static const char* layer_of(const char* name) {
  static const char* const kAliases[][2] = {
      {"lua.network", "compat.ilovereact.network"}, {"lua.http", "compat.ilovereact.http"},
      {"lua.socks5", "compat.ilovereact.socks5"},   {"lua.json", "compat.ilovereact.json"},
  };
  for (const auto& a : kAliases)
    if (std::strcmp(name, a[0]) == 0) return a[1];
  return name;
}

static int embedded_searcher(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);
  const EmbeddedModule* m = name[0] == '_' ? nullptr : find_embedded(layer_of(name));
  // Not found: no message, so "module 'x' not found" lists exactly what stock Lua lists (the
  // embedded modules are an implementation detail, not somewhere a user put a file).
  if (!m) return 0;
  lua_pushfstring(L, "@[moonwire]/%s.lua", name);
  if (luaL_loadbuffer(L, m->source, m->size, lua_tostring(L, -1)) != LUA_OK) return lua_error(L);
  lua_pushfstring(L, ":embedded:%s", name);
  return 2;
}

// Pushes the loader for `name` and its extra data, or raises "module not found" (as Lua 5.4).
static void find_loader(lua_State* L, const char* name) {
  luaL_Buffer msg;
  if (lua_getfield(L, lua_upvalueindex(1), "searchers") != LUA_TTABLE)
    luaL_error(L, "'package.searchers' must be a table");
  luaL_buffinit(L, &msg);
  for (int i = 1;; i++) {
    luaL_addstring(&msg, "\n\t");
    if (lua_rawgeti(L, 3, i) == LUA_TNIL) {
      lua_pop(L, 1);
      luaL_buffsub(&msg, 2);
      luaL_pushresult(&msg);
      luaL_error(L, "module '%s' not found:%s", name, lua_tostring(L, -1));
    }
    lua_pushstring(L, name);
    lua_call(L, 1, 2);
    if (lua_isfunction(L, -2)) return;
    if (lua_isstring(L, -2)) {
      lua_pop(L, 1);
      luaL_addvalue(&msg);
    } else {
      lua_pop(L, 2);
      luaL_buffsub(&msg, 2);
    }
  }
}

// Stack after the loader returns: 1 name, 2 LOADED, 3 searchers, 4 loader data, 5 result.
static int require_k(lua_State* L, int status, lua_KContext ctx) {
  const char* name = lua_tostring(L, 1);
  if (!lua_isnil(L, -1)) lua_setfield(L, 2, name);
  else lua_pop(L, 1);
  if (lua_getfield(L, 2, name) == LUA_TNIL) {  // module set no value?
    lua_pushboolean(L, 1);
    lua_copy(L, -1, -2);
    lua_setfield(L, 2, name);
  }
  lua_rotate(L, -2, 1);  // module result, loader data
  return 2;
}

static int require(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);
  lua_settop(L, 1);
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);  // 2
  lua_getfield(L, 2, name);
  if (lua_toboolean(L, -1)) return 1;
  lua_pop(L, 1);
  find_loader(L, name);                                   // 3 searchers, 4 loader, 5 data
  lua_rotate(L, -2, 1);                                   // 4 data, 5 loader
  lua_pushvalue(L, 1);
  lua_pushvalue(L, -3);
  lua_callk(L, 2, 1, 0, require_k);
  return require_k(L, LUA_OK, 0);
}

void open_require(lua_State* L) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "searchers");
  lua_pushcfunction(L, embedded_searcher);
  lua_rawseti(L, -2, static_cast<lua_Integer>(lua_rawlen(L, -2) + 1));
  lua_pop(L, 1);
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, require, 1);  // upvalue: the package table
  lua_setglobal(L, "require");
  lua_pop(L, 1);
}

}  // namespace mw
