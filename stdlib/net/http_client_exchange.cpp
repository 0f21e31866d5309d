// net.http (client): one exchange, a C++20 coroutine on the event loop (connect, proxy tunnel,
// TLS, write, read, redirects, decompression, save_to_file) that resumes the calling task with
// the response table or an error object. See http_client.hpp.
#include <cstdio>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "stdlib/compat.hpp"
#include "stdlib/net/http_client.hpp"
#include "stdlib/net/http_inflate.hpp"
#include "stdlib/net/http_session.hpp"
#include "stdlib/net/net.hpp"

namespace mw::net::httpc {

using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

// True when no proxy variable of the environment is set: proxy_from_env would return none.
// One pass over environ instead of its five getenv scans per request; the environment is read
// at every request still (os_ext.setenv may change it).
bool proxy_env_absent() {
  static const std::string_view names[] = {"http_proxy=", "https_proxy=", "all_proxy="};
  for (char** e = environ; *e; ++e) {
    const char* v = *e;
    char c = v[0];
    if (c != 'h' && c != 'H' && c != 'a' && c != 'A') continue;
    for (auto n : names)
      if (strncasecmp(v, n.data(), n.size()) == 0) return false;  // stops at v's end
  }
  return true;
}

namespace {  // this file's types

// --- the exchange ------------------------------------------------------------------------------


static Failure map_error(const error_code& ec, const char* during) {
  if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category()) {
    switch (static_cast<bhttp::error>(ec.value())) {
      case bhttp::error::end_of_stream:
        return {"EPROTO", "server closed the connection without sending a response"};
      case bhttp::error::partial_message:
        return {"EPROTO", "response truncated: the connection closed before the message was complete"};
      case bhttp::error::header_limit:
        return {"EPROTO", "response header too large (limit " + std::to_string(kHeaderLimit / 1024) + " KiB)"};
      case bhttp::error::bad_chunk:
      case bhttp::error::bad_chunk_extension:
        return {"EPROTO", "malformed chunked body in the response"};
      case bhttp::error::bad_content_length:
      case bhttp::error::multiple_content_length:
        return {"EPROTO", "malformed response: bad Content-Length"};
      default:
        return {"EPROTO", "malformed response: " + ec.message()};
    }
  }
  if (ec == ssl::error::stream_truncated)
    return {"EPROTO", "response truncated: the TLS connection closed before the message was complete"};
  return {error_code_name(ec), std::string(during) + ": " + error_text(ec)};
}

struct Response {
  int status = 0;
  std::string reason;
  std::vector<Header> headers;
  std::string body;
};

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(OpPtr op, std::shared_ptr<Pool> pool, Spec&& spec)
      : op_(std::move(op)), io_(op_->engine().io()), pool_(std::move(pool)), spec_(std::move(spec)) {}

  void start() {
    auto self = shared_from_this();
    op_->on_abandon([w = weak_from_this()] {
      if (auto x = w.lock()) x->abort();
    });
    asio::co_spawn(io_, run(self), [self](std::exception_ptr e, Failure f) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          f = {"EIO", std::string("http: internal error: ") + ex.what()};
        } catch (...) {
          f = {"EIO", "http: internal error"};
        }
      }
      self->finish(std::move(f));
    });
  }

 private:
  void abort() {
    aborted_ = true;
    if (connecting_) {
      error_code ec;
      connecting_->close(ec);
    }
    if (conn_) conn_->close();
  }

  lua_State* mainL() const { return op_->engine().L(); }

  void release_refs() {
    lua_State* L = mainL();
    if (spec_.progress_ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, spec_.progress_ref);
    if (spec_.body_ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, spec_.body_ref);
    if (spec_.thread_ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, spec_.thread_ref);
    spec_.progress_ref = spec_.body_ref = spec_.thread_ref = LUA_NOREF;
  }

  void finish(Failure f) {
    if (file_) {
      std::fclose(file_);
      file_ = nullptr;
      if (f) std::remove(spec_.save_to_file.c_str());
    }
    if (conn_) {
      conn_->close();
      conn_.reset();
    }
    release_refs();
    if (aborted_ || !op_->active()) {
      if (f.value_ref != LUA_NOREF) luaL_unref(mainL(), LUA_REGISTRYINDEX, f.value_ref);
      return;
    }
    if (f.value_ref != LUA_NOREF) {
      int ref = f.value_ref;
      return op_->fail_with([ref](lua_State* L) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
        luaL_unref(L, LUA_REGISTRYINDEX, ref);
      });
    }
    if (f) return op_->fail(f.code, "http: " + f.message);
    auto self = shared_from_this();
    op_->resume([self](lua_State* L) { self->push_response(L); });
  }

  void push_response(lua_State* L) {
    lua_createtable(L, 0, 8);
    lua_pushinteger(L, resp_.status);
    lua_setfield(L, -2, "status");
    push_sv(L, resp_.reason);
    lua_setfield(L, -2, "status_text");
    lua_pushboolean(L, resp_.status >= 200 && resp_.status < 300);
    lua_setfield(L, -2, "ok");
    push_sv(L, final_url_);
    lua_setfield(L, -2, "url");
    lua_pushinteger(L, hops_);
    lua_setfield(L, -2, "redirects");
    lua_createtable(L, 0, static_cast<int>(resp_.headers.size()));
    for (const auto& h : resp_.headers) {
      if (h.name == "set-cookie") {
        if (lua_getfield(L, -1, "set-cookie") != LUA_TTABLE) {
          lua_pop(L, 1);
          lua_newtable(L);
          lua_pushvalue(L, -1);
          lua_setfield(L, -3, "set-cookie");
        }
        push_sv(L, h.value);
        lua_rawseti(L, -2, static_cast<lua_Integer>(lua_rawlen(L, -2) + 1));
        lua_pop(L, 1);
        continue;
      }
      push_sv(L, h.name);  // the key, hashed once for the lookup and the store
      lua_pushvalue(L, -1);
      if (lua_rawget(L, -3) == LUA_TSTRING) {  // a repeated header: joined with ", "
        lua_pushliteral(L, ", ");
        push_sv(L, h.value);
        lua_concat(L, 3);
      } else {
        lua_pop(L, 1);
        push_sv(L, h.value);
      }
      lua_rawset(L, -3);
    }
    lua_setfield(L, -2, "headers");
    if (spec_.save_to_file.empty()) {
      push_sv(L, resp_.body);
      lua_setfield(L, -2, "body");
    } else {
      push_sv(L, spec_.save_to_file);
      lua_setfield(L, -2, "file");
    }
    std::string().swap(resp_.body);
  }

  // on_progress(received, total): called on a helper Lua thread; it must not yield.
  Failure progress(uint64_t received, std::optional<uint64_t> total) {
    if (spec_.progress_ref == LUA_NOREF || !op_->active()) return {};
    lua_State* T = spec_.cb_thread;
    lua_settop(T, 0);
    lua_rawgeti(T, LUA_REGISTRYINDEX, spec_.progress_ref);
    lua_pushinteger(T, static_cast<lua_Integer>(received));
    if (total)
      lua_pushinteger(T, static_cast<lua_Integer>(*total));
    else
      lua_pushnil(T);
    if (lua_pcall(T, 2, 0, 0) != LUA_OK) {
      Failure f;
      f.value_ref = luaL_ref(T, LUA_REGISTRYINDEX);
      lua_settop(T, 0);
      return f;
    }
    return {};
  }

  // The next chunk of a streamed body: 1 = chunk in out, 0 = end, -1 = failure f.
  int next_chunk(std::string& out, Failure& f) {
    lua_State* T = spec_.cb_thread;
    lua_settop(T, 0);
    lua_rawgeti(T, LUA_REGISTRYINDEX, spec_.body_ref);
    if (lua_pcall(T, 0, 1, 0) != LUA_OK) {
      f.value_ref = luaL_ref(T, LUA_REGISTRYINDEX);
      return -1;
    }
    int t = lua_type(T, -1);
    if (t == LUA_TNIL) {
      lua_settop(T, 0);
      return 0;
    }
    if (t != LUA_TSTRING && t != LUA_TNUMBER) {
      lua_settop(T, 0);
      f = {"EINVAL", "the body function must return strings, then nil at the end"};
      return -1;
    }
    out.assign(to_sv(T, -1));
    lua_settop(T, 0);
    return 1;
  }

  // Writes req's header with Transfer-Encoding: chunked, then the function's chunks.
  asio::awaitable<Failure> write_streamed(bhttp::request<bhttp::string_body>& req) {
    bhttp::request<bhttp::empty_body> hreq(std::move(req.base()));
    hreq.erase(bhttp::field::content_length);
    hreq.chunked(true);
    bhttp::request_serializer<bhttp::empty_body> sr(hreq);
    auto [ec, n] = co_await conn_->with_stream([&](auto& s) { return bhttp::async_write_header(s, sr, nothrow); });
    if (ec) co_return map_error(ec, "sending the request");
    std::string piece;
    for (;;) {
      Failure f;
      int st = next_chunk(piece, f);
      if (aborted_) co_return Failure{kCancelled, "aborted"};
      if (st < 0) co_return f;
      if (st == 0) break;
      if (piece.empty()) continue;
      auto [wec, wn] = co_await conn_->with_stream([&](auto& s) {
        return asio::async_write(s, bhttp::make_chunk(asio::const_buffer(piece.data(), piece.size())), nothrow);
      });
      if (wec) co_return map_error(wec, "sending the request body");
    }
    auto [lec, ln] = co_await conn_->with_stream([&](auto& s) { return asio::async_write(s, bhttp::make_chunk_last(), nothrow); });
    if (lec) co_return map_error(lec, "sending the request body");
    body_streamed_ = true;
    co_return Failure{};
  }

  std::optional<ProxySpec> proxy_for(const Target& t, Failure& f) {
    switch (spec_.proxy_mode) {
      case ProxyMode::none: return std::nullopt;
      case ProxyMode::explicit_: return spec_.proxy;
      case ProxyMode::env: {
        if (proxy_env_absent()) return std::nullopt;
        std::string err;
        auto p = proxy_from_env(t.scheme, t.host, err);
        if (!err.empty()) f = {"EINVAL", err};
        return p;
      }
    }
    return std::nullopt;
  }

  static std::string pool_key(const Target& t, const std::optional<ProxySpec>& proxy, const tls::Options& o) {
    if (proxy && proxy->scheme == "http" && t.scheme == "http") return "abs|" + proxy_id(*proxy);
    std::string k = t.scheme + "|" + t.host + "|" + std::to_string(t.port) + "|" + (t.scheme == "https" ? o.key() : "");
    if (proxy) k += "|" + proxy_id(*proxy) + ":" + proxy->password;
    return k;
  }

  // async_connect (callback style) awaited through a timer used as an event (async_initiate
  // with a capturing lambda trips a GCC 12 coroutine bug).
  asio::awaitable<ConnectError> connect_socket(std::shared_ptr<tcp::socket> sock, std::string host, uint16_t port,
                                               std::optional<ProxySpec> proxy) {
    auto event = std::make_shared<asio::steady_timer>(io_, asio::steady_timer::time_point::max());
    auto result = std::make_shared<ConnectError>();
    auto done = std::make_shared<bool>(false);
    async_connect(io_, sock, host, port, proxy, [event, result, done](ConnectError e) {
      *result = std::move(e);
      *done = true;
      event->cancel();
    });
    if (!*done) co_await event->async_wait(nothrow);
    co_return std::move(*result);
  }

  // Opens a connection for t (directly, through a tunnel, or to an HTTP proxy for absolute-form
  // requests), with TLS for https. Sets conn_.
  asio::awaitable<Failure> open(const Target& t, const std::optional<ProxySpec>& proxy, const std::string& key) {
    auto sock = std::make_shared<tcp::socket>(io_);
    connecting_ = sock;
    bool absolute = proxy && proxy->scheme == "http" && t.scheme == "http";
    std::shared_ptr<asio::steady_timer> timer;
    auto timed_out_flag = std::make_shared<bool>(false);
    const bool& timed_out = *timed_out_flag;
    if (spec_.connect_timeout_ms >= 0) {
      timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(spec_.connect_timeout_ms));
      timer->async_wait([this, self = shared_from_this(), timed_out_flag](const error_code& ec) {
        if (ec) return;
        *timed_out_flag = true;
        abort_connect();
      });
    }
    struct CancelTimer {
      std::shared_ptr<asio::steady_timer>& t;
      ~CancelTimer() {
        if (t) t->cancel();
      }
    } cancel_timer{timer};
    // (no co_await inside ?: — GCC 12 miscompiles temporaries there)
    ConnectError ce;
    if (absolute)
      ce = co_await connect_socket(sock, proxy->host, proxy->port, std::nullopt);
    else
      ce = co_await connect_socket(sock, t.host, t.port, proxy);
    connecting_.reset();
    auto timeout_failure = [&] {
      return Failure{kTimedOut, "connect to " + host_port_string(t.host, t.port) + " timed out after " +
                                    std::to_string(spec_.connect_timeout_ms) + " ms"};
    };
    if (timed_out) co_return timeout_failure();
    if (aborted_) co_return Failure{kCancelled, "aborted"};
    if (ce) {
      if (absolute && ce.message.rfind("proxy", 0) != 0) ce.message = "proxy " + ce.message;
      co_return Failure{ce.code, ce.message};
    }
    ++pool_->opened;
    error_code ec;
    sock->set_option(tcp::no_delay(true), ec);
    auto c = std::make_shared<HttpConn>(std::move(*sock));
    // Beast reads at most max(512, free capacity) bytes per read: an empty buffer takes a
    // 1 KiB response in three recv calls. 16 KiB reads a typical head and small body at once.
    c->buf.reserve(16 * 1024);
    c->key = key;
    c->absolute_form = absolute;
    conn_ = c;
    if (t.scheme == "https") {
      std::string err;
      tls::Options o = spec_.tls;
      o.enabled = true;
      c->ctx = tls::client_context(o, err);
      if (!c->ctx) co_return Failure{"ETLS", err};
      c->tls = std::make_unique<ssl::stream<tcp::socket>>(std::move(c->sock), *c->ctx);
      if (!tls::prepare_client(*c->tls, o, t.host, err)) co_return Failure{"ETLS", err};
      auto [hec] = co_await c->tls->async_handshake(ssl::stream_base::client, nothrow);
      if (timed_out) co_return timeout_failure();
      if (hec) {
        std::string code, msg;
        tls::describe_handshake_error(c->tls->native_handle(), hec, code, msg);
        co_return Failure{code, msg};
      }
    }
    co_return Failure{};
  }

  void abort_connect() {
    if (connecting_) {
      error_code ec;
      connecting_->close(ec);
    }
    if (conn_) conn_->close();
  }

  bhttp::request<bhttp::string_body> build_request(const Target& t, const std::string& method, const std::string& body,
                                                   bool has_body, const std::vector<Header>& headers,
                                                   const std::optional<ProxySpec>& proxy, bool absolute,
                                                   const std::string& jar_cookies) {
    bhttp::request<bhttp::string_body> req;
    auto verb = bhttp::string_to_verb(method);
    if (verb == bhttp::verb::unknown)
      req.method_string(method);
    else
      req.method(verb);
    req.target(absolute ? t.url : t.target);
    req.version(11);
    auto has = [&](std::string_view n) {
      for (const auto& h : headers)
        if (iequals(h.name, n)) return true;
      return false;
    };
    if (!has("host")) req.set(bhttp::field::host, t.host_header);
    if (!has("user-agent")) req.set(bhttp::field::user_agent, "moonwire/0.1");
    if (!has("accept")) req.set(bhttp::field::accept, "*/*");
    if (spec_.decompress && !has("accept-encoding")) req.set(bhttp::field::accept_encoding, "gzip, deflate");
    if (!t.user.empty() && !has("authorization")) req.set(bhttp::field::authorization, basic_auth(t.user, t.password));
    if (absolute && (!proxy->user.empty() || !proxy->password.empty()))
      req.set(bhttp::field::proxy_authorization, basic_auth(proxy->user, proxy->password));
    for (const auto& h : headers) req.insert(h.name, h.value);
    if (!jar_cookies.empty()) {  // one Cookie header: the request's own cookies, then the jar's
      if (auto it = req.find(bhttp::field::cookie); it != req.end())
        req.set(bhttp::field::cookie, std::string(it->value()) + "; " + jar_cookies);
      else
        req.set(bhttp::field::cookie, jar_cookies);
    }
    if (has_body) {
      req.body() = body;
      if (!has("content-length") && !has("transfer-encoding")) req.content_length(body.size());
    } else if (method == "POST" || method == "PUT" || method == "PATCH") {
      if (!has("content-length") && !has("transfer-encoding")) req.content_length(0);
    }
    if (!spec_.keepalive) req.set(bhttp::field::connection, "close");
    return req;
  }

  asio::awaitable<Failure> run(std::shared_ptr<Exchange> self) {
    Target t = std::move(spec_.target);  // parsed and validated by read_spec
    std::string err;
    std::string method = spec_.method;
    std::string body = std::move(spec_.body);
    bool has_body = spec_.has_body || spec_.body_ref != LUA_NOREF;
    std::vector<Header> headers = std::move(spec_.headers);
    // A 64 KiB buffer for bodies read in pieces (allocated when first needed: a small body of
    // known length is read straight into the response string).
    std::unique_ptr<char[]> chunk_buf;
    auto chunk = [&] {
      if (!chunk_buf) chunk_buf = std::make_unique_for_overwrite<char[]>(kChunk);
      return chunk_buf.get();
    };

    for (;;) {
      Failure pf;
      auto proxy = proxy_for(t, pf);
      if (pf) co_return pf;
      std::string key = pool_key(t, proxy, spec_.tls);
      bool absolute = proxy && proxy->scheme == "http" && t.scheme == "http";
      std::string jar_cookies;
      if (spec_.jar) jar_cookies = spec_.jar->header_for(cookie_url(t), std::time(nullptr));
      auto req = build_request(t, method, body, has_body, headers, proxy, absolute, jar_cookies);

      // Send and read the response head; a reused connection the server closed meanwhile is
      // retried once on a new one.
      std::optional<bhttp::response_parser<bhttp::buffer_body>> parser;
      bool streaming = spec_.body_ref != LUA_NOREF && !body_streamed_ && has_body;
      for (int attempt = 0;; ++attempt) {
        bool reused = false;
        conn_ = attempt == 0 && !streaming ? pool_->take(key) : nullptr;  // a stream cannot be replayed
        if (conn_) {
          reused = true;
        } else {
          Failure f = co_await open(t, proxy, key);
          if (f) co_return f;
        }
        if (streaming) {
          Failure sf = co_await write_streamed(req);
          if (sf) co_return sf;
        }
        error_code wec;
        if (!streaming) {
          auto [wec1, wn] = co_await conn_->with_stream([&](auto& s) { return bhttp::async_write(s, req, nothrow); });
          wec = wec1;
        }
        if (aborted_) co_return Failure{kCancelled, "aborted"};
        bool retry = false;
        if (wec) {
          if (reused && attempt == 0) {
            retry = true;
          } else {
            co_return map_error(wec, "sending the request");
          }
        }
        if (!retry) {
          for (;;) {
            parser.emplace();
            parser->header_limit(kHeaderLimit);
            parser->body_limit(boost::none);
            if (method == "HEAD") parser->skip(true);
            auto [rec, rn] = co_await conn_->with_stream(
                [&](auto& s) { return bhttp::async_read_header(s, conn_->buf, *parser, nothrow); });
            if (aborted_) co_return Failure{kCancelled, "aborted"};
            if (rec) {
              bool nothing = rec == bhttp::error::end_of_stream || rec == asio::error::connection_reset ||
                             rec == asio::error::eof || rec == ssl::error::stream_truncated;
              if (reused && attempt == 0 && nothing && conn_->buf.size() == 0) {
                retry = true;
                break;
              }
              co_return map_error(rec, "reading the response");
            }
            int st = parser->get().result_int();
            if (st >= 100 && st < 200 && st != 101) continue;  // interim response
            break;
          }
        }
        if (!retry) break;
        conn_->close();
        conn_.reset();
      }

      auto& msg = parser->get();
      int status = msg.result_int();
      if (spec_.jar) {  // every hop's Set-Cookie, redirects included (RFC 6265 3: each response)
        CookieUrl from = cookie_url(t);
        int64_t now = std::time(nullptr);
        for (const auto& f : msg)
          if (f.name() == bhttp::field::set_cookie) spec_.jar->set_from_header(from, f.value(), now);
      }
      std::string location;
      if (auto it = msg.find(bhttp::field::location); it != msg.end()) location = std::string(it->value());
      bool is_redirect = (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) &&
                         !location.empty() && spec_.redirects > 0;
      // A streamed body was consumed: a redirect that must resend it (307/308, or 301/302 for a
      // method other than POST) is returned as the response instead.
      if (is_redirect && body_streamed_ && has_body && status != 303 && !((status == 301 || status == 302) && method == "POST"))
        is_redirect = false;
      if (is_redirect && hops_ >= spec_.redirects)
        co_return Failure{"ETOOMANYREDIRECTS", "too many redirects (more than " + std::to_string(spec_.redirects) +
                                                   ") starting at " + spec_.url};

      if (is_redirect) {
        // Drain a small body to keep the connection; close it otherwise.
        size_t drained = 0;
        bool reusable = true;
        while (!parser->is_done()) {
          msg.body().data = chunk();
          msg.body().size = kChunk;
          auto [ec, n] = co_await conn_->with_stream([&](auto& s) { return bhttp::async_read(s, conn_->buf, *parser, nothrow); });
          if (aborted_) co_return Failure{kCancelled, "aborted"};
          drained += kChunk - msg.body().size;
          if (ec == bhttp::error::need_buffer) ec = {};
          if (ec || drained > kDrainLimit) {
            reusable = false;
            break;
          }
        }
        release_conn(reusable && parser->keep_alive());
        // Resolve the Location against the current URL.
        auto base = urls::parse_uri(t.url);
        auto ref = urls::parse_uri_reference(location);
        if (!base || !ref) co_return Failure{"EPROTO", "redirect with an invalid Location: " + location};
        urls::url next;
        auto rr = urls::resolve(*base, *ref, next);
        if (!rr) co_return Failure{"EPROTO", "redirect with an invalid Location: " + location};
        Target nt;
        if (!parse_target(next.buffer(), nt, err)) co_return Failure{"EPROTO", "redirect to " + err};
        if (status == 303 && method != "HEAD") {
          method = "GET";
        } else if ((status == 301 || status == 302) && method == "POST") {
          method = "GET";
        }
        if (method == "GET" && (status == 301 || status == 302 || status == 303)) {
          has_body = false;
          body.clear();
          std::erase_if(headers, [](const Header& h) {
            return iequals(h.name, "content-type") || iequals(h.name, "content-length") ||
                   iequals(h.name, "transfer-encoding");
          });
        }
        if (nt.scheme != t.scheme || nt.host != t.host || nt.port != t.port) {
          std::erase_if(headers, [](const Header& h) {
            return iequals(h.name, "authorization") || iequals(h.name, "cookie") || iequals(h.name, "host");
          });
        }
        t = std::move(nt);
        ++hops_;
        continue;
      }

      // The final response.
      final_url_ = t.url;
      resp_.status = status;
      resp_.reason = std::string(msg.reason());
      std::string encoding;
      resp_.headers.reserve(16);
      for (const auto& f : msg) {
        std::string name = lower(f.name_string());
        if (name == "content-encoding") encoding = lower(f.value());
        resp_.headers.push_back({std::move(name), std::string(f.value())});
      }
      while (!encoding.empty() && (encoding.back() == ' ' || encoding.back() == '\t')) encoding.pop_back();
      bool inflate = spec_.decompress && method != "HEAD" && (encoding == "gzip" || encoding == "x-gzip" || encoding == "deflate");
      if (inflate) inflater_.start(encoding == "deflate" ? Inflater::Kind::deflate : Inflater::Kind::gzip);
      if (!spec_.save_to_file.empty()) {
        file_ = std::fopen(spec_.save_to_file.c_str(), "wb");
        if (!file_) {
          int e = errno;
          co_return Failure{strerrorname_np(e) ? strerrorname_np(e) : "EIO",
                            "cannot open '" + spec_.save_to_file + "' for writing: " + std::strerror(e)};
        }
      } else if (auto len = parser->content_length(); len && *len <= 64 * 1024 * 1024 && !inflate) {
        resp_.body.reserve(*len);
      }
      // Up to 1 MiB of known length, not inflated: read straight into the response string.
      uint64_t direct_len = 0;
      bool direct = false;
      if (!file_ && !inflate && method != "HEAD")
        if (auto len = parser->content_length(); len && *len <= 1024 * 1024) {
          direct = true;
          direct_len = *len;
          resp_.body.resize(direct_len);
        }
      std::optional<uint64_t> total;
      if (auto cl = parser->content_length()) total = *cl;
      uint64_t received = 0;
      std::string sink_error;
      bool sink_failed = false;
      auto write_out = [&](const char* p, size_t n) {
        if (file_) {
          if (std::fwrite(p, 1, n, file_) != n) {
            sink_error = "writing '" + spec_.save_to_file + "': " + std::strerror(errno);
            sink_failed = true;
            return false;
          }
          return true;
        }
        resp_.body.append(p, n);
        return true;
      };
      while (!parser->is_done()) {
        if (direct && received >= direct_len) {  // (not for a well-formed response) pieces again
          direct = false;
          resp_.body.resize(received);
        }
        char* dst = direct ? resp_.body.data() + received : chunk();
        size_t room = direct ? static_cast<size_t>(direct_len - received) : kChunk;
        msg.body().data = dst;
        msg.body().size = room;
        auto [ec, n] = co_await conn_->with_stream([&](auto& s) { return bhttp::async_read(s, conn_->buf, *parser, nothrow); });
        if (aborted_) co_return Failure{kCancelled, "aborted"};
        if (ec == bhttp::error::need_buffer) ec = {};
        size_t got = room - msg.body().size;
        if (got && direct) {
          received += got;
          if (auto f = progress(received, total)) co_return f;
        } else if (got) {
          received += got;
          std::string ierr;
          bool ok = inflate ? inflater_.feed(dst, got, write_out, ierr) : write_out(dst, got);
          if (!ok) {
            if (sink_failed) co_return Failure{"EIO", sink_error};
            co_return Failure{"EPROTO", "response body: " + ierr};
          }
          if (auto f = progress(received, total)) co_return f;
        }
        if (ec) {
          if (ec == ssl::error::stream_truncated && parser->need_eof()) {
            error_code ec2;
            parser->put_eof(ec2);
            if (!ec2) break;
          }
          co_return map_error(ec, "reading the response body");
        }
      }
      if (direct) resp_.body.resize(received);  // (a 204/304 with a Content-Length has no body)
      if (inflate) {
        std::string ierr;
        if (!inflater_.finish(ierr)) co_return Failure{"EPROTO", "response body: " + ierr};
      }
      if (received == 0 && spec_.progress_ref != LUA_NOREF)
        if (auto f = progress(0, total)) co_return f;
      if (file_) {
        bool bad = std::fflush(file_) != 0;
        if (bad) co_return Failure{"EIO", "writing '" + spec_.save_to_file + "': " + std::strerror(errno)};
      }
      release_conn(parser->keep_alive());
      co_return Failure{};
    }
  }

  static CookieUrl cookie_url(const Target& t) {
    std::string_view path = t.target;
    path = path.substr(0, path.find('?'));
    return CookieUrl{t.scheme, t.host, std::string(path)};
  }

  void release_conn(bool reusable) {
    if (!conn_) return;
    if (reusable && spec_.keepalive && !aborted_ && conn_->buf.size() == 0)
      pool_->put(std::move(conn_));
    else
      conn_->close();
    conn_.reset();
  }

  OpPtr op_;
  asio::io_context& io_;
  std::shared_ptr<Pool> pool_;
  Spec spec_;
  std::shared_ptr<HttpConn> conn_;
  std::shared_ptr<tcp::socket> connecting_;
  bool aborted_ = false;
  bool body_streamed_ = false;
  int hops_ = 0;
  std::string final_url_;
  Response resp_;
  Inflater inflater_;
  FILE* file_ = nullptr;
};

}  // namespace

void start_exchange(OpPtr op, std::shared_ptr<Pool> pool, Spec&& spec) {
  std::make_shared<Exchange>(std::move(op), std::move(pool), std::move(spec))->start();
}

}  // namespace mw::net::httpc
