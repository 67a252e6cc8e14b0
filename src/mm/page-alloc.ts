/**
 * __alloc_pages of Linux 6.1 over the zonelists: the fast path (get_page_from_freelist at
 * the low watermark, ALLOC_NOFRAGMENT on a one-node machine, as alloc_flags_nofragment
 * gives it when the node has no DMA32 zone below), then the slow path (wake kswapd on every
 * zonelist node, retry at the min watermark, then compaction and direct reclaim through
 * hooks that later subsystems fill in). rmqueue takes pcp orders from the current CPU's
 * per-cpu lists (pcp.ts: rmqueue_pcplist), others from the buddy (rmqueue_buddy); freeing
 * mirrors free_the_page (free_unref_page or __free_pages_ok). zone_statistics counts numa_*;
 * rmqueue counts pgalloc_<zone>; freeing counts pgfree.
 */
import type { MmObserver } from "../plugin/observer.js";
import { V } from "../stats/counters.js";
import {
  ALLOC_HARDER, ALLOC_HIGH, ALLOC_KSWAPD, ALLOC_NOFRAGMENT, ALLOC_WMARK_HIGH, ALLOC_WMARK_LOW, ALLOC_WMARK_MASK, ALLOC_WMARK_MIN, GFP_DIRECT_RECLAIM,
  GFP_HIGH, GFP_KSWAPD_RECLAIM, GFP_NORETRY, GFP_THISNODE, GFP_ZONEMASK, MT_MOVABLE, PAGE_ALLOC_COSTLY_ORDER,
} from "./constants.js";
import { ZONE_DMA32, ZONE_NORMAL } from "../machine/zones.js";
import { gfpZone } from "./zonelist.js";
import { Buddy, FPI_NONE, type Zone } from "./buddy.js";
import { PG_ALLOC, PG_HEAD } from "./pages.js";
import { pcpAllowedOrder, type PerCpuPages } from "./pcp.js";

export interface SlowPathHooks {
  /** wake_all_kswapds: wakeup_kswapd(zone, gfp, order, highest_zoneidx), once per node */
  wakeKswapd?: (zone: Zone, order: number, gfp: number, highestZoneidx: number) => void;
  /** __alloc_pages_direct_compact at a priority (PRIO_ASYNC / PRIO_SYNC_LIGHT); a pfn or -1 */
  directCompact?: (order: number, mt: number, allocFlags: number, zonelist: readonly Zone[], prio: number, highestZoneidx: number) => number;
  /** the compact_result of the last directCompact */
  compactResult?: () => number;
  /** __alloc_pages_direct_reclaim with should_reclaim_retry's loop; a pfn or -1 */
  directReclaim?: (order: number, mt: number, allocFlags: number, zonelist: readonly Zone[], highestZoneidx: number) => number;
  /**
   * out_of_memory for an allocation __alloc_pages_may_oom lets through: true when the
   * allocation should retry (a victim was killed and its memory freed), false for nopage (no
   * killable process, or the allocating process was the victim)
   */
  outOfMemory?: (order: number, gfp: number) => boolean;
}

/** enum compact_priority / compact_result values the slow path looks at */
const PRIO_SYNC_LIGHT = 1;
const PRIO_ASYNC = 2;
const COMPACT_SKIPPED = 1;
const COMPACT_DEFERRED = 2;

/** V.pgalloc_dma + zone index: pgalloc_dma, pgalloc_dma32, pgalloc_normal, pgalloc_movable */
const PGALLOC_BY_ZONE = [V.pgalloc_dma, V.pgalloc_dma32, V.pgalloc_normal, V.pgalloc_movable, V.pgalloc_device];

export class PageAllocator {
  readonly buddy: Buddy;
  /** every populated zone of the machine, node by node, by ascending zone index (Zone.id order) */
  readonly zones: Zone[];
  /** pgdat->node_zones: each node's populated zones by ascending zone index */
  readonly nodeZones: Zone[][];
  /**
   * ZONELIST_FALLBACK of each node (build_zonelists): node by node in the machine's zonelist
   * order (machine.ts zonelist), each node's populated zones from the highest index down
   * (build_zonerefs_node)
   */
  readonly zonelists: Zone[][];
  readonly ev: Float64Array;
  hooks: SlowPathHooks = {};
  private readonly nrNodes: number;
  /** ZONELIST_NOFALLBACK, the one-node zonelists of __GFP_THISNODE */
  private readonly thisNode: Zone[][];
  /** the CPU node of the allocation in progress */
  private cpuNid = 0;
  /** zone of the last successful allocation */
  lastZone: Zone | null = null;
  /** the preferred zone of the allocation in progress (ac->preferred_zoneref->zone) */
  private preferred: Zone | null = null;
  /**
   * the allocation in progress got a block direct compaction captured (compaction_capture):
   * it never went through rmqueue, so 6.1 counts neither pgalloc nor zone_statistics for it
   */
  captured = false;
  /** the per-cpu page lists (rmqueue_pcplist, free_unref_page), or null: every block goes to and from the buddy */
  pcp: PerCpuPages | null = null;
  /**
   * The CPU the event in progress runs on (the trace's `cpu`, else the first CPU of its node),
   * or -1 outside events (kernel threads): then an allocation uses the first CPU of its CPU
   * node and a free the first CPU of the freed block's node (SPEC §2 `cpu`).
   */
  cpu = -1;

  /**
   * `nodeZones[nid]`: the node's populated zones by ascending zone index; `nodeOrder[nid]`:
   * the node order of its zonelist (the node itself first).
   */
  constructor(buddy: Buddy, nodeZones: Zone[][], nodeOrder: readonly (readonly number[])[], ev: Float64Array) {
    this.buddy = buddy;
    this.zones = buddy.zones;
    this.nodeZones = nodeZones;
    this.ev = ev;
    this.nrNodes = nodeZones.length;
    const highToLow = (nid: number) => [...nodeZones[nid]!].reverse();
    this.zonelists = nodeOrder.map((order) => order.flatMap(highToLow));
    this.thisNode = nodeZones.map((_, nid) => highToLow(nid));
  }

  /** page_zone(pfn_to_page(pfn)): the zone whose span holds pfn. */
  zoneOf(pfn: number): Zone {
    const zs = this.zones;
    if (zs.length === 1) return zs[0]!;
    for (let i = 0; i < zs.length; i++) if (pfn < zs[i]!.end) return zs[i]!;
    return zs[zs.length - 1]!;
  }

  /** The zonelist an allocation from node `prefNid` with mask `gfp` walks. */
  zonelistFor(gfp: number, prefNid: number): Zone[] {
    return gfp & GFP_THISNODE ? this.thisNode[prefNid]! : this.zonelists[prefNid]!;
  }

  /**
   * __alloc_pages: a block of 2^order pages of migratetype mt, preferring node `prefNid`,
   * from a CPU on `cpuNid`, from the zones gfp_zone(gfp) allows. Returns the first pfn or -1.
   * Marks the block allocated.
   */
  allocPages(order: number, mt: number, gfp: number, prefNid: number, cpuNid: number): number {
    const zl = gfp & GFP_THISNODE ? this.thisNode[prefNid]! : this.zonelists[prefNid]!;
    const hz = gfp & GFP_ZONEMASK ? gfpZone(gfp) : ZONE_NORMAL;
    // prepare_alloc_pages: the first zone of the zonelist at or below highest_zoneidx
    let pref: Zone | null = null;
    for (let i = 0; i < zl.length; i++)
      if (zl[i]!.idx <= hz) {
        pref = zl[i]!;
        break;
      }
    if (!pref) return -1;
    this.preferred = pref;
    this.cpuNid = cpuNid;
    let flags = ALLOC_WMARK_LOW | (gfp & GFP_KSWAPD_RECLAIM ? ALLOC_KSWAPD : 0);
    if (this.nofragment(pref)) flags |= ALLOC_NOFRAGMENT;
    this.captured = false;
    let pfn = this.getPageFromFreelist(order, flags, zl, mt, hz);
    if (pfn < 0) pfn = this.slowpath(order, mt, gfp, zl, hz);
    if (pfn < 0) return -1;
    this.account(pfn, order, cpuNid);
    return pfn;
  }

  /**
   * alloc_flags_nofragment (CONFIG_ZONE_DMA32): ALLOC_NOFRAGMENT when the preferred zone is
   * Normal and, on a machine of several nodes, the node's DMA32 zone is populated
   */
  private nofragment(pref: Zone): boolean {
    if (pref.idx !== ZONE_NORMAL) return false;
    if (this.nrNodes > 1 && !this.nodeZones[pref.nid]!.some((z) => z.idx === ZONE_DMA32)) return false;
    return true;
  }

  /**
   * __alloc_pages_slowpath (6.1), as SPEC §4.3 reduces it: wake kswapd on the zonelist's nodes
   * (if the gfp allows), retry at the min watermark; with direct reclaim allowed, async
   * compaction first for costly orders (> 3, or > 0 and not movable; a costly __GFP_NORETRY
   * request gives up when it was skipped or deferred), direct reclaim, compaction again (async
   * under __GFP_NORETRY, else sync-light); then give up, unless __alloc_pages_may_oom lets
   * the OOM killer run (not __GFP_NORETRY, not costly, not __GFP_THISNODE, highest_zoneidx at
   * least Normal): a last attempt at the high watermark, out_of_memory, and after a kill the
   * whole retry again.
   */
  private slowpath(order: number, mt: number, gfp: number, zl: readonly Zone[], hz: number): number {
    // gfp_to_alloc_flags: __GFP_HIGH gives ALLOC_HIGH, and GFP_ATOMIC (the only __GFP_HIGH
    // user here, __GFP_ATOMIC without __GFP_NOMEMALLOC) ALLOC_HARDER
    const flags = ALLOC_WMARK_MIN | (gfp & GFP_KSWAPD_RECLAIM ? ALLOC_KSWAPD : 0) | (gfp & GFP_HIGH ? ALLOC_HIGH | ALLOC_HARDER : 0);
    const h = this.hooks;
    const costly = order > PAGE_ALLOC_COSTLY_ORDER;
    for (let pass = 0; ; pass++) {
      // retry: (the initial compaction comes once, before it)
      const pfn = this.slowpathPass(order, mt, gfp, zl, hz, flags, pass === 0);
      if (pfn !== -1) return pfn < 0 ? -1 : pfn;
      // __alloc_pages_may_oom: which allocations may invoke the OOM killer
      if (!h.outOfMemory || gfp & GFP_NORETRY || costly || gfp & GFP_THISNODE || hz < ZONE_NORMAL) return -1;
      // its last attempt: the high watermark, no reclaim
      const last = this.getPageFromFreelist(order, ALLOC_WMARK_HIGH, zl, mt, hz);
      if (last >= 0) return last;
      if (!h.outOfMemory(order, gfp)) return -1;
    }
  }

  /**
   * One pass of the slow path from `retry:` (with the initial async compaction when `first`):
   * a pfn, -1 to go on to the OOM decision, or -2 to fail at once (no direct reclaim allowed,
   * __GFP_NORETRY or a costly order).
   */
  private slowpathPass(order: number, mt: number, gfp: number, zl: readonly Zone[], hz: number, flags: number, first: boolean): number {
    const h = this.hooks;
    if (flags & ALLOC_KSWAPD && h.wakeKswapd) {
      // wake_all_kswapds: the first eligible zone of each node in the zonelist
      let last = -1;
      for (let i = 0; i < zl.length; i++) {
        const z = zl[i]!;
        if (z.idx > hz || z.nid === last) continue;
        last = z.nid;
        h.wakeKswapd(z, order, gfp, hz);
      }
    }
    let pfn = this.getPageFromFreelist(order, flags, zl, mt, hz);
    if (pfn >= 0) return pfn;
    if (!(gfp & GFP_DIRECT_RECLAIM)) return -2;
    const costly = order > PAGE_ALLOC_COSTLY_ORDER;
    if (first && h.directCompact && (costly || (order > 0 && mt !== MT_MOVABLE))) {
      pfn = h.directCompact(order, mt, flags, zl, PRIO_ASYNC, hz);
      if (pfn >= 0) return pfn;
      if (costly && gfp & GFP_NORETRY) {
        const r = h.compactResult?.();
        if (r === COMPACT_SKIPPED || r === COMPACT_DEFERRED) return -2;
      }
    }
    if (h.directReclaim) {
      pfn = h.directReclaim(order, mt, flags, zl, hz);
      if (pfn >= 0) return pfn;
    }
    if (h.directCompact) {
      pfn = h.directCompact(order, mt, flags, zl, gfp & GFP_NORETRY ? PRIO_ASYNC : PRIO_SYNC_LIGHT, hz);
      if (pfn >= 0) return pfn;
    }
    return gfp & GFP_NORETRY || costly ? -2 : -1;
  }

  /**
   * get_page_from_freelist: the first zonelist zone at or below highest_zoneidx `hz` that is
   * above its mark plus lowmem_reserve[hz] (zone_watermark_fast) and has the block. Under
   * ALLOC_NOFRAGMENT a zone of another node than the preferred one first retries without it.
   */
  getPageFromFreelist(order: number, allocFlags: number, zl: readonly Zone[], mt: number, hz: number = ZONE_NORMAL): number {
    const buddy = this.buddy;
    const prefNid = this.preferred ? this.preferred.nid : zl.length ? zl[0]!.nid : -1;
    retry: for (;;) {
      const noFallback = allocFlags & ALLOC_NOFRAGMENT;
      for (let i = 0; i < zl.length; i++) {
        const z = zl[i]!;
        if (z.idx > hz) continue;
        if (noFallback && this.nrNodes > 1 && z.nid !== prefNid) {
          allocFlags &= ~ALLOC_NOFRAGMENT;
          continue retry;
        }
        if (!buddy.zoneWatermarkFast(z, order, allocMark(z, allocFlags & ALLOC_WMARK_MASK, allocFlags, hz))) continue;
        // rmqueue: the pcp lists for the orders they keep, else (or when empty) rmqueue_buddy
        const pcp = this.pcp;
        let pfn = -1;
        if (pcp !== null && pcp.enabled && pcpAllowedOrder(order)) pfn = pcp.rmqueue(z, this.cpu >= 0 ? this.cpu : pcp.nodeCpu[this.cpuNid]!, order, mt, allocFlags);
        if (pfn < 0) pfn = buddy.rmqueue(z, order, mt, allocFlags);
        if (pfn < 0) continue;
        if (z.boosted) {
          z.boosted = false;
          this.hooks.wakeKswapd?.(z, 0, 0, z.idx);
        }
        this.lastZone = z;
        return pfn;
      }
      if (!noFallback) return -1;
      allocFlags &= ~ALLOC_NOFRAGMENT;
    }
  }

  /** prep_new_page's bookkeeping plus rmqueue's pgalloc and zone_statistics. */
  private account(pfn: number, order: number, cpuNid: number): void {
    const p = this.buddy.pages;
    const n = 1 << order;
    for (let q = pfn; q < pfn + n; q++) p.flags[q] = PG_ALLOC;
    p.flags[pfn] = PG_ALLOC | PG_HEAD;
    p.order[pfn] = order;
    if (this.observer !== null) this.observer.alloc(pfn, order, this.zoneOf(pfn).nid);
    if (this.captured) return; // PGALLOC and zone_statistics are rmqueue_buddy's / rmqueue_pcplist's
    const ev = this.ev;
    const z = this.lastZone!;
    ev[PGALLOC_BY_ZONE[z.idx]!]! += n;
    // zone_statistics(preferred_zoneref->zone, zone)
    // (per zone: hit, miss, local, other on the zone, foreign on the preferred zone)
    const nid = z.nid;
    const zn = z.numaEvents;
    if (nid === this.preferred!.nid) {
      ev[V.numa_hit]!++;
      zn[0]!++;
    } else {
      ev[V.numa_miss]!++;
      ev[V.numa_foreign]!++;
      zn[1]!++;
      this.preferred!.numaEvents[2]!++;
    }
    if (nid === cpuNid) {
      ev[V.numa_local]!++;
      zn[4]!++;
    } else {
      ev[V.numa_other]!++;
      zn[5]!++;
    }
  }

  /** drain_local_pages(zone): the current CPU's pcp of zone z (`cpu`, else the first CPU of z's node) back to the buddy. */
  drainLocalPages(z: Zone): void {
    const pcp = this.pcp;
    if (pcp === null || !pcp.enabled) return;
    pcp.drainZone(z, this.cpu >= 0 ? this.cpu : pcp.nodeCpu[z.nid]!);
  }

  /** drain_all_pages(zone): every CPU's pcp of zone z (of every zone for null) back to the buddy. */
  drainAllPages(z: Zone | null): void {
    const pcp = this.pcp;
    if (pcp === null || !pcp.enabled) return;
    pcp.drainAll(z);
  }

  /** plugins observing allocations and frees, or null */
  observer: MmObserver | null = null;

  /** told of every block freed (the promotion ground truth forgets its pages) */
  onFree: ((pfn: number, order: number) => void) | null = null;

  /** anon pages under swap writeback (swap-writeback.ts): an order-0 page freed leaves its queue */
  swapWb: { readonly flags: Uint8Array; freed(pfn: number): void } | null = null;

  /**
   * __free_pages -> free_the_page: a block of a pcp order goes to the pcp lists of the current
   * CPU (free_unref_page; `cpu`, else the first CPU of the block's node), any other to the buddy
   * lists of its pageblock's migratetype (__free_pages_ok). Counts pgfree either way.
   */
  freePages(pfn: number, order: number): void {
    const p = this.buddy.pages;
    const n = 1 << order;
    this.onFree?.(pfn, order);
    if (order === 0 && this.swapWb !== null && this.swapWb.flags.length !== 0 && this.swapWb.flags[pfn] !== 0) this.swapWb.freed(pfn);
    for (let q = pfn; q < pfn + n; q++) p.flags[q] = 0;
    const z = this.zoneOf(pfn);
    if (this.observer !== null) this.observer.free(pfn, order, z.nid);
    const pcp = this.pcp;
    if (pcp !== null && pcp.enabled && pcpAllowedOrder(order)) pcp.free(z, this.cpu >= 0 ? this.cpu : pcp.nodeCpu[z.nid]!, pfn, order);
    else this.buddy.freeOnePage(z, pfn, order, p.pbMt[pfn >>> 9]!, FPI_NONE);
    this.ev[V.pgfree]! += n;
  }
}

/**
 * The mark a zone is checked against for an allocation of highest zone index `hz`: watermark
 * `wmark` (WMARK_MIN/LOW/HIGH), cut as __zone_watermark_ok cuts it for allocFlags (ALLOC_HIGH:
 * min -= min / 2, then ALLOC_HARDER: min -= min / 4), plus lowmem_reserve[hz]. Pages.
 */
export function allocMark(z: Zone, wmark: number, allocFlags: number, hz: number): number {
  let mark = z.mark(wmark);
  if (allocFlags & ALLOC_HIGH) mark -= Math.floor(mark / 2);
  if (allocFlags & ALLOC_HARDER) mark -= Math.floor(mark / 4);
  return mark + z.lowmemReserve[hz]!;
}
