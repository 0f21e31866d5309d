// net.ws.connect: WebSocket clients (ws://, wss://, through proxies). The handshake itself is
// Conn::async_handshake (ws/conn.cpp).
#include <boost/asio/ssl.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/error.hpp>
#include <algorithm>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/net/connect.hpp"
#include "stdlib/net/tls.hpp"
#include "stdlib/net/url.hpp"
#include "stdlib/net/ws/conn.hpp"

namespace mw::net::ws {

namespace {

constexpr const char* kSpecType = "moonwire.ws.spec";

// Everything connect() needs, parsed before suspending (held by a userdata so that a raised
// error during parsing leaks nothing).
struct ConnectSpec {
  bool secure = false;
  std::string host;  // without brackets
  uint16_t port = 0;
  std::string host_header;
  std::string target;
  std::string url;
  Headers headers;
  std::vector<std::string> protocols;
  std::string origin;
  Settings settings;
  tls::Options tls;
  std::shared_ptr<ssl::context> ctx;
  std::optional<ProxySpec> proxy;
};

int spec_gc(lua_State* L) { return gc_object<ConnectSpec>(L, kSpecType); }

ConnectSpec* parse_connect(lua_State* L) {
  std::string_view url = check_sv(L, 1);
  static const char* const known[] = {"headers", "timeout", "protocols", "origin", "tls", "proxy", MW_WS_SETTINGS,
                                      nullptr};
  check_options(L, 2, "net.ws.connect", known);
  auto* spec = new_object<ConnectSpec>(L, kSpecType, 0);  // at index 3
  bool parsed;
  {  // C++ objects in their own scope: nothing may be alive when the error is raised
    UrlTarget t;
    std::string err;
    parsed = parse_ws_url(url, t, err);
    if (parsed) {
      spec->secure = t.secure;
      spec->host = std::move(t.host);
      spec->port = t.port;
      spec->host_header = std::move(t.host_header);
      spec->target = std::move(t.target);
    } else {
      push_sv(L, err);
    }
  }
  if (!parsed) raisef(L, "EINVAL", "net.ws.connect: %s", lua_tostring(L, -1));
  spec->url = std::string(url);

  // options
  int t = get_field(L, 2, "headers");
  if (t == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (lua_type(L, -2) != LUA_TSTRING || !lua_isstring(L, -1))
        raise(L, "EINVAL", "option 'headers' must map header names to strings");
      spec->headers.emplace_back(std::string(to_sv(L, -2)), std::string(to_sv(L, -1)));
      lua_pop(L, 1);
    }
  } else if (t != LUA_TNIL) {
    option_error(L, "headers", "a table");
  }
  lua_pop(L, 1);
  spec->protocols = read_string_list(L, 2, "protocols");
  spec->origin = opt_str_field(L, 2, "origin");
  read_settings(L, 2, spec->settings);
  get_field(L, 2, "tls");
  spec->tls = tls::read_options(L, -1);
  lua_pop(L, 1);
  spec->tls.enabled = spec->secure;
  if (spec->secure) {
    std::string error;
    spec->ctx = tls::client_context(spec->tls, error);
    if (!spec->ctx) {
      push_sv(L, error);
      raise(L, "ETLS", to_sv(L, -1));
    }
  }
  spec->proxy = read_proxy_option(L, 2);
  return spec;
}

// Runs the WebSocket handshake on a connected (and TLS-established) client stream.
void client_handshake(const OpPtr& op, std::shared_ptr<Conn> c, std::shared_ptr<ConnectSpec> spec) {
  auto hello = std::make_shared<ClientHello>();
  hello->host_header = spec->host_header;
  hello->target = spec->target;
  hello->origin = spec->origin;
  hello->protocols = spec->protocols;
  hello->headers = spec->headers;
  auto res = std::make_shared<websocket::response_type>();
  c->async_handshake(hello, res, [op, c, res, spec](const error_code& ec) {
    if (!op->active()) return;
    if (ec) {
      c->abort();
      if (ec == websocket::error::upgrade_declined || ec == websocket::condition::handshake_failed) {
        int status = res->result_int();
        auto hdrs = collect_headers(*res);
        std::string body = res->body();
        std::string msg = "WebSocket upgrade refused by " + spec->url + ": HTTP " + std::to_string(status);
        if (status == 101) msg = "WebSocket handshake failed with " + spec->url + ": " + ec.message();
        return op->fail_with([status, hdrs, body, msg](lua_State* L) {
          push_error(L, "EHANDSHAKE", msg, 1);
          lua_pushinteger(L, status);
          lua_setfield(L, -2, "status");
          push_headers(L, hdrs);
          lua_setfield(L, -2, "headers");
          push_sv(L, body);
          lua_setfield(L, -2, "body");
        });
      }
      return op->fail(ec, "WebSocket handshake with " + spec->url);
    }
    c->status = res->result_int();
    c->headers = collect_headers(*res);
    c->protocol = std::string((*res)[http::field::sec_websocket_protocol]);
    if (!c->protocol.empty() &&
        std::find(spec->protocols.begin(), spec->protocols.end(), c->protocol) == spec->protocols.end()) {
      c->abort();
      return op->fail("EHANDSHAKE", "server chose subprotocol '" + c->protocol + "' which was not offered");
    }
    c->start();
    op->resume([c](lua_State* L) { push_conn(L, c); });
  });
}

}  // namespace

// net.ws.connect(url[, opts])
int ws_connect(lua_State* L) {
  lua_settop(L, 2);
  int64_t timeout = opt_timeout_field(L, 2, "timeout", kForever);
  parse_connect(L);  // index 3: the spec userdata
  return suspend(L, "connect", timeout, [&](const OpPtr& op) {
    auto* raw = static_cast<ConnectSpec*>(lua_touserdata(L, 3));
    auto spec = std::make_shared<ConnectSpec>(std::move(*raw));
    auto sock = std::make_shared<tcp::socket>(op->engine().io());
    auto cur = std::make_shared<std::weak_ptr<Conn>>();
    op->on_abandon([sock, cur] {
      error_code ec;
      sock->close(ec);
      if (auto c = cur->lock()) c->abort();
    });
    async_connect(op->engine().io(), sock, spec->host, spec->port, spec->proxy, [op, sock, spec, cur](ConnectError err) {
      if (!op->active()) return;
      if (err) return op->fail(err.code, err.message);
      error_code ec;
      sock->set_option(tcp::no_delay(true), ec);
      auto c = std::make_shared<Conn>(op->engine(), false);
      *cur = c;
      c->id = next_free_id(op->engine());
      c->settings = spec->settings;
      c->url = spec->url;
      auto q = spec->target.find('?');
      c->path = spec->target.substr(0, q);
      if (q != std::string::npos) c->query = spec->target.substr(q + 1);
      if (!spec->secure) {
        c->plain.emplace(adopt_socket(op->engine().io(), *sock));
        c->note_addresses();
        return client_handshake(op, c, spec);
      }
      c->tls.emplace(adopt_socket(op->engine().io(), *sock), *spec->ctx);
      c->note_addresses();
      std::string terr;
      if (!tls::prepare_client(c->tls_stream(), spec->tls, spec->host, terr)) {
        c->abort();
        return op->fail("ETLS", terr);
      }
      c->tls_stream().async_handshake(ssl::stream_base::client, [op, c, spec](const error_code& ec) {
        if (!op->active()) return;
        if (ec) {
          std::string code, msg;
          tls::describe_handshake_error(c->tls_stream().native_handle(), ec, code, msg);
          c->abort();
          return op->fail(code, msg);
        }
        client_handshake(op, c, spec);
      });
    });
  });
}

void register_client_classes(lua_State* L) {
  const luaL_Reg spec_meta[] = {{"__gc", spec_gc}, {nullptr, nullptr}};
  new_class(L, kSpecType, nullptr, spec_meta);
}

}  // namespace mw::net::ws
