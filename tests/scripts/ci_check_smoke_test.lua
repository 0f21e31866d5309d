-- Smoke test: scripts/ci_check.lua (the example of docs/guide-ci-scripts.md) starts a real HTTP
-- server, checks it, stops it, and exits 0; on SIGTERM its handler stops the server first.
local test = require("test")
local proc = dofile("tests/support/proc.lua")
local bin = os.getenv("MOONWIRE_BIN") or "build/moonwire"
local peer_test = proc.peer_test(test, proc.have("python3") and proc.have("curl"), "python3 and curl")

test.after_each(proc.cleanup)

local function server_pids(dir)
  -- python's http.server children of the script, found by their working directory
  local r = process.exec("for p in $(pgrep -f 'http.server --bind 127.0.0.1'); do " ..
    "[ \"$(readlink /proc/$p/cwd)\" = " .. proc.quote(dir) .. " ] && echo $p; done; true")
  return r.stdout
end

peer_test("scripts/ci_check.lua passes against a live server and leaves nothing behind", function()
  local dir = proc.tmpdir()
  local r = process.spawn(bin, { "scripts/ci_check.lua", dir }, { timeout = 60000 })
  test.eq(r.status, 0, r.stdout .. r.stderr)
  test.matches(r.stdout, "ok   GET / is 200\n")
  test.matches(r.stdout, "ok   missing file is 404 %(curl%)\n")
  test.matches(r.stdout, "all checks passed\n$")
  test.eq(server_pids(dir), "")
  test.eq(fs.readdir(dir), {})
end)

peer_test("SIGTERM while it runs: the handler stops the server, then exit 143", function()
  local dir = proc.tmpdir()
  -- a directory listing that never ends keeps the script busy: a FIFO as index.html
  test.eq(process.spawn("mkfifo", { dir .. "/index.html" }).status, 0)
  local child = process.start(bin, { "scripts/ci_check.lua", dir })
  local pids
  for _ = 1, 100 do
    pids = server_pids(dir)
    if pids ~= "" then break end
    task.sleep(0.1)
  end
  test.ok(pids ~= "", "the server never started")
  task.sleep(0.3)
  child:kill("TERM")
  local st = child:wait(20000)
  test.eq(st.status, 143)
  test.eq(server_pids(dir), "")
end)
