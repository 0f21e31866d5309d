-- Smoke test: scripts/dashboard.lua serves its page, its JSON endpoint and its WebSocket feed
-- on one port (the browser test, tests/interop/dashboard_browser_test.lua, drives a real page).
local test = require("test")
local proc = dofile("tests/support/proc.lua")
local bin = os.getenv("MOONWIRE_BIN") or "build/moonwire"

test.after_each(function() proc.cleanup() end)

test("scripts/dashboard.lua: page, /api/stats and a live /feed on one port", function()
  local h = proc.start(("%s scripts/dashboard.lua 0 50"):format(proc.quote(bin)))
  local base
  for _ = 1, 400 do
    base = h:output():match("dashboard on (http://127%.0%.0%.1:%d+)/")
    if base or not h:alive() then break end
    task.sleep(0.05)
  end
  assert(base, "the dashboard did not start:\n" .. h:output())

  local page = http.get(base .. "/")
  test.eq(page.status, 200)
  test.eq(page.headers["content-type"], "text/html; charset=utf-8")
  test.ok(page.body:find("new WebSocket", 1, true))
  local stats = http.get(base .. "/api/stats")
  test.eq(stats.headers["content-type"], "application/json")
  test.eq(json.decode(stats.body).type, "stats")

  local ws = net.ws.connect(base:gsub("^http", "ws") .. "/feed", { timeout = 5000 })
  ws:set_timeout(10000)
  local first = json.decode(ws:recv().data)
  test.eq(first.type, "stats")
  test.eq(first.clients, 1)
  local later
  repeat later = json.decode(ws:recv().data) until later.type == "stats" and later.tick > first.tick
  ws:send("hi there")
  local note
  repeat note = json.decode(ws:recv().data) until note.type == "note"
  test.eq(note.text, "hi there")
  ws:close()
  test.ok(h:alive(), h:output())
  test.eq(http.get(base .. "/nope").status, 404)
end)
