#pragma once
// Error objects: tables with `code` and `message` that behave like strings
// (tostring, .., err:find, err:match, ...). Raised by every module on failure.
#include <boost/system/error_code.hpp>
#include <string>
#include <string_view>

#include "runtime/lua.hpp"

namespace mw {

// Well-known codes besides errno names (ECONNREFUSED, ETIMEDOUT, ...).
inline constexpr const char* kClosed = "closed";
inline constexpr const char* kBusy = "busy";
inline constexpr const char* kCancelled = "cancelled";
inline constexpr const char* kTimedOut = "ETIMEDOUT";

void open_errors(lua_State* L);

// Pushes an error object. When `level` > 0 the message is prefixed with the position of
// the Lua code at that call level ("script.lua:3: "), as luaL_error does.
void push_error(lua_State* L, std::string_view code, std::string_view message, int level = 1);

// Raises an error object (never returns).
[[noreturn]] void raise(lua_State* L, std::string_view code, std::string_view message);
[[noreturn]] void raisef(lua_State* L, const char* code, const char* fmt, ...);

// Maps a system/Asio/SSL error to a stable code ("ECONNREFUSED", "ENOTFOUND", "ETLS", ...)
// and a readable message.
std::string error_code_name(const boost::system::error_code& ec);
std::string error_text(const boost::system::error_code& ec);

// Pushes a readable text for the error value at idx, as uncaught errors are reported: strings
// as they are; error objects as "message [code]"; other tables by their __tostring, or their
// `message`/`code` fields, never as "table: 0x...".
void push_error_text(lua_State* L, int idx);

// True when the value at idx is an error object; returns its code ("" otherwise).
std::string_view error_code_of(lua_State* L, int idx);

}  // namespace mw
