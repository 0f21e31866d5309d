-- Smoke test: scripts/stdlib_tour.lua (CopperMoon's test_stdlib.lua style: fs, path, os_ext,
-- process, crypto, buffer, json, time, net.url, fs.watch) runs to completion and passes its checks.
local test = require("test")
local proc = dofile("tests/support/proc.lua")
local bin = os.getenv("MOONWIRE_BIN") or "build/moonwire"

test.after_each(proc.cleanup)

test("scripts/stdlib_tour.lua passes every check, exit 0, its work dir removed", function()
  local r = process.spawn(bin, { "scripts/stdlib_tour.lua" }, { timeout = 60000 })
  test.eq(r.stderr, "")
  test.eq(r.status, 0, r.stdout)
  for _, s in ipairs({ "fs", "path", "os_ext / process", "crypto", "buffer", "json", "time", "net.url", "fs.watch" }) do
    test.ok(r.stdout:find("=== " .. s .. " ===", 1, true), "section " .. s .. " missing:\n" .. r.stdout)
  end
  test.matches(r.stdout, "sha256:\t2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\n")
  test.matches(r.stdout, "sorted:\tapple fig pear\texit:\t0\n")
  test.matches(r.stdout, "popen:\tone\ttwo\ttrue\texit\t0\n")
  test.matches(r.stdout, "event:\tcreated\tnew%.txt\n")
  test.matches(r.stdout, "work dir removed:\ttrue\n")
  test.matches(r.stdout, "all checks passed\n$")
  local beats = tonumber(r.stdout:match("heartbeat ticked (%d+) times"))
  test.ok(beats and beats > 0, "the heartbeat task never ran while the tour waited")
end)

test("with a work dir argument the tour keeps its files there", function()
  local dir = proc.tmpdir()
  local r = process.spawn(bin, { "scripts/stdlib_tour.lua", dir }, { timeout = 60000 })
  test.eq(r.status, 0, r.stdout .. r.stderr)
  test.eq(fs.read(dir .. "/hello.txt"), "Hello from moonwire!\nsecond line\n")
  test.eq(fs.read(dir .. "/build.log"), "step 1 ok\nstep 2 ok\nstep 3 ok\n")
  test.ok(fs.is_file(dir .. "/watched/new.txt"))
end)
