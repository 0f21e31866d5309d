-- The interactive loop. Runs as a task: tasks keep running while the prompt waits.
local readline, add_history, is_tty, lua_release, output_begin, output_end = ...
local concat, pack, unpack = table.concat, table.pack, table.unpack

local pretty
local function quote(s) return (string.format("%q", s):gsub("\\\n", "\\n")) end

local function is_identifier(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil
end

local function table_repr(t, depth, seen)
  if seen[t] then return "<cycle>" end
  if depth > 4 then return "{...}" end
  seen[t] = true
  local parts, n = {}, #t
  for i = 1, n do
    if i > 100 then parts[#parts + 1] = "..."; break end
    parts[#parts + 1] = pretty(t[i], depth + 1, seen, true)
  end
  local keys = {}
  for k in pairs(t) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    if ta == "number" or ta == "string" then return a < b end
    return tostring(a) < tostring(b)
  end)
  for _, k in ipairs(keys) do
    if #parts >= 100 then
      if parts[#parts] ~= "..." then parts[#parts + 1] = "..." end
      break
    end
    local key = is_identifier(k) and k or ("[" .. pretty(k, depth + 1, seen, true) .. "]")
    parts[#parts + 1] = key .. " = " .. pretty(t[k], depth + 1, seen, true)
  end
  seen[t] = nil
  return "{" .. concat(parts, ", ") .. "}"
end

function pretty(v, depth, seen, nested)
  local json = package.loaded.json
  if json and rawequal(v, json.null) then return "json.null" end
  local mt = getmetatable(v)
  if type(mt) == "table" and mt.__tostring then return tostring(v) end
  if mt ~= nil and type(mt) ~= "table" then return tostring(v) end  -- protected metatable: its own tostring
  local tv = type(v)
  if tv == "string" then return nested and quote(v) or v end
  if tv == "table" then return table_repr(v, depth or 1, seen or {}) end
  return tostring(v)
end

local function report(err)
  io.stderr:write(tostring(err), "\n")
  io.stderr:flush()
end

local function handler(e)
  local tb = debug.traceback(tostring(e), 2)
  -- Leave out the REPL's own frames (everything from its xpcall down).
  local cut = tb:find("\n\t%[C%]: in function 'xpcall'")
  return cut and tb:sub(1, cut - 1) or tb
end

if is_tty then
  io.write("moonwire ", "(", lua_release, ")  tasks keep running while you type; Ctrl-D exits\n")
  -- What a task prints while the prompt waits goes above the prompt, which is drawn again.
  local function around(write)
    return function(...)
      output_begin()
      local results = pack(pcall(write, ...))
      output_end()
      if not results[1] then error(results[2], 2) end
      return unpack(results, 2, results.n)
    end
  end
  print = around(print)
  io.write = around(io.write)
  local file_methods = getmetatable(io.stdout).__index
  local file_write = file_methods.write
  local stdout_write = around(file_write)
  file_methods.write = function(f, ...)
    if rawequal(f, io.stdout) then return stdout_write(f, ...) end
    return file_write(f, ...)
  end
end

local buffer
while true do
  local line = readline(buffer and ">> " or "> ")
  if line == nil then
    if is_tty then io.write("\n") end
    break
  end
  local chunk = buffer and (buffer .. "\n" .. line) or line
  local fn, err = load("return " .. chunk, "=stdin")
  -- Incomplete as an expression ("1 +") or as a statement ("x =", "for ... do"): read more.
  local incomplete = not fn and err:find("<eof>$")
  if not fn then fn, err = load(chunk, "=stdin") end
  if not fn and (incomplete or err:find("<eof>$")) then
    buffer = chunk
  else
    buffer = nil
    add_history(chunk)
    if not fn then
      report(err)
    else
      local res = pack(xpcall(fn, handler))
      if res[1] then
        if res.n > 1 then
          -- Rendering runs user code (__tostring, __pairs): an error there is reported like
          -- any other error instead of ending the REPL.
          local ok, perr = xpcall(function()
            local out = {}
            for i = 2, res.n do out[#out + 1] = pretty(res[i]) end
            print(concat(out, "\t"))
          end, handler)
          if not ok then report(perr) end
        end
      else
        report(res[2])
      end
    end
  end
end
