-- The command line: arg/..., flags, -e/-l/-v/--help/-/--, LUA_INIT, -E, chunk names, shebang.
local test = require("test")
local cli = dofile("tests/cli/fixtures/cli.lua")
local run = cli.run

test.after_each(cli.cleanup)

-- Prints arg (from its lowest index to its highest) and ... in a parseable way.
local SHOW_ARGS = [[
local lo, hi = 0, #arg
while arg[lo - 1] ~= nil do lo = lo - 1 end
local parts = {}
for i = lo, hi do parts[#parts + 1] = "[" .. i .. "]=" .. tostring(arg[i]) end
print("arg " .. table.concat(parts, " "))
print("... " .. select("#", ...) .. " " .. table.concat({...}, ","))
]]

test("arg: [0] is the script, negatives are the interpreter and options, positives the args", function()
  local dir = cli.files({ ["show.lua"] = SHOW_ARGS })
  local r = run({ "show.lua", "a", "b c" }, { cwd = dir })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "arg [-1]=" .. cli.bin .. " [0]=show.lua [1]=a [2]=b c\n... 2 a,b c\n")
  r = run({ "-e", "x = 1", "show.lua", "one" }, { cwd = dir })
  test.eq(r.out, "arg [-3]=" .. cli.bin .. " [-2]=-e [-1]=x = 1 [0]=show.lua [1]=one\n... 1 one\n")
end)

test("arguments after the script that look like flags are passed through", function()
  local dir = cli.files({ ["show.lua"] = SHOW_ARGS })
  local r = run({ "show.lua", "-e", "--help", "-v", "--", "-" }, { cwd = dir })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "arg [-1]=" .. cli.bin .. " [0]=show.lua [1]=-e [2]=--help [3]=-v [4]=-- [5]=-\n" ..
    "... 5 -e,--help,-v,--,-\n")
end)

test("-- stops option handling: the next argument is the script even if it starts with -", function()
  local dir = cli.files({ ["-dash.lua"] = SHOW_ARGS, ["show.lua"] = SHOW_ARGS })
  local r = run({ "--", "-dash.lua", "x" }, { cwd = dir })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "arg [-2]=" .. cli.bin .. " [-1]=-- [0]=-dash.lua [1]=x\n... 1 x\n")
  r = run({ "--", "show.lua", "-v" }, { cwd = dir })
  test.eq(r.out, "arg [-2]=" .. cli.bin .. " [-1]=-- [0]=show.lua [1]=-v\n... 1 -v\n")
end)

test("arg without a script: [0] is the interpreter, options follow", function()
  local r = run({ "-e", "print(arg[0], arg[1], arg[2], #arg)" })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, cli.bin .. "\t-e\tprint(arg[0], arg[1], arg[2], #arg)\t2\n")
end)

test("several -e run in order, sharing globals", function()
  local r = run({ "-e", "x = 1", "-e", "x = x * 10", "-e", "print(x)", "-e", "print('last')" })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "10\nlast\n")
end)

test("-e then a script: -e runs first", function()
  local dir = cli.files({ ["s.lua"] = "print('script sees', greeting)\n" })
  local r = run({ "-e", "greeting = 'hi'", "s.lua" }, { cwd = dir })
  test.eq(r.out, "script sees\thi\n")
end)

test("-e chunks may do I/O (they run in the main task)", function()
  local r = run({ "-e", "task.sleep(0.01) print('slept')", "-e", "print('after')" })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "slept\nafter\n")
end)

test("-e with the code glued to the flag (-eCODE)", function()
  local r = run({ "-eprint('glued')" })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "glued\n")
end)

local MOD = "return { name = 'mymod', loaded_as = ... }\n"

test("-l mod requires mod into the global mod (module found through LUA_PATH)", function()
  local dir = cli.files({ ["mods/mymod.lua"] = MOD })
  local r = run({ "-l", "mymod", "-e", "print(mymod.name, mymod.loaded_as)" },
    { env = { LUA_PATH = dir .. "/mods/?.lua;;" } })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "mymod\tmymod\n")
end)

test("-l g=mod requires mod into the global g", function()
  local dir = cli.files({ ["mods/mymod.lua"] = MOD })
  local r = run({ "-l", "g=mymod", "-e", "print(g.name, mymod, package.loaded.mymod == g)" },
    { env = { LUA_PATH = dir .. "/mods/?.lua;;" } })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "mymod\tnil\ttrue\n")
end)

test("-lmod (glued) and -l interleaved with -e keep their order", function()
  local dir = cli.files({ ["mods/first.lua"] = "print('loading first') return 1\n" })
  local r = run({ "-e", "print('e1')", "-lfirst", "-e", "print('e2', first)" },
    { env = { LUA_PATH = dir .. "/mods/?.lua;;" } })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "e1\nloading first\ne2\t1\n")
end)

test("-l of a module whose top level does I/O", function()
  local dir = cli.files({ ["mods/slow.lua"] = "task.sleep(0.02)\nreturn { ok = 'slow loaded' }\n" })
  local r = run({ "-l", "slow", "-e", "print(slow.ok)" }, { env = { LUA_PATH = dir .. "/mods/?.lua;;" } })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "slow loaded\n")
end)

test("-l of a missing module: exit 1 naming the module", function()
  local r = run({ "-l", "no_such_module_xyz" })
  test.eq(r.code, 1)
  test.matches(r.err, "module 'no_such_module_xyz' not found")
end)

test("-E ignores LUA_PATH (and LUA_INIT)", function()
  local dir = cli.files({ ["mods/mymod.lua"] = MOD })
  local env = { LUA_PATH = dir .. "/mods/?.lua;;", LUA_INIT = "print('init ran')" }
  local r = run({ "-E", "-e", "print(pcall(require, 'mymod'))" }, { env = env })
  test.eq(r.code, 0, r.err)
  test.matches(r.out, "^false\tmodule 'mymod' not found")
  test.ok(not r.out:find("init ran", 1, true), "LUA_INIT ran despite -E")
  r = run({ "-E", "-e", "print(package.path:find(" .. string.format("%q", dir) .. ", 1, true))" }, { env = env })
  test.eq(r.out, "nil\n")
  -- Without -E the same environment is used.
  r = run({ "-e", "print(require('mymod').name)" }, { env = env })
  test.eq(r.out, "init ran\nmymod\n")
end)

test("-E ignores LUA_CPATH", function()
  local r = run({ "-E", "-e", "print(package.cpath:find('/nonexistent-cpath', 1, true))" },
    { env = { LUA_CPATH = "/nonexistent-cpath/?.so;;" } })
  test.eq(r.out, "nil\n")
  r = run({ "-e", "print(package.cpath:find('/nonexistent-cpath', 1, true) ~= nil)" },
    { env = { LUA_CPATH = "/nonexistent-cpath/?.so;;" } })
  test.eq(r.out, "true\n")
end)

test("-v prints the version and exits 0", function()
  local r = run({ "-v" })
  test.eq(r.code, 0)
  test.matches(r.out, "^moonwire %d+%.%d+%.%d+ %(Lua 5%.4[%.%d]*%)\n$")
end)

test("-v with -e prints the version, then runs the code", function()
  local r = run({ "-v", "-e", "print('code')" })
  test.eq(r.code, 0)
  test.matches(r.out, "^moonwire [^\n]*\ncode\n$")
end)

test("--help prints usage listing every option and exits 0", function()
  local r = run({ "--help" })
  test.eq(r.code, 0)
  test.matches(r.out, "^usage: moonwire")
  for _, opt in ipairs({ "-e", "-i", "-l", "-v", "-E", "-W", "--", "test" }) do
    test.ok(r.out:find(opt, 1, true), "usage does not mention " .. opt)
  end
  test.eq(r.err, "")
end)

test("- runs the script from stdin, with arguments", function()
  local r = run({ "-", "a", "b" }, { stdin = "print('from stdin', ...)\nprint(arg[0], arg[1])\n" })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "from stdin\ta\tb\n-\ta\n")
end)

test("no arguments and stdin not a terminal: stdin is run as a script", function()
  local r = run({}, { stdin = "print('piped')\n" })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "piped\n")
end)

test("stdin chunk name is stdin", function()
  local r = run({ "-" }, { stdin = "\n\nerror('x')\n" })
  test.eq(r.code, 1)
  test.matches(r.err, "stdin:3: x")
end)

test("LUA_INIT runs before -e and the script", function()
  local dir = cli.files({ ["s.lua"] = "print('script', init_value)\n" })
  local r = run({ "-e", "print('e', init_value)", "s.lua" }, { cwd = dir, env = { LUA_INIT = "init_value = 42" } })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "e\t42\nscript\t42\n")
end)

test("LUA_INIT_5_4 takes precedence over LUA_INIT", function()
  local r = run({ "-e", "print(which)" }, { env = { LUA_INIT = "which = 'plain'", LUA_INIT_5_4 = "which = '5.4'" } })
  test.eq(r.out, "5.4\n")
end)

test("LUA_INIT=@file runs the file", function()
  local dir = cli.files({ ["init.lua"] = "from_file = 'yes'\n" })
  local r = run({ "-e", "print(from_file)" }, { env = { LUA_INIT = "@" .. dir .. "/init.lua" } })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "yes\n")
  r = run({ "-e", "print(1)" }, { env = { LUA_INIT_5_4 = "@" .. dir .. "/init.lua", LUA_INIT = "error('wrong one')" } })
  test.eq(r.code, 0, r.err)
end)

test("a LUA_INIT that fails to compile or raises: exit 1", function()
  local r = run({ "-e", "print('not reached')" }, { env = { LUA_INIT = "x x" } })
  test.eq(r.code, 1)
  test.matches(r.err, "^moonwire: LUA_INIT:1: [^\n]*\n$")
  test.eq(r.out, "")
  r = run({ "-e", "print('not reached')" }, { env = { LUA_INIT = "error('init failed')" } })
  test.eq(r.code, 1)
  test.matches(r.err, "LUA_INIT:1: init failed")
  test.eq(r.out, "")
end)

test("chunk names as lua makes them: the script path as given, (command line)", function()
  local dir = cli.files({ ["sub/script.lua"] = "local x = 1\nlocal y = 2\nerror('at three')\n" })
  local r = run({ "sub/script.lua" }, { cwd = dir })
  test.matches(r.err, "sub/script%.lua:3: at three")
  r = run({ dir .. "/sub/script.lua" })
  test.matches(r.err, dir:gsub("%p", "%%%0") .. "/sub/script%.lua:3: at three")
  r = run({ "-e", "local a\nerror('two')" })
  test.matches(r.err, "%(command line%):2: two")
  r = run({ "-e", "print(debug.getinfo(1, 'S').source)" })
  test.eq(r.out, "=(command line)\n")
  r = run({ "script.lua" }, { cwd = dir .. "/sub", stdin = "" })
  test.matches(r.err, "script%.lua:3: at three") -- chunk name is the path as given
end)

test("a shebang line is skipped and line numbers stay right", function()
  local dir = cli.files({ ["s.lua"] = "#!/usr/bin/env moonwire\nprint('ran')\nerror('line three')\n" })
  local r = run({ "s.lua" }, { cwd = dir })
  test.eq(r.out, "ran\n")
  test.matches(r.err, "s%.lua:3: line three")
end)

test("an executable script with #!/usr/bin/env moonwire runs directly", function()
  local dir = cli.files({ ["hello"] = "#!/usr/bin/env moonwire\nprint('direct', ...)\nprint(arg[0])\n" })
  os.execute("chmod +x " .. cli.proc.quote(dir .. "/hello"))
  local r = run({ "a", "-b" }, { cwd = dir, program = "./hello", env = { PATH = cli.bin_dir .. ":" .. os.getenv("PATH") } })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "direct\ta\t-b\n./hello\n")
end)

test("a shebang line in stdin input is skipped", function()
  local r = run({ "-" }, { stdin = "#!/usr/bin/env moonwire\nprint('stdin ok')\n" })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "stdin ok\n")
  r = run({}, { stdin = "#!/usr/bin/env moonwire\nprint('stdin ok')\n" })
  test.eq(r.out, "stdin ok\n")
end)

test("a shebang line in a module loaded by require is skipped", function()
  local dir = cli.files({
    ["main.lua"] = "print(require('shebangmod').v)\n",
    ["shebangmod.lua"] = "#!/usr/bin/env moonwire\nreturn { v = 'module ok' }\n",
  })
  local r = run({ "main.lua" }, { cwd = dir })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "module ok\n")
end)

test("-W turns warnings on", function()
  local r = run({ "-W", "-e", "warn('hello warning')" })
  test.eq(r.code, 0)
  test.matches(r.err, "Lua warning: hello warning")
  r = run({ "-e", "warn('hidden')" })
  test.eq(r.err, "")
end)

test("the standard libraries are all present, debug included", function()
  local r = run({ "-e", "for _, n in ipairs({'string','table','math','io','os','coroutine','utf8','debug','package'}) do " ..
    "assert(type(_G[n]) == 'table', n) end print(_VERSION)" })
  test.eq(r.code, 0, r.err)
  test.eq(r.out, "Lua 5.4\n")
end)
