// HTTP responses into the client (net.http): a moonwire TCP server in the same engine answers
// the client's request with the input (after one flag byte) and closes. The request must end
// with a response or a clean error (an error object with a code), never a crash, a hang or a leak.
#include <cstring>

#include "tools/fuzz/engine_harness.hpp"

static const char* kScript = R"lua(
local input = ...
local flags = input:byte(1) or 0
local response = input:sub(2)
local srv = net.tcp.listen("127.0.0.1", 0)
local server = task.spawn(function()
  local c = srv:accept()
  srv:close()
  while true do  -- the request head (no body: GET/HEAD)
    local ok, line = pcall(c.read_line, c)
    if not ok or line == nil or line == "" then break end
  end
  pcall(c.write, c, response)
  c:close()
end)
local opts = {
  method = (flags & 1 ~= 0) and "HEAD" or "GET",
  decompress = flags & 2 == 0,
  redirects = 0,
  timeout = 5000,
}
opts.url = "http://127.0.0.1:" .. srv.port .. "/x"
local ok, r = pcall(http.request, opts)
if ok then
  assert(type(r.status) == "number" and type(r.body) == "string" and type(r.headers) == "table")
else
  assert(type(r) == "table" or type(r) == "userdata", "error is not an error object: " .. tostring(r))
  assert(r.code and r.code ~= "ETIMEDOUT", "unexpected error: " .. tostring(r))
end
server:join()
)lua";

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::run_script("fuzz_http_client", kScript, data, size);
  return 0;
}
