#!/usr/bin/python3
"""python3-websockets (10.x) test peer: WebSocket echo server with commands.

usage: ws_server.py PORT [--tls CERT KEY] [--compression] [--protocols a,b]
Echoes every message. Text commands: "fragments" -> sends "abcdef" as 3 fragments;
"ping-me" -> pings the client with b"srv", waits for the pong, then sends "pinged";
"close-me" -> closes with 4002 "asked".
"""
import asyncio, ssl, sys
import websockets

args = sys.argv[1:]
port = int(args[0])
ctx = None
compression = None
protocols = None
if "--tls" in args:
    i = args.index("--tls")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args[i + 1], args[i + 2])
if "--compression" in args:
    compression = "deflate"
if "--protocols" in args:
    protocols = args[args.index("--protocols") + 1].split(",")


async def handler(ws, path=None):
    try:
        async for msg in ws:
            if msg == "fragments":
                await ws.send(iter(["ab", "cd", "ef"]))
            elif msg == "ping-me":
                waiter = await ws.ping(b"srv")
                await asyncio.wait_for(waiter, 5)
                await ws.send("pinged")
            elif msg == "close-me":
                await ws.close(4002, "asked")
            elif msg == "headers":
                await ws.send(ws.request_headers.get("X-Test", "") + "|" + (ws.subprotocol or ""))
            else:
                await ws.send(msg)
    except websockets.ConnectionClosed:
        pass


async def main():
    async with websockets.serve(handler, "127.0.0.1", port, ssl=ctx, compression=compression,
                                subprotocols=protocols, max_size=None, ping_interval=None):
        print("READY", flush=True)
        await asyncio.Future()

asyncio.run(main())
