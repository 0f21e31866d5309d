// The Lua object of a net.ws connection: send/recv/ping/pong/close/... and its fields. Calls
// Conn's (non-template) methods only: no Beast operation is compiled here.
#include <boost/beast/websocket/rfc6455.hpp>

#include "runtime/errors.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/net/ws/conn.hpp"
#include "stdlib/buffer.hpp"

namespace mw::net::ws {

void push_conn(lua_State* L, std::shared_ptr<Conn> c) { new_object<ConnBox>(L, kWsType, 1, ConnBox{std::move(c)}); }

Conn* check_ws(lua_State* L, int idx) { return static_cast<ConnBox*>(check_udata(L, idx, kWsType))->conn.get(); }

Kind check_kind(lua_State* L, int idx, Kind def) {
  static const char* const names[] = {"text", "binary", "ping", "pong", nullptr};
  if (lua_isnoneornil(L, idx)) return def;
  std::string_view k = to_sv(L, idx);  // the common cases without luaL_checkoption's scan
  if (k == "text") return kText;
  if (k == "binary") return kBinary;
  return static_cast<Kind>(luaL_checkoption(L, idx, nullptr, names));
}

namespace {

int ws_send(lua_State* L) {
  Conn* c = check_ws(L);
  std::string_view data = check_data(L, 2);
  Kind kind = check_kind(L, 3, kText);
  if (!c->sendable()) raise(L, kClosed, "send: WebSocket is closed");
  if ((kind == kPing || kind == kPong) && data.size() > 125)
    raise(L, "EINVAL", "send: ping/pong payload must be at most 125 bytes");
  if (data.size() > c->settings.max_message && kind <= kBinary)
    raisef(L, "EMSGSIZE", "send: message of %d bytes is larger than max_message", (int)data.size());
  lua_settop(L, 2);
  // Nothing queued: the socket usually takes the whole frame at once, and the task goes on
  // without waiting for a write completion.
  size_t frame_size = 0, written = c->write_now(kind, data, frame_size);
  if (written == frame_size) return complete_now(L, 0);
  // No copy: the frame points into the string argument, kept on this coroutine's stack while
  // it waits (see OutMsg).
  return suspend(L, "send", c->timeout_ms, [&](const OpPtr& op) {
    op->on_abandon([c, o = op.get()] { c->pin(o); });
    if (written > 0)
      c->enqueue_rest(kind, data, written, op);
    else
      c->enqueue({kind, 0, data, nullptr, op});
  });
}

int control(lua_State* L, Kind kind, const char* what) {
  Conn* c = check_ws(L);
  std::string_view data = lua_isnoneornil(L, 2) ? std::string_view{} : check_data(L, 2);
  if (data.size() > 125) raisef(L, "EINVAL", "%s: payload must be at most 125 bytes", what);
  if (!c->sendable()) raisef(L, kClosed, "%s: WebSocket is closed", what);
  lua_settop(L, 2);
  return suspend(L, what, c->timeout_ms, [&](const OpPtr& op) {
    OutMsg m = owned_msg(kind, 0, std::make_shared<const std::string>(data));
    m.op = op;
    c->enqueue(std::move(m));
  });
}

// conn:stats(): {read_buffer = capacity of the read buffer in bytes, queued = frames waiting
// to be written, queued_bytes = their payload bytes} (diagnostics, tests).
int ws_stats(lua_State* L) {
  Conn* c = check_ws(L);
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, static_cast<lua_Integer>(c->read_capacity()));
  lua_setfield(L, -2, "read_buffer");
  lua_pushinteger(L, static_cast<lua_Integer>(c->queued_frames()));
  lua_setfield(L, -2, "queued");
  lua_pushinteger(L, static_cast<lua_Integer>(c->queued_bytes()));
  lua_setfield(L, -2, "queued_bytes");
  return 1;
}

int ws_ping(lua_State* L) { return control(L, kPing, "ping"); }
int ws_pong(lua_State* L) { return control(L, kPong, "pong"); }

int ws_recv(lua_State* L) {
  Conn* c = check_ws(L);
  if (c->reader_busy()) raise(L, kBusy, "recv: another task is already receiving on this connection");
  lua_settop(L, 1);
  int st = c->take(L);
  if (st > 0) return complete_now(L, 1);
  if (st < 0) {
    lua_pushnil(L);
    return complete_now(L, 1);
  }
  return suspend(L, "recv", c->timeout_ms, [&](const OpPtr& op) { c->wait_for(op); });
}

// try_recv() → message | nil, "empty" | nil, "closed": recv without waiting (poll-style layers).
int ws_try_recv(lua_State* L) {
  Conn* c = check_ws(L);
  if (c->reader_busy()) raise(L, kBusy, "try_recv: another task is already receiving on this connection");
  lua_settop(L, 1);
  int st = c->take(L);
  if (st > 0) return 1;
  lua_pushnil(L);
  lua_pushstring(L, st < 0 ? "closed" : "empty");
  return 2;
}

int ws_close(lua_State* L) {
  Conn* c = check_ws(L);
  lua_Integer code = luaL_optinteger(L, 2, 1000);
  std::string_view reason = lua_isnoneornil(L, 3) ? std::string_view{} : check_sv(L, 3);
  check_value(L, code == 1000 || (code >= 3000 && code <= 4999) || (code >= 1001 && code <= 1014 && code != 1004 && code != 1005 && code != 1006),
                2, "invalid close code");
  check_value(L, reason.size() <= 123, 3, "close reason must be at most 123 bytes");
  if (c->finished()) {
    lua_pushboolean(L, 1);
    return 1;
  }
  lua_settop(L, 3);
  // The closing handshake is bounded by close_timeout (not by set_timeout).
  return suspend(L, "close", -1, [&](const OpPtr& op) {
    c->start_close(static_cast<uint16_t>(code), std::string(reason), op);
  });
}

int ws_gc(lua_State* L) {
  auto* box = static_cast<ConnBox*>(test_udata(L, 1, kWsType));
  if (box && box->conn && box->conn->open()) box->conn->start_close(1001, "going away", nullptr);
  return gc_object<ConnBox>(L, kWsType);
}

int ws_set_timeout(lua_State* L) {
  check_ws(L)->timeout_ms = opt_timeout_ms(L, 2);
  return 0;
}

int ws_peer_addr(lua_State* L) {
  push_sv(L, check_ws(L)->peer_addr());
  return 1;
}

int ws_local_addr(lua_State* L) {
  push_sv(L, check_ws(L)->local_addr());
  return 1;
}

int ws_is_open(lua_State* L) {
  lua_pushboolean(L, check_ws(L)->sendable());
  return 1;
}

int ws_tostring(lua_State* L) {
  Conn* c = check_ws(L);
  lua_pushfstring(L, "ws.conn #%d (%s -> %s%s)", (int)c->id, c->local_addr().c_str(), c->peer_addr().c_str(),
                  c->finished() ? ", closed" : "");
  return 1;
}

// Fields: protocol, id, path, query, url, headers, response, close_code, close_reason.
int ws_index(lua_State* L) {
  // Methods first: ws:recv()/ws:send() look up here on every call (the method checks `self`).
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  Conn* c = check_ws(L);
  std::string_view key = to_sv(L, 2);
  if (key == "protocol") {
    if (c->protocol.empty()) return lua_pushnil(L), 1;
    return push_sv(L, c->protocol), 1;
  }
  if (key == "id") return lua_pushinteger(L, static_cast<lua_Integer>(c->id)), 1;
  if (key == "path") return push_sv(L, c->path), 1;
  if (key == "query") {
    if (c->query.empty()) return lua_pushnil(L), 1;
    return push_sv(L, c->query), 1;
  }
  if (key == "url") return push_sv(L, c->url), 1;
  if (key == "close_code") {
    if (!c->read_ended()) return lua_pushnil(L), 1;
    return lua_pushinteger(L, c->close_code()), 1;
  }
  if (key == "close_reason") {
    if (!c->read_ended()) return lua_pushnil(L), 1;
    return push_sv(L, c->close_reason()), 1;
  }
  if (key == "headers" || key == "response") {
    // Built once, cached in the user value.
    if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushvalue(L, -1);
      lua_setiuservalue(L, 1, 1);
    }
    if (lua_getfield(L, -1, "headers") != LUA_TTABLE) {
      lua_pop(L, 1);
      push_headers(L, c->request_headers());
      lua_pushvalue(L, -1);
      lua_setfield(L, -3, "headers");
    }
    if (key == "headers") return 1;
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, c->status);
    lua_setfield(L, -2, "status");
    lua_insert(L, -2);
    lua_setfield(L, -2, "headers");
    return 1;
  }
  lua_pushnil(L);
  return 1;
}

}  // namespace

void register_conn_class(lua_State* L) {
  const luaL_Reg methods[] = {{"send", ws_send},
                              {"recv", ws_recv},
                              {"try_recv", ws_try_recv},
                              {"ping", ws_ping},
                              {"pong", ws_pong},
                              {"close", ws_close},
                              {"set_timeout", ws_set_timeout},
                              {"peer_addr", ws_peer_addr},
                              {"local_addr", ws_local_addr},
                              {"is_open", ws_is_open},
                              {"stats", ws_stats},
                              {nullptr, nullptr}};
  const luaL_Reg meta[] = {{"__gc", ws_gc}, {"__close", ws_close}, {"__tostring", ws_tostring}, {nullptr, nullptr}};
  new_class(L, kWsType, methods, meta, ws_index);
}

}  // namespace mw::net::ws
