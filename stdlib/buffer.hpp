#pragma once
// Byte strings from Lua for every module that takes binary data: a Lua string or a `buffer`
// object (stdlib/buffer.cpp) wherever a string is accepted.
#include <string_view>

#include "runtime/lua.hpp"

namespace mw {

// The bytes of the string (or number, converted as Lua does) or buffer object at idx. Anything
// else raises Lua's argument error "string or buffer expected, got X". The view is never null
// (an empty buffer gives ""), and stays valid while the value is on the stack and the buffer
// is not written to.
std::string_view check_bytes(lua_State* L, int idx);
// check_bytes for an optional argument: `def` when none or nil.
std::string_view opt_bytes(lua_State* L, int idx, std::string_view def);
// Data to send (net writes, sends, broadcasts, request bodies): a string, a number, or a buffer,
// which is replaced at idx by a string copy of its bytes first, so the view stays valid while
// the call waits whatever other tasks do to the buffer. Else "string or buffer expected".
std::string_view check_data(lua_State* L, int idx);
// Whether the value at idx is a buffer object.
bool is_buffer(lua_State* L, int idx);
// Pushes a new buffer object holding a copy of `bytes`, its cursor at 1 (fs.read_bytes, ...).
void push_buffer(lua_State* L, std::string_view bytes);

}  // namespace mw
