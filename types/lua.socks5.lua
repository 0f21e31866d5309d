---@meta lua.socks5
-- iLoveReact's `lua.socks5` (also `compat.ilovereact.socks5`). docs/compat.md.

---@class lua.socks5
local socks5 = {}

---A `net.tcp` connection through a SOCKS5 proxy (target names resolved by the proxy, 15 s
---timeout), or `nil, message`.
---@async
---@param proxyHost string
---@param proxyPort integer
---@param targetHost string
---@param targetPort integer
---@param user? string
---@param pass? string
---@return net.tcp.Conn?
---@return string? message
function socks5.connect(proxyHost, proxyPort, targetHost, targetPort, user, pass) end

return socks5
