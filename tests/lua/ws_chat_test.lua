-- Smoke tests for scripts/chat.lua, and SIGINT closing WebSocket clients with 1001.
local test = require("test")
local cli = dofile("tests/cli/fixtures/cli.lua")

test.after_each(cli.cleanup)

test("scripts/chat.lua demo runs server and clients, then exits", function()
  local r = cli.run({ "scripts/chat.lua" }, { timeout = 30 })
  test.eq(r.code, 0, r.err)
  test.matches(r.out, "chat server on ws://127%.0%.0%.1:%d+/chat")
  for _, name in ipairs({ "ada", "bob", "cy" }) do
    test.matches(r.out, "%[" .. name .. "%] heard 3 greetings")
  end
  test.matches(r.out, "chat demo done\n$")
  test.eq(r.err, "")
end, { timeout = 40 })

test("chat server: SIGINT closes connected clients with 1001", function()
  local port = cli.proc.free_port()
  local h = cli.start({ "scripts/chat.lua", "server", tostring(port) })
  cli.proc.wait_port(port, 10)
  local ws = net.ws.connect("ws://127.0.0.1:" .. port .. "/", { timeout = 5000 })
  ws:set_timeout(10000)
  ws:send("/nick tester")
  ws:send("hi all")
  local m
  repeat m = ws:recv() until m.data == "tester: hi all"
  h:signal("INT")
  repeat m = ws:recv() until m == nil or m.type == "close"
  test.eq(m and m.code, 1001)
  test.eq(h:wait(10), "exit 130")
end, { timeout = 30 })

-- The handshake deadline timer (one per server) must not keep a closed server's process alive:
-- with an hour's handshake_timeout a SIGTERM'd server would otherwise wait out the hour.
test("SIGTERM after a handshake ends the server at once (its handshake timer is released)", function()
  local dir = cli.proc.tmpdir()
  cli.proc.write_file(dir .. "/s.lua", [[
    local server = net.ws.listen(0, { handshake_timeout = 3600 * 1000 }) -- (milliseconds)
    print(server.port)
    io.stdout:flush()
    while true do
      local c = server:accept()
      task.spawn(function()
        c:send("hello")
        while c:recv() do end
      end)
    end
  ]])
  local h = cli.start({ dir .. "/s.lua" })
  assert(cli.wait_for(function() return h:out():match("^%d+\n") end, 10), h:err())
  local ws = net.ws.connect("ws://127.0.0.1:" .. h:out():match("^(%d+)") .. "/")
  test.eq(ws:recv().data, "hello")
  ws:close()
  h:signal("TERM")
  test.eq(h:wait(20), "exit 143", h:err())
end, { timeout = 40 })

test("a script that ends without closing its WebSocket still exits (the peer sees 1001)", function()
  local server = net.ws.listen(0)
  local seen = task.spawn(function()
    local c = server:accept()
    c:set_timeout(10000)
    c:send(c:recv().data)
    local m
    repeat m = c:recv() until m == nil or m.type == "close"
    return m and m.code
  end)
  local dir = cli.proc.tmpdir()
  cli.proc.write_file(dir .. "/s.lua", ([[
    local ws = net.ws.connect("ws://127.0.0.1:%d/")
    ws:send("bye")
    print(ws:recv().data)
  ]]):format(server.port))
  local h = cli.start({ dir .. "/s.lua" }) -- in the background: this process runs the server
  test.eq(h:wait(10), "exit 0", h:err())
  test.eq(h:out(), "bye\n")
  test.eq(seen:join(10), 1001)
  server:close()
end, { timeout = 30 })
