/**
 * kpromoted (Bharata B Rao, "[RFC PATCH 2/4] mm: kpromoted: Hot page info collection and
 * promotion daemon", 2025): hotness sources call record_access(pfn, nid, src, now); records
 * live in a hash of 2^hash_order buckets keyed by hash_min(pfn) (hash_64 with GOLDEN_RATIO_64),
 * new ones inserted at the bucket head; one kpromoted per node with CPUs wakes every delay_ms,
 * walks the buckets in order for the records whose hot_node is its node, promotes candidates
 * and drops the rest.
 *
 * Two arithmetic slips in the posted patch, and what wsim does: the window test is written
 * `(last_update - now) > window` on unsigned values, so any access in a later jiffy looks like a
 * new window (frequency back to 1); and a new record is counted twice (created at frequency 1,
 * then incremented by the same call to 2). wsim follows the intent: `now - last_update > window`
 * starts a new window at frequency 1, and a new record starts at frequency 1.
 *
 * Records are keyed by pfn and survive a free, as in the patch; the walk drops records whose
 * pfn is no longer an LRU page (kpromoted_mig_non_lru). A record without a node gets
 * `kpromoted.default_node` (the patch hard-codes node 1). A promotion needs the target zone's
 * free pages above its high watermark plus the page (migrate_balanced_pgdat); otherwise it
 * fails and the record is kept.
 */
import type { Daemon, EngineContext } from "../engine/daemon.js";
import { BusyWindow, type ScanMigrateCosts } from "../engine/busy.js";
import { V } from "../stats/counters.js";

const GOLDEN_RATIO_64 = 0x61c8864680b583ebn;

/** hash_64(val, bits) of include/linux/hash.h: val * GOLDEN_RATIO_64 >> (64 - bits), mod 2^64 */
export function hash64(val: number, bits: number): number {
  return Number(BigInt.asUintN(64, BigInt(val) * GOLDEN_RATIO_64) >> BigInt(64 - bits));
}

export const SRC_HWHINT = 0;
export const SRC_PGTSCAN = 1;
export const NUMA_NO_NODE = -1;

/** kpromoted_migrate's verdicts on a record of an LRU page on another node (the kpromoted.candidate policy point) */
export const KP_CANDIDATE = 0;
export const KP_COLD_OLD = 1;
export const KP_COLD_NOT_ACCESSED = 2;

/**
 * kpromoted_migrate's frequency/recency rule (the built-in kpromoted.candidate): a record whose
 * window started more than 2 windows ago is cold_old, one with fewer than `threshold` accesses
 * in its window cold_not_accessed, else a candidate. Times in whole ms (jiffies).
 */
export function kpromotedVerdict(jiffies: number, lastUpdate: number, freq: number, windowMs: number, threshold: number): number {
  if (jiffies - lastUpdate > 2 * windowMs) return KP_COLD_OLD;
  if (freq < threshold) return KP_COLD_NOT_ACCESSED;
  return KP_CANDIDATE;
}

/**
 * A replacement of kpromoted.candidate (a plugin's), given the record; returns a KP_* verdict.
 * Null (the default) runs kpromotedVerdict.
 */
export type KpromotedCandidatePolicy = (jiffies: number, pfn: number, nid: number, pageNid: number, freq: number, lastUpdate: number, recency: number, windowMs: number, threshold: number) => number;

/** kpromoted.* tunables as kpromoted reads them */
export interface KpromotedSettings {
  enabled: () => boolean;
  windowMs: () => number;
  threshold: () => number;
  delayMs: () => number;
  hashOrder: () => number;
  defaultNode: () => number;
}

export interface KpromotedEnv extends KpromotedSettings {
  ev: Float64Array;
  now: () => number;
  /** node of a pfn, and whether that node is in the top tier */
  nodeOf: (pfn: number) => number;
  isTopTier: (nid: number) => boolean;
  /** a mapped LRU page (order 0) that can be migrated */
  isLru: (pfn: number) => boolean;
  /** migrate_misplaced_folio to nid: true on success (balanced target, a page to move to) */
  promote: (pfn: number, nid: number) => boolean;
}

/** The record table: typed arrays, chained per bucket, slots reused from a free stack. */
export class Kpromoted {
  private bits: number;
  private heads: Int32Array;
  private pfn = new Int32Array(1024);
  private lastUpdate = new Float64Array(1024);
  private freq = new Uint32Array(1024);
  private recency = new Float64Array(1024);
  private hotNode = new Int16Array(1024);
  private next = new Int32Array(1024);
  private free: number[] = [];
  private used = 0;
  records = 0;
  /** the kpromoted.candidate policy point: null runs the built-in rule */
  candidatePolicy: KpromotedCandidatePolicy | null = null;
  readonly daemons: KpromotedDaemon[] = [];

  constructor(private readonly env: KpromotedEnv) {
    this.bits = env.hashOrder();
    this.heads = new Int32Array(2 ** this.bits).fill(-1);
  }

  /** kpromoted_record_access */
  recordAccess(pfn: number, nid: number, src: number, now: number): void {
    const ev = this.env.ev;
    if (!this.env.enabled()) return;
    ev[V.kpromoted_recorded_accesses]!++;
    ev[src === SRC_HWHINT ? V.kpromoted_recorded_hwhints : V.kpromoted_recorded_pgtscans]!++;
    if (this.env.isTopTier(this.env.nodeOf(pfn))) {
      ev[V.kpromoted_record_toptier]!++;
      return;
    }
    if (!this.env.isLru(pfn)) return;
    const jiffies = Math.floor(now);
    const b = hash64(pfn, this.bits);
    let r = this.heads[b]!;
    while (r >= 0 && this.pfn[r] !== pfn) r = this.next[r]!;
    if (r < 0) {
      r = this.alloc();
      this.pfn[r] = pfn;
      this.lastUpdate[r] = jiffies;
      this.freq[r] = 1;
      this.next[r] = this.heads[b]!;
      this.heads[b] = r;
      this.records++;
      ev[V.kpromoted_record_added]!++;
    } else {
      ev[V.kpromoted_record_exists]!++;
      if (jiffies - this.lastUpdate[r]! > this.env.windowMs()) {
        this.freq[r] = 1;
        this.lastUpdate[r] = jiffies;
      } else this.freq[r]!++;
    }
    this.recency[r] = jiffies;
    this.hotNode[r] = nid === NUMA_NO_NODE ? this.env.defaultNode() : nid;
  }

  private alloc(): number {
    const s = this.free.pop();
    if (s !== undefined) return s;
    if (this.used === this.pfn.length) this.grow();
    return this.used++;
  }

  private grow(): void {
    const n = this.pfn.length * 2;
    const g = <T extends Int32Array | Float64Array | Uint32Array | Int16Array>(a: T, C: new (n: number) => T): T => {
      const b = new C(n);
      b.set(a);
      return b;
    };
    this.pfn = g(this.pfn, Int32Array);
    this.lastUpdate = g(this.lastUpdate, Float64Array);
    this.freq = g(this.freq, Uint32Array);
    this.recency = g(this.recency, Float64Array);
    this.hotNode = g(this.hotNode, Int16Array);
    this.next = g(this.next, Int32Array);
  }

  /**
   * kpromoted_migrate for one node: walk every bucket in order. Returns the records of the
   * node it looked at (its work, with kpromoted_mig_promoted's pages migrated: BusyWindow).
   */
  walk(nid: number): number {
    if (this.records === 0) return 0; // every bucket empty: the walk finds nothing
    let looked = 0;
    const ev = this.env.ev;
    const jiffies = Math.floor(this.env.now());
    const win = this.env.windowMs();
    for (let b = 0; b < this.heads.length; b++) {
      let prev = -1;
      for (let r = this.heads[b]!; r >= 0; ) {
        const nx = this.next[r]!;
        if (this.hotNode[r] !== nid) {
          prev = r;
          r = nx;
          continue;
        }
        const pfn = this.pfn[r]!;
        looked++;
        let drop = true;
        if (!this.env.isLru(pfn)) ev[V.kpromoted_mig_non_lru]!++;
        else if (this.env.nodeOf(pfn) === nid) ev[V.kpromoted_mig_right_node]!++;
        else {
          const pol = this.candidatePolicy;
          const v =
            pol === null
              ? kpromotedVerdict(jiffies, this.lastUpdate[r]!, this.freq[r]!, win, this.env.threshold())
              : pol(jiffies, pfn, nid, this.env.nodeOf(pfn), this.freq[r]!, this.lastUpdate[r]!, this.recency[r]!, win, this.env.threshold());
          if (v === KP_COLD_OLD) ev[V.kpromoted_mig_cold_old]!++;
          else if (v === KP_COLD_NOT_ACCESSED) ev[V.kpromoted_mig_cold_not_accessed]!++;
          else {
            ev[V.kpromoted_mig_candidate]!++;
            ev[V.pgpromote_candidate]!++;
            if (this.env.promote(pfn, nid)) ev[V.kpromoted_mig_promoted]!++;
            else drop = false; // a failed promotion keeps the record
          }
        }
        if (drop) {
          ev[V.kpromoted_mig_dropped]!++;
          if (prev < 0) this.heads[b] = nx;
          else this.next[prev] = nx;
          this.free.push(r);
          this.records--;
        } else prev = r;
        r = nx;
      }
    }
    return looked;
  }

  /** chain lengths over all buckets: the longest and the mean of the non-empty ones */
  chainStats(): { buckets: number; records: number; max_chain: number; mean_chain: number } {
    let max = 0;
    let used = 0;
    for (let b = 0; b < this.heads.length; b++) {
      let n = 0;
      for (let r = this.heads[b]!; r >= 0; r = this.next[r]!) n++;
      if (n) used++;
      if (n > max) max = n;
    }
    return { buckets: this.heads.length, records: this.records, max_chain: max, mean_chain: used ? Math.round((this.records / used) * 1000) / 1000 : 0 };
  }

  /** the record of a pfn (tests): [frequency, last_update, hot_node] or null */
  recordOf(pfn: number): { freq: number; lastUpdate: number; hotNode: number } | null {
    let r = this.heads[hash64(pfn, this.bits)]!;
    while (r >= 0 && this.pfn[r] !== pfn) r = this.next[r]!;
    return r < 0 ? null : { freq: this.freq[r]!, lastUpdate: this.lastUpdate[r]!, hotNode: this.hotNode[r]! };
  }
}

/**
 * One kpromoted thread (kpromoted%d), per node with CPUs: a walk every delay_ms. A walk costs
 * its records looked at × cost.compact_scan_ns + pages promoted × cost.migrate_ns of virtual
 * time (issue 16 item 2): the thread is busy that long and its next delay starts at the end
 * (in whole jiffies: BusyWindow.waitDelay).
 */
export class KpromotedDaemon implements Daemon {
  readonly name: string;
  /** the busy window of its walks (wsim_kpromoted_busy_ms) */
  readonly busy = new BusyWindow();
  constructor(
    readonly nid: number,
    private readonly k: Kpromoted,
    private readonly delayMs: () => number,
    private readonly enabled: () => boolean,
    private readonly ev: Float64Array | null = null,
    private readonly costs: ScanMigrateCosts | null = null,
  ) {
    this.name = `kpromoted${nid}`;
  }

  start(ctx: EngineContext): void {
    // disabled or without records, a walk changes nothing: the engine may skip it
    const quiet = (period: number) => (period === this.delayMs() && (!this.enabled() || this.k.records === 0) ? Infinity : -Infinity);
    const tick = () => {
      if (this.enabled()) {
        const p0 = this.ev ? this.ev[V.kpromoted_mig_promoted]! : 0;
        const looked = this.k.walk(this.nid);
        if (this.costs && this.ev) {
          const ns = looked * this.costs.compactScan() + (this.ev[V.kpromoted_mig_promoted]! - p0) * this.costs.migrate();
          if (ns > 0) this.busy.charge(ctx.now(), ns);
        }
      }
      // the delay from the walk's end, in whole jiffies: a walk of 1 ms or more moves the next
      // one, and that tick's period is then not delay_ms (quiet refuses it)
      ctx.schedule(this.busy.waitDelay(ctx.now(), this.delayMs()), tick, quiet);
    };
    ctx.schedule(this.delayMs(), tick, quiet);
  }
}
