#!/usr/bin/env node
// Makes the README's report screenshots (docs/report-*.png): replays two bundled traces with
// --interval and --report, opens each report in headless Chromium (puppeteer-core driving the
// system's browser: $CHROMIUM, else /usr/bin/chromium) and screenshots its first sections.
// Run after `npm run build`:  node scripts/report-screenshots.mjs
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
if (!existsSync(browserPath)) {
  console.error(`report-screenshots: no browser at ${browserPath} (apt-get install chromium, or set CHROMIUM)`);
  process.exit(2);
}
const SHOTS = [
  // [name, trace, replay options, the section to show]
  ["fragmentation", "traces/fragmentation.csv.gz", ["--interval", "100"], "free-heatmap"],
  ["tiered-hotset", "traces/tiered-hotset.csv.gz", ["--interval", "500", "--set", "kpromoted.enabled=1", "--set", "hotness.hw_sample_period=8"], "promotion"],
];
const work = mkdtempSync(join(tmpdir(), "wsim-shots-"));
mkdirSync(join(root, "docs"), { recursive: true });
const browser = await puppeteer.launch({ executablePath: browserPath, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
try {
  for (const [name, trace, opts, section] of SHOTS) {
    const html = join(work, `${name}.html`);
    execFileSync(join(root, "bin/wsim"), ["replay", trace, ...opts, "--report", html, "-o", "/dev/null"], { cwd: root, stdio: "inherit" });
    const page = await browser.newPage();
    await page.setViewport({ width: 1040, height: 900, deviceScaleFactor: 1 });
    await page.goto(pathToFileURL(html).href, { waitUntil: "load" });
    await page.waitForFunction(() => window.wsimReport && window.wsimReport.rendered === window.wsimReport.charts);
    const el = await page.$(`#${section}`);
    const out = join(root, "docs", `report-${name}.png`);
    await el.screenshot({ path: out });
    console.log(`wrote ${out}`);
    await page.close();
  }
} finally {
  await browser.close();
}
