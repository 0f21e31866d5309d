---@meta time
-- moonwire `time` (CopperMoon's): clocks, sleeping in milliseconds, formatting and parsing
-- timestamps in UTC. docs/time.md. Errors: `EINVAL` (bad timestamp, format or text).

---@class time
time = {}

---Wall-clock seconds since the Unix epoch (with fractions).
---@return number
function time.now() end

---Wall-clock milliseconds since the epoch.
---@return integer
function time.now_ms() end

---Seconds from a monotonic clock; only differences are meaningful.
---@return number
function time.monotonic() end

---Milliseconds from the monotonic clock.
---@return integer
function time.monotonic_ms() end

---Suspends the calling task for `ms` **milliseconds** (`task.sleep` takes seconds). `0` or
---negative yields once; NaN is `EINVAL`.
---@async
---@param ms number
function time.sleep(ms) end

---The timestamp as text, in UTC. Default: RFC 3339 (`2026-12-01T19:21:53Z`, with fractional
---seconds when `ts` has them); `fmt` is strftime-style plus `%f %3f %.3f %.f %s %z %:z`.
---`EINVAL` for a non-finite timestamp, a year outside 0000-9999 or an unknown conversion.
---@param ts number seconds since the epoch
---@param fmt? string
---@return string
function time.format(ts, fmt) end

---Seconds since the epoch (an integer, or a float with a fraction). Without `fmt`: RFC 3339
---and its usual relaxations (a date alone, a space for `T`, offsets); with it, the conversions
---`time.format` writes. `EINVAL` naming what was expected and where.
---@param s string
---@param fmt? string
---@return number
function time.parse(s, fmt) end

return time
