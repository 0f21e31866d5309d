#pragma once
// Streaming gzip / deflate decoding for HTTP bodies (Content-Encoding), on Beast's inflate
// (a port of zlib's). Include only from stdlib/net/*.cpp (pulls in Beast).
#include <boost/beast/zlib/error.hpp>
#include <boost/beast/zlib/inflate_stream.hpp>
#include <boost/crc.hpp>
#include <cstdint>
#include <memory>
#include <string>

namespace mw::net {

class Inflater {
 public:
  enum class Kind { gzip, deflate };

  void start(Kind k) {
    kind_ = k;
    state_ = k == Kind::gzip ? State::gz_header : State::zlib_header;
    hdr_.clear();
    is_.reset(15);
    crc_.reset();
    size_ = 0;
    if (!out_) out_ = std::make_unique_for_overwrite<char[]>(kOut);
  }

  // Feeds compressed bytes; `out(data, n)` receives decoded bytes (it returns false to stop).
  // Returns false with `error` set on corrupt data or when out() failed.
  template <class Out>
  bool feed(const char* p, size_t n, Out&& out, std::string& error) {
    while (n > 0) {
      switch (state_) {
        case State::gz_header: {
          hdr_.append(p, n);
          p += n;
          n = 0;
          long used = parse_gz_header(hdr_);
          if (used < 0) return fail(error, "invalid gzip header");
          if (used == 0) {
            if (hdr_.size() > 65536) return fail(error, "gzip header too large");
            break;
          }
          std::string rest = hdr_.substr(static_cast<size_t>(used));
          hdr_.clear();
          state_ = State::body;
          if (!rest.empty() && !feed(rest.data(), rest.size(), out, error)) return false;
          break;
        }
        case State::zlib_header: {
          hdr_.append(p, n);
          p += n;
          n = 0;
          if (hdr_.size() < 2) break;
          unsigned char b0 = static_cast<unsigned char>(hdr_[0]), b1 = static_cast<unsigned char>(hdr_[1]);
          std::string rest;
          if ((b0 & 0x0f) == 8 && ((b0 << 8) | b1) % 31 == 0) {  // zlib wrapper (RFC 1950)
            if (b1 & 0x20) return fail(error, "deflate stream needs a preset dictionary");
            rest = hdr_.substr(2);
          } else {
            rest = hdr_;  // raw deflate, as some servers send
          }
          hdr_.clear();
          state_ = State::body;
          if (!rest.empty() && !feed(rest.data(), rest.size(), out, error)) return false;
          break;
        }
        case State::body: {
          boost::beast::zlib::z_params zs;
          zs.next_in = p;
          zs.avail_in = n;
          for (;;) {
            zs.next_out = out_.get();
            zs.avail_out = kOut;
            boost::system::error_code ec;
            is_.write(zs, boost::beast::zlib::Flush::sync, ec);
            size_t produced = kOut - zs.avail_out;
            if (produced) {
              if (kind_ == Kind::gzip) crc_.process_bytes(out_.get(), produced);
              size_ += produced;
              if (!out(out_.get(), produced)) return fail(error, "");
            }
            if (ec == boost::beast::zlib::error::end_of_stream) {
              state_ = kind_ == Kind::gzip ? State::gz_trailer : State::done;
              break;
            }
            if (ec == boost::beast::zlib::error::need_buffers) {
              if (produced == 0) break;
              continue;
            }
            if (ec) return fail(error, "corrupt compressed body: " + ec.message());
            if (zs.avail_in == 0 && zs.avail_out != 0) break;
          }
          size_t used = n - zs.avail_in;
          p += used;
          n -= used;
          if (state_ == State::body && n > 0 && used == 0) return fail(error, "corrupt compressed body");
          break;
        }
        case State::gz_trailer: {
          size_t take = std::min(n, 8 - hdr_.size());
          hdr_.append(p, take);
          p += take;
          n -= take;
          if (hdr_.size() == 8) {
            auto le32 = [&](size_t i) {
              return static_cast<uint32_t>(static_cast<unsigned char>(hdr_[i])) |
                     static_cast<uint32_t>(static_cast<unsigned char>(hdr_[i + 1])) << 8 |
                     static_cast<uint32_t>(static_cast<unsigned char>(hdr_[i + 2])) << 16 |
                     static_cast<uint32_t>(static_cast<unsigned char>(hdr_[i + 3])) << 24;
            };
            if (le32(0) != crc_.checksum()) return fail(error, "gzip CRC mismatch");
            if (le32(4) != static_cast<uint32_t>(size_)) return fail(error, "gzip length mismatch");
            hdr_.clear();
            state_ = State::done;
          }
          break;
        }
        case State::done:
          // Another gzip member may follow (concatenated gzip); anything else is ignored.
          if (kind_ == Kind::gzip && static_cast<unsigned char>(*p) == 0x1f) {
            is_.reset(15);
            crc_.reset();
            size_ = 0;
            state_ = State::gz_header;
            continue;
          }
          n = 0;
          break;
      }
    }
    return true;
  }

  // At the end of the body: false (with error) if the compressed stream is incomplete.
  bool finish(std::string& error) {
    if (state_ == State::done) return true;
    if ((state_ == State::gz_header || state_ == State::zlib_header) && hdr_.empty()) return true;  // empty body
    return fail(error, "compressed body is truncated");
  }

 private:
  enum class State { gz_header, zlib_header, body, gz_trailer, done };
  static constexpr size_t kOut = 64 * 1024;

  static bool fail(std::string& error, std::string msg) {
    error = std::move(msg);
    return false;
  }

  // Bytes used by a complete gzip header at the start of h; 0 if incomplete; -1 if invalid.
  static long parse_gz_header(const std::string& h) {
    if (h.size() < 10) {
      if (!h.empty() && static_cast<unsigned char>(h[0]) != 0x1f) return -1;
      if (h.size() > 1 && static_cast<unsigned char>(h[1]) != 0x8b) return -1;
      return 0;
    }
    if (static_cast<unsigned char>(h[0]) != 0x1f || static_cast<unsigned char>(h[1]) != 0x8b || h[2] != 8) return -1;
    unsigned flg = static_cast<unsigned char>(h[3]);
    size_t pos = 10;
    if (flg & 4) {
      if (h.size() < pos + 2) return 0;
      size_t xlen = static_cast<unsigned char>(h[pos]) | static_cast<unsigned char>(h[pos + 1]) << 8;
      pos += 2 + xlen;
      if (h.size() < pos) return 0;
    }
    for (unsigned bit : {8u, 16u}) {
      if (flg & bit) {
        size_t z = h.find('\0', pos);
        if (z == std::string::npos) return 0;
        pos = z + 1;
      }
    }
    if (flg & 2) {
      pos += 2;
      if (h.size() < pos) return 0;
    }
    return static_cast<long>(pos);
  }

  Kind kind_ = Kind::gzip;
  State state_ = State::gz_header;
  std::string hdr_;
  boost::beast::zlib::inflate_stream is_;
  boost::crc_32_type crc_;
  uint64_t size_ = 0;
  std::unique_ptr<char[]> out_;
};

}  // namespace mw::net
