-- moonwire HTTP server for `make bench`: net.http.listen with a Lua handler returning a
-- SIZE-byte text/plain body (the handler nginx+Lua and the other servers run too).
-- usage: moonwire tools/bench/http_server.lua [PORT] [SIZE]   (prints "PORT <n>" when listening)
local port = math.tointeger(tonumber(arg[1]) or 0)
local size = math.tointeger(tonumber(arg[2]) or 1024)
local body = string.rep("x", size)

-- A returned string is a 200 text/plain response (its Content-Length set by the server).
local srv = net.http.listen("127.0.0.1", port, function(req)
  return body
end, { idle_timeout = 120000 })
print("PORT " .. srv.port)
io.stdout:flush()
srv:wait()
