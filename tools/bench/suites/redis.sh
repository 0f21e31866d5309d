# Suite "redis" (sourced by tools/bench/run.sh in a subshell): GET/SET throughput of 50 tasks
# sharing one redis client (auto-pipelined on one connection) against a local redis-server,
# next to redis-benchmark (the ceiling: one connection with 50 commands in flight, the same
# pipelining depth; and 50 connections with one each) and Node's ioredis (one client, 50 async
# loops, auto-pipelining on and off). Prints its markdown section on stdout.
RB_SECS=3 RB_ROUNDS=3 RB_TASKS=50 RB_SIZE=64
if [[ $QUICK = 1 ]]; then RB_SECS=1 RB_ROUNDS=1; fi

have redis-server || die "redis suite: redis-server is missing (tools/install-deps.sh installs it)"
have redis-benchmark || die "redis suite: redis-benchmark is missing (package redis-tools)"

rb_port=$("$MW" -e 'local s = net.tcp.listen(0) print(s.port) s:close()')
redis-server --bind 127.0.0.1 --port "$rb_port" --save '' --appendonly no --daemonize no \
  >"$WORK/redis-server.out" 2>&1 &
rb_pid=$!
PIDS+=("$rb_pid")
for ((i = 0; i < 100; i++)); do
  grep -q "Ready to accept connections" "$WORK/redis-server.out" 2>/dev/null && break
  kill -0 "$rb_pid" 2>/dev/null || { cat "$WORK/redis-server.out" >&2; die "redis-server exited at start"; }
  sleep 0.05
done

# redis-benchmark: the mean of SET and GET requests/s (--csv: "SET","123.45",...).
rb_bench() {  # rb_bench CLIENTS PIPELINE REQUESTS_PER_SECOND_GUESS (sizes -n to about RB_SECS per test)
  local n=$((RB_SECS * $3))
  redis-benchmark -h 127.0.0.1 -p "$rb_port" -c "$1" -P "$2" -n "$n" -d "$RB_SIZE" -t set,get --csv 2>/dev/null |
    awk -F'"' '$2 == "SET" || $2 == "GET" { s += $4; k++ } END { if (k) printf "%.0f", s / k }'
}

declare -A RB
rb_run() {  # rb_run NAME CMD... ; the median rate of RB_ROUNDS runs in RB[NAME]
  local name=$1 rates=() r out
  shift
  for ((round = 0; round < RB_ROUNDS; round++)); do
    out=$("$@") || { echo "redis suite: $name failed" >&2; out=""; }
    r=$(kv rate "$out")
    [[ -z $r ]] && r=$out
    [[ -n $r ]] && rates+=("$r")
    printf "  %-24s %s ops/s\n" "$name" "${r:-failed}" >&2
  done
  RB[$name]=$( ((${#rates[@]})) && median "${rates[@]}" || echo n/a)
}

NODE_MODULES="$ROOT/tests/interop/node_modules"
rb_run moonwire "$MW" "$ROOT/tools/bench/redis_client.lua" "$rb_port" "$RB_TASKS" "$RB_SECS" "$RB_SIZE"
if have node && [[ -d $NODE_MODULES/ioredis ]]; then
  rb_run ioredis env NODE_PATH="$NODE_MODULES" node "$ROOT/tools/bench/ioredis_client.js" "$rb_port" "$RB_TASKS" "$RB_SECS" "$RB_SIZE"
  rb_run ioredis_plain env IOREDIS_AUTOPIPELINE=0 NODE_PATH="$NODE_MODULES" node "$ROOT/tools/bench/ioredis_client.js" "$rb_port" "$RB_TASKS" "$RB_SECS" "$RB_SIZE"
else
  echo "redis suite: node or ioredis missing (tools/install-deps.sh installs them)" >&2
  RB[ioredis]=n/a RB[ioredis_plain]=n/a
fi
rb_run bench_pipelined rb_bench 1 "$RB_TASKS" 300000
rb_run bench_conns rb_bench "$RB_TASKS" 1 30000
stop_pid "$rb_pid"

best_node=$(max_of "${RB[ioredis]}" "${RB[ioredis_plain]}")
is_number "$best_node" || best_node=n/a
r_node=$(ratio "${RB[moonwire]}" "$best_node")
r_ceil=$(ratio "${RB[moonwire]}" "${RB[bench_pipelined]}")
cat <<EOF
## Redis client: GET/SET from $RB_TASKS tasks

$RB_TASKS tasks share one \`redis\` client and loop \`SET key v\` / \`GET key\` ($RB_SIZE-byte values, one
key per task) against a local \`redis-server\` for ${RB_SECS} s (median of $RB_ROUNDS runs; operations
per second, SET and GET counted alike). moonwire pipelines the tasks' commands automatically on one
connection, so up to $RB_TASKS commands are in flight. Baselines, measured in the same run:
\`redis-benchmark\` with one connection and \`-P $RB_TASKS\` (the same pipelining depth: the ceiling the
server allows) and with $RB_TASKS connections and \`-P 1\`, and Node's \`ioredis\` (one client,
$RB_TASKS async loops, with \`enableAutoPipelining\` on and off; the faster is the baseline).
redis-server runs on the same 2-core machine.

| client | ops/s | vs moonwire |
|---|---:|---:|
| moonwire \`redis\` (50 tasks, 1 connection) | $(fmt_int "${RB[moonwire]}") | 1.00 |
| ioredis, auto-pipelining | $(fmt_int "${RB[ioredis]}") | $(ratio "${RB[ioredis]}" "${RB[moonwire]}") |
| ioredis, default | $(fmt_int "${RB[ioredis_plain]}") | $(ratio "${RB[ioredis_plain]}" "${RB[moonwire]}") |
| redis-benchmark \`-c 1 -P $RB_TASKS\` (ceiling) | $(fmt_int "${RB[bench_pipelined]}") | $(ratio "${RB[bench_pipelined]}" "${RB[moonwire]}") |
| redis-benchmark \`-c $RB_TASKS -P 1\` | $(fmt_int "${RB[bench_conns]}") | $(ratio "${RB[bench_conns]}" "${RB[moonwire]}") |

moonwire / best ioredis: **$r_node** (target ≥ 1.0: **$(verdict "$r_node" 1.0)**); moonwire /
redis-benchmark ceiling: $r_ceil.
EOF
