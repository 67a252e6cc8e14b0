/**
 * The workingset report (Yuanchu Xie's RFC v3, memcg files; SPEC §4.5): page_age histograms
 * derived from MGLRU generations, refreshed on read (wsr_refresh_report) or by kagingd, the
 * reaccess histogram from aging walks and refaults, and wsim's ground truth beside them:
 * page_age_exact from each page's true last access.
 *
 * Arithmetic follows the RFC exactly: ages in jiffies (floor(ms) at HZ = 1000), a generation
 * spans [its birth, the next younger one's birth (now for the youngest)] and is split across
 * bins as `size / gen_len * gen_in_bin` (integer division first, as posted).
 * RFC slip, documented: timestamp_from_workingset_token returns -EEXIST even when it finds
 * the token among the evicted generations, so the posted code only bins refaults from the
 * current oldest generation; wsim follows the intent and bins those from the last
 * MAX_NR_EVICTED_GENS evicted generations too.
 */
import type { LruGen, Lruvec } from "./lru-gen.js";
import { MAX_NR_EVICTED_GENS, NR_SLOTS } from "./lru-gen.js";
import type { Memcg, MemcgTree, WsrState } from "./memcg.js";

export const INTERVAL_MAX = "18446744073709551615";
const PAGE_SIZE = 4096;

/** collect_page_age_type: one type of one lruvec into bins (pages), RFC arithmetic. */
export function collectPageAgeType(
  lv: Lruvec,
  type: number,
  intervals: readonly number[],
  bins: number[],
  now: number,
): void {
  const curr = Math.floor(now);
  let b = 0;
  for (let seq = lv.maxSeq; seq >= lv.minSeq[type]!; seq--) {
    const genStart = seq === lv.maxSeq ? curr : lv.birthOf(seq + 1);
    b = binGeneration(bins, b, lv.pagesIn(type, seq), genStart, lv.birthOf(seq), curr, intervals);
  }
}

/**
 * The RFC's split of one generation, spanning [genEnd, genStart], across the bins from bin
 * b on: each bin the generation reaches past gets `size / gen_len * gen_in_bin` (integer
 * division first), the rest goes to the bin it ends in. Returns that bin. Both
 * collect_page_age_type and the reaccess report (lru_gen_report_reaccess) split this way.
 */
function binGeneration(
  bins: number[],
  b: number,
  size: number,
  genStart: number,
  genEnd: number,
  curr: number,
  intervals: readonly number[],
): number {
  while (b < intervals.length && genEnd + intervals[b]! < curr) {
    const genInBin = genStart - curr + intervals[b]!;
    const genLen = genStart - genEnd;
    if (!genLen) break;
    if (genInBin) {
      const split = Math.floor(size / genLen) * genInBin;
      bins[b]! += split;
      size -= split;
    }
    genStart = curr - intervals[b]!;
    b++;
  }
  bins[b]! += size;
  return b;
}

/** The bin of an age under the RFC's refault rule: the first bin with age <= bound. */
function binAtMost(intervals: readonly number[], age: number): number {
  let b = 0;
  while (b < intervals.length && age > intervals[b]!) b++;
  return b;
}

export interface WsrHooks {
  /** try_to_inc_max_seq(force_scan) of one lruvec */
  age(lv: Lruvec): void;
  /** counts a re-aggregation (kagingd's or a read's) */
  refreshed?: () => void;
}

export class WorkingsetReport {
  constructor(
    private readonly tree: MemcgTree,
    private readonly lru: LruGen,
    /** true last access time per pfn */
    private readonly lastAccess: Float64Array,
  ) {}

  /**
   * wsr_refresh_report(root, node): nothing with refresh_interval 0 or no intervals; a report
   * younger than refresh_interval is left as it is; otherwise every memcg under root whose
   * youngest generation is older than refresh_interval (strictly) is aged, then the histogram
   * is re-aggregated and stamped now. Returns true if it re-aggregated.
   */
  refresh(root: Memcg, nid: number, now: number, hooks: WsrHooks): boolean {
    const w = root.wsr[nid]!;
    if (!w.hasPageAge || !w.refreshInterval) return false;
    const jiffies = Math.floor(now);
    if (w.timestamp !== null && jiffies < w.timestamp + w.refreshInterval) return false;
    const subtree = root.subtree();
    for (const m of subtree) {
      const lv = m.lruvecs[nid]!;
      if (lv.birthOf(lv.maxSeq) + w.refreshInterval < jiffies) hooks.age(lv);
    }
    this.aggregate(w, subtree, nid, now);
    hooks.refreshed?.();
    return true;
  }

  /** refresh_aggregate */
  aggregate(w: WsrState, subtree: readonly Memcg[], nid: number, now: number): void {
    w.pageAgeAnon.fill(0);
    w.pageAgeFile.fill(0);
    for (const m of subtree) {
      const lv = m.lruvecs[nid]!;
      collectPageAgeType(lv, 0, w.intervals, w.pageAgeAnon, now);
      collectPageAgeType(lv, 1, w.intervals, w.pageAgeFile, now);
    }
    w.timestamp = Math.floor(now);
  }

  /**
   * page_age_exact: resident pages of root's subtree on nid binned by true idle time (bytes).
   * A huge page's LRU entry stands for its 512 pages, each binned by its own last access (the
   * kernel view counts it as folio_nr_pages too, so both histograms add up to the same bytes).
   */
  exact(root: Memcg, nid: number, intervals: readonly number[], now: number): { anon: number[]; file: number[] } {
    const anon = new Array<number>(intervals.length + 1).fill(0);
    const file = new Array<number>(intervals.length + 1).fill(0);
    for (const m of root.subtree()) {
      const lv = m.lruvecs[nid]!;
      for (let type = 0; type < 2; type++) {
        const out = type === 0 ? anon : file;
        for (let s = 0; s < NR_SLOTS; s++) {
          for (let pfn = lv.head[type * NR_SLOTS + s]!; pfn >= 0; pfn = this.lru.next[pfn]!) {
            const end = pfn + this.lru.nrOf(pfn);
            for (let q = pfn; q < end; q++) {
              const age = now - this.lastAccess[q]!;
              let b = 0;
              while (b < intervals.length && age >= intervals[b]!) b++; // first bound exceeding the age
              out[b]! += PAGE_SIZE;
            }
          }
        }
      }
    }
    return { anon, file };
  }

  /** lru_gen_report_reaccess for one generation's delta: the lruvec's memcg and its ancestors. */
  walkReaccess(lv: Lruvec, type: number, seq: number, moved: number, now: number): void {
    const memcg = lv.owner as Memcg;
    const curr = Math.floor(now);
    for (const m of memcg.ancestry()) {
      const w = m.wsr[lv.nid]!;
      if (!w.reaccessIntervals.length) continue;
      const iv = w.reaccessIntervals;
      const bins = type === 0 ? w.reaccessAnon : w.reaccessFile;
      const genStart = lv.birthOf(seq + 1);
      let b = 0;
      while (b < iv.length && genStart + iv[b]! < curr) b++;
      binGeneration(bins, b, moved, genStart, lv.birthOf(seq), curr, iv);
    }
  }

  /**
   * report_reaccess_refault: the eviction generation's timestamp from the token (the current
   * min_seq of either type, or one of the last MAX_NR_EVICTED_GENS evicted anon generations),
   * then binned by now - timestamp into the lruvec's memcg and its ancestors.
   */
  refaultReaccess(lv: Lruvec, token: number, type: number, now: number): void {
    let ts: number | null = null;
    for (let t = 0; t < 2 && ts === null; t++) if (token === lv.minSeq[t]) ts = lv.birthOf(token);
    if (ts === null)
      for (let k = 0; k < MAX_NR_EVICTED_GENS; k++) if (lv.evictedSeq[k] === token) ts = lv.evictedBirth[k]!;
    if (ts === null) return;
    const age = Math.floor(now) - ts;
    for (const m of (lv.owner as Memcg).ancestry()) {
      const w = m.wsr[lv.nid]!;
      if (!w.reaccessIntervals.length) continue;
      const bins = type === 0 ? w.reaccessAnon : w.reaccessFile;
      bins[binAtMost(w.reaccessIntervals, age)]!++;
    }
  }

  /** report_lru_gen_eviction: remember evicted anon generations (seq, birth). */
  recordEviction(lv: Lruvec, from: number, to: number): void {
    for (let seq = from; seq < to; seq++) {
      lv.evictedSeq[seq % MAX_NR_EVICTED_GENS] = seq;
      lv.evictedBirth[seq % MAX_NR_EVICTED_GENS] = lv.birthOf(seq);
    }
  }

  /** memory.workingset.page_age of memcg (after the caller refreshed it) */
  formatPageAge(memcg: Memcg): string {
    let out = "";
    memcg.wsr.forEach((w, nid) => {
      if (!w.hasPageAge) return;
      out += `N${nid}\n`;
      w.intervals.forEach((iv, b) => (out += `${iv} anon=${w.pageAgeAnon[b]! * PAGE_SIZE} file=${w.pageAgeFile[b]! * PAGE_SIZE}\n`));
      const last = w.intervals.length;
      out += `${INTERVAL_MAX} anon=${w.pageAgeAnon[last]! * PAGE_SIZE} file=${w.pageAgeFile[last]! * PAGE_SIZE}\n`;
    });
    return out;
  }

  /** memory.workingset.reaccess of memcg (pages) */
  formatReaccess(memcg: Memcg): string {
    let out = "";
    memcg.wsr.forEach((w, nid) => {
      if (!w.reaccessIntervals.length) return;
      out += `N${nid}\n`;
      w.reaccessIntervals.forEach((iv, b) => (out += `${iv} anon=${w.reaccessAnon[b]} file=${w.reaccessFile[b]}\n`));
      const last = w.reaccessIntervals.length;
      out += `${INTERVAL_MAX} anon=${w.reaccessAnon[last]} file=${w.reaccessFile[last]}\n`;
    });
    return out;
  }

  get memcgs(): MemcgTree {
    return this.tree;
  }
}
