-- Modules from the command line's point of view: package.path/cpath, Debian's Lua C modules,
-- the script's directory, and modules whose top level does I/O.
local test = require("test")
local cli = dofile("tests/cli/fixtures/cli.lua")
local run = cli.run

test.after_each(cli.cleanup)

-- Installed by tools/install-deps.sh (lua-cjson, lua-lpeg). Skipped only when the package is
-- really missing, so the skip shows in the report.
local function find_so(name)
  local p = io.popen("ls /usr/lib/*/lua/5.4/" .. name .. ".so /usr/lib/lua/5.4/" .. name .. ".so 2>/dev/null")
  local path = p:read("l")
  p:close()
  return path
end

;(find_so("cjson") and test or test.skip)("require('cjson') loads Debian's lua-cjson C module", function()
  local r = run({ "-e", "local cjson = require('cjson') print(cjson.encode({1, 2, 3}), cjson.decode('{\"a\":\"five\"}').a)" })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "[1,2,3]\tfive\n")
end)

;(find_so("lpeg") and test or test.skip)("require('lpeg') loads Debian's lua-lpeg C module", function()
  local r = run({ "-e", "local lpeg = require('lpeg') local p = lpeg.C(lpeg.R('az')^1) * ' ' * lpeg.C(lpeg.R('09')^1) print(p:match('abc 123'))" })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "abc\t123\n")
end)

test("package.path and package.cpath are the standard ones (plus the script's directory)", function()
  local r = run({ "-e", "print(package.path) print(package.cpath)" })
  test.eq(r.code, 0, r.err)
  local path, cpath = r.out:match("^([^\n]*)\n([^\n]*)\n$")
  test.matches(path, "/usr/local/share/lua/5%.4/%?%.lua")
  test.matches(path, "/usr/share/lua/5%.4/%?%.lua")
  test.matches(path, "%./%?%.lua")
  test.matches(cpath, "/usr/local/lib/lua/5%.4/%?%.so")
  test.matches(cpath, "/lua/5%.4/%?%.so")
end)

test("a script finds a sibling module when run from another directory", function()
  local dir = cli.files({
    ["app/main.lua"] = "local helper = require('helper')\nprint(helper.greet())\nprint(require('pkg').name)\n",
    ["app/helper.lua"] = "return { greet = function() return 'hello from helper' end }\n",
    ["app/pkg/init.lua"] = "return { name = 'pkg via init.lua' }\n",
  })
  local elsewhere = cli.proc.tmpdir()
  local r = run({ dir .. "/app/main.lua" }, { cwd = elsewhere })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "hello from helper\npkg via init.lua\n")
  -- Also with a relative path from the parent directory.
  r = run({ "app/main.lua" }, { cwd = dir })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "hello from helper\npkg via init.lua\n")
end)

test("the script's directory comes before the current directory on package.path", function()
  local dir = cli.files({
    ["app/main.lua"] = "print(require('which').where)\n",
    ["app/which.lua"] = "return { where = 'script dir' }\n",
    ["cwd/which.lua"] = "return { where = 'current dir' }\n",
  })
  local r = run({ dir .. "/app/main.lua" }, { cwd = dir .. "/cwd" })
  test.eq(r.out, "script dir\n")
end)

test("a module whose top level sleeps loads through require; other tasks run meanwhile", function()
  local dir = cli.files({
    ["main.lua"] = [[
local ticks = 0
local t = task.spawn(function() while true do ticks = ticks + 1 task.sleep(0.01) end end)
local m = require("sleepy")
print(m.value, ticks > 1)
t:cancel()
]],
    ["sleepy.lua"] = "task.sleep(0.1)\nreturn { value = 'sleepy loaded' }\n",
  })
  local r = run({ "main.lua" }, { cwd = dir })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "sleepy loaded\ttrue\n")
end)

test("a module whose top level makes a TCP connection loads through require", function()
  local dir = cli.files({
    ["main.lua"] = [[
local server = net.tcp.listen("127.0.0.1", 0)
PORT = server.port
task.spawn(function()
  local c = server:accept()
  c:write("hello from server\n")
  c:close()
  server:close()
end)
local m = require("netmod")
print(m.greeting)
print(package.loaded.netmod == m)
]],
    ["netmod.lua"] = [[
local c = net.tcp.connect("127.0.0.1", PORT)
local line = c:read_line()
c:close()
return { greeting = line }
]],
  })
  local r = run({ "main.lua" }, { cwd = dir })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "hello from server\ntrue\n")
end)

test("a module that fails at load time: the error names the module file and line", function()
  local dir = cli.files({
    ["main.lua"] = "require('broken')\n",
    ["broken.lua"] = "local x = 1\nerror('broken at load')\n",
    ["badsyntax.lua"] = "return {\n",
  })
  local r = run({ "main.lua" }, { cwd = dir })
  test.eq(r.code, 1)
  test.matches(r.err, "broken%.lua:2: broken at load")
  r = run({ "-e", "require('badsyntax')" }, { cwd = dir, env = { LUA_PATH = dir .. "/?.lua;;" } })
  test.eq(r.code, 1)
  test.matches(r.err, "badsyntax%.lua:")
end)
