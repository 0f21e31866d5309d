-- redis pub/sub subscribers (part of stdlib/lua/redis.lua, loaded by it; docs/redis.md):
-- each subscriber has its own connection in push mode, queues messages, and restores its
-- subscriptions after a reconnect.
local _, einval = ...

return function(x)
local core, DEAD, Client, SPECIAL = x.core, x.DEAD, x.Client, x.SPECIAL
local open_with_backoff, lost_error, raise = x.open_with_backoff, x.lost_error, x.raise
local unpack, ipairs, pairs, type, tostring = table.unpack, ipairs, pairs, type, tostring


local Sub = {}
local sub_mt = { __index = Sub, __name = "redis.subscriber" }

local function sub_lost(self)
  local c = self.c
  return not c or not c:state()
end

-- Handles one push: a message goes to the queue (returned by recv); confirmations are noted.
local function on_push(self, v)
  if type(v) ~= "table" then return end
  if v.code and getmetatable(v) then error(v, 0) end
  local kind = type(v[1]) == "string" and v[1]:lower() or ""
  if kind == "message" then
    self.queue[#self.queue + 1] = { kind = "message", channel = v[2], message = v[3] }
  elseif kind == "pmessage" then
    self.queue[#self.queue + 1] = { kind = "pmessage", pattern = v[2], channel = v[3], message = v[4] }
  elseif kind == "subscribe" or kind == "psubscribe" then
    local w = self.waiting[kind]
    if w and w[v[2]] then
      w[v[2]] = nil
      w.n = w.n - 1
    end
  end
end

-- Sends (P)SUBSCRIBE for `names` and waits for every confirmation (messages meanwhile are queued).
local function do_subscribe(self, kind, names, timeout)
  local cmd = kind == "subscribe" and "SUBSCRIBE" or "PSUBSCRIBE"
  local w = { n = 0 }
  for _, name in ipairs(names) do
    if not w[name] then w[name] = true; w.n = w.n + 1 end
  end
  self.waiting[kind] = w
  local c = self.c
  if c:send(cmd, unpack(names)) == DEAD then error(lost_error(c), 0) end
  if self.receiving then return end  -- the receiving task sees the confirmations
  while w.n > 0 do
    local v = c:recv(timeout)
    if v == DEAD then error(lost_error(c), 0) end
    on_push(self, v)
  end
  self.waiting[kind] = nil
end

local function check_names(names, what, level)
  if #names == 0 then einval("redis: " .. what .. " expects at least one name", level + 1) end
  for i, n in ipairs(names) do
    if type(n) ~= "string" and type(n) ~= "number" then
      einval(("redis: %s: name #%d must be a string (got %s)"):format(what, i, type(n)), level + 1)
    end
    names[i] = tostring(n)
  end
end

local function resubscribe(self)
  local chans, pats = {}, {}
  for ch in pairs(self.channels) do chans[#chans + 1] = ch end
  for p in pairs(self.patterns) do pats[#pats + 1] = p end
  table.sort(chans)
  table.sort(pats)
  local t = self.client.cfg.connect_timeout
  if #chans > 0 then do_subscribe(self, "subscribe", chans, t) end
  if #pats > 0 then do_subscribe(self, "psubscribe", pats, t) end
  return chans, pats
end

local function sub_connect(self)
  local c = open_with_backoff(self.client.cfg, function() return self.closed end)
  c:set_push_mode(true)
  self.c = c
  if self.closed then  -- closed while connecting
    c:close()
    raise("closed", "redis: subscriber is closed", 3)
  end
end

local function new_sub(self, kind, names)
  if self.closed then raise("closed", "redis: client is closed", 3) end
  check_names(names, kind, 3)
  local sub = setmetatable({ client = self, channels = {}, patterns = {}, queue = {}, waiting = {}, closed = false }, sub_mt)
  sub_connect(sub)
  local set = kind == "subscribe" and sub.channels or sub.patterns
  for _, n in ipairs(names) do set[n] = true end
  local ok, err = pcall(do_subscribe, sub, kind, names, self.cfg.connect_timeout)
  if not ok then sub.c:close(); error(err, 0) end
  self.subs[sub] = true
  return sub
end

-- r:subscribe(channel, ...) / r:psubscribe(pattern, ...) → a subscriber on its own connection.
function Client:subscribe(...) return new_sub(self, "subscribe", { ... }) end
function Client:psubscribe(...) return new_sub(self, "psubscribe", { ... }) end
SPECIAL.SUBSCRIBE = function(self, _, _, ...) return new_sub(self, "subscribe", { ... }) end
SPECIAL.PSUBSCRIBE = function(self, _, _, ...) return new_sub(self, "psubscribe", { ... }) end

local function sub_check(self, what)
  if self.closed then raise("closed", "redis: subscriber is closed", 3) end
end

function Sub:subscribe(...)
  sub_check(self)
  local names = { ... }
  check_names(names, "subscribe", 2)
  for _, n in ipairs(names) do self.channels[n] = true end
  if sub_lost(self) then return end  -- restored by the next recv
  do_subscribe(self, "subscribe", names, self.client.cfg.connect_timeout)
end

function Sub:psubscribe(...)
  sub_check(self)
  local names = { ... }
  check_names(names, "psubscribe", 2)
  for _, n in ipairs(names) do self.patterns[n] = true end
  if sub_lost(self) then return end
  do_subscribe(self, "psubscribe", names, self.client.cfg.connect_timeout)
end

local function unsub(self, cmd, set, ...)
  sub_check(self)
  local names = { ... }
  if #names == 0 then
    for n in pairs(set) do set[n] = nil end
  else
    check_names(names, cmd:lower(), 3)
    for _, n in ipairs(names) do set[n] = nil end
  end
  if not sub_lost(self) then self.c:send(cmd, unpack(names)) end
end
-- sub:unsubscribe([channel, ...]) (none: all channels); sub:punsubscribe([pattern, ...]).
function Sub:unsubscribe(...) unsub(self, "UNSUBSCRIBE", self.channels, ...) end
function Sub:punsubscribe(...) unsub(self, "PUNSUBSCRIBE", self.patterns, ...) end

-- sub:recv([timeout_ms]) → {kind = "message", channel, message} / {kind = "pmessage", pattern,
-- channel, message} / {kind = "reconnected", channels, patterns} after the connection was
-- lost and restored (messages published meanwhile are lost). nil + error object (code
-- "ETIMEDOUT") on timeout; nil + error object (code "closed") once the subscriber is closed.
function Sub:recv(timeout)
  if timeout ~= nil and (type(timeout) ~= "number" or timeout ~= timeout or timeout < 0) then
    einval("redis: recv: timeout must be a non-negative number of milliseconds", 2)
  end
  while true do
    if self.closed then return nil, core.new_error("closed", "redis: subscriber is closed") end
    local q = self.queue
    if #q > 0 then return table.remove(q, 1) end
    if self.receiving then raise("busy", "redis: another task is already receiving on this subscriber", 2) end
    if sub_lost(self) then
      if self.c then self.c:close() end
      self.receiving = true
      local ok, err = pcall(sub_connect, self)
      if ok then ok, err = pcall(resubscribe, self) end
      self.receiving = false
      if self.closed then
        if self.c then self.c:close() end
        return nil, core.new_error("closed", "redis: subscriber is closed")
      end
      if not ok then error(err, 0) end
      local chans, pats = {}, {}
      for ch in pairs(self.channels) do chans[#chans + 1] = ch end
      for p in pairs(self.patterns) do pats[#pats + 1] = p end
      table.sort(chans)
      table.sort(pats)
      return { kind = "reconnected", channels = chans, patterns = pats }
    end
    local c = self.c
    self.receiving = true
    local ok, v = pcall(c.recv, c, timeout)
    self.receiving = false
    if not ok then
      if self.closed then return nil, core.new_error("closed", "redis: subscriber is closed") end
      if type(v) == "table" and v.code == "ETIMEDOUT" then return nil, v end
      if c:state() then error(v, 0) end
      -- lost: the loop reconnects
    elseif v ~= DEAD then
      -- confirmations arriving while we wait are noted (subscribe from another task)
      for kind, w in pairs(self.waiting) do
        if w.n == 0 then self.waiting[kind] = nil end
      end
      local okp, perr = pcall(on_push, self, v)
      if not okp then error(perr, 0) end
    end
  end
end

function Sub:close()
  if self.closed then return end
  self.closed = true
  if self.c then self.c:close() end
  self.client.subs[self] = nil
end
sub_mt.__close = Sub.close
sub_mt.__tostring = function(self)
  local n = 0
  for _ in pairs(self.channels) do n = n + 1 end
  for _ in pairs(self.patterns) do n = n + 1 end
  return ("redis.subscriber (%d subscriptions%s)"):format(n, self.closed and ", closed" or "")
end

function Sub:channels_list()
  local t = {}
  for ch in pairs(self.channels) do t[#t + 1] = ch end
  table.sort(t)
  return t
end
end
