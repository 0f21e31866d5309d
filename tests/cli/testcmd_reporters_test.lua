-- `moonwire test --reporter junit|tap`: the reports, checked by their real consumers (xmllint
-- against a JUnit XSD, Perl's `prove`), and the terminal format's colours.
local test = require("test")
local cli = dofile("tests/cli/fixtures/cli.lua")
local proc = cli.proc
local run, q = cli.run, proc.quote

test.after_each(cli.cleanup)

local XSD = cli.abspath("tests/fixtures/junit.xsd")
local have_xmllint = proc.have("xmllint")
local have_prove = proc.have("prove")

local MIXED = {
  ["a_test.lua"] = [[
local test = require("test")
test("adds", function() test.eq(1 + 1, 2) end)
test("fails <&> \"quoted\"", function() test.eq({ 1, 2 }, { 1, 3 }) end)
test.skip("later", function() end)
test("skips itself", function() test.skip_now("no frobnicator") end)
test("bytes \1\2 and bad utf-8 \255 # hash", function() error("boom \0 \255 ]]..']]>'..[[") end)
describe("a group", function()
  it("nests", function() end)
  describe("inner", function()
    it("nests deeper", function() error("deep failure") end)
  end)
end)
]],
  ["b_test.lua"] = "local test = require('test')\ntest('unfinished', function()\n",
  ["c_test.lua"] = [[
local test = require("test")
test("only passes", function() end)
]],
}

local function last_line(s) return s:match("([^\n]*)\n?$") end

local function count(s, pattern)
  local n = 0
  for _ in s:gmatch(pattern) do n = n + 1 end
  return n
end

local function xmllint(file)
  local r = run({ "--noout", "--schema", XSD, file }, { program = "xmllint" })
  return r.code == 0, r.err
end

proc.peer_test(test, have_xmllint, "xmllint (libxml2-utils)")("junit: the XML is valid against the JUnit XSD and holds every result", function()
  local dir = cli.files(MIXED)
  local xml = dir .. "/report.xml"
  local r = run({ "test", "--reporter", "junit", "--output", xml, dir })
  test.eq(r.code, 1, r.out .. r.err)
  -- stdout keeps the terminal lines and the summary
  test.eq(last_line(r.out), "3 passed, 4 failed, 2 skipped")
  test.matches(r.out, "FAIL [^\n]*a_test%.lua :: a group inner nests deeper\n")
  local ok, err = xmllint(xml)
  test.ok(ok, err)
  local text = proc.read_file(xml)
  test.matches(text, '^<%?xml version="1.0" encoding="UTF%-8"%?>\n<testsuites ')
  test.matches(text, '<testsuites name="moonwire test" tests="9" failures="4" errors="0" skipped="2"')
  test.eq(count(text, "<testsuite "), 3)
  test.eq(count(text, "<testcase "), 9)
  test.eq(count(text, "<failure "), 4)
  test.eq(count(text, "<skipped"), 2)
  test.matches(text, '<testcase name="fails &lt;&amp;&gt; &quot;quoted&quot;" classname="[^"]*a_test%.lua"')
  test.matches(text, '<testcase name="a group inner nests deeper"')
  test.matches(text, '<skipped message="no frobnicator"/>')
  -- message: the first line; body: the whole message and the traceback
  test.matches(text, '<failure message="[^"]*a_test%.lua:3: values differ" type="failure">[^<]*at %[2%]: actual 2, expected 3\n[^<]*stack traceback:')
  test.matches(text, "bad utf%-8 \\xff")
  test.matches(text, "]]&gt;")
  -- a file that does not load: one testcase named (file)
  test.matches(text, '<testsuite name="[^"]*b_test%.lua"[^>]*tests="1" failures="1"')
  test.matches(text, '<testcase name="%(file%)"')
end)

proc.peer_test(test, have_xmllint, "xmllint (libxml2-utils)")("junit without --output: the XML is stdout, the summary goes to stderr", function()
  local dir = cli.files({ ["c_test.lua"] = MIXED["c_test.lua"] })
  local r = run({ "test", "--reporter=junit", dir })
  test.eq(r.code, 0, r.out .. r.err)
  test.matches(r.out, "^<%?xml")
  test.matches(r.err, "1 passed, 0 failed\n$")
  local file = dir .. "/out.xml"
  proc.write_file(file, r.out)
  local ok, err = xmllint(file)
  test.ok(ok, err)
end)

proc.peer_test(test, have_xmllint, "xmllint (libxml2-utils)")("junit: no test files is a valid, empty report", function()
  local dir = cli.files({ ["readme.txt"] = "" })
  local xml = dir .. "/r.xml"
  local r = run({ "test", "--reporter", "junit", "--output", xml, dir })
  test.eq(r.code, 0, r.out .. r.err)
  local ok, err = xmllint(xml)
  test.ok(ok, err)
  test.matches(proc.read_file(xml), 'tests="0"')
end)

test("tap: version line, one line per test, SKIP directives, YAML diagnostics, the plan last", function()
  local dir = cli.files(MIXED)
  local r = run({ "test", "--reporter", "tap", dir })
  test.eq(r.code, 1, r.out .. r.err)
  local lines = {}
  for l in r.out:gmatch("[^\n]+") do lines[#lines + 1] = l end
  test.eq(lines[1], "TAP version 13")
  test.eq(lines[#lines], "1..9")
  test.eq(lines[#lines - 1], "# 3 passed, 4 failed, 2 skipped")
  test.matches(r.out, "\nok 1 %- [^\n]*a_test%.lua :: adds\n")
  test.matches(r.out, "\nnot ok 2 %- [^\n]*a_test%.lua :: fails <&> \"quoted\"\n  %-%-%-\n  message: \"[^\n]*values differ\\n")
  test.matches(r.out, "\nok 3 %- [^\n]*:: later # SKIP\n")
  test.matches(r.out, "\nok 4 %- [^\n]*:: skips itself # SKIP no frobnicator\n")
  test.matches(r.out, ":: bytes [^\n]* \\# hash\n")  -- '#' in a description is escaped
  test.eq(count(r.out, "\nnot ok "), 4)
  test.eq(count(r.out, "\n  %.%.%.\n"), 4)
end)

proc.peer_test(test, have_prove, "prove (perl)")("tap: prove runs the files through `moonwire test --reporter tap` and agrees", function()
  local dir = cli.files({
    ["good_test.lua"] = MIXED["c_test.lua"] .. "test.skip('not yet')\ndescribe('g', function() it('x', function() end) end)\n",
    ["bad_test.lua"] = MIXED["a_test.lua"],
  })
  local exec = cli.bin .. " test --reporter tap"  -- prove splits --exec at spaces, quotes and all
  local r = run("--exec " .. q(exec) .. " " .. q(dir .. "/good_test.lua"), { program = "prove" })
  test.eq(r.code, 0, r.out .. r.err)
  test.matches(r.out, "All tests successful")
  test.matches(r.out, "Tests=3")
  r = run("--exec " .. q(exec) .. " " .. q(dir .. "/good_test.lua") .. " " .. q(dir .. "/bad_test.lua"), { program = "prove" })
  test.ne(r.code, 0, r.out .. r.err)
  test.matches(r.out, "Failed 3/7 subtests")
  test.matches(r.out, "bad_test%.lua %(Wstat: 256 %(exited 1%) Tests: 7 Failed: 3%)\n  Failed tests:  2, 5, 7\n")
  test.matches(r.out, "Files=2, Tests=10")
  test.ok(not r.out:find("Parse errors"), r.out)
end)

test("colours: never on a pipe; --color always colours the status words only", function()
  local dir = cli.files(MIXED)
  local r = run({ "test", dir })
  test.ok(not r.out:find("\27", 1, true), "no escape codes on a pipe")
  r = run({ "test", "--color", "always", dir })
  test.matches(r.out, "\27%[32mok  \27%[0m [^\n]*:: adds")
  test.matches(r.out, "\27%[31mFAIL\27%[0m [^\n]*:: fails")
  test.matches(r.out, "\27%[33mskip\27%[0m [^\n]*:: later")
  test.eq(last_line(r.out), "3 passed, 4 failed, 2 skipped")
  r = run({ "test", "--color", "never", dir })
  test.ok(not r.out:find("\27", 1, true))
end)

test("colours on a terminal, and NO_COLOR turns them off", function()
  local dir = cli.files({ ["c_test.lua"] = MIXED["c_test.lua"] })
  local out = cli.pty({ "expect:passed" }, { cli.bin, "test", dir })
  test.matches(out, "\27%[32mok  \27%[0m")
  out = cli.pty({ "expect:passed" }, { cli.bin, "test", dir }, { env = { NO_COLOR = "1" } })
  test.ok(not out:find("\27[32m", 1, true), out)
end)

test("bad reporter options: exit 2 with a message", function()
  local r = run({ "test", "--reporter", "junti" })
  test.eq(r.code, 2)
  test.matches(r.err, "unknown reporter 'junti' %(did you mean 'junit'%?%)")
  r = run({ "test", "--reporter" })
  test.eq(r.code, 2)
  test.matches(r.err, "option '%-%-reporter' needs a value")
  r = run({ "test", "--color", "sometimes" })
  test.eq(r.code, 2)
  test.matches(r.err, "unknown color setting 'sometimes'")
  r = run({ "test", "--reporter", "junit", "--output", "/nonexistent/dir/x.xml" })
  test.eq(r.code, 2)
  test.matches(r.err, "cannot write /nonexistent/dir/x%.xml")
end)

test("--output with the terminal reporter writes the terminal lines to the file", function()
  local dir = cli.files({ ["c_test.lua"] = MIXED["c_test.lua"] })
  local r = run({ "test", "--output", dir .. "/log.txt", dir })
  test.eq(r.code, 0, r.out .. r.err)
  test.eq(r.out, "")
  local log = proc.read_file(dir .. "/log.txt")
  test.matches(log, "^ok   [^\n]*:: only passes %(%d+ ms%)\n1 passed, 0 failed\n$")
end)
