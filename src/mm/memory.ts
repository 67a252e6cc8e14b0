/**
 * The simulated kernel's memory: the pages arrays, one zone per node, the buddy allocator,
 * the __alloc_pages path, processes, memcgs with their MGLRU lruvecs, reclaim with swap and
 * shadow entries, kswapd per node, the workingset report and kagingd, and kernel
 * allocations by handle. It knows nothing of traces or output; the engine drives it and
 * lends it the virtual clock.
 */
import type { MmObserver } from "../plugin/observer.js";
import type { MigrateContext } from "./migrate.js";
import type { SteadyAdvance } from "../engine/daemon.js";
import type { Machine } from "../machine/machine.js";
import { cpuNodes, nodeCpuCount, swapPages, zonelist } from "../machine/machine.js";
import { outOfMemory } from "./oom-kill.js";
import { NR_COUNTERS, V } from "../stats/counters.js";
import { Buddy, FPI_TO_TAIL, Zone } from "./buddy.js";
import type { MappingView } from "./check.js";
import {
  GFP_ATOMIC, GFP_DIRECT_RECLAIM, GFP_DMA, GFP_DMA32, GFP_HIGHUSER_MOVABLE, GFP_KERNEL, GFP_MIGRATE_TARGET, MAX_ORDER, MT_MOVABLE,
  PAGE_ALLOC_COSTLY_ORDER, PAGEBLOCK_ORDER,
} from "./constants.js";
import { COMPACT_CONTINUE, COMPACT_SUCCESS, Compaction } from "./compaction.js";
import { Madvise } from "./madvise.js";
import { HugeCollapse, Khugepaged, type KhugepagedSettings } from "./khugepaged.js";
import { Kcompactd, type KcompactdCosts } from "./kcompactd.js";
import { PageReporting, type ReportingSettings } from "./page-reporting.js";
import { HotTruth } from "./hot-truth.js";
import { Kmmscand, KmmmigratedDaemon, KmmscandDaemon, type KmmscandSettings } from "./kmmscand.js";
import { Kpromoted, KpromotedDaemon, NUMA_NO_NODE, SRC_HWHINT, SRC_PGTSCAN, type KpromotedSettings } from "./kpromoted.js";
import { migratePageAcross } from "./migrate.js";
import { SwapWriteback } from "./swap-writeback.js";
import { NumaBalancing, NUMA_BALANCING_MEMORY_TIERING, type NumabSettings } from "./numa-balancing.js";
import type { Memcg } from "./memcg.js";
import { WMARK_HIGH, WMARK_LOW, WMARK_MIN, WMARK_PROMO } from "./buddy.js";
import { PG_ACCESSED, PG_DIRTY, PG_HEAD, PG_LRU } from "./pages.js";
import { Kagingd } from "./kagingd.js";
import { kagingdAdvance, type KagingdSteadyEnv } from "./kagingd-steady.js";
import { Kswapd, MAX_RECLAIM_RETRIES, type KswapdCosts } from "./kswapd.js";
import { LruGen, NR_SLOTS, type Lruvec, UNEVICTABLE_LI } from "./lru-gen.js";
import { MEMCG_OOM_KILL, MemcgTree } from "./memcg.js";
import { MemcgLimits } from "./memcg-limits.js";
import { allocMark, PageAllocator } from "./page-alloc.js";
import { PerCpuPages } from "./pcp.js";
import { PageArrays } from "./pages.js";
import { ProcessTable, type FaultContext, type Mm, type ThpConfig } from "./process.js";
import { Reclaim } from "./reclaim.js";
import { StateHash } from "./state-hash.js";
import { Shadows } from "./shadows.js";
import { Slub } from "./slab.js";
import { defaultMinFreeKbytes, lowmemReserve, pcpParams, setupPerZoneWmarks } from "./zone-params.js";
import { machineZones, MAX_NR_ZONES, type MachineZones, ZONE_MOVABLE, type MemoryMap, type PfnRange, type ZoneLayout } from "../machine/zones.js";
import { PG_ALLOC } from "./pages.js";

/** the gfp masks of the trace's `gfp` column values, in GFP_NAMES order (src/trace/types.ts) */
export const GFP_BY_NAME: readonly number[] = [GFP_KERNEL, GFP_KERNEL | GFP_DMA32, GFP_KERNEL | GFP_DMA, GFP_HIGHUSER_MOVABLE, GFP_ATOMIC];

/** PAGES_PER_SECTION on x86-64 (SECTION_SIZE_BITS 27) */
export const PAGES_PER_SECTION = 32768;
import { WorkingsetReport } from "./workingset-report.js";
import { PageCache } from "./pagecache.js";
import { unmapCachePage } from "./filemap.js";

/** What Memory needs from the engine. */
export interface MemoryEnv {
  now: () => number;
  swappiness: () => number;
  /** cost.reclaim_scan_ns and cost.reclaim_page_ns: what kswapd's work costs in virtual time */
  kswapdCosts: KswapdCosts;
  /** cost.compact_scan_ns and cost.migrate_ns: what kcompactd's passes cost (absent: no time) */
  kcompactdCosts?: KcompactdCosts;
  /** wsim.page_tables: faults allocate page-table pages */
  pageTables?: () => boolean;
  /** wsim.slab: VMAs allocate slab objects */
  slab?: () => boolean;
  /** vm.page-cluster (swap readahead); absent: 3 */
  pageCluster?: () => number;
  /** wsim.swap_writeback: a swap-out stays under writeback until its write ends (default false) */
  swapWriteback?: () => boolean;
  /** wsim.lru_gen_bloom: reclaim's aging walks with force_scan false (default false) */
  lruGenBloom?: () => boolean;
  /** wsim.pcp: per-cpu page lists on (default true) */
  pcp?: () => boolean;
  /** vm.percpu_pagelist_high_fraction (default 0) */
  pcpHighFraction?: () => number;
  extfragThreshold: () => number;
  proactiveness: () => number;
  /** Settings.version: changes with every tunable write */
  settingsVersion: () => number;
  reporting: ReportingSettings;
  tiering: TieringSettings;
  /** vm.dirty_* and cost.io_write_ns (pagecache.ts); absent: 6.1's defaults, 40 µs a page */
  dirty?: DirtySettings;
  /** transparent_hugepage.khugepaged.* and wsim.khugepaged (khugepaged.ts); absent: 6.1's defaults, on */
  khugepaged?: Partial<KhugepagedSettings>;
}

/** The dirty-page tunables the page cache reads. */
export interface DirtySettings {
  ratio: () => number;
  backgroundRatio: () => number;
  expireCs: () => number;
  writebackCs: () => number;
  ioWriteNs: () => number;
}

/** The promotion and demotion tunables Memory reads. */
export interface TieringSettings {
  demotion: () => boolean;
  hwSamplePeriod: () => number;
  /** wsim.hot_truth_accesses: accesses in a window that make a lower-tier page truly hot */
  hotTruthAccesses?: () => number;
  kpromoted: KpromotedSettings;
  kmmscand: KmmscandSettings;
  numab: NumabSettings;
}

/**
 * A kernel allocation by handle, packed in one number so that alloc-heavy traces allocate no
 * object per event: pfn * 16 + order, or -1 when the allocation failed.
 */
export type KernelAlloc = number;
export const KALLOC_FAILED = -1;

export class Memory {
  readonly machine: Machine;
  readonly pages: PageArrays;
  /** the zone layout the machine asked for (src/machine/zones.ts) */
  readonly layout: ZoneLayout;
  /** the layout, its RAM map and the reserved ranges */
  private readonly mz: MachineZones;
  /** every populated zone, node by node, by ascending zone index (Zone.id is the index here) */
  readonly zones: Zone[];
  /** pgdat->node_zones: each node's populated zones by ascending zone index */
  readonly nodeZones: Zone[][];
  /** pfn_valid per memory section (SECTION_SIZE_BITS 27: 32768 pages): the section holds RAM */
  readonly validSection: Uint8Array;
  readonly buddy: Buddy;
  readonly alloc: PageAllocator;
  /** the per-cpu page lists of every zone and CPU */
  readonly pcp: PerCpuPages;
  readonly procs: ProcessTable;
  /** the VMA caches (slab.ts) */
  readonly slub: Slub;
  /** event counters, indexed by V.* */
  readonly ev = new Float64Array(NR_COUNTERS);
  readonly ownerMm: Int32Array;
  readonly ownerVpn: Float64Array;
  /** kernel allocations by handle */
  readonly kallocs = new Map<string, KernelAlloc>();
  kernelPages = 0;
  /** a start state's boot owner (src/mm/start-state.ts), null without one */
  bootMm: Mm | null = null;
  readonly cpuNodes: number[];
  /** a node's CPU node for allocations made "from" it: itself if it has CPUs, else the first CPU node */
  readonly localCpu: Int32Array;
  readonly lru: LruGen;
  readonly memcgs: MemcgTree;
  /** cgroup v2 memory limits (memcg-limits.ts) */
  readonly limits: MemcgLimits;
  /** a memcg's reclaim or memory.high throttling stalled the event in progress by ns (the engine's stall meter) */
  onMemcgStall: ((ns: number) => void) | null = null;
  readonly shadows = new Shadows();
  /** true time of each page's last access (ms), for page_age_exact */
  readonly lastAccess: Float64Array;
  readonly wsr: WorkingsetReport;
  readonly reclaim: Reclaim;
  /** madvise, mlock, munlock */
  readonly madvise: Madvise;
  /** the page cache outside mappings: fread, fwrite, fsync, ftruncate, fdelete */
  readonly pageCache: PageCache;
  /** anon pages under swap writeback, and the swap device's write queue (swap-writeback.ts) */
  readonly swapWb: SwapWriteback;
  readonly kswapd: Kswapd[];
  readonly compaction: Compaction;
  readonly kcompactd: Kcompactd[];
  readonly kagingd: Kagingd;
  readonly reporting: PageReporting;
  /** the one context of the shared migration path (compaction, promotion, demotion) */
  readonly migrateCtx: MigrateContext;
  /** plugins observing promotions, or null */
  observer: MmObserver | null = null;
  /** the hotness.sample policy point: a plugin's (pfn, nid, cpu nid, now) -> sample?, or null for one in hw_sample_period */
  hotnessPolicy: ((pfn: number, nid: number, cpuNid: number, now: number) => boolean) | null = null;
  readonly kpromoted: Kpromoted;
  readonly kpromotedDaemons: KpromotedDaemon[];
  readonly kmmscand: Kmmscand;
  readonly kmmscandDaemon: KmmscandDaemon;
  readonly kmmmigratedDaemon: KmmmigratedDaemon;
  /** khugepaged and the collapse it shares with MADV_COLLAPSE */
  readonly collapser: HugeCollapse;
  readonly khugepaged: Khugepaged;
  readonly numab: NumaBalancing;
  /** the promotion ground truth, on machines with more than one tier */
  readonly hotTruth: HotTruth | null;
  /** tier of each node; the top tier is the lowest number */
  readonly tierOf: Int32Array;
  readonly topTier: number;
  /** next_demotion_node of each node (-1: none) */
  readonly demotionTarget: Int32Array;
  private hwCount = 0;
  private readonly faultCtx: FaultContext;
  /** Events replayed that may change pages (all but reads of tunables and /proc files): see kcompactd's steady. */
  stateEvents = 0;
  /** kagingd's timer due before this is not searched for a cycle (kagingdAdvance's retryAt) */
  private kagingdNoCycleBefore = 0;
  /** reports re-aggregated by reads and kagingd */
  wsrRefreshes = 0;
  /** transparent_hugepage.enabled / .defrag, kept current by the engine */
  readonly thp: ThpConfig = { enabled: "always", defrag: "madvise" };

  constructor(machine: Machine, private readonly env: MemoryEnv) {
    this.machine = machine;
    const mz = machineZones(machine);
    this.mz = mz;
    this.layout = mz.layout;
    // pfns run up to the last node's end: holes (x86's PCI hole, the first page) included
    const total = Math.max(...mz.layout.nodes.map((n) => n.nodeEndPfn));
    this.pages = new PageArrays(total);
    this.zones = [];
    this.nodeZones = mz.layout.nodes.map((n) => {
      const own: Zone[] = [];
      for (const s of n.zones) {
        if (!s.presentPages) continue;
        const z = new Zone(n.nid, s.zoneStartPfn, s.spannedPages, s.idx, s.presentPages, s.managedPages, this.zones.length);
        this.zones.push(z);
        own.push(z);
      }
      return own;
    });
    this.validSection = new Uint8Array(Math.ceil(total / PAGES_PER_SECTION));
    for (const n of mz.map.nodes)
      for (const r of n.ranges)
        for (let sec = Math.floor(r.start / PAGES_PER_SECTION); sec * PAGES_PER_SECTION < r.end; sec++) this.validSection[sec] = 1;
    this.buddy = new Buddy(this.pages, this.zones);
    const zl = machine.nodes.map((n) => zonelist(machine, n.id));
    this.alloc = new PageAllocator(this.buddy, this.nodeZones, zl, this.ev);
    this.pcp = new PerCpuPages(this.buddy, { nodeCpus: machine.nodes.map(nodeCpuCount) });
    this.pcp.enabled = env.pcp ? env.pcp() : true;
    this.alloc.pcp = this.pcp;
    this.ownerMm = new Int32Array(total);
    this.ownerVpn = new Float64Array(total);
    this.lastAccess = new Float64Array(total);
    this.lru = new LruGen(this.pages);
    this.memcgs = new MemcgTree(this.lru, machine.nodes.length);
    this.wsr = new WorkingsetReport(this.memcgs, this.lru, this.lastAccess);
    this.lru.onEvictGen = (lv, from, to) => this.wsr.recordEviction(lv, from, to);
    this.cpuNodes = cpuNodes(machine);
    this.localCpu = Int32Array.from(machine.nodes, (n) => (n.cpus ? n.id : this.cpuNodes[0]!));
    // one CPU per CPU node, as wsim runs them
    this.slub = new Slub(this.alloc, machine.nodes.length, this.cpuNodes.length);
    this.faultCtx = {
      alloc: this.alloc,
      ev: this.ev,
      ownerMm: this.ownerMm,
      ownerVpn: this.ownerVpn,
      lru: this.lru,
      shadows: this.shadows,
      lastAccess: this.lastAccess,
      onRefault: (from, to, token, type, now, pfn) => this.refault(from, to, token, type, now, pfn),
      thp: this.thp,
      onAccess: null,
      onMmCreate: (mm, now) => {
        this.kmmscand.register(mm, now);
        this.numab.register(mm, now);
      },
      onMmExit: (mm) => {
        this.kmmscand.exit(mm);
        this.numab.exit(mm);
        this.khugepaged.exit(mm);
      },
      onHugeFault: (mm, vma) => this.khugepaged.enterVma(mm, vma),
      onHintFault: (mm, pfn, cpu, now) => this.numab.hintFault(mm, pfn, cpu, now),
      pageTables: env.pageTables ?? (() => true),
      slub: this.slub,
      slab: env.slab ?? (() => true),
      pageCluster: env.pageCluster,
      // mem_cgroup_charge -> try_charge_memcg (memcg-limits.ts)
      charge: (mm, nr, canBlock, noRetry) => this.limits.tryCharge(mm.memcg, nr, canBlock, noRetry),
    };
    this.shadows.swapTotal = swapPages(machine);
    this.procs = new ProcessTable(this.faultCtx);
    // the MGLRU page-table walk's reverse map (lru-gen.ts planWalk, lookAround)
    const procs = this.procs;
    this.lru.walkMap = { ownerMm: this.ownerMm, ownerVpn: this.ownerVpn, mm: (slot) => procs.bySlot.get(slot), nextSlot: () => procs.slotsGiven };
    this.swapWb = new SwapWriteback(this.pages.nrPages, {
      lru: this.lru,
      ev: this.ev,
      ioWriteNs: env.dirty?.ioWriteNs ?? (() => 40000),
      now: env.now,
    });
    this.procs.swapWb = this.swapWb;
    this.alloc.swapWb = this.swapWb;
    this.reclaim = new Reclaim({
      alloc: this.alloc,
      lru: this.lru,
      procs: this.procs,
      shadows: this.shadows,
      ev: this.ev,
      flags: this.pages.flags,
      mflags: this.pages.mflags,
      lruvecsOn: (nid) => this.memcgs.lruvecsByNode[nid]!,
      swappiness: env.swappiness,
      age: (lv) => this.age(lv, true),
      demote: (pfn, kswapd) => this.demote(pfn, kswapd),
      canDemote: (nid) => this.env.tiering.demotion() && this.demotionTarget[nid]! >= 0,
      sortFile: (lv, pfn) => this.pageCache.sortFolio(lv, pfn),
      swapWb: () => (env.swapWriteback !== undefined && env.swapWriteback() ? this.swapWb : null),
      now: env.now,
    });
    this.limits = new MemcgLimits({
      memcgs: this.memcgs,
      reclaim: this.reclaim,
      nrNodes: machine.nodes.length,
      outOfMemory: (memcg, totalpages) =>
        outOfMemory({ procs: this.procs, ev: this.ev, totalram: () => this.totalramPages(), totalSwap: () => this.shadows.swapTotal, now: env.now, onKill: (v) => v.memcg.event(MEMCG_OOM_KILL) }, memcg, totalpages),
      totalSwap: () => this.shadows.swapTotal,
      freeSwap: () => this.shadows.nrSwapPages,
      swappiness: env.swappiness,
      cpu: () => this.alloc.cpu,
      currentExited: () => this.procs.current !== null && this.procs.current.exited,
      stall: (ns) => this.onMemcgStall?.(ns),
      reclaimScanNs: env.kswapdCosts.reclaimScan,
      reclaimPageNs: env.kswapdCosts.reclaimPage,
    });
    this.reclaim.memcg = this.limits;
    // the swap page_counter of each memcg (__mem_cgroup_try_charge_swap / __mem_cgroup_uncharge_swap)
    this.shadows.onSwap = (lvId, d) => ((this.lru.lruvecs[lvId]!.owner as Memcg).swapLocal += d);
    const dirty = env.dirty;
    this.pageCache = new PageCache({
      alloc: this.alloc,
      lru: this.lru,
      shadows: this.shadows,
      pages: this.pages,
      ev: this.ev,
      ownerMm: this.ownerMm,
      ownerVpn: this.ownerVpn,
      lastAccess: this.lastAccess,
      onRefault: (from, to, token, now, pfn, fault) => this.refault(from, to, token, 1, now, pfn, fault),
      rootMemcg: () => this.memcgs.root,
      dirtyRatio: dirty?.ratio ?? (() => 20),
      dirtyBackgroundRatio: dirty?.backgroundRatio ?? (() => 10),
      dirtyExpireCs: dirty?.expireCs ?? (() => 3000),
      dirtyWritebackCs: dirty?.writebackCs ?? (() => 500),
      ioWriteNs: dirty?.ioWriteNs ?? (() => 40000),
      now: env.now,
    });
    this.procs.pageCache = this.pageCache;
    this.pageCache.unmap = (pfn) => unmapCachePage(this.procs, pfn);
    this.collapser = new HugeCollapse({ procs: this.procs, lru: this.lru, pages: this.pages, ev: this.ev, nrNodes: machine.nodes.length });
    const kh = env.khugepaged ?? {};
    this.khugepaged = new Khugepaged(this.collapser, this.ev, {
      on: kh.on ?? (() => true),
      enabled: kh.enabled ?? (() => this.thp.enabled),
      scanSleepMs: kh.scanSleepMs ?? (() => 10000),
      allocSleepMs: kh.allocSleepMs ?? (() => 60000),
      pagesToScan: kh.pagesToScan ?? (() => 4096),
      maxPtesNone: kh.maxPtesNone ?? (() => 511),
      maxPtesSwap: kh.maxPtesSwap ?? (() => 64),
      maxPtesShared: kh.maxPtesShared ?? (() => 256),
      defrag: kh.defrag ?? (() => true),
      cpuNid: kh.cpuNid ?? (() => this.cpuNodes[0]!),
    }, env.kcompactdCosts ?? null);
    this.madvise = new Madvise({
      procs: this.procs, lru: this.lru, reclaim: this.reclaim, pages: this.pages, ev: this.ev, collapser: this.collapser,
      onHugepage: (mm, vma) => this.khugepaged.enterVma(mm, vma, true, false),
    });
    this.kswapd = this.nodeZones.map((zs, nid) => new Kswapd(nid, zs, this.buddy, this.reclaim, this.ev, env.kswapdCosts));
    // ZONE_RECLAIM_ACTIVE: set_reclaim_active while balance_pgdat runs on the zone's node
    this.pcp.reclaimActive = (z) => this.kswapd[z.nid]!.running;
    this.migrateCtx = {
      pages: this.pages,
      ownerMm: this.ownerMm,
      ownerVpn: this.ownerVpn,
      lastAccess: this.lastAccess,
      lru: this.lru,
      procs: this.procs,
      ev: this.ev,
      onMove: (src: number, dst: number) => this.numab.moved(src, dst),
      observer: null,
      nodeOf: (pfn: number) => this.alloc.zoneOf(pfn).nid,
    };
    this.compaction = new Compaction(
      this.alloc,
      this.migrateCtx,
      {
        extfragThreshold: env.extfragThreshold,
        proactiveness: env.proactiveness,
        kswapdRunning: (nid) => this.kswapd[nid]!.running,
        now: env.now,
      },
    );
    this.kcompactd = this.nodeZones.map(
      (zs, nid) => new Kcompactd(nid, zs, this.compaction, this.ev, env.proactiveness, () => this.kswapd[nid]!.running, () => this.compactionFingerprint(), env.settingsVersion, () => this.stateEvents, () => this.buddy.listChanges, env.kcompactdCosts ?? null),
    );
    for (const k of this.kswapd) {
      const kc = this.kcompactd[k.nid]!;
      k.onSleep = (order, hz) => {
        // reset_isolation_suitable(pgdat): every zone of the node whose skip bits wait for a flush
        for (const z of k.zones) {
          const zc = this.compaction.zones[z.id]!;
          if (zc.blockskipFlush) this.compaction.resetIsolationSuitable(zc);
        }
        kc.wakeup(order, hz);
      };
      k.onBalancedWake = (order, gfp, hz) => {
        if (!(gfp & GFP_DIRECT_RECLAIM)) kc.wakeup(order, hz);
      };
      k.onBoostedPass = (hz) => kc.wakeup(PAGEBLOCK_ORDER, hz);
    }
    this.alloc.hooks.directCompact = (order, mt, flags, zl, prio, hz) => this.compaction.directCompact(order, mt, flags, zl, prio, hz);
    this.reporting = new PageReporting(this.buddy, this.ev, env.reporting);
    this.buddy.hooks.notifyFree = (z, order) => this.reporting.notifyFree(z, order);
    this.buddy.hooks.reportedTaken = (_z, _pfn, order, merging) => {
      if (!merging) this.ev[V.wsim_reported_reallocated]! += 2 ** order;
    };

    // tiers: promotion (kpromoted, kmmscand), demotion, and the ground truth
    this.tierOf = Int32Array.from(machine.nodes, (n) => n.tier);
    this.topTier = Math.min(...machine.nodes.map((n) => n.tier));
    this.demotionTarget = Int32Array.from(machine.nodes, (n) => zl[n.id]!.find((d) => machine.nodes[d]!.tier > n.tier) ?? -1);
    const t = env.tiering;
    const nodeOf = (pfn: number) => this.alloc.zoneOf(pfn).nid;
    const isTop = (nid: number) => this.tierOf[nid] === this.topTier;
    this.kpromoted = new Kpromoted({
      ev: this.ev,
      now: env.now,
      ...t.kpromoted,
      nodeOf,
      isTopTier: isTop,
      isLru: (pfn) => this.isMigratable(pfn),
      promote: (pfn, nid) => this.promote(pfn, nid, "kpromoted"),
    });
    this.kpromotedDaemons = this.cpuNodes.map((nid) => new KpromotedDaemon(nid, this.kpromoted, t.kpromoted.delayMs, t.kpromoted.enabled, this.ev, env.kcompactdCosts ?? null));
    this.kmmscand = new Kmmscand({
      ev: this.ev,
      pages: this.pages,
      procs: this.procs,
      ...t.kmmscand,
      nodeOf,
      isTopTier: isTop,
      topTierNodes: machine.nodes.filter((n) => n.tier === this.topTier).map((n) => n.id),
      record: (pfn) => this.kpromoted.recordAccess(pfn, NUMA_NO_NODE, SRC_PGTSCAN, env.now()),
      promote: (pfn, nid) => this.promote(pfn, nid, "kmmscand"),
    });
    this.kmmscandDaemon = new KmmscandDaemon(this.kmmscand, t.kmmscand.scanSleepMs, env.kcompactdCosts ?? null);
    this.kmmmigratedDaemon = new KmmmigratedDaemon(this.kmmscand, t.kmmscand.migrateSleepMs, t.kmmscand.enabled, this.ev, env.kcompactdCosts ?? null);
    const tiered = machine.nodes.some((n) => n.tier !== this.topTier);
    this.hotTruth = tiered
      ? new HotTruth(this.pages, (pfn) => !isTop(nodeOf(pfn)), t.kpromoted.windowMs, (pfn) => this.procs.hugeHead(pfn), t.hotTruthAccesses)
      : null;
    this.numab = new NumaBalancing({
      ev: this.ev,
      pages: this.pages,
      procs: this.procs,
      buddy: this.buddy,
      nodeZones: this.nodeZones,
      ...t.numab,
      nodeOf,
      isTopTier: isTop,
      cpuNodeOf: (nid) => this.localCpu[nid]!,
      vpnOf: (pfn) => this.ownerVpn[pfn]!,
      migrate: (pfn, nid) => this.migrateMisplaced(pfn, nid),
    });
    if (tiered) {
      const truth = this.hotTruth!;
      this.alloc.onFree = (pfn, order) => {
        truth.forget(pfn, 2 ** order);
        this.numab.forget(pfn, 2 ** order);
      };
      this.faultCtx.onAccess = (pfn, cpu, now) => {
        truth.access(pfn, now);
        const pol = this.hotnessPolicy;
        if (pol === null) {
          const period = t.hwSamplePeriod();
          if (period && !isTop(nodeOf(pfn)) && ++this.hwCount >= period) {
            this.hwCount = 0;
            this.kpromoted.recordAccess(pfn, cpu, SRC_HWHINT, now);
          }
        } else if (!isTop(nodeOf(pfn)) && pol(pfn, nodeOf(pfn), cpu, now)) this.kpromoted.recordAccess(pfn, cpu, SRC_HWHINT, now);
      };
    }
    this.alloc.hooks.compactResult = () => this.compaction.lastResult;
    this.kagingd = new Kagingd(
      this.memcgs,
      machine.nodes.length,
      (id, nid) => this.refreshReport(id, nid),
      (due) => this.kagingdSteady(due),
    );
    this.alloc.hooks.wakeKswapd = (z, order, gfp, hz) => this.kswapd[z.nid]!.wake(order, gfp, hz);
    this.alloc.hooks.directReclaim = (order, mt, flags, zl, hz) => this.directReclaim(order, mt, flags, zl, hz);
    // __alloc_pages_may_oom -> out_of_memory (oom-kill.ts); memcg OOM (item 5) passes its memcg
    this.alloc.hooks.outOfMemory = () =>
      outOfMemory({
        procs: this.procs,
        ev: this.ev,
        totalram: () => this.totalramPages(),
        totalSwap: () => this.shadows.swapTotal,
        now: env.now,
        // memcg_memory_event_mm(victim, MEMCG_OOM_KILL)
        onKill: (v) => v.memcg.event(MEMCG_OOM_KILL),
      });
    // memmap_init: every page starts reserved (allocated to nobody); memblock_free_all frees RAM
    this.pages.flags.fill(PG_ALLOC);
    for (const z of this.zones) this.freeBootMemory(z, mz.map, mz.reserved);
  }

  /**
   * memblock_free_all -> __free_pages_memory: hand each node's range to the buddy allocator
   * in the largest aligned blocks, FPI_TO_TAIL, ascending pfn. Boot frees are not counted
   * in pgfree: counters start at zero after boot.
   */
  private freeBootMemory(z: Zone, map: MemoryMap, reserved: readonly PfnRange[]): void {
    const ranges = map.nodes[z.nid]!.ranges;
    for (const r of ranges) {
      // the RAM of this range inside the zone, minus memblock.reserved (free_low_memory_core_early)
      let pieces: PfnRange[] = [{ start: Math.max(r.start, z.start), end: Math.min(r.end, z.end) }];
      for (const h of reserved)
        pieces = pieces.flatMap((p) => {
          if (h.end <= p.start || h.start >= p.end) return [p];
          const out: PfnRange[] = [];
          if (h.start > p.start) out.push({ start: p.start, end: h.start });
          if (h.end < p.end) out.push({ start: h.end, end: p.end });
          return out;
        });
      for (const p of pieces) if (p.end > p.start) this.freeBootRange(z, p.start, p.end);
    }
  }

  /** __free_pages_memory: [start, end) in the largest naturally aligned blocks, ascending. */
  private freeBootRange(z: Zone, start: number, end: number): void {
    this.pages.flags.fill(0, start, end);
    let s = start;
    while (s < end) {
      let order = s === 0 ? MAX_ORDER - 1 : Math.min(MAX_ORDER - 1, ctz(s));
      while (s + (1 << order) > end) order--;
      this.buddy.freeOnePage(z, s, order, this.pages.pageblockMt(s), FPI_TO_TAIL);
      s += 1 << order;
    }
  }

  /** pfn_valid: the pfn's memory section holds RAM (pagetypeinfo's block counts skip the others). */
  pfnValid(pfn: number): boolean {
    return this.validSection[Math.floor(pfn / PAGES_PER_SECTION)] === 1;
  }

  /** What the --check mapping invariants look at. */
  mappingView(): MappingView {
    return {
      buddy: this.buddy,
      ownerMm: this.ownerMm,
      ownerVpn: this.ownerVpn,
      lru: this.lru,
      procs: this.procs,
      shadowsInUse: this.shadows.inUse,
      swapType: (e) => this.shadows.type[e] === 0,
      swapUsed: this.shadows.swapUsed,
      swapTotal: this.shadows.swapTotal,
      reportingOrder: this.reporting.lowestOrderReported,
      isolated: this.reporting.inFlight,
      protNone: this.numab.protNone,
      managed: this.managedMap(),
      slub: this.slub,
      pcp: this.pcp,
      pageCache: this.pageCache,
      swapWb: this.swapWb,
    };
  }

  private managedPfns: Uint8Array | null | undefined;
  /**
   * 1 for every pfn of managed RAM (what memblock_free_all freed at boot), for --check; null
   * when every pfn is (a flat machine). Built on first use: O(pages) bytes.
   */
  managedMap(): Uint8Array | null {
    if (this.managedPfns !== undefined) return this.managedPfns;
    if (this.zones.every((z) => z.managed === z.end - z.start)) return (this.managedPfns = null);
    const m = new Uint8Array(this.pages.nrPages);
    for (const n of this.mz.map.nodes)
      for (const r of n.ranges) m.fill(1, r.start, r.end);
    for (const r of this.mz.reserved) m.fill(0, r.start, r.end);
    return (this.managedPfns = m);
  }

  /** A mapped order-0 LRU page, which migration can move. */
  isMigratable(pfn: number): boolean {
    const f = this.pages.flags[pfn]!;
    return (f & PG_LRU) !== 0 && (f & PG_HEAD) !== 0 && this.pages.order[pfn] === 0 && this.ownerMm[pfn] !== 0;
  }

  /**
   * A write of kernel.numa_balancing (and its value at boot): NUMA balancing's page state, a
   * free hook on machines of one tier (tiered ones have it already), kswapd's PROMO mark.
   */
  numabModeChanged(old: number, now: number): void {
    this.numab.modeChanged(old, now);
    // pgdat_balanced with the tiering bit set: WMARK_PROMO on every node
    for (const k of this.kswapd) k.promoMark = (this.env.tiering.numab.mode() & NUMA_BALANCING_MEMORY_TIERING) !== 0;
    if (this.env.tiering.numab.mode() && !this.alloc.onFree) this.alloc.onFree = (pfn, order) => this.numab.forget(pfn, 2 ** order);
  }

  /** The built-in hotness.sample: one access in every `period` (hotness.hw_sample_period; 0: none). */
  hwSampleBuiltin(period: number): boolean {
    if (period && ++this.hwCount >= period) {
      this.hwCount = 0;
      return true;
    }
    return false;
  }

  /** The new pfn of the last successful promote(), or -1. */
  private lastDst = -1;

  /**
   * migrate_misplaced_page for NUMA balancing's hint faults: promote(), and in tiering mode a
   * target that is not balanced gets its kswapd woken (numamigrate_isolate_page). Returns the
   * new pfn or -1.
   */
  private migrateMisplaced(pfn: number, nid: number): number {
    this.lastDst = -1;
    if (this.promote(pfn, nid, "numa_balancing")) return this.lastDst;
    if (this.env.tiering.numab.mode() & NUMA_BALANCING_MEMORY_TIERING && this.isMigratable(pfn) && !this.migrateBalanced(nid, 1))
      this.kswapd[nid]!.wake(0, 0, ZONE_MOVABLE);
    return -1;
  }

  /**
   * migrate_balanced_pgdat: some populated zone of the node, from the highest down, has its
   * high watermark plus `nrPages` free (zone_watermark_ok at highest_zoneidx ZONE_MOVABLE, so
   * with lowmem_reserve[ZONE_MOVABLE]).
   */
  migrateBalanced(nid: number, nrPages: number): boolean {
    const zs = this.nodeZones[nid]!;
    for (let i = zs.length - 1; i >= 0; i--) {
      const z = zs[i]!;
      if (this.buddy.zoneWatermarkOk(z, 0, z.mark(WMARK_HIGH) + nrPages + z.lowmemReserve[ZONE_MOVABLE]!, z.freePages)) return true;
    }
    return false;
  }

  /**
   * migrate_misplaced_folio to node nid: the target must be balanced (free above its high
   * watermark plus the page: migrate_balanced_pgdat, else wsim_promote_unbalanced); the new
   * page comes from that node only, without reclaim. Counts numa_pages_migrated and, from a
   * lower tier to the top, pgpromote_success.
   */
  promote(pfn: number, nid: number, who: string): boolean {
    if (!this.isMigratable(pfn)) return false;
    const from = this.alloc.zoneOf(pfn).nid;
    if (from === nid) return false;
    if (!this.migrateBalanced(nid, 1)) {
      this.ev[V.wsim_promote_unbalanced]!++;
      return false;
    }
    const dst = this.alloc.allocPages(0, MT_MOVABLE, GFP_MIGRATE_TARGET, nid, nid);
    if (dst < 0) return false;
    const lv = (this.lru.lruvecOfPfn(pfn)!.owner as Memcg).lruvecs[nid]!;
    const promotion = this.tierOf[from] !== this.topTier && this.tierOf[nid] === this.topTier;
    // before the source page is freed (which forgets its window's accesses)
    if (promotion) this.hotTruth?.promotedPage(pfn, dst, this.env.now(), who);
    migratePageAcross(this.migrateCtx, pfn, dst, lv);
    this.alloc.freePages(pfn, 0);
    this.lastDst = dst;
    this.ev[V.numa_pages_migrated]!++;
    if (promotion) {
      this.ev[V.pgpromote_success]!++;
      if (this.observer !== null) this.observer.promote(pfn, dst, from, nid, who);
    }
    return true;
  }

  /**
   * demote_folio_list for one page: with numa.demotion_enabled, reclaim moves a cold page to
   * its node's next_demotion_node (a page from there only, no reclaim) instead of evicting it.
   */
  private demote(pfn: number, kswapd: boolean): boolean {
    if (!this.env.tiering.demotion() || !this.isMigratable(pfn)) return false;
    const from = this.alloc.zoneOf(pfn).nid;
    const target = this.demotionTarget[from]!;
    if (target < 0) return false;
    const dst = this.alloc.allocPages(0, MT_MOVABLE, GFP_MIGRATE_TARGET, target, target);
    if (dst < 0) return false;
    const lv = (this.lru.lruvecOfPfn(pfn)!.owner as Memcg).lruvecs[target]!;
    migratePageAcross(this.migrateCtx, pfn, dst, lv);
    this.alloc.freePages(pfn, 0);
    this.ev[kswapd ? V.pgdemote_kswapd : V.pgdemote_direct]!++;
    return true;
  }

  /**
   * try_to_inc_max_seq of one lruvec, feeding the reaccess histograms: force_scan for the
   * workingset report's refresh, not for reclaim's aging (`reclaim`: lru_gen_age_node, the
   * eviction path) under wsim.lru_gen_bloom=1. Returns the pages the walk moved out of their
   * type's oldest generation.
   */
  age(lv: Lruvec, reclaim = false): number {
    this.swapWb.completeUpTo(this.env.now()); // the rotations due before the walk
    // wsim.lru_gen_bloom=1: the walk follows page tables (Bloom filters, should_skip_mm), with
    // force_scan for the report's refresh only; 0: every page is visited
    const tables = this.env.lruGenBloom?.() ?? false;
    return this.lru.age(lv, this.env.now(), (l, type, seq, moved, now) => this.wsr.walkReaccess(l, type, seq, moved, now), !(reclaim && tables), tables);
  }

  /** kagingd's passes at a steady state from its timer's due time (kagingdAdvance), or null */
  private kagingdSteady(due: number): SteadyAdvance | null {
    if (due < this.kagingdNoCycleBefore) return null;
    const env: KagingdSteadyEnv = {
      tree: this.memcgs,
      nrNodes: this.machine.nodes.length,
      lru: this.lru,
      aggregate: (w, subtree, nid, now) => this.wsr.aggregate(w, subtree, nid, now),
      count: (passes, refreshes) => {
        this.kagingd.wakeups += passes;
        this.kagingd.refreshes += refreshes;
        this.wsrRefreshes += refreshes;
      },
      // no search again before ticking has caught up with where the last one said
      retryAt: (t) => (this.kagingdNoCycleBefore = t),
    };
    return kagingdAdvance(env, due);
  }

  /** wsr_refresh_report of memcg `id` on node nid, counting re-aggregations. */
  refreshReport(id: number, nid: number): boolean {
    const did = this.wsr.refresh(this.memcgs.all[id]!, nid, this.env.now(), { age: (lv) => this.age(lv) });
    if (did) this.wsrRefreshes++;
    return did;
  }

  /**
   * A fault brought back a page evicted from lruvec `from` into `to`. Recognised as 6.1's
   * lru_gen_refault does (same memcg and node, evicted from the current oldest generation):
   * workingset_refault, and workingset_activate and _restore (it re-enters the youngest
   * generation, in a fault). The reaccess histogram hears of it whenever memcg and node match.
   * With lru_gen.enabled=0, the two-list LRU's workingset_refault (lru-two-list.ts) instead.
   */
  private refault(from: Lruvec, to: Lruvec, token: number, type: number, now: number, pfn: number, fault = true): void {
    if (this.lru.classic) return this.reclaim.twoList.refault(from, to, token, type, pfn);
    if (from !== to) return;
    if (token === to.minSeq[type]) {
      const anon = type === 0;
      this.ev[anon ? V.workingset_refault_anon : V.workingset_refault_file]!++;
      // a read() refault (no in_lru_fault): neither activated nor restored (KERNEL-REFERENCE-2 §7.1)
      if (fault) {
        this.ev[anon ? V.workingset_activate_anon : V.workingset_activate_file]!++;
        this.ev[anon ? V.workingset_restore_anon : V.workingset_restore_file]!++;
      }
      to.refaulted[type]!++;
    }
    this.wsr.refaultReaccess(to, token, type, now);
  }

  /**
   * The slow path's direct reclaim and retry (__alloc_pages_direct_reclaim,
   * should_reclaim_retry): reclaim, retry at the min watermark; a costly order gives up after
   * one try; else again while should_reclaim_retry says so: reclaim made progress (which resets
   * no_progress_loops) or has failed at most MAX_RECLAIM_RETRIES (16) times in a row, and some
   * eligible zone would pass its min watermark with all its reclaimable pages freed. (6.1's
   * retry also wakes kswapd and retries direct compaction on the way: wsim's loop does neither.)
   */
  private directReclaim(order: number, mt: number, allocFlags: number, zl: readonly Zone[], hz: number): number {
    // shrink_zones: the nodes of the eligible zones, once each, in zonelist order
    const nodes: number[] = [];
    for (const z of zl) if (z.idx <= hz && !nodes.includes(z.nid)) nodes.push(z.nid);
    // should_abort_scan's test for a direct reclaimer: every eligible zone of the node above its low mark
    const aboveLow = (nid: number) => {
      for (const z of this.nodeZones[nid]!) {
        if (z.idx > hz) break;
        if (z.managed && !this.buddy.zoneWatermarkOk(z, order, z.mark(WMARK_LOW) + z.lowmemReserve[hz]!, z.freePages)) return false;
      }
      return true;
    };
    // shrink_zones' compaction_ready for order > 3: a zone compaction can now succeed in
    const compactionReady = () =>
      order > PAGE_ALLOC_COSTLY_ORDER &&
      zl.some((z) => {
        if (z.idx > hz) return false;
        const r = this.compaction.suitable(z, order, 0, hz);
        return r === COMPACT_SUCCESS || (r === COMPACT_CONTINUE && this.buddy.zoneWatermarkOk(z, 0, z.mark(WMARK_HIGH) + (2 << order) + z.lowmemReserve[hz]!, z.freePages));
      });
    let noProgressLoops = 0;
    for (;;) {
      const got = this.reclaim.directReclaim(nodes, aboveLow, compactionReady, hz);
      if (got) for (const nid of nodes) this.kswapd[nid]!.failures = 0;
      // __alloc_pages_direct_reclaim: no progress, no retry; else one drain_all_pages(NULL)
      // (after unreserve_highatomic_pageblock, which wsim has no reserve for) if the first try fails
      let pfn = this.alloc.getPageFromFreelist(order, allocFlags, zl, mt, hz);
      if (pfn < 0 && got && this.pcp.enabled) {
        this.pcp.drainAll(null);
        pfn = this.alloc.getPageFromFreelist(order, allocFlags, zl, mt, hz);
      }
      if (pfn >= 0) return pfn;
      if (order > PAGE_ALLOC_COSTLY_ORDER) return -1;
      // should_reclaim_retry
      if (got) noProgressLoops = 0;
      else if (++noProgressLoops > MAX_RECLAIM_RETRIES) return -1;
      if (!this.reclaimMayHelp(order, allocFlags, zl, hz)) return -1;
    }
  }

  /**
   * should_reclaim_retry's zone test: would some zone of the zonelist at or below hz pass its
   * min watermark (with allocFlags' ALLOC_HIGH/ALLOC_HARDER cuts and lowmem_reserve[hz], as
   * __zone_watermark_ok) if every reclaimable page of it were free: free pages +
   * zone_reclaimable_pages (its file LRU pages, and its anon ones while swap has room or the
   * node can demote: can_reclaim_anon_pages).
   */
  private reclaimMayHelp(order: number, allocFlags: number, zl: readonly Zone[], hz: number): boolean {
    for (const z of zl) {
      if (z.idx > hz || !z.managed) continue;
      const mark = allocMark(z, WMARK_MIN, allocFlags, hz);
      const anon = this.shadows.nrSwapPages > 0 || (this.env.tiering.demotion() && this.demotionTarget[z.nid]! >= 0);
      if (this.buddy.zoneWatermarkOk(z, order, mark, z.freePages + this.zoneReclaimablePages(z, anon))) return true;
    }
    return false;
  }

  /**
   * zone_reclaimable_pages: the zone's pages on the LRU lists of every lruvec of its node (file
   * always, anon when `anon`), unevictable ones not counted. Walks the lists (O(LRU pages of
   * the node)): only should_reclaim_retry asks, after a direct reclaim.
   */
  zoneReclaimablePages(z: Zone, anon: boolean): number {
    const lru = this.lru;
    let n = 0;
    for (const lv of lru.lruvecs) {
      if (lv.nid !== z.nid) continue;
      for (let li = anon ? 0 : NR_SLOTS; li < 2 * NR_SLOTS; li++) {
        for (let pfn = lv.head[li]!; pfn >= 0; pfn = lru.next[pfn]!) if (pfn >= z.start && pfn < z.end) n += lru.nrOf(pfn);
      }
    }
    return n;
  }

  /** managed pages per zone index (MAX_NR_ZONES), per node: the input of zone-params.ts */
  managedByNode(): number[][] {
    return this.nodeZones.map((zs) => {
      const m = new Array<number>(MAX_NR_ZONES).fill(0);
      for (const z of zs) m[z.idx] = z.managed;
      return m;
    });
  }

  /**
   * setup_per_zone_wmarks with min_free_kbytes and watermark_scale_factor (every zone's
   * _watermark[] from __setup_per_zone_wmarks, boost cleared).
   */
  setWatermarks(minFreeKbytes: number, scaleFactor: number): void {
    const w = setupPerZoneWmarks(this.managedByNode(), minFreeKbytes, scaleFactor);
    for (const z of this.zones) {
      const m = w[z.nid]![z.idx]!;
      z.wmark[WMARK_MIN] = m.min;
      z.wmark[WMARK_LOW] = m.low;
      z.wmark[WMARK_HIGH] = m.high;
      z.wmark[WMARK_PROMO] = m.promo;
      z.watermarkBoost = 0;
    }
    this.updatePcp();
  }

  /**
   * zone_pcp_update after a watermark setup (and a write of vm.percpu_pagelist_high_fraction):
   * every zone's pcp high and batch from zone-params.ts pcpParams (zone_batchsize,
   * zone_highsize over the CPUs of the zone's node, with the low mark just set).
   */
  updatePcp(): void {
    const fraction = this.env.pcpHighFraction ? this.env.pcpHighFraction() : 0;
    const pcp = this.pcp;
    for (const z of this.zones) {
      const r = pcpParams({ managed: z.managed, lowWmark: z.mark(WMARK_LOW), nodeCpus: pcp.nodeCpus[z.nid]!, onlineCpus: pcp.nrCpus, fraction });
      pcp.setHighBatch(z.id, r.high, r.batch);
    }
  }

  /** A write of wsim.pcp: off drains every pcp list (as zone_pcp_disable) and bypasses them from then on. */
  setPcpEnabled(on: boolean): void {
    if (!on && this.pcp.enabled) this.pcp.drainAll(null);
    this.pcp.enabled = on;
  }

  /**
   * setup_per_zone_lowmem_reserve with vm.lowmem_reserve_ratio (MAX_NR_ZONES integers): each
   * zone's lowmem_reserve[] from the managed pages of the zones above it on its node.
   */
  setLowmemReserve(ratio: readonly number[]): void {
    const managed = this.managedByNode();
    for (let nid = 0; nid < this.nodeZones.length; nid++) {
      const r = lowmemReserve(managed[nid]!, ratio);
      for (const z of this.nodeZones[nid]!) z.lowmemReserve.set(r[z.idx]!);
    }
  }

  /** The default vm.min_free_kbytes (zone-params.ts defaultMinFreeKbytes over every zone). */
  defaultMinFreeKbytes(thpEnabled: boolean, scaleFactor: number): number {
    return defaultMinFreeKbytes(this.managedByNode(), thpEnabled, scaleFactor);
  }

  /**
   * A kernel allocation (an `alloc` event) of 2^order pages of migratetype mt preferring node
   * prefNid, from a CPU of node cpuNid (default its local CPU node; the CPU itself is alloc.cpu); `gfp` indexes GFP_BY_NAME (the trace's `gfp`
   * column: 0 kernel, 1 dma32, 2 dma, 3 highuser_movable, 4 atomic).
   */
  kalloc(order: number, mt: number, prefNid: number, gfp = 0, cpuNid = this.localCpu[prefNid]!): KernelAlloc {
    const pfn = this.alloc.allocPages(order, mt, GFP_BY_NAME[gfp]!, prefNid, cpuNid);
    if (pfn < 0) {
      this.ev[V.wsim_alloc_fail]!++;
      return KALLOC_FAILED;
    }
    this.kernelPages += 1 << order;
    return pfn * 16 + order;
  }

  kfree(a: KernelAlloc): void {
    if (a === KALLOC_FAILED) return;
    const order = a % 16;
    this.alloc.freePages((a - order) / 16, order);
    this.kernelPages -= 1 << order;
  }

  /**
   * A 64-bit fingerprint (16 hex digits) of the state a compaction pass that migrates no page
   * reads or writes (compaction.ts: isolate_migratepages_block, isolate_freepages,
   * release_freepages, the scanners' caches and defer fields): the buddy links, orders and
   * free-list migratetypes of every pfn, page flags but for the accessed and dirty bits (which
   * accesses and the scanners flip and compaction does not read), pageblock migratetypes, every
   * zone's free lists, counts, marks and boost, compaction's cached scanners, defer fields and
   * skip bits, and which mm owns each page. Not the LRU lists or lruvecs (kagingd's aging
   * moves them; isolation here is a list of pfns that leaves the LRU as it is), nor counters.
   * O(pages); see state-hash.ts for its one use.
   */
  compactionFingerprint(): string {
    const h = new StateHash();
    const p = this.pages;
    h.array(p.next).array(p.prev).array(p.order).maskedBytes(p.flags, ~(PG_ACCESSED | PG_DIRTY) & 0xff).array(p.listMt).array(p.pbMt);
    h.array(p.top.next).array(p.top.prev).array(p.topMt);
    for (const z of this.buddy.zones) {
      h.array(z.head).array(z.tail).array(z.nrFree).array(z.nrFreeMt).array(z.boundary).array(z.reported).array(z.wmark);
      h.numbers(z.freePages, z.watermarkBoost, z.boosted ? 1 : 0, z.managed);
    }
    const pcp = this.pcp;
    h.array(pcp.head).array(pcp.tail).array(pcp.count).array(pcp.freeFactor).array(pcp.high).array(pcp.batch);
    h.numbers(pcp.enabled ? 1 : 0);
    const c = this.compaction;
    h.array(c.skip);
    for (const zc of c.zones)
      h.numbers(...zc.cachedMigrate, zc.cachedFree, zc.initMigrate, zc.initFree, zc.considered, zc.deferShift, zc.orderFailed, zc.blockskipFlush ? 1 : 0);
    h.array(this.ownerMm);
    h.numbers(this.kernelPages);
    return h.digest();
  }

  /** totalram_pages(): the managed pages of every zone */
  totalramPages(): number {
    let s = 0;
    for (const z of this.zones) s += z.managed;
    return s;
  }

  freePages(): number {
    let s = 0;
    for (const z of this.zones) s += z.freePages;
    return s;
  }

  /** Counters with the gauges filled in from the current state, in COUNTER_NAMES order. */
  vmstat(): Float64Array {
    const v = Float64Array.from(this.ev);
    const anon = this.procs.nrAnon;
    const file = this.procs.nrFile;
    v[V.nr_free_pages] = this.freePages();
    // MGLRU's active/inactive split: the two youngest generations are active
    let aa = 0;
    let ai = 0;
    let fa = 0;
    let fi = 0;
    for (const lv of this.lru.lruvecs) {
      const [a, b, c, d] = this.lru.activeInactive(lv);
      aa += a;
      ai += b;
      fa += c;
      fi += d;
    }
    v[V.nr_zone_active_anon] = v[V.nr_active_anon] = aa;
    v[V.nr_zone_inactive_anon] = v[V.nr_inactive_anon] = ai;
    v[V.nr_zone_active_file] = v[V.nr_active_file] = fa;
    v[V.nr_zone_inactive_file] = v[V.nr_inactive_file] = fi;
    v[V.nr_anon_pages] = anon;
    // the unevictable lists (LRU_UNEVICTABLE) and PG_mlocked pages
    let unevictable = 0;
    for (const lv of this.lru.lruvecs) unevictable += lv.count[UNEVICTABLE_LI]!;
    v[V.nr_unevictable] = v[V.nr_zone_unevictable] = unevictable;
    v[V.nr_mlock] = this.procs.nrMlock;
    v[V.nr_anon_transparent_hugepages] = this.procs.nrThp;
    v[V.nr_page_table_pages] = this.procs.nrPageTables;
    v[V.nr_slab_unreclaimable] = this.slub.pages;
    v[V.nr_mapped] = file + this.pageCache.nrMapped;
    v[V.nr_file_pages] = file + this.pageCache.nrPages;
    this.pageCache.gauges(v, this.env.now());
    // swap writes in flight count in nr_writeback and nr_zone_write_pending; their ends in nr_written
    const now = this.env.now();
    const swb = this.swapWb.nrWriteback(now);
    v[V.nr_writeback]! += swb;
    v[V.nr_zone_write_pending]! += swb;
    v[V.nr_written]! += this.swapWb.pendingWritten(now);
    v[V.wsim_dirty_throttle_ms] = Math.floor(this.pageCache.throttleMs);
    v[V.wsim_kernel_pages] = this.kernelPages;
    v[V.wsim_extfrag_fallbacks] = this.buddy.extfragFallbacks;
    v[V.wsim_lru_gen_agings] = this.lru.agings;
    v[V.wsim_kagingd_wakeups] = this.kagingd.wakeups;
    v[V.wsim_kagingd_refreshes] = this.kagingd.refreshes;
    v[V.wsim_wsr_refreshes] = this.wsrRefreshes;
    v[V.wsim_swap_entries] = this.shadows.inUse;
    v[V.wsim_kswapd_busy_ms] = Math.floor(this.kswapd.reduce((s, k) => s + k.busyNs, 0) / 1e6);
    v[V.wsim_kcompactd_busy_ms] = Math.floor(this.kcompactd.reduce((s, k) => s + k.busy.ns, 0) / 1e6);
    v[V.wsim_page_reporting_busy_ms] = this.reporting.busy.ms;
    v[V.wsim_kmmmigrated_busy_ms] = this.kmmmigratedDaemon.busy.ms;
    v[V.wsim_kmmscand_busy_ms] = this.kmmscandDaemon.busy.ms;
    v[V.wsim_khugepaged_busy_ms] = this.khugepaged.busy.ms;
    v[V.wsim_kpromoted_busy_ms] = Math.floor(this.kpromotedDaemons.reduce((s, k) => s + k.busy.ns, 0) / 1e6);
    v[V.nr_swapcached] = this.procs.nrSwapCached;
    v[V.wsim_nr_reported_pages] = this.reporting.reportedPages();
    return v;
  }
}

function ctz(x: number): number {
  let n = 0;
  while (x % 2 === 0 && n < 31) {
    x /= 2;
    n++;
  }
  return n;
}
