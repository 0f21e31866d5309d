---@meta json
-- moonwire `json`: JSON encoding and decoding. docs/json.md.
-- Errors: error objects with `code == "EJSON"` (`json.encode: cannot encode NaN at $.stats.mean`,
-- `json.decode: unexpected '2' at line 1 column 4`); bad options raise `bad argument` errors.

---@class json
---@field null table the sentinel for JSON `null` (what `decode` gives for `null` by default)
json = {}

-- options: json.encode, json.pretty
---Options of `json.encode` / `json.pretty`.
---@class json.EncodeOptions
---@field pretty? boolean line breaks and indentation (default false; true when `indent` is given)
---@field indent? integer|string indentation per level when pretty: 0..16 spaces or a string of spaces/tabs (default 2)
---@field sort_keys? boolean write object keys in byte order (default: same as `pretty`)
---@field max_depth? integer maximum nesting, 1..5000 (default 1000)

-- options: json.decode
---Options of `json.decode`.
---@class json.DecodeOptions
---@field null? any the value JSON `null` becomes (default `json.null`)
---@field null_as_nil? boolean JSON `null` becomes `nil` (absent field, hole in an array); default false
---@field max_depth? integer maximum nesting, 1..100000 (default 1000)
---@field allow_comments? boolean accept `//` and `/* */` comments (default false)
---@field allow_trailing_commas? boolean accept `[1, 2,]` and `{"a": 1,}` (default false)

---Encodes a Lua value as JSON text. Tables become arrays (a sequence, or marked with
---`json.array`) or objects; `__tojson`/`__jsontype` metamethods are honoured. Raises `EJSON`
---for NaN/inf, functions, cycles, invalid UTF-8, too deep nesting.
---@param value any
---@param opts? json.EncodeOptions
---@return string
function json.encode(value, opts) end

---`json.encode` with `pretty = true`.
---@param value any
---@param opts? json.EncodeOptions
---@return string
function json.pretty(value, opts) end

---Decodes JSON text (a string; numbers are not converted). Arrays and objects carry a marker
---metatable so they encode back the same. Raises `EJSON` with line and column.
---@param text string
---@param opts? json.DecodeOptions
---@return any
function json.decode(text, opts) end

---`t` (or a new table), marked to encode as an array.
---@generic T: table
---@param t? T
---@return T
function json.array(t) end

---`t` (or a new table), marked to encode as an object.
---@generic T: table
---@param t? T
---@return T
function json.object(t) end

---`true` if `v` would encode as a JSON array.
---@param v any
---@return boolean
function json.is_array(v) end

return json
