---@meta redis
-- moonwire `redis`: a Redis client (RESP2/3, auto-pipelining of concurrent tasks, pipelines,
-- transactions, a pool for blocking commands, pub/sub with resubscribe). docs/redis.md.
-- Every command is also a method (`r:set(k, v)`, `r:hgetall(k)`, `r:client_list()` for
-- CLIENT LIST); error replies raise error objects whose `code` is Redis' error code.
-- Timeouts are milliseconds.

---@class redis
---The null value inside lists and maps (nulls at the top level are `nil`); the same value as `json.null`.
---@field null lightuserdata
redis = {}

---@class redis.TlsOptions
---@field verify? boolean verify the server's chain and name (default true)
---@field ca_file? string
---@field cert_file? string
---@field key_file? string
---@field server_name? string

---@class redis.ReconnectOptions
---@field attempts? integer reconnect attempts after the first failure (default 10)
---@field delay? number first delay in ms, doubled each attempt (default 50)
---@field max_delay? number cap of the delay in ms (default 2000)

---@class redis.Options
---@field url? string `redis://[[user]:pass@]host[:port][/db]` or `rediss://...`
---@field host? string default "127.0.0.1"
---@field port? integer 1..65535, default 6379
---@field password? string
---@field username? string ACL user (needs password)
---@field db? integer default 0
---@field tls? boolean|redis.TlsOptions default false (true for rediss://)
---@field timeout? number default per-command timeout in ms (none by default; not for blocking commands)
---@field connect_timeout? number ms for connect + TLS + handshake (default 10000; 0 = none)
---@field resp? 2|3 force a protocol (default: RESP3 when the server has HELLO)
---@field client_name? string CLIENT SETNAME on every connection
---@field pool_size? integer idle connections kept for blocking commands and watch (default 4)
---@field reconnect? redis.ReconnectOptions|false
---@field nodelay? boolean TCP_NODELAY (default true)

---@class redis.CallOptions
---@field timeout? number ms

---A reply: string, integer, number, boolean, nil, a table (arrays, maps), or an error object inside lists.
---@alias redis.Reply string|integer|number|boolean|table|nil

---A list of replies (pipeline, transaction): `n` is the count; nulls are `redis.null`, error replies are error objects.
---@class redis.ReplyList: { [integer]: any }
---@field n integer

---@class redis.Stats
---@field connected boolean
---@field pending integer replies awaited on the shared connection
---@field commands integer commands sent on the shared connection
---@field pooled integer idle pooled connections
---@field protocol 2|3

---Connects and returns a client; raises on failure (ECONNREFUSED, WRONGPASS, ECERT, EINVAL, ...).
---@param url_or_options string|redis.Options
---@param options? redis.Options applied on top of a URL
---@return redis.Client
function redis.connect(url_or_options, options) end

---The options a URL stands for.
---@param url string
---@return redis.Options
function redis.parse_url(url) end

---A client. All tasks using it share one pipelined connection. Any other method name is a
---Redis command (`r:get(k)`, `r:zadd(k, score, member)`, `r:config_get(param)`).
---@class redis.Client
---@field [string] fun(self: redis.Client, ...: string|number): redis.Reply
local Client = {}

---Any command: `r:call("SET", "k", "v")`, or with options first: `r:call({timeout = 100}, "GET", "k")`.
---@param cmd_or_options string|redis.CallOptions
---@param ... string|number
---@return redis.Reply
function Client:call(cmd_or_options, ...) end

---@param key string
---@return string|nil
function Client:get(key) end

---@param key string
---@param value string|number
---@param ... string|number EX, PX, NX, XX, GET, ...
---@return string|nil
function Client:set(key, value, ...) end

---@param key string
---@return table<string, string>
function Client:hgetall(key) end

---@param channel string
---@param message string|number
---@return integer receivers
function Client:publish(channel, message) end

---A view whose commands all have this timeout (ms).
---@param ms number
---@return redis.Client
function Client:with_timeout(ms) end

---Sends the recorded commands in one batch; returns their replies (errors as values).
---@param fn fun(p: redis.Pipeline)
---@param options? redis.CallOptions
---@return redis.ReplyList
function Client:pipeline(fn, options) end

---MULTI, the recorded commands, EXEC: returns EXEC's replies; raises if a command was refused while queuing.
---@param fn fun(tx: redis.Pipeline)
---@param options? redis.CallOptions
---@return redis.ReplyList|nil
function Client:multi(fn, options) end

---WATCH keys on a dedicated connection, then fn(w); `w:multi` returns nil when a watched key changed.
---@generic R
---@param keys string|string[]
---@param fn fun(w: redis.Watched): R
---@return R
function Client:watch(keys, fn) end

---Subscribes (own connection) and waits for the confirmations.
---@param channel string
---@param ... string
---@return redis.Subscriber
function Client:subscribe(channel, ...) end

---@param pattern string
---@param ... string
---@return redis.Subscriber
function Client:psubscribe(pattern, ...) end

---SELECT, kept across reconnects.
---@param db integer
---@return string
function Client:select(db) end

---Closes the client.
---@return string "OK"
function Client:quit() end

---@return redis.Stats
function Client:stats() end

---Closes the shared and pooled connections and every subscriber; idempotent.
function Client:close() end

---@return boolean
function Client:is_closed() end

---Records commands for a pipeline or a transaction: any command name as a method.
---@class redis.Pipeline
---@field [string] fun(self: redis.Pipeline, ...: string|number): redis.Pipeline
local Pipeline = {}

---@param cmd string
---@param ... string|number
---@return redis.Pipeline
function Pipeline:call(cmd, ...) end

---Commands on the connection holding a WATCH.
---@class redis.Watched
---@field [string] fun(self: redis.Watched, ...: string|number): redis.Reply
local Watched = {}

---@param cmd string
---@param ... string|number
---@return redis.Reply
function Watched:call(cmd, ...) end

---Runs MULTI/EXEC on the watched connection; nil when a watched key changed.
---@param fn fun(tx: redis.Pipeline)
---@return redis.ReplyList|nil
function Watched:multi(fn) end

---@class redis.Message
---@field kind "message"|"pmessage"|"reconnected"
---@field channel? string
---@field message? string
---@field pattern? string pmessage: the pattern that matched
---@field channels? string[] reconnected: the restored channels
---@field patterns? string[] reconnected: the restored patterns

---@class redis.Subscriber
local Subscriber = {}

---The next event; nil + error object (code "ETIMEDOUT") on timeout, nil + error object (code "closed") once closed.
---@param timeout_ms? number
---@return redis.Message|nil
---@return table|nil err
function Subscriber:recv(timeout_ms) end

---@param channel string
---@param ... string
function Subscriber:subscribe(channel, ...) end

---@param pattern string
---@param ... string
function Subscriber:psubscribe(pattern, ...) end

---Without names: every channel.
---@param ... string
function Subscriber:unsubscribe(...) end

---Without names: every pattern.
---@param ... string
function Subscriber:punsubscribe(...) end

---@return string[]
function Subscriber:channels_list() end

---Closes its connection; idempotent.
function Subscriber:close() end

return redis
