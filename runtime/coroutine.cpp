#include "runtime/coroutine.hpp"

#include <unordered_map>
#include <unordered_set>

#include "runtime/engine.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/suspend.hpp"

namespace mw {

// Who resumed each running user coroutine, and which coroutines are frozen inside an I/O chain
// (they must not be resumed or closed from elsewhere meanwhile).
static std::unordered_map<lua_State*, lua_State*>& parents_of(lua_State* L) {
  return Engine::of(L).scheduler().co_parents();
}
static std::unordered_set<lua_State*>& frozen_of(lua_State* L) { return Engine::of(L).scheduler().co_frozen(); }

bool chain_is_yieldable(lua_State* L, Task* task) {
  auto& parents = parents_of(L);
  for (lua_State* cur = L;;) {
    if (!lua_isyieldable(cur)) return false;
    if (cur == task->thread) return true;
    auto it = parents.find(cur);
    if (it == parents.end()) return false;
    cur = it->second;
  }
}

static lua_State* check_co(lua_State* L, int idx) {
  lua_State* co = lua_tothread(L, idx);
  luaL_argexpected(L, co, idx, "coroutine");
  return co;
}

// A task's own thread is what the main thread is in plain Lua: never resumed, closed or yielded
// by coroutine.* (the scheduler resumes it). `L` is any thread of the same state.
static bool is_task_thread(lua_State* L, lua_State* co) {
  return Engine::of(L).scheduler().task_of(co) != nullptr;
}

// Checks `co` may be resumed by L; on failure pushes an error message and returns false.
static bool can_resume(lua_State* L, lua_State* co) {
  const char* why = nullptr;
  if (co == L || is_task_thread(L, co))
    why = "cannot resume non-suspended coroutine";
  else if (frozen_of(L).count(co))
    why = "cannot resume non-suspended coroutine (it is waiting for I/O)";
  else if (lua_status(co) == LUA_OK && lua_gettop(co) == 0)
    why = "cannot resume dead coroutine";
  else if (lua_status(co) != LUA_OK && lua_status(co) != LUA_YIELD)
    why = "cannot resume dead coroutine";
  else if (lua_status(co) == LUA_OK) {
    lua_Debug ar;
    if (lua_getstack(co, 0, &ar)) why = "cannot resume non-suspended coroutine";
  }
  if (why) lua_pushstring(L, why);
  return why == nullptr;
}

enum ResumeMode : lua_KContext { kResume = 0, kWrap = 1 };

static int resume_k(lua_State* L, int status, lua_KContext ctx);

// As Lua's coroutine.wrap: close the dead coroutine's pending to-be-closed variables first.
// The reset leaves on co only the error to propagate (a __close handler's error replaces the
// original), so a later call finds the coroutine dead. A refused resume (e.g. "C stack
// overflow") leaves co as it was: then there is nothing to close.
static int raise_wrap_error(lua_State* L, lua_State* co) {
  int co_status = lua_status(co);
  if (co_status != LUA_OK && co_status != LUA_YIELD) co_status = lua_resetthread(co);
  lua_xmove(co, L, 1);
  if (co_status != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {  // add position, as wrap does
    luaL_where(L, 1);
    lua_insert(L, -2);
    lua_concat(L, 2);
  }
  return lua_error(L);
}

// Runs `co` (narg arguments already moved onto it). An I/O suspension inside `co` suspends L
// too (propagated with the sentinel); resume_k continues when the I/O completes.
static int resume_step(lua_State* L, lua_State* co, int narg, lua_KContext mode) {
  int nres = 0;
  parents_of(L)[co] = L;
  int status = lua_resume(co, L, narg, &nres);
  parents_of(L).erase(co);
  if (status == LUA_YIELD && is_io_yield(co, nres)) {
    lua_pop(co, nres);
    frozen_of(L).insert(co);
    lua_pushlightuserdata(L, &kIoYield);
    return lua_yieldk(L, 1, mode, resume_k);
  }
  if (status == LUA_OK || status == LUA_YIELD) {
    if (!lua_checkstack(L, nres + 1)) {  // as Lua: resume returns the error, wrap raises it
      lua_pop(co, nres);
      if (mode == kWrap) return luaL_error(L, "too many results to resume");
      lua_pushboolean(L, 0);
      lua_pushliteral(L, "too many results to resume");
      return 2;
    }
    if (mode == kResume) lua_pushboolean(L, 1);
    lua_xmove(co, L, nres);
    return mode == kResume ? nres + 1 : nres;
  }
  // Error inside the coroutine.
  if (mode == kResume) {
    lua_pushboolean(L, 0);
    lua_xmove(co, L, 1);
    return 2;
  }
  return raise_wrap_error(L, co);
}

static int resume_k(lua_State* L, int status, lua_KContext ctx) {
  lua_State* co = ctx == kResume ? lua_tothread(L, 1) : lua_tothread(L, lua_upvalueindex(1));
  frozen_of(L).erase(co);
  return resume_step(L, co, 0, ctx);
}

static int co_resume(lua_State* L) {
  lua_State* co = check_co(L, 1);
  if (!can_resume(L, co)) {
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
  }
  int narg = lua_gettop(L) - 1;
  if (!lua_checkstack(co, narg)) {
    lua_pushboolean(L, 0);
    lua_pushliteral(L, "too many arguments to resume");
    return 2;
  }
  lua_xmove(L, co, narg);
  return resume_step(L, co, narg, kResume);
}

static int wrap_call(lua_State* L) {
  lua_State* co = lua_tothread(L, lua_upvalueindex(1));
  if (!can_resume(L, co)) {
    luaL_where(L, 1);
    lua_insert(L, -2);
    lua_concat(L, 2);
    return lua_error(L);
  }
  int narg = lua_gettop(L);
  if (!lua_checkstack(co, narg)) return luaL_error(L, "too many arguments to resume");
  lua_xmove(L, co, narg);
  return resume_step(L, co, narg, kWrap);
}

static int co_wrap(lua_State* L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_State* co = lua_newthread(L);
  lua_pushvalue(L, 1);
  lua_xmove(L, co, 1);
  lua_pushcclosure(L, wrap_call, 1);
  return 1;
}

static int co_status(lua_State* L) {
  lua_State* co = check_co(L, 1);
  const char* s;
  if (L == co)
    s = "running";
  else if (frozen_of(L).count(co) || parents_of(L).count(co) || is_task_thread(L, co))
    s = "normal";
  else {
    switch (lua_status(co)) {
      case LUA_YIELD:
        s = "suspended";
        break;
      case LUA_OK: {
        lua_Debug ar;
        if (lua_getstack(co, 0, &ar))
          s = "normal";
        else if (lua_gettop(co) == 0)
          s = "dead";
        else
          s = "suspended";
        break;
      }
      default:
        s = "dead";
    }
  }
  lua_pushstring(L, s);
  return 1;
}

static int co_isyieldable(lua_State* L) {
  lua_State* co = lua_isnone(L, 1) ? L : check_co(L, 1);
  lua_pushboolean(L, lua_isyieldable(co) && !is_task_thread(L, co));
  return 1;
}

// At the top of a task there is no resumer to yield to, so Lua's own main-thread error applies
// (task.yield() is the way to give other tasks a turn). Anything else is the standard yield.
static int user_yield(lua_State* L) {
  if (is_task_thread(L, L)) {
    lua_pushliteral(L, "attempt to yield from outside a coroutine");
    return lua_error(L);
  }
  return lua_yield(L, lua_gettop(L));
}

static int co_running(lua_State* L) {
  int ismain = lua_pushthread(L);
  lua_pushboolean(L, ismain || is_task_thread(L, L));
  return 2;
}

static int co_close(lua_State* L) {
  lua_State* co = check_co(L, 1);
  if (frozen_of(L).count(co) || parents_of(L).count(co) || (co != L && is_task_thread(L, co)))
    return luaL_error(L, "cannot close a normal coroutine");
  // Defer to the standard implementation for everything else.
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

void open_coroutine(lua_State* L) {
  lua_getglobal(L, "coroutine");
  const luaL_Reg funcs[] = {{"resume", co_resume},
                            {"wrap", co_wrap},
                            {"status", co_status},
                            {"isyieldable", co_isyieldable},
                            {"running", co_running},
                            {"yield", user_yield},
                            {nullptr, nullptr}};
  luaL_setfuncs(L, funcs, 0);
  lua_getfield(L, -1, "close");
  lua_pushcclosure(L, co_close, 1);
  lua_setfield(L, -2, "close");
  lua_pop(L, 1);
}

}  // namespace mw
