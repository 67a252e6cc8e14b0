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
import type { ChartSpec, NamedRun } from "./chart-common.js";
import { freeHeatmaps, pageAgeCharts, pageblockChart, runZones } from "./chart-memory.js";
import { compareChart, counterCharts, latencyChart, promotionChart, runsChart } from "./chart-series.js";
import type { CompareRow } from "./compare.js";
import type { ReportRun } from "./run-file.js";

export { CHART_KINDS, KIND_NEEDS, WIDTH, type ChartKind, type ChartSpec, type NamedRun } from "./chart-common.js";
export { decades, fullnessLevel } from "./chart-memory.js";
export { differingCounters, isPromotionCounter, movedCounters } from "./chart-series.js";

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
  const zones = runZones(run);
  const label = (z: { node: number; zone: string }) => zones.find((x) => x.nid === z.node && x.name === z.zone)?.label;
  for (const m of run.pageblock_snapshots ?? []) for (const z of m.zones) out.push(pageblockChart(z, m.time_ms, `@${m.time_ms}`, label(z)));
  if (run.pageblock_map) for (const z of run.pageblock_map.zones) out.push(pageblockChart(z, run.pageblock_map.time_ms, "", label(z)));
  out.push(...pageAgeCharts(run));
  const p = promotionChart(run);
  if (p) out.push(p);
  const l = latencyChart(run);
  if (l) out.push(l);
  return out;
}

