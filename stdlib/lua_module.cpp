// Stdlib modules written in Lua (stdlib/lua/<name>.lua, embedded as bytecode), loaded on first
// use so that `moonwire -e ''` does not pay for them: undumping and running path.lua and
// _strings.lua at startup cost 100-300 us of a cold process (measured in open_stdlib), several
// times what the C modules cost.
//
// - `path`: the global is a table whose metatable loads path.lua at the first field access
//   (or pairs), copies its fields in and removes itself. require("path") is the same table.
// - `_strings`: string.split, table.map, ... are small C stubs; the first call of any of them
//   loads _strings.lua and replaces every stub still in place with its Lua function, then
//   the call goes on (yieldable: a table.map callback may do I/O). A name the library already
//   had is never given a stub, so no standard or user function is replaced.
//
// - `http.server` (net.http.server, the router): a lazy table as `path`, from _http_router.lua.
//
// A chunk receives (name, einval, load): einval(message, level) raises an EINVAL error object
// whose message is prefixed with the position `level` calls up (as error(message, level));
// load(name) runs another embedded chunk the same way and returns its value (a module split
// in parts: the router loads its static-file part, _http_static.lua, only when app:static is
// used). Names starting with "_" are not require-able, so a part cannot be loaded twice by a
// user's require with the wrong arguments.
#include <array>
#include <utility>

#include "runtime/embedded.hpp"
#include "runtime/errors.hpp"
#include "stdlib/modules.hpp"

namespace mw {

namespace {

constexpr const char* kLoadedHelpers = "moonwire.strings";  // {string = {...}, table = {...}}

int einval(lua_State* L) {
  std::string_view msg = check_sv(L, 1);
  int level = static_cast<int>(luaL_optinteger(L, 2, 1));
  push_error(L, "EINVAL", msg, level);
  return lua_error(L);
}

// Loads embedded module `name` and calls it with (name, einval, extra); pushes its result.
void run_embedded(lua_State* L, const char* name, int extra_idx) {
  extra_idx = lua_absindex(L, extra_idx);
  const EmbeddedModule* m = find_embedded(name);
  if (!m) luaL_error(L, "embedded module '%s' is missing", name);
  if (luaL_loadbuffer(L, m->source, m->size, name) != LUA_OK) lua_error(L);
  lua_pushstring(L, name);
  lua_pushcfunction(L, einval);
  lua_pushvalue(L, extra_idx);
  lua_call(L, 3, 1);
}

int load_internal(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);
  lua_pushcfunction(L, load_internal);
  run_embedded(L, name, -1);
  return 1;
}

// --- lazily loaded modules (path, http.server) ------------------------------------------------

// Fills the lazy module table at idx from its chunk (fields already set by the user win) and
// removes the metatable.
void fill_lazy(lua_State* L, int idx) {
  idx = lua_absindex(L, idx);
  if (!lua_getmetatable(L, idx)) return;
  lua_getfield(L, -1, "module");
  const char* name = lua_tostring(L, -1);
  lua_pushcfunction(L, load_internal);
  run_embedded(L, name, -1);
  if (!lua_istable(L, -1)) luaL_error(L, "module '%s' did not return a table", name);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pushvalue(L, -2);
    if (lua_rawget(L, idx) == LUA_TNIL) {
      lua_pop(L, 1);
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, idx);
    } else {
      lua_pop(L, 2);
    }
  }
  lua_pop(L, 4);  // module, loader, name, metatable
  lua_pushnil(L);
  lua_setmetatable(L, idx);
}

int lazy_index(lua_State* L) {
  fill_lazy(L, 1);
  lua_settop(L, 2);
  lua_rawget(L, 1);
  return 1;
}

int lazy_pairs(lua_State* L) {
  fill_lazy(L, 1);
  lua_getglobal(L, "next");
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

}  // namespace

int open_lua_module(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);
  lua_newtable(L);  // the module table, filled on first use
  lua_createtable(L, 0, 4);
  lua_pushstring(L, name);
  lua_setfield(L, -2, "module");
  lua_pushcfunction(L, lazy_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, lazy_pairs);
  lua_setfield(L, -2, "__pairs");
  lua_setmetatable(L, -2);
  return 1;
}

// --- string and table helpers ----------------------------------------------------------------

namespace {

struct Helper {
  const char* lib;
  const char* name;
};
// The names _strings.lua defines (tests/lua/strings_test.lua checks that both lists agree).
constexpr Helper kHelpers[] = {
    {"string", "split"},      {"string", "trim"},        {"string", "ltrim"},     {"string", "rtrim"},
    {"string", "starts_with"}, {"string", "ends_with"},  {"string", "contains"},  {"string", "pad_left"},
    {"string", "pad_right"},  {"string", "pad_center"},  {"string", "truncate"},  {"string", "lines"},
    {"string", "chars"},      {"string", "replace_all"}, {"string", "count"},     {"table", "keys"},
    {"table", "values"},      {"table", "merge"},        {"table", "map"},        {"table", "filter"},
    {"table", "find"},        {"table", "reduce"},       {"table", "contains"},   {"table", "slice"},
    {"table", "reverse"},     {"table", "clone"},        {"table", "is_empty"},   {"table", "count"},
};
constexpr size_t kNumHelpers = sizeof(kHelpers) / sizeof(kHelpers[0]);

int stub_k(lua_State* L, int, lua_KContext) { return lua_gettop(L); }

int call_helper(lua_State* L, size_t i);

// One light C function per helper: putting them in place allocates nothing.
template <size_t I>
int stub(lua_State* L) {
  return call_helper(L, I);
}
template <size_t... I>
constexpr std::array<lua_CFunction, sizeof...(I)> make_stubs(std::index_sequence<I...>) {
  return {&stub<I>...};
}
constexpr auto kStubs = make_stubs(std::make_index_sequence<kNumHelpers>{});

// Loads _strings.lua (once) and puts each function where its stub still is.
void load_helpers(lua_State* L) {
  lua_pushnil(L);
  run_embedded(L, "_strings", -1);
  lua_remove(L, -2);
  luaL_checktype(L, -1, LUA_TTABLE);
  for (size_t i = 0; i < kNumHelpers; ++i) {
    if (lua_getglobal(L, kHelpers[i].lib) == LUA_TTABLE) {
      lua_getfield(L, -1, kHelpers[i].name);
      bool ours = lua_tocfunction(L, -1) == kStubs[i];
      lua_pop(L, 1);
      if (ours) {
        lua_getfield(L, -2, kHelpers[i].lib);
        lua_getfield(L, -1, kHelpers[i].name);
        lua_setfield(L, -3, kHelpers[i].name);
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 1);
  }
  lua_setfield(L, LUA_REGISTRYINDEX, kLoadedHelpers);
}

int call_helper(lua_State* L, size_t i) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, kLoadedHelpers) != LUA_TTABLE) {
    lua_pop(L, 1);
    load_helpers(L);
    lua_getfield(L, LUA_REGISTRYINDEX, kLoadedHelpers);
  }
  lua_getfield(L, -1, kHelpers[i].lib);
  lua_getfield(L, -1, kHelpers[i].name);
  lua_replace(L, -3);
  lua_pop(L, 1);
  lua_insert(L, 1);
  lua_callk(L, lua_gettop(L) - 1, LUA_MULTRET, 0, stub_k);
  return lua_gettop(L);
}

}  // namespace

// A stub for each helper name the library lacks (a name it has is left alone).
int open_strings(lua_State* L) {
  for (size_t i = 0; i < kNumHelpers; ++i) {
    if (lua_getglobal(L, kHelpers[i].lib) == LUA_TTABLE) {
      if (lua_getfield(L, -1, kHelpers[i].name) == LUA_TNIL) {
        lua_pushcfunction(L, kStubs[i]);
        lua_setfield(L, -3, kHelpers[i].name);
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  return 0;
}

}  // namespace mw
