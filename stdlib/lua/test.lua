-- test: the small test module used by `moonwire test`.
--
--   local test = require("test")
--   test("adds", function() test.eq(1 + 1, 2) end)
--   test.skip("not yet", function() end)
--
-- Under `moonwire test`, `require("test")` inside a test file returns a fresh collector for that
-- file (the runner, stdlib/lua/_testrunner.lua, creates it with `test.new()`); the runner then
-- runs every registered test in its own task. Assertions raise plain string errors whose
-- position points at the caller, so the failure is reported at the line of the test.

local type, tostring, tonumber, next, rawget, rawequal, getmetatable, setmetatable, pcall, error =
  type, tostring, tonumber, next, rawget, rawequal, getmetatable, setmetatable, pcall, error
local mtype, huge, abs = math.type, math.huge, math.abs
local fmt, concat, sort = string.format, table.concat, table.sort

-- Limits for printing values in failure messages.
local MAX_DEPTH = 5      -- nested tables below this print as {...}
local MAX_ITEMS = 50     -- entries per table
local MAX_STRING = 400   -- bytes per string

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local nil not or repeat
  return then true until while]]):gmatch("%a+") do KEYWORDS[w] = true end

-- Serializer ---------------------------------------------------------------------------------

local function number_repr(n)
  if mtype(n) == "integer" then return tostring(n) end
  if n ~= n then return "nan" end
  if n == huge then return "inf" end
  if n == -huge then return "-inf" end
  -- Shortest form that reads back as the same float (0.1 + 0.2 shows 0.30000000000000004).
  local s
  for p = 14, 17 do
    s = fmt("%." .. p .. "g", n)
    if tonumber(s) == n then break end
  end
  if not s:find("[%.eEn]") then s = s .. ".0" end  -- keep floats visibly floats
  return s
end

local function string_repr(s, limit)
  limit = limit or MAX_STRING
  local cut = #s > limit
  local q = fmt("%q", cut and s:sub(1, limit) or s):gsub("\\\n", "\\n")
  if cut then q = q .. fmt("...(%d bytes)", #s) end
  return q
end

local function safe_tostring(v)
  local ok, s = pcall(tostring, v)
  if ok and type(s) == "string" then return s end
  return "<" .. type(v) .. ">"
end

local TYPE_ORDER = { number = 1, string = 2, boolean = 3 }

local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    local oa, ob = TYPE_ORDER[ta] or 4, TYPE_ORDER[tb] or 4
    if oa ~= ob then return oa < ob end
    return ta < tb
  end
  if ta == "number" or ta == "string" then return a < b end
  if ta == "boolean" then return (not a) and b end
  return safe_tostring(a) < safe_tostring(b)
end

-- The raw keys of t, sorted.
local function sorted_keys(t)
  local keys, n = {}, 0
  for k in next, t do
    n = n + 1
    keys[n] = k
  end
  sort(keys, key_less)
  return keys
end

local function is_identifier(k)
  return type(k) == "string" and k:find("^[%a_][%w_]*$") ~= nil and not KEYWORDS[k]
end

local repr

local function table_repr(t, depth, seen)
  if seen[t] then return "<cycle>" end
  if depth <= 0 then return next(t) == nil and "{}" or "{...}" end
  seen[t] = true
  local parts, count = {}, 0
  -- The sequence part 1..n prints positionally.
  local n = 0
  while rawget(t, n + 1) ~= nil do n = n + 1 end
  for i = 1, n do
    if count >= MAX_ITEMS then break end
    count = count + 1
    parts[count] = repr(rawget(t, i), depth - 1, seen)
  end
  local total = n
  for _, k in ipairs(sorted_keys(t)) do
    if not (mtype(k) == "integer" and k >= 1 and k <= n) then
      total = total + 1
      if count < MAX_ITEMS then
        count = count + 1
        local ks
        if is_identifier(k) then
          ks = k
        elseif type(k) == "table" then
          ks = "[" .. safe_tostring(k) .. "]"
        else
          ks = "[" .. repr(k, 1, seen) .. "]"
        end
        parts[count] = ks .. " = " .. repr(rawget(t, k), depth - 1, seen)
      end
    end
  end
  seen[t] = nil  -- shared (non-cyclic) subtables print in full wherever they appear
  if total > count then parts[count + 1] = fmt("...(%d more)", total - count) end
  return "{" .. concat(parts, ", ") .. "}"
end

-- repr(v[, depth]): a readable, single-line rendering of any value.
function repr(v, depth, seen)
  local t = type(v)
  if t == "string" then return string_repr(v) end
  if t == "number" then return number_repr(v) end
  if t == "table" then return table_repr(v, depth or MAX_DEPTH, seen or {}) end
  return safe_tostring(v)
end

-- Deep comparison ----------------------------------------------------------------------------

local function key_path(path, k)
  if is_identifier(k) then return path .. "." .. k end
  if type(k) == "table" then return path .. "[" .. safe_tostring(k) .. "]" end
  return path .. "[" .. repr(k, 1) .. "]"
end

local function has_eq(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__eq") ~= nil
end

-- Returns nothing when a and b are deeply equal; otherwise the path of the first difference
-- ("" for the values themselves) and the two differing values there.
local function diff(a, b, path, seen)
  if rawequal(a, b) then return nil end
  local ta, tb = type(a), type(b)
  if ta == "number" and tb == "number" then
    if a == b or (a ~= a and b ~= b) then return nil end  -- 1 == 1.0; nan equals nan here
    return path, a, b
  end
  if ta ~= "table" or tb ~= "table" then
    if ta == tb and ta == "userdata" and a == b then return nil end  -- __eq
    return path, a, b
  end
  if has_eq(a) or has_eq(b) then
    if a == b then return nil end
    if getmetatable(a) == getmetatable(b) then return path, a, b end
  end
  local sa = seen[a]
  if sa and sa[b] then return nil end  -- already being compared higher up: assume equal
  if not sa then
    sa = {}
    seen[a] = sa
  end
  sa[b] = true
  for _, k in ipairs(sorted_keys(a)) do
    local p, x, y = diff(rawget(a, k), rawget(b, k), key_path(path, k), seen)
    if p then return p, x, y end
  end
  for _, k in ipairs(sorted_keys(b)) do
    if rawget(a, k) == nil then return key_path(path, k), nil, rawget(b, k) end
  end
  return nil
end

-- Where two strings first differ, with a few bytes around it.
local function string_hint(a, b)
  local n = math.min(#a, #b)
  local i = 1
  while i <= n and a:byte(i) == b:byte(i) do i = i + 1 end
  local from = math.max(1, i - 20)
  local function piece(s)
    local p = string_repr(s:sub(from, i + 40), 200)
    return (from > 1 and "..." or "") .. p .. (#s > i + 40 and "..." or "")
  end
  return fmt("strings differ at byte %d (lengths %d and %d): actual %s, expected %s",
             i, #a, #b, piece(a), piece(b))
end

local function prefix(msg)
  if msg == nil then return "" end
  return tostring(msg) .. ": "
end

-- Assertions (shared by every collector) -----------------------------------------------------

local A = {}

A.repr = repr

function A.equal(a, b)
  return diff(a, b, "", {}) == nil
end

function A.eq(actual, expected, msg)
  local path, x, y = diff(actual, expected, "", {})
  if path == nil then return actual end
  local lines = {
    prefix(msg) .. "values differ",
    "  actual:   " .. repr(actual),
    "  expected: " .. repr(expected),
  }
  if path ~= "" then
    lines[#lines + 1] = "  at " .. path .. ": actual " .. repr(x) .. ", expected " .. repr(y)
  end
  if type(x) == "string" and type(y) == "string" and (#x > 60 or #y > 60) then
    lines[#lines + 1] = "  " .. string_hint(x, y)
  end
  error(concat(lines, "\n"), 2)
end

function A.ne(actual, unexpected, msg)
  if diff(actual, unexpected, "", {}) ~= nil then return actual end
  error(prefix(msg) .. "values are equal, expected them to differ\n  value: " .. repr(actual), 2)
end

function A.ok(v, msg, ...)
  if v then return v, msg, ... end
  error(prefix(msg) .. "expected a true value, got " .. repr(v), 2)
end

function A.fail(msg)
  error(msg == nil and "test failed" or tostring(msg), 2)
end

local function error_text(err)
  if type(err) == "string" then return err end
  local s = safe_tostring(err)
  if type(err) == "table" then
    local mt = getmetatable(err)
    if not (type(mt) == "table" and rawget(mt, "__tostring")) then s = repr(err) end
    local code = rawget(err, "code")
    if code ~= nil and not s:find(tostring(code), 1, true) then s = s .. " (code " .. tostring(code) .. ")" end
  end
  return s
end
A.error_text = error_text

-- True when err matches `expected`: equal to err.code, a substring of tostring(err), or a
-- Lua pattern found in it. An errno-style code ("EINVAL", "ETIMEDOUT") must be the error's
-- code: a message that merely mentions it does not match.
local function error_matches(err, expected)
  if type(err) == "table" and rawget(err, "code") ~= nil and rawget(err, "code") == expected then return true end
  if type(expected) == "string" and expected:match("^E[A-Z0-9_]+$") then return false end
  if rawequal(err, expected) then return true end
  local s = safe_tostring(err)
  expected = tostring(expected)
  if s:find(expected, 1, true) then return true end
  local ok, found = pcall(string.find, s, expected)
  return ok and found ~= nil
end

function A.raises(fn, expected, msg)
  if type(fn) ~= "function" then
    local mt = getmetatable(fn)
    if not (type(mt) == "table" and mt.__call) then
      error("bad argument #1 to 'raises' (function expected, got " .. type(fn) .. ")", 2)
    end
  end
  local ok, err = pcall(fn)
  if ok then error(prefix(msg) .. "expected an error, but the function returned normally", 2) end
  if expected ~= nil and not error_matches(err, expected) then
    error(prefix(msg) .. "error does not match " .. repr(expected) .. "\n  error: " .. error_text(err), 2)
  end
  return err
end

function A.near(a, b, eps, msg)
  if type(a) ~= "number" or type(b) ~= "number" then
    error(prefix(msg) .. "near expects two numbers, got " .. repr(a) .. " and " .. repr(b), 2)
  end
  eps = eps or 1e-9
  local d = abs(a - b)
  if d <= eps then return a end
  error(fmt("%s%s is not within %s of %s (difference %s)", prefix(msg), number_repr(a + 0.0),
            number_repr(eps + 0.0), number_repr(b + 0.0), number_repr(d + 0.0)), 2)
end

function A.matches(s, pattern, msg)
  if type(s) == "string" and s:find(pattern) then return s end
  error(prefix(msg) .. repr(s) .. " does not match pattern " .. repr(pattern), 2)
end

-- Spies and stubs ----------------------------------------------------------------------------

local SPY_MT = { __name = "test.spy" }
SPY_MT.__index = SPY_MT
SPY_MT.__call = function(self, ...) return self.fn(...) end

-- True when the spy was called at least once with exactly these arguments (deep equality).
function SPY_MT:called_with(...)
  local want = table.pack(...)
  for _, call in ipairs(self.calls) do
    if call.n == want.n then
      local same = true
      for i = 1, want.n do
        if diff(call[i], want[i], "", {}) ~= nil then
          same = false
          break
        end
      end
      if same then return true end
    end
  end
  return false
end

function SPY_MT:reset()
  self.calls, self.results, self.call_count = {}, {}, 0
end

local function is_callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__call") ~= nil
end

-- spy([fn]): a callable that records its calls (`calls[i]` = the arguments as table.pack
-- makes them, `results[i]` likewise) and returns what fn returns. `spy.fn` is a plain function
-- doing the same, for APIs that insist on a function (task.spawn, pcall is fine either way).
local function spy(fn, level)
  if fn ~= nil and not is_callable(fn) then
    error("bad argument #1 to 'spy' (function expected, got " .. type(fn) .. ")", (level or 1) + 1)
  end
  local s = setmetatable({ calls = {}, results = {}, call_count = 0 }, SPY_MT)
  s.fn = function(...)
    local n = s.call_count + 1
    s.call_count = n
    s.calls[n] = table.pack(...)
    if fn == nil then
      s.results[n] = { n = 0 }
      return
    end
    local r = table.pack(fn(...))
    s.results[n] = r
    return table.unpack(r, 1, r.n)
  end
  return s
end
A.spy = function(fn) return spy(fn, 2) end

-- Collectors ---------------------------------------------------------------------------------

-- Groups (describe blocks). The root group is the file itself: its setup/teardown run once for
-- the file, its before_each/after_each around every test.
local function new_group(name, parent)
  return { name = name, parent = parent, setup = {}, teardown = {}, before = {}, after = {},
           only = parent and parent.only or nil, skip = parent and parent.skip or nil }
end

local function full_name(group, name)
  if group and group.name then return group.name .. " " .. name end
  return name
end

local new

-- Once the runner started a file's tests, what registers more would be silently ignored.
local function check_open(c, what, level)
  if rawget(c, "_locked") then
    error("'" .. what .. "' called while the tests run: register tests and hooks at the top level of the file or in a describe block", level + 1)
  end
end

local function register(c, name, fn, opts, skip, only, what)
  what = what or "test"
  check_open(c, what, 3)
  if type(name) == "number" then name = tostring(name) end
  if type(name) ~= "string" then
    error("bad argument #1 to '" .. what .. "' (string expected, got " .. type(name) .. ")", 3)
  end
  if type(fn) == "table" and type(opts) == "function" then fn, opts = opts, fn end  -- test(name, opts, fn)
  if fn ~= nil and type(fn) ~= "function" then
    error("bad argument #2 to '" .. what .. "' (function expected, got " .. type(fn) .. ")", 3)
  end
  if fn == nil and not skip then error("bad argument #2 to '" .. what .. "' (function expected, got no value)", 3) end
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #3 to '" .. what .. "' (table expected, got " .. type(opts) .. ")", 3)
  end
  if opts then
    for k in next, opts do
      if k ~= "timeout" and k ~= "skip" then
        error("bad option '" .. tostring(k) .. "' to '" .. what .. "' (known: timeout, skip)", 3)
      end
    end
  end
  local timeout = opts and opts.timeout
  if timeout ~= nil and (type(timeout) ~= "number" or not (timeout > 0) or timeout == huge) then
    error("bad option 'timeout' to '" .. what .. "' (positive number of seconds expected)", 3)
  end
  local group = rawget(c, "_group")
  local t = {
    name = full_name(group, name),
    fn = fn,
    skip = skip or (opts and opts.skip) or group.skip or false,
    timeout = timeout,
  }
  if t.skip then t.skip = true end
  if skip == "pending" then t.reason = "pending" end
  if only or group.only then
    t.only = true
    c._only = c._only + 1
  end
  local tests = rawget(c, "_tests")
  tests[#tests + 1] = t
  c._group_of[t] = group
  return t
end

-- The error value test.skip_now raises.
local SKIP_MT = { __name = "test.skip", __tostring = function(self) return "skipped: " .. (self.reason or "") end }

local COLLECTOR_MT = {
  __name = "test",
  __call = function(self, name, fn, opts)
    register(self, name, fn, opts, false)
  end,
}

local function check_hook(fn, what)
  if type(fn) ~= "function" then
    error("bad argument #1 to '" .. what .. "' (function expected, got " .. type(fn) .. ")", 3)
  end
end

-- A callable table: `it(name, fn)`, `it.only(name, fn)`, `it.skip(name, fn)`.
local function registrar(c, what)
  return setmetatable({
    only = function(name, fn, opts) register(c, name, fn, opts, false, true, what .. ".only") end,
    skip = function(name, fn, opts) register(c, name, fn, opts, true, false, what .. ".skip") end,
  }, { __name = "test." .. what, __call = function(_, name, fn, opts) register(c, name, fn, opts, false, false, what) end })
end

-- new(): a fresh collector. Its registered tests are in `_tests` ({name, fn, skip, timeout,
-- reason, only}); `_group_of[test]` is the test's group ({name, parent, setup, teardown,
-- before, after}); `_only` counts tests marked only.
function new()
  local root = new_group(nil, nil)
  local c = { _tests = {}, _root = root, _group = root, _group_of = setmetatable({}, { __mode = "k" }),
              _only = 0, _before = root.before, _after = root.after, _stubs = {} }
  for k, f in next, A do c[k] = f end
  c.new = new
  function c.skip(name, fn, opts)
    register(c, name, fn, opts, true, false, "skip")
  end
  function c.only(name, fn, opts)
    register(c, name, fn, opts, false, true, "only")
  end
  c.it = registrar(c, "it")
  function c.pending(name, fn)
    register(c, name, fn, nil, "pending", false, "pending")
  end
  local function describe(name, fn, mark, what)
    if type(name) == "number" then name = tostring(name) end
    if type(name) ~= "string" then
      error("bad argument #1 to '" .. what .. "' (string expected, got " .. type(name) .. ")", 3)
    end
    if type(fn) ~= "function" then
      error("bad argument #2 to '" .. what .. "' (function expected, got " .. type(fn) .. ")", 3)
    end
    check_open(c, what, 3)
    local parent = c._group
    local g = new_group(full_name(parent, name), parent)
    if mark then g[mark] = true end
    c._group = g
    local ok, err = pcall(fn)
    c._group = parent
    if not ok then error(err, 0) end
  end
  c.describe = setmetatable({
    only = function(name, fn) describe(name, fn, "only", "describe.only") end,
    skip = function(name, fn) describe(name, fn, "skip", "describe.skip") end,
  }, { __name = "test.describe", __call = function(_, name, fn) describe(name, fn, nil, "describe") end })
  -- Skips the running test from inside it (a capability of this machine is missing, such as
  -- IPv6): the runner reports it as `skip <name> (<reason>)`.
  function c.skip_now(reason)
    error(setmetatable({ reason = reason and tostring(reason) or nil }, SKIP_MT), 0)
  end
  c.SKIP_MT = SKIP_MT
  local function hook(list, what)
    return function(fn)
      check_hook(fn, what)
      check_open(c, what, 2)
      local t = c._group[list]
      t[#t + 1] = fn
    end
  end
  c.before_each = hook("before", "before_each")
  c.after_each = hook("after", "after_each")
  c.setup = hook("setup", "setup")
  c.teardown = hook("teardown", "teardown")
  -- stub(tbl, key[, fn]): tbl[key] becomes a spy of fn (default: returns nothing) until the
  -- running test ends (or the file, for a stub made at its top level), then the old value is
  -- put back. Returns the spy; spy:restore() puts the old value back earlier.
  function c.stub(tbl, key, fn)
    local tt = type(tbl)
    if tt ~= "table" then
      error("bad argument #1 to 'stub' (table expected, got " .. tt .. ")", 2)
    end
    if key == nil or key ~= key then
      error("bad argument #2 to 'stub' (a table key expected, got " .. repr(key) .. ")", 2)
    end
    if fn ~= nil and not is_callable(fn) then
      error("bad argument #3 to 'stub' (function expected, got " .. type(fn) .. ")", 2)
    end
    local s = spy(fn, 2)
    local old = rawget(tbl, key)
    local restored = false
    function s.restore()
      if restored then return end
      restored = true
      rawset(tbl, key, old)
    end
    rawset(tbl, key, s.fn)
    local stubs = c._stubs
    stubs[#stubs + 1] = s
    return s
  end
  -- Called by the runner after each test (and after a file's tests): undoes the stubs made
  -- since there were `keep` of them (default 0), the latest first, so two stubs of one key
  -- restore the original.
  function c._restore_stubs(keep)
    local stubs = c._stubs
    for i = #stubs, (keep or 0) + 1, -1 do
      stubs[i].restore()
      stubs[i] = nil
    end
  end
  return setmetatable(c, COLLECTOR_MT)
end

return new()
