/**
 * The invariant checker (SPEC §4.2), run after every event under --check and in tests:
 * every pfn is in exactly one free block, on a pcp list, or allocated; free blocks are naturally aligned,
 * inside their zone and on the list their flags say; no two free buddies of the same order
 * both sit free (merging is complete); per-order and per-list counts equal the list lengths;
 * NR_FREE_PAGES is their sum, per zone; no free block crosses its zone's boundary. Pages
 * outside the zones' managed RAM (holes, memblock reservations) count as allocated (they are
 * PG_ALLOC from boot) and must never be free. Returns a description of the first violation, or null.
 * O(pages): meant for small machines and debugging.
 */
import { listNext, listPrev } from "./list.js";
import { MAX_ORDER, MIGRATE_TYPES, MT_HIGHATOMIC, MT_ISOLATE, PAGEBLOCK_ORDER } from "./constants.js";
import type { Buddy } from "./buddy.js";
import type { PerCpuPages } from "./pcp.js";
import { PG_ALLOC, PG_ANON_SHARED, PG_BUDDY, PG_FILE_MAPPED, PG_HEAD, PG_LRU, PG_REPORTED, PG_UNEVICTABLE } from "./pages.js";
import { findRange, PTE_TABLE, type Vma } from "./process.js";
import type { Slub } from "./slab.js";

export function checkInvariants(
  buddy: Buddy,
  reportingOrder = 0,
  isolated: readonly [number, number][] = [],
  /** 1 for each pfn of managed RAM (Memory.managedMap); a free page elsewhere is a hole or reserved page handed out */
  managed: Uint8Array | null = null,
  /** the per-cpu page lists: their blocks count as free (pcp), once, and are checked (PerCpuPages.check) */
  pcp: PerCpuPages | null = null,
): string | null {
  const p = buddy.pages;
  const cover = new Uint8Array(p.nrPages);
  // blocks isolated for a report in flight are neither on a list nor allocated
  for (const [pfn, order] of isolated) for (let q = pfn; q < pfn + 2 ** order; q++) cover[q] = 1;
  for (const z of buddy.zones) {
    // "node N", or "node N zone NAME" on a node of several zones
    const where = buddy.zones.some((o) => o !== z && o.nid === z.nid) ? `node ${z.nid} zone ${z.name}` : `node ${z.nid}`;
    let freePages = 0;
    const reported = new Int32Array(MAX_ORDER);
    for (let o = 0; o < MAX_ORDER; o++) {
      let perOrder = 0;
      for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
        const li = o * MIGRATE_TYPES + mt;
        let n = 0;
        let prev = -1;
        let seenReported = false;
        const links = p.linksOf(o);
        for (let pfn = z.head[li]!; pfn >= 0; pfn = listNext(links, pfn)) {
          if (p.flags[pfn]! & PG_REPORTED) {
            reported[o]!++;
            if (o < reportingOrder) return `pfn ${pfn} is reported at order ${o}, below page_reporting.order ${reportingOrder}`;
            if (buddy.aeration && !seenReported && z.boundary[li] !== pfn) return `order ${o} list ${mt}: the aeration boundary is ${z.boundary[li]}, the first aerated block ${pfn}`;
            seenReported = true;
          } else if (buddy.aeration && seenReported) return `order ${o} list ${mt}: raw block ${pfn} below the aeration boundary`;
          if (++n > z.managed) return `${where} order ${o} ${mt} free list loops`;
          if (listPrev(links, pfn) !== prev) return `pfn ${pfn}: prev link ${listPrev(links, pfn)} should be ${prev}`;
          if (!(p.flags[pfn]! & PG_BUDDY)) return `pfn ${pfn} is on a free list without PageBuddy`;
          if (p.order[pfn] !== o) return `pfn ${pfn} on the order-${o} list has order ${p.order[pfn]}`;
          if (p.listMtOf(pfn, o) !== mt) return `pfn ${pfn} on list ${mt} says it is on ${p.listMtOf(pfn, o)}`;
          if (pfn % (1 << o) !== 0) return `free block at pfn ${pfn} is not aligned to order ${o}`;
          if (pfn < z.start || pfn + (1 << o) > z.end) return `free block ${pfn}/${o} is outside ${where}'s zone [${z.start}, ${z.end})`;
          for (let q = pfn; q < pfn + (1 << o); q++) {
            if (cover[q]) return `pfn ${q} is in two free blocks`;
            cover[q] = 1;
          }
          if (o < MAX_ORDER - 1) {
            const b = pfn ^ (1 << o);
            if (b >= z.start && b < z.end && p.flags[b]! & PG_BUDDY && p.order[b] === o) {
              const mtA = p.pbMt[pfn >>> PAGEBLOCK_ORDER]!;
              const mtB = p.pbMt[b >>> PAGEBLOCK_ORDER]!;
              const blocked = o >= PAGEBLOCK_ORDER && mtA !== mtB && (mtA >= MT_HIGHATOMIC || mtB >= MT_HIGHATOMIC);
              if (!blocked) return `free buddies ${Math.min(pfn, b)} and ${Math.max(pfn, b)} of order ${o} were not merged`;
            }
          }
          prev = pfn;
        }
        if (z.tail[li] !== prev) return `${where} list ${o}/${mt}: tail ${z.tail[li]} should be ${prev}`;
        if (z.nrFreeMt[li] !== n) return `${where} order ${o} type ${mt}: count ${z.nrFreeMt[li]} but ${n} on the list`;
        perOrder += n;
        if (mt !== MT_ISOLATE) freePages += n << o;
      }
      if (z.nrFree[o] !== perOrder) return `${where} order ${o}: nr_free ${z.nrFree[o]} but ${perOrder} blocks listed`;
    }
    if (z.freePages !== freePages) return `${where}: NR_FREE_PAGES ${z.freePages} but the lists hold ${freePages}`;
    for (let o = 0; o < MAX_ORDER; o++)
      if (reported[o] !== z.reported[o]) return `${where} order ${o}: ${z.reported[o]} reported blocks counted, ${reported[o]} on the lists`;
  }
  if (pcp) {
    const bad = pcp.check(cover, (q) => (p.flags[q] ? `has flags ${p.flags[q]} (a pcp page is neither PageBuddy nor allocated)` : null));
    if (bad) return bad;
  }
  for (let pfn = 0; pfn < p.nrPages; pfn++) {
    const alloc = (p.flags[pfn]! & PG_ALLOC) !== 0;
    if (cover[pfn] && alloc) return `pfn ${pfn} is both free and allocated`;
    if (cover[pfn] && managed && !managed[pfn]) return `pfn ${pfn} is free but is no managed RAM (a hole or a reserved page)`;
    if (!cover[pfn] && !alloc) return `pfn ${pfn} is neither free nor allocated (leaked)`;
    if (!cover[pfn] && p.flags[pfn]! & PG_BUDDY) return `pfn ${pfn} has PageBuddy but is on no list`;
    if (p.flags[pfn]! & PG_REPORTED && !(p.flags[pfn]! & PG_BUDDY)) return `pfn ${pfn} is reported but not a free block`;
  }
  return null;
}

/** What the mapping checks need of Memory (kept structural to avoid a cycle). */
export interface MappingView {
  buddy: Buddy;
  ownerMm: Int32Array;
  ownerVpn: Float64Array;
  lru: { lruvecs: readonly { id: number; head: Int32Array; count: Float64Array; total: number[] }[]; next: Int32Array; lruvecOf: Int32Array; slot: Uint8Array; classic?: boolean };
  procs: {
    bySlot: ReadonlyMap<
      number,
      {
        pt: ReadonlyMap<number, Int32Array>;
        pmdTables: ReadonlyMap<number, { pfn: number; n: number }>;
        pudTables: ReadonlyMap<number, { pfn: number; n: number }>;
        pgd: number;
        vmas: readonly Vma[];
        maple: readonly unknown[];
        rssAnon: number;
        rssFile: number;
        swapEnts?: number;
        pid: number;
      }
    >;
    nrPageTables: number;
    /** per pfn: swap slot + 1 of a swap cache page read ahead and not mapped (0: none) */
    swapSlot?: Int32Array | null;
    nrSwapCached?: number;
    /** the owners beyond the first of pages several mms map (fork.ts) */
    rmapShared?: ReadonlyMap<number, readonly number[]>;
    /** swap-entry references beyond the first (swap_duplicate) */
    shadowDups?: number;
    /** the mappings of mapped page-cache pages (filemap.ts): pfn -> [mm slot, vpn, ...] */
    fileMaps?: ReadonlyMap<number, readonly number[]>;
  };
  shadowsInUse: number;
  /** the page cache outside mappings (pagecache.ts): its own check, its pages on the LRU and its shadow entries */
  pageCache?: { check(lruvecOf: Int32Array): { cached: number; shadows: number } | string };
  /** anon pages under swap writeback (swap-writeback.ts): its own check */
  swapWb?: { check(allocated: (pfn: number) => boolean, anon: (pfn: number) => boolean): string | null };
  /** is this swap/shadow entry a swap slot (anon)? */
  swapType?: (entry: number) => boolean;
  swapUsed?: number;
  swapTotal?: number;
  reportingOrder: number;
  /** blocks isolated by the reporting worker right now */
  isolated: readonly [number, number][];
  /** NUMA balancing's PROT_NONE byte per pfn (null: never on) */
  protNone?: Uint8Array | null;
  /** managed RAM per pfn (null: every pfn, a flat machine) */
  managed?: Uint8Array | null;
  /** the VMA caches (absent: not checked) */
  slub?: Slub;
  /** the per-cpu page lists (null: none) */
  pcp?: PerCpuPages | null;
}

/**
 * The allocator invariants, then the mappings: every page-table entry and the reverse map
 * agree both ways, every mapped page is on exactly one lruvec list of its generation (or the
 * unevictable list, exactly when PG_unevictable), list
 * counts equal the lists, and the swap/shadow entries in page tables match those in use.
 * With NUMA balancing: a PROT_NONE page is one a page table maps (a free or unmapped page has
 * no PTE to be PROT_NONE), and a PMD-mapped huge page is PROT_NONE whole or not at all.
 */
export function checkMemory(m: MappingView): string | null {
  const bad = checkInvariants(m.buddy, m.reportingOrder, m.isolated, m.managed ?? null, m.pcp ?? null);
  if (bad) return bad;
  const flags = m.buddy.pages.flags;
  let shadows = 0;
  let swapCached = 0;
  const swapSlot = m.procs.swapSlot;
  let mapped = 0;
  const pn = m.protNone ?? null;
  let protNoneMapped = 0;
  const shared = m.procs.rmapShared;
  /** PTEs seen per page several mms map */
  const sharedRefs = new Map<number, number>();
  /** PTEs seen per mapped page-cache page */
  const fileRefs = new Map<number, number>();
  let tables = 0;
  for (const [slot, mm] of m.procs.bySlot) {
    let swapEnts = 0;
    let anon = 0;
    let file = 0;
    // page-table pages: each leaf's PTE table and each PMD table allocated, not on an LRU,
    // mapped by no one; a PMD table counts the leaves under it, a PUD table the PMD tables
    const underPmd = new Map<number, number>();
    const table = (pfn: number, what: string): string | null =>
      !(flags[pfn]! & PG_ALLOC) || flags[pfn]! & PG_LRU || m.ownerMm[pfn] ? `pid ${mm.pid}: the ${what} at pfn ${pfn} is not an allocated kernel page` : null;
    let withTable = 0;
    for (const [idx, leaf] of mm.pt) {
      if (leaf[PTE_TABLE]! < 0) continue; // made with wsim.page_tables off
      const t = table(leaf[PTE_TABLE]!, `PTE table of leaf ${idx}`);
      if (t) return t;
      withTable++;
      underPmd.set(Math.floor(idx / 512), (underPmd.get(Math.floor(idx / 512)) ?? 0) + 1);
    }
    const underPud = new Map<number, number>();
    for (const [i, t] of mm.pmdTables) {
      const bad = table(t.pfn, `PMD table ${i}`);
      if (bad) return bad;
      if (t.n !== (underPmd.get(i) ?? 0)) return `pid ${mm.pid}: PMD table ${i} counts ${t.n} PTE tables but ${underPmd.get(i) ?? 0} leaves lie under it`;
      underPud.set(Math.floor(i / 512), (underPud.get(Math.floor(i / 512)) ?? 0) + 1);
    }
    for (const i of underPmd.keys()) if (!mm.pmdTables.has(i)) return `pid ${mm.pid}: leaves under PMD ${i}, which has no table`;
    for (const [i, t] of mm.pudTables) {
      const bad = table(t.pfn, `PUD table ${i}`);
      if (bad) return bad;
      if (t.n !== (underPud.get(i) ?? 0)) return `pid ${mm.pid}: PUD table ${i} counts ${t.n} PMD tables but ${underPud.get(i) ?? 0} lie under it`;
    }
    if (withTable && mm.pgd < 0) return `pid ${mm.pid} has page tables but no PGD`;
    tables += withTable + mm.pmdTables.size;
    for (const [idx, leaf] of mm.pt) {
      let n = 0;
      for (let s = 0; s < 512; s++) {
        const pte = leaf[s]!;
        if (pte === 0) continue;
        n++;
        if (pte < 0) {
          shadows++;
          if (m.swapType && m.swapType(-pte - 1)) swapEnts++;
          continue;
        }
        const pfn = pte - 1;
        const vpn = idx * 512 + s;
        if (m.ownerMm[pfn]! < 0) {
          // a page-cache page a shared file mapping maps (filemap.ts): the region maps that file
          // at that index, the page's file rmap lists this PTE; counted in rss, its LRU place by the page cache's check
          const maps = m.procs.fileMaps?.get(pfn);
          let listed = false;
          if (maps !== undefined) for (let k = 0; k < maps.length; k += 2) if (maps[k] === slot && maps[k + 1] === vpn) listed = true;
          if (!listed) return `pid ${mm.pid} vpn ${vpn} maps the cached pfn ${pfn}, whose file rmap does not list it`;
          const v = findRange(mm.vmas, vpn);
          if (v === undefined || v.mapping === undefined || m.ownerMm[pfn] !== -(v.mapping.id + 1) || m.ownerVpn[pfn] !== v.pgoff! + (vpn - v.start))
            return `pid ${mm.pid} vpn ${vpn} maps pfn ${pfn}, page ${m.ownerVpn[pfn]} of file ${-m.ownerMm[pfn]! - 1}, which its region does not map there`;
          if (!(m.buddy.pages.mflags[pfn]! & PG_FILE_MAPPED)) return `pfn ${pfn} is mapped but not PG_FILE_MAPPED`;
          fileRefs.set(pfn, (fileRefs.get(pfn) ?? 0) + 1);
          file++;
          continue;
        }
        const more = shared !== undefined && shared.size !== 0 ? shared.get(pfn) : undefined;
        if ((m.ownerMm[pfn] !== slot && (more === undefined || !more.includes(slot))) || m.ownerVpn[pfn] !== vpn)
          return `pid ${mm.pid} vpn ${vpn} maps pfn ${pfn}, whose rmap says mm ${m.ownerMm[pfn]}${more ? ` and ${more.join(", ")}` : ""} vpn ${m.ownerVpn[pfn]}`;
        if (more !== undefined) {
          // several mms map it: each PTE is one of its mapcount, and write-protected
          if (!(m.buddy.pages.mflags[pfn]! & PG_ANON_SHARED)) return `pfn ${pfn} is mapped by ${more.length + 1} mms but not write-protected (PageAnonExclusive)`;
          sharedRefs.set(pfn, (sharedRefs.get(pfn) ?? 0) + 1);
          if (m.ownerMm[pfn] !== slot) {
            // counted once, at its first owner; this mm's rss only
            if (swapSlot && swapSlot[pfn]) return `pfn ${pfn} waits in the swap cache but several mms map it`;
            if (flags[pfn]! & 32) anon++;
            else return `pfn ${pfn} is a file page several mms map`;
            continue;
          }
        }
        if (!(flags[pfn]! & PG_ALLOC)) return `pid ${mm.pid} vpn ${vpn} maps pfn ${pfn}, which is free`;
        // a huge page's tail pages are on the LRU through their head
        const entry = flags[pfn]! & PG_HEAD ? pfn : pfn - (pfn % 512);
        if (!m.lru.lruvecOf[entry]) return `mapped pfn ${pfn} is on no LRU list`;
        mapped++;
        if (swapSlot && swapSlot[pfn]) {
          // in the swap cache, not mapped: its slot is an entry, it is in no rss
          shadows++;
          swapEnts++;
          swapCached++;
          if (!(flags[pfn]! & 32)) return `pfn ${pfn} is in the swap cache but not anon`;
        } else if (flags[pfn]! & 32) anon++;
        else file++;
        if (pn && pn[pfn]) {
          protNoneMapped++;
          if (!(flags[pfn]! & PG_HEAD) && pn[entry] !== 1) return `pid ${mm.pid} vpn ${vpn}: pfn ${pfn} of the huge page at ${entry} is PROT_NONE, its head is not`;
        } else if (pn && !(flags[pfn]! & PG_HEAD) && pn[entry]) return `pid ${mm.pid} vpn ${vpn}: the huge page at ${entry} is PROT_NONE but its pfn ${pfn} is not`;
      }
      if (leaf[512] !== n) return `pid ${mm.pid} leaf ${idx} counts ${leaf[512]} entries but holds ${n}`;
    }
    if (anon !== mm.rssAnon || file !== mm.rssFile) return `pid ${mm.pid}: rss ${mm.rssAnon}/${mm.rssFile} but maps ${anon}/${file}`;
    if (mm.swapEnts !== undefined && m.swapType && swapEnts !== mm.swapEnts) return `pid ${mm.pid}: MM_SWAPENTS is ${mm.swapEnts} but its page tables hold ${swapEnts} swap entries`;
  }
  if (shared !== undefined) {
    for (const [pfn, more] of shared) {
      // folio_mapcount: every owner's PTE maps it, each owner once
      if (sharedRefs.get(pfn) !== more.length + 1) return `pfn ${pfn} has mapcount ${more.length + 1} but ${sharedRefs.get(pfn) ?? 0} PTEs map it`;
      if (new Set([m.ownerMm[pfn], ...more]).size !== more.length + 1) return `pfn ${pfn} lists an mm twice among its owners`;
    }
  }
  const fm = m.procs.fileMaps;
  if (fm !== undefined) {
    for (const [pfn, maps] of fm) {
      // folio_mapcount of a file page: every listed mapping is a PTE that maps it
      if (fileRefs.get(pfn) !== maps.length / 2) return `cached pfn ${pfn} lists ${maps.length / 2} mappings but ${fileRefs.get(pfn) ?? 0} PTEs map it`;
      if (m.ownerMm[pfn]! >= 0) return `pfn ${pfn} has file mappings but is not a page-cache page`;
    }
    if (fileRefs.size !== fm.size) return `${fileRefs.size} cached pages are mapped but ${fm.size} have file rmaps`;
  }
  if (tables !== m.procs.nrPageTables) return `nr_page_table_pages is ${m.procs.nrPageTables} but the processes hold ${tables} PTE and PMD tables`;
  if (m.slub) {
    // the objects the processes own: a vm_area_struct and anon_vma_chain per region that has
    // them, each anon_vma once, the maple nodes of each tree
    const anonVmas = new Set<object>();
    let vmaObjs = 0;
    let avcs = 0;
    let nodes = 0;
    for (const mm of m.procs.bySlot.values()) {
      for (const v of mm.vmas) {
        if (v.slab) vmaObjs++;
        if (v.avc) avcs++;
        if (v.anonVma && v.anonVma.slab) anonVmas.add(v.anonVma);
        for (const c of v.clonedAvcs ?? []) {
          if (c.avc) avcs++;
          if (c.av.slab) anonVmas.add(c.av);
        }
      }
      nodes += mm.maple.length;
    }
    const held = new Map([["vm_area_struct", vmaObjs], ["anon_vma", anonVmas.size], ["anon_vma_chain", avcs], ["maple_node", nodes]]);
    const bad = m.slub.check(flags, m.ownerMm, held);
    if (bad) return bad;
  }
  if (pn) {
    let n = 0;
    for (let pfn = 0; pfn < pn.length; pfn++) n += pn[pfn]!;
    if (n !== protNoneMapped) return `${n} pages are PROT_NONE but page tables map ${protNoneMapped} of them (a PROT_NONE page that is free or unmapped)`;
  }
  if (m.procs.nrSwapCached !== undefined && swapCached !== m.procs.nrSwapCached) return `nr_swapcached is ${m.procs.nrSwapCached} but ${swapCached} pages are in the swap cache`;
  if (m.swapUsed !== undefined && m.swapTotal !== undefined && m.swapUsed > m.swapTotal) return `${m.swapUsed} swap slots used of ${m.swapTotal}`;
  if (m.swapWb) {
    const bad = m.swapWb.check((pfn) => (flags[pfn]! & PG_ALLOC) !== 0, (pfn) => (flags[pfn]! & 32) !== 0);
    if (bad) return bad;
  }
  if (m.pageCache) {
    const pc = m.pageCache.check(m.lru.lruvecOf);
    if (typeof pc === "string") return pc;
    shadows += pc.shadows;
    mapped += pc.cached;
  }
  if (shadows !== m.shadowsInUse + (m.procs.shadowDups ?? 0)) return `${shadows} swap/shadow entries in page tables but ${m.shadowsInUse} in use`;
  let onLists = 0;
  for (const lv of m.lru.lruvecs) {
    for (let li = 0; li < lv.head.length; li++) {
      let n = 0;
      for (let pfn = lv.head[li]!; pfn >= 0; pfn = m.lru.next[pfn]!) {
        n += flags[pfn]! & PG_HEAD ? 1 << m.buddy.pages.order[pfn]! : 1;
        if (m.lru.lruvecOf[pfn] !== lv.id + 1 || m.lru.slot[pfn] !== li % 16) return `pfn ${pfn} is on lruvec ${lv.id} list ${li} but says otherwise`;
        // the unevictable list (after the 2 x 16 generation lists) holds exactly the PG_unevictable entries
        if ((li === 32) !== ((m.buddy.pages.mflags[pfn]! & PG_UNEVICTABLE) !== 0)) return `pfn ${pfn} is on lruvec ${lv.id} list ${li} with PG_unevictable ${li === 32 ? "clear" : "set"}`;
        if (!m.ownerMm[pfn]) return `pfn ${pfn} is on an LRU list but mapped nowhere`;
      }
      if (n !== lv.count[li]) return `lruvec ${lv.id} list ${li}: count ${lv.count[li]} but ${n} pages`;
      // the two-list LRU (lru_gen.enabled=0) uses each type's inactive (slot 0) and active (slot 1) lists only
      if (m.lru.classic && n && li !== 32 && li % 16 > 1) return `lruvec ${lv.id}: ${n} pages on list ${li}, which the two-list LRU does not use`;
      onLists += n;
    }
    // nr_active_* / nr_inactive_* are the lists' counts: each type's pages are on exactly its two lists
    if (m.lru.classic)
      for (let t = 0; t < 2; t++)
        if (lv.total[t] !== lv.count[t * 16]! + lv.count[t * 16 + 1]!)
          return `lruvec ${lv.id}: ${lv.total[t]} ${t ? "file" : "anon"} pages but ${lv.count[t * 16]} inactive + ${lv.count[t * 16 + 1]} active`;
  }
  if (onLists !== mapped) return `${mapped} mapped pages but ${onLists} on LRU lists`;
  return null;
}
