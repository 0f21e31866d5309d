-- `moonwire test --coverage`: executed lines of the tested code (in the file's top level, in
-- every task, in coroutines) as an lcov tracefile that genhtml reads; embedded modules and the
-- test files left out; --jobs workers' counts merged.
local test = require("test")
local cli = dofile("tests/cli/fixtures/cli.lua")
local proc = cli.proc
local run = cli.run

test.after_each(cli.cleanup)

local function last_line(s) return s:match("([^\n]*)\n?$") end

local LIB = [[
local M = {}

function M.used(x)
  if x > 0 then
    return "positive"
  else
    return "not positive"
  end
end

function M.unused()
  local a = 1
  return a + 1
end

function M.in_task()
  return "from a task"
end

function M.in_coroutine()
  return "from a coroutine"
end

function M.in_timer()
  return "from a timer callback, a task the runtime made"
end
return M
]]

local TEST = [[
local lib = require("lib")
local test = require("test")
it("uses", function()
  test.eq(lib.used(1), "positive")
  test.eq(task.spawn(lib.in_task):join(), "from a task")
  test.eq(coroutine.wrap(lib.in_coroutine)(), "from a coroutine")
  local ch = task.channel(1)
  setTimeout(function() ch:send(lib.in_timer()) end, 1)
  test.matches(ch:recv(10), "from a timer")
  test.eq(json.decode("[1]")[1], 1)  -- embedded and C code: not in the report
end)
]]

-- lcov's records: path → {line → count}.
local function parse_lcov(text)
  local files, cur = {}, nil -- luacheck: ignore 331 (cur: the record being read)
  for line in text:gmatch("[^\n]+") do
    local sf = line:match("^SF:(.*)$")
    if sf then
      cur = {}
      files[sf] = cur
    end
    local l, n = line:match("^DA:(%d+),(%d+)$")
    if l then cur[tonumber(l)] = tonumber(n) end
  end
  return files
end

local function lib_dir()
  return cli.files({ ["lib.lua"] = LIB, ["t/lib_test.lua"] = TEST, ["t/other_test.lua"] = TEST:gsub("uses", "uses again") })
end

test("--coverage writes lcov.info with every code line of the tested module, and a summary", function()
  local dir = lib_dir()
  local r = run({ "test", "--coverage", "t" }, { cwd = dir, env = { LUA_PATH = dir .. "/?.lua;;" } })
  test.eq(r.code, 0, r.out .. r.err)
  test.eq(last_line(r.out), "2 passed, 0 failed")
  test.matches(r.out, "coverage %(lcov%.info%):\n")
  test.matches(r.out, "\n%s+%d+%.%d%%  %d+/%d+  lib%.lua\n")
  local files = parse_lcov(proc.read_file(dir .. "/lcov.info"))
  local lib = files[dir .. "/lib.lua"]
  test.ok(lib, "lib.lua is in the report")
  for sf in pairs(files) do
    test.ok(not sf:find("_test%.lua$"), "test files are left out: " .. sf)
    test.ok(not sf:find("[moonwire]", 1, true) and sf:sub(1, 1) == "/", "embedded modules are left out: " .. sf)
  end
  test.eq(lib[4], 2, "if x > 0: run by both tests")
  test.eq(lib[5], 2, "return positive")
  test.eq(lib[7], 0, "the else branch never ran")
  test.eq(lib[12], 0, "unused body")
  test.eq(lib[13], 0)
  test.eq(lib[17], 2, "run inside a task")
  test.eq(lib[21], 2, "run inside a coroutine")
  test.eq(lib[25], 2, "run inside a timer's callback")
  test.eq(lib[1], 1, "the module's top level (run once, by the first file's require)")
  test.eq(lib[2], nil, "a blank line is no code")
  test.eq(lib[8], nil, "the if's 'end' holds no code")
  test.eq(lib[9], 1, "a function's 'end' is where its closure is made, at the top level")
end)

test("--coverage with --jobs merges the workers' counts", function()
  local dir = lib_dir()
  local env = { LUA_PATH = dir .. "/?.lua;;" }
  run({ "test", "--coverage", "--coverage-output", "serial.info", "t" }, { cwd = dir, env = env })
  local r = run({ "test", "--jobs", "2", "--coverage-output", "parallel.info", "t" }, { cwd = dir, env = env })
  test.eq(r.code, 0, r.out .. r.err)
  test.matches(r.out, "coverage %(parallel%.info%):")
  local serial = parse_lcov(proc.read_file(dir .. "/serial.info"))
  local parallel = parse_lcov(proc.read_file(dir .. "/parallel.info"))
  -- the same lines, run or not run alike; what both tests ran counted twice in both; the
  -- module's top level runs once per process
  local function shape(files)
    local t = {}
    for sf, lines in pairs(files) do
      t[sf] = {}
      for l, n in pairs(lines) do t[sf][l] = n > 0 end
    end
    return t
  end
  test.eq(shape(parallel), shape(serial))
  local lib = dir .. "/lib.lua"
  for _, l in ipairs({ 4, 5, 17, 21, 25 }) do test.eq(parallel[lib][l], serial[lib][l], "line " .. l) end
  test.eq(parallel[lib][1], 2)
end)

proc.peer_test(test, proc.have("genhtml"), "genhtml (lcov)")("genhtml turns lcov.info into an HTML report", function()
  local dir = lib_dir()
  local r = run({ "test", "--coverage", "t" }, { cwd = dir, env = { LUA_PATH = dir .. "/?.lua;;" } })
  test.eq(r.code, 0, r.out .. r.err)
  local g = run({ "-q", "-o", dir .. "/html", dir .. "/lcov.info" }, { program = "genhtml", cwd = dir })
  test.eq(g.code, 0, g.out .. g.err)
  test.ok(proc.read_file(dir .. "/html/index.html"), "index.html written")
  local l = run({ "--summary", dir .. "/lcov.info" }, { program = "lcov" })
  test.matches(l.out .. l.err, "lines%.+: %d+%.%d%%")
end)

test("without --coverage nothing is written; an unwritable --coverage-output fails the run", function()
  local dir = lib_dir()
  local r = run({ "test", "t" }, { cwd = dir, env = { LUA_PATH = dir .. "/?.lua;;" } })
  test.eq(r.code, 0)
  test.eq(proc.read_file(dir .. "/lcov.info"), nil)
  r = run({ "test", "--coverage-output", "/nonexistent/dir/x.info", "t" }, { cwd = dir, env = { LUA_PATH = dir .. "/?.lua;;" } })
  test.eq(r.code, 1, r.out .. r.err)
  test.matches(r.out, "FAIL %(coverage%)\n    cannot write /nonexistent/dir/x%.info")
  test.eq(last_line(r.out), "2 passed, 1 failed")
end)
