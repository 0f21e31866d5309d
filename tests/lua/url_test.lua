-- net.url: parse, build, resolve, percent encode/decode, query strings.
local test = require("test")
local url = net.url

local function code_of(fn)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error")
  return type(err) == "table" and err.code or tostring(err)
end

test("parse splits a URL and decodes its components; params is the decoded query", function()
  local u = url.parse("https://us%40er:p%3Ass@Example.com:8443/a%20b/c?x=1&y=a+b&x=2&z#frag%20x")
  test.eq(u.scheme, "https")
  test.eq(u.user, "us@er")
  test.eq(u.password, "p:ss")
  test.eq(u.host, "Example.com")
  test.eq(u.port, 8443)
  test.eq(u.path, "/a%20b/c")  -- as written (encoded): decode it with url.decode
  test.eq(u.query, "x=1&y=a+b&x=2&z")
  test.eq(u.params, { x = { "1", "2" }, y = "a b", z = "" })
  test.eq(u.fragment, "frag x")
  test.eq(u.href, "https://us%40er:p%3Ass@Example.com:8443/a%20b/c?x=1&y=a+b&x=2&z#frag%20x")
  test.eq(require("net.url"), url)
end)

test("parse: IPv6, no port, relative references, unicode, empty", function()
  local u = url.parse("http://[::1]:80/")
  test.eq({ u.host, u.port, u.path }, { "::1", 80, "/" })
  u = url.parse("ws://host")
  test.eq({ u.scheme, u.host, u.port, u.path, u.query }, { "ws", "host", nil, "", nil })
  test.eq(u.params, {})
  u = url.parse("/rel/path?q=%C3%A9")
  test.eq({ u.scheme, u.host, u.path, u.params.q }, { nil, nil, "/rel/path", "é" })
  u = url.parse("http://h:/x")  -- an empty port is none
  test.eq(u.port, nil)
  u = url.parse("")
  test.eq(u.path, "")
  u = url.parse("mailto:a@b.c")
  test.eq({ u.scheme, u.path, u.host }, { "mailto", "a@b.c", nil })
end)

test("parse: bad input is EINVAL or a type error", function()
  test.eq(code_of(function() url.parse("ht tp://x") end), "EINVAL")
  test.eq(code_of(function() url.parse("http://h:99999/") end), "EINVAL")
  test.eq(code_of(function() url.parse("http://h:abc/") end), "EINVAL")
  test.eq(code_of(function() url.parse("http://a b/") end), "EINVAL")
  test.eq(code_of(function() url.parse("%zz") end), "EINVAL")
  test.raises(function() url.parse() end, "string expected")
  test.raises(function() url.parse({}) end, "string expected")
end)

test("build is the inverse of parse; params from a table", function()
  for _, s in ipairs({ "https://us%40er:p%3Ass@example.com:8443/a%20b/c?x=1&y=a+b#frag%20x", "http://[::1]:80/",
    "ws://host/chat", "/rel?q=1", "http://h/" }) do
    test.eq(url.build(url.parse(s)), s)
  end
  test.eq(url.build({ scheme = "http", host = "h", port = 8080, path = "/x y", params = { b = "2 3", a = { 1, 2 } }, fragment = "f" }),
    "http://h:8080/x%20y?a=1&a=2&b=2%203#f")
  test.eq(url.build({ scheme = "https", host = "h", path = "api", query = "?raw=1" }), "https://h/api?raw=1")
  test.eq(url.build({ path = "/only" }), "/only")
  test.eq(url.build({}), "")
  test.eq(url.build({ scheme = "http", host = "h", query = {} }), "http://h")  -- no parameters: no "?"
  test.eq(url.build({ scheme = "http", host = "h", query = "" }), "http://h?")
end)

test("build: misspelled fields, bad ports and schemes are EINVAL", function()
  local err = test.raises(function() url.build({ hots = "x" }) end, "did you mean 'host'")
  test.eq(err.code, "EINVAL")
  test.eq(code_of(function() url.build({ host = "h", port = 70000 }) end), "EINVAL")
  test.eq(code_of(function() url.build({ host = "h", port = -1 }) end), "EINVAL")
  test.eq(code_of(function() url.build({ host = "h", port = 1.5 }) end), "EINVAL")
  test.eq(code_of(function() url.build({ host = "h", port = "x" }) end), "EINVAL")
  test.eq(code_of(function() url.build({ scheme = "ht tp", host = "h" }) end), "EINVAL")
  test.eq(code_of(function() url.build({ host = {} }) end), "EINVAL")
  test.eq(code_of(function() url.build({ params = { a = {} , b = function() end } }) end), "EINVAL")
  test.eq(code_of(function() url.build({ query = 5 }) end), "EINVAL")
  test.raises(function() url.build("http://x") end, "table expected")
end)

test("encode/decode: every byte but unreserved ones; decode is exact; malformed escapes EINVAL", function()
  test.eq(url.encode("a b&c/é~-._"), "a%20b%26c%2F%C3%A9~-._")
  test.eq(url.encode(""), "")
  test.eq(url.encode("\0\255"), "%00%FF")
  test.eq(url.decode("a%20b%26c%2F%C3%A9~"), "a b&c/é~")
  test.eq(url.decode("a+b"), "a+b")  -- '+' is a space only in a query
  test.eq(url.decode("%00%ff"), "\0\255")
  local all = {}
  for i = 0, 255 do all[#all + 1] = string.char(i) end
  all = table.concat(all)
  test.eq(url.decode(url.encode(all)), all)
  for _, bad in ipairs({ "%", "%2", "%zz", "a%g0" }) do
    test.eq(code_of(function() url.decode(bad) end), "EINVAL", bad)
  end
  test.raises(function() url.encode() end, "string expected")
  test.eq(url.encode(12), "12")
end)

test("query_encode / query_decode", function()
  test.eq(url.query_encode({ q = "a b", n = 1, t = true, f = false, l = { "x", "y" } }), "f=false&l=x&l=y&n=1&q=a%20b&t=true")
  test.eq(url.query_encode({}), "")
  test.eq(url.query_encode({ ["k&=y"] = "v&=" }), "k%26%3Dy=v%26%3D")
  test.eq(url.query_decode("?a=1&b=x+y&a=2&c&d=%26&&e="), { a = { "1", "2" }, b = "x y", c = "", d = "&", e = "" })
  test.eq(url.query_decode(""), {})
  test.eq(url.query_decode("a=1&a=2&a=3").a, { "1", "2", "3" })
  local t = { name = "Zoë & co", list = { "1", "2" } }
  test.eq(url.query_decode(url.query_encode(t)), t)
  test.eq(code_of(function() url.query_encode({ a = {} , b = { {} } }) end), "EINVAL")
  test.eq(code_of(function() url.query_encode({ [true] = 1 }) end), "EINVAL")
  test.eq(code_of(function() url.query_decode("a=%zz") end), "EINVAL")
  test.raises(function() url.query_encode("a=1") end, "table expected")
  test.raises(function() url.query_decode({}) end, "string expected")
end)

test("resolve: RFC 3986 reference resolution", function()
  local base = "http://a/b/c/d;p?q"
  local cases = { { "g", "http://a/b/c/g" }, { "./g", "http://a/b/c/g" }, { "../g", "http://a/b/g" },
    { "/g", "http://a/g" }, { "//g", "http://g" }, { "?y", "http://a/b/c/d;p?y" }, { "#s", "http://a/b/c/d;p?q#s" },
    { "../../../g", "http://a/g" }, { "https://x/y", "https://x/y" } }
  for _, c in ipairs(cases) do test.eq(url.resolve(base, c[1]), c[2], c[1]) end
  test.eq(code_of(function() url.resolve("/relative", "g") end), "EINVAL")
  test.eq(code_of(function() url.resolve(base, "ht tp:x") end), "EINVAL")
  test.raises(function() url.resolve(base) end, "string expected")
end)
