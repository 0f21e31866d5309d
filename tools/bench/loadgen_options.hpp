#pragma once
// Command-line options shared by the TCP and WebSocket load generators.
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>

struct Options {
  std::string mode;
  unsigned short port = 0;
  int conns = -1;  // -1: the mode's default
  size_t size = 64;
  double duration = 4.0;
  double warmup = 0.5;
  int parallel = 200;
  double hold = 120.0;
  long count = 1000;  // bcast
  int rounds = 3;     // bcast
  int threads = 1;    // bcast: threads, each owning a share of the connections
  bool http = false;  // hold: one HTTP GET / per connection, then idle keep-alive
};

inline const char* g_program = "loadgen";

[[noreturn]] inline void die(const std::string& msg) {
  std::fprintf(stderr, "%s: %s\n", g_program, msg.c_str());
  std::exit(1);
}

// Parses `PROGRAM MODE --option value ...`; MODE must be one of `modes`.
inline Options parse_options(int argc, char** argv, const char* program, std::initializer_list<const char*> modes) {
  g_program = program;
  Options o;
  std::string list;
  for (const char* m : modes) list += (list.empty() ? "" : "|") + std::string(m);
  if (argc < 2) die("usage: " + std::string(program) + " " + list + " --port P [options]");
  o.mode = argv[1];
  bool known = false;
  for (const char* m : modes) known = known || o.mode == m;
  if (!known) die("mode must be one of " + list);
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) die("missing value for " + a);
    const char* v = argv[++i];
    if (a == "--port") o.port = static_cast<unsigned short>(std::atoi(v));
    else if (a == "--conns") o.conns = std::atoi(v);
    else if (a == "--size") o.size = static_cast<size_t>(std::atol(v));
    else if (a == "--duration") o.duration = std::atof(v);
    else if (a == "--warmup") o.warmup = std::atof(v);
    else if (a == "--parallel") o.parallel = std::atoi(v);
    else if (a == "--hold") o.hold = std::atof(v);
    else if (a == "--count") o.count = std::atol(v);
    else if (a == "--rounds") o.rounds = std::atoi(v);
    else if (a == "--threads") o.threads = std::atoi(v);
    else if (a == "--http") o.http = std::atoi(v) != 0;
    else die("unknown option " + a);
  }
  if (o.port == 0) die("--port is required");
  if (o.conns < 0) o.conns = o.mode == "echo" ? 50 : o.mode == "bcast" ? 1000 : 10000;
  if (o.size == 0) o.size = 1;
  return o;
}
