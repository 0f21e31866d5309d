---@meta net
-- moonwire `net`: the networking namespace (`net.tcp`, `net.udp`, `net.ws`, `net.http`,
-- `net.url`, `net.socks5`, each also `require("net.tcp")`...), name resolution, and HOOZi's
-- colon-call WebSocket facade (`net.ws:connect`, `net.ws_server:listen`, docs/compat.md).
-- Errors of `net.resolve`: `ENOTFOUND`, `EAI_AGAIN`, `EINVAL` (bad family).

---@class net
net = {}

-- options: net.resolve
---Options of `net.resolve`.
---@class net.ResolveOptions
---@field family? 4|6|"inet"|"inet6"|"ipv4"|"ipv6"|"any" default `"any"`

---Resolves `host` without blocking the loop: the list of address strings (duplicates
---removed, in the resolver's order); IP literals are returned as they are.
---@async
---@param host string
---@param opts? net.ResolveOptions
---@return string[]
function net.resolve(host, opts) end

---@class net.socks5
net.socks5 = {}

-- options: net.socks5.connect
---Options of `net.socks5.connect`.
---@class net.socks5.ConnectOptions
---@field resolve? "proxy"|"local" who resolves the target name (default `"proxy"`: socks5h)
---@field timeout? number ms for the whole setup (default none)
---@field nodelay? boolean TCP_NODELAY (default true)

---A TCP connection to `target_host:target_port` through a SOCKS5 proxy (docs/proxies.md).
---Raises `ECONNREFUSED`/`ENOTFOUND`/`ETIMEDOUT` (the proxy), `EPROXYAUTH`, `EPROXY`.
---@async
---@param proxy_host string
---@param proxy_port integer
---@param target_host string
---@param target_port integer
---@param user? string
---@param pass? string
---@param opts? net.socks5.ConnectOptions
---@return net.tcp.Conn
function net.socks5.connect(proxy_host, proxy_port, target_host, target_port, user, pass, opts) end

---HOOZi's callbacks of `net.ws:connect(url, callbacks)`.
---@class net.ws.HooziCallbacks
---@field on_open? fun(id: integer)
---@field on_message? fun(id: integer, msg: string)
---@field on_error? fun(id: integer, err: string)
---@field on_close? fun(id: integer, code: integer, reason: string)

---HOOZi: `net.ws:send(id, msg)` (colon call only; a dot call is `EINVAL`). `false` before open,
---after close, for an unknown id.
---@param id integer
---@param msg string
---@return boolean
function net.ws:send(id, msg) end

---HOOZi: `net.ws:close(id)`: the closing handshake, then `on_close`.
---@param id integer
function net.ws:close(id) end

---HOOZi: `net.ws:is_open(id)`.
---@param id integer
---@return boolean
function net.ws:is_open(id) end

---HOOZi's WebSocket server namespace (`net.ws_server:listen`).
---@class net.ws_server
net.ws_server = {}

---HOOZi's server callbacks.
---@class net.ws_server.Callbacks
---@field on_open? fun(client: integer)
---@field on_message? fun(client: integer, msg: string)
---@field on_error? fun(client: integer, err: string)
---@field on_close? fun(client: integer, code: integer, reason: string)

---HOOZi: `net.ws_server:listen(port, callbacks)` on 127.0.0.1 → a server (`srv:send(client,
---msg)`, `srv:broadcast(msg)`, `srv:disconnect(client[, code[, reason]])`, `srv:close()`,
---`srv:is_open()`, `srv:client_count()`, `srv:port()`, `srv.id`), or `nil, err` when the port
---is busy.
---@param port integer
---@param callbacks net.ws_server.Callbacks
---@return table? server
---@return string? err
function net.ws_server:listen(port, callbacks) end

return net
