#!/usr/bin/env moonwire
-- A CI check script (docs/guide-ci-scripts.md): serve a directory with a real HTTP server,
-- check it with the HTTP client and with curl, and exit non-zero on the first failure.
--
--   moonwire scripts/ci_check.lua [dir]
--
-- Needs python3 (the server) and curl.

local dir = process.args[1] or fs.cwd()
local failures = 0

local function check(ok, what, detail)
  print((ok and "ok   " or "FAIL ") .. what)
  if not ok then
    failures = failures + 1
    if detail then print("     " .. tostring(detail):gsub("\n", "\n     ")) end
  end
end

-- A port nobody uses: bind to 0, read it back, release it.
local probe = net.tcp.listen("127.0.0.1", 0)
local port = probe.port
probe:close()

-- Start the server; it runs while this script does its checks (nothing here blocks the loop).
local server = process.start("python3", { "-m", "http.server", "--bind", "127.0.0.1", tostring(port) },
  { cwd = dir, stdout = "null", stderr = "null" })

-- Stop it however the script ends: normally, on an error, or on Ctrl-C / SIGTERM from CI.
local function stop_server()
  if server:kill() then server:wait(5000) end
end
process.on_signal("SIGINT", stop_server)   -- the default shutdown follows the handler
process.on_signal("SIGTERM", stop_server)

-- Wait until it accepts connections (at most 10 s).
local deadline = time.monotonic() + 10
while true do
  local ok, conn = pcall(net.tcp.connect, "127.0.0.1", port, { timeout = 500 })
  if ok then conn:close() break end
  if time.monotonic() > deadline then
    stop_server()
    io.stderr:write("server did not start on port " .. port .. "\n")
    process.exit(2)
  end
  task.sleep(0.1)
end

local base = "http://127.0.0.1:" .. port

-- 1. The listing answers 200 (the HTTP client).
local r = http.get(base .. "/")
check(r.status == 200, "GET / is 200", r.status)

-- 2. A file comes back byte for byte, checked by its hash.
fs.write(path.join(dir, ".ci-probe.txt"), "probe " .. crypto.uuid())
local expected = crypto.sha256(fs.read(path.join(dir, ".ci-probe.txt")))
r = http.get(base .. "/.ci-probe.txt")
check(r.status == 200 and crypto.sha256(r.body) == expected, "file served intact")

-- 3. curl agrees, and a missing file is a 404 (process.spawn: no shell, no quoting).
local c = process.spawn("curl", { "-s", "-o", "/dev/null", "-w", "%{http_code}", base .. "/no-such-file" }, { timeout = 10000 })
check(c.success and c.stdout == "404", "missing file is 404 (curl)", c.stdout .. c.stderr)

-- 4. Ten requests at once, each in its own task.
local tasks = {}
for i = 1, 10 do tasks[i] = task.spawn(function() return http.get(base .. "/.ci-probe.txt").status end) end
local all_ok = true
for i = 1, 10 do all_ok = all_ok and tasks[i]:join(10) == 200 end
check(all_ok, "10 concurrent requests")

fs.remove(path.join(dir, ".ci-probe.txt"))
stop_server()
print(failures == 0 and "all checks passed" or (failures .. " check(s) failed"))
process.exit(failures == 0 and 0 or 1)
