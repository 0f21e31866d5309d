-- HOOZi's WebSocket client (seeds 002/004): net.ws:connect(url, callbacks) → id, net.ws:send,
-- net.ws:close, net.ws:is_open. Reached through the colon-call facade (stdlib/compat.hpp), so
-- every function here gets the arguments after the module.
--
-- Each connection is one task (connect, then read until the close entry). Callbacks run as
-- tasks of their own (compat.callbacks): they may call blocking-looking functions, and one that
-- raises is reported on stderr without stopping the connection or the other callbacks.
local callbacks = require("compat.callbacks")
local ws_module = package.loaded["net.ws"]

local M = {}

local conns = {}   -- id -> {task, ws, open}
local next_id = 0
local CONNECT_TIMEOUT_MS = 10000  -- HOOZi's HTTP default; a black-holed host must not hang forever

local function check_id(fname, id)
  if math.type(id) ~= "integer" then callbacks.einval(fname, 1, "connection id (integer)", id) end
end

function M.connect(url, cbs)
  if type(url) ~= "string" then callbacks.einval("net.ws:connect", 1, "URL string", url) end
  if cbs ~= nil and type(cbs) ~= "table" then callbacks.einval("net.ws:connect", 2, "table of callbacks", cbs) end
  cbs = callbacks.check_table("net.ws:connect", cbs, { "on_open", "on_message", "on_error", "on_close" })
  next_id = next_id + 1
  local id = next_id
  local entry = { open = false }
  conns[id] = entry
  entry.task = task.spawn(function()
    local ok, ws = pcall(ws_module.connect, url, { timeout = CONNECT_TIMEOUT_MS })
    if not ok then
      conns[id] = nil  -- a failed connect leaves nothing behind
      if not callbacks.is_cancel(ws) then callbacks.run(cbs.on_error, id, tostring(ws)) end
      return
    end
    entry.ws, entry.open = ws, true
    callbacks.run(cbs.on_open, id)
    while true do
      local rok, m = pcall(ws.recv, ws)
      if not rok then
        conns[id] = nil
        ws:close()
        if not callbacks.is_cancel(m) then callbacks.run(cbs.on_error, id, tostring(m)) end
        return
      end
      if m == nil then break end
      if m.type == "text" or m.type == "binary" then
        callbacks.run(cbs.on_message, id, m.data)
      elseif m.type == "close" then
        entry.open = false
        conns[id] = nil
        callbacks.run(cbs.on_close, id, m.code, m.reason)
        break
      end -- ping/pong: answered by the runtime, no callback (as HOOZi)
    end
    conns[id] = nil
  end)
  return id
end

-- → true once queued for sending; false before open, after close, for an unknown id.
function M.send(id, msg)
  check_id("net.ws:send", id)
  if type(msg) ~= "string" then callbacks.einval("net.ws:send", 2, "string", msg) end
  local e = conns[id]
  if not e or not e.open or not e.ws:is_open() then return false end
  return (pcall(e.ws.send, e.ws, msg))
end

-- Closes (or, while connecting, abandons) the connection; on_close follows for an open one.
-- Unknown or already closed ids are ignored.
function M.close(id)
  check_id("net.ws:close", id)
  local e = conns[id]
  if not e then return end
  if not e.open then
    conns[id] = nil
    e.task:cancel()
    return
  end
  e.open = false
  task.spawn(function() pcall(e.ws.close, e.ws) end)
end

function M.is_open(id)
  check_id("net.ws:is_open", id)
  local e = conns[id]
  return e ~= nil and e.open and e.ws:is_open()
end

-- For tests and docs/compat.md: how many connections are still tracked.
function M._count()
  local n = 0
  for _ in pairs(conns) do n = n + 1 end
  return n
end

return M
