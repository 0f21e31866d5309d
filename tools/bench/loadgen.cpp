// Load generator for `make bench` (one thread, one io_context, C++20 coroutines).
//
//   bench_loadgen echo --port P [--conns 50] [--size 64] [--duration 4] [--warmup 0.5]
//     Each connection: write SIZE bytes, read SIZE bytes back (checked), repeat. Messages are
//     counted after the warm-up for DURATION seconds. Prints:
//       msgs=<n> seconds=<s> rate=<msgs/s> conns=<c> size=<b>
//
//   bench_loadgen hold --port P [--conns 10000] [--parallel 200] [--hold 120]
//     Opens CONNS connections (at most PARALLEL connects in flight), prints "CONNECTED <n>",
//     then holds them idle. On SIGUSR1 every connection does one SIZE-byte echo round trip and
//     "PINGED <n>" is printed. Exits on SIGTERM/SIGINT or after HOLD seconds.
//     With --http 1: each connection sends one HTTP/1.1 GET / as soon as it is connected and
//     reads the response (Content-Length framing); "REQUESTED <n>" once all have their
//     response; the connections then stay open, idle keep-alive connections of the server.
//
//   bench_loadgen churn --port P [--count 1000] [--parallel 50] [--size 64] [--hold 120]
//     Opens and closes COUNT connections, at most PARALLEL at a time: each one connects, does
//     one SIZE-byte echo round trip (checked), then closes (we send FIN first) and waits for the
//     server's EOF, so a finished connection is closed on both sides. Dies on any error or
//     after HOLD seconds. Prints: churned=<n> seconds=<s> rate=<conns/s>   (used by make soak)
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cctype>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "loadgen_options.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);


// --- echo ------------------------------------------------------------------------------------

struct EchoState {
  bool measuring = false;
  bool stopping = false;
  long long msgs = 0;
  int connected = 0;
};

static asio::awaitable<void> echo_client(tcp::endpoint ep, size_t size, EchoState& st) {
  auto ex = co_await asio::this_coro::executor;
  tcp::socket sock(ex);
  auto [cec] = co_await sock.async_connect(ep, use_tuple);
  if (cec) die("connect: " + cec.message());
  sock.set_option(tcp::no_delay(true));
  ++st.connected;
  std::vector<char> out(size), in(size);
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>('a' + i % 26);
  while (!st.stopping) {
    auto [wec, w] = co_await asio::async_write(sock, asio::buffer(out), use_tuple);
    if (wec) die("write: " + wec.message());
    auto [rec, r] = co_await asio::async_read(sock, asio::buffer(in), use_tuple);
    if (rec) {
      if (st.stopping) break;
      die("read: " + rec.message());
    }
    if (std::memcmp(in.data(), out.data(), size) != 0) die("echo mismatch");
    if (st.measuring) ++st.msgs;
  }
}

static int run_echo(const Options& o) {
  asio::io_context io(1);
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), o.port);
  EchoState st;
  for (int i = 0; i < o.conns; ++i) asio::co_spawn(io, echo_client(ep, o.size, st), asio::detached);
  asio::steady_timer timer(io);
  clock_type::time_point t0;
  timer.expires_after(std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.warmup)));
  timer.async_wait([&](auto) {
    if (st.connected != o.conns) die("not all connections are up after the warm-up");
    st.measuring = true;
    t0 = clock_type::now();
    timer.expires_after(std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.duration)));
    timer.async_wait([&](auto) {
      st.measuring = false;
      st.stopping = true;
      double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
      std::printf("msgs=%lld seconds=%.6f rate=%.0f conns=%d size=%zu\n", st.msgs, secs, st.msgs / secs, o.conns,
                  o.size);
      std::fflush(stdout);
      io.stop();
    });
  });
  io.run();
  return 0;
}

// --- hold ------------------------------------------------------------------------------------

struct HoldState {
  std::vector<tcp::socket> socks;
  int next = 0;
  int done = 0;
  int pinged = 0;
};

static asio::awaitable<void> http_get_once(tcp::socket& sock, int total, HoldState& st);

static asio::awaitable<void> connector(tcp::endpoint ep, const Options& o, HoldState& st) {
  while (st.next < o.conns) {
    int i = st.next++;
    auto [ec] = co_await st.socks[i].async_connect(ep, use_tuple);
    if (ec) die("connect #" + std::to_string(i) + ": " + ec.message());
    if (o.http) asio::co_spawn(co_await asio::this_coro::executor, http_get_once(st.socks[i], o.conns, st), asio::detached);
    if (++st.done == o.conns) {
      std::printf("CONNECTED %d\n", st.done);
      std::fflush(stdout);
    }
  }
}

static asio::awaitable<void> ping(tcp::socket& sock, size_t size, int total, HoldState& st) {
  std::vector<char> out(size, 'p'), in(size);
  auto [wec, w] = co_await asio::async_write(sock, asio::buffer(out), use_tuple);
  if (wec) die("ping write: " + wec.message());
  auto [rec, r] = co_await asio::async_read(sock, asio::buffer(in), use_tuple);
  if (rec) die("ping read: " + rec.message());
  if (++st.pinged == total) {
    std::printf("PINGED %d\n", st.pinged);
    std::fflush(stdout);
  }
}

// One HTTP/1.1 keep-alive GET / on an open connection (hold --http): reads the response head and
// its Content-Length body, then leaves the connection open and idle.
static asio::awaitable<void> http_get_once(tcp::socket& sock, int total, HoldState& st) {
  static const std::string req = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: bench_loadgen\r\n\r\n";
  auto [wec, w] = co_await asio::async_write(sock, asio::buffer(req), use_tuple);
  if (wec) die("http write: " + wec.message());
  std::string in;
  char chunk[4096];
  for (;;) {
    auto [rec, r] = co_await sock.async_read_some(asio::buffer(chunk), use_tuple);
    if (rec) die("http read: " + rec.message());
    in.append(chunk, r);
    size_t end = in.find("\r\n\r\n");
    if (end == std::string::npos) continue;
    std::string head = in.substr(0, end);
    for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t cl = head.find("content-length:");
    if (cl == std::string::npos) die("http response without content-length: " + in.substr(0, end));
    size_t len = std::strtoul(head.c_str() + cl + 15, nullptr, 10);
    if (in.size() >= end + 4 + len) break;
  }
  if (++st.pinged == total) {
    std::printf("REQUESTED %d\n", st.pinged);
    std::fflush(stdout);
  }
}

static int run_hold(const Options& o) {
  asio::io_context io(1);
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), o.port);
  HoldState st;
  st.socks.reserve(o.conns);
  for (int i = 0; i < o.conns; ++i) st.socks.emplace_back(io);
  for (int i = 0; i < std::min(o.parallel, o.conns); ++i) asio::co_spawn(io, connector(ep, o, st), asio::detached);

  asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&](auto, int) { io.stop(); });
  asio::signal_set usr(io, SIGUSR1);
  std::function<void()> wait_usr = [&] {
    usr.async_wait([&](auto ec, int) {
      if (ec) return;
      if (st.done != o.conns) die("SIGUSR1 before all connections were up");
      if (o.http) die("SIGUSR1 with --http: the connections already made their request");
      st.pinged = 0;
      for (auto& s : st.socks) asio::co_spawn(io, ping(s, o.size, o.conns, st), asio::detached);
      wait_usr();
    });
  };
  wait_usr();
  asio::steady_timer limit(io);
  limit.expires_after(std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.hold)));
  limit.async_wait([&](auto ec) {
    if (!ec) io.stop();
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
  std::vector<char> out(o.size), in(o.size);
  while (st.next < o.count) {
    long i = st.next++;
    for (size_t k = 0; k < o.size; ++k) out[k] = static_cast<char>('a' + (i + k) % 26);
    tcp::socket sock(ex);
    auto [cec] = co_await sock.async_connect(ep, use_tuple);
    if (cec) die("connect #" + std::to_string(i) + ": " + cec.message());
    sock.set_option(tcp::no_delay(true));
    auto [wec, w] = co_await asio::async_write(sock, asio::buffer(out), use_tuple);
    if (wec) die("write #" + std::to_string(i) + ": " + wec.message());
    auto [rec, r] = co_await asio::async_read(sock, asio::buffer(in), use_tuple);
    if (rec) die("read #" + std::to_string(i) + ": " + rec.message());
    if (std::memcmp(in.data(), out.data(), o.size) != 0) die("echo mismatch");
    boost::system::error_code ec;
    sock.shutdown(tcp::socket::shutdown_send, ec);
    char c;
    auto [eec, e] = co_await sock.async_read_some(asio::buffer(&c, 1), use_tuple);
    if (eec != asio::error::eof) die("#" + std::to_string(i) + ": expected EOF after close, got " + (eec ? eec.message() : "data"));
    sock.close(ec);
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
  limit.expires_after(std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.hold)));
  limit.async_wait([&](auto ec) {
    if (!ec) die("churn: " + std::to_string(st.done) + " of " + std::to_string(o.count) + " connections done in time");
  });
  io.run();
  double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::printf("churned=%ld seconds=%.6f rate=%.0f\n", st.done, secs, st.done / secs);
  return 0;
}

int main(int argc, char** argv) {
  Options o = parse_options(argc, argv, "bench_loadgen", {"echo", "hold", "churn"});
  if (o.mode == "churn") return run_churn(o);
  return o.mode == "echo" ? run_echo(o) : run_hold(o);
}
