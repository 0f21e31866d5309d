-- String and table helpers (CopperMoon's string.* and table.* additions). Loaded by the first
-- call of any of them (stdlib/lua_module.cpp puts C stubs in place at startup and replaces
-- those still in place with these; nothing else: standard functions (string.find,
-- table.concat, ...) and anything a script set stay as they are). See docs/strings.md.
local _, einval = ...

local type, tostring, select, error, pairs, next = type, tostring, select, error, pairs, next
local setmetatable = setmetatable
local tointeger, huge = math.tointeger, math.huge
local find, sub, gsub, byte, rep = string.find, string.sub, string.gsub, string.byte, string.rep
local ulen = utf8.len
local concat = table.concat
local dgetmetatable = debug.getmetatable

-- Argument checks, with the messages of Lua's own (luaL_argerror) ---------------------------

local getinfo = debug.getinfo
local SOURCE = getinfo(1, "S").source

-- The level of the first Lua function up the stack that is not in this file (the caller of
-- string.split, past the C stub that may be in between), counted as error() counts from the
-- function that calls it.
local function caller_level()
  local lvl = 3 -- 1 caller_level, 2 argerror/badvalue
  while true do
    local info = getinfo(lvl, "S")
    if not info then return lvl - 1 end
    if info.source ~= SOURCE and info.what ~= "C" then return lvl - 1 end
    lvl = lvl + 1
  end
end

local function argerror(i, fname, msg)
  error("bad argument #" .. i .. " to '" .. fname .. "' (" .. msg .. ")", caller_level())
end

local function typename(v, present)
  if v == nil and not present then return "no value" end
  return type(v)
end

-- A string (numbers are converted, as luaL_checkstring does).
local function str(v, i, fname)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then return tostring(v) end
  argerror(i, fname, "string expected, got " .. typename(v))
end

local function tbl(v, i, fname)
  if type(v) ~= "table" then argerror(i, fname, "table expected, got " .. typename(v)) end
  return v
end

local function callable(v, i, fname)
  if type(v) == "function" then return v end
  local mt = dgetmetatable(v)
  if mt and mt.__call then return v end
  argerror(i, fname, "function expected, got " .. typename(v))
end

-- A wrong value (the type is right): an EINVAL error object, at the caller's line.
local function badvalue(i, fname, msg)
  einval("bad argument #" .. i .. " to '" .. fname .. "' (" .. msg .. ")", caller_level())
end

-- An integer argument: a number with an integral value (3.0 is 3); NaN, 1.5, inf are EINVAL.
local function int(v, i, fname, def)
  if v == nil and def ~= nil then return def end
  local t = type(v)
  if t == "string" then
    local n = tonumber(v)
    if n then v, t = n, "number" end
  end
  if t ~= "number" then argerror(i, fname, "number expected, got " .. typename(v)) end
  local n = tointeger(v)
  if not n then badvalue(i, fname, "number has no integer representation (got " .. tostring(v) .. ")") end
  return n
end

local MAX_WIDTH = 1 << 30 -- pad widths: a typo must not try to allocate terabytes

-- Number of UTF-8 characters (bytes when s is not valid UTF-8).
local function chars_len(s)
  return ulen(s) or #s
end

-- The characters of s as a list (invalid UTF-8 bytes are characters of their own).
local CHAR = "[\0-\x7F\xC2-\xFD][\x80-\xBF]*"
local CHAR_AT = "^" .. CHAR
local function chars_of(s)
  local out, n = {}, 0
  local i, len = 1, #s
  while i <= len do
    local a, b = find(s, CHAR_AT, i)
    if not a then b = i end
    n = n + 1
    out[n] = sub(s, i, b)
    i = b + 1
  end
  return out, n
end

local function escape_pattern(s)
  return (gsub(s, "[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"))
end

-- Whitespace: ASCII \t \n \v \f \r and space, plus Unicode's White_Space characters (as Rust's
-- str::trim, which CopperMoon uses): U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
-- U+202F, U+205F, U+3000.
local USPACE = {
  ["\xC2\x85"] = true, ["\xC2\xA0"] = true, ["\xE1\x9A\x80"] = true, ["\xE2\x80\xA8"] = true,
  ["\xE2\x80\xA9"] = true, ["\xE2\x80\xAF"] = true, ["\xE2\x81\x9F"] = true, ["\xE3\x80\x80"] = true,
}
for c = 0x80, 0x8A do USPACE["\xE2\x80" .. string.char(c)] = true end

local function lskip(s) -- index of the first non-space byte
  local i = 1
  while true do
    local _, e = find(s, "^[\t-\r ]+", i)
    if e then i = e + 1 end
    local b = byte(s, i)
    if b == 0xC2 and USPACE[sub(s, i, i + 1)] then
      i = i + 2
    elseif b and b >= 0xE1 and b <= 0xE3 and USPACE[sub(s, i, i + 2)] then
      i = i + 3
    else
      return i
    end
  end
end

local function rskip(s) -- index of the last non-space byte (0 if none)
  local j = #s
  while j > 0 do
    local b = byte(s, j)
    if b == 32 or (b >= 9 and b <= 13) then
      j = j - 1
    elseif b >= 0x80 and j >= 2 and USPACE[sub(s, j - 1, j)] then
      j = j - 2
    elseif b >= 0x80 and j >= 3 and USPACE[sub(s, j - 2, j)] then
      j = j - 3
    else
      return j
    end
  end
  return 0
end

-- string ------------------------------------------------------------------------------------

local S = {}

-- split(s, sep[, plain=true][, max]): the pieces between separators, empty ones included
-- ("a,,b" -> {"a", "", "b"}). An empty sep splits into UTF-8 characters. With plain = false,
-- sep is a Lua pattern (empty matches are not separators). max: at most that many pieces, the
-- last holding the rest. split(s, sep, max) works too.
function S.split(s, sep, plain, max)
  s = str(s, 1, "string.split")
  sep = str(sep, 2, "string.split")
  if type(plain) == "number" and max == nil then plain, max = true, plain end
  if plain == nil then plain = true end
  max = int(max, 4, "string.split", huge)
  if max ~= huge and max < 1 then badvalue(4, "string.split", "max must be at least 1") end
  if sep == "" then
    local out, n = chars_of(s)
    if n > max then
      out[max] = concat(out, "", max, n)
      for k = n, max + 1, -1 do out[k] = nil end
    end
    return out
  end
  plain = not not plain
  if not plain then
    local ok, e = pcall(find, "", sep)
    if not ok then badvalue(2, "string.split", (gsub(e, "^.-: ", ""))) end
  end
  local out, n, start, init, len = {}, 0, 1, 1, #s
  while n < max - 1 do
    local a, b = find(s, sep, init, plain)
    if not a then break end
    if b < a then -- an empty match: not a separator
      if a > len then break end
      init = a + 1
    else
      n = n + 1
      out[n] = sub(s, start, a - 1)
      start, init = b + 1, b + 1
    end
  end
  out[n + 1] = sub(s, start)
  return out
end

function S.trim(s)
  s = str(s, 1, "string.trim")
  local i = lskip(s)
  if i > #s then return "" end
  return sub(s, i, rskip(s))
end

function S.ltrim(s)
  s = str(s, 1, "string.ltrim")
  return sub(s, lskip(s))
end

function S.rtrim(s)
  s = str(s, 1, "string.rtrim")
  return sub(s, 1, rskip(s))
end

function S.starts_with(s, prefix)
  s = str(s, 1, "string.starts_with")
  prefix = str(prefix, 2, "string.starts_with")
  return sub(s, 1, #prefix) == prefix
end

function S.ends_with(s, suffix)
  s = str(s, 1, "string.ends_with")
  suffix = str(suffix, 2, "string.ends_with")
  return suffix == "" or sub(s, -#suffix) == suffix
end

function S.contains(s, needle)
  s = str(s, 1, "string.contains")
  needle = str(needle, 2, "string.contains")
  return find(s, needle, 1, true) ~= nil
end

-- Padding to a width in UTF-8 characters; the fill (default " ") is repeated and cut to fit.
local function padding(s, n, fill, fname)
  s = str(s, 1, fname)
  n = int(n, 2, fname)
  if n > MAX_WIDTH then badvalue(2, fname, "width must be at most " .. MAX_WIDTH) end
  fill = fill == nil and " " or str(fill, 3, fname)
  if fill == "" then badvalue(3, fname, "fill must not be empty") end
  local missing = n - chars_len(s)
  if missing <= 0 then return s, "", 0 end
  return s, fill, missing
end

local function fill_of(fill, count)
  if count <= 0 then return "" end
  local flen = chars_len(fill)
  if flen == 1 then return rep(fill, count) end
  local whole = count // flen
  local out = rep(fill, whole)
  local rest = count - whole * flen
  if rest > 0 then
    local cs = chars_of(fill)
    out = out .. concat(cs, "", 1, rest)
  end
  return out
end

function S.pad_left(s, n, fill)
  local str_, f, missing = padding(s, n, fill, "string.pad_left")
  return fill_of(f, missing) .. str_
end

function S.pad_right(s, n, fill)
  local str_, f, missing = padding(s, n, fill, "string.pad_right")
  return str_ .. fill_of(f, missing)
end

function S.pad_center(s, n, fill)
  local str_, f, missing = padding(s, n, fill, "string.pad_center")
  local left = missing // 2
  return fill_of(f, left) .. str_ .. fill_of(f, missing - left)
end

-- truncate(s, n[, suffix]): at most n characters; when cut, the suffix is part of the n.
function S.truncate(s, n, suffix)
  s = str(s, 1, "string.truncate")
  n = int(n, 2, "string.truncate")
  if n < 0 then badvalue(2, "string.truncate", "length must not be negative") end
  suffix = suffix == nil and "" or str(suffix, 3, "string.truncate")
  if chars_len(s) <= n then return s end
  local keep = n - chars_len(suffix)
  if keep <= 0 then
    local cs = chars_of(suffix)
    return concat(cs, "", 1, math.min(n, #cs))
  end
  local cs = chars_of(s)
  return concat(cs, "", 1, keep) .. suffix
end

-- lines(s): a list of the lines, without their "\n" or "\r\n" (as CopperMoon, which returns a
-- list); a final line ending does not start another line. "" -> {}.
function S.lines(s)
  s = str(s, 1, "string.lines")
  local out, n, i, len = {}, 0, 1, #s
  while i <= len do
    local e = find(s, "\n", i, true)
    local line
    if e then
      line = sub(s, i, e - 1)
      i = e + 1
    else
      line = sub(s, i)
      i = len + 1
    end
    if e and byte(line, -1) == 13 then line = sub(line, 1, -2) end
    n = n + 1
    out[n] = line
  end
  return out
end

function S.chars(s)
  s = str(s, 1, "string.chars")
  return (chars_of(s))
end

-- replace_all(s, old, new): every occurrence of old, plainly (no patterns, "%" is a "%").
-- An empty old inserts new between characters, as Python's and JavaScript's replace do.
function S.replace_all(s, old, new)
  s = str(s, 1, "string.replace_all")
  old = str(old, 2, "string.replace_all")
  new = str(new, 3, "string.replace_all")
  local repl = gsub(new, "%%", "%%%%")
  if old == "" then
    return new .. (gsub(s, CHAR, "%0" .. repl))
  end
  return (gsub(s, escape_pattern(old), repl))
end

-- count(s, sub): non-overlapping occurrences ("" counts 0).
function S.count(s, needle)
  s = str(s, 1, "string.count")
  needle = str(needle, 2, "string.count")
  if needle == "" then return 0 end
  local n, init = 0, 1
  while true do
    local _, e = find(s, needle, init, true)
    if not e then return n end
    n, init = n + 1, e + 1
  end
end

-- table -------------------------------------------------------------------------------------

local T = {}

function T.keys(t)
  tbl(t, 1, "table.keys")
  local out, n = {}, 0
  for k in pairs(t) do
    n = n + 1
    out[n] = k
  end
  return out
end

function T.values(t)
  tbl(t, 1, "table.values")
  local out, n = {}, 0
  for _, v in pairs(t) do
    n = n + 1
    out[n] = v
  end
  return out
end

-- merge(...): a new table with the entries of each table in turn (later ones win). nil
-- arguments are skipped (merge(defaults, opts) with no opts).
function T.merge(...)
  local out = {}
  for i = 1, select("#", ...) do
    local t = select(i, ...)
    if t ~= nil then
      tbl(t, i, "table.merge")
      for k, v in pairs(t) do out[k] = v end
    end
  end
  return out
end

-- map/filter/find/reduce walk the array part 1..#t; fn gets (value, index).
function T.map(t, fn)
  tbl(t, 1, "table.map")
  callable(fn, 2, "table.map")
  local out = {}
  for i = 1, #t do out[i] = fn(t[i], i) end
  return out
end

function T.filter(t, fn)
  tbl(t, 1, "table.filter")
  callable(fn, 2, "table.filter")
  local out, n = {}, 0
  for i = 1, #t do
    local v = t[i]
    if fn(v, i) then
      n = n + 1
      out[n] = v
    end
  end
  return out
end

-- find(t, fn) -> the first value for which fn is true, and its index; nil if none.
function T.find(t, fn)
  tbl(t, 1, "table.find")
  callable(fn, 2, "table.find")
  for i = 1, #t do
    local v = t[i]
    if fn(v, i) then return v, i end
  end
  return nil
end

-- reduce(t, fn[, init]): acc = fn(acc, value, index); without init, t[1] starts.
function T.reduce(t, fn, init)
  tbl(t, 1, "table.reduce")
  callable(fn, 2, "table.reduce")
  local acc, start = init, 1
  if acc == nil then
    if #t == 0 then return nil end
    acc, start = t[1], 2
  end
  for i = start, #t do acc = fn(acc, t[i], i) end
  return acc
end

-- contains(t, value): whether any entry (array or not) has that value.
function T.contains(t, value)
  tbl(t, 1, "table.contains")
  for _, v in pairs(t) do
    if v == value then return true end
  end
  return false
end

-- slice(t[, i[, j]]): t[i..j] as a new list; i and j as string.sub's (negative from the end,
-- clamped to 1..#t).
function T.slice(t, i, j)
  tbl(t, 1, "table.slice")
  i = int(i, 2, "table.slice", 1)
  j = int(j, 3, "table.slice", -1)
  local len = #t
  if i < 0 then i = len + i + 1 end
  if i < 1 then i = 1 end
  if j < 0 then j = len + j + 1 end
  if j > len then j = len end
  local out, n = {}, 0
  for k = i, j do
    n = n + 1
    out[n] = t[k]
  end
  return out
end

function T.reverse(t)
  tbl(t, 1, "table.reverse")
  local out, len = {}, #t
  for k = 1, len do out[k] = t[len - k + 1] end
  return out
end

-- clone(t[, deep]): a copy of every entry, with the same metatable. Deep: table values are
-- cloned too (keys are not); shared and cyclic references stay shared and cyclic.
local function deep_clone(t, seen)
  local c = seen[t]
  if c then return c end
  c = {}
  seen[t] = c
  for k, v in next, t do
    if type(v) == "table" then v = deep_clone(v, seen) end
    c[k] = v
  end
  local mt = dgetmetatable(t)
  if mt then setmetatable(c, mt) end
  return c
end

function T.clone(t, deep)
  tbl(t, 1, "table.clone")
  if deep then return deep_clone(t, {}) end
  local c = {}
  for k, v in next, t do c[k] = v end
  local mt = dgetmetatable(t)
  if mt then setmetatable(c, mt) end
  return c
end

function T.is_empty(t)
  tbl(t, 1, "table.is_empty")
  for _ in pairs(t) do return false end
  return true
end

-- count(t[, fn]): the number of entries (array or not), or of those for which fn(value, key)
-- is true.
function T.count(t, fn)
  tbl(t, 1, "table.count")
  local n = 0
  if fn == nil then
    for _ in pairs(t) do n = n + 1 end
  else
    callable(fn, 2, "table.count")
    for k, v in pairs(t) do
      if fn(v, k) then n = n + 1 end
    end
  end
  return n
end

return { string = S, table = T }
