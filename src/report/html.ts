/**
 * `wsim report`: one self-contained HTML file (Apache ECharts inlined, no network at view
 * time) with a section per kind of chart the inputs have data for (charts.ts), a summary of
 * each run, a diff table when several runs are given and the counters of a `wsim compare`
 * output. Deterministic: the same inputs give the same bytes (no dates, no random ids).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { buildCharts, CHART_KINDS, type ChartKind, type ChartSpec, type NamedRun } from "./charts.js";
import type { CompareRow } from "./compare.js";
import { diffCounters, formatChange, type DiffRow } from "./diff.js";
import { MAX_HEATMAP_COLUMNS, MAX_LINE_BUCKETS } from "./downsample.js";
import { plural } from "./words.js";

/** Section headings, per chart kind. */
const SECTIONS: Record<ChartKind, string> = {
  counters: "Counters over time",
  "free-heatmap": "Free memory per order",
  pageblocks: "Pageblock map",
  "page-age": "Page age",
  promotion: "Promotion",
  "promotion-latency": "Promotion latency",
  runs: "Runs side by side",
  compare: "wsim beside the kernel",
};

/** What a report draws: runs (named, in order) and optionally a `wsim compare` output's rows. */
export interface ReportInput {
  runs: readonly NamedRun[];
  compare?: { name: string; rows: readonly CompareRow[] };
}

/** The ECharts build inlined in every report (read once). */
let echartsSource: string | undefined;
function echartsJs(): string {
  if (echartsSource === undefined) {
    const require = createRequire(import.meta.url);
    echartsSource = readFileSync(require.resolve("echarts/dist/echarts.min.js"), "utf8");
  }
  return echartsSource;
}

/** Text escaped for HTML content and attribute values. */
export const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
/** JSON safe inside a <script>: no `</script>`, no `<!--`, no line separators. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");

/**
 * The report's HTML. `runs` (at least one, or a compare output) are drawn in the order given;
 * charts get ids `c0`, `c1`, ... and the page sets `window.wsimReport = {charts, rendered}`
 * once every chart has rendered (for tests). Throws RangeError with no input at all.
 */
export function renderReport(input: ReportInput): string {
  if (!input.runs.length && !input.compare) throw new RangeError("renderReport needs a run or a compare output");
  const charts = buildCharts(input.runs, input.compare);
  const body: string[] = [];
  const title = input.runs.length ? `wsim report: ${input.runs.map((r) => r.name).join(", ")}` : `wsim report: ${input.compare!.name}`;
  body.push(`<h1>${esc(title)}</h1>`);
  if (input.runs.length) body.push(summaryTable(input.runs));
  const toc: string[] = [];
  let k = 0;
  const ids = new Map<ChartSpec, string>();
  for (const c of charts) ids.set(c, `c${k++}`);
  for (const kind of CHART_KINDS) {
    const these = charts.filter((c) => c.kind === kind);
    const extra = kind === "runs" && input.runs.length > 1 ? settingsTable(input.runs) + diffTables(input.runs) : kind === "compare" && input.compare ? compareTable(input.compare.rows) : "";
    if (!these.length && !extra) continue;
    toc.push(`<a href="#${kind}">${esc(SECTIONS[kind])}</a>`);
    body.push(`<section id="${kind}"><h2>${esc(SECTIONS[kind])}</h2>`);
    for (const c of these)
      body.push(`<figure><div class="chart" id="${ids.get(c)}" data-title="${esc(c.title)}" style="max-width:${c.width}px;height:${c.height}px"></div></figure>`);
    body.push(extra, "</section>");
  }
  const missing = CHART_KINDS.filter((kind) => !charts.some((c) => c.kind === kind) && kind !== "runs" && kind !== "compare");
  if (input.runs.length && missing.length) body.push(notInRuns(input.runs, missing));
  body.push(
    `<p class="note">Made by wsim with Apache ECharts (inlined: the file needs no network). Lines of more than ${MAX_LINE_BUCKETS} samples are ` +
      `drawn from ${MAX_LINE_BUCKETS} buckets, each by its lowest and highest value; heatmaps show at most ${MAX_HEATMAP_COLUMNS} ` +
      `time columns, the last sample of each bucket.</p>`,
  );
  const specs = charts.map((c) => ({ id: ids.get(c), title: c.title, option: c.option }));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body { font-family: sans-serif; margin: 16px auto; max-width: 1000px; color: #222; padding: 0 12px; }
h1 { font-size: 20px; } h2 { font-size: 17px; border-bottom: 1px solid #ccc; padding-bottom: 4px; margin-top: 28px; }
nav a { margin-right: 14px; font-size: 14px; }
figure { margin: 10px 0; } .chart { width: 100%; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; } th:first-child, td:first-child { text-align: left; }
td.no { color: #b00; } .note { color: #555; font-size: 13px; }
</style>
</head>
<body>
<nav>${toc.join("")}</nav>
${body.join("\n")}
<script>${echartsJs()}</script>
<script>
${clientScript(scriptJson(specs))}
</script>
</body>
</html>
`;
}

/** The page's own script: tooltip formatters for the markers in the options, then one chart per spec. */
function clientScript(specsJson: string): string {
  return `(function () {
  var specs = ${specsJson};
  var fmt = {
    "__wsim:heatmap": function (p) { return "t = " + p.name + " s, order " + p.value[1] + ": " + p.value[3] + " free pages (" + p.value[4] + " MiB)"; },
    "__wsim:pageblock": function (p) { return "pageblock " + p.value[3] + ": " + p.value[4] + " of 512 pages free"; }
  };
  function revive(o) {
    if (Array.isArray(o)) { for (var i = 0; i < o.length; i++) o[i] = revive(o[i]); return o; }
    if (o && typeof o === "object") { for (var k in o) o[k] = revive(o[k]); return o; }
    return typeof o === "string" && fmt[o] ? fmt[o] : o;
  }
  var all = [];
  window.wsimReport = { charts: specs.length, rendered: 0 };
  // narrower windows (a laptop, a split screen) get narrower charts
  window.addEventListener("resize", function () { all.forEach(function (c) { c.resize(); }); });
  specs.forEach(function (s) {
    var el = document.getElementById(s.id);
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.on("finished", function once() {
      chart.off("finished", once);
      window.wsimReport.rendered++;
    });
    chart.setOption(revive(s.option));
    all.push(chart);
  });
})();`;
}

/**
 * The note on the sections the runs have no data for, each with what would give it
 * (`ADVICE`); when no run has samples or a pageblock map, first the options to replay with.
 */
function notInRuns(runs: readonly NamedRun[], missing: readonly ChartKind[]): string {
  const these = runs.length > 1 ? "these runs" : "this run";
  const add: string[] = [];
  if (runs.every((r) => !r.run.series.length)) add.push("--interval MS (counters and free memory over time)");
  if (runs.every((r) => !r.run.pageblock_map)) add.push("--pageblock-map (the pageblock map)");
  const t = runs.length === 1 && runs[0]!.run.trace?.path ? runs[0]!.run.trace.path : "TRACE";
  const lead = add.length
    ? `<p class="note"><b>To see more, replay with ${add.map(esc).join(" and ")}</b>, e.g. <code>wsim replay ${esc(t)} --interval 100 --pageblock-map -o run.json</code>, or <code>wsim replay ${esc(t)} --interval 100 --report report.html</code> (--report implies --pageblock-map).</p>\n`
    : "";
  return `${lead}<p class="note">Not in ${these}: ${missing.map((m) => `${esc(SECTIONS[m].toLowerCase())} (needs ${esc(ADVICE[m])})`).join("; ")}.</p>`;
}

/** What gives each kind of chart, for the note on the missing ones. */
const ADVICE: Record<ChartKind, string> = {
  counters: "--interval MS, and counters that move",
  "free-heatmap": "--interval MS",
  pageblocks: "--pageblock-map",
  "page-age": "a memcg with memory.workingset.page_age_intervals set",
  promotion: "a machine with a lower tier, and --interval MS",
  "promotion-latency": "promotions of truly hot pages: a tiered machine with kpromoted or kmmscand on",
  runs: "two or more runs",
  compare: "a wsim compare --format json output",
};

function summaryTable(runs: readonly NamedRun[]): string {
  const rows = runs.map(({ name, run }) => {
    const mem = run.machine?.nodes?.reduce((s, n) => s + n.mem, 0) ?? 0;
    const cells = [
      name,
      run.trace?.path ?? "",
      plural(run.trace?.events ?? 0, "event"),
      `${run.end_ms} ms`,
      `${run.machine?.name ?? "?"}: ${plural(run.machine?.nodes?.length ?? 0, "node")}, ${Math.round((mem * 4096) / 2 ** 20)} MiB`,
      String(run.series.length),
    ];
    return `<tr>${cells.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`;
  });
  return `<table><tr><th>run</th><th>trace</th><th>events</th><th>ended at</th><th>machine</th><th>samples</th></tr>${rows.join("")}</table>`;
}

/**
 * The change column of the report's diff table: formatChange's percentage against A; from 0,
 * where a percentage means nothing, the signed difference and "from 0" ("+12 from 0"); "new"
 * for a counter only in B, "gone" for one only in A.
 */
export function reportChange(r: Pick<DiffRow, "a" | "b" | "delta">): string {
  if (r.a === null) return "new";
  if (r.b === null) return "gone";
  if (r.a === 0 && r.delta) return `${r.delta > 0 ? "+" : ""}${r.delta} from 0`;
  return formatChange(r);
}

/**
 * The settings that differ between runs: every tunable (`tunables`, as the run's JSON has it)
 * and every field of the machine (`machine.name`, `machine.nodes[0].mem`, its tunables...)
 * whose value is not the same in all runs, in the first run's order then the others'; each
 * value as text (a string bare, anything else as JSON; "—" where a run lacks it).
 */
export function differingSettings(runs: readonly NamedRun[]): { setting: string; values: string[] }[] {
  const flat = runs.map(({ run }) => {
    const m = new Map<string, string>();
    for (const [k, v] of Object.entries(run.tunables ?? {})) m.set(k, show(v));
    const walk = (v: unknown, at: string) => {
      if (v !== null && typeof v === "object" && !(at.endsWith(".tunables") && !Object.keys(v).length)) {
        for (const [k, x] of Object.entries(v)) walk(x, Array.isArray(v) ? `${at}[${k}]` : `${at}.${k}`);
      } else m.set(at, show(v));
    };
    walk(run.machine ?? {}, "machine");
    return m;
  });
  const keys = [...new Set(flat.flatMap((m) => [...m.keys()]))];
  return keys
    .map((setting) => ({ setting, values: flat.map((m) => m.get(setting) ?? "—") }))
    .filter((r) => r.values.some((v) => v !== r.values[0]));
}

const show = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v) ?? String(v));

/** The table of differingSettings, or a line saying the runs share every setting. */
function settingsTable(runs: readonly NamedRun[]): string {
  const rows = differingSettings(runs);
  if (!rows.length) return `<h3>What differs: no tunable or machine setting</h3>`;
  const head = `<tr><th>setting</th>${runs.map((r) => `<th>${esc(r.name)}</th>`).join("")}</tr>`;
  const tr = rows.map((r) => `<tr><td>${esc(r.setting)}</td>${r.values.map((v) => `<td>${esc(v)}</td>`).join("")}</tr>`);
  return `<h3>What differs: ${plural(rows.length, "setting")} (tunables and machine)</h3><table class="settings">${head}${tr.join("")}</table>
`;
}

/** A diff table of every later run against the first (counters that differ, as `wsim diff` lists them). */
function diffTables(runs: readonly NamedRun[]): string {
  const a = runs[0]!;
  return runs
    .slice(1)
    .map((b) => {
      const d = diffCounters(a.run.vmstat, b.run.vmstat);
      const head = `<h3>${esc(b.name)} against ${esc(a.name)}: ${plural(d.rows.length, "counter")} of ${d.compared} differ</h3>`;
      if (!d.rows.length) return head;
      const rows = d.rows.map((r) => `<tr><td>${esc(r.counter)}</td><td>${r.a ?? "—"}</td><td>${r.b ?? "—"}</td><td>${esc(reportChange(r))}</td></tr>`);
      return `${head}<table><tr><th>counter</th><th>${esc(a.name)}</th><th>${esc(b.name)}</th><th>change</th></tr>${rows.join("")}</table>`;
    })
    .join("\n");
}

function compareTable(rows: readonly CompareRow[]): string {
  const span = (lo: number, hi: number) => (lo === hi ? String(lo) : `${lo} – ${hi}`);
  const tr = rows.map((r) => {
    const inRange = r.wsim === null ? "" : r.wsim >= r.kernel_min && r.wsim <= r.kernel_max ? "yes" : "no";
    return `<tr><td>${esc(r.counter)}</td><td>${r.wsim === null ? "not modelled" : r.wsim}</td><td>${span(r.kernel_min, r.kernel_max)}</td><td class="${inRange}">${inRange}</td></tr>`;
  });
  return `<table><tr><th>counter</th><th>wsim</th><th>kernel</th><th>wsim in range</th></tr>${tr.join("")}</table>`;
}
