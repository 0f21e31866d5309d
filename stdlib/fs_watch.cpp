// fs.watch(path[, fn]): changes to a file or a directory's entries, from inotify. The inotify
// descriptor is an asio stream_descriptor on the loop: nothing blocks. With fn, each event runs
// fn(event) as a task and the watcher stays (keeping the script alive) until w:close(); without,
// w:next() / w:events() wait for events, and the kernel queues them between calls.
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>
#include <string>
#include <sys/inotify.h>
#include <unistd.h>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/fs.hpp"

namespace mw {
namespace {

namespace asio = boost::asio;
using error_code = boost::system::error_code;
using Descriptor = asio::posix::basic_stream_descriptor<asio::io_context::executor_type>;

constexpr const char* kWatchType = "moonwire.fs.watcher";
constexpr uint32_t kMask = IN_CREATE | IN_MODIFY | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF;

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
  int callback = LUA_NOREF;  // fn mode: the function; anchor: the watcher object
  int anchor = LUA_NOREF;
  bool ended = false;  // closed, or the watched path went away

  bool open() const { return desc_.is_open(); }
  const std::string& path() const { return path_; }

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
    if (callback == LUA_NOREF) desc_.cancel(ignored);
  }

  void close() {
    error_code ignored;
    desc_.close(ignored);
    finish();
  }

  // Waiting task resumed with the next event (or nil at the end).
  void deliver() {
    if (callback != LUA_NOREF) return run_callbacks();
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
      Event ev;
      ev.name = e->len ? std::string(e->name) : std::string();
      ev.path = ev.name.empty() ? path_ : path_ + (path_.back() == '/' ? "" : "/") + ev.name;
      ev.dir = e->mask & IN_ISDIR;
      if (e->mask & IN_CREATE) ev.type = "created";
      else if (e->mask & IN_MODIFY) ev.type = "modified";
      else if (e->mask & (IN_DELETE | IN_DELETE_SELF)) ev.type = "deleted";
      else if (e->mask & (IN_MOVED_FROM | IN_MOVED_TO | IN_MOVE_SELF)) ev.type = "renamed";
      else if (e->mask & IN_IGNORED) {  // the watched path is gone (deleted, unmounted)
        gone_ = true;
        continue;
      } else {
        continue;  // IN_Q_OVERFLOW and others
      }
      if (e->mask & IN_MOVED_FROM) ev.direction = "from";
      else if (e->mask & IN_MOVED_TO) ev.direction = "to";
      else ev.direction = nullptr;
      ev.cookie = e->cookie;
      queue.push_back(std::move(ev));
    }
    if (gone_) {
      error_code ignored;
      desc_.close(ignored);
      ended = true;
    }
  }

  void run_callbacks() {
    if (engine_.closing()) return;
    lua_State* L = engine_.L();
    while (!queue.empty()) {
      Event ev = std::move(queue.front());
      queue.pop_front();
      lua_rawgeti(L, LUA_REGISTRYINDEX, callback);
      push_event(L, ev);
      engine_.scheduler().spawn(L, 1, true);
      lua_pop(L, 1);
    }
    if (ended) return release();
    arm();
  }

  void finish() {
    ended = true;
    if (callback != LUA_NOREF) return release();
    deliver();
  }

  // fn mode ends: the callback and the object may be collected.
  void release() {
    if (engine_.closing()) return;
    lua_State* L = engine_.L();
    luaL_unref(L, LUA_REGISTRYINDEX, callback);
    luaL_unref(L, LUA_REGISTRYINDEX, anchor);
    callback = anchor = LUA_NOREF;
  }

  Engine& engine_;
  Descriptor desc_;
  std::string path_;
  bool armed_ = false, gone_ = false;
  alignas(inotify_event) char buf_[16 * (sizeof(inotify_event) + NAME_MAX + 1)];
};

struct WatchBox {
  std::shared_ptr<Watcher> w;
};

Watcher* check_watcher(lua_State* L) { return static_cast<WatchBox*>(check_udata(L, 1, kWatchType))->w.get(); }

// fs.watch(path[, fn]) → watcher
int fs_watch(lua_State* L) {
  std::string_view path = check_sv(L, 1);
  if (path.empty()) value_error(L, 1, "path is empty");
  if (path.find('\0') != std::string_view::npos) value_error(L, 1, "path contains NUL");
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) raisef(L, strerrorname_np(errno) ? strerrorname_np(errno) : "EIO", "fs.watch: inotify: %s", std::strerror(errno));
  // A quick system call (a path lookup), not a disk wait: done here on the loop.
  if (::inotify_add_watch(fd, path.data(), kMask) < 0) {
    int err = errno;
    ::close(fd);
    raisef(L, strerrorname_np(err) ? strerrorname_np(err) : "EIO", "fs.watch: cannot watch '%s': %s", path.data(), std::strerror(err));
  }
  auto* box = new_object<WatchBox>(L, kWatchType, 0);  // 3
  box->w = std::make_shared<Watcher>(Engine::of(L), fd, std::string(path));
  if (lua_isfunction(L, 2)) {
    lua_pushvalue(L, 2);
    box->w->callback = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, 3);
    box->w->anchor = luaL_ref(L, LUA_REGISTRYINDEX);  // lives until close, as Node's fs.watch
    box->w->arm();
  }
  return 1;
}

// w:next([timeout_ms]) → event, or nil once the watcher is closed or its path is gone
int watch_next(lua_State* L) {
  Watcher* w = check_watcher(L);
  int64_t timeout = opt_timeout_ms(L, 2);
  if (w->callback != LUA_NOREF) raise(L, "EINVAL", "next: this watcher calls its function for each event");
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
  if (w->callback != LUA_NOREF) raise(L, "EINVAL", "events: this watcher calls its function for each event");
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
