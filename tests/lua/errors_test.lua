local test = require("test")

local function refused()
  local ok, err = pcall(net.tcp.connect, "127.0.0.1", 1)
  assert(not ok)
  return err
end

test("error objects have code and message", function()
  local err = refused()
  test.eq(type(err), "table")
  test.eq(err.code, "ECONNREFUSED")
  assert(type(err.message) == "string" and #err.message > 0)
end)

test("error objects behave like strings", function()
  local err = refused()
  test.eq(tostring(err), err.message)
  test.eq("E: " .. err, "E: " .. err.message)
  test.eq(err .. "!", err.message .. "!")
  assert(err:find("refused"))
  assert(err:match("127%.0%.0%.1"))
  test.eq(err:upper(), err.message:upper())
  test.eq(#err, #err.message)
  assert(string.find(tostring(err), "Connection refused"))
end)

test("errors carry the caller's position", function()
  local _, err = pcall(function() net.tcp.connect("127.0.0.1", 1) end)
  assert(err:find("errors_test.lua:%d+:"), tostring(err))
end)

test("timeout errors", function()
  local ch = task.channel()
  local _, err = pcall(ch.recv, ch, 0.01)
  test.eq(err.code, "ETIMEDOUT")
  assert(err:find("timed out"))
end)
