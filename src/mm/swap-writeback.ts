/**
 * Anon pages under swap writeback (mm/vmscan.c pageout → swap_writepage → __swap_writepage,
 * mm/page_io.c end_swap_bio_write → folio_end_writeback, 6.1): the write reclaim starts is
 * asynchronous. shrink_folio_list has put the folio in the swap cache (add_to_swap), unmapped it
 * (try_to_unmap) and submitted its bio with PG_writeback and PG_reclaim set; the folio is not
 * freed but put back on the LRU (lru_gen_add_folio: min_seq + 1, reclaiming with writeback).
 * The swap device completes pages one after another, each taking cost.io_write_ns of virtual
 * time (one FIFO queue of its own: the swap device is not the page cache's data disk). At its
 * completion __folio_end_writeback counts nr_written and, if PG_reclaim is still set, clears it
 * and rotates the folio to the tail of its type's oldest generation (folio_rotate_reclaimable →
 * lru_move_tail_fn, pgrotated), where a later scan frees it (__remove_mapping).
 *
 * Completions are applied lazily, in completion order, whenever reclaim, aging or a fault looks
 * at the pages (completeUpTo); nr_writeback as printed is that of the virtual time asked for.
 * A page freed while under writeback (munmap, exit) leaves the queue as if its I/O had ended
 * (its completion is counted then, with no rotation), as the page cache's truncate does.
 *
 * Per-pfn state is one byte (SWB_*), the queue two growable typed arrays: nothing allocated per
 * page on the hot path.
 */
import { V } from "../stats/counters.js";
import type { LruGen } from "./lru-gen.js";
import { ANON } from "./lru-gen.js";

/** PG_writeback of an anon page (its swap write in flight) */
export const SWB_WRITEBACK = 1;
/**
 * PG_reclaim, which is PG_readahead's bit (include/linux/page-flags.h): on a page under
 * writeback, reclaim wants it when its writeback ends; on a swap cache page read ahead
 * (swap_vma_readahead's SetPageReadahead), not mapped since
 */
export const SWB_RECLAIM = 2;

export interface SwapWritebackContext {
  lru: LruGen;
  ev: Float64Array;
  /** cost.io_write_ns: one 4 KiB page written to the swap device */
  ioWriteNs: () => number;
  now: () => number;
}

/** The swap device's write queue and each page's writeback state. */
export class SwapWriteback {
  /**
   * SWB_* per pfn: empty until the first swap write or readahead (then one byte per pfn), so a
   * run that never swaps allocates nothing; reads past the end are 0 (undefined & flag)
   */
  flags: Uint8Array = new Uint8Array(0);
  private qPfn = new Int32Array(256);
  private qDone = new Float64Array(256);
  private head = 0;
  private tail = 0;
  /** the swap device is busy until (ms) */
  private busyUntil = 0;
  /** pages with SWB_WRITEBACK set (started, completion not applied yet) */
  inFlight = 0;

  /** `nrPages`: the pfn space (PageArrays.nrPages). */
  constructor(private readonly nrPages: number, private readonly c: SwapWritebackContext) {}

  private ensureFlags(): void {
    if (this.flags.length === 0) this.flags = new Uint8Array(this.nrPages);
  }

  /** Is the page at pfn under writeback (its completion not applied: call completeUpTo first)? */
  writeback(pfn: number): boolean {
    return this.flags.length !== 0 && (this.flags[pfn]! & SWB_WRITEBACK) !== 0;
  }

  /**
   * __swap_writepage of the page at pfn at virtual time `now` (ms): folio_set_reclaim, then
   * __folio_start_writeback; its I/O ends cost.io_write_ns after the device's previous one
   * (or after now, if the device is idle). Returns that completion time, ms.
   */
  start(pfn: number, now: number): number {
    this.ensureFlags();
    this.flags[pfn] = SWB_WRITEBACK | SWB_RECLAIM;
    this.inFlight++;
    const done = Math.max(now, this.busyUntil) + this.c.ioWriteNs() / 1e6;
    this.busyUntil = done;
    if (this.tail === this.qPfn.length) this.grow();
    this.qPfn[this.tail] = pfn;
    this.qDone[this.tail++] = done;
    return done;
  }

  private grow(): void {
    const live = this.tail - this.head;
    const n = live * 2 > this.qPfn.length ? this.qPfn.length * 2 : this.qPfn.length;
    const p = new Int32Array(n);
    const d = new Float64Array(n);
    p.set(this.qPfn.subarray(this.head, this.tail));
    d.set(this.qDone.subarray(this.head, this.tail));
    this.qPfn = p;
    this.qDone = d;
    this.head = 0;
    this.tail = live;
  }

  /** sort_folio met the page under writeback: PG_reclaim set (folio_inc_gen with reclaiming). */
  markReclaim(pfn: number): void {
    this.ensureFlags();
    this.flags[pfn]! |= SWB_RECLAIM;
  }

  /**
   * swap_cache_get_folio's folio_test_clear_readahead on a page under writeback: PG_readahead is
   * PG_reclaim's bit. Returns whether it was set (the fault then counts swap_ra_hit).
   */
  testClearReclaim(pfn: number): boolean {
    if (this.flags.length === 0) return false;
    const f = this.flags[pfn]!;
    this.flags[pfn] = f & ~SWB_RECLAIM;
    return (f & SWB_RECLAIM) !== 0;
  }

  /** folio_end_writeback of every page whose I/O is done by `t` (ms), in completion order. */
  completeUpTo(t: number): void {
    while (this.head < this.tail && this.qDone[this.head]! <= t) this.complete(this.qPfn[this.head++]!, true);
    if (this.head === this.tail) this.head = this.tail = 0;
  }

  /**
   * __folio_end_writeback (nr_written) of the page at pfn; with `rotate`, PG_reclaim set and the
   * page on an LRU list: folio_rotate_reclaimable to the oldest anon generation's tail (pgrotated).
   */
  private complete(pfn: number, rotate: boolean): void {
    const f = this.flags[pfn]!;
    if (!(f & SWB_WRITEBACK)) return; // freed meanwhile: counted then
    this.flags[pfn] = 0;
    this.inFlight--;
    this.c.ev[V.nr_written]!++;
    if (!rotate || !(f & SWB_RECLAIM)) return;
    const lru = this.c.lru;
    const lv = lru.lruvecOfPfn(pfn);
    // folio_rotate_reclaimable: not on the unevictable list (lruvecOfPfn: on an LRU list at all)
    if (lv === undefined || lru.typeOf(pfn) !== ANON || lru.classic) return;
    // lru_move_tail_fn → lruvec_add_folio_tail → lru_gen_add_folio: min_seq, at the tail
    lru.move(lv, pfn, lv.minSeq[ANON]!, false);
    this.c.ev[V.pgrotated]!++;
  }

  /** swap_vma_readahead's SetPageReadahead on a page read ahead into the swap cache */
  markReadahead(pfn: number): void {
    this.ensureFlags();
    this.flags[pfn]! |= SWB_RECLAIM;
  }

  /** The page at pfn is freed (page allocator's free): its writeback, if any, ends now without rotation. */
  freed(pfn: number): void {
    if (this.flags.length === 0) return;
    this.complete(pfn, false);
    this.flags[pfn] = 0;
  }

  /** Migration moved the page at src to dst: its state and queue entry follow. */
  remap(src: number, dst: number): void {
    if (this.flags.length === 0) return;
    const f = this.flags[src]!;
    if (!f) return;
    this.flags[dst] = f;
    this.flags[src] = 0;
    for (let k = this.head; k < this.tail; k++) if (this.qPfn[k] === src) this.qPfn[k] = dst;
  }

  /** nr_writeback of swap writes at time t (ms): started and not done by t. */
  nrWriteback(t: number): number {
    let n = 0;
    for (let k = this.tail - 1; k >= this.head && this.qDone[k]! > t; k--) if (this.flags[this.qPfn[k]!]! & SWB_WRITEBACK) n++;
    return n;
  }

  /** nr_written at time t beyond the counter: pages done by t whose completion is not applied yet. */
  pendingWritten(t: number): number {
    let n = 0;
    for (let k = this.head; k < this.tail && this.qDone[k]! <= t; k++) if (this.flags[this.qPfn[k]!]! & SWB_WRITEBACK) n++;
    return n;
  }

  /**
   * --check: every page with a SWB_* flag is an allocated anon page; every one under writeback
   * is on an LRU list and queued once, and inFlight counts them. `allocated(pfn)` and `anon(pfn)` read the page flags. Returns a
   * message, or null.
   */
  check(allocated: (pfn: number) => boolean, anon: (pfn: number) => boolean): string | null {
    const queued = new Set<number>();
    for (let k = this.head; k < this.tail; k++) {
      const pfn = this.qPfn[k]!;
      if (!(this.flags[pfn]! & SWB_WRITEBACK)) continue;
      if (queued.has(pfn)) return `pfn ${pfn} is queued twice for swap writeback`;
      queued.add(pfn);
    }
    let n = 0;
    for (let pfn = 0; pfn < this.flags.length; pfn++) {
      if (!this.flags[pfn]) continue;
      if (!allocated(pfn) || !anon(pfn)) return `pfn ${pfn} has PG_writeback or PG_reclaim (of swap) but is not an allocated anon page`;
      if (!(this.flags[pfn]! & SWB_WRITEBACK)) continue;
      n++;
      if (!this.c.lru.lruvecOf[pfn]) return `pfn ${pfn} is under swap writeback but on no LRU list`;
      if (!queued.has(pfn)) return `pfn ${pfn} is under swap writeback but not in the device's queue`;
    }
    if (n !== this.inFlight) return `${this.inFlight} pages counted under swap writeback but ${n} flagged`;
    return null;
  }
}
