---@meta net.http
-- moonwire `net.http` (also the global `http` and `require("http")`): the HTTP/1.1 client
-- (docs/net.http.md) and server (`net.http.listen`, docs/net.http.server.md). Every call
-- suspends only the calling task; a non-2xx status is not an error.
-- Client errors (`err.code`): `EINVAL`, `ECONNREFUSED`, `ECONNRESET`, `ENETUNREACH`,
-- `ENOTFOUND`, `EAI_AGAIN`, `EDNS`, `ETIMEDOUT`, `ETLS`, `ECERT`, `EPROTO`,
-- `ETOOMANYREDIRECTS`, `EPROXY`, `EPROXYAUTH`, `ENOENT`/`EACCES`/`EIO` (`save_to_file`),
-- `cancelled`. Server: `EMSGSIZE` (body over `max_body`), `ETIMEDOUT`, `EHANDSHAKE`, `ETLS`.
-- Colon calls (`net.http:get(url, callback)`) are HOOZi's callback API (docs/compat.md).

---@class net.http
---@field server http.server the router (`require("http.server")`, docs/net.http.router.md)
net.http = {}

-- options: http request
---Options of every client call (`http.get`, `http.request`, a session's methods).
---@class http.RequestOptions
---@field method? string for `request` only (default `"GET"`); any token, upper-cased
---@field url? string for `request(opts)`
---@field headers? table<string, string|number|string[]> request headers (override the defaults)
---@field body? string|fun(): string? request body; a function streams it chunked (called until it returns nil; must not yield)
---@field json? any encoded with `json.encode` as the body (`Content-Type: application/json`)
---@field query? table<string, string|number|boolean|(string|number|boolean)[]> parameters appended to the URL's query
---@field timeout? number total milliseconds for the call (default 30000; 0 or math.huge: none)
---@field connect_timeout? number milliseconds for TCP + proxy + TLS of a new connection
---@field redirects? integer|false maximum redirects to follow (default 10; 0/false: return the 3xx)
---@field tls? net.TlsOptions `{verify, ca_file, cert_file, key_file, server_name}` (verification on by default)
---@field decompress? boolean send `Accept-Encoding: gzip, deflate` and decode (default true)
---@field save_to_file? string stream the final body to this file (`body` is then nil, `file` set)
---@field on_progress? fun(received: integer, total: integer?) after every chunk of the final body; must not yield
---@field proxy? string|false a proxy URL, or false to ignore the environment (default: `HTTP_PROXY`...)
---@field keepalive? boolean false: `Connection: close`, not pooled (default true)
---@field cookies? table<string, string> sent as one `Cookie` header

---A client response.
---@class http.Response
---@field status integer
---@field status_text string the reason phrase as sent
---@field ok boolean `true` for 2xx
---@field url string the final URL, after redirects
---@field redirects integer how many redirects were followed
---@field headers table<string, string|string[]> lower-case names; `set-cookie` is always a list
---@field body string? `""` for HEAD, 204, 304; nil with `save_to_file`
---@field file string? with `save_to_file`: the path written

---@async
---@param url string
---@param opts? http.RequestOptions
---@return http.Response
function net.http.get(url, opts) end

---@async
---@param url string
---@param opts? http.RequestOptions
---@return http.Response
function net.http.head(url, opts) end

---@async
---@param url string
---@param opts? http.RequestOptions
---@return http.Response
function net.http.delete(url, opts) end

---@async
---@param url string
---@param opts? http.RequestOptions
---@return http.Response
function net.http.options(url, opts) end

---`body` may be nil (then `opts.body` / `opts.json`); `post(url, opts)` works too.
---@async
---@param url string
---@param body? string|(fun(): string?)|http.RequestOptions
---@param opts? http.RequestOptions
---@return http.Response
function net.http.post(url, body, opts) end

---@async
---@param url string
---@param body? string|(fun(): string?)|http.RequestOptions
---@param opts? http.RequestOptions
---@return http.Response
function net.http.put(url, body, opts) end

---@async
---@param url string
---@param body? string|(fun(): string?)|http.RequestOptions
---@param opts? http.RequestOptions
---@return http.Response
function net.http.patch(url, body, opts) end

---`request(opts)` (with `opts.url`, `opts.method`) or `request(url, opts)`.
---@async
---@param url_or_opts string|http.RequestOptions
---@param opts? http.RequestOptions
---@return http.Response
function net.http.request(url_or_opts, opts) end

-- options: http.pool
---Settings of the keep-alive pool (`http.pool`).
---@class http.PoolSettings
---@field max_idle_per_origin? integer default 16
---@field idle_timeout? number ms (default 30000; 0 disables pooling)
---@field close_idle? boolean close the idle connections now

---Pool statistics (`http.pool`'s result).
---@class http.PoolStats
---@field idle integer
---@field opened integer
---@field reused integer
---@field max_idle_per_origin integer
---@field idle_timeout number

---Changes the pool settings (if given) and returns its statistics.
---@param settings? http.PoolSettings
---@return http.PoolStats
function net.http.pool(settings) end

-- options: http.create_session
---@class http.SessionOptions
---@field cookies? table<string, string> stored as `set_cookie(name, value)` does (sent to every host)

---A session: the same calls sharing a cookie jar (RFC 6265).
---@param opts? http.SessionOptions
---@return http.Session
function net.http.create_session(opts) end

-- metatable: moonwire.http.session
---A client session (`http.create_session`).
---@class http.Session
local Session = {}

---@async
---@param url string
---@param opts? http.RequestOptions
---@return http.Response
function Session:get(url, opts) end

---@async
---@param url string
---@param opts? http.RequestOptions
---@return http.Response
function Session:head(url, opts) end

---@async
---@param url string
---@param opts? http.RequestOptions
---@return http.Response
function Session:delete(url, opts) end

---@async
---@param url string
---@param opts? http.RequestOptions
---@return http.Response
function Session:options(url, opts) end

---@async
---@param url string
---@param body? string|(fun(): string?)|http.RequestOptions
---@param opts? http.RequestOptions
---@return http.Response
function Session:post(url, body, opts) end

---@async
---@param url string
---@param body? string|(fun(): string?)|http.RequestOptions
---@param opts? http.RequestOptions
---@return http.Response
function Session:put(url, body, opts) end

---@async
---@param url string
---@param body? string|(fun(): string?)|http.RequestOptions
---@param opts? http.RequestOptions
---@return http.Response
function Session:patch(url, body, opts) end

---@async
---@param url_or_opts string|http.RequestOptions
---@param opts? http.RequestOptions
---@return http.Response
function Session:request(url_or_opts, opts) end

-- options: set_cookie
---Attributes of `s:set_cookie`.
---@class http.CookieAttributes
---@field domain? string sent to that domain and its subdomains (without it: to every host)
---@field path? string default `/`
---@field expires? number|string Unix time in seconds, or an HTTP date
---@field max_age? integer seconds from now (wins over `expires`)
---@field secure? boolean
---@field http_only? boolean

---A cookie of `s:cookie_list`.
---@class http.Cookie
---@field name string
---@field value string
---@field domain? string
---@field path string
---@field expires? number
---@field secure boolean
---@field http_only boolean
---@field host_only boolean

---Stores a cookie by hand (an expiry in the past deletes). `EINVAL` for bad names/values.
---@param name string
---@param value string
---@param attrs? http.CookieAttributes
function Session:set_cookie(name, value, attrs) end

---The value, or nil (with `url`: the one that would be sent there).
---@param name string
---@param url? string
---@return string?
function Session:get_cookie(name, url) end

---`{name = value}` of what would be sent to `url`, or of all cookies.
---@param url? string
---@return table<string, string>
function Session:get_cookies(url) end

---The cookies, in sending order for `url`, else oldest first.
---@param url? string
---@return http.Cookie[]
function Session:cookie_list(url) end

---Empties the jar.
function Session:clear_cookies() end

-- The server --------------------------------------------------------------------------------

-- options: net.http.listen
---Options of `net.http.listen`.
---@class http.ListenOptions
---@field tls? net.TlsOptions `{cert_file, key_file}`: serve HTTPS
---@field max_body? integer the most `req:body()` returns (default 1 MiB); beyond it 413
---@field max_header_size? integer request line plus headers (default 16 KiB); beyond it 431
---@field max_headers? integer header lines (default 100)
---@field header_timeout? number ms to receive a request's head (default 60000); then 408
---@field idle_timeout? number ms a keep-alive connection waits for its next request (default 5000)
---@field request_timeout? number ms to receive a whole request (default 300000)
---@field write_timeout? number ms a response write may make no progress (the client stopped reading) before the connection closes (default 60000)
---@field drain_timeout? number ms requests in flight may take to finish on SIGINT/SIGTERM (default 10000)
---@field max_connections? integer open connections (default 0: unlimited)
---@field handshake_timeout? number ms for the TLS handshake (default 10000)
---@field backlog? integer listen queue length
---@field reuseport? boolean SO_REUSEPORT (default false)
---@field ipv6_only? boolean default false
---@field access_log? boolean|fun(line: string) one combined-format line per response (true: on stdout)

-- metatable: moonwire.http.request
---A server request (the handler's argument).
---@class http.Request
---@field method string `"GET"`, `"POST"`, ... as sent
---@field target string the raw request target (`"/a%20b?x=1"`)
---@field path string the path, percent-decoded
---@field raw_query string `"x=1&y=2"` (`""` when none)
---@field query table<string, string|string[]> decoded query parameters
---@field headers table<string, string|string[]> lower-case names; `set-cookie` is a list
---@field version "1.1"|"1.0"
---@field peer_addr string `"127.0.0.1:51234"`
---@field secure boolean `true` over TLS
local Request = {}

---The whole body (`""` when none); `EMSGSIZE` over `max_body` (the client gets 413).
---@async
---@return string
function Request:body() end

---The next piece of at most `n` bytes (default 65536), nil at the end (not bounded by `max_body`).
---@async
---@param n? integer
---@return string?
function Request:read(n) end

---An iterator over the body's pieces.
---@return fun(): string?
function Request:chunks() end

---Starts a streamed response (chunked, or with the `Content-Length` given).
---@async
---@param status integer
---@param headers? table<string, string|number|(string|number)[]>
---@return http.ResponseWriter
function Request:respond(status, headers) end

---Completes the WebSocket handshake on this connection (options of `net.ws.listen`); raises
---`EHANDSHAKE` (with `status`) when refused.
---@async
---@param opts? net.ws.UpgradeOptions
---@return net.ws.Conn
function Request:upgrade(opts) end

-- metatable: moonwire.http.writer
---A streamed response (`req:respond`).
---@class http.ResponseWriter
local ResponseWriter = {}

---Sends a piece once the kernel has it (backpressure).
---@async
---@param data string
---@return true
function ResponseWriter:write(data) end

---Ends the body. Idempotent.
---@async
function ResponseWriter:close() end

-- options: response
---What a handler returns: a string (200), a table, or a file.
---@class http.HandlerResponse
---@field status? integer 200..599 (default 200)
---@field headers? table<string, string|number|(string|number)[]>
---@field body? string
---@field file? string an absolute path sent by sendfile(2)
---@field offset? integer for `file` (default 0)
---@field length? integer for `file` (default: to its end)

---@alias http.Handler async fun(req: http.Request): (string|http.HandlerResponse|nil)

---Binds `host` (default `"127.0.0.1"`) and `port` (0: a free one) and returns the server at
---once; each request runs `handler(req)` in its own task. `listen(port, handler[, opts])` works.
---@param host string|integer
---@param port integer|http.Handler
---@param handler? http.Handler|http.ListenOptions
---@param opts? http.ListenOptions
---@return http.Server
function net.http.listen(host, port, handler, opts) end

-- options: net.http.listen tls
---The files of `srv:reload_tls`.
---@class http.TlsFiles
---@field cert_file string certificate chain (PEM)
---@field key_file string private key (PEM)

-- metatable: moonwire.http.server
---An HTTP server (`net.http.listen`).
---@class http.Server
---@field port integer
---@field host string
local Server = {}

---`"127.0.0.1:8080"`.
---@return string
function Server:local_addr() end

---The number of open connections.
---@return integer
function Server:connections() end

---Stops accepting; requests in flight finish; after `timeout_s` (default 10) the rest are cut.
---@async
---@param timeout_s? number
function Server:close(timeout_s) end

---Suspends until the server is closed and every connection is gone.
---@async
---@param timeout_s? number
function Server:wait(timeout_s) end

---Re-reads the certificate and key (the same files or the new ones) for new connections;
---`ETLS` for a bad file (nothing changes).
---@param files? http.TlsFiles
---@return true
function Server:reload_tls(files) end

return net.http
