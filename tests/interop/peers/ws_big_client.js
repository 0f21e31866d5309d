// Node `ws` test peer: sends one binary message of each SIZE (bytes) on its own connection to a
// moonwire server and prints "SIZE <close code received>" (1006: no close frame).
// usage: node ws_big_client.js URL SIZE...
const WebSocket = require("ws");

const [url, ...sizes] = process.argv.slice(2);
setTimeout(() => { console.log("FAIL timeout"); process.exit(1); }, 30000).unref();

function one(n) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on("open", () => ws.send(Buffer.alloc(n, 120)));
    ws.on("error", () => {});  // the close event follows with 1006
    ws.on("close", (code) => resolve(code));
  });
}

(async () => {
  for (const s of sizes) console.log(s + " " + (await one(Number(s))));
})();
