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
    "ctx:status: status must be an integer from 200 to 599 (got 99)", "(got 600)", "(got 1.5)", "nan)", "(got abc)",
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

-- Through the real server ------------------------------------------------------------------

-- Starts app on a free port in a task of its own (app:listen waits there); returns the port.
local function serve(app, opts)
  local got = task.channel(1)
  local t = task.spawn(function()
    if opts then
      app:listen(0, opts, function(port) got:send(port) end)
    else
      app:listen(0, function(port) got:send(port) end)
    end
  end)
  local port = got:recv(10)
  assert(port, "app:listen did not call back")
  return port, t
end

-- One raw HTTP/1.1 request (the target sent exactly as given); returns {status, headers, body}.
local function raw(port, method, target, headers)
  local c = net.tcp.connect("127.0.0.1", port, { timeout = 5000 })
  c:set_timeout(10000)
  local lines = { method .. " " .. target .. " HTTP/1.1", "Host: 127.0.0.1:" .. port, "Connection: close" }
  for k, v in pairs(headers or {}) do lines[#lines + 1] = k .. ": " .. v end
  c:write(table.concat(lines, "\r\n") .. "\r\n\r\n")
  local data = c:read_all()
  c:close()
  local head, body = data:match("^(.-)\r\n\r\n(.*)$")
  assert(head, "no response: " .. data)
  local status = tonumber(head:match("^HTTP/1%.1 (%d+)"))
  local h = {}
  for name, value in head:gmatch("\r\n([^:\r\n]+):%s*([^\r\n]*)") do h[name:lower()] = value end
  if (h["transfer-encoding"] or ""):find("chunked") then
    local out, rest = {}, body
    while true do
      local size, after = rest:match("^(%x+)[^\r\n]*\r\n(.*)$")
      size = tonumber(size, 16)
      if not size or size == 0 then break end
      out[#out + 1] = after:sub(1, size)
      rest = after:sub(size + 3)
    end
    body = table.concat(out)
  end
  return { status = status, headers = h, body = body }
end

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  p:close()
  return out
end

local have_curl = proc.have("curl")
local have_node = proc.have("node")

test("app:listen serves until app:close; the calling task waits while timers and tasks run", function()
  local app = http.server.new()
  app:get("/", function() return "hello" end)
  local ticks = 0
  local ticker = task.spawn(function() while true do task.sleep(0.01) ticks = ticks + 1 end end)
  local port, t = serve(app)
  test.eq(app.port, port)
  test.eq(t.status, "suspended") -- waiting in listen
  local r = http.get("http://127.0.0.1:" .. port .. "/")
  test.eq({ r.status, r.body }, { 200, "hello" })
  local before = ticks
  while ticks < before + 3 do task.sleep(0.01) end -- the ticker runs while listen waits
  test.eq(app:close(), true)
  test.eq(t:join(5), true) -- listen returned
  test.eq(app:close(), false) -- nothing left to close
  ticker:cancel()
  test.raises(function() net.tcp.connect("127.0.0.1", port, { timeout = 2000 }) end, "ECONNREFUSED")
end)

test("app:listen: a bind failure raises; a failing callback closes the server; host argument", function()
  local busy = net.tcp.listen("127.0.0.1", 0)
  local app = http.server.new()
  test.raises(function() app:listen(busy.port) end, "EADDRINUSE")
  busy:close()
  test.eq(app.server, nil)
  local app2 = http.server.new()
  test.raises(function() app2:listen(0, function() error("cb failed") end) end, "cb failed")
  test.eq(app2.server, nil)
  local app3 = http.server.new()
  app3:get("/", function(ctx) return ctx.peer_addr:match("^127%.0%.0%.1:") and "local" or "?" end)
  local srv = app3:start("127.0.0.1", 0)
  test.eq(srv.port, app3.port)
  test.eq(http.get("http://127.0.0.1:" .. srv.port .. "/").body, "local")
  test.raises(function() app3:start(0) end, "already listening")
  app3:close()
end)

local t_curl = proc.peer_test(test, have_curl, "curl")
t_curl("curl: methods, params, JSON body, HEAD, 404/405, redirect, response headers", function()
  local app = http.server.new()
  app:get("/users/:id", function(ctx) return ctx:json({ id = ctx.params.id, q = ctx.query.q }) end)
  app:post("/echo", function(ctx) ctx:header("X-Len", #ctx.body) return ctx.body end)
  app:put("/items/:id", function(ctx) return "put " .. ctx.params.id .. " " .. ctx.body end)
  app:delete("/items/:id", function(ctx) return ctx:status(204) end)
  app:get("/old", function(ctx) return ctx:redirect("/users/1") end)
  local port = serve(app)
  local base = "http://127.0.0.1:" .. port
  test.eq(json.decode(sh("curl -s '" .. base .. "/users/7?q=hi'")), { id = "7", q = "hi" })
  test.eq(sh("curl -s -X POST --data-binary 'abc def' " .. base .. "/echo"), "abc def")
  test.eq(sh("curl -s -X PUT --data-binary 'v' " .. base .. "/items/3"), "put 3 v")
  test.eq(sh("curl -s -o /dev/null -w '%{http_code}' -X DELETE " .. base .. "/items/3"), "204")
  local head = sh("curl -s -I " .. base .. "/users/7")
  test.matches(head, "^HTTP/1%.1 200")
  test.matches(head:lower(), "content%-type: application/json")
  test.eq(sh("curl -s -o /dev/null -w '%{http_code}' " .. base .. "/nope"), "404")
  local r = sh("curl -s -i -X POST " .. base .. "/users/7")
  test.matches(r, "^HTTP/1%.1 405")
  test.matches(r:lower(), "allow: get, head, options")
  test.eq(json.decode(sh("curl -s -L " .. base .. "/old")), { id = "1" })
  test.matches(sh("curl -s -i -X POST --data-binary 'xyz' " .. base .. "/echo"):lower(), "x%-len: 3")
  app:close()
end)

local t_node = proc.peer_test(test, have_node, "node")
t_node("Node fetch: keep-alive requests through middleware, a handler error is a bare 500", function()
  local app = http.server.new()
  local count = 0
  app:use(function(ctx, next) count = count + 1 next() ctx:header("X-Count", count) end)
  app:get("/n/:i", function(ctx) return "n" .. ctx.params.i end)
  app:get("/boom", function() error("secret internals") end)
  local port = serve(app)
  local script = ([[
    const base = "http://127.0.0.1:%d";
    (async () => {
      const out = [];
      for (let i = 0; i < 5; i++) { const r = await fetch(base + "/n/" + i); out.push(await r.text() + ":" + r.headers.get("x-count")); }
      const b = await fetch(base + "/boom"); out.push(b.status + ":" + (await b.text()));
      console.log(JSON.stringify(out));
    })();
  ]]):format(port)
  local out = sh("node -e " .. proc.quote(script))
  local got = json.decode(out)
  test.eq(got, { "n0:1", "n1:2", "n2:3", "n3:4", "n4:5", got[6] })
  test.matches(got[6], "^500:")
  test.ok(not got[6]:find("secret", 1, true), "the 500 leaks internals: " .. got[6])
  app:close()
end)

-- A static tree: files, a subdirectory with an index, a dotfile, symlinks in and out.
local function static_tree()
  local root = proc.tmpdir()
  local outside = proc.tmpdir()
  fs.mkdir_all(root .. "/public/sub")
  fs.write(root .. "/public/hello.txt", "hello world")
  fs.write(root .. "/public/page.html", "<p>page</p>")
  fs.write(root .. "/public/app.js", "1")
  fs.write(root .. "/public/data.bin", string.rep("\0\1\2\3", 256))
  fs.write(root .. "/public/UPPER.CSS", "b{}")
  fs.write(root .. "/public/noext", "x")
  fs.write(root .. "/public/empty.txt", "")
  fs.write(root .. "/public/sub/index.html", "<h1>index</h1>")
  fs.write(root .. "/public/.secret", "dot")
  fs.write(root .. "/private.txt", "PRIVATE")
  fs.write(outside .. "/outside.txt", "OUTSIDE")
  os.execute(("ln -s %s %s && ln -s %s %s && ln -s hello.txt %s"):format(
    proc.quote(outside .. "/outside.txt"), proc.quote(root .. "/public/link-out.txt"),
    proc.quote(outside), proc.quote(root .. "/public/dir-out"),
    proc.quote(root .. "/public/link-in.txt")))
  return root
end

test("static: files, content types, index, directory redirect, dotfiles, 404", function()
  local root = static_tree()
  local app = http.server.new()
  app:static("/static", root .. "/public")
  app:get("/static/api", function() return "a route wins over a file path" end)
  local port = serve(app)
  local function get(target, h) return raw(port, "GET", target, h) end
  local r = get("/static/hello.txt")
  test.eq({ r.status, r.body, r.headers["content-type"] }, { 200, "hello world", "text/plain; charset=utf-8" })
  test.eq(r.headers["content-length"], "11")
  test.eq(r.headers["accept-ranges"], "bytes")
  test.ok(r.headers.etag and r.headers["last-modified"])
  test.eq(get("/static/page.html").headers["content-type"], "text/html; charset=utf-8")
  test.eq(get("/static/app.js").headers["content-type"], "text/javascript; charset=utf-8")
  test.eq(get("/static/UPPER.CSS").headers["content-type"], "text/css; charset=utf-8")
  test.eq(get("/static/noext").headers["content-type"], "application/octet-stream")
  r = get("/static/data.bin")
  test.eq(r.body, string.rep("\0\1\2\3", 256))
  test.eq(get("/static/empty.txt").body, "")
  test.eq(get("/static/sub/").body, "<h1>index</h1>")
  r = get("/static/sub?x=1")
  test.eq({ r.status, r.headers.location }, { 301, "/static/sub/?x=1" })
  test.eq(get("/static/").status, 404) -- no index.html at the root, and no listing
  test.eq(get("/static/.secret").status, 404)
  test.eq(get("/static/missing.txt").status, 404)
  test.eq(get("/static/hello.txt/x").status, 404)
  test.eq(get("/static/link-in.txt").body, "hello world") -- a symlink inside the root is fine
  test.eq(get("/static/api").body, "a route wins over a file path")
  test.eq(get("/static/hello%2Etxt").body, "hello world")
  r = raw(port, "HEAD", "/static/hello.txt")
  test.eq({ r.status, r.headers["content-length"], r.body }, { 200, "11", "" })
  r = raw(port, "POST", "/static/hello.txt")
  test.eq(r.status, 404) -- static serves GET and HEAD; other methods pass by it
  app:close()
end)

test("static: no escape through .., %2e%2e, encoded slashes, NUL or symlinks out of the root", function()
  local root = static_tree()
  local app = http.server.new()
  app:static("/", root .. "/public")
  local port = serve(app)
  local attempts = {
    "/../private.txt", "/sub/../../private.txt", "/%2e%2e/private.txt", "/%2E%2E/private.txt", "/.%2e/private.txt",
    "/..%2fprivate.txt", "/sub%2f..%2f..%2fprivate.txt", "/%2e%2e%2fprivate.txt", "/..%5cprivate.txt",
    "/link-out.txt", "/dir-out/outside.txt", "/hello.txt%00.html", "/./hello.txt", "//../private.txt",
  }
  for _, target in ipairs(attempts) do
    local r = raw(port, "GET", target)
    test.ok(r.status == 400 or r.status == 404, target .. " -> " .. tostring(r.status))
    test.ok(not r.body:find("PRIVATE", 1, true) and not r.body:find("OUTSIDE", 1, true), target .. " leaked: " .. r.body)
  end
  test.eq(raw(port, "GET", "/hello.txt").body, "hello world")
  if have_curl then
    local out = sh("curl -s --path-as-is http://127.0.0.1:" .. port .. "/../private.txt")
    test.ok(not out:find("PRIVATE", 1, true), out)
  end
  local r = raw(port, "GET", "//evil.example/sub")
  test.ok(r.status ~= 301 or r.headers.location:sub(1, 2) ~= "//", "open redirect: " .. tostring(r.headers.location))
  app:close()
end)

test("static: ETag and Last-Modified give 304; Range gives 206 and 416", function()
  local root = static_tree()
  local app = http.server.new()
  app:static("/s", root .. "/public", { max_age = 60 })
  local port = serve(app)
  local first = raw(port, "GET", "/s/hello.txt")
  local etag, lm = first.headers.etag, first.headers["last-modified"]
  test.eq(first.headers["cache-control"], "public, max-age=60")
  test.matches(lm, "^%a%a%a, %d%d %a%a%a %d%d%d%d %d%d:%d%d:%d%d GMT$")
  local r = raw(port, "GET", "/s/hello.txt", { ["If-None-Match"] = etag })
  test.eq({ r.status, r.body, r.headers.etag }, { 304, "", etag })
  test.eq(raw(port, "GET", "/s/hello.txt", { ["If-None-Match"] = '"other", ' .. etag }).status, 304)
  test.eq(raw(port, "GET", "/s/hello.txt", { ["If-None-Match"] = "W/" .. etag }).status, 304)
  test.eq(raw(port, "GET", "/s/hello.txt", { ["If-None-Match"] = "*" }).status, 304)
  test.eq(raw(port, "GET", "/s/hello.txt", { ["If-None-Match"] = '"other"' }).status, 200)
  test.eq(raw(port, "GET", "/s/hello.txt", { ["If-Modified-Since"] = lm }).status, 304)
  test.eq(raw(port, "GET", "/s/hello.txt", { ["If-Modified-Since"] = "Sun, 06 Nov 1994 08:49:37 GMT" }).status, 200)
  test.eq(raw(port, "GET", "/s/hello.txt", { ["If-Modified-Since"] = "garbage" }).status, 200)
  -- If-None-Match wins over If-Modified-Since
  test.eq(raw(port, "GET", "/s/hello.txt", { ["If-None-Match"] = '"other"', ["If-Modified-Since"] = lm }).status, 200)

  r = raw(port, "GET", "/s/hello.txt", { Range = "bytes=0-4" })
  test.eq({ r.status, r.body, r.headers["content-range"], r.headers["content-length"] }, { 206, "hello", "bytes 0-4/11", "5" })
  r = raw(port, "GET", "/s/hello.txt", { Range = "bytes=6-" })
  test.eq({ r.status, r.body, r.headers["content-range"] }, { 206, "world", "bytes 6-10/11" })
  r = raw(port, "GET", "/s/hello.txt", { Range = "bytes=-3" })
  test.eq({ r.status, r.body }, { 206, "rld" })
  r = raw(port, "GET", "/s/hello.txt", { Range = "bytes=-100" })
  test.eq({ r.status, r.body }, { 206, "hello world" })
  r = raw(port, "GET", "/s/hello.txt", { Range = "bytes=3-100" })
  test.eq({ r.status, r.body, r.headers["content-range"] }, { 206, "lo world", "bytes 3-10/11" })
  r = raw(port, "GET", "/s/hello.txt", { Range = "bytes=11-" })
  test.eq({ r.status, r.headers["content-range"] }, { 416, "bytes */11" })
  test.eq(raw(port, "GET", "/s/hello.txt", { Range = "bytes=99999999999999999999-" }).status, 416)
  test.eq(raw(port, "GET", "/s/hello.txt", { Range = "bytes=-0" }).status, 416)
  for _, ignored in ipairs({ "bytes=5-2", "bytes=0-1,3-4", "items=0-1", "bytes=x-y", "bytes=" }) do
    r = raw(port, "GET", "/s/hello.txt", { Range = ignored })
    test.eq({ r.status, r.body }, { 200, "hello world" }, ignored)
  end
  test.eq(raw(port, "GET", "/s/empty.txt", { Range = "bytes=0-" }).status, 200)
  -- If-Range: the range only while the validator still matches
  test.eq(raw(port, "GET", "/s/hello.txt", { Range = "bytes=0-0", ["If-Range"] = etag }).status, 206)
  test.eq(raw(port, "GET", "/s/hello.txt", { Range = "bytes=0-0", ["If-Range"] = lm }).status, 206)
  test.eq(raw(port, "GET", "/s/hello.txt", { Range = "bytes=0-0", ["If-Range"] = '"old"' }).status, 200)
  if have_curl then
    test.eq(sh("curl -s -r 0-4 http://127.0.0.1:" .. port .. "/s/hello.txt"), "hello")
    test.eq(sh("curl -s -o /dev/null -w '%{http_code}' -H " .. proc.quote("If-None-Match: " .. etag) ..
      " http://127.0.0.1:" .. port .. "/s/hello.txt"), "304")
  end
  -- a changed file gets a new validator
  task.sleep(0.01)
  fs.write(root .. "/public/hello.txt", "hello again")
  r = raw(port, "GET", "/s/hello.txt", { ["If-None-Match"] = etag })
  test.eq({ r.status, r.body }, { 200, "hello again" })
  test.ne(r.headers.etag, etag)
  app:close()
end)

test("app:ws: a WebSocket route on the same port as the pages; plain GET gets 426", function()
  local app = http.server.new()
  app:get("/", function() return "page" end)
  app:ws("/", function(ws) ws:send("root socket") end)
  app:ws("/echo/:room", function(ws, ctx)
    ws:send("room " .. ctx.params.room .. " q=" .. tostring(ctx.query.x))
    while true do
      local m = ws:recv()
      if not m or m.type == "close" then return end
      ws:send("echo " .. m.data)
    end
  end)
  local port = serve(app)
  test.eq(http.get("http://127.0.0.1:" .. port .. "/").body, "page")
  local ws = net.ws.connect("ws://127.0.0.1:" .. port .. "/echo/blue?x=1", { timeout = 5000 })
  ws:set_timeout(5000)
  test.eq(ws:recv().data, "room blue q=1")
  ws:send("hi")
  test.eq(ws:recv().data, "echo hi")
  ws:close()
  local root = net.ws.connect("ws://127.0.0.1:" .. port .. "/", { timeout = 5000 })
  root:set_timeout(5000)
  test.eq(root:recv().data, "root socket")
  local m = root:recv() -- the handler returned: the router closed the connection
  test.ok(m == nil or m.type == "close")
  local r = raw(port, "GET", "/echo/blue")
  test.eq({ r.status, r.headers.upgrade }, { 426, "websocket" })
  test.raises(function() net.ws.connect("ws://127.0.0.1:" .. port .. "/nope", { timeout = 5000 }) end)
  app:close()
end)
