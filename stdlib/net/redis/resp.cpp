// RESP2/RESP3 encoder, incremental scanner and decoder (see resp.hpp).
#include "stdlib/net/redis/resp.hpp"

#include <charconv>
#include <cstdlib>
#include <cstring>

namespace mw::redis {

static void append_num(std::string& out, size_t n) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

void append_array_header(std::string& out, size_t n) {
  out += '*';
  append_num(out, n);
  out += "\r\n";
}

void append_bulk(std::string& out, std::string_view arg) {
  out += '$';
  append_num(out, arg.size());
  out += "\r\n";
  out.append(arg.data(), arg.size());
  out += "\r\n";
}

void append_command(std::string& out, const std::vector<std::string_view>& args) {
  append_array_header(out, args.size());
  for (auto a : args) append_bulk(out, a);
}

namespace {

// The line starting at p[pos] (after the type byte): [pos, eol) with "\r\n" at eol.
// Returns false if the CRLF is not there yet.
bool find_line(const char* p, size_t n, size_t pos, size_t& eol) {
  while (pos < n) {
    const void* cr = std::memchr(p + pos, '\r', n - pos);
    if (!cr) return false;
    size_t at = static_cast<const char*>(cr) - p;
    if (at + 1 >= n) return false;
    if (p[at + 1] == '\n') {
      eol = at;
      return true;
    }
    pos = at + 1;
  }
  return false;
}

bool parse_int(const char* b, const char* e, int64_t& out) {
  if (b == e) return false;
  auto r = std::from_chars(b, e, out);
  return r.ec == std::errc() && r.ptr == e;
}

}  // namespace

Scan scan(const char* p, size_t n, size_t& len, std::string& error) {
  size_t pos = 0;
  // Values still to start at each open aggregate level (an attribute's level also holds the
  // value it annotates). The reply is complete when the last level closes.
  int64_t left[kMaxDepth + 1];
  int depth = 0;
  do {
    if (pos >= n) return Scan::incomplete;
    char type = p[pos];
    size_t eol;
    if (!find_line(p, n, pos + 1, eol)) {
      if (n - pos > 64 * 1024 && type != '+' && type != '-') {  // a length line is short
        error = "protocol error: line too long";
        return Scan::error;
      }
      return Scan::incomplete;
    }
    const char* b = p + pos + 1;
    const char* e = p + eol;
    size_t next = eol + 2;
    if (depth > 0) --left[depth - 1];
    int64_t v = 0;
    switch (type) {
      case '+': case '-': case ':': case '_': case '#': case ',': case '(':
        break;
      case '$': case '=': case '!':
        if (!parse_int(b, e, v) || v < -1 || v > kMaxBulk) {
          error = "protocol error: bad bulk length";
          return Scan::error;
        }
        if (v >= 0) {
          if (n < next + static_cast<size_t>(v) + 2) return Scan::incomplete;
          if (p[next + v] != '\r' || p[next + v + 1] != '\n') {
            error = "protocol error: bulk string not terminated by CRLF";
            return Scan::error;
          }
          next += static_cast<size_t>(v) + 2;
        }
        break;
      case '*': case '~': case '>': case '%': case '|': {
        if (!parse_int(b, e, v) || v < -1 || v > kMaxElements) {
          error = "protocol error: bad aggregate length";
          return Scan::error;
        }
        int64_t k = v <= 0 ? 0 : ((type == '%' || type == '|') ? 2 * v : v);
        if (type == '|') k += 1;  // attributes precede the value they describe
        if (k > 0) {
          if (depth >= kMaxDepth) {
            error = "protocol error: reply nested deeper than " + std::to_string(kMaxDepth) + " levels";
            return Scan::error;
          }
          left[depth++] = k;
        }
        break;
      }
      default:
        error = std::string("protocol error: unexpected byte '") + (type >= 32 && type < 127 ? type : '?') + "'";
        return Scan::error;
    }
    pos = next;
    while (depth > 0 && left[depth - 1] == 0) --depth;
  } while (depth > 0);
  len = pos;
  return Scan::complete;
}

namespace {

size_t decode_at(const char* p, size_t n, size_t pos, Value& out, int depth) {
  if (depth > kMaxDepth || pos >= n) return 0;
  char type = p[pos];
  size_t eol;
  if (!find_line(p, n, pos + 1, eol)) return 0;
  const char* b = p + pos + 1;
  const char* e = p + eol;
  size_t next = eol + 2;
  out.type = type;
  int64_t v = 0;
  switch (type) {
    case '+': case '-': case '(':
      out.str.assign(b, e);
      return next;
    case ':':
      if (!parse_int(b, e, out.integer)) return 0;
      return next;
    case '_':
      return next;
    case '#':
      out.boolean = (e > b && *b == 't');
      return next;
    case ',':
      out.str.assign(b, e);
      out.number = std::strtod(out.str.c_str(), nullptr);
      return next;
    case '$': case '=': case '!':
      if (!parse_int(b, e, v)) return 0;
      if (v < 0) {
        out.type = '_';
        return next;
      }
      if (n < next + v + 2) return 0;
      out.str.assign(p + next, static_cast<size_t>(v));
      if (type == '=' && out.str.size() >= 4 && out.str[3] == ':') out.str.erase(0, 4);
      if (type == '!') out.type = '-';
      return next + v + 2;
    case '*': case '~': case '>': case '%': case '|': {
      if (!parse_int(b, e, v)) return 0;
      if (v < 0) {
        out.type = '_';
        return next;
      }
      size_t count = (type == '%' || type == '|') ? 2 * v : v;
      out.elems.resize(count);
      for (auto& el : out.elems) {
        next = decode_at(p, n, next, el, depth + 1);
        if (!next) return 0;
      }
      if (type == '|') {  // skip the attributes, return the value
        Value real;
        next = decode_at(p, n, next, real, depth + 1);
        out = std::move(real);
      }
      return next;
    }
    default:
      return 0;
  }
}

}  // namespace

size_t decode(const char* p, size_t n, Value& out) { return decode_at(p, n, 0, out, 0); }

std::string_view error_code(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && ((text[i] >= 'A' && text[i] <= 'Z') || text[i] == '_')) ++i;
  if (i > 0 && (i == text.size() || text[i] == ' ')) return text.substr(0, i);
  return "ERR";
}

}  // namespace mw::redis
