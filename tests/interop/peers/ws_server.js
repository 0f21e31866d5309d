// Node `ws` test peer: WebSocket echo server with the same commands as ws_server.py.
// usage: node ws_server.js PORT [--tls CERT KEY] [--compression] [--protocols a,b]
const fs = require("fs");
const https = require("https");
const { WebSocketServer } = require("ws");

const args = process.argv.slice(2);
const port = Number(args[0]);
const opts = { perMessageDeflate: args.includes("--compression"), maxPayload: 0 };
const pi = args.indexOf("--protocols");
if (pi >= 0) {
  const ours = args[pi + 1].split(",");
  opts.handleProtocols = (offered) => ours.find((p) => offered.has(p)) || false;
}
let wss;
const ti = args.indexOf("--tls");
if (ti >= 0) {
  const server = https.createServer({ cert: fs.readFileSync(args[ti + 1]), key: fs.readFileSync(args[ti + 2]) });
  wss = new WebSocketServer({ ...opts, server });
  server.listen(port, "127.0.0.1", () => console.log("READY"));
} else {
  wss = new WebSocketServer({ ...opts, port, host: "127.0.0.1" }, () => console.log("READY"));
}
wss.on("connection", (ws, req) => {
  ws.on("message", (data, isBinary) => {
    const text = isBinary ? null : data.toString();
    if (text === "fragments") {
      ws.send("ab", { fin: false });
      ws.send("cd", { fin: false });
      ws.send("ef", { fin: true });
    } else if (text === "ping-me") {
      ws.once("pong", () => ws.send("pinged"));
      ws.ping("srv");
    } else if (text === "close-me") {
      ws.close(4002, "asked");
    } else if (text === "headers") {
      ws.send((req.headers["x-test"] || "") + "|" + (ws.protocol || ""));
    } else {
      ws.send(data, { binary: isBinary });
    }
  });
});
