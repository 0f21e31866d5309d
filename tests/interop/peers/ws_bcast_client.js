// Node `ws` broadcast receiver (tests/interop/ws_broadcast_interop_test.lua): the same
// conversation as ws_bcast_client.py. Prints "ALL OK <n> <deflate|plain>" or the failure.
// usage: node ws_bcast_client.js URL COUNT [--compression]
'use strict';
const path = require('path');
const WebSocket = require(path.join(__dirname, '../node_modules/ws'));
const [url, countArg, ...rest] = process.argv.slice(2);
const count = Number(countArg);
const SIZES = [0, 1, 125, 126, 127, 1000, 65535, 65536, 70000, 5];
const expected = (i) => `B${i}:` + String.fromCharCode(97 + (i % 26)).repeat(SIZES[i % SIZES.length]);
const ws = new WebSocket(url, { perMessageDeflate: rest.includes('--compression') });
let i = 0;
const fail = (why) => { console.log('FAIL ' + why); process.exit(1); };
setTimeout(() => fail(`timeout after ${i} messages`), 20000).unref();
ws.on('open', () => ws.send('ready'));
ws.on('message', (data) => {
  i += 1;
  if (data.toString() !== expected(i)) fail(`message ${i}: ${data.toString().slice(0, 30)}`);
  if (i === count) {
    const ext = ws.extensions.includes('permessage-deflate') ? 'deflate' : 'plain';
    console.log(`ALL OK ${count} ${ext}`);
    ws.close(1000);
  }
});
ws.on('close', () => process.exit(i === count ? 0 : 1));
ws.on('error', (e) => fail(e.message));
