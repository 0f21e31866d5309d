-- moonwire WebSocket server for the shutdown soak test (tools/soak/run.sh, with
-- tools/soak/ws_soak_clients acks): every text message is recorded, then acknowledged by
-- sending it back. The record is this process's stdout, written with io.write and never
-- flushed by the script (the runner redirects it to a file, so C stdio buffers it): a message
-- the client saw acknowledged is lost if moonwire's SIGTERM shutdown does not flush stdout on
-- the way out. The port goes to stderr ("PORT <n>"), so stdout holds only the record.
-- usage: moonwire tools/soak/ack_server.lua [PORT]
local server = net.ws.listen("127.0.0.1", tonumber(arg[1]) or 0, { backlog = 4096 })
io.stderr:write("PORT ", server.port, "\n")
io.stderr:flush()

local write = io.write

local function serve(ws)
  while true do
    local msg = ws:recv()
    if msg == nil or msg.type == "close" then break end
    if msg.type == "text" then
      write("REC ", msg.data, "\n") -- recorded ...
      ws:send(msg.data)              -- ... then acknowledged
    end
  end
end

while true do
  local ok, ws = pcall(server.accept, server)
  if not ok then break end -- server closed (shutdown)
  task.spawn(function() pcall(serve, ws) end)
end
