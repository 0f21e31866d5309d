#pragma once
#include "runtime/lua.hpp"

namespace mw {
// Pushes the REPL loop (stdlib/lua/_repl.lua) as a function ready to be called in a task.
// It reads lines on a helper thread, so the event loop (and every task) keeps running while
// the prompt waits.
void push_repl(lua_State* L);
}  // namespace mw
