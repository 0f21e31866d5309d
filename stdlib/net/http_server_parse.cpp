// The HTTP server's request side: Beast's parser filling a reused per-connection arena,
// header lookups, path/query decoding, the headers table, and response header checks.
#include <boost/beast/http/error.hpp>
#include <ctime>

#include "stdlib/net/http_server.hpp"

namespace mw::net::httpd {

namespace http = boost::beast::http;

static char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

static bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower_ascii(a[i]) != lower_ascii(b[i])) return false;
  return true;
}

std::string_view RequestHead::find(std::string_view lname) const {
  for (size_t i = 0; i < headers.size(); ++i)
    if (name(i) == lname) return value(i);
  return {};
}

// Whether a comma-separated header (Connection, Expect, ...) lists `token` (any case).
bool RequestHead::has_token(std::string_view lname, std::string_view token) const {
  for (size_t i = 0; i < headers.size(); ++i) {
    if (name(i) != lname) continue;
    std::string_view v = value(i);
    while (!v.empty()) {
      size_t comma = v.find(',');
      std::string_view item = v.substr(0, comma);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (ieq(item, token)) return true;
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return false;
}

void RequestParser::on_request_impl(http::verb method, bsv method_str, bsv target,
                                    int version, error_code& ec) {
  head_.method_off = static_cast<uint32_t>(head_.arena.size());
  head_.method_len = static_cast<uint32_t>(method_str.size());
  head_.arena.append(method_str.data(), method_str.size());
  head_.target_off = static_cast<uint32_t>(head_.arena.size());
  head_.target_len = static_cast<uint32_t>(target.size());
  head_.arena.append(target.data(), target.size());
  head_.version = version;
  head_.is_head = method == http::verb::head;
}

void RequestParser::on_field_impl(http::field f, bsv name, bsv value, error_code& ec) {
  if (head_.headers.size() >= max_headers_) {
    too_many_headers = true;
    ec = http::error::header_limit;
    return;
  }
  HeaderRef h;
  h.name = static_cast<uint32_t>(head_.arena.size());
  h.name_len = static_cast<uint32_t>(name.size());
  for (char c : name) head_.arena.push_back(lower_ascii(c));
  h.value = static_cast<uint32_t>(head_.arena.size());
  h.value_len = static_cast<uint32_t>(value.size());
  head_.arena.append(value.data(), value.size());
  head_.headers.push_back(h);
  if (f == http::field::expect && ieq(std::string_view(value.data(), value.size()), "100-continue")) head_.expect_continue = true;
}

void RequestParser::on_header_impl(error_code& ec) {
  head_.chunked = chunked();
  if (auto n = content_length()) head_.content_length = *n;
}

void RequestParser::on_body_init_impl(const boost::optional<uint64_t>&, error_code&) {}

size_t RequestParser::on_body_impl(bsv body, error_code&) {
  body_.append(body.data(), body.size());
  body_received += body.size();
  return body.size();
}

size_t RequestParser::on_chunk_body_impl(uint64_t, bsv body, error_code&) {
  body_.append(body.data(), body.size());
  body_received += body.size();
  return body.size();
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

void push_query(lua_State* L, std::string_view raw) {
  lua_newtable(L);
  while (!raw.empty()) {
    size_t amp = raw.find('&');
    std::string_view pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view{} : raw.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key = percent_decode(pair.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true);
    push_sv(L, key);
    int t = lua_rawget(L, -2);
    if (t == LUA_TNIL) {
      lua_pop(L, 1);
      push_sv(L, key);
      push_sv(L, value);
      lua_rawset(L, -3);
    } else if (t == LUA_TSTRING) {  // second occurrence: a list of both
      lua_createtable(L, 2, 0);
      lua_insert(L, -2);
      lua_rawseti(L, -2, 1);
      push_sv(L, value);
      lua_rawseti(L, -2, 2);
      push_sv(L, key);
      lua_insert(L, -2);
      lua_rawset(L, -3);
    } else {
      push_sv(L, value);
      lua_rawseti(L, -2, static_cast<lua_Integer>(lua_rawlen(L, -2) + 1));
      lua_pop(L, 1);
    }
  }
}

void push_headers(lua_State* L, const RequestHead& head) {
  lua_createtable(L, 0, static_cast<int>(head.headers.size()));
  for (size_t i = 0; i < head.headers.size(); ++i) {
    std::string_view name = head.name(i), value = head.value(i);
    push_sv(L, name);
    int t = lua_rawget(L, -2);
    if (name == "set-cookie") {
      if (t != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        push_sv(L, name);
        lua_pushvalue(L, -2);
        lua_rawset(L, -4);
      }
      push_sv(L, value);
      lua_rawseti(L, -2, static_cast<lua_Integer>(lua_rawlen(L, -2) + 1));
      lua_pop(L, 1);
      continue;
    }
    if (t == LUA_TSTRING) {
      if (name == "cookie")
        lua_pushliteral(L, "; ");
      else
        lua_pushliteral(L, ", ");
      push_sv(L, value);
      lua_concat(L, 3);
    } else {
      lua_pop(L, 1);
      push_sv(L, value);
    }
    push_sv(L, name);
    lua_insert(L, -2);
    lua_rawset(L, -3);
  }
}

std::string_view http_date() {
  static thread_local char buf[40];
  static thread_local size_t len = 0;
  static thread_local time_t last = 0;
  time_t now = ::time(nullptr);
  if (now != last) {
    last = now;
    struct tm tm;
    gmtime_r(&now, &tm);
    len = strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  }
  return {buf, len};
}

bool valid_header_name(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool valid_header_value(std::string_view s) {
  for (unsigned char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

}  // namespace mw::net::httpd
