// The colon-call facade for the seed compatibility layers (see compat.hpp).
#include "stdlib/compat.hpp"

#include "runtime/errors.hpp"

namespace mw {

namespace {

int forward_k(lua_State* L, int, lua_KContext) { return lua_gettop(L); }

// Upvalues: module name, layer name, function name.
int layer_function(lua_State* L) {
  const char* module = lua_tostring(L, lua_upvalueindex(1));
  const char* fn = lua_tostring(L, lua_upvalueindex(3));
  if (!is_colon_call(L, module))
    raisef(L, "EINVAL", "%s.%s is the HOOZi API: call it with a colon (%s:%s(...))", module, fn, module, fn);
  return call_layer(L, lua_tostring(L, lua_upvalueindex(2)), fn);
}

// einval(message[, level]): raises an EINVAL error object, the message prefixed with the position
// `level` calls up (as error(message, level)): the layers' wrong-value errors, as the C modules'.
int einval(lua_State* L) {
  std::string_view msg = check_sv(L, 1);
  int level = static_cast<int>(luaL_optinteger(L, 2, 1));
  push_error(L, "EINVAL", msg, level);
  return lua_error(L);
}

}  // namespace

int open_compat_errors(lua_State* L) {
  lua_newtable(L);
  lua_pushcfunction(L, einval);
  lua_setfield(L, -2, "einval");
  return 1;
}

bool is_colon_call(lua_State* L, const char* module) {
  if (!lua_istable(L, 1)) return false;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, module);
  bool same = lua_rawequal(L, 1, -1);
  lua_pop(L, 2);
  return same;
}

int call_layer(lua_State* L, const char* layer, const char* fn) {
  lua_getglobal(L, "require");
  lua_pushstring(L, layer);
  lua_call(L, 1, 1);  // embedded, so loading it does not suspend
  if (!lua_istable(L, -1)) luaL_error(L, "compatibility layer '%s' did not return a table", layer);
  lua_getfield(L, -1, fn);
  lua_replace(L, 1);  // the function takes the module's place
  lua_pop(L, 1);
  lua_callk(L, lua_gettop(L) - 1, LUA_MULTRET, 0, forward_k);
  return lua_gettop(L);
}

void push_layer_function(lua_State* L, const char* module, const char* layer, const char* fn) {
  lua_pushstring(L, module);
  lua_pushstring(L, layer);
  lua_pushstring(L, fn);
  lua_pushcclosure(L, layer_function, 3);
}

}  // namespace mw
