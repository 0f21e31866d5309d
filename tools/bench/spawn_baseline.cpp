// process.exec baseline: the minimal C++ version of what moonwire does per process.exec("true").
// A loop of posix_spawn (stdout and stderr on pipes, read to EOF with poll, then waitpid), one
// child at a time. With --shell the child is `/bin/sh -c CMD` (as process.exec runs it),
// without it CMD itself (as process.spawn and Node's execFile run it).
//
// usage: bench_spawn_baseline COUNT [--shell] [CMD]   (CMD default "true")
// prints: spawns=<n> seconds=<s> rate=<spawns/s>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

static int run_once(char* const* argv) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(out[0]);
    close(err[0]);
    errno = rc;
    return -1;
  }
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open = 2;
  char buf[65536];
  while (open > 0) {
    if (poll(fds, 2, -1) < 0 && errno != EINTR) break;
    for (auto& f : fds) {
      if (f.fd < 0 || !(f.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(f.fd, buf, sizeof buf);
      if (n <= 0) {
        close(f.fd);
        f.fd = -1;
        --open;
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s COUNT [--shell] [CMD]\n", argv[0]);
    return 2;
  }
  long count = std::strtol(argv[1], nullptr, 10);
  bool shell = false;
  std::string cmd = "true";
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--shell") == 0) shell = true;
    else cmd = argv[i];
  }
  char sh[] = "/bin/sh", dash_c[] = "-c";
  char* shell_argv[] = {sh, dash_c, cmd.data(), nullptr};
  char* plain_argv[] = {cmd.data(), nullptr};
  char* const* av = shell ? shell_argv : plain_argv;
  auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < count; ++i) {
    if (run_once(av) != 0) {
      std::fprintf(stderr, "spawn failed: %s\n", std::strerror(errno));
      return 1;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("spawns=%ld seconds=%.3f rate=%.1f\n", count, secs, count / secs);
  return 0;
}
