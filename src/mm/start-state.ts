/**
 * Putting a machine into a real machine's state before the first event (issue 13 item 5):
 * the watermarks and protection a saved zoneinfo printed (applyZoneMarks), and the free-block
 * population of a saved pagetypeinfo (applyStartState, laid out by
 * src/machine/start-state.ts planZone) with every other managed page used by the boot owner:
 *
 * - in a Movable pageblock, a used page is an anonymous page of the boot owner: an mm with pid
 *   0 that no event names and that never exits (ProcessTable.createDetached), in the root
 *   memcg, on its node's LRU, mapped at consecutive addresses in pfn order; in the oldest
 *   generation, or with `lruGen` (a saved /sys/kernel/debug/lru_gen) spread over the
 *   generations in the proportions it shows (a real machine's boot pages are mostly in use, in
 *   young generations: placed in the oldest, reclaim took them first where the kernel did not).
 *   `inUsePct` percent of them (wsim.boot_in_use), spread evenly, stay in use (PG_IN_USE:
 *   young whenever a scanner tests them), as the pages of the real machine's running processes
 *   are: aging and look-around promote them and eviction keeps them. Compaction can migrate
 *   any of them and reclaim can swap out those not in use like any anon page; they count in
 *   nr_anon_pages, nr_inactive_anon / nr_zone_inactive_anon and the root memcg's anon.
 * - in any other pageblock (Unmovable, Reclaimable, HighAtomic, Isolate) a used page is an
 *   unmovable kernel page, as a trace's `alloc` makes: never migrated, never freed, counted
 *   in wsim_kernel_pages (no kernel counter: the kernel's slab, page tables, stacks, ...
 *   cannot be told apart from the files).
 * - with `lru` (a saved zoneinfo's nr_zone_{in,}active_{anon,file} + nr_zone_unevictable per
 *   zone), no more of a zone's used Movable-pageblock pages become the boot owner's anon pages
 *   than that count, spread evenly in pfn order; the others are unmovable kernel pages as above
 *   (a guest's slab, stacks and page tables sit in Movable pageblocks after fallbacks, and
 *   reclaim cannot take them: making them anon gave reclaim pages the real machine lacks).
 * - the pages a saved zoneinfo shows on a zone's per-cpu lists (pagesets' `count`, given as
 *   `pcp`) are taken from the used pages of its Movable pageblocks, spread evenly in pfn order,
 *   and freed to that CPU's list (free_unref_page): free, but in neither nr_free_pages nor
 *   buddyinfo, as on the real machine. Without `pcp` (or with wsim.pcp=0) the lists start empty.
 */
import { DataError, ValueError } from "../errors.js";
import { ZONE_NAMES, type ExplicitZone } from "../machine/zones.js";
import { planZone, type StartLru, type StartLruGen, type StartPcp, type StartState } from "../machine/start-state.js";
import { MT_ISOLATE, MT_MOVABLE, PAGEBLOCK_NR_PAGES, PAGEBLOCK_ORDER, MAX_ORDER, MIGRATE_TYPES } from "./constants.js";
import { PG_ALLOC, PG_ANON, PG_HEAD, PG_IN_USE, PG_LRU } from "./pages.js";
import { WMARK_HIGH, WMARK_LOW, WMARK_MIN, WMARK_PROMO, type Zone } from "./buddy.js";
import type { Memory } from "./memory.js";
import type { Mm } from "./process.js";
import type { Lruvec } from "./lru-gen.js";

/** The boot owner's pid: no trace event can name it (traces' pids start at 1). */
export const BOOT_PID = 0;

/** What applyStartState did, for the user (a note) and tests. */
export interface StartStateSummary {
  /** free pages put on the free lists (Isolate ones included) */
  free: number;
  /** the boot owner's anonymous pages (in Movable pageblocks) */
  bootMovable: number;
  /** the boot owner's unmovable kernel pages (other pageblocks) */
  bootUnmovable: number;
  /** the boot owner's mm, null when it has no movable page */
  mm: Mm | null;
  /** pages put on per-cpu lists */
  pcp: number;
  /** the boot owner's pages that stay in use (wsim.boot_in_use, PG_IN_USE) */
  inUse: number;
}

/**
 * The watermarks (min/low/high; promo = high + (high - low) as __setup_per_zone_wmarks sets
 * it) and lowmem_reserve of the machine's explicit zones that give them (a machine read from
 * zoneinfo), then pcp high/batch again from the new low marks (zone_pcp_update). Zones that
 * give none keep the computed ones.
 */
export function applyZoneMarks(mem: Memory): void {
  const list = Array.isArray(mem.machine.zones) ? (mem.machine.zones as ExplicitZone[]) : [];
  let any = false;
  for (const e of list) {
    const z = mem.nodeZones[e.node]?.find((q) => q.name === e.name);
    if (!z) continue;
    if (e.min !== undefined && e.low !== undefined && e.high !== undefined) {
      z.wmark[WMARK_MIN] = e.min;
      z.wmark[WMARK_LOW] = e.low;
      z.wmark[WMARK_HIGH] = e.high;
      z.wmark[WMARK_PROMO] = e.high + (e.high - e.low);
      any = true;
    }
    if (e.protection) z.lowmemReserve.set(e.protection);
  }
  if (any) mem.updatePcp();
}

/**
 * Replaces the boot state (every managed page free) by `state`, zone by zone (see the file
 * comment for who uses the other pages). Must run before any event. A zone of the machine the
 * state does not list stays as at boot (a warning says so). Throws DataError at the
 * pagetypeinfo line of a zone the machine lacks, or of a zone that cannot be laid out
 * (planZone's reasons, e.g. a start state larger than the machine).
 */
export function applyStartState(
  mem: Memory, state: StartState, warn: (text: string) => void, pcp: readonly StartPcp[] = [], lru: readonly StartLru[] = [],
  lruGen: readonly StartLruGen[] = [], inUsePct = 0,
): StartStateSummary {
  const summary: StartStateSummary = { free: 0, bootMovable: 0, bootUnmovable: 0, mm: null, pcp: 0, inUse: 0 };
  for (const g of lruGen)
    if (!mem.nodeZones[g.nid]?.length) warn(`lru_gen: node ${g.nid} is not in machine ${mem.machine.name}: its generations are not used`);
  if (lruGen.length && mem.lru.classic) {
    warn("lru_gen.enabled=0: the lru_gen file's generations are not used (the boot owner's pages start on the inactive anon list)");
    lruGen = [];
  }
  if (pcp.some((x) => x.counts.some((c) => c > 0)) && !mem.pcp.enabled) {
    warn("wsim.pcp=0: the pages zoneinfo shows on per-cpu lists count as used");
    pcp = [];
  }
  const managedMap = mem.managedMap();
  const p = mem.pages;
  const buddy = mem.buddy;
  const seen = new Set<number>();
  const plans = state.zones.map((sz) => {
    const z = mem.nodeZones[sz.nid]?.find((q) => q.name === sz.zone);
    if (!z) {
      const have = mem.zones.map((q) => `node ${q.nid} ${q.name}`).join(", ");
      throw new DataError(sz.file, sz.line, `node ${sz.nid} zone ${sz.zone} is not in machine ${mem.machine.name} (its populated zones: ${have}): give the machine these files came from (--machine its zoneinfo)`);
    }
    seen.add(z.id);
    const blocks: number[] = [];
    for (let pfn = z.start; pfn < z.end; pfn += PAGEBLOCK_NR_PAGES) if (mem.pfnValid(pfn)) blocks.push(pfn >>> PAGEBLOCK_ORDER);
    try {
      const plan = planZone({ start: z.start, end: z.end, blocks, managed: (pfn) => managedMap === null || managedMap[pfn] === 1 }, sz);
      if (plan.spilled > 0)
        warn(`${sz.file}:${sz.line}: node ${sz.nid} zone ${sz.zone}: ${plan.spilled} free blocks (or pageblocks of free order-9/10 blocks) lie in pageblocks of another migratetype: theirs had no room (the kernel leaves such strays after fallbacks)`);
      if (plan.extraBlocks > 0)
        warn(`${sz.file}:${sz.line}: node ${sz.nid} zone ${sz.zone}: the files count ${blocks.length - plan.extraBlocks} pageblocks, the machine's zone has ${blocks.length}: the other ${plan.extraBlocks} are Movable and used`);
      return { z, plan };
    } catch (e) {
      if (e instanceof ValueError) throw new DataError(sz.file, sz.line, `node ${sz.nid} zone ${sz.zone}: ${e.message}`);
      throw e;
    }
  });
  for (const z of mem.zones) if (!seen.has(z.id)) warn(`node ${z.nid} zone ${ZONE_NAMES[z.idx]} is in no start-state file: it starts as at boot, all free`);
  // every planned zone's boot free blocks come off the lists
  for (const { z } of plans) {
    for (let o = 0; o < MAX_ORDER; o++)
      for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
        const li = o * MIGRATE_TYPES + mt;
        while (z.head[li]! >= 0) {
          const pfn = z.head[li]!;
          buddy.delFromFreeList(z, pfn, o);
          if (mt !== MT_ISOLATE) z.freePages -= 1 << o;
          p.flags.fill(PG_ALLOC, pfn, pfn + (1 << o));
        }
      }
  }
  let mm: Mm | null = null;
  let vpn = 0;
  const warnedNodes = new Set<number>();
  const leafSize = 512;
  for (const { z, plan } of plans) {
    for (const [b, mt] of plan.pbMt) p.pbMt[b] = mt;
    const isFree = new Uint8Array(z.end - z.start);
    for (const [pfn, order, mt] of plan.free) {
      p.flags.fill(0, pfn, pfn + (1 << order));
      // the planned blocks' buddies are not free: add_to_free_list_tail, no merging to try
      buddy.addToFreeList(z, pfn, order, mt, true);
      if (mt !== MT_ISOLATE) z.freePages += 1 << order;
      isFree.fill(1, pfn - z.start, pfn - z.start + (1 << order));
      summary.free += 1 << order;
    }
    const lv = mem.memcgs.root.lruvecs[z.nid]!;
    // the zone's pcp pages: which CPU takes the k-th used page of a Movable pageblock (-1: none)
    const onPcp = pcpChoice(mem, z, pcp.find((x) => x.nid === z.nid && x.zone === z.name)?.counts ?? [], isFree, managedMap, warn);
    let k = 0;
    const movable: number[] = [];
    for (let pfn = z.start; pfn < z.end; pfn++) {
      if (isFree[pfn - z.start] || (managedMap !== null && managedMap[pfn] !== 1)) continue;
      if (onPcp !== null && p.pageblockMt(pfn) === MT_MOVABLE) {
        const cpu = onPcp(k++);
        if (cpu >= 0) {
          // free_unref_page: flags cleared, to the head of the CPU's list
          p.flags[pfn] = 0;
          mem.pcp.free(z, cpu, pfn, 0);
          summary.pcp++;
          continue;
        }
      }
      p.order[pfn] = 0;
      p.mflags[pfn] = 0;
      if (p.pageblockMt(pfn) !== MT_MOVABLE) {
        p.flags[pfn] = PG_ALLOC | PG_HEAD;
        summary.bootUnmovable++;
        continue;
      }
      movable.push(pfn);
    }
    // no more boot owner's LRU pages than zoneinfo's LRU counts: the rest of the used Movable
    // pages are the kernel's (slab, stacks, page tables the kernel put there by fallback)
    const cap = lru.find((x) => x.nid === z.nid && x.zone === z.name)?.pages;
    const n = movable.length;
    const want = cap === undefined ? n : Math.min(n, Math.max(0, cap));
    const nodeGens = lruGen.find((x) => x.nid === z.nid)?.pages;
    if (lruGen.length && nodeGens === undefined && want > 0 && !warnedNodes.has(z.nid)) {
      warnedNodes.add(z.nid);
      warn(`lru_gen has no generations for node ${z.nid}: its boot owner's pages start in the oldest generation`);
    }
    const genOf = generationChoice(lv, nodeGens, want);
    let m = 0;
    for (let j = 0; j < n; j++) {
      const pfn = movable[j]!;
      // the j-th candidate is on the LRU when floor((j + 1) * want / n) > floor(j * want / n): evenly spread
      if (want < n && !evenlyPicked(j, want, n)) {
        p.flags[pfn] = PG_ALLOC | PG_HEAD;
        summary.bootUnmovable++;
        continue;
      }
      // an anonymous page of the boot owner, mapped at the next address
      if (mm === null) {
        mm = mem.procs.createDetached(BOOT_PID, mem.memcgs.root);
        mm.vmas.push({ start: 0, end: 0, file: false, thp: false, node: -1, anonVma: null });
      }
      const idx = Math.floor(vpn / leafSize);
      const leaf = mm.leaf(idx) ?? mm.addLeaf(idx, -1);
      leaf[vpn - idx * leafSize] = pfn + 1;
      leaf[leafSize]!++;
      p.flags[pfn] = PG_ALLOC | PG_HEAD | PG_LRU | PG_ANON;
      mem.ownerMm[pfn] = mm.slot;
      mem.ownerVpn[pfn] = vpn;
      mem.lastAccess[pfn] = 0;
      mem.lru.add(lv, pfn, genOf(m));
      // wsim.boot_in_use: inUsePct of every 100, spread evenly
      if (evenlyPicked(m, inUsePct, 100)) {
        p.mflags[pfn] = PG_IN_USE;
        summary.inUse++;
      }
      m++;
      mm.rssAnon++;
      mem.procs.nrAnon++;
      summary.bootMovable++;
      vpn++;
    }
  }
  if (mm !== null) mm.vmas[0]!.end = vpn;
  mem.bootMm = mm;
  mem.kernelPages += summary.bootUnmovable;
  summary.mm = mm;
  return summary;
}

/**
 * Whether the k-th of n candidates (0-based) is one of `want` spread evenly over them: when
 * floor((k + 1) * want / n) > floor(k * want / n). Used for the LRU cap, the pcp pages and the
 * pages in use.
 */
function evenlyPicked(k: number, want: number, n: number): boolean {
  return Math.floor(((k + 1) * want) / n) > Math.floor((k * want) / n);
}

/**
 * A write of wsim.boot_in_use after the start (a trace's `set`): `pct` percent of the boot
 * owner's pages still mapped, spread evenly in address order as at the start (the m-th when
 * floor((m + 1) * pct / 100) > floor(m * pct / 100)), are in use from now on, the others idle.
 * Its pages swapped out since are not counted. Without a boot owner nothing happens. Returns
 * the pages in use.
 */
export function applyBootInUse(mem: Memory, pct: number): number {
  const mm = mem.bootMm;
  if (mm === null || mm.exited) return 0;
  const mflags = mem.pages.mflags;
  const leafSize = 512;
  let m = 0;
  let inUse = 0;
  for (let vpn = 0; vpn < mm.vmas[0]!.end; vpn++) {
    const leaf = mm.leaf(Math.floor(vpn / leafSize));
    const pte = leaf === undefined ? 0 : leaf[vpn % leafSize]!;
    if (pte <= 0) continue;
    const pfn = pte - 1;
    if (evenlyPicked(m, pct, 100)) {
      mflags[pfn]! |= PG_IN_USE;
      inUse++;
    } else mflags[pfn]! &= ~PG_IN_USE;
    m++;
  }
  return inUse;
}

/**
 * The generation (seq) of the m-th of a zone's `want` boot owner LRU pages (pfn order): with a
 * saved lru_gen's `pages` per age (max_seq - seq) on the zone's node, pages go to the ages in
 * proportion, oldest first (page m to the age whose cumulative share holds floor(m * total /
 * want)), each at lv.maxSeq - age, at least min_seq; without one (or an empty one) all in the
 * oldest generation, min_seq.
 */
function generationChoice(lv: Lruvec, pages: readonly number[] | undefined, want: number): (m: number) => number {
  const total = pages?.reduce((a, b) => a + b, 0) ?? 0;
  const oldest = lv.minSeq[0]!;
  if (!pages || total === 0) return () => oldest;
  return (m: number) => {
    const at = Math.floor((m * total) / want);
    let cum = 0;
    for (let age = pages.length - 1; age >= 0; age--) {
      cum += pages[age]!;
      if (at < cum) return Math.max(oldest, lv.maxSeq - age);
    }
    return lv.maxSeq;
  };
}

/**
 * Which CPU's pcp list takes the k-th used page of a Movable pageblock of zone z (ascending
 * pfn), for `counts[cpu]` pages per CPU spread evenly over the candidates (candidate k is
 * picked when floor((k + 1) * want / n) > floor(k * want / n)), CPUs in order; null when no
 * page goes to a pcp list. A count at or above the zone's pcp high (it would have been drained)
 * is cut to high - 1, and a CPU the machine lacks or too few candidates are skipped, each with
 * a warning.
 */
function pcpChoice(mem: Memory, z: Zone, counts: readonly number[], isFree: Uint8Array, managedMap: Uint8Array | null, warn: (t: string) => void): ((k: number) => number) | null {
  const high = mem.pcp.high[z.id]!;
  const want = counts.map((c, cpu) => {
    if (c > 0 && cpu >= mem.pcp.nrCpus) {
      warn(`zoneinfo: node ${z.nid} zone ${z.name}: cpu ${cpu}'s ${c} pcp pages: the machine has ${mem.pcp.nrCpus} CPUs, they count as used`);
      return 0;
    }
    if (c >= high && c > 0) {
      warn(`zoneinfo: node ${z.nid} zone ${z.name}: cpu ${cpu}'s pcp count ${c} is not below high ${high}: ${Math.max(0, high - 1)} are put on the list`);
      return Math.max(0, high - 1);
    }
    return c;
  });
  let total = want.reduce((a, b) => a + b, 0);
  if (!total) return null;
  let n = 0;
  const p = mem.pages;
  for (let pfn = z.start; pfn < z.end; pfn++)
    if (!isFree[pfn - z.start] && (managedMap === null || managedMap[pfn] === 1) && p.pageblockMt(pfn) === MT_MOVABLE) n++;
  if (n < total) {
    warn(`zoneinfo: node ${z.nid} zone ${z.name}: ${total} pcp pages but ${n} used pages in Movable pageblocks: ${n} are put on the lists`);
    total = n;
  }
  let picked = 0;
  let cpu = 0;
  let left = want[0] ?? 0;
  return (k: number) => {
    if (!evenlyPicked(k, total, n) || picked >= total) return -1;
    while (left === 0 && cpu < want.length - 1) left = want[++cpu]!;
    if (left === 0) return -1;
    left--;
    picked++;
    return cpu;
  };
}
