/**
 * Which zones an allocation may use, and in which order, as Linux 6.1 decides it
 * (KERNEL-REFERENCE-2 §1.3): gfp_zone() over GFP_ZONE_TABLE (include/linux/gfp.h), the
 * migratetype of a gfp mask (gfp_migratetype), and the fallback zonelist of each node
 * (mm/page_alloc.c: build_all_zonelists -> build_zonelists, find_next_best_node,
 * build_zonelists_in_node_order, build_zonerefs_node).
 *
 * A zonelist is node by node (the local node first, then the others in find_next_best_node's
 * order), and within a node the populated zones from the highest index down (Movable, Normal,
 * DMA32, DMA). get_page_from_freelist walks it skipping zones above highest_zoneidx.
 *
 * wsim's model today orders nodes by tier (src/machine/machine.ts zonelist); this is the
 * kernel's order by SLIT distance, for the integration to use. Pure; bad input throws ValueError.
 */
import { ValueError } from "../errors.js";
import { MAX_NR_ZONES, ZONE_DMA, ZONE_DMA32, ZONE_MOVABLE, ZONE_NORMAL, type ZoneLayout } from "../machine/zones.js";

/** Zone modifier bits of gfp_t (include/linux/gfp_types.h, 6.1). */
export const __GFP_DMA = 0x01;
export const __GFP_HIGHMEM = 0x02;
export const __GFP_DMA32 = 0x04;
export const __GFP_MOVABLE = 0x08;
export const __GFP_RECLAIMABLE = 0x10;
/** GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS */
export const GFP_KERNEL = 0xcc0;
/** GFP_USER = GFP_KERNEL | __GFP_HARDWALL */
export const GFP_USER = 0x100cc0;
/** GFP_HIGHUSER_MOVABLE = GFP_USER | __GFP_HIGHMEM | __GFP_MOVABLE: user pages, THPs */
export const GFP_HIGHUSER_MOVABLE = 0x100cca;

/** LOCAL_DISTANCE and REMOTE_DISTANCE: node_distance() without an ACPI SLIT (a QEMU guest without -numa dist). */
export const LOCAL_DISTANCE = 10;
export const REMOTE_DISTANCE = 20;
/** PENALTY_FOR_NODE_WITH_CPUS of find_next_best_node */
const PENALTY_FOR_NODE_WITH_CPUS = 1;
/** MAX_NUMNODES = 1 << CONFIG_NODES_SHIFT (10 on Debian's x86-64); only scales the load tie-break */
const MAX_NUMNODES = 1024;

/**
 * gfp_zone(): the highest zone index an allocation with mask `gfp` may use (its
 * highest_zoneidx), from the zone bits (gfp & 0x0f) as GFP_ZONE_TABLE maps them on x86-64
 * without HIGHMEM: none or MOVABLE alone -> Normal, HIGHMEM -> Normal, MOVABLE|HIGHMEM ->
 * Movable, DMA (with or without MOVABLE) -> DMA, DMA32 (with or without MOVABLE) -> DMA32.
 * The combinations the kernel calls GFP_ZONE_BAD (two of DMA, DMA32, HIGHMEM) throw ValueError.
 */
export function gfpZone(gfp: number): number {
  const bits = gfp & 0x0f;
  const zoneBits = bits & (__GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32);
  if (zoneBits & (zoneBits - 1)) throw new ValueError(`gfp mask 0x${gfp.toString(16)} names two zones (GFP_ZONE_BAD)`);
  if (zoneBits === __GFP_DMA) return ZONE_DMA;
  if (zoneBits === __GFP_DMA32) return ZONE_DMA32;
  if (zoneBits === __GFP_HIGHMEM && bits & __GFP_MOVABLE) return ZONE_MOVABLE;
  return ZONE_NORMAL;
}

/** gfp_migratetype(): 0 UNMOVABLE, 1 MOVABLE, 2 RECLAIMABLE from __GFP_MOVABLE / __GFP_RECLAIMABLE. */
export function gfpMigratetype(gfp: number): number {
  return (gfp & (__GFP_RECLAIMABLE | __GFP_MOVABLE)) >> 3;
}

/** What build_zonelists needs of each node: whether it has memory and whether it has CPUs. */
export interface ZonelistNode {
  nid: number;
  /** N_MEMORY: the node has present pages (only those appear in other nodes' lists) */
  hasMemory: boolean;
  /** cpumask_of_node is not empty */
  hasCpus: boolean;
}

/**
 * The fallback node order of every node, as __build_all_zonelists computes it: for each node
 * in id order, repeatedly find_next_best_node (the node itself first, then the N_MEMORY node
 * with the smallest `(distance + (n < node) + (n has CPUs)) * MAX_NUMNODES + node_load[n]`),
 * adding 1 to node_load[n] whenever n's distance differs from the previous pick's, so nodes at
 * equal distance take turns. node_load is shared by all nodes' passes (reset once).
 * `distance(a, b)` defaults to 10 for a == b, else 20. Returns the order per node id.
 */
export function buildNodeOrders(
  nodes: readonly ZonelistNode[],
  distance: (a: number, b: number) => number = (a, b) => (a === b ? LOCAL_DISTANCE : REMOTE_DISTANCE),
): number[][] {
  nodes.forEach((n, i) => {
    if (n.nid !== i) throw new ValueError(`node ids must be 0, 1, 2, ... in order: expected ${i}, got ${n.nid}`);
  });
  const nodeLoad = nodes.map(() => 0);
  return nodes.map((self) => {
    const local = self.nid;
    const used = new Set<number>();
    const order: number[] = [];
    let prev = local;
    for (;;) {
      let best = -1;
      if (!used.has(local)) best = local;
      else {
        let minVal = Infinity;
        for (const n of nodes) {
          if (!n.hasMemory || used.has(n.nid)) continue;
          let val = distance(local, n.nid) + (n.nid < local ? 1 : 0) + (n.hasCpus ? PENALTY_FOR_NODE_WITH_CPUS : 0);
          val = val * MAX_NUMNODES + nodeLoad[n.nid]!;
          if (val < minVal) {
            minVal = val;
            best = n.nid;
          }
        }
      }
      if (best < 0) break;
      used.add(best);
      if (distance(local, best) !== distance(local, prev)) nodeLoad[best]!++;
      order.push(best);
      prev = best;
    }
    return order;
  });
}

/** One entry of a zonelist (struct zoneref): a node and a zone index. */
export interface Zoneref {
  nid: number;
  zoneIdx: number;
}

/**
 * ZONELIST_FALLBACK of every node of `layout`: build_zonelists_in_node_order over
 * buildNodeOrders, each node contributing its populated zones (present pages) from the highest
 * index down (build_zonerefs_node). `cpusByNode[nid]` > 0 marks nodes with CPUs.
 */
export function buildZonelists(
  layout: ZoneLayout,
  cpusByNode: readonly number[],
  distance?: (a: number, b: number) => number,
): Zoneref[][] {
  if (cpusByNode.length !== layout.nodes.length)
    throw new ValueError(`cpusByNode has ${cpusByNode.length} entries for ${layout.nodes.length} nodes`);
  const nodes = layout.nodes.map((n) => ({ nid: n.nid, hasMemory: n.zones.some((z) => z.presentPages > 0), hasCpus: cpusByNode[n.nid]! > 0 }));
  const zonerefs = (nid: number): Zoneref[] => {
    const out: Zoneref[] = [];
    for (let z = MAX_NR_ZONES - 1; z >= 0; z--) if (layout.nodes[nid]!.zones[z]!.presentPages > 0) out.push({ nid, zoneIdx: z });
    return out;
  };
  return buildNodeOrders(nodes, distance).map((order) => order.flatMap(zonerefs));
}

/**
 * The zones an allocation walks (for_next_zone_zonelist_nodemask): the zonelist without
 * zones above `highestZoneidx`; the first entry is ac->preferred_zoneref.
 */
export function eligibleZones(zonelist: readonly Zoneref[], highestZoneidx: number): Zoneref[] {
  return zonelist.filter((z) => z.zoneIdx <= highestZoneidx);
}
