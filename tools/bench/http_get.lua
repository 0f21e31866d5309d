-- moonwire HTTP client benchmark: CONNS tasks each loop keep-alive GETs of URL (body checked
-- against SIZE) for WARMUP + DURATION seconds; requests completed during DURATION are counted.
-- The pool may keep up to 64 idle connections per origin, above the 50 requesters, so its size
-- never closes a connection (the default, 16, also kept 50 connections in a test run).
-- usage: moonwire tools/bench/http_get.lua URL [CONNS] [DURATION] [WARMUP] [SIZE]
-- prints: reqs=<n> seconds=<s> rate=<requests/s> conns=<c> connections=<opened>
local url = assert(arg[1], "usage: http_get.lua URL [CONNS] [DURATION] [WARMUP] [SIZE]")
local conns = math.tointeger(tonumber(arg[2]) or 50)
local duration = tonumber(arg[3]) or 3
local warmup = tonumber(arg[4]) or 0.5
local size = math.tointeger(tonumber(arg[5]) or 1024)

http.pool({ max_idle_per_origin = 64 })

local measuring, stopping, reqs = false, false, 0
local get = http.get

local function loop()
  while not stopping do
    local r = get(url)
    if r.status ~= 200 or #r.body ~= size then error("bad response: " .. r.status .. " " .. #r.body) end
    if measuring then reqs = reqs + 1 end
  end
end

local tasks = {}
for i = 1, conns do tasks[i] = task.spawn(loop) end
task.sleep(warmup)
measuring = true
local t0 = time.monotonic()
task.sleep(duration)
measuring = false
local secs = time.monotonic() - t0
stopping = true
for i = 1, conns do tasks[i]:join() end
print(("reqs=%d seconds=%.6f rate=%.0f conns=%d"):format(reqs, secs, reqs / secs, conns))
