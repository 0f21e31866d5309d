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
-- The 26 payloads of one size, built once: string.rep of a one-character string is a memcpy
-- per byte (~27k instructions for 4 KiB), more than the broadcast itself to 100 clients; the
-- Beast server fills a std::string (a memset). What is measured is server:broadcast.
local payloads = setmetatable({}, { __index = function(t, size)
  local list = {}
  for k = 1, 26 do list[k] = letters:sub(k, k):rep(size) end
  t[size] = list
  return list
end })

local function serve(ws)
  while true do
    local msg = ws:recv()
    if msg == nil or msg.type == "close" then break end
    local n, size = (msg.data or ""):match("^(%d+) (%d+)$")
    if n then
      local list = payloads[tonumber(size)]
      for i = 0, tonumber(n) - 1 do
        server:broadcast(list[i % 26 + 1], "text")
      end
    end
  end
end

while true do
  local ok, ws = pcall(server.accept, server)
  if not ok then break end -- server closed (shutdown)
  task.spawn(function() pcall(serve, ws) end)
end
