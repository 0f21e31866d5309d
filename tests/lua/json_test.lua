-- Tests of the json module (stdlib/json.cpp).
local test = require("test")
local json = require("json")

-- test.eq ignores metatables and integer/float subtypes, so these check them explicitly.
local function is_int(v) return math.type(v) == "integer" end
local function is_float(v) return math.type(v) == "float" end

-- The error raised by fn, which must be a json error object.
local function json_error(fn)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error")
  test.eq(type(err), "table")
  test.eq(err.code, "EJSON")
  return tostring(err)
end

local function contains(s, part)
  if not s:find(part, 1, true) then error(string.format("%q does not contain %q", s, part), 2) end
end

-- encode: scalars ----------------------------------------------------------------------------

test("encode scalars", function()
  test.eq(json.encode(nil), "null")
  test.eq(json.encode(json.null), "null")
  test.eq(json.encode(true), "true")
  test.eq(json.encode(false), "false")
  test.eq(json.encode(0), "0")
  test.eq(json.encode(-42), "-42")
  test.eq(json.encode(math.maxinteger), "9223372036854775807")
  test.eq(json.encode(math.mininteger), "-9223372036854775808")
  test.eq(json.encode("hi"), '"hi"')
  test.eq(json.encode(""), '""')
end)

test("encode floats: shortest round trip, always visibly floats", function()
  test.eq(json.encode(0.1), "0.1")
  test.eq(json.encode(0.1 + 0.2), "0.30000000000000004")
  test.eq(json.encode(1.5), "1.5")
  test.eq(json.encode(3.0), "3.0")
  test.eq(json.encode(-0.0), "-0.0")
  test.eq(json.encode(1e300), "1e+300")
  test.eq(json.encode(2.0 ^ 53), "9007199254740992.0")
  test.eq(json.encode(5e-324), "5e-324")
  for _, x in ipairs({ 0.1, 1 / 3, 1e300, -2.5e-10, 123456.789, 2.0 ^ 63 }) do
    local back = json.decode(json.encode(x))
    assert(is_float(back), "float stays a float: " .. tostring(x))
    assert(back == x, "exact round trip of " .. tostring(x))
  end
end)

test("encode NaN and infinities fails", function()
  contains(json_error(function() json.encode(0 / 0) end), "json.encode: cannot encode NaN at $")
  contains(json_error(function() json.encode({ x = math.huge }) end), "cannot encode inf at $.x")
  contains(json_error(function() json.encode({ 1, -math.huge }) end), "cannot encode -inf at $[2]")
end)

test("encode escapes strings", function()
  test.eq(json.encode('a"b\\c'), [["a\"b\\c"]])
  test.eq(json.encode("\n\r\t\b\f"), [["\n\r\t\b\f"]])
  test.eq(json.encode("\0\1\31"), [["\u0000\u0001\u001f"]])
  test.eq(json.encode("/"), '"/"')
  test.eq(json.encode("héllo €𝄞"), '"héllo €𝄞"') -- valid UTF-8 passes through
  test.eq(json.encode("\127"), '"\127"')
end)

test("encode rejects invalid UTF-8 with the path", function()
  contains(json_error(function() json.encode("\xff") end), "invalid UTF-8 in string (byte 1) at $")
  contains(json_error(function() json.encode({ users = { {}, {}, { name = "ok\xc3" } } }) end),
    "invalid UTF-8 in string (byte 3) at $.users[3].name")
  json_error(function() json.encode("\xed\xa0\x80") end) -- encoded surrogate
  json_error(function() json.encode("\xc0\x80") end)     -- overlong
  json_error(function() json.encode("\xf4\x90\x80\x80") end) -- above U+10FFFF
  contains(json_error(function() json.encode({ ["\xfe"] = 1 }) end), "invalid UTF-8 in object key")
end)

-- encode: tables ----------------------------------------------------------------------------

test("sequences encode as arrays", function()
  test.eq(json.encode({ 1, 2, 3 }), "[1,2,3]")
  test.eq(json.encode({ "a", { true, false } }), '["a",[true,false]]')
  test.eq(json.encode({ 1, json.null, 3 }), "[1,null,3]")
end)

test("string-keyed tables encode as objects", function()
  test.eq(json.encode({ a = 1 }), '{"a":1}')
  test.eq(json.encode({ b = 1, a = 2, c = 3 }, { sort_keys = true }), '{"a":2,"b":1,"c":3}')
end)

test("integer keys in objects become strings", function()
  test.eq(json.encode({ [1] = "a", [3] = "c" }, { sort_keys = true }), '{"1":"a","3":"c"}')
  test.eq(json.encode({ 1, 2, x = 3 }, { sort_keys = true }), '{"1":1,"2":2,"x":3}')
  test.eq(json.encode({ [0] = "z" }), '{"0":"z"}')
  test.eq(json.encode({ [-1] = "m" }), '{"-1":"m"}')
  contains(json_error(function() json.encode({ [1] = "a", ["1"] = "b" }) end),
    'key "1" appears both as an integer and as a string at $')
  contains(json_error(function() json.encode({ [1] = "a", ["1"] = "b" }, { sort_keys = true }) end),
    'key "1" appears both as an integer and as a string')
end)

test("other key types are rejected", function()
  contains(json_error(function() json.encode({ [1.5] = 1 }) end), "object key must be a string or an integer, got float at $")
  contains(json_error(function() json.encode({ a = { [true] = 1 } }) end), "got boolean at $.a")
  contains(json_error(function() json.encode({ [{}] = 1 }) end), "got table")
end)

test("empty tables encode as objects unless marked", function()
  test.eq(json.encode({}), "{}")
  test.eq(json.encode(json.array()), "[]")
  test.eq(json.encode(json.array({})), "[]")
  test.eq(json.encode(json.object()), "{}")
  test.eq(json.encode({ list = json.array() }), '{"list":[]}')
end)

test("json.object forces an object for sequences", function()
  test.eq(json.encode(json.object({ "a", "b" }), { sort_keys = true }), '{"1":"a","2":"b"}')
end)

test("marked arrays write holes as null", function()
  test.eq(json.encode(json.array({ 1, nil, 3 })), "[1,null,3]")
  local t = json.array()
  t[2] = "x"
  test.eq(json.encode(t), '[null,"x"]')
  contains(json_error(function() json.encode(json.array({ 1, x = 2 })) end),
    "table marked as array has a key that is not a positive integer at $")
end)

test("marker helpers", function()
  local t = { 1, 2 }
  assert(rawequal(json.array(t), t), "json.array returns its argument")
  assert(json.is_array(t))
  json.object(t) -- switching marker is allowed
  assert(not json.is_array(t))
  assert(json.is_array({ 1, 2, 3 }))
  assert(not json.is_array({}))
  assert(json.is_array(json.array()))
  assert(not json.is_array({ a = 1 }))
  assert(not json.is_array({ [2] = 1 }))
  assert(not json.is_array("x"))
  assert(not json.is_array(json.null))
  -- A table with its own metatable is not silently retyped.
  local obj = setmetatable({}, { __index = {} })
  test.raises(function() json.array(obj) end, "already has a metatable")
  test.raises(function() json.array(42) end, "bad argument #1")
  -- __jsontype in a user metatable works like the markers.
  local Point = { __jsontype = "array" }
  test.eq(json.encode(setmetatable({}, Point)), "[]")
  assert(json.is_array(setmetatable({}, Point)))
  contains(json_error(function() json.encode(setmetatable({}, { __jsontype = "list" })) end),
    '__jsontype must be "array" or "object"')
end)

test("json.null", function()
  test.eq(tostring(json.null), "null")
  test.eq(type(json.null), "table")
  test.raises(function() json.null.x = 1 end, "read-only")
  test.raises(function() setmetatable(json.null, nil) end)
  assert(rawequal(json.decode("null"), json.null))
end)

test("__tojson", function()
  local Point = {}
  Point.__index = Point
  Point.__tojson = function(p) return { x = p.x, y = p.y } end
  local p = setmetatable({ x = 1, y = 2, secret = "no" }, Point)
  test.eq(json.encode(p, { sort_keys = true }), '{"x":1,"y":2}')
  test.eq(json.encode({ p, p }, { sort_keys = true }), '[{"x":1,"y":2},{"x":1,"y":2}]')
  -- May return any value, including a scalar.
  local Date = { __tojson = function(d) return string.format("%04d-%02d-%02d", d.y, d.m, d.d) end }
  test.eq(json.encode({ when = setmetatable({ y = 2024, m = 1, d = 2 }, Date) }), '{"when":"2024-01-02"}')
  -- Returning the value itself encodes it raw.
  local Self = { __tojson = function(t) return t end }
  test.eq(json.encode(setmetatable({ 1, 2 }, Self)), "[1,2]")
  -- Errors inside __tojson propagate unchanged.
  local Bad = { __tojson = function() error("boom") end }
  test.raises(function() json.encode(setmetatable({}, Bad)) end, "boom")
  -- What __tojson returns is checked like anything else.
  local Fn = { __tojson = function() return print end }
  contains(json_error(function() json.encode({ a = setmetatable({}, Fn) }) end), "cannot encode function at $.a")
end)

test("cycles are detected, shared subtables are fine", function()
  local t = { name = "root" }
  t.self = t
  contains(json_error(function() json.encode(t) end), "json.encode: cycle detected at $.self")
  local a = { 1 }
  a[2] = a
  contains(json_error(function() json.encode(a) end), "cycle detected at $[2]")
  local shared = { 1 }
  test.eq(json.encode({ shared, shared }), "[[1],[1]]")
end)

test("functions, userdata and threads cannot be encoded", function()
  contains(json_error(function() json.encode(print) end), "json.encode: cannot encode function at $")
  contains(json_error(function() json.encode({ users = { {}, {}, { name = print } } }) end),
    "json.encode: cannot encode function at $.users[3].name")
  contains(json_error(function() json.encode({ co = coroutine.create(print) }) end), "cannot encode thread at $.co")
  contains(json_error(function() json.encode({ io.stdout }) end), "cannot encode userdata at $[1]")
  contains(json_error(function() json.encode({ ["a key"] = print }) end), 'at $["a key"]')
end)

test("encode depth limit", function()
  local function nest(n)
    local t = {}
    for _ = 2, n do t = { t } end
    return t
  end
  assert(json.encode(nest(1000)))
  contains(json_error(function() json.encode(nest(1001)) end), "nesting deeper than 1000 levels")
  contains(json_error(function() json.encode(nest(11), { max_depth = 10 }) end), "nesting deeper than 10 levels")
  assert(json.encode(nest(2000), { max_depth = 2000 }))
  test.raises(function() json.encode({}, { max_depth = 0 }) end, "max_depth")
end)

-- pretty -------------------------------------------------------------------------------------

test("pretty output is indented and sorted", function()
  local v = { name = "x", list = { 1, 2 }, empty = {}, none = json.array(), nested = { b = true, a = false } }
  local expected = table.concat({
    "{",
    '  "empty": {},',
    '  "list": [',
    "    1,",
    "    2",
    "  ],",
    '  "name": "x",',
    '  "nested": {',
    '    "a": false,',
    '    "b": true',
    "  },",
    '  "none": []',
    "}",
  }, "\n")
  test.eq(json.pretty(v), expected)
  test.eq(json.encode(v, { pretty = true }), expected)
  test.eq(json.pretty(1), "1")
  test.eq(json.pretty({}), "{}")
end)

test("pretty options", function()
  test.eq(json.encode({ a = { 1 } }, { indent = 4 }), '{\n    "a": [\n        1\n    ]\n}')
  test.eq(json.encode({ 1 }, { indent = "\t" }), "[\n\t1\n]")
  test.eq(json.encode({ 1 }, { pretty = true, indent = 0 }), "[\n1\n]")
  test.eq(json.pretty({ 1 }, { indent = 1 }), "[\n 1\n]")
  test.eq(json.encode({ a = 1 }, { pretty = false, indent = 4 }), '{"a":1}')
  test.raises(function() json.encode({}, { indent = 100 }) end, "indent")
  test.raises(function() json.encode({}, { indent = "xx" }) end, "indent")
  test.raises(function() json.encode({}, { pretty = "yes" }) end, "pretty")
  test.raises(function() json.encode({}, 5) end, "bad argument #2")
  test.raises(function() json.encode() end, "bad argument #1")
end)

test("compact output with sort_keys is stable", function()
  local t = {}
  for i = 1, 50 do t["k" .. i] = i end
  local s = json.encode(t, { sort_keys = true })
  test.eq(s, json.encode(t, { sort_keys = true }))
  assert(s:find('^{"k1":1,"k10":10,"k11":11'), s)
  -- Unsorted output still contains every key once.
  test.eq(json.decode(json.encode(t)), t)
end)

-- decode ------------------------------------------------------------------------------------

test("decode scalars", function()
  test.eq(json.decode("true"), true)
  test.eq(json.decode("false"), false)
  test.eq(json.decode('"hi"'), "hi")
  test.eq(json.decode("  42  "), 42)
  assert(is_int(json.decode("42")))
  assert(is_int(json.decode("-0")))
  assert(is_float(json.decode("1.0")))
  assert(is_float(json.decode("1e2")))
  test.eq(json.decode("1e2"), 100.0)
  test.eq(json.decode("0.1"), 0.1)
  test.eq(json.decode("-0.0"), 0.0)
  test.eq(1 / json.decode("-0.0"), -math.huge) -- the sign of zero survives
  test.eq(json.decode("1e300"), 1e300)
end)

test("decode big integers", function()
  local max = json.decode("9223372036854775807")
  assert(is_int(max))
  test.eq(max, math.maxinteger)
  local min = json.decode("-9223372036854775808")
  assert(is_int(min))
  test.eq(min, math.mininteger)
  local big = json.decode("9223372036854775808")
  assert(is_float(big))
  test.eq(big, 2.0 ^ 63)
  local huge = json.decode("18446744073709551616")
  assert(is_float(huge))
  test.eq(huge, 2.0 ^ 64)
  assert(is_float(json.decode("-9223372036854775809")))
  test.eq(json.decode("1e400"), math.huge) -- out of double range: inf, like JavaScript
end)

-- Found by tools/fuzz/fuzz_json: Boost.JSON's own number conversion is off by an ulp for about a
-- quarter of doubles, so encode -> decode changed them.
test("decode converts floats exactly: encode -> decode round trips", function()
  test.eq(json.decode("-9.223372036854776e+40"), tonumber("-9.223372036854776e+40"))
  test.eq(json.decode("4.231058968671524e+71"), tonumber("4.231058968671524e+71"))
  test.eq(json.decode("-1.0837974043786957e-48"), tonumber("-1.0837974043786957e-48"))
  test.eq(json.decode("[-92233720368547758223372036854775808758000]")[1], -9.223372036854776e+40)
  test.eq(json.decode("1e-400"), 0.0)
  local rng = 12345
  for _ = 1, 2000 do
    rng = (rng * 6364136223846793005 + 1442695040888963407) & math.maxinteger
    local x = string.unpack("d", string.pack("i8", rng))
    if x == x and x ~= math.huge and x ~= -math.huge then
      local back = json.decode(json.encode(x))
      assert(back == x, "round trip of " .. string.format("%.17g", x) .. " gave " .. string.format("%.17g", back))
    end
  end
end)

test("decode containers", function()
  local v = json.decode('{"a": [1, 2, {"b": null}], "c": "d", "e": {}}')
  test.eq(v.a[1], 1)
  test.eq(v.a[2], 2)
  assert(rawequal(v.a[3].b, json.null))
  test.eq(v.c, "d")
  test.eq(v.e, {})
  test.eq(json.decode("[]"), {})
  test.eq(json.decode("{}"), {})
  test.eq(json.decode('{"1": "x"}')["1"], "x") -- keys stay strings
  test.eq(json.decode('{"a":1,"a":2}').a, 2)   -- the last duplicate wins
end)

test("decoded containers carry their marker", function()
  assert(json.is_array(json.decode("[]")))
  assert(not json.is_array(json.decode("{}")))
  assert(not json.is_array(json.decode('{"1":1}')))
  test.eq(json.encode(json.decode("[]")), "[]")
  test.eq(json.encode(json.decode("{}")), "{}")
  test.eq(json.encode(json.decode('{"a":[],"b":{}}'), { sort_keys = true }), '{"a":[],"b":{}}')
  test.eq(json.encode(json.decode('{"1":"a","2":"b"}'), { sort_keys = true }), '{"1":"a","2":"b"}')
  test.eq(getmetatable(json.decode("[1]")).__jsontype, "array")
  test.eq(getmetatable(json.decode("{}")).__jsontype, "object")
end)

test("decode null options", function()
  local v = json.decode('{"a": null, "b": [1, null, 3]}', { null_as_nil = true })
  test.eq(v.a, nil)
  test.eq(v.b[1], 1)
  test.eq(v.b[2], nil)
  test.eq(v.b[3], 3)
  test.eq(json.decode("null", { null_as_nil = true }), nil)
  test.eq(select("#", json.decode("null", { null_as_nil = true })), 1)
  -- Holes in decoded arrays come back as null.
  test.eq(json.encode(json.decode("[1,null,3]", { null_as_nil = true })), "[1,null,3]")
  local v2 = json.decode("[null, {\"x\": null}]", { null = false })
  test.eq(v2[1], false)
  test.eq(v2[2].x, false)
end)

test("decode unicode escapes", function()
  test.eq(json.decode([["\u00e9"]]), "é")
  test.eq(json.decode([["\u20AC"]]), "€")
  test.eq(json.decode([["\ud834\udd1e"]]), "𝄞") -- surrogate pair
  test.eq(json.decode([["\uD83D\uDE00"]]), "😀")
  test.eq(json.decode([["\u0000"]]), "\0")
  test.eq(json.decode([["a\"b\\c\/d\n\t\r\b\f"]]), 'a"b\\c/d\n\t\r\b\f')
  test.eq(json.decode('"héllo"'), "héllo")
  test.eq(json.decode("\xEF\xBB\xBF[1]"), { 1 }) -- a UTF-8 BOM is skipped
end)

test("round trips", function()
  local docs = {
    '{"a":[1,2.5,"x",true,false,null],"b":{"c":{}},"d":[]}',
    '[[[[]]]]',
    '"\\u0001"',
    '[-1,0,1,9223372036854775807,-9223372036854775808]',
    '[0.1,1e+300,-2.5e-10,5e-324]',
  }
  for _, s in ipairs(docs) do
    test.eq(json.encode(json.decode(s), { sort_keys = true }), s)
  end
  local v = { name = "moonwire", tags = { "lua", "json" }, n = 3, pi = 3.14159, ok = true, nested = { deep = { 1, { 2 } } } }
  test.eq(json.decode(json.encode(v)), v)
  test.eq(json.decode(json.pretty(v)), v)
  local s = ""
  for i = 0, 255 do s = s .. string.char(i) end
  s = s:sub(1, 128) -- every ASCII byte
  test.eq(json.decode(json.encode(s)), s)
end)

test("deep nesting", function()
  local deep = string.rep("[", 1000) .. string.rep("]", 1000)
  local v = json.decode(deep)
  local d = 0
  while type(v) == "table" do
    d = d + 1
    v = v[1]
  end
  test.eq(d, 1000)
  test.eq(json.encode(json.decode(deep)), deep)
  local too_deep = string.rep("[", 1001) .. string.rep("]", 1001)
  contains(json_error(function() json.decode(too_deep) end), "nesting deeper than 1000 levels at line 1 column 1001")
  contains(json_error(function() json.decode("[[[1]]]", { max_depth = 2 }) end), "nesting deeper than 2 levels")
  assert(json.decode(string.rep("[", 5000) .. string.rep("]", 5000), { max_depth = 5000 }))
end)

test("decode extensions", function()
  test.eq(json.decode("[1,2,]", { allow_trailing_commas = true }), { 1, 2 })
  test.eq(json.decode('{"a":1,}', { allow_trailing_commas = true }), { a = 1 })
  test.eq(json.decode("// c\n[1, /* two */ 2] // end", { allow_comments = true }), { 1, 2 })
  json_error(function() json.decode("[1] // c") end)
end)

-- decode errors ----------------------------------------------------------------------------

test("decode errors name the reason and position", function()
  contains(json_error(function() json.decode("") end), "json.decode: unexpected end of input at line 1 column 1")
  contains(json_error(function() json.decode("   ") end), "unexpected end of input at line 1 column 4")
  contains(json_error(function() json.decode("[1, 2") end), "unexpected end of input at line 1 column 6")
  contains(json_error(function() json.decode('{"a": "abc') end), "unterminated string at line 1 column 11")
  contains(json_error(function() json.decode("[1] x") end), "unexpected data after the JSON value at line 1 column 5")
  contains(json_error(function() json.decode("1 2") end), "unexpected data after the JSON value at line 1 column 3")
  contains(json_error(function() json.decode("{}{}") end), "after the JSON value at line 1 column 3")
  contains(json_error(function() json.decode('"\\q"') end), "invalid escape '\\q' at line 1 column 3")
  contains(json_error(function() json.decode('"\\u12"') end), "invalid \\u escape")
  contains(json_error(function() json.decode('"\\ud800"') end), "high surrogate")
  contains(json_error(function() json.decode('"\\udc00"') end), "surrogate")
  contains(json_error(function() json.decode('"a\nb"') end), "control character 0x0A in string")
  contains(json_error(function() json.decode('"\xff"') end), "invalid UTF-8 in string (byte 0xFF) at line 1 column 2")
  contains(json_error(function() json.decode("[1 2]") end), "unexpected '2' at line 1 column 4")
  contains(json_error(function() json.decode("[1,]") end), "trailing comma before ']' at line 1 column 4")
  contains(json_error(function() json.decode('{"a":1,}') end), "trailing comma before '}'")
  contains(json_error(function() json.decode("{'a':1}") end), "strings take double quotes")
  contains(json_error(function() json.decode("[tru]") end), "unexpected 'tru'")
  contains(json_error(function() json.decode("[NaN]") end), "unexpected 'NaN'")
  contains(json_error(function() json.decode("01") end), "at line 1 column 2")
  contains(json_error(function() json.decode("{a:1}") end), "unexpected 'a' at line 1 column 2")
end)

test("decode error positions count lines and characters", function()
  contains(json_error(function() json.decode('{\n  "a": 1,\n  "b": ?\n}') end),
    "unexpected character '?' at line 3 column 8")
  contains(json_error(function() json.decode('["é€", x]') end), "at line 1 column 8")
end)

test("decode errors are error objects", function()
  local ok, err = pcall(json.decode, "[")
  assert(not ok)
  test.eq(err.code, "EJSON")
  assert(tostring(err):find("json.decode:", 1, true))
  assert(err:find("unexpected end of input"))
  assert(("" .. err):find("line 1"))
end)

test("decode argument checks", function()
  test.raises(function() json.decode(42) end, "bad argument #1 to 'decode' (string expected, got number)")
  test.raises(function() json.decode() end, "bad argument #1")
  test.raises(function() json.decode("1", "x") end, "bad argument #2")
  test.raises(function() json.decode("1", { max_depth = -1 }) end, "max_depth")
  test.raises(function() json.decode("1", { allow_comments = 1 }) end, "allow_comments")
end)

test("decode large input", function()
  local parts = {}
  for i = 1, 10000 do parts[i] = string.format('{"id":%d,"name":"user %d","score":%d.5}', i, i, i) end
  local s = "[" .. table.concat(parts, ",") .. "]"
  local v = json.decode(s)
  test.eq(#v, 10000)
  test.eq(v[10000].name, "user 10000")
  test.eq(v[5].score, 5.5)
  test.eq(json.decode(json.encode(v)), v)
  local long = string.rep("x\\n", 100000)
  test.eq(#json.decode('"' .. long .. '"'), 200000)
end)
