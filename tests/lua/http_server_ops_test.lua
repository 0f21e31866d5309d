-- net.http.listen operations: SIGINT/SIGTERM drain, write_timeout, automatic certificate reload.
local test = require("test")
local proc = dofile("tests/support/proc.lua")

local bin = os.getenv("MOONWIRE_BIN") or "moonwire"

-- Reads one response from a raw connection: status, headers (lower-case), body.
local function read_response(c)
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
  local body = c:read_exactly(tonumber(h["content-length"] or 0))
  return status, h, body
end

-- Starts a moonwire script that prints the server's port; returns the handle and the port.
local function start_script(source)
  local dir = proc.tmpdir()
  proc.write_file(dir .. "/srv.lua", source)
  local h = proc.start(bin .. " " .. proc.quote(dir .. "/srv.lua"))
  local port
  for _ = 1, 200 do
    port = tonumber(h:output():match("^(%d+)\n"))
    if port then break end
    task.sleep(0.05)
  end
  assert(port, "no port: " .. h:output())
  return h, port
end

local function wait_exit(h)
  for _ = 1, 200 do
    if not h:alive() then return true end
    task.sleep(0.05)
  end
  return false
end

local function get(port, path)
  local c = net.tcp.connect("127.0.0.1", port, { timeout = 10000 })
  c:write("GET " .. path .. " HTTP/1.1\r\nHost: x\r\n\r\n")
  return c
end

local kServer = [[
  local srv = net.http.listen(0, function(req)
    if req.path == "/quick" then task.sleep(0.4) return "done" end
    if req.path == "/slow" then task.sleep(60) end
    return "ok"
  end, { drain_timeout = %s })
  io.stdout:write(srv.port, "\n")
  io.stdout:flush()
  %s
  srv:wait()
]]

test("SIGTERM drains: no new connections, idle ones close, in-flight handlers finish; past drain_timeout 503", function()
  local h, port = start_script(kServer:format("1500", ""))
  local idle = get(port, "/")
  test.eq(select(3, read_response(idle)), "ok")
  local quick = get(port, "/quick")
  local slow = get(port, "/slow")
  task.sleep(0.1)
  os.execute("kill -TERM " .. h.pid)
  test.eq(idle:read(), nil)  -- the idle keep-alive connection is closed at once
  -- The in-flight handler that ends within the bound answers normally, and says close.
  local status, hd, body = read_response(quick)
  test.eq(status, 200)
  test.eq(body, "done")
  test.eq(hd["connection"], "close")
  test.raises(function() net.tcp.connect("127.0.0.1", port, { timeout = 2000 }) end)
  -- The one that does not is cancelled at drain_timeout: 503, then the process ends.
  status, hd = read_response(slow)
  test.eq(status, 503)
  test.eq(hd["connection"], "close")
  test.eq(wait_exit(h), true)
  for _, c in ipairs({ idle, quick, slow }) do c:close() end
end)

test("a second SIGTERM during the drain exits at once", function()
  local h, port = start_script(kServer:format("0", ""))  -- 0: no drain bound
  local slow = get(port, "/slow")
  task.sleep(0.1)
  os.execute("kill -TERM " .. h.pid)
  task.sleep(0.2)
  test.eq(h:alive(), true)  -- draining (the handler sleeps 60 s)
  os.execute("kill -TERM " .. h.pid)
  test.eq(wait_exit(h), true)
  test.eq(slow:read(), nil)
  slow:close()
end)

test("process.on_signal's veto keeps the server serving", function()
  local h, port = start_script(kServer:format("1000", [[
    process.on_signal("SIGTERM", function() print("vetoed") io.stdout:flush() return false end)
  ]]))
  os.execute("kill -TERM " .. h.pid)
  for _ = 1, 100 do
    if h:output():find("vetoed") then break end
    task.sleep(0.05)
  end
  assert(h:output():find("vetoed"), h:output())
  local c = get(port, "/")
  test.eq(select(3, read_response(c)), "ok")
  c:close()
  h:stop()
end)

test("write_timeout: a client that never reads a large response is closed", function()
  local srv = net.http.listen(0, function(req)
    return string.rep("x", 64 * 1024 * 1024)
  end, { write_timeout = 200 })
  local c = get(srv.port, "/")  -- and never read
  local gone = false
  for _ = 1, 200 do  -- bounded: at most 10 s
    task.sleep(0.05)
    if srv:connections() == 0 then gone = true break end
  end
  test.eq(gone, true)
  c:close()
  srv:close()
  srv:wait()
end)

test("write_timeout: a streaming write that cannot progress raises ETIMEDOUT in the handler", function()
  local err
  local done = task.channel()
  local srv = net.http.listen(0, function(req)
    local w = req:respond(200, { ["Content-Type"] = "application/octet-stream" })
    local chunk = string.rep("y", 1024 * 1024)
    local ok, e
    for _ = 1, 512 do
      ok, e = pcall(w.write, w, chunk)
      if not ok then break end
    end
    err = e
    done:send(true)
  end, { write_timeout = 200 })
  local c = get(srv.port, "/")
  local ticks = 0
  local ticker = task.spawn(function() while true do task.sleep(0.01) ticks = ticks + 1 end end)
  done:recv()
  task.cancel(ticker)
  assert(err, "the writes never failed")
  test.eq(err.code, "ETIMEDOUT")
  assert(ticks > 0, "the wait suspended only its task")
  c:close()
  srv:close()
  srv:wait()
end)

test("write_timeout and drain_timeout: option checks", function()
  local h = function() return "x" end
  test.raises(function() net.http.listen(0, h, { write_timeout = -1 }) end, "EINVAL")
  test.raises(function() net.http.listen(0, h, { drain_timeout = 0 / 0 }) end, "EINVAL")
  test.raises(function() net.http.listen(0, h, { write_timeuot = 5 }) end, "write_timeout")
  local srv = net.http.listen(0, h, { write_timeout = 0, drain_timeout = math.huge })  -- no limit
  srv:close()
  srv:wait()
end)

test("TLS: certificate files replaced on disk are used for new connections without reload_tls", function()
  local dir = proc.tmpdir()
  local certs = proc.make_certs(dir)
  local srv = net.http.listen(0, function(req) return "secure" end,
    { tls = { cert_file = certs.cert, key_file = certs.key } })
  local url = "https://127.0.0.1:" .. srv.port .. "/"
  test.eq(net.http.get(url, { tls = { ca_file = certs.ca }, headers = { Connection = "close" } }).body, "secure")
  local dir2 = proc.tmpdir()
  local certs2 = proc.make_certs(dir2)  -- another CA
  assert(proc.run("cp " .. proc.quote(certs2.cert) .. " " .. proc.quote(certs.cert)))
  assert(proc.run("cp " .. proc.quote(certs2.key) .. " " .. proc.quote(certs.key)))
  task.sleep(1.1)  -- files are looked at at most once a second
  local r = net.http.get(url .. "b", { tls = { ca_file = certs2.ca }, headers = { Connection = "close" } })
  test.eq(r.body, "secure")
  test.raises(function()
    net.http.get(url .. "c", { tls = { ca_file = certs.ca }, headers = { Connection = "close" } })
  end)
  srv:close()
  srv:wait()
end)

proc.cleanup()
