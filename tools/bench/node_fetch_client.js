// Node.js `fetch` HTTP client benchmark (Node 18+; undici's keep-alive pool): CONNS concurrent
// loops of GET URL (body checked against SIZE) for WARMUP + DURATION seconds.
// usage: node tools/bench/node_fetch_client.js URL [CONNS] [DURATION] [WARMUP] [SIZE]
// prints: reqs=<n> seconds=<s> rate=<requests/s> conns=<c>
'use strict';
const [url, connsArg, durArg, warmArg, sizeArg] = process.argv.slice(2);
const conns = Number(connsArg || 50), duration = Number(durArg || 3), warmup = Number(warmArg || 0.5);
const size = Number(sizeArg || 1024);
let measuring = false, stopping = false, reqs = 0;

async function loop() {
  while (!stopping) {
    const r = await fetch(url);
    const body = await r.arrayBuffer();
    if (r.status !== 200 || body.byteLength !== size) throw new Error(`bad response ${r.status}`);
    if (measuring) reqs++;
  }
}

(async () => {
  const loops = [];
  for (let i = 0; i < conns; i++) loops.push(loop());
  await new Promise((res) => setTimeout(res, warmup * 1000));
  measuring = true;
  const t0 = process.hrtime.bigint();
  await new Promise((res) => setTimeout(res, duration * 1000));
  measuring = false;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  stopping = true;
  await Promise.all(loops);
  console.log(`reqs=${reqs} seconds=${secs.toFixed(6)} rate=${(reqs / secs).toFixed(0)} conns=${conns}`);
})().catch((e) => { console.error(e); process.exit(1); });
