-- Test support: a real redis-server (Debian's) on a free 127.0.0.1 port, stopped by PID.
-- Usage: local rs = dofile("tests/support/redis.lua"); local srv = rs.start({password = "s"})
--   srv.port, srv.url, srv:stop(), srv:restart() (same port, same options), rs.available
local proc = dofile("tests/support/proc.lua")
local M = { proc = proc, available = proc.have("redis-server") }

-- The server also stops when this test process dies (a filtered run never reaches cleanup).
local MYPID = io.open("/proc/self/stat"):read("l"):match("^%d+")
local function owned(cmd)
  return "sh -c " .. proc.quote(cmd .. " & p=$!; trap 'kill $p 2>/dev/null' TERM; while kill -0 " .. MYPID ..
    " 2>/dev/null && kill -0 $p 2>/dev/null; do sleep 0.2; done; kill $p 2>/dev/null; wait")
end

local function command_line(o)
  local args = { "redis-server", "--bind", "127.0.0.1", "--save", "''", "--appendonly", "no", "--daemonize", "no" }
  local function add(...) for _, a in ipairs({ ... }) do args[#args + 1] = a end end
  if o.tls then
    add("--port", "0", "--tls-port", tostring(o.port), "--tls-cert-file", o.tls.cert, "--tls-key-file", o.tls.key,
      "--tls-ca-cert-file", o.tls.ca, "--tls-auth-clients", "no")
  else
    add("--port", tostring(o.port))
  end
  if o.password then add("--requirepass", proc.quote(o.password)) end
  for _, a in ipairs(o.args or {}) do add(a) end
  return table.concat(args, " ")
end

local function wait_ready(srv)
  local deadline = time.monotonic() + 10
  while true do
    if srv.proc:output():find("Ready to accept connections", 1, true) then return end
    if not srv.proc:alive() then error("redis-server exited:\n" .. srv.proc:output(), 3) end
    if time.monotonic() > deadline then error("redis-server not ready after 10 s:\n" .. srv.proc:output(), 3) end
    task.sleep(0.02)
  end
end

-- opts: password, tls = {cert, key, ca} (as proc.make_certs returns), args = {extra, ...}
function M.start(opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.port = o.port or proc.free_port()
  local srv = { port = o.port, opts = o }
  srv.url = (o.tls and "rediss://" or "redis://") .. (o.password and (":" .. o.password .. "@") or "") .. "127.0.0.1:" .. o.port
  function srv:start()
    self.proc = proc.start(owned(command_line(o)))
    wait_ready(self)
  end
  function srv:stop() if self.proc then self.proc:stop() end end
  function srv:restart()
    self:stop()
    self:start()
  end
  srv:start()
  return srv
end

M.cleanup = proc.cleanup
return M
