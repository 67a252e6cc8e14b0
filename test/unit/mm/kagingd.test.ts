import { describe, expect, it } from "vitest";
import type { Engine } from "../../../src/engine/engine.js";
import { kagingdAdvance, MAX_CYCLE_PASSES, type KagingdSteadyEnv } from "../../../src/mm/kagingd-steady.js";
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

  describe("its passes at a steady state in closed form (kagingdAdvance)", () => {
    /** /a and `second` (/b or /a/b), 16 pages each (accessed at 0..15), refreshed every ia and ib ms, run to `to` */
    async function idle(ia: number, ib: number, to: number, extra: string[] = [], second = "/b"): Promise<Engine> {
      const e = engineFor(smallMachine("16M"));
      await runCsv(e, [
        "time_ms,op,pid,addr,len,cg,key,value",
        "0,mmap,1,0x40000000,65536,/a,,",
        `0,mmap,2,0x40000000,65536,${second},,`,
        "0,set,,,,/a,memory.workingset.page_age_intervals,N0=1000",
        `0,set,,,,/a,memory.workingset.refresh_interval,N0=${ia}`,
        `0,set,,,,${second},memory.workingset.page_age_intervals,N0=1000`,
        `0,set,,,,${second},memory.workingset.refresh_interval,N0=${ib}`,
        ...Array.from({ length: 16 }, (_, k) => `${k},access,${1 + (k % 2)},0x${(0x40000000 + k * 4096).toString(16)},,,,`),
        ...extra,
        `${to},read,,,,,vmstat,`,
      ].join("\n"));
      return e;
    }
    const envOf = (e: Engine, log: number[][], retry: number[] = []): KagingdSteadyEnv => ({
      tree: e.mem.memcgs,
      nrNodes: 1,
      lru: e.mem.lru,
      aggregate: (w, subtree, nid, now) => e.mem.wsr.aggregate(w, subtree, nid, now),
      count: (passes, refreshes) => log.push([passes, refreshes]),
      retryAt: (t) => retry.push(t),
    });

    it("2000 and 3000 ms over 60 s: 40 wake-ups (the multiples of 2000 and 3000, 6000 once), 50 refreshes", async () => {
      // from 62000 to 120000: /a at 30 multiples of 2000, /b at 20 of 3000, 10 of them the same
      // time (multiples of 6000 from 66000). Each lruvec is aged at every other refresh of its
      // report (one aged at t is not older than refresh_interval at t + it): /a's 15 times, /b's 10
      const e = await idle(2000, 3000, 60_000);
      const log: number[][] = [];
      const plan = kagingdAdvance(envOf(e, log), 62_000)!.advance(121_999)!;
      expect([plan.ticks, plan.due, plan.prev]).toEqual([40, 122_000, 120_000]);
      const [a, b] = [e.mem.memcgs.get("/a")!, e.mem.memcgs.get("/b")!].map((m) => m.lruvecs[0]!);
      const seqs = [a.maxSeq, b.maxSeq];
      plan.apply();
      expect(log).toEqual([[40, 50]]);
      expect([a.maxSeq - seqs[0]!, b.maxSeq - seqs[1]!]).toEqual([15, 10]);
      expect(e.mem.memcgs.get("/a")!.wsr[0]!.timestamp).toBe(120_000);
      expect(e.mem.memcgs.get("/b")!.wsr[0]!.timestamp).toBe(120_000);
    });

    it("none while an lruvec is not saturated (a page accessed since the last aging)", async () => {
      const e = await idle(2000, 3000, 60_000, ["59999,access,1,0x40000000,,,,"]);
      expect(kagingdAdvance(envOf(e, []), 62_000)).toBeNull();
    });

    it("counts coprime intervals' wake-ups exactly, whatever their joint cycle (16381 and 16411 ms)", async () => {
      // the two reports share no lruvec: each its own cycle, the wake-ups their union. Up to
      // 2 * 16381 * 16411 ms: /a at its multiples 13..2 * 16411, /b at 13..2 * 16381, both at
      // 16381 * 16411 and twice it
      const e = await idle(16381, 16411, 200_000);
      const lcm = 16381 * 16411;
      const log: number[][] = [];
      const plan = kagingdAdvance(envOf(e, log), 13 * 16381)!.advance(2 * lcm)!;
      expect(plan.ticks).toBe(2 * 16411 - 12 + (2 * 16381 - 12) - 2);
      expect([plan.due, plan.prev]).toEqual([2 * lcm + 16381, 2 * lcm]);
      plan.apply();
      expect(log).toEqual([[plan.ticks, plan.ticks + 2]]);
    });

    it("gives up past MAX_CYCLE_PASSES passes of one component, and says when to ask again", async () => {
      // a parent at 16381 ms and its child at 16411 share the child's lruvec, so their passes
      // are one component whose cycle holds the multiples of both: more than 65536 of them
      const e = await idle(16381, 16411, 200_000, [], "/a/b");
      const retry: number[] = [];
      expect(kagingdAdvance(envOf(e, [], retry), 13 * 16381)).toBeNull();
      expect(retry.length).toBe(1);
      expect(retry[0]).toBeGreaterThan(13 * 16381 + (MAX_CYCLE_PASSES - 1) * 8000);
    });
  });
});
