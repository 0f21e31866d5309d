-- net.ws through proxies: SOCKS5 (microsocks) and HTTP CONNECT (tinyproxy), ws:// and wss://.
local test = require("test")
local proc = dofile("tests/support/proc.lua")

local function have(bin) return os.execute("command -v " .. bin .. " >/dev/null 2>&1") == true end

test.after_each(function() proc.cleanup() end)

local function echo_server(opts)
  local server = net.ws.listen(0, opts)
  proc.serve(server, function(c)
    while true do
      local m = c:recv()
      if not m or m.type == "close" then return end
      if m.type == "text" then c:send(c.path .. " " .. m.data) end
    end
  end)
  return server
end

local function start_microsocks()
  local port = proc.free_port()
  local h = proc.start("microsocks -i 127.0.0.1 -p " .. port)
  proc.wait_port(port)
  return port, function() return h:output() end
end

local function start_tinyproxy()
  local dir = proc.tmpdir()
  local port = proc.free_port()
  proc.write_file(dir .. "/tinyproxy.conf", table.concat({ "Port " .. port, "Listen 127.0.0.1", "Timeout 30",
    "MaxClients 50", "LogLevel Connect", "LogFile \"" .. dir .. "/tinyproxy.log\"", "Allow 127.0.0.1",
    "DisableViaHeader Yes" }, "\n") .. "\n")
  proc.start("tinyproxy -d -c " .. dir .. "/tinyproxy.conf")
  proc.wait_port(port)
  return port, function() return proc.read_file(dir .. "/tinyproxy.log") or "" end
end

-- The proxy's log must show a connection to `port`: the same replies would come without it.
local function check_log(log, text)
  for _ = 1, 100 do
    if log():find(text, 1, true) then return end
    task.sleep(0.02)
  end
  error("the proxy did not log '" .. text .. "':\n" .. log(), 2)
end

local function through(proxy_url, log, logged)
  local server = echo_server()
  local ws = net.ws.connect("ws://127.0.0.1:" .. server.port .. "/p", { proxy = proxy_url, timeout = 5000 })
  ws:set_timeout(5000)
  ws:send("hi")
  test.eq(ws:recv().data, "/p hi")
  check_log(log, logged(server.port))
  ws:close()
  server:close()
  local certs = proc.make_certs(proc.tmpdir())
  local tls_server = echo_server({ tls = { cert_file = certs.cert, key_file = certs.key } })
  local wss = net.ws.connect("wss://localhost:" .. tls_server.port .. "/s",
    { proxy = proxy_url, tls = { ca_file = certs.ca }, timeout = 5000 })
  wss:set_timeout(5000)
  wss:send("secure")
  test.eq(wss:recv().data, "/s secure")
  check_log(log, logged(tls_server.port, "localhost"))
  wss:close()
  tls_server:close()
end

local t1 = proc.peer_test(test, have("microsocks"), "microsocks")
t1("ws and wss through a SOCKS5 proxy", function()
  local port, log = start_microsocks()
  -- microsocks logs what it was asked to connect to: socks5 sends the address we resolved,
  -- socks5h the name.
  through("socks5://127.0.0.1:" .. port, log, function(p) return "connected to 127.0.0.1:" .. p end)
  through("socks5h://127.0.0.1:" .. port, log, function(p, host) return "connected to " .. (host or "127.0.0.1") .. ":" .. p end)
end)

local t2 = proc.peer_test(test, have("tinyproxy"), "tinyproxy")
t2("ws and wss through an HTTP CONNECT proxy", function()
  local port, log = start_tinyproxy()
  through("http://127.0.0.1:" .. port, log, function(p, host) return "CONNECT " .. (host or "127.0.0.1") .. ":" .. p end)
end)

test("a proxy that is not there: EPROXY-style error, not a hang", function()
  local server = echo_server()
  local port = proc.free_port()
  local err = test.raises(function()
    net.ws.connect("ws://127.0.0.1:" .. server.port .. "/", { proxy = "socks5://127.0.0.1:" .. port, timeout = 5000 })
  end)
  test.matches(tostring(err), "proxy")
  server:close()
end)
