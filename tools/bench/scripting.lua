-- The scripting benchmarks (tools/bench/suites/scripting.sh), timed inside moonwire:
--   exec COUNT          COUNT sequential process.exec("true")       (through /bin/sh -c)
--   spawn COUNT         COUNT sequential process.spawn("true")      (no shell)
--   copy FROM TO        one fs.copy(FROM, TO)
--   sha256 FILE         crypto.sha256 of the file's content (read first, not timed)
--   buffer COUNT        COUNT int32 written to a buffer, then read back
--   pack COUNT          the same with string.pack/string.unpack (parts joined with table.concat)
-- prints: key=value pairs, "seconds" the timed part, "rate" per second where it applies.
local mode, a, b = ...
local now = time.monotonic

local function report(fmt, ...) print(string.format(fmt, ...)) end

if mode == "exec" or mode == "spawn" then
  local n = math.tointeger(tonumber(a)) or 1000
  local run = mode == "exec" and function() return process.exec("true") end
    or function() return process.spawn("true") end
  local t0 = now()
  for _ = 1, n do
    local r = run()
    if not r.success then error("true failed: " .. tostring(r.status)) end
  end
  local secs = now() - t0
  report("spawns=%d seconds=%.3f rate=%.1f", n, secs, n / secs)
elseif mode == "copy" then
  local t0 = now()
  local bytes = fs.copy(a, b)
  local secs = now() - t0
  report("bytes=%d seconds=%.3f rate=%.1f", fs.size(b), secs, fs.size(b) / secs)
elseif mode == "sha256" then
  local data = fs.read_bytes(a)
  local t0 = now()
  local hex = crypto.sha256(data)
  local secs = now() - t0
  report("bytes=%d seconds=%.3f rate=%.1f digest=%s", #data, secs, #data / secs, hex)
elseif mode == "buffer" then
  local n = math.tointeger(tonumber(a)) or 1000000
  local t0 = now()
  local buf = buffer.new()
  for i = 1, n do buf:writeInt32LE(i) end
  local t1 = now()
  buf:seek(1)
  local sum = 0
  for _ = 1, n do sum = sum + buf:readInt32LE() end
  local t2 = now()
  assert(sum == n * (n + 1) // 2 and #buf == 4 * n)
  report("count=%d pack=%.3f unpack=%.3f seconds=%.3f rate=%.1f", n, t1 - t0, t2 - t1, t2 - t0, n / (t2 - t0))
elseif mode == "pack" then
  local n = math.tointeger(tonumber(a)) or 1000000
  local pack, unpack = string.pack, string.unpack
  local t0 = now()
  local parts = {}
  for i = 1, n do parts[i] = pack("<i4", i) end
  local s = table.concat(parts)
  local t1 = now()
  local sum, pos, v = 0, 1, nil
  for _ = 1, n do
    v, pos = unpack("<i4", s, pos)
    sum = sum + v
  end
  local t2 = now()
  assert(sum == n * (n + 1) // 2 and #s == 4 * n)
  report("count=%d pack=%.3f unpack=%.3f seconds=%.3f rate=%.1f", n, t1 - t0, t2 - t1, t2 - t0, n / (t2 - t0))
else
  error("usage: scripting.lua exec|spawn|copy|sha256|buffer|pack ARGS")
end
