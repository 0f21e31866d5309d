-- busted-style structure under `moonwire test`: describe/it, setup/teardown, nested
-- before_each/after_each, pending, only and --forbid-only.
local test = require("test")
local cli = dofile("tests/cli/fixtures/cli.lua")
local run = cli.run

test.after_each(cli.cleanup)

local function last_line(s) return s:match("([^\n]*)\n?$") end

local function lines_matching(s, prefix)
  local out = {}
  for l in s:gmatch("[^\n]+") do
    if l:sub(1, #prefix) == prefix then out[#out + 1] = l:sub(#prefix + 1) end
  end
  return out
end

test("describe/it: names joined with spaces, hooks outermost first, teardown after the group's last test", function()
  local dir = cli.files({ ["s_test.lua"] = [[
local test = require("test")
local log = {}
local function note(s) return function() log[#log + 1] = s end end
setup(note("setup file"))
teardown(function() print("LOG " .. table.concat(log, ",")) end)
before_each(note("be file"))
after_each(note("ae file"))
describe("outer", function()
  setup(note("setup outer"))
  teardown(note("teardown outer"))
  before_each(note("be outer"))
  after_each(note("ae outer"))
  it("first", note("first"))
  describe("inner", function()
    before_each(note("be inner"))
    after_each(note("ae inner"))
    it("second", note("second"))
  end)
end)
test("top", note("top"))
]] })
  local r = run({ "test", dir })
  test.eq(r.code, 0, r.out .. r.err)
  test.eq(lines_matching(r.out, "ok   " .. dir .. "/s_test.lua :: "),
          { "outer first" .. r.out:match("outer first( %(%d+ ms%))"),
            "outer inner second" .. r.out:match("outer inner second( %(%d+ ms%))"),
            "top" .. r.out:match("top( %(%d+ ms%))") })
  test.eq(lines_matching(r.out, "LOG "), { table.concat({
    "setup file", "setup outer",
    "be file", "be outer", "first", "ae outer", "ae file",
    "be file", "be outer", "be inner", "second", "ae inner", "ae outer", "ae file",
    "teardown outer",
    "be file", "top", "ae file" }, ",") })
  test.eq(last_line(r.out), "3 passed, 0 failed")
end)

test("the busted globals exist only while the file's top level runs", function()
  local dir = cli.files({ ["g_test.lua"] = [[
local test = require("test")
describe("d", function() it("x", function() end) end)
test("no describe global inside a test", function()
  test.eq(rawget(_G, "describe"), nil)
  test.eq(rawget(_G, "it"), nil)
end)
]], ["h_test.lua"] = [[
local test = require("test")
test.describe("via the module", function()
  test.it("y", function() end)
  test.it.skip("z")
end)
]] })
  local r = run({ "test", dir })
  test.eq(r.code, 0, r.out .. r.err)
  test.matches(r.out, ":: d x %(")
  test.matches(r.out, ":: via the module y %(")
  test.matches(r.out, "skip [^\n]*:: via the module z\n")
  test.eq(last_line(r.out), "3 passed, 0 failed, 1 skipped")
end)

test("pending and describe.skip are reported as skips", function()
  local dir = cli.files({ ["p_test.lua"] = [[
pending("write this one")
describe.skip("broken area", function()
  it("a", function() error("must not run") end)
end)
it("runs", function() end)
]] })
  local r = run({ "test", dir })
  test.eq(r.code, 0, r.out .. r.err)
  test.matches(r.out, "skip [^\n]*:: write this one %(pending%)\n")
  test.matches(r.out, "skip [^\n]*:: broken area a\n")
  test.eq(last_line(r.out), "1 passed, 0 failed, 2 skipped")
end)

test("a failing setup fails its group's tests and not the others; teardown still runs", function()
  local dir = cli.files({ ["f_test.lua"] = [[
describe("broken", function()
  setup(function() error("no database") end)
  teardown(function() print("TEARDOWN RAN") end)
  it("one", function() end)
  it("two", function() end)
end)
it("fine", function() end)
]] })
  local r = run({ "test", dir })
  test.eq(r.code, 1, r.out .. r.err)
  test.matches(r.out, "FAIL [^\n]*:: broken one\n    setup failed: [^\n]*no database")
  test.matches(r.out, "FAIL [^\n]*:: broken two\n    setup failed:")
  test.matches(r.out, "TEARDOWN RAN")
  test.matches(r.out, "ok   [^\n]*:: fine")
  test.eq(last_line(r.out), "1 passed, 2 failed")
end)

test("a failing teardown is a failure of its own", function()
  local dir = cli.files({ ["t_test.lua"] = [[
describe("g", function()
  teardown(function() error("cleanup broke") end)
  it("one", function() end)
end)
]] })
  local r = run({ "test", dir })
  test.eq(r.code, 1, r.out .. r.err)
  test.matches(r.out, "FAIL [^\n]*:: g %(teardown%)\n    [^\n]*cleanup broke")
  test.eq(last_line(r.out), "1 passed, 1 failed")
end)

test("only: just the marked tests of that file run; other files are not affected", function()
  local dir = cli.files({
    ["o_test.lua"] = [[
local test = require("test")
test("not me", function() error("must not run") end)
test.only("me", function() end)
it.only("me too", function() end)
describe.only("group", function() it("all of it", function() end) end)
describe("other", function() it("no", function() error("must not run") end) end)
]],
    ["p_test.lua"] = "it('unrelated', function() end)\n",
  })
  local r = run({ "test", dir })
  test.eq(r.code, 0, r.out .. r.err)
  test.eq(last_line(r.out), "4 passed, 0 failed")
  test.ok(not r.out:find("not me", 1, true))
  test.matches(r.out, ":: group all of it")
  test.matches(r.out, "p_test%.lua :: unrelated")
end)

test("--forbid-only: every test marked only fails and the others run", function()
  local dir = cli.files({ ["o_test.lua"] = [[
local test = require("test")
test("plain", function() end)
test.only("focused", function() end)
]] })
  local r = run({ "test", "--forbid-only", dir })
  test.eq(r.code, 1, r.out .. r.err)
  test.matches(r.out, "FAIL [^\n]*:: focused\n    marked 'only' %(not allowed with %-%-forbid%-only%)")
  test.matches(r.out, "ok   [^\n]*:: plain")
  test.eq(last_line(r.out), "1 passed, 1 failed")
end)

test("describe/it/setup argument errors fail the file with a clear message", function()
  local cases = {
    ["describe(42)"] = "bad argument #2 to 'describe' %(function expected, got nil%)",
    ["describe({}, function() end)"] = "bad argument #1 to 'describe' %(string expected, got table%)",
    ["it('x', 'y')"] = "bad argument #2 to 'it' %(function expected, got string%)",
    ["it.only(nil, function() end)"] = "bad argument #1 to 'it.only' %(string expected, got nil%)",
    ["setup(1)"] = "bad argument #1 to 'setup' %(function expected, got number%)",
    ["teardown()"] = "bad argument #1 to 'teardown' %(function expected, got nil%)",
    ["it('x', function() end, { timout = 1 })"] = "bad option 'timout' to 'it'",
    ["it('x', function() end, { timeout = 0/0 })"] = "bad option 'timeout' to 'it'",
    ["it('x', function() end, { timeout = -1 })"] = "bad option 'timeout' to 'it'",
  }
  for code, expected in pairs(cases) do
    local dir = cli.files({ ["bad_test.lua"] = code .. "\n" })
    local r = run({ "test", dir })
    test.eq(r.code, 1, code .. ": " .. r.out .. r.err)
    test.matches(r.out, "FAIL [^\n]*bad_test%.lua\n    [^\n]*" .. expected, code)
    test.matches(r.out, "bad_test%.lua:1:", code .. ": the error points at the caller")
  end
end)

test("an error inside a describe block fails the file and the collector is usable after", function()
  local dir = cli.files({ ["e_test.lua"] = [[
describe("g", function() error("in the block") end)
]], ["f_test.lua"] = "it('fine', function() end)\n" })
  local r = run({ "test", dir })
  test.eq(r.code, 1, r.out .. r.err)
  test.matches(r.out, "FAIL [^\n]*e_test%.lua\n    [^\n]*in the block")
  test.eq(last_line(r.out), "1 passed, 1 failed")
end)

test("registering tests or hooks while the tests run is an error, not silently ignored", function()
  local dir = cli.files({ ["late_test.lua"] = [[
local test = require("test")
it("registers late", function() test.it("too late", function() end) end)
it("adds a hook late", function() test.before_each(function() end) end)
it("groups late", function() test.describe("g", function() end) end)
]] })
  local r = run({ "test", dir })
  test.eq(r.code, 1, r.out .. r.err)
  test.matches(r.out, ":: registers late\n    [^\n]*late_test%.lua:2: 'it' called while the tests run")
  test.matches(r.out, ":: adds a hook late\n    [^\n]*late_test%.lua:3: 'before_each' called while the tests run")
  test.matches(r.out, ":: groups late\n    [^\n]*late_test%.lua:4: 'describe' called while the tests run")
  test.eq(last_line(r.out), "0 passed, 3 failed")
end)
