#pragma once
// A client group of net.ws connections: ids, count, broadcast, the list of members as the
// script's objects. net.ws.listen's server keeps one; `net.ws.group()` makes one for scripts
// (the HTTP server's req:upgrade{group = g} joins it). A connection only points at its group
// weakly; the group holds the members.
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "runtime/lua.hpp"
#include "runtime/pool.hpp"

namespace mw {
class Engine;
}

namespace mw::net::ws {

class Conn;
enum Kind : uint8_t;

inline constexpr const char* kGroupType = "moonwire.ws.group";

class Group : public std::enable_shared_from_this<Group> {
 public:
  explicit Group(Engine& e);
  ~Group();
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  // A connection whose handshake is done becomes a member: it gets the next id (1, 2, ...)
  // and counts in size(). It is listed and reached by broadcast once published.
  void join(const std::shared_ptr<Conn>& c);
  // The connection's userdata at the top of the stack is handed to the script: list it in
  // clients() (the same object), reach it by broadcast.
  void publish(lua_State* L, const std::shared_ptr<Conn>& c);
  // A member closed (Conn::finish).
  void forget(uint64_t id);

  // Members, open or not yet seen closed (ws.listen's max_connections counts these).
  size_t size() const { return live_.size(); }
  // Published and open.
  size_t client_count() const;
  // Pushes the published open members' objects, ordered by id.
  void push_clients(lua_State* L);
  // Queues `data` to every published open member without waiting; returns how many it reached.
  size_t broadcast(std::string_view data, Kind kind);
  // Starts the closing handshake with every member.
  void close_all(uint16_t code, const char* reason);

 private:
  // Pushes the id -> userdata table, after removing closed members.
  void push_table(lua_State* L);
  template <class F>
  void each_client(F&& f) const;

  Engine& engine_;
  int table_ref_ = LUA_NOREF;  // registry: id -> conn userdata (published, maybe closed since)
  PoolMap<uint64_t, std::shared_ptr<Conn>> live_;
  std::vector<uint64_t> dead_;
  uint64_t next_id_ = 1;
};

// The Lua object of a group made by net.ws.group().
struct GroupBox {
  std::shared_ptr<Group> group;
};
// The group of the value at idx (a net.ws.group() object); raises otherwise.
std::shared_ptr<Group> check_group(lua_State* L, int idx);

}  // namespace mw::net::ws
