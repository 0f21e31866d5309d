// net.ws connections, the write side: frames built once (make_frame, shared by a broadcast),
// the outgoing queue with its bounds and drop policy, and the gather writes that drain it
// (Beast only for compressed or client-side messages). The rest of Conn is in ws/conn.cpp.
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/container/small_vector.hpp>

#include <span>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/pool.hpp"
#include "stdlib/net/ws/conn.hpp"

namespace mw::net::ws {

size_t frame_header(uint8_t* h, Kind kind, size_t n) {
  h[0] = static_cast<uint8_t>(0x80 | (kind == kText ? 1 : 2));
  if (n < 126) {
    h[1] = static_cast<uint8_t>(n);
    return 2;
  }
  if (n < 65536) {
    h[1] = 126;
    h[2] = static_cast<uint8_t>(n >> 8);
    h[3] = static_cast<uint8_t>(n);
    return 4;
  }
  h[1] = 127;
  for (int i = 0; i < 8; ++i) h[2 + i] = static_cast<uint8_t>(static_cast<uint64_t>(n) >> (56 - 8 * i));
  return 10;
}

SharedFrame make_frame(std::string_view payload, Kind kind) {
  uint8_t h[10];
  size_t hl = frame_header(h, kind, payload.size());
  auto f = std::make_shared<std::string>();
  f->reserve(hl + payload.size());
  f->append(reinterpret_cast<const char*>(h), hl);
  f->append(payload);
  return {std::move(f), hl, kind};
}

void Conn::enqueue(OutMsg m) {
  if (m.kind <= kBinary) {
    wq_bytes_ += m.size();
    if (raw_ && !m.framed) m.hdr_len = static_cast<uint8_t>(frame_header(m.hdr, m.kind, m.size()));
  }
  wq_.push_back(std::move(m));
  pump();
}

size_t Conn::write_now(Kind kind, std::string_view data, size_t& frame_size) {
  uint8_t h[10];
  size_t hl = frame_header(h, kind, data.size());
  frame_size = hl + data.size();
  if (!raw_ || !plain || kind > kBinary || writing_ || !wq_.empty() || !sendable()) return 0;
  iovec iov[2] = {{h, hl}, {const_cast<char*>(data.data()), data.size()}};
  return plain->next_layer().write_now(iov, data.empty() ? 1 : 2);
}

void Conn::enqueue_rest(Kind kind, std::string_view data, size_t from, const OpPtr& op) {
  uint8_t h[10];
  size_t hl = frame_header(h, kind, data.size());
  // What is left of the header, copied; the payload still points into the sender's string.
  OutMsg m{kind, 0, data.substr(from < hl ? 0 : from - hl), nullptr, op};
  m.hdr_len = static_cast<uint8_t>(from < hl ? hl - from : 0);
  std::copy(h + std::min(from, hl), h + hl, m.hdr);
  wq_bytes_ += m.size();
  wq_.push_back(std::move(m));
  pump();
}

// The sender waiting on `op` stops waiting (timeout, cancel) while its frame still points
// into its Lua string (argument 2 of ws:send): pin that string until the frame is written.
void Conn::pin(Op* op) {
  for (auto& m : wq_) {
    if (m.op.get() != op || m.owned || m.ref != LUA_NOREF) continue;
    lua_State* T = op->thread();
    lua_pushvalue(T, 2);
    m.ref = luaL_ref(T, LUA_REGISTRYINDEX);
  }
}

// broadcast: queues without waiting; a client over its bound is closed with 1008.
bool Conn::offer(const SharedFrame& f) {
  if (!sendable()) return false;
  size_t n = f.frame->size() - f.hdr_len;
  if (!wq_.empty() && (wq_bytes_ + n > settings.max_queue || wq_.size() >= 65536)) {
    drop_queue_and_close(1008, "send queue overflow");
    return false;
  }
  OutMsg m{f.kind, 0, std::string_view(*f.frame).substr(f.hdr_len), f.frame, nullptr};
  if (raw_) {
    m.framed = true;
    m.hdr_len = static_cast<uint8_t>(f.hdr_len);
  }
  wq_bytes_ += n;
  wq_.push_back(std::move(m));
  if (!writing_ && !pump_posted_) {
    pump_posted_ = true;
    asio::post(engine_.io(), pooled([self = shared_from_this()] {
      self->pump_posted_ = false;
      self->pump();
    }));
  }
  return true;
}

// Sends a close frame (after queued messages) and completes the handshake, bounded by
// close_timeout. `op` (optional) is resumed when the connection is closed.
namespace {
constexpr size_t kMaxIov = 64;                   // buffers per gather write (Asio's own limit)
constexpr size_t kMaxGather = 256u * 1024;       // bytes per gather write, beyond the first frame
}  // namespace

// Our own frames at the front of the queue, as many as one gather write takes.
void Conn::write_frames() {
  asio::const_buffer* iov = iov_inline_;
  size_t cap = std::size(iov_inline_);
  size_t n = 0, frames = 0, bytes = 0;
  for (auto it = wq_.begin(); it != wq_.end() && it->kind <= kBinary; ++it) {
    size_t need = it->framed ? 1 : 2;
    size_t len = it->hdr_len + it->size();
    if (frames && (n + need > kMaxIov || bytes + len > kMaxGather)) break;
    if (n + need > cap) {
      if (!iov_heap_) iov_heap_ = std::make_unique<asio::const_buffer[]>(kMaxIov);
      if (iov != iov_heap_.get()) std::copy(iov, iov + n, iov_heap_.get());
      iov = iov_heap_.get();
      cap = kMaxIov;
    }
    if (it->framed) {
      iov[n++] = asio::const_buffer(it->data.data() - it->hdr_len, len);
    } else {
      iov[n++] = asio::const_buffer(it->hdr, it->hdr_len);
      if (it->size()) iov[n++] = asio::const_buffer(it->data.data(), it->size());
    }
    ++frames;
    bytes += len;
  }
  batch_ = frames;
  auto self = shared_from_this();
  auto done = pooled([self](const error_code& ec, size_t) { self->on_written(ec); });
  std::span<const asio::const_buffer> bufs(iov, n);
  if (plain)
    plain->next_layer().async_write_frames(bufs, std::move(done));
  else
    tls->next_layer().async_write_frames(bufs, std::move(done));
}

void Conn::pump() {
  if (writing_ || wq_.empty() || finished_) return;
  writing_ = true;
  OutMsg& m = wq_.front();
  if (raw_ && m.kind <= kBinary) return write_frames();
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
void Conn::unpin(OutMsg& m) {
  if (m.ref != LUA_NOREF && !engine_.closing()) luaL_unref(engine_.L(), LUA_REGISTRYINDEX, m.ref);
  m.ref = LUA_NOREF;
}

void Conn::on_written(const error_code& ec) {
  writing_ = false;
  if (wq_.empty()) return;
  if (size_t frames = std::exchange(batch_, 0)) {
    // Our gather write: every frame in it was written, or the connection is over.
    frames = std::min(frames, wq_.size());
    boost::container::small_vector<OpPtr, 8> done;  // (no allocation for the usual few)
    for (size_t i = 0; i < frames; ++i) {
      OutMsg m = std::move(wq_.front());
      wq_.pop_front();
      unpin(m);
      wq_bytes_ -= m.size();
      if (m.op) done.push_back(std::move(m.op));
    }
    if (wq_.empty()) iov_heap_.reset();
    if (ec) {
      for (auto& op : done) fail_closed(op, ec == asio::error::operation_aborted ? "" : error_text(ec));
      return write_failed(ec);
    }
    for (auto& op : done) op->resume();
    return pump();
  }
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


// `op` (a send, ping or pong) cannot complete: the connection is closed.
void Conn::fail_closed(const OpPtr& op, std::string_view why) {
  std::string msg = std::string(op->what()) + ": WebSocket is closed";
  if (!why.empty()) msg += " (" + std::string(why) + ")";
  op->fail(kClosed, msg);
}

// Fails every queued frame (none is being written).
void Conn::fail_queue(std::string_view why) {
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
void Conn::write_failed(const error_code& ec) {
  if (finished_) return;
  close_queued_ = true;
  fail_queue(ec == asio::error::operation_aborted ? "" : error_text(ec));
  if (!reading_) return abort(1006, "write failed: " + error_text(ec));
  if (!close_timer_) arm_close_timer();
}

void Conn::drop_queue_and_close(uint16_t code, const char* reason) {
  // Keeps the frames being written; drops the rest.
  size_t keep = in_flight();
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

}  // namespace mw::net::ws
