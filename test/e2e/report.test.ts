/**
 * `wsim report`, `wsim plot` and `wsim replay --report` as users run them (spawns bin/wsim;
 * build first): outputs, exit codes and one-line messages for every error path, -o whole or
 * not at all, the same bytes twice.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const tmp = mkdtempSync(join(tmpdir(), "wsim-report-"));

function wsim(args: string[], input?: string | Buffer) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 64 << 20, input });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const file = (name: string, text: string | Buffer) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

// one run of a bundled trace with samples and the pageblock map, shared by the tests below
const RUN = join(tmp, "frag.json");
const made = wsim(["replay", "traces/fragmentation.csv.gz", "--interval", "1000", "--pageblock-map", "--format", "json", "-o", RUN]);

describe("wsim replay --pageblock-map and --report", () => {
  it("the JSON gets pageblock_map: small128 is 32768 pages = 64 pageblocks, free pages agree with buddyinfo", () => {
    expect(made.code).toBe(0);
    const r = JSON.parse(readFileSync(RUN, "utf8"));
    // x86 zones: DMA spans pfns [0, 4096) (8 pageblocks; pfn 0 is reserved), DMA32 [4096, 32768) (56)
    expect(r.pageblock_map.zones.map((z: { zone: string; mt: number[] }) => [z.zone, z.mt.length])).toEqual([["DMA", 8], ["DMA32", 56]]);
    r.pageblock_map.zones.forEach((z: { free: number[] }, i: number) => {
      const freeFromBuddy = r.nodes[0].zones[i].buddyinfo.reduce((s: number, n: number, o: number) => s + n * 2 ** o, 0);
      expect(z.free.reduce((s: number, n: number) => s + n, 0)).toBe(freeFromBuddy);
    });
    expect(r.series).toHaveLength(7); // 1000 .. 6000 ms and the end at 6161 ms
  });

  it("--report writes the HTML beside the run's own output; the same run twice gives the same bytes", () => {
    const a = join(tmp, "a.html");
    const b = join(tmp, "b.html");
    const r1 = wsim(["replay", "traces/fragmentation.csv.gz", "--interval", "1000", "--report", a]);
    const r2 = wsim(["replay", "traces/fragmentation.csv.gz", "--interval", "1000", "--report", b]);
    expect([r1.code, r2.code]).toEqual([0, 0]);
    expect(r1.out).toMatch(/^nr_free_pages \d+$/m); // vmstat on a pipe, as without --report
    const html = readFileSync(a, "utf8");
    expect(readFileSync(b, "utf8")).toBe(html);
    expect(html).toContain("<title>wsim report: fragmentation</title>");
    for (const id of ["free-heatmap", "pageblocks", "counters"]) expect(html).toContain(`<section id="${id}">`);
  });

  it("the report is the same whether the samples come from the JSON's series or the compact store (vmstat output)", () => {
    const a = join(tmp, "store.html");
    const b = join(tmp, "series.html");
    const args = ["replay", "traces/tiered-hotset.csv.gz", "--interval", "500", "--set", "kpromoted.enabled=1", "--set", "hotness.hw_sample_period=8"];
    expect(wsim([...args, "--report", a]).code).toBe(0);
    expect(wsim([...args, "--report", b, "--format", "json", "-o", join(tmp, "series.json")]).code).toBe(0);
    const html = readFileSync(a, "utf8");
    expect(html).toContain('data-title="promotion: found vs truly hot"');
    expect(readFileSync(b, "utf8") === html).toBe(true);
  });

  it("--report - and -o FILE.html are usage errors saying what to give instead", () => {
    const json = join(tmp, "o.json");
    const a = wsim(["replay", "traces/faults.csv", "-o", json, "--report", "-"]);
    expect(a.code).toBe(2);
    expect(a.err).toBe(`wsim: --report -: the report is written to a file, not standard output: give it a file name (--report run.html); for a report on standard output, then run wsim report ${json} -o -\n`);
    const b = wsim(["replay", "traces/faults.csv", "--report", "-"]);
    expect(b.err).toContain("--report -: standard output carries the run's own output; give the report a file name");
    const html = join(tmp, "same.html");
    const c = wsim(["replay", "traces/faults.csv", "-o", html]);
    expect(c.code).toBe(2);
    expect(c.err).toContain(`-o ${html}: -o is the run's own output (.json, .ndjson, .jsonl, .csv, .txt, .vmstat); for an HTML report give --report ${html}`);
    expect(existsSync(json) || existsSync(html)).toBe(false);
  });

  it("--interval is allowed with vmstat when --report takes the samples; a report named .txt is a usage error", () => {
    const r = wsim(["replay", "traces/faults.csv", "--interval", "1000", "--format", "vmstat", "--report", join(tmp, "x.html")]);
    expect(r.code).toBe(0);
    const bad = wsim(["replay", "traces/faults.csv", "--report", join(tmp, "x.txt")]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--report");
    expect(bad.err).toContain("a report is written as .html or .htm");
  });
});

describe("--pageblock-map-at", () => {
  it("maps at the first sample at or after each time; their free pages agree with that sample's buddyinfo", () => {
    const out = join(tmp, "snap.json");
    // samples every 500 ms: 1000 and 2900 are taken at the samples of 1000 and 3000 ms
    const r = wsim(["replay", "traces/fragmentation.csv.gz", "--interval", "500", "--pageblock-map-at", "2900,1000", "--format", "json", "-o", out]);
    expect(r.code).toBe(0);
    const run = JSON.parse(readFileSync(out, "utf8"));
    expect(run.pageblock_snapshots.map((m: { time_ms: number }) => m.time_ms)).toEqual([1000, 3000]);
    for (const m of run.pageblock_snapshots) {
      const smp = run.series.find((s: { time_ms: number }) => s.time_ms === m.time_ms);
      // the sample's buddyinfo rows are the zones in the map's order
      expect(m.zones).toHaveLength(smp.buddyinfo.length);
      m.zones.forEach((z: { free: number[] }, i: number) => {
        const fromBuddy = smp.buddyinfo[i].reduce((a: number, b: number, o: number) => a + b * 2 ** o, 0);
        expect(z.free.reduce((a: number, b: number) => a + b, 0)).toBe(fromBuddy);
      });
    }
    // one pageblock chart per time and the end
    const p = wsim(["plot", "pageblocks", out, "--chart", "nope", "-o", "-"]);
    // one per zone (small128: DMA and DMA32, labelled n0_DMA and n0_DMA32)
    expect(p.err).toContain(
      "there are: pageblocks:n0_DMA@1000, pageblocks:n0_DMA32@1000, pageblocks:n0_DMA@3000, pageblocks:n0_DMA32@3000, pageblocks:n0_DMA, pageblocks:n0_DMA32",
    );
  });

  it("with an output that cannot hold the maps (vmstat, csv) and no --report, it would do nothing: exit 2", () => {
    const cases: [string[], string][] = [
      [["--format", "vmstat", "--pageblock-map"], "--pageblock-map"],
      [["--format", "csv", "--interval", "5", "--pageblock-map-at", "5"], "--pageblock-map-at"],
    ];
    for (const [args, flag] of cases) {
      const r = wsim(["replay", "traces/faults.csv", ...args]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`${flag} keeps pageblock maps in the JSON: add --format json (or -o FILE.json) or --report FILE.html, or drop ${flag}`);
    }
  });

  it("needs --interval, and times in decimal ms (exit 2)", () => {
    const a = wsim(["replay", "traces/faults.csv", "--format", "json", "--pageblock-map-at", "5"]);
    expect(a.code).toBe(2);
    expect(a.err).toContain("--pageblock-map-at takes its maps at --interval samples: add --interval MS");
    const b = wsim(["replay", "traces/faults.csv", "--interval", "5", "--format", "json", "--pageblock-map-at", "5,x"]);
    expect(b.code).toBe(2);
    expect(b.err).toContain('--pageblock-map-at: expected a non-negative decimal number of ms like 1000 or 0.5 (no sign, no exponent), got "x"');
  });
});

describe("wsim report", () => {
  it("one run and the same run again: overlaid, with a diff table saying nothing differs", () => {
    const out = join(tmp, "two.html");
    const r = wsim(["report", RUN, RUN, "-o", out]);
    expect(r.code).toBe(0);
    const html = readFileSync(out, "utf8");
    // the second copy is named "frag (2)"
    expect(html).toContain("frag (2) against frag: 0 counters of");
  });

  it("reads a gzipped run and writes to standard output with -o -", () => {
    const gz = file("frag.json.gz", gzipSync(readFileSync(RUN)));
    const r = wsim(["report", gz, "-o", "-"]);
    expect(r.code).toBe(0);
    expect(r.out.startsWith("<!DOCTYPE html>")).toBe(true);
  });

  it("- reads the run from standard input (gzipped too), once: a second - is exit 2; report and plot say so in --help", () => {
    const a = wsim(["report", "-", "-o", "-"], readFileSync(RUN));
    expect(a.code, a.err).toBe(0);
    expect(a.out).toContain("<title>wsim report: stdin</title>");
    const gz = wsim(["plot", "counters", "-", "-o", "-"], gzipSync(readFileSync(RUN)));
    expect(gz.code, gz.err).toBe(0);
    expect(gz.out).toContain(">counters over time: allocation</text>");
    expect(gz.out).toBe(wsim(["plot", "counters", RUN, "-o", "-"]).out);
    const two = wsim(["report", "-", "-", "-o", join(tmp, "two.html")], readFileSync(RUN));
    expect(two.code).toBe(2);
    expect(two.err).toContain("-: standard input can be read only once");
    const bad = wsim(["report", "-", "-o", "-"], "[1]");
    expect(bad.code).toBe(3);
    expect(bad.err).toBe("-:1: expected a JSON object (a run of wsim replay --format json), got an array\n");
    for (const cmd of ["report", "plot"]) expect(wsim([cmd, "--help"]).out.replace(/\s+/g, " ")).toContain("- for standard input, once");
  });

  it("bad data is exit 3 with file:line: what, and no file is written", () => {
    const out = join(tmp, "never.html");
    const cases: [string, string][] = [
      [file("trace.json", '{"events": [{"time_ms": 0, "op": "access"}]}'), "trace.json: is a wsim trace (JSON), not a run: replay it first, wsim replay"],
      [file("trace.csv", "# wsim: machine=tiered\ntime_ms,op,pid,addr\n0,access,1,0x1000\n"), `trace.csv: is a wsim trace (CSV), not a run: replay it first, wsim replay ${join(tmp, "trace.csv")} --interval MS -o run.json`],
      [file("trace.ndjson", '{"machine": "small128"}\n{"time_ms": 0, "op": "access", "pid": 1, "addr": "0x1000"}\n'), "trace.ndjson: is a wsim trace (NDJSON), not a run"],
      [file("other.json", '{"schema": 2, "vmstat": {}}'), 'not a wsim run: "schema" is 2, expected 1'],
      [file("vmstat.txt", "nr_free_pages 100\npgfault 7\n"), "vmstat.txt: this looks like /proc/vmstat counters (or `wsim replay --format vmstat` output), not a run: wsim report and plot read"],
      [file("m.json", '{"nodes": [{"id": 0, "mem": "4G"}]}'), "m.json: this looks like a wsim machine file, not a run"],
      [file("broken.json", '{"schema": 1,\n "vmstat": {,}}'), "broken.json:2: not JSON"],
      [file("empty.json", ""), "is empty"],
      [file("array.json", "[1, 2]"), "array.json:1: expected a JSON object"],
      [file("novm.json", '{"schema": 1,\n"vmstat": 5}'), 'novm.json:2: not a wsim run: "vmstat" is 5, expected an object'],
      [file("strvm.json", '{"schema": 1,\n"vmstat": {\n"pgfault": "x"}}'), 'strvm.json:3: vmstat "pgfault": expected a number, got "x"'],
      [file("series.json", '{"schema": 1, "vmstat": {}, "nodes": [],\n"series": [\n{"time_ms": 1}]}'), "series.json:3: series[0]: expected {time_ms, vmstat, buddyinfo"],
      [join(tmp, "missing.json"), "cannot read: no such file or directory (ENOENT)"],
    ];
    for (const [input, msg] of cases) {
      const r = wsim(["report", input, "-o", out]);
      expect(r.code, input).toBe(3);
      expect(r.err, input).toContain(msg);
      expect(r.err, input).not.toMatch(/\n\s+at /); // no stack trace
      expect(r.err.trimEnd().split("\n"), input).toHaveLength(1);
    }
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  it("usage errors are exit 2: no -o, a .svg name, no input, two compare outputs", () => {
    const cmp = file("cmp.json", JSON.stringify({ rows: [{ counter: "pgfault", wsim: 1, kernel_min: 1, kernel_max: 2 }] }));
    const cases: [string[], string][] = [
      [["report", RUN], "-o FILE.html is required"],
      [["report", RUN, "-o", join(tmp, "r.svg")], "a report is written as .html or .htm"],
      [["report", "-o", join(tmp, "r.html")], "missing required argument"],
      [["report", cmp, cmp, "-o", join(tmp, "r.html")], "a second wsim compare output"],
    ];
    for (const [args, msg] of cases) {
      const r = wsim(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err, args.join(" ")).toContain(msg);
    }
  });

  it("--help lists the options and exit codes", () => {
    const r = wsim(["report", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("-o, --output <file.html>");
    expect(r.out).toContain("Exit codes: 0 ok, 2 usage error, 3 bad input data");
  });
});

describe("wsim plot", () => {
  it("--help lists the kinds charts.ts draws (the two lists cannot drift)", async () => {
    const { CHART_KINDS } = await import("../../src/report/charts.js");
    const r = wsim(["plot", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out.replace(/\s+/g, " ")).toContain(`what to draw: ${CHART_KINDS.join(", ")}`);
  });

  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@" });

  it("writes valid SVG for each kind the run has, with the chart's title in it", () => {
    // small128 has zones DMA and DMA32: the first chart of a kind is DMA's; --chart picks DMA32's
    for (const [kind, title, chart] of [
      ["counters", "counters over time: allocation"],
      ["free-heatmap", "free memory per order: node 0, zone DMA"],
      ["free-heatmap", "free memory per order: node 0, zone DMA32", "free-heatmap:n0_DMA32"],
      ["pageblocks", "pageblocks: node 0, zone DMA at 6.161 s"],
      ["pageblocks", "pageblocks: node 0, zone DMA32 at 6.161 s", "pageblocks:n0_DMA32"],
    ]) {
      const out = join(tmp, `${kind}.svg`);
      const r = wsim(["plot", kind!, RUN, ...(chart ? ["--chart", chart] : []), "-o", out]);
      expect(r.code, kind).toBe(0);
      const svg = readFileSync(out, "utf8");
      expect(XMLValidator.validate(svg), kind).toBe(true);
      const doc = parser.parse(svg);
      expect(doc.svg["@xmlns"]).toBe("http://www.w3.org/2000/svg");
      expect(svg).toContain(`>${title}</text>`);
    }
  });

  it("--chart picks one chart; the same plot twice is the same bytes", () => {
    const a = wsim(["plot", "counters", RUN, "--chart", "counters:THP", "-o", "-"]);
    const b = wsim(["plot", "counters", RUN, "--chart", "counters:THP", "-o", "-"]);
    expect(a.code).toBe(0);
    expect(a.out).toContain(">counters over time: THP</text>");
    expect(b.out).toBe(a.out);
  });

  it("compare draws a compare output; runs needs two runs", () => {
    const cmp = file("cmp2.json", JSON.stringify({ rows: [{ counter: "pgfault", wsim: 10, kernel_min: 8, kernel_max: 12, modelled: true }] }));
    const r = wsim(["plot", "compare", cmp, "-o", join(tmp, "cmp.svg")]);
    expect(r.code).toBe(0);
    expect(XMLValidator.validate(readFileSync(join(tmp, "cmp.svg"), "utf8"))).toBe(true);
    const one = wsim(["plot", "runs", RUN, "-o", join(tmp, "runs.svg")]);
    expect(one.code).toBe(2);
    expect(one.err).toContain("plot runs: give two or more runs (got 1)");
  });

  it("an unknown KIND lists the kinds (exit 2); a wrong --chart lists the charts (exit 2)", () => {
    const r = wsim(["plot", "pie", RUN, "-o", join(tmp, "p.svg")]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('plot: unknown KIND "pie": expected one of counters, free-heatmap, pageblocks, page-age, promotion, promotion-latency, runs, compare');
    const c = wsim(["plot", "free-heatmap", RUN, "--chart", "free-heatmap:n7", "-o", join(tmp, "p.svg")]);
    expect(c.code).toBe(2);
    expect(c.err).toContain('--chart: no chart "free-heatmap:n7" of kind free-heatmap in these runs; there are: free-heatmap:n0_DMA, free-heatmap:n0_DMA32');
    expect(existsSync(join(tmp, "p.svg"))).toBe(false);
  });

  it("a kind the run has no data for is exit 3 saying what it needs; a .png name is exit 2", () => {
    const r = wsim(["plot", "page-age", RUN, "-o", join(tmp, "pa.svg")]);
    expect(r.code).toBe(3);
    expect(r.err).toBe(`${RUN}: nothing to plot as page-age: it needs a workingset report (a memcg with memory.workingset.page_age_intervals set)\n`);
    const png = wsim(["plot", "counters", RUN, "-o", join(tmp, "c.png")]);
    expect(png.code).toBe(2);
    expect(png.err).toContain("a plot is written as .svg");
  });
});
