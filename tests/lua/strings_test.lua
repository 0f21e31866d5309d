-- String and table helpers (CopperMoon's string.* and table.* additions).
local test = require("test")

local BIN = os.getenv("MOONWIRE_BIN") or "moonwire"
local function run(code)
  local name = os.tmpname()
  local f = assert(io.open(name, "w"))
  f:write(code)
  f:close()
  local p = io.popen(BIN .. " " .. name .. " 2>&1")
  local out = p:read("a")
  p:close()
  os.remove(name)
  return out
end

local STRING = { "split", "trim", "ltrim", "rtrim", "starts_with", "ends_with", "contains", "pad_left",
                 "pad_right", "pad_center", "truncate", "lines", "chars", "replace_all", "count" }
local TABLE = { "keys", "values", "merge", "map", "filter", "find", "reduce", "contains", "slice", "reverse",
                "clone", "is_empty", "count" }
local STD_STRING = { "byte", "char", "dump", "find", "format", "gmatch", "gsub", "len", "lower", "match", "pack",
                     "packsize", "rep", "reverse", "sub", "unpack", "upper" }
local STD_TABLE = { "concat", "insert", "move", "pack", "remove", "sort", "unpack" }

test("every helper exists; the standard functions are still Lua's own", function()
  string.trim("x") -- loads the helpers
  for _, n in ipairs(STRING) do
    test.eq(type(string[n]), "function", "string." .. n)
    test.eq(debug.getinfo(string[n], "S").source, "@[moonwire]/_strings.lua", "string." .. n)
  end
  for _, n in ipairs(TABLE) do
    test.eq(debug.getinfo(table[n], "S").source, "@[moonwire]/_strings.lua", "table." .. n)
  end
  for _, n in ipairs(STD_STRING) do test.eq(debug.getinfo(string[n], "S").what, "C", "string." .. n) end
  for _, n in ipairs(STD_TABLE) do test.eq(debug.getinfo(table[n], "S").what, "C", "table." .. n) end
  -- Every function _strings.lua defines is in place (the C list of stubs is complete).
  local loaded = debug.getregistry()["moonwire.strings"]
  for n, f in pairs(loaded.string) do test.eq(string[n], f, "string." .. n) end
  for n, f in pairs(loaded.table) do test.eq(table[n], f, "table." .. n) end
  -- Nothing else was added.
  local known = {}
  for _, l in ipairs({ STRING, STD_STRING }) do for _, n in ipairs(l) do known[n] = true end end
  for n in pairs(string) do test.ok(known[n], "unexpected string." .. n) end
  known = {}
  for _, l in ipairs({ TABLE, STD_TABLE }) do for _, n in ipairs(l) do known[n] = true end end
  for n in pairs(table) do test.ok(known[n], "unexpected table." .. n) end
end)

test("loaded on first use; a script's own definitions are never replaced", function()
  local out = run([[
    print(debug.getinfo(string.split, "S").what, debug.getinfo(table.map, "S").what)
    string.trim = function() return "mine" end
    table.count = "not even a function"
    local early = string.split
    print(#early("a,b,c", ","), early == string.split, debug.getinfo(string.split, "S").what)
    print(string.trim(" a "), table.count, ("  x "):ltrim())
    print(#early("a,b", ","))
  ]])
  test.eq(out, "C\tC\n3\tfalse\tLua\nmine\tnot even a function\tx \n2\n")
end)

test("callbacks may yield (do I/O), also through the first call", function()
  local out = run([[
    local r = table.map({ 1, 2, 3 }, function(v) task.sleep(0.001) return v * 2 end)
    print(table.concat(r, ","))
    print(table.reduce({ 1, 2, 3 }, function(a, v) time.sleep(1) return a + v end, 10))
  ]])
  test.eq(out, "2,4,6\n16\n")
  local r = table.filter({ 1, 2, 3, 4 }, function(v) task.sleep(0) return v % 2 == 0 end)
  test.eq(r, { 2, 4 })
end)

test("string.split", function()
  test.eq(("a,b,c"):split(","), { "a", "b", "c" })
  test.eq(("a,,b,"):split(","), { "a", "", "b", "" })
  test.eq((",a"):split(","), { "", "a" })
  test.eq((""):split(","), { "" })
  test.eq(("abc"):split(","), { "abc" })
  test.eq(("a::b::c"):split("::"), { "a", "b", "c" })
  test.eq(("a.b.c"):split("."), { "a", "b", "c" }) -- plain by default
  test.eq(("a%b"):split("%"), { "a", "b" })
  test.eq(("a1b22c"):split("%d+", false), { "a", "b", "c" })
  test.eq(("a b\t\tc"):split("%s+", false), { "a", "b", "c" })
  test.eq(("a b"):split("%s*", false), { "a", "b" }) -- empty matches are not separators
  test.eq(("a,b,c,d"):split(",", true, 2), { "a", "b,c,d" })
  test.eq(("a,b,c,d"):split(",", 3), { "a", "b", "c,d" }) -- max in third place
  test.eq(("a,b"):split(",", true, 1), { "a,b" })
  test.eq(("a,b"):split(",", true, 10), { "a", "b" })
  test.eq(("héllo"):split(""), { "h", "é", "l", "l", "o" }) -- characters
  test.eq(("✓✗"):split("", 1), { "✓✗" })
  test.eq(("abc"):split("", 2), { "a", "bc" })
  test.eq((""):split(""), {})
  test.eq(("a\0b"):split("\0"), { "a", "b" })
  test.eq(("日本語,中文"):split(","), { "日本語", "中文" })
  test.eq(string.split(123, 2), { "1", "3" })
  test.raises(function() string.split("a") end, "bad argument #2 to 'string.split' (string expected")
  test.raises(function() string.split({}, ",") end, "string expected, got table")
  test.eq(test.raises(function() string.split("a", ",", true, 0) end).code, "EINVAL")
  test.eq(test.raises(function() string.split("a", ",", true, 1.5) end).code, "EINVAL")
  test.eq(test.raises(function() string.split("a", ",", true, 0 / 0) end).code, "EINVAL")
  test.eq(test.raises(function() string.split("a", "[", false) end).code, "EINVAL")
  local big = ("x,"):rep(100000)
  test.eq(#big:split(","), 100001)
end)

test("trim, ltrim, rtrim (ASCII and Unicode whitespace)", function()
  test.eq(("  hi  "):trim(), "hi")
  test.eq(("\t\n\r\v\f hi \n"):trim(), "hi")
  test.eq(("  hi  "):ltrim(), "hi  ")
  test.eq(("  hi  "):rtrim(), "  hi")
  test.eq((""):trim(), "")
  test.eq(("   "):trim(), "")
  test.eq(("   "):ltrim(), "")
  test.eq(("   "):rtrim(), "")
  test.eq(("a b"):trim(), "a b")
  test.eq(("\u{A0}\u{3000}hi\u{2003}\u{85}"):trim(), "hi")
  test.eq(("\u{2028}x\u{2029}"):ltrim(), "x\u{2029}")
  test.eq(("\u{2028}x\u{2029}"):rtrim(), "\u{2028}x")
  test.eq(("\u{FEFF}x"):trim(), "\u{FEFF}x") -- a BOM is not whitespace
  test.eq(("é "):trim(), "é")
  test.eq((" \xE2\x80"):trim(), "\xE2\x80") -- a cut sequence is not whitespace
  test.eq(("\0 x \0"):trim(), "\0 x \0")
  test.eq(string.trim(5), "5")
  local long = (" "):rep(100000) .. "x" .. (" "):rep(100000)
  test.eq(long:trim(), "x")
  test.raises(function() string.trim() end, "bad argument #1 to 'string.trim' (string expected, got no value)")
  test.raises(function() string.rtrim({}) end, "string expected")
end)

test("starts_with, ends_with, contains (plain)", function()
  assert(("hello"):starts_with("he"))
  assert(("hello"):starts_with(""))
  assert(("hello"):starts_with("hello"))
  assert(not ("hello"):starts_with("hello!"))
  assert(not ("hello"):starts_with("."))
  assert(("hello"):ends_with("lo"))
  assert(("hello"):ends_with(""))
  assert((""):ends_with(""))
  assert(not ("lo"):ends_with("hello"))
  assert(("a.b"):contains("."))
  assert(not ("ab"):contains("."))
  assert(("a%b"):contains("%b"))
  assert(("x"):contains(""))
  assert(("naïve"):contains("ï"))
  test.raises(function() string.starts_with("a", nil) end, "bad argument #2 to 'string.starts_with'")
  test.raises(function() string.ends_with(nil, "a") end, "bad argument #1")
  test.raises(function() string.contains("a", {}) end, "string expected")
end)

test("pad_left, pad_right, pad_center (widths in characters)", function()
  test.eq(("hi"):pad_left(5), "   hi")
  test.eq(("hi"):pad_right(5), "hi   ")
  test.eq(("hi"):pad_left(5, "0"), "000hi")
  test.eq(("hi"):pad_center(6, "*"), "**hi**")
  test.eq(("hi"):pad_center(5, "*"), "*hi**")
  test.eq(("hello"):pad_left(3), "hello") -- never cut
  test.eq(("hi"):pad_left(-1), "hi")
  test.eq(("hi"):pad_left(0), "hi")
  test.eq(("é"):pad_left(3), "  é") -- 1 character, 2 bytes
  test.eq(("x"):pad_right(4, "✓"), "x✓✓✓")
  test.eq(("x"):pad_left(6, "ab"), "ababax") -- a longer fill repeats and is cut
  test.eq(("x"):pad_left(4, "日本"), "日本日x")
  test.eq(string.pad_left(7, 3, 0), "007")
  test.eq(("x"):pad_left(3.0), "  x")
  test.eq(("x"):pad_left("3"), "  x")
  test.eq(test.raises(function() ("x"):pad_left(2.5) end).code, "EINVAL")
  test.eq(test.raises(function() ("x"):pad_left(0 / 0) end).code, "EINVAL")
  test.eq(test.raises(function() ("x"):pad_left(math.huge) end).code, "EINVAL")
  test.eq(test.raises(function() ("x"):pad_left(1e15) end).code, "EINVAL")
  test.eq(test.raises(function() ("x"):pad_right(3, "") end).code, "EINVAL")
  test.raises(function() ("x"):pad_left() end, "bad argument #2 to 'string.pad_left' (number expected, got no value)")
  test.raises(function() ("x"):pad_left({}) end, "number expected, got table")
  test.raises(function() ("x"):pad_left(3, {}) end, "bad argument #3")
end)

test("truncate", function()
  test.eq(("hello world"):truncate(5), "hello")
  test.eq(("hello world"):truncate(8, "..."), "hello...")
  test.eq(("hello"):truncate(5, "..."), "hello")
  test.eq(("hello"):truncate(2, "..."), "..") -- never longer than asked
  test.eq(("héllo"):truncate(2), "hé")
  test.eq(("abc"):truncate(0), "")
  test.eq(test.raises(function() ("abc"):truncate(-1) end).code, "EINVAL")
end)

test("lines: a list, as CopperMoon", function()
  test.eq(("a\nb\nc"):lines(), { "a", "b", "c" })
  test.eq(("a\nb\n"):lines(), { "a", "b" }) -- a final newline does not start a line
  test.eq(("a\r\nb\r\n"):lines(), { "a", "b" })
  test.eq(("a\n\nb"):lines(), { "a", "", "b" })
  test.eq(("\n"):lines(), { "" })
  test.eq(("\n\n"):lines(), { "", "" })
  test.eq((""):lines(), {})
  test.eq(("a\rb"):lines(), { "a\rb" }) -- a lone CR is not a line ending
  test.eq(("x\r"):lines(), { "x\r" })
  test.eq(("ünï\ncödé"):lines(), { "ünï", "cödé" })
  local n = 0
  for _, l in ipairs(("1\n2\n3\n"):lines()) do n = n + tonumber(l) end
  test.eq(n, 6)
  test.raises(function() string.lines(nil) end, "bad argument #1 to 'string.lines'")
end)

test("chars and count", function()
  test.eq(("aé✓"):chars(), { "a", "é", "✓" })
  test.eq((""):chars(), {})
  test.eq(("a\xFFb"):chars(), { "a", "\xFF", "b" }) -- invalid UTF-8: bytes of their own
  test.eq(("banana"):count("an"), 2)
  test.eq(("aaaa"):count("aa"), 2) -- non-overlapping
  test.eq(("abc"):count(""), 0)
  test.eq(("a.b.c"):count("."), 2) -- plain
end)

test("replace_all (plain)", function()
  test.eq(("aabbcc"):replace_all("bb", "xx"), "aaxxcc")
  test.eq(("a.b.c"):replace_all(".", "%"), "a%b%c") -- no patterns, either side
  test.eq(("a%1b"):replace_all("%1", "%0"), "a%0b")
  test.eq(("aaa"):replace_all("a", "aa"), "aaaaaa")
  test.eq(("abc"):replace_all("x", "y"), "abc")
  test.eq(("abc"):replace_all("b", ""), "ac")
  test.eq(("abc"):replace_all("", "-"), "-a-b-c-")
  test.eq(("é✓"):replace_all("", "|"), "|é|✓|")
  test.eq((""):replace_all("", "-"), "-")
  test.eq(("a\0b"):replace_all("\0", "0"), "a0b")
  test.eq(("x[y]"):replace_all("[y]", "(z)"), "x(z)")
  test.eq(select("#", ("abc"):replace_all("b", "x")), 1)
  test.raises(function() ("abc"):replace_all("b") end, "bad argument #3 to 'string.replace_all'")
end)

test("table.keys, values, count, is_empty", function()
  local t = { 10, 20, x = 1, y = 2 }
  local keys = table.keys(t)
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  test.eq(keys, { 1, 2, "x", "y" })
  local values = table.values(t)
  table.sort(values)
  test.eq(values, { 1, 2, 10, 20 })
  test.eq(table.keys({}), {})
  test.eq(table.count(t), 4)
  test.eq(table.count({}), 0)
  test.eq(table.count({ 1, nil, 3 }), 2)
  test.eq(table.count(t, function(v) return v > 5 end), 2)
  test.eq(table.is_empty({}), true)
  test.eq(table.is_empty({ false }), false)
  test.eq(table.is_empty({ x = 1 }), false)
  -- __pairs is honoured
  local proxy = setmetatable({}, { __pairs = function() return next, { a = 1, b = 2 }, nil end })
  test.eq(table.count(proxy), 2)
  test.eq(table.is_empty(proxy), false)
  test.eq(#table.keys(proxy), 2)
end)

test("table.merge", function()
  local a, b = { x = 1, y = 1 }, { y = 2, z = 3 }
  local m = table.merge(a, b, { z = 4 })
  test.eq(m, { x = 1, y = 2, z = 4 })
  test.eq(a, { x = 1, y = 1 }) -- inputs untouched
  assert(m ~= a)
  test.eq(table.merge(), {})
  test.eq(table.merge({ 1, 2 }, { 3 }), { 3, 2 })
  test.eq(table.merge({ a = 1 }, nil, { b = 2 }), { a = 1, b = 2 }) -- nil is skipped
  local inner = {}
  test.ok(rawequal(table.merge({ t = inner }).t, inner)) -- shallow
  test.raises(function() table.merge({}, 5) end, "bad argument #2 to 'table.merge' (table expected, got number)")
end)

test("table.map, filter, find, reduce", function()
  test.eq(table.map({ 1, 2, 3 }, function(v) return v * 2 end), { 2, 4, 6 })
  test.eq(table.map({ "a", "b" }, function(v, i) return v .. i end), { "a1", "b2" })
  test.eq(table.map({}, error), {})
  test.eq(table.filter({ 1, 2, 3, 4 }, function(v) return v > 2 end), { 3, 4 })
  test.eq(table.filter({ 1, 2, 3 }, function(_, i) return i ~= 2 end), { 1, 3 })
  test.eq(table.filter({ 1, 2 }, function() return nil end), {})
  local v, i = table.find({ 5, 6, 7 }, function(x) return x > 5 end)
  test.eq(v, 6)
  test.eq(i, 2)
  test.eq(table.find({ 1 }, function() return false end), nil)
  test.eq(table.reduce({ 1, 2, 3 }, function(a, x) return a + x end, 0), 6)
  test.eq(table.reduce({ 1, 2, 3 }, function(a, x) return a + x end), 6)
  test.eq(table.reduce({ "a", "b" }, function(a, x, j) return a .. x .. j end, ""), "a1b2")
  test.eq(table.reduce({}, function() end), nil)
  test.eq(table.reduce({}, function() end, 42), 42)
  -- callable tables are functions
  local callable = setmetatable({}, { __call = function(_, x) return x + 1 end })
  test.eq(table.map({ 1 }, callable), { 2 })
  -- errors in callbacks propagate unchanged
  local e = test.raises(function() table.map({ 1 }, function() error({ code = "MINE" }) end) end)
  test.eq(e.code, "MINE")
  for _, f in ipairs({ "map", "filter", "find", "reduce" }) do
    test.raises(function() table[f]({}, nil) end, "bad argument #2 to 'table." .. f .. "' (function expected")
    test.raises(function() table[f](nil, print) end, "bad argument #1 to 'table." .. f .. "' (table expected")
    test.raises(function() table[f]("abc", print) end, "table expected, got string")
  end
end)

test("table.contains", function()
  assert(table.contains({ 1, 2, 3 }, 2))
  assert(not table.contains({ 1, 2, 3 }, 4))
  assert(table.contains({ x = "v" }, "v"))
  assert(not table.contains({ x = "v" }, "x")) -- values, not keys
  assert(not table.contains({}, nil))
  assert(not table.contains({ 0 / 0 }, 0 / 0)) -- NaN equals nothing
  assert(table.contains({ 1 }, 1.0))
  assert(table.contains({ false }, false))
end)

test("table.slice (string.sub's indices)", function()
  local t = { 10, 20, 30, 40, 50 }
  test.eq(table.slice(t, 2, 4), { 20, 30, 40 })
  test.eq(table.slice(t, 2), { 20, 30, 40, 50 })
  test.eq(table.slice(t), t)
  test.eq(table.slice(t, -2), { 40, 50 })
  test.eq(table.slice(t, -3, -2), { 30, 40 })
  test.eq(table.slice(t, 1, -1), t)
  test.eq(table.slice(t, 0), t)
  test.eq(table.slice(t, -100, 2), { 10, 20 })
  test.eq(table.slice(t, 4, 100), { 40, 50 })
  test.eq(table.slice(t, 4, 2), {})
  test.eq(table.slice(t, 6), {})
  test.eq(table.slice({}, 1, 3), {})
  test.eq(table.slice(t, "2", 3.0), { 20, 30 })
  test.eq(table.slice(t, math.mininteger, math.maxinteger), t)
  assert(table.slice(t) ~= t)
  test.eq(test.raises(function() table.slice(t, 1.5) end).code, "EINVAL")
  test.eq(test.raises(function() table.slice(t, 1, 0 / 0) end).code, "EINVAL")
  test.eq(test.raises(function() table.slice(t, math.huge) end).code, "EINVAL")
  test.raises(function() table.slice(t, {}) end, "bad argument #2 to 'table.slice' (number expected, got table)")
end)

test("table.reverse", function()
  test.eq(table.reverse({ 1, 2, 3 }), { 3, 2, 1 })
  test.eq(table.reverse({}), {})
  test.eq(table.reverse({ "x" }), { "x" })
  local t = { 1, 2 }
  table.reverse(t)
  test.eq(t, { 1, 2 }) -- a new table
end)

test("table.clone: shallow, deep, cycles, metatables", function()
  local inner = { 1 }
  local t = { a = inner, 2, 3 }
  local c = table.clone(t)
  test.eq(c, t)
  assert(c ~= t and rawequal(c.a, inner))
  local d = table.clone(t, true)
  test.eq(d, t)
  assert(d.a ~= inner)
  d.a[1] = 99
  test.eq(inner[1], 1)
  -- cycles and shared references are kept
  local cyc = { name = "root" }
  cyc.self = cyc
  cyc.list = { cyc, cyc }
  local shared = {}
  cyc.s1, cyc.s2 = shared, shared
  local cc = table.clone(cyc, true)
  assert(cc ~= cyc)
  assert(rawequal(cc.self, cc))
  assert(rawequal(cc.list[1], cc) and rawequal(cc.list[2], cc))
  assert(rawequal(cc.s1, cc.s2) and cc.s1 ~= shared)
  -- the metatable is shared, the contents copied raw
  local mt = { __index = function() return "default" end }
  local obj = setmetatable({ x = 1 }, mt)
  local oc = table.clone(obj)
  assert(getmetatable(oc) == mt)
  test.eq(oc.x, 1)
  test.eq(oc.missing, "default")
  local protected = setmetatable({}, { __metatable = "locked" })
  test.eq(getmetatable(table.clone(protected)), "locked")
  test.eq(table.clone({}), {})
  -- keys are not cloned
  local k = {}
  local kc = table.clone({ [k] = 1 }, true)
  test.eq(kc[k], 1)
  test.raises(function() table.clone("x") end, "bad argument #1 to 'table.clone' (table expected, got string)")
end)

test("wrong argument types: messages point at the caller", function()
  local ok, e = pcall(function() table.keys(nil) end) -- luacheck: ignore 231 (only e is checked)
  test.matches(e, "strings_test%.lua:%d+: bad argument #1 to 'table.keys' %(table expected, got no value%)")
  ok, e = pcall(function() ("x"):pad_left(1.5) end)
  test.matches(tostring(e), "strings_test%.lua:%d+: bad argument #2 to 'string.pad_left'")
  test.eq(e.code, "EINVAL")
end)
