// Plain C++20 Asio echo server: the baseline ("ceiling") for the TCP echo and idle-connection
// benchmarks. One thread, one io_context, one coroutine per connection doing
// read_some(4096) -> write(all of it), the same loop as tools/bench/tcp_echo_server.lua.
//
// usage: bench_asio_echo_server [PORT]   (0 = any free port; prints "PORT <n>" when listening)
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <cstdlib>

namespace asio = boost::asio;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

static asio::awaitable<void> echo(tcp::socket sock) {
  char buf[4096];
  for (;;) {
    auto [ec, n] = co_await sock.async_read_some(asio::buffer(buf), use_tuple);
    if (ec) break;
    auto [wec, w] = co_await asio::async_write(sock, asio::buffer(buf, n), use_tuple);
    if (wec) break;
  }
}

static asio::awaitable<void> listener(tcp::acceptor& acc) {
  for (;;) {
    auto [ec, sock] = co_await acc.async_accept(use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      continue;  // e.g. EMFILE: keep serving the others
    }
    sock.set_option(tcp::no_delay(true));
    asio::co_spawn(acc.get_executor(), echo(std::move(sock)), asio::detached);
  }
}

int main(int argc, char** argv) {
  unsigned short port = argc > 1 ? static_cast<unsigned short>(std::atoi(argv[1])) : 0;
  asio::io_context io(1);
  tcp::acceptor acc(io);
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  acc.open(ep.protocol());
  acc.set_option(tcp::acceptor::reuse_address(true));
  acc.bind(ep);
  acc.listen(asio::socket_base::max_listen_connections);
  std::printf("PORT %u\n", acc.local_endpoint().port());
  std::fflush(stdout);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) { io.stop(); });
  asio::co_spawn(io, listener(acc), asio::detached);
  io.run();
  return 0;
}
