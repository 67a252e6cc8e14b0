/**
 * The buddy allocator of Linux 6.1 mm/page_alloc.c over the typed arrays of pages.ts:
 * free lists per (zone, order, migratetype) as intrusive doubly linked lists of pfns,
 * __free_one_page (merging, head/tail placement by buddy_merge_likely), expand(),
 * __rmqueue_smallest, __rmqueue_fallback with steal_suitable_fallback (pageblock claiming,
 * watermark boosting), __zone_watermark_ok and zone_watermark_fast.
 *
 * The per-cpu page lists in front of it are pcp.ts's (PageAllocator uses them); this file is
 * the zone's free area. wsim simplifications: no CMA, no highatomic reserve, no guard pages,
 * page shuffling off.
 * This file knows nothing of the engine; hooks (reporting notify, kswapd wake-up) are
 * plain callbacks.
 */
import {
  FALLBACKS,
  MAX_ORDER,
  MIGRATE_TYPES,
  MT_HIGHATOMIC,
  MT_ISOLATE,
  MT_MOVABLE,
  MT_RECLAIMABLE,
  MT_UNMOVABLE,
  PAGEBLOCK_NR_PAGES,
  PAGEBLOCK_ORDER,
  ALLOC_KSWAPD,
  ALLOC_NOFRAGMENT,
} from "./constants.js";
import { PageArrays, PG_BUDDY, PG_LRU, PG_REPORTED } from "./pages.js";
import { listAdd, listAddBefore, listAddTail, listDel, listNext } from "./list.js";
import { MAX_NR_ZONES, ZONE_NAMES, ZONE_NORMAL } from "../machine/zones.js";

/** FPI_* flags of __free_one_page. */
export const FPI_NONE = 0;
export const FPI_TO_TAIL = 1;
export const FPI_SKIP_REPORT_NOTIFY = 2;
/** the aeration RFC's __free_one_page(..., aerated = true): back below the boundary, marked if unmerged */
export const FPI_AERATED = 4;

export const WMARK_MIN = 0;
export const WMARK_LOW = 1;
export const WMARK_HIGH = 2;
export const WMARK_PROMO = 3;

/**
 * One zone of one node (struct zone): its span, free area, watermarks and lowmem_reserve.
 * `idx` is its zone type (ZONE_DMA .. ZONE_MOVABLE of src/machine/zones.ts), `id` its index in
 * Memory.zones (all populated zones, node by node, by ascending zone type).
 */
export class Zone {
  readonly nid: number;
  /** zone type index, ZONE_DMA .. ZONE_MOVABLE */
  readonly idx: number;
  /** ZONE_NAMES[idx] */
  readonly name: string;
  /** index in Memory.zones / Buddy.zones */
  readonly id: number;
  /** zone_start_pfn */
  readonly start: number;
  /** zone_end_pfn, exclusive (start + spanned_pages, holes included) */
  readonly end: number;
  /** present_pages: spanned minus holes */
  readonly present: number;
  /** managed_pages: present minus memblock reservations (pages the buddy allocator may hold) */
  readonly managed: number;
  /**
   * lowmem_reserve[highest_zoneidx] (setup_per_zone_lowmem_reserve): pages an allocation whose
   * highest zone is above this one must leave here on top of the watermark
   */
  readonly lowmemReserve = new Float64Array(MAX_NR_ZONES);
  /** list heads / tails, index order * MIGRATE_TYPES + mt, -1 = empty */
  readonly head: Int32Array;
  readonly tail: Int32Array;
  /** free_area[order].nr_free: blocks per order */
  readonly nrFree: Int32Array;
  /** blocks per (order, mt) — the pagetypeinfo rows */
  readonly nrFreeMt: Int32Array;
  /** NR_FREE_PAGES */
  freePages = 0;
  /** _watermark[WMARK_MIN..WMARK_PROMO] */
  readonly wmark = new Float64Array(4);
  watermarkBoost = 0;
  /** ZONE_BOOSTED_WATERMARK */
  boosted = false;
  /** zone_statistics' NUMA events of this zone: numa_hit, miss, foreign, interleave, local, other (zoneinfo) */
  readonly numaEvents = new Float64Array(6);
  /** free blocks per order flagged PageReported (aerated), for the gauges and --check */
  readonly reported = new Int32Array(MAX_ORDER);
  /**
   * The aeration RFC's boundary per (order, mt): the first aerated block of a list whose tail
   * they fill, or -1. Always -1 in reporting mode, where reported blocks just sit where they
   * were put back.
   */
  readonly boundary: Int32Array;

  /**
   * A zone of node `nid` spanning [start, start + nrPages), `idx` its type (default Normal,
   * wsim's flat layout), with `present` and `managed` pages (default all of it) and index `id`
   * in the machine's zone list (default the node id: one zone per node).
   */
  constructor(nid: number, start: number, nrPages: number, idx = ZONE_NORMAL, present = nrPages, managed = present, id = nid) {
    this.nid = nid;
    this.idx = idx;
    this.name = ZONE_NAMES[idx]!;
    this.id = id;
    this.start = start;
    this.end = start + nrPages;
    this.present = present;
    this.managed = managed;
    this.head = new Int32Array(MAX_ORDER * MIGRATE_TYPES).fill(-1);
    this.tail = new Int32Array(MAX_ORDER * MIGRATE_TYPES).fill(-1);
    this.nrFree = new Int32Array(MAX_ORDER);
    this.nrFreeMt = new Int32Array(MAX_ORDER * MIGRATE_TYPES);
    this.boundary = new Int32Array(MAX_ORDER * MIGRATE_TYPES).fill(-1);
  }

  /** wmark_pages(): the mark including the boost */
  mark(i: number): number {
    return this.wmark[i]! + this.watermarkBoost;
  }

  contains(pfn: number): boolean {
    return pfn >= this.start && pfn < this.end;
  }
}

export interface BuddyHooks {
  /** page_reporting_notify_free(order), after a free that did not pass FPI_SKIP_REPORT_NOTIFY */
  notifyFree?: (zone: Zone, order: number) => void;
  /** a reported block left its free list: allocated or split (merging = false), or merged */
  reportedTaken?: (zone: Zone, pfn: number, order: number, merging: boolean) => void;
}

export class Buddy {
  readonly pages: PageArrays;
  readonly zones: Zone[];
  watermarkBoostFactor = 15000;
  hooks: BuddyHooks = {};
  /**
   * Free-list changes so far (blocks linked, unlinked or moved, by anyone: allocations, frees,
   * compaction, page reporting's isolation): a daemon that proved its pass a fixed point knows
   * the free lists are still as the pass left them while this has not moved (kcompactd's steady).
   */
  listChanges = 0;
  /**
   * Fallbacks taken: blocks __rmqueue_fallback took from another migratetype's lists, each of
   * which 6.1 reports as one kmem:mm_page_alloc_extfrag event (wsim_extfrag_fallbacks).
   */
  extfragFallbacks = 0;

  constructor(pages: PageArrays, zones: Zone[]) {
    this.pages = pages;
    this.zones = zones;
  }

  // --- free lists ---

  /**
   * add_to_free_list / add_to_free_list_tail: link a free block and mark it PageBuddy. In
   * aeration mode a raw block sent to the tail goes above the boundary (aerator_get_tail) and a
   * reported one to the very tail, becoming the boundary if it is the first.
   */
  addToFreeList(z: Zone, pfn: number, order: number, mt: number, toTail: boolean, reported = false): void {
    this.listChanges++;
    const p = this.pages;
    const li = order * MIGRATE_TYPES + mt;
    p.flags[pfn]! |= PG_BUDDY;
    p.order[pfn] = order;
    p.setListMt(pfn, order, mt);
    const links = p.linksOf(order);
    const bound = z.boundary[li]!;
    if (toTail && !reported && bound >= 0) listAddBefore(links, z.head, li, bound, pfn);
    else if (toTail) listAddTail(links, z.head, z.tail, li, pfn);
    else listAdd(links, z.head, z.tail, li, pfn);
    z.nrFree[order]!++;
    z.nrFreeMt[li]!++;
    if (reported) {
      p.flags[pfn]! |= PG_REPORTED;
      z.reported[order]!++;
      if (this.aeration && bound < 0) z.boundary[li] = pfn;
    }
  }

  /** aeration mode: reported blocks are kept contiguous at each list's tail */
  aeration = false;

  /**
   * Switches the free lists' layout between the two reporting modes (a write of
   * page_reporting.mode, or enabling it): into aeration, every list's reported blocks move,
   * in their order, to its tail and the first of them becomes the boundary, which is the
   * layout aerator_fill relies on (it takes raw blocks from the boundary toward the head);
   * out of it, the boundaries go. Reported blocks stay reported either way, as a host keeps
   * what it was given. O(free blocks).
   */
  setAeration(on: boolean): void {
    if (on === this.aeration) return;
    this.aeration = on;
    this.listChanges++;
    const p = this.pages;
    for (const z of this.zones) {
      z.boundary.fill(-1);
      if (!on) continue;
      for (let li = 0; li < z.head.length; li++) {
        const links = p.linksOf(Math.floor(li / MIGRATE_TYPES));
        const rep: number[] = [];
        for (let pfn = z.head[li]!; pfn >= 0; pfn = listNext(links, pfn)) if (p.flags[pfn]! & PG_REPORTED) rep.push(pfn);
        for (const pfn of rep) {
          listDel(links, z.head, z.tail, li, pfn);
          listAddTail(links, z.head, z.tail, li, pfn);
        }
        if (rep.length) z.boundary[li] = rep[0]!;
      }
    }
  }

  /**
   * del_page_from_free_list: unlink, clear PageBuddy and PageReported (a reported block taken
   * counts as reallocated unless it is merging).
   */
  delFromFreeList(z: Zone, pfn: number, order: number, merging = false): void {
    const f = this.pages.flags[pfn]!;
    this.unlink(z, pfn, order);
    this.pages.flags[pfn] = f & ~(PG_BUDDY | PG_REPORTED);
    z.nrFree[order]!--;
    if (f & PG_REPORTED) {
      z.reported[order]!--;
      this.hooks.reportedTaken?.(z, pfn, order, merging);
    }
  }

  /** Marks a free block reported (__SetPageReported), moving it to the aerated tail if needed. */
  markReported(z: Zone, pfn: number): void {
    const order = this.pages.order[pfn]!;
    const mt = this.pages.listMtOf(pfn, order);
    this.unlink(z, pfn, order);
    z.nrFree[order]!--;
    this.addToFreeList(z, pfn, order, mt, true, true);
  }

  /** move_to_free_list: list_move_tail onto another migratetype's list (flags kept). */
  moveToFreeList(z: Zone, pfn: number, order: number, mt: number): void {
    const reported = (this.pages.flags[pfn]! & PG_REPORTED) !== 0;
    this.unlink(z, pfn, order);
    z.nrFree[order]!--;
    if (reported) z.reported[order]!--;
    this.addToFreeList(z, pfn, order, mt, true, reported);
  }

  private unlink(z: Zone, pfn: number, order: number): void {
    this.listChanges++;
    const p = this.pages;
    const li = order * MIGRATE_TYPES + p.listMtOf(pfn, order);
    const links = p.linksOf(order);
    listDel(links, z.head, z.tail, li, pfn);
    z.nrFreeMt[li]!--;
    if (z.boundary[li] === pfn) z.boundary[li] = listNext(links, pfn);
  }

  /**
   * __isolate_free_page: take a free block off its list if an order-0 check at
   * min + 2^order allows it; a block of at least half a pageblock turns its pageblocks
   * Movable. Returns the pages isolated (0 if refused).
   */
  isolateFreePage(z: Zone, pfn: number, order: number): number {
    const p = this.pages;
    if (p.listMtOf(pfn, order) !== MT_ISOLATE) {
      const mark = z.wmark[WMARK_MIN]! + (1 << order);
      if (!this.zoneWatermarkOk(z, 0, mark, z.freePages)) return 0;
      z.freePages -= 1 << order;
    }
    this.delFromFreeList(z, pfn, order);
    if (order >= PAGEBLOCK_ORDER - 1) {
      for (let q = pfn; q < pfn + (1 << order); q += PAGEBLOCK_NR_PAGES) {
        const bi = q >>> PAGEBLOCK_ORDER;
        if (isMergeable(p.pbMt[bi]!)) p.pbMt[bi] = MT_MOVABLE;
      }
    }
    return 1 << order;
  }

  /** page_is_buddy: `buddy` is a free block of exactly `order` in zone z. */
  isBuddy(z: Zone, buddy: number, order: number): boolean {
    return (
      buddy >= z.start && buddy < z.end && (this.pages.flags[buddy]! & PG_BUDDY) !== 0 && this.pages.order[buddy] === order
    );
  }

  /**
   * current->capture_control while direct compaction runs compact_zone_order: the zone and
   * order it compacts for (captureZone null = no capture control), and the captured block's
   * first pfn (capc->page; -1 = none yet).
   */
  captureZone: Zone | null = null;
  captureOrder = 0;
  capturedPfn = -1;

  /**
   * __free_one_page: merge with free buddies up to MAX_ORDER-1 (not across pageblocks of
   * unmergeable types), then insert at the tail for FPI_TO_TAIL or when buddy_merge_likely,
   * else at the head; then notify page reporting. Counts NR_FREE_PAGES. With a capture
   * control on this zone (task_capc), a block that reaches exactly its order at any step of
   * the merging is handed to it instead (compaction_capture) and never listed.
   */
  freeOnePage(z: Zone, pfn: number, order: number, mt: number, fpi: number): void {
    const p = this.pages;
    const origOrder = order;
    if (mt !== MT_ISOLATE) z.freePages += 1 << order;
    // task_capc: only the compacting task's own frees in the zone it compacts, until one is taken
    const capc = this.captureZone === z && this.capturedPfn < 0;
    let buddyPfn = 0;
    while (order < MAX_ORDER - 1) {
      if (capc && compactionCapture(this.captureOrder, order, mt)) {
        // __mod_zone_freepage_state(zone, -(1 << order), migratetype)
        if (mt !== MT_ISOLATE) z.freePages -= 1 << order;
        this.capturedPfn = pfn;
        return;
      }
      buddyPfn = pfn ^ (1 << order);
      if (!this.isBuddy(z, buddyPfn, order)) break;
      if (order >= PAGEBLOCK_ORDER) {
        const bmt = p.pbMt[buddyPfn >>> PAGEBLOCK_ORDER]!;
        if (mt !== bmt && (!isMergeable(mt) || !isMergeable(bmt))) break;
      }
      this.delFromFreeList(z, buddyPfn, order, true);
      pfn &= buddyPfn;
      order++;
    }
    buddyPfn = pfn ^ (1 << order);
    let toTail: boolean;
    if (fpi & FPI_TO_TAIL) toTail = true;
    else toTail = this.buddyMergeLikely(z, pfn, buddyPfn, order);
    // the aeration RFC's put-back: an unmerged block goes below the boundary, marked aerated
    this.addToFreeList(z, pfn, order, mt, toTail, (fpi & FPI_AERATED) !== 0 && order === origOrder);
    if (!(fpi & FPI_SKIP_REPORT_NOTIFY) && this.hooks.notifyFree) this.hooks.notifyFree(z, order);
  }

  /** buddy_merge_likely: is the order+1 buddy of the combined block free already? */
  buddyMergeLikely(z: Zone, pfn: number, buddyPfn: number, order: number): boolean {
    if (order >= MAX_ORDER - 2) return false;
    const combined = buddyPfn & pfn;
    const higherBuddy = combined ^ (1 << (order + 1));
    return this.isBuddy(z, higherBuddy, order + 1);
  }

  /** expand(): split a block of order `high` down to `low`, upper halves to the list heads. */
  expand(z: Zone, pfn: number, low: number, high: number, mt: number): void {
    let size = 1 << high;
    while (high > low) {
      high--;
      size >>>= 1;
      this.addToFreeList(z, pfn + size, high, mt, false);
    }
  }

  /** __rmqueue_smallest: the first block of the smallest order >= order on mt's lists. */
  rmqueueSmallest(z: Zone, order: number, mt: number): number {
    for (let o = order; o < MAX_ORDER; o++) {
      const pfn = z.head[o * MIGRATE_TYPES + mt]!;
      if (pfn < 0) continue;
      this.delFromFreeList(z, pfn, o);
      this.expand(z, pfn, order, o, mt);
      return pfn;
    }
    return -1;
  }

  /** find_suitable_fallback: first non-empty fallback list at this order; sets this.canSteal. */
  private canSteal = false;
  findSuitableFallback(z: Zone, order: number, mt: number, onlyStealable: boolean): number {
    this.canSteal = false;
    if (z.nrFree[order] === 0) return -1;
    for (const fmt of FALLBACKS[mt]!) {
      if (z.head[order * MIGRATE_TYPES + fmt]! < 0) continue;
      if (canStealFallback(order, mt)) this.canSteal = true;
      if (!onlyStealable) return fmt;
      if (this.canSteal) return fmt;
    }
    return -1;
  }

  /**
   * __rmqueue_fallback: take the largest block of another type (smallest when a movable
   * request could not steal the whole block) and steal_suitable_fallback() it. True if a
   * block was moved onto `startMt`'s lists.
   */
  rmqueueFallback(z: Zone, order: number, startMt: number, allocFlags: number): boolean {
    const minOrder = allocFlags & ALLOC_NOFRAGMENT ? PAGEBLOCK_ORDER : order;
    let cur = MAX_ORDER - 1;
    let fmt = -1;
    for (; cur >= minOrder; cur--) {
      fmt = this.findSuitableFallback(z, cur, startMt, false);
      if (fmt === -1) continue;
      if (!this.canSteal && startMt === MT_MOVABLE && cur > order) {
        // find_smallest
        for (cur = order; cur < MAX_ORDER; cur++) {
          fmt = this.findSuitableFallback(z, cur, startMt, false);
          if (fmt !== -1) break;
        }
      }
      const pfn = z.head[cur * MIGRATE_TYPES + fmt]!;
      this.stealSuitableFallback(z, pfn, allocFlags, startMt, this.canSteal);
      // trace_mm_page_alloc_extfrag follows steal_suitable_fallback once per fallback
      this.extfragFallbacks++;
      return true;
    }
    return false;
  }

  /** steal_suitable_fallback: claim the pageblock when enough of it is free or alike. */
  stealSuitableFallback(z: Zone, pfn: number, allocFlags: number, startMt: number, wholeBlock: boolean): void {
    const p = this.pages;
    const curOrder = p.order[pfn]!;
    const oldMt = p.pbMt[pfn >>> PAGEBLOCK_ORDER]!;
    if (oldMt === MT_HIGHATOMIC) {
      this.moveToFreeList(z, pfn, curOrder, startMt);
      return;
    }
    if (curOrder >= PAGEBLOCK_ORDER) {
      // change_pageblock_range
      const first = pfn >>> PAGEBLOCK_ORDER;
      for (let b = 0; b < 1 << (curOrder - PAGEBLOCK_ORDER); b++) p.pbMt[first + b] = startMt;
      this.moveToFreeList(z, pfn, curOrder, startMt);
      return;
    }
    if (this.boostWatermark(z) && allocFlags & ALLOC_KSWAPD) z.boosted = true;
    if (!wholeBlock) {
      this.moveToFreeList(z, pfn, curOrder, startMt);
      return;
    }
    const r = this.moveFreepagesBlock(z, pfn, startMt);
    const freePages = r.moved;
    let alike: number;
    if (startMt === MT_MOVABLE) alike = r.movable;
    else if (oldMt === MT_MOVABLE) alike = PAGEBLOCK_NR_PAGES - (freePages + r.movable);
    else alike = 0;
    if (!freePages) {
      this.moveToFreeList(z, pfn, curOrder, startMt);
      return;
    }
    if (freePages + alike >= 1 << (PAGEBLOCK_ORDER - 1)) p.pbMt[pfn >>> PAGEBLOCK_ORDER] = startMt;
  }

  private readonly moveResult = { moved: 0, movable: 0 };
  /**
   * move_freepages_block: move every free block of pfn's pageblock onto mt's lists (tail);
   * count the pages moved and the LRU (movable) pages seen. Nothing if the pageblock
   * crosses the zone boundary.
   */
  moveFreepagesBlock(z: Zone, pfn: number, mt: number): { moved: number; movable: number } {
    const p = this.pages;
    const r = this.moveResult;
    r.moved = 0;
    r.movable = 0;
    const start = pfn & ~(PAGEBLOCK_NR_PAGES - 1);
    const end = start + PAGEBLOCK_NR_PAGES - 1;
    if (!z.contains(start) || !z.contains(end)) return r;
    for (let q = start; q <= end; ) {
      const f = p.flags[q]!;
      if (!(f & PG_BUDDY)) {
        if (f & PG_LRU) r.movable++;
        q++;
        continue;
      }
      const o = p.order[q]!;
      this.moveToFreeList(z, q, o, mt);
      q += 1 << o;
      r.moved += 1 << o;
    }
    return r;
  }

  /** boost_watermark */
  boostWatermark(z: Zone): boolean {
    if (!this.watermarkBoostFactor) return false;
    if (PAGEBLOCK_NR_PAGES * 4 > z.managed) return false;
    let maxBoost = multFrac(z.wmark[WMARK_HIGH]!, this.watermarkBoostFactor, 10000);
    if (!maxBoost) return false;
    maxBoost = Math.max(PAGEBLOCK_NR_PAGES, maxBoost);
    z.watermarkBoost = Math.min(z.watermarkBoost + PAGEBLOCK_NR_PAGES, maxBoost);
    return true;
  }

  /**
   * __rmqueue then rmqueue_buddy's accounting: a block of `order` for `mt`, or -1.
   * The caller handles ZONE_BOOSTED_WATERMARK (it wakes kswapd).
   */
  rmqueue(z: Zone, order: number, mt: number, allocFlags: number): number {
    for (;;) {
      const pfn = this.rmqueueSmallest(z, order, mt);
      if (pfn >= 0) {
        // __mod_zone_freepage_state(zone, -(1 << order), get_pcppage_migratetype(page))
        z.freePages -= 1 << order;
        return pfn;
      }
      if (!this.rmqueueFallback(z, order, mt, allocFlags)) return -1;
    }
  }

  /**
   * __zone_watermark_ok with the flags wsim uses (no reserves, no CMA, no highatomic):
   * order-0 check against mark, then some list of order >= order for a PCP type.
   */
  zoneWatermarkOk(z: Zone, order: number, mark: number, freePages: number): boolean {
    freePages -= (1 << order) - 1;
    if (freePages <= mark) return false;
    if (!order) return true;
    for (let o = order; o < MAX_ORDER; o++) {
      if (z.nrFree[o] === 0) continue;
      const b = o * MIGRATE_TYPES;
      if (z.head[b + MT_UNMOVABLE]! >= 0 || z.head[b + MT_MOVABLE]! >= 0 || z.head[b + MT_RECLAIMABLE]! >= 0) return true;
    }
    return false;
  }

  /** zone_watermark_fast: the order-0 shortcut, then __zone_watermark_ok. */
  zoneWatermarkFast(z: Zone, order: number, mark: number): boolean {
    const free = z.freePages;
    if (!order && free > mark) return true;
    return this.zoneWatermarkOk(z, order, mark, free);
  }
}

/** can_steal_fallback */
export function canStealFallback(order: number, startMt: number): boolean {
  if (order >= PAGEBLOCK_ORDER) return true;
  return order >= PAGEBLOCK_ORDER >> 1 || startMt === MT_RECLAIMABLE || startMt === MT_UNMOVABLE;
}

/**
 * compaction_capture (6.1 mm/page_alloc.c): a block of exactly the order compaction runs for,
 * not from an isolated (or CMA) pageblock, and not a sub-pageblock block of a Movable one
 * ("do not let lower order allocations pollute a movable pageblock").
 */
export function compactionCapture(captureOrder: number, order: number, mt: number): boolean {
  if (order !== captureOrder) return false;
  if (mt === MT_ISOLATE) return false;
  if (order < PAGEBLOCK_ORDER && mt === MT_MOVABLE) return false;
  return true;
}

/** migratetype_is_mergeable: not HighAtomic, CMA or Isolate. */
function isMergeable(mt: number): boolean {
  return mt < MT_HIGHATOMIC;
}

/** mult_frac(x, n, d) of include/linux/math.h, on non-negative integers. */
export function multFrac(x: number, n: number, d: number): number {
  const q = Math.floor(x / d);
  const r = x % d;
  return q * n + Math.floor((r * n) / d);
}
