-- Runs once at startup. Installs a `require` written in Lua, so a module whose top level does
-- I/O can suspend (the C require cannot yield), and a searcher for modules embedded in the
-- binary (test runner, compatibility layers), tried after the files on package.path so a
-- script's own module of the same name wins.
local embedded_source = ...
local package, type, error, tostring, select = package, type, error, tostring, select
local concat = table.concat
local LOADED = package.loaded

local function embedded_searcher(name)
  if name:sub(1, 1) == "_" then return "no embedded module '" .. name .. "'" end
  local src = embedded_source(name)
  if not src then return "no embedded module '" .. name .. "'" end
  local chunk, err = load(src, "@[moonwire]/" .. name .. ".lua")
  if not chunk then error(err, 0) end
  return chunk, ":embedded:" .. name
end
package.searchers[#package.searchers + 1] = embedded_searcher

function require(name)
  if type(name) ~= "string" then
    if type(name) == "number" then name = tostring(name)
    else error("bad argument #1 to 'require' (string expected, got " .. (name == nil and "no value" or type(name)) .. ")", 2) end
  end
  local value = LOADED[name]
  if value then return value end
  local searchers = package.searchers
  if type(searchers) ~= "table" then error("'package.searchers' must be a table", 2) end
  local msg = {}
  for i = 1, #searchers + 1 do
    local searcher = searchers[i]
    if searcher == nil then
      error("module '" .. name .. "' not found:" .. concat(msg), 2)
    end
    local loader, data = searcher(name)
    if type(loader) == "function" then
      local result = loader(name, data)
      if result ~= nil then LOADED[name] = result end
      if LOADED[name] == nil then LOADED[name] = true end
      return LOADED[name], data
    elseif type(loader) == "string" then
      msg[#msg + 1] = "\n\t" .. loader
    end
  end
end
