# Shared by tools/bench/run.sh and tools/soak/run.sh (sourced): building the targets a run needs,
# and a work directory whose processes are all stopped, by PID, however the run ends.

# harness_build NAME BUILD_DIR TARGET... : builds quietly, shows the log's tail on failure.
harness_build() {
  local name=$1 build=$2
  shift 2
  local log="/tmp/moonwire-$name-build.$$.log"
  echo "== building $* in $build"
  if ! ninja -C "$build" "$@" >"$log" 2>&1; then
    tail -30 "$log" >&2
    rm -f "$log"
    echo "$name: build failed" >&2
    exit 1
  fi
  rm -f "$log"
}

# harness_setup NAME : WORK (a fresh directory) and PIDS (append every started process's PID);
# on exit every PID gets SIGTERM, then SIGKILL, and WORK is removed.
harness_setup() {
  WORK=$(mktemp -d "/tmp/moonwire-$1.XXXXXX")
  PIDS=()
  trap harness_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # Servers and load generators hold ~10k descriptors for the memory and soak runs.
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
}

harness_cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.2
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
