/**
 * kswapd, one per node (pgdat; mm/vmscan.c, 6.1), as a daemon on the virtual clock.
 * wakeup_kswapd raises the order it balances for and wakes it unless the node is already
 * balanced (and not boosted) or hopeless (MAX_RECLAIM_RETRIES runs without progress).
 * balance_pgdat runs as 6.1's: priority from DEF_PRIORITY down, nr_to_reclaim from the high
 * watermarks (boost included) of the eligible zones, MGLRU's kswapd_age_node (lru_gen_age_node:
 * each lruvec aged first where should_run_aging says so, skipped in a run's first iteration and
 * after an eviction that reclaimed a batch without needing it) then its scan of
 * `evictable >> priority` pages per lruvec (get_nr_to_scan: an lruvec still needing aging is
 * left out below DEF_PRIORITY, and eviction never ages for kswapd) with should_abort_scan, boosted reclaim without swapping or writing
 * (may_swap / may_writepage cleared while only the boost is unmet) and its early exit, the
 * fall-back to order 0 after compact_gap(order) pages, kswapd_failures. Each priority
 * iteration takes its work's cost in virtual time (cost.reclaim_scan_ns per page scanned,
 * cost.reclaim_page_ns per page reclaimed): kswapd is busy until then and the next iteration
 * starts after it (SPEC §4.1, §4.8). Going to sleep calls `onSleep` (kcompactd's hook), then
 * naps HZ/10 as kswapd_try_to_sleep does (kswapd_low_wmark_hit_quickly for a wake-up in the nap,
 * kswapd_high_wmark_hit_quickly for a node unbalanced at its end or at the end of a run).
 */
import type { Daemon, EngineContext } from "../engine/daemon.js";
import type { Timer } from "../engine/event-queue.js";
import { V } from "../stats/counters.js";
import type { Buddy, Zone } from "./buddy.js";
import { WMARK_HIGH, WMARK_PROMO } from "./buddy.js";
import { MAX_NR_ZONES } from "../machine/zones.js";
import { DEF_PRIORITY, SWAP_CLUSTER_MAX, type KswapdAging, type Reclaim } from "./reclaim.js";

/** What a priority iteration of balance_pgdat costs, from the cost.* tunables (ns per page). */
export interface KswapdCosts {
  reclaimScan(): number;
  reclaimPage(): number;
}

export const MAX_RECLAIM_RETRIES = 16;
/** kswapd_try_to_sleep's short nap before the full sleep: schedule_timeout(HZ / 10), in ms */
export const KSWAPD_NAP_MS = 100;

export class Kswapd implements Daemon {
  readonly name: string;
  private ctx: EngineContext | null = null;
  running = false;
  /** pgdat->kswapd_order: the largest order asked for since kswapd last read it */
  kswapdOrder = 0;
  /** sc.order of the run (falls back to 0), and the run's alloc_order (what it was woken for) */
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
  /**
   * kswapd_try_to_sleep's short nap (HZ/10 after a run that left the node balanced), while it
   * lasts: a wake-up then ends it early (kswapd_low_wmark_hit_quickly); at its end an
   * unbalanced node means another run (kswapd_high_wmark_hit_quickly), else the full sleep
   */
  private nap: Timer | null = null;
  /** balance_pgdat's scan_control and loop state while running */
  private priority = DEF_PRIORITY;
  private nrBoostReclaim = 0;
  private boostedRun = false;
  private readonly zoneBoosts: number[];
  /** sc.nr_reclaimed of the run */
  private reclaimedThisRun = 0;
  /** sc.memcgs_need_aging of the run (lru_gen_age_node; false at balance_pgdat's start) */
  private readonly aging: KswapdAging = { memcgsNeedAging: false };
  /** when set (tests, users' scripts): every priority iteration of balance_pgdat, in order */
  log: { time_ms: number; priority: number; nrToReclaim: number; scanned: number; reclaimed: number; pages: number; boost: number; maySwap: boolean }[] | null = null;
  /** virtual ns kswapd has been busy, in total (wsim_kswapd_busy_ms) */
  busyNs = 0;
  /** each priority iteration's work: its cost in ns (PSI: kswapd is a memory stall in 6.1) */
  onWork: ((ns: number) => void) | null = null;
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
    private readonly costs: KswapdCosts,
  ) {
    this.name = `kswapd${nid}`;
    this.zoneBoosts = zones.map(() => 0);
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
    if (order > this.kswapdOrder) this.kswapdOrder = order;
    if (this.running) return;
    if (this.failures >= MAX_RECLAIM_RETRIES || (this.balanced(order, highestZoneidx) && !this.boosted(highestZoneidx))) {
      this.onBalancedWake?.(order, gfp, highestZoneidx);
      return;
    }
    if (this.nap !== null) {
      // woken in the short nap: schedule_timeout returned early (remaining != 0)
      this.ctx.cancel(this.nap);
      this.nap = null;
      this.ev[V.kswapd_low_wmark_hit_quickly]!++;
    }
    this.running = true;
    this.ctx.schedule(0, () => this.balance());
  }

  /**
   * balance_pgdat's setup: pageoutrun, the boost to reclaim (nr_boost_reclaim, each zone's
   * boost remembered), then the priority loop from DEF_PRIORITY.
   */
  private balance(): void {
    // kswapd(): read kswapd_order and kswapd_highest_zoneidx (MAX_NR_ZONES: the previous
    // run's), and reset them for the wake-ups to come
    this.allocOrder = this.order = this.kswapdOrder;
    this.kswapdOrder = 0;
    if (this.highestZoneidx !== MAX_NR_ZONES) this.runZoneidx = this.highestZoneidx;
    this.highestZoneidx = MAX_NR_ZONES;
    const hz = this.runZoneidx;
    this.ev[V.pageoutrun]!++;
    this.reclaimedThisRun = 0;
    this.aging.memcgsNeedAging = false;
    this.nrBoostReclaim = 0;
    this.zones.forEach((z, i) => {
      this.zoneBoosts[i] = z.idx <= hz && z.managed ? z.watermarkBoost : 0;
      this.nrBoostReclaim += this.zoneBoosts[i]!;
    });
    this.boostedRun = this.nrBoostReclaim !== 0;
    this.priority = DEF_PRIORITY;
    this.iterate();
  }

  /**
   * One iteration of balance_pgdat's `do { ... } while (sc.priority >= 1)`, then the next one
   * after this one's cost in virtual time, or `out:`.
   */
  private iterate(): void {
    const hz = this.runZoneidx;
    const balanced = this.balanced(this.order, hz);
    if (!balanced && this.nrBoostReclaim) {
      // boosting is abandoned for real reclaim: goto restart
      this.nrBoostReclaim = 0;
      this.priority = DEF_PRIORITY;
    }
    if (!this.nrBoostReclaim && balanced) return this.out();
    // boosted reclaim never raises its priority past DEF_PRIORITY - 2 by itself
    let raisePriority = !(this.nrBoostReclaim && this.priority === DEF_PRIORITY - 2);
    const maySwap = !this.nrBoostReclaim; // may_writepage likewise
    // kswapd_shrink_node: nr_to_reclaim from the eligible zones' high marks (boost included)
    let nrToReclaim = 0;
    for (const z of this.zones) if (z.idx <= hz && z.managed) nrToReclaim += Math.max(z.mark(WMARK_HIGH), SWAP_CLUSTER_MAX);
    const order = this.order;
    // kswapd_age_node (lru_gen_age_node) then kswapd_shrink_node, in shrinkNodeBalance
    const r = this.reclaim.shrinkNodeBalance(this.nid, this.priority, nrToReclaim, maySwap, () => this.allAboveHigh(order, hz), this.aging, hz);
    this.reclaimedThisRun += r.reclaimed;
    this.log?.push({ time_ms: this.ctx!.now(), priority: this.priority, nrToReclaim, scanned: r.scanned, reclaimed: r.reclaimed, pages: r.pagesReclaimed, boost: this.nrBoostReclaim, maySwap });
    if (this.order && this.reclaimedThisRun >= 2 << this.order) this.order = 0; // compact_gap: check at order 0 from now
    if (r.scanned >= nrToReclaim) raisePriority = false;
    if (r.reclaimed) this.failures = 0; // shrink_node: any progress resets kswapd_failures
    const ns = r.scanned * this.costs.reclaimScan() + r.pagesReclaimed * this.costs.reclaimPage();
    this.busyNs += ns;
    if (ns > 0) this.onWork?.(ns);
    this.nrBoostReclaim -= Math.min(this.nrBoostReclaim, r.reclaimed);
    let done = false;
    if (this.nrBoostReclaim && !r.reclaimed) done = true; // boosted reclaim's early exit
    else {
      if (raisePriority || !r.reclaimed) this.priority--;
      if (this.priority < 1) done = true;
    }
    const next = done ? () => this.endLoop() : () => this.iterate();
    this.ctx!.schedule(ns / 1e6, next);
  }

  /** the loop ended by priority or a break (not by `goto out`): no progress at all is a failure */
  private endLoop(): void {
    if (!this.reclaimedThisRun) this.failures++;
    this.out();
  }

  /**
   * balance_pgdat's `out:`: a boosted run takes the boost it started with off each zone and
   * wakes kcompactd for a pageblock; then kswapd_try_to_sleep, or another balance_pgdat when
   * the node is still not balanced for the order it reached.
   */
  private out(): void {
    const hz = this.runZoneidx;
    this.reclaim.snapshotRefaults(this.nid); // snapshot_refaults(NULL, pgdat) (the two-list LRU's)
    if (this.boostedRun) {
      this.zones.forEach((z, i) => (z.watermarkBoost -= Math.min(z.watermarkBoost, this.zoneBoosts[i]!)));
      this.onBoostedPass?.(hz);
    }
    // kswapd_try_to_sleep(alloc_order, reclaim_order = sc.order): prepare_kswapd_sleep
    if (this.failures >= MAX_RECLAIM_RETRIES || this.balanced(this.order, hz)) return this.sleep();
    // not balanced: kswapd's loop reads kswapd_order again (what was asked during the run, or 0)
    const next = this.kswapdOrder;
    const nhz = this.highestZoneidx === MAX_NR_ZONES ? hz : this.highestZoneidx;
    if (this.balanced(next, nhz)) return this.sleep();
    // kswapd_try_to_sleep: prepare_kswapd_sleep false, no nap, straight into balance_pgdat
    this.ev[V.kswapd_high_wmark_hit_quickly]!++;
    this.ctx!.schedule(0, () => this.balance());
  }

  /** should_abort_scan's last test: every managed zone up to highest_zoneidx above its high mark for the order */
  private allAboveHigh(order: number, hz: number): boolean {
    for (const z of this.zones) {
      if (z.idx > hz) break;
      if (z.managed && !this.buddy.zoneWatermarkOk(z, order, z.mark(WMARK_HIGH) + z.lowmemReserve[hz]!, z.freePages)) return false;
    }
    return true;
  }

  /**
   * kswapd_try_to_sleep with the node balanced (prepare_kswapd_sleep): wakeup_kcompactd for the
   * order it was woken for, then the short nap (schedule_timeout(HZ/10)), after which the node
   * is checked again for the order it reclaimed at (napEnd).
   */
  private sleep(): void {
    this.running = false;
    const order = this.allocOrder;
    const reclaimOrder = this.order;
    const hz = this.runZoneidx;
    this.order = 0;
    this.allocOrder = 0;
    this.onSleep?.(order, hz);
    this.nap = this.ctx!.schedule(KSWAPD_NAP_MS, () => this.napEnd(reclaimOrder, hz));
  }

  /**
   * The nap ran out without a wake-up (remaining == 0): prepare_kswapd_sleep again; balanced (or
   * hopeless), the full sleep until wakeup_kswapd; not, kswapd_high_wmark_hit_quickly and
   * balance_pgdat again.
   */
  private napEnd(order: number, hz: number): void {
    this.nap = null;
    if (this.failures >= MAX_RECLAIM_RETRIES || this.balanced(order, hz)) return;
    this.ev[V.kswapd_high_wmark_hit_quickly]!++;
    this.running = true;
    this.balance();
  }
}
