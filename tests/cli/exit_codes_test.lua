-- Exit codes and error reporting of the moonwire binary (DESIGN.md: "Behaviour every module
-- shares"; docs/errors.md).
local test = require("test")
local cli = dofile("tests/cli/fixtures/cli.lua")
local run = cli.run

test.after_each(cli.cleanup)

local function script(src)
  local dir = cli.files({ ["script.lua"] = src })
  return dir, dir .. "/script.lua"
end

test("a script that returns normally exits 0 with nothing on stderr", function()
  local dir = script('print("hello")\n')
  local r = run({ "script.lua" }, { cwd = dir })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "hello\n")
  test.eq(r.err, "")
end)

test("-e with an empty chunk exits 0", function()
  local r = run({ "-e", "" })
  test.eq(r.code, 0, r.err)
  test.eq(r.err, "")
end)

test("an uncaught error in the main chunk: exit 1, message with chunk name and traceback", function()
  local dir = script('local a = 1\n\nerror("main boom")\n')
  local r = run({ "script.lua" }, { cwd = dir })
  test.eq(r.code, 1)
  test.matches(r.err, "^moonwire: script%.lua:3: main boom\n")
  test.matches(r.err, "stack traceback:\n")
  test.matches(r.err, "script%.lua:3: in main chunk")
  test.eq(r.out, "")
end)

test("the main chunk's uncaught error is reported as the script's, not as a numbered task", function()
  -- `lua` prints "lua: script.lua:3: ..." for the main chunk; moonwire says "moonwire: ...".
  local dir = script('error("main boom")\n')
  local r = run({ "script.lua" }, { cwd = dir })
  test.eq(r.code, 1)
  test.eq(r.err:match("^[^\n]*"), "moonwire: script.lua:1: main boom")
end)

test("a runtime error (not error()) in the main chunk names the line", function()
  local dir = script('local t\nlocal x = 1\nreturn t.field\n')
  local r = run({ "script.lua" }, { cwd = dir })
  test.eq(r.code, 1)
  test.matches(r.err, "script%.lua:3: attempt to index a nil value %(local 't'%)")
end)

test("other tasks keep running after the main chunk dies; exit code is still 1", function()
  local dir = script([[
task.spawn(function() task.sleep(0.2) print("other task still ran") end)
task.sleep(0.01)
error("main boom")
]])
  local r = run({ "script.lua" }, { cwd = dir })
  test.eq(r.code, 1)
  test.eq(r.out, "other task still ran\n")
  test.matches(r.err, "script%.lua:3: main boom")
end)

test("a spawned task that dies while main succeeds: exit 1, traceback, others keep running", function()
  local dir = script([[
task.spawn(function()
  task.sleep(0.05)
  error("task boom")
end)
task.spawn(function()
  task.sleep(0.3)
  print("survivor done")
end)
print("main done")
]])
  local r = run({ "script.lua" }, { cwd = dir })
  test.eq(r.code, 1)
  test.eq(r.out, "main done\nsurvivor done\n")
  test.matches(r.err, "script%.lua:3: task boom")
  test.matches(r.err, "stack traceback:")
  -- Reported when it happens, i.e. before the survivor finished: the report is on stderr once.
  local _, n = r.err:gsub("task boom", "")
  test.eq(n, 1)
end)

test("a task error that is joined (and caught) does not change the exit code", function()
  local dir = script([[
local t = task.spawn(function() task.sleep(0.01) error("joined boom") end)
local ok, err = pcall(t.join, t)
print(ok, tostring(err):match("joined boom"))
]])
  local r = run({ "script.lua" }, { cwd = dir })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "false\tjoined boom\n")
end)

test("os.exit(n) exits with n, even with tasks pending", function()
  test.eq(run({ "-e", "os.exit(3)" }).code, 3)
  test.eq(run({ "-e", "os.exit(0)" }).code, 0)
  test.eq(run({ "-e", "task.spawn(function() task.sleep(60) end) os.exit(7)" }).code, 7)
  test.eq(run({ "-e", "task.spawn(function() task.sleep(0.05) os.exit(9) end)" }).code, 9)
end)

test("os.exit(true) exits 0, os.exit(false) exits 1, os.exit() exits 0", function()
  test.eq(run({ "-e", "os.exit(true)" }).code, 0)
  test.eq(run({ "-e", "os.exit(false)" }).code, 1)
  test.eq(run({ "-e", "os.exit()" }).code, 0)
  test.eq(run({ "-e", "os.exit(true, true)" }).code, 0)
end)

test("os.exit flushes what the script printed", function()
  local r = run({ "-e", "io.write('partial line') os.exit(4)" })
  test.eq(r.code, 4)
  test.eq(r.out, "partial line")
end)

test("a missing script: one-line message naming it, exit 1", function()
  local r = run({ "no_such_script.lua" }, { cwd = cli.proc.tmpdir() })
  test.eq(r.code, 1)
  test.matches(r.err, "^moonwire: [^\n]*no_such_script%.lua[^\n]*\n$")
  test.eq(r.out, "")
end)

test("an unknown flag: one-line message naming it, exit 1", function()
  local r = run({ "--bogus" })
  test.eq(r.code, 1)
  test.matches(r.err, "^moonwire: [^\n]*'%-%-bogus'[^\n]*\n$")
  r = run({ "-x", "script.lua" })
  test.eq(r.code, 1)
  test.matches(r.err, "^moonwire: [^\n]*'%-x'[^\n]*\n$")
end)

test("a flag without its argument: one-line message, exit 1", function()
  for _, flag in ipairs({ "-e", "-l" }) do
    local r = run({ flag })
    test.eq(r.code, 1, flag)
    test.matches(r.err, "^moonwire: [^\n]*'" .. flag:gsub("%-", "%%-") .. "'[^\n]*\n$")
  end
end)

test("a syntax error: one line naming file:line, exit 1, nothing run", function()
  local dir = script('print("must not run")\nx = = 1\n')
  local r = run({ "script.lua" }, { cwd = dir })
  test.eq(r.code, 1)
  test.matches(r.err, "^moonwire: script%.lua:2: [^\n]*near '='\n$")
  test.eq(r.out, "")
end)

test("a syntax error in -e: one line naming (command line), exit 1", function()
  local r = run({ "-e", "x x" })
  test.eq(r.code, 1)
  test.matches(r.err, "^moonwire: %(command line%):1: [^\n]*\n$")
end)

test("a syntax error in a later -e after a listener task started still exits 1 cleanly", function()
  local r = run({ "-e", "local s = net.tcp.listen(0) task.spawn(function() s:accept() end)", "-e", "x x" })
  test.eq(r.code, 1)
  test.matches(r.err, "^moonwire: %(command line%):1: [^\n]*\n$")
end)

-- Signals ---------------------------------------------------------------------------------

local function start_server()
  local h = cli.start({ cli.fixtures .. "/server.lua" })
  assert(h:wait_output("ready"), "server did not start: " .. h:err())
  local port = tonumber(h:out():match("ready (%d+)"))
  return h, port
end

-- An echo round trip proves it serves; the connection stays open (its handler task waits in
-- read_line on the server side).
local function connect(port)
  local c = net.tcp.connect("127.0.0.1", port)
  c:write("ping\n")
  test.eq(c:read_line(), "ping")
  return c
end

local function check_graceful(h, port, conn)
  local out = h:out()
  test.matches(out, "accept ended\tclosed", "the listener was closed")
  test.matches(out, "sleeper ended\tfalse\tcancelled", "tasks were cancelled")
  -- The listener is gone.
  test.raises(function() net.tcp.connect("127.0.0.1", port, { timeout = 2000 }) end, "ECONNREFUSED")
  if conn then
    -- The open connection was closed by the exit (EOF or reset, not a hang).
    conn:set_timeout(5000)
    local ok, data = pcall(conn.read_line, conn)
    test.ok(not ok or data == nil, "connection still open after exit")
    conn:close()
  end
end

for _, case in ipairs({ { "TERM", 143 }, { "INT", 130 } }) do
  local sig, code = case[1], case[2]

  test("SIG" .. sig .. ": graceful shutdown of a running server, exit code " .. code, function()
    local h, port = start_server()
    connect(port):close()
    h:signal(sig)
    test.eq(h:wait(10), "exit " .. code, h:err())
    check_graceful(h, port)
  end)

  test("SIG" .. sig .. " with a client connected and idle: shutdown still completes, exit " .. code, function()
    local h, port = start_server()
    local conn = connect(port)
    h:signal(sig)
    test.eq(h:wait(10), "exit " .. code, "still running 10 s after SIG" .. sig .. " while a client is connected; stdout: " .. h:out() .. " stderr: " .. h:err())
    check_graceful(h, port, conn)
  end)
end

test("a second SIGINT exits at once when the first did not end the script", function()
  local h = cli.start({ cli.fixtures .. "/stubborn.lua" })
  assert(h:wait_output("ready"), h:err())
  h:signal("INT")
  assert(h:wait_output("caught cancelled"), "first SIGINT did not cancel: " .. h:out() .. h:err())
  task.sleep(0.2)
  test.ok(h:alive(), "the script should still be running after one SIGINT")
  h:signal("INT")
  test.eq(h:wait(10), "exit 130")
end)

-- Unhandled task failures (docs/errors.md: a failure is uncaught if no join has collected it
-- by the time the task that was running when it failed yields or ends) ---------------------

test("a task failing before its first suspension, joined in the same turn: no report, exit 0", function()
  local dir = script([[
local t = task.spawn(function(x) return x.field end, nil)
local ok, err = pcall(t.join, t)
print(ok, (tostring(err):gsub("^.-: ", "")))
]])
  local r = run({ "script.lua" }, { cwd = dir })
  test.eq(r.code, 0, r.err)
  test.eq(r.err, "")
  test.eq(r.out, "false\tattempt to index a nil value (local 'x')\n")
end)

test("a failure nobody joined before the spawner yielded is reported, and a later join still gets it", function()
  local dir = script([[
local t = task.spawn(function() error("early boom") end)
task.sleep(0.01)
local ok, err = pcall(t.join, t)
print(ok, tostring(err):match("early boom"))
]])
  local r = run({ "script.lua" }, { cwd = dir })
  test.eq(r.code, 1)
  test.eq(r.out, "false\tearly boom\n")
  test.matches(r.err, "^moonwire: task 2 failed: script%.lua:1: early boom\n")
  test.matches(r.err, "stack traceback:")
end)

test("a task failure right before os.exit is still reported", function()
  local dir = script('task.spawn(function() error("last words") end)\nos.exit(0)\n')
  local r = run({ "script.lua" }, { cwd = dir })
  test.eq(r.code, 0)
  test.matches(r.err, "last words")
end)

test("uncaught error tables print their message and code, never 'table: 0x'", function()
  local cases = {
    { 'error({ code = "EMINE", message = "custom failure" })', "custom failure %[EMINE%]" },
    { 'error({ code = "ONLYCODE" })', "%[ONLYCODE%]" },
    { 'error(setmetatable({}, { __tostring = function() return "printed by tostring" end }))', "printed by tostring" },
    { "error({ 1, 2, 3 })", "%(error object is a table value without 'message' or 'code'%)" },
    { "error(true)", "%(error object is a boolean value%)" },
    { 'local ok, e = pcall(net.tcp.connect, "127.0.0.1", 1) error(e)', "Connection refused %[ECONNREFUSED%]" },
  }
  for _, c in ipairs(cases) do
    for _, wrap in ipairs({ "%s", "task.spawn(function() %s end)" }) do
      local src = wrap:format(c[1])
      local r = run({ "-e", src })
      test.eq(r.code, 1, src)
      test.matches(r.err, c[2], src)
      test.ok(not r.err:find("table: 0x"), r.err)
    end
  end
end)

-- Deadlocks -----------------------------------------------------------------------------------

test("the main task waiting on a channel nothing can send to: deadlock report, exit 1", function()
  local dir = script('local ch = task.channel()\nprint("before")\nch:recv()\nprint("after")\n')
  local r = run({ "script.lua" }, { cwd = dir, timeout = 10 })
  test.eq(r.code, 1)
  test.eq(r.out, "before\n")
  test.matches(r.err, "^moonwire: deadlock: the main task waits")
  test.matches(r.err, "main task waits in 'channel recv' at script%.lua:3")
end)

test("a deadlock lists every waiting task with where it waits", function()
  local dir = script([[
local a, b = task.channel(), task.channel()
local t = task.spawn(function() a:recv() end)
t:join()
]])
  local r = run({ "script.lua" }, { cwd = dir, timeout = 10 })
  test.eq(r.code, 1)
  test.matches(r.err, "main task waits in 'join' at script%.lua:3")
  test.matches(r.err, "task 2 waits in 'channel recv' at script%.lua:2")
end)

test("waiting on a connection nobody references is not a deadlock until collected", function()
  -- The reader's socket is kept alive by the pending read: a peer that writes later wakes it.
  local dir = script([[
local s = net.tcp.listen(0)
task.spawn(function()
  local c = net.tcp.connect("127.0.0.1", s.port)
  task.sleep(0.05)
  c:write("late\n")
  c:close()
end)
local conn = s:accept()
s:close()
print(conn:read_line())
]])
  local r = run({ "script.lua" }, { cwd = dir, timeout = 10 })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "late\n")
end)

test("a spawned task left waiting after the main chunk ended is not a deadlock (exit 0)", function()
  local r = run({ "-e", "local ch = task.channel() task.spawn(function() ch:recv() end) print('main done')" })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "main done\n")
  test.eq(r.err, "")
end)

-- Shutdown with timers and servers -----------------------------------------------------------

for _, case in ipairs({ { "TERM", 143 }, { "INT", 130 } }) do
  local sig, code = case[1], case[2]

  test("SIG" .. sig .. " with a pending setInterval and setTimeout: one signal ends it, no timer fires after", function()
    local dir = script([[
setInterval(function() end, 50)
setTimeout(function() print("timeout fired") end, 1500)
print("ready")
io.stdout:flush()
]])
    local h = cli.start({ dir .. "/script.lua" })
    assert(h:wait_output("ready"), h:err())
    h:signal(sig)
    test.eq(h:wait(10), "exit " .. code, h:err())
    task.sleep(1.6)  -- past the timeout's due time: it must not have fired before the exit
    test.ok(not h:out():find("timeout fired"), h:out())
    test.eq(h:err(), "")
  end)

  test("SIG" .. sig .. " on the README's echo server: no error report, exit " .. code, function()
    local dir = script([[
local server = net.tcp.listen("127.0.0.1", 0)
print("ready " .. server.port)
io.stdout:flush()
while true do
  local conn = server:accept()
  task.spawn(function()
    while true do
      local line = conn:read_line()
      if not line then break end
      conn:write(line:upper() .. "\n")
    end
    conn:close()
  end)
end
]])
    local h = cli.start({ dir .. "/script.lua" })
    assert(h:wait_output("ready"), h:err())
    local port = tonumber(h:out():match("ready (%d+)"))
    local c = net.tcp.connect("127.0.0.1", port)
    c:write("hi\n")
    test.eq(c:read_line(), "HI")
    h:signal(sig)
    test.eq(h:wait(10), "exit " .. code, h:err())
    test.eq(h:err(), "", "a task stopped by the shutdown is not an error")
    c:close()
  end)
end

test("a real error during shutdown is still reported", function()
  local dir = script([[
local server = net.tcp.listen("127.0.0.1", 0)
print("ready")
io.stdout:flush()
local ok, err = pcall(server.accept, server)
error("cleanup failed after " .. tostring(err.code))
]])
  local h = cli.start({ dir .. "/script.lua" })
  assert(h:wait_output("ready"), h:err())
  h:signal("TERM")
  test.eq(h:wait(10), "exit 143", h:err())
  test.matches(h:err(), "cleanup failed after closed")
end)
