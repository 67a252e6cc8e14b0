/**
 * The charts of `wsim report` and `wsim plot`, as Apache ECharts options built from runs (pure:
 * same runs, same options). Each chart is made only when the run has its data:
 * - `counters`: counters over time from `--interval` samples, one chart per group of
 *   COUNTER_GROUPS (the kernel's grouping), page counters in MiB (left axis), the others as
 *   counts (right axis); every series can be switched on and off in the legend;
 * - `free-heatmap`: free memory per order over time, one chart per zone (order × time, colour
 *   on a log scale in decades of pages);
 * - `pageblocks`: every pageblock of every zone at the end (and at chosen sample times),
 *   coloured by migratetype and shaded by how much of it is in use (needs `pageblock_map`:
 *   `wsim replay --pageblock-map`; `pageblock_snapshots`: `--pageblock-map-at MS,...`);
 * - `page-age`: page_age histograms, the kernel's view beside the exact one, per memcg and node;
 * - `promotion`: promotion counters over time against the truly hot pages at the end;
 *   `promotion-latency`: how late promotions of truly hot pages came, per promoter;
 * - `runs`: several runs, the counters that differ most, overlaid over time;
 * - `compare`: a `wsim compare` output, wsim's value beside the kernel's range per counter.
 * Options hold only data (no functions), so they go into the HTML as JSON and render to SVG in
 * Node; lines and heatmaps are downsampled (downsample.ts).
 */
import type { Sample, WorkingsetBin } from "../engine/engine.js";
import type { CompareRow } from "./compare.js";
import { columnIndices, minMaxLine } from "./downsample.js";
import { MIGRATETYPE_NAMES, type PageblockZoneMap } from "./pageblock-map.js";
import type { ReportRun } from "./run-file.js";
import { COUNTER_GROUPS, countsPages } from "./text.js";

/** The kinds `wsim plot` takes, in the report's order. */
export const CHART_KINDS = ["counters", "free-heatmap", "pageblocks", "page-age", "promotion", "promotion-latency", "runs", "compare"] as const;
export type ChartKind = (typeof CHART_KINDS)[number];

/** What each kind needs, for messages when a run lacks it. */
export const KIND_NEEDS: Record<ChartKind, string> = {
  counters: "--interval samples with counters that moved (wsim replay --interval MS --format json)",
  "free-heatmap": "--interval samples (wsim replay --interval MS --format json)",
  pageblocks: "a pageblock map (wsim replay --pageblock-map --format json, or --report)",
  "page-age": "a workingset report (a memcg with memory.workingset.page_age_intervals set)",
  promotion: "a machine with a lower tier and --interval samples",
  "promotion-latency": "promotions of truly hot pages (a tiered machine with kpromoted or kmmscand on)",
  runs: "two or more runs",
  compare: "a wsim compare --format json output",
};

/** One chart: an ECharts option and its size in pixels. */
export interface ChartSpec {
  /** unique within a report: `kind`, or `kind:detail` (`counters:compaction`, `free-heatmap:n0`), prefixed `RUN/` with several runs */
  id: string;
  kind: ChartKind;
  title: string;
  width: number;
  height: number;
  option: Record<string, unknown>;
}

/** A named run (the name is what titles and legends call it: the file's or trace's base name). */
export interface NamedRun {
  name: string;
  run: ReportRun;
}

export const WIDTH = 960;
const HEIGHT = 400;
/** fixed colours: the same chart is drawn the same everywhere */
const PALETTE = ["#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de", "#3ba272", "#fc8452", "#9a60b4", "#ea7ccc", "#2f4554", "#61a0a8", "#d48265"];
/** the migratetypes' colours in the pageblock map (Unmovable red, Movable blue, Reclaimable green...) */
const MT_COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#7f7f7f"];
const MIB = 2 ** 20;
const pagesToMiB = (p: number) => Math.round(((p * 4096) / MIB) * 1000) / 1000;
const bytesToMiB = (b: number) => Math.round((b / MIB) * 1000) / 1000;
const seconds = (ms: number) => Math.round(ms) / 1000;

function base(title: string, subtitle?: string): Record<string, unknown> {
  return {
    animation: false,
    color: PALETTE,
    backgroundColor: "#ffffff",
    textStyle: { fontFamily: "sans-serif" },
    title: { text: title, subtext: subtitle ?? "", left: 10, top: 6, textStyle: { fontSize: 15 } },
  };
}

/** Every chart the inputs have data for, in report order (per run, then across runs, then compare). */
export function buildCharts(runs: readonly NamedRun[], compare?: { name: string; rows: readonly CompareRow[] }): ChartSpec[] {
  const out: ChartSpec[] = [];
  const many = runs.length > 1;
  for (const r of runs) {
    const pre = many ? `${r.name}/` : "";
    const label = many ? `${r.name}: ` : "";
    for (const c of runCharts(r.run)) out.push({ ...c, id: pre + c.id, title: label + c.title, option: { ...c.option, title: { ...(c.option.title as object), text: label + c.title } } });
  }
  if (many) {
    const c = runsChart(runs);
    if (c) out.push(c);
  }
  if (compare) {
    const c = compareChart(compare.name, compare.rows);
    if (c) out.push(c);
  }
  return out;
}

/** The charts of one run. */
export function runCharts(run: ReportRun): ChartSpec[] {
  const out: ChartSpec[] = [];
  out.push(...counterCharts(run));
  out.push(...freeHeatmaps(run));
  // the chosen sample times first, then the end
  for (const m of run.pageblock_snapshots ?? []) for (const z of m.zones) out.push(pageblockChart(z, m.time_ms, `@${m.time_ms}`));
  if (run.pageblock_map) for (const z of run.pageblock_map.zones) out.push(pageblockChart(z, run.pageblock_map.time_ms));
  out.push(...pageAgeCharts(run));
  const p = promotionChart(run);
  if (p) out.push(p);
  const l = latencyChart(run);
  if (l) out.push(l);
  return out;
}

// --- counters over time ---

/** Counters whose value changes over the series (or differs from 0 in it), in vmstat order. */
export function movedCounters(series: readonly Sample[]): string[] {
  if (!series.length) return [];
  const first = series[0]!.vmstat;
  return Object.keys(first).filter((k) => series.some((s) => s.vmstat[k] !== first[k]) || (first[k] ?? 0) !== 0);
}

function timeAxis(): Record<string, unknown> {
  return { type: "value", name: "time (s)", nameLocation: "middle", nameGap: 26, scale: true };
}

function counterCharts(run: ReportRun): ChartSpec[] {
  const series = run.series;
  const moved = movedCounters(series);
  if (!moved.length) return [];
  const t = series.map((s) => seconds(s.time_ms));
  const out: ChartSpec[] = [];
  for (const g of COUNTER_GROUPS) {
    const names = moved.filter((n) => COUNTER_GROUPS.find((x) => x.has(n)) === g);
    if (!names.length) continue;
    const pages = names.filter(countsPages);
    const counts = names.filter((n) => !countsPages(n));
    const axes: Record<string, unknown>[] = [];
    if (pages.length) axes.push({ type: "value", name: "MiB", scale: false });
    if (counts.length) axes.push({ type: "value", name: "count", scale: false, splitLine: { show: !pages.length } });
    // the six that moved most are shown at first; the rest are a click away in the legend
    const spread = (n: string) => Math.max(...series.map((s) => s.vmstat[n] ?? 0)) - Math.min(...series.map((s) => s.vmstat[n] ?? 0));
    const shown = new Set([...names].sort((a, b) => spread(b) - spread(a) || (a < b ? -1 : 1)).slice(0, 6));
    const lines = names.map((n) => ({
      type: "line",
      name: n,
      showSymbol: false,
      yAxisIndex: countsPages(n) || !pages.length ? 0 : 1,
      data: minMaxLine(t, series.map((s) => (countsPages(n) ? pagesToMiB(s.vmstat[n] ?? 0) : (s.vmstat[n] ?? 0)))),
    }));
    const title = `counters over time: ${g.name}`;
    out.push({
      id: `counters:${g.name.replace(/ /g, "-")}`,
      kind: "counters",
      title,
      width: WIDTH,
      height: HEIGHT,
      option: {
        ...base(title, `${names.length} moved; click a name to show or hide it${pages.length && counts.length ? " · left axis MiB, right axis count" : ""}`),
        tooltip: { trigger: "axis" },
        legend: { type: "scroll", bottom: 0, left: 10, right: 10, selected: Object.fromEntries(names.map((n) => [n, shown.has(n)])) },
        grid: { left: 70, right: 70, top: 70, bottom: 80 },
        xAxis: timeAxis(),
        yAxis: axes,
        series: lines,
      },
    });
  }
  return out;
}

// --- free memory per order, heatmap ---

/** Decades of pages for the log colour scale: [lo, hi) bounds 1, 10, 100, ... above `max`. */
export function decades(max: number): number[] {
  const b = [1];
  while (b[b.length - 1]! <= max) b.push(b[b.length - 1]! * 10);
  return b;
}

function sizeLabel(pages: number): string {
  const b = pages * 4096;
  if (b >= 2 ** 30) return `${+(b / 2 ** 30).toFixed(1)} GiB`;
  if (b >= MIB) return `${+(b / MIB).toFixed(1)} MiB`;
  return `${b / 1024} KiB`;
}

function freeHeatmaps(run: ReportRun): ChartSpec[] {
  const series = run.series;
  if (!series.length) return [];
  const cols = columnIndices(series.length);
  const nodes = series[0]!.buddyinfo.length;
  const out: ChartSpec[] = [];
  for (let n = 0; n < nodes; n++) {
    const data: number[][] = [];
    let max = 0;
    cols.forEach((i, x) => {
      const bi = series[i]!.buddyinfo[n] ?? [];
      bi.forEach((blocks, o) => {
        const p = blocks * 2 ** o;
        if (!p) return;
        max = Math.max(max, p);
        // [time column, order, decade of pages (the colour), pages, MiB]
        data.push([x, o, Math.floor(Math.log10(p)), p, pagesToMiB(p)]);
      });
    });
    const b = decades(max);
    const pieces = b.slice(0, -1).map((lo, k) => ({ value: k, label: `${lo.toLocaleString("en-US")}–${(b[k + 1]! - 1).toLocaleString("en-US")} pages (≥ ${sizeLabel(lo)})` }));
    // light to dark blue, spread over however many decades there are
    const blues = ["#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b", "#041630"];
    const colours = pieces.map((_, k) => blues[pieces.length === 1 ? blues.length - 1 : Math.round((k * (blues.length - 1)) / (pieces.length - 1))]!);
    const nodeId = run.nodes[n]?.id ?? n;
    const zone = run.nodes[n]?.zones[0]?.name ?? "Normal";
    const title = `free memory per order: node ${nodeId}, zone ${zone}`;
    const dropped = cols.length < series.length ? ` · ${cols.length} of ${series.length} samples shown (the last of each bucket)` : "";
    out.push({
      id: `free-heatmap:n${nodeId}`,
      kind: "free-heatmap",
      title,
      width: WIDTH,
      height: HEIGHT,
      option: {
        ...base(title, `free pages in blocks of each order, colour on a log scale${dropped}`),
        tooltip: { position: "top", formatter: "__wsim:heatmap" },
        grid: { left: 70, right: 250, top: 70, bottom: 60 },
        xAxis: { type: "category", name: "time (s)", nameLocation: "middle", nameGap: 30, data: cols.map((i) => seconds(series[i]!.time_ms)), splitArea: { show: false } },
        yAxis: { type: "category", name: "order", data: Array.from({ length: 11 }, (_, o) => String(o)) },
        visualMap: {
          type: "piecewise",
          dimension: 2,
          seriesIndex: 0,
          right: 10,
          top: "middle",
          pieces: pieces.map((p, k) => ({ ...p, color: colours[k] })),
        },
        series: [{ type: "heatmap", name: "free pages", data, emphasis: { disabled: true } }],
      },
    });
  }
  return out;
}

// --- pageblock map ---

/** How full a pageblock is, as the map shades it: 0 all free, 1 up to half used, 2 more than half, 3 all used. */
export function fullnessLevel(free: number, size = 512): number {
  const used = size - free;
  if (used <= 0) return 0;
  if (used >= size) return 3;
  return used * 2 <= size ? 1 : 2;
}
const LEVEL_NAMES = ["free", "≤ half used", "> half used", "full"];

function shade(hex: string, level: number): string {
  // mix with white: free blocks palest, full blocks the full colour
  const mix = [0.82, 0.55, 0.25, 0][level]!;
  const c = [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
  return "#" + c.map((v) => Math.round(v + (255 - v) * mix).toString(16).padStart(2, "0")).join("");
}

function pageblockChart(z: PageblockZoneMap, timeMs: number, suffix = ""): ChartSpec {
  const n = z.mt.length;
  const cols = Math.min(64, Math.max(8, Math.ceil(Math.sqrt(n * 4))));
  const rows = Math.ceil(n / cols);
  const data: number[][] = [];
  const present = new Set<number>();
  for (let b = 0; b < n; b++) {
    const cls = z.mt[b]! * 4 + fullnessLevel(z.free[b]!);
    present.add(cls);
    // [column, row, class (colour), pageblock index, free pages]
    data.push([b % cols, Math.floor(b / cols), cls, b, z.free[b]!]);
  }
  const pieces = [...present].sort((a, b) => a - b).map((cls) => ({
    value: cls,
    label: `${MIGRATETYPE_NAMES[cls >> 2] ?? "?"}: ${LEVEL_NAMES[cls & 3]}`,
    color: shade(MT_COLOURS[cls >> 2] ?? "#000000", cls & 3),
  }));
  const title = `pageblocks: node ${z.node}, zone ${z.zone} at ${seconds(timeMs)} s`;
  const height = Math.max(260, Math.min(900, 110 + rows * 12));
  return {
    id: `pageblocks:n${z.node}${suffix}`,
    kind: "pageblocks",
    title,
    width: WIDTH,
    height,
    option: {
      ...base(title, `${n} pageblocks of 2 MiB from pfn ${z.start_pfn}, ${cols} a row; colour = migratetype, shade = how much is in use`),
      tooltip: { formatter: "__wsim:pageblock" },
      grid: { left: 60, right: 200, top: 70, bottom: 30 },
      xAxis: { type: "category", data: Array.from({ length: cols }, (_, i) => String(i)), show: false },
      yAxis: { type: "category", name: "first block", inverse: true, data: Array.from({ length: rows }, (_, r) => String(r * cols)) },
      visualMap: { type: "piecewise", dimension: 2, seriesIndex: 0, right: 10, top: "middle", pieces },
      series: [{ type: "heatmap", name: "pageblocks", data, itemStyle: { borderColor: "#ffffff", borderWidth: rows > 60 ? 0 : 1 }, emphasis: { disabled: true } }],
    },
  };
}

// --- page age ---

function binLabel(b: WorkingsetBin, prev: number | null): string {
  if (b.le_ms === null) return prev === null ? "all" : `≥ ${prev} ms`;
  return `< ${b.le_ms} ms`;
}

function pageAgeCharts(run: ReportRun): ChartSpec[] {
  const out: ChartSpec[] = [];
  for (const [cg, nodes] of Object.entries(run.workingset ?? {})) {
    for (const [nid, w] of Object.entries(nodes)) {
      if (!w.page_age?.length) continue;
      const labels = w.page_age.map((b, k) => binLabel(b, k ? w.page_age[k - 1]!.le_ms : null));
      const mib = (bins: WorkingsetBin[]) => bins.map((b) => bytesToMiB(b.anon + b.file));
      const title = `page age: memcg ${cg}, node ${nid}`;
      out.push({
        id: `page-age:${cg}:n${nid}`,
        kind: "page-age",
        title,
        width: WIDTH,
        height: HEIGHT,
        option: {
          ...base(title, `anon + file at the end; the kernel's view (memory.workingset.page_age) beside the exact ages · ${(w.misplaced_share * 100).toFixed(1)}% of bytes misplaced`),
          tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
          legend: { bottom: 0 },
          grid: { left: 70, right: 30, top: 70, bottom: 70 },
          xAxis: { type: "category", name: "age", nameLocation: "middle", nameGap: 28, data: labels },
          yAxis: { type: "value", name: "MiB" },
          series: [
            { type: "bar", name: "kernel view (page_age)", data: mib(w.page_age) },
            { type: "bar", name: "exact (page_age_exact)", data: mib(w.page_age_exact) },
          ],
        },
      });
    }
  }
  return out;
}

// --- promotion ---

const PROMOTION_COUNTERS = /^(pgpromote_success|pgpromote_candidate|kpromoted_mig_promoted|kpromoted_mig_candidate|nr_kmmscand_migrated|numa_pages_migrated)$/;
/** The counters the promotion chart draws (even when they stay 0: nothing promoted is an answer too). */
export const isPromotionCounter = (name: string) => PROMOTION_COUNTERS.test(name);

function promotionChart(run: ReportRun): ChartSpec | null {
  const tiered = run.machine?.nodes?.some((n) => n.tier > 0);
  if (!tiered || !run.series.length) return null;
  const names = Object.keys(run.series[0]!.vmstat).filter((n) => PROMOTION_COUNTERS.test(n));
  if (!names.length) return null;
  const t = run.series.map((s) => seconds(s.time_ms));
  const truth = run.promotion;
  const marks = truth
    ? {
        symbol: "none",
        label: { formatter: "{b}", position: "insideEndTop" },
        data: [
          { name: `truly hot (distinct pages, whole run): ${truth.truly_hot}`, yAxis: truth.truly_hot },
          { name: `of them promoted: ${truth.promoted_hot}`, yAxis: truth.promoted_hot },
        ],
      }
    : undefined;
  const title = "promotion: found vs truly hot";
  return {
    id: "promotion",
    kind: "promotion",
    title,
    width: WIDTH,
    height: HEIGHT,
    option: {
      ...base(title, "pages over time (cumulative counters); lines: wsim's ground truth at the end (pages in a window's top decile of accesses)"),
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", bottom: 0 },
      grid: { left: 70, right: 40, top: 70, bottom: 70 },
      xAxis: timeAxis(),
      // the axis reaches the truly hot count, so its line is always in view
      yAxis: { type: "value", name: "pages", max: truth ? Math.max(truth.truly_hot, ...names.map((n) => Math.max(...run.series.map((s) => s.vmstat[n] ?? 0)))) : undefined },
      series: names.map((n, k) => ({
        type: "line",
        name: n,
        showSymbol: false,
        data: minMaxLine(t, run.series.map((s) => s.vmstat[n] ?? 0)),
        ...(k === 0 && marks ? { markLine: { ...marks, lineStyle: { type: "dashed", color: "#ee6666" } } } : {}),
      })),
    },
  };
}

function latencyChart(run: ReportRun): ChartSpec | null {
  const by = Object.entries(run.promotion?.by ?? {}).filter(([, v]) => v.latency?.some((b) => b.count > 0));
  if (!by.length) return null;
  const bins = by[0]![1].latency;
  const labels = bins.map((b, k) => (b.le_ms === null ? `≥ ${bins[k - 1]?.le_ms ?? 0} ms` : `< ${b.le_ms} ms`));
  const title = "promotion latency of truly hot pages";
  return {
    id: "promotion-latency",
    kind: "promotion-latency",
    title,
    width: WIDTH,
    height: HEIGHT,
    option: {
      ...base(title, "time from a page becoming truly hot to its promotion, per promoter"),
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { bottom: 0 },
      grid: { left: 70, right: 30, top: 70, bottom: 70 },
      xAxis: { type: "category", name: "latency", nameLocation: "middle", nameGap: 28, data: labels },
      yAxis: { type: "value", name: "pages" },
      series: by.map(([who, v]) => ({ type: "bar", name: who, data: v.latency.map((b) => b.count) })),
    },
  };
}

// --- several runs ---

/**
 * Counters that differ most across runs at the end (relative to the largest value), up to
 * `max`, in vmstat order of the first run; ties by name.
 */
export function differingCounters(runs: readonly NamedRun[], max = 8): string[] {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.run.vmstat)))];
  const score = (n: string) => {
    const v = runs.map((r) => r.run.vmstat[n] ?? 0);
    const hi = Math.max(...v.map(Math.abs));
    return hi ? (Math.max(...v) - Math.min(...v)) / hi : 0;
  };
  const top = names.filter((n) => score(n) > 0).sort((a, b) => score(b) - score(a) || (a < b ? -1 : 1)).slice(0, max);
  return names.filter((n) => top.includes(n));
}

function runsChart(runs: readonly NamedRun[]): ChartSpec | null {
  const names = differingCounters(runs);
  if (!names.length) return null;
  const title = `${runs.length} runs: the counters that differ most`;
  const withSeries = runs.every((r) => r.run.series.length > 0);
  const common = {
    ...base(title, withSeries ? "each counter over time, one line per run (click a name to hide it)" : "each counter at the end, one bar per run"),
    tooltip: { trigger: "axis" },
    legend: { type: "scroll", bottom: 0, left: 10, right: 10 },
    grid: { left: 80, right: 40, top: 70, bottom: 80 },
  };
  const option = withSeries
    ? {
        ...common,
        xAxis: timeAxis(),
        yAxis: { type: "log", name: "value + 1 (log)", logBase: 10 },
        series: runs.flatMap((r, k) =>
          names.map((n, j) => ({
            type: "line",
            name: `${r.name}: ${n}`,
            showSymbol: false,
            color: PALETTE[j % PALETTE.length],
            lineStyle: { type: ["solid", "dashed", "dotted"][k % 3] },
            data: minMaxLine(r.run.series.map((s) => seconds(s.time_ms)), r.run.series.map((s) => (s.vmstat[n] ?? 0) + 1)),
          })),
        ),
      }
    : {
        ...common,
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        xAxis: { type: "category", data: names, axisLabel: { rotate: 20, fontSize: 10 } },
        yAxis: { type: "log", name: "value + 1 (log)" },
        series: runs.map((r) => ({ type: "bar", name: r.name, data: names.map((n) => (r.run.vmstat[n] ?? 0) + 1) })),
      };
  return { id: "runs", kind: "runs", title, width: WIDTH, height: HEIGHT + 40, option };
}

// --- wsim compare ---

function compareChart(name: string, rows: readonly CompareRow[]): ChartSpec | null {
  const shown = rows.filter((r) => r.wsim !== null);
  if (!shown.length) return null;
  const title = `wsim beside the kernel: ${name}`;
  const height = Math.max(300, 110 + shown.length * 22);
  const labels = shown.map((r) => r.counter);
  return {
    id: "compare",
    kind: "compare",
    title,
    width: WIDTH,
    height,
    option: {
      ...base(title, "per counter: the kernel's range over its runs (bar) and wsim's value (dot); change during the replay + 1, log scale"),
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { bottom: 0, data: ["kernel range", "wsim"] },
      grid: { left: 220, right: 40, top: 70, bottom: 50 },
      yAxis: { type: "category", data: labels, inverse: true, axisLabel: { fontSize: 11 } },
      xAxis: { type: "log", name: "count + 1", nameLocation: "middle", nameGap: 26 },
      series: [
        // a floating bar: an invisible one up to the kernel's minimum, the range stacked on it
        { type: "bar", name: "kernel min", stack: "k", silent: true, itemStyle: { color: "transparent" }, data: shown.map((r) => Math.max(1, r.kernel_min + 1)), tooltip: { show: false } },
        { type: "bar", name: "kernel range", stack: "k", itemStyle: { color: "#91cc75" }, data: shown.map((r) => Math.max(0.0001, r.kernel_max + 1 - Math.max(1, r.kernel_min + 1)) || 0.0001) },
        { type: "scatter", name: "wsim", symbolSize: 10, itemStyle: { color: "#ee6666" }, data: shown.map((r, i) => [Math.max(1, (r.wsim ?? 0) + 1), i]) },
      ],
    },
  };
}
