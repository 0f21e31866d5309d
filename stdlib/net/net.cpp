// net: the table of network submodules, plus net.resolve.
#include "stdlib/net/net.hpp"

#include "stdlib/modules.hpp"

namespace mw {

struct Submodule {
  const char* name;
  lua_CFunction open;
};

static const Submodule kSubmodules[] = {
    {"tcp", net::open_tcp},
    {"ws", net::open_ws},
    {"udp", net::open_udp},
    {"http", net::open_http},
    {"socks5", net::open_socks5},
};

int open_net(lua_State* L) {
  lua_newtable(L);
  for (const auto& m : kSubmodules) {
    lua_pushcfunction(L, m.open);
    lua_call(L, 0, 1);
    lua_setfield(L, -2, m.name);
  }
  lua_pushcfunction(L, net::resolve);
  lua_setfield(L, -2, "resolve");
  return 1;
}

}  // namespace mw
