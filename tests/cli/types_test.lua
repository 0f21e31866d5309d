-- The LuaLS definitions (types/*.lua, written out by `moonwire --types DIR`) against the live
-- runtime: every global, module function, field and object method must have a definition, and
-- every definition must name something that exists. A failure lists exactly what is missing,
-- as lines to act on (see docs/editor.md, "Keeping the definitions complete").
--
-- Conventions the definitions follow (what this test reads):
--   ---@meta NAME                 the module `require(NAME)` returns (file types/NAME.lua)
--   ---@class C                   followed by `X = {}`, `X.y = {}` or `local X = {}`: X is C's table
--   ---@field name T              a field of the module or object table of the current class
--   function X.y.f(a, b) end      a module function (X a module path), `function X.y:f()` too
--   function Obj:m(a) end         a method of the class whose table is the local Obj
--   -- metatable: moonwire.tcp.conn   (just before ---@class) the runtime metatable of the class
--   -- options: net.tcp.connect   (before ---@class) the class lists the options that
--                                 check_options(L, i, "net.tcp.connect", known) accepts
--   X.y = A.b                     an alias (`http = net.http`); `-- alias: X = Y` in a comment too
--   ---@class a.b + local M = {}   a lower-case class bound to a local: the module `a.b`
-- Every parameter of every function has a `---@param` line (`...` too).
local test = require("test")
local cli = dofile("tests/cli/fixtures/cli.lua")
local proc = cli.proc
local q = proc.quote

test.after_each(cli.cleanup)

-- Internal helpers of the compat modules: require-able, but not API.
local INTERNAL = { ["compat.callbacks"] = true, ["compat.errors"] = true }
-- Objects and option checks of modules only the embedded Lua uses (`_name` modules).
local INTERNAL_METATABLES = {
  ["moonwire.redis.conn"] = true,  -- _redis_core's connection
  ["moonwire.task.gc"] = true,     -- a task object with a finalizer: the same class as moonwire.task
}
local function internal_options(key) return key:sub(1, 1) == "_" end

local function lines_of(cmd)
  local p = io.popen(cmd)
  local t = {}
  for l in p:lines() do t[#t + 1] = l end
  p:close()
  return t
end

-- Require-able modules of the source tree: stdlib/lua/a/b.lua is "a.b" (not `_private` ones),
-- plus the seed aliases lua.* (runtime/require.cpp).
local function source_modules()
  local mods = {}
  for _, f in ipairs(lines_of("cd stdlib/lua && find . -name '*.lua' | sort")) do
    local name = f:gsub("^%./", ""):gsub("%.lua$", ""):gsub("/", ".")
    if not name:find("^_") and not name:find("%._") then mods[#mods + 1] = name end
  end
  for _, m in ipairs({ "lua.network", "lua.http", "lua.socks5", "lua.json", "timers" }) do mods[#mods + 1] = m end
  return mods
end

-- Parses the definition files. Returns defs: {paths = {path = {kind, file, line}},
-- aliases = {path = original}, methods = {metatable = {name = where}}, problems = {...}}.
local function parse_types(dir)
  local defs = { paths = {}, aliases = {}, methods = {}, classes = {}, problems = {},
    class_fields = {}, class_parent = {}, options = {} }
  for _, file in ipairs(lines_of("ls " .. q(dir) .. "/*.lua")) do
    local short = file:match("[^/]+$")
    local meta_name
    local var_path = {}     -- local variable or global path -> its module path (or false)
    local var_class = {}    -- variable -> class name
    local class_mt = {}     -- class name -> runtime metatable name
    local class_path = {}   -- class name -> module path
    local pending_class, pending_mt, pending_opt, current_class
    local doc_params = {}
    local last_return
    local n = 0
    for line in io.lines(file) do
      n = n + 1
      local where = short .. ":" .. n
      local mn = line:match("^%-%-%-@meta%s+(%S+)")
      if mn then meta_name = mn end
      local mt = line:match("^%-%-%s*metatable:%s*(%S+)")
      if mt then pending_mt = mt end
      local opt = line:match("^%-%-%s*options:%s*(.-)%s*$")
      if opt then pending_opt = opt end
      local cls = line:match("^%-%-%-@class%s+([%w_.]+)")
      if cls then
        pending_class, current_class = cls, cls
        defs.class_fields[cls] = defs.class_fields[cls] or {}
        defs.class_parent[cls] = line:match("^%-%-%-@class%s+[%w_.]+%s*:%s*([%w_.]+)")
        if pending_opt then
          for key in pending_opt:gmatch("%s*([^,]*[^,%s])") do defs.options[key] = { class = cls, where = where } end
        end
        pending_opt = nil
        if pending_mt then class_mt[cls] = pending_mt; defs.classes[pending_mt] = cls end
        pending_mt = nil
      end
      local field = line:match("^%-%-%-@field%s+([%w_]+)")
      if field and current_class then
        defs.class_fields[current_class][field] = true
        local mp = class_path[current_class]
        if mp then
          defs.paths[mp .. "." .. field] = { kind = "field", where = where }
        else
          -- a field of a class not bound yet (the module table follows the ---@field lines)
          defs._pending_fields = defs._pending_fields or {}
          table.insert(defs._pending_fields, { class = current_class, name = field, where = where, file = file })
        end
      end
      local p = line:match("^%-%-%-@param%s+([%w_.]+)")
      if p then doc_params[p] = true end
      -- `X = {}`, `X.y = {}`, `local X = {}`
      local loc, var = line:match("^(local%s+)([%w_]+)%s*=%s*{}")
      if not var then var = line:match("^([%w_.]+)%s*=%s*{}") end
      if var then
        if pending_class then
          var_class[var] = pending_class
          if not loc then
            var_path[var] = var
            class_path[pending_class] = var
          elseif not pending_class:find("%u") then
            -- `---@class compat.hoozi_ws` + `local hoozi_ws = {}`: a module's table (lower case)
            var_path[var] = pending_class
            class_path[pending_class] = pending_class
          end
        end
        pending_class = nil
      end
      -- aliases: `http = net.http`, `-- alias: compat.xoron_websocket = websocket`
      local a, b = line:match("^([%w_.]+)%s*=%s*([%a_][%w_.]*)%s*$")
      if not a then a, b = line:match("^%-%-%s*alias:%s*([%w_.]+)%s*=%s*([%w_.]+)%s*$") end
      if a and not line:find("{") then defs.aliases[a] = b end
      -- functions
      local fname, args = line:match("^function%s+([%w_.:]+)%s*%(([^)]*)%)")
      if fname then
        local owner, sep, name = fname:match("^(.-)([.:])([%w_]+)$")
        if not owner then owner, name = nil, fname end
        for arg in args:gmatch("[^,%s]+") do
          if not doc_params[arg] then
            defs.problems[#defs.problems + 1] = ("%s: parameter '%s' of %s has no ---@param"):format(where, arg, fname)
          end
        end
        if owner and var_class[owner] and not var_path[owner] and sep == ":" then
          local cls2 = var_class[owner]
          local mtn = class_mt[cls2]
          if mtn then
            defs.methods[mtn] = defs.methods[mtn] or {}
            defs.methods[mtn][name] = where
          end
        elseif owner then
          local base = var_path[owner] or owner
          defs.paths[base .. "." .. name] = { kind = "fn", where = where }
        else
          defs.paths[name] = { kind = "fn", where = where }
        end
      end
      if not line:match("^%-%-%-") then doc_params = {} end
      local r = line:match("^return%s+([%w_.]+)%s*$")
      if r then last_return = r end
    end
    -- `local M = {}` ... `return M` in a `---@meta NAME` file: M is the module NAME.
    if meta_name and last_return and var_class[last_return] and not var_path[last_return] then
      local prefix = last_return .. "."
      for path, d in pairs(defs.paths) do
        if path:sub(1, #prefix) == prefix and d.where:match("^[^:]+") == short then
          defs.paths[path] = nil
          defs.paths[meta_name .. "." .. path:sub(#prefix + 1)] = d
        end
      end
      class_path[var_class[last_return]] = meta_name
    end
    for _, pf in ipairs(defs._pending_fields or {}) do
      if pf.file == file then
        local mp = class_path[pf.class]
        if mp then defs.paths[mp .. "." .. pf.name] = { kind = "field", where = pf.where } end
      end
    end
    defs._pending_fields = nil
  end
  return defs
end

-- What the runtime has (tests/cli/fixtures/types_walk.lua in a fresh moonwire).
local function walk_runtime(dir, probe_paths)
  local probe_file = dir .. "/probe.txt"
  proc.write_file(probe_file, table.concat(probe_paths, "\n") .. "\n")
  local r = cli.run({ cli.fixtures .. "/types_walk.lua", table.unpack(source_modules()) },
    { env = { MOONWIRE_TYPES_PROBE = probe_file } })
  test.eq(r.code, 0, r.err)
  local rt = { paths = {}, aliases = {}, methods = {}, probes = {}, errors = {} }
  for line in r.out:gmatch("[^\n]+") do
    local kind, a, b = line:match("^(%S+) (%S+) ?(.*)$")
    if kind == "fn" or kind == "field" then
      rt.paths[a] = kind
    elseif kind == "alias" then
      rt.aliases[a] = b
    elseif kind == "method" then
      rt.methods[a] = rt.methods[a] or {}
      rt.methods[a][b] = true
    elseif kind == "probe" then
      rt.probes[a] = b
    elseif kind == "error" then
      rt.errors[#rt.errors + 1] = a .. ": " .. b
    end
  end
  return rt
end

local function is_internal(path)
  for m in pairs(INTERNAL) do
    if path == m or path:sub(1, #m + 1) == m .. "." then return true end
  end
  return false
end

-- A runtime path is covered by a definition directly or through an alias of a prefix
-- (http.get via `http = net.http`).
local function covered(defs, rt, path)
  if defs.paths[path] then return true end
  local prefix, rest = path, ""
  while true do
    local p, last = prefix:match("^(.*)%.([^.]+)$")
    if not p then return false end
    prefix, rest = p, "." .. last .. rest
    local target = defs.aliases[prefix] or rt.aliases[prefix]
    if target and defs.paths[target .. rest] then return true end
    -- the other way: the runtime's canonical net.http.server.new, defined as http.server.new
    for a, b in pairs(rt.aliases) do
      if b == prefix and defs.paths[a .. rest] then return true end
    end
    for a, b in pairs(defs.aliases) do
      if b == prefix and defs.paths[a .. rest] then return true end
    end
  end
end

-- The option names the C++ bindings accept: every `check_options(L, i, "NAME", ARRAY)` with
-- its `ARRAY[] = {...}` (macros of the headers expanded). Keyed by each string literal of the
-- name argument, or by "file.cpp:ARRAY" when the name is a variable.
local function cpp_option_lists()
  local macros, lists = {}, {}
  local files = lines_of("find stdlib runtime -name '*.cpp' -o -name '*.hpp' | sort")
  local texts = {}
  for _, f in ipairs(files) do
    local text = proc.read_file(f):gsub("\\\n", " ")
    texts[f] = text
    for name, body in text:gmatch("#define%s+(MW_[%w_]+)%s+([^\n]*)") do macros[name] = body end
  end
  local function expand(body, out, depth)
    for item in body:gmatch("[^,]+") do
      item = item:match("^%s*(.-)%s*$")
      local str = item:match('^"(.*)"$')
      if str then
        out[str] = true
      elseif macros[item] and depth < 5 then
        expand(macros[item], out, depth + 1)
      end
    end
    return out
  end
  for f, text in pairs(texts) do
    local base = f:match("[^/]+$")
    for pos, name_arg, arr in text:gmatch("()check_options%(L,%s*[^,]+,%s*([^,]-),%s*([%w_]+)%)") do
      -- the array's definition closest before the call
      local body
      for p2, b in text:gmatch("()" .. arr .. "%[%]%s*=%s*{(.-)}") do
        if p2 < pos then body = b end
      end
      if body then
        local names = expand(body:gsub("nullptr", ""), {}, 0)
        local keyed = false
        for lit in name_arg:gmatch('"([^"]*)"') do
          lists[lit] = { names = names, where = base }
          keyed = true
        end
        if not keyed then lists[base .. ":" .. arr] = { names = names, where = base } end
      end
    end
  end
  return lists
end

test("moonwire --types DIR writes every types/*.lua file, unchanged", function()
  local dir = proc.tmpdir()
  local r = cli.run({ "--types", dir .. "/a/b" })
  test.eq(r.code, 0, r.err)
  local n = #lines_of("ls types/*.lua")
  test.ok(n >= 15, "types/ has the definition files")
  test.eq(r.out, ("moonwire: wrote %d type definition files to %s\n"):format(n, dir .. "/a/b"))
  local d = cli.run({ "-c", "diff -r types " .. q(dir .. "/a/b") }, { program = "/bin/sh" })
  test.eq(d.code, 0, d.out .. d.err)
  -- Again into the same directory: files replaced, fine.
  test.eq(cli.run({ "--types", dir .. "/a/b/" }).code, 0)
  -- Errors: no directory, a file in the way, extra arguments.
  local bad = cli.run({ "--types" })
  test.eq(bad.code, 1)
  test.eq(bad.err, "moonwire: usage: moonwire --types DIR\n")
  test.eq(cli.run({ "--types", "a", "b" }).code, 1)
  proc.write_file(dir .. "/file", "x")
  local f = cli.run({ "--types", dir .. "/file" })
  test.eq(f.code, 1)
  test.matches(f.err, "^moonwire: %-%-types: cannot create directory '.*/file': Not a directory\n$")
  local g = cli.run({ "--types", dir .. "/file/sub" })
  test.eq(g.code, 1)
  test.matches(g.err, "cannot create directory")
end)

test("the definitions match the runtime: every global, module function, field and method", function()
  local dir = proc.tmpdir()
  test.eq(cli.run({ "--types", dir .. "/types" }).code, 0)
  local defs = parse_types(dir .. "/types")
  local probe = {}
  for path in pairs(defs.paths) do probe[#probe + 1] = path end
  table.sort(probe)
  local rt = walk_runtime(dir, probe)
  local missing, extra, wrong = {}, {}, {}
  for path, kind in pairs(rt.paths) do
    if not is_internal(path) and not covered(defs, rt, path) then
      missing[#missing + 1] = ("%s (%s)"):format(path, kind == "fn" and "function" or "field")
    end
  end
  for path, d in pairs(defs.paths) do
    local t = rt.probes[path]
    if t == "nil" then
      extra[#extra + 1] = ("%s (%s, %s)"):format(path, d.kind == "fn" and "function" or "field", d.where)
    elseif d.kind == "fn" and t ~= "function" and t ~= "table" then
      wrong[#wrong + 1] = ("%s is defined as a function (%s) but is a %s"):format(path, d.where, tostring(t))
    end
  end
  for class, names in pairs(rt.methods) do
    if INTERNAL_METATABLES[class] then goto next_class end  -- not a class of its own
    if not defs.methods[class] then
      local list = {}
      for n in pairs(names) do list[#list + 1] = n end
      table.sort(list)
      missing[#missing + 1] = ("class with metatable %s (no ---@class with '-- metatable: %s'): methods %s")
        :format(class, class, table.concat(list, ", "))
    else
      for n in pairs(names) do
        if not defs.methods[class][n] then
          missing[#missing + 1] = ("%s:%s (method of %s)"):format(defs.classes[class] or class, n, class)
        end
      end
    end
    ::next_class::
  end
  for class, names in pairs(defs.methods) do
    for n, where in pairs(names) do
      if not (rt.methods[class] and rt.methods[class][n]) then
        extra[#extra + 1] = ("%s:%s (method of %s, %s)"):format(defs.classes[class] or class, n, class, where)
      end
    end
  end
  table.sort(missing)
  table.sort(extra)
  table.sort(wrong)
  local report = {}
  local function section(title, list)
    if #list > 0 then
      report[#report + 1] = title .. " (" .. #list .. "):\n  " .. table.concat(list, "\n  ")
    end
  end
  section("in the runtime, not in types/", missing)
  section("in types/, not in the runtime", extra)
  section("wrong kind", wrong)
  -- Options tables: the fields of each class marked `-- options: NAME` (and its parents) are
  -- the names the C++ binding NAME accepts.
  local lists = cpp_option_lists()
  local opt_missing, opt_extra, unmarked = {}, {}, {}
  for key, list in pairs(lists) do
    local o = defs.options[key]
    -- `_module` options are checked for the embedded Lua that calls it: no class needed.
    if not o and not internal_options(key) then
      local names = {}
      for n in pairs(list.names) do names[#names + 1] = n end
      table.sort(names)
      unmarked[#unmarked + 1] = ("%s (%s): %s"):format(key, list.where, table.concat(names, ", "))
    elseif o then
      local fields, cls = {}, o.class
      while cls do
        for f in pairs(defs.class_fields[cls] or {}) do fields[f] = true end
        cls = defs.class_parent[cls]
      end
      for n in pairs(list.names) do
        if not fields[n] then opt_missing[#opt_missing + 1] = ("%s.%s (option of %s)"):format(o.class, n, key) end
      end
      for n in pairs(fields) do
        if not list.names[n] then opt_extra[#opt_extra + 1] = ("%s.%s (%s; %s does not accept it)"):format(o.class, n, o.where, key) end
      end
    end
  end
  for key, o in pairs(defs.options) do
    if not lists[key] then opt_extra[#opt_extra + 1] = ("-- options: %s (%s): no such check_options call"):format(key, o.where) end
  end
  table.sort(opt_missing)
  table.sort(opt_extra)
  table.sort(unmarked)
  section("options the C++ code accepts, not in types/", opt_missing)
  section("options in types/ the C++ code does not accept", opt_extra)
  section("check_options calls with no ---@class marked '-- options: NAME'", unmarked)
  section("definition problems", defs.problems)
  section("modules that did not load", rt.errors)
  test.ok(#report == 0, "types/ and the runtime differ:\n" .. table.concat(report, "\n"))
end, { timeout = 60 })
