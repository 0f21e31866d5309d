-- Connection spread over workers: opens CONNS WebSocket connections to ws_worker_server.lua
-- (all held open together, as long-lived WebSocket clients are), reads each one's first
-- message (the id of the worker that accepted it) and prints one line:
--   conns=1000 workers=2 counts=503,497 max=503 min=497 max_over_mean=1.006
-- usage: moonwire tools/bench/ws_spread.lua PORT CONNS [WORKERS]
local port = assert(math.tointeger(tonumber(arg[1])), "usage: ws_spread.lua PORT CONNS [WORKERS]")
local conns = math.tointeger(tonumber(arg[2])) or 1000
local workers = math.tointeger(tonumber(arg[3]))
local url = "ws://127.0.0.1:" .. port .. "/"
local counts, open = {}, {}
local barrier = task.channel()  -- closed once every connection is counted: all are open together
local done = task.channel(conns)

for i = 1, conns do
  task.spawn(function()
    local ok, ws = pcall(net.ws.connect, url, { timeout = 10000 })
    if not ok then return done:send(false) end
    open[i] = ws
    local msg = ws:recv()
    local id = msg and tonumber(msg.data) or -1
    counts[id] = (counts[id] or 0) + 1
    done:send(true)
    barrier:recv()
    pcall(ws.close, ws)
  end)
  if i % 100 == 0 then task.yield() end
end
local failed = 0
for _ = 1, conns do
  if not done:recv() then failed = failed + 1 end
end
barrier:close()

local n = workers or 0
for id in pairs(counts) do if id > n then n = id end end
local list, max, min = {}, 0, math.huge
for id = 1, n do
  local c = counts[id] or 0
  list[#list + 1] = c
  if c > max then max = c end
  if c < min then min = c end
end
local ok = conns - failed
print(string.format("conns=%d failed=%d workers=%d counts=%s max=%d min=%d max_over_mean=%.3f", conns, failed, n,
  table.concat(list, ","), max, min, n > 0 and max / (ok / n) or 0))
