-- net.http cookies: opts.cookies and http.create_session (RFC 6265 rules: domain, path, expiry,
-- Secure, HttpOnly; Set-Cookie on redirect hops). The peer is a Python HTTP/1.1 server started
-- here (written into a temporary directory). Host names other than 127.0.0.1 are reached by
-- using that server as an HTTP proxy: the client sends absolute-form requests for
-- http://a.example.test/... to it, and cookie rules apply to the URL's host as usual.
local test = require("test")
local proc = dofile("tests/support/proc.lua")

local PY = [[
import sys, json, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        u = urlsplit(self.path)
        q = parse_qs(u.query)
        host = u.hostname or (self.headers.get("Host") or "").split(":")[0]
        path = u.path
        status = 200
        extra = []
        for c in q.get("c", []):
            extra.append(("Set-Cookie", c))
        if path.endswith("/redirect"):
            status = int(q.get("status", ["302"])[0])
            extra.append(("Location", q["to"][0]))
        if path.endswith("/slow"):
            time.sleep(float(q.get("s", ["0.3"])[0]))
        out = json.dumps({"host": host, "path": path, "method": self.command,
                          "cookie": self.headers.get("Cookie"),
                          "cookies": len(self.headers.get_all("Cookie") or []),
                          "body": body.decode("latin-1")}).encode()
        self.send_response(status)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = handle_any
    def do_HEAD(self):
        self.send_response(200)
        for c in parse_qs(urlsplit(self.path).query).get("c", []):
            self.send_header("Set-Cookie", c)
        self.send_header("Content-Length", "0")
        self.end_headers()

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
print("PORT", srv.server_address[1], flush=True)
srv.serve_forever()
]]

local have_python = proc.have("python3")
local ptest = proc.peer_test(test, have_python, "python3")

local server -- {port, base, proxy}
local function start_server()
  local dir = proc.tmpdir()
  proc.write_file(dir .. "/cookie_server.py", PY)
  local h = proc.start("python3 " .. proc.quote(dir .. "/cookie_server.py"))
  local port
  for _ = 1, 200 do
    port = tonumber(h:output():match("PORT (%d+)"))
    if port then break end
    task.sleep(0.025)
  end
  assert(port, "the python server did not start: " .. h:output())
  return { port = port, base = "http://127.0.0.1:" .. port, proxy = "http://127.0.0.1:" .. port, h = h }
end

test.before_each(function()
  if have_python then server = start_server() end
end)
test.after_each(function() proc.cleanup() end)

local function esc(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", c:byte()) end))
end
-- A URL on the server that answers with Set-Cookie for each value in `cookies`.
local function set_url(base, path, cookies)
  local q = {}
  for _, c in ipairs(cookies) do q[#q + 1] = "c=" .. esc(c) end
  return base .. path .. "?" .. table.concat(q, "&")
end
-- Request through the server as a proxy, to a named host.
local function via(opts)
  opts = opts or {}
  opts.proxy = server.proxy
  return opts
end
local function seen(r) return json.decode(r.body) end

-- opts.cookies --------------------------------------------------------------------------------

ptest("opts.cookies: one Cookie header, sorted by name, after a Cookie header given", function()
  local r = seen(http.get(server.base .. "/echo", { cookies = { b = "2", a = "1", n = 3 } }))
  test.eq(r.cookie, "a=1; b=2; n=3")
  test.eq(r.cookies, 1)
  r = seen(http.get(server.base .. "/echo", { headers = { Cookie = "x=9" }, cookies = { a = "1" } }))
  test.eq(r.cookie, "x=9; a=1")
  test.eq(r.cookies, 1)
  r = seen(http.post(server.base .. "/echo", "body", { cookies = { q = '"quoted"' } }))
  test.eq(r.cookie, 'q="quoted"')
  test.eq(r.body, "body")
  test.eq(seen(http.get(server.base .. "/echo", { cookies = {} })).cookie, json.null)
end)

ptest("plain http.* calls keep no cookies", function()
  local r = http.get(set_url(server.base, "/set", { "k=v" }))
  test.eq(r.headers["set-cookie"], { "k=v" })
  test.eq(seen(http.get(server.base .. "/echo")).cookie, json.null)
end)

test("opts.cookies: bad input", function()
  local u = "http://127.0.0.1:1/"
  test.raises(function() http.get(u, { cookies = "a=1" }) end, "EINVAL")
  test.raises(function() http.get(u, { cookies = { "a=1" } }) end, "cookie names must be tokens")
  test.raises(function() http.get(u, { cookies = { ["a b"] = "1" } }) end, "EINVAL")
  test.raises(function() http.get(u, { cookies = { a = "x;y" } }) end, "EINVAL")
  test.raises(function() http.get(u, { cookies = { a = "x y" } }) end, "EINVAL")
  test.raises(function() http.get(u, { cookies = { a = "x\r\nEvil: 1" } }) end, "EINVAL")
  test.raises(function() http.get(u, { cookies = { a = true } }) end, "must be a string")
  test.raises(function() http.get(u, { cookie = { a = "1" } }) end, "did you mean 'cookies'")
end)

-- sessions --------------------------------------------------------------------------------------

ptest("a session stores Set-Cookie replies and sends them back", function()
  local s = http.create_session()
  local r = s:get(set_url(server.base, "/set", { "sid=abc123; Path=/; HttpOnly", "theme=dark" }))
  test.eq(r.status, 200)
  test.eq(s:get_cookie("sid"), "abc123")
  test.eq(s:get_cookies(), { sid = "abc123", theme = "dark" })
  test.eq(seen(s:get(server.base .. "/echo")).cookie, "sid=abc123; theme=dark")
  -- every method, and opts.cookies joined with the jar's
  test.eq(seen(s:post(server.base .. "/echo", "p")).cookie, "sid=abc123; theme=dark")
  test.eq(seen(s:put(server.base .. "/echo", "p")).method, "PUT")
  test.eq(seen(s:patch(server.base .. "/echo", "p")).cookie, "sid=abc123; theme=dark")
  test.eq(seen(s:delete(server.base .. "/echo")).method, "DELETE")
  test.eq(seen(s:request({ url = server.base .. "/echo", method = "OPTIONS" })).method, "OPTIONS")
  test.eq(seen(s:request(server.base .. "/echo", { method = "POST", body = "b" })).body, "b")
  test.eq(seen(s:get(server.base .. "/echo", { cookies = { extra = "1" } })).cookie, "extra=1; sid=abc123; theme=dark")
  -- a new value replaces the old one (same name, domain, path)
  s:get(set_url(server.base, "/set", { "theme=light" }))
  test.eq(s:get_cookie("theme"), "light")
  test.eq(#s:cookie_list(), 2)
  local sid = s:cookie_list(server.base .. "/")[1]
  test.eq(sid.name, "sid")
  test.eq(sid.http_only, true) -- HttpOnly is kept (a script client sends it like any other)
  test.eq(sid.host_only, true)
  test.eq(sid.domain, "127.0.0.1")
  test.eq(sid.expires, nil) -- a session cookie
  s:clear_cookies()
  test.eq(s:get_cookies(), {})
  test.eq(seen(s:get(server.base .. "/echo")).cookie, json.null)
  test.eq(tostring(s), "http.session (0 cookies)")
end)

ptest("HEAD responses set cookies too; sessions are independent", function()
  local a, b = http.create_session(), http.create_session()
  a:head(set_url(server.base, "/h", { "h=1" }))
  test.eq(a:get_cookie("h"), "1")
  test.eq(b:get_cookie("h"), nil)
  test.eq(seen(b:get(server.base .. "/echo")).cookie, json.null)
end)

ptest("host-only cookies go to their host only; Domain cookies to subdomains", function()
  local s = http.create_session()
  s:get(set_url("http://a.example.test", "/set", { "hostonly=1", "dom=2; Domain=example.test", "dot=3; Domain=.EXAMPLE.test" }), via())
  test.eq(seen(s:get("http://a.example.test/echo", via())).cookie, "hostonly=1; dom=2; dot=3")
  test.eq(seen(s:get("http://b.example.test/echo", via())).cookie, "dom=2; dot=3")
  test.eq(seen(s:get("http://example.test/echo", via())).cookie, "dom=2; dot=3")
  test.eq(seen(s:get("http://x.a.example.test/echo", via())).cookie, "dom=2; dot=3")
  test.eq(seen(s:get("http://notexample.test/echo", via())).cookie, json.null)
  test.eq(seen(s:get("http://other.test/echo", via())).cookie, json.null)
  test.eq(seen(s:get(server.base .. "/echo")).cookie, json.null) -- never to another host
  test.eq(s:get_cookies("http://b.example.test/"), { dom = "2", dot = "3" })
  test.eq(s:get_cookie("hostonly", "http://b.example.test/"), nil)
  test.eq(s:get_cookie("hostonly", "http://a.example.test/"), "1")
end)

ptest("Domain attributes not matching the host, or a top-level domain, are rejected", function()
  local s = http.create_session()
  s:get(set_url("http://a.example.test", "/set", {
    "evil=1; Domain=other.test", "tld=1; Domain=test", "sub=1; Domain=b.a.example.test",
    "ok=1; Domain=a.example.test",
  }), via())
  test.eq(s:get_cookies(), { ok = "1" })
  -- Domain = the host itself is a domain cookie (subdomains too)
  test.eq(s:get_cookie("ok", "http://x.a.example.test/"), "1")
  -- an IP host: only the same address
  s:get(set_url(server.base, "/set", { "ip=1; Domain=0.0.1", "ip2=2; Domain=127.0.0.1" }))
  test.eq(s:get_cookie("ip"), nil)
  test.eq(s:get_cookie("ip2", server.base .. "/"), "2")
end)

ptest("path matching and the default path", function()
  local s = http.create_session()
  s:get(set_url(server.base, "/a/b/set", { "def=1", "root=2; Path=/", "deep=3; Path=/a/b/c", "bad=4; Path=nope" }))
  local list = {}
  for _, c in ipairs(s:cookie_list()) do list[c.name] = c.path end
  test.eq(list, { def = "/a/b", root = "/", deep = "/a/b/c", bad = "/a/b" })
  -- longer paths first, then older
  test.eq(seen(s:get(server.base .. "/a/b/c/d")).cookie, "deep=3; def=1; bad=4; root=2")
  test.eq(seen(s:get(server.base .. "/a/b")).cookie, "def=1; bad=4; root=2")
  test.eq(seen(s:get(server.base .. "/a/bc")).cookie, "root=2")
  test.eq(seen(s:get(server.base .. "/a")).cookie, "root=2")
  test.eq(seen(s:get(server.base .. "/a/b/c?x=1")).cookie, "deep=3; def=1; bad=4; root=2")
  -- the same name on two paths is two cookies
  s:get(set_url(server.base, "/set", { "def=root" }))
  test.eq(s:get_cookie("def", server.base .. "/a/b/x"), "1")
  test.eq(s:get_cookie("def", server.base .. "/x"), "root")
  test.eq(s:get_cookies(server.base .. "/a/b/x").def, "1")
  -- the default path of "/set" and of "/" is "/"
  s:clear_cookies()
  s:get(set_url(server.base, "/set", { "top=1" }))
  test.eq(s:cookie_list()[1].path, "/")
end)

ptest("expiry: Max-Age and Expires, Max-Age wins, deletion", function()
  local s = http.create_session()
  local now = os.time()
  s:get(set_url(server.base, "/set", {
    "ma=1; Max-Age=3600", "ex=2; Expires=Wed, 09 Jun 2100 10:18:14 GMT",
    "both=3; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=3600", "gone=4; Max-Age=0",
    "old=5; Expires=Sun, 06 Nov 1994 08:49:37 GMT", "neg=6; Max-Age=-1", "twodigit=7; expires=Fri, 01-Jan-38 00:00:00 GMT",
  }))
  local byname = {}
  for _, c in ipairs(s:cookie_list()) do byname[c.name] = c end
  test.eq(byname.gone, nil)
  test.eq(byname.old, nil)
  test.eq(byname.neg, nil)
  assert(byname.ma.expires >= now + 3600 - 5 and byname.ma.expires <= now + 3600 + 5, byname.ma.expires)
  test.eq(byname.ex.expires, 4116219494) -- 2100-06-09T10:18:14Z
  assert(byname.both.expires >= now + 3595, "Max-Age wins over Expires")
  test.eq(byname.twodigit.expires, 2145916800) -- 2038-01-01: two-digit years < 70 are 20xx
  -- deleting: Max-Age=0, or an Expires in the past
  s:get(set_url(server.base, "/set", { "ma=x; Max-Age=0", "ex=; Expires=Thu, 01 Jan 1970 00:00:00 GMT" }))
  test.eq(s:get_cookie("ma"), nil)
  test.eq(s:get_cookie("ex"), nil)
  -- Max-Age=0 wins over a future Expires
  s:get(set_url(server.base, "/set", { "both=gone; Expires=Wed, 09 Jun 2100 10:18:14 GMT; Max-Age=0" }))
  test.eq(s:get_cookie("both"), nil)
  -- an unparsable Expires is ignored: a session cookie
  s:get(set_url(server.base, "/set", { "odd=1; Expires=someday" }))
  test.eq(s:cookie_list()[#s:cookie_list()].expires, nil)
  test.eq(s:get_cookie("odd"), "1")
end)

ptest("Secure cookies: never over http, ignored when set over http", function()
  local s = http.create_session()
  s:get(set_url(server.base, "/set", { "sec=1; Secure", "plain=2" }))
  test.eq(s:get_cookies(), { plain = "2" })
  s:set_cookie("token", "t1", { secure = true })
  test.eq(seen(s:get(server.base .. "/echo")).cookie, "plain=2")
  test.eq(s:get_cookies("https://127.0.0.1/"), { plain = "2", token = "t1" })
  test.eq(s:get_cookies("http://127.0.0.1/"), { plain = "2" })
  -- http cannot overwrite a Secure cookie of the same name
  s:get(set_url(server.base, "/set", { "token=stolen" }))
  test.eq(s:get_cookie("token", "https://127.0.0.1/"), "t1")
  test.eq(s:get_cookie("token", server.base .. "/"), nil) -- not stored at all
  test.eq(#s:cookie_list(), 2)
end)

ptest("cookies set on redirect hops are kept and sent on the next hop", function()
  local s = http.create_session()
  local to = server.base .. "/landing"
  local first = set_url(server.base, "/redirect", { "hop=1" }) .. "&to=" .. esc(to)
  local r = s:get(first)
  test.eq(r.redirects, 1)
  test.eq(seen(r).path, "/landing")
  test.eq(seen(r).cookie, "hop=1")
  -- two hops, 303 after a POST, the second hop adds a cookie
  local second = set_url(server.base, "/redirect", { "hop2=2" }) .. "&to=" .. esc(to) .. "&status=303"
  r = s:post(set_url(server.base, "/redirect", { "hop1=1" }) .. "&to=" .. esc(second), "data")
  test.eq(r.redirects, 2)
  test.eq(seen(r).method, "GET")
  test.eq(seen(r).cookie, "hop=1; hop1=1; hop2=2")
  -- a redirect to another host: its cookies stay with their host
  local s2 = http.create_session()
  r = s2:get(set_url("http://a.example.test", "/redirect", { "mine=1" }) .. "&to=" .. esc("http://other.test/echo"),
    via({ cookies = { given = "1" } }))
  test.eq(seen(r).host, "other.test")
  test.eq(seen(r).cookie, json.null) -- neither the jar's nor opts.cookies cross hosts
  test.eq(s2:get_cookie("mine", "http://a.example.test/"), "1")
end)

ptest("set_cookie by hand: every host without a domain; domain, path, expires, max_age", function()
  local s = http.create_session({ cookies = { init = "0" } })
  s:set_cookie("any", "1")
  s:set_cookie("dom", "2", { domain = "example.test" })
  s:set_cookie("p", "3", { path = "/only" })
  s:set_cookie("exp", "4", { expires = os.time() + 60, http_only = true })
  s:set_cookie("old", "5", { expires = 0 })
  s:set_cookie("date", "6", { expires = "Wed, 09 Jun 2100 10:18:14 GMT" })
  s:set_cookie("num", 7)
  test.eq(s:get_cookie("old"), nil)
  test.eq(seen(s:get(server.base .. "/echo")).cookie, "init=0; any=1; exp=4; date=6; num=7")
  test.eq(seen(s:get(server.base .. "/only/x")).cookie, "p=3; init=0; any=1; exp=4; date=6; num=7")
  test.eq(seen(s:get("http://www.example.test/echo", via())).cookie, "init=0; any=1; dom=2; exp=4; date=6; num=7")
  s:set_cookie("exp", "gone", { max_age = 0 })
  test.eq(s:get_cookie("exp"), nil)
  test.eq(s:get_cookie("date"), "6")
end)

ptest("a session request suspends only its task", function()
  local s = http.create_session()
  local ticks = 0
  local t = setInterval(function() ticks = ticks + 1 end, 20)
  local r = s:get(set_url(server.base, "/slow", { "late=1" }) .. "&s=0.3")
  clearInterval(t)
  test.eq(r.status, 200)
  assert(ticks > 0, "the timer did not tick while the request waited")
  test.eq(s:get_cookie("late"), "1")
end)

test("sessions: bad input", function()
  local s = http.create_session()
  test.raises(function() http.create_session({ cookie = {} }) end, "did you mean 'cookies'")
  test.raises(function() http.create_session({ cookies = "a=1" }) end, "EINVAL")
  test.raises(function() http.create_session({ cookies = { ["a;b"] = "1" } }) end, "EINVAL")
  test.raises(function() http.create_session("x") end)
  test.raises(function() s:set_cookie(1, "x") end, "string expected")
  test.raises(function() s:set_cookie("a b", "x") end, "EINVAL")
  test.raises(function() s:set_cookie("", "x") end, "EINVAL")
  test.raises(function() s:set_cookie("a", "x;y") end, "EINVAL")
  test.raises(function() s:set_cookie("a", nil) end, "string expected")
  test.raises(function() s:set_cookie("a", string.rep("x", 5000)) end, "4096")
  test.raises(function() s:set_cookie("a", "x", { domian = "x.test" }) end, "did you mean 'domain'")
  test.raises(function() s:set_cookie("a", "x", { path = "rel" }) end, "EINVAL")
  test.raises(function() s:set_cookie("a", "x", { domain = "" }) end, "EINVAL")
  test.raises(function() s:set_cookie("a", "x", { domain = "a b" }) end, "EINVAL")
  test.raises(function() s:set_cookie("a", "x", { expires = 0 / 0 }) end, "NaN")
  test.raises(function() s:set_cookie("a", "x", { expires = "someday" }) end, "EINVAL")
  test.raises(function() s:set_cookie("a", "x", { expires = {} }) end, "EINVAL")
  test.raises(function() s:set_cookie("a", "x", { secure = "yes" }) end, "EINVAL")
  test.raises(function() s:set_cookie("a", "x", { max_age = 1.5 }) end, "EINVAL")
  test.raises(function() s:get_cookie() end, "string expected")
  test.raises(function() s:get_cookie("a", "not a url") end, "EINVAL")
  test.raises(function() s:get_cookies(42) end, "URL string expected")
  test.raises(function() s:cookie_list("ftp://x/") end, "EINVAL")
  test.raises(function() s.get("http://127.0.0.1:1/") end, "moonwire.http.session expected")
  test.raises(function() s:get("http://127.0.0.1:1/", { cookeis = {} }) end, "did you mean 'cookies'")
  test.raises(function() s:get(42) end, "EINVAL")
  test.eq(s:get_cookies(), {}) -- nothing was stored by the failed calls
  -- huge and NaN Expires values clamp instead of overflowing
  s:set_cookie("far", "1", { expires = math.huge })
  s:set_cookie("past", "1", { expires = -math.huge })
  test.eq(s:get_cookies(), { far = "1" })
end)

-- against net.http.listen (moonwire's own server) ------------------------------------------------

local function cookie_header(req)
  local c = req.headers.cookie
  if type(c) == "table" then return table.concat(c, "; ") end
  return c
end

test("a session against net.http.listen: login, redirect, logout", function()
  local srv = net.http.listen(0, function(req)
    if req.path == "/login" then
      return { status = 303, headers = { location = "/home", ["set-cookie"] = { "sid=s3cret; Path=/; HttpOnly", "lang=en; Max-Age=600" } }, body = "" }
    elseif req.path == "/logout" then
      return { status = 200, headers = { ["set-cookie"] = "sid=; Max-Age=0; Path=/" }, body = "bye" }
    end
    return { status = 200, headers = { ["content-type"] = "text/plain" }, body = cookie_header(req) or "(none)" }
  end)
  local base = "http://127.0.0.1:" .. srv.port
  local s = http.create_session()
  local r = s:post(base .. "/login", "user=moon")
  test.eq(r.status, 200)
  test.eq(r.redirects, 1)
  test.eq(r.url, base .. "/home")
  test.eq(r.body, "sid=s3cret; lang=en")
  test.eq(s:cookie_list()[1].http_only, true)
  test.eq(s:get(base .. "/page").body, "sid=s3cret; lang=en")
  test.eq(http.get(base .. "/page").body, "(none)") -- plain calls carry no jar
  s:get(base .. "/logout")
  test.eq(s:get_cookies(), { lang = "en" })
  test.eq(s:get(base .. "/page").body, "lang=en")
  srv:close()
end)

test("net.http.listen sees opts.cookies; concurrent session requests share the jar", function()
  local srv = net.http.listen(0, function(req)
    local n = req.query.n
    if n then
      return { status = 200, headers = { ["set-cookie"] = "c" .. n .. "=" .. n }, body = "set" }
    end
    return cookie_header(req) or "(none)"
  end)
  local base = "http://127.0.0.1:" .. srv.port
  test.eq(http.get(base .. "/", { cookies = { z = "1", a = "2" } }).body, "a=2; z=1")
  local s = http.create_session()
  local tasks = {}
  for i = 1, 10 do tasks[i] = task.spawn(function() s:get(base .. "/set?n=" .. i) end) end
  for i = 1, 10 do tasks[i]:join() end
  local all = s:get_cookies()
  for i = 1, 10 do test.eq(all["c" .. i], tostring(i)) end
  local sent = s:get(base .. "/").body
  for i = 1, 10 do assert(sent:find("c" .. i .. "=" .. i, 1, true), sent) end
  srv:close()
end)

local have_openssl = proc.have("openssl")
proc.peer_test(test, have_openssl, "openssl")("Secure cookies set over https (net.http.listen with TLS) are not sent over http", function()
  local certs = proc.make_certs(proc.tmpdir())
  local handler = function(req)
    if req.path == "/set" then
      return { status = 200, headers = { ["set-cookie"] = { "sec=1; Secure; HttpOnly", "plain=2" } }, body = "set" }
    end
    return cookie_header(req) or "(none)"
  end
  local tls_srv = net.http.listen(0, handler, { tls = { cert_file = certs.cert, key_file = certs.key } })
  local plain_srv = net.http.listen(0, handler)
  local https = "https://127.0.0.1:" .. tls_srv.port
  local http_ = "http://127.0.0.1:" .. plain_srv.port -- the same host: cookies ignore ports
  local tls = { tls = { ca_file = certs.ca } }
  local s = http.create_session()
  s:get(https .. "/set", tls)
  local sec = s:cookie_list()[1]
  test.eq({ sec.name, sec.secure, sec.http_only }, { "sec", true, true })
  test.eq(s:get(https .. "/echo", tls).body, "sec=1; plain=2")
  test.eq(s:get(http_ .. "/echo").body, "plain=2")
  -- over http the same Set-Cookie is refused for the Secure one, and cannot replace it
  s:get(http_ .. "/set")
  test.eq(s:get(https .. "/echo", tls).body, "sec=1; plain=2")
  tls_srv:close()
  plain_srv:close()
end)
