-- os_ext (CopperMoon): environment, working directory, platform facts; merged into `os`.
local test = require("test")

local function sh(cmd)
  local p = io.popen(cmd)
  local out = p:read("a")
  p:close()
  return (out:gsub("%s+$", ""))
end

test("os_ext is a global, require-able, and merged into os without replacing anything", function()
  test.eq(require("os_ext"), os_ext)
  for _, name in ipairs({ "env", "setenv", "unsetenv", "cwd", "chdir", "platform", "arch", "homedir",
                          "tmpdir", "hostname", "cpus" }) do
    test.eq(type(os_ext[name]), "function", name)
    test.eq(os[name], os_ext[name], "os." .. name)
  end
  -- The standard os functions are still the standard ones.
  for _, name in ipairs({ "clock", "date", "difftime", "execute", "exit", "getenv", "remove", "rename",
                          "setlocale", "time", "tmpname" }) do
    test.eq(type(os[name]), "function", name)
  end
  test.eq(os.getenv("HOME"), os_ext.env("HOME"))
end)

test("env, setenv, unsetenv", function()
  local name = "MOONWIRE_OS_EXT_TEST"
  os_ext.unsetenv(name)
  test.eq(os_ext.env(name), nil)
  os_ext.setenv(name, "hello")
  test.eq(os_ext.env(name), "hello")
  test.eq(os.getenv(name), "hello") -- the process environment, seen by standard Lua too
  test.eq(sh("printf %s \"$" .. name .. "\""), "hello") -- and inherited by children
  os_ext.setenv(name, "")
  test.eq(os_ext.env(name), "") -- set but empty is not unset
  os_ext.setenv(name, "héllo wörld ✓ =x")
  test.eq(os_ext.env(name), "héllo wörld ✓ =x")
  os_ext.setenv(name, 42) -- numbers are strings, as everywhere in Lua
  test.eq(os_ext.env(name), "42")
  os_ext.unsetenv(name)
  test.eq(os_ext.env(name), nil)
  os_ext.unsetenv(name) -- unsetting an unset variable is fine
  test.eq(os_ext.env("MOONWIRE_SURELY_NOT_SET_ANYWHERE"), nil)
  test.eq(os_ext.env("PATH"), os.getenv("PATH"))
end)

test("env names that cannot exist read as nil; setenv/unsetenv refuse them", function()
  test.eq(os_ext.env(""), nil)
  test.eq(os_ext.env("PATH=x"), nil)
  test.eq(os_ext.env("PATH\0junk"), nil) -- not PATH
  for _, bad in ipairs({ "", "A=B", "=A", "A\0B" }) do
    local e = test.raises(function() os_ext.setenv(bad, "v") end, "EINVAL")
    test.matches(tostring(e), "bad argument #1 to '.-setenv'")
    test.raises(function() os_ext.unsetenv(bad) end, "EINVAL")
  end
  local e = test.raises(function() os_ext.setenv("MOONWIRE_X", "a\0b") end, "EINVAL")
  test.matches(tostring(e), "NUL")
  test.eq(os_ext.env("MOONWIRE_X"), nil)
end)

test("wrong types are argument errors", function()
  for _, f in ipairs({ "env", "unsetenv", "chdir" }) do
    test.raises(function() os_ext[f]() end, "string expected")
    test.raises(function() os_ext[f]({}) end, "string expected")
  end
  test.raises(function() os_ext.setenv("A") end, "string expected")
  test.raises(function() os_ext.setenv("A", nil) end, "string expected")
  test.raises(function() os_ext.setenv(nil, "x") end, "string expected")
  test.raises(function() os_ext.setenv("A", {}) end, "string expected")
end)

test("cwd and chdir", function()
  local start = os_ext.cwd()
  test.eq(start, sh("pwd -P"))
  assert(start:sub(1, 1) == "/")
  local tmp = sh("mktemp -d")
  local real = sh("cd " .. tmp .. " && pwd -P")
  local ok, err = pcall(function()
    test.eq(os_ext.chdir(tmp), true)
    test.eq(os_ext.cwd(), real)
    test.eq(sh("pwd -P"), real) -- children start there
    os_ext.chdir("..")
    test.eq(os_ext.cwd(), real:match("^(.*)/[^/]*$"))
    os_ext.chdir("/")
    test.eq(os_ext.cwd(), "/")
  end)
  os_ext.chdir(start)
  os.execute("rm -rf " .. tmp)
  assert(ok, err)
  test.eq(os_ext.cwd(), start)
end)

test("chdir failures are error objects with the errno code", function()
  local e = test.raises(function() os_ext.chdir("/nonexistent/moonwire") end, "ENOENT")
  test.matches(e.message, "chdir: /nonexistent/moonwire: No such file or directory")
  test.matches(tostring(e), "No such file")
  test.raises(function() os_ext.chdir("/etc/passwd") end, "ENOTDIR")
  test.raises(function() os_ext.chdir("") end, "EINVAL")
  test.raises(function() os_ext.chdir("/tmp\0/x") end, "EINVAL")
  local before = os_ext.cwd()
  pcall(os_ext.chdir, "/nonexistent")
  test.eq(os_ext.cwd(), before)
end)

test("cwd of a removed directory is an error object", function()
  local tmp = sh("mktemp -d")
  local start = os_ext.cwd()
  os_ext.chdir(tmp)
  os.execute("rmdir " .. tmp)
  local ok, e = pcall(os_ext.cwd)
  os_ext.chdir(start)
  test.eq(ok, false)
  test.eq(e.code, "ENOENT")
end)

test("platform, arch, hostname, cpus", function()
  test.eq(os_ext.platform(), "linux")
  local machine = sh("uname -m")
  local expected = ({ x86_64 = "x86_64", aarch64 = "aarch64", arm64 = "aarch64", i686 = "x86" })[machine]
  if expected then test.eq(os_ext.arch(), expected) else test.eq(type(os_ext.arch()), "string") end
  test.eq(os_ext.hostname(), sh("cat /proc/sys/kernel/hostname"))
  local n = os_ext.cpus()
  test.eq(math.type(n), "integer")
  assert(n >= 1)
  test.eq(n, tonumber(sh("nproc")))
end)

test("homedir is $HOME, else the user database's", function()
  local home = os.getenv("HOME")
  local ok, err = pcall(function()
    os_ext.setenv("HOME", "/some/where")
    test.eq(os_ext.homedir(), "/some/where")
    os_ext.unsetenv("HOME")
    local pw = sh("getent passwd $(id -u) | cut -d: -f6")
    test.eq(os_ext.homedir(), pw ~= "" and pw or nil)
    os_ext.setenv("HOME", "")
    test.eq(os_ext.homedir(), pw ~= "" and pw or nil)
  end)
  if home then os_ext.setenv("HOME", home) else os_ext.unsetenv("HOME") end
  assert(ok, err)
end)

test("tmpdir is $TMPDIR (without trailing slashes), else /tmp", function()
  local saved = os.getenv("TMPDIR")
  local ok, err = pcall(function()
    os_ext.unsetenv("TMPDIR")
    test.eq(os_ext.tmpdir(), "/tmp")
    os_ext.setenv("TMPDIR", "")
    test.eq(os_ext.tmpdir(), "/tmp")
    os_ext.setenv("TMPDIR", "/var/tmp/")
    test.eq(os_ext.tmpdir(), "/var/tmp")
    os_ext.setenv("TMPDIR", "/")
    test.eq(os_ext.tmpdir(), "/")
    os_ext.setenv("TMPDIR", "/x//")
    test.eq(os_ext.tmpdir(), "/x")
  end)
  if saved then os_ext.setenv("TMPDIR", saved) else os_ext.unsetenv("TMPDIR") end
  assert(ok, err)
end)

test("functions without arguments ignore extra ones", function()
  test.eq(os_ext.platform(1, 2), "linux")
  test.eq(math.type(os_ext.cpus({})), "integer")
end)
