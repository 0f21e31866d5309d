// net.url: URL helpers for scripts. parse (Boost.URL) → a table, build (the inverse), resolve
// (RFC 3986 reference resolution), percent encode/decode of components, and query strings
// to and from tables. Pure computation: nothing here waits.
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <algorithm>
#include <string>
#include <vector>

#include "runtime/errors.hpp"
#include "runtime/lua.hpp"
#include "stdlib/net/url.hpp"

namespace mw::net {


namespace {

namespace urls = boost::urls;

bool unreserved(unsigned char c) { return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

// Every byte except A-Z a-z 0-9 - . _ ~ as %XX (JavaScript's encodeURIComponent, on bytes).
void append_encoded(std::string& out, std::string_view s, bool space_as_plus = false) {
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (unreserved(c)) out += static_cast<char>(c);
    else if (c == ' ' && space_as_plus) out += '+';
    else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
}

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX → byte; with plus_as_space, '+' → ' ' (form encoding). False on a malformed escape.
bool decode_into(std::string& out, std::string_view s, bool plus_as_space) {
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return false;
      int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return true;
}

// net.url.encode(s) → s with every byte but A-Z a-z 0-9 - . _ ~ percent-encoded
int url_encode(lua_State* L) {
  std::string_view s = check_sv(L, 1);
  std::string out;
  out.reserve(s.size());
  append_encoded(out, s);
  push_sv(L, out);
  return 1;
}

// net.url.decode(s) → %XX decoded ('+' stays: it is a space only in a query, see query_decode)
int url_decode(lua_State* L) {
  std::string_view s = check_sv(L, 1);
  std::string out;
  if (!decode_into(out, s, false)) value_error(L, 1, "malformed percent escape");
  push_sv(L, out);
  return 1;
}

// A query value: string, number or boolean as text.
bool query_value(lua_State* L, int idx, std::string& out) {
  int t = lua_type(L, idx);
  if (t == LUA_TSTRING || t == LUA_TNUMBER) {
    out = std::string(to_sv(L, idx));  // to_sv converts a number in place: only on copies
    return true;
  }
  if (t == LUA_TBOOLEAN) {
    out = lua_toboolean(L, idx) ? "true" : "false";
    return true;
  }
  return false;
}

// The query string for the table at idx into `out` (keys sorted; a list value repeats its key),
// or false with `err`. Raises nothing: a Lua error would skip the destructors of the vectors.
bool build_query(lua_State* L, int idx, const char* fname, std::string& out, std::string& err) {
  std::vector<std::pair<std::string, std::vector<std::string>>> items;
  auto bad_value = [&](const std::string& key) {
    err = std::string(fname) + ": query value of '" + key + "' must be a string, number, boolean or a list of them";
    lua_pop(L, 3);  // value copy, value, key
    return false;
  };
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING && lua_type(L, -2) != LUA_TNUMBER) {
      err = std::string(fname) + ": query keys are strings or numbers (got " + luaL_typename(L, -2) + ")";
      lua_pop(L, 2);
      return false;
    }
    lua_pushvalue(L, -2);
    std::string key(to_sv(L, -1));
    lua_pop(L, 1);
    std::vector<std::string> values;
    std::string v;
    lua_pushvalue(L, -1);
    if (lua_istable(L, -1)) {
      lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, -1));
      for (lua_Integer i = 1; i <= n; ++i) {
        lua_rawgeti(L, -1, i);
        lua_pushvalue(L, -1);
        bool ok = query_value(L, -1, v);
        lua_pop(L, 2);
        if (!ok) return bad_value(key);
        values.push_back(v);
      }
    } else if (query_value(L, -1, v)) {
      values.push_back(v);
    } else {
      return bad_value(key);
    }
    lua_pop(L, 2);
    items.emplace_back(std::move(key), std::move(values));
  }
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [k, vs] : items) {
    for (const auto& val : vs) {
      if (!out.empty()) out += '&';
      append_encoded(out, k);
      out += '=';
      append_encoded(out, val);
    }
  }
  return true;
}

// Pushes the query string for the table at idx; EINVAL for a bad key or value, raised once no
// C++ object of this function is alive.
void push_query(lua_State* L, int idx, const char* fname) {
  idx = lua_absindex(L, idx);
  bool ok;
  {
    std::string out, err;
    ok = build_query(L, idx, fname, out, err);
    push_sv(L, ok ? out : err);
  }
  if (!ok) raisef(L, "EINVAL", "%s", lua_tostring(L, -1));
}

// net.url.query_encode(t) → "a=1&b=x%20y" (keys sorted; {k = {1, 2}} → "k=1&k=2")
int url_query_encode(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  push_query(L, 1, "net.url.query_encode");
  return 1;
}

// Decodes the query `s` into the table at the top: '+' is a space, a repeated key a list.
bool decode_query(lua_State* L, std::string_view s) {
  if (!s.empty() && s[0] == '?') s.remove_prefix(1);
  int t = lua_gettop(L);
  while (!s.empty()) {
    size_t amp = s.find('&');
    std::string_view part = s.substr(0, amp);
    s = amp == std::string_view::npos ? std::string_view() : s.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string key, value;
    if (!decode_into(key, part.substr(0, eq), true)) return false;
    if (eq != std::string_view::npos && !decode_into(value, part.substr(eq + 1), true)) return false;
    push_sv(L, key);
    int had = lua_rawget(L, t);
    if (had == LUA_TNIL) {
      lua_pop(L, 1);
      push_sv(L, key);
      push_sv(L, value);
      lua_rawset(L, t);
    } else if (had == LUA_TTABLE) {
      push_sv(L, value);
      lua_rawseti(L, -2, static_cast<lua_Integer>(lua_rawlen(L, -2) + 1));
      lua_pop(L, 1);
    } else {  // second value: a list
      lua_createtable(L, 2, 0);
      lua_insert(L, -2);
      lua_rawseti(L, -2, 1);
      push_sv(L, value);
      lua_rawseti(L, -2, 2);
      push_sv(L, key);
      lua_insert(L, -2);
      lua_rawset(L, t);
    }
  }
  return true;
}

// net.url.query_decode(s) → {key = value | {values...}}
int url_query_decode(lua_State* L) {
  std::string_view s = check_sv(L, 1);
  lua_newtable(L);
  if (!decode_query(L, s)) value_error(L, 1, "malformed percent escape");
  return 1;
}

void set_string(lua_State* L, const char* key, std::string_view v) {
  push_sv(L, v);
  lua_setfield(L, -2, key);
}

// The fields of a parsed URL into a new table.
void push_parsed(lua_State* L, const urls::url_view& u) {
  lua_createtable(L, 0, 12);
  if (u.has_scheme()) set_string(L, "scheme", std::string(u.scheme()));
  if (u.has_authority()) {
    set_string(L, "host", u.host_type() == urls::host_type::ipv6 ? u.host_address() : u.host());
    if (u.has_userinfo()) {
      set_string(L, "user", u.user());
      if (u.has_password()) set_string(L, "password", u.password());
    }
    if (u.has_port() && !u.port().empty()) {  // "http://h:/" has an empty port: none
      lua_pushinteger(L, parse_port(u.port()));
      lua_setfield(L, -2, "port");
    }
  }
  set_string(L, "path", u.encoded_path());
  if (u.has_query()) {
    set_string(L, "query", u.encoded_query());
    lua_newtable(L);
    decode_query(L, u.encoded_query());  // valid: Boost.URL checked the escapes
    lua_setfield(L, -2, "params");
  } else {
    lua_newtable(L);
    lua_setfield(L, -2, "params");
  }
  if (u.has_fragment()) set_string(L, "fragment", u.fragment());
  set_string(L, "href", u.buffer());
}

// net.url.parse(s) → {scheme, user, password, host, port, path, query, params, fragment, href}
int url_parse(lua_State* L) {
  std::string_view s = check_sv(L, 1);
  auto r = urls::parse_uri_reference(s);
  if (!r) value_error(L, 1, "invalid URL");
  urls::url_view u = *r;  // a view (trivially destructible): safe to raise past
  bool port_out_of_range = u.has_port() && !u.port().empty() && parse_port(u.port()) < 0;
  if (port_out_of_range) value_error(L, 1, "invalid URL: port is out of range");
  if (u.has_scheme() && u.has_authority()) {  // the net modules' checks ("port 'abc' is not a number")
    bool bad;
    {
      std::string problem = url_problem(s);
      bad = !problem.empty();
      if (bad) lua_pushfstring(L, "invalid URL: %s", problem.c_str());
    }
    if (bad) value_error(L, 1, lua_tostring(L, -1));
  }
  push_parsed(L, u);
  return 1;
}

const char* const kBuildFields[] = {"scheme", "user", "password", "host", "port", "path", "query", "params", "fragment", "href", nullptr};

// net.url.build(t) → string; the inverse of parse (query: a string or a table; params as well)
int url_build(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  check_options(L, 1, "net.url.build", kBuildFields);
  // Everything that can raise runs before a std::string exists (lua_error skips destructors):
  // the query is built onto the stack (index 2: its text, or nil for none).
  lua_pushnil(L);
  bool has_query = false;
  for (const char* key : {"query", "params"}) {
    int t = get_field(L, 1, key);
    if (t == LUA_TSTRING) {
      size_t n;
      const char* q = lua_tolstring(L, -1, &n);
      if (n > 0 && q[0] == '?') lua_pushlstring(L, q + 1, n - 1);
      else lua_pushvalue(L, -1);
      lua_replace(L, 2);
      has_query = true;
    } else if (t == LUA_TTABLE) {
      push_query(L, -1, "net.url.build");  // an empty one adds no "?"
      if (lua_rawlen(L, -1) > 0) {
        lua_replace(L, 2);
        has_query = true;
      } else {
        lua_pop(L, 1);
      }
    } else if (t != LUA_TNIL) {
      option_error(L, key, "a string or a table");
    }
    lua_pop(L, 1);
    if (has_query) break;
  }
  lua_Integer port = -1;
  if (get_field(L, 1, "port") != LUA_TNIL) {
    lua_pop(L, 1);
    port = opt_int_field(L, 1, "port", 0, 0, 65535);
  } else {
    lua_pop(L, 1);
  }
  for (const char* key : {"scheme", "user", "password", "host", "path", "fragment"}) opt_sv_field(L, 1, key);
  {
    std::string_view sch = opt_sv_field(L, 1, "scheme");
    for (char c : sch)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.'))
        raisef(L, "EINVAL", "net.url.build: invalid scheme '%s'", lua_pushlstring(L, sch.data(), sch.size()));
  }
  bool has_fragment = get_field(L, 1, "fragment") != LUA_TNIL;
  lua_pop(L, 1);
  std::string query(has_query ? to_sv(L, 2) : std::string_view());
  std::string scheme(opt_sv_field(L, 1, "scheme")), user(opt_sv_field(L, 1, "user")), password(opt_sv_field(L, 1, "password"));
  std::string host(opt_sv_field(L, 1, "host")), path(opt_sv_field(L, 1, "path")), fragment(opt_sv_field(L, 1, "fragment"));
  std::string out;
  if (!scheme.empty()) out += scheme + ":";
  if (!host.empty() || !user.empty() || port >= 0) {
    out += "//";
    if (!user.empty() || !password.empty()) {
      append_encoded(out, user);
      if (!password.empty()) {
        out += ':';
        append_encoded(out, password);
      }
      out += '@';
    }
    if (host.find(':') != std::string::npos) out += "[" + host + "]";  // IPv6
    else append_encoded(out, host);
    if (port >= 0) out += ":" + std::to_string(port);
    if (!path.empty() && path[0] != '/') out += '/';
  }
  // The path as given (already encoded: "/a%20b"); characters that cannot appear are escaped.
  for (unsigned char c : path) {
    if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#' || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' || c == '}') {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (has_query) out += "?" + query;
  if (has_fragment) {
    out += '#';
    append_encoded(out, fragment);
  }
  push_sv(L, out);
  return 1;
}

// net.url.resolve(base, ref) → the absolute URL ref means relative to base (RFC 3986 5.2)
int url_resolve(lua_State* L) {
  std::string_view base = check_sv(L, 1), ref = check_sv(L, 2);
  std::string out;
  int bad = 0;
  {
    auto b = urls::parse_uri(base);
    auto r = urls::parse_uri_reference(ref);
    if (!b) bad = 1;
    else if (!r) bad = 2;
    else {
      urls::url dest;
      auto rv = urls::resolve(*b, *r, dest);
      if (!rv) bad = 1;
      else {
        // RFC 3986 5.2.4: ".." above the root is dropped ("../../../g" → "/g"); Boost 1.81
        // keeps it.
        std::string path(dest.encoded_path());
        while (path.rfind("/..", 0) == 0 && (path.size() == 3 || path[3] == '/')) path.erase(0, 3);
        if (path.empty() && dest.encoded_path() != "") path = "/";
        dest.set_encoded_path(path);
        out = std::string(dest.buffer());
      }
    }
  }
  if (bad) value_error(L, bad, bad == 1 ? "not an absolute URL" : "invalid URL reference");
  push_sv(L, out);
  return 1;
}

}  // namespace

int open_url(lua_State* L) {
  const luaL_Reg funcs[] = {{"parse", url_parse},
                            {"build", url_build},
                            {"resolve", url_resolve},
                            {"encode", url_encode},
                            {"decode", url_decode},
                            {"query_encode", url_query_encode},
                            {"query_decode", url_query_decode},
                            {nullptr, nullptr}};
  luaL_newlib(L, funcs);
  return 1;
}

}  // namespace mw::net
