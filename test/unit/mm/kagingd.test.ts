import { describe, expect, it } from "vitest";
import type { Engine } from "../../../src/engine/engine.js";
import { kagingdCycle, MAX_CYCLE_PASSES, type KagingdSteadyEnv } from "../../../src/mm/kagingd-steady.js";
import { engineFor, runCsv, smallMachine } from "../../helpers.js";

/** Records (time, memcg) each time a report is re-aggregated. */
function watch(e: ReturnType<typeof engineFor>) {
  const log: [number, string][] = [];
  const orig = e.mem.refreshReport.bind(e.mem);
  e.mem.refreshReport = (id: number, nid: number) => {
    const did = orig(id, nid);
    if (did) log.push([e.now(), e.mem.memcgs.all[id]!.path]);
    return did;
  };
  return log;
}

describe("kagingd", () => {
  it("refreshes each configured memcg on its own refresh_interval and wakes when one is shortened", async () => {
    const e = engineFor(smallMachine("16M"));
    e.mem.kagingd.keepLog = true;
    const log = watch(e);
    await runCsv(e, [
      "time_ms,op,pid,addr,cg,key,value",
      "0,access,1,0x1000,/a,,",
      "0,access,2,0x1000,/b,,",
      '0,set,,,/a,memory.workingset.page_age_intervals,"N0=1000,4000"',
      "0,set,,,/a,memory.workingset.refresh_interval,N0=3000",
      '0,set,,,/b,memory.workingset.page_age_intervals,"N0=1000,4000"',
      "0,set,,,/b,memory.workingset.refresh_interval,N0=5000",
      "7000,set,,,/b,memory.workingset.refresh_interval,N0=1000", // shorter: wakes kagingd now
      "12000,access,1,0x2000,,,",
    ].join("\n"));
    // passes: boot (nothing configured yet: it waits), the two refresh_interval writes at 0,
    // then each earliest timestamp + refresh_interval, the wake-up at 7000, then every 1000 for /b
    expect(e.mem.kagingd.log).toEqual([0, 0, 0, 3000, 5000, 6000, 7000, 8000, 9000, 10000, 11000, 12000]);
    expect(log.filter((l) => l[1] === "/a").map((l) => l[0])).toEqual([0, 3000, 6000, 9000, 12000]);
    expect(log.filter((l) => l[1] === "/b").map((l) => l[0])).toEqual([0, 5000, 7000, 8000, 9000, 10000, 11000, 12000]);
    expect(e.mem.kagingd.wakeups).toBe(12);
    expect(e.mem.kagingd.refreshes).toBe(13);
  });

  it("waits when nothing is configured, and writing intervals while refresh_interval is set wakes it", async () => {
    const e = engineFor(smallMachine("16M"));
    e.mem.kagingd.keepLog = true;
    await runCsv(e, [
      "time_ms,op,cg,key,value",
      "0,set,/a,memory.workingset.refresh_interval,N0=2000", // no intervals yet: not configured
      "5000,set,/a,memory.workingset.page_age_intervals,N0=1000", // now configured: wake
      "9000,set,/a,memory.workingset.refresh_interval,N0=0", // off: the pass already due at 11000 finds nothing
      "20000,read,/a,memory.workingset.page_age,",
    ].join("\n"));
    // boot; woken by the first write (nothing configured: wait); woken at 5000; every 2000 until
    // the write of 0 (the 9000 pass runs first: a timer due at an event's time fires before it);
    // 11000 finds nothing configured and waits for good
    expect(e.mem.kagingd.log).toEqual([0, 0, 5000, 7000, 9000, 11000]);
  });

  it("a longer refresh_interval does not wake it", async () => {
    const e = engineFor(smallMachine("16M"));
    e.mem.kagingd.keepLog = true;
    await runCsv(e, [
      "time_ms,op,cg,key,value",
      "0,set,/a,memory.workingset.page_age_intervals,N0=1000",
      "0,set,/a,memory.workingset.refresh_interval,N0=2000",
      "500,set,/a,memory.workingset.refresh_interval,N0=4000",
      "5000,set,/a,memory.workingset.refresh_interval,N0=4000",
    ].join("\n"));
    // passes at 0 (boot), 0 (woken), 2000 (due before the longer value was seen: the report,
    // made at 0, is now valid until 4000), then 4000; the writes at 500 and 5000 wake nothing
    expect(e.mem.kagingd.log).toEqual([0, 0, 2000, 4000]);
    expect(e.now()).toBe(5000);
  });

  describe("its passes as a cycle at a steady state (kagingdCycle)", () => {
    /** /a and /b, 16 pages each (accessed at 0..15), refreshed every ia and ib ms, run to `to` */
    async function idle(ia: number, ib: number, to: number, extra: string[] = []): Promise<Engine> {
      const e = engineFor(smallMachine("16M"));
      await runCsv(e, [
        "time_ms,op,pid,addr,len,cg,key,value",
        "0,mmap,1,0x40000000,65536,/a,,",
        "0,mmap,2,0x40000000,65536,/b,,",
        "0,set,,,,/a,memory.workingset.page_age_intervals,N0=1000",
        `0,set,,,,/a,memory.workingset.refresh_interval,N0=${ia}`,
        "0,set,,,,/b,memory.workingset.page_age_intervals,N0=1000",
        `0,set,,,,/b,memory.workingset.refresh_interval,N0=${ib}`,
        ...Array.from({ length: 16 }, (_, k) => `${k},access,${1 + (k % 2)},0x${(0x40000000 + k * 4096).toString(16)},,,,`),
        ...extra,
        `${to},read,,,,,vmstat,`,
      ].join("\n"));
      return e;
    }
    const envOf = (e: Engine, log: number[][], gaveUp: number[] = []): KagingdSteadyEnv => ({
      tree: e.mem.memcgs,
      nrNodes: 1,
      lru: e.mem.lru,
      aggregate: (w, subtree, nid, now) => e.mem.wsr.aggregate(w, subtree, nid, now),
      count: (passes, refreshes) => log.push([passes, refreshes]),
      gaveUp: (t) => gaveUp.push(t),
    });

    it("2000 and 3000 ms: 8 passes in 12000 ms, 10 refreshes", async () => {
      // passes at the multiples of 2000 and 3000: 0, 2000, 3000, 4000, 6000, 8000, 9000, 10000
      // of each 12000 ms, /a refreshed at 6 and /b at 4. Each lruvec is aged at every other
      // refresh of its report (one aged at t is not older than refresh_interval at t + it), so
      // /a's every 4000 ms and /b's every 6000: the state comes back after lcm(4000, 6000, 6000)
      const e = await idle(2000, 3000, 60_000);
      const log: number[][] = [];
      const c = kagingdCycle(envOf(e, log), 62_000)!;
      expect([c.cycle, c.ticks]).toEqual([12_000, 8]);
      const [a, b] = [e.mem.memcgs.get("/a")!, e.mem.memcgs.get("/b")!].map((m) => m.lruvecs[0]!);
      const seqs = [a.maxSeq, b.maxSeq];
      c.apply(5, 62_000);
      expect(log).toEqual([[40, 50]]);
      // 60 s: /a aged 15 times, /b 10 times; each report stamped at its last refresh
      expect([a.maxSeq - seqs[0]!, b.maxSeq - seqs[1]!]).toEqual([15, 10]);
      expect(e.mem.memcgs.get("/a")!.wsr[0]!.timestamp).toBe(120_000);
      expect(e.mem.memcgs.get("/b")!.wsr[0]!.timestamp).toBe(120_000);
    });

    it("none while an lruvec is not saturated (a page accessed since the last aging)", async () => {
      const e = await idle(2000, 3000, 60_000, ["59999,access,1,0x40000000,,,,"]);
      expect(kagingdCycle(envOf(e, []), 62_000)).toBeNull();
    });

    it("gives up past MAX_CYCLE_PASSES passes: 16381 and 16411 ms take 65582 passes a cycle", async () => {
      // the cycle is 2 * 16381 * 16411 ms (each lruvec aged at every other refresh, and 16411
      // refreshes of /a in 16381 * 16411 ms are odd), holding the multiples of 16381 and of
      // 16411 in it: 2 * 16411 + 2 * 16381 - 2 (0 and 16381 * 16411 counted twice) = 65582
      expect(MAX_CYCLE_PASSES).toBeLessThan(65582);
      const e = await idle(16381, 16411, 200_000);
      const gaveUp: number[] = [];
      // the next pass after 200000: 13 * 16381
      expect(kagingdCycle(envOf(e, [], gaveUp), 212_953)).toBeNull();
      expect(gaveUp.length).toBe(1);
      expect(gaveUp[0]).toBeGreaterThan(212_953 + (MAX_CYCLE_PASSES - 1) * 8000);
      // the same kind of cycle closes when it fits: 509 and 521 ms, 2058 passes (next after 60000: 118 * 509)
      const f = await idle(509, 521, 60_000);
      const c = kagingdCycle(envOf(f, []), 509 * 118)!;
      expect([c.cycle, c.ticks]).toEqual([2 * 509 * 521, 2 * 521 + 2 * 509 - 2]);
    });
  });
});
