// Node `ws` test peer: runs the same conversation as ws_client.py against a moonwire server.
// usage: node ws_client.js URL [--ca CA] [--compression] [--protocols a,b] [--expect-protocol P]
const fs = require("fs");
const WebSocket = require("ws");

const args = process.argv.slice(2);
const url = args[0];
const opt = (name) => (args.indexOf(name) >= 0 ? args[args.indexOf(name) + 1] : undefined);
const options = { perMessageDeflate: args.includes("--compression"), maxPayload: 0 };
if (opt("--ca")) options.ca = fs.readFileSync(opt("--ca"));
const protocols = opt("--protocols") ? opt("--protocols").split(",") : [];
const expectProtocol = opt("--expect-protocol") || "";

function fail(msg) {
  console.log("FAIL " + msg);
  process.exit(1);
}
setTimeout(() => fail("timeout"), 30000).unref();

function open(u) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(u, protocols, options);
    const queue = [];
    const waiters = [];
    ws.on("message", (data, isBinary) => {
      const m = { data, isBinary };
      if (waiters.length) waiters.shift()(m);
      else queue.push(m);
    });
    ws.recv = () => new Promise((r) => (queue.length ? r(queue.shift()) : waiters.push(r)));
    ws.on("open", () => resolve(ws));
    ws.on("error", reject);
  });
}

(async () => {
  const ws = await open(url);
  if (ws.protocol !== expectProtocol) fail("protocol " + ws.protocol);
  if (options.perMessageDeflate && !ws.extensions.includes("permessage-deflate")) fail("no deflate: " + ws.extensions);
  const msgs = [["hello", false], ["", false], ["ünïcødé ✓", false], [Buffer.from([0, 1, 255]), true],
    [Buffer.alloc(0), true], ["x".repeat(70000), false]];
  for (const [m, bin] of msgs) {
    ws.send(m, { binary: bin });
    const r = await ws.recv();
    if (r.isBinary !== bin || !Buffer.from(r.data).equals(Buffer.from(m))) fail("echo of " + String(m).slice(0, 20));
  }
  const big = Buffer.alloc(10 * 1024 * 1024, 7);
  ws.send(big);
  const rb = await ws.recv();
  if (!rb.isBinary || !Buffer.from(rb.data).equals(big)) fail("10 MiB echo");
  ws.send("frag", { fin: false });
  ws.send("men", { fin: false });
  ws.send("ted", { fin: true });
  if ((await ws.recv()).data.toString() !== "fragmented") fail("fragmented echo");
  await new Promise((r) => { ws.once("pong", (d) => (d.toString() === "hi" ? r() : fail("pong " + d))); ws.ping("hi"); });
  ws.send("ping-me");
  if ((await ws.recv()).data.toString() !== "pinged") fail("server ping");
  await new Promise((r) => { ws.once("close", (code) => (code === 4000 ? r() : fail("close code " + code))); ws.close(4000, "bye"); });
  const ws2 = await open(url);
  await new Promise((r) => {
    ws2.once("close", (code, reason) => (code === 4002 && reason.toString() === "asked" ? r() : fail("close " + code)));
    ws2.send("close-me");
  });
  console.log("ALL OK");
  process.exit(0);
})().catch((e) => fail(e.stack || String(e)));
