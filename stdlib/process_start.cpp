// process.start(cmd[, args][, opts]): a child that streams. Its stdin, stdout and stderr are
// objects whose calls suspend only the calling task; its exit is watched through a pidfd, so it
// is reaped even when its object is collected.
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "stdlib/process_child.hpp"

namespace mw::proc {

int start_running(asio::io_context& io, Spec& spec, Stream in_mode, Stream out_mode, Stream err_mode, bool own_group,
                  std::shared_ptr<Running>& started) {
  auto r = std::make_shared<Running>(io);
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  // stdin is a socket pair: a write to a child that exited fails with EPIPE (MSG_NOSIGNAL)
  // instead of raising SIGPIPE in the whole process.
  bool ok = devnull >= 0 && (in_mode != Stream::pipe || ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) == 0) &&
            (out_mode != Stream::pipe || ::pipe2(out, O_CLOEXEC) == 0) &&
            (err_mode != Stream::pipe || ::pipe2(err, O_CLOEXEC) == 0);
  int rc = ok ? 0 : errno;
  if (ok) {
    auto fd_for = [devnull](Stream mode, int piped) { return mode == Stream::pipe ? piped : mode == Stream::null ? devnull : -1; };
    rc = spawn_process(spec, fd_for(in_mode, in[0]), fd_for(out_mode, out[1]), fd_for(err_mode, err[1]), own_group, &r->pid);
  }
  for (int fd : {in[0], out[1], err[1], devnull})
    if (fd >= 0) ::close(fd);
  int pfd = rc == 0 ? pidfd_open(r->pid) : -1;
  if (rc == 0 && pfd < 0) {  // no pidfd (old kernel): cannot watch the exit without SIGCHLD
    ::kill(r->pid, SIGKILL);
    ::waitpid(r->pid, nullptr, 0);
    rc = ENOSYS;
  }
  if (rc != 0) {
    for (int fd : {in[1], out[0], err[0]})
      if (fd >= 0) ::close(fd);
    return rc;
  }
  if (in[1] >= 0) {
    ::shutdown(in[1], SHUT_RD);
    r->in.assign(in[1]);
  }
  if (out[0] >= 0) r->out.pipe.assign(out[0]);
  if (err[0] >= 0) r->err.pipe.assign(err[0]);
  r->watch_exit(pfd);
  started = std::move(r);
  return 0;
}

void SocketWrite::step() {
  while (written_ < data_.size()) {
    ssize_t n = ::send(r_->in.native_handle(), data_.data() + written_, data_.size() - written_, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      written_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      r_->in.async_wait(Pipe::wait_write, [self = shared_from_this()](const error_code& ec) {
        if (!self->op_->active()) return;
        if (ec) return self->done_(self->op_, self->written_, ECANCELED);  // closed meanwhile
        self->step();
      });
      return;
    }
    return done_(op_, written_, n < 0 ? errno : EPIPE);
  }
  done_(op_, written_, 0);
}

namespace {

// --- process.start: a child that streams ------------------------------------------------------

constexpr const char* kChildType = "moonwire.process.child";
constexpr const char* kStreamType = "moonwire.process.stream";
constexpr const char* kStdinType = "moonwire.process.stdin";

struct ChildBox {
  std::shared_ptr<Running> r;
};
struct StreamBox {
  std::shared_ptr<Running> r;
  PipeSource* src;
};

ChildBox* check_child(lua_State* L) { return static_cast<ChildBox*>(check_udata(L, 1, kChildType)); }
StreamBox* check_stream(lua_State* L) { return static_cast<StreamBox*>(check_udata(L, 1, kStreamType)); }

const char* const kStartOptions[] = {"cwd", "env", "stdout", "stderr", nullptr};

// "pipe" (default): read it from the child object; "inherit": this process's; "null": discarded.
int output_mode(lua_State* L, int opts, const char* key) {
  std::string_view v = opt_sv_field(L, opts, key, "pipe");
  if (v == "pipe") return 0;
  if (v == "inherit") return 1;
  if (v == "null") return 2;
  raisef(L, "EINVAL", "option '%s' must be \"pipe\", \"inherit\" or \"null\"", key);
}

}  // namespace

// process.start(cmd[, args][, opts]) → child
int process_start(lua_State* L) {
  check_program_args(L);
  check_options(L, 3, "process.start", kStartOptions);
  int out_mode = output_mode(L, 3, "stdout"), err_mode = output_mode(L, 3, "stderr");
  Spec* spec = new_spec(L, "process.start");  // 4
  fill_argv(L, *spec);
  spec->cwd = std::string(opt_sv_field(L, 3, "cwd"));
  read_env(L, 3, *spec);
  auto* box = new_object<ChildBox>(L, kChildType, 3);  // 5
  int code;
  {  // C++ objects in their own scope: nothing may be alive when an error is raised
    auto mode = [](int m) { return m == 0 ? Stream::pipe : m == 1 ? Stream::inherit : Stream::null; };
    code = start_running(Engine::of(L).io(), *spec, Stream::pipe, mode(out_mode), mode(err_mode), true, box->r);
  }
  if (code != 0) lua_pushfstring(L, "process.start: cannot run '%s': %s", spec->argv[0].c_str(), std::strerror(code));
  if (code != 0) raise(L, strerrorname_np(code) ? strerrorname_np(code) : "EIO", to_sv(L, -1));
  // uservalues: stdout, stderr stream objects; stdin
  for (int which = 0; which < 2; ++which) {
    new_object<StreamBox>(L, kStreamType, 1, StreamBox{box->r, which == 0 ? &box->r->out : &box->r->err});
    lua_setiuservalue(L, 5, which + 1);
  }
  new_object<ChildBox>(L, kStdinType, 0, ChildBox{box->r});
  lua_setiuservalue(L, 5, 3);
  return 1;
}

namespace {

int child_index(lua_State* L) {
  ChildBox* b = check_child(L);
  std::string_view key = check_sv(L, 2);
  if (key == "stdout") return lua_getiuservalue(L, 1, 1), 1;
  if (key == "stderr") return lua_getiuservalue(L, 1, 2), 1;
  if (key == "stdin") return lua_getiuservalue(L, 1, 3), 1;
  if (key == "pid") return lua_pushinteger(L, b->r->pid), 1;
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  return 1;
}

// child:wait([timeout_ms]) → {status, signal, success, pid}
int child_wait(lua_State* L) {
  ChildBox* b = check_child(L);
  int64_t timeout = opt_timeout_ms(L, 2);
  if (b->r->exited) {
    b->r->push_status(L);
    return 1;
  }
  if (b->r->exit_waiter && b->r->exit_waiter->active()) raise(L, kBusy, "wait: another task is already waiting for this child");
  lua_settop(L, 1);
  return suspend(L, "process wait", timeout, [&](const OpPtr& op) { b->r->exit_waiter = op; });
}

// child:kill([signal]) → true if sent; signal: a number or a name ("TERM", "SIGKILL")
int child_kill(lua_State* L) {
  ChildBox* b = check_child(L);
  int sig = SIGTERM;
  if (lua_type(L, 2) == LUA_TSTRING) {
    std::string_view name = to_sv(L, 2);
    if (name.substr(0, 3) == "SIG") name.remove_prefix(3);
    sig = 0;
    for (int s = 1; s < NSIG && !sig; ++s)
      if (const char* abbrev = sigabbrev_np(s); abbrev && name == abbrev) sig = s;
    if (!sig) value_error(L, 2, "unknown signal name");
  } else if (!lua_isnoneornil(L, 2)) {
    lua_Integer n = luaL_checkinteger(L, 2);
    check_value(L, n > 0 && n < NSIG, 2, "signal number out of range");
    sig = static_cast<int>(n);
  }
  lua_pushboolean(L, !b->r->exited && ::kill(b->r->pid, sig) == 0);
  return 1;
}

int stream_read(lua_State* L) { return read_formats(L, check_stream(L)->src, 2, "read"); }
int stream_read_line(lua_State* L) {
  check_stream(L);
  lua_settop(L, 1);
  lua_pushliteral(L, "l");
  return read_formats(L, check_stream(L)->src, 2, "read_line");
}
int stream_read_all(lua_State* L) {
  check_stream(L);
  lua_settop(L, 1);
  lua_pushliteral(L, "a");
  return read_formats(L, check_stream(L)->src, 2, "read_all");
}
int stream_lines(lua_State* L) { return push_lines(L, check_stream(L)->src, 1, 2, "lines"); }

// child.stdin:write(data) → #data once the child's input took it all; EPIPE if it closed it.
int stdin_write(lua_State* L) {
  auto* b = static_cast<ChildBox*>(check_udata(L, 1, kStdinType));
  std::string_view data = check_sv(L, 2);
  if (!b->r->in.is_open()) raise(L, kClosed, "stdin: closed");
  lua_settop(L, 2);
  return suspend(L, "stdin write", kForever, [&](const OpPtr& op) {
    std::make_shared<SocketWrite>(op, b->r, data, [](const OpPtr& op, size_t n, int err) {
      if (err == 0) return op->resume([n](lua_State* L) { lua_pushinteger(L, static_cast<lua_Integer>(n)); });
      if (err == ECANCELED) return op->fail(kClosed, "stdin: closed");
      op->fail(error_code(err, boost::system::system_category()), "stdin: write");
    })->step();
  });
}

int stdin_close(lua_State* L) {
  auto* b = static_cast<ChildBox*>(check_udata(L, 1, kStdinType));
  error_code ec;
  b->r->in.close(ec);
  return 0;
}

int child_gc(lua_State* L) { return gc_object<ChildBox>(L, kChildType); }
int stdin_gc(lua_State* L) { return gc_object<ChildBox>(L, kStdinType); }
int stream_gc(lua_State* L) { return gc_object<StreamBox>(L, kStreamType); }

void open_child_classes(lua_State* L) {
  const luaL_Reg child_methods[] = {{"wait", child_wait}, {"kill", child_kill}, {nullptr, nullptr}};
  const luaL_Reg child_meta[] = {{"__gc", child_gc}, {nullptr, nullptr}};
  new_class(L, kChildType, child_methods, child_meta, child_index);
  const luaL_Reg stream_methods[] = {{"read", stream_read}, {"read_line", stream_read_line}, {"read_all", stream_read_all},
                                     {"lines", stream_lines}, {nullptr, nullptr}};
  const luaL_Reg stream_meta[] = {{"__gc", stream_gc}, {nullptr, nullptr}};
  new_class(L, kStreamType, stream_methods, stream_meta);
  const luaL_Reg stdin_methods[] = {{"write", stdin_write}, {"close", stdin_close}, {nullptr, nullptr}};
  const luaL_Reg stdin_meta[] = {{"__gc", stdin_gc}, {nullptr, nullptr}};
  new_class(L, kStdinType, stdin_methods, stdin_meta);
}


}  // namespace

void open_start_classes(lua_State* L) { open_child_classes(L); }

}  // namespace mw::proc
