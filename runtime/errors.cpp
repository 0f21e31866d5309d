#include "runtime/errors.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <cstdarg>
#include <cstring>
#include <openssl/err.h>

namespace mw {

static constexpr const char* kErrorType = "moonwire.error";

static int error_tostring(lua_State* L) {
  lua_getfield(L, 1, "message");
  if (!lua_isstring(L, -1)) {
    lua_pop(L, 1);
    lua_pushliteral(L, "error");
  }
  return 1;
}

static int error_concat(lua_State* L) {
  luaL_tolstring(L, 1, nullptr);
  luaL_tolstring(L, 2, nullptr);
  lua_concat(L, 2);
  return 1;
}

static int error_len(lua_State* L) {
  luaL_tolstring(L, 1, nullptr);
  lua_pushinteger(L, static_cast<lua_Integer>(lua_rawlen(L, -1)));
  return 1;
}

// err:find(...), err:match(...), ...: the string method applied to tostring(err).
static int error_string_method(lua_State* L) {
  luaL_tolstring(L, 1, nullptr);
  lua_replace(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

void open_errors(lua_State* L) {
  luaL_newmetatable(L, kErrorType);
  lua_pushcfunction(L, error_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, error_concat);
  lua_setfield(L, -2, "__concat");
  lua_pushcfunction(L, error_len);
  lua_setfield(L, -2, "__len");
  lua_pushstring(L, "error");
  lua_setfield(L, -2, "__name");
  // __index: wrappers around every string library function.
  lua_newtable(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, LUA_STRLIBNAME);
  lua_remove(L, -2);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    if (lua_isfunction(L, -1) && lua_type(L, -2) == LUA_TSTRING) {
      lua_pushcclosure(L, error_string_method, 1);
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_settable(L, -5);
    } else {
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

void push_error(lua_State* L, std::string_view code, std::string_view message, int level) {
  lua_createtable(L, 0, 2);
  push_sv(L, code);
  lua_setfield(L, -2, "code");
  if (level > 0) {
    luaL_where(L, level);
    push_sv(L, message);
    lua_concat(L, 2);
  } else {
    push_sv(L, message);
  }
  lua_setfield(L, -2, "message");
  luaL_setmetatable(L, kErrorType);
}

void raise(lua_State* L, std::string_view code, std::string_view message) {
  push_error(L, code, message, 1);
  lua_error(L);
  __builtin_unreachable();
}

void raisef(lua_State* L, const char* code, const char* fmt, ...) {
  // Formats on the Lua stack: no C++ object may be alive when lua_error longjmps.
  va_list ap;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  push_error(L, code, to_sv(L, -1), 1);
  lua_error(L);
  __builtin_unreachable();
}

std::string_view error_code_of(lua_State* L, int idx) {
  if (!lua_istable(L, idx) || !lua_getmetatable(L, idx)) return {};
  luaL_getmetatable(L, kErrorType);
  bool is_error = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  if (!is_error) return {};
  lua_getfield(L, idx, "code");
  std::string_view code = to_sv(L, -1);  // the string stays referenced by the table
  lua_pop(L, 1);
  return code;
}

void push_error_text(lua_State* L, int idx) {
  idx = lua_absindex(L, idx);
  if (!lua_istable(L, idx)) {
    if (lua_type(L, idx) == LUA_TSTRING || lua_type(L, idx) == LUA_TNUMBER || luaL_getmetafield(L, idx, "__tostring") != LUA_TNIL) {
      if (lua_type(L, idx) != LUA_TSTRING && lua_type(L, idx) != LUA_TNUMBER) lua_pop(L, 1);
      luaL_tolstring(L, idx, nullptr);
    } else {
      lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, idx));
    }
    return;
  }
  bool is_error_object = !error_code_of(L, idx).empty();
  if (!is_error_object && luaL_getmetafield(L, idx, "__tostring") != LUA_TNIL) {
    lua_pop(L, 1);
    luaL_tolstring(L, idx, nullptr);
    return;
  }
  lua_getfield(L, idx, "message");
  lua_getfield(L, idx, "code");
  bool has_message = lua_type(L, -2) == LUA_TSTRING || lua_type(L, -2) == LUA_TNUMBER;
  bool has_code = lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER;
  if (!has_message && !has_code) {
    lua_pop(L, 2);
    lua_pushliteral(L, "(error object is a table value without 'message' or 'code')");
    return;
  }
  // Stack: message code -> text
  int parts = 0;
  if (has_message) {
    lua_pushvalue(L, -2);
    ++parts;
  }
  if (has_code) {
    lua_pushstring(L, has_message ? " [" : "[");
    lua_pushvalue(L, -2 - parts);
    lua_pushliteral(L, "]");
    parts += 3;
  }
  lua_concat(L, parts);
  lua_replace(L, -3);
  lua_pop(L, 1);
}

std::string error_code_name(const boost::system::error_code& ec) {
  namespace ae = boost::asio::error;
  const auto& cat = ec.category();
  if (ec == ae::eof) return "EOF";
  if (ec == ae::operation_aborted) return kCancelled;
  if (cat == ae::get_netdb_category()) {
    if (ec == ae::host_not_found || ec == ae::no_data) return "ENOTFOUND";
    if (ec == ae::host_not_found_try_again) return "EAI_AGAIN";
    return "EDNS";
  }
  if (cat == ae::get_addrinfo_category()) {
    if (ec == ae::service_not_found) return "ENOTFOUND";
    return "EDNS";
  }
  if (cat == ae::get_ssl_category() || cat == boost::asio::ssl::error::get_stream_category()) return "ETLS";
  if (cat == boost::system::system_category() || cat == boost::system::generic_category()) {
    if (const char* name = strerrorname_np(ec.value())) return name;
  }
  return "EIO";
}

std::string error_text(const boost::system::error_code& ec) {
  if (ec.category() == boost::asio::error::get_ssl_category()) {
    // OpenSSL's reason string ("certificate verify failed") is what users need to see.
    const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    if (reason) return std::string("TLS error: ") + reason;
  }
  if (ec == boost::asio::ssl::error::stream_truncated) return "TLS stream truncated (peer closed without close_notify)";
  return ec.message();
}

}  // namespace mw
