// Callbacks run from the event loop as tasks (see callback.hpp).
#include "runtime/callback.hpp"

#include "runtime/engine.hpp"
#include "runtime/scheduler.hpp"

namespace mw {

Callback::Callback(lua_State* L, int fn, int nbound) : engine_(&Engine::of(L)), nbound_(nbound) {
  fn = lua_absindex(L, fn);
  if (nbound == 0) {
    lua_pushvalue(L, fn);
  } else {
    lua_createtable(L, nbound + 1, 0);
    for (int i = 0; i <= nbound; ++i) {
      lua_pushvalue(L, fn + i);
      lua_rawseti(L, -2, i + 1);
    }
  }
  ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
}

Callback& Callback::operator=(Callback&& o) noexcept {
  if (this != &o) {
    release();
    engine_ = o.engine_;
    ref_ = o.ref_;
    nbound_ = o.nbound_;
    o.ref_ = LUA_NOREF;
    o.nbound_ = 0;
  }
  return *this;
}

void Callback::release() {
  if (ref_ == LUA_NOREF) return;
  int ref = ref_;
  ref_ = LUA_NOREF;
  if (engine_->closing()) return;  // lua_close frees the registry
  luaL_unref(engine_->L(), LUA_REGISTRYINDEX, ref);
}

lua_State* Callback::begin(int& top) {
  if (ref_ == LUA_NOREF || engine_->closing()) return nullptr;
  lua_State* L = engine_->L();
  top = lua_gettop(L);
  luaL_checkstack(L, nbound_ + 2 + LUA_MINSTACK, "callback arguments");
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref_);
  if (nbound_ > 0) {
    int t = lua_gettop(L);
    for (int i = 1; i <= nbound_ + 1; ++i) lua_rawgeti(L, t, i);
    lua_remove(L, t);
  }
  return L;
}

Task* Callback::finish(lua_State* L, int top, int nextra) {
  // spawn pops fn and its arguments and pushes the task object; a failure of the task is
  // reported by the scheduler (nobody joins it). The callback may release this Callback.
  // (It may even destroy it: nothing of *this is used once the task started.)
  Scheduler& s = engine_->scheduler();
  Task* t = s.spawn(L, nbound_ + nextra, true);
  lua_settop(L, top);
  return t;
}

}  // namespace mw
