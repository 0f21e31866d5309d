// moonwire: the command line, compatible with `lua` (script, -e, -l, -i, -v, -E, -W, -, --),
// plus `moonwire test [paths]`.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

#include "runtime/embedded.hpp"
#include "runtime/engine.hpp"
#include "runtime/repl.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/workers.hpp"
#include "stdlib/stdlib.hpp"

namespace {

const char* progname = "moonwire";

constexpr const char* kUsage =
    "usage: moonwire [options] [script [args]]\n"
    "       moonwire test [test options] [paths...]   (moonwire test --help)\n"
    "Available options are:\n"
    "  -e stat   execute string 'stat'\n"
    "  -i        enter interactive mode after executing 'script'\n"
    "  -l mod    require library 'mod' into global 'mod'\n"
    "  -l g=mod  require library 'mod' into global 'g'\n"
    "  -v        show version information\n"
    "  -E        ignore environment variables (LUA_INIT, LUA_PATH, LUA_CPATH)\n"
    "  -W        turn warnings on\n"
    "  --types DIR  write the LuaLS type definitions into DIR (for an editor)\n"
    "  --workers N  run the script in N worker processes (1..1024, or 'auto': one per core)\n"
    "  --help    show this help\n"
    "  --        stop handling options\n"
    "  -         stop handling options and execute stdin\n";

#ifndef MW_VERSION
#define MW_VERSION "0.1.0"  // CMakeLists.txt passes project()'s version
#endif
void print_version() { std::printf("moonwire " MW_VERSION " (%s)\n", LUA_RELEASE); }

struct Args {
  int script = 0;  // index of the script in argv, 0 if none
  bool has_e = false, has_i = false, has_v = false, has_E = false;
};

// Like lua.c's collectargs. Returns false (after printing a message) on bad usage.
bool collect_args(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    const char* s = argv[i];
    if (s[0] != '-') {
      a.script = i;
      return true;
    }
    if (std::strcmp(s, "--help") == 0 || std::strcmp(s, "-h") == 0) {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    switch (s[1]) {
      case '-':
        if (s[2] != '\0') break;
        if (i + 1 < argc) a.script = i + 1;
        return true;
      case '\0':
        a.script = i;  // "-": stdin
        return true;
      case 'E':
        if (s[2] != '\0') break;
        a.has_E = true;
        continue;
      case 'W':
        if (s[2] != '\0') break;
        continue;
      case 'i':
        if (s[2] != '\0') break;
        a.has_i = a.has_v = true;
        continue;
      case 'v':
        if (s[2] != '\0') break;
        a.has_v = true;
        continue;
      case 'e':
        a.has_e = true;
        [[fallthrough]];
      case 'l':
        if (s[2] == '\0') {
          if (++i >= argc || argv[i][0] == '-') {
            std::fprintf(stderr, "%s: '%s' needs argument (try '%s --help')\n", progname, s, progname);
            return false;
          }
        }
        continue;
    }
    std::fprintf(stderr, "%s: unrecognized option '%s' (try '%s --help')\n", progname, s, progname);
    return false;
  }
  return true;
}

// arg table: arg[0] = script, negative indices = interpreter and options, positive = script args.
void create_arg_table(lua_State* L, int argc, char** argv, int script) {
  int base = script ? script : argc;
  if (!script) base = 0;
  lua_createtable(L, argc - base, base + 1);
  for (int i = 0; i < argc; ++i) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - base);
  }
  lua_setglobal(L, "arg");
}

void add_script_dir_to_path(lua_State* L, const char* script) {
  if (!script || std::strcmp(script, "-") == 0) return;
  std::string path(script);
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  if (dir.empty()) dir = "/";
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "path");
  std::string p = dir + "/?.lua;" + dir + "/?/init.lua;" + luaL_optstring(L, -1, "");
  lua_pop(L, 1);
  lua_pushstring(L, p.c_str());
  lua_setfield(L, -2, "path");
  lua_getfield(L, -1, "cpath");
  std::string cp = dir + "/?.so;" + luaL_optstring(L, -1, "");
  lua_pop(L, 1);
  lua_pushstring(L, cp.c_str());
  lua_setfield(L, -2, "cpath");
  lua_pop(L, 1);
}

// Steps the main task runs in order: {kind, value[, extra]} with kind "init", "e", "l",
// "script", "repl" or "test".
void add_step(lua_State* L, int steps, const char* kind, const char* value) {
  lua_createtable(L, 2, 0);
  lua_pushstring(L, kind);
  lua_rawseti(L, -2, 1);
  if (value) {
    lua_pushstring(L, value);
    lua_rawseti(L, -2, 2);
  }
  lua_rawseti(L, steps, static_cast<lua_Integer>(lua_rawlen(L, steps) + 1));
}

// The test runner's own parts (stdlib/lua/_test_*.lua): `require` does not find embedded
// modules whose names start with '_', so the runner loads them through this function, which
// the test step leaves in the registry as "moonwire.test_part".
int load_test_part(lua_State* L) {
  std::string name = std::string("_test_") + luaL_checkstring(L, 1);
  const mw::EmbeddedModule* m = mw::find_embedded(name.c_str());
  if (!m) return luaL_error(L, "no embedded module '%s'", name.c_str());
  std::string chunkname = "@[moonwire]/" + name + ".lua";
  if (luaL_loadbuffer(L, m->source, m->size, chunkname.c_str()) != LUA_OK) return lua_error(L);
  lua_call(L, 0, 1);
  return 1;
}

// A chunk that does not load (syntax error, missing file): one line, exit code 1.
int load_failed(lua_State* L) {
  std::fprintf(stderr, "%s: %s\n", progname, lua_tostring(L, -1));
  std::fflush(stderr);
  mw::Engine::of(L).request_exit(1);
  return 0;
}

int driver_k(lua_State* L, int status, lua_KContext ctx);

// The main task: stack [steps, script args...]. Each step's chunk is called with lua_callk so
// it may suspend; driver_k continues with the next step.
int run_step(lua_State* L, int i) {
  int nscript_args = static_cast<int>(lua_tointeger(L, lua_upvalueindex(1)));
  for (;; ++i) {
    if (lua_rawgeti(L, 1, i) == LUA_TNIL) return 0;
    lua_rawgeti(L, -1, 1);
    std::string_view kind = mw::to_sv(L, -1);
    lua_rawgeti(L, -2, 2);
    const char* value = lua_tostring(L, -1);
    lua_replace(L, -3);  // stack: ... value kind
    lua_pop(L, 1);       // stack: ... value
    int nargs = 0, nresults = 0;
    if (kind == "init") {
      int st = value[0] == '@' ? luaL_loadfile(L, value + 1) : luaL_loadbuffer(L, value, std::strlen(value), "=LUA_INIT");
      if (st != LUA_OK) return load_failed(L);
    } else if (kind == "e") {
      if (luaL_loadbuffer(L, value, std::strlen(value), "=(command line)") != LUA_OK) return load_failed(L);
    } else if (kind == "l") {
      const char* eq = std::strchr(value, '=');
      lua_getglobal(L, "require");
      lua_pushstring(L, eq ? eq + 1 : value);
      nargs = 1;
      nresults = 1;
    } else if (kind == "script") {
      const char* fname = std::strcmp(value, "-") == 0 ? nullptr : value;
      if (luaL_loadfile(L, fname) != LUA_OK) return load_failed(L);
      nargs = nscript_args;
      for (int k = 0; k < nargs; ++k) lua_pushvalue(L, 2 + k);
    } else if (kind == "repl") {
      mw::push_repl(L);
    } else if (kind == "test") {
      const mw::EmbeddedModule* m = mw::find_embedded("_testrunner");
      if (!m || luaL_loadbuffer(L, m->source, m->size, "@[moonwire]/_testrunner.lua") != LUA_OK) return load_failed(L);
      lua_pushcfunction(L, load_test_part);
      lua_setfield(L, LUA_REGISTRYINDEX, "moonwire.test_part");
      nargs = nscript_args;
      for (int k = 0; k < nargs; ++k) lua_pushvalue(L, 2 + k);
      nresults = 1;
    }
    lua_callk(L, nargs, nresults, i, driver_k);
    driver_k(L, LUA_OK, i);
    // driver_k only post-processes when called inline; continue with the next step.
  }
}

// After step ctx returned: store -l results, count test failures; then run the next steps.
int driver_k(lua_State* L, int status, lua_KContext ctx) {
  int i = static_cast<int>(ctx);
  lua_rawgeti(L, 1, i);
  lua_rawgeti(L, -1, 1);
  std::string_view kind = mw::to_sv(L, -1);
  if (kind == "l") {
    lua_rawgeti(L, -2, 2);
    const char* value = lua_tostring(L, -1);
    const char* eq = std::strchr(value, '=');
    std::string global = eq ? std::string(value, eq - value) : std::string(value);
    lua_pushvalue(L, -4);  // the module
    lua_setglobal(L, global.c_str());
    lua_pop(L, 1);
  } else if (kind == "test") {
    // Done: leftover tasks or listeners of the tests must not keep the run alive.
    mw::Engine& engine = mw::Engine::of(L);
    engine.scheduler().check_unhandled();
    engine.request_exit(lua_tointeger(L, -3) > 0 || engine.failed() ? 1 : 0);
  } else if (kind == "repl") {
    mw::Engine::of(L).request_exit(mw::Engine::of(L).failed() ? 1 : 0);
  }
  lua_settop(L, 1 + static_cast<int>(lua_tointeger(L, lua_upvalueindex(1))));
  if (status == LUA_YIELD) return run_step(L, i + 1);  // resumed after a suspension
  return 0;
}

int main_task(lua_State* L) { return run_step(L, 1); }

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 1 && argv[0] && argv[0][0]) progname = "moonwire";
  bool test_mode = argc >= 2 && std::strcmp(argv[1], "test") == 0;
  if (argc >= 2 && std::strcmp(argv[1], "--types") == 0) {
    if (argc != 3 || !argv[2][0]) {
      std::fprintf(stderr, "%s: usage: moonwire --types DIR\n", progname);
      return 1;
    }
    return mw::write_types(argv[2]);
  }
  Args a;
  if (int code; !test_mode && mw::workers::run_supervisor_if_asked(argc, argv, code)) return code;
  if (!test_mode && !collect_args(argc, argv, a)) return 1;

  mw::Engine engine{mw::open_stdlib};
  lua_State* L = engine.L();
  engine.watch_signals();

  lua_newtable(L);  // steps
  int steps = lua_gettop(L);
  int nscript_args = 0;
  if (test_mode) {
    create_arg_table(L, argc, argv, 1);
    add_step(L, steps, "test", nullptr);
    for (int i = 2; i < argc; ++i, ++nscript_args) lua_pushstring(L, argv[i]);
  } else {
    create_arg_table(L, argc, argv, a.script);
    if (a.has_v) print_version();
    if (a.has_E) {
      lua_pushboolean(L, 1);
      lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
      // The package library was opened (reading LUA_PATH/LUA_CPATH) when the engine was
      // created, before -E was seen: put the default paths back, as `lua -E` has them.
      lua_getglobal(L, "package");
      lua_pushliteral(L, LUA_PATH_DEFAULT);
      lua_setfield(L, -2, "path");
      lua_pushliteral(L, LUA_CPATH_DEFAULT);
      lua_setfield(L, -2, "cpath");
      lua_pop(L, 1);
    } else {
      const char* init = std::getenv("LUA_INIT_5_4");
      if (!init) init = std::getenv("LUA_INIT");
      if (init) add_step(L, steps, "init", init);
    }
    for (int i = 1; i < (a.script ? a.script : argc); ++i) {
      const char* s = argv[i];
      if (s[0] != '-') break;
      if (s[1] == 'e' || s[1] == 'l') {
        const char* v = s[2] ? s + 2 : argv[++i];
        add_step(L, steps, s[1] == 'e' ? "e" : "l", v);
      } else if (s[1] == 'W') {
        lua_warning(L, "@on", 0);
      }
    }
    if (a.script) {
      add_script_dir_to_path(L, argv[a.script]);
      add_step(L, steps, "script", argv[a.script]);
      for (int i = a.script + 1; i < argc; ++i, ++nscript_args) lua_pushstring(L, argv[i]);
    }
    bool tty = isatty(STDIN_FILENO);
    if (a.has_i || (!a.script && !a.has_e && !a.has_v && tty))
      add_step(L, steps, "repl", nullptr);
    else if (!a.script && !a.has_e && !a.has_v)
      add_step(L, steps, "script", "-");
  }
  // The main task function with its arguments: steps, then the script arguments.
  lua_pushinteger(L, nscript_args);
  lua_pushcclosure(L, main_task, 1);
  lua_insert(L, steps);
  int code = engine.run_main(1 + nscript_args);
  std::fflush(stdout);
  return code;
}
