---@meta net.tcp
-- moonwire `net.tcp`: TCP (and TLS) clients and servers, CopperMoon's API. docs/net.tcp.md.
-- Every call suspends only the calling task. Errors (`err.code`): the system error names
-- (`ECONNREFUSED`, `ECONNRESET`, `EPIPE`, `EHOSTUNREACH`, `EADDRINUSE`, `EACCES`, ...),
-- `ENOTFOUND`, `ETIMEDOUT`, `closed`, `busy`, `EOF`, `ELINE`, `ETLS`, `ECERT`, `EPROXY`,
-- `EPROXYAUTH`, `EINVAL` (unknown option, bad value). EOF is not an error.

---@class net.tcp
net.tcp = {}

-- options: tls
---TLS options (`tls = { ... }`) of clients and servers.
---@class net.TlsOptions
---@field enabled? boolean false: no TLS after all (default true)
---@field verify? boolean verify the chain against the system store (or `ca_file`) and the host name (default true); on a server with `ca_file`, whether client certificates are required
---@field ca_file? string PEM file of trusted CAs (default: the system store); on a server, requests client certificates
---@field cert_file? string certificate chain (PEM): the client certificate, or the server's (required for servers)
---@field key_file? string its private key (PEM)
---@field server_name? string name sent in SNI and checked against the certificate (default: the host)

-- options: net.tcp.connect
---Options of `net.tcp.connect`.
---@class net.tcp.ConnectOptions
---@field timeout? number milliseconds for the whole connect (DNS + TCP + TLS handshake); default none
---@field tls? boolean|net.TlsOptions TLS with peer verification (default false)
---@field proxy? string `"http://[user:pass@]host:port"`, `"socks5://..."`, `"socks5h://..."` (docs/proxies.md)
---@field nodelay? boolean TCP_NODELAY (default true)

-- options: net.tcp.listen
---Options of `net.tcp.listen`.
---@class net.tcp.ListenOptions
---@field backlog? integer listen queue length (default: the system maximum)
---@field reuseport? boolean SO_REUSEPORT (default false)
---@field ipv6_only? boolean for IPv6 hosts: refuse IPv4-mapped connections (default false)
---@field tls? net.TlsOptions `{cert_file, key_file[, ca_file, verify]}`: a TLS server
---@field handshake_timeout? number ms a TLS client may take to finish its handshake (default 10000)

-- options: starttls
---Options of `conn:starttls`.
---@class net.tcp.StartTlsOptions: net.TlsOptions
---@field server? boolean the server side (needs `cert_file`, `key_file`); default false
---@field timeout? number ms for the handshake

---Connects to `host:port` (resolved without blocking; every address tried in turn).
---@async
---@param host string
---@param port integer
---@param opts? net.tcp.ConnectOptions
---@return net.tcp.Conn
function net.tcp.connect(host, port, opts) end

---Listens on `host` (default `"127.0.0.1"`) and `port` (0: a free one, see `server.port`).
---`net.tcp.listen(port[, opts])` works too.
---@param host string|integer
---@param port? integer|net.tcp.ListenOptions
---@param opts? net.tcp.ListenOptions
---@return net.tcp.Server
function net.tcp.listen(host, port, opts) end

-- metatable: moonwire.tcp.server
---A TCP server (`net.tcp.listen`); supports `<close>`.
---@class net.tcp.Server
---@field port integer the bound port
---@field host string the bound address
local Server = {}

---The next connection (TLS: handshake done). `busy` for a second acceptor, `closed` once the
---server is closed, `ETIMEDOUT` after `timeout_ms`.
---@async
---@param timeout_ms? number
---@return net.tcp.Conn
function Server:accept(timeout_ms) end

---`"127.0.0.1:8080"` / `"[::1]:8080"`.
---@return string
function Server:local_addr() end

---Stops listening; a waiting `accept` raises `closed`. Idempotent.
function Server:close() end

-- metatable: moonwire.tcp.conn
---A TCP connection; supports `<close>` (closed by GC too).
---@class net.tcp.Conn
local Conn = {}

---Up to `n` bytes (default 4096) as soon as any are available; `nil` at EOF.
---@async
---@param n? integer
---@return string?
function Conn:read(n) end

---Exactly `n` bytes; `EOF` if the peer closes first.
---@async
---@param n integer
---@return string
function Conn:read_exactly(n) end

---The next line without `\n` (or `\r\n`); at EOF the last unterminated line, then `nil`.
---`ELINE` beyond `max` bytes (default 1 MiB).
---@async
---@param max? integer
---@return string?
function Conn:read_line(max) end

---Everything until the peer closes (`""` if nothing).
---@async
---@return string
function Conn:read_all() end

---Returns the number of bytes once the kernel has all of them (backpressure).
---@async
---@param data string|buffer.Buffer
---@return integer
function Conn:write(data) end

---As `write`, returning nothing.
---@async
---@param data string|buffer.Buffer
function Conn:write_all(data) end

---Waits until writes queued by other tasks are handed to the kernel.
---@async
function Conn:flush() end

---`"write"` (default: half-close, the peer reads EOF), `"read"` or `"both"`.
---@param how? "write"|"read"|"both"
function Conn:shutdown(how) end

---Closes at once; a blocked reader or queued writer gets `closed`. Idempotent.
function Conn:close() end

---Deadline (ms) for each following read/write (`ETIMEDOUT`); `nil` removes it.
---@param ms number?
function Conn:set_timeout(ms) end

---TCP_NODELAY.
---@param on boolean
function Conn:set_nodelay(on) end

---SO_KEEPALIVE.
---@param on boolean
function Conn:set_keepalive(on) end

---`"ip:port"` (`"[v6]:port"`) of the peer.
---@return string
function Conn:peer_addr() end

---`"ip:port"` of this side.
---@return string
function Conn:local_addr() end

---Whether the connection is TLS.
---@return boolean
function Conn:is_tls() end

---Upgrades a plain connection to TLS (client side by default). No read or write may be in
---progress and no unread data buffered.
---@async
---@param opts? net.tcp.StartTlsOptions
function Conn:starttls(opts) end

return net.tcp
