#include "runtime/scheduler.hpp"

#include <boost/asio/post.hpp>
#include <cstdio>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/suspend.hpp"

namespace mw {

Scheduler::~Scheduler() = default;

Task* Scheduler::check_task(lua_State* L, int idx) { return static_cast<Task*>(check_udata(L, idx, kTaskType)); }

Task* Scheduler::spawn(lua_State* L, int nargs, bool start_now) {
  Task* t = create(L, nargs);
  if (start_now) {
    resume(t);
  } else {
    t->status = TaskStatus::waiting;
    post_wake(t);
  }
  return t;
}

int Scheduler::take_slot(lua_State* L) {
  if (!idle_slots_.empty()) {
    int slot = idle_slots_.back();
    idle_slots_.pop_back();
    return slot;
  }
  if (slots_ref_ == LUA_NOREF) {
    lua_createtable(L, 2 * static_cast<int>(kPoolMax), 0);
    slots_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  int slot;
  if (empty_slots_.empty()) {
    slot_threads_.push_back(nullptr);
    slot = static_cast<int>(slot_threads_.size());
  } else {
    slot = empty_slots_.back();
    empty_slots_.pop_back();
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, slots_ref_);
  slot_threads_[slot - 1] = lua_newthread(L);
  lua_rawseti(L, -2, 2 * slot - 1);
  lua_pop(L, 1);
  return slot;
}

void Scheduler::set_slot_object(lua_State* L, int slot) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, slots_ref_);
  lua_insert(L, -2);
  lua_rawseti(L, -2, 2 * slot);
  lua_pop(L, 1);
}

// The finished task's thread (its stack empty, status LUA_OK) stays for the next task. Only
// the dead task's object still refers to it (nothing reads a finished task's thread); a script
// that kept `coroutine.running()` of a finished task sees it as a task thread again once reused.
void Scheduler::release_slot(lua_State* L, int slot) {
  if (engine_.closing()) return;
  lua_pushnil(L);
  set_slot_object(L, slot);
  lua_State* T = slot_threads_[slot - 1];
  if (idle_slots_.size() < kPoolMax && lua_status(T) == LUA_OK && lua_gettop(T) == 0) {
    lua_sethook(T, nullptr, 0, 0);  // a debug.sethook of the old task (coverage re-sets its own)
    idle_slots_.push_back(slot);
    return;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, slots_ref_);
  lua_pushnil(L);
  lua_rawseti(L, -2, 2 * slot - 1);
  lua_pop(L, 1);
  slot_threads_[slot - 1] = nullptr;
  empty_slots_.push_back(slot);
}

Task* Scheduler::create(lua_State* L, int nargs) {
  luaL_checktype(L, -(nargs + 1), LUA_TFUNCTION);
  int slot = take_slot(L);
  lua_State* T = slot_threads_[slot - 1];
  if (nargs >= LUA_MINSTACK && !lua_checkstack(T, nargs + 1)) {
    release_slot(L, slot);
    luaL_error(L, "too many arguments for a task (%d)", nargs);
  }
  lua_xmove(L, T, nargs + 1);  // the function and its arguments
  if (task_mt_ref_ == LUA_NOREF) task_mt_ref_ = class_ref(L, kTaskType);
  Task* t = new_object_ref<Task>(L, task_mt_ref_, 0);
  t->id = next_id_++;
  t->thread = T;
  t->nargs = nargs;
  t->slot = slot;
  lua_pushvalue(L, -1);
  set_slot_object(L, slot);
  live_.emplace(T, t);
  // `moonwire test --coverage` sets a line hook on every task's thread (debug.sethook is per
  // thread and a new thread does not inherit the Lua-level hook): it is told of each new one.
  if (lua_getfield(L, LUA_REGISTRYINDEX, kTaskCreatedHook) == LUA_TFUNCTION) {
    lua_pushthread(T);
    lua_xmove(T, L, 1);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) lua_pop(L, 1);
  } else {
    lua_pop(L, 1);
  }
  return t;
}

bool Scheduler::push_object(lua_State* L, const Task* t) {
  if (t->slot > 0) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, slots_ref_);
    lua_rawgeti(L, -1, 2 * t->slot);
    lua_remove(L, -2);
    return true;
  }
  if (t->anchor == LUA_NOREF) return false;
  lua_rawgeti(L, LUA_REGISTRYINDEX, t->anchor);
  return true;
}

void Scheduler::make_finalizable(lua_State* L, Task* t) {
  if (t->finalizable || !push_object(L, t)) return;
  t->finalizable = true;
  luaL_setmetatable(L, kTaskGcType);
  lua_pop(L, 1);
}

void Scheduler::before_close() {
  lua_State* L = engine_.L();
  for (auto& [thread, t] : live_) make_finalizable(L, t);
}

void Scheduler::wake(Task* t) {
  if (depth_ > 0)
    post_wake(t);
  else
    resume(t);
}

void Scheduler::post_wake(Task* t) {
  if (t->status == TaskStatus::ready) return;  // already queued
  t->status = TaskStatus::ready;
  boost::asio::post(engine_.io(), [this, t] { resume(t); });
}

void Scheduler::resume(Task* t) {
  if (t->finished()) return;
  Task* prev = current_;
  current_ = t;
  ++depth_;
  ++switches_;
  t->status = TaskStatus::running;
  int nargs = t->started ? 0 : t->nargs;
  t->started = true;
  int nres = 0;
  int status = lua_resume(t->thread, nullptr, nargs, &nres);
  --depth_;
  current_ = prev;
  if (status == LUA_YIELD) {
    bool io = is_io_yield(t->thread, nres);
    lua_pop(t->thread, nres);
    if (io) {
      if (t->status == TaskStatus::running) t->status = TaskStatus::waiting;  // (ready: already posted)
    } else {
      post_wake(t);  // a C module's lua_yield at the top of a task (coroutine.yield raises there)
    }
    return;
  }
  finish(t, status, nres);
}

void Scheduler::finish(Task* t, int status, int nres) {
  lua_State* T = t->thread;
  t->op.reset();  // a finished task holds nothing its (finalizer-less) object would leak
  if (status == LUA_OK && nres == 0) {  // one shared, never modified {n = 0} for every such task
    if (empty_results_ == LUA_NOREF) {
      lua_createtable(T, 0, 1);
      lua_pushinteger(T, 0);
      lua_setfield(T, -2, "n");
      empty_results_ = luaL_ref(T, LUA_REGISTRYINDEX);
    }
    t->results = empty_results_;
    t->shared_results = true;
    lua_settop(T, 0);
    t->status = TaskStatus::done;
  } else if (status == LUA_OK) {
    int base = lua_gettop(T) - nres;
    lua_createtable(T, nres, 1);
    for (int i = 1; i <= nres; ++i) {
      lua_pushvalue(T, base + i);
      lua_rawseti(T, -2, i);
    }
    lua_pushinteger(T, nres);
    lua_setfield(T, -2, "n");
    t->results = luaL_ref(T, LUA_REGISTRYINDEX);
    make_finalizable(T, t);
    lua_settop(T, 0);
    t->status = TaskStatus::done;
  } else {
    std::string_view code = error_code_of(T, -1);
    bool cancelled = code == kCancelled && t->cancel_requested_ever;
    // Objects closed by the SIGINT/SIGTERM shutdown raise `closed` in the tasks that wait on
    // them: those tasks were stopped by the shutdown, not by a bug.
    bool stopped_by_shutdown = engine_.shutting_down() && (code == kCancelled || code == kClosed);
    t->status = cancelled ? TaskStatus::cancelled : TaskStatus::failed;
    if (t->joiners.empty() && !cancelled && !stopped_by_shutdown) defer_report(t);
    lua_pushvalue(T, -1);
    t->results = luaL_ref(T, LUA_REGISTRYINDEX);
    make_finalizable(T, t);
    lua_resetthread(T);  // runs pending __close handlers
    lua_settop(T, 0);
  }
  forget(t);
  if (live_.empty()) engine_.notify_idle();
  auto joiners = std::move(t->joiners);
  int results = t->results;
  bool ok = t->status == TaskStatus::done;
  for (auto& op : joiners) {
    if (ok) {
      op->resume([results](lua_State* L) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, results);
        lua_getfield(L, -1, "n");
        int n = static_cast<int>(lua_tointeger(L, -1));
        lua_pop(L, 1);
        luaL_checkstack(L, n, "too many results");
        for (int i = 1; i <= n; ++i) lua_rawgeti(L, -i, i);
        lua_remove(L, -(n + 1));
      });
    } else {
      op->fail_with([results](lua_State* L) { lua_rawgeti(L, LUA_REGISTRYINDEX, results); });
    }
  }
  // Last: the task object may now be collected if nobody else holds it (a failure waiting
  // for the unhandled check keeps it until then). Its slot may serve the next task.
  if (t->report != LUA_NOREF && push_object(T, t)) t->anchor = luaL_ref(T, LUA_REGISTRYINDEX);
  int slot = t->slot;
  t->slot = 0;
  release_slot(T, slot);
}

// The traceback is taken now, while the dead thread's stack is still there; whether to print it
// is decided once the running task yields.
void Scheduler::defer_report(Task* t) {
  lua_State* T = t->thread;
  lua_State* L = engine_.L();
  push_error_text(T, -1);
  luaL_traceback(L, T, lua_tostring(T, -1), 0);
  lua_pop(T, 1);
  t->report = luaL_ref(L, LUA_REGISTRYINDEX);
  unhandled_.push_back(t);
  if (check_posted_) return;
  check_posted_ = true;
  boost::asio::post(engine_.io(), [this] { check_unhandled(); });
}

void Scheduler::check_unhandled() {
  check_posted_ = false;
  if (engine_.closing()) return;
  lua_State* L = engine_.L();
  auto failed = std::move(unhandled_);
  unhandled_.clear();
  for (Task* t : failed) {
    if (!t->collected) {
      lua_rawgeti(L, LUA_REGISTRYINDEX, t->report);
      if (t->is_main)
        std::fprintf(stderr, "moonwire: %s\n", lua_tostring(L, -1));
      else
        std::fprintf(stderr, "moonwire: task %llu failed: %s\n", static_cast<unsigned long long>(t->id),
                     lua_tostring(L, -1));
      std::fflush(stderr);
      lua_pop(L, 1);
      ++uncaught_;
      engine_.note_uncaught_failure();
    }
    luaL_unref(L, LUA_REGISTRYINDEX, t->report);
    t->report = LUA_NOREF;
    luaL_unref(L, LUA_REGISTRYINDEX, t->anchor);  // may let the task object be collected
    t->anchor = LUA_NOREF;
  }
}

// "where" of a waiting task: the innermost Lua frame of its thread ("script.lua:3").
static void push_wait_position(lua_State* L, lua_State* T) {
  lua_Debug ar;
  for (int level = 0; lua_getstack(T, level, &ar); ++level) {
    lua_getinfo(T, "Sl", &ar);
    if (ar.currentline > 0) {
      lua_pushfstring(L, "%s:%d", ar.short_src, ar.currentline);
      return;
    }
  }
  lua_pushliteral(L, "?");
}

bool Scheduler::report_deadlock() {
  bool main_stuck = false;
  for (auto& [thread, t] : live_) main_stuck = main_stuck || t->is_main;
  if (!main_stuck) return false;
  lua_State* L = engine_.L();
  std::fputs("moonwire: deadlock: the main task waits for something nothing can wake (no other task, "
             "timer, socket or listener is left):\n",
             stderr);
  for (auto& [thread, t] : live_) {
    push_wait_position(L, t->thread);
    const char* what = t->op ? t->op->what() : "a turn";
    if (t->is_main)
      std::fprintf(stderr, "  main task waits in '%s' at %s\n", what, lua_tostring(L, -1));
    else
      std::fprintf(stderr, "  task %llu waits in '%s' at %s\n", static_cast<unsigned long long>(t->id), what,
                   lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  std::fflush(stderr);
  return true;
}

bool Scheduler::cancel(Task* t) {
  if (t->finished()) return false;
  t->cancel_requested = true;
  t->cancel_requested_ever = true;
  if (t->status == TaskStatus::waiting && t->op) {
    t->cancel_requested = false;
    OpPtr op = t->op;
    op->abandon(kCancelled, std::string("task cancelled (in ") + op->what() + ")");
  }
  return true;
}

void Scheduler::cancel_all() {
  // By thread, not Task*: a cancel runs Lua, which may finish (and collect) other tasks.
  std::vector<lua_State*> threads;
  for (auto& [thread, t] : live_)
    if (!t->drain) threads.push_back(thread);
  for (lua_State* thread : threads)
    if (Task* t = task_of(thread)) cancel(t);
}

void Scheduler::forget(Task* t) {
  auto it = live_.find(t->thread);
  if (it != live_.end() && it->second == t) live_.erase(it);
}

Task* Scheduler::task_of(lua_State* thread) const {
  auto it = live_.find(thread);
  return it == live_.end() ? nullptr : it->second;
}

}  // namespace mw

namespace mw {

Task::~Task() = default;

static int task_gc(lua_State* L) {
  Task* t = static_cast<Task*>(check_udata(L, 1, kTaskType));
  if (t->results != LUA_NOREF && !t->shared_results) luaL_unref(L, LUA_REGISTRYINDEX, t->results);
  if (t->report != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, t->report);
  Engine::of(L).scheduler().forget(t);
  t->~Task();
  return 0;
}

static const char* status_name(TaskStatus s) {
  switch (s) {
    case TaskStatus::running:
      return "running";
    case TaskStatus::ready:
    case TaskStatus::waiting:
      return "suspended";
    case TaskStatus::done:
      return "done";
    case TaskStatus::failed:
      return "failed";
    case TaskStatus::cancelled:
      return "cancelled";
  }
  return "?";
}

const char* task_status_name(const Task* t) { return status_name(t->status); }

static int task_tostring(lua_State* L) {
  Task* t = Scheduler::check_task(L, 1);
  lua_pushfstring(L, "task %I (%s)", static_cast<lua_Integer>(t->id), status_name(t->status));
  return 1;
}

void open_task_type(lua_State* L) {
  new_metatable(L, kTaskType);
  lua_pushcfunction(L, task_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "task");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
  const luaL_Reg gc[] = {{"__gc", task_gc}, {nullptr, nullptr}};
  new_class_variant(L, kTaskType, kTaskGcType, gc);
}

}  // namespace mw
