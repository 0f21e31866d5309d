-- moonwire WebSocket broadcast server for the slow-consumer soak test (tools/soak/run.sh, with
-- tools/soak/ws_soak_clients slow). One task per connection reads it:
--   "slow" / "fast"        tags the connection (printed: "CONN <id> <tag>")
--   "go N SIZE MS"         starts the producer: every 10 ms, N server:broadcast()s of SIZE-byte
--                          text messages, for MS ms; then one broadcast "end <total>"
-- Each connection's end is printed as "CLOSED <id> <tag> code=<c> clean=<b> reason=<r>" (from
-- its close entry); "CUT at_message=<n> t=<s> reached=<r>" when a broadcast reaches fewer
-- connections than the one before; at the end the producer prints "BROADCAST total=<n> reached_min=<r> reached_max=<r>".
-- usage: moonwire tools/soak/ws_broadcast_server.lua [PORT] [MAX_QUEUE_BYTES]   (prints "PORT <n>")
local max_queue = math.tointeger(tonumber(arg[2]) or 1048576)
local server = net.ws.listen("127.0.0.1", tonumber(arg[1]) or 0, { backlog = 4096, max_queue = max_queue })
local function say(...)
  io.stdout:write(table.concat({ ... }, " "), "\n")
  io.stdout:flush()
end
say("PORT " .. server.port)

local letters = "abcdefghijklmnopqrstuvwxyz"

local function produce(n, size, ms)
  local total, rmin, rmax = 0, math.huge, 0
  local t0 = time.monotonic()
  local t_end = t0 + ms / 1000
  local k, last = 0, nil
  while time.monotonic() < t_end do
    for _ = 1, n do
      k = k % 26 + 1
      local reached = server:broadcast(letters:sub(k, k):rep(size), "text")
      total = total + 1
      if last and reached < last then -- someone was cut off (or left) at this message
        say("CUT", "at_message=" .. total, ("t=%.2f"):format(time.monotonic() - t0), "reached=" .. reached)
      end
      last = reached
      if reached < rmin then rmin = reached end
      if reached > rmax then rmax = reached end
    end
    task.sleep(0.01)
  end
  server:broadcast("end " .. total, "text")
  say("BROADCAST", "total=" .. total, "reached_min=" .. rmin, "reached_max=" .. rmax)
end

local function serve(ws)
  local tag = "?"
  while true do
    local msg = ws:recv()
    if msg == nil then break end
    if msg.type == "close" then
      say("CLOSED", ws.id, tag, "code=" .. tostring(msg.code), "clean=" .. tostring(msg.clean),
        "reason=" .. tostring(msg.reason))
      break
    end
    local d = msg.data or ""
    if d == "slow" or d == "fast" then
      tag = d
      say("CONN", ws.id, tag)
    else
      local n, size, ms = d:match("^go (%d+) (%d+) (%d+)$")
      if n then task.spawn(produce, tonumber(n), tonumber(size), tonumber(ms)) end
    end
  end
end

while true do
  local ok, ws = pcall(server.accept, server)
  if not ok then break end -- server closed (shutdown)
  task.spawn(function() pcall(serve, ws) end)
end
