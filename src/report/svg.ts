/**
 * One chart as an SVG document, rendered in Node by ECharts' server-side renderer (no browser,
 * no DOM). The output is deterministic: zrender numbers its ids and classes per chart instance
 * (`zr0-…`, `zr1-…` in one process); they are renamed `w0`, `w1`, … in order of appearance.
 */
import * as echarts from "echarts";
import type { ChartSpec } from "./charts.js";

/**
 * `<?xml ...?>` and the `<svg>` of `chart` as staticChart lays it out (its width; its height
 * plus room for the subtitle and the legend's rows), with a white background.
 */
export function renderSvg(chart: ChartSpec): string {
  const st = staticChart(chart);
  const c = echarts.init(null, null, { renderer: "svg", ssr: true, width: st.width, height: st.height });
  try {
    c.setOption(st.option);
    const svg = c.renderToSVGString();
    return `<?xml version="1.0" encoding="UTF-8"?>\n${renumberIds(svg)}\n`;
  } finally {
    c.dispose();
  }
}

/** Renames zrender's per-instance ids and classes (`zr3-c0`, `zr3-cls-12`) to `w0`, `w1`, ... by first appearance. */
export function renumberIds(svg: string): string {
  const names = new Map<string, string>();
  return svg.replace(/\bzr\d+-[A-Za-z0-9-]*[A-Za-z0-9]/g, (m) => {
    let n = names.get(m);
    if (n === undefined) names.set(m, (n = `w${names.size}`));
    return n;
  });
}

/** px the plot area moves down in an SVG, so the subtitle clears the y axes' names */
export const SUBTITLE_ROOM = 22;
/** px of one row of a wrapped legend */
export const LEGEND_ROW = 24;

/**
 * `chart` for a static image: no tooltip; the legend plain (every name whole, wrapping onto
 * rows, no pages to scroll) with every series on (nothing to click in an SVG); the subtitle
 * without the chart's click hint (ChartSpec.hint); the plot area lower by SUBTITLE_ROOM and
 * the chart taller by that and LEGEND_ROW per legend row beyond the first.
 */
export function staticChart(chart: ChartSpec): ChartSpec {
  const o: Record<string, unknown> = { ...chart.option };
  delete o.tooltip;
  let height = chart.height;
  const title = o.title as Record<string, unknown> | undefined;
  if (title && chart.hint && typeof title.subtext === "string") o.title = { ...title, subtext: title.subtext.replace(chart.hint, "") };
  let extraBottom = 0;
  const legend = o.legend as Record<string, unknown> | undefined;
  if (legend) {
    const names = Array.isArray(legend.data) ? (legend.data as string[]) : ((o.series as { name?: string }[] | undefined) ?? []).map((x) => x.name ?? "");
    const rows = legendRows([...new Set(names)], chart.width - 20);
    const { selected: _, ...rest } = legend;
    o.legend = { ...rest, type: "plain", left: 10, right: 10 };
    extraBottom = (rows - 1) * LEGEND_ROW;
  }
  const grid = o.grid as Record<string, number> | undefined;
  if (grid) {
    o.grid = { ...grid, top: (grid.top ?? 60) + SUBTITLE_ROOM, bottom: (grid.bottom ?? 60) + extraBottom };
    height += SUBTITLE_ROOM + extraBottom;
  }
  return { ...chart, height, option: o };
}

/**
 * Rows a plain horizontal legend of `names` takes in `width` px: each item is its icon (25 px),
 * a 5 px gap, its text (7 px a character at 12 px, a generous estimate) and the 10 px between
 * items; an item that does not fit starts a row.
 */
export function legendRows(names: readonly string[], width: number): number {
  let rows = 1;
  let x = 0;
  for (const n of names) {
    const w = 25 + 5 + 7 * n.length;
    if (x > 0 && x + w > width) {
      rows++;
      x = 0;
    }
    x += w + 10;
  }
  return rows;
}
