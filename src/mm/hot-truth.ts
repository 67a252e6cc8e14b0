/**
 * Ground truth for promotion (wsim's own: no kernel can know it): because wsim sees every
 * access, it counts each lower-tier page's accesses per window (kpromoted.freq_window_ms), and
 * a page is "truly hot" from the access that brings its count in a window to
 * `wsim.hot_truth_accesses` (default 2, kpromoted's own frequency threshold), judged at the
 * window's end. An absolute count, so the truth does not depend on what else the window held: a
 * heap faulted in (each page once) has no hot page, a hot set is hot whatever share of the tier
 * it is, and a loop over 512 pages among 7168 pages touched once makes exactly those 512 hot.
 * The pages judged are those still in the lower tier, so the truth depends on the policy that
 * ran (a promoted page is no longer judged). A promotion of a truly hot page records how late it
 * came (promotion time - the time of the access that made it hot) in a histogram, per promoter
 * (kpromoted, kmmscand, numa_balancing); so latency is measured to the access, not to the end
 * of the window.
 *
 * A page promoted before a window's end judged it takes its window's accesses with it and is
 * judged at that end, with the accesses of the whole window (before and after the move): if
 * they reach the threshold it counts as truly hot and promoted hot, with latency the promotion
 * time less the time it reached the threshold, or 0 if it reached it only after the move (a
 * promoter ahead of the truth); else as promoted not hot. Every promotion (pgpromote_success: a
 * lower tier to the top) is counted once, hot or not, under its promoter.
 */
import type { Daemon, EngineContext } from "../engine/daemon.js";
import { PG_HEAD, PG_LRU, type PageArrays } from "./pages.js";

export const LATENCY_BOUNDS_MS = [100, 500, 1000, 2000, 5000, 10000, 30000];

/** The latency histogram's bin of `ms`: the first bound it is below, or the last (30 s or more). */
function bucket(ms: number): number {
  let i = 0;
  while (i < LATENCY_BOUNDS_MS.length && ms >= LATENCY_BOUNDS_MS[i]!) i++;
  return i;
}

export interface PromotionTruth {
  window_ms: number;
  /** distinct pages that were truly hot at some window's end */
  truly_hot: number;
  /** of those, promoted (by anyone) */
  promoted_hot: number;
  /** promotions in all, and those of pages never found hot */
  promoted: number;
  promoted_not_hot: number;
  /**
   * per promoter: its promotions, the truly hot pages among them and their latency histogram
   * (le_ms null = longer)
   */
  by: Record<string, { promoted: number; promoted_hot: number; latency: { le_ms: number | null; count: number }[] }>;
}

export class HotTruth implements Daemon {
  readonly name = "wsim-hot-truth";
  private readonly counts: Uint32Array;
  /** the time of the access that brought a page's count in this window to the threshold */
  private readonly reachedAt: Float64Array;
  /** the threshold of this window (a write of wsim.hot_truth_accesses counts from the next) */
  private hot = 2;
  private readonly hotSince: Float64Array;
  /**
   * the pfns counted in this window, once each (`listed` marks them): a window's end and its
   * reset walk these, not the whole machine, so a window without accesses costs nothing
   */
  private readonly touched: Int32Array;
  private readonly listed: Uint8Array;
  private nTouched = 0;
  /** pfns examined at window ends, in all (for tests: a window costs what it counted) */
  windowWork = 0;
  private trulyHot = 0;
  private promotedHot = 0;
  private promoted = 0;
  private readonly by = new Map<string, { promoted: number; promotedHot: number; lat: number[] }>();
  /** promotions in this window of pages not yet judged: [destination pfn, promoter, time] */
  private pending: [number, string, number][] = [];

  constructor(
    private readonly pages: PageArrays,
    private readonly isLowerTier: (pfn: number) => boolean,
    private readonly windowMs: () => number,
    /** the head of the mapped huge page pfn belongs to, or -1 */
    private readonly hugeHead: (pfn: number) => number = () => -1,
    /** wsim.hot_truth_accesses: accesses in a window that make a page hot */
    private readonly threshold: () => number = () => 2,
  ) {
    this.counts = new Uint32Array(pages.nrPages);
    this.reachedAt = new Float64Array(pages.nrPages);
    this.hotSince = new Float64Array(pages.nrPages).fill(-1);
    this.touched = new Int32Array(pages.nrPages);
    this.listed = new Uint8Array(pages.nrPages);
  }

  start(ctx: EngineContext): void {
    this.hot = this.threshold();
    // a window without accesses ends changing nothing: the engine may skip it
    const quiet = (period: number) =>
      period === this.windowMs() && !this.pending.length && this.nTouched === 0 ? Infinity : -Infinity;
    const tick = () => {
      this.windowEnd();
      ctx.schedule(this.windowMs(), tick, quiet);
    };
    ctx.schedule(this.windowMs(), tick, quiet);
  }

  /**
   * Every access to a present page. A huge page is one folio whose hotness is its own (one
   * PMD, one accessed bit, promoted or not as a whole): its accesses count at its head, and it
   * is judged as its 512 pages.
   */
  access(pfn: number, now: number): void {
    const h = this.hugeHead(pfn);
    const p = h >= 0 ? h : pfn;
    if (++this.counts[p]! === this.hot) this.reachedAt[p] = now;
    if (!this.listed[p]) this.list(p);
  }

  private list(pfn: number): void {
    this.listed[pfn] = 1;
    this.touched[this.nTouched++] = pfn;
  }

  /** pages the entry at pfn stands for: 512 for a huge page's head, else 1 */
  private weight(pfn: number): number {
    const f = this.pages.flags[pfn]!;
    return f & PG_HEAD && this.pages.order[pfn]! > 0 ? 1 << this.pages.order[pfn]! : 1;
  }

  /** a page left its pfn (freed or migrated away): forget it */
  forget(pfn: number, nr: number): void {
    for (let q = pfn; q < pfn + nr; q++) {
      this.counts[q] = 0;
      this.hotSince[q] = -1;
    }
  }

  private windowEnd(): void {
    const c = this.counts;
    const T = this.touched;
    const n = this.nTouched;
    this.windowWork += n;
    const hot = this.hot;
    for (let i = 0; i < n; i++) {
      const pfn = T[i]!;
      if (c[pfn]! >= hot && this.hotSince[pfn]! < 0 && this.pages.flags[pfn]! & PG_LRU && this.isLowerTier(pfn)) {
        this.hotSince[pfn] = this.reachedAt[pfn]!;
        this.trulyHot += this.weight(pfn);
      }
    }
    // this window's promotions of pages not judged before: judged with the whole window's accesses
    for (const [dst, who, at] of this.pending) {
      if (c[dst]! < hot || !(this.pages.flags[dst]! & PG_LRU)) continue;
      this.trulyHot++;
      this.promotedHot++;
      const b = this.promoter(who);
      b.promotedHot++;
      // hot before the move: late by the time since; hot only after it: ahead (0)
      b.lat[bucket(Math.max(0, at - this.reachedAt[dst]!))]!++;
    }
    this.pending = [];
    for (let i = 0; i < n; i++) {
      c[T[i]!] = 0;
      this.listed[T[i]!] = 0;
    }
    this.nTouched = 0;
    this.hot = this.threshold();
  }

  private promoter(who: string): { promoted: number; promotedHot: number; lat: number[] } {
    let b = this.by.get(who);
    if (!b) this.by.set(who, (b = { promoted: 0, promotedHot: 0, lat: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0) }));
    return b;
  }

  /**
   * A promotion (lower tier to the top) by `who` of the page at pfn to dst, before pfn is
   * freed: a page found hot already is promoted hot now; one never judged takes its window's
   * accesses to dst and is judged at the window's end.
   */
  promotedPage(pfn: number, dst: number, now: number, who: string): void {
    this.promoted++;
    const b = this.promoter(who);
    b.promoted++;
    const since = this.hotSince[pfn]!;
    if (since < 0) {
      this.counts[dst] = this.counts[pfn]!;
      // reached the threshold before the move (this window): that time; else set by a later access
      this.reachedAt[dst] = this.counts[pfn]! >= this.hot ? this.reachedAt[pfn]! : Infinity;
      if (!this.listed[dst]) this.list(dst);
      this.pending.push([dst, who, now]);
      return;
    }
    this.promotedHot++;
    b.promotedHot++;
    b.lat[bucket(now - since)]!++;
  }

  /** distinct pages found truly hot so far */
  get trulyHotPages(): number {
    return this.trulyHot;
  }

  /** of those, promoted so far */
  get promotedHotPages(): number {
    return this.promotedHot;
  }

  result(): PromotionTruth {
    const by: PromotionTruth["by"] = {};
    for (const [who, b] of [...this.by].sort()) {
      by[who] = {
        promoted: b.promoted,
        promoted_hot: b.promotedHot,
        latency: b.lat.map((count, i) => ({ le_ms: i < LATENCY_BOUNDS_MS.length ? LATENCY_BOUNDS_MS[i]! : null, count })),
      };
    }
    return {
      window_ms: this.windowMs(),
      truly_hot: this.trulyHot,
      promoted_hot: this.promotedHot,
      promoted: this.promoted,
      promoted_not_hot: this.promoted - this.promotedHot,
      by,
    };
  }
}
