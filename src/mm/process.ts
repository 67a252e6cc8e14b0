/**
 * Processes (mm_structs): regions (VMAs), page tables and the faults that fill them.
 * Page tables are radix leaves of 512 PTEs (an Int32Array per touched 2 MiB of address
 * space, slot 512 counting the non-empty entries), keyed by vpn >> 9 in a Map, so millions
 * of pages cost no object each. A PTE holds pfn + 1 for a present page, -(slot + 1) for a
 * swap or shadow entry left by reclaim (shadows.ts), 0 for nothing. The reverse map
 * (pfn -> mm, vpn) lives in typed arrays so that migration and reclaim can find a page's
 * mapping. A faulted page joins the youngest generation of its memcg's lruvec on its node
 * with its accessed bit set; a fault on a swap or shadow entry is a refault (major fault).
 *
 * Faults follow do_anonymous_page / filemap_fault in outline: every first touch allocates
 * a movable order-0 page (GFP_HIGHUSER_MOVABLE) on the accessing CPU's node, or the
 * region's preferred node; a file page's first touch is a major fault. An access outside
 * every region maps that one anon page implicitly (no VMA is made). A region mapping a
 * page-cache file (vma.mapping: an `mmap` naming a file) faults through filemap.ts instead:
 * the file's pages, shared with fread/fwrite and every other mapping of it.
 *
 * The page tables take memory as x86-64's 4 levels do (p4d folded): each leaf is a PTE table
 * page, a PMD table page covers 1 GiB of address space and a PUD table page 512 GiB, and the
 * PGD is an order-1 block (PGD_ALLOCATION_ORDER with page table isolation, as Debian builds
 * 6.1); all are unmovable order-0 kernel allocations (GFP_PGTABLE_USER) on the faulting CPU's
 * node, made by the fault before its page (__handle_mm_fault's pud_alloc / pmd_alloc, then
 * do_anonymous_page's pte_alloc; a huge page's fault allocates its folio first, then the PTE
 * table __do_huge_pmd_anonymous_page deposits). PTE and PMD tables count in
 * nr_page_table_pages (pgtable_pte_page_ctor / pgtable_pmd_page_ctor), the PUD and PGD do not.
 * A table goes when the last leaf under it does: a leaf is dropped when munmap empties it
 * (6.1's free_pgtables frees a table when no VMA is left over its range; wsim when no entry is
 * left, which differs only for a range partly unmapped and holding no page), and all at exit.
 * The PGD is allocated with the mm's first table (the kernel's at fork or exec).
 *
 * The VMAs cost slab objects (slab.ts, wsim.slab): mmap allocates a vm_area_struct
 * (vm_area_alloc); the first fault of an anon region allocates its anon_vma and one
 * anon_vma_chain (anon_vma_prepare, after the tables and before the page: do_anonymous_page,
 * do_huge_pmd_anonymous_page); a split copies the region (vm_area_dup) and chains the copy to
 * the same anon_vma (anon_vma_clone); a region removed frees its objects (remove_vma,
 * unlink_anon_vmas; the anon_vma with its last chain). The mm's maple tree holds its VMAs and
 * the gaps between them: mapleNodes() of that many ranges, allocated and freed as it changes.
 * Objects come from the CPU node of the fault, or of the mmap/munmap (the engine's first CPU
 * node); one that cannot be had is left out (the kernel fails the call with ENOMEM, wsim keeps
 * the region). munmap makes no VMA merges (vma_merge); madvise and mlock do (madvise.ts).
 * Swap-in (do_swap_page) reads ahead as 6.1 does for an SSD swap device (swap_vma_readahead,
 * KERNEL-REFERENCE-2 §10): a window of up to 1 << vm.page-cluster (8) pages around the fault,
 * sized by the region's readahead state (__swapin_nr_pages) and clipped to the region and its
 * 2 MiB page-table leaf; every swap entry in it is read (pswpin), the others into the swap
 * cache (swap_ra), not mapped, in the youngest generation (folio_add_lru in the fault makes
 * them active under MGLRU; inactive on the two-list LRU). One pgmajfault per
 * fault that reads. wsim keeps such a page in its PTE, marked by `swapSlot` (its swap slot + 1):
 * a later access is the minor fault that finds it in the swap cache (pgfault, swap_ra_hit) and
 * maps it; until then it counts in neither rss nor nr_anon_pages but in MM_SWAPENTS and
 * nr_swapcached, and reclaim drops it without I/O. A page's swap slot is freed when the page is
 * mapped (should_try_to_free_swap's exclusive case, taken for every swap-in: a documented
 * simplification), at munmap and at exit.
 */
import type { MmObserver } from "../plugin/observer.js";
import { V } from "../stats/counters.js";
import {
  GFP_DIRECT_RECLAIM, GFP_HIGHMEM, GFP_HIGHUSER_MOVABLE, GFP_KERNEL, GFP_KSWAPD_RECLAIM, GFP_MOVABLE, GFP_NORETRY, GFP_THISNODE, MT_MOVABLE, MT_UNMOVABLE, PAGE_SHIFT,
} from "./constants.js";
import type { LruGen, Lruvec } from "./lru-gen.js";
import type { Memcg } from "./memcg.js";
import type { PageAllocator } from "./page-alloc.js";
import { doWpPage, rmapDrop } from "./fork.js";
import { filemapFault, fileRmapDrop, remapCachePage, unmapCachePage, wpShared } from "./filemap.js";
import type { FileCache, PageCache } from "./pagecache.js";
import { PG_ACCESSED, PG_ALLOC, PG_ANON, PG_ANON_SHARED, PG_DIRTY, PG_FILE_MAPPED, PG_HEAD, PG_LRU, PG_MLOCKED, PG_UNEVICTABLE, type PageArrays } from "./pages.js";
import type { Shadows } from "./shadows.js";
import type { SwapWriteback } from "./swap-writeback.js";
import { mapleNodes, type Slab, type Slub } from "./slab.js";

export interface Vma {
  start: number; // vpn
  end: number; // vpn, exclusive
  file: boolean;
  thp: boolean;
  /** preferred node (MPOL_PREFERRED), -1 = local */
  node: number;
  /** the slab of its vm_area_struct (null or absent: none, wsim.slab off) */
  slab?: Slab | null;
  /** anon_vma_prepare's anon_vma: absent = not prepared yet, null = prepared with wsim.slab off */
  anonVma?: AnonVma | null;
  /** the slab of its anon_vma_chain (the link to anonVma) */
  avc?: Slab | null;
  /** anon_vma_fork's anon_vma_clone: the chains to the parent's anon_vmas (fork.ts) */
  clonedAvcs?: { avc: Slab | null; av: AnonVma }[];
  /** VM_LOCKED (mlock): faults here are mlocked, madvise DONTNEED/FREE/COLD/PAGEOUT refused */
  locked?: boolean;
  /** VM_NOHUGEPAGE (MADV_NOHUGEPAGE): never a huge page, whatever transparent_hugepage.enabled says */
  nohuge?: boolean;
  /**
   * vma->swap_readahead_info (swap_ra_info): the vpn of the last swap fault, its window and the
   * readahead hits since (SWAP_RA_HITS_MAX 63); absent = 0
   */
  raVpn?: number;
  raWin?: number;
  raHits?: number;
  /**
   * vma->vm_file of an `mmap` naming a file (filemap.ts): a MAP_SHARED mapping of that page-cache
   * file; absent = a kind=file region of private file-like pages (dropped at munmap)
   */
  mapping?: FileCache;
  /** vma->vm_pgoff: the file page index `start` maps (with mapping) */
  pgoff?: number;
}

/** An anon_vma object: its slab and the chains (VMAs) linked to it. */
export interface AnonVma {
  slab: Slab | null;
  refs: number;
}

/** SWAP_RA_HITS_MAX: the hits field's mask (PAGE_SHIFT / 2 bits) */
const SWAP_RA_HITS_MAX = 63;
/** SWAP_RA_ORDER_CEILING (64-bit) */
const SWAP_RA_ORDER_CEILING = 5;

const LEAF = 512;
const COUNT = 512; // leaf slot holding the number of present PTEs
/** leaf slot holding the pfn of its PTE table page */
export const PTE_TABLE = 513;
/** leaves (PTE tables) per PMD table: 1 GiB of address space */
const PMD_SPAN = 512;
/** leaves an Mm caches in front of its Map of leaves (a power of two) */
const LEAF_CACHE = 64;
/** PMD tables per PUD table: 512 GiB */
const PUD_SPAN = 512;
/** PGD_ALLOCATION_ORDER with CONFIG_PAGE_TABLE_ISOLATION (arch/x86/include/asm/pgalloc.h) */
export const PGD_ALLOCATION_ORDER = 1;
/** GFP_PGTABLE_USER: GFP_KERNEL | __GFP_ZERO | __GFP_ACCOUNT (include/asm-generic/pgalloc.h) */
const GFP_PGTABLE_USER = GFP_KERNEL;

/** A PMD or PUD table page and the tables under it. */
interface UpperTable {
  pfn: number;
  n: number;
}

export class Mm {
  readonly pid: number;
  readonly slot: number;
  readonly memcg: Memcg;
  /** sorted, non-overlapping */
  readonly vmas: Vma[] = [];
  readonly pt = new Map<number, Int32Array>();
  /** PMD tables by leaf index / PMD_SPAN, PUD tables by that / PUD_SPAN */
  readonly pmdTables = new Map<number, UpperTable>();
  readonly pudTables = new Map<number, UpperTable>();
  /** the PGD block's first pfn, -1 until the first table */
  pgd = -1;
  /** ranges in the maple tree: VMAs and the gaps between and around them */
  mapleEntries = 0;
  /** the slabs of the maple_node objects the tree holds */
  readonly maple: Slab[] = [];
  rssAnon = 0;
  rssFile = 0;
  /** MM_SWAPENTS: swap entries in its page tables (a page read ahead and not mapped included) */
  swapEnts = 0;
  /** /proc/<pid>/oom_score_adj (-1000..1000; a trace `set` with the pid writes it) */
  oomScoreAdj = 0;
  /** set by exit: the mm is gone (callers may still hold it) */
  exited = false;
  /**
   * A direct-mapped cache of LEAF_CACHE leaves in front of `pt` (issue 20 item 3: no Map
   * lookup per access): slot idx & (LEAF_CACHE - 1) holds leaf idx, or -1. Only leaves that
   * exist are cached; addLeaf, dropLeaf and clearLeaves keep it in step with `pt`.
   */
  private readonly cacheIdx = new Float64Array(LEAF_CACHE).fill(-1);
  private readonly cacheLeaf: (Int32Array | undefined)[] = new Array<Int32Array | undefined>(LEAF_CACHE).fill(undefined);

  constructor(pid: number, slot: number, memcg: Memcg) {
    this.pid = pid;
    this.slot = slot;
    this.memcg = memcg;
  }

  get cg(): string {
    return this.memcg.path;
  }

  /** The PTE table (leaf) covering vpns idx * LEAF .. + LEAF - 1, or undefined when none. */
  leaf(idx: number): Int32Array | undefined {
    const h = idx & (LEAF_CACHE - 1);
    if (this.cacheIdx[h] === idx) return this.cacheLeaf[h];
    const l = this.pt.get(idx);
    if (l !== undefined) {
      this.cacheIdx[h] = idx;
      this.cacheLeaf[h] = l;
    }
    return l;
  }

  /** a new leaf at idx whose PTE table page is pfn */
  addLeaf(idx: number, pfn: number): Int32Array {
    const l = new Int32Array(LEAF + 2);
    l[PTE_TABLE] = pfn;
    this.pt.set(idx, l);
    const h = idx & (LEAF_CACHE - 1);
    this.cacheIdx[h] = idx;
    this.cacheLeaf[h] = l;
    return l;
  }

  dropLeaf(idx: number): void {
    this.pt.delete(idx);
    const h = idx & (LEAF_CACHE - 1);
    if (this.cacheIdx[h] === idx) {
      this.cacheIdx[h] = -1;
      this.cacheLeaf[h] = undefined;
    }
  }

  /** every leaf gone (exit_mmap) */
  clearLeaves(): void {
    this.pt.clear();
    this.cacheIdx.fill(-1);
    this.cacheLeaf.fill(undefined);
  }

  /** find_vma for a vpn: the region containing it, or undefined. */
  findVma(vpn: number): Vma | undefined {
    return findRange(this.vmas, vpn);
  }

  /** PTE slots of leaf idx (vpns idx * 512 .. + 511) inside the mm's VMAs: walk_pte_range's `total` */
  leafSpan(idx: number): number {
    const lo = idx * LEAF;
    const hi = lo + LEAF;
    const vs = this.vmas;
    let n = 0;
    for (let i = firstEndingAfter(vs, lo); i < vs.length && vs[i]!.start < hi; i++) n += Math.min(vs[i]!.end, hi) - Math.max(vs[i]!.start, lo);
    return n;
  }
}

/**
 * find_vma's index: the first range of `list` (sorted by start, disjoint [start, end)) whose end
 * is above `key`, or list.length when none is.
 */
export function firstEndingAfter(list: readonly { start: number; end: number }[], key: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.end <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The range holding `key` in `list`, sorted by start, of disjoint [start, end) ranges (a
 * process's VMAs, as find_vma walks the maple tree; `wsim kernel`'s guest regions).
 */
export function findRange<T extends { start: number; end: number }>(list: readonly T[], key: number): T | undefined {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = list[mid]!;
    if (key < r.start) hi = mid - 1;
    else if (key >= r.end) lo = mid + 1;
    else return r;
  }
  return undefined;
}

export interface FaultContext {
  alloc: PageAllocator;
  ev: Float64Array;
  /** rmap: pfn -> mm slot + 1 (0 = none) */
  ownerMm: Int32Array;
  /** rmap: pfn -> vpn */
  ownerVpn: Float64Array;
  lru: LruGen;
  shadows: Shadows;
  /** true time of each page's last access (ms) */
  lastAccess: Float64Array;
  /** a fault on a swap/shadow entry of lruvec `from` brought the page back at pfn into `to` */
  onRefault: (from: Lruvec, to: Lruvec, token: number, type: number, now: number, pfn: number) => void;
  /** transparent_hugepage.enabled and .defrag as the fault path reads them */
  thp: ThpConfig;
  /** every access to a present page, and every fault (tiered machines: hints, ground truth) */
  onAccess: ((pfn: number, cpuNid: number, now: number) => void) | null;
  /** an mm was created / exited (kmmscand registers and forgets mms) */
  onMmCreate: ((mm: Mm, now: number) => void) | null;
  onMmExit: ((mm: Mm) => void) | null;
  /** do_huge_pmd_anonymous_page's khugepaged_enter_vma (khugepaged.ts): a huge fault in vma, its anon_vma prepared */
  onHugeFault?: ((mm: Mm, vma: Vma) => void) | null;
  /** do_numa_page: an access to the PROT_NONE page at pfn; returns the pfn mapped afterwards */
  onHintFault: ((mm: Mm, pfn: number, cpuNid: number, now: number) => number) | null;
  /** wsim.page_tables: new leaves get a PTE table page (and the tables above it) */
  pageTables: () => boolean;
  /** the slab allocator VMAs' objects come from */
  slub: Slub;
  /** wsim.slab: VMAs allocate slab objects */
  slab: () => boolean;
  /** vm.page-cluster (swap readahead: up to 1 << it pages; 0 reads the faulting page alone) */
  pageCluster?: () => number;
  /** mem_cgroup_charge of nr new pages to mm's memcg (memcg-limits.ts): false = -ENOMEM */
  charge?: (mm: Mm, nr: number, canBlock?: boolean, noRetry?: boolean) => boolean;
}

export interface ThpConfig {
  enabled: "always" | "madvise" | "never";
  defrag: "always" | "defer" | "defer+madvise" | "madvise" | "never";
}

/** vma_thp_gfp_mask (6.1): how hard a huge page fault in this region may try. */
export function thpGfp(defrag: ThpConfig["defrag"], madvised: boolean): number {
  // GFP_TRANSHUGE_LIGHT is GFP_HIGHUSER_MOVABLE without the reclaim bits: highest zone Movable
  return GFP_HIGHMEM | GFP_MOVABLE | thpReclaimGfp(defrag, madvised);
}

function thpReclaimGfp(defrag: ThpConfig["defrag"], madvised: boolean): number {
  switch (defrag) {
    case "always": // GFP_TRANSHUGE, __GFP_NORETRY unless madvised
      return GFP_DIRECT_RECLAIM | (madvised ? 0 : GFP_NORETRY);
    case "defer": // GFP_TRANSHUGE_LIGHT | __GFP_KSWAPD_RECLAIM: kick kcompactd, fail fast
      return GFP_KSWAPD_RECLAIM;
    case "defer+madvise":
      return madvised ? GFP_DIRECT_RECLAIM : GFP_KSWAPD_RECLAIM;
    case "madvise":
      return madvised ? GFP_DIRECT_RECLAIM : 0;
    case "never":
      return 0;
  }
}

export const HPAGE_PMD_ORDER = 9;
export const HPAGE_PMD_NR = 512;

export const FAULT_OK = 0;
export const FAULT_OOM = 1;
/** hugeFault: no huge page; fall back to an order-0 fault */
const HUGE_FALLBACK = 2;

export class ProcessTable {
  readonly byPid = new Map<number, Mm>();
  readonly bySlot = new Map<number, Mm>();
  private nextSlot = 1;

  /** the slot the next mm will get (slots only grow) */
  get slotsGiven(): number {
    return this.nextSlot;
  }
  private last: Mm | undefined;
  nrAnon = 0;
  nrFile = 0;
  /** mapped transparent huge pages (nr_anon_transparent_hugepages) */
  nrThp = 0;
  /** PTE and PMD table pages (nr_page_table_pages) */
  nrPageTables = 0;
  /** PUD table pages and PGD blocks' pages: page tables outside nr_page_table_pages */
  nrUpperTablePages = 0;
  /** NUMA balancing's PROT_NONE byte per pfn, null while it has never been on */
  protNone: Uint8Array | null = null;
  /**
   * per pfn: the swap slot + 1 of a page in the swap cache and not mapped (PG_swapcache: read
   * ahead, or written out by reclaim and not freed yet: swapOut), 0 otherwise; null until the
   * first readahead or swap-out (4 bytes a page, counted in HOST_BYTES_PER_PAGE, taken only by
   * runs that swap)
   */
  swapSlot: Int32Array | null = null;
  /** nr_swapcached: pages in the swap cache (read ahead or written out, not mapped) */
  nrSwapCached = 0;
  /**
   * anon pages under swap writeback and PG_reclaim/PG_readahead (swap-writeback.ts), or null
   * (tests without it: every swap cache hit counts as a readahead hit)
   */
  swapWb: SwapWriteback | null = null;
  /** the mm whose fault is allocating now (the OOM killer's `current`), or null */
  current: Mm | null = null;
  /** pids the OOM killer killed, and when (ms): their later events are data errors */
  readonly oomKilled = new Map<number, number>();

  /** pages with PG_mlocked (nr_mlock) */
  nrMlock = 0;

  /**
   * The reverse map beyond a page's first owner (fork.ts): per pfn mapped by more than one mm,
   * the slots of the others (ownerMm holds the first; every owner maps it at ownerVpn, as fork
   * copies at the same address). Empty unless a fork shared pages; folio_mapcount is 1 + the
   * list's length.
   */
  readonly rmapShared = new Map<number, number[]>();

  /** swap-entry references beyond the first (swap_duplicate), for --check */
  get shadowDups(): number {
    return this.ctx.shadows.dupRefs;
  }

  /**
   * the page cache (pagecache.ts): reclaim and migration of a page whose rmap names a file
   * (ownerMm < 0) update the file's index, and the PTEs of the mms that map it (filemap.ts)
   */
  pageCache: PageCache | null = null;

  /**
   * The mms mapping each mapped page-cache page (filemap.ts): pfn -> [mm slot, vpn, ...], one
   * pair per PTE; present only while the page is mapped (PG_FILE_MAPPED).
   */
  readonly fileMaps = new Map<number, number[]>();

  /**
   * faults that mapped a page already there (a page-cache hit, fault-around, a shared
   * mapping's write-protect fault): no page zeroed, no I/O (the stall meter's cost.fault_ns alone)
   */
  mappedFaults = 0;

  /** ctx.alloc.buddy.pages and ctx.lastAccess, read once (the hot path's loads) */
  private readonly pageArrays: PageArrays;
  private readonly lastAccessArr: Float64Array;

  constructor(readonly ctx: FaultContext) {
    this.pageArrays = ctx.alloc.buddy.pages;
    this.lastAccessArr = ctx.lastAccess;
  }

  /** The swap slot + 1 of the page at pfn if it waits in the swap cache, else 0. */
  slotOf(pfn: number): number {
    return this.swapSlot === null ? 0 : this.swapSlot[pfn]!;
  }

  /** plugins observing faults, or null */
  observer: MmObserver | null = null;

  get(pid: number): Mm | undefined {
    if (this.last && this.last.pid === pid) return this.last;
    const mm = this.byPid.get(pid);
    if (mm) this.last = mm;
    return mm;
  }

  create(pid: number, memcg: Memcg, now = 0): Mm {
    const mm = new Mm(pid, this.nextSlot++, memcg);
    this.ctx.onMmCreate?.(mm, now);
    this.byPid.set(pid, mm);
    this.bySlot.set(mm.slot, mm);
    this.last = mm;
    this.ctx.ev[V.wsim_processes]!++;
    return mm;
  }

  /**
   * An mm no trace pid names (a start state's boot owner, src/mm/start-state.ts): in bySlot
   * (reverse map, reclaim, --check) but not byPid, so no event reaches it, it never exits and
   * the OOM killer never picks it; not counted in wsim_processes.
   */
  createDetached(pid: number, memcg: Memcg): Mm {
    const mm = new Mm(pid, this.nextSlot++, memcg);
    this.bySlot.set(mm.slot, mm);
    return mm;
  }

  /**
   * A CPU on cpuNid touches vpn. Present: set the accessed (and dirty) bit (a page waiting in
   * the swap cache is mapped first: swapCacheHit). Not present: fault a page in. Returns
   * FAULT_OK, or FAULT_OOM when no page could be had even after the OOM killer (none to kill,
   * or this process was its victim): the access is dropped.
   */
  access(mm: Mm, vpn: number, write: boolean, cpuNid: number, now: number): number {
    if (this.touchPresent(mm, vpn, write, cpuNid, now)) return FAULT_OK;
    return this.accessSlow(mm, vpn, write, cpuNid, now);
  }

  /**
   * The hot path of an access (no fault): a present, writable (or read) PTE: sets the page's
   * accessed (and dirty) bits, its last access time, and tells the access observer. Returns
   * false, having done nothing, when the access must take accessSlow (no PTE, a swap-cache or
   * NUMA hint page, a write to a write-protected page): the engine counts stall time only then.
   */
  touchPresent(mm: Mm, vpn: number, write: boolean, cpuNid: number, now: number): boolean {
    const leafIdx = Math.floor(vpn / LEAF);
    const leaf = mm.leaf(leafIdx);
    if (leaf === undefined) return false;
    const pte = leaf[vpn - leafIdx * LEAF]!;
    if (pte <= 0) return false;
    const pfn = pte - 1;
    if (this.swapSlot !== null && this.swapSlot[pfn] !== 0) return false;
    if (this.protNone !== null && this.protNone[pfn] !== 0) return false;
    const pages = this.pageArrays;
    // a write-protected page: a COW page after fork (do_wp_page), or a clean page of a shared file mapping
    if (write && (pages.mflags[pfn]! & (PG_ANON_SHARED | PG_FILE_MAPPED)) !== 0) return false;
    pages.flags[pfn]! |= write ? PG_ACCESSED | PG_DIRTY : PG_ACCESSED;
    this.lastAccessArr[pfn] = now;
    const onAccess = this.ctx.onAccess;
    if (onAccess) onAccess(pfn, cpuNid, now);
    return true;
  }

  /** An access touchPresent could not take: swap-cache hits, NUMA hint faults, write-protect and missing-page faults. */
  accessSlow(mm: Mm, vpn: number, write: boolean, cpuNid: number, now: number): number {
    const leafIdx = Math.floor(vpn / LEAF);
    const slot = vpn - leafIdx * LEAF;
    const leaf = mm.leaf(leafIdx);
    if (leaf !== undefined) {
      const pte = leaf[slot]!;
      if (pte > 0) {
        let pfn = pte - 1;
        if (this.swapSlot !== null && this.swapSlot[pfn] !== 0) this.swapCacheHit(mm, vpn, pfn, now);
        if (this.protNone !== null && this.protNone[pfn] !== 0) pfn = this.ctx.onHintFault!(mm, pfn, cpuNid, now);
        const pages = this.ctx.alloc.buddy.pages;
        // a write-protected page: a COW page after fork (do_wp_page), or a clean page of a shared file mapping
        if (write && (pages.mflags[pfn]! & (PG_ANON_SHARED | PG_FILE_MAPPED)) !== 0) {
          if (pages.mflags[pfn]! & PG_ANON_SHARED) return doWpPage(this, mm, vpn, leafIdx, slot, pfn, cpuNid, now);
          wpShared(this, pfn, now);
        }
        const flags = pages.flags;
        flags[pfn]! |= write ? PG_ACCESSED | PG_DIRTY : PG_ACCESSED;
        this.ctx.lastAccess[pfn] = now;
        if (this.ctx.onAccess) this.ctx.onAccess(pfn, cpuNid, now);
        return FAULT_OK;
      }
    }
    return this.fault(mm, vpn, leafIdx, slot, write, cpuNid, now);
  }

  private fault(mm: Mm, vpn: number, leafIdx: number, slot: number, write: boolean, cpuNid: number, now: number): number {
    const prev = this.current;
    this.current = mm;
    const r = this.faultIn(mm, vpn, leafIdx, slot, write, cpuNid, now);
    this.current = prev;
    return r;
  }

  private faultIn(mm: Mm, vpn: number, leafIdx: number, slot: number, write: boolean, cpuNid: number, now: number): number {
    const { alloc, ev, shadows } = this.ctx;
    ev[V.pgfault]!++;
    const vma = mm.findVma(vpn);
    if (!vma) ev[V.wsim_implicit_maps]!++;
    // a shared file mapping: the page cache's page (filemap.ts)
    else if (vma.mapping !== undefined) return filemapFault(this, mm, vma, vpn, leafIdx, slot, write, cpuNid, now);
    const pref = vma !== undefined && vma.node >= 0 ? vma.node : cpuNid;
    if (vma !== undefined && !vma.file && this.thpEligible(mm, vma, leafIdx)) {
      const r = this.hugeFault(mm, vma, vpn, leafIdx, write, pref, cpuNid, now);
      if (r === FAULT_OK && this.observer !== null) {
        // the folio's node (the last allocation may have been its PTE table)
        const base = mm.leaf(leafIdx)![0]! - 1;
        this.observer.fault(mm.pid, vpn, base, HPAGE_PMD_ORDER, alloc.zoneOf(base).nid, cpuNid, write, false, false);
      }
      if (r !== HUGE_FALLBACK) return r;
      ev[V.thp_fault_fallback]!++;
    }
    // pud_alloc, pmd_alloc, then do_anonymous_page's pte_alloc: the tables before the page
    let leaf = mm.leaf(leafIdx);
    if (leaf === undefined) {
      leaf = this.newLeaf(mm, leafIdx, cpuNid, true);
      // no page even after the OOM killer (none to kill, or this process was the victim)
      if (leaf === undefined) return FAULT_OOM;
    }
    const old0 = leaf[slot]!;
    if (old0 < 0 && vma !== undefined && !vma.file && shadows.type[-old0 - 1] === 0)
      return this.swapFault(mm, vma, vpn, leafIdx, leaf, write, pref, cpuNid, now);
    // do_anonymous_page: anon_vma_prepare before the page
    if (vma !== undefined && vma.anonVma === undefined && !vma.file && !this.anonVmaPrepare(vma, cpuNid)) {
      ev[V.oom_kill]!++;
      return FAULT_OOM;
    }
    const pfn = alloc.allocPages(0, MT_MOVABLE, GFP_HIGHUSER_MOVABLE, pref, cpuNid);
    if (pfn < 0) return FAULT_OOM;
    // do_anonymous_page / do_read_fault: mem_cgroup_charge after the folio; -ENOMEM frees it
    if (this.ctx.charge !== undefined && !this.ctx.charge(mm, 1)) {
      alloc.freePages(pfn, 0);
      return FAULT_OOM;
    }
    const old = leaf[slot]!;
    let file = vma !== undefined && vma.file;
    let from: Lruvec | undefined;
    let token = 0;
    const major = old < 0 || file;
    if (old < 0) {
      // a refault: the page comes back from swap or the file
      const sh = -old - 1;
      file = shadows.type[sh] === 1;
      from = this.ctx.lru.lruvecs[shadows.lruvec[sh]!];
      token = shadows.token[sh]!;
      shadows.free(sh);
      ev[V.pgmajfault]!++;
      ev[V.pgfault]!++; // the read drops mmap_lock: VM_FAULT_RETRY, handle_mm_fault again (filemap.ts)
      ev[V.pgpgin]! += 4;
      if (!file) {
        ev[V.pswpin]!++;
        mm.swapEnts--;
      }
    } else {
      leaf[COUNT]!++;
      if (file) {
        ev[V.pgmajfault]!++;
        ev[V.pgfault]!++; // the read drops mmap_lock: VM_FAULT_RETRY, handle_mm_fault again (filemap.ts)
        ev[V.pgpgin]! += 4; // KiB read, as /proc/vmstat prints it
      }
    }
    const flags = alloc.buddy.pages.flags;
    flags[pfn]! |= PG_LRU | PG_ACCESSED | (file ? 0 : PG_ANON) | (write ? PG_DIRTY : 0);
    alloc.buddy.pages.mflags[pfn] = 0;
    leaf[slot] = pfn + 1;
    this.ctx.ownerMm[pfn] = mm.slot;
    this.ctx.ownerVpn[pfn] = vpn;
    this.ctx.lastAccess[pfn] = now;
    const lv = mm.memcg.lruvecs[alloc.lastZone!.nid]!;
    if (vma !== undefined && vma.locked === true) this.mlockNew(lv, pfn);
    else this.ctx.lru.addFault(lv, pfn);
    if (from) this.ctx.onRefault(from, lv, token, file ? 1 : 0, now, pfn);
    if (this.ctx.onAccess) this.ctx.onAccess(pfn, cpuNid, now);
    if (this.observer !== null) this.observer.fault(mm.pid, vpn, pfn, 0, lv.nid, cpuNid, write, file, major);
    if (file) {
      mm.rssFile++;
      this.nrFile++;
    } else {
      mm.rssAnon++;
      this.nrAnon++;
    }
    return FAULT_OK;
  }

  /**
   * do_swap_page on a swap entry of an anon region that missed the swap cache: swapin_readahead
   * -> swap_vma_readahead. The window (swap_ra_info) is read in ascending address order, each
   * swap entry's page allocated (GFP_HIGHUSER_MOVABLE, the region's policy) and read (pswpin,
   * pgpgin; workingset_refault for its shadow); the faulting page is mapped (one pgmajfault),
   * the others wait in the swap cache (swap_ra). A readahead page that cannot be had is skipped,
   * as __read_swap_cache_async does.
   */
  private swapFault(mm: Mm, vma: Vma, vpn: number, leafIdx: number, leaf: Int32Array, write: boolean, pref: number, cpuNid: number, now: number): number {
    const { alloc, ev, shadows, ownerMm, ownerVpn, lastAccess, lru } = this.ctx;
    const base = leafIdx * LEAF;
    // swap_ra_info: the window from the region's readahead state, which this fault resets
    const cluster = this.ctx.pageCluster ? this.ctx.pageCluster() : 3;
    const maxWin = 1 << Math.min(cluster, SWAP_RA_ORDER_CEILING);
    let start = vpn;
    let end = vpn + 1;
    let win = 1;
    if (maxWin > 1) {
      const prevVpn = vma.raVpn ?? 0;
      win = swapinNrPages(prevVpn, vpn, vma.raHits ?? 0, maxWin, vma.raWin ?? 0);
      vma.raVpn = vpn;
      vma.raWin = win;
      vma.raHits = 0;
      if (win > 1) {
        let l: number;
        let r: number;
        if (vpn === prevVpn + 1) {
          l = vpn;
          r = vpn + win;
        } else if (prevVpn === vpn + 1) {
          l = vpn - win + 1;
          r = vpn + 1;
        } else {
          const left = (win - 1) >> 1;
          l = vpn - left;
          r = vpn + win - left;
        }
        // swap_ra_clamp_pfn: inside the region and the PMD (this leaf) holding the fault
        start = Math.max(l, vma.start, base);
        end = Math.min(r, vma.end, base + LEAF);
      }
    }
    const flags = alloc.buddy.pages.flags;
    let mapped = -1;
    for (let v = start; v < end; v++) {
      const s = v - base;
      const pte = leaf[s]!;
      if (pte >= 0) continue; // none, present, or in the swap cache already
      const sh = -pte - 1;
      if (shadows.type[sh] !== 0) continue;
      const pfn = alloc.allocPages(0, MT_MOVABLE, GFP_HIGHUSER_MOVABLE, pref, cpuNid);
      if (mm.exited) return FAULT_OOM; // the OOM killer took this process (its pages went with it)
      if (pfn < 0) {
        if (v === vpn) return FAULT_OOM;
        continue;
      }
      // __read_swap_cache_async: mem_cgroup_swapin_charge_folio; a failed charge drops the page
      if (this.ctx.charge !== undefined && !this.ctx.charge(mm, 1)) {
        alloc.freePages(pfn, 0);
        if (mm.exited || v === vpn) return FAULT_OOM;
        continue;
      }
      if (leaf[s] !== pte) {
        // reclaim for this allocation changed the entry (cannot happen to a swap entry; kept safe)
        alloc.freePages(pfn, 0);
        continue;
      }
      const from = this.ctx.lru.lruvecs[shadows.lruvec[sh]!];
      const token = shadows.token[sh]!;
      ev[V.pswpin]!++;
      ev[V.pgpgin]! += 4;
      leaf[s] = pfn + 1;
      ownerMm[pfn] = mm.slot;
      ownerVpn[pfn] = v;
      lastAccess[pfn] = now;
      alloc.buddy.pages.mflags[pfn] = 0; // a user page afresh (no stale PG_ANON_SHARED)
      const lv = mm.memcg.lruvecs[alloc.lastZone!.nid]!;
      if (v === vpn) {
        shadows.free(sh);
        mm.swapEnts--;
        flags[pfn]! |= PG_LRU | PG_ACCESSED | PG_ANON | (write ? PG_DIRTY : 0);
        lru.addFault(lv, pfn);
        mm.rssAnon++;
        this.nrAnon++;
        mapped = pfn;
      } else {
        // the swap cache, not mapped. __read_swap_cache_async's folio_add_lru runs inside the
        // fault (lru_gen_in_fault: handle_mm_fault's lru_gen_enter_fault), so MGLRU makes it
        // active and lru_gen_add_folio files it in the youngest generation, as the faulting
        // page; the two-list LRU adds it inactive
        flags[pfn]! |= PG_LRU | PG_ANON;
        lru.addFault(lv, pfn);
        (this.swapSlot ??= new Int32Array(ownerMm.length))[pfn] = sh + 1;
        this.nrSwapCached++;
        if (this.swapWb !== null) this.swapWb.markReadahead(pfn); // SetPageReadahead
        ev[V.swap_ra]!++;
      }
      if (from) this.ctx.onRefault(from, lv, token, 0, now, pfn);
    }
    if (mapped < 0) return FAULT_OOM;
    ev[V.pgmajfault]!++;
    // do_swap_page: with a window of more than one page, swap_vma_readahead reads the faulting
    // page asynchronously with the others, so it is still locked: folio_lock_or_retry drops
    // mmap_lock, waits and returns VM_FAULT_RETRY, and the retried handle_mm_fault (finding it in
    // the swap cache) counts PGFAULT again. A window of one is read with do_poll: done before
    // the lock is tried, no retry. (wsim's swap device is a disk, not SWP_SYNCHRONOUS_IO.)
    if (win > 1) ev[V.pgfault]!++;
    if (this.ctx.onAccess) this.ctx.onAccess(mapped, cpuNid, now);
    if (this.observer !== null) this.observer.fault(mm.pid, vpn, mapped, 0, alloc.zoneOf(mapped).nid, cpuNid, write, false, true);
    return FAULT_OK;
  }

  /**
   * do_swap_page finding the page in the swap cache (swap_cache_get_folio): a minor fault
   * (pgfault); folio_test_clear_readahead true (a page read ahead, or one whose swap write is
   * still in flight: PG_readahead is PG_reclaim's bit) counts swap_ra_hit and the region's
   * readahead hits + 1; the region's readahead address is this one either way. The page is
   * mapped and its swap slot freed (should_try_to_free_swap's exclusive case; 6.1 keeps the slot
   * while the write is in flight: a documented simplification).
   */
  private swapCacheHit(mm: Mm, vpn: number, pfn: number, now: number): void {
    const { ev, shadows } = this.ctx;
    ev[V.pgfault]!++;
    const wb = this.swapWb;
    if (wb !== null) wb.completeUpTo(now);
    const readahead = wb === null || wb.testClearReclaim(pfn);
    if (readahead) ev[V.swap_ra_hit]!++;
    const vma = mm.findVma(vpn);
    if (vma !== undefined) {
      if (readahead) vma.raHits = Math.min((vma.raHits ?? 0) + 1, SWAP_RA_HITS_MAX);
      vma.raVpn = vpn;
    }
    const ss = this.swapSlot!;
    shadows.free(ss[pfn]! - 1);
    ss[pfn] = 0;
    this.nrSwapCached--;
    mm.swapEnts--;
    mm.rssAnon++;
    this.nrAnon++;
  }

  /**
   * shrink_folio_list's add_to_swap + try_to_unmap of the mapped anon page at pfn, before its
   * swap write (reclaim.ts): the page goes into the swap cache with swap slot `shadow` (the page
   * tables of the other mms mapping it get the swap entry, swap_duplicate), out of rss and
   * nr_anon_pages, into MM_SWAPENTS and nr_swapcached; its PTE keeps pointing at it, marked by
   * swapSlot, so a fault before it is freed finds it (swapCacheHit). It stays allocated, on its
   * LRU list, until reclaim drops it (dropSwapCache).
   */
  swapOut(pfn: number, shadow: number): void {
    const { ownerMm, ownerVpn } = this.ctx;
    const mm = this.bySlot.get(ownerMm[pfn]!)!;
    const vpn = ownerVpn[pfn]!;
    this.anonToSwapEntry(mm, pfn, vpn, shadow);
    (this.swapSlot ??= new Int32Array(ownerMm.length))[pfn] = shadow + 1;
    this.nrSwapCached++;
  }

  /**
   * try_to_unmap of the anon page at pfn, mapped by mm at vpn, for swap slot `shadow`: out of
   * mm's rss and nr_anon_pages, into its MM_SWAPENTS; every other mm mapping it after fork gets
   * the swap entry in its PTE (swap_duplicate) and the same counts, and the page is no longer
   * shared. mm's own PTE is the caller's (the swap entry, or the page kept in the swap cache).
   */
  private anonToSwapEntry(mm: Mm, pfn: number, vpn: number, shadow: number): void {
    mm.rssAnon--;
    this.nrAnon--;
    mm.swapEnts++;
    const more = this.rmapShared.size !== 0 ? this.rmapShared.get(pfn) : undefined;
    if (more !== undefined) {
      const idx = Math.floor(vpn / LEAF);
      for (const s of more) {
        const o = this.bySlot.get(s)!;
        o.leaf(idx)![vpn - idx * LEAF] = -(shadow + 1);
        o.rssAnon--;
        o.swapEnts++;
        this.ctx.shadows.dup(shadow);
      }
      this.rmapShared.delete(pfn);
    }
    this.ctx.alloc.buddy.pages.mflags[pfn]! &= ~PG_ANON_SHARED;
  }

  /**
   * Reclaim dropped the clean swap cache page at pfn: its PTE is the swap entry again (the slot
   * kept), its rmap goes. The caller frees the page.
   */
  dropSwapCache(pfn: number): void {
    const { ownerMm, ownerVpn } = this.ctx;
    const mm = this.bySlot.get(ownerMm[pfn]!)!;
    const vpn = ownerVpn[pfn]!;
    const idx = Math.floor(vpn / LEAF);
    const ss = this.swapSlot!;
    mm.leaf(idx)![vpn - idx * LEAF] = -ss[pfn]!;
    ss[pfn] = 0;
    this.nrSwapCached--;
    ownerMm[pfn] = 0;
  }

  /**
   * do_huge_pmd_anonymous_page's conditions: THP enabled for the region (always: any anon
   * region; madvise: MADV_HUGEPAGE ones), the aligned 2 MiB range wholly inside it, and nothing
   * present or swapped in the range (its page-table leaf is empty).
   */
  private thpEligible(mm: Mm, vma: Vma, leafIdx: number): boolean {
    const en = this.ctx.thp.enabled;
    if (en === "never" || (en === "madvise" && !vma.thp) || vma.nohuge === true) return false;
    const start = leafIdx * LEAF;
    if (start < vma.start || start + LEAF > vma.end) return false;
    const leaf = mm.leaf(leafIdx);
    return leaf === undefined || leaf[COUNT] === 0;
  }

  /**
   * A huge page fault: vma_alloc_folio's two passes (the preferred node only with
   * __GFP_NORETRY, then, if the defrag mode allows direct reclaim, a normal one) for an
   * order-9 movable block; on success all 512 PTEs map it (thp_fault_alloc).
   */
  private hugeFault(mm: Mm, vma: Vma, vpn: number, leafIdx: number, write: boolean, pref: number, cpuNid: number, now: number): number {
    const { alloc, ev, ownerMm, ownerVpn, lastAccess } = this.ctx;
    // __handle_mm_fault: the PUD and PMD tables before the huge page
    const tables = this.ctx.pageTables();
    if (tables && !mm.leaf(leafIdx) && !this.upperTables(mm, leafIdx, cpuNid)) {
      this.releaseUpper(mm, leafIdx);
      return FAULT_OOM;
    }
    // do_huge_pmd_anonymous_page: anon_vma_prepare before the folio
    if (vma.anonVma === undefined && !this.anonVmaPrepare(vma, cpuNid)) {
      if (!mm.leaf(leafIdx)) this.releaseUpper(mm, leafIdx);
      ev[V.oom_kill]!++;
      return FAULT_OOM;
    }
    if (this.ctx.onHugeFault) this.ctx.onHugeFault(mm, vma); // khugepaged_enter_vma
    const gfp = thpGfp(this.ctx.thp.defrag, vma.thp);
    let pfn = alloc.allocPages(HPAGE_PMD_ORDER, MT_MOVABLE, gfp | GFP_THISNODE | GFP_NORETRY, pref, cpuNid);
    if (pfn < 0 && gfp & GFP_DIRECT_RECLAIM) pfn = alloc.allocPages(HPAGE_PMD_ORDER, MT_MOVABLE, gfp, pref, cpuNid);
    if (pfn < 0) return HUGE_FALLBACK; // the PUD and PMD stay: the order-0 fault uses them
    // mem_cgroup_charge of the huge folio: -ENOMEM falls back (thp_fault_fallback_charge)
    if (this.ctx.charge !== undefined && !this.ctx.charge(mm, HPAGE_PMD_NR, (gfp & GFP_DIRECT_RECLAIM) !== 0, (gfp & GFP_NORETRY) !== 0)) {
      alloc.freePages(pfn, HPAGE_PMD_ORDER);
      ev[V.thp_fault_fallback_charge]!++;
      return mm.exited ? FAULT_OOM : HUGE_FALLBACK;
    }
    const nid = alloc.lastZone!.nid;
    // __do_huge_pmd_anonymous_page: the PTE table it deposits, after the folio; none: VM_FAULT_OOM
    let leaf = mm.leaf(leafIdx);
    if (leaf === undefined) {
      leaf = this.newLeaf(mm, leafIdx, cpuNid, false);
      if (leaf === undefined) {
        alloc.freePages(pfn, HPAGE_PMD_ORDER);
        return FAULT_OOM;
      }
    }
    ev[V.thp_fault_alloc]!++;
    const flags = alloc.buddy.pages.flags;
    const mflags = alloc.buddy.pages.mflags;
    const base = leafIdx * LEAF;
    for (let k = 0; k < HPAGE_PMD_NR; k++) {
      const p = pfn + k;
      flags[p]! |= PG_LRU | PG_ANON;
      mflags[p] = 0;
      leaf[k] = p + 1;
      ownerMm[p] = mm.slot;
      ownerVpn[p] = base + k;
      lastAccess[p] = now; // the kernel zeroes the whole huge page at the fault
    }
    flags[pfn + (vpn - base)]! |= PG_ACCESSED | (write ? PG_DIRTY : 0);
    leaf[COUNT] = HPAGE_PMD_NR;
    mm.rssAnon += HPAGE_PMD_NR;
    this.nrAnon += HPAGE_PMD_NR;
    this.nrThp++;
    const lv = mm.memcg.lruvecs[nid]!;
    if (vma.locked === true) this.mlockNew(lv, pfn);
    else this.ctx.lru.addFault(lv, pfn);
    return FAULT_OK;
  }

  /**
   * mlock_new_page, then __mlock_new_page when the batch drains: a page faulted into a
   * VM_LOCKED region (not on any list yet) gets PG_mlocked (nr_mlock, unevictable_pgs_mlocked)
   * and goes onto its lruvec's unevictable list (unevictable_pgs_culled).
   */
  mlockNew(lv: Lruvec, pfn: number): void {
    const { lru, ev } = this.ctx;
    const nr = lru.nrOf(pfn);
    this.ctx.alloc.buddy.pages.mflags[pfn]! |= PG_MLOCKED;
    this.nrMlock += nr;
    ev[V.unevictable_pgs_mlocked]! += nr;
    lru.addUnevictable(lv, pfn);
    ev[V.unevictable_pgs_culled]! += nr;
  }

  /**
   * mlock_folio, then __mlock_page when the batch drains (mm/mlock.c, 6.1): a mapped page (or
   * huge page, by its head) on the LRU gets PG_mlocked (nr_mlock, unevictable_pgs_mlocked) and
   * leaves its generation for the unevictable list (unevictable_pgs_culled). Already mlocked:
   * nothing (one mm maps each page, so mlock_count is 0 or 1).
   */
  mlockPage(pfn: number): void {
    const { lru, ev } = this.ctx;
    const mflags = this.ctx.alloc.buddy.pages.mflags;
    if (mflags[pfn]! & PG_MLOCKED) return;
    const nr = lru.nrOf(pfn);
    mflags[pfn]! |= PG_MLOCKED;
    this.nrMlock += nr;
    ev[V.unevictable_pgs_mlocked]! += nr;
    const lv = lru.lruvecOfPfn(pfn);
    if (lv === undefined || mflags[pfn]! & PG_UNEVICTABLE) return;
    lru.del(pfn);
    lru.addUnevictable(lv, pfn);
    ev[V.unevictable_pgs_culled]! += nr;
  }

  /**
   * munlock_page -> __munlock_page (6.1) of a page whose last mlock goes (munlock, or its
   * VM_LOCKED mapping is zapped by munmap, MADV_DONTNEED of a locked range cannot happen, exit):
   * PG_mlocked cleared (nr_mlock, unevictable_pgs_munlocked), and, evictable again, back from
   * the unevictable list into a generation as lruvec_add_folio files an inactive folio
   * (unevictable_pgs_rescued). A page freed still PG_mlocked would count unevictable_pgs_cleared;
   * every wsim path munlocks first, as 6.1's page_remove_rmap does.
   */
  munlockPage(pfn: number): void {
    const { lru, ev } = this.ctx;
    const mflags = this.ctx.alloc.buddy.pages.mflags;
    if (!(mflags[pfn]! & PG_MLOCKED)) return;
    const nr = lru.nrOf(pfn);
    mflags[pfn]! &= ~PG_MLOCKED;
    this.nrMlock -= nr;
    ev[V.unevictable_pgs_munlocked]! += nr;
    if (!(mflags[pfn]! & PG_UNEVICTABLE)) return;
    const lv = lru.lruvecOfPfn(pfn)!;
    lru.del(pfn);
    mflags[pfn]! &= ~PG_UNEVICTABLE;
    lru.addInactive(lv, pfn);
    ev[V.unevictable_pgs_rescued]! += nr;
  }

  /**
   * A new leaf at leafIdx with its PTE table page (and, with `upper`, the PUD and PMD tables
   * above it first), or undefined when a page could not be had (what this made is released).
   * With wsim.page_tables off the leaf has no table (PTE_TABLE -1).
   */
  newLeaf(mm: Mm, leafIdx: number, cpuNid: number, upper: boolean): Int32Array | undefined {
    if (!this.ctx.pageTables()) return mm.addLeaf(leafIdx, -1);
    const pte = !upper || this.upperTables(mm, leafIdx, cpuNid) ? this.allocTable(cpuNid) : -1;
    if (pte < 0) {
      this.releaseUpper(mm, leafIdx);
      return undefined;
    }
    this.nrPageTables++;
    mm.pmdTables.get(Math.floor(leafIdx / PMD_SPAN))!.n++;
    return mm.addLeaf(leafIdx, pte);
  }

  /** An order-0 page-table page (GFP_PGTABLE_USER, unmovable) from a CPU of cpuNid, or -1. */
  private allocTable(cpuNid: number): number {
    return this.ctx.alloc.allocPages(0, MT_UNMOVABLE, GFP_PGTABLE_USER, cpuNid, cpuNid);
  }

  /**
   * pgd_alloc (with the mm's first table), pud_alloc and pmd_alloc for the leaf at leafIdx:
   * false when a page could not be had (the caller releases what this made).
   */
  private upperTables(mm: Mm, leafIdx: number, cpuNid: number): boolean {
    if (mm.pgd < 0) {
      const pgd = this.ctx.alloc.allocPages(PGD_ALLOCATION_ORDER, MT_UNMOVABLE, GFP_PGTABLE_USER, cpuNid, cpuNid);
      if (pgd < 0) return false;
      mm.pgd = pgd;
      this.nrUpperTablePages += 1 << PGD_ALLOCATION_ORDER;
    }
    const pmdIdx = Math.floor(leafIdx / PMD_SPAN);
    if (mm.pmdTables.has(pmdIdx)) return true;
    const pudIdx = Math.floor(pmdIdx / PUD_SPAN);
    if (!mm.pudTables.has(pudIdx)) {
      const pud = this.allocTable(cpuNid);
      if (pud < 0) return false;
      mm.pudTables.set(pudIdx, { pfn: pud, n: 0 });
      this.nrUpperTablePages++;
    }
    const pmd = this.allocTable(cpuNid);
    if (pmd < 0) return false;
    mm.pmdTables.set(pmdIdx, { pfn: pmd, n: 0 });
    mm.pudTables.get(pudIdx)!.n++;
    this.nrPageTables++;
    return true;
  }

  /** The PMD and PUD tables over leafIdx that hold no table any more go (free_pgd_range). */
  private releaseUpper(mm: Mm, leafIdx: number): void {
    const { alloc } = this.ctx;
    const pmdIdx = Math.floor(leafIdx / PMD_SPAN);
    const pmd = mm.pmdTables.get(pmdIdx);
    if (pmd && pmd.n === 0) {
      alloc.freePages(pmd.pfn, 0);
      mm.pmdTables.delete(pmdIdx);
      this.nrPageTables--;
      mm.pudTables.get(Math.floor(pmdIdx / PUD_SPAN))!.n--;
    }
    const pudIdx = Math.floor(pmdIdx / PUD_SPAN);
    const pud = mm.pudTables.get(pudIdx);
    if (pud && pud.n === 0) {
      alloc.freePages(pud.pfn, 0);
      mm.pudTables.delete(pudIdx);
      this.nrUpperTablePages--;
    }
  }

  /** A leaf emptied by munmap goes, with its PTE table page and the tables left empty above it. */
  private dropLeaf(mm: Mm, idx: number, leaf: Int32Array): void {
    mm.dropLeaf(idx);
    if (leaf[PTE_TABLE]! < 0) return; // made with wsim.page_tables off
    this.ctx.alloc.freePages(leaf[PTE_TABLE]!, 0);
    this.nrPageTables--;
    const pmdIdx = Math.floor(idx / PMD_SPAN);
    mm.pmdTables.get(pmdIdx)!.n--;
    this.releaseUpper(mm, idx);
  }

  /** Points the PTE that maps src at dst (migration; the caller moves the rmap). */
  remap(src: number, dst: number): void {
    if (this.ctx.ownerMm[src]! < 0) {
      this.pageCache!.remap(src, dst);
      if (this.fileMaps.size !== 0) remapCachePage(this, src, dst);
      return;
    }
    const mm = this.bySlot.get(this.ctx.ownerMm[src]!)!;
    const vpn = this.ctx.ownerVpn[src]!;
    const idx = Math.floor(vpn / LEAF);
    mm.leaf(idx)![vpn - idx * LEAF] = dst + 1;
    // remove_migration_ptes walks every mm mapping it: each PTE follows
    const more = this.rmapShared.size !== 0 ? this.rmapShared.get(src) : undefined;
    if (more !== undefined) {
      for (const s of more) this.bySlot.get(s)!.leaf(idx)![vpn - idx * LEAF] = dst + 1;
      this.rmapShared.delete(src);
      this.rmapShared.set(dst, more);
    }
    // a swap cache page keeps its slot (folio_migrate_mapping moves the swap cache entry)
    const ss = this.swapSlot;
    if (ss !== null) {
      ss[dst] = ss[src]!;
      ss[src] = 0;
    }
    // PG_writeback / PG_reclaim follow (folio_migrate_flags; 6.1's compaction would not move a
    // page under writeback in its async mode: a documented simplification), with its queue entry
    if (this.swapWb !== null) this.swapWb.remap(src, dst);
  }

  /** Is pfn part of a mapped huge page? Returns its head, or -1. */
  hugeHead(pfn: number): number {
    const p = this.ctx.alloc.buddy.pages;
    const f = p.flags[pfn]!;
    if (!(f & PG_LRU)) return -1;
    if (f & PG_HEAD) return p.order[pfn]! > 0 ? pfn : -1;
    return pfn - (pfn % HPAGE_PMD_NR);
  }

  /**
   * split_huge_page of a mapped huge page: 512 order-0 pages, each its own LRU entry in the
   * same generation (the head last, at the tail), the page tables as they were
   * (thp_split_pmd, thp_split_page). `swapWhole`: reclaim swaps the folio out whole
   * (reclaim.ts): only its PMD is split (thp_split_pmd) and thp_swpout counted; wsim's pages
   * then go one by one all the same.
   */
  splitHuge(head: number, cow = false, swapWhole = false): void {
    const { lru, alloc, ev } = this.ctx;
    const p = alloc.buddy.pages;
    const lv = lru.lruvecOfPfn(head)!;
    // __split_huge_page_tail: the tails take the head's mlocked, unevictable, swapbacked state
    const m = p.mflags[head]!;
    const unevictable = (m & PG_UNEVICTABLE) !== 0;
    const seq = unevictable ? 0 : lru.seqOf(lv, head);
    lru.del(head);
    for (let k = HPAGE_PMD_NR - 1; k >= 0; k--) {
      const q = head + k;
      p.flags[q]! |= PG_HEAD | PG_ALLOC;
      p.order[q] = 0;
      p.mflags[q] = m;
      if (unevictable) lru.addUnevictable(lv, q);
      else lru.add(lv, q, seq, false);
    }
    this.nrThp--;
    ev[V.thp_split_pmd]!++;
    // a COW write's split (fork.ts): 6.1 splits the writer's PMD and queues the folio for a deferred split
    ev[swapWhole ? V.thp_swpout : cow ? V.thp_deferred_split_page : V.thp_split_page]!++;
  }

  /**
   * mmap with MAP_FIXED semantics: whatever was mapped in the range is unmapped first. The
   * mapping runs on a CPU of cpuNid (its slab objects come from there). With `mapping`, a
   * MAP_SHARED mapping of that page-cache file whose first page is the file's page `pgoff`
   * (filemap.ts); without, a kind=file region is private file-like pages as before.
   */
  mmap(mm: Mm, start: number, npages: number, file: boolean, thp: boolean, node: number, cpuNid = 0, mapping?: FileCache, pgoff = 0): void {
    this.munmap(mm, start, npages, cpuNid);
    const v: Vma = { start, end: start + npages, file, thp, node };
    if (mapping !== undefined) {
      // a MAP_SHARED mapping of the file from page pgoff (filemap.ts); it holds the file
      v.mapping = mapping;
      v.pgoff = pgoff;
      mapping.mapRefs++;
    }
    const vmas = mm.vmas;
    let i = vmas.length;
    while (i > 0 && vmas[i - 1]!.start > start) i--;
    const before = mapleRanges(vmas, i, Math.min(i + 1, vmas.length));
    vmas.splice(i, 0, v);
    // vm_area_alloc, then the maple tree's store
    if (this.ctx.slab()) v.slab = this.ctx.slub.allocObject(this.ctx.slub.vmAreaStruct, cpuNid);
    // the first region brings the gap up to ULONG_MAX with it
    const tail = vmas.length === 1 ? 1 : 0;
    this.mapleChanged(mm, mapleRanges(vmas, i, Math.min(i + 2, vmas.length)) - before + tail, cpuNid);
  }

  /**
   * munmap: trim or split the regions in range and free every page mapped there. A split
   * copies the region (vm_area_dup, anon_vma_clone); a region unmapped whole frees its
   * objects; the maple tree follows.
   */
  munmap(mm: Mm, start: number, npages: number, cpuNid = 0): void {
    const end = start + npages;
    const vmas = mm.vmas;
    const first = firstEndingAfter(vmas, start);
    if (first < vmas.length && vmas[first]!.start < end) {
      let last = first;
      while (last < vmas.length && vmas[last]!.start < end) last++;
      const before = mapleRanges(vmas, first, Math.min(last + 1, vmas.length));
      let kept = last - first;
      for (let i = first; i < first + kept; i++) {
        const v = vmas[i]!;
        if (v.start < start && v.end > end) {
          const copy: Vma = { start: end, end: v.end, file: v.file, thp: v.thp, node: v.node };
          if (v.mapping !== undefined) {
            copy.mapping = v.mapping;
            copy.pgoff = v.pgoff! + (end - v.start);
          }
          vmas.splice(i + 1, 0, copy);
          v.end = start;
          kept++;
          this.vmaDup(v, copy, cpuNid);
          break;
        }
        if (v.start < start) v.end = start;
        else if (v.end > end) {
          if (v.mapping !== undefined) v.pgoff! += end - v.start; // the file offset moves with the start
          v.start = end;
        } else {
          vmas.splice(i, 1);
          i--;
          kept--;
          this.removeVma(v);
        }
      }
      const tail = vmas.length === 0 ? -1 : 0;
      this.mapleChanged(mm, mapleRanges(vmas, first, Math.min(first + kept + 1, vmas.length)) - before + tail, cpuNid);
    }
    this.zapRange(mm, start, end);
  }

  /**
   * split_vma for a flags change (madvise, mlock: madvise.ts): `copy`, split off v and already
   * in mm.vmas, gets its own objects, and the maple tree its new range.
   */
  vmaSplit(mm: Mm, v: Vma, copy: Vma, cpuNid: number): void {
    this.vmaDup(v, copy, cpuNid);
    this.mapleChanged(mm, mapleTotal(mm.vmas) - mm.mapleEntries, cpuNid);
  }

  /** vma_merge: `gone`, merged into its neighbour and already out of mm.vmas, frees its objects; the maple tree loses its range. */
  vmaMerged(mm: Mm, gone: Vma, cpuNid: number): void {
    this.removeVma(gone);
    this.mapleChanged(mm, mapleTotal(mm.vmas) - mm.mapleEntries, cpuNid);
  }

  /** vm_area_dup and anon_vma_clone: `copy` (a new piece of v) gets its own objects. */
  vmaDup(v: Vma, copy: Vma, cpuNid: number): void {
    const slub = this.ctx.slub;
    if (copy.mapping !== undefined) copy.mapping.mapRefs++; // get_file of vm_area_dup's copy
    if (v.slab !== undefined && v.slab !== null) copy.slab = slub.allocObject(slub.vmAreaStruct, cpuNid);
    else if (v.slab === null) copy.slab = null;
    if (v.anonVma === undefined) return;
    copy.anonVma = v.anonVma;
    if (v.anonVma === null) return;
    copy.avc = slub.allocObject(slub.anonVmaChain, cpuNid);
    v.anonVma.refs++;
    // anon_vma_clone copies every chain, the ones fork made included
    if (v.clonedAvcs !== undefined) {
      copy.clonedAvcs = v.clonedAvcs.map((c) => {
        c.av.refs++;
        return { avc: slub.allocObject(slub.anonVmaChain, cpuNid), av: c.av };
      });
    }
  }

  /** remove_vma and unlink_anon_vmas: v's objects go (the anon_vma with its last chain). */
  private removeVma(v: Vma): void {
    const slub = this.ctx.slub;
    if (v.mapping !== undefined) {
      // fput: the last mapping of an unlinked file frees it
      const f = v.mapping;
      v.mapping = undefined;
      this.pageCache!.unref(f);
    }
    if (v.avc) slub.freeObject(v.avc);
    v.avc = null;
    if (v.clonedAvcs !== undefined) {
      for (const c of v.clonedAvcs) {
        if (c.avc) slub.freeObject(c.avc);
        c.av.refs--;
        if (c.av.refs === 0 && c.av.slab !== null) {
          slub.freeObject(c.av.slab);
          c.av.slab = null;
        }
      }
      v.clonedAvcs = undefined;
    }
    const av = v.anonVma;
    if (av) {
      av.refs--;
      if (av.refs === 0 && av.slab !== null) {
        slub.freeObject(av.slab);
        av.slab = null;
      }
    }
    if (v.slab) slub.freeObject(v.slab);
    v.slab = null;
  }

  /**
   * anon_vma_prepare: the region's anon_vma and its chain (anon_vma_alloc, anon_vma_chain_alloc,
   * GFP_KERNEL); false when a page for them could not be had (VM_FAULT_OOM). With wsim.slab
   * off the region is prepared without objects.
   */
  anonVmaPrepare(vma: Vma, cpuNid: number): boolean {
    if (!this.ctx.slab()) {
      vma.anonVma = null;
      return true;
    }
    const slub = this.ctx.slub;
    const s = slub.allocObject(slub.anonVma, cpuNid);
    if (s === null) return false;
    const avc = slub.allocObject(slub.anonVmaChain, cpuNid);
    if (avc === null) {
      slub.freeObject(s);
      return false;
    }
    vma.anonVma = { slab: s, refs: 1 };
    vma.avc = avc;
    return true;
  }

  /**
   * The maple tree gained `delta` ranges: its nodes become mapleNodes() of the new count,
   * new ones from cpuNid's slab, the last ones made freed first. With wsim.slab off the count
   * moves and the nodes stay as they are.
   */
  mapleChanged(mm: Mm, delta: number, cpuNid: number): void {
    mm.mapleEntries += delta;
    if (!this.ctx.slab()) return;
    const want = mapleNodes(mm.mapleEntries);
    const slub = this.ctx.slub;
    while (mm.maple.length > want) slub.freeObject(mm.maple.pop()!);
    while (mm.maple.length < want) {
      const s = slub.allocObject(slub.mapleNode, cpuNid);
      if (s === null) break;
      mm.maple.push(s);
    }
  }

  /**
   * A non-present PTE's entry `sh` (shadows.ts) leaves mm's page table: a swap entry's slot is
   * freed and MM_SWAPENTS drops (free_swap_and_cache); a file shadow just goes. The caller
   * clears or replaces the PTE.
   */
  releaseEntry(mm: Mm, sh: number): void {
    if (this.ctx.shadows.type[sh] === 0) mm.swapEnts--;
    this.ctx.shadows.free(sh);
  }

  /** Frees every page of the mm and forgets it. */
  exit(mm: Mm): void {
    const { alloc } = this.ctx;
    for (const [idx, leaf] of mm.pt) {
      this.zapLeaf(mm, idx, leaf, 0, LEAF);
      if (leaf[PTE_TABLE]! < 0) continue;
      alloc.freePages(leaf[PTE_TABLE]!, 0);
      this.nrPageTables--;
    }
    mm.clearLeaves();
    // exit_mmap -> free_pgtables, then pgd_free
    for (const t of mm.pmdTables.values()) alloc.freePages(t.pfn, 0);
    for (const t of mm.pudTables.values()) alloc.freePages(t.pfn, 0);
    this.nrPageTables -= mm.pmdTables.size;
    this.nrUpperTablePages -= mm.pudTables.size;
    mm.pmdTables.clear();
    mm.pudTables.clear();
    if (mm.pgd >= 0) {
      alloc.freePages(mm.pgd, PGD_ALLOCATION_ORDER);
      this.nrUpperTablePages -= 1 << PGD_ALLOCATION_ORDER;
      mm.pgd = -1;
    }
    // exit_mmap: remove_vma of each region, then __mt_destroy
    for (const v of mm.vmas) this.removeVma(v);
    mm.vmas.length = 0;
    mm.mapleEntries = 0;
    while (mm.maple.length > 0) this.ctx.slub.freeObject(mm.maple.pop()!);
    mm.exited = true;
    this.ctx.onMmExit?.(mm);
    this.byPid.delete(mm.pid);
    this.bySlot.delete(mm.slot);
    if (this.last === mm) this.last = undefined;
  }

  /**
   * zap_page_range: free the pages mapped in [start, end) (and their swap entries). munmap
   * then drops the leaves it emptied; MADV_DONTNEED (`keepTables`) keeps them, as 6.1's
   * zap_page_range_single frees no page table.
   */
  zapRange(mm: Mm, start: number, end: number, keepTables = false): void {
    const first = Math.floor(start / LEAF);
    const last = Math.floor((end - 1) / LEAF);
    if (last - first + 1 > mm.pt.size * 2) {
      for (const [idx, leaf] of [...mm.pt]) {
        if (idx < first || idx > last) continue;
        this.zapPart(mm, idx, leaf, start, end, keepTables);
      }
    } else {
      for (let idx = first; idx <= last; idx++) {
        const leaf = mm.leaf(idx);
        if (leaf) this.zapPart(mm, idx, leaf, start, end, keepTables);
      }
    }
  }

  /**
   * Reclaim took the page at pfn: its PTE becomes the swap/shadow entry `shadow`, its rmap
   * and the resident counts go. The caller frees the page.
   */
  unmapForReclaim(pfn: number, shadow: number): void {
    const { ownerMm, ownerVpn } = this.ctx;
    if (ownerMm[pfn]! < 0) {
      // try_to_unmap: every mapping of a mapped cache page goes; the shadow is in the file's index
      if (this.fileMaps.size !== 0) unmapCachePage(this, pfn);
      this.pageCache!.evicted(pfn, shadow);
      return;
    }
    const mm = this.bySlot.get(ownerMm[pfn]!)!;
    const vpn = ownerVpn[pfn]!;
    const idx = Math.floor(vpn / LEAF);
    mm.leaf(idx)![vpn - idx * LEAF] = -(shadow + 1);
    ownerMm[pfn] = 0;
    if (this.ctx.alloc.buddy.pages.flags[pfn]! & PG_ANON) this.anonToSwapEntry(mm, pfn, vpn, shadow);
    else {
      mm.rssFile--;
      this.nrFile--;
    }
  }

  /**
   * Reclaim dropped the clean lazyfree page at pfn (try_to_unmap_one's discard of an
   * !swapbacked anon folio): its PTE is cleared, no swap entry is left (a later touch is a
   * fresh zero-fill fault), its rmap and resident count go. The caller frees the page.
   */
  unmapDiscard(pfn: number): void {
    const { ownerMm, ownerVpn } = this.ctx;
    const mm = this.bySlot.get(ownerMm[pfn]!)!;
    const vpn = ownerVpn[pfn]!;
    const idx = Math.floor(vpn / LEAF);
    const leaf = mm.leaf(idx)!;
    leaf[vpn - idx * LEAF] = 0;
    leaf[COUNT]!--;
    ownerMm[pfn] = 0;
    mm.rssAnon--;
    this.nrAnon--;
    // every mm mapping it loses its PTE (try_to_unmap_one's discard, per mapping)
    const more = this.rmapShared.size !== 0 ? this.rmapShared.get(pfn) : undefined;
    if (more !== undefined) {
      for (const s of more) {
        const o = this.bySlot.get(s)!;
        const l = o.leaf(idx)!;
        l[vpn - idx * LEAF] = 0;
        l[COUNT]!--;
        o.rssAnon--;
      }
      this.rmapShared.delete(pfn);
    }
    this.ctx.alloc.buddy.pages.mflags[pfn]! &= ~PG_ANON_SHARED;
  }

  private zapPart(mm: Mm, idx: number, leaf: Int32Array, start: number, end: number, keepTables: boolean): void {
    const base = idx * LEAF;
    this.zapLeaf(mm, idx, leaf, Math.max(start - base, 0), Math.min(end - base, LEAF));
    if (leaf[COUNT] === 0 && !keepTables) this.dropLeaf(mm, idx, leaf);
  }

  private zapLeaf(mm: Mm, idx: number, leaf: Int32Array, from: number, to: number): void {
    const { alloc, ownerMm } = this.ctx;
    const flags = alloc.buddy.pages.flags;
    // a huge page fills its whole leaf: unmapped whole it is freed whole, in part it is split
    const first = leaf[0]!;
    const head = first > 0 ? this.hugeHead(first - 1) : -1;
    if (head >= 0) {
      if (from === 0 && to === LEAF && this.rmapShared.size !== 0 && this.rmapShared.has(head)) {
        // another mm maps it too (fork): only this mapping goes (page_remove_rmap, compound)
        for (let k = 0; k < HPAGE_PMD_NR; k++) {
          rmapDrop(this, head + k, mm.slot);
          leaf[k] = 0;
        }
        leaf[COUNT] = 0;
        mm.rssAnon -= HPAGE_PMD_NR;
        return;
      }
      if (from === 0 && to === LEAF) {
        // page_remove_rmap of a VM_LOCKED mapping munlocks first
        if (alloc.buddy.pages.mflags[head]! & PG_MLOCKED) this.munlockPage(head);
        this.ctx.lru.del(head);
        for (let k = 0; k < HPAGE_PMD_NR; k++) {
          ownerMm[head + k] = 0;
          leaf[k] = 0;
        }
        leaf[COUNT] = 0;
        mm.rssAnon -= HPAGE_PMD_NR;
        this.nrAnon -= HPAGE_PMD_NR;
        this.nrThp--;
        alloc.freePages(head, HPAGE_PMD_ORDER);
        return;
      }
      this.splitHuge(head);
    }
    for (let s = from; s < to && leaf[COUNT]! > 0; s++) {
      const pte = leaf[s]!;
      if (pte === 0) continue;
      if (pte < 0) {
        // free_swap_and_cache / a shadow dropped with its mapping
        this.releaseEntry(mm, -pte - 1);
        leaf[s] = 0;
        leaf[COUNT]!--;
        continue;
      }
      const pfn = pte - 1;
      if (ownerMm[pfn]! < 0) {
        // page_remove_rmap of a page-cache page: the mapping goes, the page stays cached
        fileRmapDrop(this, mm, pfn, idx * LEAF + s);
        leaf[s] = 0;
        leaf[COUNT]!--;
        continue;
      }
      if (this.rmapShared.size !== 0 && rmapDrop(this, pfn, mm.slot)) {
        // another mm maps it too (fork): only this mapping and its rss go
        mm.rssAnon--;
        leaf[s] = 0;
        leaf[COUNT]!--;
        continue;
      }
      if (alloc.buddy.pages.mflags[pfn]! & PG_MLOCKED) this.munlockPage(pfn);
      this.ctx.lru.del(pfn);
      const cached = this.slotOf(pfn);
      if (cached !== 0) {
        // free_swap_and_cache: the swap cache page and its slot go
        this.ctx.shadows.free(cached - 1);
        this.swapSlot![pfn] = 0;
        this.nrSwapCached--;
        mm.swapEnts--;
      } else if (flags[pfn]! & PG_ANON) {
        mm.rssAnon--;
        this.nrAnon--;
      } else {
        mm.rssFile--;
        this.nrFile--;
      }
      leaf[s] = 0;
      leaf[COUNT]!--;
      ownerMm[pfn] = 0;
      alloc.freePages(pfn, 0);
    }
  }
}

/**
 * The ranges the VMAs vmas[a, b) add to a maple tree: each region, and the gap before it when
 * it does not start where the previous one ends (the first region: when it does not start at
 * 0). The whole tree holds mapleRanges(vmas, 0, n) + 1 ranges (the gap up to ULONG_MAX), or
 * none without a VMA.
 */
export function mapleRanges(vmas: readonly Vma[], a: number, b: number): number {
  let n = 0;
  for (let i = a; i < b; i++) {
    n++;
    const prevEnd = i === 0 ? 0 : vmas[i - 1]!.end;
    if (vmas[i]!.start > prevEnd) n++;
  }
  return n;
}

/** every range of an mm's maple tree: its VMAs, the gaps before them and the gap up to ULONG_MAX */
function mapleTotal(vmas: readonly Vma[]): number {
  return vmas.length ? mapleRanges(vmas, 0, vmas.length) + 1 : 0;
}

/**
 * __swapin_nr_pages (mm/swap_state.c): the readahead window for a swap fault at `cur` after one
 * at `prev` with `hits` readahead hits since and window `prevWin`, at most `maxPages`: 1 for a
 * fault with no hit that is not next to the previous one, else hits + 2 rounded up to a power of
 * two (at least 4 once there were hits), never below half the previous window.
 */
export function swapinNrPages(prev: number, cur: number, hits: number, maxPages: number, prevWin: number): number {
  let pages = hits + 2;
  if (pages === 2) {
    if (cur !== prev + 1 && cur !== prev - 1) pages = 1;
  } else {
    let roundup = 4;
    while (roundup < pages) roundup <<= 1;
    pages = roundup;
  }
  if (pages > maxPages) pages = maxPages;
  const lastRa = prevWin >>> 1;
  if (pages < lastRa) pages = lastRa;
  return pages;
}

/** addr -> vpn */
export function vpnOf(addr: number): number {
  return Math.floor(addr / 2 ** PAGE_SHIFT);
}
