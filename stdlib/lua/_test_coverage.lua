-- _test_coverage: `moonwire test --coverage`. A line hook on every thread that runs test code
-- (the runner's own while a file's top level runs, each task's — the scheduler tells us of new
-- tasks through the registry field "moonwire.task_created" — and each coroutine made with
-- coroutine.create/wrap) counts the executed lines of Lua files; moonwire's embedded modules
-- ("@[moonwire]/...") and the test files themselves are left out. The result is an lcov
-- tracefile. Loaded by _testrunner.lua.

local getinfo, sethook = debug.getinfo, debug.sethook
local fmt, concat = string.format, table.concat
local fs = rawget(_G, "fs") or require("fs")

local M = {}

-- The lines that hold code in a Lua file: those of the instructions of every function in its
-- compiled form (what debug.getinfo(f, "L").activelines gives for one function, but nested
-- functions are reachable only through the binary chunk). Lua 5.4's dump format (ldump.c).
local function code_lines(path)
  local chunk = loadfile(path)
  if not chunk then return nil end
  local s = string.dump(chunk)
  if s:sub(1, 5) ~= "\27Lua\x54" then return nil end
  local pos = 32  -- after the header: signature, version, format, LUAC_DATA, 3 sizes, LUAC_INT, LUAC_NUM
  local byte = string.byte
  local function u8()
    local b = byte(s, pos)
    pos = pos + 1
    return b
  end
  local function size()
    local x = 0
    repeat
      local b = u8()
      x = (x << 7) | (b & 0x7f)
    until b & 0x80 ~= 0
    return x
  end
  local function skip_string()
    local n = size()
    if n > 0 then pos = pos + n - 1 end
  end
  local lines = {}
  local function func()
    skip_string()  -- source
    local line = size()  -- linedefined
    size()  -- lastlinedefined
    u8()  -- numparams
    local vararg = u8() ~= 0
    u8()  -- maxstacksize
    local ncode = size()
    pos = pos + ncode * 4  -- code (size() moves pos: read it first)
    for _ = 1, size() do  -- constants
      local tag = u8()
      if tag == 3 or tag == 19 then
        pos = pos + 8  -- integer, float
      elseif tag == 4 or tag == 20 then
        skip_string()
      end
    end
    local nup = size()
    pos = pos + nup * 3  -- upvalues: instack, idx, kind
    for _ = 1, size() do func() end  -- nested functions
    local nline = size()
    local at = pos
    pos = pos + nline
    local abs = {}
    for i = 1, size() do
      size()  -- pc
      abs[i] = size()
    end
    for _ = 1, size() do  -- local variables
      skip_string()
      size()
      size()
    end
    for _ = 1, size() do skip_string() end  -- upvalue names
    local k = 0
    for pc = 0, nline - 1 do
      local d = byte(s, at + pc)
      if d == 0x80 then  -- ABSLINEINFO
        k = k + 1
        line = abs[k]
      else
        line = line + (d >= 0x80 and d - 256 or d)
      end
      if not (vararg and pc == 0) then lines[line] = true end  -- VARARGPREP, as activelines
    end
  end
  u8()  -- upvalues of the main function
  local ok = pcall(func)
  if not ok then return nil end
  return lines
end
M.code_lines = code_lines

local function source_lines(path)
  local f = io.open(path, "r")
  if not f then return {} end
  local t = {}
  for line in f:lines() do t[#t + 1] = line end
  f:close()
  return t
end

function M.new()
  local C = {}
  local hits = {}     -- chunk name → {line → count}, or false for a chunk left out
  local merged = {}   -- absolute path → {line → count} (from worker processes' tracefiles)
  local excluded = {}

  local function wanted(src)
    if src:sub(1, 1) ~= "@" or src:sub(1, 11) == "@[moonwire]" then return false end
    local path = src:sub(2)
    if excluded[path] or path:find("_test%.lua$") then return false end
    return true
  end

  -- The hook itself; `level` is where the running function is (2 when called as the hook).
  local function line_hook(_, line, level)
    local src = getinfo(level or 2, "S").source
    local h = hits[src]
    if h == nil then
      h = wanted(src) and {} or false
      hits[src] = h
    end
    if h then h[line] = (h[line] or 0) + 1 end
  end
  C.line_hook = line_hook

  function C.hook_thread(co)
    if co then sethook(co, line_hook, "l") else sethook(line_hook, "l") end
  end

  function C.exclude_files(files)
    for _, f in ipairs(files) do excluded[f] = true end
  end

  local saved_create, saved_wrap
  function C.install()
    local reg = debug.getregistry()
    reg["moonwire.task_created"] = function(co) sethook(co, line_hook, "l") end
    -- A coroutine's first act is to hook its own thread.
    saved_create, saved_wrap = coroutine.create, coroutine.wrap
    local create, wrap = saved_create, saved_wrap
    local function hooked(f)
      if type(f) ~= "function" then return f end  -- let the original report the bad argument
      return function(...)
        sethook(line_hook, "l")
        return f(...)
      end
    end
    coroutine.create = function(f) return create(hooked(f)) end
    coroutine.wrap = function(f) return wrap(hooked(f)) end
  end

  function C.uninstall()
    debug.getregistry()["moonwire.task_created"] = nil
    if saved_create then
      coroutine.create, coroutine.wrap = saved_create, saved_wrap
      saved_create = nil
    end
  end

  -- Another process's tracefile (a --jobs worker), added to these counts.
  function C.merge_lcov(text)
    local cur
    for line in text:gmatch("[^\n]+") do
      local sf = line:match("^SF:(.*)$")
      if sf then
        cur = merged[sf] or {}
        merged[sf] = cur
      elseif cur then
        local l, n = line:match("^DA:(%d+),(%d+)")
        if l then
          l, n = tonumber(l), tonumber(n)
          cur[l] = (cur[l] or 0) + n
        elseif line == "end_of_record" then
          cur = nil
        end
      end
    end
  end

  -- path → {line → count}: every code line of each file that ran, 0 for those that did not.
  -- A line holding nothing but `end` (or `else`, a closing bracket) that never ran is left out:
  -- a function that returns early never runs its final `end`.
  local function files()
    local out = {}
    for path, counts in pairs(merged) do
      local t = {}
      for l, n in pairs(counts) do t[l] = n end
      out[path] = t
    end
    for src, h in pairs(hits) do
      if h then
        local path = fs.abs(src:sub(2))
        local t = out[path] or {}
        out[path] = t
        for l, n in pairs(h) do t[l] = (t[l] or 0) + n end
        local code = code_lines(src:sub(2))
        if code then
          local text = source_lines(src:sub(2))
          for l in pairs(code) do
            if t[l] == nil then
              local s = text[l] or ""
              if not (s:match("^%s*end[%s%),;%]}]*$") or s:match("^%s*else%s*$") or s:match("^%s*[%)}%]]+[%s,;]*$")) then
                t[l] = 0
              end
            end
          end
        end
      end
    end
    return out
  end

  local function sorted_paths(data)
    local paths = {}
    for p in pairs(data) do paths[#paths + 1] = p end
    table.sort(paths)
    return paths
  end

  local last
  -- Writes the lcov tracefile; returns true or nil and a message.
  function C.write(path)
    local data = files()
    last = data
    local b = { "TN:\n" }
    for _, p in ipairs(sorted_paths(data)) do
      local lines = {}
      for l in pairs(data[p]) do lines[#lines + 1] = l end
      table.sort(lines)
      b[#b + 1] = "SF:" .. p .. "\n"
      local hit = 0
      for _, l in ipairs(lines) do
        local n = data[p][l]
        if n > 0 then hit = hit + 1 end
        b[#b + 1] = fmt("DA:%d,%d\n", l, n)
      end
      b[#b + 1] = fmt("LF:%d\nLH:%d\nend_of_record\n", #lines, hit)
    end
    local f, err = io.open(path, "w")
    if not f then return nil, err end
    f:write(concat(b))
    f:close()
    return true
  end

  -- Lines for the terminal: per file the percentage and lines run, then the total.
  function C.summary(path)
    local data = last or files()
    local cwd = fs.cwd() .. "/"
    local out = { "coverage (" .. path .. "):" }
    local all, all_hit = 0, 0
    for _, p in ipairs(sorted_paths(data)) do
      local n, hit = 0, 0
      for _, c in pairs(data[p]) do
        n = n + 1
        if c > 0 then hit = hit + 1 end
      end
      all, all_hit = all + n, all_hit + hit
      local shown = p:sub(1, #cwd) == cwd and p:sub(#cwd + 1) or p
      out[#out + 1] = fmt("  %5.1f%%  %d/%d  %s", n > 0 and 100 * hit / n or 100, hit, n, shown)
    end
    out[#out + 1] = fmt("  total %.1f%% (%d of %d lines)", all > 0 and 100 * all_hit / all or 100, all_hit, all)
    return out
  end

  return C
end

return M
