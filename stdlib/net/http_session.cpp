// net.http sessions: http.create_session([opts]) -> a session whose requests share one cookie
// jar (stdlib/net/cookies.hpp), filled from Set-Cookie replies (redirect hops included) and by
// hand (set_cookie). Requests go through the same client and connection pool as http.*.
#include "stdlib/net/http_session.hpp"

#include <cctype>
#include <cmath>
#include <ctime>

#include "runtime/errors.hpp"
#include "stdlib/net/cookies.hpp"
#include "stdlib/net/url.hpp"

namespace mw::net {

namespace {

constexpr const char* kSessionType = "moonwire.http.session";
char kPinnedSession;

struct Session {
  std::shared_ptr<CookieJar> jar = std::make_shared<CookieJar>();
};

Session* check_session(lua_State* L) { return static_cast<Session*>(check_udata(L, 1, kSessionType)); }

int64_t now() { return static_cast<int64_t>(std::time(nullptr)); }

template <HttpCall kind>
int session_call(lua_State* L) {
  Session* s = check_session(L);
  lua_pushvalue(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kPinnedSession);
  lua_remove(L, 1);
  return http_call(L, kind, s->jar.get());
}

// The optional URL argument at idx as a CookieUrl; raises EINVAL for a bad URL. Returns false
// when the argument is absent.
bool opt_cookie_url(lua_State* L, int idx, CookieUrl& out) {
  if (lua_isnoneornil(L, idx)) return false;
  if (lua_type(L, idx) != LUA_TSTRING) luaL_typeerror(L, idx, "URL string");
  bool ok;
  {  // no C++ object may be alive when raising
    UrlTarget t;
    std::string err;
    ok = parse_http_url(to_sv(L, idx), t, err);
    if (ok) {
      std::string_view path = t.target;
      out = CookieUrl{t.scheme, t.host, std::string(path.substr(0, path.find('?')))};
    } else {
      lua_pushfstring(L, "http: %s", err.c_str());
    }
  }
  if (!ok) raise(L, "EINVAL", to_sv(L, -1));
  return true;
}

void push_cookie(lua_State* L, const Cookie& c) {
  lua_createtable(L, 0, 8);
  push_sv(L, c.name);
  lua_setfield(L, -2, "name");
  push_sv(L, c.value);
  lua_setfield(L, -2, "value");
  if (!c.domain.empty()) {
    push_sv(L, c.domain);
    lua_setfield(L, -2, "domain");
  }
  push_sv(L, c.path);
  lua_setfield(L, -2, "path");
  if (c.expires) {
    lua_pushinteger(L, *c.expires);
    lua_setfield(L, -2, "expires");
  }
  lua_pushboolean(L, c.secure);
  lua_setfield(L, -2, "secure");
  lua_pushboolean(L, c.http_only);
  lua_setfield(L, -2, "http_only");
  lua_pushboolean(L, c.host_only && !c.domain.empty());
  lua_setfield(L, -2, "host_only");
}

// The cookies for the URL at idx 2 (in the order they would be sent), or all (oldest first).
std::vector<const Cookie*> select(lua_State* L, Session* s, int idx) {
  CookieUrl u;
  bool have = opt_cookie_url(L, idx, u);
  return have ? s->jar->matching(u, now()) : s->jar->all(now());
}

// set_cookie(name, value[, {domain, path, expires, secure, http_only}])
int session_set_cookie(lua_State* L) {
  Session* s = check_session(L);
  static const char* const known[] = {"domain", "path", "expires", "max_age", "secure", "http_only", nullptr};
  if (lua_type(L, 2) != LUA_TSTRING) luaL_typeerror(L, 2, "string");
  if (!valid_cookie_name(to_sv(L, 2))) value_error(L, 2, "a cookie name must be a token (letters, digits, !#$%&'*+-.^_`|~)");
  int vt = lua_type(L, 3);
  if (vt != LUA_TSTRING && vt != LUA_TNUMBER) luaL_typeerror(L, 3, "string");
  lua_pushvalue(L, 3);
  lua_replace(L, 3);
  if (lua_type(L, 3) != LUA_TSTRING) lua_tostring(L, 3);
  if (!valid_cookie_value(to_sv(L, 3)))
    value_error(L, 3, "a cookie value cannot hold spaces, quotes, commas, semicolons, backslashes or control characters");
  if (lua_rawlen(L, 2) + lua_rawlen(L, 3) > kMaxCookieBytes) value_error(L, 3, "cookie larger than 4096 bytes");
  check_options(L, 4, "set_cookie", known);
  std::string_view domain = opt_sv_field(L, 4, "domain");
  if (!domain.empty() && domain.front() == '.') domain.remove_prefix(1);
  if (get_field(L, 4, "domain") != LUA_TNIL && domain.empty())
    raise(L, "EINVAL", "set_cookie: option 'domain' must not be empty (leave it out for every host)");
  lua_pop(L, 1);
  for (char ch : domain)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.' || ch == '_' || ch == ':'))
      raise(L, "EINVAL", "set_cookie: option 'domain' must be a host name");
  std::string_view path = opt_sv_field(L, 4, "path", "/");
  if (path.empty() || path.front() != '/') raise(L, "EINVAL", "set_cookie: option 'path' must start with '/'");
  for (char ch : path)
    if (ch == ';' || static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
      raise(L, "EINVAL", "set_cookie: option 'path' cannot hold ';' or control characters");
  std::optional<int64_t> expires;
  int et = get_field(L, 4, "expires");
  if (et == LUA_TNUMBER) {
    lua_Number e = lua_tonumber(L, -1);
    if (std::isnan(e)) raise(L, "EINVAL", "set_cookie: option 'expires' must not be NaN");
    expires = e >= 9.2e18 ? INT64_MAX / 2 : e <= -9.2e18 ? INT64_MIN / 2 : static_cast<int64_t>(std::floor(e));
  } else if (et == LUA_TSTRING) {
    expires = parse_cookie_date(to_sv(L, -1));
    if (!expires) raise(L, "EINVAL", "set_cookie: option 'expires' is not a date (e.g. 'Wed, 21 Oct 2026 07:28:00 GMT')");
  } else if (et != LUA_TNIL) {
    option_error(L, "expires", "a Unix time in seconds or an HTTP date");
  }
  lua_pop(L, 1);
  if (get_field(L, 4, "max_age") != LUA_TNIL) {
    lua_pop(L, 1);
    lua_Integer ma = opt_int_field(L, 4, "max_age", 0, LUA_MININTEGER / 2, LUA_MAXINTEGER / 2);
    expires = now() + ma;
  } else {
    lua_pop(L, 1);
  }
  bool secure = opt_bool_field(L, 4, "secure", false);
  bool http_only = opt_bool_field(L, 4, "http_only", false);
  // Checked: from here on nothing raises.
  Cookie c;
  c.name = to_sv(L, 2);
  c.value = to_sv(L, 3);
  c.domain = lower(domain);
  c.host_only = false;  // a domain given by hand covers its subdomains, as a Domain attribute does
  c.path = path;
  c.expires = expires;
  c.secure = secure;
  c.http_only = http_only;
  s->jar->set(std::move(c), now());
  return 0;
}

// get_cookie(name[, url]) -> value or nil: the cookie that would be sent to url (the most
// specific path first), or without url the most recently set cookie of that name.
int session_get_cookie(lua_State* L) {
  Session* s = check_session(L);
  std::string_view name = check_sv(L, 2);
  auto cookies = select(L, s, 3);
  bool any_url = lua_isnoneornil(L, 3);
  const Cookie* found = nullptr;
  for (const Cookie* c : cookies)
    if (c->name == name) {
      found = c;
      if (!any_url) break;  // send order: the first wins; without a URL: the newest
    }
  if (!found) {
    lua_pushnil(L);
  } else {
    push_sv(L, found->value);
  }
  return 1;
}

// get_cookies([url]) -> {name = value}: what would be sent to url, or every cookie (for a name
// held by several domains or paths: the most specific for url, else the newest).
int session_get_cookies(lua_State* L) {
  Session* s = check_session(L);
  auto cookies = select(L, s, 2);
  bool any_url = lua_isnoneornil(L, 2);
  lua_createtable(L, 0, static_cast<int>(cookies.size()));
  for (const Cookie* c : cookies) {
    if (!any_url && lua_getfield(L, -1, c->name.c_str()) != LUA_TNIL) {
      lua_pop(L, 1);
      continue;
    }
    if (!any_url) lua_pop(L, 1);
    push_sv(L, c->value);
    lua_setfield(L, -2, c->name.c_str());
  }
  return 1;
}

// cookie_list([url]) -> list of {name, value, domain, path, expires, secure, http_only, host_only}
int session_cookie_list(lua_State* L) {
  Session* s = check_session(L);
  auto cookies = select(L, s, 2);
  lua_createtable(L, static_cast<int>(cookies.size()), 0);
  lua_Integer i = 0;
  for (const Cookie* c : cookies) {
    push_cookie(L, *c);
    lua_rawseti(L, -2, ++i);
  }
  return 1;
}

int session_clear_cookies(lua_State* L) {
  check_session(L)->jar->clear();
  return 0;
}

int session_gc(lua_State* L) { return gc_object<Session>(L, kSessionType); }

int session_tostring(lua_State* L) {
  Session* s = check_session(L);
  lua_pushfstring(L, "http.session (%d cookies)", static_cast<int>(s->jar->size()));
  return 1;
}

// http.create_session([{cookies = {name = value}}]): cookies given here are sent to every host.
int create_session(lua_State* L) {
  static const char* const known[] = {"cookies", nullptr};
  check_options(L, 1, "http.create_session", known);
  int t = get_field(L, 1, "cookies");
  int c = lua_gettop(L);
  if (t == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, c)) {
      if (lua_type(L, -2) != LUA_TSTRING || !valid_cookie_name(to_sv(L, -2)))
        raise(L, "EINVAL", "http.create_session: cookie names must be tokens");
      if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
        raisef(L, "EINVAL", "http.create_session: cookie '%s' must be a string", lua_tostring(L, -2));
      lua_pushvalue(L, -1);
      if (!valid_cookie_value(to_sv(L, -1)))
        raisef(L, "EINVAL", "http.create_session: cookie '%s' has a character a cookie value cannot hold",
               lua_tostring(L, -3));
      lua_pop(L, 2);
    }
  } else if (t != LUA_TNIL) {
    option_error(L, "cookies", "a table of name = value");
  }
  auto* s = new_object<Session>(L, kSessionType, 0);
  if (t == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, c)) {
      lua_pushvalue(L, -1);
      Cookie ck;
      ck.name = to_sv(L, -3);
      ck.value = to_sv(L, -1);
      ck.domain.clear();
      ck.host_only = false;
      s->jar->set(std::move(ck), now());
      lua_pop(L, 2);
    }
  }
  return 1;
}

}  // namespace

void unpin_session(lua_State* L) {
  lua_pushnil(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kPinnedSession);
}

void register_http_session(lua_State* L) {
  const luaL_Reg methods[] = {{"get", session_call<HttpCall::get>},
                              {"head", session_call<HttpCall::head>},
                              {"delete", session_call<HttpCall::del>},
                              {"options", session_call<HttpCall::options>},
                              {"post", session_call<HttpCall::post>},
                              {"put", session_call<HttpCall::put>},
                              {"patch", session_call<HttpCall::patch>},
                              {"request", session_call<HttpCall::request>},
                              {"set_cookie", session_set_cookie},
                              {"get_cookie", session_get_cookie},
                              {"get_cookies", session_get_cookies},
                              {"cookie_list", session_cookie_list},
                              {"clear_cookies", session_clear_cookies},
                              {nullptr, nullptr}};
  const luaL_Reg meta[] = {{"__gc", session_gc}, {"__tostring", session_tostring}, {nullptr, nullptr}};
  new_class(L, kSessionType, methods, meta);
  lua_pushcfunction(L, create_session);
  lua_setfield(L, -2, "create_session");
}

}  // namespace mw::net
