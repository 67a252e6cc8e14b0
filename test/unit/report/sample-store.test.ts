/** The compact sample store of `replay --report`: what it keeps and gives back, by hand. */
import { describe, expect, it } from "vitest";
import type { Sample } from "../../../src/engine/engine.js";
import { SampleStore } from "../../../src/report/sample-store.js";

const bi = (o0: number) => [o0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const smp = (t: number, vmstat: Record<string, number>, end = false): Sample => ({
  time_ms: t,
  ...(end ? { end: true as const } : {}),
  vmstat,
  buddyinfo: [bi(t), bi(2 * t)],
  reported: [bi(9), bi(9)],
  page_age: { "/": { "0": [1, 2] } },
});

describe("SampleStore", () => {
  it("gives back what moved, constant non-zero gauges, kept names, and buddyinfo; drops zeros, reported and page_age", () => {
    const s = new SampleStore();
    s.push(smp(100, { pgfault: 0, nr_free_pages: 50, compact_stall: 0, pgpromote_success: 0 }));
    s.push(smp(200, { pgfault: 3, nr_free_pages: 50, compact_stall: 0, pgpromote_success: 0 }));
    // a counter that appears mid-run (a feature turned on) and moves
    s.push(smp(300, { pgfault: 3, nr_free_pages: 50, compact_stall: 0, pgpromote_success: 0, kpromoted_mig_promoted: 4 }));
    s.push(smp(350, { pgfault: 7, nr_free_pages: 50, compact_stall: 0, pgpromote_success: 0, kpromoted_mig_promoted: 6 }, true));
    expect(s.length).toBe(4);
    const out = s.samples((n) => n === "pgpromote_success");
    expect(out.map((x) => x.vmstat)).toEqual([
      // kpromoted_mig_promoted: 0 before it appeared
      { pgfault: 0, nr_free_pages: 50, pgpromote_success: 0, kpromoted_mig_promoted: 0 },
      { pgfault: 3, nr_free_pages: 50, pgpromote_success: 0, kpromoted_mig_promoted: 0 },
      { pgfault: 3, nr_free_pages: 50, pgpromote_success: 0, kpromoted_mig_promoted: 4 },
      { pgfault: 7, nr_free_pages: 50, pgpromote_success: 0, kpromoted_mig_promoted: 6 },
    ]);
    expect(out.map((x) => [x.time_ms, x.end])).toEqual([[100, undefined], [200, undefined], [300, undefined], [350, true]]);
    expect(out[2]!.buddyinfo).toEqual([bi(300), bi(600)]);
    expect(out[0]!.reported).toEqual([]);
    expect(out[0]!.page_age).toEqual({});
  });
});
