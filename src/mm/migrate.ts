/**
 * Page migration, the one mechanism compaction (and later promotion and demotion) moves pages
 * with (migrate_pages / folio_migrate_mapping / folio_migrate_flags, reduced to what wsim
 * tracks): the destination takes the page's mapping (its PTE and reverse map), flags, memcg
 * and lru_gen generation and position, and its last-access time; the caller frees the source.
 *
 * wsim simplification: the page keeps its generation; 6.1 puts a migrated folio back through
 * lru_gen_add_folio, which files it by its active bit.
 */
import type { MmObserver } from "../plugin/observer.js";
import { V } from "../stats/counters.js";
import type { LruGen, Lruvec } from "./lru-gen.js";
import { type PageArrays, PG_UNEVICTABLE } from "./pages.js";
import type { ProcessTable } from "./process.js";

export interface MigrateContext {
  pages: PageArrays;
  ownerMm: Int32Array;
  ownerVpn: Float64Array;
  lastAccess: Float64Array;
  lru: LruGen;
  procs: ProcessTable;
  ev: Float64Array;
  /** NUMA balancing's per-page state follows the page (folio_migrate_flags), or null */
  onMove?: ((src: number, dst: number) => void) | null;
  /** plugins observing migrations (with the nodes of src and dst), or null */
  observer?: MmObserver | null;
  nodeOf?: (pfn: number) => number;
}

/** The page's flags, reverse map, last access and PTE go to dst (folio_migrate_mapping/_flags). */
function moveMapping(c: MigrateContext, src: number, dst: number): void {
  const { pages, ownerMm, ownerVpn } = c;
  pages.flags[dst] = pages.flags[src]!;
  pages.mflags[dst] = pages.mflags[src]!; // PG_mlocked, PG_unevictable, !PG_swapbacked
  pages.order[dst] = 0;
  ownerMm[dst] = ownerMm[src]!;
  ownerVpn[dst] = ownerVpn[src]!;
  c.lastAccess[dst] = c.lastAccess[src]!;
  c.onMove?.(src, dst);
  c.procs.remap(src, dst);
}

/** Moves the mapped order-0 LRU page at src to the free (isolated) page at dst. */
export function migratePage(c: MigrateContext, src: number, dst: number): void {
  moveMapping(c, src, dst);
  c.lru.replace(src, dst);
  c.ownerMm[src] = 0;
  c.ev[V.pgmigrate_success]!++;
  if (c.observer) c.observer.migrate(src, dst, c.nodeOf!(src), c.nodeOf!(dst));
}

/**
 * Migration to another node (promotion, demotion): as migratePage, but the page leaves its
 * lruvec for its memcg's lruvec on the destination node, into the generation born at or before
 * its own (its age goes with it), else the oldest.
 */
export function migratePageAcross(c: MigrateContext, src: number, dst: number, to: Lruvec): void {
  const lru = c.lru;
  const from = lru.lruvecOfPfn(src)!;
  if (c.pages.mflags[src]! & PG_UNEVICTABLE) {
    // an mlocked page stays unevictable on its new node
    moveMapping(c, src, dst);
    lru.del(src);
    lru.addUnevictable(to, dst);
    c.ownerMm[src] = 0;
    c.ev[V.pgmigrate_success]!++;
    if (c.observer) c.observer.migrate(src, dst, c.nodeOf!(src), c.nodeOf!(dst));
    return;
  }
  const birth = from.birthOf(lru.seqOf(from, src));
  moveMapping(c, src, dst);
  lru.del(src);
  const type = lru.typeOf(dst);
  let seq = to.maxSeq;
  if (lru.classic) seq = lru.seqOf(from, src); // the two-list LRU: same list (folio_migrate_flags keeps PG_active)
  else while (seq > to.minSeq[type]! && to.birthOf(seq) > birth) seq--;
  lru.add(to, dst, seq);
  c.ownerMm[src] = 0;
  c.ev[V.pgmigrate_success]!++;
  if (c.observer) c.observer.migrate(src, dst, c.nodeOf!(src), c.nodeOf!(dst));
}
