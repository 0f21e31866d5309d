#!/usr/bin/python3
"""A raw WebSocket server for closing-handshake tests; what it does depends on the request path.
usage: ws_close_peer.py PORT      (prints one line per connection: "<path> GOT <code>")

/close/CODE  sends a close frame with CODE (even an invalid one), reads the client's answer,
             prints its code, then closes the TCP connection normally (FIN)
/rst         sends close 1000, reads the client's close frame, prints its code, then resets the
             TCP connection (SO_LINGER 0: RST instead of FIN)
/answer-rst  waits for the client's close frame, prints its code, answers close 1000, then
             resets the TCP connection
/noread      completes the handshake, then reads nothing (the client's writes back up)
"""
import base64, hashlib, socket, struct, sys, threading, time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def recv_exactly(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError("eof after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def read_frame(conn):
    """One client frame: (opcode, unmasked payload)."""
    b0, b1 = recv_exactly(conn, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", recv_exactly(conn, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", recv_exactly(conn, 8))[0]
    key = recv_exactly(conn, 4) if b1 & 0x80 else b"\0\0\0\0"
    payload = bytes(c ^ key[i % 4] for i, c in enumerate(recv_exactly(conn, n)))
    return b0 & 0x0F, payload


def read_close_code(conn):
    while True:
        op, payload = read_frame(conn)
        if op == 8:
            return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005


def close_frame(code):
    return b"\x88\x02" + struct.pack("!H", code)


def reset(conn):
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def serve(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk
    lines = data.decode("latin-1").split("\r\n")
    path = lines[0].split(" ")[1]
    key = ""
    for line in lines:
        if line.lower().startswith("sec-websocket-key:"):
            key = line.split(":", 1)[1].strip()
    accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
    conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Accept: %s\r\n\r\n" % accept).encode())
    try:
        if path.startswith("/close/"):
            conn.sendall(close_frame(int(path[len("/close/"):])))
            print(path, "GOT", read_close_code(conn), flush=True)
            conn.close()
        elif path == "/rst":
            conn.sendall(close_frame(1000))
            print(path, "GOT", read_close_code(conn), flush=True)
            reset(conn)
        elif path == "/answer-rst":
            print(path, "GOT", read_close_code(conn), flush=True)
            conn.sendall(close_frame(1000))
            reset(conn)
        elif path == "/noread":
            time.sleep(60)
    except (EOFError, OSError) as e:
        print(path, "ERROR", e, flush=True)


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(16)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
