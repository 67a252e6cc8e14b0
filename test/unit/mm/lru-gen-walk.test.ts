/**
 * MGLRU's page-table walk with force_scan false (the Bloom filters, should_skip_mm) and
 * lru_gen_look_around (mm/vmscan.c, 6.1), on a real engine's processes and page tables.
 */
import { describe, expect, it } from "vitest";
import type { Engine } from "../../../src/engine/engine.js";
import { leafKey, suitableToScan } from "../../../src/mm/lru-gen.js";
import { PG_ACCESSED } from "../../../src/mm/pages.js";
import { V } from "../../../src/stats/counters.js";
import { engineFor, runCsv } from "../../helpers.js";

const BASE = 0x40000000; // vpn 0x40000: leaf 0x200 (512-aligned)
const LEAF_A = BASE / 4096 / 512;
const LEAF_B = LEAF_A + 1;

/** a 32 MiB node; pid 1 maps 1024 pages (leaves A and B) and touches them in order */
async function setup(extra: string[] = []): Promise<Engine> {
  const e = engineFor({ name: "t", nodes: [{ id: 0, mem: 8192, tier: 0, cpus: true }], tunables: {} }, {}, { "transparent_hugepage.enabled": "never" });
  const rows = ["time_ms,op,pid,addr,len", `0,mmap,1,${BASE},${1024 * 4096}`];
  for (let i = 0; i < 1024; i++) rows.push(`0,access,1,${BASE + i * 4096},`);
  await runCsv(e, [...rows, ...extra].join("\n") + "\n");
  return e;
}

/** the pfn pid 1 maps at page i of its region */
const pfnOf = (e: Engine, i: number, pid = 1) => {
  const mm = e.mem.procs.get(pid)!;
  const vpn = BASE / 4096 + i;
  return mm.leaf(Math.floor(vpn / 512))![vpn % 512]! - 1;
};
const touch = (e: Engine, from: number, to: number) => {
  for (let i = from; i < to; i++) e.mem.pages.flags[pfnOf(e, i)]! |= PG_ACCESSED;
};
const young = (e: Engine, i: number) => (e.mem.pages.flags[pfnOf(e, i)]! & PG_ACCESSED) !== 0;

describe("suitable_to_scan", () => {
  it("needs one young PTE per cache line of 8 PTEs on average", () => {
    expect(suitableToScan(512, 64)).toBe(true); // 64 * 8 = 512 >= 512
    expect(suitableToScan(512, 63)).toBe(false); // 504 < 512
    expect(suitableToScan(64, 8)).toBe(true);
    expect(suitableToScan(64, 7)).toBe(false);
  });
});

describe("the walk with force_scan false (try_to_inc_max_seq from reclaim)", () => {
  it("walks only the PTE tables its Bloom filter holds; a table walked with enough young PTEs goes into the next filter", async () => {
    const e = await setup();
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    const lru = e.mem.lru;
    const slot = e.mem.procs.get(1)!.slot;
    const A = leafKey(slot, LEAF_A);
    const B = leafKey(slot, LEAF_B);
    // walk 1 (max_seq 3): no filter yet, and pid 1 is new: both tables walked, all 512 + 512
    // young: both suitable, into the filter of max_seq + 1 = 4 (slot 0); every bit cleared
    lru.age(lv, 0, null, false);
    expect(lv.maxSeq).toBe(4);
    expect([...lv.bloom[0]!].sort()).toEqual([A, B]);
    expect(young(e, 0) || young(e, 700)).toBe(false);
    // 100 young in A (100 * 8 = 800 >= 512: suitable), 10 in B (80 < 512: not)
    touch(e, 0, 100);
    touch(e, 512, 522);
    // walk 2 (max_seq 4) tests filter 0 = {A, B}: both walked, bits cleared; filter 1 = {A}
    lru.age(lv, 0, null, false);
    expect(young(e, 50) || young(e, 515)).toBe(false);
    expect([...lv.bloom[1]!]).toEqual([A]);
    // 10 young in B again; walk 3 (max_seq 5) tests filter 1 = {A}: B is not walked, its bits
    // stay and its pages stay in their generation (max_seq 5 - 1 = 4, where walk 2 put them)
    touch(e, 512, 522);
    const seqBefore = lru.seqOf(lv, pfnOf(e, 515));
    lru.age(lv, 0, null, false);
    expect(young(e, 515)).toBe(true);
    expect(lru.seqOf(lv, pfnOf(e, 515))).toBe(seqBefore);
    // A was walked (no young PTE: not suitable): filter 0 of max_seq 6 is empty
    expect(lv.bloom[0]!.size).toBe(0);
    // force_scan (the workingset report's refresh) walks every table: B's bits go, and the
    // filters are dropped (the next reclaim walk tests none)
    lru.age(lv, 0, null, true);
    expect(young(e, 515)).toBe(false);
    expect(lv.bloom).toEqual([null, null]);
  });

  it("skips an mm with fewer than MIN_LRU_BATCH (64) anon and file pages, even when it is new (should_skip_mm)", async () => {
    const rows: string[] = [];
    for (let i = 0; i < 63; i++) rows.push(`1,access,2,${0x80000000 + i * 4096},`);
    const e = await setup(rows);
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    const mm2 = e.mem.procs.get(2)!;
    expect(mm2.rssAnon + mm2.rssFile).toBe(63);
    const p2 = mm2.leaf(0x80000000 / 4096 / 512)![0]! - 1;
    e.mem.lru.age(lv, 0, null, false);
    // pid 2's page keeps its accessed bit (its fault set it); pid 1's (1024 pages) lost theirs
    expect(e.mem.pages.flags[p2]! & PG_ACCESSED).toBe(PG_ACCESSED);
    expect(young(e, 3)).toBe(false);
  });

  it("force-scans an mm that came after the lruvec's last walk (iterate_mm_list's tail)", async () => {
    const e = await setup();
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    e.mem.lru.age(lv, 0, null, false); // walk 1: filter of the next walk = pid 1's A and B
    // pid 3 appears with 100 pages in one table (0x1000 page-aligned to its own leaf)
    const rows = ["time_ms,op,pid,addr,len", `1,mmap,3,${0x80000000},${100 * 4096}`];
    for (let i = 0; i < 100; i++) rows.push(`1,access,3,${0x80000000 + i * 4096},`);
    await runCsv(e, rows.join("\n") + "\n");
    const mm3 = e.mem.procs.get(3)!;
    const p3 = mm3.leaf(0x80000000 / 4096 / 512)![5]! - 1;
    // walk 2: pid 3's table is in no filter, but pid 3 is new: walked, its bits cleared
    e.mem.lru.age(lv, 0, null, false);
    expect(e.mem.pages.flags[p3]! & PG_ACCESSED).toBe(0);
    // 100 young of the table's 100 slots inside the VMA: suitable, into the next filter
    expect(lv.bloom[1]!.has(leafKey(mm3.slot, 0x80000000 / 4096 / 512))).toBe(true);
  });
});

describe("lru_gen_look_around", () => {
  it("promotes the young neighbours in a 64-PTE window around the page and feeds the Bloom filter", async () => {
    const e = await setup();
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    const lru = e.mem.lru;
    // two reclaim walks: the first, of a new mm, walks both tables; before the second pid 1
    // touches page 900 (it ran: the walk resets the next filter), which walks A and B again and
    // finds one young PTE (B's: 8 < 512, not suitable), so it leaves an empty filter. Every bit
    // cleared, the pages two generations below the youngest, the oldest once min_seq catches up
    lru.age(lv, 0, null, false);
    touch(e, 900, 901);
    lru.age(lv, 0, null, false);
    while (lru.tryIncMinSeq(lv, true));
    const oldest = lv.minSeq[0]!;
    expect(lru.seqOf(lv, pfnOf(e, 150))).toBe(oldest);
    expect(lv.bloom[lv.maxSeq % 2]!.size).toBe(0);
    touch(e, 100, 200);
    // page 150: table A [0, 512) in the VMA [0, 1024): 512 > 64 PTEs, 150 - 0 >= 32 and
    // 512 - 150 >= 32: the window is [150 - 32, 150 + 32) = [118, 182): 64 PTEs, all young
    const moved = lru.lookAround(lv, pfnOf(e, 150));
    // the 63 neighbours go to max_seq from the oldest generation; page 150 itself stays for
    // the caller (it is the one being reclaimed); all 64 bits cleared
    expect(moved).toBe(63);
    expect(lru.seqOf(lv, pfnOf(e, 118))).toBe(lv.maxSeq);
    expect(lru.seqOf(lv, pfnOf(e, 181))).toBe(lv.maxSeq);
    expect(lru.seqOf(lv, pfnOf(e, 150))).toBe(oldest);
    expect([young(e, 118), young(e, 150), young(e, 181)]).toEqual([false, false, false]);
    // outside the window: still young, still oldest
    expect([young(e, 117), young(e, 182)]).toEqual([true, true]);
    expect(lru.seqOf(lv, pfnOf(e, 117))).toBe(oldest);
    // 64 young of 64: suitable, so table A goes into the filter of max_seq
    expect(lv.bloom[lv.maxSeq % 2]!.has(leafKey(e.mem.procs.get(1)!.slot, LEAF_A))).toBe(true);
  });

  it("eviction meeting a young page activates it (max_seq, pgactivate) and counts the neighbours it promoted out of the oldest generation (pgrefill)", async () => {
    const e = await setup();
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    const lru = e.mem.lru;
    lru.age(lv, 0, null, true);
    lru.age(lv, 0, null, true);
    while (lru.tryIncMinSeq(lv, true));
    // the oldest generation's tail is the first page faulted (page 0); pages 0..9 young
    touch(e, 0, 10);
    const before = e.mem.vmstat();
    // one page to reclaim: page 0 is young: look-around over [0, 64) (0 - 0 < 32: end = 64)
    // promotes pages 1..9 (pgrefill 9) and marks page 0 itself referenced (isolated:
    // folio_lru_gen < 0), so folio_check_references sees referenced_ptes 1 and PG_referenced:
    // FOLIOREF_ACTIVATE (pgactivate 1), back at max_seq; then page 10, old, is swapped out:
    // reclaimed 1
    expect(e.mem.reclaim.shrinkLruvec(lv, 1, true)).toBe(1);
    const v = e.mem.vmstat();
    expect(v[V.pgactivate]! - before[V.pgactivate]!).toBe(1);
    expect(v[V.pgrefill]! - before[V.pgrefill]!).toBe(9);
    expect(v[V.pswpout]! - before[V.pswpout]!).toBe(1);
    expect(lru.seqOf(lv, pfnOf(e, 0))).toBe(lv.maxSeq);
    expect(e.mem.pages.flags[pfnOf(e, 10)]! & PG_ACCESSED).toBe(0);
  });
});
