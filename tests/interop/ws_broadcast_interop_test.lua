-- net.ws broadcast to real peers, compressed and not in one group: python3-websockets and
-- Node `ws` receivers (peers/ws_bcast_client.*), with and without permessage-deflate, next
-- to one another; every message whole and in order.
local test = require("test")
local proc = dofile("tests/support/proc.lua")

test.after_each(function() proc.cleanup() end)

local here = "tests/interop/peers/"
local have_python = proc.run("/usr/bin/python3 -c 'import websockets' 2>/dev/null")
local have_node = proc.run("test -d tests/interop/node_modules/ws")
local SIZES = { 0, 1, 125, 126, 127, 1000, 65535, 65536, 70000, 5 }
local function expected(i) return "B" .. i .. ":" .. string.char(97 + i % 26):rep(SIZES[i % #SIZES + 1]) end

local t = proc.peer_test(proc.peer_test(test, have_python, "python3-websockets"), have_node, "Node ws")

t("python and node peers, deflate on and off, get the same broadcasts", function()
  local COUNT = 60
  local server = net.ws.listen(0, { compression = true, max_queue = 64 * 1024 * 1024 })
  local u = "ws://127.0.0.1:" .. server.port .. "/"
  local cmds = {
    "/usr/bin/python3 " .. here .. "ws_bcast_client.py " .. u .. " " .. COUNT .. " --compression",
    "/usr/bin/python3 " .. here .. "ws_bcast_client.py " .. u .. " " .. COUNT,
    "/usr/bin/node " .. here .. "ws_bcast_client.js " .. u .. " " .. COUNT .. " --compression",
    "/usr/bin/node " .. here .. "ws_bcast_client.js " .. u .. " " .. COUNT,
  }
  local peers = {}
  for i, cmd in ipairs(cmds) do peers[i] = proc.start(cmd) end
  -- Every peer says "ready" once connected; then the broadcasts start.
  local conns = {}  -- luacheck: ignore 241 (holds the accepted connections open)
  for i = 1, #cmds do
    local c = server:accept(15000)
    c:set_timeout(15000)
    test.eq(c:recv().data, "ready")
    conns[i] = c
  end
  for i = 1, COUNT do
    test.eq(server:broadcast(expected(i)), #cmds)
    if i % 10 == 0 then task.sleep(0.001) end
  end
  local outs = {}
  for i, h in ipairs(peers) do
    local deadline = time.monotonic() + 20
    while h:alive() and time.monotonic() < deadline do task.sleep(0.05) end
    outs[i] = h:output()
  end
  test.matches(outs[1], "ALL OK " .. COUNT .. " deflate")
  test.matches(outs[2], "ALL OK " .. COUNT .. " plain")
  test.matches(outs[3], "ALL OK " .. COUNT .. " deflate")
  test.matches(outs[4], "ALL OK " .. COUNT .. " plain")
  server:close()
end)
