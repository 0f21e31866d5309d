#include "stdlib/net/url.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include "runtime/lua.hpp"

namespace mw::net {

namespace urls = boost::urls;

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return r;
}

static bool is_scheme_char(char c, bool first) {
  if (std::isalpha(static_cast<unsigned char>(c))) return true;
  return !first && (std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.');
}

static std::string port_problem(std::string_view port) {
  if (port.empty()) return "";
  if (port.find_first_not_of("0123456789") != std::string_view::npos)
    return "port '" + std::string(port) + "' is not a number";
  int p = parse_port(port);
  if (p < 0) return "port " + std::string(port) + " is out of range (1..65535)";
  if (p == 0) return "port 0 is not a port to connect to";
  return "";
}

std::string url_problem(std::string_view s, bool scheme_required) {
  if (s.empty()) return "it is empty";
  size_t sep = s.find("://");
  size_t start = 0;
  if (sep == std::string_view::npos) {
    if (scheme_required) return "it has no scheme (expected scheme://host[:port]/path)";
  } else {
    if (sep == 0) return "it has an empty scheme";
    for (size_t i = 0; i < sep; ++i)
      if (!is_scheme_char(s[i], i == 0)) return "invalid scheme '" + std::string(s.substr(0, sep)) + "'";
    start = sep + 3;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c <= 0x20 || c == 0x7f)
      return std::string(c == ' ' ? "a space" : "a control character") + " at position " + std::to_string(i + 1) +
             " (percent-encode it)";
  }
  std::string_view authority = s.substr(start);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    // Boost.URL would take "a@b@c" as user a, host b and path "@c": connect to b while the URL
    // names c (curl and browsers use c). Found by tools/fuzz/fuzz_url.
    if (authority.find('@') != at) return "it has more than one '@' (percent-encode '@' in a user name or password as %40)";
    authority.remove_prefix(at + 1);
  }
  if (authority.empty()) return "it has no host";
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return "unterminated IPv6 address (missing ']')";
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return "unexpected '" + std::string(rest) + "' after the IPv6 address";
    return rest.empty() ? "" : port_problem(rest.substr(1));
  }
  size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos) return "";
  if (colon == 0) return "it has no host";
  return port_problem(authority.substr(colon + 1));
}

static bool fail(std::string_view s, const std::string& problem, std::string& error) {
  error = "invalid URL '" + std::string(s) + "': " + problem;
  return false;
}

static bool parse_target(std::string_view s, bool web, UrlTarget& t, std::string& error) {
  if (std::string p = url_problem(s); !p.empty()) return fail(s, p, error);
  auto r = urls::parse_uri(s);
  if (!r) return fail(s, "not a valid URL (characters such as spaces, quotes or '%' must be percent-encoded)", error);
  urls::url u(*r);
  t.scheme = lower(u.scheme());
  if (web) {
    if (t.scheme != "ws" && t.scheme != "wss" && t.scheme != "http" && t.scheme != "https")
      return fail(s, "unsupported scheme '" + t.scheme + "' (use ws:// or wss://)", error);
    t.secure = t.scheme == "wss" || t.scheme == "https";
  } else {
    if (t.scheme != "http" && t.scheme != "https")
      return fail(s, "unsupported scheme '" + t.scheme + "' (use http:// or https://)", error);
    t.secure = t.scheme == "https";
  }
  if (u.host_type() == urls::host_type::ipv6)
    t.host = u.host_ipv6_address().to_string();
  else
    t.host = lower(u.host_address());
  if (t.host.empty()) return fail(s, "it has no host", error);
  if (u.has_port() && u.port().empty()) u.remove_port();  // "http://host:/" as curl: the default port
  uint16_t def = t.secure ? 443 : 80;
  t.port = u.has_port() ? u.port_number() : def;
  t.user = u.has_userinfo() ? u.user() : std::string();
  t.password = u.has_password() ? u.password() : std::string();
  u.remove_fragment();
  std::string_view path = u.encoded_path();
  if (!path.empty() && path.front() != '/') return fail(s, "not a valid URL (the path must start with '/')", error);
  t.target = path.empty() ? "/" : std::string(path);
  if (u.has_query()) t.target += "?" + std::string(u.encoded_query());
  std::string hh = u.host_type() == urls::host_type::ipv6 ? "[" + t.host + "]" : t.host;
  t.host_header = t.port == def ? hh : hh + ":" + std::to_string(t.port);
  u.remove_userinfo();
  t.url = std::string(u.buffer());
  return true;
}

bool parse_http_url(std::string_view s, UrlTarget& out, std::string& error) { return parse_target(s, false, out, error); }
bool parse_ws_url(std::string_view s, UrlTarget& out, std::string& error) { return parse_target(s, true, out, error); }

}  // namespace mw::net
