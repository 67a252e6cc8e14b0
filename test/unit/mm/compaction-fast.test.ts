/**
 * 6.1's compaction on the allocation path (issue 13 item 7), with hand-computed expectations:
 * compaction_capture (mm/page_alloc.c), fast_isolate_freepages and fast_find_migrateblock
 * (mm/compaction.c).
 */
import { listNext } from "../../../src/mm/list.js";
import { describe, expect, it } from "vitest";
import { V } from "../../../src/stats/counters.js";
import { engineFor, QUIET_TUNABLES, quietEngine, runCsv } from "../../helpers.js";
import { Buddy, FPI_NONE, Zone } from "../../../src/mm/buddy.js";
import { MT_ISOLATE, MT_MOVABLE, MT_UNMOVABLE } from "../../../src/mm/constants.js";
import { PageArrays, PG_ALLOC, PG_BUDDY, PG_HEAD, PG_LRU } from "../../../src/mm/pages.js";
import { COMPACT_COMPLETE, COMPACT_PARTIAL_SKIPPED, CompactControl, MIGRATE_ASYNC, MIGRATE_SYNC_LIGHT } from "../../../src/mm/compaction.js";


/** a bare zone of 1024 pages (two pageblocks), every page allocated */
function bareBuddy() {
  const pages = new PageArrays(1024);
  pages.flags.fill(PG_ALLOC);
  const z = new Zone(0, 0, 1024);
  return { b: new Buddy(pages, [z]), z, pages };
}

describe("compaction_capture in __free_one_page", () => {
  it("takes the block the moment merging makes it exactly the order, in an Unmovable pageblock", () => {
    const { b, z, pages } = bareBuddy();
    pages.pbMt[0] = MT_UNMOVABLE;
    b.captureZone = z;
    b.captureOrder = 2;
    b.freeOnePage(z, 4, 0, MT_UNMOVABLE, FPI_NONE); // order 0 at 4, listed
    b.freeOnePage(z, 5, 0, MT_UNMOVABLE, FPI_NONE); // merges: order 1 at 4, listed
    expect(Array.from(z.nrFree.slice(0, 3))).toEqual([0, 1, 0]);
    b.freeOnePage(z, 7, 0, MT_UNMOVABLE, FPI_NONE); // order 0 at 7
    expect(b.capturedPfn).toBe(-1);
    // 6 merges with 7 (order 1 at 6), then with 4 (order 2 at 4): captured before it is listed
    b.freeOnePage(z, 6, 0, MT_UNMOVABLE, FPI_NONE);
    expect(b.capturedPfn).toBe(4);
    expect(Array.from(z.nrFree.slice(0, 4))).toEqual([0, 0, 0, 0]);
    expect(pages.flags[4]! & PG_BUDDY).toBe(0);
    expect(z.freePages).toBe(0); // NR_FREE_PAGES: +4 freed, -4 captured
    // one page per capture control: the next block of order 2 is listed
    b.freeOnePage(z, 8, 2, MT_UNMOVABLE, FPI_NONE);
    expect(b.capturedPfn).toBe(4);
    expect(z.nrFree[2]).toBe(1);
    expect(z.freePages).toBe(4);
  });

  it("a block freed at the order itself is captured at once; a bigger one is not (exact order only)", () => {
    const { b, z, pages } = bareBuddy();
    pages.pbMt[0] = MT_UNMOVABLE;
    b.captureZone = z;
    b.captureOrder = 1;
    b.freeOnePage(z, 16, 2, MT_UNMOVABLE, FPI_NONE); // order 2 > 1: listed
    expect(b.capturedPfn).toBe(-1);
    expect(z.nrFree[2]).toBe(1);
    b.freeOnePage(z, 2, 1, MT_UNMOVABLE, FPI_NONE);
    expect(b.capturedPfn).toBe(2);
    expect(z.nrFree[1]).toBe(0);
  });

  it("never below pageblock order from a Movable pageblock, never from an isolated one, never in another zone", () => {
    const { b, z, pages } = bareBuddy();
    b.captureZone = z;
    b.captureOrder = 2;
    b.freeOnePage(z, 0, 2, MT_MOVABLE, FPI_NONE);
    expect(b.capturedPfn).toBe(-1);
    b.freeOnePage(z, 16, 2, MT_ISOLATE, FPI_NONE);
    expect(b.capturedPfn).toBe(-1);
    b.captureZone = new Zone(1, 1024, 1024);
    b.freeOnePage(z, 32, 2, MT_UNMOVABLE, FPI_NONE);
    expect(b.capturedPfn).toBe(-1);
    expect(z.nrFree[2]).toBe(3);
    // order 9 (= pageblock_order) from a Movable pageblock: captured; the last of its 512
    // pages freed completes it
    b.captureZone = z;
    b.captureOrder = 9;
    for (let q = 512; q < 1024; q++) b.freeOnePage(z, q, 0, pages.pbMt[1]!, FPI_NONE);
    expect(b.capturedPfn).toBe(512);
    expect(z.nrFree[9]).toBe(0);
    for (let o = 0; o < 9; o++) expect(z.nrFree[o], `order ${o}`).toBe(o === 2 ? 3 : 0);
  });

  it("direct compaction stops at the batch whose migration freed the block, and the allocation gets it", async () => {
    // 1024 pages, all faulted (vpn i at pfn i); pageblock 0 made Unmovable while it has no
    // free page; holes at pfns 1 and 3 (on the Unmovable lists) and every fourth pfn of
    // pageblock 1 (512, 516, ..., 1020). No free block of order 2 or more anywhere.
    const e = quietEngine(1024);
    const lines = ["time_ms,op,pid,addr,len,id,order,mt"];
    for (let i = 0; i < 1024; i++) lines.push(`0,access,1,${i * 4096},,,,`);
    await runCsv(e, lines.join("\n"));
    e.mem.pages.pbMt[0] = MT_UNMOVABLE;
    const un = ["time_ms,op,pid,addr,len,id,order,mt", `1,munmap,1,${1 * 4096},4096,,,`, `1,munmap,1,${3 * 4096},4096,,,`];
    for (let i = 512; i < 1024; i += 4) un.push(`1,munmap,1,${i * 4096},4096,,,`);
    await runCsv(e, un.join("\n"));
    const z = e.mem.zones[0]!;
    expect(z.freePages).toBe(130);
    const c = e.mem.compaction;
    c.trace = { visits: [], moves: [] };
    c.log = [];
    const before = e.mem.vmstat();
    // an order-3 Unmovable allocation: the fast path and the min-watermark retry find nothing;
    // async direct compaction (non-movable, order > 0) for MIGRATE_UNMOVABLE
    await runCsv(e, "time_ms,op,id,order,mt\n2,alloc,k,3,unmovable\n");
    // isolate_migratepages_block on pageblock 0 (suitable: Unmovable, as the request), async
    // skip-on-failure in order-3 blocks: 0, 2, 4, 5, 6, 7 (1 and 3 are free), then at pfn 8 the
    // order-aligned block is done and something was isolated: the batch is those six, list_add
    // order 7, 6, 5, 4, 2, 0. Each target from fast_isolate_freepages (the linear scan, with
    // async's stride 32, would give 672, 640, ...): migrate_pfn 8, free_pfn 512, so low_pfn =
    // min_pfn = 0; orders 2 and 1 empty; the Movable order-0 list's tail (512, freed first) is
    // taken, one block a call; the list rotated and the next call takes the new tail (516), ...
    expect(c.trace.moves).toEqual([[7, 512], [6, 516], [5, 520], [4, 524], [2, 528], [0, 532]]);
    // freeing 0 merges 0-1, 2-3, 4-7 into order 3 at 0: compaction_capture takes it, compact_zone
    // stops ("Stop if a page has been captured") instead of running on to the pageblock's end
    expect(c.log!.map((x) => x.result)).toEqual(["success"]);
    expect(e.mem.kallocs.get("k")).toBe(0 * 16 + 3);
    const v = e.mem.vmstat();
    expect(v[V.pgmigrate_success]).toBe(6);
    expect(v[V.compact_stall]).toBe(1);
    expect(v[V.compact_success]).toBe(1);
    expect(v[V.compact_fail]).toBe(0);
    expect(v[V.wsim_alloc_fail]).toBe(0);
    // the captured block never went through rmqueue: no pgalloc, no zone_statistics (6.1)
    expect(v[V.pgalloc_normal]).toBe(before[V.pgalloc_normal]);
    expect(v[V.numa_hit]).toBe(before[V.numa_hit]);
    expect(v[V.numa_local]).toBe(before[V.numa_local]);
    expect(e.mem.buddy.captureZone).toBeNull();
    for (let q = 0; q < 8; q++) expect(e.mem.pages.flags[q]! & PG_ALLOC, `pfn ${q}`).toBeTruthy();
  });
});

/** 4096 pages (eight pageblocks), all faulted (vpn i at pfn i), then the given pfns freed in order */
async function holes(pfns: number[]) {
  const e = quietEngine(4096);
  const lines = ["time_ms,op,pid,addr,len"];
  for (let i = 0; i < 4096; i++) lines.push(`0,access,1,${i * 4096},`);
  for (const q of pfns) lines.push(`1,munmap,1,${q * 4096},4096`);
  await runCsv(e, lines.join("\n"));
  const c = e.mem.compaction;
  const zc = c.zones[0]!;
  const z = zc.zone;
  const p = e.mem.pages;
  const list = (order: number) => {
    const out: number[] = [];
    for (let q = z.head[order * 5 + MT_MOVABLE]!; q >= 0; q = listNext(p.linksOf(order), q)) out.push(q);
    return out;
  };
  const cc = (mode: number, migratePfn: number, freePfn: number, nrMigratepages: number) => {
    const x = new CompactControl(z, zc, 9, MT_MOVABLE, mode, { direct: true });
    x.migratePfn = migratePfn;
    x.freePfn = freePfn;
    x.nrMigratepages = nrMigratepages;
    return x;
  };
  // the private fast paths, called as isolate_freepages / isolate_migratepages would
  const fast = (x: CompactControl, got: number[]) => (c as unknown as { fastIsolateFreepages(x: CompactControl, g: number[]): void }).fastIsolateFreepages(x, got);
  zc.cachedFree = 3584;
  return { e, c, zc, z, list, cc, fast };
}

describe("fast_isolate_freepages", () => {
  it("at the scan's start: a deep search from each list's tail takes the first block in the top quarter", async () => {
    const { c, zc, list, cc, fast } = await holes([100, 1100, 2100, 3100, 3600]);
    expect(list(0)).toEqual([3600, 3100, 2100, 1100, 100]); // each freed to the head
    expect(zc.initFree).toBe(0); // no reset yet: every search starts the scan
    const x = cc(MIGRATE_SYNC_LIGHT, 0, 3584, 4);
    const got: number[] = [];
    fast(x, got);
    // distance 3584: low_pfn = pageblock_start(3584 - 896) = 2560, min_pfn = pageblock_start(3584 - 1792) = 1536;
    // search_order = min(9 - 1, 9) = 8; orders 8..1 are empty; order 0 from the tail: 100, 1100,
    // 2100 (>= min_pfn: a candidate, limit 256 -> 128), 3100 (>= low_pfn): taken
    expect(got).toEqual([3100]);
    expect(x.searchOrder).toBe(0);
    expect(x.fastSearchFail).toBe(0);
    // move_freelist_head: 3100 first, what was before it to the tail; then 3100 isolated
    expect(list(0)).toEqual([2100, 1100, 100, 3600]);
    // fast_isolate_around (sync): pageblock 6 [3072, 3584) scanned at stride 1, no more free
    // pages, fewer than the 4 wanted: skipped from now on; highest (3072) < cached free (3584)
    expect(x.totalFreeScanned).toBe(4 + 512);
    expect(c.skip[6]).toBe(1);
    expect(zc.cachedFree).toBe(3584);
  });

  it("past the scan's start: the highest candidate in the top half when none is in the top quarter; no search around in async direct compaction", async () => {
    const { c, zc, list, cc, fast } = await holes([100, 1100, 2100]);
    zc.initFree = 4000; // free_pfn 3584 < compact_init_free_pfn: limit = ((32 >> 0) + 1) >> 1 = 16
    const x = cc(MIGRATE_ASYNC, 0, 3584, 4);
    const got: number[] = [];
    fast(x, got);
    // 100, 1100, 2100 (>= min_pfn 1536: high_pfn, limit 8), end of the list: high_pfn taken
    expect(got).toEqual([2100]);
    expect(list(0)).toEqual([1100, 100]);
    // search_order was only set by a block >= low_pfn; the order loop wrapped: 8 -> 7
    expect(x.searchOrder).toBe(7);
    expect(x.fastSearchFail).toBe(0);
    expect(x.totalFreeScanned).toBe(3);
    expect(Array.from(c.skip)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("a failed search counts fast_search_fail, rotates the list past what it saw, and at the scan's start sends direct compaction's free scanner to min_pfn", async () => {
    const { c, zc, list, cc, fast } = await holes([10, 20, 30, 40]);
    zc.initFree = 4000;
    const x = cc(MIGRATE_SYNC_LIGHT, 0, 3584, 2);
    x.fastSearchFail = 3; // freelist_scan_limit = (32 >> 3) + 1 = 5; limit 5 >> 1 = 2
    const got: number[] = [];
    fast(x, got);
    // 10, 20: the limit; nothing in the top half
    expect(got).toEqual([]);
    expect(list(0)).toEqual([20, 10, 40, 30]);
    expect(x.fastSearchFail).toBe(4);
    expect(x.freePfn).toBe(3584);
    expect(x.totalFreeScanned).toBe(2);
    // at the scan's start (free_pfn >= compact_init_free_pfn): limit 256, the whole list, no
    // block at or above min_pfn (1536) and highest (0) below it: free_pfn = min_pfn, and
    // fast_isolate_around searches pageblock 3 (nothing free: skip bit set)
    zc.initFree = 0;
    fast(x, got);
    expect(got).toEqual([]);
    expect(x.fastSearchFail).toBe(5);
    expect(x.freePfn).toBe(1536);
    expect(x.totalFreeScanned).toBe(2 + 4 + 512);
    expect(c.skip[3]).toBe(1);
  });
});

describe("fast_find_migrateblock (6.1.15)", () => {
  const range = (a: number, n: number) => Array.from({ length: n }, (_, k) => a + k);
  // free blocks: order 3 at 1024 and 600 (list [600, 1024]); order 4 at 2560, 3072, 3328
  // (list [3328, 3072, 2560]): each freed block goes to its list's head
  const blocks = [...range(1024, 8), ...range(600, 8), ...range(2560, 16), ...range(3072, 16), ...range(3328, 16)];
  type Priv = { isolateMigratepages(x: CompactControl): number; fastFindMigrateblock(x: CompactControl): number };

  it("from the zone start: the first Movable free block of orders 8..3 below half the scan space; its block is skipped and then given up whole", async () => {
    const { c, zc, list, cc } = await holes(blocks);
    expect(list(3)).toEqual([600, 1024]);
    expect(list(4)).toEqual([3328, 3072, 2560]);
    const x = cc(MIGRATE_SYNC_LIGHT, 0, 3584, 0);
    const n = (c as unknown as Priv).isolateMigratepages(x);
    // high_pfn = pageblock_start(0 + (3584 >> 1)) = 1536; order 4: 3328, 3072, 2560 all above
    // (3 scanned); order 3: 600 (4th) is below and its pageblock 1 is not skipped: taken,
    // moved to the list's tail, pageblock 1 marked skipped, fast_start_pfn = 600
    expect(list(3)).toEqual([1024, 600]);
    expect(c.skip[1]).toBe(1);
    expect(x.fastStartPfn).toBe(600);
    expect(x.fastSearchFail).toBe(0);
    // isolate_migratepages_block(512, 1024) finds its aligned first pfn skipped: nothing
    // isolated, migrate_pfn at the block's end, the cached pfns at pageblock_end_pfn(1024)
    expect(n).toBe(0);
    expect(x.migratePfn).toBe(1024);
    expect(x.totalMigrateScanned).toBe(4 + 1);
    expect(zc.cachedMigrate).toEqual([1536, 1536]);
    // next: from 1024, high_pfn = pageblock_start(1024 + ((3584 - 1024) >> 1 >> 2)) = 1024:
    // 3328, 3072, 2560, 1024 not below, 600's pageblock skipped: the search fails, and
    // reinit_migrate_pfn restarts the linear scan at 600, where the rest of pageblock 1 is
    // isolated: the free order-3 block skipped whole, then 32 LRU pages
    const m = (c as unknown as Priv).isolateMigratepages(x);
    expect(x.fastSearchFail).toBe(1);
    expect(m).toBe(32);
    expect(x.migratepages).toEqual(range(608, 32).reverse());
    expect(x.migratePfn).toBe(640);
    expect(x.totalMigrateScanned).toBe(5 + 5 + 1 + 32);
    // fast_start_pfn is used once
    expect((c as unknown as Priv).fastFindMigrateblock(x)).toBe(640);
  });

  it("freelist_scan_limit: the entry that reaches the limit and those before it go to the list's tail", async () => {
    const { c, list, cc } = await holes(blocks);
    const x = cc(MIGRATE_SYNC_LIGHT, 0, 3584, 0);
    x.fastSearchFail = 6; // (32 >> 6) + 1 = 1
    expect((c as unknown as Priv).fastFindMigrateblock(x)).toBe(0);
    // 3328 scanned (1); 3072: nr_scanned++ >= 1: move_freelist_tail(3072), stop
    expect(list(4)).toEqual([2560, 3328, 3072]);
    expect(x.totalMigrateScanned).toBe(2);
    expect(x.fastSearchFail).toBe(7);
    expect(list(3)).toEqual([600, 1024]);
  });

  it("not for costly-or-smaller orders, unmovable direct requests, full-zone (ignore_skip_hint) runs, or mid-block restarts", async () => {
    const { c, zc, z } = await holes(blocks);
    const f = (x: CompactControl) => (c as unknown as Priv).fastFindMigrateblock(x);
    const mk = (order: number, mt: number, opts: object, migratePfn = 0) => {
      const x = new CompactControl(z, zc, order, mt, MIGRATE_SYNC_LIGHT, opts);
      x.migratePfn = migratePfn;
      x.freePfn = 3584;
      return x;
    };
    for (const x of [
      mk(3, MT_MOVABLE, { direct: true }),
      mk(9, MT_UNMOVABLE, { direct: true }),
      mk(9, MT_MOVABLE, { direct: true, ignoreSkipHint: true }),
      mk(9, MT_MOVABLE, { direct: true }, 700),
    ]) {
      expect(f(x)).toBe(x.migratePfn);
      expect(x.fastSearchFail).toBe(0);
      expect(x.totalMigrateScanned).toBe(0);
    }
    // kcompactd (not direct) may search for an unmovable order too
    const k = mk(9, MT_UNMOVABLE, {});
    expect(f(k)).toBe(512);
  });
});

describe("isolate_freepages' stride and compact_init_free_pfn", () => {
  it("the linear free scanner strides 32 in async mode, 1 after a block that gave pages, then doubles up to 32", async () => {
    // free pfns (none merge): 3680, 3683 in pageblock 7; 3073, 3074 in 6; 2561, 2562, 2564 in 5
    const { c, zc, z } = await holes([3680, 3683, 3073, 3074, 2561, 2562, 2564]);
    // order -1: fast_isolate_freepages is off, only the linear scanner runs
    const x = new CompactControl(z, zc, -1, MT_MOVABLE, MIGRATE_ASYNC, {});
    x.migratePfn = 0;
    x.freePfn = 3584;
    x.nrMigratepages = 100;
    (c as unknown as { isolateFreepages(x: CompactControl): void }).isolateFreepages(x);
    // pageblock 7 at stride 32: 3584, 3616, 3648, 3680 (isolated), ... 16 pfns, 3683 missed;
    // 6, 5 and 4 at stride 1 (each after a block that gave pages: every free page); 4 gave
    // nothing, so 3, 2, 1 at strides 2, 4, 8 (256 + 128 + 64); pageblock 0 is the migrate scanner's
    expect(x.freepages).toEqual([2564, 2562, 2561, 3074, 3073, 3680]);
    expect(x.totalFreeScanned).toBe(16 + 512 + 512 + 512 + 256 + 128 + 64);
    expect(Array.from(c.skip)).toEqual([0, 1, 1, 1, 1, 1, 1, 1]);
    expect(x.freePfn).toBe(0);
  });

  it("the reset sets compact_init_free_pfn to the highest pfn of its walk whose Movable pageblock has a free block at a sampled pfn, within the upper half", async () => {
    const { c, zc, e } = await holes([3601, 3104]);
    // no compact_blockskip_flush (no direct compaction's scanners met): nothing happens
    c.resetIsolationSuitable(zc);
    expect(zc.initFree).toBe(0);
    zc.blockskipFlush = true;
    c.resetIsolationSuitable(zc);
    expect(zc.blockskipFlush).toBe(false);
    // the free side walks 4095, 3583, 3071, 2559 (the migrate side 0, 512, 1024, 1536):
    // pageblock 7's samples are 3584, 3592, ... (3601 is not one); pageblock 6's include 3104;
    // 6.1 keeps the walk's pfn, not the block's start
    expect(zc.initFree).toBe(3583);
    expect(zc.cachedFree).toBe(3583);
    // the migrate side: pfn 0 is an LRU page, the first sample of the first block
    expect(zc.initMigrate).toBe(0);
    expect(zc.cachedMigrate).toEqual([0, 0]);
    e.mem.pages.pbMt[6] = MT_UNMOVABLE; // not a target: skipped; 5 and 4 have nothing; the walk stops halfway
    zc.blockskipFlush = true;
    c.resetIsolationSuitable(zc);
    expect(zc.initFree).toBe(3583); // unchanged, as 6.1 leaves it when nothing is found
    // reset_migrate (0) >= reset_free (the zone start, 0): "leave no distance", the cached
    // scanners where the walk stopped (migrate 2048, free 2047)
    expect(zc.cachedMigrate).toEqual([2048, 2048]);
    expect(zc.cachedFree).toBe(2047);
  });
});

/** A quiet one-node x86 machine of `pages` pages: DMA [1, 4096) (pfns below 256 reserved), DMA32 above. */
function quietX86(pages: number, extra: Record<string, string> = {}) {
  return engineFor({ name: "t", nodes: [{ id: 0, mem: pages, tier: 0, cpus: true }], tunables: {}, zones: "x86" }, {}, { ...QUIET_TUNABLES, ...extra });
}

describe("6.1's scanners around the fast paths (exactness fixes)", () => {
  it("isolate_migratepages tests the skip bit only at a pageblock-aligned pfn: DMA's first block (pfn 1) is scanned though marked", () => {
    const e = quietX86(8192);
    const c = e.mem.compaction;
    const dma = e.mem.zones[0]!;
    expect([dma.name, dma.start]).toEqual(["DMA", 1]);
    const zc = c.zones[dma.id]!;
    c.skip[0] = 1;
    c.trace = { visits: [], moves: [] };
    // kcompactd-like (not direct): fast_find_migrateblock runs at the zone start
    const x = new CompactControl(dma, zc, 9, MT_MOVABLE, MIGRATE_SYNC_LIGHT, {});
    x.migratePfn = 1;
    x.freePfn = 3584;
    const n = (c as unknown as { isolateMigratepages(x: CompactControl): number }).isolateMigratepages(x);
    // fast_find_migrateblock: high_pfn = pageblock_start(1 + ((3584 - 1) >> 1)) = 1536; the
    // Movable order-8 list holds 256 (the free half of block 0, below 1 MiB reserved), below
    // high_pfn but its block is skipped; orders 7..3 empty: 1 scanned, failed, no fast_start_pfn
    expect(x.fastSearchFail).toBe(1);
    // block [1, 512): pfn 1 is not aligned, so no skip test; 255 reserved pfns and the order-8
    // free block (one step) scanned, nothing isolated; no valid_page: the skip bit stays as it
    // was; the cached pfns move to pageblock_end_pfn(512) = 1024
    expect(c.trace.visits[0]).toEqual(["migrate", 1]);
    expect(n).toBe(0);
    expect(x.migratePfn).toBe(512);
    expect(x.totalMigrateScanned).toBe(1 + 256);
    expect(c.skip[0]).toBe(1);
    expect(zc.cachedMigrate).toEqual([1024, 1024]);
  });

  it("compact_init_migrate_pfn is 0 until a reset: a zone above pfn 0 starting at its first pfn is not a whole-zone run", () => {
    const e = quietX86(8192);
    const c = e.mem.compaction;
    const dma32 = e.mem.zones[1]!;
    expect([dma32.name, dma32.start]).toEqual(["DMA32", 4096]);
    const zc = c.zones[dma32.id]!;
    expect(zc.initMigrate).toBe(0);
    // order -1 (no suitability test), the cached scanners: migrate_pfn 4096 > 0, so the
    // scanners' meeting is COMPACT_PARTIAL_SKIPPED, not COMPACT_COMPLETE
    const x = new CompactControl(dma32, zc, -1, MT_MOVABLE, MIGRATE_SYNC_LIGHT, {});
    expect(c.compactZone(x)).toBe(COMPACT_PARTIAL_SKIPPED);
    // a flat zone starting at pfn 0: migrate_pfn 0 <= 0, whole_zone as before
    const f = quietEngine(1024);
    const fz = f.mem.compaction.zones[0]!;
    expect(f.mem.compaction.compactZone(new CompactControl(fz.zone, fz, -1, MT_MOVABLE, MIGRATE_SYNC_LIGHT, {}))).toBe(COMPACT_COMPLETE);
  });

  it("__reset_isolation_suitable clears a skip bit only where a sample is an LRU page (source side) or a free page (target side)", async () => {
    const { c, zc } = await holes([3104]);
    c.skip.fill(1);
    zc.blockskipFlush = true;
    c.resetIsolationSuitable(zc);
    // walk (0, 4095), (512, 3583), (1024, 3071), (1536, 2559): block 0's first sample is an LRU
    // page (source set: from then on either kind clears); block 7 is looked at as a target only
    // (no target found yet) and has no free sample: it stays skipped; block 6's sample 3104 is
    // free; blocks 1-5 have LRU samples
    expect(Array.from(c.skip)).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect([zc.initMigrate, zc.initFree, zc.cachedFree]).toEqual([0, 3583, 3583]);
    // the next compact_zone starts the free scanner at the unaligned 3583: fast_isolate_freepages
    // sees free_pfn >= compact_init_free_pfn (the scan's start); after the scanners meet,
    // reset_cached_positions puts it at pageblock_start_pfn(4095) = 3584 >= 3583 as well
  });

  it("isolate_freepages_block skips a huge page whole at its head (PageCompound)", async () => {
    const e = quietEngine(2048, { "transparent_hugepage.enabled": "always" });
    // a 4 KiB page first (outside any region): it splits the order-10 block at 0 and takes
    // pfn 0, leaving 512 on the order-9 list; the huge page fault then takes 512
    await runCsv(e, "time_ms,op,pid,addr,len,thp\n0,access,1,0x10000000,,\n0,mmap,1,0x40000000,2097152,1\n0,access,1,0x40000000,,\n");
    const p = e.mem.pages;
    const c = e.mem.compaction;
    const zc = c.zones[0]!;
    const thp = 512;
    expect(p.flags[thp]! & PG_HEAD && p.order[thp]).toBe(9);
    expect(p.flags[thp]! & PG_LRU).toBeTruthy();
    // the linear free scanner (order -1: no fast search) on the huge page's block alone, sync
    // (stride 1): the head is scanned and the other 511 pfns skipped at once
    const x = new CompactControl(zc.zone, zc, -1, MT_MOVABLE, MIGRATE_SYNC_LIGHT, {});
    x.migratePfn = thp - 512;
    x.freePfn = thp;
    x.nrMigratepages = 32;
    (c as unknown as { isolateFreepages(x: CompactControl): void }).isolateFreepages(x);
    expect(x.freepages).toEqual([]);
    expect(x.totalFreeScanned).toBe(1);
    // the whole block was scanned: update_pageblock_skip; the next search starts a block lower
    expect(c.skip[thp / 512]).toBe(1);
    expect(x.freePfn).toBe(thp - 512);
  });
});

describe("kcompactd_do_work's one compact_control for the node's zones", () => {
  it("carries whole_zone (and fast_search_fail, search_order) from DMA to DMA32; scanned totals start again per zone; GFP_KERNEL's migratetype", () => {
    const e = quietX86(8192);
    const c = e.mem.compaction;
    const [dma, dma32] = [e.mem.zones[0]!, e.mem.zones[1]!];
    // as if a reset had found DMA's first block a source: migrate_pfn 1 <= compact_init_migrate_pfn
    c.zones[dma.id]!.initMigrate = 1;
    // order -1 so that the runs are only the scanners meeting (no suitability test)
    const r1 = c.daemonCompact(dma, -1, 1);
    expect(r1.cc.migratetype).toBe(MT_UNMOVABLE);
    expect(r1.result).toBe(COMPACT_COMPLETE);
    r1.cc.fastSearchFail = 5;
    r1.cc.searchOrder = 2;
    const r2 = c.daemonCompact(dma32, -1, 1, r1.cc);
    expect(r2.cc).toBe(r1.cc);
    expect(r2.cc.zone).toBe(dma32);
    // DMA32's migrate_pfn 4096 > its compact_init_migrate_pfn (0), but whole_zone stays set:
    // COMPLETE, where a control of its own gives PARTIAL_SKIPPED (test above)
    expect(r2.result).toBe(COMPACT_COMPLETE);
    expect([r2.cc.fastSearchFail, r2.cc.searchOrder]).toEqual([5, 2]);
    // the totals are DMA32's alone: free blocks of order 10 at 4096, 5120, 6144 and 9 at 7168;
    // the migrate scanner, block by block up to the free scanner's (7680), skips a free block
    // whole from its head to the pageblock's end (1 scanned) and scans the second half of an
    // order-10 block pfn by pfn (512: not PageBuddy, not LRU): 1 + 512 + 1 + 512 + 1 + 512 + 1
    expect(r1.migrateScanned).toBeGreaterThan(0);
    expect(r2.migrateScanned).toBe(1540);
    expect(r2.freeScanned).toBe(0);
  });
});
