-- Soak-test control port, loaded into a moonwire server with `-l` (tools/soak/run.sh does
-- `moonwire -e "package.path=..." -l control SCRIPT`) or `require("control")`.
-- Listens on a free 127.0.0.1 port, prints "CONTROL <port>" on stderr, and answers one line per
-- connection, then closes it:
--   "gc\n"   -> full garbage collection (twice, so finalizers' garbage goes too), then
--               "lua_bytes=<n>" (collectgarbage("count") in bytes)
--   "stat\n" -> "lua_bytes=<n>" without collecting
-- The soak runner connects with bash's /dev/tcp right before it samples /proc/PID: the sample
-- then sees memory that survives a full collection (a leak) apart from garbage not collected
-- yet (GC pacing). The control connection is closed before the sample is taken.
local server = net.tcp.listen("127.0.0.1", 0)
io.stderr:write("CONTROL ", server.port, "\n")
io.stderr:flush()

local function serve(conn)
  local line = conn:read_line()
  if line == "gc" then
    collectgarbage("collect")
    collectgarbage("collect")
  end
  conn:write(("lua_bytes=%d\n"):format(math.floor(collectgarbage("count") * 1024)))
end

task.spawn(function()
  while true do
    local ok, conn = pcall(server.accept, server)
    if not ok then break end -- closed by the shutdown
    pcall(serve, conn)
    conn:close()
  end
end)
