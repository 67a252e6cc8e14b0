/**
 * The page cache outside mappings (SPEC §2 [next], KERNEL-REFERENCE-2 §7): files by name, each
 * an index from page index to pfn, filled by buffered reads and writes (`fread`, `fwrite`) and
 * emptied by reclaim, `ftruncate` and `fdelete`; dirty pages written back by `fsync`, by the
 * flusher's background writeback and by its periodic (kupdate) writeback.
 *
 * A file's index is one Int32Array per file (entry = pfn + 1 for a cached page, -(slot + 1) for
 * a shadow entry that reclaim left in shadows.ts, 0 for nothing), grown by doubling: no object
 * per page. A cached page is an order-0 movable page (mapping_gfp_mask: GFP_HIGHUSER_MOVABLE) on
 * its memcg's file LRU; its reverse map says which file and index hold it: ownerMm = -(file id +
 * 1), ownerVpn = the page index, so reclaim, migration and compaction find the entry to update.
 *
 * Read (filemap_read → filemap_get_pages → filemap_add_folio): a page found is a hit; a page
 * missing is allocated, read (pgpgin += 4 KiB) and added inactive (lru_gen_add_folio: the
 * oldest file generation, min_seq[FILE]); a shadow entry found there is a refault
 * (workingset_refault → lru_gen_refault: workingset_refault_file when the shadow's generation is
 * still the lruvec's min_seq; no activate or restore outside a fault: §7.1). Every folio of the
 * read is marked accessed (folio_mark_accessed → folio_inc_refs: PG_referenced, then
 * PG_workingset, then the LRU_REFS bits, saturating at 3), except the first when the read
 * continues in the page where the previous read of the file ended (pos_same_folio).
 * Write (generic_perform_write): pages found or created (no refault is registered for a page
 * a write creates: __GFP_WRITE), not marked accessed; each page dirtied once (folio_account_dirtied:
 * nr_dirty, nr_dirtied); the inode's dirtied_when is set when it becomes dirty.
 *
 * Writeback: __folio_start_writeback moves a page from nr_dirty to nr_writeback; the device
 * completes pages one after another, each taking cost.io_write_ns of virtual time (one queue,
 * FIFO); __folio_end_writeback counts nr_written (and pgpgout, KiB). Completions are applied
 * lazily, in completion order, whenever the page cache is used or reclaim looks at a page;
 * nr_writeback and nr_written as printed are those of the virtual time now. A page that reclaim
 * met dirty or under writeback carries PG_reclaim: when its writeback ends it goes to the tail
 * of the oldest file generation (folio_rotate_reclaimable, pgrotated).
 *
 * Thresholds (domain_dirty_limits over global_dirtyable_memory: free pages above
 * totalreserve_pages plus the file LRU): background writeback starts when a write leaves
 * nr_dirty above the background threshold and writes the oldest-dirtied files' pages until it is
 * at or below it (wb_over_bg_thresh); the flusher wakes every dirty_writeback_centisecs once
 * something is dirty (wb_wakeup_delayed) and writes back every file dirtied longer than
 * dirty_expire_centisecs ago (wb_check_old_data_flush). The writer is throttled
 * (balance_dirty_pages, every 32 pages dirtied: ratelimit_pages) once nr_dirty + nr_writeback
 * is above the free-run ceiling (thresh + bg_thresh) / 2: it pauses pages / task_ratelimit,
 * task_ratelimit = dirty_ratelimit × pos_ratio (the cubic pos_ratio_polynom around the setpoint),
 * at most MAX_PAUSE (200 ms), pausing again while above the threshold; wsim keeps
 * dirty_ratelimit at its initial INIT_BW (100 MB/s: 25600 pages/s) where the kernel adapts it
 * to the measured write bandwidth. The pause is the writer's own time (completions during it
 * are applied); it is I/O wait, not a memory stall (no PSI), summed in wsim_dirty_throttle_ms
 * and, under --closed-loop, delays the pid.
 *
 * Reclaim (MGLRU, 6.1's sort_folio): a dirty or writeback page-cache page is not evicted: it
 * moves to min_seq + 1 with PG_reclaim (folio_inc_gen(reclaiming)) and counts pgrefill; 6.1's
 * MGLRU does not write file pages from reclaim nor wake the flusher (only the two-list
 * shrink_inactive_list does), so such pages wait for the flusher. A clean page is dropped,
 * leaving a shadow entry in the file's index.
 *
 * wsim simplifications: no readahead (each page is read as it is asked for); a partial write of
 * a page not cached does not read it first; tier protection (sort_folio's `tier > tier_idx`) is
 * not applied: get_tier_idx needs per-tier refault history the shadow does not keep here, so
 * the refs only record what folio_inc_refs would (refsOf); a file's inode and its xarray nodes
 * take no memory.
 */
import type { EngineContext } from "../engine/daemon.js";
import { V } from "../stats/counters.js";
import { GFP_HIGHUSER_MOVABLE, MT_MOVABLE } from "./constants.js";
import type { LruGen, Lruvec } from "./lru-gen.js";
import { FILE } from "./lru-gen.js";
import type { Memcg } from "./memcg.js";
import type { PageAllocator } from "./page-alloc.js";
import { PG_ACCESSED, PG_ANON, PG_DIRTY, PG_FILE_MAPPED, PG_LRU, type PageArrays } from "./pages.js";
import type { Shadows } from "./shadows.js";
import { WMARK_HIGH } from "./buddy.js";

const PAGE = 4096;
/** per-pfn page-cache flags (PageCache.pcf) */
export const PC_REFERENCED = 1; // PG_referenced
export const PC_WORKINGSET = 2; // PG_workingset
const PC_REFS_SHIFT = 2; // LRU_REFS bits (0..3)
const PC_REFS_MASK = 3 << PC_REFS_SHIFT;
export const PC_WRITEBACK = 16; // PG_writeback
export const PC_RECLAIM = 32; // PG_reclaim
/** ratelimit_pages' initial value: balance_dirty_pages every this many pages a task dirties */
export const RATELIMIT_PAGES = 32;
/** INIT_BW (100 MB/s) in pages per second: the initial dirty_ratelimit */
export const INIT_DIRTY_RATELIMIT = 25600;
/** MAX_PAUSE: the longest balance_dirty_pages sleep, ms */
export const MAX_PAUSE_MS = 200;

/** One file's cache: its index and dirty state (struct address_space + the inode's dirtied_when). */
export class FileCache {
  /** page index -> pfn + 1 (cached), -(shadow slot + 1) (evicted), 0 (nothing) */
  ents = new Int32Array(16);
  /** cached pages */
  nrPages = 0;
  /** dirty pages */
  nrDirty = 0;
  /** when the inode became dirty (ms), -1 while clean */
  dirtiedWhen = -1;
  /** the byte after the previous read's last (ra->prev_pos + 1), -1 before the first read */
  prevPos = -1;
  /** file mappings (VMAs) of it (filemap.ts): each holds a reference to the file, as vma->vm_file does */
  mapRefs = 0;
  /** unlinked (fdelete) while mapped: its name is gone, its pages stay until the last mapping goes */
  unlinked = false;
  constructor(readonly id: number, readonly name: string) {}

  /** the entry at index (0 past the end) */
  at(index: number): number {
    return index < this.ents.length ? this.ents[index]! : 0;
  }

  /** makes room for index */
  reserve(index: number): void {
    if (index < this.ents.length) return;
    let n = this.ents.length;
    while (n <= index) n *= 2;
    const e = new Int32Array(n);
    e.set(this.ents);
    this.ents = e;
  }
}

export interface PageCacheContext {
  alloc: PageAllocator;
  lru: LruGen;
  shadows: Shadows;
  pages: PageArrays;
  ev: Float64Array;
  ownerMm: Int32Array;
  ownerVpn: Float64Array;
  lastAccess: Float64Array;
  /** lru_gen_refault: from the shadow's lruvec into `to`; `fault`: in a page fault (lru_gen_in_fault), else a read */
  onRefault: (from: Lruvec, to: Lruvec, token: number, now: number, pfn: number, fault: boolean) => void;
  /** the memcg pages are charged to when an event names no pid: the root */
  rootMemcg: () => Memcg;
  dirtyRatio: () => number;
  dirtyBackgroundRatio: () => number;
  dirtyExpireCs: () => number;
  dirtyWritebackCs: () => number;
  /** cost.io_write_ns: one 4 KiB page written back */
  ioWriteNs: () => number;
  now: () => number;
}

/** The page cache of every file (by name), the writeback queue and the flusher. */
export class PageCache {
  private readonly files: (FileCache | undefined)[] = [];
  private readonly byName = new Map<string, number>();
  /** PC_* flags per pfn */
  readonly pcf: Uint8Array;
  /** cached pages (nr_file_pages beside mapped file pages) */
  nrPages = 0;
  /** cached pages some mm maps (NR_FILE_MAPPED's share of the page cache: filemap.ts) */
  nrMapped = 0;
  /**
   * unmap_mapping_range / try_to_unmap of one cached page every mapping of which goes (set by
   * the process table: filemap.ts), called for a PG_FILE_MAPPED page truncate or delete drops
   */
  unmap: ((pfn: number) => void) | null = null;
  /** pages dirtied through mappings since the last balance_dirty_pages (current->nr_dirtied) */
  private mapDirtied = 0;
  /** NR_FILE_DIRTY */
  nrDirty = 0;
  /** pages under writeback, completions not yet applied */
  private wbPfn = new Int32Array(256);
  private wbDone = new Float64Array(256);
  private wbHead = 0;
  private wbTail = 0;
  /** the device is busy until (ms) */
  private wbBusyUntil = 0;
  /** nr_written applied so far */
  private written = 0;
  /** the writer's throttle pauses, ms (wsim_dirty_throttle_ms) */
  throttleMs = 0;
  private ctx: EngineContext | null = null;
  private flusherArmed = false;

  constructor(private readonly c: PageCacheContext) {
    this.pcf = new Uint8Array(c.pages.nrPages);
  }

  /** The engine's clock and timers (the flusher), at boot. Schedules nothing. */
  start(ctx: EngineContext): void {
    this.ctx = ctx;
  }

  /** the file named `name`, or undefined */
  file(name: string): FileCache | undefined {
    const id = this.byName.get(name);
    return id === undefined ? undefined : this.files[id];
  }

  /** The file named `name`, created (empty) if there is none: a read, a write or an mmap opens it. */
  open(name: string): FileCache {
    return this.fileOrNew(name);
  }

  private fileOrNew(name: string): FileCache {
    let f = this.file(name);
    if (f === undefined) {
      f = new FileCache(this.files.length, name);
      this.files.push(f);
      this.byName.set(name, f.id);
    }
    return f;
  }

  /** The file holding the page-cache page at pfn, or undefined (ownerMm = -(id + 1)). */
  fileOf(pfn: number): FileCache | undefined {
    const o = this.c.ownerMm[pfn]!;
    return o < 0 ? this.files[-o - 1] : undefined;
  }

  /** LRU refs as folio_lru_refs reads them: the LRU_REFS bits + PG_workingset (0..4). */
  refsOf(pfn: number): number {
    const f = this.pcf[pfn]!;
    return ((f & PC_REFS_MASK) >> PC_REFS_SHIFT) + (f & PC_WORKINGSET ? 1 : 0);
  }

  /** folio_inc_refs (folio_mark_accessed under MGLRU): referenced, then workingset, then refs up to 3. */
  private markAccessed(pfn: number): void {
    const f = this.pcf[pfn]!;
    if (!(f & PC_REFERENCED)) this.pcf[pfn] = f | PC_REFERENCED;
    else if (!(f & PC_WORKINGSET)) this.pcf[pfn] = f | PC_WORKINGSET;
    else if ((f & PC_REFS_MASK) !== PC_REFS_MASK) this.pcf[pfn] = f + (1 << PC_REFS_SHIFT);
  }

  /**
   * filemap_read of [off, off + len) bytes of `name` by a task of memcg `memcg` on a CPU of
   * cpuNid (the pages' preferred node). Returns the pages it read from the device (misses), or
   * -1 when a page could not be allocated (the read stops there, as -ENOMEM would).
   */
  read(name: string, off: number, len: number, memcg: Memcg | null, cpuNid: number, now: number): number {
    this.completeUpTo(now);
    const f = this.fileOrNew(name);
    const first = Math.floor(off / PAGE);
    const last = Math.floor((off + len - 1) / PAGE);
    // pos_same_folio(ki_pos, ra->prev_pos - 1): the read goes on in the page the last one ended in
    const sameFirst = f.prevPos > 0 && Math.floor((f.prevPos - 1) / PAGE) === first;
    let misses = 0;
    for (let idx = first; idx <= last; idx++) {
      const e = f.at(idx);
      let pfn: number;
      if (e > 0) pfn = e - 1;
      else {
        pfn = this.addPage(f, idx, memcg, cpuNid, now, false, false);
        if (pfn < 0) return -1;
        misses++;
        this.c.ev[V.pgpgin]! += 4; // KiB read, as /proc/vmstat prints it
      }
      if (idx !== first || !sameFirst) this.markAccessed(pfn);
      this.c.lastAccess[pfn] = now;
    }
    f.prevPos = off + len;
    return misses;
  }

  /**
   * generic_perform_write of [off, off + len) bytes of `name`: each page found or created and
   * dirtied, balance_dirty_pages every RATELIMIT_PAGES pages and at the end. Returns the
   * writer's throttle pause in ms (0 in the free run), or -1 when a page could not be allocated.
   */
  write(name: string, off: number, len: number, memcg: Memcg | null, cpuNid: number, now: number): number {
    this.completeUpTo(now);
    const f = this.fileOrNew(name);
    const first = Math.floor(off / PAGE);
    const last = Math.floor((off + len - 1) / PAGE);
    let t = now;
    let since = 0;
    for (let idx = first; idx <= last; idx++) {
      const e = f.at(idx);
      const pfn = e > 0 ? e - 1 : this.addPage(f, idx, memcg, cpuNid, t, true, false);
      if (pfn < 0) return -1;
      this.c.lastAccess[pfn] = t;
      if (this.dirty(f, pfn, t)) since++;
      if (since >= RATELIMIT_PAGES) {
        t += this.balance(since, t);
        since = 0;
      }
    }
    if (since > 0) t += this.balance(since, t);
    return t - now;
  }

  /** folio_mark_dirty → folio_account_dirtied; true if the page was clean. */
  private dirty(f: FileCache, pfn: number, now: number): boolean {
    const flags = this.c.pages.flags;
    if (flags[pfn]! & PG_DIRTY) return false;
    flags[pfn]! |= PG_DIRTY;
    f.nrDirty++;
    this.nrDirty++;
    this.c.ev[V.nr_dirtied]!++;
    if (f.dirtiedWhen < 0) {
      f.dirtiedWhen = now; // __mark_inode_dirty: inode->dirtied_when
      this.armFlusher(); // wb_wakeup_delayed
    }
    return true;
  }

  /**
   * balance_dirty_pages after `pages` pages dirtied at `now`: background writeback above the
   * background threshold, then the writer's pause above the free run. Returns the pause, ms.
   */
  private balance(pages: number, now: number): number {
    const { thresh, bgThresh } = this.thresholds();
    let t = now;
    for (;;) {
      this.completeUpTo(t);
      if (this.nrDirty > bgThresh) this.backgroundWriteback(bgThresh, t);
      const dirty = this.nrDirty + this.nrWriteback(t);
      const freerun = Math.floor((thresh + bgThresh) / 2);
      if (dirty <= freerun) break;
      // pos_ratio_polynom: 1 + ((setpoint - dirty) / (limit - setpoint))^3, in [0, 2]
      const limit = thresh;
      const setpoint = (freerun + limit) / 2;
      const x = limit > setpoint ? (setpoint - dirty) / (limit - setpoint) : -1;
      const posRatio = Math.min(2, Math.max(0, 1 + x * x * x));
      const rate = INIT_DIRTY_RATELIMIT * posRatio;
      const pause = rate > 0 ? Math.min(MAX_PAUSE_MS, (1000 * pages) / rate) : MAX_PAUSE_MS;
      t += pause;
      this.throttleMs += pause;
      if (rate > 0) break; // task_ratelimit: below the limit, one pause is enough
      if (this.wbHead === this.wbTail && this.nrDirty <= bgThresh) break; // nothing left to wait for
    }
    return t - now;
  }

  /**
   * global_dirtyable_memory and domain_dirty_limits (vm.dirty_ratio, vm.dirty_background_ratio,
   * per page as 6.1 converts them): the thresholds in pages, as /proc/vmstat's
   * nr_dirty_threshold and nr_dirty_background_threshold print them.
   */
  thresholds(): { dirtyable: number; thresh: number; bgThresh: number } {
    const { alloc, lru } = this.c;
    let free = 0;
    let reserve = 0;
    for (const z of alloc.buddy.zones) {
      free += z.freePages;
      let max = 0;
      for (const r of z.lowmemReserve) if (r > max) max = r;
      reserve += Math.min(z.managed, max + z.wmark[WMARK_HIGH]!);
    }
    let file = 0;
    for (const lv of lru.lruvecs) file += lv.total[FILE]!;
    const dirtyable = free - Math.min(free, reserve) + file + 1;
    const ratio = Math.floor((this.c.dirtyRatio() * PAGE) / 100);
    const bgRatio = Math.floor((this.c.dirtyBackgroundRatio() * PAGE) / 100);
    const thresh = Math.floor((ratio * dirtyable) / PAGE);
    let bgThresh = Math.floor((bgRatio * dirtyable) / PAGE);
    if (bgThresh >= thresh) bgThresh = Math.floor(thresh / 2);
    return { dirtyable, thresh, bgThresh };
  }

  /**
   * filemap_fault missing the page at f[idx] (filemap.ts): a page allocated on cpuNid, read
   * (pgpgin, 4 KiB), added inactive; a shadow there is a refault in a fault (lru_gen_in_fault:
   * workingset_activate/restore too). Returns its pfn, or -1 when none could be had. The
   * caller counts pgmajfault and maps it.
   */
  faultRead(f: FileCache, idx: number, memcg: Memcg, cpuNid: number, now: number): number {
    this.completeUpTo(now);
    const pfn = this.addPage(f, idx, memcg, cpuNid, now, false, true);
    if (pfn >= 0) this.c.ev[V.pgpgin]! += 4;
    return pfn;
  }

  /**
   * A write through a shared file mapping to the clean cached page at pfn (wp_page_shared /
   * do_shared_fault → fault_dirty_shared_page): folio_mark_dirty, then
   * balance_dirty_pages_ratelimited every RATELIMIT_PAGES pages so dirtied. Returns the
   * throttle pause, ms (summed in wsim_dirty_throttle_ms; the access is not delayed).
   */
  dirtyMapped(pfn: number, now: number): number {
    this.completeUpTo(now);
    const f = this.fileOf(pfn)!;
    if (!this.dirty(f, pfn, now)) return 0;
    if (++this.mapDirtied < RATELIMIT_PAGES) return 0;
    const n = this.mapDirtied;
    this.mapDirtied = 0;
    return this.balance(n, now);
  }

  /** Is the cached page at pfn dirty or under writeback (shrink_folio_list would not drop it now)? */
  busy(pfn: number): boolean {
    this.completeUpTo(this.c.now());
    return (this.c.pages.flags[pfn]! & PG_DIRTY) !== 0 || (this.pcf[pfn]! & PC_WRITEBACK) !== 0;
  }

  /** A new cache page at f[idx] (__filemap_add_folio + folio_add_lru); -1 when none could be had. */
  private addPage(f: FileCache, idx: number, memcg: Memcg | null, cpuNid: number, now: number, write: boolean, fault: boolean): number {
    const { alloc, lru, shadows, pages, ownerMm, ownerVpn } = this.c;
    const pfn = alloc.allocPages(0, MT_MOVABLE, GFP_HIGHUSER_MOVABLE, cpuNid, cpuNid);
    if (pfn < 0) return -1;
    const mc = memcg ?? this.c.rootMemcg();
    const lv = mc.lruvecs[alloc.lastZone!.nid]!;
    f.reserve(idx);
    const old = f.ents[idx]!; // read after the allocation: its reclaim may have evicted this file
    pages.flags[pfn] = (pages.flags[pfn]! & ~(PG_ANON | PG_ACCESSED | PG_DIRTY)) | PG_LRU;
    pages.mflags[pfn] = 0;
    this.pcf[pfn] = 0;
    ownerMm[pfn] = -(f.id + 1);
    ownerVpn[pfn] = idx;
    f.ents[idx] = pfn + 1;
    f.nrPages++;
    this.nrPages++;
    lru.addInactive(lv, pfn);
    if (old < 0) {
      const sh = -old - 1;
      const from = lru.lruvecs[shadows.lruvec[sh]!];
      const token = shadows.token[sh]!;
      shadows.free(sh);
      // a write creates its page with __GFP_WRITE: no refault is registered (§7.1)
      if (!write && from) this.c.onRefault(from, lv, token, now, pfn, fault);
    }
    return pfn;
  }

  /** Drops the cached page at pfn (truncate / delete): off the LRU, its dirty state cancelled, freed. */
  private dropPage(f: FileCache, idx: number, pfn: number): void {
    const { alloc, lru, pages, ownerMm } = this.c;
    // truncate_pagecache: unmap_mapping_range first, every mapping of the page goes
    if (pages.mflags[pfn]! & PG_FILE_MAPPED) this.unmap!(pfn);
    if (this.pcf[pfn]! & PC_WRITEBACK) this.completePage(pfn, true); // truncate waits for writeback
    if (pages.flags[pfn]! & PG_DIRTY) {
      // folio_cancel_dirty → folio_account_cleaned: nr_dirty drops, nothing written
      f.nrDirty--;
      this.nrDirty--;
    }
    lru.del(pfn);
    pages.flags[pfn]! &= ~(PG_LRU | PG_DIRTY | PG_ACCESSED);
    this.pcf[pfn] = 0;
    ownerMm[pfn] = 0;
    f.ents[idx] = 0;
    f.nrPages--;
    this.nrPages--;
    alloc.freePages(pfn, 0);
  }

  /**
   * truncate_inode_pages_range from byte `size` on (ftruncate to `size` bytes): every page whose
   * index is at or past ceil(size / 4096) goes, with the shadows there. Returns pages freed.
   */
  truncate(name: string, size: number, now: number): number {
    this.completeUpTo(now);
    const f = this.file(name);
    if (f === undefined) return 0;
    return this.truncateFile(f, size);
  }

  private truncateFile(f: FileCache, size: number): number {
    const from = Math.ceil(size / PAGE);
    let freed = 0;
    for (let idx = from; idx < f.ents.length; idx++) {
      const e = f.ents[idx]!;
      if (e > 0) {
        this.dropPage(f, idx, e - 1);
        freed++;
      } else if (e < 0) {
        this.c.shadows.free(-e - 1);
        f.ents[idx] = 0;
      }
    }
    if (f.nrDirty === 0) f.dirtiedWhen = -1;
    if (f.prevPos > size) f.prevPos = -1;
    return freed;
  }

  /**
   * unlink of the last link: the name is forgotten; the inode goes (iput → evict →
   * truncate_inode_pages_final: every page and shadow) now, or, while a mapping holds the file
   * (vma->vm_file), when the last one goes (unref). Returns the pages freed now.
   */
  delete(name: string, now: number): number {
    const f = this.file(name);
    if (f === undefined) return 0;
    this.byName.delete(name);
    if (f.mapRefs > 0) {
      f.unlinked = true;
      return 0;
    }
    this.completeUpTo(now);
    const freed = this.truncateFile(f, 0);
    this.files[f.id] = undefined;
    return freed;
  }

  /**
   * A mapping of f went (remove_vma → fput): the last one of an unlinked file evicts the inode,
   * its pages and shadows with it. Returns the pages freed.
   */
  unref(f: FileCache): number {
    if (--f.mapRefs > 0 || !f.unlinked) return 0;
    this.completeUpTo(this.c.now());
    const freed = this.truncateFile(f, 0);
    this.files[f.id] = undefined;
    return freed;
  }

  /**
   * vfs_fsync → filemap_write_and_wait_range: every dirty page of the file is written back and
   * waited for. Returns the wait in ms (the last page's completion less now; 0 if nothing was dirty).
   */
  fsync(name: string, now: number): number {
    this.completeUpTo(now);
    const f = this.file(name);
    if (f === undefined || f.nrDirty === 0) return 0;
    this.writebackFile(f, Infinity, now);
    const end = this.wbBusyUntil;
    // the caller waits for its pages: they complete (with everything queued before them)
    this.completeUpTo(end);
    return end - now;
  }

  /** __folio_start_writeback of the dirty pages of f, lowest index first, at most `max`. Returns pages started. */
  private writebackFile(f: FileCache, max: number, now: number): number {
    const flags = this.c.pages.flags;
    const cost = this.c.ioWriteNs() / 1e6;
    let n = 0;
    for (let idx = 0; idx < f.ents.length && f.nrDirty > 0 && n < max; idx++) {
      const e = f.ents[idx]!;
      if (e <= 0) continue;
      const pfn = e - 1;
      if (!(flags[pfn]! & PG_DIRTY)) continue;
      // folio_clear_dirty_for_io, __folio_start_writeback
      flags[pfn]! &= ~PG_DIRTY;
      f.nrDirty--;
      this.nrDirty--;
      this.pcf[pfn]! |= PC_WRITEBACK;
      const done = Math.max(now, this.wbBusyUntil) + cost;
      this.wbBusyUntil = done;
      this.push(pfn, done);
      n++;
    }
    if (f.nrDirty === 0) f.dirtiedWhen = -1;
    return n;
  }

  private push(pfn: number, done: number): void {
    if (this.wbTail === this.wbPfn.length) {
      // compact, then grow if still full
      const live = this.wbTail - this.wbHead;
      const n = live * 2 > this.wbPfn.length ? this.wbPfn.length * 2 : this.wbPfn.length;
      const p = new Int32Array(n);
      const d = new Float64Array(n);
      p.set(this.wbPfn.subarray(this.wbHead, this.wbTail));
      d.set(this.wbDone.subarray(this.wbHead, this.wbTail));
      this.wbPfn = p;
      this.wbDone = d;
      this.wbHead = 0;
      this.wbTail = live;
    }
    this.wbPfn[this.wbTail] = pfn;
    this.wbDone[this.wbTail++] = done;
  }

  /** wb_start_background_writeback: the oldest-dirtied files first, until nr_dirty <= bgThresh. */
  private backgroundWriteback(bgThresh: number, now: number): void {
    while (this.nrDirty > bgThresh) {
      const f = this.oldestDirty();
      if (f === undefined) return;
      this.writebackFile(f, this.nrDirty - bgThresh, now);
    }
  }

  private oldestDirty(): FileCache | undefined {
    let best: FileCache | undefined;
    for (const f of this.files)
      if (f !== undefined && f.nrDirty > 0 && (best === undefined || f.dirtiedWhen < best.dirtiedWhen)) best = f;
    return best;
  }

  /** __folio_end_writeback of every page whose I/O is done by `t`, in completion order. */
  completeUpTo(t: number): void {
    while (this.wbHead < this.wbTail && this.wbDone[this.wbHead]! <= t) this.completePage(this.wbPfn[this.wbHead++]!, false);
    if (this.wbHead === this.wbTail) this.wbHead = this.wbTail = 0;
  }

  /** One page's writeback ends: nr_written, pgpgout; PG_reclaim rotates it (folio_rotate_reclaimable). */
  private completePage(pfn: number, early: boolean): void {
    if (!(this.pcf[pfn]! & PC_WRITEBACK)) return; // completed early (truncate) or freed
    this.pcf[pfn]! &= ~PC_WRITEBACK;
    this.written++;
    this.c.ev[V.nr_written]!++;
    this.c.ev[V.pgpgout]! += 4;
    if (early) return;
    if (this.pcf[pfn]! & PC_RECLAIM) {
      this.pcf[pfn]! &= ~PC_RECLAIM;
      if (!(this.c.pages.flags[pfn]! & PG_DIRTY)) {
        // lru_move_tail_fn: lruvec_add_folio_tail → the oldest generation's tail
        const lru = this.c.lru;
        const lv = lru.lruvecOfPfn(pfn);
        if (lv !== undefined) {
          lru.move(lv, pfn, lv.minSeq[FILE]!, false);
          this.c.ev[V.pgrotated]!++;
        }
      }
    }
  }

  /** nr_writeback at time t: pages started and not yet done. */
  nrWriteback(t: number): number {
    let n = 0;
    for (let k = this.wbTail - 1; k >= this.wbHead && this.wbDone[k]! > t; k--) n++;
    return n;
  }

  /** nr_written at time t beyond the counter: pages done by t whose completion is not applied yet. */
  pendingWritten(t: number): number {
    let n = 0;
    for (let k = this.wbHead; k < this.wbTail && this.wbDone[k]! <= t; k++) n++;
    return n;
  }

  /**
   * sort_folio for a page-cache page of the oldest file generation: dirty or under writeback, it
   * goes to min_seq + 1 (the head) with PG_reclaim (folio_inc_gen with reclaiming) and true is
   * returned (pgrefill); else false (the caller scans it).
   */
  sortFolio(lv: Lruvec, pfn: number): boolean {
    if (this.c.ownerMm[pfn]! >= 0) return false;
    this.completeUpTo(this.c.now());
    if (!(this.c.pages.flags[pfn]! & PG_DIRTY) && !(this.pcf[pfn]! & PC_WRITEBACK)) return false;
    const lru = this.c.lru;
    lru.move(lv, pfn, lv.minSeq[FILE]! + 1);
    this.pcf[pfn] = (this.pcf[pfn]! & ~(PC_REFERENCED | PC_WORKINGSET | PC_REFS_MASK)) | PC_RECLAIM;
    this.c.ev[V.pgrefill]!++;
    return true;
  }

  /** Reclaim dropped the clean page at pfn: its index entry becomes the shadow `shadow`. The caller frees it. */
  evicted(pfn: number, shadow: number): void {
    const f = this.fileOf(pfn)!;
    const idx = this.c.ownerVpn[pfn]!;
    // the two-list LRU's pageout (and MADV_PAGEOUT) may take a dirty page: written as it goes
    if (this.pcf[pfn]! & PC_WRITEBACK) this.completePage(pfn, true);
    if (this.c.pages.flags[pfn]! & PG_DIRTY) {
      f.nrDirty--;
      this.nrDirty--;
      if (f.nrDirty === 0) f.dirtiedWhen = -1;
    }
    f.ents[idx] = -(shadow + 1);
    f.nrPages--;
    this.nrPages--;
    this.pcf[pfn] = 0;
    this.c.ownerMm[pfn] = 0;
  }

  /** Migration moved the page at src to dst: the index follows (folio_migrate_mapping), with its flags. */
  remap(src: number, dst: number): void {
    const f = this.fileOf(src)!;
    f.ents[this.c.ownerVpn[src]!] = dst + 1;
    this.pcf[dst] = this.pcf[src]!;
    this.pcf[src] = 0;
    if (this.pcf[dst]! & PC_WRITEBACK)
      for (let k = this.wbHead; k < this.wbTail; k++) if (this.wbPfn[k] === src) this.wbPfn[k] = dst;
  }

  /** wb_wakeup_delayed: the flusher's next run, dirty_writeback_centisecs from now (once armed, it re-arms while dirty). */
  private armFlusher(): void {
    if (this.flusherArmed || this.ctx === null) return;
    const cs = this.c.dirtyWritebackCs();
    if (cs === 0) return; // periodic writeback off
    this.flusherArmed = true;
    const ctx = this.ctx;
    ctx.schedule(cs * 10, () => this.flusherTick(), () => this.quietUntil());
  }

  /** the time before which a flusher tick changes nothing: the next completion or expiry */
  private quietUntil(): number {
    let q = Infinity;
    if (this.wbHead < this.wbTail) q = this.wbDone[this.wbHead]!;
    const expire = this.c.dirtyExpireCs() * 10;
    for (const f of this.files) if (f !== undefined && f.dirtiedWhen >= 0) q = Math.min(q, f.dirtiedWhen + expire);
    return q;
  }

  /**
   * wb_workfn of the periodic wake-up: wb_check_old_data_flush (every file dirtied more than
   * dirty_expire_centisecs ago is written back, oldest first) and wb_check_background_flush;
   * re-armed while pages are dirty or under writeback.
   */
  private flusherTick(): void {
    this.flusherArmed = false;
    const now = this.c.now();
    this.completeUpTo(now);
    const expire = this.c.dirtyExpireCs() * 10;
    for (;;) {
      const f = this.oldestDirty();
      if (f === undefined || f.dirtiedWhen > now - expire) break;
      this.writebackFile(f, Infinity, now);
    }
    const { bgThresh } = this.thresholds();
    if (this.nrDirty > bgThresh) this.backgroundWriteback(bgThresh, now);
    if (this.nrDirty > 0 || this.wbHead < this.wbTail) this.armFlusher();
  }

  /**
   * --check: every index entry and its page agree (rmap, allocated, on an LRU list), the counts
   * (cached, dirty per file and in all) hold. Returns the cached pages and the shadow entries
   * the indexes hold (the LRU and shadow totals include them), or a message.
   */
  check(lruvecOf: Int32Array): { cached: number; shadows: number } | string {
    const { pages, ownerMm, ownerVpn } = this.c;
    let cached = 0;
    let shadows = 0;
    let dirty = 0;
    let mapped = 0;
    for (const f of this.files) {
      if (f === undefined) continue;
      let n = 0;
      let d = 0;
      for (let idx = 0; idx < f.ents.length; idx++) {
        const e = f.ents[idx]!;
        if (e < 0) shadows++;
        if (e <= 0) continue;
        const pfn = e - 1;
        if (ownerMm[pfn] !== -(f.id + 1) || ownerVpn[pfn] !== idx)
          return `file ${f.name} index ${idx} holds pfn ${pfn}, whose rmap says owner ${ownerMm[pfn]} index ${ownerVpn[pfn]}`;
        if (!(pages.flags[pfn]! & 4)) return `file ${f.name} index ${idx} holds pfn ${pfn}, which is free`;
        if (!lruvecOf[pfn]) return `file ${f.name}: cached pfn ${pfn} is on no LRU list`;
        n++;
        if (pages.flags[pfn]! & PG_DIRTY) d++;
        if (pages.mflags[pfn]! & PG_FILE_MAPPED) mapped++;
      }
      if (n !== f.nrPages) return `file ${f.name} counts ${f.nrPages} cached pages but its index holds ${n}`;
      if (d !== f.nrDirty) return `file ${f.name} counts ${f.nrDirty} dirty pages but holds ${d}`;
      cached += n;
      dirty += d;
    }
    if (cached !== this.nrPages) return `the page cache counts ${this.nrPages} pages but the files hold ${cached}`;
    if (dirty !== this.nrDirty) return `nr_dirty is ${this.nrDirty} but the files hold ${dirty} dirty pages`;
    if (mapped !== this.nrMapped) return `the page cache counts ${this.nrMapped} mapped pages but ${mapped} are PG_FILE_MAPPED`;
    return { cached, shadows };
  }

  /** Fills the gauges of a vmstat snapshot at time t (nr_dirty, nr_writeback, thresholds are not printed: see README). */
  gauges(v: Float64Array, t: number): void {
    v[V.nr_dirty] = this.nrDirty;
    const wb = this.nrWriteback(t);
    v[V.nr_writeback] = wb;
    v[V.nr_zone_write_pending] = this.nrDirty + wb;
    v[V.nr_written]! += this.pendingWritten(t);
    v[V.pgpgout]! += 4 * this.pendingWritten(t);
  }
}
