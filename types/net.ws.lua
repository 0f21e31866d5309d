---@meta net.ws
-- moonwire `net.ws`: WebSocket clients (`ws://`, `wss://`) and servers, CopperMoon's API on
-- Boost.Beast. docs/net.ws.md. Every call suspends only the calling task. A closed connection
-- is not an error: `recv()` returns a `close` entry, then `nil`.
-- Errors: `closed`, `busy`, `ETIMEDOUT`, `EMSGSIZE`, `EINVAL`, `EHANDSHAKE` (`err.status`,
-- `err.headers`, `err.body`), `ECERT`, `ETLS`, `EPROXY`, `ECONNREFUSED`, `ENOTFOUND`, ...

---@class net.ws
net.ws = {}

-- options: net.ws.connect
---Options of `net.ws.connect`.
---@class net.ws.ConnectOptions
---@field timeout? number ms for the whole connect: DNS + TCP + TLS + WebSocket handshake
---@field headers? table<string, string> extra request headers
---@field protocols? string[] subprotocols offered; the chosen one is `ws.protocol`
---@field origin? string `Origin` header to send
---@field compression? boolean offer permessage-deflate (default false)
---@field max_message? integer largest message in or out, bytes (default 64 MiB; bigger closes with 1009)
---@field ping_interval? number ms between keepalive pings (default none); no answer drops the connection (1006)
---@field close_timeout? number ms `close()` waits for the peer's close frame (default 5000)
---@field max_queue? integer only used by server broadcasts (default 1 MiB)
---@field tls? net.TlsOptions TLS options for `wss://` (verification on by default)
---@field proxy? string `"http://..."`, `"socks5://..."`, `"socks5h://..."` (docs/proxies.md)

-- options: upgrade.cpp:known
---Options of `req:upgrade` (the HTTP server) and `app:ws`; with more, of `net.ws.listen`.
---@class net.ws.UpgradeOptions
---@field protocols? string[] subprotocols supported, in order of preference
---@field origins? string[]|fun(origin: string?, req: {path: string, query: string?, headers: table<string, string>, peer: string}): boolean who may connect, by `Origin`: a list (`"https://app.example"`, `"app.example:8080"`, `"*"` for all) or a function (no I/O); default same-origin (no `Origin` is accepted)
---@field max_message? integer largest incoming message (default 64 MiB; bigger closes with 1009)
---@field compression? boolean accept permessage-deflate (default false)
---@field handshake_timeout? number ms for TLS + WebSocket handshakes (default 10000)
---@field max_connections? integer open connections allowed; extra handshakes get 503 (default unlimited)
---@field max_queue? integer per-client bound for `broadcast`, bytes (default 1 MiB; over it: close 1008)
---@field ping_interval? number as for clients, for every connection
---@field close_timeout? number as for clients (default 5000)
---@field group? net.ws.Group a group the accepted connections join

-- options: net.ws.listen
---Options of `net.ws.listen`.
---@class net.ws.ListenOptions: net.ws.UpgradeOptions
---@field tls? net.TlsOptions `{cert_file, key_file}`: a `wss://` server
---@field backlog? integer listen queue length
---@field reuseport? boolean SO_REUSEPORT (default false)
---@field ipv6_only? boolean default false

---@alias net.ws.MessageType "text"|"binary"|"ping"|"pong"|"close"

---An entry `ws:recv()` returns.
---@class net.ws.Message
---@field type net.ws.MessageType
---@field data string the payload (the reason for `close`)
---@field code? integer `close` only: the close code
---@field reason? string `close` only
---@field clean? boolean `close` only: whether the closing handshake completed

---The handshake response of a client connection.
---@class net.ws.Response
---@field status integer `101`
---@field headers table<string, string> lower-case names

---Connects to `ws://host[:port][/path][?query]` or `wss://...`.
---`EINVAL`, `ECONNREFUSED`, `ENOTFOUND`, `ETIMEDOUT`, `ECERT`, `ETLS`, `EHANDSHAKE`, `EPROXY`.
---@async
---@param url string
---@param opts? net.ws.ConnectOptions
---@return net.ws.Conn
function net.ws.connect(url, opts) end

---Listens on `host` (default `"127.0.0.1"`) and `port` (0: a free one). `listen(port[, opts])`
---works too. Handshakes run in the background.
---@param host string|integer
---@param port? integer|net.ws.ListenOptions
---@param opts? net.ws.ListenOptions
---@return net.ws.Server
function net.ws.listen(host, port, opts) end

---A client group: server-side connections with ids, a count and a broadcast.
---@return net.ws.Group
function net.ws.group() end

-- metatable: moonwire.ws.conn
---A WebSocket connection (client or server side); supports `<close>`.
---@class net.ws.Conn
---@field protocol string? the subprotocol chosen
---@field id integer small unique integer (server side: from its group)
---@field url string what was requested
---@field path string
---@field query string?
---@field headers table<string, string> server side: the request headers; client side: the response's
---@field response? net.ws.Response client side: the handshake response
---@field close_code integer? after the end
---@field close_reason string? after the end
local Conn = {}

---Sends a message once the frame is with the kernel. `closed` once a close was sent or
---received; `EMSGSIZE` over `max_message`; `ETIMEDOUT`.
---@async
---@param data string
---@param type? "text"|"binary"|"ping"|"pong" default `"text"`
function Conn:send(data, type) end

---The next entry; after the `close` entry, `nil`. `busy` for a second reader.
---@async
---@return net.ws.Message?
function Conn:recv() end

---`recv` without waiting: an entry, or `nil, "empty"`, or `nil, "closed"`.
---@return net.ws.Message?
---@return "empty"|"closed"|nil
function Conn:try_recv() end

---Sends a ping (payload at most 125 bytes); the pong shows up in `recv`.
---@async
---@param data? string
function Conn:ping(data) end

---Sends an unsolicited pong.
---@async
---@param data? string
function Conn:pong(data) end

---Closes after the queued messages and waits for the peer's answer (or `close_timeout`).
---Codes 1000-1003, 1007-1014, 3000-4999 (default 1000); `reason` at most 123 bytes.
---@async
---@param code? integer
---@param reason? string
---@return true
function Conn:close(code, reason) end

---Deadline (ms) for each `recv`, `send`, `ping`, `pong` (`ETIMEDOUT`); `nil` removes it.
---@param ms number?
function Conn:set_timeout(ms) end

---@return string
function Conn:peer_addr() end

---@return string
function Conn:local_addr() end

---`true` until a close was sent or received.
---@return boolean
function Conn:is_open() end

---@class net.ws.ConnStats
---@field read_buffer integer bytes of read buffer held
---@field queued integer frames waiting to be written
---@field queued_bytes integer their payload bytes

---Diagnostics of the connection's buffers and queue; works on a closed connection too.
---@return net.ws.ConnStats
function Conn:stats() end

-- metatable: moonwire.ws.server
---A WebSocket server (`net.ws.listen`).
---@class net.ws.Server
---@field port integer
---@field host string
local Server = {}

---The next connection, handshake done. `ETIMEDOUT`, `closed`, `busy`.
---@async
---@param timeout_ms? number
---@return net.ws.Conn
function Server:accept(timeout_ms) end

---Queues the message to every open accepted connection without waiting; returns how many it
---reached. A client over `max_queue` is closed with 1008.
---@param data string
---@param type? "text"|"binary"
---@return integer
function Server:broadcast(data, type) end

---Joins the server's clients to a cluster over Redis pub/sub (docs/cluster.md): the cluster's
---`broadcast` reaches the clients of every process attached to `channel`. Suspends until
---subscribed; `ECONNREFUSED`, `EINVAL` (already in a cluster, bad arguments).
---@async
---@param redis string|redis.Client a URL or a connected client
---@param channel string
---@param opts? net.ws.ClusterOptions
---@return net.ws.Cluster
function Server:cluster(redis, channel, opts) end

---The open accepted connections, ordered by id.
---@return net.ws.Conn[]
function Server:clients() end

---Their number.
---@return integer
function Server:client_count() end

---Stops listening and closes every connection with 1001.
function Server:close() end

---@return string
function Server:local_addr() end

-- metatable: moonwire.ws.group
---A client group (`net.ws.group()`).
---@class net.ws.Group
local Group = {}

---As `server:broadcast`, to every open member.
---@param data string
---@param type? "text"|"binary"
---@return integer
function Group:broadcast(data, type) end

---The open members, ordered by id.
---@return net.ws.Conn[]
function Group:clients() end

---@return integer
function Group:client_count() end

---As `server:cluster`, for the group's members.
---@async
---@param redis string|redis.Client
---@param channel string
---@param opts? net.ws.ClusterOptions
---@return net.ws.Cluster
function Group:cluster(redis, channel, opts) end

---Starts the closing handshake with every member (1001 by default; 1000, 1001, 3000-4999).
---@param code? integer
function Group:close(code) end

---@class net.ws.ClusterOptions
---@field max_pending? integer messages queued for Redis before new ones are dropped (docs/cluster.md)

---A server or group attached to a Redis channel (`server:cluster`).
---@class net.ws.Cluster
---@field channel string
---@field id string this process's origin id in the channel
---@field closed boolean
local Cluster = {}

---Delivers to this process's clients at once and publishes to the others; returns the local count.
---@param data string
---@param type? "text"|"binary"
---@return integer
function Cluster:broadcast(data, type) end

---Counters: published, received, delivered, dropped, errors, reconnects, pending.
---@return table<string, integer>
function Cluster:stats() end

---Unsubscribes and stops the cluster's tasks (also on `<close>`).
function Cluster:close() end

return net.ws
