-- net.ws clusters (docs/cluster.md): server:cluster / group:cluster against a real
-- redis-server. Two clusters in one process stand for two processes (each cluster object has its
-- own origin id); tests/cli/workers_cluster_test.lua does it across real processes.
local test = require("test")
local rs = dofile("tests/support/redis.lua")
local proc = rs.proc

if not rs.available then
  proc.peer_test(test, false, "redis-server")("ws cluster", function() end)
  return
end

local srv = rs.start()
local URL = srv.url
local nchan = 0
local function channel()
  nchan = nchan + 1
  return "wscluster:test:" .. nchan .. ":" .. process.pid()
end

local function client(server)
  return net.ws.connect("ws://127.0.0.1:" .. server.port .. "/", { timeout = 5000 })
end

-- A server with one connected client (accepted); returns server, client ws, server-side conn.
local function server_with_client(opts)
  local server = net.ws.listen("127.0.0.1", 0, opts)
  local ws = client(server)
  local conn = server:accept(5000)
  return server, ws, conn
end

local function recv_data(ws)
  local m = ws:recv()
  assert(m, "connection closed")
  return m.data, m.type
end

test("a broadcast reaches the local clients at once and the other cluster's through Redis, once each", function()
  local ch = channel()
  local a, wa = server_with_client()
  local b, wb = server_with_client()
  local ca = a:cluster(URL, ch)
  local cb = b:cluster(URL, ch)
  test.eq(ca.channel, ch)
  test.ok(ca.id ~= cb.id)
  test.eq(a:broadcast("hello from a"), 1)  -- the local count
  test.eq(recv_data(wa), "hello from a")
  test.eq(recv_data(wb), "hello from a")
  -- No duplicate: the next message each client gets is the next broadcast.
  test.eq(b:broadcast("second, from b"), 1)
  test.eq(recv_data(wa), "second, from b")
  test.eq(recv_data(wb), "second, from b")
  local s = ca:stats()
  test.eq(s.published, 1)
  test.eq(s.received, 2)   -- its own message and b's
  test.eq(s.delivered, 1)  -- b's only: its own went to the local clients at once
  test.eq(s.dropped, 0)
  test.eq(s.pending, 0)
  ca:close()
  cb:close()
  a:close()
  b:close()
end)

test("binary messages keep their type and bytes; cluster:broadcast is the server's", function()
  local ch = channel()
  local a, wa = server_with_client()
  local b, wb = server_with_client()
  local ca = a:cluster(URL, ch)
  local cb <close> = b:cluster(URL, ch)  -- luacheck: ignore 211 (closed at the end of the test)
  local blob = "\0\1\2 mw1 x \255\r\n"
  test.eq(ca:broadcast(blob, "binary"), 1)
  local d, t = recv_data(wb)
  test.eq(d, blob)
  test.eq(t, "binary")
  d, t = recv_data(wa)
  test.eq(d, blob)
  test.eq(t, "binary")
  ca:close()
  a:close()
  b:close()
end)

test("a message another program publishes on the channel reaches every cluster's clients as text", function()
  local ch = channel()
  local a, wa = server_with_client()
  local b, wb = server_with_client()
  local ca <close> = a:cluster(URL, ch)  -- luacheck: ignore 211 (closed at the end of the test)
  local cb <close> = b:cluster(URL, ch)  -- luacheck: ignore 211 (closed at the end of the test)
  local r = redis.connect(URL)
  test.eq(r:publish(ch, "from the backend"), 2)
  test.eq(recv_data(wa), "from the backend")
  local d, t = recv_data(wb)
  test.eq(d, "from the backend")
  test.eq(t, "text")
  r:close()
  a:close()
  b:close()
end)

test("group:cluster spans servers sharing the group; a client given by redis.connect is kept open", function()
  local ch = channel()
  local g = net.ws.group()
  local a, wa = server_with_client({ group = g })
  local b, wb = server_with_client()
  local r = redis.connect(URL)
  local cg <close> = g:cluster(r, ch)
  local cb <close> = b:cluster(URL, ch)  -- luacheck: ignore 211 (closed at the end of the test)
  test.eq(a:broadcast("via the server"), 1)  -- a's broadcast is its group's: clustered
  test.eq(recv_data(wa), "via the server")
  test.eq(recv_data(wb), "via the server")
  test.eq(g:broadcast("via the group"), 1)
  test.eq(recv_data(wb), "via the group")
  cg:close()
  test.eq(r:ping(), "PONG")  -- not ours to close
  r:close()
  a:close()
  b:close()
end)

test("after cluster:close() the broadcast is local only", function()
  local ch = channel()
  local a, wa = server_with_client()
  local b, wb = server_with_client()
  local ca = a:cluster(URL, ch)
  local cb <close> = b:cluster(URL, ch)  -- luacheck: ignore 211 (closed at the end of the test)
  ca:close()
  ca:close()  -- idempotent
  test.ok(tostring(ca):find("closed"))
  test.eq(a:broadcast("local only"), 1)
  test.eq(recv_data(wa), "local only")
  test.eq(b:broadcast("marker"), 1)
  test.eq(recv_data(wb), "marker")  -- "local only" never came
  -- It can be clustered again.
  local ca2 <close> = a:cluster(URL, ch)  -- luacheck: ignore 211 (closed at the end of the test)
  b:broadcast("again")
  test.eq(recv_data(wa), "again")
  a:close()
  b:close()
end)

test("the publish queue is bounded: a burst beyond max_pending is dropped and counted", function()
  local ch = channel()
  local a, wa = server_with_client()
  local ca <close> = a:cluster(URL, ch, { max_pending = 3 })
  for i = 1, 20 do a:broadcast("burst " .. i) end  -- no yield: the publisher cannot run meanwhile
  local s = ca:stats()
  test.eq(s.pending, 3)
  test.eq(s.dropped, 17)
  for i = 1, 20 do test.eq(recv_data(wa), "burst " .. i) end  -- local clients got them all
  a:close()
end)

test("attaching suspends only its task: a timer keeps ticking", function()
  local ticks = 0
  local t = setInterval(function() ticks = ticks + 1 end, 1)
  local a = net.ws.listen("127.0.0.1", 0)
  local before = ticks
  local c = a:cluster(URL, channel())
  task.sleep(0.02)
  test.ok(ticks > before)
  clearInterval(t)
  c:close()
  a:close()
end)

test("bad input: a clear EINVAL; a Redis that is not there raises ECONNREFUSED", function()
  local a = net.ws.listen("127.0.0.1", 0)
  local function code(...)
    local ok, err = pcall(a.cluster, a, ...)
    test.eq(ok, false)
    return type(err) == "table" and err.code or tostring(err), tostring(err)
  end
  test.eq(code(URL), "EINVAL")              -- no channel
  test.eq(code(URL, ""), "EINVAL")
  test.eq(code(URL, 42), "EINVAL")
  test.eq(code(nil, "c"), "EINVAL")
  test.eq(code(42, "c"), "EINVAL")
  test.eq(code({}, "c"), "EINVAL")
  local c, msg = code(URL, "c", { max_pendng = 1 })
  test.eq(c, "EINVAL")
  test.matches(msg, "unknown option 'max_pendng'")
  test.eq(code(URL, "c", { max_pending = 0 }), "EINVAL")
  test.eq(code(URL, "c", { max_pending = 1.5 }), "EINVAL")
  test.eq(code(URL, "c", "x"), "EINVAL")
  local port = proc.free_port()
  test.eq(code("redis://127.0.0.1:" .. port, "c"), "ECONNREFUSED")
  local cl <close> = a:cluster(URL, channel())  -- luacheck: ignore 211 (closed at the end of the test)
  local c2, msg2 = code(URL, "other")
  test.eq(c2, "EINVAL")
  test.matches(msg2, "already in a cluster")
  local ok = pcall(a.cluster)  -- no server
  test.eq(ok, false)
  ok = pcall(net.ws.group().cluster, 42, URL, "c")
  test.eq(ok, false)
  a:close()
end)

test("a broadcast from a closed server's group still works locally and publishes", function()
  local ch = channel()
  local b, wb = server_with_client()
  local cb <close> = b:cluster(URL, ch)  -- luacheck: ignore 211 (closed at the end of the test)
  local a = net.ws.listen("127.0.0.1", 0)
  local ca <close> = a:cluster(URL, ch)  -- luacheck: ignore 211 (closed at the end of the test)
  a:close()
  test.eq(a:broadcast("from a closed server"), 0)
  test.eq(recv_data(wb), "from a closed server")
  b:close()
end)

test("Redis restarted mid-run: the clusters reconnect and broadcasts cross again", function()
  local tmp = rs.start()
  local ch = channel()
  local a, wa = server_with_client()  -- luacheck: ignore 211 (its client stays open)
  local b, wb = server_with_client()
  local ca <close> = a:cluster(tmp.url, ch)
  local cb <close> = b:cluster(tmp.url, ch)
  a:broadcast("before")
  test.eq(recv_data(wb), "before")
  tmp:restart()
  -- Until b's subscriber is back, a's messages are lost for b (pub/sub is at-most-once): keep
  -- broadcasting until one crosses.
  wb:set_timeout(200)
  local got
  for i = 1, 150 do
    a:broadcast("after " .. i)
    local ok, m = pcall(wb.recv, wb)
    if ok and m then
      got = m.data
      break
    end
  end
  test.matches(got, "^after %d+$")
  wb:set_timeout(nil)
  test.ok(cb:stats().received >= 2)
  ca:close()
  cb:close()
  a:close()
  b:close()
  tmp:stop()
end)

test("cleanup", function()
  srv:stop()
  rs.cleanup()
end)
