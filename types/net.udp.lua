---@meta net.udp
-- moonwire `net.udp`: UDP sockets (unicast, broadcast, multicast). docs/net.udp.md.
-- Errors: `closed`, `busy` (second reader), `ETIMEDOUT`, `ENOTCONN`, `EACCES` (broadcast
-- without `set_broadcast`), `ECONNREFUSED`, `EMSGSIZE`, `EADDRINUSE`, `EADDRNOTAVAIL`,
-- `ENOTFOUND`, `EAI_AGAIN`, `EINVAL`/argument errors for bad ports, sizes, TTLs, addresses.

---@class net.udp
net.udp = {}

-- options: net.udp.bind
---Options of `net.udp.bind`.
---@class net.udp.BindOptions
---@field reuseaddr? boolean several sockets on one port (default false)
---@field broadcast? boolean same as `set_broadcast(true)` (default false)
---@field ipv6_only? boolean default false

---Binds a UDP socket to `host` (default `"127.0.0.1"`) and `port` (0: a free one).
---`bind(port)` and `bind(nil, port)` work.
---@param host string|integer|nil
---@param port? integer|net.udp.BindOptions
---@param opts? net.udp.BindOptions
---@return net.udp.Socket
function net.udp.bind(host, port, opts) end

-- metatable: moonwire.udp.socket
---A UDP socket; supports `<close>`.
---@class net.udp.Socket
---@field port integer the bound port
---@field host string the bound address
local Socket = {}

---Sends a datagram; returns the bytes sent. After `connect`, `send(data)` needs no address.
---@async
---@param data string|buffer.Buffer
---@param host? string
---@param port? integer
---@return integer
function Socket:send(data, host, port) end

---Alias of `send`.
---@async
---@param data string|buffer.Buffer
---@param host? string
---@param port? integer
---@return integer
function Socket:send_to(data, host, port) end

---Alias of `send`.
---@async
---@param data string|buffer.Buffer
---@param host? string
---@param port? integer
---@return integer
function Socket:sendto(data, host, port) end

---Sends to the peer set by `connect` (`ENOTCONN` before).
---@async
---@param data string|buffer.Buffer
---@return integer
function Socket:send_connected(data) end

---One datagram: `data, host, port`. `max` 1..65536 (default 65536; the rest is discarded).
---`busy` for a second concurrent reader; `ETIMEDOUT` after `set_timeout`.
---@async
---@param max? integer
---@return string data
---@return string host
---@return integer port
function Socket:recv(max) end

---Alias of `recv`.
---@async
---@param max? integer
---@return string data
---@return string host
---@return integer port
function Socket:recv_from(max) end

---Alias of `recv`.
---@async
---@param max? integer
---@return string data
---@return string host
---@return integer port
function Socket:recvfrom(max) end

---Sets the default peer; only its datagrams are delivered afterwards.
---@async
---@param host string
---@param port integer
function Socket:connect(host, port) end

---Deadline (ms) for `recv` (and a `send` that must wait); `nil` removes it.
---@param ms number?
function Socket:set_timeout(ms) end

---SO_BROADCAST (default `true` when called without an argument).
---@param on? boolean
function Socket:set_broadcast(on) end

---Joins an IPv4 group on the interface with address `iface` (default any), or an IPv6 group.
---@param group string
---@param iface? string
function Socket:join_multicast(group, iface) end

---Leaves a multicast group.
---@param group string
---@param iface? string
function Socket:leave_multicast(group, iface) end

---Multicast TTL, 0..255 (hops for IPv6).
---@param n integer
function Socket:set_multicast_ttl(n) end

---Delivers own multicast to local listeners (default `true`).
---@param on? boolean
function Socket:set_multicast_loop(on) end

---Alias of `set_multicast_loop`.
---@param on? boolean
function Socket:set_multicast_loopback(on) end

---Outgoing interface for IPv4 multicast, by its address.
---@param addr string
function Socket:set_multicast_interface(addr) end

---Unicast TTL / hop limit, 1..255.
---@param n integer
function Socket:set_ttl(n) end

---`"127.0.0.1:5000"` / `"[::1]:5000"`.
---@return string
function Socket:local_addr() end

---The connected peer, or nothing.
---@return string?
function Socket:peer_addr() end

---Closes the socket (idempotent); a pending `recv` fails with `closed`.
function Socket:close() end

return net.udp
