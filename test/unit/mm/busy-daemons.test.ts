/**
 * Issue 16 item 2: busy daemons on the virtual clock. kcompactd against a stub compaction
 * whose passes scan and migrate a known number of pages, on a bare timer queue, so every busy
 * window is hand-computed: cost = pages scanned (both scanners) × cost.compact_scan_ns +
 * pages migrated × cost.migrate_ns, at the server defaults 40 and 2000 ns.
 */
import { describe, expect, it } from "vitest";
import type { EngineContext, SteadyFn } from "../../../src/engine/daemon.js";
import { TimerQueue, type Timer } from "../../../src/engine/event-queue.js";
import { BusyWindow, ticksThrough } from "../../../src/engine/busy.js";
import { Kcompactd } from "../../../src/mm/kcompactd.js";
import { COMPACT_CONTINUE, COMPACT_SUCCESS, type Compaction } from "../../../src/mm/compaction.js";
import type { Zone } from "../../../src/mm/buddy.js";
import { COUNTER_NAMES, V } from "../../../src/stats/counters.js";
import { KpromotedDaemon, type Kpromoted } from "../../../src/mm/kpromoted.js";
import { engineFor } from "../../helpers.js";

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
    clock.run(90_000); // passes at 500, ~32,500 and ~64,500; the fourth would be at ~96,500
    const passes = k.log!.filter((p) => p.kind === "proactive").map((p) => p.time_ms);
    // first timeout at 500 ms; each pass scans 1000 pages: 1000 * 40 ns = 0.04 ms busy, and
    // the next timeout, 32,000 ms, starts at its end
    const d = 1000 * 40 / 1e6 + 32_000;
    expect(passes).toEqual([500, 500 + d, 500 + d + d]);
    expect(passes[1]! - passes[0]!).toBeGreaterThanOrEqual(32_000);
    expect(k.busy.ns).toBe(3 * 40_000);
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

describe("BusyWindow and ticksThrough", () => {
  it("charges ns and reports whole ms", () => {
    const b = new BusyWindow();
    expect(b.charge(10, 2_500_000)).toBe(2.5); // 2.5e6 ns = 2.5 ms
    expect(b.busyAt(12.4)).toBe(true);
    expect(b.busyAt(12.5)).toBe(false);
    b.charge(20, 600_000);
    expect(b.ms).toBe(3); // 3.1 ms rounded down
  });

  it("ticksThrough gives ticking's own float sums, tick after tick", () => {
    for (const [due, d, span] of [[500.04, 32_000.04, 3e6], [1234.5, 0.75, 2e5], [65_535.9, 32_000.123456789, 5e7], [7.25, 3.3, 1e5]] as const) {
      let ticks = 0;
      let at = due;
      let prev = due - d;
      while (at <= due + span) {
        ticks++;
        prev = at;
        at = prev + d;
      }
      expect(ticksThrough(due, d, due + span)).toEqual({ ticks, prev, due: at });
    }
  });
});

describe("kpromoted's busy window", () => {
  it("a walk looking at 3 records and promoting 1 page is busy 3*40 + 1*2000 ns; the next delay starts at its end", () => {
    const ev = new Float64Array(COUNTER_NAMES.length);
    const walks: number[] = [];
    let records = 3;
    const clock = new Clock();
    const stub = {
      get records() {
        return records;
      },
      walk: () => {
        walks.push(clock.now());
        if (!records) return 0;
        ev[V.kpromoted_mig_promoted]!++;
        records = 0; // the walk drops them all
        return 3;
      },
    } as unknown as Kpromoted;
    const d = new KpromotedDaemon(0, stub, () => 1000, () => true, ev, { compactScan: () => SCAN_NS, migrate: () => MIGRATE_NS });
    d.start(clock);
    clock.run(3500);
    // walk at 1000: 3 * 40 + 2000 = 2120 ns = 0.00212 ms; the next at 1000 + (0.00212 + 1000);
    // that one finds nothing (no time), the third 1000 ms after it
    const second = 1000 + (2120 / 1e6 + 1000);
    expect(walks).toEqual([1000, second, second + 1000]);
    expect(d.busy.ns).toBe(2120);
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
