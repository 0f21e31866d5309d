-- net.ws server robustness: a raw TCP client sends malformed frames; each connection is
-- closed with the right close code while another client keeps being served. Also close codes
-- and the lingering close, seen from a raw client.
local test = require("test")
local proc = dofile("tests/support/proc.lua")

local HANDSHAKE = "GET /raw HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" ..
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

-- A client frame: first byte b0 (FIN/RSV/opcode), masked with a zero key unless unmasked.
local function frame(b0, payload, unmasked)
  local n = #payload
  local len
  local mask = unmasked and 0 or 0x80
  if n < 126 then
    len = string.char(mask | n)
  elseif n < 65536 then
    len = string.char(mask | 126) .. string.pack(">I2", n)
  else
    len = string.char(mask | 127) .. string.pack(">I8", n)
  end
  return string.char(b0) .. len .. (unmasked and "" or "\0\0\0\0") .. payload
end

local function raw_client(port)
  local c = net.tcp.connect("127.0.0.1", port)
  c:set_timeout(5000)
  c:write(HANDSHAKE)
  local status = c:read_line()
  assert(status:find("101"), status)
  repeat local l = c:read_line() until l == ""
  return c
end

-- Reads the server's close frame: returns its code.
local function read_close(c)
  local h = c:read_exactly(2)
  local b0, b1 = h:byte(1, 2)
  assert(b0 == 0x88, string.format("expected a close frame, got 0x%02x", b0))
  local n = b1 & 0x7f
  local payload = c:read_exactly(n)
  return string.unpack(">I2", payload)
end

local function server_with_echo(opts)
  local server = net.ws.listen(0, opts)
  local closes = {}
  proc.serve(server, function(c)
    while true do
      local m = c:recv()
      if not m then return end
      if m.type == "close" then
        closes[#closes + 1] = m.code
        return
      end
      if m.type == "text" or m.type == "binary" then c:send(m.data, m.type) end
    end
  end)
  return server, closes
end

local CASES = {
  { "unmasked client frame", frame(0x81, "hello", true), 1002 },
  { "reserved bits set", frame(0xC1, "hello"), 1002 },
  { "bad opcode", frame(0x83, "hello"), 1002 },
  { "oversize control frame", frame(0x89, string.rep("p", 126)), 1002 },
  { "fragmented control frame", frame(0x09, "ping"), 1002 },
  { "continuation without a start", frame(0x80, "more"), 1002 },
  { "invalid UTF-8 in text", frame(0x81, "ok \xff\xfe bad"), 1007 },
  { "invalid UTF-8 across fragments", frame(0x01, "\xe2\x82") .. frame(0x80, "\x41"), 1007 },
  { "frame larger than max_message", frame(0x82, string.rep("b", 5000)), 1009 },
  { "message over max_message in fragments", frame(0x02, string.rep("b", 3000)) .. frame(0x80, string.rep("b", 3000)), 1009 },
  { "bad close code", frame(0x88, string.pack(">I2", 999)), 1002 },
}

test("malformed frames get the right close code; others keep being served", function()
  local server, closes = server_with_echo({ max_message = 4096 })
  local good = net.ws.connect("ws://127.0.0.1:" .. server.port .. "/")
  good:set_timeout(5000)
  for i, case in ipairs(CASES) do
    local name, bytes, want = case[1], case[2], case[3]
    local c = raw_client(server.port)
    c:write(bytes)
    test.eq(read_close(c), want, name)
    test.eq(c:read_all(), "", name .. ": connection closed after the close frame")
    c:close()
    good:send("still there " .. i)
    test.eq(good:recv().data, "still there " .. i, name)
  end
  -- the server script saw each failure as a close entry with the code it sent
  for _ = 1, 100 do
    if #closes >= #CASES then break end
    task.sleep(0.01)
  end
  local want = {}
  for i, case in ipairs(CASES) do want[i] = case[3] end
  test.eq(closes, want)
  good:close()
  server:close()
end)

test("a valid raw client works (masking, fragments, ping)", function()
  local server = server_with_echo()
  local c = raw_client(server.port)
  c:write(frame(0x01, "hel") .. frame(0x89, "p") .. frame(0x80, "lo"))
  -- pong first (answered while the message is incomplete), then the echo
  test.eq(c:read_exactly(3), "\x8a\x01p")
  test.eq(c:read_exactly(7), "\x81\x05hello")
  c:write(frame(0x88, string.pack(">I2", 1000)))
  test.eq(read_close(c), 1000)
  c:close()
  server:close()
end)

-- Valid close codes are echoed; invalid ones (Beast rejects some, accepts others such as 5000
-- and 65535) are answered with 1002, and the server script sees 1002 with a reason. 1014 is
-- valid but Beast 1.81 still treats it as reserved (answered with 1002): not checked here.
test("close codes: valid ones are echoed, invalid ones answered with 1002", function()
  local server, closes = server_with_echo()
  local valid = { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 3000, 4000, 4999 }
  local invalid = { 0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535 }
  local function answer(code)
    local c = raw_client(server.port)
    c:write(frame(0x88, string.pack(">I2", code) .. "why"))
    local got = read_close(c)
    test.eq(c:read_all(), "", code .. ": connection closed after the close frame")
    c:close()
    return got
  end
  for _, code in ipairs(valid) do test.eq(answer(code), code, "valid code " .. code) end
  for _, code in ipairs(invalid) do test.eq(answer(code), 1002, "invalid code " .. code) end
  for _ = 1, 100 do
    if #closes >= #valid + #invalid then break end
    task.sleep(0.01)
  end
  local want = {}
  for _, code in ipairs(valid) do want[#want + 1] = code end
  for _ = 1, #invalid do want[#want + 1] = 1002 end
  test.eq(closes, want)
  server:close()
end)

test("invalid close codes are reported to the server script as 1002 with a reason", function()
  local server = net.ws.listen(0)
  local got = {}
  proc.serve(server, function(c)
    local m = c:recv()
    got[#got + 1] = m
  end)
  for _, code in ipairs({ 1004, 5000 }) do
    local c = raw_client(server.port)
    c:write(frame(0x88, string.pack(">I2", code)))
    test.eq(read_close(c), 1002)
    c:close()
  end
  for _ = 1, 100 do
    if #got >= 2 then break end
    task.sleep(0.01)
  end
  test.eq({ got[1].type, got[1].code, got[1].clean }, { "close", 1002, false })
  test.matches(got[1].reason, "invalid close code")
  test.eq({ got[2].type, got[2].code, got[2].clean }, { "close", 1002, false })
  test.matches(got[2].reason, "invalid close code 5000")
  server:close()
end)

-- The server stops reading at the frame header of a message over max_message and sends 1009:
-- the raw client is still writing the rest. Without a lingering close the server would close
-- a socket with unread input, the kernel would answer with RST, and the client's write (or its
-- read of the close frame) would fail.
test("lingering close: a client still sending an oversized message reads 1009, then EOF", function()
  local server = server_with_echo({ max_message = 1024 })
  for _, n in ipairs({ 1536, 4096, 100 * 1024, 1024 * 1024 }) do
    local c = raw_client(server.port)
    c:write(frame(0x82, string.rep("m", n)))
    test.eq(read_close(c), 1009, n .. " bytes")
    c:write(frame(0x88, string.pack(">I2", 1009)))  -- our answer, as a client would
    test.eq(c:read_all(), "", n .. " bytes: EOF after the close frame")
    c:close()
  end
  server:close()
end)

-- ws:send hands a frame straight to the socket when nothing is queued; a frame the socket takes
-- only in part (the raw client below does not read yet) has its rest written before any later
-- frame, while the sender waits and other tasks run.
test("a frame the socket takes in part is finished first; the sender waits, others run", function()
  local big = string.rep(string.char(table.unpack((function()
    local t = {}
    for i = 0, 255 do t[#t + 1] = i end
    return t
  end)())), 64 * 1024) -- 16 MiB, every byte value
  local server = net.ws.listen(0)
  local seen = {}
  proc.serve(server, function(ws)
    ws:send("first")
    local sender = task.spawn(function() ws:send(big, "binary") end)
    task.yield()
    seen.queued = ws:stats().queued_bytes -- what the socket did not take at once
    local ticks, stop = 0, false
    task.spawn(function()
      while not stop do
        task.sleep(0.005)
        ticks = ticks + 1
      end
    end)
    ws:send("after")
    task.join(sender)
    stop = true
    seen.ticks = ticks
    ws:recv()
  end)
  local c = raw_client(server.port)
  c:set_timeout(10000)
  test.eq(c:read_exactly(7), "\x81\x05first")
  task.sleep(0.2)
  test.eq(c:read_exactly(10), "\x82\x7f" .. string.pack(">I8", #big))
  test.ok(c:read_exactly(#big) == big, "the large frame arrived whole")
  test.eq(c:read_exactly(7), "\x81\x05after")
  for _ = 1, 500 do
    if seen.ticks then break end
    task.sleep(0.01)
  end
  test.ok(seen.queued > 0 and seen.queued < #big, "queued " .. tostring(seen.queued))
  test.ok(seen.ticks > 0, "a timer ticked while the sender waited: " .. tostring(seen.ticks))
  c:write(frame(0x88, string.pack(">I2", 1000)))
  test.eq(read_close(c), 1000)
  c:close()
  server:close()
end)

-- The sender of a frame written in part stops waiting (timeout) and drops its string: the rest
-- still goes out whole, from the string kept for the frame.
test("a send that times out after a partial write still finishes its frame", function()
  local n = 16 * 1024 * 1024
  local server = net.ws.listen(0)
  local result
  proc.serve(server, function(ws)
    ws:set_timeout(50)
    local ok, err = pcall(function() ws:send(string.rep("ab", n // 2), "binary") end)
    result = ok and "sent" or err.code
    collectgarbage()
    collectgarbage()
    ws:set_timeout(5000)
    ws:recv()
  end)
  local c = raw_client(server.port)
  c:set_timeout(10000)
  for _ = 1, 500 do -- the client reads only once the send has timed out
    if result then break end
    task.sleep(0.01)
  end
  test.eq(result, "ETIMEDOUT")
  test.eq(c:read_exactly(10), "\x82\x7f" .. string.pack(">I8", n))
  test.ok(c:read_exactly(n) == string.rep("ab", n // 2), "the frame arrived whole")
  c:write(frame(0x88, string.pack(">I2", 1000)))
  test.eq(read_close(c), 1000)
  c:close()
  server:close()
end)
