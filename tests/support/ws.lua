-- Test support for net.ws: servers the WebSocket tests share.
-- Usage: local wsh = dofile("tests/support/ws.lua")
local proc = dofile("tests/support/proc.lua")
local M = {}

-- A server whose scripts only read; every close entry lands in `closes`.
function M.reading_server(opts)
  local server = net.ws.listen(0, opts)
  local closes = {}
  proc.serve(server, function(c)
    while true do
      local m = c:recv()
      if not m then return end
      if m.type == "close" then closes[#closes + 1] = m end
    end
  end)
  return server, closes
end

return M
