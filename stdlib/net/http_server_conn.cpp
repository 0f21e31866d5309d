// One HTTP server connection: the keep-alive loop (read a head, dispatch it to the handler,
// write the response, drain what is left of the body, next request), body reading for the
// handler, and response writing (whole bodies, streams, files with sendfile(2)).
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>
#include <array>
#include <charconv>
#include <cstring>
#include <cstdio>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "runtime/errors.hpp"
#include "runtime/pool.hpp"
#include "runtime/scheduler.hpp"
#include "stdlib/net/http_server.hpp"

using namespace std::string_view_literals;

namespace mw::net::httpd {

namespace http = boost::beast::http;

static constexpr size_t kInitialBuffer = 4096;
static constexpr size_t kBodyHighWater = 256 * 1024;  // buffered body bytes before reading pauses
static constexpr size_t kShrinkAbove = 64 * 1024;
static constexpr size_t kFileChunk = 64 * 1024;
static constexpr size_t kSendfileChunk = 4 * 1024 * 1024;
static constexpr int64_t kLingerMs = 2000;

ConnTable::Handle ConnTable::add(Conn* c) {
  uint32_t slot = static_cast<uint32_t>(entries_.size());
  if (free_.empty()) {
    entries_.emplace_back();
  } else {
    slot = free_.back();
    free_.pop_back();
  }
  entries_[slot].conn = c;
  return {slot, entries_[slot].gen};
}

void ConnTable::remove(Handle h) {
  Entry& e = entries_[h.slot];
  e.conn = nullptr;
  ++e.gen;
  free_.push_back(h.slot);
}

Conn::Conn(Server& s, Accepted&& a)
    : server_(s), table_(s.engine.state<ConnTable>()), handle_(table_.add(this)), sock_(a.plain ? std::move(*a.plain) : Socket(s.engine.io())), tls_ctx_(std::move(a.tls_context)),
      slot_(std::move(a.slot)) {
  if (a.tls) tls_ = std::make_unique<TlsStream>(std::move(*a.tls));
  init();
}

Conn::~Conn() {
  table_.remove(handle_);
  if (file_fd_ >= 0) ::close(file_fd_);
}

void Conn::init() {
  Socket& low = tls_ ? tls_->next_layer() : sock_;
  error_code ec;
  low.non_blocking(true, ec);
  low.set_option(tcp::no_delay(true), ec);
  auto ep = low.remote_endpoint(ec);
  if (!ec) peer_ = endpoint_string(ep);
  in_.resize(kInitialBuffer);
}

void Conn::start() {
  request_start_ = Clock::now();
  next_request();
  // The first request of a connection gets header_timeout from the accept (Node does the same).
  phase_ = Phase::head;
  deadline_ = request_start_ + std::chrono::milliseconds(server_.limits.header_timeout_ms);
  parse();
}

static Clock::time_point after(int64_t ms) {
  return ms < 0 ? Clock::time_point::max() : Clock::now() + std::chrono::milliseconds(ms);
}
Clock::time_point Conn::after_ms(int64_t ms) { return after(ms); }
int64_t Conn::server_limits_write() const { return server_.limits.write_timeout_ms; }

void Conn::next_request() {
  ++seq_;
  head_.clear();
  body_.clear();
  if (body_.capacity() > kShrinkAbove) body_.shrink_to_fit();
  body_pos_ = 0;
  drained_ = 0;
  continue_sent_ = false;
  request_timed_out_ = false;
  resp_ = Resp::none;
  status_ = 0;
  parser_.emplace(head_, body_, server_.limits.max_headers);
  parser_->header_limit(static_cast<uint32_t>(std::min<size_t>(server_.limits.max_header_size, UINT32_MAX)));
  parser_->body_limit(boost::none);
  if (in_end_ > in_start_) {
    phase_ = Phase::head;
    request_start_ = Clock::now();
    deadline_ = after(server_.limits.header_timeout_ms);
  } else {
    phase_ = Phase::idle;
    deadline_ = after(server_.limits.idle_timeout_ms);
  }
}

static int status_for(const error_code& ec, const RequestParser& p) {
  if (ec == http::error::header_limit) return 431;
  return 400;
}

void Conn::parse() {
  if (closed_) return;
  if (in_end_ > in_start_) {
    error_code ec;
    size_t n = parser_->put(asio::buffer(in_.data() + in_start_, in_end_ - in_start_), ec);
    in_start_ += n;
    if (ec && ec != http::error::need_more) return reject(status_for(ec, *parser_));
    if (!ec && parser_->is_header_done()) return dispatch();
  }
  if (eof_) {
    // A client that stops in the middle of a head gets a 400 (if it still reads); one that
    // closes between requests simply goes.
    if (in_end_ > in_start_ && read_error_.empty()) return reject(400);
    return close();
  }
  // Room to read: compact, grow up to the head limit (+1 so the parser sees it exceeded).
  if (in_start_ > 0) {
    std::memmove(in_.data(), in_.data() + in_start_, in_end_ - in_start_);
    in_end_ -= in_start_;
    in_start_ = 0;
  }
  if (in_end_ == in_.size()) {
    size_t cap = server_.limits.max_header_size + 1024;
    if (in_.size() >= cap) return reject(431);
    in_.resize(std::min(cap, in_.size() * 2));
  }
  read_more();
}

void Conn::read_more() {
  if (reading_ || closed_ || eof_) return;
  if (in_start_ == in_end_) in_start_ = in_end_ = 0;
  if (in_end_ == in_.size() && in_start_ > 0) {
    std::memmove(in_.data(), in_.data() + in_start_, in_end_ - in_start_);
    in_end_ -= in_start_;
    in_start_ = 0;
  }
  if (in_end_ == in_.size()) in_.resize(in_.size() * 2);
  reading_ = true;
  auto self = shared_from_this();
  auto buf = asio::buffer(in_.data() + in_end_, in_.size() - in_end_);
  auto done = pooled([self](const error_code& ec, size_t n) { self->on_read(ec, n); });
  with_stream([&](auto& s) { s.async_read_some(buf, std::move(done)); });
}

void Conn::on_read(const error_code& ec, size_t n) {
  reading_ = false;
  if (closed_) return;
  in_end_ += n;
  if (ec) {
    eof_ = true;
    if (ec != asio::error::eof && ec != ssl::error::stream_truncated) read_error_ = error_text(ec);
  }
  switch (phase_) {
    case Phase::idle:
      if (n > 0) {
        phase_ = Phase::head;
        request_start_ = Clock::now();
        deadline_ = after(server_.limits.header_timeout_ms);
      }
      return parse();
    case Phase::head:
      return parse();
    case Phase::handling:
      return deliver_body();
    case Phase::draining:
      return response_complete();
    case Phase::closed:
      // Lingering after the last response: discard until the peer closes.
      if (eof_) return close();
      in_start_ = in_end_ = 0;
      return read_more();
  }
}

void Conn::reject(int status) {
  close_after_ = true;
  resp_ = Resp::none;
  phase_ = Phase::handling;  // the error response is this request's response
  in_start_ = in_end_;       // whatever follows a malformed head is not a request
  send_error(status, true);
}

void Conn::dispatch() {
  phase_ = Phase::handling;
  parser_->eager(true);
  close_after_ = !parser_->keep_alive() || graceful_;
  deadline_ = request_start_ + std::chrono::milliseconds(server_.limits.request_timeout_ms < 0
                                                             ? int64_t(1) << 40
                                                             : server_.limits.request_timeout_ms);
  server_.dispatch(*this);
}

// --- body reading ----------------------------------------------------------------------------

bool Conn::body_complete() const { return parser_ && parser_->is_done(); }

// Parses body bytes already in the read buffer into body_ (up to the high-water mark).
static void feed(RequestParser& p, std::vector<char>& in, size_t& start, size_t end, std::string& body,
                 size_t high, std::string& error) {
  while (!p.is_done() && start < end && body.size() < high) {  // (high: buffered bytes to keep at most)
    error_code ec;
    size_t n = p.put(asio::buffer(in.data() + start, end - start), ec);
    start += n;
    if (ec == http::error::need_more) break;
    if (ec) {
      error = "malformed request body: " + ec.message();
      break;
    }
    if (n == 0) break;
  }
}

void Conn::maybe_continue() {
  if (!head_.expect_continue || continue_sent_ || resp_ != Resp::none || body_complete()) return;
  continue_sent_ = true;
  static constexpr std::string_view k100 = "HTTP/1.1 100 Continue\r\n\r\n";
  write_out(k100, false);
}

int Conn::body_check(BodyMode mode, size_t n, std::string& code, std::string& msg) {
  std::string perr;
  // A whole body (req:body) is parsed up to max_body; a streamed one up to the high-water mark.
  size_t high = mode == BodyMode::all ? std::max(server_.limits.max_body + 1, kBodyHighWater) : kBodyHighWater;
  feed(*parser_, in_, in_start_, in_end_, body_, high + body_pos_, perr);
  if (!perr.empty()) {
    close_after_ = true;
    code = "EPROTO";
    msg = perr;
    return -1;
  }
  size_t avail = body_.size() - body_pos_;
  if (mode == BodyMode::all) {
    size_t max = server_.limits.max_body;
    if ((head_.content_length && *head_.content_length > max) || avail > max) {
      code = "EMSGSIZE";
      msg = "request body larger than max_body (" + std::to_string(max) + " bytes)";
      return -1;
    }
    if (body_complete()) return 1;
  } else if (avail > 0 || body_complete()) {
    return 1;
  }
  if (eof_) {
    close_after_ = true;
    code = read_error_.empty() ? "EOF" : "ECONNRESET";
    msg = read_error_.empty() ? "connection closed before the request body ended" : read_error_;
    return -1;
  }
  maybe_continue();
  return 0;
}

void Conn::body_produce(lua_State* L, BodyMode mode, size_t n) {
  size_t avail = body_.size() - body_pos_;
  if (mode == BodyMode::some && avail == 0) return lua_pushnil(L);
  size_t take = mode == BodyMode::all ? avail : std::min(n, avail);
  lua_pushlstring(L, body_.data() + body_pos_, take);
  body_pos_ += take;
  if (body_pos_ == body_.size()) {
    body_.clear();
    body_pos_ = 0;
  }
}

void Conn::body_wait(const OpPtr& op, BodyMode mode, size_t n) {
  body_reader_ = op;
  body_mode_ = mode;
  body_n_ = n;
  read_more();
}

void Conn::deliver_body() {
  if (!body_reader_busy()) return;  // data waits in the read buffer
  std::string code, msg;
  int st = body_check(body_mode_, body_n_, code, msg);
  if (st == 0) return read_more();
  OpPtr op = std::move(body_reader_);
  if (st < 0) return op->fail(code, msg);
  auto self = shared_from_this();
  op->resume([self](lua_State* L) { self->body_produce(L, self->body_mode_, self->body_n_); });
}

void Conn::fail_body_reader(std::string code, std::string msg) {
  if (!body_reader_busy()) return;
  std::exchange(body_reader_, nullptr)->fail(code, msg);
}

// --- response writing ------------------------------------------------------------------------

void Conn::begin_head(int status) {
  status_ = status;
  out_.clear();
  char num[16];
  out_ += "HTTP/1.1 "sv;
  out_.append(num, std::to_chars(num, num + sizeof num, status).ptr);
  out_ += ' ';
  auto reason = http::obsolete_reason(static_cast<http::status>(status));
  out_.append(reason.data(), reason.size());
  out_ += "\r\n"sv;
  head_has_length_ = head_has_connection_close_ = head_has_date_ = head_has_type_ = false;
  declared_length_ = body_sent_ = 0;
}

static bool lower_eq(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != lower[i]) return false;
  }
  return true;
}

void Conn::add_header(std::string_view name, std::string_view value) {
  if (lower_eq(name, "transfer-encoding")) return;  // the server frames the body itself
  if (lower_eq(name, "content-length")) {  // written by finish_head (whole bodies: their size)
    head_has_length_ = true;
    declared_length_ = std::strtoull(std::string(value).c_str(), nullptr, 10);
    return;
  }
  if (lower_eq(name, "connection")) {
    if (value.find("close") != std::string_view::npos || value.find("Close") != std::string_view::npos) {
      close_after_ = true;
      head_has_connection_close_ = true;
    }
  } else if (lower_eq(name, "date")) {
    head_has_date_ = true;
  } else if (lower_eq(name, "content-type")) {
    head_has_type_ = true;
  }
  out_ += name;
  out_ += ": "sv;
  out_ += value;
  out_ += "\r\n"sv;
}

void Conn::finish_head(bool has_body, uint64_t length, bool chunked) {
  if (!head_has_date_) {
    out_ += "Date: "sv;
    out_ += http_date();
    out_ += "\r\n"sv;
  }
  if (graceful_) close_after_ = true;
  if (chunked) {
    out_ += "Transfer-Encoding: chunked\r\n"sv;
  } else if (has_body) {
    char num[24];
    out_ += "Content-Length: "sv;
    out_.append(num, std::to_chars(num, num + sizeof num, length).ptr);
    out_ += "\r\n"sv;
  }
  if (close_after_) {
    if (!head_has_connection_close_) out_ += "Connection: close\r\n"sv;
  } else if (head_.version < 11) {
    out_ += "Connection: keep-alive\r\n"sv;
  }
  out_ += "\r\n"sv;
}

static bool status_has_body(int status) { return !(status < 200 || status == 204 || status == 304); }

void Conn::send_body(std::string_view body) {
  no_body_ = head_.is_head || !status_has_body(status_);
  // The length is the body's own (a disagreeing content-length would desynchronize the connection).
  finish_head(status_has_body(status_), body.size(), false);
  body_sent_ = no_body_ ? 0 : body.size();
  resp_ = Resp::done;
  write_out(no_body_ ? std::string_view{} : body, true);
}

void Conn::send_file(int fd, uint64_t offset, uint64_t length) {
  no_body_ = head_.is_head || !status_has_body(status_);
  finish_head(status_has_body(status_), length, false);
  resp_ = Resp::done;
  body_sent_ = no_body_ ? 0 : length;
  if (no_body_ || length == 0) {
    ::close(fd);
    return write_out({}, true);
  }
  file_fd_ = fd;
  file_off_ = offset;
  file_left_ = length;
  write_out({}, false);
  flush_out();
}

void Conn::start_stream() {
  no_body_ = head_.is_head || !status_has_body(status_);
  // HTTP/1.0 has no chunked encoding: the body then ends with the connection.
  chunked_out_ = !no_body_ && !head_has_length_ && head_.version >= 11;
  if (!no_body_ && !head_has_length_ && head_.version < 11) close_after_ = true;
  finish_head(head_has_length_ && status_has_body(status_), declared_length_, chunked_out_);
  resp_ = Resp::streaming;
  write_out({}, false);
}

// Writes out_ (the head, if any) followed by `extra`: at once when the kernel takes it
// (plain sockets), else queued. With `then_done`, the response is complete once written.
void Conn::write_out(std::string_view extra, bool then_done) {
  if (closed_) return;
  std::string_view head = out_;
  if (!tls_ && !writing_ && wq_.empty()) {
    std::array<asio::const_buffer, 2> bufs{asio::buffer(head.data(), head.size()), asio::buffer(extra.data(), extra.size())};
    error_code ec;
    size_t n = head.size() + extra.size() == 0 ? 0 : sock_.write_some(bufs, ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
      out_.clear();
      return close();
    }
    if (n >= head.size()) {
      extra.remove_prefix(n - head.size());
      head = {};
    } else {
      head.remove_prefix(n);
    }
  }
  if (!head.empty() || !extra.empty()) {
    std::string rest;
    rest.reserve(head.size() + extra.size());
    rest.append(head).append(extra);
    wq_.push_back({std::move(rest), nullptr});
  }
  out_.clear();
  if (then_done) finish_pending_ = true;
  flush_out();
}

int Conn::stream_write(std::string_view data, const OpPtr* op, std::string& code, std::string& msg) {
  if (closed_) {
    code = kClosed;
    msg = "connection closed";
    return -1;
  }
  if (head_has_length_ && body_sent_ + data.size() > declared_length_) {
    code = "EINVAL";
    msg = "write: more bytes than the response's content-length (" + std::to_string(declared_length_) + ")";
    return -1;
  }
  body_sent_ += data.size();
  if (no_body_ || data.empty()) return 1;
  char hex[24];
  std::string_view prefix, suffix;
  if (chunked_out_) {
    int len = std::snprintf(hex, sizeof hex, "%zx\r\n", data.size());
    prefix = {hex, static_cast<size_t>(len)};
    suffix = "\r\n";
  }
  if (!tls_ && !writing_ && wq_.empty()) {
    std::array<asio::const_buffer, 3> bufs{asio::buffer(prefix.data(), prefix.size()), asio::buffer(data.data(), data.size()),
                                           asio::buffer(suffix.data(), suffix.size())};
    error_code ec;
    size_t n = sock_.write_some(bufs, ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
      code = error_code_name(ec);
      msg = "write: " + error_text(ec);
      close();
      return -1;
    }
    size_t total = prefix.size() + data.size() + suffix.size();
    if (n == total) return 1;
    // Keep what the kernel did not take, in order.
    auto skip = [&](std::string_view& s) {
      size_t k = std::min(n, s.size());
      s.remove_prefix(k);
      n -= k;
    };
    skip(prefix);
    skip(data);
    skip(suffix);
  }
  std::string rest;
  rest.reserve(prefix.size() + data.size() + suffix.size());
  rest.append(prefix).append(data).append(suffix);
  wq_.push_back({std::move(rest), op ? *op : nullptr});
  flush_out();
  return 0;
}

int Conn::stream_finish(std::string& code, std::string& msg) {
  if (resp_ != Resp::streaming) return 1;
  resp_ = Resp::done;
  if (closed_) {
    code = kClosed;
    msg = "connection closed";
    return -1;
  }
  // A body shorter than its content-length leaves the client waiting: end the connection.
  if (head_has_length_ && body_sent_ < declared_length_) close_after_ = true;
  write_out(chunked_out_ ? std::string_view("0\r\n\r\n") : std::string_view{}, true);
  return 1;
}

void Conn::handler_done() {
  std::string code, msg;
  if (resp_ == Resp::streaming) stream_finish(code, msg);
}

void Conn::send_error(int status, bool close_after) {
  if (closed_) return;
  if (resp_ == Resp::streaming) return close();  // the head is out: all we can do is cut it short
  if (resp_ == Resp::done) return;
  if (close_after) close_after_ = true;
  begin_head(status);
  add_header("Content-Type", "text/plain; charset=utf-8");
  auto reason = http::obsolete_reason(static_cast<http::status>(status));
  send_body(std::string_view(reason.data(), reason.size()));
}

// Drives the output: queued strings first, then the file, then completion.
void Conn::flush_out() {
  if (writing_ || closed_) return;
  if (!wq_.empty()) {
    writing_ = true;
    auto self = shared_from_this();
    auto done = pooled([self](const error_code& ec, size_t n) {
      self->writing_ = false;
      if (self->closed_) return;
      if (ec) {
        std::string code = error_code_name(ec), msg = "write: " + error_text(ec);
        std::vector<OpPtr> ops;
        for (auto& p : self->wq_)
          if (p.op) ops.push_back(std::move(p.op));
        self->wq_.clear();
        self->close();
        for (auto& op : ops) op->fail(code, msg);
        return;
      }
      Pending& front = self->wq_.front();
      front.off += n;
      if (front.off < front.data.size()) return self->flush_out();  // progress: a new write_timeout
      OpPtr op = std::move(front.op);
      self->wq_.pop_front();
      if (op) op->resume([](lua_State* L) { lua_pushboolean(L, 1); });
      self->flush_out();
    });
    Pending& front = wq_.front();
    auto buf = asio::buffer(front.data.data() + front.off, front.data.size() - front.off);
    write_started();
    with_stream([&](auto& s) { s.async_write_some(buf, std::move(done)); });
    return;
  }
  if (file_fd_ >= 0) return send_file_chunk();
  if (finish_pending_) {
    finish_pending_ = false;
    response_complete();
  }
}

void Conn::send_file_chunk() {
  auto self = shared_from_this();
  if (!tls_) {
    while (file_left_ > 0) {
      off_t off = static_cast<off_t>(file_off_);
      ssize_t n = ::sendfile(sock_.native_handle(), file_fd_, &off, std::min<uint64_t>(file_left_, kSendfileChunk));
      if (n > 0) {
        file_off_ += static_cast<uint64_t>(n);
        file_left_ -= static_cast<uint64_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        writing_ = true;
        write_started();
        sock_.async_wait(Socket::wait_write, pooled([self](const error_code& ec) {
          self->writing_ = false;
          if (self->closed_) return;
          if (ec) return self->close();
          self->send_file_chunk();
        }));
        return;
      }
      if (n < 0 && errno == EINTR) continue;
      // The file shrank (n == 0) or failed: the promised length cannot be sent.
      std::fprintf(stderr, "net.http.listen: sending a file failed: %s\n", n < 0 ? std::strerror(errno) : "file shrank");
      return close();
    }
  } else if (file_left_ > 0) {
    if (!file_buf_) file_buf_ = std::make_unique<char[]>(kFileChunk);
    size_t want = std::min<uint64_t>(file_left_, kFileChunk);
    ssize_t n = ::pread(file_fd_, file_buf_.get(), want, static_cast<off_t>(file_off_));
    if (n <= 0) {
      std::fprintf(stderr, "net.http.listen: reading a file failed: %s\n", n < 0 ? std::strerror(errno) : "file shrank");
      return close();
    }
    file_off_ += static_cast<uint64_t>(n);
    file_left_ -= static_cast<uint64_t>(n);
    writing_ = true;
    write_started();
    asio::async_write(*tls_, asio::buffer(file_buf_.get(), static_cast<size_t>(n)),
                      pooled([self](const error_code& ec, size_t) {
                        self->writing_ = false;
                        if (self->closed_) return;
                        if (ec) return self->close();
                        self->send_file_chunk();
                      }));
    return;
  }
  ::close(file_fd_);
  file_fd_ = -1;
  file_buf_.reset();
  response_complete();
}

// The response is written. Next: drain the rest of the body, then the next request; or close.
void Conn::response_complete() {
  if (closed_) return;
  if (phase_ == Phase::handling) {
    phase_ = Phase::draining;
    log_access();
  }
  if (close_after_ || graceful_) {
    // Half-close and discard what the client still sends, so that our response is not lost
    // to a reset (nginx's lingering close), for at most kLingerMs.
    phase_ = Phase::closed;
    error_code ec;
    if (!tls_) sock_.shutdown(tcp::socket::shutdown_send, ec);
    if (tls_ || ec) return close();
    deadline_ = after(kLingerMs);
    in_start_ = in_end_ = 0;
    return read_more();
  }
  if (!body_complete()) {
    if (head_.expect_continue && !continue_sent_) {  // the client may never send the body
      phase_ = Phase::closed;
      return close();
    }
    std::string perr;
    size_t before = body_.size();
    feed(*parser_, in_, in_start_, in_end_, body_, SIZE_MAX, perr);
    drained_ += body_.size() - before;
    body_.clear();
    body_pos_ = 0;
    if (!perr.empty() || drained_ > server_.limits.max_body || eof_) return close();
    if (!body_complete()) {
      deadline_ = after(server_.limits.idle_timeout_ms);
      return read_more();
    }
  }
  // Pipelined requests may already be buffered: start the next one from a fresh handler when
  // Lua is running (no recursion through the handler's task).
  if (server_.engine.scheduler().in_lua()) {
    phase_ = Phase::draining;
    deadline_ = after(server_.limits.idle_timeout_ms);
    auto self = shared_from_this();
    asio::post(server_.engine.io(), pooled([self] {
      if (self->closed_) return;
      self->next_request();
      self->parse();
    }));
    return;
  }
  next_request();
  parse();
}

void Conn::log_access() {
  if (!server_.log_stdout && !server_.log_cb) return;
  // Combined log format: host - - [time] "request line" status bytes "referer" "user-agent"
  char when[64];
  time_t now = ::time(nullptr);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S %z", &tm);
  std::string host = peer_.substr(0, peer_.rfind(':'));
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  auto quoted = [](std::string_view s) {
    std::string q;
    for (char c : s) {
      if (c == '"' || c == '\\') q += '\\';
      q += c;
    }
    return s.empty() ? std::string("-") : q;
  };
  std::string line = host + " - - [" + when + "] \"" + quoted(std::string(head_.method()) + " " +
                                                            std::string(head_.target()) + " HTTP/" +
                                                            (head_.version >= 11 ? "1.1" : "1.0")) +
                     "\" " + std::to_string(status_) + " " +
                     (body_sent_ == 0 ? std::string("-") : std::to_string(body_sent_)) + " \"" +
                     quoted(head_.find("referer")) + "\" \"" + quoted(head_.find("user-agent")) + "\"";
  server_.log_line(std::move(line));
}

// --- lifecycle -------------------------------------------------------------------------------

void Conn::close() {
  if (closed_) return;
  auto self = shared_from_this();  // the server's list may hold the last reference
  closed_ = true;
  phase_ = Phase::closed;
  if (!upgraded_) {
    error_code ec;
    (tls_ ? tls_->next_layer() : sock_).close(ec);
  }
  if (file_fd_ >= 0) {
    ::close(file_fd_);
    file_fd_ = -1;
  }
  std::vector<OpPtr> ops;
  if (body_reader_busy()) ops.push_back(std::move(body_reader_));
  body_reader_.reset();
  for (auto& p : wq_)
    if (p.op) ops.push_back(std::move(p.op));
  if (!writing_) wq_.clear();
  slot_.reset();  // the listener may accept again
  server_.remove(this);
  for (auto& op : ops) op->fail(kClosed, "connection closed");
}

void Conn::close_when_idle() {
  graceful_ = true;
  if (phase_ == Phase::idle || phase_ == Phase::closed) return close();
}

// A client that stopped reading: its pending writes fail with ETIMEDOUT and the connection closes.
void Conn::write_timed_out() {
  std::vector<OpPtr> ops;
  for (auto& p : wq_)
    if (p.op) ops.push_back(std::move(p.op));
  close();
  for (auto& op : ops) op->fail(kTimedOut, "write: no progress within write_timeout (the client stopped reading)");
}

void Conn::cancel_handler() {
  if (!handler_thread_) return;
  Scheduler& sched = server_.engine.scheduler();
  Task* t = sched.task_of(handler_thread_);
  if (t && t->id == handler_task_) sched.cancel(t);
  handler_thread_ = nullptr;
}

void Conn::check_deadline(Clock::time_point now) {
  if (!closed_ && writing_ && now >= write_deadline_) return write_timed_out();
  if (closed_ || now < deadline_) return;
  switch (phase_) {
    case Phase::idle:
    case Phase::closed:
    case Phase::draining:
      return close();
    case Phase::head:
      return reject(408);
    case Phase::handling:
      // Only a body that does not arrive in time ends the request; a slow handler does not.
      if (body_reader_busy() && !body_complete()) {
        close_after_ = true;
        request_timed_out_ = true;
        fail_body_reader(kTimedOut, "request body not received within request_timeout");
      }
      return;
  }
}

Socket Conn::take_socket() {
  upgraded_ = true;
  Socket s = std::move(sock_);
  close();
  return s;
}

std::unique_ptr<TlsStream> Conn::take_tls() {
  upgraded_ = true;
  auto t = std::move(tls_);
  close();
  return t;
}

}  // namespace mw::net::httpd
