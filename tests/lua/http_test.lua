-- net.http client against small HTTP servers written with net.tcp inside the test (well-formed
-- and deliberately broken ones). nginx, HTTPS and proxies are in tests/interop/.
local test = require("test")

-- A raw HTTP/1.1 server: `handler(req, conn)` writes the whole response itself and returns
-- false to close the connection. req = {method, target, headers (lower-case), body}.
-- Returns {port, close()} (close also closes every accepted connection) and stats.
local function serve(handler)
  local server = net.tcp.listen("127.0.0.1", 0)
  local stats = { conns = 0, requests = 0 }
  local open = {}
  local handle = { port = server.port } -- luacheck: ignore 241 (returned below)
  function handle:close()
    server:close()
    for c in pairs(open) do c:close() end
  end
  task.spawn(function()
    while true do
      local ok, c = pcall(server.accept, server)
      if not ok then return end
      stats.conns = stats.conns + 1
      open[c] = true
      task.spawn(function()
        while true do
          local okl, line = pcall(c.read_line, c)
          if not okl or not line then break end
          local method, target = line:match("^(%S+) (%S+) HTTP/1%.%d$")
          local headers, raw = {}, {}
          while true do
            local l = c:read_line()
            if l == nil or l == "" then break end
            local k, v = l:match("^([^:]+):%s*(.-)%s*$")
            raw[#raw + 1] = { k, v }
            k = k:lower()
            headers[k] = headers[k] and (headers[k] .. ", " .. v) or v
          end
          local body = ""
          if headers["content-length"] then
            body = c:read_exactly(tonumber(headers["content-length"]))
          elseif (headers["transfer-encoding"] or ""):find("chunked") then
            local parts = {}
            while true do
              local sl = c:read_line()
              if not sl then c:close() return end -- the client gave up mid-body
              local size = tonumber(sl:match("^%x+"), 16)
              if size == 0 then c:read_line() break end
              parts[#parts + 1] = c:read_exactly(size)
              c:read_line()
            end
            body = table.concat(parts)
          end
          stats.requests = stats.requests + 1
          local okh, keep = pcall(handler, { method = method, target = target, headers = headers, raw = raw, body = body }, c)
          if not okh or keep == false then break end
        end
        open[c] = nil
        c:close()
      end)
    end
  end)
  return server, stats
end

local function respond(c, status, headers, body)
  body = body or ""
  local out = { "HTTP/1.1 " .. status .. "\r\n" }
  local has_len = false
  for _, h in ipairs(headers or {}) do
    out[#out + 1] = h[1] .. ": " .. h[2] .. "\r\n"
    if h[1]:lower() == "content-length" or h[1]:lower() == "transfer-encoding" then has_len = true end
  end
  if not has_len then out[#out + 1] = "Content-Length: " .. #body .. "\r\n" end
  out[#out + 1] = "\r\n"
  out[#out + 1] = body
  c:write(table.concat(out))
end

-- Echo server: the response body is a JSON description of the request.
local function echo_server()
  return serve(function(req, c)
    respond(c, "200 OK", { { "Content-Type", "application/json" } },
      json.encode({ method = req.method, target = req.target, headers = req.headers, body = req.body }))
  end)
end

local function base(server, host) return "http://" .. (host or "127.0.0.1") .. ":" .. server.port end

test("http is net.http and require-able", function()
  test.eq(rawequal(http, net.http), true)
  test.eq(rawequal(require("http"), net.http), true)
end)

test("GET: status, ok, url, lower-case headers, body", function()
  local s = echo_server()
  local r = http.get(base(s) .. "/path?a=1")
  test.eq(r.status, 200)
  test.eq(r.status_text, "OK")
  test.eq(r.ok, true)
  test.eq(r.url, base(s) .. "/path?a=1")
  test.eq(r.headers["content-type"], "application/json")
  local req = json.decode(r.body)
  test.eq(req.method, "GET")
  test.eq(req.target, "/path?a=1")
  test.eq(req.headers.host, "127.0.0.1:" .. s.port)
  assert(req.headers["user-agent"]:find("moonwire"))
  test.eq(req.headers["accept-encoding"], "gzip, deflate")
  s:close()
end)

test("every method, with and without bodies", function()
  local s = echo_server()
  local u = base(s) .. "/m"
  test.eq(json.decode(http.post(u, "p-body").body).body, "p-body")
  test.eq(json.decode(http.put(u, "u-body").body).method, "PUT")
  local pr = json.decode(http.patch(u, "x", { headers = { ["Content-Type"] = "text/plain" } }).body)
  test.eq(pr.method, "PATCH")
  test.eq(pr.headers["content-type"], "text/plain")
  test.eq(json.decode(http.delete(u).body).method, "DELETE")
  test.eq(json.decode(http.options(u).body).method, "OPTIONS")
  local h = http.head(u)
  test.eq(h.status, 200)
  test.eq(h.body, "")
  local r = http.request({ url = u, method = "propfind", body = "b" })
  test.eq(json.decode(r.body).method, "PROPFIND")
  test.eq(json.decode(http.request(u, { method = "GET" }).body).method, "GET")
  local empty = json.decode(http.post(u, nil).body)
  test.eq(empty.headers["content-length"], "0")
  s:close()
end)

test("json, query and headers options", function()
  local s = echo_server()
  local r = http.post(base(s) .. "/j?x=1", nil, {
    json = { name = "moon", list = { 1, 2 } },
    query = { q = "a b&c=d/é", n = 5, flag = true, multi = { "1", "2" } },
    headers = { ["X-Trace"] = "abc", ["X-Num"] = 42, ["X-List"] = { "a", "b" } },
  })
  local req = json.decode(r.body)
  test.eq(json.decode(req.body), { name = "moon", list = { 1, 2 } })
  test.eq(req.headers["content-type"], "application/json")
  -- keys sorted; "=" may stay literal inside a value (the first "=" splits key and value)
  test.eq(req.target, "/j?x=1&flag=true&multi=1&multi=2&n=5&q=a%20b%26c=d/%C3%A9")
  test.eq(req.headers["x-trace"], "abc")
  test.eq(req.headers["x-num"], "42")
  test.eq(req.headers["x-list"], "a, b")
  -- post(url, opts)
  local r2 = json.decode(http.post(base(s), { body = "from opts" }).body)
  test.eq(r2.body, "from opts")
  s:close()
end)

test("binary-safe bodies both ways", function()
  local s = serve(function(req, c) respond(c, "200 OK", {}, req.body) end)
  local t = {}
  for i = 0, 255 do t[#t + 1] = string.char(i) end
  local blob = table.concat(t):rep(4096) -- 1 MiB with NULs
  local r = http.post(base(s), blob)
  test.eq(#r.body, #blob)
  test.eq(r.body == blob, true)
  s:close()
end)

test("non-2xx is not an error; repeated headers joined; set-cookie is a list", function()
  local s = serve(function(req, c)
    respond(c, "404 Not Found", {
      { "X-Multi", "a" }, { "X-Multi", "b" },
      { "Set-Cookie", "a=1; Path=/" }, { "Set-Cookie", "b=2, with comma" },
    }, "missing")
  end)
  local r = http.get(base(s))
  test.eq(r.status, 404)
  test.eq(r.ok, false)
  test.eq(r.status_text, "Not Found")
  test.eq(r.body, "missing")
  test.eq(r.headers["x-multi"], "a, b")
  test.eq(r.headers["set-cookie"], { "a=1; Path=/", "b=2, with comma" })
  s:close()
end)

test("keep-alive: sequential requests reuse one connection", function()
  local s, stats = echo_server()
  for _ = 1, 5 do test.eq(http.get(base(s) .. "/ka").status, 200) end
  test.eq(stats.requests, 5)
  test.eq(stats.conns, 1)
  -- keepalive = false: Connection: close, and the connection is not pooled afterwards (the
  -- first one may still reuse the idle pooled connection)
  http.get(base(s), { keepalive = false })
  http.get(base(s), { keepalive = false })
  test.eq(stats.conns, 2)
  s:close()
end)

test("a pooled connection closed by the server is retried transparently", function()
  local s, stats = serve(function(req, c)
    respond(c, "200 OK", {}, "once")
    return false -- close after each response, without saying so
  end)
  test.eq(http.get(base(s)).body, "once")
  task.sleep(0.05)
  test.eq(http.get(base(s)).body, "once")
  test.eq(stats.conns, 2)
  s:close()
end)

test("a connection whose body was not fully read is never reused", function()
  -- Connection: close responses and errors close; here the body ends at EOF.
  local s, stats = serve(function(req, c)
    c:write("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil eof")
    return false
  end)
  test.eq(http.get(base(s)).body, "until eof")
  test.eq(http.get(base(s)).body, "until eof")
  test.eq(stats.conns, 2)
  s:close()
end)

test("chunked responses", function()
  local s = serve(function(req, c)
    c:write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\nX-Trailer: t\r\n\r\n")
  end)
  local r = http.get(base(s))
  test.eq(r.body, "hello world!")
  test.eq(http.get(base(s)).body, "hello world!") -- same connection, parsed cleanly
  s:close()
end)

test("redirects: 301/302 POST becomes GET, 303 GET, 307/308 keep method and body", function()
  local s
  s = serve(function(req, c)
    local code = req.target:match("^/r(%d+)")
    if code then
      respond(c, code .. " Moved", { { "Location", "/final" } })
    else
      respond(c, "200 OK", {}, req.method .. ":" .. req.body)
    end
  end)
  test.eq(http.post(base(s) .. "/r301", "data").body, "GET:")
  test.eq(http.post(base(s) .. "/r302", "data").body, "GET:")
  test.eq(http.put(base(s) .. "/r303", "data").body, "GET:")
  test.eq(http.post(base(s) .. "/r307", "data").body, "POST:data")
  local r = http.put(base(s) .. "/r308", "data")
  test.eq(r.body, "PUT:data")
  test.eq(r.url, base(s) .. "/final")
  test.eq(r.redirects, 1)
  -- redirects = 0: the 3xx itself
  local r0 = http.get(base(s) .. "/r302", { redirects = 0 })
  test.eq(r0.status, 302)
  test.eq(r0.headers.location, "/final")
  s:close()
end)

test("redirect loops end with ETOOMANYREDIRECTS", function()
  local s = serve(function(req, c) respond(c, "302 Found", { { "Location", req.target == "/a" and "/b" or "/a" } }) end)
  test.raises(function() http.get(base(s) .. "/a") end, "ETOOMANYREDIRECTS")
  test.raises(function() http.get(base(s) .. "/a", { redirects = 3 }) end, "more than 3")
  s:close()
end)

test("Authorization and Cookie are not sent to another host", function()
  local target = echo_server()
  local s = serve(function(req, c)
    local where = req.target == "/same" and "/echo" or ("http://localhost:" .. target.port .. "/echo")
    respond(c, "302 Found", { { "Location", where } })
  end)
  local hdrs = { Authorization = "Bearer secret", Cookie = "sid=1", ["X-Keep"] = "yes" }
  local other = json.decode(http.get(base(s) .. "/other", { headers = hdrs }).body)
  test.eq(other.headers.authorization, nil)
  test.eq(other.headers.cookie, nil)
  test.eq(other.headers["x-keep"], "yes")
  test.eq(other.headers.host, "localhost:" .. target.port)
  s:close()
  target:close()
end)

test("gzip and deflate bodies are decompressed (unless decompress = false)", function()
  local text = ("moonwire gzip test line\n"):rep(2000)
  local dir = io.popen("mktemp -d"):read("l")
  local f = io.open(dir .. "/plain", "wb")
  f:write(text)
  f:close()
  os.execute("gzip -9 -c " .. dir .. "/plain > " .. dir .. "/plain.gz")
  local gz = io.open(dir .. "/plain.gz", "rb"):read("a")
  local zl = io.popen("python3 -c 'import sys,zlib; sys.stdout.buffer.write(zlib.compress(open(\"" .. dir ..
    "/plain\",\"rb\").read()))'"):read("a")
  os.execute("rm -rf " .. dir)
  local s = serve(function(req, c)
    if req.target == "/gz" then
      respond(c, "200 OK", { { "Content-Encoding", "gzip" } }, gz)
    elseif req.target == "/zlib" then
      respond(c, "200 OK", { { "Content-Encoding", "deflate" } }, zl)
    else
      respond(c, "200 OK", { { "Content-Encoding", "gzip" } }, gz:sub(1, #gz - 20))
    end
  end)
  test.eq(http.get(base(s) .. "/gz").body, text)
  if #zl > 0 then test.eq(http.get(base(s) .. "/zlib").body, text) end
  local raw = http.get(base(s) .. "/gz", { decompress = false })
  test.eq(raw.body, gz)
  test.raises(function() http.get(base(s) .. "/broken") end, "EPROTO")
  s:close()
end)

test("save_to_file streams to disk with on_progress", function()
  local payload = ("0123456789abcdef"):rep(64 * 1024) -- 1 MiB
  local s = serve(function(req, c) respond(c, "200 OK", {}, payload) end)
  local path = os.tmpname()
  local calls, last, total = 0, 0, nil
  local r = http.get(base(s), {
    save_to_file = path,
    on_progress = function(received, t)
      calls = calls + 1
      assert(received >= last)
      last, total = received, t
    end,
  })
  test.eq(r.body, nil)
  test.eq(r.file, path)
  assert(calls >= 1)
  test.eq(last, #payload)
  test.eq(total, #payload)
  local f = io.open(path, "rb")
  test.eq(f:read("a") == payload, true)
  f:close()
  os.remove(path)
  -- an error in on_progress aborts the request with that error
  test.raises(function()
    http.get(base(s), { on_progress = function() error("stop here") end })
  end, "stop here")
  -- on_progress cannot yield
  test.raises(function()
    http.get(base(s), { on_progress = function() task.sleep(0.01) end })
  end, "not_yieldable")
  s:close()
end)

test("bad URLs, schemes and headers fail before anything is sent", function()
  local s, stats = echo_server()
  test.raises(function() http.get("not a url") end, "EINVAL")
  test.raises(function() http.get("ftp://127.0.0.1/") end, "unsupported scheme 'ftp'")
  test.raises(function() http.get("http:///nohost") end, "EINVAL")
  test.raises(function() http.get(base(s), { headers = { ["X-Bad"] = "a\r\nInjected: 1" } }) end, "CR, LF")
  test.raises(function() http.get(base(s), { headers = { ["Bad Name"] = "x" } }) end, "invalid header name")
  test.raises(function() http.get(base(s), { headers = { ["X\n"] = "x" } }) end, "EINVAL")
  test.raises(function() http.get(base(s), { proxy = "ftp://x" }) end, "unsupported proxy scheme")
  test.raises(function() http.get(base(s), { timeout = "soon" }) end, "timeout")
  test.raises(function() http.get() end, "URL")
  test.eq(stats.requests, 0)
  s:close()
end)

test("network failures: ECONNREFUSED, ENOTFOUND, ETIMEDOUT", function()
  local free = net.tcp.listen(0)
  local port = free.port
  free:close()
  test.raises(function() http.get("http://127.0.0.1:" .. port .. "/") end, "ECONNREFUSED")
  local err = test.raises(function() http.get("http://no-such-host.invalid/") end)
  assert(err.code == "ENOTFOUND" or err.code == "EAI_AGAIN" or err.code == "EDNS", tostring(err))
  local silent = serve(function(req, c) task.sleep(5) end)
  test.raises(function() http.get(base(silent), { timeout = 100 }) end, "ETIMEDOUT")
  silent:close()
end)

-- Malformed responses: clear EPROTO errors, never hangs.
local function broken(raw, close)
  return serve(function(req, c)
    c:write(raw)
    if close then c:close() return false end
    task.sleep(5)
  end)
end

test("malformed responses are EPROTO errors", function()
  local cases = {
    { "bad status line", "HTTP/1.1 abc OK\r\n\r\n", true, "malformed" },
    { "garbage", "SSH-2.0-OpenSSH\r\n\r\n", true, "malformed" },
    { "truncated body", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", true, "truncated" },
    { "bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", true, "chunked" },
    { "no response", "", true, "without sending a response" },
    { "huge headers", "HTTP/1.1 200 OK\r\n" .. ("X-Fill: " .. ("x"):rep(1000) .. "\r\n"):rep(100) .. "\r\n", false, "too large" },
    { "bad content-length", "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", true, "EPROTO" },
  }
  for _, case in ipairs(cases) do
    local s = broken(case[2], case[3])
    local err = test.raises(function() http.get(base(s), { timeout = 3000 }) end, case[4], case[1])
    test.eq(err.code, "EPROTO", case[1])
    s:close()
  end
end)

test("200 requests from 200 tasks run concurrently", function()
  local s, stats = serve(function(req, c)
    task.sleep(0.05) -- every request waits: only concurrency makes this quick
    respond(c, "200 OK", {}, req.target)
  end)
  http.pool({ close_idle = true })
  local tasks = {}
  for i = 1, 200 do
    tasks[i] = task.spawn(function() return http.get(base(s) .. "/n" .. i).body end)
  end
  for i = 1, 200 do test.eq(tasks[i]:join(20), "/n" .. i) end
  test.eq(stats.requests, 200)
  assert(stats.conns >= 100, "requests were not concurrent: " .. stats.conns .. " connections")
  local p = http.pool()
  assert(p.idle > 0 and p.idle <= p.max_idle_per_origin, "idle " .. p.idle)
  http.pool({ close_idle = true })
  task.sleep(0.05)
  s:close()
end)

test("pool settings take effect: at most max_idle_per_origin idle, none after idle_timeout", function()
  local s, stats = serve(function(req, c)
    task.sleep(0.05) -- overlap: 10 requests need 10 connections
    respond(c, "200 OK", {}, req.target)
  end)
  local p = http.pool({ max_idle_per_origin = 4, idle_timeout = 200, close_idle = true })
  test.eq(p.idle, 0)
  local tasks = {}
  for i = 1, 10 do tasks[i] = task.spawn(function() return http.get(base(s) .. "/p" .. i).status end) end
  for i = 1, 10 do test.eq(tasks[i]:join(10), 200) end
  test.eq(stats.conns, 10)
  test.eq(http.pool().idle, 4)  -- the other 6 were closed instead of pooled
  -- The next 4 sequential requests reuse the idle ones: no new connection.
  for i = 1, 4 do http.get(base(s) .. "/again" .. i) end
  test.eq(stats.conns, 10)
  -- After idle_timeout, idle connections are not reused (a new one is opened).
  task.sleep(0.4)
  http.get(base(s) .. "/after")
  test.eq(stats.conns, 11)
  http.pool({ max_idle_per_origin = 16, idle_timeout = 30000, close_idle = true })
end)

test("URL user info becomes Basic authorization", function()
  local s = echo_server()
  local req = json.decode(http.get("http://user:p%40ss@127.0.0.1:" .. s.port .. "/").body)
  test.eq(req.headers.authorization, "Basic dXNlcjpwQHNz")
  s:close()
end)

test("a function body is streamed with Transfer-Encoding: chunked", function()
  local s = serve(function(req, c)
    respond(c, "200 OK", {}, (req.headers["transfer-encoding"] or "-") .. "|" .. req.body)
  end)
  local parts = { "alpha ", "", "beta ", ("x"):rep(100000) }
  local i = 0
  local r = http.post(base(s) .. "/stream", function()
    i = i + 1
    return parts[i]
  end)
  test.eq(r.body, "chunked|alpha beta " .. ("x"):rep(100000))
  -- errors raised by the body function abort the request with that error
  test.raises(function() http.put(base(s), function() error("no more data") end) end, "no more data")
  test.raises(function() http.put(base(s), function() return {} end) end, "EINVAL")
  s:close()
end)

test("HOOZi colon calls: callbacks, seconds, content_type", function()
  local s = echo_server()
  local ch = task.channel(10)
  net.http:get(base(s) .. "/h1", function(resp) ch:send(resp) end, 3)
  local r = ch:recv(5)
  test.eq(r.status, 200)
  test.eq(r.ok, true)
  test.eq(json.decode(r.body).target, "/h1")
  net.http:post(base(s) .. "/h2", '{"a":1}', "application/json", function(resp) ch:send(resp) end, 5)
  local req = json.decode(ch:recv(5).body)
  test.eq(req.method, "POST")
  test.eq(req.headers["content-type"], "application/json")
  test.eq(req.body, '{"a":1}')
  net.http:post(base(s) .. "/h3", { body = "b", content_type = "text/plain", headers = { ["X-A"] = "1" } },
    function(resp) ch:send(resp) end)
  req = json.decode(ch:recv(5).body)
  test.eq(req.headers["content-type"], "text/plain")
  test.eq(req.headers["x-a"], "1")
  net.http:request(base(s) .. "/h4", "DELETE", {}, function(resp) ch:send(resp) end)
  test.eq(json.decode(ch:recv(5).body).method, "DELETE")
  net.http:get("http://127.0.0.1:1/", function(resp) ch:send(resp) end)
  local bad = ch:recv(5)
  test.eq(bad.ok, false)
  test.eq(bad.status, 0)
  assert(bad.error:find("ECONNREFUSED") or bad.error:find("refused"), bad.error)
  s:close()
end)

test("IPv6 literal URLs", function()
  local ok, server = pcall(net.tcp.listen, "::1", 0)
  if not ok then test.skip_now("no IPv6 loopback here") end
  task.spawn(function()
    local c = server:accept()
    local line = c:read_line()
    local host
    while true do
      local l = c:read_line()
      if l == "" then break end
      host = host or l:match("^[Hh]ost: (.*)$")
    end
    local body = line .. " " .. host
    c:write("HTTP/1.1 200 OK\r\nContent-Length: " .. #body .. "\r\nConnection: close\r\n\r\n" .. body)
    c:close()
  end)
  local r = http.get("http://[::1]:" .. server.port .. "/v6")
  test.eq(r.body, "GET /v6 HTTP/1.1 [::1]:" .. server.port)
  test.eq(r.url, "http://[::1]:" .. server.port .. "/v6")
  server:close()
end)

test("connect_timeout covers the TLS handshake; cancel stops a request", function()
  local silent = net.tcp.listen("127.0.0.1", 0) -- accepts (kernel backlog) but never answers
  local err = test.raises(function()
    http.get("https://127.0.0.1:" .. silent.port .. "/", { connect_timeout = 100, timeout = 5000 })
  end, "ETIMEDOUT")
  assert(tostring(err):find("connect"), tostring(err))
  local t = task.spawn(function() return http.get("https://127.0.0.1:" .. silent.port .. "/") end)
  task.sleep(0.02)
  t:cancel()
  local ok, e = pcall(t.join, t, 5)
  test.eq(ok, false)
  test.eq(e.code, "cancelled")
  silent:close()
end)
