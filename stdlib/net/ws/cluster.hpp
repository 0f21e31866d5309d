#pragma once
// A net.ws client group that spans processes and machines through Redis pub/sub
// (server:cluster / group:cluster, docs/cluster.md). The work is done in Lua
// (stdlib/lua/_ws_cluster.lua); these are its two hooks into the Lua-facing group bindings.
#include "runtime/lua.hpp"

namespace mw::net::ws {

// server:cluster(redis, channel[, opts]) / group:cluster(...) for the group `key` (its address):
// argument 1 is the server or group object. May suspend (connect, subscribe).
int cluster_attach(lua_State* L, const void* key);

// At the top of server:broadcast / group:broadcast, once the arguments are checked: when the
// group `key` is in a cluster, the cluster layer takes the call (local delivery + publish) and
// this returns true with the result pushed (the caller returns 1). Else false, nothing pushed.
bool cluster_broadcast(lua_State* L, const void* key);

}  // namespace mw::net::ws
