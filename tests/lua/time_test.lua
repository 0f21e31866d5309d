local test = require("test")

test("now and now_ms agree with os.time", function()
  local now = time.now()
  assert(math.type(now) == "float")
  assert(math.abs(now - os.time()) < 2)
  local ms = time.now_ms()
  assert(math.type(ms) == "integer")
  assert(math.abs(ms / 1000 - now) < 2)
end)

test("monotonic clocks never go backwards", function()
  local a, b = time.monotonic(), time.monotonic_ms()
  time.sleep(20)
  assert(time.monotonic() >= a + 0.019)
  assert(time.monotonic_ms() >= b + 19)
end)

test("time.sleep takes milliseconds and yields to other tasks", function()
  local ran = false
  task.spawn(function() ran = true end)
  local t = task.spawn(function() time.sleep(30); return "slept" end)
  test.eq(t:join(), "slept")
  assert(ran)
  time.sleep(0) -- a turn, not an error
  time.sleep(-5)
end)

test("bad arguments", function()
  test.raises(function() time.sleep() end, "number expected")
  test.eq(test.raises(function() time.sleep(0/0) end, "NaN").code, "EINVAL")
end)

test("setTimeout fires once, with arguments, in its own task", function()
  local ch = task.channel(1)
  local id = setTimeout(function(a, b)
    ch:send(a + b)
    task.sleep(0.001) -- the callback may do I/O
  end, 10, 2, 3)
  assert(math.type(id) == "integer")
  test.eq(ch:recv(2), 5)
end)

test("clearTimeout prevents the callback", function()
  local fired = false
  local id = setTimeout(function() fired = true end, 20)
  clearTimeout(id)
  clearTimeout(id) -- twice is fine
  clearTimeout(nil)
  task.sleep(0.06)
  assert(not fired)
end)

test("setInterval repeats until cleared", function()
  local n = 0
  local id
  local done = task.channel(1)
  id = setInterval(function()
    n = n + 1
    if n == 5 then clearInterval(id); done:send(true) end
  end, 5)
  done:recv(5)
  task.sleep(0.05)
  test.eq(n, 5)
end)

test("timers fire on time while other tasks wait on I/O", function()
  local server = net.tcp.listen(0)
  local reader = task.spawn(function()
    local c = server:accept()
    return c:read() -- waits: nobody writes until the timer fired
  end)
  local client = net.tcp.connect("127.0.0.1", server.port)
  local fired_at
  local start = time.monotonic()
  setTimeout(function() fired_at = time.monotonic(); client:write("go") end, 50)
  test.eq(reader:join(), "go")
  assert(fired_at and fired_at - start >= 0.045)
  client:close()
  server:close()
end)

test("timer globals are also the timers module", function()
  local timers = require("timers")
  assert(timers.setTimeout == setTimeout)
  test.raises(function() setTimeout("nope", 1) end, "function expected")
end)
