// Node.js `ws` echo server for `make bench` (the peer in the WebSocket echo and idle-connection
// benchmarks). `ws` comes from tests/interop/node_modules (`npm ci` there), required by path.
// usage: node tools/bench/node_ws_echo_server.js [PORT]   (prints "PORT <n>" when listening)
'use strict';
const path = require('path');
const { WebSocketServer } = require(path.join(__dirname, '../../tests/interop/node_modules/ws'));
const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(process.argv[2] || 0), backlog: 4096,
  perMessageDeflate: false });
wss.on('connection', (ws, req) => {
  req.socket.setNoDelay(true);
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => ws.terminate());
});
wss.on('listening', () => process.stdout.write(`PORT ${wss.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
