-- iLoveReact's modules (seed 000): require("lua.network"), require("lua.http"),
-- require("lua.socks5"), require("lua.json"). The documented examples against local peers
-- (moonwire's WebSocket and TCP servers, microsocks for the proxy cases), every event type,
-- reconnect backoff on a shortened clock, lifecycle rules and bad input.
local test = require("test")
local proc = dofile("tests/support/proc.lua")

local network = require("lua.network")
local http = require("lua.http")
local socks5 = require("lua.socks5")
local json = require("lua.json")

local HAVE_SOCKS = proc.have("microsocks")
local socks_test = proc.peer_test(test, HAVE_SOCKS, "microsocks")

test.after_each(function()
  network.destroy()
  task.sleep(0.05)
  network.poll()
  http.poll()
  proc.cleanup()
end)

-- Polls (as love.update would, once per "frame") until `want` events matched pred; returns them.
local function poll_until(pred, n, what)
  local got = {}
  for _ = 1, 1000 do
    for _, ev in ipairs(network.poll()) do
      if pred(ev) then got[#got + 1] = ev end
    end
    if #got >= n then return got end
    task.sleep(0.01)
  end
  error("timed out waiting for " .. what .. " (got " .. #got .. ")", 2)
end
local function of_type(t) return function(ev) return ev.type == t end end

local function echo_server()
  local server = net.ws.listen("127.0.0.1", 0)
  proc.serve(server, function(ws)
    while true do
      local ok, m = pcall(ws.recv, ws)
      if not ok or not m or m.type == "close" then break end
      if m.data == "kick" then ws:close(4000, "kicked") else ws:send("echo:" .. m.data) end
    end
  end)
  return server, "ws://127.0.0.1:" .. server.port .. "/chat"
end

test("the module names resolve to the layers; lua.json is json", function()
  test.eq(json, require("json"))
  test.eq(json.decode(json.encode({ title = "Hello" })).title, "Hello")
  test.eq(type(network.poll), "function")
  test.eq(type(http.request), "function")
end)

test("a script's own lua/network.lua wins over the layer", function()
  local dir = proc.tmpdir()
  os.execute("mkdir -p " .. dir .. "/lua")
  proc.write_file(dir .. "/lua/network.lua", "return { mine = true }")
  local saved_path, saved = package.path, package.loaded["lua.network"]
  package.loaded["lua.network"] = nil
  package.path = dir .. "/?.lua;" .. package.path
  local ok, mod = pcall(require, "lua.network")
  package.path, package.loaded["lua.network"] = saved_path, saved
  assert(ok, mod)
  test.eq(mod.mine, true)
end)

test("Example 3: chat client — ws:open, send, ws:message, ws:close", function()
  local server, url = echo_server()
  network.init()
  network.connect(1, url)
  test.eq(network.send(1, "too early"), false) -- not open yet
  local open = poll_until(of_type("ws:open"), 1, "ws:open")
  test.eq(open[1], { type = "ws:open", id = 1 })
  test.eq(network.send(1, "Hello chat!"), true)
  local msg = poll_until(of_type("ws:message"), 1, "ws:message")
  test.eq(msg[1], { type = "ws:message", id = 1, data = "echo:Hello chat!" })
  network.close(1, 1000, "done")
  local close = poll_until(of_type("ws:close"), 1, "ws:close")
  test.eq({ close[1].id, close[1].code, close[1].retry_in }, { 1, 1000, nil })
  test.eq(network.send(1, "after"), false)
  test.eq(network.close(1), false) -- twice
  server:close()
end)

test("close before open: ws:close at once, no ws:open, no reconnect", function()
  local server, url = echo_server()
  network.connect(7, url)
  test.eq(network.close(7), true)
  local evs = network.poll()
  test.eq(evs, { { type = "ws:close", id = 7, code = 1000, reason = "" } })
  task.sleep(0.1)
  test.eq(network.poll(), {})
  server:close()
end)

test("reconnect: backoff doubles, caps, resets after a successful open", function()
  local prev_initial, prev_max = network.set_backoff()
  test.eq({ prev_initial, prev_max }, { 1, 60 }) -- the seed's schedule
  network.set_backoff(0.01, 0.04)
  local port = proc.free_port()
  local url = "ws://127.0.0.1:" .. port .. "/"
  network.connect(2, url)
  local errs = poll_until(of_type("ws:error"), 5, "five failed attempts")
  local delays = {}
  for i = 1, 5 do
    test.eq(errs[i].id, 2)
    test.matches(errs[i].error, "refused")
    delays[i] = errs[i].retry_in
  end
  test.eq(delays, { 0.01, 0.02, 0.04, 0.04, 0.04 })
  -- a server appears: the next attempt opens; when it kicks us, the backoff starts over
  local server = net.ws.listen("127.0.0.1", port)
  proc.serve(server, function(ws)
    ws:recv() -- "kick"
    ws:close(4000, "kicked")
  end)
  poll_until(of_type("ws:open"), 1, "ws:open after reconnect")
  network.send(2, "kick")
  local c = poll_until(of_type("ws:close"), 1, "ws:close")
  test.eq({ c[1].code, c[1].reason, c[1].retry_in }, { 4000, "kicked", 0.01 })
  poll_until(of_type("ws:open"), 1, "reopened")
  network.close(2)
  server:close()
  network.set_backoff(prev_initial, prev_max)
end)

test("reconnect = false: one attempt, no retries", function()
  local port = proc.free_port()
  network.set_backoff(0.01, 0.01)
  network.connect(3, "ws://127.0.0.1:" .. port .. "/", { reconnect = false })
  local e = poll_until(of_type("ws:error"), 1, "ws:error")
  test.eq(e[1].retry_in, nil)
  task.sleep(0.1)
  test.eq(network.poll(), {})
  network.set_backoff(1, 60)
end)

test("Examples 5 and 6: host and client — server events, broadcast, sendToClient", function()
  network.listen("game", 0, "127.0.0.1")
  local ready = poll_until(of_type("ws:server:ready"), 1, "ws:server:ready")[1]
  test.eq(ready.serverId, "game")
  assert(ready.port > 0)
  network.connect(10, "ws://127.0.0.1:" .. ready.port .. "/game")
  network.connect(11, "ws://127.0.0.1:" .. ready.port .. "/game")
  local peers, opens = {}, 0
  local evs = poll_until(function(ev) return ev.type == "ws:peer:connect" or ev.type == "ws:open" end, 4, "connects")
  for _, ev in ipairs(evs) do
    if ev.type == "ws:peer:connect" then
      test.eq(ev.serverId, "game")
      peers[#peers + 1] = ev.clientId
    else
      opens = opens + 1
    end
  end
  table.sort(peers)
  test.eq(peers, { 1, 2 }) -- auto-assigned 1, 2, ...
  test.eq(opens, 2)
  network.send(10, json.encode({ x = 100, y = 200 }))
  local pm = poll_until(of_type("ws:peer:message"), 1, "ws:peer:message")[1]
  test.eq(json.decode(pm.data), { x = 100, y = 200 })
  test.eq(pm.serverId, "game")
  test.eq(network.broadcast("game", "state"), 2)
  local got = poll_until(of_type("ws:message"), 2, "broadcast")
  test.eq({ got[1].data, got[2].data }, { "state", "state" })
  test.eq(network.sendToClient("game", pm.clientId, "You were hit!"), true)
  test.eq(poll_until(of_type("ws:message"), 1, "direct")[1].data, "You were hit!")
  test.eq(network.sendToClient("game", 99, "nobody"), false)
  -- a client leaves: ws:peer:disconnect with its code and reason
  network.close(11, 4001, "gotta go")
  local d = poll_until(of_type("ws:peer:disconnect"), 1, "peer:disconnect")[1]
  test.eq({ d.code, d.reason }, { 4001, "gotta go" })
  -- stopServer with a client still connected: it is disconnected (1001)
  test.eq(network.stopServer("game"), true)
  local d2 = poll_until(of_type("ws:peer:disconnect"), 1, "stopServer disconnect")[1]
  test.eq(d2.code, 1001)
  test.eq(network.stopServer("game"), false)
  test.eq(network.broadcast("game", "gone"), 0)
end)

test("listen on a busy port reports ws:error; destroy ends everything", function()
  local taken = net.tcp.listen("127.0.0.1", 0)
  test.eq(network.listen("busy", taken.port), false)
  local e = poll_until(of_type("ws:error"), 1, "ws:error")[1]
  test.eq(e.serverId, "busy")
  test.matches(e.error, "in use")
  taken:close()
  local server, url = echo_server()
  network.connect(20, url)
  poll_until(of_type("ws:open"), 1, "ws:open")
  network.listen("s", 0)
  network.destroy()
  local closes = poll_until(of_type("ws:close"), 1, "ws:close")
  test.eq(closes[1].id, 20)
  task.sleep(0.1)
  for _, ev in ipairs(network.poll()) do assert(ev.type ~= "ws:open", "reconnected after destroy") end
  server:close()
end)

test("network: bad input", function()
  test.raises(function() network.connect(1, 5) end, "string expected")
  test.raises(function() network.connect(1, "http://x/") end, "ws:// or wss://")
  test.raises(function() network.connect(1, "ws://x/", { reconect = false }) end, "did you mean 'reconnect'")
  test.raises(function() network.connect(1, "ws://x/", { proxy = "nonsense" }) end, "host:port")
  test.raises(function() network.connect(1, "ws://x/", { reconnect = "yes" }) end, "boolean")
  test.raises(function() network.close(1, 1005) end, "close code")
  test.raises(function() network.close(1, 1000, string.rep("r", 200)) end, "123 bytes")
  test.raises(function() network.send(1, nil) end, "string expected")
  test.raises(function() network.listen("x", -5) end, "EINVAL")
  test.raises(function() network.listen("x", 0 / 0) end, "EINVAL")
  test.raises(function() network.set_backoff(0, 1) end, "positive")
  test.raises(function() network.set_backoff(2, 1) end, ">= initial")
end)

-- HTTP ---------------------------------------------------------------------------------------

-- Responds "<METHOD> <target> accept=<accept> body=<body>"; /slow waits until `release` is set.
local release = false
local function http_server()
  local server = net.tcp.listen("127.0.0.1", 0)
  proc.serve(server, function(c)
    local line = c:read_line()
    if not line then return c:close() end
    local method, target = line:match("^(%S+) (%S+)")
    local h = {}
    while true do
      local l = c:read_line()
      if not l or l == "" then break end
      local k, v = l:match("^([^:]+):%s*(.*)$")
      h[k:lower()] = v
    end
    local body = ""
    if tonumber(h["content-length"] or "0") > 0 then body = c:read(tonumber(h["content-length"])) end
    while target == "/slow" and not release do task.sleep(0.01) end
    local out = string.format("%s %s accept=%s body=%s", method, target, h.accept or "-", body)
    c:write("HTTP/1.1 201 Created\r\nX-Reply: yes\r\nConnection: close\r\nContent-Length: " .. #out .. "\r\n\r\n" .. out)
    c:close()
  end)
  return server, "http://127.0.0.1:" .. server.port
end

local function http_wait(n)
  local got = {}
  for _ = 1, 1000 do
    for _, r in ipairs(http.poll()) do got[#got + 1] = r end
    if #got >= n then return got end
    task.sleep(0.01)
  end
  error("timed out waiting for HTTP responses", 2)
end

test("Examples 1 and 2: GET with headers, POST with a JSON body", function()
  local server, base = http_server()
  http.init()
  test.eq(http.request("get-json", { url = base .. "/users/octocat", method = "GET",
    headers = { Accept = "application/json" } }), true)
  http.request("create-post", { url = base .. "/posts", method = "POST",
    headers = { ["Content-Type"] = "application/json" }, body = json.encode({ title = "Hello" }) })
  local got = http_wait(2)
  table.sort(got, function(a, b) return a.id < b.id end)
  test.eq(got[1].id, "create-post")
  test.eq(got[1].status, 201)
  test.eq(got[1].body, 'POST /posts accept=*/* body={"title":"Hello"}')
  test.eq(got[2].id, "get-json")
  test.eq(got[2].body, "GET /users/octocat accept=application/json body=")
  test.eq(got[2].headers["x-reply"], "yes")
  test.eq(got[2].error, nil)
  server:close()
end)

test("at most 4 requests in flight, the rest queued in order; init{max_workers}", function()
  local server, base = http_server()
  release = false
  for i = 1, 6 do http.request(i, { url = base .. "/slow" }) end
  local running, queued = http.pending()
  test.eq({ running, queued }, { 4, 2 })
  release = true
  local got = http_wait(6)
  test.eq(#got, 6)
  test.eq({ http.pending() }, { 0, 0 })
  http.init({ max_workers = 1 })
  release = false
  for i = 1, 3 do http.request(i, { url = base .. "/slow" }) end
  test.eq({ http.pending() }, { 1, 2 })
  release = true
  http_wait(3)
  http.init({ max_workers = 4 })
  server:close()
end)

test("a refused connection: status 0 and error", function()
  http.request("x", { url = "http://127.0.0.1:" .. proc.free_port() .. "/" })
  local r = http_wait(1)[1]
  test.eq({ r.id, r.status, r.body }, { "x", 0, "" })
  test.matches(r.error, "refused")
end)

test("http: bad input", function()
  test.raises(function() http.request({}, { url = "http://x/" }) end, "id expected")
  test.raises(function() http.request("a", "http://x/") end, "table expected")
  test.raises(function() http.request("a", {}) end, "url")
  test.raises(function() http.request("a", { url = "http://x/", metod = "GET" }) end, "did you mean 'method'")
  test.raises(function() http.request("a", { url = "http://x/", method = "BREW" }) end, "method must be")
  test.raises(function() http.init({ max_workers = 0 }) end, "1..1024")
  test.raises(function() http.init({ max_worker = 2 }) end, "did you mean 'max_workers'")
end)

-- Proxies ------------------------------------------------------------------------------------

local function start_microsocks(user, pass)
  local port = proc.free_port()
  local cmd = "microsocks -i 127.0.0.1 -p " .. port
  if user then cmd = cmd .. " -u " .. user .. " -P " .. pass end
  local h = proc.start(cmd)
  proc.wait_port(port)
  return port, h
end

socks_test("Example 4: HTTP through socks5:// (with credentials) and ALL_PROXY", function()
  local server, base = http_server()
  local port, h = start_microsocks("alice", "s3cret")
  http.request("tor-check", { url = base .. "/ip", proxy = "socks5://alice:s3cret@127.0.0.1:" .. port })
  local r = http_wait(1)[1]
  test.eq(r.body, "GET /ip accept=*/* body=")
  test.matches(h:output(), "127.0.0.1")  -- the proxy logged the connection
  local plain = start_microsocks()
  local saved, saved_no, saved_no_lc = os.getenv("ALL_PROXY"), os.getenv("NO_PROXY"), os.getenv("no_proxy")
  process.env.ALL_PROXY = "socks5://127.0.0.1:" .. plain
  process.env.NO_PROXY = nil
  process.env.no_proxy = nil
  http.request("env", { url = base .. "/env" })
  local r2 = http_wait(1)[1]
  process.env.ALL_PROXY, process.env.NO_PROXY, process.env.no_proxy = saved, saved_no, saved_no_lc
  test.eq(r2.body, "GET /env accept=*/* body=")
  server:close()
end)

socks_test("network.connect through a \"host:port\" SOCKS5 proxy; socks5.connect", function()
  local server, url = echo_server()
  local port, h = start_microsocks() -- luacheck: ignore 211 (h: kept alive until the test ends)
  network.connect(30, url, { proxy = "127.0.0.1:" .. port })
  poll_until(of_type("ws:open"), 1, "ws:open via proxy")
  network.send(30, "tunnelled")
  test.eq(poll_until(of_type("ws:message"), 1, "echo")[1].data, "echo:tunnelled")
  network.close(30)
  -- the low-level call: a TCP connection to the WebSocket server through the proxy
  local conn = socks5.connect("127.0.0.1", port, "127.0.0.1", server.port)
  conn:write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
  test.matches(conn:read_line(), "^HTTP/1.1 %d%d%d")
  conn:close()
  local auth_port = start_microsocks("bob", "pw")
  local none, err = socks5.connect("127.0.0.1", auth_port, "127.0.0.1", server.port, "bob", "wrong")
  test.eq(none, nil)
  test.eq(type(err), "string")
  local refused, err2 = socks5.connect("127.0.0.1", proc.free_port(), "127.0.0.1", 1)
  test.eq(refused, nil)
  test.matches(err2, "refused")
  test.raises(function() socks5.connect("127.0.0.1", -1, "x", 1) end, "EINVAL")
  test.raises(function() socks5.connect(nil, 1, "x", 1) end, "string expected")
  server:close()
end)
