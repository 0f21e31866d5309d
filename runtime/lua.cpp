#include "runtime/lua.hpp"

#include <cstring>

#include "runtime/embedded.hpp"

namespace mw {

bool opt_table(lua_State* L, int idx, const char* fname) {
  if (lua_isnoneornil(L, idx)) return false;
  if (!lua_istable(L, idx)) luaL_typeerror(L, idx, "table of options");
  return true;
}

int get_field(lua_State* L, int idx, const char* key) {
  if (!lua_istable(L, idx)) {
    lua_pushnil(L);
    return LUA_TNIL;
  }
  return lua_getfield(L, idx, key);
}

static void field_type_error(lua_State* L, const char* key, const char* expected) {
  luaL_error(L, "option '%s' must be %s (got %s)", key, expected, luaL_typename(L, -1));
}

lua_Integer opt_int_field(lua_State* L, int idx, const char* key, lua_Integer def) {
  idx = lua_absindex(L, idx);
  int t = get_field(L, idx, key);
  lua_Integer v = def;
  if (t != LUA_TNIL) {
    int isnum;
    v = lua_tointegerx(L, -1, &isnum);
    if (!isnum) field_type_error(L, key, "an integer");
  }
  lua_pop(L, 1);
  return v;
}

lua_Number opt_num_field(lua_State* L, int idx, const char* key, lua_Number def) {
  idx = lua_absindex(L, idx);
  int t = get_field(L, idx, key);
  lua_Number v = def;
  if (t != LUA_TNIL) {
    int isnum;
    v = lua_tonumberx(L, -1, &isnum);
    if (!isnum) field_type_error(L, key, "a number");
  }
  lua_pop(L, 1);
  return v;
}

bool opt_bool_field(lua_State* L, int idx, const char* key, bool def) {
  idx = lua_absindex(L, idx);
  int t = get_field(L, idx, key);
  bool v = def;
  if (t == LUA_TBOOLEAN)
    v = lua_toboolean(L, -1);
  else if (t != LUA_TNIL)
    field_type_error(L, key, "a boolean");
  lua_pop(L, 1);
  return v;
}

std::string opt_str_field(lua_State* L, int idx, const char* key, const std::string& def) {
  idx = lua_absindex(L, idx);
  int t = get_field(L, idx, key);
  std::string v = def;
  if (t == LUA_TSTRING || t == LUA_TNUMBER) {
    size_t n;
    const char* s = lua_tolstring(L, -1, &n);
    v.assign(s, n);
  } else if (t != LUA_TNIL) {
    field_type_error(L, key, "a string");
  }
  lua_pop(L, 1);
  return v;
}

void new_metatable(lua_State* L, const char* tname) {
  luaL_newmetatable(L, tname);
  lua_pushlightuserdata(L, const_cast<char*>(tname));
  lua_rawseti(L, -2, 1);  // the tag test_udata looks for (array part: the fastest lookup)
}

void new_class(lua_State* L, const char* tname, const luaL_Reg* methods, const luaL_Reg* metamethods,
               lua_CFunction index) {
  new_metatable(L, tname);
  if (metamethods) luaL_setfuncs(L, metamethods, 0);
  if (methods) {
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    if (index) lua_pushcclosure(L, index, 1);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
}

static bool has_tag(lua_State* L, int idx, const char* tname) {
  if (!lua_getmetatable(L, idx)) return false;
  lua_rawgeti(L, -1, 1);
  bool tagged = lua_touserdata(L, -1) == tname;
  lua_pop(L, 2);
  return tagged;
}

void* test_udata(lua_State* L, int idx, const char* tname) {
  void* p = lua_touserdata(L, idx);
  if (p && lua_type(L, idx) == LUA_TUSERDATA && has_tag(L, idx, tname)) return p;
  return luaL_testudata(L, idx, tname);  // a tname pointer other than new_class's
}

void* check_udata(lua_State* L, int idx, const char* tname) {
  void* p = lua_touserdata(L, idx);
  if (p && lua_type(L, idx) == LUA_TUSERDATA && has_tag(L, idx, tname)) return p;
  return luaL_checkudata(L, idx, tname);
}

int64_t opt_timeout_ms(lua_State* L, int idx) {
  if (lua_isnoneornil(L, idx)) return -1;
  lua_Number ms = luaL_checknumber(L, idx);
  luaL_argcheck(L, ms >= 0, idx, "timeout must be >= 0 milliseconds (or nil for none)");
  return static_cast<int64_t>(ms);
}

const EmbeddedModule* find_embedded(const char* name) {
  for (const EmbeddedModule* m = kEmbeddedModules; m->name; ++m)
    if (std::strcmp(m->name, name) == 0) return m;
  return nullptr;
}

}  // namespace mw
