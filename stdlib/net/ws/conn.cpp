// net.ws connections: the read loop, closing, keepalive, and the Beast websocket operations
// (accept, handshake, read, ping, close) of net.ws: see ws/conn.hpp. The write side (frames,
// the outgoing queue, gather writes) is in ws/conn_write.cpp.
#include "stdlib/net/ws/conn.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <sys/socket.h>

#include <cerrno>
#include <ranges>
#include <span>
#include <unordered_set>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/pool.hpp"
#include "stdlib/net/ws/group.hpp"

namespace mw::net::ws {

using wslayer::Linger;

namespace {

constexpr int64_t kBriefLinger = 1000;
// The incoming queue pauses reading (TCP backpressure) past these bounds.
constexpr size_t kInQueueMessages = 256;
constexpr size_t kInQueueBytes = 4u * 1024 * 1024;
const char* const kKindNames[] = {"text", "binary", "ping", "pong", "close"};

// Close code the local side sent when Beast rejected what the peer sent (Beast answers a bad
// close frame, even one with an invalid UTF-8 reason, with 1002).
uint16_t close_code_for(const error_code& ec) {
  if (ec == websocket::error::message_too_big || ec == websocket::error::buffer_overflow) return 1009;
  if (ec == websocket::error::bad_frame_payload) return 1007;
  if (ec == websocket::condition::protocol_violation) return 1002;
  return 1006;
}

std::string violation_reason(const error_code& ec) {
  if (ec == websocket::error::bad_close_code) return "invalid close code from the peer";
  if (ec == websocket::error::bad_close_payload) return "invalid UTF-8 in the peer's close reason";
  return ec.message();
}

// Close codes a peer may send (RFC 6455 7.4, IANA registry); 1005 (none) is no code at all.
bool valid_close_code(unsigned code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

// The strings of every message table ("type", "data", the kinds; a close message's "code",
// "reason", "clean"), referenced from the Lua registry: pushing them that way skips Lua's
// lookup of a C string (hash and compare).
struct MsgStrings {
  int type = LUA_NOREF, data = LUA_NOREF, code = LUA_NOREF, reason = LUA_NOREF, clean = LUA_NOREF;
  int kinds[std::size(kKindNames)] = {};
};

// Per engine (Engine::state): registry refs belong to one Lua state. Looked up for every
// message, so the last engine's is remembered (by serial: an engine's address may be reused).
const MsgStrings& msg_strings(lua_State* L) {
  static uint64_t last_engine = 0;
  static MsgStrings* last = nullptr;
  Engine& e = Engine::of(L);
  if (last_engine == e.serial()) return *last;
  MsgStrings& s = e.state<MsgStrings>();
  last_engine = e.serial();
  last = &s;
  if (s.type != LUA_NOREF) return s;
  auto ref = [&](const char* str) {
    lua_pushstring(L, str);
    return luaL_ref(L, LUA_REGISTRYINDEX);
  };
  s.type = ref("type");
  s.data = ref("data");
  s.code = ref("code");
  s.reason = ref("reason");
  s.clean = ref("clean");
  for (size_t i = 0; i < std::size(kKindNames); ++i) s.kinds[i] = ref(kKindNames[i]);
  return s;
}

// All open connections of an engine (its shutdown hook closes them with 1001).
struct Registry {
  uint64_t hook = 0;
  uint64_t idle_hook = 0;
  uint64_t next_id = 1;  // ids of connections outside any group
  PoolSet<Conn*> conns;
};

Registry& registry(Engine& e) { return e.state<Registry>(); }

// The read buffer a busy connection keeps between messages (Beast prepares ~1.5 KB).
constexpr size_t kKeptReadBuffer = 4096;

// Open connections read in the background, which keeps the event loop busy. So that a script
// that simply ends without closing its connections still exits, a full garbage collection runs
// whenever the last task has finished (engine idle hook): connections nothing can reach any
// more are collected, and their __gc closes them (1001). Reachable connections are never touched.
void collect_unreachable(Engine& e) {
  if (!registry(e).conns.empty()) lua_gc(e.L(), LUA_GCCOLLECT);
}

template <class Ws>
void apply_compression(Ws& ws, bool enabled, bool server) {
  websocket::permessage_deflate pmd;
  if (server)
    pmd.server_enable = enabled;
  else
    pmd.client_enable = enabled;
  ws.set_option(pmd);
}

size_t opt_size(lua_State* L, int opts, const char* key, size_t def) {
  return static_cast<size_t>(opt_int_field(L, opts, key, static_cast<lua_Integer>(def), 1));
}

}  // namespace

uint64_t next_free_id(Engine& e) { return registry(e).next_id++; }

void read_settings(lua_State* L, int opts, Settings& s) {
  s.max_message = opt_size(L, opts, "max_message", kDefaultMaxMessage);
  s.max_queue = opt_size(L, opts, "max_queue", kDefaultMaxQueue);
  s.close_timeout_ms = opt_timeout_field(L, opts, "close_timeout", kDefaultCloseTimeout);
  s.ping_interval_ms = opt_timeout_field(L, opts, "ping_interval", kForever);
  s.compression = opt_bool_field(L, opts, "compression", false);
}

// Checked before the vector exists (a raise longjmps).
std::vector<std::string> read_string_list(lua_State* L, int opts, const char* key) {
  int t = get_field(L, opts, key);
  if (t == LUA_TTABLE) {
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; ++i) {
      if (lua_rawgeti(L, -1, i) != LUA_TSTRING) option_error(L, key, "a list of strings");
      lua_pop(L, 1);
    }
  } else if (t != LUA_TSTRING && t != LUA_TNIL) {
    option_error(L, key, "a string or a list of strings");
  }
  std::vector<std::string> out;
  if (t == LUA_TSTRING) {
    out.emplace_back(to_sv(L, -1));
  } else if (t == LUA_TTABLE) {
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; ++i) {
      lua_rawgeti(L, -1, i);
      out.emplace_back(to_sv(L, -1));
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  return out;
}

Conn::Conn(Engine& e, bool server) : engine_(e), server_side_(server) {}

Conn::~Conn() {
  unregister();
  for (auto& m : wq_) unpin(m);
}

void Conn::note_request(std::shared_ptr<const Request> req) {
  std::string_view target(req->target().data(), req->target().size());
  auto q = target.find('?');
  path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) query = std::string(target.substr(q + 1));
  url = std::string(target);
  // The headers are collected (names lowered, repeats joined) only if the script asks.
  headers.clear();
  request_ = std::move(req);
}

void Conn::async_accept(std::shared_ptr<const Request> req, std::function<void(const error_code&)> done) {
  if (settings.compression) {
    // Beast accepts permessage-deflate whenever the request offers it (and it is enabled).
    for (auto it = req->find(http::field::sec_websocket_extensions);
         it != req->end() && it->name() == http::field::sec_websocket_extensions; ++it) {
      std::string_view v(it->value().data(), it->value().size());
      if (v.find("permessage-deflate") != std::string_view::npos) deflate_ = true;
    }
  }
  visit([&](auto& ws) {
    apply_compression(ws, settings.compression, true);
    // Without a subprotocol the decorator captures nothing (it fits Beast's small buffer).
    if (protocol.empty())
      ws.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
        res.set(http::field::server, "moonwire");
      }));
    else
      ws.set_option(websocket::stream_base::decorator([proto = protocol](websocket::response_type& res) {
        res.set(http::field::server, "moonwire");
        res.set(http::field::sec_websocket_protocol, proto);
      }));
    ws.async_accept(*req, [req, done = std::move(done)](const error_code& ec) { done(ec); });
  });
}

void Conn::async_handshake(std::shared_ptr<const ClientHello> hello, std::shared_ptr<websocket::response_type> res,
                           std::function<void(const error_code&)> done) {
  visit([&](auto& ws) {
    apply_compression(ws, settings.compression, false);
    ws.set_option(websocket::stream_base::decorator([hello](websocket::request_type& req) {
      req.set(http::field::user_agent, "moonwire");
      if (!hello->origin.empty()) req.set(http::field::origin, hello->origin);
      if (!hello->protocols.empty()) {
        std::string list;
        for (const auto& p : hello->protocols) list += (list.empty() ? "" : ", ") + p;
        req.set(http::field::sec_websocket_protocol, list);
      }
      for (const auto& [k, v] : hello->headers) req.set(k, v);
    }));
    ws.async_handshake(*res, hello->host_header, hello->target,
                       [hello, res, done = std::move(done)](const error_code& ec) { done(ec); });
  });
}

void Conn::leave_group() {
  if (auto g = group.lock()) g->forget(id);
}

bool Conn::paused() const { return rq_.size() >= kInQueueMessages || rq_bytes_ >= kInQueueBytes; }

void Conn::close_socket() {
  error_code ignored;
  if (plain || tls) lowest().close(ignored);
}

// Closes after our close frame: see Linger. Bounded by close_timeout (default 5 s); by 1 s
// at most after a close timeout (the peer was given its time already) or during a shutdown.
void Conn::linger(bool briefly) {
  if (!(plain || tls) || !lowest().is_open()) return;
  int64_t ms = settings.close_timeout_ms < 0 ? kDefaultCloseTimeout : settings.close_timeout_ms;
  if (briefly || engine_.shutting_down()) ms = std::min<int64_t>(ms, kBriefLinger);
  Linger::start(lowest(), ms);
}

void Conn::shutdown_send() {
  error_code ignored;
  if (plain || tls) lowest().shutdown(Socket::shutdown_send, ignored);
}

void Conn::note_addresses() {
  error_code ec;
  if (!peer_known_) {
    peer_ep_ = lowest().remote_endpoint(ec);
    peer_known_ = !ec;
  }
  if (!local_known_) {
    local_ep_ = lowest().local_endpoint(ec);
    local_known_ = !ec;
  }
}

// After a completed handshake: starts the read loop and keepalive.
void Conn::start() {
  visit([&](auto& ws) {
    ws.read_message_max(settings.max_message);
    ws.auto_fragment(false);
    ws.control_callback([this](websocket::frame_type k, beast::string_view payload) { on_control(k, payload); });
    ws.next_layer().track_frames();
  });
  raw_ = server_side_ && !deflate_;
  auto& r = registry(engine_);
  if (!r.idle_hook) r.idle_hook = engine_.add_idle_hook([e = &engine_] { collect_unreachable(*e); });
  if (!r.hook) {
    r.hook = engine_.add_shutdown_hook([e = &engine_] {
      auto& reg = registry(*e);
      reg.hook = 0;
      std::vector<std::shared_ptr<Conn>> all;
      for (Conn* c : reg.conns) all.push_back(c->shared_from_this());
      for (auto& c : all) c->start_close(1001, "going away", nullptr);
    });
  }
  r.conns.insert(this);
  registered_ = true;
  if (settings.ping_interval_ms > 0) arm_ping();
  read_loop();
}

// 1 + pushed message; 0: nothing (the caller waits); -1: no more messages (push nothing).
int Conn::take(lua_State* L) {
  if (!rq_.empty()) {
    InMsg& m = rq_.front();
    push_msg(L, m.kind, m.data, m.code, m.clean);
    rq_bytes_ -= m.data.size();
    rq_.pop_front();
    read_loop();  // may have been paused by a full queue
    return 1;
  }
  return read_ended_ ? -1 : 0;
}

void Conn::wait_for(const OpPtr& op) {
  reader_ = op;
  read_loop();
}

void Conn::start_close(uint16_t code, std::string reason, const OpPtr& op) {
  if (op) {
    if (finished_) return op->resume([](lua_State* L) { lua_pushboolean(L, 1); });
    close_waiters_.push_back(op);
  }
  if (finished_ || close_queued_) return;
  close_queued_ = true;
  arm_close_timer();
  enqueue(owned_msg(kClose, code, std::make_shared<const std::string>(std::move(reason))));
}

// Ends the connection without (the rest of) a closing handshake: closes the socket at once,
// or with `linger_first` (our close frame was queued) lingers briefly, see Linger. A peer
// whose close frame was read is reported with its code, not clean (our answer did not make it).
void Conn::abort(uint16_t code, std::string reason, bool linger_first) {
  if (finished_) return;
  if (!read_ended_ && peer_closed_) {
    PeerClose pc = peer_close();
    end_reading(pc.code, std::move(pc.reason), false);
  }
  if (!read_ended_) end_reading(code, std::move(reason), false);
  if (linger_first)
    linger(/*briefly=*/true);
  else
    close_socket();
  finish(kClosed, "connection closed");
}

void Conn::push_msg(lua_State* L, Kind kind, std::string_view data, uint16_t code, bool clean) {
  const MsgStrings& k = msg_strings(L);
  lua_createtable(L, 0, kind == kClose ? 5 : 2);
  lua_rawgeti(L, LUA_REGISTRYINDEX, k.type);
  lua_rawgeti(L, LUA_REGISTRYINDEX, k.kinds[kind]);
  lua_rawset(L, -3);
  lua_rawgeti(L, LUA_REGISTRYINDEX, k.data);
  push_sv(L, data);
  lua_rawset(L, -3);
  if (kind == kClose) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, k.code);
    lua_pushinteger(L, code);
    lua_rawset(L, -3);
    lua_rawgeti(L, LUA_REGISTRYINDEX, k.reason);
    push_sv(L, data);
    lua_rawset(L, -3);
    lua_rawgeti(L, LUA_REGISTRYINDEX, k.clean);
    lua_pushboolean(L, clean);
    lua_rawset(L, -3);
  }
}

// Beast's read prepares a read buffer (1.5 KB) before any input is there. So a plain server
// connection whose input Beast has all handed over first waits for input without one: an
// idle connection holds no read buffer and no read operation. (Server side only: Beast starts
// with an empty buffer there; a client's may hold frames that followed the 101 response.)
// Once our close frame is being written, Beast's close reads the peer's answer itself.
// Only for a connection that looks idle (new, or its last message came after a long wait):
// on a busy one the next input is usually there already. The check reads what is there into
// the layer's small read-ahead buffer (wslayer::Layer::read_ahead), which Beast's read takes
// first: it costs a syscall only when nothing is there (as Beast's own first read would).
void Conn::read_loop() {
  if (reading_ || read_ended_ || finished_ || paused()) return;
  reading_ = true;
  read_started_ = std::chrono::steady_clock::now();  // (an idle wait counts as waiting)
  if (waited_long_ && server_side_ && plain && !close_queued_ && plain->next_layer().drained(msgs_read_, controls_read_)) {
    if (!plain->next_layer().read_ahead()) {
      idle_wait_ = true;
      lowest().async_wait(Socket::wait_read, pooled([self = shared_from_this()](const error_code&) {
        self->idle_wait_ = false;
        // (an error shows in the read that follows)
        if (self->finished_ || !self->plain || self->close_started_) {
          self->reading_ = false;
          return;
        }
        self->start_read();
      }));
      return;
    }
  }
  start_read();
}

void Conn::start_read() {
  auto self = shared_from_this();
  visit([&](auto& ws) { ws.async_read(rbuf_, pooled([self](const error_code& ec, size_t) { self->on_read(ec); })); });
}

void Conn::on_read(const error_code& ec) {
  alive_ = true;
  if (ec) return on_read_error(ec);
  ++msgs_read_;
  waited_long_ = std::chrono::steady_clock::now() - read_started_ > std::chrono::milliseconds(200);
  Kind kind = kBinary;
  visit([&](auto& ws) { kind = ws.got_text() ? kText : kBinary; });
  bool handed_over = rq_.empty() && reader_busy();
  if (handed_over) {
    OpPtr op = std::move(reader_);
    auto self = shared_from_this();
    op->resume([self, kind](lua_State* L) {
      auto d = self->rbuf_.data();
      push_msg(L, kind, {static_cast<const char*>(d.data()), d.size()}, 0, true);
    });
  } else {
    auto d = rbuf_.data();
    rq_bytes_ += d.size();
    rq_.push_back({kind, 0, true, std::string(static_cast<const char*>(d.data()), d.size())});
  }
  // reading_ stayed set while the reader ran (inline): no new read could start on rbuf_.
  // The buffer goes back when this connection may wait idle next (read_loop then waits without
  // one) or after a large message; a busy one keeps its small buffer, which Beast's next read
  // would otherwise allocate again at once (a malloc/free pair per message).
  rbuf_.clear();
  if (waited_long_ || rbuf_.capacity() > kKeptReadBuffer) rbuf_.shrink_to_fit();
  reading_ = false;
  if (!handed_over) return read_loop();
  // The task that got this message has likely just replied: reading again right now would
  // almost always find nothing (a wasted syscall). Read after the handlers already queued.
  asio::post(engine_.io(), pooled([self = shared_from_this()] { self->read_loop(); }));
}

void Conn::on_read_error(const error_code& ec) {
  reading_ = false;
  if (read_ended_) return;
  uint16_t code = close_code_for(ec);
  if (ec == websocket::error::closed || (peer_closed_ && code == 1006)) {
    // The peer closed. Beast has answered (unless that failed: then not clean).
    PeerClose pc = peer_close();
    end_reading(pc.code, std::move(pc.reason), pc.valid && ec == websocket::error::closed);
    linger();
    return finish(kClosed, "connection closed");
  }
  if (code == 1006) {
    end_reading(code, finished_ ? "connection closed" : error_text(ec), false);
    close_socket();
    return finish(error_code_name(ec), "connection lost: " + error_text(ec));
  }
  // A protocol violation: Beast has sent our close frame.
  std::string reason = violation_reason(ec);
  end_reading(code, reason, false);
  linger();
  return finish(kClosed, "connection closed: " + reason);
}

Conn::PeerClose Conn::peer_close() {
  websocket::close_reason cr;
  visit([&](auto& ws) { cr = ws.reason(); });
  std::string reason(cr.reason.data(), cr.reason.size());
  if (cr.code == websocket::close_code::none) return {1005, reason, true};
  if (!valid_close_code(cr.code))
    return {1002, "invalid close code " + std::to_string(cr.code) + " from the peer", false};
  return {static_cast<uint16_t>(cr.code), reason, true};
}

void Conn::on_control(websocket::frame_type k, beast::string_view payload) {
  alive_ = true;
  ++controls_read_;
  if (k == websocket::frame_type::close) return on_peer_close();
  Kind kind = k == websocket::frame_type::ping ? kPing : kPong;
  rq_bytes_ += payload.size();
  rq_.push_back({kind, 0, true, std::string(payload.data(), payload.size())});
  // We are inside Beast's read: hand the frame to a waiting reader from a fresh handler.
  if (reader_busy() && !deliver_posted_) {
    deliver_posted_ = true;
    asio::post(engine_.io(), [self = shared_from_this()] {
      self->deliver_posted_ = false;
      self->deliver();
    });
  }
}

// The peer's close frame (Beast is reading it): no more sends, and the rest of the closing
// handshake is bounded by close_timeout. An invalid code is answered with 1002 instead of
// Beast's echo. If our close frame is being written, the closing handshake is complete:
// end it now (Beast 1.81 deadlocks when both sides close at once while a read is pending:
// its close holds the write lock and waits for the read lock, the read the other way round;
// and there is nothing left to wait for). Otherwise Beast answers and the read completes
// with `closed`.
void Conn::on_peer_close() {
  peer_closed_ = true;
  PeerClose pc = peer_close();
  if (!pc.valid) visit([&](auto& ws) { ws.next_layer().answer_close_with(1002, "invalid close code"); });
  if (!close_queued_) {
    close_queued_ = true;
    arm_close_timer();
  }
  if (!close_started_ || finished_) return;
  asio::post(engine_.io(), [self = shared_from_this(), pc = std::move(pc)]() mutable {
    if (self->finished_) return;
    self->end_reading(pc.code, std::move(pc.reason), pc.valid);
    self->linger();
    self->finish(kClosed, "connection closed");
  });
}

void Conn::deliver() {
  if (!reader_busy()) return;
  if (rq_.empty() && !read_ended_) return;
  OpPtr op = std::move(reader_);
  auto self = shared_from_this();
  op->resume([self](lua_State* L) {
    if (self->take(L) < 0) lua_pushnil(L);
  });
}

void Conn::end_reading(uint16_t code, std::string reason, bool clean) {
  if (read_ended_) return;
  read_ended_ = true;
  close_code_ = code;
  close_reason_ = reason;
  rq_bytes_ += reason.size();
  rq_.push_back({kClose, code, clean, std::move(reason)});
  // Delivered by finish(), which always follows, once the state is final.
}

// Our close (async_close) is done: the peer's answer, or why there is none.
void Conn::end_close_handshake(const error_code& ec) {
  if (!ec) {
    PeerClose pc = peer_close();
    return end_reading(pc.code, std::move(pc.reason), pc.valid);
  }
  uint16_t code = close_code_for(ec);  // the peer's answer broke the protocol
  if (code != 1006) return end_reading(code, violation_reason(ec), false);
  if (peer_closed_) {
    PeerClose pc = peer_close();
    return end_reading(pc.code, std::move(pc.reason), false);
  }
  end_reading(1006, finished_ ? "connection closed" : error_text(ec), false);
}

void Conn::finish(std::string_view code, std::string_view message) {
  if (finished_) return;
  finished_ = true;
  close_queued_ = true;
  if (close_timer_) close_timer_->cancel();
  if (ping_timer_) ping_timer_->cancel();
  // Pending writers (not the one in flight: Beast completes it with an error).
  // (the frames in flight stay where they are: a gather write points into them)
  std::vector<OutMsg> pending;  // (a std::deque allocates even when empty)
  while (wq_.size() > in_flight()) {
    pending.push_back(std::move(wq_.back()));
    wq_.pop_back();
  }
  for (auto& m : std::ranges::reverse_view(pending)) {
    unpin(m);
    if (m.op) fail_closed(m.op);
  }
  wq_bytes_ = 0;
  for (auto& m : wq_) wq_bytes_ += m.kind <= kBinary ? m.size() : 0;
  unregister();
  auto waiters = std::move(close_waiters_);
  for (auto& op : waiters) op->resume([](lua_State* L) { lua_pushboolean(L, 1); });
  deliver();
  leave_group();
  // Beast operations parked on its internal locks (read/close interplay) hold work and would
  // keep the loop alive: destroying the stream releases them (they complete as aborted).
  asio::post(engine_.io(), [self = shared_from_this()] {
    self->close_socket();
    self->plain.reset();
    self->tls.reset();
  });
}

void Conn::unregister() {
  if (!registered_) return;
  registered_ = false;
  registry(engine_).conns.erase(this);
}

void Conn::arm_close_timer() {
  if (settings.close_timeout_ms < 0) return;
  close_timer_ = std::make_unique<asio::steady_timer>(engine_.io(), std::chrono::milliseconds(settings.close_timeout_ms));
  close_timer_->async_wait([w = weak_from_this()](const error_code& ec) {
    auto self = w.lock();
    if (ec || !self) return;
    if (self->dropped_) return self->abort(self->dropped_->first, self->dropped_->second, /*linger_first=*/true);
    self->abort(1006, "close timed out", /*linger_first=*/true);
  });
}

void Conn::arm_ping() {
  if (!ping_timer_) ping_timer_ = std::make_unique<asio::steady_timer>(engine_.io());
  ping_timer_->expires_after(std::chrono::milliseconds(settings.ping_interval_ms));
  ping_timer_->async_wait([w = weak_from_this()](const error_code& ec) {
    auto self = w.lock();
    if (ec || !self || self->finished_) return;
    if (self->ping_outstanding_ && !self->alive_) {
      // The peer stopped answering: drop the connection.
      return self->abort(1006, "keepalive ping timed out");
    }
    self->alive_ = false;
    self->ping_outstanding_ = true;
    if (self->sendable() && self->wq_.size() < 16)
      self->enqueue(owned_msg(kPing, 0, std::make_shared<const std::string>()));
    self->arm_ping();
  });
}

}  // namespace mw::net::ws
