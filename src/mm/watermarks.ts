/**
 * Zone watermarks as Linux 6.1 sets them: calculate_min_free_kbytes (mm/page_alloc.c),
 * set_recommended_min_free_kbytes (mm/khugepaged.c: raised while THP is not `never`) and
 * __setup_per_zone_wmarks. Every node's one zone is a lowmem zone.
 */
import { MIGRATE_PCPTYPES, PAGEBLOCK_NR_PAGES } from "./constants.js";
import { multFrac, WMARK_HIGH, WMARK_LOW, WMARK_MIN, WMARK_PROMO, type Zone } from "./buddy.js";

/** int_sqrt: floor(sqrt(x)) exactly. */
export function intSqrt(x: number): number {
  let r = Math.floor(Math.sqrt(x));
  while (r * r > x) r--;
  while ((r + 1) * (r + 1) <= x) r++;
  return r;
}

/** calculate_min_free_kbytes: 4 * sqrt(lowmem KiB), clamped to 128..262144. */
export function calculateMinFreeKbytes(managedPages: number): number {
  const lowmemKbytes = managedPages * 4;
  const v = intSqrt(lowmemKbytes * 16);
  return Math.min(Math.max(v, 128), 262144);
}

/**
 * The default vm.min_free_kbytes: calculate_min_free_kbytes, then, while THP is enabled
 * (always or madvise), set_recommended_min_free_kbytes' floor of
 * pageblock_nr_pages * nr_zones * (2 + MIGRATE_PCPTYPES^2) pages, capped at 5% of
 * nr_free_buffer_pages (managed minus the high watermarks just set).
 */
export function defaultMinFreeKbytes(zones: readonly Zone[], thpEnabled: boolean, scaleFactor: number): number {
  const managed = zones.reduce((s, z) => s + z.managed, 0);
  const base = calculateMinFreeKbytes(managed);
  if (!thpEnabled) return base;
  const highs = computeWatermarks(zones, base, scaleFactor).map((w) => w[WMARK_HIGH]!);
  const freeBuffer = zones.reduce((s, z, i) => s + Math.max(z.managed - highs[i]!, 0), 0);
  const nrZones = zones.length;
  let rec = PAGEBLOCK_NR_PAGES * nrZones * 2 + PAGEBLOCK_NR_PAGES * nrZones * MIGRATE_PCPTYPES * MIGRATE_PCPTYPES;
  rec = Math.min(rec, Math.floor(freeBuffer / 20));
  rec *= 4; // pages -> KiB
  return Math.max(base, rec);
}

/** __setup_per_zone_wmarks for every zone: [min, low, high, promo] each. */
export function computeWatermarks(zones: readonly Zone[], minFreeKbytes: number, scaleFactor: number): number[][] {
  const pagesMin = minFreeKbytes >>> 2;
  const lowmem = zones.reduce((s, z) => s + z.managed, 0);
  return zones.map((z) => {
    const min = Math.floor((pagesMin * z.managed) / lowmem);
    const tmp = Math.max(min >>> 2, multFrac(z.managed, scaleFactor, 10000));
    return [min, min + tmp, min + 2 * tmp, min + 3 * tmp];
  });
}

/** setup_per_zone_wmarks: set the marks and clear any boost. */
export function setupZoneWatermarks(zones: readonly Zone[], minFreeKbytes: number, scaleFactor: number): void {
  const w = computeWatermarks(zones, minFreeKbytes, scaleFactor);
  zones.forEach((z, i) => {
    z.wmark[WMARK_MIN] = w[i]![0]!;
    z.wmark[WMARK_LOW] = w[i]![1]!;
    z.wmark[WMARK_HIGH] = w[i]![2]!;
    z.wmark[WMARK_PROMO] = w[i]![3]!;
    z.watermarkBoost = 0;
  });
}
