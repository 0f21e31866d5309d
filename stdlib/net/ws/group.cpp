// Client groups of net.ws connections and the net.ws.group() object: see ws/group.hpp.
#include "stdlib/net/ws/group.hpp"

#include <algorithm>

#include "runtime/engine.hpp"
#include "stdlib/net/ws/cluster.hpp"
#include "stdlib/net/ws/conn.hpp"
#include "stdlib/buffer.hpp"

namespace mw::net::ws {

Group::Group(Engine& e) : engine_(e) {}

Group::~Group() {
  if (table_ref_ != LUA_NOREF && !engine_.closing()) luaL_unref(engine_.L(), LUA_REGISTRYINDEX, table_ref_);
}

void Group::join(const std::shared_ptr<Conn>& c) {
  c->id = next_id_++;
  c->group = weak_from_this();
  live_.emplace(c->id, c);
}

void Group::publish(lua_State* L, const std::shared_ptr<Conn>& c) {
  c->accepted = true;
  push_table(L);
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, static_cast<lua_Integer>(c->id));
  lua_pop(L, 1);
}

void Group::forget(uint64_t id) {
  if (live_.erase(id)) dead_.push_back(id);
}

void Group::push_table(lua_State* L) {
  if (table_ref_ == LUA_NOREF) {
    lua_newtable(L);
    table_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, table_ref_);
  for (uint64_t id : dead_) {
    lua_pushnil(L);
    lua_rawseti(L, -2, static_cast<lua_Integer>(id));
  }
  dead_.clear();  // (keeps its capacity: no allocation per connection that comes and goes)
}

template <class F>
void Group::each_client(F&& f) const {
  for (auto& [id, c] : live_)
    if (c->accepted && c->sendable()) f(c);
}

size_t Group::client_count() const {
  size_t n = 0;
  each_client([&](auto&) { ++n; });
  return n;
}

void Group::push_clients(lua_State* L) {
  push_table(L);
  int table = lua_gettop(L);
  std::vector<uint64_t> ids;
  each_client([&](const std::shared_ptr<Conn>& c) { ids.push_back(c->id); });
  std::sort(ids.begin(), ids.end());
  lua_createtable(L, static_cast<int>(ids.size()), 0);
  lua_Integer n = 0;
  for (uint64_t id : ids) {
    if (lua_rawgeti(L, table, static_cast<lua_Integer>(id)) == LUA_TUSERDATA)
      lua_rawseti(L, -2, ++n);
    else
      lua_pop(L, 1);
  }
  lua_remove(L, table);
}

size_t Group::broadcast(std::string_view data, Kind kind) {
  SharedFrame frame = make_frame(data, kind);  // framed once, written as is to every client
  std::vector<std::shared_ptr<Conn>> targets;  // offer may close a member (queue overflow)
  each_client([&](const std::shared_ptr<Conn>& c) { targets.push_back(c); });
  size_t n = 0;
  for (auto& c : targets)
    if (c->offer(frame)) ++n;
  return n;
}

void Group::close_all(uint16_t code, const char* reason) {
  std::vector<std::shared_ptr<Conn>> all;
  for (auto& [id, c] : live_) all.push_back(c);
  for (auto& c : all) c->start_close(code, reason, nullptr);
}

// --- the Lua object ----------------------------------------------------------------------------

namespace {

Group* check_box(lua_State* L) { return static_cast<GroupBox*>(check_udata(L, 1, kGroupType))->group.get(); }

int group_broadcast(lua_State* L) {
  Group* g = check_box(L);
  std::string_view data = check_data(L, 2);
  Kind kind = check_kind(L, 3, kText);
  if (kind > kBinary) value_error(L, 3, "broadcast type must be 'text' or 'binary'");
  if (cluster_broadcast(L, g)) return 1;  // group:cluster(): local + Redis (cluster.hpp)
  lua_Integer n = static_cast<lua_Integer>(g->broadcast(data, kind));
  lua_pushinteger(L, n);
  return 1;
}

int group_clients(lua_State* L) {
  check_box(L)->push_clients(L);
  return 1;
}

int group_client_count(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(check_box(L)->client_count()));
  return 1;
}

int group_cluster(lua_State* L) { return cluster_attach(L, check_box(L)); }

int group_close(lua_State* L) {
  Group* g = check_box(L);
  lua_Integer code = luaL_optinteger(L, 2, 1001);
  check_value(L, code == 1000 || code == 1001 || (code >= 3000 && code <= 4999), 2, "invalid close code");
  g->close_all(static_cast<uint16_t>(code), "closing");
  return 0;
}

int group_gc(lua_State* L) { return gc_object<GroupBox>(L, kGroupType); }

int group_tostring(lua_State* L) {
  lua_pushfstring(L, "ws.group (%d clients)", static_cast<int>(check_box(L)->client_count()));
  return 1;
}

}  // namespace

std::shared_ptr<Group> check_group(lua_State* L, int idx) {
  auto* box = static_cast<GroupBox*>(test_udata(L, idx, kGroupType));
  if (!box) luaL_typeerror(L, idx, "net.ws group");
  return box->group;
}

// net.ws.group()
int ws_group(lua_State* L) {
  lua_settop(L, 0);
  new_object<GroupBox>(L, kGroupType, 0, GroupBox{std::make_shared<Group>(Engine::of(L))});
  return 1;
}

void register_group_class(lua_State* L) {
  const luaL_Reg methods[] = {{"broadcast", group_broadcast},
                              {"clients", group_clients},
                              {"cluster", group_cluster},
                              {"client_count", group_client_count},
                              {"close", group_close},
                              {nullptr, nullptr}};
  const luaL_Reg meta[] = {{"__gc", group_gc}, {"__tostring", group_tostring}, {nullptr, nullptr}};
  new_class(L, kGroupType, methods, meta);
}

}  // namespace mw::net::ws
