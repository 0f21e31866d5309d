-- The static-file part of http.server (app:static), loaded by _http_router.lua on first use.
--
-- A request's path below the prefix is taken segment by segment from the raw target, each
-- segment percent-decoded on its own: a segment that decodes to "..", ".", or contains "/",
-- "\" or NUL is refused (400), so neither "../", "%2e%2e/" nor "..%2f" can climb out. The
-- file's real path (symlinks resolved by fs.realpath) must still be inside the root's real
-- path, else 404: a symlink pointing out of the root serves nothing. The file itself is sent
-- by the server (a `file` response), never read into Lua.

-- fail(msg) raises EINVAL at the user's code: the router's own helper, handed over by
-- M.bind(fail) right after loading (one definition of "the user's level" for both parts).
local fail

local type, tostring, tonumber, pairs, pcall, error = type, tostring, tonumber, pairs, pcall, error
local mtype, floor = math.type, math.floor
local find, sub, byte, match, lower, fmt, gmatch = string.find, string.sub, string.byte, string.match, string.lower,
  string.format, string.gmatch
local concat = table.concat
local fs = require("fs")

local M = {}

function M.bind(router_fail) fail = router_fail end

-- Content types by extension (lower-cased); anything else is application/octet-stream.
local UTF8 = "; charset=utf-8"
M.types = {
  html = "text/html" .. UTF8, htm = "text/html" .. UTF8, css = "text/css" .. UTF8,
  js = "text/javascript" .. UTF8, mjs = "text/javascript" .. UTF8, json = "application/json",
  map = "application/json", webmanifest = "application/manifest+json", txt = "text/plain" .. UTF8,
  md = "text/markdown" .. UTF8, csv = "text/csv" .. UTF8, xml = "application/xml", xhtml = "application/xhtml+xml",
  rss = "application/rss+xml", atom = "application/atom+xml", yaml = "application/yaml", yml = "application/yaml",
  toml = "application/toml", lua = "text/x-lua" .. UTF8, sh = "text/x-shellscript" .. UTF8,
  svg = "image/svg+xml", png = "image/png", jpg = "image/jpeg", jpeg = "image/jpeg", gif = "image/gif",
  webp = "image/webp", avif = "image/avif", ico = "image/x-icon", bmp = "image/bmp", tif = "image/tiff",
  tiff = "image/tiff", woff = "font/woff", woff2 = "font/woff2", ttf = "font/ttf", otf = "font/otf",
  wasm = "application/wasm", pdf = "application/pdf", zip = "application/zip", gz = "application/gzip",
  tar = "application/x-tar", mp3 = "audio/mpeg", wav = "audio/wav", ogg = "audio/ogg", oga = "audio/ogg",
  flac = "audio/flac", m4a = "audio/mp4", mp4 = "video/mp4", webm = "video/webm", ogv = "video/ogg",
  mov = "video/quicktime",
}

function M.content_type(name)
  local ext = match(name, "%.([^./]+)$")
  return ext and M.types[lower(ext)] or "application/octet-stream"
end

-- Dates -------------------------------------------------------------------------------------

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8, Sep = 9, Oct = 10, Nov = 11,
  Dec = 12 }

local function days_from_civil(y, m, d) -- days since 1970-01-01 (proleptic Gregorian)
  if m <= 2 then y = y - 1 end
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (m > 2 and m - 3 or m + 9) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

function M.http_date(t) return os.date("!%a, %d %b %Y %H:%M:%S GMT", t) end

-- Seconds since the epoch for an HTTP date (IMF-fixdate, RFC 850 or asctime), or nil.
function M.parse_http_date(s)
  if type(s) ~= "string" then return nil end
  local d, mon, y, h, mi, sec = match(s, "^%a+, (%d%d) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$")
  if not d then
    d, mon, y, h, mi, sec = match(s, "^%a+, (%d%d)%-(%a%a%a)%-(%d%d) (%d%d):(%d%d):(%d%d) GMT$")
    if y then
      y = tonumber(y)
      y = y < 70 and 2000 + y or 1900 + y
    end
  end
  if not d then
    mon, d, h, mi, sec, y = match(s, "^%a%a%a (%a%a%a) ([ %d]%d) (%d%d):(%d%d):(%d%d) (%d%d%d%d)$")
  end
  local m = MONTHS[mon or ""]
  if not m then return nil end
  d, y, h, mi, sec = tonumber(d), tonumber(y), tonumber(h), tonumber(mi), tonumber(sec)
  if d < 1 or d > 31 or h > 23 or mi > 59 or sec > 60 then return nil end
  return days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 + sec
end

-- Validators ------------------------------------------------------------------------------

-- If-None-Match: "*" or a list of entity tags, compared weakly (W/ ignored).
local function none_match(header, etag)
  if match(header, "^%s*%*%s*$") then return true end
  local bare = match(etag, '^W/(.*)$') or etag
  for tag in gmatch(header, '[^,]+') do
    tag = match(tag, "^%s*(.-)%s*$")
    tag = match(tag, '^W/(.*)$') or tag
    if tag == bare then return true end
  end
  return false
end

-- If-Range: an entity tag (strong comparison) or a date that must equal Last-Modified.
local function if_range_holds(header, etag, mtime)
  header = match(header, "^%s*(.-)%s*$")
  if byte(header, 1) == 34 then return header == etag end -- '"'
  if sub(header, 1, 2) == "W/" then return false end
  return M.parse_http_date(header) == mtime
end

-- Range: "bytes=a-b", "bytes=a-", "bytes=-n" (one range). Returns first, last (inclusive);
-- false when unsatisfiable (416); nil when the header is to be ignored (malformed, several
-- ranges: the whole file is sent, as RFC 9110 allows).
function M.parse_range(header, size)
  local spec = match(header, "^%s*[Bb][Yy][Tt][Ee][Ss]%s*=%s*(.-)%s*$")
  if not spec or find(spec, ",", 1, true) then return nil end
  local a, b = match(spec, "^(%d*)%s*%-%s*(%d*)$")
  if not a or (a == "" and b == "") then return nil end
  if a == "" then
    local n = tonumber(b)
    if n == 0 then return false end
    local first = size - n
    if first < 0 then first = 0 end
    return floor(first), size - 1
  end
  local first = tonumber(a)
  if b ~= "" and tonumber(b) < first then return nil end
  if first >= size then return false end
  local last = b ~= "" and tonumber(b) or size - 1
  if last > size - 1 then last = size - 1 end
  return floor(first), floor(last)
end

-- Options ---------------------------------------------------------------------------------

local OPTIONS = { "index", "max_age", "dotfiles", "etag", "last_modified" }

local function edit_distance(a, b)
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = byte(a, i) == byte(b, j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

local function check_options(opts, fname)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then fail(fname .. ": options must be a table (got " .. type(opts) .. ")") end
  for k in pairs(opts) do
    if type(k) ~= "string" then
      fail(fname .. ": unexpected option key " .. tostring(k) .. " (options are named fields)")
    end
    local known, best, best_d = false, nil, #k <= 4 and 1 or 2
    for _, name in ipairs(OPTIONS) do
      if name == k then known = true break end
      local d = edit_distance(k, name)
      if d <= best_d then best, best_d = name, d end
    end
    if not known then
      fail(fname .. ": unknown option '" .. k .. "'" .. (best and " (did you mean '" .. best .. "'?)" or ""))
    end
  end
  local index = opts.index
  if index == nil then index = "index.html" end
  if index ~= false and (type(index) ~= "string" or index == "" or find(index, "[/%z]") or index == ".." or index == ".") then
    fail(fname .. ": option 'index' must be a file name or false (got " .. tostring(index) .. ")")
  end
  local max_age = opts.max_age
  if max_age == nil then max_age = 0 end
  if mtype(max_age) == "float" and max_age == floor(max_age) then max_age = floor(max_age) end
  if mtype(max_age) ~= "integer" or max_age < 0 or max_age > 31536000 * 10 then
    fail(fname .. ": option 'max_age' must be an integer number of seconds from 0 to 315360000 (got " ..
      tostring(max_age) .. ")")
  end
  for _, name in ipairs({ "dotfiles", "etag", "last_modified" }) do
    if opts[name] ~= nil and type(opts[name]) ~= "boolean" then
      fail(fname .. ": option '" .. name .. "' must be a boolean (got " .. type(opts[name]) .. ")")
    end
  end
  return {
    index = index, cache_control = "public, max-age=" .. max_age, dotfiles = opts.dotfiles == true,
    etag = opts.etag ~= false, last_modified = opts.last_modified ~= false,
  }
end

-- Serving -----------------------------------------------------------------------------------

local function plain(status, body, headers)
  headers = headers or {}
  headers["content-type"] = "text/plain; charset=utf-8"
  return { status = status, headers = headers, body = body }
end
local NOT_FOUND = "Not Found"

-- The real path of `p` if it exists inside root; else nil and the response to send.
local function resolve(p, root)
  local ok, real = pcall(fs.realpath, p)
  if not ok then
    local code = type(real) == "table" and real.code or nil
    if code == "EACCES" then return nil, plain(403, "Forbidden") end
    if code == "ENOENT" or code == "ENOTDIR" or code == "ELOOP" or code == "ENAMETOOLONG" then
      return nil, plain(404, NOT_FOUND)
    end
    error(real, 0)
  end
  if root ~= "/" and real ~= root and sub(real, 1, #root + 1) ~= root .. "/" then
    return nil, plain(404, NOT_FOUND) -- a symlink out of the root
  end
  return real
end

local function stat(p)
  local ok, st = pcall(fs.stat, p)
  if ok then return st end
  local code = type(st) == "table" and st.code or nil
  if code == "ENOENT" or code == "ENOTDIR" or code == "ELOOP" then return nil end
  error(st, 0)
end

local function serve_file(ctx, o, real, st)
  local size = st.size
  local mtime = floor(st.mtime)
  local etag = fmt('"%x-%x"', size, floor(st.mtime * 1000000))
  local headers = { ["accept-ranges"] = "bytes", ["cache-control"] = o.cache_control }
  if o.etag then headers.etag = etag end
  if o.last_modified then headers["last-modified"] = M.http_date(mtime) end
  local h = ctx.headers
  -- If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
  local inm, ims = h["if-none-match"], h["if-modified-since"]
  if type(inm) == "string" then
    if o.etag and none_match(inm, etag) then return { status = 304, headers = headers, body = "" } end
  elseif type(ims) == "string" and o.last_modified then
    local t = M.parse_http_date(ims)
    if t and mtime <= t then return { status = 304, headers = headers, body = "" } end
  end
  headers["content-type"] = M.content_type(real)
  local range = h.range
  if type(range) == "string" and size > 0 then
    local if_range = h["if-range"]
    if type(if_range) ~= "string" or if_range_holds(if_range, o.etag and etag or "", o.last_modified and mtime or nil) then
      local first, last = M.parse_range(range, size)
      if first == false then
        headers["content-range"] = "bytes */" .. size
        return plain(416, "Range Not Satisfiable", headers)
      elseif first then
        headers["content-range"] = fmt("bytes %d-%d/%d", first, last, size)
        return { status = 206, headers = headers, file = real, offset = first, length = last - first + 1 }
      end
    end
  end
  return { status = 200, headers = headers, file = real, offset = 0, length = size }
end

-- The GET/HEAD handler for app:static(prefix, dir, opts); raises at registration for a bad dir
-- or bad options.
function M.handler(dir, opts, prefix)
  local fname = "app:static"
  if type(dir) ~= "string" or dir == "" then
    fail(fname .. ": dir must be a directory path (got " .. (dir == "" and "an empty string" or type(dir)) .. ")")
  end
  local o = check_options(opts, fname)
  local root = fs.realpath(dir)
  if not fs.is_dir(root) then fail(fname .. ": '" .. dir .. "' is not a directory") end

  return function(ctx)
    local rest = ctx._rest
    local segs, parts = rest.segs, {}
    for i = rest.from, rest.to do
      local seg = segs[i]
      if seg == ".." or seg == "." or find(seg, "[/\\%z]") then return plain(400, "Bad Request") end
      if byte(seg, 1) == 46 and not o.dotfiles then return plain(404, NOT_FOUND) end
      parts[#parts + 1] = seg
    end
    local full = root == "/" and "/" .. concat(parts, "/") or root .. "/" .. concat(parts, "/")
    local real, failure = resolve(full, root)
    if not real then return failure end
    local st = stat(real)
    if not st then return plain(404, NOT_FOUND) end
    if st.is_dir then
      local raw = ctx._raw
      if byte(raw, -1) ~= 47 then
        -- "/docs" -> "/docs/" so that the page's relative links resolve; leading slashes
        -- collapsed so that "//host" cannot become a redirect to another site.
        local q = ctx.req.raw_query
        local location = (raw:gsub("^/+", "/")) .. "/" .. ((q and q ~= "") and "?" .. q or "")
        return plain(301, "Moved Permanently", { location = location })
      end
      if not o.index then return plain(404, NOT_FOUND) end
      real, failure = resolve(real .. "/" .. o.index, root)
      if not real then return failure end
      st = stat(real)
      if not st then return plain(404, NOT_FOUND) end
    end
    if not st.is_file then return plain(404, NOT_FOUND) end
    return serve_file(ctx, o, real, st)
  end
end

return M
