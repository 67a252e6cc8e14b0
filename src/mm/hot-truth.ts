/**
 * Ground truth for promotion (wsim's own: no kernel can know it): because wsim sees every
 * access, it counts each lower-tier page's accesses per window (kpromoted.freq_window_ms);
 * at each window's end the pages accessed at least twice and more often than the median page
 * of the lower tier become "truly hot" from then. The median is taken over every lower-tier
 * page on an LRU list, the ones not accessed in the window counting 0, so a hot set that is a
 * small part of the lower tier is hot as a whole however many of the touched pages it is
 * (a loop over 512 pages among 7168 pages touched once makes exactly those 512 hot), while a
 * window where most of the lower tier was accessed alike (a heap faulted in, each page once,
 * or scanned twice over) has no hot page: hotness is relative to the tier. When more than half
 * of the lower tier's pages are accessed repeatedly, only those above the median count are
 * hot. The pages judged are those still in the lower tier, so the truth depends on the policy
 * that ran (a promoted page is no longer judged). A promotion of a truly hot page records how
 * late it came (promotion time - when it became hot) in a histogram, per promoter (kpromoted,
 * kmmscand, numa_balancing).
 *
 * A page promoted before it was ever judged (a promoter faster than the window: kmmscand's
 * first scan comes 1 s after a process starts, the window is 5 s) is judged at the end of the
 * window it was promoted in, with the accesses of that whole window (before and after the
 * move): by the same rule (twice and above the median) it counts as truly hot and promoted hot, with latency 0
 * (promoted before the window could call it hot); else as promoted not hot. Every promotion
 * (pgpromote_success: a lower tier to the top) is counted once, hot or not, under its promoter.
 */
import type { Daemon, EngineContext } from "../engine/daemon.js";
import { PG_HEAD, PG_LRU, type PageArrays } from "./pages.js";

export const LATENCY_BOUNDS_MS = [100, 500, 1000, 2000, 5000, 10000, 30000];

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
  /** promotions in this window of pages not yet judged: [destination pfn, promoter] */
  private pending: [number, string][] = [];

  constructor(
    private readonly pages: PageArrays,
    private readonly isLowerTier: (pfn: number) => boolean,
    private readonly windowMs: () => number,
    /** the head of the mapped huge page pfn belongs to, or -1 */
    private readonly hugeHead: (pfn: number) => number = () => -1,
    /** lower-tier pages on LRU lists now (the median's population; untouched ones count 0) */
    private readonly lowerTierLruPages: () => number = () => 0,
  ) {
    this.counts = new Uint32Array(pages.nrPages);
    this.hotSince = new Float64Array(pages.nrPages).fill(-1);
    this.touched = new Int32Array(pages.nrPages);
    this.listed = new Uint8Array(pages.nrPages);
  }

  start(ctx: EngineContext): void {
    // a window without accesses ends changing nothing: the engine may skip it
    const quiet = (period: number) =>
      period === this.windowMs() && !this.pending.length && this.nTouched === 0 ? Infinity : -Infinity;
    const tick = () => {
      this.windowEnd(ctx.now());
      ctx.schedule(this.windowMs(), tick, quiet);
    };
    ctx.schedule(this.windowMs(), tick, quiet);
  }

  /**
   * Every access to a present page. A huge page is one folio whose hotness is its own (one
   * PMD, one accessed bit, promoted or not as a whole): its accesses count at its head, and it
   * is judged as its 512 pages.
   */
  access(pfn: number): void {
    const h = this.hugeHead(pfn);
    const p = h >= 0 ? h : pfn;
    this.counts[p]!++;
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

  private windowEnd(now: number): void {
    const c = this.counts;
    const T = this.touched;
    const n = this.nTouched;
    this.windowWork += n;
    const seen: number[] = [];
    for (let i = 0; i < n; i++) {
      const pfn = T[i]!;
      if (c[pfn] && this.pages.flags[pfn]! & PG_LRU && this.isLowerTier(pfn)) for (let k = this.weight(pfn); k > 0; k--) seen.push(c[pfn]!);
    }
    // this window's promotions of unjudged pages compete with the pages still below
    const judged = this.pending.filter(([dst]) => c[dst]! > 0 && this.pages.flags[dst]! & PG_LRU);
    for (const [dst] of judged) seen.push(c[dst]!);
    if (seen.length) {
      seen.sort((a, b) => b - a);
      // hot is relative to the tier: accessed at least twice and more than the median lower-tier
      // page, the pages on LRU lists that this window did not touch counting 0
      const total = Math.max(seen.length, this.lowerTierLruPages());
      const kth = (k: number) => (k < seen.length ? seen[k]! : 0);
      const m = total >> 1;
      const median = total & 1 ? kth(m) : (kth(m - 1) + kth(m)) / 2;
      const hot = (k: number) => k >= 2 && k > median;
      for (let i = 0; i < n; i++) {
        const pfn = T[i]!;
        if (hot(c[pfn]!) && this.hotSince[pfn]! < 0 && this.pages.flags[pfn]! & PG_LRU && this.isLowerTier(pfn)) {
          this.hotSince[pfn] = now;
          this.trulyHot += this.weight(pfn);
        }
      }
      for (const [dst, who] of judged) {
        if (!hot(c[dst]!)) continue;
        this.trulyHot++;
        this.promotedHot++;
        const b = this.promoter(who);
        b.promotedHot++;
        b.lat[0]!++; // promoted before it was found hot: latency 0
      }
    }
    this.pending = [];
    for (let i = 0; i < n; i++) {
      c[T[i]!] = 0;
      this.listed[T[i]!] = 0;
    }
    this.nTouched = 0;
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
      if (!this.listed[dst]) this.list(dst);
      this.pending.push([dst, who]);
      return;
    }
    this.promotedHot++;
    b.promotedHot++;
    const lat = now - since;
    let i = 0;
    while (i < LATENCY_BOUNDS_MS.length && lat >= LATENCY_BOUNDS_MS[i]!) i++;
    b.lat[i]!++;
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
