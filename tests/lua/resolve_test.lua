-- net.resolve: asynchronous name resolution, families, literals, errors.
local test = require("test")

local function has(list, v)
  for _, x in ipairs(list) do if x == v then return true end end
  return false
end

test("localhost resolves; family filters", function()
  local all = net.resolve("localhost")
  assert(#all >= 1)
  assert(has(all, "127.0.0.1") or has(all, "::1"), table.concat(all, ","))
  for _, a in ipairs(net.resolve("localhost", { family = 4 })) do assert(a:find("^%d+%.%d+%.%d+%.%d+$"), a) end
  local ok, v6 = pcall(net.resolve, "localhost", { family = "inet6" }) -- no ::1 entry on some hosts
  if ok then
    for _, a in ipairs(v6) do assert(a:find(":"), a) end
  else
    test.eq(v6.code, "ENOTFOUND")
  end
end)

test("IP literals are returned without a lookup", function()
  test.eq(net.resolve("127.0.0.1"), { "127.0.0.1" })
  test.eq(net.resolve("::1"), { "::1" })
  test.eq(net.resolve("127.0.0.1", { family = 6 }), {})
end)

test("unknown names and bad arguments", function()
  local err = test.raises(function() net.resolve("no-such-host.invalid") end)
  assert(err.code == "ENOTFOUND" or err.code == "EAI_AGAIN" or err.code == "EDNS", tostring(err))
  test.raises(function() net.resolve("") end, "empty")
  test.raises(function() net.resolve("localhost", { family = 5 }) end, "family")
end)

test("resolution does not block other tasks", function()
  local ticks = 0
  local t = task.spawn(function()
    for _ = 1, 5 do
      ticks = ticks + 1
      task.yield()
    end
  end)
  net.resolve("localhost")
  t:join(5)
  test.eq(ticks, 5)
end)
