---@meta http
-- The global `http` (and `require("http")`): the same table as `net.http` (types/net.http.lua).

---@type net.http
http = net.http

return http
