-- The dashboard example (scripts/dashboard.lua: a page and a live WebSocket feed from one
-- script on one port) in a real browser: headless Chromium (Debian `chromium`) driven by
-- puppeteer-core (tests/interop/package.json) loads the page and sees it update live.
local test = require("test")
local proc = dofile("tests/support/proc.lua")
local bin = os.getenv("MOONWIRE_BIN") or "build/moonwire"

local available = proc.have("/usr/bin/chromium") and proc.run("test -d tests/interop/node_modules/puppeteer-core")
local t = proc.peer_test(test, available, "chromium and puppeteer-core")

test.after_each(function() proc.cleanup() end)

-- Starts the dashboard on a free port (port 0: it prints the one it got); returns its URL.
local function start_dashboard(interval_ms)
  local h = proc.start(("%s scripts/dashboard.lua 0 %d"):format(proc.quote(bin), interval_ms))
  local url
  for _ = 1, 400 do
    url = h:output():match("dashboard on (http://127%.0%.0%.1:%d+/)")
    if url or not h:alive() then break end
    task.sleep(0.05)
  end
  assert(url, "the dashboard did not start:\n" .. h:output())
  return url, h
end

local function wait_exit(h, seconds)
  local deadline = time.monotonic() + seconds
  while h:alive() and time.monotonic() < deadline do task.sleep(0.05) end
  return h:output()
end

t("chromium loads the dashboard and sees it update live from the WebSocket feed", function()
  local url, server = start_dashboard(200)
  -- The same port answers plain HTTP too.
  local r = http.get(url .. "api/stats")
  test.eq(r.status, 200)
  test.eq(json.decode(r.body).type, "stats")

  local profile = proc.tmpdir()
  local h = proc.start(("/usr/bin/node tests/interop/peers/dashboard_browser.js %s %s"):format(proc.quote(url),
    proc.quote(profile)))
  local out = wait_exit(h, 90)
  test.ok(not h:alive(), "the browser run did not finish:\n" .. out)
  local line = out:match("(%b{})%s*$")
  test.ok(line, "no result from the browser:\n" .. out .. "\nserver:\n" .. server:output())
  local seen = json.decode(line)
  test.ok(seen.ok, "browser: " .. tostring(seen.error) .. "\nserver:\n" .. server:output())
  test.eq(seen.status, 200)
  test.eq(seen.content_type, "text/html; charset=utf-8")
  test.eq(seen.title, "moonwire dashboard")
  test.ok(seen.later_tick > seen.first_tick)
  test.ok(seen.clients >= 2)
  test.eq(seen.note_in_first_tab, true)
  test.eq(seen.console_errors, {})
  test.ok(server:alive(), "the dashboard died:\n" .. server:output())
end, { timeout = 120 })
