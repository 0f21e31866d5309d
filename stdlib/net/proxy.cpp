// Proxy tunnels shared by net.tcp, net.ws and net.http: HTTP CONNECT, SOCKS5 (RFC 1928) with
// user/password authentication (RFC 1929), socks5h (names resolved by the proxy); proxy URLs;
// environment variables and NO_PROXY (curl's rules); net.socks5.connect.
//
// Error codes: EPROXY (the proxy answered with a failure or with garbage), EPROXYAUTH (the proxy
// wants credentials or rejected them); a proxy that cannot be reached fails like any connect
// (ECONNREFUSED, ENOTFOUND, ...) with a message naming the proxy.
#include <arpa/inet.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/url/parse.hpp>
#include <cstdlib>
#include <cstring>
#include <sys/socket.h>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/net/connect.hpp"
#include "stdlib/net/proxy.hpp"

#include "stdlib/net/url.hpp"
#include "stdlib/net/tcp.hpp"

namespace mw::net {

namespace asio = boost::asio;
using error_code = boost::system::error_code;
static constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);


std::string host_port_string(std::string_view host, uint16_t port) {
  bool v6 = host.find(':') != std::string_view::npos;
  std::string r;
  if (v6) r += '[';
  r += host;
  if (v6) r += ']';
  r += ':';
  r += std::to_string(port);
  return r;
}

std::string basic_auth(std::string_view user, std::string_view password) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string in(user);
  in += ':';
  in += password;
  std::string out = "Basic ";
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    out += tbl[v >> 18 & 63];
    out += tbl[v >> 12 & 63];
    out += tbl[v >> 6 & 63];
    out += tbl[v & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16;
    out += tbl[v >> 18 & 63];
    out += tbl[v >> 12 & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
    out += tbl[v >> 18 & 63];
    out += tbl[v >> 12 & 63];
    out += tbl[v >> 6 & 63];
    out += '=';
  }
  return out;
}

std::string proxy_id(const ProxySpec& p) {
  std::string r = p.scheme + "://";
  if (!p.user.empty()) r += p.user + "@";
  return r + host_port_string(p.host, p.port);
}

// --- proxy URLs --------------------------------------------------------------------------------

bool parse_proxy_url(std::string_view url, ProxySpec& out, std::string& error) {
  while (!url.empty() && (url.front() == ' ' || url.front() == '\t')) url.remove_prefix(1);
  while (!url.empty() && (url.back() == ' ' || url.back() == '\t')) url.remove_suffix(1);
  std::string s(url);
  if (s.find("://") == std::string::npos) s = "http://" + s;  // curl: no scheme means http
  std::string problem = url_problem(s);
  auto r = boost::urls::parse_uri(s);
  if (!problem.empty() || !r) {
    error = "invalid proxy URL '" + std::string(url) + "': " + (problem.empty() ? "not a valid URL" : problem);
    return false;
  }
  std::string scheme = lower(r->scheme());
  if (scheme == "socks5" || scheme == "socks5h" || scheme == "http") {
    out.scheme = scheme;
  } else if (scheme == "https") {
    error = "proxy URL '" + std::string(url) + "': HTTPS proxies (TLS to the proxy) are not supported; use http://";
    return false;
  } else {
    error = "proxy URL '" + std::string(url) + "': unsupported proxy scheme '" + scheme +
            "' (use http://, socks5:// or socks5h://)";
    return false;
  }
  if (r->host_type() == boost::urls::host_type::ipv6)
    out.host = r->host_ipv6_address().to_string();
  else
    out.host = r->host_address();
  if (out.host.empty()) {
    error = "proxy URL '" + std::string(url) + "' has no host";
    return false;
  }
  if (r->has_port()) {
    if (r->port().empty() || r->port_number() == 0) {
      error = "proxy URL '" + std::string(url) + "' has an invalid port";
      return false;
    }
    out.port = r->port_number();
  } else {
    out.port = 1080;  // as curl
  }
  std::string_view path = r->encoded_path();
  if (!(path.empty() || path == "/") || r->has_query() || r->has_fragment()) {
    error = "proxy URL '" + std::string(url) + "' must not have a path, query or fragment";
    return false;
  }
  out.user = r->has_userinfo() ? r->user() : std::string();
  out.password = r->has_password() ? r->password() : std::string();
  if (out.scheme != "http" && (out.user.size() > 255 || out.password.size() > 255)) {
    error = "proxy URL '" + std::string(url) + "': SOCKS5 user name and password are limited to 255 bytes";
    return false;
  }
  return true;
}

std::optional<ProxySpec> read_proxy_option(lua_State* L, int opts_idx) {
  int t = get_field(L, opts_idx, "proxy");
  if (t == LUA_TNIL || (t == LUA_TBOOLEAN && !lua_toboolean(L, -1))) {
    lua_pop(L, 1);
    return std::nullopt;
  }
  if (t != LUA_TSTRING) option_error(L, "proxy", "a proxy URL string or false");
  {
    ProxySpec spec;
    std::string err;
    if (parse_proxy_url(to_sv(L, -1), spec, err)) {
      lua_pop(L, 1);
      return spec;
    }
    push_sv(L, err);
  }
  // Only Lua values are alive here: raising is safe (see runtime/suspend.hpp).
  raise(L, "EINVAL", to_sv(L, -1));
}

bool proxy_option(lua_State* L, int opts_idx, std::optional<ProxySpec>& out, std::string& error) {
  out.reset();
  if (!lua_istable(L, opts_idx)) return true;
  int t = lua_getfield(L, opts_idx, "proxy");
  bool ok = true;
  if (t == LUA_TSTRING) {
    ProxySpec spec;
    ok = parse_proxy_url(to_sv(L, -1), spec, error);
    if (ok) out = std::move(spec);
  } else if (!(t == LUA_TNIL || (t == LUA_TBOOLEAN && !lua_toboolean(L, -1)))) {
    error = std::string("option 'proxy' must be a proxy URL string or false (got ") + luaL_typename(L, -1) + ")";
    ok = false;
  }
  lua_pop(L, 1);
  return ok;
}

// --- environment ---------------------------------------------------------------------------------

static bool parse_ip(std::string_view s, unsigned char* out, int& family) {
  std::string z(s);
  if (inet_pton(AF_INET, z.c_str(), out) == 1) {
    family = 4;
    return true;
  }
  if (inet_pton(AF_INET6, z.c_str(), out) == 1) {
    family = 6;
    return true;
  }
  return false;
}

static bool cidr_match(const unsigned char* a, const unsigned char* b, int bits) {
  int full = bits / 8, rest = bits % 8;
  if (std::memcmp(a, b, full) != 0) return false;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

bool no_proxy_matches(std::string_view no_proxy, std::string_view host_in) {
  std::string host = lower(host_in);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  while (!host.empty() && host.back() == '.') host.pop_back();
  unsigned char hip[16];
  int hfam = 0;
  bool host_is_ip = parse_ip(host, hip, hfam);
  size_t pos = 0;
  while (pos <= no_proxy.size()) {
    size_t end = no_proxy.find_first_of(", ", pos);
    if (end == std::string_view::npos) end = no_proxy.size();
    std::string tok = lower(no_proxy.substr(pos, end - pos));
    pos = end + 1;
    if (tok.empty()) continue;
    if (tok == "*") return true;
    if (host_is_ip) {
      std::string addr = tok;
      int bits = -1;
      if (auto slash = tok.find('/'); slash != std::string::npos) {
        addr = tok.substr(0, slash);
        std::string_view len = std::string_view(tok).substr(slash + 1);
        // 1..3 digits; anything else ("/abc", "/", "/99999999999") makes the entry match nothing
        // (atoi read "/abc" as /0: every address).
        if (len.empty() || len.size() > 3 || len.find_first_not_of("0123456789") != std::string_view::npos) continue;
        bits = std::stoi(std::string(len));
      }
      if (addr.size() > 2 && addr.front() == '[' && addr.back() == ']') addr = addr.substr(1, addr.size() - 2);
      unsigned char tip[16];
      int tfam = 0;
      if (!parse_ip(addr, tip, tfam) || tfam != hfam) continue;
      int maxbits = hfam == 4 ? 32 : 128;
      if (bits > maxbits) continue;
      if (bits < 0) bits = maxbits;
      if (cidr_match(hip, tip, bits)) return true;
      continue;
    }
    if (tok.front() == '.') tok.erase(0, 1);
    while (!tok.empty() && tok.back() == '.') tok.pop_back();
    if (tok.empty()) continue;
    if (host == tok) return true;
    if (host.size() > tok.size() && host.compare(host.size() - tok.size(), tok.size(), tok) == 0 &&
        host[host.size() - tok.size() - 1] == '.')
      return true;
  }
  return false;
}

static const char* env2(const char* lower_name, const char* upper_name) {
  const char* v = std::getenv(lower_name);
  if (v && *v) return v;
  v = upper_name ? std::getenv(upper_name) : nullptr;
  return v && *v ? v : nullptr;
}

std::optional<ProxySpec> proxy_from_env(std::string_view scheme, std::string_view host, std::string& error) {
  const char* np = env2("no_proxy", "NO_PROXY");
  if (np && no_proxy_matches(np, host)) return std::nullopt;
  const char* v = nullptr;
  const char* name = nullptr;
  if (scheme == "http" || scheme == "ws") {
    // HTTP_PROXY (upper case) is ignored under CGI, where a request header "Proxy:" would set it
    // (httpoxy), as Go and curl do.
    bool cgi = std::getenv("REQUEST_METHOD") != nullptr;
    v = env2("http_proxy", cgi ? nullptr : "HTTP_PROXY");
    name = "http_proxy";
  } else if (scheme == "https" || scheme == "wss") {
    v = env2("https_proxy", "HTTPS_PROXY");
    name = "https_proxy";
  }
  if (!v) {
    v = env2("all_proxy", "ALL_PROXY");
    name = "all_proxy";
  }
  if (!v) return std::nullopt;
  ProxySpec p;
  std::string err;
  if (!parse_proxy_url(v, p, err)) {
    error = "environment variable " + std::string(name) + ": " + err;
    return std::nullopt;
  }
  return p;
}

// --- tunnels ---------------------------------------------------------------------------------

static ConnectError io_failure(const error_code& ec, const ProxySpec& p, const char* during) {
  if (ec == asio::error::eof)
    return {"EPROXY", "proxy " + proxy_id(p) + " closed the connection during " + during};
  return {error_code_name(ec), "proxy " + proxy_id(p) + ": " + during + ": " + error_text(ec)};
}

// Reads the proxy's response head ("...\r\n\r\n") without consuming a byte beyond it: what
// follows belongs to the tunnelled protocol.
static asio::awaitable<ConnectError> read_head(tcp::socket& s, const ProxySpec& p, std::string& head) {
  char buf[2048];
  for (;;) {
    auto [ec] = co_await s.async_wait(tcp::socket::wait_read, nothrow);
    if (ec) co_return io_failure(ec, p, "CONNECT");
    ssize_t n = ::recv(s.native_handle(), buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) co_return io_failure(asio::error::eof, p, "CONNECT");
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      co_return io_failure(error_code(errno, boost::system::system_category()), p, "CONNECT");
    }
    size_t old = head.size();
    size_t start = old >= 3 ? old - 3 : 0;
    head.append(buf, static_cast<size_t>(n));
    size_t pos = head.find("\r\n\r\n", start);
    size_t take = pos == std::string::npos ? static_cast<size_t>(n) : pos + 4 - old;
    head.resize(old + take);
    ssize_t got = ::recv(s.native_handle(), buf, take, MSG_DONTWAIT);
    if (got != static_cast<ssize_t>(take))
      co_return ConnectError{"EPROXY", "proxy " + proxy_id(p) + ": short read during CONNECT"};
    if (pos != std::string::npos) co_return ConnectError{};
    if (head.size() > 16384)
      co_return ConnectError{"EPROXY", "proxy " + proxy_id(p) + ": response to CONNECT is too large"};
  }
}

bool parse_connect_status(std::string_view head, int& status, std::string& reason) {
  status = 0;
  reason.clear();
  std::string_view line = head.substr(0, head.find("\r\n"));
  if (line.substr(0, 5) != "HTTP/") return false;
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos || line.size() < sp + 4) return false;
  std::string_view code = line.substr(sp + 1, 3);
  for (char c : code)
    if (c < '0' || c > '9') return false;
  if (line.size() > sp + 4 && line[sp + 4] != ' ') return false;  // exactly three digits
  status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  if (status < 100) return false;
  if (line.size() > sp + 5) reason = std::string(line.substr(sp + 5));
  return true;
}

static asio::awaitable<ConnectError> http_connect(std::shared_ptr<tcp::socket> sock, ProxySpec p, std::string host,
                                                  uint16_t port) {
  std::string target = host_port_string(host, port);
  std::string req = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n";
  if (!p.user.empty() || !p.password.empty()) req += "Proxy-Authorization: " + basic_auth(p.user, p.password) + "\r\n";
  req += "\r\n";
  auto [ec, n] = co_await asio::async_write(*sock, asio::buffer(req), nothrow);
  if (ec) co_return io_failure(ec, p, "CONNECT");
  std::string head;
  ConnectError herr = co_await read_head(*sock, p, head);
  if (herr) co_return herr;
  int status = 0;
  std::string reason;
  if (!parse_connect_status(head, status, reason))
    co_return ConnectError{"EPROXY", "proxy " + proxy_id(p) + ": malformed response to CONNECT"};
  if (status / 100 == 2) co_return ConnectError{};
  std::string what = std::to_string(status) + (reason.empty() ? "" : " " + reason);
  if (status == 407 || status == 401)  // 401: tinyproxy's answer to bad credentials
    co_return ConnectError{"EPROXYAUTH", "proxy " + proxy_id(p) +
                                             (p.user.empty() ? " requires authentication (" + what + ")"
                                                             : " rejected the credentials (" + what + ")")};
  co_return ConnectError{"EPROXY", "proxy " + proxy_id(p) + " refused CONNECT to " + target + ": " + what};
}

static const char* socks_reply_text(int rep) {
  switch (rep) {
    case 1: return "general SOCKS server failure";
    case 2: return "connection not allowed by ruleset";
    case 3: return "network unreachable";
    case 4: return "host unreachable";
    case 5: return "connection refused by the target";
    case 6: return "TTL expired";
    case 7: return "command not supported";
    case 8: return "address type not supported";
    default: return "unknown failure";
  }
}

static asio::awaitable<ConnectError> socks5_connect(std::shared_ptr<tcp::socket> sock, ProxySpec p, std::string host,
                                                    uint16_t port) {
  tcp::socket& s = *sock;
  bool auth = !p.user.empty() || !p.password.empty();
  // Address: an IP literal as such; a name resolved here (socks5) or by the proxy (socks5h).
  std::string addr_bytes;
  unsigned char atyp = 0;
  {
    error_code ec;
    auto ip = asio::ip::make_address(host, ec);
    if (ec && p.scheme == "socks5") {
      tcp::resolver resolver(s.get_executor());
      auto [rec, results] = co_await resolver.async_resolve(host, "", nothrow);
      if (rec) co_return ConnectError{error_code_name(rec), "cannot resolve '" + host + "': " + error_text(rec)};
      bool found = false;
      for (const auto& r : results) {
        auto a = r.endpoint().address();
        if (!found || (a.is_v4() && !ip.is_v4())) ip = a;
        found = true;
      }
      if (!found) co_return ConnectError{"ENOTFOUND", "cannot resolve '" + host + "'"};
      ec = {};
    }
    if (!ec && ip.is_v4()) {
      auto b = ip.to_v4().to_bytes();
      atyp = 1;
      addr_bytes.assign(reinterpret_cast<const char*>(b.data()), b.size());
    } else if (!ec) {
      auto b = ip.to_v6().to_bytes();
      atyp = 4;
      addr_bytes.assign(reinterpret_cast<const char*>(b.data()), b.size());
    } else {
      if (host.size() > 255) co_return ConnectError{"EINVAL", "SOCKS5: host name longer than 255 bytes"};
      atyp = 3;
      addr_bytes.push_back(static_cast<char>(host.size()));
      addr_bytes += host;
    }
  }
  unsigned char reply[262];
  std::string msg = auth ? std::string("\x05\x02\x00\x02", 4) : std::string("\x05\x01\x00", 3);
  auto [ec1, n1] = co_await asio::async_write(s, asio::buffer(msg), nothrow);
  if (ec1) co_return io_failure(ec1, p, "the SOCKS5 greeting");
  auto [ec2, n2] = co_await asio::async_read(s, asio::buffer(reply, 2), nothrow);
  if (ec2) co_return io_failure(ec2, p, "the SOCKS5 greeting");
  if (reply[0] != 5) co_return ConnectError{"EPROXY", "proxy " + proxy_id(p) + " is not a SOCKS5 proxy (bad reply)"};
  if (reply[1] == 0xFF)
    co_return ConnectError{"EPROXYAUTH", "proxy " + proxy_id(p) +
                                             (auth ? " accepts none of our authentication methods"
                                                   : " requires authentication (user name and password)")};
  if (reply[1] == 2 && auth) {
    msg.clear();
    msg += '\x01';
    msg += static_cast<char>(p.user.size());
    msg += p.user;
    msg += static_cast<char>(p.password.size());
    msg += p.password;
    auto [ec3, n3] = co_await asio::async_write(s, asio::buffer(msg), nothrow);
    if (ec3) co_return io_failure(ec3, p, "SOCKS5 authentication");
    auto [ec4, n4] = co_await asio::async_read(s, asio::buffer(reply, 2), nothrow);
    if (ec4) {
      if (ec4 == asio::error::eof || ec4 == asio::error::connection_reset)
        co_return ConnectError{"EPROXYAUTH", "proxy " + proxy_id(p) + " rejected the user name or password"};
      co_return io_failure(ec4, p, "SOCKS5 authentication");
    }
    if (reply[1] != 0)
      co_return ConnectError{"EPROXYAUTH", "proxy " + proxy_id(p) + " rejected the user name or password"};
  } else if (reply[1] != 0) {
    co_return ConnectError{"EPROXY", "proxy " + proxy_id(p) + " chose an unsupported SOCKS5 method " +
                                         std::to_string(reply[1])};
  }
  msg.assign("\x05\x01\x00", 3);
  msg += static_cast<char>(atyp);
  msg += addr_bytes;
  msg += static_cast<char>(port >> 8);
  msg += static_cast<char>(port & 0xFF);
  auto [ec5, n5] = co_await asio::async_write(s, asio::buffer(msg), nothrow);
  if (ec5) co_return io_failure(ec5, p, "the SOCKS5 connect request");
  auto [ec6, n6] = co_await asio::async_read(s, asio::buffer(reply, 4), nothrow);
  if (ec6) co_return io_failure(ec6, p, "the SOCKS5 connect request");
  if (reply[0] != 5) co_return ConnectError{"EPROXY", "proxy " + proxy_id(p) + ": malformed SOCKS5 reply"};
  if (reply[1] != 0)
    co_return ConnectError{"EPROXY", "proxy " + proxy_id(p) + " could not connect to " + host_port_string(host, port) +
                                         ": " + socks_reply_text(reply[1])};
  size_t rest = 0;
  if (reply[3] == 1)
    rest = 4 + 2;
  else if (reply[3] == 4)
    rest = 16 + 2;
  else if (reply[3] == 3) {
    auto [ec7, n7] = co_await asio::async_read(s, asio::buffer(reply, 1), nothrow);
    if (ec7) co_return io_failure(ec7, p, "the SOCKS5 connect reply");
    rest = reply[0] + 2;
  } else {
    co_return ConnectError{"EPROXY", "proxy " + proxy_id(p) + ": malformed SOCKS5 reply (address type)"};
  }
  auto [ec8, n8] = co_await asio::async_read(s, asio::buffer(reply, rest), nothrow);
  if (ec8) co_return io_failure(ec8, p, "the SOCKS5 connect reply");
  co_return ConnectError{};
}

void async_proxy_tunnel(std::shared_ptr<tcp::socket> sock, const ProxySpec& proxy, const std::string& host,
                        uint16_t port, ConnectDone done) {
  auto exec = sock->get_executor();
  auto on_done = [done = std::move(done)](std::exception_ptr e, ConnectError err) {
    if (e) return done({"EPROXY", "proxy tunnel failed unexpectedly"});
    done(std::move(err));
  };
  if (proxy.scheme == "http")
    asio::co_spawn(exec, http_connect(sock, proxy, host, port), std::move(on_done));
  else
    asio::co_spawn(exec, socks5_connect(sock, proxy, host, port), std::move(on_done));
}

// --- net.socks5 ------------------------------------------------------------------------------

// net.socks5.connect(proxy_host, proxy_port, target_host, target_port[, user, pass[, opts]])
// → a net.tcp connection through the proxy. Names are resolved by the proxy (socks5h) unless
// opts.resolve == "local".
static int socks5_connect_lua(lua_State* L) {
  std::string_view phost = check_sv(L, 1);
  uint16_t pport = check_port(L, 2);
  std::string_view thost = check_sv(L, 3);
  uint16_t tport = check_port(L, 4);
  size_t ulen = 0, plen = 0;
  const char* user = luaL_optlstring(L, 5, "", &ulen);
  const char* pass = luaL_optlstring(L, 6, "", &plen);
  if (phost.empty()) raise(L, "EINVAL", "net.socks5.connect: proxy host must not be empty");
  if (thost.empty() || thost.size() > 255) raise(L, "EINVAL", "net.socks5.connect: target host must be 1..255 bytes");
  if (ulen > 255) raise(L, "EINVAL", "net.socks5.connect: user name longer than 255 bytes");
  if (plen > 255) raise(L, "EINVAL", "net.socks5.connect: password longer than 255 bytes");
  static const char* const known[] = {"timeout", "resolve", "nodelay", nullptr};
  check_options(L, 7, "net.socks5.connect", known);
  int64_t timeout = opt_timeout_field(L, 7, "timeout", kForever);
  std::string_view resolve = opt_sv_field(L, 7, "resolve", "proxy");
  if (resolve != "local" && resolve != "proxy")
    raise(L, "EINVAL", "net.socks5.connect: option 'resolve' must be \"local\" or \"proxy\"");
  bool local_dns = resolve == "local";
  bool nodelay = opt_bool_field(L, 7, "nodelay", true);
  return suspend(L, "socks5.connect", timeout, [&](const OpPtr& op) {
    ProxySpec p{local_dns ? "socks5" : "socks5h", std::string(phost), pport, std::string(user, ulen),
                std::string(pass, plen)};
    auto sock = std::make_shared<tcp::socket>(op->engine().io());
    op->on_abandon([sock] {
      error_code ec;
      sock->close(ec);
    });
    std::string h(thost);
    async_connect(op->engine().io(), sock, h, tport, p, [op, sock, h, nodelay](ConnectError err) {
      if (!op->active()) return;
      if (err) return op->fail(err.code, err.message);
      error_code ec;
      sock->set_option(tcp::no_delay(nodelay), ec);
      op->resume([sock, h](lua_State* L) { push_tcp_conn(L, std::move(*sock), h); });
    });
  });
}

int open_socks5(lua_State* L) {
  const luaL_Reg funcs[] = {{"connect", socks5_connect_lua}, {nullptr, nullptr}};
  luaL_newlib(L, funcs);
  return 1;
}

}  // namespace mw::net
