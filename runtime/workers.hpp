#pragma once
// `moonwire --workers N script.lua`: a supervisor process that re-executes the binary
// (/proc/self/exe, never a fork of a running engine) N times with the same command line minus
// `--workers N`, tells each child its id through the environment, forwards signals, restarts a
// worker that fails (with backoff, giving up on a crash loop) and exits with a code that
// reflects the workers'. See docs/workers.md.
//
// In a worker the same module answers where the process runs (process.worker_id(), the
// listeners' SO_REUSEPORT default).
namespace mw::workers {

// Called first thing in main() for a script run (not `moonwire test`). If argv has a
// `--workers N` option before the script, removes it from argv (argc shrinks) and runs the
// supervisor to the end: returns true with the exit code in `code`. A bad value returns true
// with code 1 after a one-line message. Otherwise, in a worker started by a supervisor, reads
// (and removes) the worker variables from the environment; returns false: run normally.
bool run_supervisor_if_asked(int& argc, char** argv, int& code);

// 1..N in a worker, 0 when this process is not a worker.
int worker_id();
// N in a worker, 0 when this process is not a worker.
int worker_count();

}  // namespace mw::workers
