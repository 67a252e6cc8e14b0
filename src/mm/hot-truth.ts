/**
 * Ground truth for promotion (wsim's own: no kernel can know it): because wsim sees every
 * access, it counts each lower-tier page's accesses per window (kpromoted.freq_window_ms);
 * at each window's end the pages in the top decile of that window's counts (and accessed at
 * all) become "truly hot" from then. A promotion of a truly hot page records how late it came
 * (promotion time - when it became hot) in a histogram, per promoter (kpromoted, kmmscand).
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
  /** per promoter: truly hot pages it promoted and the latency histogram (le_ms null = longer) */
  by: Record<string, { promoted_hot: number; latency: { le_ms: number | null; count: number }[] }>;
}

export class HotTruth implements Daemon {
  readonly name = "wsim-hot-truth";
  private readonly counts: Uint32Array;
  private readonly hotSince: Float64Array;
  private trulyHot = 0;
  private promotedHot = 0;
  private promoted = 0;
  private readonly by = new Map<string, { promotedHot: number; lat: number[] }>();

  constructor(
    private readonly pages: PageArrays,
    private readonly isLowerTier: (pfn: number) => boolean,
    private readonly windowMs: () => number,
    /** the head of the mapped huge page pfn belongs to, or -1 */
    private readonly hugeHead: (pfn: number) => number = () => -1,
  ) {
    this.counts = new Uint32Array(pages.nrPages);
    this.hotSince = new Float64Array(pages.nrPages).fill(-1);
  }

  start(ctx: EngineContext): void {
    // a window without accesses ends changing nothing: the engine may skip it
    const quiet = (period: number) => (period === this.windowMs() && !this.counts.some((c) => c > 0) ? Infinity : -Infinity);
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
    this.counts[h >= 0 ? h : pfn]!++;
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
    const seen: number[] = [];
    for (let pfn = 0; pfn < c.length; pfn++)
      if (c[pfn] && this.pages.flags[pfn]! & PG_LRU && this.isLowerTier(pfn)) for (let k = this.weight(pfn); k > 0; k--) seen.push(c[pfn]!);
    if (seen.length) {
      seen.sort((a, b) => b - a);
      const threshold = seen[Math.floor(seen.length / 10)]!;
      for (let pfn = 0; pfn < c.length; pfn++) {
        if (c[pfn]! >= threshold && c[pfn]! > 0 && this.hotSince[pfn]! < 0 && this.pages.flags[pfn]! & PG_LRU && this.isLowerTier(pfn)) {
          this.hotSince[pfn] = now;
          this.trulyHot += this.weight(pfn);
        }
      }
    }
    c.fill(0);
  }

  /** a promotion of the page at pfn by `who` */
  promotedPage(pfn: number, now: number, who: string): void {
    this.promoted++;
    const since = this.hotSince[pfn]!;
    if (since < 0) return;
    this.promotedHot++;
    let b = this.by.get(who);
    if (!b) this.by.set(who, (b = { promotedHot: 0, lat: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0) }));
    b.promotedHot++;
    const lat = now - since;
    let i = 0;
    while (i < LATENCY_BOUNDS_MS.length && lat >= LATENCY_BOUNDS_MS[i]!) i++;
    b.lat[i]!++;
  }

  result(): PromotionTruth {
    const by: PromotionTruth["by"] = {};
    for (const [who, b] of [...this.by].sort()) {
      by[who] = {
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
