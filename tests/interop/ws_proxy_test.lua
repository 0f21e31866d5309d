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
  proc.start("microsocks -i 127.0.0.1 -p " .. port)
  proc.wait_port(port)
  return port
end

local function start_tinyproxy()
  local dir = proc.tmpdir()
  local port = proc.free_port()
  proc.write_file(dir .. "/tinyproxy.conf", table.concat({ "Port " .. port, "Listen 127.0.0.1", "Timeout 30",
    "MaxClients 50", "LogLevel Connect", "LogFile \"" .. dir .. "/tinyproxy.log\"", "Allow 127.0.0.1",
    "DisableViaHeader Yes" }, "\n") .. "\n")
  proc.start("tinyproxy -d -c " .. dir .. "/tinyproxy.conf")
  proc.wait_port(port)
  return port
end

local function through(proxy_url)
  local server = echo_server()
  local ws = net.ws.connect("ws://127.0.0.1:" .. server.port .. "/p", { proxy = proxy_url, timeout = 5000 })
  ws:set_timeout(5000)
  ws:send("hi")
  test.eq(ws:recv().data, "/p hi")
  ws:close()
  server:close()
  local certs = proc.make_certs(proc.tmpdir())
  local tls_server = echo_server({ tls = { cert_file = certs.cert, key_file = certs.key } })
  local wss = net.ws.connect("wss://localhost:" .. tls_server.port .. "/s",
    { proxy = proxy_url, tls = { ca_file = certs.ca }, timeout = 5000 })
  wss:set_timeout(5000)
  wss:send("secure")
  test.eq(wss:recv().data, "/s secure")
  wss:close()
  tls_server:close()
end

local t1 = proc.peer_test(test, have("microsocks"), "microsocks")
t1("ws and wss through a SOCKS5 proxy", function()
  local port = start_microsocks()
  through("socks5://127.0.0.1:" .. port)
  through("socks5h://127.0.0.1:" .. port)
end)

local t2 = proc.peer_test(test, have("tinyproxy"), "tinyproxy")
t2("ws and wss through an HTTP CONNECT proxy", function()
  through("http://127.0.0.1:" .. start_tinyproxy())
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
