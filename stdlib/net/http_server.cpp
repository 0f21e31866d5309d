// net.http.listen: the Lua side of the HTTP server. Each request runs its handler in a new task
// (run_request, a C function whose continuation turns the handler's result into the response);
// req, writer and server objects are thin handles on the C++ connection and server.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <openssl/err.h>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/net/http_server.hpp"
#include "stdlib/net/net.hpp"
#include "stdlib/net/tls.hpp"
#include "stdlib/net/ws/upgrade.hpp"
#include "stdlib/buffer.hpp"

namespace mw::net {
namespace {

using namespace httpd;

constexpr const char* kServerType = "moonwire.http.server";
constexpr const char* kReqType = "moonwire.http.request";
constexpr const char* kWriterType = "moonwire.http.writer";
constexpr const char* kHandoffType = "moonwire.http.handoff";
constexpr size_t kDefaultReadSize = 64 * 1024;
constexpr double kDefaultCloseTimeoutS = 10;

struct ServerBox {
  std::shared_ptr<Server> server;
};
// What req:upgrade hands to the WebSocket side, kept here rather than in the upgrade call's
// frame (a suspension longjmps past that frame's destructors).
struct Handoff {
  std::optional<Socket> plain;
  std::unique_ptr<TlsStream> tls;
  std::shared_ptr<ssl::context> tls_context;
  ws::Request request;
  std::shared_ptr<const ws::UpgradeOptions> options;
};
// No finalizer (see ConnTable): plain data.
struct ReqBox {
  ConnTable* table;
  ConnTable::Handle conn;
  uint64_t seq;
};
struct WriterBox {
  std::shared_ptr<Conn> conn;
  uint64_t seq;
};

// Error texts handed from connection calls to raise(): static, so that nothing with a
// destructor lives in a frame that may longjmp.
std::string g_code, g_msg;

Server* check_server(lua_State* L) { return static_cast<ServerBox*>(check_udata(L, 1, kServerType))->server.get(); }
ReqBox* check_req(lua_State* L) { return static_cast<ReqBox*>(check_udata(L, 1, kReqType)); }

// The request's connection while it exists (nullptr once it is gone).
Conn* conn_of(const ReqBox* r) { return r->table->get(r->conn); }
// The connection of a request that is still that connection's current one, else nullptr.
Conn* current_conn(const ReqBox* r) {
  Conn* c = conn_of(r);
  return c && c->current(r->seq) ? c : nullptr;
}

// The connection of a request that is still the connection's current one, else raises.
Conn* live_conn(lua_State* L, ReqBox* r) {
  Conn* c = current_conn(r);
  if (!c) raise(L, kClosed, "request is finished (its connection moved on or closed)");
  return c;
}

// --- TLS (a fresh context, so that reload_tls re-reads the files) ----------------------------

std::shared_ptr<ssl::context> make_tls_context(const std::string& cert, const std::string& key, std::string& error) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* c = ctx->native_handle();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  auto fail = [&](const char* what, const std::string& file) {
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    error = std::string("tls: cannot load ") + what + " '" + file + "'";
    if (e) {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      error += ": ";
      error += buf;
    }
    return nullptr;
  };
  if (SSL_CTX_use_certificate_chain_file(c, cert.c_str()) != 1) return fail("cert_file", cert);
  if (SSL_CTX_use_PrivateKey_file(c, key.c_str(), SSL_FILETYPE_PEM) != 1) return fail("key_file", key);
  if (SSL_CTX_check_private_key(c) != 1) return fail("key_file (does not match cert_file)", key);
  return ctx;
}

// Loads the files into the listener's context (new handshakes use them; established connections
// keep theirs), after checking them in a fresh context so that bad files change nothing.
// Records the files' names and signatures (the automatic reload compares them).
bool reload_tls_context(Server& s, const char* cert, const char* key, std::string& error) {
  if (!make_tls_context(cert, key, error)) return false;
  SSL_CTX* c = s.tls->native_handle();
  if (SSL_CTX_use_certificate_chain_file(c, cert) != 1 || SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1) {
    ERR_clear_error();
    error = "tls: cannot load the new certificate";
    return false;
  }
  s.cert_file = cert;
  s.key_file = key;
  return true;
}

// tls = {cert_file, key_file}: checks the table at idx (raises on anything else).
void check_tls_files(lua_State* L, int idx) {
  static const char* const known[] = {"cert_file", "key_file", nullptr};
  if (!lua_istable(L, idx)) {
    lua_pushvalue(L, idx);
    option_error(L, "tls", "a table {cert_file, key_file}");
  }
  check_options(L, idx, "net.http.listen tls", known);
  if (get_field(L, idx, "cert_file") != LUA_TSTRING) option_error(L, "tls.cert_file", "a file name");
  if (get_field(L, idx, "key_file") != LUA_TSTRING) option_error(L, "tls.key_file", "a file name");
  lua_pop(L, 2);
}

// --- running the handler ---------------------------------------------------------------------

// Message handler: the traceback goes to stderr (never to the client). A body over max_body
// and a cancellation (shutdown) are not bugs: no traceback for them.
int handler_msgh(lua_State* L) {
  std::string_view code = error_code_of(L, 1);
  if (code != "EMSGSIZE" && code != kCancelled && code != kClosed && code != "EHANDSHAKE") {
    push_error_text(L, 1);
    luaL_traceback(L, L, lua_tostring(L, -1), 1);
    std::fprintf(stderr, "net.http.listen: handler error: %s\n", lua_tostring(L, -1));
    std::fflush(stderr);
  }
  lua_settop(L, 1);
  return 1;
}

const char* content_type_for(std::string_view body) {
  size_t i = 0;
  while (i < body.size() && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t')) ++i;
  if (i < body.size() && body[i] == '<') return "text/html; charset=utf-8";
  if (i < body.size() && (body[i] == '{' || body[i] == '[')) return "application/json";
  return "text/plain; charset=utf-8";
}

const char* content_type_for_file(std::string_view path) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"}, {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},   {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"}, {".svg", "image/svg+xml"},
      {".png", "image/png"},                 {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},               {".gif", "image/gif"},
      {".webp", "image/webp"},               {".ico", "image/x-icon"},
      {".wasm", "application/wasm"},         {".pdf", "application/pdf"},
      {".xml", "application/xml"},           {".woff2", "font/woff2"},
  };
  size_t dot = path.rfind('.');
  size_t slash = path.rfind('/');
  if (dot != std::string_view::npos && (slash == std::string_view::npos || dot > slash)) {
    std::string ext(path.substr(dot));
    for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    for (auto& [e, t] : kTypes)
      if (ext == e) return t;
  }
  return "application/octet-stream";
}

// Adds the headers table at idx to the head being built; raises on bad names or values.
void add_headers(lua_State* L, int idx, Conn* c) {
  if (lua_isnoneornil(L, idx)) return;
  if (!lua_istable(L, idx)) raise(L, "EINVAL", "headers must be a table");
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING) raise(L, "EINVAL", "header names must be strings");
    std::string_view name = to_sv(L, -2);
    if (!valid_header_name(name)) raisef(L, "EINVAL", "invalid response header name '%s'", lua_tostring(L, -2));
    auto add_one = [&](int vidx) {
      int t = lua_type(L, vidx);
      if (t != LUA_TSTRING && t != LUA_TNUMBER)
        raisef(L, "EINVAL", "header '%s' must be a string, a number or a list of them", lua_tostring(L, -2));
      size_t n;
      const char* v = lua_tolstring(L, vidx, &n);
      if (!valid_header_value({v, n}))
        raisef(L, "EINVAL", "header '%s' contains CR, LF or NUL (response splitting)", std::string(name).c_str());
      c->add_header(name, {v, n});
    };
    if (lua_istable(L, -1)) {
      lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, -1));
      for (lua_Integer i = 1; i <= n; ++i) {
        lua_rawgeti(L, -1, i);
        add_one(lua_gettop(L));
        lua_pop(L, 1);
      }
    } else {
      add_one(lua_gettop(L));
    }
    lua_pop(L, 1);
  }
}

// A returned string: 200, its content type sniffed.
void send_string(Conn* c, std::string_view body) {
  c->begin_head(200);
  c->add_header("Content-Type", content_type_for(body));
  c->send_body(body);
}

// build_response(req, value): the handler's return value as the response (run protected).
int build_response(lua_State* L) {
  Conn* c = current_conn(check_req(L));
  if (!c) return 0;
  int t = lua_type(L, 2);
  if (t == LUA_TSTRING) {
    send_string(c, to_sv(L, 2));
    return 0;
  }
  if (t == LUA_TNIL) raise(L, "EINVAL", "the handler returned no response (return a string or a table, or use req:respond)");
  if (t != LUA_TTABLE) raisef(L, "EINVAL", "the handler returned a %s (expected a string or a table)", luaL_typename(L, 2));
  static const char* const known[] = {"status", "headers", "body", "file", "offset", "length", nullptr};
  check_options(L, 2, "response", known);
  int status = static_cast<int>(opt_int_field(L, 2, "status", 200, 200, 599));
  int bt = get_field(L, 2, "body");    // 3
  int ft = get_field(L, 2, "file");    // 4
  get_field(L, 2, "headers");          // 5
  if (bt != LUA_TNIL && bt != LUA_TSTRING) option_error(L, "body", "a string");
  if (ft != LUA_TNIL && ft != LUA_TSTRING) option_error(L, "file", "a file name");
  if (bt != LUA_TNIL && ft != LUA_TNIL) raise(L, "EINVAL", "a response has either a body or a file, not both");
  lua_Integer offset = opt_int_field(L, 2, "offset", 0, 0);
  lua_Integer length = opt_int_field(L, 2, "length", -1, 0);
  c->begin_head(status);
  add_headers(L, 5, c);
  if (ft == LUA_TNIL) {
    std::string_view body = bt == LUA_TSTRING ? to_sv(L, 3) : std::string_view{};
    if (!c->has_content_type() && !body.empty()) c->add_header("Content-Type", content_type_for(body));
    c->send_body(body);
    return 0;
  }
  const char* path = lua_tostring(L, 4);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd >= 0 && (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
    ::close(fd);
    fd = -1;
    errno = EISDIR;
  }
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) {  // documented: a missing file is a 404
      c->begin_head(404);
      c->add_header("Content-Type", "text/plain; charset=utf-8");
      c->send_body("Not Found");
      return 0;
    }
    raisef(L, "EINVAL", "cannot send file '%s': %s", path, std::strerror(err));
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (static_cast<uint64_t>(offset) > size ||
      (length >= 0 && static_cast<uint64_t>(offset) + static_cast<uint64_t>(length) > size)) {
    ::close(fd);
    raisef(L, "EINVAL", "file '%s' has %I bytes: offset/length out of range", path, static_cast<lua_Integer>(size));
  }
  uint64_t len = length >= 0 ? static_cast<uint64_t>(length) : size - static_cast<uint64_t>(offset);
  if (!c->has_content_type()) c->add_header("Content-Type", content_type_for_file(path));
  c->send_file(fd, static_cast<uint64_t>(offset), len);
  return 0;
}

// After the handler: stack is [req, msgh, result or error].
int after_handler(lua_State* L, int status, lua_KContext) {
  ReqBox* r = check_req(L);
  Conn* c = current_conn(r);
  if (!c) return 0;  // closed, upgraded, or already answered and moved on
  if (status != LUA_OK && status != LUA_YIELD) {
    std::string_view code = error_code_of(L, 3);
    if ((code == kCancelled || code == kClosed) && Engine::of(L).shutting_down())
      c->send_error(503, true);  // SIGINT/SIGTERM stopped the handler: say so, then close
    else if (code == kCancelled || code == kClosed)
      c->close();
    else if (code == "EMSGSIZE" && c->resp_state() == Conn::Resp::none)
      c->send_error(413, true);
    else if (code == kTimedOut && c->request_timed_out() && c->resp_state() == Conn::Resp::none)
      c->send_error(408, true);
    else
      c->send_error(500, false);
    return 0;
  }
  switch (c->resp_state()) {
    case Conn::Resp::streaming:
      c->handler_done();
      return 0;
    case Conn::Resp::done:
      return 0;
    case Conn::Resp::none:
      break;
  }
  if (lua_type(L, 3) == LUA_TSTRING) {  // the common case cannot raise: no protected call
    send_string(c, to_sv(L, 3));
    return 0;
  }
  lua_pushcfunction(L, build_response);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 3);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    push_error_text(L, -1);
    std::fprintf(stderr, "net.http.listen: bad response from the handler for %.*s %.*s: %s\n",
                 static_cast<int>(c->head().method().size()), c->head().method().data(),
                 static_cast<int>(c->head().target().size()), c->head().target().data(), lua_tostring(L, -1));
    std::fflush(stderr);
    if (c->current(r->seq)) c->send_error(500, false);
  }
  return 0;
}

// The task body: run_request(req), the handler in upvalue 1.
int run_request(lua_State* L) {
  lua_settop(L, 1);
  lua_pushcfunction(L, handler_msgh);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  int st = lua_pcallk(L, 1, 1, 2, 0, after_handler);
  return after_handler(L, st, 0);
}

}  // namespace

// --- Server hooks implemented here ---------------------------------------------------------

namespace httpd {

void Server::dispatch(Conn& c) {
  Task* t = run_cb.run([&](lua_State* L) {
    if (req_mt_ref == LUA_NOREF) req_mt_ref = class_ref(L, kReqType);
    new_object_ref<ReqBox>(L, req_mt_ref, 1, ReqBox{&c.table(), c.handle(), c.seq()});
    return 1;
  });
  if (t && !t->finished()) {  // it waits: a SIGINT/SIGTERM lets it finish (drain_timeout)
    t->drain = true;
    c.set_handler(t->thread, t->id);
  }
}

void Server::log_line(std::string line) {
  if (log_stdout) {
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
    return;
  }
  log_cb.run([&](lua_State* L) {
    push_sv(L, line);
    return 1;
  });
}

static Server::FileSig file_sig(const std::string& path) {
  struct stat st;
  Server::FileSig sig;
  if (::stat(path.c_str(), &st) != 0) return sig;
  sig.mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
  sig.size = static_cast<long long>(st.st_size);
  sig.ino = static_cast<long long>(st.st_ino);
  return sig;
}

void Server::check_tls_files() {
  if (!tls || cert_file.empty() || closing) return;
  auto now = Clock::now();
  if (now - tls_checked < std::chrono::seconds(1)) return;
  tls_checked = now;
  FileSig c = file_sig(cert_file), k = file_sig(key_file);
  if (c == cert_sig && k == key_sig) return;
  cert_sig = c;  // (a failed load is retried when a file changes again: a key written after its cert)
  key_sig = k;
  std::string error;
  if (!reload_tls_context(*this, cert_file.c_str(), key_file.c_str(), error)) {
    std::fprintf(stderr, "net.http.listen: changed certificate files not loaded (the old ones stay): %s\n", error.c_str());
    std::fflush(stderr);
  }
}

void Server::released() {
  if (engine.closing()) return;
  lua_State* L = engine.L();
  run_cb.release();
  log_cb.release();
  luaL_unref(L, LUA_REGISTRYINDEX, self_ref);
  self_ref = LUA_NOREF;
  luaL_unref(L, LUA_REGISTRYINDEX, req_mt_ref);
  req_mt_ref = LUA_NOREF;
}

}  // namespace httpd

namespace {

// --- req -------------------------------------------------------------------------------------

// The path part of a request target ("/a/b" of "/a/b?x", of "http://host/a/b?x").
std::string_view target_path(std::string_view target) {
  if (!target.empty() && target[0] != '/' && target != "*") {
    size_t scheme = target.find("://");
    if (scheme != std::string_view::npos) {
      size_t slash = target.find('/', scheme + 3);
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
  }
  return target.substr(0, target.find('?'));
}

std::string_view target_query(std::string_view target) {
  size_t q = target.find('?');
  return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

int req_index(lua_State* L) {
  ReqBox* r = check_req(L);
  lua_settop(L, 2);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;  // a method
  lua_pop(L, 1);
  if (lua_type(L, 2) != LUA_TSTRING) return 0;
  // Computed fields are cached in the object's user value (one table, made on first use).
  if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, 1, 1);
  }
  lua_pushvalue(L, 2);
  if (lua_rawget(L, 3) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  std::string_view key = to_sv(L, 2);
  Conn* c = conn_of(r);
  if (!c) raise(L, kClosed, "request is finished (its connection is closed): read its fields while handling it");
  bool cur = c->current(r->seq);
  const RequestHead& h = c->head();
  if (key == "secure") {
    lua_pushboolean(L, c->secure());
  } else if (key == "peer_addr") {
    push_sv(L, c->peer());
  } else if (key == "method" || key == "target" || key == "path" || key == "raw_query" || key == "query" ||
             key == "headers" || key == "version") {
    if (!cur) raise(L, kClosed, "request is finished: read its fields while handling it");
    if (key == "method")
      push_sv(L, h.method());
    else if (key == "target")
      push_sv(L, h.target());
    else if (key == "path")
      push_sv(L, percent_decode(target_path(h.target()), false));
    else if (key == "raw_query")
      push_sv(L, target_query(h.target()));
    else if (key == "query")
      push_query(L, target_query(h.target()));
    else if (key == "headers")
      push_headers(L, h);
    else
      lua_pushstring(L, h.version >= 11 ? "1.1" : "1.0");
  } else {
    return 0;
  }
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, 3);
  return 1;
}

int do_body_read(lua_State* L, Conn::BodyMode mode, size_t n, const char* what) {
  ReqBox* r = check_req(L);
  Conn* c = live_conn(L, r);
  if (c->body_reader_busy()) raisef(L, kBusy, "%s: another task is already reading this request's body", what);
  lua_settop(L, 1);
  int st = c->body_check(mode, n, g_code, g_msg);
  if (st < 0) raise(L, g_code, g_msg);
  if (st == 1) {
    c->body_produce(L, mode, n);
    return complete_now(L, 1);
  }
  return suspend(L, what, kForever, [&](const OpPtr& op) { c->body_wait(op, mode, n); });
}

int req_body(lua_State* L) { return do_body_read(L, Conn::BodyMode::all, 0, "body"); }

int req_read(lua_State* L) {
  lua_Integer n = luaL_optinteger(L, 2, static_cast<lua_Integer>(kDefaultReadSize));
  check_value(L, n > 0, 2, "size must be positive");
  return do_body_read(L, Conn::BodyMode::some, static_cast<size_t>(n), "read");
}

int req_chunks_next(lua_State* L) {
  lua_settop(L, 1);
  return do_body_read(L, Conn::BodyMode::some, kDefaultReadSize, "chunks");
}

int req_chunks(lua_State* L) {
  check_req(L);
  lua_pushcfunction(L, req_chunks_next);
  lua_pushvalue(L, 1);
  return 2;
}

int req_respond(lua_State* L) {
  ReqBox* r = check_req(L);
  Conn* c = live_conn(L, r);
  lua_Integer status = luaL_checkinteger(L, 2);
  check_value(L, status >= 200 && status <= 599, 2, "status must be 200..599");
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 3);
  if (c->resp_state() != Conn::Resp::none) raise(L, "EINVAL", "respond: this request already has a response");
  c->begin_head(static_cast<int>(status));
  add_headers(L, 3, c);
  c->start_stream();
  new_object<WriterBox>(L, kWriterType, 0, WriterBox{c->shared_from_this(), r->seq});
  return 1;
}

// req:upgrade([opts]) -> a net.ws connection (the same options as net.ws.listen).
int req_upgrade(lua_State* L) {
  ReqBox* r = check_req(L);
  Conn* c = live_conn(L, r);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  if (c->resp_state() != Conn::Resp::none) raise(L, "EINVAL", "upgrade: this request already has a response");
  if (c->body_reader_busy()) raise(L, kBusy, "upgrade: another task is reading this request's body");
  // On the stack (argument 3) until the call returns, its __gc releases it.
  Handoff& h = *new_object<Handoff>(L, kHandoffType, 0);
  h.options = ws::read_upgrade_options(L, 2, "req:upgrade", c->secure());
  const RequestHead& head = c->head();
  h.request.method_string(head.method());
  h.request.target(head.target());
  h.request.version(head.version);
  for (size_t i = 0; i < head.headers.size(); ++i) h.request.insert(head.name(i), head.value(i));
  h.tls_context = c->tls_context();
  if (c->secure())
    h.tls = c->take_tls();
  else
    h.plain.emplace(c->take_socket());
  if (h.tls) return ws::upgrade(L, std::move(*h.tls), h.tls_context, h.request, h.options);
  return ws::upgrade(L, std::move(*h.plain), h.request, h.options);
}

int req_tostring(lua_State* L) {
  if (Conn* c = current_conn(check_req(L))) {
    auto m = c->head().method(), t = c->head().target();
    lua_pushfstring(L, "http.request (%s %s)", std::string(m).c_str(), std::string(t).c_str());
  } else {
    lua_pushliteral(L, "http.request (finished)");
  }
  return 1;
}

int handoff_gc(lua_State* L) { return gc_object<Handoff>(L, kHandoffType); }

// --- writer (req:respond) --------------------------------------------------------------------

Conn* live_writer(lua_State* L, const char* what) {
  auto* w = static_cast<WriterBox*>(check_udata(L, 1, kWriterType));
  Conn* c = w->conn.get();
  if (c->seq() != w->seq || c->resp_state() != Conn::Resp::streaming || c->closed())
    raisef(L, kClosed, "%s: the response is finished or its connection closed", what);
  return c;
}

int writer_write(lua_State* L) {
  Conn* c = live_writer(L, "write");
  std::string_view chunk = check_data(L, 2);  // a buffer: copied into a string first
  lua_settop(L, 2);
  return suspend(L, "write", kForever, [&](const OpPtr& op) {
    int st = c->stream_write(chunk, &op, g_code, g_msg);
    if (st < 0) return op->fail(g_code, g_msg);
    if (st == 1) op->resume([](lua_State* L) { lua_pushboolean(L, 1); });
  });
}

int writer_close(lua_State* L) {
  auto* w = static_cast<WriterBox*>(check_udata(L, 1, kWriterType));
  Conn* c = w->conn.get();
  if (c->seq() != w->seq || c->resp_state() != Conn::Resp::streaming) {  // closing twice is fine
    lua_pushboolean(L, 1);
    return 1;
  }
  if (c->stream_finish(g_code, g_msg) < 0) raise(L, g_code, g_msg);
  lua_pushboolean(L, 1);
  return 1;
}

int writer_gc(lua_State* L) { return gc_object<WriterBox>(L, kWriterType); }

// --- server ----------------------------------------------------------------------------------

int server_close(lua_State* L) {
  Server* s = check_server(L);
  double secs = kDefaultCloseTimeoutS;
  if (!lua_isnoneornil(L, 2)) {
    secs = luaL_checknumber(L, 2);
    check_value(L, secs >= 0 && secs == secs, 2, "timeout must be a number of seconds >= 0");
  }
  int64_t ms = secs >= 1e12 ? -1 : static_cast<int64_t>(secs * 1000 + 0.999);
  s->close(ms);
  return 0;
}

int server_wait(lua_State* L) {
  Server* s = check_server(L);
  int64_t timeout = opt_timeout(L, 2, 1000, kForever);
  lua_settop(L, 1);
  if (s->closed) return 0;
  return suspend(L, "wait", timeout, [&](const OpPtr& op) { s->waiters.push_back(op); });
}

int server_connections(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(check_server(L)->conns.size()));
  return 1;
}

int server_local_addr(lua_State* L) {
  push_sv(L, endpoint_string(check_server(L)->listener->local()));
  return 1;
}

bool reload_context(Server* s, const char* cert, const char* key) {
  std::string error;
  if (reload_tls_context(*s, cert, key, error)) return true;
  g_msg = error;
  return false;
}

int server_reload_tls(lua_State* L) {
  Server* s = check_server(L);
  if (!s->tls) raise(L, "EINVAL", "reload_tls: this server does not use TLS");
  if (s->closing) raise(L, kClosed, "reload_tls: server is closed");
  lua_settop(L, 2);
  // The file names are kept in the server object's user value.
  lua_getiuservalue(L, 1, 1);  // 3: {cert_file, key_file}
  if (!lua_isnil(L, 2)) {
    check_tls_files(L, 2);
    lua_pushvalue(L, 2);
    lua_replace(L, 3);
  }
  lua_getfield(L, 3, "cert_file");
  lua_getfield(L, 3, "key_file");
  if (!reload_context(s, lua_tostring(L, -2), lua_tostring(L, -1))) raise(L, "ETLS", g_msg);
  if (!lua_isnil(L, 2)) {
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, 1, 1);
  }
  lua_pushboolean(L, 1);
  return 1;
}

int server_index(lua_State* L) {
  Server* s = check_server(L);
  std::string_view key = to_sv(L, 2);
  if (key == "port") {
    lua_pushinteger(L, s->listener->local().port());
    return 1;
  }
  if (key == "host") {
    lua_pushstring(L, s->listener->local().address().to_string().c_str());
    return 1;
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

int server_tostring(lua_State* L) {
  Server* s = check_server(L);
  lua_pushfstring(L, "http.server (%s%s)", endpoint_string(s->listener->local()).c_str(), s->closing ? ", closed" : "");
  return 1;
}

int server_gc(lua_State* L) { return gc_object<ServerBox>(L, kServerType); }

}  // namespace

namespace {
struct ListenNums {
  int backlog;
  bool reuseport, ipv6_only;
  int64_t handshake_timeout_ms;
  size_t max_connections;
};

// The listener's options (listener.hpp) as plain numbers.
ListenNums read_listen_nums(lua_State* L, int opts) {
  ListenConfig c;
  read_listen_options(L, opts, c);
  return {c.backlog, c.reuseport, c.ipv6_only, c.handshake_timeout_ms,
          static_cast<size_t>(opt_int_field(L, opts, "max_connections", 0, 0))};
}
}  // namespace

// net.http.listen([host,] port, handler[, opts])
int http_listen(lua_State* L) {
  if (lua_type(L, 1) == LUA_TNUMBER) {
    lua_pushliteral(L, "127.0.0.1");
    lua_insert(L, 1);
  }
  lua_settop(L, 4);
  if (lua_isnil(L, 1)) {
    lua_pushliteral(L, "127.0.0.1");
    lua_replace(L, 1);
  }
  luaL_checkstring(L, 1);
  uint16_t port = check_port(L, 2);
  luaL_checktype(L, 3, LUA_TFUNCTION);
  static const char* const known[] = {"tls",          "max_body",       "max_header_size", "max_headers",
                                      "header_timeout", "idle_timeout", "request_timeout", "write_timeout",
                                      "drain_timeout", "max_connections", "access_log",   MW_LISTEN_OPTION_KEYS, nullptr};
  check_options(L, 4, "net.http.listen", known);
  Limits lim;
  lim.max_body = static_cast<size_t>(opt_int_field(L, 4, "max_body", static_cast<lua_Integer>(lim.max_body), 0));
  lim.max_header_size = static_cast<size_t>(
      opt_int_field(L, 4, "max_header_size", static_cast<lua_Integer>(lim.max_header_size), 256, 1 << 24));
  lim.max_headers = static_cast<size_t>(opt_int_field(L, 4, "max_headers", static_cast<lua_Integer>(lim.max_headers), 1, 1 << 20));
  lim.header_timeout_ms = opt_timeout_field(L, 4, "header_timeout", lim.header_timeout_ms);
  lim.idle_timeout_ms = opt_timeout_field(L, 4, "idle_timeout", lim.idle_timeout_ms);
  lim.request_timeout_ms = opt_timeout_field(L, 4, "request_timeout", lim.request_timeout_ms);
  lim.write_timeout_ms = opt_timeout_field(L, 4, "write_timeout", lim.write_timeout_ms);
  lim.drain_timeout_ms = opt_timeout_field(L, 4, "drain_timeout", lim.drain_timeout_ms);
  ListenNums nums = read_listen_nums(L, 4);
  int lt = get_field(L, 4, "access_log");  // 5
  if (lt != LUA_TNIL && lt != LUA_TBOOLEAN && lt != LUA_TFUNCTION) option_error(L, "access_log", "true or a function");
  bool has_tls = get_field(L, 4, "tls") != LUA_TNIL;  // 6
  if (has_tls) {
    check_tls_files(L, 6);
    lua_createtable(L, 0, 2);  // 7: the file names, kept for reload_tls
    lua_getfield(L, 6, "cert_file");
    lua_setfield(L, 7, "cert_file");
    lua_getfield(L, 6, "key_file");
    lua_setfield(L, 7, "key_file");
  } else {
    lua_pushnil(L);  // 7
  }
  return suspend(L, "listen", kForever, [&](const OpPtr& op) {
    std::shared_ptr<ssl::context> ctx;
    if (has_tls) {
      lua_getfield(L, 7, "cert_file");
      lua_getfield(L, 7, "key_file");
      std::string error;
      ctx = make_tls_context(lua_tostring(L, -2), lua_tostring(L, -1), error);
      lua_pop(L, 2);
      if (!ctx) return op->fail("ETLS", error);
    }
    ListenConfig cfg;  // (built inside the op's scope: nothing with a destructor in listen's frame)
    cfg.host = std::string(to_sv(L, 1));
    cfg.port = port;
    cfg.backlog = nums.backlog;
    cfg.reuseport = nums.reuseport;
    cfg.ipv6_only = nums.ipv6_only;
    cfg.handshake_timeout_ms = nums.handshake_timeout_ms;
    cfg.max_connections = nums.max_connections;
    cfg.tls = ctx;
    Listener::open(op->engine(), std::move(cfg), [op, lim](std::shared_ptr<Listener> l, ListenError err) {
      if (!op->active()) {
        if (l) l->close();
        return;
      }
      if (!l) return op->fail(err.code, err.message);
      auto server = std::make_shared<Server>(op->engine());
      server->limits = lim;
      server->tls = l->config().tls;
      op->resume([server, l](lua_State* L) {
        // The waiting coroutine's stack still holds listen's arguments (1..7).
        Server* s = server.get();
        if (s->tls) {  // the automatic reload compares the files with these
          lua_getfield(L, 7, "cert_file");
          lua_getfield(L, 7, "key_file");
          s->cert_file = lua_tostring(L, -2);
          s->key_file = lua_tostring(L, -1);
          lua_pop(L, 2);
          s->cert_sig = file_sig(s->cert_file);
          s->key_sig = file_sig(s->key_file);
          s->tls_checked = Clock::now();
        }
        lua_pushvalue(L, 3);
        lua_pushcclosure(L, run_request, 1);
        s->run_cb = mw::Callback(L, -1);
        lua_pop(L, 1);
        if (lua_isfunction(L, 5)) {
          s->log_cb = mw::Callback(L, 5);
        } else {
          s->log_stdout = lua_toboolean(L, 5);
        }
        new_object<ServerBox>(L, kServerType, 1, ServerBox{server});
        lua_pushvalue(L, 7);
        lua_setiuservalue(L, -2, 1);
        lua_pushvalue(L, -1);
        s->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);  // an open server is not garbage
        s->attach(l);
      });
    });
  });
}

void open_http_server_types(lua_State* L) {
  const luaL_Reg req_methods[] = {{"body", req_body},       {"read", req_read}, {"chunks", req_chunks},
                                  {"respond", req_respond}, {"upgrade", req_upgrade}, {nullptr, nullptr}};
  const luaL_Reg req_meta[] = {{"__tostring", req_tostring}, {nullptr, nullptr}};
  new_class(L, kReqType, req_methods, req_meta, req_index);
  const luaL_Reg handoff_meta[] = {{"__gc", handoff_gc}, {nullptr, nullptr}};
  new_class(L, kHandoffType, nullptr, handoff_meta);
  const luaL_Reg writer_methods[] = {{"write", writer_write}, {"close", writer_close}, {nullptr, nullptr}};
  const luaL_Reg writer_meta[] = {{"__gc", writer_gc}, {nullptr, nullptr}};
  new_class(L, kWriterType, writer_methods, writer_meta);
  const luaL_Reg server_methods[] = {{"close", server_close},
                                     {"wait", server_wait},
                                     {"connections", server_connections},
                                     {"local_addr", server_local_addr},
                                     {"reload_tls", server_reload_tls},
                                     {nullptr, nullptr}};
  const luaL_Reg server_meta[] = {
      {"__gc", server_gc}, {"__close", server_close}, {"__tostring", server_tostring}, {nullptr, nullptr}};
  new_class(L, kServerType, server_methods, server_meta, server_index);
}

}  // namespace mw::net
