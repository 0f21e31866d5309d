// The listening socket shared by every net server: see listener.hpp.
#include "stdlib/net/listener.hpp"

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl.hpp>
#include <sys/socket.h>

#include <cerrno>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/pool.hpp"
#include "runtime/workers.hpp"

namespace mw::net {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using error_code = boost::system::error_code;

namespace {
// Handshakes in flight at most (a flood of silent TLS clients must not take every descriptor).
constexpr size_t kMaxHandshaking = 1024;
// Pause after running out of descriptors (or kernel buffers) before accepting again.
constexpr auto kBackOff = std::chrono::milliseconds(100);

bool out_of_resources(const error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory ||
         ec == error_code(ENFILE, boost::system::system_category());
}
}  // namespace

void read_listen_options(lua_State* L, int opts, ListenConfig& cfg) {
  cfg.backlog = static_cast<int>(opt_int_field(L, opts, "backlog", asio::socket_base::max_listen_connections, 0, 65535));
  // Under `moonwire --workers N` every worker listens on the same ports: SO_REUSEPORT by default.
  cfg.reuseport = opt_bool_field(L, opts, "reuseport", workers::worker_id() != 0);
  cfg.ipv6_only = opt_bool_field(L, opts, "ipv6_only", false);
  cfg.handshake_timeout_ms = opt_timeout_field(L, opts, "handshake_timeout", 10000);
}

Listener::Listener(Engine& e, ListenConfig cfg)
    : engine_(e), cfg_(std::move(cfg)), acc_(e.io()), retry_(e.io()) {}

Listener::~Listener() { close(); }

void Listener::open(Engine& e, ListenConfig cfg, Opened done) {
  if (cfg.host == "localhost") cfg.host = "127.0.0.1";
  error_code ec;
  auto addr = asio::ip::make_address(cfg.host, ec);
  if (!ec) {
    ListenError err;
    auto l = open_at(e, cfg, tcp::endpoint(addr, cfg.port), err);
    return done(std::move(l), std::move(err));
  }
  // A host name: resolve without blocking the loop, then listen on its first address.
  auto resolver = std::make_shared<tcp::resolver>(e.io());
  std::string host = cfg.host, port = std::to_string(cfg.port);
  resolver->async_resolve(host, port, [&e, resolver, cfg = std::move(cfg), done = std::move(done)](
                                          const error_code& ec, tcp::resolver::results_type results) {
    if (ec || results.empty())
      return done(nullptr, {ec ? error_code_name(ec) : "ENOTFOUND", "cannot resolve '" + cfg.host + "'"});
    ListenError err;
    auto l = open_at(e, cfg, results.begin()->endpoint(), err);
    done(std::move(l), std::move(err));
  });
}

std::shared_ptr<Listener> Listener::open_at(Engine& e, const ListenConfig& cfg, const tcp::endpoint& ep,
                                            ListenError& err) {
  auto l = std::make_shared<Listener>(e, cfg);
  if (!l->bind(ep, err)) return nullptr;
  return l;
}

bool Listener::bind(const tcp::endpoint& ep, ListenError& err) {
  error_code ec;
  acc_.open(ep.protocol(), ec);
  if (!ec) acc_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && cfg_.reuseport) {
    int one = 1;
    if (::setsockopt(acc_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
      ec.assign(errno, boost::system::system_category());
  }
  if (!ec && ep.address().is_v6()) acc_.set_option(asio::ip::v6_only(cfg_.ipv6_only), ec);
  if (!ec) acc_.bind(ep, ec);
  if (!ec) acc_.listen(cfg_.backlog, ec);
  if (ec) {
    err = {error_code_name(ec), "listen on " + endpoint_string(ep) + ": " + error_text(ec)};
    closed_ = true;
    acc_.close(ec);
    return false;
  }
  local_ = acc_.local_endpoint(ec);
  // The hook holds a raw pointer: the destructor (via close) removes it first.
  hook_ = engine_.add_shutdown_hook([this] {
    hook_ = 0;
    auto keep = shared_from_this();
    if (on_shutdown_) on_shutdown_();
    close();
  });
  return true;
}

bool Listener::wanted() const {
  if (closed_ || accepting_ || backing_off_) return false;
  if (cfg_.max_connections && *live_ >= cfg_.max_connections) return false;
  if (handshaking_ >= kMaxHandshaking) return false;
  return demand_ ? demand_(handshaking_) : true;
}

void Listener::pump() {
  if (!wanted()) return;
  accepting_ = true;
  // The accept call fills in the peer's address: no getpeername per connection later.
  acc_.async_accept(engine_.io().get_executor(), peer_, [self = shared_from_this()](const error_code& ec, Socket sock) {
    self->accepting_ = false;
    if (self->closed_) return;
    if (ec) {
      if (!out_of_resources(ec) && self->on_error_) self->on_error_(ec);
      // Out of descriptors: retry a little later instead of spinning (the pending connection
      // stays in the kernel's queue). Other errors: the same pause, so none can spin either.
      return self->back_off();
    }
    self->accepted(std::move(sock));
    self->pump();
  });
}

void Listener::back_off() {
  if (closed_) return;
  backing_off_ = true;
  retry_.expires_after(kBackOff);
  retry_.async_wait([self = shared_from_this()](const error_code& ec) {
    self->backing_off_ = false;
    if (!ec) self->pump();
  });
}

void Listener::accepted(Socket sock) {
  error_code ignored;
  sock.set_option(tcp::no_delay(true), ignored);
  ++*live_;
  // The slot counts the connection until its owner lets it go; then accepting may resume.
  std::weak_ptr<Listener> weak = weak_from_this();
  std::shared_ptr<void> slot(
      nullptr,
      [live = live_, weak](void*) {
        --*live;
        if (auto l = weak.lock()) l->pump();
      },
      PoolAllocator<void>());
  Accepted a;
  a.peer = peer_;
  if (!local_.address().is_unspecified()) a.local = local_, a.local_known = true;
  if (cfg_.tls) return start_tls(std::move(sock), std::move(slot), std::move(a));
  a.plain.emplace(std::move(sock));
  a.accepted_at = std::chrono::steady_clock::now();
  a.slot = std::move(slot);
  if (on_accept_) on_accept_(std::move(a));
}

void Listener::start_tls(Socket sock, std::shared_ptr<void> slot, Accepted a) {
  struct Handshake {
    Handshake(Socket s, ssl::context& ctx, asio::io_context& io) : stream(std::move(s), ctx), timer(io) {}
    TlsSocket stream;
    asio::steady_timer timer;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  };
  if (on_tls_accept_) on_tls_accept_();
  auto hs = std::make_shared<Handshake>(std::move(sock), *cfg_.tls, engine_.io());
  ++handshaking_;
  if (cfg_.handshake_timeout_ms != kForever) {
    hs->timer.expires_after(std::chrono::milliseconds(cfg_.handshake_timeout_ms));
    hs->timer.async_wait([hs](const error_code& ec) {
      error_code ignored;
      if (!ec) hs->stream.next_layer().close(ignored);  // a client that never finishes its handshake
    });
  }
  auto self = shared_from_this();
  hs->stream.async_handshake(ssl::stream_base::server, [self, hs, slot = std::move(slot), peer = a.peer, local = a.local,
                                                        local_known = a.local_known](const error_code& ec) mutable {
    hs->timer.cancel();
    --self->handshaking_;
    if (ec || self->closed_ || !hs->stream.next_layer().is_open()) {
      error_code ignored;
      hs->stream.next_layer().close(ignored);
      slot.reset();
      return self->pump();
    }
    Accepted a;
    a.peer = peer;
    a.local = local;
    a.local_known = local_known;
    a.tls.emplace(std::move(hs->stream));
    a.tls_context = self->cfg_.tls;
    a.accepted_at = hs->started;
    a.slot = std::move(slot);
    if (self->on_accept_) self->on_accept_(std::move(a));
    self->pump();
  });
}

void Listener::close() {
  if (closed_) return;
  closed_ = true;
  error_code ec;
  acc_.close(ec);
  retry_.cancel();
  if (hook_) engine_.remove_shutdown_hook(hook_);
  hook_ = 0;
}

}  // namespace mw::net
