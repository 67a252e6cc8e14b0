/**
 * The report in a real browser (issue 19): for each bundled trace, `wsim replay T --interval
 * 500 --report r.html` is opened in headless Chromium (Debian's `chromium`, driven by
 * puppeteer-core); every chart must have rendered (a canvas with drawn pixels, its title in
 * the chart's option), the expected titles must be there, and nothing may be logged to the
 * console. A screenshot of each report is kept under test-output/report-browser/ (or
 * $WSIM_TEST_OUTPUT). Then a 2-hour run sampled every 100 ms (72,000 samples): its size on disk
 * and the time until every chart has rendered are printed (not asserted as a timing).
 * Skipped, with a SKIPPED: line, where Chromium is missing ($CHROMIUM, else /usr/bin/chromium).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "puppeteer-core";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const OUT = join(process.env.WSIM_TEST_OUTPUT ?? join(ROOT, "test-output"), "report-browser");
const tmp = mkdtempSync(join(tmpdir(), "wsim-browser-"));
const have = existsSync(CHROMIUM);
if (!have) console.warn(`SKIPPED: the report's browser tests, no Chromium at ${CHROMIUM} (Debian: apt-get install chromium; or set CHROMIUM)`);

/** every trace under traces/ (not the machine files), relative to the repository */
const TRACES = ["traces", "traces/real"].flatMap((d) =>
  readdirSync(join(ROOT, d))
    .filter((n) => /\.(csv|ndjson|json)(\.gz)?$/.test(n) && !n.endsWith(".machine.json"))
    .map((n) => `${d}/${n}`),
);

/** titles each report must show, beyond the free-memory heatmap and pageblock map every run has */
const EXPECTED: Record<string, string[]> = {
  "traces/tiered-hotset.csv.gz": ["promotion: found vs truly hot", "free memory per order: node 1, zone Normal"],
  "traces/hotset-shift.csv": ["page age: memcg /svc, node 0"],
  "traces/fragmentation.csv.gz": ["counters over time: THP"],
};

function wsim(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 });
  return { code: r.status, err: r.stderr };
}

interface Opened {
  ms: number;
  console: string[];
  charts: { id: string; title: string; optionTitle: string; inkPixels: number }[];
}

/** Opens a report and waits for every chart to render; collects the console and what each chart drew. */
async function open(page: Page, html: string): Promise<Opened> {
  const logged: string[] = [];
  page.on("console", (m) => logged.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => logged.push(`pageerror: ${(e as Error).message}`));
  const t0 = performance.now();
  await page.goto(pathToFileURL(html).href, { waitUntil: "load", timeout: 60_000 });
  await page.waitForFunction(() => {
    const w = window as unknown as { wsimReport?: { charts: number; rendered: number } };
    return w.wsimReport !== undefined && w.wsimReport.rendered === w.wsimReport.charts;
  }, { timeout: 60_000 });
  const ms = performance.now() - t0;
  const charts = await page.evaluate(() => {
    const ec = (window as unknown as { echarts: { getInstanceByDom(el: Element): { getOption(): { title: { text: string }[] } } } }).echarts;
    return [...document.querySelectorAll<HTMLElement>("div.chart")].map((el) => {
      let ink = 0;
      for (const c of el.querySelectorAll("canvas")) {
        const ctx = (c as HTMLCanvasElement).getContext("2d")!;
        const d = ctx.getImageData(0, 0, (c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height).data;
        // pixels drawn in something other than the white background
        for (let i = 0; i < d.length; i += 4) if (d[i + 3]! > 0 && (d[i]! < 240 || d[i + 1]! < 240 || d[i + 2]! < 240)) ink++;
      }
      return { id: el.id, title: el.dataset.title ?? "", optionTitle: ec.getInstanceByDom(el)?.getOption().title[0]?.text ?? "", inkPixels: ink };
    });
  });
  return { ms, console: logged, charts };
}

describe.skipIf(!have)("the report in headless Chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    const puppeteer = (await import("puppeteer-core")).default;
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it.each(TRACES)("%s: every chart renders, no console output, screenshot kept", async (trace) => {
    const name = trace.replace(/^traces\//, "").replace(/\//g, "-").replace(/\.(csv|ndjson|json)(\.gz)?$/, "");
    const html = join(tmp, `${name}.html`);
    const r = wsim(["replay", trace, "--interval", "500", "--report", html, "-o", "/dev/null"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const page = await browser.newPage();
    try {
      await page.setViewport({ width: 1040, height: 900 });
      const o = await open(page, html);
      expect(o.console).toEqual([]);
      expect(o.charts.length).toBeGreaterThan(0);
      for (const c of o.charts) {
        expect(c.optionTitle, c.id).toBe(c.title);
        expect(c.inkPixels, `${c.id} (${c.title}) drew nothing`).toBeGreaterThan(500);
      }
      const titles = o.charts.map((c) => c.title);
      // node 0's main zone: Normal on a machine above 4 GiB or a flat one, DMA32 below 4 GiB (x86)
      expect(titles.some((t) => /^free memory per order: node 0, zone (Normal|DMA32)$/.test(t)), titles.join("; ")).toBe(true);
      expect(titles.some((t) => /^pageblocks: node 0, zone (Normal|DMA32) at /.test(t))).toBe(true);
      for (const t of EXPECTED[trace] ?? []) expect(titles).toContain(t);
      await page.screenshot({ path: join(OUT, `${name}.png`) as `${string}.png`, fullPage: true });
    } finally {
      await page.close();
    }
  }, 120_000);

  it("on a narrow window (760 px, a small laptop's half screen) the charts shrink to fit and redraw", async () => {
    const html = join(tmp, "narrow.html");
    expect(wsim(["replay", "traces/fragmentation.csv.gz", "--interval", "500", "--report", html, "-o", "/dev/null"]).code).toBe(0);
    const page = await browser.newPage();
    try {
      await page.setViewport({ width: 1040, height: 900 });
      await open(page, html);
      await page.setViewport({ width: 760, height: 900 });
      await new Promise((r) => setTimeout(r, 300));
      const widths = await page.evaluate(() => [...document.querySelectorAll("div.chart canvas")].map((c) => (c as HTMLCanvasElement).clientWidth));
      expect(widths.length).toBeGreaterThan(0);
      // body margins: 12 px padding each side inside the 760 px window
      for (const w of widths) expect(w).toBeLessThanOrEqual(760 - 24);
      const o = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(o).toBeLessThanOrEqual(760);
    } finally {
      await page.close();
    }
  }, 120_000);

  it("a 2-hour run sampled every 100 ms (72,000 samples): under 30 MB; time to render printed", async () => {
    // one access a second for 2 hours
    const rows = ["time_ms,op,pid,addr"];
    for (let s = 0; s <= 7200; s++) rows.push(`${s * 1000},access,1,0x${(0x100000 + (s % 4096) * 4096).toString(16)}`);
    const trace = join(tmp, "two-hours.csv");
    writeFileSync(trace, rows.join("\n") + "\n");
    const html = join(tmp, "two-hours.html");
    const r = wsim(["replay", trace, "--interval", "100", "--report", html, "-o", "/dev/null"]);
    expect(r.code).toBe(0);
    const bytes = statSync(html).size;
    expect(bytes).toBeLessThan(30 * 2 ** 20);
    const page = await browser.newPage();
    try {
      await page.setViewport({ width: 1040, height: 900 });
      const o = await open(page, html);
      expect(o.console).toEqual([]);
      expect(o.charts.every((c) => c.inkPixels > 500)).toBe(true);
      console.log(`report of 72,000 samples: ${(bytes / 2 ** 20).toFixed(2)} MiB on disk, every chart rendered ${Math.round(o.ms)} ms after opening (headless Chromium)`);
      await page.screenshot({ path: join(OUT, "two-hours.png"), fullPage: true });
    } finally {
      await page.close();
    }
  }, 300_000);
});
