/**
 * __alloc_pages of Linux 6.1 over the zonelists: the fast path (get_page_from_freelist at
 * the low watermark, ALLOC_NOFRAGMENT on a one-node machine, as alloc_flags_nofragment
 * gives it when the node has no DMA32 zone below), then the slow path (wake kswapd on every
 * zonelist node, retry at the min watermark, then compaction and direct reclaim through
 * hooks that later subsystems fill in). zone_statistics counts numa_*; rmqueue counts
 * pgalloc_normal; freeing counts pgfree.
 */
import type { MmObserver } from "../plugin/observer.js";
import { V } from "../stats/counters.js";
import {
  ALLOC_KSWAPD, ALLOC_NOFRAGMENT, ALLOC_WMARK_LOW, ALLOC_WMARK_MASK, ALLOC_WMARK_MIN, GFP_DIRECT_RECLAIM,
  GFP_KSWAPD_RECLAIM, GFP_NORETRY, GFP_THISNODE, MT_MOVABLE, PAGE_ALLOC_COSTLY_ORDER,
} from "./constants.js";
import { Buddy, FPI_NONE, type Zone } from "./buddy.js";
import { PG_ALLOC, PG_HEAD } from "./pages.js";

export interface SlowPathHooks {
  /** wake_all_kswapds: wakeup_kswapd(zone, gfp, order, highest_zoneidx) */
  wakeKswapd?: (zone: Zone, order: number, gfp: number) => void;
  /** __alloc_pages_direct_compact at a priority (PRIO_ASYNC / PRIO_SYNC_LIGHT); a pfn or -1 */
  directCompact?: (order: number, mt: number, allocFlags: number, zonelist: readonly number[], prio: number) => number;
  /** the compact_result of the last directCompact */
  compactResult?: () => number;
  /** __alloc_pages_direct_reclaim with should_reclaim_retry's loop; a pfn or -1 */
  directReclaim?: (order: number, mt: number, allocFlags: number, zonelist: readonly number[]) => number;
}

/** enum compact_priority / compact_result values the slow path looks at */
const PRIO_SYNC_LIGHT = 1;
const PRIO_ASYNC = 2;
const COMPACT_SKIPPED = 1;
const COMPACT_DEFERRED = 2;

export class PageAllocator {
  readonly buddy: Buddy;
  readonly zones: Zone[];
  readonly zonelists: number[][];
  readonly ev: Float64Array;
  hooks: SlowPathHooks = {};
  private readonly multiNode: boolean;
  /** the one-node zonelists of __GFP_THISNODE */
  private readonly thisNode: number[][];
  /** zone of the last successful allocation */
  lastZone: Zone | null = null;
  /**
   * the allocation in progress got a block direct compaction captured (compaction_capture):
   * it never went through rmqueue, so 6.1 counts neither pgalloc nor zone_statistics for it
   */
  captured = false;

  constructor(buddy: Buddy, zonelists: number[][], ev: Float64Array) {
    this.buddy = buddy;
    this.zones = buddy.zones;
    this.zonelists = zonelists;
    this.ev = ev;
    this.multiNode = this.zones.length > 1;
    this.thisNode = this.zones.map((z) => [z.nid]);
  }

  zoneOf(pfn: number): Zone {
    const zs = this.zones;
    if (zs.length === 1) return zs[0]!;
    for (let i = 0; i < zs.length; i++) if (pfn < zs[i]!.end) return zs[i]!;
    return zs[zs.length - 1]!;
  }

  /**
   * __alloc_pages: a block of 2^order pages of migratetype mt, preferring node `prefNid`,
   * from a CPU on `cpuNid`. Returns the first pfn or -1. Marks the block allocated.
   */
  allocPages(order: number, mt: number, gfp: number, prefNid: number, cpuNid: number): number {
    const zl = gfp & GFP_THISNODE ? this.thisNode[prefNid]! : this.zonelists[prefNid]!;
    let flags = ALLOC_WMARK_LOW | (gfp & GFP_KSWAPD_RECLAIM ? ALLOC_KSWAPD : 0);
    if (!this.multiNode) flags |= ALLOC_NOFRAGMENT;
    this.captured = false;
    let pfn = this.getPageFromFreelist(order, flags, zl, mt);
    if (pfn < 0) pfn = this.slowpath(order, mt, gfp, zl);
    if (pfn < 0) return -1;
    this.account(pfn, order, prefNid, cpuNid);
    return pfn;
  }

  /**
   * __alloc_pages_slowpath (6.1), as SPEC §4.3 reduces it: wake kswapd on the zonelist's nodes
   * (if the gfp allows), retry at the min watermark; with direct reclaim allowed, async
   * compaction first for costly orders (> 3, or > 0 and not movable; a costly __GFP_NORETRY
   * request gives up when it was skipped or deferred), direct reclaim, compaction again (async
   * under __GFP_NORETRY, else sync-light); then give up.
   */
  private slowpath(order: number, mt: number, gfp: number, zl: readonly number[]): number {
    const flags = ALLOC_WMARK_MIN | (gfp & GFP_KSWAPD_RECLAIM ? ALLOC_KSWAPD : 0);
    const h = this.hooks;
    if (flags & ALLOC_KSWAPD && h.wakeKswapd) for (const nid of zl) h.wakeKswapd(this.zones[nid]!, order, gfp);
    let pfn = this.getPageFromFreelist(order, flags, zl, mt);
    if (pfn >= 0 || !(gfp & GFP_DIRECT_RECLAIM)) return pfn;
    const costly = order > PAGE_ALLOC_COSTLY_ORDER;
    if (h.directCompact && (costly || (order > 0 && mt !== MT_MOVABLE))) {
      pfn = h.directCompact(order, mt, flags, zl, PRIO_ASYNC);
      if (pfn >= 0) return pfn;
      if (costly && gfp & GFP_NORETRY) {
        const r = h.compactResult?.();
        if (r === COMPACT_SKIPPED || r === COMPACT_DEFERRED) return -1;
      }
    }
    if (h.directReclaim) {
      pfn = h.directReclaim(order, mt, flags, zl);
      if (pfn >= 0) return pfn;
    }
    if (h.directCompact) {
      pfn = h.directCompact(order, mt, flags, zl, gfp & GFP_NORETRY ? PRIO_ASYNC : PRIO_SYNC_LIGHT);
      if (pfn >= 0) return pfn;
    }
    return -1;
  }

  /** get_page_from_freelist: the first zonelist zone above its mark that has the block. */
  getPageFromFreelist(order: number, allocFlags: number, zl: readonly number[], mt: number): number {
    const buddy = this.buddy;
    for (;;) {
      const noFallback = allocFlags & ALLOC_NOFRAGMENT;
      for (let i = 0; i < zl.length; i++) {
        const z = this.zones[zl[i]!]!;
        const mark = z.mark(allocFlags & ALLOC_WMARK_MASK);
        if (!buddy.zoneWatermarkFast(z, order, mark)) continue;
        const pfn = buddy.rmqueue(z, order, mt, allocFlags);
        if (pfn < 0) continue;
        if (z.boosted) {
          z.boosted = false;
          this.hooks.wakeKswapd?.(z, 0, 0);
        }
        this.lastZone = z;
        return pfn;
      }
      if (!noFallback) return -1;
      allocFlags &= ~ALLOC_NOFRAGMENT;
    }
  }

  /** prep_new_page's bookkeeping plus rmqueue's pgalloc and zone_statistics. */
  private account(pfn: number, order: number, prefNid: number, cpuNid: number): void {
    const p = this.buddy.pages;
    const n = 1 << order;
    for (let q = pfn; q < pfn + n; q++) p.flags[q] = PG_ALLOC;
    p.flags[pfn] = PG_ALLOC | PG_HEAD;
    p.order[pfn] = order;
    if (this.observer !== null) this.observer.alloc(pfn, order, this.zoneOf(pfn).nid);
    if (this.captured) return; // PGALLOC and zone_statistics are rmqueue_buddy's / rmqueue_pcplist's
    const ev = this.ev;
    ev[V.pgalloc_normal]! += n;
    const nid = this.lastZone!.nid;
    if (nid === prefNid) ev[V.numa_hit]!++;
    else {
      ev[V.numa_miss]!++;
      ev[V.numa_foreign]!++;
    }
    if (nid === cpuNid) ev[V.numa_local]!++;
    else ev[V.numa_other]!++;
  }

  /** plugins observing allocations and frees, or null */
  observer: MmObserver | null = null;

  /** told of every block freed (the promotion ground truth forgets its pages) */
  onFree: ((pfn: number, order: number) => void) | null = null;

  /** __free_pages: return a block to the buddy lists of its pageblock's migratetype. */
  freePages(pfn: number, order: number): void {
    const p = this.buddy.pages;
    const n = 1 << order;
    this.onFree?.(pfn, order);
    for (let q = pfn; q < pfn + n; q++) p.flags[q] = 0;
    const z = this.zoneOf(pfn);
    if (this.observer !== null) this.observer.free(pfn, order, z.nid);
    this.buddy.freeOnePage(z, pfn, order, p.pbMt[pfn >>> 9]!, FPI_NONE);
    this.ev[V.pgfree]! += n;
  }
}
