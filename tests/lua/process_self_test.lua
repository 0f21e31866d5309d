-- process.env, process.args/script, process.exit, process.ppid, process.on_signal: this process.
local test = require("test")
local cli = dofile("tests/cli/fixtures/cli.lua")

test.after_each(cli.cleanup)

-- A moonwire child running `src`, its stdout piped to us (read without blocking the loop).
local function child(src, args)
  local dir = cli.files({ ["script.lua"] = src })
  local argv = { dir .. "/script.lua" }
  for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
  return process.start(cli.bin, argv, { stderr = "pipe" })
end

local function raises_code(code, fn)
  local ok, err = pcall(fn)
  test.eq(ok, false, "expected an error " .. code)
  test.eq(type(err) == "table" and err.code or tostring(err), code)
end

local function ticker()
  local t = { ticks = 0 }
  t.task = task.spawn(function()
    while true do
      task.sleep(0.01)
      t.ticks = t.ticks + 1
    end
  end)
  return t
end

-- process.env --------------------------------------------------------------------------------

test("process.env reads, sets and removes variables; children see the changes", function()
  test.eq(process.env.HOME, os.getenv("HOME"))
  test.eq(process.env.MOONWIRE_SURELY_UNSET_VAR, nil)
  process.env.MW_ENV_TEST = "hello world"
  test.eq(os.getenv("MW_ENV_TEST"), "hello world")
  test.eq(process.env.MW_ENV_TEST, "hello world")
  test.eq(process.exec("printf %s \"$MW_ENV_TEST\"").stdout, "hello world")
  process.env.MW_ENV_TEST = 42
  test.eq(process.env.MW_ENV_TEST, "42")
  process.env.MW_ENV_TEST = ""
  test.eq(process.env.MW_ENV_TEST, "")
  process.env.MW_ENV_TEST = nil
  test.eq(process.env.MW_ENV_TEST, nil)
  test.eq(os.getenv("MW_ENV_TEST"), nil)
  test.eq(process.exec("printf %s \"${MW_ENV_TEST-unset}\"").stdout, "unset")
  process.env.MW_ENV_TEST = nil  -- removing a missing one is fine
end)

test("process.env: unicode values, pairs() and process.env() copies", function()
  process.env.MW_ENV_UNI = "héllo ✓"
  test.eq(process.env.MW_ENV_UNI, "héllo ✓")
  local seen = {}
  for k, v in pairs(process.env) do seen[k] = v end
  test.eq(seen.MW_ENV_UNI, "héllo ✓")
  test.eq(seen.PATH, os.getenv("PATH"))
  local copy = process.env()
  test.eq(type(copy), "table")
  test.eq(copy.MW_ENV_UNI, "héllo ✓")
  copy.MW_ENV_UNI = "changed"  -- a copy: the environment stays
  test.eq(process.env.MW_ENV_UNI, "héllo ✓")
  process.env.MW_ENV_UNI = nil
  test.eq(tostring(process.env), "process.env")
  -- setting variables while iterating is fine (the loop runs over a snapshot)
  for k in pairs(process.env) do
    if k == "PATH" then process.env.MW_ENV_DURING = "x" end
  end
  test.eq(process.env.MW_ENV_DURING, "x")
  process.env.MW_ENV_DURING = nil
end)

test("process.env: bad names and values are EINVAL; odd keys read as nil", function()
  test.eq(process.env[1], nil)
  test.eq(process.env[""], nil)
  test.eq(process.env["A=B"], nil)
  test.eq(process.env["A\0B"], nil)
  raises_code("EINVAL", function() process.env[""] = "x" end)
  raises_code("EINVAL", function() process.env["A=B"] = "x" end)
  raises_code("EINVAL", function() process.env["A\0B"] = "x" end)
  raises_code("EINVAL", function() process.env[1] = "x" end)
  raises_code("EINVAL", function() process.env.MW_X = true end)
  raises_code("EINVAL", function() process.env.MW_X = {} end)
  raises_code("EINVAL", function() process.env.MW_X = "a\0b" end)
  test.eq(process.env.MW_X, nil)
end)

-- process.args, process.script, process.exit -------------------------------------------------

test("process.args is the script's arguments and process.script its name", function()
  local c = child([[
    print(#process.args, table.concat(process.args, "|"), process.script:match("[^/]*$"))
    print(process.args == process.args, arg[1] == process.args[1])
  ]], { "a b", "", "ü", "--flag" })
  test.eq(c.stdout:read("l"), "4\ta b||ü|--flag\tscript.lua")
  test.eq(c.stdout:read("l"), "true\ttrue")
  test.eq(c:wait().status, 0)
  c = child("print(#process.args, next(process.args))")
  test.eq(c.stdout:read("l"), "0\tnil")
  c:wait()
end)

test("process.exit(code) ends the script with that code; output written before it is kept", function()
  local cases = {
    { "process.exit(3)", 3 }, { "process.exit()", 0 }, { "process.exit(true)", 0 },
    { "process.exit(false)", 1 }, { "process.exit(0)", 0 }, { "process.exit(255)", 255 },
  }
  for _, case in ipairs(cases) do
    local c = child('io.write("partial line without newline") ' .. case[1] .. ' print("never")')
    test.eq(c.stdout:read("a"), "partial line without newline", case[1])
    test.eq(c:wait().status, case[2], case[1])
  end
end)

test("process.exit from a task while others wait; pending task failures are still reported", function()
  local c = child([[
    task.spawn(function() error("boom in a task") end)
    task.spawn(function() task.sleep(0.05) io.write("bye") process.exit(7) end)
    task.sleep(60)
  ]])
  test.eq(c.stdout:read("a"), "bye")
  test.matches(c.stderr:read("a"), "boom in a task")
  test.eq(c:wait().status, 7)
end)

test("process.exit: bad codes are EINVAL or type errors, nothing exits", function()
  raises_code("EINVAL", function() process.exit(256) end)
  raises_code("EINVAL", function() process.exit(-1) end)
  test.raises(function() process.exit(1.5) end, "integer")
  test.raises(function() process.exit(0 / 0) end, "integer")
  test.raises(function() process.exit("3") end, "integer or boolean")
  test.raises(function() process.exit({}) end, "integer or boolean")
end)

test("process.pid and process.ppid", function()
  test.eq(type(process.pid()), "number")
  test.eq(type(process.ppid()), "number")
  test.ok(process.ppid() ~= process.pid())
  local c = child("print(process.pid(), process.ppid())")
  local pid, ppid = c.stdout:read("n", "n")
  test.eq(pid, c.pid)
  test.eq(ppid, process.pid())
  c:wait()
end)

-- process.on_signal ----------------------------------------------------------------------------

local function kill_self(sig)
  test.eq(process.spawn("kill", { "-" .. sig, tostring(process.pid()) }).status, 0)
end

test("on_signal: the handler runs as a task with the signal's name; a timer ticks meanwhile", function()
  local ch = task.channel(4)
  local t = ticker()
  local off = process.on_signal("SIGUSR1", function(name)
    task.sleep(0.05)  -- may wait
    ch:send(name)
  end)
  kill_self("USR1")
  test.eq(ch:recv(10), "SIGUSR1")
  kill_self("USR1")
  test.eq(ch:recv(10), "SIGUSR1")
  test.ok(t.ticks > 0)
  t.task:cancel()
  test.eq(off(), true)
  test.eq(off(), false)  -- already removed
end)

test("on_signal: several handlers, names without SIG and in lower case, removal", function()
  local got = {}
  local ch = task.channel(8)
  local off1 = process.on_signal("usr2", function(n) got[#got + 1] = "a" ch:send(n) end)
  local off2 = process.on_signal("SIGUSR2", function(n) got[#got + 1] = "b" ch:send(n) end)
  kill_self("USR2")
  test.eq({ (ch:recv(10)), (ch:recv(10)) }, { "SIGUSR2", "SIGUSR2" })
  table.sort(got)
  test.eq(got, { "a", "b" })
  off1()
  got = {}
  kill_self("USR2")
  test.eq(ch:recv(10), "SIGUSR2")
  test.eq(got, { "b" })
  test.eq(process.on_signal("SIGUSR2", nil), 1)  -- removes the rest
  test.eq(off2(), false)
  test.eq(process.on_signal("SIGUSR2", nil), 0)
end)

test("on_signal: a handler that raises is reported, the next delivery still runs", function()
  local c = child([[
    local n = 0
    process.on_signal("SIGHUP", function()
      n = n + 1
      if n == 1 then error("handler boom") end
      print("second") io.stdout:flush()
      process.exit(0)
    end)
    print("ready") io.stdout:flush()
    task.sleep(60)
  ]])
  test.eq(c.stdout:read("l"), "ready")
  c:kill("HUP")
  test.matches(c.stderr:read("l") or "", "handler boom")
  c:kill("HUP")
  test.eq(c.stdout:read("l"), "second")
  test.eq(c:wait().status, 0)  -- process.exit's code wins
end)

test("SIGTERM with a handler: the handler runs first (it may wait), then the graceful shutdown (143)", function()
  local c = child([[
    process.on_signal("SIGTERM", function(name)
      task.sleep(0.1)  -- delays the shutdown
      print("cleanup after " .. name) io.stdout:flush()
    end)
    print("ready") io.stdout:flush()
    local ok, err = pcall(task.sleep, 60)
    print("main:", err.code)
  ]])
  test.eq(c.stdout:read("l"), "ready")
  c:kill("TERM")
  test.eq(c.stdout:read("l"), "cleanup after SIGTERM")
  test.eq(c.stdout:read("l"), "main:\tcancelled")
  local st = c:wait()
  test.eq(st.status, 143)
end)

test("SIGINT with a handler returning false: no shutdown; a second SIGINT during the handler shuts down", function()
  local c = child([[
    local n = 0
    process.on_signal("SIGINT", function()
      n = n + 1
      print("handler " .. n) io.stdout:flush()
      if n == 1 then return false end  -- veto
      task.sleep(60)                   -- still running when the next SIGINT comes
    end)
    print("ready") io.stdout:flush()
    task.sleep(0.3)
    print("still here") io.stdout:flush()
    local ok, err = pcall(task.sleep, 60)
    print("main:", err.code) io.stdout:flush()
  ]])
  test.eq(c.stdout:read("l"), "ready")
  c:kill("INT")
  test.eq(c.stdout:read("l"), "handler 1")
  test.eq(c.stdout:read("l"), "still here")
  c:kill("INT")
  test.eq(c.stdout:read("l"), "handler 2")
  task.sleep(0.1)
  c:kill("INT")  -- its handler still runs: the default shutdown
  test.eq(c.stdout:read("l"), "main:\tcancelled")
  test.eq(c:wait().status, 130)
end)

test("a removed SIGINT handler gives the default shutdown back; a removed SIGHUP handler its default", function()
  local c = child([[
    local off = process.on_signal("SIGINT", function() return false end)
    off()
    local off_hup = process.on_signal("SIGHUP", function() end)
    print(off_hup()) io.stdout:flush()
    task.sleep(60)
  ]])
  test.eq(c.stdout:read("l"), "true")
  c:kill("INT")
  test.eq(c:wait().status, 130)
  c = child([[
    process.on_signal("SIGHUP", function() end)()
    print("ready") io.stdout:flush()
    task.sleep(60)
  ]])
  test.eq(c.stdout:read("l"), "ready")
  c:kill("HUP")
  local st = c:wait()
  test.eq(st.signal, "SIGHUP")  -- killed by its default disposition
end)

test("a signal handler alone does not keep a script running", function()
  local c = child('process.on_signal("SIGUSR1", function() end) print("done")')
  test.eq(c.stdout:read("a"), "done\n")
  test.eq(c:wait().status, 0)
end)

test("on_signal: bad names and handlers", function()
  raises_code("EINVAL", function() process.on_signal("SIGKILL", function() end) end)
  raises_code("EINVAL", function() process.on_signal("SIGSTOP", function() end) end)
  raises_code("EINVAL", function() process.on_signal("SIGTREM", function() end) end)
  raises_code("EINVAL", function() process.on_signal("", function() end) end)
  raises_code("EINVAL", function() process.on_signal(string.rep("X", 100), function() end) end)
  raises_code("EINVAL", function() process.on_signal(15, function() end) end)  -- names only
  test.raises(function() process.on_signal("SIGUSR1", "not a function") end, "function expected")
  test.raises(function() process.on_signal("SIGUSR1", {}) end, "function expected")
  test.raises(function() process.on_signal() end, "string expected")
end)
