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

namespace mw {
namespace {

namespace asio = boost::asio;

// Reads fd 0 on its own thread, one chunk per request. Lives until exit: its thread may be
// blocked in read(2) when the engine ends.
struct StdinReader {
  std::mutex mutex;
  std::condition_variable cv;
  bool requested = false;
  asio::io_context* io = nullptr;
  std::string buffer;  // loop side: read but not yet consumed
  bool eof = false;
  bool reading = false;  // a request is out
  OpPtr waiter;
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
      asio::post(*io, [this, data = std::move(data), end] { arrived(data, end); });
      if (end) return;
    }
  }

  void request() {
    if (reading || eof) return;
    reading = true;
    guard.emplace(io->get_executor());  // a pending read keeps the process alive
    {
      std::lock_guard lock(mutex);
      requested = true;
    }
    cv.notify_one();
  }

  void arrived(const std::string& data, bool end) {
    reading = false;
    guard.reset();
    buffer += data;
    eof = eof || end;
    if (OpPtr op = std::move(waiter); op && op->active()) op->resume();  // the reader looks again
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

// --- one read format on the buffer -------------------------------------------------------------

enum class Got { value, none, more };  // pushed a value / nothing there (nil) / need more data

Got read_line(lua_State* L, StdinReader& r, bool keep_newline) {
  size_t nl = r.buffer.find('\n');
  if (nl == std::string::npos && !r.eof) return Got::more;
  if (nl == std::string::npos && r.buffer.empty()) return Got::none;
  size_t take = nl == std::string::npos ? r.buffer.size() : nl + 1;
  size_t len = nl == std::string::npos || keep_newline ? take : nl;
  lua_pushlstring(L, r.buffer.data(), len);
  r.buffer.erase(0, take);
  return Got::value;
}

Got read_count(lua_State* L, StdinReader& r, size_t n) {
  if (n == 0) {  // as Lua: "" unless at end of file
    if (r.buffer.empty() && !r.eof) return Got::more;
    if (r.buffer.empty()) return Got::none;
    lua_pushliteral(L, "");
    return Got::value;
  }
  if (r.buffer.size() < n && !r.eof) return Got::more;
  if (r.buffer.empty()) return Got::none;
  size_t take = std::min(n, r.buffer.size());
  lua_pushlstring(L, r.buffer.data(), take);
  r.buffer.erase(0, take);
  return Got::value;
}

Got read_all(lua_State* L, StdinReader& r) {
  if (!r.eof) return Got::more;
  push_sv(L, r.buffer);
  r.buffer.clear();
  return Got::value;
}

// A numeral as Lua's "n" reads it (liolib's l_getn): whitespace, then the longest prefix that
// can start a numeral: sign, "0x", digits, a point, digits, an exponent. What does not fit
// stays in the buffer; the text read is then converted (fail → nil).
class NumeralScan {
 public:
  NumeralScan(const std::string& b, bool eof) : b_(b), eof_(eof) {}
  // False when the buffer ended before the numeral did (more data is needed).
  bool scan() {
    while (more() && std::isspace(static_cast<unsigned char>(b_[i_]))) ++i_;
    if (!more()) return eof_;
    start_ = i_;
    test2("-+");
    bool hex = false;
    int count = 0;
    if (test2("00")) {
      if (test2("xX")) hex = true;
      else count = 1;
    }
    count += digits(hex);
    if (test2("..")) count += digits(hex);
    if (count > 0 && test2(hex ? "pP" : "eE")) {
      test2("-+");
      digits(false);
    }
    return !truncated_;
  }
  size_t start() const { return start_; }
  size_t end() const { return i_; }

 private:
  bool more() {
    if (i_ < b_.size()) return true;
    if (!eof_) truncated_ = true;
    return false;
  }
  bool test2(const char* set) {
    if (i_ - start_ >= 200 || !more() || (b_[i_] != set[0] && b_[i_] != set[1])) return false;
    ++i_;
    return true;
  }
  int digits(bool hex) {
    int n = 0;
    while (i_ - start_ < 200 && more() &&
           (hex ? std::isxdigit(static_cast<unsigned char>(b_[i_])) : std::isdigit(static_cast<unsigned char>(b_[i_])))) {
      ++i_;
      ++n;
    }
    return n;
  }
  const std::string& b_;
  bool eof_;
  size_t i_ = 0, start_ = 0;
  bool truncated_ = false;
};

Got read_number(lua_State* L, StdinReader& r) {
  NumeralScan scan(r.buffer, r.eof);
  if (!scan.scan()) return Got::more;
  std::string numeral = r.buffer.substr(scan.start(), scan.end() - scan.start());
  r.buffer.erase(0, scan.end());
  if (numeral.empty() || lua_stringtonumber(L, numeral.c_str()) == 0) lua_pushnil(L);  // as Lua: fail
  return Got::value;
}

// Reads the format at stack index `fmt`; pushes the result or reports that more data is needed.
Got read_format(lua_State* L, StdinReader& r, int fmt) {
  if (lua_type(L, fmt) == LUA_TNUMBER) {
    lua_Integer n = lua_tointeger(L, fmt);
    return read_count(L, r, n < 0 ? 0 : static_cast<size_t>(n));
  }
  const char* p = luaL_checkstring(L, fmt);
  if (*p == '*') ++p;  // Lua 5.1/5.2 style "*l"
  switch (*p) {
    case 'l': return read_line(L, r, false);
    case 'L': return read_line(L, r, true);
    case 'n': return read_number(L, r);
    case 'a': return read_all(L, r);
  }
  return luaL_argerror(L, fmt, "invalid format"), Got::none;
}

// --- io.read / io.stdin:read -------------------------------------------------------------------

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

// Loops until a read completes: after each suspension the reader looks at the buffer again.
int read_loop(lua_State* L, int first);

int read_loop_k(lua_State* L, int status, lua_KContext ctx) {
  lua_settop(L, static_cast<int>(ctx >> 8));  // drop the suspension's (empty) results
  return read_loop(L, static_cast<int>(ctx & 0xff));
}

int read_loop(lua_State* L, int first) {
  StdinReader& r = stdin_reader(L);
  int top = lua_gettop(L);
  int nformats = top - first + 1;
  if (nformats <= 0) {
    lua_pushliteral(L, "l");
    ++top;
    nformats = 1;
  }
  std::string saved = r.buffer;
  bool saved_eof = r.eof;
  int base = lua_gettop(L);
  for (int i = 0; i < nformats; ++i) {
    Got g = read_format(L, r, first + i);
    if (g == Got::value) continue;
    if (g == Got::none) {
      lua_pushnil(L);
      return lua_gettop(L) - base;
    }
    // more: put back what this call took, wait for data, try again
    lua_settop(L, base);
    r.buffer = std::move(saved);
    r.eof = saved_eof;
    r.request();
    lua_pushcfunction(L, [](lua_State* L) -> int {
      StdinReader& r = stdin_reader(L);
      return suspend(L, "io.read", kForever, [&](const OpPtr& op) {
        r.waiter = op;
        op->on_abandon([&r] { r.waiter.reset(); });
      });
    });
    lua_callk(L, 0, 0, (static_cast<lua_KContext>(top) << 8) | first, read_loop_k);
    return read_loop_k(L, LUA_OK, (static_cast<lua_KContext>(top) << 8) | first);
  }
  return lua_gettop(L) - base;
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
  return read_loop(L, 1);
}

// io.stdin:read(...)
int stdin_read(lua_State* L) {
  lua_getglobal(L, "io");
  lua_getfield(L, -1, "stdin");
  bool is_stdin = lua_rawequal(L, -1, 1);
  lua_pop(L, 2);
  if (!is_stdin || !can_suspend(L) || !stdin_waits()) return call_original(L);
  if (lua_gettop(L) > 250) return luaL_error(L, "too many arguments");
  return read_loop(L, 2);
}

// The iterator of io.lines() / io.stdin:lines(...): formats in its upvalues.
int lines_step(lua_State* L) {
  int n = static_cast<int>(lua_tointeger(L, lua_upvalueindex(1)));
  lua_settop(L, 0);
  for (int i = 1; i <= n; ++i) lua_pushvalue(L, lua_upvalueindex(1 + i));
  return read_loop(L, 1);
}

int push_lines_iterator(lua_State* L, int first) {
  int n = lua_gettop(L) - first + 1;
  if (n > 250) return luaL_error(L, "too many arguments");
  if (n <= 0) {
    lua_pushliteral(L, "l");
    n = 1;
  }
  lua_pushinteger(L, n);
  lua_insert(L, first);
  lua_pushcclosure(L, lines_step, n + 1);
  return 1;
}

int io_lines(lua_State* L) {
  if (!lua_isnoneornil(L, 1) || !stdin_waits()) return call_original(L);  // a file name: Lua's
  lua_settop(L, lua_gettop(L) < 1 ? 1 : lua_gettop(L));
  lua_remove(L, 1);
  return push_lines_iterator(L, 1);
}

int stdin_lines(lua_State* L) {
  lua_getglobal(L, "io");
  lua_getfield(L, -1, "stdin");
  bool is_stdin = lua_rawequal(L, -1, 1);
  lua_pop(L, 2);
  if (!is_stdin || !stdin_waits()) return call_original(L);
  return push_lines_iterator(L, 2);
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
