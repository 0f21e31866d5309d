-- http.server (= net.http.server): CopperMoon's router, on net.http.listen.
--
--   local app = http.server.new()
--   app:get("/users/:id", function(ctx) return "user " .. ctx.params.id end)
--   app:listen(8080, function(port) print("on", port) end)
--
-- Routes are matched by specificity, not registration order: an exact path first (a hash
-- lookup), then the patterns, literal segments before `:params` before `*` wildcards, segment
-- by segment; among equals the first registered wins. Middleware (app:use) wraps the routing
-- Koa-style: next() runs the rest of the chain and returns when it is done. See
-- docs/net.http.router.md for every function, default and error.
local _, einval, load_internal = ...

-- Raises EINVAL at the user's code that made the mistake: the first caller outside the
-- router's own chunks and C (tail calls and helper depth do not matter).
local getinfo = debug.getinfo
local function user_level()
  local lvl = 3 -- 1 user_level, 2 fail
  while true do
    local info = getinfo(lvl, "S")
    if not info then return lvl - 1 end
    if info.what ~= "C" and not info.source:find("^@%[moonwire%]/_http_") then return lvl - 1 end
    lvl = lvl + 1
  end
end
local function fail(msg) einval(msg, user_level()) end

local type, select, tostring, tonumber, pairs, ipairs, setmetatable, rawset, error, xpcall =
  type, select, tostring, tonumber, pairs, ipairs, setmetatable, rawset, error, xpcall
local mtype, floor = math.type, math.floor
local find, sub, byte, char, gsub, gmatch, lower, match =
  string.find, string.sub, string.byte, string.char, string.gsub, string.gmatch, string.lower, string.match
local concat, sort = table.concat, table.sort
local json = require("json")
local net = require("net")

local SLASH, COLON, STAR = 47, 58, 42
local LITERAL, PARAM = 1, 2 -- segment kinds; a wildcard is the route's `wild` field

local METHODS = {
  get = "GET", post = "POST", put = "PUT", delete = "DELETE", patch = "PATCH", head = "HEAD", options = "OPTIONS",
}

local function typename(v)
  if v == nil then return "nil" end
  return type(v)
end

-- "%41b" -> "Ab" (one path segment: an encoded slash stays inside its segment).
local function unescape(s)
  if not find(s, "%", 1, true) then return s end
  return (gsub(s, "%%(%x%x)", function(h) return char(tonumber(h, 16)) end))
end

-- The decoded segments of a raw path ("/a//b%20c/" -> {"a", "b c"}), empty ones dropped.
local function split_path(raw)
  local segs, n = {}, 0
  for seg in gmatch(raw, "[^/]+") do
    n = n + 1
    segs[n] = unescape(seg)
  end
  return segs, n
end

-- Route patterns ----------------------------------------------------------------------------

-- Compiles "/users/:id/*rest" into {key, n, kinds, lits, names, wild}. `key` is the normalized
-- pattern (routes with the same key share one method table).
local function compile(pattern, fname)
  if type(pattern) ~= "string" then
    fail(fname .. ": path must be a string (got " .. typename(pattern) .. ")")
  end
  if pattern == "*" then return { key = "*", n = 0, kinds = {}, lits = {}, names = {}, wild = "*" } end
  if byte(pattern, 1) ~= SLASH then
    fail(fname .. ": path must start with '/' or be '*' (got '" .. pattern .. "')")
  end
  if find(pattern, "[%z\r\n?#]") then
    fail(fname .. ": path must not contain NUL, CR, LF, '?' or '#' (got '" .. pattern .. "')")
  end
  local r = { n = 0, kinds = {}, lits = {}, names = {}, wild = nil }
  local seen, parts = {}, {}
  for seg in gmatch(pattern, "[^/]+") do
    if r.wild then fail(fname .. ": '*' must be the last segment of '" .. pattern .. "'") end
    parts[#parts + 1] = seg
    local first = byte(seg, 1)
    if first == COLON or first == STAR then
      local name = sub(seg, 2)
      if first == STAR and name == "" then name = "*" end
      if name ~= "*" and not match(name, "^[%a_][%w_]*$") then
        fail(fname .. ": bad parameter name '" .. seg .. "' in '" .. pattern .. "' (letters, digits, _)")
      end
      if seen[name] then fail(fname .. ": parameter '" .. name .. "' appears twice in '" .. pattern .. "'") end
      seen[name] = true
      if first == STAR then
        r.wild = name
      else
        r.n = r.n + 1
        r.kinds[r.n], r.names[r.n] = PARAM, name
      end
    else
      r.n = r.n + 1
      r.kinds[r.n], r.lits[r.n] = LITERAL, seg
    end
  end
  r.key = "/" .. concat(parts, "/")
  r.exact = r.wild == nil and not next(seen)
  return r
end

-- Whether route a is more specific than b: segment by segment, literal < param < wildcard <
-- nothing; then registration order.
local function more_specific(a, b)
  local n = a.n > b.n and a.n or b.n
  for i = 1, n + 1 do
    local ka = a.kinds[i] or (a.wild and i == a.n + 1 and 3) or 4
    local kb = b.kinds[i] or (b.wild and i == b.n + 1 and 3) or 4
    if ka ~= kb then return ka < kb end
  end
  return a.order < b.order
end

-- A routing table: exact[key] = route, patterns = sorted list of routes, by_key for both.
local function new_table() return { exact = {}, patterns = {}, by_key = {}, count = 0 } end

local function add_route(tbl, compiled, method, handler, extra)
  local route = tbl.by_key[compiled.key]
  if not route then
    route = compiled
    route.handlers = {}
    tbl.count = tbl.count + 1
    route.order = tbl.count
    tbl.by_key[route.key] = route
    if route.exact then
      tbl.exact[route.key] = route
    else
      local list = tbl.patterns
      list[#list + 1] = route
      sort(list, more_specific)
    end
  end
  route.handlers[method] = handler
  if extra then
    for k, v in pairs(extra) do route[k] = v end
  end
  return route
end

-- The route's params for these decoded segments, or nil if it does not match.
local function match_route(r, segs, n)
  local rn = r.n
  if r.wild then
    if n < rn then return nil end
  elseif n ~= rn then
    return nil
  end
  local kinds, params = r.kinds, {}
  for i = 1, rn do
    if kinds[i] == LITERAL then
      if segs[i] ~= r.lits[i] then return nil end
    else
      params[r.names[i]] = segs[i]
    end
  end
  if r.wild then params[r.wild] = concat(segs, "/", rn + 1, n) end
  return params
end

local function pick(route, method)
  local h = route.handlers
  return h[method] or (method == "HEAD" and h.GET) or h["*"]
end

-- Finds the handler for method and the request's path. Returns handler, route, params; or nil
-- and the set of methods the path does have (empty: nothing matched).
local function lookup(tbl, method, ctx)
  local allowed
  local route = tbl.exact[ctx._key]
  if route then
    local h = pick(route, method)
    if h then return h, route, {} end
    allowed = { route }
  end
  local list = tbl.patterns
  if #list > 0 then
    local segs, n = ctx._segs, ctx._nsegs
    if not segs then
      segs, n = split_path(ctx._raw)
      ctx._segs, ctx._nsegs = segs, n
    end
    for i = 1, #list do
      local r = list[i]
      local params = match_route(r, segs, n)
      if params then
        local h = pick(r, method)
        if h then
          if r.wild then ctx._rest = { segs = segs, from = r.n + 1, to = n } end
          return h, r, params
        end
        if not r.passive then
          allowed = allowed or {}
          allowed[#allowed + 1] = r
        end
      end
    end
  end
  return nil, allowed
end

local function allow_header(routes)
  local set, list = {}, {}
  for _, r in ipairs(routes) do
    for m in pairs(r.handlers) do set[m] = true end
  end
  if set.GET then set.HEAD = true end
  set.OPTIONS = true
  for m in pairs(set) do list[#list + 1] = m end
  sort(list)
  return concat(list, ", ")
end

-- ctx ---------------------------------------------------------------------------------------

local Ctx = {}
-- Request fields read from req only when asked for; `body` is read (once) on first access.
local FROM_REQ = { target = true, raw_query = true, version = true, peer_addr = true, secure = true }
local ctx_meta = {
  __index = function(t, k)
    local m = Ctx[k]
    if m ~= nil then return m end
    if k == "body" then
      local b = t.req:body()
      rawset(t, "body", b)
      return b
    end
    if FROM_REQ[k] then return t.req[k] end
    return nil
  end,
}

local function check_status(code, fname, lo, hi)
  if type(code) == "string" then code = tonumber(code) or code end
  if mtype(code) == "float" and code == floor(code) then code = floor(code) end
  if mtype(code) ~= "integer" or code < lo or code > hi then
    fail(fname .. ": status must be an integer from " .. lo .. " to " .. hi .. " (got " .. tostring(code) .. ")")
  end
  return code
end

function Ctx:status(code)
  self._status = check_status(code, "ctx:status", 200, 599)
  return self
end

-- A header name (an RFC 9110 token) and a value without CR, LF or NUL (no response splitting).
local function check_header(name, value, fname)
  if type(name) ~= "string" or not match(name, "^[%w!#$%%&'*+%-.^_`|~]+$") then
    fail(fname .. ": bad header name " .. (type(name) == "string" and "'" .. name .. "'" or "(" .. typename(name) .. ")"))
  end
  local tv = type(value)
  if tv == "number" then
    value = tostring(value)
  elseif tv == "table" then
    local list = {}
    for i, v in ipairs(value) do
      if type(v) == "number" then v = tostring(v) end
      if type(v) ~= "string" or find(v, "[%z\r\n]") then
        fail(fname .. ": bad value #" .. i .. " for header '" .. name .. "' (a string without CR, LF or NUL)")
      end
      list[i] = v
    end
    value = list
  elseif tv ~= "string" or find(value, "[%z\r\n]") then
    fail(fname .. ": bad value for header '" .. name .. "' (a string without CR, LF or NUL, got " .. tv .. ")")
  end
  return lower(name), value
end

-- ctx:header(name, value) sets a response header (a list of strings sends several; nil
-- removes it); ctx:header(name) returns the one set so far.
function Ctx:header(name, ...)
  if select("#", ...) == 0 then
    if type(name) ~= "string" then fail("ctx:header: name must be a string (got " .. typename(name) .. ")") end
    return self._headers[lower(name)]
  end
  local value = ...
  if value == nil then
    if type(name) ~= "string" then fail("ctx:header: name must be a string (got " .. typename(name) .. ")") end
    self._headers[lower(name)] = nil
    return self
  end
  local k, v = check_header(name, value, "ctx:header")
  self._headers[k] = v
  return self
end

local function set_body(ctx, body, ctype, fname)
  if type(body) == "number" then body = tostring(body) end
  if type(body) ~= "string" then fail(fname .. ": body must be a string (got " .. typename(body) .. ")") end
  ctx._body = body
  ctx._headers["content-type"] = ctype
  return ctx
end

function Ctx:text(s) return set_body(self, s, "text/plain; charset=utf-8", "ctx:text") end
function Ctx:html(s) return set_body(self, s, "text/html; charset=utf-8", "ctx:html") end
function Ctx:json(v)
  self._body = json.encode(v)
  self._headers["content-type"] = "application/json"
  return self
end

function Ctx:redirect(url, status)
  if type(url) ~= "string" or url == "" or find(url, "[%z\r\n]") then
    fail("ctx:redirect: url must be a non-empty string without CR, LF or NUL (got " .. typename(url) .. ")")
  end
  self._status = status == nil and 302 or check_status(status, "ctx:redirect", 300, 308)
  self._headers.location = url
  self._headers["content-type"] = "text/plain; charset=utf-8"
  self._body = "Redirecting to " .. url .. "\n"
  return self
end

-- Streams the response (req:respond): the headers set so far plus `headers`.
function Ctx:respond(status, headers)
  status = check_status(status == nil and self._status or status, "ctx:respond", 200, 599)
  if headers ~= nil and type(headers) ~= "table" then
    fail("ctx:respond: headers must be a table (got " .. typename(headers) .. ")")
  end
  local all = {}
  for k, v in pairs(self._headers) do all[k] = v end
  for k, v in pairs(headers or {}) do
    local lk, lv = check_header(k, v, "ctx:respond")
    all[lk] = lv
  end
  self._streamed = true
  return self.req:respond(status, all)
end

local function new_ctx(app, req)
  local raw = match(req.target or "", "^[^?#]*")
  if byte(raw, 1) ~= SLASH then -- absolute-form ("http://host/a/b"): the path after the authority
    raw = match(raw, "^%a[%w+.-]*://[^/]*(/.*)$") or "/"
  end
  local path = req.path
  local key = path
  if find(path, "//", 1, true) or (#path > 1 and byte(path, -1) == SLASH) then
    key = "/" .. concat((split_path(path)), "/")
  end
  return setmetatable({
    app = app, req = req, method = req.method, path = path, query = req.query, headers = req.headers, params = {},
    _raw = raw, _key = key, _status = 200, _headers = {},
  }, ctx_meta)
end

-- A returned value: a string is the body (content type sniffed unless set: <, { or [); a table is a
-- net.http.listen response, given the headers set on ctx where it does not set them itself.
local function apply_result(ctx, r, what)
  local t = type(r)
  if r == nil or r == ctx then return end -- `return ctx:json(v)`: the helpers return ctx
  if t == "string" then
    ctx._body = r
    if not ctx._headers["content-type"] then
      -- as net.http.listen sniffs a returned string
      local first = match(r, "^%s*(.)")
      ctx._headers["content-type"] = first == "<" and "text/html; charset=utf-8"
        or (first == "{" or first == "[") and "application/json" or "text/plain; charset=utf-8"
    end
  elseif t == "table" then
    ctx._response = r
  else
    error("http.server: " .. what .. " returned a " .. t .. " (return a string, a response table or nothing)", 0)
  end
end

local function finish(ctx)
  if ctx._streamed or ctx._upgraded then return nil end
  local r = ctx._response
  if r then
    local h = r.headers or {}
    local lowered = {}
    for k in pairs(h) do lowered[lower(k)] = true end
    for k, v in pairs(ctx._headers) do
      if not lowered[k] then h[k] = v end
    end
    r.headers = h
    return r
  end
  return { status = ctx._status, headers = ctx._headers, body = ctx._body or "" }
end

-- Dispatch ----------------------------------------------------------------------------------

local function is_upgrade(req)
  local u = req.headers.upgrade
  return type(u) == "string" and find(lower(u), "websocket", 1, true) ~= nil
end

local function run_ws(ctx, handler, route)
  local ws = ctx.req:upgrade(route.ws_opts)
  ctx._upgraded = true
  local ok, err = xpcall(handler, function(e) return debug.traceback(tostring(e), 2) end, ws, ctx)
  pcall(ws.close, ws)
  if not ok then
    -- The connection is a WebSocket now: no 500 can be sent, so the error is reported here.
    io.stderr:write("http.server: WebSocket handler for ", ctx.path, " failed: ", err, "\n")
  end
end

local function not_found(ctx)
  ctx._status = 404
  ctx._headers["content-type"] = "text/plain; charset=utf-8"
  ctx._body = "Not Found"
end

local function route_request(app, ctx)
  local method = ctx.method
  if app._ws.count > 0 and is_upgrade(ctx.req) then
    local h, route, params = lookup(app._ws, "GET", ctx)
    if h then
      ctx.params = params
      return run_ws(ctx, h, route)
    end
  end
  local h, route, params = lookup(app._routes, method, ctx)
  if h then
    ctx.params = params
    return apply_result(ctx, h(ctx), "the handler for " .. method .. " " .. route.key)
  end
  local allowed = route
  if allowed and #allowed > 0 then
    local allow = allow_header(allowed)
    ctx._headers.allow = allow
    if method == "OPTIONS" then
      ctx._status = 204
      ctx._body = ""
    else
      ctx._status = 405
      ctx._headers["content-type"] = "text/plain; charset=utf-8"
      ctx._body = "Method Not Allowed"
    end
    return
  end
  if app._ws.count > 0 and lookup(app._ws, "GET", ctx) then
    ctx._status = 426
    ctx._headers.upgrade = "websocket"
    ctx._headers.connection = "Upgrade"
    ctx._headers["content-type"] = "text/plain; charset=utf-8"
    ctx._body = "Upgrade Required"
    return
  end
  not_found(ctx)
end

local function prefix_matches(path, prefix)
  if prefix == "/" then return true end
  local n = #prefix
  return sub(path, 1, n) == prefix and (#path == n or byte(path, n + 1) == SLASH)
end

local function run_chain(app, ctx, i)
  local list = app._middleware
  local m = list[i]
  while m and m.prefix and not prefix_matches(ctx._key, m.prefix) do
    i = i + 1
    m = list[i]
  end
  if not m then return route_request(app, ctx) end
  local called = false
  local function next_fn()
    if called then fail("http.server: next() called twice by the same middleware") end
    called = true
    return run_chain(app, ctx, i + 1)
  end
  apply_result(ctx, m.fn(ctx, next_fn), "a middleware")
end

local function dispatch(app, req)
  local ctx = new_ctx(app, req)
  if #app._middleware == 0 then
    route_request(app, ctx)
  else
    run_chain(app, ctx, 1)
  end
  return finish(ctx)
end

-- The app -----------------------------------------------------------------------------------

local App = {}
App.__index = App

local function check_self(self, fname)
  if getmetatable(self) ~= App then
    fail(fname .. ": call it with ':' on an app from http.server.new() (got " .. typename(self) .. ")")
  end
end

local function check_handler(fn, fname, what)
  if type(fn) ~= "function" then
    fail(fname .. ": " .. (what or "handler") .. " must be a function (got " .. typename(fn) .. ")")
  end
end

local function register(self, method, fname, path, handler)
  check_self(self, fname)
  local compiled = compile(path, fname)
  check_handler(handler, fname)
  add_route(self._routes, compiled, method, handler)
  return self
end

for name, method in pairs(METHODS) do
  local fname = "app:" .. name
  App[name] = function(self, path, handler) return register(self, method, fname, path, handler) end
end
function App:all(path, handler) return register(self, "*", "app:all", path, handler) end

-- app:use([prefix,] fn): fn(ctx, next) for every request (under prefix).
function App:use(prefix, fn)
  check_self(self, "app:use")
  if fn == nil and type(prefix) ~= "string" then prefix, fn = nil, prefix end
  if prefix ~= nil then
    local c = compile(prefix, "app:use")
    if not c.exact then fail("app:use: prefix must be a plain path without ':' or '*' (got '" .. prefix .. "')") end
    prefix = c.key
  end
  check_handler(fn, "app:use", "middleware")
  self._middleware[#self._middleware + 1] = { prefix = prefix, fn = fn }
  return self
end

-- app:ws(path, fn[, opts]): fn(ws, ctx) for WebSocket upgrades of path; opts go to req:upgrade.
function App:ws(path, fn, opts)
  check_self(self, "app:ws")
  local compiled = compile(path, "app:ws")
  check_handler(fn, "app:ws")
  if opts ~= nil and type(opts) ~= "table" then fail("app:ws: options must be a table (got " .. typename(opts) .. ")") end
  add_route(self._ws, compiled, "GET", fn, { ws_opts = opts })
  return self
end

local static_module
-- app:static(prefix, dir[, opts]): files under dir for GET and HEAD under prefix.
function App:static(prefix, dir, opts)
  check_self(self, "app:static")
  local c = compile(prefix, "app:static")
  if not c.exact then fail("app:static: prefix must be a plain path without ':' or '*' (got '" .. prefix .. "')") end
  if not static_module then
    static_module = load_internal("_http_static")
    static_module.bind(fail)
  end
  local handler = static_module.handler(dir, opts, c.key)
  local route = compile(c.key == "/" and "/*" or c.key .. "/*", "app:static")
  add_route(self._routes, route, "GET", handler, { passive = true })
  return self
end

-- The function to give net.http.listen (also usable directly: net.http.listen(0, app:handler())).
function App:handler()
  check_self(self, "app:handler")
  local h = self._handler
  if not h then
    h = function(req) return dispatch(self, req) end
    self._handler = h
  end
  return h
end

-- ([host,] port[, opts]) as net.http.listen takes them; cb (a function) where allowed.
local function listen_args(fname, with_cb, ...)
  local n, i = select("#", ...), 1
  local args = { ... }
  local host
  if type(args[1]) == "string" and not match(args[1], "^%d+$") then
    host, i = args[1], 2
  end
  local port = args[i]
  if type(port) == "string" then port = tonumber(port) or port end
  i = i + 1
  local opts, cb
  if type(args[i]) == "table" then
    opts, i = args[i], i + 1
  end
  if with_cb and args[i] ~= nil then
    if type(args[i]) ~= "function" then
      fail(fname .. ": callback must be a function (got " .. typename(args[i]) .. ")")
    end
    cb, i = args[i], i + 1
  end
  if i <= n then fail(fname .. ": unexpected argument #" .. i .. " (" .. typename(args[i]) .. ")") end
  return host, port, opts, cb
end

local function start(self, host, port, opts)
  local listen = net.http.listen
  if self.server then fail("app:listen: this app is already listening on port " .. self.port) end
  local srv
  if host then
    srv = listen(host, port, self:handler(), opts)
  else
    srv = listen(port, self:handler(), opts)
  end
  self.server, self.port = srv, srv.port
  return srv
end

-- app:start([host,] port[, opts]) -> the server (net.http.listen's), without waiting.
function App:start(...)
  check_self(self, "app:start")
  local host, port, opts = listen_args("app:start", false, ...)
  return start(self, host, port, opts)
end

-- app:listen([host,] port[, opts][, cb]): serves until the server is closed (app:close()).
function App:listen(...)
  check_self(self, "app:listen")
  local host, port, opts, cb = listen_args("app:listen", true, ...)
  local srv = start(self, host, port, opts)
  if cb then
    local ok, err = xpcall(cb, function(e)
      if type(e) == "string" then return debug.traceback(e, 2) end
      return e
    end, srv.port)
    if not ok then
      srv:close()
      self.server = nil
      error(err, 0)
    end
  end
  srv:wait()
  if self.server == srv then self.server = nil end
  return true
end

-- app:close([timeout_s]): closes the server started by listen/start (graceful, as srv:close).
function App:close(timeout)
  check_self(self, "app:close")
  local srv = self.server
  if not srv then return false end
  self.server = nil
  srv:close(timeout)
  return true
end

local M = {}

function M.new(...)
  if select("#", ...) > 0 then fail("http.server.new: takes no arguments") end
  return setmetatable({ _routes = new_table(), _ws = new_table(), _middleware = {} }, App)
end

return M
