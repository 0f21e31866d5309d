// WebSocket clients for `make soak` (tools/soak/run.sh); one thread, one io_context, Beast
// clients over plain TCP to 127.0.0.1, as tools/bench/ws_loadgen.cpp (whose options it shares).
//
//   soak_ws_clients slow --port P [--conns 20] [--count 20] [--size 1024] [--duration 10] [--hold 4]
//     Broadcast with one slow consumer (server: tools/soak/ws_broadcast_server.lua). Opens CONNS
//     fast clients, which read all the time, and one slow client with a 64 KiB receive buffer
//     that says "slow" and then reads nothing. Fast client 0 sends "go COUNT SIZE DURATION_MS":
//     the server broadcasts COUNT SIZE-byte messages every 10 ms for DURATION ms, then a final
//     text "end TOTAL". HOLD s after the broadcast started, the slow client reads again (it
//     stalled for HOLD s) and reports what it finds. Prints every 0.5 s
//     "t=<s> fast_msgs=<deliveries so far>", then:
//       fast conns=<n> total=<server's TOTAL> min=<fewest received> max=<most> closed=<fast clients that ended early>
//       slow msgs=<received> close_code=<code or -> close_reason=<...> error=<how its read ended>
//
//   soak_ws_clients acks --port P [--conns 20] [--count 4] [--duration 10]
//     Numbered messages for the shutdown test (server: tools/soak/ack_server.lua). Each of
//     CONNS connections sends text "C:SEQ" (SEQ = 1, 2, ...) with up to COUNT unacknowledged,
//     and prints "ACK C:SEQ" for each echo it gets back (the server's acknowledgement, sent
//     after recording the message), until the server closes the connection or DURATION s pass.
//     Then: acks conns=<n> sent=<n> acked=<n> close_codes=<code:count,...> errors=<n>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../bench/loadgen_options.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using ws_stream = websocket::stream<tcp::socket>;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

static clock_type::duration secs(double s) {
  return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s));
}

static asio::awaitable<void> ws_connect(ws_stream& ws, tcp::endpoint ep, int rcvbuf = 0) {
  auto& sock = beast::get_lowest_layer(ws);
  if (rcvbuf > 0) {  // before connect, so the window is negotiated small
    sock.open(tcp::v4());
    sock.set_option(asio::socket_base::receive_buffer_size(rcvbuf));
  }
  auto [cec] = co_await sock.async_connect(ep, use_tuple);
  if (cec) die("connect: " + cec.message());
  sock.set_option(tcp::no_delay(true));
  auto [hec] = co_await ws.async_handshake("127.0.0.1:" + std::to_string(ep.port()), "/", use_tuple);
  if (hec) die("handshake: " + hec.message());
  ws.text(true);
}

static asio::awaitable<void> send_text(ws_stream& ws, std::string s) {
  auto [ec, n] = co_await ws.async_write(asio::buffer(s), use_tuple);
  if (ec) die("write: " + ec.message());
}

// --- slow ------------------------------------------------------------------------------------

struct SlowState {
  std::vector<long long> fast_counts;
  int fast_closed = 0;
  int fast_done = 0;  // fast clients that got "end"
  long long total = -1;
  long long fast_all = 0;
  bool slow_reading = false;
  bool slow_done = false;
  long long slow_msgs = 0;
  std::string slow_code = "-", slow_reason, slow_error;
};

static asio::awaitable<void> fast_reader(std::shared_ptr<ws_stream> ws, int i, SlowState& st) {
  beast::flat_buffer in;
  for (;;) {
    auto [ec, n] = co_await ws->async_read(in, use_tuple);
    if (ec) {
      ++st.fast_closed;
      std::fprintf(stderr, "fast client %d ended: %s (close code %d)\n", i, ec.message().c_str(),
                   static_cast<int>(ws->reason().code));
      co_return;
    }
    auto data = beast::buffers_to_string(in.data());
    in.consume(in.size());
    if (data.rfind("end ", 0) == 0) {
      st.total = std::stoll(data.substr(4));
      ++st.fast_done;
      co_return;  // stays open; closed at exit
    }
    ++st.fast_counts[i];
    ++st.fast_all;
  }
}

static asio::awaitable<void> slow_reader(std::shared_ptr<ws_stream> ws, SlowState& st) {
  beast::flat_buffer in;
  for (;;) {
    auto [ec, n] = co_await ws->async_read(in, use_tuple);
    if (ec) {
      st.slow_error = ec.message();
      if (ec == websocket::error::closed) {
        st.slow_code = std::to_string(ws->reason().code);
        st.slow_reason = std::string(ws->reason().reason.c_str());
      }
      st.slow_done = true;
      co_return;
    }
    in.consume(in.size());
    ++st.slow_msgs;
  }
}

static int run_slow(const Options& o) {
  asio::io_context io(1);
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), o.port);
  int nfast = o.conns;
  SlowState st;
  st.fast_counts.assign(nfast, 0);
  std::vector<std::shared_ptr<ws_stream>> fast;
  auto slow = std::make_shared<ws_stream>(io);
  auto t0 = clock_type::now();
  asio::steady_timer ticker(io), limit(io);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await ws_connect(*slow, ep, 65536);
    co_await send_text(*slow, "slow");
    for (int i = 0; i < nfast; ++i) {
      fast.push_back(std::make_shared<ws_stream>(io));
      co_await ws_connect(*fast.back(), ep);
      co_await send_text(*fast.back(), "fast");
      asio::co_spawn(io, fast_reader(fast.back(), i, st), asio::detached);
    }
    t0 = clock_type::now();
    co_await send_text(*fast[0], "go " + std::to_string(o.count) + " " + std::to_string(o.size) + " " +
                                     std::to_string(static_cast<long>(o.duration * 1000)));
    // Every 0.5 s: progress. HOLD s after the start the slow client reads again (a stall of HOLD s).
    for (int t = 1;; ++t) {
      ticker.expires_at(t0 + std::chrono::milliseconds(500 * t));
      co_await ticker.async_wait(asio::use_awaitable);
      std::printf("t=%.1f fast_msgs=%lld\n", t / 2.0, st.fast_all);
      std::fflush(stdout);
      if (!st.slow_reading && clock_type::now() - t0 >= secs(o.hold)) {
        st.slow_reading = true;
        asio::co_spawn(io, slow_reader(slow, st), asio::detached);
      }
      if (st.slow_done && st.fast_done + st.fast_closed == nfast) break;
    }
    long long mn = *std::min_element(st.fast_counts.begin(), st.fast_counts.end());
    long long mx = *std::max_element(st.fast_counts.begin(), st.fast_counts.end());
    std::printf("fast conns=%d total=%lld min=%lld max=%lld closed=%d\n", nfast, st.total, mn, mx, st.fast_closed);
    std::printf("slow msgs=%lld close_code=%s close_reason=\"%s\" error=\"%s\"\n", st.slow_msgs, st.slow_code.c_str(),
                st.slow_reason.c_str(), st.slow_error.c_str());
    std::fflush(stdout);
    std::_Exit(0);
  }, asio::detached);
  limit.expires_after(secs(o.duration + o.hold + 30));  // a bound, whatever the server does
  limit.async_wait([&](auto ec) {
    if (!ec) die("slow: no result within the time bound");
  });
  io.run();
  return 1;
}

// --- acks ------------------------------------------------------------------------------------

struct AckState {
  long long sent = 0, acked = 0;
  int ended = 0, errors = 0;
  std::map<int, int> close_codes;
  bool stopping = false;
};

static asio::awaitable<void> ack_conn(tcp::endpoint ep, int c, const Options& o, AckState& st) {
  auto ws = std::make_shared<ws_stream>(co_await asio::this_coro::executor);
  co_await ws_connect(*ws, ep);
  long long next = 1, inflight = 0;
  bool writing = false;
  // Writer: keeps up to COUNT messages unacknowledged (one write at a time, as Beast requires).
  auto pump = [&, ws]() -> asio::awaitable<void> {
    writing = true;
    while (!st.stopping && inflight < o.count) {
      std::string m = std::to_string(c) + ":" + std::to_string(next);
      ++next;
      ++inflight;
      auto [ec, n] = co_await ws->async_write(asio::buffer(m), use_tuple);
      if (ec) break;
      ++st.sent;
    }
    writing = false;
  };
  asio::co_spawn(ws->get_executor(), pump(), asio::detached);
  beast::flat_buffer in;
  for (;;) {
    auto [ec, n] = co_await ws->async_read(in, use_tuple);
    if (ec) {
      if (ec == websocket::error::closed) ++st.close_codes[ws->reason().code];
      else ++st.errors, std::fprintf(stderr, "acks: connection %d: %s\n", c, ec.message().c_str());
      break;
    }
    std::printf("ACK %s\n", beast::buffers_to_string(in.data()).c_str());
    in.consume(in.size());
    ++st.acked;
    --inflight;
    if (!writing) asio::co_spawn(ws->get_executor(), pump(), asio::detached);
  }
  while (writing) {  // the writer holds references into this frame
    asio::steady_timer t(ws->get_executor(), std::chrono::milliseconds(5));
    co_await t.async_wait(asio::use_awaitable);
  }
  ++st.ended;
}

static int run_acks(const Options& o) {
  asio::io_context io(1);
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), o.port);
  AckState st;
  for (int c = 0; c < o.conns; ++c) asio::co_spawn(io, ack_conn(ep, c, o, st), asio::detached);
  auto report = [&] {
    std::string codes;
    for (auto& [k, v] : st.close_codes) codes += (codes.empty() ? "" : ",") + std::to_string(k) + ":" + std::to_string(v);
    std::printf("acks conns=%d sent=%lld acked=%lld close_codes=%s errors=%d\n", o.conns, st.sent, st.acked,
                codes.empty() ? "-" : codes.c_str(), st.errors);
    std::fflush(stdout);
    std::_Exit(0);
  };
  asio::steady_timer limit(io), poll(io);
  limit.expires_after(secs(o.duration));
  limit.async_wait([&](auto ec) {
    if (!ec) std::fprintf(stderr, "acks: time bound reached with %d of %d connections open\n", o.conns - st.ended, o.conns),
        report();
  });
  std::function<void()> check = [&] {
    poll.expires_after(std::chrono::milliseconds(10));
    poll.async_wait([&](auto ec) {
      if (ec) return;
      if (st.ended == o.conns) return report();
      check();
    });
  };
  check();
  io.run();
  return 1;
}

int main(int argc, char** argv) {
  Options o = parse_options(argc, argv, "soak_ws_clients", {"slow", "acks"});
  if (o.mode == "slow") return run_slow(o);
  return run_acks(o);
}
