/**
 * The multi-gen LRU (mm/vmscan.c, CONFIG_LRU_GEN, 6.1) per lruvec (memcg x node): pages of
 * each type (anon, file) sit on per-generation lists; max_seq is the youngest generation,
 * min_seq[type] the oldest; each generation has a birth time (jiffies = floor(ms)).
 *
 * Aging (try_to_inc_max_seq with force_scan) moves pages whose accessed bit is set into the
 * current youngest generation and clears the bit (the page-table walk), merges a type's two
 * oldest generations when it already has lru_gen.max_nr_gens (inc_min_seq), then opens a new,
 * empty youngest generation born now. Lists are intrusive over pfns (lruNext/lruPrev);
 * a generation's slot is seq % 16, so up to 16 generations can live at once.
 *
 * A transparent huge page is one entry (its head pfn) counting 512 pages, young if any of its
 * subpages was accessed, as a PMD's young bit is.
 *
 * Reclaim ages with force_scan false under wsim.lru_gen_bloom=1 (planWalk: the lruvec's Bloom
 * filters, should_skip_mm), and eviction's lru_gen_look_around promotes a young page's
 * neighbours (lookAround).
 *
 * wsim simplifications: generations are per lruvec, not per zone (reclaim.ts passes over higher
 * zones' pages for a lower sc->reclaim_idx); the walk visits lruvec lists instead of page
 * tables, reaching each page through its reverse map's mm and PTE table (one accessed bit per
 * mapped page); pages are moved eagerly where MGLRU updates the generation lazily and sorts
 * later; no tiers or PID controller refs beyond what get_type_to_scan needs.
 */
import { type PageArrays, PG_ACCESSED, PG_ANON, PG_HEAD, PG_IN_USE, PG_LAZYFREE, PG_UNEVICTABLE } from "./pages.js";
import { listAdd, listAddTail, listDel, listReplace } from "./list.js";


export const NR_SLOTS = 16;
export const MIN_NR_GENS = 2;
export const ANON = 0;
export const FILE = 1;
/**
 * The list index of a lruvec's unevictable list (LRU_UNEVICTABLE: MGLRU keeps no unevictable
 * folio in a generation), after the 2 x NR_SLOTS generation lists; its pages' slot is 0.
 */
export const UNEVICTABLE_LI = 2 * NR_SLOTS;
/** MAX_NR_EVICTED_GENS of the workingset report RFC v3 6/8 */
export const MAX_NR_EVICTED_GENS = 4;

export class Lruvec {
  readonly id: number;
  readonly nid: number;
  /** the memcg this lruvec belongs to (opaque here) */
  readonly owner: unknown;
  maxSeq: number;
  readonly minSeq: [number, number];
  /** birth of each generation, by slot */
  readonly birth = new Float64Array(NR_SLOTS);
  readonly head = new Int32Array(2 * NR_SLOTS + 1).fill(-1);
  readonly tail = new Int32Array(2 * NR_SLOTS + 1).fill(-1);
  /** pages per (type, slot), then on the unevictable list (UNEVICTABLE_LI) */
  readonly count = new Float64Array(2 * NR_SLOTS + 1);
  /** pages per type in the generations (the unevictable list not included) */
  readonly total = [0, 0];
  /** get_type_to_scan's feedback: refaults and evictions this window, and decayed averages */
  readonly refaulted = [0, 0];
  readonly evicted = [0, 0];
  readonly avgRefaulted = [0, 0];
  readonly avgTotal = [0, 0];
  /** anon generations evicted so far (seq, birth), for reaccess: a ring of MAX_NR_EVICTED_GENS */
  readonly evictedSeq = new Float64Array(MAX_NR_EVICTED_GENS).fill(-1);
  readonly evictedBirth = new Float64Array(MAX_NR_EVICTED_GENS);
  /**
   * The two-list LRU's state (lru_gen.enabled=0, lru-two-list.ts): lruvec->nonresident_age
   * (pages), anon_cost / file_cost (lru_note_cost), refaults[] (snapshot_refaults of
   * workingset_activate_{anon,file}) and this lruvec's own workingset_activate counts.
   */
  nonresidentAge = 0;
  /** MGLRU's [min_seq anon, min_seq file, max_seq] while the two-list LRU runs (lru_gen.enabled=0) */
  savedSeq: [number, number, number] | null = null;
  readonly cost = [0, 0];
  readonly refaultsSnap = [0, 0];
  readonly activated = [0, 0];
  /**
   * lruvec->mm_state.filters[NR_BLOOM_FILTERS]: the PTE tables (leaf keys, leafKey) the page
   * table walk of generation seq tests, at seq % 2; null until first reset (test_bloom_filter
   * then passes everything). wsim keeps exact sets where the kernel has Bloom filters (no false
   * positives).
   */
  readonly bloom: (Set<number> | null)[] = [null, null];
  /** the highest mm slot that existed at this lruvec's last walk: higher ones are force-scanned */
  mmSlotSeen = 0;

  /** A new lruvec as lru_gen_init_lruvec leaves it: four generations (0..3), all born now. */
  constructor(id: number, nid: number, owner: unknown, now: number) {
    this.id = id;
    this.nid = nid;
    this.owner = owner;
    this.maxSeq = MIN_NR_GENS + 1;
    this.minSeq = [0, 0];
    this.birth.fill(Math.floor(now));
  }

  nrGens(type: number): number {
    return this.maxSeq - this.minSeq[type]! + 1;
  }

  pagesIn(type: number, seq: number): number {
    return this.count[type * NR_SLOTS + (seq % NR_SLOTS)]!;
  }

  birthOf(seq: number): number {
    return this.birth[seq % NR_SLOTS]!;
  }
}

/** Per-reaccess-bin callback of the aging walk: `moved` pages of `type` left generation `seq`. */
export type ReaccessFn = (lv: Lruvec, type: number, seq: number, moved: number, now: number) => void;

/** MIN_LRU_BATCH (mm/vmscan.c): should_skip_mm's smallest mm, lru_gen_look_around's window */
export const MIN_LRU_BATCH = 64;
/** suitable_to_scan's n: cache_line_size() / sizeof(pte_t) = 64 / 8, clamped to [2, 8] */
const PTES_PER_CACHELINE = 8;
/** leaf keys: mm slot * LEAF_KEY_SPAN + leaf index (vpn / 512 < 2^36 / 2^9) */
const LEAF_KEY_SPAN = 2 ** 27;
const PTRS_PER_PTE = 512;

/** A PTE table (leaf) of the mm in `slot` covering vpns leafIdx * 512 .. + 511, as a number. */
export function leafKey(slot: number, leafIdx: number): number {
  return slot * LEAF_KEY_SPAN + leafIdx;
}

/** suitable_to_scan (mm/vmscan.c): at least one young PTE per cache line of PTEs on average */
export function suitableToScan(total: number, young: number): boolean {
  return young * PTES_PER_CACHELINE >= total;
}

/** What the page-table walk needs of the processes (process.ts) behind the LRU's pages. */
export interface WalkMap {
  /** the mm slot mapping each pfn (0: none) and its vpn (Memory.ownerMm / ownerVpn) */
  readonly ownerMm: Int32Array;
  readonly ownerVpn: Float64Array;
  /** the mm in a slot, or undefined */
  mm(slot: number): WalkMm | undefined;
  /** the next mm slot to be given (slots only grow) */
  nextSlot(): number;
}

/** An mm as the walk sees it (process.ts Mm). */
export interface WalkMm {
  readonly slot: number;
  rssAnon: number;
  rssFile: number;
  /** PTE slots of leaf leafIdx inside the mm's VMAs (walk_pte_range's `total`) */
  leafSpan(leafIdx: number): number;
  /** the VMA holding vpn (its [start, end) vpns), or undefined */
  findVma(vpn: number): { readonly start: number; readonly end: number } | undefined;
  /** the PTE table covering leaf leafIdx (entries: pfn + 1, <= 0 not present), or undefined */
  leaf(leafIdx: number): Int32Array | undefined;
}

/** The per-pfn side of the multi-gen LRU and its operations. */
export class LruGen {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** ListLinks: every page keeps its own links */
  readonly shift = 0;
  /** seq % NR_SLOTS of the generation a page is in */
  readonly slot: Uint8Array;
  /** the lruvec a page is on (its id + 1; 0 = none) */
  readonly lruvecOf: Int32Array;
  maxNrGens = 4;
  readonly lruvecs: Lruvec[] = [];
  /** aging runs, for wsim_lru_gen_agings */
  agings = 0;
  /**
   * lru_gen.enabled=0: the classic two-list LRU (lru-two-list.ts) keeps each type's pages on
   * slot 0 (LRU_INACTIVE_*) and slot 1 (LRU_ACTIVE_*) of the same lists; min_seq stays 0 and
   * max_seq 1, so add(lv, pfn, lv.maxSeq) is an activation and add(lv, pfn, 0) the inactive list.
   */
  classic = false;
  /** called after an anon min_seq moved, with the old and new min_seq */
  onEvictGen: ((lv: Lruvec, from: number, to: number) => void) | null = null;
  /**
   * the reverse map the page-table walk follows (Memory sets it): without it every page is
   * visited by every walk, as force_scan does
   */
  walkMap: WalkMap | null = null;

  private readonly flags: Uint8Array;
  private readonly mflags: Uint8Array;
  private readonly order: Int8Array;

  constructor(pages: PageArrays) {
    const nrPages = pages.nrPages;
    this.flags = pages.flags;
    this.mflags = pages.mflags;
    this.order = pages.order;
    this.next = new Int32Array(nrPages);
    this.prev = new Int32Array(nrPages);
    this.slot = new Uint8Array(nrPages);
    this.lruvecOf = new Int32Array(nrPages);
  }

  newLruvec(nid: number, owner: unknown, now: number): Lruvec {
    const lv = new Lruvec(this.lruvecs.length, nid, owner, now);
    if (this.classic) lv.maxSeq = 1;
    this.lruvecs.push(lv);
    return lv;
  }

  /**
   * lru_gen.enabled as lru_gen_change_state (mm/vmscan.c, 6.1) switches it: every lruvec's
   * evictable pages move between MGLRU's generations and the two lists (min_seq 0, max_seq 1
   * while classic; the generations' seqs and births are kept for a switch back).
   * Off (drain_evictable): oldest generation first, each page from the tail to the head of its
   * type's list, active if it was in one of the two youngest generations (lru_gen_del_folio's
   * lru_gen_is_active). On (fill_evictable): inactive then active list per type, each page from
   * the tail into lru_gen_add_folio's generation: active to max_seq, inactive anon to
   * min_seq + 1, inactive file to min_seq. Unevictable pages stay where they are.
   */
  setClassic(on: boolean): void {
    if (on === this.classic) return;
    for (const lv of this.lruvecs) {
      const moved: number[] = [];
      const active: boolean[] = [];
      if (on) {
        for (let type = 0; type < 2; type++)
          for (let seq = lv.minSeq[type]!; seq <= lv.maxSeq; seq++) {
            const li = type * NR_SLOTS + (seq % NR_SLOTS);
            while (lv.tail[li]! >= 0) {
              const pfn = lv.tail[li]!;
              this.del(pfn);
              moved.push(pfn);
              active.push(seq >= lv.maxSeq - 1);
            }
          }
        lv.savedSeq = [lv.minSeq[0]!, lv.minSeq[1]!, lv.maxSeq];
        lv.minSeq[0] = lv.minSeq[1] = 0;
        lv.maxSeq = 1;
        this.classic = true;
        moved.forEach((pfn, i) => this.add(lv, pfn, active[i] ? 1 : 0));
      } else {
        for (let type = 0; type < 2; type++)
          for (let slot = 0; slot < 2; slot++) {
            const li = type * NR_SLOTS + slot;
            while (lv.tail[li]! >= 0) {
              const pfn = lv.tail[li]!;
              this.del(pfn);
              moved.push(pfn);
              active.push(slot === 1);
            }
          }
        const s = lv.savedSeq ?? [0, 0, MIN_NR_GENS + 1]; // a lruvec made while classic: lru_gen_init_lruvec's
        lv.minSeq[0] = s[0]!;
        lv.minSeq[1] = s[1]!;
        lv.maxSeq = s[2]!;
        lv.savedSeq = null;
        this.classic = false;
        moved.forEach((pfn, i) => (active[i] ? this.add(lv, pfn, lv.maxSeq) : this.addInactive(lv, pfn)));
      }
    }
    this.classic = on;
  }

  /**
   * folio_add_lru of a page a fault just mapped: MGLRU makes it active (youngest generation,
   * lru_gen_in_fault); the two-list LRU adds it inactive (6.1's folio_add_lru sets PG_active
   * only under lru_gen_enabled(); do_anonymous_page's lru_cache_add_inactive_or_unevictable
   * and the file fault's folio_add_lru add to LRU_INACTIVE_*).
   */
  addFault(lv: Lruvec, pfn: number): void {
    this.add(lv, pfn, this.classic ? 0 : lv.maxSeq);
  }

  /** folio_is_file_lru: anon unless file-backed or lazyfree (MADV_FREE cleared PG_swapbacked). */
  typeOf(pfn: number): number {
    return this.flags[pfn]! & PG_ANON && !(this.mflags[pfn]! & PG_LAZYFREE) ? ANON : FILE;
  }

  /** The list the entry at pfn is on (by its type and slot, or the unevictable list). */
  private listOf(pfn: number): number {
    return this.mflags[pfn]! & PG_UNEVICTABLE ? UNEVICTABLE_LI : this.typeOf(pfn) * NR_SLOTS + this.slot[pfn]!;
  }

  /**
   * add_page_to_lru_list for LRU_UNEVICTABLE (__mlock_page, __mlock_new_page): the entry at pfn,
   * off every list, goes onto lv's unevictable list with PG_unevictable set.
   */
  addUnevictable(lv: Lruvec, pfn: number): void {
    this.mflags[pfn]! |= PG_UNEVICTABLE;
    this.slot[pfn] = 0;
    this.lruvecOf[pfn] = lv.id + 1;
    listAdd(this, lv.head, lv.tail, UNEVICTABLE_LI, pfn);
    lv.count[UNEVICTABLE_LI]! += this.nrOf(pfn);
  }

  /**
   * lruvec_add_folio of an inactive folio (lru_gen_add_folio, not reclaiming): anon not in the
   * swap cache (wsim has none) into min_seq + 1, file (lazyfree included) into min_seq; at the head.
   */
  addInactive(lv: Lruvec, pfn: number): void {
    if (this.classic) return this.add(lv, pfn, 0); // LRU_INACTIVE_*
    const type = this.typeOf(pfn);
    this.add(lv, pfn, type === ANON ? lv.minSeq[ANON]! + 1 : lv.minSeq[FILE]!);
  }

  /** pages in the LRU entry at pfn: 512 for a huge page's head, else 1 */
  nrOf(pfn: number): number {
    return this.flags[pfn]! & PG_HEAD ? 1 << this.order[pfn]! : 1;
  }

  /** pte_young for the page at pfn: its accessed bit, or a boot owner page in use (PG_IN_USE) */
  young(pfn: number): boolean {
    return (this.flags[pfn]! & PG_ACCESSED) !== 0 || (this.mflags[pfn]! & PG_IN_USE) !== 0;
  }

  /** folio_test_clear_young over the entry: any subpage accessed (or in use); all bits cleared. */
  testClearYoung(pfn: number): boolean {
    const f = this.flags;
    const n = this.nrOf(pfn);
    if (n === 1) {
      const young = this.young(pfn);
      f[pfn]! &= ~PG_ACCESSED;
      return young;
    }
    let young = false;
    for (let q = pfn; q < pfn + n; q++) {
      if (this.young(q)) young = true;
      f[q]! &= ~PG_ACCESSED;
    }
    return young;
  }

  /** lru_gen_add_folio: onto generation seq's list, at the head (young end) or the tail. */
  add(lv: Lruvec, pfn: number, seq: number, toHead = true): void {
    const type = this.typeOf(pfn);
    const s = seq % NR_SLOTS;
    const li = type * NR_SLOTS + s;
    this.slot[pfn] = s;
    this.lruvecOf[pfn] = lv.id + 1;
    if (toHead) listAdd(this, lv.head, lv.tail, li, pfn);
    else listAddTail(this, lv.head, lv.tail, li, pfn);
    const nr = this.nrOf(pfn);
    lv.count[li]! += nr;
    lv.total[type]! += nr;
  }

  /** lru_gen_del_folio */
  del(pfn: number): void {
    const lv = this.lruvecs[this.lruvecOf[pfn]! - 1]!;
    if (this.mflags[pfn]! & PG_UNEVICTABLE) {
      // off the unevictable list; PG_unevictable stays for the caller to clear or keep
      listDel(this, lv.head, lv.tail, UNEVICTABLE_LI, pfn);
      lv.count[UNEVICTABLE_LI]! -= this.nrOf(pfn);
      this.lruvecOf[pfn] = 0;
      return;
    }
    const type = this.typeOf(pfn);
    const li = type * NR_SLOTS + this.slot[pfn]!;
    listDel(this, lv.head, lv.tail, li, pfn);
    const nr = this.nrOf(pfn);
    lv.count[li]! -= nr;
    lv.total[type]! -= nr;
    this.lruvecOf[pfn] = 0;
  }

  /** Moves a page into generation seq (head). */
  move(lv: Lruvec, pfn: number, seq: number, toHead = true): void {
    this.del(pfn);
    this.add(lv, pfn, seq, toHead);
  }

  /** The generation (seq) the entry at pfn is in. */
  seqOf(lv: Lruvec, pfn: number): number {
    const s = this.slot[pfn]!;
    const type = this.typeOf(pfn);
    for (let seq = lv.minSeq[type]!; seq <= lv.maxSeq; seq++) if (seq % NR_SLOTS === s) return seq;
    return lv.maxSeq;
  }

  /** Puts dst in src's place on its list (migration keeps a page's generation and position). */
  replace(src: number, dst: number): void {
    const lv = this.lruvecs[this.lruvecOf[src]! - 1]!;
    const li = this.listOf(src);
    listReplace(this, lv.head, lv.tail, li, src, dst);
    this.slot[dst] = this.slot[src]!;
    this.lruvecOf[dst] = this.lruvecOf[src]!;
    this.lruvecOf[src] = 0;
  }

  lruvecOfPfn(pfn: number): Lruvec | undefined {
    const id = this.lruvecOf[pfn]!;
    return id ? this.lruvecs[id - 1] : undefined;
  }

  /**
   * try_to_inc_max_seq(lruvec, max_seq, can_swap = true, force_scan): the page-table walk
   * (walk_mm over the memcg's mm_list) moves the accessed pages it reaches into max_seq and clears
   * their bits; then inc_max_seq. `reaccess` hears how many pages left each older generation
   * (the RFC's walk deltas). Returns the pages promoted out of the oldest generation of their
   * type (a reclaim's scan would have sorted them: pgrefill, counted by the caller).
   *
   * Which pages the walk reaches (with a walkMap and `pageTables`; otherwise every page, as
   * wsim.lru_gen_bloom=0 has it): a page no mm maps
   * is kept as before (visited). An mapped page is reached when its mm is walked
   * (should_skip_mm: at least MIN_LRU_BATCH anon + file pages) and its PTE table is: a huge
   * page (PMD-mapped) always; a PTE table when force_scan, when its mm came after the lruvec's
   * last walk (iterate_mm_list's tail), or when the Bloom filter of max_seq holds it (or was
   * never made). A PTE table walked with enough young PTEs (suitable_to_scan over its slots in
   * VMAs) goes into the filter of max_seq + 1, which the walk resets first. The non-leaf PMD
   * young test (CONFIG_ARCH_HAS_NONLEAF_PMD_YOUNG) and the mm's "ran since the last walk" bit
   * are not kept: a table with no young PTE would be walked for nothing and not added, the
   * same outcome. A force_scan walk (the workingset report's refresh) visits every page, mm
   * sizes aside, and leaves no filter, so the next reclaim walk tests none (6.1 refills them).
   */
  age(lv: Lruvec, now: number, reaccess: ReaccessFn | null, forceScan = true, pageTables = true): number {
    // a force_scan walk (the workingset report's refresh) visits every page; wsim then drops
    // the lruvec's filters (the next reclaim walk tests none) instead of refilling them
    if (forceScan) lv.bloom[0] = lv.bloom[1] = null;
    const visits = this.walkMap !== null && pageTables && !forceScan ? this.planWalk(lv) : null;
    const youngest = lv.maxSeq;
    let fromOldest = 0;
    for (let type = 0; type < 2; type++) {
      for (let seq = lv.minSeq[type]!; seq <= youngest; seq++) {
        const li = type * NR_SLOTS + (seq % NR_SLOTS);
        let moved = 0;
        for (let pfn = lv.head[li]!; pfn >= 0; ) {
          const nx = this.next[pfn]!;
          if ((visits === null || visits(pfn)) && this.testClearYoung(pfn) && seq !== youngest) {
            moved += this.nrOf(pfn);
            this.move(lv, pfn, youngest);
          }
          pfn = nx;
        }
        if (seq === lv.minSeq[type]) fromOldest += moved;
        if (moved && reaccess) reaccess(lv, type, seq, moved, now);
      }
    }
    this.incMaxSeq(lv, now);
    return fromOldest;
  }

  /**
   * The walk's plan for lv (iterate_mm_list, should_skip_mm, walk_pmd_range's Bloom filter
   * test, walk_pte_range's suitable_to_scan): which pfns it reaches; resets and fills the filter
   * of max_seq + 1 as the walk does.
   */
  private planWalk(lv: Lruvec): (pfn: number) => boolean {
    const w = this.walkMap!;
    const { ownerMm, ownerVpn } = w;
    // young PTEs per PTE table, and the mms mapping this lruvec's pages
    const young = new Map<number, number>();
    const mms = new Map<number, boolean>(); // slot -> walked (not skipped)
    for (let li = 0; li < 2 * NR_SLOTS; li++) {
      for (let pfn = lv.head[li]!; pfn >= 0; pfn = this.next[pfn]!) {
        const slot = ownerMm[pfn]!;
        if (slot === 0) continue;
        if (!mms.has(slot)) {
          const mm = w.mm(slot);
          mms.set(slot, mm !== undefined && mm.rssAnon + mm.rssFile >= MIN_LRU_BATCH);
        }
        if (this.nrOf(pfn) > 1 || !this.young(pfn)) continue;
        const key = leafKey(slot, Math.floor(ownerVpn[pfn]! / PTRS_PER_PTE));
        young.set(key, (young.get(key) ?? 0) + 1);
      }
    }
    const test = lv.bloom[lv.maxSeq % 2]!;
    const seen = lv.mmSlotSeen;
    lv.mmSlotSeen = w.nextSlot() - 1;
    // iterate_mm_list: the first mm walked resets the filter of max_seq + 1 (an mm that did not
    // run since the last walk is skipped: here, one without a young page here, unless it is new)
    let any = false;
    for (const [slot, walked] of mms) if (walked && slot > seen) any = true;
    if (!any) for (const key of young.keys()) if (mms.get(Math.floor(key / LEAF_KEY_SPAN))) any = true;
    if (!any) return (pfn) => ownerMm[pfn] === 0;
    const next = new Set<number>();
    lv.bloom[(lv.maxSeq + 1) % 2] = next;
    const walkedLeaves = new Set<number>();
    for (const [key, y] of young) {
      const slot = Math.floor(key / LEAF_KEY_SPAN);
      if (!mms.get(slot)) continue;
      if (slot <= seen && test !== null && !test.has(key)) continue;
      walkedLeaves.add(key);
      if (suitableToScan(w.mm(slot)!.leafSpan(key - slot * LEAF_KEY_SPAN), y)) next.add(key); // carry over to the next generation
    }
    return (pfn) => {
      const slot = ownerMm[pfn]!;
      if (slot === 0) return true;
      if (!mms.get(slot)) return false;
      return this.nrOf(pfn) > 1 || walkedLeaves.has(leafKey(slot, Math.floor(ownerVpn[pfn]! / PTRS_PER_PTE)));
    };
  }

  /**
   * lru_gen_look_around (mm/vmscan.c, 6.1): eviction found the mapped page at pfn young (rmap,
   * folio_referenced): the PTEs around it (at most MIN_LRU_BATCH, inside its VMA and PTE table)
   * that are young and map pages of the same lruvec have their bits cleared, and those pages
   * move to max_seq (folio_update_gen; wsim moves them now where the kernel sorts them when a
   * scan meets them). The table goes into the Bloom filter of max_seq when the window had
   * enough young PTEs (the rmap walkers' feedback to the page-table walkers). Returns the pages
   * moved out of their type's oldest generation (the scan would sort them: pgrefill), or -1 when
   * no PTE maps the page (no rmap walker reaches it, so no look-around).
   */
  lookAround(lv: Lruvec, pfn: number): number {
    const w = this.walkMap;
    if (w === null) return -1;
    const slot = w.ownerMm[pfn]!;
    const mm = slot !== 0 ? w.mm(slot) : undefined;
    if (mm === undefined) return -1;
    const vpn = w.ownerVpn[pfn]!;
    const leafIdx = Math.floor(vpn / PTRS_PER_PTE);
    const leaf = mm.leaf(leafIdx);
    const vma = mm.findVma(vpn);
    if (leaf === undefined || vma === undefined) return -1;
    const base = leafIdx * PTRS_PER_PTE;
    let start = Math.max(base, vma.start);
    let end = Math.min(base + PTRS_PER_PTE, vma.end);
    if (end - start > MIN_LRU_BATCH) {
      if (vpn - start < MIN_LRU_BATCH / 2) end = start + MIN_LRU_BATCH;
      else if (end - vpn < MIN_LRU_BATCH / 2) start = end - MIN_LRU_BATCH;
      else {
        start = vpn - MIN_LRU_BATCH / 2;
        end = vpn + MIN_LRU_BATCH / 2;
      }
    }
    const f = this.flags;
    const id = lv.id + 1;
    let young = 0;
    let fromOldest = 0;
    for (let v = start; v < end; v++) {
      const pte = leaf[v - base]!;
      if (pte <= 0) continue;
      const q = pte - 1;
      // get_pfn_folio: a page of this lruvec (memcg and node), a whole folio
      if (!this.young(q) || !(f[q]! & PG_HEAD) || this.lruvecOf[q] !== id) continue;
      f[q]! &= ~PG_ACCESSED;
      young++;
      if (q === pfn || this.mflags[q]! & PG_UNEVICTABLE) continue;
      const type = this.typeOf(q);
      const seq = this.seqOf(lv, q);
      if (seq === lv.maxSeq) continue;
      if (seq === lv.minSeq[type]) fromOldest += this.nrOf(q);
      this.move(lv, q, lv.maxSeq);
    }
    // feedback from rmap walkers to page table walkers
    if (suitableToScan(end - start, young)) lv.bloom[lv.maxSeq % 2]?.add(leafKey(slot, leafIdx));
    return fromOldest;
  }

  /** inc_max_seq: make room (inc_min_seq for a type at max_nr_gens), then a new youngest generation. */
  incMaxSeq(lv: Lruvec, now: number): void {
    for (let type = 1; type >= 0; type--) while (lv.nrGens(type) >= this.maxNrGens) this.incMinSeq(lv, type);
    lv.maxSeq++;
    const s = lv.maxSeq % NR_SLOTS;
    lv.birth[s] = Math.floor(now);
    this.agings++;
  }

  /** inc_min_seq: the oldest generation's pages move to the tail of the next one. */
  incMinSeq(lv: Lruvec, type: number): void {
    const old = lv.minSeq[type]!;
    const li = type * NR_SLOTS + (old % NR_SLOTS);
    while (lv.head[li]! >= 0) this.move(lv, lv.head[li]!, old + 1, false); // list_move_tail, oldest last
    this.resetCtrlPos(lv, type);
    lv.minSeq[type] = old + 1;
    if (type === ANON) this.onEvictGen?.(lv, old, old + 1);
  }

  /**
   * try_to_inc_min_seq (mm/vmscan.c, 6.1): each type's min_seq moves past its empty oldest
   * generations, keeping MIN_NR_GENS (anon only when `canSwap`); when swapping is possible the
   * two stay together as lru_gen_struct's comment has it: anon's min_seq never passes file's,
   * and file's moves only as far as anon's new one (or stays where it was). So a file
   * generation emptied before anon's is not left behind: eviction goes on with that
   * generation's anon pages (isolate_folios falls back to the other type). Returns true when a
   * min_seq moved (reset_ctrl_pos for each that did).
   */
  tryIncMinSeq(lv: Lruvec, canSwap: boolean): boolean {
    const min = [lv.minSeq[ANON]!, lv.minSeq[FILE]!];
    for (let type = canSwap ? ANON : FILE; type < 2; type++)
      while (min[type]! + MIN_NR_GENS <= lv.maxSeq && lv.pagesIn(type, min[type]!) === 0) min[type]!++;
    if (canSwap) {
      min[ANON] = Math.min(min[ANON]!, min[FILE]!);
      min[FILE] = Math.max(min[ANON]!, lv.minSeq[FILE]!);
    }
    let moved = false;
    for (let type = canSwap ? ANON : FILE; type < 2; type++) {
      const old = lv.minSeq[type]!;
      if (min[type] === old) continue;
      this.resetCtrlPos(lv, type);
      lv.minSeq[type] = min[type]!;
      if (type === ANON) for (let s = old; s < min[type]!; s++) this.onEvictGen?.(lv, s, s + 1);
      moved = true;
    }
    return moved;
  }

  /** reset_ctrl_pos(carryover): fold this window's refaults and evictions into the averages. */
  private resetCtrlPos(lv: Lruvec, type: number): void {
    lv.avgRefaulted[type] = Math.floor((lv.avgRefaulted[type]! + lv.refaulted[type]!) / 2);
    lv.avgTotal[type] = Math.floor((lv.avgTotal[type]! + lv.evicted[type]!) / 2);
    lv.refaulted[type] = 0;
    lv.evicted[type] = 0;
  }

  /**
   * An lruvec that aging with nothing accessed only shifts (issue 12 item 13's steady state):
   * each type at max_nr_gens generations with all its pages in the oldest, no accessed bit on
   * any entry (the walk moves nothing), nothing for reset_ctrl_pos to fold (refaults,
   * evictions and their averages all 0). Each try_to_inc_max_seq then merges the oldest
   * generation into the next (inc_min_seq, the list's order kept) and opens a new one.
   */
  saturated(lv: Lruvec): boolean {
    for (let type = 0; type < 2; type++) {
      if (lv.nrGens(type) !== this.maxNrGens) return false;
      if (lv.refaulted[type] || lv.evicted[type] || lv.avgRefaulted[type] || lv.avgTotal[type]) return false;
      const min = lv.minSeq[type]!;
      if (lv.pagesIn(type, min) !== lv.total[type]) return false;
      for (let pfn = lv.head[type * NR_SLOTS + (min % NR_SLOTS)]!; pfn >= 0; pfn = this.next[pfn]!) {
        const end = pfn + this.nrOf(pfn);
        for (let q = pfn; q < end; q++) if (this.young(q)) return false;
      }
    }
    return true;
  }

  /**
   * k agings (try_to_inc_max_seq, force_scan) of a saturated lruvec at once, the i-th at
   * virtual time timeOf(i) ms: the state k calls of age() leave (seqs + k, the pages in the
   * new oldest generation in the same order, the births of the new generations, the evicted
   * anon generations' ring), in O(pages) whatever k.
   */
  ageSaturated(lv: Lruvec, k: number, timeOf: (i: number) => number): void {
    if (k <= 0) return;
    const M = lv.maxSeq;
    const birthOf = (seq: number) => (seq <= M ? lv.birth[seq % NR_SLOTS]! : Math.floor(timeOf(seq - M - 1)));
    // inc_min_seq's report_lru_gen_eviction of each anon generation: the last few stay
    if (this.onEvictGen) {
      const min = lv.minSeq[ANON]!;
      for (let i = Math.max(0, k - MAX_NR_EVICTED_GENS); i < k; i++) {
        const seq = min + i;
        lv.evictedSeq[seq % MAX_NR_EVICTED_GENS] = seq;
        lv.evictedBirth[seq % MAX_NR_EVICTED_GENS] = birthOf(seq);
      }
    }
    for (let i = Math.max(0, k - NR_SLOTS); i < k; i++) lv.birth[(M + 1 + i) % NR_SLOTS] = Math.floor(timeOf(i));
    for (let type = 0; type < 2; type++) {
      const from = type * NR_SLOTS + (lv.minSeq[type]! % NR_SLOTS);
      const s = (lv.minSeq[type]! + k) % NR_SLOTS;
      const to = type * NR_SLOTS + s;
      lv.minSeq[type] = lv.minSeq[type]! + k;
      if (from === to) continue;
      for (let pfn = lv.head[from]!; pfn >= 0; pfn = this.next[pfn]!) this.slot[pfn] = s;
      lv.head[to] = lv.head[from]!;
      lv.tail[to] = lv.tail[from]!;
      lv.count[to] = lv.count[from]!;
      lv.head[from] = lv.tail[from] = -1;
      lv.count[from] = 0;
    }
    lv.maxSeq = M + k;
    this.agings += k;
    // the k walks are force_scan ones: each drops the filters, as age() does
    lv.bloom[0] = lv.bloom[1] = null;
  }

  /** Pages in the two youngest generations (lru_gen_is_active) and the rest, per type (the two lists' counts when classic). */
  activeInactive(lv: Lruvec): [number, number, number, number] {
    if (this.classic) return [lv.count[ANON * NR_SLOTS + 1]!, lv.count[ANON * NR_SLOTS]!, lv.count[FILE * NR_SLOTS + 1]!, lv.count[FILE * NR_SLOTS]!];
    const act = (t: number) => lv.pagesIn(t, lv.maxSeq) + (lv.maxSeq - 1 >= lv.minSeq[t]! ? lv.pagesIn(t, lv.maxSeq - 1) : 0);
    const aa = act(ANON);
    const fa = act(FILE);
    return [aa, lv.total[ANON]! - aa, fa, lv.total[FILE]! - fa];
  }
}
