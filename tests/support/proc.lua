-- Test support: start real peer processes (servers, proxies) on 127.0.0.1 and stop them.
-- Usage: local proc = dofile("tests/support/proc.lua")
local M = {}

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
M.quote = sh_quote

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end
M.read_file = read_file

function M.write_file(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

-- The registering function for a test that needs an external program (a peer, a tool):
-- `test` when it is there; when it is missing `test.skip`, except in CI (CI set, as .ci/run
-- runs), where a missing peer is a failure: tools/install-deps.sh must have installed it.
function M.peer_test(test, available, what)
  if available then return test end
  if os.getenv("CI") and os.getenv("CI") ~= "" and os.getenv("CI") ~= "false" then
    return function(name, _, opts)
      test(name, function()
        error(what .. " is missing: tools/install-deps.sh must install it (CI does not skip peer tests)", 0)
      end, opts)
    end
  end
  return test.skip
end

function M.have(bin) return os.execute("command -v " .. bin .. " >/dev/null 2>&1") == true end

-- A free TCP port on 127.0.0.1 (bound and released at once).
function M.free_port()
  local s = net.tcp.listen("127.0.0.1", 0)
  local port = s.port
  s:close()
  return port
end

-- A fresh temporary directory, removed by M.cleanup().
local tmpdirs = {}
function M.tmpdir()
  local p = io.popen("mktemp -d /tmp/moonwire-test.XXXXXX")
  local dir = p:read("l")
  p:close()
  tmpdirs[#tmpdirs + 1] = dir
  return dir
end

local started = {}

-- Starts `cmd` (a shell command line) in its own process group, output to a log file.
-- Returns a handle: .pid, .log (path), :output(), :stop(), :alive().
function M.start(cmd)
  local dir = M.tmpdir()
  local log = dir .. "/out.log"
  local pidfile = dir .. "/pid"
  os.execute(string.format("setsid sh -c %s > %s 2>&1 < /dev/null & echo $! > %s",
    sh_quote("exec " .. cmd), sh_quote(log), sh_quote(pidfile)))
  local pid = tonumber((read_file(pidfile) or ""):match("%d+"))
  assert(pid, "could not start: " .. cmd)
  local h = { pid = pid, log = log, cmd = cmd }
  function h:output() return read_file(self.log) or "" end
  function h:alive() return os.execute("kill -0 " .. self.pid .. " 2>/dev/null") == true end
  function h:stop()
    if self.stopped then return end
    self.stopped = true
    os.execute("kill -TERM -" .. self.pid .. " 2>/dev/null; kill -TERM " .. self.pid .. " 2>/dev/null")
    for _ = 1, 50 do
      if not self:alive() then return end
      task.sleep(0.02)
    end
    os.execute("kill -KILL -" .. self.pid .. " 2>/dev/null; kill -KILL " .. self.pid .. " 2>/dev/null")
  end
  started[#started + 1] = h
  return h
end

-- Waits until something accepts TCP connections on 127.0.0.1:port (or raises after timeout_s).
function M.wait_port(port, timeout_s, host)
  local deadline = time.monotonic() + (timeout_s or 10)
  while true do
    local ok, conn = pcall(net.tcp.connect, host or "127.0.0.1", port, { timeout = 500 })
    if ok then conn:close() return true end
    if time.monotonic() > deadline then
      error("nothing listening on port " .. port .. " after " .. (timeout_s or 10) .. " s", 2)
    end
    task.sleep(0.05)
  end
end

-- Runs a shell command to completion (blocking; for short setup steps like openssl).
function M.run(cmd)
  local ok, _, code = os.execute(cmd)
  return ok == true, code
end

-- An in-process server: accepts on `server` (net.tcp or net.ws) in a task until the server is
-- closed, and runs handler(conn) in a task of its own for each connection. Returns the accept task.
function M.serve(server, handler)
  return task.spawn(function()
    while true do
      local ok, conn = pcall(server.accept, server)
      if not ok then return end
      task.spawn(handler, conn)
    end
  end)
end

-- Stops every started process and removes temporary directories.
function M.cleanup()
  for _, h in ipairs(started) do h:stop() end
  started = {}
  for _, d in ipairs(tmpdirs) do os.execute("rm -rf " .. sh_quote(d)) end
  tmpdirs = {}
end

-- Makes a throwaway CA and a server certificate for 127.0.0.1/localhost in `dir`.
-- Returns {ca = path, cert = path, key = path}.
function M.make_certs(dir)
  local q = sh_quote
  local cmds = {
    "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=moonwire test CA' -keyout " .. q(dir .. "/ca.key") ..
      " -out " .. q(dir .. "/ca.pem"),
    "openssl req -newkey rsa:2048 -nodes -subj '/CN=localhost' -keyout " .. q(dir .. "/server.key") ..
      " -out " .. q(dir .. "/server.csr"),
    "openssl x509 -req -in " .. q(dir .. "/server.csr") .. " -CA " .. q(dir .. "/ca.pem") .. " -CAkey " ..
      q(dir .. "/ca.key") .. " -CAcreateserial -days 2 -extfile " .. q(dir .. "/ext.cnf") .. " -out " ..
      q(dir .. "/server.pem"),
  }
  M.write_file(dir .. "/ext.cnf", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\n")
  for _, c in ipairs(cmds) do
    assert(M.run(c .. " > /dev/null 2>&1"), "openssl failed: " .. c)
  end
  return { ca = dir .. "/ca.pem", cert = dir .. "/server.pem", key = dir .. "/server.key" }
end

return M
