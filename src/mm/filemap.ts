/**
 * File mappings that share the page cache (issue 15 item 2; mm/filemap.c:filemap_fault,
 * filemap_map_pages; mm/memory.c:do_read_fault, do_shared_fault, do_fault_around, do_set_pte,
 * wp_page_shared; mm/rmap.c:page_add_file_rmap, page_remove_rmap, try_to_unmap;
 * mm/truncate.c:truncate_pagecache → unmap_mapping_range). An `mmap` naming a `file` (and its
 * page-aligned offset `off`) is a MAP_SHARED mapping of that file: its faults look the page up
 * in the file's index (pagecache.ts) at off / 4096 + (vpn - start), so the pages are those
 * fread and fwrite use.
 *
 * The reverse map: a cached page keeps ownerMm = -(file id + 1) and ownerVpn = its index (the
 * page cache's entry); the mms mapping it are in ProcessTable.fileMaps (pfn -> [mm slot, vpn,
 * mm slot, vpn, ...], present only while it is mapped; folio_mapcount is half its length) and
 * the page has PG_FILE_MAPPED in mflags. NR_FILE_MAPPED counts a page once, while it is mapped
 * (PageCache.nrMapped); MM_FILEPAGES (rssFile) counts each mapping.
 *
 * A read fault first maps the cached pages around it (do_fault_around: the 64 KiB
 * fault_around_bytes window aligned down, inside the region and its page table; each PTE young,
 * as do_set_pte makes a prefaulted one on x86); if that mapped the faulting page it is a minor
 * fault. Else filemap_fault: a cached page is a minor fault, a missing one is read (one
 * pgmajfault, pgpgin, cost.io_read_ns; a shadow there is a refault as in any fault:
 * workingset_refault_file, _activate_file, _restore_file) into the oldest file generation
 * (lru_gen_add_folio of an inactive folio) and mapped young. A write fault (do_shared_fault)
 * does no fault-around and dirties the page (fault_dirty_shared_page: nr_dirty, nr_dirtied,
 * balance_dirty_pages every 32 pages so dirtied). A write through a PTE to a clean mapped page
 * (written back since, or mapped by a read) is the write-protect fault (wp_page_shared: one
 * pgfault, no page allocated) that dirties it; a write to a dirty one faults nothing.
 *
 * munmap, exit and MADV_DONTNEED drop the mapping only (page_remove_rmap): the page stays in
 * the cache, on its LRU. Reclaim of a mapped page unmaps it from every mm (try_to_unmap: the
 * PTEs are cleared, the shadow stays in the file's index, so the next fault is a major fault and
 * a refault); a dirty or writeback one is passed over as the page cache's are (sort_folio), and
 * a young one (accessed through any mapping since the last look) goes to the youngest
 * generation as every mapped page does. Migration and compaction move the file's entry and
 * every PTE. ftruncate unmaps the pages it drops (unmap_mapping_range); fdelete of a mapped file
 * forgets the name and frees the pages when the last mapping of it goes (the mapping holds the
 * file, so the inode outlives the unlink).
 *
 * wsim simplifications: every `file` mapping is MAP_SHARED (no private COW of file pages); no
 * readahead or read-around on a major fault (the page cache reads none either); the accessed
 * bit is the page's, shared by every mapping; a page mlocked through one locked mapping is
 * munlocked when its last mapping goes; wsim's files have no size, so no fault is past EOF
 * (SIGBUS); the page is not charged through mem_cgroup_charge's limits (as fread's are not).
 */
import { V } from "../stats/counters.js";
import { PG_ACCESSED, PG_DIRTY, PG_FILE_MAPPED, PG_MLOCKED } from "./pages.js";
import { FAULT_OK, FAULT_OOM, type Mm, type ProcessTable, type Vma } from "./process.js";

const LEAF = 512;
const COUNT = 512;
/** fault_around_bytes (64 KiB, mm/memory.c) in pages */
export const FAULT_AROUND_PAGES = 16;

/** page_add_file_rmap: mm slot `slot` maps the cached page at pfn at vpn. */
function rmapAdd(procs: ProcessTable, pfn: number, slot: number, vpn: number): void {
  const maps = procs.fileMaps.get(pfn);
  if (maps !== undefined) {
    maps.push(slot, vpn);
    return;
  }
  procs.fileMaps.set(pfn, [slot, vpn]);
  procs.ctx.alloc.buddy.pages.mflags[pfn]! |= PG_FILE_MAPPED;
  procs.pageCache!.nrMapped++;
}

/** The page's last mapping went: no longer mapped (NR_FILE_MAPPED), munlocked if it was mlocked. */
function unmapped(procs: ProcessTable, pfn: number): void {
  procs.fileMaps.delete(pfn);
  const mflags = procs.ctx.alloc.buddy.pages.mflags;
  mflags[pfn]! &= ~PG_FILE_MAPPED;
  procs.pageCache!.nrMapped--;
  if (mflags[pfn]! & PG_MLOCKED) procs.munlockPage(pfn);
}

/**
 * page_remove_rmap of mm's mapping of the cached page at pfn at vpn (munmap, exit, DONTNEED):
 * its rmap entry and rss go; the caller clears the PTE. The page stays cached.
 */
export function fileRmapDrop(procs: ProcessTable, mm: Mm, pfn: number, vpn: number): void {
  const maps = procs.fileMaps.get(pfn)!;
  for (let k = 0; k < maps.length; k += 2) {
    if (maps[k] !== mm.slot || maps[k + 1] !== vpn) continue;
    maps.splice(k, 2);
    break;
  }
  mm.rssFile--;
  if (maps.length === 0) unmapped(procs, pfn);
}

/**
 * try_to_unmap / unmap_mapping_range of the cached page at pfn: every PTE mapping it is
 * cleared (pte_none: the file's index keeps the page, or the shadow reclaim leaves), each mm's
 * rss drops. Nothing if it is not mapped.
 */
export function unmapCachePage(procs: ProcessTable, pfn: number): void {
  const maps = procs.fileMaps.get(pfn);
  if (maps === undefined) return;
  for (let k = 0; k < maps.length; k += 2) {
    const mm = procs.bySlot.get(maps[k]!)!;
    const vpn = maps[k + 1]!;
    const idx = Math.floor(vpn / LEAF);
    const leaf = mm.leaf(idx)!;
    leaf[vpn - idx * LEAF] = 0;
    leaf[COUNT]!--;
    mm.rssFile--;
  }
  unmapped(procs, pfn);
}

/** Migration moved the cached page at src to dst: every PTE mapping it follows (remove_migration_ptes). */
export function remapCachePage(procs: ProcessTable, src: number, dst: number): void {
  const maps = procs.fileMaps.get(src);
  if (maps === undefined) return;
  for (let k = 0; k < maps.length; k += 2) {
    const vpn = maps[k + 1]!;
    const idx = Math.floor(vpn / LEAF);
    procs.bySlot.get(maps[k]!)!.leaf(idx)![vpn - idx * LEAF] = dst + 1;
  }
  procs.fileMaps.delete(src);
  procs.fileMaps.set(dst, maps);
}

/** folio_mapcount of a cached page: the mappings in fileMaps (0: not mapped). */
export function fileMapcount(procs: ProcessTable, pfn: number): number {
  const maps = procs.fileMaps.size !== 0 ? procs.fileMaps.get(pfn) : undefined;
  return maps === undefined ? 0 : maps.length / 2;
}

/**
 * do_set_pte for a cached page: mapped young in mm's leaf at vpn (slot s), its rmap added
 * (page_add_file_rmap), MM_FILEPAGES; in a VM_LOCKED region it is mlocked (mlock_vma_folio).
 */
function setPte(procs: ProcessTable, mm: Mm, vma: Vma, leaf: Int32Array, s: number, vpn: number, pfn: number): void {
  leaf[s] = pfn + 1;
  leaf[COUNT]!++;
  rmapAdd(procs, pfn, mm.slot, vpn);
  mm.rssFile++;
  procs.ctx.alloc.buddy.pages.flags[pfn]! |= PG_ACCESSED; // pte_sw_mkyoung
  if (vma.locked === true) procs.mlockPage(pfn);
}

/**
 * do_fault_around → filemap_map_pages for a read fault at vpn (file index idx): the cached
 * pages of the window whose PTE is none are mapped. Returns true when the faulting page was
 * among them (VM_FAULT_NOPAGE: the fault is done).
 */
function faultAround(procs: ProcessTable, mm: Mm, vma: Vma, leaf: Int32Array, leafIdx: number, vpn: number, idx: number): boolean {
  const f = vma.mapping!;
  const base = leafIdx * LEAF;
  // address = max(address & mask, vm_start); start_pgoff -= off
  const a = Math.max(vpn - (vpn % FAULT_AROUND_PAGES), vma.start);
  const startPg = idx - (vpn - a);
  // end_pgoff: the end of the page table, of the region, or nr_pages from start_pgoff
  const endPg = Math.min(startPg - (a - base) + LEAF - 1, vma.end - vma.start + vma.pgoff! - 1, startPg + FAULT_AROUND_PAGES - 1);
  let hit = false;
  for (let pg = startPg; pg <= endPg; pg++) {
    const v = a + (pg - startPg);
    const s = v - base;
    if (leaf[s] !== 0) continue; // !pte_none
    const e = f.at(pg);
    if (e <= 0) continue; // not cached (or a shadow): next_uptodate_page skips it
    setPte(procs, mm, vma, leaf, s, v, e - 1);
    if (v === vpn) hit = true;
  }
  return hit;
}

/**
 * A fault at vpn in a region mapping a file (vma.mapping), from a CPU of cpuNid: do_read_fault
 * (fault-around, then filemap_fault) or do_shared_fault for a write (filemap_fault, then the page
 * dirtied). The caller counted pgfault. Returns FAULT_OK, or FAULT_OOM when no page (or page
 * table) could be had or the OOM killer took this process.
 */
export function filemapFault(procs: ProcessTable, mm: Mm, vma: Vma, vpn: number, leafIdx: number, slot: number, write: boolean, cpuNid: number, now: number): number {
  const { ev, alloc } = procs.ctx;
  const pc = procs.pageCache!;
  let leaf = mm.leaf(leafIdx);
  if (leaf === undefined) {
    // __handle_mm_fault's tables (do_fault_around's pte_alloc_one), before the page
    leaf = procs.newLeaf(mm, leafIdx, cpuNid, true);
    if (leaf === undefined) return FAULT_OOM;
  }
  const f = vma.mapping!;
  const idx = vma.pgoff! + (vpn - vma.start);
  let major = false;
  let pfn: number;
  if (!write && faultAround(procs, mm, vma, leaf, leafIdx, vpn, idx)) pfn = leaf[slot]! - 1;
  else {
    const e = f.at(idx);
    if (e > 0) pfn = e - 1;
    else {
      // filemap_fault → page_cache_ra_unbounded's read of the one page (no read-around in wsim)
      pfn = pc.faultRead(f, idx, mm.memcg, cpuNid, now);
      if (mm.exited) return FAULT_OOM; // the OOM killer took this process (its pages went with it)
      if (pfn < 0) return FAULT_OOM;
      major = true;
      ev[V.pgmajfault]!++;
      // filemap_fault drops mmap_lock for the read (maybe_unlock_mmap_for_io) and returns
      // VM_FAULT_RETRY; the retried handle_mm_fault counts PGFAULT again
      ev[V.pgfault]!++;
    }
    setPte(procs, mm, vma, leaf, slot, vpn, pfn);
  }
  // the true access time: the faulting page's only (a prefaulted page is young but not touched)
  procs.ctx.lastAccess[pfn] = now;
  if (!major) procs.mappedFaults++;
  if (write) {
    pc.dirtyMapped(pfn, now); // fault_dirty_shared_page
    alloc.buddy.pages.flags[pfn]! |= PG_DIRTY;
  }
  if (procs.ctx.onAccess) procs.ctx.onAccess(pfn, cpuNid, now);
  if (procs.observer !== null) procs.observer.fault(mm.pid, vpn, pfn, 0, alloc.zoneOf(pfn).nid, cpuNid, write, true, major);
  return FAULT_OK;
}

/**
 * A write through a present PTE to the mapped cached page at pfn (PG_FILE_MAPPED): clean, its
 * PTE is write-protected, so this is do_wp_page → wp_page_shared (pgfault, the page dirtied:
 * fault_dirty_shared_page); dirty, nothing (the caller sets the bits either way).
 */
export function wpShared(procs: ProcessTable, pfn: number, now: number): void {
  if (procs.ctx.alloc.buddy.pages.flags[pfn]! & PG_DIRTY) return;
  procs.ctx.ev[V.pgfault]!++;
  procs.mappedFaults++;
  procs.pageCache!.dirtyMapped(pfn, now);
}
