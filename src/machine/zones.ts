/**
 * The zones of a machine's nodes as Linux 6.1 lays them out on x86-64 (SPEC §3 [next: zones],
 * KERNEL-REFERENCE-2 §1.1-§1.2): ZONE_DMA below 16 MiB, ZONE_DMA32 below 4 GiB, ZONE_NORMAL
 * above, ZONE_MOVABLE from `kernelcore=` / `movablecore=`, ZONE_DEVICE always empty. Pure
 * functions from a memory map (the RAM pfn ranges of each node, memblock.memory) to zone spans
 * with spanned, present and managed pages:
 *
 * - archZoneRanges: zone_sizes_init + free_area_init's arch_zone_lowest/highest_possible_pfn;
 * - findZoneMovablePfns: find_usable_zone_for_movable + find_zone_movable_pfns_for_nodes;
 * - layoutZones: zone_spanned_pages_in_node, zone_absent_pages_in_node,
 *   adjust_zone_range_for_zone_movable, calculate_node_totalpages; managed pages are present
 *   minus memblock reservations (memblock_free_all frees the rest);
 * - qemuPcMemoryMap: the RAM a QEMU `pc` (i440fx) guest with SeaBIOS shows Linux, node by
 *   node as QEMU's SRAT splits it: the map `wsim kernel`'s guests and the presets use;
 * - flatLayout: today's wsim model, one Normal zone per node from pfn 0 (`"zones": "flat"`).
 *
 * Simplified: `movable_node` and `kernelcore=mirror` are not modelled (no hotpluggable or
 * mirrored memory in a machine); memory is contiguous per node apart from the holes given in
 * the map; reservations other than the first 1 MiB (kernel image, memmap, initrd, page
 * tables, crashkernel) cannot be derived and are given as page counts per zone. Units are
 * 4 KiB pages and pfns; ranges are half-open [start, end). Invalid input throws ValueError.
 */
import { ValueError } from "../errors.js";
import { MAX_ORDER } from "../mm/constants.js";
import type { Machine } from "./machine.js";

/** enum zone_type of 6.1 on x86-64 (CONFIG_ZONE_DMA, CONFIG_ZONE_DMA32, no HIGHMEM, CONFIG_ZONE_DEVICE). */
export const ZONE_DMA = 0;
/** below 4 GiB */
export const ZONE_DMA32 = 1;
/** the rest of lowmem (all of it above 4 GiB on x86-64) */
export const ZONE_NORMAL = 2;
/** only movable allocations; sized by kernelcore= / movablecore= */
export const ZONE_MOVABLE = 3;
/** device memory (pmem, HMM); always empty in a wsim machine */
export const ZONE_DEVICE = 4;
/** MAX_NR_ZONES with CONFIG_ZONE_DEVICE (Debian's 6.1 has it): zoneinfo prints 5 zones, protection 5 values. */
export const MAX_NR_ZONES = 5;
/** zone_names[] of 6.1, by zone index. */
export const ZONE_NAMES: readonly string[] = ["DMA", "DMA32", "Normal", "Movable", "Device"];

/** MAX_DMA_PFN (arch/x86/include/asm/dma.h): 16 MiB >> PAGE_SHIFT. */
export const MAX_DMA_PFN = 4096;
/** MAX_DMA32_PFN: 4 GiB >> PAGE_SHIFT. */
export const MAX_DMA32_PFN = 1 << 20;
/** MAX_ORDER_NR_PAGES: ZONE_MOVABLE's start and movablecore are rounded up to it. */
export const MAX_ORDER_NR_PAGES = 1 << (MAX_ORDER - 1);
/** The pfn where x86 RAM above 4 GiB starts. */
const PFN_4G = MAX_DMA32_PFN;

/** A half-open pfn range [start, end). */
export interface PfnRange {
  start: number;
  end: number;
}

/** memblock.memory of a machine: each node's RAM as ascending, disjoint pfn ranges. */
export interface MemoryMap {
  nodes: { nid: number; ranges: PfnRange[] }[];
}

/** One zone of one node, as calculate_node_totalpages and memblock_free_all leave it. */
export interface ZoneSpan {
  /** zone index, ZONE_DMA .. ZONE_DEVICE */
  idx: number;
  name: string;
  /** zone_start_pfn (0 for an empty zone, as the kernel sets it) */
  zoneStartPfn: number;
  /** spanned_pages: zone_end_pfn - zone_start_pfn, holes included */
  spannedPages: number;
  /** present_pages: spanned minus holes */
  presentPages: number;
  /** managed_pages: present minus memblock reservations */
  managedPages: number;
}

/** One node (pgdat) and its MAX_NR_ZONES zones. */
export interface NodeZones {
  nid: number;
  /** node_start_pfn; node_spanned_pages = nodeEndPfn - nodeStartPfn */
  nodeStartPfn: number;
  nodeEndPfn: number;
  /** node_present_pages */
  nodePresentPages: number;
  zones: ZoneSpan[];
}

/** A machine's zone layout. */
export interface ZoneLayout {
  kind: "x86-64" | "flat";
  nodes: NodeZones[];
  /** arch_zone_lowest/highest_possible_pfn per zone index (Movable: 0, 0) */
  archRanges: PfnRange[];
  /** movable_zone: the zone ZONE_MOVABLE takes its pages from (DMA32 or Normal) */
  movableZone: number;
  /** zone_movable_pfn[nid]: where the node's ZONE_MOVABLE starts, 0 = none */
  zoneMovablePfn: number[];
}

/** kernelcore= / movablecore= as cmdline_parse_core reads it: a size in pages or a percentage. */
export type CoreParam = { pages: number } | { percent: number };

/** Options of layoutZones. */
export interface LayoutOptions {
  kernelcore?: CoreParam;
  movablecore?: CoreParam;
  /**
   * memblock.reserved ranges that lie in RAM (default: X86_RESERVED_LOW, the first 1 MiB
   * that 6.1's setup_arch reserves unconditionally); present pages inside them are not managed. Ranges must not overlap each other (a page would count twice).
   */
  reservedRanges?: PfnRange[];
  /**
   * Further reserved pages per node id and zone index (kernel image, memmap, initrd not yet
   * freed, page tables, percpu, ...): counts that no formula gives, measured from a real
   * machine (present - managed in its zoneinfo). Default 0.
   */
  reservedPages?: Record<number, Partial<Record<number, number>>>;
}

/** reserve_real_mode() and trim_bios_range(): 6.1 on x86 reserves all of [0, 1 MiB). */
export const X86_RESERVED_LOW: readonly PfnRange[] = [{ start: 0, end: 256 }];

/**
 * cmdline_parse_core for `kernelcore=` / `movablecore=`: `N%` (an integer percentage of all
 * present pages) or a size in memparse's form (`512M`, `4G`, `1048576K`, bytes; the suffixes
 * K M G T P E in either case), rounded down to pages. Throws ValueError for anything else.
 */
export function parseCoreParam(text: string): CoreParam {
  const s = text.trim();
  const pct = /^(\d+)%$/.exec(s);
  if (pct) {
    const p = Number(pct[1]);
    if (p > 100) throw new ValueError(`a percentage of memory must be 0..100, got ${s}`);
    return { percent: p };
  }
  const m = /^(\d+)([kmgtpe]?)$/i.exec(s);
  if (!m) throw new ValueError(`expected a size like 512M, 4G or a percentage like 25%, got ${JSON.stringify(s)}`);
  const shift = { "": 0, k: 10, m: 20, g: 30, t: 40, p: 50, e: 60 }[m[2]!.toLowerCase() as "k"]!;
  const bytes = BigInt(m[1]!) << BigInt(shift);
  const pages = bytes >> 12n;
  if (pages > BigInt(Number.MAX_SAFE_INTEGER)) throw new ValueError(`size ${s} is too large`);
  return { pages: Number(pages) };
}

function checkRanges(map: MemoryMap): void {
  if (map.nodes.length === 0) throw new ValueError("a memory map needs at least one node");
  let prevEnd = 0;
  map.nodes.forEach((n, i) => {
    if (n.nid !== i) throw new ValueError(`node ids must be 0, 1, 2, ... in order: expected ${i}, got ${n.nid}`);
    if (n.ranges.length === 0) throw new ValueError(`node ${i} has no memory`);
    for (const r of n.ranges) {
      if (!Number.isSafeInteger(r.start) || !Number.isSafeInteger(r.end) || r.start < 0 || r.end <= r.start)
        throw new ValueError(`node ${i}: bad pfn range [${r.start}, ${r.end})`);
      if (r.start < prevEnd) throw new ValueError(`node ${i}: pfn range [${r.start}, ${r.end}) overlaps or precedes the one before it`);
      prevEnd = r.end;
    }
  });
}

/**
 * zone_sizes_init (arch/x86/mm/init.c) then free_area_init's walk: the arch limits
 * DMA = min(MAX_DMA_PFN, max_pfn), DMA32 = min(MAX_DMA32_PFN, max_pfn), Normal = max_pfn,
 * laid end to end from PHYS_PFN(memblock_start_of_DRAM()) = `startPfn`; ZONE_MOVABLE is
 * skipped (0, 0) and ZONE_DEVICE gets the empty [max_pfn, max_pfn). Returns
 * arch_zone_lowest/highest_possible_pfn per zone index.
 */
export function archZoneRanges(startPfn: number, maxPfn: number): PfnRange[] {
  const maxZonePfn = [Math.min(MAX_DMA_PFN, maxPfn), Math.min(MAX_DMA32_PFN, maxPfn), maxPfn, 0, 0];
  const out: PfnRange[] = [];
  let start = startPfn;
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    if (z === ZONE_MOVABLE) {
      out.push({ start: 0, end: 0 });
      continue;
    }
    const end = Math.max(maxZonePfn[z]!, start);
    out.push({ start, end });
    start = end;
  }
  return out;
}

/** find_usable_zone_for_movable: the highest zone other than Movable whose arch range is not empty. */
export function findUsableZoneForMovable(arch: readonly PfnRange[]): number {
  for (let z = MAX_NR_ZONES - 1; z >= 0; z--) {
    if (z === ZONE_MOVABLE) continue;
    if (arch[z]!.end > arch[z]!.start) return z;
  }
  throw new ValueError("no zone has memory");
}

const roundup = (x: number, a: number) => Math.ceil(x / a) * a;

/**
 * find_zone_movable_pfns_for_nodes for the size and percent forms of kernelcore= and
 * movablecore= (KERNEL-REFERENCE-2 §1.2): `zone_movable_pfn[nid]` per node, 0 where the node
 * has no ZONE_MOVABLE. totalpages are all present pages (early_calculate_totalpages); a
 * percentage is `totalpages * 100 * N / 10000`; movablecore is rounded up to
 * MAX_ORDER_NR_PAGES and turns into `kernelcore = max(kernelcore, totalpages - movablecore)`;
 * kernel memory is spread evenly over the nodes, memory below the movable zone's arch start
 * counting as kernel memory; further passes with one node fewer while some is still required;
 * each start is finally rounded up to MAX_ORDER_NR_PAGES and dropped if at or past the node's
 * end. Not modelled: movable_node, kernelcore=mirror.
 */
export function findZoneMovablePfns(map: MemoryMap, arch: readonly PfnRange[], opts: Pick<LayoutOptions, "kernelcore" | "movablecore"> = {}): number[] {
  const zoneMovablePfn = map.nodes.map(() => 0);
  const movableZone = findUsableZoneForMovable(arch);
  const totalpages = map.nodes.reduce((s, n) => s + n.ranges.reduce((a, r) => a + r.end - r.start, 0), 0);
  const pagesOf = (p: CoreParam | undefined) =>
    p === undefined ? 0 : "percent" in p ? Math.floor((totalpages * 100 * p.percent) / 10000) : p.pages;
  let requiredKernelcore = pagesOf(opts.kernelcore);
  let requiredMovablecore = pagesOf(opts.movablecore);
  if (requiredMovablecore) {
    requiredMovablecore = Math.min(totalpages, roundup(requiredMovablecore, MAX_ORDER_NR_PAGES));
    requiredKernelcore = Math.max(requiredKernelcore, totalpages - requiredMovablecore);
  }
  if (!requiredKernelcore || requiredKernelcore >= totalpages) return zoneMovablePfn;
  const usableStartpfn = arch[movableZone]!.start;
  let usableNodes = map.nodes.length;
  for (;;) {
    let kernelcoreNode = Math.floor(requiredKernelcore / usableNodes);
    for (const node of map.nodes) {
      const nid = node.nid;
      if (requiredKernelcore < kernelcoreNode) kernelcoreNode = Math.floor(requiredKernelcore / usableNodes);
      let remaining = kernelcoreNode;
      for (const r of node.ranges) {
        let start = Math.max(r.start, zoneMovablePfn[nid]!);
        const end = r.end;
        if (start >= end) continue;
        if (start < usableStartpfn) {
          const kernelPages = Math.min(end, usableStartpfn) - start;
          remaining -= Math.min(kernelPages, remaining);
          requiredKernelcore -= Math.min(kernelPages, requiredKernelcore);
          if (end <= usableStartpfn) {
            zoneMovablePfn[nid] = end;
            continue;
          }
          start = usableStartpfn;
        }
        const size = Math.min(end - start, remaining);
        zoneMovablePfn[nid] = start + size;
        requiredKernelcore -= Math.min(requiredKernelcore, size);
        remaining -= size;
        if (!remaining) break;
      }
    }
    usableNodes--;
    if (!(usableNodes && requiredKernelcore > usableNodes)) break;
  }
  return map.nodes.map((n) => {
    const pfn = roundup(zoneMovablePfn[n.nid]!, MAX_ORDER_NR_PAGES);
    return pfn >= n.ranges[n.ranges.length - 1]!.end ? 0 : pfn;
  });
}

/** Pages of `ranges` inside [start, end). */
function pagesIn(ranges: readonly PfnRange[], start: number, end: number): number {
  let n = 0;
  for (const r of ranges) n += Math.max(0, Math.min(r.end, end) - Math.max(r.start, start));
  return n;
}

/**
 * The zones of every node (calculate_node_totalpages): for zone z of node n,
 * [clamp(node_start, arch z), clamp(node_end, arch z)) cut by adjust_zone_range_for_zone_movable
 * (Movable = [zone_movable_pfn, min(node_end, arch end of movable_zone)), the zone below ends
 * at zone_movable_pfn, zones above it are empty), spanned = end - start, present = RAM pages
 * inside, managed = present minus `reservedRanges` and `reservedPages`. Throws ValueError for
 * a bad map or a reservation larger than the zone's unreserved present pages.
 */
export function layoutZones(map: MemoryMap, opts: LayoutOptions = {}): ZoneLayout {
  checkRanges(map);
  const all = map.nodes.flatMap((n) => n.ranges);
  const arch = archZoneRanges(all[0]!.start, all[all.length - 1]!.end);
  const movableZone = findUsableZoneForMovable(arch);
  const zoneMovablePfn = findZoneMovablePfns(map, arch, opts);
  const reserved = opts.reservedRanges ?? X86_RESERVED_LOW;
  const nodes = map.nodes.map((node): NodeZones => {
    const nid = node.nid;
    const nodeStart = node.ranges[0]!.start;
    const nodeEnd = node.ranges[node.ranges.length - 1]!.end;
    const movStart = zoneMovablePfn[nid]!;
    const zones = ZONE_NAMES.map((name, z): ZoneSpan => {
      const clamp = (x: number) => Math.min(Math.max(x, arch[z]!.start), arch[z]!.end);
      let start = clamp(nodeStart);
      let end = clamp(nodeEnd);
      if (movStart) {
        if (z === ZONE_MOVABLE) {
          start = movStart;
          end = Math.min(nodeEnd, arch[movableZone]!.end);
        } else if (start < movStart && end > movStart) end = movStart;
        else if (start >= movStart) start = end;
      }
      let spanned = 0;
      if (!(end < nodeStart || start > nodeEnd)) {
        end = Math.min(end, nodeEnd);
        start = Math.max(start, nodeStart);
        spanned = Math.max(0, end - start);
      }
      if (!spanned) return { idx: z, name, zoneStartPfn: 0, spannedPages: 0, presentPages: 0, managedPages: 0 };
      const present = pagesIn(node.ranges, start, end);
      let reservedHere = 0;
      for (const r of node.ranges) {
        const s = Math.max(r.start, start);
        const e = Math.min(r.end, end);
        if (e > s) reservedHere += pagesIn(reserved, s, e);
      }
      const extra = opts.reservedPages?.[nid]?.[z] ?? 0;
      if (!Number.isSafeInteger(extra) || extra < 0) throw new ValueError(`reserved pages of node ${nid} zone ${name} must be a non-negative integer, got ${extra}`);
      if (extra > present - reservedHere)
        throw new ValueError(`node ${nid} zone ${name}: ${extra} reserved pages, but only ${present - reservedHere} present pages are not reserved already`);
      return { idx: z, name, zoneStartPfn: start, spannedPages: spanned, presentPages: present, managedPages: present - reservedHere - extra };
    });
    for (const [z, v] of Object.entries(opts.reservedPages?.[nid] ?? {}))
      if (v && !zones[Number(z)]?.spannedPages)
        throw new ValueError(`node ${nid} zone ${ZONE_NAMES[Number(z)] ?? z}: ${v} reserved pages in a zone the node does not have`);
    return {
      nid,
      nodeStartPfn: nodeStart,
      nodeEndPfn: nodeEnd,
      nodePresentPages: node.ranges.reduce((s, r) => s + r.end - r.start, 0),
      zones,
    };
  });
  for (const nid of Object.keys(opts.reservedPages ?? {}))
    if (!nodes[Number(nid)]) throw new ValueError(`reserved pages given for node ${nid}, which the machine does not have`);
  return { kind: "x86-64", nodes, archRanges: arch, movableZone, zoneMovablePfn };
}

/** Options of qemuPcMemoryMap. */
export interface QemuPcOptions {
  /**
   * Pages SeaBIOS keeps at the top of the RAM below 4 GiB for its tables (an e820 "reserved"
   * entry; Linux never sees them). It depends on the firmware build and the ACPI tables (CPUs,
   * devices): QEMU_SEABIOS_TOP_RESERVED by default, the value of the sample guest.
   */
  firmwareTopReserved?: number;
}

/**
 * Measured: the 424 MiB one-CPU guest of `../shared/kernel-samples/zoneinfo.txt` (QEMU `pc`,
 * SeaBIOS) ends DMA32 at pfn 108503 = 108544 - 41.
 */
export const QEMU_SEABIOS_TOP_RESERVED = 41;

/**
 * The RAM (memblock.memory) Linux 6.1 sees in a QEMU `pc` (i440fx) guest with SeaBIOS, `-m`
 * the sum of `nodePages` and one `-numa node` per entry (QEMU's build_srat gives node i the
 * next nodePages[i] of RAM, cutting at the PCI hole):
 * - RAM below 4 GiB is all of it up to 3.5 GiB, else 3 GiB (pc_init1's gigabyte-aligned
 *   split, max-ram-below-4g unset); the rest starts at 4 GiB (pfn 0x100000);
 * - SeaBIOS's e820 marks [0x9fc00, 0x100000) reserved (EBDA, VGA, option ROMs, BIOS) and
 *   the top `firmwareTopReserved` pages below 4 GiB; Linux's trim_bios_range makes pfn 0
 *   reserved and e820 rounds the partial page at 0x9f000 away;
 * so node 0 starts at pfn 1 with the ranges [1, 0x9f), [0x100, low_end), [0x100000, ...).
 * Throws ValueError for a node under 2 MiB or a first node that does not reach 1 MiB.
 */
export function qemuPcMemoryMap(nodePages: readonly number[], opts: QemuPcOptions = {}): MemoryMap {
  const fw = opts.firmwareTopReserved ?? QEMU_SEABIOS_TOP_RESERVED;
  if (nodePages.length === 0) throw new ValueError("a machine needs at least one node");
  nodePages.forEach((p, i) => {
    if (!Number.isSafeInteger(p) || p < 512) throw new ValueError(`node ${i}: at least 2 MiB (512 pages) of memory, got ${p} pages`);
  });
  if (!Number.isSafeInteger(fw) || fw < 0) throw new ValueError(`firmware reserved pages must be a non-negative integer, got ${fw}`);
  const total = nodePages.reduce((s, p) => s + p, 0);
  const below4g = total >= 0xe0000 ? 0xc0000 : total; // 3.5 GiB / 3 GiB in pages
  if (fw >= below4g - 0x100) throw new ValueError(`firmware reserved pages (${fw}) leave no RAM above 1 MiB`);
  // RAM "offsets" (what -m counts) to guest pfns: [0, below4g) as is, the rest from 4 GiB
  const toPfnRanges = (from: number, to: number): PfnRange[] => {
    const out: PfnRange[] = [];
    if (from < below4g) out.push({ start: from, end: Math.min(to, below4g) });
    if (to > below4g) out.push({ start: PFN_4G + Math.max(from, below4g) - below4g, end: PFN_4G + to - below4g });
    return out;
  };
  // what e820 says is not RAM below 4 GiB
  const holes: PfnRange[] = [
    { start: 0, end: 1 },
    { start: 0x9f, end: 0x100 },
    { start: below4g - fw, end: below4g },
  ];
  const cut = (r: PfnRange): PfnRange[] => {
    let parts = [r];
    for (const h of holes)
      parts = parts.flatMap((p) => {
        if (h.end <= p.start || h.start >= p.end) return [p];
        const out: PfnRange[] = [];
        if (h.start > p.start) out.push({ start: p.start, end: h.start });
        if (h.end < p.end) out.push({ start: h.end, end: p.end });
        return out;
      });
    return parts;
  };
  let offset = 0;
  return {
    nodes: nodePages.map((p, nid) => {
      const ranges = toPfnRanges(offset, offset + p).flatMap(cut);
      offset += p;
      if (ranges.length === 0) throw new ValueError(`node ${nid} has no RAM left after the firmware's reservations`);
      return { nid, ranges };
    }),
  };
}

/**
 * Today's layout (SPEC §3 before zones): one Normal zone per node, node i from the sum of
 * the sizes before it, every page present and managed; the other zones empty.
 */
export function flatLayout(nodePages: readonly number[]): ZoneLayout {
  let start = 0;
  const nodes = nodePages.map((p, nid): NodeZones => {
    if (!Number.isSafeInteger(p) || p <= 0) throw new ValueError(`node ${nid}: a positive page count, got ${p}`);
    const zones = ZONE_NAMES.map((name, idx): ZoneSpan =>
      idx === ZONE_NORMAL
        ? { idx, name, zoneStartPfn: start, spannedPages: p, presentPages: p, managedPages: p }
        : { idx, name, zoneStartPfn: 0, spannedPages: 0, presentPages: 0, managedPages: 0 },
    );
    const node = { nid, nodeStartPfn: start, nodeEndPfn: start + p, nodePresentPages: p, zones };
    start += p;
    return node;
  });
  const end = start;
  return {
    kind: "flat",
    nodes,
    archRanges: ZONE_NAMES.map((_, z) => (z === ZONE_NORMAL ? { start: 0, end } : { start: 0, end: 0 })),
    movableZone: ZONE_NORMAL,
    zoneMovablePfn: nodePages.map(() => 0),
  };
}

/**
 * A machine's layout: `"flat"` (today's), or `"qemu-pc"`, the zones its nodes get in a QEMU
 * pc guest of the same sizes (qemuPcMemoryMap + layoutZones).
 */
export function machineZoneLayout(
  m: Pick<Machine, "nodes">,
  kind: "flat" | "qemu-pc",
  opts: LayoutOptions & QemuPcOptions = {},
): ZoneLayout {
  const sizes = m.nodes.map((n) => n.mem);
  if (kind === "flat") return flatLayout(sizes);
  return layoutZones(qemuPcMemoryMap(sizes, opts), opts);
}

/** managed_pages per zone index, per node: the input of src/mm/zone-params.ts. */
export function managedByNode(layout: ZoneLayout): number[][] {
  return layout.nodes.map((n) => n.zones.map((z) => z.managedPages));
}

/**
 * One zone of a machine file's explicit list: node `node`'s zone `name` (DMA, DMA32, Normal or
 * Movable) spans pfns [start, end), all of it RAM; `managed` (default: all of it) pages are
 * the buddy allocator's, the rest are reserved at the top of the zone (memblock allocates top
 * down).
 */
export interface ExplicitZone {
  node: number;
  name: string;
  start: number;
  end: number;
  managed?: number;
  /**
   * present_pages when the span has a hole (a machine read from /proc/zoneinfo): the hole is
   * the legacy [640 KiB, 1 MiB) one below pfn 0x100 for a zone starting below 1 MiB (x86's
   * e820 hole), else the top of the span; reserved pages (present - managed) are then the RAM
   * below 1 MiB first (6.1's setup_arch reserves it), the rest at the top. Default: spanned.
   */
  present?: number;
  /** the zone's _watermark[] min/low/high and lowmem_reserve[] as a saved zoneinfo printed them: set at boot, not computed */
  min?: number;
  low?: number;
  high?: number;
  protection?: number[];
}

/** The pfn where x86's legacy hole ends and the first MiB that 6.1 always reserves ends. */
const PFN_1M = 0x100;

/**
 * The RAM and the reserved ranges of an explicit zone [start, end) with `present` RAM pages and
 * `managed` buddy pages (ExplicitZone.present's rules).
 */
function explicitRam(start: number, end: number, present: number, managed: number, withHole: boolean): { ram: PfnRange[]; reserved: PfnRange[] } {
  const hole = end - start - present;
  let ram: PfnRange[];
  if (hole === 0) ram = [{ start, end }];
  else if (start < PFN_1M && PFN_1M - hole > start && PFN_1M < end) ram = [{ start, end: PFN_1M - hole }, { start: PFN_1M, end }];
  else ram = [{ start, end: end - hole }];
  let left = present - managed;
  const reserved: PfnRange[] = [];
  if (withHole) {
    // the first MiB first, then top down
    for (const r of ram) {
      if (!left || r.start >= PFN_1M) break;
      const e = Math.min(r.end, PFN_1M, r.start + left);
      reserved.push({ start: r.start, end: e });
      left -= e - r.start;
    }
  }
  for (let i = ram.length - 1; i >= 0 && left > 0; i--) {
    const r = ram[i]!;
    const lo = Math.max(r.start, reserved.length && reserved[reserved.length - 1]!.end > r.start ? reserved[reserved.length - 1]!.end : r.start);
    const s = Math.max(lo, r.end - left);
    if (s < r.end) {
      reserved.push({ start: s, end: r.end });
      left -= r.end - s;
    }
  }
  reserved.sort((a, b) => a.start - b.start);
  return { ram, reserved };
}

/**
 * The layout of an explicit zone list. Each node's zones, by ascending zone index, must lie at
 * ascending, non-overlapping pfns, nodes one after the other; a node's zones must cover exactly
 * its `mem` pages. Throws ValueError naming the entry (`zones[i]`) for anything else.
 */
export function explicitZones(sizes: readonly number[], list: readonly ExplicitZone[]): MachineZones {
  const nodes: NodeZones[] = sizes.map((_, nid) => ({
    nid,
    nodeStartPfn: 0,
    nodeEndPfn: 0,
    nodePresentPages: 0,
    zones: ZONE_NAMES.map((name, idx): ZoneSpan => ({ idx, name, zoneStartPfn: 0, spannedPages: 0, presentPages: 0, managedPages: 0 })),
  }));
  const reserved: PfnRange[] = [];
  const ramOf = new Map<ZoneSpan, PfnRange[]>();
  list.forEach((z, i) => {
    const at = `zones[${i}]`;
    const idx = ZONE_NAMES.indexOf(z.name);
    if (idx < 0 || idx > ZONE_MOVABLE) throw new ValueError(`${at}: zone name must be DMA, DMA32, Normal or Movable, got ${JSON.stringify(z.name)}`);
    if (!Number.isSafeInteger(z.node) || z.node < 0 || z.node >= sizes.length) throw new ValueError(`${at}: node must be a node id 0..${sizes.length - 1}, got ${z.node}`);
    if (!Number.isSafeInteger(z.start) || !Number.isSafeInteger(z.end) || z.start < 0 || z.end <= z.start)
      throw new ValueError(`${at}: start and end must be pfns with start < end, got [${z.start}, ${z.end})`);
    const spanned = z.end - z.start;
    const present = z.present ?? spanned;
    if (!Number.isSafeInteger(present) || present < 1 || present > spanned) throw new ValueError(`${at}: present must be 1..${spanned} pages, got ${present}`);
    const managed = z.managed ?? present;
    if (!Number.isSafeInteger(managed) || managed < 0 || managed > present) throw new ValueError(`${at}: managed must be 0..${present} pages, got ${managed}`);
    const span = nodes[z.node]!.zones[idx]!;
    if (span.spannedPages) throw new ValueError(`${at}: node ${z.node} has zone ${z.name} twice`);
    Object.assign(span, { zoneStartPfn: z.start, spannedPages: spanned, presentPages: present, managedPages: managed });
    const r = explicitRam(z.start, z.end, present, managed, z.present !== undefined);
    ramOf.set(span, r.ram);
    reserved.push(...r.reserved);
  });
  let prevEnd = 0;
  const map: MemoryMap = { nodes: [] };
  for (const n of nodes) {
    const zs = n.zones.filter((z) => z.spannedPages);
    if (!zs.length) throw new ValueError(`zones: node ${n.nid} has no zone`);
    for (const z of zs) {
      if (z.zoneStartPfn < prevEnd)
        throw new ValueError(`zones: node ${n.nid} zone ${z.name} [${z.zoneStartPfn}, ${z.zoneStartPfn + z.spannedPages}) overlaps or precedes the zone before it (zones by node, then DMA, DMA32, Normal, Movable, at ascending pfns)`);
      prevEnd = z.zoneStartPfn + z.spannedPages;
    }
    n.nodeStartPfn = zs[0]!.zoneStartPfn;
    n.nodeEndPfn = prevEnd;
    n.nodePresentPages = zs.reduce((a, z) => a + z.presentPages, 0);
    if (n.nodePresentPages !== sizes[n.nid]) throw new ValueError(`zones: node ${n.nid}'s zones hold ${n.nodePresentPages} pages, its mem is ${sizes[n.nid]}`);
    map.nodes.push({ nid: n.nid, ranges: zs.flatMap((z) => ramOf.get(z)!) });
  }
  reserved.sort((a, b) => a.start - b.start);
  const end = prevEnd;
  const layout: ZoneLayout = {
    kind: "x86-64",
    nodes,
    archRanges: ZONE_NAMES.map(() => ({ start: 0, end })),
    movableZone: ZONE_NORMAL,
    zoneMovablePfn: nodes.map((n) => n.zones[ZONE_MOVABLE]!.zoneStartPfn),
  };
  return { layout, map, reserved };
}

/** A machine's layout and the RAM map it came from (flat: each node's whole range is RAM). */
export interface MachineZones {
  layout: ZoneLayout;
  map: MemoryMap;
  /** memblock.reserved ranges inside RAM: never handed to the buddy allocator */
  reserved: readonly PfnRange[];
}

/**
 * The zones a machine's `zones` key asks for: "flat" (default) is flatLayout; "x86" the QEMU pc
 * layout of the node sizes (qemuPcMemoryMap + layoutZones), with the machine's `kernelcore` /
 * `movablecore` parsed as the boot parameters are (cmdline_parse_core). Throws ValueError for
 * a layout that cannot be built (a node under 2 MiB, a bad kernelcore).
 */
export function machineZones(m: Pick<Machine, "nodes" | "zones" | "kernelcore" | "movablecore">): MachineZones {
  const sizes = m.nodes.map((n) => n.mem);
  if (Array.isArray(m.zones)) return explicitZones(sizes, m.zones);
  if ((m.zones ?? "flat") === "flat") {
    let start = 0;
    const map: MemoryMap = {
      nodes: sizes.map((p, nid) => {
        const r = { start, end: start + p };
        start += p;
        return { nid, ranges: [r] };
      }),
    };
    return { layout: flatLayout(sizes), map, reserved: [] };
  }
  const opts: LayoutOptions = {};
  if (m.kernelcore !== undefined) opts.kernelcore = parseCoreParam(m.kernelcore);
  if (m.movablecore !== undefined) opts.movablecore = parseCoreParam(m.movablecore);
  const map = qemuPcMemoryMap(sizes);
  return { layout: layoutZones(map, opts), map, reserved: X86_RESERVED_LOW };
}
