-- io.popen from a task runs through the process machinery: reads, writes and close suspend only
-- the calling task, and the file keeps Lua's API and results.
local test = require("test")
local proc = dofile("tests/support/proc.lua")

test.after_each(proc.cleanup)

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

test("read formats, lines and close results as Lua's popen", function()
  local f = io.popen("printf 'one\\ntwo\\n3.5 17\\nrest'")
  test.eq(io.type(f), "file")
  test.eq(f:read("l"), "one")
  test.eq(f:read("L"), "two\n")
  test.eq({ f:read("n", "n") }, { 3.5, 17 })
  test.eq(f:read(2), "\nr")
  test.eq(f:read("a"), "est")
  test.eq(f:read("a"), "")
  test.eq(f:read("l"), nil)
  test.eq({ f:close() }, { true, "exit", 0 })
  test.eq(io.type(f), "closed file")
  test.eq(tostring(f), "file (closed)")

  f = io.popen("exit 4")
  test.eq({ io.close(f) }, { nil, "exit", 4 })  -- io.close works on popen files too
  f = io.popen("printf 'a\\nb\\nc\\n'", "r")
  local got = {}
  for line in f:lines() do got[#got + 1] = line end
  test.eq(got, { "a", "b", "c" })
  test.eq({ f:close() }, { true, "exit", 0 })
end)

test("exit codes and signals from close", function()
  test.eq({ io.popen("exit 3"):close() }, { nil, "exit", 3 })
  test.eq({ io.popen("kill -9 $$"):close() }, { nil, "signal", 9 })
  test.eq({ io.popen("no-such-command-xyz 2>/dev/null"):close() }, { nil, "exit", 127 })
end)

test("a slow command suspends only the reading task: a timer keeps ticking", function()
  local ticks, line = ticks_during(function()
    local f = io.popen("sleep 0.3; echo late")
    local l = f:read("l")
    f:close()
    return l
  end)
  test.eq(line, "late")
  test.ok(ticks >= 5, "only " .. ticks .. " ticks while popen read waited")
  ticks = ticks_during(function() return io.popen("sleep 0.3"):close() end)
  test.ok(ticks >= 5, "close froze the loop: " .. ticks .. " ticks")
end)

test("several popen reads at once run concurrently", function()
  local tasks = {}
  for i = 1, 5 do
    tasks[i] = task.spawn(function()
      local f = io.popen("sleep 0.2; echo " .. i)
      local v = f:read("n")
      f:close()
      return v
    end)
  end
  for i = 1, 5 do test.eq(tasks[i]:join(10), i) end
end)

test("mode w: writes reach the command's stdin; write returns the file", function()
  local dir = proc.tmpdir()
  local f = io.popen("cat > " .. proc.quote(dir .. "/out.txt"), "w")
  test.eq(f:write("hello ", 42, "\n"), f)
  test.eq(f:write(""), f)
  test.eq(f:write(string.rep("x", 1 << 20)), f)  -- more than a socket buffer: waits, then returns
  test.eq(f:flush(), f)
  test.eq({ f:close() }, { true, "exit", 0 })
  test.eq(proc.read_file(dir .. "/out.txt"), "hello 42\n" .. string.rep("x", 1 << 20))
  -- its output goes to our stdout (inherited): sort writes nothing we capture here
  f = io.popen("wc -c >/dev/null", "w")
  f:write("abc")
  test.eq({ f:close() }, { true, "exit", 0 })
end)

test("huge output is read completely", function()
  local f = io.popen("head -c 5000000 /dev/zero")
  local data = f:read("a")
  test.eq(#data, 5000000)
  test.eq({ f:close() }, { true, "exit", 0 })
end)

test("closing early: the command gets SIGPIPE as with pclose; writing to an exited command: EPIPE", function()
  local f = io.popen("exec yes")
  test.eq(f:read("l"), "y")
  test.eq({ f:close() }, { nil, "signal", 13 })
  f = io.popen("exit 0", "w")
  task.sleep(0.2)
  local r, msg, code
  for _ = 1, 50 do  -- the first writes may still fit in the socket buffer
    r, msg, code = f:write(string.rep("z", 65536))
    if not r then break end
  end
  test.eq({ r, msg, code }, { nil, "Broken pipe", 32 })
  test.eq({ f:close() }, { true, "exit", 0 })
end)

test("reading a w file or writing an r file fails as Lua does; seek on a pipe too", function()
  local f = io.popen("cat >/dev/null", "w")
  test.eq({ f:read("l") }, { nil, "Bad file descriptor", 9 })
  test.eq({ f:seek() }, { nil, "Illegal seek", 29 })
  f:close()
  f = io.popen("true")
  test.eq({ f:write("x") }, { nil, "Bad file descriptor", 9 })
  test.eq(f:setvbuf("no"), true)
  f:close()
end)

test("bad input: wrong types, bad modes (EINVAL), closed files", function()
  test.raises(function() io.popen() end, "string expected")
  test.raises(function() io.popen({}) end, "string expected")
  local err = test.raises(function() io.popen("true", "rw") end, "invalid mode")
  test.eq(err.code, "EINVAL")
  test.eq(test.raises(function() io.popen("true", "x") end).code, "EINVAL")
  test.eq(test.raises(function() io.popen("echo a\0b") end).code, "EINVAL")
  local f = io.popen("true")
  f:close()
  test.eq(test.raises(function() f:read("l") end, "closed file").code, "closed")
  test.eq(test.raises(function() f:close() end).code, "closed")
  test.eq(test.raises(function() f:write("x") end).code, "closed")
  test.eq(test.raises(function() f:lines() end).code, "closed")
  f = io.popen("true")
  test.raises(function() f:read("x") end, "invalid format")
  test.raises(function() f:write({}) end, "string expected")
  f:close()
end)

test("a second task closing while one waits is busy; a collected file's child is still reaped", function()
  local f = io.popen("sleep 0.2")
  local t = task.spawn(function() return f:close() end)
  test.eq(test.raises(function() f:close() end).code, "closed")  -- already closed by the task
  test.eq(t:join(10), true)
  do
    local g = io.popen("sleep 0.1; echo x") -- luacheck: ignore 231 (dropped unclosed)
    g = nil
  end
  collectgarbage()
  task.sleep(0.3)
  local me = process.pid()
  local r = process.exec("ps -o stat= --ppid " .. me)
  test.ok(not r.stdout:find("Z"), "a zombie: " .. r.stdout)
end)

test("to-be-closed popen files close their pipes at the end of the scope", function()
  local ok = pcall(function()
    local f <close> = io.popen("cat") -- luacheck: ignore 211 (closed at the end of the block)
    error("leave the scope")
  end)
  test.eq(ok, false)
end)

test("where Lua cannot yield, io.popen is Lua's own (and still works)", function()
  local out
  local t = { 2, 1 }
  table.sort(t, function(a, b)
    if not out then
      local f = io.popen("echo inside")
      out = f:read("l")
      f:close()
    end
    return a < b
  end)
  test.eq(out, "inside")
end)
