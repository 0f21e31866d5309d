local test = require("test")

test("spawn runs at once until the first yield", function()
  local log = {}
  local t = task.spawn(function(a, b)
    log[#log + 1] = "start " .. a .. b
    task.yield()
    log[#log + 1] = "after yield"
    return a + b, "x"
  end, 1, 2)
  log[#log + 1] = "spawned"
  test.eq(log, { "start 12", "spawned" })
  local r1, r2 = t:join()
  test.eq({ r1, r2 }, { 3, "x" })
  test.eq(log, { "start 12", "spawned", "after yield" })
  test.eq(t.status, "done")
end)

test("join returns nil results and several values", function()
  test.eq(table.pack(task.spawn(function() end):join()).n, 0)
  test.eq({ task.spawn(function() return 1, nil, 3 end):join() }, { 1, nil, 3 })
end)

test("join re-raises the task's error, with its code", function()
  local t = task.spawn(function() task.sleep(0.01); error({ code = "EMINE", message = "boom" }) end)
  local ok, err = pcall(t.join, t)
  assert(not ok)
  test.eq(err.code, "EMINE")
  test.eq(t.status, "failed")
  -- joining a finished failed task raises again
  local ok2, err2 = pcall(t.join, t)
  assert(not ok2 and err2.code == "EMINE")
end)

test("join with a timeout", function()
  local t = task.spawn(function() task.sleep(1) end)
  local ok, err = pcall(t.join, t, 0.05)
  assert(not ok)
  test.eq(err.code, "ETIMEDOUT")
  test.eq(t.status, "suspended")
  t:cancel()
end)

test("a task cannot join itself", function()
  local self_t
  self_t = task.spawn(function()
    task.yield()
    return pcall(self_t.join, self_t)
  end)
  local ok, err = self_t:join()
  assert(not ok)
  test.eq(err.code, "EDEADLK")
end)

test("cancel a sleeping task", function()
  local cleaned = false
  local t = task.spawn(function()
    local _, err = pcall(task.sleep, 10)
    cleaned = true
    error(err)
  end)
  test.eq(t:cancel(), true)
  local ok, err = pcall(t.join, t)
  assert(not ok)
  test.eq(err.code, "cancelled")
  test.eq(t.status, "cancelled")
  assert(cleaned)
  test.eq(t:cancel(), false) -- already finished
end)

test("cancel a ready task takes effect at its next suspension", function()
  local reached = false -- luacheck: ignore 231 (set by a task that must not get there)
  local t = task.spawn(function()
    task.yield()
    reached = true
    task.sleep(5)
  end)
  t:cancel()
  local ok, err = pcall(t.join, t)
  assert(not ok and err.code == "cancelled")
end)

test("many tasks sleep concurrently", function()
  local start = time.monotonic()
  local ts = {}
  for i = 1, 500 do ts[i] = task.spawn(function() task.sleep(0.2); return i end) end
  local sum = 0
  for i = 1, 500 do sum = sum + ts[i]:join() end
  test.eq(sum, 500 * 501 // 2)
  assert(time.monotonic() - start < 20, "sleeps ran sequentially")
end)

test("task.current and status while running", function()
  local inner
  local t = task.spawn(function()
    inner = task.current()
    return task.current().status
  end)
  test.eq(t:join(), "running")
  assert(rawequal(inner, t))
  assert(task.current() ~= nil)
end)

test("tasks are ordered fairly by yield", function()
  local log = {}
  local a = task.spawn(function() for i = 1, 3 do log[#log + 1] = "a" .. i; task.yield() end end)
  local b = task.spawn(function() for i = 1, 3 do log[#log + 1] = "b" .. i; task.yield() end end)
  a:join(); b:join()
  test.eq(log, { "a1", "b1", "a2", "b2", "a3", "b3" })
end)

test("bad arguments", function()
  test.raises(function() task.spawn(42) end, "function expected")
  test.raises(function() task.sleep("x") end, "number expected")
  test.eq(test.raises(function() task.spawn(function() end):join(-1) end, "must be a number of seconds >= 0").code, "EINVAL")
  test.raises(function() task.channel(-1) end, "capacity")
end)

test("channel: buffered send/recv and close", function()
  local ch = task.channel(2)
  test.eq(ch:send("a"), true)
  ch:send("b")
  test.eq(#ch, 2)
  local got = {}
  local consumer = task.spawn(function()
    while true do
      local v, ok = ch:recv()
      if not ok then return end
      got[#got + 1] = v
    end
  end)
  ch:send("c") -- blocks until the consumer makes room
  ch:close()
  consumer:join()
  test.eq(got, { "a", "b", "c" })
  test.eq(ch:is_closed(), true)
  test.raises(function() ch:send("d") end, "closed")
end)

test("channel: unbuffered rendezvous", function()
  local ch = task.channel()
  local order = {}
  local sender = task.spawn(function()
    order[#order + 1] = "send start"
    ch:send(42)
    order[#order + 1] = "send done"
  end)
  order[#order + 1] = "recv"
  local v = ch:recv()
  test.eq(v, 42)
  sender:join()
  test.eq(order, { "send start", "recv", "send done" })
end)

test("channel: timeouts and values nil/false", function()
  local ch = task.channel()
  local ok, err = pcall(ch.recv, ch, 0.02)
  assert(not ok and err.code == "ETIMEDOUT")
  local ok2, err2 = pcall(ch.send, ch, 1, 0.02)
  assert(not ok2 and err2.code == "ETIMEDOUT")
  -- the timed-out sender's value is gone
  local ch2 = task.channel(3)
  ch2:send(false)
  local v, okv = ch2:recv()
  test.eq({ v, okv }, { false, true })
end)

test("channel: close wakes blocked receivers and senders", function()
  local ch = task.channel()
  local r = task.spawn(function() return ch:recv() end)
  local s = task.spawn(function() return pcall(ch.send, ch, "x") end)
  -- the sender found the receiver waiting and handed the value directly
  test.eq({ r:join() }, { "x", true })
  test.eq(s:join(), true)
  local r2 = task.spawn(function() return ch:recv() end)
  ch:close()
  test.eq({ r2:join() }, { nil, false })
end)

test("channel as a work queue for several workers", function()
  local jobs, results = task.channel(10), task.channel(100)
  local workers = {}
  for w = 1, 4 do
    workers[w] = task.spawn(function()
      while true do
        local j, ok = jobs:recv()
        if not ok then return end
        task.sleep(0.001)
        results:send(j * j)
      end
    end)
  end
  for i = 1, 40 do jobs:send(i) end
  jobs:close()
  for w = 1, 4 do workers[w]:join() end
  local sum = 0
  for _ = 1, 40 do sum = sum + results:recv() end
  test.eq(sum, 22140)
end)

test("reused task threads: fresh ids, results, errors and hooks do not leak from an earlier task", function()
  local ids, threads = {}, {}
  for i = 1, 50 do
    local t = task.spawn(function(x)
      threads[coroutine.running()] = true
      return x * 2
    end, i)
    test.eq(task.join(t), i * 2)
    assert(not ids[t.id], "task ids are unique")
    ids[t.id] = true
  end
  local n = 0
  for _ in pairs(threads) do n = n + 1 end
  assert(n < 50, "finished tasks' threads are reused")
  -- A failed task's thread, reused: the next task starts clean.
  local bad = task.spawn(function() error("boom") end)
  test.raises(function() task.join(bad) end, "boom")
  local function user_hook() end
  local hooked = task.spawn(function() debug.sethook(user_hook, "l") end)
  task.join(hooked)
  local clean = task.spawn(function() return debug.gethook() end)
  assert(task.join(clean) ~= user_hook, "a task's debug hook does not pass to the next task")
  -- A task waiting across others keeps its own thread.
  local ch = task.channel()
  local waiter = task.spawn(function() return ch:recv() end)
  for i = 1, 10 do task.join(task.spawn(function() return i end)) end
  ch:send("v")
  test.eq(task.join(waiter), "v")
end)
