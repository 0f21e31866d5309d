-- process.exec / process.spawn / os.execute: children run without blocking other tasks, every
-- child is reaped, timeouts and output caps stop whole process groups.
local test = require("test")

-- Counts timer ticks while fn runs: proof that the loop kept turning.
local function ticks_during(fn)
  local ticks = 0
  local ticker = task.spawn(function()
    while true do
      task.sleep(0.01)
      ticks = ticks + 1
    end
  end)
  local results = table.pack(fn())
  ticker:cancel()
  return ticks, table.unpack(results, 1, results.n)
end

local function zombies_of_self()
  local me = io.open("/proc/self/stat"):read("l"):match("^%d+")
  local r = process.exec("ps -o stat= --ppid " .. me)
  local n = 0
  for stat in r.stdout:gmatch("%S+") do
    if stat:find("Z") then n = n + 1 end
  end
  return n
end

test("exec runs through sh -c and returns stdout, stderr, status, success", function()
  local r = process.exec("echo out; echo err >&2; exit 3")
  test.eq(r.stdout, "out\n")
  test.eq(r.stderr, "err\n")
  test.eq(r.status, 3)
  test.eq(r.success, false)
  test.eq(r.signal, nil)
  test.eq(type(r.pid), "number")
  r = process.exec("true")
  test.eq({ r.stdout, r.stderr, r.status, r.success }, { "", "", 0, true })
end)

test("spawn runs a program without a shell, arguments passed as they are", function()
  local r = process.spawn("printf", { "%s|", "a b", "$HOME", "*", 42 })
  test.eq(r.stdout, "a b|$HOME|*|42|")
  test.eq(r.success, true)
  r = process.spawn("true")
  test.eq(r.status, 0)
  r = process.spawn("sh", { cwd = "/" })  -- spawn(cmd, opts)
  test.eq(r.status, 0)
end)

test("a waiting child suspends only its task: a timer keeps ticking", function()
  local ticks, r = ticks_during(function() return process.spawn("sleep", { "0.3" }) end)
  test.eq(r.success, true)
  test.ok(ticks >= 5, "only " .. ticks .. " ticks while the child ran")
  ticks = ticks_during(function() return os.execute("sleep 0.3") end)
  test.ok(ticks >= 5, "os.execute froze the loop: " .. ticks .. " ticks")
end)

test("many children at once run concurrently", function()
  local tasks = {}
  local running, peak = 0, 0
  for i = 1, 20 do
    tasks[i] = task.spawn(function()
      running = running + 1
      peak = math.max(peak, running)
      local r = process.exec("sleep 0.2; echo " .. i)
      running = running - 1
      return r.stdout
    end)
  end
  for i = 1, 20 do test.eq(tasks[i]:join(10), i .. "\n") end
  test.ok(peak >= 15, "only " .. peak .. " children ran at the same time")
end)

test("options: stdin, cwd, env (set and remove)", function()
  test.eq(process.exec("cat", { stdin = "line 1\nline 2\0binary" }).stdout, "line 1\nline 2\0binary")
  test.eq(process.exec("pwd", { cwd = "/usr" }).stdout, "/usr\n")
  local r = process.exec('printf "%s|%s" "$MW_TEST_VAR" "${HOME-unset}"', { env = { MW_TEST_VAR = "x y", HOME = false } })
  test.eq(r.stdout, "x y|unset")
  -- the environment is inherited otherwise
  test.eq(process.exec('printf "%s" "$PATH"').stdout, os.getenv("PATH"))
  -- a child that never reads its stdin does not block us
  r = process.exec("exit 0", { stdin = ("x"):rep(1 << 20) })
  test.eq(r.success, true)
end)

test("a large output is collected whole; max_output stops a runaway child", function()
  local r = process.exec("head -c 5000000 /dev/zero")
  test.eq(#r.stdout, 5000000)
  local err = test.raises(function() process.exec("yes", { max_output = 100000 }) end, "EMSGSIZE")
  test.matches(tostring(err), "wrote more than 100000 bytes")
  test.ok(#err.stdout >= 100000, "the output so far is in the error: " .. #err.stdout)
end)

test("timeout: SIGTERM, then SIGKILL after kill_grace for a child that ignores it; grandchildren too", function()
  local err = test.raises(function() process.exec("sleep 5", { timeout = 100 }) end, "ETIMEDOUT")
  test.matches(tostring(err), "'sleep 5' timed out after 100 ms")
  test.eq(err.signal, "SIGTERM")
  local t0 = time.monotonic()
  err = test.raises(function()
    process.exec("trap '' TERM; echo started; sleep 10; echo never", { timeout = 100, kill_grace = 200 })
  end, "ETIMEDOUT")
  test.eq(err.stdout, "started\n")
  test.eq(err.signal, "SIGKILL")
  -- A grandchild holding the output pipe open is stopped with its group.
  -- (durations unique to this test: other processes on the machine may sleep 30 or 300)
  err = test.raises(function() process.exec("sleep 30.41 & sleep 30.41", { timeout = 100 }) end, "ETIMEDOUT")
  test.ok(time.monotonic() - t0 < 20, "the children outlived the timeout")
  test.eq(process.exec("pgrep -f 'slee[p] 30[.]41' || true").stdout, "")
end)

test("signals: a child killed by a signal reports it", function()
  local r = process.exec("kill -TERM $$")
  test.eq(r.status, 143)
  test.eq(r.signal, "SIGTERM")
  test.eq(r.success, false)
end)

test("a cancelled wait kills the child, which is still reaped (no zombies)", function()
  local t = task.spawn(function() return process.exec("sleep 30.42") end)
  task.sleep(0.05)
  t:cancel()
  test.eq(select(2, pcall(t.join, t)).code, "cancelled")
  for _ = 1, 100 do
    if zombies_of_self() == 0 and process.exec("pgrep -f 'slee[p] 30[.]42' || true").stdout == "" then break end
    task.sleep(0.02)
  end
  test.eq(zombies_of_self(), 0)
  test.eq(process.exec("pgrep -f 'slee[p] 30[.]42' || true").stdout, "")
end)

test("a program that cannot run is ENOENT / EACCES", function()
  local err = test.raises(function() process.spawn("no-such-program-moonwire", {}) end, "ENOENT")
  test.matches(tostring(err), "cannot run 'no%-such%-program%-moonwire'")
  test.raises(function() process.spawn("/etc/passwd", {}) end, "EACCES")
  test.raises(function() process.exec("true", { cwd = "/no/such/dir" }) end, "ENOENT")
end)

test("os.execute keeps Lua's results", function()
  test.eq({ os.execute("exit 0") }, { true, "exit", 0 })
  test.eq({ os.execute("exit 7") }, { nil, "exit", 7 })
  test.eq({ os.execute("kill -9 $$") }, { nil, "signal", 9 })
  test.eq(os.execute(), true)  -- a shell is available
  -- where Lua cannot yield it still works (blocking, as in plain Lua)
  local results
  table.sort({ 2, 1 }, function(a, b)
    results = results or { os.execute("exit 4") }
    return a < b
  end)
  test.eq(results, { nil, "exit", 4 })
end)

test("bad arguments and options", function()
  test.raises(function() process.exec() end, "string expected")
  test.raises(function() process.exec("a\0b") end, "EINVAL")
  test.raises(function() process.spawn("") end, "EINVAL")
  test.raises(function() process.spawn("echo", { {} }) end, "EINVAL")
  test.raises(function() process.spawn("echo", 5) end, "table of arguments")
  local err = test.raises(function() process.exec("true", { timeuot = 5 }) end, "EINVAL")
  test.matches(tostring(err), "did you mean 'timeout'")
  test.raises(function() process.exec("true", { timeout = -1 }) end, "EINVAL")
  test.raises(function() process.exec("true", { env = { ["A=B"] = "x" } }) end, "EINVAL")
  test.raises(function() process.exec("true", { env = { A = {} } }) end, "EINVAL")
  test.raises(function() process.exec("true", { stdin = 5 }) end, "EINVAL")
  test.raises(function() process.exec("true", { max_output = 0 }) end, "EINVAL")
  test.eq(process.pid(), tonumber(io.open("/proc/self/stat"):read("l"):match("^%d+")))
end)

-- process.start: streaming children ----------------------------------------------------------

test("start: write to stdin, read stdout line by line while a timer ticks, wait for the status", function()
  local c = process.start("sh", { "-c", "while read l; do echo got:$l; done; echo bye >&2; exit 5" })
  test.ok(c.pid > 0)
  local ticks = 0
  local ticker = task.spawn(function() while true do task.sleep(0.01) ticks = ticks + 1 end end)
  test.eq(c.stdin:write("one\ntwo\n"), 8)
  test.eq(c.stdout:read_line(), "got:one")
  test.eq(c.stdout:read("L"), "got:two\n")
  c.stdin:close()
  local rest = {}
  for l in c.stdout:lines() do rest[#rest + 1] = l end
  test.eq(rest, {})
  test.eq(c.stderr:read_all(), "bye\n")
  local r = c:wait()
  test.eq({ r.status, r.success, r.pid }, { 5, false, c.pid })
  test.eq(c:wait().status, 5)  -- again: the same result
  -- a read that waits for a slow child keeps the loop turning
  ticks = 0
  local slow = process.start("sh", { "-c", "sleep 0.3; echo late" })
  test.eq(slow.stdout:read_line(), "late")
  test.ok(ticks >= 5, ticks .. " ticks")
  ticker:cancel()
  test.eq(slow:wait().success, true)
  test.eq(slow.stdout:read_line(), nil)  -- EOF
end)

test("start: kill, wait with a timeout, signals by name and number", function()
  local c = process.start("sleep", { "10" })
  test.raises(function() c:wait(50) end, "ETIMEDOUT")
  test.eq(c:kill("TERM"), true)
  test.eq(c:wait().signal, "SIGTERM")
  test.eq(c:kill(), false)  -- already exited
  c = process.start("sleep", { "10" })
  test.eq(c:kill(9), true)
  test.eq(c:wait().signal, "SIGKILL")
  test.raises(function() c:kill("NOSUCH") end, "EINVAL")
  test.raises(function() c:kill(0) end, "EINVAL")
end)

test("start: stdout/stderr inherit or null, cwd and env, a child that stops reading", function()
  local c = process.start("sh", { "-c", "pwd; echo $X; echo e >&2" }, { cwd = "/tmp", env = { X = "y" }, stderr = "null" })
  test.eq(c.stdout:read_all(), "/tmp\ny\n")
  test.eq(c.stderr:read_all(), "")
  test.eq(c:wait().success, true)
  -- writing to a child that exited without reading: EPIPE, not a crash
  c = process.start("true", {})
  c:wait()
  local ok, e = pcall(c.stdin.write, c.stdin, ("x"):rep(1 << 20))
  test.eq(ok, false)
  test.eq(e.code, "EPIPE")
  c.stdin:close()
  test.raises(function() c.stdin:write("x") end, "closed")
end)

test("start: bad arguments and options", function()
  test.raises(function() process.start("no-such-program-moonwire", {}) end, "ENOENT")
  test.raises(function() process.start("") end, "EINVAL")
  test.raises(function() process.start("true", {}, { stdout = "file" }) end, "EINVAL")
  test.raises(function() process.start("true", {}, { timeout = 5 }) end, "EINVAL")  -- not an option of start
  local c = process.start("true")
  local waiter = task.spawn(function() return c:wait() end)
  test.eq(waiter:join(5).success, true)
end)
