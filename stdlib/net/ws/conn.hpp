#pragma once
// net.ws connections, shared by the ws sources (ws/*.cpp) and nothing else: the connection
// (one background read loop into a bounded queue; one write queue), its Lua object, and the
// settings every connection has. Every Beast websocket operation is instantiated in
// ws/conn.cpp only (Conn's methods are not templates): the other ws sources and the HTTP
// server parse these declarations but compile no WebSocket state machine.
//
// Every connection runs one background read loop: incoming messages (and ping/pong/close
// frames, as CopperMoon's recv documents them) go into a bounded queue, so pings are answered
// by Beast whether or not the script reads, and a close from the peer is seen at once. A reader
// waiting in recv() is handed the next message directly from the read buffer (no copy).
// Outgoing frames (data, ping, pong, close) go through one write queue: Beast allows one write
// at a time, and messages from several tasks never interleave. send() returns once Beast has
// handed the frame to the kernel; broadcast() queues without waiting, with a per-client bound.
// Between Beast and the socket sits wslayer::Layer (ws/layer.hpp): our teardown, our answer to
// invalid close codes, and the lingering close that ends every connection after a close frame.
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/lua.hpp"
#include "runtime/pool.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/net/connect.hpp"
#include "stdlib/net/http_common.hpp"
#include "stdlib/net/ws/layer.hpp"

namespace mw {
class Engine;
}

namespace mw::net::ws {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using error_code = boost::system::error_code;
using PlainWs = websocket::stream<wslayer::Layer<Socket>>;  // Socket: see connect.hpp
using TlsWs = websocket::stream<wslayer::Layer<ssl::stream<Socket>>>;
// The upgrade request; its fields from the pool (a handshake parses and frees several).
using Request = http::request<http::empty_body, http::basic_fields<PoolAllocator<char>>>;

inline constexpr const char* kWsType = "moonwire.ws.conn";
inline constexpr size_t kDefaultMaxMessage = 64u * 1024 * 1024;
inline constexpr size_t kDefaultMaxQueue = 1024u * 1024;
inline constexpr int64_t kDefaultCloseTimeout = 5000;

enum Kind : uint8_t { kText, kBinary, kPing, kPong, kClose };

struct Settings {
  size_t max_message = kDefaultMaxMessage;
  size_t max_queue = kDefaultMaxQueue;
  int64_t close_timeout_ms = kDefaultCloseTimeout;
  int64_t ping_interval_ms = -1;
  bool compression = false;
};

// Options every connection has, client or server side (for check_options lists).
#define MW_WS_SETTINGS "max_message", "max_queue", "close_timeout", "ping_interval", "compression"
void read_settings(lua_State* L, int opts, Settings& s);
// A string or a list of strings (option `key` of the table at `opts`); raises on other types.
std::vector<std::string> read_string_list(lua_State* L, int opts, const char* key);

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
//
// Data frames of a server connection without compression are framed by us and written as
// whole frames (several in one gather write): `hdr` holds the header built for this
// connection, or `framed` says the header lies right before `data` (a broadcast frame, built
// once and shared by every client). Everything else (control frames, compressed or client
// messages) is written by Beast.
struct OutMsg {
  Kind kind;
  uint16_t code;
  std::string_view data;
  std::shared_ptr<const std::string> owned;
  OpPtr op;
  int ref = LUA_NOREF;
  bool framed = false;
  uint8_t hdr_len = 0;
  uint8_t hdr[10] = {};
  size_t size() const { return data.size(); }
};

inline OutMsg owned_msg(Kind kind, uint16_t code, std::shared_ptr<const std::string> s) {
  std::string_view d(*s);
  return {kind, code, d, std::move(s), nullptr};
}

// The header of an unmasked, final text/binary frame of `n` bytes, into `h` (10 bytes): its size.
size_t frame_header(uint8_t* h, Kind kind, size_t n);
// A whole broadcast frame (header + payload) built once: `frame`, payload from `hdr_len` on.
struct SharedFrame {
  std::shared_ptr<const std::string> frame;
  size_t hdr_len;
  Kind kind;
};
SharedFrame make_frame(std::string_view payload, Kind kind);

class Group;

// A deque that exists only while it holds something (an idle connection's queues cost 8 bytes
// instead of a map and a node): built from the pool on the first push, freed when emptied.
template <class T>
class LazyDeque {
  using D = std::deque<T, PoolAllocator<T>>;

 public:
  bool empty() const { return !d_ || d_->empty(); }
  size_t size() const { return d_ ? d_->size() : 0; }
  T& front() { return d_->front(); }
  T& back() { return d_->back(); }
  void push_back(T v) {
    if (!d_) d_.emplace();
    d_->push_back(std::move(v));
  }
  void pop_front() {
    d_->pop_front();
    if (d_->empty()) d_.reset();
  }
  void pop_back() {
    d_->pop_back();
    if (d_->empty()) d_.reset();
  }
  void clear() { d_.reset(); }
  typename D::iterator begin() { return d_ ? d_->begin() : typename D::iterator(); }
  typename D::iterator end() { return d_ ? d_->end() : typename D::iterator(); }

 private:
  std::optional<D> d_;
};

// What the client's opening handshake sends.
struct ClientHello {
  std::string host_header;
  std::string target;
  std::string origin;                  // empty: no Origin header
  std::vector<std::string> protocols;  // Sec-WebSocket-Protocol offer
  Headers headers;                     // extra request headers
};

class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(Engine& e, bool server);
  ~Conn();

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
  void close_socket();
  void shutdown_send();

  // Identity and handshake data.
  uint64_t id = 0;
  std::string protocol, path, query, url;
  Headers headers;  // client: response headers (server: see request_headers)
  int status = 101;
  bool accepted = false;  // server side: handed to the script (accept(), upgrade())
  std::weak_ptr<Group> group;  // the client group it belongs to, if any
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

  // Addresses ("ip:port"; empty if unknown), formatted when asked.
  std::string peer_addr() const { return peer_known_ ? endpoint_string(peer_ep_) : std::string(); }
  std::string local_addr() const { return local_known_ ? endpoint_string(local_ep_) : std::string(); }
  // Asks the socket (getpeername, getsockname) for what is not known yet.
  void note_addresses();
  // Server side: the addresses the listener knows already (the peer's from accept()).
  void set_addresses(const tcp::endpoint& peer, const tcp::endpoint* local) {
    peer_ep_ = peer, peer_known_ = true;
    if (local) local_ep_ = *local, local_known_ = true;
  }
  // Sets path, query and url from a request, and keeps it for request_headers.
  void note_request(std::shared_ptr<const Request> req);
  // Server: the request headers (collected from the request on first use); client: `headers`.
  const Headers& request_headers() {
    if (request_) headers = collect_headers(*std::exchange(request_, nullptr));
    return headers;
  }

  // Opening handshakes (the stream, plain or tls, is set). `done` gets the result; on success
  // call start(). Server: answers `req` with 101 (Sec-WebSocket-Protocol = `protocol` if set).
  void async_accept(std::shared_ptr<const Request> req, std::function<void(const error_code&)> done);
  // Client: sends the request and reads the response into `res`.
  void async_handshake(std::shared_ptr<const ClientHello> hello, std::shared_ptr<websocket::response_type> res,
                       std::function<void(const error_code&)> done);

  // After a completed handshake: starts the read loop and keepalive.
  void start();

  // --- reading ---
  // 1 + pushed message; 0: nothing (the caller waits); -1: no more messages (push nothing).
  int take(lua_State* L);
  void wait_for(const OpPtr& op);

  // --- writing ---
  void enqueue(OutMsg m);
  // ws:send's frame straight to the socket, without waiting, when nothing is queued or being
  // written (plain server connections without compression): the bytes written of its
  // `frame_size`. All: sent. 0: send it the usual way (enqueue). Some: enqueue_rest.
  size_t write_now(Kind kind, std::string_view data, size_t& frame_size);
  // The frame of `data` from byte `from` on (the rest of a write_now), sent for `op`; the
  // payload is not copied (as for enqueue: `data` is the waiting sender's string).
  void enqueue_rest(Kind kind, std::string_view data, size_t from, const OpPtr& op);
  size_t queued_bytes() const { return wq_bytes_; }
  // The sender waiting on `op` stops waiting (timeout, cancel) while its frame still points
  // into its Lua string (argument 2 of ws:send): pin that string until the frame is written.
  void pin(Op* op);
  // broadcast: queues without waiting; a client over its bound is closed with 1008.
  // The frame is written as is (shared) when this connection writes its own frames, else
  // its payload goes through Beast (compression, client side). Writes start on the next turn
  // of the loop, so that the frames of a burst of broadcasts go out in one gather write.
  bool offer(const SharedFrame& f);
  // Debug stats (net.ws conn:stats()): capacity of the read buffer, queued frames.
  size_t read_capacity() const { return rbuf_.capacity(); }
  size_t queued_frames() const { return wq_.size(); }

  // --- closing ---
  // Sends a close frame (after queued messages) and completes the handshake, bounded by
  // close_timeout. `op` (optional) is resumed when the connection is closed.
  void start_close(uint16_t code, std::string reason, const OpPtr& op);
  // Ends the connection without (the rest of) a closing handshake: closes the socket at once,
  // or with `linger_first` (our close frame was queued) lingers briefly, see Linger. A peer
  // whose close frame was read is reported with its code, not clean (our answer did not make it).
  void abort(uint16_t code = 1006, std::string reason = "connection aborted", bool linger_first = false);

 private:
  struct PeerClose {
    uint16_t code;
    std::string reason;
    bool valid;
  };
  static void push_msg(lua_State* L, Kind kind, std::string_view data, uint16_t code, bool clean);
  bool paused() const;
  void linger(bool briefly = false);
  void read_loop();
  void start_read();
  void on_read(const error_code& ec);
  void on_read_error(const error_code& ec);
  PeerClose peer_close();
  void on_control(websocket::frame_type k, beast::string_view payload);
  void on_peer_close();
  void deliver();
  void end_reading(uint16_t code, std::string reason, bool clean);
  void pump();
  void write_frames();
  size_t in_flight() const { return writing_ ? std::max<size_t>(batch_, 1) : 0; }
  void unpin(OutMsg& m);
  void on_written(const error_code& ec);
  void end_close_handshake(const error_code& ec);
  static void fail_closed(const OpPtr& op, std::string_view why = {});
  void fail_queue(std::string_view why);
  void write_failed(const error_code& ec);
  void drop_queue_and_close(uint16_t code, const char* reason);
  void finish(std::string_view code, std::string_view message);
  void unregister();
  void leave_group();
  void arm_close_timer();
  void arm_ping();

  Engine& engine_;
  bool server_side_;
  bool registered_ = false;
  // reading
  // Emptied and released after every message (an idle connection holds no read buffer):
  // from the pool, so that costs a free-list push and pop per message.
  beast::basic_flat_buffer<PoolAllocator<char>> rbuf_;
  LazyDeque<InMsg> rq_;
  size_t rq_bytes_ = 0;
  OpPtr reader_;
  bool reading_ = false;
  bool idle_wait_ = false;  // waiting for input before reading (no read buffer meanwhile)
  uint64_t msgs_read_ = 0, controls_read_ = 0;  // frames Beast has handed us (see read_loop)
  std::chrono::steady_clock::time_point read_started_{};  // of the Beast read in progress
  bool waited_long_ = true;  // the last message kept its read waiting (idle connection)
  bool read_ended_ = false;
  bool deliver_posted_ = false;
  uint16_t close_code_ = 0;
  std::optional<std::pair<uint16_t, std::string>> dropped_;  // we closed it: queue overflow
  std::string close_reason_;
  // writing
  LazyDeque<OutMsg> wq_;
  size_t wq_bytes_ = 0;
  bool writing_ = false;
  bool raw_ = false;         // we frame data frames ourselves (server side, no compression)
  bool deflate_ = false;     // permessage-deflate offered and enabled (server side)
  bool pump_posted_ = false;
  size_t batch_ = 0;         // frames of wq_ in the gather write in flight (0: Beast's write)
  asio::const_buffer iov_inline_[4];
  std::unique_ptr<asio::const_buffer[]> iov_heap_;  // kMaxIov, while a long queue drains
  bool close_queued_ = false;
  bool close_started_ = false;  // our close frame handed to Beast
  bool peer_closed_ = false;    // the peer's close frame was read
  bool peer_known_ = false, local_known_ = false;
  std::shared_ptr<const Request> request_;  // until request_headers() collects its headers
  tcp::endpoint peer_ep_, local_ep_;
  bool finished_ = false;
  std::vector<OpPtr> close_waiters_;
  std::unique_ptr<asio::steady_timer> close_timer_;
  // keepalive
  std::unique_ptr<asio::steady_timer> ping_timer_;
  bool alive_ = true;
  bool ping_outstanding_ = false;
};

// --- Lua objects (ws/conn_lua.cpp) ---
struct ConnBox {
  std::shared_ptr<Conn> conn;
};
// Pushes a new connection object (one user value: the cached headers tables).
void push_conn(lua_State* L, std::shared_ptr<Conn> c);
Conn* check_ws(lua_State* L, int idx = 1);
// "text"/"binary" (and "ping"/"pong") at idx; `def` when nil.
Kind check_kind(lua_State* L, int idx, Kind def);
// Registers the connection class (open_ws).
void register_conn_class(lua_State* L);

// Ids of connections outside any group (clients, upgrades without a group): per engine.
uint64_t next_free_id(Engine& e);

// The Lua functions of net.ws, one per source.
int ws_connect(lua_State* L);  // ws/client.cpp
int ws_listen(lua_State* L);   // ws/server.cpp
int ws_group(lua_State* L);    // ws/group.cpp
void register_client_classes(lua_State* L);
void register_server_classes(lua_State* L);
void register_group_class(lua_State* L);
void register_upgrade_classes(lua_State* L);  // ws/upgrade.cpp

}  // namespace mw::net::ws
