// os_ext (CopperMoon): env, setenv, unsetenv, cwd, chdir, platform, arch, homedir, tmpdir,
// hostname, cpus. Each is also copied into `os` unless `os` already has that name (none of
// them replaces a standard function). All are quick system calls on the Lua thread: nothing
// here waits on the network or a child process.
#include <pwd.h>
#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "runtime/errors.hpp"
#include "stdlib/modules.hpp"

namespace mw {

namespace {

// Raises an error object for errno `err`: code "ENOENT", message "chdir: /x: No such file...".
[[noreturn]] void raise_errno(lua_State* L, int err, const char* what, const char* subject) {
  const char* name = strerrorname_np(err);
  if (subject)
    raisef(L, name ? name : "EIO", "%s: %s: %s", what, subject, std::strerror(err));
  raisef(L, name ? name : "EIO", "%s: %s", what, std::strerror(err));
}

// A variable name: non-empty, no '=' and no NUL (setenv(3) refuses those, or they would name
// another variable). Returns a message for what is wrong, or null.
const char* bad_env_name(std::string_view name) {
  if (name.empty()) return "variable name is empty";
  if (name.find('=') != std::string_view::npos) return "variable name contains '='";
  if (name.find('\0') != std::string_view::npos) return "variable name contains a NUL byte";
  return nullptr;
}

int os_env(lua_State* L) {
  std::string_view name = check_sv(L, 1);
  // A name that cannot be set is never set (and getenv would stop at a NUL: another variable).
  const char* v = bad_env_name(name) ? nullptr : std::getenv(name.data());
  if (v) lua_pushstring(L, v);
  else lua_pushnil(L);
  return 1;
}

int os_setenv(lua_State* L) {
  std::string_view name = check_sv(L, 1);
  std::string_view value = check_sv(L, 2);
  if (const char* bad = bad_env_name(name)) value_error(L, 1, bad);
  check_value(L, value.find('\0') == std::string_view::npos, 2, "value contains a NUL byte");
  if (::setenv(name.data(), value.data(), 1) != 0) raise_errno(L, errno, "setenv", name.data());
  return 0;
}

int os_unsetenv(lua_State* L) {
  std::string_view name = check_sv(L, 1);
  if (const char* bad = bad_env_name(name)) value_error(L, 1, bad);
  if (::unsetenv(name.data()) != 0) raise_errno(L, errno, "unsetenv", name.data());
  return 0;
}

int os_cwd(lua_State* L) {
  char buf[PATH_MAX + 1];
  if (::getcwd(buf, sizeof buf)) {
    lua_pushstring(L, buf);
    return 1;
  }
  int err = errno;
  if (err == ERANGE) {  // deeper than PATH_MAX: let glibc allocate
    if (char* p = ::getcwd(nullptr, 0)) {
      lua_pushstring(L, p);  // may raise (memory): p leaks then, as any malloc'd string would
      std::free(p);
      return 1;
    }
    err = errno;
  }
  raise_errno(L, err, "cwd", nullptr);
}

int os_chdir(lua_State* L) {
  std::string_view dir = check_sv(L, 1);
  check_value(L, !dir.empty(), 1, "path is empty");
  check_value(L, dir.find('\0') == std::string_view::npos, 1, "path contains a NUL byte");
  if (::chdir(dir.data()) != 0) raise_errno(L, errno, "chdir", dir.data());
  lua_pushboolean(L, 1);  // CopperMoon returns true
  return 1;
}

// The names Rust's std::env::consts use (CopperMoon's values).
int os_platform(lua_State* L) {
#if defined(__linux__)
  lua_pushliteral(L, "linux");
#elif defined(__APPLE__)
  lua_pushliteral(L, "macos");
#elif defined(__FreeBSD__)
  lua_pushliteral(L, "freebsd");
#else
  struct utsname u;
  if (::uname(&u) == 0) {
    for (char* c = u.sysname; *c; ++c) *c = static_cast<char>(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
    lua_pushstring(L, u.sysname);
  } else {
    lua_pushliteral(L, "unknown");
  }
#endif
  return 1;
}

int os_arch(lua_State* L) {
#if defined(__x86_64__)
  lua_pushliteral(L, "x86_64");
#elif defined(__aarch64__)
  lua_pushliteral(L, "aarch64");
#elif defined(__i386__)
  lua_pushliteral(L, "x86");
#elif defined(__arm__)
  lua_pushliteral(L, "arm");
#elif defined(__riscv) && __riscv_xlen == 64
  lua_pushliteral(L, "riscv64");
#elif defined(__powerpc64__)
  lua_pushliteral(L, "powerpc64");
#elif defined(__s390x__)
  lua_pushliteral(L, "s390x");
#else
  struct utsname u;
  if (::uname(&u) == 0) lua_pushstring(L, u.machine);
  else lua_pushliteral(L, "unknown");
#endif
  return 1;
}

// $HOME when set and not empty, else the user database's home directory; nil if neither.
int os_homedir(lua_State* L) {
  const char* home = std::getenv("HOME");
  if (home && *home) {
    lua_pushstring(L, home);
    return 1;
  }
  char buf[4096];
  struct passwd pw;
  struct passwd* found = nullptr;
  if (::getpwuid_r(::getuid(), &pw, buf, sizeof buf, &found) == 0 && found && found->pw_dir && *found->pw_dir)
    lua_pushstring(L, found->pw_dir);
  else
    lua_pushnil(L);
  return 1;
}

// $TMPDIR when set and not empty, else "/tmp"; without trailing slashes (as Node's os.tmpdir).
int os_tmpdir(lua_State* L) {
  const char* t = std::getenv("TMPDIR");
  std::string_view dir = t && *t ? std::string_view(t) : std::string_view("/tmp");
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  push_sv(L, dir);
  return 1;
}

int os_hostname(lua_State* L) {
  char buf[HOST_NAME_MAX + 2] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) raise_errno(L, errno, "hostname", nullptr);
  lua_pushstring(L, buf);
  return 1;
}

// CPUs this process may run on (its affinity mask, as Rust's available_parallelism and
// nproc(1)); at least 1.
int os_cpus(lua_State* L) {
  lua_Integer n = 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
  if (n <= 0) n = ::sysconf(_SC_NPROCESSORS_ONLN);
  lua_pushinteger(L, n > 0 ? n : 1);
  return 1;
}

}  // namespace

int open_os_ext(lua_State* L) {
  const luaL_Reg funcs[] = {{"env", os_env},         {"setenv", os_setenv},   {"unsetenv", os_unsetenv},
                            {"cwd", os_cwd},         {"chdir", os_chdir},     {"platform", os_platform},
                            {"arch", os_arch},       {"homedir", os_homedir}, {"tmpdir", os_tmpdir},
                            {"hostname", os_hostname}, {"cpus", os_cpus},     {nullptr, nullptr}};
  luaL_newlib(L, funcs);
  // Merged into `os`, never replacing what is there (a standard function or a user's).
  if (lua_getglobal(L, "os") == LUA_TTABLE) {
    for (const luaL_Reg* f = funcs; f->name; ++f) {
      if (lua_getfield(L, -1, f->name) == LUA_TNIL) {
        lua_getfield(L, -3, f->name);
        lua_setfield(L, -3, f->name);
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  return 1;
}

}  // namespace mw
