#pragma once
// A cookie jar with RFC 6265's storage and retrieval rules (section 5), used by net.http
// sessions. Pure C++ (no Lua, no Asio): the HTTP client asks it for the Cookie header of every
// request it sends (redirect hops included) and hands it every Set-Cookie it receives.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mw::net {

// Where a request goes (or a response came from): lower-case scheme and host (no port: cookies
// ignore ports, RFC 6265 8.5), and the path of the request target without the query.
struct CookieUrl {
  std::string scheme, host, path;
  bool secure() const { return scheme == "https" || scheme == "wss"; }
};

struct Cookie {
  std::string name, value;
  std::string domain;  // lower case; "" = set by hand without a domain: sent to every host
  std::string path = "/";
  std::optional<int64_t> expires;  // Unix seconds; none = a session cookie (lives with the jar)
  bool host_only = true;           // no Domain attribute: only this exact host
  bool secure = false, http_only = false;
  uint64_t created = 0;  // creation order (the Cookie header lists older cookies first)
};

// Limits (browsers use about the same): larger cookies are ignored; beyond a count, expired
// cookies go first, then the oldest.
inline constexpr size_t kMaxCookieBytes = 4096;  // name + value
inline constexpr size_t kMaxCookiesPerDomain = 50;
inline constexpr size_t kMaxCookies = 3000;

class CookieJar : public std::enable_shared_from_this<CookieJar> {
 public:
  // Stores (or replaces, or deletes when already expired) the cookie of one Set-Cookie value
  // received from `from`. Returns false with the reason when the cookie was ignored.
  bool set_from_header(const CookieUrl& from, std::string_view header, int64_t now, std::string* why = nullptr);
  // Stores a cookie made by hand (name and value already checked); an expired one deletes.
  void set(Cookie c, int64_t now);
  // The cookies to send to `to`, ordered as RFC 6265 5.4 says (longer paths first, then older).
  std::vector<const Cookie*> matching(const CookieUrl& to, int64_t now);
  // "a=1; b=2" for `to`, or "" when none matches.
  std::string header_for(const CookieUrl& to, int64_t now);
  // Every unexpired cookie, oldest first.
  std::vector<const Cookie*> all(int64_t now);
  void clear() { cookies_.clear(); }
  size_t size() const { return cookies_.size(); }

 private:
  void purge(int64_t now);
  void store(Cookie c, int64_t now);
  std::vector<Cookie> cookies_;
  uint64_t seq_ = 0;
};

// RFC 6265 5.1.1 cookie-date (the lenient algorithm browsers use): Unix seconds, or none.
std::optional<int64_t> parse_cookie_date(std::string_view s);
// 5.1.3: host equals domain, or ends with "." + domain and is not an IP address.
bool domain_match(std::string_view host, std::string_view domain);
// 5.1.4: the default path of a request path ("/a/b/c" -> "/a/b"; "/" when none).
std::string default_cookie_path(std::string_view request_path);
bool path_match(std::string_view request_path, std::string_view cookie_path);
bool is_ip_address(std::string_view host);
// A cookie name is an HTTP token; a value is cookie-octets (RFC 6265 4.1.1: no CTLs, space,
// DQUOTE, comma, semicolon or backslash), optionally in double quotes.
bool valid_cookie_name(std::string_view s);
bool valid_cookie_value(std::string_view s);

}  // namespace mw::net
