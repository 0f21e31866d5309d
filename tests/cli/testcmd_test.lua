-- `moonwire test [paths]` as a command: exit status, summary line, per-test timeout.
local test = require("test")
local cli = dofile("tests/cli/fixtures/cli.lua")
local run = cli.run

test.after_each(cli.cleanup)

local PASSING = [[
local test = require("test")
test("adds", function() test.eq(1 + 1, 2) end)
]]
local FAILING = [[
local test = require("test")
test("fails", function() test.eq(1 + 1, 3) end)
]]

local function last_line(s) return s:match("([^\n]*)\n?$") end

test("a passing and a failing test file: exit 1 and the summary '1 passed, 1 failed'", function()
  local dir = cli.files({ ["a_test.lua"] = PASSING, ["b_test.lua"] = FAILING, ["helper.lua"] = "error('not a test file')" })
  local r = run({ "test", dir })
  test.eq(r.code, 1, r.out .. r.err)
  test.eq(last_line(r.out), "1 passed, 1 failed")
  test.matches(r.out, "ok   [^\n]*a_test%.lua :: adds")
  test.matches(r.out, "FAIL [^\n]*b_test%.lua :: fails")
end)

test("only passing tests: exit 0", function()
  local dir = cli.files({ ["a_test.lua"] = PASSING, ["sub/c_test.lua"] = PASSING })
  local r = run({ "test", dir })
  test.eq(r.code, 0, r.out .. r.err)
  test.eq(last_line(r.out), "2 passed, 0 failed")
end)

test("with no paths the current directory is searched", function()
  local dir = cli.files({ ["a_test.lua"] = PASSING, ["b_test.lua"] = FAILING })
  local r = run({ "test" }, { cwd = dir })
  test.eq(r.code, 1)
  test.eq(last_line(r.out), "1 passed, 1 failed")
end)

test("a hanging test is failed by the per-test timeout (MOONWIRE_TEST_TIMEOUT)", function()
  local dir = cli.files({
    ["hang_test.lua"] = [[
local test = require("test")
test("hangs", function() task.sleep(3600) end)
test("spins", function() while true do end end)
test("after", function() test.eq(true, true) end)
]],
  })
  local t0 = time.monotonic()
  local r = run({ "test", dir }, { env = { MOONWIRE_TEST_TIMEOUT = "1" }, timeout = 60 })
  test.eq(r.code, 1, r.out .. r.err)
  test.matches(r.out, "FAIL [^\n]*:: hangs\n[^\n]*timed out")
  test.matches(r.out, "FAIL [^\n]*:: spins\n[^\n]*timed out")
  test.eq(last_line(r.out), "1 passed, 2 failed")
  test.ok(time.monotonic() - t0 < 30, "the timeout did not cut the test short")
end)

test("a test file with a syntax error counts as a failure", function()
  local dir = cli.files({ ["a_test.lua"] = PASSING, ["bad_test.lua"] = "test(\n" })
  local r = run({ "test", dir })
  test.eq(r.code, 1)
  test.eq(last_line(r.out), "1 passed, 1 failed")
  test.matches(r.out, "bad_test%.lua")
end)

test("a path that does not exist is a failure", function()
  local r = run({ "test", "/nonexistent/dir_for_moonwire_test" })
  test.eq(r.code, 1)
  test.eq(last_line(r.out), "0 passed, 1 failed")
end)

test("a passing test whose spawned task dies uncaught fails the test and the run (exit 1)", function()
  local dir = cli.files({ ["a_test.lua"] = [[
local test = require("test")
test("spawns a failing task", function()
  task.spawn(function() task.sleep(0.01) error("background boom") end)
  task.sleep(0.05)
end)
test("unrelated", function() end)
]] })
  local r = run({ "test", dir })
  test.eq(r.code, 1, r.out .. r.err)
  test.matches(r.out, "FAIL [^\n]*a_test%.lua :: spawns a failing task\n    1 task spawned by the test failed")
  test.matches(r.out, "ok   [^\n]*a_test%.lua :: unrelated")
  test.eq(last_line(r.out), "1 passed, 1 failed")
  test.matches(r.err, "background boom")
end)

test("a task that dies after its test ended still fails the run", function()
  local dir = cli.files({ ["a_test.lua"] = [[
local test = require("test")
test("leaves a task behind", function()
  task.spawn(function() task.sleep(0.05) error("late boom") end)
end)
test("waits", function() task.sleep(0.2) end)
]] })
  local r = run({ "test", dir })
  test.eq(r.code, 1, r.out .. r.err)
  test.matches(r.out, "FAIL [^\n]*waits")  -- it died while this test ran
  test.matches(r.err, "late boom")
end)

test("a task that dies after the last test: '(outside any test)' failure, exit 1", function()
  local dir = cli.files({ ["a_test.lua"] = [[
local test = require("test")
task.spawn(function() error("at load time") end)
test("passes", function() end)
]] })
  local r = run({ "test", dir })
  test.eq(r.code, 1, r.out .. r.err)
  test.matches(r.out, "FAIL %(outside any test%)")
  test.eq(last_line(r.out), "1 passed, 1 failed")
end)

test("a task error that the test joins is not a failure", function()
  local dir = cli.files({ ["a_test.lua"] = [[
local test = require("test")
test("joins", function()
  local t = task.spawn(function() error("collected") end)
  test.raises(function() t:join() end, "collected")
end)
]] })
  local r = run({ "test", dir })
  test.eq(r.code, 0, r.out .. r.err)
  test.eq(r.err, "")
end)

test("test.skip_now skips the running test with a reason", function()
  local dir = cli.files({ ["a_test.lua"] = [[
local test = require("test")
test("needs a capability", function()
  test.skip_now("no frobnicator here")
  error("must not run past skip_now")
end)
test("passes", function() end)
]] })
  local r = run({ "test", dir })
  test.eq(r.code, 0, r.out .. r.err)
  test.matches(r.out, "skip [^\n]*a_test%.lua :: needs a capability %(no frobnicator here%)\n")
  test.eq(last_line(r.out), "1 passed, 0 failed, 1 skipped")
end)

test("a missing peer is a skip on a developer machine and a failure in CI", function()
  local dir = cli.files({ ["a_test.lua"] = [[
local test = require("test")
local proc = dofile("]] .. cli.abspath("tests/support/proc.lua") .. [[")
proc.peer_test(test, false, "frobnicator")("talks to frobnicator", function() end)
]] })
  local r = run({ "test", dir }, { env = { CI = false } })
  test.eq(r.code, 0, r.out .. r.err)
  test.matches(r.out, "skip [^\n]*talks to frobnicator")
  r = run({ "test", dir }, { env = { CI = "true" } })
  test.eq(r.code, 1, r.out .. r.err)
  test.matches(r.out, "FAIL [^\n]*talks to frobnicator\n    frobnicator is missing: tools/install%-deps%.sh must install it")
end)
