-- net.http.listen against real clients started by the tests: curl and Node's fetch.
local test = require("test")
local proc = dofile("tests/support/proc.lua")

local have_curl = proc.have("curl")
local have_node = proc.run("node -e 'if (typeof fetch !== \"function\") process.exit(1)' 2>/dev/null")
local curl_test = proc.peer_test(test, have_curl, "curl")
local node_test = proc.peer_test(test, have_node, "node (with fetch)")

test.after_each(function() proc.cleanup() end)

local function curl(args, opts)
  local full = { "-sS", "--max-time", "20" }
  for _, a in ipairs(args) do full[#full + 1] = a end
  local r = process.spawn("curl", full, { timeout = 30000 })
  return r
end

local function node(script, args)
  local full = { "-e", script }
  for _, a in ipairs(args or {}) do full[#full + 1] = a end
  return process.spawn("node", full, { timeout = 30000 })
end

-- An echo server: method, path, and the body back; records peer addresses.
local function echo_server(opts)
  opts = opts or {}
  opts.max_body = opts.max_body or 8 * 1024 * 1024
  local peers = {}
  local srv = net.http.listen(0, function(req)
    peers[#peers + 1] = req.peer_addr
    if req.path == "/stream" then
      local w = req:respond(200, { ["Content-Type"] = "application/octet-stream" })
      for i = 1, 50 do w:write(("%04d"):format(i) .. ("x"):rep(1000)) end
      w:close()
      return
    end
    if req.path == "/raw" then
      return { headers = { ["Content-Type"] = "application/octet-stream" }, body = req:body() }
    end
    return { headers = { ["X-Method"] = req.method, ["X-Expect"] = req.headers.expect or "-",
                         ["X-TE"] = req.headers["transfer-encoding"] or "-" },
             body = req.method .. " " .. req.path .. " " .. req:body() }
  end, opts)
  return srv, peers
end

curl_test("curl: methods with bodies", function()
  local srv = echo_server()
  local url = "http://127.0.0.1:" .. srv.port
  for _, m in ipairs({ "GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS" }) do
    local args = { "-X", m, url .. "/m" }
    if m ~= "GET" then table.insert(args, 1, "--data-binary"); table.insert(args, 2, "payload") end
    local r = curl(args)
    test.eq(r.status, 0, r.stderr)
    test.eq(r.stdout, m .. " /m " .. (m ~= "GET" and "payload" or ""))
  end
  srv:close()
end)

curl_test("curl: keep-alive reuse is seen from the server (same peer port)", function()
  local srv, peers = echo_server()
  local url = "http://127.0.0.1:" .. srv.port
  local r = curl({ url .. "/1", url .. "/2", url .. "/3" })
  test.eq(r.status, 0, r.stderr)
  test.eq(r.stdout, "GET /1 GET /2 GET /3 ")
  test.eq(#peers, 3)
  test.eq(peers[1], peers[2])
  test.eq(peers[2], peers[3])
  srv:close()
end)

curl_test("curl: chunked upload and chunked download, large and binary", function()
  local dir = proc.tmpdir()
  local parts = {}
  for i = 1, 4096 do parts[#parts + 1] = string.pack("<I4", i * 2654435761 % 4294967296) end
  local blob = table.concat(parts):rep(200) -- 3.2 MB of binary
  proc.write_file(dir .. "/in.bin", blob)
  local srv = echo_server()
  local url = "http://127.0.0.1:" .. srv.port
  local r = curl({ "-H", "Transfer-Encoding: chunked", "--data-binary", "@" .. dir .. "/in.bin", "-o", dir .. "/out.bin",
    url .. "/raw" })
  test.eq(r.status, 0, r.stderr)
  local out = proc.read_file(dir .. "/out.bin")
  test.eq(#out, #blob)
  assert(out == blob, "binary body round trip")
  r = curl({ "-D", "-", url .. "/stream" })
  test.eq(r.status, 0, r.stderr)
  assert(r.stdout:lower():find("transfer%-encoding: chunked"), r.stdout:sub(1, 300))
  local body = r.stdout:match("\r\n\r\n(.*)$")
  test.eq(#body, 50 * 1004)
  test.eq(body:sub(1, 4), "0001")
  test.eq(body:sub(-1004, -1001), "0050")
  -- the server saw a chunked request
  r = curl({ "-D", "-", "-H", "Transfer-Encoding: chunked", "--data-binary", "abc", url .. "/te" })
  assert(r.stdout:find("X%-TE: chunked"), r.stdout)
  srv:close()
end)

curl_test("curl: HEAD and Expect: 100-continue", function()
  local srv = echo_server()
  local url = "http://127.0.0.1:" .. srv.port
  local r = curl({ "-I", url .. "/h" })
  test.eq(r.status, 0, r.stderr)
  assert(r.stdout:find("^HTTP/1.1 200 OK"), r.stdout)
  assert(r.stdout:find("Content%-Length: 8"), r.stdout) -- "HEAD /h "
  r = curl({ "-v", "-H", "Expect: 100-continue", "--data-binary", ("d"):rep(5000), url .. "/c" })
  test.eq(r.status, 0, r.stderr)
  assert(r.stderr:find("HTTP/1.1 100 Continue"), r.stderr)
  test.eq(r.stdout, "POST /c " .. ("d"):rep(5000))
  srv:close()
end)

curl_test("curl: HTTPS with a throwaway certificate", function()
  local certs = proc.make_certs(proc.tmpdir())
  local srv = echo_server({ tls = { cert_file = certs.cert, key_file = certs.key } })
  local url = "https://localhost:" .. srv.port
  local r = curl({ "--cacert", certs.ca, url .. "/s", url .. "/t" })
  test.eq(r.status, 0, r.stderr)
  test.eq(r.stdout, "GET /s GET /t ")
  r = curl({ url .. "/untrusted" })
  assert(r.status ~= 0)
  srv:close()
end)

curl_test("curl: a handler error is a 500 with no internals", function()
  local srv = net.http.listen(0, function() error({ code = "EXPLODE", message = "db password is hunter2" }) end)
  local r = curl({ "-D", "-", "http://127.0.0.1:" .. srv.port .. "/" })
  assert(r.stdout:find("^HTTP/1.1 500"), r.stdout)
  assert(not r.stdout:find("hunter2"), r.stdout)
  srv:close()
end)

node_test("Node fetch: GET, POST JSON, keep-alive reuse", function()
  local srv, peers = echo_server()
  local url = "http://127.0.0.1:" .. srv.port
  local r = node([[
    const base = process.argv[1];
    (async () => {
      const a = await fetch(base + "/a?x=1");
      const ta = await a.text();
      // (undici returns the socket to its pool a moment after the body is read)
      await new Promise(r => setTimeout(r, 100));
      await (await fetch(base + "/again")).text();
      const b = await fetch(base + "/b", { method: "POST", body: JSON.stringify({ n: 1 }),
        headers: { "content-type": "application/json" } });
      const tb = await b.text();
      console.log(JSON.stringify({ sa: a.status, ta, sb: b.status, tb, m: b.headers.get("x-method") }));
    })().catch(e => { console.error(e); process.exit(1); });
  ]], { url })
  test.eq(r.status, 0, r.stderr)
  local got = json.decode(r.stdout)
  test.eq(got.sa, 200)
  test.eq(got.ta, "GET /a ")
  test.eq(got.tb, 'POST /b {"n":1}')
  test.eq(got.m, "POST")
  test.eq(#peers, 3)
  test.eq(peers[1], peers[2]) -- Node's fetch keeps the connection alive (a POST it sends on a fresh one)
  srv:close()
end)

node_test("Node fetch: a streamed response and a large upload", function()
  local srv = echo_server()
  local url = "http://127.0.0.1:" .. srv.port
  local r = node([[
    const base = process.argv[1];
    (async () => {
      const s = await fetch(base + "/stream");
      const buf = Buffer.from(await s.arrayBuffer());
      const big = Buffer.alloc(2 * 1024 * 1024, 7);
      const u = await fetch(base + "/raw", { method: "POST", body: big });
      const back = Buffer.from(await u.arrayBuffer());
      console.log(JSON.stringify({ n: buf.length, first: buf.subarray(0, 4).toString(), same: back.equals(big) }));
    })().catch(e => { console.error(e); process.exit(1); });
  ]], { url })
  test.eq(r.status, 0, r.stderr)
  local got = json.decode(r.stdout)
  test.eq(got.n, 50 * 1004)
  test.eq(got.first, "0001")
  test.eq(got.same, true)
  srv:close()
end)
