-- luacheck configuration (Debian's lua-check): `make lint`, and tests/cli/luacheck_test.lua in
-- the Lua suite. Lua 5.4 plus moonwire's globals and its string/table helpers (docs/strings.md).
std = "lua54+moonwire"
max_line_length = false  -- long lines are common in tests and tables; not worth the churn
codes = true
-- Handlers and callbacks keep the documented signature (function(req), function(c, reason)).
unused_args = false
-- `not (x > 0)` is deliberate (NaN fails it); `for _ in pairs(t) do return false end` is an
-- emptiness test.
ignore = { "581", "512" }

local string_helpers = { "split", "trim", "ltrim", "rtrim", "starts_with", "ends_with", "contains",
  "pad_left", "pad_right", "pad_center", "truncate", "lines", "chars", "replace_all", "count" }
local table_helpers = { "keys", "values", "merge", "map", "filter", "find", "reduce", "count",
  "is_empty", "contains", "slice", "reverse", "clone", "flatten", "unique", "group_by" }
local function fields(list)
  local t = {}
  for _, k in ipairs(list) do t[k] = {} end
  return t
end

stds.moonwire = {
  read_globals = {
    "task", "time", "json", "net", "http", "crypto", "buffer", "fs", "path", "os_ext", "websocket",
    "setTimeout", "setInterval", "clearTimeout", "clearInterval",
    "redis",  -- the redis module (a global once that branch is merged; harmless before)
    string = { fields = fields(string_helpers) },
    table = { fields = fields(table_helpers) },
  },
  -- process.env.X = v and process.exitcode-style assignments are part of the API.
  globals = { "process" },
}

-- The test runner's busted-style globals, present while a test file's top level runs.
local busted = { "describe", "it", "pending", "setup", "teardown", "before_each", "after_each" }

-- Tests take several results and check some (`status, h = read_response(c)`, then only h).
files["tests/"] = { read_globals = busted, ignore = { "311" } }
files["**/*_test.lua"] = { read_globals = busted }
-- The test runner wraps coroutine.create/wrap (coverage) and the REPL replaces print/io.write.
files["stdlib/lua/_test_coverage.lua"] = { globals = { "coroutine" } }
files["stdlib/lua/_repl.lua"] = { globals = { "print", "io" } }
-- Type definitions (---@meta): stubs that define globals and fields, whose parameters and
-- local class tables exist for the documentation only; checked for everything else (syntax...).
files["types/"] = { ignore = { "1", "21", "241", "631" } }
-- Fixtures and node_modules are not moonwire's code.
exclude_files = { "tests/interop/node_modules/", "build/", "build-*/" }
