// WebSocket load generator for `make bench` (one thread and io_context, `bcast` optionally more; C++20 coroutines,
// Boost.Beast clients over plain TCP with TCP_NODELAY; path "/", no compression).
//
//   bench_ws_loadgen echo --port P [--conns 50] [--size 64] [--duration 4] [--warmup 0.5]
//     Each connection: send a SIZE-byte text message, read the echo (checked), repeat. Messages
//     are counted after the warm-up for DURATION seconds. Prints:
//       msgs=<n> seconds=<s> rate=<msgs/s> conns=<c> size=<b>
//
//   bench_ws_loadgen bcast --port P [--conns 1000] [--count 1000] [--size 64] [--rounds 3] [--threads 1]
//     Opens CONNS connections (at most PARALLEL handshakes in flight) that all read (THREADS
//     threads, each owning every THREADS-th connection; frames parsed here, see below). Then each
//     round: connection 0 sends the text "COUNT SIZE" (the server then broadcasts COUNT messages
//     of SIZE bytes to every connection); the round ends when every connection has received
//     its COUNT messages (sizes checked). Prints per round and then the best:
//       round=<i> deliveries=<n> seconds=<s> rate=<deliveries/s>
//       deliveries=<n> seconds=<s> rate=<best deliveries/s> median=<median rate> conns=<c> ... threads=<t>
//
//   bench_ws_loadgen hold --port P [--conns 10000] [--parallel 200] [--hold 120] [--size 64]
//     Opens CONNS WebSocket connections (handshakes complete), prints "CONNECTED <n>", holds
//     them idle. On SIGUSR1 every connection does one SIZE-byte text echo and "PINGED <n>" is
//     printed. Exits on SIGTERM/SIGINT or after HOLD seconds.
//
//   bench_ws_loadgen handshake --port P [--count 5000] [--parallel 50] [--hold 120]
//     Opens COUNT WebSocket connections, at most PARALLEL at a time: each one connects,
//     completes the opening handshake (checked by Beast: 101, Sec-WebSocket-Accept) and closes
//     the socket (no closing handshake: the server just sees EOF). Dies on any error or after
//     HOLD seconds. Prints: handshakes=<n> seconds=<s> rate=<handshakes/s>
//
//   bench_ws_loadgen churn --port P [--count 1000] [--parallel 50] [--size 64] [--hold 120]
//     Opens and closes COUNT WebSocket connections, at most PARALLEL at a time: each one
//     connects, does one SIZE-byte text echo (checked), then completes a closing handshake
//     (code 1000) and waits until the TCP connection is closed. Dies on any error or after HOLD
//     seconds. Prints: churned=<n> seconds=<s> rate=<conns/s>   (used by make soak)
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "loadgen_options.hpp"

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

// TCP connect + WebSocket handshake; dies on failure.
static asio::awaitable<void> ws_connect(ws_stream& ws, tcp::endpoint ep, int i) {
  auto [cec] = co_await beast::get_lowest_layer(ws).async_connect(ep, use_tuple);
  if (cec) die("connect #" + std::to_string(i) + ": " + cec.message());
  beast::get_lowest_layer(ws).set_option(tcp::no_delay(true));
  auto [hec] = co_await ws.async_handshake("127.0.0.1:" + std::to_string(ep.port()), "/", use_tuple);
  if (hec) die("handshake #" + std::to_string(i) + ": " + hec.message());
}

// --- echo ------------------------------------------------------------------------------------

struct EchoState {
  bool measuring = false;
  bool stopping = false;
  long long msgs = 0;
  int connected = 0;
};

static asio::awaitable<void> echo_client(tcp::endpoint ep, size_t size, int i, EchoState& st) {
  ws_stream ws(co_await asio::this_coro::executor);
  co_await ws_connect(ws, ep, i);
  ws.text(true);
  ++st.connected;
  std::string out(size, 'x');
  for (size_t k = 0; k < size; ++k) out[k] = static_cast<char>('a' + k % 26);
  beast::flat_buffer in;
  while (!st.stopping) {
    auto [wec, w] = co_await ws.async_write(asio::buffer(out), use_tuple);
    if (wec) die("write: " + wec.message());
    auto [rec, r] = co_await ws.async_read(in, use_tuple);
    if (rec) {
      if (st.stopping) break;
      die("read: " + rec.message());
    }
    if (in.size() != size || std::memcmp(in.data().data(), out.data(), size) != 0) die("echo mismatch");
    in.consume(in.size());
    if (st.measuring) ++st.msgs;
  }
}

static int run_echo(const Options& o) {
  asio::io_context io(1);
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), o.port);
  EchoState st;
  for (int i = 0; i < o.conns; ++i) asio::co_spawn(io, echo_client(ep, o.size, i, st), asio::detached);
  asio::steady_timer timer(io);
  clock_type::time_point t0;
  timer.expires_after(secs(o.warmup));
  timer.async_wait([&](auto) {
    if (st.connected != o.conns) die("not all connections are up after the warm-up");
    st.measuring = true;
    t0 = clock_type::now();
    timer.expires_after(secs(o.duration));
    timer.async_wait([&](auto) {
      st.measuring = false;
      st.stopping = true;
      double s = std::chrono::duration<double>(clock_type::now() - t0).count();
      std::printf("msgs=%lld seconds=%.6f rate=%.0f conns=%d size=%zu\n", st.msgs, s, st.msgs / s, o.conns, o.size);
      std::fflush(stdout);
      std::_Exit(0);  // do not wait for closing handshakes
    });
  });
  io.run();
  return 0;
}

// --- bcast -----------------------------------------------------------------------------------
// The handshakes go through Beast; the broadcast frames are then read straight from the socket
// and parsed here (header, length, opcode: a text or binary frame with FIN, unmasked, exactly
// SIZE bytes, else the run dies): Beast's `async_read` per message (its read op, the UTF-8
// check of every text payload, a `recv` per frame or two) cost more CPU per 4 KiB delivery than
// the servers being measured, so one generator thread capped every server at the same rate.
// Each connection waits with `async_wait(wait_read)` and then drains its socket into one
// 256 KiB buffer per thread. --threads T: T threads, each with its own io_context and every
// T-th connection.

struct BcastThread;

struct BcastConn {
  ws_stream ws;
  BcastThread* th;
  unsigned char hdr[14];  // a frame header split across two reads
  int hlen = 0;
  unsigned long long left = 0;  // payload bytes of the current frame still to come
  explicit BcastConn(asio::io_context& io, BcastThread* t) : ws(io), th(t) {}
};

struct BcastState {
  std::vector<std::unique_ptr<BcastConn>> conns;
  std::atomic<int> connected{0};
  std::atomic<long long> received{0};  // messages received by all connections, all rounds
  std::atomic<long long> target{0};    // `received` at which the current round ends
  int round = 0;
  clock_type::time_point t0;
  std::vector<double> rates;
  std::function<void()> start_round;
  asio::io_context* io0 = nullptr;  // connection 0's thread: rounds start there
};

struct BcastThread {
  asio::io_context io{1};
  std::vector<unsigned char> buf = std::vector<unsigned char>(256 * 1024);
  int next = 0;  // the k-th of this thread's connections to connect next
  BcastState* st = nullptr;
  const Options* o = nullptr;
};

static void bcast_delivered(BcastState& st, const Options& o, long long k) {
  long long t = st.target.load();
  if (st.received.fetch_add(k) + k != t) return;
  double s = std::chrono::duration<double>(clock_type::now() - st.t0).count();
  long long n = static_cast<long long>(o.conns) * o.count;
  st.rates.push_back(n / s);
  std::printf("round=%d deliveries=%lld seconds=%.6f rate=%.0f\n", st.round, n, s, n / s);
  std::fflush(stdout);
  ++st.round;
  asio::post(*st.io0, st.start_round);
}

// Parses `n` bytes of frames; returns the number of complete messages.
static long long bcast_parse(BcastConn& c, const unsigned char* p, size_t n, size_t size) {
  long long msgs = 0;
  while (n > 0) {
    if (c.left > 0) {
      size_t k = static_cast<size_t>(std::min<unsigned long long>(c.left, n));
      c.left -= k, p += k, n -= k;
      if (c.left == 0) ++msgs;
      continue;
    }
    while (n > 0 && c.hlen < 2) c.hdr[c.hlen++] = *p++, --n;
    if (c.hlen < 2) break;
    int len7 = c.hdr[1] & 0x7f;
    int need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
    while (n > 0 && c.hlen < need) c.hdr[c.hlen++] = *p++, --n;
    if (c.hlen < need) break;
    int op = c.hdr[0] & 0x0f;
    if ((c.hdr[0] & 0xf0) != 0x80 || (op != 1 && op != 2) || (c.hdr[1] & 0x80))
      die("broadcast: unexpected frame header " + std::to_string(c.hdr[0]) + " " + std::to_string(c.hdr[1]));
    unsigned long long len = len7;
    if (len7 >= 126) {
      len = 0;
      for (int i = 2; i < need; ++i) len = len << 8 | c.hdr[i];
    }
    if (len != size) die("broadcast message of " + std::to_string(len) + " bytes");
    c.hlen = 0;
    c.left = len;
    if (len == 0) ++msgs;
  }
  return msgs;
}

static void bcast_wait(BcastConn& c) {
  auto& sock = beast::get_lowest_layer(c.ws);
  sock.async_wait(tcp::socket::wait_read, [&c, &sock](beast::error_code ec) {
    if (ec) die("broadcast wait: " + ec.message());
    BcastThread& th = *c.th;
    long long msgs = 0;
    for (;;) {
      beast::error_code rec;
      size_t n = sock.read_some(asio::buffer(th.buf), rec);
      if (rec == asio::error::would_block || rec == asio::error::try_again) break;
      if (rec) die("broadcast read: " + rec.message());
      msgs += bcast_parse(c, th.buf.data(), n, th.o->size);
      if (n < th.buf.size()) break;  // drained (edge-triggered: a short read means empty)
    }
    if (msgs) bcast_delivered(*th.st, *th.o, msgs);
    bcast_wait(c);
  });
}

static asio::awaitable<void> bcast_connector(tcp::endpoint ep, const Options& o, BcastState& st, int threads,
                                             BcastThread& th, int tid) {
  // This thread's connections: tid, tid + threads, ...
  for (;;) {
    int i = tid + th.next++ * threads;
    if (i >= o.conns) break;
    BcastConn& c = *st.conns[i];
    co_await ws_connect(c.ws, ep, i);
    beast::get_lowest_layer(c.ws).non_blocking(true);
    bcast_wait(c);
    if (++st.connected == o.conns) asio::post(*st.io0, st.start_round);
  }
}

static asio::awaitable<void> send_command(ws_stream& ws, std::string cmd) {
  ws.text(true);
  auto [ec, n] = co_await ws.async_write(asio::buffer(cmd), use_tuple);
  if (ec) die("command write: " + ec.message());
}

static int run_bcast(const Options& o) {
  int threads = std::max(1, std::min(o.threads, o.conns));
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), o.port);
  BcastState st;
  std::vector<std::unique_ptr<BcastThread>> ths;
  for (int t = 0; t < threads; ++t) {
    ths.push_back(std::make_unique<BcastThread>());
    ths.back()->st = &st;
    ths.back()->o = &o;
  }
  st.io0 = &ths[0]->io;
  for (int i = 0; i < o.conns; ++i) st.conns.push_back(std::make_unique<BcastConn>(ths[i % threads]->io, ths[i % threads].get()));
  st.start_round = [&] {
    if (st.round == o.rounds) {
      std::vector<double> r = st.rates;
      std::sort(r.begin(), r.end());
      double med = r.size() % 2 ? r[r.size() / 2] : (r[r.size() / 2 - 1] + r[r.size() / 2]) / 2;
      long long n = static_cast<long long>(o.conns) * o.count;
      std::printf("deliveries=%lld seconds=%.6f rate=%.0f median=%.0f conns=%d count=%ld size=%zu threads=%d\n", n,
                  n / r.back(), r.back(), med, o.conns, o.count, o.size, threads);
      std::fflush(stdout);
      std::_Exit(0);
    }
    st.t0 = clock_type::now();
    st.target += static_cast<long long>(o.conns) * o.count;
    asio::co_spawn(*st.io0, send_command(st.conns[0]->ws, std::to_string(o.count) + " " + std::to_string(o.size)),
                   asio::detached);
  };
  // Handshakes: PARALLEL connectors in all, shared among the threads (each connects its own).
  int per = std::max(1, std::min(o.parallel, o.conns) / threads);
  for (int t = 0; t < threads; ++t)
    for (int j = 0; j < per; ++j) asio::co_spawn(ths[t]->io, bcast_connector(ep, o, st, threads, *ths[t], t), asio::detached);
  asio::steady_timer limit(ths[0]->io);  // a bound, whatever the server does
  limit.expires_after(std::chrono::seconds(120));
  limit.async_wait([&](auto ec) {
    if (!ec) die("broadcast did not complete within 120 s");
  });
  std::vector<std::thread> run;
  for (int t = 1; t < threads; ++t) run.emplace_back([&, t] { ths[t]->io.run(); });
  ths[0]->io.run();
  for (auto& r : run) r.join();
  return 0;
}

// --- hold ------------------------------------------------------------------------------------

struct HoldState {
  std::vector<std::unique_ptr<ws_stream>> conns;
  int next = 0;
  int done = 0;
  int pinged = 0;
};

static asio::awaitable<void> hold_connector(tcp::endpoint ep, const Options& o, HoldState& st) {
  while (st.next < o.conns) {
    int i = st.next++;
    co_await ws_connect(*st.conns[i], ep, i);
    if (++st.done == o.conns) {
      std::printf("CONNECTED %d\n", st.done);
      std::fflush(stdout);
    }
  }
}

static asio::awaitable<void> ping(ws_stream& ws, size_t size, int total, HoldState& st) {
  std::string out(size, 'p');
  beast::flat_buffer in;
  ws.text(true);
  auto [wec, w] = co_await ws.async_write(asio::buffer(out), use_tuple);
  if (wec) die("ping write: " + wec.message());
  auto [rec, r] = co_await ws.async_read(in, use_tuple);
  if (rec) die("ping read: " + rec.message());
  if (++st.pinged == total) {
    std::printf("PINGED %d\n", st.pinged);
    std::fflush(stdout);
  }
}

static int run_hold(const Options& o) {
  asio::io_context io(1);
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), o.port);
  HoldState st;
  st.conns.reserve(o.conns);
  for (int i = 0; i < o.conns; ++i) st.conns.push_back(std::make_unique<ws_stream>(io));
  for (int i = 0; i < std::min(o.parallel, o.conns); ++i) asio::co_spawn(io, hold_connector(ep, o, st), asio::detached);

  asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&](auto, int) { std::_Exit(0); });
  asio::signal_set usr(io, SIGUSR1);
  std::function<void()> wait_usr = [&] {
    usr.async_wait([&](auto ec, int) {
      if (ec) return;
      if (st.done != o.conns) die("SIGUSR1 before all connections were up");
      st.pinged = 0;
      for (auto& c : st.conns) asio::co_spawn(io, ping(*c, o.size, o.conns, st), asio::detached);
      wait_usr();
    });
  };
  wait_usr();
  asio::steady_timer limit(io);
  limit.expires_after(secs(o.hold));
  limit.async_wait([&](auto ec) {
    if (!ec) std::_Exit(0);
  });
  io.run();
  return 0;
}

// --- churn -----------------------------------------------------------------------------------

struct ChurnState {
  long next = 0;
  long done = 0;
  asio::steady_timer* limit = nullptr;  // cancelled when the last connection is done
};

static asio::awaitable<void> churner(tcp::endpoint ep, const Options& o, ChurnState& st) {
  auto ex = co_await asio::this_coro::executor;
  std::string out(o.size, 'x');
  beast::flat_buffer in;
  while (st.next < o.count) {
    long i = st.next++;
    for (size_t k = 0; k < o.size; ++k) out[k] = static_cast<char>('a' + (i + k) % 26);
    ws_stream ws(ex);
    co_await ws_connect(ws, ep, static_cast<int>(i));
    ws.text(true);
    auto [wec, w] = co_await ws.async_write(asio::buffer(out), use_tuple);
    if (wec) die("write #" + std::to_string(i) + ": " + wec.message());
    in.consume(in.size());
    auto [rec, r] = co_await ws.async_read(in, use_tuple);
    if (rec) die("read #" + std::to_string(i) + ": " + rec.message());
    if (in.size() != o.size || std::memcmp(in.data().data(), out.data(), o.size) != 0) die("echo mismatch");
    auto [cec] = co_await ws.async_close(websocket::close_code::normal, use_tuple);
    if (cec) die("close #" + std::to_string(i) + ": " + cec.message());
    if (++st.done == o.count) st.limit->cancel();
  }
}

static int run_churn(const Options& o) {
  asio::io_context io(1);
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), o.port);
  ChurnState st;
  auto t0 = clock_type::now();
  asio::steady_timer limit(io);
  st.limit = &limit;
  int workers = static_cast<int>(std::min<long>(o.parallel, o.count));
  for (int i = 0; i < workers; ++i) asio::co_spawn(io, churner(ep, o, st), asio::detached);
  limit.expires_after(secs(o.hold));
  limit.async_wait([&](auto ec) {
    if (!ec) die("churn: " + std::to_string(st.done) + " of " + std::to_string(o.count) + " connections done in time");
  });
  io.run();
  double s = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::printf("churned=%ld seconds=%.6f rate=%.0f\n", st.done, s, st.done / s);
  return 0;
}

// --- handshake -------------------------------------------------------------------------------

static asio::awaitable<void> handshaker(tcp::endpoint ep, const Options& o, ChurnState& st) {
  auto ex = co_await asio::this_coro::executor;
  while (st.next < o.count) {
    long i = st.next++;
    ws_stream ws(ex);
    co_await ws_connect(ws, ep, static_cast<int>(i));
    beast::error_code ec;
    beast::get_lowest_layer(ws).close(ec);
    if (++st.done == o.count) st.limit->cancel();
  }
}

static int run_handshake(const Options& o) {
  asio::io_context io(1);
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), o.port);
  ChurnState st;
  auto t0 = clock_type::now();
  asio::steady_timer limit(io);
  st.limit = &limit;
  int workers = static_cast<int>(std::min<long>(o.parallel, o.count));
  for (int i = 0; i < workers; ++i) asio::co_spawn(io, handshaker(ep, o, st), asio::detached);
  limit.expires_after(secs(o.hold));
  limit.async_wait([&](auto ec) {
    if (!ec) die("handshake: " + std::to_string(st.done) + " of " + std::to_string(o.count) + " done in time");
  });
  io.run();
  double s = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::printf("handshakes=%ld seconds=%.6f rate=%.0f\n", st.done, s, st.done / s);
  return 0;
}

int main(int argc, char** argv) {
  Options o = parse_options(argc, argv, "bench_ws_loadgen", {"echo", "bcast", "hold", "churn", "handshake"});
  if (o.mode == "churn") return run_churn(o);
  if (o.mode == "handshake") return run_handshake(o);
  if (o.mode == "echo") return run_echo(o);
  if (o.mode == "bcast") return run_bcast(o);
  return run_hold(o);
}
