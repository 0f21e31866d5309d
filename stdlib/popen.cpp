// io.popen through the process machinery: from a task, `io.popen(cmd, "r"|"w")` starts
// `/bin/sh -c cmd` with posix_spawn and returns a file whose read/lines/write/close suspend
// only the calling task (Lua's popen blocks the whole loop on every read and on pclose). The
// file keeps Lua's API: read formats, lines, write returning the file, close returning
// true|nil, "exit"|"signal", code. Where Lua cannot yield (a metamethod, a sort comparator)
// io.popen is Lua's own.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "runtime/coroutine.hpp"
#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/scheduler.hpp"
#include "stdlib/process.hpp"
#include "stdlib/process_child.hpp"

namespace mw {
namespace {

using namespace proc;

constexpr const char* kPopenType = "moonwire.popen";

struct PopenFile {
  std::shared_ptr<Running> r;
  bool writing = false;  // mode "w": we write its stdin; else we read its stdout
  bool closed = false;
};

PopenFile* check_file(lua_State* L) { return static_cast<PopenFile*>(check_udata(L, 1, kPopenType)); }

PopenFile* check_open(lua_State* L) {
  PopenFile* f = check_file(L);
  if (f->closed) raise(L, kClosed, "attempt to use a closed file");
  return f;
}

bool can_suspend(lua_State* L) {
  Task* t = Engine::of(L).scheduler().current();
  return t && lua_isyieldable(L) && chain_is_yieldable(L, t);
}

// Lua's failure triple: nil, message, errno.
int io_failure(lua_State* L, int err) {
  lua_pushnil(L);
  lua_pushstring(L, std::strerror(err));
  lua_pushinteger(L, err);
  return 3;
}

// io.popen(cmd[, mode])
int io_popen(lua_State* L) {
  if (!can_suspend(L)) {  // Lua's own, which may block: nothing else could run here anyway
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
  }
  std::string_view cmd = check_sv(L, 1);
  std::string_view mode = luaL_optstring(L, 2, "r");
  if (cmd.find('\0') != std::string_view::npos) value_error(L, 1, "command contains NUL");
  if (mode != "r" && mode != "w") value_error(L, 2, "invalid mode (\"r\" or \"w\")");
  bool writing = mode == "w";
  lua_settop(L, 2);
  Spec* spec = new_spec(L, "io.popen");  // 3
  spec->argv = {"/bin/sh", "-c", std::string(cmd)};
  lua_newtable(L);  // no options: environment inherited as is
  read_env(L, 4, *spec);
  lua_settop(L, 3);
  std::fflush(stdout);  // what the script printed comes before the child's output
  auto* f = new_object<PopenFile>(L, kPopenType, 0);  // 4
  f->writing = writing;
  int code;
  {
    // In this process's group and with its stderr, as Lua's popen: an interactive command
    // keeps the terminal.
    code = start_running(Engine::of(L).io(), *spec, writing ? Stream::pipe : Stream::inherit,
                         writing ? Stream::inherit : Stream::pipe, Stream::inherit, false, f->r);
  }
  if (code != 0) {  // as Lua: nil, message, errno
    f->closed = true;
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", std::string(cmd).c_str(), std::strerror(code));
    lua_pushinteger(L, code);
    return 3;
  }
  return 1;
}

int file_read(lua_State* L) {
  PopenFile* f = check_open(L);
  if (f->writing) return io_failure(L, EBADF);
  return read_formats(L, &f->r->out, 2, "read");
}

int file_lines(lua_State* L) {
  PopenFile* f = check_open(L);
  if (f->writing) raise(L, "EBADF", "lines: the file was opened for writing");
  return push_lines(L, &f->r->out, 1, 2, "lines");
}

int write_k(lua_State* L, int status, lua_KContext ctx) {
  if (lua_isboolean(L, -1)) {  // true; a failure is nil, message, errno
    lua_pushvalue(L, 1);  // the file, as Lua's write returns
    return 1;
  }
  return 3;  // nil, message, errno
}

int write_suspend(lua_State* L) {
  auto* f = static_cast<PopenFile*>(lua_touserdata(L, 1));
  std::string_view data = to_sv(L, 2);
  return suspend(L, "write", kForever, [&](const OpPtr& op) {
    std::make_shared<SocketWrite>(op, f->r, data, [](const OpPtr& op, size_t, int err) {
      op->resume([err = err == ECANCELED ? EBADF : err](lua_State* L) {
        if (err == 0) return lua_pushboolean(L, 1);
        lua_pushnil(L);
        lua_pushstring(L, std::strerror(err));
        lua_pushinteger(L, err);
      });
    })->step();
  });
}

// f:write(...) → f, once the child's input took it all; nil, "Broken pipe", 32 if it closed it.
int file_write(lua_State* L) {
  PopenFile* f = check_open(L);
  int n = lua_gettop(L);
  for (int i = 2; i <= n; ++i) luaL_checklstring(L, i, nullptr);  // strings or numbers, as Lua
  if (!f->writing) return io_failure(L, EBADF);
  if (!f->r->in.is_open()) return io_failure(L, EPIPE);
  lua_concat(L, n - 1);
  if (lua_rawlen(L, 2) == 0) return lua_settop(L, 1), 1;
  lua_pushcfunction(L, write_suspend);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_callk(L, 2, LUA_MULTRET, 0, write_k);
  return write_k(L, LUA_OK, 0);
}

void close_pipes(PopenFile* f) {
  error_code ec;
  f->r->in.close(ec);        // EOF for a "w" child
  f->r->out.pipe.close(ec);  // a "r" child writing more gets SIGPIPE, as with pclose
}

// true|nil, "exit"|"signal", code from the child's wait status.
void push_close_results(lua_State* L, int status) {
  bool signaled = WIFSIGNALED(status);
  if (!signaled && WEXITSTATUS(status) == 0) lua_pushboolean(L, 1);
  else lua_pushnil(L);
  lua_pushstring(L, signaled ? "signal" : "exit");
  lua_pushinteger(L, signaled ? WTERMSIG(status) : WEXITSTATUS(status));
}

// After the wait: Running's exit table → Lua's close results.
int close_k(lua_State* L, int, lua_KContext) {
  lua_getfield(L, -1, "status");
  lua_getfield(L, -2, "signal");
  bool signaled = !lua_isnil(L, -1);
  lua_Integer code = lua_tointeger(L, -2) - (signaled ? 128 : 0);
  if (!signaled && code == 0) lua_pushboolean(L, 1);
  else lua_pushnil(L);
  lua_pushstring(L, signaled ? "signal" : "exit");
  lua_pushinteger(L, code);
  return 3;
}

// f:close() → true|nil, "exit"|"signal", code once the command ended.
int file_close(lua_State* L) {
  PopenFile* f = check_open(L);
  f->closed = true;
  close_pipes(f);
  std::shared_ptr<Running>* r = &f->r;
  if ((*r)->exited) return push_close_results(L, (*r)->status), 3;
  if ((*r)->exit_waiter && (*r)->exit_waiter->active()) raise(L, kBusy, "close: another task is already waiting for this command");
  lua_settop(L, 1);  // keeps the file (and its child) alive while waiting
  lua_pushcfunction(L, [](lua_State* L) -> int {
    auto* f = static_cast<PopenFile*>(lua_touserdata(L, 1));
    return suspend(L, "close", kForever, [&](const OpPtr& op) { f->r->exit_waiter = op; });
  });
  lua_pushvalue(L, 1);
  lua_callk(L, 1, 1, 0, close_k);
  return close_k(L, LUA_OK, 0);
}

// f:seek(): a pipe cannot seek, as Lua reports it.
int file_seek(lua_State* L) {
  check_open(L);
  return io_failure(L, ESPIPE);
}

int file_flush(lua_State* L) {  // writes are not buffered here: each write waits until sent
  check_open(L);
  lua_settop(L, 1);
  return 1;
}

int file_setvbuf(lua_State* L) {
  check_open(L);
  lua_pushboolean(L, 1);
  return 1;
}

int file_tostring(lua_State* L) {
  PopenFile* f = check_file(L);
  if (f->closed) lua_pushliteral(L, "file (closed)");
  else lua_pushfstring(L, "file (%p)", static_cast<void*>(f));
  return 1;
}

// Collected while open: the pipes close (the child sees EOF or SIGPIPE) and it is still reaped.
int file_gc(lua_State* L) {
  PopenFile* f = static_cast<PopenFile*>(test_udata(L, 1, kPopenType));
  if (f && f->r && !f->closed) close_pipes(f);
  return gc_object<PopenFile>(L, kPopenType);
}

// A to-be-closed popen file going out of scope: its pipes close; the child is reaped when it
// exits (without waiting here: call close() for its status).
int file_tbc_close(lua_State* L) {
  PopenFile* f = check_file(L);
  if (!f->closed) close_pipes(f);
  f->closed = true;
  return 0;
}

// io.type(x): "file" / "closed file" for popen files too.
int io_type(lua_State* L) {
  if (auto* f = static_cast<PopenFile*>(test_udata(L, 1, kPopenType))) {
    lua_pushstring(L, f->closed ? "closed file" : "file");
    return 1;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

// io.close(f) for a popen file is f:close().
int io_close(lua_State* L) {
  if (test_udata(L, 1, kPopenType)) return file_close(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

}  // namespace

void open_popen(lua_State* L) {
  const luaL_Reg methods[] = {{"read", file_read},   {"lines", file_lines}, {"write", file_write},     {"close", file_close},
                              {"seek", file_seek},   {"flush", file_flush}, {"setvbuf", file_setvbuf}, {nullptr, nullptr}};
  const luaL_Reg meta[] = {{"__gc", file_gc}, {"__close", file_tbc_close}, {"__tostring", file_tostring}, {nullptr, nullptr}};
  new_class(L, kPopenType, methods, meta);
  lua_getglobal(L, "io");
  const luaL_Reg wrapped[] = {{"popen", io_popen}, {"type", io_type}, {"close", io_close}};
  for (auto [name, fn] : wrapped) {
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, -2, name);
  }
  lua_pop(L, 1);
}

}  // namespace mw
