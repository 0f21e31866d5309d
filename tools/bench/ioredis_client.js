// Redis GET/SET load from N concurrent async loops sharing one ioredis client (auto-pipelining
// on, ioredis' fastest mode for this load). The Node baseline of tools/bench/suites/redis.sh.
// usage: node ioredis_client.js PORT TASKS SECONDS [VALUE_SIZE]   (NODE_PATH: tests/interop/node_modules)
// prints: ops=<n> secs=<s> rate=<ops/s>
const Redis = require("ioredis");
const [port, ntasks = 50, secs = 3, size = 64] = process.argv.slice(2).map(Number);
const auto = process.env.IOREDIS_AUTOPIPELINE !== "0";  // IOREDIS_AUTOPIPELINE=0: its default mode
const r = new Redis({ port, host: "127.0.0.1", enableAutoPipelining: auto });
const value = "x".repeat(size);
let ops = 0, stop = false;
async function worker(i) {
  const key = "bench:" + i;
  while (!stop) {
    await r.set(key, value);
    await r.get(key);
    ops += 2;
  }
}
(async () => {
  const tasks = [];
  for (let i = 1; i <= ntasks; i++) tasks.push(worker(i));
  await new Promise((res) => setTimeout(res, 300));
  const t0 = process.hrtime.bigint(), o0 = ops;
  await new Promise((res) => setTimeout(res, secs * 1000));
  const dt = Number(process.hrtime.bigint() - t0) / 1e9, n = ops - o0;
  stop = true;
  await Promise.all(tasks);
  r.disconnect();
  console.log(`ops=${n} secs=${dt.toFixed(3)} rate=${(n / dt).toFixed(0)}`);
})();
