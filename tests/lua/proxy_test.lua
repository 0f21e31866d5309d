-- Proxies: SOCKS5 (microsocks, with and without auth), HTTP CONNECT and absolute-form
-- (tinyproxy, with and without Basic auth), environment variables and NO_PROXY, raw TCP over
-- each proxy kind, net.socks5.connect. Every peer runs on 127.0.0.1 and is stopped at the end.
local test = require("test")
local proc = dofile("tests/support/proc.lua")

-- Peers also stop when this test process dies (a filtered run never reaches "cleanup").
local MYPID = io.open("/proc/self/stat"):read("l"):match("^%d+")
local function owned(cmd)
  return "sh -c " .. proc.quote(cmd .. " & p=$!; while kill -0 " .. MYPID ..
    " 2>/dev/null && kill -0 $p 2>/dev/null; do sleep 0.2; done; kill $p 2>/dev/null; wait")
end

local function have(bin) return os.execute("command -v " .. bin .. " >/dev/null 2>&1") == true end
local HAVE_SOCKS, HAVE_TINY = have("microsocks"), have("tinyproxy")

-- The moonwire binary running these tests (for child processes with their own environment).
local function self_exe()
  local p = io.popen("readlink /proc/" .. (io.open("/proc/self/stat"):read("l"):match("^%d+")) .. "/exe")
  local exe = p:read("l")
  p:close()
  return exe
end
local MOONWIRE = self_exe()

-- Origin servers ---------------------------------------------------------------------------------

-- HTTP(S) origin: replies with "<method> <target> via=<via header>"; counts requests.
local function origin(tls)
  local server = net.tcp.listen("127.0.0.1", 0, { tls = tls })
  proc.serve(server, function(c)
    while true do
      local okl, line = pcall(c.read_line, c)
      if not okl or not line then break end
      local headers = {}
      while true do
        local l = c:read_line()
        if not l or l == "" then break end
        local k, v = l:match("^([^:]+):%s*(.*)$")
        headers[k:lower()] = v
      end
      local n = tonumber(headers["content-length"] or "0")
      local body = n > 0 and c:read_exactly(n) or ""
      local reply = line:match("^(%S+ %S+)") .. " host=" .. tostring(headers.host) .. " body=" .. body
      c:write("HTTP/1.1 200 OK\r\nContent-Length: " .. #reply .. "\r\n\r\n" .. reply)
    end
    c:close()
  end)
  return server
end

-- TCP echo origin (the server speaks first: nothing may be lost after a tunnel is set up).
local function echo_origin()
  local server = net.tcp.listen("127.0.0.1", 0)
  proc.serve(server, function(c)
    c:write("banner\n")
    while true do
      local okr, line = pcall(c.read_line, c)
      if not okr or not line then break end
      c:write("echo:" .. line .. "\n")
    end
    c:close()
  end)
  return server
end

-- Proxies ----------------------------------------------------------------------------------------

local P = {}

-- Each proxy's log, to check that traffic really went through it (a direct connection would
-- get the same replies).
local LOGS = {}

local function start_microsocks(user, pass)
  local port = proc.free_port()
  local cmd = "microsocks -i 127.0.0.1 -p " .. port
  if user then cmd = cmd .. " -u " .. user .. " -P " .. pass end
  local h = proc.start(owned(cmd))
  proc.wait_port(port)
  LOGS[port] = function() return h:output() end
  return port
end

local function start_tinyproxy(auth)
  local dir = proc.tmpdir()
  local port = proc.free_port()
  local conf = table.concat({
    "Port " .. port,
    "Listen 127.0.0.1",
    "Timeout 30",
    "MaxClients 100",
    "LogLevel Connect",
    "LogFile \"" .. dir .. "/tinyproxy.log\"",
    "Allow 127.0.0.1",
    "DisableViaHeader Yes",
    auth and ("BasicAuth " .. auth) or "",
  }, "\n") .. "\n"
  proc.write_file(dir .. "/tinyproxy.conf", conf)
  proc.start(owned("tinyproxy -d -c " .. dir .. "/tinyproxy.conf"))
  proc.wait_port(port)
  LOGS[port] = function() return proc.read_file(dir .. "/tinyproxy.log") or "" end
  return port
end

-- Runs fn and checks that the proxy on `port` logged `text` (plain) meanwhile; proxies log
-- after they act, so the check waits a little (bounded).
local function through_proxy(port, text, fn)
  local before = #LOGS[port]()
  local results = table.pack(fn())
  for _ = 1, 100 do
    if LOGS[port]():sub(before + 1):find(text, 1, true) then return table.unpack(results, 1, results.n) end
    task.sleep(0.02)
  end
  error("the proxy on port " .. port .. " did not log '" .. text .. "'; its new log lines:\n" ..
    LOGS[port]():sub(before + 1), 2)
end

if HAVE_SOCKS then
  P.socks = start_microsocks()
  P.socks_auth = start_microsocks("alice", "s3cret")
end
if HAVE_TINY then
  P.tiny = start_tinyproxy()
  P.tiny_auth = start_tinyproxy("bob secret")
end

local CERTS = proc.make_certs(proc.tmpdir())
local web = origin()
local tls_web = origin({ cert_file = CERTS.cert, key_file = CERTS.key })
local echo = echo_origin()
local WEB = "http://127.0.0.1:" .. web.port
local TLS_WEB = "https://localhost:" .. tls_web.port
local TLS_OPTS = { ca_file = CERTS.ca }

local socks_test = proc.peer_test(test, HAVE_SOCKS, "microsocks")
local tiny_test = proc.peer_test(test, HAVE_TINY, "tinyproxy")

-- Proxy URLs -----------------------------------------------------------------------------------

test("malformed proxy URLs are EINVAL", function()
  test.raises(function() http.get(WEB, { proxy = "ftp://127.0.0.1:1" }) end, "unsupported proxy scheme")
  test.raises(function() http.get(WEB, { proxy = "https://127.0.0.1:1" }) end, "not supported")
  test.raises(function() http.get(WEB, { proxy = "socks5://" }) end, "EINVAL")
  test.raises(function() http.get(WEB, { proxy = 42 }) end, "proxy")
  test.raises(function() net.tcp.connect("127.0.0.1", 1, { proxy = "gopher://x:1" }) end, "EINVAL")
end)

test("an unreachable proxy fails like a connect and says so", function()
  local port = proc.free_port()
  local err = test.raises(function() http.get(WEB, { proxy = "socks5://127.0.0.1:" .. port }) end, "ECONNREFUSED")
  assert(tostring(err):find("proxy"), tostring(err))
  err = test.raises(function() http.get(WEB, { proxy = "http://127.0.0.1:" .. port }) end, "ECONNREFUSED")
  assert(tostring(err):find("proxy"), tostring(err))
end)

-- SOCKS5 ---------------------------------------------------------------------------------------

socks_test("http over socks5 and socks5h", function()
  local target = "connected to 127.0.0.1:" .. web.port
  local r = through_proxy(P.socks, target, function()
    return http.get(WEB .. "/s5", { proxy = "socks5://127.0.0.1:" .. P.socks, keepalive = false })
  end)
  test.eq(r.body, "GET /s5 host=127.0.0.1:" .. web.port .. " body=")
  -- socks5h: the proxy resolves the name (microsocks logs the address it connected to).
  r = through_proxy(P.socks, "connected to", function()
    return http.get("http://localhost:" .. web.port .. "/s5h", { proxy = "socks5h://127.0.0.1:" .. P.socks, keepalive = false })
  end)
  test.eq(r.body, "GET /s5h host=localhost:" .. web.port .. " body=")
  r = through_proxy(P.socks, target, function()
    return http.post(WEB .. "/p", "payload", { proxy = "socks5://127.0.0.1:" .. P.socks, keepalive = false })
  end)
  test.eq(r.body, "POST /p host=127.0.0.1:" .. web.port .. " body=payload")
end)

socks_test("https over socks5 verifies the target's certificate", function()
  local r = http.get(TLS_WEB .. "/tls", { proxy = "socks5h://127.0.0.1:" .. P.socks, tls = TLS_OPTS })
  test.eq(r.body, "GET /tls host=localhost:" .. tls_web.port .. " body=")
  test.raises(function() http.get(TLS_WEB, { proxy = "socks5h://127.0.0.1:" .. P.socks }) end, "ECERT")
end)

socks_test("socks5 user/password (RFC 1929): accepted, rejected, missing", function()
  local good = "socks5://alice:s3cret@127.0.0.1:" .. P.socks_auth
  test.eq(http.get(WEB .. "/auth", { proxy = good }).status, 200)
  test.raises(function() http.get(WEB, { proxy = "socks5://alice:wrong@127.0.0.1:" .. P.socks_auth }) end, "EPROXYAUTH")
  local err = test.raises(function() http.get(WEB, { proxy = "socks5://127.0.0.1:" .. P.socks_auth }) end, "EPROXYAUTH")
  assert(tostring(err):find("requires authentication"), tostring(err))
end)

socks_test("socks5: a refused target is EPROXY", function()
  local port = proc.free_port()
  local err = test.raises(function()
    http.get("http://127.0.0.1:" .. port .. "/", { proxy = "socks5://127.0.0.1:" .. P.socks })
  end, "EPROXY")
  assert(tostring(err):find("could not connect"), tostring(err))
end)

socks_test("raw TCP over socks5 and socks5h (net.tcp.connect with proxy)", function()
  for _, scheme in ipairs({ "socks5", "socks5h" }) do
    local c = through_proxy(P.socks, "connected to 127.0.0.1:" .. echo.port, function()
      return net.tcp.connect("127.0.0.1", echo.port, { proxy = scheme .. "://127.0.0.1:" .. P.socks, timeout = 5000 })
    end)
    test.eq(c:read_line(), "banner")
    c:write("hi\n")
    test.eq(c:read_line(), "echo:hi")
    c:close()
  end
  local c = net.tcp.connect("127.0.0.1", echo.port, { proxy = "socks5://alice:s3cret@127.0.0.1:" .. P.socks_auth })
  test.eq(c:read_line(), "banner")
  c:close()
end)

socks_test("net.socks5.connect returns a net.tcp connection", function()
  local c = through_proxy(P.socks, "connected to", function()
    return net.socks5.connect("127.0.0.1", P.socks, "localhost", echo.port)
  end)
  test.eq(c:read_line(), "banner")
  c:write("x\n")
  test.eq(c:read_line(), "echo:x")
  assert(tostring(c):find("tcp.conn"))
  c:close()
  c = net.socks5.connect("127.0.0.1", P.socks_auth, "127.0.0.1", echo.port, "alice", "s3cret")
  test.eq(c:read_line(), "banner")
  c:close()
  test.raises(function() net.socks5.connect("127.0.0.1", P.socks_auth, "127.0.0.1", echo.port, "alice", "nope") end,
    "EPROXYAUTH")
end)

-- HTTP proxies ------------------------------------------------------------------------------------

tiny_test("plain http through an HTTP proxy (absolute-form)", function()
  local r = through_proxy(P.tiny, "GET " .. WEB .. "/abs?x=1", function()
    return http.get(WEB .. "/abs?x=1", { proxy = "http://127.0.0.1:" .. P.tiny })
  end)
  test.eq(r.status, 200)
  test.eq(r.body, "GET /abs?x=1 host=127.0.0.1:" .. web.port .. " body=")
  r = http.post(WEB .. "/abs", "data", { proxy = "http://127.0.0.1:" .. P.tiny })
  test.eq(r.body, "POST /abs host=127.0.0.1:" .. web.port .. " body=data")
end)

tiny_test("https through an HTTP proxy (CONNECT)", function()
  local r = through_proxy(P.tiny, "CONNECT localhost:" .. tls_web.port, function()
    return http.get(TLS_WEB .. "/connect", { proxy = "http://127.0.0.1:" .. P.tiny, tls = TLS_OPTS })
  end)
  test.eq(r.body, "GET /connect host=localhost:" .. tls_web.port .. " body=")
end)

tiny_test("HTTP proxy Basic auth: accepted and rejected (407 = EPROXYAUTH)", function()
  local good = "http://bob:secret@127.0.0.1:" .. P.tiny_auth
  test.eq(http.get(WEB .. "/a", { proxy = good }).status, 200)
  test.eq(http.get(TLS_WEB .. "/a", { proxy = good, tls = TLS_OPTS }).status, 200)
  test.raises(function()
    http.get(TLS_WEB, { proxy = "http://bob:bad@127.0.0.1:" .. P.tiny_auth, tls = TLS_OPTS })
  end, "EPROXYAUTH")
  -- absolute-form: the proxy's refusal is the response (tinyproxy answers 401, others 407)
  local st = http.get(WEB, { proxy = "http://127.0.0.1:" .. P.tiny_auth }).status
  assert(st == 407 or st == 401, st)
end)

tiny_test("raw TCP through HTTP CONNECT keeps the server's first bytes", function()
  local c = net.tcp.connect("127.0.0.1", echo.port, { proxy = "http://127.0.0.1:" .. P.tiny, timeout = 5000 })
  test.eq(c:read_line(), "banner")
  c:write("via connect\n")
  test.eq(c:read_line(), "echo:via connect")
  c:close()
end)

tiny_test("CONNECT refused by the proxy is EPROXY", function()
  local port = proc.free_port()
  test.raises(function() net.tcp.connect("127.0.0.1", port, { proxy = "http://127.0.0.1:" .. P.tiny }) end, "EPROXY")
end)

-- Environment variables ---------------------------------------------------------------------------

-- Runs a moonwire child with `env` (shell assignments) that prints the result of `code`.
local function child(env, code)
  local dir = proc.tmpdir()
  proc.write_file(dir .. "/c.lua", code)
  local h = proc.start("sh -c " .. proc.quote("env " .. env .. " " .. proc.quote(MOONWIRE) .. " " .. dir ..
    "/c.lua; echo __END__"))
  for _ = 1, 500 do -- polls the output (no fork per check)
    if h:output():find("__END__") then break end
    task.sleep(0.02)
  end
  h:stop()
  return (h:output():gsub("__END__", ""):gsub("%s+$", ""))
end

local PROBE = [[
local ok, r = pcall(http.get, %q, { timeout = 5000 %s })
print(ok and ("ok " .. r.body) or ("err " .. tostring(r.code) .. " " .. tostring(r)))
]]

socks_test("ALL_PROXY, HTTP_PROXY, NO_PROXY and proxy = false", function()
  local dead = proc.free_port()
  local env_dead = "ALL_PROXY=socks5://127.0.0.1:" .. dead
  -- the environment is used
  local out = child(env_dead, PROBE:format(WEB .. "/env", ""))
  assert(out:find("^err ECONNREFUSED") and out:find("proxy"), out)
  out = child("ALL_PROXY=socks5://127.0.0.1:" .. P.socks, PROBE:format(WEB .. "/env", ""))
  test.eq(out, "ok GET /env host=127.0.0.1:" .. web.port .. " body=")
  if HAVE_TINY then
    out = child("http_proxy=http://127.0.0.1:" .. P.tiny .. " " .. env_dead, PROBE:format(WEB .. "/h", ""))
    test.eq(out, "ok GET /h host=127.0.0.1:" .. web.port .. " body=")
    out = child("HTTP_PROXY=http://127.0.0.1:" .. P.tiny, PROBE:format(WEB .. "/H", ""))
    test.eq(out, "ok GET /H host=127.0.0.1:" .. web.port .. " body=")
  end
  -- NO_PROXY (curl rules) and proxy = false bypass it
  for _, np in ipairs({ "127.0.0.1", "localhost,127.0.0.1", "*", "127.0.0.0/8", "example.com, 127.0.0.1" }) do
    out = child(env_dead .. " NO_PROXY=" .. proc.quote(np), PROBE:format(WEB .. "/np", ""))
    test.eq(out, "ok GET /np host=127.0.0.1:" .. web.port .. " body=", np)
  end
  out = child(env_dead .. " no_proxy=.localhost", PROBE:format("http://localhost:" .. web.port .. "/dot", ""))
  test.eq(out, "ok GET /dot host=localhost:" .. web.port .. " body=")
  out = child(env_dead .. " NO_PROXY=other.host", PROBE:format(WEB .. "/miss", ""))
  assert(out:find("^err ECONNREFUSED"), out)
  out = child(env_dead, PROBE:format(WEB .. "/off", ", proxy = false"))
  test.eq(out, "ok GET /off host=127.0.0.1:" .. web.port .. " body=")
  -- a malformed variable is a clear error
  out = child("ALL_PROXY=ftp://x", PROBE:format(WEB .. "/bad", ""))
  assert(out:find("^err EINVAL") and out:find("all_proxy"), out)
  -- net.tcp.connect ignores the environment
  out = child(env_dead, ("local c = net.tcp.connect('127.0.0.1', %d) print(c:read_line())"):format(echo.port))
  test.eq(out, "banner")
end)

test("cleanup", function()
  web:close()
  tls_web:close()
  echo:close()
  proc.cleanup()
end)
