#pragma once
// Outgoing TCP connections shared by net.tcp, net.ws and net.http: resolve (never blocking the
// loop), try every address, optionally through a proxy (HTTP CONNECT, SOCKS5).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "runtime/lua.hpp"

namespace mw::net {

using tcp = boost::asio::ip::tcp;
// The sockets of net.tcp and net.ws connections: on the io_context's own executor type, since
// every Asio/Beast operation copies its executor several times and the type-erased
// any_io_executor makes each copy costly.
using Socket = boost::asio::basic_stream_socket<tcp, boost::asio::io_context::executor_type>;

// A connected tcp::socket (from async_connect, a proxy tunnel) as a Socket of `io`.
Socket adopt_socket(boost::asio::io_context& io, tcp::socket& sock);

// A failure: code ("ECONNREFUSED", "ENOTFOUND", "EPROXY", ...) and message; empty code = success.
struct ConnectError {
  std::string code;
  std::string message;
  explicit operator bool() const { return !code.empty(); }
};
using ConnectDone = std::function<void(ConnectError)>;

struct ProxySpec {
  std::string scheme;  // "http", "socks5" (local DNS), "socks5h" (DNS at the proxy)
  std::string host;
  uint16_t port = 0;
  std::string user;
  std::string password;
};

// Connects `sock` to host:port (directly, or to the proxy and then through its tunnel).
// The caller abandons the attempt by closing the socket.
void async_connect(boost::asio::io_context& io, std::shared_ptr<tcp::socket> sock, const std::string& host,
                   uint16_t port, const std::optional<ProxySpec>& proxy, ConnectDone done);

// Implemented in proxy.cpp.
// Parses "http://[user:pass@]host:port", "socks5://...", "socks5h://..."; false + error if bad.
bool parse_proxy_url(std::string_view url, ProxySpec& out, std::string& error);
// On a socket connected to the proxy: establishes the tunnel to host:port.
void async_proxy_tunnel(std::shared_ptr<tcp::socket> sock, const ProxySpec& proxy, const std::string& host,
                        uint16_t port, ConnectDone done);
// Reads opts.proxy (a URL string, or false/nil for none) of the options table at opts_idx.
std::optional<ProxySpec> read_proxy_option(lua_State* L, int opts_idx);

// Normalizes listen's ([host,] port[, opts]) arguments: host at 1 (default "127.0.0.1"),
// port at 2 (with `port_optional`, nil means 0: any free port), opts (nil or a table) at 3;
// raises on bad types.
void normalize_listen_args(lua_State* L, const char* fname, bool port_optional = false);

// "1.2.3.4:80" / "[::1]:80"
std::string endpoint_string(const tcp::endpoint& ep);

}  // namespace mw::net
