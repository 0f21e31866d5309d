#pragma once
// Tasks: Lua threads run by the event loop. spawn, resume, join, cancel.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "runtime/lua.hpp"
#include "runtime/pool.hpp"

namespace mw {

class Engine;
class Op;

enum class TaskStatus { ready, running, waiting, done, failed, cancelled };

struct Task {
  uint64_t id = 0;
  lua_State* thread = nullptr;
  int slot = 0;             // its thread's slot (the object is kept there while unfinished); 0: none
  int anchor = LUA_NOREF;   // registry ref to the object while its failure waits to be reported
  int results = LUA_NOREF;  // registry ref: {n=..., ...} results, or the error value
  bool shared_results = false;  // `results` is the scheduler's shared {n = 0}: not unref'd
  TaskStatus status = TaskStatus::ready;
  bool started = false;
  bool cancel_requested = false;       // deliver "cancelled" at the next suspension
  bool cancel_requested_ever = false;  // a "cancelled" death is then not a failure
  bool is_main = false;
  bool drain = false;  // outlives the SIGINT/SIGTERM cancel_all (its owner bounds and cancels it)
  int nargs = 0;
  int sync_streak = 0;  // consecutive calls completed without a real suspension
  bool collected = false;  // its error was taken by a join (so it is not an uncaught failure)
  bool finalizable = false;  // its object has the __gc metatable (kTaskGcType)
  int report = LUA_NOREF;  // registry ref: the failure's message and traceback, until checked
  std::shared_ptr<Op> op;  // current suspension
  std::vector<std::shared_ptr<Op>> joiners;

  bool finished() const { return status >= TaskStatus::done; }
  ~Task();
};

// Task objects are made without a finalizer (one per task is a real cost for the collector):
// a task that comes to hold something its object must release (a results or report registry
// ref, or anything at engine close) gets the kTaskGcType metatable, with __gc. Both carry the
// kTaskType tag, so check_udata(kTaskType) accepts either.
inline constexpr const char* kTaskType = "moonwire.task";
inline constexpr const char* kTaskGcType = "moonwire.task.gc";
// Registry field: a function called with the thread of every task created (nil: none).
inline constexpr const char* kTaskCreatedHook = "moonwire.task_created";

class Scheduler {
 public:
  explicit Scheduler(Engine& engine) : engine_(engine) {}
  ~Scheduler();

  // Creates a task for the function at stack index -(nargs+1) of L and its nargs arguments
  // (all popped), pushes the task object, and runs it at once until its first suspension.
  Task* spawn(lua_State* L, int nargs, bool start_now = true);
  // The two halves of spawn: create the task (pushing its object), then run it.
  Task* create(lua_State* L, int nargs);
  void start(Task* t) { resume(t); }

  // Resumes a waiting task: directly when called from the event loop, posted when called
  // from inside running Lua code.
  void wake(Task* t);
  void post_wake(Task* t);

  // Requests cancellation: a waiting task gets a "cancelled" error at its suspension point;
  // a running or ready task gets it at its next one.
  bool cancel(Task* t);
  void cancel_all();

  Task* current() const { return current_; }
  bool in_lua() const { return depth_ > 0; }
  size_t live_tasks() const { return live_.size(); }
  // The unfinished task whose own thread is `thread`, or nullptr (a user coroutine, a dead task).
  Task* task_of(lua_State* thread) const;
  uint64_t switches() const { return switches_; }

  static Task* check_task(lua_State* L, int idx);
  // Pushes the object of an unfinished task (true), or nothing (false: it is not anchored).
  bool push_object(lua_State* L, const Task* t);
  // Before lua_close: unfinished tasks' objects get their finalizer (it destroys the Task).
  void before_close();
  void forget(Task* t);  // the task object is being collected

  // A join took the error of a failed task: it is not reported as uncaught.
  void collect(Task* t) { t->collected = true; }
  // User coroutines (coroutine.cpp): who resumed each running one, and which are frozen inside
  // an I/O chain. Per engine: a thread address of a closed engine may be reused by another.
  std::unordered_map<lua_State*, lua_State*>& co_parents() { return co_parents_; }
  std::unordered_set<lua_State*>& co_frozen() { return co_frozen_; }

  // Reports the failed tasks that no join collected (normally run from a posted handler).
  void check_unhandled();
  uint64_t uncaught_failures() const { return uncaught_; }

  // Tasks that cannot make progress when the loop ran out of work; reports the main task's
  // deadlock on stderr (returns true) when the main task is among them.
  bool report_deadlock();

 private:
  void resume(Task* t);
  void finish(Task* t, int status, int nres);
  void defer_report(Task* t);
  // Every task runs on a thread kept at a slot of one table (slots_ref_): the thread at
  // 2*slot-1, the task's object at 2*slot while the task is unfinished. A finished task's
  // thread stays at its slot, reset, for the next task (a new thread costs an allocation of its
  // state and stack, and garbage for the collector, per task); at most kPoolMax stay idle.
  // Taking and giving back a slot with a thread costs no Lua call.
  static constexpr size_t kPoolMax = 256;
  int take_slot(lua_State* L);
  void release_slot(lua_State* L, int slot);
  void set_slot_object(lua_State* L, int slot);  // pops the value at the top into it (nil: clears)
  void make_finalizable(lua_State* L, Task* t);
  int slots_ref_ = LUA_NOREF;
  std::vector<lua_State*> slot_threads_;  // by slot - 1; nullptr: no thread
  std::vector<int> idle_slots_;           // slots whose thread waits for a task
  std::vector<int> empty_slots_;          // slots without a thread
  int empty_results_ = LUA_NOREF;
  int task_mt_ref_ = LUA_NOREF;

  Engine& engine_;
  Task* current_ = nullptr;
  int depth_ = 0;
  uint64_t next_id_ = 1;
  uint64_t switches_ = 0;
  // Unfinished tasks by their thread: coroutine.* must know a task's thread when it sees one.
  PoolMap<lua_State*, Task*> live_;
  // Failed tasks nobody joined yet: checked once the running task yields (Node's
  // unhandled-rejection rule), so a spawn followed by a join in the same turn is not reported.
  std::vector<Task*> unhandled_;
  bool check_posted_ = false;
  uint64_t uncaught_ = 0;
  std::unordered_map<lua_State*, lua_State*> co_parents_;
  std::unordered_set<lua_State*> co_frozen_;
};

void open_task_type(lua_State* L);
const char* task_status_name(const Task* t);

}  // namespace mw
