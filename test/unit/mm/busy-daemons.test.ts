/**
 * Issue 16 item 2: busy daemons on the virtual clock. kcompactd against a stub compaction
 * whose passes scan and migrate a known number of pages, on a bare timer queue, so every busy
 * window is hand-computed: cost = pages scanned (both scanners) × cost.compact_scan_ns +
 * pages migrated × cost.migrate_ns, at the server defaults 40 and 2000 ns.
 */
import { describe, expect, it } from "vitest";
import type { EngineContext, SteadyFn } from "../../../src/engine/daemon.js";
import { TimerQueue, type Timer } from "../../../src/engine/event-queue.js";
import { BusyWindow, jiffyTicksThrough } from "../../../src/engine/busy.js";
import { Kcompactd } from "../../../src/mm/kcompactd.js";
import { COMPACT_CONTINUE, COMPACT_SUCCESS, type Compaction } from "../../../src/mm/compaction.js";
import type { Zone } from "../../../src/mm/buddy.js";
import { COUNTER_NAMES, V } from "../../../src/stats/counters.js";
import { KpromotedDaemon, type Kpromoted } from "../../../src/mm/kpromoted.js";
import { engineFor } from "../../helpers.js";
import { KmmmigratedDaemon, type Kmmscand } from "../../../src/mm/kmmscand.js";

/** A virtual clock with the engine's timer order (no idle jumps). */
class Clock implements EngineContext {
  t = 0;
  readonly q = new TimerQueue();
  now(): number {
    return this.t;
  }
  schedule(d: number, fn: () => void, quiet?: (p: number) => number, steady?: SteadyFn): Timer {
    return this.q.push(this.t + d, fn, d, quiet, steady);
  }
  cancel(tm: Timer): void {
    tm.cancelled = true;
  }
  /** fire every timer due at or before `until`, then set the clock to it */
  run(until: number): void {
    while (this.q.peekDue() <= until) {
      const tm = this.q.pop()!;
      this.t = tm.due;
      tm.fn();
    }
    this.t = until;
  }
}

const SCAN_NS = 40;
const MIGRATE_NS = 2000;

/**
 * kcompactd of one zone over a stub compaction: each work pass scans `migrateScanned` +
 * `freeScanned` pages and migrates `migrated`; each proactive pass scans `proactiveScanned`
 * and leaves the score where it is (no progress: the defer).
 */
function setup(o: { proactiveness: number; migrateScanned?: number; freeScanned?: number; migrated?: number; proactiveScanned?: number; score?: number }) {
  const ev = new Float64Array(COUNTER_NAMES.length);
  const zone = { id: 0, idx: 1, nid: 0, start: 0, end: 4096, managed: 4096 } as unknown as Zone;
  const zc = { cachedMigrate: 0, cachedFree: 0, initMigrate: 0, initFree: 0, considered: 0, deferShift: 0, orderFailed: 0, blockskipFlush: false };
  const stub = {
    zones: [zc],
    skip: new Uint8Array(2),
    log: null,
    trace: null,
    alloc: { drainAllPages: () => {} },
    suitable: () => COMPACT_CONTINUE,
    deferred: () => false,
    deferReset: () => {},
    defer: () => {},
    daemonCompact: () => {
      ev[V.compact_migrate_scanned]! += o.migrateScanned ?? 0;
      ev[V.compact_free_scanned]! += o.freeScanned ?? 0;
      ev[V.pgmigrate_success]! += o.migrated ?? 0;
      return { result: COMPACT_SUCCESS, migrateScanned: o.migrateScanned ?? 0, freeScanned: o.freeScanned ?? 0, cc: {} };
    },
    scoreNode: () => o.score ?? 0,
    scoreWmark: () => 30,
    proactiveCompact: () => {
      ev[V.compact_migrate_scanned]! += o.proactiveScanned ?? 0;
    },
  } as unknown as Compaction;
  let stamp = 0;
  const k = new Kcompactd(0, [zone], stub, ev, () => o.proactiveness, () => false, () => `fp${stamp}`, () => 0, () => stamp, () => 0, {
    compactScan: () => SCAN_NS,
    migrate: () => MIGRATE_NS,
  });
  k.log = [];
  const clock = new Clock();
  k.start(clock);
  return { k, clock, ev, touch: () => stamp++ };
}

describe("kcompactd's busy window", () => {
  it("a pass scanning 1000 + 500 pages and migrating 10 is busy exactly 1500*40 + 10*2000 ns", () => {
    const { k, clock } = setup({ proactiveness: 0, migrateScanned: 1000, freeScanned: 500, migrated: 10 });
    k.wakeup(2);
    clock.run(10);
    // 1500 * 40 = 60,000 ns + 10 * 2000 = 20,000 ns: 80,000 ns = 0.08 ms
    expect(k.log).toEqual([{ time_ms: 0, kind: "work", scanned: 1500, migrated: 10, busy_ns: 80_000 }]);
    expect(k.busy.ns).toBe(80_000);
    expect(k.busy.until).toBe(0.08);
  });

  it("a wake-up for a higher order during the pass starts the next pass at its end, not before", () => {
    const { k, clock } = setup({ proactiveness: 0, migrateScanned: 1000, freeScanned: 500, migrated: 10 });
    k.wakeup(2);
    clock.run(0.05); // the pass runs at 0 and is busy until 0.08
    k.wakeup(3); // kcompactd_max_order 3 > the pass's 2: kept by kcompactd_do_work's tail
    clock.run(0.079);
    expect(k.wakes).toEqual([0]);
    clock.run(10);
    // the second pass at 0.08 (the first's end), busy 0.08 ms more: until 0.16
    expect(k.wakes).toEqual([0, 0.08]);
    expect(k.busy.ns).toBe(160_000);
    expect(k.busy.until).toBe(0.08 + 0.08);
  });

  it("a wake-up for the same order during the pass is lost, as 6.1's tail clears kcompactd_max_order", () => {
    const { k, clock } = setup({ proactiveness: 0, migrateScanned: 1000, freeScanned: 500, migrated: 10 });
    k.wakeup(2);
    clock.run(0.05);
    k.wakeup(2);
    clock.run(10);
    expect(k.wakes).toEqual([0]);
    expect(k.maxOrder).toBe(0);
    // after the pass, a wake-up starts one at once
    k.wakeup(2);
    clock.run(20);
    expect(k.wakes).toEqual([0, 10]);
  });

  it("after a proactive pass that made no progress, no proactive pass for 500 << COMPACT_MAX_DEFER_SHIFT = 32,000 ms after its end", () => {
    // score 50 above the high mark 30 every time and never lowered: every pass defers
    const { k, clock } = setup({ proactiveness: 20, proactiveScanned: 1000, score: 50 });
    clock.run(90_000);
    const passes = k.log!.filter((p) => p.kind === "proactive").map((p) => p.time_ms);
    // first timeout at 500 ms; each pass scans 1000 pages: 1000 * 40 ns = 0.04 ms busy, ending
    // in the jiffy it started in, so the 32,000 ms timeout (6.1: default_timeout <<
    // COMPACT_MAX_DEFER_SHIFT, 500 << 6) ends at 32,500, 64,500; the fourth would be at 96,500
    expect(passes).toEqual([500, 32_500, 64_500]);
    expect(k.busy.ns).toBe(3 * 40_000);
  });

  it("a proactive pass of 2 ms: the 32,000 ms timeout starts at its end's jiffy", () => {
    // 50,000 pages * 40 ns = 2,000,000 ns = 2 ms: 500 -> busy until 502 -> next at 32,502,
    // busy until 32,504 -> next at 64,504
    const { k, clock } = setup({ proactiveness: 20, proactiveScanned: 50_000, score: 50 });
    clock.run(90_000);
    expect(k.log!.map((p) => p.time_ms)).toEqual([500, 32_502, 64_504]);
    k.wakeup(2); // after the third pass's end (64,506): at once
    clock.run(90_001);
    expect(k.wakes).toEqual([90_000]);
  });

  it("a wake-up during a proactive pass runs the work at the pass's end", () => {
    const { k, clock } = setup({ proactiveness: 20, proactiveScanned: 1000, score: 50, migrateScanned: 100 });
    clock.run(500.01); // the proactive pass at 500, busy until 500.04
    k.wakeup(4);
    clock.run(500.039);
    expect(k.wakes).toEqual([]);
    clock.run(600);
    expect(k.wakes).toEqual([500 + 0.04]);
  });

  it("a work pass is a memory stall of its own for PSI (onWork, its cost in ns); a proactive pass is not", () => {
    const { k, clock } = setup({ proactiveness: 20, migrateScanned: 1000, freeScanned: 500, migrated: 10, proactiveScanned: 1000, score: 50 });
    const stalls: number[] = [];
    k.onWork = (ns) => stalls.push(ns);
    k.wakeup(2);
    clock.run(600); // the work pass at 0 (80,000 ns), the proactive pass at 500 (40,000 ns)
    expect(k.log!.map((p) => p.kind)).toEqual(["work", "proactive"]);
    expect(stalls).toEqual([80_000]);
  });

  it("a zero cost takes no time: the pass's end is its start", () => {
    const { k, clock } = setup({ proactiveness: 0 });
    k.wakeup(2);
    clock.run(0);
    k.wakeup(2);
    clock.run(0);
    expect(k.wakes).toEqual([0, 0]);
    expect(k.busy.ns).toBe(0);
  });
});

describe("BusyWindow and jiffyTicksThrough", () => {
  it("charges ns and reports whole ms", () => {
    const b = new BusyWindow();
    expect(b.charge(10, 2_500_000)).toBe(2.5); // 2.5e6 ns = 2.5 ms
    expect(b.busyAt(12.4)).toBe(true);
    expect(b.busyAt(12.5)).toBe(false);
    b.charge(20, 600_000);
    expect(b.ms).toBe(3); // 3.1 ms rounded down
  });

  it("waitDelay: a timeout counts whole jiffies from the one the pass ends in", () => {
    const b = new BusyWindow();
    expect(b.waitDelay(10, 500)).toBe(500); // no pass yet
    b.charge(10, 40_000); // until 10.04: jiffy 10
    expect(b.waitDelay(10, 500)).toBe(500);
    b.charge(20, 2_500_000); // until 22.5: jiffy 22 -> 522 - 20
    expect(b.waitDelay(20, 500)).toBe(502);
    expect(b.waitDelay(30, 500)).toBe(500); // the pass is over
  });

  it("jiffyTicksThrough gives ticking's own ticks", () => {
    for (const [due, ms, T, span] of [[500, 0.04, 32_000, 3e6], [32_502, 2, 32_000, 1e7], [7, 1.5, 3, 2e5], [2 ** 43 - 5e5, 0.999, 3, 3e6]] as const) {
      let ticks = 0;
      let at = due;
      let prev = due - (Math.floor(ms) + T);
      while (at <= due + span) {
        ticks++;
        prev = at;
        at = Math.floor(prev + ms) + T;
      }
      expect(jiffyTicksThrough(due, ms, T, due + span)).toEqual({ ticks, prev, due: at });
    }
  });
});

describe("kpromoted's busy window", () => {
  it("a walk looking at 1000 records and promoting 500 pages is busy 1000*40 + 500*2000 ns; the next delay starts at its end", () => {
    const ev = new Float64Array(COUNTER_NAMES.length);
    const walks: number[] = [];
    let records = 1000;
    const clock = new Clock();
    const stub = {
      get records() {
        return records;
      },
      walk: () => {
        walks.push(clock.now());
        if (!records) return 0;
        ev[V.kpromoted_mig_promoted]! += 500;
        records = 0; // the walk drops them all
        return 1000;
      },
    } as unknown as Kpromoted;
    const d = new KpromotedDaemon(0, stub, () => 1000, () => true, ev, { compactScan: () => SCAN_NS, migrate: () => MIGRATE_NS });
    d.start(clock);
    clock.run(3500);
    // walk at 1000: 1000 * 40 + 500 * 2000 = 1,040,000 ns = 1.04 ms, until 1001.04: the
    // 1000 ms delay from its jiffy, 1001, ends at 2001; that walk finds nothing (no time), the
    // third at 3001
    expect(walks).toEqual([1000, 2001, 3001]);
    expect(d.busy.ns).toBe(1_040_000);
  });
});

describe("the reporting worker's busy window", () => {
  it("the boot pass of a 16 MiB node: each report starts after the entries looked at before it, 40 ns each", () => {
    const e = engineFor({ name: "t", nodes: [{ id: 0, mem: 4096, tier: 0, cpus: true }], tunables: {} }, {}, {
      "page_reporting.enabled": "1", "page_reporting.mode": "reporting", "page_reporting.capacity": "2",
      "page_reporting.report_ms": "30", "vm.compaction_proactiveness": "0",
    });
    const rep = e.mem.reporting;
    rep.log = [];
    e.advanceTo(3000);
    // the order-10 list [0, 1024, 2048, 3072] (page-reporting.test.ts): the cycle looks at 0
    // and 1024 (isolated), then 2048 (the scatterlist is full): 3 entries, 120 ns, before the
    // first report; after it (drained to the tail) 2048, 3072 (isolated), 0 and 1024 (reported,
    // skipped): 4 entries, 160 ns, before the leftovers' report; nothing after it
    expect(rep.log.map((r) => r.time_ms)).toEqual([2000, 2000 + (120 / 1e6 + 30)]);
    expect(rep.busy.ns).toBe(280);
    expect(e.mem.vmstat()[V.wsim_page_reporting_busy_ms]).toBe(0); // 280 ns: 0 whole ms
  });
});

describe("kmmmigrated's busy window", () => {
  it("a cycle taking 600 entries and migrating 500 is busy 600*40 + 500*2000 ns; msleep(20) and the wait start at its end", () => {
    const ev = new Float64Array(COUNTER_NAMES.length);
    const clock = new Clock();
    const cycles: number[] = [];
    let list = 600;
    const stub = {
      migrateQuiet: () => list === 0,
      migrate: (now: number) => {
        cycles.push(now);
        const took = list;
        if (took) ev[V.nr_kmmscand_migrated]! += 500; // a hundred fail
        list = 0;
        return took;
      },
    } as unknown as Kmmscand;
    const d = new KmmmigratedDaemon(stub, () => 20, () => true, ev, { compactScan: () => SCAN_NS, migrate: () => MIGRATE_NS });
    d.start(clock);
    clock.run(130);
    // cycles every 20 + 20 = 40 ms: at 40 (600 * 40 + 500 * 2000 = 1,024,000 ns = 1.024 ms busy,
    // until 41.024), then 40 ms from jiffy 41: 81, then 121 (nothing to do: no time)
    expect(cycles).toEqual([40, 81, 121]);
    expect(d.busy.ns).toBe(1_024_000);
  });
});
