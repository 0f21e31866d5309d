#pragma once
// What the process module's files share: the parsed description of a child (Spec), starting
// one with posix_spawn, and a started child whose pipes are read with io's formats (Running),
// used by process.start and io.popen.
#include <boost/asio/posix/stream_descriptor.hpp>
#include <memory>
#include <string>
#include <sys/wait.h>
#include <vector>

#include "runtime/lua.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/reader.hpp"

namespace mw::proc {

namespace asio = boost::asio;
using error_code = boost::system::error_code;
using Pipe = asio::posix::basic_stream_descriptor<asio::io_context::executor_type>;

inline constexpr const char* kSpecType = "moonwire.process.spec";
inline constexpr size_t kDefaultMaxOutput = size_t(64) << 20;
inline constexpr int64_t kDefaultKillGraceMs = 2000;

// Everything a run needs, parsed from the arguments before anything starts. A userdata: an
// error raised while parsing leaks nothing.
struct Spec {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // NAME=value, the child's whole environment
  std::string cwd;
  std::string input;
  bool has_input = false;
  bool inherit_output = false;  // os.execute: the child writes to our stdout/stderr
  int64_t timeout_ms = kForever;
  int64_t kill_grace_ms = kDefaultKillGraceMs;
  size_t max_output = kDefaultMaxOutput;
  const char* fname = "process";
};

// "SIGTERM" for SIGTERM (thread-local buffer).
const char* signal_name(int sig);
int pidfd_open(pid_t pid);
// Starts spec.argv with fd0/fd1/fd2 (-1: inherited) as its standard streams; no other
// descriptor leaks into it, signals are reset to their defaults. Returns 0 or an errno value.
int spawn_process(Spec& spec, int fd0, int fd1, int fd2, bool own_group, pid_t* pid);
// The child's environment: ours, with the `env` field of the options at `opts` applied.
void read_env(lua_State* L, int opts, Spec& spec);
// A Spec userdata, pushed.
Spec* new_spec(lua_State* L, const char* fname);
// spawn/start arguments: (cmd[, args][, opts]), also (cmd, opts); leaves cmd, args, opts at 1..3.
void check_program_args(lua_State* L);
// argv = cmd, then the arguments, as check_program_args left them.
void fill_argv(lua_State* L, Spec& spec);

// A child's stdout or stderr, read with io's formats as data arrives.
class PipeSource : public Source {
 public:
  explicit PipeSource(asio::io_context& io) : pipe(io) {}
  Pipe pipe;
  void request() override {
    if (reading_ || eof) return;
    if (!pipe.is_open()) return arrived({}, true);
    reading_ = true;
    // The owner (holding this source) stays alive while the read is out.
    pipe.async_read_some(asio::buffer(chunk_, sizeof chunk_), [this, keep = owner.lock()](const error_code& ec, size_t n) {
      reading_ = false;
      arrived(std::string_view(chunk_, n), static_cast<bool>(ec));
    });
  }
  std::weak_ptr<void> owner;
 private:
  bool reading_ = false;
  char chunk_[16384];
};

// A started child (process.start): stdin, stdout, stderr, its exit.
class Running : public std::enable_shared_from_this<Running> {
 public:
  explicit Running(asio::io_context& io) : in(io), out(io), err(io), exit_(io) {}
  Pipe in;
  PipeSource out, err;
  pid_t pid = -1;
  bool exited = false;
  int status = 0;
  OpPtr exit_waiter;

  void watch_exit(int pidfd) {
    exit_.assign(pidfd);
    out.owner = err.owner = weak_from_this();
    wait_exit();
  }
  void kill(int sig) {
    if (!exited) ::kill(pid, sig);
  }
  void push_status(lua_State* L) {
    lua_createtable(L, 0, 4);
    if (WIFEXITED(status)) {
      lua_pushinteger(L, WEXITSTATUS(status));
    } else {
      int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
      lua_pushinteger(L, 128 + sig);
      lua_pushstring(L, signal_name(sig));
      lua_setfield(L, -3, "signal");
    }
    lua_setfield(L, -2, "status");
    lua_pushboolean(L, WIFEXITED(status) && WEXITSTATUS(status) == 0);
    lua_setfield(L, -2, "success");
    lua_pushinteger(L, pid);
    lua_setfield(L, -2, "pid");
  }

 private:
  void wait_exit() {
    exit_.async_wait(Pipe::wait_read, [self = shared_from_this()](const error_code& ec) {
      int st = 0;
      if (::waitpid(self->pid, &st, WNOHANG) == 0 && !ec) return self->wait_exit();
      self->exited = true;
      self->status = st;
      error_code ignored;
      self->exit_.close(ignored);
      if (OpPtr op = std::move(self->exit_waiter); op && op->active())
        op->resume([self](lua_State* L) { self->push_status(L); });
    });
  }
  Pipe exit_;
};


// One write to a Running child's stdin in progress: sends without SIGPIPE, waits when the
// socket is full, then calls done(op, bytes written, 0) or done(op, written, errno): EPIPE when
// the child closed its input, ECANCELED when the socket was closed meanwhile. `data` must stay
// alive while the op waits (an argument of the suspended call).
class SocketWrite : public std::enable_shared_from_this<SocketWrite> {
 public:
  using Done = void (*)(const OpPtr& op, size_t written, int err);
  SocketWrite(OpPtr op, std::shared_ptr<Running> r, std::string_view data, Done done)
      : op_(std::move(op)), r_(std::move(r)), data_(data), done_(done) {}
  void step();

 private:
  OpPtr op_;
  std::shared_ptr<Running> r_;
  std::string_view data_;
  Done done_;
  size_t written_ = 0;
};

// How a started child's standard streams are connected.
enum class Stream { pipe, inherit, null };

// Starts spec.argv as a Running child (stdin a socket pair unless inherited); 0 or an errno.
int start_running(asio::io_context& io, Spec& spec, Stream in, Stream out, Stream err, bool own_group,
                  std::shared_ptr<Running>& started);

// process.start and its child classes (process_start.cpp).
int process_start(lua_State* L);
void open_start_classes(lua_State* L);

}  // namespace mw::proc
