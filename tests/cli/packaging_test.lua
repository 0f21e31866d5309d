-- make install / make deb (cmake/install.cmake): `cmake --install` of the build tree under test
-- into a temporary DESTDIR, and the .deb built by CPack checked with dpkg-deb and run from the
-- tree it extracts to. Re-uses the built binary (only the man page is built if missing).
local test = require("test")
local cli = dofile("tests/cli/fixtures/cli.lua")
local proc = cli.proc
local q = proc.quote

test.after_each(cli.cleanup)

local build = cli.bin_dir
local configured = proc.read_file(build .. "/cmake_install.cmake") ~= nil
local tools = proc.have("cmake") and proc.have("cpack") and proc.have("dpkg-deb") and proc.have("dpkg-shlibdeps")
  and proc.have("pandoc")
local ptest = proc.peer_test(test, configured and tools,
  "a configured build tree (" .. build .. "/cmake_install.cmake) with cmake, cpack, dpkg-deb, dpkg-shlibdeps, pandoc")

-- A shell command line run to completion (stdout and stderr together in r.out on failure).
local function sh(cmd, timeout)
  local r = cli.run({ "-c", cmd .. " 2>&1" }, { program = "/bin/sh", timeout = timeout or 120 })
  return r
end

local function must(cmd, timeout)
  local r = sh(cmd, timeout)
  test.eq(r.code, 0, cmd .. "\n" .. r.out .. r.err)
  return r.out
end

local function version_of_project()
  local cm = proc.read_file("CMakeLists.txt")
  return cm:match("project%(moonwire VERSION ([%d.]+)")
end

-- The man page is a build product (pandoc); make sure it exists without rebuilding anything else.
local function ensure_man()
  if not proc.read_file(build .. "/moonwire.1") then
    must("cmake --build " .. q(build) .. " --target moonwire_man")
  end
end

-- A script run through its shebang line from `bindir` on PATH (nothing else of moonwire's).
local function run_shebang_script(bindir, dir)
  local script = dir .. "/hello.lua"
  proc.write_file(script, "#!/usr/bin/env moonwire\n" ..
    "task.sleep(0.01)\nprint('hello ' .. json.encode({ a = ... }) .. ' ' .. tostring(fs.is_file(arg[0])))\n")
  must("chmod +x " .. q(script))
  return must("cd " .. q(dir) .. " && env PATH=" .. q(bindir .. ":/usr/bin:/bin") .. " ./hello.lua 1")
end

ptest("cmake --install into a DESTDIR: binary, man page, docs, type definitions; it runs from there", function()
  ensure_man()
  local dir = proc.tmpdir()
  local dest = dir .. "/dest"
  -- The component install writes install_manifest_Unspecified.txt: a user's
  -- build/install_manifest.txt (make uninstall) is left alone.
  must("DESTDIR=" .. q(dest) .. " cmake --install " .. q(build) .. " --prefix /opt/mw --component Unspecified")
  local root = dest .. "/opt/mw"
  for _, f in ipairs({ "/bin/moonwire", "/share/man/man1/moonwire.1", "/share/doc/moonwire/README.md",
    "/share/doc/moonwire/cli.md", "/share/doc/moonwire/editor.md", "/share/moonwire/types/task.lua",
    "/share/moonwire/types/net.ws.lua" }) do
    test.ok(proc.read_file(root .. f), "installed: " .. f)
  end
  -- Nothing outside DESTDIR.
  test.eq(must("cd " .. q(dest) .. " && find . -maxdepth 2 | sort"), ".\n./opt\n./opt/mw\n")
  -- The man page renders, with its NAME section and the options of docs/cli.md.
  local roff = proc.read_file(root .. "/share/man/man1/moonwire.1")
  test.matches(roff, '\n%.TH "MOONWIRE" "1" "" "moonwire ' .. version_of_project():gsub("%.", "%%.") .. '"')
  test.matches(roff, "\n%.SH NAME\n")
  test.matches(roff, "\n%.SH Options\n")
  if proc.have("man") and proc.have("col") then
    local man = must("MANWIDTH=80 man -l " .. q(root .. "/share/man/man1/moonwire.1") .. " | col -b")
    test.matches(man, "NAME%s+moonwire%s+%-%s+run%s+Lua%s+5%.4%s+scripts")
    test.matches(man, "%-%-types DIR")
  end
  test.eq(must(q(root .. "/bin/moonwire") .. " -v"), "moonwire " .. version_of_project() .. " (Lua 5.4." ..
    must("lua5.4 -v"):match("Lua 5%.4%.(%d+)") .. ")\n")
  test.eq(run_shebang_script(root .. "/bin", dir), 'hello {"a":"1"} true\n')
  -- The installed definitions are the embedded ones.
  must(q(root .. "/bin/moonwire") .. " --types " .. q(dir .. "/types"))
  must("diff -r " .. q(dir .. "/types") .. " " .. q(root .. "/share/moonwire/types"))
  -- make uninstall's script removes every file and moonwire's own directories.
  must("tools/uninstall.sh " .. q(build .. "/install_manifest_Unspecified.txt") .. " " .. q(dest))
  test.eq(must("cd " .. q(dest) .. " && find . -type f"), "")
  test.eq(must("cd " .. q(dest) .. " && find . -name '*moonwire*'"), "")
end, { timeout = 120 })

ptest("make deb: a .deb with Depends: from the binary's libraries; extracted, it runs", function()
  ensure_man()
  local dir = proc.tmpdir()
  must("cd " .. q(dir) .. " && cpack -G DEB --config " .. q(build .. "/CPackConfig.cmake") .. " -B " .. q(dir .. "/out"), 300)
  local deb = must("ls " .. q(dir .. "/out") .. "/moonwire_*.deb"):match("^([^\n]+)\n$")
  test.ok(deb, "one .deb in " .. dir .. "/out")
  local info = must("dpkg-deb -I " .. q(deb))
  local version = version_of_project()
  test.matches(info, "\n Package: moonwire\n")
  test.matches(info, "\n Version: " .. version:gsub("%.", "%%.") .. "\n")
  test.matches(info, "\n Architecture: " .. must("dpkg --print-architecture"):gsub("\n", "") .. "\n")
  local depends = info:match("\n Depends: ([^\n]+)\n")
  test.ok(depends, "a Depends: line\n" .. info)
  test.matches(depends, "liblua5%.4%-0")
  test.matches(depends, "libc6 %(>= ")
  -- Static Boost/OpenSSL/libstdc++ (the release link; a sanitizer build keeps libstdc++ shared):
  -- none of them is a dependency.
  test.ok(not depends:find("libssl", 1, true), depends)
  if not must("readelf -d " .. q(cli.bin)):find("libstdc++", 1, true) then
    test.ok(not depends:find("libstdc++", 1, true), depends)
  end
  local files = must("dpkg-deb -c " .. q(deb))
  for _, f in ipairs({ "./usr/bin/moonwire", "./usr/share/man/man1/moonwire.1", "./usr/share/doc/moonwire/README.md",
    "./usr/share/moonwire/types/fs.lua" }) do
    test.ok(files:find(f, 1, true), f .. " in the package\n" .. files)
  end
  local root = dir .. "/root"
  must("dpkg-deb -x " .. q(deb) .. " " .. q(root))
  test.eq(must(q(root .. "/usr/bin/moonwire") .. " -v"):match("^moonwire ([%d.]+) "), version)
  test.eq(run_shebang_script(root .. "/usr/bin", dir), 'hello {"a":"1"} true\n')
  -- Stripped: much smaller than the RelWithDebInfo binary it was made from.
  local size = tonumber(must("stat -c %s " .. q(root .. "/usr/bin/moonwire")))
  local built = tonumber(must("stat -c %s " .. q(cli.bin)))
  test.ok(size < built, ("packaged %d bytes, built %d"):format(size, built))
end, { timeout = 300 })
