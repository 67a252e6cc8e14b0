/**
 * __alloc_pages of Linux 6.1 over the zonelists: the fast path (get_page_from_freelist at
 * the low watermark, ALLOC_NOFRAGMENT on a one-node machine, as alloc_flags_nofragment
 * gives it when the node has no DMA32 zone below), then the slow path (wake kswapd on every
 * zonelist node, retry at the min watermark, then compaction and direct reclaim through
 * hooks that later subsystems fill in). zone_statistics counts numa_*; rmqueue counts
 * pgalloc_normal; freeing counts pgfree.
 */
import { V } from "../stats/counters.js";
import {
  ALLOC_KSWAPD, ALLOC_NOFRAGMENT, ALLOC_WMARK_LOW, ALLOC_WMARK_MASK, ALLOC_WMARK_MIN, GFP_DIRECT_RECLAIM,
  GFP_KSWAPD_RECLAIM,
} from "./constants.js";
import { Buddy, FPI_NONE, type Zone } from "./buddy.js";
import { PG_ALLOC, PG_HEAD } from "./pages.js";

export interface SlowPathHooks {
  /** wake_all_kswapds / wakeup_kswapd(zone, gfp, order, highest_zoneidx) */
  wakeKswapd?: (zone: Zone, order: number) => void;
  /** __alloc_pages_direct_compact; returns a pfn or -1 */
  directCompact?: (order: number, mt: number, gfp: number, zonelist: readonly number[], prio: "async" | "sync-light") => number;
  /** __alloc_pages_direct_reclaim: reclaim, then retry; returns a pfn or -1 */
  directReclaim?: (order: number, mt: number, gfp: number, zonelist: readonly number[]) => number;
}

export class PageAllocator {
  readonly buddy: Buddy;
  readonly zones: Zone[];
  readonly zonelists: number[][];
  readonly ev: Float64Array;
  hooks: SlowPathHooks = {};
  private readonly multiNode: boolean;
  /** zone of the last successful allocation */
  lastZone: Zone | null = null;

  constructor(buddy: Buddy, zonelists: number[][], ev: Float64Array) {
    this.buddy = buddy;
    this.zones = buddy.zones;
    this.zonelists = zonelists;
    this.ev = ev;
    this.multiNode = this.zones.length > 1;
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
    const zl = this.zonelists[prefNid]!;
    let flags = ALLOC_WMARK_LOW | (gfp & GFP_KSWAPD_RECLAIM ? ALLOC_KSWAPD : 0);
    if (!this.multiNode) flags |= ALLOC_NOFRAGMENT;
    let pfn = this.getPageFromFreelist(order, flags, zl, mt);
    if (pfn < 0) pfn = this.slowpath(order, mt, gfp, zl);
    if (pfn < 0) return -1;
    this.account(pfn, order, prefNid, cpuNid);
    return pfn;
  }

  private slowpath(order: number, mt: number, gfp: number, zl: readonly number[]): number {
    const flags = ALLOC_WMARK_MIN | (gfp & GFP_KSWAPD_RECLAIM ? ALLOC_KSWAPD : 0);
    const h = this.hooks;
    if (flags & ALLOC_KSWAPD && h.wakeKswapd) for (const nid of zl) h.wakeKswapd(this.zones[nid]!, order);
    let pfn = this.getPageFromFreelist(order, flags, zl, mt);
    if (pfn >= 0 || !(gfp & GFP_DIRECT_RECLAIM)) return pfn;
    const costly = order > 3 || (order > 0 && mt !== 1);
    if (costly && h.directCompact) {
      pfn = h.directCompact(order, mt, gfp, zl, "async");
      if (pfn >= 0) return pfn;
    }
    if (h.directReclaim) {
      pfn = h.directReclaim(order, mt, gfp, zl);
      if (pfn >= 0) return pfn;
    }
    if (h.directCompact) {
      pfn = h.directCompact(order, mt, gfp, zl, "sync-light");
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
          this.hooks.wakeKswapd?.(z, 0);
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

  /** __free_pages: return a block to the buddy lists of its pageblock's migratetype. */
  freePages(pfn: number, order: number): void {
    const p = this.buddy.pages;
    const n = 1 << order;
    for (let q = pfn; q < pfn + n; q++) p.flags[q] = 0;
    const z = this.zoneOf(pfn);
    this.buddy.freeOnePage(z, pfn, order, p.pbMt[pfn >>> 9]!, FPI_NONE);
    this.ev[V.pgfree]! += n;
  }
}
