---@meta websocket
-- Xoron's `websocket` global (also `require("websocket")`, `compat.xoron_websocket`):
-- WebSocket clients by id with callbacks or polling, over net.ws. docs/compat.md.
-- Wrong types raise Lua's argument error; wrong values (`unknown callback 'on_mesage'`) `EINVAL`.

---@class websocket
websocket = {}

---Callbacks of `websocket.connect` (no id argument), plus headers for the handshake.
---@class websocket.Callbacks
---@field on_message? fun(data: string)
---@field on_open? fun()
---@field on_close? fun(code: integer, reason: string)
---@field on_error? fun(err: string)
---@field headers? table<string, string> sent with the handshake

---@alias websocket.State "connecting"|"connected"|"closing"|"disconnected"|"error"

---An entry of `websocket.list()`.
---@class websocket.Entry
---@field id integer
---@field url string
---@field state websocket.State

---Starts connecting (certificates verified for `wss://`); returns the connection's id.
---@param url string
---@param callbacks? websocket.Callbacks
---@return integer id
function websocket.connect(url, callbacks) end

---Sends a text frame; `false` unless connected.
---@param id integer
---@param data string
---@return boolean
function websocket.send(id, data) end

---Starts closing; `true` when a connecting or connected connection starts closing.
---@param id integer
---@return boolean
function websocket.close(id) end

---@param id integer
---@return boolean
function websocket.is_connected(id) end

---Drains the messages received since the last call (queued only without `on_message`).
---@param id integer
---@return string[]
function websocket.get_messages(id) end

---The state (`"disconnected"` for an unknown id).
---@param id integer
---@return websocket.State
function websocket.get_state(id) end

---The URL, or nil for an unknown id.
---@param id integer
---@return string?
function websocket.get_url(id) end

---The connections, ordered by id.
---@return websocket.Entry[]
function websocket.list() end

---Closes every connection.
function websocket.disconnect_all() end

return websocket
