// net.http (client): get/post/put/patch/delete/head/options/request on Boost.Beast.
// Keep-alive pool per (scheme, host, port, TLS settings, proxy); redirects; gzip/deflate;
// streaming to a file with progress; HTTP and SOCKS5 proxies (explicit or from the environment).
//
// Each call parses and validates everything (URL, headers, options) in the calling task before
// anything is sent, then suspends the task while a C++20 coroutine on the event loop performs
// the exchange (connect, proxy tunnel, TLS, write, read, redirects) and resumes it with the
// response table or an error object.
//
// Split: http_client.hpp (shared types), http_client_exchange.cpp (the exchange), this file
// (the Lua API).
#include <algorithm>
#include <cstring>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/compat.hpp"
#include "stdlib/net/http_client.hpp"
#include "stdlib/net/http_session.hpp"
#include "stdlib/net/net.hpp"
#include "stdlib/buffer.hpp"

namespace mw::net {

namespace httpc {
char kPoolKey;
}

namespace {  // this file's types: other net sources have their own
using namespace httpc;
using error_code = boost::system::error_code;

static int spec_gc(lua_State* L) {
  auto* s = static_cast<Spec*>(test_udata(L, 1, kSpecType));
  if (!s) return 0;
  if (s->progress_ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, s->progress_ref);
  if (s->body_ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, s->body_ref);
  if (s->thread_ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, s->thread_ref);
  s->~Spec();
  return 0;
}

// Appends the query table's pairs to the URL (percent-encoded by Boost.URL).
static bool apply_query(std::string& url, const std::vector<std::pair<std::string, std::string>>& q, std::string& err) {
  if (q.empty()) return true;
  auto r = urls::parse_uri(url);
  if (!r) {
    std::string problem = url_problem(url);
    err = "invalid URL '" + url + "': " + (problem.empty() ? "not a valid URL" : problem);
    return false;
  }
  urls::url u(*r);
  auto params = u.params();
  for (const auto& [k, v] : q) params.append({k, v});
  url = std::string(u.buffer());
  return true;
}

struct PoolBox {
  std::shared_ptr<Pool> pool;
};

static int pool_gc(lua_State* L) {
  auto* b = static_cast<PoolBox*>(test_udata(L, 1, kPoolType));
  if (b && b->pool) b->pool->clear();
  return gc_object<PoolBox>(L, kPoolType);
}

static Pool* get_pool(lua_State* L, std::shared_ptr<Pool>** holder = nullptr) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kPoolKey);
  auto* b = static_cast<PoolBox*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  if (holder) *holder = &b->pool;
  return b->pool.get();
}

// Parses url into t (false + err for a bad URL), through the pool's one-entry cache.
static bool cached_target(lua_State* L, const std::string& url, Target& t, std::string& err) {
  Pool* p = get_pool(L);
  if (!p->last_url.empty() && p->last_url == url) {
    t = p->last_target;
    return true;
  }
  if (!parse_target(url, t, err)) return false;
  p->last_url = url;
  p->last_target = t;
  return true;
}


}  // namespace

// --- Lua API ---------------------------------------------------------------------------------

// Reads one header value (string/number) at the top of the stack into spec; raises on bad input.
static void add_header(lua_State* L, Spec* spec, int key_idx, int val_idx) {
  std::string_view name = to_sv(L, key_idx);
  if (!is_token(name)) raisef(L, "EINVAL", "http: invalid header name '%s'", lua_tostring(L, key_idx));
  int vt = lua_type(L, val_idx);
  if (vt != LUA_TSTRING && vt != LUA_TNUMBER)
    raisef(L, "EINVAL", "http: header '%s' must be a string or a list of strings (got %s)", lua_tostring(L, key_idx),
           luaL_typename(L, val_idx));
  size_t n;
  const char* v = lua_tolstring(L, val_idx, &n);
  if (!is_field_value({v, n})) raisef(L, "EINVAL", "http: header '%s' contains CR, LF or NUL", lua_tostring(L, key_idx));
  spec->headers.push_back(Header{std::string(name), std::string(v, n)});
}

// Reads the arguments (url at 1, body at 2, opts at 3) into a Spec userdata pushed at the top.
static Spec* read_spec(lua_State* L, const char* method) {
  static const char* const known[] = {"method",   "url",       "headers",         "query",      "body",
                                      "json",     "timeout",   "connect_timeout", "redirects",  "decompress",
                                      "keepalive", "tls",      "save_to_file",    "on_progress", "proxy",
                                      "cookies",  nullptr};
  check_options(L, 3, "http request", known);
  auto* spec = new_object<Spec>(L, kSpecType, 0);
  int s = lua_gettop(L);
  // method
  if (method) {
    spec->method = method;
  } else if (get_field(L, 3, "method") != LUA_TNIL) {
    if (!lua_isstring(L, -1)) raise(L, "EINVAL", "http: option 'method' must be a string");
    spec->method = lower(to_sv(L, -1));
    for (char& c : spec->method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!is_token(spec->method)) raisef(L, "EINVAL", "http: invalid method '%s'", lua_tostring(L, -1));
    lua_pop(L, 1);
  } else {
    lua_pop(L, 1);
  }
  // url
  if (lua_isnil(L, 1) && get_field(L, 3, "url") != LUA_TNIL) lua_replace(L, 1);
  else if (lua_gettop(L) > s) lua_pop(L, 1);
  if (lua_type(L, 1) != LUA_TSTRING) raise(L, "EINVAL", "http: a URL string is required");
  spec->url = to_sv(L, 1);
  // headers
  int t = get_field(L, 3, "headers");
  if (t == LUA_TTABLE) {
    int h = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, h)) {
      if (lua_type(L, -2) != LUA_TSTRING) raise(L, "EINVAL", "http: header names must be strings");
      if (lua_istable(L, -1)) {
        lua_Integer n = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= n; ++i) {
          lua_geti(L, -1, i);
          add_header(L, spec, -3, -1);
          lua_pop(L, 1);
        }
      } else {
        add_header(L, spec, -2, -1);
      }
      lua_pop(L, 1);
    }
  } else if (t != LUA_TNIL) {
    raise(L, "EINVAL", "http: option 'headers' must be a table");
  }
  lua_pop(L, 1);
  // cookies: name -> value, one Cookie header (sorted by name), after a Cookie header given
  t = get_field(L, 3, "cookies");
  if (t == LUA_TTABLE) {
    int c = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, c)) {  // checked before any C++ object exists (a Lua error longjmps)
      if (lua_type(L, -2) != LUA_TSTRING || !valid_cookie_name(to_sv(L, -2)))
        raisef(L, "EINVAL", "http: cookie names must be tokens (got %s '%s')", luaL_typename(L, -2),
               lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?");
      int vt = lua_type(L, -1);
      if (vt != LUA_TSTRING && vt != LUA_TNUMBER)
        raisef(L, "EINVAL", "http: cookie '%s' must be a string (got %s)", lua_tostring(L, -2), luaL_typename(L, -1));
      lua_pushvalue(L, -1);
      if (!valid_cookie_value(to_sv(L, -1)))
        raisef(L, "EINVAL", "http: cookie '%s' has a character a cookie value cannot hold (space, quote, comma, "
               "semicolon, backslash or a control character)", lua_tostring(L, -3));
      lua_pop(L, 2);
    }
    std::vector<std::pair<std::string, std::string>> cookies;
    lua_pushnil(L);
    while (lua_next(L, c)) {
      lua_pushvalue(L, -1);
      cookies.emplace_back(std::string(to_sv(L, -3)), std::string(to_sv(L, -1)));
      lua_pop(L, 2);
    }
    std::sort(cookies.begin(), cookies.end());
    std::string line;
    for (const auto& [k, v] : cookies) line += (line.empty() ? "" : "; ") + k + "=" + v;
    if (!line.empty()) {
      auto it = std::find_if(spec->headers.begin(), spec->headers.end(), [](const Header& h) { return iequals(h.name, "cookie"); });
      if (it != spec->headers.end())
        it->value += "; " + line;
      else
        spec->headers.push_back(Header{"Cookie", std::move(line)});
    }
  } else if (t != LUA_TNIL) {
    raisef(L, "EINVAL", "http: option 'cookies' must be a table of name = value (got %s)", luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  // query
  t = get_field(L, 3, "query");
  if (t == LUA_TTABLE) {
    int q = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, q)) {
      if (lua_type(L, -2) != LUA_TSTRING && lua_type(L, -2) != LUA_TNUMBER)
        raise(L, "EINVAL", "http: query keys must be strings");
      lua_pushvalue(L, -2);
      std::string_view k = to_sv(L, -1);  // a copy of the key: tolstring must not touch the original
      auto add = [&](int idx) {
        int vt = lua_type(L, idx);
        if (vt == LUA_TBOOLEAN) {
          spec->query.emplace_back(std::string(k), lua_toboolean(L, idx) ? "true" : "false");
          return true;
        }
        if (vt != LUA_TSTRING && vt != LUA_TNUMBER) return false;
        spec->query.emplace_back(std::string(k), std::string(to_sv(L, idx)));
        return true;
      };
      bool ok = true;
      if (lua_istable(L, -2)) {
        lua_Integer n = luaL_len(L, -2);
        for (lua_Integer i = 1; i <= n && ok; ++i) {
          lua_geti(L, -2, i);
          ok = add(-1);
          lua_pop(L, 1);
        }
      } else {
        ok = add(-2);
      }
      if (!ok) raise(L, "EINVAL", "http: query values must be strings, numbers, booleans or lists of them");
      lua_pop(L, 2);
    }
    std::stable_sort(spec->query.begin(), spec->query.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  } else if (t != LUA_TNIL) {
    raise(L, "EINVAL", "http: option 'query' must be a table");
  }
  lua_pop(L, 1);
  // body / json
  if (lua_isnil(L, 2)) {
    get_field(L, 3, "body");
    lua_replace(L, 2);
  }
  if (lua_isfunction(L, 2)) {  // streamed body: chunks from the function until nil
    lua_pushvalue(L, 2);
    spec->body_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  } else if (!lua_isnil(L, 2)) {
    if (is_buffer(L, 2)) check_data(L, 2);  // a buffer body: its bytes as a string
    if (lua_type(L, 2) != LUA_TSTRING && lua_type(L, 2) != LUA_TNUMBER)
      raisef(L, "EINVAL", "http: body must be a string or a function (got %s)", luaL_typename(L, 2));
    spec->body = to_sv(L, 2);
    spec->has_body = true;
  } else if (get_field(L, 3, "json") != LUA_TNIL) {
    int j = lua_gettop(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, "json");
    if (!lua_istable(L, -1) || lua_getfield(L, -1, "encode") != LUA_TFUNCTION)
      raise(L, "EINVAL", "http: option 'json' needs the json module");
    lua_pushvalue(L, j);
    lua_call(L, 1, 1);
    spec->body = to_sv(L, -1);
    spec->has_body = true;
    spec->json_body = true;
    lua_settop(L, j - 1);
  } else {
    lua_pop(L, 1);
  }
  if (spec->json_body && !spec->has_header("content-type"))
    spec->headers.push_back(Header{"Content-Type", "application/json"});
  // timeouts (ms), redirects, flags
  spec->timeout_ms = opt_timeout_field(L, 3, "timeout", 30000);
  spec->connect_timeout_ms = opt_timeout_field(L, 3, "connect_timeout", kForever);
  t = get_field(L, 3, "redirects");
  if (t == LUA_TBOOLEAN) {
    spec->redirects = lua_toboolean(L, -1) ? 10 : 0;
    lua_pop(L, 1);
  } else {
    lua_pop(L, 1);
    spec->redirects = static_cast<int>(opt_int_field(L, 3, "redirects", spec->redirects, 0, 1000));
  }
  spec->decompress = opt_bool_field(L, 3, "decompress", true);
  spec->keepalive = opt_bool_field(L, 3, "keepalive", true);
  get_field(L, 3, "tls");
  spec->tls = tls::read_options(L, -1);
  lua_pop(L, 1);
  t = get_field(L, 3, "save_to_file");
  if (t == LUA_TSTRING) {
    spec->save_to_file = to_sv(L, -1);
    if (spec->save_to_file.empty()) raise(L, "EINVAL", "http: option 'save_to_file' must not be empty");
  } else if (t != LUA_TNIL) {
    raise(L, "EINVAL", "http: option 'save_to_file' must be a path string");
  }
  lua_pop(L, 1);
  t = get_field(L, 3, "on_progress");
  if (t == LUA_TFUNCTION) {
    spec->progress_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  } else {
    if (t != LUA_TNIL) raise(L, "EINVAL", "http: option 'on_progress' must be a function");
    lua_pop(L, 1);
  }
  if (spec->progress_ref != LUA_NOREF || spec->body_ref != LUA_NOREF) {  // callbacks run on their own thread
    spec->cb_thread = lua_newthread(L);
    spec->thread_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  // proxy: nil = environment, false = none, URL string
  t = get_field(L, 3, "proxy");
  bool truthy = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (t == LUA_TBOOLEAN || t == LUA_TNIL) {
    spec->proxy_mode = t == LUA_TNIL || truthy ? ProxyMode::env : ProxyMode::none;
  } else if (auto p = read_proxy_option(L, 3)) {
    spec->proxy_mode = ProxyMode::explicit_;
    spec->proxy = std::move(*p);
  }
  // URL: query merged, then validated (no Lua error may be raised while C++ temporaries live)
  if (!apply_query(spec->url, spec->query, spec->err_msg)) {
    spec->err_code = "EINVAL";
  } else if (!cached_target(L, spec->url, spec->target, spec->err_msg)) {
    spec->err_code = "EINVAL";
  }
  if (!spec->err_code.empty()) {
    lua_pushfstring(L, "http: %s", spec->err_msg.c_str());
    raise(L, spec->err_code, to_sv(L, -1));
  }
  return spec;
}

static int do_request(lua_State* L, const char* method, CookieJar* jar = nullptr) {
  lua_settop(L, 3);
  Spec* spec = read_spec(L, method);
  if (jar) {
    spec->jar = jar->shared_from_this();
    unpin_session(L);
  }
  std::shared_ptr<Pool>* pool = nullptr;
  get_pool(L, &pool);
  return suspend(L, "http request", spec->timeout_ms, [&](const OpPtr& op) {
    start_exchange(op, *pool, std::move(*spec));
    spec->progress_ref = spec->body_ref = spec->thread_ref = LUA_NOREF;
  });
}

// get(url[, opts]) and friends without a positional body.
static int no_body(lua_State* L, const char* method, CookieJar* jar = nullptr) {
  if (!lua_isnoneornil(L, 2) && !lua_istable(L, 2)) luaL_typeerror(L, 2, "table of options");
  if (lua_type(L, 1) == LUA_TTABLE && lua_isnoneornil(L, 2)) {  // get{url=..., ...}
    lua_settop(L, 1);
    lua_pushnil(L);
    lua_insert(L, 1);
  }
  lua_settop(L, 2);
  lua_pushnil(L);
  lua_insert(L, 2);  // url, nil, opts
  return do_request(L, method, jar);
}

// post(url, body[, opts]) / post(url, opts)
static int with_body(lua_State* L, const char* method, CookieJar* jar = nullptr) {
  lua_settop(L, 3);
  if (!lua_isnil(L, 3) && !lua_istable(L, 3)) luaL_typeerror(L, 3, "table of options");
  if (lua_istable(L, 2) && lua_isnil(L, 3)) {  // post(url, opts)
    lua_pushnil(L);
    lua_insert(L, 2);
    lua_settop(L, 3);
  }
  return do_request(L, method, jar);
}


// --- HOOZi compatibility: net.http:get/post/request/... (colon calls) -------------------------
// Fire-and-forget calls with callbacks (stdlib/lua/compat/hoozi_http.lua), told apart from
// CopperMoon's dot calls by the first argument (the module itself): stdlib/compat.hpp.
static bool colon_call(lua_State* L) { return is_colon_call(L, "net.http"); }
static int hoozi(lua_State* L, const char* name) { return call_layer(L, "compat.hoozi_http", name); }

static int http_get(lua_State* L) { return colon_call(L) ? hoozi(L, "get") : no_body(L, "GET"); }
static int http_head(lua_State* L) { return colon_call(L) ? hoozi(L, "head") : no_body(L, "HEAD"); }
static int http_delete(lua_State* L) { return colon_call(L) ? hoozi(L, "delete") : no_body(L, "DELETE"); }
static int http_options(lua_State* L) { return colon_call(L) ? hoozi(L, "options") : no_body(L, "OPTIONS"); }
static int http_post(lua_State* L) { return colon_call(L) ? hoozi(L, "post") : with_body(L, "POST"); }
static int http_put(lua_State* L) { return colon_call(L) ? hoozi(L, "put") : with_body(L, "PUT"); }
static int http_patch(lua_State* L) { return colon_call(L) ? hoozi(L, "patch") : with_body(L, "PATCH"); }

// request(opts) with opts.url and opts.method; or request(url[, opts]).
static int plain_request(lua_State* L, CookieJar* jar) {
  if (lua_istable(L, 1)) {
    lua_settop(L, 1);
    lua_pushnil(L);
    lua_insert(L, 1);
  }
  lua_settop(L, 2);
  lua_pushnil(L);
  lua_insert(L, 2);
  return do_request(L, nullptr, jar);
}

static int http_request(lua_State* L) { return colon_call(L) ? hoozi(L, "request") : plain_request(L, nullptr); }

int http_call(lua_State* L, HttpCall kind, CookieJar* jar) {
  switch (kind) {
    case HttpCall::get: return no_body(L, "GET", jar);
    case HttpCall::head: return no_body(L, "HEAD", jar);
    case HttpCall::del: return no_body(L, "DELETE", jar);
    case HttpCall::options: return no_body(L, "OPTIONS", jar);
    case HttpCall::post: return with_body(L, "POST", jar);
    case HttpCall::put: return with_body(L, "PUT", jar);
    case HttpCall::patch: return with_body(L, "PATCH", jar);
    case HttpCall::request: return plain_request(L, jar);
  }
  return 0;
}

// http.pool([{max_idle_per_origin, idle_timeout, close_idle}]) → {idle, opened, reused, ...}
static int http_pool(lua_State* L) {
  static const char* const known[] = {"max_idle_per_origin", "idle_timeout", "close_idle", nullptr};
  check_options(L, 1, "http.pool", known);
  Pool* p = get_pool(L);
  lua_Integer mi = opt_int_field(L, 1, "max_idle_per_origin", static_cast<lua_Integer>(p->max_idle_per_origin), 0, 1 << 20);
  lua_Integer it = opt_int_field(L, 1, "idle_timeout", p->idle_timeout_ms, 0);
  p->max_idle_per_origin = static_cast<size_t>(mi);
  p->idle_timeout_ms = it;
  if (opt_bool_field(L, 1, "close_idle", false)) p->clear();
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, static_cast<lua_Integer>(p->count()));
  lua_setfield(L, -2, "idle");
  lua_pushinteger(L, static_cast<lua_Integer>(p->opened));
  lua_setfield(L, -2, "opened");
  lua_pushinteger(L, static_cast<lua_Integer>(p->reused));
  lua_setfield(L, -2, "reused");
  lua_pushinteger(L, static_cast<lua_Integer>(p->max_idle_per_origin));
  lua_setfield(L, -2, "max_idle_per_origin");
  lua_pushinteger(L, p->idle_timeout_ms);
  lua_setfield(L, -2, "idle_timeout");
  return 1;
}

int open_http(lua_State* L) {
  const luaL_Reg spec_meta[] = {{"__gc", spec_gc}, {nullptr, nullptr}};
  new_class(L, kSpecType, nullptr, spec_meta);
  const luaL_Reg pool_meta[] = {{"__gc", pool_gc}, {nullptr, nullptr}};
  new_class(L, kPoolType, nullptr, pool_meta);
  new_object<PoolBox>(L, kPoolType, 0, PoolBox{std::make_shared<Pool>()});
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kPoolKey);

  const luaL_Reg funcs[] = {{"get", http_get},         {"post", http_post},       {"put", http_put},
                            {"patch", http_patch},     {"delete", http_delete},   {"head", http_head},
                            {"options", http_options}, {"request", http_request}, {"pool", http_pool},
                            {"listen", http_listen},   {nullptr, nullptr}};
  open_http_server_types(L);
  luaL_newlib(L, funcs);
  register_http_session(L);
  return 1;
}

}  // namespace mw::net
