-- Xoron's `websocket` global (seed 003): its documented examples against moonwire's own
-- WebSocket server on 127.0.0.1, states, the message queue, list/disconnect_all, certificate
-- verification (which Xoron skips), lifecycle and bad input.
local test = require("test")
local proc = dofile("tests/support/proc.lua")

test.after_each(function()
  websocket.disconnect_all()
  proc.cleanup()
end)

local function wait_for(cond, what)
  for _ = 1, 500 do
    if cond() then return end
    task.sleep(0.01)
  end
  error("timed out waiting for " .. what, 2)
end

local function echo_server(opts)
  local server = net.ws.listen("127.0.0.1", 0, opts)
  proc.serve(server, function(ws)
    while true do
      local ok, m = pcall(ws.recv, ws)
      if not ok or not m or m.type == "close" then break end
      if m.data == "bye" then ws:close(4000, "server says bye") else ws:send(m.data) end
    end
  end)
  return server, "ws://127.0.0.1:" .. server.port .. "/"
end

test("the global and require('websocket') are one table", function()
  test.eq(require("websocket"), websocket)
  test.eq(type(websocket.connect), "function")
end)

test("Basic Echo Client example", function()
  local server, url = echo_server()
  local log = {}
  local ws
  ws = websocket.connect(url, {
    on_open = function()
      log[#log + 1] = "Connected!"
      websocket.send(ws, "Hello, Echo!")
    end,
    on_message = function(data)
      log[#log + 1] = "Echo: " .. data
      websocket.close(ws)
    end,
    on_close = function(code, reason) log[#log + 1] = "Closed: " .. code end,
  })
  test.eq(websocket.get_state(ws), "connecting")
  test.eq(websocket.is_connected(ws), false)
  test.eq(websocket.get_url(ws), url)
  wait_for(function() return #log == 3 end, "the echo")
  test.eq(log, { "Connected!", "Echo: Hello, Echo!", "Closed: 1000" })
  test.eq(websocket.get_state(ws), "disconnected")
  test.eq(websocket.send(ws, "late"), false)
  test.eq(websocket.close(ws), false) -- already closed
  server:close()
end)

test("without on_message, get_messages drains the queue; states; server close code", function()
  local server, url = echo_server()
  local closed
  local id = websocket.connect(url, { on_close = function(code, reason) closed = { code, reason } end })
  wait_for(function() return websocket.is_connected(id) end, "connected")
  test.eq(websocket.get_state(id), "connected")
  test.eq(websocket.get_messages(id), {})
  test.eq(websocket.send(id, "a"), true)
  test.eq(websocket.send(id, "b"), true)
  local got = {}
  wait_for(function()
    for _, m in ipairs(websocket.get_messages(id)) do got[#got + 1] = m end
    return #got == 2
  end, "two messages")
  test.eq(got, { "a", "b" })
  test.eq(websocket.get_messages(id), {}) -- drained
  test.eq(websocket.list(), { { id = id, url = url, state = "connected" } })
  websocket.send(id, "bye")
  wait_for(function() return closed end, "on_close")
  test.eq(closed, { 4000, "server says bye" })
  test.eq(websocket.get_state(id), "disconnected")
  test.eq(websocket.list(), {})
  server:close()
end)

test("Multiple Connections example and disconnect_all", function()
  local server, url = echo_server()
  local ids, opened, closes = {}, 0, 0
  for i = 1, 3 do
    ids[i] = websocket.connect(url .. "s" .. i, {
      on_open = function() opened = opened + 1 end,
      on_close = function() closes = closes + 1 end,
    })
  end
  wait_for(function() return opened == 3 end, "three open")
  local l = websocket.list()
  test.eq(#l, 3)
  for i, e in ipairs(l) do
    test.eq(e.id, ids[i])
    test.eq(e.url, url .. "s" .. i)
    test.eq(e.state, "connected")
  end
  websocket.disconnect_all()
  wait_for(function() return closes == 3 end, "three closed")
  test.eq(websocket.list(), {})
  server:close()
end)

test("connection refused: state error, on_error with the reason", function()
  local port = proc.free_port()
  local err
  local id = websocket.connect("ws://127.0.0.1:" .. port .. "/", { on_error = function(e) err = e end })
  wait_for(function() return err end, "on_error")
  test.matches(err, "refused")
  test.eq(websocket.get_state(id), "error")
  test.eq(websocket.list(), {})
end)

test("wss:// verifies certificates (Xoron does not)", function()
  local dir = proc.tmpdir()
  local certs = proc.make_certs(dir)
  local server = echo_server({ tls = { cert_file = certs.cert, key_file = certs.key } })
  local err
  websocket.connect("wss://127.0.0.1:" .. server.port .. "/", { on_error = function(e) err = e end,
    on_open = function() err = "opened!" end })
  wait_for(function() return err end, "on_error")
  test.matches(err, "certificate")
  server:close()
end)

test("close while connecting: no on_open, state disconnected", function()
  local server, url = echo_server()
  local opened = false
  local id = websocket.connect(url, { on_open = function() opened = true end })
  test.eq(websocket.close(id), true)
  test.eq(websocket.get_state(id), "closing")
  test.eq(websocket.send(id, "x"), false) -- not connected
  wait_for(function() return websocket.get_state(id) == "disconnected" end, "disconnected")
  test.eq(opened, false)
  server:close()
end)

test("headers given with the callbacks reach the server", function()
  local server = net.ws.listen("127.0.0.1", 0)
  local seen = task.spawn(function()
    local ws = server:accept(5000)
    return ws.headers["authorization"]
  end)
  websocket.connect("ws://127.0.0.1:" .. server.port .. "/", { headers = { Authorization = "Bearer token123" } })
  test.eq(seen:join(5), "Bearer token123")
  server:close()
end)

test("bad input", function()
  test.raises(function() websocket.connect(nil) end, "string expected")
  test.raises(function() websocket.connect("http://x/") end, "ws:// or wss://")
  test.raises(function() websocket.connect("ws://x/", { on_mesage = print }) end, "did you mean 'on_message'")
  test.raises(function() websocket.connect("ws://x/", 5) end, "table of callbacks expected")
  test.raises(function() websocket.send("1", "x") end, "connection id")
  test.raises(function() websocket.send(1, {}) end, "string expected")
  test.raises(function() websocket.get_state(1.5) end, "connection id")
  test.eq(websocket.get_state(424242), "disconnected")
  test.eq(websocket.get_url(424242), nil)
  test.eq(websocket.get_messages(424242), {})
  test.eq(websocket.close(424242), false)
  test.eq(websocket.is_connected(424242), false)
end)

local HAVE_PY = proc.run("/usr/bin/python3 -c 'import websockets' 2>/dev/null")
proc.peer_test(test, HAVE_PY, "python3-websockets")("against python3-websockets: fragments, server pings, close code", function()
  local port = proc.free_port()
  proc.start("/usr/bin/python3 tests/interop/peers/ws_server.py " .. port)
  proc.wait_port(port, 10)
  local got, closed = {}, nil
  local id
  id = websocket.connect("ws://127.0.0.1:" .. port .. "/", {
    on_open = function()
      websocket.send(id, "fragments")
      websocket.send(id, "ping-me")
      websocket.send(id, "close-me")
    end,
    on_message = function(data) got[#got + 1] = data end,
    on_close = function(code, reason) closed = { code, reason } end,
  })
  wait_for(function() return closed end, "on_close")
  test.eq(got, { "abcdef", "pinged" }) -- the server's ping reached no callback
  test.eq(closed, { 4002, "asked" })
end)
