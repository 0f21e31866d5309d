-- Cluster broadcast across real processes (docs/cluster.md), with scripts/cluster_chat.lua
-- (its smoke test too): two workers of one `moonwire --workers 2`, and two separate moonwire
-- instances, sharing one redis-server started here.
local test = require("test")
local cli = dofile("tests/cli/fixtures/cli.lua")
local rs = dofile("tests/support/redis.lua")
local proc = cli.proc

if not rs.available then
  proc.peer_test(test, false, "redis-server")("workers cluster", function() end)
  return
end

local srv = rs.start()
local CHAT = cli.abspath("scripts/cluster_chat.lua")

test.after_each(cli.cleanup)

local function start_chat(args, nready)
  local h = cli.start(args)
  assert(cli.wait_for(function()
    local n = 0
    for _ in h:out():gmatch("cluster chat: worker %d+ of %d+ on ws://") do n = n + 1 end
    return n >= nready
  end, 15), "chat did not start: " .. h:out() .. h:err())
  return h
end

-- Connects; returns ws and the worker id from the welcome line.
local function join(port)
  local ws = net.ws.connect("ws://127.0.0.1:" .. port .. "/", { timeout = 5000 })
  local m = ws:recv()
  local w = tonumber(m.data:match("^%* welcome guest%d+@w%d+ %(worker (%d+) of %d+%)$"))
  assert(w, m.data)
  return ws, w
end

-- The next message on ws that is not a "joined"/"left" notice.
local function next_chat(ws)
  while true do
    local m = ws:recv()
    assert(m and m.type == "text", "closed")
    if not m.data:find("^%* [^ ]+ joined$") and not m.data:find("^%* [^ ]+ left$") then return m.data end
  end
end

test("a broadcast on one worker reaches the clients of the other worker (moonwire --workers 2)", function()
  local port = proc.free_port()
  local h = start_chat({ "--workers", "2", CHAT, tostring(port), srv.url }, 2)
  -- Connections until both workers have one (SO_REUSEPORT spreads them).
  local on = {}
  for _ = 1, 60 do
    local ws, w = join(port)
    if on[w] then ws:close() else on[w] = ws end
    if on[1] and on[2] then break end
  end
  assert(on[1] and on[2], "all connections landed on one worker")
  on[1]:send("/nick alice")
  on[1]:send("hello from worker 1")
  test.eq(next_chat(on[2]):match("^%* guest%d+@w1 is now alice$") ~= nil, true)
  test.eq(next_chat(on[2]), "alice: hello from worker 1")
  test.eq(next_chat(on[1]):match("is now alice$") ~= nil, true)
  test.eq(next_chat(on[1]), "alice: hello from worker 1")  -- once, not twice
  on[2]:send("and back from worker 2")
  test.matches(next_chat(on[1]), "^guest%d+@w2: and back from worker 2$")
  test.matches(next_chat(on[2]), "^guest%d+@w2: and back from worker 2$")
  on[2]:send("/where")
  test.matches(next_chat(on[2]), "^%* worker 2 of 2, %d+ clients here$")
  on[1]:close()
  on[2]:close()
  h:signal("TERM")
  test.eq(h:wait(10), "exit 143")
end)

test("two separate moonwire instances sharing one Redis broadcast to each other's clients", function()
  local p1, p2 = proc.free_port(), proc.free_port()
  local h1 = start_chat({ CHAT, tostring(p1), srv.url }, 1)
  local h2 = start_chat({ CHAT, tostring(p2), srv.url }, 1)
  local a = join(p1)
  local b = join(p2)
  a:send("ping across machines")
  test.matches(next_chat(b), "^guest%d+@w1: ping across machines$")
  test.matches(next_chat(a), "^guest%d+@w1: ping across machines$")
  b:send("pong")
  test.matches(next_chat(a), ": pong$")
  test.matches(next_chat(b), ": pong$")
  a:close()
  b:close()
  h1:signal("INT")
  h2:signal("INT")
  test.eq(h1:wait(10), "exit 130")
  test.eq(h2:wait(10), "exit 130")
end)

test("without Redis the example's workers fail at start-up and the supervisor gives up: exit 1", function()
  local dead = proc.free_port()
  local r = cli.run({ "--workers", "2", CHAT, tostring(proc.free_port()), "redis://127.0.0.1:" .. dead }, { timeout = 60 })
  test.eq(r.code, 1, r.err)
  test.matches(r.err, "cluster_chat: [^\n]*cluster_chat%.lua:%d+: cluster: connect to 127%.0%.0%.1:" .. dead)
  test.matches(r.err, "giving up %(exit code 1%)")
end)

test("cleanup", function()
  srv:stop()
  rs.cleanup()
end)
