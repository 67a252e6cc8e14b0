/**
 * Stall latency (SPEC §4.8, issue 16): what an allocation or a fault costs in virtual time,
 * recorded per event into log2 histograms (µs buckets as bcc's funclatency prints them) and
 * handed to PSI as the stalled task's memory stall.
 *
 * What is charged, and where (the kernel function whose time it stands for):
 * - direct reclaim (__alloc_pages_direct_reclaim → try_to_free_pages, with should_reclaim_retry's
 *   passes): cost.reclaim_scan_ns per page scanned (pgscan_direct) and cost.reclaim_page_ns
 *   per page reclaimed (pgsteal_direct); the swap-out write is asynchronous in 6.1 (pageout()
 *   submits it, the page is freed on a later pass) and is not part of the stall;
 * - direct compaction (__alloc_pages_direct_compact → try_to_compact_pages):
 *   cost.compact_scan_ns per page either scanner looked at (compact_migrate_scanned,
 *   compact_free_scanned) and cost.migrate_ns per page migrated (pgmigrate_success);
 * - a fault (handle_mm_fault): cost.fault_ns, plus clear_page (cost.zero_page_ns) for a new
 *   anon page, clear_huge_page (cost.zero_thp_ns) for a THP, or one read I/O
 *   (cost.io_read_ns) per major fault, plus the fault's direct reclaim and compaction; a
 *   fault that maps a page already there (a page-cache hit of a file mapping, its write-protect
 *   fault: `mapped`) zeroes nothing.
 * Direct reclaim and compaction are memory stalls for PSI (psi_memstall_enter in
 * __alloc_pages_direct_reclaim / __alloc_pages_direct_compact); a fault's zeroing and I/O are
 * not (a refault of a workingset page would be: not modelled, README "Pressure").
 * Costs are read from the counters' deltas around the work, so they follow whatever the model
 * counts; nothing here runs on a fault-free access.
 */

/** Histogram kinds, in output order */
export const STALL_KINDS = ["fault", "direct_reclaim", "direct_compact"] as const;
export type StallKind = (typeof STALL_KINDS)[number];
export const K_FAULT = 0;
export const K_DIRECT_RECLAIM = 1;
export const K_DIRECT_COMPACT = 2;

/** log2 slots: slot 1 holds 0–1 µs, slot k ≥ 2 holds 2^(k-1) .. 2^k - 1 µs (bpf_log2l + bcc's print_log2_hist) */
const SLOTS = 64;

/** One histogram in JSON (SPEC §5 [next: costs]). Percentiles are the upper bound of the bucket holding that rank, capped at the maximum. */
export interface LatencyHist {
  count: number;
  total_us: number;
  p50_us: number;
  p99_us: number;
  max_us: number;
  buckets: { lo_us: number; hi_us: number; count: number }[];
}

/** bpf_log2l(v): 1 for 0 and 1, else floor(log2 v) + 1 */
export function log2Slot(us: number): number {
  if (us < 2) return 1;
  if (us < 2 ** 32) return 32 - Math.clz32(us);
  return Math.min(SLOTS - 1, Math.floor(Math.log2(us)) + 1);
}

/** [lo, hi] µs of a slot, as bcc prints them ("0 -> 1", "2 -> 3", "4 -> 7") */
function slotRange(k: number): [number, number] {
  if (k <= 1) return [0, 1];
  return [2 ** (k - 1), 2 ** k - 1];
}

/**
 * Per-kind log2 histograms of stall durations (integer ns in, µs buckets), with counts, sums
 * and maxima. Typed arrays, nothing allocated per record.
 */
export class LatencyHistograms {
  private readonly slots = new Float64Array(STALL_KINDS.length * SLOTS);
  private readonly count = new Float64Array(STALL_KINDS.length);
  private readonly totalNs = new Float64Array(STALL_KINDS.length);
  private readonly maxNs = new Float64Array(STALL_KINDS.length);

  /** one duration of `kind` (K_FAULT...), in ns */
  record(kind: number, ns: number): void {
    this.slots[kind * SLOTS + log2Slot(Math.floor(ns / 1000))]!++;
    this.count[kind]!++;
    this.totalNs[kind]! += ns;
    if (ns > this.maxNs[kind]!) this.maxNs[kind] = ns;
  }

  /** how many durations of `kind` */
  n(kind: number): number {
    return this.count[kind]!;
  }

  /** the JSON shape of one kind */
  toJson(kind: number): LatencyHist {
    const base = kind * SLOTS;
    let last = 0;
    for (let k = 1; k < SLOTS; k++) if (this.slots[base + k]! > 0) last = k;
    const buckets: LatencyHist["buckets"] = [];
    for (let k = 1; k <= last; k++) {
      const [lo, hi] = slotRange(k);
      buckets.push({ lo_us: lo, hi_us: hi, count: this.slots[base + k]! });
    }
    const n = this.count[kind]!;
    const pct = (p: number): number => {
      if (n === 0) return 0;
      const rank = Math.ceil(p * n);
      let seen = 0;
      for (let k = 1; k <= last; k++) {
        seen += this.slots[base + k]!;
        if (seen >= rank) return slotRange(k)[1];
      }
      return slotRange(last)[1];
    };
    return {
      count: n,
      total_us: Math.floor(this.totalNs[kind]! / 1000),
      // a bucket's upper bound, but never above the largest duration seen
      p50_us: Math.min(pct(0.5), Math.floor(this.maxNs[kind]! / 1000)),
      p99_us: Math.min(pct(0.99), Math.floor(this.maxNs[kind]! / 1000)),
      max_us: Math.floor(this.maxNs[kind]! / 1000),
      buckets,
    };
  }

  /** every kind, keyed by name */
  toJsonAll(): Record<StallKind, LatencyHist> {
    const out = {} as Record<StallKind, LatencyHist>;
    STALL_KINDS.forEach((k, i) => (out[k] = this.toJson(i)));
    return out;
  }
}

/** bcc's print_log2_hist (tools/funclatency): the header, then "%10d -> %-10d : %-8d |%-40s|" per slot from 0 -> 1 up to the highest used */
export function formatLog2Hist(h: LatencyHist, label = "usecs"): string {
  const max = h.buckets.reduce((m, b) => Math.max(m, b.count), 0);
  let out = `${" ".repeat(5)}${label.padEnd(19)} : count     distribution\n`;
  for (const b of h.buckets) {
    const stars = max > 0 ? Math.floor((b.count * 40) / max) : 0;
    const bar = "*".repeat(stars).padEnd(40);
    out += `${String(b.lo_us).padStart(10)} -> ${String(b.hi_us).padEnd(10)} : ${String(b.count).padEnd(8)} |${bar}|\n`;
  }
  return out;
}

/** The cost.* tunables as the meter reads them (ns); getters so a `set` mid-trace applies. */
export interface StallCosts {
  fault(): number;
  zeroPage(): number;
  zeroThp(): number;
  ioRead(): number;
  reclaimScan(): number;
  reclaimPage(): number;
  compactScan(): number;
  migrate(): number;
}

/** vmstat indexes the meter reads deltas of (V.* of src/mm/constants) */
export interface StallCounters {
  pgscan_direct: number;
  pgsteal_direct: number;
  compact_migrate_scanned: number;
  compact_free_scanned: number;
  pgmigrate_success: number;
}

/**
 * The stall of the event in progress and the histograms: `direct(kind, fn)` measures one
 * direct reclaim or compaction by its counters, `fault(...)` records a fault's latency, and
 * `flush(task, nowNs)` hands the event's memory stall to PSI. One per engine.
 */
export class StallMeter {
  readonly hist = new LatencyHistograms();
  /** ns of memory stall (direct reclaim + direct compaction) in the event in progress */
  pendingNs = 0;
  /** ns of memory stall in total, per kind (wsim_ counters) */
  readonly stallNs = new Float64Array(STALL_KINDS.length);
  /** the memcg (id) of the process whose access is being replayed, or -1: its stalls also go to that memcg's histograms */
  memcgId = -1;
  /** histograms per memcg id (the process's own memcg, not its ancestors) */
  readonly byMemcg: (LatencyHistograms | undefined)[] = [];

  private record(kind: number, ns: number): void {
    this.hist.record(kind, ns);
    if (this.memcgId >= 0) (this.byMemcg[this.memcgId] ??= new LatencyHistograms()).record(kind, ns);
  }

  constructor(
    private readonly costs: StallCosts,
    private readonly ev: Float64Array | number[],
    private readonly idx: StallCounters,
  ) {}

  /**
   * Runs one direct reclaim (kind K_DIRECT_RECLAIM) or direct compaction (K_DIRECT_COMPACT)
   * and charges its cost from the counters it moved; returns what `fn` returns.
   */
  direct<T>(kind: number, fn: () => T): T {
    const ev = this.ev, x = this.idx;
    const a0 = kind === K_DIRECT_RECLAIM ? ev[x.pgscan_direct]! : ev[x.compact_migrate_scanned]! + ev[x.compact_free_scanned]!;
    const b0 = kind === K_DIRECT_RECLAIM ? ev[x.pgsteal_direct]! : ev[x.pgmigrate_success]!;
    const r = fn();
    const c = this.costs;
    const ns = kind === K_DIRECT_RECLAIM
      ? (ev[x.pgscan_direct]! - a0) * c.reclaimScan() + (ev[x.pgsteal_direct]! - b0) * c.reclaimPage()
      : (ev[x.compact_migrate_scanned]! + ev[x.compact_free_scanned]! - a0) * c.compactScan() + (ev[x.pgmigrate_success]! - b0) * c.migrate();
    // a compaction that looked at nothing (deferred, skipped, not suitable) emits no
    // mm_compaction_begin/end pair: no duration; try_to_free_pages always emits its pair
    const ran = kind === K_DIRECT_RECLAIM || ev[x.compact_migrate_scanned]! + ev[x.compact_free_scanned]! !== a0;
    if (ran) this.record(kind, ns);
    this.stallNs[kind]! += ns;
    this.pendingNs += ns;
    return r;
  }

  /** ns of memcg stall in total: memcg reclaim in try_charge_memcg and memory.high throttling (memcg-limits.ts) */
  memcgNs = 0;

  /**
   * A memcg's reclaim (try_charge_memcg's try_to_free_mem_cgroup_pages, reclaim_high) or the
   * memory.high penalty (mem_cgroup_handle_over_high's schedule_timeout_killable), both inside
   * psi_memstall_enter/leave: `ns` more stall for the event in progress (PSI, --closed-loop;
   * a fault's latency when it happens inside the fault).
   */
  memcg(ns: number): void {
    if (!(ns > 0)) return;
    this.memcgNs += ns;
    this.pendingNs += ns;
  }

  /**
   * A fault happened in the access just replayed: `thp` huge pages zeroed, `major` read I/Os,
   * else one small page zeroed unless `mapped` (it mapped a page already there); its direct
   * stalls are in pendingNs. Records its latency.
   */
  fault(thp: number, major: number, mapped = false): void {
    const c = this.costs;
    const ns = c.fault() + (thp > 0 ? thp * c.zeroThp() : major > 0 ? major * c.ioRead() : mapped ? 0 : c.zeroPage()) + this.pendingNs;
    this.record(K_FAULT, ns);
    this.stallNs[K_FAULT]! += ns;
  }
}
