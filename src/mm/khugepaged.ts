/**
 * khugepaged (mm/khugepaged.c, 6.1) on the virtual clock, and the anon collapse it shares with
 * MADV_COLLAPSE (madvise.ts): hpage_collapse_scan_pmd, then collapse_huge_page.
 *
 * Registration (__khugepaged_enter, MMF_VM_HUGEPAGE): an mm joins the tail of the scan list
 * (mm_head) when khugepaged_enter_vma finds one of its regions eligible: at a huge page fault
 * (do_huge_pmd_anonymous_page, after anon_vma_prepare) and at MADV_HUGEPAGE (hugepage_madvise,
 * a region already faulted in); a child of a registered mm at fork (khugepaged_fork). The
 * first mm on an empty list wakes the thread. An mm leaves the list at exit
 * (__khugepaged_exit), or, when the scan cursor is on it, when khugepaged next visits it
 * (collect_mm_slot).
 *
 * The thread: khugepaged_do_scan (up to pages_to_scan of progress: 1 per mm visited, 1 per
 * region skipped, HPAGE_PMD_NR per 2 MiB range scanned; at most two passes through the list
 * head), then khugepaged_wait_work: scan_sleep_millisecs while the list is not empty, else an
 * untimed wait for a registration. A huge page allocation that fails (thp_collapse_alloc_failed)
 * makes do_scan sleep alloc_sleep_millisecs and go on; a second failure in the same do_scan ends
 * it. Writing scan_sleep_millisecs or alloc_sleep_millisecs cuts the current sleep short.
 * transparent_hugepage.enabled=never stops the thread (start_stop_khugepaged); always or madvise
 * starts it again.
 *
 * hugepage_vma_check (enforce_sysfs): an anon region with an anon_vma (faulted in), not
 * VM_NOHUGEPAGE, holding at least one aligned 2 MiB range, and THP always, or madvise with
 * VM_HUGEPAGE (thp=1). File regions are never collapsed (no shmem, no
 * CONFIG_READ_ONLY_THP_FOR_FS), nor pages mapped outside every region (wsim's implicit maps).
 *
 * wsim simplifications (docs/khugepaged.md): a range holding a page several mms map (after
 * fork) is not collapsed even within max_ptes_shared (wsim does not collapse COW pages), nor,
 * by khugepaged, one holding a page read ahead into the swap cache; young is the page's
 * accessed bit (PG_ACCESSED) or PG_referenced; swap entries up to max_ptes_swap are swapped in
 * by the collapse (pswpin, pgmajfault) as MADV_COLLAPSE does; the new huge page is not charged
 * to the memcg (no memory.max check); after the allocation the range is scanned again
 * (collapse_huge_page's revalidation and __collapse_huge_page_isolate) and the huge page freed
 * if it no longer qualifies.
 *
 * Busy time (issue 16 item 2, BusyWindow): a do_scan's work costs virtual time, charged when it
 * ends (or when an alloc sleep interrupts it): each 2 MiB range whose PTE table
 * hpage_collapse_scan_pmd reads (not SCAN_PMD_NONE, not SCAN_PMD_MAPPED: those return at the
 * PMD) × HPAGE_PMD_NR × cost.compact_scan_ns (a walk that stops early counts whole) + each collapse ×
 * HPAGE_PMD_NR × cost.migrate_ns (__collapse_huge_page_copy copies or clears every subpage, one
 * page's copy each; cost.zero_thp_ns is not added, the huge page is not cleared first). The
 * sleep after it starts at its end, in whole jiffies (BusyWindow.waitDelay); a registration or a
 * sleep knob written while it works takes effect at its end. khugepaged runs at MAX_NICE and
 * stalls nobody: the time is its own (wsim_khugepaged_busy_ms); its allocation's reclaim and
 * compaction count as any allocation's.
 * scan_sleep_millisecs 0 is taken as 1 ms (the kernel loops at once; wsim's clock must move).
 */
import type { Daemon, EngineContext, SteadyAdvance, SteadyPlan } from "../engine/daemon.js";
import type { Timer } from "../engine/event-queue.js";
import { BusyWindow, JIFFY_SAFE_BELOW, JIFFY_SAFE_NS, type ScanMigrateCosts } from "../engine/busy.js";
import { V } from "../stats/counters.js";
import { MT_MOVABLE } from "./constants.js";
import type { LruGen } from "./lru-gen.js";
import { PG_ACCESSED, PG_ANON, PG_ANON_SHARED, PG_DIRTY, PG_HEAD, PG_LRU, PG_MLOCKED, PG_REFERENCED, type PageArrays } from "./pages.js";
import { HPAGE_PMD_NR, HPAGE_PMD_ORDER, type Mm, type ProcessTable, thpGfp, type Vma } from "./process.js";

const LEAF = 512;
const COUNT = 512;

// enum scan_result (mm/khugepaged.c), those wsim returns
export const SCAN_FAIL = 0;
export const SCAN_SUCCEED = 1;
export const SCAN_PMD_NONE = 3;
export const SCAN_PMD_MAPPED = 4;
export const SCAN_EXCEED_NONE_PTE = 5;
export const SCAN_EXCEED_SWAP_PTE = 6;
export const SCAN_EXCEED_SHARED_PTE = 7;
export const SCAN_PTE_NON_PRESENT = 8;
export const SCAN_PAGE_RO = 10;
export const SCAN_LACK_REFERENCED_PAGE = 11;
export const SCAN_ANY_PROCESS = 17;
export const SCAN_ALLOC_HUGE_PAGE_FAIL = 21;
/** wsim's own: a page several mms map, within max_ptes_shared (wsim does not collapse COW pages) */
export const SCAN_WSIM_SHARED = 100;

/** struct collapse_control, with the sysfs limits khugepaged reads. */
export interface CollapseControl {
  isKhugepaged: boolean;
  maxPtesNone: number;
  maxPtesSwap: number;
  maxPtesShared: number;
  /** alloc_charge_hpage's gfp: GFP_TRANSHUGE, or GFP_TRANSHUGE_LIGHT for khugepaged with defrag 0 */
  gfp: number;
}

export interface CollapseContext {
  procs: ProcessTable;
  lru: LruGen;
  pages: PageArrays;
  ev: Float64Array;
  nrNodes: number;
}

/** GFP_TRANSHUGE (direct reclaim and compaction, no kswapd wake) and GFP_TRANSHUGE_LIGHT (neither). */
export const GFP_TRANSHUGE = thpGfp("always", true);
export const GFP_TRANSHUGE_LIGHT = thpGfp("never", false);

/** The anon collapse of one 2 MiB range, shared by khugepaged and MADV_COLLAPSE. */
export class HugeCollapse {
  /** cc->node_load of the last scan */
  private readonly nodeLoad: Int32Array;

  constructor(private readonly c: CollapseContext) {
    this.nodeLoad = new Int32Array(c.nrNodes);
  }

  /**
   * hpage_collapse_scan_pmd's verdict on the range at vpn `base` (2 MiB aligned) of mm, with no
   * side effect (the caller counts thp_scan_exceed_*): SCAN_PMD_NONE (no PTE table),
   * SCAN_PMD_MAPPED (already huge), SCAN_EXCEED_SWAP_PTE / _NONE_PTE / _SHARED_PTE (over
   * khugepaged's limits, counted in the kernel's PTE order), SCAN_PAGE_RO (no writable present
   * page), SCAN_LACK_REFERENCED_PAGE (khugepaged: no young page, or swap entries and fewer than
   * HPAGE_PMD_NR / 2 young), SCAN_WSIM_SHARED, SCAN_PTE_NON_PRESENT (khugepaged: a page read
   * ahead into the swap cache), else SCAN_SUCCEED with cc->node_load filled.
   */
  scanPmd(mm: Mm, base: number, cc: CollapseControl): number {
    const leaf = mm.leaf(base / LEAF);
    if (leaf === undefined) return SCAN_PMD_NONE; // find_pmd_or_thp_or_none
    const procs = this.c.procs;
    if (leaf[0]! > 0 && procs.hugeHead(leaf[0]! - 1) >= 0) return SCAN_PMD_MAPPED;
    const { flags, mflags } = this.c.pages;
    const load = this.nodeLoad;
    load.fill(0);
    const alloc = procs.ctx.alloc;
    const swapSlot = procs.swapSlot;
    const rmap = procs.rmapShared;
    const k = cc.isKhugepaged;
    let unmapped = 0;
    let none = 0;
    let shared = 0;
    let referenced = 0;
    let writable = false;
    for (let s = 0; s < LEAF; s++) {
      const pte = leaf[s]!;
      if (pte < 0) {
        if (k && ++unmapped > cc.maxPtesSwap) return SCAN_EXCEED_SWAP_PTE;
        continue;
      }
      if (pte === 0) {
        if (k && ++none > cc.maxPtesNone) return SCAN_EXCEED_NONE_PTE;
        continue;
      }
      const pfn = pte - 1;
      if (k && swapSlot !== null && swapSlot[pfn] !== 0) return SCAN_PTE_NON_PRESENT;
      // pte_write: a COW page write-protected by fork is not
      if (!(mflags[pfn]! & PG_ANON_SHARED)) writable = true;
      if (rmap.size !== 0 && rmap.has(pfn) && ++shared > cc.maxPtesShared && k) return SCAN_EXCEED_SHARED_PTE;
      load[alloc.zoneOf(pfn).nid]!++;
      if (k && (flags[pfn]! & PG_ACCESSED || mflags[pfn]! & PG_REFERENCED)) referenced++;
    }
    if (!writable) return SCAN_PAGE_RO;
    if (k && (!referenced || (unmapped && referenced < HPAGE_PMD_NR / 2))) return SCAN_LACK_REFERENCED_PAGE;
    if (shared) return SCAN_WSIM_SHARED;
    return SCAN_SUCCEED;
  }

  /** The thp_scan_exceed_* event a scan result counts, or -1. */
  static exceedCounter(result: number): number {
    switch (result) {
      case SCAN_EXCEED_NONE_PTE:
        return V.thp_scan_exceed_none_pte!;
      case SCAN_EXCEED_SWAP_PTE:
        return V.thp_scan_exceed_swap_pte!;
      case SCAN_EXCEED_SHARED_PTE:
        return V.thp_scan_exceed_share_pte!;
    }
    return -1;
  }

  /**
   * collapse_huge_page of the range at vpn `base` of mm in region vma (undefined: outside
   * every region, MADV_COLLAPSE only), right after a scanPmd that returned SCAN_SUCCEED:
   * alloc_charge_hpage (hpage_collapse_find_target_node: the first node with the most of the
   * range's pages; an order-9 allocation with cc.gfp: thp_collapse_alloc, or
   * thp_collapse_alloc_failed and SCAN_ALLOC_HUGE_PAGE_FAIL), the range scanned again (it may
   * have changed while the allocation reclaimed or compacted: the huge page is freed and that
   * result returned), then __collapse_huge_page_swapin (each swap entry read back: pswpin,
   * pgmajfault), __collapse_huge_page_copy (each small page copied with its young bit and last
   * access, unmapped and freed; an empty PTE becomes a zeroed page, rss + 1) and the PMD set:
   * the huge page joins the LRU inactive (the unevictable list in a VM_LOCKED region).
   */
  collapse(mm: Mm, vma: Vma | undefined, base: number, cc: CollapseControl, cpuNid: number, now: number): number {
    const { procs, pages, lru, ev } = this.c;
    const alloc = procs.ctx.alloc;
    const { ownerMm, ownerVpn, lastAccess } = procs.ctx;
    let node = 0;
    let most = 0;
    const load = this.nodeLoad;
    for (let nid = 0; nid < load.length; nid++) if (load[nid]! > most) [node, most] = [nid, load[nid]!];
    const hpage = alloc.allocPages(HPAGE_PMD_ORDER, MT_MOVABLE, cc.gfp, node, cpuNid);
    if (hpage < 0) {
      ev[V.thp_collapse_alloc_failed]!++;
      return SCAN_ALLOC_HUGE_PAGE_FAIL;
    }
    ev[V.thp_collapse_alloc]!++;
    const nid = alloc.lastZone!.nid;
    // hugepage_vma_revalidate, check_pmd_still_valid, __collapse_huge_page_isolate
    const again = mm.exited ? SCAN_ANY_PROCESS : this.scanPmd(mm, base, cc);
    if (again !== SCAN_SUCCEED) {
      alloc.freePages(hpage, HPAGE_PMD_ORDER);
      return again;
    }
    const leaf = mm.leaf(base / LEAF)!;
    const flags = pages.flags;
    for (let s = 0; s < LEAF; s++) {
      const pte = leaf[s]!;
      const q = hpage + s;
      flags[q]! |= PG_LRU | PG_ANON;
      pages.mflags[q] = 0;
      ownerMm[q] = mm.slot;
      ownerVpn[q] = base + s;
      if (pte > 0) {
        const old = pte - 1;
        if (flags[old]! & PG_ACCESSED) flags[q]! |= PG_ACCESSED;
        lastAccess[q] = lastAccess[old]!;
        if (pages.mflags[old]! & PG_MLOCKED) procs.munlockPage(old);
        lru.del(old);
        ownerMm[old] = 0;
        alloc.freePages(old, 0);
      } else {
        if (pte < 0) {
          // do_swap_page: a major fault reading the page back (no longer a swap entry)
          procs.releaseEntry(mm, -pte - 1);
          ev[V.pgmajfault]!++;
          ev[V.pgpgin]! += 4;
          ev[V.pswpin]!++;
        }
        lastAccess[q] = now;
        mm.rssAnon++;
        procs.nrAnon++;
      }
      leaf[s] = q + 1;
    }
    flags[hpage]! |= PG_DIRTY | PG_HEAD; // pmd_mkdirty
    leaf[COUNT] = HPAGE_PMD_NR;
    procs.nrThp++;
    const lv = mm.memcg.lruvecs[nid]!;
    if (vma !== undefined && vma.locked === true) procs.mlockNew(lv, hpage);
    else lru.addInactive(lv, hpage);
    return SCAN_SUCCEED;
  }
}

/** The transparent_hugepage.khugepaged.* knobs and what else khugepaged reads. */
export interface KhugepagedSettings {
  /** wsim.khugepaged: 0 = no khugepaged at all */
  on: () => boolean;
  enabled: () => "always" | "madvise" | "never";
  scanSleepMs: () => number;
  allocSleepMs: () => number;
  pagesToScan: () => number;
  maxPtesNone: () => number;
  maxPtesSwap: () => number;
  maxPtesShared: () => number;
  defrag: () => boolean;
  /** the CPU node khugepaged allocates from (the engine's first CPU node) */
  cpuNid: () => number;
}

/** khugepaged_do_scan's state, kept across an alloc sleep */
interface DoScan {
  pages: number;
  progress: number;
  passThroughHead: number;
  wait: boolean;
}

/** What a tick changes when it collapses nothing: the cursor and counters (steady state). */
interface DryTick {
  /** cursor after it: list index (-1: none) and address */
  idx: number;
  address: number;
  none: number;
  swap: number;
  share: number;
  fullScans: number;
  /** 2 MiB ranges whose PTE table was scanned (not SCAN_PMD_NONE / _MAPPED): its cost */
  ranges: number;
}

/** ticks a steady-state search simulates at most before giving up */
const MAX_DRY_TICKS = 100_000;

const STOPPED = 0;
/** wait_event: nothing on the list, no timer */
const WAITING = 1;
const SCAN_SLEEP = 2;
const ALLOC_SLEEP = 3;
/** woken, its run scheduled */
const RUNNING = 4;

export class Khugepaged implements Daemon {
  readonly name = "khugepaged";
  /** khugepaged_scan.mm_head, in registration order */
  readonly list: Mm[] = [];
  /** mms with MMF_VM_HUGEPAGE */
  private readonly registered = new Set<Mm>();
  /** khugepaged_scan.mm_slot and .address (a vpn) */
  cursor: Mm | null = null;
  address = 0;
  private ctx: EngineContext | null = null;
  private timer: Timer | null = null;
  private state = STOPPED;
  /** the do_scan an alloc sleep interrupted */
  private pending: DoScan | null = null;
  /** *result of the last khugepaged_scan_mm_slot */
  private result = SCAN_FAIL;
  /** virtual times of each do_scan (tests) */
  readonly scans: number[] = [];
  /** keep `scans` (tests) */
  keepLog = false;
  /**
   * Runs khugepaged's work (the engine: its direct reclaim and compaction are stalls of its own
   * task, not of the event before); null: run it as it is.
   */
  wrapWork: ((fn: () => void) => void) | null = null;
  /** the busy window of its do_scans (wsim_khugepaged_busy_ms) */
  readonly busy = new BusyWindow();
  /** ranges scanned and collapses since the last charge */
  private workRanges = 0;
  private workCollapsed = 0;

  /**
   * `costs`: cost.compact_scan_ns and cost.migrate_ns (null: the scans take no time, as
   * before issue 16 item 2; unit tests of the scan alone).
   */
  constructor(
    private readonly collapser: HugeCollapse,
    private readonly ev: Float64Array,
    private readonly s: KhugepagedSettings,
    private readonly costs: ScanMigrateCosts | null = null,
  ) {}

  /**
   * The work since the last charge at the cost.* tunables, charged to the busy window from
   * now; returns the delay until a timeout of `ms` whole jiffies started at its end.
   */
  private chargeWork(ms: number): number {
    const now = this.ctx!.now();
    if (this.costs !== null) {
      const ns = this.workRanges * HPAGE_PMD_NR * this.costs.compactScan() + this.workCollapsed * HPAGE_PMD_NR * this.costs.migrate();
      this.busy.charge(now, ns);
    }
    this.workRanges = 0;
    this.workCollapsed = 0;
    return this.busy.waitDelay(now, ms);
  }

  /** the delay to a wake-up's effect: at once, or at the end of the do_scan running now */
  private wakeDelay(): number {
    const now = this.ctx!.now();
    return this.busy.busyAt(now) ? this.busy.until - now : 0;
  }

  /** hugepage_flags_enabled, and wsim's switch */
  private on(): boolean {
    return this.s.on() && this.s.enabled() !== "never";
  }

  start(ctx: EngineContext): void {
    this.ctx = ctx;
    // hugepage_init -> start_stop_khugepaged: the thread's first do_scan finds an empty list
    this.state = this.on() ? WAITING : STOPPED;
  }

  private cc(): CollapseControl {
    const s = this.s;
    return {
      isKhugepaged: true, maxPtesNone: s.maxPtesNone(), maxPtesSwap: s.maxPtesSwap(), maxPtesShared: s.maxPtesShared(),
      gfp: s.defrag() ? GFP_TRANSHUGE : GFP_TRANSHUGE_LIGHT, // alloc_hugepage_khugepaged_gfpmask
    };
  }

  /**
   * hugepage_vma_check(vma, flags, smaps = false, in_pf = false, enforce_sysfs = true);
   * `thp`/`nohuge` override the region's VM_HUGEPAGE / VM_NOHUGEPAGE (hugepage_madvise's new flags).
   */
  vmaCheck(vma: Vma, thp = vma.thp, nohuge = vma.nohuge === true): boolean {
    if (nohuge || vma.file) return false;
    // transhuge_vma_suitable(vma, vm_end - HPAGE_PMD_SIZE)
    const haddr = Math.floor((vma.end - LEAF) / LEAF) * LEAF;
    if (haddr < vma.start || haddr + LEAF > vma.end) return false;
    const en = this.s.enabled();
    if (en === "never" || (en === "madvise" && !thp)) return false;
    return vma.anonVma !== undefined;
  }

  /** khugepaged_enter_vma: register mm if this region (with these flags) is eligible. */
  enterVma(mm: Mm, vma: Vma, thp = vma.thp, nohuge = vma.nohuge === true): void {
    if (!this.s.on() || this.registered.has(mm) || mm.exited || this.s.enabled() === "never") return;
    if (this.vmaCheck(vma, thp, nohuge)) this.enter(mm);
  }

  /** khugepaged_fork: the child of a registered mm is registered. */
  fork(parent: Mm, child: Mm): void {
    if (this.s.on() && this.registered.has(parent) && !child.exited) this.enter(child);
  }

  /** __khugepaged_enter: the list's tail; the first mm on an empty list wakes the thread. */
  private enter(mm: Mm): void {
    this.registered.add(mm);
    const wakeup = this.list.length === 0;
    this.list.push(mm);
    if (wakeup && this.state === WAITING) {
      // a do_scan still running finds the list non-empty as its wait starts
      this.state = RUNNING;
      this.timer = this.ctx!.schedule(this.wakeDelay(), () => this.run());
    }
  }

  /** __khugepaged_exit: off the list, unless the cursor is on it (collected at the next visit). */
  exit(mm: Mm): void {
    if (!this.registered.has(mm) || this.cursor === mm) return;
    this.registered.delete(mm);
    this.list.splice(this.list.indexOf(mm), 1);
  }

  /** Is mm on the scan list (MMF_VM_HUGEPAGE)? */
  isRegistered(mm: Mm): boolean {
    return this.registered.has(mm);
  }

  /** start_stop_khugepaged, after transparent_hugepage.enabled or wsim.khugepaged is written. */
  startStop(): void {
    if (!this.ctx) return;
    if (this.on()) {
      if (this.state !== STOPPED) return; // running: a wake_up changes nothing it waits for
      this.state = RUNNING;
      this.timer = this.ctx.schedule(0, () => this.run()); // kthread_run
      return;
    }
    if (this.state === STOPPED) return;
    // kthread_stop: the thread leaves its loop and drops the cursor (collect_mm_slot)
    if (this.timer) this.ctx.cancel(this.timer);
    this.timer = null;
    this.pending = null;
    this.state = STOPPED;
    const mm = this.cursor;
    this.cursor = null;
    if (mm !== null) this.collect(mm);
  }

  /**
   * scan_sleep_millisecs / alloc_sleep_millisecs written: khugepaged_sleep_expire = 0 and a
   * wake-up end the current sleep. While the do_scan before it still runs (busy) the thread is
   * not on the wait queue: the wake-up is lost, and the sleep it starts at the pass's end reads
   * the new value (khugepaged_wait_work sets khugepaged_sleep_expire anew; khugepaged_alloc_sleep
   * has no condition), so the timer moves to the end's jiffy + the new sleep.
   */
  sleepWritten(): void {
    if (!this.ctx || (this.state !== SCAN_SLEEP && this.state !== ALLOC_SLEEP)) return;
    if (this.timer) this.ctx.cancel(this.timer);
    const st = this.pending;
    const now = this.ctx.now();
    if (this.busy.busyAt(now)) {
      if (this.state === SCAN_SLEEP) this.timer = this.ctx.schedule(this.busy.waitDelay(now, this.period()), () => this.run(), this.quiet, this.steady);
      else {
        const ms = this.s.allocSleepMs();
        this.timer = this.ctx.schedule(ms > 0 ? this.busy.waitDelay(now, ms) : this.busy.until - now, () => this.resume(st!));
      }
      return;
    }
    this.state = RUNNING;
    this.timer = this.ctx.schedule(0, st !== null ? () => this.resume(st) : () => this.run());
  }

  /** The thread's loop body: khugepaged_do_scan, then khugepaged_wait_work. */
  private run(): void {
    this.timer = null;
    this.state = RUNNING;
    if (this.keepLog) this.scans.push(this.ctx!.now());
    // lru_add_drain_all: wsim has no LRU batches
    const st: DoScan = { pages: this.s.pagesToScan(), progress: 0, passThroughHead: 0, wait: true };
    if (this.wrapWork !== null) this.wrapWork(() => this.doScan(st));
    else this.doScan(st);
  }

  private resume(st: DoScan): void {
    this.timer = null;
    this.pending = null;
    this.state = RUNNING;
    if (this.wrapWork !== null) this.wrapWork(() => this.doScan(st));
    else this.doScan(st);
  }

  /** khugepaged_do_scan from `st` on; an allocation failure's first alloc sleep suspends it. */
  private doScan(st: DoScan): void {
    for (;;) {
      if (this.cursor === null) st.passThroughHead++;
      if (this.hasWork() && st.passThroughHead < 2) st.progress += this.scanMmSlot(st.pages - st.progress);
      else st.progress = st.pages;
      if (st.progress >= st.pages) break;
      if (this.result === SCAN_ALLOC_HUGE_PAGE_FAIL) {
        if (!st.wait) break;
        st.wait = false;
        // khugepaged_alloc_sleep
        const ms = this.s.allocSleepMs();
        if (ms > 0) {
          this.state = ALLOC_SLEEP;
          this.pending = st;
          this.timer = this.ctx!.schedule(this.chargeWork(ms), () => this.resume(st));
          return;
        }
      }
    }
    this.waitWork();
  }

  /** khugepaged_has_work */
  private hasWork(): boolean {
    return this.list.length !== 0 && this.s.enabled() !== "never";
  }

  /** khugepaged_wait_work: scan_sleep_millisecs while there is work, else wait for a registration. */
  private waitWork(): void {
    if (this.hasWork()) {
      this.state = SCAN_SLEEP;
      this.timer = this.ctx!.schedule(this.chargeWork(this.period()), () => this.run(), this.quiet, this.steady);
      return;
    }
    this.chargeWork(0);
    this.state = WAITING;
  }

  private period(): number {
    return Math.max(1, this.s.scanSleepMs());
  }

  /** collect_mm_slot: an exiting mm leaves the list. */
  private collect(mm: Mm): void {
    if (!mm.exited) return;
    this.registered.delete(mm);
    const i = this.list.indexOf(mm);
    if (i >= 0) this.list.splice(i, 1);
  }

  /**
   * khugepaged_scan_mm_slot(pages): scans from the cursor, returns the progress made; sets
   * this.result. With `dry`, a DryTick to count into and no collapse: returns -1 instead of
   * collapsing (the caller then knows the tick is not steady).
   */
  private scanMmSlot(pages: number, dry: DryTick | null = null, memo: Map<string, number> | null = null): number {
    this.result = SCAN_FAIL;
    const list = this.list;
    let mm: Mm;
    let address: number;
    let idx: number;
    if (dry !== null) {
      if (dry.idx < 0) {
        dry.idx = 0;
        dry.address = 0;
      }
      idx = dry.idx;
      mm = list[idx]!;
      address = dry.address;
    } else {
      if (this.cursor === null) {
        this.cursor = list[0]!;
        this.address = 0;
      }
      mm = this.cursor;
      address = this.address;
      idx = -1;
    }
    let progress = 1; // mmap_read_trylock succeeded
    let vmaLeft = false; // the walk stopped inside a region (vma != NULL)
    if (!mm.exited) {
      const vmas = mm.vmas;
      let i = 0;
      while (i < vmas.length && vmas[i]!.end <= address) i++; // vma_iter_init(address)
      outer: for (; i < vmas.length; i++) {
        const vma = vmas[i]!;
        if (!this.vmaCheck(vma)) {
          progress++;
          continue;
        }
        const hstart = Math.ceil(vma.start / LEAF) * LEAF;
        const hend = Math.floor(vma.end / LEAF) * LEAF;
        if (address > hend) {
          progress++;
          continue;
        }
        if (address < hstart) address = hstart;
        while (address < hend) {
          let locked = true;
          let r: number;
          if (dry !== null) {
            const key = `${mm.slot}:${address}`;
            r = memo!.get(key) ?? -1;
            if (r < 0) {
              r = this.collapser.scanPmd(mm, address, this.dryCc!);
              memo!.set(key, r);
            }
            if (r === SCAN_SUCCEED) return -1;
            if (r !== SCAN_PMD_NONE && r !== SCAN_PMD_MAPPED) dry.ranges++;
            if (r === SCAN_EXCEED_NONE_PTE) dry.none++;
            else if (r === SCAN_EXCEED_SWAP_PTE) dry.swap++;
            else if (r === SCAN_EXCEED_SHARED_PTE) dry.share++;
          } else {
            const cc = this.cc();
            r = this.collapser.scanPmd(mm, address, cc);
            if (r !== SCAN_PMD_NONE && r !== SCAN_PMD_MAPPED) this.workRanges++; // its PTE table read
            const ctr = HugeCollapse.exceedCounter(r);
            if (ctr >= 0) this.ev[ctr]!++;
            if (r === SCAN_SUCCEED) {
              r = this.collapser.collapse(mm, vma, address, cc, this.s.cpuNid(), this.ctx!.now());
              locked = false; // collapse_huge_page returns with the mmap_lock released
              if (r === SCAN_SUCCEED) {
                this.ev[V.wsim_khugepaged_pages_collapsed]!++;
                this.workCollapsed++;
              }
            }
          }
          this.result = r;
          address += LEAF;
          progress += HPAGE_PMD_NR;
          if (!locked || progress >= pages) {
            vmaLeft = true;
            break outer;
          }
        }
      }
    }
    // breakouterloop: release the slot if the mm is exiting or every region was scanned
    if (dry !== null) {
      dry.address = address;
      if (mm.exited || !vmaLeft) {
        if (idx + 1 < list.length) {
          dry.idx = idx + 1;
          dry.address = 0;
        } else {
          dry.idx = -1;
          dry.fullScans++;
        }
      }
      return progress;
    }
    this.address = address;
    if (mm.exited || !vmaLeft) {
      const i = list.indexOf(mm);
      if (i + 1 < list.length) {
        this.cursor = list[i + 1]!;
        this.address = 0;
      } else {
        this.cursor = null;
        this.address = 0;
        this.ev[V.wsim_khugepaged_full_scans]!++;
      }
      this.collect(mm);
    }
    return progress;
  }

  /** the limits a dry scan uses (set for the duration of a steady search) */
  private dryCc: CollapseControl | null = null;

  /** The scan sleep's ticks are never quiet with mms on the list (the cursor moves): see steady. */
  private readonly quiet = (): number => -Infinity;

  /**
   * The scan sleep's ticks at a steady state: no mm on the list is exiting and no do_scan the
   * jump skips would collapse or allocate (every range it reaches fails the scan, which reads
   * nothing any other daemon changes at a steady state), so each tick only moves the cursor
   * and counts thp_scan_exceed_* and full_scans. The ticks a jump skips (evenly spaced:
   * `due`, `due + period`, ...) are simulated without collapsing, only as many as the jump
   * skips or until the cursor comes back to a place it was at the start of a tick (a cycle,
   * whose repeats then apply in closed form): a jump over one scan costs one scan. Each tick's
   * busy time (its ranges × HPAGE_PMD_NR × cost.compact_scan_ns) adds to the busy window as
   * ticking charges it; the ticks stay `period` apart only while every one ends within the
   * jiffy it started in, so the plan is refused when a tick would be busy more than
   * JIFFY_SAFE_NS (0.999 ms), `due` is not a whole ms or the ticks reach JIFFY_SAFE_BELOW
   * (4096 pages × 40 ns = 0.16 ms by default: jumped). Null when
   * the state is not a scan sleep at this period; the plan is null (the jump refused) when a
   * skipped tick would collapse or no cycle shows within MAX_DRY_TICKS.
   */
  private readonly steady = (period: number, due: number): SteadyAdvance | null => {
    if (this.state !== SCAN_SLEEP || period !== this.period() || !this.on()) return null;
    if (this.keepLog || this.list.some((m) => m.exited)) return null;
    return { advance: (last: number) => this.plan(period, due, last) };
  };

  /** SteadyAdvance.advance for the scan sleep's timer due at `due`: the ticks at or before `last`. */
  private plan(period: number, due: number, last: number): SteadyPlan | null {
    const n = last >= due ? Math.floor((last - due) / period) + 1 : 0;
    if (n === 0) return { ticks: 0, due, prev: due - period, apply: () => {} };
    const costs = this.costs;
    // cost.compact_scan_ns of a range, read once: tunables do not change during a jump
    const rangeNs = costs === null ? 0 : HPAGE_PMD_NR * costs.compactScan();
    if (costs !== null && (!Number.isInteger(due) || due + n * period >= JIFFY_SAFE_BELOW)) return null;
    this.dryCc = this.cc();
    const memo = new Map<string, number>();
    const pages = this.s.pagesToScan();
    const ticks: DryTick[] = [];
    const seen = new Map<string, number>();
    let cur = { idx: this.cursor === null ? -1 : this.list.indexOf(this.cursor), address: this.cursor === null ? 0 : this.address };
    let start = -1;
    try {
      while (ticks.length < n) {
        if (ticks.length === MAX_DRY_TICKS) return null;
        const key = `${cur.idx}:${cur.address}`;
        const at = seen.get(key);
        if (at !== undefined) {
          start = at;
          break;
        }
        seen.set(key, ticks.length);
        const t = this.dryDoScan(cur, pages, memo);
        if (t === null || t.ranges * rangeNs > JIFFY_SAFE_NS) return null;
        ticks.push(t);
        cur = { idx: t.idx, address: t.address };
      }
    } finally {
      this.dryCc = null;
    }
    const ev = this.ev;
    const busy = this.busy;
    const add = (t: { none: number; swap: number; share: number; fullScans: number; ranges: number }, times: number) => {
      busy.ns += times * t.ranges * rangeNs; // integers: the same sum as ticking's
      ev[V.thp_scan_exceed_none_pte]! += times * t.none;
      ev[V.thp_scan_exceed_swap_pte]! += times * t.swap;
      ev[V.thp_scan_exceed_share_pte]! += times * t.share;
      ev[V.wsim_khugepaged_full_scans]! += times * t.fullScans;
    };
    const apply = () => {
      let lastTick: DryTick;
      if (start < 0) {
        // n ticks simulated, no cycle needed
        for (const t of ticks) add(t, 1);
        lastTick = ticks[n - 1]!;
      } else {
        for (let k = 0; k < start; k++) add(ticks[k]!, 1);
        const cycle = ticks.length - start;
        const sum = { none: 0, swap: 0, share: 0, fullScans: 0, ranges: 0 };
        for (let k = start; k < ticks.length; k++) {
          const t = ticks[k]!;
          sum.none += t.none;
          sum.swap += t.swap;
          sum.share += t.share;
          sum.fullScans += t.fullScans;
          sum.ranges += t.ranges;
        }
        const rest = n - start;
        add(sum, Math.floor(rest / cycle));
        const r = rest % cycle;
        for (let k = 0; k < r; k++) add(ticks[start + k]!, 1);
        lastTick = ticks[start + (r === 0 ? cycle : r) - 1]!;
      }
      // the last tick's charge (BusyWindow.charge: its start + its ms)
      if (costs !== null) busy.until = due + (n - 1) * period + (lastTick.ranges * rangeNs) / 1e6;
      this.cursor = lastTick.idx < 0 ? null : this.list[lastTick.idx]!;
      this.address = lastTick.idx < 0 ? 0 : lastTick.address;
    };
    return { ticks: n, due: due + n * period, prev: due + (n - 1) * period, apply };
  }

  /** One do_scan without collapsing from cursor `cur`: its DryTick, or null if it would collapse. */
  private dryDoScan(cur: { idx: number; address: number }, pages: number, memo: Map<string, number>): DryTick | null {
    const t: DryTick = { idx: cur.idx, address: cur.address, none: 0, swap: 0, share: 0, fullScans: 0, ranges: 0 };
    let progress = 0;
    let pass = 0;
    for (;;) {
      if (t.idx < 0) pass++;
      if (this.hasWork() && pass < 2) {
        const p = this.scanMmSlot(pages - progress, t, memo);
        if (p < 0) return null;
        progress += p;
      } else progress = pages;
      if (progress >= pages) break;
      // no allocation happens in a dry scan, so no SCAN_ALLOC_HUGE_PAGE_FAIL
    }
    if (t.idx < 0) t.address = 0;
    return t;
  }
}
