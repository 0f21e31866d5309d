-- io.read / io.lines / io.stdin on a pipe suspend only the calling task (issue 10): a timer keeps
-- ticking while a read waits, and every read format behaves as in Lua.
local test = require("test")
local cli = dofile("tests/cli/fixtures/cli.lua")
local q = cli.proc.quote

test.after_each(cli.cleanup)

-- Runs `script` with `feeder` (a shell command) piped into its stdin. The script gets a path
-- as arg[1]: `ready()` creates it, and the feeder's `wait_ready` waits for it, so input can be
-- sent only once the script is waiting for it (however slowly the script starts).
local function piped(feeder, script)
  local dir = cli.files({ ["script.lua"] = "local READY = arg[1]\n" ..
    "local function ready() io.open(READY, 'w'):close() end\n" .. script })
  local ready = dir .. "/ready"
  local prelude = "wait_ready() { while [ ! -f " .. q(ready) .. " ]; do sleep 0.02; done; rm -f " .. q(ready) .. "; }; "
  return process.exec("(" .. prelude .. feeder .. ") | " .. q(cli.bin) .. " " .. q(dir .. "/script.lua") .. " " .. q(ready),
    { timeout = 20000 })
end

test("io.read waits for input without stopping the timers", function()
  local r = piped("wait_ready; sleep 0.4; echo late", [[
local ticks = 0
local t = task.spawn(function() while true do task.sleep(0.01) ticks = ticks + 1 end end)
ready()
local line = io.read()
print(line, ticks >= 10)
t:cancel()
]])
  test.eq(r.stderr, "")
  test.eq(r.stdout, "late\ttrue\n")
end)

test("io.lines() and io.stdin:lines() keep other tasks running between lines", function()
  local r = piped("echo a; wait_ready; sleep 0.3; echo b; wait_ready; sleep 0.3; printf c", [[
local ticks = 0
task.spawn(function() while true do task.sleep(0.01) ticks = ticks + 1 end end)
local seen = {}
for line in io.lines() do
  seen[#seen + 1] = line .. ":" .. (ticks > 0 and "ticked" or "still")
  ticks = 0
  ready()
end
print(table.concat(seen, " "))
os.exit(0)
]])
  test.matches(r.stdout, "^a:%a+ b:ticked c:ticked\n$")
  r = piped("printf 'x\\ny\\n'", "for l in io.stdin:lines('L') do io.write('[', l, ']') end")
  test.eq(r.stdout, "[x\n][y\n]")
end)

test("read formats: l, L, n, a, counts, several at once, Lua 5.1 style", function()
  local r = piped("printf 'one\\ntwo\\n 42 0x10 3.5e1 rest\\nabcdefgh'", [[
print(io.read("l"))
io.write(io.read("L"))
print(io.read("n", "n", "n"))
print(io.read("*l"))
print(io.read(3), io.read(0))
print(io.read("a"))
print(io.read("a") == "", io.read("l"), io.read(0), io.read("n"))
]])
  test.eq(r.stderr, "")
  test.eq(r.stdout, "one\ntwo\n42\t16\t35.0\n rest\nabc\t\ndefgh\ntrue\tnil\tnil\tnil\n")
end)

test("a number that is not one: nil, as in Lua", function()
  local r = piped("printf 'abc\\n'", "print(io.read('n')) print(io.read('l'))")
  test.eq(r.stdout, "nil\nabc\n")
end)

test("two tasks: one waits for stdin, the other serves TCP meanwhile", function()
  local r = piped("wait_ready; sleep 0.3; echo done", [[
local s = net.tcp.listen(0)
task.spawn(function()
  local c = net.tcp.connect("127.0.0.1", s.port)
  c:write("ping\n")
  print("reply", c:read_line())
  c:close()
end)
task.spawn(function()
  local c = s:accept()
  c:write(c:read_line() .. "!\n")
  c:close()
  s:close()
  ready()
end)
print("stdin", io.read())
]])
  test.eq(r.stdout, "reply\tping!\nstdin\tdone\n")
end)

test("stdin from a regular file reads as plain Lua", function()
  local dir = cli.files({ ["in.txt"] = "a\nb\n", ["script.lua"] = "print(io.read(), io.read('L'), io.read())" })
  local r = process.exec(q(cli.bin) .. " " .. q(dir .. "/script.lua") .. " < " .. q(dir .. "/in.txt"))
  test.eq(r.stdout, "a\tb\n\tnil\n")
end)

test("io.read on another default input, and bad formats", function()
  local dir = cli.files({ ["f.txt"] = "from file\n", ["script.lua"] = [[
io.input(arg[1])
print(io.read())
io.input(io.stdin)
print(pcall(io.read, "x"))
print(io.read())
]] })
  local r = process.exec("echo piped | " .. q(cli.bin) .. " " .. q(dir .. "/script.lua") .. " " .. q(dir .. "/f.txt"))
  test.matches(r.stdout, "^from file\nfalse\t[^\n]*invalid format[^\n]*\npiped\n$")
end)
