-- `moonwire test --jobs N`: files in parallel worker processes, output grouped per file, the
-- same totals as a serial run, a crashing worker reported as a failure of its file.
local test = require("test")
local cli = dofile("tests/cli/fixtures/cli.lua")
local proc = cli.proc
local run = cli.run

test.after_each(cli.cleanup)

local function last_line(s) return s:match("([^\n]*)\n?$") end

local FILES = {
  ["a_test.lua"] = [[
print("a prints")
it("a1", function() task.sleep(0.05) end)
it("a2", function() error("a2 broke") end)
]],
  ["b_test.lua"] = [[
it("b1", function() print("b1 prints") end)
it.skip("b2")
describe("g", function() it("b3", function() end) end)
]],
  ["c_test.lua"] = "it('c1', function() end)\nit('c2', function() test_missing_global() end)\n",
  ["d_test.lua"] = "it('d1', function() end)\n",
  ["sub/e_test.lua"] = "it('e1', function() task.sleep(0.02) end)\n",
}

-- The output without the per-test milliseconds.
local function stable(out) return (out:gsub(" %(%d+ ms%)", "")) end

test("--jobs gives the same output, in the same order, and the same totals as a serial run", function()
  local dir = cli.files(FILES)
  local serial = run({ "test", dir })
  local parallel = run({ "test", "--jobs", "3", dir })
  test.eq(serial.code, 1)
  test.eq(parallel.code, 1, parallel.out .. parallel.err)
  test.eq(last_line(serial.out), "6 passed, 2 failed, 1 skipped")
  test.eq(stable(parallel.out), stable(serial.out))
  -- what a file printed stays with that file's lines
  test.matches(parallel.out, "a prints\nok   [^\n]*a_test%.lua :: a1")
  test.matches(parallel.out, "b1 prints\nok   [^\n]*b_test%.lua :: b1")
  test.eq(select(2, parallel.out:gsub("FAIL ", "")), 2)
  parallel = run({ "test", "-j", "8", dir })
  test.eq(last_line(parallel.out), "6 passed, 2 failed, 1 skipped")
end)

test("a worker that crashes (a signal, os.exit) is a failure of its file; the other files count", function()
  local dir = cli.files({
    ["a_test.lua"] = "it('fine', function() end)\n",
    ["crash_test.lua"] = [[
it("before the crash", function() end)
it("crashes", function() process.exec("kill -KILL " .. process.pid()) task.sleep(10) end)
it("never runs", function() end)
]],
    ["exit_test.lua"] = "it('exits', function() io.stderr:write('leaving now\\n') os.exit(3) end)\n",
  })
  local r = run({ "test", "--jobs", "2", dir })
  test.eq(r.code, 1, r.out .. r.err)
  test.matches(r.out, "ok   [^\n]*crash_test%.lua :: before the crash")
  test.matches(r.out, "FAIL [^\n]*crash_test%.lua\n    the worker process running this file was killed by SIGKILL before it finished")
  test.matches(r.out, "FAIL [^\n]*exit_test%.lua\n    the worker process running this file exited with status 3 before it finished\n    leaving now")
  test.eq(last_line(r.out), "2 passed, 2 failed")
end)

test("--jobs with --reporter junit and tap: every file's results in the report", function()
  local dir = cli.files(FILES)
  local xml = dir .. "/r.xml"
  local r = run({ "test", "--jobs", "2", "--reporter", "junit", "--output", xml, dir })
  test.eq(last_line(r.out), "6 passed, 2 failed, 1 skipped")
  local text = proc.read_file(xml)
  test.matches(text, 'tests="9" failures="2" errors="0" skipped="1"')
  test.matches(text, "<system%-out>a prints\n")
  if proc.have("xmllint") then
    local v = run({ "--noout", "--schema", cli.abspath("tests/fixtures/junit.xsd"), xml }, { program = "xmllint" })
    test.eq(v.code, 0, v.err)
  end
  r = run({ "test", "--jobs", "2", "--reporter", "tap", dir })
  test.matches(r.out, "^TAP version 13\n")
  test.matches(r.out, "\n1%.%.9\n$")
  test.ok(not r.out:find("a prints", 1, true), "worker output is not mixed into TAP")
end)

test("--jobs with --fail-fast starts no new file after a failure", function()
  local files = {}
  files["a_test.lua"] = "it('fails', function() error('x') end)\n"
  for i = 1, 6 do files[("b%d_test.lua"):format(i)] = "it('ok', function() task.sleep(0.05) end)\n" end
  local dir = cli.files(files)
  local r = run({ "test", "--jobs", "2", "--fail-fast", dir })
  test.eq(r.code, 1)
  local passed = tonumber(last_line(r.out):match("^(%d+) passed, 1 failed$"))
  test.ok(passed and passed < 6, r.out)
end)

test("--jobs with a single file runs it as usual", function()
  local dir = cli.files({ ["a_test.lua"] = "it('pid', function() print('PID ' .. process.pid()) end)\n" })
  local r = run({ "test", "--jobs", "4", dir .. "/a_test.lua" })
  test.eq(r.code, 0, r.out .. r.err)
  test.eq(last_line(r.out), "1 passed, 0 failed")
end)
