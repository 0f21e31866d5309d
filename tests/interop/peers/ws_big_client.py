#!/usr/bin/python3
"""python3-websockets (10.x) test peer for closing paths against a moonwire server.

usage: ws_big_client.py URL [--ca CA] big SIZE...     sends one binary message of each SIZE
                                                      (bytes) on its own connection
       ws_big_client.py URL [--ca CA] badclose CODE...  sends a raw close frame with each CODE
                                                      (even invalid ones) on its own connection
Prints one line per connection: "SIZE|CODE <close code received from the server>" (1006 when the
connection ended without a close frame).
"""
import asyncio, ssl, struct, sys
import websockets
from websockets.frames import OP_CLOSE

args = sys.argv[1:]
url = args.pop(0)
ctx = None
if args[0] == "--ca":
    ctx = ssl.create_default_context(cafile=args[1])
    args = args[2:]
mode, values = args[0], [int(v) for v in args[1:]]


async def big(n):
    async with websockets.connect(url, ssl=ctx, ping_interval=None, max_size=None) as ws:
        try:
            await ws.send(b"x" * n)
            await ws.recv()
            return "no close"
        except websockets.ConnectionClosed as e:
            return e.rcvd.code if e.rcvd else 1006


async def badclose(code):
    async with websockets.connect(url, ssl=ctx, ping_interval=None) as ws:
        # write_frame, not close(): close() refuses invalid codes
        await ws.write_frame(True, OP_CLOSE, struct.pack("!H", code))
        await ws.wait_closed()
        return ws.close_code


async def main():
    for v in values:
        print(v, await asyncio.wait_for((big if mode == "big" else badclose)(v), 20), flush=True)

asyncio.run(main())
