/**
 * Issue 19: "promotion: found vs truly hot over time". Each --interval sample of a tiered run
 * carries the ground truth so far (truly_hot, promoted_hot); the promotion chart draws it as
 * two dashed lines under the counters, and the CSV series has it as two last columns.
 */
import { describe, expect, it } from "vitest";
import { replay } from "../../../src/replay.js";
import { buildCharts } from "../../../src/report/charts.js";
import { sampleCsvHeader, sampleCsvRow } from "../../../src/report/series.js";
import { SampleStore } from "../../../src/report/sample-store.js";
import { handRun } from "./fixtures.js";

const trace = new URL("../../../traces/tiered-hotset.csv.gz", import.meta.url).pathname;

describe("the promotion ground truth in every sample", () => {
  it("grows with the run and ends at the run's promotion block (kmmscand on)", async () => {
    const r = await replay({ trace, interval: 2000, set: ["kmmscand.enabled=1"] });
    const truth = r.series.map((s) => s.promotion!);
    expect(truth.every((t) => t !== undefined)).toBe(true);
    for (let i = 1; i < truth.length; i++) {
      expect(truth[i]!.truly_hot).toBeGreaterThanOrEqual(truth[i - 1]!.truly_hot);
      expect(truth[i]!.promoted_hot).toBeGreaterThanOrEqual(truth[i - 1]!.promoted_hot);
    }
    expect(truth.at(-1)).toEqual({ truly_hot: r.promotion!.truly_hot, promoted_hot: r.promotion!.promoted_hot });
    expect(truth[0]!.truly_hot).toBe(0); // nothing judged before the first 5 s window ends
    expect(r.promotion!.promoted_hot).toBeGreaterThan(0);
  });

  it("is absent on a one-tier machine, and in CSV two last columns only when present", async () => {
    const flat = await replay({ trace: new URL("../../../traces/faults.csv", import.meta.url).pathname, interval: 1000 });
    expect(flat.series.every((s) => s.promotion === undefined)).toBe(true);
    expect(sampleCsvHeader(flat.series[0]!)).not.toMatch(/truly_hot/);
    const s = { ...flat.series[0]!, promotion: { truly_hot: 7, promoted_hot: 3 } };
    // then the system's pressure (8 columns, pressure-series.test.ts)
    expect(sampleCsvHeader(s).split(",").slice(-10, -8)).toEqual(["truly_hot", "promoted_hot"]);
    expect(sampleCsvRow(s).split(",").slice(-10, -8)).toEqual(["7", "3"]);
  });

  it("the promotion chart draws it as two dashed lines, replacing the end-of-run marks", () => {
    const base = handRun();
    const truth = [{ truly_hot: 0, promoted_hot: 0 }, { truly_hot: 12, promoted_hot: 1 }, { truly_hot: 40, promoted_hot: 3 }];
    const run = handRun({ series: base.series.map((s, i) => ({ ...s, promotion: truth[i]! })) });
    const chart = buildCharts([{ name: "r", run }]).find((c) => c.kind === "promotion")!;
    const series = chart.option.series as { name: string; data: [number, number][]; markLine?: unknown; lineStyle?: { type: string } }[];
    const hot = series.find((x) => x.name.startsWith("truly hot (wsim"))!;
    const promoted = series.find((x) => x.name === "truly hot and promoted")!;
    expect(hot.data).toEqual([[1, 0], [2, 12], [3, 40]]);
    expect(promoted.data).toEqual([[1, 0], [2, 1], [3, 3]]);
    expect(hot.lineStyle!.type).toBe("dashed");
    expect(series.some((x) => x.markLine)).toBe(false);
    // without it (older runs): the end values as marks, as before
    const old = buildCharts([{ name: "r", run: base }]).find((c) => c.kind === "promotion")!;
    expect((old.option.series as { markLine?: unknown }[]).some((x) => x.markLine)).toBe(true);
  });

  it("survives the compact sample store (replay --report without JSON output)", () => {
    const st = new SampleStore();
    for (const s of handRun().series) st.push({ ...s, promotion: { truly_hot: s.time_ms / 100, promoted_hot: 1 } });
    expect(st.samples().map((s) => s.promotion)).toEqual([10, 20, 30].map((t) => ({ truly_hot: t, promoted_hot: 1 })));
  });
});
