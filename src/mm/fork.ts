/**
 * fork and copy-on-write as Linux 6.1 does them (kernel/fork.c:dup_mmap, mm/memory.c:
 * copy_page_range, copy_present_pte, copy_nonpresent_pte, do_wp_page, wp_page_reuse,
 * wp_page_copy; mm/huge_memory.c:copy_huge_pmd, do_huge_pmd_wp_page; mm/rmap.c:anon_vma_fork,
 * page_remove_rmap), over wsim's page tables (SPEC §2 `fork`, KERNEL-REFERENCE-2 §6).
 *
 * The reverse map: ownerMm / ownerVpn (memory.ts) hold a page's first owner, as before; a page
 * several mms map has the others' mm slots in ProcessTable.rmapShared (pfn -> slots), which
 * exists only for shared pages, so the single-owner paths pay one `size !== 0` test. Every
 * owner maps the page at the same vpn (fork copies at the same address; wsim has no mremap).
 * folio_mapcount is 1 + the list's length. !PageAnonExclusive is PG_ANON_SHARED in mflags: every
 * PTE mapping such a page is write-protected, so the access path tests one byte on writes.
 *
 * wsim simplifications (documented in the README):
 * - a write to a shared huge page splits the writer's PMD (thp_split_pmd) and, as the copied
 *   subpage's last PTE goes, queues the folio for a deferred split (thp_deferred_split_page);
 *   wsim then splits the folio at once (nr_anon_transparent_hugepages drops now, where 6.1
 *   waits for the deferred-split shrinker, which counts thp_split_page: wsim does not), so the
 *   other mms map its 512 pages with PTEs afterwards (their writes count no thp_split_pmd), and
 *   a later write to a page only one mm still maps is a reuse (6.1 copies a PTE-mapped subpage
 *   of a compound page while the folio's refcount is high);
 * - the child's PTEs are not made old (the accessed bit is per page, shared by every mapping);
 * - a swap entry both mms reference is read in by each mm's fault on its own (6.1 finds the
 *   first one's page in the swap cache and maps it shared);
 * - the mlock state of a page stays with it until its last mapping goes (the child's regions
 *   are not VM_LOCKED, as dup_mmap clears the flag).
 */
import { V } from "../stats/counters.js";
import { GFP_HIGHUSER_MOVABLE, MT_MOVABLE } from "./constants.js";
import { PG_ACCESSED, PG_ANON, PG_ANON_SHARED, PG_DIRTY, PG_LRU } from "./pages.js";
import { FAULT_OK, FAULT_OOM, HPAGE_PMD_NR, type Mm, type ProcessTable, type Vma } from "./process.js";

const LEAF = 512;
const COUNT = 512;

/** Adds mm slot `slot` to the owners of pfn (page_dup_rmap / page_try_dup_anon_rmap). */
function rmapAdd(procs: ProcessTable, pfn: number, slot: number): void {
  const more = procs.rmapShared.get(pfn);
  if (more !== undefined) more.push(slot);
  else procs.rmapShared.set(pfn, [slot]);
}

/**
 * page_remove_rmap of one mapping of a page several mms map: mm slot `slot` leaves its owners
 * (the first owner's place goes to the next one). Returns false, changing nothing, when pfn has
 * a single owner (the caller frees it as before).
 */
export function rmapDrop(procs: ProcessTable, pfn: number, slot: number): boolean {
  const more = procs.rmapShared.get(pfn);
  if (more === undefined) return false;
  const ownerMm = procs.ctx.ownerMm;
  if (ownerMm[pfn] === slot) ownerMm[pfn] = more.pop()!;
  else {
    const i = more.indexOf(slot);
    if (i < 0) return false;
    more.splice(i, 1);
  }
  if (more.length === 0) procs.rmapShared.delete(pfn);
  return true;
}

/** folio_mapcount of the mapped page at pfn: 1 + the other owners. */
export function mapcount(procs: ProcessTable, pfn: number): number {
  const more = procs.rmapShared.size !== 0 ? procs.rmapShared.get(pfn) : undefined;
  return more === undefined ? 1 : 1 + more.length;
}

/**
 * fork: `child` (new, empty, in the parent's memcg) gets the parent's regions and page tables
 * as dup_mmap does, on a CPU of cpuNid: per region vm_area_dup (a vm_area_struct), anon_vma_fork
 * for a region with an anon_vma (an anon_vma_chain to each anon_vma the parent's region is
 * chained to, then its own anon_vma and chain), the maple tree, then copy_page_range for every
 * region vma_needs_copy accepts (one with an anon_vma; file regions are faulted in again by the
 * child) and for wsim's implicit maps (anon pages outside every region). Anon pages are shared
 * write-protected (PG_ANON_SHARED, the child in their rmap, child MM_ANONPAGES), a huge page
 * whole (copy_huge_pmd); swap entries, and pages waiting in the swap cache, are duplicated
 * (swap_duplicate, child MM_SWAPENTS). The child's PTE tables are allocated (GFP_PGTABLE_USER,
 * with the PMD/PUD/PGD above them) for each of the parent's tables it copies. Nothing is counted
 * in vmstat (6.1 counts no fork event there). Returns false when a table could not be had (the
 * kernel's -ENOMEM: the child is torn down again).
 */
export function forkMm(procs: ProcessTable, parent: Mm, child: Mm, cpuNid: number): boolean {
  const slab = procs.ctx.slab();
  const slub = procs.ctx.slub;
  for (const v of parent.vmas) {
    // vm_area_dup: the flags but VM_LOCKED (dup_mmap clears VM_LOCKED | VM_LOCKONFAULT)
    const c: Vma = { start: v.start, end: v.end, file: v.file, thp: v.thp, node: v.node };
    if (v.nohuge === true) c.nohuge = true;
    if (v.mapping !== undefined) {
      // a shared file mapping: the child's faults find the page cache's pages (filemap.ts)
      c.mapping = v.mapping;
      c.pgoff = v.pgoff;
      v.mapping.mapRefs++; // get_file
    }
    if (slab) c.slab = slub.allocObject(slub.vmAreaStruct, cpuNid);
    child.vmas.push(c);
    if (v.anonVma === undefined) continue;
    // anon_vma_fork: anon_vma_clone (a chain to every anon_vma the parent's region has), then
    // anon_vma_alloc and anon_vma_chain_alloc for the child's own
    if (v.anonVma === null || !slab) {
      c.anonVma = null;
      continue;
    }
    const parents = [v.anonVma, ...(v.clonedAvcs ?? []).map((x) => x.av)];
    c.clonedAvcs = parents.map((av) => {
      av.refs++;
      return { avc: slub.allocObject(slub.anonVmaChain, cpuNid), av };
    });
    c.anonVma = { slab: slub.allocObject(slub.anonVma, cpuNid), refs: 1 };
    c.avc = slub.allocObject(slub.anonVmaChain, cpuNid);
  }
  // the child's maple tree holds the same ranges
  if (parent.mapleEntries > 0) procs.mapleChanged(child, parent.mapleEntries, cpuNid);
  // copy_page_range, leaf by leaf in address order
  const idxs = [...parent.pt.keys()].sort((a, b) => a - b);
  for (const idx of idxs) {
    const leaf = parent.pt.get(idx)!;
    if (!copyLeaf(procs, parent, child, idx, leaf, cpuNid)) {
      procs.exit(child);
      return false;
    }
  }
  return true;
}

/** Does copy_page_range copy vpn's entry: inside an anon region with an anon_vma, or outside every region (wsim's implicit maps)? */
function copied(v: Vma | undefined): boolean {
  return v === undefined || (!v.file && v.anonVma !== undefined);
}

/**
 * copy_pmd_range / copy_pte_range for one leaf: the child's PTE table is allocated when any part
 * of the leaf lies in a region it copies (or holds an implicit map), then each entry is copied.
 */
function copyLeaf(procs: ProcessTable, parent: Mm, child: Mm, idx: number, leaf: Int32Array, cpuNid: number): boolean {
  const base = idx * LEAF;
  // which slots are copied: walk the regions over the leaf
  let any = false;
  for (let s = 0; s < LEAF && !any; ) {
    const v = parent.findVma(base + s);
    if (copied(v) && (v !== undefined || leaf[s] !== 0)) any = true;
    s = v !== undefined ? Math.min(v.end - base, LEAF) : s + 1;
  }
  if (!any) return true;
  const cl = child.leaf(idx) ?? procs.newLeaf(child, idx, cpuNid, true);
  if (cl === undefined) return false;
  const pages = procs.ctx.alloc.buddy.pages;
  const first = leaf[0]!;
  const head = first > 0 ? procs.hugeHead(first - 1) : -1;
  if (head >= 0) {
    // copy_huge_pmd: the huge page is shared whole, both PMDs write-protected; the child's
    // table above is the deposit (pgtable_trans_huge_deposit)
    for (let k = 0; k < HPAGE_PMD_NR; k++) {
      cl[k] = leaf[k]!;
      pages.mflags[head + k]! |= PG_ANON_SHARED;
      rmapAdd(procs, head + k, child.slot);
    }
    cl[COUNT] = HPAGE_PMD_NR;
    child.rssAnon += HPAGE_PMD_NR;
    return true;
  }
  const shadows = procs.ctx.shadows;
  let v: Vma | undefined;
  let vEnd = -1;
  for (let s = 0; s < LEAF; s++) {
    const pte = leaf[s]!;
    if (pte === 0) continue;
    const vpn = base + s;
    if (vpn >= vEnd || (v !== undefined && vpn < v.start)) {
      v = parent.findVma(vpn);
      vEnd = v !== undefined ? v.end : vpn + 1;
    }
    if (!copied(v)) continue;
    if (pte < 0) {
      // copy_nonpresent_pte: a swap entry is duplicated (a file shadow stays with the parent)
      const sh = -pte - 1;
      if (shadows.type[sh] !== 0) continue;
      shadows.dup(sh);
      cl[s] = pte;
      cl[COUNT]!++;
      child.swapEnts++;
      continue;
    }
    const pfn = pte - 1;
    const cached = procs.slotOf(pfn);
    if (cached !== 0) {
      // the parent's PTE is a swap entry whose page waits in the swap cache: the child gets the entry
      shadows.dup(cached - 1);
      cl[s] = -cached;
      cl[COUNT]!++;
      child.swapEnts++;
      continue;
    }
    if (!(pages.flags[pfn]! & PG_ANON)) continue;
    // copy_present_pte: page_try_dup_anon_rmap, the page no longer exclusive, both PTEs write-protected
    pages.mflags[pfn]! |= PG_ANON_SHARED;
    rmapAdd(procs, pfn, child.slot);
    cl[s] = pte;
    cl[COUNT]!++;
    child.rssAnon++;
  }
  // a leaf left empty keeps its table, as copy_pte_range's allocation does
  return true;
}

/**
 * A write to the write-protected anon page at pfn that mm maps at vpn (slot `slot` of leaf
 * leafIdx): handle_mm_fault (pgfault) -> do_wp_page, or wp_huge_pmd -> do_huge_pmd_wp_page for a
 * huge page. A page only mm maps is reused (page_move_anon_rmap, wp_page_reuse: pgreuse; a huge
 * page's PMD is reused whole, without pgreuse). A page other mms map too is copied
 * (wp_page_copy): a movable order-0 page from the normal allocation path on the writer's node
 * (or its region's preferred one), charged to the writer's memcg, mapped writable in the youngest
 * generation, the old page's mapping dropped (page_remove_rmap). A huge page first has the
 * writer's PMD split (__split_huge_pmd: thp_split_pmd; see the header for wsim's folio split).
 * Returns FAULT_OK, or FAULT_OOM when no page could be had.
 */
export function doWpPage(procs: ProcessTable, mm: Mm, vpn: number, leafIdx: number, slot: number, pfn: number, cpuNid: number, now: number): number {
  const { alloc, ev, lru, ownerMm, ownerVpn, lastAccess } = procs.ctx;
  const pages = alloc.buddy.pages;
  ev[V.pgfault]!++;
  const head = procs.hugeHead(pfn);
  if (head >= 0) {
    if (procs.rmapShared.size === 0 || !procs.rmapShared.has(head)) {
      // do_huge_pmd_wp_page: ref_count == 1 -> page_move_anon_rmap, the PMD reused
      for (let k = 0; k < HPAGE_PMD_NR; k++) pages.mflags[head + k]! &= ~PG_ANON_SHARED;
      return touched(procs, pfn, cpuNid, now);
    }
    // fallback: __split_huge_pmd, then the fault goes on at PTE level
    procs.splitHuge(head, true);
  }
  if (procs.rmapShared.size === 0 || !procs.rmapShared.has(pfn)) {
    // do_wp_page: not exclusive, but ref_count == 1: page_move_anon_rmap, wp_page_reuse
    pages.mflags[pfn]! &= ~PG_ANON_SHARED;
    ev[V.pgreuse]!++;
    return touched(procs, pfn, cpuNid, now);
  }
  // wp_page_copy: alloc_page_vma(GFP_HIGHUSER_MOVABLE), as do_anonymous_page's page
  const vma = mm.findVma(vpn);
  const pref = vma !== undefined && vma.node >= 0 ? vma.node : cpuNid;
  const prev = procs.current;
  procs.current = mm;
  const npfn = alloc.allocPages(0, MT_MOVABLE, GFP_HIGHUSER_MOVABLE, pref, cpuNid);
  procs.current = prev;
  if (mm.exited) {
    // the OOM killer took the writer (its pages went with it)
    if (npfn >= 0) alloc.freePages(npfn, 0);
    return FAULT_OOM;
  }
  if (npfn < 0) return FAULT_OOM;
  const leaf = mm.leaf(leafIdx);
  if (leaf === undefined || leaf[slot] !== pfn + 1) {
    // !pte_same: reclaim or migration for this allocation changed the entry; the fault is taken again
    alloc.freePages(npfn, 0);
    return procs.access(mm, vpn, true, cpuNid, now);
  }
  pages.flags[npfn]! |= PG_LRU | PG_ACCESSED | PG_ANON | PG_DIRTY;
  pages.mflags[npfn] = 0;
  leaf[slot] = npfn + 1;
  ownerMm[npfn] = mm.slot;
  ownerVpn[npfn] = vpn;
  lastAccess[npfn] = now;
  const lv = mm.memcg.lruvecs[alloc.lastZone!.nid]!;
  if (vma !== undefined && vma.locked === true) procs.mlockNew(lv, npfn);
  else lru.add(lv, npfn, lv.maxSeq); // inside a fault: the youngest generation
  procs.nrAnon++;
  // page_remove_rmap of the old page: the other mms keep it (still write-protected)
  rmapDrop(procs, pfn, mm.slot);
  if (procs.ctx.onAccess) procs.ctx.onAccess(npfn, cpuNid, now);
  if (procs.observer !== null) procs.observer.fault(mm.pid, vpn, npfn, 0, lv.nid, cpuNid, true, false, false);
  return FAULT_OK;
}

/** wp_page_reuse: the PTE young, dirty and writable again. */
function touched(procs: ProcessTable, pfn: number, cpuNid: number, now: number): number {
  procs.ctx.alloc.buddy.pages.flags[pfn]! |= PG_ACCESSED | PG_DIRTY;
  procs.ctx.lastAccess[pfn] = now;
  if (procs.ctx.onAccess) procs.ctx.onAccess(pfn, cpuNid, now);
  return FAULT_OK;
}
