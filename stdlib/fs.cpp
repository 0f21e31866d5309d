// fs: files and directories (CopperMoon's names and argument orders). Every call that touches the
// disk runs on a small process-wide worker pool (4 threads, started on first use); its result is
// posted back to the engine's loop, which resumes the waiting task: only that task waits. Errors
// are error objects with the errno name as code and a message naming the call and the path.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <filesystem>
#include <functional>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/buffer.hpp"
#include "stdlib/fs.hpp"
#include "stdlib/modules.hpp"

namespace mw {

boost::asio::thread_pool& fs_workers() {
  // Never destroyed: a job still running at exit must not be joined by a static destructor.
  static auto* pool = new boost::asio::thread_pool(4);
  return *pool;
}

namespace {

namespace asio = boost::asio;

// What a job hands back to the loop: an error, or one value of some kind.
struct Result {
  enum Kind { none, boolean, integer, string, bytes, names, stat };
  Kind kind = none;
  int err = 0;
  std::string message;  // when err != 0
  bool b = false;
  int64_t n = 0;
  std::string s;
  std::vector<std::string> list;
  struct stat st {};
  bool link = false;
};

asio::thread_pool& workers() { return fs_workers(); }

std::string qp(const std::string& p) { return "'" + p + "'"; }

Result failure(const char* fname, const std::string& what, int err) {
  Result r;
  r.err = err;
  r.message = std::string(fname) + ": " + what + ": " + std::strerror(err);
  return r;
}

void push_stat(lua_State* L, const Result& r) {
  const struct stat& st = r.st;
  lua_createtable(L, 0, 10);
  lua_pushinteger(L, st.st_size);
  lua_setfield(L, -2, "size");
  lua_pushinteger(L, st.st_mode);
  lua_setfield(L, -2, "mode");
  char perm[10];
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) perm[i] = (st.st_mode & (0400 >> i)) ? rwx[i] : '-';
  lua_pushlstring(L, perm, 9);
  lua_setfield(L, -2, "permissions");
  lua_pushboolean(L, S_ISREG(st.st_mode));
  lua_setfield(L, -2, "is_file");
  lua_pushboolean(L, S_ISDIR(st.st_mode));
  lua_setfield(L, -2, "is_dir");
  lua_pushboolean(L, r.link);
  lua_setfield(L, -2, "is_symlink");
  auto secs = [](const timespec& ts) { return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9; };
  lua_pushnumber(L, secs(st.st_mtim));
  lua_setfield(L, -2, "mtime");
  lua_pushnumber(L, secs(st.st_atim));
  lua_setfield(L, -2, "atime");
  lua_pushnumber(L, secs(st.st_ctim));
  lua_setfield(L, -2, "ctime");
}

void push_result(lua_State* L, const Result& r) {
  switch (r.kind) {
    case Result::none: lua_pushboolean(L, 1); break;
    case Result::boolean: lua_pushboolean(L, r.b); break;
    case Result::integer: lua_pushinteger(L, r.n); break;
    case Result::string: push_sv(L, r.s); break;
    case Result::bytes: push_buffer(L, r.s); break;
    case Result::names:
      lua_createtable(L, int(r.list.size()), 0);
      for (size_t i = 0; i < r.list.size(); ++i) {
        push_sv(L, r.list[i]);
        lua_rawseti(L, -2, lua_Integer(i + 1));
      }
      break;
    case Result::stat: push_stat(L, r); break;
  }
}

// Runs `job` on the pool; the task waits (one suspension) for its result. Only trivially
// destructible locals here: the strings live in the job, built inside suspend's inner scope.
// `make` (trivially destructible: it captures views) builds the job, which owns its strings.
template <class Make>
int run(lua_State* L, const char* fname, Make make) {
  return suspend(L, fname, kForever, [&](const OpPtr& op) {
    auto job = make();
    auto& io = op->engine().io();
    // The guard keeps the loop running until the result is back.
    auto guard = std::make_shared<asio::executor_work_guard<asio::io_context::executor_type>>(io.get_executor());
    asio::post(workers(), [op, guard, &io, job = std::move(job)]() mutable {
      auto result = std::make_shared<Result>(job());
      asio::post(io, [op, guard, result]() {
        if (!op->active()) return;
        if (result->err) return op->fail(strerrorname_np(result->err) ? strerrorname_np(result->err) : "EIO", result->message);
        op->resume([result](lua_State* L) { push_result(L, *result); });
      });
    });
  });
}

// A path argument: a string without NUL (else EINVAL).
std::string_view check_path(lua_State* L, int idx) {
  std::string_view p = check_sv(L, idx);
  if (p.find('\0') != std::string_view::npos) value_error(L, idx, "path contains NUL");
  if (p.empty()) value_error(L, idx, "path is empty");
  return p;
}

// ---- jobs (worker threads: no Lua here) ----

Result read_file(const char* fname, const std::string& path, Result::Kind kind) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failure(fname, "cannot open " + qp(path), errno);
  Result r;
  r.kind = kind;
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return failure(fname, "cannot read " + qp(path), EISDIR);
  }
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) r.s.reserve(size_t(st.st_size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return failure(fname, "cannot read " + qp(path), e);
    }
    if (n == 0) break;
    r.s.append(buf, size_t(n));
  }
  ::close(fd);
  return r;
}

Result write_file(const char* fname, const std::string& path, const std::string& data, bool append) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0666);
  if (fd < 0) return failure(fname, "cannot open " + qp(path), errno);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, std::min<size_t>(data.size() - off, size_t(1) << 24));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return failure(fname, "cannot write " + qp(path), e);
    }
    off += size_t(n);
  }
  if (::close(fd) != 0 && errno != EINTR) return failure(fname, "cannot write " + qp(path), errno);
  return {};
}

Result copy_file(const char* fname, const std::string& from, const std::string& to) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return failure(fname, "cannot open " + qp(from), errno);
  struct stat st;
  if (::fstat(in, &st) != 0 || S_ISDIR(st.st_mode)) {
    int e = S_ISDIR(st.st_mode) ? EISDIR : errno;
    ::close(in);
    return failure(fname, "cannot copy " + qp(from), e);
  }
  int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 07777);
  if (out < 0) {
    int e = errno;
    ::close(in);
    return failure(fname, "cannot open " + qp(to), e);
  }
  Result r;
  r.kind = Result::integer;
  // In the kernel first (copy_file_range: no copy through user space, a reflink where the file
  // system can); read/write where it cannot (another file system on old kernels, /proc, pipes).
  for (;;) {
    ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, size_t(1) << 30, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (r.n == 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP || errno == EBADF)) break;
      int e = errno;
      ::close(in), ::close(out);
      return failure(fname, "cannot copy " + qp(from) + " to " + qp(to), e);
    }
    if (n == 0) {
      if (r.n == 0 && st.st_size == 0) break;  // empty, or a file that reports no size (/proc): read it
      ::close(in);
      if (::close(out) != 0 && errno != EINTR) return failure(fname, "cannot write " + qp(to), errno);
      return r;
    }
    r.n += n;
  }
  std::vector<char> buf(size_t(1) << 20);
  for (;;) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(in), ::close(out);
      return failure(fname, "cannot read " + qp(from), e);
    }
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(out, buf.data() + off, size_t(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        int e = errno;
        ::close(in), ::close(out);
        return failure(fname, "cannot write " + qp(to), e);
      }
      off += w;
    }
    r.n += n;
  }
  ::close(in);
  if (::close(out) != 0 && errno != EINTR) return failure(fname, "cannot write " + qp(to), errno);
  return r;
}

Result mkdir_all(const char* fname, const std::string& path) {
  std::string cur;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    cur = path.substr(0, j);
    i = j + 1;
    if (cur.empty() || cur.back() == '/') continue;
    if (::mkdir(cur.c_str(), 0777) == 0) continue;
    int e = errno;
    struct stat st;
    if (e == EEXIST && ::stat(cur.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
    if (e == EEXIST) e = ENOTDIR;
    return failure(fname, "cannot create directory " + qp(cur), e);
  }
  return {};
}

Result read_dir(const char* fname, const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (!d) return failure(fname, "cannot open directory " + qp(path), errno);
  Result r;
  r.kind = Result::names;
  errno = 0;
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    r.list.emplace_back(e->d_name);
  }
  int e = errno;
  ::closedir(d);
  if (e) return failure(fname, "cannot read directory " + qp(path), e);
  std::sort(r.list.begin(), r.list.end());
  return r;
}

Result remove_all(const char* fname, const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return failure(fname, "cannot remove " + qp(path), errno);
  if (!S_ISDIR(st.st_mode)) return failure(fname, "cannot remove " + qp(path), ENOTDIR);
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return failure(fname, "cannot remove " + qp(path), ec.value());
  return {};
}

Result test_path(const std::string& path, int what) {
  Result r;
  r.kind = Result::boolean;
  struct stat st;
  if (what == 3) {
    r.b = ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
  } else if (::stat(path.c_str(), &st) == 0) {
    r.b = what == 0 || (what == 1 && S_ISREG(st.st_mode)) || (what == 2 && S_ISDIR(st.st_mode));
  }
  return r;
}

// ---- Lua functions ----

#define FS_PATH_FN(name, body)                                                \
  int fs_##name(lua_State* L) {                                               \
    static constexpr const char* fname = "fs." #name;                         \
    std::string_view p = check_path(L, 1);                                    \
    return run(L, fname, [p] { return [path = std::string(p)]() -> Result { body; }; }); \
  }

FS_PATH_FN(read, return read_file(fname, path, Result::string))
FS_PATH_FN(read_bytes, return read_file(fname, path, Result::bytes))
FS_PATH_FN(exists, return test_path(path, 0))
FS_PATH_FN(is_file, return test_path(path, 1))
FS_PATH_FN(is_dir, return test_path(path, 2))
FS_PATH_FN(is_symlink, return test_path(path, 3))
FS_PATH_FN(size, {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return failure(fname, "cannot stat " + qp(path), errno);
  Result r;
  r.kind = Result::integer;
  r.n = st.st_size;
  return r;
})
FS_PATH_FN(stat, {
  Result r;
  r.kind = Result::stat;
  struct stat lst;
  if (::lstat(path.c_str(), &lst) != 0) return failure(fname, "cannot stat " + qp(path), errno);
  r.link = S_ISLNK(lst.st_mode);
  if (::stat(path.c_str(), &r.st) != 0) return failure(fname, "cannot stat " + qp(path), errno);
  return r;
})
FS_PATH_FN(remove, {
  if (::unlink(path.c_str()) != 0) return failure(fname, "cannot remove " + qp(path), errno);
  return {};
})
FS_PATH_FN(mkdir, {
  if (::mkdir(path.c_str(), 0777) != 0) return failure(fname, "cannot create directory " + qp(path), errno);
  return {};
})
FS_PATH_FN(mkdir_all, return mkdir_all(fname, path))
FS_PATH_FN(rmdir, {
  if (::rmdir(path.c_str()) != 0) return failure(fname, "cannot remove directory " + qp(path), errno);
  return {};
})
FS_PATH_FN(rmdir_all, return remove_all(fname, path))
FS_PATH_FN(readdir, return read_dir(fname, path))
FS_PATH_FN(glob, {
  Result r;
  r.kind = Result::names;
  glob_t g{};
  int rc = ::glob(path.c_str(), 0, nullptr, &g);
  if (rc == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i) r.list.emplace_back(g.gl_pathv[i]);
  ::globfree(&g);
  if (rc == GLOB_NOSPACE) return failure(fname, "cannot expand " + qp(path), ENOMEM);
  if (rc == GLOB_ABORTED) return failure(fname, "cannot read a directory of " + qp(path), EIO);
  std::sort(r.list.begin(), r.list.end());
  return r;
})
// Symlinks, "." and ".." resolved by the kernel's view of the disk (realpath(3)): what a path
// really names, e.g. to check that it stays inside a directory (static file serving).
FS_PATH_FN(realpath, {
  char* real = ::realpath(path.c_str(), nullptr);
  if (!real) return failure(fname, "cannot resolve " + qp(path), errno);
  Result r;
  r.kind = Result::string;
  r.s = real;
  std::free(real);
  return r;
})
FS_PATH_FN(touch, {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return failure(fname, "cannot open " + qp(path), errno);
  int rc = ::futimens(fd, nullptr);
  int e = errno;
  ::close(fd);
  if (rc != 0) return failure(fname, "cannot touch " + qp(path), e);
  return {};
})

int write_common(lua_State* L, const char* fname, bool append, bool bytes) {
  std::string_view p = check_path(L, 1);
  size_t len = 0;
  const char* s = bytes ? nullptr : luaL_checklstring(L, 2, &len);
  std::string_view data = bytes ? check_bytes(L, 2) : std::string_view(s, len);
  return run(L, fname, [=] {
    return [fname, append, path = std::string(p), d = std::string(data)]() -> Result {
      return write_file(fname, path, d, append);
    };
  });
}
int fs_write(lua_State* L) { return write_common(L, "fs.write", false, false); }
int fs_append(lua_State* L) { return write_common(L, "fs.append", true, false); }
int fs_write_bytes(lua_State* L) { return write_common(L, "fs.write_bytes", false, true); }

int two_paths(lua_State* L, const char* fname, Result (*job)(const char*, const std::string&, const std::string&)) {
  std::string_view a = check_path(L, 1);
  std::string_view b = check_path(L, 2);
  return run(L, fname, [=] { return [fname, job, a = std::string(a), b = std::string(b)]() { return job(fname, a, b); }; });
}

Result rename_job(const char* fname, const std::string& a, const std::string& b) {
  if (::rename(a.c_str(), b.c_str()) == 0) return {};
  int e = errno;
  if (e == EXDEV && std::strcmp(fname, "fs.move") == 0) {  // another file system: copy, then remove
    std::error_code ec;
    std::filesystem::copy(a, b, std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks, ec);
    if (!ec) std::filesystem::remove_all(a, ec);
    if (!ec) return {};
    e = ec.value();
  }
  return failure(fname, "cannot rename " + qp(a) + " to " + qp(b), e);
}

Result copy_dir_job(const char* fname, const std::string& a, const std::string& b) {
  struct stat st;
  if (::stat(a.c_str(), &st) != 0) return failure(fname, "cannot copy " + qp(a), errno);
  if (!S_ISDIR(st.st_mode)) return failure(fname, "cannot copy " + qp(a), ENOTDIR);
  std::error_code ec;
  std::filesystem::copy(a, b, std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks |
                                  std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) return failure(fname, "cannot copy " + qp(a) + " to " + qp(b), ec.value());
  return {};
}

int fs_rename(lua_State* L) { return two_paths(L, "fs.rename", rename_job); }
int fs_move(lua_State* L) { return two_paths(L, "fs.move", rename_job); }
int fs_copy(lua_State* L) { return two_paths(L, "fs.copy", copy_file); }
int fs_copy_dir(lua_State* L) { return two_paths(L, "fs.copy_dir", copy_dir_job); }

// ---- no disk access: answered at once ----

int fs_cwd(lua_State* L) {
  char buf[8192];
  if (!::getcwd(buf, sizeof buf)) raisef(L, strerrorname_np(errno), "fs.cwd: %s", std::strerror(errno));
  lua_pushstring(L, buf);
  return 1;
}

int fs_temp_dir(lua_State* L) {
  const char* t = std::getenv("TMPDIR");
  std::string_view d = t && *t ? t : "/tmp";
  while (d.size() > 1 && d.back() == '/') d.remove_suffix(1);  // as os_ext.tmpdir
  push_sv(L, d);
  return 1;
}

// fs.abs(path): absolute and normalized (".", "..", "//" resolved lexically; symlinks are kept).
int fs_abs(lua_State* L) {
  std::string_view p = check_path(L, 1);
  char cwd[8192];
  if (p[0] != '/' && !::getcwd(cwd, sizeof cwd)) raisef(L, strerrorname_np(errno), "fs.abs: %s", std::strerror(errno));
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  if (p[0] != '/') {
    luaL_addstring(&b, cwd);
    luaL_addchar(&b, '/');
  }
  luaL_addlstring(&b, p.data(), p.size());
  luaL_pushresult(&b);
  // Normalize in Lua-owned memory: components onto a table used as a stack.
  size_t len;
  const char* full = lua_tolstring(L, -1, &len);
  lua_newtable(L);
  int t = lua_gettop(L);
  int n = 0;
  for (size_t i = 0; i < len;) {
    size_t j = i;
    while (j < len && full[j] != '/') ++j;
    size_t k = j - i;
    if (k == 0 || (k == 1 && full[i] == '.')) {
    } else if (k == 2 && full[i] == '.' && full[i + 1] == '.') {
      if (n > 0) lua_pushnil(L), lua_rawseti(L, t, n--);
    } else {
      lua_pushlstring(L, full + i, k);
      lua_rawseti(L, t, ++n);
    }
    i = j + 1;
  }
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; ++i) {
    luaL_addchar(&b, '/');
    lua_rawgeti(L, t, i);
    luaL_addvalue(&b);
  }
  if (n == 0) luaL_addchar(&b, '/');
  luaL_pushresult(&b);
  return 1;
}

// CopperMoon's fs.join, fs.basename, fs.dirname and fs.ext: the path module's functions
// (upvalue 1 names it), looked up when called. fs.ext is path.extname without its dot, nil
// when there is none (CopperMoon's Path::extension): "a.tar.gz" → "gz", "Makefile" → nil.
int fs_path_forward(lua_State* L) {
  int n = lua_gettop(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, "path") != LUA_TTABLE) raise(L, "ENOSYS", "fs: the path module is not loaded");
  lua_getfield(L, -1, lua_tostring(L, lua_upvalueindex(1)));
  lua_replace(L, -3);
  lua_pop(L, 1);
  lua_insert(L, 1);
  lua_call(L, n, 1);
  if (lua_toboolean(L, lua_upvalueindex(2))) {  // ext
    size_t len = 0;
    const char* e = lua_tolstring(L, -1, &len);
    if (!e || len == 0) return lua_pushnil(L), 1;
    lua_pushlstring(L, e + 1, len - 1);
  }
  return 1;
}

}  // namespace

int open_fs(lua_State* L) {
  const luaL_Reg funcs[] = {
      {"read", fs_read},         {"read_bytes", fs_read_bytes}, {"write", fs_write},
      {"write_bytes", fs_write_bytes}, {"append", fs_append},  {"exists", fs_exists},
      {"is_file", fs_is_file},   {"is_dir", fs_is_dir},         {"is_symlink", fs_is_symlink},
      {"size", fs_size},         {"stat", fs_stat},             {"remove", fs_remove},
      {"mkdir", fs_mkdir},       {"mkdir_all", fs_mkdir_all},   {"rmdir", fs_rmdir},
      {"rmdir_all", fs_rmdir_all}, {"readdir", fs_readdir},     {"rename", fs_rename},
      {"move", fs_move},         {"copy", fs_copy},             {"copy_dir", fs_copy_dir},
      {"touch", fs_touch},       {"abs", fs_abs},               {"cwd", fs_cwd},
      {"temp_dir", fs_temp_dir}, {"glob", fs_glob}, {"realpath", fs_realpath}, {nullptr, nullptr}};
  luaL_newlib(L, funcs);
  const char* const forwards[][2] = {{"join", "join"}, {"basename", "basename"}, {"dirname", "dirname"}, {"ext", "extname"}};
  for (const auto& f : forwards) {
    lua_pushstring(L, f[1]);
    lua_pushboolean(L, std::strcmp(f[0], "ext") == 0);
    lua_pushcclosure(L, fs_path_forward, 2);
    lua_setfield(L, -2, f[0]);
  }
  open_fs_file(L, -1);
  open_fs_watch(L, -1);
  return 1;
}

}  // namespace mw
