#include "runtime/repl.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <termios.h>
#include <thread>
#include <unistd.h>

#include <dlfcn.h>

#include "runtime/embedded.hpp"
#include "runtime/engine.hpp"
#include "runtime/suspend.hpp"

namespace mw {

namespace {

// libedit, loaded when the REPL first reads from a terminal (keeps it off the startup path).
struct Edit {
  char* (*readline)(const char*) = nullptr;
  int (*add_history)(const char*) = nullptr;
  void (*using_history)() = nullptr;
  int (*read_history)(const char*) = nullptr;
  int (*write_history)(const char*) = nullptr;
  int (*forced_update_display)() = nullptr;  // redraws the prompt and the line being typed
  bool load() {
    void* h = dlopen("libedit.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!h) return false;
    readline = reinterpret_cast<char* (*)(const char*)>(dlsym(h, "readline"));
    add_history = reinterpret_cast<int (*)(const char*)>(dlsym(h, "add_history"));
    using_history = reinterpret_cast<void (*)()>(dlsym(h, "using_history"));
    read_history = reinterpret_cast<int (*)(const char*)>(dlsym(h, "read_history"));
    write_history = reinterpret_cast<int (*)(const char*)>(dlsym(h, "write_history"));
    // libedit must not touch signal handlers: it saves the SIGINT/SIGTERM handlers when a
    // readline call starts (on this reader thread) and puts them back when it ends, which
    // silently undid the engine's handlers when they were installed meanwhile, so Ctrl-C at
    // the prompt killed the process instead of the graceful shutdown (exit 130).
    if (auto* catch_signals = static_cast<int*>(dlsym(h, "rl_catch_signals"))) *catch_signals = 0;
    forced_update_display = reinterpret_cast<int (*)()>(dlsym(h, "rl_forced_update_display"));
    return readline && add_history && using_history && read_history && write_history;
  }
};
Edit g_edit;
bool g_have_edit = false;

// Reads lines on its own thread; each request is answered by posting to the engine's loop.
struct LineReader {
  std::mutex mutex;
  std::condition_variable cv;
  bool requested = false;
  std::string prompt;
  bool tty = false;
  std::string history_file;
  // Main-thread side.
  OpPtr pending;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard;
  Engine* engine = nullptr;

  void run() {
    for (;;) {
      std::string p;
      {
        std::unique_lock lock(mutex);
        cv.wait(lock, [this] { return requested; });
        requested = false;
        p = prompt;
      }
      std::optional<std::string> line = read_one(p);
      boost::asio::post(engine->io(), [this, line = std::move(line)] { deliver(line); });
      if (!line) return;
    }
  }

  std::optional<std::string> read_one(const std::string& p) {
    if (tty && g_have_edit) {
      char* s = g_edit.readline(p.c_str());
      if (!s) return std::nullopt;
      std::string line(s);
      std::free(s);
      return line;
    }
    if (tty) {  // no libedit: plain prompt and line
      std::fputs(p.c_str(), stdout);
      std::fflush(stdout);
    }
    char* buf = nullptr;
    size_t cap = 0;
    ssize_t n = ::getline(&buf, &cap, stdin);
    if (n < 0) {
      std::free(buf);
      return std::nullopt;
    }
    std::string line(buf, static_cast<size_t>(n));
    std::free(buf);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    return line;
  }

  void deliver(const std::optional<std::string>& line) {
    guard.reset();
    OpPtr op = std::move(pending);
    if (!op || !op->active()) return;
    op->resume([&](lua_State* L) {
      if (line)
        lua_pushlstring(L, line->data(), line->size());
      else
        lua_pushnil(L);
    });
  }
};

LineReader* g_reader = nullptr;
struct termios g_saved_termios;
bool g_termios_saved = false;

void restore_terminal() {
  if (g_termios_saved) tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
  if (g_reader && g_reader->tty && g_have_edit && !g_reader->history_file.empty())
    g_edit.write_history(g_reader->history_file.c_str());
}

LineReader& reader(lua_State* L) {
  if (!g_reader) {
    g_reader = new LineReader();  // lives until exit: its thread may still block in readline
    g_reader->engine = &Engine::of(L);
    g_reader->tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    if (g_reader->tty) {
      g_termios_saved = tcgetattr(STDIN_FILENO, &g_saved_termios) == 0;
      g_have_edit = g_edit.load();
      if (g_have_edit) g_edit.using_history();
      if (const char* home = std::getenv("HOME"); home && g_have_edit) {
        g_reader->history_file = std::string(home) + "/.moonwire_history";
        g_edit.read_history(g_reader->history_file.c_str());
      }
    }
    std::atexit(restore_terminal);
    std::thread([r = g_reader] { r->run(); }).detach();
  }
  return *g_reader;
}

int repl_readline(lua_State* L) {
  const char* prompt = luaL_optstring(L, 1, "> ");
  LineReader& r = reader(L);
  return suspend(L, "readline", -1, [&](const OpPtr& op) {
    r.pending = op;
    r.guard.emplace(r.engine->io().get_executor());  // a waiting prompt keeps the process alive
    op->on_abandon([&r] { r.guard.reset(); });
    {
      std::lock_guard lock(r.mutex);
      r.prompt = prompt;
      r.requested = true;
    }
    r.cv.notify_one();
  });
}

// Output from a task while the prompt waits: the prompt line is erased before it and drawn
// again after it (with what was typed so far), so the prompt never ends up above the output.
bool prompt_showing() { return g_reader && g_reader->tty && g_reader->pending && g_reader->pending->active(); }

int repl_output_begin(lua_State* L) {
  if (!prompt_showing()) return 0;
  std::fflush(stdout);
  std::fputs("\r\033[K", stdout);
  return 0;
}

int repl_output_end(lua_State* L) {
  if (!prompt_showing()) return 0;
  std::fflush(stdout);
  // libedit redraws its prompt and the line being typed. Its reader thread is blocked reading
  // the terminal meanwhile; a key pressed at this very moment could interleave with the redraw.
  if (g_have_edit && g_edit.forced_update_display) {
    g_edit.forced_update_display();
    return 0;
  }
  std::string prompt;
  {
    std::lock_guard lock(g_reader->mutex);
    prompt = g_reader->prompt;
  }
  std::fputs(prompt.c_str(), stdout);
  std::fflush(stdout);
  return 0;
}

int repl_add_history(lua_State* L) {
  const char* line = luaL_checkstring(L, 1);
  if (g_reader && g_reader->tty && g_have_edit && *line) g_edit.add_history(line);
  return 0;
}

}  // namespace

void push_repl(lua_State* L) {
  const EmbeddedModule* m = find_embedded("_repl");
  if (!m || luaL_loadbuffer(L, m->source, m->size, "=[moonwire repl]") != LUA_OK) lua_error(L);
  lua_pushcfunction(L, repl_readline);
  lua_pushcfunction(L, repl_add_history);
  lua_pushboolean(L, isatty(STDIN_FILENO) && isatty(STDOUT_FILENO));
  lua_pushstring(L, LUA_RELEASE);
  lua_pushcfunction(L, repl_output_begin);
  lua_pushcfunction(L, repl_output_end);
  // The loop receives (readline, add_history, is_tty, lua_release, output_begin, output_end)
  // through a wrapper closure.
  lua_pushcclosure(
      L,
      [](lua_State* L) -> int {
        for (int i = 1; i <= 7; ++i) lua_pushvalue(L, lua_upvalueindex(i));
        lua_callk(L, 6, 0, 0, [](lua_State*, int, lua_KContext) { return 0; });
        return 0;
      },
      7);
}

}  // namespace mw
