#pragma once
// Runtime-aware coroutines: a user coroutine that does I/O suspends its whole chain up to its
// task and is resumed exactly where it was, so generators behave the same with or without I/O.
#include "runtime/lua.hpp"

namespace mw {
struct Task;
// True when every coroutine from L up to the task's own thread can yield.
bool chain_is_yieldable(lua_State* L, Task* task);
void open_coroutine(lua_State* L);
}  // namespace mw
