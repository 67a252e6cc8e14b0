/**
 * Issue 12, item 13's kind in the promotion ground truth (wsim's own daemon, found by the
 * robustness campaign): a window's end walked every pfn of the machine, so a short
 * kpromoted.freq_window_ms on a large tiered machine cost O(machine) per window of idle time.
 * A window now costs what it counted, and its verdicts are those of the full walk.
 */
import { describe, expect, it } from "vitest";
import { engineFor, runCsv, smallMachine } from "../helpers.js";

const tiered = () => smallMachine("64M", 2, (i) => i);

describe("the promotion ground truth's windows cost what they counted", () => {
  it("1,000 windows of 1 ms without accesses examine no pfn", async () => {
    const e = engineFor(tiered(), {}, { "kpromoted.freq_window_ms": "1" });
    await runCsv(e, "time_ms,op,key,value\n1000,read,vmstat,\n");
    expect(e.mem.hotTruth!.windowWork).toBe(0); // the old walk: 1,000 windows × 32,768 pfns
  });

  it("a window examines each counted page once, however often it was accessed", async () => {
    const e = engineFor(tiered(), {}, { "kpromoted.freq_window_ms": "100" });
    // 3 pages of the lower tier (node 1's region), accessed 5, 3 and 1 times in the first window
    const rows = ["time_ms,op,pid,addr,len,node", "0,mmap,1,0x40000000,65536,1"];
    const hits = [0, 0, 0, 0, 0, 1, 1, 1, 2];
    hits.forEach((p, k) => rows.push(`${1 + k},access,1,0x${(0x40000000 + p * 4096).toString(16)},,0`));
    rows.push("250,access,1,0x40000000,,0"); // counted again in the third window, which ends at 300
    rows.push("350,access,1,0x40001000,,0");
    await runCsv(e, rows.join("\n") + "\n");
    expect(e.mem.hotTruth!.windowWork).toBe(3 + 1);
    // verdicts as the full walk gives them: of [5, 3, 1], two reach wsim.hot_truth_accesses (2)
    expect(e.mem.hotTruth!.result().truly_hot).toBe(2);
  });
});
