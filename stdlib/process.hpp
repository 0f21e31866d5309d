#pragma once
// The process module's parts, each in its own file: children (process.cpp, process_start.cpp),
// this process (process_self.cpp: env, args, exit, signals).
#include "runtime/lua.hpp"

namespace mw {
// Adds env, args, script, exit, ppid, on_signal to the process module table at `module`.
void open_process_self(lua_State* L, int module);
// io.popen (and io.type) through the process machinery (popen.cpp).
void open_popen(lua_State* L);
}  // namespace mw
