// net: the table of network submodules, plus net.resolve.
#include "stdlib/net/net.hpp"

#include <string>

#include "stdlib/modules.hpp"  // open_lua_module (net.ws_server)

namespace mw {
namespace {  // this file's types

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
    {"url", net::open_url},  // url_module.cpp
};

}  // namespace

int open_net(lua_State* L) {
  lua_newtable(L);
  for (const auto& m : kSubmodules) {
    lua_pushcfunction(L, m.open);
    lua_call(L, 0, 1);
    // Also package.loaded["net.tcp"], ...: require("net.tcp") works, and argument errors under
    // pcall name the function ("bad argument #2 to 'net.tcp.listen'") as Lua finds it there.
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, (std::string("net.") + m.name).c_str());
    lua_pop(L, 1);
    lua_setfield(L, -2, m.name);
  }
  // HOOZi's net.ws_server:listen(port, callbacks): loaded on first use.
  lua_pushcfunction(L, open_lua_module);
  lua_pushstring(L, "compat.hoozi_ws_server");
  lua_call(L, 1, 1);
  lua_setfield(L, -2, "ws_server");
  lua_pushcfunction(L, net::resolve);
  lua_setfield(L, -2, "resolve");
  return 1;
}

}  // namespace mw
