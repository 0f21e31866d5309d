// net.ws: the module table. The pieces: ws/conn (connections), ws/upgrade (server handshake
// for any server), ws/server (net.ws.listen), ws/client (net.ws.connect), ws/group (client
// groups, net.ws.group).
#include "stdlib/compat.hpp"
#include "stdlib/net/net.hpp"
#include "stdlib/net/ws/conn.hpp"

namespace mw::net {

namespace {

// net.ws:connect(url, callbacks) is HOOZi's (stdlib/lua/compat/hoozi_ws.lua); net.ws.connect ours.
int connect_either(lua_State* L) {
  if (is_colon_call(L, "net.ws")) return call_layer(L, "compat.hoozi_ws", "connect");
  return ws::ws_connect(L);
}

}  // namespace

int open_ws(lua_State* L) {
  ws::register_conn_class(L);
  ws::register_server_classes(L);
  ws::register_client_classes(L);
  ws::register_group_class(L);
  ws::register_upgrade_classes(L);
  const luaL_Reg funcs[] = {{"connect", connect_either}, {"listen", ws::ws_listen}, {"group", ws::ws_group}, {nullptr, nullptr}};
  luaL_newlib(L, funcs);
  for (const char* fn : {"send", "close", "is_open"}) {  // HOOZi's net.ws:send(id, msg), ...
    push_layer_function(L, "net.ws", "compat.hoozi_ws", fn);
    lua_setfield(L, -2, fn);
  }
  return 1;
}

}  // namespace mw::net
