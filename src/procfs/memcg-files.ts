/**
 * A memcg's cgroup v2 memory files as 6.1 prints them (mm/memcontrol.c: memory_current_read,
 * memory_peak_read, memory_stat_format, __memory_events_show, swap_current_read,
 * swap_events_show), for `read` events and the text/JSON output.
 */
import { PAGE_SIZE } from "../mm/constants.js";
import type { LruGen } from "../mm/lru-gen.js";
import { UNEVICTABLE_LI } from "../mm/lru-gen.js";
import type { Memcg } from "../mm/memcg.js";
import { MEMCG_EVENTS, MEMCG_SWAP_EVENTS } from "../mm/memcg.js";
import { formatLimit } from "../mm/memcg-limits.js";

/** the limit files (tunables of a memcg, written by `set`, read back as the kernel prints them) */
export const MEMCG_LIMIT_FILES: readonly string[] = ["memory.max", "memory.high", "memory.low", "memory.min", "memory.swap.max"];

/** the memcg files a `read` can name besides the limits (each needs a non-root cg) */
export const MEMCG_READ_FILES = [
  "memory.current", "memory.peak", "memory.stat", "memory.events", "memory.events.local", "memory.swap.current", "memory.swap.events",
] as const;

/**
 * memory_stats[] then memcg_vm_event_stat[] in 6.1's order, as Debian's 6.1 config has them
 * (CONFIG_ZSWAP, CONFIG_SWAP, CONFIG_TRANSPARENT_HUGEPAGE), with "slab" after
 * slab_unreclaimable and "pgscan"/"pgsteal" before the events (pgpgin/pgpgout skipped).
 */
export const MEMORY_STAT_FIELDS = [
  "anon", "file", "kernel", "kernel_stack", "pagetables", "sec_pagetables", "percpu", "sock", "vmalloc", "shmem",
  "zswap", "zswapped", "file_mapped", "file_dirty", "file_writeback", "swapcached",
  "anon_thp", "file_thp", "shmem_thp", "inactive_anon", "active_anon", "inactive_file", "active_file", "unevictable",
  "slab_reclaimable", "slab_unreclaimable", "slab",
  "workingset_refault_anon", "workingset_refault_file", "workingset_activate_anon", "workingset_activate_file",
  "workingset_restore_anon", "workingset_restore_file", "workingset_nodereclaim",
  "pgscan", "pgsteal", "pgscan_kswapd", "pgscan_direct", "pgsteal_kswapd", "pgsteal_direct",
  "pgfault", "pgmajfault", "pgrefill", "pgactivate", "pgdeactivate", "pglazyfree", "pglazyfreed",
  "zswpin", "zswpout", "thp_fault_alloc", "thp_collapse_alloc",
] as const;

/**
 * memory.stat's values for a memcg and its descendants (hierarchical, as cgroup v2 prints
 * them). What wsim models per memcg: the LRU sizes (anon and file are the pages on the anon and
 * file LRU lists; active = MGLRU's two youngest generations as lru_gen reports them), the
 * unevictable list, and reclaim's pgscan/pgsteal; every other field is 0. Sizes in bytes.
 */
export function memoryStat(m: Memcg, lru: LruGen): Map<string, number> {
  let ia = 0, aa = 0, ifl = 0, af = 0, unev = 0;
  const vm = [0, 0, 0, 0];
  for (const c of m.subtree()) {
    for (const lv of c.lruvecs) {
      const [a, i, fa, fi] = lru.activeInactive(lv);
      aa += a;
      ia += i;
      af += fa;
      ifl += fi;
      unev += lv.count[UNEVICTABLE_LI]!;
    }
    for (let k = 0; k < 4; k++) vm[k]! += c.vmev[k]!;
  }
  const out = new Map<string, number>(MEMORY_STAT_FIELDS.map((f) => [f, 0]));
  out.set("anon", (ia + aa) * PAGE_SIZE);
  out.set("file", (ifl + af) * PAGE_SIZE);
  out.set("inactive_anon", ia * PAGE_SIZE);
  out.set("active_anon", aa * PAGE_SIZE);
  out.set("inactive_file", ifl * PAGE_SIZE);
  out.set("active_file", af * PAGE_SIZE);
  out.set("unevictable", unev * PAGE_SIZE);
  out.set("pgscan", vm[0]! + vm[1]!);
  out.set("pgsteal", vm[2]! + vm[3]!);
  out.set("pgscan_kswapd", vm[0]!);
  out.set("pgscan_direct", vm[1]!);
  out.set("pgsteal_kswapd", vm[2]!);
  out.set("pgsteal_direct", vm[3]!);
  return out;
}

/** The text of memcg file `key` (a MEMCG_READ_FILES name or a limit), or undefined for another name. */
export function memcgFile(key: string, m: Memcg, lru: LruGen): string | undefined {
  switch (key) {
    case "memory.current":
      return `${m.usage() * PAGE_SIZE}\n`;
    case "memory.peak":
      return `${Math.max(m.peak, m.usage()) * PAGE_SIZE}\n`;
    case "memory.swap.current":
      return `${m.swapUsage() * PAGE_SIZE}\n`;
    case "memory.stat":
      return [...memoryStat(m, lru)].map(([k, v]) => `${k} ${v}\n`).join("");
    case "memory.events":
      return MEMCG_EVENTS.map((e, k) => `${e} ${m.events[k]}\n`).join("");
    case "memory.events.local":
      return MEMCG_EVENTS.map((e, k) => `${e} ${m.eventsLocal[k]}\n`).join("");
    case "memory.swap.events":
      return MEMCG_SWAP_EVENTS.map((e, k) => `${e} ${m.swapEvents[k]}\n`).join("");
    case "memory.max":
      return `${formatLimit(m.max)}\n`;
    case "memory.high":
      return `${formatLimit(m.high)}\n`;
    case "memory.low":
      return `${formatLimit(m.low)}\n`;
    case "memory.min":
      return `${formatLimit(m.min)}\n`;
    case "memory.swap.max":
      return `${formatLimit(m.swapMax)}\n`;
  }
  return undefined;
}

/** One memcg in the JSON output (`memcgs`) and the text table: usage and limits in bytes (null = max), events. */
export interface MemcgResult {
  current: number;
  peak: number;
  swap: number;
  max: number | null;
  high: number | null;
  low: number;
  min: number;
  swap_max: number | null;
  events: Record<string, number>;
  swap_events: Record<string, number>;
  /** ms the memcg's tasks slept under memory.high (wsim's own) */
  wsim_throttle_ms: number;
  /** try_to_free_mem_cgroup_pages runs on this memcg (wsim's own) */
  wsim_memcg_reclaims: number;
}

/** A memcg's JSON shape. */
export function memcgResult(m: Memcg, throttleMs: number, reclaims: number): MemcgResult {
  const lim = (p: number): number | null => (p === Infinity ? null : p * PAGE_SIZE);
  return {
    current: m.usage() * PAGE_SIZE,
    peak: Math.max(m.peak, m.usage()) * PAGE_SIZE,
    swap: m.swapUsage() * PAGE_SIZE,
    max: lim(m.max),
    high: lim(m.high),
    low: m.low * PAGE_SIZE,
    min: m.min * PAGE_SIZE,
    swap_max: lim(m.swapMax),
    events: Object.fromEntries(MEMCG_EVENTS.map((e, k) => [e, m.events[k]!])),
    swap_events: Object.fromEntries(MEMCG_SWAP_EVENTS.map((e, k) => [e, m.swapEvents[k]!])),
    wsim_throttle_ms: throttleMs,
    wsim_memcg_reclaims: reclaims,
  };
}
