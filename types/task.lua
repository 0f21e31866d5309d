---@meta task
-- moonwire `task`: tasks (Lua threads run by the event loop) and channels. docs/task.md
-- Errors are error objects with a `code` (docs/errors.md): "cancelled", "ETIMEDOUT", "EDEADLK",
-- "closed", "not_yieldable", "EINVAL".

---@class task
task = {}

---@alias task.Status "running"|"suspended"|"done"|"failed"|"cancelled"

-- metatable: moonwire.task
---A task: `task.spawn`'s result.
---@class task.Task
---@field status task.Status `"running"`, `"suspended"` (waiting or ready), `"done"`, `"failed"`, `"cancelled"`
---@field id integer small unique integer
local Task = {}

---Waits for the task and returns its function's results; re-raises its error if it failed.
---Raises `cancelled` for a cancelled task, `ETIMEDOUT` when `timeout_seconds` expires (the task
---keeps running), `EDEADLK` when a task joins itself.
---@param timeout_seconds? number 0 or math.huge: no timeout
---@return any ...
function Task:join(timeout_seconds) end

---Requests cancellation: a waiting task gets a `cancelled` error from its call, a running or
---ready one at its next suspension.
---@return boolean requested `false` if the task had already finished
function Task:cancel() end

-- metatable: moonwire.channel
---A channel between tasks (`task.channel`).
---@class task.Channel
---@operator len: integer
local Channel = {}

---Queues `value` (`nil` too); waits while the channel is full (always, for capacity 0) until a
---receiver takes it. Raises `closed` on a closed channel, `ETIMEDOUT` on timeout.
---@param value any
---@param timeout_s? number
---@return true
function Channel:send(value, timeout_s) end

---Returns `value, true`, or `nil, false` once the channel is closed and empty. Raises
---`ETIMEDOUT` on timeout.
---@param timeout_s? number
---@return any value
---@return boolean ok
function Channel:recv(timeout_s) end

---Never waits: `value, true` when a value is queued (or a sender is blocked), else `nil, false`.
---@return any value
---@return boolean ok
function Channel:try_recv() end

---Closes the channel: waiting receivers get `nil, false`; queued values can still be received.
function Channel:close() end

---The number of queued values (as `#ch`).
---@return integer
function Channel:len() end

---@return boolean
function Channel:is_closed() end

---Creates a task running `fn(...)` and runs it at once until its first suspension.
---@param fn async fun(...): ...
---@param ... any arguments for `fn`
---@return task.Task
function task.spawn(fn, ...) end

---Suspends the calling task (only it). `0` or negative gives the other tasks a turn;
---`math.huge` sleeps until cancelled; NaN is `EINVAL`.
---@async
---@param seconds number
function task.sleep(seconds) end

---Lets every other ready task run once, then continues.
---@async
function task.yield() end

---The running task.
---@return task.Task?
function task.current() end

---A channel; `capacity` (default 0: unbuffered) values may wait in it.
---@param capacity? integer
---@return task.Channel
function task.channel(capacity) end

---Same as `t:join([timeout])`.
---@async
---@param t task.Task
---@param timeout? number
---@return any ...
function task.join(t, timeout) end

---Same as `t:cancel()`.
---@param t task.Task
---@return boolean
function task.cancel(t) end

return task
