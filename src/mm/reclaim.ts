/**
 * Page reclaim with MGLRU eviction (mm/vmscan.c, 6.1): shrink_node picks lruvecs on a node
 * and evicts from the oldest generation of the type isolate_folios chooses, in the zones up to
 * sc->reclaim_idx. A page found accessed there is moved to the youngest generation instead (its
 * bit cleared; a page is activated after lru_gen_look_around, a huge page kept); when a type
 * is down to MIN_NR_GENS generations the lruvec is aged first. Anon pages go to the machine's
 * swap device (pswpout), file pages are dropped; both leave an entry (shadows.ts) so a refault
 * is a major fault and can be recognised. A page read ahead into the swap cache and not mapped
 * since is clean: it is dropped, its swap slot kept, without I/O (__remove_mapping). With fewer
 * than MIN_LRU_BATCH free swap slots anon is not scanned (get_swappiness returns 0) unless the
 * node can demote.
 *
 * Direct reclaim (try_to_free_pages) and kswapd (kswapd.ts's balance_pgdat) both run the
 * priority loop through shrinkNodePriority: MGLRU's `evictable >> priority` scans with
 * should_abort_scan. kswapd ages in a pass of its own before each priority (lru_gen_age_node)
 * and skips lruvecs that still need aging (get_nr_to_scan); direct reclaim ages inside eviction.
 *
 * A swap write is asynchronous in 6.1 (swap-writeback.ts): shrink_folio_list's add_to_swap,
 * try_to_unmap and pageout leave the folio in the swap cache under writeback, put back at
 * min_seq + 1 (pswpout, no pgsteal); a scan meeting it while the write is in flight passes over
 * it (sort_folio: min_seq + 1, PG_reclaim, pgrefill); the write's end rotates it to the oldest
 * generation's tail (folio_rotate_reclaimable, pgrotated) and the next scan isolates it again and
 * frees it (__remove_mapping: the swap slot keeps the data, pgsteal). So each page swapped out
 * is isolated twice (pgscan), and free memory grows only when its write has ended.
 *
 * wsim simplifications: on a node, the lruvec whose oldest generation is oldest goes first
 * (the kernel walks memcgs round-robin); get_type_to_scan's PID controller keeps one tier;
 * file pages are clean unless written (a dirty one is written back as it is dropped); a huge
 * page is split before its pages are evicted (no THP swap-out).
 */
import { ALLOCSTALL, V } from "../stats/counters.js";
import { MAX_NR_ZONES, ZONE_NORMAL } from "../machine/zones.js";
import type { LruGen, Lruvec } from "./lru-gen.js";
import { ANON, FILE, MIN_NR_GENS, NR_SLOTS } from "./lru-gen.js";
import type { PageAllocator } from "./page-alloc.js";
import { PG_ACCESSED, PG_DIRTY, PG_LAZYFREE } from "./pages.js";
import type { ProcessTable } from "./process.js";
import type { Shadows } from "./shadows.js";
import { newScanControl, TwoListLru } from "./lru-two-list.js";
import { WMARK_HIGH } from "./buddy.js";
import type { SwapWriteback } from "./swap-writeback.js";

import type { MmObserver } from "../plugin/observer.js";
export const SWAP_CLUSTER_MAX = 32;
/** DEF_PRIORITY (mm/vmscan.c) */
export const DEF_PRIORITY = 12;
const MIN_LRU_BATCH = 64;

export interface ReclaimContext {
  alloc: PageAllocator;
  lru: LruGen;
  procs: ProcessTable;
  shadows: Shadows;
  ev: Float64Array;
  flags: Uint8Array;
  /** PageArrays.mflags (PG_LAZYFREE) */
  mflags: Uint8Array;
  /** lruvecs on each node */
  lruvecsOn: (nid: number) => readonly Lruvec[];
  swappiness: () => number;
  /**
   * reclaim's aging (try_to_inc_max_seq with force_scan false, or true under
   * wsim.lru_gen_bloom=0) of one lruvec, with the report hooks: returns the pages it moved out
   * of their type's oldest generation
   */
  age: (lv: Lruvec) => number;
  /** demotion instead of eviction (numa.demotion_enabled): true if the page moved */
  demote: (pfn: number, kswapd: boolean) => boolean;
  /** can_demote(nid): numa.demotion_enabled and the node has a demotion target */
  canDemote?: (nid: number) => boolean;
  /** sort_folio for a page-cache page (pagecache.ts): true when it moved it (dirty or under writeback) */
  sortFile?: (lv: Lruvec, pfn: number) => boolean;
  /**
   * anon swap writes in flight (swap-writeback.ts), while wsim.swap_writeback is on: MGLRU
   * eviction keeps a page it writes out until the write ends and a later scan frees it. Absent
   * or null: the page is freed at once.
   */
  swapWb?: () => SwapWriteback | null;
  /** the virtual clock, ms (with swapWb) */
  now?: () => number;
}

/**
 * What memcg-limits.ts tells reclaim (shrink_node_memcgs, get_swappiness, folio_alloc_swap):
 * which lruvecs a walk visits (the memcg reclaim's subtree, memory.min/low protection), the
 * memcg's free swap (mem_cgroup_get_nr_swap_pages) and its swap charge (memory.swap.max).
 */
export interface MemcgReclaimGate {
  /** anything to check: a memcg reclaim runs, or some memcg has limits or protection */
  readonly on: boolean;
  /** some memcg has memory.max, memory.high or memory.swap.max set */
  readonly active: boolean;
  /** shrink_node_memcgs: the walk visits lruvec lv (false: outside the target, or protected) */
  allow(lv: Lruvec): boolean;
  /** mem_cgroup_get_nr_swap_pages of lv's memcg */
  nrSwapPages(lv: Lruvec): number;
  /** __mem_cgroup_try_charge_swap for one page of lv: false when it cannot be charged */
  chargeSwap(lv: Lruvec): boolean;
  /** a global reclaim starts (memcg_low_reclaim / memcg_low_skipped clear) */
  beginGlobal(): void;
  /** do_try_to_free_pages: a pass reclaimed nothing and skipped protected memory: retry into it */
  retryLow(): boolean;
}

/**
 * should_run_aging (mm/vmscan.c, 6.1) of an lruvec whose youngest generation is `maxSeq` and
 * oldest `minSeq[type]`, with `pagesIn(type, seq)` pages per generation: the types from
 * `!canSwap` (file only without swap) count. Returns `nrToScan` (their total >> priority) and
 * `need`: true with fewer than MIN_NR_GENS + 1 generations, false with more, and with exactly
 * MIN_NR_GENS + 1 true when the youngest holds over 1/MIN_NR_GENS of the pages or the oldest
 * counted (max_seq - MIN_NR_GENS) under 1/(MIN_NR_GENS + 2).
 */
export function shouldRunAging(
  maxSeq: number, minSeq: ArrayLike<number>, canSwap: boolean, pagesIn: (type: number, seq: number) => number, priority: number,
): { need: boolean; nrToScan: number } {
  let old = 0;
  let young = 0;
  let total = 0;
  for (let type = canSwap ? ANON : FILE; type <= FILE; type++) {
    for (let seq = minSeq[type]!; seq <= maxSeq; seq++) {
      const size = pagesIn(type, seq);
      total += size;
      if (seq === maxSeq) young += size;
      else if (seq + MIN_NR_GENS === maxSeq) old += size;
    }
  }
  const nrToScan = Math.floor(total / 2 ** priority);
  const m = minSeq[canSwap ? ANON : FILE]!;
  if (m + MIN_NR_GENS > maxSeq) return { need: true, nrToScan };
  if (m + MIN_NR_GENS < maxSeq) return { need: false, nrToScan };
  return { need: young * MIN_NR_GENS > total || old * (MIN_NR_GENS + 2) < total, nrToScan };
}

/** balance_pgdat's scan_control field that lru_gen_age_node and lru_gen_shrink_lruvec share */
export interface KswapdAging {
  /** sc->memcgs_need_aging: false at the start of a balance_pgdat */
  memcgsNeedAging: boolean;
}

export class Reclaim {
  /** the two-list LRU's reclaim (lru_gen.enabled=0, lru-two-list.ts) */
  readonly twoList: TwoListLru;

  constructor(private readonly c: ReclaimContext) {
    const nodeZones = c.alloc.nodeZones;
    this.twoList = new TwoListLru({
      lru: c.lru,
      ev: c.ev,
      flags: c.flags,
      mflags: c.mflags,
      lruvecsOn: c.lruvecsOn,
      swappiness: c.swappiness,
      nrSwapPages: () => c.shadows.nrSwapPages,
      totalSwapPages: () => c.shadows.swapTotal,
      canDemote: (nid) => c.canDemote?.(nid) ?? false,
      nodeFree: (nid) => nodeZones[nid]!.reduce((s, z) => s + z.freePages, 0),
      nodeHighWmarks: (nid) => nodeZones[nid]!.reduce((s, z) => s + (z.managed ? z.mark(WMARK_HIGH) : 0), 0),
      demote: (pfn, kswapd) => c.demote(pfn, kswapd),
      swapCacheSlot: (pfn) => c.procs.slotOf(pfn),
      evict: (lv, pfn, type) => this.evict(lv, pfn, type),
      splitHuge: (pfn, swapWhole) => c.procs.splitHuge(pfn, false, swapWhole === true),
      zoneIdxOf: (pfn) => c.alloc.zoneOf(pfn).idx,
      topZoneIdx: (nid) => this.topZoneIdx(nid),
    });
  }

  /** the memcg limits (memcg-limits.ts), or null */
  memcg: MemcgReclaimGate | null = null;
  /** cgroup_reclaim(sc): a memcg reclaim runs; the global pgscan/pgsteal kswapd/direct counters are not counted */
  cgroupReclaim = false;

  /** plugins observing reclaim, or null */
  observer: MmObserver | null = null;

  /**
   * Reclaims up to nr pages from node nid, the lruvec with the oldest generation first, in
   * SWAP_CLUSTER_MAX steps: a test helper (mlock tests), not a kernel path; kswapd and direct
   * reclaim run shrinkNodePriority (6.1's shrink_node over every lruvec). Returns pages reclaimed.
   */
  shrinkNode(nid: number, nr: number, kswapd: boolean): number {
    let reclaimed = 0;
    let tried: Lruvec[] | null = null; // lruvecs that gave nothing this time
    while (reclaimed < nr) {
      const lv = this.pickLruvec(nid, tried);
      if (!lv) break;
      const got = this.shrinkLruvec(lv, Math.min(SWAP_CLUSTER_MAX, nr - reclaimed), kswapd);
      if (!got) (tried ??= []).push(lv);
      reclaimed += got;
    }
    if (this.observer !== null) this.observer.reclaim(nid, nr, reclaimed, kswapd);
    return reclaimed;
  }

  /** The lruvec on nid holding the oldest generation (ties: the older memcg). */
  private pickLruvec(nid: number, skip: readonly Lruvec[] | null): Lruvec | null {
    let best: Lruvec | null = null;
    let bestBirth = Infinity;
    for (const lv of this.c.lruvecsOn(nid)) {
      if (lv.total[ANON]! + lv.total[FILE]! === 0 || (skip && skip.includes(lv))) continue;
      let b = Infinity;
      for (let t = 0; t < 2; t++) if (lv.total[t]) b = Math.min(b, lv.birthOf(lv.minSeq[t]!));
      if (b < bestBirth) {
        best = lv;
        bestBirth = b;
      }
    }
    return best;
  }

  /**
   * The reclaim.type policy point (a plugin's replacement of get_type_to_scan): given the
   * lruvec, ANON, FILE or -1. Null runs the built-in.
   */
  typePolicy: ((lv: Lruvec) => number) | null = null;

  /**
   * get_swappiness (6.1): vm.swappiness, or 0 when fewer than MIN_LRU_BATCH swap slots are free
   * (mem_cgroup_get_nr_swap_pages; memory.swap.max is issue 14 item 5) and the lruvec's node
   * cannot demote, so a full swap device stops anon reclaim.
   */
  swappinessOf(lv: Lruvec): number {
    if (this.freeSwapSlots(lv) < MIN_LRU_BATCH && !this.canDemote(lv)) return 0;
    return this.c.swappiness();
  }

  /** mem_cgroup_get_nr_swap_pages: the swap slots lv's pages may take (its memcg's swap.max, else the device's) */
  private freeSwapSlots(lv: Lruvec): number {
    const g = this.memcg;
    return g !== null && g.active ? g.nrSwapPages(lv) : this.c.shadows.nrSwapPages;
  }

  /** can_demote: lv's node has a lower tier to demote to */
  private canDemote(lv: Lruvec): boolean {
    return this.c.canDemote?.(lv.nid) ?? false;
  }

  /** The type isolate_folios tries first, or -1 when the lruvec has nothing to evict. */
  pickType(lv: Lruvec): number {
    if (this.typePolicy !== null) return this.typePolicy(lv);
    return typeToScan(
      this.swappinessOf(lv), lv.total[ANON]!, lv.total[FILE]!, lv.minSeq[ANON]!, lv.minSeq[FILE]!,
      lv.avgRefaulted[ANON]! + lv.refaulted[ANON]!, lv.avgTotal[ANON]! + lv.evicted[ANON]!,
      lv.avgRefaulted[FILE]! + lv.refaulted[FILE]!, lv.avgTotal[FILE]! + lv.evicted[FILE]!,
    );
  }

  /** pages isolated (pgscan) by the last shrinkLruvec */
  lastScanned = 0;
  /**
   * pages the last shrinkLruvec passed over in sort_folio (dirty or under writeback, a
   * lazyfree page written since MADV_FREE): scan_folios' `scanned` counts them, so they use up
   * get_nr_to_scan's budget, though not pgscan
   */
  lastSorted = 0;

  /**
   * evict_folios from one lruvec: up to nr pages reclaimed and maxScan pages scanned. With
   * `noSwap` (boosted kswapd: may_swap and may_writepage clear) only clean file pages are
   * taken: anon pages are not in a swap cache and dirty file pages wait for writeback
   * (isolate_folio, sort_folio). Returns pages reclaimed; lastScanned has the pages scanned.
   */
  shrinkLruvec(lv: Lruvec, nr: number, kswapd: boolean, maxScan = Infinity, noSwap = false, noAging = false, reclaimIdx = MAX_NR_ZONES - 1): number {
    const { lru, ev, flags } = this.c;
    // scan_folios walks lrugen->lists[gen][type][zone] for zone <= sc->reclaim_idx only: with a
    // lower reclaim_idx than the node's highest populated zone, pages of higher zones are passed by
    const zoneLimit = reclaimIdx < this.topZoneIdx(lv.nid) ? reclaimIdx : -1;
    let reclaimed = 0;
    let scanned = 0;
    let agings = 0;
    let waiting = 0;
    let sorted = 0;
    // the memcg's pgscan/pgsteal (memory.stat), when the lruvec belongs to a Memcg
    const vmev = (lv.owner as { vmev?: Float64Array } | null)?.vmev;
    const wb = this.c.swapWb !== undefined ? this.c.swapWb() : null;
    if (wb !== null) wb.completeUpTo(this.c.now!()); // writes ended by now have rotated their pages
    while (reclaimed < nr && scanned < maxScan) {
      let type = noSwap ? (lv.total[FILE]! > 0 ? FILE : -1) : this.pickType(lv);
      if (type < 0) break;
      if (lv.nrGens(type) <= MIN_NR_GENS || lv.pagesIn(type, lv.minSeq[type]!) === 0) {
        // isolate_folios: scan_folios found nothing in this type's oldest generation, so the
        // other type's is scanned, when it may be (anon: swappiness not 0, not boosted kswapd)
        // (a plugin's reclaim.type decides alone: no fallback behind its choice)
        const other = 1 - type;
        const canSwap = !noSwap && this.swappinessOf(lv) !== 0;
        if (this.typePolicy === null && (other === FILE || canSwap) && lv.nrGens(other) > MIN_NR_GENS && lv.pagesIn(other, lv.minSeq[other]!) > 0) type = other;
        else {
          // evict_folios: try_to_inc_min_seq, both types together (boosted kswapd: file alone,
          // as before; 6.1 runs it with swappiness 1 there and scans anon pages it cannot isolate)
          if (lru.tryIncMinSeq(lv, canSwap)) continue;
          // evict_folios with MIN_NR_GENS generations left scans nothing: kswapd leaves the
          // aging to lru_gen_age_node (`noAging`)
          if (noAging) break;
          // should_run_aging: only MIN_NR_GENS generations left
          if (++agings > 2 * NR_SLOTS) break;
          this.agePgrefill(lv);
          continue;
        }
      }
      let pfn = lv.tail[type * NR_SLOTS + (lv.minSeq[type]! % NR_SLOTS)]!;
      if (zoneLimit >= 0) {
        pfn = this.eligibleTail(lv, type, zoneLimit);
        if (pfn < 0) {
          // isolate_folios: scan_folios found nothing of this type in the eligible zones' lists:
          // the other type, if it may be scanned; nothing in either ends this eviction
          // (try_to_inc_min_seq cannot move min_seq past the other zones' pages)
          const other = 1 - type;
          const canOther = other === FILE || (!noSwap && this.swappinessOf(lv) !== 0);
          if (canOther && lv.nrGens(other) > MIN_NR_GENS) pfn = this.eligibleTail(lv, other, zoneLimit);
          if (pfn < 0) break;
          type = other;
        }
      }
      if (type === FILE && flags[pfn]! & PG_DIRTY && this.c.mflags[pfn]! & PG_LAZYFREE) {
        // sort_folio: a lazyfree folio written since MADV_FREE is anon again (swapbacked),
        // to the tail of min_seq + 1 (lruvec_add_folio_tail); not scanned
        lru.del(pfn);
        this.c.mflags[pfn]! &= ~PG_LAZYFREE;
        lru.add(lv, pfn, lv.minSeq[ANON]! + 1, false);
        sorted++;
        continue;
      }
      if (type === FILE && this.c.sortFile !== undefined && this.c.sortFile(lv, pfn)) {
        sorted++;
        if (++waiting > lv.total[FILE]!) break;
        continue;
      }
      if (type === ANON && wb !== null && wb.writeback(pfn)) {
        // sort_folio: waiting for writeback: folio_inc_gen(reclaiming) to min_seq + 1 with
        // PG_reclaim, counted in pgrefill (scan_folios' `sorted`), not isolated
        lru.move(lv, pfn, lv.minSeq[ANON]! + 1);
        wb.markReclaim(pfn);
        ev[V.pgrefill]!++;
        sorted++;
        if (++waiting > lv.total[ANON]!) break;
        continue;
      }
      if (noSwap && flags[pfn]! & PG_DIRTY) {
        // sort_folio: a dirty file folio goes to min_seq + 1 to wait for writeback
        if (++waiting > lv.total[FILE]!) break;
        lru.move(lv, pfn, lv.minSeq[type]! + 1);
        sorted++;
        continue;
      }
      const nr = lru.nrOf(pfn);
      const young = lru.testClearYoung(pfn);
      // scan_folios counts an isolated folio's pages (delta = folio_nr_pages): a huge page found
      // young counts 512. One that is not is split below and its pages counted as wsim isolates
      // them next, one by one (6.1 counts the 512 at its isolation and splits it, or swaps it
      // whole, in shrink_folio_list: the same count)
      const counted = young || nr === 1 ? nr : 0;
      if (counted !== 0) {
        scanned += counted;
        // evict_folios: the global counter unless cgroup_reclaim, the memcg's always (MEMCG_VMEV order)
        if (!this.cgroupReclaim) ev[kswapd ? V.pgscan_kswapd : V.pgscan_direct]! += counted;
        if (vmev !== undefined) vmev[kswapd ? 0 : 1]! += counted;
        ev[type === ANON ? V.pgscan_anon : V.pgscan_file]! += counted;
      }
      if (young) {
        // referenced (folio_referenced: one young PTE or PMD). A page's PTE has
        // lru_gen_look_around promote its young neighbours first, and mark the page itself
        // referenced (folio_lru_gen < 0: isolate_folio took it off its list), so
        // folio_check_references, reading PG_referenced after folio_referenced, finds
        // referenced_ptes 1 and the folio referenced: FOLIOREF_ACTIVATE, pgactivate. A huge page's
        // PMD has no look-around: FOLIOREF_KEEP (isolate_folio cleared PG_referenced), no
        // pgactivate. evict_folios puts either back active, into the youngest generation.
        // (6.1's batch-mates that look-around marks while isolated, kept by shrink_folio_list
        // without a counter, are not modelled: wsim isolates one page at a time;
        // docs/overcommit-balance.md)
        if (nr === 1) {
          // the neighbours moved out of the oldest generation are what scan_folios would sort
          const sortedLater = lru.lookAround(lv, pfn);
          if (sortedLater >= 0) {
            if (!this.cgroupReclaim) ev[V.pgrefill]! += sortedLater;
            ev[V.pgactivate]!++;
          }
        }
        lru.move(lv, pfn, lv.maxSeq);
        continue;
      }
      if (nr > 1) {
        // shrink_folio_list on an anon huge page: add_to_swap takes a whole swap cluster (512
        // slots) when one is free, and the folio is unmapped whole (try_to_unmap with
        // TTU_SPLIT_HUGE_PMD: thp_split_pmd, a swap entry per PTE) and written in one I/O
        // (thp_swpout; pswpout 512). wsim then frees its pages one by one, as it frees a page at
        // once after its write. Without a free cluster: thp_swpout_fallback and
        // split_folio_to_list (thp_split_page), then page by page. A page-cache or demoted huge
        // page is split (wsim demotes page by page). wsim takes free slots as contiguous: a
        // cluster is free when 512 slots are.
        const anonSwap = type === ANON && !this.canDemote(lv);
        if (anonSwap && this.freeSwapSlots(lv) >= nr) this.c.procs.splitHuge(pfn, false, true);
        else {
          if (anonSwap) ev[V.thp_swpout_fallback]!++;
          this.c.procs.splitHuge(pfn);
        }
        continue;
      }
      if (!this.c.demote(pfn, kswapd)) {
        const g = this.memcg;
        if (type === ANON && this.c.procs.slotOf(pfn) === 0 && (g !== null && g.active ? !g.chargeSwap(lv) : this.c.shadows.nrSwapPages <= 0)) {
          // add_to_swap failed (only a type policy gets here: get_swappiness stops anon first):
          // activate_locked, back to the youngest generation
          lru.move(lv, pfn, lv.maxSeq);
          break;
        }
        // a swap write (not a swap cache page's drop, not a clean lazyfree page's free)
        const writes = type === ANON && this.c.procs.slotOf(pfn) === 0 && !(this.c.mflags[pfn]! & PG_LAZYFREE);
        if (writes && wb !== null) {
          // shrink_folio_list: add_to_swap, try_to_unmap, pageout → swap_writepage; the folio
          // stays, under writeback (keep → move_folios_to_lru)
          this.swapOut(lv, pfn, wb);
          continue;
        }
        this.evict(lv, pfn, type);
        if (writes && scanned < maxScan) {
          // shrink_folio_list: pageout starts an asynchronous swap write and keeps the folio
          // (PG_reclaim, under writeback), put back at min_seq + 1; folio_end_writeback rotates
          // it to the oldest generation's tail (folio_rotate_reclaimable, pgrotated) and the next
          // isolation frees it: 6.1 isolates (pgscan) each page it swaps out twice. wsim frees
          // it at once and counts the second isolation here, against the same scan budget; when
          // the budget has no room left for it (the kernel's would fall in a later pass), it is
          // not counted
          scanned++;
          if (!this.cgroupReclaim) ev[kswapd ? V.pgscan_kswapd : V.pgscan_direct]!++;
          if (vmev !== undefined) vmev[kswapd ? 0 : 1]!++;
          ev[V.pgscan_anon]!++;
          ev[V.pgrotated]!++;
        }
      }
      if (!this.cgroupReclaim) ev[kswapd ? V.pgsteal_kswapd : V.pgsteal_direct]!++;
      if (vmev !== undefined) vmev[kswapd ? 2 : 3]!++;
      ev[type === ANON ? V.pgsteal_anon : V.pgsteal_file]!++;
      reclaimed++;
    }
    this.lastScanned = scanned;
    this.lastSorted = sorted;
    return reclaimed;
  }

  /**
   * Reclaim's aging of lv; the pages the walk promoted out of their oldest generation are the
   * ones the next scan_folios sorts (wsim moves them now): pgrefill (global, unless
   * cgroup_reclaim; memory.stat's pgrefill is not kept).
   */
  private agePgrefill(lv: Lruvec): void {
    const n = this.c.age(lv);
    if (n !== 0 && !this.cgroupReclaim) this.c.ev[V.pgrefill]! += n;
  }

  /** the zone index of node nid's highest populated zone (a reclaim_idx at or above it limits nothing) */
  private topZoneIdx(nid: number): number {
    const zs = this.c.alloc.nodeZones[nid]!;
    return zs.length ? zs[zs.length - 1]!.idx : MAX_NR_ZONES - 1;
  }

  /**
   * The oldest page of `type` in lv's oldest generation whose zone index is at most
   * `zoneLimit` (scan_folios' lists for zone <= sc->reclaim_idx), or -1. wsim keeps one list per
   * generation and type, not one per zone: it walks from the tail past pages of higher zones
   * (the kernel scans zone reclaim_idx's list first, then the lower ones; here the eligible
   * pages come in their list order).
   */
  private eligibleTail(lv: Lruvec, type: number, zoneLimit: number): number {
    const { lru, alloc } = this.c;
    for (let pfn = lv.tail[type * NR_SLOTS + (lv.minSeq[type]! % NR_SLOTS)]!; pfn >= 0; pfn = lru.prev[pfn]!) {
      if (alloc.zoneOf(pfn).idx <= zoneLimit) return pfn;
    }
    return -1;
  }

  /**
   * shrink_node → lru_gen_shrink_lruvec on every lruvec of node nid at `priority` (mm/vmscan.c,
   * 6.1), for kswapd (kswapd_shrink_node) or a direct reclaimer (shrink_zones): each lruvec
   * scans up to `evictable >> priority` pages (get_nr_to_scan; anon counts when swappiness is
   * non-zero: 1 while may_swap is clear) in MIN_LRU_BATCH batches (evict_folios), stopping early
   * by should_abort_scan: a direct reclaimer once it has nr_to_reclaim and has swapped
   * (need_swapping); kswapd not before the pass reclaimed nr_to_reclaim; both never above
   * priority DEF_PRIORITY - 2, then only when `aboveMark()` (every eligible zone above its high
   * mark for kswapd, its low mark for direct reclaim). Returns the pages scanned and reclaimed
   * (`reclaimed` includes should_abort_scan's MIN_LRU_BATCH bonus, as sc->nr_reclaimed does;
   * `pagesReclaimed` does not).
   */
  shrinkNodePriority(
    nid: number, priority: number, nrToReclaim: number, kswapd: boolean, maySwap: boolean, aboveMark: () => boolean, already = 0, aging: KswapdAging | null = null,
    reclaimIdx = MAX_NR_ZONES - 1,
  ): { scanned: number; reclaimed: number; pagesReclaimed: number } {
    if (this.c.lru.classic) return this.shrinkNodeTwoList(nid, priority, nrToReclaim, kswapd, maySwap, reclaimIdx);
    let scanned = 0;
    let pages = 0;
    let bonus = 0;
    const gate = this.memcg !== null && this.memcg.on ? this.memcg : null;
    if (aging !== null) this.ageNode(nid, priority, aging, gate);
    for (const lv of this.c.lruvecsOn(nid)) {
      if (gate !== null && !gate.allow(lv)) continue;
      const pagesBefore = pages;
      let lvScanned = 0;
      let lvIsolated = 0;
      let needSwapping = false;
      let needAging = false;
      let stopped = false; // the loop ended by its breaks, not by `goto done`
      for (;;) {
        // lru_gen_shrink_lruvec: get_swappiness (0 with swap full), or 1 while may_swap is clear
        const sw = this.swappinessOf(lv);
        const swappiness = maySwap ? sw : sw ? 1 : 0;
        // get_nr_to_scan, before every batch: `evictable >> priority`; an lruvec that needs
        // aging is scanned at DEF_PRIORITY only with MIN_NR_GENS generations or more, below it
        // kswapd leaves it to lru_gen_age_node and a direct reclaimer ages it first
        // (try_to_inc_max_seq)
        const sra = shouldRunAging(lv.maxSeq, lv.minSeq, swappiness !== 0, (t, q) => lv.pagesIn(t, q), priority);
        needAging = sra.need;
        let nrToScan = sra.nrToScan;
        if (sra.need) {
          if (priority === DEF_PRIORITY) {
            if (lv.minSeq[swappiness ? ANON : FILE]! + MIN_NR_GENS > lv.maxSeq) nrToScan = 0;
          } else if (kswapd && aging !== null) nrToScan = 0;
          else this.agePgrefill(lv);
        }
        if (nrToScan === 0) break;
        const anonBefore = this.c.ev[V.pgscan_anon]!;
        // evict_folios: isolate_folios takes a batch of up to MIN_LRU_BATCH, whatever is left of
        // nr_to_scan
        const got = this.shrinkLruvec(lv, Infinity, kswapd, MIN_LRU_BATCH, !maySwap, aging !== null, reclaimIdx);
        // evict_folios: need_swapping once a batch isolated anon (type == LRU_GEN_ANON), whether
        // or not it freed any (a swap-out frees nothing until its write has ended)
        if (this.c.ev[V.pgscan_anon] !== anonBefore) needSwapping = true;
        pages += got;
        // lru_gen_shrink_lruvec: evict_folios' delta (scan_folios' scanned: isolated and sorted)
        const delta = this.lastScanned + this.lastSorted;
        lvScanned += delta;
        lvIsolated += this.lastScanned;
        if (delta === 0) break; // goto done
        // `scanned >= nr_to_scan`, then should_abort_scan: a direct reclaimer that has
        // nr_to_reclaim and has swapped; else neither kswapd short of nr_to_reclaim nor above
        // priority DEF_PRIORITY - 2, and every eligible zone above its mark (+ MIN_LRU_BATCH)
        const done = already + pages + bonus;
        stopped = lvScanned >= nrToScan || (!kswapd && done >= nrToReclaim && needSwapping);
        if (!stopped && !(kswapd && done < nrToReclaim) && priority <= DEF_PRIORITY - 2 && aboveMark()) {
          bonus += MIN_LRU_BATCH;
          stopped = true;
        }
        if (stopped) break;
      }
      // lru_gen_shrink_lruvec: a batch's worth reclaimed by a loop that ended by its breaks,
      // the last batch's lruvec not needing aging, spares the next lru_gen_age_node
      if (aging !== null && stopped && pages - pagesBefore >= MIN_LRU_BATCH && !needAging) aging.memcgsNeedAging = false;
      scanned += lvIsolated; // sc->nr_scanned: shrink_folio_list's, isolated pages only
    }
    if (this.observer !== null) this.observer.reclaim(nid, nrToReclaim, pages, kswapd);
    return { scanned, reclaimed: pages + bonus, pagesReclaimed: pages };
  }

  /**
   * lru_gen.enabled=0: shrink_node of the two-list LRU at `priority` (lru-two-list.ts), with
   * kswapd_age_node first for kswapd (balance_pgdat calls it before kswapd_shrink_node);
   * may_writepage as balance_pgdat sets it (cleared while boosting, set below priority 10).
   */
  private shrinkNodeTwoList(nid: number, priority: number, nrToReclaim: number, kswapd: boolean, maySwap: boolean, reclaimIdx: number): { scanned: number; reclaimed: number; pagesReclaimed: number } {
    const sc = newScanControl(kswapd, priority, nrToReclaim, maySwap, reclaimIdx);
    if (kswapd) this.twoList.ageNode(nid, sc);
    this.twoList.shrinkNode(nid, sc);
    if (this.observer !== null) this.observer.reclaim(nid, nrToReclaim, sc.nrReclaimed, kswapd);
    return { scanned: sc.nrScanned, reclaimed: sc.nrReclaimed, pagesReclaimed: sc.nrReclaimed };
  }

  /**
   * kswapd_age_node → lru_gen_age_node (mm/vmscan.c, 6.1), before each priority's shrink: skipped
   * once (memcgs_need_aging set again) when the last eviction reclaimed a batch without needing
   * aging, else age_lruvec on every lruvec of the node (memory.min-protected ones left out):
   * try_to_inc_max_seq where should_run_aging says so (lru_gen_min_ttl is 0: no OOM kill).
   */
  private ageNode(nid: number, priority: number, aging: KswapdAging, gate: MemcgReclaimGate | null): void {
    if (!aging.memcgsNeedAging) {
      aging.memcgsNeedAging = true;
      return;
    }
    for (const lv of this.c.lruvecsOn(nid)) {
      if (gate !== null && !gate.allow(lv)) continue;
      if (lv.total[ANON]! + lv.total[FILE]! === 0) continue;
      if (shouldRunAging(lv.maxSeq, lv.minSeq, this.swappinessOf(lv) !== 0, (t, q) => lv.pagesIn(t, q), priority).need) this.agePgrefill(lv);
    }
  }

  /** snapshot_refaults(NULL, pgdat) at the end of balance_pgdat (the two-list LRU's; MGLRU has none) */
  snapshotRefaults(nid: number): void {
    if (this.c.lru.classic) this.twoList.snapshotRefaults(nid);
  }

  /** kswapd_shrink_node's shrink_node (kswapd.ts's balance_pgdat): shrinkNodePriority for kswapd */
  shrinkNodeBalance(
    nid: number, priority: number, nrToReclaim: number, maySwap: boolean, aboveHigh: () => boolean, aging: KswapdAging | null = null,
    highestZoneidx = MAX_NR_ZONES - 1,
  ): { scanned: number; reclaimed: number; pagesReclaimed: number } {
    // balance_pgdat: sc.reclaim_idx = highest_zoneidx
    return this.shrinkNodePriority(nid, priority, nrToReclaim, true, maySwap, aboveHigh, 0, aging, highestZoneidx);
  }

  /**
   * reclaim_pages (MADV_PAGEOUT, 6.1): shrink_folio_list on one isolated order-0 page whose
   * young bit the walk cleared, so it is not referenced: a lazyfree page written since
   * MADV_FREE is swap-backed again and activated (pgactivate, into the youngest generation);
   * any other is evicted as reclaim would (swap-out, drop, or a clean lazyfree page freed), with
   * no pgscan or pgsteal (the path counts neither) and no demotion (no_demotion). Returns true
   * when the page went.
   */
  pageout(pfn: number): boolean {
    const { lru, flags, mflags, ev } = this.c;
    const lv = lru.lruvecOfPfn(pfn)!;
    flags[pfn]! &= ~PG_ACCESSED;
    if (mflags[pfn]! & PG_LAZYFREE && flags[pfn]! & PG_DIRTY) {
      lru.del(pfn);
      mflags[pfn]! &= ~PG_LAZYFREE;
      lru.add(lv, pfn, lv.maxSeq);
      ev[V.pgactivate]!++;
      return false;
    }
    this.evict(lv, pfn, lru.typeOf(pfn), false);
    return true;
  }

  /**
   * shrink_folio_list's swap-out of the anon page at pfn of lruvec lv (not in the swap cache,
   * isolated and not referenced): add_to_swap takes a swap slot (its entry remembers lv and
   * min_seq, as the shadow would), try_to_unmap puts the page in the swap cache (process.ts
   * swapOut), pageout clears its dirty bit (folio_clear_dirty_for_io) and starts its write
   * (pswpout, pgpgout 4 KiB, nr_vmscan_write; PG_writeback and PG_reclaim); move_folios_to_lru
   * puts it back: lru_gen_add_folio files a reclaimed folio under writeback at min_seq + 1,
   * at the head. Nothing is freed: the page is reclaimed when a scan finds it after its write
   * ended (evict's swap cache case).
   */
  private swapOut(lv: Lruvec, pfn: number, wb: SwapWriteback): void {
    const { lru, procs, shadows, ev, flags } = this.c;
    const shadow = shadows.alloc(lv.id, lv.minSeq[ANON]!, ANON);
    procs.swapOut(pfn, shadow);
    flags[pfn]! &= ~PG_DIRTY;
    ev[V.pswpout]!++;
    ev[V.pgpgout]! += 4;
    ev[V.nr_vmscan_write]!++;
    wb.start(pfn, this.c.now!());
    lru.move(lv, pfn, lv.minSeq[ANON]! + 1);
  }

  /**
   * Swap out (anon) or drop (file) one page of lruvec lv's oldest generation; a clean lazyfree
   * page (MADV_FREE) is freed without I/O and leaves no swap entry (pglazyfreed).
   * `feedback`: count it for get_type_to_scan (MGLRU eviction does, reclaim_pages does not).
   */
  private evict(lv: Lruvec, pfn: number, type: number, feedback = true): void {
    const { lru, procs, shadows, ev, flags, alloc } = this.c;
    if (feedback) lv.evicted[type]!++;
    if (this.c.mflags[pfn]! & PG_LAZYFREE) {
      ev[V.pglazyfreed]!++;
      lru.del(pfn);
      this.c.mflags[pfn] = 0;
      procs.unmapDiscard(pfn);
      alloc.freePages(pfn, 0);
      return;
    }
    const cached = procs.slotOf(pfn);
    if (cached !== 0) {
      // a clean swap cache page (read ahead, never mapped): its slot keeps the data
      // (__remove_mapping -> __delete_from_swap_cache with a new shadow, no writeback)
      const sh = cached - 1;
      shadows.lruvec[sh] = lv.id;
      shadows.token[sh] = lv.minSeq[type]!;
      lru.del(pfn);
      procs.dropSwapCache(pfn);
      alloc.freePages(pfn, 0);
      return;
    }
    // workingset_eviction: MGLRU's token is min_seq; the two-list LRU's nonresident_age
    const shadow = shadows.alloc(lv.id, lru.classic ? this.twoList.eviction(lv, pfn) : lv.minSeq[type]!, type);
    if (type === ANON) {
      ev[V.pswpout]!++;
      ev[V.pgpgout]! += 4;
      ev[V.nr_vmscan_write]!++;
    } else if (flags[pfn]! & PG_DIRTY) {
      ev[V.pgpgout]! += 4;
      ev[V.nr_vmscan_write]!++;
    }
    lru.del(pfn);
    procs.unmapForReclaim(pfn, shadow);
    alloc.freePages(pfn, 0);
  }

  /**
   * try_to_free_pages → do_try_to_free_pages (mm/vmscan.c, 6.1): allocstall_<zone> of
   * sc->reclaim_idx (`reclaimIdx`, gfp_zone of the request: ZONE_MOVABLE for a user page), then
   * priority from DEF_PRIORITY down to 0, shrink_zones over the zonelist's nodes at each,
   * until SWAP_CLUSTER_MAX pages are reclaimed (or, for order > 3, a zone is ready for
   * compaction: `compactionReady`). `aboveLow(nid)`: every eligible zone of nid above its low
   * mark (should_abort_scan). Returns pages reclaimed (sc->nr_reclaimed, with its abort bonus).
   */
  directReclaim(
    zonelist: readonly number[],
    aboveLow: (nid: number) => boolean,
    compactionReady: () => boolean = () => false,
    reclaimIdx: number = ZONE_NORMAL,
  ): number {
    if (this.c.lru.classic) return this.twoList.directReclaim(zonelist, compactionReady, reclaimIdx);
    this.c.ev[ALLOCSTALL[reclaimIdx]!]!++;
    let got = 0;
    this.memcg?.beginGlobal();
    for (;;) {
      for (let priority = DEF_PRIORITY; priority >= 0; priority--) {
        for (const nid of zonelist) {
          const r = this.shrinkNodePriority(nid, priority, SWAP_CLUSTER_MAX, false, true, () => aboveLow(nid), got, null, reclaimIdx);
          got += r.reclaimed;
        }
        if (got >= SWAP_CLUSTER_MAX || compactionReady()) break;
      }
      // "Untapped cgroup reserves? Don't OOM, retry" (memcg_low_reclaim)
      if (got === 0 && this.memcg !== null && this.memcg.retryLow()) continue;
      this.memcg?.beginGlobal();
      return got;
    }
  }

}

/**
 * isolate_folios' swappiness tests and get_type_to_scan (mm/vmscan.c): the LRU type to evict
 * from (ANON, FILE, or -1 when nothing is evictable), from swappiness (0..200) and each type's
 * pages, oldest generation, and refaulted / total counts (averaged plus this period's).
 */
export function typeToScan(
  sw: number, anonPages: number, filePages: number, anonMinSeq: number, fileMinSeq: number,
  anonRefaulted: number, anonTotal: number, fileRefaulted: number, fileTotal: number,
): number {
  const hasAnon = anonPages > 0 && sw > 0;
  const hasFile = filePages > 0;
  if (!hasAnon) return hasFile ? FILE : -1;
  if (!hasFile) return ANON;
  if (anonMinSeq < fileMinSeq) return ANON;
  if (sw === 1) return FILE;
  if (sw === 200) return ANON;
  // get_type_to_scan: positive_ctrl_err(sp = anon with gain swappiness, pv = file with gain 200 - swappiness) picks file
  const fileFirst =
    fileRefaulted < MIN_LRU_BATCH || fileRefaulted * (anonTotal + MIN_LRU_BATCH) * sw <= (anonRefaulted + 1) * fileTotal * (200 - sw);
  return fileFirst ? FILE : ANON;
}
