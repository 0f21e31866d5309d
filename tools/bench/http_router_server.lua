-- moonwire HTTP router benchmark server: http.server.new() with 20 routes, the benchmarked one
-- last with a path parameter (/users/:id), each answering a SIZE-byte text/plain body. The
-- bare-handler server (tools/bench/http_server.lua) is the baseline: the ratio is the router's
-- overhead (route matching, ctx, params).
-- usage: moonwire tools/bench/http_router_server.lua [PORT] [SIZE]   (prints "PORT <n>")
local port = math.tointeger(tonumber(arg[1]) or 0)
local size = math.tointeger(tonumber(arg[2]) or 1024)
local body = string.rep("x", size)

local app = http.server.new()
for i = 1, 19 do
  app:get("/static/route" .. i .. "/:name", function(ctx) return body end)
end
app:get("/users/:id", function(ctx)
  if ctx.params.id == nil then error("no id") end
  ctx:header("content-type", "text/plain")
  return body
end)
app:listen(port, { idle_timeout = 120000 }, function(p)
  print("PORT " .. p)
  io.stdout:flush()
end)
