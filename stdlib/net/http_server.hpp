#pragma once
// net.http.listen: the HTTP/1.1 server. Declarations shared by its files:
//   http_server_parse.cpp   request head storage, Beast parser glue, path/query decoding
//   http_server_conn.cpp    one connection: keep-alive loop, body reading, response writing, files
//   http_server_lifecycle.cpp  the connection set on the shared listener: graceful close, deadlines
//   http_server.cpp         the Lua binding: listen, the server, req and writer objects
// Requests on one connection are handled one after another (pipelined requests wait in the
// read buffer), so responses always leave in request order.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/callback.hpp"
#include "runtime/engine.hpp"
#include "runtime/lua.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/net/connect.hpp"
#include "stdlib/net/listener.hpp"

namespace mw::net::httpd {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;
using TlsStream = ssl::stream<Socket>;

// Defaults in line with Node and nginx (docs/net.http.server.md).
struct Limits {
  size_t max_header_size = 16 * 1024;   // request line + headers (Node: 16 KiB) -> 431
  size_t max_headers = 100;             // header lines -> 431
  size_t max_body = 1024 * 1024;        // req:body() (nginx client_max_body_size 1m) -> 413
  int64_t header_timeout_ms = 60000;    // to receive a request's head (Node headersTimeout) -> 408
  int64_t idle_timeout_ms = 5000;       // keep-alive wait for the next request (Node keepAliveTimeout)
  int64_t request_timeout_ms = 300000;  // to receive a whole request, head and body (Node requestTimeout)
  int64_t write_timeout_ms = 60000;     // a write that makes no progress (nginx send_timeout) -> close
  int64_t drain_timeout_ms = 10000;     // SIGINT/SIGTERM: in-flight requests finish within this
  // (TLS handshake_timeout and max_connections are the listener's: ListenConfig)
};

struct HeaderRef {
  uint32_t name, name_len, value, value_len;  // offsets into RequestHead::arena
};

// The parsed request line and headers, kept in one reused arena per connection.
struct RequestHead {
  std::string arena;
  std::vector<HeaderRef> headers;
  uint32_t method_off = 0, method_len = 0, target_off = 0, target_len = 0;
  int version = 11;
  bool is_head = false;
  bool expect_continue = false;
  bool chunked = false;
  std::optional<uint64_t> content_length;

  void clear() {
    arena.clear();
    headers.clear();
    expect_continue = chunked = is_head = false;
    version = 11;
    method_len = target_len = 0;
    content_length.reset();
  }
  std::string_view at(uint32_t off, uint32_t len) const { return {arena.data() + off, len}; }
  std::string_view method() const { return at(method_off, method_len); }
  std::string_view target() const { return at(target_off, target_len); }
  std::string_view name(size_t i) const { return at(headers[i].name, headers[i].name_len); }
  std::string_view value(size_t i) const { return at(headers[i].value, headers[i].value_len); }
  // The first value of the header `lname` (lower case), or empty.
  std::string_view find(std::string_view lname) const;
  bool has_token(std::string_view lname, std::string_view token) const;
};

// Beast's parser with our storage: names lower-cased into the arena, body bytes appended to
// `body` (the connection's body buffer), header count limited.
class RequestParser final : public boost::beast::http::basic_parser<true> {
  using bsv = boost::beast::string_view;

 public:
  RequestParser(RequestHead& head, std::string& body, size_t max_headers) : head_(head), body_(body), max_headers_(max_headers) {}
  uint64_t body_received = 0;
  bool too_many_headers = false;

 private:
  void on_request_impl(boost::beast::http::verb method, bsv method_str, bsv target,
                       int version, error_code& ec) override;
  void on_response_impl(int, bsv, int, error_code&) override {}
  void on_field_impl(boost::beast::http::field f, bsv name, bsv value,
                     error_code& ec) override;
  void on_header_impl(error_code& ec) override;
  void on_body_init_impl(const boost::optional<uint64_t>& length, error_code& ec) override;
  size_t on_body_impl(bsv body, error_code& ec) override;
  void on_chunk_header_impl(uint64_t, bsv, error_code&) override {}
  size_t on_chunk_body_impl(uint64_t, bsv body, error_code& ec) override;
  void on_finish_impl(error_code&) override {}

  RequestHead& head_;
  std::string& body_;
  size_t max_headers_;
};

// Percent-decoding (path: '+' stays; query: '+' is a space).
std::string percent_decode(std::string_view s, bool plus_is_space);
// Pushes the query string as a table: repeated keys become lists.
void push_query(lua_State* L, std::string_view raw);
// Pushes the headers table: lower-case names; repeated ones joined with ", " ("; " for cookie);
// set-cookie always a list.
void push_headers(lua_State* L, const RequestHead& head);
// "Tue, 01 Dec 2026 22:33:15 GMT", cached per second.
std::string_view http_date();
// True if `s` may appear in a header name (an RFC 9110 token) / value (no CR, LF, NUL).
bool valid_header_name(std::string_view s);
bool valid_header_value(std::string_view s);

class Server;
class Conn;

// Request objects name their connection by slot and generation instead of holding a
// shared_ptr: they then need no finalizer (one per request is a real cost for the collector),
// and a request object that outlived its connection finds the slot's generation moved on.
// One table per engine (Engine::state).
class ConnTable {
 public:
  struct Handle {
    uint32_t slot = 0, gen = 0;
  };
  Handle add(Conn* c);
  void remove(Handle h);
  Conn* get(Handle h) const {
    return h.slot < entries_.size() && entries_[h.slot].gen == h.gen ? entries_[h.slot].conn : nullptr;
  }

 private:
  struct Entry {
    Conn* conn = nullptr;
    uint32_t gen = 0;
  };
  std::vector<Entry> entries_;
  std::vector<uint32_t> free_;
};

// One HTTP connection. Plain or TLS; the stream stays a Socket / ssl::stream<Socket> so that a
// WebSocket upgrade can take it over.
class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(Server& server, Accepted&& a);
  ~Conn();

  void start();
  // Closes at once (a read or write in flight fails; waiting Lua calls get "closed").
  void close();
  // Server shutdown: closes now when idle, after the current response otherwise.
  void close_when_idle();
  bool closed() const { return closed_; }
  bool secure() const { return tls_ != nullptr; }
  const std::string& peer() const { return peer_; }
  Server& server() { return server_; }
  ConnTable& table() { return table_; }
  ConnTable::Handle handle() const { return handle_; }

  // --- the current request (seq identifies it; a req object of an earlier one is stale) ---
  uint64_t seq() const { return seq_; }
  bool current(uint64_t seq) const { return seq == seq_ && !closed_ && !upgraded_; }
  const RequestHead& head() const { return head_; }

  // Body reading for req:read / req:body. check: 1 answerable now, 0 must wait, -1 error.
  enum class BodyMode { some, all };
  int body_check(BodyMode mode, size_t n, std::string& code, std::string& msg);
  void body_produce(lua_State* L, BodyMode mode, size_t n);
  void body_wait(const OpPtr& op, BodyMode mode, size_t n);
  bool body_reader_busy() const { return body_reader_ && body_reader_->active(); }
  bool body_complete() const;
  // The request's body did not arrive within request_timeout (its reader got ETIMEDOUT).
  bool request_timed_out() const { return request_timed_out_; }

  // --- responses ---
  enum class Resp { none, streaming, done };
  Resp resp_state() const { return resp_; }
  // Head building: begin_head, add_header (validated by the caller), then one of the finish_*.
  void begin_head(int status);
  bool has_content_type() const { return head_has_type_; }
  void add_header(std::string_view name, std::string_view value);
  // A whole body (string); sends at once.
  void send_body(std::string_view body);
  // A file, from an open fd (owned), `length` bytes from `offset`.
  void send_file(int fd, uint64_t offset, uint64_t length);
  // Streaming: head now; chunked unless the head had content-length.
  void start_stream();
  // Streaming writes (w:write): 1 handed to the kernel at once, 0 queued (op resumed when
  // written), -1 error (code/msg).
  int stream_write(std::string_view data, const OpPtr* op, std::string& code, std::string& msg);
  int stream_finish(std::string& code, std::string& msg);
  // Handler failed before responding: a minimal response (500, 413...), then close.
  void send_error(int status, bool close_after);
  // The handler's task ended (returned or failed) after a streamed response was left open.
  void handler_done();
  // Takes the stream for a WebSocket upgrade (the connection is then finished for HTTP).
  bool upgraded() const { return upgraded_; }
  Socket take_socket();
  const std::shared_ptr<ssl::context>& tls_context() const { return tls_ctx_; }
  std::unique_ptr<TlsStream> take_tls();
  std::string_view buffered() const { return {in_.data() + in_start_, in_end_ - in_start_}; }

  // Sweep (server timer): closes a connection past its deadline.
  void check_deadline(Clock::time_point now);
  // The task running the current request's handler (while it has not finished), and its
  // cancellation at the end of a SIGINT/SIGTERM drain.
  void set_handler(lua_State* thread, uint64_t task_id) { handler_thread_ = thread, handler_task_ = task_id; }
  void cancel_handler();

  std::list<std::shared_ptr<Conn>>::iterator pos;  // in Server::conns

 private:
  enum class Phase { idle, head, handling, draining, closed };
  template <class F>
  void with_stream(F&& f) {
    if (tls_)
      f(*tls_);
    else
      f(sock_);
  }
  void init();
  void next_request();
  void parse();
  void read_more();
  void on_read(const error_code& ec, size_t n);
  void reject(int status);
  void dispatch();
  void finish_head(bool has_body, uint64_t length, bool chunked);
  void write_out(std::string_view extra, bool then_done);
  void flush_out();
  void response_complete();
  void send_file_chunk();
  void log_access();
  void fail_body_reader(std::string code, std::string msg);
  void deliver_body();
  void maybe_continue();
  void write_started() { write_deadline_ = after_ms(server_limits_write()); }
  int64_t server_limits_write() const;
  static Clock::time_point after_ms(int64_t ms);
  void write_timed_out();

  Server& server_;
  ConnTable& table_;
  ConnTable::Handle handle_;
  Socket sock_;
  std::unique_ptr<TlsStream> tls_;
  std::shared_ptr<ssl::context> tls_ctx_;  // alive as long as tls_
  std::shared_ptr<void> slot_;             // counts against the listener's max_connections
  std::string peer_;
  Phase phase_ = Phase::idle;
  bool closed_ = false;
  bool upgraded_ = false;
  bool reading_ = false;
  bool close_after_ = false;  // Connection: close (client, server or us)
  bool graceful_ = false;     // the server is closing: no further requests
  Clock::time_point deadline_;
  Clock::time_point request_start_;
  Clock::time_point write_deadline_ = Clock::time_point::max();  // while writing_
  lua_State* handler_thread_ = nullptr;
  uint64_t handler_task_ = 0;

  // reading
  std::vector<char> in_;
  size_t in_start_ = 0, in_end_ = 0;
  std::optional<RequestParser> parser_;
  RequestHead head_;
  uint64_t seq_ = 0;
  std::string body_;
  size_t body_pos_ = 0;
  std::string read_error_;  // read failure seen while the handler runs
  bool eof_ = false;
  OpPtr body_reader_;
  BodyMode body_mode_ = BodyMode::some;
  size_t body_n_ = 0;
  bool continue_sent_ = false;
  bool request_timed_out_ = false;
  uint64_t drained_ = 0;

  // writing
  Resp resp_ = Resp::none;
  int status_ = 0;
  std::string out_;  // the head being built, then anything not yet written
  struct Pending {
    std::string data;
    OpPtr op;
    size_t off = 0;  // bytes of data already written
  };
  std::deque<Pending> wq_;
  bool writing_ = false;
  bool head_has_length_ = false;
  bool head_has_connection_close_ = false;
  bool head_has_date_ = false;
  bool head_has_type_ = false;
  bool chunked_out_ = false;
  bool no_body_ = false;  // HEAD, 204, 304
  uint64_t declared_length_ = 0;
  uint64_t body_sent_ = 0;
  bool finish_pending_ = false;  // the last write completes the response
  int file_fd_ = -1;
  uint64_t file_off_ = 0, file_left_ = 0;
  std::unique_ptr<char[]> file_buf_;
};

class Server : public std::enable_shared_from_this<Server> {
 public:
  Server(Engine& e) : engine(e), sweep_(e.io()), close_timer_(e.io()) {}
  ~Server();

  Engine& engine;
  Limits limits;
  std::shared_ptr<Listener> listener;
  std::shared_ptr<ssl::context> tls;  // the listener's (reload_tls loads new files into it)
  mw::Callback run_cb;         // the C closure running the handler, one task per request
  mw::Callback log_cb;         // the access_log function
  bool log_stdout = false;
  std::list<std::shared_ptr<Conn>> conns;
  bool closing = false;
  bool closed = false;  // closing and every connection gone
  std::vector<OpPtr> waiters;  // srv:wait()

  void add(std::shared_ptr<Conn> c);
  void remove(Conn* c);
  // Implemented by the binding: runs the handler for c's current request in a new task.
  void dispatch(Conn& c);
  // Implemented by the binding: calls the access_log function with a line.
  void log_line(std::string line);
  void close(int64_t timeout_ms);
  void arm_sweep();
  // Implemented by the binding: drops the Lua references (handler, log function, itself).
  void released();
  // TLS certificate files, reloaded when they change (checked at most once a second, before a
  // handshake); implemented by the binding.
  std::string cert_file, key_file;
  void check_tls_files();
  struct FileSig {
    long long mtime_ns = 0, size = -1, ino = 0;
    bool operator==(const FileSig&) const = default;
  };
  FileSig cert_sig, key_sig;
  Clock::time_point tls_checked;
  // Takes the listener's accepted connections (and its SIGINT/SIGTERM hook).
  void attach(std::shared_ptr<Listener> l);
  int self_ref = LUA_NOREF;  // registry: the server object, while it is open
  int req_mt_ref = LUA_NOREF;  // registry: the request metatable (new_object_ref)

 private:
  void sweep();
  void maybe_finished();
  bool sweeping_ = false;
  asio::steady_timer sweep_;
  asio::steady_timer close_timer_;
  friend class Conn;
};

}  // namespace mw::net::httpd
