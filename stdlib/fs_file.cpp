// fs.open(path[, mode]): a streaming file. Every system call (open, read, write, lseek, close)
// runs on the fs worker pool, serialized per file by a strand, so a slow disk, a FIFO without a
// writer or an NFS stall suspends only the calling task. Reads fill a buffer that Lua's read
// formats (stdlib/reader) consume; the file position Lua sees is the kernel's minus what is
// buffered, which writes and seeks account for.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "stdlib/buffer.hpp"
#include "stdlib/fs.hpp"
#include "stdlib/reader.hpp"

namespace mw {
namespace {

namespace asio = boost::asio;
using Strand = asio::strand<asio::thread_pool::executor_type>;
using Guard = asio::executor_work_guard<asio::io_context::executor_type>;

constexpr const char* kFileType = "moonwire.fs.file";
constexpr size_t kChunk = 65536;

// An open file, shared by its Lua object and the jobs in flight (which may outlive it).
struct OpenFile : Source, std::enable_shared_from_this<OpenFile> {
  OpenFile(asio::io_context& io, int fd, std::string path, bool readable, bool writable, bool append)
      : io(io), strand(asio::make_strand(fs_workers())), fd(fd), path(std::move(path)),
        readable(readable), writable(writable), append(append) {}
  asio::io_context& io;
  Strand strand;
  int fd;
  std::string path;
  bool readable, writable, append;
  bool closed = false;  // for Lua: no call may use it any more (the close itself may be queued)
  bool reading = false;

  void request() override {
    if (reading || eof) return;
    if (closed) return arrived({}, true);  // an iterator outliving close(): the fd may be reused
    reading = true;
    auto guard = std::make_shared<Guard>(io.get_executor());  // a pending read keeps the loop alive
    asio::post(strand, [self = shared_from_this(), guard] {
      std::string data(kChunk, '\0');
      ssize_t n;
      do n = ::read(self->fd, data.data(), kChunk);
      while (n < 0 && errno == EINTR);
      data.resize(n > 0 ? size_t(n) : 0);
      asio::post(self->io, [self, guard, data = std::move(data), end = n <= 0] {
        self->reading = false;
        self->arrived(data, end);
      });
    });
  }

  // Runs job() on the strand; its result (errno or 0, and a number) comes back to the op.
  template <class Job>
  void run(const OpPtr& op, Job job) {
    auto guard = std::make_shared<Guard>(io.get_executor());
    asio::post(strand, [self = shared_from_this(), op, guard, job = std::move(job)]() mutable {
      int64_t value = 0;
      int err = job(value);
      asio::post(self->io, [self, op, guard, err, value] {
        if (!op->active()) return;
        if (err) return op->fail(strerrorname_np(err) ? strerrorname_np(err) : "EIO",
                                 std::string(op->what()) + ": '" + self->path + "': " + std::strerror(err));
        op->resume([value](lua_State* L) { lua_pushinteger(L, static_cast<lua_Integer>(value)); });
      });
    });
  }

  // Before a write or a seek: what was read ahead is dropped; returns how far the kernel's
  // position is ahead of the one Lua sees.
  int64_t drop_read_ahead() {
    int64_t ahead = static_cast<int64_t>(buffer.size());
    buffer.clear();
    eof = false;
    return ahead;
  }

  void close_later() {
    if (closed) return;
    closed = true;
    asio::post(strand, [fd = fd] { ::close(fd); });
  }
};

struct FileBox {
  std::shared_ptr<OpenFile> f;
};

OpenFile* check_file(lua_State* L) {
  auto* box = static_cast<FileBox*>(check_udata(L, 1, kFileType));
  if (!box->f || box->f->closed) raise(L, kClosed, "attempt to use a closed file");
  return box->f.get();
}

// Lua's fopen modes: r w a r+ w+ a+, with an optional b.
bool parse_mode(std::string_view m, int& flags, bool& readable, bool& writable, bool& append) {
  if (m.empty()) return false;
  bool plus = false;
  for (size_t i = 1; i < m.size(); ++i) {
    if (m[i] == '+' && !plus) plus = true;
    else if (m[i] != 'b') return false;
  }
  switch (m[0]) {
    case 'r': flags = plus ? O_RDWR : O_RDONLY; readable = true; writable = plus; break;
    case 'w': flags = (plus ? O_RDWR : O_WRONLY) | O_CREAT | O_TRUNC; readable = plus; writable = true; break;
    case 'a': flags = (plus ? O_RDWR : O_WRONLY) | O_CREAT | O_APPEND; readable = plus; writable = true; append = true; break;
    default: return false;
  }
  return true;
}

int open_k(lua_State* L, int status, lua_KContext ctx) {
  // fd (pushed by the job) → the file object
  int fd = static_cast<int>(lua_tointeger(L, -1));
  lua_pop(L, 1);
  int flags = 0;
  bool readable = false, writable = false, append = false;
  parse_mode(luaL_optstring(L, 2, "r"), flags, readable, writable, append);
  auto* box = new_object<FileBox>(L, kFileType, 0);
  box->f = std::make_shared<OpenFile>(Engine::of(L).io(), fd, std::string(to_sv(L, 1)), readable, writable, append);
  return 1;
}

int open_suspend(lua_State* L) {
  std::string_view path = to_sv(L, 1);
  int flags = static_cast<int>(lua_tointeger(L, 2));
  return suspend(L, "fs.open", kForever, [&](const OpPtr& op) {
    auto& io = op->engine().io();
    auto guard = std::make_shared<Guard>(io.get_executor());
    asio::post(fs_workers(), [op, guard, &io, p = std::string(path), flags] {
      int fd;
      do fd = ::open(p.c_str(), flags | O_CLOEXEC, 0666);
      while (fd < 0 && errno == EINTR);
      int err = fd < 0 ? errno : 0;
      struct stat st;
      if (fd >= 0 && ::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(fd);
        fd = -1;
        err = EISDIR;
      }
      asio::post(io, [op, guard, fd, err, p] {
        if (!op->active()) {  // the task gave up: nobody will own it
          if (fd >= 0) ::close(fd);
          return;
        }
        if (err) return op->fail(strerrorname_np(err) ? strerrorname_np(err) : "EIO", "fs.open: cannot open '" + p + "': " + std::strerror(err));
        op->resume([fd](lua_State* L) { lua_pushinteger(L, fd); });
      });
    });
  });
}

// fs.open(path[, mode]) → file
int fs_open(lua_State* L) {
  std::string_view path = check_sv(L, 1);
  if (path.empty()) value_error(L, 1, "path is empty");
  if (path.find('\0') != std::string_view::npos) value_error(L, 1, "path contains NUL");
  std::string_view mode = luaL_optstring(L, 2, "r");
  int flags = 0;
  bool readable = false, writable = false, append = false;
  if (!parse_mode(mode, flags, readable, writable, append)) value_error(L, 2, "invalid mode (r, w, a, r+, w+, a+, with an optional b)");
  lua_settop(L, 2);
  lua_pushcfunction(L, open_suspend);
  lua_pushvalue(L, 1);
  lua_pushinteger(L, flags);
  lua_callk(L, 2, 1, 0, open_k);
  return open_k(L, LUA_OK, 0);
}

int file_read(lua_State* L) {
  OpenFile* f = check_file(L);
  if (!f->readable) raise(L, "EBADF", "read: the file was not opened for reading");
  return read_formats(L, f, 2, "read");
}

int file_read_line(lua_State* L) {
  OpenFile* f = check_file(L);
  if (!f->readable) raise(L, "EBADF", "read_line: the file was not opened for reading");
  lua_settop(L, 1);
  lua_pushliteral(L, "l");
  return read_formats(L, f, 2, "read_line");
}

int file_read_all(lua_State* L) {
  OpenFile* f = check_file(L);
  if (!f->readable) raise(L, "EBADF", "read_all: the file was not opened for reading");
  lua_settop(L, 1);
  lua_pushliteral(L, "a");
  return read_formats(L, f, 2, "read_all");
}

int file_lines(lua_State* L) {
  OpenFile* f = check_file(L);
  if (!f->readable) raise(L, "EBADF", "lines: the file was not opened for reading");
  return push_lines(L, f, 1, 2, "lines");
}

// A write or seek must not reorder with a read another task is waiting for.
void check_not_reading(lua_State* L, OpenFile* f, const char* what) {
  if ((f->waiter && f->waiter->active()) || f->reading) raisef(L, kBusy, "%s: a read of this file is in progress", what);
}

int top_k(lua_State* L, int, lua_KContext) { return 1; }  // the suspended call's result

int self_k(lua_State* L, int, lua_KContext) {
  lua_settop(L, 1);  // the file, as Lua's write returns
  return 1;
}

int write_suspend(lua_State* L) {
  auto* f = static_cast<FileBox*>(lua_touserdata(L, 1))->f.get();
  std::string_view data = to_sv(L, 2);
  int64_t ahead = f->drop_read_ahead();
  int64_t rewind = f->append ? 0 : ahead;  // O_APPEND writes at the end anyway
  return suspend(L, "write", kForever, [&](const OpPtr& op) {
    // A copy: a cancelled task's string may be collected while the job still writes it.
    f->run(op, [fd = f->fd, data = std::string(data), rewind](int64_t& written) -> int {
      if (rewind > 0 && ::lseek(fd, -rewind, SEEK_CUR) < 0) return errno;
      while (written < static_cast<int64_t>(data.size())) {
        ssize_t n = ::write(fd, data.data() + written, data.size() - size_t(written));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        written += n;
      }
      return 0;
    });
  });
}

// f:write(...) → f once the kernel has all of it (strings, numbers, buffers)
int file_write(lua_State* L) {
  OpenFile* f = check_file(L);
  int n = lua_gettop(L);
  for (int i = 2; i <= n; ++i) check_bytes(L, i);
  if (!f->writable) raise(L, "EBADF", "write: the file was not opened for writing");
  check_not_reading(L, f, "write");
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 2; i <= n; ++i) {
    std::string_view part = check_bytes(L, i);
    luaL_addlstring(&b, part.data(), part.size());
  }
  luaL_pushresult(&b);
  if (lua_rawlen(L, -1) == 0) return lua_settop(L, 1), 1;
  lua_pushcfunction(L, write_suspend);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, -3);
  lua_callk(L, 2, 1, 0, self_k);
  return self_k(L, LUA_OK, 0);
}

int seek_suspend(lua_State* L) {
  auto* f = static_cast<FileBox*>(lua_touserdata(L, 1))->f.get();
  int whence = static_cast<int>(lua_tointeger(L, 2));
  int64_t offset = lua_tointeger(L, 3);
  int64_t ahead = f->drop_read_ahead();
  if (whence == SEEK_CUR) offset -= ahead;
  return suspend(L, "seek", kForever, [&](const OpPtr& op) {
    f->run(op, [fd = f->fd, whence, offset](int64_t& pos) -> int {
      off_t r = ::lseek(fd, offset, whence);
      if (r < 0) return errno;
      pos = r;
      return 0;
    });
  });
}

// f:seek([whence[, offset]]) → the new position (as Lua's: "set", "cur" (default), "end")
int file_seek(lua_State* L) {
  OpenFile* f = check_file(L);
  std::string_view w = luaL_optstring(L, 2, "cur");
  lua_Integer offset = luaL_optinteger(L, 3, 0);
  int whence = w == "set" ? SEEK_SET : w == "cur" ? SEEK_CUR : w == "end" ? SEEK_END : -1;
  if (whence < 0) value_error(L, 2, "invalid option (\"set\", \"cur\" or \"end\")");
  check_not_reading(L, f, "seek");
  lua_settop(L, 1);
  lua_pushcfunction(L, seek_suspend);
  lua_pushvalue(L, 1);
  lua_pushinteger(L, whence);
  lua_pushinteger(L, offset);
  lua_callk(L, 3, 1, 0, top_k);
  return top_k(L, LUA_OK, 0);
}

int sync_suspend(lua_State* L) {
  auto* f = static_cast<FileBox*>(lua_touserdata(L, 1))->f.get();
  return suspend(L, "sync", kForever, [&](const OpPtr& op) {
    f->run(op, [fd = f->fd](int64_t&) -> int { return ::fsync(fd) == 0 ? 0 : errno; });
  });
}

// f:sync() → f, once the data is on the disk (fsync)
int file_sync(lua_State* L) {
  check_file(L);
  lua_settop(L, 1);
  lua_pushcfunction(L, sync_suspend);
  lua_pushvalue(L, 1);
  lua_callk(L, 1, 1, 0, self_k);
  return self_k(L, LUA_OK, 0);
}

// f:flush() → f: writes are not buffered here (each write has reached the kernel when it returns)
int file_flush(lua_State* L) {
  check_file(L);
  lua_settop(L, 1);
  return 1;
}

int close_suspend(lua_State* L) {
  auto* f = static_cast<FileBox*>(lua_touserdata(L, 1))->f.get();
  return suspend(L, "close", kForever, [&](const OpPtr& op) {
    f->run(op, [fd = f->fd](int64_t&) -> int { return ::close(fd) == 0 || errno == EINTR ? 0 : errno; });
  });
}

int true_k(lua_State* L, int, lua_KContext) {
  lua_pushboolean(L, 1);
  return 1;
}

// f:close() → true (after the jobs queued before it); an error from close(2) (NFS) is raised.
int file_close(lua_State* L) {
  OpenFile* f = check_file(L);
  f->closed = true;
  f->drop_read_ahead();  // an iterator made before close ends here
  f->eof = true;
  lua_settop(L, 1);
  lua_pushcfunction(L, close_suspend);
  lua_pushvalue(L, 1);
  lua_callk(L, 1, 0, 0, true_k);
  return true_k(L, LUA_OK, 0);
}

int file_tostring(lua_State* L) {
  auto* box = static_cast<FileBox*>(check_udata(L, 1, kFileType));
  if (!box->f || box->f->closed) lua_pushliteral(L, "fs.file (closed)");
  else lua_pushfstring(L, "fs.file (%s)", box->f->path.c_str());
  return 1;
}

int file_index(lua_State* L) {
  auto* box = static_cast<FileBox*>(check_udata(L, 1, kFileType));
  std::string_view key = lua_type(L, 2) == LUA_TSTRING ? to_sv(L, 2) : std::string_view();
  if (key == "path") return push_sv(L, box->f->path), 1;
  if (key == "closed") return lua_pushboolean(L, box->f->closed), 1;
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  return 1;
}

// Collected or leaving a <close> scope: closed after what is queued, without waiting.
int file_release(lua_State* L) {
  auto* box = static_cast<FileBox*>(test_udata(L, 1, kFileType));
  if (box && box->f) box->f->close_later();
  return 0;
}

int file_gc(lua_State* L) {
  file_release(L);
  return gc_object<FileBox>(L, kFileType);
}

}  // namespace

void open_fs_file(lua_State* L, int module) {
  module = lua_absindex(L, module);
  const luaL_Reg methods[] = {{"read", file_read},   {"read_line", file_read_line}, {"read_all", file_read_all},
                              {"lines", file_lines}, {"write", file_write},         {"seek", file_seek},
                              {"sync", file_sync},   {"flush", file_flush},         {"close", file_close},
                              {nullptr, nullptr}};
  const luaL_Reg meta[] = {{"__gc", file_gc}, {"__close", file_release}, {"__tostring", file_tostring}, {nullptr, nullptr}};
  new_class(L, kFileType, methods, meta, file_index);
  lua_pushcfunction(L, fs_open);
  lua_setfield(L, module, "open");
}

}  // namespace mw
