-- _test_options: the command line of `moonwire test` (parsed here, not in main.cpp, so that the
-- runner and its worker processes share one definition). Loaded by _testrunner.lua.

local fmt = string.format

local M = {}

M.USAGE = [[
usage: moonwire test [options] [paths...]
Runs the tests in the *_test.lua files under each path (default: the current directory).
Options:
  --reporter NAME      terminal (default), tap (TAP 13) or junit (JUnit XML)
  --output FILE        write the reporter's output to FILE (the terminal lines stay on stdout)
  --filter PATTERN     run only the tests whose full name matches the Lua pattern
  --exclude PATTERN    do not run the tests whose full name matches the Lua pattern
  --timeout SECONDS    time each test may take (default 30)
  --fail-fast          stop after the first failure
  --jobs N, -j N       run N test files at once, each in its own moonwire process
  --list               print the selected tests' names without running them
  --coverage           record the executed lines of the tested code; write lcov.info
  --coverage-output F  the lcov file to write (default lcov.info; implies --coverage)
  --forbid-only        fail the run if a test or group is marked 'only'
  --color WHEN         auto (default: on a terminal, unless NO_COLOR is set), always, never
  --help               show this help
  --                   the remaining arguments are paths
]]

-- name → kind: "flag" takes no value, otherwise a value converter's name.
local OPTIONS = {
  reporter = "reporter", output = "string", filter = "pattern", exclude = "pattern",
  timeout = "seconds", ["fail-fast"] = "flag", jobs = "count", list = "flag",
  coverage = "flag", ["coverage-output"] = "string", ["forbid-only"] = "flag",
  color = "color", help = "flag",
  -- Internal: how the parent of a --jobs run talks to its worker processes.
  ["worker-events"] = "string",
}
local PUBLIC_NAMES = {}
for name in pairs(OPTIONS) do
  if name ~= "worker-events" then PUBLIC_NAMES[#PUBLIC_NAMES + 1] = name end
end
table.sort(PUBLIC_NAMES)

M.REPORTERS = { "terminal", "tap", "junit" }
local COLORS = { "auto", "always", "never" }

local function distance(a, b)
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

local function did_you_mean(word, choices, prefix)
  local best, best_d
  for _, c in ipairs(choices) do
    local d = distance(word, c)
    if not best_d or d < best_d then best, best_d = c, d end
  end
  if best and best_d <= math.max(2, #word // 3) then
    return fmt(" (did you mean '%s%s'?)", prefix or "", best)
  end
  return ""
end
M.did_you_mean = did_you_mean

local function one_of(value, choices, what)
  for _, c in ipairs(choices) do
    if c == value then return value end
  end
  return nil, fmt("unknown %s '%s'%s (one of: %s)", what, value, did_you_mean(value, choices),
                  table.concat(choices, ", "))
end

local CONVERT = {
  string = function(v) return v end,
  pattern = function(v)
    if v == "" then return nil, "empty pattern" end
    return v
  end,
  reporter = function(v) return one_of(v, M.REPORTERS, "reporter") end,
  color = function(v) return one_of(v, COLORS, "color setting") end,
  seconds = function(v)
    local n = tonumber(v)
    if not n or not (n > 0) or n == math.huge then return nil, "expected a positive number of seconds, got '" .. v .. "'" end
    return n
  end,
  count = function(v)
    local n = math.tointeger(tonumber(v))
    if not n or n < 1 or n > 256 then return nil, "expected a whole number from 1 to 256, got '" .. v .. "'" end
    return n
  end,
}

-- The environment's settings, which options override.
local function from_env(o, problems)
  local v = os.getenv("MOONWIRE_TEST_TIMEOUT")
  if v and v ~= "" then
    local n = CONVERT.seconds(v)
    if n then
      o.timeout = n
    else
      problems[#problems + 1] = "ignoring MOONWIRE_TEST_TIMEOUT=" .. v .. " (expected a positive number of seconds)"
    end
  end
  local f = os.getenv("MOONWIRE_TEST_FILTER")
  if f and f ~= "" then o.filter = f end
  local x = os.getenv("MOONWIRE_TEST_EXCLUDE")
  if x and x ~= "" then o.exclude = x end
end

-- parse(args) → options, or nil and an error message. Options: paths, reporter, output,
-- filter, exclude, timeout (nil: default), fail_fast, jobs, list, coverage, coverage_output,
-- forbid_only, color, help, worker_events, notes (warnings to print).
function M.parse(args)
  local o = { paths = {}, reporter = "terminal", jobs = 1, color = "auto", notes = {} }
  from_env(o, o.notes)
  local i, n = 1, #args
  while i <= n do
    local a = tostring(args[i])
    if a == "--" then
      for k = i + 1, n do o.paths[#o.paths + 1] = tostring(args[k]) end
      break
    elseif a == "-j" or a:match("^%-%-") then
      local name, value = a:match("^%-%-([^=]+)=(.*)$")
      if not name then name = a == "-j" and "jobs" or a:sub(3) end
      local kind = OPTIONS[name]
      if not kind then
        return nil, fmt("unknown option '%s'%s", a, did_you_mean(name, PUBLIC_NAMES, "--"))
      end
      if kind == "flag" then
        if value ~= nil then return nil, fmt("option '--%s' takes no value", name) end
        o[name:gsub("%-", "_")] = true
      else
        if value == nil then
          i = i + 1
          if i > n then return nil, fmt("option '%s' needs a value", a) end
          value = tostring(args[i])
        end
        local v, err = CONVERT[kind](value)
        if v == nil then return nil, fmt("option '--%s': %s", name, err) end
        o[name:gsub("%-", "_")] = v
      end
    elseif a ~= "-" and a:sub(1, 1) == "-" then
      return nil, fmt("unknown option '%s' (try 'moonwire test --help')", a)
    else
      o.paths[#o.paths + 1] = a
    end
    i = i + 1
  end
  if o.coverage_output then o.coverage = true end
  if o.coverage and not o.coverage_output then o.coverage_output = "lcov.info" end
  return o
end

-- The arguments that give a worker process the same settings as this one, for one file.
function M.worker_args(o, file, events, coverage_file, color)
  local a = { "test", "--worker-events", events, "--color", color }
  if o.timeout then a[#a + 1] = "--timeout"; a[#a + 1] = fmt("%.17g", o.timeout) end
  if o.filter then a[#a + 1] = "--filter"; a[#a + 1] = o.filter end
  if o.exclude then a[#a + 1] = "--exclude"; a[#a + 1] = o.exclude end
  if o.fail_fast then a[#a + 1] = "--fail-fast" end
  if o.forbid_only then a[#a + 1] = "--forbid-only" end
  if coverage_file then a[#a + 1] = "--coverage-output"; a[#a + 1] = coverage_file end
  a[#a + 1] = "--"
  a[#a + 1] = file
  return a
end

return M
