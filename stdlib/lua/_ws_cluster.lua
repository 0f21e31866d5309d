-- net.ws clusters (docs/cluster.md): server:cluster(redis, channel[, opts]) and
-- group:cluster(...) make the group's broadcast reach the clients of every process (worker,
-- machine) attached to the same Redis channel.
--
-- broadcast(data, type): delivered to this process's clients at once (the plain broadcast, with
-- its bounded per-client queues), then queued for a publisher task that PUBLISHes it (several
-- at a time, in one pipeline) as "mw1 ORIGIN t|b DATA". A subscriber task delivers every message
-- of the channel to the local clients, except this cluster's own (ORIGIN is random per cluster
-- object): each client gets each message once. A message that is not in this format (published
-- by another program: `redis-cli PUBLISH chan hello`) is delivered as a text message.
--
-- Loaded by stdlib/net/ws/cluster.cpp, which calls attach() and broadcast().
local M = {}

local einval = require("compat.errors").einval

local Cluster = {}
Cluster.__index = Cluster
Cluster.__name = "ws.cluster"

local DEFAULT_MAX_PENDING = 10000
local BATCH = 256
local HEADER = "mw1 "

local function random_id()
  local ok, bytes = pcall(crypto.random_bytes, 8)
  if ok then return (bytes:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
  return string.format("%x%x", process.pid(), math.random(0, 0x7fffffff))
end

local function warn(self, what, err)
  -- once per outage: reset when a publish succeeds again
  if self._warned then return end
  self._warned = true
  io.stderr:write(string.format("moonwire: ws cluster '%s': %s: %s\n", self.channel, what, tostring(err)))
  io.stderr:flush()
end

-- The shutdown (SIGINT/SIGTERM) or t:cancel() ends the layer's tasks: never caught for a retry.
local function code_of(e) return type(e) == "table" and e.code or nil end
local function rethrow_cancel(e)
  if code_of(e) == "cancelled" then error(e, 0) end
end

-- Re-raises a connect/subscribe error object as the script's: "script.lua:12: cluster: connect
-- to ...: Connection refused" (same code), instead of naming a line inside the redis module.
local function reraise(e)
  if type(e) == "table" and type(e.message) == "string" then
    local msg = e.message:gsub("^%[moonwire%][^:]*:%d+: ", "")
    local where = ""
    for level = 2, 20 do
      local info = debug.getinfo(level, "Sl")
      if not info then break end
      if info.what ~= "C" and info.currentline > 0 and not info.short_src:find("^%[moonwire%]") then
        where = info.short_src .. ":" .. info.currentline .. ": "
        break
      end
    end
    e.message = where .. "cluster: " .. msg
  end
  error(e, 0)
end

local function check_opts(opts)
  if opts == nil then return {} end
  if type(opts) ~= "table" then einval("cluster: options must be a table", 4) end
  for k, v in pairs(opts) do
    if k == "max_pending" then
      if math.type(v) ~= "integer" or v < 1 then einval("cluster: max_pending must be a positive integer", 4) end
    else
      einval("cluster: unknown option '" .. tostring(k) .. "' (known: max_pending)", 4)
    end
  end
  return opts
end

-- attach(target, redis, channel, opts, key, clusters, raw) → cluster
function M.attach(target, r, channel, opts, key, clusters, raw)
  if type(channel) ~= "string" or channel == "" then einval("cluster: channel must be a non-empty string", 4) end
  opts = check_opts(opts)
  local rt = type(r)
  if rt ~= "string" and not ((rt == "table" or rt == "userdata") and pcall(function()
        assert(type(r.publish) == "function" and type(r.subscribe) == "function")
      end)) then
    einval("cluster: redis must be a URL or a client from redis.connect", 4)
  end
  if clusters[key] then einval("cluster: this group is already in a cluster (close that one first)", 4) end
  local owned = rt == "string"
  if owned then
    local ok, c = pcall(redis.connect, r)
    if not ok then reraise(c) end
    r = c
  end
  local ok, sub = pcall(r.subscribe, r, channel)
  if not ok then
    if owned then pcall(r.close, r) end
    reraise(sub)
  end
  if clusters[key] then  -- attached by another task while we subscribed
    sub:close()
    if owned then pcall(r.close, r) end
    einval("cluster: this group is already in a cluster (close that one first)", 4)
  end
  local self = setmetatable({
    channel = channel,
    id = random_id(),
    _target = target,
    _key = key,
    _clusters = clusters,
    _raw = raw,
    _redis = r,
    _owned = owned,
    _sub = sub,
    _queue = {},
    _head = 1,
    _tail = 0,
    _max = opts.max_pending or DEFAULT_MAX_PENDING,
    _wake = task.channel(1),
    _woken = false,
    _stats = { published = 0, received = 0, delivered = 0, dropped = 0, errors = 0, reconnects = 0 },
    closed = false,
  }, Cluster)
  clusters[key] = self
  self._publisher = task.spawn(M._publish_loop, self)
  self._subscriber = task.spawn(M._subscribe_loop, self)
  return self
end

-- The hook of target:broadcast(data, type) (and cluster:broadcast): local clients now, the
-- others through Redis. Returns the number of local clients reached.
function M.broadcast(self, data, kind)
  kind = kind or "text"
  local n = self._raw(self._target, data, kind)
  if self.closed then return n end
  if self._tail - self._head + 1 >= self._max then
    self._stats.dropped = self._stats.dropped + 1
    warn(self, "publish queue full", "messages are dropped until Redis catches up")
    return n
  end
  self._tail = self._tail + 1
  self._queue[self._tail] = HEADER .. self.id .. (kind == "binary" and " b " or " t ") .. data
  if not self._woken then
    self._woken = true
    self._wake:send(true)
  end
  return n
end

function M._publish_loop(self)
  local r, channel, stats = self._redis, self.channel, self._stats
  while true do
    if self._head > self._tail then
      if self.closed then break end
      self._woken = false
      if not self._wake:recv() then break end
    end
    local first, last = self._head, math.min(self._tail, self._head + BATCH - 1)
    local q = self._queue
    local ok, res = pcall(r.pipeline, r, function(p)
      for i = first, last do p:publish(channel, q[i]) end
    end)
    for i = first, last do q[i] = nil end
    self._head = last + 1
    local count = last - first + 1
    if ok then
      stats.published = stats.published + count
      self._warned = false
    else
      stats.errors = stats.errors + count
      rethrow_cancel(res)
      if self.closed then break end
      warn(self, "publish failed", res)
      task.sleep(0.1)
    end
  end
  if self._owned then pcall(r.close, r) end
end

function M._subscribe_loop(self)
  local stats, origin_self = self._stats, self.id
  while not self.closed do
    local ok, m, err = pcall(self._sub.recv, self._sub)
    if self.closed then break end
    if not ok or not m then
      local e = ok and err or m
      rethrow_cancel(e)
      if code_of(e) == "closed" then break end
      warn(self, "subscriber", e)
      task.sleep(0.5)
    elseif m.kind == "message" then
      stats.received = stats.received + 1
      local msg = m.message
      local kind, data = "text", msg
      if msg:sub(1, 4) == HEADER then
        local sp = msg:find(" ", 5, true)
        if sp and msg:sub(sp + 2, sp + 2) == " " then
          local origin = msg:sub(5, sp - 1)
          kind = msg:sub(sp + 1, sp + 1) == "b" and "binary" or "text"
          data = msg:sub(sp + 3)
          if origin == origin_self then kind = nil end
        end
      end
      if kind then
        local okb, n = pcall(self._raw, self._target, data, kind)
        if okb then stats.delivered = stats.delivered + n end
      end
    elseif m.kind == "reconnected" then
      stats.reconnects = stats.reconnects + 1
      self._warned = false
    end
  end
end

-- cluster:broadcast(data[, type]): as target:broadcast.
function Cluster:broadcast(data, kind)
  if getmetatable(self) ~= Cluster then einval("cluster:broadcast: call it with ':'", 2) end
  return self._target:broadcast(data, kind)
end

-- cluster:stats() → {published, received, delivered, dropped, errors, reconnects, pending}
function Cluster:stats()
  local s = {}
  for k, v in pairs(self._stats) do s[k] = v end
  s.pending = self._tail - self._head + 1
  return s
end

-- cluster:close(): the group's broadcast is local again; the subscription ends; messages
-- queued for publishing are still sent; a client made from a URL is closed after them.
function Cluster:close()
  if self.closed then return end
  self.closed = true
  if self._clusters[self._key] == self then self._clusters[self._key] = nil end
  pcall(self._sub.close, self._sub)
  self._wake:close()
end
Cluster.__close = Cluster.close

function Cluster:__tostring()
  return string.format("ws.cluster (%s%s)", self.channel, self.closed and ", closed" or "")
end

return M
