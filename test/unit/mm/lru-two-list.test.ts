/**
 * The classic two-list LRU (lru_gen.enabled=0, src/mm/lru-two-list.ts) on scripted access
 * patterns, every expectation worked out by hand from 6.1's mm/vmscan.c, mm/swap.c and
 * mm/workingset.c rules (see each test's comments).
 */
import { describe, expect, it } from "vitest";
import { UsageError } from "../../../src/errors.js";
import { checkMemory } from "../../../src/mm/check.js";
import {
  inactiveIsLowCounts, intSqrt, LRU_ACTIVE_ANON, LRU_INACTIVE_ANON, LRU_INACTIVE_FILE, newScanControl, SCAN_EQUAL, SCAN_FILE, SCAN_FRACT, scanFractions,
} from "../../../src/mm/lru-two-list.js";
import { PG_REFERENCED, PG_WORKINGSET } from "../../../src/mm/pages.js";
import type { WsimPluginApi } from "../../../src/plugin/api.js";
import { counters, dataErrorOf, engineFor, quietEngine, runCsv } from "../../helpers.js";

const ANON_BASE = 0x10000000;
const FILE_BASE = 0x40000000;
const HEADER = "time_ms,op,pid,addr,len,rw,kind,cg,key,value";
const touch = (t: number, addr: number) => `${t},access,1,${addr},,w,,,,`;
const read = (t: number, addr: number) => `${t},access,1,${addr},,r,,,,`;

/** The pfn mapped at vpn by pid 1 (its PTE holds pfn + 1). */
function pfnOf(e: ReturnType<typeof quietEngine>, vpn: number): number {
  return e.mem.procs.get(1)!.leaf(Math.floor(vpn / 512))![vpn % 512]! - 1;
}

/** A 1024-page machine with the two-list LRU (swap: twice memory), no watermarks. */
function classic(extra: Record<string, string> = {}) {
  return quietEngine(1024, { "lru_gen.enabled": "0", ...extra });
}

const C = ["pgscan_kswapd", "pgsteal_kswapd", "pgactivate", "pgdeactivate", "pgrefill", "pswpout", "nr_active_anon", "nr_inactive_anon", "nr_active_file", "nr_inactive_file"];

describe("the two-list LRU's pure rules", () => {
  it("inactive_is_low: ratio int_sqrt(10 * GiB), 1 below 1 GiB", () => {
    expect(intSqrt(10)).toBe(3);
    expect(intSqrt(100)).toBe(10);
    expect(intSqrt(99)).toBe(9);
    // below 1 GiB (262144 pages) the ratio is 1: low when inactive < active
    expect(inactiveIsLowCounts(99, 100)).toBe(true);
    expect(inactiveIsLowCounts(100, 100)).toBe(false);
    // exactly 1 GiB: gb = 1, ratio 3: 65536 * 3 = 196608 is not < 196608
    expect(inactiveIsLowCounts(65536, 196608)).toBe(false);
    // one page more: still gb = 1, 196608 < 196609
    expect(inactiveIsLowCounts(65536, 196609)).toBe(true);
    // 10 GiB (2621440 pages): ratio 10
    expect(inactiveIsLowCounts(238313, 2383130)).toBe(false);
    expect(inactiveIsLowCounts(238313, 2383131)).toBe(true);
  });

  it("get_scan_count's SCAN_FRACT fractions with the kernel's integer arithmetic", () => {
    // swappiness 60, anon_cost 10, file_cost 30: total 40; anon 40+10 = 50, file 40+30 = 70;
    // total 120; ap = 60*121/51 = 7260/51 = 142; fp = 140*121/71 = 16940/71 = 238
    expect(scanFractions(60, 10, 30)).toEqual([142, 238]);
    // no cost yet: total 0, ap = 60*1/1, fp = 140*1/1
    expect(scanFractions(60, 0, 0)).toEqual([60, 140]);
    // swappiness 0: no anon pressure at all
    expect(scanFractions(0, 5, 5)[0]).toBe(0);
  });
});

describe("the two-list LRU on an engine (lru_gen.enabled=0)", () => {
  it("a new anon fault goes to the inactive list; a page seen young twice is activated (pgactivate)", async () => {
    const e = classic();
    // a0..a3 faulted in order: each onto the inactive head, young (the fault's access)
    await runCsv(e, [HEADER, `0,mmap,1,${ANON_BASE},16384,,anon,,,`, ...[0, 1, 2, 3].map((i) => touch(0, ANON_BASE + i * 4096))].join("\n"));
    expect(counters(e, ["nr_inactive_anon", "nr_active_anon"])).toEqual({ nr_inactive_anon: 4, nr_active_anon: 0 });
    const tl = e.mem.reclaim.twoList;
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    // first scan: each page young, PG_referenced clear -> PG_referenced set, kept (FOLIOREF_KEEP)
    let sc = newScanControl(true, 12, 32);
    expect(tl.shrinkInactiveList(4, lv, sc, LRU_INACTIVE_ANON)).toBe(0);
    expect(sc.nrScanned).toBe(4);
    const pfns = [0, 1, 2, 3].map((i) => pfnOf(e, ANON_BASE / 4096 + i));
    for (const p of pfns) expect(e.mem.pages.mflags[p]! & PG_REFERENCED).toBe(PG_REFERENCED);
    // a1 and a2 are touched again; the second scan activates them (young + PG_referenced) and
    // reclaims a0 and a3 (not young, PG_referenced cleared by the check: swapped out)
    await runCsv(e, [HEADER, touch(1, ANON_BASE + 4096), touch(1, ANON_BASE + 2 * 4096)].join("\n"));
    sc = newScanControl(true, 12, 32);
    expect(tl.shrinkInactiveList(4, lv, sc, LRU_INACTIVE_ANON)).toBe(2);
    expect(counters(e, C)).toEqual({
      pgscan_kswapd: 8, pgsteal_kswapd: 2, pgactivate: 2, pgdeactivate: 0, pgrefill: 0, pswpout: 2,
      nr_active_anon: 2, nr_inactive_anon: 0, nr_active_file: 0, nr_inactive_file: 0,
    });
    // two pages written to swap: lru_note_cost(anon, 2) makes anon_cost 2, above a quarter of
    // the 2 pages left on the lists (2 / 4 = 0), so both costs are halved: 1
    expect(lv.cost).toEqual([1, 0]);
    expect(checkMemory(e.mem.mappingView())).toBeNull();
  });

  it("shrink_active_list deactivates when the inactive list is low (pgrefill, pgdeactivate, PG_workingset)", async () => {
    const e = classic();
    await runCsv(e, [HEADER, `0,mmap,1,${ANON_BASE},24576,,anon,,,`, ...[0, 1, 2, 3, 4, 5].map((i) => touch(0, ANON_BASE + i * 4096))].join("\n"));
    const tl = e.mem.reclaim.twoList;
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    // two scans with every page touched in between: all six become active
    tl.shrinkInactiveList(32, lv, newScanControl(true, 12, 32), LRU_INACTIVE_ANON);
    await runCsv(e, [HEADER, ...[0, 1, 2, 3, 4, 5].map((i) => touch(1, ANON_BASE + i * 4096))].join("\n"));
    tl.shrinkInactiveList(32, lv, newScanControl(true, 12, 32), LRU_INACTIVE_ANON);
    expect(counters(e, ["pgactivate", "nr_active_anon", "nr_inactive_anon"])).toEqual({ pgactivate: 6, nr_active_anon: 6, nr_inactive_anon: 0 });
    // inactive 0 * ratio 1 < active 6: low. kswapd_age_node deactivates SWAP_CLUSTER_MAX (all six)
    expect(tl.inactiveIsLow(lv, LRU_INACTIVE_ANON)).toBe(true);
    tl.ageNode(0, newScanControl(true, 12, 32));
    expect(counters(e, C)).toEqual({
      pgscan_kswapd: 12, pgsteal_kswapd: 0, pgactivate: 6, pgdeactivate: 6, pgrefill: 6, pswpout: 0,
      nr_active_anon: 0, nr_inactive_anon: 6, nr_active_file: 0, nr_inactive_file: 0,
    });
    const p = pfnOf(e, ANON_BASE / 4096);
    expect(e.mem.pages.mflags[p]! & PG_WORKINGSET).toBe(PG_WORKINGSET);
    // now balanced (6 inactive, 0 active): not low, a second ageNode does nothing
    tl.ageNode(0, newScanControl(true, 12, 32));
    expect(counters(e, ["pgrefill", "pgdeactivate"])).toEqual({ pgrefill: 6, pgdeactivate: 6 });
    // shrink_active_list of 2 pages from an active list of 6 isolates the 2 at the tail only
    await runCsv(e, [HEADER, ...[0, 1, 2, 3, 4, 5].map((i) => touch(2, ANON_BASE + i * 4096))].join("\n"));
    tl.shrinkInactiveList(32, lv, newScanControl(true, 12, 32), LRU_INACTIVE_ANON); // young + referenced: all active again
    tl.shrinkActiveList(2, lv, newScanControl(true, 12, 32), LRU_ACTIVE_ANON);
    expect(counters(e, ["pgrefill", "pgdeactivate", "nr_active_anon", "nr_inactive_anon"])).toEqual({ pgrefill: 8, pgdeactivate: 8, nr_active_anon: 4, nr_inactive_anon: 2 });
    expect(checkMemory(e.mem.mappingView())).toBeNull();
  });

  it("get_scan_count splits a hand-computed case (SCAN_FRACT, SCAN_EQUAL at priority 0, SCAN_FILE without may_swap)", async () => {
    const e = classic();
    // 400 anon and 100 file pages, all inactive (faults)
    const lines = [HEADER, `0,mmap,1,${ANON_BASE},${400 * 4096},,anon,,,`, `0,mmap,1,${FILE_BASE},${100 * 4096},,file,,,`];
    for (let i = 0; i < 400; i++) lines.push(touch(0, ANON_BASE + i * 4096));
    for (let i = 0; i < 100; i++) lines.push(read(0, FILE_BASE + i * 4096));
    await runCsv(e, lines.join("\n"));
    const tl = e.mem.reclaim.twoList;
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    const nr = new Float64Array(4);
    const sc = newScanControl(true, 2, 32);
    sc.anonCost = 10;
    sc.fileCost = 30;
    tl.getScanCount(lv, sc, nr);
    // fractions [142, 238] of 380 (above); anon 400 >> 2 = 100 -> 100*142/380 = 37;
    // file 100 >> 2 = 25 -> 25*238/380 = 15; the active lists are empty
    expect(tl.lastScanBalance).toBe(SCAN_FRACT);
    expect([...nr]).toEqual([37, 0, 15, 0]);
    // priority 0 with swappiness: SCAN_EQUAL, every list whole
    sc.priority = 0;
    tl.getScanCount(lv, sc, nr);
    expect(tl.lastScanBalance).toBe(SCAN_EQUAL);
    expect([...nr]).toEqual([400, 0, 100, 0]);
    // may_swap clear (boosted kswapd): file only
    const boosted = newScanControl(true, 2, 32, false);
    tl.getScanCount(lv, boosted, nr);
    expect(tl.lastScanBalance).toBe(SCAN_FILE);
    expect([...nr]).toEqual([0, 0, 25, 0]);
    // prepare_scan_count: 100 inactive file >> 2 = 25 and no deactivation wanted -> cache_trim_mode -> SCAN_FILE
    const fresh = newScanControl(true, 2, 32);
    tl.prepareScanCount(0, fresh);
    expect(fresh.cacheTrimMode).toBe(true);
    expect(fresh.mayDeactivate).toBe(0);
    tl.getScanCount(lv, fresh, nr);
    expect([...nr]).toEqual([0, 0, 25, 0]);
  });

  it("a refault within the workingset size is activated (workingset_activate_file); one beyond it is not", async () => {
    const e = classic();
    // 2 anon pages (inactive: the workingset size of a file refault with swap) and 4 file pages
    const lines = [HEADER, `0,mmap,1,${ANON_BASE},8192,,anon,,,`, `0,mmap,1,${FILE_BASE},16384,,file,,,`];
    for (let i = 0; i < 2; i++) lines.push(touch(0, ANON_BASE + i * 4096));
    for (let i = 0; i < 4; i++) lines.push(read(0, FILE_BASE + i * 4096));
    await runCsv(e, lines.join("\n"));
    const tl = e.mem.reclaim.twoList;
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    // scan 1 keeps f0..f3 (young, PG_referenced set); scan 2 reclaims them from the tail: f0
    // first (eviction = nonresident_age 0), f1 (1), f2 (2), f3 (3); nonresident_age ends at 4
    tl.shrinkInactiveList(32, lv, newScanControl(true, 12, 32), LRU_INACTIVE_FILE);
    expect(tl.shrinkInactiveList(32, lv, newScanControl(true, 12, 32), LRU_INACTIVE_FILE)).toBe(4);
    expect(lv.nonresidentAge).toBe(4);
    // f0 refaults: distance 4 - 0 = 4 > workingset size (active file 0 + active anon 0 +
    // inactive anon 2) = 2: counted, not activated
    await runCsv(e, [HEADER, read(1, FILE_BASE)].join("\n"));
    expect(counters(e, ["workingset_refault_file", "workingset_activate_file", "workingset_restore_file", "nr_active_file", "nr_inactive_file"]))
      .toEqual({ workingset_refault_file: 1, workingset_activate_file: 0, workingset_restore_file: 0, nr_active_file: 0, nr_inactive_file: 1 });
    // f3 refaults: distance 4 - 3 = 1 <= 2: activated (onto the active list, no pgactivate), nonresident_age 5
    await runCsv(e, [HEADER, read(2, FILE_BASE + 3 * 4096)].join("\n"));
    expect(counters(e, ["workingset_refault_file", "workingset_activate_file", "workingset_restore_file", "nr_active_file", "nr_inactive_file", "pgactivate"]))
      .toEqual({ workingset_refault_file: 2, workingset_activate_file: 1, workingset_restore_file: 0, nr_active_file: 1, nr_inactive_file: 1, pgactivate: 0 });
    expect(lv.nonresidentAge).toBe(5);
    expect(checkMemory(e.mem.mappingView())).toBeNull();
  });

  it("a refault of a page deactivated before eviction counts workingset_restore and notes its cost", async () => {
    // page-cluster 0: the swap-in reads one page, no neighbour refaults with it
    const e = classic({ "vm.page-cluster": "0" });
    const lines = [HEADER, `0,mmap,1,${ANON_BASE},8192,,anon,,,`, `0,mmap,1,${FILE_BASE},16384,,file,,,`];
    for (let i = 0; i < 2; i++) lines.push(touch(0, ANON_BASE + i * 4096));
    for (let i = 0; i < 4; i++) lines.push(read(0, FILE_BASE + i * 4096));
    await runCsv(e, lines.join("\n"));
    const tl = e.mem.reclaim.twoList;
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    // a0, a1 kept (PG_referenced), touched, activated (young + referenced): nonresident_age 2
    tl.shrinkInactiveList(32, lv, newScanControl(true, 12, 32), LRU_INACTIVE_ANON);
    await runCsv(e, [HEADER, touch(1, ANON_BASE), touch(1, ANON_BASE + 4096)].join("\n"));
    tl.shrinkInactiveList(32, lv, newScanControl(true, 12, 32), LRU_INACTIVE_ANON);
    expect(lv.nonresidentAge).toBe(2);
    // deactivated (young bits cleared, PG_workingset set); then reclaimed (not young,
    // PG_referenced from the activation scan cleared): a0 evicted at age 2, a1 at 3
    tl.shrinkActiveList(32, lv, newScanControl(true, 12, 32), LRU_ACTIVE_ANON);
    expect(tl.shrinkInactiveList(32, lv, newScanControl(true, 12, 32), LRU_INACTIVE_ANON)).toBe(2);
    expect(lv.nonresidentAge).toBe(4);
    // lru_note_cost(anon, 2): 2 > (4 file pages left) / 4 = 1, halved to 1
    expect(lv.cost).toEqual([1, 0]);
    // a0 refaults: distance 4 - 2 = 2; an anon refault's workingset size is active file 0 +
    // inactive file 4 + (swap free) active anon 0 = 4: activated, and it was active before
    // eviction (PG_workingset in the shadow): workingset_restore_anon, lru_note_cost(anon, 1)
    // -> anon_cost 2 > (4 file + 1 anon) / 4 = 1, halved to 1
    await runCsv(e, [HEADER, touch(2, ANON_BASE)].join("\n"));
    expect(counters(e, ["workingset_refault_anon", "workingset_activate_anon", "workingset_restore_anon", "nr_active_anon", "nr_inactive_anon"]))
      .toEqual({ workingset_refault_anon: 1, workingset_activate_anon: 1, workingset_restore_anon: 1, nr_active_anon: 1, nr_inactive_anon: 0 });
    expect(lv.cost).toEqual([1, 0]);
    expect(lv.nonresidentAge).toBe(5);
    expect(e.mem.pages.mflags[pfnOf(e, ANON_BASE / 4096)]! & PG_WORKINGSET).toBe(PG_WORKINGSET);
    // a1 refaults: distance 5 - 3 = 2 <= 4 + active anon 1 = 5: activated, restored too
    await runCsv(e, [HEADER, touch(3, ANON_BASE + 4096)].join("\n"));
    expect(counters(e, ["workingset_refault_anon", "workingset_activate_anon", "workingset_restore_anon", "nr_active_anon"]))
      .toEqual({ workingset_refault_anon: 2, workingset_activate_anon: 2, workingset_restore_anon: 2, nr_active_anon: 2 });
    expect(checkMemory(e.mem.mappingView())).toBeNull();
  });

  it("swappiness 0 scans no anon while file is plentiful", async () => {
    const e = classic({ "vm.swappiness": "0" });
    const lines = [HEADER, `0,mmap,1,${ANON_BASE},${100 * 4096},,anon,,,`, `0,mmap,1,${FILE_BASE},${400 * 4096},,file,,,`];
    for (let i = 0; i < 100; i++) lines.push(touch(0, ANON_BASE + i * 4096));
    for (let i = 0; i < 400; i++) lines.push(read(0, FILE_BASE + i * 4096));
    await runCsv(e, lines.join("\n"));
    const tl = e.mem.reclaim.twoList;
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    // SCAN_FRACT with swappiness 0: ap = 0, so anon gets 0 whatever its size; file whole
    const sc = newScanControl(true, 2, 32);
    const nr = new Float64Array(4);
    tl.getScanCount(lv, sc, nr);
    expect(tl.lastScanBalance).toBe(SCAN_FRACT);
    // fractions [0, 200*1/1 = 200]: file 400 >> 2 = 100 -> 100*200/200 = 100
    expect([...nr]).toEqual([0, 0, 100, 0]);
    // whole priority passes from 12 down to 1: anon is never scanned nor swapped
    for (let prio = 12; prio >= 1; prio--) e.mem.reclaim.shrinkNodePriority(0, prio, 1000, true, true, () => false);
    const v = counters(e, ["pgscan_anon", "pswpout", "pgscan_file", "pgsteal_file"]);
    expect(v.pgscan_anon).toBe(0);
    expect(v.pswpout).toBe(0);
    expect(v.pgscan_file).toBeGreaterThan(0);
    expect(checkMemory(e.mem.mappingView())).toBeNull();
  });

  it("mark_page_accessed: PG_referenced first, activation (pgactivate) on the second call", async () => {
    const e = classic();
    await runCsv(e, [HEADER, `0,mmap,1,${FILE_BASE},4096,,file,,,`, read(0, FILE_BASE)].join("\n"));
    const p = pfnOf(e, FILE_BASE / 4096);
    const tl = e.mem.reclaim.twoList;
    tl.markPageAccessed(p);
    expect(counters(e, ["pgactivate", "nr_active_file"])).toEqual({ pgactivate: 0, nr_active_file: 0 });
    tl.markPageAccessed(p);
    expect(counters(e, ["pgactivate", "nr_active_file", "nr_inactive_file"])).toEqual({ pgactivate: 1, nr_active_file: 1, nr_inactive_file: 0 });
    expect(e.mem.pages.mflags[p]! & PG_REFERENCED).toBe(0);
  });

  it("MADV_COLD deactivates only active pages without MGLRU (lru_deactivate_fn), clearing PG_referenced", async () => {
    const e = classic();
    const HDR = "time_ms,op,pid,addr,len,rw,kind,advice";
    await runCsv(e, [HDR, `0,mmap,1,${ANON_BASE},16384,,anon,`, ...[0, 1, 2, 3].map((i) => `0,access,1,${ANON_BASE + i * 4096},,w,,`)].join("\n"));
    const tl = e.mem.reclaim.twoList;
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    // a0..a3 kept by a first scan (PG_referenced set); a0 and a1 touched, and a scan of the 2
    // pages at the tail (a0, a1) activates them; a2 and a3 stay inactive with PG_referenced
    tl.shrinkInactiveList(32, lv, newScanControl(true, 12, 32), LRU_INACTIVE_ANON);
    await runCsv(e, [HDR, ...[0, 1].map((i) => `1,access,1,${ANON_BASE + i * 4096},,w,,`)].join("\n"));
    tl.shrinkInactiveList(2, lv, newScanControl(true, 12, 32), LRU_INACTIVE_ANON);
    expect(counters(e, ["nr_active_anon", "nr_inactive_anon", "pgdeactivate"])).toEqual({ nr_active_anon: 2, nr_inactive_anon: 2, pgdeactivate: 0 });
    // MADV_COLD over all four: the two active ones move (pgdeactivate 2), the two inactive stay;
    // every PG_referenced cleared
    await runCsv(e, [HDR, `2,madvise,1,${ANON_BASE},16384,,,cold`].join("\n"));
    expect(counters(e, ["nr_active_anon", "nr_inactive_anon", "pgdeactivate"])).toEqual({ nr_active_anon: 0, nr_inactive_anon: 4, pgdeactivate: 2 });
    for (let i = 0; i < 4; i++) expect(e.mem.pages.mflags[pfnOf(e, ANON_BASE / 4096 + i)]! & PG_REFERENCED).toBe(0);
  });

  it("an anon huge page is swapped out whole with a free cluster (thp_swpout), else split (thp_swpout_fallback)", async () => {
    const K = ["thp_split_pmd", "thp_split_page", "thp_swpout", "thp_swpout_fallback", "pswpout", "pgscan_kswapd", "pgsteal_kswapd", "nr_inactive_anon"];
    const huge = async (swap: number) => {
      const e = engineFor({ name: "t", nodes: [{ id: 0, mem: 8192, tier: 0, cpus: true }], tunables: {}, swap }, {}, { "transparent_hugepage.enabled": "always", "lru_gen.enabled": "0" });
      await runCsv(e, "time_ms,op,pid,addr,len\n0,mmap,1,0x40000000,2097152\n0,access,1,0x40000000,\n");
      // the fault's huge page on the inactive anon list (lru_cache_add_inactive_or_unevictable)
      expect(counters(e, ["thp_fault_alloc", "nr_inactive_anon"])).toEqual({ thp_fault_alloc: 1, nr_inactive_anon: 512 });
      // one kswapd pass at priority 0: nr[inactive anon] = 512 >> 0, taken SWAP_CLUSTER_MAX (32) at
      // a time, and isolate_lru_folios counts a folio's pages, so 16 batches: the 1st isolates
      // the folio (512) with its PTE young (FOLIOREF_KEEP, PG_referenced set), the 2nd isolates it
      // again (512) and gives it to add_to_swap, the other 14 isolate 32 of its pages each (448),
      // written and freed (wsim frees a page once its write is issued)
      e.mem.reclaim.shrinkNodePriority(0, 0, 512, true, true, () => false);
      return counters(e, K);
    };
    // 4096 slots: a cluster is free; 512 + 512 + 448 isolations, 448 written, 64 left inactive
    expect(await huge(4096)).toEqual({ thp_split_pmd: 1, thp_split_page: 0, thp_swpout: 1, thp_swpout_fallback: 0, pswpout: 448, pgscan_kswapd: 1472, pgsteal_kswapd: 448, nr_inactive_anon: 64 });
    // 300 slots: no cluster: split_folio_to_list, then pages one by one until swap is full (300 of the 448)
    const small = await huge(300);
    expect({ ...small, pgscan_kswapd: undefined, nr_inactive_anon: undefined }).toEqual({ thp_split_pmd: 1, thp_split_page: 1, thp_swpout: 0, thp_swpout_fallback: 1, pswpout: 300, pgscan_kswapd: undefined, pgsteal_kswapd: 300, nr_inactive_anon: undefined });
  });

  it("--check catches a list count that disagrees with its pages", async () => {
    const e = classic();
    await runCsv(e, [HEADER, `0,mmap,1,${ANON_BASE},8192,,anon,,,`, touch(0, ANON_BASE), touch(0, ANON_BASE + 4096)].join("\n"));
    expect(checkMemory(e.mem.mappingView())).toBeNull();
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    lv.total[0] = 3;
    expect(checkMemory(e.mem.mappingView())).toMatch(/3 anon pages but 2 inactive \+ 0 active/);
  });

  it("a whole replay under memory pressure keeps the lists consistent (--check after every event)", async () => {
    const e = quietEngine(1024, { "lru_gen.enabled": "0", "vm.min_free_kbytes": "256" }, { check: true });
    const lines = [HEADER, `0,mmap,1,${ANON_BASE},${1200 * 4096},,anon,,,`, `0,mmap,1,${FILE_BASE},${300 * 4096},,file,,,`];
    for (let r = 0; r < 2; r++) {
      for (let i = 0; i < 1200; i++) lines.push(touch(r * 10, ANON_BASE + i * 4096));
      for (let i = 0; i < 300; i++) lines.push(read(r * 10 + 5, FILE_BASE + i * 4096));
    }
    await runCsv(e, lines.join("\n"));
    const v = counters(e, ["pswpout", "pgactivate", "pgdeactivate", "workingset_refault_anon", "nr_active_anon", "nr_inactive_anon", "nr_anon_pages", "oom_kill"]);
    expect(v.pswpout).toBeGreaterThan(0);
    expect(v.workingset_refault_anon).toBeGreaterThan(0);
    expect(v.oom_kill).toBe(0);
    // every anon page is on one of the two anon lists
    expect(v.nr_active_anon! + v.nr_inactive_anon!).toBe(v.nr_anon_pages! + counters(e, ["nr_swapcached"]).nr_swapcached!);
  });
});

describe("lru_gen.enabled errors", () => {
  it("a trace's read of the workingset report with MGLRU off is a data error", async () => {
    const e = classic();
    const msg = await dataErrorOf(runCsv(e, [HEADER, "0,read,,,,,,/,memory.workingset.page_age,"].join("\n")));
    expect(msg).toMatch(/^t\.csv:2: memory\.workingset\.page_age: the workingset report needs MGLRU/);
  });

  it("a trace's write of page_age_intervals with MGLRU off is a data error", async () => {
    const e = classic();
    const msg = await dataErrorOf(runCsv(e, [HEADER, '0,set,,,,,,/,memory.workingset.page_age_intervals,"N0=100,1000"'].join("\n")));
    expect(msg).toMatch(/^t\.csv:2: memory\.workingset\.page_age_intervals: the workingset report needs MGLRU/);
  });

  it("--set of a workingset file with lru_gen.enabled=0 is a usage error", () => {
    expect(() => quietEngine(1024, { "lru_gen.enabled": "0", "memory.workingset.refresh_interval": "N0=100" })).toThrow(UsageError);
  });

  it("lru_gen.enabled switches mid-run as lru_gen_change_state: the two youngest generations become active, and back", async () => {
    const e = quietEngine(1024, {}, { check: true });
    // MGLRU: 3 anon faults join max_seq 3; two agings leave them in seq 3 (the youngest when
    // the first walk cleared their bits), then 2 more faults join max_seq 5
    await runCsv(e, [HEADER, `0,mmap,1,${ANON_BASE},${8 * 4096},,anon,,,`, ...[0, 1, 2].map((i) => touch(0, ANON_BASE + i * 4096))].join("\n"));
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    e.mem.age(lv); // inc_min_seq at max_nr_gens 4, new seq 4: seqs 1..4
    e.mem.age(lv); // seqs 2..5: seq 3 is the third youngest, inactive
    await runCsv(e, [HEADER, touch(1, ANON_BASE + 3 * 4096), touch(1, ANON_BASE + 4 * 4096), "2,set,,,,,,,lru_gen.enabled,0"].join("\n"));
    // drain_evictable: the 3 in seq 3 inactive, the 2 in seq 5 (max_seq) active
    expect(e.mem.lru.classic).toBe(true);
    expect(counters(e, ["nr_inactive_anon", "nr_active_anon"])).toEqual({ nr_inactive_anon: 3, nr_active_anon: 2 });
    expect(lv.savedSeq).toEqual([2, 2, 5]);
    // a new fault goes inactive now
    await runCsv(e, [HEADER, touch(3, ANON_BASE + 5 * 4096), "4,set,,,,,,,lru_gen.enabled,1"].join("\n"));
    // fill_evictable: active to max_seq 5, inactive anon to min_seq + 1 = 3
    expect(e.mem.lru.classic).toBe(false);
    expect([lv.minSeq[0], lv.maxSeq, lv.pagesIn(0, 5), lv.pagesIn(0, 3), lv.pagesIn(0, 2)]).toEqual([2, 5, 2, 4, 0]);
  });

  it("a plugin's reclaim.type policy (MGLRU's get_type_to_scan) with lru_gen.enabled=0 is a usage error", () => {
    const p = { file: "t.mjs", path: "/x/t.mjs", sha256: "0".repeat(64), register: (api: WsimPluginApi) => api.policy.replace("reclaim.type", () => "file") };
    expect(() => quietEngine(1024, { "lru_gen.enabled": "0" }, { plugins: [p] })).toThrow(/reclaim\.type .*lru_gen\.enabled=0/);
    expect(() => quietEngine(1024, {}, { plugins: [p] })).not.toThrow();
  });

  it("lru_gen.enabled takes 0 or 1 only", async () => {
    const e = quietEngine(1024);
    const msg = await dataErrorOf(runCsv(e, [HEADER, "0,set,,,,,,,lru_gen.enabled,2"].join("\n")));
    expect(msg).toMatch(/^t\.csv:2: .*lru_gen\.enabled/);
  });
});
