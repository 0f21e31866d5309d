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

// Arguments and options are validated the same way everywhere (docs/errors.md, "Arguments and
// options"). Wrong types raise Lua's usual argument errors; wrong values (out of range, NaN,
// unknown option names) raise EINVAL error objects. Everything is checked before a binding
// constructs C++ objects: a raise longjmps past their destructors.

// luaL_argcheck for a wrong *value* (the type is right): an EINVAL error object with
// luaL_argerror's text, "bad argument #2 to 'read' (size must be positive)".
[[noreturn]] void value_error(lua_State* L, int arg, const char* msg);
inline void check_value(lua_State* L, bool ok, int arg, const char* msg) {
  if (!ok) value_error(L, arg, msg);
}
// The qualified name ("table.sort", "net.tcp.listen") of the function value at the top of the
// stack, found in package.loaded as Lua's tracebacks do; pops the value. Null if not found.
const char* global_function_name(lua_State* L);

// A port number argument: an integer (or a numeric string) in 0..65535, else EINVAL.
uint16_t check_port(lua_State* L, int idx);
// The same check for a port given as text (a URL's); returns -1 when it is not a valid port.
int parse_port(std::string_view text);

// Durations. kForever: no deadline. Anything at or above kMaxDurationMs (~139 years, far
// below where a steady_clock deadline would overflow) is treated as forever.
inline constexpr int64_t kForever = -1;
inline constexpr int64_t kMaxDurationMs = int64_t(1) << 42;
// A timeout argument in units of `unit_ms` milliseconds (1 for ms, 1000 for seconds):
// nil/none → `def`; 0 or math.huge → kForever (no deadline); fractions round up to whole
// milliseconds; negative or NaN → EINVAL.
int64_t opt_timeout(lua_State* L, int idx, double unit_ms, int64_t def, const char* what = "timeout");
// A timeout argument in milliseconds with no deadline by default (set_timeout, accept).
inline int64_t opt_timeout_ms(lua_State* L, int idx) { return opt_timeout(L, idx, 1, kForever); }
// A delay (sleep, setTimeout) in units of `unit_ms`: nil/none → `def`; 0 or negative → 0
// (at once); math.huge or huge → kForever; NaN → EINVAL.
int64_t check_delay(lua_State* L, int idx, double unit_ms, int64_t def, const char* what);

// Options tables. check_options checks that the value at idx is nil or a table whose keys
// are all in `known` (nullptr-terminated); an unknown key raises EINVAL naming `fname` and the
// closest known name ("did you mean 'timeout'?"). Returns whether a table is there.
bool check_options(lua_State* L, int idx, const char* fname, const char* const* known);
bool opt_table(lua_State* L, int idx, const char* fname);  // nil or table, keys not checked
// opt_* read field `key` of the table at `idx` (which may be absent/nil): a wrong type or
// value raises EINVAL ("option 'timeout' must be ...").
lua_Integer opt_int_field(lua_State* L, int idx, const char* key, lua_Integer def,
                          lua_Integer min = LUA_MININTEGER, lua_Integer max = LUA_MAXINTEGER);
lua_Number opt_num_field(lua_State* L, int idx, const char* key, lua_Number def);
bool opt_bool_field(lua_State* L, int idx, const char* key, bool def);
// The field as a string view into the table (valid while the table holds the string); `def`
// when absent.
std::string_view opt_sv_field(lua_State* L, int idx, const char* key, std::string_view def = {});
std::string opt_str_field(lua_State* L, int idx, const char* key, const std::string& def = {});
// A timeout option in milliseconds, with opt_timeout's rules.
int64_t opt_timeout_field(lua_State* L, int idx, const char* key, int64_t def);
// Pushes the field value (any type) and returns its type.
int get_field(lua_State* L, int idx, const char* key);
// Raises EINVAL "option 'key' must be <expected> (got <type of the value at the top>)".
[[noreturn]] void option_error(lua_State* L, const char* key, const char* expected);

// Userdata holding a C++ object constructed in place; __gc runs the destructor.
template <class T, class... Args>
T* new_object(lua_State* L, const char* tname, int nuv, Args&&... args) {
  void* mem = lua_newuserdatauv(L, sizeof(T), nuv);
  T* obj = new (mem) T(std::forward<Args>(args)...);
  luaL_setmetatable(L, tname);
  return obj;
}

// A registry ref to the metatable `tname`, for new_object_ref.
inline int class_ref(lua_State* L, const char* tname) {
  luaL_getmetatable(L, tname);
  return luaL_ref(L, LUA_REGISTRYINDEX);
}

// new_object with the metatable taken from a registry ref (class_ref): for objects made per
// request or per task, where the lookup by name is a measurable part of the cost.
template <class T, class... Args>
T* new_object_ref(lua_State* L, int mt_ref, int nuv, Args&&... args) {
  void* mem = lua_newuserdatauv(L, sizeof(T), nuv);
  T* obj = new (mem) T(std::forward<Args>(args)...);
  lua_rawgeti(L, LUA_REGISTRYINDEX, mt_ref);
  lua_setmetatable(L, -2);
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

// A second metatable for the objects of class `tname`, registered as `variant`: a copy of
// tname's fields (its tag too: check_udata(tname) accepts both) plus `extra`. For a __gc only
// some objects need: made without a finalizer (much cheaper for the collector), an object gets
// one later by lua_setmetatable to the variant.
void new_class_variant(lua_State* L, const char* tname, const char* variant, const luaL_Reg* extra);

// Sets t[key] = function for each entry, on the table at the top.
inline void set_funcs(lua_State* L, const luaL_Reg* funcs) { luaL_setfuncs(L, funcs, 0); }

}  // namespace mw
