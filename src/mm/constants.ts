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
export const ALLOC_HARDER = 0x10;
export const ALLOC_HIGH = 0x20;
export const ALLOC_NOFRAGMENT = 0x100;
export const ALLOC_KSWAPD = 0x800;

/**
 * gfp bits wsim distinguishes, with the values of 6.1's include/linux/gfp_types.h so that
 * src/mm/zonelist.ts gfpZone (gfp_zone) reads their zone modifiers.
 */
export const GFP_DMA = 0x01; // __GFP_DMA
export const GFP_HIGHMEM = 0x02; // __GFP_HIGHMEM
export const GFP_DMA32 = 0x04; // __GFP_DMA32
export const GFP_MOVABLE = 0x08; // __GFP_MOVABLE (with __GFP_HIGHMEM: ZONE_MOVABLE)
export const GFP_HIGH = 0x20; // __GFP_HIGH
export const GFP_DIRECT_RECLAIM = 0x400; // ___GFP_DIRECT_RECLAIM
export const GFP_KSWAPD_RECLAIM = 0x800; // ___GFP_KSWAPD_RECLAIM
export const GFP_NORETRY = 0x10000; // ___GFP_NORETRY
export const GFP_THISNODE = 0x200000; // ___GFP_THISNODE
/** GFP_KERNEL's reclaim bits (__GFP_IO and __GFP_FS do not matter to wsim): highest zone Normal */
export const GFP_KERNEL = GFP_DIRECT_RECLAIM | GFP_KSWAPD_RECLAIM;
/** GFP_HIGHUSER_MOVABLE: user pages and THPs, highest zone Movable */
export const GFP_HIGHUSER_MOVABLE = GFP_DIRECT_RECLAIM | GFP_KSWAPD_RECLAIM | GFP_HIGHMEM | GFP_MOVABLE;
/** GFP_ATOMIC = __GFP_HIGH | __GFP_KSWAPD_RECLAIM (__GFP_ATOMIC is gone from the zone's view) */
export const GFP_ATOMIC = GFP_HIGH | GFP_KSWAPD_RECLAIM;
/** the zone modifier bits of a gfp mask (GFP_ZONEMASK) */
export const GFP_ZONEMASK = GFP_DMA | GFP_HIGHMEM | GFP_DMA32 | GFP_MOVABLE;
/**
 * A migration target (alloc_misplaced_dst_page, alloc_demote_page): GFP_HIGHUSER_MOVABLE |
 * __GFP_THISNODE without the reclaim bits
 */
export const GFP_MIGRATE_TARGET = GFP_HIGHMEM | GFP_MOVABLE | GFP_THISNODE;
