// The server side of the WebSocket opening handshake: see ws/upgrade.hpp.
#include "stdlib/net/ws/upgrade.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <algorithm>
#include <cstdio>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "stdlib/net/ws/group.hpp"

namespace mw::net::ws {

namespace {

constexpr const char* kOptionsType = "moonwire.ws.upgradeoptions";

struct OptionsBox {
  std::shared_ptr<UpgradeOptions> o;
};

// Whether the request's Origin may connect: the origins function, the origins list, or by
// default the same origin as the Host (requests without Origin, from non-browsers, may).
bool origin_allowed(Conn& c, const Request& req, const UpgradeOptions& o) {
  auto origin = req[http::field::origin];
  if (o.origin_fn != LUA_NOREF) {
    lua_State* L = o.engine->L();
    int top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, o.origin_fn);
    if (origin.empty())
      lua_pushnil(L);
    else
      push_sv(L, std::string_view(origin.data(), origin.size()));
    lua_createtable(L, 0, 5);
    push_sv(L, c.path);
    lua_setfield(L, -2, "path");
    push_sv(L, c.query);
    lua_setfield(L, -2, "query");
    push_headers(L, c.request_headers());
    lua_setfield(L, -2, "headers");
    push_sv(L, c.peer_addr());
    lua_setfield(L, -2, "peer");
    bool ok = false;
    if (lua_pcall(L, 2, 1, 0) == LUA_OK) {
      ok = lua_toboolean(L, -1);
    } else {
      std::fprintf(stderr, "moonwire: net.ws origins function failed: %s\n", luaL_tolstring(L, -1, nullptr));
    }
    lua_settop(L, top);
    return ok;
  }
  if (origin.empty()) return true;
  std::string text(origin.data(), origin.size());
  if (o.origins_set) {
    for (const auto& allowed : o.origins) {
      if (allowed == "*") return true;
      if (lower(allowed) == lower(text)) return true;
      if (allowed.find("://") == std::string::npos && origin_authority(text) == host_authority(allowed, false))
        return true;
    }
    return false;
  }
  auto host = req[http::field::host];
  return origin_authority(text) == host_authority(std::string_view(host.data(), host.size()), o.secure);
}

// Answers a refused request and closes the connection.
void reject(std::shared_ptr<Conn> c, http::status st, std::string body, bool upgrade_hint, UpgradeDone done) {
  auto res = std::make_shared<http::response<http::string_body>>();
  res->version(11);
  res->result(st);
  res->set(http::field::server, "moonwire");
  res->set(http::field::content_type, "text/plain; charset=utf-8");
  res->set(http::field::connection, "close");
  if (upgrade_hint) {
    res->set(http::field::upgrade, "websocket");
    res->set(http::field::sec_websocket_version, "13");
  }
  Refusal why{static_cast<int>(st), body.substr(0, body.find('\n'))};
  res->body() = std::move(body);
  res->prepare_payload();
  c->visit([&](auto& ws) {
    http::async_write(ws.next_layer(), *res, [c, res, why, done](const error_code&, size_t) {
      c->shutdown_send();
      c->abort();
      done(nullptr, why);
    });
  });
}

void fail_later(Engine& e, const std::shared_ptr<Conn>& c, UpgradeDone done) {
  c->abort();
  asio::post(e.io(), [done = std::move(done)] { done(nullptr, Refusal{0, "connection closed"}); });
}

}  // namespace

UpgradeOptions::~UpgradeOptions() {
  if (origin_fn != LUA_NOREF && !engine->closing()) luaL_unref(engine->L(), LUA_REGISTRYINDEX, origin_fn);
}

std::shared_ptr<UpgradeOptions> read_upgrade_options(lua_State* L, int idx, const char* fname, bool tls,
                                                     bool check_keys) {
  idx = lua_absindex(L, idx);
  if (check_keys) {
    static const char* const known[] = {MW_WS_UPGRADE_OPTION_KEYS, nullptr};
    check_options(L, idx, fname, known);
  } else {
    opt_table(L, idx, fname);
  }
  // Filled inside a userdata, so that a raise on a bad value leaks nothing (its __gc frees it).
  auto* box = new_object<OptionsBox>(L, kOptionsType, 0, OptionsBox{std::make_shared<UpgradeOptions>(Engine::of(L))});
  UpgradeOptions& o = *box->o;
  o.secure = tls;
  o.protocols = read_string_list(L, idx, "protocols");
  int t = get_field(L, idx, "origins");
  if (t == LUA_TFUNCTION) {
    o.origin_fn = luaL_ref(L, LUA_REGISTRYINDEX);
    o.origins_set = true;
  } else {
    lua_pop(L, 1);
    if (t != LUA_TNIL) {
      o.origins = read_string_list(L, idx, "origins");
      o.origins_set = true;
    }
  }
  read_settings(L, idx, o.settings);
  o.max_connections = static_cast<size_t>(opt_int_field(L, idx, "max_connections", 0, 0));
  o.handshake_timeout_ms = opt_timeout_field(L, idx, "handshake_timeout", 10000);
  if (get_field(L, idx, "group") != LUA_TNIL) {
    if (!test_udata(L, -1, kGroupType)) option_error(L, "group", "a net.ws.group()");
    o.group = check_group(L, -1);
  }
  lua_pop(L, 1);
  std::shared_ptr<UpgradeOptions> out = box->o;
  lua_pop(L, 1);  // the box: collected later, `out` keeps the options
  return out;
}

std::shared_ptr<Conn> adopt(Engine& e, Socket&& s, const Settings& settings, const Accepted* from) {
  auto c = std::make_shared<Conn>(e, true);
  c->settings = settings;
  c->plain.emplace(std::move(s));
  if (from) c->set_addresses(from->peer, from->local_known ? &from->local : nullptr);
  c->note_addresses();
  return c;
}

std::shared_ptr<Conn> adopt(Engine& e, TlsSocket&& s, std::shared_ptr<ssl::context> ctx, const Settings& settings,
                            const Accepted* from) {
  auto c = std::make_shared<Conn>(e, true);
  c->settings = settings;
  c->tls_context = std::move(ctx);
  c->tls.emplace(std::move(s));
  if (from) c->set_addresses(from->peer, from->local_known ? &from->local : nullptr);
  c->note_addresses();
  return c;
}

void async_upgrade(std::shared_ptr<Conn> c, std::shared_ptr<const Request> req, std::shared_ptr<const UpgradeOptions> o,
                   UpgradeDone done) {
  Engine& e = *o->engine;
  if (c->finished()) return fail_later(e, c, std::move(done));
  c->note_request(req);
  if (!websocket::is_upgrade(*req))
    return reject(c, http::status::upgrade_required, "This is a WebSocket endpoint: upgrade required\n", true,
                  std::move(done));
  if (!origin_allowed(*c, *req, *o)) return reject(c, http::status::forbidden, "Origin not allowed\n", false, std::move(done));
  if (o->max_connections && o->group && o->group->size() >= o->max_connections)
    return reject(c, http::status::service_unavailable, "Too many connections\n", false, std::move(done));
  // Subprotocol: the first of ours that the client offered.
  auto offered = req->base()[http::field::sec_websocket_protocol];
  auto theirs = split_tokens(std::string_view(offered.data(), offered.size()));
  for (const auto& p : o->protocols)
    if (std::find(theirs.begin(), theirs.end(), p) != theirs.end()) {
      c->protocol = p;
      break;
    }
  if (c->finished()) return fail_later(e, c, std::move(done));  // the origins function may have run long
  c->async_accept(req, [c, o, done = std::move(done)](const error_code& ec) {
    if (ec || c->finished()) {
      c->abort();
      return done(nullptr, Refusal{0, ec ? error_text(ec) : "connection closed"});
    }
    if (o->group)
      o->group->join(c);
    else
      c->id = next_free_id(*o->engine);
    c->start();
    done(c, {});
  });
}

namespace {

template <class MakeConn>
int upgrade_task(lua_State* L, const Request& req, const std::shared_ptr<const UpgradeOptions>& o, const MakeConn& make) {
  return suspend(L, "upgrade", o->handshake_timeout_ms, [&](const OpPtr& op) {
    auto c = make();
    op->on_abandon([c] { c->abort(); });
    async_upgrade(c, std::make_shared<const Request>(req), o, [op](std::shared_ptr<Conn> c, const Refusal& why) {
      if (!op->active()) return;
      if (!c) {
        if (why.status == 0) return op->fail(kClosed, "WebSocket upgrade failed: " + why.reason);
        return op->fail_with([why](lua_State* L) {
          push_error(L, "EHANDSHAKE", "WebSocket upgrade refused (" + std::to_string(why.status) + "): " + why.reason, 1);
          lua_pushinteger(L, why.status);
          lua_setfield(L, -2, "status");
        });
      }
      op->resume([c](lua_State* L) {
        push_conn(L, c);
        if (auto g = c->group.lock())
          g->publish(L, c);
        else
          c->accepted = true;
      });
    });
  });
}

}  // namespace

int upgrade(lua_State* L, Socket&& s, const Request& req, const std::shared_ptr<const UpgradeOptions>& o) {
  Engine& e = Engine::of(L);
  return upgrade_task(L, req, o, [&] { return adopt(e, std::move(s), o->settings); });
}

int upgrade(lua_State* L, TlsSocket&& s, const std::shared_ptr<ssl::context>& ctx, const Request& req,
            const std::shared_ptr<const UpgradeOptions>& o) {
  Engine& e = Engine::of(L);
  return upgrade_task(L, req, o, [&] { return adopt(e, std::move(s), ctx, o->settings); });
}

void register_upgrade_classes(lua_State* L) {
  const luaL_Reg meta[] = {{"__gc", [](lua_State* L) { return gc_object<OptionsBox>(L, kOptionsType); }},
                           {nullptr, nullptr}};
  new_class(L, kOptionsType, nullptr, meta);
}

}  // namespace mw::net::ws
