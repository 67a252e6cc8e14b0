/**
 * Automatic NUMA balancing (kernel/sched/fair.c, mm/mprotect.c, mm/memory.c, 6.1), both
 * modes of `kernel.numa_balancing`: 1 (NUMA locality: a misplaced page moves toward the
 * accessing CPU's node) and 2 (memory tiering: a lower-tier page is promoted when its hint
 * fault came soon enough after the scan that made it PROT_NONE); 3 is both.
 *
 * Scanning (task_numa_work): per process, driven by its CPU time (task_tick_numa). wsim has no
 * scheduler, so CPU time is stood in for by the trace: each access event of a process charges
 * it min(time since its previous access event, RUN_GAP_MS) of CPU time (a process runs while
 * its events arrive; a longer silence counts as sleep, bar one tick-sized slice), and
 * task_tick_numa is evaluated at that event. A pass that is due walks the process's regions
 * from where the last one stopped, scan_size_mb of ranges with a new hint at most (8 times
 * that of address space walked), making PTEs PROT_NONE as change_prot_numa does, with its
 * skips; the scan period adapts as update_task_scan_period does after task_numa_placement.
 *
 * Hint faults (do_numa_page): the next access to a PROT_NONE page counts numa_hint_faults
 * (and _local), restores the PTE and asks mpol_misplaced / should_numa_migrate_memory where
 * the page belongs; a misplaced page moves through migrate_misplaced_page (Memory.promote,
 * the path kpromoted and kmmscand share).
 *
 * PROT_NONE is a byte per pfn (a page has one mapping in wsim, so a per-pfn bit is the PTE's
 * bit), with the page's last cpupid and its scan time: typed arrays allocated when the mode is
 * first set non-zero. A free clears them (page_cpupid_reset_last; the PTE is gone); a
 * migration leaves the new PTE accessible (remove_migration_pte builds it from vm_page_prot)
 * and moves the cpupid (folio_migrate_flags; reset between tiers in tiering mode).
 *
 * wsim simplifications: one task per mm (no threads, hence no numa_group and no shared
 * faults: every page has one owner); the task is not migrated to its preferred node (where a
 * process runs is the trace's); regions with a preferred node (`mmap node=`, mbind
 * MPOL_PREFERRED without MPOL_F_MOF) are skipped as 6.1 skips them, and so are pages mapped
 * without a region; file regions count as writable; a PMD-mapped huge page is hinted and
 * faults as one, but wsim migrates order-0 pages only, so a huge page that should move counts
 * as a failed migration (TNF_MIGRATE_FAIL) and in wsim_numa_thp_unmigrated (6.1 would move
 * it; in tiering mode its 512 pages were already counted as candidates); the scan costs no CPU time (the 32x back-off of
 * node_stamp is 0); the 12-bit-bucket encoding of the scan time is the 2^21 ms wrap of a
 * kernel with NR_CPUS = 8192 (LAST_CPUPID_SHIFT 21, no buckets).
 */
import { V } from "../stats/counters.js";
import { WMARK_PROMO, type Buddy, type Zone } from "./buddy.js";
import { ZONE_MOVABLE } from "../machine/zones.js";
import { PG_ANON, PG_DIRTY, type PageArrays } from "./pages.js";
import type { Mm, ProcessTable } from "./process.js";

export const NUMA_BALANCING_NORMAL = 1;
export const NUMA_BALANCING_MEMORY_TIERING = 2;
/** the longest gap between two access events of a process that counts as CPU time (ms) */
export const RUN_GAP_MS = 10;
const MAX_SCAN_WINDOW = 2560;
const NUMA_PERIOD_SLOTS = 10;
const NUMA_PERIOD_THRESHOLD = 7;
const NUMA_MIGRATION_ADJUST_STEPS = 16;
/** PAGE_ACCESS_TIME_MASK with LAST_CPUPID_SHIFT 21 (NR_CPUS 8192) */
export const PAGE_ACCESS_TIME_MASK = 2 ** 21 - 1;
const TNF_MIGRATED = 0x01;
const TNF_FAULT_LOCAL = 0x08;
const TNF_MIGRATE_FAIL = 0x10;
const HPAGE_NR = 512;
/** one tick (TICK_NSEC at HZ=1000), in ms */
const TICK_MS = 1;

/** kernel.numa_balancing* and numa_balancing.* as the model reads them */
export interface NumabSettings {
  mode: () => number;
  rateLimitMBps: () => number;
  scanDelayMs: () => number;
  scanPeriodMinMs: () => number;
  scanPeriodMaxMs: () => number;
  scanSizeMb: () => number;
  hotThresholdMs: () => number;
}

export interface NumabEnv extends NumabSettings {
  ev: Float64Array;
  pages: PageArrays;
  procs: ProcessTable;
  buddy: Buddy;
  /** each node's populated zones by ascending zone index (pgdat->node_zones) */
  nodeZones: readonly (readonly Zone[])[];
  nodeOf: (pfn: number) => number;
  isTopTier: (nid: number) => boolean;
  /** the nearest node with CPUs of a node (itself if it has some) */
  cpuNodeOf: (nid: number) => number;
  /** the vpn a mapped page is at (rmap) */
  vpnOf: (pfn: number) => number;
  /** migrate_misplaced_page of an order-0 page to nid: the new pfn, or -1 */
  migrate: (pfn: number, nid: number) => number;
}

/** Per-process (task and mm: one task per mm) NUMA balancing state. */
export interface TaskNuma {
  /** se.sum_exec_runtime (ms) as the trace stands in for it, and the last access event's time */
  runtime: number;
  lastEvent: number;
  /** the node of the CPU it last ran on */
  cpu: number;
  nodeStamp: number;
  scanPeriod: number;
  scanPeriodMax: number;
  /** mm->numa_next_scan (jiffies = ms), numa_scan_offset (vpn), numa_scan_seq */
  nextScan: number;
  scanOffset: number;
  mmSeq: number;
  /** p->numa_scan_seq */
  taskSeq: number;
  preferred: number;
  migrateRetry: number;
  /** numa_faults_locality: remote, local, failed */
  locality: [number, number, number];
  /** memory faults per node and [shared, private], decayed, and the buffer since placement */
  mem: Float64Array | null;
  membuf: Float64Array | null;
  /** passes made (tests) */
  passes: number;
}

/** pglist_data's nbp_* fields, and its PGPROMOTE_CANDIDATE */
interface NodeTiering {
  rlStart: number | null;
  rlNrCand: number;
  threshold: number;
  thStart: number;
  thNrCand: number;
  candidates: number;
}

export class NumaBalancing {
  /** PROT_NONE by pfn; null until the mode is first set non-zero (the access path tests this) */
  protNone: Uint8Array | null = null;
  /** last cpupid by pfn: (node << 8 | pid & 0xff), -1 unset */
  private cpupid: Int32Array | null = null;
  /** the page's access time (ms) as tiering mode records it at the scan and the fault */
  private accessTime: Int32Array | null = null;
  readonly tasks = new Map<number, TaskNuma>();
  readonly nodes: NodeTiering[];
  /** task_numa_work's log (tests): [time, pid, first vpn, offset after] */
  readonly log: [number, number, number, number][] = [];
  keepLog = false;
  /** regions (mmap node=, a preferred-node policy) a scan passed over, once each: for a note */
  policySkippedRegions = 0;
  private readonly policySkipped = new WeakSet<object>();

  constructor(private readonly env: NumabEnv) {
    this.nodes = env.nodeZones.map(() => ({ rlStart: null, rlNrCand: 0, threshold: 0, thStart: 0, thNrCand: 0, candidates: 0 }));
  }

  /** A write of kernel.numa_balancing: allocate the page state; reset_memory_tiering when the tiering bit is newly set. */
  modeChanged(old: number, now: number): void {
    const mode = this.env.mode();
    if (mode && !this.protNone) {
      const n = this.env.pages.nrPages;
      this.protNone = new Uint8Array(n);
      this.cpupid = new Int32Array(n).fill(-1);
      this.accessTime = new Int32Array(n);
      this.env.procs.protNone = this.protNone;
    }
    if (mode & NUMA_BALANCING_MEMORY_TIERING && !(old & NUMA_BALANCING_MEMORY_TIERING))
      for (const pg of this.nodes) {
        pg.threshold = 0;
        pg.thNrCand = pg.candidates;
        pg.thStart = Math.floor(now);
      }
  }

  /** init_numa_balancing at the process's creation (fork) */
  register(mm: Mm, now: number): void {
    const delay = this.env.scanDelayMs();
    this.tasks.set(mm.slot, {
      runtime: 0, lastEvent: -1, cpu: 0, nodeStamp: 0, scanPeriod: delay, scanPeriodMax: 0,
      nextScan: Math.floor(now) + delay, scanOffset: 0, mmSeq: 0, taskSeq: 0, preferred: -1, migrateRetry: 0,
      locality: [0, 0, 0], mem: null, membuf: null, passes: 0,
    });
  }

  exit(mm: Mm): void {
    this.tasks.delete(mm.slot);
  }

  /** The page at pfn (nr pages) was freed: page_cpupid_reset_last; its PTE is gone. */
  forget(pfn: number, nr: number): void {
    if (!this.protNone) return;
    this.protNone.fill(0, pfn, pfn + nr);
    this.cpupid!.fill(-1, pfn, pfn + nr);
  }

  /** A page migrated src -> dst: the new PTE is accessible, the cpupid moves (reset across tiers in tiering mode). */
  moved(src: number, dst: number): void {
    if (!this.protNone) return;
    this.protNone[dst] = 0;
    const { nodeOf, isTopTier } = this.env;
    const cross = this.env.mode() & NUMA_BALANCING_MEMORY_TIERING && isTopTier(nodeOf(src)) !== isTopTier(nodeOf(dst));
    this.cpupid![dst] = cross ? -1 : this.cpupid![src]!;
    this.accessTime![dst] = this.accessTime![src]!;
  }

  // --- scanning ---

  /**
   * An access event of mm from a CPU on cpuNid at `now`: charge its CPU time, then
   * task_tick_numa (and task_numa_work when the pass is due).
   */
  tick(mm: Mm, cpuNid: number, now: number): void {
    const t = this.tasks.get(mm.slot);
    if (!t) return;
    if (t.lastEvent >= 0) t.runtime += Math.min(now - t.lastEvent, RUN_GAP_MS);
    t.lastEvent = now;
    t.cpu = cpuNid;
    const period = t.scanPeriod;
    if (t.runtime > t.nodeStamp + period) {
      if (!t.nodeStamp) t.scanPeriod = this.scanStart(mm);
      t.nodeStamp += period;
      if (Math.floor(now) >= t.nextScan) this.work(mm, t, now);
    }
  }

  /** task_nr_scan_windows */
  private scanWindows(mm: Mm): number {
    const nr = this.env.scanSizeMb() * 256;
    let rss = mm.rssAnon + mm.rssFile;
    if (!rss) rss = nr;
    return Math.ceil(rss / nr);
  }

  /** task_scan_min */
  scanMin(mm: Mm): number {
    const size = this.env.scanSizeMb();
    const windows = size < MAX_SCAN_WINDOW ? Math.floor(MAX_SCAN_WINDOW / size) : 1;
    const floor = Math.floor(1000 / windows);
    return Math.max(floor, Math.floor(this.env.scanPeriodMinMs() / this.scanWindows(mm)));
  }

  /** task_scan_start (no numa_group: the minimum) */
  private scanStart(mm: Mm): number {
    return this.scanMin(mm);
  }

  /** task_scan_max */
  scanMax(mm: Mm): number {
    return Math.max(this.scanMin(mm), Math.floor(this.env.scanPeriodMaxMs() / this.scanWindows(mm)));
  }

  /** reset_ptenuma_scan */
  private resetScan(t: TaskNuma): void {
    t.mmSeq++;
    t.scanOffset = 0;
  }

  /** task_numa_work: one pass over the mm's regions from numa_scan_offset. */
  private work(mm: Mm, t: TaskNuma, now: number): void {
    const jiffies = Math.floor(now);
    if (jiffies < t.nextScan) return;
    t.nextScan = jiffies + t.scanPeriod;
    t.nodeStamp += 2 * TICK_MS;
    let pages = this.env.scanSizeMb() * 256;
    let virtpages = pages * 8;
    if (!pages) return;
    t.passes++;
    let start = t.scanOffset;
    const first = start;
    const vmas = mm.vmas;
    let i = vmas.findIndex((v) => v.end > start);
    if (i < 0) {
      this.resetScan(t);
      start = 0;
      i = 0;
    }
    for (; i < vmas.length; i++) {
      const v = vmas[i]!;
      if (v.node >= 0) {
        // an explicit policy without MPOL_F_MOF (vma_policy_mof): counted for replay's note
        if (!this.policySkipped.has(v)) {
          this.policySkipped.add(v);
          this.policySkippedRegions++;
        }
        continue;
      }
      let end: number;
      do {
        start = Math.max(start, v.start);
        end = Math.min(Math.ceil((start + pages) / HPAGE_NR) * HPAGE_NR, v.end);
        const n = this.changeProtNuma(mm, start, end, t.cpu, jiffies);
        if (n) pages -= end - start;
        virtpages -= end - start;
        start = end;
        if (pages <= 0 || virtpages <= 0) {
          t.scanOffset = start;
          if (this.keepLog) this.log.push([jiffies, mm.pid, first, t.scanOffset]);
          return;
        }
      } while (end !== v.end);
    }
    this.resetScan(t);
    if (this.keepLog) this.log.push([jiffies, mm.pid, first, t.scanOffset]);
  }

  /**
   * change_prot_numa over [start, end) (vpns): change_pte_range's prot_numa skips, and
   * change_huge_pmd for a PMD-mapped huge page wholly in range (one partly in range is split
   * first). Counts numa_pte_updates and numa_huge_pte_updates; returns the entries changed.
   */
  private changeProtNuma(mm: Mm, start: number, end: number, cpuNid: number, nowMs: number): number {
    const { ev, pages: pa, procs, nodeOf, isTopTier } = this.env;
    const mode = this.env.mode();
    const pn = this.protNone!;
    const flags = pa.flags;
    let changed = 0;
    for (let idx = Math.floor(start / HPAGE_NR); idx * HPAGE_NR < end; idx++) {
      const leaf = mm.leaf(idx);
      if (!leaf) continue;
      const base = idx * HPAGE_NR;
      const lo = Math.max(start, base) - base;
      const hi = Math.min(end, base + HPAGE_NR) - base;
      const f0 = leaf[0]!;
      const head = f0 > 0 ? procs.hugeHead(f0 - 1) : -1;
      if (head >= 0) {
        if (lo === 0 && hi === HPAGE_NR) {
          changed += this.changeHugePmd(head, mode, nowMs);
          continue;
        }
        procs.splitHuge(head); // __split_huge_pmd of a PMD the range covers in part
      }
      for (let s = lo; s < hi; s++) {
        const pte = leaf[s]!;
        if (pte <= 0) continue;
        const pfn = pte - 1;
        if (pn[pfn]) continue; // already pte_protnone
        const f = flags[pfn]!;
        if (!(f & PG_ANON) && f & PG_DIRTY) continue; // a dirty file page
        const nid = nodeOf(pfn);
        if (nid === cpuNid) continue; // single-threaded, private: already on the task's node
        const top = isTopTier(nid);
        if (!(mode & NUMA_BALANCING_NORMAL) && top) continue;
        if (mode & NUMA_BALANCING_MEMORY_TIERING && !top) this.accessTime![pfn] = nowMs;
        pn[pfn] = 1;
        changed++;
      }
    }
    if (changed) ev[V.numa_pte_updates]! += changed;
    return changed;
  }

  /** change_huge_pmd with prot_numa: the whole PMD, 512 entries, one numa_huge_pte_updates */
  private changeHugePmd(head: number, mode: number, nowMs: number): number {
    const pn = this.protNone!;
    if (pn[head]) return 0;
    const top = this.env.isTopTier(this.env.nodeOf(head));
    if (!(mode & NUMA_BALANCING_NORMAL) && top) return 0;
    if (mode & NUMA_BALANCING_MEMORY_TIERING && !top) this.accessTime![head] = nowMs;
    pn.fill(1, head, head + HPAGE_NR);
    this.env.ev[V.numa_huge_pte_updates]!++;
    return HPAGE_NR;
  }

  // --- hint faults ---

  /**
   * do_numa_page (do_huge_pmd_numa_page for a huge page): an access from cpuNid to the
   * PROT_NONE page at pfn. Restores the PTE, counts the fault, migrates a misplaced page.
   * Returns the pfn now mapped (the new one after a migration).
   */
  hintFault(mm: Mm, pfn: number, cpuNid: number, now: number): number {
    const { ev, procs, nodeOf, isTopTier } = this.env;
    const mode = this.env.mode();
    const pn = this.protNone!;
    const t = this.tasks.get(mm.slot);
    ev[V.pgfault]!++;
    const head = procs.hugeHead(pfn);
    const page = head >= 0 ? head : pfn;
    const nr = head >= 0 ? HPAGE_NR : 1;
    pn.fill(0, page, page + nr); // the PTE (PMD) made accessible again
    let pageNid = nodeOf(page);
    let flags = 0;
    const top = isTopTier(pageNid);
    const lastCpupid = head >= 0 ? (top ? this.cpupid![page]! : -1) : mode & NUMA_BALANCING_MEMORY_TIERING && !top ? -1 : this.cpupid![page]!;
    // numa_migrate_prep
    ev[V.numa_hint_faults]!++;
    if (pageNid === cpuNid) {
      ev[V.numa_hint_faults_local]!++;
      flags |= TNF_FAULT_LOCAL;
    }
    let mapped = pfn;
    const target = this.misplaced(mm, t, page, pageNid, cpuNid, nr, now);
    if (target >= 0) {
      // wsim migrates order-0 pages only: a huge page that 6.1 would move stays (counted)
      if (head >= 0) ev[V.wsim_numa_thp_unmigrated]!++;
      const dst = head >= 0 ? -1 : this.env.migrate(page, target);
      if (dst >= 0) {
        pageNid = target;
        flags |= TNF_MIGRATED;
        mapped = dst;
      } else flags |= TNF_MIGRATE_FAIL;
    }
    if (t) this.taskNumaFault(mm, t, lastCpupid, pageNid, nr, flags, now);
    return mapped;
  }

  /** mpol_misplaced under the default (local, MPOL_F_MOF | MPOL_F_MORON) policy: the target node or -1 */
  private misplaced(mm: Mm, t: TaskNuma | undefined, page: number, pageNid: number, cpuNid: number, nr: number, now: number): number {
    const vma = mm.findVma(this.env.vpnOf(page));
    if (vma && vma.node >= 0) return -1; // MPOL_PREFERRED without MPOL_F_MOF
    if (pageNid === cpuNid) return -1; // already in the policy's nodes: should_numa_migrate_memory is not asked
    if (!this.shouldMigrate(mm, t, page, pageNid, cpuNid, nr, now)) return -1;
    return cpuNid;
  }

  /** should_numa_migrate_memory */
  private shouldMigrate(mm: Mm, t: TaskNuma | undefined, page: number, srcNid: number, dstNid: number, nr: number, now: number): boolean {
    const env = this.env;
    const mode = env.mode();
    if (mode & NUMA_BALANCING_MEMORY_TIERING && !env.isTopTier(srcNid)) {
      const pg = this.nodes[dstNid]!;
      if (this.freeSpaceEnough(dstNid)) {
        pg.threshold = 0; // workload changed, reset hot threshold
        return true;
      }
      const defTh = env.hotThresholdMs();
      const rateLimit = env.rateLimitMBps() * 256;
      const ms = Math.floor(now);
      this.adjustThreshold(pg, rateLimit, defTh, ms);
      const th = pg.threshold || defTh;
      if (this.hintFaultLatency(page, ms) >= th) return false;
      return !this.rateLimited(pg, rateLimit, nr, ms);
    }
    const cp = this.cpupid!;
    const last = cp[page]!;
    cp[page] = (dstNid << 8) | (mm.pid & 0xff);
    if (!(mode & NUMA_BALANCING_MEMORY_TIERING) && !env.isTopTier(srcNid) && last < 0) return false;
    const matchPid = last >= 0 && (last & 0xff) === (mm.pid & 0xff);
    if ((!t || t.preferred < 0 || t.taskSeq <= 4) && (last < 0 || matchPid)) return true;
    // the two-stage filter: seen twice in a row from the same node
    if (last >= 0 && last >> 8 !== dstNid) return false;
    if (matchPid) return true; // a private fault
    return true; // a shared fault without a numa_group (wsim has no groups)
  }

  /** pgdat_free_space_enough */
  private freeSpaceEnough(nid: number): boolean {
    // enough_wmark = max(1 GiB, node_present_pages >> 4); any populated zone from the highest
    // down above WMARK_PROMO + that (zone_watermark_ok at ZONE_MOVABLE: its lowmem_reserve too)
    const zs = this.env.nodeZones[nid]!;
    let present = 0;
    for (const z of zs) present += z.present;
    const enough = Math.max(2 ** 18, present >>> 4);
    for (let i = zs.length - 1; i >= 0; i--) {
      const z = zs[i]!;
      if (this.env.buddy.zoneWatermarkOk(z, 0, z.mark(WMARK_PROMO) + enough + z.lowmemReserve[ZONE_MOVABLE]!, z.freePages)) return true;
    }
    return false;
  }

  /** numa_hint_fault_latency: records the fault time in the page */
  private hintFaultLatency(page: number, ms: number): number {
    const at = this.accessTime!;
    const last = at[page]!;
    at[page] = ms;
    return (ms - last) & PAGE_ACCESS_TIME_MASK;
  }

  /** numa_promotion_rate_limit: counts the candidate; true when throttled */
  private rateLimited(pg: NodeTiering, rateLimit: number, nr: number, ms: number): boolean {
    pg.candidates += nr;
    this.env.ev[V.pgpromote_candidate]! += nr;
    if (pg.rlStart === null || ms - pg.rlStart > 1000) {
      pg.rlStart = ms;
      pg.rlNrCand = pg.candidates;
    }
    return pg.candidates - pg.rlNrCand >= rateLimit;
  }

  /** numa_promotion_adjust_threshold */
  private adjustThreshold(pg: NodeTiering, rateLimit: number, refTh: number, ms: number): void {
    const period = this.env.scanPeriodMaxMs();
    if (!(ms - pg.thStart > period)) return;
    pg.thStart = ms;
    const refCand = Math.floor((rateLimit * period) / 1000);
    const diff = pg.candidates - pg.thNrCand;
    const unit = Math.floor((refTh * 2) / NUMA_MIGRATION_ADJUST_STEPS);
    let th = pg.threshold || refTh;
    if (diff > Math.floor((refCand * 11) / 10)) th = Math.max(th - unit, unit);
    else if (diff < Math.floor((refCand * 9) / 10)) th = Math.min(th + unit, refTh * 2);
    pg.thNrCand = pg.candidates;
    pg.threshold = th;
  }

  // --- the scheduler's side ---

  /** task_numa_fault (one task per mm: no groups, every fault private) */
  private taskNumaFault(mm: Mm, t: TaskNuma, lastCpupid: number, memNode: number, pages: number, flags: number, now: number): void {
    const mode = this.env.mode();
    if (!mode) return;
    if (!this.env.isTopTier(memNode) && (mode & NUMA_BALANCING_MEMORY_TIERING || lastCpupid < 0)) return;
    const n = this.env.nodeZones.length;
    if (!t.mem) {
      t.mem = new Float64Array(n * 2);
      t.membuf = new Float64Array(n * 2);
      t.locality = [0, 0, 0];
    }
    const priv = lastCpupid < 0 || (lastCpupid & 0xff) === (mm.pid & 0xff) ? 1 : 0;
    const local = flags & TNF_FAULT_LOCAL ? 1 : 0;
    const jiffies = Math.floor(now);
    if (jiffies > t.migrateRetry) {
      this.placement(mm, t, now);
      // numa_migrate_preferred: the retry interval (the task itself stays where the trace runs it)
      if (t.preferred >= 0) t.migrateRetry = jiffies + Math.min(1000, Math.floor(t.scanPeriod / 16));
    }
    if (flags & TNF_MIGRATE_FAIL) t.locality[2] += pages;
    t.membuf![memNode * 2 + priv]! += pages;
    t.locality[local] += pages;
  }

  /** task_numa_placement: once per new numa_scan_seq */
  private placement(mm: Mm, t: TaskNuma, now: number): void {
    if (t.taskSeq === t.mmSeq) return;
    t.taskSeq = t.mmSeq;
    t.scanPeriodMax = this.scanMax(mm);
    const types = [0, 0];
    let maxFaults = 0;
    let maxNid = -1;
    const mem = t.mem!;
    const buf = t.membuf!;
    for (let nid = 0; nid < this.env.nodeZones.length; nid++) {
      let faults = 0;
      for (let priv = 0; priv < 2; priv++) {
        const i = nid * 2 + priv;
        const diff = buf[i]! - Math.floor(mem[i]! / 2);
        types[priv]! += buf[i]!;
        buf[i] = 0;
        mem[i]! += diff;
        faults += mem[i]!;
      }
      if (faults > maxFaults) {
        maxFaults = faults;
        maxNid = nid;
      }
    }
    if (maxNid >= 0 && maxNid !== t.preferred) t.preferred = this.env.cpuNodeOf(maxNid);
    this.updateScanPeriod(mm, t, types[0]!, types[1]!, now);
  }

  /** update_task_scan_period */
  private updateScanPeriod(mm: Mm, t: TaskNuma, shared: number, priv: number, now: number): void {
    const [remote, local, failed] = t.locality;
    if (local + shared === 0 || failed) {
      t.scanPeriod = Math.min(t.scanPeriodMax, t.scanPeriod * 2);
      t.nextScan = Math.floor(now) + t.scanPeriod;
      return;
    }
    const slot = Math.ceil(t.scanPeriod / NUMA_PERIOD_SLOTS);
    const lr = Math.floor((local * NUMA_PERIOD_SLOTS) / (local + remote));
    const ps = priv + shared ? Math.floor((priv * NUMA_PERIOD_SLOTS) / (priv + shared)) : 0;
    let diff: number;
    if (ps >= NUMA_PERIOD_THRESHOLD) diff = Math.max(ps - NUMA_PERIOD_THRESHOLD, 1) * slot;
    else if (lr >= NUMA_PERIOD_THRESHOLD) diff = Math.max(lr - NUMA_PERIOD_THRESHOLD, 1) * slot;
    else diff = -(NUMA_PERIOD_THRESHOLD - Math.max(lr, ps)) * slot;
    t.scanPeriod = Math.min(Math.max(t.scanPeriod + diff, this.scanMin(mm)), this.scanMax(mm));
    t.locality = [0, 0, 0];
  }

  /** PROT_NONE pages now (tests, --check) */
  protNoneCount(): number {
    let n = 0;
    if (this.protNone) for (let i = 0; i < this.protNone.length; i++) n += this.protNone[i]!;
    return n;
  }

  /** the recorded access time of a page (tests) */
  accessTimeOf(pfn: number): number {
    return this.accessTime ? this.accessTime[pfn]! : 0;
  }

  cpupidOf(pfn: number): number {
    return this.cpupid ? this.cpupid[pfn]! : -1;
  }
}
