-- `moonwire test` options: --filter, --exclude, --timeout, --fail-fast, --list, --help, and
-- their bad values.
local test = require("test")
local cli = dofile("tests/cli/fixtures/cli.lua")
local run = cli.run

test.after_each(cli.cleanup)

local function last_line(s) return s:match("([^\n]*)\n?$") end

local NAMED = {
  ["a_test.lua"] = [[
describe("parser", function()
  it("reads numbers", function() end)
  it("reads strings", function() end)
end)
it("slow network thing", function() end)
]],
  ["b_test.lua"] = "it('fails', function() error('b failed') end)\nit('after', function() end)\n",
  ["c_test.lua"] = "it('c runs', function() end)\n",
}

test("--filter and --exclude select by the full name (pattern, or plain text if not a pattern)", function()
  local dir = cli.files(NAMED)
  local r = run({ "test", "--filter", "^parser", dir })
  test.eq(r.code, 0, r.out .. r.err)
  test.eq(last_line(r.out), "2 passed, 0 failed")
  r = run({ "test", "--exclude", "slow", "--exclude=fails", dir })  -- the last one counts
  test.eq(r.code, 0, r.out .. r.err)
  test.eq(last_line(r.out), "5 passed, 0 failed")
  r = run({ "test", "--filter", "reads", "--exclude", "strings$", dir })
  test.eq(last_line(r.out), "1 passed, 0 failed")
  r = run({ "test", "--filter", "reads (", dir })  -- not a valid pattern: plain text
  test.eq(last_line(r.out), "0 passed, 0 failed")
end)

test("MOONWIRE_TEST_EXCLUDE works as --exclude; an option beats the environment", function()
  local dir = cli.files(NAMED)
  local r = run({ "test", dir }, { env = { MOONWIRE_TEST_EXCLUDE = "fails" } })
  test.eq(last_line(r.out), "5 passed, 0 failed")
  r = run({ "test", "--filter", "c runs", dir }, { env = { MOONWIRE_TEST_FILTER = "parser" } })
  test.eq(last_line(r.out), "1 passed, 0 failed")
end)

test("--timeout sets the per-test timeout; a test's own timeout wins", function()
  local dir = cli.files({ ["t_test.lua"] = [[
it("hangs", function() task.sleep(3600) end)
it("own timeout", function() task.sleep(0.8) end, { timeout = 20 })
]] })
  local r = run({ "test", "--timeout", "0.3", dir }, { timeout = 60 })
  test.eq(r.code, 1, r.out .. r.err)
  test.matches(r.out, "FAIL [^\n]*:: hangs\n    timed out after 0.3 s")
  test.matches(r.out, "ok   [^\n]*:: own timeout")
end)

test("--fail-fast stops at the first failure: later tests and files do not run", function()
  local dir = cli.files(NAMED)
  local r = run({ "test", "--fail-fast", dir })
  test.eq(r.code, 1, r.out .. r.err)
  test.eq(last_line(r.out), "3 passed, 1 failed")
  test.ok(not r.out:find(":: after", 1, true), r.out)
  test.ok(not r.out:find("c runs", 1, true), r.out)
end)

test("--list prints the selected tests without running them", function()
  local dir = cli.files({
    ["a_test.lua"] = NAMED["a_test.lua"] .. "it.skip('later')\nit('boom', function() error('ran!') end)\n",
  })
  local r = run({ "test", "--list", "--exclude", "boom", dir })
  test.eq(r.code, 0, r.out .. r.err)
  test.eq(r.out, table.concat({
    dir .. "/a_test.lua :: parser reads numbers",
    dir .. "/a_test.lua :: parser reads strings",
    dir .. "/a_test.lua :: slow network thing",
    dir .. "/a_test.lua :: later (skip)",
    "4 tests", "" }, "\n"))
end)

test("--help prints the options and exits 0", function()
  local r = run({ "test", "--help" })
  test.eq(r.code, 0)
  for _, o in ipairs({ "--reporter", "--output", "--filter", "--exclude", "--timeout", "--fail-fast", "--jobs",
                       "--list", "--coverage", "--forbid-only", "--color" }) do
    test.ok(r.out:find(o, 1, true), o)
  end
end)

test("bad options and values: exit 2, a message, nothing run", function()
  local dir = cli.files(NAMED)
  local cases = {
    { { "--filtr", "x" }, "unknown option '%-%-filtr' %(did you mean '%-%-filter'%?%)" },
    { { "--fail-fats" }, "unknown option '%-%-fail%-fats' %(did you mean '%-%-fail%-fast'%?%)" },
    { { "-x" }, "unknown option '%-x'" },
    { { "--timeout", "0" }, "option '%-%-timeout': expected a positive number of seconds, got '0'" },
    { { "--timeout", "-1" }, "expected a positive number" },
    { { "--timeout", "nan" }, "expected a positive number" },
    { { "--timeout", "inf" }, "expected a positive number" },
    { { "--timeout", "soon" }, "expected a positive number" },
    { { "--jobs", "0" }, "option '%-%-jobs': expected a whole number from 1 to 256, got '0'" },
    { { "-j", "1.5" }, "expected a whole number" },
    { { "--jobs", "1e9" }, "expected a whole number" },
    { { "--jobs" }, "option '%-%-jobs' needs a value" },
    { { "--list=yes" }, "option '%-%-list' takes no value" },
    { { "--filter", "" }, "empty pattern" },
  }
  for _, c in ipairs(cases) do
    local args = { "test", dir }  -- paths may come first: the option's value is then missing
    for _, a in ipairs(c[1]) do args[#args + 1] = a end
    local r = run(args)
    test.eq(r.code, 2, table.concat(c[1], " ") .. ": " .. r.out .. r.err)
    test.matches(r.err, "^moonwire test: [^\n]*" .. c[2], table.concat(c[1], " "))
    test.eq(r.out, "")
  end
end)

test("after -- every argument is a path", function()
  local dir = cli.files({ ["--odd_test.lua"] = "it('odd', function() end)\n" })
  local r = run({ "test", "--", "--odd_test.lua" }, { cwd = dir })
  test.eq(r.code, 0, r.out .. r.err)
  test.eq(last_line(r.out), "1 passed, 0 failed")
end)
