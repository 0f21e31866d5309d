#pragma once
// URLs as the net modules take them: one parser (Boost.URL) and one set of error messages
// that say what is wrong ("port 99999 is out of range"), never Boost's internal names.
#include <cstdint>
#include <string>
#include <string_view>

namespace mw::net {

// ASCII lower case (scheme, host and header names; never locale-dependent).
std::string lower(std::string_view s);

// An absolute URL split for a request (http, https, ws, wss).
struct UrlTarget {
  std::string scheme;       // lower case
  bool secure = false;      // https, wss
  std::string host;         // lower case; IPv6 without brackets
  uint16_t port = 0;
  std::string target;       // origin-form: /path?query
  std::string host_header;  // host[:port] (the port only when not the default)
  std::string url;          // the whole URL without user info and fragment
  std::string user, password;
};

// Parses `s` for one of the schemes "http"/"https" (web = false) or "ws"/"wss" (web = true,
// which also accepts http/https as their WebSocket equivalents). On failure returns false and
// sets `error` ("invalid URL 'x': ...").
bool parse_http_url(std::string_view s, UrlTarget& out, std::string& error);
bool parse_ws_url(std::string_view s, UrlTarget& out, std::string& error);

// What is wrong with `s` as an absolute URL with a host ("has no scheme", "port 'abc' is not a
// number", ...), or "" when nothing obvious is. `default_scheme_ok`: a missing scheme is fine
// (proxy URLs default to http://).
std::string url_problem(std::string_view s, bool scheme_required = true);

}  // namespace mw::net
