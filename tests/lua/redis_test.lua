-- redis against a real redis-server (Debian's, started on a free 127.0.0.1 port and stopped by
-- PID): commands and every reply type (RESP3 and RESP2), auto-pipelining from 100 tasks on one
-- connection, pipelines, transactions (WATCH), pub/sub, a restarted server, AUTH, TLS, blocking
-- commands on the pool while timers tick, timeouts, bad input, closed clients.
local test = require("test")
local rs = dofile("tests/support/redis.lua")
local proc = rs.proc

if not rs.available then
  proc.peer_test(test, false, "redis-server")("redis", function() end)
  return
end

local srv = rs.start()
local URL = srv.url

local function is_err(v, code)
  return type(v) == "table" and getmetatable(v) ~= nil and v.code == code
end

-- The number of connections named `name` the server has.
local function connections_named(r, name)
  local n = 0
  for line in r:client_list():gmatch("[^\n]+") do
    if line:find(" name=" .. name .. " ", 1, true) then n = n + 1 end
  end
  return n
end

test("connect by URL and by options; strings, integers, nil, errors", function()
  local r = redis.connect(URL)
  local r2 = redis.connect({ host = "127.0.0.1", port = srv.port })
  test.eq(r:set("s1", "hello"), "OK")
  test.eq(r2:get("s1"), "hello")
  test.eq(r:get("missing:key"), nil)
  test.eq(r:incr("n1"), 1)
  test.eq(r:incrby("n1", 41), 42)
  test.eq(math.type(r:incr("n1")), "integer")
  test.eq(r:set("bin", "a\0b\r\nc"), "OK")
  test.eq(r:get("bin"), "a\0b\r\nc")
  test.eq(r:call("GET", "s1"), "hello")
  test.eq(r:del("s1", "n1", "bin"), 3)
  r:rpush("wrong", "x")
  local ok, err = pcall(r.incr, r, "wrong")
  test.eq(ok, false)
  test.eq(err.code, "WRONGTYPE")
  assert(tostring(err):find("redis_test.lua:%d+: WRONGTYPE"), tostring(err)) -- the caller's line
  local ok2, err2 = pcall(r.call, r, "NOSUCHCOMMAND")
  test.eq(ok2, false)
  test.eq(err2.code, "ERR")
  test.eq(r:ping(), "PONG")                     -- the connection is still fine after errors
  assert(tostring(r):find("redis.client"))
  r:close()
  r2:close()
end)

test("RESP3 reply types: arrays, maps, sets, doubles, booleans, big numbers, verbatim, nulls", function()
  local r = redis.connect(URL)
  test.eq(r:stats().protocol, 3)
  r:del("l", "h", "z", "set")
  r:rpush("l", "a", "b", "c")
  test.eq(r:lrange("l", 0, -1), { "a", "b", "c" })
  test.eq(r:lrange("nolist", 0, -1), {})
  r:hset("h", "f1", "v1", "f2", "2")
  test.eq(r:hgetall("h"), { f1 = "v1", f2 = "2" })
  test.eq(r:hgetall("nohash"), {})
  r:zadd("z", 1.5, "m")
  test.eq(r:zscore("z", "m"), 1.5)              -- a RESP3 double
  r:sadd("set", "x")
  test.eq(r:smembers("set"), { "x" })           -- a RESP3 set
  test.eq(r:eval("redis.setresp(3); return true", 0), true)   -- RESP3 booleans
  test.eq(r:eval("redis.setresp(3); return false", 0), false)
  test.eq(r:eval("return false", 0), nil)       -- RESP2 scripts: false is a null reply
  test.eq(r:eval("return {double = 3.25}", 0), 3.25)
  test.eq(r:eval("return {big_number = '123456789012345678901234567890'}", 0), "123456789012345678901234567890")
  local info = r:info("server")                  -- a verbatim string: "txt:" is removed
  assert(info:find("^# Server"), info:sub(1, 20))
  local m = r:mget("l:nope", "s:nope")
  test.eq(#m, 2)                                 -- nulls inside arrays are redis.null
  test.eq(m[1], redis.null)
  test.eq(redis.null, json.null)
  local nested = r:eval("return {1, {2, 'x'}, redis.error_reply('MYERR inner')}", 0)
  test.eq(nested[1], 1)
  test.eq(nested[2], { 2, "x" })
  assert(is_err(nested[3], "MYERR"), tostring(nested[3]))
  test.eq(r:config_get("maxmemory-policy"), { ["maxmemory-policy"] = "noeviction" })
  r:close()
end)

test("large values and replies split over many reads", function()
  local r = redis.connect(URL)
  local big = string.rep("0123456789abcdef", 256 * 1024)  -- 4 MiB
  test.eq(r:set("big", big), "OK")
  test.eq(r:get("big") == big, true)
  local items = {}
  for i = 1, 5000 do items[i] = "item" .. i end
  r:del("biglist")
  for i = 1, #items, 500 do r:rpush("biglist", table.unpack(items, i, i + 499)) end
  local got = r:lrange("biglist", 0, -1)
  test.eq(#got, 5000)
  test.eq(got[5000], "item5000")
  r:set("small", "s")
  local res = r:pipeline(function(p)
    for i = 1, 2000 do p:get(i % 500 == 0 and "big" or "small") end
  end)
  test.eq(res.n, 2000)
  test.eq(res[1999], "s")
  test.eq(res[2000] == big, true)
  r:del("big", "biglist")
  r:close()
end)

test("RESP2 (resp = 2): hgetall and config_get still give tables; doubles are strings", function()
  local r = redis.connect(URL, { resp = 2 })
  test.eq(r:stats().protocol, 2)
  r:del("h2")
  r:hset("h2", "a", "1", "b", "2")
  test.eq(r:hgetall("h2"), { a = "1", b = "2" })
  test.eq(r:config_get("maxmemory-policy"), { ["maxmemory-policy"] = "noeviction" })
  r:zadd("z2", 2.5, "m")
  test.eq(r:zscore("z2", "m"), "2.5")
  test.eq(r:eval("return true", 0), 1)
  local p = r:pipeline(function(p) p:hgetall("h2"); p:get("nope") end)
  test.eq(p[1], { a = "1", b = "2" })
  test.eq(p[2], redis.null)
  r:close()
end)

test("100 tasks share one connection: their commands are pipelined", function()
  local r = redis.connect(URL, { client_name = "autopipe" })
  r:del("counter")
  local before = r:stats().commands
  local tasks = {}
  for i = 1, 100 do
    tasks[i] = task.spawn(function()
      for _ = 1, 20 do r:incr("counter") end
      return r:get("counter")
    end)
  end
  for i = 1, 100 do tasks[i]:join(20) end
  test.eq(r:get("counter"), "2000")
  test.eq(r:stats().commands - before, 2101)
  test.eq(connections_named(r, "autopipe"), 1)  -- one connection for all of them
  r:close()
end)

test("pipeline: replies in order, errors as values, empty pipeline", function()
  local r = redis.connect(URL)
  r:del("p1")
  local res = r:pipeline(function(p)
    p:set("p1", "v")
    p:get("p1")
    p:lpush("p1", "x")     -- WRONGTYPE: a value in the list, not raised
    p:call("GET", "p1")
    p:get("p:none")
  end)
  test.eq(res.n, 5)
  test.eq(res[1], "OK")
  test.eq(res[2], "v")
  assert(is_err(res[3], "WRONGTYPE"))
  test.eq(res[4], "v")
  test.eq(res[5], redis.null)
  test.eq(r:pipeline(function() end).n, 0)
  test.raises(function() r:pipeline(function(p) p:set("k", {}) end) end, "must be a string or a number")
  test.raises(function() r:pipeline(function(p) p:blpop("k", 0) end) end, "cannot be used in a pipeline")
  test.raises(function() r:pipeline("nope") end, "expects a function")
  r:close()
end)

test("transactions: multi, EXECABORT, WATCH conflict gives nil", function()
  local r = redis.connect(URL)
  r:del("t1", "t2", "w")
  local res = r:multi(function(tx)
    tx:incr("t1")
    tx:incr("t1")
    tx:rpush("t1", "x")    -- fails inside EXEC: an error object in the list
    tx:set("t2", "ok")
  end)
  test.eq(res[1], 1)
  test.eq(res[2], 2)
  assert(is_err(res[3], "WRONGTYPE"))
  test.eq(res[4], "OK")
  -- a command refused while queuing aborts the whole transaction
  local ok, err = pcall(r.multi, r, function(tx) tx:set("t2", "changed"); tx:call("SET", "only-one-arg") end)
  test.eq(ok, false)
  test.eq(err.code, "ERR")
  assert(tostring(err):find("nothing was executed"), tostring(err))
  test.eq(r:get("t2"), "ok")
  -- WATCH: a concurrent change makes EXEC return nil
  r:set("w", "1")
  local other = redis.connect(URL)
  local out = r:watch("w", function(w)
    local v = tonumber(w:get("w"))
    other:set("w", "100")   -- someone else writes between WATCH and EXEC
    return w:multi(function(tx) tx:set("w", tostring(v + 1)) end)
  end)
  test.eq(out, nil)
  test.eq(r:get("w"), "100")
  -- and without a conflict it commits
  local out2 = r:watch({ "w" }, function(w)
    local v = tonumber(w:get("w"))
    return w:multi(function(tx) tx:set("w", tostring(v + 1)) end)
  end)
  test.eq(out2[1], "OK")
  test.eq(r:get("w"), "101")
  test.raises(function() r:exec() end, "r:multi")
  test.raises(function() r:call("MULTI") end, "r:multi")
  other:close()
  r:close()
end)

test("pub/sub: several subscribers, patterns, unsubscribe, recv timeout, close", function()
  local r = redis.connect(URL)
  local s1 = r:subscribe("room:1")
  local s2 = r:subscribe("room:1", "room:2")
  local sp = r:psubscribe("room:*")
  test.eq(r:publish("room:1", "hello"), 3)
  local m1 = s1:recv(2000)
  test.eq(m1.kind, "message")
  test.eq(m1.channel, "room:1")
  test.eq(m1.message, "hello")
  test.eq(s2:recv(2000).message, "hello")
  local pm = sp:recv(2000)
  test.eq(pm.kind, "pmessage")
  test.eq(pm.pattern, "room:*")
  test.eq(pm.channel, "room:1")
  test.eq(r:publish("room:2", "two"), 2)
  test.eq(s2:recv(2000).channel, "room:2")
  test.eq(sp:recv(2000).message, "two")
  local none, err = s1:recv(30)
  test.eq(none, nil)
  test.eq(err.code, "ETIMEDOUT")
  -- a subscriber waits in its own task; others go on
  local got = task.spawn(function() return s1:recv(5000) end)
  task.sleep(0.02)
  test.raises(function() s1:recv(10) end, "busy")
  r:publish("room:1", "later")
  test.eq(got:join(5).message, "later")
  s2:recv(2000)
  sp:recv(2000)
  s2:unsubscribe("room:1")
  s2:subscribe("room:3")
  test.eq(r:publish("room:1", "x"), 2)   -- s1 and sp
  test.eq(r:publish("room:3", "y"), 2)   -- s2 and sp
  test.eq(s2:recv(2000).message, "y")
  s1:close()
  s1:close()
  local n, cerr = s1:recv()
  test.eq(n, nil)
  test.eq(cerr.code, "closed")
  local receivers  -- the server notices the closed connection a moment later
  for _ = 1, 200 do
    receivers = r:publish("room:1", "z")
    if receivers == 1 then break end
    task.sleep(0.01)
  end
  test.eq(receivers, 1)
  sp:close()
  s2:close()
  test.raises(function() r:subscribe() end, "at least one")
  test.raises(function() r:subscribe({}) end, "must be a string")
  test.raises(function() r:unsubscribe("x") end, "sub:unsubscribe")
  r:close()
end)

test("a slow subscriber gets every message in order; the publisher is not held up", function()
  local r = redis.connect(URL)
  local sub = r:subscribe("slow")
  local N = 3000
  local payload = string.rep("p", 200)
  for i = 1, N do r:publish("slow", i .. ":" .. payload) end
  test.eq(r:ping(), "PONG")
  local fast = r:subscribe("slow")
  for i = 1, N do
    if i % 500 == 0 then task.sleep(0.01) end  -- slow consumer
    local m = sub:recv(5000)
    test.eq(tonumber(m.message:match("^(%d+):")), i)
  end
  r:publish("slow", "last")
  test.eq(fast:recv(2000).message, "last")
  sub:close()
  fast:close()
  r:close()
end)

test("a subscriber polling with short timeouts loses nothing", function()
  local r = redis.connect(URL)
  local sub = r:subscribe("poll")
  local N, got, timeouts = 500, 0, 0
  local publisher = task.spawn(function()
    for i = 1, N do
      r:publish("poll", tostring(i))
      if i % 50 == 0 and i < N then  -- let the subscriber time out (its read is cancelled) now and then
        local seen = timeouts
        while timeouts == seen do task.sleep(0.002) end
      end
    end
  end)
  while got < N do
    local m, err = sub:recv(1)
    if m then
      got = got + 1
      test.eq(m.message, tostring(got))
    else
      test.eq(err.code, "ETIMEDOUT")
      timeouts = timeouts + 1
    end
  end
  publisher:join(10)
  assert(timeouts >= N / 50 - 1, "timeouts: " .. timeouts)
  sub:close()
  r:close()
end)

test("blocking commands use the pool: the shared connection and timers go on", function()
  local r = redis.connect(URL, { client_name = "blocker" })
  r:del("queue")
  local ticks = 0
  local ticker = setInterval(function() ticks = ticks + 1 end, 10)
  local popped = task.spawn(function() return r:blpop("queue", 5) end)
  while ticks < 3 do task.sleep(0.01) end   -- the timer ticks while BLPOP waits
  test.eq(popped.status, "suspended")       -- still waiting for a job
  test.eq(r:ping(), "PONG")                 -- not stuck behind BLPOP
  test.eq(r:rpush("queue", "job"), 1)
  test.eq(popped:join(5), { "queue", "job" })
  clearInterval(ticker)
  test.eq(r:brpop("queue", 0.05), nil)       -- the server's own timeout: a null reply
  test.eq(connections_named(r, "blocker"), 2) -- the shared one and one pooled
  r:close()
end)

test("per-call timeouts: call {timeout}, with_timeout, client default", function()
  local r = redis.connect(URL)
  local ok, err = pcall(r.call, r, { timeout = 50 }, "BLPOP", "never", 0)
  test.eq(ok, false)
  test.eq(err.code, "ETIMEDOUT")
  local v = r:with_timeout(50)
  local ok2, err2 = pcall(v.blpop, v, "never", 0)
  test.eq(ok2, false)
  test.eq(err2.code, "ETIMEDOUT")
  test.eq(v:ping(), "PONG")
  local r2 = redis.connect(URL, { timeout = 30 })
  test.eq(r2:ping(), "PONG")
  test.eq(r2:blpop("never", 0.1), nil)        -- the client default does not cut blocking commands short
  local ok3, err3 = pcall(r2.call, r2, { timeout = 20 }, "BLPOP", "never", 0)  -- an explicit one does
  test.eq(ok3, false)
  test.eq(err3.code, "ETIMEDOUT")
  test.eq(r2:config_get("maxmemory-policy")["maxmemory-policy"], "noeviction")
  test.raises(function() r:call({ timeuot = 5 }, "PING") end, "timeout")
  test.raises(function() r:call({ timeout = -1 }, "PING") end, "non-negative")
  r2:close()
  r:close()
end)

test("db from the URL and SELECT; QUIT closes", function()
  local r0 = redis.connect(URL)
  local r3 = redis.connect(URL .. "/3")
  r3:set("dbkey", "three")
  test.eq(r0:get("dbkey"), nil)
  test.eq(r0:select(3), "OK")
  test.eq(r0:get("dbkey"), "three")
  test.eq(r0:quit(), "OK")
  test.raises(function() r0:get("x") end, "closed")
  r3:flushdb()
  r3:close()
end)

test("bad input: options, URLs, ports, argument types, closed clients", function()
  test.raises(function() redis.connect({ prot = 1 }) end, "did you mean 'port'")
  test.raises(function() redis.connect({ port = 70000 }) end, "out of range")
  test.raises(function() redis.connect({ port = 0 }) end, "out of range")
  test.raises(function() redis.connect({ port = 1.5 }) end, "integer")
  test.raises(function() redis.connect({ db = -1 }) end, "db")
  test.raises(function() redis.connect({ host = "" }) end, "host")
  test.raises(function() redis.connect({ timeout = "x" }) end, "milliseconds")
  test.raises(function() redis.connect({ reconnect = { attempt = 1 } }) end, "did you mean 'attempts'")
  test.raises(function() redis.connect("http://x") end, "redis://")
  test.raises(function() redis.connect("redis://h:99999") end, "out of range")
  test.raises(function() redis.connect("redis://h/x") end, "database")
  test.raises(function() redis.connect(42) end, "URL string or an options table")
  test.raises(function() redis.connect({ username = "u" }) end, "needs 'password'")
  local cfg = redis.parse_url("rediss://us%40er:p%3Ass@example.com:7000/2")
  test.eq(cfg.username, "us@er")
  test.eq(cfg.password, "p:ss")
  test.eq(cfg.host, "example.com")
  test.eq(cfg.port, 7000)
  test.eq(cfg.db, 2)
  test.eq(cfg.tls, true)
  test.eq(redis.parse_url("redis://:secret@[::1]").host, "::1")
  local refused = proc.free_port()
  local ok, err = pcall(redis.connect, { port = refused })
  test.eq(ok, false)
  test.eq(err.code, "ECONNREFUSED")
  local r = redis.connect(URL)
  test.raises(function() r:set("k", {}) end, "argument #2 must be a string or a number")
  test.raises(function() r:set("k", true) end, "must be a string or a number")
  test.raises(function() r:set("k", 0 / 0) end, "NaN")
  test.raises(function() r:call() end, "command name")
  test.raises(function() r:call(12) end, "command name")
  test.eq(r:set("f", 1.5), "OK")
  test.eq(r:get("f"), "1.5")
  test.eq(r:set("i", 2 ^ 53), "OK")
  test.eq(r:ping(), "PONG")
  r:close()
  r:close() -- idempotent
  test.eq(r:is_closed(), true)
  test.raises(function() r:get("k") end, "client is closed")
  test.raises(function() r:pipeline(function() end) end, "closed")
  test.raises(function() r:subscribe("x") end, "closed")
  test.raises(function() r:blpop("x", 1) end, "closed")
end)

test("close wakes waiting callers with a closed error", function()
  local r = redis.connect(URL)
  local t = task.spawn(function() return pcall(r.call, r, "BLPOP", "never:q", 0) end)
  local s = r:subscribe("c")
  local t2 = task.spawn(function() return s:recv() end)
  task.sleep(0.05)
  r:close()
  local ok, err = t:join(5)
  test.eq(ok, false)
  test.eq(err.code, "closed")
  local m, serr = t2:join(5)
  test.eq(m, nil)
  test.eq(serr.code, "closed")
end)

local pw_test = test
pw_test("AUTH: password and username, wrong password, missing password", function()
  local p = rs.start({ password = "s3cret" })
  local r = redis.connect(p.url)
  test.eq(r:ping(), "PONG")
  r:close()
  local r2 = redis.connect({ port = p.port, username = "default", password = "s3cret", resp = 2 })
  test.eq(r2:ping(), "PONG")
  local sub = r2:subscribe("authed")
  test.eq(r2:publish("authed", "m"), 1)
  test.eq(sub:recv(2000).message, "m")
  r2:close()
  local ok, err = pcall(redis.connect, { port = p.port, password = "wrong" })
  test.eq(ok, false)
  test.eq(err.code, "WRONGPASS")
  local ok2, err2 = pcall(redis.connect, { port = p.port })
  test.eq(ok2, false)
  test.eq(err2.code, "NOAUTH")
  local ok3, err3 = pcall(redis.connect, { port = p.port, password = "wrong", resp = 2 })
  test.eq(ok3, false)
  test.eq(err3.code, "WRONGPASS")
  p:stop()
end)

test("TLS with verification (rediss://)", function()
  local dir = proc.tmpdir()
  local certs = proc.make_certs(dir)
  local t = rs.start({ tls = certs })
  local r = redis.connect(t.url, { tls = { ca_file = certs.ca } })
  test.eq(r:set("tls", "yes"), "OK")
  test.eq(r:get("tls"), "yes")
  local sub = r:subscribe("tlsch")
  r:publish("tlsch", "secure")
  test.eq(sub:recv(2000).message, "secure")
  r:close()
  local ok, err = pcall(redis.connect, t.url)  -- the system store does not know this CA
  test.eq(ok, false)
  test.eq(err.code, "ECERT")
  local r2 = redis.connect(t.url, { tls = { verify = false } })
  test.eq(r2:ping(), "PONG")
  r2:close()
  t:stop()
end)

test("redis restarted mid-run: in-flight calls fail, later calls reconnect, subscribers resubscribe", function()
  local r = redis.connect(URL, { reconnect = { attempts = 40, delay = 20, max_delay = 200 } })
  local sub = r:subscribe("restart:ch")
  local psub = r:psubscribe("restart:*")
  local ok_count, err_count, stop = 0, 0, false
  local values = {}  -- every INCR reply received
  local workers = {}
  for i = 1, 20 do
    workers[i] = task.spawn(function()
      while not stop do
        local ok, err = pcall(r.incr, r, "restart:n")
        if ok then ok_count = ok_count + 1; values[#values + 1] = err else
          err_count = err_count + 1
          assert(type(err) == "table" and err.code, tostring(err))
          task.sleep(0.01)
        end
      end
    end)
  end
  local blocked = task.spawn(function() return pcall(r.blpop, r, "restart:q", 0) end)
  local idle = redis.connect(URL)
  test.eq(idle:ping(), "PONG")
  task.sleep(0.1)
  srv:restart()
  task.sleep(0.2)
  stop = true
  for i = 1, 20 do workers[i]:join(20) end
  local bok, berr = blocked:join(20)                   -- the waiting BLPOP got an error
  test.eq(bok, false)
  assert(berr.code, tostring(berr))
  assert(ok_count > 0 and err_count > 0, ("ok %d, errors %d"):format(ok_count, err_count))
  -- No reply lost or doubled: the new server ran K INCRs (1..K) and every one was answered;
  -- the old one answered 1..M (replies come in order, so those lost at the stop are the last).
  local K = tonumber(r:get("restart:n"))
  local M = #values - K
  assert(M >= 0, ("%d replies but the new server ran %d INCRs"):format(#values, K))
  local count = {}
  for _, v in ipairs(values) do count[v] = (count[v] or 0) + 1 end
  for v = 1, math.max(M, K) do
    test.eq(count[v] or 0, (v <= M and 1 or 0) + (v <= K and 1 or 0))
  end
  test.eq(r:set("after", "restart"), "OK")            -- no reconnect call needed
  test.eq(idle:get("after"), "restart")               -- idle while the server restarted: no error at all
  idle:close()
  local ev = sub:recv(5000)
  test.eq(ev.kind, "reconnected")
  test.eq(ev.channels, { "restart:ch" })
  local pev = psub:recv(5000)
  test.eq(pev.kind, "reconnected")
  test.eq(pev.patterns, { "restart:*" })
  test.eq(r:publish("restart:ch", "back"), 2)
  test.eq(sub:recv(2000).message, "back")
  test.eq(psub:recv(2000).message, "back")
  r:close()
end)

test("a stopped server: calls fail with a connection error once the retries are spent", function()
  local tmp = rs.start()
  local r = redis.connect(tmp.url, { reconnect = { attempts = 2, delay = 10 } })
  test.eq(r:ping(), "PONG")
  tmp:stop()
  local ok, err = pcall(r.ping, r)
  test.eq(ok, false)
  test.eq(err.code, "ECONNREFUSED")
  local no = redis.connect(URL, { reconnect = false })
  test.eq(no:ping(), "PONG")
  no:close()
  r:close()
end)

-- A fake server (net.tcp) that answers like an old Redis without HELLO, and sends garbage
-- when asked for KEY "garbage".
local function fake_server()
  local server = net.tcp.listen("127.0.0.1", 0)
  local seen = {}
  proc.serve(server, function(c)
    while true do
      local head = c:read_line()
      if not head then break end
      local n = tonumber(head:match("^%*(%d+)$"))
      local args = {}
      for i = 1, n do
        local len = tonumber(c:read_line():match("^%$(%d+)$"))
        args[i] = c:read_exactly(len + 2):sub(1, len)
      end
      local cmd = args[1]:upper()
      seen[#seen + 1] = table.concat(args, " ")
      if cmd == "HELLO" then c:write("-ERR unknown command 'HELLO', with args beginning with: '3'\r\n")
      elseif cmd == "AUTH" then c:write("+OK\r\n")
      elseif cmd == "SELECT" then c:write("+OK\r\n")
      elseif cmd == "PING" then c:write("+PONG\r\n")
      elseif cmd == "GET" and args[2] == "garbage" then c:write("?what is this\r\n")
      elseif cmd == "GET" then c:write("$5\r\nhello\r\n")
      else c:write("-ERR unknown command\r\n") end
    end
  end)
  return server, seen
end

test("a server without HELLO gets RESP2 + AUTH + SELECT; garbage from it is EPROTO", function()
  local server, seen = fake_server()
  local r = redis.connect({ port = server.port, password = "pw", db = 2 })
  test.eq(r:stats().protocol, 2)
  test.eq(seen[1], "HELLO 3 AUTH default pw")
  test.eq(seen[2], "AUTH pw")
  test.eq(seen[3], "SELECT 2")
  test.eq(r:get("k"), "hello")
  local ok, err = pcall(r.get, r, "garbage")
  test.eq(ok, false)
  test.eq(err.code, "EPROTO")
  test.eq(r:ping(), "PONG")   -- reconnected on the next call
  r:close()
  local ok3, err3 = pcall(redis.connect, { port = server.port, resp = 3 })
  test.eq(ok3, false)
  test.eq(err3.code, "ERR")
  server:close()
end)

test("cleanup", function()
  srv:stop()
  rs.cleanup()
end)
