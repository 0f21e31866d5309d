---@meta fs
-- moonwire `fs` (CopperMoon's): files and directories, every disk call on a worker pool (only
-- the calling task waits). docs/fs.md. Errors are error objects whose `code` is the errno name:
-- `ENOENT`, `EISDIR`, `ENOTDIR`, `EEXIST`, `ENOTEMPTY`, `ELOOP`, `EACCES`, `EPERM`, `EROFS`,
-- `ENOSPC`, `EXDEV`, `EINVAL` (empty path, NUL in a path), `EBADF`, `closed`, `busy`.

---@class fs
fs = {}

---`fs.stat`'s result.
---@class fs.Stat
---@field size integer bytes
---@field mode integer the full `st_mode` (type and permission bits)
---@field permissions string the nine permission bits, `"rwxr-xr-x"`
---@field is_file boolean
---@field is_dir boolean
---@field is_symlink boolean whether the path itself is a link
---@field mtime number seconds since the epoch
---@field atime number
---@field ctime number

---The whole file as a string (binary-safe).
---@async
---@param path string
---@return string
function fs.read(path) end

---The whole file as a Buffer, its cursor at 1.
---@async
---@param path string
---@return buffer.Buffer
function fs.read_bytes(path) end

---Creates or truncates the file (mode 0666 less the umask) and writes `data`.
---@async
---@param path string
---@param data string|number
---@return true
function fs.write(path, data) end

---As `write`, `data` a string or a Buffer.
---@async
---@param path string
---@param data string|buffer.Buffer
---@return true
function fs.write_bytes(path, data) end

---Appends `data`, creating the file if needed.
---@async
---@param path string
---@param data string
---@return true
function fs.append(path, data) end

---`true` if the path exists (symlinks followed); never raises on a missing path.
---@async
---@param path string
---@return boolean
function fs.exists(path) end

---`true` for a regular file (symlinks followed).
---@async
---@param path string
---@return boolean
function fs.is_file(path) end

---`true` for a directory (symlinks followed).
---@async
---@param path string
---@return boolean
function fs.is_dir(path) end

---`true` if the path itself is a symbolic link.
---@async
---@param path string
---@return boolean
function fs.is_symlink(path) end

---The size in bytes (symlinks followed).
---@async
---@param path string
---@return integer
function fs.size(path) end

---File information (symlinks followed, except `is_symlink`).
---@async
---@param path string
---@return fs.Stat
function fs.stat(path) end

---Removes a file or a symlink (a directory: `EISDIR`).
---@async
---@param path string
---@return true
function fs.remove(path) end

---Creates one directory (its parent must exist; `EEXIST` if it exists).
---@async
---@param path string
---@return true
function fs.mkdir(path) end

---Creates the directory and any missing parents; an existing directory is fine.
---@async
---@param path string
---@return true
function fs.mkdir_all(path) end

---Removes an empty directory (`ENOTEMPTY` otherwise).
---@async
---@param path string
---@return true
function fs.rmdir(path) end

---Removes a directory and everything in it (symlinks inside removed, not followed).
---@async
---@param path string
---@return true
function fs.rmdir_all(path) end

---The names in the directory (no `.`/`..`), sorted bytewise.
---@async
---@param path string
---@return string[]
function fs.readdir(path) end

---Renames (replacing `to` if it is a file).
---@async
---@param from string
---@param to string
---@return true
function fs.rename(from, to) end

---As `rename`; across file systems it copies (recursively) then removes `from`.
---@async
---@param from string
---@param to string
---@return true
function fs.move(from, to) end

---Copies a file's contents; returns the number of bytes copied.
---@async
---@param from string
---@param to string
---@return integer
function fs.copy(from, to) end

---`path.join` under CopperMoon's name: `fs.join("a", "b", "../c")` → `"a/c"`.
---@param ... string
---@return string
function fs.join(...) end

---`path.basename` under CopperMoon's name.
---@param path string
---@param suffix? string removed from the end when present
---@return string
function fs.basename(path, suffix) end

---`path.dirname` under CopperMoon's name: `"/x/y.txt"` → `"/x"`, `"y"` → `"."`.
---@param path string
---@return string
function fs.dirname(path) end

---The extension without its dot, or nil when there is none: `"a.tar.gz"` → `"gz"`, `"Makefile"` → nil.
---@param path string
---@return string?
function fs.ext(path) end

---Copies a directory tree (symlinks copied as links, existing files overwritten).
---@async
---@param from string
---@param to string
---@return true
function fs.copy_dir(from, to) end

---Creates an empty file if missing, else sets its access and modification times to now.
---@async
---@param path string
---@return true
function fs.touch(path) end

---The paths matching a shell pattern (`*`, `?`, `[...]` in any component; no `**`), sorted.
---@async
---@param pattern string
---@return string[]
function fs.glob(pattern) end

---The absolute path, resolved lexically (nothing read from the disk).
---@param path string
---@return string
function fs.abs(path) end

---The absolute path with every symlink, `.` and `..` resolved on the disk; the path must exist.
---@async
---@param path string
---@return string
function fs.realpath(path) end

---The current working directory.
---@return string
function fs.cwd() end

---`$TMPDIR` if set and not empty, else `"/tmp"`.
---@return string
function fs.temp_dir() end

---@alias fs.OpenMode "r"|"w"|"a"|"r+"|"w+"|"a+"|"rb"|"wb"|"ab"|"r+b"|"w+b"|"a+b"

---Opens a file for streaming; every system call on it runs on the worker pool.
---`EISDIR` for a directory; `EINVAL` for a bad mode.
---@async
---@param path string
---@param mode? fs.OpenMode default `"r"`
---@return fs.File
function fs.open(path, mode) end

-- metatable: moonwire.fs.file
---A file opened by `fs.open` (closed when it leaves a `<close>` scope or is collected).
---@class fs.File
---@field path string the path given
---@field closed boolean
local File = {}

---Lua's formats: `"l"` (default), `"L"`, `"n"`, `"a"`, a byte count, `0`; `nil` at the end.
---`EBADF` if not open for reading, `busy` if another task is reading.
---@async
---@param ... string|integer
---@return string|number|nil ...
function File:read(...) end

---`read("l")`.
---@async
---@return string?
function File:read_line() end

---`read("a")`.
---@async
---@return string
function File:read_all() end

---An iterator over `f:read(...)` (the file stays open at the end).
---@param ... string|integer
---@return fun(): string|number|nil
function File:lines(...) end

---Writes strings, numbers or buffers; returns `f` once the kernel has all of it.
---@async
---@param ... string|number|buffer.Buffer
---@return fs.File
function File:write(...) end

---Moves the position: `whence` `"set"`, `"cur"` (default) or `"end"`, plus `offset` (default 0).
---@async
---@param whence? "set"|"cur"|"end"
---@param offset? integer
---@return integer position
function File:seek(whence, offset) end

---`fsync(2)`: returns `f` once the data is on the disk.
---@async
---@return fs.File
function File:sync() end

---Returns `f` (nothing is buffered on the writing side).
---@return fs.File
function File:flush() end

---Closes the file after the calls queued before it.
---@async
---@return true
function File:close() end

---`fs.watch` events.
---@class fs.WatchEvent
---@field type "created"|"modified"|"deleted"|"renamed"
---@field path string the entry inside the watched directory, or the watched path itself
---@field name? string the entry's name (absent for an event on the watched path itself)
---@field direction? "from"|"to" for `"renamed"` inside a directory
---@field cookie? integer pairs the two halves of a rename
---@field is_dir boolean whether the entry is a directory

-- options: fs.watch
---@class fs.WatchOptions
---@field recursive? boolean watch every subdirectory too, picking up new ones (default false)

---Watches a file or a directory (its entries; with `recursive`, its whole tree) with inotify.
---With `fn`, each event runs `fn(event)` as its own task until `w:close()`; without it, use
---`w:next()` (`fs.watch(path, opts)` is allowed). `ENOENT`, `EACCES`, `ENOSPC` (watch limit), `EMFILE`.
---@param path string
---@param fn? async fun(event: fs.WatchEvent)
---@param opts? fs.WatchOptions
---@return fs.Watcher
function fs.watch(path, fn, opts) end

-- metatable: moonwire.fs.watcher
---A watcher (`fs.watch`).
---@class fs.Watcher
---@field path string
---@field closed boolean
---@field recursive boolean
---@field watches integer inotify watches held (directories watched)
local Watcher = {}

---Waits for the next event; `nil` once closed or the path is gone. `ETIMEDOUT` after
---`timeout_ms`; `EINVAL` on a watcher that has a function; `busy` for a second waiter.
---@async
---@param timeout_ms? number
---@return fs.WatchEvent?
function Watcher:next(timeout_ms) end

---An iterator over `next()`.
---@return fun(): fs.WatchEvent?
function Watcher:events() end

---Stops watching (a task waiting in `next` gets `nil`); closing twice is fine.
function Watcher:close() end

return fs
