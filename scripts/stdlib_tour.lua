#!/usr/bin/env moonwire
-- A tour of the scripting modules, in the style of CopperMoon's examples/test_stdlib.lua:
-- fs, path, os_ext, process, crypto, buffer, json, time, net.url. Every call that waits
-- (files, children, the file watcher) suspends only its task: a heartbeat task keeps ticking
-- throughout, and the tour reports how often it ticked.
--
--   moonwire scripts/stdlib_tour.lua [work-dir]
--
-- Exits 0 when every check passed, 1 otherwise (one line per failed check on stderr).

local failures = 0
local function check(ok, what)
  if not ok then
    failures = failures + 1
    io.stderr:write("FAILED: " .. what .. "\n")
  end
end
local function section(name) print(("=== %s ==="):format(name)) end

local beats = 0
local heartbeat = task.spawn(function()
  while true do
    task.sleep(0.01)
    beats = beats + 1
  end
end)

-- The work directory: the first argument, else a fresh one under the temp dir.
local work = process.args[1] or path.join(fs.temp_dir(), "moonwire-tour-" .. crypto.uuid())
fs.mkdir_all(work)

section("fs")
local file = path.join(work, "hello.txt")
fs.write(file, "Hello from moonwire!\n")
fs.append(file, "second line\n")
print("read:", (fs.read(file):gsub("\n", " | ")))
local st = fs.stat(file)
print("size:", st.size, "is_file:", st.is_file, "permissions:", st.permissions)
check(st.size == 33, "fs.stat size")
fs.copy(file, path.join(work, "copy.txt"))
fs.mkdir_all(path.join(work, "sub", "deeper"))
fs.write(path.join(work, "sub", "deeper", "x.lua"), "return 1\n")
print("readdir:", table.concat(fs.readdir(work), ", "))
print("glob:", #fs.glob(path.join(work, "*.txt")), "text files")
check(#fs.glob(path.join(work, "*.txt")) == 2, "fs.glob")

-- Streaming: write a log line by line, then read it back with Lua's formats.
local log = fs.open(path.join(work, "build.log"), "w")
for i = 1, 3 do log:write("step ", i, " ok\n") end
log:close()
local steps = 0
for line in fs.open(path.join(work, "build.log")):lines() do
  if line:match("^step %d ok$") then steps = steps + 1 end
end
print("log steps:", steps)
check(steps == 3, "fs.open lines")

section("path")
print("join:", path.join("a", "b", "c.txt"))
print("dirname:", path.dirname("/usr/local/bin/moonwire"), "basename:", path.basename("/x/y.tar.gz"),
  "extname:", path.extname("y.tar.gz"))
print("normalize:", path.normalize("/a/./b/../c//d"), "absolute:", path.is_absolute("/x"))
check(path.normalize("/a/./b/../c//d") == "/a/c/d", "path.normalize")

section("os_ext / process")
print("platform:", os_ext.platform(), "arch:", os_ext.arch(), "cpus:", os_ext.cpus())
print("pid:", process.pid(), "args:", #process.args)
process.env.TOUR_GREETING = "hi there"
local r = process.exec("echo \"$TOUR_GREETING\" from $(basename \"$SHELL\" 2>/dev/null || echo sh)")
print("exec:", (r.stdout:gsub("\n", "")), "status:", r.status)
check(r.success and r.stdout:find("hi there", 1, true), "process.exec sees process.env")
r = process.spawn("sh", { "-c", "exit 3" })
print("spawn exit status:", r.status, "success:", r.success)
check(r.status == 3, "process.spawn status")
-- A slow child and a streaming one at once, while the heartbeat ticks.
local slow = task.spawn(function() return process.exec("sleep 0.2; echo slow done") end)
local child = process.start("sort")
child.stdin:write("pear\napple\nfig\n")
child.stdin:close()
local sorted = {}
for line in child.stdout:lines() do sorted[#sorted + 1] = line end
print("sorted:", table.concat(sorted, " "), "exit:", child:wait().status)
check(table.concat(sorted, " ") == "apple fig pear", "process.start sort")
print("slow:", (slow:join(10).stdout:gsub("\n", "")))
local p = io.popen("printf 'one\\ntwo\\n'")
print("popen:", p:read("l"), p:read("l"), p:close())

section("crypto")
print("uuid:", crypto.uuid())
print("sha256:", crypto.sha256("hello"))
check(crypto.sha256("hello") == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", "sha256")
print("md5:", crypto.md5("hello"))
check(crypto.md5("hello") == "5d41402abc4b2a76b9719d911017c592", "md5")
print("hmac:", crypto.hmac("sha256", "key", "message"))
local b64 = crypto.base64_encode("Hello, World!")
print("base64:", b64, "->", crypto.base64_decode(b64))
check(crypto.base64_decode(b64) == "Hello, World!", "base64 round trip")
print("hex:", crypto.hex_encode("moon"), "random bytes:", #crypto.random_bytes(16))

section("buffer")
local msg = buffer.new()
msg:writeUInt8(2):writeUInt16BE(513):writeString("payload")
print("packed:", msg:toHex(), "length:", #msg)
msg:seek(1)
local kind, n, body = msg:readUInt8(), msg:readUInt16BE(), msg:readString(7)
print("unpacked:", kind, n, body)
check(kind == 2 and n == 513 and body == "payload", "buffer round trip")

section("json")
local data = { name = "moonwire", version = 1, tags = { "lua", "async" }, nested = { ok = true } }
local text = json.encode(data)
print("encode:", text)
local back = json.decode(text)
check(back.name == "moonwire" and back.tags[2] == "async" and back.nested.ok == true, "json round trip")
print("pretty:\n" .. json.pretty({ a = 1, b = { 2, 3 } }))

section("time")
local now = time.now()
print("now:", time.format(now), "monotonic ms:", time.monotonic_ms())
check(time.parse("2000-01-01T00:00:00Z") == 946684800, "time.parse")
print("format:", time.format(0, "%Y-%m-%d %H:%M:%S"))

section("net.url")
local u = net.url.parse("https://example.com:8443/search?q=moon+wire&page=2")
print("url:", u.host, u.port, u.path, u.params.q, u.params.page)
print("build:", net.url.build({ scheme = "http", host = "127.0.0.1", port = 8080, path = "/api", params = { q = "a b" } }))

section("fs.watch")
local watched = path.join(work, "watched")
fs.mkdir(watched)
local w = fs.watch(watched)
task.spawn(function() fs.write(path.join(watched, "new.txt"), "x") end)
local ev = w:next(5000)
print("event:", ev.type, ev.name)
check(ev.type == "created" and ev.name == "new.txt", "fs.watch created")
w:close()

section("cleanup")
if not process.args[1] then fs.rmdir_all(work) end
print("work dir removed:", not fs.exists(work) or process.args[1] ~= nil)
heartbeat:cancel()
print(("heartbeat ticked %d times while the tour waited"):format(beats))
check(beats > 0, "heartbeat")
print(failures == 0 and "all checks passed" or (failures .. " checks failed"))
process.exit(failures == 0 and 0 or 1)
