-- fs.open streaming files (on the fs worker pool) and fs.watch (inotify).
local test = require("test")
local proc = dofile("tests/support/proc.lua")

test.after_each(proc.cleanup)

local function code_of(fn)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error")
  return type(err) == "table" and err.code or tostring(err)
end

local function ticker()
  local t = { ticks = 0 }
  t.task = task.spawn(function()
    while true do
      task.sleep(0.01)
      t.ticks = t.ticks + 1
    end
  end)
  return t
end

test("write, then read with Lua's formats, lines, seek", function()
  local dir = proc.tmpdir()
  local p = dir .. "/a.txt"
  local f = fs.open(p, "w")
  test.eq(f:write("line1\n", 2, "\n", buffer.from("line3")), f)
  test.eq(f:write(), f)
  test.eq(f.path, p)
  test.eq(f:close(), true)
  test.eq(fs.read(p), "line1\n2\nline3")

  f = fs.open(p)
  test.eq(f:read("l"), "line1")
  test.eq(f:read("n"), 2)
  test.eq(f:seek(), 7)  -- what Lua has consumed, not what was read ahead
  test.eq(f:read_line(), "")
  test.eq(f:read_all(), "line3")
  test.eq(f:read("a"), "")
  test.eq(f:read("l"), nil)
  test.eq(f:read(1), nil)
  test.eq(f:seek("set", 2), 2)
  test.eq(f:read(3), "ne1")
  test.eq(f:seek("end"), 13)
  test.eq(f:seek("cur", -5), 8)
  test.eq(f:read("a"), "line3")
  f:close()

  local lines = {}
  for l in fs.open(p):lines() do lines[#lines + 1] = l end
  test.eq(lines, { "line1", "2", "line3" })
  f = fs.open(p)
  lines = {}
  for a, b in f:lines(1, "l") do lines[#lines + 1] = a .. "|" .. b end
  test.eq(lines, { "l|ine1", "2|", "l|ine3" })
  f:close()
end)

test("modes: r+ writes where Lua has read to, a appends, w+ truncates, b is accepted", function()
  local dir = proc.tmpdir()
  local p = dir .. "/m.txt"
  fs.write(p, "0123456789")
  local f = fs.open(p, "r+b")
  test.eq(f:read(2), "01")
  f:write("XX")
  test.eq(f:seek("set"), 0)
  test.eq(f:read("a"), "01XX456789")
  f:close()
  f = fs.open(p, "a")
  f:write("end")
  f:close()
  test.eq(fs.read(p), "01XX456789end")
  f = fs.open(p, "a+")
  test.eq(f:read("a"), "01XX456789end")
  f:write("!")
  test.eq(f:seek("set", 0), 0)
  test.eq(f:read("a"), "01XX456789end!")
  f:close()
  f = fs.open(p, "w+")
  test.eq(f:read("a"), "")
  f:write("new")
  f:seek("set")
  test.eq(f:read("l"), "new")
  test.eq(f:sync(), f)
  test.eq(f:flush(), f)
  f:close()
  -- empty file, unicode name
  local u = dir .. "/ünï cødé.txt"
  fs.open(u, "w"):close()
  f = fs.open(u)
  test.eq(f:read("a"), "")
  test.eq(f:read("l"), nil)
  f:close()
end)

test("a large file streams through in chunks", function()
  local dir = proc.tmpdir()
  local p = dir .. "/big"
  local chunk = string.rep("0123456789abcdef", 4096)  -- 64 KiB
  local f = fs.open(p, "w")
  for _ = 1, 64 do f:write(chunk) end
  f:close()
  test.eq(fs.size(p), 64 * #chunk)
  f = fs.open(p)
  local total = 0
  while true do
    local s = f:read(100000)
    if not s then break end
    total = total + #s
  end
  test.eq(total, 64 * #chunk)
  f:close()
end)

test("opening and reading a FIFO waits on the pool: a timer keeps ticking", function()
  local dir = proc.tmpdir()
  local fifo = dir .. "/fifo"
  test.eq(process.spawn("mkfifo", { fifo }).status, 0)
  local t = ticker()
  local writer = task.spawn(function() return process.exec("sleep 0.3; printf 'hello\\nworld' > " .. proc.quote(fifo)) end)
  local f = fs.open(fifo)  -- blocks in open(2) until the writer comes: on the pool
  test.eq(f:read("l"), "hello")
  test.eq(f:read("a"), "world")
  f:close()
  test.eq(writer:join(10).status, 0)
  t.task:cancel()
  test.ok(t.ticks >= 5, "only " .. t.ticks .. " ticks while fs.open waited")
end)

test("errors: missing files, directories, permissions, wrong direction, closed files", function()
  local dir = proc.tmpdir()
  test.eq(code_of(function() fs.open(dir .. "/missing") end), "ENOENT")
  test.eq(code_of(function() fs.open(dir) end), "EISDIR")
  test.eq(code_of(function() fs.open(dir .. "/no/such/dir/x", "w") end), "ENOENT")
  fs.write(dir .. "/ro", "x")
  process.spawn("chmod", { "000", dir .. "/ro" })
  if process.spawn("id", { "-u" }).stdout ~= "0\n" then
    test.eq(code_of(function() fs.open(dir .. "/ro") end), "EACCES")
  end
  fs.write(dir .. "/f", "data")
  local f = fs.open(dir .. "/f")
  test.eq(code_of(function() f:write("x") end), "EBADF")
  f:close()
  f = fs.open(dir .. "/f", "a")
  test.eq(code_of(function() f:read("a") end), "EBADF")
  test.eq(code_of(function() f:lines() end), "EBADF")
  test.eq(code_of(function() f:seek("set", -1) end), "EINVAL")
  f:close()
  test.eq(f.closed, true)
  -- an iterator made before close ends instead of reading another file's descriptor
  local g = fs.open(dir .. "/f")
  local it = g:lines(1)
  test.eq(it(), "d")
  g:close()
  local other = fs.open(dir .. "/f")  -- may get the same descriptor number
  test.eq(it(), nil)
  other:close()
  test.eq(tostring(f), "fs.file (closed)")
  for _, call in ipairs({ "read", "write", "seek", "close", "lines", "read_line", "sync" }) do
    test.eq(code_of(function() f[call](f, "x") end), "closed", call)
  end
end)

test("bad input: types, modes (EINVAL), formats", function()
  test.raises(function() fs.open() end, "string expected")
  test.raises(function() fs.open({}) end, "string expected")
  test.eq(code_of(function() fs.open("") end), "EINVAL")
  test.eq(code_of(function() fs.open("/tmp/a\0b") end), "EINVAL")
  for _, m in ipairs({ "", "x", "rw", "r++", "wr", "rt", "read" }) do
    test.eq(code_of(function() fs.open("/tmp/x", m) end), "EINVAL", m)
  end
  local dir = proc.tmpdir()
  local f = fs.open(dir .. "/x", "w+")
  test.raises(function() f:read("z") end, "invalid format")
  test.raises(function() f:write({}) end, "string or buffer expected")
  test.eq(code_of(function() f:seek("middle") end), "EINVAL")
  test.raises(function() f:seek("set", 1.5) end, "integer")
  f:close()
end)

test("a second reader is busy; writes from several tasks queue in order", function()
  local dir = proc.tmpdir()
  local fifo = dir .. "/fifo2"
  process.spawn("mkfifo", { fifo })
  local w = task.spawn(function() return process.exec("sleep 0.2; echo x > " .. proc.quote(fifo)) end)
  local f = fs.open(fifo)
  local reader = task.spawn(function() return f:read("l") end)
  test.eq(code_of(function() f:read("l") end), "busy")
  test.eq(reader:join(10), "x")
  w:join(10)
  f:close()
  local p = dir .. "/q"
  local g = fs.open(p, "w")
  local tasks = {}
  for i = 1, 10 do tasks[i] = task.spawn(function() g:write(i, "\n") end) end
  for i = 1, 10 do tasks[i]:join(10) end
  g:close()
  local n = 0
  for line in fs.open(p):lines() do n = n + 1 test.eq(tonumber(line), n) end
  test.eq(n, 10)
end)

test("a file collected or leaving a <close> scope unclosed is closed (no descriptor leak)", function()
  local dir = proc.tmpdir()
  fs.write(dir .. "/c", "x")
  local function fds()
    return #fs.readdir("/proc/self/fd")
  end
  local before = fds()
  for _ = 1, 50 do
    local f <close> = fs.open(dir .. "/c") -- luacheck: ignore 211 (closed at the end of the block)
  end
  for _ = 1, 50 do fs.open(dir .. "/c") end
  collectgarbage()
  collectgarbage()
  task.sleep(0.1)  -- the closes run on the pool
  test.ok(fds() <= before + 2, "descriptors leaked: " .. before .. " -> " .. fds())
end)

-- fs.watch -------------------------------------------------------------------------------------

test("fs.watch(dir): created, modified, renamed (from/to), deleted; a timer ticks while next waits", function()
  local dir = proc.tmpdir()
  local w = fs.watch(dir)
  test.eq(w.path, dir)
  local t = ticker()
  task.spawn(function()
    task.sleep(0.2)
    fs.write(dir .. "/b.txt", "x")
    fs.rename(dir .. "/b.txt", dir .. "/c.txt")
    fs.mkdir(dir .. "/sub")
    fs.remove(dir .. "/c.txt")
  end)
  local got = {}
  for _ = 1, 6 do
    local ev = w:next(5000)
    got[#got + 1] = ev.type .. " " .. ev.name .. (ev.direction and (" " .. ev.direction) or "") .. (ev.is_dir and " dir" or "")
    test.eq(ev.path, dir .. "/" .. ev.name)
  end
  t.task:cancel()
  test.ok(t.ticks >= 5, "only " .. t.ticks .. " ticks while next() waited")
  test.eq(got, { "created b.txt", "modified b.txt", "renamed b.txt from", "renamed c.txt to", "created sub dir", "deleted c.txt" })
  test.eq(code_of(function() w:next(50) end), "ETIMEDOUT")
  w:close()
  w:close()
  test.eq(w:next(), nil)
  test.eq(w.closed, true)
end)

test("fs.watch(file, fn): fn runs as a task per event until close; deleting the file ends it", function()
  local dir = proc.tmpdir()
  local p = dir .. "/watched"
  fs.write(p, "a")
  local ch = task.channel(16)
  local w = fs.watch(p, function(ev)
    task.sleep(0.01)  -- may wait
    ch:send(ev.type)
  end)
  fs.append(p, "b")
  test.eq(ch:recv(5), "modified")
  test.eq(code_of(function() w:next() end), "EINVAL")  -- fn mode
  fs.remove(p)
  test.eq(ch:recv(5), "deleted")
  test.eq(w:next(), nil)  -- ended: the path is gone
  w:close()
end)

test("fs.watch: events() iterator ends at close; a watcher nobody uses does not keep the script alive", function()
  local dir = proc.tmpdir()
  local w = fs.watch(dir)
  task.spawn(function()
    task.sleep(0.1)
    fs.write(dir .. "/x", "1")
    task.sleep(0.1)
    w:close()
  end)
  local n = 0
  for ev in w:events() do n = n + 1 end
  test.ok(n >= 1)
  local r = process.exec(proc.quote(os.getenv("MOONWIRE_BIN") or "build/moonwire") ..
    " -e " .. proc.quote("local w = fs.watch('" .. dir .. "') pcall(w.next, w, 50) print('done')"), { timeout = 10000 })
  test.eq(r.stdout, "done\n")
  test.eq(r.status, 0)
end)

test("fs.watch: bad input", function()
  test.eq(code_of(function() fs.watch("/nonexistent/path/x") end), "ENOENT")
  test.eq(code_of(function() fs.watch("") end), "EINVAL")
  test.eq(code_of(function() fs.watch("a\0b") end), "EINVAL")
  test.raises(function() fs.watch() end, "string expected")
  test.raises(function() fs.watch("/tmp", "fn") end, "function expected")
  local w = fs.watch("/tmp")
  test.eq(code_of(function() w:next(-1) end), "EINVAL")
  local t = task.spawn(function() return w:next() end)
  test.eq(code_of(function() w:next() end), "busy")
  w:close()
  test.eq(t:join(5), nil)
end)

test("fs.watch(dir, {recursive = true}): events from subdirectories, new ones picked up, moved-out ones dropped", function()
  local dir = proc.tmpdir()
  fs.mkdir_all(dir .. "/a/b")
  fs.mkdir(dir .. "/out")  -- outside the watched tree
  local root = dir .. "/tree"
  fs.mkdir_all(root .. "/x/y")
  local w = fs.watch(root, { recursive = true })
  test.eq(w.recursive, true)
  test.eq(w.watches, 3)  -- tree, tree/x, tree/x/y
  local t = ticker()
  local function next_of(path, typ)
    while true do
      local ev = w:next(5000)
      if ev.path == path and ev.type == typ then return ev end
    end
  end
  task.spawn(function()  -- written only once the timer ticked 3 times: next() waited meanwhile
    while t.ticks < 3 do task.sleep(0.01) end
    fs.write(root .. "/x/y/deep.txt", "1")
  end)
  test.eq(next_of(root .. "/x/y/deep.txt", "created").name, "deep.txt")
  test.ok(t.ticks >= 3)
  t.task:cancel()
  fs.mkdir(root .. "/new")  -- a new subdirectory: watched from its "created" event on
  test.eq(next_of(root .. "/new", "created").is_dir, true)
  test.eq(w.watches, 4)
  fs.write(root .. "/new/f", "2")
  next_of(root .. "/new/f", "created")
  fs.mkdir_all(root .. "/new/p/q")  -- the walk of a new subdirectory adds its own children
  next_of(root .. "/new/p", "created")
  fs.write(root .. "/new/p/q/g", "3")
  next_of(root .. "/new/p/q/g", "created")
  -- moved out of the tree: no more events from it (and none with a stale path)
  fs.rename(root .. "/x", dir .. "/out/x")
  test.eq(next_of(root .. "/x", "renamed").direction, "from")
  fs.write(dir .. "/out/x/y/after", "4")
  fs.write(root .. "/marker", "5")
  local ev = w:next(5000)
  while ev.path ~= root .. "/marker" do
    test.ok(not ev.path:find("after", 1, true), "event from a directory moved out: " .. ev.path)
    ev = w:next(5000)
  end
  -- deleting a subdirectory: one "deleted" event from its parent, the watcher carries on
  fs.rmdir_all(root .. "/new")
  next_of(root .. "/new", "deleted")
  fs.write(root .. "/still", "6")
  next_of(root .. "/still", "created")
  w:close()
  test.eq(w:next(), nil)
end)

test("fs.watch(dir, fn, {recursive = true}): fn runs per event in subdirectories; a file is watched as itself", function()
  local dir = proc.tmpdir()
  fs.mkdir_all(dir .. "/s/t")
  local ch = task.channel(64)
  local w = fs.watch(dir, function(ev) ch:send(ev.type .. " " .. ev.path) end, { recursive = true })
  fs.write(dir .. "/s/t/z", "1")
  test.eq(ch:recv(5), "created " .. dir .. "/s/t/z")
  w:close()
  fs.write(dir .. "/file", "1")
  local fw = fs.watch(dir .. "/file", { recursive = true })  -- not a directory: just the file
  test.eq(fw.recursive, false)
  test.eq(fw.watches, 1)
  fs.append(dir .. "/file", "2")
  test.eq(fw:next(5000).type, "modified")
  fw:close()
  -- an unreadable subdirectory is skipped, not an error
  fs.mkdir(dir .. "/locked")
  os.execute("chmod 000 " .. proc.quote(dir .. "/locked"))
  local lw = fs.watch(dir, { recursive = true })
  test.ok(lw.watches >= 3)
  lw:close()
  os.execute("chmod 755 " .. proc.quote(dir .. "/locked"))
end)

test("fs.watch: bad options", function()
  local dir = proc.tmpdir()
  local err = select(2, pcall(fs.watch, dir, { recursiv = true }))
  test.eq(err.code, "EINVAL")
  test.ok(err:find("did you mean 'recursive'", 1, true), tostring(err))
  test.eq(code_of(function() fs.watch(dir, function() end, { recursive = "yes" }) end), "EINVAL")
  test.raises(function() fs.watch(dir, function() end, 5) end)
end)
