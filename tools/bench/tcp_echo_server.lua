-- moonwire TCP echo server for `make bench`: an accept loop, one task per connection,
-- conn:read(4096) -> conn:write(data). Also the server of the idle-connection memory benchmark
-- (an idle connection's task sits blocked in conn:read()).
-- usage: moonwire tools/bench/tcp_echo_server.lua [PORT]   (prints "PORT <n>" when listening)
local server = net.tcp.listen("127.0.0.1", tonumber(arg[1]) or 0, { backlog = 4096 })
print("PORT " .. server.port)
io.stdout:flush()

local function serve(conn)
  conn:set_nodelay(true)
  while true do
    local data = conn:read(4096)
    if not data then break end
    conn:write(data)
  end
end

local function handle(conn)
  pcall(serve, conn) -- a peer reset at the end of a run is not an error here
  conn:close()
end

while true do
  local ok, conn = pcall(server.accept, server)
  if not ok then break end -- server closed (shutdown)
  task.spawn(handle, conn)
end
