// net.ws.listen: a Listener (listener.hpp) whose connections get their WebSocket handshake in
// the background (read the request, then ws/upgrade's async_upgrade), queued for accept();
// the accepted connections form the server's client group (broadcast, clients, client_count).
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <deque>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/net/connect.hpp"
#include "stdlib/net/listener.hpp"
#include "stdlib/net/tls.hpp"
#include "stdlib/net/ws/cluster.hpp"
#include "stdlib/net/ws/group.hpp"
#include "stdlib/net/ws/upgrade.hpp"
#include "stdlib/buffer.hpp"

namespace mw::net::ws {

namespace {

constexpr const char* kServerType = "moonwire.ws.server";
constexpr const char* kListenSpecType = "moonwire.ws.listenspec";
constexpr size_t kMaxHandshaking = 1024;  // WebSocket handshakes in flight + accepted not yet taken

// Everything listen() needs, parsed before suspending (a userdata: a raise leaks nothing).
struct ListenSpec {
  ListenConfig listen;
  std::shared_ptr<UpgradeOptions> upgrade;
};

int listen_spec_gc(lua_State* L) { return gc_object<ListenSpec>(L, kListenSpecType); }

class Server : public std::enable_shared_from_this<Server> {
 public:
  Server(Engine& e, std::shared_ptr<Listener> l, std::shared_ptr<UpgradeOptions> o)
      : engine_(e),
        listener_(std::move(l)),
        opts_(std::move(o)),
        handshake_timeout_ms_(opts_->handshake_timeout_ms),
        deadline_timer_(e.io()) {}
  ~Server() {
    close();
    for (Handshake* h = head_; h; h = h->next) h->linked = false, h->owner = nullptr;
  }

  // The listener's handlers hold `this`: it never calls them once closed, and ~Server closes it.
  void start() {
    listener_->on_demand([this](size_t tls_handshakes) { return ready_.size() + handshaking_ + tls_handshakes < kMaxHandshaking; });
    listener_->on_accept([this](Accepted&& a) { start_handshake(std::move(a)); });
    listener_->on_shutdown([this] { close(/*shutting_down=*/true); });
    listener_->pump();
  }

  const tcp::endpoint& local() const { return listener_->local(); }
  bool closed() const { return closed_; }
  bool waiter_busy() const { return waiter_ && waiter_->active(); }
  Group& group() { return *opts_->group; }

  // Pushes the connection object for the script and lists it in the group.
  void push_accepted(lua_State* L, const std::shared_ptr<Conn>& c) {
    push_conn(L, c);
    group().publish(L, c);
  }

  std::shared_ptr<Conn> take_ready() {
    while (!ready_.empty()) {
      auto c = std::move(ready_.front());
      ready_.pop_front();
      listener_->pump();
      if (c->open()) return c;
    }
    return nullptr;
  }

  void wait(const OpPtr& op) { waiter_ = op; }

  // The server object was collected: stop listening, leave accepted connections open.
  void stop_listening() {
    if (closed_) return;
    closed_ = true;
    listener_->close();
    for (auto& c : ready_) c->start_close(1001, "server closing", nullptr);
    ready_.clear();
    release_deadline_timer();
  }

  // On shutdown a waiting accept is left to the task cancellation that follows (it then ends
  // with "cancelled", which is not reported as a failure).
  void close(bool shutting_down = false) {
    if (closed_) return;
    closed_ = true;
    listener_->close();
    if (waiter_busy() && !shutting_down) waiter_->fail(kClosed, "server closed");
    if (!shutting_down) waiter_.reset();
    ready_.clear();
    group().close_all(1001, "server closing");
    release_deadline_timer();
  }

 private:
  // One handshake in progress. handshake_timeout: instead of a timer per connection, the
  // handshakes are linked in accept order, which is their deadline order (one timeout for all),
  // and one timer per server waits for the oldest.
  struct Handshake {
    beast::flat_buffer buf{16 * 1024 + 1024};
    http::request_parser<http::empty_body, PoolAllocator<char>> parser;
    std::chrono::steady_clock::time_point deadline;
    Handshake* prev = nullptr;  // the list of the server's handshakes (while linked)
    Handshake* next = nullptr;
    bool linked = false;
    bool expired = false;
    Conn* conn = nullptr;  // valid while linked (the handshake's callbacks hold the Conn)
    Server* owner = nullptr;
    Handshake() = default;
    Handshake(const Handshake&) = delete;
    Handshake& operator=(const Handshake&) = delete;
    ~Handshake() {
      if (linked && owner) owner->unlink(this);  // (every path calls handshake_done first)
    }
  };

  // A connection from the listener (TLS: that handshake is done): read the upgrade request,
  // then upgrade, all within what is left of handshake_timeout.
  void start_handshake(Accepted&& a) {
    auto c = a.tls ? adopt(engine_, std::move(*a.tls), std::move(a.tls_context), opts_->settings, &a)
                   : adopt(engine_, std::move(*a.plain), opts_->settings, &a);
    ++handshaking_;
    auto hs = std::allocate_shared<Handshake>(PoolAllocator<Handshake>());
    hs->parser.header_limit(16 * 1024);
    if (handshake_timeout_ms_ != kForever) {
      hs->deadline = a.accepted_at + std::chrono::milliseconds(handshake_timeout_ms_);
      hs->conn = c.get();
      hs->owner = this;
      link(hs.get());
    }
    read_request(c, hs);
  }

  void link(Handshake* h) {
    h->prev = tail_;
    (tail_ ? tail_->next : head_) = h;
    tail_ = h;
    h->linked = true;
    if (!deadline_armed_) arm_deadline();
  }
  void unlink(Handshake* h) {
    if (!h->linked) return;
    (h->prev ? h->prev->next : head_) = h->next;
    (h->next ? h->next->prev : tail_) = h->prev;
    h->prev = h->next = nullptr;
    h->linked = false;
    h->conn = nullptr;
  }

  // Aborts the connections whose handshake is past its deadline (each then ends through its
  // read's failure, handshake_done unlinking it); waits for the next deadline.
  void arm_deadline() {
    auto now = std::chrono::steady_clock::now();
    Handshake* h = head_;
    while (h && h->deadline <= now) {
      Handshake* next = h->next;
      if (!h->expired) {
        h->expired = true;
        h->conn->abort();  // a client that never finishes its handshake
      }
      h = next;
    }
    deadline_armed_ = h != nullptr;
    if (!h) return;
    deadline_timer_.expires_at(h->deadline);
    std::weak_ptr<Server> weak = weak_from_this();
    deadline_timer_.async_wait([weak](const error_code& ec) {
      auto self = weak.lock();
      if (!self) return;
      self->deadline_armed_ = false;
      if (!ec && self->head_) self->arm_deadline();
    });
  }

  void handshake_done(const std::shared_ptr<Handshake>& hs) {
    unlink(hs.get());
    --handshaking_;
    listener_->pump();
    release_deadline_timer();
  }

  // A waiting timer keeps the event loop (and so the process) alive: once the server is closed
  // it waits only while handshakes are still in flight (a SIGTERM'd server exits at once).
  void release_deadline_timer() {
    if (closed_ && !head_ && deadline_armed_) deadline_timer_.cancel();
  }

  void read_request(std::shared_ptr<Conn> c, std::shared_ptr<Handshake> hs) {
    if (c->finished()) {
      c->abort();
      return handshake_done(hs);
    }
    auto self = shared_from_this();
    c->visit([&](auto& ws) {
      http::async_read(ws.next_layer(), hs->buf, hs->parser, [self, c, hs](const error_code& ec, size_t) {
        if (self->closed_ || ec == http::error::end_of_stream || ec == asio::error::eof ||
            ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
          c->abort();
          return self->handshake_done(hs);
        }
        if (ec) return self->bad_request(c, hs);
        std::shared_ptr<const Request> req = std::allocate_shared<Request>(PoolAllocator<Request>(), hs->parser.release());
        async_upgrade(c, std::move(req), self->opts_, [self, hs](std::shared_ptr<Conn> c, const Refusal&) {
          self->handshake_done(hs);
          if (!c) return;
          if (self->closed_) return c->abort();
          self->offer(c);
        });
      });
    });
  }

  // A malformed request: 400 (async_upgrade answers what is not an upgrade with 426).
  void bad_request(std::shared_ptr<Conn> c, std::shared_ptr<Handshake> hs) {
    auto res = std::make_shared<http::response<http::string_body>>(http::status::bad_request, 11);
    res->set(http::field::server, "moonwire");
    res->set(http::field::content_type, "text/plain; charset=utf-8");
    res->set(http::field::connection, "close");
    res->body() = "Bad Request\n";
    res->prepare_payload();
    auto self = shared_from_this();
    c->visit([&](auto& ws) {
      http::async_write(ws.next_layer(), *res, [self, c, hs, res](const error_code&, size_t) {
        c->shutdown_send();
        c->abort();
        self->handshake_done(hs);
      });
    });
  }

  void offer(std::shared_ptr<Conn> c) {
    if (waiter_busy()) {
      auto self = shared_from_this();
      std::exchange(waiter_, nullptr)->resume([self, c](lua_State* L) { self->push_accepted(L, c); });
    } else {
      ready_.push_back(std::move(c));
    }
    listener_->pump();
  }

  Engine& engine_;
  std::shared_ptr<Listener> listener_;
  std::shared_ptr<UpgradeOptions> opts_;  // with the server's group
  int64_t handshake_timeout_ms_;
  std::deque<std::shared_ptr<Conn>> ready_;
  Handshake* head_ = nullptr;  // handshakes in progress, oldest first (see Handshake)
  Handshake* tail_ = nullptr;
  asio::steady_timer deadline_timer_;
  bool deadline_armed_ = false;
  OpPtr waiter_;
  bool closed_ = false;
  size_t handshaking_ = 0;
};

struct ServerBox {
  std::shared_ptr<Server> server;
};

Server* check_server(lua_State* L) { return static_cast<ServerBox*>(check_udata(L, 1, kServerType))->server.get(); }

int server_accept(lua_State* L) {
  Server* s = check_server(L);
  int64_t timeout = opt_timeout_ms(L, 2);
  if (s->closed()) raise(L, kClosed, "accept: server is closed");
  if (s->waiter_busy()) raise(L, kBusy, "accept: another task is already accepting on this server");
  lua_settop(L, 1);
  if (auto c = s->take_ready()) {
    s->push_accepted(L, c);
    return complete_now(L, 1);
  }
  return suspend(L, "accept", timeout, [&](const OpPtr& op) { s->wait(op); });
}

int server_clients(lua_State* L) {
  check_server(L)->group().push_clients(L);
  return 1;
}

int server_client_count(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(check_server(L)->group().client_count()));
  return 1;
}

int server_broadcast(lua_State* L) {
  Server* s = check_server(L);
  std::string_view data = check_data(L, 2);
  Kind kind = check_kind(L, 3, kText);
  if (kind > kBinary) value_error(L, 3, "broadcast type must be 'text' or 'binary'");
  if (cluster_broadcast(L, &s->group())) return 1;  // server:cluster(): local + Redis (cluster.hpp)
  lua_pushinteger(L, static_cast<lua_Integer>(s->group().broadcast(data, kind)));
  return 1;
}

int server_cluster(lua_State* L) { return cluster_attach(L, &check_server(L)->group()); }

int server_close(lua_State* L) {
  check_server(L)->close();
  return 0;
}

int server_gc(lua_State* L) {
  auto* box = static_cast<ServerBox*>(test_udata(L, 1, kServerType));
  if (box && box->server) box->server->stop_listening();
  return gc_object<ServerBox>(L, kServerType);
}

int server_local_addr(lua_State* L) {
  push_sv(L, endpoint_string(check_server(L)->local()));
  return 1;
}

int server_index(lua_State* L) {
  // Methods first: an accept loop looks up server.accept for every connection.
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  Server* s = check_server(L);
  std::string_view key = to_sv(L, 2);
  if (key == "port") return lua_pushinteger(L, s->local().port()), 1;
  if (key == "host") return lua_pushstring(L, s->local().address().to_string().c_str()), 1;
  lua_pushnil(L);
  return 1;
}

int server_tostring(lua_State* L) {
  Server* s = check_server(L);
  lua_pushfstring(L, "ws.server (%s%s)", endpoint_string(s->local()).c_str(), s->closed() ? ", closed" : "");
  return 1;
}

}  // namespace

// net.ws.listen([host,] port[, opts])
int ws_listen(lua_State* L) {
  normalize_listen_args(L, "net.ws.listen");
  static const char* const known[] = {"protocols", "origins", "max_connections", "group", "tls", MW_LISTEN_OPTION_KEYS,
                                      MW_WS_SETTINGS, nullptr};
  check_options(L, 3, "net.ws.listen", known);
  uint16_t port = static_cast<uint16_t>(lua_tointeger(L, 2));
  get_field(L, 3, "tls");  // 4
  bool secure = !lua_isnil(L, 4) && !(lua_isboolean(L, 4) && !lua_toboolean(L, 4));
  tls::validate_options(L, 4);
  auto* spec = new_object<ListenSpec>(L, kListenSpecType, 0);  // 5
  spec->listen.host = std::string(to_sv(L, 1));
  spec->listen.port = port;
  read_listen_options(L, 3, spec->listen);
  spec->upgrade = read_upgrade_options(L, 3, "net.ws.listen", secure, /*check_keys=*/false);
  spec->upgrade->handshake_timeout_ms = spec->listen.handshake_timeout_ms;
  if (!spec->upgrade->group) spec->upgrade->group = std::make_shared<Group>(Engine::of(L));
  if (secure) {
    bool ok;
    {  // C++ objects in their own scope: nothing may be alive when the error is raised
      tls::Options to = tls::read_options(L, 4);
      to.enabled = true;
      std::string error;
      spec->listen.tls = tls::server_context(to, error);
      ok = spec->listen.tls != nullptr;
      if (!ok) push_sv(L, error);
    }
    if (!ok) raise(L, "ETLS", to_sv(L, -1));
  }
  lua_settop(L, 5);
  return suspend(L, "listen", -1, [&](const OpPtr& op) {
    auto* raw = static_cast<ListenSpec*>(lua_touserdata(L, 5));
    auto ls = std::make_shared<ListenSpec>(std::move(*raw));
    Listener::open(op->engine(), ls->listen, [op, ls](std::shared_ptr<Listener> l, ListenError err) {
      if (!op->active()) return;
      if (!l) return op->fail(err.code, err.message);
      auto server = std::make_shared<Server>(op->engine(), std::move(l), ls->upgrade);
      server->start();
      op->resume([server](lua_State* L) { new_object<ServerBox>(L, kServerType, 0, ServerBox{server}); });
    });
  });
}

void register_server_classes(lua_State* L) {
  const luaL_Reg methods[] = {{"accept", server_accept},
                              {"broadcast", server_broadcast},
                              {"clients", server_clients},
                              {"cluster", server_cluster},
                              {"client_count", server_client_count},
                              {"close", server_close},
                              {"local_addr", server_local_addr},
                              {nullptr, nullptr}};
  const luaL_Reg meta[] = {{"__gc", server_gc}, {"__close", server_close}, {"__tostring", server_tostring}, {nullptr, nullptr}};
  new_class(L, kServerType, methods, meta, server_index);
  const luaL_Reg listen_spec_meta[] = {{"__gc", listen_spec_gc}, {nullptr, nullptr}};
  new_class(L, kListenSpecType, nullptr, listen_spec_meta);
}

}  // namespace mw::net::ws
