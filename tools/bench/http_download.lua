-- moonwire download benchmark: one GET of URL with save_to_file = PATH; prints the time, the
-- size written and this process's peak RSS (VmHWM from /proc/self/status) before and after.
-- usage: moonwire tools/bench/http_download.lua URL PATH
-- prints: bytes=<n> seconds=<s> rate=<MiB/s> hwm_before_kib=<k> hwm_kib=<k>
local url, path = assert(arg[1]), assert(arg[2])

local function hwm()
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)"))
end

local h0 = hwm()
local t0 = time.monotonic()
local r = http.get(url, { save_to_file = path })
local secs = time.monotonic() - t0
assert(r.status == 200 and r.body == nil and r.file == path, "download failed: " .. tostring(r.status))
local f = assert(io.open(path, "rb"))
local bytes = f:seek("end")
f:close()
print(("bytes=%d seconds=%.6f rate=%.1f hwm_before_kib=%d hwm_kib=%d"):format(bytes, secs,
  bytes / secs / 1048576, h0, hwm()))
