/**
 * kcompactd, one per node (the seed "mm, compaction: introduce kcompactd", behaviour as in
 * 6.1's mm/compaction.c): it sleeps until woken by wakeup_kcompactd (from the allocator's
 * slow path via wakeup_kswapd, when kswapd goes to sleep, after a boosted kswapd pass), which
 * raises the order it will compact for and wakes it only if it sleeps and the node is
 * suitable; kcompactd_do_work counts compact_daemon_wake, skips a deferred or unsuitable zone,
 * compacts (MIGRATE_SYNC_LIGHT, cached scanners), defers on failure, resets on success, and
 * adds compact_daemon_migrate_scanned / _free_scanned.
 *
 * Proactive compaction: while vm.compaction_proactiveness is non-zero its wait times out every
 * HPAGE_FRAG_CHECK_INTERVAL_MSEC (500 ms); if the node's fragmentation score is above the high
 * mark and kswapd is not running it compacts the whole node down to the low mark; if the score
 * did not drop, the next timeout is 500 << COMPACT_MAX_DEFER_SHIFT. A write of a non-zero
 * proactiveness wakes it with proactive_compact_trigger set. Proactive runs count no
 * compact_daemon_* events, as in 6.1.
 */
import type { Daemon, EngineContext } from "../engine/daemon.js";
import type { Timer } from "../engine/event-queue.js";
import { V } from "../stats/counters.js";
import { PAGEBLOCK_NR_PAGES } from "./constants.js";
import {
  COMPACT_COMPLETE, COMPACT_CONTINUE, COMPACT_MAX_DEFER_SHIFT, COMPACT_PARTIAL_SKIPPED, COMPACT_SUCCESS, type Compaction,
} from "./compaction.js";

export const HPAGE_FRAG_CHECK_INTERVAL_MSEC = 500;

export class Kcompactd implements Daemon {
  readonly name: string;
  private ctx: EngineContext | null = null;
  private timer: Timer | null = null;
  /** kcompactd_max_order */
  maxOrder = 0;
  proactiveTrigger = false;
  /** sleeping in wait_event (not running its work) */
  private sleeping = true;
  private timeout = HPAGE_FRAG_CHECK_INTERVAL_MSEC;
  /** the last proactive pass, if it changed nothing but counters (see steady) */
  private lastPass: { stamp: string; migrateScanned: number; freeScanned: number } | null = null;
  /** virtual times of compact_daemon_wake, for tests and users */
  readonly wakes: number[] = [];

  constructor(
    readonly nid: number,
    private readonly compaction: Compaction,
    private readonly ev: Float64Array,
    private readonly proactiveness: () => number,
    private readonly kswapdRunning: () => boolean,
  ) {
    this.name = `kcompactd${nid}`;
  }

  start(ctx: EngineContext): void {
    this.ctx = ctx;
    this.sleep();
  }

  /** wait_event_freezable_timeout: a timer unless proactiveness is 0 (MAX_SCHEDULE_TIMEOUT) */
  private sleep(): void {
    this.sleeping = true;
    if (this.timer) this.ctx!.cancel(this.timer);
    this.timer = this.proactiveness() ? this.ctx!.schedule(this.timeout, () => this.timedOut(), this.quiet, this.steady) : null;
  }

  /**
   * A deferred proactive pass at a steady state (issue 12 item 13): the last pass isolated
   * nothing (so it moved no page), left the zone's compaction state (cached scanners, defer
   * fields, skip bits) as it found it, did not lower the score (so the next timeout is
   * 500 << COMPACT_MAX_DEFER_SHIFT ms), and nothing allocated, freed or migrated a page or
   * replayed an event since. Each further pass repeats it exactly: the same scanned counts.
   */
  private readonly steady = (period: number): ((n: number) => void) | null => {
    const last = this.lastPass;
    if (!last || !this.sleeping || this.proactiveTrigger || this.maxOrder) return null;
    if (period !== HPAGE_FRAG_CHECK_INTERVAL_MSEC << COMPACT_MAX_DEFER_SHIFT || this.timeout !== period) return null;
    if (this.compaction.log || this.compaction.trace || last.stamp !== this.stamp()) return null;
    return (n) => {
      this.ev[V.compact_migrate_scanned]! += n * last.migrateScanned;
      this.ev[V.compact_free_scanned]! += n * last.freeScanned;
    };
  };

  /** What changes with any page allocated, freed or migrated, or any event replayed. */
  private stamp(): string {
    const e = this.ev;
    return `${e[V.wsim_events]},${e[V.pgfree]},${e[V.pgalloc_normal]},${e[V.pgmigrate_success]},${e[V.pgmigrate_fail]},${e[V.compact_isolated]}`;
  }

  /** The zone's compaction state a proactive pass reads and may change (cached scanners, defer fields, skip bits). */
  private compactionState(): string {
    const c = this.compaction;
    const zc = c.zones[this.nid]!;
    const z = zc.zone;
    const skip = c.skip.subarray(Math.floor(z.start / PAGEBLOCK_NR_PAGES), Math.ceil(z.end / PAGEBLOCK_NR_PAGES));
    return `${zc.cachedMigrate},${zc.cachedFree},${zc.considered},${zc.deferShift},${zc.orderFailed},${zc.blockskipFlush},${skip.join("")}`;
  }

  /**
   * A timeout that changes nothing: asleep, no trigger, the 500 ms period, and a node that
   * should not be compacted proactively (the pass then only sleeps again). The engine may skip
   * such timeouts until something else changes the node.
   */
  private readonly quiet = (period: number): number =>
    this.sleeping && !this.proactiveTrigger && period === HPAGE_FRAG_CHECK_INTERVAL_MSEC && !this.shouldProactiveCompact() ? Infinity : -Infinity;

  /** wakeup_kcompactd */
  wakeup(order: number): void {
    if (!this.ctx || !order) return;
    if (this.maxOrder < order) this.maxOrder = order;
    if (!this.sleeping) return;
    if (!this.nodeSuitable()) return;
    this.wakeNow();
  }

  /** The proactiveness sysctl: a non-zero write wakes it with the trigger set. */
  proactivenessWritten(): void {
    if (!this.ctx) return;
    if (this.proactiveness()) {
      if (this.proactiveTrigger) return;
      this.proactiveTrigger = true;
      if (this.sleeping) this.wakeNow();
    } else if (this.sleeping && !this.maxOrder) this.sleep(); // no more timeouts
  }

  private wakeNow(): void {
    this.sleeping = false;
    if (this.timer) this.ctx!.cancel(this.timer);
    this.timer = this.ctx!.schedule(0, () => this.woken());
  }

  /** kcompactd_node_suitable */
  private nodeSuitable(): boolean {
    const z = this.compaction.zones[this.nid]!.zone;
    return this.compaction.suitable(z, this.maxOrder, 0) === COMPACT_CONTINUE;
  }

  /** the wait ended with the condition true */
  private woken(): void {
    this.timer = null;
    if (this.maxOrder > 0 && !this.proactiveTrigger) {
      this.doWork();
      this.timeout = HPAGE_FRAG_CHECK_INTERVAL_MSEC;
      return this.sleep();
    }
    this.proactivePass();
  }

  /** the wait timed out */
  private timedOut(): void {
    this.timer = null;
    this.sleeping = false;
    this.proactivePass();
  }

  private proactivePass(): void {
    this.timeout = HPAGE_FRAG_CHECK_INTERVAL_MSEC;
    this.lastPass = null;
    if (this.shouldProactiveCompact()) {
      const prev = this.compaction.scoreNode(this.nid);
      const ev = this.ev;
      const before = this.compactionState();
      const stamp = this.stamp();
      const ms = ev[V.compact_migrate_scanned]!;
      const fs = ev[V.compact_free_scanned]!;
      this.compaction.proactiveCompact(this.nid);
      const score = this.compaction.scoreNode(this.nid);
      // 6.1 kcompactd(): "Defer proactive compaction if the fragmentation score did not go
      // down i.e. no progress made": the next wait is default_timeout << COMPACT_MAX_DEFER_SHIFT
      if (score >= prev) {
        this.timeout = HPAGE_FRAG_CHECK_INTERVAL_MSEC << COMPACT_MAX_DEFER_SHIFT;
        if (this.stamp() === stamp && this.compactionState() === before)
          this.lastPass = { stamp, migrateScanned: ev[V.compact_migrate_scanned]! - ms, freeScanned: ev[V.compact_free_scanned]! - fs };
      }
    }
    this.proactiveTrigger = false;
    this.sleep();
  }

  /** should_proactive_compact_node */
  private shouldProactiveCompact(): boolean {
    if (!this.proactiveness() || this.kswapdRunning()) return false;
    return this.compaction.scoreNode(this.nid) > this.compaction.scoreWmark(false);
  }

  /** kcompactd_do_work */
  private doWork(): void {
    const c = this.compaction;
    const zc = c.zones[this.nid]!;
    const order = this.maxOrder;
    this.ev[V.compact_daemon_wake]!++;
    this.wakes.push(this.ctx!.now());
    if (!c.deferred(zc, order) && c.suitable(zc.zone, order, 0) === COMPACT_CONTINUE) {
      const r = c.daemonCompact(this.nid, order);
      if (r.result === COMPACT_SUCCESS) c.deferReset(zc, order, false);
      else if (r.result === COMPACT_PARTIAL_SKIPPED || r.result === COMPACT_COMPLETE) c.defer(zc, order);
      this.ev[V.compact_daemon_migrate_scanned]! += r.migrateScanned;
      this.ev[V.compact_daemon_free_scanned]! += r.freeScanned;
    }
    if (this.maxOrder <= order) this.maxOrder = 0;
  }
}
