/**
 * A start state from a real machine (issue 13 item 5, `--start-state DIR`): the free-block
 * population of /proc/pagetypeinfo (per node, zone, migratetype and order) and its pageblock
 * counts per migratetype, cross-checked against /proc/buddyinfo, and the plan that lays them
 * out on a machine's zones. Pure: parsing throws DataError `file:line: what`, planning
 * ValueError; src/mm/start-state.ts applies a plan to the model.
 *
 * The plan (planZone), a deterministic layout rule, per zone:
 * 1. free order-10 blocks go to aligned pairs of whole pageblocks (every page managed RAM of
 *    the zone), spread evenly over the candidate pairs in pfn order, the migratetypes
 *    interleaved evenly (interleave); their pageblocks take the list's type while pagetypeinfo
 *    has blocks of it left, else the mergeable type (Unmovable, Movable, Reclaimable) with most left;
 * 2. free order-9 blocks go to whole pageblocks spread evenly over the rest, no two of them
 *    buddies (they would have merged);
 * 3. the other pageblocks get the remaining block counts of each migratetype, interleaved
 *    evenly in pfn order, and each migratetype's free blocks of orders 0-8 are packed into its
 *    own pageblocks, largest first, at the lowest aligned place whose buddy keeps a used page
 *    (one is kept used, the highest, when nothing else would stop the merge); if they do not
 *    fit, the pageblocks with most room go to the migratetypes with most small free pages, and
 *    failing that, what does not fit lies in other types' pageblocks (a stray, as fallbacks leave);
 * 4. every other managed page is used (by the boot owner, src/mm/start-state.ts).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { DataError, describeErrno, quoteInput, ValueError } from "../errors.js";
import { parseZoneinfo } from "../procfs/zoneinfo.js";
import { MAX_ORDER, MIGRATE_TYPES, MIGRATETYPE_NAMES, MT_HIGHATOMIC, MT_MOVABLE, PAGEBLOCK_NR_PAGES, PAGEBLOCK_ORDER } from "../mm/constants.js";

/** MGLRU's MAX_NR_GENS (include/linux/mmzone.h): generations per lruvec at most */
const MAX_NR_GENS = 4;

/** One zone of a saved pagetypeinfo (and buddyinfo). */
export interface StartZone {
  nid: number;
  /** the zone's name as the files print it (DMA, DMA32, Normal, Movable) */
  zone: string;
  /** free blocks per [migratetype][order] (pagetypeinfo's first table) */
  free: number[][];
  /** pageblocks per migratetype (pagetypeinfo's "Number of blocks type" table) */
  blocks: number[];
  /** the file and line of the zone's block-count line, for errors about the zone */
  file: string;
  line: number;
}

/** A whole start state and what was said about it. */
export interface StartState {
  zones: StartZone[];
  /** disagreements between buddyinfo and pagetypeinfo (pagetypeinfo wins), for stderr */
  warnings: string[];
}

const NAME_TO_MT = new Map<string, number>(MIGRATETYPE_NAMES.map((n, i) => [n, i]));

/** Lines without their ending ("\n" or "\r\n"), a BOM dropped. */
function linesOf(text: string): string[] {
  const ls = text.replace(/^\uFEFF/, "").split("\n").map((l) => l.replace(/\r$/, ""));
  if (ls.length && ls[ls.length - 1] === "") ls.pop();
  return ls;
}

/**
 * /proc/buddyinfo (frag_show_print): `Node N, zone NAME` and MAX_ORDER block counts per
 * line. Returns the counts per "nid/zone" with their line. Throws DataError for another line,
 * a zone listed twice, or an empty file.
 */
export function parseBuddyinfo(text: string, file: string): Map<string, { counts: number[]; line: number }> {
  const out = new Map<string, { counts: number[]; line: number }>();
  linesOf(text).forEach((l, i) => {
    if (l.trim() === "") return;
    const m = /^Node (\d+), zone\s+(\w+)((?:\s+\d+)+)\s*$/.exec(l);
    if (!m) throw new DataError(file, i + 1, `expected "Node N, zone NAME" and ${MAX_ORDER} free block counts, got ${quoteInput(l)}`);
    const counts = m[3]!.trim().split(/\s+/).map(Number);
    if (counts.length !== MAX_ORDER) throw new DataError(file, i + 1, `expected ${MAX_ORDER} counts (orders 0..${MAX_ORDER - 1}), got ${counts.length}`);
    const key = `${m[1]}/${m[2]}`;
    if (out.has(key)) throw new DataError(file, i + 1, `node ${m[1]} zone ${m[2]} is listed twice`);
    out.set(key, { counts, line: i + 1 });
  });
  if (out.size === 0) throw new DataError(file, 0, 'empty: a /proc/buddyinfo has lines like "Node 0, zone   Normal  1 2 ..."');
  return out;
}

/**
 * /proc/pagetypeinfo (pagetypeinfo_show) of a 6.1 kernel with pageblock_order 9: for each
 * node the free counts per zone, migratetype and order (a `>100000` count, the kernel's cap,
 * is taken from buddyinfo's total when it is the order's only one), then the pageblocks per
 * migratetype; CONFIG_PAGE_OWNER's "Number of mixed blocks" table is skipped. Migratetypes
 * must be the five of Debian's 6.1; a CONFIG_CMA kernel's CMA row and column are accepted while
 * they are all 0 (wsim has no CMA), else DataError at the line. `buddy` (parseBuddyinfo's) is compared order by
 * order: where they differ pagetypeinfo wins and a warning says so. Throws DataError.
 */
export function parsePagetypeinfo(text: string, file: string, buddy: Map<string, { counts: number[]; line: number }>, buddyFile: string): StartState {
  const byKey = new Map<string, StartZone>();
  const capped = new Map<string, [number, number, number][]>(); // key -> [mt, order, line]
  let columns: number[] | null = null;
  let section: "head" | "free" | "blocks" | "mixed" = "head";
  const lines = linesOf(text);
  lines.forEach((l, i) => {
    const fail = (what: string): never => {
      throw new DataError(file, i + 1, what);
    };
    if (l.trim() === "") return;
    let m: RegExpExecArray | null;
    if ((m = /^Page block order: (\d+)\s*$/.exec(l))) {
      if (Number(m[1]) !== PAGEBLOCK_ORDER) fail(`pageblock order ${m[1]}: wsim models x86-64's ${PAGEBLOCK_ORDER}`);
      section = "head";
    } else if ((m = /^Pages per block:\s+(\d+)\s*$/.exec(l))) {
      if (Number(m[1]) !== PAGEBLOCK_NR_PAGES) fail(`${m[1]} pages per block: wsim models x86-64's ${PAGEBLOCK_NR_PAGES}`);
    } else if ((m = /^Free pages count per migrate type at order((?:\s+\d+)+)\s*$/.exec(l))) {
      const orders = m[1]!.trim().split(/\s+/).map(Number);
      if (orders.join() !== [...Array(MAX_ORDER).keys()].join()) fail(`expected orders 0..${MAX_ORDER - 1}, got ${orders.join(" ")}`);
      section = "free";
    } else if ((m = /^Number of blocks type((?:\s+\w+)+)\s*$/.exec(l))) {
      // CMA (CONFIG_CMA kernels print it): a column wsim has no migratetype for, -1, allowed while empty
      columns = m[1]!.trim().split(/\s+/).map((n) => (n === "CMA" ? -1 : NAME_TO_MT.get(n) ?? fail(`migratetype ${quoteInput(n)}: wsim knows ${MIGRATETYPE_NAMES.join(", ")} (and an empty CMA)`)));
      section = "blocks";
    } else if (/^Number of mixed blocks/.test(l)) section = "mixed";
    else if (section === "free" && (m = /^Node\s+(\d+), zone\s+(\w+), type\s+(\w+)((?:\s+>?\d+)+)\s*$/.exec(l))) {
      const vals = m[4]!.trim().split(/\s+/);
      if (m[3] === "CMA") {
        // a CONFIG_CMA kernel's CMA free lists: wsim has no CMA, so only empty ones can be taken
        if (vals.some((v) => v !== "0")) fail(`node ${m[1]} zone ${m[2]}: free CMA blocks: wsim has no CMA migratetype (an empty CMA row is accepted)`);
        return;
      }
      const mt = NAME_TO_MT.get(m[3]!) ?? fail(`migratetype ${quoteInput(m[3]!)}: wsim knows ${MIGRATETYPE_NAMES.join(", ")} (and an empty CMA)`);
      if (vals.length !== MAX_ORDER) fail(`expected ${MAX_ORDER} counts (orders 0..${MAX_ORDER - 1}), got ${vals.length}`);
      const key = `${m[1]}/${m[2]}`;
      let z = byKey.get(key);
      if (!z) {
        z = { nid: Number(m[1]), zone: m[2]!, free: Array.from({ length: MIGRATE_TYPES }, () => new Array<number>(MAX_ORDER).fill(0)), blocks: [], file, line: i + 1 };
        byKey.set(key, z);
      }
      vals.forEach((v, o) => {
        if (v.startsWith(">")) {
          if (!capped.has(key)) capped.set(key, []);
          capped.get(key)!.push([mt, o, i + 1]);
          z!.free[mt]![o] = -1;
        } else z!.free[mt]![o] = Number(v);
      });
    } else if (section === "blocks" && (m = /^Node (\d+), zone\s+(\w+)((?:\s+\d+)+)\s*$/.exec(l))) {
      const vals = m[3]!.trim().split(/\s+/).map(Number);
      const cols = columns!;
      if (vals.length !== cols.length) fail(`expected ${cols.length} block counts (${cols.map((c) => MIGRATETYPE_NAMES[c]).join(", ")}), got ${vals.length}`);
      const z = byKey.get(`${m[1]}/${m[2]}`) ?? fail(`node ${m[1]} zone ${m[2]} has block counts but no free counts above`);
      if (z.blocks.length) fail(`node ${m[1]} zone ${m[2]}'s block counts are listed twice`);
      z.blocks = new Array<number>(MIGRATE_TYPES).fill(0);
      cols.forEach((mt, k) => {
        if (mt >= 0) z.blocks[mt] = vals[k]!;
        else if (vals[k] !== 0) fail(`node ${m![1]} zone ${m![2]}: ${vals[k]} CMA pageblocks: wsim has no CMA migratetype (an empty CMA column is accepted)`);
      });
      z.line = i + 1;
    } else if (section !== "mixed") fail(`not a line of /proc/pagetypeinfo: ${quoteInput(l)}`);
  });
  if (byKey.size === 0) throw new DataError(file, 0, 'empty: a /proc/pagetypeinfo starts with "Page block order: 9"');
  const warnings: string[] = [];
  for (const [key, z] of byKey) {
    if (!z.blocks.length) throw new DataError(file, lines.length, `node ${z.nid} zone ${z.zone} has free counts but no "Number of blocks type" line`);
    const b = buddy.get(key);
    if (!b) throw new DataError(buddyFile, 0, `node ${z.nid} zone ${z.zone} is in pagetypeinfo but not in buddyinfo`);
    for (const [mt, o, line] of capped.get(key) ?? []) {
      const others = z.free.reduce((s, row, t) => s + (t === mt ? 0 : row[o]!), 0);
      if (z.free.some((row, t) => t !== mt && row[o]! < 0) || b.counts[o]! - others <= 100000)
        throw new DataError(file, line, `more than 100000 free order-${o} blocks: the exact count cannot be had (buddyinfo's total does not give it)`);
      z.free[mt]![o] = b.counts[o]! - others;
    }
    const diff: string[] = [];
    for (let o = 0; o < MAX_ORDER; o++) {
      const sum = z.free.reduce((s, row) => s + row[o]!, 0);
      if (sum !== b.counts[o]) diff.push(`order ${o}: ${b.counts[o]} vs ${sum}`);
    }
    if (diff.length)
      warnings.push(
        `${buddyFile}:${b.line}: node ${z.nid} zone ${z.zone}: buddyinfo and pagetypeinfo disagree (${diff.join(", ")}); they are read at different instants: pagetypeinfo's counts are used (it says which migratetype each block is on)`,
      );
  }
  for (const [key, b] of buddy) if (!byKey.has(key)) throw new DataError(buddyFile, b.line, `node ${key.replace("/", " zone ")} is in buddyinfo but not in pagetypeinfo`);
  return { zones: [...byKey.values()], warnings };
}

/**
 * An even interleave of labels: label L appears counts[L] times, its j-th copy at key
 * (j + 0.5) / counts[L]; sorted by key, ties by label. E.g. [1, 3] gives 1, 0, 1, 1 (keys
 * 0.17, 0.5 (label 0), 0.5, 0.83).
 */
export function interleave(counts: readonly number[]): number[] {
  const items: [number, number][] = [];
  counts.forEach((c, label) => {
    for (let j = 0; j < c; j++) items.push([(j + 0.5) / c, label]);
  });
  items.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return items.map((x) => x[1]);
}

/** k indices spread evenly over 0..m-1: floor((i + 0.5) * m / k). */
export function spread(k: number, m: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.floor(((i + 0.5) * m) / k));
}

/** What planZone needs of a zone of the machine. */
export interface PlanZone {
  start: number;
  end: number;
  /** the pageblocks pagetypeinfo counts (pfn >> 9 of zone start + k * 512 where pfn_valid) */
  blocks: readonly number[];
  /** is this pfn managed RAM (what the buddy allocator owns)? */
  managed: (pfn: number) => boolean;
}

/** A zone's layout: pageblock migratetypes and the free blocks, ascending pfn. */
export interface ZonePlan {
  /** [pageblock index, migratetype] for every listed pageblock */
  pbMt: [number, number][];
  /** [pfn, order, migratetype] of each free block, ascending pfn */
  free: [number, number, number][];
  /** pageblocks the files do not account for (fewer blocks than the zone has): Movable, used */
  extraBlocks: number;
  /**
   * free blocks that lie in a pageblock of another migratetype: of orders 0-8 when theirs had
   * no room, and pageblocks of an order-9/10 block whose list's type had none left
   */
  spilled: number;
}

const AVAIL = 0;
const FREE = 1;
const PINNED = 2;
const NONE = 3;

/**
 * The layout of one zone's start state (the rule in the file comment). Throws ValueError when
 * it cannot be laid out: more pageblocks or free pages than the zone has, more free order-9/10
 * blocks of a migratetype than its pageblocks hold, or small free blocks that do not fit in
 * their migratetype's pageblocks.
 */
export function planZone(z: PlanZone, s: Pick<StartZone, "free" | "blocks">): ZonePlan {
  const nb = z.blocks.length;
  const totalBlocks = s.blocks.reduce((a, b) => a + b, 0);
  if (totalBlocks > nb) throw new ValueError(`${totalBlocks} pageblocks, but the machine's zone has ${nb}: the start state is larger than the machine`);
  // z.blocks ascend (the pfn walk of pagetypeinfo_showblockcount_print)
  const base = nb ? z.blocks[0]! * PAGEBLOCK_NR_PAGES : z.start;
  const span = (nb ? (z.blocks[nb - 1]! + 1) * PAGEBLOCK_NR_PAGES : z.end) - base;
  const st = new Uint8Array(span).fill(NONE);
  let managedPages = 0;
  for (const b of z.blocks)
    for (let pfn = b << PAGEBLOCK_ORDER; pfn < (b + 1) << PAGEBLOCK_ORDER; pfn++)
      if (pfn >= z.start && pfn < z.end && z.managed(pfn)) {
        st[pfn - base] = AVAIL;
        managedPages++;
      }
  const freePages = s.free.reduce((a, row) => a + row.reduce((x, n, o) => x + n * 2 ** o, 0), 0);
  if (freePages > managedPages) throw new ValueError(`${freePages} free pages, but the machine's zone manages ${managedPages} in its pageblocks: the start state is larger than the machine`);
  const full = (b: number) => {
    for (let pfn = b << PAGEBLOCK_ORDER; pfn < (b + 1) << PAGEBLOCK_ORDER; pfn++) if (st[pfn - base] !== AVAIL) return false;
    return true;
  };
  const mark = (pfn: number, n: number, v: number) => st.fill(v, pfn - base, pfn - base + n);
  const pbMt = new Map<number, number>();
  const free: [number, number, number][] = [];
  const listed = new Set(z.blocks);
  // pageblocks left to give each migratetype; a free order-9/10 block takes its list's type,
  // else (the kernel merges Unmovable, Movable and Reclaimable pageblocks into one order-10
  // block, listed by the first's type) the mergeable type with the most blocks left
  const budget = [...s.blocks];
  let mixed = 0;
  const takeMt = (listMt: number): number => {
    if (budget[listMt]! > 0) {
      budget[listMt]!--;
      return listMt;
    }
    let best = -1;
    if (listMt < MT_HIGHATOMIC) for (let mt = 0; mt < MT_HIGHATOMIC; mt++) if (budget[mt]! > 0 && (best < 0 || budget[mt]! > budget[best]!)) best = mt;
    if (best < 0)
      throw new ValueError(`free order-9/10 ${MIGRATETYPE_NAMES[listMt]} blocks need more ${listMt < MT_HIGHATOMIC ? "" : `${MIGRATETYPE_NAMES[listMt]} `}pageblocks than pagetypeinfo lists (${s.blocks.join(", ")} by type)`);
    budget[best]!--;
    mixed++;
    return best;
  };
  // 1. order-10 blocks in aligned pairs of whole pageblocks
  const n10 = s.free.map((row) => row[MAX_ORDER - 1]!);
  const k10 = n10.reduce((a, b) => a + b, 0);
  const pairs = z.blocks.filter((b) => b % 2 === 0 && listed.has(b + 1) && full(b) && full(b + 1));
  if (k10 > pairs.length) throw new ValueError(`${k10} free order-${MAX_ORDER - 1} blocks, but the zone has ${pairs.length} places for them (aligned pairs of pageblocks of managed RAM)`);
  const labels10 = interleave(n10);
  spread(k10, pairs.length).forEach((idx, i) => {
    const b = pairs[idx]!;
    const mt = labels10[i]!;
    pbMt.set(b, takeMt(mt)).set(b + 1, takeMt(mt));
    free.push([b << PAGEBLOCK_ORDER, MAX_ORDER - 1, mt]);
    mark(b << PAGEBLOCK_ORDER, 2 * PAGEBLOCK_NR_PAGES, FREE);
  });
  // 2. order-9 blocks in whole pageblocks, no two buddies
  const n9 = s.free.map((row) => row[PAGEBLOCK_ORDER]!);
  const k9 = n9.reduce((a, b) => a + b, 0);
  const singles = z.blocks.filter((b) => !pbMt.has(b) && full(b));
  if (k9 > singles.length) throw new ValueError(`${k9} free order-${PAGEBLOCK_ORDER} blocks, but the zone has ${singles.length} whole pageblocks left for them`);
  const labels9 = interleave(n9);
  const taken = new Set<number>();
  spread(k9, singles.length).forEach((idx, i) => {
    let j = idx;
    let tries = 0;
    while (taken.has(singles[j]!) || taken.has(singles[j]! ^ 1)) {
      j = (j + 1) % singles.length;
      if (++tries > singles.length) throw new ValueError(`${k9} free order-${PAGEBLOCK_ORDER} blocks cannot lie in whole pageblocks without two of them being buddies (they would have merged)`);
    }
    const b = singles[j]!;
    taken.add(b);
    pbMt.set(b, takeMt(labels9[i]!));
    free.push([b << PAGEBLOCK_ORDER, PAGEBLOCK_ORDER, labels9[i]!]);
    mark(b << PAGEBLOCK_ORDER, PAGEBLOCK_NR_PAGES, FREE);
  });
  // 3. the other pageblocks by the remaining counts, small free blocks packed into them
  const rest = budget;
  const left = z.blocks.filter((b) => !pbMt.has(b));
  const extraBlocks = left.length - rest.reduce((a, b) => a + b, 0);
  const counts = [...rest];
  counts[MT_MOVABLE] = counts[MT_MOVABLE]! + extraBlocks;
  const snapshot = st.slice();
  let spilled = 0;
  const leftSorted = [...left].sort((a, b) => a - b);
  // spill: what does not fit in a migratetype's own pageblocks goes to the others' (ascending)
  const tryPack = (assign: number[], spill = false): [number, number, number][] | null => {
    st.set(snapshot);
    spilled = 0;
    const byMt: number[][] = Array.from({ length: MIGRATE_TYPES }, () => []);
    left.forEach((b, i) => byMt[assign[i]!]!.push(b));
    const out: [number, number, number][] = [];
    for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
      const own = byMt[mt]!.sort((a, b) => a - b);
      const bl = spill ? [...own, ...leftSorted.filter((b) => !own.includes(b))] : own;
      for (let o = PAGEBLOCK_ORDER - 1; o >= 0; o--) {
        let need = s.free[mt]![o]!;
        const size = 1 << o;
        for (let bi = 0; bi < bl.length && need > 0; bi++) {
          const b0 = bl[bi]! << PAGEBLOCK_ORDER;
          for (let p = b0; p < b0 + PAGEBLOCK_NR_PAGES && need > 0; p += size) {
            let ok = true;
            for (let q = p; q < p + size; q++) if (st[q - base] !== AVAIL) { ok = false; break; }
            if (!ok) continue;
            // the buddy must keep a page that is not free, or merging would have happened
            const bud = p ^ size;
            let stop = false;
            let pin = -1;
            for (let q = bud; q < bud + size; q++) {
              const v = st[q - base];
              if (v === PINNED || v === NONE) { stop = true; break; }
              if (v === AVAIL) pin = q;
            }
            if (!stop) {
              if (pin < 0) continue;
              st[pin - base] = PINNED;
            }
            mark(p, size, FREE);
            out.push([p, o, mt]);
            if (bi >= own.length) spilled++;
            need--;
          }
        }
        if (need > 0) return null;
      }
    }
    return out;
  };
  let assign = interleave(counts);
  let small = tryPack(assign);
  if (!small) {
    // the migratetypes with the most small free pages take the pageblocks with the most room
    st.set(snapshot);
    const needOf = (mt: number) => s.free[mt]!.reduce((a, n, o) => a + (o < PAGEBLOCK_ORDER ? n << o : 0), 0);
    const room = (b: number) => {
      let n = 0;
      for (let pfn = b << PAGEBLOCK_ORDER; pfn < (b + 1) << PAGEBLOCK_ORDER; pfn++) if (st[pfn - base] === AVAIL) n++;
      return n;
    };
    const order = left.map((b, i) => [room(b), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    const mts = [...counts.keys()].sort((a, b) => needOf(b) - needOf(a) || a - b);
    assign = new Array<number>(left.length);
    let k = 0;
    for (const mt of mts) for (let j = 0; j < counts[mt]!; j++) assign[order[k++]![1]] = mt;
    small = tryPack(assign);
    if (!small) {
      // last: free pages of a list may lie in pageblocks of another type, as the kernel's strays after fallbacks do
      assign = interleave(counts);
      small = tryPack(assign, true);
      if (!small) throw new ValueError("the free blocks of orders 0-8 do not fit in the zone's pageblocks (each needs a used page in its buddy)");
    }
  }
  left.forEach((b, i) => pbMt.set(b, assign[i]!));
  free.push(...small);
  free.sort((a, b) => a[0] - b[0]);
  return { pbMt: [...pbMt.entries()].sort((a, b) => a[0] - b[0]), free, extraBlocks, spilled: spilled + mixed };
}

/** The pages a saved zoneinfo shows on one zone's per-cpu lists (`count` of each pageset, in the file's CPU order). */
export interface StartPcp {
  nid: number;
  zone: string;
  counts: number[];
}

/**
 * The pages a saved zoneinfo shows on one zone's LRU lists: nr_zone_inactive_anon,
 * nr_zone_active_anon, nr_zone_inactive_file, nr_zone_active_file and nr_zone_unevictable summed.
 */
export interface StartLru {
  nid: number;
  zone: string;
  pages: number;
}

/**
 * The generations a saved /sys/kernel/debug/lru_gen shows on one node, all memcgs summed:
 * `pages[age]` is the anon + file pages of generation max_seq - age (age 0 the youngest).
 */
export interface StartLruGen {
  nid: number;
  pages: number[];
}

/**
 * /sys/kernel/debug/lru_gen as lru_gen_seq_show prints it (mm/vmscan.c, 6.1; the ages in ms are
 * not used): `memcg ID PATH`,
 * ` node N`, then one line per generation from min_seq to max_seq: `SEQ AGE_MS ANON FILE` (the
 * full file's, lru_gen_full, marks sizes below min_seq with `x`; its tier lines of 7 numbers
 * and mm-walk lines of 6, each number maybe with a letter, are skipped). Returns each node's
 * generations by age from its max_seq, summed over memcgs. Throws DataError at a line that is
 * none of these, a generation line before any ` node` line, a tier line before any generation,
 * seqs that do not follow each other, more than MAX_NR_GENS (4) generations in a lruvec, or a
 * file with no generation.
 */
export function parseLruGenFile(text: string, file: string): StartLruGen[] {
  const byNode = new Map<number, number[]>();
  /** the lruvec being read: its node and generations [seq, pages, line] */
  let gens: [number, number, number][] | null = null;
  let nid = -1;
  const flush = () => {
    if (gens === null || gens.length === 0) return;
    const max = gens[gens.length - 1]![0];
    // lru_gen_seq_show prints min_seq[anon]..max_seq: at most MAX_NR_GENS (4) generations
    if (gens.length > MAX_NR_GENS)
      throw new DataError(file, gens[0]![2], `node ${nid}: ${gens.length} generations (seq ${gens[0]![0]}..${max}): 6.1 keeps at most ${MAX_NR_GENS} (MAX_NR_GENS) per lruvec`);
    const acc = byNode.get(nid) ?? [];
    for (const [seq, pages] of gens) acc[max - seq] = (acc[max - seq] ?? 0) + pages;
    byNode.set(nid, acc);
  };
  const lines = linesOf(text);
  let any = false;
  lines.forEach((raw, i) => {
    const l = raw.trim();
    if (l === "") return;
    const tok = l.split(/\s+/);
    let m;
    if (tok[0] === "memcg" && /^\d+$/.test(tok[1] ?? "")) {
      flush();
      gens = null;
      nid = -1;
    } else if (tok[0] === "node" && tok.length === 2 && /^\d+$/.test(tok[1]!)) {
      flush();
      gens = [];
      nid = Number(tok[1]);
    } else if ((m = /^(\d+)\s+\d+\s+(\d+)x?\s+(\d+)x?$/.exec(l))) {
      if (gens === null) throw new DataError(file, i + 1, `generation line ${quoteInput(l)} before any " node N" line: not /sys/kernel/debug/lru_gen's format`);
      const seq = Number(m[1]);
      const prev = gens.length ? gens[gens.length - 1]![0] : -1;
      if (prev >= 0 && seq !== prev + 1) throw new DataError(file, i + 1, `generation ${seq} after ${prev}: lru_gen_seq_show prints consecutive seqs, oldest first`);
      gens.push([seq, Number(m[2]) + Number(m[3]), i + 1]);
      any = true;
    } else if ((tok.length === 6 || tok.length === 7) && tok.every((t) => /^\d+[A-Za-z]?$/.test(t))) {
      // lru_gen_full's tier lines (7 numbers, r/e/p or R/T marks) and mm-walk lines (6): skipped
      if (gens === null || gens.length === 0) throw new DataError(file, i + 1, `${quoteInput(l)}: a tier or mm-walk line before any generation line`);
    } else
      throw new DataError(file, i + 1, `${quoteInput(l)}: expected "memcg ID PATH", " node N", a generation "SEQ AGE_MS ANON FILE" or (full format) a tier line of 7 numbers or an mm-walk line of 6, as /sys/kernel/debug/lru_gen prints them`);
  });
  flush();
  if (!any) throw new DataError(file, 0, "no generation in this lru_gen file (copy /sys/kernel/debug/lru_gen while multi-gen LRU is on)");
  return [...byNode.entries()].sort((a, b) => a[0] - b[0]).map(([n, pages]) => ({ nid: n, pages: Array.from(pages, (x) => x ?? 0) }));
}

/** The files a start-state directory may hold, as /proc and debugfs name them. */
const START_FILES = ["buddyinfo", "pagetypeinfo", "zoneinfo", "lru_gen"];

/** A start-state directory read: the state, and DIR/zoneinfo's path when there is one. */
export interface LoadedStartState {
  state: StartState;
  /** DIR/zoneinfo's pagesets (empty without it) */
  pcp: StartPcp[];
  /** DIR/zoneinfo's LRU pages per populated zone (empty without it) */
  lru: StartLru[];
  /** DIR/zoneinfo if it exists: the machine of the run unless --machine gives another */
  zoneinfo: string | null;
  /** DIR/lru_gen's generations per node (empty without it): the boot owner's pages by age */
  lruGen: StartLruGen[];
  /** DIR/lru_gen's path when it exists, else null */
  lruGenFile: string | null;
}

/**
 * Reads DIR/buddyinfo and DIR/pagetypeinfo (the names /proc gives them; both required) and
 * DIR/zoneinfo (optional: its path, and the counts of its pagesets and LRU lists) and DIR/lru_gen
 * (optional: /sys/kernel/debug/lru_gen, the generations the boot owner's pages go to). Throws DataError naming the file: unreadable or missing
 * (line 0), or a bad line.
 */
export function loadStartState(dir: string): LoadedStartState {
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    throw new DataError(dir, 0, `cannot read the start-state directory: ${describeErrno(e)}`);
  }
  if (!st.isDirectory()) throw new DataError(dir, 0, "--start-state takes a directory holding buddyinfo and pagetypeinfo (and zoneinfo), as /proc names them");
  const read = (name: string): string => {
    const path = join(dir, name);
    try {
      return readFileSync(path, "utf8");
    } catch (e) {
      throw new DataError(path, 0, `cannot read ${name}: ${describeErrno(e)} (a start state needs buddyinfo and pagetypeinfo, copied from /proc, in ${dir})`);
    }
  };
  const buddyPath = join(dir, "buddyinfo");
  const buddy = parseBuddyinfo(read("buddyinfo"), buddyPath);
  const state = parsePagetypeinfo(read("pagetypeinfo"), join(dir, "pagetypeinfo"), buddy, buddyPath);
  // a copy saved under another name (zoneinfo.txt, lru_gen.old) would be left out without a word
  for (const f of readdirSync(dir)) {
    const base = f.replace(/\..*$/, "");
    if (base !== f && START_FILES.includes(base) && !existsSync(join(dir, base)))
      state.warnings.push(`${join(dir, f)} is not read: the start state reads ${START_FILES.join(", ")} by these names (rename it to ${base})`);
  }
  const lg = join(dir, "lru_gen");
  const lruGenFile = existsSync(lg) ? lg : null;
  let lruGen: StartLruGen[] = [];
  if (lruGenFile !== null) {
    let text: string;
    try {
      text = readFileSync(lg, "utf8");
    } catch (e) {
      throw new DataError(lg, 0, `cannot read lru_gen: ${describeErrno(e)} (a copy of /sys/kernel/debug/lru_gen)`);
    }
    lruGen = parseLruGenFile(text, lg);
  }
  const zi = join(dir, "zoneinfo");
  if (!existsSync(zi)) return { state, pcp: [], lru: [], zoneinfo: null, lruGen, lruGenFile };
  const info = parseZoneinfo(read("zoneinfo"), zi);
  const pcp = info.pgdats.flatMap((p) => p.zones.filter((z) => z.pagesets).map((z) => ({ nid: p.nodeId, zone: z.name, counts: z.pagesets!.map((ps) => ps.count) })));
  const lru = info.pgdats.flatMap((p) => p.zones.filter((z) => z.stats).map((z) => ({ nid: p.nodeId, zone: z.name, pages: zoneLruPages(z.stats!) })));
  return { state, pcp, lru, zoneinfo: zi, lruGen, lruGenFile };
}

/** The zone's pages on LRU lists, from its zoneinfo vmstat items (a missing item counts 0). */
export function zoneLruPages(stats: Readonly<Record<string, number>>): number {
  const names = ["nr_zone_inactive_anon", "nr_zone_active_anon", "nr_zone_inactive_file", "nr_zone_active_file", "nr_zone_unevictable"];
  return names.reduce((sum, n) => sum + (stats[n] ?? 0), 0);
}
