-- iLoveReact's http.lua (seed 000), require("lua.http"): request(id, opts) starts a request and
-- returns at once, poll() → the responses finished since the last poll, as
-- {id, status, headers, body, error}. At most `max_workers` requests run at a time (4, as the
-- seed's worker threads; init{max_workers = n} changes it), the others wait in order. Each
-- running request is a task on net.http (15 s timeout, proxies per request or from the
-- environment: HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY).
local callbacks = require("compat.callbacks")
local http = require("net.http")

local M = {}

local TIMEOUT_MS = 15000
local KNOWN = { "url", "method", "headers", "body", "proxy" }
local METHODS = { GET = true, POST = true, PUT = true, DELETE = true, PATCH = true, HEAD = true, OPTIONS = true }

local max_workers = 4
local running = 0
local waiting, w_head, w_tail = {}, 1, 0
local done, d_head, d_tail = {}, 1, 0

function M.init(settings)
  if settings ~= nil then
    if type(settings) ~= "table" then callbacks.type_error("http.init", 1, "table", settings) end
    for k in pairs(settings) do
      if k ~= "max_workers" then
        callbacks.bad_value("http.init", "unknown option '" .. tostring(k) .. "'" ..
          (callbacks.closest(tostring(k), { "max_workers" }) and " (did you mean 'max_workers'?)" or ""))
      end
    end
    local n = settings.max_workers
    if n ~= nil then
      if math.type(n) ~= "integer" or n < 1 or n > 1024 then
        callbacks.bad_value("http.init", "max_workers must be an integer 1..1024")
      end
      max_workers = n
    end
  end
  return true
end

local function finish(resp)
  d_tail = d_tail + 1
  done[d_tail] = resp
end

local start_next

local function perform(id, opts)
  local o = { method = opts.method, headers = opts.headers, body = opts.body, timeout = TIMEOUT_MS,
              proxy = opts.proxy }
  local ok, r = pcall(http.request, opts.url, o)
  if ok then
    finish({ id = id, status = r.status, headers = r.headers, body = r.body or "" })
  else
    finish({ id = id, status = 0, headers = {}, body = "", error = tostring(r) })
  end
  running = running - 1
  start_next()
end

function start_next()
  while running < max_workers and w_head <= w_tail do
    local job = waiting[w_head]
    waiting[w_head] = nil
    w_head = w_head + 1
    running = running + 1
    task.spawn(perform, job.id, job.opts)
  end
end

function M.request(id, opts)
  if type(id) ~= "string" and type(id) ~= "number" then callbacks.type_error("http.request", 1, "string or number id", id) end
  if type(opts) ~= "table" then callbacks.type_error("http.request", 2, "table", opts) end
  for k in pairs(opts) do
    local found = false
    for _, n in ipairs(KNOWN) do if k == n then found = true end end
    if not found then
      local hint = callbacks.closest(tostring(k), KNOWN)
      callbacks.bad_value("http.request", "unknown option '" .. tostring(k) .. "'" ..
        (hint and (" (did you mean '" .. hint .. "'?)") or ""))
    end
  end
  if type(opts.url) ~= "string" then callbacks.bad_value("http.request", "url (string) is required") end
  local method = opts.method or "GET"
  if type(method) ~= "string" or not METHODS[method:upper()] then
    callbacks.bad_value("http.request", "method must be GET, POST, PUT, DELETE, PATCH, HEAD or OPTIONS")
  end
  if opts.headers ~= nil and type(opts.headers) ~= "table" then callbacks.bad_value("http.request", "headers must be a table") end
  if opts.body ~= nil and type(opts.body) ~= "string" then callbacks.bad_value("http.request", "body must be a string") end
  if opts.proxy ~= nil and type(opts.proxy) ~= "string" then callbacks.bad_value("http.request", "proxy must be a URL string") end
  local copy = { url = opts.url, method = method:upper(), headers = opts.headers, body = opts.body, proxy = opts.proxy }
  w_tail = w_tail + 1
  waiting[w_tail] = { id = id, opts = copy }
  start_next()
  return true
end

function M.poll()
  local out = {}
  for i = d_head, d_tail do
    out[#out + 1] = done[i]
    done[i] = nil
  end
  d_head = d_tail + 1
  return out
end

-- moonwire extra: requests running and waiting (docs/compat.md).
function M.pending() return running, w_tail - w_head + 1 end

return M
