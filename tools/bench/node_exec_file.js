// process.exec baseline in Node: COUNT sequential child_process.execFile("true") (or, with
// --shell, child_process.exec("true"), which runs /bin/sh -c), each awaited before the next.
// usage: node node_exec_file.js COUNT [--shell]   prints: spawns=<n> seconds=<s> rate=<spawns/s>
const { execFile, exec } = require("node:child_process");
const count = Number(process.argv[2] || 1000);
const shell = process.argv.includes("--shell");
const once = () => new Promise((resolve, reject) => {
  const done = (err) => (err ? reject(err) : resolve());
  if (shell) exec("true", done); else execFile("true", done);
});
(async () => {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await once();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`spawns=${count} seconds=${secs.toFixed(3)} rate=${(count / secs).toFixed(1)}`);
})().catch((e) => { console.error(e); process.exit(1); });
