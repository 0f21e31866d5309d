// net.ws: the module table. The pieces: ws/conn (connections), ws/upgrade (server handshake
// for any server), ws/server (net.ws.listen), ws/client (net.ws.connect), ws/group (client
// groups, net.ws.group).
#include "stdlib/net/net.hpp"
#include "stdlib/net/ws/conn.hpp"

namespace mw::net {

int open_ws(lua_State* L) {
  ws::register_conn_class(L);
  ws::register_server_classes(L);
  ws::register_client_classes(L);
  ws::register_group_class(L);
  ws::register_upgrade_classes(L);
  const luaL_Reg funcs[] = {{"connect", ws::ws_connect}, {"listen", ws::ws_listen}, {"group", ws::ws_group}, {nullptr, nullptr}};
  luaL_newlib(L, funcs);
  return 1;
}

}  // namespace mw::net
