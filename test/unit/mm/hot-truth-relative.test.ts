/**
 * The promotion ground truth calls a page truly hot when it is accessed at least
 * wsim.hot_truth_accesses (2) times in a window: a heap faulted in (every lower-tier page
 * accessed once) has no hot page (an earlier rule, >= the decile's count, made every tied page hot).
 */
import { describe, expect, it } from "vitest";
import { engineFor, runCsv, smallMachine } from "../../helpers.js";

const tiered = () => smallMachine("64M", 2, (i) => i);
const page = (p: number) => `0x${(0x40000000 + p * 4096).toString(16)}`;

describe("truly hot is relative to the window", () => {
  it("a window where 100 lower-tier pages are each accessed once has no hot page", async () => {
    const e = engineFor(tiered(), {}, { "kpromoted.freq_window_ms": "1000" });
    const rows = ["time_ms,op,pid,addr,len,node", "0,mmap,1,0x40000000,409600,1"];
    for (let p = 0; p < 100; p++) rows.push(`1,access,1,${page(p)},,0`);
    rows.push("2500,access,1,0x40000000,,0");
    await runCsv(e, rows.join("\n") + "\n");
    // 100 × 1: 1 < 2, none (the decile rule: all 100)
    expect(e.mem.hotTruth!.result().truly_hot).toBe(0);
  });

  it("a loop over 5 pages among 95 touched once makes exactly those 5 hot", async () => {
    const e = engineFor(tiered(), {}, { "kpromoted.freq_window_ms": "1000" });
    const rows = ["time_ms,op,pid,addr,len,node", "0,mmap,1,0x40000000,409600,1"];
    for (let p = 0; p < 100; p++) rows.push(`1,access,1,${page(p)},,0`);
    for (let r = 0; r < 3; r++) for (let p = 0; p < 5; p++) rows.push(`2,access,1,${page(p)},,0`);
    rows.push("2500,access,1,0x40000000,,0");
    await runCsv(e, rows.join("\n") + "\n");
    // 5 × 4, 95 × 1: the 5 pages at 4
    expect(e.mem.hotTruth!.result().truly_hot).toBe(5);
  });
});
