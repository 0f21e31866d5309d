// WebSocket frames into a moonwire WebSocket server (net.ws.listen): a raw TCP client in the same
// engine does the opening handshake (offering permessage-deflate when the flag byte says so),
// then sends the input (after the flag byte) as frame bytes and half-closes. The server reads
// messages until the connection ends: errors must be clean, never a crash, a hang or a leak.
#include <cstring>

#include "tools/fuzz/engine_harness.hpp"

static const char* kScript = R"lua(
local input = ...
local flags = input:byte(1) or 0
local frames = input:sub(2)
local srv = net.ws.listen("127.0.0.1", 0, { max_message = 1 << 16, compression = flags & 1 ~= 0 })
local server = task.spawn(function()
  local ws = srv:accept()
  srv:close()
  while true do
    local ok, m = pcall(ws.recv, ws)
    if not ok then
      assert(type(m) ~= "string" or not m:find("attempt to"), m)
      break
    end
    if m == nil then break end
    assert(type(m.type) == "string")
  end
  pcall(ws.close, ws)
end)
local c = net.tcp.connect("127.0.0.1", srv.port)
c:write("GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" ..
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" ..
  ((flags & 1 ~= 0) and "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" or "") .. "\r\n")
local status = c:read_line()
assert(status and status:find("^HTTP/1.1 101"), "handshake failed: " .. tostring(status))
repeat local line = c:read_line() until line == nil or line == ""
pcall(c.write, c, frames)
pcall(c.shutdown, c)
while true do
  local ok, d = pcall(c.read, c, 65536)
  if not ok or d == nil then break end
end
c:close()
server:join()
)lua";

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::run_script("fuzz_ws_server", kScript, data, size);
  return 0;
}
