-- Arguments and options are validated the same way in every module (docs/errors.md,
-- "Arguments and options"): unknown option names, wrong types and out-of-range values are
-- EINVAL error objects; durations and ports follow one rule everywhere.
local test = require("test")

-- The EINVAL error object of a call, with its message.
local function einval(fn, ...)
  local ok, err = pcall(fn, ...)
  test.ok(not ok, "expected an error")
  test.eq(type(err), "table", "an error object, got: " .. tostring(err))
  test.eq(err.code, "EINVAL", tostring(err))
  return tostring(err)
end

-- Every public function that takes an options table, with a call that reaches the check.
local OPTION_CALLS = {
  { "net.tcp.connect", function(o) return net.tcp.connect("127.0.0.1", 1, o) end, "timeout" },
  { "net.tcp.listen", function(o) return net.tcp.listen("127.0.0.1", 0, o) end, "backlog" },
  { "net.udp.bind", function(o) return net.udp.bind("127.0.0.1", 0, o) end, "reuseaddr" },
  { "net.ws.connect", function(o) return net.ws.connect("ws://127.0.0.1:1/", o) end, "timeout" },
  { "net.ws.listen", function(o) return net.ws.listen("127.0.0.1", 0, o) end, "max_message" },
  { "http request", function(o) return http.get("http://127.0.0.1:1/", o) end, "timeout" },
  { "http.pool", function(o) return http.pool(o) end, "idle_timeout" },
  { "net.socks5.connect", function(o) return net.socks5.connect("127.0.0.1", 1, "x", 1, nil, nil, o) end, "timeout" },
  { "net.resolve", function(o) return net.resolve("localhost", o) end, "family" },
  { "json.encode", function(o) return json.encode({}, o) end, "pretty" },
  { "json.decode", function(o) return json.decode("{}", o) end, "max_depth" },
  { "tls", function(o) return net.tcp.connect("127.0.0.1", 1, { tls = o }) end, "verify" },
}

for _, case in ipairs(OPTION_CALLS) do
  local name, call, known = case[1], case[2], case[3]

  test(name .. ": a misspelled option is EINVAL with a hint, not silently ignored", function()
    local typo = known:sub(1, 2) .. known:sub(4, 4) .. known:sub(3, 3) .. known:sub(5)  -- swap two letters
    local msg = einval(call, { [typo] = 1 })
    test.matches(msg, name:gsub("%.", "%%.") .. ": unknown option '" .. typo:gsub("%p", "%%%0") .. "'")
    test.matches(msg, "did you mean '" .. known .. "'%?")
  end)

  test(name .. ": an unrelated unknown option is EINVAL without a hint", function()
    local msg = einval(call, { zzzqqq = true })
    test.matches(msg, "unknown option 'zzzqqq'")
    test.ok(not msg:find("did you mean"), msg)
  end)

  test(name .. ": positional entries in an options table are EINVAL", function()
    test.matches(einval(call, { 1 }), "unexpected option key 1")
  end)
end

test("options of the wrong type are EINVAL naming the option and the value", function()
  test.matches(einval(net.tcp.connect, "127.0.0.1", 1, { timeout = "soon" }), "option 'timeout' must be")
  test.matches(einval(net.tcp.connect, "127.0.0.1", 1, { nodelay = 1 }), "option 'nodelay' must be a boolean %(got 1%)")
  test.matches(einval(net.tcp.listen, 0, { backlog = 1.5 }), "option 'backlog' must be an integer %(got 1.5%)")
  test.matches(einval(net.tcp.listen, 0, { backlog = -3 }), "option 'backlog' must be 0..65535 %(got %-3%)")
  test.matches(einval(http.get, "http://127.0.0.1:1/", { redirects = -1 }), "option 'redirects' must be 0..1000")
  test.matches(einval(json.decode, "1", { max_depth = 0 }), "option 'max_depth' must be 1..")
  test.matches(einval(net.tcp.connect, "127.0.0.1", 1, { tls = { ca_file = 5 } }), "option 'ca_file' must be a string")
  test.matches(einval(net.tcp.connect, "127.0.0.1", 1, { tls = "yes" }), "option 'tls' must be a boolean or a table")
  test.matches(einval(net.resolve, "localhost", { family = 5 }), "option 'family' must be 4, 6")
  test.matches(einval(net.socks5.connect, "127.0.0.1", 1, "x", 1, nil, nil, { resolve = "remote" }), "'resolve' must be")
end)

test("a bad option is reported before anything starts: no connection attempt is made", function()
  local server = net.tcp.listen("127.0.0.1", 0)
  local accepted = 0
  local t = task.spawn(function()
    while true do
      local c = server:accept()
      accepted = accepted + 1
      c:close()
    end
  end)
  einval(net.tcp.connect, "127.0.0.1", server.port, { timeuot = 100 })
  einval(net.tcp.connect, "127.0.0.1", server.port, { tls = { verfy = false } })
  -- A good connect afterwards is the first one the server sees.
  net.tcp.connect("127.0.0.1", server.port):close()
  for _ = 1, 100 do
    if accepted > 0 then break end
    task.sleep(0.01)
  end
  test.eq(accepted, 1)
  t:cancel()
  server:close()
end)

-- Timeouts ------------------------------------------------------------------------------------

test("negative and NaN timeouts are EINVAL in every module", function()
  for _, v in ipairs({ -1, -0.5, 0 / 0 }) do
    einval(net.tcp.connect, "127.0.0.1", 1, { timeout = v })
    einval(net.ws.connect, "ws://127.0.0.1:1/", { timeout = v })
    einval(http.get, "http://127.0.0.1:1/", { timeout = v })
    einval(http.get, "http://127.0.0.1:1/", { connect_timeout = v })
    local ch = task.channel()
    einval(ch.recv, ch, v)
    einval(ch.send, ch, 1, v)
    local t = task.spawn(function() end)
    einval(t.join, t, v)
    local s = net.tcp.listen(0)
    einval(s.accept, s, v)
    s:close()
  end
end)

test("delays: NaN is EINVAL, a negative delay is no delay (as Node's timers)", function()
  einval(task.sleep, 0 / 0)
  einval(time.sleep, 0 / 0)
  einval(setTimeout, function() end, 0 / 0)
  einval(setInterval, function() end, 0 / 0)
  local fired = task.channel(1)
  setTimeout(function() fired:send(true) end, -5)
  test.eq(fired:recv(5), true)
  task.sleep(-1)
  time.sleep(-1)
end)

test("a fractional millisecond timeout is accepted (rounded up), not an error", function()
  local s = net.tcp.listen(0)
  local ok, err = pcall(s.accept, s, 1.5)
  test.eq(ok, false)
  test.eq(err.code, "ETIMEDOUT")
  test.matches(tostring(err), "after 2 ms")
  s:close()
end)

test("timeout 0 and math.huge mean no timeout, the same in every module", function()
  local ch = task.channel()
  for _, v in ipairs({ 0, math.huge, 1e308 }) do
    local receiver = task.spawn(function() return ch:recv(v) end)
    task.sleep(0.05)
    test.eq(receiver.status, "suspended", "recv(" .. v .. ") must still wait")
    ch:send("x")
    test.eq(receiver:join(), "x")
  end
  -- TCP: accept with timeout 0 waits for the client instead of failing at once.
  local s = net.tcp.listen(0)
  local acceptor = task.spawn(function() return s:accept(0) end)
  task.sleep(0.05)
  test.eq(acceptor.status, "suspended")
  local c = net.tcp.connect("127.0.0.1", s.port, { timeout = 0 })
  acceptor:join():close()
  c:set_timeout(0)
  c:close()
  s:close()
end)

test("huge durations wait (clamped), they neither return at once nor overflow", function()
  local sleeper = task.spawn(function() task.sleep(1e10) end)
  local ms_sleeper = task.spawn(function() time.sleep(1e300) end)
  local waiter = task.spawn(function() return task.channel():recv(1e10) end)
  local fired = false
  local id = setTimeout(function() fired = true end, 1e16)
  local id2 = setInterval(function() fired = true end, math.huge)
  task.sleep(0.1)
  test.eq(sleeper.status, "suspended")
  test.eq(ms_sleeper.status, "suspended")
  test.eq(waiter.status, "suspended")
  test.eq(fired, false)
  sleeper:cancel()
  ms_sleeper:cancel()
  waiter:cancel()
  clearTimeout(id)
  clearInterval(id2)
  test.eq(select(2, pcall(sleeper.join, sleeper)).code, "cancelled")
end)

test("a huge join timeout waits for the task", function()
  local t = task.spawn(function() task.sleep(0.05) return 42 end)
  test.eq(t:join(1e12), 42)
end)

-- Ports ---------------------------------------------------------------------------------------

test("ports out of range or not numeric are EINVAL; numeric strings are accepted", function()
  for _, p in ipairs({ 65536, 99999, -1, 1.5, "abc", "80x" }) do
    local msg = einval(net.tcp.connect, "127.0.0.1", p)
    test.matches(msg, "invalid port")
    einval(net.tcp.listen, "127.0.0.1", p)
    einval(net.udp.bind, "127.0.0.1", p)
  end
  test.matches(einval(net.tcp.connect, "127.0.0.1", 0), "port 0")
  local s = net.tcp.listen("127.0.0.1", "0")
  test.ok(s.port > 0)
  local c = net.tcp.connect("127.0.0.1", tostring(s.port))
  c:close()
  s:close()
end)

test("net.tcp.listen(\"8080\"): a port given as a numeric string alone", function()
  local port = net.tcp.listen(0).port  -- a free port (closed when collected)
  collectgarbage()
  local s = net.tcp.listen(tostring(0))
  test.eq(s.host, "127.0.0.1")
  s:close()
  local ws = net.ws.listen("0")
  test.ok(ws.port > 0)
  ws:close()
  test.ok(port > 0)
end)

test("URLs with bad ports are EINVAL saying what is wrong, never a wrapped port", function()
  local cases = {
    { "http://127.0.0.1:99999/", "port 99999 is out of range" },
    { "http://127.0.0.1:65536/", "port 65536 is out of range" },
    { "http://127.0.0.1:abc/", "port 'abc' is not a number" },
    { "http://127.0.0.1:-1/", "port '%-1' is not a number" },
    { "http://127.0.0.1:0/", "port 0" },
  }
  for _, c in ipairs(cases) do
    test.matches(einval(http.get, c[1]), c[2])
    local ws_url = c[1]:gsub("^http", "ws")
    test.matches(einval(net.ws.connect, ws_url), c[2])
    test.matches(einval(http.get, "http://127.0.0.1/", { proxy = c[1] }), c[2])
  end
end)

test("malformed URLs say what is wrong in plain words (no parser internals)", function()
  local cases = {
    { "not a url", "no scheme" },
    { "127.0.0.1:8080/x", "no scheme" },
    { "http://", "no host" },
    { "http:///path", "no host" },
    { "http://a b/", "a space at position 9" },
    { "http://[::1/", "unterminated IPv6" },
    { "ftp://example.com/", "unsupported scheme 'ftp'" },
    { "", "empty" },
  }
  for _, c in ipairs(cases) do
    local msg = einval(http.get, c[1])
    test.matches(msg, c[2])
    test.ok(not msg:find("mismatch") and not msg:find("leftover"), msg)
  end
  test.matches(einval(net.ws.connect, "not a url"), "no scheme")
  -- Found by tools/fuzz/fuzz_url: Boost.URL took "a@b@c" as host b with the path "@c", while
  -- the URL names host c; never connect anywhere for such a URL.
  for _, u in ipairs({ "http://a@b@c/x", "http://user:pw@evil.test@good.test:8080/", "http://a@b@c" }) do
    test.matches(einval(http.get, u), "more than one '@'")
    test.matches(einval(net.ws.connect, (u:gsub("^http", "ws"))), "more than one '@'")
    test.matches(einval(http.get, "http://127.0.0.1/", { proxy = u }), "more than one '@'")
  end
  test.matches(einval(net.ws.connect, "ftp://x/"), "unsupported scheme 'ftp' %(use ws:// or wss://%)")
end)

-- Messages ------------------------------------------------------------------------------------

test("argument errors under pcall name the function", function()
  local ok, err = pcall(net.tcp.listen, {}) -- luacheck: ignore 231 (only err is checked)
  test.matches(err, "bad argument #1 to 'net%.tcp%.listen'")
  ok, err = pcall(net.tcp.connect)
  test.matches(err, "to 'net%.tcp%.connect'")
  ok, err = pcall(net.ws.connect, 42)
  test.matches(tostring(err), "net%.ws%.connect")
  local s = net.tcp.listen(0)
  local c = net.tcp.connect("127.0.0.1", s.port)
  ok, err = pcall(c.read, c, -1)
  test.eq(err.code, "EINVAL")
  test.matches(tostring(err), "bad argument #2 to 'tcp%.conn:read' %(size must be positive%)")
  c:close()
  s:close()
  test.eq(require("net.tcp"), net.tcp)
  test.eq(require("net.ws"), net.ws)
end)
