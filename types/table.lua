---@meta
-- moonwire's table helpers (CopperMoon's), next to the standard functions. docs/strings.md.
-- They return new tables (the input is never changed); callbacks may yield.

---The keys, in `pairs` order.
---@param t table
---@return any[]
function table.keys(t) end

---The values, in `pairs` order.
---@param t table
---@return any[]
function table.values(t) end

---A new table with the entries of each argument in turn (later ones win; nil skipped).
---@param ... table?
---@return table
function table.merge(...) end

---`{fn(t[1], 1), fn(t[2], 2), ...}`.
---@param t any[]
---@param fn fun(value: any, index: integer): any
---@return any[]
function table.map(t, fn) end

---The values for which `fn(value, index)` is true.
---@param t any[]
---@param fn fun(value: any, index: integer): boolean?
---@return any[]
function table.filter(t, fn) end

---The first value (and its index) for which `fn(value, index)` is true.
---@param t any[]
---@param fn fun(value: any, index: integer): boolean?
---@return any value
---@return integer? index
function table.find(t, fn) end

---Folds the array part: `acc = fn(acc, value, index)`, starting from `init`.
---@param t any[]
---@param fn fun(acc: any, value: any, index: integer): any
---@param init? any
---@return any
function table.reduce(t, fn, init) end

---The number of entries (or of those for which `fn(value, key)` is true).
---@param t table
---@param fn? fun(value: any, key: any): boolean?
---@return integer
function table.count(t, fn) end

---Whether the table has no entry.
---@param t table
---@return boolean
function table.is_empty(t) end

---Whether some value equals `v`.
---@param t table
---@param v any
---@return boolean
function table.contains(t, v) end

---A copy of elements `first..last` (negative indices count from the end).
---@param t any[]
---@param first? integer
---@param last? integer
---@return any[]
function table.slice(t, first, last) end

---The array part in reverse order.
---@param t any[]
---@return any[]
function table.reverse(t) end

---A copy (shallow, or deep with `deep = true`), keeping the metatable.
---@param t table
---@param deep? boolean
---@return table
function table.clone(t, deep) end
