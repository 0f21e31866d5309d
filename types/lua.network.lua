---@meta lua.network
-- iLoveReact's `lua.network` (also `compat.ilovereact.network`): WebSocket clients and servers
-- by id, polled for events, with auto-reconnect. docs/compat.md.
-- Wrong types raise Lua's argument error; wrong values `EINVAL`.

---@class lua.network
local network = {}

---Options of `network.connect`.
---@class lua.network.ConnectOptions
---@field proxy? string `"host:port"` (SOCKS5, names resolved by the proxy) or a proxy URL
---@field reconnect? boolean reconnect with backoff 1 s -> 60 s (default true)

---An event of `network.poll()`: `type` is `"ws:open"`, `"ws:message"`, `"ws:error"`,
---`"ws:close"`, `"ws:server:ready"`, `"ws:peer:connect"`, `"ws:peer:message"`,
---`"ws:peer:disconnect"`.
---@class lua.network.Event
---@field type string
---@field id? any the connection id
---@field serverId? any
---@field clientId? integer
---@field data? string
---@field error? string
---@field code? integer
---@field reason? string
---@field port? integer
---@field retry_in? number seconds until the next attempt

---Idempotent (nothing to set up).
function network.init() end

---Connects `id` to `url` (reusing an id closes the old connection).
---@param id any
---@param url string
---@param opts? lua.network.ConnectOptions
function network.connect(id, url, opts) end

---Changes the reconnect schedule; returns the previous values (no arguments: reads them).
---@param initial_s? number
---@param max_s? number
---@return number initial_s
---@return number max_s
function network.set_backoff(initial_s, max_s) end

---Sends a text frame; `false` unless open.
---@param id any
---@param data string
---@return boolean
function network.send(id, data) end

---Closes `id` (no reconnect); codes 1000 or 3000-4999.
---@param id any
---@param code? integer
---@param reason? string
function network.close(id, code, reason) end

---The events since the last poll, in order; never waits.
---@return lua.network.Event[]
function network.poll() end

---Listens on `port` (host default 127.0.0.1); `false` when the port is busy.
---@param serverId any
---@param port integer
---@param host? string
---@return boolean
function network.listen(serverId, port, host) end

---Sends to every client of the server; returns how many it reached.
---@param serverId any
---@param data string
---@return integer
function network.broadcast(serverId, data) end

---`false` for an unknown client.
---@param serverId any
---@param clientId integer
---@param data string
---@return boolean
function network.sendToClient(serverId, clientId, data) end

---Closes every client (1001) and the server.
---@param serverId any
function network.stopServer(serverId) end

---Closes every connection and server.
function network.destroy() end

return network
