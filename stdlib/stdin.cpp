// io.read, io.lines() and io.stdin:read/lines on a pipe or a terminal suspend only the calling
// task. A helper thread does the blocking read(2) of fd 0 (setting O_NONBLOCK on it would change
// the terminal or pipe for the processes that share it) and posts each chunk to the loop. A
// regular file on stdin keeps Lua's own functions: reading a file never waits.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "runtime/coroutine.hpp"
#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/modules.hpp"
#include "stdlib/reader.hpp"

namespace mw {
namespace {

namespace asio = boost::asio;

// Reads fd 0 on its own thread, one chunk per request. Lives until exit: its thread may be
// blocked in read(2) when the engine ends.
struct StdinReader : Source {
  std::mutex mutex;
  std::condition_variable cv;
  bool requested = false;
  asio::io_context* io = nullptr;
  bool reading = false;  // a request is out
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;

  void run() {
    char chunk[65536];
    for (;;) {
      {
        std::unique_lock lock(mutex);
        cv.wait(lock, [this] { return requested; });
        requested = false;
      }
      ssize_t n;
      do n = ::read(STDIN_FILENO, chunk, sizeof chunk);
      while (n < 0 && errno == EINTR);
      std::string data = n > 0 ? std::string(chunk, static_cast<size_t>(n)) : std::string();
      bool end = n <= 0;
      asio::post(*io, [this, data = std::move(data), end] {
        reading = false;
        guard.reset();
        arrived(data, end);
      });
      if (end) return;
    }
  }

  void request() override {
    if (reading || eof) return;
    reading = true;
    guard.emplace(io->get_executor());  // a pending read keeps the process alive
    {
      std::lock_guard lock(mutex);
      requested = true;
    }
    cv.notify_one();
  }
};

StdinReader* g_stdin = nullptr;

StdinReader& stdin_reader(lua_State* L) {
  if (!g_stdin) {
    g_stdin = new StdinReader();
    g_stdin->io = &Engine::of(L).io();
    std::thread([r = g_stdin] { r->run(); }).detach();
  }
  return *g_stdin;
}

bool stdin_waits() {
  struct stat st;
  return ::fstat(STDIN_FILENO, &st) == 0 && !S_ISREG(st.st_mode);
}

// Where a task can wait for stdin; elsewhere (a metamethod, no task) Lua's own blocking read.
bool can_suspend(lua_State* L) {
  Task* t = Engine::of(L).scheduler().current();
  return t && lua_isyieldable(L) && chain_is_yieldable(L, t);
}

int call_original(lua_State* L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

int io_read(lua_State* L) {
  if (!can_suspend(L) || !stdin_waits()) return call_original(L);
  // io.read reads the default input, which is stdin unless io.input() changed it.
  lua_getglobal(L, "io");
  lua_getfield(L, -1, "input");
  lua_call(L, 0, 1);
  lua_getglobal(L, "io");
  lua_getfield(L, -1, "stdin");
  bool is_stdin = lua_rawequal(L, -1, -3);
  lua_pop(L, 4);
  if (!is_stdin) return call_original(L);
  if (lua_gettop(L) > 250) return luaL_error(L, "too many arguments");
  return read_formats(L, &stdin_reader(L), 1, "io.read");
}

// io.stdin:read(...)
int stdin_read(lua_State* L) {
  lua_getglobal(L, "io");
  lua_getfield(L, -1, "stdin");
  bool is_stdin = lua_rawequal(L, -1, 1);
  lua_pop(L, 2);
  if (!is_stdin || !can_suspend(L) || !stdin_waits()) return call_original(L);
  return read_formats(L, &stdin_reader(L), 2, "io.read");
}

int io_lines(lua_State* L) {
  if (!lua_isnoneornil(L, 1) || !stdin_waits()) return call_original(L);  // a file name: Lua's
  lua_settop(L, lua_gettop(L) < 1 ? 1 : lua_gettop(L));
  lua_remove(L, 1);
  lua_pushnil(L);  // nothing to keep alive: the reader lives until exit
  lua_insert(L, 1);
  return push_lines(L, &stdin_reader(L), 1, 2, "io.lines");
}

int stdin_lines(lua_State* L) {
  lua_getglobal(L, "io");
  lua_getfield(L, -1, "stdin");
  bool is_stdin = lua_rawequal(L, -1, 1);
  lua_pop(L, 2);
  if (!is_stdin || !stdin_waits()) return call_original(L);
  return push_lines(L, &stdin_reader(L), 1, 2, "io.lines");
}

void wrap(lua_State* L, int table, const char* name, lua_CFunction f) {
  lua_getfield(L, table, name);
  lua_pushcclosure(L, f, 1);
  lua_setfield(L, table, name);
}

}  // namespace

// Installs the waiting versions (the originals stay as upvalues for files and regular stdin).
int open_stdin(lua_State* L) {
  lua_getglobal(L, "io");
  int io = lua_gettop(L);
  wrap(L, io, "read", io_read);
  wrap(L, io, "lines", io_lines);
  lua_getfield(L, io, "stdin");
  if (lua_getmetatable(L, -1) && lua_getfield(L, -1, "__index") == LUA_TTABLE) {
    int methods = lua_gettop(L);
    wrap(L, methods, "read", stdin_read);
    wrap(L, methods, "lines", stdin_lines);
  }
  lua_settop(L, io - 1);
  return 0;
}

}  // namespace mw
