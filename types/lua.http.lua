---@meta lua.http
-- iLoveReact's `lua.http` (also `compat.ilovereact.http`): requests by id, polled for results.
-- docs/compat.md.

---@class lua.http
local http_poll = {}

---@class lua.http.InitOptions
---@field max_workers? integer requests in flight at once, 1..1024 (default 4)

---@class lua.http.Request
---@field url string
---@field method? "GET"|"POST"|"PUT"|"DELETE"|"PATCH"|"HEAD"|"OPTIONS"
---@field headers? table<string, string>
---@field body? string
---@field proxy? string `http://`, `socks5://`, `socks5h://` (default: the environment)

---@class lua.http.Result
---@field id any
---@field status integer 0 on failure
---@field headers table<string, string>
---@field body string
---@field error? string

---@param opts? lua.http.InitOptions
function http_poll.init(opts) end

---Queues a request (15 s timeout, redirects followed).
---@param id any
---@param req lua.http.Request
function http_poll.request(id, req) end

---The finished requests since the last poll; never waits.
---@return lua.http.Result[]
function http_poll.poll() end

---How many requests run and wait.
---@return integer running
---@return integer queued
function http_poll.pending() end

return http_poll
