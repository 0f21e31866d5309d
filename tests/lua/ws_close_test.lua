-- net.ws closing paths with moonwire on both ends: the lingering close after our close frame,
-- and the `closed` error on closed connections. Raw-frame peers: ws_frames_test.lua; real
-- peers (python3-websockets, Node ws, a peer that resets): tests/interop/ws_close_interop_test.lua.
local test = require("test")
local proc = dofile("tests/support/proc.lua")

local function url(server, path) return "ws://127.0.0.1:" .. server.port .. (path or "/") end

local reading_server = dofile("tests/support/ws.lua").reading_server

local function wait_for(n, list)
  for _ = 1, 200 do
    if #list >= n then return end
    task.sleep(0.01)
  end
end

-- Asserts that `fn` raises the `closed` error object with a message naming `what`.
local function raises_closed(fn, what)
  local ok, err = pcall(fn)
  test.eq(ok, false, what .. " should fail")
  test.eq(type(err), "table", what .. ": an error object")
  test.eq(err.code, "closed", what .. ": " .. tostring(err))
  test.matches(err.message, what .. ": WebSocket is closed")
end

test.after_each(function() proc.cleanup() end)

-- The server stops reading at the header of a message over max_message and sends 1009 while
-- the client is still writing the rest; a server that closed its socket at once would reset
-- the connection (1006 at the client, or a failed send).
test("a message over max_message gets 1009 while the client is still sending (lingering close)", function()
  local server, closes = reading_server({ max_message = 1024 })
  local sizes = { 1536, 4096, 100 * 1024, 1024 * 1024 }
  for _, n in ipairs(sizes) do
    local ws = net.ws.connect(url(server))
    ws:set_timeout(10000)
    local ok, err = pcall(ws.send, ws, string.rep("x", n), "binary")
    if not ok then test.eq(err.code, "closed", n .. " bytes: " .. tostring(err)) end
    local m = ws:recv()
    test.eq({ m.type, m.code }, { "close", 1009 }, n .. " bytes: " .. tostring(m.reason))
    test.eq(ws:recv(), nil)
  end
  wait_for(#sizes, closes)
  for i = 1, #sizes do test.eq({ closes[i].code, closes[i].clean }, { 1009, false }) end
  server:close()
end)

test("send, ping and pong after our close raise `closed`; recv gives the close entry, then nil", function()
  local server = reading_server()
  local ws = net.ws.connect(url(server))
  test.eq(ws:close(), true)
  raises_closed(function() ws:send("x") end, "send")
  raises_closed(function() ws:send("x", "binary") end, "send")
  raises_closed(function() ws:ping() end, "ping")
  raises_closed(function() ws:pong("p") end, "pong")
  test.eq(ws:recv().type, "close")
  test.eq(ws:recv(), nil)
  test.eq(ws:is_open(), false)
  server:close()
end)

test("send, ping and pong after the peer's close raise `closed`", function()
  local server = net.ws.listen(0)
  proc.serve(server, function(c) c:close(4000, "go") end)
  local ws = net.ws.connect(url(server))
  ws:set_timeout(5000)
  local m = ws:recv()
  test.eq({ m.type, m.code, m.reason, m.clean }, { "close", 4000, "go", true })
  test.eq(ws:is_open(), false)
  raises_closed(function() ws:send("x") end, "send")
  raises_closed(function() ws:ping("x") end, "ping")
  raises_closed(function() ws:pong() end, "pong")
  test.eq(ws:recv(), nil)
  server:close()
end)

-- A send in flight and one queued behind it when close() gives up (close_timeout): both raise
-- `closed` (the one in flight used to say "Operation canceled").
test("sends pending when the connection closes raise `closed`", function()
  local server = net.ws.listen(0, { close_timeout = 300 })
  local accepted = task.spawn(function() return server:accept() end)
  local ws = net.ws.connect(url(server), { close_timeout = 300 })
  local sc = accepted:join(5)  -- its script never reads: after 256 messages the server stops reading
  for i = 1, 300 do ws:send("fill " .. i) end
  local big = task.spawn(function() return pcall(ws.send, ws, string.rep("b", 32 * 1024 * 1024), "binary") end)
  local queued = task.spawn(function() return pcall(ws.send, ws, "queued") end)
  test.eq({ big.status, queued.status }, { "suspended", "suspended" }, "both sends wait")
  test.eq(ws:close(), true)  -- its close frame waits behind them; close_timeout ends it
  for name, t in pairs({ big = big, queued = queued }) do
    local ok, err = t:join(5)
    test.eq(ok, false, name)
    test.eq(err.code, "closed", name .. ": " .. tostring(err))
    test.matches(err.message, "send: WebSocket is closed", name)
  end
  local m = ws:recv()
  test.eq({ m.type, m.code, m.clean }, { "close", 1006, false })
  test.matches(m.reason, "close timed out")
  sc:close()
  server:close()
end, { timeout = 30 })
