/**
 * The promotion ground truth: a lower-tier page is truly hot from the access that brings its
 * count in a window (kpromoted.freq_window_ms) to wsim.hot_truth_accesses (default 2), judged at
 * the window's end; a promotion's latency runs from that access. Relative rules (a window's top
 * decile, or above the tier's median) called a hot set that was most of the tier half cold, by
 * which accesses a window's edge cut (a new user's 1500 of 2190 pages: 1000, or 0 for NUMA
 * balancing, which had promoted exactly them).
 */
import { describe, expect, it } from "vitest";
import { HotTruth } from "../../../src/mm/hot-truth.js";
import { PageArrays, PG_LRU } from "../../../src/mm/pages.js";
import { engineFor, runCsv, smallMachine } from "../../helpers.js";

const tiered = () => smallMachine("64M", 2, (i) => i);
const page = (p: number) => `0x${(0x40000000 + p * 4096).toString(16)}`;

/** a process mapping 400 pages on node 1 (the lower tier), faulted in at t=1, then `then` */
function trace(then: string[], end = 3500): string {
  const rows = ["time_ms,op,pid,addr,len,node", `0,mmap,1,0x40000000,${400 * 4096},1`];
  for (let p = 0; p < 400; p++) rows.push(`1,access,1,${page(p)},,0`);
  rows.push(...then, `${end},access,1,0x40000000,,0`);
  return rows.join("\n") + "\n";
}

describe("truly hot: accessed wsim.hot_truth_accesses times in a window", () => {
  it("a hot set that is most of the lower tier is hot as a whole", async () => {
    const e = engineFor(tiered(), {}, { "kpromoted.freq_window_ms": "1000" });
    const then: string[] = [];
    // window (1000, 2000]: pages 0..299 of the 400 accessed 33 or 34 times (a cut-off round)
    for (let r = 0; r < 33; r++) for (let p = 0; p < 300; p++) then.push(`1500,access,1,${page(p)},,0`);
    for (let p = 0; p < 150; p++) then.push(`1600,access,1,${page(p)},,0`);
    await runCsv(e, trace(then));
    // window 1: 400 pages once each, none; window 2: the 300 (>= 2); window 3 (the last access,
    // page 0 once more, after its window of 3000..4000 has not ended): nothing more
    expect(e.mem.hotTruth!.result().truly_hot).toBe(300);
  });

  it("pages accessed once are never hot at the default; at wsim.hot_truth_accesses=1 they are", async () => {
    const then = Array.from({ length: 10 }, (_, p) => `1500,access,1,${page(p)},,0`);
    const e = engineFor(tiered(), {}, { "kpromoted.freq_window_ms": "1000" });
    await runCsv(e, trace(then));
    expect(e.mem.hotTruth!.result().truly_hot).toBe(0);
    const e1 = engineFor(tiered(), {}, { "kpromoted.freq_window_ms": "1000", "wsim.hot_truth_accesses": "1" });
    await runCsv(e1, trace(then));
    // window 1: all 400 (the fault-in); window 2: the 10 are hot already
    expect(e1.mem.hotTruth!.result().truly_hot).toBe(400);
  });

  it("a pass over the tier twice is hot at 2, not at 3", async () => {
    const then: string[] = [];
    for (let r = 0; r < 2; r++) for (let p = 0; p < 400; p++) then.push(`1500,access,1,${page(p)},,0`);
    const e = engineFor(tiered(), {}, { "kpromoted.freq_window_ms": "1000" });
    await runCsv(e, trace(then));
    expect(e.mem.hotTruth!.result().truly_hot).toBe(400);
    const e3 = engineFor(tiered(), {}, { "kpromoted.freq_window_ms": "1000", "wsim.hot_truth_accesses": "3" });
    await runCsv(e3, trace(then));
    expect(e3.mem.hotTruth!.result().truly_hot).toBe(0);
  });

  it("latency runs from the access that made the page hot, not from the window's end", () => {
    // HotTruth alone: 16 pages on an LRU, 0..7 the lower tier, 8..15 the top; a 5000 ms window;
    // a promotion frees its source page, which the engine's free hook makes truth forget
    const pages = new PageArrays(16);
    pages.flags.fill(PG_LRU);
    const truth = new HotTruth(pages, (pfn) => pfn < 8, () => 5000);
    const promote = (pfn: number, dst: number, at: number, who: string) => {
      truth.promotedPage(pfn, dst, at, who);
      truth.forget(pfn, 1);
    };
    let tick: () => void = () => {};
    let now = 0;
    truth.start({ now: () => now, schedule: (_d, fn) => ((tick = fn), {} as never), cancel: () => {} });
    truth.access(1, 100);
    truth.access(1, 1200); // page 1 hot from 1200
    promote(1, 9, 1800, "kpromoted"); // 600 ms late: the [500, 1000) bin
    truth.access(2, 300);
    promote(2, 10, 400, "kmmscand"); // promoted after one access ...
    truth.access(10, 2000); // ... its second comes after the move: ahead of the truth, 0
    truth.access(3, 500);
    promote(3, 11, 600, "kmmscand"); // one access in all: promoted not hot
    now = 5000;
    tick();
    const r = truth.result();
    // hot: page 1 (promoted to 9 after its second access) and page 2 (to 10, its second access there)
    expect([r.truly_hot, r.promoted, r.promoted_hot, r.promoted_not_hot]).toEqual([2, 3, 2, 1]);
    const bins = (who: string) => r.by[who]!.latency.map((b) => b.count);
    expect(bins("kpromoted")).toEqual([0, 0, 1, 0, 0, 0, 0, 0]);
    expect(bins("kmmscand")).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    // a page judged hot in one window and promoted in a later one: late by the time since the access
    truth.access(4, 5100);
    truth.access(4, 5300);
    now = 10000;
    tick();
    promote(4, 12, 12300, "kpromoted"); // 7000 ms: the [5000, 10000) bin
    expect(truth.result().by.kpromoted!.latency.map((b) => b.count)).toEqual([0, 0, 1, 0, 0, 1, 0, 0]);
  });
});
