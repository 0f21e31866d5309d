// The pure parsers of untrusted strings in net: request/WebSocket URLs (parse_http_url,
// parse_ws_url, url_problem), proxy URLs (parse_proxy_url), NO_PROXY matching and the status
// line of a proxy's answer to CONNECT. Checks a few invariants of what they return.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "stdlib/net/connect.hpp"
#include "stdlib/net/proxy.hpp"
#include "stdlib/net/url.hpp"

using namespace mw::net;

#define CHECK(cond)                                                                              \
  do {                                                                                           \
    if (!(cond)) {                                                                               \
      std::fprintf(stderr, "fuzz_url: check failed: %s (input '%.*s')\n", #cond, (int)s.size(), s.data()); \
      std::abort();                                                                              \
    }                                                                                            \
  } while (0)

static void check_target(std::string_view s, bool web) {
  UrlTarget t;
  std::string error;
  bool ok = web ? parse_ws_url(s, t, error) : parse_http_url(s, t, error);
  if (!ok) {
    CHECK(!error.empty());
    return;
  }
  CHECK(!t.host.empty());
  CHECK(t.port != 0);
  CHECK(!t.target.empty() && t.target[0] == '/');
  CHECK(t.secure == (t.scheme == "https" || t.scheme == "wss"));
  CHECK(!t.host_header.empty());
  // What the client prints and pools by parses again to the same request.
  UrlTarget again;
  std::string error2;
  bool ok2 = web ? parse_ws_url(t.url, again, error2) : parse_http_url(t.url, again, error2);
  CHECK(ok2);
  CHECK(again.host == t.host && again.port == t.port && again.target == t.target && again.scheme == t.scheme);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view s(reinterpret_cast<const char*>(data), size);
  check_target(s, false);
  check_target(s, true);
  url_problem(s, true);
  url_problem(s, false);

  ProxySpec p;
  std::string error;
  if (parse_proxy_url(s, p, error)) {
    CHECK(!p.host.empty());
    CHECK(p.port != 0);
    CHECK(p.scheme == "http" || p.scheme == "socks5" || p.scheme == "socks5h");
    proxy_id(p);
    basic_auth(p.user, p.password);
  } else {
    CHECK(!error.empty());
  }

  // "NO_PROXY value\nhost"
  size_t nl = s.find('\n');
  if (nl != std::string_view::npos) {
    no_proxy_matches(s.substr(0, nl), s.substr(nl + 1));
    CHECK(no_proxy_matches("*", s.substr(nl + 1)));
  }

  int status = 0;
  std::string reason;
  if (parse_connect_status(s, status, reason)) CHECK(status >= 100 && status <= 999);
  return 0;
}
