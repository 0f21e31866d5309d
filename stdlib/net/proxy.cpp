// Proxy tunnels (HTTP CONNECT, SOCKS5). Placeholder until the proxy layer lands (issue 4):
// proxies are rejected with a clear error.
#include "runtime/errors.hpp"
#include "stdlib/net/connect.hpp"

namespace mw::net {

bool parse_proxy_url(std::string_view url, ProxySpec& out, std::string& error) {
  error = "proxies are not supported yet";
  return false;
}

void async_proxy_tunnel(std::shared_ptr<tcp::socket> sock, const ProxySpec& proxy, const std::string& host,
                        uint16_t port, ConnectDone done) {
  done({"EPROXY", "proxies are not supported yet"});
}

std::optional<ProxySpec> read_proxy_option(lua_State* L, int opts_idx) {
  int t = get_field(L, opts_idx, "proxy");
  lua_pop(L, 1);
  if (t == LUA_TNIL || t == LUA_TBOOLEAN) return std::nullopt;
  raise(L, "EPROXY", "proxies are not supported yet");
}

}  // namespace mw::net
