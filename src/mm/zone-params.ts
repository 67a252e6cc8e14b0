/**
 * The numbers Linux 6.1 derives for each zone from its managed pages (mm/page_alloc.c,
 * mm/khugepaged.c, mm/vmstat.c), as pure functions of plain numbers, so the zones of a
 * machine (src/machine/zones.ts) or of a saved /proc/zoneinfo (src/procfs/zoneinfo.ts) get
 * the kernel's lowmem_reserve, watermarks, pcp batch/high and vmstat thresholds without a
 * model behind them:
 *
 * - lowmem_reserve: setup_per_zone_lowmem_reserve over vm.lowmem_reserve_ratio;
 * - min_free_kbytes: calculate_min_free_kbytes, raised by set_recommended_min_free_kbytes;
 * - watermarks: __setup_per_zone_wmarks (min split by managed pages, low/high/promo by
 *   watermark_scale_factor), and calculate_totalreserve_pages;
 * - pcp: zone_batchsize, zone_highsize, zone_set_pageset_high_and_batch;
 * - vm stats threshold: calculate_normal_threshold, calculate_pressure_threshold.
 *
 * Shapes: a node's zones are arrays indexed by zone index (ZONE_DMA .. ZONE_DEVICE, length
 * MAX_NR_ZONES); a machine's zones are such arrays per node, by node id. Units are 4 KiB
 * pages unless a name says kbytes. x86-64 has no ZONE_HIGHMEM, so every zone is lowmem
 * (the highmem branches of these functions are left out). Invalid arguments throw
 * ValueError (a caller turns it into a UsageError or a DataError).
 */
import { ValueError } from "../errors.js";
import { MAX_NR_ZONES, ZONE_NORMAL } from "../machine/zones.js";
import { MIGRATE_PCPTYPES, PAGEBLOCK_NR_PAGES } from "./constants.js";
import { multFrac } from "./buddy.js";

/** int_sqrt: floor(sqrt(x)) exactly. */
export function intSqrt(x: number): number {
  let r = Math.floor(Math.sqrt(x));
  while (r * r > x) r--;
  while ((r + 1) * (r + 1) <= x) r++;
  return r;
}

/** sysctl_lowmem_reserve_ratio[] of 6.1 on x86-64 with ZONE_DEVICE: DMA 256, DMA32 256, Normal 32, Movable 0, Device 0. */
export const DEFAULT_LOWMEM_RESERVE_RATIO: readonly number[] = [256, 256, 32, 0, 0];
/** vm.watermark_scale_factor default, in 1/10000 of a zone's managed pages. */
export const DEFAULT_WATERMARK_SCALE_FACTOR = 10;
/** MIN_PERCPU_PAGELIST_HIGH_FRACTION: the smallest non-zero vm.percpu_pagelist_high_fraction. */
export const MIN_PERCPU_PAGELIST_HIGH_FRACTION = 8;

/** Watermarks of one zone in pages, as _watermark[WMARK_MIN..WMARK_PROMO] (boost not included). */
export interface ZoneWatermarks {
  min: number;
  low: number;
  high: number;
  promo: number;
}

/** pcp->batch and pcp->high of one zone (the same on every CPU). */
export interface PcpParams {
  batch: number;
  high: number;
}

const isCount = (v: number) => Number.isSafeInteger(v) && v >= 0;

function checkCounts(what: string, values: readonly number[]): void {
  values.forEach((v, i) => {
    if (!isCount(v)) throw new ValueError(`${what}[${i}] must be a non-negative integer, got ${v}`);
  });
}

function checkZones(what: string, managed: readonly number[]): void {
  if (managed.length !== MAX_NR_ZONES)
    throw new ValueError(`${what}: expected ${MAX_NR_ZONES} zones (DMA, DMA32, Normal, Movable, Device), got ${managed.length}`);
  checkCounts(what, managed);
}

/**
 * setup_per_zone_lowmem_reserve for one node (pgdat): `lowmem_reserve[i][j]` for zone i and
 * a request whose highest_zoneidx is j. For i < MAX_NR_ZONES-1 and j > i it is
 * Σ managed[i+1..j] / ratio[i] (integer division), 0 when ratio[i] is 0 or zone i has no
 * managed pages; entries j <= i, and the whole last zone, are 0. Empty upper zones add 0
 * but do not clear the entry (6.1 prints `protection: (0, 356, 356, 356, 356)` for DMA
 * with only DMA32 populated).
 *
 * `managed`: the node's managed pages per zone index (length MAX_NR_ZONES). `ratio`:
 * vm.lowmem_reserve_ratio (length MAX_NR_ZONES); a value below 1 counts as 0, as
 * lowmem_reserve_ratio_sysctl_handler stores it. Note: 6.1 computes this only at boot
 * (init_per_zone_wmark_min) and on a write of the sysctl, not when managed pages grow later
 * (initrd and init memory freed), so a running kernel's reserve may be from smaller counts.
 * Throws ValueError for arrays of the wrong length or values that are not integers.
 */
export function lowmemReserve(managed: readonly number[], ratio: readonly number[] = DEFAULT_LOWMEM_RESERVE_RATIO): number[][] {
  checkZones("managed", managed);
  if (ratio.length !== MAX_NR_ZONES)
    throw new ValueError(`lowmem_reserve_ratio: expected ${MAX_NR_ZONES} values, got ${ratio.length}`);
  ratio.forEach((r, i) => {
    if (!Number.isSafeInteger(r)) throw new ValueError(`lowmem_reserve_ratio[${i}] must be an integer, got ${r}`);
  });
  const out: number[][] = [];
  for (let i = 0; i < MAX_NR_ZONES; i++) {
    const row = new Array<number>(MAX_NR_ZONES).fill(0);
    if (i < MAX_NR_ZONES - 1) {
      const r = ratio[i]! < 1 ? 0 : ratio[i]!;
      const clear = r === 0 || managed[i] === 0;
      let sum = 0;
      for (let j = i + 1; j < MAX_NR_ZONES; j++) {
        sum += managed[j]!;
        row[j] = clear ? 0 : Math.floor(sum / r);
      }
    }
    out.push(row);
  }
  return out;
}

/**
 * calculate_min_free_kbytes: `clamp(int_sqrt(lowmem_kbytes * 16), 128, 262144)` KiB, where
 * lowmem_kbytes = nr_free_buffer_pages() * 4 and, at boot (watermarks still 0),
 * nr_free_buffer_pages is the managed pages of every zone up to ZONE_NORMAL (Movable and
 * Device excluded). `managedByNode`: managed pages per zone index, per node. Returns KiB.
 */
export function calculateMinFreeKbytes(managedByNode: readonly (readonly number[])[]): number {
  const zero = managedByNode.map(() => new Array<number>(MAX_NR_ZONES).fill(0));
  const lowmemKbytes = nrFreeBufferPages(managedByNode, zero) * 4;
  return Math.min(Math.max(intSqrt(lowmemKbytes * 16), 128), 262144);
}

/**
 * nr_free_buffer_pages (nr_free_zone_pages(gfp_zone(GFP_USER))): Σ max(0, managed - high)
 * over every node's zones DMA..Normal. `highByNode`: the high watermark (with boost) per
 * zone index, per node. Pages.
 */
export function nrFreeBufferPages(managedByNode: readonly (readonly number[])[], highByNode: readonly (readonly number[])[]): number {
  let sum = 0;
  managedByNode.forEach((managed, nid) => {
    checkZones(`managed of node ${nid}`, managed);
    for (let z = 0; z <= ZONE_NORMAL; z++) sum += Math.max(0, managed[z]! - (highByNode[nid]?.[z] ?? 0));
  });
  return sum;
}

/**
 * set_recommended_min_free_kbytes (mm/khugepaged.c), run whenever khugepaged is started
 * (THP `always` or `madvise`): with nr_zones the populated zones (managed > 0 here; the
 * kernel tests present pages) of index <= ZONE_NORMAL over all nodes,
 * `rec = min(pageblock_nr_pages * nr_zones * (2 + MIGRATE_PCPTYPES^2), nr_free_buffer_pages / 20)`
 * pages, and min_free_kbytes becomes `max(current, rec * 4)`: it is raised, never lowered.
 * `highByNode`: high watermarks in force when it runs (those of `currentKbytes`). Returns KiB.
 */
export function recommendedMinFreeKbytes(
  managedByNode: readonly (readonly number[])[],
  highByNode: readonly (readonly number[])[],
  currentKbytes: number,
): number {
  let nrZones = 0;
  for (const managed of managedByNode) for (let z = 0; z <= ZONE_NORMAL; z++) if (managed[z]! > 0) nrZones++;
  let rec = PAGEBLOCK_NR_PAGES * nrZones * 2 + PAGEBLOCK_NR_PAGES * nrZones * MIGRATE_PCPTYPES * MIGRATE_PCPTYPES;
  rec = Math.min(rec, Math.floor(nrFreeBufferPages(managedByNode, highByNode) / 20));
  return Math.max(currentKbytes, rec * 4);
}

/**
 * The default vm.min_free_kbytes of a machine: calculate_min_free_kbytes, then, when THP is
 * enabled (`always` or `madvise`), set_recommended_min_free_kbytes against the watermarks
 * the first value sets. Both from the same managed counts: a real boot computes the first
 * with the managed pages of early boot, which changes rec by (difference / 20) pages at most
 * (the zoneinfo sample's guest lands on the same value). KiB.
 */
export function defaultMinFreeKbytes(
  managedByNode: readonly (readonly number[])[],
  thpEnabled: boolean,
  watermarkScaleFactor = DEFAULT_WATERMARK_SCALE_FACTOR,
): number {
  const base = calculateMinFreeKbytes(managedByNode);
  if (!thpEnabled) return base;
  const highs = setupPerZoneWmarks(managedByNode, base, watermarkScaleFactor).map((node) => node.map((w) => w.high));
  return recommendedMinFreeKbytes(managedByNode, highs, base);
}

/**
 * __setup_per_zone_wmarks for every zone of every node: `pages_min = min_free_kbytes >> 2`
 * is split over all zones in proportion to managed pages (lowmem_pages = Σ managed of all
 * zones, Movable included: x86-64 has no highmem), `min = pages_min * managed / lowmem_pages`;
 * `delta = max(min >> 2, mult_frac(managed, watermark_scale_factor, 10000))`;
 * low = min + delta, high = low + delta, promo = high + delta. An empty zone gets 0s; with no
 * managed page at all every mark is 0.
 * `managedByNode`: managed pages per zone index, per node; `minFreeKbytes` KiB;
 * `watermarkScaleFactor` in 1/10000 (1..3000). Returns the marks per node, per zone index.
 */
export function setupPerZoneWmarks(
  managedByNode: readonly (readonly number[])[],
  minFreeKbytes: number,
  watermarkScaleFactor = DEFAULT_WATERMARK_SCALE_FACTOR,
): ZoneWatermarks[][] {
  if (!isCount(minFreeKbytes)) throw new ValueError(`min_free_kbytes must be a non-negative integer, got ${minFreeKbytes}`);
  if (!Number.isSafeInteger(watermarkScaleFactor) || watermarkScaleFactor < 1 || watermarkScaleFactor > 3000)
    throw new ValueError(`watermark_scale_factor must be an integer 1..3000, got ${watermarkScaleFactor}`);
  managedByNode.forEach((m, nid) => checkZones(`managed of node ${nid}`, m));
  const pagesMin = Math.floor(minFreeKbytes / 4);
  const lowmemPages = managedByNode.reduce((s, m) => s + m.reduce((a, b) => a + b, 0), 0);
  return managedByNode.map((managed) =>
    managed.map((m) => {
      // do_div(pages_min * managed, lowmem_pages): exact in BigInt, the product can pass 2^53
      const min = lowmemPages === 0 ? 0 : Number((BigInt(pagesMin) * BigInt(m)) / BigInt(lowmemPages));
      const delta = Math.max(min >> 2, multFrac(m, watermarkScaleFactor, 10000));
      return { min, low: min + delta, high: min + 2 * delta, promo: min + 3 * delta };
    }),
  );
}

/**
 * calculate_totalreserve_pages: for each zone, `min(managed, max_j lowmem_reserve[j] + high)`
 * (the largest reserve of the zone plus its high watermark), summed over all zones of all
 * nodes. Pages. `reserveByNode[nid][zone]` is the lowmem_reserve row of the zone.
 */
export function totalreservePages(
  managedByNode: readonly (readonly number[])[],
  reserveByNode: readonly (readonly (readonly number[])[])[],
  wmarksByNode: readonly (readonly ZoneWatermarks[])[],
): number {
  let total = 0;
  managedByNode.forEach((managed, nid) => {
    managed.forEach((m, z) => {
      const max = Math.max(0, ...reserveByNode[nid]![z]!) + wmarksByNode[nid]![z]!.high;
      total += Math.min(m, max);
    });
  });
  return total;
}

/** rounddown_pow_of_two(n) for 1 <= n < 2^32. */
function rounddownPowOfTwo(n: number): number {
  return 2 ** (fls(n) - 1);
}

/**
 * zone_batchsize (CONFIG_MMU): `b = min(managed >> 10, 256) / 4`, at least 1, then
 * `rounddown_pow_of_two(b + b/2) - 1`; zone_set_pageset_high_and_batch uses `max(1, that)`,
 * which this returns. Pages. 1 GiB managed or more gives 63; the 424 MiB guest's DMA32
 * (93694 pages) 31, its DMA (3840 pages) 1.
 */
export function zoneBatchsize(managed: number): number {
  if (!isCount(managed)) throw new ValueError(`managed must be a non-negative integer, got ${managed}`);
  let b = Math.min(Math.floor(managed / 1024), 256);
  b = Math.floor(b / 4);
  if (b < 1) b = 1;
  const batch = rounddownPowOfTwo(b + (b >> 1)) - 1;
  return Math.max(1, batch);
}

/**
 * zone_highsize: `total = low watermark` (boost included: the value when it runs) when
 * vm.percpu_pagelist_high_fraction is 0 (the default), else `managed / fraction`; it is
 * split over `nr_split_cpus` = the CPUs of the zone's node (+ 1 while a CPU is being
 * onlined: `cpuOnline`), or over all online CPUs for a node without CPUs;
 * `high = max(total / nr_split_cpus, batch * 4)`. Pages.
 *
 * `lowWmark` pages; `managed` pages; `batch` from zoneBatchsize; `nodeCpus` CPUs of the
 * node; `onlineCpus` CPUs of the machine (>= 1); `fraction` 0 or >= 8.
 */
export function zoneHighsize(args: {
  lowWmark: number;
  managed: number;
  batch: number;
  nodeCpus: number;
  onlineCpus: number;
  fraction?: number;
  cpuOnline?: number;
}): number {
  const { lowWmark, managed, batch, nodeCpus, onlineCpus } = args;
  const fraction = args.fraction ?? 0;
  checkCounts("zone_highsize", [lowWmark, managed, batch, nodeCpus, onlineCpus, fraction, args.cpuOnline ?? 0]);
  if (onlineCpus < 1) throw new ValueError("zone_highsize: a machine needs at least one online CPU");
  if (fraction !== 0 && fraction < MIN_PERCPU_PAGELIST_HIGH_FRACTION)
    throw new ValueError(`percpu_pagelist_high_fraction must be 0 or at least ${MIN_PERCPU_PAGELIST_HIGH_FRACTION}, got ${fraction}`);
  const total = fraction === 0 ? lowWmark : Math.floor(managed / fraction);
  let split = nodeCpus + (args.cpuOnline ?? 0);
  if (split === 0) split = onlineCpus;
  return Math.max(Math.floor(total / split), batch * 4);
}

/**
 * zone_set_pageset_high_and_batch: batch = max(1, zone_batchsize), high = zone_highsize, for
 * one zone (every CPU gets the same). Called by 6.1 after every watermark setup
 * (zone_pcp_update), so `lowWmark` is the low mark just computed.
 */
export function pcpParams(args: { managed: number; lowWmark: number; nodeCpus: number; onlineCpus: number; fraction?: number }): PcpParams {
  const batch = zoneBatchsize(args.managed);
  return { batch, high: zoneHighsize({ ...args, batch }) };
}

/** fls(x): the 1-based index of the highest set bit, 0 for 0 (x < 2^32; exact, unlike Math.log2 near powers of two). */
function fls(x: number): number {
  return x <= 0 ? 0 : 32 - Math.clz32(x);
}

/**
 * calculate_normal_threshold (mm/vmstat.c): the per-cpu vmstat fold threshold zoneinfo
 * prints as `vm stats threshold`: `min(125, 2 * fls(online_cpus) * (1 + fls(managed >> 15)))`
 * (managed in 128 MiB units). A populated zone only.
 */
export function normalStatThreshold(managed: number, onlineCpus: number): number {
  checkCounts("calculate_normal_threshold", [managed, onlineCpus]);
  const mem = Math.floor(managed / 32768);
  return Math.min(125, 2 * fls(onlineCpus) * (1 + fls(mem)));
}

/**
 * calculate_pressure_threshold: the threshold while kswapd is awake for the node,
 * `min(125, max(1, (low - min) / online_cpus))`, watermarks without boost.
 */
export function pressureStatThreshold(wmarks: Pick<ZoneWatermarks, "min" | "low">, onlineCpus: number): number {
  checkCounts("calculate_pressure_threshold", [wmarks.min, wmarks.low, onlineCpus]);
  if (onlineCpus < 1) throw new ValueError("calculate_pressure_threshold: at least one online CPU");
  return Math.min(125, Math.max(1, Math.floor((wmarks.low - wmarks.min) / onlineCpus)));
}
