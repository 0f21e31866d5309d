#pragma once
// Openers of the net.* submodules (each pushes its table).
#include "runtime/lua.hpp"

namespace mw::net {
int open_tcp(lua_State* L);
int open_ws(lua_State* L);
int open_udp(lua_State* L);
int open_http(lua_State* L);     // net.http (client)
int http_listen(lua_State* L);   // net.http.listen (the server, http_server.cpp)
void open_http_server_types(lua_State* L);
int open_socks5(lua_State* L);
int resolve(lua_State* L);  // net.resolve
}  // namespace mw::net
