// Drives glueops' dashboard in headless Chromium (puppeteer-core over the DevTools protocol):
// reads the DOM as a person sees it, saves screenshots at desktop and phone widths, and with a
// WAIT text prints {"ready":true}, then waits (without reloading) until the page shows it.
// A second page, with the page's CSP bypassed to inject it, runs axe-core.
//
// usage: node dashboard.cjs URL OUTDIR [WAIT]      (CHROMIUM, AXE and NODE_PATH set by the test)
const fs = require("fs");
const puppeteer = require("puppeteer-core");

async function facts(page) {
  return page.evaluate(() => {
    const text = (el) => (el ? el.textContent.trim() : null);
    return {
      title: document.title,
      stages: [...document.querySelectorAll(".pipeline")].flatMap((p) =>
        [...p.querySelectorAll(".stage")].map((s) => ({
          app: text(p.querySelector("h2")),
          env: s.dataset.env,
          tag: text(s.querySelector(".tag")),
          held: s.classList.contains("held"),
          holds: [...s.querySelectorAll(".holds li")].map(text),
          waiting: text(s.querySelector(".waiting")),
          when: text(s.querySelector(".when")),
        }))),
      previews: [...document.querySelectorAll("section[aria-labelledby=previews] tbody tr")].map((r) => ({
        name: text(r.querySelector("th")),
        links: [...r.querySelectorAll("a")].map((a) => a.href),
        head: text(r.querySelector("code")),
        text: text(r),
      })),
      releases: [...document.querySelectorAll("section[aria-labelledby=releases] tbody tr")].map((r) => ({
        rollback: r.classList.contains("rollback"),
        text: text(r),
      })),
      dora: [...document.querySelectorAll("table.dora tbody tr")].map((r) => ({
        name: text(r.querySelector("th")),
        bars: r.querySelectorAll("svg rect").length,
        text: text(r),
      })),
    };
  });
}

(async () => {
  const [url, out, wait] = process.argv.slice(2);
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    await page.setViewport({ width: 1366, height: 900 });
    await page.goto(url, { waitUntil: "load" });
    await page.waitForSelector("#board");
    const dom = await facts(page);
    await page.screenshot({ path: `${out}/dashboard-desktop.png`, fullPage: true });
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
    await page.screenshot({ path: `${out}/dashboard-phone.png`, fullPage: true });
    const phone = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
    await page.setViewport({ width: 1366, height: 900 });

    let live = null;
    if (wait) {
      await page.evaluate(() => { window.glueopsMarker = "the same page"; });
      console.log(JSON.stringify({ ready: true }));
      const start = Date.now();
      await page.waitForFunction((t) => document.getElementById("board").textContent.includes(t),
        { timeout: 30000, polling: 50 }, wait);
      live = {
        ms: Date.now() - start,
        samePage: await page.evaluate(() => window.glueopsMarker === "the same page"),
        after: await facts(page),
      };
      await page.screenshot({ path: `${out}/dashboard-after-release.png`, fullPage: true });
    }

    const audit = await browser.newPage();
    await audit.setBypassCSP(true);
    await audit.goto(url, { waitUntil: "load" });
    await audit.addScriptTag({ content: fs.readFileSync(process.env.AXE, "utf8") });
    const axe = await audit.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ["violations"] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
    });
    console.log(JSON.stringify({ dom, phone, live, axe, errors }));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
