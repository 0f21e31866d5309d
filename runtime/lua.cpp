#include "runtime/lua.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>

#include "runtime/embedded.hpp"
#include "runtime/errors.hpp"

namespace mw {

// Finds "table.sort" for a function value at the top of the stack (pops it), as tracebacks do.
const char* global_function_name(lua_State* L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    if (lua_istable(L, -1)) {
      lua_pushnil(L);
      while (lua_next(L, -2)) {
        if (lua_rawequal(L, -1, -6) && lua_type(L, -2) == LUA_TSTRING) {
          const char* mod = lua_tostring(L, -4);
          const char* fn = lua_tostring(L, -2);
          lua_pushfstring(L, std::string_view(mod) == LUA_GNAME ? "%s%s" : "%s.%s",
                          std::string_view(mod) == LUA_GNAME ? "" : mod, fn);
          lua_replace(L, -7);  // over the function value
          lua_pop(L, 5);
          return lua_tostring(L, -1);
        }
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 2);
  return nullptr;
}

// "tcp.conn:read" for the function at the top (popped) when it is a method of the first
// argument's class (its metatable's __index table, or the methods upvalue of an __index
// function), or null.
static const char* method_name(lua_State* L) {
  if (!lua_getmetatable(L, 1)) {
    lua_pop(L, 1);
    return nullptr;
  }
  int mt = lua_gettop(L);
  lua_getfield(L, mt, "__index");
  if (lua_iscfunction(L, -1) && lua_getupvalue(L, -1, 1)) lua_replace(L, -2);  // new_class's methods
  if (lua_istable(L, -1)) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (lua_rawequal(L, -1, mt - 1) && lua_type(L, -2) == LUA_TSTRING) {
        lua_getfield(L, mt, "__name");
        const char* cls = lua_isstring(L, -1) ? lua_tostring(L, -1) : "?";
        if (std::strncmp(cls, "moonwire.", 9) == 0) cls += 9;
        lua_pushfstring(L, "%s:%s", cls, lua_tostring(L, -3));
        lua_replace(L, mt - 1);
        lua_settop(L, mt - 1);
        return lua_tostring(L, -1);
      }
      lua_pop(L, 1);
    }
  }
  lua_settop(L, mt - 1);
  lua_pop(L, 1);
  return nullptr;
}

void value_error(lua_State* L, int arg, const char* msg) {
  lua_Debug ar;
  const char* name = nullptr;
  if (lua_getstack(L, 0, &ar)) {
    lua_getinfo(L, "nf", &ar);
    if (ar.namewhat && std::strcmp(ar.namewhat, "method") == 0) --arg;
    name = ar.name;
    if (name) {
      lua_pop(L, 1);
    } else {  // called through pcall: no name at the call site
      lua_pushvalue(L, -1);
      name = global_function_name(L);
      if (name) lua_remove(L, -2);
      else name = method_name(L);
    }
  }
  raisef(L, "EINVAL", "bad argument #%d to '%s' (%s)", arg, name ? name : "?", msg);
}

// --- ports ----------------------------------------------------------------------------------

int parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return -1;
  int v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v <= 65535 ? v : -1;
}

uint16_t check_port(lua_State* L, int idx) {
  int isnum;
  lua_Integer p = lua_tointegerx(L, idx, &isnum);  // numbers and numeric strings, as Lua coerces
  if (!isnum) {
    if (lua_type(L, idx) == LUA_TNUMBER || lua_type(L, idx) == LUA_TSTRING)
      raisef(L, "EINVAL", "invalid port '%s': not an integer", luaL_tolstring(L, idx, nullptr));
    luaL_typeerror(L, idx, "port number");
  }
  if (p < 0 || p > 65535) raisef(L, "EINVAL", "invalid port %I: must be 0..65535", static_cast<lua_Integer>(p));
  return static_cast<uint16_t>(p);
}

// --- durations ------------------------------------------------------------------------------

// Converts `v` units of `unit_ms` to whole milliseconds (rounded up), kForever when huge.
static int64_t to_ms(lua_Number v, double unit_ms) {
  double ms = std::ceil(v * unit_ms);
  if (!(ms < static_cast<double>(kMaxDurationMs))) return kForever;  // also inf
  return static_cast<int64_t>(ms);
}

static const char* unit_name(double unit_ms) { return unit_ms == 1 ? "milliseconds" : "seconds"; }

static lua_Number check_duration_number(lua_State* L, int idx, double unit_ms, const char* what) {
  int isnum;
  lua_Number v = lua_tonumberx(L, idx, &isnum);
  if (!isnum) luaL_typeerror(L, idx, "number");
  if (std::isnan(v) || v < 0)
    raisef(L, "EINVAL", "invalid %s %s: must be a number of %s >= 0", what, luaL_tolstring(L, idx, nullptr),
           unit_name(unit_ms));
  return v;
}

int64_t opt_timeout(lua_State* L, int idx, double unit_ms, int64_t def, const char* what) {
  if (lua_isnoneornil(L, idx)) return def;
  lua_Number v = check_duration_number(L, idx, unit_ms, what);
  return v == 0 ? kForever : to_ms(v, unit_ms);
}

int64_t check_delay(lua_State* L, int idx, double unit_ms, int64_t def, const char* what) {
  if (lua_isnoneornil(L, idx)) return def;
  int isnum;
  lua_Number v = lua_tonumberx(L, idx, &isnum);
  if (!isnum) luaL_typeerror(L, idx, "number");
  if (std::isnan(v)) raisef(L, "EINVAL", "invalid %s: NaN is not a number of %s", what, unit_name(unit_ms));
  return v <= 0 ? 0 : to_ms(v, unit_ms);  // a delay already past is no delay (as Node's timers)
}

// --- option tables --------------------------------------------------------------------------

bool opt_table(lua_State* L, int idx, const char* fname) {
  if (lua_isnoneornil(L, idx)) return false;
  if (!lua_istable(L, idx)) luaL_typeerror(L, idx, "table of options");
  return true;
}

// Edit distance, small strings only (option names).
static size_t edit_distance(std::string_view a, std::string_view b) {
  if (a.size() > 32 || b.size() > 32) return 99;
  size_t d[33][33];
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = d[i - 1][j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, sub});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

static const char* closest_option(std::string_view key, const char* const* known) {
  const char* best = nullptr;
  size_t best_d = key.size() <= 4 ? 1 : 2;  // a near miss, not any short word
  for (const char* const* k = known; *k; ++k) {
    size_t d = edit_distance(key, *k);
    if (d <= best_d) {
      best = *k;
      best_d = d;
    }
  }
  return best;
}

bool check_options(lua_State* L, int idx, const char* fname, const char* const* known) {
  if (!opt_table(L, idx, fname)) return false;
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      raisef(L, "EINVAL", "%s: unexpected option key %s (options are named fields)", fname, luaL_tolstring(L, -1, nullptr));
    std::string_view key = to_sv(L, -1);
    bool found = false;
    for (const char* const* k = known; *k && !found; ++k) found = key == *k;
    if (found) continue;
    if (const char* hint = closest_option(key, known))
      raisef(L, "EINVAL", "%s: unknown option '%s' (did you mean '%s'?)", fname, lua_tostring(L, -1), hint);
    raisef(L, "EINVAL", "%s: unknown option '%s'", fname, lua_tostring(L, -1));
  }
  return true;
}

int get_field(lua_State* L, int idx, const char* key) {
  if (!lua_istable(L, idx)) {
    lua_pushnil(L);
    return LUA_TNIL;
  }
  return lua_getfield(L, idx, key);
}

void option_error(lua_State* L, const char* key, const char* expected) {
  raisef(L, "EINVAL", "option '%s' must be %s (got %s)", key, expected,
         lua_type(L, -1) == LUA_TNUMBER ? lua_tostring(L, -1) : luaL_typename(L, -1));
}

lua_Integer opt_int_field(lua_State* L, int idx, const char* key, lua_Integer def, lua_Integer min, lua_Integer max) {
  idx = lua_absindex(L, idx);
  int t = get_field(L, idx, key);
  lua_Integer v = def;
  if (t != LUA_TNIL) {
    int isnum;
    v = lua_tointegerx(L, -1, &isnum);
    if (!isnum) option_error(L, key, "an integer");
    if (v < min || v > max) {
      if (max == LUA_MAXINTEGER)
        raisef(L, "EINVAL", "option '%s' must be >= %I (got %I)", key, min, v);
      raisef(L, "EINVAL", "option '%s' must be %I..%I (got %I)", key, min, max, v);
    }
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
    if (!isnum || std::isnan(v)) option_error(L, key, "a number");
  }
  lua_pop(L, 1);
  return v;
}

int64_t opt_timeout_field(lua_State* L, int idx, const char* key, int64_t def) {
  idx = lua_absindex(L, idx);
  int t = get_field(L, idx, key);
  int64_t v = def;
  if (t != LUA_TNIL) {
    int isnum;
    lua_Number n = lua_tonumberx(L, -1, &isnum);
    if (!isnum || std::isnan(n) || n < 0)
      option_error(L, key, "a number of milliseconds >= 0 (0 or math.huge: no timeout)");
    v = n == 0 ? kForever : to_ms(n, 1);
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
    option_error(L, key, "a boolean");
  lua_pop(L, 1);
  return v;
}

std::string_view opt_sv_field(lua_State* L, int idx, const char* key, std::string_view def) {
  idx = lua_absindex(L, idx);
  int t = get_field(L, idx, key);
  std::string_view v = def;
  if (t == LUA_TSTRING) {
    v = to_sv(L, -1);  // the table keeps the string alive
  } else if (t != LUA_TNIL) {
    option_error(L, key, "a string");
  }
  lua_pop(L, 1);
  return v;
}

std::string opt_str_field(lua_State* L, int idx, const char* key, const std::string& def) {
  idx = lua_absindex(L, idx);
  if (get_field(L, idx, key) == LUA_TNIL) {
    lua_pop(L, 1);
    return def;
  }
  lua_pop(L, 1);
  std::string_view v = opt_sv_field(L, idx, key);  // raises before any std::string exists
  return std::string(v);
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

void new_class_variant(lua_State* L, const char* tname, const char* variant, const luaL_Reg* extra) {
  luaL_getmetatable(L, tname);
  luaL_newmetatable(L, variant);
  lua_pushnil(L);
  while (lua_next(L, -3)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -4);
  }
  if (extra) luaL_setfuncs(L, extra, 0);
  lua_pop(L, 2);
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

const EmbeddedModule* find_embedded(const char* name) {
  for (const EmbeddedModule* m = kEmbeddedModules; m->name; ++m)
    if (std::strcmp(m->name, name) == 0) return m;
  return nullptr;
}

}  // namespace mw
