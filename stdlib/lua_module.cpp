// Opens a stdlib module written in Lua (stdlib/lua/<name>.lua, embedded in the binary) for
// luaL_requiref, which passes the module's name as the argument: `path`, and the private
// `_strings` that adds the string and table helpers.
#include "runtime/embedded.hpp"
#include "stdlib/modules.hpp"

namespace mw {

int open_lua_module(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);
  const EmbeddedModule* m = find_embedded(name);
  if (!m) return luaL_error(L, "embedded module '%s' is missing", name);
  lua_pushfstring(L, "@[moonwire]/%s.lua", name);
  if (luaL_loadbuffer(L, m->source, m->size, lua_tostring(L, -1)) != LUA_OK) return lua_error(L);
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  return 1;
}

}  // namespace mw
