-- path: POSIX path strings (Node's path.posix semantics, CopperMoon's names).
local test = require("test")

local function cases(fn, list)
  for _, c in ipairs(list) do
    local input, expected = c[1], c[2]
    test.eq(fn(table.unpack(input, 1, input.n or #input)), expected, "(" .. table.concat(input, ", ") .. ")")
  end
end

test("path is a global and require-able", function()
  test.eq(require("path"), path)
  test.eq(path.sep, "/")
end)

test("loaded on first use: the first access, pairs or require all see the whole module", function()
  local bin = os.getenv("MOONWIRE_BIN") or "moonwire"
  local function run(code)
    local p = io.popen(bin .. " -e '" .. code .. "' 2>&1")
    local out = p:read("a")
    p:close()
    return out
  end
  test.eq(run("local n = 0 for k, v in pairs(path) do n = n + 1 end print(n, getmetatable(path))"), "9\tnil\n")
  test.eq(run("print(path.sep, rawget(path, \"join\") ~= nil)"), "/\ttrue\n")
  test.eq(run("print(require(\"path\") == path, require(\"path\").join(\"a\", \"b\"), path.join == require(\"path\").join)"),
    "true\ta/b\ttrue\n")
  test.eq(run("path.join = 1 print(path.join, path.dirname(\"/a/b\"))"), "1\t/a\n") -- a script's field wins
end)

test("normalize", function()
  cases(path.normalize, {
    { { "" }, "." },
    { { "." }, "." },
    { { "./" }, "./" },
    { { "/" }, "/" },
    { { "//" }, "/" },
    { { "///a//b" }, "/a/b" },
    { { "a/b/c" }, "a/b/c" },
    { { "a//b/./c" }, "a/b/c" },
    { { "a/b/../c" }, "a/c" },
    { { "a/b/" }, "a/b/" }, -- a trailing slash is kept (it says "a directory")
    { { "a/b//" }, "a/b/" },
    { { "a/.." }, "." },
    { { "a/../" }, "./" },
    { { "/a/.." }, "/" },
    { { "/.." }, "/" }, -- never above the root
    { { "/../../a" }, "/a" },
    { { "/a/../../b/" }, "/b/" },
    { { ".." }, ".." }, -- relative paths keep their leading ..
    { { "../" }, "../" },
    { { "../../a" }, "../../a" },
    { { "a/../../b" }, "../b" },
    { { "./a/./b/." }, "a/b" },
    { { "a/b/c/../../.." }, "." },
    { { "..." }, "..." }, -- just a name
    { { ".a/..b/b.." }, ".a/..b/b.." },
    { { "/héllo/wörld/../✓" }, "/héllo/✓" },
  })
end)

test("join", function()
  cases(path.join, {
    { {}, "." },
    { { "" }, "." },
    { { "", "" }, "." },
    { { "a" }, "a" },
    { { "a", "b", "c" }, "a/b/c" },
    { { "a/", "/b/", "c" }, "a/b/c" },
    { { "/a", "b" }, "/a/b" },
    { { "a", "/b" }, "a/b" }, -- an absolute part does not reset (use resolve)
    { { "a", "", "b" }, "a/b" },
    { { "", "a" }, "a" },
    { { "/", "a" }, "/a" },
    { { "a", "../b" }, "b" },
    { { "a", "..", ".." }, ".." },
    { { "/a", "..", ".." }, "/" },
    { { "a", "b/" }, "a/b/" },
    { { "a", "." }, "a" },
    { { ".", "." }, "." },
    { { "dir", "fichier été.txt" }, "dir/fichier été.txt" },
  })
  test.eq(path.join("a", 1, 2.5), "a/1/2.5") -- numbers are strings, as in Lua's own functions
end)

test("resolve", function()
  local cwd = os_ext.cwd()
  test.eq(path.resolve(), cwd)
  test.eq(path.resolve(""), cwd)
  test.eq(path.resolve("."), cwd)
  test.eq(path.resolve("a/b"), cwd == "/" and "/a/b" or cwd .. "/a/b")
  test.eq(path.resolve("/a/b", "c"), "/a/b/c")
  test.eq(path.resolve("/a", "/b", "c"), "/b/c") -- right to left until absolute
  test.eq(path.resolve("/a/b/", "../c/"), "/a/c") -- no trailing slash
  test.eq(path.resolve("/"), "/")
  test.eq(path.resolve("/../.."), "/")
  test.eq(path.resolve("/a", "", "b"), "/a/b")
  test.eq(path.resolve("x", "/y/./z//"), "/y/z")
  test.eq(path.resolve(".."), path.dirname(cwd))
  -- Follows chdir.
  local start = os_ext.cwd()
  os_ext.chdir("/")
  local ok, err = pcall(function()
    test.eq(path.resolve("etc"), "/etc")
    test.eq(path.resolve(".."), "/")
  end)
  os_ext.chdir(start)
  assert(ok, err)
end)

test("dirname", function()
  cases(path.dirname, {
    { { "" }, "." },
    { { "." }, "." },
    { { ".." }, "." },
    { { "a" }, "." },
    { { "a/" }, "." },
    { { "a/b" }, "a" },
    { { "a/b/" }, "a" },
    { { "a/b//" }, "a" },
    { { "a//b" }, "a" },
    { { "/" }, "/" },
    { { "//" }, "/" },
    { { "/a" }, "/" },
    { { "/a/" }, "/" },
    { { "//a" }, "/" },
    { { "/a/b" }, "/a" },
    { { "/a/b/c.txt" }, "/a/b" },
    { { "a/./b" }, "a/." }, -- not normalized
    { { "/ü/é.txt" }, "/ü" },
  })
end)

test("basename, with a suffix to strip", function()
  cases(path.basename, {
    { { "" }, "" },
    { { "/" }, "" },
    { { "//" }, "" },
    { { "." }, "." },
    { { ".." }, ".." },
    { { "a" }, "a" },
    { { "a/b" }, "b" },
    { { "a/b/" }, "b" },
    { { "/a/b//" }, "b" },
    { { "//a" }, "a" },
    { { "/a/file.txt" }, "file.txt" },
    { { "/a/file.txt", ".txt" }, "file" },
    { { "/a/file.txt", "txt" }, "file." },
    { { "/a/file.txt", ".md" }, "file.txt" },
    { { "/a/file.txt/", ".txt" }, "file" },
    { { "file.txt", "file.txt" }, "file.txt" }, -- never all of it (GNU basename)
    { { ".txt", ".txt" }, ".txt" },
    { { "a.txt", "" }, "a.txt" },
    { { "/x/été.lua", ".lua" }, "été" },
  })
  test.eq(path.basename("a.txt", nil), "a.txt")
end)

test("extname", function()
  cases(path.extname, {
    { { "" }, "" },
    { { "a" }, "" },
    { { "a.txt" }, ".txt" },
    { { "a.tar.gz" }, ".gz" },
    { { "/x.y/a" }, "" }, -- dots of directories do not count
    { { "a." }, "." },
    { { ".bashrc" }, "" }, -- a hidden name, not an extension
    { { ".bashrc.bak" }, ".bak" },
    { { "." }, "" },
    { { ".." }, "" },
    { { "..." }, "." },
    { { "..a" }, ".a" },
    { { "a.txt/" }, ".txt" },
    { { "a.txt//" }, ".txt" },
    { { "/" }, "" },
    { { "photo.JPEG" }, ".JPEG" },
    { { "naïve.été" }, ".été" },
  })
end)

test("is_absolute and is_relative", function()
  for _, p in ipairs({ "/", "/a", "//a", "/..", "/a/b/" }) do
    test.eq(path.is_absolute(p), true, p)
    test.eq(path.is_relative(p), false, p)
  end
  for _, p in ipairs({ "", ".", "..", "a", "a/b", "./a", "~/a", " /a" }) do
    test.eq(path.is_absolute(p), false, p)
    test.eq(path.is_relative(p), true, p)
  end
end)

test("wrong types are argument errors naming the function", function()
  for _, name in ipairs({ "normalize", "dirname", "basename", "extname", "is_absolute", "is_relative" }) do
    local e = test.raises(function() path[name]() end, "bad argument #1 to 'path." .. name .. "' (string expected, got no value)")
    test.eq(type(e), "string")
    test.raises(function() path[name]({}) end, "string expected, got table")
    test.raises(function() path[name](true) end, "string expected, got boolean")
  end
  test.raises(function() path.join("a", {}) end, "bad argument #2 to 'path.join' (string expected, got table)")
  test.raises(function() path.join("a", nil, "b") end, "bad argument #2 to 'path.join'")
  test.raises(function() path.resolve("a", false) end, "bad argument #2 to 'path.resolve'")
  test.raises(function() path.basename("a", {}) end, "bad argument #2 to 'path.basename'")
  -- The error points at the caller's line, as Lua's own argument errors do.
  local _, e = pcall(function() path.dirname(nil) end)
  test.matches(e, "path_test%.lua:%d+: bad argument")
end)

test("bytes are bytes: NUL, long and odd strings do not break anything", function()
  test.eq(path.join("a\0b", "c"), "a\0b/c")
  test.eq(path.basename("x/a\0b"), "a\0b")
  local long = ("abc/"):rep(20000)
  test.eq(path.normalize(long), long)
  test.eq(path.basename(long), "abc")
  test.eq(path.dirname(long), ("abc/"):rep(19999):sub(1, -2))
  test.eq(path.normalize(("../"):rep(1000)), ("../"):rep(1000))
  test.eq(path.normalize("/" .. ("../"):rep(1000)), "/")
end)
