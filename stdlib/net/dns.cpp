// net.resolve(host[, {family}]) → list of addresses. Resolution runs on Asio's resolver thread,
// never blocking the loop.
#include <boost/asio/ip/tcp.hpp>
#include <set>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/net/net.hpp"

namespace mw::net {

using tcp = boost::asio::ip::tcp;

enum Family { kAny = 0, kV4 = 4, kV6 = 6 };

static Family check_family(lua_State* L, int opts) {
  static const char* const known[] = {"family", nullptr};
  if (!check_options(L, opts, "net.resolve", known)) return kAny;
  lua_getfield(L, opts, "family");
  Family f = kAny;
  if (lua_type(L, -1) == LUA_TNUMBER) {
    lua_Integer n = lua_tointeger(L, -1);
    if (n == 4) f = kV4;
    else if (n == 6) f = kV6;
    else option_error(L, "family", "4, 6, \"inet\", \"inet6\" or \"any\"");
  } else if (lua_type(L, -1) == LUA_TSTRING) {
    std::string_view s = to_sv(L, -1);
    if (s == "inet" || s == "ipv4") f = kV4;
    else if (s == "inet6" || s == "ipv6") f = kV6;
    else if (s != "any") option_error(L, "family", "4, 6, \"inet\", \"inet6\" or \"any\"");
  } else if (!lua_isnil(L, -1)) {
    option_error(L, "family", "4, 6, \"inet\", \"inet6\" or \"any\"");
  }
  lua_pop(L, 1);
  return f;
}

int resolve(lua_State* L) {
  std::string_view host = check_sv(L, 1);
  check_value(L, !host.empty(), 1, "host must not be empty");
  Family family = check_family(L, 2);
  boost::system::error_code ec;
  auto literal = boost::asio::ip::make_address(std::string(host), ec);
  if (!ec) {
    bool fits = family == kAny || (family == kV4) == literal.is_v4();
    lua_createtable(L, 1, 0);
    if (fits) {
      lua_pushstring(L, literal.to_string().c_str());
      lua_rawseti(L, -2, 1);
    }
    return 1;
  }
  return suspend(L, "net.resolve", -1, [&](const OpPtr& op) {
    auto resolver = std::make_shared<tcp::resolver>(op->engine().io());
    std::string h(host);
    auto proto = family == kV4 ? tcp::v4() : tcp::v6();
    auto done = [op, resolver, h, family](const boost::system::error_code& ec, tcp::resolver::results_type results) {
      if (!op->active()) return;
      if (ec) return op->fail(error_code_name(ec), "cannot resolve '" + h + "': " + error_text(ec));
      std::vector<std::string> addrs;
      std::set<std::string> seen;
      for (const auto& r : results) {
        auto a = r.endpoint().address();
        if ((family == kV4 && !a.is_v4()) || (family == kV6 && !a.is_v6())) continue;
        std::string s = a.to_string();
        if (seen.insert(s).second) addrs.push_back(s);
      }
      op->resume([&](lua_State* L) {
        lua_createtable(L, static_cast<int>(addrs.size()), 0);
        for (size_t i = 0; i < addrs.size(); ++i) {
          lua_pushstring(L, addrs[i].c_str());
          lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
        }
      });
    };
    if (family == kAny)
      resolver->async_resolve(h, "", done);
    else
      resolver->async_resolve(proto, h, "", done);
  });
}

}  // namespace mw::net
