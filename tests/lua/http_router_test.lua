-- http.server (the router): routing, ctx helpers, middleware and bad input, first through the
-- router's handler with request tables shaped as net.http.listen's (the routing logic alone),
-- then through the real server with real clients (curl, Node fetch, net.http).
local test = require("test")
local proc = dofile("tests/support/proc.lua")

test.after_each(function() proc.cleanup() end)

-- A request as net.http.listen hands it to a handler.
local function req(method, target, opts)
  opts = opts or {}
  local path, raw_query = target:match("^([^?]*)%??(.*)$")
  local decoded = path:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
  return {
    method = method, target = target, path = decoded, raw_query = raw_query, query = opts.query or {},
    headers = opts.headers or {}, version = "1.1", peer_addr = "127.0.0.1:1", secure = false,
    body = function() return opts.body or "" end,
  }
end

local function call(app, method, target, opts)
  local r = app:handler()(req(method, target, opts))
  return r
end

-- An EINVAL error raised at the caller's line in this file, whose message has `fragment`.
local function einval(fn, fragment)
  local err = test.raises(fn, "EINVAL")
  test.matches(tostring(err), "http_router_test%.lua:%d+:")
  if fragment then test.ok(tostring(err):find(fragment, 1, true), "'" .. fragment .. "' not in: " .. tostring(err)) end
  return err
end

test("http.server is net.http.server and require-able; new() makes independent apps", function()
  test.eq(http.server, net.http.server)
  test.eq(require("http.server"), http.server)
  test.eq(require("net.http.server"), http.server)
  test.eq(type(http.server.new), "function")
  local a, b = http.server.new(), http.server.new()
  a:get("/", function() return "a" end)
  test.eq(call(a, "GET", "/").body, "a")
  test.eq(call(b, "GET", "/").status, 404)
end)

test("exact routes, params, wildcards, and a returned string as the body", function()
  local app = http.server.new()
  test.eq(app:get("/", function() return "home" end), app) -- chainable
  app:get("/users/:id", function(ctx) return "user " .. ctx.params.id end)
     :get("/users/:id/posts/:post", function(ctx) return ctx.params.id .. "/" .. ctx.params.post end)
     :get("/files/*", function(ctx) return "file [" .. ctx.params["*"] .. "]" end)
     :get("/assets/*rest", function(ctx) return "asset [" .. ctx.params.rest .. "]" end)
  local r = call(app, "GET", "/")
  test.eq(r.status, 200)
  test.eq(r.body, "home") -- CopperMoon sends an empty body here
  test.eq(r.headers["content-type"], "text/plain; charset=utf-8")
  test.eq(call(app, "GET", "/users/42").body, "user 42")
  test.eq(call(app, "GET", "/users/42/").body, "user 42") -- a trailing slash does not matter
  test.eq(call(app, "GET", "/users/a%2Fb").body, "user a/b") -- an encoded slash stays in its param
  test.eq(call(app, "GET", "/users/caf%C3%A9").body, "user café")
  test.eq(call(app, "GET", "/users/7/posts/9").body, "7/9")
  test.eq(call(app, "GET", "/files/a/b/c.txt").body, "file [a/b/c.txt]")
  test.eq(call(app, "GET", "/files").body, "file []")
  test.eq(call(app, "GET", "/assets/x/y").body, "asset [x/y]")
  test.eq(call(app, "GET", "/users").status, 404)
  test.eq(call(app, "GET", "/users/1/2").status, 404)
  test.eq(call(app, "GET", "/nope").body, "Not Found")
  test.eq(call(app, "GET", "/users/42?x=1").body, "user 42")
  test.eq(call(app, "GET", "//users//42").body, "user 42")
end)

test("specificity: literal before :param before *, whatever the registration order", function()
  local app = http.server.new()
  app:get("*", function() return "any" end)
  app:get("/a/*", function() return "a-wild" end)
  app:get("/a/:x", function() return "a-param" end)
  app:get("/a/:x/c", function() return "a-x-c" end)
  app:get("/a/b/:y", function() return "a-b-y" end)
  app:get("/a/me", function() return "a-me" end)
  test.eq(call(app, "GET", "/a/me").body, "a-me")
  test.eq(call(app, "GET", "/a/zz").body, "a-param")
  test.eq(call(app, "GET", "/a/b/c").body, "a-b-y")
  test.eq(call(app, "GET", "/a/q/c").body, "a-x-c")
  test.eq(call(app, "GET", "/a/q/r/s").body, "a-wild")
  test.eq(call(app, "GET", "/elsewhere").body, "any")
  test.eq(call(app, "GET", "/").body, "any")
end)

test("methods: each verb, all, HEAD falls back to GET, 405 with Allow, automatic OPTIONS", function()
  local app = http.server.new()
  for _, m in ipairs({ "get", "post", "put", "delete", "patch", "options" }) do
    app[m](app, "/r", function(ctx) return ctx.method end)
  end
  app:head("/h", function() return "head" end)
  app:all("/any", function(ctx) return "all " .. ctx.method end)
  app:get("/g", function() return "g" end):post("/g/:id", function() return "p" end)
  for _, m in ipairs({ "GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS" }) do test.eq(call(app, m, "/r").body, m) end
  test.eq(call(app, "HEAD", "/r").body, "HEAD") -- the GET handler, ctx.method still says HEAD
  test.eq(call(app, "HEAD", "/h").body, "head")
  test.eq(call(app, "BREW", "/any").body, "all BREW")
  test.eq(call(app, "DELETE", "/any").body, "all DELETE")
  local r = call(app, "POST", "/g")
  test.eq(r.status, 405)
  test.eq(r.headers.allow, "GET, HEAD, OPTIONS")
  test.eq(r.body, "Method Not Allowed")
  r = call(app, "OPTIONS", "/g")
  test.eq(r.status, 204)
  test.eq(r.headers.allow, "GET, HEAD, OPTIONS")
  test.eq(call(app, "POST", "/g/1").body, "p")
  r = call(app, "PUT", "/h")
  test.eq(r.status, 405)
  test.eq(r.headers.allow, "HEAD, OPTIONS")
end)

test("ctx: CopperMoon's fields and helpers", function()
  local app = http.server.new()
  local seen
  app:post("/echo/:id", function(ctx)
    seen = { method = ctx.method, path = ctx.path, query = ctx.query, headers = ctx.headers, body = ctx.body,
      target = ctx.target, raw_query = ctx.raw_query, peer = ctx.peer_addr, secure = ctx.secure, version = ctx.version }
    return ctx:status(201):json({ id = ctx.params.id })
  end)
  local r = call(app, "POST", "/echo/5?a=1", { query = { a = "1" }, headers = { ["x-y"] = "z" }, body = "payload" })
  test.eq(r.status, 201)
  test.eq(r.headers["content-type"], "application/json")
  test.eq(json.decode(r.body), { id = "5" })
  test.eq(seen, { method = "POST", path = "/echo/5", query = { a = "1" }, headers = { ["x-y"] = "z" }, body = "payload",
    target = "/echo/5?a=1", raw_query = "a=1", peer = "127.0.0.1:1", secure = false, version = "1.1" })

  app:get("/t", function(ctx) ctx:text("plain") end)
  app:get("/h", function(ctx) ctx:html("<b>x</b>") end)
  app:get("/sniff", function() return "  <!doctype html><p>hi" end)
  app:get("/hdr", function(ctx)
    ctx:header("X-Custom", "1"):header("Set-Cookie", { "a=1", "b=2" }):header("X-Gone", "x"):header("X-Gone", nil)
    test.eq(ctx:header("x-custom"), "1")
    return "ok"
  end)
  app:get("/go", function(ctx) return ctx:redirect("/there") end)
  app:get("/go301", function(ctx) return ctx:redirect("https://example.com/", 301) end)
  app:get("/empty", function(ctx) ctx:status(204) end)
  app:get("/table", function(ctx)
    ctx:header("x-from-ctx", "1"):header("content-type", "text/ignored")
    return { status = 202, headers = { ["Content-Type"] = "text/csv" }, body = "a,b" }
  end)
  r = call(app, "GET", "/t")
  test.eq({ r.body, r.headers["content-type"] }, { "plain", "text/plain; charset=utf-8" })
  r = call(app, "GET", "/h")
  test.eq({ r.body, r.headers["content-type"] }, { "<b>x</b>", "text/html; charset=utf-8" })
  test.eq(call(app, "GET", "/sniff").headers["content-type"], "text/html; charset=utf-8")
  r = call(app, "GET", "/hdr")
  test.eq(r.headers["x-custom"], "1")
  test.eq(r.headers["set-cookie"], { "a=1", "b=2" })
  test.eq(r.headers["x-gone"], nil)
  r = call(app, "GET", "/go")
  test.eq({ r.status, r.headers.location }, { 302, "/there" })
  r = call(app, "GET", "/go301")
  test.eq({ r.status, r.headers.location }, { 301, "https://example.com/" })
  r = call(app, "GET", "/empty")
  test.eq({ r.status, r.body }, { 204, "" })
  r = call(app, "GET", "/table")
  test.eq(r.status, 202)
  test.eq(r.headers["Content-Type"], "text/csv") -- the returned table's own headers win
  test.eq(r.headers["content-type"], nil)
  test.eq(r.headers["x-from-ctx"], "1")
end)

test("a handler returning something else is an error (the server answers 500)", function()
  local app = http.server.new()
  app:get("/n", function() return 42 end)
  test.raises(function() call(app, "GET", "/n") end, "returned a number")
  app:get("/boom", function() error("kaput") end)
  test.raises(function() call(app, "GET", "/boom") end, "kaput")
end)

test("middleware: onion order, short-circuit, prefixes, post-processing, next twice", function()
  local app = http.server.new()
  local log = {}
  app:use(function(ctx, next)
    log[#log + 1] = "a>"
    next()
    log[#log + 1] = "<a"
    ctx:header("x-mw", "a")
  end)
  app:use("/api", function(ctx, next)
    log[#log + 1] = "api>"
    if ctx.headers.authorization ~= "yes" then return ctx:status(401):text("no") end
    next()
    log[#log + 1] = "<api"
  end)
  app:use(function(ctx, next)
    log[#log + 1] = "b>"
    next()
    log[#log + 1] = "<b"
  end)
  app:get("/api/x", function() log[#log + 1] = "handler" return "x" end)
  app:get("/apix", function() log[#log + 1] = "apix" return "apix" end)
  app:get("/", function() log[#log + 1] = "root" return "root" end)

  local r = call(app, "GET", "/api/x", { headers = { authorization = "yes" } })
  test.eq(r.body, "x")
  test.eq(r.headers["x-mw"], "a")
  test.eq(log, { "a>", "api>", "b>", "handler", "<b", "<api", "<a" })
  log = {}
  r = call(app, "GET", "/api/x")
  test.eq({ r.status, r.body, r.headers["x-mw"] }, { 401, "no", "a" })
  test.eq(log, { "a>", "api>", "<a" })
  log = {}
  test.eq(call(app, "GET", "/apix").body, "apix") -- "/api" is a path prefix, not a string prefix
  test.eq(log, { "a>", "b>", "apix", "<b", "<a" })
  log = {}
  test.eq(call(app, "GET", "/missing").status, 404) -- middleware runs for 404s too
  test.eq(log, { "a>", "b>", "<b", "<a" })

  local app2 = http.server.new()
  app2:use(function(_, next) next() next() end)
  app2:get("/", function() return "x" end)
  test.raises(function() call(app2, "GET", "/") end, "next() called twice")
  local app3 = http.server.new()
  app3:use(function() return "from middleware" end)
  test.eq(call(app3, "GET", "/anything").body, "from middleware")
end)

test("bad input at registration: EINVAL at the caller's line", function()
  local app = http.server.new()
  einval(function() app:get("/x", nil) end, "app:get: handler must be a function (got nil)")
  einval(function() app:post("/x", "nope") end, "handler must be a function (got string)")
  einval(function() app:get(42, function() end) end, "app:get: path must be a string (got number)")
  einval(function() app:get(nil, function() end) end, "path must be a string (got nil)")
  einval(function() app:get("x", function() end) end, "must start with '/'")
  einval(function() app:get("/a/*/b", function() end) end, "'*' must be the last segment")
  einval(function() app:get("/a/:1x", function() end) end, "bad parameter name ':1x'")
  einval(function() app:get("/a/:", function() end) end, "bad parameter name ':'")
  einval(function() app:get("/a/:id/:id", function() end) end, "parameter 'id' appears twice")
  einval(function() app:get("/a?b", function() end) end, "must not contain")
  einval(function() app:all("/a\n", function() end) end, "must not contain")
  einval(function() app.get(nil, "/", function() end) end, "call it with ':'")
  einval(function() app:use(42) end, "app:use: middleware must be a function (got number)")
  einval(function() app:use("/a/:id", function() end) end, "prefix must be a plain path")
  einval(function() app:ws("/ws", {}) end, "app:ws: handler must be a function (got table)")
  einval(function() app:ws("/ws", function() end, 5) end, "app:ws: options must be a table (got number)")
  einval(function() app:static("/s/*", ".") end, "prefix must be a plain path")
  einval(function() app:static("/s", nil) end, "app:static: dir must be a directory path (got nil)")
  einval(function() app:static("/s", ".", { indx = "a.html" }) end, "unknown option 'indx' (did you mean 'index'?)")
  einval(function() app:static("/s", ".", { max_age = -1 }) end, "option 'max_age' must be an integer")
  einval(function() app:static("/s", ".", { max_age = 0 / 0 }) end, "option 'max_age' must be an integer")
  einval(function() app:static("/s", ".", { index = "../x" }) end, "option 'index' must be a file name")
  einval(function() app:static("/s", ".", { dotfiles = "yes" }) end, "option 'dotfiles' must be a boolean")
  einval(function() app:static("/s", "tests/lua/http_router_test.lua") end, "is not a directory")
  test.raises(function() app:static("/s", "/nonexistent/dir") end, "ENOENT")
  einval(function() app:listen(0, "not a function") end, "app:listen: callback must be a function (got string)")
  einval(function() app:listen(0, {}, function() end, 1) end, "unexpected argument #4")
  einval(function() http.server.new(1) end, "takes no arguments")
end)

test("bad input in handlers: status codes, headers, redirects", function()
  local app = http.server.new()
  local errors = {}
  local function try(fn)
    return function(ctx)
      local ok, err = pcall(fn, ctx)
      errors[#errors + 1] = not ok and err or "no error"
      return "x"
    end
  end
  app:get("/s1", try(function(ctx) ctx:status(99) end))
  app:get("/s2", try(function(ctx) ctx:status(600) end))
  app:get("/s3", try(function(ctx) ctx:status(1.5) end))
  app:get("/s4", try(function(ctx) ctx:status(0 / 0) end))
  app:get("/s5", try(function(ctx) ctx:status("abc") end))
  app:get("/h1", try(function(ctx) ctx:header("X-A", "a\r\nInjected: 1") end))
  app:get("/h2", try(function(ctx) ctx:header("Bad Name", "v") end))
  app:get("/h3", try(function(ctx) ctx:header("X-A", { "ok", "bad\n" }) end))
  app:get("/h4", try(function(ctx) ctx:header("X-A", true) end))
  app:get("/r1", try(function(ctx) ctx:redirect("/x", 200) end))
  app:get("/r2", try(function(ctx) ctx:redirect("/x\r\nSet-Cookie: a=b") end))
  app:get("/r3", try(function(ctx) ctx:redirect(nil) end))
  app:get("/t1", try(function(ctx) ctx:text({}) end))
  for _, p in ipairs({ "/s1", "/s2", "/s3", "/s4", "/s5", "/h1", "/h2", "/h3", "/h4", "/r1", "/r2", "/r3", "/t1" }) do
    call(app, "GET", p)
  end
  local expected = {
    "ctx:status: status must be an integer from 100 to 599 (got 99)", "(got 600)", "(got 1.5)", "nan)", "(got abc)",
    "bad value for header 'X-A'", "bad header name 'Bad Name'", "bad value #2 for header 'X-A'", "got boolean",
    "ctx:redirect: status must be an integer from 300 to 308 (got 200)", "url must be a non-empty string", "got nil",
    "ctx:text: body must be a string (got table)",
  }
  for i, frag in ipairs(expected) do
    local err = errors[i]
    test.eq(type(err) == "table" and err.code, "EINVAL", frag)
    test.ok(tostring(err):find(frag, 1, true), frag .. " not in " .. tostring(err))
    test.matches(tostring(err), "http_router_test%.lua:%d+:")
  end
end)
