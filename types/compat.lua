---@meta
-- The require-able compatibility layers (docs/compat.md) under their `compat.*` names: the same
-- APIs as documented elsewhere in types/ (the aliases below are read by tests/cli/types_test.lua).
-- alias: compat.xoron_websocket = websocket
-- alias: compat.ilovereact.network = lua.network
-- alias: compat.ilovereact.http = lua.http
-- alias: compat.ilovereact.socks5 = lua.socks5
-- alias: compat.ilovereact.json = json
-- alias: lua.json = json
-- HOOZi's layers behind the colon calls `net.http:get(...)`, `net.ws:connect(...)`,
-- `net.ws_server:listen(...)` (the module argument dropped):

---@class compat.hoozi_http
local hoozi_http = {}

---HOOZi's response (`callback(resp)`).
---@class compat.hoozi_http.Response
---@field status integer 0 for a transport failure
---@field body string
---@field ok boolean
---@field error? string the message, or `"HTTP <status>"`
---@field headers table<string, string>
---@field url string
---@field file? string

---HOOZi's options (plus every `net.http` option; `timeout` in seconds, default 10).
---@class compat.hoozi_http.Options: http.RequestOptions
---@field content_type? string sets `Content-Type`

---`get(url, callback[, timeout_s])` or `get(url, options, callback)`; returns at once.
---@param url string
---@param callback_or_opts (fun(resp: compat.hoozi_http.Response))|compat.hoozi_http.Options
---@param timeout_or_callback? number|fun(resp: compat.hoozi_http.Response)
function hoozi_http.get(url, callback_or_opts, timeout_or_callback) end

---As `get`.
---@param url string
---@param callback_or_opts (fun(resp: compat.hoozi_http.Response))|compat.hoozi_http.Options
---@param timeout_or_callback? number|fun(resp: compat.hoozi_http.Response)
function hoozi_http.head(url, callback_or_opts, timeout_or_callback) end

---As `get`.
---@param url string
---@param callback_or_opts (fun(resp: compat.hoozi_http.Response))|compat.hoozi_http.Options
---@param timeout_or_callback? number|fun(resp: compat.hoozi_http.Response)
function hoozi_http.delete(url, callback_or_opts, timeout_or_callback) end

---As `get`.
---@param url string
---@param callback_or_opts (fun(resp: compat.hoozi_http.Response))|compat.hoozi_http.Options
---@param timeout_or_callback? number|fun(resp: compat.hoozi_http.Response)
function hoozi_http.options(url, callback_or_opts, timeout_or_callback) end

---`post(url, body, content_type, callback[, timeout_s])` or `post(url, options, callback)`.
---@param url string
---@param body string|compat.hoozi_http.Options
---@param content_type string|fun(resp: compat.hoozi_http.Response)
---@param callback? fun(resp: compat.hoozi_http.Response)
---@param timeout_s? number
function hoozi_http.post(url, body, content_type, callback, timeout_s) end

---As `post`.
---@param url string
---@param body string|compat.hoozi_http.Options
---@param content_type string|fun(resp: compat.hoozi_http.Response)
---@param callback? fun(resp: compat.hoozi_http.Response)
---@param timeout_s? number
function hoozi_http.put(url, body, content_type, callback, timeout_s) end

---As `post`.
---@param url string
---@param body string|compat.hoozi_http.Options
---@param content_type string|fun(resp: compat.hoozi_http.Response)
---@param callback? fun(resp: compat.hoozi_http.Response)
---@param timeout_s? number
function hoozi_http.patch(url, body, content_type, callback, timeout_s) end

---Any method token.
---@param url string
---@param method string
---@param options? compat.hoozi_http.Options
---@param callback fun(resp: compat.hoozi_http.Response)
function hoozi_http.request(url, method, options, callback) end

---@class compat.hoozi_ws
local hoozi_ws = {}

---Connects (10 s timeout) and returns the id; the callbacks run as tasks.
---@param url string
---@param callbacks net.ws.HooziCallbacks
---@return integer id
function hoozi_ws.connect(url, callbacks) end

---`false` before open, after close, for an unknown id.
---@param id integer
---@param msg string
---@return boolean
function hoozi_ws.send(id, msg) end

---The closing handshake, then `on_close`.
---@param id integer
function hoozi_ws.close(id) end

---@param id integer
---@return boolean
function hoozi_ws.is_open(id) end

---@class compat.hoozi_ws_server
local hoozi_ws_server = {}

---As `net.ws_server:listen(port, callbacks)`.
---@param port integer
---@param callbacks net.ws_server.Callbacks
---@return table? server
---@return string? err
function hoozi_ws_server.listen(port, callbacks) end
