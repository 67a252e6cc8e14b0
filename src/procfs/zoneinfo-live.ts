/**
 * /proc/zoneinfo of the running model (zoneinfo_show, mm/vmstat.c, 6.1): every node's
 * MAX_NR_ZONES zones in order, populated or not, with the counters wsim keeps, as a Zoneinfo
 * structure that formatZoneinfo (zoneinfo.ts) prints byte for byte in 6.1's format and the
 * JSON carries as it is.
 *
 * What comes from the model: free pages, boost, min/low/high (boost included, as
 * min_wmark_pages() and friends add it), spanned/present/managed, protection
 * (lowmem_reserve), start_pfn, node_unreclaimable (kswapd_failures >= MAX_RECLAIM_RETRIES);
 * per zone nr_free_pages, the LRU split (nr_zone_{in,}active_{anon,file}: pages on the
 * node's lruvecs lying in the zone, the two youngest generations active as MGLRU's
 * lru_gen_folio_seq has it) and zone_statistics' numa_* events; per node the LRU split,
 * nr_anon_pages, nr_file_pages (the file LRU) and nr_mapped (less the page-cache pages no mm maps),
 * nr_anon_transparent_hugepages, nr_slab_unreclaimable (slab pages on the node) and
 * nr_page_table_pages (PTE and PMD tables on the node). wsim counts its other node events
 * (workingset_*, nr_vmscan_write, pgpromote_*) machine-wide: a one-node machine prints them,
 * a machine of several nodes prints 0 there (vmstat has the totals). Every item wsim does not
 * model prints 0, in the kernel's order.
 *
 * Pagesets: one per online CPU in every populated zone (for_each_online_cpu), with the per-cpu
 * lists' count, high and batch (pcp.ts; with wsim.pcp=0 count 0 and high/batch
 * zone_highsize / zone_batchsize from zone-params.ts pcpParams); `vm stats threshold` is
 * calculate_normal_threshold, or calculate_pressure_threshold while the node's kswapd runs
 * (set_pgdat_percpu_threshold). CPUs: the machine's, numbered node by node (nodeCpuCount).
 */
import type { Memory } from "../mm/memory.js";
import { WMARK_HIGH, WMARK_LOW, WMARK_MIN } from "../mm/buddy.js";
import { MAX_RECLAIM_RETRIES } from "../mm/kswapd.js";
import { PG_ANON, PG_FILE_MAPPED, PG_HEAD } from "../mm/pages.js";
import { PTE_TABLE } from "../mm/process.js";
import { normalStatThreshold, pcpParams, pressureStatThreshold } from "../mm/zone-params.js";
import { NODE_STAT_ITEMS, ZONE_STAT_ITEMS } from "../machine/zone-setup.js";
import { MAX_NR_ZONES } from "../machine/zones.js";
import { nodeCpuCount } from "../machine/machine.js";
import { V } from "../stats/counters.js";
import type { Zoneinfo, ZoneinfoPgdat, ZoneinfoZone } from "./zoneinfo.js";

/** the machine-wide node items a one-node machine prints from vmstat */
const NODE_EVENTS: readonly string[] = [
  "workingset_refault_anon", "workingset_refault_file", "workingset_activate_anon", "workingset_activate_file",
  "workingset_restore_anon", "workingset_restore_file", "nr_vmscan_write", "pgpromote_success", "pgpromote_candidate",
];
const NUMA_ITEMS = ["numa_hit", "numa_miss", "numa_foreign", "numa_interleave", "numa_local", "numa_other"];

/**
 * per zone (by Zone.id): LRU pages by [inactive anon, active anon, inactive file, active file];
 * per node: huge anon pages, and page-cache pages no mm maps (in nr_file_pages, not nr_mapped)
 */
function lruByZone(mem: Memory): { zone: Float64Array[]; thpByNode: Float64Array; unmappedByNode: Float64Array } {
  const zone = mem.zones.map(() => new Float64Array(4));
  const thpByNode = new Float64Array(mem.nodeZones.length);
  const unmappedByNode = new Float64Array(mem.nodeZones.length);
  const { ownerMm } = mem;
  const mflags = mem.pages.mflags;
  const lru = mem.lru;
  const { flags, order } = mem.pages;
  for (const lv of lru.lruvecs) {
    for (let type = 0; type < 2; type++) {
      for (let seq = lv.minSeq[type]!; seq <= lv.maxSeq; seq++) {
        const active = lru.classic ? seq : seq >= lv.maxSeq - 1 ? 1 : 0; // the two-list LRU: slot 1 is LRU_ACTIVE_*
        const li = type * 16 + (seq % 16);
        for (let pfn = lv.head[li]!; pfn >= 0; pfn = lru.next[pfn]!) {
          const huge = (flags[pfn]! & PG_HEAD) !== 0 && order[pfn]! > 0;
          const n = huge ? 1 << order[pfn]! : 1;
          const z = mem.alloc.zoneOf(pfn);
          zone[z.id]![type * 2 + active]! += n;
          if (huge && flags[pfn]! & PG_ANON) thpByNode[z.nid]!++;
          if (ownerMm[pfn]! < 0 && !(mflags[pfn]! & PG_FILE_MAPPED)) unmappedByNode[z.nid]!++;
        }
      }
    }
  }
  return { zone, thpByNode, unmappedByNode };
}

/** Pages per node held by slabs, and by PTE and PMD tables. */
function kernelPagesByNode(mem: Memory): { slab: Float64Array; tables: Float64Array } {
  const slab = new Float64Array(mem.nodeZones.length);
  const tables = new Float64Array(mem.nodeZones.length);
  for (const c of mem.slub.caches) for (const s of c.slabs) slab[s.nid]! += 1 << s.order;
  const nid = (pfn: number) => mem.alloc.zoneOf(pfn).nid;
  for (const mm of mem.procs.bySlot.values()) {
    for (const leaf of mm.pt.values()) if (leaf[PTE_TABLE]! >= 0) tables[nid(leaf[PTE_TABLE]!)]!++;
    for (const t of mm.pmdTables.values()) tables[nid(t.pfn)]!++;
  }
  return { slab, tables };
}

/**
 * The model's /proc/zoneinfo now, for every node of `mem` (O(LRU pages + tables)).
 * `cpusByNode`: CPUs per node (online CPUs are numbered node by node).
 */
export function liveZoneinfo(mem: Memory, cpusByNode: readonly number[]): Zoneinfo {
  const onlineCpus = cpusByNode.reduce((s, c) => s + c, 0);
  const cpus = Array.from({ length: onlineCpus }, (_, i) => i);
  const vm = mem.vmstat();
  const oneNode = mem.nodeZones.length === 1;
  const { zone: lruZ, thpByNode, unmappedByNode } = lruByZone(mem);
  const { slab, tables } = kernelPagesByNode(mem);
  const pgdats = mem.layout.nodes.map((ln, nid): ZoneinfoPgdat => {
    const populated = mem.nodeZones[nid]!;
    const zones: ZoneinfoZone[] = [];
    for (let idx = 0; idx < MAX_NR_ZONES; idx++) {
      const span = ln.zones[idx]!;
      const z = populated.find((q) => q.idx === idx);
      if (z === undefined) {
        // an empty zone: no managed pages, so no watermark, and lowmem_reserve cleared
        zones.push({
          name: span.name, freePages: 0, watermarkBoost: 0, min: 0, low: 0, high: 0,
          spannedPages: span.spannedPages, presentPages: span.presentPages, managedPages: span.managedPages, cmaPages: 0,
          lowmemReserve: new Array<number>(MAX_NR_ZONES).fill(0),
        });
        continue;
      }
      const boost = z.watermarkBoost;
      const l = lruZ[z.id]!;
      const stats: Record<string, number> = {};
      for (const k of ZONE_STAT_ITEMS) stats[k] = 0;
      stats.nr_free_pages = z.freePages;
      stats.nr_zone_inactive_anon = l[0]!;
      stats.nr_zone_active_anon = l[1]!;
      stats.nr_zone_inactive_file = l[2]!;
      stats.nr_zone_active_file = l[3]!;
      NUMA_ITEMS.forEach((k, i) => (stats[k] = z.numaEvents[i]!));
      const pcp = pcpParams({ managed: z.managed, lowWmark: z.wmark[WMARK_LOW]!, nodeCpus: cpusByNode[nid]!, onlineCpus });
      const threshold = mem.kswapd[nid]!.running
        ? pressureStatThreshold({ min: z.wmark[WMARK_MIN]!, low: z.wmark[WMARK_LOW]! }, onlineCpus)
        : normalStatThreshold(z.managed, onlineCpus);
      zones.push({
        name: z.name,
        freePages: z.freePages,
        watermarkBoost: boost,
        min: z.wmark[WMARK_MIN]! + boost,
        low: z.wmark[WMARK_LOW]! + boost,
        high: z.wmark[WMARK_HIGH]! + boost,
        spannedPages: z.end - z.start,
        presentPages: z.present,
        managedPages: z.managed,
        cmaPages: 0,
        lowmemReserve: Array.from(z.lowmemReserve),
        stats,
        // the per-cpu lists' count, high and batch (pcp.ts); with wsim.pcp=0 none is kept: count 0
        // and high/batch from the formulas
        pagesets: mem.pcp.enabled
          ? mem.pcp.pagesets(z.id).map((ps) => ({ cpu: ps.cpu, count: ps.count, high: ps.high, batch: ps.batch, statThreshold: threshold }))
          : cpus.map((cpu) => ({ cpu, count: 0, high: pcp.high, batch: pcp.batch, statThreshold: threshold })),
        nodeUnreclaimable: mem.kswapd[nid]!.failures >= MAX_RECLAIM_RETRIES ? 1 : 0,
        zoneStartPfn: z.start,
      });
    }
    let nodeStats: Record<string, number> | null = null;
    if (populated.length > 0) {
      nodeStats = {};
      for (const k of NODE_STAT_ITEMS) nodeStats[k] = 0;
      const sum = (i: number) => populated.reduce((s, z) => s + lruZ[z.id]![i]!, 0);
      nodeStats.nr_inactive_anon = sum(0);
      nodeStats.nr_active_anon = sum(1);
      nodeStats.nr_inactive_file = sum(2);
      nodeStats.nr_active_file = sum(3);
      nodeStats.nr_slab_unreclaimable = slab[nid]!;
      nodeStats.nr_anon_pages = sum(0) + sum(1);
      nodeStats.nr_file_pages = sum(2) + sum(3);
      nodeStats.nr_mapped = nodeStats.nr_file_pages - unmappedByNode[nid]!;
      nodeStats.nr_anon_transparent_hugepages = thpByNode[nid]!;
      nodeStats.nr_page_table_pages = tables[nid]!;
      if (oneNode) for (const k of NODE_EVENTS) nodeStats[k] = vm[V[k as keyof typeof V]]!;
    }
    return { nodeId: nid, nodeStats, zones };
  });
  return { pgdats };
}

/** CPUs per node as wsim runs them: one on each node with CPUs. */
export function cpusByNodeOf(mem: Memory): number[] {
  return mem.machine.nodes.map((n) => nodeCpuCount(n));
}
