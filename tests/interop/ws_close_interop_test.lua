-- net.ws closing paths against real peers started here on 127.0.0.1: python3-websockets and
-- Node `ws` clients sending messages over max_message (lingering close) and invalid close
-- codes, and a raw python peer (peers/ws_close_peer.py) that sends any close code or resets
-- the TCP connection after a completed closing handshake.
local test = require("test")
local proc = dofile("tests/support/proc.lua")

local here = "tests/interop/peers/"
local python = proc.run("/usr/bin/python3 -c 'import websockets' 2>/dev/null")
local node = proc.run("test -d tests/interop/node_modules/ws")
local CLIENTS = {
  python = { cmd = "/usr/bin/python3 " .. here .. "ws_big_client.py", available = python, big = " big" },
  node = { cmd = "/usr/bin/node " .. here .. "ws_big_client.js", available = node, big = "" },
}

test.after_each(function() proc.cleanup() end)

-- Waits (bounded) for a peer process to exit; returns its output.
local function wait_exit(h, seconds)
  local deadline = time.monotonic() + seconds
  while h:alive() and time.monotonic() < deadline do task.sleep(0.05) end
  return h:output()
end

local reading_server = dofile("tests/support/ws.lua").reading_server

-- "A B\n" lines of a peer's output -> { [A] = B }
local function answers(out)
  local t = {}
  for a, b in out:gmatch("(%d+) (%d+)\n") do t[tonumber(a)] = tonumber(b) end
  return t
end

local SIZES = { 1536, 4096, 100 * 1024, 1024 * 1024 }

for _, name in ipairs({ "python", "node" }) do
  local peer = CLIENTS[name]
  local t = peer.available and test or test.skip
  t(name .. " client sending messages over max_message gets 1009, never 1006", function()
    local server, closes = reading_server({ max_message = 1024 })
    local h = proc.start(peer.cmd .. " ws://127.0.0.1:" .. server.port .. "/" .. peer.big .. " " .. table.concat(SIZES, " "))
    local out = wait_exit(h, 40)
    local want = {}
    for _, n in ipairs(SIZES) do want[n] = 1009 end
    test.eq(answers(out), want, out)
    test.eq(#closes, #SIZES)
    for _, m in ipairs(closes) do test.eq(m.code, 1009) end
    server:close()
  end, { timeout = 60 })
end

local py = python and test or test.skip

py("python client over TLS sending messages over max_message gets 1009", function()
  local certs = proc.make_certs(proc.tmpdir())
  local server = reading_server({ max_message = 1024, tls = { cert_file = certs.cert, key_file = certs.key } })
  local h = proc.start(CLIENTS.python.cmd .. " wss://localhost:" .. server.port .. "/ --ca " .. certs.ca .. " big " ..
    table.concat(SIZES, " "))
  local out = wait_exit(h, 40)
  local want = {}
  for _, n in ipairs(SIZES) do want[n] = 1009 end
  test.eq(answers(out), want, out)
  server:close()
end, { timeout = 60 })

-- python3-websockets refuses to send invalid codes with close(): the peer writes the frame.
-- 1014 is valid but Beast 1.81 still rejects it (answered with 1002): not checked.
local VALID = { 1000, 1001, 1003, 1008, 1011, 3000, 4999 }
local INVALID = { 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535 }

py("python client: invalid close codes are answered with 1002, valid ones echoed", function()
  local server, closes = reading_server()
  local codes = {}
  for _, c in ipairs(VALID) do codes[#codes + 1] = c end
  for _, c in ipairs(INVALID) do codes[#codes + 1] = c end
  local h = proc.start(CLIENTS.python.cmd .. " ws://127.0.0.1:" .. server.port .. "/ badclose " .. table.concat(codes, " "))
  local out = wait_exit(h, 40)
  local want = {}
  for _, c in ipairs(VALID) do want[c] = c end
  for _, c in ipairs(INVALID) do want[c] = 1002 end
  test.eq(answers(out), want, out)
  test.eq(#closes, #codes)
  for i, m in ipairs(closes) do
    if i <= #VALID then
      test.eq({ m.code, m.clean }, { VALID[i], true })
    else
      test.eq({ m.code, m.clean }, { 1002, false }, "code " .. INVALID[i - #VALID])
      test.matches(m.reason, "invalid close code")
    end
  end
  server:close()
end, { timeout = 60 })

-- The raw peer (peers/ws_close_peer.py) prints "<path> GOT <code>" for the close frame it read.
local function close_peer()
  local port = proc.free_port()
  local h = proc.start("/usr/bin/python3 " .. here .. "ws_close_peer.py " .. port)
  proc.wait_port(port, 10)
  return port, h
end

local function peer_got(h, path)
  local pat = path:gsub("%-", "%%-") .. " GOT (%d+)"
  for _ = 1, 100 do
    local code = h:output():match(pat)
    if code then return tonumber(code) end
    task.sleep(0.02)
  end
  return nil
end

py("moonwire client: a peer's invalid close code is answered with 1002 and reported as 1002", function()
  local port, h = close_peer()
  for _, code in ipairs(INVALID) do
    local path = "/close/" .. code
    local ws = net.ws.connect("ws://127.0.0.1:" .. port .. path)
    ws:set_timeout(5000)
    local m = ws:recv()
    test.eq({ m.type, m.code, m.clean }, { "close", 1002, false }, path)
    test.matches(m.reason, "invalid close code")
    test.eq(peer_got(h, path), 1002, path .. ": " .. h:output())
  end
  for _, code in ipairs(VALID) do
    local path = "/close/" .. code
    local ws = net.ws.connect("ws://127.0.0.1:" .. port .. path)
    ws:set_timeout(5000)
    local m = ws:recv()
    test.eq({ m.type, m.code, m.clean }, { "close", code, true }, path)
    test.eq(peer_got(h, path), code, path .. ": " .. h:output())
  end
end, { timeout = 60 })

py("a peer that resets after a completed closing handshake: the peer's code, clean", function()
  local port, h = close_peer()
  -- the peer closes, reads our answer, then resets
  local ws = net.ws.connect("ws://127.0.0.1:" .. port .. "/rst")
  ws:set_timeout(5000)
  local m = ws:recv()
  test.eq({ m.type, m.code, m.clean }, { "close", 1000, true }, tostring(m.reason))
  test.eq(peer_got(h, "/rst"), 1000, h:output())
  test.eq({ ws.close_code, ws:recv() }, { 1000, nil })
  -- we close, the peer answers and resets at once
  local ws2 = net.ws.connect("ws://127.0.0.1:" .. port .. "/answer-rst")
  ws2:set_timeout(5000)
  test.eq(ws2:close(), true)
  local m2 = ws2:recv()
  test.eq({ m2.type, m2.code, m2.clean }, { "close", 1000, true }, tostring(m2.reason))
  test.eq(peer_got(h, "/answer-rst"), 1000, h:output())
end, { timeout = 60 })
