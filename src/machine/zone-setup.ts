/**
 * What Linux 6.1 sets up for each zone once the layout is known, put together from
 * src/machine/zones.ts (spans) and src/mm/zone-params.ts (numbers): the boot sequence of
 * init_per_zone_wmark_min (calculate_min_free_kbytes, setup_per_zone_wmarks,
 * refresh_zone_stat_thresholds, setup_per_zone_lowmem_reserve), khugepaged's
 * set_recommended_min_free_kbytes, and setup_zone_pageset / zone_pcp_update for pcp
 * batch and high. Also the way back: the layout and CPUs of a machine read from a saved
 * /proc/zoneinfo (issue 13's `--machine zoneinfo`), and a zoneinfo of a machine at boot.
 *
 * CPUs: `cpusByNode[nid]` CPUs per node, numbered 0, 1, ... node by node (node 0's first),
 * all online. Pure functions; bad input throws ValueError.
 */
import { ValueError } from "../errors.js";
import {
  defaultMinFreeKbytes, DEFAULT_LOWMEM_RESERVE_RATIO, DEFAULT_WATERMARK_SCALE_FACTOR, lowmemReserve, normalStatThreshold,
  pcpParams, setupPerZoneWmarks, type PcpParams, type ZoneWatermarks,
} from "../mm/zone-params.js";
import type { Zoneinfo, ZoneinfoPgdat, ZoneinfoZone } from "../procfs/zoneinfo.js";
import {
  archZoneRanges, findUsableZoneForMovable, managedByNode, MAX_NR_ZONES, ZONE_MOVABLE, ZONE_NAMES, type NodeZones, type ZoneLayout,
  type ZoneSpan,
} from "./zones.js";

/** Node stat items of /proc/zoneinfo on Debian's 6.1 x86-64 build (no SCS; SWAP and NUMA_BALANCING on), in order. */
export const NODE_STAT_ITEMS: readonly string[] = [
  "nr_inactive_anon", "nr_active_anon", "nr_inactive_file", "nr_active_file", "nr_unevictable", "nr_slab_reclaimable",
  "nr_slab_unreclaimable", "nr_isolated_anon", "nr_isolated_file", "workingset_nodes", "workingset_refault_anon",
  "workingset_refault_file", "workingset_activate_anon", "workingset_activate_file", "workingset_restore_anon",
  "workingset_restore_file", "workingset_nodereclaim", "nr_anon_pages", "nr_mapped", "nr_file_pages", "nr_dirty",
  "nr_writeback", "nr_writeback_temp", "nr_shmem", "nr_shmem_hugepages", "nr_shmem_pmdmapped", "nr_file_hugepages",
  "nr_file_pmdmapped", "nr_anon_transparent_hugepages", "nr_vmscan_write", "nr_vmscan_immediate_reclaim", "nr_dirtied",
  "nr_written", "nr_throttled_written", "nr_kernel_misc_reclaimable", "nr_foll_pin_acquired", "nr_foll_pin_released",
  "nr_kernel_stack", "nr_page_table_pages", "nr_sec_page_table_pages", "nr_swapcached", "pgpromote_success",
  "pgpromote_candidate",
];
/** Zone stat items (zone_stat_name, with ZSMALLOC) then NUMA event items, in order. */
export const ZONE_STAT_ITEMS: readonly string[] = [
  "nr_free_pages", "nr_zone_inactive_anon", "nr_zone_active_anon", "nr_zone_inactive_file", "nr_zone_active_file",
  "nr_zone_unevictable", "nr_zone_write_pending", "nr_mlock", "nr_bounce", "nr_zspages", "nr_free_cma",
  "numa_hit", "numa_miss", "numa_foreign", "numa_interleave", "numa_local", "numa_other",
];

/** A zone after boot: its span, watermarks, lowmem_reserve, pcp and vmstat threshold. */
export interface ZoneSetup extends ZoneSpan {
  /** _watermark[], boost 0 */
  wmarks: ZoneWatermarks;
  /** lowmem_reserve[0..MAX_NR_ZONES-1] */
  lowmemReserve: number[];
  /** pcp batch/high of every CPU; null for an unpopulated zone (setup_zone_pageset skips it) */
  pcp: PcpParams | null;
  /** calculate_normal_threshold; 0 for an unpopulated zone */
  statThreshold: number;
}

/** A node (pgdat) after boot: its pfn span, its CPUs and its MAX_NR_ZONES zones. */
export interface NodeSetup {
  nid: number;
  nodeStartPfn: number;
  nodeEndPfn: number;
  /** the node's CPU ids */
  cpus: number[];
  zones: ZoneSetup[];
}

/** setupZones' result: the machine-wide min_free_kbytes and CPU count, and every node. */
export interface MachineSetup {
  /** vm.min_free_kbytes in force */
  minFreeKbytes: number;
  onlineCpus: number;
  nodes: NodeSetup[];
}

/** Options of setupZones. */
export interface ZoneSetupOptions {
  /** CPUs of each node (a count per node id); at least one CPU in all */
  cpusByNode: readonly number[];
  /** vm.min_free_kbytes when written; default: defaultMinFreeKbytes of the layout */
  minFreeKbytes?: number;
  /** THP `always` or `madvise` (khugepaged runs and raises min_free_kbytes); default true, 6.1's default */
  thpEnabled?: boolean;
  watermarkScaleFactor?: number;
  lowmemReserveRatio?: readonly number[];
  /**
   * Managed pages per node and zone that setup_per_zone_lowmem_reserve saw at boot, when they
   * differ from today's (a real kernel computes the reserve before the initrd and init memory
   * are freed); default the layout's
   */
  reserveManaged?: readonly (readonly number[])[];
  /** vm.percpu_pagelist_high_fraction, default 0 */
  percpuPagelistHighFraction?: number;
}

/**
 * The boot-time state of every zone of `layout` (init_per_zone_wmark_min, then khugepaged's
 * raise, then zone_pcp_update): watermarks from min_free_kbytes, lowmem_reserve from the
 * ratio, pcp batch/high from the low watermark and the node's CPUs, the normal vmstat
 * threshold. Throws ValueError for a CPU count that is not a non-negative integer, no CPU at
 * all, or a cpusByNode / reserveManaged that does not match the layout's nodes.
 */
export function setupZones(layout: ZoneLayout, opts: ZoneSetupOptions): MachineSetup {
  const managed = managedByNode(layout);
  if (opts.cpusByNode.length !== layout.nodes.length)
    throw new ValueError(`cpusByNode has ${opts.cpusByNode.length} entries for ${layout.nodes.length} nodes`);
  opts.cpusByNode.forEach((c, nid) => {
    if (!Number.isSafeInteger(c) || c < 0) throw new ValueError(`node ${nid}: CPUs must be a non-negative integer, got ${c}`);
  });
  const onlineCpus = opts.cpusByNode.reduce((s, c) => s + c, 0);
  if (onlineCpus < 1) throw new ValueError("a machine needs at least one CPU");
  const reserveManaged = opts.reserveManaged ?? managed;
  if (reserveManaged.length !== layout.nodes.length)
    throw new ValueError(`reserveManaged has ${reserveManaged.length} nodes, the layout ${layout.nodes.length}`);
  const scale = opts.watermarkScaleFactor ?? DEFAULT_WATERMARK_SCALE_FACTOR;
  const minFreeKbytes = opts.minFreeKbytes ?? defaultMinFreeKbytes(managed, opts.thpEnabled ?? true, scale);
  const wmarks = setupPerZoneWmarks(managed, minFreeKbytes, scale);
  let nextCpu = 0;
  const nodes = layout.nodes.map((node: NodeZones, nid): NodeSetup => {
    const cpus = Array.from({ length: opts.cpusByNode[nid]! }, () => nextCpu++);
    const reserve = lowmemReserve(reserveManaged[nid]!, opts.lowmemReserveRatio ?? DEFAULT_LOWMEM_RESERVE_RATIO);
    const zones = node.zones.map((z, idx): ZoneSetup => {
      const w = wmarks[nid]![idx]!;
      const populated = z.presentPages > 0;
      return {
        ...z,
        wmarks: w,
        lowmemReserve: reserve[idx]!,
        pcp: populated
          ? pcpParams({ managed: z.managedPages, lowWmark: w.low, nodeCpus: cpus.length, onlineCpus, fraction: opts.percpuPagelistHighFraction ?? 0 })
          : null,
        statThreshold: populated ? normalStatThreshold(z.managedPages, onlineCpus) : 0,
      };
    });
    return { nid, nodeStartPfn: node.nodeStartPfn, nodeEndPfn: node.nodeEndPfn, cpus, zones };
  });
  return { minFreeKbytes, onlineCpus, nodes };
}

/**
 * /proc/zoneinfo of a machine just set up: every managed page free (wsim's start state), the
 * pcp lists empty, every other counter 0 (stat names as Debian's 6.1 prints them, nr_free_pages
 * equal to the free pages), pagesets for every online CPU in every populated zone.
 */
export function bootZoneinfo(setup: MachineSetup): Zoneinfo {
  const cpus = Array.from({ length: setup.onlineCpus }, (_, i) => i);
  const zeros = (names: readonly string[]) => Object.fromEntries(names.map((n) => [n, 0])) as Record<string, number>;
  return {
    pgdats: setup.nodes.map((n): ZoneinfoPgdat => ({
      nodeId: n.nid,
      nodeStats: n.zones.some((z) => z.presentPages > 0) ? zeros(NODE_STAT_ITEMS) : null,
      zones: n.zones.map((z): ZoneinfoZone => {
        const out: ZoneinfoZone = {
          name: z.name,
          freePages: z.managedPages,
          watermarkBoost: 0,
          min: z.wmarks.min,
          low: z.wmarks.low,
          high: z.wmarks.high,
          spannedPages: z.spannedPages,
          presentPages: z.presentPages,
          managedPages: z.managedPages,
          cmaPages: 0,
          lowmemReserve: z.lowmemReserve,
        };
        if (z.pcp) {
          out.stats = { ...zeros(ZONE_STAT_ITEMS), nr_free_pages: z.managedPages };
          out.pagesets = cpus.map((cpu) => ({ cpu, count: 0, high: z.pcp!.high, batch: z.pcp!.batch, statThreshold: z.statThreshold }));
          out.nodeUnreclaimable = 0;
          out.zoneStartPfn = z.zoneStartPfn;
        }
        return out;
      }),
    })),
  };
}

/**
 * The layout of a machine described by a saved /proc/zoneinfo (x86-64: zones DMA, DMA32,
 * Normal, Movable and optionally Device, in that order, per node), with its online CPU ids
 * (from any populated zone's pagesets: zoneinfo lists every online CPU there, not per node,
 * so which node a CPU is on cannot be read back). What the file gives exactly: each zone's
 * start_pfn (populated zones), spanned, present and managed pages. What it cannot give:
 * where the holes lie inside a span (present < spanned), so a caller must choose; nodes
 * without a populated zone keep an empty span. Throws ValueError naming the node and zone.
 */
export function layoutFromZoneinfo(info: Zoneinfo): { layout: ZoneLayout; cpus: number[] } {
  if (info.pgdats.length === 0) throw new ValueError("zoneinfo lists no node");
  let cpus: number[] | null = null;
  const nodes = info.pgdats.map((p, i): NodeZones => {
    if (p.nodeId !== i) throw new ValueError(`zoneinfo nodes must be 0, 1, 2, ...: expected node ${i}, got node ${p.nodeId}`);
    const names = p.zones.map((z) => z.name);
    const expected = ZONE_NAMES.slice(0, names.length);
    if ((names.length !== MAX_NR_ZONES && names.length !== MAX_NR_ZONES - 1) || names.some((n, k) => n !== expected[k]))
      throw new ValueError(`node ${i}: zones ${names.join(", ")}; x86-64 6.1 has ${ZONE_NAMES.join(", ")} (Device optional)`);
    const zones = ZONE_NAMES.map((name, idx): ZoneSpan => {
      const z = p.zones[idx];
      if (!z || z.presentPages === 0) {
        if (z && z.managedPages > 0) throw new ValueError(`node ${i} zone ${name}: managed ${z.managedPages} but no present page`);
        return { idx, name, zoneStartPfn: 0, spannedPages: z?.spannedPages ?? 0, presentPages: 0, managedPages: 0 };
      }
      if (z.presentPages > z.spannedPages || z.managedPages > z.presentPages)
        throw new ValueError(`node ${i} zone ${name}: needs managed <= present <= spanned, got ${z.managedPages}, ${z.presentPages}, ${z.spannedPages}`);
      const pcpus = z.pagesets!.map((s) => s.cpu);
      if (cpus === null) cpus = pcpus;
      else if (pcpus.join() !== cpus.join()) throw new ValueError(`node ${i} zone ${name}: pagesets list CPUs ${pcpus.join(", ")}, another zone ${cpus.join(", ")}`);
      return { idx, name, zoneStartPfn: z.zoneStartPfn!, spannedPages: z.spannedPages, presentPages: z.presentPages, managedPages: z.managedPages };
    });
    const populated = zones.filter((z) => z.presentPages > 0);
    const start = populated.length ? Math.min(...populated.map((z) => z.zoneStartPfn)) : 0;
    const end = populated.length ? Math.max(...populated.map((z) => z.zoneStartPfn + z.spannedPages)) : 0;
    return { nid: i, nodeStartPfn: start, nodeEndPfn: end, nodePresentPages: populated.reduce((s, z) => s + z.presentPages, 0), zones };
  });
  if (cpus === null) throw new ValueError("zoneinfo has no populated zone");
  const withMem = nodes.filter((n) => n.nodeEndPfn > n.nodeStartPfn);
  const arch = archZoneRanges(Math.min(...withMem.map((n) => n.nodeStartPfn)), Math.max(...withMem.map((n) => n.nodeEndPfn)));
  return {
    layout: {
      kind: "x86-64",
      nodes,
      archRanges: arch,
      movableZone: findUsableZoneForMovable(arch),
      zoneMovablePfn: nodes.map((n) => (n.zones[ZONE_MOVABLE]!.presentPages ? n.zones[ZONE_MOVABLE]!.zoneStartPfn : 0)),
    },
    cpus: cpus as number[],
  };
}
