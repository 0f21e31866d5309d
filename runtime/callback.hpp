#pragma once
// A Lua callback run from the event loop as a task: THE way a module calls Lua from a
// completion handler (fs.watch events, timers, signal handlers, ...). No module spawns tasks or
// keeps callback registry refs its own way.
//
//   struct Watcher { mw::Callback on_event; ... };
//   w->on_event = mw::Callback(L, 2);                 // holds the function at index 2
//   ...                                               // later, in a completion handler:
//   w->on_event.run([&](lua_State* L) { push_event(L, ev); return 1; });
//   w->on_event.release();                            // or let the destructor do it
//
// run() starts fn(bound..., extra...) as a new task (Scheduler::spawn: it runs at once until its
// first suspension, so callbacks start in the order of their events); the callback may call
// blocking-looking functions. An error it raises is reported like any task failure nobody
// joined (stderr with a traceback, exit code 1 at the end) and does not stop other callbacks.
// Once the engine is closing, run() and release() do nothing (the Lua state is going away).
#include "runtime/lua.hpp"

namespace mw {

class Engine;
struct Task;

class Callback {
 public:
  Callback() = default;
  // Holds the value at `fn` (normally a function; callers check the type) and the `nbound`
  // values after it, passed first to every call (setTimeout(fn, ms, a, b)); nils included.
  Callback(lua_State* L, int fn, int nbound = 0);
  Callback(Callback&& o) noexcept { *this = std::move(o); }
  Callback& operator=(Callback&& o) noexcept;
  Callback(const Callback&) = delete;
  Callback& operator=(const Callback&) = delete;
  ~Callback() { release(); }

  explicit operator bool() const { return ref_ != LUA_NOREF; }

  // Starts fn(bound..., extra...) as a new task, where push(L) pushes the extra arguments onto
  // L and returns how many. Returns the task (valid until it finishes and is collected), or
  // nullptr when nothing ran (released, or the engine is closing; push is not called then).
  // Call it from the loop (a completion handler), not from inside running Lua code.
  template <class Push>
  Task* run(Push&& push) {
    int top = 0;
    lua_State* L = begin(top);
    if (!L) return nullptr;
    int nextra = push(L);
    return finish(L, top, nextra);
  }
  Task* run() {
    return run([](lua_State*) { return 0; });
  }

  // Drops the references (idempotent); the function may then be collected.
  void release();

 private:
  // Pushes fn and the bound values onto the main thread (whose top before is `top`), or nullptr.
  lua_State* begin(int& top);
  Task* finish(lua_State* L, int top, int nextra);

  Engine* engine_ = nullptr;
  int ref_ = LUA_NOREF;  // the function, or {fn, bound...} when nbound_ > 0
  int nbound_ = 0;
};

}  // namespace mw
