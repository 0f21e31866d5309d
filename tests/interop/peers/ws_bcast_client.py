#!/usr/bin/python3
"""python3-websockets broadcast receiver (tests/interop/ws_broadcast_interop_test.lua): connects,
sends "ready", then reads COUNT messages; message i (from 1) must be "B<i>:" followed by the
letter chr(97 + i % 26) repeated as in the test's size list. Prints "ALL OK <n> <ext>" or the
failure, then closes with 1000.

usage: ws_bcast_client.py URL COUNT [--compression]
"""
import asyncio, sys, traceback
import websockets

url, count = sys.argv[1], int(sys.argv[2])
compression = "deflate" if "--compression" in sys.argv[3:] else None
SIZES = [0, 1, 125, 126, 127, 1000, 65535, 65536, 70000, 5]


def expected(i):
    return "B%d:" % i + chr(97 + i % 26) * SIZES[i % len(SIZES)]


async def main():
    async with websockets.connect(url, compression=compression, max_size=None, ping_interval=None) as ws:
        ext = ws.response_headers.get("Sec-WebSocket-Extensions", "") or "none"
        await ws.send("ready")
        for i in range(1, count + 1):
            m = await asyncio.wait_for(ws.recv(), 20)
            if m != expected(i):
                raise AssertionError("message %d: got %r..." % (i, m[:30]))
        print("ALL OK %d %s" % (count, "deflate" if "permessage-deflate" in ext else "plain"), flush=True)
        await ws.close(1000)


try:
    asyncio.run(main())
except Exception:
    traceback.print_exc(file=sys.stdout)
    sys.exit(1)
