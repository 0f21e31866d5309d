-- WebSocket chat: a broadcast server and its clients, in plain blocking-style Lua.
--
--   moonwire scripts/chat.lua                      demo: server + 3 clients in one process, then exits
--   moonwire scripts/chat.lua server [port]        run the server (Ctrl-C closes clients with 1001)
--   moonwire scripts/chat.lua client URL NAME      chat from the terminal (lines from stdin)
--
-- Protocol: text messages. "/nick NAME" renames you, "/who" lists who is here; anything else
-- is broadcast to everyone as "NAME: text".
local mode = arg and arg[1] or "demo"

local function serve(server, log)
  local names = {} -- conn.id -> name
  local function who()
    local list = {}
    for _, c in ipairs(server:clients()) do list[#list + 1] = names[c.id] or ("guest" .. c.id) end
    table.sort(list)
    return table.concat(list, ", ")
  end
  while true do
    local ok, conn = pcall(server.accept, server)
    if not ok then return end -- server closed
    task.spawn(function()
      names[conn.id] = "guest" .. conn.id
      log(("%s joined from %s"):format(names[conn.id], conn:peer_addr()))
      server:broadcast("* " .. names[conn.id] .. " joined")
      while true do
        local msg = conn:recv()
        if msg == nil or msg.type == "close" then break end
        if msg.type == "text" then
          local nick = msg.data:match("^/nick%s+(%S+)")
          if nick then
            server:broadcast(("* %s is now %s"):format(names[conn.id], nick))
            names[conn.id] = nick
          elseif msg.data == "/who" then
            conn:send("* here: " .. who())
          else
            server:broadcast(names[conn.id] .. ": " .. msg.data)
          end
        end
      end
      log(names[conn.id] .. " left")
      server:broadcast("* " .. names[conn.id] .. " left")
      names[conn.id] = nil
    end)
  end
end

if mode == "server" then
  local server = net.ws.listen("127.0.0.1", tonumber(arg[2]) or 8080)
  print("chat server on ws://" .. server:local_addr() .. "/")
  serve(server, print)
elseif mode == "client" then
  local url, name = assert(arg[2], "usage: chat.lua client URL NAME"), arg[3] or "anon"
  local ws = net.ws.connect(url, { timeout = 5000, ping_interval = 20000 })
  ws:send("/nick " .. name)
  task.spawn(function() -- print what arrives while we wait for input
    while true do
      local msg = ws:recv()
      if msg == nil or msg.type == "close" then break end
      if msg.type == "text" then print(msg.data) end
    end
    print("* disconnected")
    os.exit(0)
  end)
  for line in io.lines() do ws:send(line) end -- waits for input; the reader task keeps printing
  ws:close()
else -- demo
  local server = net.ws.listen("127.0.0.1", 0)
  local url = "ws://127.0.0.1:" .. server.port .. "/chat"
  print("chat server on " .. url)
  local server_task = task.spawn(serve, server, function(s) print("[server] " .. s) end)

  local people = { "ada", "bob", "cy" }
  local clients = {}
  for i, name in ipairs(people) do
    clients[i] = task.spawn(function()
      local ws = net.ws.connect(url, { timeout = 5000 })
      ws:set_timeout(5000)
      ws:send("/nick " .. name)
      -- wait until everyone is here, then say hello once
      repeat local m = ws:recv() until m.data:find("is now cy", 1, true)
      ws:send("hello from " .. name)
      local heard = 0
      while heard < #people do
        local m = ws:recv()
        if m.data:find("^%a+: hello from") then heard = heard + 1 end
      end
      if name == "ada" then
        ws:send("/who")
        local m
        repeat m = ws:recv() until m.data:find("^%* here:")
        print("[ada] " .. m.data)
      end
      ws:close()
      return heard
    end)
  end
  for i, t in ipairs(clients) do
    print(("[%s] heard %d greetings"):format(people[i], t:join(10)))
  end
  server:close()
  server_task:join(5)
  print("chat demo done")
end
