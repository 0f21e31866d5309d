-- moonwire HTTP client under connection churn, for `make soak` (tools/soak/run.sh): every
-- request is a fresh connection (`keepalive = false`, and the nginx of the soak run has
-- `keepalive_timeout 0`), SIZE-byte body checked. Driven by lines on stdin, so the runner
-- samples /proc/PID between batches while nothing is in flight:
--   "run N"  -> N GETs of URL by CONNS concurrent tasks; answers "done=N errors=E seconds=S"
--   "gc"     -> full garbage collection; answers "lua_bytes=B"
--   EOF      -> exit
-- usage: moonwire tools/soak/http_client.lua URL [CONNS] [SIZE]   (prints "READY" first)
local url = assert(arg[1], "usage: http_client.lua URL [CONNS] [SIZE]")
local conns = math.tointeger(tonumber(arg[2]) or 20)
local size = math.tointeger(tonumber(arg[3]) or 1024)

local function say(s)
  io.stdout:write(s, "\n")
  io.stdout:flush()
end

local function batch(n)
  local left, errors = n, 0
  local first_error
  local function worker()
    while left > 0 do
      left = left - 1
      local ok, r = pcall(http.get, url, { keepalive = false, timeout = 10000 })
      if not ok or r.status ~= 200 or #r.body ~= size then
        errors = errors + 1
        first_error = first_error or (ok and ("status " .. r.status .. ", " .. #r.body .. " bytes") or tostring(r))
      end
    end
  end
  local t0 = time.monotonic()
  local tasks = {}
  for i = 1, math.min(conns, n) do tasks[i] = task.spawn(worker) end
  for _, t in ipairs(tasks) do t:join() end
  if first_error then io.stderr:write("http_client: ", first_error, "\n") end
  return ("done=%d errors=%d seconds=%.3f"):format(n, errors, time.monotonic() - t0)
end

say("READY")
for line in io.lines() do
  local n = line:match("^run (%d+)$")
  if n then
    say(batch(tonumber(n)))
  elseif line == "gc" then
    collectgarbage("collect")
    collectgarbage("collect")
    say(("lua_bytes=%d"):format(math.floor(collectgarbage("count") * 1024)))
  else
    say("error=unknown command")
  end
end
