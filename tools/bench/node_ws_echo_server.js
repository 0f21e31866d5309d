// Node.js `ws` server for `make bench`: the Node peer of the WebSocket echo, idle-connection,
// broadcast and handshake benchmarks. `ws` comes from tests/interop/node_modules (`npm ci`
// there), required by path.
// usage: node tools/bench/node_ws_echo_server.js [PORT] [echo|broadcast]   (prints "PORT <n>")
//   echo (default): every message is sent back with its type.
//   broadcast: a text message "N SIZE" from any client sends N text messages of SIZE bytes to
//     every open client (ws.send for each, the way the `ws` README broadcasts): the protocol of
//     tools/bench/ws_broadcast_server.lua and `bench_beast_ws_echo_server 0 broadcast`.
'use strict';
const path = require('path');
const { WebSocketServer, WebSocket } = require(path.join(__dirname, '../../tests/interop/node_modules/ws'));
const broadcast = process.argv[3] === 'broadcast';
const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(process.argv[2] || 0), backlog: 4096,
  perMessageDeflate: false, clientTracking: true });
const letters = 'abcdefghijklmnopqrstuvwxyz';
wss.on('connection', (ws, req) => {
  req.socket.setNoDelay(true);
  if (broadcast) {
    ws.on('message', (data) => {
      const m = /^(\d+) (\d+)$/.exec(data.toString());
      if (!m) return;
      const n = Number(m[1]), size = Number(m[2]);
      for (let i = 0; i < n; i++) {
        const msg = letters[i % 26].repeat(size);
        for (const c of wss.clients) if (c.readyState === WebSocket.OPEN) c.send(msg);
      }
    });
  } else {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  }
  ws.on('error', () => ws.terminate());
});
wss.on('listening', () => process.stdout.write(`PORT ${wss.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
