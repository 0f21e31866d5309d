#pragma once
// Every stdlib module's opener. Each pushes its module table (or nothing for globals-only).
#include "runtime/lua.hpp"

namespace mw {
int open_task(lua_State* L);
int open_time(lua_State* L);
int open_timers(lua_State* L);  // setTimeout/setInterval/clearTimeout/clearInterval globals
int open_json(lua_State* L);
int open_net(lua_State* L);
int open_process(lua_State* L);
int open_stdin(lua_State* L);  // io.read/io.lines on stdin that suspend only their task
int open_crypto(lua_State* L);
int open_buffer(lua_State* L);
int open_fs(lua_State* L);
int open_os_ext(lua_State* L);  // also merged into `os`
// A module written in Lua (stdlib/lua/<name>.lua), loaded on first use: `path`, `http.server`.
int open_lua_module(lua_State* L);
// The string.* and table.* helpers (stdlib/lua/_strings.lua), loaded by the first call of one.
int open_strings(lua_State* L);
}  // namespace mw
