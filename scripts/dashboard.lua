-- A live dashboard from one script on one port: a web page, a JSON endpoint and a WebSocket
-- feed that pushes the machine's load and memory to every open page, plus notes typed in one
-- page that appear in all of them.
--
--   moonwire scripts/dashboard.lua [port] [interval_ms]      (defaults: 8080, 1000)
--   then open http://127.0.0.1:8080/
--
-- Walkthrough: docs/guide-dashboard.md.
local port = tonumber(arg[1] or 8080)
local interval = tonumber(arg[2] or 1000) / 1000

local app = http.server.new()
local started = time.monotonic()
local requests, tick = 0, 0
local PAGE -- the HTML, at the end of this file

-- The connected pages. A page whose previous message is still being written gets no new one
-- (it skips a frame instead of queueing without bound): a stalled browser tab cannot make
-- the server's memory grow, and the others are not held up.
local clients, client_count = {}, 0

local function push(ws, text)
  local c = clients[ws]
  if not c or c.busy then return end
  c.busy = true
  task.spawn(function()
    local ok = pcall(ws.send, ws, text)
    c.busy = false
    if not ok then clients[ws] = nil end
  end)
end

local function broadcast(msg)
  local text = json.encode(msg)
  for ws in pairs(clients) do push(ws, text) end
end

-- /proc readings (Linux); nil elsewhere.
local function read_proc(name)
  local ok, s = pcall(fs.read, "/proc/" .. name)
  return ok and s or nil
end

local function snapshot()
  local load = read_proc("loadavg")
  local l1, l5, l15 = (load or ""):match("^(%S+) (%S+) (%S+)")
  local mem = read_proc("meminfo") or ""
  return {
    type = "stats",
    tick = tick,
    time = os.date("!%Y-%m-%dT%H:%M:%SZ"),
    uptime = math.floor(time.monotonic() - started),
    load = { tonumber(l1), tonumber(l5), tonumber(l15) },
    mem_total_kb = tonumber(mem:match("MemTotal:%s+(%d+)")),
    mem_available_kb = tonumber(mem:match("MemAvailable:%s+(%d+)")),
    clients = client_count,
    requests = requests,
  }
end

app:use(function(_, next)
  requests = requests + 1
  next()
end)

app:get("/", function(ctx) ctx:html(PAGE) end)
app:get("/api/stats", function(ctx) ctx:json(snapshot()) end)

-- The feed: a snapshot at once, then one every interval (the ticker below); what a page sends
-- is a note for everyone.
app:ws("/feed", function(ws)
  clients[ws] = { busy = false }
  client_count = client_count + 1
  ws:send(json.encode(snapshot()))
  while true do
    local msg = ws:recv()
    if not msg or msg.type == "close" then break end
    if msg.type == "text" then
      local text = tostring(msg.data):sub(1, 500)
      broadcast({ type = "note", text = text, time = os.date("!%H:%M:%S") })
    end
  end
  clients[ws] = nil
  client_count = client_count - 1
end)

task.spawn(function()
  while true do
    task.sleep(interval)
    tick = tick + 1
    if client_count > 0 then broadcast(snapshot()) end
  end
end)

PAGE = [[<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>moonwire dashboard</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 46rem; color: #222; }
  h1 { font-size: 1.3rem; }
  #status { padding: .1rem .5rem; border-radius: .3rem; background: #ccc; }
  #status.live { background: #8d8; }
  .grid { display: grid; grid-template-columns: repeat(3, 1fr); gap: .8rem; margin: 1rem 0; }
  .card { border: 1px solid #ddd; border-radius: .4rem; padding: .6rem; }
  .card b { display: block; font-size: 1.4rem; }
  canvas { width: 100%; height: 80px; border: 1px solid #ddd; border-radius: .4rem; }
  #notes { padding-left: 1.2rem; }
</style>
</head>
<body>
<h1>moonwire dashboard <span id="status">connecting</span></h1>
<div class="grid">
  <div class="card">tick<b id="tick">-</b></div>
  <div class="card">load (1 min)<b id="load">-</b></div>
  <div class="card">memory used<b id="mem">-</b></div>
  <div class="card">pages open<b id="clients">-</b></div>
  <div class="card">requests<b id="requests">-</b></div>
  <div class="card">uptime<b id="uptime">-</b></div>
</div>
<canvas id="chart" width="720" height="80"></canvas>
<h2>notes</h2>
<form id="note-form"><input id="note-text" placeholder="say something to every open page" size="40">
<button>send</button></form>
<ul id="notes"></ul>
<script>
const $ = (id) => document.getElementById(id);
const history = [];
function draw() {
  const c = $("chart"), g = c.getContext("2d"), max = Math.max(1, ...history);
  g.clearRect(0, 0, c.width, c.height);
  g.beginPath();
  history.forEach((v, i) => {
    const x = i * c.width / 59, y = c.height - 4 - (v / max) * (c.height - 8);
    i ? g.lineTo(x, y) : g.moveTo(x, y);
  });
  g.strokeStyle = "#36c"; g.stroke();
}
function show(s) {
  $("tick").textContent = s.tick;
  $("load").textContent = s.load[0] ?? "n/a";
  $("mem").textContent = s.mem_total_kb
    ? Math.round(100 * (1 - s.mem_available_kb / s.mem_total_kb)) + "%" : "n/a";
  $("clients").textContent = s.clients;
  $("requests").textContent = s.requests;
  $("uptime").textContent = s.uptime + " s";
  history.push(s.load[0] || 0);
  if (history.length > 60) history.shift();
  draw();
}
let ws;
function connect() {
  ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/feed");
  ws.onopen = () => { $("status").textContent = "live"; $("status").className = "live"; };
  ws.onclose = () => {
    $("status").textContent = "reconnecting"; $("status").className = "";
    setTimeout(connect, 1000);
  };
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type === "stats") show(m);
    if (m.type === "note") {
      const li = document.createElement("li");
      li.textContent = m.time + "  " + m.text;
      $("notes").prepend(li);
    }
  };
}
$("note-form").onsubmit = (e) => {
  e.preventDefault();
  const t = $("note-text").value.trim();
  if (t && ws.readyState === WebSocket.OPEN) ws.send(t);
  $("note-text").value = "";
};
connect();
</script>
</body>
</html>
]]

app:listen(port, function(p) print("dashboard on http://127.0.0.1:" .. p .. "/") end)
