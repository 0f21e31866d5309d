---@meta http.server
-- moonwire `http.server` (also `require("net.http.server")`, `net.http.server`): the router,
-- apps with routes, middleware, WebSocket routes and static files on `net.http.listen`.
-- docs/net.http.router.md. Bad arguments raise `EINVAL` with a clear message
-- (`app:get: path must be a string (got number)`); `app:static` on a missing dir: `ENOENT`.

---@class http.server
http.server = {}

---A new, empty app (takes no arguments).
---@return http.App
function http.server.new() end

---@alias http.RouteHandler async fun(ctx: http.Context): (string|http.HandlerResponse|nil)

-- metatable: lua:http.server.app
---An app (`http.server.new()`); route methods return the app, so they chain.
---@class http.App
---@field port integer? set while the app listens
---@field server http.Server? set while the app listens
local App = {}

---@param path string `/users/:id`, `/files/*`, `/files/*path`, `*`
---@param handler http.RouteHandler
---@return http.App
function App:get(path, handler) end

---@param path string
---@param handler http.RouteHandler
---@return http.App
function App:post(path, handler) end

---@param path string
---@param handler http.RouteHandler
---@return http.App
function App:put(path, handler) end

---@param path string
---@param handler http.RouteHandler
---@return http.App
function App:delete(path, handler) end

---@param path string
---@param handler http.RouteHandler
---@return http.App
function App:patch(path, handler) end

---@param path string
---@param handler http.RouteHandler
---@return http.App
function App:head(path, handler) end

---@param path string
---@param handler http.RouteHandler
---@return http.App
function App:options(path, handler) end

---A handler for every method of `path` (after the method's own).
---@param path string
---@param handler http.RouteHandler
---@return http.App
function App:all(path, handler) end

---Middleware `fn(ctx, next)` for every request (or only under `prefix`), in the order added;
---`next()` runs the rest of the chain.
---@param prefix string|fun(ctx: http.Context, next: fun())
---@param fn? async fun(ctx: http.Context, next: fun()): string?
---@return http.App
function App:use(prefix, fn) end

---A WebSocket endpoint: an upgrade request for `path` runs `fn(ws, ctx)`; the connection is
---closed (1000) when `fn` returns. `opts` are `net.ws.listen`'s.
---@param path string
---@param fn async fun(ws: net.ws.Conn, ctx: http.Context)
---@param opts? net.ws.UpgradeOptions
---@return http.App
function App:ws(path, fn, opts) end

---Options of `app:static`.
---@class http.StaticOptions
---@field index? string|false the file served for a directory (default `"index.html"`; false: 404)
---@field max_age? integer `Cache-Control: public, max-age=N` seconds (default 0)
---@field dotfiles? boolean serve names starting with `.` (default false)
---@field etag? boolean send `ETag`, answer `If-None-Match` (default true)
---@field last_modified? boolean send `Last-Modified`, answer `If-Modified-Since` (default true)

---Serves the files under `dir` for GET/HEAD under `prefix` (never outside `dir`).
---@param prefix string a plain path
---@param dir string
---@param opts? http.StaticOptions
---@return http.App
function App:static(prefix, dir, opts) end

---The `function(req)` handler for `net.http.listen`.
---@return http.Handler
function App:handler() end

---Starts the server and waits until it is closed; `cb(port)` runs once it listens. Returns true.
---`listen(port)`, `listen(host, port, opts, cb)`, ...
---@async
---@param host string|integer
---@param port? integer|http.ListenOptions|fun(port: integer)
---@param opts? http.ListenOptions|fun(port: integer)
---@param cb? fun(port: integer)
---@return true
function App:listen(host, port, opts, cb) end

---As `listen` without waiting: the server.
---@param host string|integer
---@param port? integer|http.ListenOptions
---@param opts? http.ListenOptions
---@return http.Server
function App:start(host, port, opts) end

---Closes the server `listen`/`start` started; `false` if the app was not listening.
---@param timeout_s? number default 10
---@return boolean
function App:close(timeout_s) end

---The request context of a route or middleware.
---@class http.Context
---@field method string
---@field path string the percent-decoded path, without the query
---@field query table<string, string|string[]>
---@field headers table<string, string|string[]> request headers, lower-case names
---@field body string the whole request body, read when first used (bounded by `max_body`: 413)
---@field params table<string, string> path parameters
---@field target string
---@field raw_query string
---@field version string
---@field peer_addr string
---@field secure boolean
---@field req http.Request the server's request
---@field app http.App
local Context = {}

---Sets the status (200..599).
---@param code integer
---@return http.Context
function Context:status(code) end

---Sets a response header (`nil` removes it), or with one argument returns the one set so far.
---@param name string
---@param value? string|number|string[]
---@return http.Context|string|string[]|nil
function Context:header(name, value) end

---Body `s`, `text/plain; charset=utf-8`.
---@param s string
---@return http.Context
function Context:text(s) end

---Body `s`, `text/html; charset=utf-8`.
---@param s string
---@return http.Context
function Context:html(s) end

---Body `json.encode(v)`, `application/json`.
---@param v any
---@return http.Context
function Context:json(v) end

---`Location: url`, status 302 by default (300..308).
---@param url string
---@param status? integer
---@return http.Context
function Context:redirect(url, status) end

---Streams the response: the server's writer, with the headers set so far plus `headers`.
---@async
---@param status? integer
---@param headers? table<string, string|number|(string|number)[]>
---@return http.ResponseWriter
function Context:respond(status, headers) end

return http.server
