#pragma once
// What lies between Beast's websocket::stream and the socket in net.ws (ws/conn.cpp): a Layer type
// that makes Beast's teardown ours and can replace the close frame Beast echoes, and the
// lingering close that ends every connection after our close frame. Included by ws/conn.hpp only.
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include "runtime/pool.hpp"
#include "stdlib/net/connect.hpp"

namespace mw::net::wslayer {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
using error_code = boost::system::error_code;


// Frame boundaries in the outgoing byte stream (the frames Beast writes, so well formed).
class FrameCursor {
 public:
  bool at_boundary() const { return have_ == 0 && left_ == 0; }
  // Headers seen so far: control frames, and final frames of data messages.
  uint64_t controls() const { return controls_; }
  uint64_t messages() const { return messages_; }

  // `n` bytes of `b` were written.
  template <class Buffers>
  void advance(const Buffers& b, size_t n) {
    size_t off = 0;
    while (off < n) {
      if (left_ > 0) {
        size_t k = static_cast<size_t>(std::min<uint64_t>(left_, n - off));
        left_ -= k;
        off += k;
        continue;
      }
      beast::buffers_suffix<Buffers> rest(b);
      rest.consume(off);
      size_t k = asio::buffer_copy(asio::buffer(hdr_ + have_, std::min(need() - have_, n - off)), rest);
      have_ += k;
      off += k;
      if (have_ == need()) {
        left_ = payload_length();
        have_ = 0;
        uint8_t op = hdr_[0] & 0x0f;
        if (op >= 8)
          ++controls_;
        else if (hdr_[0] & 0x80)
          ++messages_;
      }
    }
  }

 private:
  // Header size so far known: 2, then 2 + extended length + mask key.
  size_t need() const {
    if (have_ < 2) return 2;
    size_t len7 = hdr_[1] & 0x7f;
    return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((hdr_[1] & 0x80) ? 4 : 0);
  }
  uint64_t payload_length() const {
    size_t len7 = hdr_[1] & 0x7f;
    if (len7 < 126) return len7;
    uint64_t v = 0;
    for (size_t i = 0; i < (len7 == 126 ? 2u : 8u); ++i) v = (v << 8) | hdr_[2 + i];
    return v;
  }

  uint8_t hdr_[14] = {};
  size_t have_ = 0;
  uint64_t left_ = 0;
  uint64_t controls_ = 0, messages_ = 0;
};

// A close frame (`mask`: the 4-byte key of a client frame, or null).
inline std::string close_frame(uint16_t code, std::string_view reason, const uint8_t* mask) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xff));
  payload.append(reason.substr(0, 123));
  std::string f;
  f.push_back(static_cast<char>(0x88));
  f.push_back(static_cast<char>((mask ? 0x80 : 0) | payload.size()));
  if (mask) {
    f.append(reinterpret_cast<const char*>(mask), 4);
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(payload[i] ^ mask[i % 4]);
  }
  return f + payload;
}

// The stream right under each websocket::stream: `Next` is Socket (ws://) or ssl::stream<Socket>
// (wss://). Being our own type, it
// - decides what Beast's teardown does after a closing handshake (async_teardown below);
// - can answer a peer's close frame that carries an invalid code with 1002, where Beast 1.81
//   would echo the code back: once armed, the next close frame Beast writes (its echo) is
//   replaced by ours. That needs the frame boundaries of what was written (FrameCursor), tracked
//   from the end of the opening handshake on.
template <class Next>
class Layer {
 public:
  using next_layer_type = Next;
  using executor_type = typename Next::executor_type;
  using lowest_layer_type = typename Next::lowest_layer_type;

  template <class... Args>
  explicit Layer(Args&&... args) : next_(std::forward<Args>(args)...) {}
  ~Layer() {
    if (state_) state_->owner = nullptr;
  }
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  executor_type get_executor() noexcept { return next_.get_executor(); }
  Next& next_layer() noexcept { return next_; }
  lowest_layer_type& lowest_layer() { return next_.lowest_layer(); }
  const lowest_layer_type& lowest_layer() const { return next_.lowest_layer(); }

  // After the opening handshake: from now on only frames are written.
  void track_frames() {
    state_ = std::make_shared<State>();
    state_->owner = this;
  }
  // The peer's close frame had an invalid code: say `code` instead of echoing it.
  void answer_close_with(uint16_t code, std::string reason) {
    if (!state_) return;
    state_->answer_code = code;
    state_->answer_reason = std::move(reason);
  }

  // Every byte read is followed through its frames (`in`): once Beast has handed over as many
  // messages and control frames as were received, whole, nothing is left in its buffer, and
  // the connection can wait for input without a read buffer (Conn::read_loop).
  template <class Buffers, class Handler>
  void async_read_some(const Buffers& b, Handler&& h) {
    if (!state_) return next_.async_read_some(b, std::forward<Handler>(h));
    auto ex = asio::get_associated_executor(h, get_executor());
    auto alloc = asio::get_associated_allocator(h);
    if (state_->ahead_len || state_->ahead_err) {  // what read_ahead() got comes first
      State& st = *state_;
      size_t n = asio::buffer_copy(b, asio::buffer(st.ahead + st.ahead_off, st.ahead_len - st.ahead_off));
      error_code ec;
      if (n) {
        st.ahead_off = static_cast<uint8_t>(st.ahead_off + n);
        if (st.ahead_off == st.ahead_len) st.ahead_len = st.ahead_off = 0;
        st.in.advance(b, n);
      } else {
        ec = st.ahead_err < 0 ? error_code(asio::error::eof) : error_code(st.ahead_err, boost::system::system_category());
        st.ahead_err = 0;
      }
      asio::post(ex, asio::bind_allocator(alloc, [h = std::forward<Handler>(h), ec, n]() mutable { std::move(h)(ec, n); }));
      return;
    }
    next_.async_read_some(
        b, asio::bind_allocator(alloc, asio::bind_executor(ex, [st = state_, b, h = std::forward<Handler>(h)](
                                                                   const error_code& ec, size_t n) mutable {
                                 st->in.advance(b, n);
                                 std::move(h)(ec, n);
                               })));
  }
  // Plain sockets, after track_frames, with nothing in Beast's buffer (drained): reads what is
  // there without waiting, into a small buffer that the next async_read_some hands over first
  // (bytes, EOF or the error), so looking costs no extra syscall when input is there. False:
  // nothing yet (EAGAIN), nothing kept: wait for input (without a read buffer) and read then.
  bool read_ahead() {
    State& st = *state_;
    ssize_t r = ::recv(lowest_layer().native_handle(), st.ahead, sizeof st.ahead, MSG_DONTWAIT);
    if (r > 0) {
      st.ahead_len = static_cast<uint8_t>(r);
      st.ahead_off = 0;
    } else if (r == 0) {
      st.ahead_err = -1;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return false;
    } else if (errno != EINTR) {
      st.ahead_err = errno;
    }
    return true;
  }
  // Plain sockets, after track_frames: whole frames of ours (`iov`, as async_write_frames takes
  // them) written without waiting, when no write of either kind is in flight: the bytes the
  // kernel took (0 also when it would block, or on an error, which the asynchronous write that
  // follows then reports). The caller writes the rest, if any, before anything else.
  size_t write_now(const iovec* iov, size_t n) {
    static_assert(std::is_same_v<Next, Socket>, "raw bytes on a TLS stream would bypass TLS");
    if (!state_ || state_->beast_busy || state_->raw_busy || !state_->cursor.at_boundary()) return 0;
    msghdr m{};
    m.msg_iov = const_cast<iovec*>(iov);
    m.msg_iovlen = n;
    ssize_t r;
    do r = ::sendmsg(lowest_layer().native_handle(), &m, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    return r > 0 ? static_cast<size_t>(r) : 0;
  }
  // Nothing received is left unread in Beast's buffer: `messages` and `controls` handed over.
  bool drained(uint64_t messages, uint64_t controls) const {
    return state_ && state_->in.at_boundary() && state_->in.messages() == messages && state_->in.controls() == controls;
  }

  // Beast's writes (its frames: pings, pongs, close frames, compressed messages). While one of
  // our own frame writes (async_write_frames) is in flight, Beast's waits for it.
  template <class Buffers, class Handler>
  void async_write_some(const Buffers& b, Handler&& h) {
    if (!state_) return next_.async_write_some(b, std::forward<Handler>(h));
    if (state_->raw_busy) {
      state_->beast_pending = std::make_unique<Pending<Buffers, std::decay_t<Handler>>>(b, std::forward<Handler>(h));
      return;
    }
    beast_write(b, std::forward<Handler>(h));
  }

  // Ours: whole frames (`b`, built by the caller: unmasked, well formed), written completely
  // (one gather write, more if the kernel takes less) at a frame boundary of Beast's writes,
  // never inside one of Beast's frames. `h(ec, n)`. One at a time (the caller's write queue).
  template <class Buffers, class Handler>
  void async_write_frames(const Buffers& b, Handler&& h) {
    if (state_->beast_busy || !state_->cursor.at_boundary()) {
      state_->raw_pending = std::make_unique<Pending<Buffers, std::decay_t<Handler>>>(b, std::forward<Handler>(h));
      return;
    }
    raw_write(b, std::forward<Handler>(h));
  }

 private:
  struct State;
  // A write waiting for the other kind to finish (at most one of each: both are serialized).
  struct PendingBase {
    virtual ~PendingBase() = default;
    virtual void start(Layer& l, bool raw) = 0;       // start it now
    virtual void fail(const error_code& ec) = 0;      // the layer is gone
  };
  template <class Buffers, class Handler>
  struct Pending final : PendingBase {
    Pending(const Buffers& b, Handler&& h) : b(b), h(std::move(h)) {}
    Pending(const Buffers& b, const Handler& h) : b(b), h(h) {}
    void start(Layer& l, bool raw) override {
      if (raw)
        l.raw_write(b, std::move(h));
      else
        l.beast_write(b, std::move(h));
    }
    void fail(const error_code& ec) override {
      auto ex = asio::get_associated_executor(h, asio::system_executor());
      asio::post(ex, [h = std::move(h), ec]() mutable { std::move(h)(ec, size_t(0)); });
    }
    Buffers b;
    Handler h;
  };

  template <class Buffers, class Handler>
  void beast_write(const Buffers& b, Handler&& h) {
    if (state_->answer_code && state_->cursor.at_boundary()) {
      uint8_t f[2 + 4 + 125];
      if (size_t n = close_frame_size(b, f)) return write_answer(f, n, std::forward<Handler>(h));
    }
    state_->beast_busy = true;
    // The handler may run after this layer is gone (the stream was destroyed meanwhile): it
    // holds the state, not `this`.
    auto ex = asio::get_associated_executor(h, get_executor());
    auto alloc = asio::get_associated_allocator(h);
    next_.async_write_some(
        b, asio::bind_allocator(alloc, asio::bind_executor(ex, [st = state_, b, h = std::forward<Handler>(h)](
                                                                   const error_code& ec, size_t n) mutable {
                                 st->cursor.advance(b, n);
                                 beast_done(*st, ec);
                                 std::move(h)(ec, n);
                               })));
  }

  // One of Beast's writes is done: ours may go now.
  static void beast_done(State& st, const error_code& ec) {
    st.beast_busy = false;
    if (!st.raw_pending || !st.cursor.at_boundary()) return;
    auto p = std::move(st.raw_pending);
    if (st.owner && !ec)
      p->start(*st.owner, true);
    else
      p->fail(ec ? ec : asio::error::operation_aborted);
  }

  template <class Buffers, class Handler>
  void raw_write(const Buffers& b, Handler&& h) {
    state_->raw_busy = true;
    auto ex = asio::get_associated_executor(h, get_executor());
    auto alloc = asio::get_associated_allocator(h);
    asio::async_write(next_, b,
                      asio::bind_allocator(alloc, asio::bind_executor(ex, [st = state_, h = std::forward<Handler>(h)](
                                                                              const error_code& ec, size_t n) mutable {
                                            st->raw_busy = false;
                                            if (auto p = std::move(st->beast_pending)) {
                                              if (st->owner && !ec)
                                                p->start(*st->owner, false);
                                              else
                                                p->fail(ec ? ec : asio::error::operation_aborted);
                                            }
                                            std::move(h)(ec, n);
                                          })));
  }

  struct State {
    FrameCursor cursor;  // what was written
    FrameCursor in;      // what was read
    uint16_t answer_code = 0;
    uint8_t ahead_len = 0, ahead_off = 0;  // read_ahead's bytes in `ahead`, and how many were taken
    int ahead_err = 0;                     // read_ahead found EOF (-1) or this errno
    uint8_t ahead[32];
    bool beast_busy = false;  // a write_some of Beast's in flight
    bool raw_busy = false;    // one of our frame writes in flight
    Layer* owner = nullptr;   // null once the layer is destroyed
    std::unique_ptr<PendingBase> beast_pending, raw_pending;
    std::string answer_reason;
  };

  // The size of `b` if it is exactly one close frame (copied to `f`), else 0.
  template <class Buffers>
  static size_t close_frame_size(const Buffers& b, uint8_t (&f)[2 + 4 + 125]) {
    size_t n = asio::buffer_size(b);
    if (n < 2 || n > sizeof f) return 0;
    asio::buffer_copy(asio::buffer(f), b);
    size_t want = 2 + ((f[1] & 0x80) ? 4 : 0) + (f[1] & 0x7f);
    return f[0] == 0x88 && n == want ? n : 0;
  }

  // Writes our close frame in place of Beast's (`f`, `n` bytes), reporting Beast's as written.
  template <class Handler>
  void write_answer(const uint8_t* f, size_t n, Handler&& h) {
    auto out = std::make_shared<std::string>(
        close_frame(state_->answer_code, state_->answer_reason, (f[1] & 0x80) ? f + 2 : nullptr));
    state_->answer_code = 0;
    state_->beast_busy = true;
    auto ex = asio::get_associated_executor(h, get_executor());
    asio::async_write(next_, asio::buffer(*out),
                      asio::bind_executor(ex, [st = state_, out, n, h = std::forward<Handler>(h)](const error_code& ec, size_t) mutable {
                        beast_done(*st, ec);
                        std::move(h)(ec, ec ? 0 : n);
                      }));
  }

  Next next_;
  std::shared_ptr<State> state_;
};

// Beast's teardown at the end of a closing handshake (ours, found by argument-dependent lookup):
// Beast 1.81's own reads at most 2 KB from the socket and then closes it, which resets the
// connection (RST) when more input is pending, and fails on a peer that resets after a
// completed handshake. Here it does nothing on TCP: Conn::linger() half-closes and drains the
// socket once Beast is done. On TLS it sends our close_notify without waiting for the peer's
// (what follows is drained the same way).
template <class Handler>
void async_teardown(beast::role_type, Layer<Socket>& s, Handler&& h) {
  asio::post(s.get_executor(), beast::bind_front_handler(std::forward<Handler>(h), error_code{}));
}

template <class Handler>
void async_teardown(beast::role_type, Layer<ssl::stream<Socket>>& s, Handler&& h) {
  auto& stream = s.next_layer();
  SSL_set_shutdown(stream.native_handle(), SSL_RECEIVED_SHUTDOWN);  // one way: send, don't wait
  auto ex = asio::get_associated_executor(h, s.get_executor());
  stream.async_shutdown(asio::bind_executor(ex, [h = std::forward<Handler>(h)](const error_code&) mutable {
    std::move(h)(error_code{});  // a peer that is gone already changes nothing here
  }));
}

// Lingering close (as nginx's lingering_close): closing a socket whose input was not all read
// makes the kernel reset the connection, and a peer still sending (the rest of a message too
// big for us, frames in flight) may then never read our close frame. So the socket is
// half-closed (our FIN follows everything already sent) and its input read and discarded until
// the peer's EOF, for at most `ms` and kLingerBytes, then closed.
class Linger : public std::enable_shared_from_this<Linger> {
 public:
  static constexpr uint64_t kLingerBytes = 64u * 1024 * 1024;

  // Takes the socket's descriptor over (pending operations on `s` complete as aborted).
  static void start(Socket& s, int64_t ms) {
    error_code ec;
    auto ep = s.local_endpoint(ec);
    if (ec || ms <= 0) return (void)s.close(ec);
    auto fd = s.release(ec);
    if (ec) return (void)s.close(ec);
    auto l = std::make_shared<Linger>(s.get_executor(), ep.protocol(), fd, ms);
    l->sock_.shutdown(Socket::shutdown_send, ec);
    l->timer_.async_wait([w = std::weak_ptr<Linger>(l)](const error_code& ec) {
      if (auto self = w.lock(); self && !ec) self->stop();
    });
    l->read();
  }

  Linger(const Socket::executor_type& ex, tcp protocol, Socket::native_handle_type fd, int64_t ms)
      : sock_(ex, protocol, fd), timer_(ex, std::chrono::milliseconds(ms)) {}

 private:
  void read() {
    sock_.async_read_some(asio::buffer(buf_), pooled([self = shared_from_this()](const error_code& ec, size_t n) {
      self->total_ += n;
      if (ec || self->total_ >= kLingerBytes) return self->stop();
      self->read();
    }));
  }

  void stop() {
    error_code ignored;
    timer_.cancel();
    sock_.close(ignored);
  }

  Socket sock_;
  asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>,
                             Socket::executor_type>
      timer_;
  uint64_t total_ = 0;
  char buf_[16 * 1024];
};

}  // namespace mw::net::wslayer
