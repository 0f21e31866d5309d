---@meta net.url
-- moonwire `net.url`: URL parsing, building, resolving and percent-encoding (RFC 3986).
-- docs/net.url.md. Errors: Lua's argument error for a wrong type; `EINVAL` for an invalid URL,
-- a malformed escape, an unknown field in `build` (with the closest name), a bad port.

---@class net.url
net.url = {}

-- options: net.url.build
---A parsed URL (`net.url.parse`), also what `net.url.build` takes.
---@class net.url.Parts
---@field scheme? string as written (`"https"`); absent for a relative reference
---@field user? string percent-decoded
---@field password? string percent-decoded
---@field host? string percent-decoded; IPv6 without brackets
---@field port? integer absent when not given
---@field path string as written, still encoded; `""` when empty
---@field query? string without `?`; absent when there is none
---@field params table<string, string|string[]> `query_decode(query)`
---@field fragment? string percent-decoded, without `#`
---@field href string the string parsed

---Parses an absolute URL or a relative reference.
---@param s string
---@return net.url.Parts
function net.url.parse(s) end

---The URL string for a table of parts (the inverse of `parse`).
---@param t net.url.Parts|table
---@return string
function net.url.build(t) end

---The absolute URL `ref` refers to from the absolute URL `base` (RFC 3986 section 5.2).
---@param base string
---@param ref string
---@return string
function net.url.resolve(base, ref) end

---Every byte except `A-Z a-z 0-9 - . _ ~` as `%XX` (`encodeURIComponent`).
---@param s string
---@return string
function net.url.encode(s) end

---`%XX` escapes decoded (`+` stays `+`).
---@param s string
---@return string
function net.url.decode(s) end

---`"a=1&b=x%20y"`, keys sorted; a list value repeats its key.
---@param t table<string|number, string|number|boolean|(string|number|boolean)[]>
---@return string
function net.url.query_encode(t) end

---A table: `+` is a space, escapes decoded, a repeated key gives a list.
---@param s string
---@return table<string, string|string[]>
function net.url.query_decode(s) end

return net.url
