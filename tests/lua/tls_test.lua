local test = require("test")
local proc = dofile("tests/support/proc.lua")

local certs, dir

local function setup()
  if certs then return certs end
  dir = proc.tmpdir()
  certs = proc.make_certs(dir)
  return certs
end

-- openssl s_server echoing lines back (-rev reverses each line), on a free port.
local function start_s_server(extra)
  local c = setup()
  local port = proc.free_port()
  local h = proc.start(("openssl s_server -accept 127.0.0.1:%d -cert %s -key %s -rev -quiet %s")
    :format(port, proc.quote(c.cert), proc.quote(c.key), extra or ""))
  proc.wait_port(port)
  return port, h
end

test("TLS client verifies openssl s_server with a CA made at test time", function()
  local port, h = start_s_server()
  local conn = net.tcp.connect("localhost", port, { tls = { ca_file = certs.ca }, timeout = 5000 })
  test.eq(conn:is_tls(), true)
  conn:write("hello tls\n")
  test.eq(conn:read_line(), "slt olleh")
  conn:close()
  h:stop()
end)

test("TLS by IP address verifies the IP SAN", function()
  local port, h = start_s_server()
  local conn = net.tcp.connect("127.0.0.1", port, { tls = { ca_file = certs.ca } })
  conn:write("ip\n")
  test.eq(conn:read_line(), "pi")
  conn:close()
  h:stop()
end)

test("an untrusted certificate is refused by default", function()
  local port, h = start_s_server()
  local ok, err = pcall(net.tcp.connect, "localhost", port, { tls = true, timeout = 5000 })
  assert(not ok)
  test.eq(err.code, "ECERT")
  assert(err:find("certificate"), tostring(err))
  h:stop()
end)

test("a host name mismatch is refused; server_name overrides it", function()
  local port, h = start_s_server()
  local ok, err = pcall(net.tcp.connect, "127.0.0.1", port,
    { tls = { ca_file = certs.ca, server_name = "wrong.example" } })
  assert(not ok)
  test.eq(err.code, "ECERT")
  -- connecting by IP, verifying the name the certificate carries
  local conn = net.tcp.connect("127.0.0.1", port, { tls = { ca_file = certs.ca, server_name = "localhost" } })
  conn:write("sni\n")
  test.eq(conn:read_line(), "ins")
  conn:close()
  h:stop()
end)

test("verify = false accepts an untrusted certificate", function()
  local port, h = start_s_server()
  local conn = net.tcp.connect("localhost", port, { tls = { verify = false } })
  conn:write("insecure\n")
  test.eq(conn:read_line(), "erucesni")
  conn:close()
  h:stop()
end)

test("TLS to a plain TCP server fails cleanly", function()
  local s = net.tcp.listen(0)
  task.spawn(function() local c = s:accept(); c:write("NOT TLS AT ALL\r\n\r\n"); c:close() end)
  local ok, err = pcall(net.tcp.connect, "127.0.0.1", s.port, { tls = true, timeout = 3000 })
  assert(not ok)
  test.eq(err.code, "ETLS")
  s:close()
end)

test("bad TLS options are clear errors", function()
  local ok, err = pcall(net.tcp.connect, "127.0.0.1", 1, { tls = { ca_file = "/nonexistent/ca.pem" } })
  test.eq(err.code, "ETLS")
  assert(err:find("ca_file"))
  ok, err = pcall(net.tcp.listen, 0, { tls = { cert_file = "/nonexistent.pem" } })
  test.eq(err.code, "ETLS")
  ok, err = pcall(net.tcp.listen, 0, { tls = true })
  assert(not ok and err:find("cert_file"), tostring(err))
end)

test("moonwire TLS server with moonwire and openssl clients", function()
  local c = setup()
  local server = net.tcp.listen(0, { tls = { cert_file = c.cert, key_file = c.key } })
  local served = task.spawn(function()
    for _ = 1, 2 do
      local conn = server:accept()
      test.eq(conn:is_tls(), true)
      local line = conn:read_line()
      conn:write("echo:" .. line .. "\n")
      conn:close()
    end
  end)
  local conn = net.tcp.connect("localhost", server.port, { tls = { ca_file = c.ca } })
  conn:write("from moonwire\n")
  test.eq(conn:read_line(), "echo:from moonwire")
  conn:close()
  -- openssl s_client as a real peer (in the background: io.popen would block the event loop)
  local client = proc.start(("sh -c %s"):format(proc.quote(
    ("printf 'from openssl\\n' | openssl s_client -connect 127.0.0.1:%d -CAfile %s -quiet -ign_eof")
      :format(server.port, c.ca))))
  served:join()
  local reply
  for _ = 1, 200 do
    reply = client:output()
    if reply:find("echo:from openssl") then break end
    task.sleep(0.02)
  end
  assert(reply:find("echo:from openssl"), reply)
  client:stop()
  served:join()
  server:close()
end)

test("a TLS client that never handshakes does not block accept", function()
  local c = setup()
  local server = net.tcp.listen(0, { tls = { cert_file = c.cert, key_file = c.key }, handshake_timeout = 300 })
  local silent = net.tcp.connect("127.0.0.1", server.port) -- plain TCP, says nothing
  local t = task.spawn(function() local conn = server:accept(); conn:write("hi\n"); conn:close() end)
  local good = net.tcp.connect("localhost", server.port, { tls = { ca_file = c.ca } })
  test.eq(good:read_line(), "hi")
  t:join()
  -- the silent client is dropped after the handshake timeout
  test.eq(silent:read(), nil)
  silent:close()
  server:close()
end)

test("starttls upgrades a plain connection (client and server side)", function()
  local c = setup()
  local server = net.tcp.listen(0)
  local t = task.spawn(function()
    local conn = server:accept()
    test.eq(conn:read_line(), "STARTTLS")
    conn:write("GO\n")
    conn:starttls({ server = true, cert_file = c.cert, key_file = c.key })
    test.eq(conn:is_tls(), true)
    conn:write("secret:" .. conn:read_line() .. "\n")
    conn:close()
  end)
  local conn = net.tcp.connect("localhost", server.port)
  conn:write("STARTTLS\n")
  test.eq(conn:read_line(), "GO")
  conn:starttls({ ca_file = c.ca })
  test.raises(function() conn:starttls({ ca_file = c.ca }) end, "already")
  conn:write("payload\n")
  test.eq(conn:read_line(), "secret:payload")
  conn:close()
  t:join()
  server:close()
end)

test("large transfers over TLS", function()
  local port, h = start_s_server()
  local conn = net.tcp.connect("localhost", port, { tls = { ca_file = certs.ca } })
  local line = string.rep("abcdefghij", 1500) -- s_server -rev handles lines up to 16 KB
  conn:write(line .. "\n")
  test.eq(conn:read_line(), line:reverse())
  conn:close()
  h:stop()
end)

test("cleanup", function() proc.cleanup() end)
