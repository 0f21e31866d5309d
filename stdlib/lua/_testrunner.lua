-- _testrunner: `moonwire test [paths...]`.
--
-- Receives the paths as `...`; returns the number of failed tests (the C++ side turns a
-- non-zero count into exit code 1). Runs as the main task, so test files may do I/O at their
-- top level. Each test runs in its own task with a timeout.
--
-- Environment:
--   MOONWIRE_TEST_TIMEOUT  seconds per test (default 30)
--   MOONWIRE_TEST_FILTER   Lua pattern; only tests whose name matches run

local paths = { ... }

local task = rawget(_G, "task") or require("task")
local time = rawget(_G, "time") or require("time")

local type, tostring, tonumber, pcall, xpcall, ipairs = type, tostring, tonumber, pcall, xpcall, ipairs
local getmetatable, setmetatable, rawequal = getmetatable, setmetatable, rawequal
local fmt, concat = string.format, table.concat
local traceback, sethook = debug.traceback, debug.sethook
local stdout = io.stdout

-- The chunk name of this file as tracebacks print it: frames from here on are the runner's.
local SELF = debug.getinfo(1, "S").short_src

local function out(line)
  stdout:write(line, "\n")
  stdout:flush()
end

local function note(line)
  io.stderr:write("moonwire test: ", line, "\n")
  io.stderr:flush()
end

-- Settings -----------------------------------------------------------------------------------

local function fmt_seconds(s)
  if math.type(s) == "float" and s == math.floor(s) and s < 2 ^ 53 then return fmt("%d", s) end
  return fmt("%g", s)
end

local DEFAULT_TIMEOUT = 30
do
  local v = os.getenv("MOONWIRE_TEST_TIMEOUT")
  if v and v ~= "" then
    local n = tonumber(v)
    if n and n > 0 then
      DEFAULT_TIMEOUT = n
    else
      note("ignoring MOONWIRE_TEST_TIMEOUT=" .. v .. " (expected a positive number of seconds)")
    end
  end
end

local FILTER = os.getenv("MOONWIRE_TEST_FILTER")
if FILTER == "" then FILTER = nil end

local function selected(name)
  if not FILTER then return true end
  local ok, found = pcall(string.find, name, FILTER)
  if ok then return found ~= nil end
  return name:find(FILTER, 1, true) ~= nil  -- not a valid pattern: plain substring
end

-- The test module ------------------------------------------------------------------------------

-- The embedded `test` module, even when a script directory has its own test.lua: the embedded
-- searcher is the last one.
local function load_test_module()
  local searchers = package.searchers
  local last = searchers[#searchers]
  if type(last) == "function" then
    local ok, loader, data = pcall(last, "test")
    if ok and type(loader) == "function" and data == ":embedded:test" then
      local m = loader("test", data)
      if type(m) == "table" and type(m.new) == "function" then return m end
    end
  end
  return require("test")
end

local T = load_test_module()
local error_text = T.error_text
-- The chunk name of the test module, whose assertion frames are dropped from tracebacks.
local TEST_MODULE = debug.getinfo(T.eq, "S").short_src

-- Errors and tracebacks ------------------------------------------------------------------------

local CAUGHT = {}  -- metatable marking values made by `catch`

local function catch(e)
  return setmetatable({ value = e, traceback = traceback(nil, 2) }, CAUGHT)
end

-- Drops the frames of the assertion helpers at the top and of the runner at the bottom.
local function trim_traceback(tb)
  if type(tb) ~= "string" then return nil end
  local lines = {}
  for line in tb:gmatch("[^\n]+") do lines[#lines + 1] = line end
  local first = 2
  while lines[first] and (lines[first]:find("[C]: in function 'error'", 1, true)
                          or lines[first]:find("[C]: in function 'assert'", 1, true)
                          or lines[first]:find(TEST_MODULE .. ":", 1, true)) do
    first = first + 1
  end
  local last = #lines
  for i = first, #lines do
    if lines[i]:find(SELF, 1, true) then
      last = i - 1
      if last >= first and lines[last]:find("[C]: in function 'xpcall'", 1, true) then last = last - 1 end
      break
    end
  end
  if last < first then return nil end
  local kept = { lines[1] }
  for i = first, last do kept[#kept + 1] = lines[i] end
  return concat(kept, "\n")
end

local function indent(text)
  return "    " .. text:gsub("\t", "    "):gsub("\n", "\n    ")
end

-- A caught value (or a bare error value) as the indented lines shown under FAIL.
local function failure_text(c)
  if getmetatable(c) == CAUGHT then
    local text = error_text(c.value)
    local tb = trim_traceback(c.traceback)
    if tb then text = text .. "\n" .. tb end
    return indent(text)
  end
  return indent(error_text(c))
end

-- Finding test files ---------------------------------------------------------------------------

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function is_dir(p)
  local f = io.open(p .. "/.", "r")
  if f then
    f:close()
    return true
  end
  return false
end

local function find_tests(dir)
  local start = dir
  if start:sub(1, 1) == "-" then start = "./" .. start end
  local cmd = "find " .. shell_quote(start)
    .. " \\( -name .git -o -name node_modules \\) -prune -o"
    .. " \\( -type f -o -type l \\) -name '*_test.lua' -print"
  local files = {}
  local pipe = io.popen(cmd, "r")
  if not pipe then return files end
  for line in pipe:lines() do
    if dir == "." then line = line:gsub("^%./", "") end
    files[#files + 1] = line
  end
  pipe:close()
  table.sort(files)
  return files
end

-- Running --------------------------------------------------------------------------------------

local passed, failed, skipped = 0, 0, 0
local uncaught_in_tests = 0

local function report_fail(header, text)
  failed = failed + 1
  out("FAIL " .. header)
  if text and text ~= "" then out(text) end
end

-- A CPU-bound test never suspends, so the timer behind join cannot fire: a count hook on the
-- test's own thread raises this once the deadline has passed.
local TIMED_OUT = setmetatable({}, { __tostring = function() return "test timed out" end })

local function arm_deadline(deadline)
  local me = coroutine.running()
  pcall(sethook, function()
    if coroutine.running() ~= me then
      sethook()  -- inherited by a thread the test created (e.g. a spawned task): not ours
      return
    end
    if time.monotonic() > deadline then error(TIMED_OUT, 0) end
  end, "", 1000000)
end

-- The body of a test task: hooks and the test, each under xpcall so that errors come back as
-- values (the task itself never fails) with a traceback taken inside the test.
local function run_body(c, fn, deadline)
  arm_deadline(deadline)
  local ok, err = true, nil
  for _, h in ipairs(c._before) do
    ok, err = xpcall(h, catch)
    if not ok then break end
  end
  if ok then ok, err = xpcall(fn, catch) end
  for _, h in ipairs(c._after) do
    local ok2, err2 = xpcall(h, catch)
    if ok and not ok2 then ok, err = ok2, err2 end
  end
  pcall(sethook)
  return ok, err
end

-- Task failures nobody joined, reported on stderr by the runtime: a test whose spawned task
-- dies uncaught fails, as the same code would fail a script (exit code 1).
local uncaught_failures = debug.getregistry()["moonwire.uncaught_failures"]

local function is_join_timeout(e)
  return type(e) == "table" and e.code == "ETIMEDOUT"
end

local function run_test(file, c, t)
  local header = file .. " :: " .. t.name
  if t.skip then
    skipped = skipped + 1
    out("skip " .. header)
    return
  end
  local timeout = t.timeout or DEFAULT_TIMEOUT
  local timed_out = "timed out after " .. fmt_seconds(timeout) .. " s"
  local t0 = time.monotonic()
  local uncaught_before = uncaught_failures()
  local tk = task.spawn(run_body, c, t.fn, t0 + timeout)
  local ok, passed_, err = pcall(tk.join, tk, timeout)
  local ms = math.floor((time.monotonic() - t0) * 1000 + 0.5)
  local uncaught = uncaught_failures() - uncaught_before
  uncaught_in_tests = uncaught_in_tests + uncaught
  if ok and passed_ and uncaught > 0 then
    report_fail(header, indent(fmt("%d task%s spawned by the test failed with an uncaught error (reported above)",
                                   uncaught, uncaught == 1 and "" or "s")))
  elseif not ok then
    if is_join_timeout(passed_) then
      pcall(tk.cancel, tk)
      pcall(tk.join, tk, 1)  -- let it unwind (after_each hooks, to-be-closed variables)
      report_fail(header, indent(timed_out))
    else
      report_fail(header, failure_text(passed_))  -- the task died outside run_body's xpcall
    end
  elseif passed_ then
    passed = passed + 1
    out(fmt("ok   %s (%d ms)", header, ms))
  elseif getmetatable(err) == CAUGHT and rawequal(err.value, TIMED_OUT) then
    report_fail(header, indent(timed_out))
  elseif getmetatable(err) == CAUGHT and getmetatable(err.value) == c.SKIP_MT then
    skipped = skipped + 1
    out("skip " .. header .. (err.value.reason and (" (" .. err.value.reason .. ")") or ""))
  else
    report_fail(header, failure_text(err))
  end
end

local function run_file(file)
  local chunk, lerr = loadfile(file)
  if not chunk then
    report_fail(file, indent(tostring(lerr)))
    return
  end
  local collector = T.new()
  local saved = package.loaded.test
  package.loaded.test = collector
  local ok, err = xpcall(chunk, catch, file)
  if not ok then
    report_fail(file, failure_text(err))
  else
    for _, t in ipairs(collector._tests) do
      if selected(t.name) then run_test(file, collector, t) end
    end
  end
  package.loaded.test = saved
end

if #paths == 0 then paths = { "." } end

local files, listed = {}, {}
local function add(file)
  if not listed[file] then
    listed[file] = true
    files[#files + 1] = file
  end
end

for _, p in ipairs(paths) do
  p = tostring(p)
  if is_dir(p) then
    local found = find_tests(p)
    if #found == 0 then note("no *_test.lua files in " .. p) end
    for _, f in ipairs(found) do add(f) end
  else
    local f, err = io.open(p, "r")
    if f then
      f:close()
      add(p)
    else
      report_fail(p, indent(tostring(err)))
    end
  end
end

local uncaught_before_files = uncaught_failures()
for _, file in ipairs(files) do run_file(file) end
task.yield()  -- a task that failed in the last turn is reported now
local late = uncaught_failures() - uncaught_before_files - uncaught_in_tests
if late > 0 then
  report_fail("(outside any test)", indent(fmt("%d task%s failed with an uncaught error outside a test's run (reported above)",
                                               late, late == 1 and "" or "s")))
end

local summary = fmt("%d passed, %d failed", passed, failed)
if skipped > 0 then summary = summary .. fmt(", %d skipped", skipped) end
out(summary)
return failed
