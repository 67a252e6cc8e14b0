/**
 * Charts over time and across runs: counters per group, promotion against the truly hot
 * pages and its latency, several runs overlaid, and `wsim compare`'s counters (charts.ts).
 */
import type { Sample } from "../engine/engine.js";
import { base, HEIGHT, PALETTE, seconds, timeAxis, WIDTH, type ChartSpec, type NamedRun } from "./chart-common.js";
import type { CompareRow } from "./compare.js";
import { minMaxLine } from "./downsample.js";
import type { ReportRun } from "./run-file.js";
import { COUNTER_GROUPS, mibPerUnit } from "./text.js";

/** `v` units of `mibPerUnit` MiB each, as MiB to 3 decimals. */
const toMiB = (v: number, mibPerUnit: number) => Math.round(v * mibPerUnit * 1000) / 1000;

// --- counters over time ---

/** Counters whose value changes over the series (or differs from 0 in it), in vmstat order. */
export function movedCounters(series: readonly Sample[]): string[] {
  if (!series.length) return [];
  const first = series[0]!.vmstat;
  return Object.keys(first).filter((k) => series.some((s) => s.vmstat[k] !== first[k]) || (first[k] ?? 0) !== 0);
}


/** The kernel's headline counters of each group, most telling first: shown first in a counter chart. */
export const HEADLINE_COUNTERS: ReadonlySet<string> = new Set([
  "pgfault", "pgmajfault", "pgalloc_normal", "pgfree", "allocstall_normal", "oom_kill",
  "pgscan_kswapd", "pgscan_direct", "pgsteal_kswapd", "pgsteal_direct", "pgdemote_kswapd", "pgdemote_direct", "pswpin", "pswpout",
  "compact_stall", "compact_success", "compact_fail", "compact_migrate_scanned", "compact_free_scanned",
  "thp_fault_alloc", "thp_fault_fallback", "thp_collapse_alloc", "nr_anon_transparent_hugepages",
  "pgmigrate_success", "pgmigrate_fail",
  "numa_hit", "numa_miss", "numa_foreign", "numa_local", "numa_other", "pgpromote_success", "pgpromote_candidate", "numa_pages_migrated", "numa_hint_faults",
  "workingset_refault_anon", "workingset_refault_file", "workingset_activate_anon", "workingset_activate_file",
  "nr_free_pages", "nr_anon_pages", "nr_file_pages", "nr_active_anon", "nr_inactive_anon", "nr_active_file", "nr_inactive_file",
]);

/**
 * Which of a chart's counters are on at first, and which repeat another's values sample for
 * sample. Counters are ranked headline first (in HEADLINE_COUNTERS's order), then by how far
 * they moved, then by name; a counter of the same unit (mibPerUnit: the same axis and scale) equal to a
 * higher-ranked one in every sample is `sameAs` it (its line would hide under that one's: the
 * legend says so), is on when that one is, and takes
 * no place among the `max` shown.
 */
export function shownCounters(names: readonly string[], series: readonly Sample[], max = 6): { shown: Set<string>; sameAs: Map<string, string> } {
  const v = (n: string, s: Sample) => s.vmstat[n] ?? 0;
  const spread = (n: string) => Math.max(...series.map((s) => v(n, s))) - Math.min(...series.map((s) => v(n, s)));
  const headline = [...HEADLINE_COUNTERS];
  const rank = (n: string) => (HEADLINE_COUNTERS.has(n) ? headline.indexOf(n) : headline.length);
  const ordered = [...names].sort((a, b) => rank(a) - rank(b) || spread(b) - spread(a) || (a < b ? -1 : 1));
  const sameAs = new Map<string, string>();
  const originals: string[] = [];
  for (const n of ordered) {
    const o = originals.find((x) => mibPerUnit(x) === mibPerUnit(n) && series.every((s) => v(x, s) === v(n, s)));
    if (o === undefined) originals.push(n);
    else sameAs.set(n, o);
  }
  const shown = new Set(originals.slice(0, max));
  for (const [n, o] of sameAs) if (shown.has(o)) shown.add(n);
  return { shown, sameAs };
}

/** One chart per counter group with counters that moved (none without samples). */
export function counterCharts(run: ReportRun): ChartSpec[] {
  const series = run.series;
  const moved = movedCounters(series);
  if (!moved.length) return [];
  const t = series.map((s) => seconds(s.time_ms));
  const out: ChartSpec[] = [];
  for (const g of COUNTER_GROUPS) {
    const names = moved.filter((n) => COUNTER_GROUPS.find((x) => x.has(n)) === g);
    if (!names.length) continue;
    // sizes (pages, KiB, huge pages: MiB per unit by mibPerUnit) on a MiB axis, events on a count axis
    const pages = names.filter((n) => mibPerUnit(n) !== null);
    const counts = names.filter((n) => mibPerUnit(n) === null);
    const twoAxes = pages.length > 0 && counts.length > 0;
    const axes: Record<string, unknown>[] = [];
    if (pages.length) axes.push({ type: "value", name: "MiB", scale: false });
    if (counts.length) axes.push({ type: "value", name: "count", scale: false, splitLine: { show: !pages.length } });
    const { shown, sameAs } = shownCounters(names, series);
    const label = (n: string) => (twoAxes ? `${n} (${mibPerUnit(n) === null ? "count" : "MiB"})` : n) + (sameAs.has(n) ? ` = ${sameAs.get(n)}` : "");
    const lines = names.map((n) => {
      const f = mibPerUnit(n);
      return {
        type: "line",
        name: label(n),
        showSymbol: false,
        yAxisIndex: f !== null || !pages.length ? 0 : 1,
        data: minMaxLine(t, series.map((s) => (f !== null ? toMiB(s.vmstat[n] ?? 0, f) : (s.vmstat[n] ?? 0)))),
      };
    });
    const title = `counters over time: ${g.name}`;
    const hint = "; click a name to show or hide it";
    out.push({
      hint,
      id: `counters:${g.name.replace(/ /g, "-")}`,
      kind: "counters",
      title,
      width: WIDTH,
      height: HEIGHT,
      option: {
        ...base(title, `${names.length} moved${hint}${pages.length && counts.length ? " · left axis MiB, right axis count" : ""}`),
        tooltip: { trigger: "axis" },
        legend: { type: "scroll", bottom: 0, left: 10, right: 10, selected: Object.fromEntries(names.map((n) => [label(n), shown.has(n)])) },
        grid: { left: 70, right: 70, top: 70, bottom: 80 },
        xAxis: timeAxis(),
        yAxis: axes,
        series: lines,
      },
    });
  }
  return out;
}

// --- promotion ---

const PROMOTION_COUNTERS = /^(pgpromote_success|pgpromote_candidate|kpromoted_mig_promoted|kpromoted_mig_candidate|nr_kmmscand_migrated|numa_pages_migrated)$/;
/** The counters the promotion chart draws (even when they stay 0: nothing promoted is an answer too). */
export const isPromotionCounter = (name: string) => PROMOTION_COUNTERS.test(name);

/** Promotion counters over time against the truly hot pages (a tiered run with samples), else null. */
export function promotionChart(run: ReportRun): ChartSpec | null {
  const tiered = run.machine?.nodes?.some((n) => n.tier > 0);
  if (!tiered || !run.series.length) return null;
  const names = Object.keys(run.series[0]!.vmstat).filter((n) => PROMOTION_COUNTERS.test(n));
  if (!names.length) return null;
  const t = run.series.map((s) => seconds(s.time_ms));
  // the ground truth over time when the samples carry it (runs since it was added), else its end value as lines
  const overTime = run.series.every((s) => s.promotion !== undefined);
  const truth = run.promotion;
  const marks = truth && !overTime
    ? {
        symbol: "none",
        label: { formatter: "{b}", position: "insideEndTop" },
        data: [
          { name: `truly hot (distinct pages, whole run): ${truth.truly_hot}`, yAxis: truth.truly_hot },
          // at the start, where the cumulative counters are still low: at the end it sat on them
          { name: `of them promoted: ${truth.promoted_hot}`, yAxis: truth.promoted_hot, label: { position: "insideStartTop" } },
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
      ...base(
        title,
        overTime
          ? "pages over time (cumulative counters); dashed: wsim's ground truth so far (distinct lower-tier pages accessed wsim.hot_truth_accesses times in a window, and of them promoted)"
          : "pages over time (cumulative counters); lines: wsim's ground truth at the end (lower-tier pages accessed wsim.hot_truth_accesses times in a window)",
      ),
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", bottom: 0 },
      grid: { left: 70, right: 40, top: 70, bottom: 70 },
      xAxis: timeAxis(),
      // the axis reaches the truly hot count, so its line is always in view
      yAxis: { type: "value", name: "pages", max: truth && !overTime ? Math.max(truth.truly_hot, ...names.map((n) => Math.max(...run.series.map((s) => s.vmstat[n] ?? 0)))) : undefined },
      series: [
        ...names.map((n, k) => ({
          type: "line",
          name: n,
          showSymbol: false,
          data: minMaxLine(t, run.series.map((s) => s.vmstat[n] ?? 0)),
          ...(k === 0 && marks ? { markLine: { ...marks, lineStyle: { type: "dashed", color: "#ee6666" } } } : {}),
        })),
        ...(overTime
          ? (["truly_hot", "promoted_hot"] as const).map((key) => ({
              type: "line",
              name: key === "truly_hot" ? "truly hot (wsim's ground truth)" : "truly hot and promoted",
              showSymbol: false,
              lineStyle: { type: "dashed" },
              data: minMaxLine(t, run.series.map((s) => s.promotion![key])),
            }))
          : []),
      ],
    },
  };
}

/** Promotion latency of truly hot pages per promoter, or null when no promoter has any. */
export function latencyChart(run: ReportRun): ChartSpec | null {
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

const RUNS_HINT = " (click a name to hide it)";

/** The counters that differ most across runs, overlaid (over time when every run has samples, else at the end), or null. */
export function runsChart(runs: readonly NamedRun[]): ChartSpec | null {
  const names = differingCounters(runs);
  if (!names.length) return null;
  const title = `${runs.length} runs: the counters that differ most`;
  const withSeries = runs.every((r) => r.run.series.length > 0);
  const common = {
    ...base(title, withSeries ? `each counter over time, one line per run${RUNS_HINT}` : "each counter at the end, one bar per run"),
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
  return { id: "runs", kind: "runs", title, width: WIDTH, height: HEIGHT + 40, option, ...(withSeries ? { hint: RUNS_HINT } : {}) };
}

// --- wsim compare ---

/** A compare output's modelled counters: the kernel's range and wsim's value, or null when none is modelled. */
export function compareChart(name: string, rows: readonly CompareRow[]): ChartSpec | null {
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
