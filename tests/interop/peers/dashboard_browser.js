// Headless Chromium (Debian `chromium`) driven by puppeteer-core: opens the dashboard page
// (scripts/dashboard.lua) in two tabs and checks that it updates live from the WebSocket
// feed: the tick counter goes up without a reload, the page counts both tabs, and a note sent
// from one tab appears in the other. Prints one JSON line of what it saw; exits 1 on failure.
//   node dashboard_browser.js URL USER_DATA_DIR
const puppeteer = require("puppeteer-core");

const [url, userDataDir] = process.argv.slice(2);
const WAIT = { timeout: 20000, polling: 50 };

async function main() {
  const browser = await puppeteer.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    userDataDir,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
  const seen = {};
  try {
    const page = await browser.newPage();
    const consoleErrors = [];
    page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
    page.on("pageerror", (e) => consoleErrors.push(String(e)));
    const resp = await page.goto(url, { waitUntil: "load", timeout: 20000 });
    seen.status = resp.status();
    seen.content_type = resp.headers()["content-type"];
    seen.title = await page.title();
    await page.waitForFunction(() => document.getElementById("status").textContent === "live", WAIT);
    await page.waitForFunction(() => /^\d+$/.test(document.getElementById("tick").textContent), WAIT);
    const tick = (p) => p.$eval("#tick", (e) => Number(e.textContent));
    seen.first_tick = await tick(page);
    // Live: the number changes with no reload, pushed by the server.
    await page.waitForFunction((t) => Number(document.getElementById("tick").textContent) > t, WAIT, seen.first_tick);
    seen.later_tick = await tick(page);
    seen.load = await page.$eval("#load", (e) => e.textContent);

    const second = await browser.newPage();
    await second.goto(url, { waitUntil: "load", timeout: 20000 });
    await second.waitForFunction(() => document.getElementById("status").textContent === "live", WAIT);
    // The first tab learns of the second from the feed.
    await page.waitForFunction(() => Number(document.getElementById("clients").textContent) >= 2, WAIT);
    seen.clients = await page.$eval("#clients", (e) => Number(e.textContent));

    const note = "hello from tab 2 " + Date.now();
    await second.type("#note-text", note);
    await second.keyboard.press("Enter");
    await page.waitForFunction((n) => document.getElementById("notes").textContent.includes(n), WAIT, note);
    seen.note_in_first_tab = true;
    seen.console_errors = consoleErrors;
    console.log(JSON.stringify({ ok: true, ...seen }));
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.log(JSON.stringify({ ok: false, error: String(e && e.stack || e) }));
  process.exit(1);
});
