// net.tcp (CopperMoon API): connect, listen, accept; read/read_line/read_all/write/... on
// connections; TLS clients and servers, starttls. One reader at a time per connection; writers
// are queued and never interleave; write returns once the kernel has the data.
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <deque>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/pool.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/net/connect.hpp"
#include "stdlib/net/listener.hpp"
#include "stdlib/net/net.hpp"
#include "stdlib/net/proxy.hpp"
#include "stdlib/net/tcp.hpp"
#include "stdlib/net/tls.hpp"
#include "stdlib/buffer.hpp"

namespace mw::net {
namespace {  // this file's types: other net sources have their own Conn and Server

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using error_code = boost::system::error_code;
using TlsStream = ssl::stream<Socket>;  // Socket: see connect.hpp

static constexpr const char* kConnType = "moonwire.tcp.conn";
static constexpr const char* kServerType = "moonwire.tcp.server";
static constexpr size_t kReadChunk = 64 * 1024;
static constexpr size_t kTlsChunk = 16 * 1024;
static constexpr size_t kDefaultReadSize = 4096;
static constexpr size_t kDefaultMaxLine = 1024 * 1024;

enum class ReadKind { some, line, all, exact };
struct ReadReq {
  ReadKind kind = ReadKind::some;
  size_t n = 0;  // some: max bytes; exact: bytes; line: max line length
};

class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(asio::io_context& io, tcp::socket s) : Conn(adopt_socket(io, s)) {}
  explicit Conn(Socket s) : sock_(std::move(s)) { note_addresses(); }
  // From a listener: a plain socket, or a TLS stream whose handshake is done.
  explicit Conn(Accepted&& a) : sock_(a.plain ? std::move(*a.plain) : Socket(a.socket().get_executor())) {
    if (a.tls) {
      tls_ctx_ = std::move(a.tls_context);
      tls_ = std::make_unique<TlsStream>(std::move(*a.tls));
    }
    note_addresses();
  }

  Socket& lowest() { return tls_ ? tls_->next_layer() : sock_; }
  bool is_tls() const { return tls_ != nullptr; }
  bool closed() const { return closed_; }
  const std::string& peer() const { return peer_; }
  const std::string& local() const { return local_; }
  int64_t timeout_ms = -1;
  std::string host;  // the name this connection was opened to (TLS verification)

  // --- reading ---
  bool reader_busy() const { return reader_ && reader_->active(); }
  size_t avail() const { return rbuf_.size() - rpos_; }
  bool has_error() const { return !err_code_.empty(); }
  const std::string& err_code() const { return err_code_; }
  const std::string& err_msg() const { return err_msg_; }

  // 1: the request can be answered now; 0: more data needed; -1: error (err_code/err_msg).
  int check(const ReadReq& r) {
    switch (r.kind) {
      case ReadKind::some:
        return avail() > 0 || eof_ ? 1 : 0;
      case ReadKind::all:
        return eof_ ? 1 : 0;
      case ReadKind::exact:
        if (avail() >= r.n) return 1;
        if (eof_) return set_error("EOF", "connection closed after " + std::to_string(avail()) + " of " +
                                              std::to_string(r.n) + " bytes"), -1;
        return 0;
      case ReadKind::line: {
        auto pos = rbuf_.find('\n', rpos_ + scan_);
        if (pos != std::string::npos && pos - rpos_ > r.n)
          return set_error("ELINE", "line longer than " + std::to_string(r.n) + " bytes"), -1;
        if (pos != std::string::npos) return 1;
        scan_ = avail();
        if (eof_) return 1;
        if (avail() > r.n) return set_error("ELINE", "line longer than " + std::to_string(r.n) + " bytes"), -1;
        return 0;
      }
    }
    return 0;
  }

  // Pushes the answer to `r` (check(r) == 1) and consumes it from the buffer.
  void produce(lua_State* L, const ReadReq& r) {
    const char* base = rbuf_.data() + rpos_;
    size_t take = 0;
    switch (r.kind) {
      case ReadKind::some:
        if (avail() == 0) return lua_pushnil(L);
        take = std::min(r.n, avail());
        lua_pushlstring(L, base, take);
        break;
      case ReadKind::all:
        take = avail();
        lua_pushlstring(L, base, take);
        break;
      case ReadKind::exact:
        take = r.n;
        lua_pushlstring(L, base, take);
        break;
      case ReadKind::line: {
        auto pos = rbuf_.find('\n', rpos_ + scan_);
        if (pos == std::string::npos) {  // EOF: the last line has no newline
          if (avail() == 0) return lua_pushnil(L);
          take = avail();
          lua_pushlstring(L, base, take);
          break;
        }
        size_t len = pos - rpos_;
        take = len + 1;
        if (len > 0 && base[len - 1] == '\r') --len;
        lua_pushlstring(L, base, len);
        break;
      }
    }
    rpos_ += take;
    scan_ = 0;
    if (rpos_ == rbuf_.size()) {
      rbuf_.clear();
      rpos_ = 0;
      if (rbuf_.capacity() > kReadChunk) rbuf_.shrink_to_fit();  // after a big read_all
    }
  }

  // Plain sockets: takes what the kernel has now, without waiting. Reads into one shared
  // scratch buffer (Lua runs on one thread) and keeps only the bytes received, so an idle
  // connection holds no buffer at all.
  void read_now() {
    if (tls_ || eof_ || has_error() || closed_) return;
    static char scratch[kReadChunk];
    error_code ec;
    size_t n = sock_.read_some(asio::buffer(scratch, sizeof scratch), ec);
    if (n > 0) {
      compact();
      rbuf_.append(scratch, n);
    }
    if (ec == asio::error::eof)
      eof_ = true;
    else if (ec && ec != asio::error::would_block && ec != asio::error::try_again)
      set_error(ec, "read");
  }

  void wait_for(const OpPtr& op, const ReadReq& r) {
    reader_ = op;
    req_ = r;
    // A reader that gives up (timeout, cancelled task, shutdown) also stops the socket read,
    // so nothing keeps the loop alive for it. Bytes already read are kept for the next read.
    // (A raw `this` fits in std::function without an allocation; the reader's stack holds the
    // connection object while the op can be abandoned.)
    op->on_abandon([this] { read_cancel_.emit(asio::cancellation_type::terminal); });
    want_data();
  }

  // --- writing ---
  bool write_failed() const { return !werr_code_.empty(); }
  const std::string& werr_code() const { return werr_code_; }
  const std::string& werr_msg() const { return werr_msg_; }
  bool write_idle() const { return !writing_ && wq_.empty(); }

  // Plain sockets: writes what the kernel accepts now. Returns bytes written; sets the write
  // error on failure.
  size_t write_now(std::string_view data) {
    if (tls_) return 0;
    error_code ec;
    size_t n = sock_.write_some(asio::buffer(data.data(), data.size()), ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) set_write_error(ec);
    return ec ? 0 : n;
  }

  void queue_write(const OpPtr& op, std::string_view rest, size_t total) {
    wq_.push_back({op, std::string(rest), total});
    pump();
  }

  // --- lifecycle ---
  void close() {
    if (closed_) return;
    closed_ = true;
    error_code ec;
    lowest().close(ec);
    // Take the waiting ops out first: failing one may resume its task at once, which may
    // call back into this connection.
    std::vector<OpPtr> waiting;
    if (reader_busy()) waiting.push_back(reader_);
    reader_.reset();
    for (auto& w : wq_)
      if (w.op) waiting.push_back(std::move(w.op));
    if (!writing_) wq_.clear();
    for (auto& op : waiting) op->fail(kClosed, "connection closed");
  }

  void shutdown(tcp::socket::shutdown_type how, error_code& ec) { lowest().shutdown(how, ec); }

  // Wraps the socket in TLS (client or server side).
  void make_tls(std::shared_ptr<ssl::context> ctx) {
    tls_ctx_ = std::move(ctx);
    tls_ = std::make_unique<TlsStream>(std::move(sock_), *tls_ctx_);
  }
  TlsStream& tls() { return *tls_; }

 private:
  void note_addresses() {
    error_code ec;
    sock_.non_blocking(true, ec);  // plain sockets only: read_now/write_now
    auto peer = lowest().remote_endpoint(ec);
    if (!ec) peer_ = endpoint_string(peer);
    auto local = lowest().local_endpoint(ec);
    if (!ec) local_ = endpoint_string(local);
  }

  struct WriteReq {
    OpPtr op;  // null once its writer gave up (the data is still sent, in order)
    std::string data;
    size_t total;
  };

  int set_error(std::string code, std::string msg) {
    err_code_ = std::move(code);
    err_msg_ = std::move(msg);
    return -1;
  }
  void set_error(const error_code& ec, const char* what) {
    set_error(error_code_name(ec), std::string(what) + ": " + error_text(ec));
  }
  void set_write_error(const error_code& ec) {
    werr_code_ = closed_ ? kClosed : error_code_name(ec);
    werr_msg_ = closed_ ? "connection closed" : "write: " + error_text(ec);
  }

  void compact() {
    if (rpos_ > 0 && (rpos_ == rbuf_.size() || rpos_ > rbuf_.size() / 2)) {
      rbuf_.erase(0, rpos_);
      rpos_ = 0;
    }
  }

  void want_data() {
    auto self = shared_from_this();
    if (!tls_) {
      if (waiting_) return;
      waiting_ = true;
      if (delivering_) {
        // The task that just got data has likely replied already: reading right now would
        // almost always find nothing (a wasted recv). Read after the handlers already queued.
        asio::post(sock_.get_executor(), pooled([self] {
          if (self->closed_ || !self->reader_busy()) {  // closed, or the reader gave up meanwhile
            self->waiting_ = false;
            return;
          }
          self->start_read();
        }));
        return;
      }
      start_read();
      return;
    }
    if (waiting_) return;
    waiting_ = true;
    if (!tls_scratch_) tls_scratch_ = std::make_unique<char[]>(kTlsChunk);
    auto on_read = [self](const error_code& ec, size_t n) {
      self->waiting_ = false;
      if (self->closed_) return;
      self->rbuf_.append(self->tls_scratch_.get(), n);
      if (ec == asio::error::eof || ec == ssl::error::stream_truncated)
        self->eof_ = true;
      else if (ec && ec != asio::error::operation_aborted)
        self->set_error(ec, "read");
      if (self->reader_busy()) self->deliver();
    };
    tls_->async_read_some(asio::buffer(tls_scratch_.get(), kTlsChunk),
                          asio::bind_cancellation_slot(read_cancel_.slot(), pooled(std::move(on_read))));
  }

  // Plain sockets: async_read_some (not async_wait): Asio then tries the read at once and needs
  // no epoll_ctl per wait. A small inline buffer; a full one means more may be waiting.
  void start_read() {
    auto on_read = [self = shared_from_this()](const error_code& ec, size_t n) {
      self->waiting_ = false;
      if (self->closed_) return;
      if (n > 0) {
        self->compact();
        self->rbuf_.append(self->inbuf_, n);
        if (n == sizeof self->inbuf_) self->read_now();
      }
      if (ec == asio::error::eof)
        self->eof_ = true;
      else if (ec && ec != asio::error::operation_aborted)
        self->set_error(ec, "read");
      if (self->reader_busy()) self->deliver();  // else the data waits for the next read
    };
    sock_.async_read_some(asio::buffer(inbuf_, sizeof inbuf_),
                          asio::bind_cancellation_slot(read_cancel_.slot(), pooled(std::move(on_read))));
  }

  // New data, EOF or an error arrived while a reader waits.
  void deliver() {
    int st = check(req_);
    if (st == 0 && has_error()) st = -1;
    if (st == 0) return want_data();
    OpPtr op = std::move(reader_);
    if (st < 0) return op->fail(err_code_, err_msg_);
    auto self = shared_from_this();
    delivering_ = true;  // the reader runs inline: see want_data
    op->resume([self](lua_State* L) { self->produce(L, self->req_); });
    delivering_ = false;
  }

  template <class F>
  void with_stream(F&& f) {
    if (tls_)
      f(*tls_);
    else
      f(sock_);
  }

  void pump() {
    if (writing_ || wq_.empty() || closed_) return;
    writing_ = true;
    auto self = shared_from_this();
    with_stream([&](auto& stream) {
      asio::async_write(stream, asio::buffer(wq_.front().data), pooled([self](const error_code& ec, size_t) {
        self->writing_ = false;
        if (ec || self->closed_) {
          if (ec) self->set_write_error(ec);
          auto failed = std::move(self->wq_);
          self->wq_.clear();
          std::string code = self->werr_code_.empty() ? kClosed : self->werr_code_;
          for (auto& w : failed)
            if (w.op) w.op->fail(code, self->werr_msg_);
          return;
        }
        WriteReq done = std::move(self->wq_.front());
        self->wq_.pop_front();
        if (done.op) done.op->resume([n = done.total](lua_State* L) { lua_pushinteger(L, static_cast<lua_Integer>(n)); });
        self->pump();
      }));
    });
  }

  Socket sock_;
  std::shared_ptr<ssl::context> tls_ctx_;
  std::unique_ptr<TlsStream> tls_;
  std::unique_ptr<char[]> tls_scratch_;
  asio::cancellation_signal read_cancel_;
  char inbuf_[1024];
  std::string peer_, local_;
  bool closed_ = false;
  // reading
  std::string rbuf_;
  size_t rpos_ = 0;
  size_t scan_ = 0;  // bytes after rpos_ already searched for '\n'
  bool eof_ = false;
  bool waiting_ = false;  // an async wait/read is in flight
  bool delivering_ = false;  // deliver() is resuming the reader
  std::string err_code_, err_msg_;
  OpPtr reader_;
  ReadReq req_;
  // writing
  std::deque<WriteReq> wq_;
  bool writing_ = false;
  std::string werr_code_, werr_msg_;
};

struct ConnBox {
  std::shared_ptr<Conn> conn;
};

static void push_conn(lua_State* L, std::shared_ptr<Conn> c) { new_object<ConnBox>(L, kConnType, 0, ConnBox{std::move(c)}); }

static Conn* check_conn(lua_State* L) { return static_cast<ConnBox*>(check_udata(L, 1, kConnType))->conn.get(); }

static Conn* check_open_conn(lua_State* L) {
  Conn* c = check_conn(L);
  if (c->closed()) raise(L, kClosed, "connection is closed");
  return c;
}

// --- reading ---------------------------------------------------------------------------------

static int do_read(lua_State* L, Conn* c, ReadReq r, const char* what) {
  if (c->reader_busy()) raisef(L, kBusy, "%s: another task is already reading from this connection", what);
  int st = c->check(r);
  if (st == 1) {
    c->produce(L, r);
    return complete_now(L, 1);
  }
  if (st < 0 || c->has_error()) raise(L, c->err_code(), c->err_msg());
  return suspend(L, what, c->timeout_ms, [&](const OpPtr& op) { c->wait_for(op, r); });
}

static int conn_read(lua_State* L) {
  Conn* c = check_open_conn(L);
  lua_Integer n = luaL_optinteger(L, 2, kDefaultReadSize);
  check_value(L, n > 0, 2, "size must be positive");
  return do_read(L, c, {ReadKind::some, static_cast<size_t>(n)}, "read");
}

static int conn_read_exactly(lua_State* L) {
  Conn* c = check_open_conn(L);
  lua_Integer n = luaL_checkinteger(L, 2);
  check_value(L, n >= 0, 2, "size must be >= 0");
  if (n == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  return do_read(L, c, {ReadKind::exact, static_cast<size_t>(n)}, "read_exactly");
}

static int conn_read_line(lua_State* L) {
  Conn* c = check_open_conn(L);
  lua_Integer max = luaL_optinteger(L, 2, kDefaultMaxLine);
  check_value(L, max > 0, 2, "max length must be positive");
  return do_read(L, c, {ReadKind::line, static_cast<size_t>(max)}, "read_line");
}

static int conn_read_all(lua_State* L) {
  Conn* c = check_open_conn(L);
  return do_read(L, c, {ReadKind::all, 0}, "read_all");
}

// --- writing ---------------------------------------------------------------------------------

static int do_write(lua_State* L, bool return_count) {
  Conn* c = check_open_conn(L);
  std::string_view data = check_data(L, 2);
  if (c->write_failed()) raise(L, c->werr_code(), c->werr_msg());
  size_t total = data.size();
  if (c->write_idle() && !c->is_tls()) {
    size_t n = total ? c->write_now(data) : 0;
    if (c->write_failed()) raise(L, c->werr_code(), c->werr_msg());
    if (n == total) {
      if (return_count) lua_pushinteger(L, static_cast<lua_Integer>(total));
      return complete_now(L, return_count ? 1 : 0);
    }
    data.remove_prefix(n);
  }
  lua_settop(L, 2);
  return suspend(L, "write", c->timeout_ms, [&](const OpPtr& op) { c->queue_write(op, data, total); });
}

static int conn_write(lua_State* L) { return do_write(L, true); }

static int conn_write_all(lua_State* L) {
  int n = do_write(L, false);
  return n;
}

static int conn_flush(lua_State* L) {
  Conn* c = check_open_conn(L);
  if (c->write_failed()) raise(L, c->werr_code(), c->werr_msg());
  if (c->write_idle()) return 0;
  return suspend(L, "flush", c->timeout_ms, [&](const OpPtr& op) { c->queue_write(op, {}, 0); });
}

// --- misc ------------------------------------------------------------------------------------

static int conn_close(lua_State* L) {
  check_conn(L)->close();
  return 0;
}

static int conn_gc(lua_State* L) {
  auto* box = static_cast<ConnBox*>(test_udata(L, 1, kConnType));
  if (box && box->conn) box->conn->close();
  return gc_object<ConnBox>(L, kConnType);
}

static int conn_shutdown(lua_State* L) {
  Conn* c = check_open_conn(L);
  static const char* const names[] = {"write", "read", "both", nullptr};
  static const tcp::socket::shutdown_type types[] = {tcp::socket::shutdown_send, tcp::socket::shutdown_receive,
                                                     tcp::socket::shutdown_both};
  int how = luaL_checkoption(L, 2, "write", names);
  error_code ec;
  c->shutdown(types[how], ec);
  if (ec && ec != asio::error::not_connected) raise(L, error_code_name(ec), "shutdown failed");
  return 0;
}


static int conn_set_timeout(lua_State* L) {
  Conn* c = check_conn(L);
  c->timeout_ms = opt_timeout_ms(L, 2);
  return 0;
}

static int conn_set_nodelay(lua_State* L) {
  Conn* c = check_open_conn(L);
  error_code ec;
  c->lowest().set_option(tcp::no_delay(lua_toboolean(L, 2)), ec);
  return 0;
}

static int conn_set_keepalive(lua_State* L) {
  Conn* c = check_open_conn(L);
  error_code ec;
  c->lowest().set_option(asio::socket_base::keep_alive(lua_toboolean(L, 2)), ec);
  return 0;
}

static int conn_peer_addr(lua_State* L) {
  push_sv(L, check_conn(L)->peer());
  return 1;
}

static int conn_local_addr(lua_State* L) {
  push_sv(L, check_conn(L)->local());
  return 1;
}

static int conn_is_tls(lua_State* L) {
  lua_pushboolean(L, check_conn(L)->is_tls());
  return 1;
}

static int conn_tostring(lua_State* L) {
  Conn* c = check_conn(L);
  lua_pushfstring(L, "tcp.conn (%s -> %s%s)", c->local().c_str(), c->peer().c_str(), c->closed() ? ", closed" : "");
  return 1;
}

// Runs the TLS handshake on `c` as part of op; on failure the op fails with ETLS/ECERT.
static void handshake(const OpPtr& op, std::shared_ptr<Conn> c, ssl::stream_base::handshake_type type) {
  op->on_abandon([c] { c->close(); });
  c->tls().async_handshake(type, [op, c](const error_code& ec) {
    if (!op->active()) return;
    if (ec) {
      std::string code, msg;
      tls::describe_handshake_error(c->tls().native_handle(), ec, code, msg);
      c->close();
      return op->fail(code, msg);
    }
    op->resume([c](lua_State* L) { push_conn(L, c); });
  });
}

// Inside an op's start: the TLS context for the options at stack index `idx`, or null after
// failing the op with ETLS (unreadable certificate files, ...).
static std::shared_ptr<ssl::context> tls_context(lua_State* L, int idx, bool server, tls::Options* out,
                                                 const OpPtr& op) {
  std::string error;
  *out = tls::read_options(L, idx, false);  // validated before the op started
  out->enabled = true;
  auto ctx = server ? tls::server_context(*out, error) : tls::client_context(*out, error);
  if (!ctx) op->fail("ETLS", error);
  return ctx;
}

// Whether the option value at idx asks for TLS (anything but nil and false).
static bool wants_tls(lua_State* L, int idx) { return !lua_isnil(L, idx) && !(lua_isboolean(L, idx) && !lua_toboolean(L, idx)); }

static int conn_starttls(lua_State* L) {
  Conn* c = check_open_conn(L);
  if (c->is_tls()) raise(L, "EINVAL", "starttls: connection already uses TLS");
  if (c->reader_busy() || !c->write_idle()) raise(L, kBusy, "starttls: reads or writes are in progress");
  if (c->avail() > 0) raise(L, "EINVAL", "starttls: unread plaintext data is buffered");
  static const char* const known[] = {"server", "timeout", "enabled", "verify", "ca_file", "cert_file", "key_file",
                                      "server_name", nullptr};
  check_options(L, 2, "starttls", known);
  bool server = opt_bool_field(L, 2, "server", false);
  int64_t timeout = opt_timeout_field(L, 2, "timeout", c->timeout_ms);
  lua_settop(L, 2);
  tls::validate_options(L, 2, false);
  return suspend(L, "starttls", timeout, [&](const OpPtr& op) {
    tls::Options o;
    auto ctx = tls_context(L, 2, server, &o, op);
    if (!ctx) return;
    auto self = c->shared_from_this();
    self->make_tls(std::move(ctx));
    if (!server) {
      std::string err;
      if (!tls::prepare_client(self->tls(), o, self->host, err)) return op->fail("ETLS", err);
    }
    handshake(op, self, server ? ssl::stream_base::server : ssl::stream_base::client);
  });
}

// --- connect ---------------------------------------------------------------------------------

// net.tcp.connect(host, port[, {timeout, tls, proxy, nodelay}])
static int tcp_connect(lua_State* L) {
  std::string_view host = check_sv(L, 1);
  uint16_t port = check_port(L, 2);
  if (host.empty()) raise(L, "EINVAL", "net.tcp.connect: host must not be empty");
  if (port == 0) raise(L, "EINVAL", "net.tcp.connect: port 0 is not a port to connect to");
  static const char* const known[] = {"timeout", "tls", "proxy", "nodelay", nullptr};
  check_options(L, 3, "net.tcp.connect", known);
  int64_t timeout = opt_timeout_field(L, 3, "timeout", kForever);
  bool nodelay = opt_bool_field(L, 3, "nodelay", true);
  get_field(L, 3, "tls");  // 4: tls option value
  lua_settop(L, 4);
  tls::validate_options(L, 4);
  return suspend(L, "connect", timeout, [&](const OpPtr& op) {
    tls::Options o;
    std::shared_ptr<ssl::context> ctx;
    if (wants_tls(L, 4) && !(ctx = tls_context(L, 4, false, &o, op))) return;
    std::optional<ProxySpec> proxy;
    std::string proxy_error;
    if (!proxy_option(L, 3, proxy, proxy_error)) return op->fail("EINVAL", proxy_error);
    auto sock = std::make_shared<tcp::socket>(op->engine().io());
    op->on_abandon([sock] {
      error_code ec;
      sock->close(ec);
    });
    std::string h(host);
    async_connect(op->engine().io(), sock, h, port, proxy, [op, sock, ctx, o, h, nodelay](ConnectError err) {
      if (!op->active()) return;
      if (err) return op->fail(err.code, err.message);
      error_code ec;
      sock->set_option(tcp::no_delay(nodelay), ec);
      auto c = std::make_shared<Conn>(op->engine().io(), std::move(*sock));
      c->host = h;
      if (!ctx) return op->resume([c](lua_State* L) { push_conn(L, c); });
      c->make_tls(ctx);
      std::string terr;
      if (!tls::prepare_client(c->tls(), o, h, terr)) return op->fail("ETLS", terr);
      handshake(op, c, ssl::stream_base::client);
    });
  });
}

// --- server ----------------------------------------------------------------------------------

class Server : public std::enable_shared_from_this<Server> {
 public:
  explicit Server(std::shared_ptr<Listener> l) : listener_(std::move(l)) {}
  ~Server() { close(); }

  // The listener's handlers hold `this`: it never calls them once closed, and ~Server closes it.
  void start() {
    listener_->on_demand([this](size_t handshaking) {
      // Plain: accept only for a waiting task (the rest wait in the kernel's queue). TLS:
      // also handshake ahead in the background, up to a bound.
      return waiter_busy() || (listener_->config().tls && ready_.size() + handshaking < 64);
    });
    listener_->on_accept([this](Accepted&& a) { offer(std::make_shared<Conn>(std::move(a))); });
    listener_->on_error([this](const error_code& ec) {
      if (waiter_busy()) std::exchange(waiter_, nullptr)->fail(ec, "accept");
    });
    listener_->on_shutdown([this] { close(); });
    listener_->pump();
  }

  const tcp::endpoint& local() const { return listener_->local(); }
  bool closed() const { return closed_; }
  bool waiter_busy() const { return waiter_ && waiter_->active(); }

  std::shared_ptr<Conn> take_ready() {
    if (ready_.empty()) return nullptr;
    auto c = std::move(ready_.front());
    ready_.pop_front();
    listener_->pump();
    return c;
  }

  void wait(const OpPtr& op) {
    waiter_ = op;
    listener_->pump();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    listener_->close();
    auto ready = std::move(ready_);
    ready_.clear();
    for (auto& c : ready) c->close();
    if (OpPtr w = std::exchange(waiter_, nullptr); w && w->active()) w->fail(kClosed, "server closed");
  }

 private:
  void offer(std::shared_ptr<Conn> c) {
    if (waiter_busy()) {
      std::exchange(waiter_, nullptr)->resume([c](lua_State* L) { push_conn(L, c); });
    } else {
      ready_.push_back(std::move(c));
    }
  }

  std::shared_ptr<Listener> listener_;
  std::deque<std::shared_ptr<Conn>> ready_;
  OpPtr waiter_;
  bool closed_ = false;
};

struct ServerBox {
  std::shared_ptr<Server> server;
};

static Server* check_server(lua_State* L) {
  return static_cast<ServerBox*>(check_udata(L, 1, kServerType))->server.get();
}

static int server_accept(lua_State* L) {
  Server* s = check_server(L);
  int64_t timeout = opt_timeout_ms(L, 2);
  if (s->closed()) raise(L, kClosed, "server is closed");
  if (s->waiter_busy()) raise(L, kBusy, "accept: another task is already accepting on this server");
  lua_settop(L, 1);
  if (auto c = s->take_ready()) {
    push_conn(L, std::move(c));
    return complete_now(L, 1);
  }
  return suspend(L, "accept", timeout, [&](const OpPtr& op) { s->wait(op); });
}

static int server_close(lua_State* L) {
  check_server(L)->close();
  return 0;
}

static int server_gc(lua_State* L) { return gc_object<ServerBox>(L, kServerType); }

static int server_local_addr(lua_State* L) {
  auto ep = check_server(L)->local();
  lua_pushstring(L, endpoint_string(ep).c_str());
  return 1;
}

static int server_index(lua_State* L) {
  Server* s = check_server(L);
  std::string_view key = check_sv(L, 2);
  if (key == "port") {
    lua_pushinteger(L, s->local().port());
    return 1;
  }
  if (key == "host") {
    lua_pushstring(L, s->local().address().to_string().c_str());
    return 1;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  return 1;
}

static int server_tostring(lua_State* L) {
  Server* s = check_server(L);
  lua_pushfstring(L, "tcp.server (%s%s)", endpoint_string(s->local()).c_str(), s->closed() ? ", closed" : "");
  return 1;
}

// net.tcp.listen([host,] port[, {backlog, reuseport, ipv6_only, tls, handshake_timeout}])
static int tcp_listen(lua_State* L) {
  normalize_listen_args(L, "net.tcp.listen");
  static const char* const known[] = {MW_LISTEN_OPTION_KEYS, "tls", nullptr};
  check_options(L, 3, "net.tcp.listen", known);
  ListenConfig cfg;
  read_listen_options(L, 3, cfg);
  cfg.port = static_cast<uint16_t>(lua_tointeger(L, 2));
  get_field(L, 3, "tls");  // 4
  lua_settop(L, 4);
  tls::validate_options(L, 4);
  return suspend(L, "listen", -1, [&](const OpPtr& op) {
    tls::Options o;
    if (wants_tls(L, 4) && !(cfg.tls = tls_context(L, 4, true, &o, op))) return;
    cfg.host = std::string(to_sv(L, 1));
    Listener::open(op->engine(), std::move(cfg), [op](std::shared_ptr<Listener> l, ListenError err) {
      if (!op->active()) return;
      if (!l) return op->fail(err.code, err.message);
      auto server = std::make_shared<Server>(std::move(l));
      server->start();
      op->resume([server](lua_State* L) { new_object<ServerBox>(L, kServerType, 0, ServerBox{server}); });
    });
  });
}

}  // namespace

int open_tcp(lua_State* L) {
  const luaL_Reg conn_methods[] = {{"read", conn_read},
                                   {"read_line", conn_read_line},
                                   {"read_all", conn_read_all},
                                   {"read_exactly", conn_read_exactly},
                                   {"write", conn_write},
                                   {"write_all", conn_write_all},
                                   {"flush", conn_flush},
                                   {"close", conn_close},
                                   {"shutdown", conn_shutdown},
                                   {"set_timeout", conn_set_timeout},
                                   {"set_nodelay", conn_set_nodelay},
                                   {"set_keepalive", conn_set_keepalive},
                                   {"peer_addr", conn_peer_addr},
                                   {"local_addr", conn_local_addr},
                                   {"is_tls", conn_is_tls},
                                   {"starttls", conn_starttls},
                                   {nullptr, nullptr}};
  const luaL_Reg conn_meta[] = {
      {"__gc", conn_gc}, {"__close", conn_close}, {"__tostring", conn_tostring}, {nullptr, nullptr}};
  new_class(L, kConnType, conn_methods, conn_meta);

  const luaL_Reg server_methods[] = {
      {"accept", server_accept}, {"close", server_close}, {"local_addr", server_local_addr}, {nullptr, nullptr}};
  const luaL_Reg server_meta[] = {
      {"__gc", server_gc}, {"__close", server_close}, {"__tostring", server_tostring}, {nullptr, nullptr}};
  new_class(L, kServerType, server_methods, server_meta, server_index);

  const luaL_Reg funcs[] = {{"connect", tcp_connect}, {"listen", tcp_listen}, {nullptr, nullptr}};
  luaL_newlib(L, funcs);
  return 1;
}

}  // namespace mw::net

namespace mw::net {

void push_tcp_conn(lua_State* L, boost::asio::ip::tcp::socket sock, std::string host) {
  auto c = std::make_shared<Conn>(Engine::of(L).io(), std::move(sock));
  c->host = std::move(host);
  push_conn(L, std::move(c));
}

}  // namespace mw::net
