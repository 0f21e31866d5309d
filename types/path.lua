---@meta path
-- moonwire `path`: POSIX path strings (pure string functions, nothing read from the disk
-- except `resolve`'s current directory). docs/path.md. A non-string argument is Lua's argument error.

---@class path
---@field sep "/" the separator
path = {}

---The non-empty arguments joined with `/`, normalized; `"."` for none. An absolute argument does
---not reset the path (`join("a", "/b")` is `"a/b"`).
---@param ... string
---@return string
function path.join(...) end

---An absolute, normalized path: arguments taken right to left until one is absolute, then the
---current directory in front.
---@param ... string
---@return string
function path.resolve(...) end

---Duplicate slashes, `.` and `..` resolved; a trailing slash is kept.
---@param p string
---@return string
function path.normalize(p) end

---Everything before the last segment (POSIX `dirname`).
---@param p string
---@return string
function path.dirname(p) end

---The last segment; `suffix` removed when the name ends with it (and is not all of it).
---@param p string
---@param suffix? string
---@return string
function path.basename(p, suffix) end

---The basename from its last `.` (`".gz"` for `"a.tar.gz"`), or `""`.
---@param p string
---@return string
function path.extname(p) end

---Whether `p` starts with `/`.
---@param p string
---@return boolean
function path.is_absolute(p) end

---Whether `p` does not start with `/`.
---@param p string
---@return boolean
function path.is_relative(p) end

return path
