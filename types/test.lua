---@meta test
-- moonwire's `test` module (`local test = require("test")`) and, while a test file's top level
-- runs under `moonwire test`, busted's globals `describe`, `it`, `pending`, `setup`,
-- `teardown`, `before_each`, `after_each`. docs/testing.md. Assertions raise (the test fails).

---Registers a test: `test(name, fn[, opts])`.
---@class test
---@overload fun(name: string, fn: async fun(), opts?: test.Options)
local test = {}

---Options of a test.
---@class test.Options
---@field timeout? number seconds for this test (default 30, `--timeout`, `MOONWIRE_TEST_TIMEOUT`)

---A group: `describe(name, fn)`; `fn` runs at once and registers the group's tests and hooks.
---@class test.Describe
---@overload fun(name: string, fn: fun())
test.describe = {}

---A focused group (every test in it as `test.only`).
---@param name string
---@param fn fun()
function test.describe.only(name, fn) end

---A skipped group.
---@param name string
---@param fn fun()
function test.describe.skip(name, fn) end

---The same as `test(...)`, in the current group.
---@class test.It
---@overload fun(name: string, fn: async fun(), opts?: test.Options)
test.it = {}

---As `test.only`.
---@param name string
---@param fn async fun()
---@param opts? test.Options
function test.it.only(name, fn, opts) end

---As `test.skip`.
---@param name string
---@param fn? async fun()
---@param opts? test.Options
function test.it.skip(name, fn, opts) end

---Registers a skipped test (reported `skip`, never run).
---@param name string
---@param fn? async fun()
---@param opts? test.Options
function test.skip(name, fn, opts) end

---Inside a running test: stops it and reports it as skipped with `reason`.
---@param reason? string
function test.skip_now(reason) end

---Registers a focused test: when a file has focused tests, only those run.
---@param name string
---@param fn async fun()
---@param opts? test.Options
function test.only(name, fn, opts) end

---A skipped test reported `(pending)`.
---@param name string
---@param fn? async fun()
function test.pending(name, fn) end

---Runs `fn` before each test of the file (or group), in the test's task.
---@param fn async fun()
function test.before_each(fn) end

---Runs `fn` after each test of the file (or group), even one that failed.
---@param fn async fun()
function test.after_each(fn) end

---Runs once for the group (or file), before its first test that runs.
---@param fn async fun()
function test.setup(fn) end

---Runs once for the group (or file), after its last test.
---@param fn async fun()
function test.teardown(fn) end

---A fresh, independent collector.
---@return test
function test.new() end

---Passes when the values are deeply equal.
---@param actual any
---@param expected any
---@param msg? string
function test.eq(actual, expected, msg) end

---Passes when the values are not deeply equal.
---@param actual any
---@param other any
---@param msg? string
function test.ne(actual, other, msg) end

---Deep equality as a boolean (what `eq` uses).
---@param a any
---@param b any
---@return boolean
function test.equal(a, b) end

---Passes when `v` is neither nil nor false.
---@generic T
---@param v T
---@param msg? string
---@return T
function test.ok(v, msg) end

---Always fails the test with `msg`.
---@param msg? string
function test.fail(msg) end

---Passes when `fn()` raises (matching `expected`: an error code, plain text or a pattern);
---returns the error value.
---@param fn fun()
---@param expected? string
---@param msg? string
---@return any err
function test.raises(fn, expected, msg) end

---Passes when `abs(a - b) <= eps` (default 1e-9).
---@param a number
---@param b number
---@param eps? number
---@param msg? string
function test.near(a, b, eps, msg) end

---Passes when `s` is a string in which the Lua pattern is found.
---@param s string
---@param pattern string
---@param msg? string
function test.matches(s, pattern, msg) end

---The single-line rendering of a value used in messages.
---@param v any
---@return string
function test.repr(v) end

---An error value as text (`tostring(err)`, plus `(code X)` when the message lacks it).
---@param err any
---@return string
function test.error_text(err) end

---A spy (`test.spy`): call `spy.fn` (or the spy itself) like the wrapped function.
---@class test.Spy
---@field fn function the function to hand out
---@field calls table[] the arguments of each call (`table.pack` style)
---@field results table[] the results of each call
---@field call_count integer
---@field called_with fun(self: test.Spy, ...): boolean a call with exactly these arguments (deep equality)
---@field reset fun(self: test.Spy) forgets the calls
---@overload fun(...): ...

---A spy around `fn` (or a function returning nothing).
---@param fn? function
---@return test.Spy
function test.spy(fn) end

---Replaces `tbl[key]` by a spy of `fn` until the running test ends.
---@param tbl table
---@param key any
---@param fn? function
---@return test.Spy
function test.stub(tbl, key, fn) end

---@type test.Describe
describe = test.describe
---@type test.It
it = test.it
pending = test.pending
setup = test.setup
teardown = test.teardown
before_each = test.before_each
after_each = test.after_each

return test
