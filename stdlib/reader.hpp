#pragma once
// Lua's io read formats ("l", "L", "n", "a", counts) over a byte source that fills up
// asynchronously (stdin, a child's pipes): a read that cannot complete from what has arrived
// suspends the calling task (one mw::suspend) and looks again when more data is there. A read
// never consumes part of its input and then waits.
#include <string>

#include "runtime/lua.hpp"
#include "runtime/suspend.hpp"

namespace mw {

struct Source {
  std::string buffer;  // arrived, not yet consumed
  bool eof = false;
  OpPtr waiter;        // the task waiting for more (one at a time)
  virtual ~Source() = default;
  // Starts getting more data, if not already; arrived() is called (on the loop) with it.
  virtual void request() = 0;
  // Data (or the end) came in: the waiting reader looks again.
  void arrived(std::string_view data, bool end);
  // Waits (suspends the calling task) until arrived() was called; `busy` if another task waits.
  int wait(lua_State* L, const char* what);
};

// Reads the formats at stack indices first..top (none: "l") from `src` as io.read does,
// suspending as needed; `src` must outlive the call (kept alive by a value on the stack).
int read_formats(lua_State* L, Source* src, int first, const char* what);

// io.lines-style iterator over `src` for the formats at first..top; the value at `owner`
// (which keeps src alive) becomes its upvalue.
int push_lines(lua_State* L, Source* src, int owner, int first, const char* what);

}  // namespace mw
