-- redis: a Redis client (docs/redis.md). The wire (RESP2/3, auto-pipelining, reply matching)
-- is C++ (`_redis_core`, stdlib/net/redis/); this file is the surface: options and URLs,
-- handshake (HELLO/AUTH/SELECT), reconnect with backoff, command methods, pipelines,
-- transactions, the pool for blocking commands and pub/sub subscribers.
local _, einval, load = ...
local core = require("_redis_core")
local DEAD = core.DEAD
local null = json.null
core.set_null(null)

local M = { null = null }

local unpack, select, type, pairs, ipairs, tostring, tonumber = table.unpack, select, type, pairs, ipairs, tostring, tonumber
local upper, find, gmatch = string.upper, string.find, string.gmatch

local function raise(code, msg, level) core.error(code, msg, (level or 1) + 1) end

-- --- options --------------------------------------------------------------------------------

local KNOWN = {
  url = true, host = true, port = true, password = true, username = true, db = true, tls = true,
  timeout = true, connect_timeout = true, pool_size = true, reconnect = true, resp = true,
  client_name = true, nodelay = true,
}
local RECONNECT_KNOWN = { attempts = true, delay = true, max_delay = true }

local function suggest(key, known)
  local best, bestd
  for k in pairs(known) do
    -- a cheap distance: common prefix length and length difference
    local n = 0
    while n < #k and n < #key and k:sub(n + 1, n + 1) == key:sub(n + 1, n + 1) do n = n + 1 end
    local d = math.abs(#k - #key) + (math.max(#k, #key) - n)
    if not bestd or d < bestd then best, bestd = k, d end
  end
  return best
end

local function check_ms(v, name, level)
  if v == nil then return nil end
  if type(v) ~= "number" or v ~= v or v < 0 then
    einval(("redis.connect: option '%s' must be a non-negative number of milliseconds (got %s)"):format(name, tostring(v)), level)
  end
  return v
end

local function decode(s) return net.url.decode(s) end

local function parse_url(url, cfg, level)
  local scheme, rest = url:match("^(%a[%w+.-]*)://(.*)$")
  if scheme ~= "redis" and scheme ~= "rediss" then
    einval("redis.connect: URL must start with redis:// or rediss:// (got '" .. url .. "')", level)
  end
  if scheme == "rediss" then cfg.tls = cfg.tls or true end
  local authority, path = rest:match("^([^/?#]*)([^?#]*)")
  local query = rest:match("%?([^#]*)")
  local userinfo, hostport = authority:match("^(.*)@(.-)$")
  if not userinfo then hostport = authority end
  if userinfo then
    local u, p = userinfo:match("^([^:]*):(.*)$")
    if u then
      if u ~= "" then cfg.username = decode(u) end
      cfg.password = decode(p)
    elseif userinfo ~= "" then
      cfg.password = decode(userinfo)  -- redis://secret@host, as redis-cli
    end
  end
  local host, port = hostport:match("^%[([^%]]+)%]:?(%d*)$")
  if not host then
    host, port = hostport:match("^([^:]*):?(.*)$")
  end
  if host ~= "" then cfg.host = decode(host) end
  if port ~= "" then
    local n = tonumber(port)
    if not n or n ~= math.floor(n) then einval("redis.connect: bad port in URL '" .. url .. "'", level) end
    cfg.port = n
  end
  if path ~= "" and path ~= "/" then
    local db = tonumber(path:match("^/(%d+)$"))
    if not db then einval("redis.connect: bad database in URL '" .. url .. "' (expected /N)", level) end
    cfg.db = db
  end
  if query then
    for k, v in gmatch(query, "([^&=]+)=?([^&]*)") do
      if k == "db" then cfg.db = tonumber(v)
      elseif k == "password" then cfg.password = decode(v)
      elseif k == "timeout" then cfg.timeout = tonumber(v)
      else einval("redis.connect: unknown URL parameter '" .. k .. "'", level) end
    end
  end
end

local function make_config(a, b, level)
  level = level + 1
  local cfg = { host = "127.0.0.1", port = 6379, db = 0, connect_timeout = 10000, pool_size = 4,
    reconnect = { attempts = 10, delay = 50, max_delay = 2000 } }
  local opts
  if type(a) == "string" then
    parse_url(a, cfg, level)
    opts = b
  elseif type(a) == "table" then
    opts = a
    if b ~= nil then einval("redis.connect: give either a URL and options, or one options table", level) end
  elseif a == nil then
    opts = b
  else
    einval("redis.connect: expected a URL string or an options table (got " .. type(a) .. ")", level)
  end
  if opts ~= nil and type(opts) ~= "table" then
    einval("redis.connect: options must be a table (got " .. type(opts) .. ")", level)
  end
  for k, v in pairs(opts or {}) do
    if not KNOWN[k] then
      einval(("redis.connect: unknown option '%s' (did you mean '%s'?)"):format(tostring(k), suggest(tostring(k), KNOWN)), level)
    end
    if k == "url" then parse_url(v, cfg, level) end
  end
  for k, v in pairs(opts or {}) do
    if k ~= "url" and k ~= "reconnect" then cfg[k] = v end
  end
  if type(cfg.host) ~= "string" or cfg.host == "" then einval("redis.connect: option 'host' must be a non-empty string", level) end
  local p = cfg.port
  if math.type(p) ~= "integer" and not (type(p) == "number" and p == math.floor(p)) then
    einval("redis.connect: option 'port' must be an integer (got " .. tostring(p) .. ")", level)
  end
  if p < 1 or p > 65535 then einval("redis.connect: port " .. tostring(p) .. " is out of range (1..65535)", level) end
  cfg.port = math.tointeger(p)
  if math.type(cfg.db) ~= "integer" and not (type(cfg.db) == "number" and cfg.db == math.floor(cfg.db)) or cfg.db < 0 then
    einval("redis.connect: option 'db' must be a non-negative integer (got " .. tostring(cfg.db) .. ")", level)
  end
  cfg.db = math.tointeger(cfg.db)
  for _, k in ipairs({ "password", "username", "client_name" }) do
    if cfg[k] ~= nil and type(cfg[k]) ~= "string" then
      einval("redis.connect: option '" .. k .. "' must be a string (got " .. type(cfg[k]) .. ")", level)
    end
  end
  if cfg.username and not cfg.password then einval("redis.connect: option 'username' needs 'password'", level) end
  check_ms(cfg.timeout, "timeout", level)
  check_ms(cfg.connect_timeout, "connect_timeout", level)
  if cfg.resp ~= nil and cfg.resp ~= 2 and cfg.resp ~= 3 then einval("redis.connect: option 'resp' must be 2 or 3", level) end
  if math.type(cfg.pool_size) ~= "integer" or cfg.pool_size < 0 then
    einval("redis.connect: option 'pool_size' must be a non-negative integer", level)
  end
  local rc = opts and opts.reconnect
  if rc == false then
    cfg.reconnect = false
  elseif rc ~= nil then
    if type(rc) ~= "table" then einval("redis.connect: option 'reconnect' must be a table or false", level) end
    for k, v in pairs(rc) do
      if not RECONNECT_KNOWN[k] then
        einval(("redis.connect: unknown reconnect option '%s' (did you mean '%s'?)"):format(tostring(k), suggest(tostring(k), RECONNECT_KNOWN)), level)
      end
      if type(v) ~= "number" or v ~= v or v < 0 then einval("redis.connect: reconnect option '" .. k .. "' must be a non-negative number", level) end
      cfg.reconnect[k] = v
    end
  end
  if cfg.tls ~= nil and type(cfg.tls) ~= "boolean" and type(cfg.tls) ~= "table" then
    einval("redis.connect: option 'tls' must be true, false or a table", level)
  end
  return cfg
end

-- --- connections ---------------------------------------------------------------------------

-- A new core connection with the handshake done: HELLO 3 (AUTH inside) or RESP2 + AUTH, SELECT.
local function open_conn(cfg)
  local c = core.connect(cfg.host, cfg.port, { timeout = cfg.connect_timeout, tls = cfg.tls or nil, nodelay = cfg.nodelay })
  local t = cfg.connect_timeout
  local ok, err = pcall(function()
    local proto = 2
    if cfg.resp ~= 2 then
      local args = { "HELLO", "3" }
      if cfg.password then
        args[#args + 1] = "AUTH"; args[#args + 1] = cfg.username or "default"; args[#args + 1] = cfg.password
      end
      if cfg.client_name then args[#args + 1] = "SETNAME"; args[#args + 1] = cfg.client_name end
      local hok, r = pcall(c.call, c, t, unpack(args))
      if hok and r ~= DEAD then
        proto = 3
      elseif r == DEAD then
        local _, code, msg = c:state()
        raise(code, msg)
      elseif cfg.resp == 3 or (r.code ~= "ERR" and r.code ~= "NOPROTO") or
          (r.code == "ERR" and not tostring(r):find("unknown command", 1, true)) then
        error(r, 0)
      end
    end
    local function must(...)
      local r = c:call(t, ...)
      if r == DEAD then
        local _, code, msg = c:state()
        raise(code, msg)
      end
      return r
    end
    if proto == 2 then
      if cfg.password then
        if cfg.username then must("AUTH", cfg.username, cfg.password) else must("AUTH", cfg.password) end
      end
      if cfg.client_name then must("CLIENT", "SETNAME", cfg.client_name) end
    end
    if cfg.db ~= 0 then must("SELECT", cfg.db) end
    return proto
  end)
  if not ok then
    c:close()
    error(err, 0)
  end
  return c, err
end

-- Reconnects with backoff (cfg.reconnect); raises the last error when the attempts are spent.
local function open_with_backoff(cfg, is_closed)
  local rc = cfg.reconnect
  local attempts = rc and rc.attempts or 0
  local delay = rc and rc.delay or 0
  local last
  for i = 0, attempts do
    if is_closed() then raise("closed", "redis: client is closed", 3) end
    local ok, c, proto = pcall(open_conn, cfg)
    if ok then return c, proto end
    last = c
    -- Authentication and configuration errors will not heal by retrying.
    local code = type(last) == "table" and last.code
    if code == "WRONGPASS" or code == "NOAUTH" or code == "NOPERM" or code == "EINVAL" or code == "ETLS" or code == "ECERT" then break end
    if i < attempts then
      task.sleep(math.min(delay, rc.max_delay) / 1000)
      delay = delay * 2
    end
  end
  error(last, 0)
end

-- --- the client ------------------------------------------------------------------------------

local Client = {}
local client_mt = { __name = "redis.client" }

-- Names that are client fields, never commands.
local FIELDS = { conn = true, cfg = true, proto = true, closed = true, timeout = true, pool = true,
  connecting = true, subs = true, busy = true, last_error = true, n = true }

local function ensure(self)
  if self.closed then raise("closed", "redis: client is closed", 3) end
  local c = self.conn
  if c and c:state() then return c end
  local waiting = self.connecting
  if waiting then
    waiting:recv()  -- the reconnecting task closes it when done
    if self.closed then raise("closed", "redis: client is closed", 3) end
    if self.conn and self.conn:state() then return self.conn end
    error(self.last_error or core.new_error("ECONNRESET", "redis: not connected"), 0)
  end
  local ch = task.channel()
  self.connecting = ch
  self.conn = false
  local ok, nc, proto = pcall(open_with_backoff, self.cfg, function() return self.closed end)
  self.connecting = false
  ch:close()
  if not ok then
    self.last_error = nc
    error(nc, 0)
  end
  if self.closed then
    nc:close()
    raise("closed", "redis: client is closed", 3)
  end
  self.conn, self.proto = nc, proto
  return nc
end

local function lost_error(c)
  local _, code, msg = c:state()
  return core.new_error(code or "ECONNRESET", msg or "redis: connection lost")
end

-- One command on the shared (pipelined) connection.
local function shared_call(self, timeout, ...)
  local c = ensure(self)
  local r = c:call(timeout, ...)
  if r == DEAD then
    c = ensure(self)
    r = c:call(timeout, ...)
    if r == DEAD then error(lost_error(c), 0) end
  end
  return r
end

-- RESP2 flat key/value lists → tables (RESP3 sends maps).
local function to_map(r)
  if type(r) ~= "table" or r[1] == nil and next(r) ~= nil then return r end
  local t = {}
  for i = 1, #r, 2 do t[r[i]] = r[i + 1] end
  return t
end
local MAP_REPLY = { HGETALL = true, ["CONFIG GET"] = true }

local BLOCKING = { BLPOP = true, BRPOP = true, BLMOVE = true, BRPOPLPUSH = true, BZPOPMIN = true,
  BZPOPMAX = true, BLMPOP = true, BZMPOP = true, WAIT = true, WAITAOF = true }

local function is_blocking(cmd, ...)
  if BLOCKING[cmd] then return true end
  if cmd == "XREAD" or cmd == "XREADGROUP" then
    for i = 1, select("#", ...) do
      local a = select(i, ...)
      if type(a) == "string" and upper(a) == "BLOCK" then return true end
    end
  end
  return false
end

-- Pool of dedicated connections (blocking commands, WATCH).
local function acquire(self)
  if self.closed then raise("closed", "redis: client is closed", 3) end
  local pool = self.pool
  while #pool > 0 do
    local c = table.remove(pool)
    if c:state() then return c end
  end
  local c = open_with_backoff(self.cfg, function() return self.closed end)
  if self.closed then  -- closed while connecting
    c:close()
    raise("closed", "redis: client is closed", 3)
  end
  return c
end

local function release(self, c)
  if self.closed or #self.pool >= self.cfg.pool_size or not c:state() then return c:close() end
  self.pool[#self.pool + 1] = c
end

-- Runs `...` on a pooled connection; an error reply keeps the connection, anything else
-- (timeout, lost connection) drops it.
local function pooled_call(self, timeout, ...)
  local c = acquire(self)
  self.busy[c] = true
  local ok, r = pcall(c.call, c, timeout, ...)
  if ok and r == DEAD then
    self.busy[c] = nil
    c:close()
    c = acquire(self)
    self.busy[c] = true
    ok, r = pcall(c.call, c, timeout, ...)
    if ok and r == DEAD then ok, r = false, lost_error(c) end
  end
  self.busy[c] = nil
  if ok or (type(r) == "table" and c:state() and r.code ~= "ETIMEDOUT" and r.code ~= "cancelled") then
    release(self, c)
  else
    c:close()
  end
  if not ok then error(r, 0) end
  return r
end

local function check_name(self, cmd, level)
  if self.closed then raise("closed", "redis: client is closed", level + 1) end
  if type(cmd) ~= "string" or cmd == "" then einval("redis: call: the command name must be a non-empty string", level + 1) end
end

local SPECIAL = {}  -- upper-case command → handler(self, timeout, cmd, ...)

-- `timeout` nil: the client's default, which blocking commands do not get (their own timeout
-- argument rules).
local function dispatch(self, timeout, cmd, ...)
  local u = upper(cmd)
  local h = SPECIAL[u]
  if h then return h(self, timeout or self.timeout, u, ...) end
  if is_blocking(u, ...) then return pooled_call(self, timeout or 0, cmd, ...) end
  timeout = timeout or self.timeout
  local r = shared_call(self, timeout, cmd, ...)
  if self.proto == 2 and (MAP_REPLY[u] or (u == "CONFIG" and type(...) == "string" and upper(...) == "GET")) then r = to_map(r) end
  return r
end

-- r:call([{timeout = ms},] cmd, args...)
function Client:call(a, ...)
  if type(a) == "table" then
    local opts = a
    for k in pairs(opts) do
      if k ~= "timeout" then einval("redis: call: unknown option '" .. tostring(k) .. "' (did you mean 'timeout'?)", 2) end
    end
    check_ms(opts.timeout, "timeout", 2)
    check_name(self, (...), 2)
    return dispatch(self, opts.timeout, ...)
  end
  check_name(self, a, 2)
  return dispatch(self, nil, a, ...)
end

-- Client methods that are not commands.
local API = { with_timeout = true, pipeline = true, multi = true, watch = true, subscribe = true,
  psubscribe = true, close = true, is_closed = true, stats = true }

-- A view of the client whose commands all have this timeout (ms): r:with_timeout(100):get(k).
function Client:with_timeout(ms)
  check_ms(ms, "timeout", 2)
  local root = self
  return setmetatable({}, { __index = function(_, name)
    if name == "call" then return function(_, ...) return Client.call(root, { timeout = ms }, ...) end end
    if API[name] then return function(_, ...) return Client[name](root, ...) end end
    local words = {}
    for w in gmatch(name, "[^_]+") do words[#words + 1] = upper(w) end
    return function(_, ...)
      local args = { unpack(words) }
      for i = 1, select("#", ...) do args[#words + i] = (select(i, ...)) end
      return Client.call(root, { timeout = ms }, unpack(args, 1, #words + select("#", ...)))
    end
  end })
end

-- Command methods are made on first use: r:hgetall(k) is r:call("HGETALL", k), and words
-- joined by "_" are a multi-word command: r:client_list() is CLIENT LIST.
local function make_method(name)
  local words = {}
  for w in gmatch(name, "[^_]+") do words[#words + 1] = upper(w) end
  local w1, w2, w3 = words[1], words[2], words[3]
  if #words == 1 and not SPECIAL[w1] and not BLOCKING[w1] and not MAP_REPLY[w1] and w1 ~= "XREAD" and w1 ~= "XREADGROUP" then
    -- the hot path: straight to the shared connection
    return function(self, ...)
      local c = self.conn
      if c then
        local r = c:call(self.timeout, w1, ...)
        if r ~= DEAD then return r end
      end
      check_name(self, w1, 2)
      return shared_call(self, self.timeout, w1, ...)
    end
  end
  if #words == 1 then return function(self, ...) return dispatch(self, nil, w1, ...) end end
  if #words == 2 then return function(self, ...) return dispatch(self, nil, w1, w2, ...) end end
  if #words == 3 then return function(self, ...) return dispatch(self, nil, w1, w2, w3, ...) end end
  return function(self, ...)
    local args = { unpack(words) }
    local n = select("#", ...)
    for i = 1, n do args[#words + i] = (select(i, ...)) end
    return dispatch(self, nil, unpack(args, 1, #words + n))
  end
end

local function generator(methods, make)
  return function(_, name)
    if type(name) ~= "string" or FIELDS[name] or name:sub(1, 1) == "_" or not find(name, "^%a[%w_]*$") then return nil end
    local f = make(name)
    rawset(methods, name, f)
    return f
  end
end

setmetatable(Client, { __index = generator(Client, make_method) })
client_mt.__index = Client
client_mt.__tostring = function(self)
  return ("redis.client (%s:%d/%d%s)"):format(self.cfg.host, self.cfg.port, self.cfg.db, self.closed and ", closed" or "")
end

function Client:close()
  if self.closed then return end
  self.closed = true
  if self.conn then self.conn:close() end
  self.conn = false
  for _, c in ipairs(self.pool) do c:close() end
  self.pool = {}
  for c in pairs(self.busy) do c:close() end
  for sub in pairs(self.subs) do sub:close() end
end
client_mt.__close = Client.close

function Client:is_closed() return self.closed end

-- Which connection, how many replies awaited, commands sent (diagnostics, tests).
function Client:stats()
  local c = self.conn
  local alive, _, _, pending, commands = false, nil, nil, 0, 0
  if c then alive, _, _, pending, commands = c:state() end
  return { connected = alive, pending = pending, commands = commands, pooled = #self.pool, protocol = self.proto }
end

SPECIAL.QUIT = function(self) self:close() return "OK" end
SPECIAL.SELECT = function(self, timeout, _, db)
  local n = math.tointeger(tonumber(db))
  if not n or n < 0 then einval("redis: select: the database must be a non-negative integer", 3) end
  local r = shared_call(self, timeout, "SELECT", n)
  self.cfg.db = n  -- kept across reconnects; pooled connections were on the old one
  for _, c in ipairs(self.pool) do c:close() end
  self.pool = {}
  return r
end
local function refuse(what, instead)
  return function() raise("EINVAL", "redis: " .. what .. " cannot run on the shared connection: " .. instead, 3) end
end
SPECIAL.MULTI = refuse("MULTI", "use r:multi(function(tx) ... end)")
SPECIAL.EXEC = refuse("EXEC", "use r:multi(function(tx) ... end)")
SPECIAL.DISCARD = refuse("DISCARD", "use r:multi(function(tx) ... end)")
SPECIAL.WATCH = refuse("WATCH", "use r:watch(keys, function(w) ... end)")
SPECIAL.UNWATCH = refuse("UNWATCH", "use r:watch(keys, function(w) ... end)")
SPECIAL.MONITOR = refuse("MONITOR", "not supported")
SPECIAL.RESET = refuse("RESET", "not supported")
SPECIAL.UNSUBSCRIBE = refuse("UNSUBSCRIBE", "use sub:unsubscribe()")
SPECIAL.PUNSUBSCRIBE = refuse("PUNSUBSCRIBE", "use sub:punsubscribe()")
SPECIAL.SSUBSCRIBE = refuse("SSUBSCRIBE", "not supported")
SPECIAL.HELLO = refuse("HELLO", "the protocol is chosen at connect (option 'resp')")
SPECIAL.AUTH = refuse("AUTH", "give 'password' (and 'username') to redis.connect")

-- --- pipelines and transactions -------------------------------------------------------------

local Recorder = {}
local recorder_mt = { __index = Recorder, __name = "redis.pipeline" }
local function record(self, ...)
  if self.done then raise("EINVAL", "redis: this " .. self.kind .. " has already been sent", 3) end
  local n = select("#", ...)
  if n == 0 or type((...)) ~= "string" then einval("redis: " .. self.kind .. ": the command name must be a string", 3) end
  for i = 2, n do
    local t = type((select(i, ...)))
    if t ~= "string" and t ~= "number" then
      einval(("redis: %s: argument #%d of %s must be a string or a number (got %s)"):format(self.kind, i - 1, (...), t), 3)
    end
  end
  local u = upper((...))
  if BLOCKING[u] or u == "MULTI" or u == "EXEC" or u == "WATCH" or u == "SUBSCRIBE" or u == "PSUBSCRIBE" then
    einval("redis: " .. u .. " cannot be used in a " .. self.kind, 3)
  end
  self.cmds[#self.cmds + 1] = { ... }
  self.map[#self.cmds] = MAP_REPLY[u] or (u == "CONFIG" and n > 1 and upper((select(2, ...))) == "GET")
  return self
end
function Recorder:call(...) return record(self, ...) end
setmetatable(Recorder, { __index = generator(Recorder, function(name)
  local words = {}
  for w in gmatch(name, "[^_]+") do words[#words + 1] = upper(w) end
  return function(self, ...)
    if #words == 1 then return record(self, words[1], ...) end
    local args = { unpack(words) }
    local n = select("#", ...)
    for i = 1, n do args[#words + i] = (select(i, ...)) end
    return record(self, unpack(args, 1, #words + n))
  end
end) })

local function new_recorder(kind) return setmetatable({ cmds = {}, map = {}, kind = kind, done = false }, recorder_mt) end

local function fix_maps(proto, rec, results, offset)
  if proto ~= 2 then return results end
  for i, m in pairs(rec.map) do
    if m and type(results[i + offset]) == "table" then results[i + offset] = to_map(results[i + offset]) end
  end
  return results
end

local function batch_on(self, get_conn, timeout, cmds)
  local c = get_conn()
  local r = c:batch(timeout, cmds)
  if r == DEAD then
    c = get_conn()
    r = c:batch(timeout, cmds)
    if r == DEAD then error(lost_error(c), 0) end
  end
  return r
end

local function check_fn(fn, what)
  if type(fn) ~= "function" then einval("redis: " .. what .. " expects a function (got " .. type(fn) .. ")", 3) end
end

-- r:pipeline(function(p) p:set(...); p:get(...) end) → {reply1, reply2, ..., n = N}: the
-- commands are sent together; error replies are error objects in the list (not raised);
-- null replies are redis.null.
function Client:pipeline(fn, opts)
  check_fn(fn, "pipeline")
  if self.closed then raise("closed", "redis: client is closed", 2) end
  local p = new_recorder("pipeline")
  fn(p)
  p.done = true
  if #p.cmds == 0 then return { n = 0 } end
  local timeout = opts and opts.timeout or self.timeout
  local r = batch_on(self, function() return ensure(self) end, timeout, p.cmds)
  return fix_maps(self.proto, p, r, 0)
end

-- MULTI, the queued commands and EXEC as one batch on `get_conn`'s connection. Returns EXEC's
-- list (error objects for commands that failed inside), or nil when a WATCHed key changed.
local function run_multi(self, proto, get_conn, fn, timeout)
  local tx = new_recorder("transaction")
  fn(tx)
  tx.done = true
  local cmds = { { "MULTI" } }
  for i, cmd in ipairs(tx.cmds) do cmds[i + 1] = cmd end
  cmds[#cmds + 1] = { "EXEC" }
  local r = batch_on(self, get_conn, timeout, cmds)
  local exec = r[r.n]
  if exec == null then return nil end
  if type(exec) == "table" and exec.code and getmetatable(exec) then
    -- EXECABORT: say which queued command was refused
    for i = 2, r.n - 1 do
      local e = r[i]
      if type(e) == "table" and e.code and getmetatable(e) then
        raise(e.code, tostring(e.message or e) .. " (command #" .. (i - 1) .. " of the transaction; nothing was executed)", 3)
      end
    end
    error(exec, 0)
  end
  exec.n = #tx.cmds
  return fix_maps(proto, tx, exec, 0)
end

-- r:multi(function(tx) tx:incr("a"); tx:incr("b") end) → EXEC's replies (see run_multi).
function Client:multi(fn, opts)
  check_fn(fn, "multi")
  if self.closed then raise("closed", "redis: client is closed", 2) end
  return run_multi(self, self.proto, function() return ensure(self) end, fn, opts and opts.timeout or self.timeout)
end

-- r:watch(keys, function(w) ... return w:multi(function(tx) ... end) end): on a dedicated
-- connection: WATCH keys, then fn(w) where w runs commands (and w:multi) on that connection.
-- Returns fn's results; w:multi returns nil when a watched key changed.
local Watched = {}
local watched_mt = { __index = Watched, __name = "redis.watch" }
local function watched_call(self, ...)
  if self.done then raise("EINVAL", "redis: the watch function has returned", 3) end
  local r = self.c:call(self.timeout, ...)
  if r == DEAD then error(lost_error(self.c), 0) end
  local u = upper((...))
  if self.proto == 2 and MAP_REPLY[u] then r = to_map(r) end
  return r
end
function Watched:call(...) return watched_call(self, ...) end
function Watched:multi(fn)
  check_fn(fn, "multi")
  local c = self.c
  return run_multi(self, self.proto, function() return c end, fn, self.timeout)
end
setmetatable(Watched, { __index = generator(Watched, function(name)
  local words = {}
  for w in gmatch(name, "[^_]+") do words[#words + 1] = upper(w) end
  return function(self, ...)
    local args = { unpack(words) }
    local n = select("#", ...)
    for i = 1, n do args[#words + i] = (select(i, ...)) end
    return watched_call(self, unpack(args, 1, #words + n))
  end
end) })

function Client:watch(keys, fn)
  if type(keys) == "string" then keys = { keys } end
  if type(keys) ~= "table" or #keys == 0 then einval("redis: watch expects a key or a list of keys", 2) end
  check_fn(fn, "watch")
  local c = acquire(self)
  self.busy[c] = true
  local ok, err = pcall(function()
    local r = c:call(self.timeout, "WATCH", unpack(keys))
    if r == DEAD then error(lost_error(c), 0) end
  end)
  if not ok then self.busy[c] = nil; c:close(); error(err, 0) end
  local w = setmetatable({ c = c, proto = self.proto, timeout = self.timeout, done = false }, watched_mt)
  local res = table.pack(pcall(fn, w))
  w.done = true
  self.busy[c] = nil
  local alive = c:state()
  if alive and pcall(c.call, c, self.timeout, "UNWATCH") then release(self, c) else c:close() end
  if not res[1] then error(res[2], 0) end
  return unpack(res, 2, res.n)
end

-- --- pub/sub (stdlib/lua/_redis_pubsub.lua) -------------------------------------------------

load("_redis_pubsub")({ core = core, DEAD = DEAD, Client = Client, SPECIAL = SPECIAL,
  open_with_backoff = open_with_backoff, lost_error = lost_error, raise = raise })

-- --- connect --------------------------------------------------------------------------------

-- redis.connect(url | opts[, opts]) → client (connected; raises if the first connection fails)
function M.connect(a, b)
  local cfg = make_config(a, b, 2)
  local c, proto = open_conn(cfg)
  local self = setmetatable({ cfg = cfg, conn = c, proto = proto, closed = false, pool = {},
    connecting = false, subs = setmetatable({}, { __mode = "k" }), busy = {}, timeout = cfg.timeout or 0 }, client_mt)
  return self
end

-- redis.parse_url(url) → the options it stands for (tests, diagnostics)
function M.parse_url(url)
  if type(url) ~= "string" then einval("redis.parse_url: expected a string", 2) end
  local cfg = make_config(url, nil, 2)
  cfg.reconnect, cfg.connect_timeout, cfg.pool_size = nil, nil, nil
  return cfg
end

return M
