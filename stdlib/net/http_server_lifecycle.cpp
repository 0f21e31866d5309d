// The HTTP server's connection set on the shared listener (listener.hpp): accepting, graceful
// close, the deadline sweep, srv:wait().

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
  // SIGINT/SIGTERM: the same graceful close as srv:close() (the engine then cancels the tasks,
  // so handlers waiting on something end at once).
  listener->on_shutdown([w] {
    if (auto s = w.lock()) s->close(10000);
  });
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
  auto keep = *c->pos;  // destroyed after the erase, not during it
  conns.erase(c->pos);
  c->pos = {};
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
