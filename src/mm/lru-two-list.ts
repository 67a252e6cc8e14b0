/**
 * The classic two-list LRU of Linux 6.1 (lru_gen.enabled=0; Debian's 6.1 boots with it):
 * per lruvec an inactive and an active list per type (anon, file), kept on slots 0 and 1 of
 * LruGen's intrusive lists (lru-gen.ts `classic`). Sources: mm/vmscan.c shrink_node,
 * prepare_scan_count, get_scan_count, shrink_lruvec, shrink_list, shrink_active_list,
 * shrink_inactive_list, isolate_lru_folios, folio_check_references, move_folios_to_lru,
 * inactive_is_low, can_age_anon_pages, kswapd_age_node, do_try_to_free_pages,
 * snapshot_refaults; mm/swap.c folio_mark_accessed, folio_activate_fn, lru_note_cost;
 * mm/workingset.c workingset_eviction, workingset_refault, workingset_activation,
 * workingset_age_nonresident.
 *
 * A page a fault maps starts on the inactive list with its PTE young (6.1's folio_add_lru sets
 * PG_active only under MGLRU). Reclaim scans inactive lists from the tail: a page whose PTE is
 * young and that already has PG_referenced is activated (pgactivate); young without it gets
 * PG_referenced and another trip (FOLIOREF_KEEP); not young is reclaimed. shrink_active_list
 * moves active pages to the inactive list (pgrefill for the pages isolated, pgdeactivate for
 * those moved, PG_workingset set) when the inactive list is low (inactive_is_low's
 * int_sqrt(10 * GiB) ratio) or refaults were seen. get_scan_count splits each list's
 * `size >> priority` between anon and file (SCAN_EQUAL / SCAN_FRACT / SCAN_FILE / SCAN_ANON,
 * the cost fractions with the kernel's integer arithmetic). An evicted page leaves a shadow
 * holding nonresident_age and PG_workingset; its refault is activated when the refault
 * distance is within the workingset size (workingset_activate_*; _restore_* when it had been
 * active).
 *
 * wsim simplifications, as its MGLRU path: a huge page chosen for reclaim is split, its pages
 * go back to the inactive tail and are reclaimed one by one by later scans; swap-out and dirty
 * file writeback complete at once (no PG_reclaim rotation, no flusher throttling); no
 * pgskip_* zone filtering (every page is eligible); no VM_EXEC rotation (wsim maps no
 * executables); referenced_ptes is 0 or 1 (one young bit per page); memcg protection
 * (memory.low/min) and should_continue_reclaim are not applied here.
 */
import { ALLOCSTALL, V } from "../stats/counters.js";
import { MAX_NR_ZONES, ZONE_NORMAL } from "../machine/zones.js";
import type { LruGen, Lruvec } from "./lru-gen.js";
import { ANON, FILE, NR_SLOTS } from "./lru-gen.js";
import type { Memcg } from "./memcg.js";
import { PG_DIRTY, PG_LAZYFREE, PG_REFERENCED, PG_UNEVICTABLE, PG_WORKINGSET } from "./pages.js";

/** enum lru_list's evictable lists, in for_each_evictable_lru order */
export const LRU_INACTIVE_ANON = 0;
export const LRU_ACTIVE_ANON = 1;
export const LRU_INACTIVE_FILE = 2;
export const LRU_ACTIVE_FILE = 3;
const SWAP_CLUSTER_MAX = 32;
const DEF_PRIORITY = 12;
const DEACTIVATE_ANON = 1;
const DEACTIVATE_FILE = 2;
/** enum scan_balance */
export const SCAN_EQUAL = 0;
export const SCAN_FRACT = 1;
export const SCAN_ANON = 2;
export const SCAN_FILE = 3;

/** The LruGen list index of an lru_list: type * NR_SLOTS + (active ? 1 : 0). */
function listOf(lru: number): number {
  return (lru >> 1) * NR_SLOTS + (lru & 1);
}

/** struct scan_control's fields the two-list LRU reads and writes. */
export interface ScanControl {
  kswapd: boolean;
  priority: number;
  nrToReclaim: number;
  maySwap: boolean;
  mayWritepage: boolean;
  /** pages put through shrink_folio_list */
  nrScanned: number;
  nrReclaimed: number;
  /** DEACTIVATE_ANON | DEACTIVATE_FILE */
  mayDeactivate: number;
  forceDeactivate: boolean;
  skippedDeactivate: boolean;
  cacheTrimMode: boolean;
  fileIsTiny: boolean;
  anonCost: number;
  fileCost: number;
  /** sc->reclaim_idx: the highest zone index whose folios may be isolated */
  reclaimIdx: number;
}

/** A scan_control as try_to_free_pages or balance_pgdat set it up. */
export function newScanControl(kswapd: boolean, priority: number, nrToReclaim: number, maySwap = true, reclaimIdx = MAX_NR_ZONES - 1): ScanControl {
  return {
    kswapd, priority, nrToReclaim, maySwap, mayWritepage: maySwap || priority < DEF_PRIORITY - 2,
    nrScanned: 0, nrReclaimed: 0, mayDeactivate: 0, forceDeactivate: false, skippedDeactivate: false,
    cacheTrimMode: false, fileIsTiny: false, anonCost: 0, fileCost: 0, reclaimIdx,
  };
}

/** What the two-list LRU needs of the rest of the model. */
export interface TwoListContext {
  lru: LruGen;
  ev: Float64Array;
  flags: Uint8Array;
  mflags: Uint8Array;
  /** every memcg's lruvec on node nid (the root's first), in mem_cgroup_iter order */
  lruvecsOn: (nid: number) => readonly Lruvec[];
  /** vm.swappiness (mem_cgroup_swappiness) */
  swappiness: () => number;
  /** get_nr_swap_pages() */
  nrSwapPages: () => number;
  /** total_swap_pages */
  totalSwapPages: () => number;
  canDemote: (nid: number) => boolean;
  /** NR_FREE_PAGES of the node, and the sum of its managed zones' high marks (boost included) */
  nodeFree: (nid: number) => number;
  nodeHighWmarks: (nid: number) => number;
  /** shrink_folio_list's demotion of a page chosen for reclaim: true if it moved */
  demote: (pfn: number, kswapd: boolean) => boolean;
  /** the page's swap cache slot + 1 (0: none) */
  swapCacheSlot: (pfn: number) => number;
  /** evicts the order-0 page (swap-out, drop, lazyfree free); the shadow's token comes from eviction() */
  evict: (lv: Lruvec, pfn: number, type: number) => void;
  /**
   * split_huge_page: the huge page's 512 pages onto its list's tail; `swapWhole`: only its PMD is
   * split, for a swap-out of the whole folio (thp_swpout instead of thp_split_page)
   */
  splitHuge: (pfn: number, swapWhole?: boolean) => void;
  /** folio_zonenum (absent: one zone, nothing is ever skipped) */
  zoneIdxOf?: (pfn: number) => number;
  /** the zone index of node nid's highest populated zone (with zoneIdxOf) */
  topZoneIdx?: (nid: number) => number;
}

/** PGSCAN_SKIP by zone index: pgskip_dma .. pgskip_device */
const PGSKIP: readonly number[] = [V.pgskip_dma, V.pgskip_dma32, V.pgskip_normal, V.pgskip_movable, V.pgskip_device];

/** int_sqrt (lib/math/int_sqrt.c): floor(sqrt(x)) */
export function intSqrt(x: number): number {
  let r = Math.floor(Math.sqrt(x));
  while (r * r > x) r--;
  while ((r + 1) * (r + 1) <= x) r++;
  return r;
}

/**
 * inactive_is_low's test on counts (pages): `inactive * inactive_ratio < active`, the ratio
 * int_sqrt(10 * GiB) of the two lists together (1 below 1 GiB).
 */
export function inactiveIsLowCounts(inactive: number, active: number): boolean {
  const gb = Math.floor((inactive + active) / 2 ** 18); // >> (30 - PAGE_SHIFT)
  const ratio = gb ? intSqrt(10 * gb) : 1;
  return inactive * ratio < active;
}

/**
 * get_scan_count's SCAN_FRACT fractions (mm/vmscan.c, 6.1): from swappiness (0..200) and the
 * target lruvec's anon_cost / file_cost, [ap, fp] with the kernel's integer arithmetic; each
 * list's `size >> priority` is then scaled by fraction[type] / (ap + fp), rounded down.
 */
export function scanFractions(swappiness: number, anonCost: number, fileCost: number): [number, number] {
  let totalCost = anonCost + fileCost;
  const ac = totalCost + anonCost;
  const fc = totalCost + fileCost;
  totalCost = ac + fc;
  const ap = Math.floor((swappiness * (totalCost + 1)) / (ac + 1));
  const fp = Math.floor(((200 - swappiness) * (totalCost + 1)) / (fc + 1));
  return [ap, fp];
}

export class TwoListLru {
  /** isolate_lru_folios' batch (at most SWAP_CLUSTER_MAX entries) */
  private readonly batch = new Int32Array(SWAP_CLUSTER_MAX);
  /** the last get_scan_count's scan_balance, for tests */
  lastScanBalance = SCAN_EQUAL;

  constructor(private readonly c: TwoListContext) {}

  // --- hierarchical lruvec state (lruvec_page_state reads a memcg's subtree) ---

  private subtree(lv: Lruvec): Lruvec[] {
    const m = lv.owner as Memcg | null;
    if (!m || typeof m.subtree !== "function") return [lv];
    return m.subtree().map((x) => x.lruvecs[lv.nid]!);
  }

  /** lruvec_page_state(lv, NR_LRU_BASE + lru): pages on the list in lv's memcg and its descendants */
  lruPages(lv: Lruvec, lru: number): number {
    const li = listOf(lru);
    let n = 0;
    for (const l of this.subtree(lv)) n += l.count[li]!;
    return n;
  }

  private parentOf(lv: Lruvec): Lruvec | null {
    const m = lv.owner as Memcg | null;
    return m?.parent ? m.parent.lruvecs[lv.nid]! : null;
  }

  /** the root memcg's lruvec on nid (the target of global reclaim) */
  private rootOn(nid: number): Lruvec {
    return this.c.lruvecsOn(nid)[0]!;
  }

  /** inactive_is_low(lruvec, inactive_lru) */
  inactiveIsLow(lv: Lruvec, inactiveLru: number): boolean {
    return inactiveIsLowCounts(this.lruPages(lv, inactiveLru), this.lruPages(lv, inactiveLru + 1));
  }

  /** can_age_anon_pages: swap configured, or the node can demote */
  private canAgeAnon(nid: number): boolean {
    return this.c.totalSwapPages() > 0 || this.c.canDemote(nid);
  }

  /** workingset_age_nonresident: nonresident_age of lv and its ancestors += nr */
  ageNonresident(lv: Lruvec, nr: number): void {
    for (let l: Lruvec | null = lv; l; l = this.parentOf(l)) l.nonresidentAge += nr;
  }

  /** lru_note_cost: the type's cost on lv and its ancestors, halved when above a quarter of the LRU */
  noteCost(lv: Lruvec, file: number, nr: number): void {
    for (let l: Lruvec | null = lv; l; l = this.parentOf(l)) {
      l.cost[file]! += nr;
      const lrusize = this.lruPages(l, 0) + this.lruPages(l, 1) + this.lruPages(l, 2) + this.lruPages(l, 3);
      if (l.cost[0]! + l.cost[1]! > Math.floor(lrusize / 4)) {
        l.cost[0] = Math.floor(l.cost[0]! / 2);
        l.cost[1] = Math.floor(l.cost[1]! / 2);
      }
    }
  }

  // --- access and refault ---

  /**
   * folio_mark_accessed without MGLRU (buffered reads, mark_page_accessed): the first call sets
   * PG_referenced; a second on an inactive page activates it (folio_activate_fn: to the active
   * head, pgactivate) and clears PG_referenced (workingset_activation ages nonresident).
   */
  markPageAccessed(pfn: number): void {
    const { lru, mflags, ev } = this.c;
    if (!(mflags[pfn]! & PG_REFERENCED)) {
      mflags[pfn]! |= PG_REFERENCED;
      return;
    }
    if (mflags[pfn]! & PG_UNEVICTABLE) return;
    const lv = lru.lruvecOfPfn(pfn);
    if (!lv || lru.slot[pfn] === 1) return;
    const nr = lru.nrOf(pfn);
    lru.del(pfn);
    lru.add(lv, pfn, 1);
    ev[V.pgactivate]! += nr;
    mflags[pfn]! &= ~PG_REFERENCED;
    this.ageNonresident(lv, nr);
  }

  /**
   * workingset_eviction: the shadow's token for the page reclaim is about to free from lv:
   * nonresident_age (bucket_order 0 on 64-bit) shifted left once, PG_workingset in bit 0; then
   * nonresident_age grows by the page.
   */
  eviction(lv: Lruvec, pfn: number): number {
    const token = lv.nonresidentAge * 2 + (this.c.mflags[pfn]! & PG_WORKINGSET ? 1 : 0);
    this.ageNonresident(lv, this.c.lru.nrOf(pfn));
    return token;
  }

  /**
   * workingset_refault for the order-0 page at pfn, just added to `to`'s inactive list, whose
   * shadow came from lruvec `from` with `token`: workingset_refault_*; when the refault
   * distance (nonresident_age now minus at eviction) is within the workingset size (active
   * file, plus inactive file for anon, plus active anon, and inactive anon for file, when swap
   * has free slots) the page goes active (workingset_activate_*), and if it was active before
   * eviction PG_workingset is set, the cost noted and workingset_restore_* counted.
   */
  refault(from: Lruvec, to: Lruvec, token: number, type: number, pfn: number): void {
    const { ev, lru, mflags } = this.c;
    const file = type === FILE;
    ev[file ? V.workingset_refault_file : V.workingset_refault_anon]!++;
    const distance = from.nonresidentAge - Math.floor(token / 2);
    let size = this.lruPages(from, LRU_ACTIVE_FILE);
    if (!file) size += this.lruPages(from, LRU_INACTIVE_FILE);
    if (this.c.nrSwapPages() > 0) {
      size += this.lruPages(from, LRU_ACTIVE_ANON);
      if (file) size += this.lruPages(from, LRU_INACTIVE_ANON);
    }
    if (distance > size) return;
    // folio_set_active before folio_add_lru: onto the active list, no pgactivate
    if (lru.lruvecOfPfn(pfn) === to && lru.slot[pfn] === 0 && !(mflags[pfn]! & PG_UNEVICTABLE)) {
      lru.del(pfn);
      lru.add(to, pfn, 1);
    }
    this.ageNonresident(to, 1);
    ev[file ? V.workingset_activate_file : V.workingset_activate_anon]!++;
    to.activated[type]!++;
    if (token % 2 === 1) {
      mflags[pfn]! |= PG_WORKINGSET;
      this.noteCost(to, type, 1);
      ev[file ? V.workingset_restore_file : V.workingset_restore_anon]!++;
    }
  }

  // --- reclaim ---

  /** snapshot_refaults(NULL, pgdat): remember the node's workingset_activate counts */
  snapshotRefaults(nid: number): void {
    const root = this.rootOn(nid);
    root.refaultsSnap[0] = this.activatedSum(nid, ANON);
    root.refaultsSnap[1] = this.activatedSum(nid, FILE);
  }

  private activatedSum(nid: number, type: number): number {
    let n = 0;
    for (const l of this.c.lruvecsOn(nid)) n += l.activated[type]!;
    return n;
  }

  /** prepare_scan_count for global reclaim of node nid (the root memcg's lruvec is the target). */
  prepareScanCount(nid: number, sc: ScanControl): void {
    const target = this.rootOn(nid);
    sc.anonCost = target.cost[0]!;
    sc.fileCost = target.cost[1]!;
    if (!sc.forceDeactivate) {
      if (this.activatedSum(nid, ANON) !== target.refaultsSnap[0] || this.inactiveIsLow(target, LRU_INACTIVE_ANON)) sc.mayDeactivate |= DEACTIVATE_ANON;
      else sc.mayDeactivate &= ~DEACTIVATE_ANON;
      if (this.activatedSum(nid, FILE) !== target.refaultsSnap[1] || this.inactiveIsLow(target, LRU_INACTIVE_FILE)) sc.mayDeactivate |= DEACTIVATE_FILE;
      else sc.mayDeactivate &= ~DEACTIVATE_FILE;
    } else sc.mayDeactivate = DEACTIVATE_ANON | DEACTIVATE_FILE;
    const shift = 2 ** sc.priority;
    const inactiveFile = this.lruPages(target, LRU_INACTIVE_FILE);
    sc.cacheTrimMode = Math.floor(inactiveFile / shift) > 0 && !(sc.mayDeactivate & DEACTIVATE_FILE);
    const free = this.c.nodeFree(nid);
    const file = this.lruPages(target, LRU_ACTIVE_FILE) + inactiveFile;
    const anon = this.lruPages(target, LRU_INACTIVE_ANON);
    sc.fileIsTiny = file + free <= this.c.nodeHighWmarks(nid) && !(sc.mayDeactivate & DEACTIVATE_ANON) && Math.floor(anon / shift) > 0;
  }

  /**
   * get_scan_count (global reclaim): pages to scan per lru_list (nr[0..3] in enum lru_list
   * order) of lv at sc.priority.
   */
  getScanCount(lv: Lruvec, sc: ScanControl, nr: Float64Array): void {
    const swappiness = this.c.swappiness();
    let balance: number;
    let fraction: [number, number] = [0, 0];
    let denominator = 0;
    // can_reclaim_anon_pages: free swap, or demotion
    if (!sc.maySwap || !(this.c.nrSwapPages() > 0 || this.c.canDemote(lv.nid))) balance = SCAN_FILE;
    else if (!sc.priority && swappiness) balance = SCAN_EQUAL;
    else if (sc.fileIsTiny) balance = SCAN_ANON;
    else if (sc.cacheTrimMode) balance = SCAN_FILE;
    else {
      balance = SCAN_FRACT;
      fraction = scanFractions(swappiness, sc.anonCost, sc.fileCost);
      denominator = fraction[0] + fraction[1];
    }
    this.lastScanBalance = balance;
    for (let lru = 0; lru < 4; lru++) {
      const file = lru >> 1;
      let scan = Math.floor(lv.count[listOf(lru)]! / 2 ** sc.priority);
      if (balance === SCAN_FRACT) scan = Number((BigInt(scan) * BigInt(fraction[file]!)) / BigInt(denominator));
      else if (balance === SCAN_FILE || balance === SCAN_ANON) {
        if ((balance === SCAN_FILE) !== (file === 1)) scan = 0;
      }
      nr[lru] = scan;
    }
  }

  private readonly nr = new Float64Array(4);
  private readonly targets = new Float64Array(4);

  /** shrink_lruvec without MGLRU: get_scan_count's lists in SWAP_CLUSTER_MAX bites, then the anon rebalance. */
  shrinkLruvec(lv: Lruvec, sc: ScanControl): void {
    const nr = this.nr;
    const targets = this.targets;
    this.getScanCount(lv, sc, nr);
    targets.set(nr);
    const proportional = !sc.kswapd && sc.priority === DEF_PRIORITY;
    let reclaimed = 0;
    while (nr[LRU_INACTIVE_ANON] || nr[LRU_ACTIVE_FILE] || nr[LRU_INACTIVE_FILE]) {
      for (let lru = 0; lru < 4; lru++) {
        if (nr[lru]) {
          const n = Math.min(nr[lru]!, SWAP_CLUSTER_MAX);
          nr[lru]! -= n;
          reclaimed += this.shrinkList(lru, n, lv, sc);
        }
      }
      if (reclaimed < sc.nrToReclaim || proportional) continue;
      const nrFile = nr[LRU_INACTIVE_FILE]! + nr[LRU_ACTIVE_FILE]!;
      const nrAnon = nr[LRU_INACTIVE_ANON]! + nr[LRU_ACTIVE_ANON]!;
      if (!nrFile || !nrAnon) break;
      let lru: number;
      let percentage: number;
      if (nrFile > nrAnon) {
        const scanTarget = targets[LRU_INACTIVE_ANON]! + targets[LRU_ACTIVE_ANON]! + 1;
        lru = LRU_INACTIVE_ANON;
        percentage = Math.floor((nrAnon * 100) / scanTarget);
      } else {
        const scanTarget = targets[LRU_INACTIVE_FILE]! + targets[LRU_ACTIVE_FILE]! + 1;
        lru = LRU_INACTIVE_FILE;
        percentage = Math.floor((nrFile * 100) / scanTarget);
      }
      nr[lru] = 0;
      nr[lru + 1] = 0;
      lru = lru === LRU_INACTIVE_FILE ? LRU_INACTIVE_ANON : LRU_INACTIVE_FILE;
      for (const l of [lru, lru + 1]) {
        const scanned = targets[l]! - nr[l]!;
        nr[l] = Math.floor((targets[l]! * (100 - percentage)) / 100);
        nr[l]! -= Math.min(nr[l]!, scanned);
      }
    }
    sc.nrReclaimed += reclaimed;
    if (this.canAgeAnon(lv.nid) && this.inactiveIsLow(lv, LRU_INACTIVE_ANON)) this.shrinkActiveList(SWAP_CLUSTER_MAX, lv, sc, LRU_ACTIVE_ANON);
  }

  /** shrink_list: an active list is deactivated only when may_deactivate allows its type. */
  shrinkList(lru: number, n: number, lv: Lruvec, sc: ScanControl): number {
    if (lru & 1) {
      if (sc.mayDeactivate & (1 << (lru >> 1))) this.shrinkActiveList(n, lv, sc, lru);
      else sc.skippedDeactivate = true;
      return 0;
    }
    return this.shrinkInactiveList(n, lv, sc, lru);
  }

  /**
   * isolate_lru_folios: entries off the tail of lv's list `lru` until n pages are scanned (a
   * huge page counts 512), into the batch. Returns [entries, pages].
   */
  private isolate(n: number, lv: Lruvec, lru: number, reclaimIdx: number): [number, number] {
    const { lru: lg } = this.c;
    const li = listOf(lru);
    const limit = this.c.zoneIdxOf !== undefined && reclaimIdx < this.c.topZoneIdx!(lv.nid) ? reclaimIdx : -1;
    const skipped = this.skipped;
    skipped.length = 0;
    let k = 0;
    let scan = 0;
    let total = 0;
    while (scan < n && lv.tail[li]! >= 0 && k < this.batch.length) {
      const pfn = lv.tail[li]!;
      const nr = lg.nrOf(pfn);
      total += nr;
      lg.del(pfn);
      if (limit >= 0) {
        const zid = this.c.zoneIdxOf!(pfn);
        if (zid > limit) {
          // a folio of a zone above sc->reclaim_idx: set aside, counted in pgskip_<zone>
          this.c.ev[PGSKIP[zid]!]! += nr;
          skipped.push(pfn);
          continue;
        }
      }
      scan += nr;
      this.batch[k++] = pfn;
    }
    // list_splice(&folios_skipped, src): back at the head of the list, the last one set aside first
    const seq = lru & 1 ? lv.maxSeq : 0;
    for (let i = 0; i < skipped.length; i++) lg.add(lv, skipped[i]!, seq);
    return [k, total];
  }

  /** isolate_lru_folios' folios_skipped */
  private readonly skipped: number[] = [];

  /**
   * shrink_active_list: isolate up to n pages from the active list's tail (pgrefill), clear
   * their young bits (folio_referenced), and move each to the inactive head with PG_workingset
   * (pgdeactivate).
   */
  shrinkActiveList(n: number, lv: Lruvec, sc: ScanControl, lru: number): void {
    void sc;
    const { lru: lg, ev, mflags } = this.c;
    const [k, scanned] = this.isolate(n, lv, lru, sc.reclaimIdx);
    ev[V.pgrefill]! += scanned;
    let deactivated = 0;
    for (let i = 0; i < k; i++) {
      const pfn = this.batch[i]!;
      lg.testClearYoung(pfn); // folio_referenced: no VM_EXEC file folio is kept active
      mflags[pfn]! |= PG_WORKINGSET;
      lg.add(lv, pfn, 0);
      deactivated += lg.nrOf(pfn);
    }
    ev[V.pgdeactivate]! += deactivated;
  }

  /**
   * shrink_inactive_list: isolate up to n pages (pgscan_kswapd / _direct, pgscan_anon / _file),
   * shrink_folio_list over them, put back the kept and activated ones (pgactivate), count
   * pgsteal_* and note the cost of the pages written (lru_note_cost). Returns pages reclaimed.
   */
  shrinkInactiveList(n: number, lv: Lruvec, sc: ScanControl, lru: number): number {
    const { lru: lg, ev, flags, mflags } = this.c;
    const type = lru >> 1;
    const [k, scanned] = this.isolate(n, lv, lru, sc.reclaimIdx);
    ev[sc.kswapd ? V.pgscan_kswapd : V.pgscan_direct]! += scanned;
    ev[type === ANON ? V.pgscan_anon : V.pgscan_file]! += scanned;
    if (!k) return 0;
    let reclaimed = 0;
    let pageout = 0;
    let activate = 0;
    for (let i = 0; i < k; i++) {
      const pfn = this.batch[i]!;
      const nrPages = lg.nrOf(pfn);
      sc.nrScanned += nrPages;
      // folio_check_references
      const refPtes = lg.testClearYoung(pfn);
      const refFolio = (mflags[pfn]! & PG_REFERENCED) !== 0;
      mflags[pfn]! &= ~PG_REFERENCED;
      if (refPtes) {
        mflags[pfn]! |= PG_REFERENCED;
        if (refFolio) {
          activate += this.putback(lv, pfn, true);
          continue;
        }
        this.putback(lv, pfn, false); // FOLIOREF_KEEP
        continue;
      }
      // FOLIOREF_RECLAIM (_CLEAN for a referenced file folio: wsim's file pages reclaim alike);
      // back at the tail while shrink_folio_list works on it (demotion and eviction take it off)
      lg.add(lv, pfn, 0, false);
      if (nrPages > 1) {
        // shrink_folio_list on an anon huge page: add_to_swap takes a whole swap cluster (512
        // slots) when one is free and the folio is written in one I/O (thp_swpout; only its PMD
        // is split, by try_to_unmap); without one, thp_swpout_fallback and split_folio_to_list
        // (thp_split_page). A page-cache or demoted huge page is split. Either way its pages
        // wait at the inactive tail, and wsim writes and frees them one by one in the next scans
        const anonSwap = lg.typeOf(pfn) === ANON && !this.c.canDemote(lv.nid);
        const whole = anonSwap && this.c.nrSwapPages() >= nrPages;
        if (anonSwap && !whole) ev[V.thp_swpout_fallback]!++;
        this.c.splitHuge(pfn, whole);
        continue;
      }
      if (mflags[pfn]! & PG_LAZYFREE && flags[pfn]! & PG_DIRTY) {
        // try_to_unmap: a lazyfree folio written since MADV_FREE is swap-backed again; activate_locked
        lg.del(pfn);
        mflags[pfn]! &= ~PG_LAZYFREE;
        activate += this.putback(lv, pfn, true);
        continue;
      }
      if (this.c.demote(pfn, sc.kswapd)) {
        reclaimed++;
        continue;
      }
      const anon = lg.typeOf(pfn) === ANON;
      if (anon && this.c.swapCacheSlot(pfn) === 0 && this.c.nrSwapPages() <= 0) {
        lg.del(pfn);
        activate += this.putback(lv, pfn, true); // add_to_swap failed: activate_locked_split
        continue;
      }
      if (!sc.mayWritepage && (flags[pfn]! & PG_DIRTY || (anon && this.c.swapCacheSlot(pfn) === 0))) {
        lg.del(pfn);
        this.putback(lv, pfn, false); // pageout not allowed: keep_locked
        continue;
      }
      if (!(mflags[pfn]! & PG_LAZYFREE) && this.c.swapCacheSlot(pfn) === 0 && (anon || flags[pfn]! & PG_DIRTY)) pageout++;
      this.c.evict(lv, pfn, type);
      reclaimed++;
    }
    ev[V.pgactivate]! += activate;
    ev[sc.kswapd ? V.pgsteal_kswapd : V.pgsteal_direct]! += reclaimed;
    ev[type === ANON ? V.pgsteal_anon : V.pgsteal_file]! += reclaimed;
    if (pageout) this.noteCost(lv, type, pageout);
    return reclaimed;
  }

  /**
   * move_folios_to_lru for one folio: onto the head of its type's active (activate_locked:
   * PG_active set, counted by the caller as pgactivate; nonresident ages) or inactive list.
   * Returns the pages activated.
   */
  private putback(lv: Lruvec, pfn: number, active: boolean): number {
    const { lru } = this.c;
    lru.add(lv, pfn, active ? 1 : 0);
    if (!active) return 0;
    const nr = lru.nrOf(pfn);
    this.ageNonresident(lv, nr);
    return nr;
  }

  /**
   * kswapd_age_node: when the node's inactive anon list is low (and anon can age), one
   * shrink_active_list(SWAP_CLUSTER_MAX) of every memcg's active anon list.
   */
  ageNode(nid: number, sc: ScanControl): void {
    if (!this.canAgeAnon(nid)) return;
    if (!this.inactiveIsLow(this.rootOn(nid), LRU_INACTIVE_ANON)) return;
    for (const lv of this.c.lruvecsOn(nid)) this.shrinkActiveList(SWAP_CLUSTER_MAX, lv, sc, LRU_ACTIVE_ANON);
  }

  /** shrink_node → prepare_scan_count, then shrink_lruvec of every memcg's lruvec on nid. */
  shrinkNode(nid: number, sc: ScanControl): void {
    this.prepareScanCount(nid, sc);
    for (const lv of this.c.lruvecsOn(nid)) this.shrinkLruvec(lv, sc);
  }

  /**
   * do_try_to_free_pages without MGLRU: allocstall_<zone> of `reclaimIdx` (sc->reclaim_idx), priority from DEF_PRIORITY down to 0
   * over the nodes until SWAP_CLUSTER_MAX pages are reclaimed or compaction is ready (below
   * priority 10 may_writepage is set; it already is for direct reclaim); snapshot_refaults of
   * each node; with nothing reclaimed and a deactivation skipped, once more with
   * force_deactivate. Returns sc->nr_reclaimed.
   */
  directReclaim(nodes: readonly number[], compactionReady: () => boolean, reclaimIdx: number = ZONE_NORMAL): number {
    const sc = newScanControl(false, DEF_PRIORITY, SWAP_CLUSTER_MAX, true, reclaimIdx);
    for (;;) {
      this.c.ev[ALLOCSTALL[reclaimIdx]!]!++;
      for (; sc.priority >= 0; sc.priority--) {
        sc.nrScanned = 0;
        for (const nid of nodes) this.shrinkNode(nid, sc);
        if (sc.nrReclaimed >= sc.nrToReclaim || compactionReady()) break;
      }
      for (const nid of nodes) this.snapshotRefaults(nid);
      if (sc.nrReclaimed || !sc.skippedDeactivate || compactionReady()) return sc.nrReclaimed;
      sc.priority = DEF_PRIORITY;
      sc.forceDeactivate = true;
      sc.skippedDeactivate = false;
    }
  }
}
