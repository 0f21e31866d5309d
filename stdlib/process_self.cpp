// process: this process. process.env (the environment as a table-like object that reads and
// sets variables), process.args / process.script (the command line), process.exit(code) (as
// os.exit: reports pending task failures, flushes output), process.ppid(), and
// process.on_signal(name, fn): handlers that run as tasks when a signal arrives, seen on the
// engine's signal thread so a handler neither blocks the loop nor keeps the script alive.
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <unistd.h>

#include "runtime/callback.hpp"
#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/workers.hpp"
#include "stdlib/process.hpp"

extern char** environ;

namespace mw {
namespace {

constexpr const char* kEnvType = "moonwire.process.env";
constexpr const char* kHandlersKey = "moonwire.signal_handlers";  // {[signum] = {fn, ...}}
constexpr const char* kRunningKey = "moonwire.signal_running";    // {[signum] = dispatches running}
// Per engine: the dispatcher function, run from the loop as a task for each delivery.
struct SignalState {
  Callback dispatch;
};

// --- process.env ------------------------------------------------------------------------------

// Null when `name` is a valid variable name, else what is wrong with it.
const char* bad_env_name(std::string_view name) {
  if (name.empty()) return "variable name is empty";
  if (name.find('=') != std::string_view::npos) return "variable name contains '='";
  if (name.find('\0') != std::string_view::npos) return "variable name contains a NUL byte";
  return nullptr;
}

// process.env.NAME → the value or nil (any key that cannot name a variable is simply absent).
int env_index(lua_State* L) {
  if (lua_type(L, 2) != LUA_TSTRING) return lua_pushnil(L), 1;
  std::string_view name = to_sv(L, 2);
  const char* v = bad_env_name(name) ? nullptr : std::getenv(name.data());
  if (v) lua_pushstring(L, v);
  else lua_pushnil(L);
  return 1;
}

// process.env.NAME = "value" | number (setenv) | nil (unsetenv)
int env_newindex(lua_State* L) {
  if (lua_type(L, 2) != LUA_TSTRING) raisef(L, "EINVAL", "process.env: variable names are strings (got %s)", luaL_typename(L, 2));
  std::string_view name = to_sv(L, 2);
  if (const char* bad = bad_env_name(name)) raisef(L, "EINVAL", "process.env: %s", bad);
  int t = lua_type(L, 3);
  if (t == LUA_TNIL) {
    if (::unsetenv(name.data()) != 0) raisef(L, "EINVAL", "process.env: unsetenv %s: %s", name.data(), std::strerror(errno));
    return 0;
  }
  if (t != LUA_TSTRING && t != LUA_TNUMBER)
    raisef(L, "EINVAL", "process.env.%s: a value is a string or a number, nil removes it (got %s)", name.data(), luaL_typename(L, 3));
  std::string_view value = to_sv(L, 3);  // converts a number in place
  if (value.find('\0') != std::string_view::npos) raisef(L, "EINVAL", "process.env.%s: value contains a NUL byte", name.data());
  if (::setenv(name.data(), value.data(), 1) != 0) raisef(L, "ENOMEM", "process.env: setenv %s: %s", name.data(), std::strerror(errno));
  return 0;
}

// A plain table copy of the environment.
void push_env_copy(lua_State* L) {
  lua_newtable(L);
  for (char** e = environ; *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (!eq || eq == *e) continue;
    lua_pushlstring(L, *e, static_cast<size_t>(eq - *e));
    lua_pushstring(L, eq + 1);
    lua_rawset(L, -3);
  }
}

// process.env() → a plain table copy (for json.encode, sorting, passing around)
int env_call(lua_State* L) {
  push_env_copy(L);
  return 1;
}

// pairs(process.env): over a copy taken when the loop starts (setting variables meanwhile is fine)
int env_pairs(lua_State* L) {
  lua_getglobal(L, "next");
  push_env_copy(L);
  lua_pushnil(L);
  return 3;
}

int env_tostring(lua_State* L) {
  lua_pushliteral(L, "process.env");
  return 1;
}

// --- process.args, process.script -------------------------------------------------------------

// First access of process.args / process.script: built from `arg` (set by the command line
// before the script runs) and then cached in the module table.
int process_lazy_index(lua_State* L) {
  std::string_view key = lua_type(L, 2) == LUA_TSTRING ? to_sv(L, 2) : std::string_view();
  if (key != "args" && key != "script") return lua_pushnil(L), 1;
  lua_getglobal(L, "arg");
  int argt = lua_gettop(L);
  bool have = lua_istable(L, argt);
  lua_newtable(L);  // args
  if (have) {
    for (lua_Integer i = 1;; ++i) {
      if (lua_rawgeti(L, argt, i) == LUA_TNIL) {
        lua_pop(L, 1);
        break;
      }
      lua_rawseti(L, -2, i);
    }
  }
  lua_setfield(L, 1, "args");
  if (have) lua_rawgeti(L, argt, 0);
  else lua_pushnil(L);
  lua_setfield(L, 1, "script");
  lua_getfield(L, 1, key.data());
  return 1;
}

// --- process.exit, process.ppid ---------------------------------------------------------------

// process.exit([code]): code true/nil (0), false (1), or 0..255; as os.exit otherwise.
int process_exit(lua_State* L) {
  int t = lua_type(L, 1);
  if (t == LUA_TNUMBER) {
    if (!lua_isinteger(L, 1)) luaL_checkinteger(L, 1);  // "number has no integer representation"
    lua_Integer code = lua_tointeger(L, 1);
    check_value(L, code >= 0 && code <= 255, 1, "exit code must be 0..255");
  } else if (t != LUA_TNONE && t != LUA_TNIL && t != LUA_TBOOLEAN) {
    luaL_typeerror(L, 1, "integer or boolean");
  }
  lua_settop(L, 1);
  std::fflush(stdout);
  std::fflush(stderr);
  lua_pushvalue(L, lua_upvalueindex(1));  // os.exit (runtime's: reports pending failures)
  lua_insert(L, 1);
  if (lua_isnil(L, 2)) lua_pop(L, 1);
  lua_call(L, lua_gettop(L) - 1, 0);
  return 0;
}

int process_ppid(lua_State* L) {
  lua_pushinteger(L, ::getppid());
  return 1;
}

// process.worker_id() → 1..N under `moonwire --workers N`, nil otherwise (docs/workers.md).
int process_worker_id(lua_State* L) {
  if (workers::worker_id() == 0) lua_pushnil(L);
  else lua_pushinteger(L, workers::worker_id());
  return 1;
}

// process.workers() → N under `moonwire --workers N`, 0 otherwise.
int process_workers(lua_State* L) {
  lua_pushinteger(L, workers::worker_count());
  return 1;
}

// --- process.on_signal --------------------------------------------------------------------------

struct SignalName {
  const char* name;
  int number;
};
constexpr SignalName kSignals[] = {{"SIGHUP", SIGHUP},   {"SIGINT", SIGINT},   {"SIGQUIT", SIGQUIT}, {"SIGTERM", SIGTERM},
                                   {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2}, {"SIGWINCH", SIGWINCH}};

const char* name_of(int sig) {
  for (const auto& s : kSignals)
    if (s.number == sig) return s.name;
  return "signal";
}

// "SIGHUP", "HUP", "sighup" → SIGHUP; anything else (SIGKILL cannot be handled) → EINVAL.
int check_signal(lua_State* L, int idx) {
  std::string_view raw = check_sv(L, idx);
  char up[16] = {};
  std::string_view name;
  if (raw.size() < sizeof up - 4) {
    size_t n = 0;
    if (raw.size() < 3 || strncasecmp(raw.data(), "SIG", 3) != 0) n = std::snprintf(up, sizeof up, "SIG");
    for (char c : raw) up[n++] = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    name = std::string_view(up, n);
  }
  for (const auto& s : kSignals)
    if (name == s.name) return s.number;
  lua_pushfstring(L, "unknown or unsupported signal '%s' (one of SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH)",
                  luaL_tolstring(L, idx, nullptr));
  value_error(L, idx, lua_tostring(L, -1));
}

// Runs the handlers of one delivery, each as its own task. For SIGINT/SIGTERM it then waits for
// them: the default graceful shutdown follows unless one returned false. A handler's error is
// reported as an uncaught task error (and does not veto).
const char kDispatcher[] = R"(
local spawn, shutdown = ...
return function(list, name, sig, stops, running)
  local tasks = {}
  for i, fn in ipairs(list) do tasks[i] = spawn(fn, name) end
  if not stops then return end
  running[sig] = (running[sig] or 0) + 1
  local veto, failure = false, nil
  for _, t in ipairs(tasks) do
    local ok, r = pcall(t.join, t)
    if not ok then failure = failure or r elseif r == false then veto = true end
  end
  running[sig] = running[sig] - 1
  if not veto then shutdown(sig) end
  if failure ~= nil then error(failure, 0) end
end
)";

int start_shutdown(lua_State* L) {
  Engine::of(L).shutdown(static_cast<int>(luaL_checkinteger(L, 1)));
  return 0;
}

// The engine's signal hook: spawns the dispatcher when the signal has handlers.
bool deliver(Engine& engine, int sig) {
  lua_State* L = engine.L();
  int top = lua_gettop(L);
  lua_getfield(L, LUA_REGISTRYINDEX, kHandlersKey);
  bool stops = sig == SIGINT || sig == SIGTERM;
  if (lua_rawgeti(L, -1, sig) != LUA_TTABLE || lua_rawlen(L, -1) == 0) return lua_settop(L, top), false;
  lua_getfield(L, LUA_REGISTRYINDEX, kRunningKey);
  lua_rawgeti(L, -1, sig);
  bool running = lua_tointeger(L, -1) > 0;
  lua_pop(L, 2);
  // A second SIGINT/SIGTERM while the handlers of the first still run: the default shutdown.
  if (stops && running) return lua_settop(L, top), false;
  int list = lua_gettop(L);
  engine.state<SignalState>().dispatch.run([&](lua_State* L) {
    lua_createtable(L, static_cast<int>(lua_rawlen(L, list)), 0);  // a copy: a handler may remove itself
    for (lua_Integer i = 1; i <= static_cast<lua_Integer>(lua_rawlen(L, list)); ++i) {
      lua_rawgeti(L, list, i);
      lua_rawseti(L, -2, i);
    }
    lua_pushstring(L, name_of(sig));
    lua_pushinteger(L, sig);
    lua_pushboolean(L, stops);
    lua_getfield(L, LUA_REGISTRYINDEX, kRunningKey);
    return 5;
  });
  lua_settop(L, top);
  return true;
}

// The state tables, the dispatcher and the engine hook, on the first on_signal.
void ensure_signal_state(lua_State* L) {
  Engine& engine = Engine::of(L);
  SignalState& st = engine.state<SignalState>();
  if (st.dispatch) return;
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, kHandlersKey);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, kRunningKey);
  if (luaL_loadbuffer(L, kDispatcher, sizeof kDispatcher - 1, "=[moonwire signals]") != LUA_OK) lua_error(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "task");
  lua_getfield(L, -1, "spawn");
  lua_replace(L, -3);
  lua_pop(L, 1);
  lua_pushcfunction(L, start_shutdown);
  lua_call(L, 2, 1);
  st.dispatch = Callback(L, -1);  // run as a task for each delivery
  lua_pop(L, 1);
  engine.set_signal_hook([&engine](int sig) { return deliver(engine, sig); });
}

// Pushes the handler list of `sig` (created if missing).
void push_handlers(lua_State* L, int sig) {
  lua_getfield(L, LUA_REGISTRYINDEX, kHandlersKey);
  if (lua_rawgeti(L, -1, sig) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, sig);
  }
  lua_remove(L, -2);
}

// Removes `fn` (all handlers when nil) from sig's list; the last one gone gives the signal
// its default back. Returns how many were removed.
int remove_handlers(lua_State* L, int sig, int fn_idx) {
  fn_idx = lua_absindex(L, fn_idx);
  push_handlers(L, sig);
  int list = lua_gettop(L);
  lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, list)), removed = 0;
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, list, i);
    bool drop = lua_isnil(L, fn_idx) || (removed == 0 && lua_rawequal(L, -1, fn_idx));
    if (drop) {
      ++removed;
      lua_pop(L, 1);
    } else {
      lua_rawseti(L, list, i - removed);
    }
  }
  for (lua_Integer i = n - removed + 1; i <= n; ++i) {
    lua_pushnil(L);
    lua_rawseti(L, list, i);
  }
  bool now_empty = lua_rawlen(L, list) == 0;
  lua_pop(L, 1);
  if (removed > 0 && now_empty) Engine::of(L).watch_signal(sig, false);
  return static_cast<int>(removed);
}

// The function on_signal returns: removes that one handler; true the first time.
int remove_one(lua_State* L) {
  int sig = static_cast<int>(lua_tointeger(L, lua_upvalueindex(1)));
  lua_pushboolean(L, remove_handlers(L, sig, lua_upvalueindex(2)) > 0);
  return 1;
}

// process.on_signal(name, fn) → remove(); process.on_signal(name, nil) removes every handler.
int process_on_signal(lua_State* L) {
  int sig = check_signal(L, 1);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  ensure_signal_state(L);
  if (lua_isnil(L, 2)) {
    lua_pushinteger(L, remove_handlers(L, sig, 2));
    return 1;
  }
  push_handlers(L, sig);
  bool first = lua_rawlen(L, -1) == 0;
  lua_pushvalue(L, 2);
  lua_rawseti(L, -2, static_cast<lua_Integer>(lua_rawlen(L, -2) + 1));
  lua_pop(L, 1);
  if (first) Engine::of(L).watch_signal(sig, true);
  lua_pushinteger(L, sig);
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, remove_one, 2);
  return 1;
}

}  // namespace

void open_process_self(lua_State* L, int module) {
  module = lua_absindex(L, module);
  const luaL_Reg env_meta[] = {{"__index", env_index},   {"__newindex", env_newindex}, {"__call", env_call},
                               {"__pairs", env_pairs},   {"__tostring", env_tostring}, {nullptr, nullptr}};
  new_metatable(L, kEnvType);
  set_funcs(L, env_meta);
  lua_pop(L, 1);
  lua_newuserdatauv(L, 0, 0);
  luaL_setmetatable(L, kEnvType);
  lua_setfield(L, module, "env");

  lua_getglobal(L, "os");
  lua_getfield(L, -1, "exit");
  lua_pushcclosure(L, process_exit, 1);
  lua_setfield(L, module, "exit");
  lua_pop(L, 1);
  const luaL_Reg funcs[] = {{"ppid", process_ppid},
                            {"on_signal", process_on_signal},
                            {"worker_id", process_worker_id},
                            {"workers", process_workers},
                            {nullptr, nullptr}};
  lua_pushvalue(L, module);
  set_funcs(L, funcs);
  lua_pop(L, 1);

  lua_createtable(L, 0, 1);  // process.args / process.script, built on first use
  lua_pushcfunction(L, process_lazy_index);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, module);
}

}  // namespace mw
