/**
 * The engine: a virtual clock in ms, the timer queue, the daemons, and the dispatch of
 * trace events to the memory model (SPEC §4.1). A timer due at or before an event's time
 * fires before the event, in (due, creation) order. Same events + same machine + same
 * tunables = the same state, on any machine: no wall clock, nothing random.
 */
import { applyZoneMarks } from "../mm/start-state.js";
import { DataError, InternalError, UsageError } from "../errors.js";
import { zoneLabels } from "./zone-labels.js";
export { zoneLabels } from "./zone-labels.js";
import { machineHint, type Machine } from "../machine/machine.js";
import type { Settings } from "../machine/settings.js";
import { TUNABLE_BY_KEY } from "../machine/tunables.js";
import { checkMemory } from "../mm/check.js";
import { PAGE_SIZE } from "../mm/constants.js";
import { ANON, FILE } from "../mm/lru-gen.js";
import { KALLOC_FAILED, Memory } from "../mm/memory.js";
import { parseLimit } from "../mm/memcg-limits.js";
import { MEMCG_LIMIT_FILES, MEMCG_READ_FILES, memcgFile, memcgResult, type MemcgResult } from "../procfs/memcg-files.js";
import { Psi, PsiGroup, type PsiLine } from "../mm/psi.js";
import { K_DIRECT_COMPACT, K_DIRECT_RECLAIM, StallMeter, type LatencyHist, type StallKind } from "../mm/stall.js";
import { applyBootInUse } from "../mm/start-state.js";
import { ClosedLoop } from "./closed-loop.js";
import { OOM_SCORE_ADJ_MAX, OOM_SCORE_ADJ_MIN } from "../mm/oom-kill.js";
import type { Mm, ThpConfig } from "../mm/process.js";
import {
  formatBuddyinfo, formatExtfragIndex, formatLruGen, formatPagetypeinfo, formatUnusableIndex, formatVmstat, type LruGenMemcgView, type ZoneView,
} from "../procfs/procfs.js";
import { formatZoneinfo } from "../procfs/zoneinfo.js";
import { cpusByNodeOf, liveZoneinfo } from "../procfs/zoneinfo-live.js";
import { printNames, V, type SeedFeatures } from "../stats/counters.js";
import {
  EventBatch, OPS, OP_ACCESS, OP_FREAD, OP_FWRITE, OP_FSYNC, OP_FTRUNCATE, OP_FDELETE, OP_ALLOC, OP_COMPACT, OP_EXIT, OP_FREE, OP_MADVISE, OP_FORK, OP_MLOCK, OP_MMAP, OP_MUNLOCK, OP_MUNMAP, OP_READ, OP_SET,
  MAX_TIME_MS,
} from "../trace/types.js";
import { forkMm } from "../mm/fork.js";
import type { Daemon, EngineContext, SteadyAdvance, SteadyFn, SteadyPlan } from "./daemon.js";
import { TimerQueue, type Timer } from "./event-queue.js";
import { PluginHost, type LoadedPlugin } from "../plugin/host.js";

export interface EngineOptions {
  /** stop at this time, ignoring later events */
  until?: number;
  /** let daemons run this long after the last event */
  drain?: number;
  /** run the invariant checker after every event */
  check?: boolean;
  /** count and skip frees of unknown or failed handles, and events of OOM-killed pids, instead of failing */
  lenient?: boolean;
  /** plugin modules (src/plugin/load.ts): registered after the built-in daemons boot, before `daemons` */
  plugins?: readonly LoadedPlugin[];
  /** extra daemons, booted after the built-in ones (tests) */
  daemons?: Daemon[];
  /** take a sample every this many ms of virtual time (--interval) */
  interval?: number;
  /** each sample as it is taken (streaming outputs); samples are also kept in `series` */
  /**
   * each sample as it is taken; `zones` labels its buddyinfo/reported rows (zoneLabels: `n0` for
   * a node's only zone, `n0_DMA32` when the node has several), the same array every time
   */
  onSample?: (s: Sample, zones: readonly string[]) => void;
  /** closed-loop replay: a pid's stalls push its later events back (SPEC §4.8, --closed-loop) */
  closedLoop?: boolean;
  /** keep samples in `series` (default true) */
  keepSeries?: boolean;
  /** skip the ticks of quiet daemons across idle time (default true; false ticks through, for tests) */
  idleJumps?: boolean;
}

/** One --interval sample: every counter, and free and reported blocks per order per node. */
export interface Sample {
  time_ms: number;
  /**
   * true on the extra sample taken at the run's end when the end is not a multiple of
   * --interval (so the last sample is always the state at the end); absent otherwise
   */
  end?: true;
  vmstat: Record<string, number>;
  /** zone (Memory.zones order: node by node, one per node on a flat machine) -> free blocks per order (buddyinfo) */
  buddyinfo: number[][];
  /** node -> reported (free page reporting) blocks per order */
  reported: number[][];
  /**
   * memcg -> node -> the page_age report's bins as the last refresh left them (anon + file
   * bytes; taking a sample refreshes nothing), for memcgs with intervals
   */
  page_age: Record<string, Record<string, number[]>>;
  /**
   * on machines with more than one tier: the promotion ground truth so far (distinct pages
   * found truly hot at some window's end, and of them those promoted), as the run's final
   * `promotion` block counts them
   */
  promotion?: { truly_hot: number; promoted_hot: number };
  /**
   * memory pressure then, as /proc/pressure/memory and each memcg's memory.pressure read at
   * that time would show it (psi_show: the averages of the 2 s periods up to it, the totals in
   * µs): "/" first, then each memcg with tasks by path (the run's final `pressure` shape)
   */
  pressure?: Record<string, { some: PsiLine; full: PsiLine }>;
}

export interface WorkingsetBin {
  /** the bin's bound in ms; null for the open last bin (18446744073709551615 in the file) */
  le_ms: number | null;
  anon: number;
  file: number;
}

/** One memcg on one node: page_age in bytes (kernel view, and exact), reaccess in pages. */
export interface WorkingsetNode {
  page_age: WorkingsetBin[];
  page_age_exact: WorkingsetBin[];
  reaccess: WorkingsetBin[];
  /** share of the kernel view's bytes standing in a bin beyond the exact count there (0..1) */
  misplaced_share: number;
}

export interface ReadRecord {
  time_ms: number;
  key: string;
  cg: string | null;
  node: number | null;
  value: string;
}

/** the per-process file a `set` with a pid writes (/proc/<pid>/oom_score_adj) */
export const OOM_SCORE_ADJ_KEY = "oom_score_adj";

/** Files a `read` event can read besides tunables. */
export const READ_FILES = ["vmstat", "buddyinfo", "pagetypeinfo", "zoneinfo", "extfrag_index", "unusable_index", "lru_gen", "pressure/memory", "memory.pressure"] as const;
const WORKINGSET_FILES = ["memory.workingset.page_age", "memory.workingset.reaccess"];
/** khugepaged's read-only sysfs files (transparent_hugepage/khugepaged/), as wsim's counters hold them */
const KHUGEPAGED_FILES: Readonly<Record<string, "wsim_khugepaged_pages_collapsed" | "wsim_khugepaged_full_scans">> = {
  "transparent_hugepage.khugepaged.pages_collapsed": "wsim_khugepaged_pages_collapsed",
  "transparent_hugepage.khugepaged.full_scans": "wsim_khugepaged_full_scans",
};

/** The error for a workingset report file with lru_gen.enabled=0: the report reads MGLRU's generations. */
function wsrNeedsMglru(key: string): string {
  return `${key}: the workingset report needs MGLRU (its page ages are lru_gen generations), and lru_gen.enabled is 0: drop lru_gen.enabled=0 or the workingset report`;
}

/**
 * An idle jump is tried when the next timer is at least this far (ms) before the time the
 * engine advances to, and at most once per this much virtual time while one is refused.
 */
const JUMP_MIN_MS = 10_000;
/** entries of the engine's pid -> mm cache (a power of two) */
const MM_CACHE = 64;
/** Samples a run keeps in memory (JSON's series, ~6 KB each as text: 50,000 make ~320 MB, under V8's 512 MiB string) before --interval is refused. */
export const MAX_KEPT_SAMPLES = 50_000;
/** Timers fired at one virtual time beyond which a daemon is taken to loop without progress. */
const MAX_FIRINGS_AT_ONE_TIME = 10_000_000;

export class Engine implements EngineContext {
  readonly machine: Machine;
  readonly settings: Settings;
  readonly mem: Memory;
  readonly reads: ReadRecord[] = [];
  private readonly timers = new TimerQueue();
  private nextDue = Infinity;
  private clock = 0;
  private lastEventMs = 0;
  private stopped = false;
  private readonly opts: EngineOptions;
  private file = "";
  private readonly defaultCpu: number;
  /** live mms by pid & (MM_CACHE - 1), as mmOf last found them (access checks pid and exited) */
  private readonly mmCache: (Mm | undefined)[] = new Array<Mm | undefined>(MM_CACHE).fill(undefined);
  /** the seed RFCs whose counters vmstat prints: those enabled at any time in the run */
  readonly features: SeedFeatures = { kpromoted: false, kmmscand: false };
  private nextSample = Infinity;
  /** --interval as sampleNum / sampleScale (an integer over a power of ten), and the samples taken on its grid */
  private sampleNum = 0;
  private sampleScale = 1;
  private samplesTaken = 0;
  /** time of the last sample taken, -1 before the first */
  private lastSampleMs = -1;
  readonly series: Sample[] = [];
  /** the plugins' host (hooks, policies, wsim_plugin_* counters), or null without --plugin */
  readonly plugins: PluginHost | null = null;
  /** timers fired so far (work done by daemons; tests) */
  timerFirings = 0;
  /** idle jumps made: times the engine skipped the ticks of quiet daemons (tests) */
  idleJumps = 0;
  /** ticks of steady (not quiet) daemons applied in closed form by idle jumps (tests) */
  steadyTicksSkipped = 0;
  /** stall costs and latency histograms (SPEC §4.8) */
  readonly stall: StallMeter;
  /** memory pressure: the system's group and one per memcg other than the root (kernel/sched/psi.c) */
  readonly psi = new Psi();
  /** --closed-loop's held events and delays, or null (open loop) */
  readonly closedLoop: ClosedLoop | null;
  private readonly psiGroups = new Map<string, PsiGroup>();
  /** kernel.numa_balancing now: non-zero runs task_tick_numa at each access event */
  private numabMode = 0;
  /** no idle jump is tried before this virtual time (one was just refused) */
  private noJumpBefore = 0;

  constructor(settings: Settings, opts: EngineOptions = {}) {
    this.machine = settings.machine;
    this.settings = settings;
    this.opts = opts;
    this.mem = new Memory(this.machine, {
      now: () => this.clock,
      swappiness: () => settings.num("vm.swappiness"),
      kswapdCosts: { reclaimScan: () => settings.num("cost.reclaim_scan_ns"), reclaimPage: () => settings.num("cost.reclaim_page_ns") },
      kcompactdCosts: { compactScan: () => settings.num("cost.compact_scan_ns"), migrate: () => settings.num("cost.migrate_ns") },
      pageTables: () => settings.num("wsim.page_tables") === 1,
      slab: () => settings.num("wsim.slab") === 1,
      pageCluster: () => settings.num("vm.page-cluster"),
      pcp: () => settings.num("wsim.pcp") === 1,
      swapWriteback: () => settings.num("wsim.swap_writeback") === 1,
      lruGenBloom: () => settings.num("wsim.lru_gen_bloom") === 1,
      pcpHighFraction: () => settings.num("vm.percpu_pagelist_high_fraction"),
      extfragThreshold: () => settings.num("vm.extfrag_threshold"),
      proactiveness: () => settings.num("vm.compaction_proactiveness"),
      settingsVersion: () => settings.version,
      reporting: {
        enabled: () => settings.num("page_reporting.enabled") === 1,
        mode: () => settings.str("page_reporting.mode") as "reporting" | "aeration",
        order: () => settings.num("page_reporting.order"),
        capacity: () => settings.num("page_reporting.capacity"),
        delayMs: () => settings.num("page_reporting.delay_ms"),
        reportMs: () => settings.num("page_reporting.report_ms"),
        scanNs: () => settings.num("cost.compact_scan_ns"),
      },
      dirty: {
        ratio: () => settings.num("vm.dirty_ratio"),
        backgroundRatio: () => settings.num("vm.dirty_background_ratio"),
        expireCs: () => settings.num("vm.dirty_expire_centisecs"),
        writebackCs: () => settings.num("vm.dirty_writeback_centisecs"),
        ioWriteNs: () => settings.num("cost.io_write_ns"),
      },
      khugepaged: {
        on: () => settings.num("wsim.khugepaged") === 1,
        scanSleepMs: () => settings.num("transparent_hugepage.khugepaged.scan_sleep_millisecs"),
        allocSleepMs: () => settings.num("transparent_hugepage.khugepaged.alloc_sleep_millisecs"),
        pagesToScan: () => settings.num("transparent_hugepage.khugepaged.pages_to_scan"),
        maxPtesNone: () => settings.num("transparent_hugepage.khugepaged.max_ptes_none"),
        maxPtesSwap: () => settings.num("transparent_hugepage.khugepaged.max_ptes_swap"),
        maxPtesShared: () => settings.num("transparent_hugepage.khugepaged.max_ptes_shared"),
        defrag: () => settings.num("transparent_hugepage.khugepaged.defrag") === 1,
      },
      tiering: {
        demotion: () => settings.num("numa.demotion_enabled") === 1,
        hwSamplePeriod: () => settings.num("hotness.hw_sample_period"),
        hotTruthAccesses: () => settings.num("wsim.hot_truth_accesses"),
        kpromoted: {
          enabled: () => settings.num("kpromoted.enabled") === 1,
          windowMs: () => settings.num("kpromoted.freq_window_ms"),
          threshold: () => settings.num("kpromoted.freq_threshold"),
          delayMs: () => settings.num("kpromoted.delay_ms"),
          hashOrder: () => settings.num("kpromoted.hash_order"),
          defaultNode: () => settings.num("kpromoted.default_node"),
        },
        kmmscand: {
          enabled: () => settings.num("kmmscand.enabled") === 1,
          feed: () => settings.str("kmmscand.feed") as "migrate" | "kpromoted",
          scanPeriodMs: () => settings.num("kmmscand.scan_period_ms"),
          scanSize: () => settings.num("kmmscand.scan_size"),
          scanSleepMs: () => settings.num("kmmscand.scan_sleep_ms"),
          mmsToScan: () => settings.num("kmmscand.mms_to_scan"),
          migrateSleepMs: () => settings.num("kmmscand.migrate_sleep_ms"),
          targetNode: () => settings.num("kmmscand.target_node"),
        },
        numab: {
          mode: () => settings.num("kernel.numa_balancing"),
          rateLimitMBps: () => settings.num("kernel.numa_balancing_promote_rate_limit_MBps"),
          scanDelayMs: () => settings.num("numa_balancing.scan_delay_ms"),
          scanPeriodMinMs: () => settings.num("numa_balancing.scan_period_min_ms"),
          scanPeriodMaxMs: () => settings.num("numa_balancing.scan_period_max_ms"),
          scanSizeMb: () => settings.num("numa_balancing.scan_size_mb"),
          hotThresholdMs: () => settings.num("numa_balancing.hot_threshold_ms"),
        },
      },
    });
    this.defaultCpu = this.mem.cpuNodes[0]!;
    this.closedLoop = opts.closedLoop ? new ClosedLoop() : null;
    this.stall = new StallMeter(
      {
        fault: () => settings.num("cost.fault_ns"),
        zeroPage: () => settings.num("cost.zero_page_ns"),
        zeroThp: () => settings.num("cost.zero_thp_ns"),
        ioRead: () => settings.num("cost.io_read_ns"),
        reclaimScan: () => settings.num("cost.reclaim_scan_ns"),
        reclaimPage: () => settings.num("cost.reclaim_page_ns"),
        compactScan: () => settings.num("cost.compact_scan_ns"),
        migrate: () => settings.num("cost.migrate_ns"),
      },
      this.mem.ev,
      {
        pgscan_direct: V.pgscan_direct!, pgsteal_direct: V.pgsteal_direct!, compact_migrate_scanned: V.compact_migrate_scanned!,
        compact_free_scanned: V.compact_free_scanned!, pgmigrate_success: V.pgmigrate_success!,
      },
    );
    // kswapd's balance_pgdat is a memory stall of its own task (psi_memstall_enter in balance_pgdat)
    this.mem.kswapd.forEach((k, nid) => (k.onWork = (ns) => this.psi.memstall(KSWAPD_TASK - nid, toNs(this.clock), ns, false)));
    this.mem.kcompactd.forEach((k, nid) => (k.onWork = (ns) => this.psi.memstall(KCOMPACTD_TASK - nid, toNs(this.clock), ns, false)));
    // the allocator's slow path: __alloc_pages_direct_compact and __alloc_pages_direct_reclaim
    // are stalls (psi_memstall_enter/leave around them), measured by what they did
    const hooks = this.mem.alloc.hooks;
    const dc = hooks.directCompact, dr = hooks.directReclaim;
    if (dc) hooks.directCompact = (o, mt, f, zl, prio, hz) => this.stall.direct(K_DIRECT_COMPACT, () => dc(o, mt, f, zl, prio, hz));
    if (dr) hooks.directReclaim = (o, mt, f, zl, hz) => this.stall.direct(K_DIRECT_RECLAIM, () => dr(o, mt, f, zl, hz));
    this.applyWatermarkTunables();
    // a machine read from zoneinfo: its watermarks and protection as the file printed them
    applyZoneMarks(this.mem);
    this.mem.lru.maxNrGens = settings.num("lru_gen.max_nr_gens");
    this.mem.lru.setClassic(settings.num("lru_gen.enabled") === 0);
    this.numabMode = settings.num("kernel.numa_balancing");
    if (this.numabMode) this.mem.numabModeChanged(0, 0);
    settings.onChange = (key) => this.tunableChanged(key);
    // memory.* values written before the run (--set, the trace's tunables)
    for (const [cg, byKey] of settings.memcg)
      for (const [key, byNode] of byKey) {
        if (byNode.size && this.mem.lru.classic && key.startsWith("memory.workingset.")) throw new UsageError(wsrNeedsMglru(key));
        for (const text of byNode.values()) this.applyMemcgTunable(key, cg, text);
      }
    // a memcg's reclaim and memory.high throttling are stalls of the event (stall.ts, PSI)
    this.mem.onMemcgStall = (ns) => this.stall.memcg(ns);
    // khugepaged's allocations: direct reclaim and compaction are memory stalls of its own task
    // (psi_memstall_enter in __alloc_pages_direct_*), in no memcg's latency histograms
    this.mem.khugepaged.wrapWork = (fn) => {
      const st = this.stall;
      const pending = st.pendingNs;
      const memcg = st.memcgId;
      st.pendingNs = 0;
      st.memcgId = -1;
      fn();
      const ns = st.pendingNs;
      st.pendingNs = pending;
      st.memcgId = memcg;
      if (ns > 0) this.psi.memstall(KHUGEPAGED_TASK, toNs(this.clock), ns);
    };
    // boot order (SPEC §4.1): per node by ascending id kswapd, kcompactd, kpromoted (nodes
    // with CPUs); then the reporting worker, kagingd, kmmscand, kmmmigrated; then wsim's own
    this.mem.kswapd.forEach((k, nid) => {
      k.start(this);
      this.mem.kcompactd[nid]!.start(this);
      this.mem.kpromotedDaemons.find((d) => d.nid === nid)?.start(this);
    });
    this.mem.reporting.start(this);
    this.mem.kagingd.start(this);
    this.mem.kmmscandDaemon.start(this);
    this.mem.kmmmigratedDaemon.start(this);
    this.mem.hotTruth?.start(this);
    this.mem.pageCache.start(this); // the flusher: armed by the first dirty page (wb_wakeup_delayed)
    this.mem.khugepaged.start(this); // waits for the first mm to register (khugepaged_enter_vma)
    this.noteFeatures();
    if (opts.plugins?.length) this.plugins = new PluginHost(this, opts.plugins, opts.check === true);
    for (const d of opts.daemons ?? []) d.start(this);
    if (opts.interval !== undefined && opts.interval > 0) {
      // the interval as num / 10^d, the fewest decimals that give it back, so that sample k is
      // at (k * num) / 10^d: 0.3 for the third of 0.1 ms (adding 0.1 three times gives
      // 0.30000000000000004, and the sample meant for 1 ms came before an event at 1 ms)
      let d = 0;
      while (d < 15 && Math.round(opts.interval * 10 ** d) / 10 ** d !== opts.interval) d++;
      this.sampleNum = Math.round(opts.interval * 10 ** d);
      this.sampleScale = 10 ** d;
      this.nextSample = this.sampleNum / this.sampleScale;
    }
  }

  /** The seed features whose counters vmstat prints: enabled at any time so far. */
  private noteFeatures(): void {
    if (this.settings.num("kpromoted.enabled")) this.features.kpromoted = true;
    if (this.settings.num("kmmscand.enabled")) this.features.kmmscand = true;
  }

  private pageAgeTotals(): Record<string, Record<string, number[]>> {
    const out: Record<string, Record<string, number[]>> = {};
    for (const m of this.mem.memcgs.all)
      m.wsr.forEach((w, nid) => {
        if (w.hasPageAge) (out[m.path] ??= {})[String(nid)] = w.pageAgeAnon.map((a, b) => (a + w.pageAgeFile[b]!) * PAGE_SIZE);
      });
    return out;
  }

  /** printOrder's last answer and the seed features it was made for */
  private printCache: { kpromoted: boolean; kmmscand: boolean; names: readonly string[]; index: Int32Array } | null = null;

  /**
   * The counters vmstat prints now (printNames(features, true)) and each one's index in
   * Memory.vmstat()'s array, made again only when a seed feature turns on. vmstatObject reads
   * by these indexes: looking each name up in V (600 keys) while adding it to the object cost
   * ~35 ms of V8 optimising and deoptimising in a run's first call (measured; the result's
   * vmstat is such a first call), ~1 ms after.
   */
  private printOrder(): { names: readonly string[]; index: Int32Array } {
    const f = this.features;
    const c = this.printCache;
    if (c !== null && c.kpromoted === f.kpromoted && c.kmmscand === f.kmmscand) return c;
    const names = printNames(f, true);
    this.printCache = { kpromoted: f.kpromoted, kmmscand: f.kmmscand, names, index: Int32Array.from(names, (n) => V[n]) };
    return this.printCache;
  }

  /** Every counter printed now, name to value, in print order (kernel, seeds, wsim_). */
  vmstatObject(): Record<string, number> {
    const vals = this.mem.vmstat();
    const out: Record<string, number> = {};
    const { names, index } = this.printOrder();
    for (let k = 0; k < names.length; k++) out[names[k]!] = vals[index[k]!]!;
    // the plugins' counters, after wsim's own, in definition order
    const pl = this.plugins;
    if (pl !== null) pl.counterNames.forEach((n, k) => (out[n] = pl.counterValues[k]!));
    return out;
  }

  /**
   * Takes the samples due before t (or at t when `inclusive`): each after every event and
   * timer at or before its time.
   */
  private sampleUpTo(t: number, inclusive: boolean): void {
    // a series kept in memory (JSON) past MAX_KEPT_SAMPLES would exhaust the host: say so first
    if (this.opts.keepSeries !== false && t < Infinity) {
      const n = this.series.length + Math.floor((t - this.nextSample) / this.opts.interval!) + 1;
      if (n > MAX_KEPT_SAMPLES)
        throw new UsageError(
          `--interval ${this.opts.interval}: ${n.toLocaleString("en-US")} samples by ${t} ms, more than the ${MAX_KEPT_SAMPLES.toLocaleString("en-US")} ` +
            `a JSON series keeps in memory (samples run from 0 ms, the virtual boot): raise --interval, or stream them with --format csv or ndjson`,
        );
    }
    while (this.nextSample < t || (inclusive && this.nextSample === t)) {
      this.advanceTo(this.nextSample);
      this.takeSample(this.nextSample);
      this.nextSample = (++this.samplesTaken + 1) * this.sampleNum / this.sampleScale;
    }
  }

  private zoneLabelCache: readonly string[] | null = null;

  private takeSample(time: number, end = false): void {
    const vmstat = this.vmstatObject();
    this.lastSampleMs = time;
    const s: Sample = {
      time_ms: time,
      ...(end ? { end: true as const } : {}),
      vmstat,
      buddyinfo: this.mem.zones.map((z) => Array.from(z.nrFree)),
      reported: this.mem.zones.map((z) => Array.from(z.reported)),
      page_age: this.pageAgeTotals(),
    };
    const truth = this.mem.hotTruth;
    if (truth) s.promotion = { truly_hot: truth.trulyHotPages, promoted_hot: truth.promotedHotPages };
    // reading pressure catches psi_avgs_work up to the sample's time, work the run would do
    // anyway on the same 2 s schedule: the later values do not depend on the sampling
    s.pressure = this.pressureAt(toNs(time));
    if (this.opts.keepSeries !== false) this.series.push(s);
    this.opts.onSample?.(s, (this.zoneLabelCache ??= zoneLabels(this.mem.zones)));
  }

  // --- EngineContext ---

  now(): number {
    return this.clock;
  }

  schedule(delayMs: number, fn: () => void, quietUntil?: (period: number) => number, steady?: SteadyFn): Timer {
    if (!(delayMs >= 0)) throw new InternalError(`timer scheduled with delay ${delayMs}`);
    const t = this.timers.push(this.clock + delayMs, fn, delayMs, quietUntil, steady);
    if (t.due < this.nextDue) this.nextDue = t.due;
    return t;
  }

  cancel(t: Timer): void {
    t.cancelled = true;
    this.nextDue = this.timers.peekDue();
  }

  /**
   * Fire every timer due at or before t, then set the clock to t. Across a long stretch with
   * only quiet daemons pending, their ticks are skipped (tryIdleJump); a timer loop at one
   * virtual time is an InternalError, not a hang.
   */
  advanceTo(t: number): void {
    let sameTime = 0;
    this.mem.alloc.cpu = -1; // kernel threads: the first CPU of their node (PageAllocator.cpu)
    while (this.nextDue <= t) {
      if (t - this.nextDue >= JUMP_MIN_MS && this.clock >= this.noJumpBefore && !this.tryIdleJump(t))
        this.noJumpBefore = this.opts.idleJumps === false ? Infinity : this.clock + JUMP_MIN_MS;
      if (this.nextDue > t) break;
      const timer = this.timers.pop()!;
      if (timer.due === this.clock) {
        if (++sameTime > MAX_FIRINGS_AT_ONE_TIME) throw new InternalError(`timers loop without progress at ${this.clock} ms`);
      } else sameTime = 0;
      this.clock = timer.due;
      this.nextDue = this.timers.peekDue();
      this.timerFirings++;
      timer.fn();
      this.nextDue = this.timers.peekDue();
    }
    if (t > this.clock) this.clock = t;
  }

  /**
   * The idle jump: when every pending timer is a periodic tick that says it is quiet (its
   * ticks change nothing until `quiet`, the earliest of their answers, as long as nothing else
   * changes), no state changes before min(quiet, the first tick after t); each timer moves to
   * its first tick after t (quiet beyond t) or at/after quiet, exactly where ticking would have
   * left it, and the queue keeps ticking's order among timers due together: created earlier
   * (due - period) first, then as before. Due times stay below 2^53 and, when fractional,
   * within their binade (see below), so the arithmetic is ticking's to the bit. Returns false
   * if no timer could move.
   *
   * A tick that is not quiet but at a steady state (its `steady` answers a fast-forward: its
   * ticks change only its own state, in closed form) counts as quiet for ever: it moves like
   * the others, and its fast-forward applies the ticks it skips, as ticking would have. One
   * whose ticks are uneven (SteadyAdvance) says itself which of its ticks fall before where
   * the others stop, where its next one is due and when it was created (for the order).
   */
  private tryIdleJump(t: number): boolean {
    if (this.opts.idleJumps === false) return false;
    const live = this.timers.live();
    let quiet = Infinity;
    const fastForward = new Map<Timer, (n: number, firstDue: number) => void>();
    const advances = new Map<Timer, SteadyAdvance>();
    for (const tm of live) {
      if ((!tm.quietUntil && !tm.steady) || !(tm.due >= 0)) return false;
      // a period that is not a whole ms (a daemon's wait after a busy pass) only moves by a
      // SteadyAdvance that computes its ticks as ticking's own arithmetic (`exact`)
      const periodic = Number.isInteger(tm.period) && tm.period >= 1;
      let q = tm.quietUntil && periodic ? tm.quietUntil(tm.period) : -Infinity;
      if (q !== Infinity && tm.steady) {
        const ff = tm.steady(tm.period, tm.due);
        if (typeof ff === "function") {
          if (!periodic) return false;
          fastForward.set(tm, ff);
          q = Infinity;
        } else if (ff && (ff.exact || (periodic && Number.isInteger(tm.due)))) {
          advances.set(tm, ff);
          q = Infinity;
        }
      }
      if (!periodic && !advances.has(tm)) return false;
      if (q < quiet) quiet = q;
      if (!(quiet > this.clock)) return false;
    }
    // A timer woken at a fractional time ticks at fractional times: ticking adds the period
    // again and again (fl(due + p)), which is exact while the sum stays in due's binade
    // [2^e, 2^(e+1)) (below 2^52 its ulp is at most 1, and p is an integer) but may round
    // where it crosses into the next. So with any fractional due the jump stops short of every
    // such timer's binade end (each lands at most one period past the target): every due, and
    // every tick time a fast-forward computes as due + k·p, is then exactly ticking's; the
    // crossing itself is ticked through.
    for (const tm of live) {
      if (Number.isInteger(tm.due) || advances.get(tm)?.exact) continue;
      let e = Math.floor(Math.log2(tm.due));
      while (2 ** e > tm.due) e--;
      while (2 ** (e + 1) <= tm.due) e++;
      const lim = 2 ** (e + 1) - tm.period - 1;
      if (lim < t) t = lim;
    }
    if (!(t > this.clock)) return false;
    // created: when the timer at `due` was scheduled, the order among timers due together
    const moves: { tm: Timer; due: number; created: number; plan?: SteadyPlan }[] = [];
    let moved = false;
    for (const tm of live) {
      const p = tm.period;
      let due = tm.due;
      const adv = advances.get(tm);
      if (adv) {
        // its ticks at or before t, or before quiet (integer ms)
        const plan = adv.advance(quiet > t ? t : Math.ceil(quiet) - 1);
        if (!plan) return false;
        if (plan.ticks > 0) {
          if (plan.due > Number.MAX_SAFE_INTEGER) return false;
          moved = true;
          moves.push({ tm, due: plan.due, created: plan.prev, plan });
        } else moves.push({ tm, due, created: due - p });
        continue;
      }
      if (quiet > t) {
        // the first tick after t
        if (due <= t) due += Math.floor((t - due) / p) * p;
        while (due <= t) due += p;
        while (due - p > t && due - p >= tm.due) due -= p;
      } else if (due < quiet) {
        // the first tick at or after quiet
        due += Math.floor((quiet - due) / p) * p;
        while (due < quiet) due += p;
        while (due - p >= quiet && due - p >= tm.due) due -= p;
      }
      if (due > Number.MAX_SAFE_INTEGER) return false;
      if (due !== tm.due) moved = true;
      moves.push({ tm, due, created: due - p });
    }
    if (!moved) return false;
    // the skipped ticks of steady timers, applied in closed form (they are independent)
    for (const m of moves) {
      if (m.plan) {
        m.plan.apply();
        this.steadyTicksSkipped += m.plan.ticks;
        continue;
      }
      const ff = fastForward.get(m.tm);
      if (ff && m.due > m.tm.due) {
        ff((m.due - m.tm.due) / m.tm.period, m.tm.due);
        this.steadyTicksSkipped += (m.due - m.tm.due) / m.tm.period;
      }
    }
    moves.sort((a, b) => a.due - b.due || a.created - b.created || a.tm.seq - b.tm.seq);
    for (const m of moves) m.tm.due = m.due;
    this.timers.reorder(moves.map((m) => m.tm));
    this.nextDue = this.timers.peekDue();
    this.idleJumps++;
    return true;
  }

  // --- tunables with effects ---

  private applyWatermarkTunables(): void {
    const s = this.settings;
    this.mem.thp.enabled = s.str("transparent_hugepage.enabled") as ThpConfig["enabled"];
    this.mem.thp.defrag = s.str("transparent_hugepage.defrag") as ThpConfig["defrag"];
    const scale = s.num("vm.watermark_scale_factor");
    const thp = s.str("transparent_hugepage.enabled") !== "never";
    s.setDerived("vm.min_free_kbytes", this.mem.defaultMinFreeKbytes(thp, scale));
    this.mem.setWatermarks(s.num("vm.min_free_kbytes"), scale);
    this.mem.buddy.watermarkBoostFactor = s.num("vm.watermark_boost_factor");
    // init_per_zone_wmark_min's setup_per_zone_lowmem_reserve, and a write of the sysctl
    this.mem.setLowmemReserve(s.str("vm.lowmem_reserve_ratio").split(" ").map(Number));
  }

  private tunableChanged(key: string): void {
    switch (key) {
      case "vm.min_free_kbytes":
      case "vm.lowmem_reserve_ratio":
      case "vm.watermark_scale_factor":
      case "vm.watermark_boost_factor":
      case "transparent_hugepage.enabled":
      case "transparent_hugepage.defrag":
        this.applyWatermarkTunables();
        if (key === "transparent_hugepage.enabled") this.mem.khugepaged.startStop(); // start_stop_khugepaged
        break;
      case "wsim.khugepaged":
        this.mem.khugepaged.startStop();
        break;
      case "transparent_hugepage.khugepaged.scan_sleep_millisecs":
      case "transparent_hugepage.khugepaged.alloc_sleep_millisecs":
        this.mem.khugepaged.sleepWritten();
        break;
      case "vm.percpu_pagelist_high_fraction":
        this.mem.updatePcp();
        break;
      case "wsim.pcp":
        this.mem.setPcpEnabled(this.settings.num(key) === 1);
        break;
      case "lru_gen.max_nr_gens":
        this.mem.lru.maxNrGens = this.settings.num(key);
        break;
      case "lru_gen.enabled": {
        const classic = this.settings.num(key) === 0;
        if (classic === this.mem.lru.classic) break;
        if (classic && this.mem.memcgs.all.some((m) => m.wsr.some((w) => w.intervals.length || w.reaccessIntervals.length || w.refreshInterval)))
          throw new Error(`lru_gen.enabled=0: a workingset report is configured, and it needs MGLRU`);
        this.mem.lru.setClassic(classic);
        break;
      }
      case "vm.compaction_proactiveness":
        for (const k of this.mem.kcompactd) k.proactivenessWritten();
        break;
      case "page_reporting.enabled":
      case "page_reporting.mode":
        this.mem.reporting.settingsChanged();
        break;
      case "kpromoted.enabled":
      case "kmmscand.enabled":
        this.noteFeatures();
        break;
      case "kernel.numa_balancing": {
        const old = this.numabMode;
        this.numabMode = this.settings.num(key);
        this.mem.numabModeChanged(old, this.clock);
        break;
      }
    }
  }

  /** A write of a memory.* file of memcg cg: a cgroup v2 limit (memcg-limits.ts) or the workingset report's. */
  private applyMemcgTunable(key: string, cg: string, text: string): void {
    if (MEMCG_LIMIT_FILES.includes(key)) this.mem.limits.writeLimit(this.mem.memcgs.ensure(cg, this.clock), key, parseLimit(text)!);
    else this.applyWsrTunable(key, cg, text);
  }

  /**
   * A write of memory.workingset.* (`N<nid>=...`) to memcg cg: intervals replace the report
   * (bins zeroed, never made) and wake kagingd if refresh_interval is set; a refresh_interval
   * set non-zero that was 0 or longer wakes it too.
   */
  private applyWsrTunable(key: string, cg: string, text: string): void {
    const m = /^N(\d+)=(.*)$/.exec(text)!;
    const nid = Number(m[1]);
    const vals = m[2] ? m[2].split(",").map(Number) : [];
    const w = this.mem.memcgs.ensure(cg, this.clock).wsr[nid]!;
    const kagingd = this.mem.kagingd;
    switch (key) {
      case "memory.workingset.page_age_intervals":
        w.setIntervals(vals);
        if (w.refreshInterval) kagingd.wake();
        break;
      case "memory.workingset.reaccess_intervals":
        w.setReaccessIntervals(vals);
        break;
      case "memory.workingset.refresh_interval": {
        const old = w.refreshInterval;
        w.refreshInterval = vals[0]!;
        if (w.refreshInterval && (old === 0 || w.refreshInterval < old)) kagingd.wake();
        break;
      }
    }
  }

  // --- events ---

  get stoppedEarly(): boolean {
    return this.stopped;
  }

  /** Replays a batch. Returns false once an event lies beyond --until (the rest is ignored). */
  processBatch(b: EventBatch, file: string): boolean {
    this.file = file;
    const until = this.opts.until ?? Infinity;
    const cl = this.closedLoop;
    if (cl === null && this.opts.check !== true) return this.openLoopBatch(b, until);
    for (let i = 0; i < b.n; i++) {
      const t = b.time[i]!;
      if (cl !== null) {
        // closed loop: first the held events due by now, then this one unless its pid is behind
        if (cl.held > 0 && !this.releaseHeld(t, until)) return false;
        if (cl.behind(b.pid[i]!)) {
          cl.hold(b.pid[i]!, b, i);
          continue;
        }
      }
      if (t > until) {
        if (cl !== null && cl.held > 0) this.releaseHeld(until, until); // what was held up to --until
        this.stopped = true;
        return false;
      }
      this.runEvent(b, i, t);
    }
    return true;
  }

  /**
   * processBatch without --closed-loop and --check (the common run). An access with no sample
   * and no timer due by its time (the common event) takes runEvent's steps here, inline, with
   * mem, its counters, the memcg limits and the stall meter read once per batch; any other
   * event goes through runEvent. (Every rarer step stays in runEvent: a branch here that the
   * first batches never take would throw this loop's optimised code away when first taken.)
   * Keep the two in step.
   */
  private openLoopBatch(b: EventBatch, until: number): boolean {
    const n = b.n;
    const time = b.time;
    const op = b.op;
    const mem = this.mem;
    const ev = mem.ev;
    const limits = mem.limits;
    const stall = this.stall;
    const events = V.wsim_events!;
    for (let i = 0; i < n; i++) {
      const t = time[i]!;
      if (t > until) {
        this.stopped = true;
        return false;
      }
      if (op[i] === OP_ACCESS && t <= this.nextSample && t < this.nextDue) {
        if (t > this.clock) this.clock = t;
        this.lastEventMs = t;
        ev[events]!++;
        mem.stateEvents++;
        stall.pendingNs = 0;
        stall.memcgId = -1;
        this.access(b, i);
        // return to user space: mem_cgroup_handle_over_high (memory.high)
        if (limits.overHigh !== 0) limits.handleOverHigh();
        if (stall.pendingNs !== 0) this.psi.memstall(b.pid[i]!, toNs(t), stall.pendingNs);
      } else this.runEvent(b, i, t);
    }
    return true;
  }

  /** One event at virtual time t (its trace time, or later under --closed-loop). */
  private runEvent(b: EventBatch, i: number, t: number): void {
    if (t > this.nextSample) this.sampleUpTo(t, false);
    if (t >= this.nextDue) this.advanceTo(t);
    else if (t > this.clock) this.clock = t;
    this.lastEventMs = t;
    this.mem.ev[V.wsim_events]!++;
    if (b.op[i] !== OP_READ) this.mem.stateEvents++; // reads that may change pages count in read()
    this.stall.pendingNs = 0;
    this.stall.memcgId = -1;
    if (b.op[i] === OP_ACCESS) this.access(b, i);
    else this.other(b, i);
    // return to user space: mem_cgroup_handle_over_high (memory.high)
    if (this.mem.limits.overHigh !== 0) this.mem.limits.handleOverHigh();
    if (this.stall.pendingNs !== 0) {
      this.psi.memstall(b.pid[i]!, toNs(t), this.stall.pendingNs);
      if (this.closedLoop !== null) this.closedLoop.addDelay(b.pid[i]!, this.stall.pendingNs / 1e6);
    }
    if (this.opts.check === true) {
      const bad = checkMemory(this.mem.mappingView());
      if (bad) throw new InternalError(`${this.file}:${b.line[i]}: after this ${OPS[b.op[i]!]} event: invariant broken: ${bad}`);
    }
  }

  /**
   * --closed-loop: runs the held events whose effective time is at or before t, earliest first.
   * Returns false when one lies beyond --until (the run stops there).
   */
  private releaseHeld(t: number, until: number): boolean {
    const cl = this.closedLoop!;
    for (let d = cl.nextDue(t); d !== null; d = cl.nextDue(t)) {
      if (d.at > until) {
        this.stopped = true;
        return false;
      }
      this.runEvent(d.b, d.i, d.at);
      cl.shift(d.pid);
    }
    return true;
  }

  /** End of the run: timers up to the last event's time (+ --drain, capped by --until). */
  finish(): void {
    // --closed-loop: the events still held run at their effective times
    if (this.closedLoop !== null && this.closedLoop.held > 0 && !this.stopped) this.releaseHeld(Infinity, this.opts.until ?? Infinity);
    let end = this.lastEventMs + (this.opts.drain ?? 0);
    if (!(end < MAX_TIME_MS) && !this.stopped && !(this.opts.until !== undefined && this.opts.until < MAX_TIME_MS))
      throw new UsageError(`--drain: the last event's time ${this.lastEventMs} ms + --drain ${this.opts.drain} ms is beyond the latest time wsim replays (2^52 ms = ${MAX_TIME_MS} ms): lower --drain`);
    if (this.stopped) end = this.opts.until!;
    else if (this.opts.until !== undefined) end = Math.min(end, this.opts.until);
    this.sampleUpTo(end, true);
    this.advanceTo(end);
    // the last sample is the state at the end, also when the end falls between two samples
    if (this.opts.interval !== undefined && this.opts.interval > 0 && this.lastSampleMs !== end) this.takeSample(end, true);
  }

  private fail(b: EventBatch, i: number, what: string): never {
    throw new DataError(this.file, b.line[i]!, what);
  }

  private access(b: EventBatch, i: number): void {
    // the pid's mm from a direct-mapped cache (no Map lookup when the pid changes, issue 20 item 3)
    const pid = b.pid[i]!;
    const cached = this.mmCache[pid & (MM_CACHE - 1)];
    const mm = cached !== undefined && cached.pid === pid && !cached.exited && b.cg[i]! < 0 ? cached : this.mmOf(b, i);
    if (mm === null) return;
    let cpu = b.node[i]!;
    const c = b.cpu[i]!;
    if (c >= 0) {
      // the trace's CPU: its node is the access's (the node column, if given, must agree)
      const cn = this.cpuOf(b, i, c);
      if (cpu >= 0 && cn !== cpu) {
        this.checkCpuNode(b, i, cpu);
        this.fail(b, i, `cpu ${c} is on node ${cn}, not node ${cpu}: give the node's CPU or leave node out`);
      }
      cpu = cn;
    } else if (cpu < 0) cpu = this.defaultCpu;
    else this.checkCpuNode(b, i, cpu);
    const vpn = Math.floor(b.addr[i]! / PAGE_SIZE);
    const mem = this.mem;
    if (this.numabMode !== 0) mem.numab.tick(mm, cpu, this.clock); // task_tick_numa, on the process's CPU time
    // the CPU the access (its fault, its reclaim's frees) runs on: the trace's, else the node's first (SPEC §2 cpu)
    mem.alloc.cpu = c >= 0 ? c : mem.pcp.nodeCpu[cpu]!;
    const procs = mem.procs;
    const write = b.write[i] === 1;
    // a present page: no fault, no allocation, no stall (the hot path)
    if (procs.touchPresent(mm, vpn, write, cpu, this.clock)) return;
    const ev = mem.ev;
    const faults = ev[V.pgfault]!, major = ev[V.pgmajfault]!, thp = ev[V.thp_fault_alloc]!, mapped = procs.mappedFaults;
    this.stall.memcgId = mm.memcg.id;
    procs.accessSlow(mm, vpn, write, cpu, this.clock);
    if (ev[V.pgfault] !== faults) this.stall.fault(ev[V.thp_fault_alloc]! - thp, ev[V.pgmajfault]! - major, procs.mappedFaults !== mapped);
  }

  /** The node of the trace's CPU c (an error if the machine has no such CPU). */
  private cpuOf(b: EventBatch, i: number, c: number): number {
    const pcp = this.mem.pcp;
    if (c >= pcp.nrCpus)
      this.fail(b, i, `cpu ${c} does not exist: the machine has CPUs 0..${pcp.nrCpus - 1}, numbered node by node (a node's "cpus" gives its count) ${machineHint(this.machine, this.settings.machineOrigin)}`);
    return pcp.cpuNode[c]!;
  }

  private checkCpuNode(b: EventBatch, i: number, nid: number): void {
    const n = this.machine.nodes[nid];
    if (!n) this.fail(b, i, `node ${nid} does not exist ${machineHint(this.machine, this.settings.machineOrigin, (m) => nid < m.nodes.length)}`);
    if (!n.cpus)
      this.fail(b, i, `node ${nid} has no CPUs, so no access can come from it ${machineHint(this.machine, this.settings.machineOrigin, (m) => m.nodes[nid]?.cpus === true)}`);
  }

  /**
   * fread, fwrite, fsync, ftruncate, fdelete (SPEC §2 [next], src/mm/pagecache.ts): the pid is
   * optional (its memcg is charged, else the event's cg, else the root); the pages' node is the
   * first CPU node's. A writer's throttle pause and an fsync's wait delay the pid under --closed-loop.
   */
  private fileOp(b: EventBatch, i: number): void {
    const mem = this.mem;
    const op = b.op[i]!;
    const name = b.strs[b.fname[i]!]!;
    const off = b.off[i]!;
    const len = b.len[i]!;
    if (op !== OP_FSYNC && op !== OP_FDELETE && off + len > MAX_FILE_BYTES)
      this.fail(b, i, `${OPS[op]} of file "${name}" reaches byte ${off + len} (off + len), beyond the 64 GiB a file may have in wsim`);
    let mm: Mm | null = null;
    if (b.pid[i]! >= 0) {
      mm = this.mmOf(b, i);
      if (mm === null) return; // a pid the OOM killer killed, skipped under --lenient
    }
    const cg = mm === null ? this.cgOf(b, i) : null;
    const memcg = mm !== null ? mm.memcg : cg !== null ? mem.memcgs.ensure(cg, this.clock) : null;
    const cpu = this.defaultCpu;
    mem.alloc.cpu = mem.pcp.nodeCpu[cpu]!;
    const prev = mem.procs.current;
    mem.procs.current = mm;
    let waitMs = 0;
    if (op === OP_FREAD) mem.pageCache.read(name, off, len, memcg, cpu, this.clock);
    else if (op === OP_FWRITE) waitMs = Math.max(0, mem.pageCache.write(name, off, len, memcg, cpu, this.clock));
    else if (op === OP_FSYNC) waitMs = mem.pageCache.fsync(name, this.clock);
    else if (op === OP_FTRUNCATE) mem.pageCache.truncate(name, len, this.clock);
    else mem.pageCache.delete(name, this.clock);
    mem.procs.current = prev;
    if (waitMs > 0 && mm !== null && this.closedLoop !== null) this.closedLoop.addDelay(mm.pid, waitMs);
  }

  private checkNode(b: EventBatch, i: number): number {
    const nid = b.node[i]!;
    if (nid >= this.machine.nodes.length) this.fail(b, i, `node ${nid} does not exist ${machineHint(this.machine, this.settings.machineOrigin, (m) => nid < m.nodes.length)}`);
    return nid;
  }

  private cgOf(b: EventBatch, i: number): string | null {
    const c = b.cg[i]!;
    if (c < 0) return null;
    const cg = b.strs[c]!;
    // a memcg is created, with its ancestors, by the first event that names it
    this.mem.memcgs.ensure(cg, this.clock);
    return cg;
  }

  /** The event's process, created on its first event; null for a pid the OOM killer killed (skipped under --lenient). */
  private mmOf(b: EventBatch, i: number): Mm | null {
    const pid = b.pid[i]!;
    const cg = this.cgOf(b, i);
    let mm = this.mem.procs.get(pid);
    if (!mm && this.oomVictimEvent(b, i)) return null;
    if (!mm) {
      mm = this.mem.procs.create(pid, this.mem.memcgs.ensure(cg ?? "/", this.clock), this.clock);
      this.psi.start(pid, this.psiGroupsOf(mm.cg), toNs(this.clock)); // a task, non-idle from its first event
    }
    else if (cg !== null && cg !== mm.cg)
      this.fail(b, i, `pid ${pid} is in memcg ${mm.cg} since its first event; it cannot move to ${cg}`);
    this.mmCache[pid & (MM_CACHE - 1)] = mm;
    return mm;
  }

  private pageRange(b: EventBatch, i: number): [number, number] {
    const addr = b.addr[i]!;
    if (addr % PAGE_SIZE !== 0) this.fail(b, i, `${OPS[b.op[i]!]} addr ${addr} is not page-aligned (4096)`);
    return [addr / PAGE_SIZE, Math.ceil(b.len[i]! / PAGE_SIZE)];
  }

  /**
   * An event of a pid the OOM killer killed: a data error, or under --lenient counted in
   * wsim_oom_victim_events and skipped (true). False for a pid never killed.
   */
  private oomVictimEvent(b: EventBatch, i: number): boolean {
    const pid = b.pid[i]!;
    const at = this.mem.procs.oomKilled.get(pid);
    if (at === undefined) return false;
    if (!this.opts.lenient)
      this.fail(b, i, `pid ${pid} was killed by the OOM killer at ${at} ms, so this ${OPS[b.op[i]!]} cannot be replayed (use --lenient to count and skip the events of killed processes)`);
    this.mem.ev[V.wsim_oom_victim_events]!++;
    return true;
  }

  private lenient(b: EventBatch, i: number, what: string): void {
    if (!this.opts.lenient) this.fail(b, i, `${what} (use --lenient to count and skip such events)`);
    this.mem.ev[V.wsim_lenient_skipped]!++;
  }

  private other(b: EventBatch, i: number): void {
    const mem = this.mem;
    mem.alloc.cpu = -1;
    // the trace's CPU for any other op (SPEC §2 cpu): the CPU its frees go to (free, munmap,
    // exit, madvise: free_unref_page on the freeing CPU's list) and its allocations come from;
    // a CPU the machine lacks is an error whatever the op (alloc checks it against its node)
    const c = b.cpu[i]!;
    if (c >= 0 && b.op[i] !== OP_ALLOC) {
      this.cpuOf(b, i, c);
      mem.alloc.cpu = c;
    }
    switch (b.op[i]) {
      case OP_MMAP: {
        const mm = this.mmOf(b, i);
        if (mm === null) break;
        const [vpn, n] = this.pageRange(b, i);
        const node = b.node[i]! >= 0 ? this.checkNode(b, i) : -1;
        const off = b.off[i]!;
        if (b.fname[i]! < 0) {
          if (off !== 0) this.fail(b, i, `mmap off ${off} needs file (the offset of a mapping of the file named by file)`);
          mem.procs.mmap(mm, vpn, n, b.file[i] === 1, b.thp[i] === 1, node, this.defaultCpu);
          break;
        }
        // a shared mapping of a page-cache file (src/mm/filemap.ts): file implies kind=file
        const name = b.strs[b.fname[i]!]!;
        if (off % PAGE_SIZE !== 0) this.fail(b, i, `mmap off ${off} is not page-aligned (4096)`);
        if (off + n * PAGE_SIZE > MAX_FILE_BYTES)
          this.fail(b, i, `mmap of file "${name}" reaches byte ${off + n * PAGE_SIZE} (off + len), beyond the 64 GiB a file may have in wsim`);
        mem.procs.mmap(mm, vpn, n, true, b.thp[i] === 1, node, this.defaultCpu, mem.pageCache.open(name), off / PAGE_SIZE);
        break;
      }
      case OP_MUNMAP: {
        const mm = this.mmOf(b, i);
        if (mm === null) break;
        const [vpn, n] = this.pageRange(b, i);
        mem.procs.munmap(mm, vpn, n, this.defaultCpu);
        break;
      }
      case OP_MADVISE: {
        const mm = this.mmOf(b, i);
        if (mm === null) break;
        const [vpn, n] = this.pageRange(b, i);
        mem.madvise.madvise(mm, vpn, n, b.advice[i]!, this.defaultCpu, this.clock);
        break;
      }
      case OP_MLOCK:
      case OP_MUNLOCK: {
        const mm = this.mmOf(b, i);
        if (mm === null) break;
        const [vpn, n] = this.pageRange(b, i);
        const ok = b.op[i] === OP_MLOCK ? mem.madvise.mlock(mm, vpn, n, this.defaultCpu, this.clock) : mem.madvise.munlock(mm, vpn, n, this.defaultCpu);
        if (!ok) this.fail(b, i, `${OPS[b.op[i]!]} of [0x${b.addr[i]!.toString(16)}, +${b.len[i]}) of pid ${mm.pid}: the range is not wholly inside mmap'ed regions (the kernel's ENOMEM); mmap it first`);
        break;
      }
      case OP_FORK: {
        // fork (src/mm/fork.ts): the child, in the parent's memcg, shares its anon pages copy-on-write
        const parent = mem.procs.get(b.pid[i]!);
        if (!parent) {
          if (!this.oomVictimEvent(b, i)) {
            const at = this.exitedAt.get(b.pid[i]!);
            this.fail(b, i, at !== undefined ? `fork of pid ${b.pid[i]}, which exited at ${at} ms` : `fork of pid ${b.pid[i]}, which has no earlier event: a process forks after it has run`);
          }
          break;
        }
        const cg = this.cgOf(b, i);
        if (cg !== null && cg !== parent.cg) this.fail(b, i, `fork of pid ${parent.pid} names memcg ${cg}, but the child starts in its parent's, ${parent.cg}`);
        const cpid = b.child[i]!;
        if (mem.procs.get(cpid)) this.fail(b, i, `fork's child pid ${cpid} is alive (it has events and no exit before this fork): a new process needs a free pid`);
        const child = mem.procs.create(cpid, parent.memcg, this.clock);
        this.psi.start(cpid, this.psiGroupsOf(child.cg), toNs(this.clock));
        // dup_mmap failing (-ENOMEM) tears the child down again
        if (!forkMm(mem.procs, parent, child, this.defaultCpu)) this.psi.exit(cpid, toNs(this.clock));
        else mem.khugepaged.fork(parent, child); // dup_mmap's khugepaged_fork
        break;
      }
      case OP_FREAD:
      case OP_FWRITE:
      case OP_FSYNC:
      case OP_FTRUNCATE:
      case OP_FDELETE:
        this.fileOp(b, i);
        break;
      case OP_EXIT: {
        const mm = mem.procs.get(b.pid[i]!);
        if (!mm) {
          if (!this.oomVictimEvent(b, i)) {
            const at = this.exitedAt.get(b.pid[i]!);
            this.lenient(b, i, at !== undefined ? `exit of pid ${b.pid[i]}, which already exited at ${at} ms` : `exit of pid ${b.pid[i]}, which has no earlier event`);
          }
          break;
        }
        this.cgOf(b, i);
        mem.procs.exit(mm);
        this.exitedAt.set(mm.pid, this.clock); // for the messages of a later fork or exit of it
        this.psi.exit(mm.pid, toNs(this.clock));
        break;
      }
      case OP_ALLOC: {
        const id = b.strs[b.id[i]!]!;
        const prev = mem.kallocs.get(id);
        if (prev !== undefined) {
          this.lenient(b, i, `handle "${id}" is still allocated; free it before reusing it`);
          break;
        }
        const c = b.cpu[i]!;
        // the trace's CPU (its node the preferred one unless node says), else the node's first
        const cn = c >= 0 ? this.cpuOf(b, i, c) : -1;
        const nid = b.node[i]! >= 0 ? this.checkNode(b, i) : cn >= 0 ? cn : this.defaultCpu;
        if (c >= 0) mem.alloc.cpu = c;
        mem.kallocs.set(id, mem.kalloc(b.order[i]!, b.mt[i]!, nid, b.gfp[i]!, cn >= 0 ? cn : undefined));
        break;
      }
      case OP_FREE: {
        const id = b.strs[b.id[i]!]!;
        const a = mem.kallocs.get(id);
        if (a === undefined) this.lenient(b, i, `free of unknown handle "${id}"`);
        else if (a === KALLOC_FAILED) {
          mem.kallocs.delete(id);
          this.lenient(b, i, `free of handle "${id}", whose allocation failed`);
        } else {
          mem.kfree(a);
          mem.kallocs.delete(id);
        }
        break;
      }
      case OP_SET: {
        const key = b.strs[b.key[i]!]!;
        const value = b.strs[b.value[i]!]!;
        if (key === OOM_SCORE_ADJ_KEY || b.pid[i]! >= 0) {
          this.setOomScoreAdj(b, i, key, value);
          break;
        }
        // only memory.* files are per memcg: a cg on a global sysctl would be ignored silently
        if (b.cg[i]! >= 0 && !key.startsWith("memory.")) this.fail(b, i, `${key} is not a memcg file: drop cg`);
        const cg = this.cgOf(b, i) ?? "/";
        if (key.startsWith("memory.workingset.") && this.mem.lru.classic) this.fail(b, i, wsrNeedsMglru(key));
        let v;
        try {
          v = this.settings.set(key, value, cg);
        } catch (e) {
          this.fail(b, i, (e as Error).message);
        }
        if (key.startsWith("memory.")) this.applyMemcgTunable(key, cg, String(v));
        // the boot owner's processes go busy or idle from now on
        else if (key === "wsim.boot_in_use") applyBootInUse(this.mem, Number(v));
        break;
      }
      case OP_READ:
        this.read(b, i);
        break;
      case OP_COMPACT:
        // /proc/sys/vm/compact_memory (all nodes), or one node's compact file
        if (b.node[i]! >= 0) mem.compaction.compactNode(this.checkNode(b, i));
        else for (let nid = 0; nid < this.machine.nodes.length; nid++) mem.compaction.compactNode(nid);
        break;
    }
  }

  /**
   * A `set` with a pid: /proc/<pid>/oom_score_adj, the one per-process file (SPEC §3), an
   * integer -1000..1000 (__set_oom_adj's range); the process is created by it if it has no
   * earlier event, as by any first event.
   */
  private setOomScoreAdj(b: EventBatch, i: number, key: string, value: string): void {
    if (key !== OOM_SCORE_ADJ_KEY) this.fail(b, i, `set: ${key} is not a per-process file (the only one is ${OOM_SCORE_ADJ_KEY}): drop pid`);
    if (b.pid[i]! < 0) this.fail(b, i, `set: ${OOM_SCORE_ADJ_KEY} is per process: give the pid`);
    if (b.cg[i]! >= 0) this.fail(b, i, `${OOM_SCORE_ADJ_KEY} is not a memcg file: drop cg`);
    const v = Number(value);
    if (!/^[+-]?\d+$/.test(value.trim()) || v < OOM_SCORE_ADJ_MIN || v > OOM_SCORE_ADJ_MAX)
      this.fail(b, i, `set: ${OOM_SCORE_ADJ_KEY} must be an integer -1000..1000, got "${value}"`);
    const mm = this.mmOf(b, i);
    if (mm !== null) mm.oomScoreAdj = v;
  }

  private read(b: EventBatch, i: number): void {
    const key = b.strs[b.key[i]!]!;
    const cg = this.cgOf(b, i);
    const node = b.node[i]! >= 0 ? this.checkNode(b, i) : null;
    let value: string;
    if (MEMCG_LIMIT_FILES.includes(key) || (MEMCG_READ_FILES as readonly string[]).includes(key)) {
      // a cgroup v2 memory file: the root memcg has none of these
      if (cg === null || cg === "/") this.fail(b, i, `read: ${key} is a file of a non-root memcg: give cg (the root memcg has no ${key})`);
      value = memcgFile(key, this.mem.memcgs.get(cg!)!, this.mem.lru)!;
    } else if (TUNABLE_BY_KEY.has(key)) value = this.settings.readText(key, cg ?? "/");
    else if (WORKINGSET_FILES.includes(key)) {
      if (this.mem.lru.classic) this.fail(b, i, wsrNeedsMglru(key));
      this.mem.stateEvents++; // a refresh may age lruvecs
      value = this.readWorkingset(key, cg ?? "/");
    }
    else if (Object.hasOwn(KHUGEPAGED_FILES, key)) value = String(this.mem.ev[V[KHUGEPAGED_FILES[key]!]]);
    else value = this.readFile(key, node, cg) ?? this.fail(b, i, `read: unknown file "${key}" (known: ${[...READ_FILES, ...WORKINGSET_FILES, ...MEMCG_READ_FILES, ...Object.keys(KHUGEPAGED_FILES)].join(", ")}, or a tunable's key)`);
    this.reads.push({ time_ms: this.clock, key, cg, node, value });
  }

  /** A read of memory.workingset.page_age / .reaccess: wsr_refresh_report per node, then the file. */
  readWorkingset(key: string, cg: string): string {
    const memcg = this.mem.memcgs.ensure(cg, this.clock);
    for (let nid = 0; nid < this.machine.nodes.length; nid++) this.mem.refreshReport(memcg.id, nid);
    return key.endsWith("page_age") ? this.mem.wsr.formatPageAge(memcg) : this.mem.wsr.formatReaccess(memcg);
  }

  /**
   * The workingset report at the end of the run, as a read would show it (refreshed by the
   * same rules), with page_age_exact and the share of bytes the kernel's view puts in a
   * different bin, per memcg and node that has intervals.
   */
  workingsetResult(): Record<string, Record<string, WorkingsetNode>> {
    const out: Record<string, Record<string, WorkingsetNode>> = {};
    const now = this.clock;
    for (const m of this.mem.memcgs.root.subtree()) {
      m.wsr.forEach((w, nid) => {
        if (!w.hasPageAge && !w.reaccessIntervals.length) return;
        this.mem.refreshReport(m.id, nid);
        const node: WorkingsetNode = { page_age: [], page_age_exact: [], reaccess: [], misplaced_share: 0 };
        if (w.hasPageAge) {
          const ex = this.mem.wsr.exact(m, nid, w.intervals, now);
          const le = (b: number) => (b < w.intervals.length ? w.intervals[b]! : null);
          // the share of the kernel's bytes standing in a bin beyond what is truly there
          let excess = 0;
          let totalK = 0;
          for (let b = 0; b <= w.intervals.length; b++) {
            const ka = w.pageAgeAnon[b]! * PAGE_SIZE;
            const kf = w.pageAgeFile[b]! * PAGE_SIZE;
            node.page_age.push({ le_ms: le(b), anon: ka, file: kf });
            node.page_age_exact.push({ le_ms: le(b), anon: ex.anon[b]!, file: ex.file[b]! });
            excess += Math.max(ka - ex.anon[b]!, 0) + Math.max(kf - ex.file[b]!, 0);
            totalK += ka + kf;
          }
          node.misplaced_share = totalK ? Math.round((excess / totalK) * 1e6) / 1e6 : 0;
        }
        w.reaccessIntervals.forEach((iv, b) => node.reaccess.push({ le_ms: iv, anon: w.reaccessAnon[b]!, file: w.reaccessFile[b]! }));
        if (w.reaccessIntervals.length) {
          const last = w.reaccessIntervals.length;
          node.reaccess.push({ le_ms: null, anon: w.reaccessAnon[last]!, file: w.reaccessFile[last]! });
        }
        (out[m.path] ??= {})[String(nid)] = node;
      });
    }
    return out;
  }

  /** The text of a kernel file now, or undefined for an unknown name. */
  readFile(key: string, node: number | null = null, cg: string | null = null): string | undefined {
    const zones = this.zoneViews().filter((z) => node === null || z.nid === node);
    switch (key) {
      case "vmstat":
        // SPEC §5: the kernel's names, the seeds' counters, then wsim's own (wsim_)
        return formatVmstat(this.mem.vmstat(), printNames(this.features, true)) + this.pluginVmstatLines();
      case "buddyinfo":
        return formatBuddyinfo(zones);
      case "pagetypeinfo":
        return formatPagetypeinfo(zones);
      case "zoneinfo": {
        const info = liveZoneinfo(this.mem, cpusByNodeOf(this.mem));
        return formatZoneinfo(node === null ? info : { pgdats: info.pgdats.filter((p) => p.nodeId === node) });
      }
      case "extfrag_index":
        return formatExtfragIndex(zones);
      case "unusable_index":
        return formatUnusableIndex(zones);
      case "lru_gen":
        return formatLruGen(this.lruGenView());
      case "pressure/memory":
        return this.psi.show(toNs(this.clock));
      case "memory.pressure":
        return this.psi.show(toNs(this.clock), this.psiGroup(cg ?? "/"));
    }
    return undefined;
  }

  /**
   * /sys/kernel/debug/lru_gen's content (formatLruGen): every memcg in pre-order (mem_cgroup_iter;
   * mem_cgroup_id is the creation order from 1, the root's), its lruvec on each node with memory,
   * generations min_seq[anon]..max_seq with their ages (virtual ms since inc_max_seq made them) and
   * pages per type (0 for a type whose min_seq is past that seq). With lru_gen.enabled=0 the
   * sequence numbers MGLRU kept and no pages, as 6.1's file shows after the switch.
   */
  private lruGenView(): LruGenMemcgView[] {
    const now = Math.floor(this.clock);
    const nodes = this.mem.alloc.nodeZones.flatMap((zs, nid) => (zs.some((z) => z.managed > 0) ? [nid] : []));
    return this.mem.memcgs.root.subtree().map((m) => ({
      id: m.id + 1,
      path: m.path,
      lruvecs: nodes.map((nid) => {
        const lv = m.lruvecs[nid]!;
        const [minAnon, minFile, maxSeq] = lv.savedSeq ?? [lv.minSeq[ANON]!, lv.minSeq[FILE]!, lv.maxSeq];
        const pages = lv.savedSeq === null;
        const gens = [];
        for (let seq = Math.min(minAnon, minFile); seq <= maxSeq; seq++)
          gens.push({
            seq,
            ageMs: Math.max(0, now - lv.birthOf(seq)),
            anon: pages && seq >= minAnon ? lv.pagesIn(ANON, seq) : 0,
            file: pages && seq >= minFile ? lv.pagesIn(FILE, seq) : 0,
          });
        return { nid, gens };
      }),
    }));
  }

  /**
   * The psi_group of a memcg (its memory.pressure): the root memcg's is the system's
   * (psi_system, /proc/pressure/memory), as cgroup v2 has it.
   */
  psiGroup(cg: string): PsiGroup {
    if (cg === "/") return this.psi.system;
    let g = this.psiGroups.get(cg);
    if (g === undefined) {
      g = new PsiGroup();
      this.psiGroups.set(cg, g);
      this.psi.addGroup(g);
    }
    return g;
  }

  /** latency histograms per memcg that had a fault or a stall in one of its processes' accesses (by path, sorted) */
  latencyByMemcg(): Record<string, Record<StallKind, LatencyHist>> {
    const out: Record<string, Record<StallKind, LatencyHist>> = {};
    const rows: [string, Record<StallKind, LatencyHist>][] = [];
    this.stall.byMemcg.forEach((h, id) => {
      if (h) rows.push([this.mem.memcgs.all[id]!.path, h.toJsonAll()]);
    });
    rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [p, h] of rows) out[p] = h;
    return out;
  }

  /**
   * Every non-root memcg at the end of the run (usage, limits, memory.events), by path, when
   * any memcg limit or protection was set in the run; null otherwise.
   */
  memcgsResult(): Record<string, MemcgResult> | null {
    const l = this.mem.limits;
    if (!l.everSet) return null;
    const out: Record<string, MemcgResult> = {};
    const all = this.mem.memcgs.all.filter((m) => m.parent !== null).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const m of all) out[m.path] = memcgResult(m, l.throttleMs[m.id] ?? 0, l.memcgReclaims[m.id] ?? 0);
    return out;
  }

  /** memory pressure at the end of the run: "/" (the system's), then each memcg that had tasks, by path */
  pressureResult(): Record<string, { some: PsiLine; full: PsiLine }> {
    return this.pressureAt(toNs(this.clock));
  }

  /** pressureResult at virtual time `now` (ns, not before the last read) */
  private pressureAt(now: number): Record<string, { some: PsiLine; full: PsiLine }> {
    const out: Record<string, { some: PsiLine; full: PsiLine }> = { "/": this.psi.values(now) };
    for (const cg of [...this.psiGroups.keys()].sort()) out[cg] = this.psi.values(now, this.psiGroups.get(cg)!);
    return out;
  }

  /** the groups a task of memcg `cg` counts in: the system's, then its memcg's and each ancestor's (psi_task_change's walk up) */
  private psiGroupsOf(cg: string): PsiGroup[] {
    const out = [this.psi.system];
    for (let p = cg; p !== "/" && p !== ""; p = p.slice(0, Math.max(p.lastIndexOf("/"), 1))) out.push(this.psiGroup(p));
    return out;
  }

  /** the plugins' wsim_plugin_* counters as vmstat lines ("" without plugins) */
  private pluginVmstatLines(): string {
    const pl = this.plugins;
    if (pl === null) return "";
    return pl.counterNames.map((n, k) => `${n} ${pl.counterValues[k]}\n`).join("");
  }

  zoneViews(): ZoneView[] {
    const mem = this.mem;
    const valid = (pfn: number) => mem.pfnValid(pfn);
    return mem.zones.map((z) => ({
      nid: z.nid,
      name: z.name,
      start: z.start,
      end: z.end,
      nrFree: z.nrFree,
      nrFreeMt: z.nrFreeMt,
      pbMt: mem.pages.pbMt,
      valid,
    }));
  }

  /** when each pid that exited did (virtual ms), for errors about a later fork or exit of it */
  private readonly exitedAt = new Map<number, number>();

  get lastEventTime(): number {
    return this.lastEventMs;
  }
}

/** PSI task ids of the kswapds (node 0: -1, node 1: -2, ...): no pid of a trace is negative */
const KSWAPD_TASK = -1;
/** PSI task id of khugepaged (below every kswapd's) */
const KHUGEPAGED_TASK = -1_000_000;
/** kcompactd of node n is PSI task KCOMPACTD_TASK - n (below every kswapd's) */
const KCOMPACTD_TASK = -1 - 4096;

/** the largest file offset + length wsim takes (64 GiB: a file's index is one typed array) */
const MAX_FILE_BYTES = 64 * 2 ** 30;

/** virtual ms to the integer ns PSI and the cost model count in */
function toNs(ms: number): number {
  return Math.round(ms * 1e6);
}

