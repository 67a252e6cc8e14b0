/**
 * One chart as an SVG document, rendered in Node by ECharts' server-side renderer (no browser,
 * no DOM). The output is deterministic: zrender numbers its ids and classes per chart instance
 * (`zr0-…`, `zr1-…` in one process); they are renamed `w0`, `w1`, … in order of appearance.
 */
import * as echarts from "echarts";
import type { ChartSpec } from "./charts.js";

/**
 * `<?xml ...?>` and the `<svg>` of `chart` at its width × height (px), with a white
 * background. Tooltip markers (`__wsim:…`) are dropped: an SVG has no tooltips.
 */
export function renderSvg(chart: ChartSpec): string {
  const c = echarts.init(null, null, { renderer: "svg", ssr: true, width: chart.width, height: chart.height });
  try {
    c.setOption(stripTooltips(chart.option));
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

function stripTooltips(option: Record<string, unknown>): Record<string, unknown> {
  const o = { ...option };
  delete o.tooltip;
  return o;
}
