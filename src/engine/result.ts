/**
 * The result of a run: one value from which every output format is made (SPEC §5 JSON keys).
 */
import type { MemcgResult } from "../procfs/memcg-files.js";
import type { Machine } from "../machine/machine.js";
import { MT_MOVABLE, MT_RECLAIMABLE, MT_UNMOVABLE, MAX_ORDER, MIGRATE_TYPES } from "../mm/constants.js";
import { WMARK_HIGH, WMARK_LOW, WMARK_MIN } from "../mm/buddy.js";
import { SCHEMA, WSIM_VERSION } from "../version.js";
import type { PromotionTruth } from "../mm/hot-truth.js";
import type { PsiLine } from "../mm/psi.js";
import type { LatencyHist, StallKind } from "../mm/stall.js";
import type { Engine, ReadRecord, Sample, WorkingsetNode } from "./engine.js";
import { pageblockCounts } from "../procfs/procfs.js";
import type { ZoneinfoPgdat } from "../procfs/zoneinfo.js";
import { cpusByNodeOf, liveZoneinfo } from "../procfs/zoneinfo-live.js";

/** A node of liveZoneinfo as the JSON carries it. */
function zoneinfoJson(p: ZoneinfoPgdat): NodeResult["zoneinfo"] {
  return {
    per_node_stats: p.nodeStats,
    zones: p.zones.map((z) => ({
      name: z.name,
      free: z.freePages,
      boost: z.watermarkBoost,
      min: z.min,
      low: z.low,
      high: z.high,
      spanned: z.spannedPages,
      present: z.presentPages,
      managed: z.managedPages,
      cma: z.cmaPages,
      protection: z.lowmemReserve,
      ...(z.stats
        ? {
            stats: z.stats,
            pagesets: z.pagesets!.map((c) => ({ cpu: c.cpu, count: c.count, high: c.high, batch: c.batch, vm_stats_threshold: c.statThreshold ?? null })),
            node_unreclaimable: z.nodeUnreclaimable!,
            start_pfn: z.zoneStartPfn!,
          }
        : {}),
    })),
  };
}

export interface ZoneResult {
  name: string;
  start_pfn: number;
  managed: number;
  free: number;
  /** pages on the zone's per-cpu lists (free, but neither in `free` nor in buddyinfo, as NR_FREE_PAGES leaves them out) */
  pcp: number;
  watermarks: { min: number; low: number; high: number; boost: number };
  buddyinfo: number[];
  pagetypeinfo: { Unmovable: number[]; Movable: number[]; Reclaimable: number[] };
  pageblocks: Record<string, number>;
  /** free blocks per order flagged reported (free page reporting) */
  reported: number[];
}

/**
 * One zone of /proc/zoneinfo (every zone of the node, populated or not, in zoneinfo's order):
 * the lines' values by name, pages; the populated-zone block (stats, pagesets,
 * node_unreclaimable, start_pfn) only for a zone with present pages, as the file has it.
 */
export interface ZoneinfoZoneResult {
  name: string;
  free: number;
  boost: number;
  /** watermarks with the boost added, as zoneinfo prints them */
  min: number;
  low: number;
  high: number;
  spanned: number;
  present: number;
  managed: number;
  cma: number;
  /** lowmem_reserve[] */
  protection: number[];
  /** the zone's vmstat and NUMA items, in the file's order */
  stats?: Record<string, number>;
  pagesets?: { cpu: number; count: number; high: number; batch: number; vm_stats_threshold: number | null }[];
  node_unreclaimable?: number;
  start_pfn?: number;
}

export interface NodeResult {
  id: number;
  tier: number;
  cpus: boolean;
  zones: ZoneResult[];
  /** /proc/zoneinfo of the node at the end: per-node stats (null without a populated zone) and every zone */
  zoneinfo: { per_node_stats: Record<string, number> | null; zones: ZoneinfoZoneResult[] };
}

/** What paceMs and rootMemcg did to a run (RunResult.guest_like, present when either was given, even as 0 or false: src/replay.ts; `wsim compare` gives both). */
export interface GuestLike {
  /** ms added per event (ReplayConfig.paceMs) */
  pace_ms_per_event: number;
  /** every event in the root memcg (ReplayConfig.rootMemcg) */
  root_memcg: boolean;
  /** events whose cg was dropped */
  cg_dropped: number;
  /** memcg-file set/read events of other memcgs, not replayed */
  memcg_events_removed: number;
}

export interface RunResult {
  schema: number;
  wsim_version: string;
  trace: { path: string; format: string; events: number; first_ms: number | null; last_ms: number | null };
  end_ms: number;
  machine: Machine;
  tunables: Record<string, unknown>;
  vmstat: Record<string, number>;
  nodes: NodeResult[];
  /** memcg -> node -> report, what a read at the end shows (memcgs with intervals only) */
  workingset: Record<string, Record<string, WorkingsetNode>>;
  reads: ReadRecord[];
  /** --interval samples (empty without it) */
  series: Sample[];
  /** how the trace was run as `wsim compare`'s guest runs it (ReplayConfig.paceMs / rootMemcg); absent otherwise */
  guest_like?: GuestLike;
  /** the plug-in modules loaded (--plugin, the trace's "plugins"), in load order; absent without any */
  plugins?: { path: string; sha256: string }[];
  /** stall latency histograms (SPEC §4.8): fault, direct_reclaim, direct_compact */
  latency: Record<StallKind, LatencyHist>;
  /** the same per memcg (a process's own memcg; faults and the direct stalls in them) */
  latency_by_memcg: Record<string, Record<StallKind, LatencyHist>>;
  /** /proc/pressure/memory ("/") and each memcg's memory.pressure at the end */
  pressure: Record<string, { some: PsiLine; full: PsiLine }>;
  /** cgroup v2 memcgs (runs that set a memory.max/high/low/min/swap.max): path -> usage, limits, events */
  memcgs?: Record<string, MemcgResult>;
  /** with --closed-loop: how far each stalled pid's events were pushed back, ms */
  closed_loop?: { delay_ms: Record<string, number>; total_delay_ms: number };
  /** on machines with lower tiers: the promotion ground truth and kpromoted's hash chains */
  promotion?: PromotionTruth & { kpromoted_hash: { buckets: number; records: number; max_chain: number; mean_chain: number } };
}

export interface TraceInfo {
  path: string;
  format: string;
  events: number;
  firstMs: number;
  lastMs: number;
}

/** One zone's free pages and pageblocks per migratetype at a moment (a start state's baseline). */
export interface ZoneStart {
  node: number;
  zone: string;
  free: number;
  pageblocks: Record<string, number>;
}

/**
 * Every populated zone's free pages (buddy lists) and pageblock counts per migratetype now, in
 * node and zone order: what a run from `--start-state` starts from, so a comparison can take
 * changes from it (src/report/compare.ts).
 */
export function zoneStarts(engine: Engine): ZoneStart[] {
  const views = engine.zoneViews();
  return engine.mem.nodeZones.flatMap((zs, nid) =>
    zs.map((z) => {
      const pb = pageblockCounts(views[z.id]!);
      const pageblocks: Record<string, number> = {};
      ["Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate"].forEach((n, k) => (pageblocks[n] = pb[k]!));
      return { node: nid, zone: z.name, free: z.freePages, pageblocks };
    }),
  );
}

export function buildResult(engine: Engine, trace: TraceInfo): RunResult {
  // first, as a read at the end would (it may age lruvecs), then the counters
  const workingset = engine.workingsetResult();
  const vmstat = engine.vmstatObject();
  const views = engine.zoneViews();
  const zoneinfo = liveZoneinfo(engine.mem, cpusByNodeOf(engine.mem));
  const nodes: NodeResult[] = engine.mem.nodeZones.map((zs, nid) => {
    const spec = engine.machine.nodes[nid]!;
    return {
      id: nid,
      tier: spec.tier,
      cpus: spec.cpus,
      zones: zs.map((z) => {
        const row = (mt: number) => Array.from({ length: MAX_ORDER }, (_, o) => z.nrFreeMt[o * MIGRATE_TYPES + mt]!);
        const counts: Record<string, number> = {};
        const pb = pageblockCounts(views[z.id]!);
        ["Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate"].forEach((n, k) => (counts[n] = pb[k]!));
        return {
          name: z.name,
          start_pfn: z.start,
          managed: z.managed,
          free: z.freePages,
          pcp: engine.mem.pcp.zonePages(z.id),
          watermarks: { min: z.wmark[WMARK_MIN]!, low: z.wmark[WMARK_LOW]!, high: z.wmark[WMARK_HIGH]!, boost: z.watermarkBoost },
          buddyinfo: Array.from(z.nrFree),
          pagetypeinfo: { Unmovable: row(MT_UNMOVABLE), Movable: row(MT_MOVABLE), Reclaimable: row(MT_RECLAIMABLE) },
          pageblocks: counts,
          reported: Array.from(z.reported),
        };
      }),
      zoneinfo: zoneinfoJson(zoneinfo.pgdats[nid]!),
    };
  });
  return {
    schema: SCHEMA,
    wsim_version: WSIM_VERSION,
    trace: {
      path: trace.path,
      format: trace.format,
      events: trace.events,
      first_ms: trace.events ? trace.firstMs : null,
      last_ms: trace.events ? trace.lastMs : null,
    },
    end_ms: engine.now(),
    // the resolved machine, its zone layout named even when it is the default (enough to re-run)
    machine: { ...engine.machine, zones: engine.machine.zones ?? "flat" },
    tunables: engine.settings.resolved(),
    vmstat,
    nodes,
    workingset,
    reads: engine.reads,
    series: engine.series,
    latency: engine.stall.hist.toJsonAll(),
    latency_by_memcg: engine.latencyByMemcg(),
    pressure: engine.pressureResult(),
    ...(engine.memcgsResult() !== null ? { memcgs: engine.memcgsResult()! } : {}),
    ...(engine.closedLoop ? { closed_loop: engine.closedLoop.result() } : {}),
    ...(engine.plugins ? { plugins: engine.plugins.plugins.map((p) => ({ path: p.file, sha256: p.sha256 })) } : {}),
    ...(engine.mem.hotTruth
      ? { promotion: { ...engine.mem.hotTruth.result(), kpromoted_hash: engine.mem.kpromoted.chainStats() } }
      : {}),
  };
}
