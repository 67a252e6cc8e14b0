/**
 * What the report's charts share: the chart kinds, the ChartSpec every chart is, fixed sizes
 * and colours, unit conversions and the common start of an option.
 */
import type { ReportRun } from "./run-file.js";

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
  /** the part of the subtitle only an interactive chart means (e.g. "; click a name to show or hide it"): a static SVG drops it */
  hint?: string;
}

/** A named run (the name is what titles and legends call it: the file's or trace's base name). */
export interface NamedRun {
  name: string;
  run: ReportRun;
}

/** chart width, px (the report's column) */
export const WIDTH = 960;
/** default chart height, px */
export const HEIGHT = 400;
/** fixed colours: the same chart is drawn the same everywhere */
export const PALETTE = ["#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de", "#3ba272", "#fc8452", "#9a60b4", "#ea7ccc", "#2f4554", "#61a0a8", "#d48265"];
/** the migratetypes' colours in the pageblock map (Unmovable red, Movable blue, Reclaimable green...) */
export const MT_COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#7f7f7f"];
export const MIB = 2 ** 20;
/** pages of 4 KiB as MiB, 3 decimals */
export const pagesToMiB = (p: number) => Math.round(((p * 4096) / MIB) * 1000) / 1000;
/** bytes as MiB, 3 decimals */
export const bytesToMiB = (b: number) => Math.round((b / MIB) * 1000) / 1000;
/** ms as s, 3 decimals */
export const seconds = (ms: number) => Math.round(ms) / 1000;

/** What every chart's option starts with: no animation, fixed colours, white background, the title. */
export function base(title: string, subtitle?: string): Record<string, unknown> {
  return {
    animation: false,
    color: PALETTE,
    backgroundColor: "#ffffff",
    textStyle: { fontFamily: "sans-serif" },
    title: { text: title, subtext: subtitle ?? "", left: 10, top: 6, textStyle: { fontSize: 15 } },
  };
}

/** Every chart the inputs have data for, in report order (per run, then across runs, then compare). */

/** The x axis of charts over time: seconds of virtual time. */
export function timeAxis(): Record<string, unknown> {
  return { type: "value", name: "time (s)", nameLocation: "middle", nameGap: 26, scale: true };
}
