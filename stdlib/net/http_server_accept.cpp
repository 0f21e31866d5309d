// The HTTP server's listening socket (bind, accept with EMFILE back-off, max_connections, TLS
// handshakes with a deadline) and the server's connection set: graceful close, the deadline
// sweep, srv:wait(). Kept apart from the protocol so the accept code can move to the shared
// net listener.
#include <boost/asio/ip/v6_only.hpp>
#include <sys/socket.h>

#include "runtime/errors.hpp"
#include "runtime/pool.hpp"
#include "stdlib/net/http_server.hpp"

namespace mw::net::httpd {

static constexpr int64_t kBackoffMs = 100;

Acceptor::Acceptor(Server& s) : server_(s), acc_(s.engine.io()), backoff_(s.engine.io()) {}

bool Acceptor::open(const tcp::endpoint& ep, int backlog, bool reuseport, bool v6only, std::string& code,
                    std::string& error) {
  error_code ec;
  acc_.open(ep.protocol(), ec);
  if (!ec) acc_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && reuseport) {
    int one = 1;
    if (::setsockopt(acc_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
      ec.assign(errno, boost::system::system_category());
  }
  if (!ec && ep.address().is_v6()) acc_.set_option(asio::ip::v6_only(v6only), ec);
  if (!ec) acc_.bind(ep, ec);
  if (!ec) acc_.listen(backlog, ec);
  if (ec) {
    error = "listen on " + endpoint_string(ep) + ": " + error_text(ec);
    code = error_code_name(ec);
    return false;
  }
  local_ = acc_.local_endpoint(ec);
  return true;
}

void Acceptor::start() { accept(); }

void Acceptor::accept() {
  if (closed_ || accepting_) return;
  if (server_.limits.max_connections && server_.active >= server_.limits.max_connections) {
    paused_ = true;  // the kernel's backlog holds the rest until a connection ends
    return;
  }
  accepting_ = true;
  auto srv = server_.shared_from_this();
  acc_.async_accept(server_.engine.io().get_executor(), pooled([this, srv](const error_code& ec, Socket sock) {
    accepting_ = false;
    if (closed_) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      // Out of descriptors or memory: wait a little instead of spinning on the same error.
      if (ec == asio::error::no_descriptors || ec.value() == ENFILE || ec == asio::error::no_buffer_space ||
          ec == asio::error::no_memory) {
        backoff_.expires_after(std::chrono::milliseconds(kBackoffMs));
        backoff_.async_wait([this, srv](const error_code& e) {
          if (!e) accept();
        });
        return;
      }
      return accept();  // ECONNABORTED and the like concern that one client only
    }
    ++server_.active;
    if (server_.tls) {
      handshake(std::make_shared<TlsStream>(std::move(sock), *server_.tls));
    } else {
      auto c = std::make_shared<Conn>(server_, std::move(sock));
      server_.add(c);
      c->start();
    }
    accept();
  }));
}

void Acceptor::handshake(std::shared_ptr<TlsStream> s) {
  auto srv = server_.shared_from_this();
  auto timer = std::make_shared<asio::steady_timer>(server_.engine.io());
  if (server_.limits.handshake_timeout_ms >= 0) {
    timer->expires_after(std::chrono::milliseconds(server_.limits.handshake_timeout_ms));
    timer->async_wait([s](const error_code& ec) {
      if (ec) return;
      error_code ignored;
      s->next_layer().close(ignored);  // a client that never finishes its handshake
    });
  }
  s->async_handshake(ssl::stream_base::server, [this, srv, s, timer](const error_code& ec) {
    timer->cancel();
    if (ec || server_.closing) {
      error_code ignored;
      s->next_layer().close(ignored);
      --server_.active;
      resume();
      return;
    }
    // The stream moves into a unique_ptr the connection owns (take_tls() for upgrades).
    auto owned = std::make_unique<TlsStream>(std::move(*s));
    auto c = std::make_shared<Conn>(server_, std::move(owned));
    server_.add(c);
    c->start();
  });
}

void Acceptor::resume() {
  if (paused_ && !closed_) {
    paused_ = false;
    accept();
  }
}

void Acceptor::close() {
  if (closed_) return;
  closed_ = true;
  error_code ec;
  acc_.close(ec);
  backoff_.cancel();
}

// --- the server's connections ----------------------------------------------------------------

Server::~Server() = default;

void Server::add(std::shared_ptr<Conn> c) {
  conns.push_front(c);
  c->pos = conns.begin();
  if (closing) c->close_when_idle();
  arm_sweep();
}

void Server::remove(Conn* c) {
  if (c->pos == std::list<std::shared_ptr<Conn>>::iterator{}) return;
  auto keep = *c->pos;  // destroyed after the erase, not during it
  conns.erase(c->pos);
  c->pos = {};
  if (active > 0) --active;
  acceptor.resume();
  maybe_finished();
}

// One timer per server checks every connection's deadline (header, idle, request, linger)
// a few times per shortest timeout, instead of a timer per connection per request.
void Server::arm_sweep() {
  if (sweeping_ || conns.empty()) return;
  int64_t shortest = 1000;
  for (int64_t t : {limits.header_timeout_ms, limits.idle_timeout_ms, limits.request_timeout_ms})
    if (t >= 0 && t / 4 < shortest) shortest = t / 4;
  if (shortest < 5) shortest = 5;
  sweeping_ = true;
  sweep_.expires_after(std::chrono::milliseconds(shortest));
  auto self = shared_from_this();
  sweep_.async_wait([self](const error_code& ec) {
    self->sweeping_ = false;
    if (ec) return;
    self->sweep();
  });
}

void Server::sweep() {
  auto now = Clock::now();
  for (auto it = conns.begin(); it != conns.end();) {
    auto c = *it++;  // check_deadline may remove c
    c->check_deadline(now);
  }
  arm_sweep();
}

void Server::close(int64_t timeout_ms) {
  if (!closing) {
    closing = true;
    acceptor.close();
    if (hook_) engine.remove_shutdown_hook(hook_);
    hook_ = 0;
    for (auto it = conns.begin(); it != conns.end();) {
      auto c = *it++;
      c->close_when_idle();
    }
  }
  if (timeout_ms == 0) {
    for (auto it = conns.begin(); it != conns.end();) {
      auto c = *it++;
      c->close();
    }
  } else if (timeout_ms > 0 && !conns.empty()) {
    close_timer_.expires_after(std::chrono::milliseconds(timeout_ms));
    auto self = shared_from_this();
    close_timer_.async_wait([self](const error_code& ec) {
      if (ec) return;
      for (auto it = self->conns.begin(); it != self->conns.end();) {
        auto c = *it++;
        c->close();
      }
    });
  }
  maybe_finished();
}

void Server::maybe_finished() {
  if (!closing || closed || !conns.empty()) return;
  closed = true;
  close_timer_.cancel();
  sweep_.cancel();
  auto ws = std::move(waiters);
  waiters.clear();
  for (auto& op : ws) op->resume();
  released();
}

}  // namespace mw::net::httpd
