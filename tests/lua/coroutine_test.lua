local test = require("test")

test("a wrap generator that does I/O yields its values like one without", function()
  local function gen(n, io)
    return coroutine.wrap(function()
      for i = 1, n do
        if io then task.sleep(0.001) end
        coroutine.yield(i)
      end
      return "end"
    end)
  end
  local a, b = {}, {}
  local g1, g2 = gen(3, false), gen(3, true)
  for _ = 1, 4 do a[#a + 1] = g1(); b[#b + 1] = g2() end
  test.eq(a, { 1, 2, 3, "end" })
  test.eq(b, a)
end)

test("a generator reading lines from a socket", function()
  local server = net.tcp.listen(0)
  task.spawn(function()
    local c = server:accept()
    for i = 1, 3 do c:write("line " .. i .. "\n"); task.sleep(0.005) end
    c:close()
  end)
  local conn = net.tcp.connect("127.0.0.1", server.port)
  local lines = coroutine.wrap(function()
    while true do
      local l = conn:read_line()
      if not l then return end
      coroutine.yield(l)
    end
  end)
  local got = {}
  for l in lines do got[#got + 1] = l end
  test.eq(got, { "line 1", "line 2", "line 3" })
  server:close()
end)

test("resume/yield values pass through I/O", function()
  local co = coroutine.create(function(a)
    local b = coroutine.yield(a + 1)
    time.sleep(5)
    local c = coroutine.yield(b * 2)
    task.yield()
    return c .. "!"
  end)
  test.eq({ coroutine.resume(co, 1) }, { true, 2 })
  test.eq(coroutine.status(co), "suspended")
  test.eq({ coroutine.resume(co, 10) }, { true, 20 })
  test.eq({ coroutine.resume(co, "x") }, { true, "x!" })
  test.eq(coroutine.status(co), "dead")
  test.eq({ coroutine.resume(co) }, { false, "cannot resume dead coroutine" })
end)

test("errors inside a coroutine after I/O", function()
  local co = coroutine.create(function() task.sleep(0.001); error("bad", 0) end)
  test.eq({ coroutine.resume(co) }, { false, "bad" })
  local w = coroutine.wrap(function() task.yield(); error("wrapped") end)
  local ok, err = pcall(w)
  assert(not ok and tostring(err):find("wrapped"))
end)

test("nested coroutines doing I/O", function()
  local outer = coroutine.wrap(function()
    local inner = coroutine.wrap(function()
      task.sleep(0.001)
      coroutine.yield("inner1")
      task.sleep(0.001)
      coroutine.yield("inner2")
    end)
    coroutine.yield(inner())
    task.yield()
    coroutine.yield(inner())
  end)
  test.eq({ outer(), outer() }, { "inner1", "inner2" })
end)

test("a coroutine waiting for I/O cannot be resumed by another task", function()
  local co = coroutine.create(function() task.sleep(0.1); return "done" end)
  local owner = task.spawn(function() return coroutine.resume(co) end)
  test.eq(coroutine.status(co), "normal")
  local ok, msg = coroutine.resume(co)
  test.eq(ok, false)
  assert(msg:find("non%-suspended"))
  test.raises(function() coroutine.close(co) end, "normal coroutine")
  test.eq({ owner:join() }, { true, "done" })
end)

test("isyieldable and running", function()
  local _, ismain = coroutine.running()
  test.eq(ismain, true) -- a task's own thread behaves like the main thread
  test.eq(coroutine.isyieldable(), false)
  local inside = coroutine.wrap(function() return coroutine.isyieldable(), select(2, coroutine.running()) end)
  test.eq({ inside() }, { true, false })
end)

test("I/O where Lua cannot yield names the call", function()
  local ok, err = pcall(table.sort, { 3, 2, 1 }, function(a, b) task.sleep(0.001); return a < b end)
  assert(not ok)
  test.eq(err.code, "not_yieldable")
  assert(err:find("table.sort"), tostring(err))
  ok, err = pcall(string.gsub, "ab", "%w", function() time.sleep(1) end)
  assert(not ok and err:find("string.gsub"), tostring(err))
  -- a metamethod called from C
  local t = setmetatable({}, { __index = function() task.yield() end })
  ok, err = pcall(function() return t.x end)
  -- __index of a Lua call is yieldable in 5.4; this must simply work
  assert(ok, tostring(err))
end)

test("coroutine.yield at the top of a task raises, as in Lua's main thread", function()
  local t = task.spawn(function() return pcall(coroutine.yield, 1) end)
  test.eq({ t:join() }, { false, "attempt to yield from outside a coroutine" })
  test.eq({ pcall(coroutine.yield) }, { false, "attempt to yield from outside a coroutine" })
  -- inside a user coroutine it is the ordinary yield
  local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1); return b * 2 end)
  test.eq(co(1), 2)
  test.eq(co(5), 10)
end)

test("a wrap coroutine that errors: a raising __close replaces the error; then it is dead", function()
  local closed = false
  local co = coroutine.wrap(function()
    local _ <close> = setmetatable({}, { __close = function() closed = true; error("from close", 0) end })
    error("original", 0)
  end)
  test.eq({ pcall(co) }, { false, "from close" })
  test.eq(closed, true)
  local ok, err = pcall(co)
  test.eq(ok, false)
  test.matches(err, "cannot resume dead coroutine$")
end)

test("a wrap coroutine that errors with a non-string after a quiet __close stays dead", function()
  local co
  co = coroutine.wrap(function()
    local _ <close> = setmetatable({}, { __close = function() return pcall(co) end })
    error(111)
  end)
  test.eq({ pcall(co) }, { false, 111 })
  local ok, err = pcall(co)
  test.eq(ok, false)
  test.matches(err, "cannot resume dead coroutine$")
end)

test("another task's thread is a main thread: not resumable, closable or yieldable", function()
  local th
  local t = task.spawn(function() th = coroutine.running(); task.sleep(0.02); return "slept" end)
  test.eq(coroutine.status(th), "normal")
  test.eq(coroutine.isyieldable(th), false)
  test.eq({ coroutine.resume(th, "x") }, { false, "cannot resume non-suspended coroutine" })
  test.raises(function() coroutine.close(th) end, "cannot close a normal coroutine")
  test.eq({ t:join() }, { "slept" })
  test.eq(coroutine.status(th), "dead")
end)

test("too many results: resume returns the error, as in Lua", function()
  local co = coroutine.create(function() return table.unpack({}, 1, 995000) end)
  -- the resumer's own stack must be deep enough that the results cannot fit on it
  local function deep(n)
    if n == 0 then return coroutine.resume(co) end
    local r = { deep(n - 1) }
    return r[1], r[2]
  end
  test.eq({ deep(3000) }, { false, "too many results to resume" })
end)

test("task.yield gives other tasks a turn", function()
  local log = {}
  local t = task.spawn(function() log[#log + 1] = 1; task.yield(); log[#log + 1] = 3 end)
  log[#log + 1] = 2
  t:join()
  test.eq(log, { 1, 2, 3 })
end)

test("require of a module whose top level does I/O", function()
  local dir = os.tmpname()
  os.remove(dir)
  os.execute("mkdir -p " .. dir)
  local f = assert(io.open(dir .. "/slowmod.lua", "w"))
  f:write("task.sleep(0.01)\nreturn { value = 42, name = ... }\n")
  f:close()
  local old = package.path
  package.path = dir .. "/?.lua;" .. old
  local m, where = require("slowmod")
  package.path = old
  test.eq(m.value, 42)
  test.eq(m.name, "slowmod")
  assert(where:find("slowmod.lua"))
  assert(package.loaded.slowmod == m)
  os.execute("rm -rf " .. dir)
  local ok, err = pcall(require, "no_such_module_xyz")
  assert(not ok and err:find("module 'no_such_module_xyz' not found"))
end)

test("module not found: the same lines as stock Lua, none about embedded modules", function()
  local path, cpath = package.path, package.cpath
  package.path, package.cpath = "?.lua;?/?", "?.so;?/init"
  local ok, err = pcall(require, "XXX")
  package.path, package.cpath = path, cpath
  test.eq(ok, false)
  test.eq(err, "module 'XXX' not found:\n\tno field package.preload['XXX']\n\tno file 'XXX.lua'\n" ..
    "\tno file 'XXX/XXX'\n\tno file 'XXX.so'\n\tno file 'XXX/init'")
end)
