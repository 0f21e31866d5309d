// Node.js `http` server for `make bench` (the HTTP server benchmark): keep-alive, 200 with a
// text/plain body of SIZE bytes, as tools/bench/http_server.lua.
// usage: node tools/bench/node_http_server.js [PORT] [SIZE]   (prints "PORT <n>" when listening)
'use strict';
const http = require('http');
const size = Number(process.argv[3] || 1024);
const body = Buffer.alloc(size, 'x');
const server = http.createServer({ keepAliveTimeout: 60000 }, (req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': size });
  res.end(body);
});
server.keepAliveTimeout = 60000;
server.listen({ host: '127.0.0.1', port: Number(process.argv[2] || 0), backlog: 4096 }, () => {
  process.stdout.write(`PORT ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
