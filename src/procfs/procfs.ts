/**
 * The kernel's text files, byte for byte as Linux 6.1 prints them (mm/vmstat.c):
 * /proc/vmstat, /proc/buddyinfo, /proc/pagetypeinfo and the debugfs extfrag files
 * (unusable_index, extfrag_index). Pure functions of plain data: the engine renders `read`
 * events with them and the report does the final output.
 */
import { MAX_ORDER, MIGRATE_TYPES, MIGRATETYPE_NAMES, PAGEBLOCK_NR_PAGES, PAGEBLOCK_ORDER } from "../mm/constants.js";
import { V, type CounterName } from "../stats/counters.js";

/** What the files need of a zone. */
export interface ZoneView {
  nid: number;
  name: string;
  start: number;
  end: number;
  /** blocks per order */
  nrFree: ArrayLike<number>;
  /** blocks per (order * MIGRATE_TYPES + mt) */
  nrFreeMt: ArrayLike<number>;
  /** pageblock migratetypes, indexed by pfn >> pageblock_order */
  pbMt: ArrayLike<number>;
  /** pfn_valid (default: every pfn): pagetypeinfo's block counts skip invalid pfns */
  valid?: (pfn: number) => boolean;
}

const pad = (s: string | number, w: number) => String(s).padStart(w);

/** seq_printf(m, "%-Ns", s) */
const padRight = (s: string, w: number) => s.padEnd(w);

/** /proc/vmstat: `name value` lines for the names given (printNames), values by counter index. */
export function formatVmstat(values: ArrayLike<number>, names: readonly CounterName[]): string {
  let out = "";
  for (const n of names) out += `${n} ${values[V[n]]}\n`;
  return out;
}

/** /proc/buddyinfo (frag_show_print) */
export function formatBuddyinfo(zones: readonly Pick<ZoneView, "nid" | "name" | "nrFree">[]): string {
  let out = "";
  for (const z of zones) {
    out += `Node ${z.nid}, zone ${pad(z.name, 8)} `;
    for (let o = 0; o < MAX_ORDER; o++) out += `${pad(z.nrFree[o]!, 6)} `;
    out += "\n";
  }
  return out;
}

/** /proc/pagetypeinfo (pagetypeinfo_show per node: free counts, then pageblocks per type) */
export function formatPagetypeinfo(zones: readonly ZoneView[]): string {
  let out = "";
  const nids = [...new Set(zones.map((z) => z.nid))];
  for (const nid of nids) {
    const zs = zones.filter((z) => z.nid === nid);
    out += `Page block order: ${PAGEBLOCK_ORDER}\n`;
    out += `Pages per block:  ${PAGEBLOCK_NR_PAGES}\n\n`;
    out += `${padRight("Free pages count per migrate type at order", 43)} `;
    for (let o = 0; o < MAX_ORDER; o++) out += `${pad(o, 6)} `;
    out += "\n";
    for (const z of zs) {
      for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
        out += `Node ${pad(z.nid, 4)}, zone ${pad(z.name, 8)}, type ${pad(MIGRATETYPE_NAMES[mt]!, 12)} `;
        for (let o = 0; o < MAX_ORDER; o++) {
          const n = z.nrFreeMt[o * MIGRATE_TYPES + mt]!;
          // the kernel stops counting a list at 100000 entries and prints ">100000"
          out += n >= 100000 ? `>${pad(100000, 6)} ` : `${pad(n, 6)} `;
        }
        out += "\n";
      }
    }
    out += `\n${padRight("Number of blocks type ", 23)}`;
    for (let mt = 0; mt < MIGRATE_TYPES; mt++) out += `${pad(MIGRATETYPE_NAMES[mt]!, 12)} `;
    out += "\n";
    for (const z of zs) {
      const counts = pageblockCounts(z);
      out += `Node ${z.nid}, zone ${pad(z.name, 8)} `;
      for (let mt = 0; mt < MIGRATE_TYPES; mt++) out += `${pad(counts[mt]!, 12)} `;
      out += "\n";
    }
  }
  return out;
}

/**
 * pagetypeinfo_showblockcount_print: pageblocks by migratetype, stepping from the zone start a
 * pageblock at a time and skipping pfns that are not valid (a memory section without RAM).
 */
export function pageblockCounts(z: ZoneView): number[] {
  const counts = new Array<number>(MIGRATE_TYPES).fill(0);
  const valid = z.valid;
  for (let pfn = z.start; pfn < z.end; pfn += PAGEBLOCK_NR_PAGES) {
    if (valid && !valid(pfn)) continue;
    counts[z.pbMt[pfn >>> PAGEBLOCK_ORDER]!]!++;
  }
  return counts;
}

interface ContigInfo {
  freePages: number;
  freeBlocksTotal: number;
  freeBlocksSuitable: number;
}

/** fill_contig_page_info */
function contigInfo(z: Pick<ZoneView, "nrFree">, order: number): ContigInfo {
  const r = { freePages: 0, freeBlocksTotal: 0, freeBlocksSuitable: 0 };
  for (let o = 0; o < MAX_ORDER; o++) {
    const blocks = z.nrFree[o]!;
    r.freeBlocksTotal += blocks;
    r.freePages += blocks * 2 ** o;
    if (o >= order) r.freeBlocksSuitable += blocks * 2 ** (o - order);
  }
  return r;
}

/** unusable_free_index, in thousandths */
export function unusableIndex(z: Pick<ZoneView, "nrFree">, order: number): number {
  const i = contigInfo(z, order);
  if (i.freePages === 0) return 1000;
  return Math.floor(((i.freePages - i.freeBlocksSuitable * 2 ** order) * 1000) / i.freePages);
}

/** __fragmentation_index, in thousandths (-1000 when a suitable block exists) */
export function fragmentationIndex(z: Pick<ZoneView, "nrFree">, order: number): number {
  const i = contigInfo(z, order);
  if (!i.freeBlocksTotal) return 0;
  if (i.freeBlocksSuitable) return -1000;
  return 1000 - Math.floor((1000 + Math.floor((i.freePages * 1000) / 2 ** order)) / i.freeBlocksTotal);
}

/** extfrag_for_order (proactive compaction's score): unusable free share at order, in % */
export function extfragForOrder(z: Pick<ZoneView, "nrFree">, order: number): number {
  const i = contigInfo(z, order);
  if (i.freePages === 0) return 0;
  return Math.floor(((i.freePages - i.freeBlocksSuitable * 2 ** order) * 100) / i.freePages);
}

/** C's "%d.%03d" of index / 1000, index % 1000 (truncating division) */
function thousandths(v: number, width: number): string {
  const q = Math.trunc(v / 1000);
  const r = Math.abs(v % 1000);
  return `${pad(q, width)}.${String(r).padStart(3, "0")}`;
}

/** Rows of "Node %d, zone %8s " and an index per order (extfrag_show_print / unusable_show_print). */
type IndexView = Pick<ZoneView, "nid" | "name" | "nrFree">;

function formatIndexRows(zones: readonly IndexView[], index: (z: IndexView, order: number) => number, width: number): string {
  let out = "";
  for (const z of zones) {
    out += `Node ${z.nid}, zone ${pad(z.name, 8)} `;
    for (let o = 0; o < MAX_ORDER; o++) out += `${thousandths(index(z, o), width)} `;
    out += "\n";
  }
  return out;
}

/** /sys/kernel/debug/extfrag/unusable_index ("%d.%03d ") */
export function formatUnusableIndex(zones: readonly IndexView[]): string {
  return formatIndexRows(zones, unusableIndex, 1);
}

/** /sys/kernel/debug/extfrag/extfrag_index ("%2d.%03d ") */
export function formatExtfragIndex(zones: readonly IndexView[]): string {
  return formatIndexRows(zones, fragmentationIndex, 2);
}

/** One lruvec's generations for formatLruGen: seq, age (ms) and pages per type, oldest first. */
export interface LruGenLruvecView {
  nid: number;
  gens: readonly { seq: number; ageMs: number; anon: number; file: number }[];
}

/** One memcg's lruvecs for formatLruGen: mem_cgroup_id (the root's is 1), cgroup path, one per node with memory. */
export interface LruGenMemcgView {
  id: number;
  path: string;
  lruvecs: readonly LruGenLruvecView[];
}

/**
 * /sys/kernel/debug/lru_gen as lru_gen_seq_show prints it (mm/vmscan.c, 6.1; the writable file,
 * not lru_gen_full's tiers and mm-walk stats): memcgs in mem_cgroup_iter's pre-order, each with
 * `memcg %5hu %s` on its first node, then per node ` node %5d` and one line per generation from
 * min_seq[anon] to max_seq: ` %10lu %10u` (seq, age in ms) and ` %10lu ` per type (anon, file).
 */
export function formatLruGen(memcgs: readonly LruGenMemcgView[]): string {
  let out = "";
  for (const m of memcgs) {
    m.lruvecs.forEach((lv, i) => {
      if (i === 0) out += `memcg ${pad(String(m.id), 5)} ${m.path}\n`;
      out += ` node ${pad(String(lv.nid), 5)}\n`;
      for (const g of lv.gens) out += ` ${pad(String(g.seq), 10)} ${pad(String(g.ageMs), 10)} ${pad(String(g.anon), 10)}  ${pad(String(g.file), 10)} \n`;
    });
  }
  return out;
}
