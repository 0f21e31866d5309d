// The hooks of the cluster layer (cluster.hpp) into the group bindings: a registry table maps
// a group's address to its cluster; while the layer itself delivers to the local clients
// ("raw" broadcast), the hook lets the call through to the plain broadcast.
#include "stdlib/net/ws/cluster.hpp"

#include <string>

#include "runtime/embedded.hpp"

namespace mw::net::ws {

namespace {

constexpr const char* kClustersKey = "moonwire.ws_clusters";    // {[lightuserdata group] = cluster}
constexpr const char* kLayerKey = "moonwire.ws_cluster_layer";  // the loaded _ws_cluster module
constexpr const char* kRawKey = "moonwire.ws_cluster_raw";      // true during a raw broadcast

void push_layer(lua_State* L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, kLayerKey) == LUA_TTABLE) return;
  lua_pop(L, 1);
  const EmbeddedModule* m = find_embedded("_ws_cluster");
  if (!m) luaL_error(L, "no embedded module '_ws_cluster'");
  if (luaL_loadbuffer(L, m->source, m->size, "@[moonwire]/_ws_cluster.lua") != LUA_OK) lua_error(L);
  lua_call(L, 0, 1);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, kLayerKey);
}

void push_clusters(lua_State* L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, kClustersKey) == LUA_TTABLE) return;
  lua_pop(L, 1);
  lua_newtable(L);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, kClustersKey);
}

// raw(target, data, type): target:broadcast(data, type) to the local clients only.
int raw_broadcast(lua_State* L) {
  lua_settop(L, 3);
  lua_getfield(L, 1, "broadcast");
  lua_insert(L, 1);
  lua_pushboolean(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, kRawKey);
  int st = lua_pcall(L, 3, 1, 0);
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, kRawKey);
  if (st != LUA_OK) return lua_error(L);
  return 1;
}

int forward_k(lua_State*, int, lua_KContext) { return 1; }  // the one result is on top

}  // namespace

int cluster_attach(lua_State* L, const void* key) {
  lua_settop(L, 4);  // target, redis, channel, opts
  push_layer(L);
  lua_getfield(L, -1, "attach");
  lua_replace(L, -2);
  lua_insert(L, 1);
  lua_pushlightuserdata(L, const_cast<void*>(key));
  push_clusters(L);
  lua_pushcfunction(L, raw_broadcast);
  // attach(target, redis, channel, opts, key, clusters, raw) connects and subscribes: it suspends.
  lua_callk(L, 7, 1, 0, forward_k);
  return 1;
}

bool cluster_broadcast(lua_State* L, const void* key) {
  lua_settop(L, 3);  // target, data, type (checked by the caller)
  if (lua_getfield(L, LUA_REGISTRYINDEX, kClustersKey) != LUA_TTABLE) {
    lua_pop(L, 1);
    return false;
  }
  bool raw = lua_getfield(L, LUA_REGISTRYINDEX, kRawKey) != LUA_TNIL;
  lua_pop(L, 1);
  if (raw || lua_rawgetp(L, -1, key) == LUA_TNIL) {
    lua_pop(L, raw ? 1 : 2);
    return false;
  }
  lua_replace(L, -2);  // the cluster
  push_layer(L);
  lua_getfield(L, -1, "broadcast");
  lua_replace(L, -2);
  lua_insert(L, -2);  // broadcast, cluster
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);
  // broadcast(cluster, data, type) may suspend (it hands the message to the publisher task).
  lua_callk(L, 3, 1, 0, forward_k);
  return true;
}

}  // namespace mw::net::ws
