---@meta timers
-- moonwire timers: the globals setTimeout/setInterval/clearTimeout/clearInterval, also
-- `require("timers")`. docs/timers.md. Each callback runs in a new task.

---@class timers
local timers = {}

---Runs `fn(...)` once after `ms` milliseconds (default 0), in a new task.
---@param fn async fun(...)
---@param ms? number
---@param ... any
---@return integer id
function timers.setTimeout(fn, ms, ...) end

---Runs `fn(...)` every `ms` milliseconds (minimum 1) until cleared; no drift.
---@param fn async fun(...)
---@param ms? number
---@param ... any
---@return integer id
function timers.setInterval(fn, ms, ...) end

---Cancels a timer (either kind); unknown ids and `nil` are ignored.
---@param id? integer
function timers.clearTimeout(id) end

---Cancels a timer (either kind); unknown ids and `nil` are ignored.
---@param id? integer
function timers.clearInterval(id) end

---Runs `fn(...)` once after `ms` milliseconds (default 0), in a new task.
---@param fn async fun(...)
---@param ms? number
---@param ... any
---@return integer id
function setTimeout(fn, ms, ...) end

---Runs `fn(...)` every `ms` milliseconds (minimum 1) until cleared; no drift.
---@param fn async fun(...)
---@param ms? number
---@param ... any
---@return integer id
function setInterval(fn, ms, ...) end

---Cancels a timer (either kind); unknown ids and `nil` are ignored.
---@param id? integer
function clearTimeout(id) end

---Cancels a timer (either kind); unknown ids and `nil` are ignored.
---@param id? integer
function clearInterval(id) end

return timers
