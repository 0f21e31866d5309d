-- iLoveReact's socks5.lua (seed 000), require("lua.socks5"): connect(proxyHost, proxyPort,
-- targetHost, targetPort[, user, pass]) → a net.tcp connection, or nil + error string (as the
-- seed documents; net.socks5.connect itself raises). The target name is resolved by the proxy
-- (.onion), the whole setup is bounded by the seed's 15 s.
local callbacks = require("compat.callbacks")
local socks5 = require("net.socks5")

local M = {}
local TIMEOUT_MS = 15000

function M.connect(proxyHost, proxyPort, targetHost, targetPort, user, pass)
  if type(proxyHost) ~= "string" then callbacks.type_error("socks5.connect", 1, "string", proxyHost) end
  callbacks.check_port("socks5.connect", 2, proxyPort)
  if type(targetHost) ~= "string" then callbacks.type_error("socks5.connect", 3, "string", targetHost) end
  callbacks.check_port("socks5.connect", 4, targetPort)
  if user ~= nil and type(user) ~= "string" then callbacks.type_error("socks5.connect", 5, "string", user) end
  if pass ~= nil and type(pass) ~= "string" then callbacks.type_error("socks5.connect", 6, "string", pass) end
  local ok, conn = pcall(socks5.connect, proxyHost, proxyPort, targetHost, targetPort, user, pass,
    { timeout = TIMEOUT_MS })
  if not ok then
    if callbacks.is_cancel(conn) then error(conn, 0) end
    return nil, tostring(conn)
  end
  return conn
end

return M
