-- moonwire demo: one plain Lua file runs a TCP echo server and 100 clients at once.
-- Every call below looks blocking; each one suspends only its own task.
local N = 100

local server = net.tcp.listen("127.0.0.1", 0)
print(("echo server listening on %s"):format(server:local_addr()))

local served, open, peak = 0, 0, 0
local acceptor = task.spawn(function()
  while true do
    local ok, conn = pcall(server.accept, server)
    if not ok then return end -- server closed
    task.spawn(function()
      served = served + 1
      open = open + 1
      peak = math.max(peak, open)
      while true do
        local line = conn:read_line()
        if not line then break end
        time.sleep(50) -- a slow handler: 50 ms per line, yet clients run concurrently
        conn:write(line:upper() .. "\n")
      end
      conn:close()
      open = open - 1
    end)
  end
end)

local started = time.monotonic()
local clients = {}
for i = 1, N do
  clients[i] = task.spawn(function()
    local conn = net.tcp.connect("127.0.0.1", server.port, { timeout = 5000 })
    local replies = {}
    for j = 1, 3 do
      conn:write(("client %d message %d\n"):format(i, j))
      replies[j] = conn:read_line()
    end
    conn:close()
    return replies
  end)
end

local total = 0
for i = 1, N do
  local replies = clients[i]:join()
  total = total + #replies
  if i <= 2 then print(("client %d got: %s"):format(i, table.concat(replies, " | "))) end
end
local elapsed = time.monotonic() - started
server:close()
acceptor:join()

print(("%d clients, %d connections served, %d echoes in %.2f s"):format(N, served, total, elapsed))
print(("%d connections were being handled at the same time at the peak"):format(peak))
print(("sequentially this would take at least %.1f s (%d x 3 x 50 ms)"):format(N * 3 * 0.05, N))
