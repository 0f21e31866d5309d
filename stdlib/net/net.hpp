#pragma once
// Openers of the net.* submodules (each pushes its table).
#include "runtime/lua.hpp"

namespace mw::net {
int open_tcp(lua_State* L);
int open_ws(lua_State* L);
int open_udp(lua_State* L);
int open_http(lua_State* L);     // net.http (client)
int open_socks5(lua_State* L);
int resolve(lua_State* L);  // net.resolve
}  // namespace mw::net

namespace mw {
int open_net(lua_State* L);  // the net table (net.cpp); listed in stdlib/modules.cpp
}  // namespace mw
