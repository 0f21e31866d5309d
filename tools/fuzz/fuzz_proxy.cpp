// Proxy replies into the tunnel code (stdlib/net/proxy.cpp): HTTP CONNECT and SOCKS5 (with and
// without authentication, IP and domain targets), as async_proxy_tunnel runs them for net.tcp,
// net.ws and net.http. The first byte picks the proxy kind; the rest is what the proxy sends
// before closing its side. A socket pair stands in for the connection to the proxy.
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "stdlib/net/connect.hpp"

namespace asio = boost::asio;
using mw::net::ConnectError;
using mw::net::ProxySpec;
using mw::net::tcp;

namespace {

void drain(std::shared_ptr<tcp::socket> s, std::shared_ptr<std::array<char, 4096>> buf) {
  s->async_read_some(asio::buffer(*buf), [s, buf](boost::system::error_code ec, size_t) {
    if (!ec) drain(s, buf);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static asio::io_context* io = new asio::io_context;
  if (size == 0) return 0;
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) std::abort();
  auto client = std::make_shared<tcp::socket>(*io, tcp::v4(), fds[0]);
  auto proxy = std::make_shared<tcp::socket>(*io, tcp::v4(), fds[1]);

  ProxySpec p;
  p.host = "proxy.test";
  p.port = 1080;
  std::string host = "10.1.2.3";
  switch (data[0] % 6) {
    case 0: p.scheme = "http"; break;
    case 1: p.scheme = "http"; p.user = "user"; p.password = "secret"; break;
    case 2: p.scheme = "socks5"; break;
    case 3: p.scheme = "socks5"; p.user = "user"; p.password = "secret"; break;
    case 4: p.scheme = "socks5h"; host = "example.com"; break;
    case 5: p.scheme = "socks5"; host = "2001:db8::1"; break;
  }
  auto reply = std::make_shared<std::string>(reinterpret_cast<const char*>(data) + 1, size - 1);

  bool done = false;
  mw::net::async_proxy_tunnel(client, p, host, 443, [&done, client](ConnectError err) {
    if (err && (err.code.empty() || err.message.empty())) std::abort();
    done = true;
    boost::system::error_code ec;
    client->close(ec);
  });
  asio::async_write(*proxy, asio::buffer(*reply), [proxy, reply](boost::system::error_code, size_t) {
    boost::system::error_code ec;
    proxy->shutdown(tcp::socket::shutdown_send, ec);
  });
  drain(proxy, std::make_shared<std::array<char, 4096>>());
  io->restart();
  io->run();
  if (!done) {
    std::fprintf(stderr, "fuzz_proxy: the tunnel never completed\n");
    std::abort();
  }
  boost::system::error_code ec;
  proxy->close(ec);
  return 0;
}
