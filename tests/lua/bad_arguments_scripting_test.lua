-- The scripting modules (fs, fs files and watchers, process and its children, crypto, buffer,
-- time, os_ext, path) called with every kind of bad argument, on open and on closed objects:
-- each call returns or raises a clear error (a message from Lua's argument checks, or an error
-- object with a code), never crashes or hangs, and a server keeps answering throughout.
-- Misspelled options are EINVAL errors that name the closest option ("did you mean").
local test = require("test")
local proc = dofile("tests/support/proc.lua")

local S = dofile("tests/support/sweep.lua")(test, { wait = 0.5 })
local BAD, probe, sweep, canary_ok = S.BAD, S.probe, S.sweep, S.canary_ok

-- Runs fn with the working directory in a fresh temporary one, so relative junk paths
-- ("not a thing", "99999") land there and nowhere else.
local function in_tmpdir(fn)
  local cwd, dir = os_ext.cwd(), proc.tmpdir()
  os_ext.chdir(dir)
  local ok, err = pcall(fn, dir)
  os_ext.chdir(cwd)
  if not ok then error(err, 0) end
end

local function did_you_mean(label, fn, want)
  local ok, err = pcall(fn)
  test.eq(ok, false, label .. " accepted a misspelled option")
  test.eq(type(err) == "table" and err.code, "EINVAL", label .. ": " .. tostring(err))
  test.ok(tostring(err):find("did you mean '" .. want .. "'", 1, true), label .. ": " .. tostring(err))
end

test.after_each(proc.cleanup)

test("fs functions", function()
  in_tmpdir(function(dir)
    fs.write(dir .. "/a", "data")
    fs.mkdir(dir .. "/d")
    for _, f in ipairs({ "read", "read_bytes", "exists", "is_file", "is_dir", "is_symlink", "size", "stat", "readdir",
                         "abs", "glob", "realpath", "touch" }) do
      sweep("fs." .. f, fs[f], { dir .. "/a" })
    end
    for _, f in ipairs({ "write", "write_bytes", "append" }) do
      sweep("fs." .. f, fs[f], { dir .. "/w", "x" })
    end
    for _, f in ipairs({ "copy", "rename", "move", "copy_dir" }) do
      fs.write(dir .. "/src", "x")
      sweep("fs." .. f, fs[f], { dir .. "/src", dir .. "/dst" })
    end
    for _, f in ipairs({ "mkdir", "mkdir_all", "rmdir", "rmdir_all", "remove" }) do
      sweep("fs." .. f, fs[f], { dir .. "/sub" })
    end
    sweep("fs.cwd", fs.cwd, {})
    sweep("fs.temp_dir", fs.temp_dir, {})
    sweep("fs.join", fs.join, { "a", "b" })
    for _, f in ipairs({ "basename", "dirname", "ext" }) do sweep("fs." .. f, fs[f], { "a/b.c" }) end
    sweep("fs.open", function(...) local f = fs.open(...) f:close() end, { dir .. "/a", "r" })
    sweep("fs.watch", function(...) local w = fs.watch(...) w:close() end, { dir, function() end, { recursive = true } })
  end)
  canary_ok()
end, { timeout = 180 })

test("fs files and watchers, open and closed", function()
  in_tmpdir(function(dir)
    fs.write(dir .. "/a", "one\ntwo\n")
    local f = fs.open(dir .. "/a", "r+")
    for _, m in ipairs({ "read", "read_line", "read_all", "lines", "write", "seek", "sync", "flush" }) do
      sweep("file:" .. m, function(...) return f[m](f, ...) end, { "l" })
      probe("file." .. m .. " on a non-file", f[m], {}, 1)
    end
    f:close()
    for _, m in ipairs({ "read", "read_line", "read_all", "lines", "write", "seek", "sync", "flush", "close" }) do
      local ok, err = pcall(f[m], f, "l")  -- every call, close too, as Lua's io files
      test.eq(ok, false, "closed file:" .. m .. " did not raise")
      test.eq(err.code, "closed", "closed file:" .. m)
    end
    local w = fs.watch(dir)
    sweep("watcher:next", function(...) return w:next(...) end, { 10 })
    sweep("watcher:events", function(...) return w:events(...) end, {})
    probe("watcher.next on a non-watcher", w.next, {}, 1)
    w:close()
    sweep("closed watcher:next", function(...) return w:next(...) end, { 10 })
    test.eq(w:next(), nil)
    w:close()
  end)
  canary_ok()
end, { timeout = 180 })

test("process functions, children open and exited", function()
  in_tmpdir(function()
    sweep("process.exec", process.exec, { "true", { timeout = 5000 } })
    sweep("process.spawn", process.spawn, { "true", {}, { timeout = 5000 } })
    sweep("process.start", function(...)
      local c = process.start(...)
      c:kill("KILL")
      c:wait(5000)
    end, { "true", {}, {} })
    sweep("process.on_signal", function(...)
      local remove = process.on_signal(...)
      if type(remove) == "function" then remove() end
    end, { "SIGUSR2", function() end })
    sweep("process.exit (wrong types only)", function(v)
      if type(v) == "number" or v == nil or type(v) == "boolean" then return end  -- would exit
      process.exit(v)
    end, { 0 })
    sweep("process.pid", process.pid, {})
    sweep("process.ppid", process.ppid, {})
    for _, bad in ipairs(BAD) do
      if type(bad[2]) ~= "string" and bad[2] ~= nil then
        probe("process.env set to " .. bad[1], function() process.env.MOONWIRE_SWEEP = bad[2] end)
      end
      probe("process.env[" .. bad[1] .. "]", function() return process.env[bad[2]] end)
    end
    process.env.MOONWIRE_SWEEP = nil

    local c = process.start("cat", {})
    for _, m in ipairs({ "wait", "kill" }) do
      sweep("child:" .. m, function(...) return c[m](c, ...) end, { 10 })
    end
    sweep("child.stdin:write", function(...) return c.stdin:write(...) end, { "x" })
    for _, m in ipairs({ "read", "read_line", "read_all", "lines" }) do
      sweep("child.stdout:" .. m, function(...) return c.stdout[m](c.stdout, ...) end, { "l" })
    end
    c.stdin:close()
    c:kill("KILL")
    c:wait(5000)
    -- exited: kill says false, wait answers again, writes fail with an error object
    test.eq(c:kill(), false)
    test.eq(c:wait(10).pid, c.pid)
    local ok, err = pcall(c.stdin.write, c.stdin, "late")
    test.eq(ok, false)
    test.ok(err.code == "closed" or err.code == "EPIPE", tostring(err))
    sweep("exited child:kill", function(...) return c:kill(...) end, { "TERM" })
    sweep("exited child:wait", function(...) return c:wait(...) end, { 10 })
    sweep("exited child.stdout:read", function(...) return c.stdout:read(...) end, { "a" })
  end)
  canary_ok()
end, { timeout = 240 })

test("crypto, buffer, time, os_ext and path take bad numbers (negative, huge, NaN)", function()
  for _, n in ipairs({ -1, 1e308, 0 / 0, math.huge, math.maxinteger, math.mininteger, 2.5 }) do
    probe("crypto.random_bytes(" .. tostring(n) .. ")", crypto.random_bytes, n)
    probe("buffer.new(" .. tostring(n) .. ")", buffer.new, n)
    probe("buffer.alloc(" .. tostring(n) .. ")", buffer.alloc, n, 1)
    probe("buffer.alloc fill " .. tostring(n), buffer.alloc, 4, n)
    local b = buffer.from("abcd")
    for _, m in ipairs({ "seek", "get", "set", "readString", "slice", "fill", "writeInt32LE", "writeUInt8", "writeDouble" }) do
      probe("buf:" .. m .. "(" .. tostring(n) .. ")", b[m], b, n, n)
    end
    probe("time.format(" .. tostring(n) .. ")", time.format, n)
    probe("time.sleep(" .. tostring(n) .. ") (capped)", function() if n ~= n or n < 1 then time.sleep(n) end end)
    probe("os_ext.env(" .. tostring(n) .. ")", os_ext.env, n)
    probe("path.join(" .. tostring(n) .. ")", path.join, "a", n)
  end
  canary_ok()
end, { timeout = 120 })

test("misspelled options are EINVAL errors with 'did you mean'", function()
  did_you_mean("process.exec", function() process.exec("true", { timeuot = 10 }) end, "timeout")
  did_you_mean("process.spawn", function() process.spawn("true", {}, { cdw = "/" }) end, "cwd")
  did_you_mean("process.start", function() process.start("true", {}, { evn = {} }) end, "env")
  did_you_mean("fs.watch", function() fs.watch(".", { recursiv = true }) end, "recursive")
  did_you_mean("crypto.sha256", function() crypto.sha256("x", { rwa = true }) end, "raw")
  did_you_mean("crypto.hmac", function() crypto.hmac("sha256", "k", "x", { rae = true }) end, "raw")
  did_you_mean("json.encode", function() json.encode({}, { prety = true }) end, "pretty")
end)

test("cleanup", S.close_canary)
