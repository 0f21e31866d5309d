-- The REPL: through a pipe (`moonwire -i < input`) and through a pseudo-terminal.
local test = require("test")
local cli = dofile("tests/cli/fixtures/cli.lua")
local run = cli.run

test.after_each(cli.cleanup)

-- Runs `moonwire -i` with `lines` on stdin; returns the result with the version banner
-- (printed by -i, as `lua -i` does) checked and removed from r.out.
local function repl(lines, args)
  local argv = { "-i" }
  for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
  local r = run(argv, { stdin = table.concat(lines, "\n") .. "\n", cwd = cli.proc.tmpdir() })
  local banner, rest = r.out:match("^(moonwire [^\n]*\n)(.*)$")
  test.ok(banner, "no version banner in: " .. r.out)
  r.out = rest
  return r
end

test("pipe: prints expression values; statements print nothing", function()
  local r = repl({ "1 + 1", "x = 5", "x * 2", "'a string'", "1, nil, 3", "nil", "true", "2^53", "10 // 3" })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "2\n10\na string\n1\tnil\t3\nnil\ntrue\n9.007199254741e+15\n3\n")
  test.eq(r.err, "")
end)

test("pipe: tables are printed readably, nested, with strings quoted", function()
  local r = repl({
    "{1, 2, x = 'y', nested = {a = true}}",
    "{}",
    "{['key with space'] = 1, [10] = 'ten', 'first'}",
    "{'line\\nbreak'}",
    "local t = {} t.self = t return t",
  })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, table.concat({
    '{1, 2, nested = {a = true}, x = "y"}',
    "{}",
    '{"first", [10] = "ten", ["key with space"] = 1}',
    '{"line\\nbreak"}',
    "{self = <cycle>}",
  }, "\n") .. "\n")
end)

test("pipe: __tostring is respected, at top level and nested", function()
  local r = repl({
    "mt = {__tostring = function(self) return 'Point(' .. self.x .. ')' end}",
    "setmetatable({x = 1}, mt)",
    "{p = setmetatable({x = 2}, mt)}",
  })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "Point(1)\n{p = Point(2)}\n")
end)

test("pipe: incomplete chunks continue across lines", function()
  local r = repl({
    "function double(a)",
    "  return a * 2",
    "end",
    "double(21)",
    "t = {",
    "  1,",
    "",
    "  2 }",
    "#t",
    "s = [[multi",
    "line]]",
    "s",
    "1 +",
    "1",
  })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "42\n2\nmulti\nline\n2\n")
  test.eq(r.err, "")
end)

test("pipe: a line is never run twice", function()
  local r = repl({
    "n = 0",
    "function inc() n = n + 1 return n end",
    "inc()",
    "inc()",
    "n = n + 1",
    "print('side effect')",
    "inc(",
    ")",
    "for i = 1, 3 do",
    "  inc()",
    "end",
    "n",
  })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "1\n2\nside effect\n4\n7\n")
end)

test("pipe: errors are printed on stderr and the loop continues", function()
  local r = repl({
    "error('oops')",
    "print('after runtime error')",
    "x = = 1",
    "print('after syntax error')",
    "undefined_function()",
    "error({code = 'EX'})",
    "error(setmetatable({}, {__tostring = function() return 'custom error object' end}))",
    "print('still here')",
  })
  test.eq(r.code, 0)
  test.eq(r.out, "after runtime error\nafter syntax error\nstill here\n")
  test.matches(r.err, "stdin:1: oops\nstack traceback:")
  test.matches(r.err, "stdin:1: [^\n]*near '='")
  test.matches(r.err, "attempt to call a nil value %(global 'undefined_function'%)")
  test.matches(r.err, "custom error object")
end)

test("pipe: an error while printing a value (__tostring raises) does not end the REPL", function()
  local r = repl({
    "setmetatable({}, {__tostring = function() error('bad tostring') end})",
    "print('survived')",
  })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "survived\n")
  test.matches(r.err, "bad tostring")
end)

test("pipe: lines run in one task with globals shared; locals last one line (as in lua)", function()
  local r = repl({ "local z = 5", "z", "g = 7", "g" })
  test.eq(r.out, "nil\n7\n")
end)

test("pipe: lines may do I/O, and a task spawned in one line keeps running for later lines", function()
  local r = repl({
    "server = net.tcp.listen('127.0.0.1', 0)",
    "served = 0",
    "task.spawn(function() while true do local c = server:accept() served = served + 1 c:write('hello ' .. served .. '\\n') c:close() end end) and nil",
    "c = net.tcp.connect('127.0.0.1', server.port)",
    "c:read_line()",
    "c2 = net.tcp.connect('127.0.0.1', server.port) return c2:read_line()",
    "task.sleep(0.05)",
    "served",
  })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "nil\nhello 1\nhello 2\n2\n")
end)

test("pipe: a task's output appears while the REPL is still reading", function()
  local r = repl({
    "task.spawn(function() task.sleep(0.05) print('from task') end) and nil",
    "task.sleep(0.2)",
    "print('from repl')",
  })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "nil\nfrom task\nfrom repl\n")
end)

test("pipe: -i after a script enters the REPL with the script's globals", function()
  local dir = cli.files({ ["s.lua"] = "answer = 42\nprint('script ran', ...)\n" })
  local r = repl({ "answer" }, { dir .. "/s.lua", "arg1" })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "script ran\targ1\n42\n")
end)

test("pipe: -i after -e", function()
  local r = repl({ "x" }, { "-e", "x = 'from -e'" })
  test.eq(r.out, "from -e\n")
end)

test("pipe: os.exit in the REPL exits with that code", function()
  local r = repl({ "print('before')", "os.exit(5)", "print('not reached')" })
  test.eq(r.code, 5)
  test.eq(r.out, "before\n")
end)

test("pipe: end of input exits 0 even with a listener and tasks still pending", function()
  local r = repl({
    "s = net.tcp.listen('127.0.0.1', 0)",
    "task.spawn(function() s:accept() end) and nil",
    "t = task.spawn(task.sleep, 3600) and nil",
  })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "nil\n")
  test.eq(r.err, "")
end)

-- Pseudo-terminal ------------------------------------------------------------------------

local function pty(actions, opts)
  local home = cli.proc.tmpdir()
  local out, status, failed, r = cli.pty(actions, nil, { env = { HOME = home, TERM = "dumb" }, cwd = home })
  test.ok(status, "pty driver failed (exit " .. tostring(r.code) .. "): " .. r.err .. out)
  test.ok(not failed, "expected " .. tostring(failed) .. " in terminal output:\n" .. out)
  return out, status, home
end

test("pty: no arguments on a terminal starts the REPL: prompt, value, continuation, Ctrl-D exits 0", function()
  local out, status = pty({
    "expect:> ",
    "send:40 + 2\n",
    "expect:42",
    "expect:> ",
    "send:for i = 1, 2 do\n",
    "expect:>> ",
    "send:io.write('loop', i, ' ') end\n",
    "expect:loop1 loop2",
    "expect:> ",
    "eof",
  })
  test.eq(status, "exit 0", out)
end)

test("pty: tables and __tostring print as through a pipe", function()
  local out, status = pty({
    "expect:> ",
    "send:{1, k = 'v'}\n",
    "expect:{1, k = \"v\"}",
    "expect:> ",
    "send:setmetatable({}, {__tostring = function() return 'TOSTRING' .. '!' end})\n",
    "expect:TOSTRING!",
    "expect:> ",
    "eof",
  })
  test.eq(status, "exit 0", out)
end)

test("pty: a task spawned at the prompt keeps running while the prompt waits", function()
  local out, status = pty({
    "expect:> ",
    "send:task.spawn(function() for i = 1, 3 do task.sleep(0.1) print('tick' .. i) end end) and nil\n",
    "expect:tick1",
    "expect:tick2",
    "expect:tick3",
    "send:'back'\n",
    "expect:back",
    "expect:> ",
    "eof",
  })
  test.eq(status, "exit 0", out)
end)

test("pty: an error is printed and the prompt comes back", function()
  local out, status = pty({
    "expect:> ",
    "send:error('pty oops')\n",
    "expect:stdin:1: pty oops",
    "expect:> ",
    "send:1 + 2\n",
    "expect:3",
    "expect:> ",
    "eof",
  })
  test.eq(status, "exit 0", out)
end)

test("pty: a server spawned at the prompt serves while the prompt waits", function()
  -- The client is this test process, connecting while the REPL sits at its prompt.
  local port = cli.proc.free_port()
  local out, status = pty({
    "expect:> ",
    "send:s = net.tcp.listen('127.0.0.1', " .. port .. ")\n",
    "expect:> ",
    "send:task.spawn(function() while true do local c = s:accept() c:write('served\\n') c:close() end end) and nil\n",
    "expect:> ",
    "sleep:0.2",
    "send:c = net.tcp.connect('127.0.0.1', " .. port .. ") return c:read_line()\n",
    "expect:served",
    "expect:> ",
    "eof",
  })
  test.eq(status, "exit 0", out)
end)

test("pty: Ctrl-C at the prompt is a graceful shutdown: tasks cancelled, exit 130", function()
  local out, status = pty({
    "expect:> ",
    "send:x = 1\n",
    "expect:> ",
    "send:task.spawn(function() local ok, e = pcall(task.sleep, 100) print('task saw ' .. e.code) end) and nil\n",
    "expect:> ",
    "sleep:0.3",
    "intr",
    "expect:task saw cancelled",
  })
  test.eq(status, "exit 130", out)
end)

test("pty: lines entered are saved to ~/.moonwire_history", function()
  local out, status, home = pty({
    "expect:> ",
    "send:history_marker = 12345\n",
    "expect:> ",
    "eof",
  })
  test.eq(status, "exit 0", out)
  local hist = cli.proc.read_file(home .. "/.moonwire_history") or ""
  test.ok(hist:find("history_marker", 1, true), "history file: " .. hist)
end)

test("pipe: json.null and values with a protected metatable print as themselves, not {}", function()
  local r = repl({
    "json.null",
    "{a = json.null, b = 1}",
    "json.decode('[null]')[1]",
    "setmetatable({}, {__metatable = 'locked', __tostring = function() return 'Locked' end})",
  })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "json.null\n{a = json.null, b = 1}\njson.null\nLocked\n")
end)

test("pty: a task printing while the prompt waits gets the prompt drawn again below, with the typed text", function()
  local out, status = pty({
    "expect:> ",
    "send:task.spawn(function() task.sleep(0.3) print('tick') task.sleep(0.3) io.write('tock\\n') end) and nil\n",
    "expect:> ",
    "send:12",
    "expect:tick",
    "expect:> 12",   -- drawn again after the output, with what was typed
    "expect:tock",
    "expect:> 12",
    "send: + 1\n",
    "expect:13",
    "expect:> ",
    "eof",
  })
  test.eq(status, "exit 0", out)
end)
