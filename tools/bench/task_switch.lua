-- Task switch benchmark: TOTAL task.yield() round trips spread over TASKS tasks.
-- usage: moonwire tools/bench/task_switch.lua TOTAL [TASKS]
-- prints: switches=<n> seconds=<s> rate=<switches/s>
local total = math.tointeger(tonumber(arg[1]) or 1000000)
local ntasks = math.tointeger(tonumber(arg[2]) or 1)
local per = total // ntasks

local function body(n)
  local yield = task.yield
  for _ = 1, n do yield() end
end

local t0 = time.monotonic()
local tasks = {}
for i = 1, ntasks do tasks[i] = task.spawn(body, per) end
for i = 1, ntasks do tasks[i]:join() end
local secs = time.monotonic() - t0
local n = per * ntasks
print(("switches=%d seconds=%.6f rate=%.0f"):format(n, secs, n / secs))
