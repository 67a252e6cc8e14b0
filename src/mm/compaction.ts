/**
 * Memory compaction as Linux 6.1's mm/compaction.c does it: compact_zone runs the migrate
 * scanner up from the zone start and the free scanner down from the zone end, pageblock by
 * pageblock; isolate_migratepages takes at most COMPACT_CLUSTER_MAX (32) LRU pages a batch
 * from suitable source blocks (compound pages and non-LRU pages never move); isolate_freepages
 * takes free pages from Movable blocks (never from free blocks of pageblock order or more),
 * split to order 0; migrate_pages moves each page to a target; the run ends when the scanners
 * meet (COMPACT_COMPLETE / PARTIAL_SKIPPED) or __compact_finished finds the order free.
 * Cached scanner positions, pageblock skip bits, async mode's skip-on-failure and the free
 * scanner's stride, compaction_suitable with the fragmentation index, deferral
 * (defer_compaction, compaction_deferred, compaction_defer_reset, compaction_restarting) and
 * try_to_compact_pages for direct compaction are modelled; compact_node serves the `compact`
 * event.
 *
 * Direct compaction captures (compaction_capture): a block of the wanted order freed while
 * compact_zone_order runs is handed straight to the allocation.
 *
 * The free scanner first searches the free lists (fast_isolate_freepages, fast_isolate_around),
 * and so does the migrate scanner (fast_find_migrateblock, as 6.1.15 has it).
 *
 * Left out (documented): lock contention and need_resched.
 */
import { V } from "../stats/counters.js";
import { extfragForOrder, fragmentationIndex } from "../procfs/procfs.js";
import { Buddy, canStealFallback, WMARK_LOW, WMARK_MIN, type Zone } from "./buddy.js";
import {
  ALLOC_WMARK_MASK, FALLBACKS, MAX_ORDER, MIGRATE_TYPES, MT_MOVABLE, MT_UNMOVABLE, PAGE_ALLOC_COSTLY_ORDER, PAGEBLOCK_NR_PAGES,
  PAGEBLOCK_ORDER,
} from "./constants.js";
import { listNext, listPrev, listRotateToFront } from "./list.js";
import { migratePage, type MigrateContext } from "./migrate.js";
import { PG_ALLOC, PG_BUDDY, PG_HEAD, PG_LRU } from "./pages.js";
import type { PageAllocator } from "./page-alloc.js";
import { ZONE_NORMAL } from "../machine/zones.js";

/** enum compact_result, in 6.1's order (try_to_compact_pages takes the max). */
export const COMPACT_NOT_SUITABLE_ZONE = 0;
export const COMPACT_SKIPPED = 1;
export const COMPACT_DEFERRED = 2;
export const COMPACT_NO_SUITABLE_PAGE = 3;
export const COMPACT_CONTINUE = 4;
export const COMPACT_COMPLETE = 5;
export const COMPACT_PARTIAL_SKIPPED = 6;
export const COMPACT_CONTENDED = 7;
export const COMPACT_SUCCESS = 8;
export const RESULT_NAMES = [
  "not_suitable_zone", "skipped", "deferred", "no_suitable_page", "continue", "complete", "partial_skipped", "contended", "success",
];

/** enum compact_priority */
export const PRIO_SYNC_FULL = 0;
export const PRIO_SYNC_LIGHT = 1;
export const PRIO_ASYNC = 2;

/** enum migrate_mode */
export const MIGRATE_ASYNC = 0;
export const MIGRATE_SYNC_LIGHT = 1;
export const MIGRATE_SYNC = 2;

export const COMPACT_CLUSTER_MAX = 32;
export const COMPACT_MAX_DEFER_SHIFT = 6;
export const COMPACTION_HPAGE_ORDER = 9;

/** ULONG_MAX of cc->fast_start_pfn */
const FAST_START_USED = Number.MAX_SAFE_INTEGER;
const pbStart = (pfn: number) => pfn - (pfn % PAGEBLOCK_NR_PAGES);
const pbEnd = (pfn: number) => pbStart(pfn) + PAGEBLOCK_NR_PAGES;
const compactGap = (order: number) => 2 * 2 ** order;

/** The compaction fields of struct zone. */
export class ZoneCompaction {
  /** compact_cached_migrate_pfn[async, sync] */
  readonly cachedMigrate: [number, number];
  cachedFree: number;
  /** compact_init_migrate_pfn: 0 (the zeroed zone) until __reset_isolation_suitable sets it */
  initMigrate = 0;
  /**
   * compact_init_free_pfn: 0 (the zeroed zone) until __reset_isolation_suitable sets it to the
   * highest pfn of its walk whose pageblock has a free page among its samples (unaligned);
   * fast_isolate_freepages searches deeper while the free scanner is at or above it
   */
  initFree = 0;
  considered = 0;
  deferShift = 0;
  orderFailed = 0;
  blockskipFlush = false;
  constructor(readonly zone: Zone) {
    this.cachedMigrate = [zone.start, zone.start];
    this.cachedFree = pbStart(zone.end - 1);
  }
}

/** struct compact_control */
export class CompactControl {
  migratePfn = 0;
  freePfn = 0;
  /** isolated migration sources, in list order (list_add: the last isolated first) */
  migratepages: number[] = [];
  /** cc->nr_migratepages: the batch being migrated (free isolation stops at this many) */
  nrMigratepages = 0;
  /** isolated free order-0 targets, in list order */
  freepages: number[] = [];
  totalMigrateScanned = 0;
  totalFreeScanned = 0;
  rescan = false;
  /** cc->fast_search_fail: failed fast free searches in a row (shrinks freelist_scan_limit) */
  fastSearchFail = 0;
  /** cc->search_order: the order fast_isolate_freepages starts at (compact_zone_order: cc->order) */
  searchOrder: number;
  /**
   * cc->fast_start_pfn: the lowest free pfn fast_find_migrateblock took a block for (0 = none
   * yet, FAST_START_USED once reinit_migrate_pfn has restarted the linear scan there)
   */
  fastStartPfn = 0;
  constructor(
    /** cc->zone: set per zone by the callers that run one control over a node's zones */
    public zone: Zone,
    public zc: ZoneCompaction,
    readonly order: number,
    readonly migratetype: number,
    readonly mode: number,
    readonly opts: {
      direct?: boolean;
      wholeZone?: boolean;
      ignoreSkipHint?: boolean;
      ignoreBlockSuitable?: boolean;
      proactive?: boolean;
      allocFlags?: number;
    } = {},
  ) {
    this.searchOrder = order;
  }
  /** cc->whole_zone: once compact_zone sets it, it stays set for the control's later zones */
  wholeZone = false;
  /** cc->highest_zoneidx: the allocation's (direct), kcompactd_highest_zoneidx, or the zone's own */
  highestZoneidx = 0;
}

export interface CompactionEnv {
  extfragThreshold: () => number;
  proactiveness: () => number;
  kswapdRunning: (nid: number) => boolean;
  now: () => number;
}

export interface CompactionLogEntry {
  time_ms: number;
  nid: number;
  order: number;
  who: "direct" | "kcompactd" | "proactive" | "manual";
  prio?: number;
  /** the zone's name, on a node of several zones */
  zone?: string;
  result: string;
}

/** What a test or a curious user can watch: every block a scanner visits, every page moved. */
export interface CompactionTrace {
  /** [scanner, first pfn of the pageblock] in visiting order */
  visits: ["migrate" | "free", number][];
  /** [source pfn, target pfn] in migration order */
  moves: [number, number][];
}

export class Compaction {
  readonly zones: ZoneCompaction[];
  trace: CompactionTrace | null = null;
  /** every compaction attempt (direct, kcompactd, proactive, manual) with its result; null = off */
  log: CompactionLogEntry[] | null = null;
  /** PG_migrate_skip per pageblock */
  readonly skip: Uint8Array;
  private readonly buddy: Buddy;

  constructor(
    readonly alloc: PageAllocator,
    private readonly m: MigrateContext,
    private readonly env: CompactionEnv,
  ) {
    this.buddy = alloc.buddy;
    this.zones = alloc.zones.map((z) => new ZoneCompaction(z));
    this.skip = new Uint8Array(Math.ceil(this.buddy.pages.nrPages / PAGEBLOCK_NR_PAGES));
  }

  // --- suitability and deferral ---

  /**
   * __compaction_suitable, then the fragmentation index test of compaction_suitable; both
   * watermark tests include lowmem_reserve[highest_zoneidx] (default: the zone's own index,
   * whose reserve is 0)
   */
  suitable(zone: Zone, order: number, allocFlags: number, highestZoneidx = zone.idx): number {
    if (order === -1) return COMPACT_CONTINUE;
    const b = this.buddy;
    const reserve = zone.lowmemReserve[highestZoneidx]!;
    if (b.zoneWatermarkOk(zone, order, zone.mark(allocFlags & ALLOC_WMARK_MASK) + reserve, zone.freePages)) return COMPACT_SUCCESS;
    const mark = (order > PAGE_ALLOC_COSTLY_ORDER ? zone.mark(WMARK_LOW) : zone.mark(WMARK_MIN)) + compactGap(order) + reserve;
    if (!b.zoneWatermarkOk(zone, 0, mark, zone.freePages)) return COMPACT_SKIPPED;
    if (order > PAGE_ALLOC_COSTLY_ORDER) {
      const fi = fragmentationIndex(zone, order);
      if (fi >= 0 && fi <= this.env.extfragThreshold()) return COMPACT_SKIPPED; // NOT_SUITABLE_ZONE, reported as skipped
    }
    return COMPACT_CONTINUE;
  }

  /** compaction_deferred */
  deferred(zc: ZoneCompaction, order: number): boolean {
    const limit = 2 ** zc.deferShift;
    if (order < zc.orderFailed) return false;
    if (++zc.considered >= limit) {
      zc.considered = limit;
      return false;
    }
    return true;
  }

  /** defer_compaction */
  defer(zc: ZoneCompaction, order: number): void {
    zc.considered = 0;
    zc.deferShift++;
    if (order < zc.orderFailed) zc.orderFailed = order;
    if (zc.deferShift > COMPACT_MAX_DEFER_SHIFT) zc.deferShift = COMPACT_MAX_DEFER_SHIFT;
  }

  /** compaction_defer_reset */
  deferReset(zc: ZoneCompaction, order: number, allocSuccess: boolean): void {
    if (allocSuccess) {
      zc.considered = 0;
      zc.deferShift = 0;
    }
    if (order >= zc.orderFailed) zc.orderFailed = order + 1;
  }

  /** compaction_restarting */
  restarting(zc: ZoneCompaction, order: number): boolean {
    if (order < zc.orderFailed) return false;
    return zc.deferShift === COMPACT_MAX_DEFER_SHIFT && zc.considered >= 2 ** zc.deferShift;
  }

  /**
   * __reset_isolation_suitable (6.1), only when compact_blockskip_flush is set (a direct
   * compaction's scanners met since the last reset): the migrate side steps up from the zone's
   * first pfn and the free side down from its last, a pageblock at a time, until they meet.
   * A block's skip bit is cleared only where __reset_isolation_pfn finds a sample (every
   * 1 << PAGE_ALLOC_COSTLY_ORDER pfns from the block's start) that is an LRU page (source) or a
   * free page (target); until a side has found its first block it looks only for its own kind
   * (and the free side only in Movable blocks), afterwards for either, and a block whose bit is
   * already clear counts at once. The lowest source block becomes compact_init_migrate_pfn and
   * both cached migrate pfns, the highest target pfn of the walk (unaligned: the zone's last
   * pfn minus whole pageblocks) compact_init_free_pfn and compact_cached_free_pfn; when no pair
   * was found the cached scanners are left where the walk met ("no distance").
   */
  resetIsolationSuitable(zc: ZoneCompaction): void {
    if (!zc.blockskipFlush) return;
    zc.blockskipFlush = false;
    const z = zc.zone;
    let mig = z.start;
    let free = z.end - 1;
    let resetMigrate = free;
    let resetFree = mig;
    let sourceSet = false;
    let freeSet = false;
    for (; mig < free; mig += PAGEBLOCK_NR_PAGES, free -= PAGEBLOCK_NR_PAGES) {
      if (this.resetIsolationPfn(z, mig, true, sourceSet) && mig < resetMigrate) {
        sourceSet = true;
        resetMigrate = mig;
        zc.initMigrate = zc.cachedMigrate[0] = zc.cachedMigrate[1] = mig;
      }
      if (this.resetIsolationPfn(z, free, freeSet, true) && free > resetFree) {
        freeSet = true;
        resetFree = free;
        zc.initFree = zc.cachedFree = free;
      }
    }
    // leave no distance if no suitable block was reset
    if (resetMigrate >= resetFree) {
      zc.cachedMigrate[0] = zc.cachedMigrate[1] = mig;
      zc.cachedFree = free;
    }
  }

  /** __reset_isolation_pfn: may the block of pfn be a source/target again? Clears its skip bit if so. */
  private resetIsolationPfn(z: Zone, pfn: number, checkSource: boolean, checkTarget: boolean): boolean {
    const p = this.buddy.pages;
    if (this.skipPersistent(pfn)) return false;
    const bi = Math.floor(pfn / PAGEBLOCK_NR_PAGES);
    // if skip is already cleared do no further checking once the restart points have been set
    if (checkSource && checkTarget && !this.skip[bi]) return true;
    // clearing skip for the target scanner: not a non-movable pageblock as the starting point
    if (!checkSource && checkTarget && p.pbMt[bi] !== MT_MOVABLE) return false;
    const first = Math.max(pbStart(pfn), z.start);
    const last = Math.min(pbEnd(first) - 1, z.end - 1);
    for (let q = first; q <= last; q += 1 << PAGE_ALLOC_COSTLY_ORDER) {
      const f = p.flags[q]!;
      if ((checkSource && f & PG_LRU) || (checkTarget && f & PG_BUDDY)) {
        this.skip[bi] = 0;
        return true;
      }
    }
    return false;
  }

  /** pageblock_skip_persistent: pfn is part of a compound page of pageblock order or more (a mapped THP) */
  private skipPersistent(pfn: number): boolean {
    const p = this.buddy.pages;
    const f = p.flags[pfn]!;
    if (!(f & PG_LRU)) return false;
    if (f & PG_HEAD) return p.order[pfn]! >= PAGEBLOCK_ORDER;
    const head = pfn - (pfn % PAGEBLOCK_NR_PAGES); // a THP's tail: its head is the aligned pfn
    return (p.flags[head]! & PG_HEAD) !== 0 && p.order[head]! >= PAGEBLOCK_ORDER;
  }

  private resetCachedPositions(zc: ZoneCompaction): void {
    zc.cachedMigrate[0] = zc.cachedMigrate[1] = zc.zone.start;
    zc.cachedFree = pbStart(zc.zone.end - 1);
  }

  // --- proactive compaction's score ---

  /** fragmentation_score_zone */
  scoreZone(z: Zone): number {
    return extfragForOrder(z, COMPACTION_HPAGE_ORDER);
  }

  /**
   * fragmentation_score_node: the sum over the node's populated zones of
   * fragmentation_score_zone_weighted, present * score / (node_present_pages + 1)
   */
  scoreNode(nid: number): number {
    const zs = this.alloc.nodeZones[nid]!;
    let nodePresent = 0;
    for (const z of zs) nodePresent += z.present;
    let score = 0;
    for (const z of zs) score += Math.floor((z.present * this.scoreZone(z)) / (nodePresent + 1));
    return score;
  }

  /** fragmentation_score_wmark (6.1) */
  scoreWmark(low: boolean): number {
    const l = Math.max(100 - this.env.proactiveness(), 5);
    return low ? l : Math.min(l + 10, 100);
  }

  // --- compact_zone ---

  /**
   * compact_zone: returns a compact_result; scanned counts are left in cc. `capc`: direct
   * compaction's capture_control is set (compact_zone_order), so the run stops as soon as a
   * block of cc.order freed by migration has been captured.
   */
  compactZone(cc: CompactControl, capc = false): number {
    const { zone: z, zc } = cc;
    const sync = cc.mode !== MIGRATE_ASYNC ? 1 : 0;
    cc.totalMigrateScanned = cc.totalFreeScanned = 0; // per zone (a control may serve several)
    if (cc.order !== -1 && !cc.opts.proactive) {
      const r = this.suitable(z, cc.order, cc.opts.allocFlags ?? 0, cc.highestZoneidx);
      if (r === COMPACT_SUCCESS || r === COMPACT_SKIPPED) return r;
    }
    if (this.restarting(zc, cc.order)) this.resetIsolationSuitable(zc);
    cc.fastStartPfn = 0;
    if (cc.opts.wholeZone) cc.wholeZone = true;
    if (cc.wholeZone) {
      cc.migratePfn = z.start;
      cc.freePfn = pbStart(z.end - 1);
    } else {
      cc.migratePfn = zc.cachedMigrate[sync]!;
      cc.freePfn = zc.cachedFree;
      if (cc.freePfn < z.start || cc.freePfn >= z.end) zc.cachedFree = cc.freePfn = pbStart(z.end - 1);
      if (cc.migratePfn < z.start || cc.migratePfn >= z.end) cc.migratePfn = zc.cachedMigrate[0] = zc.cachedMigrate[1] = z.start;
      if (cc.migratePfn <= zc.initMigrate) cc.wholeZone = true;
    }
    let updateCached = !sync && zc.cachedMigrate[0] === zc.cachedMigrate[1];
    // last_migrated_pfn: 0 is "none" in 6.1, so a migration from pfn 0 is not remembered and
    // any pass over pageblock 0 (DMA's first block, a flat zone's) is a rescan
    let lastMigrated = 0;
    let ret: number;
    for (;;) {
      ret = this.finished(cc);
      if (ret !== COMPACT_CONTINUE) break;
      const iterStart = cc.migratePfn;
      cc.rescan = pbStart(lastMigrated) === pbStart(iterStart);
      const isolated = this.isolateMigratepages(cc);
      if (!isolated) {
        if (updateCached) zc.cachedMigrate[1] = zc.cachedMigrate[0];
      } else {
        updateCached = false;
        lastMigrated = iterStart;
        const failed = this.migratePages(cc);
        if (failed) {
          if (!this.scannersMet(cc)) {
            ret = COMPACT_CONTENDED; // -ENOMEM: no target left
            break;
          }
          if (cc.opts.direct && cc.mode === MIGRATE_ASYNC) {
            // skip the rest of the order-aligned block
            const size = 2 ** Math.max(cc.order, 0);
            cc.migratePfn = cc.migratePfn - 1 - ((cc.migratePfn - 1) % size) + size;
            lastMigrated = 0;
          }
        }
      }
      // check_drain: once the migrate scanner has left the cc.order-aligned block it migrated
      // from, the pages freed to this CPU's pcp go back to the buddy (lru_add_drain_cpu_zone ->
      // drain_local_pages), so that they merge and may be captured; then "stop if a page has
      // been captured"
      if (cc.order > 0 && lastMigrated) {
        const size = 2 ** cc.order;
        if (lastMigrated < cc.migratePfn - (cc.migratePfn % size)) {
          this.alloc.drainLocalPages(z);
          lastMigrated = 0;
        }
      }
      if (capc && this.buddy.capturedPfn >= 0) {
        ret = COMPACT_SUCCESS;
        break;
      }
    }
    // release_freepages: what the free scanner isolated but did not use goes back
    if (cc.freepages.length) {
      let high = 0;
      for (const pfn of cc.freepages) {
        this.alloc.freePages(pfn, 0);
        if (pfn > high) high = pfn;
      }
      cc.freepages.length = 0;
      const free = pbStart(high);
      if (free > zc.cachedFree) zc.cachedFree = free;
    }
    this.m.ev[V.compact_migrate_scanned]! += cc.totalMigrateScanned;
    this.m.ev[V.compact_free_scanned]! += cc.totalFreeScanned;
    return ret;
  }

  private scannersMet(cc: CompactControl): boolean {
    return Math.floor(cc.freePfn / PAGEBLOCK_NR_PAGES) <= Math.floor(cc.migratePfn / PAGEBLOCK_NR_PAGES);
  }

  /** compact_finished (__compact_finished, NO_SUITABLE_PAGE read as CONTINUE) */
  finished(cc: CompactControl): number {
    const { zone: z, zc } = cc;
    if (this.scannersMet(cc)) {
      this.resetCachedPositions(zc);
      if (cc.opts.direct) zc.blockskipFlush = true;
      return cc.wholeZone ? COMPACT_COMPLETE : COMPACT_PARTIAL_SKIPPED;
    }
    if (cc.opts.proactive) {
      if (this.env.kswapdRunning(z.nid)) return COMPACT_PARTIAL_SKIPPED;
      return this.scoreZone(z) > this.scoreWmark(true) ? COMPACT_CONTINUE : COMPACT_SUCCESS;
    }
    if (cc.order === -1) return COMPACT_CONTINUE;
    if (cc.migratePfn % PAGEBLOCK_NR_PAGES !== 0) return COMPACT_CONTINUE;
    for (let o = cc.order; o < MAX_ORDER; o++) {
      if (z.head[o * MIGRATE_TYPES + cc.migratetype]! >= 0) return COMPACT_SUCCESS;
      // find_suitable_fallback(only_stealable = true)
      if (z.nrFree[o] === 0) continue;
      for (const fmt of FALLBACKS[cc.migratetype]!) {
        if (z.head[o * MIGRATE_TYPES + fmt]! < 0) continue;
        if (canStealFallback(o, cc.migratetype)) return COMPACT_SUCCESS;
      }
    }
    return COMPACT_CONTINUE;
  }

  /** suitable_migration_source */
  private suitableSource(cc: CompactControl, pfn: number): boolean {
    const p = this.buddy.pages;
    // pageblock_skip_persistent: a compound page of pageblock order or more starts the block
    const f = p.flags[pfn]!;
    if (f & PG_LRU && f & PG_HEAD && p.order[pfn]! >= PAGEBLOCK_ORDER) return false;
    if (cc.mode !== MIGRATE_ASYNC || !cc.opts.direct) return true;
    const mt = p.pbMt[pfn >>> PAGEBLOCK_ORDER]!;
    if (cc.migratetype === MT_MOVABLE) return mt === MT_MOVABLE;
    return mt === cc.migratetype;
  }

  /** suitable_migration_target */
  private suitableTarget(cc: CompactControl, pfn: number): boolean {
    const p = this.buddy.pages;
    if (p.flags[pfn]! & PG_BUDDY && p.order[pfn]! >= PAGEBLOCK_ORDER) return false;
    if (cc.opts.ignoreBlockSuitable) return true;
    return p.pbMt[pfn >>> PAGEBLOCK_ORDER] === MT_MOVABLE;
  }

  private isolationSuitable(cc: CompactControl, pfn: number): boolean {
    return cc.opts.ignoreSkipHint === true || !this.skip[Math.floor(pfn / PAGEBLOCK_NR_PAGES)];
  }

  /** update_cached_migrate (pageblock_end_pfn is ALIGN(pfn + 1): an aligned pfn moves one block on) */
  private updateCachedMigrate(cc: CompactControl, pfn: number): void {
    const end = pbEnd(pfn);
    const zc = cc.zc;
    if (end > zc.cachedMigrate[0]!) zc.cachedMigrate[0] = end;
    if (cc.mode !== MIGRATE_ASYNC && end > zc.cachedMigrate[1]!) zc.cachedMigrate[1] = end;
  }

  /** update_fast_start_pfn */
  private updateFastStartPfn(cc: CompactControl, pfn: number): void {
    if (cc.fastStartPfn === FAST_START_USED) return;
    if (!cc.fastStartPfn) cc.fastStartPfn = pfn;
    cc.fastStartPfn = Math.min(cc.fastStartPfn, pfn);
  }

  /** reinit_migrate_pfn: once, the linear scan restarts at the lowest free pfn the fast search found */
  private reinitMigratePfn(cc: CompactControl): number {
    if (!cc.fastStartPfn || cc.fastStartPfn === FAST_START_USED) return cc.migratePfn;
    cc.migratePfn = cc.fastStartPfn;
    cc.fastStartPfn = FAST_START_USED;
    return cc.migratePfn;
  }

  /**
   * fast_find_migrateblock (6.1.15): at the zone start or a pageblock boundary, for orders
   * above PAGE_ALLOC_COSTLY_ORDER (and, in direct compaction, movable requests), look on the
   * Movable free lists of orders cc.order-1 down to 3, from each list's head, for a free block
   * below the first half (at the zone start) or eighth of the space between the scanners whose
   * pageblock is not skipped; within freelist_scan_limit. The list is rotated past it
   * (move_freelist_tail), its pageblock marked skipped, and the scanner sent there. When
   * nothing is found, fast_search_fail counts and the scan restarts once at the lowest free
   * pfn found (reinit_migrate_pfn). Returns the pfn the migrate scanner starts at.
   */
  private fastFindMigrateblock(cc: CompactControl): number {
    const z = cc.zone;
    const p = this.buddy.pages;
    const limit = this.freelistScanLimit(cc);
    let nrScanned = 0;
    let pfn = cc.migratePfn;
    let found = false;
    // skip hints are relied on to avoid repeats on the fast search
    if (cc.opts.ignoreSkipHint) return pfn;
    // not at the zone's or a pageblock's start: a scan restarted after COMPACT_CLUSTER_MAX
    if (pfn !== z.start && pfn !== pbStart(pfn)) return pfn;
    if (cc.order <= PAGE_ALLOC_COSTLY_ORDER) return pfn;
    if (cc.opts.direct && cc.migratetype !== MT_MOVABLE) return pfn;
    let distance = Math.floor((cc.freePfn - cc.migratePfn) / 2);
    if (cc.migratePfn !== z.start) distance = Math.floor(distance / 4);
    const highPfn = pbStart(cc.migratePfn + distance);
    for (let order = cc.order - 1; order >= PAGE_ALLOC_COSTLY_ORDER && !found && nrScanned < limit; order--) {
      if (!z.nrFree[order]) continue;
      const li = order * MIGRATE_TYPES + MT_MOVABLE;
      const links = p.linksOf(order);
      for (let fp = z.head[li]!; fp >= 0; fp = listNext(links, fp)) {
        if (nrScanned++ >= limit) {
          this.moveFreelistTail(z, li, fp);
          break;
        }
        if (fp < highPfn) {
          const bi = Math.floor(fp / PAGEBLOCK_NR_PAGES);
          if (this.skip[bi]) continue; // skipped recently
          // reorder so a future search skips recent pages
          this.moveFreelistTail(z, li, fp);
          this.updateFastStartPfn(cc, fp);
          pfn = Math.max(pbStart(fp), z.start);
          cc.fastSearchFail = 0;
          found = true;
          this.skip[bi] = 1;
          break;
        }
      }
    }
    cc.totalMigrateScanned += nrScanned;
    if (!found) {
      cc.fastSearchFail++;
      pfn = this.reinitMigratePfn(cc);
    }
    return pfn;
  }

  /** move_freelist_tail: the entries up to and including pfn go to the list's tail */
  private moveFreelistTail(z: Zone, li: number, pfn: number): void {
    const links = this.buddy.pages.linksOf(Math.floor(li / MIGRATE_TYPES));
    const next = listNext(links, pfn);
    if (next < 0 || z.boundary[li]! >= 0) return; // already last (or an aeration list, left alone)
    listRotateToFront(links, z.head, z.tail, li, next);
  }

  /** isolate_migratepages: the next suitable pageblock's LRU pages. Returns the count isolated. */
  private isolateMigratepages(cc: CompactControl): number {
    const z = cc.zone;
    let low = this.fastFindMigrateblock(cc);
    let blockStart = Math.max(pbStart(low), z.start);
    // fast_find_migrateblock marked its block skipped: the isolation_suitable test below is
    // bypassed for it (isolate_migratepages_block then tests it again: see there)
    let fastFindBlock = low !== cc.migratePfn && !cc.fastSearchFail;
    let blockEnd = pbEnd(low);
    for (
      ;
      blockEnd <= cc.freePfn;
      fastFindBlock = false, cc.migratePfn = low = blockEnd, blockStart = blockEnd, blockEnd += PAGEBLOCK_NR_PAGES
    ) {
      if (blockEnd > z.end) break; // pageblock_pfn_to_page: the block leaves the zone
      // pageblock_aligned(low_pfn) only: a zone's unaligned first block (DMA at pfn 1) is not tested
      if (low % PAGEBLOCK_NR_PAGES === 0 && !fastFindBlock && !this.isolationSuitable(cc, blockStart)) continue;
      this.trace?.visits.push(["migrate", blockStart]);
      if (!this.suitableSource(cc, blockStart)) {
        this.updateCachedMigrate(cc, blockEnd);
        continue;
      }
      this.isolateMigratepagesBlock(cc, low, blockEnd);
      return cc.migratepages.length;
    }
    return cc.migratepages.length;
  }

  /** isolate_migratepages_block over [low, end) */
  private isolateMigratepagesBlock(cc: CompactControl, low: number, end: number): void {
    const p = this.buddy.pages;
    const skipBits = this.skip;
    // valid_page: the block is only marked when its scan started at the block's first pfn
    const validPage = low % PAGEBLOCK_NR_PAGES === 0 ? low : -1;
    let skipUpdated = false;
    let scanned = 0;
    let isolated = 0;
    const skipOnFailure = cc.opts.direct === true && cc.mode === MIGRATE_ASYNC;
    const orderSize = 2 ** Math.max(cc.order, 0);
    let nextSkip = skipOnFailure ? low - (low % orderSize) + orderSize : 0;
    let aborted = false;
    if (validPage >= 0 && !this.isolationSuitable(cc, low)) {
      // "Check if the pageblock has already been marked skipped" at its aligned first pfn: in
      // 6.1.15 this catches the block fast_find_migrateblock has just marked, which is then
      // given up whole (low_pfn = end_pfn, nothing isolated, the cached pfn moved past it)
      cc.totalMigrateScanned += 1;
      this.updateCachedMigrate(cc, end);
      cc.migratePfn = end;
      return;
    }
    for (; low < end; low++) {
      if (skipOnFailure && low >= nextSkip) {
        if (isolated) break;
        nextSkip = low - (low % orderSize) + orderSize;
      }
      scanned++;
      const f = p.flags[low]!;
      if (f & PG_BUDDY) {
        const o = p.order[low]!;
        if (o > 0 && o < MAX_ORDER) low += 2 ** o - 1;
        continue;
      }
      let ok = false;
      if (f & PG_LRU) {
        if (f & PG_HEAD && p.order[low] === 0) ok = true;
        else if (f & PG_HEAD) low += 2 ** p.order[low]! - 1; // a compound page: skipped whole
      }
      if (ok) {
        if (!skipUpdated) {
          // test_and_set_skip: the first isolation in a block starting at its first pfn marks it
          skipUpdated = true;
          if (!cc.opts.ignoreSkipHint && low % PAGEBLOCK_NR_PAGES === 0) {
            const bi = Math.floor(low / PAGEBLOCK_NR_PAGES);
            if (skipBits[bi]) {
              aborted = true;
              break;
            }
            skipBits[bi] = 1;
          }
        }
        cc.migratepages.unshift(low); // list_add: the newest first
        isolated++;
        if (cc.migratepages.length >= COMPACT_CLUSTER_MAX && !cc.rescan) {
          low++;
          break;
        }
        continue;
      }
      // isolate_fail
      if (!skipOnFailure) continue;
      if (isolated) {
        cc.migratepages.length = 0; // putback: this order-aligned block cannot be freed
        isolated = 0;
      }
      if (low < nextSkip) {
        low = nextSkip - 1;
        nextSkip += orderSize;
      }
    }
    if (!aborted && low >= end && (!isolated || cc.rescan)) {
      if (validPage >= 0 && !skipUpdated) skipBits[Math.floor(validPage / PAGEBLOCK_NR_PAGES)] = 1;
      this.updateCachedMigrate(cc, low);
    }
    if (low > end) low = end;
    cc.totalMigrateScanned += scanned;
    if (isolated) this.m.ev[V.compact_isolated]! += isolated;
    cc.migratePfn = low;
  }

  /** freelist_scan_limit: (COMPACT_CLUSTER_MAX >> fast_search_fail) + 1 */
  private freelistScanLimit(cc: CompactControl): number {
    return (cc.fastSearchFail >= 6 ? 0 : COMPACT_CLUSTER_MAX >> cc.fastSearchFail) + 1;
  }

  /** next_search_order: the orders below cc.order round-robin; -1 once it has wrapped */
  private nextSearchOrder(cc: CompactControl, order: number): number {
    order--;
    if (order < 0) order = cc.order - 1;
    if (order === cc.searchOrder) {
      cc.searchOrder--;
      if (cc.searchOrder < 0) cc.searchOrder = cc.order - 1;
      return -1;
    }
    return order;
  }

  /**
   * fast_isolate_freepages (6.1): before the linear free scanner, search the Movable free
   * lists of the orders below cc.order (from cc.search_order down, round-robin), each from its
   * tail, for a block in the top quarter of the space between the scanners (or failing that the
   * highest in the top half), within freelist_scan_limit; the list is rotated so the next
   * search starts past what this one saw (move_freelist_head), and the block isolated. Skip
   * bits are not consulted. Isolated pages go on `got` (pfn order); may move cc.freePfn.
   */
  private fastIsolateFreepages(cc: CompactControl, got: number[]): void {
    const z = cc.zone;
    const zc = cc.zc;
    const b = this.buddy;
    const p = b.pages;
    let limit = Math.max(1, this.freelistScanLimit(cc) >> 1);
    let nrScanned = 0;
    let highest = 0;
    let page = -1;
    let scanStart = false;
    if (cc.order <= 0) return; // full compaction passes in a negative order
    if (cc.freePfn >= zc.initFree) {
      // starting the scan: a deeper search, and the highest pfn found if none suits
      limit = PAGEBLOCK_NR_PAGES >> 1;
      scanStart = true;
    }
    const distance = cc.freePfn - cc.migratePfn;
    let lowPfn = pbStart(cc.freePfn - (distance >> 2));
    const minPfn = pbStart(cc.freePfn - (distance >> 1));
    if (minPfn > lowPfn) lowPfn = minPfn;
    cc.searchOrder = Math.min(cc.order - 1, cc.searchOrder);
    for (let order = cc.searchOrder; page < 0 && order >= 0; order = this.nextSearchOrder(cc, order)) {
      if (!z.nrFree[order]) continue;
      const li = order * MIGRATE_TYPES + MT_MOVABLE;
      let orderScanned = 0;
      let highPfn = 0;
      let stop = -1; // the entry list_for_each_entry_reverse broke at
      const links = p.linksOf(order);
      for (let fp = z.tail[li]!; fp >= 0; fp = listPrev(links, fp)) {
        orderScanned++;
        nrScanned++;
        if (fp >= highest) highest = Math.max(pbStart(fp), z.start);
        if (fp >= lowPfn) {
          cc.fastSearchFail = 0;
          cc.searchOrder = order;
          page = stop = fp;
          break;
        }
        if (fp >= minPfn && fp > highPfn) {
          highPfn = fp;
          limit >>= 1; // shorten the scan if a candidate is found
        }
        if (orderScanned >= limit) {
          stop = fp;
          break;
        }
      }
      // use a minimum pfn if a preferred one was not found
      if (page < 0 && highPfn) page = stop = highPfn;
      // move_freelist_head: reorder so a future search skips recent pages (a walk that ran off
      // the list leaves it as it was; wsim leaves an aeration boundary's list alone)
      if (stop >= 0 && z.boundary[li]! < 0) listRotateToFront(links, z.head, z.tail, li, stop);
      if (page >= 0) {
        const n = b.isolateFreePage(z, page, order);
        if (n) {
          this.takeFreeBlock(page, n, got);
          nrScanned += n - 1;
          this.m.ev[V.compact_isolated]! += n;
        } else {
          // if isolation fails, abort the search
          order = cc.searchOrder + 1;
          page = -1;
        }
      }
      // smaller scan on next order so the total scan is related to freelist_scan_limit
      if (orderScanned >= limit) limit = Math.max(1, limit >> 1);
    }
    let around = page; // the block fast_isolate_around searches (isolated or not)
    if (page < 0) {
      cc.fastSearchFail++;
      if (scanStart) {
        // the highest pfn found above min; if none, be pessimistic for direct compaction
        if (highest >= minPfn) {
          around = highest;
          cc.freePfn = highest;
        } else if (cc.opts.direct && minPfn >= z.start && minPfn < z.end) {
          // pageblock_pfn_to_page on a contiguous zone: the block's first page
          around = minPfn;
          cc.freePfn = minPfn;
        }
      }
    }
    if (highest && highest >= zc.cachedFree) zc.cachedFree = highest - PAGEBLOCK_NR_PAGES;
    cc.totalFreeScanned += nrScanned;
    if (around >= 0) this.fastIsolateAround(cc, around, got);
  }

  /** fast_isolate_around: the rest of the found block's pageblock, for sync or kcompactd runs. */
  private fastIsolateAround(cc: CompactControl, pfn: number, got: number[]): void {
    if (got.length >= cc.nrMigratepages) return; // enough pages already
    if (cc.opts.direct && cc.mode === MIGRATE_ASYNC) return; // minimise scanning during async
    const z = cc.zone;
    const start = Math.max(pbStart(pfn), z.start);
    const end = Math.min(pbEnd(pfn), z.end);
    this.isolateFreepagesBlock(cc, start, end, got, 1, cc.nrMigratepages);
    // skip this pageblock in the future as it's full or nearly full
    if (got.length < cc.nrMigratepages) this.skip[Math.floor(start / PAGEBLOCK_NR_PAGES)] = 1;
  }

  /** a free block taken off its list for compaction: its pages become order-0 targets */
  private takeFreeBlock(pfn: number, n: number, got: number[]): void {
    const p = this.buddy.pages;
    for (let q = pfn; q < pfn + n; q++) {
      p.flags[q] = PG_ALLOC | PG_HEAD;
      p.order[q] = 0;
      got.push(q);
    }
  }

  /** isolate_freepages: free pages from Movable pageblocks, walking down from free_pfn. */
  private isolateFreepages(cc: CompactControl): void {
    const z = cc.zone;
    const got: number[] = [];
    // try a small search of the free lists for a candidate
    this.fastIsolateFreepages(cc, got);
    if (got.length) {
      for (const pfn of got) cc.freepages.unshift(pfn); // splitmap
      return;
    }
    let isolateStart = cc.freePfn;
    let blockStart = pbStart(isolateStart);
    let blockEnd = Math.min(blockStart + PAGEBLOCK_NR_PAGES, z.end);
    const lowPfn = pbEnd(cc.migratePfn);
    let stride = cc.mode === MIGRATE_ASYNC ? COMPACT_CLUSTER_MAX : 1;
    for (; blockStart >= lowPfn; blockEnd = blockStart, blockStart -= PAGEBLOCK_NR_PAGES, isolateStart = blockStart) {
      if (blockStart < z.start) break;
      this.trace?.visits.push(["free", blockStart]);
      if (!this.suitableTarget(cc, blockStart)) continue;
      if (!this.isolationSuitable(cc, blockStart)) continue;
      const want = cc.nrMigratepages;
      const before = got.length;
      isolateStart = this.isolateFreepagesBlock(cc, isolateStart, blockEnd, got, stride, want);
      if (isolateStart === blockEnd) {
        // update_pageblock_skip: the whole block was scanned
        this.skip[Math.floor(blockStart / PAGEBLOCK_NR_PAGES)] = 1;
        if (blockStart < cc.zc.cachedFree) cc.zc.cachedFree = blockStart;
      }
      if (got.length >= want) {
        if (isolateStart >= blockEnd) isolateStart = blockStart - PAGEBLOCK_NR_PAGES;
        break;
      } else if (isolateStart < blockEnd) break;
      // adjust stride depending on isolation: every pfn after a block that gave pages, else
      // twice as sparse, up to COMPACT_CLUSTER_MAX
      stride = got.length > before ? 1 : Math.min(COMPACT_CLUSTER_MAX, stride << 1);
    }
    cc.freePfn = isolateStart;
    // split_map_pages: each block becomes order-0 pages, the list built with list_add
    for (const pfn of got) cc.freepages.unshift(pfn);
  }

  /**
   * isolate_freepages_block (not strict) over [start, end) at `stride`: free blocks taken whole
   * (split to order 0 on `got`) until `want` pages are held; a huge page's head skips the page.
   * Counts compact_free_scanned (via cc) and compact_isolated. Returns where it stopped.
   */
  private isolateFreepagesBlock(cc: CompactControl, start: number, end: number, got: number[], stride: number, want: number): number {
    const b = this.buddy;
    const p = b.pages;
    let pfn = start;
    let scanned = 0;
    let total = 0;
    for (; pfn < end; pfn += stride) {
      scanned++;
      const f = p.flags[pfn]!;
      // PageCompound: a huge page's head skips the rest of it (a tail's compound_order is 0)
      if (f & PG_LRU && f & PG_HEAD && p.order[pfn]! > 0) {
        pfn += 2 ** p.order[pfn]! - 1;
        continue;
      }
      if (!(f & PG_BUDDY)) continue;
      const order = p.order[pfn]!;
      const n = b.isolateFreePage(cc.zone, pfn, order);
      if (!n) break;
      this.takeFreeBlock(pfn, n, got);
      scanned += n - 1;
      total += n;
      if (want <= got.length) {
        pfn += n;
        break;
      }
      pfn += n - 1; // then the loop's stride
    }
    cc.totalFreeScanned += scanned;
    if (total) this.m.ev[V.compact_isolated]! += total;
    return Math.min(pfn, end);
  }

  /** compaction_alloc: the next free target, isolating more when the list is empty. */
  private compactionAlloc(cc: CompactControl): number {
    if (!cc.freepages.length) {
      this.isolateFreepages(cc);
      if (!cc.freepages.length) return -1;
    }
    return cc.freepages.shift()!;
  }

  /** migrate_pages(MR_COMPACTION): true if it ran out of targets (-ENOMEM). */
  private migratePages(cc: CompactControl): boolean {
    const srcs = cc.migratepages;
    cc.migratepages = [];
    cc.nrMigratepages = srcs.length;
    for (let i = 0; i < srcs.length; i++) {
      const dst = this.compactionAlloc(cc);
      if (dst < 0) {
        // -ENOMEM: the page that found no target fails; "nr_failed isn't updated for not
        // used" pages, which go back to the LRU uncounted (6.1 migrate_pages)
        this.m.ev[V.pgmigrate_fail]!++;
        cc.nrMigratepages = 0;
        return true;
      }
      const src = srcs[i]!;
      migratePage(this.m, src, dst);
      this.trace?.moves.push([src, dst]);
      this.alloc.freePages(src, 0);
    }
    cc.nrMigratepages = 0;
    return false;
  }

  // --- callers ---

  private logAttempt(nid: number, order: number, who: CompactionLogEntry["who"], result: number, prio: number | undefined, z: Zone): void {
    if (!this.log) return;
    const e: CompactionLogEntry = { time_ms: this.env.now(), nid, order, who, prio, result: RESULT_NAMES[result]! };
    // the zone is named only when the node has several (a flat machine's log stays as it was)
    if (this.alloc.nodeZones[nid]!.length > 1) e.zone = z.name;
    this.log.push(e);
  }

  /**
   * compact_zone_order: compact_zone with current->capture_control set on the zone for this
   * order; a captured block makes the result COMPACT_SUCCESS. Leaves the block (or -1) in
   * this.captured.
   */
  private compactZoneOrder(cc: CompactControl): number {
    const b = this.buddy;
    b.captureZone = cc.zone;
    b.captureOrder = cc.order;
    b.capturedPfn = -1;
    let ret = this.compactZone(cc, true);
    b.captureZone = null;
    this.captured = b.capturedPfn;
    b.capturedPfn = -1;
    if (this.captured >= 0) ret = COMPACT_SUCCESS;
    return ret;
  }

  /** the block the last compact_zone_order captured, or -1 (try_to_compact_pages' *capture) */
  private captured = -1;

  /**
   * try_to_compact_pages over the zonelist, then __alloc_pages_direct_compact's accounting:
   * compact_stall unless every zone was skipped; the captured block if there is one, else
   * get_page_from_freelist; compact_success / compact_fail.
   */
  directCompact(order: number, mt: number, allocFlags: number, zl: readonly Zone[], prio: number, highestZoneidx: number = ZONE_NORMAL): number {
    if (!order) return -1;
    let rc = COMPACT_SKIPPED;
    this.captured = -1;
    // for_each_zone_zonelist_nodemask: the zones at or below highest_zoneidx, in zonelist order
    for (const z of zl) {
      if (z.idx > highestZoneidx) continue;
      const zc = this.zones[z.id]!;
      if (prio > PRIO_SYNC_FULL && this.deferred(zc, order)) {
        rc = Math.max(rc, COMPACT_DEFERRED);
        this.logAttempt(z.nid, order, "direct", COMPACT_DEFERRED, prio, z);
        continue;
      }
      const cc = new CompactControl(z, zc, order, mt, prio === PRIO_ASYNC ? MIGRATE_ASYNC : MIGRATE_SYNC_LIGHT, {
        direct: true,
        allocFlags,
        wholeZone: prio === PRIO_SYNC_FULL,
        ignoreSkipHint: prio === PRIO_SYNC_FULL,
        ignoreBlockSuitable: prio === PRIO_SYNC_FULL,
      });
      cc.highestZoneidx = highestZoneidx;
      const status = this.compactZoneOrder(cc);
      this.logAttempt(z.nid, order, "direct", status, prio, z);
      rc = Math.max(rc, status);
      if (status === COMPACT_SUCCESS) {
        this.deferReset(zc, order, false);
        break;
      }
      if (prio !== PRIO_ASYNC && (status === COMPACT_COMPLETE || status === COMPACT_PARTIAL_SKIPPED)) this.defer(zc, order);
    }
    this.lastResult = rc;
    if (rc === COMPACT_SKIPPED) return -1;
    this.m.ev[V.compact_stall]!++;
    let pfn = this.captured;
    this.captured = -1;
    // a captured block is the allocation's (prep_new_page), without a watermark check and
    // without rmqueue's counters
    if (pfn >= 0) {
      this.alloc.lastZone = this.alloc.zoneOf(pfn);
      this.alloc.captured = true;
    } else pfn = this.alloc.getPageFromFreelist(order, allocFlags, zl, mt, highestZoneidx);
    if (pfn >= 0) {
      const zc = this.zones[this.alloc.lastZone!.id]!;
      zc.blockskipFlush = false;
      this.deferReset(zc, order, true);
      this.m.ev[V.compact_success]!++;
      return pfn;
    }
    this.m.ev[V.compact_fail]!++;
    return -1;
  }

  /** the result of the last directCompact (for __GFP_NORETRY's give-up test) */
  lastResult = COMPACT_SKIPPED;

  /**
   * compact_node: /proc/sys/vm/compact_memory for one node, every populated zone whole
   * (MIGRATE_SYNC). Returns the last zone's result.
   */
  compactNode(nid: number): number {
    let r = COMPACT_SKIPPED;
    for (const z of this.alloc.nodeZones[nid]!) {
      const zc = this.zones[z.id]!;
      const cc = new CompactControl(z, zc, -1, MT_MOVABLE, MIGRATE_SYNC, { wholeZone: true, ignoreSkipHint: true });
      cc.highestZoneidx = z.idx;
      r = this.compactZone(cc);
      this.logAttempt(nid, -1, "manual", r, undefined, z);
    }
    return r;
  }

  /**
   * kcompactd_do_work's compaction of one zone (deferral handled by the caller), cc->highest_zoneidx
   * `highestZoneidx`. kcompactd_do_work runs one compact_control over the node's zones, so its
   * fast_search_fail, search_order and whole_zone carry from zone to zone: pass the previous
   * zone's `cc` (returned) to continue it. Its gfp_mask is GFP_KERNEL: migratetype Unmovable.
   */
  daemonCompact(
    z: Zone,
    order: number,
    highestZoneidx: number = z.idx,
    prev?: CompactControl,
  ): { result: number; migrateScanned: number; freeScanned: number; cc: CompactControl } {
    const zc = this.zones[z.id]!;
    const cc = prev ?? new CompactControl(z, zc, order, MT_UNMOVABLE, MIGRATE_SYNC_LIGHT, {});
    cc.zone = z;
    cc.zc = zc;
    cc.highestZoneidx = highestZoneidx;
    const result = this.compactZone(cc);
    this.logAttempt(z.nid, order, "kcompactd", result, undefined, z);
    return { result, migrateScanned: cc.totalMigrateScanned, freeScanned: cc.totalFreeScanned, cc };
  }

  /** proactive_compact_node: compact_zone over every populated zone of the node. Returns the last result. */
  proactiveCompact(nid: number): number {
    let r = COMPACT_SKIPPED;
    for (const z of this.alloc.nodeZones[nid]!) {
      const zc = this.zones[z.id]!;
      const cc = new CompactControl(z, zc, -1, MT_MOVABLE, MIGRATE_SYNC_LIGHT, {
        wholeZone: true,
        ignoreSkipHint: true,
        proactive: true,
      });
      cc.highestZoneidx = z.idx;
      r = this.compactZone(cc);
      this.logAttempt(nid, -1, "proactive", r, undefined, z);
    }
    return r;
  }
}
