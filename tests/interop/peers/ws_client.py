#!/usr/bin/python3
"""python3-websockets (10.x) test peer: runs a fixed conversation against a moonwire server
(tests/interop/ws_python_test.lua) and prints "ALL OK" or the failure.

usage: ws_client.py URL [--ca CA] [--compression] [--protocols a,b] [--expect-protocol P]
"""
import asyncio, ssl, sys, traceback
import websockets

args = sys.argv[1:]
url = args[0]
ctx = None
if "--ca" in args:
    ctx = ssl.create_default_context(cafile=args[args.index("--ca") + 1])
compression = "deflate" if "--compression" in args else None
protocols = args[args.index("--protocols") + 1].split(",") if "--protocols" in args else None
expect_protocol = args[args.index("--expect-protocol") + 1] if "--expect-protocol" in args else None


def check(cond, what):
    if not cond:
        raise AssertionError(what)


async def main():
    async with websockets.connect(url, ssl=ctx, compression=compression, subprotocols=protocols,
                                  max_size=None, ping_interval=None) as ws:
        check(ws.subprotocol == expect_protocol, "subprotocol %r" % ws.subprotocol)
        if compression:
            ext = ws.response_headers.get("Sec-WebSocket-Extensions", "")
            check("permessage-deflate" in ext, "no permessage-deflate in %r" % ext)
        for msg in ["hello", "", "ünïcødé ✓", b"\x00\x01\xff", b"", "x" * 70000]:
            await ws.send(msg)
            check(await ws.recv() == msg, "echo of %r" % (msg[:20],))
        big = bytes(range(256)) * (10 * 4096)  # 10 MiB
        await ws.send(big)
        check(await ws.recv() == big, "10 MiB echo")
        await ws.send(iter(["frag", "men", "ted"]))  # one message in three frames
        check(await ws.recv() == "fragmented", "fragmented echo")
        pong = await ws.ping(b"hi")
        await asyncio.wait_for(pong, 5)
        await ws.send("ping-me")  # the server pings us, then says "pinged"
        check(await ws.recv() == "pinged", "server ping")
        await ws.close(4000, "bye")
        check(ws.close_code == 4000, "close code %r" % ws.close_code)
    # server-initiated close
    async with websockets.connect(url, ssl=ctx, subprotocols=protocols, ping_interval=None) as ws:
        await ws.send("close-me")
        try:
            await ws.recv()
            check(False, "expected close")
        except websockets.ConnectionClosed as e:
            check(e.rcvd.code == 4002 and e.rcvd.reason == "asked", "close %r" % (e.rcvd,))
    print("ALL OK", flush=True)

try:
    asyncio.run(asyncio.wait_for(main(), 30))
except Exception:
    traceback.print_exc()
    sys.exit(1)
