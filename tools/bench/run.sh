#!/usr/bin/env bash
# `make bench`: runs the runtime benchmarks side by side with their baselines and rewrites
# docs/benchmarks.md. Never asserted anywhere: a missed target is reported as MISS.
#
# usage: tools/bench/run.sh [BUILD_DIR]
# env:   BENCH_QUICK=1       shorter runs (smoke test of the runner itself)
#        BENCH_MOONWIRE=PATH  the moonwire binary to measure (default BUILD_DIR/moonwire)
#        BENCH_ONLY="switch echo startup memory ws_echo ws_broadcast ws_memory http_get http_download
#                    http_server http_router http_memory"
#                            subset to run (docs are rewritten only when all of them ran)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=${1:-build}
[[ $BUILD = /* ]] || BUILD="$ROOT/$BUILD"
MW=${BENCH_MOONWIRE:-$BUILD/moonwire}  # BENCH_MOONWIRE: benchmark another binary
TB="$BUILD/tools/bench"
DOC="$ROOT/docs/benchmarks.md"
ALL_BENCHES="switch echo startup memory ws_echo ws_broadcast ws_memory http_get http_download http_server http_router http_memory"
# Further benchmarks are suites: tools/bench/suites/NAME.sh, each run (sourced in a subshell,
# after the ones above) with this runner's variables and functions (MW, TB, WORK, QUICK, R is
# not shared back); it prints its own markdown section ("## title", table, ratios, PASS/MISS)
# on stdout, progress on stderr, and stops every process it starts. BENCH_ONLY=NAME runs one.
SUITES=()
for f in "$ROOT"/tools/bench/suites/*.sh; do
  [[ -e $f ]] && SUITES+=("$(basename "$f" .sh)")
done
ALL_BENCHES+="${SUITES[*]:+ ${SUITES[*]}}"
ONLY=${BENCH_ONLY:-$ALL_BENCHES}
QUICK=${BENCH_QUICK:-0}

# --- parameters (each load is bounded: the machine has 2 shared cores) ------------------------
if [[ $QUICK = 1 ]]; then
  SWITCH_N=500000 SWITCH_REPS=1 ECHO_SECS=1 ECHO_ROUNDS=1 START_RUNS=30 START_BLOCKS=1 MEM_CONNS=2000
  BC_COUNT=20 BC_ROUNDS=1 BC_RUNS=1 HTTP_SECS=1 HTTP_ROUNDS=1 DL_MIB=10
else
  SWITCH_N=3000000 SWITCH_REPS=5 ECHO_SECS=3 ECHO_ROUNDS=5 START_RUNS=100 START_BLOCKS=3 MEM_CONNS=10000
  BC_COUNT=100 BC_ROUNDS=3 BC_RUNS=2 HTTP_SECS=3 HTTP_ROUNDS=3 DL_MIB=100
fi
BC_CONNS=1000 BC_SIZE=64 HTTP_CONNS=50 HTTP_SIZE=1024
SWITCH_TASKS=(1 2 100)
ECHO_CONNS=50 ECHO_SIZE=64 ECHO_WARMUP=0.5

# shellcheck source=tools/harness.sh
source "$(dirname "$0")/../harness.sh"
TARGETS="moonwire bench_tools"
[[ -n ${BENCH_MOONWIRE:-} ]] && TARGETS=bench_tools
# shellcheck disable=SC2086
harness_build bench "$BUILD" $TARGETS
harness_setup bench
NOFILE=$(ulimit -n)
if ((NOFILE < MEM_CONNS + 200)); then
  echo "bench: ulimit -n is $NOFILE: the memory benchmark uses $((NOFILE - 200)) connections" >&2
  MEM_CONNS=$((NOFILE - 200))
fi

die() { echo "bench: $*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
want() { [[ " $ONLY " == *" $1 "* ]]; }
kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }  # kv rate "a=1 rate=2" -> 2
fmt_int() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"${1%.*}"; }  # 1234567 -> 1,234,567
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# numeric a >= b; a missing value ("n/a", "-", empty) is never >= anything (awk would compare
# such a value as a string: "n/a" >= "0.85" is true).
is_number() { [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; }
ge() { is_number "$1" && is_number "$2" && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
verdict() { if ge "$1" "$2"; then echo PASS; else echo MISS; fi; }
max_of() { printf "%s\n" "$@" | sort -g | tail -1; }
median() {  # median of the arguments (numbers)
  printf "%s\n" "$@" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# start_server NAME CMD...: runs CMD in the background (stdout/stderr in $WORK/NAME.*), waits
# for its "PORT <n>" line; sets SERVER_PID and SERVER_PORT.
SERVER_STARTS=0
start_server() {
  SERVER_STARTS=$((SERVER_STARTS + 1))
  local name="$1-$SERVER_STARTS"; shift  # a new file each time: never read a previous run's port
  : >"$WORK/$name.out"
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  SERVER_PORT=
  local i
  for ((i = 0; i < 200; i++)); do
    SERVER_PORT=$(awk '/^PORT [0-9]+/ { print $2; exit }' "$WORK/$name.out" 2>/dev/null || true)
    [[ -n $SERVER_PORT ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/$name.err" >&2; die "$name exited at start"; }
    sleep 0.05
  done
  [[ -n $SERVER_PORT ]] || die "$name did not report its port within 10 s"
  # Ready means accepting: probe with a connection (bash /dev/tcp), retrying for up to 2 s.
  for ((i = 0; i < 40; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$SERVER_PORT") 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  cat "$WORK/$name.err" >&2
  kill -0 "$SERVER_PID" 2>/dev/null || die "$name exited after reporting port $SERVER_PORT"
  die "$name does not accept on port $SERVER_PORT"
}

stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 40; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local rest=() p  # forget it, so the exit trap never signals a recycled pid
  for p in "${PIDS[@]}"; do [[ $p = "$pid" ]] || rest+=("$p"); done
  PIDS=("${rest[@]}")
}

# CPU time (user+system) of a process, in seconds.
cpu_secs() {
  local stat
  stat=$(cat "/proc/$1/stat")
  stat=${stat##*) }  # fields after "(comm) "
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($12 + $13) / hz }' <<<"$stat"
}
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
nfds() { local f=("/proc/$1/fd"/*); echo "${#f[@]}"; }

wait_for_line() {  # wait_for_line FILE REGEX TIMEOUT_S PID
  local i n=$(($3 * 20))
  for ((i = 0; i < n; i++)); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    kill -0 "$4" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

declare -A R  # results

# --- machine -----------------------------------------------------------------------------------
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
NPROC=$(nproc)
KERNEL=$(uname -r)
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)
GIT_REV=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo "?")
LUA_V=$(lua5.4 -v 2>&1 | awk '{ print $2 }' || true)
NODE_V=$(node --version 2>/dev/null || echo "not installed")
echo "== $DATE, $NPROC x $CPU, load $LOAD, build $BUILD_TYPE"

# --- 1. task switch rate -----------------------------------------------------------------------
if want switch; then
  echo "== task switch rate: $SWITCH_N task.yield() round trips, best of $SWITCH_REPS"
  for k in "${SWITCH_TASKS[@]}"; do
    mw_rates=() base_rates=()
    for ((r = 0; r < SWITCH_REPS; r++)); do  # interleaved, so both see the same machine load
      out=$("$TB/bench_switch_baseline" "$SWITCH_N" "$k")
      base_rates+=("$(kv rate "$out")")
      out=$("$MW" tools/bench/task_switch.lua "$SWITCH_N" "$k")
      mw_rates+=("$(kv rate "$out")")
    done
    R[switch_mw_$k]=$(max_of "${mw_rates[@]}")
    R[switch_base_$k]=$(max_of "${base_rates[@]}")
    R[switch_ratio_$k]=$(ratio "${R[switch_mw_$k]}" "${R[switch_base_$k]}")
    printf "  %3d task(s): moonwire %12s/s  baseline %12s/s  ratio %s\n" "$k" \
      "$(fmt_int "${R[switch_mw_$k]}")" "$(fmt_int "${R[switch_base_$k]}")" "${R[switch_ratio_$k]}"
  done
fi

# One echo run, shared by the TCP and WebSocket benchmarks: starts server `s` (command in the
# remaining arguments), drives it with LOADGEN, stops it, prints a line and records in R:
# KEY_rate_S (best msgs/s), KEY_cpu_S (lowest server CPU per message), KEY_round_R_S,
# KEY_rrate_R_S. Server CPU per message covers the whole connection lifetime (warm-up
# included, so it slightly overstates it; the same for every server).
echo_run() {
  local key=$1 loadgen=$2 r=$3 s=$4 c0 c1 out rate msgs secs cpu_us
  shift 4
  start_server "$key-$s" "$@"
  c0=$(cpu_secs "$SERVER_PID")
  out=$("$TB/$loadgen" echo --port "$SERVER_PORT" --conns "$ECHO_CONNS" --size "$ECHO_SIZE" \
    --duration "$ECHO_SECS" --warmup "$ECHO_WARMUP")
  c1=$(cpu_secs "$SERVER_PID")
  stop_pid "$SERVER_PID"
  rate=$(kv rate "$out") msgs=$(kv msgs "$out") secs=$(kv seconds "$out")
  cpu_us=$(awk -v c="$(awk -v a="$c0" -v b="$c1" 'BEGIN{print b-a}')" -v m="$msgs" -v s="$secs" \
    -v w="$ECHO_WARMUP" 'BEGIN { printf "%.2f", c * 1e6 / (m * (s + w) / s) }')
  printf "  %-9s %10s msgs/s   server CPU %6s us/msg\n" "$s" "$(fmt_int "$rate")" "$cpu_us"
  ge "$rate" "${R[${key}_rate_$s]}" && R[${key}_rate_$s]=$rate
  ge "${R[${key}_cpu_$s]}" "$cpu_us" && R[${key}_cpu_$s]=$cpu_us
  R[${key}_round_${r}_$s]="$(fmt_int "$rate") msgs/s, $cpu_us µs/msg"
  R[${key}_rrate_${r}_$s]=$rate
}

# --- 2. TCP echo -------------------------------------------------------------------------------
ECHO_SERVERS=(asio moonwire)
have node && ECHO_SERVERS+=(node)
echo_server_cmd() {
  case $1 in
    asio) echo "$TB/bench_asio_echo_server" ;;
    moonwire) echo "$MW tools/bench/tcp_echo_server.lua" ;;
    node) echo "node tools/bench/node_echo_server.js" ;;
  esac
}

if want echo; then
  echo "== TCP echo: $ECHO_CONNS connections, $ECHO_SIZE-byte ping-pong, ${ECHO_SECS}s per run, $ECHO_ROUNDS rounds"
  for s in "${ECHO_SERVERS[@]}"; do R[echo_rate_$s]=0; R[echo_cpu_$s]=999999; done
  echo_round_rows=""
  ratios_asio=() ratios_node=()
  for ((r = 0; r < ECHO_ROUNDS; r++)); do
    for s in "${ECHO_SERVERS[@]}"; do
      # shellcheck disable=SC2046
      echo_run echo bench_loadgen "$r" "$s" $(echo_server_cmd "$s")
    done
    ratios_asio+=("$(ratio "${R[echo_rrate_${r}_moonwire]}" "${R[echo_rrate_${r}_asio]}")")
    have node && ratios_node+=("$(ratio "${R[echo_rrate_${r}_moonwire]}" "${R[echo_rrate_${r}_node]}")")
    row="| $((r + 1)) |"
    for s in "${ECHO_SERVERS[@]}"; do row+=" ${R[echo_round_${r}_$s]} |"; done
    echo_round_rows+="$row"$'\n'
  done
  # The ratio: the median over rounds of moonwire/baseline within a round (runs next to each
  # other in time see about the same machine load). Cross-checks: best against best, and
  # server CPU per message.
  for s in "${ECHO_SERVERS[@]}"; do
    rates=()
    for ((r = 0; r < ECHO_ROUNDS; r++)); do rates+=("${R[echo_rrate_${r}_$s]}"); done
    R[echo_med_$s]=$(median "${rates[@]}")
  done
  R[echo_ratio_asio]=$(median "${ratios_asio[@]}")
  R[echo_best_ratio_asio]=$(ratio "${R[echo_rate_moonwire]}" "${R[echo_rate_asio]}")
  R[echo_cpu_ratio_asio]=$(ratio "${R[echo_cpu_moonwire]}" "${R[echo_cpu_asio]}")
  if have node; then
    R[echo_ratio_node]=$(median "${ratios_node[@]}")
    R[echo_best_ratio_node]=$(ratio "${R[echo_rate_moonwire]}" "${R[echo_rate_node]}")
  else
    R[echo_rate_node]=0 R[echo_med_node]=0 R[echo_cpu_node]=- R[echo_ratio_node]=n/a R[echo_best_ratio_node]=n/a
  fi
  echo "  moonwire/asio ${R[echo_ratio_asio]} (best vs best ${R[echo_best_ratio_asio]}, server CPU/msg ${R[echo_cpu_ratio_asio]}), moonwire/node ${R[echo_ratio_node]} (best vs best ${R[echo_best_ratio_node]})"
fi

# --- 3. startup --------------------------------------------------------------------------------
if want startup; then
  echo "== startup: moonwire -e '' vs lua5.4 -e '' ($START_BLOCKS x $START_RUNS runs each)"
  if have hyperfine; then
    START_TOOL="hyperfine -N --warmup 10 --runs $START_RUNS, in $START_BLOCKS alternating blocks; each command's lowest block median"
    R[start_lua]=999999 R[start_mw]=999999
    for ((b = 0; b < START_BLOCKS; b++)); do
      hyperfine -N --warmup 10 --runs "$START_RUNS" --export-json "$WORK/startup-$b.json" \
        "lua5.4 -e ''" "$MW -e ''" >"$WORK/hyperfine.txt" 2>&1 || { cat "$WORK/hyperfine.txt"; die "hyperfine failed"; }
      for i in 0 1; do
        key=$( ((i == 0)) && echo lua || echo mw)
        med=$(jq -r ".results[$i].median * 1e6 | round / 1000" "$WORK/startup-$b.json")
        sd=$(jq -r ".results[$i].stddev * 1e6 | round / 1000" "$WORK/startup-$b.json")
        if ge "${R[start_$key]}" "$med"; then R[start_$key]=$med R[start_${key}_sd]=$sd; fi
      done
    done
  else
    START_TOOL="shell loops of $START_RUNS runs in $START_BLOCKS alternating blocks, lowest block mean (hyperfine not installed: the times include the shell's fork/exec, a few ms here, which pulls the ratio towards 1)"
    time_runs() {
      local t0 t1 i
      t0=$(date +%s%N)
      for ((i = 0; i < START_RUNS; i++)); do "$@" >/dev/null; done
      t1=$(date +%s%N)
      awk -v d=$((t1 - t0)) -v n="$START_RUNS" 'BEGIN { printf "%.3f", d / n / 1e6 }'
    }
    R[start_lua]=999999 R[start_mw]=999999
    for ((b = 0; b < START_BLOCKS; b++)); do
      t=$(time_runs lua5.4 -e '')
      ge "${R[start_lua]}" "$t" && R[start_lua]=$t
      t=$(time_runs "$MW" -e '')
      ge "${R[start_mw]}" "$t" && R[start_mw]=$t
    done
    R[start_lua_sd]=- R[start_mw_sd]=-
  fi
  # Lower is better: the target is moonwire/lua <= 1.5.
  R[start_ratio]=$(ratio "${R[start_mw]}" "${R[start_lua]}")
  if ge 1.5 "${R[start_ratio]}"; then R[start_verdict]=PASS; else R[start_verdict]=MISS; fi
  echo "  lua5.4 ${R[start_lua]} ms, moonwire ${R[start_mw]} ms, ratio ${R[start_ratio]}"
fi

# --- 4. memory of idle connections -------------------------------------------------------------
MEM_SERVERS=(moonwire asio)
have node && MEM_SERVERS+=(node)
if want memory; then
  echo "== memory: $MEM_CONNS idle connections, one task each"
  for s in "${MEM_SERVERS[@]}"; do
    # shellcheck disable=SC2046
    start_server "mem-$s" $(echo_server_cmd "$s")
    spid=$SERVER_PID
    sleep 0.3
    rss0=$(status_kb "$spid" VmRSS)
    fd0=$(nfds "$spid")
    "$TB/bench_loadgen" hold --port "$SERVER_PORT" --conns "$MEM_CONNS" --size "$ECHO_SIZE" --hold 120 \
      >"$WORK/hold-$s.out" 2>"$WORK/hold-$s.err" &
    lpid=$!
    PIDS+=("$lpid")
    wait_for_line "$WORK/hold-$s.out" '^CONNECTED' 60 "$lpid" ||
      { cat "$WORK/hold-$s.err" >&2; die "load generator could not open $MEM_CONNS connections to $s"; }
    # Connected is not accepted: wait until the server holds all the sockets.
    for ((i = 0; i < 600; i++)); do
      (($(nfds "$spid") >= fd0 + MEM_CONNS)) && break
      sleep 0.05
    done
    (($(nfds "$spid") >= fd0 + MEM_CONNS)) || die "$s accepted only $(($(nfds "$spid") - fd0)) connections"
    sleep 0.5
    rss1=$(status_kb "$spid" VmRSS)
    hwm1=$(status_kb "$spid" VmHWM)
    # Then one 64-byte echo on every connection (buffers that appear once data has flowed).
    kill -USR1 "$lpid"
    wait_for_line "$WORK/hold-$s.out" '^PINGED' 60 "$lpid" ||
      { cat "$WORK/hold-$s.err" >&2; die "echo on held connections to $s failed"; }
    sleep 0.3
    rss2=$(status_kb "$spid" VmRSS)
    hwm2=$(status_kb "$spid" VmHWM)
    stop_pid "$lpid"
    stop_pid "$spid"
    R[mem_rss0_$s]=$rss0 R[mem_rss1_$s]=$rss1 R[mem_hwm1_$s]=$hwm1 R[mem_rss2_$s]=$rss2 R[mem_hwm2_$s]=$hwm2
    R[mem_idle_$s]=$(((rss1 - rss0) * 1024 / MEM_CONNS))
    R[mem_used_$s]=$(((hwm2 - rss0) * 1024 / MEM_CONNS))
    printf "  %-9s RSS %6d KiB -> %7d KiB idle (%5d B/conn) -> peak %7d KiB after one echo each (%5d B/conn)\n" \
      "$s" "$rss0" "$rss1" "${R[mem_idle_$s]}" "$hwm2" "${R[mem_used_$s]}"
  done
  R[mem_ratio_idle]=$(ratio "${R[mem_idle_moonwire]}" "${R[mem_idle_asio]}")
  R[mem_ratio_used]=$(ratio "${R[mem_used_moonwire]}" "${R[mem_used_asio]}")
fi

# --- 5. WebSocket echo -------------------------------------------------------------------------
WS_SERVERS=(beast moonwire)
have node && [[ -d $ROOT/tests/interop/node_modules/ws ]] && WS_SERVERS+=(node)
ws_server_cmd() {
  case $1 in
    beast) echo "$TB/bench_beast_ws_echo_server 0 ${2:-echo}" ;;
    moonwire) if [[ ${2:-echo} = broadcast ]]; then echo "$MW tools/bench/ws_broadcast_server.lua"
              else echo "$MW tools/bench/ws_echo_server.lua"; fi ;;
    node) echo "node tools/bench/node_ws_echo_server.js" ;;
  esac
}

if want ws_echo; then
  echo "== WebSocket echo: $ECHO_CONNS connections, $ECHO_SIZE-byte text ping-pong, ${ECHO_SECS}s per run, $ECHO_ROUNDS rounds"
  for s in "${WS_SERVERS[@]}"; do R[wse_rate_$s]=0; R[wse_cpu_$s]=999999; done
  wse_round_rows=""
  ratios_beast=() ratios_node=()
  for ((r = 0; r < ECHO_ROUNDS; r++)); do
    for s in "${WS_SERVERS[@]}"; do
      # shellcheck disable=SC2046
      echo_run wse bench_ws_loadgen "$r" "$s" $(ws_server_cmd "$s")
    done
    ratios_beast+=("$(ratio "${R[wse_rrate_${r}_moonwire]}" "${R[wse_rrate_${r}_beast]}")")
    [[ " ${WS_SERVERS[*]} " == *" node "* ]] &&
      ratios_node+=("$(ratio "${R[wse_rrate_${r}_moonwire]}" "${R[wse_rrate_${r}_node]}")")
    row="| $((r + 1)) |"
    for s in "${WS_SERVERS[@]}"; do row+=" ${R[wse_round_${r}_$s]} |"; done
    wse_round_rows+="$row"$'\n'
  done
  for s in "${WS_SERVERS[@]}"; do
    rates=()
    for ((r = 0; r < ECHO_ROUNDS; r++)); do rates+=("${R[wse_rrate_${r}_$s]}"); done
    R[wse_med_$s]=$(median "${rates[@]}")
  done
  R[wse_ratio_beast]=$(median "${ratios_beast[@]}")
  R[wse_best_ratio_beast]=$(ratio "${R[wse_rate_moonwire]}" "${R[wse_rate_beast]}")
  R[wse_cpu_ratio_beast]=$(ratio "${R[wse_cpu_moonwire]}" "${R[wse_cpu_beast]}")
  if ((${#ratios_node[@]})); then
    R[wse_ratio_node]=$(median "${ratios_node[@]}")
    R[wse_best_ratio_node]=$(ratio "${R[wse_rate_moonwire]}" "${R[wse_rate_node]}")
  else
    R[wse_rate_node]=0 R[wse_med_node]=0 R[wse_ratio_node]=n/a R[wse_best_ratio_node]=n/a
  fi
  echo "  moonwire/beast ${R[wse_ratio_beast]} (best vs best ${R[wse_best_ratio_beast]}, server CPU/msg ${R[wse_cpu_ratio_beast]}), moonwire/node ${R[wse_ratio_node]} (best vs best ${R[wse_best_ratio_node]})"
fi

# --- 6. WebSocket broadcast --------------------------------------------------------------------
BC_SERVERS=(beast moonwire)
if want ws_broadcast; then
  echo "== WebSocket broadcast: $BC_CONNS clients, $BC_COUNT x $BC_SIZE-byte messages per round, $BC_ROUNDS rounds per run, $BC_RUNS runs"
  bc_rows=""
  bc_ratios=()
  for s in "${BC_SERVERS[@]}"; do R[bc_rate_$s]=0; done
  for ((r = 0; r < BC_RUNS; r++)); do
    for s in "${BC_SERVERS[@]}"; do
      # shellcheck disable=SC2046
      start_server "bc-$s" $(ws_server_cmd "$s" broadcast)
      c0=$(cpu_secs "$SERVER_PID")
      out=$("$TB/bench_ws_loadgen" bcast --port "$SERVER_PORT" --conns "$BC_CONNS" --count "$BC_COUNT" \
        --size "$BC_SIZE" --rounds "$BC_ROUNDS" | tail -1)
      c1=$(cpu_secs "$SERVER_PID")
      stop_pid "$SERVER_PID"
      med=$(kv median "$out")
      # Server CPU per delivery, handshakes of the $BC_CONNS connections included.
      cpu_us=$(awk -v a="$c0" -v b="$c1" -v n=$((BC_CONNS * BC_COUNT * BC_ROUNDS)) 'BEGIN { printf "%.2f", (b - a) * 1e6 / n }')
      printf "  %-9s %10s deliveries/s (median of %d rounds; best %s)   server CPU %s us/delivery\n" "$s" \
        "$(fmt_int "$med")" "$BC_ROUNDS" "$(fmt_int "$(kv rate "$out")")" "$cpu_us"
      R[bc_rmed_${r}_$s]=$med
      R[bc_cell_${r}_$s]="$(fmt_int "$med") /s, $cpu_us µs"
      ge "$med" "${R[bc_rate_$s]}" && R[bc_rate_$s]=$med
    done
    bc_ratios+=("$(ratio "${R[bc_rmed_${r}_moonwire]}" "${R[bc_rmed_${r}_beast]}")")
    bc_rows+="| $((r + 1)) | ${R[bc_cell_${r}_beast]} | ${R[bc_cell_${r}_moonwire]} | ${bc_ratios[-1]} |"$'\n'
  done
  R[bc_ratio]=$(median "${bc_ratios[@]}")
  echo "  moonwire/beast ${R[bc_ratio]}"
fi

# --- 7. memory of idle WebSocket connections ---------------------------------------------------
if want ws_memory; then
  echo "== WebSocket memory: $MEM_CONNS idle connections, one task each"
  for s in "${WS_SERVERS[@]}"; do
    # shellcheck disable=SC2046
    start_server "wsmem-$s" $(ws_server_cmd "$s")
    spid=$SERVER_PID
    sleep 0.3
    rss0=$(status_kb "$spid" VmRSS)
    fd0=$(nfds "$spid")
    "$TB/bench_ws_loadgen" hold --port "$SERVER_PORT" --conns "$MEM_CONNS" --size "$ECHO_SIZE" --hold 120 \
      >"$WORK/wshold-$s.out" 2>"$WORK/wshold-$s.err" &
    lpid=$!
    PIDS+=("$lpid")
    wait_for_line "$WORK/wshold-$s.out" '^CONNECTED' 90 "$lpid" ||
      { cat "$WORK/wshold-$s.err" >&2; die "ws load generator could not open $MEM_CONNS connections to $s"; }
    for ((i = 0; i < 600; i++)); do
      (($(nfds "$spid") >= fd0 + MEM_CONNS)) && break
      sleep 0.05
    done
    (($(nfds "$spid") >= fd0 + MEM_CONNS)) || die "$s holds only $(($(nfds "$spid") - fd0)) connections"
    sleep 0.5  # handshakes are complete (the clients saw 101); let the accept loop spawn the tasks
    rss1=$(status_kb "$spid" VmRSS)
    kill -USR1 "$lpid"
    wait_for_line "$WORK/wshold-$s.out" '^PINGED' 60 "$lpid" ||
      { cat "$WORK/wshold-$s.err" >&2; die "echo on held WebSocket connections to $s failed"; }
    sleep 0.3
    hwm2=$(status_kb "$spid" VmHWM)
    stop_pid "$lpid"
    stop_pid "$spid"
    R[wsm_rss0_$s]=$rss0 R[wsm_rss1_$s]=$rss1 R[wsm_hwm2_$s]=$hwm2
    R[wsm_idle_$s]=$(((rss1 - rss0) * 1024 / MEM_CONNS))
    R[wsm_used_$s]=$(((hwm2 - rss0) * 1024 / MEM_CONNS))
    printf "  %-9s RSS %6d KiB -> %7d KiB idle (%5d B/conn) -> peak %7d KiB after one echo each (%5d B/conn)\n" \
      "$s" "$rss0" "$rss1" "${R[wsm_idle_$s]}" "$hwm2" "${R[wsm_used_$s]}"
  done
  R[wsm_ratio_idle]=$(ratio "${R[wsm_idle_moonwire]}" "${R[wsm_idle_beast]}")
  R[wsm_ratio_used]=$(ratio "${R[wsm_used_moonwire]}" "${R[wsm_used_beast]}")
  # Targets: within 1.5x the Beast server's and under 16 KiB, on the worse of the two figures.
  R[wsm_worst]=$(max_of "${R[wsm_idle_moonwire]}" "${R[wsm_used_moonwire]}")
  R[wsm_worst_ratio]=$(max_of "${R[wsm_ratio_idle]}" "${R[wsm_ratio_used]}")
  if ge 1.0 "${R[wsm_worst_ratio]}"; then R[wsm_v_ratio]=PASS; else R[wsm_v_ratio]=MISS; fi
  if ((R[wsm_worst] < 16384)); then R[wsm_v_abs]=PASS; else R[wsm_v_abs]=MISS; fi
fi

# --- nginx (HTTP client benchmarks) ------------------------------------------------------------
NGINX_PORT=
start_nginx() {  # a foreground nginx on a free 127.0.0.1 port, serving $WORK/www
  mkdir -p "$WORK/www"
  head -c "$HTTP_SIZE" /dev/urandom >"$WORK/www/1k.bin"
  truncate -s "$((DL_MIB * 1048576))" "$WORK/www/big.bin"  # sparse; nginx sendfile()s it
  harness_start_nginx "keepalive_requests 1000000; keepalive_timeout 60s; sendfile on;"
}

# --- 8. HTTP client: keep-alive GET ------------------------------------------------------------
HTTP_CLIENTS=(wrk moonwire)
have node && HTTP_CLIENTS+=(node)
if want http_get || want http_download; then start_nginx; fi
if want http_get; then
  have wrk || die "wrk is not installed"
  URL="http://127.0.0.1:$NGINX_PORT/1k.bin"
  echo "== HTTP GET: $HTTP_CONNS concurrent keep-alive clients, $HTTP_SIZE-byte body from nginx, ${HTTP_SECS}s per run, $HTTP_ROUNDS rounds"
  http_rows=""
  hr_wrk=() hr_node=()
  for ((r = 0; r < HTTP_ROUNDS; r++)); do
    for c in "${HTTP_CLIENTS[@]}"; do
      case $c in
        wrk)
          wrk -c "$HTTP_CONNS" -t 1 -d "${HTTP_SECS}s" "$URL" >"$WORK/wrk.out" 2>&1 || { cat "$WORK/wrk.out" >&2; die "wrk failed"; }
          grep -q 'Non-2xx\|Socket errors' "$WORK/wrk.out" && { cat "$WORK/wrk.out" >&2; die "wrk saw errors"; }
          rate=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$WORK/wrk.out") ;;
        moonwire)
          out=$("$MW" tools/bench/http_get.lua "$URL" "$HTTP_CONNS" "$HTTP_SECS" "$ECHO_WARMUP" "$HTTP_SIZE")
          rate=$(kv rate "$out") ;;
        node)
          out=$(node tools/bench/node_fetch_client.js "$URL" "$HTTP_CONNS" "$HTTP_SECS" "$ECHO_WARMUP" "$HTTP_SIZE")
          rate=$(kv rate "$out") ;;
      esac
      printf "  %-9s %10s requests/s\n" "$c" "$(fmt_int "$rate")"
      R[http_r_${r}_$c]=$rate
    done
    hr_wrk+=("$(ratio "${R[http_r_${r}_moonwire]}" "${R[http_r_${r}_wrk]}")")
    row="| $((r + 1)) |"
    for c in "${HTTP_CLIENTS[@]}"; do row+=" $(fmt_int "${R[http_r_${r}_$c]}") |"; done
    if have node; then
      hr_node+=("$(ratio "${R[http_r_${r}_moonwire]}" "${R[http_r_${r}_node]}")")
    fi
    http_rows+="$row"$'\n'
  done
  for c in "${HTTP_CLIENTS[@]}"; do
    rates=()
    for ((r = 0; r < HTTP_ROUNDS; r++)); do rates+=("${R[http_r_${r}_$c]}"); done
    R[http_med_$c]=$(median "${rates[@]}")
  done
  R[http_ratio_wrk]=$(median "${hr_wrk[@]}")
  if have node; then R[http_ratio_node]=$(median "${hr_node[@]}"); else R[http_med_node]=0 R[http_ratio_node]=n/a; fi
  echo "  moonwire/wrk ${R[http_ratio_wrk]}, moonwire/node ${R[http_ratio_node]}"
fi

# --- 9. HTTP client: save_to_file download -----------------------------------------------------
if want http_download; then
  echo "== HTTP download: $DL_MIB MiB with save_to_file, peak RSS"
  out=$("$MW" tools/bench/http_download.lua "http://127.0.0.1:$NGINX_PORT/big.bin" "$WORK/download.bin")
  rm -f "$WORK/download.bin"
  [[ $(kv bytes "$out") = $((DL_MIB * 1048576)) ]] || die "download: $out"
  R[dl_hwm]=$(kv hwm_kib "$out") R[dl_hwm0]=$(kv hwm_before_kib "$out") R[dl_rate]=$(kv rate "$out")
  R[dl_secs]=$(kv seconds "$out")
  if ((R[dl_hwm] < 32768)); then R[dl_v]=PASS; else R[dl_v]=MISS; fi
  echo "  peak RSS ${R[dl_hwm]} KiB (${R[dl_hwm0]} KiB before the request), ${R[dl_rate]} MiB/s: ${R[dl_v]}"
fi
if [[ -n ${NGINX_PID:-} ]]; then stop_pid "$NGINX_PID"; fi

# --- 10. HTTP server: wrk keep-alive against moonwire and its baselines -------------------------
# One nginx serves both nginx baselines: a static file (/1k.txt) and the Lua handler of
# libnginx-mod-http-lua (/lua), the same handler as moonwire's (a 1 KiB text/plain body).
start_nginx_servers() {  # sets NGX_PORT, NGX_PID; NGX_LUA=1 when the Lua module loaded
  local bin dir="$WORK/nginx-srv" user="" i mods=""
  bin=$(command -v nginx || echo /usr/sbin/nginx)
  [[ -x $bin ]] || die "nginx is not installed"
  mkdir -p "$dir/www" "$dir/tmp"
  head -c "$HTTP_SIZE" /dev/zero | tr '\0' x >"$dir/www/1k.txt"
  NGX_LUA=0
  if [[ -f /usr/lib/nginx/modules/ngx_http_lua_module.so ]]; then
    NGX_LUA=1
    mods="load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;"
  fi
  [[ $(id -u) = 0 ]] && user="user root;"
  NGX_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  local lua_http="" lua_loc=""
  if ((NGX_LUA)); then
    lua_http="init_by_lua_block { BODY = string.rep(\"x\", $HTTP_SIZE) }"
    lua_loc="location = /lua { content_by_lua_block { ngx.header[\"Content-Length\"] = #BODY; ngx.print(BODY) } }"
  fi
  cat >"$dir/nginx.conf" <<NGINX
$user
$mods
worker_processes 1;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  keepalive_requests 1000000; keepalive_timeout 60s; sendfile on; tcp_nodelay on;
  default_type text/plain;
  $lua_http
  server {
    listen 127.0.0.1:$NGX_PORT backlog=4096;
    root $dir/www;
    $lua_loc
  }
}
NGINX
  "$bin" -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" \
    -g "daemon off; pid $dir/nginx.pid; error_log $dir/error.log;" >"$dir/out" 2>&1 &
  NGX_PID=$!
  PIDS+=("$NGX_PID")
  for ((i = 0; i < 100; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$NGX_PORT") 2>/dev/null && return 0
    kill -0 "$NGX_PID" 2>/dev/null || break
    sleep 0.05
  done
  cat "$dir/out" "$dir/error.log" >&2 2>/dev/null || true
  die "nginx (server baselines) did not start"
}

# The worker's pid (its CPU time is the server's; the master only supervises).
nginx_worker_pid() { pgrep -P "$1" | head -1; }

# wrk_run URL CPU_PID: one wrk run; sets WRK_RATE and WRK_REQS (CPU_PID's CPU time per
# request in WRK_CPU_US).
wrk_run() {
  local c0 c1
  c0=$(cpu_secs "$2")
  wrk -c "$HTTP_CONNS" -t 1 -d "${HTTP_SECS}s" "$1" >"$WORK/wrk-srv.out" 2>&1 || { cat "$WORK/wrk-srv.out" >&2; die "wrk failed on $1"; }
  c1=$(cpu_secs "$2")
  grep -q 'Non-2xx\|Socket errors' "$WORK/wrk-srv.out" && { cat "$WORK/wrk-srv.out" >&2; die "wrk saw errors on $1"; }
  WRK_RATE=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$WORK/wrk-srv.out")
  WRK_REQS=$(awk '/requests in/ { print $1; exit }' "$WORK/wrk-srv.out")
  WRK_CPU_US=$(awk -v a="$c0" -v b="$c1" -v n="$WRK_REQS" 'BEGIN { if (n > 0) printf "%.2f", (b - a) * 1e6 / n; else print "n/a" }')
}

MW_HAS_SERVER=0
"$MW" -e 'assert(type(net.http.listen) == "function")' >/dev/null 2>&1 && MW_HAS_SERVER=1
MW_HAS_ROUTER=0
"$MW" -e 'assert(type(http.server) == "table" and type(http.server.new) == "function")' >/dev/null 2>&1 && MW_HAS_ROUTER=1

SRV_SERVERS=(beast nginx)
if want http_server || want http_router || want http_memory; then
  have wrk || die "wrk is not installed"
  start_nginx_servers
  ((NGX_LUA)) && SRV_SERVERS+=(nginx_lua)
  have node && SRV_SERVERS+=(node)
  ((MW_HAS_SERVER)) && SRV_SERVERS+=(moonwire)
fi
srv_label() {
  case $1 in
    beast) echo "C++20 Beast" ;; nginx) echo "nginx, static file" ;; nginx_lua) echo "nginx + Lua (lua-nginx-module)" ;;
    node) echo "Node \`http\`" ;; moonwire) echo "moonwire" ;;
  esac
}
if want http_server; then
  echo "== HTTP server: wrk -c $HTTP_CONNS -t 1, keep-alive, $HTTP_SIZE-byte body, ${HTTP_SECS}s per run, $HTTP_ROUNDS rounds"
  ((MW_HAS_SERVER)) || echo "  (this moonwire has no net.http.listen: its rows stay empty)"
  srv_rows=""
  r_lua=() r_node=() r_beast=() r_file=()
  for ((r = 0; r < HTTP_ROUNDS; r++)); do
    row="| $((r + 1)) |"
    for s in "${SRV_SERVERS[@]}"; do
      case $s in
        beast) start_server "srv-beast" "$TB/bench_beast_http_server" 0 "$HTTP_SIZE"
               wrk_run "http://127.0.0.1:$SERVER_PORT/" "$SERVER_PID"; stop_pid "$SERVER_PID" ;;
        moonwire) start_server "srv-mw" "$MW" tools/bench/http_server.lua 0 "$HTTP_SIZE"
               wrk_run "http://127.0.0.1:$SERVER_PORT/" "$SERVER_PID"; stop_pid "$SERVER_PID" ;;
        node) start_server "srv-node" node tools/bench/node_http_server.js 0 "$HTTP_SIZE"
               wrk_run "http://127.0.0.1:$SERVER_PORT/" "$SERVER_PID"; stop_pid "$SERVER_PID" ;;
        nginx) wrk_run "http://127.0.0.1:$NGX_PORT/1k.txt" "$(nginx_worker_pid "$NGX_PID")" ;;
        nginx_lua) wrk_run "http://127.0.0.1:$NGX_PORT/lua" "$(nginx_worker_pid "$NGX_PID")" ;;
      esac
      printf "  %-9s %10s requests/s   server CPU %6s us/request\n" "$s" "$(fmt_int "$WRK_RATE")" "$WRK_CPU_US"
      R[srv_r_${r}_$s]=$WRK_RATE R[srv_cpu_${r}_$s]=$WRK_CPU_US
      row+=" $(fmt_int "$WRK_RATE") req/s, $WRK_CPU_US µs |"
    done
    srv_rows+="$row"$'\n'
    if ((MW_HAS_SERVER)); then
      r_beast+=("$(ratio "${R[srv_r_${r}_moonwire]}" "${R[srv_r_${r}_beast]}")")
      r_file+=("$(ratio "${R[srv_r_${r}_moonwire]}" "${R[srv_r_${r}_nginx]}")")
      ((NGX_LUA)) && r_lua+=("$(ratio "${R[srv_r_${r}_moonwire]}" "${R[srv_r_${r}_nginx_lua]}")")
      have node && r_node+=("$(ratio "${R[srv_r_${r}_moonwire]}" "${R[srv_r_${r}_node]}")")
    fi
  done
  for s in beast nginx nginx_lua node moonwire; do
    rates=() cpus=()
    for ((r = 0; r < HTTP_ROUNDS; r++)); do
      [[ -n ${R[srv_r_${r}_$s]:-} ]] && rates+=("${R[srv_r_${r}_$s]}") && cpus+=("${R[srv_cpu_${r}_$s]}")
    done
    if ((${#rates[@]})); then R[srv_med_$s]=$(median "${rates[@]}") R[srv_cpumed_$s]=$(median "${cpus[@]}")
    else R[srv_med_$s]=0 R[srv_cpumed_$s]=n/a; fi
  done
  R[srv_ratio_beast]=n/a R[srv_ratio_file]=n/a R[srv_ratio_lua]=n/a R[srv_ratio_node]=n/a
  ((${#r_beast[@]})) && R[srv_ratio_beast]=$(median "${r_beast[@]}")
  ((${#r_file[@]})) && R[srv_ratio_file]=$(median "${r_file[@]}")
  ((${#r_lua[@]})) && R[srv_ratio_lua]=$(median "${r_lua[@]}")
  ((${#r_node[@]})) && R[srv_ratio_node]=$(median "${r_node[@]}")
  echo "  moonwire/beast ${R[srv_ratio_beast]}, moonwire/nginx file ${R[srv_ratio_file]}, moonwire/nginx+lua ${R[srv_ratio_lua]}, moonwire/node ${R[srv_ratio_node]}"
fi

# --- 11. HTTP router overhead ------------------------------------------------------------------
if want http_router; then
  echo "== HTTP router: 20 routes, GET /users/:id vs the bare handler, wrk -c $HTTP_CONNS, $HTTP_ROUNDS rounds"
  R[router_ratio]=n/a R[router_med]=0 R[bare_med]=0
  if ((MW_HAS_SERVER && MW_HAS_ROUTER)); then
    rt=() ba=() rr=()
    router_rows=""
    for ((r = 0; r < HTTP_ROUNDS; r++)); do
      start_server "bare" "$MW" tools/bench/http_server.lua 0 "$HTTP_SIZE"
      wrk_run "http://127.0.0.1:$SERVER_PORT/users/42" "$SERVER_PID"; stop_pid "$SERVER_PID"
      bare=$WRK_RATE bare_cpu=$WRK_CPU_US
      start_server "router" "$MW" tools/bench/http_router_server.lua 0 "$HTTP_SIZE"
      wrk_run "http://127.0.0.1:$SERVER_PORT/users/42" "$SERVER_PID"; stop_pid "$SERVER_PID"
      ba+=("$bare") rt+=("$WRK_RATE") rr+=("$(ratio "$WRK_RATE" "$bare")")
      printf "  bare %10s req/s (%s us)   router %10s req/s (%s us)\n" "$(fmt_int "$bare")" "$bare_cpu" "$(fmt_int "$WRK_RATE")" "$WRK_CPU_US"
      router_rows+="| $((r + 1)) | $(fmt_int "$bare") req/s, $bare_cpu µs | $(fmt_int "$WRK_RATE") req/s, $WRK_CPU_US µs | ${rr[-1]} |"$'\n'
    done
    R[router_ratio]=$(median "${rr[@]}") R[router_med]=$(median "${rt[@]}") R[bare_med]=$(median "${ba[@]}")
    echo "  router/bare ${R[router_ratio]}"
  else
    router_rows="| — | not measured: this moonwire has no $( ((MW_HAS_SERVER)) && echo "http.server.new (router)" || echo "net.http.listen") | — | — |"$'\n'
    echo "  skipped: no router or no server in this moonwire"
  fi
fi

# --- 12. memory of idle keep-alive HTTP connections ---------------------------------------------
if want http_memory; then
  echo "== HTTP memory: $MEM_CONNS keep-alive connections idle after one GET each"
  hm_rows=""
  for s in beast node moonwire; do
    [[ " ${SRV_SERVERS[*]} " == *" $s "* ]] || continue
    case $s in
      beast) start_server "hm-beast" "$TB/bench_beast_http_server" 0 "$HTTP_SIZE" ;;
      node) start_server "hm-node" node tools/bench/node_http_server.js 0 "$HTTP_SIZE" ;;
      moonwire) start_server "hm-mw" "$MW" tools/bench/http_server.lua 0 "$HTTP_SIZE" ;;
    esac
    spid=$SERVER_PID
    sleep 0.3
    rss0=$(status_kb "$spid" VmRSS)
    "$TB/bench_loadgen" hold --port "$SERVER_PORT" --conns "$MEM_CONNS" --http 1 --hold 120 \
      >"$WORK/hm-$s.out" 2>"$WORK/hm-$s.err" &
    lpid=$!
    PIDS+=("$lpid")
    wait_for_line "$WORK/hm-$s.out" '^REQUESTED' 90 "$lpid" ||
      { cat "$WORK/hm-$s.err" >&2; die "$MEM_CONNS keep-alive GETs to $s failed"; }
    sleep 0.5
    rss1=$(status_kb "$spid" VmRSS)
    hwm1=$(status_kb "$spid" VmHWM)
    stop_pid "$lpid"
    stop_pid "$spid"
    R[hm_idle_$s]=$(((rss1 - rss0) * 1024 / MEM_CONNS))
    R[hm_peak_$s]=$(((hwm1 - rss0) * 1024 / MEM_CONNS))
    printf "  %-9s RSS %6d KiB -> %7d KiB idle (%5d B/conn; peak %d B/conn)\n" "$s" "$rss0" "$rss1" "${R[hm_idle_$s]}" "${R[hm_peak_$s]}"
    hm_rows+="| $s | $(fmt_int "$rss0") | $(fmt_int "$rss1") | $(fmt_int "${R[hm_idle_$s]}") | $(fmt_int "${R[hm_peak_$s]}") |"$'\n'
  done
  R[hm_ratio]=$(ratio "${R[hm_idle_moonwire]:-0}" "${R[hm_idle_beast]:-0}")
  ((MW_HAS_SERVER)) || R[hm_ratio]=n/a
fi
if [[ -n ${NGX_PID:-} ]]; then stop_pid "$NGX_PID"; fi

# --- suites (tools/bench/suites/*.sh) --------------------------------------------------------
SUITE_MD=""
for s in "${SUITES[@]}"; do
  want "$s" || continue
  echo "== suite $s"
  if out=$(source "$ROOT/tools/bench/suites/$s.sh"); then
    SUITE_MD+="$out"$'\n\n'
  else
    echo "bench: suite $s failed" >&2
    SUITE_MD+="## $s"$'\n\n'"The suite failed in this run (see the output of \`make bench\`)."$'\n\n'
  fi
done

# --- docs/benchmarks.md ------------------------------------------------------------------------
if [[ $ONLY != "$ALL_BENCHES" || $QUICK = 1 ]]; then
  echo "== partial or quick run: $DOC left unchanged"
  [[ -n $SUITE_MD ]] && printf '%s' "$SUITE_MD"
  exit 0
fi

switch_rows=""
for k in "${SWITCH_TASKS[@]}"; do
  v=$(verdict "${R[switch_ratio_$k]}" 0.70)
  switch_rows+="| $k | $(fmt_int "${R[switch_mw_$k]}") | $(fmt_int "${R[switch_base_$k]}") | ${R[switch_ratio_$k]} | ≥ 0.70 | $v |"$'\n'
done
echo_asio_v=$(verdict "${R[echo_ratio_asio]}" 0.85)
if [[ ${R[echo_ratio_node]} = n/a ]]; then echo_node_v="n/a (node not installed)"
elif awk -v a="${R[echo_ratio_node]}" 'BEGIN { exit !(a > 1) }'; then echo_node_v=PASS; else echo_node_v=MISS; fi
mem_rows=""
for s in "${MEM_SERVERS[@]}"; do
  mem_rows+="| $s | $(fmt_int "${R[mem_rss0_$s]}") | $(fmt_int "${R[mem_rss1_$s]}") | $(fmt_int "${R[mem_idle_$s]}") | $(fmt_int "${R[mem_hwm2_$s]}") | $(fmt_int "${R[mem_used_$s]}") |"$'\n'
done
echo_rows=""
for s in "${ECHO_SERVERS[@]}"; do
  echo_rows+="| $s | $(fmt_int "${R[echo_rate_$s]}") | ${R[echo_cpu_$s]} |"$'\n'
done

wse_asio_v=$(verdict "${R[wse_ratio_beast]}" 0.85)
if [[ ${R[wse_ratio_node]} = n/a ]]; then wse_node_v="n/a (node or ws not installed)"
elif awk -v a="${R[wse_ratio_node]}" 'BEGIN { exit !(a > 1) }'; then wse_node_v=PASS; else wse_node_v=MISS; fi
wse_rows=""
for s in "${WS_SERVERS[@]}"; do
  wse_rows+="| $s | $(fmt_int "${R[wse_rate_$s]}") | $(fmt_int "${R[wse_med_$s]}") | ${R[wse_cpu_$s]:--} |"$'\n'
done
bc_v=$(verdict "${R[bc_ratio]}" 0.80)
wsm_rows=""
for s in "${WS_SERVERS[@]}"; do
  wsm_rows+="| $s | $(fmt_int "${R[wsm_rss0_$s]}") | $(fmt_int "${R[wsm_rss1_$s]}") | $(fmt_int "${R[wsm_idle_$s]}") | $(fmt_int "${R[wsm_hwm2_$s]}") | $(fmt_int "${R[wsm_used_$s]}") |"$'\n'
done
http_med_row="| median |"
for c in "${HTTP_CLIENTS[@]}"; do http_med_row+=" **$(fmt_int "${R[http_med_$c]}")** |"; done
WRK_V=$(wrk --version 2>&1 | head -1 | awk '{ print $2 }' || true)
NGINX_V=$( (nginx -v 2>&1 || /usr/sbin/nginx -v 2>&1) | sed 's/.*nginx\///' | head -1)

cat >"$DOC" <<EOF
# Benchmarks

Generated by \`make bench\` (\`tools/bench/run.sh\`); rerun it to refresh this page. Each
benchmark runs moonwire and its baseline in the same run, on the same machine, and reports the
ratio. Nothing here is asserted by the tests: a missed target shows up as **MISS**. How to
run parts of it, and where moonwire's time goes (profiles): \`tools/bench/README.md\`.

- Date: $DATE, moonwire $GIT_REV, build type \`$BUILD_TYPE\` (\`$BUILD\`)
- Machine: $NPROC × $CPU, Linux $KERNEL, load average at start $LOAD
- The machine is shared: other jobs may run at the same time, so every benchmark repeats
  interleaved runs and keeps the best or the median (details per benchmark below)
- Lua $LUA_V, Node $NODE_V, \`ulimit -n\` $NOFILE

## Summary

| benchmark | moonwire | baseline | ratio | target | result |
| --- | --- | --- | --- | --- | --- |
| task switch, 1 task | $(fmt_int "${R[switch_mw_1]}") /s | $(fmt_int "${R[switch_base_1]}") /s (C++ + Lua) | ${R[switch_ratio_1]} | ≥ 0.70 | $(verdict "${R[switch_ratio_1]}" 0.70) |
| task switch, 2 tasks | $(fmt_int "${R[switch_mw_2]}") /s | $(fmt_int "${R[switch_base_2]}") /s (C++ + Lua) | ${R[switch_ratio_2]} | ≥ 0.70 | $(verdict "${R[switch_ratio_2]}" 0.70) |
| TCP echo vs Asio | $(fmt_int "${R[echo_med_moonwire]}") msgs/s | $(fmt_int "${R[echo_med_asio]}") msgs/s (C++20 Asio) | ${R[echo_ratio_asio]} | ≥ 0.85 | $echo_asio_v |
| TCP echo vs Node | $(fmt_int "${R[echo_med_moonwire]}") msgs/s | $(fmt_int "${R[echo_med_node]}") msgs/s (Node \`net\`) | ${R[echo_ratio_node]} | > 1 | $echo_node_v |
| startup | ${R[start_mw]} ms | ${R[start_lua]} ms (\`lua5.4 -e ''\`) | ${R[start_ratio]} | ≤ 1.5 | ${R[start_verdict]} |
| idle connection memory | $(fmt_int "${R[mem_idle_moonwire]}") B/conn | $(fmt_int "${R[mem_idle_asio]}") B/conn (C++20 Asio) | ${R[mem_ratio_idle]} | report (lower is better) | — |
| WebSocket echo vs Beast | $(fmt_int "${R[wse_med_moonwire]}") msgs/s | $(fmt_int "${R[wse_med_beast]}") msgs/s (C++20 Beast) | ${R[wse_ratio_beast]} | ≥ 0.85 | $wse_asio_v |
| WebSocket echo vs Node | $(fmt_int "${R[wse_med_moonwire]}") msgs/s | $(fmt_int "${R[wse_med_node]}") msgs/s (Node \`ws\`) | ${R[wse_ratio_node]} | > 1 | $wse_node_v |
| WebSocket broadcast, $(fmt_int "$BC_CONNS") clients | $(fmt_int "${R[bc_rate_moonwire]}") deliveries/s | $(fmt_int "${R[bc_rate_beast]}") deliveries/s (C++20 Beast) | ${R[bc_ratio]} | ≥ 0.80 | $bc_v |
| idle WebSocket memory vs Beast | $(fmt_int "${R[wsm_worst]}") B/conn | $(fmt_int "$(max_of "${R[wsm_idle_beast]}" "${R[wsm_used_beast]}")") B/conn (C++20 Beast) | ${R[wsm_worst_ratio]} | ≤ 1.0 | ${R[wsm_v_ratio]} |
| idle WebSocket memory | $(fmt_int "${R[wsm_worst]}") B/conn | — | — | < 16,384 B | ${R[wsm_v_abs]} |
| HTTP keep-alive GET vs wrk | $(fmt_int "${R[http_med_moonwire]}") req/s | $(fmt_int "${R[http_med_wrk]}") req/s (\`wrk -c $HTTP_CONNS -t 1\`) | ${R[http_ratio_wrk]} | ≥ 0.85 | $(verdict "${R[http_ratio_wrk]}" 0.85) |
| HTTP keep-alive GET vs Node | $(fmt_int "${R[http_med_moonwire]}") req/s | $(fmt_int "${R[http_med_node]}") req/s (Node \`fetch\`) | ${R[http_ratio_node]} | report | — |
| $DL_MIB MiB download, \`save_to_file\` | $(fmt_int "${R[dl_hwm]}") KiB peak RSS | — | — | < 32,768 KiB | ${R[dl_v]} |
| HTTP server vs nginx + Lua | $(fmt_int "${R[srv_med_moonwire]}") req/s | $(fmt_int "${R[srv_med_nginx_lua]}") req/s (lua-nginx-module) | ${R[srv_ratio_lua]} | ≥ 1 | $(verdict "${R[srv_ratio_lua]}" 1) |
| HTTP server vs Node | $(fmt_int "${R[srv_med_moonwire]}") req/s | $(fmt_int "${R[srv_med_node]}") req/s (Node \`http\`) | ${R[srv_ratio_node]} | ≥ 2 | $(verdict "${R[srv_ratio_node]}" 2) |
| HTTP server vs Beast | $(fmt_int "${R[srv_med_moonwire]}") req/s | $(fmt_int "${R[srv_med_beast]}") req/s (C++20 Beast) | ${R[srv_ratio_beast]} | report (the ceiling) | — |
| HTTP server vs nginx static file | $(fmt_int "${R[srv_med_moonwire]}") req/s | $(fmt_int "${R[srv_med_nginx]}") req/s (nginx) | ${R[srv_ratio_file]} | report | — |
| HTTP router, 20 routes + \`:id\` | $(fmt_int "${R[router_med]}") req/s | $(fmt_int "${R[bare_med]}") req/s (bare handler) | ${R[router_ratio]} | report | — |
| idle keep-alive HTTP memory | $(fmt_int "${R[hm_idle_moonwire]:-0}") B/conn | $(fmt_int "${R[hm_idle_beast]:-0}") B/conn (C++20 Beast) | ${R[hm_ratio]} | report (lower is better) | — |

## 1. Task switch rate

\`tools/bench/task_switch.lua N K\` spawns K tasks that together do N = $(fmt_int "$SWITCH_N")
\`task.yield()\` calls (\`local yield = task.yield; for i = 1, n do yield() end\`), joins them
and reports yields per second, timed inside the script (\`time.monotonic\`, startup excluded).
The baseline, \`tools/bench/switch_baseline.cpp\`, is the minimal version of the same machinery:
one \`asio::io_context\`, K Lua 5.4 coroutines running the same loop over a C function that
returns \`lua_yield(L, 0)\`, and a posted handler that \`lua_resume\`s a coroutine and posts
itself again when it yields. Best of $SWITCH_REPS interleaved runs each.

| tasks | moonwire (switches/s) | baseline (switches/s) | ratio | target | result |
| --- | --- | --- | --- | --- | --- |
$switch_rows
## 2. TCP echo

$ECHO_CONNS connections, $ECHO_SIZE-byte ping-pong: each connection writes $ECHO_SIZE bytes, reads
them back (checked) and repeats. The load generator (\`tools/bench/loadgen.cpp\`, C++20 Asio
coroutines, one thread, TCP_NODELAY) counts round trips for ${ECHO_SECS} s after a ${ECHO_WARMUP} s
warm-up; $ECHO_ROUNDS rounds, each running the servers one after the other. Every server is single-threaded, sets
TCP_NODELAY and echoes what one read returns (up to 4096 bytes):

- moonwire: \`tools/bench/tcp_echo_server.lua\` — accept loop, one task per connection,
  \`conn:read(4096)\` → \`conn:write(data)\`;
- Asio: \`tools/bench/asio_echo_server.cpp\` — C++20 coroutine per connection,
  \`async_read_some\` → \`async_write\`;
- Node: \`tools/bench/node_echo_server.js\` — \`net\` server, \`socket.on('data')\` → \`write\`.

The load generator and the server share the machine's $NPROC cores, so the messages/s are the
pair's; "server CPU" is the server process's user+system CPU time divided by the messages it
echoed (warm-up included), which depends less on the load generator and on other jobs.

| server | best msgs/s | lowest server CPU (µs/msg) |
| --- | --- | --- |
$echo_rows
Every run (in the order they ran):

| round |$(for s in "${ECHO_SERVERS[@]}"; do printf " %s |" "$s"; done)
| --- |$(for s in "${ECHO_SERVERS[@]}"; do printf " --- |"; done)
$echo_round_rows
The ratios are medians over the rounds of moonwire/baseline within a round (runs next to each
other in time see about the same load from other jobs); the summary's msgs/s are each server's
median. moonwire/Asio: **${R[echo_ratio_asio]}** (target ≥ 0.85: $echo_asio_v); moonwire/Node:
**${R[echo_ratio_node]}** (target > 1: $echo_node_v). Cross-checks: best run against best run,
moonwire/Asio ${R[echo_best_ratio_asio]} and moonwire/Node ${R[echo_best_ratio_node]}; lowest server
CPU per message, moonwire/Asio, ${R[echo_cpu_ratio_asio]} (lower is better).

## 3. Startup

\`moonwire -e ''\` against \`lua5.4 -e ''\`, measured with $START_TOOL.

| command | median (ms) | σ in that block (ms) |
| --- | --- | --- |
| \`lua5.4 -e ''\` | ${R[start_lua]} | ${R[start_lua_sd]} |
| \`moonwire -e ''\` | ${R[start_mw]} | ${R[start_mw_sd]} |

Ratio **${R[start_ratio]}** (target ≤ 1.5: ${R[start_verdict]}).

## 4. Memory of idle connections

Each server (the echo servers above: in moonwire one task per connection, blocked in
\`conn:read()\`) is started alone; its VmRSS is read from \`/proc/PID/status\`. A separate
process (\`bench_loadgen hold\`) then opens $(fmt_int "$MEM_CONNS") connections to it (at most 200
connects in flight) and holds them. Once the server owns all $(fmt_int "$MEM_CONNS") sockets
(counted in \`/proc/PID/fd\`), VmRSS is read again: **idle** = (RSS after − RSS before) /
connections. Then every connection does one $ECHO_SIZE-byte echo and the peak (VmHWM) is read:
**after one echo** = (VmHWM − RSS before) / connections, which includes the read buffers and
anything else allocated once data has flowed. Kernel socket buffers are not in RSS. (The Asio
server's 4 KiB read buffer lives in each connection's coroutine frame, so it is part of its
idle cost too.)

| server | RSS before (KiB) | RSS idle (KiB) | idle (B/conn) | peak after one echo (KiB) | after one echo (B/conn) |
| --- | --- | --- | --- | --- | --- |
$mem_rows
moonwire/Asio: ${R[mem_ratio_idle]} idle, ${R[mem_ratio_used]} after one echo (no target in
the runtime issue; the WebSocket targets are in section 7).

## 5. WebSocket echo

$ECHO_CONNS connections, $ECHO_SIZE-byte **text** ping-pong: each connection sends a $ECHO_SIZE-byte text
message, reads the echo (checked) and repeats. The load generator (\`tools/bench/ws_loadgen.cpp\`,
\`bench_ws_loadgen echo\`: Boost.Beast WebSocket clients, C++20 coroutines, one thread,
TCP_NODELAY, masked frames as clients must send, no compression) counts round trips for
${ECHO_SECS} s after a ${ECHO_WARMUP} s warm-up; $ECHO_ROUNDS rounds, each running the servers one after the other.
Every server is single-threaded, TCP_NODELAY, no permessage-deflate:

- moonwire: \`tools/bench/ws_echo_server.lua\` — \`net.ws.listen\`, accept loop, one task per
  connection, \`ws:recv()\` → \`ws:send(msg.data, msg.type)\`;
- Beast: \`tools/bench/beast_ws_echo_server.cpp\` — \`websocket::stream<tcp::socket>\`, C++20
  coroutine per connection, \`async_read\` into a \`flat_buffer\` → \`async_write\` (same type);
- Node: \`tools/bench/node_ws_echo_server.js\` — \`ws\` (from tests/interop/node_modules),
  \`on('message')\` → \`send\`.

As for TCP echo, messages/s are the pair's (the load generator shares the $NPROC cores), and
"server CPU" is the server's user+system CPU time per message echoed.

| server | best msgs/s | median msgs/s | lowest server CPU (µs/msg) |
| --- | --- | --- | --- |
$wse_rows
Every run (in the order they ran):

| round |$(for s in "${WS_SERVERS[@]}"; do printf " %s |" "$s"; done)
| --- |$(for s in "${WS_SERVERS[@]}"; do printf " --- |"; done)
$wse_round_rows
Ratios are medians over the rounds of moonwire/baseline within a round. moonwire/Beast:
**${R[wse_ratio_beast]}** (target ≥ 0.85: $wse_asio_v); moonwire/Node: **${R[wse_ratio_node]}** (target > 1:
$wse_node_v). Cross-checks: best against best, moonwire/Beast ${R[wse_best_ratio_beast]} and
moonwire/Node ${R[wse_best_ratio_node]}; lowest server CPU per message, moonwire/Beast
${R[wse_cpu_ratio_beast]} (lower is better).

## 6. WebSocket broadcast

$(fmt_int "$BC_CONNS") clients (\`bench_ws_loadgen bcast\`, one process, all reading) connect to the server;
then, each round, client 0 sends the text \`"$BC_COUNT $BC_SIZE"\` and the server broadcasts $BC_COUNT text
messages of $BC_SIZE bytes to every connection. The round's time runs from that command until every
client has received all $BC_COUNT messages (sizes checked); deliveries/s = $(fmt_int "$BC_CONNS") × $BC_COUNT / time.
Each server run does $BC_ROUNDS rounds and reports their median; $BC_RUNS runs per server, interleaved.

- moonwire: \`tools/bench/ws_broadcast_server.lua\` — one task per connection in \`ws:recv()\`; the
  command makes it call \`server:broadcast(data, "text")\` $BC_COUNT times (it queues without waiting;
  $BC_COUNT × $BC_SIZE bytes stay far below the default \`max_queue\` of 1 MiB);
- Beast: \`bench_beast_ws_echo_server 0 broadcast\` — every connection has a queue of shared
  messages and a writer coroutine draining it with \`async_write\`, one message at a time; a
  broadcast appends one \`shared_ptr<string>\` to each queue and wakes idle writers.

"server CPU" is the server's CPU time per delivery over its whole run (the $(fmt_int "$BC_CONNS") handshakes
included).

| run | Beast (deliveries/s, server CPU µs/delivery) | moonwire | moonwire/Beast |
| --- | --- | --- | --- |
$bc_rows
moonwire/Beast, median over runs: **${R[bc_ratio]}** (target ≥ 0.80: $bc_v).

## 7. Memory of idle WebSocket connections

As section 4, with WebSocket: the echo servers of section 5 (moonwire: one task per connection
blocked in \`ws:recv()\`) are started alone, a separate process (\`bench_ws_loadgen hold\`) opens
$(fmt_int "$MEM_CONNS") WebSocket connections (TCP connect + handshake, at most 200 in flight) and holds them;
once the server owns all the sockets and 0.5 s have passed, VmRSS gives **idle** =
(RSS after − RSS before) / connections; then one $ECHO_SIZE-byte text echo on every connection and
VmHWM gives **after one echo**. The targets apply to the worse of the two.

| server | RSS before (KiB) | RSS idle (KiB) | idle (B/conn) | peak after one echo (KiB) | after one echo (B/conn) |
| --- | --- | --- | --- | --- | --- |
$wsm_rows
moonwire/Beast: ${R[wsm_ratio_idle]} idle, ${R[wsm_ratio_used]} after one echo (target ≤ 1.0: ${R[wsm_v_ratio]});
moonwire's worst, $(fmt_int "${R[wsm_worst]}") B/conn (target < 16 KiB: ${R[wsm_v_abs]}).

## 8. HTTP client: keep-alive GET

A local nginx $NGINX_V (started by the runner with a temporary configuration on a free
127.0.0.1 port, one worker, \`access_log off\`, \`keepalive_requests 1000000\`) serves a
$HTTP_SIZE-byte file. Three clients, each with $HTTP_CONNS concurrent requesters on keep-alive
connections, for ${HTTP_SECS} s per run, $HTTP_ROUNDS rounds, one after the other:

- wrk $WRK_V: \`wrk -c $HTTP_CONNS -t 1 -d ${HTTP_SECS}s\` — the ceiling (a C event loop that only parses
  status and length);
- moonwire: \`tools/bench/http_get.lua\` — $HTTP_CONNS tasks, each looping \`http.get(url)\` (status and
  body length checked) after a ${ECHO_WARMUP} s warm-up; the pool is set to
  \`max_idle_per_origin = 64\`, above the $HTTP_CONNS requesters, so pool size never closes a
  connection (with the default, 16, a run also opened just $HTTP_CONNS connections: counted
  \`connect()\` calls);
- Node $NODE_V: \`tools/bench/node_fetch_client.js\` — $HTTP_CONNS concurrent async loops of
  \`await fetch(url)\` + \`arrayBuffer()\` (undici's default keep-alive pool), same warm-up.

nginx shares the $NPROC cores with the client, so these are the pair's requests/s.

| round |$(for c in "${HTTP_CLIENTS[@]}"; do printf " %s |" "$c"; done)
| --- |$(for c in "${HTTP_CLIENTS[@]}"; do printf " --- |"; done)
$http_rows$http_med_row

Medians over rounds of moonwire/client within a round: moonwire/wrk **${R[http_ratio_wrk]}**,
moonwire/Node \`fetch\` **${R[http_ratio_node]}** (the issue asks to report both; no threshold).

## 9. HTTP client: download to a file

\`tools/bench/http_download.lua\` downloads a $DL_MIB MiB file from the same nginx with
\`http.get(url, { save_to_file = path })\` and reads its own VmHWM (peak RSS) from
\`/proc/self/status\` before and after: **$(fmt_int "${R[dl_hwm]}") KiB** peak ($(fmt_int "${R[dl_hwm0]}") KiB before the request)
— target < 32 MiB: ${R[dl_v]}. The transfer took ${R[dl_secs]} s (${R[dl_rate]} MiB/s, to a file on
\`$(df --output=fstype "$WORK" 2>/dev/null | tail -1)\`).

## 10. HTTP server: keep-alive requests

\`wrk -c $HTTP_CONNS -t 1 -d ${HTTP_SECS}s\` (keep-alive, $HTTP_CONNS connections, one thread) against
each server in turn, $HTTP_ROUNDS rounds; every server is single-threaded (one process, one
worker) and answers \`GET\` with 200 and a $HTTP_SIZE-byte \`text/plain\` body with Content-Length:

- moonwire: \`tools/bench/http_server.lua\` — \`net.http.listen\`, a Lua handler returning the body
  string (each request runs in its own task);
- Beast: \`tools/bench/beast_http_server.cpp\` (\`bench_beast_http_server\`) — C++20 coroutine per
  connection, \`http::async_read\` of a \`request<string_body>\` → \`async_write\` of the response: the ceiling;
- nginx: one nginx (throwaway \`nginx.conf\` in the run's temp directory, one worker,
  \`access_log off\`, \`keepalive_requests 1000000\`) serving a $HTTP_SIZE-byte file, and, in the same nginx,
  libnginx-mod-http-lua (OpenResty's model) running the same handler in Lua
  (\`content_by_lua_block { ngx.header["Content-Length"] = #BODY; ngx.print(BODY) }\`);
- Node $NODE_V: \`tools/bench/node_http_server.js\` — \`http.createServer\`, \`res.end(body)\`.

wrk and the server share the $NPROC cores, so the requests/s are the pair's; "µs" is the
server's CPU time (user+system; for nginx its worker's) per request over the run.

| round |$(for s in "${SRV_SERVERS[@]}"; do printf " %s |" "$(srv_label "$s")"; done)
| --- |$(for s in "${SRV_SERVERS[@]}"; do printf " --- |"; done)
${srv_rows}| median |$(for s in "${SRV_SERVERS[@]}"; do printf " **%s** |" "$(fmt_int "${R[srv_med_$s]}")"; done)

Medians over rounds of moonwire/server within a round: moonwire/nginx+Lua **${R[srv_ratio_lua]}**
(target ≥ 1: $(verdict "${R[srv_ratio_lua]}" 1)), moonwire/Node **${R[srv_ratio_node]}** (target ≥ 2:
$(verdict "${R[srv_ratio_node]}" 2)), moonwire/Beast **${R[srv_ratio_beast]}** (report), moonwire/nginx
static file **${R[srv_ratio_file]}** (report).

## 11. HTTP router overhead

The same wrk load on \`GET /users/42\`: \`tools/bench/http_router_server.lua\`
(\`http.server.new()\`, 20 GET routes, 19 with a parameter \`/static/routeN/:name\` registered
before the measured \`/users/:id\`, whose handler reads \`ctx.params.id\`, sets a header and returns
the body) against the bare handler of section 10 (\`tools/bench/http_server.lua\`, which answers
every path), alternating, $HTTP_ROUNDS rounds. Ratio = router/bare requests/s (1.0 = no overhead).

| round | bare handler | router | router/bare |
| --- | --- | --- | --- |
${router_rows}
Median router/bare: **${R[router_ratio]}** (report).

## 12. Memory of idle keep-alive HTTP connections

Each server of section 10 is started alone, its VmRSS read; \`bench_loadgen hold --http 1\` opens
$(fmt_int "$MEM_CONNS") connections, each sends one \`GET /\` and reads the response, and keeps the
connection open; 0.5 s after the last response VmRSS is read again: **idle** = (RSS after −
RSS before) / connections (a keep-alive connection between requests: moonwire's waits for the
next request head). Peak = VmHWM, the same way.

| server | RSS before (KiB) | RSS idle (KiB) | idle (B/conn) | peak (B/conn) |
| --- | --- | --- | --- | --- |
${hm_rows}
moonwire/Beast: **${R[hm_ratio]}** idle (report; lower is better).
EOF
[[ -n $SUITE_MD ]] && printf '\n%s' "${SUITE_MD%$'\n'}" >>"$DOC"
echo "== wrote $DOC"
