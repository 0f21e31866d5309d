---@meta process
-- moonwire `process`: child processes that suspend only the calling task, this process's
-- environment, arguments, exit and signal handlers. docs/process.md.
-- Errors: `ENOENT`/`EACCES` (cannot run the program, missing cwd), `ETIMEDOUT` (the error has
-- `stdout`, `stderr`, `status`, `signal`), `EMSGSIZE` (more than `max_output`), `cancelled`,
-- `EINVAL` (bad arguments or options), `EPIPE`, `closed`, `busy`.

---@class process
---@field env process.Env the environment: `process.env.NAME`, `process.env.NAME = v|nil`, `pairs(process.env)`, `process.env()` (a copy)
---@field args string[] the script's arguments (`arg[1..n]`)
---@field script string? the script's name as given on the command line (`arg[0]`)
process = {}

---The environment as a table-like object. `EINVAL` for a bad name or value.
---@class process.Env
---@field [string] string?
---@overload fun(): table<string, string>

-- options: process.cpp:kOptions
---Options of `process.exec` and `process.spawn`.
---@class process.ExecOptions
---@field cwd? string working directory of the child (default: this process's)
---@field env? table<string, string|false> variables to set in the child (`false` removes one); the rest is inherited
---@field stdin? string written to the child's standard input, which is then closed (default: empty)
---@field timeout? number milliseconds; then SIGTERM to its process group (SIGKILL `kill_grace` ms later) and `ETIMEDOUT`
---@field kill_grace? number ms between SIGTERM and SIGKILL after a timeout (default 2000)
---@field max_output? integer bytes of stdout + stderr kept (default 64 MiB); more kills the child, `EMSGSIZE`

---What `exec` and `spawn` return (a non-zero exit is not an error).
---@class process.Result
---@field stdout string everything the child wrote on stdout
---@field stderr string everything it wrote on stderr
---@field status integer the exit code (128 + signal when killed by one)
---@field signal? string `"SIGTERM"`, ... when a signal ended it
---@field success boolean `status == 0`
---@field pid integer the child's process id

---Runs `cmd` through `/bin/sh -c` and waits for it (suspending only this task).
---@async
---@param cmd string
---@param opts? process.ExecOptions
---@return process.Result
function process.exec(cmd, opts) end

---Runs the program `cmd` (searched on PATH) with `args` as they are (no shell) and waits.
---`spawn(cmd, opts)` works too.
---@async
---@param cmd string
---@param args? string[]|process.ExecOptions
---@param opts? process.ExecOptions
---@return process.Result
function process.spawn(cmd, args, opts) end

-- options: process.start
---Options of `process.start`.
---@class process.StartOptions
---@field cwd? string
---@field env? table<string, string|false>
---@field stdout? "pipe"|"inherit"|"null" default `"pipe"` (read it from `child.stdout`)
---@field stderr? "pipe"|"inherit"|"null" default `"pipe"`

---Starts `cmd` (no shell) and returns at once with a child whose pipes stream.
---@param cmd string
---@param args? string[]|process.StartOptions
---@param opts? process.StartOptions
---@return process.Child
function process.start(cmd, args, opts) end

-- metatable: moonwire.process.child
---A running child (`process.start`).
---@class process.Child
---@field pid integer
---@field stdin process.ChildInput
---@field stdout process.ChildOutput
---@field stderr process.ChildOutput
local Child = {}

---`{status, signal, success, pid}` once it exited; `ETIMEDOUT` after `timeout_ms` (it keeps
---running); `busy` if another task waits already.
---@async
---@param timeout_ms? number
---@return process.Result
function Child:wait(timeout_ms) end

---Sends `signal` (default `"TERM"`; a name with or without `SIG`, or a number).
---@param signal? string|integer
---@return boolean sent `false` if it had exited
function Child:kill(signal) end

-- metatable: moonwire.process.stdin
---The child's standard input.
---@class process.ChildInput
local ChildInput = {}

---Returns `#data` once the child took all of it; `EPIPE` if it closed its input, `closed`
---after `close()`.
---@async
---@param data string
---@return integer
function ChildInput:write(data) end

---End of input for the child.
function ChildInput:close() end

-- metatable: moonwire.process.stream
---The child's stdout or stderr (with `"pipe"`).
---@class process.ChildOutput
local ChildOutput = {}

---Lua's read formats (`"l"`, `"L"`, `"n"`, `"a"`, counts); `nil` at the end.
---@async
---@param ... string|integer
---@return string|number|nil ...
function ChildOutput:read(...) end

---`read("l")`.
---@async
---@return string?
function ChildOutput:read_line() end

---`read("a")`.
---@async
---@return string
function ChildOutput:read_all() end

---An iterator over `read(...)`.
---@param ... string|integer
---@return fun(): string|number|nil
function ChildOutput:lines(...) end

---This process's id.
---@return integer
function process.pid() end

---This worker's number, 1..N under `moonwire --workers N`; nil outside worker mode (docs/workers.md).
---@return integer?
function process.worker_id() end

---N under `moonwire --workers N`, 0 outside worker mode.
---@return integer
function process.workers() end

---The parent's process id.
---@return integer
function process.ppid() end

---Ends the process at once: `true`/`nil` → 0, `false` → 1, or an integer 0..255 (others
---`EINVAL`). Unreported task failures are reported and stdout/stderr flushed first.
---@param code? boolean|integer
function process.exit(code) end

---@alias process.Signal "SIGHUP"|"SIGINT"|"SIGQUIT"|"SIGTERM"|"SIGUSR1"|"SIGUSR2"|"SIGWINCH"|string

---Runs `fn(name)` as a task on each delivery of the signal; returns a function removing this
---handler. With `fn == nil`, removes every handler of `name` and returns how many. For
---SIGINT/SIGTERM the handlers run before the graceful shutdown; one returning `false` vetoes it.
---`EINVAL` for a signal that cannot be caught or a misspelled name.
---@param name process.Signal names with or without `SIG`, any case
---@param fn (async fun(name: string): boolean?)|nil
---@return (fun(): boolean)|integer
function process.on_signal(name, fn) end

return process
