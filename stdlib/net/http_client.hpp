#pragma once
// net.http (client), declarations shared by its files:
//   http_client.cpp           the Lua API: request specs from Lua arguments, the pool, sessions
//   http_client_exchange.cpp  one exchange on the event loop: connect, proxy, TLS, write,
//                             read, redirects, decompression, save_to_file
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/url.hpp>
#include <algorithm>
#include <cctype>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <sys/socket.h>
#include <strings.h>
#include <unistd.h>
#include <unordered_map>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/compat.hpp"
#include "stdlib/net/connect.hpp"
#include "stdlib/net/cookies.hpp"
#include "stdlib/net/http_session.hpp"
#include "stdlib/net/http_inflate.hpp"
#include "stdlib/net/net.hpp"
#include "stdlib/net/proxy.hpp"
#include "stdlib/net/tls.hpp"
#include "stdlib/net/url.hpp"

namespace mw::net::httpc {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace urls = boost::urls;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;
inline constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

inline constexpr const char* kSpecType = "moonwire.http.spec";
inline constexpr const char* kPoolType = "moonwire.http.pool";
inline constexpr size_t kChunk = 64 * 1024;
inline constexpr uint32_t kHeaderLimit = 64 * 1024;
inline constexpr size_t kDrainLimit = 1024 * 1024;  // redirect bodies larger than this close the connection
extern char kPoolKey;  // registry key of the pool (http_client.cpp)

struct Header {
  std::string name, value;
};


inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

inline bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (std::isalnum(c)) continue;
    if (std::strchr("!#$%&'*+-.^_`|~", c) && c != 0) continue;
    return false;
  }
  return true;
}

inline bool is_field_value(std::string_view s) {
  for (char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

// --- request spec (lives in a Lua userdata while the calling function may still raise) ---------

enum class ProxyMode { env, none, explicit_ };

struct Spec {
  std::string method = "GET";
  std::string url;
  std::vector<Header> headers;
  std::vector<std::pair<std::string, std::string>> query;
  std::string body;
  bool has_body = false;
  bool json_body = false;
  int64_t timeout_ms = 30000;
  int64_t connect_timeout_ms = -1;
  int redirects = 10;
  bool decompress = true;
  bool keepalive = true;
  tls::Options tls;
  std::string save_to_file;
  int progress_ref = LUA_NOREF;
  int body_ref = LUA_NOREF;  // body = function: called for chunks (Transfer-Encoding: chunked)
  int thread_ref = LUA_NOREF;
  lua_State* cb_thread = nullptr;
  ProxyMode proxy_mode = ProxyMode::env;
  ProxySpec proxy;
  std::shared_ptr<CookieJar> jar;  // a session's cookies (null for plain http.* calls)
  UrlTarget target;                // url, parsed (once: read_spec validates it, run uses it)
  std::string err_code, err_msg;

  bool has_header(std::string_view name) const {
    for (const auto& h : headers)
      if (iequals(h.name, name)) return true;
    return false;
  }
};

// --- URLs ------------------------------------------------------------------------------------

using Target = UrlTarget;

inline bool parse_target(std::string_view s, Target& t, std::string& err) { return parse_http_url(s, t, err); }

// --- connections and the pool ------------------------------------------------------------------

struct HttpConn {
  explicit HttpConn(tcp::socket s) : sock(std::move(s)) {}
  tcp::socket sock;
  std::shared_ptr<ssl::context> ctx;
  std::unique_ptr<ssl::stream<tcp::socket>> tls;
  beast::flat_buffer buf;
  std::string key;
  Clock::time_point idle_since;
  bool absolute_form = false;  // plain HTTP through an HTTP proxy

  tcp::socket& lowest() { return tls ? tls->next_layer() : sock; }
  void close() {
    error_code ec;
    lowest().close(ec);
  }
  // Still usable after idling: the peer has not closed it (and, for plain HTTP, sent nothing).
  bool alive() {
    if (!lowest().is_open()) return false;
    char b;
    ssize_t n = ::recv(lowest().native_handle(), &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return false;
    if (n > 0) return tls != nullptr;  // TLS: may be a session ticket; a close is caught on use
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
  template <class F>
  auto with_stream(F&& f) {
    if (tls) return f(*tls);
    return f(sock);
  }
};

struct Pool {
  std::unordered_map<std::string, std::vector<std::shared_ptr<HttpConn>>> idle;
  size_t max_idle_per_origin = 16;
  int64_t idle_timeout_ms = 30000;
  uint64_t reused = 0, opened = 0;
  // The last URL parsed (a loop of requests to one URL parses it once: Boost.URL and the
  // checks of url_problem cost more than copying the result).
  std::string last_url;
  Target last_target;

  std::shared_ptr<HttpConn> take(const std::string& key) {
    auto it = idle.find(key);
    if (it == idle.end()) return nullptr;
    auto& v = it->second;
    auto now = Clock::now();
    while (!v.empty()) {
      auto c = std::move(v.back());
      v.pop_back();
      // The MSG_PEEK probe (a syscall) only for connections idle for a while: one the peer
      // closed within the last second is caught on use (a reused connection that fails with
      // nothing read is retried once on a new one).
      auto idle_for = now - c->idle_since;
      if (idle_for < std::chrono::milliseconds(idle_timeout_ms) &&
          (idle_for < std::chrono::seconds(1) ? c->lowest().is_open() : c->alive())) {
        if (v.empty()) idle.erase(it);
        ++reused;
        return c;
      }
      c->close();
    }
    idle.erase(it);
    return nullptr;
  }

  void put(std::shared_ptr<HttpConn> c) {
    if (max_idle_per_origin == 0 || idle_timeout_ms <= 0) return c->close();
    // Lazily drop expired connections of this origin (no timers: an idle pool never keeps the
    // process alive).
    auto& v = idle[c->key];
    auto now = Clock::now();
    std::erase_if(v, [&](const std::shared_ptr<HttpConn>& x) {
      bool old = now - x->idle_since >= std::chrono::milliseconds(idle_timeout_ms);
      if (old) x->close();
      return old;
    });
    if (v.size() >= max_idle_per_origin) {
      v.front()->close();
      v.erase(v.begin());
    }
    c->idle_since = now;
    v.push_back(std::move(c));
  }

  size_t count() const {
    size_t n = 0;
    for (const auto& [k, v] : idle) n += v.size();
    return n;
  }

  void clear() {
    for (auto& [k, v] : idle)
      for (auto& c : v) c->close();
    idle.clear();
  }
};

struct Failure {
  std::string code, message;
  int value_ref = LUA_NOREF;  // an error value raised by a Lua callback (re-raised as is)
  explicit operator bool() const { return !code.empty() || value_ref != LUA_NOREF; }
};

// True when no proxy variable of the environment is set (http_client_exchange.cpp).
bool proxy_env_absent();
// Starts the exchange for `spec` (moved from); it resumes or fails `op` when done.
void start_exchange(OpPtr op, std::shared_ptr<Pool> pool, Spec&& spec);

}  // namespace mw::net::httpc
