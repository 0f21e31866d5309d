-- _testrunner: `moonwire test [options] [paths...]`.
--
-- Receives the command-line arguments after `test` as `...`; returns the number of failed
-- tests (the C++ side turns a non-zero count into exit code 1). Runs as the main task, so test
-- files may do I/O at their top level. Each test runs in its own task with a timeout.
-- Options and environment: _test_options.lua; output formats: _test_reporters.lua; --jobs:
-- _test_workers.lua; --coverage: _test_coverage.lua.

local task = rawget(_G, "task") or require("task")
local time = rawget(_G, "time") or require("time")

local type, tostring, pcall, xpcall, ipairs = type, tostring, pcall, xpcall, ipairs
local getmetatable, setmetatable, rawequal = getmetatable, setmetatable, rawequal
local fmt, concat = string.format, table.concat
local traceback, sethook = debug.traceback, debug.sethook

local part = debug.getregistry()["moonwire.test_part"]
local Options = part("options")
local Reporters = part("reporters")

-- The chunk name of this file as tracebacks print it: frames from here on are the runner's.
local SELF = debug.getinfo(1, "S").short_src

local function note(line)
  io.stderr:write("moonwire test: ", line, "\n")
  io.stderr:flush()
end

local function usage_error(msg)
  note(msg)
  io.stderr:write("try 'moonwire test --help'\n")
  io.stderr:flush()
  os.exit(2)
end

-- Settings -----------------------------------------------------------------------------------

local opts, perr = Options.parse({ ... })
if not opts then usage_error(perr) end
if opts.help then
  io.stdout:write(Options.USAGE)
  return 0
end
for _, n in ipairs(opts.notes) do note(n) end

local function fmt_seconds(s)
  if math.type(s) == "float" and s == math.floor(s) and s < 2 ^ 53 then return fmt("%d", s) end
  return fmt("%g", s)
end

local DEFAULT_TIMEOUT = opts.timeout or 30

local function matches(name, pattern)
  local ok, found = pcall(string.find, name, pattern)
  if ok then return found ~= nil end
  return name:find(pattern, 1, true) ~= nil  -- not a valid pattern: plain substring
end

local function selected(name)
  if opts.filter and not matches(name, opts.filter) then return false end
  if opts.exclude and matches(name, opts.exclude) then return false end
  return true
end

local function stdout_is_terminal()
  local ok, how, code = os.execute("test -t 1")
  return ok == true and how == "exit" and code == 0
end

local use_color = opts.color == "always"
  or (opts.color == "auto" and (os.getenv("NO_COLOR") or "") == "" and stdout_is_terminal())

-- Reporters: the terminal lines on stdout, unless another format goes to stdout; the chosen
-- format (to --output or stdout); the event stream of a worker process.
local reporters = {}
local notes_to = nil  -- the reporter that shows notes (coverage summary)
do
  local function open(path)
    local w, err = Reporters.writer(path)
    if not w then usage_error("cannot write " .. tostring(path) .. ": " .. tostring(err)) end
    return w
  end
  local worker = opts.worker_events ~= nil
  if opts.reporter == "terminal" or opts.output then
    local t = Reporters.terminal(open(opts.reporter == "terminal" and opts.output or nil),
                                 { color = use_color and not (opts.reporter == "terminal" and opts.output),
                                   no_summary = worker })
    reporters[#reporters + 1] = t
    notes_to = t
  end
  if opts.reporter ~= "terminal" then
    local r = Reporters[opts.reporter](open(opts.output))
    reporters[#reporters + 1] = r
    -- TAP on stdout takes notes as comments; XML on stdout takes none (they go to stderr).
    if not notes_to and opts.reporter == "tap" then notes_to = r end
  end
  if worker then reporters[#reporters + 1] = Reporters.events(open(opts.worker_events)) end
end

local function each(method, ...)
  for _, r in ipairs(reporters) do r[method](...) end
end

local function show_note(line)
  if notes_to then notes_to.note(line) else note(line) end
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

-- A caught value (or a bare error value) as a result's message and traceback.
local function failure_of(c)
  if getmetatable(c) == CAUGHT then return error_text(c.value), trim_traceback(c.traceback) end
  return error_text(c), nil
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

-- Results --------------------------------------------------------------------------------------

local totals = { passed = 0, failed = 0, skipped = 0 }
local stop = false  -- --fail-fast after a failure

local function report(r)
  if r.status == "pass" then
    totals.passed = totals.passed + 1
  elseif r.status == "skip" then
    totals.skipped = totals.skipped + 1
  else
    totals.failed = totals.failed + 1
    if opts.fail_fast then stop = true end
  end
  each("result", r)
end

local function report_fail(file, name, message, tb, kind)
  report({ file = file, name = name, status = "fail", message = message, traceback = tb, kind = kind })
end

-- Coverage -------------------------------------------------------------------------------------

local coverage = opts.coverage and part("coverage").new() or nil

-- Running --------------------------------------------------------------------------------------

local uncaught_in_tests = 0

-- A CPU-bound test never suspends, so the timer behind join cannot fire: a count hook on the
-- test's own thread raises this once the deadline has passed.
local TIMED_OUT = setmetatable({}, { __tostring = function() return "test timed out" end })

local function arm_deadline(deadline)
  local me = coroutine.running()
  local line_hook = coverage and coverage.line_hook
  pcall(sethook, function(event, line)
    if event == "line" then
      line_hook(event, line, 3)  -- not a tail call: the running code stays at level 3
      return
    end
    if coroutine.running() ~= me then
      sethook()  -- inherited by a thread the test created (e.g. a spawned task): not ours
      return
    end
    if time.monotonic() > deadline then error(TIMED_OUT, 0) end
  end, line_hook and "l" or "", 1000000)
end

local function disarm_deadline()
  if coverage then
    coverage.hook_thread(coroutine.running())
  else
    pcall(sethook)
  end
end

-- The body of a test task: hooks and the test, each under xpcall so that errors come back as
-- values (the task itself never fails) with a traceback taken inside the test. `before` and
-- `after` are lists of functions.
local function run_body(c, before, fn, after, deadline)
  arm_deadline(deadline)
  local stubs_before = c and #c._stubs
  local ok, err = true, nil
  for _, h in ipairs(before) do
    ok, err = xpcall(h, catch)
    if not ok then break end
  end
  if ok and fn then ok, err = xpcall(fn, catch) end
  for _, h in ipairs(after) do
    local ok2, err2 = xpcall(h, catch)
    if ok and not ok2 then ok, err = ok2, err2 end
  end
  if c then c._restore_stubs(stubs_before) end  -- the test's stubs; the file's stay
  disarm_deadline()
  return ok, err
end

-- Task failures nobody joined, reported on stderr by the runtime: a test whose spawned task
-- dies uncaught fails, as the same code would fail a script (exit code 1).
local uncaught_failures = debug.getregistry()["moonwire.uncaught_failures"]

local function is_join_timeout(e)
  return type(e) == "table" and e.code == "ETIMEDOUT"
end

-- Runs before, fn, after in a task of their own with a timeout. Returns "pass", "skip" or
-- "fail", then the milliseconds taken, then (skip) the reason or (fail) message, traceback.
local function run_in_task(c, before, fn, after, timeout)
  local timed_out = "timed out after " .. fmt_seconds(timeout) .. " s"
  local t0 = time.monotonic()
  local uncaught_before = uncaught_failures()
  local tk = task.spawn(run_body, c, before, fn, after, t0 + timeout)
  local ok, passed_, err = pcall(tk.join, tk, timeout)
  local ms = math.floor((time.monotonic() - t0) * 1000 + 0.5)
  local uncaught = uncaught_failures() - uncaught_before
  uncaught_in_tests = uncaught_in_tests + uncaught
  if ok and passed_ and uncaught > 0 then
    return "fail", ms, fmt("%d task%s spawned by the test failed with an uncaught error (reported above)",
                           uncaught, uncaught == 1 and "" or "s")
  elseif not ok then
    if is_join_timeout(passed_) then
      pcall(tk.cancel, tk)
      pcall(tk.join, tk, 1)  -- let it unwind (after_each hooks, to-be-closed variables)
      return "fail", ms, timed_out, nil, "timeout"
    end
    return "fail", ms, failure_of(passed_)  -- the task died outside run_body's xpcall
  elseif passed_ then
    return "pass", ms
  elseif getmetatable(err) == CAUGHT and rawequal(err.value, TIMED_OUT) then
    return "fail", ms, timed_out, nil, "timeout"
  elseif getmetatable(err) == CAUGHT and getmetatable(err.value) == T.SKIP_MT then
    return "skip", ms, err.value.reason
  end
  return "fail", ms, failure_of(err)
end

-- The chain of groups from the file's root to g.
local function chain(g)
  local list = {}
  while g do
    table.insert(list, 1, g)
    g = g.parent
  end
  return list
end

-- The tests of a collector that run, in order: the selection (filter, exclude, only).
local function selection(c)
  local honour_only = c._only > 0 and not opts.forbid_only
  local list = {}
  for _, t in ipairs(c._tests) do
    if selected(t.name) and (not honour_only or t.only) then list[#list + 1] = t end
  end
  return list
end

local function run_tests(file, c)
  local tests = selection(c)
  c._locked = true
  -- Where each group's last test is, so its teardown runs right after it.
  local last_of, state = {}, {}
  for i, t in ipairs(tests) do
    if not t.skip then
      for _, g in ipairs(chain(c._group_of[t])) do last_of[g] = i end
    end
  end
  local function teardown(g)
    if #g.teardown == 0 then return end
    local status, ms, message, tb, kind = run_in_task(nil, {}, nil, g.teardown, DEFAULT_TIMEOUT)
    if status == "fail" then
      report({ file = file, name = (g.name and (g.name .. " ") or "") .. "(teardown)", status = "fail", ms = ms,
               message = message, traceback = tb, kind = kind })
    end
  end
  for i, t in ipairs(tests) do
    if stop then break end
    local groups = chain(c._group_of[t])
    if t.skip then
      report({ file = file, name = t.name, status = "skip", reason = t.reason })
    elseif opts.forbid_only and t.only then
      report_fail(file, t.name, "marked 'only' (not allowed with --forbid-only)")
    else
      -- setup of every group not set up yet, outermost first; a failed one fails its tests
      local setup_failure
      for _, g in ipairs(groups) do
        if state[g] == nil then
          state[g] = true
          if #g.setup > 0 then
            local status, _, message, tb = run_in_task(nil, {}, nil, g.setup, DEFAULT_TIMEOUT)
            if status ~= "pass" then state[g] = { message = message, traceback = tb } end
          end
        end
        if state[g] ~= true then
          setup_failure = state[g]
          break
        end
      end
      if setup_failure then
        report_fail(file, t.name, "setup failed: " .. tostring(setup_failure.message), setup_failure.traceback)
      else
        local before, after = {}, {}
        for _, g in ipairs(groups) do
          for _, h in ipairs(g.before) do before[#before + 1] = h end
        end
        for k = #groups, 1, -1 do
          for _, h in ipairs(groups[k].after) do after[#after + 1] = h end
        end
        local status, ms, a, b, kind = run_in_task(c, before, t.fn, after, t.timeout or DEFAULT_TIMEOUT)
        if status == "pass" then
          report({ file = file, name = t.name, status = "pass", ms = ms })
        elseif status == "skip" then
          report({ file = file, name = t.name, status = "skip", ms = ms, reason = a })
        else
          report({ file = file, name = t.name, status = "fail", ms = ms, message = a, traceback = b, kind = kind })
        end
      end
    end
    -- teardown of the groups whose last test this was, innermost first
    for k = #groups, 1, -1 do
      local g = groups[k]
      if last_of[g] == i and state[g] then teardown(g) end
    end
  end
end

-- busted's globals, bound to the file's collector while its top level runs.
local GLOBALS = { "describe", "it", "pending", "setup", "teardown", "before_each", "after_each" }

local function load_file(file)
  local chunk, lerr = loadfile(file)
  if not chunk then
    report_fail(file, nil, tostring(lerr), nil, "load")
    return nil
  end
  local collector = T.new()
  local saved, saved_globals = package.loaded.test, {}
  package.loaded.test = collector
  for _, g in ipairs(GLOBALS) do
    saved_globals[g] = rawget(_G, g)
    rawset(_G, g, collector[g])
  end
  if coverage then coverage.hook_thread(coroutine.running()) end
  local ok, err = xpcall(chunk, catch, file)
  if coverage then sethook() end
  for _, g in ipairs(GLOBALS) do rawset(_G, g, saved_globals[g]) end
  return collector, ok, err, saved
end

local function run_file(file)
  local collector, ok, err, saved = load_file(file)
  if not collector then return end
  if not ok then
    local message, tb = failure_of(err)
    report_fail(file, nil, message, tb, "load")
  else
    run_tests(file, collector)
  end
  collector._restore_stubs()
  package.loaded.test = saved
end

local function list_file(file)
  local collector, ok, err, saved = load_file(file)
  if not collector then return end
  if not ok then
    report_fail(file, nil, failure_of(err))
  else
    for _, t in ipairs(selection(collector)) do
      totals.listed = (totals.listed or 0) + 1
      io.stdout:write(file, " :: ", t.name, t.skip and " (skip)" or "", "\n")
    end
  end
  collector._restore_stubs()
  package.loaded.test = saved
end

-- The files ------------------------------------------------------------------------------------

local paths = opts.paths
if #paths == 0 then paths = { "." } end

local files, seen = {}, {}
local function add(file)
  if not seen[file] then
    seen[file] = true
    files[#files + 1] = file
  end
end

each("start")
local t_start = time.monotonic()

for _, p in ipairs(paths) do
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
      report_fail(p, nil, tostring(err), nil, "load")
    end
  end
end

local parallel = opts.jobs > 1 and #files > 1 and not opts.list
if coverage then
  coverage.exclude_files(files)
  if not parallel then coverage.install() end
end

if opts.list then
  for _, file in ipairs(files) do list_file(file) end
  io.stdout:write(fmt("%d test%s\n", totals.listed or 0, totals.listed == 1 and "" or "s"))
  return totals.failed
end

if parallel then
  part("workers").run(files, opts, {
    report = report,
    raw = function(text, file) each("raw", text, file) end,
    stopped = function() return stop end,
    coverage = coverage,
    color = use_color and "always" or "never",
  })
else
  local uncaught_before_files = uncaught_failures()
  for _, file in ipairs(files) do
    if stop then break end
    run_file(file)
  end
  task.yield()  -- a task that failed in the last turn is reported now
  local late = uncaught_failures() - uncaught_before_files - uncaught_in_tests
  if late > 0 then
    report_fail("(outside any test)", nil,
                fmt("%d task%s failed with an uncaught error outside a test's run (reported above)",
                    late, late == 1 and "" or "s"))
  end
end

if coverage then
  coverage.uninstall()
  local ok, err = coverage.write(opts.coverage_output)
  if not ok then
    report_fail("(coverage)", nil, "cannot write " .. opts.coverage_output .. ": " .. tostring(err))
  elseif not opts.worker_events then
    for _, line in ipairs(coverage.summary(opts.coverage_output)) do show_note(line) end
  end
end

totals.seconds = time.monotonic() - t_start
if not notes_to then note(Reporters.summary(totals)) end  -- stdout has the XML
each("finish", totals)
return totals.failed
