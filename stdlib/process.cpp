// process: run commands without blocking the loop. exec(cmd[, opts]) through `sh -c`,
// spawn(cmd, args[, opts]) without a shell; both wait for the child (suspending only the calling
// task) and return {stdout, stderr, status, success, signal}. Children are started with
// posix_spawn, their output read through non-blocking pipes, their exit seen through a pidfd,
// so every child is reaped (no zombies) even when the waiting task gives up.
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <string>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "runtime/coroutine.hpp"
#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/modules.hpp"
#include "stdlib/process.hpp"
#include "stdlib/process_child.hpp"
#include "stdlib/reader.hpp"

extern char** environ;

namespace mw {
namespace proc {

const char* signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  static thread_local char buf[16];
  if (!abbrev) return "signal";
  std::snprintf(buf, sizeof buf, "SIG%s", abbrev);
  return buf;
}

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// Starts spec.argv with fd0/fd1/fd2 (-1: inherited) as its standard streams; no other
// descriptor leaks into it, signals are reset to their defaults. Returns 0 or an errno value.
int spawn_process(Spec& spec, int fd0, int fd1, int fd2, bool own_group, pid_t* pid) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (fd0 >= 0) posix_spawn_file_actions_adddup2(&fa, fd0, 0);
  if (fd1 >= 0) posix_spawn_file_actions_adddup2(&fa, fd1, 1);
  if (fd2 >= 0) posix_spawn_file_actions_adddup2(&fa, fd2, 2);
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);  // no listening socket leaks into a child
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, spec.cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | (own_group ? POSIX_SPAWN_SETPGROUP : 0));
  std::vector<char*> argv, envp;
  for (auto& a : spec.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : spec.env) envp.push_back(e.data());
  envp.push_back(nullptr);
  int rc = ::posix_spawnp(pid, argv[0], &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  return rc;
}

namespace {
bool is_env_name(std::string_view s) { return !s.empty() && s.find('=') == std::string_view::npos && s.find('\0') == std::string_view::npos; }

}  // namespace

// The child's environment: ours, with opts.env's entries set (a value false removes one).
void read_env(lua_State* L, int opts, Spec& spec) {
  int t = get_field(L, opts, "env");
  if (t != LUA_TNIL && t != LUA_TTABLE) option_error(L, "env", "a table of names to strings (false removes one)");
  if (t == LUA_TTABLE) {  // validate first
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (lua_type(L, -2) != LUA_TSTRING || !is_env_name(to_sv(L, -2)))
        raise(L, "EINVAL", "option 'env': names must be non-empty strings without '=' or NUL");
      bool ok = lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER ||
                (lua_isboolean(L, -1) && !lua_toboolean(L, -1));
      if (!ok || (lua_type(L, -1) == LUA_TSTRING && to_sv(L, -1).find('\0') != std::string_view::npos))
        raise(L, "EINVAL", "option 'env': values must be strings without NUL, or false to remove a variable");
      lua_pop(L, 1);
    }
  }
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    if (t == LUA_TTABLE) {
      lua_pushlstring(L, name.data(), name.size());
      bool overridden = lua_rawget(L, -2) != LUA_TNIL;
      lua_pop(L, 1);
      if (overridden) continue;
    }
    spec.env.emplace_back(entry);
  }
  if (t == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (!lua_isboolean(L, -1)) {
        lua_pushvalue(L, -2);
        spec.env.push_back(std::string(to_sv(L, -1)) + "=" + std::string(lua_tostring(L, -2)));
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

Spec* new_spec(lua_State* L, const char* fname) {
  auto* spec = new_object<Spec>(L, kSpecType, 0);
  spec->fname = fname;
  return spec;
}

// An options table where the arguments would be: no items, a string key.
bool looks_like_options(lua_State* L, int idx) {
  if (!lua_istable(L, idx) || luaL_len(L, idx) > 0) return false;
  lua_pushnil(L);
  if (!lua_next(L, idx)) return false;
  bool keyed = lua_type(L, -2) == LUA_TSTRING;
  lua_pop(L, 2);
  return keyed;
}

// spawn/start arguments: (cmd[, args][, opts]), also (cmd, opts); leaves cmd, args (nil or a
// list of strings/numbers without NUL) and opts at 1..3.
void check_program_args(lua_State* L) {
  std::string_view cmd = check_sv(L, 1);
  if (cmd.empty() || cmd.find('\0') != std::string_view::npos) value_error(L, 1, "command must be a non-empty string without NUL");
  if (lua_isnoneornil(L, 3) && looks_like_options(L, 2)) {  // (cmd, opts)
    lua_settop(L, 2);
    lua_pushnil(L);
    lua_insert(L, 2);
  }
  lua_settop(L, 3);
  if (!lua_isnil(L, 2) && !lua_istable(L, 2)) luaL_typeerror(L, 2, "table of arguments");
  lua_Integer n = lua_istable(L, 2) ? luaL_len(L, 2) : 0;
  for (lua_Integer i = 1; i <= n; ++i) {
    int t = lua_rawgeti(L, 2, i);
    if ((t != LUA_TSTRING && t != LUA_TNUMBER) || to_sv(L, -1).find('\0') != std::string_view::npos)
      value_error(L, 2, "arguments must be strings or numbers without NUL");
    lua_pop(L, 1);
  }
}

// argv = cmd, then the arguments, as check_program_args left them.
void fill_argv(lua_State* L, Spec& spec) {
  spec.argv.emplace_back(to_sv(L, 1));
  lua_Integer n = lua_istable(L, 2) ? luaL_len(L, 2) : 0;
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, 2, i);
    spec.argv.emplace_back(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
}

}  // namespace proc

namespace {

using namespace proc;

// A running child: its pipes, its exit watcher, the output collected so far.
class Child : public std::enable_shared_from_this<Child> {
 public:
  Child(asio::io_context& io, OpPtr op) : io_(io), op_(std::move(op)), in_(io), out_(io), err_(io), exit_(io), timer_(io) {}

  // Starts the child; on failure fails the op (nothing else is left running).
  void start(Spec& spec) {
    spec_timeout_ = spec.timeout_ms;
    grace_ms_ = spec.kill_grace_ms;
    max_output_ = spec.max_output;
    fname_ = spec.fname;
    what_ = spec.argv.size() >= 3 && spec.argv[0] == "/bin/sh" ? spec.argv[2] : spec.argv[0];
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    // stdin is a socket pair, not a pipe: writing to a child that exited without reading must
    // fail with EPIPE (send with MSG_NOSIGNAL), not raise SIGPIPE in the whole process.
    bool pipes_ok = ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) == 0 &&
                    (spec.inherit_output || (::pipe2(out, O_CLOEXEC) == 0 && ::pipe2(err, O_CLOEXEC) == 0));
    if (!pipes_ok) {
      int e = errno;
      for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]})
        if (fd >= 0) ::close(fd);
      return op_->fail(error_code(e, boost::system::system_category()), std::string(fname_) + ": pipe");
    }
    // Its own process group (not for os.execute, which may run an interactive program): a
    // timeout or a cancel then stops the grandchildren too, which would otherwise keep the
    // output pipes open.
    own_group_ = !spec.inherit_output;
    int rc = spawn_process(spec, in[0], spec.inherit_output ? -1 : out[1], spec.inherit_output ? -1 : err[1], own_group_, &pid_);
    for (int fd : {in[0], out[1], err[1]})
      if (fd >= 0) ::close(fd);
    if (rc != 0) {
      for (int fd : {in[1], out[0], err[0]})
        if (fd >= 0) ::close(fd);
      return op_->fail(error_code(rc, boost::system::system_category()),
                       std::string(fname_) + ": cannot run '" + spec.argv[0] + "'");
    }
    int pfd = pidfd_open(pid_);
    if (pfd < 0) {  // no pidfd (old kernel): cannot watch the exit without a SIGCHLD handler
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      ::close(in[1]);
      for (int fd : {out[0], err[0]})
        if (fd >= 0) ::close(fd);
      return op_->fail("ENOSYS", std::string(fname_) + ": pidfd_open is not available");
    }
    exit_.assign(pfd);
    ::shutdown(in[1], SHUT_RD);
    in_.assign(in[1]);
    if (!spec.inherit_output) {
      out_.assign(out[0]);
      err_.assign(err[0]);
    } else {
      out_done_ = err_done_ = true;
    }
    input_ = std::move(spec.input);
    // Weak: the op is held by this child; a strong reference back would keep both forever.
    op_->on_abandon([w = weak_from_this()] {
      if (auto self = w.lock()) self->abandon();
    });
    write_input();
    if (!out_done_) read(out_, out_buf_, out_done_);
    if (!err_done_) read(err_, err_buf_, err_done_);
    watch_exit();
    if (spec_timeout_ != kForever) arm_timeout();
  }

 private:
  void write_input() {
    while (input_written_ < input_.size()) {
      ssize_t n = ::send(in_.native_handle(), input_.data() + input_written_, input_.size() - input_written_,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        input_written_ += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        auto self = shared_from_this();
        in_.async_wait(Pipe::wait_write, [self](const error_code& ec) {
          if (ec) return self->close_input();
          self->write_input();
        });
        return;
      }
      break;  // EPIPE: the child exited without reading all of it, which is not our error
    }
    close_input();
  }

  void close_input() {
    error_code ec;
    in_.close(ec);  // EOF for the child
  }

  void read(Pipe& p, std::string& buf, bool& done) {
    auto self = shared_from_this();
    size_t old = buf.size();
    buf.resize(old + 16384);
    p.async_read_some(asio::buffer(buf.data() + old, 16384), [self, &p, &buf, &done, old](const error_code& ec, size_t n) {
      buf.resize(old + n);
      if (ec) {
        done = true;
        error_code ignored;
        p.close(ignored);
        return self->maybe_finish();
      }
      self->received_ += n;
      if (self->received_ > self->max_output_) {
        self->overflow_ = true;
        self->kill(SIGKILL);
        done = true;
        error_code ignored;
        p.close(ignored);
        return self->maybe_finish();
      }
      self->read(p, buf, done);
    });
  }

  void watch_exit() {
    auto self = shared_from_this();
    exit_.async_wait(Pipe::wait_read, [self](const error_code& ec) {
      int status = 0;
      pid_t r = ::waitpid(self->pid_, &status, WNOHANG);
      if (r == 0 && !ec) return self->watch_exit();  // spurious
      self->exited_ = true;
      self->status_ = status;
      error_code ignored;
      self->exit_.close(ignored);
      if (self->out_done_ && self->err_done_) self->timer_.cancel();  // else a grandchild holds the pipes
      self->maybe_finish();
    });
  }

  void arm_timeout() {
    auto self = shared_from_this();
    timer_.expires_after(std::chrono::milliseconds(spec_timeout_));
    timer_.async_wait([self](const error_code& ec) {
      if (ec || (self->exited_ && self->out_done_ && self->err_done_)) return;
      self->timed_out_ = true;
      self->kill(SIGTERM);
      self->timer_.expires_after(std::chrono::milliseconds(self->grace_ms_));
      self->timer_.async_wait([self](const error_code& ec) {
        if (!ec && !self->finished_) self->kill(SIGKILL);  // it ignored SIGTERM
      });
    });
  }

  void kill(int sig) {
    if (own_group_) ::kill(-pid_, sig);  // the whole group, even after the child itself exited
    else if (!exited_) ::kill(pid_, sig);
  }

  // The waiting task gave up (cancelled, shutdown): the child is killed and still reaped.
  void abandon() {
    kill(SIGKILL);
    error_code ignored;
    in_.close(ignored);
  }

  void maybe_finish() {
    if (!exited_ || !out_done_ || !err_done_ || finished_) return;
    finished_ = true;
    timer_.cancel();
    if (!op_->active()) return;
    auto self = shared_from_this();
    if (timed_out_ || overflow_) {
      std::string msg = std::string(fname_) + ": '" + what_ + "' " +
                        (timed_out_ ? "timed out after " + std::to_string(spec_timeout_) + " ms"
                                    : "wrote more than " + std::to_string(max_output_) + " bytes") +
                        " and was killed";
      const char* code = timed_out_ ? kTimedOut : "EMSGSIZE";
      return op_->fail_with([self, msg, code](lua_State* L) {
        push_error(L, code, msg, 0);
        self->push_fields(L);
      });
    }
    op_->resume([self](lua_State* L) {
      lua_createtable(L, 0, 6);
      self->push_fields(L);
    });
  }

  // stdout, stderr, status, signal, success into the table at the top.
  void push_fields(lua_State* L) {
    push_sv(L, out_buf_);
    lua_setfield(L, -2, "stdout");
    push_sv(L, err_buf_);
    lua_setfield(L, -2, "stderr");
    if (WIFEXITED(status_)) {
      lua_pushinteger(L, WEXITSTATUS(status_));
    } else {
      int sig = WIFSIGNALED(status_) ? WTERMSIG(status_) : 0;
      lua_pushinteger(L, 128 + sig);  // as a shell reports it
      lua_pushstring(L, signal_name(sig));
      lua_setfield(L, -3, "signal");
    }
    lua_setfield(L, -2, "status");
    lua_pushboolean(L, WIFEXITED(status_) && WEXITSTATUS(status_) == 0);
    lua_setfield(L, -2, "success");
    lua_pushinteger(L, pid_);
    lua_setfield(L, -2, "pid");
  }

  asio::io_context& io_;
  OpPtr op_;
  Pipe in_, out_, err_, exit_;
  asio::steady_timer timer_;
  pid_t pid_ = -1;
  std::string input_, out_buf_, err_buf_, what_;
  size_t input_written_ = 0;
  const char* fname_ = "process";
  bool out_done_ = false, err_done_ = false, exited_ = false, finished_ = false;
  bool timed_out_ = false, overflow_ = false, own_group_ = false;
  int status_ = 0;
  int64_t spec_timeout_ = kForever, grace_ms_ = kDefaultKillGraceMs;
  size_t max_output_ = kDefaultMaxOutput;
  size_t received_ = 0;
};

// --- argument parsing (into the Spec userdata) ------------------------------------------------

const char* const kOptions[] = {"cwd", "env", "stdin", "timeout", "kill_grace", "max_output", nullptr};

void read_options(lua_State* L, int opts, Spec& spec) {
  check_options(L, opts, spec.fname, kOptions);
  spec.cwd = std::string(opt_sv_field(L, opts, "cwd"));
  int t = get_field(L, opts, "stdin");
  if (t == LUA_TSTRING) {
    spec.input = std::string(to_sv(L, -1));
    spec.has_input = true;
  } else if (t != LUA_TNIL) {
    option_error(L, "stdin", "a string (written to the child, then closed)");
  }
  lua_pop(L, 1);
  spec.timeout_ms = opt_timeout_field(L, opts, "timeout", kForever);
  spec.kill_grace_ms = opt_timeout_field(L, opts, "kill_grace", kDefaultKillGraceMs);
  if (spec.kill_grace_ms == kForever) spec.kill_grace_ms = 0;
  spec.max_output = static_cast<size_t>(opt_int_field(L, opts, "max_output", kDefaultMaxOutput, 1));
  read_env(L, opts, spec);
}

int run(lua_State* L, int spec_idx, const char* what) {
  return suspend(L, what, kForever, [&](const OpPtr& op) {
    auto* spec = static_cast<Spec*>(lua_touserdata(L, spec_idx));
    auto child = std::make_shared<Child>(op->engine().io(), op);
    child->start(*spec);
  });
}

// process.exec(cmd[, opts])
int process_exec(lua_State* L) {
  std::string_view cmd = check_sv(L, 1);
  if (cmd.find('\0') != std::string_view::npos) value_error(L, 1, "command contains NUL");
  lua_settop(L, 2);
  Spec* spec = new_spec(L, "process.exec");  // 3
  spec->argv = {"/bin/sh", "-c", std::string(cmd)};
  read_options(L, 2, *spec);
  return run(L, 3, "process.exec");
}

// process.spawn(cmd, args[, opts])
int process_spawn(lua_State* L) {
  check_program_args(L);
  Spec* spec = new_spec(L, "process.spawn");  // 4
  fill_argv(L, *spec);
  read_options(L, 3, *spec);
  return run(L, 4, "process.spawn");
}

// os.execute([cmd]) from a task: the same results as Lua's, without freezing the other tasks.
int os_execute_k(lua_State* L, int status, lua_KContext ctx) {
  lua_getfield(L, -1, "signal");
  bool signaled = !lua_isnil(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, -1, "success");
  bool success = lua_toboolean(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, -1, "status");
  lua_Integer code = lua_tointeger(L, -1);
  if (success)
    lua_pushboolean(L, 1);
  else
    lua_pushnil(L);
  lua_pushstring(L, signaled ? "signal" : "exit");
  lua_pushinteger(L, signaled ? code - 128 : code);
  return 3;
}

int os_execute(lua_State* L) {
  Scheduler& sched = Engine::of(L).scheduler();
  Task* task = sched.current();
  bool can_wait = task && lua_isyieldable(L) && !lua_isnoneornil(L, 1) && chain_is_yieldable(L, task);
  if (!can_wait) {  // no command (is a shell there?), or where Lua cannot yield: Lua's own
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
  }
  std::string_view cmd = check_sv(L, 1);
  if (cmd.find('\0') != std::string_view::npos) value_error(L, 1, "command contains NUL");
  lua_settop(L, 1);
  std::fflush(stdout);  // what the script printed comes before the child's output
  Spec* spec = new_spec(L, "os.execute");  // 2
  spec->argv = {"/bin/sh", "-c", std::string(cmd)};
  spec->inherit_output = true;
  lua_newtable(L);  // no options: environment inherited as is
  read_env(L, 3, *spec);
  lua_settop(L, 2);
  lua_pushcfunction(L, [](lua_State* L) -> int { return run(L, 1, "os.execute"); });
  lua_pushvalue(L, 2);
  lua_callk(L, 1, 1, 0, os_execute_k);
  return os_execute_k(L, LUA_OK, 0);
}

int process_pid(lua_State* L) {
  lua_pushinteger(L, ::getpid());
  return 1;
}

int spec_gc(lua_State* L) { return gc_object<Spec>(L, kSpecType); }

}  // namespace

int open_process(lua_State* L) {
  const luaL_Reg spec_meta[] = {{"__gc", spec_gc}, {nullptr, nullptr}};
  new_class(L, kSpecType, nullptr, spec_meta);
  open_start_classes(L);
  open_popen(L);
  // os.execute through the same machinery, when called from a task.
  lua_getglobal(L, "os");
  lua_getfield(L, -1, "execute");
  lua_pushcclosure(L, os_execute, 1);
  lua_setfield(L, -2, "execute");
  lua_pop(L, 1);
  const luaL_Reg funcs[] = {{"exec", process_exec}, {"spawn", process_spawn}, {"start", process_start}, {"pid", process_pid}, {nullptr, nullptr}};
  luaL_newlib(L, funcs);
  open_process_self(L, -1);
  return 1;
}

}  // namespace mw
