/**
 * The engine's `struct page`: per-pfn state in typed arrays indexed by global pfn, never an
 * object per page. `next`/`prev` link free blocks into the zones' intrusive free lists
 * (only a free block's first pfn is linked). Pageblock migratetypes live one byte per
 * 512 pages, as the kernel's pageblock bitmap.
 */
import { MAX_ORDER, MT_MOVABLE, PAGEBLOCK_ORDER } from "./constants.js";
import type { ListLinks } from "./list.js";

/** the order whose free blocks keep their links and list migratetype in arrays by pfn >> it */
const TOP = MAX_ORDER - 1;

/** Page flags (one byte per pfn). */
export const PG_BUDDY = 1; // first pfn of a free block on a free list (PageBuddy)
export const PG_REPORTED = 2; // free block reported to the host (PageReported)
export const PG_ALLOC = 4; // pfn belongs to an allocated block
export const PG_HEAD = 8; // first pfn of an allocated block: order[] holds its order
export const PG_LRU = 16; // a user page on the LRU (movable by compaction, counted by move_freepages)
export const PG_ANON = 32; // anonymous (else file-backed), for LRU pages
export const PG_DIRTY = 64; // written since it was faulted
export const PG_ACCESSED = 128; // the accessed/young bit, shared by every scanner

/** Second byte of flags per pfn (PageArrays.mflags), for the LRU's madvise/mlock states. */
export const PG_MLOCKED = 1; // PG_mlocked: mapped in a VM_LOCKED region (counted in nr_mlock)
export const PG_UNEVICTABLE = 2; // PG_unevictable: on its lruvec's unevictable list, not in a generation
export const PG_LAZYFREE = 4; // anon with PG_swapbacked cleared by MADV_FREE: on the file LRU, dropped clean
/**
 * !PageAnonExclusive after fork (copy_present_pte, copy_huge_pmd): the anon page may be mapped
 * by several mms and every PTE mapping it is write-protected, so a write faults (do_wp_page,
 * fork.ts); set on each of a huge page's 512 pfns
 */
export const PG_ANON_SHARED = 8;
export const PG_REFERENCED = 16; // PG_referenced (the two-list LRU, lru_gen.enabled=0): seen referenced once by reclaim or mark_page_accessed
export const PG_WORKINGSET = 32; // PG_workingset (the two-list LRU): deactivated from the active list, or refaulted as such
/**
 * A page-cache page some mm maps through a file mapping (filemap.ts: folio_mapped of a file
 * folio): its mappings are in ProcessTable.fileMaps, and a write through a PTE to it while
 * clean is the write-protect fault that dirties it (do_wp_page → wp_page_shared)
 */
export const PG_FILE_MAPPED = 64;

/**
 * In mflags: a start state's boot owner page that stays in use (wsim.boot_in_use): every test
 * of its accessed bit finds it young (MultiGenLru.young), as a page its running owner keeps
 * touching. No kernel flag: the kernel sees its owner's accesses.
 */
export const PG_IN_USE = 128;

export class PageArrays implements ListLinks {
  readonly nrPages: number;
  /**
   * Free-list and pcp-list links of blocks of orders 0..9 (ListLinks with shift 0); the free
   * blocks of order 10 keep theirs in `top` (linksOf), so that a machine of wholly free
   * order-10 blocks writes none of these per-pfn arrays (the host then commits no memory for
   * them: issue 20 item 4).
   */
  readonly next: Int32Array;
  readonly prev: Int32Array;
  readonly shift = 0;
  /** the links of free order-10 blocks, by pfn >> 10 */
  readonly top: ListLinks;
  /** listMt of free order-10 blocks, by pfn >> 10 */
  readonly topMt: Uint8Array;
  /** buddy order of a free block's first pfn, or an allocated block's order at its head */
  readonly order: Int8Array;
  readonly flags: Uint8Array;
  /**
   * PG_MLOCKED / PG_UNEVICTABLE / PG_LAZYFREE of LRU pages (a huge page's at its head); set
   * afresh whenever a page becomes a user page (fault, migration, collapse)
   */
  readonly mflags: Uint8Array;
  /**
   * which migratetype free list (or pcp list) a block of order 0..9's first pfn sits on; a
   * free order-10 block's is in topMt (listMtOf / setListMt)
   */
  readonly listMt: Uint8Array;
  /** migratetype of each pageblock (index pfn >> PAGEBLOCK_ORDER) */
  readonly pbMt: Uint8Array;

  constructor(nrPages: number) {
    this.nrPages = nrPages;
    this.next = new Int32Array(nrPages);
    this.prev = new Int32Array(nrPages);
    this.order = new Int8Array(nrPages);
    this.flags = new Uint8Array(nrPages);
    this.mflags = new Uint8Array(nrPages);
    this.listMt = new Uint8Array(nrPages);
    const blocks = Math.ceil(nrPages / (1 << TOP));
    this.top = { next: new Int32Array(blocks), prev: new Int32Array(blocks), shift: TOP };
    this.topMt = new Uint8Array(blocks);
    this.pbMt = new Uint8Array(Math.ceil(nrPages / (1 << PAGEBLOCK_ORDER))).fill(MT_MOVABLE);
  }

  /** The links of the lists of blocks of `order` (free lists; pcp lists, orders 0..3 and 9). */
  linksOf(order: number): ListLinks {
    return order === TOP ? this.top : this;
  }

  /** Which migratetype list the block of `order` at pfn sits on. */
  listMtOf(pfn: number, order: number): number {
    return order === TOP ? this.topMt[pfn >>> TOP]! : this.listMt[pfn]!;
  }

  /** The block of `order` at pfn goes on migratetype list mt. */
  setListMt(pfn: number, order: number, mt: number): void {
    if (order === TOP) this.topMt[pfn >>> TOP] = mt;
    else this.listMt[pfn] = mt;
  }

  pageblockMt(pfn: number): number {
    return this.pbMt[pfn >>> PAGEBLOCK_ORDER]!;
  }
}
