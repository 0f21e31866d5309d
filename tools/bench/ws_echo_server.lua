-- moonwire WebSocket echo server for `make bench`: net.ws.listen, an accept loop, one task per
-- connection, ws:recv() -> ws:send(data, type). Also the server of the idle WebSocket
-- connection memory benchmark (an idle connection's task sits blocked in ws:recv()).
-- usage: moonwire tools/bench/ws_echo_server.lua [PORT]   (prints "PORT <n>" when listening)
local server = net.ws.listen("127.0.0.1", tonumber(arg[1]) or 0, { backlog = 4096 })
print("PORT " .. server.port)
io.stdout:flush()

local function serve(ws)
  while true do
    local msg = ws:recv()
    if msg == nil or msg.type == "close" then break end
    if msg.type == "text" or msg.type == "binary" then ws:send(msg.data, msg.type) end
  end
end

local function handle(ws)
  pcall(serve, ws) -- a peer reset at the end of a run is not an error here
end

while true do
  local ok, ws = pcall(server.accept, server)
  if not ok then break end -- server closed (shutdown)
  task.spawn(handle, ws)
end
