/**
 * The invariant checker (SPEC §4.2), run after every event under --check and in tests:
 * every pfn is in exactly one free block or allocated; free blocks are naturally aligned,
 * inside their zone and on the list their flags say; no two free buddies of the same order
 * both sit free (merging is complete); per-order and per-list counts equal the list lengths;
 * NR_FREE_PAGES is their sum. Returns a description of the first violation, or null.
 * O(pages): meant for small machines and debugging.
 */
import { MAX_ORDER, MIGRATE_TYPES, MT_HIGHATOMIC, MT_ISOLATE, PAGEBLOCK_ORDER } from "./constants.js";
import type { Buddy } from "./buddy.js";
import { PG_ALLOC, PG_BUDDY } from "./pages.js";

export function checkInvariants(buddy: Buddy): string | null {
  const p = buddy.pages;
  const cover = new Uint8Array(p.nrPages);
  for (const z of buddy.zones) {
    let freePages = 0;
    for (let o = 0; o < MAX_ORDER; o++) {
      let perOrder = 0;
      for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
        const li = o * MIGRATE_TYPES + mt;
        let n = 0;
        let prev = -1;
        for (let pfn = z.head[li]!; pfn >= 0; pfn = p.next[pfn]!) {
          if (++n > z.managed) return `node ${z.nid} order ${o} ${mt} free list loops`;
          if (p.prev[pfn] !== prev) return `pfn ${pfn}: prev link ${p.prev[pfn]} should be ${prev}`;
          if (!(p.flags[pfn]! & PG_BUDDY)) return `pfn ${pfn} is on a free list without PageBuddy`;
          if (p.order[pfn] !== o) return `pfn ${pfn} on the order-${o} list has order ${p.order[pfn]}`;
          if (p.listMt[pfn] !== mt) return `pfn ${pfn} on list ${mt} says it is on ${p.listMt[pfn]}`;
          if (pfn % (1 << o) !== 0) return `free block at pfn ${pfn} is not aligned to order ${o}`;
          if (pfn < z.start || pfn + (1 << o) > z.end) return `free block ${pfn}/${o} is outside node ${z.nid}'s zone`;
          for (let q = pfn; q < pfn + (1 << o); q++) {
            if (cover[q]) return `pfn ${q} is in two free blocks`;
            cover[q] = 1;
          }
          if (o < MAX_ORDER - 1) {
            const b = pfn ^ (1 << o);
            if (b >= z.start && b < z.end && p.flags[b]! & PG_BUDDY && p.order[b] === o) {
              const mtA = p.pbMt[pfn >>> PAGEBLOCK_ORDER]!;
              const mtB = p.pbMt[b >>> PAGEBLOCK_ORDER]!;
              const blocked = o >= PAGEBLOCK_ORDER && mtA !== mtB && (mtA >= MT_HIGHATOMIC || mtB >= MT_HIGHATOMIC);
              if (!blocked) return `free buddies ${Math.min(pfn, b)} and ${Math.max(pfn, b)} of order ${o} were not merged`;
            }
          }
          prev = pfn;
        }
        if (z.tail[li] !== prev) return `node ${z.nid} list ${o}/${mt}: tail ${z.tail[li]} should be ${prev}`;
        if (z.nrFreeMt[li] !== n) return `node ${z.nid} order ${o} type ${mt}: count ${z.nrFreeMt[li]} but ${n} on the list`;
        perOrder += n;
        if (mt !== MT_ISOLATE) freePages += n << o;
      }
      if (z.nrFree[o] !== perOrder) return `node ${z.nid} order ${o}: nr_free ${z.nrFree[o]} but ${perOrder} blocks listed`;
    }
    if (z.freePages !== freePages) return `node ${z.nid}: NR_FREE_PAGES ${z.freePages} but the lists hold ${freePages}`;
  }
  for (let pfn = 0; pfn < p.nrPages; pfn++) {
    const alloc = (p.flags[pfn]! & PG_ALLOC) !== 0;
    if (cover[pfn] && alloc) return `pfn ${pfn} is both free and allocated`;
    if (!cover[pfn] && !alloc) return `pfn ${pfn} is neither free nor allocated (leaked)`;
    if (!cover[pfn] && p.flags[pfn]! & PG_BUDDY) return `pfn ${pfn} has PageBuddy but is on no list`;
  }
  return null;
}
