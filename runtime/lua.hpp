#pragma once
// The Lua C API plus a thin typed helper layer used by every binding.
extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
}
#include <cstdint>
#include <new>
#include <string>
#include <string_view>
#include <utility>

namespace mw {

inline std::string_view check_sv(lua_State* L, int idx) {
  size_t n;
  const char* s = luaL_checklstring(L, idx, &n);
  return {s, n};
}

inline std::string_view to_sv(lua_State* L, int idx) {
  size_t n;
  const char* s = lua_tolstring(L, idx, &n);
  return s ? std::string_view{s, n} : std::string_view{};
}

inline void push_sv(lua_State* L, std::string_view s) { lua_pushlstring(L, s.data(), s.size()); }

// A port number argument: integer in 0..65535.
inline uint16_t check_port(lua_State* L, int idx) {
  lua_Integer p = luaL_checkinteger(L, idx);
  luaL_argcheck(L, p >= 0 && p <= 65535, idx, "port must be 0..65535");
  return static_cast<uint16_t>(p);
}

// Options tables: opt_* read field `key` of the table at `idx` (which may be absent/nil),
// raising a clear error when the field has the wrong type.
bool opt_table(lua_State* L, int idx, const char* fname);  // checks idx is nil or table
lua_Integer opt_int_field(lua_State* L, int idx, const char* key, lua_Integer def);
lua_Number opt_num_field(lua_State* L, int idx, const char* key, lua_Number def);
bool opt_bool_field(lua_State* L, int idx, const char* key, bool def);
std::string opt_str_field(lua_State* L, int idx, const char* key, const std::string& def = {});
// Pushes the field value (any type) and returns its type.
int get_field(lua_State* L, int idx, const char* key);

// Userdata holding a C++ object constructed in place; __gc runs the destructor.
template <class T, class... Args>
T* new_object(lua_State* L, const char* tname, int nuv, Args&&... args) {
  void* mem = lua_newuserdatauv(L, sizeof(T), nuv);
  T* obj = new (mem) T(std::forward<Args>(args)...);
  luaL_setmetatable(L, tname);
  return obj;
}

// luaL_testudata/luaL_checkudata for classes made by new_class, without looking the metatable
// up by name on every call: new_metatable puts the light userdata `tname` (the pointer, not
// the text) at index 1 of the metatable, which is checked first.
void* test_udata(lua_State* L, int idx, const char* tname);
void* check_udata(lua_State* L, int idx, const char* tname);

template <class T>
int gc_object(lua_State* L, const char* tname) {
  T* obj = static_cast<T*>(test_udata(L, 1, tname));
  if (obj) obj->~T();
  return 0;
}

// luaL_newmetatable (pushes it), tagged for test_udata/check_udata.
void new_metatable(lua_State* L, const char* tname);

// Registers metatable `tname` with methods (as __index) plus metamethods given separately.
// With `index`, __index is that function instead, with the methods table as its upvalue (for
// objects that also have computed fields, like `server.port`).
void new_class(lua_State* L, const char* tname, const luaL_Reg* methods, const luaL_Reg* metamethods,
               lua_CFunction index = nullptr);

// A timeout argument in milliseconds: nil/none → -1 (no timeout); negative → argument error.
int64_t opt_timeout_ms(lua_State* L, int idx);

// Sets t[key] = function for each entry, on the table at the top.
inline void set_funcs(lua_State* L, const luaL_Reg* funcs) { luaL_setfuncs(L, funcs, 0); }

}  // namespace mw
