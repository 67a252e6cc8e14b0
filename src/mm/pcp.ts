/**
 * Per-cpu page lists (struct per_cpu_pages) of Linux 6.1 mm/page_alloc.c, in typed arrays:
 * for every zone and every CPU of the machine one pcp with NR_PCP_LISTS lists (per
 * migratetype for orders 0..PAGE_ALLOC_COSTLY_ORDER, and one list for pageblock_order THPs),
 * its count (base pages) and free_factor; high and batch per zone (6.1 gives every CPU of a
 * zone the same: zone_set_pageset_high_and_batch).
 *
 * The lists are intrusive, over the pages arrays' next/prev links (list.ts): a block on a pcp
 * list is neither on a buddy free list nor on an LRU list, so the links are free for it, as a
 * struct page's lru and pcp_list share one list_head. A pcp block's first pfn keeps its order
 * in pages.order and the migratetype it was listed with (get_pcppage_migratetype) in
 * pages.listMt; its flags are 0 (neither PageBuddy nor allocated), so it never merges.
 *
 * The buddy side (rmqueue_bulk's __rmqueue, free_pcppages_bulk's __free_one_page) is
 * Buddy's; NR_FREE_PAGES excludes pcp pages as in 6.1 (rmqueue_bulk subtracts them, the
 * drain adds them back).
 *
 * wsim simplifications: the pcp trylocks always succeed; no CMA; vmstat's
 * refresh_cpu_vm_stats drain of remote pcps (drain_zone_pages after 3 idle seconds) is left
 * out; ZONE_RECLAIM_ACTIVE is taken as "the node's kswapd is running" (set_reclaim_active
 * marks the zones up to its highest_zoneidx).
 */
import { MIGRATE_PCPTYPES, MT_ISOLATE, MT_MOVABLE, PAGE_ALLOC_COSTLY_ORDER, PAGEBLOCK_ORDER } from "./constants.js";
import { FPI_NONE, type Buddy, type Zone } from "./buddy.js";
import { listAdd, listAddTail, listDel } from "./list.js";

/** NR_LOWORDER_PCP_LISTS = MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1) */
export const NR_LOWORDER_PCP_LISTS = MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1);
/** NR_PCP_LISTS = NR_LOWORDER_PCP_LISTS + NR_PCP_THP (CONFIG_TRANSPARENT_HUGEPAGE) */
export const NR_PCP_LISTS = NR_LOWORDER_PCP_LISTS + 1;

/** pcp_allowed_order: orders 0..PAGE_ALLOC_COSTLY_ORDER, and pageblock_order (THP). */
export function pcpAllowedOrder(order: number): boolean {
  return order <= PAGE_ALLOC_COSTLY_ORDER || order === PAGEBLOCK_ORDER;
}

/** order_to_pindex: `MIGRATE_PCPTYPES * order + mt` for the low orders; the one THP list for pageblock_order. */
export function orderToPindex(mt: number, order: number): number {
  return order > PAGE_ALLOC_COSTLY_ORDER ? NR_LOWORDER_PCP_LISTS : MIGRATE_PCPTYPES * order + mt;
}

/** pindex_to_order */
export function pindexToOrder(pindex: number): number {
  return pindex >= NR_LOWORDER_PCP_LISTS ? PAGEBLOCK_ORDER : Math.floor(pindex / MIGRATE_PCPTYPES);
}

/** One zone's pageset as /proc/zoneinfo's `pagesets` prints it for one CPU. */
export interface Pageset {
  cpu: number;
  count: number;
  high: number;
  batch: number;
}

/** The CPUs of the machine: how many each node has, numbered node by node from 0. */
export interface CpuLayout {
  /** CPUs of each node (0 for a node without CPUs) */
  nodeCpus: readonly number[];
}

export class PerCpuPages {
  readonly buddy: Buddy;
  readonly nrCpus: number;
  readonly nrZones: number;
  /** node of each CPU */
  readonly cpuNode: Int32Array;
  /** first CPU of each node; for a node without CPUs the machine's first CPU (where its kernel threads run) */
  readonly nodeCpu: Int32Array;
  /** CPUs of each node (nr_split_cpus of zone_highsize) */
  readonly nodeCpus: Int32Array;
  /** list heads / tails, index (zone.id * nrCpus + cpu) * NR_PCP_LISTS + pindex, -1 = empty */
  readonly head: Int32Array;
  readonly tail: Int32Array;
  /** pcp->count in base pages, index zone.id * nrCpus + cpu */
  readonly count: Int32Array;
  /** pcp->free_factor */
  readonly freeFactor: Int32Array;
  /** pcp->high and pcp->batch, per zone (the same for each CPU) */
  readonly high: Int32Array;
  readonly batch: Int32Array;
  /** the least nr_pcp_high can be without free_high: min(batch * 4, high), 0 when high is 0 (the free path's shortcut) */
  private readonly leastHigh: Int32Array;
  /**
   * wsim's --check allowance: how far above high a pcp's count may legitimately be: what a
   * recomputation of high left (6.1's zone_pcp_update does not drain), or a refill (rmqueue_bulk
   * does not look at high), or a bulk free that asked for less than the excess; reset by each
   * bulk free to what it left above high
   */
  readonly overHigh: Int32Array;
  /** wsim.pcp: off, allocations and frees bypass the lists (and they are empty) */
  enabled = true;
  /** ZONE_RECLAIM_ACTIVE of a zone (kswapd in balance_pgdat on its node) */
  reclaimActive: (z: Zone) => boolean = () => false;

  /** `zones`: every populated zone by Zone.id; `cpus`: the machine's CPUs per node. */
  constructor(buddy: Buddy, cpus: CpuLayout) {
    this.buddy = buddy;
    const zones = buddy.zones;
    this.nrZones = zones.length;
    const per = cpus.nodeCpus;
    this.nrCpus = per.reduce((s, n) => s + n, 0);
    if (this.nrCpus < 1) throw new Error("a machine needs at least one CPU");
    this.cpuNode = new Int32Array(this.nrCpus);
    this.nodeCpu = new Int32Array(per.length).fill(-1);
    this.nodeCpus = Int32Array.from(per);
    let c = 0;
    per.forEach((n, nid) => {
      if (n > 0) this.nodeCpu[nid] = c;
      for (let i = 0; i < n; i++) this.cpuNode[c++] = nid;
    });
    for (let nid = 0; nid < per.length; nid++) if (this.nodeCpu[nid]! < 0) this.nodeCpu[nid] = 0;
    const nPcp = this.nrZones * this.nrCpus;
    this.head = new Int32Array(nPcp * NR_PCP_LISTS).fill(-1);
    this.tail = new Int32Array(nPcp * NR_PCP_LISTS).fill(-1);
    this.count = new Int32Array(nPcp);
    this.freeFactor = new Int32Array(nPcp);
    this.overHigh = new Int32Array(nPcp);
    // the boot pageset (setup_pageset: high 0, batch 1) until the first watermark setup
    this.high = new Int32Array(this.nrZones);
    this.batch = new Int32Array(this.nrZones).fill(1);
    this.leastHigh = new Int32Array(this.nrZones);
  }

  /**
   * zone_set_pageset_high_and_batch for zone `zid`: the new high and batch for every CPU.
   * Like 6.1's zone_pcp_update it does not drain a pcp left above the new high.
   */
  setHighBatch(zid: number, high: number, batch: number): void {
    this.high[zid] = high;
    this.batch[zid] = batch;
    this.leastHigh[zid] = high ? Math.min(batch << 2, high) : 0;
    for (let cpu = 0; cpu < this.nrCpus; cpu++) {
      const idx = zid * this.nrCpus + cpu;
      this.overHigh[idx] = this.count[idx]! > high ? this.count[idx]! : 0;
    }
  }

  /**
   * rmqueue_pcplist + __rmqueue_pcplist: on CPU `cpu`, halve free_factor, take the first block
   * of the (mt, order) list, refilling an empty list first with rmqueue_bulk: `batch` blocks
   * (batch > 1: max(batch >> order, 2)) taken with __rmqueue (fallback and stealing included)
   * and added at the tail. Returns the block's first pfn (its flags 0, off every list), or -1
   * when the buddy had none.
   */
  rmqueue(z: Zone, cpu: number, order: number, mt: number, allocFlags: number): number {
    const idx = z.id * this.nrCpus + cpu;
    this.freeFactor[idx]! >>= 1;
    const li = idx * NR_PCP_LISTS + orderToPindex(mt, order);
    const p = this.buddy.pages;
    if (this.head[li]! < 0) {
      // rmqueue_bulk: blocks taken from the buddy leave NR_FREE_PAGES (Buddy.rmqueue does that)
      let n = this.batch[z.id]!;
      if (n > 1) n = Math.max(n >> order, 2);
      let got = 0;
      for (; got < n; got++) {
        const pfn = this.buddy.rmqueue(z, order, mt, allocFlags);
        if (pfn < 0) break;
        p.order[pfn] = order;
        p.listMt[pfn] = mt; // set_pcppage_migratetype: the type asked for
        listAddTail(p, this.head, this.tail, li, pfn);
      }
      this.count[idx]! += got << order;
      if (!got) return -1;
    }
    const pfn = this.head[li]!;
    listDel(p, this.head, this.tail, li, pfn);
    const count = (this.count[idx]! -= 1 << order);
    // rmqueue_bulk does not look at high: a refill of an empty list may leave the count above
    // it (several lists' refills add up), until a free reaches free_pcppages_bulk (--check's bound)
    if (count > this.high[z.id]! && count > this.overHigh[idx]!) this.overHigh[idx] = count;
    return pfn;
  }

  /**
   * free_unref_page's pcp part (free_unref_page_commit) on CPU `cpu`: the block, whose flags
   * the caller cleared, goes to the head of its list with the pageblock's migratetype
   * (HighAtomic on the Movable list; an Isolate block goes straight to the buddy); when the
   * count reaches nr_pcp_high, free_pcppages_bulk frees nr_pcp_free pages, starting at this
   * list. PGFREE is the caller's.
   */
  free(z: Zone, cpu: number, pfn: number, order: number): void {
    const p = this.buddy.pages;
    let mt = p.pbMt[pfn >>> PAGEBLOCK_ORDER]!;
    if (mt >= MIGRATE_PCPTYPES) {
      if (mt === MT_ISOLATE) {
        this.buddy.freeOnePage(z, pfn, order, mt, FPI_NONE);
        return;
      }
      mt = MT_MOVABLE;
    }
    const idx = z.id * this.nrCpus + cpu;
    const pindex = orderToPindex(mt, order);
    p.order[pfn] = order;
    p.listMt[pfn] = mt;
    listAdd(p, this.head, this.tail, idx * NR_PCP_LISTS + pindex, pfn);
    const count = (this.count[idx]! += 1 << order);
    const freeHigh = this.freeFactor[idx] !== 0 && order > 0 && order <= PAGE_ALLOC_COSTLY_ORDER;
    if (!freeHigh && count < this.leastHigh[z.id]!) return; // below any nr_pcp_high: nothing to free
    const high = this.nrPcpHigh(z, freeHigh);
    if (count >= high) this.freeBulk(z, idx, this.nrPcpFree(idx, high, this.batch[z.id]!, freeHigh), pindex);
  }

  /** nr_pcp_high: 0 when high is 0 or free_high; min(batch * 4, high) while reclaim is active on the zone. */
  private nrPcpHigh(z: Zone, freeHigh: boolean): number {
    const high = this.high[z.id]!;
    if (!high || freeHigh) return 0;
    if (!this.reclaimActive(z)) return high;
    return Math.min(this.batch[z.id]! << 2, high);
  }

  /**
   * nr_pcp_free: everything under free_high; 1 for a boot/disabled pageset (high < batch);
   * else batch << free_factor clamped to [batch, high - batch], free_factor growing while
   * that is below high - batch.
   */
  private nrPcpFree(idx: number, high: number, batch: number, freeHigh: boolean): number {
    if (freeHigh) return this.count[idx]!;
    if (high < batch) return 1;
    const min = batch;
    const max = high - batch;
    let b = batch * 2 ** this.freeFactor[idx]!;
    if (b < max) this.freeFactor[idx]!++;
    if (b > max) b = max;
    if (b < min) b = min;
    return b;
  }

  /**
   * free_pcppages_bulk: `n` pages (at most the count) back to the buddy, round-robin over the
   * non-empty lists starting at `pindex`, each list's oldest (tail) blocks first, through
   * __free_one_page with the migratetype they were listed with (the pageblock's, if it was
   * isolated meanwhile).
   */
  private freeBulk(z: Zone, idx: number, n: number, pindex: number): void {
    const p = this.buddy.pages;
    let count = Math.min(n, this.count[idx]!);
    const base = idx * NR_PCP_LISTS;
    let minP = 0;
    let maxP = NR_PCP_LISTS - 1;
    pindex--;
    while (count > 0) {
      for (;;) {
        if (++pindex > maxP) pindex = minP;
        if (this.head[base + pindex]! >= 0) break;
        if (pindex === maxP) maxP--;
        if (pindex === minP) minP++;
      }
      const li = base + pindex;
      const order = pindexToOrder(pindex);
      const nr = 1 << order;
      do {
        const pfn = this.tail[li]!;
        let mt = p.listMt[pfn]!;
        listDel(p, this.head, this.tail, li, pfn);
        count -= nr;
        this.count[idx]! -= nr;
        if (p.pbMt[pfn >>> PAGEBLOCK_ORDER] === MT_ISOLATE) mt = MT_ISOLATE;
        this.buddy.freeOnePage(z, pfn, order, mt, FPI_NONE);
      } while (count > 0 && this.head[li]! >= 0);
    }
    // free_pcppages_bulk frees what nr_pcp_free asked for, from this list first: a count that was
    // above high (a refill, a lowered high) may stay above it, as in 6.1
    const left = this.count[idx]!;
    this.overHigh[idx] = left > this.high[z.id]! ? left : 0;
  }

  /** drain_pages_zone: CPU `cpu`'s pcp of zone z back to the buddy (free_pcppages_bulk of its count). */
  drainZone(z: Zone, cpu: number): void {
    const idx = z.id * this.nrCpus + cpu;
    if (this.count[idx]! > 0) this.freeBulk(z, idx, this.count[idx]!, 0);
  }

  /** drain_local_pages(zone): CPU `cpu`'s pcp of zone z, or of every zone for null. */
  drainLocal(z: Zone | null, cpu: number): void {
    if (z) this.drainZone(z, cpu);
    else for (const zz of this.buddy.zones) this.drainZone(zz, cpu);
  }

  /**
   * drain_all_pages(zone) (__drain_all_pages without force): every CPU, in ascending order,
   * drains its pcp of zone z, or of every populated zone for null (drain_pages).
   */
  drainAll(z: Zone | null): void {
    for (let cpu = 0; cpu < this.nrCpus; cpu++) this.drainLocal(z, cpu);
  }

  /** Pages on the pcp lists of zone z, every CPU. */
  zonePages(zid: number): number {
    let s = 0;
    for (let cpu = 0; cpu < this.nrCpus; cpu++) s += this.count[zid * this.nrCpus + cpu]!;
    return s;
  }

  /** Pages on every pcp list of the machine. */
  totalPages(): number {
    let s = 0;
    for (let i = 0; i < this.count.length; i++) s += this.count[i]!;
    return s;
  }

  /**
   * zoneinfo's `pagesets` of zone `zid` (Zone.id): for each CPU of the machine, its count, high
   * and batch (6.1's zoneinfo_show_print walks every online CPU). The accessor the zoneinfo
   * read key uses.
   */
  pagesets(zid: number): Pageset[] {
    const out: Pageset[] = [];
    for (let cpu = 0; cpu < this.nrCpus; cpu++)
      out.push({ cpu, count: this.count[zid * this.nrCpus + cpu]!, high: this.high[zid]!, batch: this.batch[zid]! });
    return out;
  }

  /**
   * The --check invariants of the pcp lists: each list well linked and holding blocks of its
   * order, aligned, inside the zone, neither PageBuddy nor allocated, listed once (`cover`
   * marks their pages, shared with the buddy check); count = the pages listed, 0 <= count <=
   * high, allowing what 6.1 itself allows above it: one refill's leftover (rmqueue_bulk's batch
   * less the block taken) and a count a recomputation of high left above it. Returns the first
   * violation or null.
   */
  check(cover: Uint8Array, flagsBad: (pfn: number) => string | null): string | null {
    const p = this.buddy.pages;
    for (const z of this.buddy.zones) {
      for (let cpu = 0; cpu < this.nrCpus; cpu++) {
        const idx = z.id * this.nrCpus + cpu;
        const where = `node ${z.nid} zone ${z.name} cpu ${cpu} pcp`;
        let pages = 0;
        for (let pindex = 0; pindex < NR_PCP_LISTS; pindex++) {
          const li = idx * NR_PCP_LISTS + pindex;
          const order = pindexToOrder(pindex);
          let prev = -1;
          let n = 0;
          for (let pfn = this.head[li]!; pfn >= 0; pfn = p.next[pfn]!) {
            if (++n > z.managed) return `${where} list ${pindex} loops`;
            if (p.prev[pfn] !== prev) return `${where}: pfn ${pfn}'s prev link ${p.prev[pfn]} should be ${prev}`;
            if (p.order[pfn] !== order) return `${where}: pfn ${pfn} on the order-${order} list has order ${p.order[pfn]}`;
            if (pindex < NR_LOWORDER_PCP_LISTS && p.listMt[pfn] !== pindex % MIGRATE_PCPTYPES)
              return `${where}: pfn ${pfn} on list ${pindex} says migratetype ${p.listMt[pfn]}`;
            if (pfn % (1 << order) !== 0) return `${where}: block ${pfn} is not aligned to order ${order}`;
            if (pfn < z.start || pfn + (1 << order) > z.end) return `${where}: block ${pfn}/${order} is outside the zone`;
            for (let q = pfn; q < pfn + (1 << order); q++) {
              if (cover[q]) return `pfn ${q} is on a pcp list and in another free block or pcp list`;
              cover[q] = 1;
              const bad = flagsBad(q);
              if (bad) return `${where}: pfn ${q} ${bad}`;
            }
            pages += 1 << order;
            prev = pfn;
          }
          if (this.tail[li] !== prev) return `${where} list ${pindex}: tail ${this.tail[li]} should be ${prev}`;
        }
        const count = this.count[idx]!;
        if (count !== pages) return `${where}: count ${count} but the lists hold ${pages}`;
        if (!this.enabled && count) return `${where}: wsim.pcp is 0 but ${count} pages are listed`;
        // above high only as far as a refill or a lowered high left it (overHigh), never by a
        // free that should have reached free_pcppages_bulk
        const bound = Math.max(this.high[z.id]!, this.overHigh[idx]!);
        if (count < 0 || count > bound)
          return `${where}: count ${count} outside [0, high ${this.high[z.id]}${this.overHigh[idx] ? `, or ${this.overHigh[idx]} left by a refill or a lowered high` : ""}]`;
      }
    }
    return null;
  }
}

