-- `moonwire --workers N` (docs/workers.md): real worker processes on one port, restarts,
-- signals, exit codes, bad values.
local test = require("test")
local cli = dofile("tests/cli/fixtures/cli.lua")
local proc = cli.proc

test.after_each(cli.cleanup)

local SERVER = cli.fixtures .. "/workers_server.lua"

-- One HTTP/1.1 request on a fresh connection (Connection: close); returns the body.
local function get(port, path)
  local c = net.tcp.connect("127.0.0.1", port, { timeout = 5000 })
  c:write("GET " .. (path or "/") .. " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
  local resp = c:read_all()
  c:close()
  return resp:match("\r\n\r\n(.*)$")
end

-- Starts the server with n workers; returns the handle once every worker printed "ready".
local function start_workers(n, port)
  local h = cli.start({ "--workers", tostring(n), SERVER, tostring(port) })
  local ok = cli.wait_for(function()
    local count = 0
    for _ in h:out():gmatch("ready %d+ %d+") do count = count + 1 end
    return count >= n
  end, 15)
  assert(ok, "workers did not start: " .. h:out() .. h:err())
  return h
end

-- worker id → pid, from the answers of `count` connections.
local function spread(port, count)
  local seen, n = {}, 0
  for _ = 1, count do
    local id, pid = get(port):match("^(%d+) (%d+)$")
    id = tonumber(id)
    if not seen[id] then n = n + 1 end
    seen[id] = tonumber(pid)
  end
  return seen, n
end

test("N workers all serve one port, each answering with its worker_id", function()
  local port = proc.free_port()
  local h = start_workers(3, port)
  local seen, n = spread(port, 60)
  test.ok(n >= 2, "connections landed on one worker only")
  for id, pid in pairs(seen) do
    test.ok(id >= 1 and id <= 3, "worker id " .. id)
    test.ok(pid ~= h.pid, "answered by the supervisor itself")
  end
  test.eq(get(port, "/env"), "nil 3")  -- the worker variables left the environment
  h:signal("TERM")
  test.eq(h:wait(10), "exit 143")
end)

test("outside worker mode worker_id() is nil and workers() 0", function()
  local r = cli.run({ "-e", "print(process.worker_id(), process.workers())" })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "nil\t0\n")
end)

test("--workers=N, auto and -e work; a script that finishes ends the supervisor with 0", function()
  local r = cli.run({ "--workers=2", "-e", "print('w' .. process.worker_id() .. '/' .. process.workers())" })
  test.eq(r.code, 0, r.err)
  local lines = {}
  for l in r.out:gmatch("[^\n]+") do lines[#lines + 1] = l end
  table.sort(lines)
  test.eq(lines, { "w1/2", "w2/2" })
  test.eq(r.err, "")
  r = cli.run({ "--workers", "auto", "-e", "io.write(process.workers() >= 1 and 'ok ' or 'bad ')" })
  test.eq(r.code, 0, r.err)
  test.matches(r.out, "^ok ")
end)

test("a worker killed with SIGKILL is restarted with the same id", function()
  local port = proc.free_port()
  local h = start_workers(2, port)
  local seen = spread(port, 40)
  local id, pid = next(seen)
  os.execute("kill -KILL " .. pid)
  test.ok(cli.wait_for(function() return h:err():find("worker " .. id .. " %(pid " .. pid .. "%) was killed by SIGKILL") end, 10), h:err())
  test.ok(cli.wait_for(function()
    local count = 0
    for _ in h:out():gmatch("ready " .. id .. " %d+") do count = count + 1 end
    return count >= 2
  end, 10), "not restarted: " .. h:out() .. h:err())
  test.matches(h:err(), "restarting worker " .. id .. " in %d+ ms")
  -- Both workers answer again (the new one with a new pid).
  local after, n = {}, 0
  cli.wait_for(function()
    after, n = spread(port, 20)
    return n == 2
  end, 10)
  test.eq(n, 2)
  test.ok(after[id] ~= pid, "same pid after the restart")
  h:signal("TERM")
  test.eq(h:wait(10), "exit 143")
end)

test("SIGTERM drains every worker: the request in flight finishes, exit 143", function()
  local port = proc.free_port()
  local h = start_workers(2, port)
  local body
  local t = task.spawn(function() body = get(port, "/slow") end)
  test.ok(h:wait_output("handling slow", 10), h:out())
  h:signal("TERM")
  t:join(10)
  test.matches(body, "^slow done %d$")
  test.eq(h:wait(10), "exit 143")
  test.ok(not h:err():find("restarting"), h:err())
  -- Both workers are gone: nothing listens any more.
  test.eq(pcall(net.tcp.connect, "127.0.0.1", port, { timeout = 2000 }), false)
end)

test("SIGINT is forwarded once: exit 130", function()
  local port = proc.free_port()
  local h = start_workers(2, port)
  h:signal("INT")
  test.eq(h:wait(10), "exit 130")
end)

test("a script that always crashes at startup ends with an error instead of looping", function()
  local dir = cli.files({ ["crash.lua"] = 'error("boom at start")\n' })
  local r = cli.run({ "--workers", "2", "crash.lua" }, { cwd = dir, timeout = 60 })
  test.eq(r.code, 1, r.err)
  test.matches(r.err, "crash%.lua:1: boom at start")
  test.matches(r.err, "restarting worker %d in 100 ms")
  test.matches(r.err, "worker %d failed 5 times in a row, each within 10 s of its start: giving up %(exit code 1%)")
end)

test("the exit code of a worker that gives up is the supervisor's (os.exit(7), killed by SIGUSR2)", function()
  local r = cli.run({ "--workers", "1", "-e", "os.exit(7)" }, { timeout = 60 })
  test.eq(r.code, 7, r.err)
  test.matches(r.err, "worker 1 %(pid %d+%) exited with code 7")
  -- (SIGUSR2: its default action ends the process, and no sanitizer catches it as it would SIGSEGV)
  r = cli.run({ "--workers", "1", "-e", "os.execute('kill -USR2 ' .. process.pid())" }, { timeout = 60 })
  test.eq(r.code, 128 + 12, r.err)
  test.matches(r.err, "killed by SIGUSR2")
end)

test("bad --workers values: a clear error, exit 1, nothing started", function()
  for _, v in ipairs({ "0", "-1", "abc", "1.5", "99999999999", "1025", "", " 2" }) do
    local r = cli.run({ "--workers", v, "-e", "print('ran')" })
    test.eq(r.code, 1, v)
    test.eq(r.out, "", v)
    test.matches(r.err, "^moonwire: %-%-workers: expected a number of workers from 1 to 1024 or 'auto', got '", v)
  end
  local r = cli.run({ "--workers" })
  test.eq(r.code, 1)
  test.matches(r.err, "'%-%-workers' needs an argument")
  r = cli.run({ "--workers", "2", "--workers", "2", "-e", "" })
  test.eq(r.code, 1)
  test.matches(r.err, "given twice")
  for _, args in ipairs({ { "--workers", "2" }, { "--workers", "2", "-" }, { "--workers", "2", "-i", "-e", "" } }) do
    r = cli.run(args)
    test.eq(r.code, 1, table.concat(args, " "))
    test.matches(r.err, "needs a script file")
  end
end)

test("--workers after the script is the script's argument", function()
  local dir = cli.files({ ["s.lua"] = "print(process.worker_id(), ...)\n" })
  local r = cli.run({ "s.lua", "--workers", "2" }, { cwd = dir })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "nil\t--workers\t2\n")
end)

test("the supervisor killed with SIGKILL takes its workers down (SIGTERM to each)", function()
  local port = proc.free_port()
  local h = start_workers(2, port)
  local seen = spread(port, 40)
  h:signal("KILL")
  for _, pid in pairs(seen) do
    test.ok(cli.wait_for(function() return os.execute("kill -0 " .. pid .. " 2>/dev/null") ~= true end, 10),
      "worker " .. pid .. " outlived its supervisor")
  end
end)
