// net.udp (CopperMoon API): bind, send/recv with the peer's address, connected mode, broadcast,
// multicast, timeouts. recv suspends the calling task only; one reader at a time per socket.
#include <boost/asio/ip/multicast.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/unicast.hpp>
#include <boost/asio/ip/v6_only.hpp>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/net/connect.hpp"
#include "stdlib/net/net.hpp"
#include "stdlib/buffer.hpp"

namespace mw::net {
namespace {  // this file's types

namespace asio = boost::asio;
using udp = asio::ip::udp;
using error_code = boost::system::error_code;

static constexpr const char* kUdpType = "moonwire.udp.socket";
static constexpr size_t kMaxDatagram = 65536;

static std::string ep_string(const udp::endpoint& ep) {
  auto a = ep.address();
  std::string host = a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  return host + ":" + std::to_string(ep.port());
}

class Udp : public std::enable_shared_from_this<Udp> {
 public:
  explicit Udp(asio::io_context& io) : sock(io) {}
  udp::socket sock;
  int64_t timeout_ms = -1;
  bool closed = false;
  bool connected = false;
  OpPtr reader;
  std::string buf;  // reused receive buffer

  bool reader_busy() const { return reader && reader->active(); }

  // Non-blocking receive into buf: 1 = got a datagram (size n, sender from), 0 = nothing yet,
  // -1 = error (ec).
  int try_recv(size_t max, size_t& n, udp::endpoint& from, error_code& ec) {
    if (buf.size() < max) buf.resize(max);
    n = connected ? sock.receive(asio::buffer(buf.data(), max), 0, ec)
                  : sock.receive_from(asio::buffer(buf.data(), max), from, 0, ec);
    if (connected && !ec) from = peer;
    if (ec == asio::error::would_block || ec == asio::error::try_again) return 0;
    return ec ? -1 : 1;
  }

  void wait_recv(const OpPtr& op, size_t max) {
    reader = op;
    auto self = shared_from_this();
    sock.async_wait(udp::socket::wait_read, [self, op, max](const error_code& ec) {
      if (!op->active()) return;
      if (ec) {
        self->reader.reset();
        return op->fail(self->closed ? error_code(asio::error::operation_aborted) : ec, "recv");
      }
      size_t n = 0;
      udp::endpoint from;
      error_code rec;
      int st = self->try_recv(max, n, from, rec);
      if (st == 0) return self->wait_recv(op, max);
      self->reader.reset();
      if (st < 0) return op->fail(rec, "recv");
      op->resume([self, n, from](lua_State* L) { push_datagram(L, self->buf.data(), n, from); });
    });
  }

  static void push_datagram(lua_State* L, const char* data, size_t n, const udp::endpoint& from) {
    lua_pushlstring(L, data, n);
    lua_pushstring(L, from.address().to_string().c_str());
    lua_pushinteger(L, from.port());
  }

  void close() {
    if (closed) return;
    closed = true;
    error_code ec;
    sock.close(ec);
    if (reader_busy()) reader->fail(kClosed, "socket closed");
    reader.reset();
  }

  udp::endpoint peer;
};

struct UdpBox {
  std::shared_ptr<Udp> u;
};

static Udp* check_udp(lua_State* L) { return static_cast<UdpBox*>(check_udata(L, 1, kUdpType))->u.get(); }

static Udp* check_open(lua_State* L) {
  Udp* u = check_udp(L);
  if (u->closed) raise(L, kClosed, "socket is closed");
  return u;
}

// Parses an IP literal ("localhost" is 127.0.0.1 — or ::1 for an IPv6 socket). Returns false
// for anything else (a name to resolve).
static bool literal(std::string_view host, bool v6_socket, asio::ip::address& out) {
  if (host == "localhost") {
    out = v6_socket ? asio::ip::address(asio::ip::address_v6::loopback()) : asio::ip::address(asio::ip::address_v4::loopback());
    return true;
  }
  std::string h(host);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  error_code ec;
  out = asio::ip::make_address(h, ec);
  return !ec;
}

// Resolves host asynchronously for op; calls f(endpoint) on success, fails op otherwise.
template <class F>
static void resolve_then(const OpPtr& op, std::string host, uint16_t port, bool want_v6, F f) {
  auto resolver = std::make_shared<udp::resolver>(op->engine().io());
  resolver->async_resolve(host, std::to_string(port),
                          [op, resolver, host, want_v6, f](const error_code& ec, udp::resolver::results_type results) {
                            if (!op->active()) return;
                            if (ec) return op->fail(error_code_name(ec), "cannot resolve '" + host + "': " + error_text(ec));
                            for (const auto& r : results)
                              if (r.endpoint().address().is_v6() == want_v6) return f(r.endpoint());
                            if (!results.empty()) return f(results.begin()->endpoint());
                            op->fail("ENOTFOUND", "cannot resolve '" + host + "'");
                          });
}

// --- bind ------------------------------------------------------------------------------------

// net.udp.bind([host,] port[, {reuseaddr, broadcast, ipv6_only}])
static int udp_bind(lua_State* L) {
  normalize_listen_args(L, "net.udp.bind", true);
  std::string_view host = to_sv(L, 1);
  auto port = static_cast<uint16_t>(lua_tointeger(L, 2));
  static const char* const known[] = {"reuseaddr", "broadcast", "ipv6_only", nullptr};
  check_options(L, 3, "net.udp.bind", known);
  bool reuse = opt_bool_field(L, 3, "reuseaddr", false);
  bool broadcast = opt_bool_field(L, 3, "broadcast", false);
  bool v6only = opt_bool_field(L, 3, "ipv6_only", false);
  return suspend(L, "udp.bind", -1, [&](const OpPtr& op) {
    auto open_at = [op, reuse, broadcast, v6only](const udp::endpoint& ep) {
      auto u = std::make_shared<Udp>(op->engine().io());
      error_code ec;
      u->sock.open(ep.protocol(), ec);
      if (!ec && reuse) u->sock.set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec && broadcast) u->sock.set_option(asio::socket_base::broadcast(true), ec);
      if (!ec && ep.address().is_v6()) u->sock.set_option(asio::ip::v6_only(v6only), ec);
      if (!ec) u->sock.bind(ep, ec);
      if (!ec) u->sock.non_blocking(true, ec);
      if (ec) return op->fail(error_code_name(ec), "udp bind to " + ep_string(ep) + ": " + error_text(ec));
      op->resume([u](lua_State* L) { new_object<UdpBox>(L, kUdpType, 0, UdpBox{u}); });
    };
    asio::ip::address addr;
    if (literal(host, false, addr)) return open_at(udp::endpoint(addr, port));
    resolve_then(op, std::string(host), port, false, open_at);
  });
}

// --- sending ---------------------------------------------------------------------------------

static void send_datagram(const OpPtr& op, std::shared_ptr<Udp> u, std::string data, const udp::endpoint& to) {
  error_code ec;
  size_t n = u->sock.send_to(asio::buffer(data), to, 0, ec);
  if (!ec) return op->resume([n](lua_State* L) { lua_pushinteger(L, static_cast<lua_Integer>(n)); });
  if (ec != asio::error::would_block && ec != asio::error::try_again)
    return op->fail(error_code_name(ec), "send to " + ep_string(to) + ": " + error_text(ec));
  auto d = std::make_shared<std::string>(std::move(data));
  u->sock.async_send_to(asio::buffer(*d), to, [op, u, d, to](const error_code& ec, size_t n) {
    if (!op->active()) return;
    if (ec) return op->fail(error_code_name(ec), "send to " + ep_string(to) + ": " + error_text(ec));
    op->resume([n](lua_State* L) { lua_pushinteger(L, static_cast<lua_Integer>(n)); });
  });
}

static int raise_send_error(lua_State* L, const error_code& ec, const udp::endpoint& to) {
  lua_pushfstring(L, "send to %s: %s", ep_string(to).c_str(), error_text(ec).c_str());
  lua_pushstring(L, error_code_name(ec).c_str());
  raise(L, to_sv(L, -1), to_sv(L, -2));
}

// sock:send(data, host, port) → bytes sent. With a connected socket host/port may be omitted.
static int udp_send(lua_State* L) {
  Udp* u = check_open(L);
  std::string_view data = check_data(L, 2);
  if (lua_isnoneornil(L, 3) && u->connected) {
    error_code ec;
    size_t n = u->sock.send(asio::buffer(data.data(), data.size()), 0, ec);
    if (ec) {
      udp::endpoint peer = u->peer;
      raise_send_error(L, ec, peer);
    }
    lua_pushinteger(L, static_cast<lua_Integer>(n));
    return complete_now(L, 1);
  }
  std::string_view host = check_sv(L, 3);
  uint16_t port = check_port(L, 4);
  asio::ip::address addr;
  error_code lec;
  bool v6 = u->sock.local_endpoint(lec).address().is_v6();
  if (literal(host, v6, addr)) {
    error_code ec;
    udp::endpoint to(addr, port);
    size_t n = u->sock.send_to(asio::buffer(data.data(), data.size()), to, 0, ec);
    if (!ec) {
      lua_pushinteger(L, static_cast<lua_Integer>(n));
      return complete_now(L, 1);
    }
    if (ec != asio::error::would_block && ec != asio::error::try_again) raise_send_error(L, ec, to);
  }
  lua_settop(L, 4);
  return suspend(L, "udp.send", u->timeout_ms, [&](const OpPtr& op) {
    auto self = u->shared_from_this();
    std::string d(data);
    asio::ip::address a;
    if (literal(host, v6, a)) return send_datagram(op, self, std::move(d), udp::endpoint(a, port));
    resolve_then(op, std::string(host), port, v6, [op, self, d](const udp::endpoint& to) { send_datagram(op, self, d, to); });
  });
}

// sock:send_connected(data) → bytes sent (after sock:connect).
static int udp_send_connected(lua_State* L) {
  Udp* u = check_open(L);
  check_sv(L, 2);
  if (!u->connected) raise(L, "ENOTCONN", "send_connected: socket is not connected (call connect first)");
  lua_settop(L, 2);
  return udp_send(L);
}

// --- receiving -------------------------------------------------------------------------------

// sock:recv([max]) → data, host, port
static int udp_recv(lua_State* L) {
  Udp* u = check_open(L);
  lua_Integer max = luaL_optinteger(L, 2, kMaxDatagram);
  check_value(L, max > 0 && max <= static_cast<lua_Integer>(kMaxDatagram), 2, "size must be 1..65536");
  if (u->reader_busy()) raise(L, kBusy, "recv: another task is already receiving on this socket");
  bool failed = false;
  {
    size_t n = 0;
    udp::endpoint from;
    error_code ec;
    int st = u->try_recv(static_cast<size_t>(max), n, from, ec);
    if (st > 0) {
      Udp::push_datagram(L, u->buf.data(), n, from);
      return complete_now(L, 3);
    }
    if (st < 0) {
      failed = true;
      lua_pushfstring(L, "recv: %s", error_text(ec).c_str());
      lua_pushstring(L, error_code_name(ec).c_str());
    }
  }
  if (failed) raise(L, to_sv(L, -1), to_sv(L, -2));
  lua_settop(L, 1);
  return suspend(L, "recv", u->timeout_ms, [&](const OpPtr& op) {
    auto self = u->shared_from_this();
    op->on_abandon([self] {
      error_code ec;
      self->sock.cancel(ec);  // stops the pending wait; the socket stays usable
      self->reader.reset();
    });
    self->wait_recv(op, static_cast<size_t>(max));
  });
}

// --- options -----------------------------------------------------------------------------------

// sock:connect(host, port): default peer for send_connected/send(data); recv then only
// accepts datagrams from it.
static int udp_connect(lua_State* L) {
  Udp* u = check_open(L);
  std::string_view host = check_sv(L, 2);
  uint16_t port = check_port(L, 3);
  error_code lec;
  bool v6 = u->sock.local_endpoint(lec).address().is_v6();
  lua_settop(L, 3);
  return suspend(L, "udp.connect", u->timeout_ms, [&](const OpPtr& op) {
    auto self = u->shared_from_this();
    auto done = [op, self](const udp::endpoint& ep) {
      error_code ec;
      self->sock.connect(ep, ec);
      if (ec) return op->fail(error_code_name(ec), "udp connect to " + ep_string(ep) + ": " + error_text(ec));
      self->connected = true;
      self->peer = ep;
      op->resume();
    };
    asio::ip::address a;
    if (literal(host, v6, a)) return done(udp::endpoint(a, port));
    resolve_then(op, std::string(host), port, v6, done);
  });
}

template <class Option>
static int set_opt(lua_State* L, const Option& opt, const char* what) {
  Udp* u = check_open(L);
  error_code ec;
  u->sock.set_option(opt, ec);
  if (ec) {
    lua_pushfstring(L, "%s: %s", what, error_text(ec).c_str());
    lua_pushstring(L, error_code_name(ec).c_str());
    raise(L, to_sv(L, -1), to_sv(L, -2));
  }
  return 0;
}

static int udp_set_broadcast(lua_State* L) {
  return set_opt(L, asio::socket_base::broadcast(lua_isnone(L, 2) || lua_toboolean(L, 2)), "set_broadcast");
}

static int udp_set_multicast_loop(lua_State* L) {
  return set_opt(L, asio::ip::multicast::enable_loopback(lua_isnone(L, 2) || lua_toboolean(L, 2)),
                 "set_multicast_loop");
}

static int udp_set_multicast_ttl(lua_State* L) {
  lua_Integer ttl = luaL_checkinteger(L, 2);
  check_value(L, ttl >= 0 && ttl <= 255, 2, "ttl must be 0..255");
  return set_opt(L, asio::ip::multicast::hops(static_cast<int>(ttl)), "set_multicast_ttl");
}

static int udp_set_ttl(lua_State* L) {
  lua_Integer ttl = luaL_checkinteger(L, 2);
  check_value(L, ttl >= 1 && ttl <= 255, 2, "ttl must be 1..255");
  return set_opt(L, asio::ip::unicast::hops(static_cast<int>(ttl)), "set_ttl");
}

static bool parse_addr(lua_State* L, int idx, asio::ip::address& out) {
  std::string_view s = check_sv(L, idx);
  return literal(s, false, out);
}

// sock:set_multicast_interface(addr): the local interface address outgoing multicast uses.
static int udp_set_multicast_interface(lua_State* L) {
  check_open(L);
  asio::ip::address a;
  if (!parse_addr(L, 2, a)) value_error(L, 2, "an interface IP address is expected");
  if (a.is_v4()) return set_opt(L, asio::ip::multicast::outbound_interface(a.to_v4()), "set_multicast_interface");
  value_error(L, 2, "IPv6 interfaces are given by index: use an IPv4 address or the default");
  return 0;
}

static int membership(lua_State* L, bool join) {
  check_open(L);
  asio::ip::address group, iface;
  if (!parse_addr(L, 2, group) || !group.is_multicast()) value_error(L, 2, "a multicast group address is expected");
  bool has_iface = !lua_isnoneornil(L, 3);
  if (has_iface && !parse_addr(L, 3, iface)) value_error(L, 3, "an interface IP address is expected");
  const char* what = join ? "join_multicast" : "leave_multicast";
  if (group.is_v4()) {
    auto i4 = has_iface && iface.is_v4() ? iface.to_v4() : asio::ip::address_v4::any();
    if (join) return set_opt(L, asio::ip::multicast::join_group(group.to_v4(), i4), what);
    return set_opt(L, asio::ip::multicast::leave_group(group.to_v4(), i4), what);
  }
  if (join) return set_opt(L, asio::ip::multicast::join_group(group.to_v6()), what);
  return set_opt(L, asio::ip::multicast::leave_group(group.to_v6()), what);
}

static int udp_join_multicast(lua_State* L) { return membership(L, true); }
static int udp_leave_multicast(lua_State* L) { return membership(L, false); }

static int udp_set_timeout(lua_State* L) {
  Udp* u = check_udp(L);
  u->timeout_ms = opt_timeout_ms(L, 2);
  return 0;
}

static int udp_local_addr(lua_State* L) {
  Udp* u = check_open(L);
  error_code ec;
  auto ep = u->sock.local_endpoint(ec);
  if (ec) raise(L, "EINVAL", "local_addr: socket has no local address");
  lua_pushstring(L, ep_string(ep).c_str());
  return 1;
}

static int udp_peer_addr(lua_State* L) {
  Udp* u = check_open(L);
  if (!u->connected) return 0;
  lua_pushstring(L, ep_string(u->peer).c_str());
  return 1;
}

static int udp_close(lua_State* L) {
  check_udp(L)->close();
  return 0;
}

static int udp_gc(lua_State* L) {
  auto* box = static_cast<UdpBox*>(test_udata(L, 1, kUdpType));
  if (box && box->u) box->u->close();
  return gc_object<UdpBox>(L, kUdpType);
}

static int udp_tostring(lua_State* L) {
  Udp* u = check_udp(L);
  error_code ec;
  auto ep = u->sock.local_endpoint(ec);
  lua_pushfstring(L, "udp.socket (%s%s)", ec ? "?" : ep_string(ep).c_str(), u->closed ? ", closed" : "");
  return 1;
}

static int udp_index(lua_State* L) {
  Udp* u = check_udp(L);
  std::string_view key = check_sv(L, 2);
  if ((key == "port" || key == "host") && !u->closed) {
    error_code ec;
    auto ep = u->sock.local_endpoint(ec);
    if (!ec) {
      if (key == "port")
        lua_pushinteger(L, ep.port());
      else
        lua_pushstring(L, ep.address().to_string().c_str());
      return 1;
    }
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  return 1;
}

}  // namespace

int open_udp(lua_State* L) {
  const luaL_Reg methods[] = {{"send", udp_send},
                              {"send_to", udp_send},
                              {"sendto", udp_send},
                              {"send_connected", udp_send_connected},
                              {"recv", udp_recv},
                              {"recv_from", udp_recv},
                              {"recvfrom", udp_recv},
                              {"connect", udp_connect},
                              {"set_broadcast", udp_set_broadcast},
                              {"join_multicast", udp_join_multicast},
                              {"leave_multicast", udp_leave_multicast},
                              {"set_multicast_ttl", udp_set_multicast_ttl},
                              {"set_multicast_loop", udp_set_multicast_loop},
                              {"set_multicast_loopback", udp_set_multicast_loop},
                              {"set_multicast_interface", udp_set_multicast_interface},
                              {"set_ttl", udp_set_ttl},
                              {"set_timeout", udp_set_timeout},
                              {"local_addr", udp_local_addr},
                              {"peer_addr", udp_peer_addr},
                              {"close", udp_close},
                              {nullptr, nullptr}};
  const luaL_Reg meta[] = {{"__gc", udp_gc}, {"__close", udp_close}, {"__tostring", udp_tostring}, {nullptr, nullptr}};
  new_class(L, kUdpType, methods, meta, udp_index);

  const luaL_Reg funcs[] = {{"bind", udp_bind}, {nullptr, nullptr}};
  luaL_newlib(L, funcs);
  return 1;
}

}  // namespace mw::net
