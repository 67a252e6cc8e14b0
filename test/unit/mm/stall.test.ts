import { describe, expect, it } from "vitest";
import { formatLog2Hist, K_DIRECT_COMPACT, K_DIRECT_RECLAIM, K_FAULT, log2Slot, StallMeter } from "../../../src/mm/stall.js";
import { buildResult } from "../../../src/engine/result.js";
import { V } from "../../../src/stats/counters.js";
import { engineFor, pinnedNodeCsv, runCsv } from "../../helpers.js";

const costs = {
  fault: () => 800, zeroPage: () => 190, zeroThp: () => 97000, ioRead: () => 80000,
  reclaimScan: () => 150, reclaimPage: () => 1500, compactScan: () => 40, migrate: () => 2000,
};
const idx = { pgscan_direct: 0, pgsteal_direct: 1, compact_migrate_scanned: 2, compact_free_scanned: 3, pgmigrate_success: 4 };

describe("log2 µs buckets (bpf_log2l, bcc print_log2_hist)", () => {
  it("slot 1 holds 0-1 µs, slot k holds 2^(k-1)..2^k-1", () => {
    expect([0, 1, 2, 3, 4, 7, 8, 1023, 1024].map(log2Slot)).toEqual([1, 1, 2, 2, 3, 3, 4, 10, 11]);
  });
  it("prints rows as funclatency does", () => {
    const m = new StallMeter(costs, new Float64Array(5), idx);
    m.hist.record(K_FAULT, 500); // 0 µs -> 0 -> 1
    m.hist.record(K_FAULT, 5_000); // 5 µs -> 4 -> 7
    m.hist.record(K_FAULT, 6_999); // 6 µs -> 4 -> 7
    const text = formatLog2Hist(m.hist.toJson(K_FAULT));
    expect(text.split("\n").slice(0, 4)).toEqual([
      "     usecs               : count     distribution",
      "         0 -> 1          : 1        |********************                    |",
      "         2 -> 3          : 0        |                                        |",
      "         4 -> 7          : 2        |****************************************|",
    ]);
  });
});

describe("StallMeter: costs from the work the counters record", () => {
  it("direct compaction: 150 pages scanned x 40 ns + 10 migrated x 2000 ns = 26 µs, a memory stall", () => {
    const ev = new Float64Array(5);
    const m = new StallMeter(costs, ev, idx);
    const r = m.direct(K_DIRECT_COMPACT, () => {
      ev[2] += 100; ev[3] += 50; ev[4] += 10;
      return 42;
    });
    expect(r).toBe(42);
    expect(m.pendingNs).toBe(26_000);
    const h = m.hist.toJson(K_DIRECT_COMPACT);
    expect(h.count).toBe(1);
    expect(h.max_us).toBe(26);
    expect(h.buckets.at(-1)).toEqual({ lo_us: 16, hi_us: 31, count: 1 });
  });
  it("direct reclaim: 32 scanned x 150 + 32 reclaimed x 1500 = 52.8 µs; a compaction that scanned nothing records no duration", () => {
    const ev = new Float64Array(5);
    const m = new StallMeter(costs, ev, idx);
    m.direct(K_DIRECT_RECLAIM, () => { ev[0] += 32; ev[1] += 32; });
    m.direct(K_DIRECT_COMPACT, () => undefined); // deferred
    expect(m.pendingNs).toBe(52_800);
    expect(m.hist.n(K_DIRECT_RECLAIM)).toBe(1);
    expect(m.hist.n(K_DIRECT_COMPACT)).toBe(0);
  });
  it("a fault: fixed part + zeroing (small or huge) or one read I/O, plus its direct stalls", () => {
    const ev = new Float64Array(5);
    const m = new StallMeter(costs, ev, idx);
    m.fault(0, 0); // 800 + 190
    m.fault(1, 0); // 800 + 97000
    m.fault(0, 1); // 800 + 80000
    m.pendingNs = 26_000;
    m.fault(1, 0); // 800 + 97000 + 26000
    const h = m.hist.toJson(K_FAULT);
    expect(h.count).toBe(4);
    expect(h.total_us).toBe(Math.floor((990 + 97_800 + 80_800 + 123_800) / 1000));
    expect(h.max_us).toBe(123);
  });
});

/** 16 MiB, pinned every 64 pages, half freed: THP faults that always direct-compact and fail (compaction.test.ts's pinnedNode) */
function pinned(faults: number, sets: Record<string, string> = {}) {
  const e = engineFor(
    { name: "t", nodes: [{ id: 0, mem: 4096, tier: 0, cpus: true }], tunables: {} },
    {},
    { "transparent_hugepage.enabled": "madvise", "transparent_hugepage.defrag": "always", "vm.compaction_proactiveness": "0", ...sets },
  );
  return { e, csv: pinnedNodeCsv(faults) };
}

describe("the engine charges stalls where the kernel does the work", () => {
  it("direct compaction's total is its scanned pages at cost.compact_scan_ns (migration free here), and PSI counts it once per stall", async () => {
    const { e, csv } = pinned(3, { "cost.compact_scan_ns": "1000", "cost.migrate_ns": "0", "cost.reclaim_scan_ns": "0", "cost.reclaim_page_ns": "0" });
    await runCsv(e, csv);
    const v = e.mem.vmstat();
    expect(v[V.compact_daemon_wake]).toBe(0); // every compaction pass was direct
    const scanned = v[V.compact_migrate_scanned]! + v[V.compact_free_scanned]!;
    expect(scanned).toBeGreaterThan(0);
    const r = buildResult(e, { path: "t.csv", format: "csv", events: 0, firstMs: 0, lastMs: 0 });
    // 1000 ns per page scanned = 1 µs per page
    expect(r.latency.direct_compact.total_us).toBe(scanned);
    // pid 2's stalls are its three faults' compactions, 100 ms apart so they do not overlap; pid
    // 1 never stalls but stays non-idle (no exit): two CPUs of equal non-idle time, so the
    // system's some = full = half the stalled time (collect_percpu_times' weighting)
    const psi = e.readFile("pressure/memory")!;
    const stalledUs = r.latency.direct_compact.total_us + r.latency.direct_reclaim.total_us;
    const total = [...psi.matchAll(/total=(\d+)/g)].map((m) => Number(m[1]));
    expect(total[0]).toBeGreaterThanOrEqual(Math.floor(stalledUs / 2) - 1);
    expect(total[0]).toBeLessThanOrEqual(Math.ceil(stalledUs / 2));
    expect(total[1]).toBe(total[0]);
  });

  it("faults without pressure cost their fixed part and zeroing only; no direct stall, no pressure", async () => {
    const e = engineFor({ name: "t", nodes: [{ id: 0, mem: 4096, tier: 0, cpus: true }], tunables: {} }, {}, { "transparent_hugepage.enabled": "never" });
    const rows = ["time_ms,op,pid,addr"];
    for (let i = 0; i < 100; i++) rows.push(`${i},access,1,${0x10000000 + i * 4096}`);
    await runCsv(e, rows.join("\n"));
    const r = buildResult(e, { path: "t.csv", format: "csv", events: 0, firstMs: 0, lastMs: 0 });
    expect(r.latency.fault.count).toBe(100);
    expect(r.latency.fault.total_us).toBe(Math.floor((100 * (800 + 190)) / 1000)); // 99 µs
    expect(r.latency.direct_reclaim.count).toBe(0);
    expect(r.latency.direct_compact.count).toBe(0);
    expect(r.pressure["/"]!.some.total).toBe(0);
  });

  it("cost.profile=tcg switches every default; an explicit cost wins", async () => {
    const e = engineFor({ name: "t", nodes: [{ id: 0, mem: 4096, tier: 0, cpus: true }], tunables: {} }, {}, { "cost.profile": "tcg", "cost.fault_ns": "1000" });
    expect(e.settings.num("cost.zero_page_ns")).toBe(1900);
    expect(e.settings.num("cost.fault_ns")).toBe(1000);
  });
});
