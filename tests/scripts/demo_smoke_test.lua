-- Smoke test: the README's demo script runs to completion and reports what happened.
local test = require("test")
local proc = dofile("tests/support/proc.lua")
local bin = os.getenv("MOONWIRE_BIN") or "build/moonwire"

test("scripts/demo.lua runs 100 concurrent clients", function()
  local h = proc.start(("%s scripts/demo.lua"):format(proc.quote(bin)))
  local out
  for _ = 1, 600 do
    out = h:output()
    if not h:alive() then break end
    task.sleep(0.05)
  end
  h:stop()
  assert(out:find("echo server listening on 127%.0%.0%.1:%d+"), out)
  assert(out:find("100 clients, 100 connections served, 300 echoes"), out)
  -- Concurrency, not just completion: most of the 100 slow connections were handled at once.
  local peak = tonumber(out:match("(%d+) connections were being handled at the same time"))
  assert(peak and peak >= 50, "peak concurrency " .. tostring(peak) .. ":\n" .. out)
  assert(out:find("client 1 got: CLIENT 1 MESSAGE 1 | CLIENT 1 MESSAGE 2 | CLIENT 1 MESSAGE 3", 1, true), out)
  proc.cleanup()
end)
