-- luacheck (Debian's lua-check, .luacheckrc) over stdlib/lua, scripts/, the Lua tests and the
-- type definitions: any warning fails, listed. `make lint` runs the same check.
local test = require("test")
local proc = dofile("tests/support/proc.lua")

local ptest = proc.peer_test(test, proc.have("luacheck"), "luacheck (Debian lua-check)")

ptest("luacheck: stdlib/lua, scripts, tests and types are clean", function()
  local p = io.popen("luacheck --no-color --formatter plain stdlib/lua scripts tests types 2>&1; echo \"rc=$?\"")
  local out = p:read("a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)\n$"))
  out = out:gsub("rc=%d+\n$", "")
  test.ok(rc == 0, ("luacheck found %d problem(s) (exit %s):\n%s"):format(select(2, out:gsub("\n", "")), rc, out))
end, { timeout = 120 })
