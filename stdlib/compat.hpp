#pragma once
// The facade between moonwire's modules and the seed compatibility layers (stdlib/lua/compat/):
// HOOZi calls `net.http:get(...)` and `net.ws:connect(...)` with a colon, CopperMoon calls
// `net.http.get(...)` with a dot. A colon call passes the module itself as the first argument,
// which no dot call does (a dot call's first argument is a URL or an options table).
#include "runtime/lua.hpp"

namespace mw {

// True when argument 1 is package.loaded[module] (the call was module:fn(...)).
bool is_colon_call(lua_State* L, const char* module);

// Calls require(layer)[fn] with the arguments after the first (the module) and returns what it
// returns. The layer may suspend (lua_callk), e.g. net.ws:send waits for the frame to be written.
int call_layer(lua_State* L, const char* layer, const char* fn);

// Pushes a function for a name only the seed's API has (net.ws:send): called with a colon, it
// forwards to require(layer)[fn]; called otherwise it raises EINVAL naming the colon form.
void push_layer_function(lua_State* L, const char* module, const char* layer, const char* fn);

// package.loaded["compat.errors"] = {einval = fn}: EINVAL error objects for the Lua layers.
int open_compat_errors(lua_State* L);

}  // namespace mw
