-- Redis GET/SET load from N tasks sharing one client (auto-pipelined on one connection).
-- usage: moonwire redis_client.lua PORT TASKS SECONDS [VALUE_SIZE]
-- prints: ops=<n> secs=<s> rate=<ops/s>
local port, ntasks, secs, size = tonumber(arg[1]), tonumber(arg[2] or 50), tonumber(arg[3] or 3), tonumber(arg[4] or 64)
local r = redis.connect({ port = port })
local value = string.rep("x", size)
local ops, stop = 0, false
local function worker(i)
  local key = "bench:" .. i
  while not stop do
    r:set(key, value)
    r:get(key)
    ops = ops + 2
  end
end
-- warm-up, then measure
local tasks = {}
for i = 1, ntasks do tasks[i] = task.spawn(worker, i) end
task.sleep(0.3)
local t0, o0 = time.monotonic(), ops
task.sleep(secs)
local dt, n = time.monotonic() - t0, ops - o0
stop = true
for i = 1, ntasks do tasks[i]:join() end
r:close()
print(("ops=%d secs=%.3f rate=%.0f"):format(n, dt, n / dt))
