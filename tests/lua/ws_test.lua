-- net.ws: client and server against each other (moonwire on both ends), handshake rules,
-- close paths, limits, concurrency, TLS. Interop with other implementations and malformed
-- frames are in tests/interop/ws_*_test.lua.
local test = require("test")
local proc = dofile("tests/support/proc.lua")

-- An echo server: one task per connection; echoes text and binary, reports the rest to `log`.
local function echo_server(opts, log)
  local server = net.ws.listen(0, opts)
  local acceptor = proc.serve(server, function(c)
    while true do
      local m = c:recv()
      if log then log[#log + 1] = m or "nil" end
      if not m or m.type == "close" then return end
      if m.type == "text" or m.type == "binary" then
        local sent = pcall(c.send, c, m.data, m.type)
        if not sent then return end
      end
    end
  end)
  return server, acceptor
end

local function url(server, path) return "ws://127.0.0.1:" .. server.port .. (path or "/") end

test.after_each(function() proc.cleanup() end)

test("echo text, binary and empty messages", function()
  local server = echo_server()
  local ws = net.ws.connect(url(server, "/echo"))
  ws:send("hello")
  test.eq(ws:recv(), { type = "text", data = "hello" })
  local bin = "\0\1\2\255" .. string.rep("x", 1000)
  ws:send(bin, "binary")
  test.eq(ws:recv(), { type = "binary", data = bin })
  ws:send("")
  test.eq(ws:recv(), { type = "text", data = "" })
  ws:send("", "binary")
  test.eq(ws:recv(), { type = "binary", data = "" })
  test.eq(ws:close(), true)
  server:close()
end)

test("large message (10 MiB) both ways", function()
  local server = echo_server()
  local ws = net.ws.connect(url(server))
  local big = string.rep("0123456789abcdef", 10 * 65536)
  ws:send(big, "binary")
  local m = ws:recv()
  test.eq(m.type, "binary")
  test.eq(#m.data, #big)
  assert(m.data == big, "10 MiB message corrupted")
  ws:close()
  server:close()
end)

test("handshake data: path, query, request headers, response, ids, addresses", function()
  local server = net.ws.listen("127.0.0.1", 0)
  local got
  local t = task.spawn(function()
    local c = server:accept()
    got = { path = c.path, query = c.query, h = c.headers["x-client-id"], auth = c.headers["authorization"],
      id = c.id, peer = c:peer_addr(), loc = c:local_addr() }
    local c2 = server:accept()
    got.id2 = c2.id
    c:close()
    c2:close()
  end)
  local ws = net.ws.connect(url(server, "/chat/room%201?a=1&b=two"), {
    headers = { ["X-Client-Id"] = "moon-1", Authorization = "Bearer t" }, timeout = 5000 })
  local ws2 = net.ws.connect(url(server, "/"))
  t:join(5)
  test.eq(got.path, "/chat/room%201")
  test.eq(got.query, "a=1&b=two")
  test.eq(got.h, "moon-1")
  test.eq(got.auth, "Bearer t")
  test.eq(got.id, 1)
  test.eq(got.id2, 2)
  test.eq(got.peer, ws:local_addr())
  test.eq(got.loc, ws:peer_addr())
  test.eq(ws.response.status, 101)
  test.eq(ws.response.headers.upgrade:lower(), "websocket")
  test.eq(ws.response.headers.server, "moonwire")
  test.eq(server:local_addr(), "127.0.0.1:" .. server.port)
  ws:close()
  ws2:close()
  server:close()
end)

test("addresses on a wildcard listener, and after the connection closed", function()
  local server = net.ws.listen("0.0.0.0", 0)
  local got = {}
  local t = task.spawn(function()
    local c = server:accept()
    got.peer, got.loc = c:peer_addr(), c:local_addr()
    c:close()
    got.peer2, got.loc2 = c:peer_addr(), c:local_addr()
    got.str = tostring(c)
  end)
  local ws = net.ws.connect("ws://127.0.0.1:" .. server.port .. "/")
  t:join(5)
  test.eq(got.peer, ws:local_addr())
  test.eq(got.loc, "127.0.0.1:" .. server.port) -- the wildcard resolved to the address used
  test.eq(got.peer2, got.peer)
  test.eq(got.loc2, got.loc)
  test.matches(got.str, "127.0.0.1:" .. server.port .. " %-> 127.0.0.1:%d+")
  ws:close()
  server:close()
end)

test("recv returns close entry then nil; server-initiated close", function()
  local server = net.ws.listen(0)
  local t = task.spawn(function()
    local c = server:accept()
    c:send("bye soon")
    c:close(4001, "custom")
  end)
  local ws = net.ws.connect(url(server))
  test.eq(ws:recv(), { type = "text", data = "bye soon" })
  local m = ws:recv()
  test.eq(m.type, "close")
  test.eq(m.code, 4001)
  test.eq(m.reason, "custom")
  test.eq(m.clean, true)
  test.eq(ws:recv(), nil)
  test.eq(ws:recv(), nil)
  test.eq(ws.close_code, 4001)
  test.raises(function() ws:send("x") end, "closed")
  test.eq(ws:close(), true) -- already closed: no-op
  t:join(5)
  server:close()
end)

test("both sides close at once", function()
  local server = net.ws.listen(0)
  local t = task.spawn(function()
    local c = server:accept()
    c:send(c:recv().data)
    return c:close(1000, "server")
  end)
  local ws = net.ws.connect(url(server))
  ws:send("x")
  test.eq(ws:recv().data, "x")
  test.eq(ws:close(1000, "client"), true)
  test.eq(t:join(5), true)
  local m = ws:recv()
  test.eq(m.type, "close")
  test.eq(ws:recv(), nil)
  server:close()
end)

test("client close reaches the server with code and reason", function()
  local log = {}
  local server = echo_server(nil, log)
  local ws = net.ws.connect(url(server))
  ws:send("a")
  ws:recv()
  ws:close(1000, "done here")
  for _ = 1, 100 do
    if #log >= 2 then break end
    task.sleep(0.01)
  end
  test.eq(log[1], { type = "text", data = "a" })
  test.eq(log[2].type, "close")
  test.eq(log[2].code, 1000)
  test.eq(log[2].reason, "done here")
  server:close()
end)

test("pings are answered while nobody reads; ping/pong show up in recv", function()
  local server = net.ws.listen(0)
  local release = task.channel()
  local seen = {}
  local t = task.spawn(function()
    local c = server:accept()
    release:recv(5) -- not reading while the client pings
    for i = 1, 2 do seen[i] = c:recv() end
    c:close()
  end)
  local ws = net.ws.connect(url(server))
  ws:ping("are you there")
  test.eq(ws:recv(), { type = "pong", data = "are you there" })
  ws:pong("unsolicited")
  release:send(true)
  t:join(5)
  test.eq(seen[1], { type = "ping", data = "are you there" })
  test.eq(seen[2], { type = "pong", data = "unsolicited" })
  test.raises(function() ws:ping(string.rep("x", 126)) end, "125")
  server:close()
end)

test("subprotocols: server picks the first of its list that the client offered", function()
  local server = echo_server({ protocols = { "v2.chat", "v1.chat" } })
  local ws = net.ws.connect(url(server), { protocols = { "v1.chat", "v2.chat" } })
  test.eq(ws.protocol, "v2.chat")
  ws:close()
  local ws2 = net.ws.connect(url(server), { protocols = { "other" } })
  test.eq(ws2.protocol, nil)
  ws2:close()
  local ws3 = net.ws.connect(url(server))
  test.eq(ws3.protocol, nil)
  ws3:close()
  server:close()
end)

test("origin policy: cross-origin browser request refused with 403 by default", function()
  local server = echo_server()
  local err = test.raises(function()
    net.ws.connect(url(server), { origin = "http://evil.example" })
  end, "EHANDSHAKE")
  test.eq(err.status, 403)
  -- same origin and no origin are fine
  net.ws.connect(url(server), { origin = "http://127.0.0.1:" .. server.port }):close()
  net.ws.connect(url(server)):close()
  server:close()

  local s2 = echo_server({ origins = { "https://app.example" } })
  net.ws.connect(url(s2), { origin = "https://app.example" }):close()
  test.eq(test.raises(function() net.ws.connect(url(s2), { origin = "https://other.example" }) end).status, 403)
  s2:close()

  local calls = {}
  local s3 = echo_server({ origins = function(origin, req)
    calls[#calls + 1] = { origin, req.path }
    return origin == "http://ok.example"
  end })
  net.ws.connect(url(s3, "/p"), { origin = "http://ok.example" }):close()
  test.raises(function() net.ws.connect(url(s3, "/p"), { origin = "http://no.example" }) end, "EHANDSHAKE")
  test.eq(calls, { { "http://ok.example", "/p" }, { "http://no.example", "/p" } })
  s3:close()
end)

test("a plain HTTP request gets 426 and accept keeps going", function()
  local server = echo_server()
  local c = net.tcp.connect("127.0.0.1", server.port)
  c:write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
  test.matches(c:read_line(), "^HTTP/1.1 426")
  c:close()
  local g = net.tcp.connect("127.0.0.1", server.port)
  g:write("garbage\r\n\r\n")
  test.matches(g:read_line(), "^HTTP/1.1 400")
  g:close()
  local ws = net.ws.connect(url(server))
  ws:send("still here")
  test.eq(ws:recv().data, "still here")
  ws:close()
  server:close()
end)

test("a silent client never blocks accept (handshake timeout)", function()
  local server = net.ws.listen(0, { handshake_timeout = 200 })
  local silent = net.tcp.connect("127.0.0.1", server.port)
  local t = task.spawn(function()
    local c = server:accept(5000)
    c:send("welcome")
    c:close()
  end)
  local ws = net.ws.connect(url(server))
  test.eq(ws:recv().data, "welcome")
  t:join(5)
  silent:set_timeout(3000)
  test.eq(silent:read(), nil) -- the server dropped the silent connection
  server:close()
end)

test("handshake timeouts: each silent client dropped in turn, finished handshakes untouched", function()
  local server = net.ws.listen(0, { handshake_timeout = 150 })
  local ticks = 0
  local ticker = task.spawn(function()
    while true do task.sleep(0.02); ticks = ticks + 1 end
  end)
  local silent1 = net.tcp.connect("127.0.0.1", server.port)
  task.sleep(0.05)
  local accepted = {}
  local t = task.spawn(function()
    for i = 1, 2 do accepted[i] = server:accept(5000) end
  end)
  local ws1 = net.ws.connect(url(server))
  local silent2 = net.tcp.connect("127.0.0.1", server.port)
  task.sleep(0.05)
  local ws2 = net.ws.connect(url(server))
  t:join(5)
  silent1:set_timeout(3000)
  silent2:set_timeout(3000)
  test.eq(silent1:read(), nil)
  test.eq(silent2:read(), nil)
  task.sleep(0.3) -- well past every deadline: the upgraded connections stay open
  accepted[1]:send("one")
  accepted[2]:send("two")
  test.eq(ws1:recv().data, "one")
  test.eq(ws2:recv().data, "two")
  test.ok(ticks > 0, "the loop kept running")
  ticker:cancel()
  ws1:close()
  ws2:close()
  server:close()
end)

test("max_connections: extra connections refused with 503", function()
  local server = echo_server({ max_connections = 2 })
  local a = net.ws.connect(url(server))
  local b = net.ws.connect(url(server))
  local err = test.raises(function() net.ws.connect(url(server)) end, "EHANDSHAKE")
  test.eq(err.status, 503)
  a:close()
  task.sleep(0.05)
  local c = net.ws.connect(url(server))
  c:close()
  b:close()
  server:close()
end)

test("one reader at a time; recv timeout leaves the connection usable", function()
  local server = net.ws.listen(0)
  local t = task.spawn(function()
    local c = server:accept()
    task.sleep(0.3)
    c:send("late")
    c:recv()
  end)
  local ws = net.ws.connect(url(server))
  local reader = task.spawn(function() return ws:recv() end)
  test.raises(function() ws:recv() end, "busy")
  test.eq(reader:join(5).data, "late")
  ws:set_timeout(50)
  test.raises(function() ws:recv() end, "ETIMEDOUT")
  ws:set_timeout(nil)
  ws:close()
  t:join(5)
  server:close()
end)

test("a send that times out is still delivered whole, after its string was collected", function()
  -- Each message is larger than what the socket buffers can ever hold while nobody reads.
  local function max_buffer(name)
    local f = io.open("/proc/sys/net/ipv4/" .. name)
    local v = f and tonumber(f:read("l"):match("(%d+)%s*$")) or 32 * 1024 * 1024
    if f then f:close() end
    return v
  end
  local SIZE = math.max(24 * 1024 * 1024, max_buffer("tcp_rmem") + max_buffer("tcp_wmem") + 4 * 1024 * 1024)
  local server = net.ws.listen(0, { max_message = 2 * SIZE })
  local ws = net.ws.connect(url(server), { max_message = 2 * SIZE })
  local c = server:accept()
  local function message(tag) return tag .. string.rep(tag:sub(1, 1), SIZE - #tag) end
  -- The client reads ahead into its bounded queue: this one fills it, and it stops reading.
  c:send(message("zero"), "binary")
  c:set_timeout(100)
  test.raises(function() c:send(message("first"), "binary") end, "ETIMEDOUT") -- being written
  test.raises(function() c:send(message("second"), "binary") end, "ETIMEDOUT") -- still queued
  c:set_timeout(nil)
  -- Nothing references the two strings in Lua any more: collect them, reuse the memory.
  collectgarbage("collect")
  collectgarbage("collect")
  local filler = {} -- luacheck: ignore 241 (garbage for the collector)
  for i = 1, 2 do filler[i] = string.rep(tostring(i), SIZE) end
  ws:set_timeout(10000)
  test.eq(ws:recv().data == message("zero"), true)
  local a, b = ws:recv(), ws:recv()
  test.eq(#a.data, SIZE)
  test.eq(a.data == message("first"), true, "first message intact")
  test.eq(#b.data, SIZE)
  test.eq(b.data == message("second"), true, "second message intact")
  c:send("after")
  test.eq(ws:recv().data, "after")
  filler = nil -- luacheck: ignore 311
  ws:close()
  server:close()
end)

test("several tasks send on one connection: messages never interleave", function()
  local server = echo_server()
  local ws = net.ws.connect(url(server))
  local senders = {}
  for i = 1, 8 do
    senders[i] = task.spawn(function()
      for j = 1, 5 do ws:send(string.rep(string.char(64 + i), 100000 + j), "binary") end
    end)
  end
  local counts = {}
  for _ = 1, 40 do
    local m = ws:recv()
    local ch = m.data:sub(1, 1)
    assert(m.data == string.rep(ch, #m.data), "interleaved message")
    counts[ch] = (counts[ch] or 0) + 1
  end
  for i = 1, 8 do senders[i]:join(5) end
  for i = 1, 8 do test.eq(counts[string.char(64 + i)], 5) end
  ws:close()
  server:close()
end)

test("max_message: a too-big message closes the connection with 1009", function()
  local log = {}
  local server = echo_server({ max_message = 1000 }, log)
  local ws = net.ws.connect(url(server))
  ws:send(string.rep("x", 1000))
  test.eq(#ws:recv().data, 1000)
  ws:send(string.rep("x", 1001))
  local m = ws:recv()
  test.eq(m.type, "close")
  test.eq(m.code, 1009)
  test.eq(ws:recv(), nil)
  -- client side limit too
  local ws2 = net.ws.connect(url(server), { max_message = 10 })
  test.raises(function() ws2:send(string.rep("y", 11)) end, "EMSGSIZE")
  ws2:close()
  server:close()
end)

test("broadcast, clients() and client_count()", function()
  local server = net.ws.listen(0)
  local conns = {}
  local t = task.spawn(function()
    for i = 1, 3 do conns[i] = server:accept() end
  end)
  local ws = {}
  for i = 1, 3 do ws[i] = net.ws.connect(url(server)) end
  t:join(5)
  test.eq(server:client_count(), 3)
  local list = server:clients()
  test.eq(#list, 3)
  test.eq(list[1], conns[1]) -- the same objects accept returned
  test.eq(server:broadcast("news"), 3)
  test.eq(server:broadcast("\1\2", "binary"), 3)
  for i = 1, 3 do
    test.eq(ws[i]:recv(), { type = "text", data = "news" })
    test.eq(ws[i]:recv(), { type = "binary", data = "\1\2" })
  end
  ws[2]:close()
  for _ = 1, 100 do
    if server:client_count() == 2 then break end
    conns[2]:recv() -- sees the close
  end
  test.eq(server:client_count(), 2)
  test.eq(#server:clients(), 2)
  test.eq(server:broadcast("again"), 2)
  server:close()
  for _, i in ipairs({ 1, 3 }) do
    test.eq(ws[i]:recv().data, "again")
    local m = ws[i]:recv()
    test.eq(m.type, "close")
    test.eq(m.code, 1001)
  end
end)

test("broadcast: a client that falls behind is closed with 1008", function()
  local server = net.ws.listen(0, { max_queue = 256 * 1024, close_timeout = 300 })
  local t = task.spawn(function() return server:accept() end)
  -- A raw client that completes the handshake and then never reads.
  local raw = net.tcp.connect("127.0.0.1", server.port)
  raw:write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" ..
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
  test.matches(raw:read_line(), "101")
  local c = t:join(5)
  local chunk = string.rep("z", 64 * 1024)
  local reached = 0
  for i = 1, 2000 do
    local n = server:broadcast(chunk, "binary")
    if n == 0 then break end
    reached = reached + n
    if i % 16 == 0 then task.sleep(0) end
  end
  assert(reached < 2000, "slow client was never dropped")
  -- the connection is closing/closed with 1008
  c:set_timeout(5000)
  local m
  repeat m = c:recv() until m == nil or m.type == "close"
  -- the peer never read our close frame: close_timeout ended it, and the entry says why
  test.eq({ m.code, m.reason, m.clean }, { 1008, "send queue overflow", false })
  -- Everything queued before the overflow, then the close frame (code 1008), then EOF.
  raw:set_timeout(5000)
  local all = raw:read_all()
  test.ok(all:find("\x88\x15\x03\xf0send queue overflow", 1, true), "no 1008 close frame")
  raw:close()
  server:close()
end)

test("bad input gives clear errors", function()
  test.raises(function() net.ws.connect("http//nope") end, "EINVAL")
  test.raises(function() net.ws.connect("ftp://127.0.0.1/") end, "scheme")
  test.raises(function() net.ws.connect(42) end)
  test.raises(function() net.ws.connect("ws://127.0.0.1:1/", { headers = 5 }) end, "headers")
  test.raises(function() net.ws.connect("ws://127.0.0.1:1/", { protocols = { 1 } }) end, "protocols")
  test.raises(function() net.ws.listen(0, { max_message = -1 }) end, "max_message")
  local port = proc.free_port()
  test.raises(function() net.ws.connect("ws://127.0.0.1:" .. port .. "/") end, "ECONNREFUSED")
  local server = echo_server()
  local ws = net.ws.connect(url(server))
  test.raises(function() ws:send("x", "nope") end, "invalid option")
  test.raises(function() ws:close(999) end, "close code")
  ws:close()
  server:close()
end)

test("listen options shared with net.tcp: reuseport, ipv6_only, backlog, a host name", function()
  local a = net.ws.listen("localhost", 0, { reuseport = true, backlog = 16 })
  test.eq(a.host, "127.0.0.1")
  local b = net.ws.listen("127.0.0.1", a.port, { reuseport = true })
  -- both accept: whichever the kernel picks answers
  for _, s in ipairs({ a, b }) do
    proc.serve(s, function(c) c:send("hi"); c:close() end)
  end
  local ws = net.ws.connect(url(a))
  test.eq(ws:recv().data, "hi")
  ws:close()
  b:close()
  a:close()
  local busy = net.ws.listen(0)
  test.raises(function() net.ws.listen("127.0.0.1", busy.port) end, "EADDRINUSE")
  busy:close()
  test.raises(function() net.ws.listen(0, { reuseport = "yes" }) end, "reuseport")
  test.raises(function() net.ws.listen(0, { ipv6_only = 1 }) end, "ipv6_only")
  test.raises(function() net.ws.listen(0, { backlog = -1 }) end, "backlog")
  test.raises(function() net.ws.listen(0, { reuse_port = true }) end, "did you mean 'reuseport'")
  local ok, v6 = pcall(net.ws.listen, "::1", 0, { ipv6_only = true })
  if ok then
    test.matches(v6:local_addr(), "^%[::1%]:%d+$")
    v6:close()
  end
end)

test("IPv6 loopback", function()
  local ok, server = pcall(net.ws.listen, "::1", 0)
  if not ok then test.skip_now("no IPv6 loopback here") end
  local acceptor = task.spawn(function()
    local c = server:accept()
    c:send(c:recv().data)
    c:close()
  end)
  local ws = net.ws.connect("ws://[::1]:" .. server.port .. "/v6")
  ws:send("six")
  test.eq(ws:recv().data, "six")
  test.matches(ws:peer_addr(), "^%[::1%]")
  ws:close()
  acceptor:join(5)
  server:close()
end)

test("compression (permessage-deflate) negotiated and working", function()
  local server = echo_server({ compression = true })
  local ws = net.ws.connect(url(server), { compression = true })
  test.matches(ws.response.headers["sec-websocket-extensions"] or "", "permessage%-deflate")
  local text = string.rep("compress me please ", 5000)
  ws:send(text)
  test.eq(ws:recv().data, text)
  ws:close()
  -- off by default
  local plain = net.ws.connect(url(server))
  test.eq(plain.response.headers["sec-websocket-extensions"], nil)
  plain:close()
  server:close()
end)

test("wss: verified with a CA made at test time; bad certificate refused; verify=false", function()
  local dir = proc.tmpdir()
  local certs = proc.make_certs(dir)
  local server = echo_server({ tls = { cert_file = certs.cert, key_file = certs.key } })
  local wss = "wss://127.0.0.1:" .. server.port .. "/secure"
  local ws = net.ws.connect(wss, { tls = { ca_file = certs.ca } })
  ws:send("secret")
  test.eq(ws:recv().data, "secret")
  ws:close()
  local ws_l = net.ws.connect("wss://localhost:" .. server.port .. "/", { tls = { ca_file = certs.ca } })
  ws_l:close()
  test.raises(function() net.ws.connect(wss) end, "ECERT") -- not in the system store
  local unsafe = net.ws.connect(wss, { tls = { verify = false } })
  unsafe:send("ok")
  test.eq(unsafe:recv().data, "ok")
  unsafe:close()
  -- wrong host name
  test.raises(function()
    net.ws.connect(wss, { tls = { ca_file = certs.ca, server_name = "other.example" } })
  end, "ECERT")
  server:close()
end)

test("200 clients at once", function()
  local server = echo_server()
  local tasks = {}
  local open, peak = 0, 0
  -- A barrier: each client waits, connected, until the 200th one has connected (closing the
  -- channel wakes every waiting receiver), so all 200 are open at the same time by construction.
  local all_open = task.channel()
  for i = 1, 200 do
    tasks[i] = task.spawn(function()
      local ws = net.ws.connect(url(server, "/c" .. i), { timeout = 10000 })
      open = open + 1
      peak = math.max(peak, open)
      if open == 200 then all_open:close() else all_open:recv(20) end
      for j = 1, 3 do
        ws:send(i .. ":" .. j)
        assert(ws:recv().data == i .. ":" .. j)
      end
      ws:close()
      open = open - 1
      return true
    end)
  end
  for i = 1, 200 do test.eq(tasks[i]:join(30), true) end
  test.eq(peak, 200)
  server:close()
end, { timeout = 60 })

test("<close> and garbage collection close connections", function()
  local log = {}
  local server = echo_server(nil, log)
  do
    local ws <close> = net.ws.connect(url(server))
    ws:send("x")
    ws:recv()
  end
  for _ = 1, 100 do
    if #log >= 2 then break end
    task.sleep(0.01)
  end
  test.eq(log[2].type, "close")
  test.eq(log[2].code, 1000)
  server:close()
end)
