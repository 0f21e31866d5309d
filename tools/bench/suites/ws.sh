# shellcheck shell=bash
# Suite "ws" (sourced by tools/bench/run.sh in a subshell): WebSocket at scale (issue 11).
# - broadcast to 100 and 1,000 clients, 64 B and 4 KiB messages: moonwire
#   (tools/bench/ws_broadcast_server.lua) against the C++ Beast broadcast server
#   (bench_beast_ws_echo_server 0 broadcast) and Node `ws` (node_ws_echo_server.js 0 broadcast),
#   same load generator (bench_ws_loadgen bcast), same run;
# - WebSocket handshakes/s (bench_ws_loadgen handshake: connect, opening handshake, close)
#   against the same three servers in echo mode.
# Prints its markdown section on stdout (and a copy on stderr), progress on stderr.

WSS_SERVERS=(beast moonwire)
have node && [[ -d $ROOT/tests/interop/node_modules/ws ]] && WSS_SERVERS+=(node)
wss_cmd() {  # wss_cmd SERVER echo|broadcast
  case $1 in
    beast) echo "$TB/bench_beast_ws_echo_server 0 $2" ;;
    moonwire) if [[ $2 = broadcast ]]; then echo "$MW tools/bench/ws_broadcast_server.lua"
              else echo "$MW tools/bench/ws_echo_server.lua"; fi ;;
    node) echo "node tools/bench/node_ws_echo_server.js 0 $2" ;;
  esac
}
if [[ $QUICK = 1 ]]; then WSS_RUNS=1 WSS_ROUNDS=2 WSS_DELIV=50000 WSS_HS=1000
else WSS_RUNS=3 WSS_ROUNDS=3 WSS_DELIV=200000 WSS_HS=5000; fi
declare -A W

bc_rows=""
bc_all_pass=1
for conns in 100 1000; do
  for size in 64 4096; do
    count=$((WSS_DELIV / conns))
    echo "== ws broadcast: $conns clients x $count messages of $size B, $WSS_ROUNDS rounds per run, $WSS_RUNS runs" >&2
    for ((r = 0; r < WSS_RUNS; r++)); do
      for s in "${WSS_SERVERS[@]}"; do
        # shellcheck disable=SC2046
        start_server "wsb-$s" $(wss_cmd "$s" broadcast)
        c0=$(cpu_secs "$SERVER_PID")
        out=$("$TB/bench_ws_loadgen" bcast --port "$SERVER_PORT" --conns "$conns" --count "$count" \
          --size "$size" --rounds "$WSS_ROUNDS" | tail -1) || out="median=0"
        c1=$(cpu_secs "$SERVER_PID")
        stop_pid "$SERVER_PID"
        med=$(kv median "$out")
        cpu=$(awk -v a="$c0" -v b="$c1" -v n=$((conns * count * WSS_ROUNDS)) 'BEGIN { printf "%.2f", (b - a) * 1e6 / n }')
        W[m_${conns}_${size}_${s}]+="${med:-0} "
        W[c_${conns}_${size}_${s}]+="$cpu "
        printf "  run %d %-9s %10s deliveries/s   server CPU %s us/delivery\n" $((r + 1)) "$s" "$(fmt_int "${med:-0}")" "$cpu" >&2
      done
    done
    row="| $conns | $size B |"
    for s in beast moonwire node; do
      if [[ -n ${W[m_${conns}_${size}_$s]:-} ]]; then
        # shellcheck disable=SC2086
        W[med_$s]=$(median ${W[m_${conns}_${size}_$s]})
        # shellcheck disable=SC2086
        W[cpu_$s]=$(median ${W[c_${conns}_${size}_$s]})
        row+=" $(fmt_int "${W[med_$s]}") /s, ${W[cpu_$s]} µs |"
      else
        W[med_$s]=0
        row+=" — |"
      fi
    done
    rb=$(ratio "${W[med_moonwire]}" "${W[med_beast]}")
    rn=$(ratio "${W[med_moonwire]}" "${W[med_node]}")
    v=PASS
    ge "$rb" 1.2 || v=MISS
    [[ $rn = n/a ]] || ge "$rn" 1.2 || v=MISS
    [[ $v = PASS ]] || bc_all_pass=0
    row+=" $rb | $rn | $v |"
    bc_rows+="$row"$'\n'
    echo "  moonwire/beast $rb, moonwire/node $rn" >&2
  done
done

echo "== ws handshakes: $WSS_HS connections (50 in flight), $WSS_RUNS runs" >&2
for ((r = 0; r < WSS_RUNS; r++)); do
  for s in "${WSS_SERVERS[@]}"; do
    # shellcheck disable=SC2046
    start_server "wsh-$s" $(wss_cmd "$s" echo)
    c0=$(cpu_secs "$SERVER_PID")
    out=$("$TB/bench_ws_loadgen" handshake --port "$SERVER_PORT" --count "$WSS_HS" --parallel 50 --hold 120 | tail -1) ||
      out="rate=0"
    c1=$(cpu_secs "$SERVER_PID")
    stop_pid "$SERVER_PID"
    rate=$(kv rate "$out")
    cpu=$(awk -v a="$c0" -v b="$c1" -v n="$WSS_HS" 'BEGIN { printf "%.1f", (b - a) * 1e6 / n }')
    W[h_$s]+="${rate:-0} "
    W[hc_$s]+="$cpu "
    printf "  run %d %-9s %8s handshakes/s   server CPU %s us/handshake\n" $((r + 1)) "$s" "$(fmt_int "${rate:-0}")" "$cpu" >&2
  done
done
hs_row="|"
for s in beast moonwire node; do
  if [[ -n ${W[h_$s]:-} ]]; then
    # shellcheck disable=SC2086
    W[hmed_$s]=$(median ${W[h_$s]})
    # shellcheck disable=SC2086
    hs_row+=" $(fmt_int "${W[hmed_$s]}") /s, $(median ${W[hc_$s]}) µs |"
  else
    W[hmed_$s]=0
    hs_row+=" — |"
  fi
done
hrb=$(ratio "${W[hmed_moonwire]}" "${W[hmed_beast]}")
hrn=$(ratio "${W[hmed_moonwire]}" "${W[hmed_node]}")
hs_row+=" $hrb | $hrn | $(verdict "$hrb" 1.0) |"

md=$(cat <<MD
## WebSocket at scale: broadcast and handshakes

Measured $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg) (shared machine).
**Broadcast**: one load generator (\`bench_ws_loadgen bcast\`, one thread; Beast handshakes, then
the frames read straight from each socket, drained into one 256 KiB buffer and parsed by the
generator itself: Beast's per-message \`async_read\` and UTF-8 check had made the generator the
bottleneck at 4 KiB, capping all three servers at about the same rate) opens
N clients; each round one client asks for COUNT messages of SIZE bytes and the server
broadcasts them to every client (COUNT × N = $(fmt_int "$WSS_DELIV") deliveries per round); a round ends
when every client has them all. Cells: median deliveries/s over $WSS_RUNS runs (each the median
of $WSS_ROUNDS rounds), and server CPU per delivery (handshakes included). Servers: moonwire
(\`tools/bench/ws_broadcast_server.lua\`, \`server:broadcast\`: the frame built once, written
as is to every client, a client's queued frames in one gather write), the C++ Beast
broadcast server (one \`async_write\` per message per client) and Node \`ws\` (\`send\` per client).
Target: ≥ 1.2× Beast and ≥ 1.2× Node.

| clients | size | Beast | moonwire | Node | moonwire/Beast | moonwire/Node | target ≥ 1.2× both |
|---:|---:|---:|---:|---:|---:|---:|---|
${bc_rows}
**Handshakes**: \`bench_ws_loadgen handshake\`: $(fmt_int "$WSS_HS") connections, 50 in flight, each
TCP connect + opening handshake + close; the servers are the echo servers. Median of $WSS_RUNS
runs; server CPU per handshake. Target: ≥ 1.0× Beast.

| Beast | moonwire | Node | moonwire/Beast | moonwire/Node | target ≥ 1.0× Beast |
|---:|---:|---:|---:|---:|---|
${hs_row}
MD
)
echo "$md" >&2
echo "$md"
