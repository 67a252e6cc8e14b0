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
 *
 * Busy time (issue 16 item 2): a pass (kcompactd_do_work or proactive_compact_node) costs its
 * work, pages looked at by both scanners × cost.compact_scan_ns + pages migrated ×
 * cost.migrate_ns, in virtual time. wsim does the pass's work at its start; kcompactd is then
 * busy until start + cost: kcompactd()'s loop goes on only at the end (the tail of
 * kcompactd_do_work that clears kcompactd_max_order, the next wait_event_freezable_timeout,
 * whose timeout therefore starts at the end), and a wakeup_kcompactd meanwhile only raises
 * kcompactd_max_order / lowers kcompactd_highest_zoneidx (no sleeper on kcompactd_wait), which
 * the wait tests as it starts. Its total is wsim_kcompactd_busy_ms.
 */
import type { Daemon, EngineContext, SteadyAdvance, SteadyPlan } from "../engine/daemon.js";
import type { Timer } from "../engine/event-queue.js";
import { BusyWindow, compactionWorkNs, jiffyTicksThrough, type ScanMigrateCosts } from "../engine/busy.js";
import { V } from "../stats/counters.js";
import { PAGEBLOCK_NR_PAGES } from "./constants.js";
import type { Zone } from "./buddy.js";
import { MAX_NR_ZONES } from "../machine/zones.js";
import {
  COMPACT_COMPLETE, COMPACT_CONTINUE, COMPACT_MAX_DEFER_SHIFT, COMPACT_PARTIAL_SKIPPED, COMPACT_SUCCESS, type Compaction, type CompactControl,
} from "./compaction.js";

export const HPAGE_FRAG_CHECK_INTERVAL_MSEC = 500;

/** What a kcompactd pass costs, from the cost.* tunables (ns per page). */
export type KcompactdCosts = ScanMigrateCosts;

const NO_PASS = 0;
const WORK_PASS = 1;
const PROACTIVE_PASS = 2;

export class Kcompactd implements Daemon {
  readonly name: string;
  private ctx: EngineContext | null = null;
  private timer: Timer | null = null;
  /** kcompactd_max_order */
  maxOrder = 0;
  /**
   * kcompactd_highest_zoneidx: the lowest highest_zoneidx asked for since its last work
   * (wakeup_kcompactd keeps the minimum), reset to the node's highest populated zone
   */
  highestZoneidx: number;
  proactiveTrigger = false;
  /** sleeping in wait_event (not running its work) */
  private sleeping = true;
  private timeout = HPAGE_FRAG_CHECK_INTERVAL_MSEC;
  /**
   * The last proactive pass, if it changed nothing but counters (see steady): its stamp, its
   * counter deltas, and the compaction-state fingerprint after it.
   */
  private lastPass: {
    /** passStamp after the pass (or its last fast-forward) */
    stamp: string;
    /** stateEvents when the state was last known to be the pass's (fingerprint checked) */
    events: number;
    /** Settings.version after the pass */
    version: number;
    deltas: [number, number][];
    /** the compaction-state fingerprint after the pass */
    fp: string;
    /** the pass isolated pages and put them back */
    isolating: boolean;
    /** the counters when the state was last known to be the pass's */
    evAt: Float64Array;
    /** Buddy.listChanges then: page reporting isolates and returns free blocks without a counter */
    lists: number;
    /** the pass's cost: ns and ms busy, and the delay of the timer after it (BusyWindow.waitDelay) */
    ns: number;
    ms: number;
    delay: number;
  } | null = null;
  /** the last deferred pass isolated pages but moved none: fingerprint the next one around it */
  private candidate = false;
  /** virtual times of compact_daemon_wake, for tests and users */
  readonly wakes: number[] = [];
  /** the busy window of its passes (wsim_kcompactd_busy_ms) */
  readonly busy = new BusyWindow();
  /** the kind of the pass that is (or was last) busy: NO_PASS, WORK_PASS, PROACTIVE_PASS */
  private passKind = NO_PASS;
  /** a busy proactive pass's end has a timer of its own (a request came in during it) */
  private endPending = false;
  /** a work pass's cost in ns, at its start: 6.1 wraps kcompactd_do_work in psi_memstall_enter/leave (not the proactive pass) */
  onWork: ((ns: number) => void) | null = null;
  /** when set (tests, users' scripts): every pass with its start, kind, work and cost */
  log: { time_ms: number; kind: "work" | "proactive"; scanned: number; migrated: number; busy_ns: number }[] | null = null;

  constructor(
    readonly nid: number,
    /** the node's populated zones by ascending zone index (pgdat->node_zones) */
    readonly zones: readonly Zone[],
    private readonly compaction: Compaction,
    private readonly ev: Float64Array,
    private readonly proactiveness: () => number,
    private readonly kswapdRunning: () => boolean,
    /** Memory.compactionFingerprint: the state a pass reads and writes, for proving it a fixed point */
    private readonly fingerprint: () => string,
    /** Settings.version: any tunable written since a pass refuses its fast-forward */
    private readonly settingsVersion: () => number,
    /** Memory.stateEvents: events replayed that may change pages (not reads of tunables or /proc files) */
    private readonly stateEvents: () => number,
    /** Buddy.listChanges: free-list changes so far */
    private readonly listChanges: () => number,
    /** cost.compact_scan_ns and cost.migrate_ns (absent: passes take no time) */
    private readonly costs: KcompactdCosts | null = null,
  ) {
    this.name = `kcompactd${nid}`;
    this.highestZoneidx = this.nrZones() - 1;
  }

  /** pgdat->nr_zones: the highest populated zone index + 1 */
  private nrZones(): number {
    return this.zones.length ? this.zones[this.zones.length - 1]!.idx + 1 : 0;
  }

  start(ctx: EngineContext): void {
    this.ctx = ctx;
    this.sleep();
  }

  /**
   * wait_event_freezable_timeout: a timer unless proactiveness is 0 (MAX_SCHEDULE_TIMEOUT).
   * After a pass that is still busy (or ends now) the timeout starts at its end, in whole
   * jiffies (BusyWindow.waitDelay). Returns the timer's delay.
   */
  private sleep(): number {
    this.sleeping = true;
    this.endPending = false;
    if (this.timer) this.ctx!.cancel(this.timer);
    const delay = this.busy.waitDelay(this.ctx!.now(), this.timeout);
    this.timer = this.proactiveness() ? this.ctx!.schedule(delay, () => this.timedOut(), this.quiet, this.steady) : null;
    return delay;
  }

  /** A pass's work: its cost in ns from the counters it moved since `scanned0` / `migrated0`. */
  private passNs(scanned0: number, migrated0: number): [number, number, number] {
    const ev = this.ev;
    const scanned = ev[V.compact_migrate_scanned]! + ev[V.compact_free_scanned]! - scanned0;
    const migrated = ev[V.pgmigrate_success]! - migrated0;
    const ns = this.costs ? compactionWorkNs(scanned, migrated, this.costs.compactScan(), this.costs.migrate()) : 0;
    return [scanned, migrated, ns];
  }

  /** a pass is still running at the clock's time */
  private inPass(): boolean {
    return this.busy.busyAt(this.ctx!.now());
  }

  /**
   * A request (wakeup_kcompactd, a proactiveness write) during a busy pass: remembered, and
   * the wait that starts at the pass's end finds its condition true and returns at once. A
   * work pass's end has its timer already; a proactive pass's timeout timer is moved to its end.
   */
  private requestAtEnd(): void {
    if (this.passKind !== PROACTIVE_PASS || this.endPending) return;
    this.endPending = true;
    this.sleeping = false;
    if (this.timer) this.ctx!.cancel(this.timer);
    this.timer = this.ctx!.schedule(this.busy.until - this.ctx!.now(), () => this.woken());
  }

  /**
   * A deferred proactive pass at a steady state (issue 12 item 13): the last pass did not
   * lower the score (so the next timeout is 500 << COMPACT_MAX_DEFER_SHIFT ms) and left what
   * compaction reads and writes as it found it: either it isolated nothing and kept the
   * zone's compaction state (cached scanners, defer fields, skip bits), or it isolated pages,
   * moved none and put them back, and Memory.compactionFingerprint was the same before and
   * after it. Since then nothing allocated, freed or migrated a page and no tunable was
   * written (the stamp and Settings.version), and that state is still the one the pass left:
   * the fingerprint is asked whenever counters or events that may change pages moved since
   * (reads of tunables and /proc files cost nothing; other daemons' steady ticks, kagingd's
   * aging or kmmscand's visits, change nothing it covers) and after a pass that isolated
   * pages. Each further pass then repeats it exactly: n passes add n times its counter
   * deltas (compact_*_scanned, compact_isolated, pgmigrate_fail, ...).
   */
  private readonly steady = (period: number, due: number): ((n: number) => void) | SteadyAdvance | null => {
    const last = this.lastPass;
    if (!last || this.proactivePolicy !== null || !this.sleeping || this.endPending || this.proactiveTrigger || this.maxOrder) return null;
    if (period !== last.delay || this.timeout !== HPAGE_FRAG_CHECK_INTERVAL_MSEC << COMPACT_MAX_DEFER_SHIFT) return null;
    if (this.compaction.log || this.compaction.trace) return null;
    const ev = this.ev;
    if (this.passStamp() !== last.stamp || this.settingsVersion() !== last.version) return null;
    // no counter moved (but wsim_events), no event that may change pages and no free block
    // linked or unlinked (page reporting isolates and returns blocks and counts nothing): nothing ran since
    let still = this.stateEvents() === last.events && this.listChanges() === last.lists;
    for (let i = 0; still && i < ev.length; i++) if (ev[i] !== last.evAt[i] && i !== V.wsim_events) still = false;
    if (!still && (last.isolating || this.stateEvents() !== last.events || this.listChanges() !== last.lists)) {
      if (this.fingerprint() !== last.fp) return null;
      last.events = this.stateEvents();
      last.lists = this.listChanges();
      last.evAt.set(ev);
    }
    const apply = (n: number): void => {
      for (const [i, d] of last.deltas) ev[i]! += n * d;
      last.stamp = this.passStamp();
      last.evAt.set(ev);
    };
    if (last.ns === 0) return period === this.timeout ? apply : null; // every `period` ms, as before busy time
    // passes that take time: each tick's pass is busy last.ms and the next timeout starts at
    // its end's jiffy (floor(x + ms) + 32000): the ticks as ticking computes them
    const ms = last.ms;
    if (!Number.isInteger(due)) return null; // the first tick after a wake at a fraction of a ms: ticked
    return {
      exact: true,
      advance: (lastMs: number): SteadyPlan | null => {
        const run = jiffyTicksThrough(due, ms, this.timeout, lastMs);
        if (!run) return null;
        const { ticks, prev, due: at } = run;
        return {
          ticks, due: at, prev,
          apply: () => {
            apply(ticks);
            this.busy.ns += ticks * last.ns;
            if (ticks) this.busy.until = prev + ms; // BusyWindow.charge at the last pass
          },
        };
      },
    };
  };

  /** What changes with any page allocated, freed or migrated. */
  private movedStamp(): string {
    const e = this.ev;
    return `${e[V.pgfree]},${e[V.pgalloc_dma]},${e[V.pgalloc_dma32]},${e[V.pgalloc_normal]},${e[V.pgalloc_movable]},${e[V.pgmigrate_success]}`;
  }

  /** movedStamp and what a pass that isolates pages and puts them back counts. */
  private passStamp(): string {
    const e = this.ev;
    return `${this.movedStamp()},${e[V.pgmigrate_fail]},${e[V.compact_isolated]}`;
  }

  /** The node's zones' compaction state a proactive pass reads and may change (cached scanners, defer fields, skip bits). */
  private compactionState(): string {
    const c = this.compaction;
    let out = "";
    for (const z of this.zones) {
      const zc = c.zones[z.id]!;
      const skip = c.skip.subarray(Math.floor(z.start / PAGEBLOCK_NR_PAGES), Math.ceil(z.end / PAGEBLOCK_NR_PAGES));
      out += `${zc.cachedMigrate},${zc.cachedFree},${zc.initMigrate},${zc.initFree},${zc.considered},${zc.deferShift},${zc.orderFailed},${zc.blockskipFlush},${skip.join("")};`;
    }
    return out;
  }

  /**
   * A timeout that changes nothing: asleep, no trigger, the 500 ms period, and a node that
   * should not be compacted proactively (the pass then only sleeps again). The engine may skip
   * such timeouts until something else changes the node.
   */
  private readonly quiet = (period: number): number =>
    this.proactivePolicy === null && this.sleeping && !this.proactiveTrigger && period === HPAGE_FRAG_CHECK_INTERVAL_MSEC && !this.shouldProactiveCompact() ? Infinity : -Infinity;

  /**
   * wakeup_kcompactd(pgdat, order, highest_zoneidx). During a busy pass kcompactd is not on
   * its wait queue (wq_has_sleeper false): the request is only remembered for the wait that
   * starts at the pass's end.
   */
  wakeup(order: number, highestZoneidx = MAX_NR_ZONES - 1): void {
    if (!this.ctx || !order) return;
    if (this.maxOrder < order) this.maxOrder = order;
    if (this.highestZoneidx > highestZoneidx) this.highestZoneidx = highestZoneidx;
    if (this.inPass()) return this.requestAtEnd();
    if (!this.sleeping) return;
    if (!this.nodeSuitable()) return;
    this.wakeNow();
  }

  /** The proactiveness sysctl: a non-zero write wakes it with the trigger set. */
  proactivenessWritten(): void {
    if (!this.ctx) return;
    if (this.proactiveness()) {
      if (this.proactiveTrigger) return;
      // during a proactive pass: kcompactd() clears proactive_compact_trigger after it, so the
      // write is lost, as 6.1's
      if (this.inPass() && this.passKind === PROACTIVE_PASS) return;
      this.proactiveTrigger = true;
      if (this.inPass()) return; // a work pass's end finds it
      if (this.sleeping) this.wakeNow();
    } else if (this.sleeping && !this.maxOrder && !this.inPass()) this.sleep(); // no more timeouts
    else if (this.inPass() && this.passKind === PROACTIVE_PASS && !this.endPending && this.timer) {
      // the next wait is MAX_SCHEDULE_TIMEOUT: no timeout after the pass
      this.ctx.cancel(this.timer);
      this.timer = null;
    }
  }

  private wakeNow(): void {
    this.sleeping = false;
    this.endPending = false;
    if (this.timer) this.ctx!.cancel(this.timer);
    this.timer = this.ctx!.schedule(0, () => this.woken());
  }

  /**
   * kcompactd_node_suitable: some populated zone up to kcompactd_highest_zoneidx is suitable
   * (compaction_suitable at that highest_zoneidx) for kcompactd_max_order
   */
  private nodeSuitable(): boolean {
    const hz = this.highestZoneidx;
    for (const z of this.zones) {
      if (z.idx > hz) break;
      if (this.compaction.suitable(z, this.maxOrder, 0, hz) === COMPACT_CONTINUE) return true;
    }
    return false;
  }

  /** the wait ended with the condition true */
  private woken(): void {
    this.timer = null;
    this.endPending = false;
    this.afterWait();
  }

  /**
   * The wait timed out. wait_event_freezable_timeout still tests the condition then
   * (___wait_cond_timeout): a kcompactd_max_order raised by a wakeup_kcompactd that did not
   * wake it (the node was not suitable then) makes it return 1, so kcompactd_do_work runs
   * instead of the proactive pass.
   */
  private timedOut(): void {
    this.timer = null;
    this.sleeping = false;
    this.afterWait();
  }

  /** kcompactd()'s loop body after the wait: the work if requested, else the proactive pass */
  private afterWait(): void {
    if (this.maxOrder > 0 && !this.proactiveTrigger) {
      const ev = this.ev;
      const s0 = ev[V.compact_migrate_scanned]! + ev[V.compact_free_scanned]!;
      const m0 = ev[V.pgmigrate_success]!;
      const start = this.ctx!.now();
      const [order, hz] = this.doWork();
      const [scanned, migrated, ns] = this.passNs(s0, m0);
      this.log?.push({ time_ms: start, kind: "work", scanned, migrated, busy_ns: ns });
      this.timeout = HPAGE_FRAG_CHECK_INTERVAL_MSEC;
      this.lastPass = null;
      this.candidate = false;
      if (ns === 0) {
        this.endWork(order, hz);
        this.sleep();
        return;
      }
      this.passKind = WORK_PASS;
      const ms = this.busy.charge(start, ns);
      this.onWork?.(ns);
      if (this.timer) this.ctx!.cancel(this.timer);
      this.timer = this.ctx!.schedule(ms, () => {
        // the pass's end: kcompactd_do_work's tail, then the next wait, which returns at once
        // if a request came in meanwhile (___wait_cond_timeout tests it first)
        this.timer = null;
        this.endWork(order, hz);
        if (this.maxOrder > 0 || this.proactiveTrigger) return this.afterWait();
        this.sleep();
      });
      return;
    }
    this.proactivePass();
  }

  private proactivePass(): void {
    this.timeout = HPAGE_FRAG_CHECK_INTERVAL_MSEC;
    this.lastPass = null;
    const candidate = this.candidate;
    this.candidate = false;
    let busyMs = 0;
    if (this.shouldProactiveCompact()) {
      const prev = this.compaction.scoreNode(this.nid);
      const ev = this.ev;
      const s0 = ev[V.compact_migrate_scanned]! + ev[V.compact_free_scanned]!;
      const m0 = ev[V.pgmigrate_success]!;
      const start = this.ctx!.now();
      const evBefore = ev.slice();
      const before = this.compactionState();
      const stamp = this.passStamp();
      const moved = this.movedStamp();
      const fpBefore = candidate ? this.fingerprint() : null;
      this.compaction.proactiveCompact(this.nid);
      const score = this.compaction.scoreNode(this.nid);
      const [scanned, migrated, ns] = this.passNs(s0, m0);
      this.log?.push({ time_ms: start, kind: "proactive", scanned, migrated, busy_ns: ns });
      if (ns > 0) {
        this.passKind = PROACTIVE_PASS;
        busyMs = this.busy.charge(start, ns);
      }
      // 6.1 kcompactd(): "Defer proactive compaction if the fragmentation score did not go
      // down i.e. no progress made": the next wait is default_timeout << COMPACT_MAX_DEFER_SHIFT
      if (score >= prev) {
        this.timeout = HPAGE_FRAG_CHECK_INTERVAL_MSEC << COMPACT_MAX_DEFER_SHIFT;
        let fixed = this.passStamp() === stamp && this.compactionState() === before;
        let fp: string | null = null;
        if (!fixed && this.movedStamp() === moved) {
          // isolated pages and put them all back: a fixed point if the state is as it was
          // (the next pass is fingerprinted around too, while passes stay like this one)
          fp = fpBefore !== null ? this.fingerprint() : null;
          fixed = fp !== null && fp === fpBefore;
          this.candidate = true;
        }
        if (fixed) {
          const deltas: [number, number][] = [];
          for (let i = 0; i < ev.length; i++) if (ev[i] !== evBefore[i]) deltas.push([i, ev[i]! - evBefore[i]!]);
          const isolating = fp !== null;
          this.lastPass = {
            stamp: this.passStamp(), events: this.stateEvents(), version: this.settingsVersion(), deltas, fp: fp ?? this.fingerprint(), isolating, evAt: ev.slice(),
            lists: this.listChanges(), ns, ms: busyMs, delay: NaN, // the delay: sleep's, below
          };
        }
      }
    }
    this.proactiveTrigger = false;
    const delay = this.sleep();
    if (this.lastPass) this.lastPass.delay = delay;
  }

  /**
   * The kcompactd.proactive policy point (a plugin's replacement of should_proactive_compact_node),
   * or null for the built-in. With one, the timeouts are never skipped as quiet or steady: the
   * policy may read anything.
   */
  proactivePolicy: ((nid: number) => boolean) | null = null;

  /** What should_proactive_compact_node reads: [fragmentation score, its high mark, proactiveness, kswapd running]. */
  proactiveInputs(): [number, number, number, boolean] {
    return [this.compaction.scoreNode(this.nid), this.compaction.scoreWmark(false), this.proactiveness(), this.kswapdRunning()];
  }

  /** should_proactive_compact_node */
  private shouldProactiveCompact(): boolean {
    if (this.proactivePolicy !== null) return this.proactivePolicy(this.nid);
    if (!this.proactiveness() || this.kswapdRunning()) return false;
    return this.compaction.scoreNode(this.nid) > this.compaction.scoreWmark(false);
  }

  /**
   * kcompactd_do_work: every populated zone up to kcompactd_highest_zoneidx, not deferred and
   * suitable (compaction_suitable at its own index), compacted for kcompactd_max_order
   */
  private doWork(): [number, number] {
    const c = this.compaction;
    const order = this.maxOrder;
    const hz = this.highestZoneidx;
    this.ev[V.compact_daemon_wake]!++;
    this.wakes.push(this.ctx!.now());
    let cc: CompactControl | undefined; // one compact_control for every zone, as 6.1's
    for (const z of this.zones) {
      if (z.idx > hz) break;
      const zc = c.zones[z.id]!;
      if (c.deferred(zc, order)) continue;
      if (c.suitable(z, order, 0, z.idx) !== COMPACT_CONTINUE) continue;
      const r = c.daemonCompact(z, order, hz, cc);
      cc = r.cc;
      if (r.result === COMPACT_SUCCESS) c.deferReset(zc, order, false);
      else if (r.result === COMPACT_PARTIAL_SKIPPED || r.result === COMPACT_COMPLETE) {
        // buddy pages stranded on pcps could coalesce at order >= cc.order: drain_all_pages(zone)
        c.alloc.drainAllPages(z);
        c.defer(zc, order);
      }
      this.ev[V.compact_daemon_migrate_scanned]! += r.migrateScanned;
      this.ev[V.compact_daemon_free_scanned]! += r.freeScanned;
    }
    return [order, hz];
  }

  /**
   * kcompactd_do_work's tail, at the pass's end: "we are done until woken up next", but a
   * request for a higher order or a lower zone made during the pass is kept.
   */
  private endWork(order: number, hz: number): void {
    if (this.maxOrder <= order) this.maxOrder = 0;
    if (this.highestZoneidx >= hz) this.highestZoneidx = this.nrZones() - 1;
  }
}
