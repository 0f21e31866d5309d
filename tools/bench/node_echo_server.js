// Node.js `net` echo server for `make bench` (the peer in the TCP echo benchmark).
// usage: node tools/bench/node_echo_server.js [PORT]   (prints "PORT <n>" when listening)
'use strict';
const net = require('net');
const server = net.createServer({ noDelay: true }, (sock) => {
  sock.setNoDelay(true);
  sock.on('data', (chunk) => sock.write(chunk));
  sock.on('error', () => sock.destroy());
});
server.listen({ host: '127.0.0.1', port: Number(process.argv[2] || 0), backlog: 4096 }, () => {
  process.stdout.write(`PORT ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
