// Plain C++20 Beast HTTP/1.1 server: the ceiling for the HTTP server benchmark. One thread, one
// io_context, one coroutine per connection on a plain tcp::socket (no timers, no strand, no
// TLS), keep-alive: read a request (flat_buffer + request<string_body>), answer 200 with a
// text/plain body of SIZE bytes and Content-Length, until the client closes.
//
//   bench_beast_http_server [PORT] [SIZE]      (PORT 0 = any free port; SIZE default 1024)
//
// Prints "PORT <n>" when listening.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

static asio::awaitable<void> serve(tcp::socket sock, std::shared_ptr<const std::string> body) {
  beast::flat_buffer buf;
  for (;;) {
    http::request<http::string_body> req;
    auto [ec, n] = co_await http::async_read(sock, buf, req, use_tuple);
    if (ec) break;
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::server, "beast");
    res.set(http::field::content_type, "text/plain");
    res.keep_alive(req.keep_alive());
    res.body() = *body;
    res.prepare_payload();
    auto [wec, w] = co_await http::async_write(sock, res, use_tuple);
    if (wec || !res.keep_alive()) break;
  }
  boost::system::error_code ec;
  sock.shutdown(tcp::socket::shutdown_send, ec);
}

static asio::awaitable<void> accept_loop(tcp::acceptor acc, std::shared_ptr<const std::string> body) {
  for (;;) {
    auto [ec, sock] = co_await acc.async_accept(use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      continue;
    }
    sock.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(acc.get_executor(), serve(std::move(sock), body), asio::detached);
  }
}

int main(int argc, char** argv) {
  unsigned short port = argc > 1 ? static_cast<unsigned short>(std::atoi(argv[1])) : 0;
  size_t size = argc > 2 ? static_cast<size_t>(std::atol(argv[2])) : 1024;
  auto body = std::make_shared<const std::string>(size, 'x');
  asio::io_context io(1);
  tcp::acceptor acc(io);
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  acc.open(ep.protocol());
  acc.set_option(asio::socket_base::reuse_address(true));
  acc.bind(ep);
  acc.listen(4096);
  std::printf("PORT %u\n", acc.local_endpoint().port());
  std::fflush(stdout);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) { io.stop(); });
  asio::co_spawn(io, accept_loop(std::move(acc), body), asio::detached);
  io.run();
}
