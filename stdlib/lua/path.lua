-- path (CopperMoon's names, POSIX semantics as Node's path.posix): join, dirname, basename,
-- extname, resolve, normalize, is_absolute, is_relative, sep. Pure string work, except
-- resolve, which asks os_ext.cwd(). See docs/path.md for the edge cases.
local cwd = require("os_ext").cwd

local type, tostring, select, error = type, tostring, select, error
local find, sub, gsub, byte, gmatch = string.find, string.sub, string.gsub, string.byte, string.gmatch
local concat = table.concat

local SLASH = 47 -- "/"

-- Lua's own argument checks accept numbers as strings; so do these.
local function check(v, i, fname)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then return tostring(v) end
  error("bad argument #" .. i .. " to '" .. fname .. "' (string expected, got " .. (t == "nil" and "no value" or t) .. ")", 3)
end

-- Resolves ".", ".." and empty segments of p (without caring about a leading or trailing
-- slash): "a//b/./c/.." -> "a/b". With `absolute`, ".." never goes above the root; otherwise
-- leading ".." are kept.
local function segments(p, absolute)
  local out, n = {}, 0
  for seg in gmatch(p, "[^/]+") do
    if seg == ".." then
      if n > 0 and out[n] ~= ".." then
        out[n] = nil
        n = n - 1
      elseif not absolute then
        n = n + 1
        out[n] = ".."
      end
    elseif seg ~= "." then
      n = n + 1
      out[n] = seg
    end
  end
  return concat(out, "/")
end

local function normalize_str(p)
  if p == "" then return "." end
  local absolute = byte(p, 1) == SLASH
  local trailing = byte(p, -1) == SLASH
  local s = segments(p, absolute)
  if s == "" and not absolute then s = "." end
  if trailing and s ~= "" then s = s .. "/" end
  if absolute then return "/" .. s end
  return s
end

local M = { sep = "/" }

function M.normalize(p)
  return normalize_str(check(p, 1, "path.normalize"))
end

-- Joins the non-empty arguments with "/" and normalizes; an absolute argument does not reset
-- the path (use resolve for that). No argument, or only empty ones: ".".
function M.join(...)
  local n = select("#", ...)
  local parts, k = {}, 0
  for i = 1, n do
    local s = check((select(i, ...)), i, "path.join")
    if s ~= "" then
      k = k + 1
      parts[k] = s
    end
  end
  if k == 0 then return "." end
  return normalize_str(concat(parts, "/"))
end

-- Right to left until a path is absolute, then the current directory; normalized, without a
-- trailing slash.
function M.resolve(...)
  local n = select("#", ...)
  local parts, k = {}, 0
  local absolute = false
  for i = n, 1, -1 do
    local s = check((select(i, ...)), i, "path.resolve")
    if s ~= "" then
      k = k + 1
      parts[k] = s
      if byte(s, 1) == SLASH then
        absolute = true
        break
      end
    end
  end
  if not absolute then
    k = k + 1
    parts[k] = cwd()
  end
  -- parts is in reverse order
  for i = 1, k // 2 do parts[i], parts[k - i + 1] = parts[k - i + 1], parts[i] end
  return "/" .. segments(concat(parts, "/"), true)
end

function M.is_absolute(p)
  return byte(check(p, 1, "path.is_absolute"), 1) == SLASH
end

function M.is_relative(p)
  return byte(check(p, 1, "path.is_relative"), 1) ~= SLASH
end

-- POSIX dirname: "a/b/" -> "a", "a" -> ".", "/a" -> "/", "/" -> "/", "" -> ".".
function M.dirname(p)
  p = check(p, 1, "path.dirname")
  local s = gsub(p, "/+$", "")
  if s == "" then return p == "" and "." or "/" end
  local i = find(s, "/[^/]*$")
  if not i then return "." end
  s = gsub(sub(s, 1, i - 1), "/+$", "")
  if s == "" then return "/" end
  return s
end

-- The last segment, trailing slashes ignored: "a/b/" -> "b", "/" -> "", "" -> "". A suffix is
-- removed when the name ends with it and is not all of it (as GNU basename).
function M.basename(p, suffix)
  p = check(p, 1, "path.basename")
  if suffix ~= nil then suffix = check(suffix, 2, "path.basename") end
  local s = gsub(p, "/+$", "")
  local name = s:match("[^/]*$")
  if suffix and suffix ~= "" and #suffix < #name and sub(name, -#suffix) == suffix then
    name = sub(name, 1, #name - #suffix)
  end
  return name
end

-- From the last "." of the basename, as Node: "a.tar.gz" -> ".gz", "a." -> ".", "a" -> "",
-- ".bashrc" -> "" (a leading dot starts a hidden name, not an extension), ".." -> "",
-- "..x" -> ".x".
function M.extname(p)
  local name = M.basename(check(p, 1, "path.extname"))
  local i = find(name, "%.[^.]*$")
  if not i or i == 1 or name == ".." then return "" end
  return sub(name, i)
end

return M
