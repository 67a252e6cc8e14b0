/**
 * kswapd, one per node (mm/vmscan.c, 6.1), as a daemon on the virtual clock.
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
import type { Reclaim } from "./reclaim.js";

export const MAX_RECLAIM_RETRIES = 16;

export class Kswapd implements Daemon {
  readonly name: string;
  private ctx: EngineContext | null = null;
  running = false;
  /** the order it balances for now (falls back to 0), and the order it was woken for */
  order = 0;
  private allocOrder = 0;
  failures = 0;
  private reclaimedThisRun = 0;
  /** the ms whose budget is being spent, and what is left of it */
  private budgetMs = -1;
  private budgetLeft = 0;
  /** kswapd_try_to_sleep's wakeup_kcompactd (and the skip-bit flush) */
  onSleep: ((zone: Zone, order: number) => void) | null = null;
  /** wakeup_kswapd on a balanced or hopeless node: wakeup_kcompactd unless direct reclaim is allowed */
  onBalancedWake: ((zone: Zone, order: number, gfp: number) => void) | null = null;
  /** NUMA balancing's tiering bit is set: balanced means above WMARK_PROMO (pgdat_balanced) */
  promoMark = false;
  /** after a boosted pass: wakeup_kcompactd(pageblock_order) */
  onBoostedPass: ((zone: Zone) => void) | null = null;

  constructor(
    readonly zone: Zone,
    private readonly buddy: Buddy,
    private readonly reclaim: Reclaim,
    private readonly ev: Float64Array,
    private readonly pagesPerMs: () => number,
  ) {
    this.name = `kswapd${zone.nid}`;
  }

  start(ctx: EngineContext): void {
    this.ctx = ctx;
  }

  /**
   * pgdat_balanced: the zone meets its high watermark (boost included) for the order; its
   * promo watermark with NUMA balancing's tiering bit set
   */
  balanced(order: number): boolean {
    const z = this.zone;
    return this.buddy.zoneWatermarkOk(z, order, z.mark(this.promoMark ? WMARK_PROMO : WMARK_HIGH), z.freePages);
  }

  /** wakeup_kswapd */
  wake(order: number, gfp = 0): void {
    if (!this.ctx) return;
    if (order > this.order) this.order = order;
    if (order > this.allocOrder) this.allocOrder = order;
    if (this.running) return;
    if (this.failures >= MAX_RECLAIM_RETRIES || (this.balanced(order) && !this.zone.watermarkBoost)) {
      this.onBalancedWake?.(this.zone, order, gfp);
      return;
    }
    this.running = true;
    this.reclaimedThisRun = 0;
    this.ev[V.pageoutrun]!++;
    this.ctx.schedule(0, () => this.run());
  }

  /** balance_pgdat for what is left of this ms's budget. */
  private run(): void {
    const z = this.zone;
    if (this.balanced(this.order) && !z.watermarkBoost) return this.sleep();
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
    const got = this.reclaim.shrinkNode(z.nid, this.budgetLeft, true);
    this.budgetLeft -= got;
    this.reclaimedThisRun += got;
    if (z.watermarkBoost) {
      z.watermarkBoost = 0; // a boosted pass ends the boost
      this.onBoostedPass?.(z);
    }
    if (!got) {
      this.failures++;
      return this.sleep();
    }
    this.failures = 0;
    if (this.order && this.reclaimedThisRun >= 2 << this.order) this.order = 0;
    if (this.balanced(this.order)) return this.sleep();
    this.ctx!.schedule(ms + 1 - now, () => this.run());
  }

  private sleep(): void {
    this.running = false;
    const order = this.allocOrder;
    this.order = 0;
    this.allocOrder = 0;
    this.onSleep?.(this.zone, order);
  }
}
