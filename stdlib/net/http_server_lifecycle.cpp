// The HTTP server's connection set on the shared listener (listener.hpp): accepting, graceful
// close, the deadline sweep, srv:wait().

#include <boost/asio/post.hpp>

#include "runtime/errors.hpp"
#include "runtime/pool.hpp"
#include "stdlib/net/http_server.hpp"

namespace mw::net::httpd {

// --- the server's connections ----------------------------------------------------------------

Server::~Server() = default;

void Server::attach(std::shared_ptr<Listener> l) {
  listener = std::move(l);
  std::weak_ptr<Server> w = weak_from_this();
  listener->on_accept([w](Accepted&& a) {
    auto s = w.lock();
    if (!s || s->closing) return;
    auto c = std::make_shared<Conn>(*s, std::move(a));
    s->add(c);
    c->start();
  });
  // SIGINT/SIGTERM: the same graceful close as srv:close(drain_timeout). The engine then
  // cancels every other task; handler tasks are exempt (Task::drain) and may finish until the
  // deadline, when they are cancelled (their clients get 503) and the connections cut.
  listener->on_shutdown([w] {
    if (auto s = w.lock()) s->close(s->limits.drain_timeout_ms);
  });
  if (tls) {
    listener->on_tls_accept([w] {
      if (auto s = w.lock()) s->check_tls_files();
    });
  }
  listener->pump();
}

void Server::add(std::shared_ptr<Conn> c) {
  conns.push_front(c);
  c->pos = conns.begin();
  if (closing) c->close_when_idle();
  arm_sweep();
}

void Server::remove(Conn* c) {
  if (c->pos == std::list<std::shared_ptr<Conn>>::iterator{}) return;
  auto keep = std::move(*c->pos);
  conns.erase(c->pos);
  c->pos = {};
  maybe_finished();
  // Released on the next turn, not here: callers up the stack (a Lua call on a request, whose
  // object holds no reference to its connection) may still use the connection.
  if (!engine.closing()) boost::asio::post(engine.io(), [keep = std::move(keep)] {});
}

// One timer per server checks every connection's deadline (header, idle, request, linger)
// a few times per shortest timeout, instead of a timer per connection per request.
void Server::arm_sweep() {
  if (sweeping_ || conns.empty()) return;
  int64_t shortest = 1000;
  for (int64_t t : {limits.header_timeout_ms, limits.idle_timeout_ms, limits.request_timeout_ms, limits.write_timeout_ms})
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
    if (listener) listener->close();
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
      std::vector<std::shared_ptr<Conn>> all(self->conns.begin(), self->conns.end());
      auto cut = [](Server& s) {
        for (auto it = s.conns.begin(); it != s.conns.end();) {
          auto c = *it++;
          c->close();
        }
      };
      if (!self->engine.shutting_down()) return cut(*self);
      // Shutdown: handlers still running are cancelled and answer 503 (after_handler); the
      // connections left are cut a turn later, after those answers went out.
      for (auto& c : all) c->cancel_handler();
      asio::post(self->engine.io(), [self, cut] { cut(*self); });
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
