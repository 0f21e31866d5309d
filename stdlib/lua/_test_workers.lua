-- _test_workers: `moonwire test --jobs N`. Each test file runs in its own moonwire process
-- (`moonwire test --worker-events EVENTS -- FILE`), at most N at once; each worker writes its
-- terminal lines to its stdout and every result as a JSON line to EVENTS. The parent shows each
-- file's output as one block, in file order, and adds the results up; a worker that dies
-- before it finished (a crash, a signal) is a failure of its file. Loaded by _testrunner.lua.

local task = rawget(_G, "task") or require("task")
local process = rawget(_G, "process") or require("process")
local json = rawget(_G, "json") or require("json")
local fs = rawget(_G, "fs") or require("fs")

local part = debug.getregistry()["moonwire.test_part"]
local Options = part("options")

local fmt = string.format

local M = {}

-- The binary running now: a worker is the same moonwire, wherever it was started from.
local SELF_EXE = "/proc/self/exe"

local function read_events(path)
  local ok, text = pcall(fs.read, path)
  local results, done = {}, false
  if not ok then return results, done end
  for line in text:gmatch("[^\n]+") do
    local dok, ev = pcall(json.decode, line)
    if dok and type(ev) == "table" then
      if ev.done then
        done = true
      elseif type(ev.file) == "string" and (ev.status == "pass" or ev.status == "fail" or ev.status == "skip") then
        for k, v in pairs(ev) do
          if v == json.null then ev[k] = nil end
        end
        ev.from_worker = true  -- its terminal line is in the worker's stdout already
        results[#results + 1] = ev
      end
    end
  end
  return results, done
end

local function last_lines(text, n)
  local lines = {}
  for line in text:gmatch("[^\n]+") do lines[#lines + 1] = line end
  local from = math.max(1, #lines - n + 1)
  return table.concat(lines, "\n", from)
end

-- Runs one file in a worker; returns {stdout, stderr, results, coverage = lcov text or nil}.
local function run_one(file, opts, dir, index, color)
  local events = fmt("%s/%d.events", dir, index)
  local cov = opts.coverage and fmt("%s/%d.lcov", dir, index) or nil
  local args = Options.worker_args(opts, file, events, cov, color)
  local ok, r = pcall(process.spawn, SELF_EXE, args)
  local results, done = read_events(events)
  local out = { stdout = ok and r.stdout or "", stderr = ok and r.stderr or "", results = results }
  if not ok then
    results[#results + 1] = { file = file, status = "fail", message = "cannot start a worker process: " .. tostring(r), kind = "worker" }
  elseif not done then
    local how = r.signal and ("was killed by " .. r.signal) or ("exited with status " .. tostring(r.status))
    local text = "the worker process running this file " .. how .. " before it finished"
    local tail = last_lines(r.stderr, 20)
    if tail ~= "" then text = text .. "\n" .. tail end
    results[#results + 1] = { file = file, status = "fail", message = text, kind = "crash" }
  elseif r.status ~= 0 then
    local any_failed = false
    for _, res in ipairs(results) do
      if res.status == "fail" then any_failed = true end
    end
    if not any_failed then
      results[#results + 1] = { file = file, status = "fail", kind = "worker",
                                message = "the worker process running this file exited with status " .. tostring(r.status) }
    end
  end
  if cov then
    local cok, text = pcall(fs.read, cov)
    if cok then out.coverage = text end
  end
  return out
end

-- files: the test files; opts: the parsed options; hooks: report(result), raw(text, file),
-- stopped() (true after a --fail-fast failure), coverage (a collector to merge into), color.
function M.run(files, opts, hooks)
  local dir = fmt("%s/moonwire-test-%d-%d", fs.temp_dir(), process.pid(), math.random(1, 1 << 30))
  fs.mkdir_all(dir)
  local done, next_file, shown = {}, 1, 0
  -- Shows the finished files in order: file k only once 1..k-1 are shown.
  local function flush()
    while done[shown + 1] do
      shown = shown + 1
      local o = done[shown]
      done[shown] = false
      if o then
        if o.stdout ~= "" then hooks.raw(o.stdout, files[shown]) end
        if o.stderr ~= "" then
          io.stderr:write(o.stderr)
          io.stderr:flush()
        end
        for _, r in ipairs(o.results) do hooks.report(r) end
        if o.coverage and hooks.coverage then hooks.coverage.merge_lcov(o.coverage) end
      end
    end
  end
  local function worker()
    while true do
      if hooks.stopped() then return end
      local i = next_file
      if i > #files then return end
      next_file = i + 1
      done[i] = run_one(files[i], opts, dir, i, hooks.color)
      flush()
    end
  end
  local workers = {}
  for k = 1, math.min(opts.jobs, #files) do workers[k] = task.spawn(worker) end
  for _, w in ipairs(workers) do w:join() end
  -- Files never started after a --fail-fast stop are not shown, nor counted.
  pcall(fs.rmdir_all, dir)
end

return M
