/**
 * Free page reporting: telling the host which free blocks of order >= page_reporting.order it
 * may take back (a balloon without the balloon). Two modes, one worker daemon.
 *
 * `reporting` (mm/page_reporting.c, 6.1): a free at or above the order requests a pass after
 * `delay_ms` (2 s); a request during a pass makes the pass end by rescheduling one. A pass
 * skips a zone below low watermark + (capacity << order); otherwise it walks the orders up from
 * page_reporting.order and each migratetype's list from the head (page_reporting_cycle),
 * skipping reported blocks, with a budget of ceil(nr_free / (capacity * 16)) report calls per
 * list tested before each isolation; isolated blocks collect in one scatterlist of `capacity`
 * entries shared by the zone's lists; a full list is reported, rotated so that the first
 * unprocessed block is the head, then drained back to the tail (__putback_isolated_page) and
 * marked reported unless they merged; leftovers are reported at the end of the zone.
 *
 * `aeration` (the RFC v1 this grew from): a zone is requested when an order's raw blocks reach
 * AERATOR_HWM (32), after `delay_ms` (100 ms); boundaries keep aerated blocks contiguous at each
 * list's tail (buddy.ts); fill / react / drain cycles pull up to `capacity` raw blocks, largest
 * order first, from the boundary toward the head, until a fill finds nothing.
 *
 * Each report takes `page_reporting.report_ms` of virtual time during which its blocks stay
 * isolated (off every list), so allocations then must go elsewhere.
 *
 * The worker's own work takes virtual time too (issue 16 item 2): each free-list entry it
 * looks at (page_reporting_cycle's and aerator_fill's walks) costs cost.compact_scan_ns; the
 * work between two reports (or up to the pass's end) is charged before the report starts (or
 * the pass ends), so a pass ends, and the next one is scheduled, only after it. Its total is
 * wsim_page_reporting_busy_ms (report_ms, the host's time, is not in it).
 */
import type { Daemon, EngineContext } from "../engine/daemon.js";
import type { Timer } from "../engine/event-queue.js";
import { BusyWindow } from "../engine/busy.js";
import { V } from "../stats/counters.js";
import { Buddy, FPI_AERATED, FPI_SKIP_REPORT_NOTIFY, FPI_TO_TAIL, WMARK_LOW, type Zone } from "./buddy.js";
import { MAX_ORDER, MIGRATE_TYPES, MT_ISOLATE, PAGEBLOCK_ORDER } from "./constants.js";
import { PG_BUDDY, PG_REPORTED } from "./pages.js";
import { listNext, listPrev, listRotateToFront } from "./list.js";

export const AERATOR_HWM = 32;

const IDLE = 0;
const REQUESTED = 1;
const ACTIVE = 2;

export interface ReportingSettings {
  enabled: () => boolean;
  mode: () => "reporting" | "aeration";
  order: () => number;
  capacity: () => number;
  delayMs: () => number;
  reportMs: () => number;
  /** cost.compact_scan_ns: a free-list entry looked at (absent: the worker's work takes no time) */
  scanNs?: () => number;
}

/** One report() call, for tests and users. */
export interface ReportLogEntry {
  time_ms: number;
  nid: number;
  /** [pfn, order] of each block, in scatterlist order */
  blocks: [number, number][];
}

export class PageReporting implements Daemon {
  readonly name = "page_reporting";
  private ctx: EngineContext | null = null;
  private state = IDLE;
  private timer: Timer | null = null;
  /** the pass in progress (a generator paused at each report while report_ms runs) */
  private pass: Generator<number, void> | null = null;
  /** aeration: zones requested (ZONE_AERATION_REQUESTED) */
  private readonly zoneRequested: boolean[];
  /** virtual times passes started, and every report */
  readonly passes: number[] = [];
  log: ReportLogEntry[] | null = null;
  /** blocks isolated for the report in flight ([pfn, order]), off every list until drained */
  readonly inFlight: [number, number][] = [];
  /**
   * The lowest page_reporting.order in effect at any report so far (MAX_ORDER before the
   * first): raising the order at run time leaves blocks reported at the old order reported,
   * as page_reporting_order's module parameter does in 6.1, so the invariant checker asks
   * reported blocks to be at or above this, not the current order.
   */
  lowestOrderReported = MAX_ORDER;
  /** the worker's busy time (wsim_page_reporting_busy_ms) */
  readonly busy = new BusyWindow();
  /** free-list entries looked at since the work was last charged */
  private looked = 0;

  constructor(
    private readonly buddy: Buddy,
    private readonly ev: Float64Array,
    private readonly s: ReportingSettings,
  ) {
    this.zoneRequested = buddy.zones.map(() => false);
  }

  start(ctx: EngineContext): void {
    this.ctx = ctx;
    this.buddy.setAeration(this.wantsAeration());
    if (!this.s.enabled()) return;
    // page_reporting_register: request a pass over every zone, so boot memory gets reported
    for (let i = 0; i < this.zoneRequested.length; i++) this.zoneRequested[i] = true;
    this.request();
  }

  /**
   * The tunables changed (enabled, mode): the free lists take the layout of the mode in effect
   * (at once, or when the pass in progress ends, since a pass keeps the layout it began with),
   * and turning reporting on registers it (a first request).
   */
  settingsChanged(): void {
    if (!this.ctx) return;
    if (!this.pass) this.buddy.setAeration(this.wantsAeration());
    if (this.s.enabled() && this.state === IDLE && !this.pass) {
      for (let i = 0; i < this.zoneRequested.length; i++) this.zoneRequested[i] = true;
      this.request();
    }
  }

  private wantsAeration(): boolean {
    return this.s.enabled() && this.s.mode() === "aeration";
  }

  /** page_reporting_notify_free / aerator_notify_free, at the end of __free_one_page */
  notifyFree(z: Zone, order: number): void {
    if (!this.ctx || !this.s.enabled() || order < this.s.order()) return;
    if (this.s.mode() === "aeration") {
      if (this.zoneRequested[z.id]) return;
      if (z.nrFree[order]! - z.reported[order]! < AERATOR_HWM) return;
      this.zoneRequested[z.id] = true;
    }
    this.request();
  }

  /** __page_reporting_request */
  private request(): void {
    if (this.state === REQUESTED) return;
    const old = this.state;
    this.state = REQUESTED;
    if (old === IDLE) this.timer = this.ctx!.schedule(this.s.delayMs(), () => this.startPass());
  }

  /** page_reporting_process */
  private startPass(): void {
    this.timer = null;
    this.looked = 0;
    // page_reporting_unregister (reporting turned off) cancels the delayed work
    // (cancel_delayed_work_sync): a request made before it never runs
    if (!this.s.enabled()) {
      this.state = IDLE;
      return;
    }
    this.state = ACTIVE;
    this.passes.push(this.ctx!.now());
    this.pass = this.s.mode() === "aeration" ? this.aerate() : this.processAll();
    this.resume();
  }

  /** The work looked at since the last charge: its ms of busy time (0 without a cost). */
  private charge(): number {
    const ns = this.s.scanNs ? this.looked * this.s.scanNs() : 0;
    this.looked = 0;
    return ns > 0 ? this.busy.charge(this.ctx!.now(), ns) : 0;
  }

  /** Runs the pass until it waits on a report (report_ms > 0) or ends. */
  private resume(): void {
    const g = this.pass!;
    for (;;) {
      const r = g.next();
      if (r.done) break;
      // the report starts after the work that led to it
      const wait = this.charge() + r.value;
      if (wait > 0) {
        this.timer = this.ctx!.schedule(wait, () => {
          this.timer = null;
          this.resume();
        });
        return;
      }
    }
    const tail = this.charge();
    if (tail > 0) {
      // the pass's last work: it ends (and a request made meanwhile is seen) after it
      this.timer = this.ctx!.schedule(tail, () => {
        this.timer = null;
        this.endPass();
      });
      return;
    }
    this.endPass();
  }

  /** The pass's end: the free lists' layout of the mode now, and another pass if requested meanwhile. */
  private endPass(): void {
    this.pass = null;
    this.buddy.setAeration(this.wantsAeration()); // a mode written during the pass
    // cmpxchg(ACTIVE -> IDLE); a request during the pass schedules another
    const was = this.state;
    this.state = IDLE;
    if (was === REQUESTED && this.s.enabled()) {
      this.state = REQUESTED;
      this.timer = this.ctx!.schedule(this.s.delayMs(), () => this.startPass());
    }
  }

  /** prdev->report(): counts, logs, and yields report_ms of virtual time; `order` is the pass's page_reporting.order. */
  private *report(z: Zone, blocks: [number, number][], order: number): Generator<number, void> {
    this.lowestOrderReported = Math.min(this.lowestOrderReported, order);
    this.ev[V.wsim_reporting_calls]!++;
    this.ev[V.wsim_reported_blocks]! += blocks.length;
    for (const [, o] of blocks) this.ev[V.wsim_reported_pages]! += 1 << o;
    this.log?.push({ time_ms: this.ctx!.now(), nid: z.nid, blocks: blocks.map((b) => [b[0], b[1]]) });
    this.inFlight.push(...blocks);
    yield this.s.reportMs();
    this.inFlight.length = 0;
  }

  // --- reporting mode ---

  private *processAll(): Generator<number, void> {
    for (const z of this.buddy.zones) yield* this.processZone(z);
  }

  /** page_reporting_process_zone */
  private *processZone(z: Zone): Generator<number, void> {
    const b = this.buddy;
    const order0 = this.s.order();
    const cap = this.s.capacity();
    const mark = z.mark(WMARK_LOW) + cap * 2 ** order0;
    if (!b.zoneWatermarkOk(z, 0, mark, z.freePages)) return;
    const sgl: [number, number][] = []; // isolated blocks, in scatterlist order (sgl[0] = last isolated)
    for (let order = order0; order < MAX_ORDER; order++) {
      for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
        if (mt === MT_ISOLATE) continue;
        yield* this.cycle(z, order, mt, sgl, cap, order0);
      }
    }
    if (sgl.length) {
      yield* this.report(z, sgl, order0);
      this.drain(z, sgl);
    }
  }

  /** page_reporting_cycle over one free list */
  private *cycle(z: Zone, order: number, mt: number, sgl: [number, number][], cap: number, order0: number): Generator<number, void> {
    const b = this.buddy;
    const p = b.pages;
    const li = order * MIGRATE_TYPES + mt;
    if (z.head[li]! < 0) return;
    let budget = Math.ceil(z.nrFree[order]! / (cap * 16));
    let page = z.head[li]!;
    let stop = -1; // `next` when the loop breaks
    const links = p.linksOf(order);
    while (page >= 0) {
      const nx = listNext(links, page);
      this.looked++;
      if (p.flags[page]! & PG_REPORTED) {
        page = nx;
        continue;
      }
      if (budget < 0) {
        this.state = REQUESTED;
        stop = page;
        break;
      }
      if (sgl.length < cap) {
        if (!b.isolateFreePage(z, page, order)) {
          stop = page;
          break;
        }
        sgl.unshift([page, order]); // --offset: filled from the end
        page = nx;
        continue;
      }
      // the scatterlist is full: make this block the head, report, drain, start again
      listRotateToFront(links, z.head, z.tail, li, page);
      yield* this.report(z, sgl, order0);
      budget--;
      this.drain(z, sgl);
      page = z.head[li]!;
    }
    if (stop >= 0 && z.head[li] !== stop && p.flags[stop]! & PG_BUDDY && p.order[stop] === order && p.listMtOf(stop, order) === mt)
      listRotateToFront(links, z.head, z.tail, li, stop);
  }

  /** page_reporting_drain: back to the tail (may merge), marked reported if not merged. */
  private drain(z: Zone, sgl: [number, number][]): void {
    const b = this.buddy;
    const p = b.pages;
    for (const [pfn, order] of sgl) {
      b.freeOnePage(z, pfn, order, p.pbMt[pfn >>> PAGEBLOCK_ORDER]!, FPI_SKIP_REPORT_NOTIFY | FPI_TO_TAIL);
      if (p.flags[pfn]! & PG_BUDDY && p.order[pfn] === order) b.markReported(z, pfn);
    }
    sgl.length = 0;
  }

  // --- aeration mode ---

  /** aerator_cycle: fill / react / drain on each requested zone until a fill finds nothing. */
  private *aerate(): Generator<number, void> {
    for (const z of this.buddy.zones) {
      if (!this.zoneRequested[z.id]) continue;
      for (;;) {
        const order0 = this.s.order();
        const got = this.fill(z, order0);
        if (!got.length) {
          this.zoneRequested[z.id] = false;
          break;
        }
        yield* this.report(z, got, order0);
        for (const [pfn, order] of got)
          this.buddy.freeOnePage(z, pfn, order, this.buddy.pages.pbMt[pfn >>> PAGEBLOCK_ORDER]!, FPI_SKIP_REPORT_NOTIFY | FPI_TO_TAIL | FPI_AERATED);
      }
    }
    if (this.state === REQUESTED && !this.zoneRequested.some(Boolean)) this.state = ACTIVE; // nothing left asked
  }

  /** aerator_fill: raw blocks, largest order first, each list from the boundary toward the head. */
  private fill(z: Zone, order0: number): [number, number][] {
    const b = this.buddy;
    const p = b.pages;
    const cap = this.s.capacity();
    const got: [number, number][] = [];
    for (let order = MAX_ORDER - 1; order >= order0 && got.length < cap; order--) {
      for (let mt = 0; mt < MIGRATE_TYPES && got.length < cap; mt++) {
        if (mt === MT_ISOLATE) continue;
        const li = order * MIGRATE_TYPES + mt;
        const bound = z.boundary[li]!;
        const links = p.linksOf(order);
        let page = bound >= 0 ? listPrev(links, bound) : z.tail[li]!;
        // raw blocks only: an aerated one is never taken again, so every cycle makes progress
        while (page >= 0 && got.length < cap && !(p.flags[page]! & PG_REPORTED)) {
          const pv = listPrev(links, page);
          this.looked++;
          if (!b.isolateFreePage(z, page, order)) break;
          got.push([page, order]);
          page = pv;
        }
      }
    }
    return got;
  }

  /** Pages reported and still free now (the wsim_nr_reported_pages gauge). */
  reportedPages(): number {
    let n = 0;
    for (const z of this.buddy.zones) for (let o = 0; o < MAX_ORDER; o++) n += z.reported[o]! * 2 ** o;
    return n;
  }
}
