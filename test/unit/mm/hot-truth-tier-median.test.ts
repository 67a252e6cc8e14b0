/**
 * The promotion ground truth's baseline is the whole lower tier, not the window's touched pages:
 * truly hot = accessed at least twice and more than the median lower-tier page on an LRU list
 * (untouched ones count 0). A hot set that is most of a window's touched pages but a small part
 * of the tier is hot as a whole (the decile rule before called only a tenth of it hot); a tier
 * scanned twice over has no hot page.
 */
import { describe, expect, it } from "vitest";
import { engineFor, runCsv, smallMachine } from "../../helpers.js";

const tiered = () => smallMachine("64M", 2, (i) => i);
const page = (p: number) => `0x${(0x40000000 + p * 4096).toString(16)}`;

/** a process mapping 400 pages on node 1 (the lower tier), faulted in at t=1, then `then` */
function trace(then: string[]): string {
  const rows = ["time_ms,op,pid,addr,len,node", `0,mmap,1,0x40000000,${400 * 4096},1`];
  for (let p = 0; p < 400; p++) rows.push(`1,access,1,${page(p)},,0`);
  rows.push(...then, "3500,access,1,0x40000000,,0");
  return rows.join("\n") + "\n";
}

describe("truly hot is relative to the lower tier", () => {
  it("a 100-page hot set that is every page touched in its window is hot as a whole", async () => {
    const e = engineFor(tiered(), {}, { "kpromoted.freq_window_ms": "1000" });
    const then: string[] = [];
    // window (1000, 2000]: pages 0..99 accessed 3 times each, nothing else
    for (let r = 0; r < 3; r++) for (let p = 0; p < 100; p++) then.push(`1500,access,1,${page(p)},,0`);
    await runCsv(e, trace(then));
    // window 1 (0, 1000]: 400 × 1 of 400 on LRU: median 1, count 1 < 2: none.
    // window 2: 100 × 3 and 300 untouched (0): median 0; 3 >= 2 and 3 > 0: the 100 pages.
    // (the decile rule: decile = seen[10] = 3, median of the 100 touched = 3, 3 > 3 fails: 0)
    expect(e.mem.hotTruth!.result().truly_hot).toBe(100);
  });

  it("a tier scanned twice over in a window has no hot page", async () => {
    const e = engineFor(tiered(), {}, { "kpromoted.freq_window_ms": "1000" });
    const then: string[] = [];
    for (let r = 0; r < 2; r++) for (let p = 0; p < 300; p++) then.push(`1500,access,1,${page(p)},,0`);
    await runCsv(e, trace(then));
    // window 2: 300 × 2 and 100 × 0 of 400: median = (seen[199] + seen[200]) / 2 = 2; 2 > 2 fails
    expect(e.mem.hotTruth!.result().truly_hot).toBe(0);
  });

  it("pages accessed once are never hot, however few", async () => {
    const e = engineFor(tiered(), {}, { "kpromoted.freq_window_ms": "1000" });
    const then = Array.from({ length: 10 }, (_, p) => `1500,access,1,${page(p)},,0`);
    await runCsv(e, trace(then));
    // window 2: 10 × 1, 390 × 0: median 0, but 1 < 2
    expect(e.mem.hotTruth!.result().truly_hot).toBe(0);
  });
});
