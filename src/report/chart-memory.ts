/**
 * Charts of memory at a time: free memory per order over time (heatmap), the pageblock map,
 * page_age histograms (charts.ts).
 */
import type { WorkingsetBin } from "../engine/engine.js";
import { zoneLabels } from "../engine/zone-labels.js";
import { base, bytesToMiB, HEIGHT, MT_COLOURS, pagesToMiB, seconds, WIDTH, type ChartSpec } from "./chart-common.js";
import { columnIndices } from "./downsample.js";
import { MIGRATETYPE_NAMES, type PageblockZoneMap } from "./pageblock-map.js";
import type { ReportRun } from "./run-file.js";
import { pagesSize } from "./text.js";

// --- free memory per order, heatmap ---

/** Decades of pages for the log colour scale: [lo, hi) bounds 1, 10, 100, ... above `max`. */
export function decades(max: number): number[] {
  const b = [1];
  while (b[b.length - 1]! <= max) b.push(b[b.length - 1]! * 10);
  return b;
}

/** One heatmap per zone of free pages per order over the samples (none without samples). */
export function freeHeatmaps(run: ReportRun): ChartSpec[] {
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
    const pieces = b.slice(0, -1).map((lo, k) => ({ value: k, label: `${lo.toLocaleString("en-US")}–${(b[k + 1]! - 1).toLocaleString("en-US")} pages (≥ ${pagesSize(lo)})` }));
    // light to dark blue, spread over however many decades there are
    const blues = ["#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b", "#041630"];
    const colours = pieces.map((_, k) => blues[pieces.length === 1 ? blues.length - 1 : Math.round((k * (blues.length - 1)) / (pieces.length - 1))]!);
    // the samples' rows are zones (Memory.zones order), the run's nodes list the same zones
    const zn = runZones(run)[n];
    const nodeId = zn?.nid ?? n;
    const zone = zn?.name ?? "Normal";
    const label = zn?.label ?? `n${n}`;
    const title = `free memory per order: node ${nodeId}, zone ${zone}`;
    const dropped = cols.length < series.length ? ` · ${cols.length} of ${series.length} samples shown (the last of each bucket)` : "";
    out.push({
      id: `free-heatmap:${label}`,
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

/** The map of one zone's pageblocks at `timeMs`; `suffix` tells maps of one zone apart (`@1000`). */
/**
 * The zones of a run in Memory.zones order (node by node, populated zones from DMA up), each
 * with its chart label (engine.ts zoneLabels: `n0`, or `n0_DMA32` on a node of several zones).
 */
export function runZones(run: Pick<ReportRun, "nodes">): { nid: number; name: string; label: string }[] {
  const zs = run.nodes.flatMap((n) => n.zones.map((z) => ({ nid: n.id, name: z.name })));
  const labels = zoneLabels(zs);
  return zs.map((z, i) => ({ ...z, label: labels[i]! }));
}

/** A pageblock map's chart; `label` names its zone in the id (runZones; default `n<node>`). */
export function pageblockChart(z: PageblockZoneMap, timeMs: number, suffix = "", label = `n${z.node}`): ChartSpec {
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
    id: `pageblocks:${label}${suffix}`,
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

/** One chart per memcg and node with a page_age report: the kernel's view beside the exact one. */
export function pageAgeCharts(run: ReportRun): ChartSpec[] {
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
