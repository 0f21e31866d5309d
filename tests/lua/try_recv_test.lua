-- The non-waiting receives poll-style code uses: ch:try_recv() (task channels) and
-- ws:try_recv() (net.ws connections).
local test = require("test")

test("ch:try_recv: values in order, then nil, false; closed and empty", function()
  local ch = task.channel(3)
  test.eq({ ch:try_recv() }, { nil, false })
  ch:send(1)
  ch:send(nil)
  ch:send("three")
  test.eq({ ch:try_recv() }, { 1, true })
  test.eq({ ch:try_recv() }, { nil, true }) -- a queued nil is a value
  test.eq({ ch:try_recv() }, { "three", true })
  test.eq({ ch:try_recv() }, { nil, false })
  ch:send(4)
  ch:close()
  test.eq({ ch:try_recv() }, { 4, true }) -- queued values survive close
  test.eq({ ch:try_recv() }, { nil, false })
  test.eq(ch:is_closed(), true)
end)

test("ch:try_recv takes a blocked sender's value and resumes it", function()
  local ch = task.channel(0)
  local sent = false
  task.spawn(function() ch:send("v") sent = true end)
  test.eq(sent, false)
  test.eq({ ch:try_recv() }, { "v", true })
  task.sleep(0)
  test.eq(sent, true)
  -- with a full buffer: the blocked sender's value moves into the queue
  local b = task.channel(1)
  b:send("a")
  task.spawn(function() b:send("b") end)
  test.eq({ b:try_recv() }, { "a", true })
  test.eq(#b, 1)
  test.eq({ b:try_recv() }, { "b", true })
end)

test("ch:try_recv: bad self", function()
  local ch = task.channel()
  test.raises(function() ch.try_recv({}) end, "channel")
  test.raises(function() ch.try_recv() end, "channel")
end)

test("ws:try_recv: empty, messages, the close entry, then closed", function()
  local server = net.ws.listen("127.0.0.1", 0)
  local accepted = task.spawn(function() return server:accept(5000) end)
  local ws = net.ws.connect("ws://127.0.0.1:" .. server.port .. "/")
  local peer = accepted:join(5)
  test.eq({ ws:try_recv() }, { nil, "empty" })
  peer:send("one")
  peer:send("\0two", "binary")
  local got = {}
  for _ = 1, 500 do
    local m = ws:try_recv()
    if m then got[#got + 1] = m end
    if #got == 2 then break end
    task.sleep(0.01)
  end
  test.eq(got, { { type = "text", data = "one" }, { type = "binary", data = "\0two" } })
  task.spawn(function() peer:close(4000, "done") end)
  local close
  for _ = 1, 500 do
    close = ws:try_recv()
    if close then break end
    task.sleep(0.01)
  end
  test.eq({ close.type, close.code, close.reason }, { "close", 4000, "done" })
  test.eq({ ws:try_recv() }, { nil, "closed" })
  test.eq({ ws:try_recv() }, { nil, "closed" })
  server:close()
end)

test("ws:try_recv while another task waits in recv raises busy", function()
  local server = net.ws.listen("127.0.0.1", 0)
  local accepted = task.spawn(function() return server:accept(5000) end)
  local ws = net.ws.connect("ws://127.0.0.1:" .. server.port .. "/")
  local peer = accepted:join(5)
  local reader = task.spawn(function() return ws:recv() end)
  test.raises(function() ws:try_recv() end, "busy")
  peer:send("for the reader")
  test.eq(reader:join(5), { type = "text", data = "for the reader" })
  test.raises(function() ws.try_recv({}) end, "ws")
  ws:close()
  server:close()
end)
