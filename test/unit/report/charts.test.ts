/**
 * The report's charts from a hand-built run: which charts exist, their data worked out by
 * hand (MiB, log decades, pageblock classes), SVG parsed back with a real XML parser, and the
 * same bytes twice (SVG and HTML).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { buildCharts, CHART_KINDS, decades, differingCounters, fullnessLevel, movedCounters, type NamedRun } from "../../../src/report/charts.js";
import { differingSettings, renderReport, reportChange } from "../../../src/report/html.js";
import { runNames } from "../../../src/cli/commands/report.js";
import { handRun } from "./fixtures.js";
import { legendRows, renderSvg, staticChart, SUBTITLE_ROOM } from "../../../src/report/svg.js";
import type { CompareRow } from "../../../src/report/compare.js";
import type { ReportRun } from "../../../src/report/run-file.js";
import { mibPerUnit } from "../../../src/report/text.js";
import { shownCounters } from "../../../src/report/chart-series.js";
import type { Sample } from "../../../src/engine/engine.js";

const COMPARE: CompareRow[] = [
  { counter: "pgfault", wsim: 20, kernel_min: 18, kernel_max: 25, difference_min: -2, difference_max: 5, in_range: true, modelled: true },
  { counter: "compact_stall", wsim: 1, kernel_min: 3, kernel_max: 3, difference_min: 2, difference_max: 2, in_range: false, modelled: true },
  { counter: "pgsteal_anon", wsim: null, kernel_min: 0, kernel_max: 4, difference_min: null, difference_max: null, in_range: null, modelled: false },
];

type Series = { name: string; data: unknown[] }[];
const seriesOf = (o: Record<string, unknown>) => o.series as Series;

describe("the charts of one run", () => {
  const charts = buildCharts([{ name: "r", run: handRun() }]);
  const byId = new Map(charts.map((c) => [c.id, c]));

  it("one chart per group that moved, per zone, per pageblock zone, per memcg and node, and promotion", () => {
    expect(charts.map((c) => c.id)).toEqual([
      "counters:allocation", "counters:compaction", "counters:NUMA", "counters:memory",
      "free-heatmap:n0", "free-heatmap:n1", "pageblocks:n0", "page-age:/a:n0", "promotion", "promotion-latency",
    ]);
    // pgmigrate_success stayed 0 in every sample and at the start: not drawn
    expect(movedCounters(handRun().series)).toEqual(["pgfault", "compact_stall", "nr_free_pages", "pgpromote_success"]);
  });

  it("counters: time in s, pages in MiB on the left axis (100 pages = 0.391 MiB), counts as they are", () => {
    const mem = byId.get("counters:memory")!.option;
    expect(seriesOf(mem)[0]!.data).toEqual([[1, 0.391], [2, 0.352], [3, 0.313]]);
    expect((mem.yAxis as { name: string }[]).map((a) => a.name)).toEqual(["MiB"]);
    const alloc = byId.get("counters:allocation")!.option;
    expect(seriesOf(alloc)[0]!.data).toEqual([[1, 0], [2, 10], [3, 20]]);
    expect((alloc.title as { text: string }).text).toBe("counters over time: allocation");
  });

  it("counters: each on the axis of its unit, the axis in its legend name (KiB /1024, pages x4 KiB, huge pages x2 MiB, events as counts)", () => {
    const smp = (t: number, k: number) => ({
      time_ms: t,
      vmstat: { pgpgin: 2048 * k, pgfault: 7 * k, nr_vmscan_write: 512 * k, nr_anon_transparent_hugepages: 3 * k, pgalloc_normal: 256 * k },
      buddyinfo: [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    });
    const run = handRun({ series: [smp(1000, 1), smp(2000, 2)] as ReportRun["series"] });
    const by = new Map(buildCharts([{ name: "u", run }]).map((c) => [c.id, c.option]));
    const alloc = seriesOf(by.get("counters:allocation")!) as unknown as { name: string; yAxisIndex: number; data: number[][] }[];
    // pgpgin 2048 KiB = 2 MiB; pgalloc_normal 256 pages = 1 MiB; pgfault 7 is a count on the right axis
    expect(alloc.map((x) => [x.name, x.yAxisIndex, x.data])).toEqual([
      ["pgpgin (MiB)", 0, [[1, 2], [2, 4]]],
      ["pgfault (count)", 1, [[1, 7], [2, 14]]],
      ["pgalloc_normal (MiB)", 0, [[1, 1], [2, 2]]],
    ]);
    const legend = by.get("counters:allocation")!.legend as { selected: Record<string, boolean> };
    expect(Object.keys(legend.selected)).toEqual(["pgpgin (MiB)", "pgfault (count)", "pgalloc_normal (MiB)"]);
    // THP group alone: 3 huge pages = 6 MiB, on the only (MiB) axis, no axis in the name
    const thp = seriesOf(by.get("counters:THP")!) as unknown as { name: string; data: number[][] }[];
    expect(thp.map((x) => [x.name, x.data])).toEqual([["nr_anon_transparent_hugepages", [[1, 6], [2, 12]]]]);
    expect((by.get("counters:THP")!.yAxis as { name: string }[]).map((a) => a.name)).toEqual(["MiB"]);
    // nr_vmscan_write: 512 pages = 2 MiB
    const mem = seriesOf(by.get("counters:memory")!) as unknown as { name: string; data: number[][] }[];
    expect(mem.find((x) => x.name.startsWith("nr_vmscan_write"))!.data).toEqual([[1, 2], [2, 4]]);
    expect([mibPerUnit("pgpgout"), mibPerUnit("nr_free_pages"), mibPerUnit("compact_stall"), mibPerUnit("nr_file_hugepages")]).toEqual([1 / 1024, 1 / 256, null, 2]);
  });

  it("counters shown at first: the kernel's headline ones before the rest; a counter equal to another in every sample says so and follows it", () => {
    const smp = (t: number, k: number) => ({
      time_ms: t,
      vmstat: { numa_hit: 100 + k, numa_local: k, numa_other: 100, pgpromote_success: k, kpromoted_mig_promoted: k, kpromoted_record_added: 50 * k, kpromoted_recorded_accesses: 60 * k, kpromoted_mig_dropped: 40 * k, kpromoted_mig_cold_not_accessed: 30 * k, kpromoted_record_exists: 20 * k, kpromoted_mig_candidate: 10 * k },
      buddyinfo: [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    });
    const series = [smp(1000, 0), smp(2000, 5)] as Sample[];
    const names = Object.keys(series[0]!.vmstat);
    const { shown, sameAs } = shownCounters(names, series);
    // ranked: headlines in HEADLINE_COUNTERS order numa_hit, numa_local, numa_other, pgpromote_success;
    // pgpromote_success (pages) has numa_local's (a count's) values but another axis: not the same line;
    // kpromoted_mig_promoted (a count) = numa_local
    expect([...sameAs]).toEqual([["kpromoted_mig_promoted", "numa_local"]]);
    // six originals: the four headlines, then the largest spreads: recorded_accesses 300, record_added 250
    expect([...shown].sort()).toEqual(["kpromoted_mig_promoted", "kpromoted_record_added", "kpromoted_recorded_accesses", "numa_hit", "numa_local", "numa_other", "pgpromote_success"]);
    const run = handRun({ series: series as ReportRun["series"] });
    const numa = buildCharts([{ name: "u", run }]).find((c) => c.id === "counters:NUMA")!;
    const sel = (numa.option.legend as { selected: Record<string, boolean> }).selected;
    expect(sel["pgpromote_success (MiB)"]).toBe(true);
    expect(sel["kpromoted_mig_promoted (count) = numa_local"]).toBe(true);
    expect(sel["kpromoted_mig_candidate (count)"]).toBe(false);
  });

  it("free-heatmap: a cell per non-empty order and sample; the colour is the decade of pages", () => {
    const d = seriesOf(byId.get("free-heatmap:n1")!.option)[0]!.data;
    // node 1: order 10 only, 2 blocks = 2048 pages = 8 MiB (decade 3), then 1 block = 1024 pages = 4 MiB
    expect(d).toEqual([[0, 10, 3, 2048, 8], [1, 10, 3, 2048, 8], [2, 10, 3, 1024, 4]]);
    const vm = byId.get("free-heatmap:n0")!.option.visualMap as { pieces: { label: string }[] };
    // node 0 has at most 2048 pages: decades 1, 10, 100, 1000
    expect(vm.pieces.map((p) => p.label)).toEqual(["1–9 pages (≥ 4 KiB)", "10–99 pages (≥ 40 KiB)", "100–999 pages (≥ 400 KiB)", "1,000–9,999 pages (≥ 3.9 MiB)"]);
    expect(decades(2048)).toEqual([1, 10, 100, 1000, 10000]);
  });

  it("pageblocks: class = migratetype * 4 + how full (free 512 → 0, full → 3, 412 used → 2, 212 used → 1)", () => {
    expect([fullnessLevel(512), fullnessLevel(0), fullnessLevel(100), fullnessLevel(300), fullnessLevel(256)]).toEqual([0, 3, 2, 1, 1]);
    const d = seriesOf(byId.get("pageblocks:n0")!.option)[0]!.data as number[][];
    expect(d.map((x) => x[2])).toEqual([4, 3, 6, 9]);
    const vm = byId.get("pageblocks:n0")!.option.visualMap as { pieces: { label: string }[] };
    expect(vm.pieces.map((p) => p.label)).toEqual(["Unmovable: full", "Movable: free", "Movable: > half used", "Reclaimable: ≤ half used"]);
  });

  it("page-age: the kernel view beside the exact one, in MiB, bins labelled by their bounds", () => {
    const o = byId.get("page-age:/a:n0")!.option;
    expect((o.xAxis as { data: string[] }).data).toEqual(["< 1000 ms", "≥ 1000 ms"]);
    expect(seriesOf(o).map((s) => s.data)).toEqual([[2, 2], [1, 3]]);
  });

  it("promotion: the truly hot and promoted-hot counts as lines; latency per promoter", () => {
    const o = byId.get("promotion")!.option;
    const ml = (seriesOf(o)[0] as unknown as { markLine: { data: { yAxis: number }[] } }).markLine;
    expect(ml.data.map((d) => d.yAxis)).toEqual([40, 3]);
    expect(seriesOf(byId.get("promotion-latency")!.option)).toMatchObject([{ name: "kpromoted", data: [1, 2] }]);
  });

  it("a run without samples, map, report or tiers has no charts, and its report says what to replay with", () => {
    const bare = handRun({ series: [], workingset: {}, pageblock_map: undefined, promotion: undefined });
    expect(buildCharts([{ name: "r", run: bare }])).toEqual([]);
    const html = renderReport({ runs: [{ name: "r", run: bare }] });
    expect(html).toContain(
      '<p class="note"><b>To see more, replay with --interval MS (counters and free memory over time) and --pageblock-map (the pageblock map)</b>, e.g. <code>wsim replay t.csv --interval 100 --pageblock-map -o run.json</code>',
    );
    expect(html).toContain("Not in this run: counters over time (needs --interval MS, and counters that move); free memory per order (needs --interval MS); pageblock map (needs --pageblock-map);");
    // samples but no map: only --pageblock-map is advised
    const noMap = renderReport({ runs: [{ name: "r", run: handRun({ pageblock_map: undefined }) }] });
    expect(noMap).toContain("<b>To see more, replay with --pageblock-map (the pageblock map)</b>");
  });
});

describe("several runs and a compare output", () => {
  const a: NamedRun = { name: "a", run: handRun() };
  const b: NamedRun = { name: "b", run: handRun({ vmstat: { ...handRun().vmstat, compact_stall: 4 } }) };

  it("what differs: the tunables and machine fields not the same in every run, in a table in the runs section", () => {
    const m = handRun().machine!;
    const c: NamedRun = {
      name: "c",
      run: handRun({ tunables: { "vm.swappiness": 100, "transparent_hugepage.enabled": "always" }, machine: { ...m, nodes: [m.nodes[0]!, { ...m.nodes[1]!, mem: 4096 }] } } as Partial<ReportRun>),
    };
    const a2: NamedRun = { name: "a", run: handRun({ tunables: { "vm.swappiness": 60, "transparent_hugepage.enabled": "always" } } as Partial<ReportRun>) };
    expect(differingSettings([a2, c])).toEqual([
      { setting: "vm.swappiness", values: ["60", "100"] },
      { setting: "machine.nodes[1].mem", values: ["2048", "4096"] },
    ]);
    expect(differingSettings([a, b])).toEqual([]);
    const html = renderReport({ runs: [a2, c] });
    expect(html).toContain('<h3>What differs: 2 settings (tunables and machine)</h3><table class="settings"><tr><th>setting</th><th>a</th><th>c</th></tr><tr><td>vm.swappiness</td><td>60</td><td>100</td></tr>');
    expect(renderReport({ runs: [a, b] })).toContain("<h3>What differs: no tunable or machine setting</h3>");
  });

  it("runs of one file name are named by the fewest directories that tell them apart; the same file again gets (2)", () => {
    expect(runNames(["before/run.json", "after/run.json.gz", "x.json", "before/run.json"])).toEqual(["before/run", "after/run", "x", "before/run (2)"]);
    expect(runNames(["/p/a/z/r.json", "/p/b/z/r.json", "stdin"])).toEqual(["a/z/r", "b/z/r", "stdin"]);
  });

  it("per-run charts are prefixed with the run's name; the runs chart overlays what differs", () => {
    const charts = buildCharts([a, b], { name: "cmp", rows: COMPARE });
    expect(charts.filter((c) => c.kind === "counters").map((c) => c.id).slice(0, 2)).toEqual(["a/counters:allocation", "a/counters:compaction"]);
    expect(charts.find((c) => c.id === "b/promotion")!.title).toBe("b: promotion: found vs truly hot");
    expect(differingCounters([a, b])).toEqual(["compact_stall"]);
    const runs = charts.find((c) => c.id === "runs")!;
    // values + 1 on a log axis: a's compact_stall series 0,0,1 -> 1,1,2
    expect(seriesOf(runs.option).map((s) => s.name)).toEqual(["a: compact_stall", "b: compact_stall"]);
    expect(seriesOf(runs.option)[0]!.data).toEqual([[1, 1], [2, 1], [3, 2]]);
  });

  it("compare: modelled counters only, the kernel's range as a floating bar, wsim as a dot", () => {
    const c = buildCharts([], { name: "cmp", rows: COMPARE }).find((x) => x.kind === "compare")!;
    expect((c.option.yAxis as { data: string[] }).data).toEqual(["pgfault", "compact_stall"]);
    const [base, range, dot] = seriesOf(c.option);
    expect(base!.data).toEqual([19, 4]);
    expect(range!.data).toEqual([7, 0.0001]);
    expect(dot!.data).toEqual([[21, 0], [2, 1]]);
  });

  it("the HTML has a diff table and the compare table, and names every chart", () => {
    const html = renderReport({ runs: [a, b], compare: { name: "cmp", rows: COMPARE } });
    expect(html).toContain("<h3>b against a: 1 counter of 5 differ</h3>");
    expect(html).toContain("<tr><td>compact_stall</td><td>1</td><td>4</td><td>+300.0%</td></tr>");
    // from 0 a percentage means nothing: the difference; a counter on one side only: new / gone
    const z = renderReport({ runs: [{ name: "a", run: handRun({ vmstat: { ...handRun().vmstat, compact_stall: 0 } }) }, { name: "b", run: handRun({ vmstat: { ...handRun().vmstat, compact_stall: 12, thp_fault_alloc: 3 } as ReportRun["vmstat"] }) }] });
    expect(z).toContain("<tr><td>compact_stall</td><td>0</td><td>12</td><td>+12 from 0</td></tr>");
    expect(z).toContain("<tr><td>thp_fault_alloc</td><td>—</td><td>3</td><td>new</td></tr>");
    expect([reportChange({ a: 0, b: -2, delta: -2 }), reportChange({ a: 4, b: null, delta: null }), reportChange({ a: 4, b: 5, delta: 1 })]).toEqual(["-2 from 0", "gone", "+25.0%"]);
    expect(html).toContain('<td class="no">no</td>');
    expect(html).toContain("<td>pgsteal_anon</td><td>not modelled</td><td>0 – 4</td>");
  });
});

describe("SVG and HTML output", () => {
  const runs = [{ name: "a", run: handRun() }, { name: "b", run: handRun({ vmstat: { ...handRun().vmstat, pgfault: 30 } }) }];
  const charts = buildCharts(runs, { name: "cmp", rows: COMPARE });

  it("every kind has a chart here, and each renders to SVG that an XML parser reads back", () => {
    expect(new Set(charts.map((c) => c.kind))).toEqual(new Set(CHART_KINDS));
    const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@" });
    for (const c of charts) {
      const svg = renderSvg(c);
      expect(XMLValidator.validate(svg), c.id).toBe(true);
      const doc = parser.parse(svg);
      expect(doc.svg["@width"], c.id).toBe(String(c.width));
      expect(doc.svg["@height"], c.id).toBe(String(staticChart(c).height));
      expect(svg, c.id).toContain(c.title.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"));
    }
  });

  it("static SVG layout: the plot area 22 px lower (the subtitle clears the axis names), a plain legend with every series on, no click hint", () => {
    const c = charts.find((x) => x.id === "a/counters:allocation" || x.id === "counters:allocation") ?? charts.find((x) => x.kind === "counters")!;
    expect(c.hint).toBe("; click a name to show or hide it");
    expect((c.option.title as { subtext: string }).subtext).toContain("click a name");
    const st = staticChart(c);
    expect((st.option.grid as { top: number }).top).toBe((c.option.grid as { top: number }).top + SUBTITLE_ROOM);
    expect((st.option.title as { subtext: string }).subtext).not.toContain("click");
    expect(st.option.legend).toMatchObject({ type: "plain", left: 10, right: 10 });
    expect((st.option.legend as { selected?: unknown }).selected).toBeUndefined();
    expect(st.option.tooltip).toBeUndefined();
    expect(st.height).toBe(c.height + SUBTITLE_ROOM); // one legend row
    const svg = renderSvg(c);
    expect(svg).not.toContain("click a name");
    expect(svg).not.toMatch(/>\d+\/\d+</); // no "1/6" page counter
  });

  it("legendRows: items of 25 + 5 + 7 px a character, 10 px apart, wrap when the next does not fit", () => {
    // "abcdefghij": 30 + 70 = 100 px, + 10 between: two take 210 px
    expect(legendRows(["abcdefghij", "abcdefghij"], 210)).toBe(1);
    expect(legendRows(["abcdefghij", "abcdefghij"], 209)).toBe(2);
    expect(legendRows(["abcdefghij", "abcdefghij", "abcdefghij"], 209)).toBe(3);
    expect(legendRows([], 100)).toBe(1);
  });

  it("the same chart gives the same bytes twice (zrender's instance ids renumbered)", () => {
    const c = charts.find((x) => x.kind === "pageblocks")!;
    const one = renderSvg(c);
    const two = renderSvg(c);
    expect(one).toMatch(/\bw0\b/);
    expect(one).not.toMatch(/\bzr\d+-/);
    expect(two).toBe(one);
  });

  it("the HTML is the same twice, inlines ECharts and loads nothing from the network", () => {
    const one = renderReport({ runs });
    expect(renderReport({ runs })).toBe(one);
    // the page outside the inlined library: no script, stylesheet or image from anywhere
    const lib = readFileSync(createRequire(import.meta.url).resolve("echarts/dist/echarts.min.js"), "utf8");
    expect(one.includes(`<script>${lib}</script>`)).toBe(true);
    const page = one.replace(lib, "");
    expect(page.match(/<script[^>]*\bsrc=|<link\b|<img\b|https?:/gi)).toBeNull();
    expect(one.match(/class="chart"/g)!.length).toBe(buildCharts(runs).length);
  });
});

describe("names from the trace cannot break out", () => {
  const evil = '/</script><img src=x onerror=alert(1)>&"';
  const run = handRun({ workingset: { [evil]: handRun().workingset["/a"]! } });

  it("the HTML holds a memcg name only escaped (in the script's JSON and in attributes)", () => {
    const html = renderReport({ runs: [{ name: "r<b>", run }] });
    const page = html.replace(readFileSync(createRequire(import.meta.url).resolve("echarts/dist/echarts.min.js"), "utf8"), "");
    expect(page).not.toContain("<img");
    expect(page).not.toContain("<b>");
    expect(page.match(/<\/script>/g)).toHaveLength(2); // the library's and the page's own
    expect(page).toContain("page age: memcg /\\u003c/script>\\u003cimg src=x onerror=alert(1)>&\\\"");
    expect(page).toContain('data-title="page age: memcg /&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&amp;&quot;, node 0"');
  });

  it("the SVG of that chart is still valid XML, its title escaped", () => {
    const c = buildCharts([{ name: "r", run }]).find((x) => x.kind === "page-age")!;
    const svg = renderSvg(c);
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(new XMLParser().parse(svg)).toBeTruthy();
    expect(svg).toContain("page age: memcg /&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&amp;&quot;, node 0");
  });
});
