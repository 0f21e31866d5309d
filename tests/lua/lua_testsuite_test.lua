-- Lua 5.4.4's own test suite (the testes/ folder of github.com/lua/lua at tag v5.4.4) under
-- moonwire. The suite is not in this repository: point MOONWIRE_LUA_TESTES at a checkout's
-- testes/ directory (docs/lua-compat.md says how); without it these tests are skipped.
-- Each file runs in its own moonwire process, from inside the suite's directory, exactly as the
-- suite's README runs it for a portable, quick pass: moonwire -e "_port=true _soft=true" FILE.lua
local test = require("test")
local cli = dofile("tests/cli/fixtures/cli.lua")

test.after_each(cli.cleanup)

-- What each file prints on stdout when it reached its end. Most end with a line "OK". A few
-- stop early under _port/_soft or without the C test library T (stock lua5.4 prints the same),
-- and some are helper modules that print nothing: for those the whole stdout is given
-- (`exact`). heavy.lua is left out: it is no part of all.lua and exhausts memory on purpose
-- (stock lua5.4 is killed too).
local OK = { marker = "\nOK\n" }
local FILES = {
  { "all.lua", marker = "\nfinal OK !!!\n" },  -- every file below in one state
  { "api.lua", marker = "\n >>> testC not active: skipping API tests <<<\n" },
  { "attrib.lua", OK }, { "big.lua", exact = "" }, { "bitwise.lua", OK },
  { "bwcoercion.lua", exact = "" }, { "calls.lua", OK }, { "closure.lua", OK },
  { "code.lua", marker = "\n >>> testC not active: skipping opcode tests <<<\n" },
  { "constructs.lua", OK }, { "coroutine.lua", OK }, { "cstack.lua", OK }, { "db.lua", OK },
  { "errors.lua", OK }, { "events.lua", OK }, { "files.lua", marker = "\nLua 5.4\n" },
  { "gc.lua", OK }, { "gengc.lua", OK }, { "goto.lua", OK }, { "literals.lua", OK },
  { "locals.lua", OK }, { "main.lua", exact = "" }, { "math.lua", OK }, { "nextvar.lua", OK },
  { "pm.lua", OK }, { "sort.lua", OK }, { "strings.lua", OK }, { "tpack.lua", OK },
  { "tracegc.lua", exact = "" }, { "utf8.lua", marker = "\nok\n" }, { "vararg.lua", OK },
  { "verybig.lua", exact = "testing RK\n" },
}

local dir = os.getenv("MOONWIRE_LUA_TESTES")
local present = dir and dir ~= "" and cli.proc.read_file(dir .. "/all.lua") ~= nil

local function expectation(spec)
  local e = spec[2] or spec
  return e.marker, e.exact
end

-- The last bytes of a process's output, enough to see the failing assertion and its traceback.
local function tail(s)
  s = s:gsub("%.%.%.%.+", "...")  -- the suite's progress dots
  return #s > 2000 and "..." .. s:sub(-2000) or s
end

local function check_file(spec)
  local name = spec[1]
  test.ok(cli.proc.read_file(dir .. "/" .. name), name .. " is missing from " .. dir)
  local r = cli.run({ "-e", "_port=true _soft=true", name }, { cwd = dir, timeout = 120 })
  test.eq(r.code, 0, name .. " failed:\n" .. tail(r.err))
  local marker, exact = expectation(spec)
  if exact then
    test.eq(r.out, exact, name .. " stdout")
  else
    test.ok(("\n" .. r.out):find(marker, 1, true), name .. " did not reach its end:\n" .. tail(r.out))
  end
end

if not present then
  local why = dir and dir ~= "" and ("MOONWIRE_LUA_TESTES=" .. dir .. " has no all.lua")
    or "set MOONWIRE_LUA_TESTES to Lua 5.4.4's testes/ directory"
  test.skip("Lua 5.4.4 test suite (" .. why .. ")")
  return
end

for _, spec in ipairs(FILES) do
  test(spec[1], function() check_file(spec) end, { timeout = 150 })
end
