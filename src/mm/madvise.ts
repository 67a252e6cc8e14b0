/**
 * madvise(2) and mlock(2)/munlock(2) as 6.1 does them (mm/madvise.c, mm/mlock.c,
 * mm/khugepaged.c:madvise_collapse, mm/swap.c, mm/vmscan.c:reclaim_pages), over wsim's page
 * tables and LRU (SPEC §2 ops `madvise`, `mlock`, `munlock`; KERNEL-REFERENCE-2 §8).
 *
 * A range is walked region by region in address order, as madvise_walk_vmas does; an advice
 * the kernel refuses for a region with -EINVAL (DONTNEED/FREE/COLD/PAGEOUT on a VM_LOCKED
 * region, FREE on a file region, COLLAPSE on a VM_NOHUGEPAGE or file region) stops the walk
 * there, as the kernel returns at the first failing VMA: the regions before it were done,
 * the rest are not. Pages an access mapped outside every region (implicit maps: no VMA) are
 * treated as a plain anon region's.
 *
 * Pages several mms map (after fork, fork.ts) are left alone by FREE, COLD and PAGEOUT, as 6.1's
 * page walks skip a page whose mapcount is not 1; COLLAPSE skips a 2 MiB range holding one.
 *
 * wsim simplifications: mlock_count is 0 or 1; a huge page that an advice covers in part is split (thp_split_pmd,
 * thp_split_page) where 6.1 splits only the PMD or skips the PTE-mapped folio; PAGEOUT splits a
 * huge page before paging it out (no THP swap-out, as reclaim); WILLNEED is a no-op (see
 * `willneed`); a private kind=file region's pages exist only while mapped, so DONTNEED frees
 * them as munmap does; a shared file mapping's (filemap.ts) stay in the page cache, unmapped.
 * PAGEOUT skips a dirty or writeback page-cache page (shrink_folio_list keeps it).
 */
import { V } from "../stats/counters.js";
import {
  MADV_COLD, MADV_COLLAPSE, MADV_DONTNEED, MADV_FREE, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_PAGEOUT, MADV_WILLNEED,
} from "../trace/types.js";
import { type CollapseControl, GFP_TRANSHUGE, type HugeCollapse, SCAN_SUCCEED } from "./khugepaged.js";
import type { LruGen } from "./lru-gen.js";
import { PG_ACCESSED, PG_ANON, PG_DIRTY, PG_FILE_MAPPED, PG_LAZYFREE, PG_REFERENCED, PG_UNEVICTABLE, type PageArrays } from "./pages.js";
import { fileMapcount } from "./filemap.js";
import { HPAGE_PMD_NR, type Mm, type ProcessTable, type Vma } from "./process.js";
import type { Reclaim } from "./reclaim.js";

const LEAF = 512;
/** hugeInLeaf: a huge page covered in part that other mms map, left alone */
const SHARED_HUGE = -2;
const COUNT = 512;

export interface MadviseContext {
  procs: ProcessTable;
  lru: LruGen;
  reclaim: Reclaim;
  pages: PageArrays;
  ev: Float64Array;
  /** the collapse MADV_COLLAPSE shares with khugepaged */
  collapser: HugeCollapse;
  /**
   * hugepage_madvise's khugepaged_enter_vma: called for each region MADV_HUGEPAGE covers
   * (before it is split), with its new flags
   */
  onHugepage?: (mm: Mm, vma: Vma) => void;
}

/** madvise_collapse's collapse_control: not khugepaged, GFP_TRANSHUGE */
const MADV_COLLAPSE_CC: CollapseControl = { isKhugepaged: false, maxPtesNone: HPAGE_PMD_NR - 1, maxPtesSwap: HPAGE_PMD_NR - 1, maxPtesShared: HPAGE_PMD_NR - 1, gfp: GFP_TRANSHUGE };

/** A piece of a range: [start, end) vpns inside one region, or outside every region (vma undefined). */
interface Piece {
  start: number;
  end: number;
  vma: Vma | undefined;
}

export class Madvise {
  constructor(private readonly c: MadviseContext) {}

  /**
   * do_madvise(start, len, advice) of pid mm over vpns [start, start + npages); advice is a
   * MADV_* of trace/types.ts (1 + its ADVICE_NAMES index). cpuNid: the caller's node (the
   * node COLLAPSE's page tables and allocations come from). Never throws for a refused
   * advice: the kernel returns an error to the program and the trace goes on.
   */
  madvise(mm: Mm, start: number, npages: number, advice: number, cpuNid: number, now: number): void {
    const end = start + npages;
    switch (advice) {
      case MADV_HUGEPAGE:
      case MADV_NOHUGEPAGE:
        this.hugepageMadvise(mm, start, end, advice === MADV_HUGEPAGE, cpuNid);
        return;
      case MADV_WILLNEED:
        this.willneed();
        return;
    }
    for (const p of this.pieces(mm, start, end)) {
      const v = p.vma;
      if (v !== undefined && v.locked === true && advice !== MADV_COLLAPSE) return; // -EINVAL (madvise_dontneed_free_valid_vma, can_madv_lru_vma)
      switch (advice) {
        case MADV_DONTNEED:
          this.c.procs.zapRange(mm, p.start, p.end, true);
          break;
        case MADV_FREE:
          if (v !== undefined && v.file) return; // -EINVAL: anonymous private VMAs only
          this.free(mm, p.start, p.end);
          break;
        case MADV_COLD:
          this.cold(mm, p.start, p.end);
          break;
        case MADV_PAGEOUT:
          this.pageout(mm, p.start, p.end);
          break;
        case MADV_COLLAPSE:
          if (v !== undefined && (v.file || v.nohuge === true)) return; // hugepage_vma_check fails: -EINVAL
          this.collapse(mm, p, cpuNid, now);
          break;
      }
    }
  }

  /**
   * MADV_WILLNEED: for an anon region 6.1 starts swap-in readahead of the swapped entries
   * (force_shm_swapin_readahead / swapin_walk_pmd_entry: read_swap_cache_async into the swap
   * cache, the PTEs left as they are, so a later touch is a minor fault from the swap cache);
   * for a file region, readahead into the page cache. wsim has neither a swap cache nor file
   * pages outside mappings to hold such pages, so the advice changes nothing here.
   */
  private willneed(): void {}

  /** The pieces of [start, end): each region's part in address order, and the gaps between. */
  private pieces(mm: Mm, start: number, end: number): Piece[] {
    const out: Piece[] = [];
    let at = start;
    for (const v of mm.vmas) {
      if (v.end <= at) continue;
      if (v.start >= end) break;
      if (v.start > at) out.push({ start: at, end: v.start, vma: undefined });
      const e = Math.min(v.end, end);
      out.push({ start: Math.max(v.start, at), end: e, vma: v });
      at = e;
    }
    if (at < end) out.push({ start: at, end, vma: undefined });
    return out;
  }

  /**
   * Calls fn(leaf, idx, from, to) for each page-table leaf (idx: vpn >> 9) holding part of
   * [start, end), in address order, with the slots [from, to) of it inside the range.
   */
  private eachLeaf(mm: Mm, start: number, end: number, fn: (leaf: Int32Array, idx: number, from: number, to: number) => void): void {
    const first = Math.floor(start / LEAF);
    const last = Math.floor((end - 1) / LEAF);
    if (last - first + 1 > mm.pt.size * 2) {
      for (const idx of [...mm.pt.keys()].sort((a, b) => a - b)) {
        if (idx < first || idx > last) continue;
        const base = idx * LEAF;
        fn(mm.pt.get(idx)!, idx, Math.max(start - base, 0), Math.min(end - base, LEAF));
      }
    } else {
      for (let idx = first; idx <= last; idx++) {
        const leaf = mm.leaf(idx);
        const base = idx * LEAF;
        if (leaf !== undefined) fn(leaf, idx, Math.max(start - base, 0), Math.min(end - base, LEAF));
      }
    }
  }

  /** Do several mms map the page at pfn (fork.ts: folio_mapcount > 1)? */
  private shared(pfn: number): boolean {
    const r = this.c.procs.rmapShared;
    return (r.size !== 0 && r.has(pfn)) || fileMapcount(this.c.procs, pfn) > 1;
  }

  /**
   * A huge page in the leaf, covered by [from, to) only in part, is split first; returns its
   * head when [from, to) covers it whole (handled as one folio), else -1; with `skipShared`,
   * SHARED_HUGE (nothing done) for a huge page covered in part that other mms map too.
   */
  private hugeInLeaf(leaf: Int32Array, from: number, to: number, skipShared = false): number {
    const procs = this.c.procs;
    const first = leaf[0]!;
    const head = first > 0 ? procs.hugeHead(first - 1) : -1;
    if (head < 0) return -1;
    if (from === 0 && to === LEAF) return head;
    // madvise_free_huge_pmd / madvise_cold_or_pageout_pte_range test the mapcount before they
    // split for a part of the PMD: a huge page other mms map is left whole (SHARED_HUGE)
    if (skipShared && this.shared(head)) return SHARED_HUGE;
    procs.splitHuge(head);
    return -1;
  }

  /**
   * MADV_FREE (madvise_free_pte_range): swap entries are freed and their PTEs cleared; each
   * present anon page gets its dirty and young bits cleared and mark_page_lazyfree:
   * lru_lazyfree_fn moves an evictable swap-backed anon folio to the file LRU's oldest
   * generation with PG_swapbacked cleared (pglazyfree). A later write dirties it again, and
   * reclaim then keeps it (reclaim.ts); a clean one is freed without swap (pglazyfreed).
   */
  private free(mm: Mm, start: number, end: number): void {
    const { pages, procs } = this.c;
    const flags = pages.flags;
    this.eachLeaf(mm, start, end, (leaf, _idx, from, to) => {
      const head = this.hugeInLeaf(leaf, from, to, true);
      if (head === SHARED_HUGE) return;
      if (head >= 0) {
        if (this.shared(head)) return; // madvise_free_huge_pmd: page_mapcount != 1
        // madvise_free_huge_pmd: the whole PMD is in range
        for (let k = 0; k < HPAGE_PMD_NR; k++) flags[head + k]! &= ~(PG_DIRTY | PG_ACCESSED);
        this.markLazyfree(head);
        return;
      }
      for (let s = from; s < to; s++) {
        const pte = leaf[s]!;
        if (pte === 0) continue;
        if (pte < 0) {
          // free_swap_and_cache, pte_clear_not_present_full
          procs.releaseEntry(mm, -pte - 1);
          leaf[s] = 0;
          leaf[COUNT]!--;
          continue;
        }
        const pfn = pte - 1;
        if (!(flags[pfn]! & PG_ANON) || this.shared(pfn)) continue; // page_mapcount != 1: skipped
        flags[pfn]! &= ~(PG_DIRTY | PG_ACCESSED);
        this.markLazyfree(pfn);
      }
    });
  }

  /** mark_page_lazyfree -> lru_lazyfree_fn on the LRU entry at pfn. */
  private markLazyfree(pfn: number): void {
    const { pages, lru, ev } = this.c;
    const m = pages.mflags[pfn]!;
    if (m & (PG_LAZYFREE | PG_UNEVICTABLE)) return;
    const lv = lru.lruvecOfPfn(pfn);
    if (lv === undefined) return;
    const nr = lru.nrOf(pfn);
    lru.del(pfn);
    pages.mflags[pfn]! = (pages.mflags[pfn]! & ~PG_REFERENCED) | PG_LAZYFREE; // folio_clear_referenced
    lru.addInactive(lv, pfn); // now a file-type folio: min_seq[FILE] (the two-list LRU: LRU_INACTIVE_FILE)
    ev[V.pglazyfree]! += nr;
  }

  /**
   * MADV_COLD (madvise_cold_or_pageout_pte_range, pageout = false): each present page (a huge
   * page covered whole as one folio) is made old and deactivate_page'd: under MGLRU every
   * evictable folio, re-added as an inactive one (anon into min_seq + 1, file into min_seq),
   * pgdeactivate; without MGLRU (lru_gen.enabled=0) only an active one (lru_deactivate_fn).
   * PG_referenced is cleared either way.
   */
  private cold(mm: Mm, start: number, end: number): void {
    const { pages, lru, ev } = this.c;
    this.eachLeaf(mm, start, end, (leaf, _idx, from, to) => {
      const head = this.hugeInLeaf(leaf, from, to, true);
      if (head === SHARED_HUGE) return;
      const deactivate = (pfn: number) => {
        lru.testClearYoung(pfn);
        pages.mflags[pfn]! &= ~PG_REFERENCED;
        if (pages.mflags[pfn]! & PG_UNEVICTABLE) return;
        const lv = lru.lruvecOfPfn(pfn);
        if (lv === undefined) return;
        if (lru.classic && lru.slot[pfn] !== 1) return; // the two-list LRU: an inactive folio stays
        lru.del(pfn);
        lru.addInactive(lv, pfn);
        ev[V.pgdeactivate]! += lru.nrOf(pfn);
      };
      if (head >= 0) return this.shared(head) ? undefined : deactivate(head);
      for (let s = from; s < to; s++) if (leaf[s]! > 0 && !this.shared(leaf[s]! - 1)) deactivate(leaf[s]! - 1);
    });
  }

  /**
   * MADV_PAGEOUT (pageout = true): young bits cleared, each evictable present page isolated and
   * reclaim_pages'd at once (reclaim.ts pageout: swap-out, drop, or lazyfree discard; no
   * pgscan/pgsteal). A huge page is split first.
   */
  private pageout(mm: Mm, start: number, end: number): void {
    const { pages, reclaim } = this.c;
    this.eachLeaf(mm, start, end, (leaf, _idx, from, to) => {
      const head = this.hugeInLeaf(leaf, from, to, true);
      if (head === SHARED_HUGE) return;
      if (head >= 0) {
        if (this.shared(head)) return; // page_mapcount != 1: not this mm's alone
        if (pages.mflags[head]! & PG_UNEVICTABLE) return; // putback: an unevictable folio stays
        this.c.procs.splitHuge(head);
      }
      for (let s = from; s < to; s++) {
        const pte = leaf[s]!;
        if (pte <= 0) continue;
        const pfn = pte - 1;
        if (this.shared(pfn)) continue; // page_mapcount != 1
        if (pages.mflags[pfn]! & PG_UNEVICTABLE) continue; // putback: unevictable folios stay
        // shrink_folio_list from reclaim_pages: a dirty or writeback file folio is not written here (activate_locked / keep)
        if (pages.mflags[pfn]! & PG_FILE_MAPPED && this.c.procs.pageCache!.busy(pfn)) continue;
        reclaim.pageout(pfn);
      }
    });
  }

  /**
   * MADV_HUGEPAGE / MADV_NOHUGEPAGE (hugepage_madvise): the regions in range (split at its ends)
   * get VM_HUGEPAGE (the trace's thp=1) or VM_NOHUGEPAGE; huge pages already there stay.
   * MADV_HUGEPAGE registers the mm with khugepaged if a region it covers is eligible with its
   * new flags (hugepage_madvise's khugepaged_enter_vma, on the region before the split).
   */
  private hugepageMadvise(mm: Mm, start: number, end: number, huge: boolean, cpuNid: number): void {
    if (huge && this.c.onHugepage !== undefined)
      for (const v of mm.vmas) if (v.end > start && v.start < end) this.c.onHugepage(mm, v);
    for (const v of this.splitVmas(mm, start, end, cpuNid)) {
      v.thp = huge;
      v.nohuge = !huge;
    }
    mergeVmas(mm, this.c.procs, cpuNid);
  }

  /**
   * MADV_COLLAPSE (madvise_collapse, 6.1) over one piece: for each 2 MiB-aligned range wholly
   * inside it (and inside its region), hpage_collapse_scan_pmd with is_khugepaged = false (no
   * max_ptes_none/swap/shared limits, no referenced requirement; a writable present page
   * needed, else SCAN_PAGE_RO), then collapse_huge_page with GFP_TRANSHUGE whatever the defrag
   * mode (khugepaged.ts HugeCollapse, shared with khugepaged). A range already huge is a success.
   */
  private collapse(mm: Mm, p: Piece, cpuNid: number, now: number): void {
    const vma = p.vma;
    const lo = vma !== undefined ? vma.start : p.start;
    const hi = vma !== undefined ? vma.end : p.end;
    const hc = this.c.collapser;
    for (let base = Math.ceil(p.start / LEAF) * LEAF; base + LEAF <= p.end; base += LEAF) {
      if (base < lo || base + LEAF > hi) continue;
      if (hc.scanPmd(mm, base, MADV_COLLAPSE_CC) !== SCAN_SUCCEED) continue; // SCAN_PMD_NONE, SCAN_PMD_MAPPED, SCAN_PAGE_RO, ...
      hc.collapse(mm, vma, base, MADV_COLLAPSE_CC, cpuNid, now);
    }
  }

  /**
   * mlock(2) (apply_vma_lock_flags, then populate): the regions in range get VM_LOCKED, their
   * mapped pages are mlock_folio'd (ProcessTable.mlockPage), and every page not present is faulted in
   * (populate_vma_page_range, a write fault for a private writable mapping), which mlocks it
   * (mlock_new_page). Returns false, doing nothing, when the range is not wholly inside
   * regions (the kernel's -ENOMEM).
   */
  mlock(mm: Mm, start: number, npages: number, cpuNid: number, now: number): boolean {
    const end = start + npages;
    if (!this.covered(mm, start, end)) return false;
    const { procs } = this.c;
    for (const v of this.splitVmas(mm, start, end, cpuNid)) {
      if (v.locked === true) continue; // mlock_fixup: flags unchanged
      v.locked = true;
      this.eachLeaf(mm, v.start, v.end, (leaf, _idx, from, to) => {
        const head = this.hugeInLeaf(leaf, from, to);
        if (head >= 0) return procs.mlockPage(head);
        for (let s = from; s < to; s++) if (leaf[s]! > 0) procs.mlockPage(leaf[s]! - 1);
      });
    }
    mergeVmas(mm, this.c.procs, cpuNid);
    for (let vpn = start; vpn < end; vpn++) {
      const idx = Math.floor(vpn / LEAF);
      const leaf = mm.leaf(idx);
      if (leaf !== undefined && leaf[vpn - idx * LEAF]! > 0) continue;
      // populate_vma_page_range: FOLL_WRITE for a private writable mapping only (a shared file mapping reads)
      procs.access(mm, vpn, mm.findVma(vpn)?.mapping === undefined, cpuNid, now);
    }
    return true;
  }

  /**
   * munlock(2): the regions in range lose VM_LOCKED and their pages are munlocked
   * (munlock_page: unevictable_pgs_munlocked, back to a generation: unevictable_pgs_rescued).
   * Returns false, doing nothing, when the range is not wholly inside regions (-ENOMEM).
   */
  munlock(mm: Mm, start: number, npages: number, cpuNid = 0): boolean {
    const end = start + npages;
    if (!this.covered(mm, start, end)) return false;
    const { procs } = this.c;
    for (const v of this.splitVmas(mm, start, end, cpuNid)) {
      if (v.locked !== true) continue;
      v.locked = false;
      this.eachLeaf(mm, v.start, v.end, (leaf, _idx, from, to) => {
        const head = this.hugeInLeaf(leaf, from, to);
        if (head >= 0) return procs.munlockPage(head);
        for (let s = from; s < to; s++) if (leaf[s]! > 0) procs.munlockPage(leaf[s]! - 1);
      });
    }
    mergeVmas(mm, this.c.procs, cpuNid);
    return true;
  }

  /** Is every vpn of [start, end) inside a region? */
  private covered(mm: Mm, start: number, end: number): boolean {
    return this.pieces(mm, start, end).every((p) => p.vma !== undefined);
  }

  /** The regions inside [start, end), those crossing its ends split there first (split_vma). */
  private splitVmas(mm: Mm, start: number, end: number, cpuNid: number): Vma[] {
    const vmas = mm.vmas;
    for (const at of [start, end]) {
      const i = vmas.findIndex((v) => v.start < at && v.end > at);
      if (i < 0) continue;
      const v = vmas[i]!;
      const copy = { ...v, start: at };
      if (v.mapping !== undefined) copy.pgoff = v.pgoff! + (at - v.start); // vm_pgoff of the part after the split
      vmas.splice(i + 1, 0, copy);
      v.end = at;
      this.c.procs.vmaSplit(mm, v, copy, cpuNid); // vm_area_dup, anon_vma_clone, the maple tree's new range
    }
    return vmas.filter((v) => v.start >= start && v.end <= end);
  }
}

/** vma_merge after a flags change: neighbouring regions with the same flags become one (the merged-away one's objects freed). */
function mergeVmas(mm: Mm, procs: ProcessTable, cpuNid: number): void {
  const vmas = mm.vmas;
  for (let i = vmas.length - 1; i > 0; i--) {
    const a = vmas[i - 1]!;
    const b = vmas[i]!;
    if (a.end === b.start && a.file === b.file && a.thp === b.thp && a.node === b.node && (a.locked === true) === (b.locked === true) && (a.nohuge === true) === (b.nohuge === true) &&
      a.mapping === b.mapping && (a.mapping === undefined || a.pgoff! + (a.end - a.start) === b.pgoff)) {
      a.end = b.end;
      vmas.splice(i, 1);
      procs.vmaMerged(mm, b, cpuNid);
    }
  }
}
