-- net.ws against real peers, both directions: python3-websockets (Debian package, run with
-- /usr/bin/python3) and Node `ws` (pinned in tests/interop/package-lock.json).
local test = require("test")
local proc = dofile("tests/support/proc.lua")

local here = "tests/interop/peers/"
local PEERS = {
  python = { server = "/usr/bin/python3 " .. here .. "ws_server.py", client = "/usr/bin/python3 " .. here .. "ws_client.py",
    available = proc.run("/usr/bin/python3 -c 'import websockets' 2>/dev/null") },
  node = { server = "/usr/bin/node " .. here .. "ws_server.js", client = "/usr/bin/node " .. here .. "ws_client.js",
    available = proc.run("test -d tests/interop/node_modules/ws") },
}

test.after_each(function() proc.cleanup() end)

local function start_peer_server(peer, extra)
  local port = proc.free_port()
  local h = proc.start(peer.server .. " " .. port .. " " .. (extra or ""))
  proc.wait_port(port, 10)
  return port, h
end

-- Waits (bounded) for a peer client to exit; returns its output.
local function wait_exit(h, seconds)
  local deadline = time.monotonic() + seconds
  while h:alive() and time.monotonic() < deadline do task.sleep(0.05) end
  return h:output()
end

-- moonwire echo server with the peers' commands (see peers/ws_client.*).
local function moonwire_server(opts)
  local server = net.ws.listen(0, opts)
  proc.serve(server, function(c)
    while true do
      local m = c:recv()
      if not m or m.type == "close" then return end
      if m.data == "ping-me" then
        c:ping("srv")
        repeat m = c:recv() until not m or m.type == "pong"
        if not m then return end
        c:send("pinged")
      elseif m.data == "close-me" then
        c:close(4002, "asked")
        return
      elseif m.type == "text" or m.type == "binary" then
        c:send(m.data, m.type)
      end
    end
  end)
  return server
end

for _, name in ipairs({ "python", "node" }) do
  local peer = PEERS[name]
  local t = proc.peer_test(test, peer.available, name .. " WebSocket peer")

  t(name .. " server: messages, fragments, ping/pong, close paths", function()
    local port = start_peer_server(peer)
    local ws = net.ws.connect("ws://127.0.0.1:" .. port .. "/echo?q=1", { timeout = 5000 })
    ws:set_timeout(10000)
    for _, m in ipairs({ { "hello", "text" }, { "", "text" }, { "\0\1\255", "binary" }, { "", "binary" } }) do
      ws:send(m[1], m[2])
      test.eq(ws:recv(), { type = m[2], data = m[1] })
    end
    local big = string.rep("moonwire", 10 * 131072) -- 10 MiB
    ws:send(big, "binary")
    local r = ws:recv()
    test.eq(r.type, "binary")
    assert(r.data == big, "10 MiB echo differs")
    ws:send("fragments")
    test.eq(ws:recv(), { type = "text", data = "abcdef" })
    ws:ping("x")
    test.eq(ws:recv(), { type = "pong", data = "x" })
    ws:send("ping-me") -- the peer pings us; the runtime answers; recv shows the ping
    test.eq(ws:recv(), { type = "ping", data = "srv" })
    test.eq(ws:recv(), { type = "text", data = "pinged" })
    test.eq(ws:close(4000, "bye"), true)

    local ws2 = net.ws.connect("ws://127.0.0.1:" .. port .. "/")
    ws2:set_timeout(10000)
    ws2:send("close-me")
    local c = ws2:recv()
    test.eq({ c.type, c.code, c.reason }, { "close", 4002, "asked" })
    test.eq(ws2:recv(), nil)
  end)

  t(name .. " server: headers, subprotocols, compression", function()
    local port = start_peer_server(peer, "--compression --protocols chat.v2,chat.v1")
    local ws = net.ws.connect("ws://127.0.0.1:" .. port .. "/", {
      headers = { ["X-Test"] = "hdr" }, protocols = { "x.v0", "chat.v2" }, compression = true })
    ws:set_timeout(10000)
    test.eq(ws.protocol, "chat.v2")
    test.matches(ws.response.headers["sec-websocket-extensions"], "permessage%-deflate")
    ws:send("headers")
    test.eq(ws:recv().data, "hdr|chat.v2")
    local text = string.rep("squeeze ", 100000)
    ws:send(text)
    test.eq(ws:recv().data, text)
    ws:close()
    -- compression off on our side: not negotiated, still works
    local plain = net.ws.connect("ws://127.0.0.1:" .. port .. "/", { protocols = { "chat.v1" } })
    test.eq(plain.protocol, "chat.v1")
    test.eq(plain.response.headers["sec-websocket-extensions"], nil)
    plain:send("abc")
    test.eq(plain:recv().data, "abc")
    plain:close()
  end)

  t(name .. " server over TLS: CA verified, bad certificate refused, verify=false", function()
    local certs = proc.make_certs(proc.tmpdir())
    local port = start_peer_server(peer, "--tls " .. certs.cert .. " " .. certs.key)
    local url = "wss://127.0.0.1:" .. port .. "/"
    local ws = net.ws.connect(url, { tls = { ca_file = certs.ca }, timeout = 5000 })
    ws:send("secure")
    test.eq(ws:recv().data, "secure")
    ws:close()
    test.raises(function() net.ws.connect(url, { timeout = 5000 }) end, "ECERT")
    local unsafe = net.ws.connect("wss://localhost:" .. port .. "/", { tls = { verify = false } })
    unsafe:send("anyway")
    test.eq(unsafe:recv().data, "anyway")
    unsafe:close()
  end)

  t(name .. " client against moonwire server", function()
    local server = moonwire_server()
    local h = proc.start(peer.client .. " ws://127.0.0.1:" .. server.port .. "/echo")
    local out = wait_exit(h, 40)
    server:close()
    test.matches(out, "ALL OK", out)
  end, { timeout = 60 })

  t(name .. " client against moonwire server: compression, subprotocol", function()
    local server = moonwire_server({ compression = true, protocols = { "b", "a" } })
    local h = proc.start(peer.client .. " ws://127.0.0.1:" .. server.port .. "/ --compression --protocols a,b --expect-protocol b")
    local out = wait_exit(h, 40)
    server:close()
    test.matches(out, "ALL OK", out)
  end, { timeout = 60 })

  t(name .. " client against moonwire wss server", function()
    local certs = proc.make_certs(proc.tmpdir())
    local server = moonwire_server({ tls = { cert_file = certs.cert, key_file = certs.key } })
    local h = proc.start(peer.client .. " wss://localhost:" .. server.port .. "/ --ca " .. certs.ca)
    local out = wait_exit(h, 40)
    server:close()
    test.matches(out, "ALL OK", out)
  end, { timeout = 60 })
end

-- A peer that completes the handshake, then never answers (tests/interop/peers/ws_silent_server.py).
local silent = proc.peer_test(test, PEERS.python.available, "python3-websockets")

silent("ping_interval drops a peer that stops answering", function()
  local port = proc.free_port()
  proc.start("/usr/bin/python3 " .. here .. "ws_silent_server.py " .. port)
  proc.wait_port(port, 10)
  local ws = net.ws.connect("ws://127.0.0.1:" .. port .. "/", { ping_interval = 100 })
  ws:set_timeout(5000)
  local m = ws:recv()
  test.eq(m.type, "close")
  test.eq(m.code, 1006)
  test.eq(m.clean, false)
  test.matches(m.reason, "keepalive")
  test.eq(ws:recv(), nil)
  test.raises(function() ws:send("x") end, "closed")
end)

silent("close() is bounded by close_timeout when the peer never answers", function()
  local port = proc.free_port()
  proc.start("/usr/bin/python3 " .. here .. "ws_silent_server.py " .. port)
  proc.wait_port(port, 10)
  local ws = net.ws.connect("ws://127.0.0.1:" .. port .. "/", { close_timeout = 200 })
  test.eq(ws:close(), true)
  local m = ws:recv()
  test.eq(m.type, "close")
  test.eq(m.code, 1006)
  test.eq(m.clean, false)
end)
