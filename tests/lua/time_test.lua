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

-- time.format / time.parse ----------------------------------------------------------------------

test("time.format: RFC 3339 in UTC by default, fractions only when there are some", function()
  test.eq(time.format(1796152913), "2026-12-01T19:21:53Z")
  test.eq(time.format(1796152913.0), "2026-12-01T19:21:53Z")
  test.eq(time.format(1796152913.5), "2026-12-01T19:21:53.500Z")
  test.eq(time.format(1796152913.25), "2026-12-01T19:21:53.250Z")
  test.eq(time.format(1796152913.123456), "2026-12-01T19:21:53.123456Z")
  test.eq(time.format(1796152913.9999999), "2026-12-01T19:21:54Z") -- rounded to microseconds
  test.eq(time.format(0), "1970-01-01T00:00:00Z")
  test.eq(time.format(-1), "1969-12-31T23:59:59Z")
  test.eq(time.format(-0.5), "1969-12-31T23:59:59.500Z")
  test.eq(time.format(951782400), "2000-02-29T00:00:00Z") -- leap day
  test.eq(time.format(-62167219200), "0000-01-01T00:00:00Z")
  test.eq(time.format(253402300799), "9999-12-31T23:59:59Z")
  test.eq(time.format("86400"), "1970-01-02T00:00:00Z") -- numeric strings, as Lua
  test.matches(time.format(time.now()), "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d[%.%d]*Z$")
  test.eq(time.format(os.time()):sub(1, 10), os.date("!%Y-%m-%d"))
end)

test("time.format with a strftime-style format", function()
  local ts = 1796152913.123456
  test.eq(time.format(ts, "%Y-%m-%d %H:%M:%S"), "2026-12-01 19:21:53")
  test.eq(time.format(ts, "%d/%m/%y"), "01/12/26")
  test.eq(time.format(ts, "%a %A %b %B %j"), "Tue Tuesday Dec December 335")
  test.eq(time.format(ts, "%F %T"), "2026-12-01 19:21:53")
  test.eq(time.format(ts, "%I:%M %p"), "07:21 PM")
  test.eq(time.format(ts, "%Z %z %:z"), "UTC +0000 +00:00")
  test.eq(time.format(ts, "%s"), "1796152913")
  test.eq(time.format(ts, "%3f|%6f|%9f|%f"), "123|123456|123456000|123456000")
  test.eq(time.format(ts, "%.3f|%.6f|%.f"), ".123|.123456|.123456")
  test.eq(time.format(1796152913, "%.f|%.3f"), "|.000")
  test.eq(time.format(ts, "%-d.%-m. %e"), "1.12.  1")
  test.eq(time.format(ts, "100%%"), "100%")
  test.eq(time.format(ts, ""), "")
  test.eq(time.format(ts, "plain ✓ text"), "plain ✓ text")
  test.eq(time.format(-62167219200, "%Y"), "0000")
  test.eq(time.format(1796152913, "%u %w %G-W%V"), "2 2 2026-W49")
end)

test("time.format: bad arguments", function()
  test.raises(function() time.format() end, "number expected")
  test.raises(function() time.format({}) end, "number expected, got table")
  test.raises(function() time.format("soon") end, "number expected")
  test.raises(function() time.format(0, {}) end, "string expected, got table")
  for _, bad in ipairs({ 0 / 0, math.huge, -math.huge, 1e300, -1e300, 253402300800, -62167219201,
                         math.maxinteger, math.mininteger }) do
    local e = test.raises(function() time.format(bad) end, "EINVAL")
    test.matches(tostring(e), "bad argument #1 to '[%w.]*format'")
  end
  for _, fmt in ipairs({ "%", "%Q", "%E", "abc%", "%.x", "%:", "%4f" }) do
    local e = test.raises(function() time.format(0, fmt) end, "EINVAL")
    test.matches(tostring(e), "bad argument #2 to '[%w.]*format'")
  end
  test.matches(tostring(test.raises(function() time.format(0, "%Q") end)), "unknown conversion '%%Q'")
end)

test("time.parse: RFC 3339, offsets converted to UTC", function()
  test.eq(time.parse("2026-12-01T19:21:53Z"), 1796152913)
  test.eq(math.type(time.parse("2026-12-01T19:21:53Z")), "integer")
  test.eq(time.parse("2026-12-01t19:21:53z"), 1796152913)
  test.eq(time.parse("2026-12-01 19:21:53Z"), 1796152913)
  test.eq(time.parse("2026-12-01T19:21:53"), 1796152913) -- no offset: UTC
  test.eq(time.parse("2026-12-01T19:21Z"), 1796152860)
  test.eq(time.parse("2026-12-01"), 1796083200)
  test.eq(time.parse("2026-12-01T20:21:53+01:00"), 1796152913)
  test.eq(time.parse("2026-12-01T14:51:53-04:30"), 1796152913)
  test.eq(time.parse("2026-12-01T20:21:53+0100"), 1796152913)
  test.eq(time.parse("2026-12-01T20:21:53+01"), 1796152913)
  test.eq(time.parse("2026-12-02T00:00:00+23:59"), 1796083200 + 60)
  test.eq(time.parse("2026-12-01T19:21:53.5Z"), 1796152913.5)
  test.eq(math.type(time.parse("2026-12-01T19:21:53.5Z")), "float")
  test.eq(time.parse("2026-12-01T19:21:53,25Z"), 1796152913.25)
  test.eq(time.parse("2026-12-01T19:21:53.000Z"), 1796152913) -- a zero fraction is whole
  test.near(time.parse("2026-12-01T19:21:53.123456789123Z"), 1796152913.123456789, 1e-6)
  test.eq(time.parse("1970-01-01T00:00:00Z"), 0)
  test.eq(time.parse("1969-12-31T23:59:59Z"), -1)
  test.eq(time.parse("0000-01-01T00:00:00Z"), -62167219200)
  test.eq(time.parse("9999-12-31T23:59:59Z"), 253402300799)
  test.eq(time.parse("2024-02-29T00:00:00Z"), 1709164800) -- leap year
  test.eq(time.parse("2000-02-29"), 951782400)
  test.eq(time.parse("2016-12-31T23:59:60Z"), time.parse("2017-01-01T00:00:00Z")) -- leap second
  -- round trips
  for _, ts in ipairs({ 0, 1, -1, 1796152913, 1796152913.5, 1796152913.123456, -86399.25, 253402300799 }) do
    test.eq(time.parse(time.format(ts)), ts)
  end
  local now = time.now()
  test.near(time.parse(time.format(now)), now, 1e-6)
end)

test("time.parse: invalid dates and malformed input are EINVAL saying what is wrong", function()
  local cases = {
    { "2026-02-30", "day 30 is out of range (February 2026 has 28 days)" },
    { "2026-02-29", "February 2026 has 28 days" },
    { "1900-02-29", "February 1900 has 28 days" },
    { "2026-04-31", "April 2026 has 30 days" },
    { "2026-00-10", "month 0 is out of range" },
    { "2026-13-01", "month 13 is out of range" },
    { "2026-01-00", "day 0 is out of range" },
    { "2026-12-01T24:00:00Z", "hour 24 is out of range" },
    { "2026-12-01T19:60:00Z", "minute 60 is out of range" },
    { "2026-12-01T19:21:61Z", "second 61 is out of range" },
    { "2026-12-01T19:21:53+24:00", "offset +24:00 is out of range" },
    { "2026-12-01T19:21:53+01:60", "out of range" },
    { "", "expected a 4-digit year" },
    { "x", "expected a 4-digit year at position 1" },
    { "26-12-01", "expected a 4-digit year" },
    { "2026/12/01", "expected '-' at position 5" },
    { "2026-1-01", "expected a 2-digit month at position 6" },
    { "2026-12-01X19:21:53Z", "expected 'T' between date and time at position 11" },
    { "2026-12-01T19:21:53Zjunk", "unexpected text at position 21" },
    { "2026-12-01T19:21:53 Z", "position 20" },
    { "2026-12-01T19:21:53.Z", "expected fractional digits" },
    { "2026-12-01T19Z", "expected ':'" },
    { "2026-12-01T19:21:53+1", "offset's hours" },
    { "2026-12-01T19:21:53 UTC", "at position 20" },
    { "2026-12-01\0", "position 11" },
    { "２０２６-12-01", "expected a 4-digit year" }, -- fullwidth digits are not digits
    { "2026-12-01T19:21:53.5Z ", "unexpected text" },
  }
  for _, c in ipairs(cases) do
    local e = test.raises(function() time.parse(c[1]) end, "EINVAL", c[1])
    test.matches(e.message, "time.parse: cannot parse", c[1])
    test.ok(e.message:find(c[2], 1, true), c[1] .. ": " .. e.message)
  end
  -- long or binary input is quoted briefly
  local e = test.raises(function() time.parse(("\1"):rep(1000)) end, "EINVAL")
  test.ok(#e.message < 300, e.message)
  test.ok(not e.message:find("\1", 1, true))
end)

test("time.parse with a format", function()
  test.eq(time.parse("01/12/2026", "%d/%m/%Y"), 1796083200)
  test.eq(time.parse("2026-12-01 19:21:53", "%Y-%m-%d %H:%M:%S"), 1796152913)
  test.eq(time.parse("2026-12-01 19:21:53", "%F %T"), 1796152913)
  test.eq(time.parse("Dec 1 2026 7:21 PM", "%b %d %Y %I:%M %p"), 1796152860)
  test.eq(time.parse("december 1, 2026 12:00 am", "%B %d, %Y %I:%M %p"), 1796083200)
  test.eq(time.parse("Tue, 01 Dec 2026 19:21:53 GMT", "%a, %d %b %Y %H:%M:%S %Z"), 1796152913) -- HTTP dates
  test.eq(time.parse("2026-12-01T20:21:53+01:00", "%Y-%m-%dT%H:%M:%S%z"), 1796152913)
  test.eq(time.parse("2026-12-01T19:21:53.25", "%Y-%m-%dT%H:%M:%S%.f"), 1796152913.25)
  test.eq(time.parse("2026-12-01T19:21:53", "%Y-%m-%dT%H:%M:%S%.f"), 1796152913) -- %.f is optional
  test.eq(time.parse("19:21:53.125", "%H:%M:%S.%3f"), 69713.125) -- the date defaults to 1970-01-01
  test.eq(time.parse("2026", "%Y"), 1767225600)
  test.eq(time.parse("2026-335", "%Y-%j"), 1796083200)
  test.eq(time.parse("1796152913", "%s"), 1796152913)
  test.eq(time.parse("12/01/26", "%D"), 1796083200)
  test.eq(time.parse("  2026 -  12-01", " %Y - %m-%d"), 1796083200) -- whitespace matches any amount
  test.eq(time.parse("100% 2026", "100%% %Y"), 1767225600)
  -- bad input
  test.raises(function() time.parse("2026-02-30", "%Y-%m-%d") end, "February 2026 has 28 days")
  test.raises(function() time.parse("13:00 PM", "%I:%M %p") end, "hour 13 is out of range (1..12)")
  test.raises(function() time.parse("2026-366", "%Y-%j") end, "2026 has 365 days")
  test.raises(function() time.parse("Foo 1 2026", "%b %d %Y") end, "expected a month name")
  test.raises(function() time.parse("2026-12-01 CET", "%Y-%m-%d %Z") end, "other zone names are not known")
  test.raises(function() time.parse("2026-12-01x", "%Y-%m-%d") end, "unexpected text at position 11")
  test.raises(function() time.parse("2026", "%Y-%m") end, "expected '-' at the end")
  local e = test.raises(function() time.parse("2026", "%Q") end, "EINVAL")
  test.matches(e.message, "unknown conversion '%%Q'")
  test.raises(function() time.parse("2026", "%") end, "lone")
end)

test("time.parse: bad argument types", function()
  test.raises(function() time.parse() end, "bad argument #1 to '")
  test.raises(function() time.parse() end, "string expected, got no value")
  test.raises(function() time.parse({}) end, "string expected, got table")
  test.raises(function() time.parse("2026-12-01", {}) end, "bad argument #2 to '")
  test.eq(time.parse("2026-12-01", nil), 1796083200)
  -- a number is a string, as in Lua: 2026 is not a date
  test.raises(function() time.parse(2026) end, "EINVAL")
end)
