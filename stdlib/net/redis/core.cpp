// redis core (`_redis_core`): one RESP connection. Commands from any number of tasks are
// appended to one write buffer and flushed together on the next loop turn (auto-pipelining);
// replies are matched to their callers in order. A connection in push mode (pub/sub) queues
// every reply for recv instead. The client surface (reconnect, pool, pub/sub objects, command
// methods) is Lua: stdlib/lua/redis.lua.
#include <sys/socket.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/pool.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/net/connect.hpp"
#include "stdlib/net/redis/redis.hpp"
#include "stdlib/net/redis/resp.hpp"
#include "stdlib/net/tls.hpp"

namespace mw::net {
namespace {  // this file's types

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using error_code = boost::system::error_code;
using TlsStream = ssl::stream<Socket>;

constexpr const char* kType = "moonwire.redis.conn";
constexpr size_t kChunk = 64 * 1024;
char kDeadKey;  // the light userdata returned by calls on a lost connection
char kNullKey;  // registry: the null sentinel for nulls inside aggregates (json.null)

void push_null(lua_State* L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &kNullKey) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_pushlightuserdata(L, &kNullKey);
  }
}

// --- replies to Lua ----------------------------------------------------------------------------

// The CR of the line starting at p[pos] (the reply was scanned: the CRLF is there).
size_t line_end(const char* p, size_t n, size_t pos) {
  for (;;) {
    const char* cr = static_cast<const char*>(std::memchr(p + pos, '\r', n - pos));
    if (!cr || cr + 1 >= p + n) return n;
    if (cr[1] == '\n') return cr - p;
    pos = cr - p + 1;
  }
}

int64_t to_int(const char* b, const char* e) {
  int64_t v = 0;
  std::from_chars(b, e, v);
  return v;
}

void push_error_reply(lua_State* L, std::string_view text) { push_error(L, redis::error_code(text), text, 0); }

// Pushes the reply at p[pos] (complete: found by redis::scan) and returns the position after it.
// `top`: a null is nil (else the null sentinel, so arrays keep their length).
size_t push_reply(lua_State* L, const char* p, size_t n_all, size_t pos, bool top, int depth) {
  luaL_checkstack(L, 4, "redis reply");
  char type = p[pos];
  size_t eol = line_end(p, n_all, pos + 1);
  const char* b = p + pos + 1;
  const char* e = p + eol;
  size_t next = eol + 2;
  switch (type) {
    case '+':
    case '(':
      lua_pushlstring(L, b, e - b);
      return next;
    case '-':
      push_error_reply(L, std::string_view(b, e - b));
      return next;
    case ':':
      lua_pushinteger(L, to_int(b, e));
      return next;
    case '_':
      if (top) lua_pushnil(L); else push_null(L);
      return next;
    case '#':
      lua_pushboolean(L, e > b && *b == 't');
      return next;
    case ',': {
      std::string s(b, e);
      lua_pushnumber(L, std::strtod(s.c_str(), nullptr));
      return next;
    }
    case '$': case '=': case '!': {
      int64_t n = to_int(b, e);
      if (n < 0) {
        if (top) lua_pushnil(L); else push_null(L);
        return next;
      }
      const char* s = p + next;
      size_t len = static_cast<size_t>(n);
      if (type == '=' && len >= 4 && s[3] == ':') s += 4, len -= 4;
      if (type == '!') push_error_reply(L, std::string_view(s, len));
      else lua_pushlstring(L, s, len);
      return next + static_cast<size_t>(n) + 2;
    }
    case '*': case '~': case '>': case '%': case '|': {
      int64_t n = to_int(b, e);
      if (n < 0) {
        if (top) lua_pushnil(L); else push_null(L);
        return next;
      }
      // depth: scan refused replies nested deeper than kMaxDepth (no Lua error may be raised here)
      bool map = type == '%' || type == '|';
      lua_createtable(L, map ? 0 : static_cast<int>(std::min<int64_t>(n, 1 << 20)), map ? static_cast<int>(std::min<int64_t>(n, 1 << 20)) : 0);
      for (int64_t i = 1; i <= n; ++i) {
        next = push_reply(L, p, n_all, next, false, depth + 1);
        if (map) {
          next = push_reply(L, p, n_all, next, false, depth + 1);
          if (lua_isnil(L, -2)) lua_pop(L, 2); else lua_rawset(L, -3);
        } else {
          lua_rawseti(L, -2, i);
        }
      }
      if (type == '|') {  // attributes: dropped, the value follows
        lua_pop(L, 1);
        return push_reply(L, p, n_all, next, top, depth);
      }
      return next;
    }
  }
  lua_pushnil(L);  // not reached: scan accepted only the types above
  return next;
}

// The stack level of the first frame outside this module (C functions and redis.lua), so an
// error reply names the user's line, not the client's.
int user_level(lua_State* L) {
  lua_Debug ar;
  for (int lvl = 0; lua_getstack(L, lvl, &ar); ++lvl) {
    lua_getinfo(L, "S", &ar);
    if (ar.what[0] == 'C' || std::strncmp(ar.source, "@[moonwire]/redis.lua", 21) == 0) continue;
    return lvl;
  }
  return 0;
}

void fail_user(const OpPtr& op, const std::string& code, const std::string& msg) {
  op->fail_with([code, msg](lua_State* L) { push_error(L, code, msg, user_level(L)); });
}

// --- the connection ----------------------------------------------------------------------------

struct Pending {
  OpPtr op;   // null or inactive: the caller gave up; the replies are read and dropped
  int count;  // replies expected
  bool batch;  // a list of replies (errors as values), else one reply (an error reply raises)
};

class Conn : public std::enable_shared_from_this<Conn> {
 public:
  explicit Conn(Socket s) : sock_(std::move(s)) {}

  Socket& lowest() { return tls_ ? tls_->next_layer() : sock_; }
  void make_tls(std::shared_ptr<ssl::context> ctx) {
    ctx_ = std::move(ctx);
    tls_ = std::make_unique<TlsStream>(std::move(sock_), *ctx_);
  }
  TlsStream& tls() { return *tls_; }

  bool dead() const { return closed_ || !dead_code_.empty(); }
  bool closed() const { return closed_; }
  const std::string& dead_code() const { return dead_code_; }
  const std::string& dead_msg() const { return dead_msg_; }
  size_t pending() const { return pending_.size(); }
  bool push_mode = false;
  uint64_t commands = 0;

  // Before a command on a connection with nothing in flight: a server that went away while we
  // were idle has sent FIN already; notice it now, so the caller reconnects instead of losing
  // the command.
  bool check_idle() {
    if (dead()) return false;
    if (!pending_.empty() || reading_ || writing_ || !wbuf_.empty()) return true;
    char c;
    ssize_t r = ::recv(lowest().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      lose("ECONNRESET", "redis: connection lost (the server closed it)");
      return false;
    }
    return true;
  }

  std::string& wbuf() { return wbuf_; }

  void expect(const OpPtr& op, int count, bool batch) {
    pending_.push_back({op, count, batch});
    schedule_flush();
    want_read();
  }
  void sent() { schedule_flush(); }

  // push mode
  bool has_push() const { return !pushes_.empty(); }
  void pop_push(lua_State* L) {
    std::string s = std::move(pushes_.front());
    pushes_.pop_front();
    push_reply(L, s.data(), s.size(), 0, true, 0);
  }
  void wait_push(const OpPtr& op) {
    push_waiter_ = op;
    op->on_abandon([this] {
      if (pending_.empty()) read_cancel_.emit(asio::cancellation_type::terminal);
    });
    want_read();
  }
  bool push_busy() const { return push_waiter_ && push_waiter_->active(); }

  void close() {
    if (closed_) return;
    closed_ = true;
    if (dead_code_.empty()) fail_all(kClosed, "redis: connection closed");
    error_code ec;
    lowest().close(ec);
  }

 private:
  void lose(const std::string& code, const std::string& msg) {
    if (dead()) return;
    dead_code_ = code;
    dead_msg_ = msg;
    error_code ec;
    lowest().close(ec);
    fail_all(code, msg);
  }
  void lose(const error_code& ec, const char* what) {
    if (ec == asio::error::eof || ec == ssl::error::stream_truncated)
      return lose("ECONNRESET", "redis: connection lost (the server closed it)");
    lose(error_code_name(ec), std::string("redis: connection lost (") + what + ": " + error_text(ec) + ")");
  }
  void fail_all(const std::string& code, const std::string& msg) {
    // Take them out first: failing one resumes its task, which may use this connection.
    auto waiting = std::move(pending_);
    pending_.clear();
    spans_.clear();
    OpPtr pw = std::move(push_waiter_);
    for (auto& p : waiting)
      if (p.op && p.op->active()) fail_user(p.op, code, msg);
    if (pw && pw->active()) fail_user(pw, code, msg);
  }

  void schedule_flush() {
    if (writing_ || flush_posted_ || dead()) return;
    flush_posted_ = true;
    asio::post(lowest().get_executor(), pooled([self = shared_from_this()] {
      self->flush_posted_ = false;
      self->flush();
    }));
  }

  template <class F>
  void with_stream(F&& f) {
    if (tls_) f(*tls_); else f(sock_);
  }

  void flush() {
    if (writing_ || wbuf_.empty() || dead()) return;
    writing_ = true;
    std::swap(inflight_, wbuf_);
    with_stream([&](auto& s) {
      asio::async_write(s, asio::buffer(inflight_), pooled([self = shared_from_this()](const error_code& ec, size_t) {
        self->writing_ = false;
        self->inflight_.clear();
        if (self->dead()) return;
        if (ec) return self->lose(ec, "write");
        self->flush();
      }));
    });
  }

  void want_read() {
    if (reading_ || dead()) return;
    if (pending_.empty() && !push_busy()) return;
    reading_ = true;
    if (!chunk_) chunk_ = std::make_unique<char[]>(kChunk);
    with_stream([&](auto& s) {
      s.async_read_some(asio::buffer(chunk_.get(), kChunk),
                        asio::bind_cancellation_slot(read_cancel_.slot(), pooled([self = shared_from_this()](
                                                                              const error_code& ec, size_t n) {
                          self->reading_ = false;
                          if (self->dead()) return;
                          if (n > 0) {
                            if (self->rpos_ > 0 && self->spans_.empty() && self->scanned_ == 0) {
                              self->rbuf_.erase(0, self->rpos_);
                              self->rpos_ = 0;
                            }
                            self->rbuf_.append(self->chunk_.get(), n);
                          }
                          if (ec && ec != asio::error::operation_aborted) return self->lose(ec, "read");
                          self->on_data();
                          self->want_read();
                        })));
    });
  }

  // Consumes every complete reply in the buffer.
  void on_data() {
    auto self = shared_from_this();  // a resumed task may drop the last reference
    std::string err;
    while (!dead()) {
      size_t at = rpos_ + scanned_;
      size_t len = 0;
      if (at >= rbuf_.size()) break;
      redis::Scan st = redis::scan(rbuf_.data() + at, rbuf_.size() - at, len, err);
      if (st == redis::Scan::incomplete) break;
      if (st == redis::Scan::error) return lose("EPROTO", "redis: " + err);
      char type = rbuf_[at];
      if (push_mode) {
        rpos_ += len;
        if (push_busy()) {
          OpPtr op = std::move(push_waiter_);
          size_t base = at;
          op->resume([this, base](lua_State* L) { push_reply(L, rbuf_.data(), rbuf_.size(), base, true, 0); });
        } else {
          pushes_.emplace_back(rbuf_.data() + at, len);
        }
        continue;
      }
      if (pending_.empty() || type == '>') {  // an unsolicited push (RESP3): nobody asked for it
        if (scanned_ == 0) rpos_ += len;  // dropped
        else scanned_ += len;             // skipped inside the front request's replies
        continue;
      }
      spans_.push_back({at, len});
      scanned_ += len;
      Pending& front = pending_.front();
      if (spans_.size() < static_cast<size_t>(front.count)) continue;
      deliver();
    }
    if (rpos_ == rbuf_.size() && scanned_ == 0) {
      rbuf_.clear();
      rpos_ = 0;
      if (rbuf_.capacity() > 4 * kChunk) rbuf_.shrink_to_fit();
    }
  }

  void deliver() {
    Pending f = std::move(pending_.front());
    pending_.pop_front();
    auto spans = std::move(spans_);
    spans_.clear();
    rpos_ += scanned_;
    scanned_ = 0;
    if (!f.op || !f.op->active()) return;
    if (!f.batch) {
      size_t at = spans.back().first;
      if (rbuf_[at] == '-' || rbuf_[at] == '!') {
        std::string text;
        if (rbuf_[at] == '-') {
          text.assign(rbuf_.data() + at + 1, line_end(rbuf_.data(), rbuf_.size(), at + 1) - at - 1);
        } else {
          redis::Value v;
          redis::decode(rbuf_.data() + at, rbuf_.size() - at, v);
          text = v.str;
        }
        return fail_user(f.op, std::string(redis::error_code(text)), text);
      }
      return f.op->resume([this, at](lua_State* L) { push_reply(L, rbuf_.data(), rbuf_.size(), at, true, 0); });
    }
    f.op->resume([this, &spans](lua_State* L) {
      lua_createtable(L, static_cast<int>(spans.size()), 1);
      int i = 0;
      for (auto& s : spans) {
        push_reply(L, rbuf_.data(), rbuf_.size(), s.first, false, 0);
        lua_rawseti(L, -2, ++i);
      }
      lua_pushinteger(L, i);
      lua_setfield(L, -2, "n");
    });
  }

  Socket sock_;
  std::shared_ptr<ssl::context> ctx_;
  std::unique_ptr<TlsStream> tls_;
  bool closed_ = false;
  std::string dead_code_, dead_msg_;
  // writing
  std::string wbuf_, inflight_;
  bool writing_ = false, flush_posted_ = false;
  // reading
  std::unique_ptr<char[]> chunk_;
  asio::cancellation_signal read_cancel_;
  bool reading_ = false;
  std::string rbuf_;
  size_t rpos_ = 0;
  size_t scanned_ = 0;  // bytes after rpos_ that belong to the front request (spans_)
  std::vector<std::pair<size_t, size_t>> spans_;  // its replies found so far (absolute offsets)
  std::deque<Pending> pending_;
  std::deque<std::string> pushes_;
  OpPtr push_waiter_;
};

struct Box {
  std::shared_ptr<Conn> conn;
};

Conn* check_conn(lua_State* L) { return static_cast<Box*>(check_udata(L, 1, kType))->conn.get(); }

// Checks that arguments [first, last] are strings or numbers (before anything is encoded).
[[noreturn]] void raise_user(lua_State* L, const char* code) {
  // the message is at the top of the stack (no C++ object may be alive across lua_error)
  const char* msg = lua_tostring(L, -1);
  push_error(L, code, msg, user_level(L));
  lua_error(L);
  __builtin_unreachable();
}

// Checks that arguments [first, last] (a command and its arguments) are strings or numbers,
// before anything is encoded.
void check_args(lua_State* L, int first, int last, const char* what) {
  if (last < first) {
    lua_pushfstring(L, "redis: %s: no command given", what);
    raise_user(L, "EINVAL");
  }
  for (int i = first; i <= last; ++i) {
    int t = lua_type(L, i);
    if (t == LUA_TNUMBER && !lua_isinteger(L, i) && std::isnan(lua_tonumber(L, i))) {
      lua_pushliteral(L, "redis: NaN is not a valid argument");
      raise_user(L, "EINVAL");
    }
    if (t == LUA_TSTRING || t == LUA_TNUMBER) continue;
    const char* cmd = lua_type(L, first) == LUA_TSTRING ? lua_tostring(L, first) : "command";
    lua_pushfstring(L, "redis: %s: argument #%d must be a string or a number (got %s)", cmd, i - first,
                    luaL_typename(L, i));
    raise_user(L, "EINVAL");
  }
}

void encode_arg(lua_State* L, int i, std::string& out) {
  if (lua_type(L, i) == LUA_TNUMBER) {
    char buf[40];
    std::to_chars_result r;
    if (lua_isinteger(L, i)) {
      r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(lua_tointeger(L, i)));
    } else {
      double d = lua_tonumber(L, i);
      if (std::isinf(d)) {
        redis::append_bulk(out, d > 0 ? "+inf" : "-inf");
        return;
      }
      r = std::to_chars(buf, buf + sizeof buf, d);
    }
    redis::append_bulk(out, std::string_view(buf, r.ptr - buf));
    return;
  }
  size_t len;
  const char* s = lua_tolstring(L, i, &len);
  redis::append_bulk(out, std::string_view(s, len));
}

void encode(lua_State* L, Conn* c, int first, int last) {
  std::string& out = c->wbuf();
  redis::append_array_header(out, static_cast<size_t>(last - first + 1));
  for (int i = first; i <= last; ++i) encode_arg(L, i, out);
  ++c->commands;
}

int push_dead(lua_State* L) {
  lua_pushlightuserdata(L, &kDeadKey);
  return 1;
}

// conn:call(timeout_ms|nil, cmd, args...) -> reply (an error reply raises) | DEAD
int conn_call(lua_State* L) {
  Conn* c = check_conn(L);
  int64_t timeout = opt_timeout_ms(L, 2);
  int top = lua_gettop(L);
  check_args(L, 3, top, "call");
  if (!c->check_idle()) return push_dead(L);
  encode(L, c, 3, top);
  return suspend(L, "redis", timeout, [&](const OpPtr& op) { c->expect(op, 1, false); });
}

// conn:batch(timeout_ms|nil, {{cmd, args...}, ...}) -> {replies..., n = count} | DEAD
int conn_batch(lua_State* L) {
  Conn* c = check_conn(L);
  int64_t timeout = opt_timeout_ms(L, 2);
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 3);
  lua_Integer n = luaL_len(L, 3);
  if (n == 0) {
    lua_createtable(L, 0, 1);
    lua_pushinteger(L, 0);
    lua_setfield(L, -2, "n");
    return 1;
  }
  for (lua_Integer i = 1; i <= n; ++i) {
    if (lua_rawgeti(L, 3, i) != LUA_TTABLE) raisef(L, "EINVAL", "redis: batch: command #%d is not a table", (int)i);
    int k = static_cast<int>(luaL_len(L, -1));
    luaL_checkstack(L, k + 4, "redis batch");
    for (int j = 1; j <= k; ++j) lua_rawgeti(L, 4, j);
    check_args(L, 5, 4 + k, "pipeline");
    lua_settop(L, 3);
  }
  if (!c->check_idle()) return push_dead(L);
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, 3, i);
    int k = static_cast<int>(luaL_len(L, -1));
    for (int j = 1; j <= k; ++j) lua_rawgeti(L, 4, j);
    encode(L, c, 5, 4 + k);
    lua_settop(L, 3);
  }
  return suspend(L, "redis", timeout, [&](const OpPtr& op) { c->expect(op, static_cast<int>(n), true); });
}

// conn:send(cmd, args...) -> true | DEAD: no reply is awaited (push mode: SUBSCRIBE, ...).
int conn_send(lua_State* L) {
  Conn* c = check_conn(L);
  int top = lua_gettop(L);
  check_args(L, 2, top, "send");
  if (!c->check_idle()) return push_dead(L);
  encode(L, c, 2, top);
  c->sent();
  lua_pushboolean(L, 1);
  return 1;
}

// conn:recv(timeout_ms|nil) -> the next reply of a connection in push mode | DEAD
int conn_recv(lua_State* L) {
  Conn* c = check_conn(L);
  int64_t timeout = opt_timeout_ms(L, 2);
  lua_settop(L, 1);
  if (c->has_push()) {
    c->pop_push(L);
    return complete_now(L, 1);
  }
  if (c->dead()) return push_dead(L);
  if (c->push_busy()) raise(L, kBusy, "redis: another task is already receiving on this subscription");
  return suspend(L, "redis", timeout, [&](const OpPtr& op) { c->wait_push(op); });
}

int conn_set_push_mode(lua_State* L) {
  check_conn(L)->push_mode = lua_toboolean(L, 2);
  return 0;
}

int conn_close(lua_State* L) {
  check_conn(L)->close();
  return 0;
}

// conn:state() -> alive, code, message, pending, commands sent
int conn_state(lua_State* L) {
  Conn* c = check_conn(L);
  lua_pushboolean(L, !c->dead());
  if (c->dead()) {
    push_sv(L, c->closed() && c->dead_code().empty() ? std::string_view(kClosed) : std::string_view(c->dead_code()));
    push_sv(L, c->closed() && c->dead_msg().empty() ? std::string_view("redis: connection closed") : std::string_view(c->dead_msg()));
  } else {
    lua_pushnil(L);
    lua_pushnil(L);
  }
  lua_pushinteger(L, static_cast<lua_Integer>(c->pending()));
  lua_pushinteger(L, static_cast<lua_Integer>(c->commands));
  return 5;
}

int conn_gc(lua_State* L) {
  auto* box = static_cast<Box*>(test_udata(L, 1, kType));
  if (box && box->conn) box->conn->close();
  return gc_object<Box>(L, kType);
}

bool wants_tls(lua_State* L, int idx) { return !lua_isnil(L, idx) && !(lua_isboolean(L, idx) && !lua_toboolean(L, idx)); }

void push_conn(lua_State* L, std::shared_ptr<Conn> c) { new_object<Box>(L, kType, 0, Box{std::move(c)}); }

// core.connect(host, port, {timeout, tls, nodelay}) -> conn
int core_connect(lua_State* L) {
  std::string_view host = check_sv(L, 1);
  uint16_t port = check_port(L, 2);
  static const char* const known[] = {"timeout", "tls", "nodelay", nullptr};
  check_options(L, 3, "redis.connect", known);
  int64_t timeout = opt_timeout_field(L, 3, "timeout", kForever);
  bool nodelay = opt_bool_field(L, 3, "nodelay", true);
  get_field(L, 3, "tls");  // 4
  lua_settop(L, 4);
  tls::validate_options(L, 4);
  return suspend(L, "redis.connect", timeout, [&](const OpPtr& op) {
    tls::Options o;
    std::shared_ptr<ssl::context> ctx;
    if (wants_tls(L, 4)) {
      std::string error;
      o = tls::read_options(L, 4, false);
      o.enabled = true;
      ctx = tls::client_context(o, error);
      if (!ctx) return op->fail("ETLS", error);
    }
    auto sock = std::make_shared<tcp::socket>(op->engine().io());
    op->on_abandon([sock] {
      error_code ec;
      sock->close(ec);
    });
    std::string h(host);
    async_connect(op->engine().io(), sock, h, port, std::nullopt, [op, sock, ctx, o, h, nodelay](ConnectError err) {
      if (!op->active()) return;
      if (err) return op->fail(err.code, err.message);
      error_code ec;
      sock->set_option(tcp::no_delay(nodelay), ec);
      auto c = std::make_shared<Conn>(adopt_socket(op->engine().io(), *sock));
      if (!ctx) return op->resume([c](lua_State* L) { push_conn(L, c); });
      c->make_tls(ctx);
      std::string terr;
      if (!tls::prepare_client(c->tls(), o, h, terr)) return op->fail("ETLS", terr);
      op->on_abandon([c] { c->close(); });
      c->tls().async_handshake(ssl::stream_base::client, [op, c](const error_code& ec) {
        if (!op->active()) return;
        if (ec) {
          std::string code, msg;
          tls::describe_handshake_error(c->tls().native_handle(), ec, code, msg);
          c->close();
          return op->fail(code, msg);
        }
        op->resume([c](lua_State* L) { push_conn(L, c); });
      });
    });
  });
}

// core.set_null(value): what nulls inside arrays and maps become (redis.null = json.null).
int core_set_null(lua_State* L) {
  lua_settop(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kNullKey);
  return 0;
}

// core.error(code, message[, level]): raises an error object; core.new_error(code, message):
// returns one (for `nil, err` results).
int core_error(lua_State* L) {
  std::string_view code = check_sv(L, 1);
  std::string_view msg = check_sv(L, 2);
  int level = static_cast<int>(luaL_optinteger(L, 3, 1));
  push_error(L, code, msg, level);
  return lua_error(L);
}

int core_new_error(lua_State* L) {
  push_error(L, check_sv(L, 1), check_sv(L, 2), 0);
  return 1;
}

}  // namespace

int open_redis_core(lua_State* L) {
  const luaL_Reg methods[] = {{"call", conn_call},   {"batch", conn_batch}, {"send", conn_send},
                              {"recv", conn_recv},   {"close", conn_close}, {"state", conn_state},
                              {"set_push_mode", conn_set_push_mode}, {nullptr, nullptr}};
  const luaL_Reg meta[] = {{"__gc", conn_gc}, {"__close", conn_close}, {nullptr, nullptr}};
  new_class(L, kType, methods, meta);
  const luaL_Reg funcs[] = {{"connect", core_connect}, {"set_null", core_set_null},
                            {"error", core_error},     {"new_error", core_new_error}, {nullptr, nullptr}};
  luaL_newlib(L, funcs);
  lua_pushlightuserdata(L, &kDeadKey);
  lua_setfield(L, -2, "DEAD");
  return 1;
}

}  // namespace mw::net
