-- net.http against a real nginx (HTTP and HTTPS with a CA made at test time): methods, large and
-- binary bodies, gzip + chunked, redirects (including a loop), keep-alive reuse observed in
-- nginx's access log ($connection / $connection_requests), certificate checks, 200 concurrent
-- tasks, save_to_file. nginx runs in the foreground on free 127.0.0.1 ports and is stopped.
local test = require("test")
local proc = dofile("tests/support/proc.lua")

-- Peers also stop when this test process dies (a filtered run never reaches "cleanup").
local MYPID = io.open("/proc/self/stat"):read("l"):match("^%d+")
local function owned(cmd)
  return "sh -c " .. proc.quote(cmd .. " & p=$!; while kill -0 " .. MYPID ..
    " 2>/dev/null && kill -0 $p 2>/dev/null; do sleep 0.2; done; kill $p 2>/dev/null; wait")
end

local NGINX = "/usr/sbin/nginx"
if not io.open(NGINX) then
  proc.peer_test(test, false, "nginx")("nginx interop", function() end)
  return
end

local DIR = proc.tmpdir()
local CERTS = proc.make_certs(DIR)
local PORT, TLS_PORT = proc.free_port(), proc.free_port()
os.execute("mkdir -p " .. DIR .. "/www " .. DIR .. "/tmp")

-- Content: a text file (gzip'd by nginx), a binary file (never compressed), a small file.
local text = {}
for i = 1, 20000 do text[#text + 1] = ("line %05d of the moonwire nginx test\n"):format(i) end
text = table.concat(text)
proc.write_file(DIR .. "/www/big.txt", text)
os.execute("head -c 3145728 /dev/urandom > " .. DIR .. "/www/big.bin")
local BIN = proc.read_file(DIR .. "/www/big.bin")
proc.write_file(DIR .. "/www/small.txt", "small\n")

local is_root = io.popen("id -u"):read("l") == "0"
proc.write_file(DIR .. "/nginx.conf", ([[
%s
worker_processes 1;
events { worker_connections 1024; }
http {
  log_format conn '$connection $connection_requests $request_method $request_uri $status';
  access_log DIR/access.log conn;
  client_body_temp_path DIR/tmp/body;
  proxy_temp_path DIR/tmp/proxy;
  fastcgi_temp_path DIR/tmp/fastcgi;
  uwsgi_temp_path DIR/tmp/uwsgi;
  scgi_temp_path DIR/tmp/scgi;
  types { text/plain txt; application/octet-stream bin; }
  keepalive_requests 10000;
  keepalive_timeout 60s;
  gzip on;
  gzip_types text/plain;
  gzip_min_length 64;
  server {
    listen 127.0.0.1:PORT;
    listen 127.0.0.1:TLS_PORT ssl;
    ssl_certificate CERT;
    ssl_certificate_key KEY;
    root DIR/www;
    client_max_body_size 16m;
    location = /method { return 200 "$request_method"; }
    location = /upload { return 200 "$content_length $http_content_type"; }
    location = /teapot { return 418 "short and stout"; }
    location = /moved { return 301 /small.txt; }
    location = /other-host { return 302 http://localhost:PORT/small.txt; }
    location = /loop { return 302 /loop; }
    location = /see-other { return 303 /method; }
  }
}
]]):format(is_root and "user root;" or ""):gsub("DIR", DIR):gsub("TLS_PORT", TLS_PORT):gsub("PORT", PORT)
  :gsub("CERT", CERTS.cert):gsub("KEY", CERTS.key))

local nginx = proc.start(owned(NGINX .. " -e " .. DIR .. "/error.log -p " .. DIR .. " -c " .. DIR ..
  "/nginx.conf -g 'daemon off; pid " .. DIR .. "/nginx.pid; error_log " .. DIR .. "/error.log;'"))
proc.wait_port(PORT)
proc.wait_port(TLS_PORT)

local URL = "http://127.0.0.1:" .. PORT
local TLS_URL = "https://localhost:" .. TLS_PORT
local CA = { ca_file = CERTS.ca }

local function access_log()
  local lines = {}
  for l in (proc.read_file(DIR .. "/access.log") or ""):gmatch("[^\n]+") do
    local conn, n, method, uri, status = l:match("^(%d+) (%d+) (%S+) (%S+) (%d+)$")
    lines[#lines + 1] = { conn = conn, n = tonumber(n), method = method, uri = uri, status = tonumber(status) }
  end
  return lines
end

test("methods", function()
  for _, m in ipairs({ "get", "post", "put", "patch", "delete", "options" }) do
    local with_body = m == "post" or m == "put" or m == "patch"
    local r = with_body and http[m](URL .. "/method", "x") or http[m](URL .. "/method")
    test.eq(r.status, 200, m)
    test.eq(r.body, m:upper(), m)
  end
  local h = http.head(URL .. "/big.bin")
  test.eq(h.status, 200)
  test.eq(h.body, "")
  test.eq(tonumber(h.headers["content-length"]), #BIN)
  test.eq(http.request({ url = URL .. "/method", method = "PROPFIND" }).body, "PROPFIND")
end)

test("non-2xx statuses are responses", function()
  local r = http.get(URL .. "/teapot")
  test.eq(r.status, 418)
  test.eq(r.ok, false)
  test.eq(r.body, "short and stout")
  test.eq(http.get(URL .. "/missing").status, 404)
end)

test("large binary download and upload", function()
  local r = http.get(URL .. "/big.bin")
  test.eq(r.headers["content-type"], "application/octet-stream")
  test.eq(#r.body, #BIN)
  test.eq(r.body == BIN, true)
  local up = http.post(URL .. "/upload", BIN, { headers = { ["Content-Type"] = "application/x-blob" } })
  test.eq(up.body, #BIN .. " application/x-blob")
end)

test("gzip + chunked from nginx is decoded; decompress = false keeps it", function()
  local r = http.get(URL .. "/big.txt")
  test.eq(r.headers["content-encoding"], "gzip")
  test.eq(r.headers["transfer-encoding"], "chunked")
  test.eq(#r.body, #text)
  test.eq(r.body == text, true)
  local raw = http.get(URL .. "/big.txt", { decompress = false, headers = { ["Accept-Encoding"] = "gzip" } })
  test.eq(raw.body:sub(1, 2), "\31\139")
  assert(#raw.body < #text / 3)
  local plain = http.get(URL .. "/big.txt", { decompress = false })
  test.eq(plain.headers["content-encoding"], nil)
  test.eq(plain.body == text, true)
end)

test("redirects: 301, 303, another host, a loop", function()
  local r = http.get(URL .. "/moved")
  test.eq(r.status, 200)
  test.eq(r.body, "small\n")
  test.eq(r.url, URL .. "/small.txt")
  test.eq(http.post(URL .. "/see-other", "x").body, "GET")
  local o = http.get(URL .. "/other-host")
  test.eq(o.url, "http://localhost:" .. PORT .. "/small.txt")
  test.raises(function() http.get(URL .. "/loop") end, "ETOOMANYREDIRECTS")
  test.eq(http.get(URL .. "/loop", { redirects = 0 }).status, 302)
end)

test("keep-alive: sequential requests reuse one nginx connection", function()
  http.pool({ close_idle = true })
  for i = 1, 5 do http.get(URL .. "/small.txt?ka=" .. i) end
  -- nginx logs a request after its response is sent: wait until all five lines are written.
  local mine
  for _ = 1, 100 do
    mine = {}
    for _, l in ipairs(access_log()) do
      if l.uri:match("^/small%.txt%?ka=%d$") then mine[#mine + 1] = l end
    end
    if #mine == 5 then break end
    time.sleep(0.02)
  end
  test.eq(#mine, 5, "logged requests")
  for i = 2, 5 do
    test.eq(mine[i].uri, "/small.txt?ka=" .. i)
    test.eq(mine[i].conn, mine[1].conn, "same connection")
    test.eq(mine[i].n, mine[1].n + i - 1, "connection_requests")
  end
end)

test("HTTPS with the test CA; bad certificates are refused", function()
  local r = http.get(TLS_URL .. "/small.txt", { tls = CA })
  test.eq(r.body, "small\n")
  test.eq(http.get("https://127.0.0.1:" .. TLS_PORT .. "/small.txt", { tls = CA }).status, 200)
  test.raises(function() http.get(TLS_URL .. "/small.txt") end, "ECERT") -- not in the system store
  test.raises(function()
    http.get(TLS_URL .. "/small.txt", { tls = { ca_file = CERTS.ca, server_name = "wrong.example" } })
  end, "ECERT")
  test.eq(http.get(TLS_URL .. "/small.txt", { tls = { verify = false } }).status, 200)
  -- TLS keep-alive and gzip
  local g = http.get(TLS_URL .. "/big.txt", { tls = CA })
  test.eq(g.body == text, true)
  -- plain HTTP to the TLS port: nginx answers 400 (no hang)
  test.eq(http.get("http://127.0.0.1:" .. TLS_PORT .. "/", { timeout = 5000 }).status, 400)
  -- TLS to the plain port is a TLS error
  test.raises(function() http.get("https://127.0.0.1:" .. PORT .. "/", { tls = CA, timeout = 5000 }) end, "ETLS")
end)

test("200 concurrent tasks against nginx", function()
  local tasks = {}
  local in_flight, peak = 0, 0
  for i = 1, 200 do
    tasks[i] = task.spawn(function()
      in_flight = in_flight + 1
      peak = math.max(peak, in_flight)
      local r = http.get((i % 2 == 0 and URL or TLS_URL) .. "/small.txt?i=" .. i, { tls = CA })
      in_flight = in_flight - 1
      return r.status, r.body
    end)
  end
  -- A request that blocked the loop would finish inside its own spawn: at most one in flight.
  assert(peak >= 100, "only " .. peak .. " requests were in flight at the same time")
  for i = 1, 200 do
    local status, body = tasks[i]:join(30)
    test.eq(status, 200)
    test.eq(body, "small\n")
  end
end)

test("save_to_file streams a download to disk", function()
  local path = DIR .. "/download.bin"
  local seen = 0
  local r = http.get(URL .. "/big.bin", { save_to_file = path, on_progress = function(n, total)
    seen = n
    assert(total == #BIN)
  end })
  test.eq(r.body, nil)
  test.eq(r.file, path)
  test.eq(seen, #BIN)
  test.eq(proc.read_file(path) == BIN, true)
end)

test("cleanup", function()
  http.pool({ close_idle = true })
  nginx:stop()
  proc.cleanup()
end)
