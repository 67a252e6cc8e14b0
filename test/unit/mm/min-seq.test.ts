/**
 * try_to_inc_min_seq and isolate_folios' fallback (mm/vmscan.c, 6.1): with swap, anon's
 * min_seq never passes file's and file's moves only as far as anon's, so a file generation
 * emptied first is not left behind; eviction goes on with that generation's anon pages.
 */
import { describe, expect, it } from "vitest";
import type { Engine } from "../../../src/engine/engine.js";
import { ANON, FILE, type Lruvec } from "../../../src/mm/lru-gen.js";
import { V } from "../../../src/stats/counters.js";
import { counters, engineFor, runCsv } from "../../helpers.js";

/** a 32 MiB node; pid 1 faults 8 anon pages then 8 file pages (kind=file): all in max_seq 3 */
async function setup(): Promise<Engine> {
  const e = engineFor({ name: "t", nodes: [{ id: 0, mem: 8192, tier: 0, cpus: true }], tunables: {} }, {}, { "transparent_hugepage.enabled": "never" });
  const rows = ["time_ms,op,pid,addr,len,kind", "0,mmap,1,0x40000000,32768,anon", "0,mmap,1,0x50000000,32768,file"];
  for (let i = 0; i < 8; i++) rows.push(`0,access,1,${0x40000000 + i * 4096},,`);
  for (let i = 0; i < 8; i++) rows.push(`0,access,1,${0x50000000 + i * 4096},,`);
  await runCsv(e, rows.join("\n") + "\n");
  return e;
}

/** two agings (the faulted pages stay in max_seq 3, bits cleared; max_seq 5), then try_to_inc_min_seq: 3 */
function ageTwice(e: Engine, lv: Lruvec): void {
  e.mem.lru.age(lv, 0, null, true);
  e.mem.lru.age(lv, 0, null, true);
  e.mem.lru.tryIncMinSeq(lv, true);
}

/** the file pages of generation 3 moved to 4: file's oldest generation empty, anon's not */
function fileTo4(e: Engine, lv: Lruvec): void {
  const lru = e.mem.lru;
  for (let pfn = 0; pfn < e.mem.pages.nrPages; pfn++) if (lru.lruvecOfPfn(pfn) === lv && lru.typeOf(pfn) === FILE && lru.seqOf(lv, pfn) === 3) lru.move(lv, pfn, 4);
}

/** a 32 MiB node with THP on and `swap` slots; pid 1's one huge page faulted into max_seq 3 */
async function hugeEngine(swap?: number): Promise<Engine> {
  const e = engineFor({ name: "t", nodes: [{ id: 0, mem: 8192, tier: 0, cpus: true }], tunables: {}, ...(swap === undefined ? {} : { swap }) }, {}, { "transparent_hugepage.enabled": "always" });
  await runCsv(e, "time_ms,op,pid,addr,len\n0,mmap,1,0x40000000,2097152\n0,access,1,0x40000000,\n");
  return e;
}

/** the change of each counter in `names` across run() */
function deltas(e: Engine, names: string[], run: () => void): Record<string, number> {
  const before = counters(e, names);
  run();
  const after = counters(e, names);
  return Object.fromEntries(names.map((k) => [k, after[k]! - before[k]!]));
}

describe("try_to_inc_min_seq", () => {
  it("moves each type past its empty generations, anon never past file, file no further than anon", async () => {
    const e = await setup();
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    const lru = e.mem.lru;
    // two agings: the faulted pages are young in max_seq 3, stay there (bits cleared); max_seq 5
    lru.age(lv, 0, null, true);
    lru.age(lv, 0, null, true);
    expect([lv.maxSeq, lv.pagesIn(ANON, 3), lv.pagesIn(FILE, 3)]).toEqual([5, 8, 8]);
    // inc_max_seq keeps MAX_NR_GENS (4) generations: inc_min_seq took both to 2
    expect([...lv.minSeq]).toEqual([2, 2]);
    // generation 2 empty for both: both move to 3 (non-empty; 3 + MIN_NR_GENS <= 5 too)
    expect(lru.tryIncMinSeq(lv, true)).toBe(true);
    expect([...lv.minSeq]).toEqual([3, 3]);
    // the file pages move on to generation 4: file's oldest (3) is empty, anon's is not.
    // Alone, file would move to 4; coupled, max(min(3, 4), 3) = 3: nothing moves
    fileTo4(e, lv);
    expect([lv.pagesIn(FILE, 3), lv.pagesIn(FILE, 4)]).toEqual([0, 8]);
    expect(lru.tryIncMinSeq(lv, true)).toBe(false);
    expect([...lv.minSeq]).toEqual([3, 3]);
    // without swap (swappiness 0, no device) file goes alone: 3 -> 4 (4 + 2 > 5 stops it)
    expect(lru.tryIncMinSeq(lv, false)).toBe(true);
    expect([...lv.minSeq]).toEqual([3, 4]);
  });

  it("isolate_folios: file's oldest generation empty, its anon pages are evicted next", async () => {
    const e = await setup();
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    ageTwice(e, lv);
    fileTo4(e, lv);
    // get_type_to_scan picks file (no refaults yet); its generation 3 is empty, so anon's is
    // scanned: two pages reclaimed, both anon, both swapped out (each isolated twice)
    let got = -1;
    const d = deltas(e, ["pgsteal_anon", "pgsteal_file", "pswpout"], () => (got = e.mem.reclaim.shrinkLruvec(lv, 2, true)));
    expect(got).toBe(2);
    expect(d).toEqual({ pgsteal_anon: 2, pgsteal_file: 0, pswpout: 2 });
    expect([...lv.minSeq]).toEqual([3, 3]);
  });
});

describe("scan_folios counts a folio's pages", () => {
  it("a huge page found young at eviction is 512 in pgscan, kept (no pgactivate), to max_seq", async () => {
    const e = await hugeEngine();
    expect(e.mem.vmstat()[V.thp_fault_alloc]).toBe(1);
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    const lru = e.mem.lru;
    // two agings leave the huge page (faulted into max_seq 3) in generation 3, bits cleared
    ageTwice(e, lv);
    let head = -1;
    for (let pfn = 0; pfn < e.mem.pages.nrPages && head < 0; pfn++) if (lru.lruvecOfPfn(pfn) === lv && lru.nrOf(pfn) === 512) head = pfn;
    expect([lv.minSeq[ANON], lru.seqOf(lv, head)]).toEqual([3, 3]);
    // a touch of one of its pages: the PMD is young
    await runCsv(e, "time_ms,op,pid,addr,len\n1,access,1,0x40001000,\n");
    // one isolation (the scan budget is 1): 512 scanned, nothing reclaimed
    let got = -1;
    const d = deltas(e, ["pgscan_kswapd", "pgscan_anon", "pgactivate"], () => (got = e.mem.reclaim.shrinkLruvec(lv, 1, true, 1)));
    expect(got).toBe(0);
    expect(d).toEqual({ pgscan_kswapd: 512, pgscan_anon: 512, pgactivate: 0 });
    expect(e.mem.reclaim.lastScanned).toBe(512);
    expect(lru.seqOf(lv, head)).toBe(lv.maxSeq);
  });
});

describe("an anon huge page swapped out whole (shrink_folio_list's add_to_swap of a THP)", () => {
  /** pid 1's one huge page, aged into min_seq with its bit clear; `swap` slots on the machine */
  async function oldHuge(swap: number): Promise<Engine> {
    const e = await hugeEngine(swap);
    ageTwice(e, e.mem.memcgs.root.lruvecs[0]!);
    return e;
  }
  const THP = ["thp_split_pmd", "thp_split_page", "thp_swpout", "thp_swpout_fallback", "pswpout", "pgscan_kswapd", "pgsteal_kswapd"];

  it("with a free cluster (512 slots): thp_swpout, only the PMD split; its 512 pages written and freed", async () => {
    const e = await oldHuge(4096);
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    let got = -1;
    const d = deltas(e, THP, () => (got = e.mem.reclaim.shrinkLruvec(lv, 512, true)));
    expect(got).toBe(512);
    // 512 isolated once each, written, then isolated again after writeback's rotation: 1024
    expect(d).toEqual({ thp_split_pmd: 1, thp_split_page: 0, thp_swpout: 1, thp_swpout_fallback: 0, pswpout: 512, pgscan_kswapd: 1024, pgsteal_kswapd: 512 });
  });

  it("without one (fewer than 512 free slots): thp_swpout_fallback, the folio split (thp_split_page), pages one by one", async () => {
    const e = await oldHuge(300);
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    // get_swappiness stops anon once fewer than 64 slots are free: 300 - 236 = 64, so 237 go
    let got = -1;
    const d = deltas(e, THP, () => (got = e.mem.reclaim.shrinkLruvec(lv, 512, true)));
    expect(got).toBe(237);
    expect(d).toEqual({ thp_split_pmd: 1, thp_split_page: 1, thp_swpout: 0, thp_swpout_fallback: 1, pswpout: 237, pgscan_kswapd: 474, pgsteal_kswapd: 237 });
  });
});
