/**
 * kswapd, one per node (pgdat; mm/vmscan.c, 6.1), as a daemon on the virtual clock.
 * wakeup_kswapd raises the order it balances for and wakes it unless the node is already
 * balanced (and not boosted) or hopeless (MAX_RECLAIM_RETRIES runs without progress).
 * balance_pgdat reclaims at most `wsim.kswapd_pages_per_ms` pages in each ms of virtual time
 * (one budget per ms, however often it is woken), re-arming at the next ms until a zone meets its high watermark (boost included) for the order;
 * after a boosted pass the boost is cleared; for a high order it falls back to order 0 once it
 * has reclaimed compact_gap(order) pages. Going to sleep calls `onSleep` (kcompactd's hook).
 */
import type { Daemon, EngineContext } from "../engine/daemon.js";
import { V } from "../stats/counters.js";
import type { Buddy, Zone } from "./buddy.js";
import { WMARK_HIGH, WMARK_PROMO } from "./buddy.js";
import { MAX_NR_ZONES } from "../machine/zones.js";
import type { Reclaim } from "./reclaim.js";

export const MAX_RECLAIM_RETRIES = 16;

export class Kswapd implements Daemon {
  readonly name: string;
  private ctx: EngineContext | null = null;
  running = false;
  /** the order it balances for now (falls back to 0), and the order it was woken for */
  order = 0;
  private allocOrder = 0;
  /**
   * pgdat->kswapd_highest_zoneidx: the highest zone index asked for since it last slept
   * (MAX_NR_ZONES = none asked: kswapd_highest_zoneidx() then uses the node's highest)
   */
  highestZoneidx = MAX_NR_ZONES;
  /** the highest_zoneidx of the run in progress (balance_pgdat's) */
  private runZoneidx = MAX_NR_ZONES - 1;
  failures = 0;
  private reclaimedThisRun = 0;
  /** the ms whose budget is being spent, and what is left of it */
  private budgetMs = -1;
  private budgetLeft = 0;
  /** kswapd_try_to_sleep's wakeup_kcompactd(pgdat, order, highest_zoneidx) (and the skip-bit flush) */
  onSleep: ((order: number, highestZoneidx: number) => void) | null = null;
  /** wakeup_kswapd on a balanced or hopeless node: wakeup_kcompactd unless direct reclaim is allowed */
  onBalancedWake: ((order: number, gfp: number, highestZoneidx: number) => void) | null = null;
  /** NUMA balancing's tiering bit is set: balanced means above WMARK_PROMO (pgdat_balanced) */
  promoMark = false;
  /** after a boosted pass: wakeup_kcompactd(pgdat, pageblock_order, highest_zoneidx) */
  onBoostedPass: ((highestZoneidx: number) => void) | null = null;

  /**
   * kswapd of node `nid`, whose populated zones (pgdat->node_zones) are `zones`, by ascending
   * zone index.
   */
  constructor(
    readonly nid: number,
    readonly zones: readonly Zone[],
    private readonly buddy: Buddy,
    private readonly reclaim: Reclaim,
    private readonly ev: Float64Array,
    private readonly pagesPerMs: () => number,
  ) {
    this.name = `kswapd${nid}`;
  }

  start(ctx: EngineContext): void {
    this.ctx = ctx;
  }

  /**
   * pgdat_balanced: true if any managed zone up to highest_zoneidx meets its high watermark
   * (boost included; WMARK_PROMO with NUMA balancing's tiering bit) plus
   * lowmem_reserve[highest_zoneidx] for the order (zone_watermark_ok_safe), or if the node has
   * no managed zone there.
   */
  balanced(order: number, highestZoneidx: number): boolean {
    let found = false;
    const wm = this.promoMark ? WMARK_PROMO : WMARK_HIGH;
    for (const z of this.zones) {
      if (z.idx > highestZoneidx) break;
      if (!z.managed) continue;
      found = true;
      if (this.buddy.zoneWatermarkOk(z, order, z.mark(wm) + z.lowmemReserve[highestZoneidx]!, z.freePages)) return true;
    }
    return !found;
  }

  /** pgdat_watermark_boosted: a zone up to highest_zoneidx has its watermark boosted */
  private boosted(highestZoneidx: number): boolean {
    for (const z of this.zones) if (z.idx <= highestZoneidx && z.watermarkBoost) return true;
    return false;
  }

  /**
   * wakeup_kswapd(zone, gfp, order, highest_zoneidx): remember the highest zone index and the
   * largest order asked for; wake unless running, hopeless, or balanced and not boosted.
   */
  wake(order: number, gfp = 0, highestZoneidx = MAX_NR_ZONES - 1): void {
    if (!this.ctx) return;
    if (this.highestZoneidx === MAX_NR_ZONES || this.highestZoneidx < highestZoneidx) this.highestZoneidx = highestZoneidx;
    if (order > this.order) this.order = order;
    if (order > this.allocOrder) this.allocOrder = order;
    if (this.running) return;
    if (this.failures >= MAX_RECLAIM_RETRIES || (this.balanced(order, highestZoneidx) && !this.boosted(highestZoneidx))) {
      this.onBalancedWake?.(order, gfp, highestZoneidx);
      return;
    }
    this.running = true;
    this.reclaimedThisRun = 0;
    this.runZoneidx = this.highestZoneidx;
    this.ev[V.pageoutrun]!++;
    this.ctx.schedule(0, () => this.run());
  }

  /** balance_pgdat for what is left of this ms's budget. */
  private run(): void {
    // a wake-up since the run began may have raised kswapd_highest_zoneidx
    if (this.highestZoneidx !== MAX_NR_ZONES && this.highestZoneidx > this.runZoneidx) this.runZoneidx = this.highestZoneidx;
    const hz = this.runZoneidx;
    if (this.balanced(this.order, hz) && !this.boosted(hz)) return this.sleep();
    const now = this.ctx!.now();
    const ms = Math.floor(now);
    if (ms !== this.budgetMs) {
      this.budgetMs = ms;
      this.budgetLeft = this.pagesPerMs();
    }
    if (!this.budgetLeft) {
      this.ctx!.schedule(ms + 1 - now, () => this.run());
      return;
    }
    const got = this.reclaim.shrinkNode(this.nid, this.budgetLeft, true);
    this.budgetLeft -= got;
    this.reclaimedThisRun += got;
    if (this.boosted(hz)) {
      // a boosted pass ends the boost of the zones it balanced
      for (const z of this.zones) if (z.idx <= hz) z.watermarkBoost = 0;
      this.onBoostedPass?.(hz);
    }
    if (!got) {
      this.failures++;
      return this.sleep();
    }
    this.failures = 0;
    if (this.order && this.reclaimedThisRun >= 2 << this.order) this.order = 0;
    if (this.balanced(this.order, hz)) return this.sleep();
    this.ctx!.schedule(ms + 1 - now, () => this.run());
  }

  private sleep(): void {
    this.running = false;
    const order = this.allocOrder;
    const hz = this.runZoneidx;
    this.order = 0;
    this.allocOrder = 0;
    this.highestZoneidx = MAX_NR_ZONES;
    this.runZoneidx = MAX_NR_ZONES - 1;
    this.onSleep?.(order, hz);
  }
}
