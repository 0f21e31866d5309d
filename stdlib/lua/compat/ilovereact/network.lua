-- iLoveReact's network.lua (seed 000), require("lua.network"): WebSocket clients with
-- auto-reconnect and WebSocket servers, reported as events drained by poll() once per frame.
-- Every connection and server is one task (plus one per server client) that appends events to a
-- queue; poll() takes them without waiting. A script with its own lua/network.lua gets that one.
local callbacks = require("compat.callbacks")
local ws_module = require("net.ws")

local M = {}

local KNOWN_OPTS = { "proxy", "reconnect" }
-- Reconnect backoff (seconds): doubles from `initial` up to `max`, back to `initial` after an open.
local backoff = { initial = 1, max = 60 }
local CONNECT_TIMEOUT_MS = 15000  -- the seed's SOCKS5/HTTP timeout

local events, ev_head, ev_tail = {}, 1, 0
local conns = {}    -- id -> {url, opts, task, ws, open, closed_by_user, delay}
local servers = {}  -- serverId -> {server, clients = {clientId -> conn}, next_client, task}

local function emit(ev)
  ev_tail = ev_tail + 1
  events[ev_tail] = ev
end

function M.init()
  -- Idempotent: calling it again (love.load after a reload) keeps what is running.
  return true
end

-- "host:port" (the Tor example) is a SOCKS5 proxy resolving names itself (.onion); a URL is used
-- as given (http://, socks5://, socks5h://).
local function proxy_url(p)
  if p == nil then return nil end
  if type(p) ~= "string" then callbacks.bad_value("network.connect", "proxy must be a string") end
  if p:find("://", 1, true) then return p end
  if not p:match("^[^:]+:%d+$") and not p:match("^%[.+%]:%d+$") then
    callbacks.bad_value("network.connect", "proxy must be \"host:port\" or a proxy URL (got '" .. p .. "')")
  end
  return "socks5h://" .. p
end

local function run(id, c)
  while true do
    local ok, ws = pcall(ws_module.connect, c.url, { timeout = CONNECT_TIMEOUT_MS, proxy = c.proxy })
    if not ok then
      if callbacks.is_cancel(ws) then return end
      emit({ type = "ws:error", id = id, error = tostring(ws), retry_in = c.reconnect and c.delay or nil })
    else
      c.ws, c.open = ws, true
      c.delay = backoff.initial  -- a successful open resets the backoff
      emit({ type = "ws:open", id = id })
      local code, reason = 1006, ""
      while true do
        local rok, m = pcall(ws.recv, ws)
        if not rok then
          if callbacks.is_cancel(m) then return end
          emit({ type = "ws:error", id = id, error = tostring(m) })
          break
        end
        if m == nil then break end
        if m.type == "text" or m.type == "binary" then
          emit({ type = "ws:message", id = id, data = m.data })
        elseif m.type == "close" then
          code, reason = m.code, m.reason
          break
        end
      end
      c.open, c.ws = false, nil
      if c.closed_by_user or not c.reconnect then
        conns[id] = nil
        emit({ type = "ws:close", id = id, code = code, reason = reason })
        return
      end
      emit({ type = "ws:close", id = id, code = code, reason = reason, retry_in = c.delay })
    end
    if not c.reconnect or c.closed_by_user then
      conns[id] = nil
      return
    end
    task.sleep(c.delay)
    c.delay = math.min(c.delay * 2, backoff.max)
  end
end

function M.connect(id, url, opts)
  if id == nil then callbacks.type_error("network.connect", 1, "connection id", id) end
  if type(url) ~= "string" then callbacks.type_error("network.connect", 2, "string", url) end
  if opts ~= nil and type(opts) ~= "table" then callbacks.type_error("network.connect", 3, "table", opts) end
  for k in pairs(opts or {}) do
    local found = false
    for _, n in ipairs(KNOWN_OPTS) do if k == n then found = true end end
    if not found then
      local hint = callbacks.closest(tostring(k), KNOWN_OPTS)
      callbacks.bad_value("network.connect", "unknown option '" .. tostring(k) .. "'" ..
        (hint and (" (did you mean '" .. hint .. "'?)") or ""))
    end
  end
  opts = opts or {}
  if opts.reconnect ~= nil and type(opts.reconnect) ~= "boolean" then
    callbacks.bad_value("network.connect", "reconnect must be a boolean")
  end
  if not url:match("^[wW][sS][sS]?://") then
    callbacks.bad_value("network.connect", "URL must start with ws:// or wss:// (got '" .. url .. "')")
  end
  if conns[id] then M.close(id) end  -- reusing an id replaces the old connection
  local c = { url = url, proxy = proxy_url(opts.proxy), reconnect = opts.reconnect ~= false,
              delay = backoff.initial, open = false }
  conns[id] = c
  c.task = task.spawn(run, id, c)
  return true
end

-- → true once written; false when the connection is not open.
function M.send(id, data)
  if type(data) ~= "string" then callbacks.type_error("network.send", 2, "string", data) end
  local c = conns[id]
  if not c or not c.open or not c.ws:is_open() then return false end
  return (pcall(c.ws.send, c.ws, data))
end

-- Closes, disables reconnect; also before open (then the attempt or the wait is abandoned).
-- ws:close follows in both cases.
function M.close(id, code, reason)
  if code ~= nil and math.type(code) ~= "integer" then callbacks.type_error("network.close", 2, "integer", code) end
  if reason ~= nil and type(reason) ~= "string" then callbacks.type_error("network.close", 3, "string", reason) end
  code, reason = code or 1000, reason or ""
  if not (code == 1000 or (code >= 3000 and code <= 4999)) then
    callbacks.bad_value("network.close", "close code must be 1000 or 3000..4999 (got " .. code .. ")")
  end
  if #reason > 123 then callbacks.bad_value("network.close", "close reason must be at most 123 bytes") end
  local c = conns[id]
  if not c then return false end
  c.closed_by_user = true
  if c.open then
    local ws = c.ws
    task.spawn(function() pcall(ws.close, ws, code, reason) end)  -- ws:close event from run()
  else
    conns[id] = nil
    c.task:cancel()
    emit({ type = "ws:close", id = id, code = code, reason = reason })
  end
  return true
end

function M.poll()
  local out = {}
  for i = ev_head, ev_tail do
    out[#out + 1] = events[i]
    events[i] = nil
  end
  ev_head = ev_tail + 1
  return out
end

-- Servers -------------------------------------------------------------------------------------

local function serve_client(serverId, s, conn)
  s.next_client = s.next_client + 1
  local cid = s.next_client
  s.clients[cid] = conn
  emit({ type = "ws:peer:connect", serverId = serverId, clientId = cid })
  local code, reason = 1006, ""
  while true do
    local ok, m = pcall(conn.recv, conn)
    if not ok or m == nil then break end
    if m.type == "text" or m.type == "binary" then
      emit({ type = "ws:peer:message", serverId = serverId, clientId = cid, data = m.data })
    elseif m.type == "close" then
      code, reason = m.code, m.reason
      break
    end
  end
  s.clients[cid] = nil
  emit({ type = "ws:peer:disconnect", serverId = serverId, clientId = cid, code = code, reason = reason })
end

-- Starts a server; ws:server:ready (with the port bound: 0 picks a free one) or ws:error.
function M.listen(serverId, port, host)
  if serverId == nil then callbacks.type_error("network.listen", 1, "server id", serverId) end
  callbacks.check_port("network.listen", 2, port)
  if host ~= nil and type(host) ~= "string" then callbacks.type_error("network.listen", 3, "string", host) end
  if servers[serverId] then callbacks.bad_value("network.listen", "server '" .. tostring(serverId) .. "' is already listening") end
  local ok, server = pcall(ws_module.listen, host or "127.0.0.1", port)
  if not ok then
    emit({ type = "ws:error", serverId = serverId, error = tostring(server) })
    return false
  end
  local s = { server = server, clients = {}, next_client = 0 }
  servers[serverId] = s
  emit({ type = "ws:server:ready", serverId = serverId, port = server.port })
  s.task = task.spawn(function()
    while true do
      local aok, conn = pcall(server.accept, server)
      if not aok then return end
      task.spawn(serve_client, serverId, s, conn)
    end
  end)
  return true
end

function M.broadcast(serverId, data)
  if type(data) ~= "string" then callbacks.type_error("network.broadcast", 2, "string", data) end
  local s = servers[serverId]
  if not s then return 0 end
  return s.server:broadcast(data)
end

function M.sendToClient(serverId, clientId, data)
  if type(data) ~= "string" then callbacks.type_error("network.sendToClient", 3, "string", data) end
  local s = servers[serverId]
  local c = s and s.clients[clientId]
  if not c or not c:is_open() then return false end
  return (pcall(c.send, c, data))
end

-- Stops the server: every client gets a 1001 close, then ws:peer:disconnect for each.
function M.stopServer(serverId)
  local s = servers[serverId]
  if not s then return false end
  servers[serverId] = nil
  s.server:close()
  return true
end

function M.destroy()
  for id in pairs(conns) do M.close(id) end
  for serverId in pairs(servers) do M.stopServer(serverId) end
end

-- moonwire extension (docs/compat.md): the reconnect schedule, for tests and impatient clients.
-- set_backoff(initial_s, max_s) → previous initial, previous max; set_backoff() just reads them.
function M.set_backoff(initial, max)
  local pi, pm = backoff.initial, backoff.max
  if initial ~= nil then
    if type(initial) ~= "number" or initial ~= initial or initial <= 0 then callbacks.bad_value("network.set_backoff", "initial must be a positive number") end
    if type(max) ~= "number" or max ~= max or max < initial then callbacks.bad_value("network.set_backoff", "max must be a number >= initial") end
    backoff.initial, backoff.max = initial, max
  end
  return pi, pm
end

return M
