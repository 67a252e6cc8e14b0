/**
 * Constants of the x86-64 Linux 6.1 page allocator (include/linux/mmzone.h,
 * include/linux/pageblock-flags.h). Orders are 0..10: MAX_ORDER is exclusive in 6.1.
 */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
export const MAX_ORDER = 11; // exclusive, as in 6.1 (NR_PAGE_ORDERS in later kernels)
export const PAGEBLOCK_ORDER = 9;
export const PAGEBLOCK_NR_PAGES = 1 << PAGEBLOCK_ORDER;
export const PAGE_ALLOC_COSTLY_ORDER = 3;

/** enum migratetype of a Debian 6.1 build: no CMA, CONFIG_MEMORY_ISOLATION=y. */
export const MT_UNMOVABLE = 0;
export const MT_MOVABLE = 1;
export const MT_RECLAIMABLE = 2;
export const MT_HIGHATOMIC = 3;
export const MT_ISOLATE = 4;
export const MIGRATE_TYPES = 5;
export const MIGRATE_PCPTYPES = 3;
export const MIGRATETYPE_NAMES = ["Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate"] as const;

/** fallbacks[] of mm/page_alloc.c (6.1): the lists tried, in order, when a type runs dry. */
export const FALLBACKS: readonly (readonly number[])[] = [
  [MT_RECLAIMABLE, MT_MOVABLE], // Unmovable
  [MT_RECLAIMABLE, MT_UNMOVABLE], // Movable
  [MT_UNMOVABLE, MT_MOVABLE], // Reclaimable
  [],
  [],
];

/** Allocation flags (mm/internal.h ALLOC_*), the subset wsim uses. */
export const ALLOC_WMARK_MIN = 0;
export const ALLOC_WMARK_LOW = 1;
export const ALLOC_WMARK_HIGH = 2;
export const ALLOC_WMARK_MASK = 3;
export const ALLOC_NOFRAGMENT = 0x100;
export const ALLOC_KSWAPD = 0x800;

/** gfp bits wsim distinguishes. */
export const GFP_DIRECT_RECLAIM = 1;
export const GFP_KSWAPD_RECLAIM = 2;
export const GFP_NORETRY = 4;
export const GFP_THISNODE = 8;
export const GFP_KERNEL = GFP_DIRECT_RECLAIM | GFP_KSWAPD_RECLAIM;
export const GFP_HIGHUSER_MOVABLE = GFP_DIRECT_RECLAIM | GFP_KSWAPD_RECLAIM;
