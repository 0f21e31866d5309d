---@meta os_ext
-- moonwire `os_ext` (CopperMoon's): environment, working directory, platform facts.
-- docs/os_ext.md. Errors: `EINVAL` (bad variable name, NUL, empty path), `ENOENT`, `ENOTDIR`,
-- `EACCES` (chdir).

---@class os_ext
os_ext = {}

---The variable's value, or `nil` if unset (or a name that cannot exist).
---@param name string
---@return string?
function os_ext.env(name) end

---Sets the variable for this process and the children it starts.
---@param name string
---@param value string|number
function os_ext.setenv(name, value) end

---Removes the variable (unsetting an unset one is fine).
---@param name string
function os_ext.unsetenv(name) end

---The current working directory (absolute, symlinks resolved).
---@return string
function os_ext.cwd() end

---Changes the working directory of the whole process.
---@param path string
---@return true
function os_ext.chdir(path) end

---`"linux"` (Rust's names, as CopperMoon).
---@return string
function os_ext.platform() end

---`"x86_64"`, `"aarch64"`, ... (the build's architecture, Rust's names).
---@return string
function os_ext.arch() end

---`$HOME`, else the user database's home directory, else `nil`.
---@return string?
function os_ext.homedir() end

---`$TMPDIR` if set and not empty, else `"/tmp"`, without trailing slashes.
---@return string
function os_ext.tmpdir() end

---The kernel's host name.
---@return string
function os_ext.hostname() end

---The number of CPUs this process may run on (at least 1).
---@return integer
function os_ext.cpus() end

return os_ext
