-- Shared by the seed compatibility layers: callbacks as tasks, argument checks.
--
-- run(fn, ...) starts fn(...) as a task of its own (task.spawn: it runs at once until its first
-- suspension, so callbacks start in the order their events arrived). A callback may therefore
-- call blocking-looking functions (task.sleep, net.http.get) without holding up the connection
-- that called it, and one that raises is reported on stderr as an uncaught task failure
-- ("moonwire: task N failed: ...", exit code 1 at the end) while every other callback and event
-- carries on.
local einval = require("compat.errors").einval

local M = {}

function M.run(fn, ...)
  if fn ~= nil then task.spawn(fn, ...) end
end

-- Wrong type of argument: Lua's usual argument error, naming the seed's function.
function M.type_error(fname, argn, expected, got)
  error(string.format("bad argument #%d to '%s' (%s expected, got %s)", argn, fname, expected,
    type(got)), 3)
end
M.einval = M.type_error

-- Wrong value: an EINVAL error object at the caller's call site.
function M.bad_value(fname, message)
  einval(fname .. ": " .. message, 3)
end

-- A callbacks table: nil → {}; unknown keys → EINVAL with "did you mean"; non-functions refused.
function M.check_table(fname, t, known)
  if t == nil then return {} end
  for k, v in pairs(t) do
    local found = false
    for _, name in ipairs(known) do
      if k == name then found = true end
    end
    if not found then
      local hint = M.closest(tostring(k), known)
      einval(string.format("%s: unknown callback '%s'%s", fname, tostring(k),
        hint and (" (did you mean '" .. hint .. "'?)") or ""), 3)
    end
    if type(v) ~= "function" then
      einval(string.format("%s: callback '%s' must be a function (got %s)", fname, k, type(v)), 3)
    end
  end
  return t
end

-- The known name within edit distance 2 of `name`, if any.
function M.closest(name, known)
  local best, best_d
  for _, cand in ipairs(known) do
    local a, b = name, cand
    local prev = {}
    for j = 0, #b do prev[j] = j end
    for i = 1, #a do
      local cur = { [0] = i }
      for j = 1, #b do
        local cost = a:byte(i) == b:byte(j) and 0 or 1
        cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
      end
      prev = cur
    end
    local d = prev[#b]
    if d <= 2 and (not best_d or d < best_d) then best, best_d = cand, d end
  end
  return best
end

-- True for the error a cancelled task gets (close() during connect cancels the attempt).
function M.is_cancel(err)
  return type(err) == "table" and err.code == "cancelled"
end

-- A port argument: integer 0..65535.
function M.check_port(fname, argn, port)
  if math.type(port) ~= "integer" then
    if type(port) == "number" then M.bad_value(fname, "invalid port " .. tostring(port) .. ": must be an integer 0..65535") end
    M.type_error(fname, argn, "integer port", port)
  end
  if port < 0 or port > 65535 then M.bad_value(fname, "invalid port " .. port .. ": must be 0..65535") end
end

return M
