-- net.ws.group(): client groups (ids, count, broadcast, the members as the script's objects),
-- shared by several servers through net.ws.listen's `group` option.
local test = require("test")
local proc = dofile("tests/support/proc.lua")

test.after_each(function() proc.cleanup() end)

local function url(server) return "ws://127.0.0.1:" .. server.port .. "/" end

-- Accepts `n` connections on `server`, returning them in order.
local function accept_n(server, n)
  local got = {}
  for i = 1, n do got[i] = server:accept(5000) end
  return got
end

test("an empty group", function()
  local g = net.ws.group()
  test.eq(g:client_count(), 0)
  test.eq(g:clients(), {})
  test.eq(g:broadcast("nobody"), 0)
  test.matches(tostring(g), "^ws.group")
end)

test("two servers share one group: ids, clients(), client_count(), broadcast", function()
  local g = net.ws.group()
  local a = net.ws.listen(0, { group = g })
  local b = net.ws.listen(0, { group = g })
  local ta = task.spawn(accept_n, a, 2)
  local tb = task.spawn(accept_n, b, 1)
  local c1 = net.ws.connect(url(a))
  local c2 = net.ws.connect(url(b))
  local c3 = net.ws.connect(url(a))
  local sa, sb = ta:join(5), tb:join(5)
  test.eq(g:client_count(), 3)
  test.eq(a:client_count(), 3) -- the servers report their group
  local ids = {}
  for _, c in ipairs({ sa[1], sa[2], sb[1] }) do
    assert(not ids[c.id], "ids are unique in a group")
    ids[c.id] = true
  end
  local list = g:clients()
  test.eq(#list, 3)
  for i = 2, #list do assert(list[i - 1].id < list[i].id, "ordered by id") end
  local same = false
  for _, c in ipairs(list) do if c == sb[1] then same = true end end
  assert(same, "clients() lists the objects accept returned")
  test.eq(g:broadcast("all"), 3)
  test.eq(b:broadcast("\0bin", "binary"), 3)
  for _, ws in ipairs({ c1, c2, c3 }) do
    test.eq(ws:recv(), { type = "text", data = "all" })
    test.eq(ws:recv(), { type = "binary", data = "\0bin" })
  end
  -- a client that leaves is no longer a member
  c2:close()
  for _ = 1, 100 do
    if g:client_count() == 2 then break end
    sb[1]:recv()
  end
  test.eq(g:client_count(), 2)
  test.eq(#g:clients(), 2)
  test.eq(g:broadcast("two"), 2)
  test.eq(c1:recv().data, "two")
  test.eq(c3:recv().data, "two")
  -- closing one server closes the group's members (as a server closes its clients)
  a:close()
  test.eq(c1:recv().type, "close")
  b:close()
  c3:close()
end)

test("a server without a group option has its own: ids start at 1", function()
  local g = net.ws.group()
  local shared = net.ws.listen(0, { group = g })
  local own = net.ws.listen(0)
  local t1 = task.spawn(accept_n, shared, 1)
  local t2 = task.spawn(accept_n, own, 1)
  local w1, w2 = net.ws.connect(url(shared)), net.ws.connect(url(own))
  local s1, s2 = t1:join(5), t2:join(5)
  test.eq(s1[1].id, 1)
  test.eq(s2[1].id, 1)
  test.eq(g:client_count(), 1)
  test.eq(own:client_count(), 1)
  test.eq(g:broadcast("g only"), 1)
  test.eq(w1:recv().data, "g only")
  w1:close(); w2:close()
  shared:close(); own:close()
end)

test("max_connections counts the whole group", function()
  local g = net.ws.group()
  local a = net.ws.listen(0, { group = g, max_connections = 1 })
  local b = net.ws.listen(0, { group = g })
  local t = task.spawn(accept_n, b, 1)
  local w = net.ws.connect(url(b))
  t:join(5)
  local err = test.raises(function() net.ws.connect(url(a)) end, "EHANDSHAKE")
  test.eq(err.status, 503)
  w:close()
  a:close(); b:close()
end)

test("group:close() closes every member with 1001", function()
  local g = net.ws.group()
  local s = net.ws.listen(0, { group = g })
  local t = task.spawn(accept_n, s, 2)
  local w1, w2 = net.ws.connect(url(s)), net.ws.connect(url(s))
  t:join(5)
  g:close()
  for _, w in ipairs({ w1, w2 }) do
    local m = w:recv()
    test.eq(m.type, "close")
    test.eq(m.code, 1001)
  end
  s:close()
end)

test("bad input", function()
  local g = net.ws.group()
  test.raises(function() net.ws.listen(0, { group = 5 }) end, "group")
  test.raises(function() net.ws.listen(0, { group = {} }) end, "group")
  test.raises(function() net.ws.listen(0, { groups = g }) end, "did you mean 'group'")
  test.raises(function() g:broadcast() end)
  test.raises(function() g:broadcast({}) end)
  test.raises(function() g:broadcast("x", "ping") end, "broadcast type")
  test.raises(function() g:broadcast("x", "nope") end, "invalid option")
  test.raises(function() g:close(999) end, "close code")
  test.raises(function() g.broadcast(5, "x") end)
  test.raises(function() g.clients({}) end)
end)

test("200 broadcasts arrive whole and in order", function()
  local g = net.ws.group()
  local s = net.ws.listen(0, { group = g })
  local t = task.spawn(accept_n, s, 1)
  local w = net.ws.connect(url(s))
  t:join(5)
  for i = 1, 200 do g:broadcast(string.rep("x", 1000) .. i) end
  for i = 1, 200 do test.eq(w:recv().data, string.rep("x", 1000) .. i) end
  w:close()
  s:close()
end)
