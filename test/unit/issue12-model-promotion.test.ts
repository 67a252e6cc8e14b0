/**
 * Issue 12, item 4: the JSON `promotion` block (the ground truth) agrees with the kernel's
 * counters: every promotion is counted once under its promoter, hot or not, and pages a
 * promoter moves before any window could judge them are judged in the window they moved in.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { replay } from "../../src/replay.js";
import type { RunResult } from "../../src/engine/result.js";
import { V } from "../../src/stats/counters.js";
import { engineFor, runCsv, smallMachine } from "../helpers.js";

const TRACE = fileURLToPath(new URL("../../traces/tiered-hotset.csv.gz", import.meta.url));

/** The block's arithmetic: totals add up and match pgpromote_success and the promoters' own counters. */
function checkArithmetic(r: RunResult): void {
  const p = r.promotion!;
  const v = r.vmstat;
  expect(p.promoted).toBe(v.pgpromote_success);
  expect(p.promoted_hot + p.promoted_not_hot).toBe(p.promoted);
  expect(p.promoted_hot).toBeLessThanOrEqual(p.truly_hot);
  const by = Object.values(p.by);
  expect(by.reduce((s, b) => s + b.promoted, 0)).toBe(p.promoted);
  expect(by.reduce((s, b) => s + b.promoted_hot, 0)).toBe(p.promoted_hot);
  for (const b of by) expect(b.latency.reduce((s, l) => s + l.count, 0)).toBe(b.promoted_hot);
  expect(p.by.kpromoted?.promoted ?? 0).toBe(v.kpromoted_mig_promoted ?? 0);
  expect(p.by.kmmscand?.promoted ?? 0).toBe(v.nr_kmmscand_migrated ?? 0);
}

describe("the promotion block (item 4)", () => {
  const RUNS: Record<string, string[]> = {
    "hardware hints": ["kpromoted.enabled=1", "hotness.hw_sample_period=8"],
    "kmmscand": ["kmmscand.enabled=1"],
    "kmmscand feeding kpromoted": ["kmmscand.enabled=1", "kpromoted.enabled=1", "kmmscand.feed=kpromoted"],
  };

  it.each(Object.keys(RUNS))("tiered-hotset, %s: totals agree with pgpromote_success and the promoters", async (name) => {
    const r = await replay({ trace: TRACE, machine: "tiered", set: RUNS[name]! });
    expect(r.vmstat.pgpromote_success).toBeGreaterThan(0);
    checkArithmetic(r);
    // whoever promoted appears in `by`
    expect(Object.keys(r.promotion!.by).length).toBeGreaterThan(0);
  }, 60_000);

  it("kmmscand promotes the hot set before the first window ends: those promotions are hot", async () => {
    const r = await replay({ trace: TRACE, machine: "tiered", set: RUNS.kmmscand! });
    const p = r.promotion!;
    // the scanner's first visit (1 s after the process's first event) finds the whole 64 MiB
    // heap (16384 pages) accessed and kmmmigrated moves all of it before the 5 s window ends,
    // so that window judges the 16384 promoted pages with the window's accesses, before and
    // after the move: hot = accessed at least twice before 5000 ms, counted here from the trace
    const counts = new Map<string, number>();
    for (const line of gunzipSync(readFileSync(TRACE)).toString("utf8").split("\n")) {
      const f = line.split(",");
      if (f[1] === "access" && Number(f[0]) < 5000) counts.set(f[3]!, (counts.get(f[3]!) ?? 0) + 1);
    }
    const hot = [...counts.values()].filter((n) => n >= 2).length;
    expect(r.vmstat.nr_kmmscand_migrated).toBe(16384);
    expect(p.promoted_hot).toBe(hot);
    expect(p.truly_hot).toBe(hot); // nothing is left below to be found hot later
    // those hot before their move are late by the time since their second access; the rest,
    // whose second access came after the move, were ahead (latency 0)
    const lat = p.by.kmmscand!.latency;
    expect(lat[0]!.count).toBeGreaterThan(0);
    expect(lat[0]!.count).toBeLessThan(hot);
  }, 60_000);

  it("a page promoted in its first window is judged with that window's accesses", async () => {
    // two pages on the lower tier: A accessed 10 times, B once, then kmmscand's first visit
    // (1 s after the process's first event) finds both accessed and kmmmigrated moves both
    const m = smallMachine("16M", 2, (i) => i);
    const e = engineFor(m, {}, { "kmmscand.enabled": "1" });
    const rows = ["time_ms,op,pid,addr,len,node", "0,mmap,1,0x40000000,8192,1"];
    for (let k = 0; k < 10; k++) rows.push(`${k * 9},access,1,0x40000000,,0`);
    rows.push("95,access,1,0x40001000,,0");
    rows.push("6000,access,1,0x40001000,,0");
    await runCsv(e, rows.join("\n") + "\n");
    const p = e.mem.hotTruth!.result();
    // the window ending at 5000 ms saw A (10 accesses) and B (1), both moved at 1040 ms
    // (kmmscand's visit at 1000, kmmmigrated's move two 20 ms cycles later): A reached 2
    // accesses at 9 ms, so it is hot and its promotion came 1031 ms later (the [1000, 2000)
    // bin); B was promoted not hot
    expect(e.mem.ev[V.pgpromote_success]).toBe(2);
    expect(p.promoted).toBe(2);
    expect(p.truly_hot).toBe(1);
    expect(p.promoted_hot).toBe(1);
    expect(p.promoted_not_hot).toBe(1);
    expect(p.by.kmmscand!.promoted).toBe(2);
    expect(p.by.kmmscand!.promoted_hot).toBe(1);
    expect(p.by.kmmscand!.latency.map((b) => b.count)).toEqual([0, 0, 0, 1, 0, 0, 0, 0]);
  });
});
