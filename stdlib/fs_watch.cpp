// fs.watch(path[, fn][, {recursive}]): changes to a file or a directory's entries, from inotify.
// The inotify descriptor is an asio stream_descriptor on the loop: nothing blocks. With fn, each
// event runs fn(event) as a task (mw::Callback) and the watcher stays (keeping the script alive)
// until w:close(); without, w:next() / w:events() wait for events, and the kernel queues them
// between calls. Recursive: one inotify watch per directory of the tree (the first walk runs on
// the fs worker pool); a directory created or moved into the tree is added when its event is
// read, one moved out or deleted is dropped.
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <string>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <utility>
#include <vector>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "runtime/callback.hpp"
#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/fs.hpp"

namespace mw {
namespace {

namespace asio = boost::asio;
using error_code = boost::system::error_code;
using Descriptor = asio::posix::basic_stream_descriptor<asio::io_context::executor_type>;

constexpr const char* kWatchType = "moonwire.fs.watcher";
constexpr uint32_t kMask = IN_CREATE | IN_MODIFY | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF;
constexpr uint32_t kSubMask = kMask | IN_ONLYDIR | IN_DONT_FOLLOW;

using WatchList = std::vector<std::pair<int, std::string>>;  // inotify watch descriptor, directory

std::string join_path(const std::string& dir, std::string_view name) {
  std::string p = dir;
  if (p.empty() || p.back() != '/') p += '/';
  p += name;
  return p;
}

// Adds a watch on `dir` (already watched when `self` is false) and on every directory below it,
// symlinks not followed. A directory that cannot be read or watched (gone meanwhile, no
// permission) is skipped; the first ENOSPC (the inotify watch limit) is returned.
int watch_tree(int fd, const std::string& dir, bool self, WatchList& out, int depth = 0) {
  if (self) {
    int wd = ::inotify_add_watch(fd, dir.c_str(), kSubMask);
    if (wd < 0) return errno == ENOSPC ? ENOSPC : 0;
    out.emplace_back(wd, dir);
  }
  if (depth > 64) return 0;  // a bind-mount loop
  DIR* d = ::opendir(dir.c_str());
  if (!d) return 0;
  int err = 0;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    bool is_dir = e->d_type == DT_DIR;
    std::string sub = join_path(dir, name);
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      is_dir = ::lstat(sub.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    }
    if (is_dir && (err = watch_tree(fd, sub, true, out, depth + 1)) != 0) break;
  }
  ::closedir(d);
  return err;
}

struct Event {
  const char* type;       // created, modified, deleted, renamed
  std::string path;       // the watched path, or the entry inside the watched directory
  std::string name;       // the entry's name ("" for the watched path itself)
  const char* direction;  // renamed: "from" / "to"; else null
  bool dir = false;
  uint32_t cookie = 0;    // pairs a rename's from and to
};

class Watcher : public std::enable_shared_from_this<Watcher> {
 public:
  Watcher(Engine& engine, int fd, std::string path) : engine_(engine), desc_(engine.io()), path_(std::move(path)) {
    desc_.assign(fd);
  }
  std::deque<Event> queue;
  OpPtr waiter;
  bool fn_mode = false;  // events go to `callback`, each as a task
  Callback callback;
  int anchor = LUA_NOREF;  // fn mode: the watcher object, alive until close
  bool ended = false;  // closed, or the watched path went away
  bool recursive = false;

  bool open() const { return desc_.is_open(); }
  const std::string& path() const { return path_; }
  int fd() const { return const_cast<Descriptor&>(desc_).native_handle(); }
  void set_root(int wd) { root_wd_ = wd, dirs_[wd] = path_; }
  void add_dirs(WatchList& list) {
    for (auto& [wd, dir] : list) dirs_[wd] = std::move(dir);
  }
  size_t watch_count() const { return dirs_.size(); }

  // Reads what the kernel has (fn mode: always; iterator mode: while a task waits).
  void arm() {
    if (armed_ || !desc_.is_open()) return;
    armed_ = true;
    desc_.async_read_some(asio::buffer(buf_, sizeof buf_), [self = shared_from_this()](const error_code& ec, size_t n) {
      self->armed_ = false;
      if (ec == asio::error::operation_aborted && self->desc_.is_open()) return;  // a waiter gave up
      if (ec) return self->finish();
      self->parse(n);
      self->deliver();
    });
  }

  // The waiting task gave up (timeout, cancel): stop reading, so an idle watcher does not keep
  // the script alive; the kernel keeps queueing events for the next call.
  void stop_reading() {
    error_code ignored;
    if (!fn_mode) desc_.cancel(ignored);
  }

  void close() {
    error_code ignored;
    desc_.close(ignored);
    queue.clear();  // events not taken yet are dropped: next() returns nil from now on
    finish();
  }

  // Waiting task resumed with the next event (or nil at the end).
  void deliver() {
    if (fn_mode) return run_callbacks();
    if (waiter && waiter->active() && (!queue.empty() || ended)) {
      OpPtr op = std::move(waiter);
      if (queue.empty()) return op->resume([](lua_State* L) { lua_pushnil(L); });
      Event ev = std::move(queue.front());
      queue.pop_front();
      return op->resume([ev = std::move(ev)](lua_State* L) { push_event(L, ev); });
    }
    if (waiter && waiter->active()) arm();
  }

  static void push_event(lua_State* L, const Event& ev) {
    lua_createtable(L, 0, 6);
    lua_pushstring(L, ev.type);
    lua_setfield(L, -2, "type");
    push_sv(L, ev.path);
    lua_setfield(L, -2, "path");
    if (!ev.name.empty()) {
      push_sv(L, ev.name);
      lua_setfield(L, -2, "name");
    }
    if (ev.direction) {
      lua_pushstring(L, ev.direction);
      lua_setfield(L, -2, "direction");
      lua_pushinteger(L, ev.cookie);
      lua_setfield(L, -2, "cookie");
    }
    lua_pushboolean(L, ev.dir);
    lua_setfield(L, -2, "is_dir");
  }

 private:
  void parse(size_t n) {
    for (size_t off = 0; off + sizeof(inotify_event) <= n;) {
      auto* e = reinterpret_cast<const inotify_event*>(buf_ + off);
      off += sizeof(inotify_event) + e->len;
      auto dir = dirs_.find(e->wd);
      if (dir == dirs_.end()) continue;  // a watch removed meanwhile, IN_Q_OVERFLOW
      bool root = e->wd == root_wd_;
      if (e->mask & IN_IGNORED) {  // the watched path is gone (deleted, moved out, unmounted)
        if (root) gone_ = true;
        dirs_.erase(dir);
        continue;
      }
      // Below the root, a directory's own deletion or move is reported by its parent.
      if (!root && (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF))) continue;
      Event ev;
      ev.name = e->len ? std::string(e->name) : std::string();
      ev.path = ev.name.empty() ? dir->second : join_path(dir->second, ev.name);
      ev.dir = e->mask & IN_ISDIR;
      if (e->mask & IN_CREATE) ev.type = "created";
      else if (e->mask & IN_MODIFY) ev.type = "modified";
      else if (e->mask & (IN_DELETE | IN_DELETE_SELF)) ev.type = "deleted";
      else if (e->mask & (IN_MOVED_FROM | IN_MOVED_TO | IN_MOVE_SELF)) ev.type = "renamed";
      else continue;
      if (e->mask & IN_MOVED_FROM) ev.direction = "from";
      else if (e->mask & IN_MOVED_TO) ev.direction = "to";
      else ev.direction = nullptr;
      ev.cookie = e->cookie;
      if (recursive && ev.dir) {
        if (e->mask & (IN_CREATE | IN_MOVED_TO)) {
          // A quick walk on the loop: usually an empty directory just made (mkdir -p).
          WatchList added;
          watch_tree(fd(), ev.path, true, added);
          add_dirs(added);
        } else if (e->mask & IN_MOVED_FROM) {
          drop_tree(ev.path);  // moved out of the tree (a move inside comes back as MOVED_TO)
        }
      }
      queue.push_back(std::move(ev));
    }
    if (gone_) {
      error_code ignored;
      desc_.close(ignored);
      dirs_.clear();
      ended = true;
    }
  }

  // Stops watching `dir` and everything below it.
  void drop_tree(const std::string& dir) {
    std::string prefix = join_path(dir, "");
    for (auto it = dirs_.begin(); it != dirs_.end();) {
      if (it->first != root_wd_ && (it->second == dir || it->second.compare(0, prefix.size(), prefix) == 0)) {
        ::inotify_rm_watch(fd(), it->first);
        it = dirs_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void run_callbacks() {
    if (engine_.closing()) return;
    while (!queue.empty()) {
      Event ev = std::move(queue.front());
      queue.pop_front();
      callback.run([&](lua_State* L) { return push_event(L, ev), 1; });
    }
    if (ended) return release();
    arm();
  }

  void finish() {
    ended = true;
    if (fn_mode) return release();
    deliver();
  }

  // fn mode ends: the callback and the object may be collected.
  void release() {
    callback.release();
    if (engine_.closing()) return;
    luaL_unref(engine_.L(), LUA_REGISTRYINDEX, anchor);
    anchor = LUA_NOREF;
  }

  Engine& engine_;
  Descriptor desc_;
  std::string path_;
  bool armed_ = false, gone_ = false;
  int root_wd_ = -1;
  std::map<int, std::string> dirs_;  // every watch: its directory (or the watched file)
  alignas(inotify_event) char buf_[16 * (sizeof(inotify_event) + NAME_MAX + 1)];
};

struct WatchBox {
  std::shared_ptr<Watcher> w;
};

Watcher* check_watcher(lua_State* L) { return static_cast<WatchBox*>(check_udata(L, 1, kWatchType))->w.get(); }

// Recursive: the rest of the tree is walked on the fs worker pool (a big tree is many disk
// reads), with a duplicate of the inotify descriptor, so closing the watcher meanwhile cannot
// hand the walk a reused descriptor number. The task waits; then fs.watch returns the watcher.
int watch_rest_of_tree(lua_State* L, Watcher* w) {
  return suspend(L, "fs.watch", kForever, [&](const OpPtr& op) {
    lua_pushvalue(L, 3);
    int box_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    auto self = w->shared_from_this();
    auto& io = op->engine().io();
    auto guard = std::make_shared<asio::executor_work_guard<asio::io_context::executor_type>>(io.get_executor());
    int dup = ::fcntl(w->fd(), F_DUPFD_CLOEXEC, 0);
    asio::post(fs_workers(), [op, guard, self, &io, dup, box_ref, root = w->path()] {
      auto list = std::make_shared<WatchList>();
      int err = dup < 0 ? errno : watch_tree(dup, root, false, *list);
      if (dup >= 0) ::close(dup);
      asio::post(io, [op, guard, self, list, err, box_ref, root] {
        if (self->open()) self->add_dirs(*list);
        if (self->fn_mode && self->open()) self->arm();
        if (!op->active()) {  // the task was cancelled meanwhile
          if (!op->engine().closing()) luaL_unref(op->engine().L(), LUA_REGISTRYINDEX, box_ref);
          return;
        }
        if (err) {
          self->close();
          return op->fail(strerrorname_np(err) ? strerrorname_np(err) : "EIO",
                          "fs.watch: cannot watch the tree of '" + root + "': " + std::strerror(err));
        }
        op->resume([box_ref](lua_State* L) {
          lua_rawgeti(L, LUA_REGISTRYINDEX, box_ref);
          luaL_unref(L, LUA_REGISTRYINDEX, box_ref);
        });
      });
    });
  });
}

// fs.watch(path[, fn][, {recursive}]) → watcher
int fs_watch(lua_State* L) {
  std::string_view path = check_sv(L, 1);
  if (path.empty()) value_error(L, 1, "path is empty");
  if (path.find('\0') != std::string_view::npos) value_error(L, 1, "path contains NUL");
  if (lua_istable(L, 2)) {  // fs.watch(path, opts)
    lua_settop(L, 2);
    lua_pushnil(L);
    lua_insert(L, 2);
  }
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TFUNCTION);
  static const char* const known[] = {"recursive", nullptr};
  check_options(L, 3, "fs.watch", known);
  bool recursive = opt_bool_field(L, 3, "recursive", false);
  lua_settop(L, 2);
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) raisef(L, strerrorname_np(errno) ? strerrorname_np(errno) : "EIO", "fs.watch: inotify: %s", std::strerror(errno));
  // A quick system call (a path lookup), not a disk wait: done here on the loop.
  int wd = ::inotify_add_watch(fd, path.data(), kMask);
  if (wd < 0) {
    int err = errno;
    ::close(fd);
    raisef(L, strerrorname_np(err) ? strerrorname_np(err) : "EIO", "fs.watch: cannot watch '%s': %s", path.data(), std::strerror(err));
  }
  struct stat st;
  bool tree = recursive && ::stat(path.data(), &st) == 0 && S_ISDIR(st.st_mode);
  auto* box = new_object<WatchBox>(L, kWatchType, 0);  // 3
  box->w = std::make_shared<Watcher>(Engine::of(L), fd, std::string(path));
  Watcher* w = box->w.get();
  w->set_root(wd);
  w->recursive = tree;
  if (lua_isfunction(L, 2)) {
    w->fn_mode = true;
    w->callback = Callback(L, 2);
    lua_pushvalue(L, 3);
    w->anchor = luaL_ref(L, LUA_REGISTRYINDEX);  // lives until close, as Node's fs.watch
    if (!tree) w->arm();
  }
  if (tree) return watch_rest_of_tree(L, w);
  return 1;
}

// w:next([timeout_ms]) → event, or nil once the watcher is closed or its path is gone
int watch_next(lua_State* L) {
  Watcher* w = check_watcher(L);
  int64_t timeout = opt_timeout_ms(L, 2);
  if (w->fn_mode && !w->ended) raise(L, "EINVAL", "next: this watcher calls its function for each event");
  if (!w->queue.empty()) {
    Event ev = std::move(w->queue.front());
    w->queue.pop_front();
    Watcher::push_event(L, ev);
    return 1;
  }
  if (w->ended) return lua_pushnil(L), 1;
  if (w->waiter && w->waiter->active()) raise(L, kBusy, "next: another task is already waiting for this watcher");
  lua_settop(L, 1);
  return suspend(L, "fs.watch", timeout, [&](const OpPtr& op) {
    w->waiter = op;
    op->on_abandon([weak = std::weak_ptr<Watcher>(w->shared_from_this())] {
      if (auto w = weak.lock()) w->stop_reading();
    });
    w->arm();
  });
}

int events_step(lua_State* L) {
  lua_settop(L, 0);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushcfunction(L, watch_next);
  lua_insert(L, 1);
  lua_callk(L, 1, 1, 0, [](lua_State* L, int, lua_KContext) -> int { return 1; });
  return 1;
}

// for ev in w:events() do ... end (ends when the watcher is closed or its path is gone)
int watch_events(lua_State* L) {
  Watcher* w = check_watcher(L);
  if (w->fn_mode && !w->ended) raise(L, "EINVAL", "events: this watcher calls its function for each event");
  lua_settop(L, 1);
  lua_pushcclosure(L, events_step, 1);
  return 1;
}

// w:close(): no more events; a task waiting in next() gets nil. Closing twice is fine.
int watch_close(lua_State* L) {
  check_watcher(L)->close();
  return 0;
}

int watch_index(lua_State* L) {
  Watcher* w = check_watcher(L);
  std::string_view key = lua_type(L, 2) == LUA_TSTRING ? to_sv(L, 2) : std::string_view();
  if (key == "path") return push_sv(L, w->path()), 1;
  if (key == "closed") return lua_pushboolean(L, w->ended && w->queue.empty()), 1;
  if (key == "recursive") return lua_pushboolean(L, w->recursive), 1;
  if (key == "watches") return lua_pushinteger(L, lua_Integer(w->watch_count())), 1;
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  return 1;
}

int watch_tostring(lua_State* L) {
  lua_pushfstring(L, "fs.watcher (%s)", check_watcher(L)->path().c_str());
  return 1;
}

int watch_gc(lua_State* L) {
  if (auto* box = static_cast<WatchBox*>(test_udata(L, 1, kWatchType)); box && box->w) box->w->close();
  return gc_object<WatchBox>(L, kWatchType);
}

}  // namespace

void open_fs_watch(lua_State* L, int module) {
  module = lua_absindex(L, module);
  const luaL_Reg methods[] = {{"next", watch_next}, {"events", watch_events}, {"close", watch_close}, {nullptr, nullptr}};
  const luaL_Reg meta[] = {{"__gc", watch_gc}, {"__close", watch_close}, {"__tostring", watch_tostring}, {nullptr, nullptr}};
  new_class(L, kWatchType, methods, meta, watch_index);
  lua_pushcfunction(L, fs_watch);
  lua_setfield(L, module, "watch");
}

}  // namespace mw
