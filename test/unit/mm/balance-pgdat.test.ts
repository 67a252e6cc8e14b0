import { describe, expect, it } from "vitest";
import type { Engine } from "../../../src/engine/engine.js";
import { V } from "../../../src/stats/counters.js";
import { readCsv } from "../../../src/trace/csv.js";
import { chunksOf, engineFor, runCsv } from "../../helpers.js";
import { ZONE_DMA, ZONE_DMA32, ZONE_MOVABLE } from "../../../src/machine/zones.js";
import { PG_LRU } from "../../../src/mm/pages.js";

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
    // the lruvec's scan goes on while it is under evictable >> priority (8000 pages at most on
    // the LRU), a batch at a time: evict_folios isolates up to MIN_LRU_BATCH (64) whatever is
    // left of nr_to_scan, so it ends under nr_to_scan + 64
    for (const it of log) expect(it.scanned).toBeLessThan(Math.floor(8000 / 2 ** it.priority) + 64);
    expect(log.some((it) => it.scanned > Math.floor(8000 / 2 ** it.priority))).toBe(true);
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

  it("direct reclaim (try_to_free_pages) walks priorities from 12, ages in get_nr_to_scan, and stops once a batch reclaimed SWAP_CLUSTER_MAX", async () => {
    const e = node32({ "cost.reclaim_scan_ns": "0", "cost.reclaim_page_ns": "0" });
    const rows: string[] = [];
    for (let i = 0; i < 6000; i++) rows.push(`0,access,1,${0x10000000 + i * 4096},,,,,`);
    await feed(e, rows);
    e.finish();
    const v0 = Array.from(e.mem.vmstat());
    // 6000 pages faulted into max_seq 3, generations 0-2 empty, 2192 free (above the low mark).
    // Priority 12: nr_to_scan 6000 >> 12 = 1; the batch finds generation 0 empty, and
    // try_to_inc_min_seq moves both min_seqs to 2: MIN_NR_GENS generations left, so evict_folios
    // counts nothing (scanned = 0) and the lruvec is done. Priority 11: should_run_aging (min_seq
    // + 2 > max_seq), so get_nr_to_scan ages it first (try_to_inc_max_seq: the pages, young from
    // their faults, stay in 3; max_seq 4), min_seq moves to 3, again MIN_NR_GENS left: nothing.
    // Priority 10: aged again (max_seq 5, no page young any more), nr_to_scan 6000 >> 10 = 5: one
    // batch of MIN_LRU_BATCH isolations from generation 3, each page swapped out taking two
    // (written, then freed after writeback): 64 scanned, 32 stolen. 64 >= 5 ends the lruvec's
    // loop before should_abort_scan is asked (no MIN_LRU_BATCH bonus), and 32 >=
    // SWAP_CLUSTER_MAX ends try_to_free_pages
    const got = e.mem.reclaim.directReclaim([0], () => true);
    const v = e.mem.vmstat();
    expect(v[V.allocstall_normal]! - v0[V.allocstall_normal]!).toBe(1);
    expect(v[V.pgscan_direct]! - v0[V.pgscan_direct]!).toBe(64);
    const stolen = v[V.pgsteal_direct]! - v0[V.pgsteal_direct]!;
    expect(stolen).toBe(32);
    expect(got).toBe(stolen);
    expect(v[V.wsim_lru_gen_agings]! - v0[V.wsim_lru_gen_agings]!).toBe(2);
    // below the low mark nothing aborts: it goes on down until 32 pages are reclaimed
    const v1 = Array.from(e.mem.vmstat());
    const got2 = e.mem.reclaim.directReclaim([0], () => false);
    expect(got2).toBeGreaterThanOrEqual(32);
    expect(e.mem.vmstat()[V.pgsteal_direct]! - v1[V.pgsteal_direct]!).toBe(got2);
  });
});

describe("MGLRU's aging in kswapd (lru_gen_age_node, get_nr_to_scan; mm/vmscan.c, 6.1)", () => {
  // generations by [type][seq]: ANON 0, FILE 1
  const gens = (g: Record<number, number>[]) => (t: number, q: number) => g[t]![q] ?? 0;

  it("should_run_aging: fewer than 3 generations always, more than 3 never, exactly 3 by how the pages spread", async () => {
    const { shouldRunAging } = await import("../../../src/mm/reclaim.js");
    // seqs 4..5 (2 generations) of anon: 4 + 5 < ... min_seq 4 + MIN_NR_GENS 2 = 6 > max_seq 5: need
    // aging; nr_to_scan (100 + 300) >> 2 = 100
    expect(shouldRunAging(5, [4, 4], true, gens([{ 4: 100, 5: 300 }, {}]), 2)).toEqual({ need: true, nrToScan: 100 });
    // 4 generations (3..6): min 3 + 2 = 5 < 6: no aging, whatever the spread; (10+10+10+970) >> 12 = 0
    expect(shouldRunAging(6, [3, 3], true, gens([{ 3: 10, 4: 10, 5: 10, 6: 970 }, {}]), 12)).toEqual({ need: false, nrToScan: 0 });
    // 3 generations (4..6), 1200 pages: young (seq 6) 500 * 2 = 1000 > 1200? no; old (seq 4) 400 * 4 =
    // 1600 < 1200? no: no aging; 1200 >> 4 = 75
    expect(shouldRunAging(6, [4, 4], true, gens([{ 4: 400, 5: 300, 6: 500 }, {}]), 4)).toEqual({ need: false, nrToScan: 75 });
    // young 700 of 1200: 1400 > 1200: too many hot pages, age
    expect(shouldRunAging(6, [4, 4], true, gens([{ 4: 300, 5: 200, 6: 700 }, {}]), 4).need).toBe(true);
    // old 200 of 1200: 800 < 1200: too few cold pages, age
    expect(shouldRunAging(6, [4, 4], true, gens([{ 4: 200, 5: 500, 6: 500 }, {}]), 4).need).toBe(true);
    // without swap only file counts: anon's 10000 pages are not in total, and file's min_seq decides
    // (file 5..6: 5 + 2 = 7 > 6: need); nr_to_scan 64 >> 1 = 32
    expect(shouldRunAging(6, [3, 5], false, gens([{ 3: 5000, 4: 5000 }, { 5: 32, 6: 32 }]), 1)).toEqual({ need: true, nrToScan: 32 });
  });

  it("kswapd ages before it scans, not in a run's first iteration, never inside eviction, and skips an lruvec needing aging below DEF_PRIORITY", async () => {
    const e = node32({ "cost.reclaim_scan_ns": "0", "cost.reclaim_page_ns": "0" });
    const rows: string[] = [];
    for (let i = 0; i < 3000; i++) rows.push(`0,access,1,${0x10000000 + i * 4096},,,,,`);
    await feed(e, rows);
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    const r = e.mem.reclaim;
    const agings = () => e.mem.vmstat()[V.wsim_lru_gen_agings]!;
    // a new lruvec: generations 0..3 (min_seq 0, max_seq MIN_NR_GENS + 1), the 3000 faults all in 3
    expect([lv.minSeq[0], lv.maxSeq, lv.pagesIn(0, 3)]).toEqual([0, 3, 3000]);
    const a0 = agings();
    const aging = { memcgsNeedAging: false };
    // 1st iteration (priority 12): lru_gen_age_node only sets memcgs_need_aging; 4 generations:
    // no aging needed, nr_to_scan 3000 >> 12 = 0
    expect(r.shrinkNodeBalance(0, 12, 271, true, () => false, aging).scanned).toBe(0);
    expect(aging.memcgsNeedAging).toBe(true);
    // 2nd (11): still 4 generations, no aging; nr_to_scan 3000 >> 11 = 1: eviction drops the empty
    // generations 0 and 1 (try_to_inc_min_seq) down to MIN_NR_GENS and scans nothing, ages nothing
    expect(r.shrinkNodeBalance(0, 11, 271, true, () => false, aging).scanned).toBe(0);
    expect([lv.minSeq[0], lv.maxSeq, agings() - a0]).toEqual([2, 3, 0]);
    // 3rd (10): min_seq 2 + MIN_NR_GENS > max_seq 3: lru_gen_age_node ages (max_seq 4); then
    // get_nr_to_scan asks again: 3 generations, the youngest (4) holds the 3000 pages the walk
    // found accessed, 3000 * 2 > 3000: aging still needed, so kswapd skips the lruvec
    expect(r.shrinkNodeBalance(0, 10, 271, true, () => false, aging).scanned).toBe(0);
    expect([lv.maxSeq, agings() - a0]).toEqual([4, 1]);
  });
});

describe("reclaim_idx: MGLRU scans only the zones the reclaim is for (scan_folios' lists[gen][type][zone])", () => {
  // 64 MiB x86 guest: DMA [1, 4096) manages 3840 pages, DMA32 [4096, 16343) 12247
  // (zones-model.test.ts). 14000 anon pages fault in order: the zonelist takes DMA32 first, and
  // DMA once DMA32 is at its low mark, so the oldest pages (the tail of the oldest generation)
  // are DMA32's and the newest DMA's.
  const setup = async (sets: Record<string, string> = {}) => {
    const m = { name: "x64", nodes: [{ id: 0, mem: 16384, tier: 0, cpus: true }], tunables: {}, zones: "x86" as const };
    const e = engineFor(m, {}, { "transparent_hugepage.enabled": "never", ...sets });
    const rows = ["time_ms,op,pid,addr"];
    for (let i = 0; i < 14000; i++) rows.push(`0,access,1,0x${(0x40000000 + i * 4096).toString(16)}`);
    await runCsv(e, rows.join("\n") + "\n");
    // MGLRU: two agings (their accessed bits cleared the first time): the pages sit two
    // generations below the youngest, so eviction has MIN_NR_GENS + 1 generations to take from
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    if (!e.mem.lru.classic) {
      e.mem.lru.age(lv, 0, null);
      e.mem.lru.age(lv, 0, null);
    }
    return e;
  };
  /** LRU pages per zone [DMA, DMA32] */
  const lruPages = (e: Engine) => {
    const f = e.mem.pages.flags;
    const n = [0, 0];
    for (let pfn = 0; pfn < f.length; pfn++) if (f[pfn]! & PG_LRU) n[pfn < 4096 ? 0 : 1]!++;
    return n;
  };

  it("a reclaim for ZONE_DMA (kswapd woken for a boosted DMA, a GFP_DMA allocation) takes DMA pages only, though DMA32's are older", async () => {
    const e = await setup();
    const [dma, dma32] = lruPages(e);
    expect(dma).toBeGreaterThan(100);
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    // 10 pages reclaimed: all ten from DMA, none from DMA32
    expect(e.mem.reclaim.shrinkLruvec(lv, 10, true, Infinity, false, true, ZONE_DMA)).toBe(10);
    expect(lruPages(e)).toEqual([dma! - 10, dma32]);
    // 10 anon pages swapped out, each isolated twice (written, then freed after writeback's
    // rotation: reclaim.ts, wsim.swap_writeback=0): pgscan 2 x 10; no DMA32 page was looked at
    expect(e.mem.ev[V.pgscan_kswapd]).toBe(20);
    expect(e.mem.ev[V.pswpout]).toBe(10);
  });

  it("a reclaim for the node's highest zone (or above it) takes the oldest pages, whatever their zone", async () => {
    const e = await setup();
    const [dma, dma32] = lruPages(e);
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    expect(e.mem.reclaim.shrinkLruvec(lv, 10, true, Infinity, false, true, ZONE_DMA32)).toBe(10);
    expect(lruPages(e)).toEqual([dma, dma32! - 10]);
    expect(e.mem.reclaim.shrinkLruvec(lv, 10, true, Infinity, false, true, ZONE_MOVABLE)).toBe(10);
    expect(lruPages(e)).toEqual([dma, dma32! - 20]);
  });

  it("with no page of the eligible zones in the oldest generation, nothing is scanned (min_seq cannot move past the others)", async () => {
    const e = await setup();
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    // every DMA page to the youngest generation: the oldest holds DMA32 pages only
    const f = e.mem.pages.flags;
    for (let pfn = 0; pfn < 4096; pfn++) if (f[pfn]! & PG_LRU) e.mem.lru.move(lv, pfn, lv.maxSeq);
    const before = lruPages(e);
    expect(e.mem.reclaim.shrinkLruvec(lv, 10, true, Infinity, false, true, ZONE_DMA)).toBe(0);
    expect(lruPages(e)).toEqual(before);
    expect(e.mem.ev[V.pgscan_kswapd]).toBe(0);
  });

  it("the two-list LRU (lru_gen.enabled=0) sets a higher zone's folios aside: pgskip_<zone>, counted in pgscan, back at the list's head", async () => {
    const e = await setup({ "lru_gen.enabled": "0" });
    const [dma, dma32] = lruPages(e);
    // isolate_lru_folios for ZONE_DMA at priority 0: every inactive folio is looked at; the
    // DMA32 ones (older, at the tail) are set aside (pgskip_dma32) and the DMA ones isolated
    const r = e.mem.reclaim.shrinkNodePriority(0, 0, 32, true, true, () => false, 0, null, ZONE_DMA);
    expect(r.pagesReclaimed).toBeGreaterThan(0);
    expect(lruPages(e)).toEqual([dma! - r.pagesReclaimed, dma32]);
    const v = e.mem.vmstat();
    expect(v[V.pgskip_dma32]).toBeGreaterThan(0);
    expect(v[V.pgskip_dma]).toBe(0);
    // nr_scanned is total_scan: the folios set aside count in pgscan (and pgrefill), so pgscan
    // is at least the skipped plus the reclaimed
    expect(v[V.pgscan_kswapd]! + v[V.pgrefill]!).toBeGreaterThanOrEqual(v[V.pgskip_dma32]! + r.pagesReclaimed);
  });
});

describe("kswapd_try_to_sleep's short nap (HZ/10)", () => {
  /** pid 1 faults `n` new pages at `t` ms, from page `from` of its region */
  const faults = (t: number, from: number, n: number) => Array.from({ length: n }, (_, i) => `${t},access,1,${0x10000000 + (from + i) * 4096},`);
  /** the rows, then a read of vmstat at `until` ms (the timers up to it fire) */
  const feedUntil = async (e: Engine, rows: string[], until: number) => {
    for await (const b of readCsv(chunksOf(["time_ms,op,pid,addr,key", ...rows, `${until},read,,,vmstat`].join("\n")), "t.csv")) e.processBatch(b, "t.csv");
  };
  const count = (e: Engine, name: "kswapd_low_wmark_hit_quickly" | "kswapd_high_wmark_hit_quickly" | "pageoutrun") => e.mem.vmstat()[V[name]]!;

  it("a wake-up in the nap ends it early (low_wmark_hit_quickly); a node unbalanced at its end runs again (high_wmark_hit_quickly); else the full sleep", async () => {
    // 32 MiB node: low 226, high 271; no pcp lists or page tables (engineFor), reclaim free of cost
    const e = node32({ "cost.reclaim_scan_ns": "0", "cost.reclaim_page_ns": "0" });
    e.mem.kswapd[0]!.log = [];
    // t=0: 8000 pages leave 192 free; kswapd, woken once free fell under low, runs at once and
    // leaves the node above high (balanced), then naps until t=100; the faults after its run
    // leave free between low and high (no wake-up)
    await feedUntil(e, faults(0, 0, 8000), 10);
    expect([count(e, "pageoutrun"), count(e, "kswapd_low_wmark_hit_quickly"), count(e, "kswapd_high_wmark_hit_quickly")]).toEqual([1, 0, 0]);
    const free0 = e.mem.freePages();
    expect(free0).toBeGreaterThan(226);
    // t=50, in the nap: faults take free to 220, under low: wakeup_kswapd ends the nap early
    await feedUntil(e, faults(50, 8000, free0 - 220), 60);
    expect([count(e, "pageoutrun"), count(e, "kswapd_low_wmark_hit_quickly"), count(e, "kswapd_high_wmark_hit_quickly")]).toEqual([2, 1, 0]);
    const free1 = e.mem.freePages();
    expect(free1).toBeGreaterThan(271);
    // t=100, in the nap that began at 50: free to 250, under high but above low (no wake-up);
    // at the nap's end (t=150) the node is unbalanced: high_wmark_hit_quickly, a third run at 150
    await feedUntil(e, faults(100, 8000 + free0 - 220, free1 - 250), 400);
    expect([count(e, "pageoutrun"), count(e, "kswapd_low_wmark_hit_quickly"), count(e, "kswapd_high_wmark_hit_quickly")]).toEqual([3, 1, 1]);
    expect(e.mem.kswapd[0]!.log!.at(-1)!.time_ms).toBe(150);
    // that run left the node balanced: its nap (150 to 250) ended in the full sleep, nothing more
    expect(e.mem.freePages()).toBeGreaterThan(271);
  });
});
