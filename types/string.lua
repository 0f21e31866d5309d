---@meta
-- moonwire's string helpers (CopperMoon's), next to the standard functions; also methods:
-- `("a,b"):split(",")`. docs/strings.md. A wrong type is Lua's argument error.

---The pieces between separators, empty pieces included. `sep` is plain unless `plain` is
---false (a pattern); an empty `sep` splits into UTF-8 characters. `max`: at most that many
---pieces (`split(s, sep, max)` works too).
---@param s string
---@param sep string
---@param plain? boolean|integer
---@param max? integer
---@return string[]
function string.split(s, sep, plain, max) end

---`s` without leading and trailing whitespace (ASCII and Unicode White_Space in UTF-8).
---@param s string
---@return string
function string.trim(s) end

---`s` without leading whitespace (ASCII and Unicode White_Space in UTF-8).
---@param s string
---@return string
function string.ltrim(s) end

---`s` without trailing whitespace (ASCII and Unicode White_Space in UTF-8).
---@param s string
---@return string
function string.rtrim(s) end

---Whether `s` begins with `prefix` (plain comparison).
---@param s string
---@param prefix string
---@return boolean
function string.starts_with(s, prefix) end

---Whether `s` ends with `suffix` (plain comparison).
---@param s string
---@param suffix string
---@return boolean
function string.ends_with(s, suffix) end

---Whether `s` contains `sub` (plain comparison).
---@param s string
---@param sub string
---@return boolean
function string.contains(s, sub) end

---`s` padded on the left to `n` characters (UTF-8) with `fill` (default `" "`); never shortens.
---@param s string
---@param n integer
---@param fill? string
---@return string
function string.pad_left(s, n, fill) end

---`s` padded on the right to `n` characters (UTF-8) with `fill` (default `" "`); never shortens.
---@param s string
---@param n integer
---@param fill? string
---@return string
function string.pad_right(s, n, fill) end

---`s` padded on both sides (the odd character on the right) to `n` characters (UTF-8) with `fill` (default `" "`); never shortens.
---@param s string
---@param n integer
---@param fill? string
---@return string
function string.pad_center(s, n, fill) end

---At most `n` characters; when cut, `suffix` counts in the `n`.
---@param s string
---@param n integer
---@param suffix? string
---@return string
function string.truncate(s, n, suffix) end

---The list of lines, without their `\n` or `\r\n`.
---@param s string
---@return string[]
function string.lines(s) end

---The list of UTF-8 characters.
---@param s string
---@return string[]
function string.chars(s) end

---Every occurrence of `old` replaced by `new`, plainly (no patterns).
---@param s string
---@param old string
---@param new string
---@return string
function string.replace_all(s, old, new) end

---Non-overlapping occurrences of `sub` (plain); 0 for an empty `sub`.
---@param s string
---@param sub string
---@return integer
function string.count(s, sub) end
