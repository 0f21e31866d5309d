-- HOOZi's WebSocket server (seeds 002/004): net.ws_server:listen(port, callbacks) → WsServer or
-- nil. Loopback only (127.0.0.1), 64 MiB messages, text frames out, text and binary in, pings
-- answered by the runtime without callbacks. Built on net.ws.listen: one task accepts, one task
-- per client reads; callbacks run as tasks (compat.callbacks).
local callbacks = require("compat.callbacks")
local ws_module = package.loaded["net.ws"]

local MAX_MESSAGE = 64 * 1024 * 1024
local KNOWN = { "on_open", "on_message", "on_error", "on_close" }

local M = {}
local Server = {}
Server.__index = function(self, k)
  if k == "id" then return rawget(self, "_state").id end
  return Server[k]
end
Server.__newindex = function(_, k)
  error("WsServer." .. tostring(k) .. " is read-only", 2)
end
Server.__name = "WsServer"
Server.__tostring = function(self)
  local s = rawget(self, "_state")
  return string.format("WsServer #%d (127.0.0.1:%d%s)", s.id, s.port, s.open and "" or ", closed")
end

local next_id = 0

local function state(self, fname)
  local s = type(self) == "table" and rawget(self, "_state")
  if not s then callbacks.type_error(fname, 1, "WsServer (call it with a colon)", self) end
  return s
end

local function check_client(fname, client)
  if math.type(client) ~= "integer" then callbacks.type_error(fname, 1, "client id (integer)", client) end
end

-- One client: read until its close entry.
local function serve(s, conn)
  local cid = conn.id
  s.clients[cid] = conn
  s.count = s.count + 1
  callbacks.run(s.cbs.on_open, cid)
  while true do
    local ok, m = pcall(conn.recv, conn)
    if not ok then
      callbacks.run(s.cbs.on_error, cid, tostring(m))
      pcall(conn.close, conn)
      break
    end
    if m == nil then break end
    if m.type == "text" or m.type == "binary" then
      callbacks.run(s.cbs.on_message, cid, m.data)
    elseif m.type == "close" then
      s.clients[cid] = nil
      s.count = s.count - 1
      callbacks.run(s.cbs.on_close, cid, m.code, m.reason)
      return
    end
  end
  if s.clients[cid] then
    s.clients[cid] = nil
    s.count = s.count - 1
  end
end

function M.listen(self, port, cbs)
  if self ~= M and self ~= package.loaded.net.ws_server then
    callbacks.type_error("net.ws_server:listen", 1, "net.ws_server (call it with a colon)", self)
  end
  callbacks.check_port("net.ws_server:listen", 1, port)
  if type(cbs) ~= "table" then callbacks.type_error("net.ws_server:listen", 2, "table of callbacks", cbs) end
  callbacks.check_table("net.ws_server:listen", cbs, KNOWN)
  local ok, server = pcall(ws_module.listen, "127.0.0.1", port, { max_message = MAX_MESSAGE })
  if not ok then return nil, server end  -- port busy (EADDRINUSE), ...
  next_id = next_id + 1
  local s = { id = next_id, port = server.port, server = server, cbs = cbs, clients = {}, count = 0, open = true }
  s.acceptor = task.spawn(function()
    while true do
      local aok, conn = pcall(server.accept, server)
      if not aok then
        if s.open and not callbacks.is_cancel(conn) then callbacks.run(cbs.on_error, 0, tostring(conn)) end
        return
      end
      task.spawn(serve, s, conn)
    end
  end)
  return setmetatable({ _state = s }, Server)
end

-- → true once the message is on its way; false for an unknown or closed client.
function Server.send(self, client, msg)
  local s = state(self, "WsServer:send")
  check_client("WsServer:send", client)
  if type(msg) ~= "string" then callbacks.type_error("WsServer:send", 2, "string", msg) end
  local c = s.clients[client]
  if not c or not c:is_open() then return false end
  return (pcall(c.send, c, msg))
end

function Server.broadcast(self, msg)
  local s = state(self, "WsServer:broadcast")
  if type(msg) ~= "string" then callbacks.type_error("WsServer:broadcast", 1, "string", msg) end
  if not s.open then return end
  s.server:broadcast(msg)
end

-- Starts the closing handshake with one client; on_close follows. Unknown clients are ignored.
function Server.disconnect(self, client, code, reason)
  local s = state(self, "WsServer:disconnect")
  check_client("WsServer:disconnect", client)
  if code ~= nil and math.type(code) ~= "integer" then callbacks.type_error("WsServer:disconnect", 2, "integer close code", code) end
  if reason ~= nil and type(reason) ~= "string" then callbacks.type_error("WsServer:disconnect", 3, "string", reason) end
  code, reason = code or 1000, reason or ""
  -- Validate now (ws:close raises EINVAL for 1004/1005/... and long reasons), close in a task.
  if not (code == 1000 or (code >= 3000 and code <= 4999) or (code >= 1001 and code <= 1014 and code ~= 1004 and code ~= 1005 and code ~= 1006)) then
    callbacks.bad_value("WsServer:disconnect", "invalid close code " .. code)
  end
  if #reason > 123 then callbacks.bad_value("WsServer:disconnect", "close reason must be at most 123 bytes") end
  local c = s.clients[client]
  if not c then return end
  task.spawn(function() pcall(c.close, c, code, reason) end)
end

-- Stops listening and closes every client (1001); their on_close callbacks follow. Idempotent.
function Server.close(self)
  local s = state(self, "WsServer:close")
  if not s.open then return end
  s.open = false
  s.server:close()
end

function Server.is_open(self) return state(self, "WsServer:is_open").open end
function Server.client_count(self) return state(self, "WsServer:client_count").count end
-- moonwire extra: the port actually bound (listen(0, ...) picks a free one).
function Server.port(self) return state(self, "WsServer:port").port end

return M
