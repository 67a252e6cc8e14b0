/**
 * cgroup v2 memory limits (mm/memcontrol.c, mm/page_counter.c, mm/vmscan.c; Linux 6.1) over
 * memcg.ts's tree: memory.max, memory.high, memory.low, memory.min and memory.swap.max, as
 * KERNEL-REFERENCE-2 §5 gives them.
 *
 * - A fault charges its pages to the process's memcg before mapping them (try_charge_memcg):
 *   over some ancestor's memory.max, that memcg is reclaimed (try_to_free_mem_cgroup_pages on
 *   its subtree's lruvecs) up to MAX_RECLAIM_RETRIES times, then memcg OOM
 *   (mem_cgroup_oom -> mem_cgroup_out_of_memory -> oom-kill.ts's outOfMemory with the memcg).
 * - Over memory.high the pages are remembered (memcg_nr_pages_over_high) and, on return to user
 *   space (the end of the event) or at once above MEMCG_CHARGE_BATCH,
 *   mem_cgroup_handle_over_high reclaims (reclaim_high) and throttles: calculate_high_delay's
 *   penalty becomes virtual stall time (stall.ts, PSI memstall).
 * - memory.min / memory.low: effective protection (effective_protection, without the
 *   memory_recursiveprot mount option) evaluated as shrink_node_memcgs visits each memcg, in
 *   global and memcg reclaim; a below-low memcg is reclaimed only in do_try_to_free_pages'
 *   second pass (memcg_low_reclaim), counting memory.events low.
 * - memory.swap.max: the swap page_counter (__mem_cgroup_try_charge_swap) and
 *   mem_cgroup_get_nr_swap_pages for get_swappiness.
 *
 * The per-cpu charge stock is kept (consume_stock, refill_stock, drain_all_stock): a charge
 * takes MEMCG_CHARGE_BATCH pages from the counter and serves the next faults of the memcg on
 * that CPU, so memory.current counts up to 64 pre-charged pages per CPU, and memory.high's
 * check and penalty come once per batch, as in the kernel.
 *
 * wsim simplifications: a memcg's charged pages are the pages on its subtree's lruvecs (every
 * user page: anon, file, swap cache) plus its stocks; kernel memory (page tables, slab) is not
 * charged; drain_all_stock drains other CPUs at once; an event's pages over high are handled
 * at its end (return to user space); memory reclaim walks every node in id order.
 */
import type { Lruvec } from "./lru-gen.js";
import type { Memcg, MemcgTree } from "./memcg.js";
import { MEMCG_HIGH, MEMCG_LOW, MEMCG_MAX, MEMCG_OOM, MEMCG_SWAP_FAIL, MEMCG_SWAP_MAX, PAGE_COUNTER_MAX } from "./memcg.js";
import type { MemcgReclaimGate, Reclaim } from "./reclaim.js";
import { DEF_PRIORITY, SWAP_CLUSTER_MAX } from "./reclaim.js";

/** MEMCG_CHARGE_BATCH (include/linux/memcontrol.h) */
export const MEMCG_CHARGE_BATCH = 64;
/** MAX_RECLAIM_RETRIES (mm/internal.h) */
export const MAX_RECLAIM_RETRIES = 16;
/** wsim's HZ (SPEC §4.1: jiffies are ms) */
export const HZ = 1000;
/** MEMCG_MAX_HIGH_DELAY_JIFFIES */
export const MEMCG_MAX_HIGH_DELAY_JIFFIES = 2 * HZ;
const MEMCG_DELAY_PRECISION_SHIFT = 20n;
const MEMCG_DELAY_SCALING_SHIFT = 14n;
/** PAGE_ALLOC_COSTLY_ORDER */
const COSTLY_ORDER = 3;

/** calculate_overage(usage, high) in pages: ((usage - max(high, 1)) << 20) / max(high, 1), 0 at or under high. */
export function calculateOverage(usage: number, high: number): bigint {
  if (usage <= high) return 0n;
  const h = BigInt(Math.max(high, 1));
  return ((BigInt(usage) - h) << MEMCG_DELAY_PRECISION_SHIFT) / h;
}

/**
 * calculate_high_delay(memcg, nr_pages, max_overage): the throttling penalty in jiffies (ms
 * here), ((max_overage² · HZ) >> 20 >> 14) · nr_pages / MEMCG_CHARGE_BATCH, before the
 * MEMCG_MAX_HIGH_DELAY_JIFFIES cap.
 */
export function calculateHighDelay(nrPages: number, maxOverage: bigint): number {
  if (maxOverage === 0n) return 0;
  const p = ((maxOverage * maxOverage * BigInt(HZ)) >> MEMCG_DELAY_PRECISION_SHIFT) >> MEMCG_DELAY_SCALING_SHIFT;
  return Number((p * BigInt(nrPages)) / BigInt(MEMCG_CHARGE_BATCH));
}

/**
 * effective_protection(usage, parent_usage, setting, parent_effective, siblings_protected)
 * (mm/memcontrol.c, 6.1) without CGRP_ROOT_MEMORY_RECURSIVE_PROT: min(usage, setting), scaled
 * by parent_effective / siblings_protected when the siblings claim more than the parent has.
 * Pages in, pages out (integer division as the kernel's).
 */
export function effectiveProtection(usage: number, _parentUsage: number, setting: number, parentEffective: number, siblingsProtected: number): number {
  const prot = Math.min(usage, setting);
  if (siblingsProtected > parentEffective) return Math.floor((prot * parentEffective) / siblingsProtected);
  return prot;
}

/**
 * page_counter_memparse(buf, "max"): `max`, or bytes (digits with an optional K, M, G, T, P or
 * E suffix, binary units, as memparse) rounded down to pages. Returns pages (PAGE_COUNTER_MAX
 * for `max`) or null when the text is not a value.
 */
export function parseLimit(text: string): number | null {
  const s = text.trim();
  if (s === "max") return PAGE_COUNTER_MAX;
  const m = /^(\d+)([kKmMgGtTpPeE]?)$/.exec(s);
  if (m === null) return null;
  const shift = { "": 0, k: 10, m: 20, g: 30, t: 40, p: 50, e: 60 }[m[2]!.toLowerCase() as "" | "k"]!;
  const bytes = Number(m[1]) * 2 ** shift;
  if (!Number.isSafeInteger(Math.floor(bytes / 4096))) return null;
  return Math.floor(bytes / 4096);
}

/** A limit as its cgroup file prints it: `max` or bytes. */
export function formatLimit(pages: number): string {
  return pages === PAGE_COUNTER_MAX ? "max" : String(pages * 4096);
}

export interface MemcgLimitsContext {
  memcgs: MemcgTree;
  reclaim: Reclaim;
  nrNodes: number;
  /** mem_cgroup_out_of_memory's out_of_memory with oc->memcg: true when a victim was killed and it was not the charging process */
  outOfMemory: (memcg: Memcg, totalpages: number) => boolean;
  /** total_swap_pages */
  totalSwap: () => number;
  /** free swap slots of the device (get_nr_swap_pages) */
  freeSwap: () => number;
  swappiness: () => number;
  /** the CPU the charge runs on (its memcg_stock_pcp) */
  cpu: () => number;
  /** the charging process exited (the OOM killer chose it) */
  currentExited: () => boolean;
  /** virtual stall time of the event in progress, in ns (stall.ts, PSI memstall) */
  stall: (ns: number) => void;
  reclaimScanNs: () => number;
  reclaimPageNs: () => number;
}

/** The memcg limits of one machine: charging, memcg reclaim and OOM, throttling, protection. */
export class MemcgLimits implements MemcgReclaimGate {
  /** some memcg has memory.max, memory.high or memory.swap.max set below max: faults charge */
  active = false;
  /** some memcg has memory.min or memory.low above 0: reclaim computes protection */
  protection = false;
  /** current->memcg_nr_pages_over_high and the memcg it was charged to */
  overHigh = 0;
  private overHighMemcg: Memcg | null = null;
  /** the memcg reclaim's target (sc->target_mem_cgroup), null for global reclaim */
  private target: Memcg | null = null;
  /** sc->memcg_low_reclaim and sc->memcg_low_skipped of the reclaim in progress */
  private lowReclaim = false;
  private lowSkipped = false;
  /** the virtual time memory.high throttling cost, per memcg id (ms), and in total */
  readonly throttleMs: number[] = [];
  /** memcg reclaims run (try_to_free_mem_cgroup_pages), per memcg id */
  readonly memcgReclaims: number[] = [];

  constructor(private readonly c: MemcgLimitsContext) {}

  /** a limit was written in this run (the output then has its memcg table) */
  everSet = false;

  /**
   * A write of one limit file of memcg m (memory_max_write, memory_high_write,
   * memory_low_write, memory_min_write, swap_max_write), `pages` as parseLimit gives it. Writing
   * memory.high or memory.max under the usage drains the stocks once, then reclaims: for
   * memory.high until 16 passes more reclaim nothing (never OOM); for memory.max up to 16
   * passes that reclaim nothing, then memory.events oom and the memcg OOM killer while still
   * over. The writer's reclaim is no replayed task's stall.
   */
  writeLimit(m: Memcg, key: string, pages: number): void {
    switch (key) {
      case "memory.max": m.max = pages; break;
      case "memory.high": m.high = pages; break;
      case "memory.low": m.low = pages; break;
      case "memory.min": m.min = pages; break;
      case "memory.swap.max": m.swapMax = pages; break;
    }
    this.limitsChanged();
    const limit = key === "memory.high" ? m.high : key === "memory.max" ? m.max : Infinity;
    if (m.usage() <= limit) return;
    this.writer = true;
    this.drainAllStock(m);
    let retries = MAX_RECLAIM_RETRIES;
    while (m.usage() > limit) {
      if (key === "memory.high") {
        if (this.tryToFreeMemCgroupPages(m, m.usage() - limit) === 0 && retries-- === 0) break;
      } else if (retries > 0) {
        if (this.tryToFreeMemCgroupPages(m, m.usage() - limit) === 0) retries--;
      } else {
        m.event(MEMCG_OOM);
        if (!this.memcgOom(m)) break;
      }
    }
    this.writer = false;
  }

  /** a limit write's reclaim runs (not a stall of the event's task) */
  private writer = false;

  /** Recomputes `active` and `protection` after a limit was written. */
  limitsChanged(): void {
    this.everSet = true;
    let active = false;
    let protection = false;
    for (const m of this.c.memcgs.all) {
      if (m.max !== PAGE_COUNTER_MAX || m.high !== PAGE_COUNTER_MAX || m.swapMax !== PAGE_COUNTER_MAX) active = true;
      if (m.low > 0 || m.min > 0) protection = true;
    }
    this.active = active;
    this.protection = protection;
  }

  /** the gate is needed in reclaim: a memcg reclaim is running, protection or a swap.max is set */
  get on(): boolean {
    return this.target !== null || this.protection || this.active;
  }

  /** mem_cgroup_margin(memcg): pages it can still take under memory.max (v2, no memsw) */
  margin(m: Memcg): number {
    return Math.max(m.max - m.usage(), 0);
  }

  /** the per-cpu charge stock (memcg_stock_pcp): the memcg cached on each CPU and its pre-charged pages */
  private readonly stockMemcg: (Memcg | null)[] = [];
  private readonly stockNr: number[] = [];

  /** consume_stock(memcg, nr) on the current CPU */
  private consumeStock(memcg: Memcg, nr: number, cpu: number): boolean {
    if (nr > MEMCG_CHARGE_BATCH || this.stockMemcg[cpu] !== memcg || this.stockNr[cpu]! < nr) return false;
    this.stockNr[cpu]! -= nr;
    memcg.stock -= nr;
    return true;
  }

  /** drain_stock: the CPU's pre-charged pages go back (page_counter_uncharge) */
  private drainStock(cpu: number): void {
    const old = this.stockMemcg[cpu];
    if (old === null || old === undefined) return;
    old.stock -= this.stockNr[cpu]!;
    this.stockNr[cpu] = 0;
    this.stockMemcg[cpu] = null;
  }

  /** refill_stock(memcg, n): the CPU's stock changes hands if another memcg held it; over a batch it drains */
  private refillStock(memcg: Memcg, n: number, cpu: number): void {
    if (this.stockMemcg[cpu] !== memcg) {
      this.drainStock(cpu);
      this.stockMemcg[cpu] = memcg;
      this.stockNr[cpu] = 0;
    }
    this.stockNr[cpu]! += n;
    memcg.stock += n;
    if (this.stockNr[cpu]! > MEMCG_CHARGE_BATCH) this.drainStock(cpu);
  }

  /** drain_all_stock(root): every CPU whose stock holds a memcg of root's subtree (done at once here) */
  drainAllStock(root: Memcg): void {
    for (let cpu = 0; cpu < this.stockMemcg.length; cpu++) {
      for (let m = this.stockMemcg[cpu] ?? null; m !== null; m = m.parent) {
        if (m === root) {
          this.drainStock(cpu);
          break;
        }
      }
    }
  }

  /**
   * try_charge_memcg(memcg, GFP_HIGHUSER_MOVABLE, nr) for a fault of `nr` pages (1, or 512 for
   * a THP) on the current CPU: consume_stock, else page_counter_try_charge of a
   * MEMCG_CHARGE_BATCH (the excess refills the stock); over some ancestor's memory.max, memcg
   * reclaim of that memcg and retries, then memcg OOM. Returns false (-ENOMEM: the fault fails
   * with VM_FAULT_OOM, or a THP falls back) when the charge cannot be made, including when the
   * memcg OOM killer chose the charging process itself. `canBlock` (the gfp has
   * __GFP_DIRECT_RECLAIM) and `noRetry` (__GFP_NORETRY) are the charge's gfp as a huge page
   * fault's vma_thp_gfp_mask gives it; a fault of a small page has GFP_HIGHUSER_MOVABLE.
   */
  tryCharge(memcg: Memcg, nr: number, canBlock = true, noRetry = false): boolean {
    if (memcg.parent === null) return true; // the root memcg is never charged
    const cpu = Math.max(this.c.cpu(), 0);
    if (this.consumeStock(memcg, nr, cpu)) return true;
    let batch = Math.max(MEMCG_CHARGE_BATCH, nr);
    if (!this.active) {
      // no limit anywhere: page_counter_try_charge succeeds (done_restock)
      if (batch > nr) this.refillStock(memcg, batch - nr, cpu);
      this.notePeak(memcg, nr);
      return true;
    }
    let nrRetries = MAX_RECLAIM_RETRIES;
    let passedOom = false;
    let drained = false;
    for (;;) {
      if (this.consumeStock(memcg, nr, cpu)) return true;
      // page_counter_try_charge: fails at the first ancestor where usage + batch > max
      let over: Memcg | null = null;
      for (let m: Memcg | null = memcg; m !== null && m.parent !== null; m = m.parent) {
        if (m.usage() + batch > m.max) {
          over = m;
          break;
        }
      }
      if (over === null) break;
      if (batch > nr) {
        batch = nr;
        continue;
      }
      if (!canBlock) return false; // gfpflags_allow_blocking: nomem, before any max event
      over.event(MEMCG_MAX);
      const reclaimed = this.tryToFreeMemCgroupPages(over, nr);
      if (this.margin(over) >= nr) continue;
      if (!drained) {
        this.drainAllStock(over);
        drained = true;
        continue;
      }
      if (noRetry) return false;
      if (reclaimed && nr <= 1 << COSTLY_ORDER) continue;
      if (nrRetries-- > 0) continue;
      if (passedOom && this.c.currentExited()) return false;
      // mem_cgroup_oom: not for costly orders; memory.events oom, then the OOM killer
      if (nr > 1 << COSTLY_ORDER) return false;
      over.event(MEMCG_OOM);
      const killed = this.memcgOutOfMemory(over, nr);
      if (this.c.currentExited() || !killed) return false;
      passedOom = true;
      nrRetries = MAX_RECLAIM_RETRIES;
    }
    // done_restock: the excess into the stock; over memory.high here or above, the task
    // reclaims on return to user space (memcg_nr_pages_over_high += batch)
    if (batch > nr) this.refillStock(memcg, batch - nr, cpu);
    for (let m: Memcg | null = memcg; m !== null && m.parent !== null; m = m.parent) {
      if (m.usage() + nr > m.high) {
        this.overHigh += batch;
        this.overHighMemcg = memcg;
        break;
      }
    }
    this.notePeak(memcg, nr);
    // more than a batch over high: mem_cgroup_handle_over_high now (try_charge_memcg's tail)
    if (this.overHighNow) this.handleOverHigh();
    return true;
  }

  /** memory.peak (page_counter's watermark) of the memcg and its ancestors after a charge of nr */
  private notePeak(memcg: Memcg, nr: number): void {
    for (let m: Memcg | null = memcg; m !== null && m.parent !== null; m = m.parent) {
      const u = m.usage() + nr;
      if (u > m.peak) m.peak = u;
    }
  }

  /** handle_over_high at once (try_charge_memcg) when more than MEMCG_CHARGE_BATCH pages are pending */
  get overHighNow(): boolean {
    return this.overHigh > MEMCG_CHARGE_BATCH;
  }

  /** mem_cgroup_out_of_memory(memcg, GFP_KERNEL, 0) as memory_max_write calls it: true when a victim was killed (or none was needed) */
  memcgOom(m: Memcg): boolean {
    return this.memcgOutOfMemory(m, 1);
  }

  /** mem_cgroup_out_of_memory(memcg, gfp, order): no kill while the margin already fits */
  private memcgOutOfMemory(m: Memcg, nr: number): boolean {
    if (this.margin(m) >= nr) return true;
    return this.c.outOfMemory(m, this.getMax(m));
  }

  /** mem_cgroup_get_max(memcg): memory.max plus min(swap.max, total_swap_pages) when swappiness is non-zero */
  getMax(m: Memcg): number {
    let max = m.max;
    if (this.c.swappiness() !== 0) max += Math.min(m.swapMax, this.c.totalSwap());
    return max;
  }

  /**
   * try_to_free_mem_cgroup_pages(memcg, nr, GFP_KERNEL, MEMCG_RECLAIM_MAY_SWAP) ->
   * do_try_to_free_pages: nr_to_reclaim = max(nr, SWAP_CLUSTER_MAX), priority DEF_PRIORITY down
   * to 0 over every node, only the memcg's subtree's lruvecs (shrink_node_memcgs with
   * target_mem_cgroup), until nr_to_reclaim; a second pass into protected memory
   * (memcg_low_reclaim) if nothing came and something below low was skipped. Global
   * pgscan/pgsteal kswapd/direct are not counted (cgroup_reclaim), the memcg's are. Its cost
   * (cost.reclaim_scan_ns, cost.reclaim_page_ns) is a stall of the event. Returns pages reclaimed.
   */
  tryToFreeMemCgroupPages(memcg: Memcg, nr: number): number {
    const r = this.c.reclaim;
    const nrToReclaim = Math.max(nr, SWAP_CLUSTER_MAX);
    const saved = [this.target, this.lowReclaim, this.lowSkipped, r.cgroupReclaim] as const;
    this.target = memcg;
    r.cgroupReclaim = true;
    this.lowReclaim = false;
    this.lowSkipped = false;
    this.memcgReclaims[memcg.id] = (this.memcgReclaims[memcg.id] ?? 0) + 1;
    let got = 0;
    let scanned = 0;
    let pages = 0;
    for (;;) {
      for (let priority = DEF_PRIORITY; priority >= 0; priority--) {
        for (let nid = 0; nid < this.c.nrNodes; nid++) {
          const res = r.shrinkNodePriority(nid, priority, nrToReclaim, false, true, () => false, got);
          got += res.reclaimed;
          scanned += res.scanned;
          pages += res.pagesReclaimed;
        }
        if (got >= nrToReclaim) break;
      }
      if (got === 0 && this.lowSkipped && !this.lowReclaim) {
        this.lowReclaim = true;
        this.lowSkipped = false;
        continue;
      }
      break;
    }
    [this.target, this.lowReclaim, this.lowSkipped, r.cgroupReclaim] = saved;
    if (!this.writer) this.c.stall(scanned * this.c.reclaimScanNs() + pages * this.c.reclaimPageNs());
    return got;
  }

  /**
   * reclaim_high(memcg, nr, GFP_KERNEL): for the memcg and each non-root ancestor over its
   * memory.high, memory.events high, then memcg reclaim of nr pages. Returns pages reclaimed.
   */
  private reclaimHigh(memcg: Memcg, nr: number): number {
    let got = 0;
    for (let m: Memcg | null = memcg; m !== null && m.parent !== null; m = m.parent) {
      if (m.usage() <= m.high) continue;
      m.event(MEMCG_HIGH);
      got += this.tryToFreeMemCgroupPages(m, nr);
    }
    return got;
  }

  /** mem_find_max_overage(memcg): the largest overage of the memcg and its non-root ancestors */
  maxOverage(memcg: Memcg): bigint {
    let max = 0n;
    for (let m: Memcg | null = memcg; m !== null && m.parent !== null; m = m.parent) {
      const o = calculateOverage(m.usage(), m.high);
      if (o > max) max = o;
    }
    return max;
  }

  /**
   * mem_cgroup_handle_over_high() on return to user space: reclaim_high of the pending pages,
   * then the penalty calculate_high_delay gives (capped at MEMCG_MAX_HIGH_DELAY_JIFFIES);
   * none at or under HZ/100; while reclaim makes progress or retries remain it reclaims again
   * (SWAP_CLUSTER_MAX pages) instead; else the task sleeps the penalty (a memory stall).
   * memory.swap.high is not modelled (its overage is 0). Returns the penalty slept, in ms.
   */
  handleOverHigh(): number {
    const nrPages = this.overHigh;
    const memcg = this.overHighMemcg;
    this.overHigh = 0;
    this.overHighMemcg = null;
    if (nrPages === 0 || memcg === null) return 0;
    let nrRetries = MAX_RECLAIM_RETRIES;
    let inRetry = false;
    for (;;) {
      const reclaimed = this.reclaimHigh(memcg, inRetry ? SWAP_CLUSTER_MAX : nrPages);
      let penalty = calculateHighDelay(nrPages, this.maxOverage(memcg));
      penalty = Math.min(penalty, MEMCG_MAX_HIGH_DELAY_JIFFIES);
      if (penalty <= HZ / 100) return 0;
      if (reclaimed || nrRetries-- > 0) {
        inRetry = true;
        continue;
      }
      // schedule_timeout_killable(penalty) inside psi_memstall_enter/leave
      this.c.stall(penalty * 1e6);
      this.throttleMs[memcg.id] = (this.throttleMs[memcg.id] ?? 0) + penalty;
      return penalty;
    }
  }

  // --- the reclaim gate (shrink_node_memcgs, get_swappiness, folio_alloc_swap) ---

  /**
   * shrink_node_memcgs' per-memcg checks for lruvec lv: outside the target's subtree (memcg
   * reclaim) it is not visited; mem_cgroup_calculate_protection, then below_min skips it,
   * below_low skips it unless memcg_low_reclaim (then memory.events low).
   */
  allow(lv: Lruvec): boolean {
    const m = lv.owner as Memcg;
    const target = this.target;
    if (target !== null && m !== target) {
      let inside = false;
      for (let a = m.parent; a !== null; a = a.parent) if (a === target) inside = true;
      if (!inside) return false;
    }
    if (!this.protection || m.parent === null) return true;
    const usage = m.usage();
    this.calculateProtection(target ?? this.c.memcgs.root, m, usage);
    if (m.emin >= usage) return false;
    if (m.elow >= usage) {
      if (!this.lowReclaim) {
        this.lowSkipped = true;
        return false;
      }
      m.event(MEMCG_LOW);
    }
    return true;
  }

  /** mem_cgroup_calculate_protection(root, memcg): emin/elow left as they were for the root and an empty memcg (6.1) */
  private calculateProtection(root: Memcg, m: Memcg, usage: number): void {
    if (m === root || usage === 0) return;
    const parent = m.parent!;
    if (parent === root) {
      m.emin = m.min;
      m.elow = m.low;
      return;
    }
    const parentUsage = parent.usage();
    let childrenMin = 0;
    let childrenLow = 0;
    for (const c of parent.children) {
      const u = c === m ? usage : c.usage();
      childrenMin += Math.min(u, c.min); // propagate_protected_usage
      childrenLow += Math.min(u, c.low);
    }
    m.emin = effectiveProtection(usage, parentUsage, m.min, parent.emin, childrenMin);
    m.elow = effectiveProtection(usage, parentUsage, m.low, parent.elow, childrenLow);
  }

  /** do_try_to_free_pages' retry: true (and memcg_low_reclaim set) when a pass reclaimed nothing and skipped a below-low memcg */
  retryLow(): boolean {
    if (!this.lowSkipped || this.lowReclaim) return false;
    this.lowReclaim = true;
    this.lowSkipped = false;
    return true;
  }

  /** a global reclaim (try_to_free_pages, balance_pgdat) starts: sc's memcg_low flags clear */
  beginGlobal(): void {
    if (this.target === null) {
      this.lowReclaim = false;
      this.lowSkipped = false;
    }
  }

  /** mem_cgroup_get_nr_swap_pages(memcg of lv): the device's free slots, capped by each non-root ancestor's swap.max - swap usage */
  nrSwapPages(lv: Lruvec): number {
    let n = this.c.freeSwap();
    if (!this.active) return n;
    for (let m: Memcg | null = lv.owner as Memcg; m !== null && m.parent !== null; m = m.parent)
      if (m.swapMax !== PAGE_COUNTER_MAX) n = Math.min(n, m.swapMax - m.swapUsage());
    return n;
  }

  /**
   * __mem_cgroup_try_charge_swap for one page of lv's memcg about to be swapped out: false when
   * the device is full (swap.events fail) or some ancestor's swap counter cannot take it
   * (swap.events max and fail); the page is then activated instead (add_to_swap failed).
   */
  chargeSwap(lv: Lruvec): boolean {
    const memcg = lv.owner as Memcg;
    if (memcg.parent === null) return this.c.freeSwap() > 0;
    if (this.c.freeSwap() <= 0) {
      memcg.swapEvent(MEMCG_SWAP_FAIL);
      return false;
    }
    for (let m: Memcg | null = memcg; m !== null && m.parent !== null; m = m.parent) {
      if (m.swapUsage() + 1 > m.swapMax) {
        memcg.swapEvent(MEMCG_SWAP_MAX);
        memcg.swapEvent(MEMCG_SWAP_FAIL);
        return false;
      }
    }
    return true;
  }
}
