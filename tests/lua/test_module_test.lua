-- Tests of the built-in `test` module (stdlib/lua/test.lua) and of `moonwire test` itself.
local test = require("test")

-- The error text a failing assertion raises.
local function failure(fn)
  local ok, err = pcall(fn)
  assert(not ok, "expected the assertion to fail")
  return tostring(err)
end

local function contains(s, part)
  if not s:find(part, 1, true) then
    error(string.format("%q does not contain %q", s, part), 2)
  end
end

-- eq ------------------------------------------------------------------------------------------

test("eq accepts equal scalars", function()
  test.eq(1, 1)
  test.eq("a", "a")
  test.eq(true, true)
  test.eq(nil, nil)
  test.eq(1, 1.0)      -- integer and float subtypes are ignored
  test.eq(0 / 0, 0 / 0) -- nan equals nan for eq
end)

test("eq compares nested tables deeply", function()
  test.eq({ 1, 2, { a = { b = "c" } } }, { 1, 2, { a = { b = "c" } } })
  test.eq({ x = 1, y = { 2.0, 3 } }, { y = { 2, 3.0 }, x = 1.0 })
  test.eq({}, {})
end)

test("eq returns the actual value", function()
  local t = { 1 }
  test.eq(rawequal(test.eq(t, { 1 }), t), true)
end)

test("eq detects differences in nested tables", function()
  local msg = failure(function() test.eq({ a = { b = 1 } }, { a = { b = 2 } }) end)
  contains(msg, "at .a.b: actual 1, expected 2")
  failure(function() test.eq({ 1, 2 }, { 1, 2, 3 }) end)     -- missing key
  failure(function() test.eq({ 1, 2, 3 }, { 1, 2 }) end)     -- extra key
  failure(function() test.eq({ a = 1 }, { a = "1" }) end)    -- different types
  failure(function() test.eq(1, "1") end)
  failure(function() test.eq(nil, false) end)
end)

test("eq is safe with cycles", function()
  local a = { name = "a" }
  a.self = a
  local b = { name = "a" }
  b.self = b
  test.eq(a, b)
  local c = { name = "c" }
  c.self = c
  local msg = failure(function() test.eq(a, c) end)
  contains(msg, "<cycle>")
end)

test("eq failure message shows both values", function()
  local msg = failure(function() test.eq({ a = 1, [2] = "x" }, { a = 2 }) end)
  contains(msg, 'actual:   {[2] = "x", a = 1}')
  contains(msg, "expected: {a = 2}")
  contains(msg, "values differ")
  -- The position is the line of the failing call, in this file.
  contains(msg, "test_module_test.lua:")
end)

test("eq failure message includes the optional message", function()
  local msg = failure(function() test.eq(1, 2, "sum of parts") end)
  contains(msg, "sum of parts: values differ")
end)

test("repr renders values readably", function()
  local repr = test.repr
  test.eq(repr("a\nb"), '"a\\nb"')
  test.eq(repr(1), "1")
  test.eq(repr(1.0), "1.0")
  test.eq(repr(0.1 + 0.2), "0.30000000000000004")
  test.eq(repr({ 1, 2, 3 }), "{1, 2, 3}")
  test.eq(repr({ b = 1, a = 2, [10] = true, ["not id"] = 0 }), '{[10] = true, a = 2, b = 1, ["not id"] = 0}')
  test.eq(repr({ ["end"] = 1 }), '{["end"] = 1}')
  test.eq(repr({ { { { { { { 1 } } } } } } }), "{{{{{{...}}}}}}")
  local long = repr(string.rep("x", 1000))
  contains(long, "(1000 bytes)")
end)

test("long strings report where they differ", function()
  local a = string.rep("a", 100) .. "X" .. string.rep("a", 10)
  local b = string.rep("a", 100) .. "Y" .. string.rep("a", 10)
  contains(failure(function() test.eq(a, b) end), "strings differ at byte 101")
end)

-- ne, ok, fail, matches -------------------------------------------------------------------------

test("ne", function()
  test.ne(1, 2)
  test.ne({ a = 1 }, { a = 2 })
  contains(failure(function() test.ne({ a = 1 }, { a = 1.0 }) end), "values are equal")
end)

test("ok, fail and matches", function()
  test.eq(test.ok(42), 42)
  contains(failure(function() test.ok(false, "flag") end), "flag: expected a true value, got false")
  contains(failure(function() test.fail("nope") end), "nope")
  test.matches("hello world", "^hello")
  contains(failure(function() test.matches("hello", "^world") end), "does not match pattern")
end)

-- raises ---------------------------------------------------------------------------------------

local function coded_error(code, message)
  return setmetatable({ code = code, message = message }, {
    __tostring = function(e) return e.message end,
  })
end

test("raises returns the error", function()
  local err = test.raises(function() error("boom", 0) end)
  test.eq(err, "boom")
  local obj = test.raises(function() error({ reason = 1 }) end)
  test.eq(obj, { reason = 1 })
end)

test("raises fails when nothing is raised", function()
  contains(failure(function() test.raises(function() end) end), "expected an error")
end)

test("raises with a pattern", function()
  test.raises(function() error("connection refused by peer") end, "refused")
  test.raises(function() error("code 42 here") end, "code %d+")
  -- A message with pattern characters matches as plain text too.
  test.raises(function() local t = nil; return t.x end, "attempt to index a nil value (local 't')")
  contains(failure(function() test.raises(function() error("other") end, "refused") end),
           'error does not match "refused"')
end)

test("raises with an error code", function()
  local err = test.raises(function() error(coded_error("ECONNREFUSED", "connect failed")) end, "ECONNREFUSED")
  test.eq(err.code, "ECONNREFUSED")
  test.raises(function() error(coded_error("ECONNREFUSED", "connect failed")) end, "connect failed")
  local msg = failure(function()
    test.raises(function() error(coded_error("ETIMEDOUT", "too slow")) end, "ECONNREFUSED")
  end)
  contains(msg, "too slow (code ETIMEDOUT)")
end)

test("raises sees runtime error objects", function()
  local sleeper = task.spawn(function() task.sleep(10) end)
  local err = test.raises(function() sleeper:join(0.01) end, "ETIMEDOUT")
  test.eq(err.code, "ETIMEDOUT")
  sleeper:cancel()
end)

-- near -----------------------------------------------------------------------------------------

test("near", function()
  test.near(0.1 + 0.2, 0.3, 1e-12)
  test.near(1, 1.05, 0.1)
  test.near(10, 10)
  contains(failure(function() test.near(1, 2, 0.5) end), "is not within 0.5 of 2.0")
  failure(function() test.near(0 / 0, 0 / 0, 1) end)
  failure(function() test.near("1", 1, 1) end)
end)

-- registration, skip, hooks --------------------------------------------------------------------

test("a collector registers tests and skipped tests", function()
  local c = test.new()
  local function f() end
  c("one", f)
  c.skip("two", f)
  c.skip("three")
  c("four", f, { timeout = 5 })
  test.eq(#c._tests, 4)
  test.eq(c._tests[1], { name = "one", fn = f, skip = false })
  test.eq(c._tests[2].skip, true)
  test.eq(c._tests[3].skip, true)
  test.eq(c._tests[4].timeout, 5)
  test.raises(function() c(nil, f) end, "bad argument #1")
  test.raises(function() c("x") end, "bad argument #2")
  test.raises(function() c("x", f, { timeout = -1 }) end, "timeout")
  -- A fresh collector does not share tests with this file's.
  test.eq(#test.new()._tests, 0)
end)

test.skip("a skipped test never runs", function()
  error("skipped tests must not run")
end)

local runs = {}
test.before_each(function() runs[#runs + 1] = "before" end)
test.after_each(function() runs[#runs + 1] = "after" end)

test("hooks run around each test", function()
  test.eq(runs[#runs], "before")
  local n = #runs
  task.sleep(0) -- tests run in tasks: they may suspend
  test.eq(#runs, n)
end)

test("tests may do I/O", function()
  local t0 = time.monotonic()
  task.sleep(0.02)
  test.ok(time.monotonic() - t0 >= 0.015)
end)

-- the runner, end to end -----------------------------------------------------------------------

-- The moonwire executable running this file: the parent of the shell io.popen starts.
local function self_exe()
  local p = io.popen("readlink /proc/$PPID/exe 2>/dev/null")
  if not p then return nil end
  local exe = p:read("l")
  p:close()
  if exe and exe:find("moonwire[^/]*$") then return exe end
  return nil
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

test("moonwire test reports passes, failures, skips and timeouts", function()
  local exe = self_exe()
  assert(exe, "the tests run under moonwire")
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p '" .. dir .. "/sub'"))
  write(dir .. "/a_test.lua", [[
local test = require("test")
test("passes", function() test.eq({1, {2}}, {1, {2.0}}) end)
test("fails", function() test.eq({a = 1}, {a = 2}) end)
test("asserts", function() assert(false, "plain assert message") end)
test.skip("skipped", function() end)
test("sleeps too long", function() task.sleep(5) end, {timeout = 0.2})
test("spins too long", function() while true do end end, {timeout = 0.2})
]])
  write(dir .. "/sub/b_test.lua", "local test = require('test')\ntest('x', function(\n")
  write(dir .. "/sub/ignored.lua", "error('not a test file')\n")
  local p = io.popen("cd '" .. dir .. "' && MOONWIRE_TEST_FILTER= '" .. exe .. "' test . missing_test.lua 2>&1")
  local output = p:read("a")
  local ok, how, code = p:close()
  os.execute("rm -rf '" .. dir .. "'")
  contains(output, "ok   a_test.lua :: passes (")
  contains(output, "FAIL a_test.lua :: fails\n")
  contains(output, "actual:   {a = 1}")
  contains(output, "FAIL a_test.lua :: asserts\n")
  contains(output, "plain assert message")
  contains(output, "skip a_test.lua :: skipped\n")
  contains(output, "FAIL a_test.lua :: sleeps too long\n    timed out after 0.2 s\n")
  contains(output, "FAIL a_test.lua :: spins too long\n    timed out after 0.2 s\n")
  contains(output, "FAIL sub/b_test.lua\n")
  contains(output, "FAIL missing_test.lua\n")
  test.eq(output:find("not a test file", 1, true), nil)
  test.ok(output:find("\n1 passed, 6 failed, 1 skipped\n$") ~= nil, output)
  test.eq({ ok, how, code }, { nil, "exit", 1 })
end)

test("MOONWIRE_TEST_FILTER selects tests by name", function()
  local exe = self_exe()
  assert(exe, "the tests run under moonwire")
  local file = os.tmpname() .. "_test.lua"
  write(file, [[
local test = require("test")
test("alpha one", function() end)
test("beta", function() error("must not run") end)
test("alpha two", function() end)
]])
  local p = io.popen("MOONWIRE_TEST_FILTER='^alpha' '" .. exe .. "' test '" .. file .. "' 2>&1")
  local output = p:read("a")
  local ok = p:close()
  os.remove(file)
  test.ok(output:find("\n2 passed, 0 failed\n$") ~= nil, output)
  test.eq(output:find("beta", 1, true), nil)
  test.eq(ok, true)
end)
