-- net.ws broadcast at scale: frames built once and shared, gather writes, interleaving with
-- each client's own sends, compression on/off in one group, slow clients dropped with 1008,
-- read buffers released (conn:stats()).
local test = require("test")
local proc = dofile("tests/support/proc.lua")

test.after_each(function() proc.cleanup() end)

local function url(server) return "ws://127.0.0.1:" .. server.port .. "/" end

-- Sizes around every header form: 7-bit, 16-bit and 64-bit lengths.
local SIZES = { 0, 1, 125, 126, 127, 1000, 65535, 65536, 70000, 5 }
local function payload(tag, i) return tag .. i .. ":" .. string.char(97 + i % 26):rep(SIZES[i % #SIZES + 1]) end

-- Accepts `n` connections; returns them in order.
local function accept_n(server, n)
  local got = {}
  for i = 1, n do got[i] = server:accept(5000) end
  return got
end

-- Connects `n` clients (options `opts`), each reading in a task until `want` messages came;
-- returns the clients and their reader tasks (each task returns the messages it got).
local function readers(server, n, want, opts, progress)
  local clients, tasks = {}, {}
  progress = progress or {}
  for i = 1, n do
    local w = net.ws.connect(url(server), opts and opts(i))
    w:set_timeout(20000)
    clients[i] = w
    tasks[i] = task.spawn(function()
      local got = {}
      while #got < want do
        local m = w:recv()
        if not m or m.type == "close" then break end
        got[#got + 1] = m
        progress[i] = #got
      end
      return got
    end)
  end
  return clients, tasks
end

test("broadcasts interleaved with each client's own sends: every frame whole and in order", function()
  local server = net.ws.listen(0, { max_queue = 64 * 1024 * 1024 })
  local N, B = 12, 40
  local acc = task.spawn(accept_n, server, N)
  local clients, tasks = readers(server, N, 2 * B)
  local conns = acc:join(10)
  -- A timer keeps ticking while all this runs: nothing blocks the loop.
  local ticks = 0
  local ticker = task.spawn(function() while true do task.sleep(0.001); ticks = ticks + 1 end end)
  -- Each server connection sends its own messages from a task of its own, while the main task
  -- broadcasts (big and small, text and binary) without waiting.
  local senders = {}
  for k, c in ipairs(conns) do
    senders[k] = task.spawn(function()
      for i = 1, B do
        c:send(payload("O", i), i % 3 == 0 and "binary" or "text")
        if i % 4 == 0 then task.sleep(0) end
      end
    end)
  end
  for i = 1, B do
    test.eq(server:broadcast(payload("B", i), i % 2 == 0 and "binary" or "text"), N)
    if i % 5 == 0 then task.sleep(0) end
  end
  for _, s in ipairs(senders) do s:join(20) end
  for k, t in ipairs(tasks) do
    local got = t:join(20)
    test.eq(#got, 2 * B, "client " .. k .. " got every message")
    local nb, no = 0, 0
    for _, m in ipairs(got) do
      local tag, i = m.data:match("^(%u)(%d+):")
      i = tonumber(i)
      if tag == "B" then
        nb = nb + 1
        test.eq(i, nb, "broadcasts in order")
        test.eq(m.type, i % 2 == 0 and "binary" or "text")
        test.ok(m.data == payload("B", i), "broadcast " .. i .. " intact")
      else
        no = no + 1
        test.eq(tag, "O")
        test.eq(i, no, "own sends in order")
        test.eq(m.type, i % 3 == 0 and "binary" or "text")
        test.ok(m.data == payload("O", i), "own send " .. i .. " intact")
      end
    end
  end
  ticker:cancel()
  test.ok(ticks > 0, "the timer ticked")
  for _, w in ipairs(clients) do w:close() end
  server:close()
end)

test("a burst of broadcasts to many clients (gather writes) arrives whole and in order", function()
  local server = net.ws.listen(0, { max_queue = 64 * 1024 * 1024 })
  local N, B = 50, 300
  local acc = task.spawn(accept_n, server, N)
  local clients, tasks = readers(server, N, B)
  acc:join(10)
  for i = 1, B do server:broadcast(i % 50 == 0 and ("y"):rep(100000) .. i or "m" .. i) end
  for k, t in ipairs(tasks) do
    local got = t:join(30)
    test.eq(#got, B, "client " .. k)
    for i = 1, B do
      if got[i].data ~= (i % 50 == 0 and ("y"):rep(100000) .. i or "m" .. i) then
        error("client " .. k .. " message " .. i .. " differs", 0)
      end
    end
  end
  for _, w in ipairs(clients) do w:close() end
  server:close()
end)

test("compressed and uncompressed clients in one broadcast", function()
  local server = net.ws.listen(0, { compression = true, max_queue = 64 * 1024 * 1024 })
  local N, B = 6, 30
  local acc = task.spawn(accept_n, server, N)
  -- odd clients negotiate permessage-deflate, even ones do not
  local clients, tasks = readers(server, N, 2 * B, function(i) return { compression = i % 2 == 1 } end)
  local conns = acc:join(10)
  for i = 1, B do
    server:broadcast(payload("B", i))
    for _, c in ipairs(conns) do c:send(payload("O", i)) end
  end
  for k, t in ipairs(tasks) do
    local got = t:join(20)
    test.eq(#got, 2 * B, "client " .. k)
    for i = 1, B do
      test.ok(got[2 * i - 1].data == payload("B", i), "client " .. k .. " broadcast " .. i)
      test.ok(got[2 * i].data == payload("O", i), "client " .. k .. " own " .. i)
    end
  end
  for _, w in ipairs(clients) do w:close() end
  server:close()
end)

test("a client that never reads is dropped with 1008 while the others keep receiving", function()
  local server = net.ws.listen(0, { max_queue = 256 * 1024, close_timeout = 300 })
  local acc = task.spawn(accept_n, server, 1)
  local raw = net.tcp.connect("127.0.0.1", server.port)
  raw:write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" ..
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
  test.matches(raw:read_line(), "101")
  local slow = acc:join(5)[1]
  local acc2 = task.spawn(accept_n, server, 3)
  local B = 400
  local progress = { 0, 0, 0 }
  local clients, tasks = readers(server, 3, B, nil, progress)
  acc2:join(5)
  local chunk = ("z"):rep(32 * 1024)
  local counts = {}
  for i = 1, B do
    counts[i] = server:broadcast(i .. ":" .. chunk, "binary")
    -- the readers keep up (at most 4 messages behind); the raw client never reads
    while math.min(progress[1], progress[2], progress[3]) < i - 4 do task.sleep(0.001) end
  end
  test.eq(counts[1], 4)
  test.eq(counts[B], 3, "the slow client was dropped")
  for k, t in ipairs(tasks) do
    local got = t:join(20)
    test.eq(#got, B, "reader " .. k .. " got everything")
    for i = 1, B do
      if got[i].data ~= i .. ":" .. chunk then error("reader " .. k .. " message " .. i .. " differs", 0) end
    end
  end
  slow:set_timeout(5000)
  local m
  repeat m = slow:recv() until m == nil or m.type == "close"
  test.eq({ m.code, m.reason }, { 1008, "send queue overflow" })
  raw:close()
  for _, w in ipairs(clients) do w:close() end
  server:close()
end)

test("the read buffer is released after a 10 MiB message; stats()", function()
  local server = net.ws.listen(0)
  local acc = task.spawn(accept_n, server, 1)
  local w = net.ws.connect(url(server))
  local c = acc:join(5)[1]
  local st = c:stats()
  test.eq(st.queued, 0)
  test.eq(st.queued_bytes, 0)
  test.ok(st.read_buffer <= 2048, "idle: small read buffer (" .. st.read_buffer .. ")")
  local big = ("q"):rep(10 * 1024 * 1024)
  local sender = task.spawn(function() w:send(big, "binary") end)
  local m = c:recv()
  test.eq(#m.data, #big)
  sender:join(10)
  m = nil
  task.sleep(0.01)
  test.ok(c:stats().read_buffer <= 2048, "after 10 MiB: read buffer back to small (" .. c:stats().read_buffer .. ")")
  -- and it still works
  w:send("after")
  test.eq(c:recv().data, "after")
  test.ok(c:stats().read_buffer <= 2048)
  w:close()
  c:close()
  test.eq(c:stats().queued, 0, "stats of a closed connection")
  test.raises(function() c.stats(42) end)
  test.raises(function() c.stats() end)
  server:close()
end)

test("a pinged idle connection answers (no read pending while idle) and sees the peer's close", function()
  local server = net.ws.listen(0)
  local acc = task.spawn(accept_n, server, 1)
  local w = net.ws.connect(url(server))
  w:set_timeout(5000)
  local c = acc:join(5)[1]
  c:set_timeout(5000)
  -- the server side is idle (nobody calls recv): Beast still answers pings once input comes
  for i = 1, 3 do
    w:ping("p" .. i)
    local m
    repeat m = w:recv() until m.type == "pong"
    test.eq(m.data, "p" .. i)
  end
  test.eq(c:recv().type, "ping")
  w:send("x")
  w:close(4001, "bye")
  local got = {}
  repeat local m = c:recv(); got[#got + 1] = m.type .. (m.code and (":" .. m.code) or "") until m.type == "close"
  test.eq(got[#got], "close:4001")
  server:close()
end)
