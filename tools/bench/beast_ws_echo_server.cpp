// Plain C++20 Beast WebSocket server: the baseline ("ceiling") for the WebSocket benchmarks.
// One thread, one io_context, one coroutine per connection (no strand, no TLS, no compression).
//
//   bench_beast_ws_echo_server [PORT] [echo|broadcast]
//     echo (default): each connection reads a message (flat_buffer) and writes it back with the
//       same type: the loop of tools/bench/ws_echo_server.lua. Also the idle-connection server.
//     broadcast: every accepted connection joins the broadcast set and reads; a text message
//       "N SIZE" from any client broadcasts N text messages of SIZE bytes to every connection
//       (the way tools/bench/ws_broadcast_server.lua calls server:broadcast N times). Each
//       client has its own queue of shared messages and one writer coroutine draining it.
//
// Prints "PORT <n>" when listening (0 = any free port).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <unordered_set>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// A plain socket (not beast::tcp_stream): no per-operation timer, like the Asio echo server.
using ws_stream = websocket::stream<tcp::socket>;

static asio::awaitable<void> echo(tcp::socket sock) {
  ws_stream ws(std::move(sock));
  ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  auto [hec] = co_await ws.async_accept(use_tuple);
  if (hec) co_return;
  beast::flat_buffer buf;
  for (;;) {
    auto [ec, n] = co_await ws.async_read(buf, use_tuple);
    if (ec) break;
    ws.text(ws.got_text());
    auto [wec, w] = co_await ws.async_write(buf.data(), use_tuple);
    if (wec) break;
    buf.consume(buf.size());
  }
}

// --- broadcast -------------------------------------------------------------------------------

struct Client : std::enable_shared_from_this<Client> {
  explicit Client(tcp::socket s) : ws(std::move(s)), wake(ws.get_executor()) {
    wake.expires_at(asio::steady_timer::time_point::max());
  }
  ws_stream ws;
  std::deque<std::shared_ptr<const std::string>> queue;
  asio::steady_timer wake;  // the writer waits on it while the queue is empty
  bool open = true;
};

static std::unordered_set<std::shared_ptr<Client>> g_clients;

static void broadcast(const std::shared_ptr<const std::string>& msg) {
  for (auto& c : g_clients) {
    if (!c->open) continue;
    c->queue.push_back(msg);
    if (c->queue.size() == 1) c->wake.cancel();
  }
}

static asio::awaitable<void> writer(std::shared_ptr<Client> c) {
  while (c->open) {
    if (c->queue.empty()) {
      co_await c->wake.async_wait(use_tuple);
      continue;
    }
    auto msg = c->queue.front();
    c->ws.text(true);
    auto [ec, n] = co_await c->ws.async_write(asio::buffer(*msg), use_tuple);
    if (ec) break;
    c->queue.pop_front();
  }
  c->open = false;
}

static asio::awaitable<void> bcast_session(tcp::socket sock) {
  auto c = std::make_shared<Client>(std::move(sock));
  c->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  auto [hec] = co_await c->ws.async_accept(use_tuple);
  if (hec) co_return;
  g_clients.insert(c);
  asio::co_spawn(c->ws.get_executor(), writer(c), asio::detached);
  beast::flat_buffer buf;
  for (;;) {
    auto [ec, n] = co_await c->ws.async_read(buf, use_tuple);
    if (ec) break;
    std::string cmd = beast::buffers_to_string(buf.data());
    buf.consume(buf.size());
    long count = 0, size = 0;
    if (std::sscanf(cmd.c_str(), "%ld %ld", &count, &size) == 2) {
      for (long i = 0; i < count; ++i) {
        auto m = std::make_shared<std::string>(static_cast<size_t>(size), 'a' + static_cast<char>(i % 26));
        broadcast(m);
      }
    }
  }
  c->open = false;
  c->wake.cancel();
  g_clients.erase(c);
}

static asio::awaitable<void> listener(tcp::acceptor& acc, bool bcast) {
  for (;;) {
    auto [ec, sock] = co_await acc.async_accept(use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      continue;  // e.g. EMFILE: keep serving the others
    }
    sock.set_option(tcp::no_delay(true));
    if (bcast)
      asio::co_spawn(acc.get_executor(), bcast_session(std::move(sock)), asio::detached);
    else
      asio::co_spawn(acc.get_executor(), echo(std::move(sock)), asio::detached);
  }
}

int main(int argc, char** argv) {
  unsigned short port = argc > 1 ? static_cast<unsigned short>(std::atoi(argv[1])) : 0;
  bool bcast = argc > 2 && std::string(argv[2]) == "broadcast";
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
  signals.async_wait([&](auto, int) { std::_Exit(0); });
  asio::co_spawn(io, listener(acc, bcast), asio::detached);
  io.run();
  return 0;
}
