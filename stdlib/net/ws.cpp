// net.ws (CopperMoon API): WebSocket clients (ws://, wss://) and servers on Boost.Beast.
//
// Every connection runs one background read loop: incoming messages (and ping/pong/close
// frames, as CopperMoon's recv documents them) go into a bounded queue, so pings are answered
// by Beast whether or not the script reads, and a close from the peer is seen at once. A reader
// waiting in recv() is handed the next message directly from the read buffer (no copy).
// Outgoing frames (data, ping, pong, close) go through one write queue: Beast allows one write
// at a time, and messages from several tasks never interleave. send() returns once Beast has
// handed the frame to the kernel; broadcast() queues without waiting, with a per-client bound.
// Between Beast and the socket sits wslayer::Layer (ws_layer.hpp): our teardown, our answer to
// invalid close codes, and the lingering close that ends every connection after a close frame.
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/url/parse.hpp>
#include <algorithm>
#include <deque>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/pool.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/net/connect.hpp"
#include "stdlib/net/listener.hpp"
#include "stdlib/net/net.hpp"
#include "stdlib/net/tls.hpp"
#include "stdlib/net/url.hpp"
#include "stdlib/net/ws_layer.hpp"

namespace mw::net {
namespace {  // internal names (tcp.cpp has its own Conn and Server)

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using error_code = boost::system::error_code;
using wslayer::Layer;
using wslayer::Linger;
using PlainWs = websocket::stream<Layer<Socket>>;  // Socket: see connect.hpp
using TlsWs = websocket::stream<Layer<ssl::stream<Socket>>>;
using Headers = std::vector<std::pair<std::string, std::string>>;

static constexpr const char* kWsType = "moonwire.ws.conn";
static constexpr const char* kServerType = "moonwire.ws.server";
static constexpr const char* kSpecType = "moonwire.ws.spec";
static constexpr size_t kDefaultMaxMessage = 64u * 1024 * 1024;
static constexpr size_t kDefaultMaxQueue = 1024u * 1024;
static constexpr int64_t kDefaultCloseTimeout = 5000;
static constexpr int64_t kBriefLinger = 1000;
// The incoming queue pauses reading (TCP backpressure) past these bounds.
static constexpr size_t kInQueueMessages = 256;
static constexpr size_t kInQueueBytes = 4u * 1024 * 1024;
static constexpr size_t kShrinkAbove = 64u * 1024;

enum Kind : uint8_t { kText, kBinary, kPing, kPong, kClose };
static const char* const kKindNames[] = {"text", "binary", "ping", "pong", "close"};


template <class Fields>
static Headers collect_headers(const Fields& f) {
  Headers h;
  for (const auto& field : f) {
    std::string name = lower(field.name_string());
    std::string value(field.value());
    auto it = std::find_if(h.begin(), h.end(), [&](const auto& p) { return p.first == name; });
    if (it != h.end())
      it->second += ", " + value;
    else
      h.emplace_back(std::move(name), std::move(value));
  }
  return h;
}

static void push_headers(lua_State* L, const Headers& h) {
  lua_createtable(L, 0, static_cast<int>(h.size()));
  for (const auto& [k, v] : h) {
    push_sv(L, v);
    lua_setfield(L, -2, k.c_str());
  }
}

// Close code the local side sent when Beast rejected what the peer sent (Beast answers a bad
// close frame, even one with an invalid UTF-8 reason, with 1002).
static uint16_t close_code_for(const error_code& ec) {
  if (ec == websocket::error::message_too_big || ec == websocket::error::buffer_overflow) return 1009;
  if (ec == websocket::error::bad_frame_payload) return 1007;
  if (ec == websocket::condition::protocol_violation) return 1002;
  return 1006;
}

static std::string violation_reason(const error_code& ec) {
  if (ec == websocket::error::bad_close_code) return "invalid close code from the peer";
  if (ec == websocket::error::bad_close_payload) return "invalid UTF-8 in the peer's close reason";
  return ec.message();
}

// Close codes a peer may send (RFC 6455 7.4, IANA registry); 1005 (none) is no code at all.
static bool valid_close_code(unsigned code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

struct Settings {
  size_t max_message = kDefaultMaxMessage;
  size_t max_queue = kDefaultMaxQueue;
  int64_t close_timeout_ms = kDefaultCloseTimeout;
  int64_t ping_interval_ms = -1;
  bool compression = false;
};

class Server;

struct InMsg {
  Kind kind;
  uint16_t code;
  bool clean;
  std::string data;  // close: the reason
};

// A frame to send. `data` points into `owned`, or, for ws:send, into the sender's Lua string:
// that string stays on the suspended sender's stack until the op completes, and is pinned in
// the registry (`ref`) if the op is abandoned (timeout, cancel) while the frame is still queued
// or being written.
struct OutMsg {
  Kind kind;
  uint16_t code;
  std::string_view data;
  std::shared_ptr<const std::string> owned;
  OpPtr op;
  int ref = LUA_NOREF;
  size_t size() const { return data.size(); }
};

static OutMsg owned_msg(Kind kind, uint16_t code, std::shared_ptr<const std::string> s) {
  std::string_view d(*s);
  return {kind, code, d, std::move(s), nullptr};
}

// The strings of every message table ("type", "data", the kinds), referenced from the Lua
// registry: pushing them that way skips Lua's lookup of a C string (hash and compare).
struct MsgStrings {
  uint64_t engine = 0;  // Engine::serial
  int type = LUA_NOREF, data = LUA_NOREF;
  int kinds[std::size(kKindNames)] = {};
};

static const MsgStrings& msg_strings(lua_State* L) {
  static MsgStrings s;
  Engine& e = Engine::of(L);
  if (s.engine == e.serial()) return s;
  auto ref = [&](const char* str) {
    lua_pushstring(L, str);
    return luaL_ref(L, LUA_REGISTRYINDEX);
  };
  s.engine = e.serial();
  s.type = ref("type");
  s.data = ref("data");
  for (size_t i = 0; i < std::size(kKindNames); ++i) s.kinds[i] = ref(kKindNames[i]);
  return s;
}

class Conn;

// All open connections (shutdown hook: close them with 1001).
struct Registry {
  uint64_t engine = 0;  // Engine::serial: the hooks below belong to that engine
  uint64_t hook = 0;
  uint64_t idle_hook = 0;
  std::unordered_set<Conn*> conns;
};

static Registry& registry() {
  static Registry r;
  return r;
}

// Open connections read in the background, which keeps the event loop busy. So that a script
// that simply ends without closing its connections still exits, a full garbage collection runs
// whenever the last task has finished (engine idle hook): connections nothing can reach any
// more are collected, and their __gc closes them (1001). Reachable connections are never touched.
static void collect_unreachable(Engine& e) {
  if (!registry().conns.empty()) lua_gc(e.L(), LUA_GCCOLLECT);
}

class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(Engine& e, bool server) : engine_(e), server_side_(server) {}
  ~Conn() {
    unregister();
    for (auto& m : wq_) unpin(m);
  }

  std::optional<PlainWs> plain;
  std::shared_ptr<ssl::context> tls_context;  // server side: keeps the listener's context alive for `tls`
  std::optional<TlsWs> tls;
  template <class F>
  void visit(F&& f) {
    if (plain)
      f(*plain);
    else if (tls)
      f(*tls);
  }
  Socket& lowest() { return plain ? plain->next_layer().next_layer() : tls->next_layer().next_layer().next_layer(); }
  ssl::stream<Socket>& tls_stream() { return tls->next_layer().next_layer(); }
  void close_socket() {
    error_code ignored;
    if (plain || tls) lowest().close(ignored);
  }
  // Closes after our close frame: see Linger. Bounded by close_timeout (default 5 s); by 1 s
  // at most after a close timeout (the peer was given its time already) or during a shutdown.
  void linger(bool briefly = false) {
    if (!(plain || tls) || !lowest().is_open()) return;
    int64_t ms = settings.close_timeout_ms < 0 ? kDefaultCloseTimeout : settings.close_timeout_ms;
    if (briefly || engine_.shutting_down()) ms = std::min<int64_t>(ms, kBriefLinger);
    Linger::start(lowest(), ms);
  }
  void shutdown_send() {
    error_code ignored;
    if (plain || tls) lowest().shutdown(Socket::shutdown_send, ignored);
  }

  // Identity and handshake data.
  uint64_t id = 0;
  std::string peer, local, protocol, path, query, url;
  Headers headers;  // server: request headers; client: response headers
  int status = 101;
  bool accepted = false;  // server side: handed to the script by accept()
  std::weak_ptr<Server> server;
  int64_t timeout_ms = -1;
  Settings settings;

  bool open() const { return !finished_; }
  bool sendable() const { return !finished_ && !close_queued_; }
  bool finished() const { return finished_; }
  bool reader_busy() const { return reader_ && reader_->active(); }
  bool has_queued() const { return !rq_.empty(); }
  bool read_ended() const { return read_ended_; }
  uint16_t close_code() const { return close_code_; }
  const std::string& close_reason() const { return close_reason_; }

  void note_addresses() {
    error_code ec;
    auto p = lowest().remote_endpoint(ec);
    if (!ec) peer = endpoint_string(p);
    auto l = lowest().local_endpoint(ec);
    if (!ec) local = endpoint_string(l);
  }

  // After a completed handshake: starts the read loop and keepalive.
  void start() {
    visit([&](auto& ws) {
      ws.read_message_max(settings.max_message);
      ws.auto_fragment(false);
      ws.control_callback([this](websocket::frame_type k, beast::string_view payload) { on_control(k, payload); });
      ws.next_layer().track_frames();
    });
    auto& r = registry();
    if (r.engine != engine_.serial()) {
      r.engine = engine_.serial();
      r.hook = 0;
      r.idle_hook = 0;
    }
    if (!r.idle_hook) r.idle_hook = engine_.add_idle_hook([e = &engine_] { collect_unreachable(*e); });
    if (!r.hook) {
      r.hook = engine_.add_shutdown_hook([] {
        auto& reg = registry();
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

  // --- reading ---

  // 1 + pushed message; 0: nothing (the caller waits); -1: no more messages (push nothing).
  int take(lua_State* L) {
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

  void wait_for(const OpPtr& op) {
    reader_ = op;
    read_loop();
  }

  // --- writing ---

  void enqueue(OutMsg m) {
    if (m.kind <= kBinary) wq_bytes_ += m.size();
    wq_.push_back(std::move(m));
    pump();
  }

  size_t queued_bytes() const { return wq_bytes_; }

  // The sender waiting on `op` stops waiting (timeout, cancel) while its frame still points
  // into its Lua string (argument 2 of ws:send): pin that string until the frame is written.
  void pin(Op* op) {
    for (auto& m : wq_) {
      if (m.op.get() != op || m.owned || m.ref != LUA_NOREF) continue;
      lua_State* T = op->thread();
      lua_pushvalue(T, 2);
      m.ref = luaL_ref(T, LUA_REGISTRYINDEX);
    }
  }

  // broadcast: queues without waiting; a client over its bound is closed with 1008.
  bool offer(const std::shared_ptr<const std::string>& data, Kind kind) {
    if (!sendable()) return false;
    if (!wq_.empty() && (wq_bytes_ + data->size() > settings.max_queue || wq_.size() >= 65536)) {
      drop_queue_and_close(1008, "send queue overflow");
      return false;
    }
    enqueue(owned_msg(kind, 0, data));
    return true;
  }

  // --- closing ---

  // Sends a close frame (after queued messages) and completes the handshake, bounded by
  // close_timeout. `op` (optional) is resumed when the connection is closed.
  void start_close(uint16_t code, std::string reason, const OpPtr& op) {
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
  void abort(uint16_t code = 1006, std::string reason = "connection aborted", bool linger_first = false) {
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

 private:
  static void push_msg(lua_State* L, Kind kind, std::string_view data, uint16_t code, bool clean) {
    const MsgStrings& k = msg_strings(L);
    lua_createtable(L, 0, kind == kClose ? 5 : 2);
    lua_rawgeti(L, LUA_REGISTRYINDEX, k.type);
    lua_rawgeti(L, LUA_REGISTRYINDEX, k.kinds[kind]);
    lua_rawset(L, -3);
    lua_rawgeti(L, LUA_REGISTRYINDEX, k.data);
    push_sv(L, data);
    lua_rawset(L, -3);
    if (kind == kClose) {
      lua_pushinteger(L, code);
      lua_setfield(L, -2, "code");
      push_sv(L, data);
      lua_setfield(L, -2, "reason");
      lua_pushboolean(L, clean);
      lua_setfield(L, -2, "clean");
    }
  }

  bool paused() const { return rq_.size() >= kInQueueMessages || rq_bytes_ >= kInQueueBytes; }

  void read_loop() {
    if (reading_ || read_ended_ || finished_ || paused()) return;
    reading_ = true;
    auto self = shared_from_this();
    visit([&](auto& ws) { ws.async_read(rbuf_, pooled([self](const error_code& ec, size_t) { self->on_read(ec); })); });
  }

  void on_read(const error_code& ec) {
    alive_ = true;
    if (ec) return on_read_error(ec);
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
    rbuf_.consume(rbuf_.size());
    if (rbuf_.capacity() > kShrinkAbove) rbuf_.shrink_to_fit();
    reading_ = false;
    if (!handed_over) return read_loop();
    // The task that got this message has likely just replied: reading again right now would
    // almost always find nothing (a wasted syscall). Read after the handlers already queued.
    asio::post(engine_.io(), pooled([self = shared_from_this()] { self->read_loop(); }));
  }

  void on_read_error(const error_code& ec) {
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

  // The peer's close frame as the script sees it: 1005 when it carried no code; an invalid
  // code (answered with 1002, see Layer) as 1002, not valid.
  struct PeerClose {
    uint16_t code;
    std::string reason;
    bool valid;
  };
  PeerClose peer_close() {
    websocket::close_reason cr;
    visit([&](auto& ws) { cr = ws.reason(); });
    std::string reason(cr.reason.data(), cr.reason.size());
    if (cr.code == websocket::close_code::none) return {1005, reason, true};
    if (!valid_close_code(cr.code))
      return {1002, "invalid close code " + std::to_string(cr.code) + " from the peer", false};
    return {static_cast<uint16_t>(cr.code), reason, true};
  }

  void on_control(websocket::frame_type k, beast::string_view payload) {
    alive_ = true;
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
  void on_peer_close() {
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

  void deliver() {
    if (!reader_busy()) return;
    if (rq_.empty() && !read_ended_) return;
    OpPtr op = std::move(reader_);
    auto self = shared_from_this();
    op->resume([self](lua_State* L) {
      if (self->take(L) < 0) lua_pushnil(L);
    });
  }

  void end_reading(uint16_t code, std::string reason, bool clean) {
    if (read_ended_) return;
    read_ended_ = true;
    close_code_ = code;
    close_reason_ = reason;
    rq_bytes_ += reason.size();
    rq_.push_back({kClose, code, clean, std::move(reason)});
    // Delivered by finish(), which always follows, once the state is final.
  }

  void pump() {
    if (writing_ || wq_.empty() || finished_) return;
    writing_ = true;
    OutMsg& m = wq_.front();
    auto self = shared_from_this();
    auto done = pooled([self](const error_code& ec, size_t = 0) { self->on_written(ec); });
    visit([&](auto& ws) {
      switch (m.kind) {
        case kText:
        case kBinary:
          ws.text(m.kind == kText);
          ws.async_write(asio::buffer(m.data.data(), m.data.size()), done);
          break;
        case kPing:
          ws.async_ping(websocket::ping_data(m.data.data(), m.data.size()), done);
          break;
        case kPong:
          ws.async_pong(websocket::ping_data(m.data.data(), m.data.size()), done);
          break;
        case kClose: {
          close_started_ = true;
          websocket::close_reason cr(m.code);
          cr.reason.assign(m.data.data(), m.data.size());
          ws.async_close(cr, done);
          break;
        }
      }
    });
  }

  // A frame leaves the queue: a pinned sender string may be collected now.
  void unpin(OutMsg& m) {
    if (m.ref != LUA_NOREF && !engine_.closing()) luaL_unref(engine_.L(), LUA_REGISTRYINDEX, m.ref);
    m.ref = LUA_NOREF;
  }

  void on_written(const error_code& ec) {
    writing_ = false;
    if (wq_.empty()) return;
    OutMsg m = std::move(wq_.front());
    wq_.pop_front();
    unpin(m);
    if (m.kind <= kBinary) wq_bytes_ -= m.size();
    if (m.kind == kClose) {
      // Closing handshake complete (or failed): the read loop ends with `closed`.
      if (!read_ended_) end_close_handshake(ec);
      linger();
      return finish(kClosed, "connection closed");
    }
    if (ec) {
      if (m.op) fail_closed(m.op, ec == asio::error::operation_aborted ? "" : error_text(ec));
      return write_failed(ec);
    }
    if (m.op) m.op->resume();
    pump();
  }

  // Our close (async_close) is done: the peer's answer, or why there is none.
  void end_close_handshake(const error_code& ec) {
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

  // `op` (a send, ping or pong) cannot complete: the connection is closed.
  static void fail_closed(const OpPtr& op, std::string_view why = {}) {
    std::string msg = std::string(op->what()) + ": WebSocket is closed";
    if (!why.empty()) msg += " (" + std::string(why) + ")";
    op->fail(kClosed, msg);
  }

  // Fails every queued frame (none is being written).
  void fail_queue(std::string_view why) {
    for (auto& m : wq_) {
      unpin(m);
      if (m.op) fail_closed(m.op, why);
    }
    wq_.clear();
    wq_bytes_ = 0;
  }

  // A data, ping or pong frame could not be written: the connection is over, and the queued
  // frames fail. The read side tells how it ended (the peer's close frame may still be in our
  // input), bounded by close_timeout; if it is not reading, the connection ends now.
  void write_failed(const error_code& ec) {
    if (finished_) return;
    close_queued_ = true;
    fail_queue(ec == asio::error::operation_aborted ? "" : error_text(ec));
    if (!reading_) return abort(1006, "write failed: " + error_text(ec));
    if (!close_timer_) arm_close_timer();
  }

  void drop_queue_and_close(uint16_t code, const char* reason) {
    // Keeps the frame being written; drops the rest.
    size_t keep = writing_ ? 1 : 0;
    while (wq_.size() > keep) {
      OutMsg m = std::move(wq_.back());
      wq_.pop_back();
      unpin(m);
      if (m.kind <= kBinary) wq_bytes_ -= m.size();
      if (m.op) fail_closed(m.op, "send queue overflow");
    }
    // If the peer never reads our close frame (a full TCP window: what a slow consumer has),
    // close_timeout ends the connection; its close entry then tells why we closed it.
    if (!close_queued_) dropped_ = {code, reason};
    start_close(code, reason, nullptr);
  }

  void finish(std::string_view code, std::string_view message) {
    if (finished_) return;
    finished_ = true;
    close_queued_ = true;
    if (close_timer_) close_timer_->cancel();
    if (ping_timer_) ping_timer_->cancel();
    // Pending writers (not the one in flight: Beast completes it with an error).
    std::deque<OutMsg> pending;
    pending.swap(wq_);
    if (writing_ && !pending.empty()) {
      wq_.push_back(std::move(pending.front()));
      pending.pop_front();
    }
    for (auto& m : pending) {
      unpin(m);
      if (m.op) fail_closed(m.op);
    }
    wq_bytes_ = 0;
    for (auto& m : wq_) wq_bytes_ += m.kind <= kBinary ? m.size() : 0;
    unregister();
    auto waiters = std::move(close_waiters_);
    for (auto& op : waiters) op->resume([](lua_State* L) { lua_pushboolean(L, 1); });
    deliver();
    notify_server();
    // Beast operations parked on its internal locks (read/close interplay) hold work and would
    // keep the loop alive: destroying the stream releases them (they complete as aborted).
    asio::post(engine_.io(), [self = shared_from_this()] {
      self->close_socket();
      self->plain.reset();
      self->tls.reset();
    });
  }

  void unregister() {
    if (!registered_) return;
    registered_ = false;
    auto& r = registry();
    r.conns.erase(this);
  }

  void notify_server();

  void arm_close_timer() {
    if (settings.close_timeout_ms < 0) return;
    close_timer_ = std::make_unique<asio::steady_timer>(engine_.io(), std::chrono::milliseconds(settings.close_timeout_ms));
    close_timer_->async_wait([w = weak_from_this()](const error_code& ec) {
      auto self = w.lock();
      if (ec || !self) return;
      if (self->dropped_) return self->abort(self->dropped_->first, self->dropped_->second, /*linger_first=*/true);
      self->abort(1006, "close timed out", /*linger_first=*/true);
    });
  }

  void arm_ping() {
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

  Engine& engine_;
  bool server_side_;
  bool registered_ = false;
  // reading
  beast::flat_buffer rbuf_;
  std::deque<InMsg> rq_;
  size_t rq_bytes_ = 0;
  OpPtr reader_;
  bool reading_ = false;
  bool read_ended_ = false;
  bool deliver_posted_ = false;
  uint16_t close_code_ = 0;
  std::optional<std::pair<uint16_t, std::string>> dropped_;  // we closed it: queue overflow
  std::string close_reason_;
  // writing
  std::deque<OutMsg> wq_;
  size_t wq_bytes_ = 0;
  bool writing_ = false;
  bool close_queued_ = false;
  bool close_started_ = false;  // our close frame handed to Beast
  bool peer_closed_ = false;    // the peer's close frame was read
  bool finished_ = false;
  std::vector<OpPtr> close_waiters_;
  std::unique_ptr<asio::steady_timer> close_timer_;
  // keepalive
  std::unique_ptr<asio::steady_timer> ping_timer_;
  bool alive_ = true;
  bool ping_outstanding_ = false;
};

// --- Lua objects -----------------------------------------------------------------------------

struct ConnBox {
  std::shared_ptr<Conn> conn;
};

static void push_conn(lua_State* L, std::shared_ptr<Conn> c) {
  new_object<ConnBox>(L, kWsType, 1, ConnBox{std::move(c)});
}

static Conn* check_ws(lua_State* L) { return static_cast<ConnBox*>(check_udata(L, 1, kWsType))->conn.get(); }


static Kind check_kind(lua_State* L, int idx, Kind def) {
  static const char* const names[] = {"text", "binary", "ping", "pong", nullptr};
  if (lua_isnoneornil(L, idx)) return def;
  std::string_view k = to_sv(L, idx);  // the common cases without luaL_checkoption's scan
  if (k == "text") return kText;
  if (k == "binary") return kBinary;
  return static_cast<Kind>(luaL_checkoption(L, idx, nullptr, names));
}

static int ws_send(lua_State* L) {
  Conn* c = check_ws(L);
  std::string_view data = check_sv(L, 2);
  Kind kind = check_kind(L, 3, kText);
  if (!c->sendable()) raise(L, kClosed, "send: WebSocket is closed");
  if ((kind == kPing || kind == kPong) && data.size() > 125)
    raise(L, "EINVAL", "send: ping/pong payload must be at most 125 bytes");
  if (data.size() > c->settings.max_message && kind <= kBinary)
    raisef(L, "EMSGSIZE", "send: message of %d bytes is larger than max_message", (int)data.size());
  lua_settop(L, 2);
  // No copy: the frame points into the string argument, kept on this coroutine's stack while
  // it waits (see OutMsg).
  return suspend(L, "send", c->timeout_ms, [&](const OpPtr& op) {
    op->on_abandon([c, o = op.get()] { c->pin(o); });
    c->enqueue({kind, 0, data, nullptr, op});
  });
}

static int control(lua_State* L, Kind kind, const char* what) {
  Conn* c = check_ws(L);
  std::string_view data = lua_isnoneornil(L, 2) ? std::string_view{} : check_sv(L, 2);
  if (data.size() > 125) raisef(L, "EINVAL", "%s: payload must be at most 125 bytes", what);
  if (!c->sendable()) raisef(L, kClosed, "%s: WebSocket is closed", what);
  lua_settop(L, 2);
  return suspend(L, what, c->timeout_ms, [&](const OpPtr& op) {
    OutMsg m = owned_msg(kind, 0, std::make_shared<const std::string>(data));
    m.op = op;
    c->enqueue(std::move(m));
  });
}

static int ws_ping(lua_State* L) { return control(L, kPing, "ping"); }
static int ws_pong(lua_State* L) { return control(L, kPong, "pong"); }

static int ws_recv(lua_State* L) {
  Conn* c = check_ws(L);
  if (c->reader_busy()) raise(L, kBusy, "recv: another task is already receiving on this connection");
  lua_settop(L, 1);
  int st = c->take(L);
  if (st > 0) return complete_now(L, 1);
  if (st < 0) {
    lua_pushnil(L);
    return complete_now(L, 1);
  }
  return suspend(L, "recv", c->timeout_ms, [&](const OpPtr& op) { c->wait_for(op); });
}

static int ws_close(lua_State* L) {
  Conn* c = check_ws(L);
  lua_Integer code = luaL_optinteger(L, 2, 1000);
  std::string_view reason = lua_isnoneornil(L, 3) ? std::string_view{} : check_sv(L, 3);
  check_value(L, code == 1000 || (code >= 3000 && code <= 4999) || (code >= 1001 && code <= 1014 && code != 1004 && code != 1005 && code != 1006),
                2, "invalid close code");
  check_value(L, reason.size() <= 123, 3, "close reason must be at most 123 bytes");
  if (c->finished()) {
    lua_pushboolean(L, 1);
    return 1;
  }
  lua_settop(L, 3);
  // The closing handshake is bounded by close_timeout (not by set_timeout).
  return suspend(L, "close", -1, [&](const OpPtr& op) {
    c->start_close(static_cast<uint16_t>(code), std::string(reason), op);
  });
}

static int ws_gc(lua_State* L) {
  auto* box = static_cast<ConnBox*>(test_udata(L, 1, kWsType));
  if (box && box->conn && box->conn->open()) box->conn->start_close(1001, "going away", nullptr);
  return gc_object<ConnBox>(L, kWsType);
}

static int ws_set_timeout(lua_State* L) {
  check_ws(L)->timeout_ms = opt_timeout_ms(L, 2);
  return 0;
}

static int ws_peer_addr(lua_State* L) {
  push_sv(L, check_ws(L)->peer);
  return 1;
}

static int ws_local_addr(lua_State* L) {
  push_sv(L, check_ws(L)->local);
  return 1;
}

static int ws_is_open(lua_State* L) {
  lua_pushboolean(L, check_ws(L)->sendable());
  return 1;
}

static int ws_tostring(lua_State* L) {
  Conn* c = check_ws(L);
  lua_pushfstring(L, "ws.conn #%d (%s -> %s%s)", (int)c->id, c->local.c_str(), c->peer.c_str(),
                  c->finished() ? ", closed" : "");
  return 1;
}

// Fields: protocol, id, path, query, url, headers, response, close_code, close_reason.
static int ws_index(lua_State* L) {
  // Methods first: ws:recv()/ws:send() look up here on every call (the method checks `self`).
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  Conn* c = check_ws(L);
  std::string_view key = to_sv(L, 2);
  if (key == "protocol") {
    if (c->protocol.empty()) return lua_pushnil(L), 1;
    return push_sv(L, c->protocol), 1;
  }
  if (key == "id") return lua_pushinteger(L, static_cast<lua_Integer>(c->id)), 1;
  if (key == "path") return push_sv(L, c->path), 1;
  if (key == "query") {
    if (c->query.empty()) return lua_pushnil(L), 1;
    return push_sv(L, c->query), 1;
  }
  if (key == "url") return push_sv(L, c->url), 1;
  if (key == "close_code") {
    if (!c->read_ended()) return lua_pushnil(L), 1;
    return lua_pushinteger(L, c->close_code()), 1;
  }
  if (key == "close_reason") {
    if (!c->read_ended()) return lua_pushnil(L), 1;
    return push_sv(L, c->close_reason()), 1;
  }
  if (key == "headers" || key == "response") {
    // Built once, cached in the user value.
    if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushvalue(L, -1);
      lua_setiuservalue(L, 1, 1);
    }
    if (lua_getfield(L, -1, "headers") != LUA_TTABLE) {
      lua_pop(L, 1);
      push_headers(L, c->headers);
      lua_pushvalue(L, -1);
      lua_setfield(L, -3, "headers");
    }
    if (key == "headers") return 1;
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, c->status);
    lua_setfield(L, -2, "status");
    lua_insert(L, -2);
    lua_setfield(L, -2, "headers");
    return 1;
  }
  lua_pushnil(L);
  return 1;
}

// --- option helpers ------------------------------------------------------------------------

// A string or a list of strings; checked before the vector exists (a raise longjmps).
static std::vector<std::string> read_string_list(lua_State* L, int opts, const char* key) {
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

static size_t opt_size(lua_State* L, int opts, const char* key, size_t def) {
  return static_cast<size_t>(opt_int_field(L, opts, key, static_cast<lua_Integer>(def), 1));
}

// Options every connection has, client or server side.
#define MW_WS_SETTINGS "max_message", "max_queue", "close_timeout", "ping_interval", "compression"

static void read_settings(lua_State* L, int opts, Settings& s) {
  s.max_message = opt_size(L, opts, "max_message", kDefaultMaxMessage);
  s.max_queue = opt_size(L, opts, "max_queue", kDefaultMaxQueue);
  s.close_timeout_ms = opt_timeout_field(L, opts, "close_timeout", kDefaultCloseTimeout);
  s.ping_interval_ms = opt_timeout_field(L, opts, "ping_interval", kForever);
  s.compression = opt_bool_field(L, opts, "compression", false);
}

template <class Ws>
static void apply_compression(Ws& ws, bool enabled, bool server) {
  websocket::permessage_deflate pmd;
  if (server)
    pmd.server_enable = enabled;
  else
    pmd.client_enable = enabled;
  ws.set_option(pmd);
}

// --- client ----------------------------------------------------------------------------------

// Everything connect() needs, parsed before suspending (held by a userdata so that a raised
// error during parsing leaks nothing).
struct ConnectSpec {
  bool secure = false;
  std::string host;  // without brackets
  uint16_t port = 0;
  std::string host_header;
  std::string target;
  std::string url;
  Headers headers;
  std::vector<std::string> protocols;
  std::string origin;
  Settings settings;
  tls::Options tls;
  std::shared_ptr<ssl::context> ctx;
  std::optional<ProxySpec> proxy;
};

static int spec_gc(lua_State* L) { return gc_object<ConnectSpec>(L, kSpecType); }

static ConnectSpec* parse_connect(lua_State* L) {
  std::string_view url = check_sv(L, 1);
  static const char* const known[] = {"headers", "timeout", "protocols", "origin", "tls", "proxy", MW_WS_SETTINGS,
                                      nullptr};
  check_options(L, 2, "net.ws.connect", known);
  auto* spec = new_object<ConnectSpec>(L, kSpecType, 0);  // at index 3
  bool parsed;
  {  // C++ objects in their own scope: nothing may be alive when the error is raised
    UrlTarget t;
    std::string err;
    parsed = parse_ws_url(url, t, err);
    if (parsed) {
      spec->secure = t.secure;
      spec->host = std::move(t.host);
      spec->port = t.port;
      spec->host_header = std::move(t.host_header);
      spec->target = std::move(t.target);
    } else {
      push_sv(L, err);
    }
  }
  if (!parsed) raisef(L, "EINVAL", "net.ws.connect: %s", lua_tostring(L, -1));
  spec->url = std::string(url);

  // options
  int t = get_field(L, 2, "headers");
  if (t == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (lua_type(L, -2) != LUA_TSTRING || !lua_isstring(L, -1))
        raise(L, "EINVAL", "option 'headers' must map header names to strings");
      spec->headers.emplace_back(std::string(to_sv(L, -2)), std::string(to_sv(L, -1)));
      lua_pop(L, 1);
    }
  } else if (t != LUA_TNIL) {
    option_error(L, "headers", "a table");
  }
  lua_pop(L, 1);
  spec->protocols = read_string_list(L, 2, "protocols");
  spec->origin = opt_str_field(L, 2, "origin");
  read_settings(L, 2, spec->settings);
  get_field(L, 2, "tls");
  spec->tls = tls::read_options(L, -1);
  lua_pop(L, 1);
  spec->tls.enabled = spec->secure;
  if (spec->secure) {
    std::string error;
    spec->ctx = tls::client_context(spec->tls, error);
    if (!spec->ctx) {
      push_sv(L, error);
      raise(L, "ETLS", to_sv(L, -1));
    }
  }
  spec->proxy = read_proxy_option(L, 2);
  return spec;
}

static std::atomic<uint64_t> g_client_ids{1};

// Runs the WebSocket handshake on a connected (and TLS-established) client stream.
template <class Ws>
static void client_handshake(const OpPtr& op, std::shared_ptr<Conn> c, Ws& ws, std::shared_ptr<ConnectSpec> spec) {
  apply_compression(ws, spec->settings.compression, false);
  ws.set_option(websocket::stream_base::decorator([spec](websocket::request_type& req) {
    req.set(http::field::user_agent, "moonwire");
    if (!spec->origin.empty()) req.set(http::field::origin, spec->origin);
    if (!spec->protocols.empty()) {
      std::string list;
      for (const auto& p : spec->protocols) list += (list.empty() ? "" : ", ") + p;
      req.set(http::field::sec_websocket_protocol, list);
    }
    for (const auto& [k, v] : spec->headers) req.set(k, v);
  }));
  auto res = std::make_shared<websocket::response_type>();
  ws.async_handshake(*res, spec->host_header, spec->target, [op, c, res, spec](const error_code& ec) {
    if (!op->active()) return;
    if (ec) {
      c->abort();
      if (ec == websocket::error::upgrade_declined || ec == websocket::condition::handshake_failed) {
        int status = res->result_int();
        auto hdrs = collect_headers(*res);
        std::string body = res->body();
        std::string msg = "WebSocket upgrade refused by " + spec->url + ": HTTP " + std::to_string(status);
        if (status == 101) msg = "WebSocket handshake failed with " + spec->url + ": " + ec.message();
        return op->fail_with([status, hdrs, body, msg](lua_State* L) {
          push_error(L, "EHANDSHAKE", msg, 1);
          lua_pushinteger(L, status);
          lua_setfield(L, -2, "status");
          push_headers(L, hdrs);
          lua_setfield(L, -2, "headers");
          push_sv(L, body);
          lua_setfield(L, -2, "body");
        });
      }
      return op->fail(ec, "WebSocket handshake with " + spec->url);
    }
    c->status = res->result_int();
    c->headers = collect_headers(*res);
    c->protocol = std::string((*res)[http::field::sec_websocket_protocol]);
    if (!c->protocol.empty() &&
        std::find(spec->protocols.begin(), spec->protocols.end(), c->protocol) == spec->protocols.end()) {
      c->abort();
      return op->fail("EHANDSHAKE", "server chose subprotocol '" + c->protocol + "' which was not offered");
    }
    c->start();
    op->resume([c](lua_State* L) { push_conn(L, c); });
  });
}

// net.ws.connect(url[, opts])
static int ws_connect(lua_State* L) {
  lua_settop(L, 2);
  int64_t timeout = opt_timeout_field(L, 2, "timeout", kForever);
  parse_connect(L);  // index 3: the spec userdata
  return suspend(L, "connect", timeout, [&](const OpPtr& op) {
    auto* raw = static_cast<ConnectSpec*>(lua_touserdata(L, 3));
    auto spec = std::make_shared<ConnectSpec>(std::move(*raw));
    auto sock = std::make_shared<tcp::socket>(op->engine().io());
    auto cur = std::make_shared<std::weak_ptr<Conn>>();
    op->on_abandon([sock, cur] {
      error_code ec;
      sock->close(ec);
      if (auto c = cur->lock()) c->abort();
    });
    async_connect(op->engine().io(), sock, spec->host, spec->port, spec->proxy, [op, sock, spec, cur](ConnectError err) {
      if (!op->active()) return;
      if (err) return op->fail(err.code, err.message);
      error_code ec;
      sock->set_option(tcp::no_delay(true), ec);
      auto c = std::make_shared<Conn>(op->engine(), false);
      *cur = c;
      c->id = g_client_ids++;
      c->settings = spec->settings;
      c->url = spec->url;
      auto q = spec->target.find('?');
      c->path = spec->target.substr(0, q);
      if (q != std::string::npos) c->query = spec->target.substr(q + 1);
      if (!spec->secure) {
        c->plain.emplace(adopt_socket(op->engine().io(), *sock));
        c->note_addresses();
        return client_handshake(op, c, *c->plain, spec);
      }
      c->tls.emplace(adopt_socket(op->engine().io(), *sock), *spec->ctx);
      c->note_addresses();
      std::string terr;
      if (!tls::prepare_client(c->tls_stream(), spec->tls, spec->host, terr)) {
        c->abort();
        return op->fail("ETLS", terr);
      }
      c->tls_stream().async_handshake(ssl::stream_base::client, [op, c, spec](const error_code& ec) {
        if (!op->active()) return;
        if (ec) {
          std::string code, msg;
          tls::describe_handshake_error(c->tls_stream().native_handle(), ec, code, msg);
          c->abort();
          return op->fail(code, msg);
        }
        client_handshake(op, c, *c->tls, spec);
      });
    });
  });
}

// --- server ----------------------------------------------------------------------------------

struct ServerOptions {
  std::vector<std::string> protocols;
  std::vector<std::string> origins;
  int origin_fn = LUA_NOREF;  // registry ref to origins = function(origin, request)
  bool origins_set = false;
  Settings settings;
  int64_t handshake_timeout_ms = 10000;
  size_t max_connections = 0;  // 0: unlimited
  std::shared_ptr<ssl::context> ctx;
};

struct ListenSpec {
  ListenConfig listen;
  ServerOptions opts;
};

static constexpr const char* kListenSpecType = "moonwire.ws.listenspec";
static int listen_spec_gc(lua_State* L) { return gc_object<ListenSpec>(L, kListenSpecType); }

// The host:port part of an Origin ("http://a.example:8080" -> "a.example:8080"), default
// ports removed, lower case.
static std::string origin_authority(std::string_view origin) {
  auto r = boost::urls::parse_uri(origin);
  if (!r) return lower(origin);
  std::string scheme = lower(r->scheme());
  std::string host = lower(r->encoded_host_and_port());
  auto strip = [&](const char* suffix) {
    std::string s(suffix);
    if (host.size() > s.size() && host.compare(host.size() - s.size(), s.size(), s) == 0) host.resize(host.size() - s.size());
  };
  if (scheme == "http" || scheme == "ws") strip(":80");
  if (scheme == "https" || scheme == "wss") strip(":443");
  return host;
}

static std::string host_authority(std::string_view host, bool secure) {
  std::string h = lower(host);
  std::string s = secure ? ":443" : ":80";
  if (h.size() > s.size() && h.compare(h.size() - s.size(), s.size(), s) == 0) h.resize(h.size() - s.size());
  return h;
}

class Server : public std::enable_shared_from_this<Server> {
 public:
  Server(Engine& e, std::shared_ptr<Listener> l, ServerOptions o)
      : engine_(e), listener_(std::move(l)), opts_(std::move(o)) {}
  ~Server() {
    close();
    if (opts_.origin_fn != LUA_NOREF) luaL_unref(engine_.L(), LUA_REGISTRYINDEX, opts_.origin_fn);
  }

  // The listener's handlers hold `this`: it never calls them once closed, and ~Server closes it.
  void start() {
    listener_->on_demand([this](size_t tls_handshakes) { return ready_.size() + handshaking_ + tls_handshakes < 1024; });
    listener_->on_accept([this](Accepted&& a) { start_handshake(std::move(a)); });
    listener_->on_shutdown([this] { close(/*shutting_down=*/true); });
    listener_->pump();
  }

  const tcp::endpoint& local() const { return listener_->local(); }
  bool closed() const { return closed_; }
  bool waiter_busy() const { return waiter_ && waiter_->active(); }
  const ServerOptions& opts() const { return opts_; }
  int clients_ref = LUA_NOREF;  // registry: id -> conn userdata (accepted, maybe closed since)

  // Pushes the connection object for the script and records it in the clients table.
  void push_accepted(lua_State* L, const std::shared_ptr<Conn>& c) {
    c->accepted = true;
    push_conn(L, c);
    if (clients_ref == LUA_NOREF) return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, clients_ref);
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, static_cast<lua_Integer>(c->id));
    lua_pop(L, 1);
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
    std::vector<std::shared_ptr<Conn>> all;
    for (auto& [id, c] : live_) all.push_back(c);
    for (auto& c : all) c->start_close(1001, "server closing", nullptr);
  }

  void forget(uint64_t id) {
    if (live_.erase(id)) dead_.push_back(id);
  }
  std::vector<uint64_t> take_dead() { return std::exchange(dead_, {}); }

  // Accepted (handed to the script) and still open.
  template <class F>
  void each_client(F&& f) {
    for (auto& [id, c] : live_)
      if (c->accepted && c->sendable()) f(c);
  }
  size_t client_count() {
    size_t n = 0;
    each_client([&](auto&) { ++n; });
    return n;
  }

 private:
  struct Handshake {
    beast::flat_buffer buf{16 * 1024 + 1024};
    http::request_parser<http::empty_body> parser;
    std::unique_ptr<asio::steady_timer> timer;
    http::response<http::string_body> reject;
  };

  // A connection from the listener (TLS: that handshake is done): read and check the
  // upgrade request, within what is left of handshake_timeout.
  void start_handshake(Accepted&& a) {
    auto c = std::make_shared<Conn>(engine_, true);
    c->settings = opts_.settings;
    if (a.tls) {
      c->tls_context = std::move(a.tls_context);
      c->tls.emplace(std::move(*a.tls));
    } else {
      c->plain.emplace(std::move(*a.plain));
    }
    c->note_addresses();
    ++handshaking_;
    auto hs = std::make_shared<Handshake>();
    hs->parser.header_limit(16 * 1024);
    hs->timer = std::make_unique<asio::steady_timer>(engine_.io());
    if (opts_.handshake_timeout_ms != kForever) {
      hs->timer->expires_at(a.accepted_at + std::chrono::milliseconds(opts_.handshake_timeout_ms));
      hs->timer->async_wait([c](const error_code& ec) {
        if (!ec) c->abort();  // a client that never finishes its handshake
      });
    }
    read_request(c, hs);
  }

  void handshake_failed(const std::shared_ptr<Conn>& c, const std::shared_ptr<Handshake>& hs) {
    hs->timer->cancel();
    c->abort();
    --handshaking_;
    listener_->pump();
  }

  void read_request(std::shared_ptr<Conn> c, std::shared_ptr<Handshake> hs) {
    if (c->finished()) return handshake_failed(c, hs);
    auto self = shared_from_this();
    c->visit([&](auto& ws) {
      http::async_read(ws.next_layer(), hs->buf, hs->parser, [self, c, hs](const error_code& ec, size_t) {
        if (self->closed_) return self->handshake_failed(c, hs);
        if (ec) {
          if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::operation_aborted ||
              ec == asio::error::connection_reset)
            return self->handshake_failed(c, hs);
          return self->reject(c, hs, http::status::bad_request, "Bad Request\n");
        }
        self->check_request(c, hs);
      });
    });
  }

  void reject(std::shared_ptr<Conn> c, std::shared_ptr<Handshake> hs, http::status st, std::string body,
              bool upgrade_hint = false) {
    auto& res = hs->reject;
    res.version(11);
    res.result(st);
    res.set(http::field::server, "moonwire");
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.set(http::field::connection, "close");
    if (upgrade_hint) {
      res.set(http::field::upgrade, "websocket");
      res.set(http::field::sec_websocket_version, "13");
    }
    res.body() = std::move(body);
    res.prepare_payload();
    if (c->finished()) return handshake_failed(c, hs);
    auto self = shared_from_this();
    c->visit([&](auto& ws) {
      http::async_write(ws.next_layer(), res, [self, c, hs](const error_code&, size_t) {
        c->shutdown_send();
        self->handshake_failed(c, hs);
      });
    });
  }

  bool origin_allowed(const std::shared_ptr<Conn>& c, const http::request<http::empty_body>& req) {
    auto origin = req[http::field::origin];
    if (opts_.origin_fn != LUA_NOREF) {
      lua_State* L = engine_.L();
      int top = lua_gettop(L);
      lua_rawgeti(L, LUA_REGISTRYINDEX, opts_.origin_fn);
      if (origin.empty())
        lua_pushnil(L);
      else
        push_sv(L, std::string_view(origin.data(), origin.size()));
      lua_createtable(L, 0, 5);
      push_sv(L, c->path);
      lua_setfield(L, -2, "path");
      push_sv(L, c->query);
      lua_setfield(L, -2, "query");
      push_headers(L, c->headers);
      lua_setfield(L, -2, "headers");
      push_sv(L, c->peer);
      lua_setfield(L, -2, "peer");
      bool ok = false;
      if (lua_pcall(L, 2, 1, 0) == LUA_OK) {
        ok = lua_toboolean(L, -1);
      } else {
        std::fprintf(stderr, "moonwire: net.ws origins function failed: %s\n", luaL_tolstring(L, -1, nullptr));
      }
      lua_settop(L, top);
      return ok;
    }
    if (origin.empty()) return true;
    std::string o(origin.data(), origin.size());
    if (opts_.origins_set) {
      for (const auto& allowed : opts_.origins) {
        if (allowed == "*") return true;
        if (lower(allowed) == lower(o)) return true;
        if (allowed.find("://") == std::string::npos && origin_authority(o) == host_authority(allowed, false)) return true;
      }
      return false;
    }
    auto host = req[http::field::host];
    return origin_authority(o) == host_authority(std::string_view(host.data(), host.size()), opts_.ctx != nullptr);
  }

  void check_request(std::shared_ptr<Conn> c, std::shared_ptr<Handshake> hs) {
    const auto& req = hs->parser.get();
    std::string_view target(req.target().data(), req.target().size());
    auto q = target.find('?');
    c->path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) c->query = std::string(target.substr(q + 1));
    c->url = std::string(target);
    c->headers = collect_headers(req);
    if (!websocket::is_upgrade(req))
      return reject(c, hs, http::status::upgrade_required, "This is a WebSocket endpoint: upgrade required\n", true);
    if (!origin_allowed(c, req)) return reject(c, hs, http::status::forbidden, "Origin not allowed\n");
    if (opts_.max_connections && live_.size() >= opts_.max_connections)
      return reject(c, hs, http::status::service_unavailable, "Too many connections\n");
    // Subprotocol: the first of ours that the client offered.
    std::string offered(req[http::field::sec_websocket_protocol]);
    std::vector<std::string> theirs;
    for (size_t pos = 0; pos <= offered.size();) {
      size_t comma = offered.find(',', pos);
      if (comma == std::string::npos) comma = offered.size();
      std::string tok = offered.substr(pos, comma - pos);
      tok.erase(0, tok.find_first_not_of(" \t"));
      tok.erase(tok.find_last_not_of(" \t") + 1);
      if (!tok.empty()) theirs.push_back(tok);
      pos = comma + 1;
    }
    for (const auto& p : opts_.protocols)
      if (std::find(theirs.begin(), theirs.end(), p) != theirs.end()) {
        c->protocol = p;
        break;
      }
    if (c->finished()) return handshake_failed(c, hs);
    auto self = shared_from_this();
    c->visit([&](auto& ws) {
      apply_compression(ws, opts_.settings.compression, true);
      ws.set_option(websocket::stream_base::decorator([proto = c->protocol](websocket::response_type& res) {
        res.set(http::field::server, "moonwire");
        if (!proto.empty()) res.set(http::field::sec_websocket_protocol, proto);
      }));
      ws.async_accept(hs->parser.get(), [self, c, hs](const error_code& ec) {
        if (ec || self->closed_) return self->handshake_failed(c, hs);
        hs->timer->cancel();
        --self->handshaking_;
        c->id = self->next_id_++;
        c->server = self;
        self->live_.emplace(c->id, c);
        c->start();
        self->offer(c);
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
  ServerOptions opts_;
  std::deque<std::shared_ptr<Conn>> ready_;
  std::unordered_map<uint64_t, std::shared_ptr<Conn>> live_;
  std::vector<uint64_t> dead_;
  OpPtr waiter_;
  bool closed_ = false;
  size_t handshaking_ = 0;
  uint64_t next_id_ = 1;
};

void Conn::notify_server() {
  if (auto s = server.lock()) s->forget(id);
}

struct ServerBox {
  std::shared_ptr<Server> server;
};

static ServerBox* check_server_box(lua_State* L) { return static_cast<ServerBox*>(check_udata(L, 1, kServerType)); }
static Server* check_server(lua_State* L) { return check_server_box(L)->server.get(); }

// Pushes the server's id -> conn table, after removing closed connections.
static void push_clients_table(lua_State* L, ServerBox* box) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, box->server->clients_ref);
  for (uint64_t id : box->server->take_dead()) {
    lua_pushnil(L);
    lua_rawseti(L, -2, static_cast<lua_Integer>(id));
  }
}

static int server_accept(lua_State* L) {
  ServerBox* box = check_server_box(L);
  Server* s = box->server.get();
  int64_t timeout = opt_timeout_ms(L, 2);
  if (s->closed()) raise(L, kClosed, "accept: server is closed");
  if (s->waiter_busy()) raise(L, kBusy, "accept: another task is already accepting on this server");
  lua_settop(L, 1);
  push_clients_table(L, box);  // 2
  lua_pop(L, 1);
  if (auto c = s->take_ready()) {
    c->accepted = true;
    s->push_accepted(L, c);
    return complete_now(L, 1);
  }
  return suspend(L, "accept", timeout, [&](const OpPtr& op) { s->wait(op); });
}

static int server_clients(lua_State* L) {
  ServerBox* box = check_server_box(L);
  push_clients_table(L, box);  // 2
  lua_newtable(L);             // 3
  lua_Integer n = 0;
  std::vector<uint64_t> ids;
  box->server->each_client([&](const std::shared_ptr<Conn>& c) { ids.push_back(c->id); });
  std::sort(ids.begin(), ids.end());
  for (uint64_t id : ids) {
    if (lua_rawgeti(L, 2, static_cast<lua_Integer>(id)) == LUA_TUSERDATA)
      lua_rawseti(L, 3, ++n);
    else
      lua_pop(L, 1);
  }
  return 1;
}

static int server_client_count(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(check_server(L)->client_count()));
  return 1;
}

static int server_broadcast(lua_State* L) {
  Server* s = check_server(L);
  std::string_view data = check_sv(L, 2);
  Kind kind = check_kind(L, 3, kText);
  if (kind > kBinary) value_error(L, 3, "broadcast type must be 'text' or 'binary'");
  lua_Integer n = 0;
  {
    auto shared = std::make_shared<const std::string>(data);
    std::vector<std::shared_ptr<Conn>> targets;
    s->each_client([&](const std::shared_ptr<Conn>& c) { targets.push_back(c); });
    for (auto& c : targets)
      if (c->offer(shared, kind)) ++n;
  }
  lua_pushinteger(L, n);
  return 1;
}

static int server_close(lua_State* L) {
  check_server(L)->close();
  return 0;
}

static int server_gc(lua_State* L) {
  auto* box = static_cast<ServerBox*>(test_udata(L, 1, kServerType));
  if (box && box->server && box->server->clients_ref != LUA_NOREF) {
    box->server->stop_listening();
    luaL_unref(L, LUA_REGISTRYINDEX, box->server->clients_ref);
    box->server->clients_ref = LUA_NOREF;
  }
  return gc_object<ServerBox>(L, kServerType);
}

static int server_local_addr(lua_State* L) {
  push_sv(L, endpoint_string(check_server(L)->local()));
  return 1;
}

static int server_index(lua_State* L) {
  Server* s = check_server(L);
  std::string_view key = to_sv(L, 2);
  if (key == "port") return lua_pushinteger(L, s->local().port()), 1;
  if (key == "host") return lua_pushstring(L, s->local().address().to_string().c_str()), 1;
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  return 1;
}

static int server_tostring(lua_State* L) {
  Server* s = check_server(L);
  lua_pushfstring(L, "ws.server (%s%s)", endpoint_string(s->local()).c_str(), s->closed() ? ", closed" : "");
  return 1;
}

// net.ws.listen([host,] port[, opts])
static int ws_listen(lua_State* L) {
  normalize_listen_args(L, "net.ws.listen");
  static const char* const known[] = {"protocols", "origins", "max_connections", "tls", MW_LISTEN_OPTION_KEYS,
                                      MW_WS_SETTINGS, nullptr};
  check_options(L, 3, "net.ws.listen", known);
  uint16_t port = static_cast<uint16_t>(lua_tointeger(L, 2));
  auto* spec = new_object<ListenSpec>(L, kListenSpecType, 0);  // 4
  spec->listen.host = std::string(to_sv(L, 1));
  spec->listen.port = port;
  read_listen_options(L, 3, spec->listen);
  ServerOptions& o = spec->opts;
  o.protocols = read_string_list(L, 3, "protocols");
  int t = get_field(L, 3, "origins");
  if (t == LUA_TFUNCTION) {
    o.origin_fn = luaL_ref(L, LUA_REGISTRYINDEX);
    o.origins_set = true;
  } else {
    lua_pop(L, 1);
    if (t != LUA_TNIL) {
      o.origins = read_string_list(L, 3, "origins");
      o.origins_set = true;
    }
  }
  read_settings(L, 3, o.settings);
  o.handshake_timeout_ms = spec->listen.handshake_timeout_ms;
  o.max_connections = static_cast<size_t>(opt_int_field(L, 3, "max_connections", 0, 0));
  get_field(L, 3, "tls");  // 5
  tls::validate_options(L, 5);
  if (!lua_isnil(L, 5) && !(lua_isboolean(L, 5) && !lua_toboolean(L, 5))) {
    bool ok;
    {  // C++ objects in their own scope: nothing may be alive when the error is raised
      tls::Options to = tls::read_options(L, 5);
      to.enabled = true;
      std::string error;
      o.ctx = tls::server_context(to, error);
      ok = o.ctx != nullptr;
      if (!ok) push_sv(L, error);
    }
    if (!ok) raise(L, "ETLS", to_sv(L, -1));
  }
  lua_settop(L, 4);
  return suspend(L, "listen", -1, [&](const OpPtr& op) {
    auto* raw = static_cast<ListenSpec*>(lua_touserdata(L, 4));
    auto ls = std::make_shared<ListenSpec>(std::move(*raw));
    raw->opts.origin_fn = LUA_NOREF;  // moved: the server owns the ref now
    ls->listen.tls = ls->opts.ctx;
    Listener::open(op->engine(), ls->listen, [op, ls](std::shared_ptr<Listener> l, ListenError err) {
      if (!op->active()) return;
      if (!l) {
        if (ls->opts.origin_fn != LUA_NOREF) luaL_unref(op->engine().L(), LUA_REGISTRYINDEX, ls->opts.origin_fn);
        ls->opts.origin_fn = LUA_NOREF;
        return op->fail(err.code, err.message);
      }
      auto server = std::make_shared<Server>(op->engine(), std::move(l), std::move(ls->opts));
      server->start();
      op->resume([server](lua_State* L) {
        new_object<ServerBox>(L, kServerType, 0, ServerBox{server});
        lua_newtable(L);
        server->clients_ref = luaL_ref(L, LUA_REGISTRYINDEX);
      });
    });
  });
}

}  // namespace

int open_ws(lua_State* L) {
  const luaL_Reg methods[] = {{"send", ws_send},
                              {"recv", ws_recv},
                              {"ping", ws_ping},
                              {"pong", ws_pong},
                              {"close", ws_close},
                              {"set_timeout", ws_set_timeout},
                              {"peer_addr", ws_peer_addr},
                              {"local_addr", ws_local_addr},
                              {"is_open", ws_is_open},
                              {nullptr, nullptr}};
  const luaL_Reg ws_meta[] = {{"__gc", ws_gc}, {"__close", ws_close}, {"__tostring", ws_tostring}, {nullptr, nullptr}};
  new_class(L, kWsType, methods, ws_meta, ws_index);

  const luaL_Reg server_methods[] = {{"accept", server_accept},
                                     {"broadcast", server_broadcast},
                                     {"clients", server_clients},
                                     {"client_count", server_client_count},
                                     {"close", server_close},
                                     {"local_addr", server_local_addr},
                                     {nullptr, nullptr}};
  const luaL_Reg server_meta[] = {
      {"__gc", server_gc}, {"__close", server_close}, {"__tostring", server_tostring}, {nullptr, nullptr}};
  new_class(L, kServerType, server_methods, server_meta, server_index);

  const luaL_Reg spec_meta[] = {{"__gc", spec_gc}, {nullptr, nullptr}};
  new_class(L, kSpecType, nullptr, spec_meta);
  const luaL_Reg listen_spec_meta[] = {{"__gc", listen_spec_gc}, {nullptr, nullptr}};
  new_class(L, kListenSpecType, nullptr, listen_spec_meta);

  const luaL_Reg funcs[] = {{"connect", ws_connect}, {"listen", ws_listen}, {nullptr, nullptr}};
  luaL_newlib(L, funcs);
  return 1;
}

}  // namespace mw::net
