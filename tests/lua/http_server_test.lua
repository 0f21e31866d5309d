-- net.http.listen: the server, driven by raw sockets (net.tcp) and by net.http's client.
local test = require("test")
local proc = dofile("tests/support/proc.lua")

local function listen(handler, opts) return net.http.listen(0, handler, opts) end

local function base(srv) return "http://127.0.0.1:" .. srv.port end

-- A raw connection: sends `data`, returns the connection.
local function raw(srv, data)
  local c = net.tcp.connect("127.0.0.1", srv.port, { timeout = 5000 })
  if data then c:write(data) end
  return c
end

-- Reads one response from a raw connection: status, headers (lower-case), body.
local function read_response(c, head_only)
  local line = c:read_line()
  if not line then return nil end
  local status = tonumber(line:match("^HTTP/1%.%d (%d%d%d)"))
  local h = {}
  while true do
    local l = c:read_line()
    if l == "" then break end
    local k, v = l:match("^([^:]+):%s*(.*)$")
    h[k:lower()] = v
  end
  local body = ""
  if head_only or status == 204 or status == 304 or (status >= 100 and status < 200) then return status, h, body end
  if h["content-length"] then
    body = c:read_exactly(tonumber(h["content-length"]))
  elseif h["transfer-encoding"] == "chunked" then
    local parts = {}
    while true do
      local size = tonumber(c:read_line(), 16)
      if size == 0 then c:read_line(); break end
      parts[#parts + 1] = c:read_exactly(size)
      c:read_line()
    end
    body = table.concat(parts)
  else
    body = c:read_all()
  end
  return status, h, body
end

test("listen: a string reply, defaults, address and fields", function()
  local seen
  local srv = listen(function(req)
    seen = {
      method = req.method, target = req.target, path = req.path, raw_query = req.raw_query,
      query = req.query, version = req.version, peer = req.peer_addr, secure = req.secure,
      ua = req.headers["user-agent"],
    }
    return "hello"
  end)
  test.eq(srv.host, "127.0.0.1")
  assert(srv.port > 0)
  test.eq(srv:local_addr(), "127.0.0.1:" .. srv.port)
  assert(tostring(srv):find("http.server"))
  local r = net.http.get(base(srv) .. "/a%20b/c?x=1&y=%C3%A9+z&x=2&flag", { headers = { ["User-Agent"] = "t/1" } })
  test.eq(r.status, 200)
  test.eq(r.body, "hello")
  test.eq(r.headers["content-type"], "text/plain; charset=utf-8")
  assert(r.headers["date"]:match("GMT$"), r.headers["date"])
  test.eq(seen.method, "GET")
  test.eq(seen.target, "/a%20b/c?x=1&y=%C3%A9+z&x=2&flag")
  test.eq(seen.path, "/a b/c")
  test.eq(seen.raw_query, "x=1&y=%C3%A9+z&x=2&flag")
  test.eq(seen.query, { x = { "1", "2" }, y = "é z", flag = "" })
  test.eq(seen.version, "1.1")
  assert(seen.peer:match("^127%.0%.0%.1:%d+$"), seen.peer)
  test.eq(seen.secure, false)
  test.eq(seen.ua, "t/1")
  srv:close()
  srv:wait()
end)

test("content type sniffing and table responses with status, headers and list values", function()
  local srv = listen(function(req)
    if req.path == "/html" then return "  <p>hi</p>" end
    if req.path == "/json" then return '{"a":1}' end
    return { status = 201, headers = { ["X-One"] = "1", ["Set-Cookie"] = { "a=1", "b=2" }, ["X-Num"] = 5 }, body = "made" }
  end)
  test.eq(net.http.get(base(srv) .. "/html").headers["content-type"], "text/html; charset=utf-8")
  test.eq(net.http.get(base(srv) .. "/json").headers["content-type"], "application/json")
  local c = raw(srv, "GET /t HTTP/1.1\r\nHost: x\r\n\r\n")
  local status, h, body = read_response(c)
  test.eq(status, 201)
  test.eq(body, "made")
  test.eq(h["x-one"], "1")
  test.eq(h["x-num"], "5")
  c:close()
  local r = net.http.get(base(srv) .. "/t")
  test.eq(r.headers["set-cookie"], { "a=1", "b=2" })
  srv:close()
end)

test("request headers: lower-case names, repeated ones joined, set-cookie and cookie lists", function()
  local got
  local srv = listen(function(req) got = req.headers; return "ok" end)
  local c = raw(srv, "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a: 2\r\nCookie: a=1\r\nCookie: b=2\r\n" ..
    "Set-Cookie: s=1\r\n\r\n")
  test.eq(read_response(c), 200)
  test.eq(got["x-a"], "1, 2")
  test.eq(got["cookie"], "a=1; b=2")
  test.eq(got["set-cookie"], { "s=1" })
  test.eq(got["host"], "x")
  c:close()
  srv:close()
end)

test("keep-alive: one connection serves many requests; pipelined responses come in order", function()
  local peers = {}
  local srv = listen(function(req)
    peers[#peers + 1] = req.peer_addr
    if req.path == "/slow" then task.sleep(0.05) end
    return "r:" .. req.path
  end)
  local c = raw(srv)
  c:write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n")
  for _, p in ipairs({ "/slow", "/b", "/c" }) do
    local status, _, body = read_response(c)
    test.eq(status, 200)
    test.eq(body, "r:" .. p)
  end
  test.eq(peers[1], peers[2])
  test.eq(peers[2], peers[3])
  test.eq(srv:connections(), 1)
  c:close()
  srv:close()
end)

test("HTTP/1.0: closes unless keep-alive is asked; then says keep-alive", function()
  local srv = listen(function() return "x" end)
  local c = raw(srv, "GET / HTTP/1.0\r\n\r\n")
  local status, h = read_response(c)
  test.eq(status, 200)
  test.eq(h["connection"], "close")
  test.eq(c:read(), nil)
  c:close()
  c = raw(srv, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
  status, h = read_response(c)
  test.eq(h["connection"], "keep-alive")
  c:write("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
  test.eq(read_response(c), 200)
  c:close()
  -- 1.1 with Connection: close
  c = raw(srv, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
  status, h = read_response(c)
  test.eq(h["connection"], "close")
  test.eq(c:read(), nil)
  c:close()
  srv:close()
end)

test("request bodies: whole, by read(n), chunks(), chunked encoding, binary", function()
  local srv = listen(function(req)
    if req.path == "/whole" then return req:body() end
    if req.path == "/read" then
      local parts = {}
      while true do
        local d = req:read(3)
        if not d then break end
        assert(#d <= 3)
        parts[#parts + 1] = d
      end
      return table.concat(parts, "|")
    end
    local n = 0
    for chunk in req:chunks() do n = n + #chunk end
    return tostring(n)
  end)
  local bin = {}
  for i = 0, 255 do bin[#bin + 1] = string.char(i) end
  bin = table.concat(bin):rep(10)
  test.eq(net.http.post(base(srv) .. "/whole", { body = bin }).body, bin)
  test.eq(net.http.post(base(srv) .. "/read", { body = "abcdefgh" }).body, "abc|def|gh")
  local c = raw(srv, "POST /whole HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
  local status, _, body = read_response(c)
  test.eq(status, 200)
  test.eq(body, "hello world")
  c:write("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n12345")
  status, _, body = read_response(c)
  test.eq(body, "5")
  c:close()
  srv:close()
end)

test("an unread body is skipped: the next request on the connection still works", function()
  local srv = listen(function(req) return "p:" .. req.path end)
  local c = raw(srv, "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
  test.eq(select(3, read_response(c)), "p:/a")
  test.eq(select(3, read_response(c)), "p:/b")
  c:close()
  srv:close()
end)

test("max_body: req:body() over the limit is 413; streaming reads are not limited", function()
  local srv = listen(function(req)
    if req.path == "/stream" then
      local n = 0
      for chunk in req:chunks() do n = n + #chunk end
      return tostring(n)
    end
    return req:body()
  end, { max_body = 100 })
  local r = net.http.post(base(srv) .. "/x", { body = ("a"):rep(101) })
  test.eq(r.status, 413)
  r = net.http.post(base(srv) .. "/x", { body = ("a"):rep(100) })
  test.eq(r.status, 200)
  r = net.http.post(base(srv) .. "/stream", { body = ("a"):rep(100000) })
  test.eq(r.body, "100000")
  -- chunked beyond the limit
  local c = raw(srv, "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" ..
    ("40\r\n" .. ("b"):rep(64) .. "\r\n"):rep(3) .. "0\r\n\r\n")
  test.eq(read_response(c), 413)
  c:close()
  srv:close()
end)

test("streaming responses: respond, write (chunked), close; content-length given", function()
  local srv = listen(function(req)
    if req.path == "/len" then
      local w = req:respond(200, { ["Content-Length"] = "6" })
      w:write("abc")
      w:write("def")
      w:close()
      return
    end
    local w = req:respond(200, { ["Content-Type"] = "text/event-stream" })
    for i = 1, 3 do
      w:write("data: " .. i .. "\n\n")
      task.sleep(0.01)
    end
    w:close()
    w:close() -- twice is fine
    test.raises(function() w:write("late") end, "closed")
  end)
  local c = raw(srv, "GET /sse HTTP/1.1\r\nHost: x\r\n\r\n")
  local status, h, body = read_response(c)
  test.eq(status, 200)
  test.eq(h["transfer-encoding"], "chunked")
  test.eq(h["content-type"], "text/event-stream")
  test.eq(body, "data: 1\n\ndata: 2\n\ndata: 3\n\n")
  c:write("GET /len HTTP/1.1\r\nHost: x\r\n\r\n")
  status, h, body = read_response(c)
  test.eq(h["content-length"], "6")
  test.eq(h["transfer-encoding"], nil)
  test.eq(body, "abcdef")
  c:close()
  srv:close()
end)

test("a handler that returns after respond without closing: the stream is ended for it", function()
  local srv = listen(function(req)
    local w = req:respond(200)
    w:write("part")
  end)
  test.eq(net.http.get(base(srv)).body, "part")
  srv:close()
end)

test("a big streamed response with backpressure, and a timer ticking while the handler waits", function()
  local ticks = 0
  local timer = setInterval(function() ticks = ticks + 1 end, 5)
  local srv = listen(function(req)
    if req.path == "/wait" then
      task.sleep(0.1)
      return "waited"
    end
    local w = req:respond(200)
    local piece = ("z"):rep(65536)
    for _ = 1, 64 do w:write(piece) end
    w:close()
  end)
  local r = net.http.get(base(srv) .. "/wait")
  test.eq(r.body, "waited")
  assert(ticks >= 3, "timer ticks while the handler waits: " .. ticks)
  r = net.http.get(base(srv) .. "/big")
  test.eq(#r.body, 64 * 65536)
  clearInterval(timer)
  srv:close()
end)

test("HEAD: headers with the length of the body, no body", function()
  local srv = listen(function(req) return "twelve bytes" end)
  local c = raw(srv, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
  local status, h = read_response(c, true)
  test.eq(status, 200)
  test.eq(h["content-length"], "12")
  c:write("GET / HTTP/1.1\r\nHost: x\r\n\r\n") -- the connection is still in step
  local _, _, body = read_response(c)
  test.eq(body, "twelve bytes")
  c:close()
  srv:close()
end)

test("Expect: 100-continue gets a 100 when the handler reads the body", function()
  local srv = listen(function(req) return "got " .. req:body() end)
  local c = raw(srv, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
  test.eq(c:read_line(), "HTTP/1.1 100 Continue")
  test.eq(c:read_line(), "")
  c:write("data")
  local status, _, body = read_response(c)
  test.eq(status, 200)
  test.eq(body, "got data")
  c:close()
  srv:close()
end)

test("files are sent from C++ (whole, offset/length, missing -> 404), with a content type", function()
  local dir = proc.tmpdir()
  local data = {}
  for i = 1, 20000 do data[#data + 1] = string.char(i % 256) end
  data = table.concat(data):rep(10)
  proc.write_file(dir .. "/f.bin", data)
  proc.write_file(dir .. "/page.html", "<h1>x</h1>")
  local srv = listen(function(req)
    if req.path == "/part" then return { file = dir .. "/f.bin", offset = 10, length = 100 } end
    if req.path == "/page" then return { file = dir .. "/page.html" } end
    if req.path == "/missing" then return { file = dir .. "/nope" } end
    if req.path == "/range" then return { file = dir .. "/f.bin", offset = 1e9 } end
    return { file = dir .. "/f.bin", headers = { ["Content-Type"] = "application/x-test" } }
  end)
  local r = net.http.get(base(srv) .. "/")
  test.eq(r.status, 200)
  test.eq(#r.body, #data)
  assert(r.body == data, "file content")
  test.eq(r.headers["content-type"], "application/x-test")
  r = net.http.get(base(srv) .. "/part")
  test.eq(r.body, data:sub(11, 110))
  r = net.http.get(base(srv) .. "/page")
  test.eq(r.headers["content-type"], "text/html; charset=utf-8")
  test.eq(net.http.get(base(srv) .. "/missing").status, 404)
  test.eq(net.http.get(base(srv) .. "/range").status, 500)
  local c = raw(srv, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
  local _, h = read_response(c, true)
  test.eq(h["content-length"], tostring(#data))
  c:close()
  srv:close()
end)

test("handler errors are 500 without internals; bad responses too; CR/LF in headers refused", function()
  local srv = listen(function(req)
    if req.path == "/boom" then error("secret internal detail") end
    if req.path == "/nothing" then return nil end
    if req.path == "/crlf" then return { headers = { ["X-Bad"] = "a\r\nSet-Cookie: evil=1" }, body = "x" } end
    if req.path == "/badname" then return { headers = { ["Bad Name"] = "v" }, body = "x" } end
    if req.path == "/typo" then return { stauts = 200, body = "x" } end
    if req.path == "/status" then return { status = 42 } end
    if req.path == "/respond-crlf" then req:respond(200, { ["X"] = "a\nb" }) end
    return 5
  end)
  for _, p in ipairs({ "/boom", "/nothing", "/crlf", "/badname", "/typo", "/status", "/respond-crlf", "/number" }) do
    local r = net.http.get(base(srv) .. p)
    test.eq(r.status, 500, p)
    test.eq(r.body, "Internal Server Error", p)
    assert(not r.body:find("secret"), p)
    test.eq(r.headers["set-cookie"], nil, p)
  end
  -- the connection keeps working after a 500
  local c = raw(srv, "GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET /boom HTTP/1.1\r\nHost: x\r\n\r\n")
  test.eq(read_response(c), 500)
  test.eq(read_response(c), 500)
  c:close()
  srv:close()
end)

test("malformed requests get 400 and the connection closes; others never notice", function()
  local srv = listen(function(req) return "fine" end)
  local good = raw(srv, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
  test.eq(read_response(good), 200)
  for _, bad in ipairs({
    "GARBAGE\r\n\r\n",
    "GET / HTTP/9.9\r\n\r\n",
    "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n",
  }) do
    local c = raw(srv, bad)
    local status = read_response(c)
    if bad:find("^POST") then
      -- the head is fine; the body is malformed: the handler ran (no body read), then the
      -- connection ends when the rest of the body cannot be parsed
      test.eq(status, 200, bad)
    else
      test.eq(status, 400, bad)
    end
    test.eq(c:read(), nil, bad)
    c:close()
  end
  good:write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
  test.eq(select(3, read_response(good)), "fine")
  good:close()
  srv:close()
end)

test("a malformed chunked body read by the handler raises EPROTO; the connection then closes", function()
  local codes = {}
  local srv = listen(function(req)
    local ok, err = pcall(req.body, req)
    codes[#codes + 1] = not ok and err.code or "none"
    return "after"
  end)
  local c = raw(srv, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
  local status, h, body = read_response(c)
  test.eq(status, 200)
  test.eq(body, "after")
  test.eq(h["connection"], "close")
  test.eq(codes, { "EPROTO" })
  test.eq(c:read(), nil)
  c:close()
  srv:close()
end)

test("oversize heads: 431 for too large or too many headers", function()
  local srv = listen(function() return "ok" end, { max_header_size = 1024, max_headers = 10 })
  local c = raw(srv, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " .. ("a"):rep(2000) .. "\r\n\r\n")
  test.eq(read_response(c), 431)
  c:close()
  local many = { "GET / HTTP/1.1\r\n" }
  for i = 1, 11 do many[#many + 1] = "X-" .. i .. ": v\r\n" end
  c = raw(srv, table.concat(many) .. "\r\n")
  test.eq(read_response(c), 431)
  c:close()
  local r = net.http.get(base(srv))
  test.eq(r.status, 200)
  srv:close()
end)

test("slowloris: a client trickling its head gets 408 and does not block others", function()
  local srv = listen(function() return "quick" end, { header_timeout = 200 })
  local slow = raw(srv, "GET / HTTP/1.1\r\n")
  local trickler = task.spawn(function()
    for _ = 1, 20 do
      pcall(slow.write, slow, "X")
      task.sleep(0.03)
    end
  end)
  for _ = 1, 5 do test.eq(net.http.get(base(srv)).body, "quick") end
  local status = read_response(slow)
  test.eq(status, 408)
  slow:close()
  trickler:cancel()
  srv:close()
end)

test("request_timeout: a body that does not arrive in time gets 408", function()
  local srv = listen(function(req) return req:body() end, { request_timeout = 200 })
  local c = raw(srv, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
  test.eq(read_response(c), 408)
  test.eq(c:read(), nil)
  c:close()
  test.eq(net.http.post(base(srv), { body = "quick" }).body, "quick")
  srv:close()
end)

test("idle keep-alive connections are closed after idle_timeout", function()
  local srv = listen(function() return "x" end, { idle_timeout = 100 })
  local c = raw(srv, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
  test.eq(read_response(c), 200)
  test.eq(c:read(), nil) -- closed by the server once idle
  c:close()
  srv:close()
end)

test("graceful close: in-flight requests finish, idle connections close, new ones are refused", function()
  local started = task.channel(1)
  local srv = listen(function(req)
    if req.path == "/slow" then
      started:send(true)
      task.sleep(0.1)
    end
    return "finished"
  end)
  local idle = raw(srv, "GET /idle HTTP/1.1\r\nHost: x\r\n\r\n")
  test.eq(select(3, read_response(idle)), "finished")
  local c = raw(srv, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
  started:recv()
  srv:close()
  local _, h, body = read_response(c)
  test.eq(body, "finished")
  test.eq(h["connection"], "close")
  test.eq(c:read(), nil)
  test.eq(idle:read(), nil)
  srv:wait()
  test.eq(srv:connections(), 0)
  local ok = pcall(net.tcp.connect, "127.0.0.1", srv.port, { timeout = 1000 })
  test.eq(ok, false)
  c:close()
  idle:close()
end)

test("close(0) cuts in-flight requests at once; close(timeout) after the deadline", function()
  local srv = listen(function(req)
    task.sleep(10)
    return "never"
  end)
  local c = raw(srv, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
  task.sleep(0.05)
  srv:close(0.05)
  test.eq(c:read(), nil)
  srv:wait()
  c:close()
end)

test("respond/read/body after the request is finished raise 'closed'", function()
  local saved = task.channel(1)
  local srv = listen(function(req)
    saved:send(req)
    return "done"
  end)
  net.http.get(base(srv))
  local req = saved:recv()
  task.sleep(0.02)
  test.raises(function() req:respond(200) end, "closed")
  test.raises(function() req:body() end, "closed")
  test.raises(function() req:read() end, "closed")
  srv:close()
end)

test("max_connections: connections beyond it wait until one ends", function()
  local srv = listen(function() return "x" end, { max_connections = 1, idle_timeout = 100 })
  local a = raw(srv, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
  test.eq(read_response(a), 200)
  local b = raw(srv, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
  test.eq(srv:connections(), 1)
  a:close()
  test.eq(read_response(b), 200) -- accepted once a was gone
  b:close()
  srv:close()
end)

test("access log: combined log format lines to a function", function()
  local lines = {}
  local srv = listen(function() return "12345" end, { access_log = function(l) lines[#lines + 1] = l end })
  net.http.get(base(srv) .. "/p?q=1", { headers = { ["User-Agent"] = "ua/1", Referer = "http://r/" } })
  task.sleep(0.02)
  test.eq(#lines, 1)
  assert(lines[1]:match('^127%.0%.0%.1 %- %- %[%d+/%a+/%d+:%d+:%d+:%d+ [%+%-]%d+%] "GET /p%?q=1 HTTP/1%.1" 200 5 "http://r/" "ua/1"$'),
    lines[1])
  srv:close()
end)

test("bad arguments to listen", function()
  local h = function() return "" end
  test.raises(function() net.http.listen(-1, h) end, "EINVAL")
  test.raises(function() net.http.listen(65536, h) end, "EINVAL")
  test.raises(function() net.http.listen(0 / 0, h) end)
  test.raises(function() net.http.listen(0) end, "function")
  test.raises(function() net.http.listen("127.0.0.1", 0, "nope") end, "function")
  test.raises(function() net.http.listen(0, h, 5) end)
  test.raises(function() net.http.listen(0, h, { max_bdy = 1 }) end, "did you mean 'max_body'")
  test.raises(function() net.http.listen(0, h, { max_body = -1 }) end, "EINVAL")
  test.raises(function() net.http.listen(0, h, { header_timeout = -5 }) end, "EINVAL")
  test.raises(function() net.http.listen(0, h, { idle_timeout = "x" }) end, "EINVAL")
  test.raises(function() net.http.listen(0, h, { access_log = "yes" }) end, "EINVAL")
  test.raises(function() net.http.listen(0, h, { tls = true }) end, "EINVAL")
  test.raises(function() net.http.listen(0, h, { tls = { cert_file = "/nope" } }) end, "key_file")
  test.raises(function() net.http.listen(0, h, { tls = { cert_file = "/nope", key_file = "/nope" } }) end, "ETLS")
  test.raises(function() net.http.listen(0, h, { tls = { cert = "/x" } }) end, "unknown option 'cert'")
  test.raises(function() net.http.listen("256.1.1.1", 0, h) end)
  -- a port in use
  local srv = net.http.listen(0, h)
  test.raises(function() net.http.listen(srv.port, h) end, "EADDRINUSE")
  test.raises(function() srv:close(-1) end, "EINVAL")
  test.raises(function() srv:reload_tls() end, "EINVAL")
  srv:close()
  srv:close() -- twice is fine
  srv:wait()
end)

test("respond and writer argument checks", function()
  local srv = listen(function(req)
    if req.path == "/badstatus" then req:respond(99) end
    if req.path == "/twice" then
      local w = req:respond(200)
      local ok, err = pcall(req.respond, req, 200)
      w:write(ok and "no error" or tostring(err.code))
      w:close()
      return
    end
    if req.path == "/readsize" then req:read(0) end
    return "?"
  end)
  test.eq(net.http.get(base(srv) .. "/badstatus").status, 500)
  test.eq(net.http.get(base(srv) .. "/twice").body, "EINVAL")
  test.eq(net.http.get(base(srv) .. "/readsize").status, 500)
  srv:close()
end)

test("TLS: https with a throwaway certificate; reload_tls re-reads the files", function()
  local dir = proc.tmpdir()
  local certs = proc.make_certs(dir)
  local srv = listen(function(req) return "secure=" .. tostring(req.secure) end,
    { tls = { cert_file = certs.cert, key_file = certs.key } })
  local url = "https://localhost:" .. srv.port .. "/"
  local r = net.http.get(url, { tls = { ca_file = certs.ca } })
  test.eq(r.body, "secure=true")
  -- keep-alive over TLS
  r = net.http.get(url, { tls = { ca_file = certs.ca } })
  test.eq(r.body, "secure=true")
  test.eq(srv:reload_tls(), true)
  local dir2 = proc.tmpdir()
  local certs2 = proc.make_certs(dir2)
  test.eq(srv:reload_tls({ cert_file = certs2.cert, key_file = certs2.key }), true)
  r = net.http.get(url .. "new", { tls = { ca_file = certs2.ca }, headers = { Connection = "close" } })
  test.eq(r.body, "secure=true")
  test.raises(function() srv:reload_tls({ cert_file = "/nope", key_file = "/nope" }) end, "ETLS")
  srv:close()
end)



proc.cleanup()
