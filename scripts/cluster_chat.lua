-- A WebSocket chat that spans every core and every machine: each worker process listens on the
-- same port (SO_REUSEPORT, the default under --workers) and joins the server's client group to
-- a Redis channel, so server:broadcast() reaches the clients of every worker and every other
-- moonwire attached to the same Redis.
--
--   redis-server --port 6379 &
--   moonwire --workers auto scripts/cluster_chat.lua [PORT] [REDIS_URL]
--   (defaults: 8080 and redis://127.0.0.1:6379; also the PORT / REDIS_URL variables)
--
-- Protocol: text messages. "/nick NAME" renames you, "/where" says which worker serves you,
-- anything else is broadcast to everyone as "NAME: text". Joining, you get
-- "* welcome guestN@wW (worker W of N)".
local port = math.tointeger(tonumber(arg[1] or process.env.PORT or 8080))
local redis_url = arg[2] or process.env.REDIS_URL or "redis://127.0.0.1:6379"
local wid = process.worker_id() or 1
local nworkers = math.max(process.workers(), 1)

local server = net.ws.listen("0.0.0.0" == process.env.HOST and "0.0.0.0" or "127.0.0.1", port)
local ok, cluster = pcall(server.cluster, server, redis_url, "cluster_chat")
if not ok then -- no Redis: fail (the open listener would keep a half-working worker alive)
  io.stderr:write("cluster_chat: ", tostring(cluster), "\n")
  os.exit(1)
end
print(("cluster chat: worker %d of %d on ws://%s/ (broadcasts through %s, channel %s)"):format(wid, nworkers,
  server:local_addr(), redis_url, cluster.channel))
io.stdout:flush()

local function handle(conn)
  local name = ("guest%d@w%d"):format(conn.id, wid)
  conn:send(("* welcome %s (worker %d of %d)"):format(name, wid, nworkers))
  server:broadcast("* " .. name .. " joined")
  while true do
    local msg = conn:recv()
    if msg == nil or msg.type == "close" then break end
    if msg.type == "text" then
      local nick = msg.data:match("^/nick%s+(%S+)")
      if nick then
        server:broadcast(("* %s is now %s"):format(name, nick))
        name = nick
      elseif msg.data == "/where" then
        conn:send(("* worker %d of %d, %d clients here"):format(wid, nworkers, server:client_count()))
      else
        server:broadcast(name .. ": " .. msg.data)
      end
    end
  end
  server:broadcast("* " .. name .. " left")
end

while true do
  local accepted, conn = pcall(server.accept, server)
  if not accepted then break end -- SIGINT/SIGTERM: the server closed
  task.spawn(function() pcall(handle, conn) end)
end
cluster:close()
