-- moonwire WebSocket broadcast server for `make bench`: an accept loop, one task per connection
-- reading it; a text message "N SIZE" from any client makes the server call
-- server:broadcast(data) N times with SIZE-byte text messages (every open connection gets each).
-- The same protocol as `bench_beast_ws_echo_server 0 broadcast`.
-- usage: moonwire tools/bench/ws_broadcast_server.lua [PORT]   (prints "PORT <n>")
-- max_queue: Beast's and Node's queues are unbounded; a round queues COUNT x SIZE bytes per client.
local server = net.ws.listen("127.0.0.1", tonumber(arg[1]) or 0, { backlog = 4096, max_queue = 256 * 1024 * 1024 })
print("PORT " .. server.port)
io.stdout:flush()

local letters = "abcdefghijklmnopqrstuvwxyz"

local function serve(ws)
  while true do
    local msg = ws:recv()
    if msg == nil or msg.type == "close" then break end
    local n, size = (msg.data or ""):match("^(%d+) (%d+)$")
    if n then
      for i = 0, tonumber(n) - 1 do
        local k = i % 26 + 1
        server:broadcast(letters:sub(k, k):rep(tonumber(size)), "text")
      end
    end
  end
end

while true do
  local ok, ws = pcall(server.accept, server)
  if not ok then break end -- server closed (shutdown)
  task.spawn(function() pcall(serve, ws) end)
end
