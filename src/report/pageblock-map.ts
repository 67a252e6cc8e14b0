/**
 * The pageblock map of the report: every pageblock (512 pages) of every zone with its
 * migratetype and how many of its pages are free, read from the engine's page arrays at the
 * end of a run (read-only: nothing in the model changes). Kept in a run's JSON as
 * `pageblock_map` when `wsim replay --pageblock-map` (or `--report`) asks for it.
 */
import type { Engine } from "../engine/engine.js";
import { PG_BUDDY } from "../mm/pages.js";

/** The migratetype names, in the kernel's enum order (index = the map's `mt` value). */
export const MIGRATETYPE_NAMES = ["Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate"] as const;

export interface PageblockZoneMap {
  node: number;
  zone: string;
  start_pfn: number;
  /** per pageblock, its migratetype: an index into MIGRATETYPE_NAMES */
  mt: number[];
  /** per pageblock, its free pages (0..512; the last block of a zone may be shorter) */
  free: number[];
}

/** `{time_ms, zones}`: the state at `time_ms` (the run's end). */
export interface PageblockMap {
  time_ms: number;
  pages_per_block: number;
  zones: PageblockZoneMap[];
}

/**
 * The map at the engine's current time: for each zone, pageblock migratetypes from the
 * pageblock bitmap and free pages counted from the free blocks' heads (a block of order >= 9
 * spreads over every pageblock it covers).
 */
export function pageblockMap(engine: Engine): PageblockMap {
  const pages = engine.mem.pages;
  const zones = engine.zoneViews().map((z) => {
    const first = z.start >>> 9;
    const n = Math.ceil((z.end - z.start) / 512);
    const mt: number[] = [];
    const free = new Array<number>(n).fill(0);
    for (let b = 0; b < n; b++) mt.push(z.pbMt[first + b]!);
    for (let pfn = z.start; pfn < z.end; ) {
      if (pages.flags[pfn]! & PG_BUDDY) {
        const size = 2 ** pages.order[pfn]!;
        for (let p = pfn; p < pfn + size; p += Math.min(size, 512)) free[(p >>> 9) - first]! += Math.min(size, 512);
        pfn += size;
      } else pfn++;
    }
    return { node: z.nid, zone: z.name, start_pfn: z.start, mt, free };
  });
  return { time_ms: engine.now(), pages_per_block: 512, zones };
}
