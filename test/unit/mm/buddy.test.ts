import { listNext } from "../../../src/mm/list.js";
import { describe, expect, it } from "vitest";
import { Buddy, FPI_NONE, FPI_TO_TAIL, Zone } from "../../../src/mm/buddy.js";
import {
  ALLOC_KSWAPD, ALLOC_NOFRAGMENT, MIGRATE_TYPES, MT_MOVABLE, MT_RECLAIMABLE, MT_UNMOVABLE, PAGEBLOCK_NR_PAGES,
} from "../../../src/mm/constants.js";
import { PageArrays, PG_BUDDY, PG_LRU } from "../../../src/mm/pages.js";
import { checkInvariants } from "../../../src/mm/check.js";

/** A zone of n pages starting at pfn 0, all free as memblock_free_all leaves it. */
function zoneOf(n: number) {
  const pages = new PageArrays(n);
  const z = new Zone(0, 0, n);
  const b = new Buddy(pages, [z]);
  for (let s = 0; s < n; s += 1024) b.freeOnePage(z, s, Math.min(10, Math.log2(Math.min(1024, n - s))), MT_MOVABLE, FPI_TO_TAIL);
  return { pages, z, b };
}

function list(z: Zone, pages: PageArrays, order: number, mt: number): number[] {
  const out: number[] = [];
  for (let p = z.head[order * MIGRATE_TYPES + mt]!; p >= 0; p = listNext(pages.linksOf(order), p)) out.push(p);
  return out;
}

describe("buddy allocator", () => {
  it("boot memory sits on the order-10 Movable list in ascending pfn order", () => {
    const { z, pages } = zoneOf(4096);
    expect(list(z, pages, 10, MT_MOVABLE)).toEqual([0, 1024, 2048, 3072]);
    expect(z.freePages).toBe(4096);
    expect(checkInvariants(new Buddy(pages, [z]))).toBeNull();
  });

  it("__rmqueue_smallest splits with expand(): the first allocation takes the lowest pfn", () => {
    const { z, pages, b } = zoneOf(2048);
    const pfn = b.rmqueue(z, 0, MT_MOVABLE, 0);
    expect(pfn).toBe(0);
    // expand puts the upper halves 512, 256, ..., 1 on the heads of orders 9..0
    for (let o = 0; o < 10; o++) expect(list(z, pages, o, MT_MOVABLE)).toEqual([1 << o]);
    expect(list(z, pages, 10, MT_MOVABLE)).toEqual([1024]);
    expect(z.freePages).toBe(2047);
  });

  it("__free_one_page merges buddies back to the top order", () => {
    const { z, b } = zoneOf(1024);
    const got: number[] = [];
    for (let i = 0; i < 8; i++) got.push(b.rmqueue(z, 0, MT_MOVABLE, 0));
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const p of got) {
      b.pages.flags[p] = 0;
      b.freeOnePage(z, p, 0, MT_MOVABLE, FPI_NONE);
    }
    expect(Array.from(z.nrFree)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(z.freePages).toBe(1024);
  });

  it("a free goes to the tail when buddy_merge_likely, else to the head", () => {
    const { z, pages, b } = zoneOf(1024);
    const a = [0, 1, 2, 3].map(() => b.rmqueue(z, 0, MT_MOVABLE, 0)); // 0..3; free lists: 4/2, 8/3, ...
    // take the order-2 block at 4 too, so order-2 list is empty and 4..7 is allocated
    const four = b.rmqueue(z, 2, MT_MOVABLE, 0);
    expect(four).toBe(4);
    // free 2 and 3 -> merged to 2/order1; its order-2 buddy (0..3's half 0/1) is allocated: head
    b.freeOnePage(z, 2, 0, MT_MOVABLE, FPI_NONE);
    b.freeOnePage(z, 3, 0, MT_MOVABLE, FPI_NONE);
    expect(list(z, pages, 1, MT_MOVABLE)[0]).toBe(2);
    // free 0: its buddy 1 is allocated; the order-1 buddy of 0..1 (2..3) is free -> tail
    const before = list(z, pages, 0, MT_MOVABLE);
    b.freeOnePage(z, 0, 0, MT_MOVABLE, FPI_NONE);
    const after = list(z, pages, 0, MT_MOVABLE);
    expect(after[after.length - 1]).toBe(0);
    expect(after.length).toBe(before.length + 1);
    void a;
  });

  it("a movable request that cannot steal the block takes the smallest fallback block", () => {
    const { z, pages, b } = zoneOf(2048);
    // make one Unmovable pageblock with small free blocks: claim block 0 for unmovable
    const u = b.rmqueue(z, 0, MT_UNMOVABLE, 0);
    expect(u).toBe(0);
    expect(pages.pbMt[0]).toBe(MT_UNMOVABLE); // order-10 fallback: change_pageblock_range
    expect(pages.pbMt[1]).toBe(MT_UNMOVABLE);
    // drain Movable lists: take every movable block
    while (b.rmqueueSmallest(z, 0, MT_MOVABLE) >= 0) z.freePages--;
    // leave only unmovable blocks of orders 0..3 (pfns 1, 2, 4, 8): too small to steal whole
    for (let o = 4; o < 11; o++) while (b.rmqueueSmallest(z, o, MT_UNMOVABLE) >= 0) z.freePages -= 1 << o;
    expect(b.extfragFallbacks).toBe(1); // the first unmovable request took the order-10 movable block
    const m = b.rmqueue(z, 0, MT_MOVABLE, 0);
    expect(m).toBe(1); // find_smallest: the order-0 block at pfn 1, moved to movable and taken
    expect(pages.pbMt[0]).toBe(MT_UNMOVABLE); // no claim
    // one mm_page_alloc_extfrag each: two fallbacks so far, none by the rmqueueSmallest drains
    expect(b.extfragFallbacks).toBe(2);
  });

  it("a movable request that can steal takes the largest fallback block and its pageblock", () => {
    const { z, pages, b } = zoneOf(2048);
    b.rmqueue(z, 0, MT_UNMOVABLE, 0);
    while (b.rmqueueSmallest(z, 0, MT_MOVABLE) >= 0) z.freePages--;
    // the order-9 unmovable block at 512 is the largest: can_steal, change_pageblock_range
    expect(b.rmqueue(z, 0, MT_MOVABLE, 0)).toBe(512);
    expect(pages.pbMt[1]).toBe(MT_MOVABLE);
  });

  it("steal_suitable_fallback claims a pageblock when free + alike >= 256, and boosts the watermark", () => {
    const { z, pages, b } = zoneOf(4096);
    z.wmark[2] = 1000;
    // allocate all of pageblock 0 as movable LRU pages except 300 free pages
    const taken: number[] = [];
    for (let i = 0; i < PAGEBLOCK_NR_PAGES; i++) {
      const p = b.rmqueue(z, 0, MT_MOVABLE, 0);
      pages.flags[p] = PG_LRU;
      taken.push(p);
    }
    for (const p of taken.slice(0, 300)) {
      pages.flags[p] = 0;
      b.freeOnePage(z, p, 0, MT_MOVABLE, FPI_NONE);
    }
    // an unmovable order-0 request falls back: the largest movable block is order 10
    // (a whole pageblock range); make that impossible by taking the big blocks away
    while (z.head[10 * MIGRATE_TYPES + MT_MOVABLE]! >= 0) b.rmqueueSmallest(z, 10, MT_MOVABLE);
    while (z.head[9 * MIGRATE_TYPES + MT_MOVABLE]! >= 0) b.rmqueueSmallest(z, 9, MT_MOVABLE);
    const p = b.rmqueue(z, 0, MT_UNMOVABLE, ALLOC_KSWAPD);
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThan(PAGEBLOCK_NR_PAGES);
    // free 300 >= 256: the pageblock is claimed for Unmovable
    expect(pages.pbMt[0]).toBe(MT_UNMOVABLE);
    expect(z.watermarkBoost).toBe(PAGEBLOCK_NR_PAGES);
    expect(z.boosted).toBe(true);
  });

  it("ALLOC_NOFRAGMENT refuses to steal below pageblock order", () => {
    const { z, b } = zoneOf(1024);
    const r = b.rmqueueFallback(z, 0, MT_RECLAIMABLE, ALLOC_NOFRAGMENT);
    expect(r).toBe(true); // order 10 >= pageblock_order is allowed
    const { z: z2, b: b2 } = zoneOf(1024);
    b2.rmqueueSmallest(z2, 10, MT_MOVABLE);
    b2.freeOnePage(z2, 512, 9, MT_MOVABLE, FPI_NONE);
    b2.rmqueueSmallest(z2, 9, MT_MOVABLE);
    b2.freeOnePage(z2, 600, 3, MT_MOVABLE, FPI_NONE);
    expect(b2.rmqueueFallback(z2, 0, MT_RECLAIMABLE, ALLOC_NOFRAGMENT)).toBe(false);
    expect(b2.extfragFallbacks).toBe(0); // a refused fallback is no event
    expect(b2.rmqueueFallback(z2, 0, MT_RECLAIMABLE, 0)).toBe(true);
  });

  it("__zone_watermark_ok: order-0 against the mark, high orders need a block of that order", () => {
    const { z, b } = zoneOf(1024);
    expect(b.zoneWatermarkOk(z, 0, 1023, z.freePages)).toBe(true);
    expect(b.zoneWatermarkOk(z, 0, 1024, z.freePages)).toBe(false);
    // split the only block: orders 0..9 one each
    b.rmqueue(z, 0, MT_MOVABLE, 0);
    expect(b.zoneWatermarkOk(z, 9, 0, z.freePages)).toBe(true);
    expect(b.zoneWatermarkOk(z, 10, 0, z.freePages)).toBe(false);
    // free - (2^order - 1) must stay above the mark
    expect(b.zoneWatermarkOk(z, 9, 1023 - 511, z.freePages)).toBe(false);
    expect(b.zoneWatermarkOk(z, 9, 1023 - 512, z.freePages)).toBe(true);
  });

  it("the checker catches an unmerged buddy pair and a leaked page", () => {
    const { z, pages, b } = zoneOf(1024);
    const p0 = b.rmqueue(z, 0, MT_MOVABLE, 0);
    const p1 = b.rmqueue(z, 0, MT_MOVABLE, 0);
    for (let i = 0; i < 1024; i++) if (!(pages.flags[i]! & PG_BUDDY)) pages.flags[i]! |= 4; // mark allocated
    pages.flags[p0] = 0;
    pages.flags[p1] = 0;
    // put both on the list without merging
    b.addToFreeList(z, p0, 0, MT_MOVABLE, false);
    b.addToFreeList(z, p1, 0, MT_MOVABLE, false);
    z.freePages += 2;
    expect(checkInvariants(b)).toMatch(/were not merged/);
    const { z: z2, pages: pg2, b: b2 } = zoneOf(1024);
    b2.rmqueue(z2, 0, MT_MOVABLE, 0); // pfn 0 taken but never marked allocated
    expect(checkInvariants(b2)).toMatch(/pfn 0 is neither free nor allocated/);
    void pg2;
  });
});
