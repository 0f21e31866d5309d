-- HOOZi's net API (seeds 002/004) through the colon-call facade: net.http:get/post/request,
-- net.ws:connect/send/close/is_open, net.ws_server:listen. Peers: an in-process HTTP responder
-- (net.tcp), moonwire's own WebSocket server and client, all on 127.0.0.1.
local test = require("test")
local proc = dofile("tests/support/proc.lua")

test.after_each(function() proc.cleanup() end)

-- Waits (bounded) until cond() is true; the loop keeps other tasks running.
local function wait_for(cond, what)
  for _ = 1, 500 do
    if cond() then return end
    task.sleep(0.01)
  end
  error("timed out waiting for " .. what, 2)
end

-- HTTP responder: answers "<METHOD> <target> ct=<content-type> auth=<authorization> body=<body>".
local function http_server()
  local server = net.tcp.listen("127.0.0.1", 0)
  proc.serve(server, function(c)
    while true do
      local okl, line = pcall(c.read_line, c)
      if not okl or not line then break end
      local method, target = line:match("^(%S+) (%S+)")
      local h = {}
      while true do
        local l = c:read_line()
        if not l or l == "" then break end
        local k, v = l:match("^([^:]+):%s*(.*)$")
        h[k:lower()] = v
      end
      local body = ""
      local n = tonumber(h["content-length"] or "0")
      if n > 0 then body = c:read(n) end
      if target == "/slow" then task.sleep(30) end
      local status = target == "/missing" and "404 Not Found" or "200 OK"
      local out = string.format("%s %s ct=%s auth=%s body=%s", method, target, h["content-type"] or "-",
        h["authorization"] or "-", body)
      if method == "HEAD" then out = "" end
      c:write("HTTP/1.1 " .. status .. "\r\nContent-Length: " .. #out .. "\r\n\r\n" .. out)
    end
    c:close()
  end)
  return server, "http://127.0.0.1:" .. server.port
end

-- Runs fn(done) where the HOOZi call hands its resp to done; returns that resp.
local function await(start)
  local ch = task.channel(1)
  start(function(resp) ch:send(resp) end)
  return ch:recv(10)
end

test("net.http:get(url, callback, timeout) and the dot call stay different", function()
  local server, base = http_server()
  local ticks, ticking = 0, true
  task.spawn(function() while ticking do ticks = ticks + 1 task.sleep(0.005) end end)
  local returned = false
  local resp = await(function(done)
    net.http:get(base .. "/a", function(r) done(r) end, 3)
    returned = true -- get returned before the response came
  end)
  ticking = false
  assert(returned)
  test.eq(resp.status, 200)
  test.eq(resp.ok, true)
  test.eq(resp.body, "GET /a ct=- auth=- body=")
  test.eq(resp.error, nil)
  -- CopperMoon's dot call: waits and returns the response
  local r = net.http.get(base .. "/b")
  test.eq(r.body, "GET /b ct=- auth=- body=")
  server:close()
end)

test("net.http:get(url, options, callback): headers, timeout in seconds", function()
  local server, base = http_server()
  local resp = await(function(done)
    net.http:get(base .. "/me", { headers = { Authorization = "Bearer t0k" }, timeout = 5 }, done)
  end)
  test.eq(resp.body, "GET /me ct=- auth=Bearer t0k body=")
  local slow = await(function(done) net.http:get(base .. "/slow", { timeout = 0.2 }, done) end)
  test.eq(slow.status, 0)
  test.eq(slow.ok, false)
  test.matches(slow.error, "time")
  server:close()
end)

test("net.http:post legacy and options signatures, request(url, method, options, cb)", function()
  local server, base = http_server()
  local r1 = await(function(done)
    net.http:post(base .. "/log", [[{"event":"hello"}]], "application/json", done, 5)
  end)
  test.eq(r1.body, 'POST /log ct=application/json auth=- body={"event":"hello"}')
  local r2 = await(function(done)
    net.http:post(base .. "/log", { headers = { Authorization = "Bearer x" }, body = "b=1",
      content_type = "application/x-www-form-urlencoded" }, done)
  end)
  test.eq(r2.body, "POST /log ct=application/x-www-form-urlencoded auth=Bearer x body=b=1")
  local r3 = await(function(done)
    net.http:request(base .. "/item/42", "DELETE", { headers = { Authorization = "Bearer y" } }, done)
  end)
  test.eq(r3.body, "DELETE /item/42 ct=- auth=Bearer y body=")
  test.eq(r3.ok, true)
  local r4 = await(function(done) net.http:request(base .. "/missing", "PUT", { body = "z" }, done) end)
  test.eq(r4.status, 404)
  test.eq(r4.ok, false)
  test.eq(r4.error, "HTTP 404")
  server:close()
end)

test("net.http:get save_to_file streams to the file", function()
  local server, base = http_server()
  local path = proc.tmpdir() .. "/out.txt"
  local r = await(function(done) net.http:get(base .. "/big", { save_to_file = path, timeout = 60 }, done) end)
  test.eq(r.status, 200)
  test.eq(r.body, "")
  test.eq(fs.read(path), "GET /big ct=- auth=- body=")
  server:close()
end)

test("net.http: a refused connection gives status 0 and an error", function()
  local port = proc.free_port()
  local r = await(function(done) net.http:get("http://127.0.0.1:" .. port .. "/", done, 2) end)
  test.eq(r.status, 0)
  test.eq(r.ok, false)
  test.matches(r.error, "refused")
end)

-- WebSocket client ---------------------------------------------------------------------------

local function echo_server()
  local server = net.ws.listen("127.0.0.1", 0)
  proc.serve(server, function(ws)
    while true do
      local m = ws:recv()
      if not m or m.type == "close" then break end
      if m.data == "close-me" then ws:close(4001, "asked") else ws:send(m.data) end
    end
  end)
  return server, "ws://127.0.0.1:" .. server.port .. "/"
end

test("net.ws:connect: on_open, send, on_message, close, on_close; is_open", function()
  local server, url = echo_server()
  local log = {}
  local id
  id = net.ws:connect(url, {
    on_open = function(i) log[#log + 1] = "open " .. i; net.ws:send(i, "hi") end,
    on_message = function(i, msg) log[#log + 1] = "msg " .. msg; net.ws:close(i) end,
    on_error = function(i, err) log[#log + 1] = "err " .. err end,
    on_close = function(i, code, reason) log[#log + 1] = "close " .. code .. " " .. reason end,
  })
  test.eq(math.type(id), "integer")
  test.eq(net.ws:send(id, "too early"), false) -- before open
  test.eq(net.ws:is_open(id), false)
  wait_for(function() return #log >= 3 end, "close")
  test.eq(log, { "open " .. id, "msg hi", "close 1000 " })
  test.eq(net.ws:is_open(id), false)
  test.eq(net.ws:send(id, "late"), false) -- after close
  net.ws:close(id) -- twice: nothing happens
  server:close()
end)

test("net.ws:connect: the server closes with a code and reason", function()
  local server, url = echo_server()
  local got
  local id = net.ws:connect(url, {
    on_open = function(i) test.eq(net.ws:is_open(i), true); net.ws:send(i, "close-me") end,
    on_close = function(_, code, reason) got = { code, reason } end,
  })
  wait_for(function() return got end, "on_close")
  test.eq(got, { 4001, "asked" })
  test.eq(net.ws:is_open(id), false)
  server:close()
end)

test("net.ws:close during connect abandons the attempt without callbacks", function()
  local server, url = echo_server()
  local called = false
  local cb = function() called = true end
  local id = net.ws:connect(url, { on_open = cb, on_close = cb, on_error = cb })
  net.ws:close(id)
  net.ws:close(id)
  task.sleep(0.1)
  test.eq(called, false)
  test.eq(require("compat.hoozi_ws")._count(), 0)
  server:close()
end)

test("net.ws:connect failures in a loop leave nothing behind (connections, fds)", function()
  local port = proc.free_port()
  local function fds()
    local stat = assert(io.open("/proc/self/stat"))
    local pid = stat:read("l"):match("^%d+")
    stat:close()
    local p = io.popen("ls /proc/" .. pid .. "/fd | wc -l")
    local n = tonumber(p:read("l"))
    p:close()
    return n
  end
  local errors = 0
  local function round(n)
    for _ = 1, n do
      net.ws:connect("ws://127.0.0.1:" .. port .. "/", { on_error = function(_, err)
        assert(tostring(err):find("refused"), err)
        errors = errors + 1
      end })
    end
  end
  round(20)
  wait_for(function() return errors == 20 end, "20 errors")
  collectgarbage()
  local before_fds, before_mem = fds(), collectgarbage("count")
  round(200)
  wait_for(function() return errors == 220 end, "220 errors")
  collectgarbage()
  collectgarbage()
  test.eq(require("compat.hoozi_ws")._count(), 0)
  -- Not more than before (descriptors of earlier tests may still be closing then: fewer is fine).
  local after_fds = fds()
  assert(after_fds <= before_fds, ("descriptors grew from %d to %d"):format(before_fds, after_fds))
  assert(collectgarbage("count") < before_mem + 256, "memory grew by " .. (collectgarbage("count") - before_mem) .. " KiB")
end)

test("net.ws: bad input", function()
  test.raises(function() net.ws:connect(42, {}) end, "URL string expected")
  test.raises(function() net.ws:connect("ws://127.0.0.1:1/", { on_mesage = print }) end, "did you mean 'on_message'")
  test.raises(function() net.ws:connect("ws://127.0.0.1:1/", { on_open = 1 }) end, "must be a function")
  test.raises(function() net.ws:send("x", "m") end, "connection id")
  test.raises(function() net.ws:send(1, nil) end, "string expected")
  test.raises(function() net.ws.send(1, "m") end, "EINVAL")
  test.raises(function() net.ws.is_open(1) end, "call it with a colon")
  test.eq(net.ws:send(999999, "m"), false)
  test.eq(net.ws:is_open(999999), false)
end)

-- WebSocket server ---------------------------------------------------------------------------

test("net.ws_server:listen: open, message, send, broadcast, disconnect, close", function()
  local log, clients = {}, {}
  local srv = net.ws_server:listen(0, {
    on_open = function(c) log[#log + 1] = "open"; clients[#clients + 1] = c end,
    on_message = function(c, msg) log[#log + 1] = "msg " .. msg end,
    on_close = function(c, code, reason) log[#log + 1] = "close " .. code end,
  })
  assert(srv, "listen failed")
  test.eq(math.type(srv.id), "integer")
  test.raises(function() srv.id = 5 end, "read-only")
  test.eq(srv:is_open(), true)
  local url = "ws://127.0.0.1:" .. srv:port() .. "/"
  local a = net.ws.connect(url)
  local b = net.ws.connect(url)
  wait_for(function() return srv:client_count() == 2 end, "two clients")
  a:send("from a")
  a:send("\0bin", "binary")
  wait_for(function() return #log >= 4 end, "messages")
  test.eq(log[3], "msg from a")
  test.eq(log[4], "msg \0bin")
  a:ping("p") -- answered by the runtime, no callback
  test.eq(a:recv(), { type = "pong", data = "p" })
  srv:broadcast("to all")
  test.eq(a:recv(), { type = "text", data = "to all" })
  test.eq(b:recv(), { type = "text", data = "to all" })
  -- the client ids are the ones on_open got: send to each
  test.eq(#clients, 2)
  for _, cid in ipairs(clients) do test.eq(srv:send(cid, "direct"), true) end
  test.eq(a:recv().data, "direct")
  test.eq(b:recv().data, "direct")
  test.eq(srv:send(987654, "nobody"), false)
  -- disconnect one with a code and reason
  srv:disconnect(clients[1], 4000, "bye")
  local first = clients[1] < clients[2] and a or b -- ids in connection order
  local m = first:recv()
  test.eq({ m.type, m.code, m.reason }, { "close", 4000, "bye" })
  wait_for(function() return srv:client_count() == 1 end, "one left")
  test.eq(log[#log], "close 4000")
  srv:close()
  srv:close() -- idempotent
  test.eq(srv:is_open(), false)
  local other = first == a and b or a
  test.eq(other:recv().type, "close")
  wait_for(function() return srv:client_count() == 0 end, "clients gone")
  test.eq(srv:broadcast("after"), nil)
end)

test("net.ws_server:listen: a busy port gives nil", function()
  local taken = net.tcp.listen("127.0.0.1", 0)
  local srv, err = net.ws_server:listen(taken.port, {})
  test.eq(srv, nil)
  test.eq(err.code, "EADDRINUSE")
  taken:close()
end)

test("net.ws_server: bad input", function()
  test.raises(function() net.ws_server:listen(-1, {}) end, "EINVAL")
  test.raises(function() net.ws_server:listen(70000, {}) end, "0..65535")
  test.raises(function() net.ws_server:listen(1.5, {}) end, "EINVAL")
  test.raises(function() net.ws_server:listen("80", {}) end, "integer port expected")
  test.raises(function() net.ws_server:listen(0, { on_clsoe = print }) end, "did you mean 'on_close'")
  test.raises(function() net.ws_server.listen(0, {}) end, "call it with a colon")
  local srv = net.ws_server:listen(0, {})
  test.raises(function() srv:send("x", "m") end, "client id")
  test.raises(function() srv:disconnect(1, 1005) end, "invalid close code")
  test.raises(function() srv.send(nil, 1, "m") end, "WsServer")
  srv:close()
end)

test("a callback that raises is reported on stderr; the other callbacks go on", function()
  local dir = proc.tmpdir()
  local script = dir .. "/cb.lua"
  proc.write_file(script, [[
    local srv = net.ws_server:listen(0, {
      on_message = function(c, msg)
        if msg == "boom" then error("callback exploded") end
        print("got " .. msg)
      end,
    })
    local ws = net.ws.connect("ws://127.0.0.1:" .. srv:port() .. "/")
    ws:send("one") ws:send("boom") ws:send("two")
    for _ = 1, 200 do task.sleep(0.01) end
    srv:close()
  ]])
  local exe = io.popen("readlink /proc/" .. io.open("/proc/self/stat"):read("l"):match("^%d+") .. "/exe"):read("l")
  local ok = os.execute(exe .. " " .. script .. " > " .. dir .. "/out 2> " .. dir .. "/err")
  test.eq(ok, nil) -- exit code 1: an uncaught task failure
  test.eq(fs.read(dir .. "/out"), "got one\ngot two\n")
  test.matches(fs.read(dir .. "/err"), "callback exploded")
end)
