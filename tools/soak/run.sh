#!/usr/bin/env bash
# `make soak`: long-ish reliability runs against real moonwire processes, on 127.0.0.1 only.
# Not part of `make test`. Each scenario prints its samples and a PASS/MISS line; the exit
# status is 1 if any scenario missed. Results are recorded by hand in docs/reliability.md.
#
#   tcp, ws   SOAK_CONNS connections opened and closed (echo once, then close) against
#             tools/bench/tcp_echo_server.lua / ws_echo_server.lua, in SOAK_BATCHES batches
#   http      the moonwire HTTP client (tools/soak/http_client.lua), SOAK_CONNS GETs, each on a
#             fresh connection, against an nginx started here (keepalive_timeout 0)
#             After each batch (nothing in flight) the measured process does a full GC (control
#             port, tools/soak/control.lua; stdin for the client) and is sampled: VmRSS, Lua heap,
#             open fds. Verdict: after the warm-up (the first tenth of the batches), the last
#             quarter's max RSS is within SOAK_RSS_MARGIN_KB of the first post-warm-up sample,
#             the Lua heap within 64 KiB, and the fds are back to the baseline after every batch.
#   slow      broadcast with one slow consumer (tools/soak/ws_broadcast_server.lua +
#             soak_ws_clients slow): the slow client must be cut off with 1008 "send queue
#             overflow", the fast ones get every message, the server's RSS stays bounded
#   shutdown  numbered messages, each recorded (stdout) then acknowledged by
#             tools/soak/ack_server.lua; SIGTERM mid-load: every acknowledged message must be in
#             the record, exit status 143 within SOAK_EXIT_BOUND_S
#
# usage: tools/soak/run.sh [BUILD_DIR]
# env:   SOAK_CONNS=10000        connections per churn scenario (e.g. 100000 for a longer run)
#        SOAK_BATCHES=20         samples per churn scenario
#        SOAK_PARALLEL=50        connections in flight during a batch
#        SOAK_RSS_MARGIN_KB=1024 allowed RSS growth after the warm-up
#        SOAK_BCAST_SECS=12      broadcast duration of `slow` (the slow client stalls 5 s)
#        SOAK_LOAD_SECS=3        load before SIGTERM in `shutdown`
#        SOAK_ONLY="tcp ws http slow shutdown"  a subset
#        SOAK_MOONWIRE=PATH      the moonwire binary to test (default BUILD_DIR/moonwire)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=${1:-build}
[[ $BUILD = /* ]] || BUILD="$ROOT/$BUILD"
MW=${SOAK_MOONWIRE:-$BUILD/moonwire}
LOADGEN="$BUILD/tools/bench/bench_loadgen"
WS_LOADGEN="$BUILD/tools/bench/bench_ws_loadgen"
CLIENTS="$BUILD/tools/soak/soak_ws_clients"
CONNS=${SOAK_CONNS:-10000}
BATCHES=${SOAK_BATCHES:-20}
PARALLEL=${SOAK_PARALLEL:-50}
RSS_MARGIN_KB=${SOAK_RSS_MARGIN_KB:-1024}
LUA_MARGIN_B=65536
BCAST_SECS=${SOAK_BCAST_SECS:-12}
LOAD_SECS=${SOAK_LOAD_SECS:-3}
EXIT_BOUND_S=${SOAK_EXIT_BOUND_S:-3}
ONLY=${SOAK_ONLY:-tcp ws http slow shutdown}
PER_BATCH=$((CONNS / BATCHES))
WARM=$(((BATCHES + 9) / 10))  # batches of warm-up
LASTQ=$((BATCHES - BATCHES / 4 + 1))  # first batch of the last quarter
((PER_BATCH > 0 && BATCHES >= 4)) || { echo "soak: need SOAK_BATCHES >= 4 and SOAK_CONNS >= SOAK_BATCHES" >&2; exit 2; }

# shellcheck source=tools/harness.sh
source "$(dirname "$0")/../harness.sh"
TARGETS="moonwire soak_tools"
[[ -n ${SOAK_MOONWIRE:-} ]] && TARGETS=soak_tools
# shellcheck disable=SC2086
harness_build soak "$BUILD" $TARGETS
harness_setup soak

die() { echo "soak: $*" >&2; exit 1; }
want() { [[ " $ONLY " == *" $1 "* ]]; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
nfds() { local f=("/proc/$1/fd"/*); echo "${#f[@]}"; }
forget_pid() {
  local rest=() p
  for p in "${PIDS[@]}"; do [[ $p = "$1" ]] || rest+=("$p"); done
  PIDS=("${rest[@]}")
}
stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
}
RESULTS=()
verdict() {  # verdict NAME OK(0/1) DETAILS
  local v=PASS
  [[ $2 = 1 ]] || v=MISS
  RESULTS+=("$v $1: $3")
  echo "$v $1: $3"
}

# wait_line FILE REGEX PID: prints the first line of FILE matching REGEX (waits up to 10 s).
wait_line() {
  local i line
  for ((i = 0; i < 200; i++)); do
    line=$(grep -m1 -E "$2" "$1" 2>/dev/null || true)
    [[ -n $line ]] && { echo "$line"; return 0; }
    kill -0 "$3" 2>/dev/null || { cat "$1" >&2; die "process $3 exited at start"; }
    sleep 0.05
  done
  die "no line /$2/ in $1 within 10 s"
}

# start_moonwire NAME SCRIPT ARGS...: a moonwire server with the control port; sets SPID,
# SPORT (from "PORT n" on stdout or stderr) and CPORT (the control port).
start_moonwire() {
  local name=$1; shift
  "$MW" -e "package.path = '$ROOT/tools/soak/?.lua;' .. package.path" -l control "$@" \
    >"$WORK/$name.out" 2>"$WORK/$name.err" &
  SPID=$!
  PIDS+=("$SPID")
  SPORT=$(wait_line "$WORK/$name.out" '^PORT [0-9]+' "$SPID" | awk '{ print $2 }')
  CPORT=$(wait_line "$WORK/$name.err" '^CONTROL [0-9]+' "$SPID" | awk '{ print $2 }')
}

# control PORT CMD: one request to the control port; waits for the server to close it.
control() {
  local reply
  exec 3<>"/dev/tcp/127.0.0.1/$1"
  printf '%s\n' "$2" >&3
  reply=$(cat <&3)
  exec 3<&-
  sed -n 's/^lua_bytes=//p' <<<"$reply"
}

# sample PID BASE_FDS LUA_BYTES: "rss_kb lua_bytes fds"; fds are re-read for up to 2 s until
# back to BASE_FDS (a socket closed by the peer a moment ago may still be in the close path).
sample() {
  local fds i
  for ((i = 0; i < 40; i++)); do
    fds=$(nfds "$1")
    ((fds <= $2)) && break
    sleep 0.05
  done
  echo "$(status_kb "$1" VmRSS) $3 $fds"
}

# judge NAME: verdict over the arrays S_RSS, S_LUA, S_FDS (index 0 = baseline, i = after batch i).
judge() {
  local name=$1 i ok=1 why="" ref_rss=${S_RSS[$WARM]} ref_lua=${S_LUA[$WARM]} max_rss=0 max_lua=0 bad_fds=""
  for ((i = LASTQ; i <= BATCHES; i++)); do
    ((S_RSS[i] > max_rss)) && max_rss=${S_RSS[i]}
    ((S_LUA[i] > max_lua)) && max_lua=${S_LUA[i]}
  done
  # fds: back to the post-warm-up count after every later batch (the first I/O may open the
  # runtime's own descriptors once: a reactor, the signal watcher's pipe), and never above it.
  for ((i = WARM; i <= BATCHES; i++)); do ((S_FDS[i] == S_FDS[WARM])) || bad_fds+=" #$i=${S_FDS[i]}"; done
  ((max_rss <= ref_rss + RSS_MARGIN_KB)) || { ok=0; why+=" RSS grew"; }
  ((max_lua <= ref_lua + LUA_MARGIN_B)) || { ok=0; why+=" Lua heap grew"; }
  [[ -z $bad_fds ]] || { ok=0; why+=" fds not back to ${S_FDS[$WARM]}:$bad_fds"; }
  ((S_ERRORS == 0)) || { ok=0; why+=" $S_ERRORS load errors"; }
  verdict "$name" $ok "$CONNS connections; RSS ${S_RSS[0]} KB at start, ${ref_rss} KB after warm-up (batch $WARM), last-quarter max ${max_rss} KB (+$((max_rss - ref_rss)) KB, margin ${RSS_MARGIN_KB}); Lua heap after GC ${ref_lua} -> max ${max_lua} B; fds ${S_FDS[0]} at start, ${S_FDS[$WARM]} after warm-up, ${S_FDS[$BATCHES]} at the end; peak RSS (VmHWM) ${S_HWM} KB; ${S_SECS}s of churn${why:+ —$why}"
}

print_samples() {
  local i
  printf "  %5s %8s %8s %10s %4s\n" batch conns rss_kb lua_bytes fds
  for ((i = 0; i <= BATCHES; i++)); do
    printf "  %5s %8s %8s %10s %4s\n" "$i" $((i * PER_BATCH)) "${S_RSS[i]}" "${S_LUA[i]}" "${S_FDS[i]}"
  done
}

# churn NAME SERVER_SCRIPT LOADGEN
churn() {
  local name=$1 script=$2 gen=$3 i s t0 out
  echo "== $name: $CONNS connections opened and closed ($BATCHES batches of $PER_BATCH, $PARALLEL in flight) against $script"
  start_moonwire "$name" "$script"
  S_RSS=() S_LUA=() S_FDS=() S_ERRORS=0
  read -r S_RSS[0] S_LUA[0] S_FDS[0] <<<"$(sample "$SPID" 1000000 "$(control "$CPORT" gc)")"
  t0=$(date +%s.%N)
  for ((i = 1; i <= BATCHES; i++)); do
    if ! out=$("$gen" churn --port "$SPORT" --count "$PER_BATCH" --parallel "$PARALLEL" --size 64 --hold 120 2>&1); then
      echo "  batch $i: $out" >&2
      S_ERRORS=$((S_ERRORS + 1))
    fi
    read -r S_RSS[i] S_LUA[i] S_FDS[i] <<<"$(sample "$SPID" "${S_FDS[i - 1]}" "$(control "$CPORT" gc)")"
  done
  S_SECS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  S_HWM=$(status_kb "$SPID" VmHWM)
  print_samples
  stop_pid "$SPID"
  judge "$name"
}

# --- tcp, ws -----------------------------------------------------------------------------------
want tcp && churn tcp tools/bench/tcp_echo_server.lua "$LOADGEN"
want ws && churn ws tools/bench/ws_echo_server.lua "$WS_LOADGEN"

# --- http (the moonwire client against nginx) ------------------------------------------------
start_nginx() {  # a foreground nginx on a free 127.0.0.1 port, no keep-alive
  mkdir -p "$WORK/www"
  head -c 1024 /dev/urandom >"$WORK/www/1k.bin"
  harness_start_nginx "keepalive_timeout 0;"
}

if want http; then
  echo "== http: $CONNS GETs by the moonwire client, each on a fresh connection (keepalive=false, nginx keepalive_timeout 0), $BATCHES batches, 20 tasks"
  start_nginx
  coproc HC { exec "$MW" tools/soak/http_client.lua "http://127.0.0.1:$NGINX_PORT/1k.bin" 20 1024 2>"$WORK/http.err"; }
  HPID=$HC_PID
  PIDS+=("$HPID")
  exec 5<&"${HC[0]}" 6>&"${HC[1]}"  # keep the pipes: bash forgets HC when the coprocess ends
  hc() {  # hc CMD: one command to the client, prints its answer (30 s bound)
    local line
    printf '%s\n' "$1" >&6
    IFS= read -r -t 30 line <&5 || die "http client: no answer to '$1'"
    echo "$line"
  }
  IFS= read -r -t 10 ready <&5 || die "http client did not start"
  [[ $ready = READY ]] || die "http client: $ready"
  S_RSS=() S_LUA=() S_FDS=() S_ERRORS=0
  g=$(hc gc)
  read -r S_RSS[0] S_LUA[0] S_FDS[0] <<<"$(sample "$HPID" 1000000 "${g#lua_bytes=}")"
  t0=$(date +%s.%N)
  for ((i = 1; i <= BATCHES; i++)); do
    r=$(hc "run $PER_BATCH")
    e=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$r")
    [[ $e = 0 ]] || { echo "  batch $i: $r" >&2; S_ERRORS=$((S_ERRORS + 1)); }
    g=$(hc gc)
    read -r S_RSS[i] S_LUA[i] S_FDS[i] <<<"$(sample "$HPID" "${S_FDS[i - 1]}" "${g#lua_bytes=}")"
  done
  S_SECS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  S_HWM=$(status_kb "$HPID" VmHWM)
  print_samples
  exec 6>&-  # EOF: the client exits
  eval "exec ${HC[1]}>&-" 2>/dev/null || true
  wait "$HPID" 2>/dev/null || true
  forget_pid "$HPID"
  exec 5<&-
  [[ -s $WORK/http.err ]] && head -5 "$WORK/http.err" >&2
  judge http
  stop_pid "$NGINX_PID"
fi

# --- slow consumer under broadcast ---------------------------------------------------------------
if want slow; then
  FAST=20 MAX_QUEUE=1048576
  echo "== slow: broadcast (20 x 1 KiB text every 10 ms, ${BCAST_SECS}s) to $FAST fast clients and one that stalls 5 s; max_queue $MAX_QUEUE"
  start_moonwire slow tools/soak/ws_broadcast_server.lua 0 "$MAX_QUEUE"
  pre=$(status_kb "$SPID" VmRSS)
  "$CLIENTS" slow --port "$SPORT" --conns "$FAST" --count 20 --size 1024 --duration "$BCAST_SECS" --hold 5 \
    >"$WORK/slow.clients" 2>"$WORK/slow.clients.err" &
  CPID=$!
  PIDS+=("$CPID")
  : >"$WORK/slow.rss"
  t0=$(date +%s.%N)
  while kill -0 "$CPID" 2>/dev/null; do
    r=$(status_kb "$SPID" VmRSS) || break
    echo "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') $r" >>"$WORK/slow.rss"
    sleep 0.25
  done
  wait "$CPID" && crc=0 || crc=$?
  forget_pid "$CPID"
  sleep 0.3
  post=$(status_kb "$SPID" VmRSS)
  stop_pid "$SPID"
  echo "  server RSS (s KB), every 0.25 s:"
  awk '{ printf "%s%s:%s", (NR % 8 == 1 ? "   " : " "), $1, $2; if (NR % 8 == 0) printf "\n" } END { printf "\n" }' "$WORK/slow.rss"
  grep -E '^(CUT|BROADCAST)|^CLOSED [0-9]+ slow' "$WORK/slow.out" | sed 's/^/  server: /'
  tail -2 "$WORK/slow.clients" | sed 's/^/  clients: /'
  [[ -s $WORK/slow.clients.err ]] && head -5 "$WORK/slow.clients.err" | sed 's/^/  clients: /'
  fast_line=$(grep '^fast ' "$WORK/slow.clients" || true)
  slow_line=$(grep '^slow ' "$WORK/slow.clients" || true)
  total=$(sed -n 's/.*total=\([0-9-]*\).*/\1/p' <<<"$fast_line")
  peak=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$WORK/slow.rss")
  n=$(wc -l <"$WORK/slow.rss")
  # "flat": the second half of the samples never exceeds the first half's max by more than 512 KiB
  half1=$(awk -v n="$n" 'NR <= n / 2 && $2 > m { m = $2 } END { print m + 0 }' "$WORK/slow.rss")
  half2=$(awk -v n="$n" 'NR > n / 2 && $2 > m { m = $2 } END { print m + 0 }' "$WORK/slow.rss")
  cut=$(grep -m1 '^CUT' "$WORK/slow.out" || true)
  ok=1 why=""
  ((crc == 0)) || { ok=0; why+=" clients exited $crc"; }
  grep -qE '^CLOSED [0-9]+ slow code=1008' "$WORK/slow.out" || { ok=0; why+=" server did not see the slow client end with 1008"; }
  [[ $slow_line == *'close_code=1008 close_reason="send queue overflow"'* ]] || { ok=0; why+=" slow client got no 1008 close frame"; }
  [[ $fast_line =~ min=$total\ max=$total\ closed=0 && $total -gt 0 ]] || { ok=0; why+=" fast clients lost messages or were closed"; }
  ((peak <= pre + 8192)) || { ok=0; why+=" RSS peak over start + 8 MiB"; }
  ((half2 <= half1 + 512)) || { ok=0; why+=" RSS still growing in the second half"; }
  verdict slow $ok "slow client cut off (${cut#CUT }), got 1008 \"send queue overflow\"; $FAST fast clients each got all $total messages; server RSS $pre KB before, peak $peak KB (+$((peak - pre)) KB; max_queue 1024 KB), first-half max $half1, second-half max $half2, $post KB at the end${why:+ —$why}"
fi

# --- shutdown under load ---------------------------------------------------------------------------
if want shutdown; then
  ACONNS=20 WINDOW=4
  echo "== shutdown: $ACONNS WebSocket clients send numbered messages ($WINDOW unacknowledged each), recorded then acknowledged by tools/soak/ack_server.lua; SIGTERM after ${LOAD_SECS}s"
  "$MW" tools/soak/ack_server.lua >"$WORK/record" 2>"$WORK/ack.err" &
  SPID=$!
  PIDS+=("$SPID")
  SPORT=$(wait_line "$WORK/ack.err" '^PORT [0-9]+' "$SPID" | awk '{ print $2 }')
  "$CLIENTS" acks --port "$SPORT" --conns "$ACONNS" --count "$WINDOW" --duration $((LOAD_SECS + 20)) \
    >"$WORK/acks" 2>"$WORK/acks.err" &
  CPID=$!
  PIDS+=("$CPID")
  sleep "$LOAD_SECS"
  rss=$(status_kb "$SPID" VmRSS)
  t0=$(date +%s%N)
  kill -TERM "$SPID"
  code=""
  for ((i = 0; i < EXIT_BOUND_S * 100 + 200; i++)); do  # poll every 10 ms, up to the bound + 2 s
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.01
  done
  wait "$SPID" && code=0 || code=$?
  exit_ms=$((($(date +%s%N) - t0) / 1000000))
  forget_pid "$SPID"
  wait "$CPID" && crc=0 || crc=$?
  forget_pid "$CPID"
  grep '^ACK ' "$WORK/acks" | cut -c5- | sort >"$WORK/acked"
  grep '^REC ' "$WORK/record" | cut -c5- | sort >"$WORK/recorded"
  acked=$(wc -l <"$WORK/acked")
  recorded=$(wc -l <"$WORK/recorded")
  lost=$(comm -23 "$WORK/acked" "$WORK/recorded" | wc -l)
  summary=$(tail -1 "$WORK/acks")
  echo "  clients: $summary"
  [[ -s $WORK/acks.err ]] && head -5 "$WORK/acks.err" | sed 's/^/  clients: /'
  grep -v '^PORT' "$WORK/ack.err" | head -5 | sed 's/^/  server stderr: /' || true
  echo "  server: RSS $rss KB under load; exit status $code after ${exit_ms} ms; $recorded messages recorded, $acked acknowledged, $lost acknowledged but not recorded"
  ok=1 why=""
  ((crc == 0)) || { ok=0; why+=" clients exited $crc"; }
  [[ $code = 143 ]] || { ok=0; why+=" exit status $code"; }
  ((exit_ms <= EXIT_BOUND_S * 1000)) || { ok=0; why+=" exit took ${exit_ms} ms"; }
  ((acked > 0)) || { ok=0; why+=" nothing acknowledged"; }
  ((lost == 0)) || { ok=0; why+=" $lost acknowledged messages missing from the record"; }
  [[ $summary == *"close_codes=1001:$ACONNS errors=0"* ]] || { ok=0; why+=" not every client got 1001"; }
  verdict shutdown $ok "$acked messages acknowledged, all in the record ($recorded recorded); exit $code in ${exit_ms} ms (bound ${EXIT_BOUND_S} s); clients: ${summary#acks }${why:+ —$why}"
fi

echo
echo "== soak summary ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, $(uname -r))"
status=0
for r in "${RESULTS[@]}"; do
  echo "$r"
  [[ $r = PASS* ]] || status=1
done
exit $status
