-- WebSocket server for the workers benchmark (run with `moonwire --workers N`): every accepted
-- connection first gets a text message with the worker's id ("1".."N"; "0" outside worker
-- mode), then its messages are echoed. All workers share PORT (SO_REUSEPORT, the default in
-- worker mode), so the port must be given.
-- usage: moonwire --workers N tools/bench/ws_worker_server.lua PORT   (each worker prints "PORT <n>")
local port = assert(math.tointeger(tonumber(arg[1])), "usage: ws_worker_server.lua PORT")
local server = net.ws.listen("127.0.0.1", port, { backlog = 4096 })
local id = tostring(process.worker_id() or 0)
print("PORT " .. server.port)
io.stdout:flush()

local function serve(ws)
  ws:send(id)
  while true do
    local msg = ws:recv()
    if msg == nil or msg.type == "close" then break end
    if msg.type == "text" or msg.type == "binary" then ws:send(msg.data, msg.type) end
  end
end

while true do
  local ok, ws = pcall(server.accept, server)
  if not ok then break end
  task.spawn(function() pcall(serve, ws) end)
end
