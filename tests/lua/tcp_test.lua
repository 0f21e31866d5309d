local test = require("test")
local proc = dofile("tests/support/proc.lua")

-- A server on an ephemeral port whose connections are handled by `handler(conn)` in tasks.
local function serve(handler, opts)
  local server = net.tcp.listen("127.0.0.1", 0, opts)
  return server, proc.serve(server, handler)
end

local function connect(server, opts) return net.tcp.connect("127.0.0.1", server.port, opts) end

test("listen defaults to 127.0.0.1 and reports its address", function()
  local s = net.tcp.listen(0)
  assert(s:local_addr():match("^127%.0%.0%.1:%d+$"), s:local_addr())
  assert(s.port > 0)
  test.eq(s.host, "127.0.0.1")
  assert(tostring(s):find("tcp.server"))
  s:close()
  s:close() -- idempotent
  test.raises(function() s:accept() end, "closed")
end)

test("echo with read/write and addresses", function()
  local server = serve(function(c)
    while true do
      local d = c:read()
      if not d then break end
      c:write(d)
    end
    c:close()
  end)
  local c = connect(server)
  test.eq(c:write("hello"), 5)
  test.eq(c:read(), "hello")
  assert(c:peer_addr() == "127.0.0.1:" .. server.port)
  assert(c:local_addr():match("^127%.0%.0%.1:%d+$"))
  test.eq(c:is_tls(), false)
  c:close()
  test.raises(function() c:read() end, "closed")
  test.raises(function() c:write("x") end, "closed")
  server:close()
end)

test("read(n) returns at most n bytes; read_exactly waits for n", function()
  local server = serve(function(c) c:write("0123456789"); task.sleep(0.02); c:write("abc"); c:close() end)
  local c = connect(server)
  test.eq(c:read_exactly(4), "0123")
  test.eq(c:read(3), "456")
  test.eq(c:read_exactly(6), "789abc")
  test.eq(c:read(), nil) -- EOF is not an error
  test.eq(c:read_all(), "")
  c:close()
  server:close()
end)

test("read_exactly at EOF before n bytes is an error", function()
  local server = serve(function(c) c:write("abc"); c:close() end)
  local c = connect(server)
  local ok, err = pcall(c.read_exactly, c, 10)
  assert(not ok)
  test.eq(err.code, "EOF")
  server:close()
end)

test("read_line strips CRLF, keeps buffered bytes, returns the last unterminated line", function()
  local server = serve(function(c)
    c:write("one\r\ntwo\nthree\nrest-without-newline")
    c:close()
  end)
  local c = connect(server)
  test.eq(c:read_line(), "one")
  test.eq(c:read_line(), "two")
  test.eq(c:read(3), "thr") -- mixing read and read_line loses nothing
  test.eq(c:read_line(), "ee")
  test.eq(c:read_line(), "rest-without-newline")
  test.eq(c:read_line(), nil)
  c:close()
  server:close()
end)

test("read_line across many small writes and a line limit", function()
  local server = serve(function(c)
    for ch in ("split across writes\n"):gmatch(".") do c:write(ch); task.yield() end
    c:write(string.rep("x", 100) .. "\n")
    c:close()
  end)
  local c = connect(server)
  test.eq(c:read_line(), "split across writes")
  local ok, err = pcall(c.read_line, c, 50)
  assert(not ok)
  test.eq(err.code, "ELINE")
  c:close()
  server:close()
end)

test("read_all reads until the peer closes; binary safe", function()
  local blob = {}
  for i = 0, 255 do blob[#blob + 1] = string.char(i) end
  blob = table.concat(blob):rep(4000) -- ~1 MiB
  local server = serve(function(c) c:write_all(blob); c:close() end)
  local c = connect(server)
  local all = c:read_all()
  test.eq(#all, #blob)
  assert(all == blob)
  c:close()
  server:close()
end)

test("half-close: shutdown('write') lets the peer read to EOF and still reply", function()
  local server = serve(function(c)
    local req = c:read_all()
    c:write("got " .. #req)
    c:close()
  end)
  local c = connect(server)
  c:write("request body")
  c:shutdown("write")
  test.eq(c:read_all(), "got 12")
  c:close()
  server:close()
end)

test("peer reset surfaces as ECONNRESET", function()
  local server = serve(function(c)
    task.sleep(0.05) -- let the client's data arrive unread, then close: the kernel sends RST
    c:close()
  end)
  local c = connect(server)
  c:write("unread data")
  local ok, err = pcall(function()
    for _ = 1, 100 do
      if c:read() == nil then return "eof" end
    end
  end)
  if ok then error("expected a reset, got " .. tostring(err)) end
  test.eq(err.code, "ECONNRESET")
  server:close()
end)

test("a second concurrent reader gets a busy error", function()
  local server = serve(function(c) task.sleep(0.1); c:write("x"); c:close() end)
  local c = connect(server)
  local first = task.spawn(function() return c:read() end)
  local ok, err = pcall(c.read, c)
  assert(not ok)
  test.eq(err.code, "busy")
  test.eq(first:join(), "x")
  c:close()
  server:close()
end)

test("concurrent writers never interleave", function()
  local chunk = 200000
  local server = serve(function(c)
    local data = c:read_all()
    c:write(tostring(#data) .. "\n")
    local ok = true
    for i = 1, #data, chunk do
      local piece = data:sub(i, i + chunk - 1)
      if piece ~= piece:sub(1, 1):rep(#piece) then ok = false end
    end
    c:write(ok and "whole\n" or "interleaved\n")
    c:close()
  end)
  local c = connect(server)
  local writers = {}
  for w = 1, 5 do
    writers[w] = task.spawn(function() c:write(string.char(64 + w):rep(chunk)) end)
  end
  for w = 1, 5 do writers[w]:join() end
  c:flush()
  c:shutdown("write")
  test.eq(c:read_line(), tostring(5 * chunk))
  test.eq(c:read_line(), "whole")
  c:close()
  server:close()
end)

test("a slow reader applies backpressure without blocking others", function()
  local big = string.rep("z", 8 * 1024 * 1024)
  local slow_done = task.channel(1)
  local server = serve(function(c)
    local kind = c:read_line()
    if kind == "slow" then
      task.sleep(0.2) -- not reading: the writer must wait
      local n = #c:read_all()
      slow_done:send(n)
    else
      c:write("pong\n")
      c:close()
    end
  end)
  local slow = connect(server)
  slow:write("slow\n")
  local writer = task.spawn(function() slow:write(big); slow:close() end)
  -- meanwhile another client is served at once
  local fast = connect(server)
  fast:write("fast\n")
  test.eq(fast:read_line(), "pong")
  test.eq(writer.status, "suspended") -- still blocked on the slow reader
  writer:join()
  test.eq(slow_done:recv(10), #big)
  server:close()
end)

test("a silent client times out; others are still served", function()
  local timeouts = task.channel(5)
  local server = serve(function(c)
    c:set_timeout(100)
    local ok, line = pcall(c.read_line, c)
    if ok then c:write("echo " .. tostring(line) .. "\n") else timeouts:send(line.code) end
    c:close()
  end)
  local silent = connect(server)
  local talker = connect(server)
  talker:write("hi\n")
  test.eq(talker:read_line(), "echo hi")
  test.eq(timeouts:recv(5), "ETIMEDOUT")
  silent:close()
  talker:close()
  server:close()
end)

test("set_timeout applies to reads and can be removed", function()
  local server = serve(function(c) task.sleep(0.15); c:write("late"); c:close() end)
  local c = connect(server)
  c:set_timeout(30)
  local ok, err = pcall(c.read, c)
  assert(not ok and err.code == "ETIMEDOUT", tostring(err))
  c:set_timeout(nil)
  test.eq(c:read(), "late") -- nothing was lost by the timeout
  c:close()
  server:close()
end)

test("close from another task wakes a blocked reader with 'closed'", function()
  local server = serve(function(c) task.sleep(1); c:close() end)
  local c = connect(server)
  local reader = task.spawn(function() return pcall(c.read, c) end)
  task.sleep(0.02)
  c:close()
  local ok, err = reader:join()
  assert(not ok)
  test.eq(err.code, "closed")
  server:close()
end)

test("cancelling a task blocked in read leaves the connection usable", function()
  local go = task.channel(1)
  local server = serve(function(c) go:recv(); c:write("data"); c:close() end)
  local c = connect(server)
  local reader = task.spawn(function() return c:read() end)
  reader:cancel()
  local ok, err = pcall(reader.join, reader)
  assert(not ok and err.code == "cancelled")
  go:send(true)
  test.eq(c:read(), "data")
  c:close()
  server:close()
end)

test("a reader that gives up right after data was handed to it loses nothing", function()
  local go = task.channel(1)
  local server = serve(function(c) c:write("a"); go:recv(); c:write("b"); go:recv(); c:write("c"); c:close() end)
  local c = connect(server)
  local got = task.channel(1)
  -- The second read of each reader starts right after the first returned (inside the same
  -- wake-up); the reader is then cancelled, or times out, before anything arrives.
  local reader = task.spawn(function()
    got:send(c:read())
    return c:read()
  end)
  test.eq(got:recv(), "a")
  reader:cancel()
  local ok, err = pcall(reader.join, reader)
  assert(not ok and err.code == "cancelled", tostring(err))
  go:send(true)
  test.eq(c:read(), "b")
  c:set_timeout(20)
  ok, err = pcall(c.read, c)
  assert(not ok and err.code == "ETIMEDOUT", tostring(err))
  c:set_timeout(nil)
  go:send(true)
  test.eq(c:read(), "c")
  test.eq(c:read(), nil)
  c:close()
  server:close()
end)

test("connect errors: refused, unresolvable, timeout", function()
  local port
  do local s = net.tcp.listen(0); port = s.port; s:close() end
  local ok, err = pcall(net.tcp.connect, "127.0.0.1", port)
  test.eq(err.code, "ECONNREFUSED")
  ok, err = pcall(net.tcp.connect, "no-such-host.invalid", 80)
  assert(not ok)
  test.eq(err.code, "ENOTFOUND")
  -- a listener whose backlog is full drops SYNs: connect must time out
  local full = net.tcp.listen("127.0.0.1", 0, { backlog = 0 })
  local conns, timed_out = {}, false
  for _ = 1, 10 do
    local ok2, c = pcall(net.tcp.connect, "127.0.0.1", full.port, { timeout = 200 })
    if ok2 then conns[#conns + 1] = c
    else
      test.eq(c.code, "ETIMEDOUT")
      timed_out = true
      break
    end
  end
  assert(timed_out, "no connect timed out")
  for _, c in ipairs(conns) do c:close() end
  full:close()
end)

test("IPv6 loopback", function()
  local ok, s = pcall(net.tcp.listen, "::1", 0)
  if not ok then test.skip_now("no IPv6 loopback here") end
  assert(s:local_addr():match("^%[::1%]:%d+$"), s:local_addr())
  local t = task.spawn(function() local c = s:accept(); c:write(c:peer_addr()); c:close() end)
  local c = net.tcp.connect("::1", s.port)
  local peer = c:read_all()
  assert(peer:match("^%[::1%]:%d+$"), peer)
  t:join()
  s:close()
end)

test("listen on a host name and with reuseport", function()
  local s = net.tcp.listen("localhost", 0, { reuseport = true })
  test.eq(s.host, "127.0.0.1")
  local s2 = net.tcp.listen("127.0.0.1", s.port, { reuseport = true })
  s2:close()
  s:close()
  local busy = net.tcp.listen(0)
  local ok, err = pcall(net.tcp.listen, "127.0.0.1", busy.port)
  assert(not ok)
  test.eq(err.code, "EADDRINUSE")
  busy:close()
end)

test("to-be-closed connections and servers", function()
  local port
  do
    local s <close> = net.tcp.listen(0)
    port = s.port
    local t = task.spawn(function() local c <close> = s:accept(); c:write("x") end)
    local c <close> = net.tcp.connect("127.0.0.1", port)
    test.eq(c:read(), "x")
    t:join()
  end
  local _, err = pcall(net.tcp.connect, "127.0.0.1", port)
  test.eq(err.code, "ECONNREFUSED")
end)

test("accept timeout and busy acceptor", function()
  local s = net.tcp.listen(0)
  local ok, err = pcall(s.accept, s, 20) -- luacheck: ignore 231 (only err is checked)
  test.eq(err.code, "ETIMEDOUT")
  local t = task.spawn(function() return pcall(s.accept, s) end)
  ok, err = pcall(s.accept, s)
  test.eq(err.code, "busy")
  s:close()
  local _, err2 = t:join()
  test.eq(err2.code, "closed")
end)

test("bad arguments are clear errors", function()
  test.raises(function() net.tcp.connect() end, "string expected")
  test.raises(function() net.tcp.connect("127.0.0.1", 70000) end, "port")
  test.raises(function() net.tcp.connect("127.0.0.1", 80, "nope") end, "table")
  test.raises(function() net.tcp.connect("127.0.0.1", 80, { timeout = "x" }) end, "timeout")
  test.eq(test.raises(function() net.tcp.listen("127.0.0.1", "x") end, "invalid port 'x'").code, "EINVAL")
  test.raises(function() net.tcp.listen("not an address!", 0) end)
  local s = net.tcp.listen(0)
  local t = task.spawn(function() return s:accept() end)
  local c = connect(s)
  local sc = t:join()
  test.raises(function() c:read(0) end, "positive")
  test.raises(function() c:write(nil) end, "string or buffer expected")
  test.raises(function() c:shutdown("sideways") end, "invalid option")
  test.raises(function() c:set_timeout(-1) end, ">= 0")
  test.raises(function() net.tcp.connect("127.0.0.1", s.port, { tls = 5 }) end, "tls")
  c:close(); sc:close(); s:close()
end)

test("net.resolve", function()
  local addrs = net.resolve("localhost")
  assert(#addrs >= 1)
  local found = false
  for _, a in ipairs(addrs) do if a == "127.0.0.1" or a == "::1" then found = true end end
  assert(found, table.concat(addrs, ","))
  test.eq(net.resolve("127.0.0.1"), { "127.0.0.1" })
  test.eq(net.resolve("::1", { family = 4 }), {})
  local v4 = net.resolve("localhost", { family = "inet" })
  for _, a in ipairs(v4) do assert(a:find("%."), a) end
  local _, err = pcall(net.resolve, "no-such-host.invalid")
  test.eq(err.code, "ENOTFOUND")
  test.raises(function() net.resolve("") end, "empty")
  test.raises(function() net.resolve("localhost", { family = 5 }) end, "family")
end)

test("concurrency proof: 200 clients of a handler that sleeps 1 s", function()
  local server = serve(function(c)
    local line = c:read_line()
    task.sleep(1)
    c:write(line .. " done\n")
    c:close()
  end, { backlog = 512 })
  local start = time.monotonic()
  local clients = {}
  for i = 1, 200 do
    clients[i] = task.spawn(function()
      local c = net.tcp.connect("127.0.0.1", server.port, { timeout = 10000 })
      c:write("client" .. i .. "\n")
      local r = c:read_line()
      c:close()
      return r
    end)
  end
  for i = 1, 200 do test.eq(clients[i]:join(), "client" .. i .. " done") end
  local elapsed = time.monotonic() - start
  -- sequential handling would take 200 s; the bound is generous on purpose
  assert(elapsed < 15, ("200 clients took %.1f s"):format(elapsed))
  server:close()
end)

test("a busy connection does not starve others (fairness)", function()
  local server = serve(function(c)
    while true do
      local l = c:read_line()
      if not l then break end
      c:write(l .. "\n")
    end
    c:close()
  end)
  -- one client pipelines many lines that are all buffered at once
  local busy = connect(server)
  busy:write(string.rep("x\n", 20000))
  local consumer = task.spawn(function()
    for _ = 1, 20000 do busy:read_line() end
    return "consumed"
  end)
  local other = connect(server)
  other:write("quick\n")
  test.eq(other:read_line(), "quick")
  test.eq(consumer.status, "suspended") -- the busy consumer did not run to completion first
  test.eq(consumer:join(), "consumed")
  busy:close(); other:close(); server:close()
end)
