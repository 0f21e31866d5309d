#pragma once
// The server side of the WebSocket opening handshake, for any server that has accepted a
// connection and parsed its request header: net.ws.listen (ws/server.cpp) and the HTTP
// server's req:upgrade. It checks the request (an upgrade at all: else 426; the Origin: else
// 403; the group's max_connections: else 503), picks the subprotocol, answers 101 and returns
// the net.ws connection, the same object net.ws.listen's accept() gives.
//
//   // In a Lua C function running in a task (req:upgrade): takes the stream over.
//   auto o = ws::read_upgrade_options(L, 2, "req:upgrade", secure);
//   return ws::upgrade(L, std::move(socket), request, o);                 // plain
//   return ws::upgrade(L, std::move(tls_stream), tls_context, request, o);  // TLS
//
// A refused request gets its 4xx/503 answer and the connection is closed (the stream is
// consumed either way); the call raises EHANDSHAKE with `status`. Beast and Asio types appear
// here: include it from stdlib/net sources only.
#include <memory>
#include <string>
#include <vector>

#include "stdlib/net/listener.hpp"  // TlsSocket
#include "stdlib/net/ws/conn.hpp"

namespace mw::net::ws {

class Group;

struct UpgradeOptions {
  explicit UpgradeOptions(Engine& e) : engine(&e) {}
  ~UpgradeOptions();
  UpgradeOptions(const UpgradeOptions&) = delete;
  UpgradeOptions& operator=(const UpgradeOptions&) = delete;

  Engine* engine;
  std::vector<std::string> protocols;  // ours, in order of preference
  std::vector<std::string> origins;    // allowed origins (origins_set)
  int origin_fn = LUA_NOREF;           // registry ref to origins = function(origin, request)
  bool origins_set = false;            // false: same-origin policy (Origin host:port == Host)
  bool secure = false;                 // served over TLS: the Host's default port is 443
  Settings settings;                   // max_message, max_queue, close_timeout, ping_interval, compression
  size_t max_connections = 0;          // members of `group` allowed (0: unlimited); extra ones get 503
  int64_t handshake_timeout_ms = 10000;  // upgrade(): bound on writing the answer
  std::shared_ptr<Group> group;        // joined on success (ids from it); null: an id of the engine's
};

// Keys read_upgrade_options knows (for the check_options list of a caller with more options).
#define MW_WS_UPGRADE_OPTION_KEYS "protocols", "origins", "max_connections", "group", "handshake_timeout", MW_WS_SETTINGS

// Reads the options table at `idx` (nil: defaults): protocols (string or list), origins (list
// or function(origin, request) -> boolean), max_message, max_queue, close_timeout,
// ping_interval, compression, max_connections, group (a net.ws.group()), handshake_timeout.
// With `check_keys`, other keys raise EINVAL naming `fname`. Raises on bad values, leaking
// nothing. `tls`: the request came over TLS (same-origin check).
std::shared_ptr<UpgradeOptions> read_upgrade_options(lua_State* L, int idx, const char* fname, bool tls,
                                                     bool check_keys = true);

// --- Lua entry points: from a Lua C function running in a task, as its `return`. ---
// Suspends the task until the handshake is done: resumes with the connection userdata (joined
// to o->group if set), or raises EHANDSHAKE (field `status`: 426, 403, 503; the answer was
// sent) or the network error. `req` is copied; `s` is taken over at once. The shared pointers
// are taken by reference and copied into the operation: the suspension longjmps past this
// frame, so a by-value parameter here would never be released. The caller keeps them in
// something that outlives the call (a userdata), not in its own frame.
int upgrade(lua_State* L, Socket&& s, const Request& req, const std::shared_ptr<const UpgradeOptions>& o);
int upgrade(lua_State* L, TlsSocket&& s, const std::shared_ptr<ssl::context>& ctx, const Request& req,
            const std::shared_ptr<const UpgradeOptions>& o);

// --- The C++ step underneath (used by net.ws.listen's server, which bounds it itself). ---
// A server-side connection around an accepted stream (handshake not done yet). `from`: the
// listener's Accepted, whose addresses spare the getpeername/getsockname.
std::shared_ptr<Conn> adopt(Engine& e, Socket&& s, const Settings& settings, const Accepted* from = nullptr);
std::shared_ptr<Conn> adopt(Engine& e, TlsSocket&& s, std::shared_ptr<ssl::context> ctx, const Settings& settings,
                            const Accepted* from = nullptr);

struct Refusal {
  int status = 0;      // the HTTP status answered (0: no answer, the connection failed)
  std::string reason;  // why, for an error message
};
// Success: the connection (started: reading; a member of o->group). Else null and why; the
// connection is closed. `done` runs from the loop, never inline.
using UpgradeDone = std::function<void(std::shared_ptr<Conn>, const Refusal&)>;
void async_upgrade(std::shared_ptr<Conn> c, std::shared_ptr<const Request> req, std::shared_ptr<const UpgradeOptions> o,
                   UpgradeDone done);

}  // namespace mw::net::ws
