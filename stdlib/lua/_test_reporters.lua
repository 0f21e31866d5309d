-- _test_reporters: the output formats of `moonwire test`. Loaded by _testrunner.lua.
--
-- A result is {file, name, status = "pass"|"fail"|"skip", ms, message, traceback, reason}:
-- `name` is nil for a failure of the file itself (it does not load, its top level raised, a
-- worker process crashed). Every reporter has start(), result(r), raw(text) (a worker's
-- terminal lines, passed through), note(line), finish(totals) with totals {passed, failed,
-- skipped, seconds}.

local fmt, concat = string.format, table.concat

local M = {}

local function indent(text)
  return "    " .. text:gsub("\t", "    "):gsub("\n", "\n    ")
end
M.indent = indent

function M.header(r)
  if r.name then return r.file .. " :: " .. r.name end
  return r.file
end
local header = M.header

local function failure_body(r)
  local text = r.message or ""
  if r.traceback then text = text .. "\n" .. r.traceback end
  return text
end

function M.summary(t)
  local s = fmt("%d passed, %d failed", t.passed, t.failed)
  if t.skipped > 0 then s = s .. fmt(", %d skipped", t.skipped) end
  return s
end

-- A writer: write(s) and close(), to a file handle that stays open (stdout) or a path.
function M.writer(path)
  if not path then
    return { write = function(s) io.stdout:write(s); io.stdout:flush() end, close = function() end }
  end
  local f, err = io.open(path, "w")
  if not f then return nil, err end
  return { write = function(s) f:write(s); f:flush() end, close = function() f:close() end }
end

-- Terminal ------------------------------------------------------------------------------------

local COLORS = { ok = "\27[32m", FAIL = "\27[31m", skip = "\27[33m" }

function M.terminal(w, opts)
  local color = opts.color
  local function tag(t)
    local padded = t == "ok" and "ok  " or t
    if color then return COLORS[t] .. padded .. "\27[0m" end
    return padded
  end
  local R = {}
  function R.start() end
  function R.result(r)
    if r.from_worker then return end
    if r.status == "pass" then
      w.write(fmt("%s %s (%d ms)\n", tag("ok"), header(r), r.ms or 0))
    elseif r.status == "skip" then
      w.write(tag("skip") .. " " .. header(r) .. (r.reason and (" (" .. r.reason .. ")") or "") .. "\n")
    else
      local body = failure_body(r)
      w.write(tag("FAIL") .. " " .. header(r) .. "\n" .. (body ~= "" and (indent(body) .. "\n") or ""))
    end
  end
  function R.raw(text) w.write(text) end
  function R.note(line) w.write(line .. "\n") end
  function R.finish(totals)
    if not opts.no_summary then w.write(M.summary(totals) .. "\n") end
    w.close()
  end
  return R
end

-- TAP 13 ---------------------------------------------------------------------------------------

local function yaml_string(s)
  s = s:gsub('[\\"]', "\\%0"):gsub("\n", "\\n"):gsub("\r", "\\r"):gsub("\t", "\\t")
  s = s:gsub("[%z\1-\31\127]", function(c) return fmt("\\x%02x", c:byte()) end)
  return '"' .. s .. '"'
end

function M.tap(w)
  local R, n = {}, 0
  function R.start() w.write("TAP version 13\n") end
  function R.result(r)
    n = n + 1
    local desc = header(r):gsub("[\r\n]", " "):gsub("\\", "\\\\"):gsub("#", "\\#")
    if r.status == "pass" then
      w.write(fmt("ok %d - %s\n", n, desc))
    elseif r.status == "skip" then
      w.write(fmt("ok %d - %s # SKIP%s\n", n, desc, r.reason and (" " .. r.reason:gsub("[\r\n]", " ")) or ""))
    else
      w.write(fmt("not ok %d - %s\n", n, desc))
      local lines = { "  ---", "  message: " .. yaml_string(r.message or ""), "  severity: fail",
                      "  file: " .. yaml_string(r.file) }
      if r.name then lines[#lines + 1] = "  name: " .. yaml_string(r.name) end
      if r.traceback then lines[#lines + 1] = "  stack: " .. yaml_string(r.traceback) end
      lines[#lines + 1] = "  ..."
      w.write(concat(lines, "\n") .. "\n")
    end
  end
  function R.raw() end  -- a worker's terminal lines: the results come as events
  function R.note(line) w.write("# " .. line:gsub("\n", "\n# ") .. "\n") end
  function R.finish(totals)
    w.write("# " .. M.summary(totals) .. "\n")
    w.write(fmt("1..%d\n", n))
    w.close()
  end
  return R
end

-- JUnit XML ------------------------------------------------------------------------------------

-- Text as XML 1.0 character data: markup escaped, invalid UTF-8 and the control characters
-- XML does not allow written as \xNN.
local function xml_text(s)
  s = tostring(s)
  local out, i, len = {}, 1, #s
  while i <= len do
    local n, bad = utf8.len(s, i)
    if n then
      out[#out + 1] = s:sub(i)
      break
    end
    out[#out + 1] = s:sub(i, bad - 1)
    out[#out + 1] = fmt("\\x%02x", s:byte(bad))
    i = bad + 1
  end
  s = concat(out)
  s = s:gsub("[%z\1-\8\11\12\14-\31]", function(c) return fmt("\\x%02x", c:byte()) end)
  s = s:gsub("\239\191[\190\191]", "\\ufffe")  -- U+FFFE, U+FFFF are not XML characters
  return (s:gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end
M.xml_text = xml_text

local function attr(s) return (xml_text(s):gsub("\n", "&#10;"):gsub("\r", "&#13;"):gsub("\t", "&#9;")) end

local function seconds(ms) return fmt("%.3f", (ms or 0) / 1000) end

function M.junit(w)
  local R = {}
  local suites, by_file = {}, {}
  local function suite(file)
    local s = by_file[file]
    if not s then
      s = { file = file, cases = {}, failures = 0, skipped = 0, ms = 0, out = {} }
      by_file[file] = s
      suites[#suites + 1] = s
    end
    return s
  end
  function R.start() end
  function R.result(r)
    local s = suite(r.file)
    s.cases[#s.cases + 1] = r
    s.ms = s.ms + (r.ms or 0)
    if r.status == "fail" then s.failures = s.failures + 1 end
    if r.status == "skip" then s.skipped = s.skipped + 1 end
  end
  function R.raw(text, file)
    if file then
      local s = suite(file)
      s.out[#s.out + 1] = text
    end
  end
  function R.note() end
  function R.finish(totals)
    local timestamp = os.date("!%Y-%m-%dT%H:%M:%S")
    local b = { '<?xml version="1.0" encoding="UTF-8"?>\n' }
    b[#b + 1] = fmt('<testsuites name="moonwire test" tests="%d" failures="%d" errors="0" skipped="%d" time="%.3f">\n',
                    totals.passed + totals.failed + totals.skipped, totals.failed, totals.skipped, totals.seconds or 0)
    for id, s in ipairs(suites) do
      b[#b + 1] = fmt('  <testsuite name="%s" id="%d" tests="%d" failures="%d" errors="0" skipped="%d" time="%s" timestamp="%s" hostname="localhost">\n',
                      attr(s.file), id - 1, #s.cases, s.failures, s.skipped, seconds(s.ms), timestamp)
      for _, r in ipairs(s.cases) do
        local open = fmt('    <testcase name="%s" classname="%s" file="%s" time="%s"',
                         attr(r.name or "(file)"), attr(r.file), attr(r.file), seconds(r.ms))
        if r.status == "pass" then
          b[#b + 1] = open .. "/>\n"
        elseif r.status == "skip" then
          b[#b + 1] = open .. ">\n"
          b[#b + 1] = r.reason and fmt('      <skipped message="%s"/>\n', attr(r.reason)) or "      <skipped/>\n"
          b[#b + 1] = "    </testcase>\n"
        else
          local message = r.message or ""
          b[#b + 1] = open .. ">\n"
          b[#b + 1] = fmt('      <failure message="%s" type="%s">%s</failure>\n', attr(message:match("^[^\n]*")),
                          r.kind or "failure", xml_text(failure_body(r)))
          b[#b + 1] = "    </testcase>\n"
        end
      end
      if #s.out > 0 then b[#b + 1] = "    <system-out>" .. xml_text(concat(s.out)) .. "</system-out>\n" end
      b[#b + 1] = "  </testsuite>\n"
    end
    b[#b + 1] = "</testsuites>\n"
    w.write(concat(b))
    w.close()
  end
  return R
end

-- Events for the parent of a --jobs run: one JSON object a line, then {"done": true}.
function M.events(w)
  local json = rawget(_G, "json") or require("json")
  local R = {}
  function R.start() end
  function R.result(r)
    w.write(json.encode({ file = r.file, name = r.name, status = r.status, ms = r.ms, message = r.message,
                          traceback = r.traceback, reason = r.reason, kind = r.kind }) .. "\n")
  end
  function R.raw() end
  function R.note() end
  function R.finish(t)
    w.write(json.encode({ done = true, passed = t.passed, failed = t.failed, skipped = t.skipped }) .. "\n")
    w.close()
  end
  return R
end

return M
