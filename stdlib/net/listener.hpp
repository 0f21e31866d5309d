#pragma once
// The one listening socket of every net server (net.tcp.listen, net.ws.listen, the HTTP
// server): resolve the host, bind (SO_REUSEADDR; optional SO_REUSEPORT, IPV6_V6ONLY, backlog),
// an accept loop that backs off when out of descriptors, an optional TLS server handshake with
// its timeout, an optional bound on open connections, and the engine's shutdown hook. Accepted
// streams go to the owner's callback; the owner decides how many it wants (`demand`), so a
// server that accepts on request (net.tcp) leaves connections in the kernel's queue meanwhile.
//
// Asio only (no Beast): any net source may include it.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "runtime/lua.hpp"
#include "stdlib/net/connect.hpp"

namespace mw {
class Engine;
}

namespace mw::net {

using TlsSocket = boost::asio::ssl::stream<Socket>;  // Socket: see connect.hpp

struct ListenConfig {
  std::string host = "127.0.0.1";  // an IP literal or a name (resolved; its first address is used)
  uint16_t port = 0;               // 0: any free port
  int backlog = boost::asio::socket_base::max_listen_connections;
  bool reuseport = false;  // SO_REUSEPORT: several processes (moonwire --workers) on one port
  bool ipv6_only = false;  // IPv6 addresses: refuse IPv4-mapped connections
  // TLS server: accepted sockets are handed over only after a completed handshake. Null: plain.
  std::shared_ptr<boost::asio::ssl::context> tls;
  int64_t handshake_timeout_ms = 10000;  // TLS handshake bound (kForever: none)
  // Open connections (accepted and not yet released, see Accepted::slot); at the bound the
  // listener stops accepting until one is released (the kernel queues the rest). 0: unlimited.
  size_t max_connections = 0;
};

// The Lua side of the options every listener shares, so every server spells them the same:
// `backlog`, `reuseport`, `ipv6_only`, `handshake_timeout`. (`tls` is read by the caller: see
// tls.hpp.) Put MW_LISTEN_OPTION_KEYS into the check_options list of known keys.
#define MW_LISTEN_OPTION_KEYS "backlog", "reuseport", "ipv6_only", "handshake_timeout"
// Reads those keys of the options table at `opts` (nil: defaults) into `cfg`; raises on bad values.
void read_listen_options(lua_State* L, int opts, ListenConfig& cfg);

// One accepted connection. Exactly one of `plain`, `tls` holds the stream (TLS: handshake done).
struct Accepted {
  std::optional<Socket> plain;
  std::optional<TlsSocket> tls;
  std::shared_ptr<boost::asio::ssl::context> tls_context;  // keep it alive as long as `tls`
  std::chrono::steady_clock::time_point accepted_at;       // for deadlines spanning TLS + more
  // The peer's address, from accept() itself; our address, when the listener is bound to one
  // (not a wildcard: then `local_known` is false and only getsockname tells).
  boost::asio::ip::tcp::endpoint peer, local;
  bool local_known = false;
  // Counts against ListenConfig::max_connections while held: keep it with the connection.
  std::shared_ptr<void> slot;
  Socket& socket() { return plain ? *plain : tls->next_layer(); }
};

struct ListenError {
  std::string code;  // "EADDRINUSE", "EACCES", "ENOTFOUND", ...
  std::string message;
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  using AcceptHandler = std::function<void(Accepted&&)>;
  // Called with the number of TLS handshakes in progress; true: accept one more connection now.
  using Demand = std::function<bool(size_t handshaking)>;
  // A failed accept other than running out of descriptors (those are retried after a pause).
  using ErrorHandler = std::function<void(const boost::system::error_code&)>;
  using Opened = std::function<void(std::shared_ptr<Listener>, ListenError)>;

  // Resolves cfg.host without blocking the loop, binds and listens; `done` gets the listener
  // (not yet accepting: set the handlers, then call pump) or, null, the error. For an IP
  // literal `done` runs inline; after a lookup, later from the loop (check it is still wanted).
  static void open(Engine& e, ListenConfig cfg, Opened done);
  // Binds and listens on an endpoint right away; null and `err` on failure.
  static std::shared_ptr<Listener> open_at(Engine& e, const ListenConfig& cfg, const boost::asio::ip::tcp::endpoint& ep,
                                           ListenError& err);

  Listener(Engine& e, ListenConfig cfg);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  void on_accept(AcceptHandler h) { on_accept_ = std::move(h); }
  // Default: accept continuously (bounded by max_connections and 1024 handshakes in flight).
  void on_demand(Demand d) { demand_ = std::move(d); }
  void on_error(ErrorHandler h) { on_error_ = std::move(h); }
  // Runs on SIGINT/SIGTERM (engine shutdown) before the listener closes itself; the owner
  // closes its connections there. Default: only the listener closes.
  void on_shutdown(std::function<void()> h) { on_shutdown_ = std::move(h); }
  // TLS: runs for each accepted connection just before its handshake starts (the HTTP server
  // reloads changed certificate files there, so this very handshake uses them).
  void on_tls_accept(std::function<void()> h) { on_tls_accept_ = std::move(h); }

  // Starts an accept if there is demand and none is in flight. Call it whenever the owner's
  // demand may have grown (a task waits in accept, a queued connection was taken).
  void pump();
  // Stops listening (idempotent). Connections already handed over are the owner's; TLS
  // handshakes still running are dropped.
  void close();

  bool closed() const { return closed_; }
  const boost::asio::ip::tcp::endpoint& local() const { return local_; }
  std::string local_addr() const { return endpoint_string(local_); }
  size_t handshaking() const { return handshaking_; }
  size_t open_connections() const { return *live_; }
  const ListenConfig& config() const { return cfg_; }

 private:
  bool bind(const boost::asio::ip::tcp::endpoint& ep, ListenError& err);
  bool wanted() const;
  void accepted(Socket sock);
  void start_tls(Socket sock, std::shared_ptr<void> slot, Accepted a);
  void back_off();

  Engine& engine_;
  ListenConfig cfg_;
  boost::asio::ip::tcp::acceptor acc_;
  boost::asio::ip::tcp::endpoint local_;
  boost::asio::ip::tcp::endpoint peer_;  // filled by the accept in flight
  boost::asio::steady_timer retry_;
  AcceptHandler on_accept_;
  Demand demand_;
  ErrorHandler on_error_;
  std::function<void()> on_shutdown_;
  std::function<void()> on_tls_accept_;
  std::shared_ptr<size_t> live_ = std::make_shared<size_t>(0);  // outlives us: slots count down into it
  size_t handshaking_ = 0;
  bool accepting_ = false;
  bool backing_off_ = false;
  bool closed_ = false;
  uint64_t hook_ = 0;
};

}  // namespace mw::net
