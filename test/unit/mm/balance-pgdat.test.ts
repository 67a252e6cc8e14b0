import { describe, expect, it } from "vitest";
import type { Engine } from "../../../src/engine/engine.js";
import { V } from "../../../src/stats/counters.js";
import { readCsv } from "../../../src/trace/csv.js";
import { chunksOf, engineFor } from "../../helpers.js";

/** a 32 MiB node (8192 pages): min 181, low 226, high 271 (zone-params' formulas, watermarks.test.ts) */
const node32 = (sets: Record<string, string> = {}) =>
  engineFor({ name: "t", nodes: [{ id: 0, mem: 8192, tier: 0, cpus: true }], tunables: {} }, {}, { "transparent_hugepage.enabled": "never", ...sets });

async function feed(e: Engine, rows: string[]): Promise<void> {
  for await (const b of readCsv(chunksOf(["time_ms,op,pid,addr,len,thp,id,order,mt", ...rows].join("\n")), "t.csv")) e.processBatch(b, "t.csv");
}

/** two processes' anon pages interleaved page by page over the whole node, then one exits */
function interleaved(n: number): string[] {
  const rows: string[] = [];
  for (let i = 0; i < n; i++) rows.push(`0,access,1,${0x10000000 + i * 4096},,,,,`, `0,access,2,${0x50000000 + i * 4096},,,,,`);
  rows.push("10,exit,1,,,,,,");
  return rows;
}

describe("balance_pgdat (mm/vmscan.c, 6.1)", () => {
  it("boosted reclaim neither swaps nor writes: the issue's 32 MiB example swaps nothing", async () => {
    const e = node32();
    e.mem.kswapd[0]!.log = [];
    // 7800 of 8192 pages used, pid 1's 3900 freed one page in two: no free block of order 9
    // is left, so the unmovable allocation steals from a block of order < 9 and boosts the
    // watermark by a pageblock: boost = min(0 + 512, max(512, 1.5 * 271 = 406)) = 512
    await feed(e, [...interleaved(3900), "20,alloc,,,,,k1,0,unmovable"]);
    e.finish();
    const log = e.mem.kswapd[0]!.log!;
    // one balance_pgdat, boosted: nr_boost_reclaim 512, may_swap clear, nr_to_reclaim the high
    // mark with its boost (271 + 512 = 783); swappiness 1 so anon counts in nr_to_scan:
    // 3900 >> 12 = 0 pages to scan -> nothing reclaimed -> the boosted early exit
    expect(log).toEqual([{ time_ms: 20, priority: 12, nrToReclaim: 783, scanned: 0, reclaimed: 0, pages: 0, boost: 512, maySwap: false }]);
    const v = e.mem.vmstat();
    expect(v[V.pageoutrun]).toBe(1);
    expect(v[V.pswpout]).toBe(0);
    expect(v[V.pgscan_kswapd]).toBe(0);
    // out: the boost it started with is taken off, and kcompactd is woken for a pageblock
    expect(e.mem.zones[0]!.watermarkBoost).toBe(0);
    expect(v[V.compact_daemon_wake]).toBe(1);
  });

  it("real reclaim walks the priorities down: nr_to_reclaim is the high mark, scans are evictable >> priority", async () => {
    // 8000 anon pages fault in at t=0: free falls under the low mark and kswapd is woken
    const e = node32({ "cost.reclaim_scan_ns": "0", "cost.reclaim_page_ns": "0" });
    e.mem.kswapd[0]!.log = [];
    const rows: string[] = [];
    for (let i = 0; i < 8000; i++) rows.push(`0,access,1,${0x10000000 + i * 4096},,,,,`);
    await feed(e, rows);
    e.finish();
    const log = e.mem.kswapd[0]!.log!;
    expect(log.length).toBeGreaterThan(0);
    for (const it of log) {
      expect(it.nrToReclaim).toBe(271); // max(high, SWAP_CLUSTER_MAX) of the one zone
      expect(it.maySwap).toBe(true);
      expect(it.boost).toBe(0);
    }
    // the first iteration is at DEF_PRIORITY; a priority goes down by one when the iteration
    // scanned less than nr_to_reclaim (raise_priority) or reclaimed nothing, else stays
    expect(log[0]!.priority).toBe(12);
    for (let k = 1; k < log.length; k++) {
      const prev = log[k - 1]!;
      const lower = prev.scanned < prev.nrToReclaim || prev.reclaimed === 0;
      if (log[k]!.time_ms === prev.time_ms) expect(log[k]!.priority).toBe(lower ? prev.priority - 1 : prev.priority);
    }
    // a scan never exceeds evictable >> priority (8000 pages at most on the LRU)
    for (const it of log) expect(it.scanned).toBeLessThanOrEqual(Math.floor(8000 / 2 ** it.priority));
  });

  it("each iteration keeps kswapd busy for its cost: the next one starts after scanned x scan + reclaimed x page ns", async () => {
    const e = node32({ "cost.reclaim_scan_ns": "100000", "cost.reclaim_page_ns": "900000" }); // 1 ms per page scanned and reclaimed
    e.mem.kswapd[0]!.log = [];
    const rows: string[] = [];
    for (let i = 0; i < 8000; i++) rows.push(`0,access,1,${0x10000000 + i * 4096},,,,,`);
    rows.push("5000,access,1,0x10000000,,,,,");
    await feed(e, rows);
    e.finish();
    const log = e.mem.kswapd[0]!.log!;
    // 0.1 ms per page scanned, 0.9 ms per page reclaimed
    const cost = (it: (typeof log)[number]) => it.scanned * 0.1 + it.pages * 0.9;
    const busy = log.reduce((s, it) => s + cost(it), 0);
    expect(busy).toBeGreaterThan(1);
    for (let k = 1; k < log.length; k++) expect(log[k]!.time_ms).toBeGreaterThanOrEqual(log[k - 1]!.time_ms + cost(log[k - 1]!) - 1e-9);
    expect(e.mem.vmstat()[V.wsim_kswapd_busy_ms]).toBe(Math.floor(busy + 1e-9));
  });

  it("direct reclaim (try_to_free_pages) walks priorities from 12 and stops by should_abort_scan once the node is above its low mark", async () => {
    const e = node32({ "cost.reclaim_scan_ns": "0", "cost.reclaim_page_ns": "0" });
    const rows: string[] = [];
    for (let i = 0; i < 6000; i++) rows.push(`0,access,1,${0x10000000 + i * 4096},,,,,`);
    await feed(e, rows);
    e.finish();
    const v0 = Array.from(e.mem.vmstat());
    // 2192 pages free, far above the low mark (226): priority 12 scans 6000 >> 12 = 1 page,
    // 11 scans 2, 10 scans 5; at priority 10 (no longer > DEF_PRIORITY - 2) the node is above
    // its low mark, so should_abort_scan ends the scan and adds MIN_LRU_BATCH (64) to
    // nr_reclaimed: 1 + 2 + 5 = 8 pages scanned, 8 + 64 = 72 >= SWAP_CLUSTER_MAX, done. Each
    // page swapped out takes two of the scans (written, then freed after writeback) where the
    // budget has room: 12 frees 1 (its second scan does not fit), 11 frees 1 (2 scans), 10 frees
    // 3 (2 + 2 + 1): 5 pages stolen, 5 + 64 returned
    // nr_reclaimed: 1 + 2 + 5 = 8 pages scanned, 8 + 64 = 72 >= SWAP_CLUSTER_MAX, done
    const got = e.mem.reclaim.directReclaim([0], () => true);
    const v = e.mem.vmstat();
    expect(v[V.allocstall_normal]! - v0[V.allocstall_normal]!).toBe(1);
    expect(v[V.pgscan_direct]! - v0[V.pgscan_direct]!).toBe(8);
    const stolen = v[V.pgsteal_direct]! - v0[V.pgsteal_direct]!;
    expect(stolen).toBe(5);
    expect(got).toBe(stolen + 64);
    // below the low mark nothing aborts: it goes on down until 32 pages are reclaimed
    const v1 = Array.from(e.mem.vmstat());
    const got2 = e.mem.reclaim.directReclaim([0], () => false);
    expect(got2).toBeGreaterThanOrEqual(32);
    expect(e.mem.vmstat()[V.pgsteal_direct]! - v1[V.pgsteal_direct]!).toBe(got2);
  });
});
