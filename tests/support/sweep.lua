-- Test support: the bad-input sweeps (tests/lua/bad_arguments*_test.lua). Every kind of bad
-- argument in every position of a call; each call must return or raise a clear error (a
-- message from Lua's argument checks, or an error object with a code), never crash or hang.
-- Usage: local sweep = dofile("tests/support/sweep.lua")(test, { wait = 0.02 })
return function(test, opts)
  local wait = opts and opts.wait or 0.02
  local M = {}

  M.BAD = {
    { "nil", nil }, { "false", false }, { "true", true }, { "-1", -1 }, { "0", 0 }, { "1.5", 1.5 },
    { "huge", 1e308 }, { "-huge", -math.huge }, { "nan", 0 / 0 }, { "maxint", math.maxinteger },
    { "minint", math.mininteger }, { "empty string", "" }, { "text", "not a thing" },
    { "long string", ("x"):rep(70000) }, { "numeric string", "99999" }, { "table", {} },
    { "options typo", { timeuot = 1 } }, { "function", function() end }, { "thread", coroutine.create(function() end) },
  }

  -- One call in its own task: a call that waits (accept with no timeout, a recv) is cancelled
  -- after `wait` seconds; that is fine, only a crash or a non-error garbage value is not.
  function M.probe(label, fn, ...)
    local args = table.pack(...)
    local t = task.spawn(function() return fn(table.unpack(args, 1, args.n)) end)
    local ok, err = pcall(t.join, t, wait)
    if not ok and type(err) == "table" and err.code == "ETIMEDOUT" and t.status == "suspended" then
      t:cancel()
      ok, err = pcall(t.join, t, 5)
      if not ok and type(err) == "table" and err.code == "cancelled" then return end
    end
    if ok then return end
    local kind = type(err)
    test.ok(kind == "string" or (kind == "table" and type(err.code) == "string" and type(err.message) == "string"),
      label .. ": raised a " .. kind .. " that is neither a message nor an error object: " .. tostring(err))
    if kind == "table" then
      test.ok(err.code ~= "EIO" or tostring(err):find("I/O"), label .. ": vague error " .. tostring(err))
    end
  end

  -- Calls fn with each bad value in each argument position (the others kept valid).
  function M.sweep(name, fn, valid)
    test.eq(type(fn), "function", name .. " does not exist")
    for pos = 1, math.max(#valid, 1) do
      for _, bad in ipairs(M.BAD) do
        local args = { table.unpack(valid) }
        args[pos] = bad[2]
        M.probe(name .. " arg " .. pos .. " = " .. bad[1], fn, table.unpack(args, 1, math.max(#valid, pos)))
      end
    end
  end

  -- A TCP echo server that must keep working through all of this: M.canary_ok() checks it,
  -- M.close_canary() stops it.
  local canary = net.tcp.listen(0)
  local canary_task = task.spawn(function()
    while true do
      local ok, c = pcall(canary.accept, canary)
      if not ok then return end
      task.spawn(function()
        local line = c:read_line()
        if line then c:write(line .. "\n") end
        c:close()
      end)
    end
  end)
  function M.canary_ok()
    local c = net.tcp.connect("127.0.0.1", canary.port, { timeout = 5000 })
    c:write("alive\n")
    test.eq(c:read_line(), "alive")
    c:close()
  end
  function M.close_canary()
    canary:close()
    canary_task:join(5)
  end
  return M
end
