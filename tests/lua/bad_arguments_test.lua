-- Every public function and method, called with every kind of bad argument: each call returns
-- or raises a clear error (a string from Lua's argument checks, or an error object with a
-- code), never crashes, never hangs the caller, and leaves other connections working. Under
-- `make test-sanitize` the same calls prove that no bad-argument path leaks.
local test = require("test")

local S = dofile("tests/support/sweep.lua")(test, { wait = 0.02 })
local probe, sweep, canary_ok = S.probe, S.sweep, S.canary_ok

test("module functions", function()
  local refused = "127.0.0.1"
  sweep("net.tcp.connect", net.tcp.connect, { refused, 1, { timeout = 50 } })
  sweep("net.tcp.listen", function(...) local s = net.tcp.listen(...) s:close() end, { "127.0.0.1", 0, {} })
  sweep("net.udp.bind", function(...) local s = net.udp.bind(...) s:close() end, { "127.0.0.1", 0, {} })
  sweep("net.ws.connect", net.ws.connect, { "ws://127.0.0.1:1/", { timeout = 50 } })
  sweep("net.ws.listen", function(...) local s = net.ws.listen(...) s:close() end, { "127.0.0.1", 0, {} })
  for _, m in ipairs({ "get", "post", "put", "patch", "delete", "head", "options", "request" }) do
    sweep("http." .. m, http[m], { "http://127.0.0.1:1/", { timeout = 50 } })
  end
  sweep("http.pool", http.pool, { {} })
  sweep("net.socks5.connect", net.socks5.connect, { "127.0.0.1", 1, "127.0.0.1", 1, "u", "p", { timeout = 50 } })
  sweep("net.resolve", net.resolve, { "localhost", {} })
  sweep("task.spawn", task.spawn, { function() end })
  sweep("task.sleep", task.sleep, { 0 })
  sweep("task.channel", task.channel, { 1 })
  sweep("time.sleep", time.sleep, { 0 })
  sweep("setTimeout", function(...) clearTimeout(setTimeout(...)) end, { function() end, 1 })
  sweep("setInterval", function(...) clearInterval(setInterval(...)) end, { function() end, 1 })
  sweep("clearTimeout", clearTimeout, { 1 })
  sweep("json.encode", json.encode, { {}, {} })
  sweep("json.decode", json.decode, { "{}", {} })
  sweep("json.pretty", json.pretty, { {}, {} })
  canary_ok()
end, { timeout = 120 })

test("scripting modules: path, os_ext, time.format/parse, string and table helpers", function()
  for _, f in ipairs({ "join", "dirname", "basename", "extname", "resolve", "normalize", "is_absolute", "is_relative" }) do
    sweep("path." .. f, path[f], { "a/b", "c" })
  end
  for _, f in ipairs({ "env", "cwd", "platform", "arch", "homedir", "tmpdir", "hostname", "cpus" }) do
    sweep("os_ext." .. f, os_ext[f], { "MOONWIRE_SWEEP" })
  end
  sweep("os_ext.setenv", os_ext.setenv, { "MOONWIRE_SWEEP", "x" })
  sweep("os_ext.unsetenv", os_ext.unsetenv, { "MOONWIRE_SWEEP" })
  local cwd = os_ext.cwd()
  sweep("os_ext.chdir", function(...) local ok, e = pcall(os_ext.chdir, ...) os_ext.chdir(cwd) if not ok then error(e, 0) end end, { "." })
  sweep("time.format", time.format, { 0, "%Y" })
  sweep("time.parse", time.parse, { "2026-12-01", "%Y-%m-%d" })
  for _, f in ipairs({ "split", "trim", "ltrim", "rtrim", "starts_with", "ends_with", "contains", "pad_left",
                       "pad_right", "pad_center", "truncate", "lines", "chars", "replace_all", "count" }) do
    sweep("string." .. f, string[f], { "a,b", ",", "x", 2 })
  end
  for _, f in ipairs({ "keys", "values", "merge", "map", "filter", "find", "reduce", "contains", "slice", "reverse",
                       "clone", "is_empty", "count" }) do
    sweep("table." .. f, table[f], { { 1, 2 }, function() return true end, 1 })
  end
  test.eq(os_ext.cwd(), cwd)
  canary_ok()
end, { timeout = 120 })

test("methods of TCP connections and servers, open and closed", function()
  local s = net.tcp.listen(0)
  local peer
  local acceptor = task.spawn(function() peer = s:accept() end)
  local c = net.tcp.connect("127.0.0.1", s.port)
  acceptor:join(5)
  for _, m in ipairs({ "read", "read_line", "read_exactly", "write", "write_all", "set_timeout", "shutdown",
                       "starttls", "flush", "peer_addr", "local_addr" }) do
    sweep("conn:" .. m, function(...) return c[m](c, ...) end, { 1 })
    probe("conn." .. m .. " on a non-connection", c[m], {}, 1)
  end
  for _, m in ipairs({ "accept", "local_addr" }) do
    sweep("server:" .. m, function(...) return s[m](s, ...) end, { 1 })
  end
  c:close()
  peer:close()
  s:close()
  for _, m in ipairs({ "read", "write", "read_line", "set_timeout", "close", "shutdown", "starttls" }) do
    sweep("closed conn:" .. m, function(...) return c[m](c, ...) end, { 1 })
  end
  sweep("closed server:accept", function(...) return s:accept(...) end, { 1 })
  canary_ok()
end, { timeout = 120 })

test("methods of UDP sockets, WebSockets, channels and tasks", function()
  local u = net.udp.bind(0)
  for _, m in ipairs({ "send", "recv", "connect", "send_connected", "set_broadcast", "set_timeout", "join_group",
                       "leave_group", "set_multicast_ttl", "set_ttl" }) do
    if u[m] then sweep("udp:" .. m, function(...) return u[m](u, ...) end, { "x", "127.0.0.1", 1 }) end
  end
  u:close()
  sweep("closed udp:send", function(...) return u:send(...) end, { "x", "127.0.0.1", 1 })

  local server = net.ws.listen(0)
  local accepted
  local acceptor = task.spawn(function() accepted = server:accept() end)
  local ws = net.ws.connect("ws://127.0.0.1:" .. server.port .. "/")
  acceptor:join(5)
  for _, m in ipairs({ "send", "recv", "ping", "pong", "set_timeout", "close" }) do
    sweep("ws:" .. m, function(...) return ws[m](ws, ...) end, { "x" })
  end
  for _, m in ipairs({ "broadcast", "accept", "clients", "client_count" }) do
    sweep("ws server:" .. m, function(...) return server[m](server, ...) end, { "x" })
  end
  ws:close()
  accepted:close()
  server:close()

  local ch = task.channel(1)
  for _, m in ipairs({ "send", "recv", "len", "close" }) do
    sweep("channel:" .. m, function(...) return ch[m](ch, ...) end, { 1 })
  end
  local t = task.spawn(function() task.sleep(0.01) end)
  sweep("task:join", function(...) return t:join(...) end, { 1 })
  sweep("task:cancel", function(...) return t:cancel(...) end, {})
  canary_ok()
end, { timeout = 120 })

test("cleanup", S.close_canary)
