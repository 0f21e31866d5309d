-- Xoron's `websocket` global (seed 003), also require("websocket"): connect(url, callbacks) → id,
-- send, close, is_connected, get_messages, get_state, get_url, list, disconnect_all.
-- Callbacks take no id (on_message(data), on_open(), on_close(code, reason), on_error(err)) and
-- run as tasks (compat.callbacks). Unlike Xoron, wss:// certificates are verified (net.ws's
-- default): a script talking to a self-signed server gets on_error with the ECERT message.
local callbacks = require("compat.callbacks")
local ws_module = require("net.ws")

local M = {}

local KNOWN = { "on_message", "on_open", "on_close", "on_error" }
local CONNECT_TIMEOUT_MS = 30000
-- Received messages wait for get_messages() only when there is no on_message callback (with one,
-- a script that never polls would grow the queue without bound); at most this many are kept,
-- the oldest dropped first.
local MAX_QUEUED = 10000

local conns = {}   -- id -> {id, url, state, ws, task, queue, head, tail, cbs}
local next_id = 0
-- The final state of the last connections that ended ("disconnected" or "error"), so get_state
-- answers after the end; bounded, so a script reconnecting in a loop does not grow memory.
local KEEP_FINISHED = 1000
local finished, finished_order, f_head, f_tail = {}, {}, 1, 0

local function check_id(fname, id)
  if math.type(id) ~= "integer" then callbacks.type_error(fname, 1, "connection id (integer)", id) end
end

-- A connection in a final state with nothing left to read is forgotten.
local function settle(c)
  if (c.state == "disconnected" or c.state == "error") and c.head > c.tail and conns[c.id] then
    conns[c.id] = nil
    finished[c.id] = c.state
    f_tail = f_tail + 1
    finished_order[f_tail] = c.id
    if f_tail - f_head + 1 > KEEP_FINISHED then
      finished[finished_order[f_head]] = nil
      finished_order[f_head] = nil
      f_head = f_head + 1
    end
  end
end

local function enqueue(c, data)
  c.tail = c.tail + 1
  c.queue[c.tail] = data
  if c.tail - c.head + 1 > MAX_QUEUED then
    c.queue[c.head] = nil
    c.head = c.head + 1
  end
end

local function run(c, opts)
  local ok, ws = pcall(ws_module.connect, c.url, opts)
  if not ok then
    if callbacks.is_cancel(ws) then return end
    if c.state == "closing" then  -- closed while connecting: the failure is moot
      c.state = "disconnected"
      settle(c)
      return
    end
    c.state = "error"
    settle(c)
    callbacks.run(c.cbs.on_error, tostring(ws))
    return
  end
  if c.state == "closing" then  -- close() while connecting: never report open
    pcall(ws.close, ws)
    c.state = "disconnected"
    settle(c)
    callbacks.run(c.cbs.on_close, ws.close_code or 1000, ws.close_reason or "")
    return
  end
  c.ws, c.state = ws, "connected"
  callbacks.run(c.cbs.on_open)
  while true do
    local rok, m = pcall(ws.recv, ws)
    if not rok then
      c.state = "error"
      pcall(ws.close, ws)
      settle(c)
      callbacks.run(c.cbs.on_error, tostring(m))
      return
    end
    if m == nil then break end
    if m.type == "text" or m.type == "binary" then
      if c.cbs.on_message then callbacks.run(c.cbs.on_message, m.data) else enqueue(c, m.data) end
    elseif m.type == "close" then
      c.state = "disconnected"
      settle(c)
      callbacks.run(c.cbs.on_close, m.code, m.reason)
      return
    end
  end
  c.state = "disconnected"
  settle(c)
end

function M.connect(url, cbs)
  if type(url) ~= "string" then callbacks.type_error("websocket.connect", 1, "string", url) end
  if cbs ~= nil and type(cbs) ~= "table" then callbacks.type_error("websocket.connect", 2, "table of callbacks", cbs) end
  -- Xoron's "Protocol Upgrade" example passes headers with the callbacks: honoured.
  local headers = cbs and cbs.headers
  local only = {}
  for k, v in pairs(cbs or {}) do if k ~= "headers" then only[k] = v end end
  if headers ~= nil and type(headers) ~= "table" then callbacks.bad_value("websocket.connect", "headers must be a table") end
  callbacks.check_table("websocket.connect", only, KNOWN)
  if not url:match("^[wW][sS][sS]?://") then
    callbacks.bad_value("websocket.connect", "URL must start with ws:// or wss:// (got '" .. url .. "')")
  end
  next_id = next_id + 1
  local c = { id = next_id, url = url, state = "connecting", cbs = only, queue = {}, head = 1, tail = 0 }
  conns[c.id] = c
  c.task = task.spawn(run, c, { timeout = CONNECT_TIMEOUT_MS, headers = headers })
  return c.id
end

-- → true once the frame is written; false unless connected.
function M.send(id, data)
  check_id("websocket.send", id)
  if type(data) ~= "string" then callbacks.type_error("websocket.send", 2, "string", data) end
  local c = conns[id]
  if not c or c.state ~= "connected" then return false end
  return (pcall(c.ws.send, c.ws, data))
end

-- → true when a connecting or connected connection starts closing; false otherwise.
function M.close(id)
  check_id("websocket.close", id)
  local c = conns[id]
  if not c then return false end
  if c.state == "connecting" then
    c.state = "closing"
    return true
  end
  if c.state ~= "connected" then return false end
  c.state = "closing"
  task.spawn(function() pcall(c.ws.close, c.ws) end)
  return true
end

function M.is_connected(id)
  check_id("websocket.is_connected", id)
  local c = conns[id]
  return c ~= nil and c.state == "connected"
end

-- Drains the messages received since the last call (only queued without on_message).
function M.get_messages(id)
  check_id("websocket.get_messages", id)
  local c = conns[id]
  local out = {}
  if not c then return out end
  for i = c.head, c.tail do
    out[#out + 1] = c.queue[i]
    c.queue[i] = nil
  end
  c.head = c.tail + 1
  settle(c)
  return out
end

function M.get_state(id)
  check_id("websocket.get_state", id)
  local c = conns[id]
  return c and c.state or finished[id] or "disconnected"
end

function M.get_url(id)
  check_id("websocket.get_url", id)
  local c = conns[id]
  return c and c.url
end

-- The connections not yet disconnected (or with messages left to read), ordered by id.
function M.list()
  local out = {}
  for id, c in pairs(conns) do
    if c.state ~= "disconnected" and c.state ~= "error" then out[#out + 1] = { id = id, url = c.url, state = c.state } end
  end
  table.sort(out, function(a, b) return a.id < b.id end)
  return out
end

function M.disconnect_all()
  for id in pairs(conns) do M.close(id) end
end

return M
