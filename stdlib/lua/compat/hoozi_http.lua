-- HOOZi's net.http (seeds 002/004): net.http:get/post/request/... with callbacks, timeouts in
-- seconds (default 10) and resp = {status, body, ok, error, headers, url, file}. Reached through
-- the colon-call facade (stdlib/compat.cpp): net.http:get(...) lands in M.get(...) without the
-- module argument. Each request runs in a task of its own; the callback runs in that task (it
-- may do I/O), and an error it raises is reported on stderr like any task's, without affecting
-- other requests.
local http = package.loaded["net.http"]
local M = {}
local function spawn(fn) return (package.loaded.task or task).spawn(fn) end
local function convert(opts, timeout_s)
  local o = {}
  if type(opts) == "table" then
    for k, v in pairs(opts) do o[k] = v end
    if opts.content_type then
      local h = {}
      for k, v in pairs(opts.headers or {}) do h[k] = v end
      h["Content-Type"] = opts.content_type
      o.headers = h
    end
    o.content_type = nil
    timeout_s = opts.timeout or timeout_s
  end
  o.timeout = math.floor((timeout_s or 10) * 1000)
  return o
end
local function run(method, url, body, o, cb)
  spawn(function()
    o.method = method
    if body ~= nil then o.body = body end
    local ok, r = pcall(http.request, url, o)
    local resp
    if ok then
      resp = { status = r.status, body = r.body or "", ok = r.ok, headers = r.headers, url = r.url, file = r.file }
      if not r.ok then resp.error = "HTTP " .. r.status end
    else
      resp = { status = 0, body = "", ok = false, error = tostring(r), code = type(r) == "table" and r.code or nil }
    end
    if cb then cb(resp) end
  end)
end
local function simple(method)
  return function(url, a, b)
    if type(a) == "function" then return run(method, url, nil, convert(nil, b), a) end -- (url, cb, timeout)
    return run(method, url, nil, convert(a), b)                                       -- (url, options, cb)
  end
end
for _, m in ipairs({ "get", "delete", "head", "options" }) do M[m] = simple(m:upper()) end
local function with_body(method)
  return function(url, a, b, c, d)
    if type(a) == "table" then return run(method, url, nil, convert(a), b) end -- (url, options, cb)
    return run(method, url, a, convert({ content_type = b }, d), c)           -- (url, body, type, cb, timeout)
  end
end
for _, m in ipairs({ "post", "put", "patch" }) do M[m] = with_body(m:upper()) end
function M.request(url, method, options, cb)
  if type(options) == "function" then options, cb = nil, options end
  return run(string.upper(method or "GET"), url, nil, convert(options), cb)
end
return M
