// The `--workers N` supervisor (see workers.hpp and docs/workers.md). It runs no Lua: an Asio
// loop of its own with a signal_set, one pidfd per worker (readable when the worker exits, then
// reaped with waitpid: no zombies) and timers for the restart backoff and the shutdown grace.
#include "runtime/workers.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace mw::workers {

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kIdVar = "MOONWIRE_WORKER_ID";
constexpr const char* kCountVar = "MOONWIRE_WORKER_COUNT";
constexpr const char* kSupervisorVar = "MOONWIRE_SUPERVISOR_PID";

constexpr int kMaxWorkers = 1024;
// Restart policy: a failed worker is restarted after 100 ms, 200 ms, 400 ms, … (at most 10 s).
// A run that lasted kHealthyRun or longer resets the count; the kMaxFailures-th failure in a
// row (each run shorter than kHealthyRun) makes the supervisor give up.
constexpr auto kFirstBackoff = milliseconds(100);
constexpr auto kMaxBackoff = milliseconds(10000);
constexpr auto kHealthyRun = milliseconds(10000);
constexpr int kMaxFailures = 5;
// After forwarding SIGINT/SIGTERM: workers still running this much later get SIGKILL.
constexpr auto kShutdownGrace = milliseconds(30000);

int g_worker_id = 0;
int g_worker_count = 0;

void say(const char* fmt, auto... args) {
  std::fprintf(stderr, "moonwire: ");
  std::fprintf(stderr, fmt, args...);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

int cpu_count() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

// "auto" → the CPUs this process may run on; "1".."1024" → that; else 0.
int parse_count(std::string_view v) {
  if (v == "auto") return cpu_count() > kMaxWorkers ? kMaxWorkers : cpu_count();
  if (v.empty() || v.size() > 5) return 0;
  int n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + (c - '0');
  }
  return n >= 1 && n <= kMaxWorkers ? n : 0;
}

struct Worker {
  int id = 0;
  pid_t pid = -1;
  std::unique_ptr<asio::posix::stream_descriptor> pidfd;
  Clock::time_point started;
  int failures = 0;     // in a row, each run shorter than kHealthyRun
  int last_code = 0;    // exit status, or 128 + signal
  bool running = false;
  bool done = false;    // ended and not restarted
  std::unique_ptr<asio::steady_timer> restart;
};

class Supervisor {
 public:
  Supervisor(int count, int argc, char** argv) : signals_(io_), grace_(io_) {
    args_.assign(argv, argv + argc);
    args_.push_back(nullptr);
    for (int i = 1; i <= count; ++i) {
      auto w = std::make_unique<Worker>();
      w->id = i;
      w->restart = std::make_unique<asio::steady_timer>(io_);
      workers_.push_back(std::move(w));
    }
  }

  int run() {
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2}) signals_.add(sig);
    watch_signals();
    for (auto& w : workers_) spawn(*w);
    check_finished();
    if (!finished_) io_.run();
    if (gave_up_) return give_up_code_;
    for (auto& w : workers_)
      if (w->last_code != 0) return w->last_code;
    return 0;
  }

 private:
  void watch_signals() {
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGINT || sig == SIGTERM) begin_stop(sig);
      else forward(sig);
      watch_signals();
    });
  }

  void forward(int sig) {
    for (auto& w : workers_)
      if (w->running) ::kill(w->pid, sig);
  }

  // Forwards the signal (a second one too: a worker exits at once on its second), restarts
  // nothing from now on, and SIGKILLs whatever is left after the grace period.
  void begin_stop(int sig) {
    forward(sig);
    if (stopping_) return;
    stopping_ = true;
    for (auto& w : workers_) {
      if (!w->running && !w->done) {  // waiting for a restart: stays down
        w->restart->cancel();
        w->done = true;
      }
    }
    grace_.expires_after(kShutdownGrace);
    grace_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      for (auto& w : workers_) {
        if (!w->running) continue;
        say("worker %d (pid %d) still running %lld s after the shutdown signal: SIGKILL", w->id,
            static_cast<int>(w->pid), static_cast<long long>(kShutdownGrace.count() / 1000));
        ::kill(w->pid, SIGKILL);
      }
    });
    check_finished();
  }

  std::vector<char*> child_env(const Worker& w) {
    env_storage_.clear();
    env_storage_.push_back(std::string(kIdVar) + "=" + std::to_string(w.id));
    env_storage_.push_back(std::string(kCountVar) + "=" + std::to_string(workers_.size()));
    env_storage_.push_back(std::string(kSupervisorVar) + "=" + std::to_string(::getpid()));
    std::vector<char*> env;
    for (char** e = environ; *e; ++e) {
      std::string_view s(*e);
      bool ours = false;
      for (const char* v : {kIdVar, kCountVar, kSupervisorVar})
        if (s.size() > std::strlen(v) && s.substr(0, std::strlen(v)) == v && s[std::strlen(v)] == '=') ours = true;
      if (!ours) env.push_back(*e);
    }
    for (auto& s : env_storage_) env.push_back(s.data());
    env.push_back(nullptr);
    return env;
  }

  void spawn(Worker& w) {
    if (stopping_) {  // the supervisor gave up (or was signalled) while starting the others
      w.done = true;
      return check_finished();
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    // Workers read no terminal: stdin is /dev/null. stdout/stderr are shared with the supervisor.
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    // Each worker in a process group of its own, so a terminal's Ctrl-C reaches the supervisor
    // only, which forwards it once (a worker would exit at once on a second SIGINT).
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
    std::vector<char*> env = child_env(w);
    pid_t pid = -1;
    int err = posix_spawn(&pid, "/proc/self/exe", &fa, &attr, args_.data(), env.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    w.started = Clock::now();
    if (err != 0) {
      say("cannot start worker %d: %s", w.id, std::strerror(err));
      return exited(w, 1);
    }
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) {  // cannot happen on Linux >= 5.3; do not leave an unwatched child behind
      say("cannot watch worker %d (pidfd_open: %s)", w.id, std::strerror(errno));
      ::kill(pid, SIGKILL);
      int st;
      ::waitpid(pid, &st, 0);
      return exited(w, 1);
    }
    w.pid = pid;
    w.running = true;
    w.pidfd = std::make_unique<asio::posix::stream_descriptor>(io_, fd);
    w.pidfd->async_wait(asio::posix::stream_descriptor::wait_read, [this, &w](const boost::system::error_code& ec) {
      if (ec) return;
      int st = 0;
      pid_t r;
      do r = ::waitpid(w.pid, &st, 0);
      while (r < 0 && errno == EINTR);
      w.pidfd.reset();
      w.running = false;
      int code = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
      if (WIFSIGNALED(st) && !stopping_)
        say("worker %d (pid %d) was killed by %s", w.id, static_cast<int>(w.pid), signal_name(WTERMSIG(st)).c_str());
      else if (code != 0 && !stopping_)
        say("worker %d (pid %d) exited with code %d", w.id, static_cast<int>(w.pid), code);
      exited(w, code);
    });
  }

  void exited(Worker& w, int code) {
    w.running = false;
    w.last_code = code;
    if (stopping_ || code == 0) {  // shutting down, or the script finished: not restarted
      w.done = true;
      return check_finished();
    }
    if (Clock::now() - w.started >= kHealthyRun) w.failures = 0;
    if (++w.failures >= kMaxFailures) {
      say("worker %d failed %d times in a row, each within %lld s of its start: giving up (exit code %d)", w.id,
          w.failures, static_cast<long long>(kHealthyRun.count() / 1000), code);
      w.done = true;
      if (!gave_up_) {
        gave_up_ = true;
        give_up_code_ = code;
      }
      begin_stop(SIGTERM);
      return;
    }
    auto delay = kFirstBackoff * (1 << (w.failures - 1));
    if (delay > kMaxBackoff) delay = kMaxBackoff;
    say("restarting worker %d in %lld ms", w.id, static_cast<long long>(delay.count()));
    w.restart->expires_after(delay);
    w.restart->async_wait([this, &w](const boost::system::error_code& ec) {
      if (ec || stopping_) return;
      spawn(w);
    });
  }

  void check_finished() {
    for (auto& w : workers_)
      if (!w->done) return;
    finished_ = true;
    grace_.cancel();
    signals_.cancel();
    io_.stop();
  }

  asio::io_context io_{1};
  asio::signal_set signals_;
  asio::steady_timer grace_;
  std::vector<char*> args_;
  std::vector<std::string> env_storage_;
  std::vector<std::unique_ptr<Worker>> workers_;
  bool stopping_ = false;
  bool finished_ = false;
  bool gave_up_ = false;
  int give_up_code_ = 0;
};

// In a worker: the supervisor's variables become this process's identity (and leave the
// environment, so a moonwire the script starts is not taken for a worker).
void init_worker() {
  const char* id = std::getenv(kIdVar);
  const char* count = std::getenv(kCountVar);
  const char* sup = std::getenv(kSupervisorVar);
  if (id && count && sup) {
    int i = std::atoi(id), n = std::atoi(count);
    long parent = std::atol(sup);
    if (i >= 1 && n >= i && n <= kMaxWorkers) {
      // The supervisor gone (killed with SIGKILL): the worker gets SIGTERM, a graceful shutdown.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (static_cast<long>(::getppid()) != parent) {
        say("worker %d: its supervisor (pid %ld) is gone", i, parent);
        std::_Exit(1);
      }
      g_worker_id = i;
      g_worker_count = n;
    }
  }
  for (const char* v : {kIdVar, kCountVar, kSupervisorVar}) ::unsetenv(v);
}

}  // namespace

int worker_id() { return g_worker_id; }
int worker_count() { return g_worker_count; }

bool run_supervisor_if_asked(int& argc, char** argv, int& code) {
  // The options before the script, as lua.c reads them (-e and -l take the next argument).
  int at = 0, drop = 0;
  std::string_view value;
  bool has_script = false, has_e = false, has_i = false, stdin_script = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view s(argv[i]);
    if (s.empty() || s[0] != '-') {
      has_script = true;
      break;
    }
    if (s == "-") {
      stdin_script = true;
      break;
    }
    if (s == "--") {
      has_script = i + 1 < argc;
      stdin_script = has_script && std::string_view(argv[i + 1]) == "-";
      break;
    }
    if (s == "--workers" || s.substr(0, 10) == "--workers=") {
      if (at) {
        say("--workers given twice");
        return code = 1, true;
      }
      at = i;
      if (s.size() > 9) {
        value = s.substr(10);
        drop = 1;
      } else {
        if (i + 1 >= argc) {
          say("'--workers' needs an argument: a number of workers from 1 to %d or 'auto'", kMaxWorkers);
          return code = 1, true;
        }
        value = argv[++i];
        drop = 2;
      }
      continue;
    }
    if (s == "-i") has_i = true;
    if ((s[1] == 'e' || s[1] == 'l') && s.size() == 2) {
      if (s[1] == 'e') has_e = true;
      ++i;
    } else if (s[1] == 'e') {
      has_e = true;
    }
  }
  if (!at) {
    init_worker();
    return false;
  }
  int n = parse_count(value);
  if (n == 0) {
    say("--workers: expected a number of workers from 1 to %d or 'auto', got '%.*s'", kMaxWorkers,
        static_cast<int>(value.size()), value.data());
    return code = 1, true;
  }
  if (has_i || stdin_script || (!has_script && !has_e)) {
    say("--workers needs a script file (or -e): workers cannot share the terminal or stdin");
    return code = 1, true;
  }
  for (int i = at; i + drop <= argc; ++i) argv[i] = argv[i + drop];  // argv[argc] is null
  argc -= drop;
  Supervisor sup(n, argc, argv);
  code = sup.run();
  return true;
}

}  // namespace mw::workers
