#include "stdlib/net/connect.hpp"

#include <boost/asio/connect.hpp>

#include "runtime/errors.hpp"

namespace mw::net {

Socket adopt_socket(boost::asio::io_context& io, tcp::socket& sock) {
  Socket s(io.get_executor());
  boost::system::error_code ec;
  auto ep = sock.local_endpoint(ec);
  if (ec) return s;  // not connected: the first operation on it fails
  auto fd = sock.release(ec);
  if (!ec) s.assign(ep.protocol(), fd, ec);
  return s;
}

std::string endpoint_string(const tcp::endpoint& ep) {
  auto a = ep.address();
  std::string host = a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  return host + ":" + std::to_string(ep.port());
}

// listen(port[, opts]): a number, or a numeric string as Lua would coerce it ("8080").
static bool is_port_only_call(lua_State* L) {
  if (lua_type(L, 1) == LUA_TNUMBER) return true;
  int isnum = 0;
  if (lua_type(L, 1) == LUA_TSTRING) lua_tointegerx(L, 1, &isnum);
  return isnum && !lua_isnumber(L, 2);
}

void normalize_listen_args(lua_State* L, const char* fname, bool port_optional) {
  if (is_port_only_call(L)) {  // listen(port[, opts])
    lua_settop(L, 2);
    lua_pushliteral(L, "127.0.0.1");
    lua_insert(L, 1);
  }
  lua_settop(L, 3);
  if (lua_isnil(L, 1)) {
    lua_pushliteral(L, "127.0.0.1");
    lua_replace(L, 1);
  }
  if (port_optional && lua_isnil(L, 2)) {
    lua_pushinteger(L, 0);
    lua_replace(L, 2);
  }
  luaL_checkstring(L, 1);
  check_port(L, 2);
  opt_table(L, 3, fname);
}

static std::string host_port(const std::string& host, uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

static void connect_direct(boost::asio::io_context& io, std::shared_ptr<tcp::socket> sock, const std::string& host,
                           uint16_t port, ConnectDone done) {
  auto on_connected = [sock, host, port, done](const boost::system::error_code& ec, const tcp::endpoint&) {
    if (ec) return done({error_code_name(ec), "connect to " + host_port(host, port) + ": " + error_text(ec)});
    done({});
  };
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(host, ec);
  if (!ec) {
    std::vector<tcp::endpoint> eps{tcp::endpoint(addr, port)};
    boost::asio::async_connect(*sock, eps, on_connected);
    return;
  }
  auto resolver = std::make_shared<tcp::resolver>(io);
  resolver->async_resolve(host, std::to_string(port),
                          [resolver, sock, host, done, on_connected](const boost::system::error_code& ec,
                                                                     tcp::resolver::results_type results) {
                            if (ec) return done({error_code_name(ec), "cannot resolve '" + host + "': " + error_text(ec)});
                            boost::asio::async_connect(*sock, results, on_connected);
                          });
}

void async_connect(boost::asio::io_context& io, std::shared_ptr<tcp::socket> sock, const std::string& host,
                   uint16_t port, const std::optional<ProxySpec>& proxy, ConnectDone done) {
  if (!proxy) return connect_direct(io, sock, host, port, std::move(done));
  ProxySpec p = *proxy;
  connect_direct(io, sock, p.host, p.port, [sock, p, host, port, done](ConnectError err) {
    if (err) {
      err.message = "proxy " + err.message;
      return done(err);
    }
    async_proxy_tunnel(sock, p, host, port, done);
  });
}

}  // namespace mw::net
