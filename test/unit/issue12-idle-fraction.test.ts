/**
 * Issue 12 item 13, found by the final robustness campaign: a daemon woken at a fractional
 * event time ticks at fractional times, and the idle jump refused every non-integer due, so a
 * long gap after such a wake-up was ticked through (seed 300017: 4.9e9 ms, never finished).
 * Fractional dues now jump too, stopping short of each binade's end (where ticking's repeated
 * fl(due + p) may round), so the result is ticking's to the bit.
 */
import { describe, expect, it } from "vitest";
import { buildResult } from "../../src/engine/result.js";
import { engineFor, runCsv, smallMachine } from "../helpers.js";

// kcompactd is woken by the proactiveness write at 0.5 ms: its 500 ms timeouts fall at x.5 ms
const csv = (gap: number) =>
  ["time_ms,op,pid,addr,key,value", "0,access,1,0x1000,,", "0.5,set,,,vm.compaction_proactiveness,30", `${gap}.25,access,1,0x2000,,`, `${gap}.75,read,,,vmstat,`].join("\n") + "\n";

const TRACE = { path: "t.csv", format: "csv", events: 4, firstMs: 0, lastMs: 0 };

async function run(gap: number, idleJumps: boolean) {
  const e = engineFor(smallMachine("16M"), { idleJumps });
  await runCsv(e, csv(gap));
  e.finish();
  return e;
}

describe("fractional due times jump exactly (item 13)", () => {
  it("a 1e12 ms gap after a wake-up at 0.5 ms takes few timer firings", async () => {
    const e = await run(1e12, true);
    expect(e.idleJumps).toBeGreaterThan(0);
    // at most ~40 binade crossings, each ticked through for under 10 s of timeouts and scans
    expect(e.timerFirings).toBeLessThan(200_000);
  });

  it("the counters and buddyinfo equal ticking through a 3,000,000 ms gap (21 binade crossings)", async () => {
    const a = await run(3_000_000, true);
    const b = await run(3_000_000, false);
    expect(a.idleJumps).toBeGreaterThan(0);
    expect(JSON.stringify(buildResult(a, TRACE))).toBe(JSON.stringify(buildResult(b, TRACE)));
  });
});
