/**
 * The one table of tunables (SPEC §3): kernel-like dotted names, defaults (Linux 6.1 as
 * Debian builds it unless marked wsim's own), allowed values and help. `--set`, `set`
 * events, a JSON trace's "tunables" and a machine's own defaults all go through `parseValue`.
 * `modelled: false` marks a tunable accepted and recorded (so traces written for later
 * wsim versions run) whose subsystem this version does not model yet.
 */
import { quoteInput } from "../errors.js";
import type { Machine } from "./machine.js";
import { parseSizeBytes } from "./size.js";
import { formatLimit, parseLimit } from "../mm/memcg-limits.js";

export type TunableValue = number | string;

export interface TunableSpec {
  key: string;
  type: "int" | "enum" | "size" | "intervals" | "node" | "ints" | "limit";
  min?: number;
  max?: number;
  values?: readonly string[];
  /** default; a function for machine-dependent ones */
  def: TunableValue | ((m: Machine, t: ReadonlyMap<string, TunableValue>) => TunableValue);
  help: string;
  /** `memcg`: belongs to a memcg (the root on the command line, the event's cg in a trace) */
  scope?: "memcg";
  modelled: boolean;
}

const INT_MAX = 2147483647;
const UINT_MAX = 4294967295;

/**
 * The cost table (SPEC §4.8, docs/costs.md): virtual-time cost of each kind of work, in ns,
 * per profile [server, tcg]. Sources and how each default was chosen are in docs/costs.md.
 */
export const COSTS: readonly { name: string; server: number; tcg: number; help: string }[] = [
  { name: "fault", server: 800, tcg: 8000, help: "a page fault's fixed part: trap, handle_mm_fault, the PTE set (zeroing and I/O are apart)" },
  { name: "zero_page", server: 190, tcg: 1900, help: "clear_page of one 4 KiB page on a fault" },
  { name: "zero_thp", server: 97000, tcg: 970000, help: "clear_huge_page of a 2 MiB THP on a fault" },
  { name: "io_read", server: 80000, tcg: 200000, help: "one 4 KiB read I/O: a major fault's swap-in or file read" },
  { name: "reclaim_scan", server: 150, tcg: 1500, help: "a page scanned by reclaim (isolated, its references checked)" },
  { name: "reclaim_page", server: 1500, tcg: 15000, help: "a page reclaimed: unmapped (rmap walk, TLB flush share), swap entry or shadow set, freed" },
  { name: "io_write", server: 40000, tcg: 200000, help: "one 4 KiB page written back (the device's share of writeback: pages complete one after another)" },
  { name: "compact_scan", server: 40, tcg: 400, help: "a page looked at by either compaction scanner" },
  { name: "migrate", server: 2000, tcg: 20000, help: "a page migrated: unmap, copy 4 KiB, remap, TLB flush share" },
];

function costTunables(): TunableSpec[] {
  return COSTS.map((c) => ({
    key: `cost.${c.name}_ns`, type: "int" as const, min: 0, max: INT_MAX, modelled: true,
    def: (_m: Machine, t: ReadonlyMap<string, TunableValue>) => (t.get("cost.profile") === "tcg" ? c.tcg : c.server),
    help: `ns: ${c.help} (default ${c.server}; ${c.tcg} with cost.profile=tcg)`,
  }));
}

export const TUNABLES: readonly TunableSpec[] = [
  { key: "vm.min_free_kbytes", type: "int", min: 0, max: INT_MAX, modelled: true,
    def: () => 0, // replaced by defaultMinFreeKbytes (mm/zone-params.ts) unless written
    help: "KiB kept free; default calculate_min_free_kbytes over all nodes, raised for THP (set_recommended_min_free_kbytes) while THP is not never. A write pins it." },
  { key: "vm.lowmem_reserve_ratio", type: "ints", min: 0, max: INT_MAX, def: "256 256 32 0 0", modelled: true,
    help: "per zone (DMA DMA32 Normal Movable Device): 1/ratio of the managed pages of the zones above is kept from allocations that could use them (lowmem_reserve, zoneinfo's protection); 0 = none. A write recomputes it" },
  { key: "vm.percpu_pagelist_high_fraction", type: "int", min: 0, max: INT_MAX, def: 0, modelled: true,
    help: "0 = each zone's pcp high is its low watermark split over its node's CPUs (zone_highsize); N >= 8 = managed pages / N split likewise. A write recomputes high and batch" },
  { key: "vm.watermark_scale_factor", type: "int", min: 1, max: 3000, def: 10, modelled: true,
    help: "distance between min, low and high watermarks, in 1/10000 of the zone" },
  { key: "vm.watermark_boost_factor", type: "int", min: 0, max: INT_MAX, def: 15000, modelled: true,
    help: "watermark boost after a fallback steals from another pageblock type, in 1/10000 of the high watermark" },
  { key: "vm.extfrag_threshold", type: "int", min: 0, max: 1000, def: 500, modelled: true,
    help: "fragmentation index above which direct compaction runs rather than reclaim" },
  { key: "vm.compaction_proactiveness", type: "int", min: 0, max: 100, def: 20, modelled: true,
    help: "proactive compaction aggressiveness (0 = off)" },
  { key: "vm.swappiness", type: "int", min: 0, max: 200, def: 60, modelled: true,
    help: "relative cost of reclaiming anon (swap) vs file pages" },
  { key: "vm.page-cluster", type: "int", min: 0, max: 31, modelled: true,
    def: (m) => (m.nodes.reduce((s, n) => s + n.mem, 0) < 4096 ? 2 : 3), // swap_setup: 2 below 16 MiB of RAM
    help: "swap readahead: up to 1 << page-cluster pages per swap-in (swap_vma_readahead caps it at 32); 0 reads one page" },
  { key: "vm.dirty_ratio", type: "int", min: 0, max: 100, def: 20, modelled: true,
    help: "% of dirtyable memory (free above totalreserve + file LRU) at which a writer is throttled (balance_dirty_pages; the free run ends halfway from the background threshold)" },
  { key: "vm.dirty_background_ratio", type: "int", min: 0, max: 100, def: 10, modelled: true,
    help: "% of dirtyable memory above which the flusher writes back in the background (half of vm.dirty_ratio's threshold when not below it)" },
  { key: "vm.dirty_expire_centisecs", type: "int", min: 0, max: INT_MAX, def: 3000, modelled: true,
    help: "a file dirty longer than this is written back by the flusher's periodic run (wb_check_old_data_flush)" },
  { key: "vm.dirty_writeback_centisecs", type: "int", min: 0, max: INT_MAX, def: 500, modelled: true,
    help: "the flusher's period once something is dirty (wb_wakeup_delayed); 0 = no periodic writeback" },
  { key: "transparent_hugepage.enabled", type: "enum", values: ["always", "madvise", "never"], def: "always", modelled: true,
    help: "THP on faults: always, madvise (thp=1 regions), never; also min_free_kbytes as khugepaged sets it" },
  { key: "transparent_hugepage.defrag", type: "enum", values: ["always", "defer", "defer+madvise", "madvise", "never"], def: "madvise", modelled: true,
    help: "how hard a THP fault tries: direct compaction/reclaim or kcompactd" },
  { key: "transparent_hugepage.khugepaged.scan_sleep_millisecs", type: "int", min: 0, max: UINT_MAX, def: 10000, modelled: true,
    help: "ms khugepaged sleeps between scans while some mm is registered (0 is taken as 1 ms); a write ends the current sleep" },
  { key: "transparent_hugepage.khugepaged.alloc_sleep_millisecs", type: "int", min: 0, max: UINT_MAX, def: 60000, modelled: true,
    help: "ms khugepaged sleeps after a failed huge page allocation before scanning on (a second failure ends the scan); a write ends the current sleep" },
  { key: "transparent_hugepage.khugepaged.pages_to_scan", type: "int", min: 1, max: UINT_MAX, def: 4096, modelled: true,
    help: "progress per scan: 512 per 2 MiB range scanned, 1 per mm visited and per region skipped (default HPAGE_PMD_NR * 8)" },
  { key: "transparent_hugepage.khugepaged.max_ptes_none", type: "int", min: 0, max: 511, def: 511, modelled: true,
    help: "empty PTEs a range may have and still be collapsed by khugepaged (they become zeroed memory)" },
  { key: "transparent_hugepage.khugepaged.max_ptes_swap", type: "int", min: 0, max: 511, def: 64, modelled: true,
    help: "swapped-out PTEs a range may have and still be collapsed by khugepaged (they are swapped in)" },
  { key: "transparent_hugepage.khugepaged.max_ptes_shared", type: "int", min: 0, max: 511, def: 256, modelled: true,
    help: "PTEs mapping pages several processes share that a range may have; wsim never collapses such a range (see docs/khugepaged.md)" },
  { key: "transparent_hugepage.khugepaged.defrag", type: "int", min: 0, max: 1, def: 1, modelled: true,
    help: "1 = khugepaged's huge page allocations may reclaim and compact directly (GFP_TRANSHUGE); 0 = GFP_TRANSHUGE_LIGHT" },
  { key: "lru_gen.enabled", type: "int", min: 0, max: 1, def: 1, modelled: true,
    help: "1 = the multi-gen LRU (MGLRU, wsim's default; the workingset report needs it); 0 = the classic two-list LRU (active/inactive lists, Debian's 6.1 boots with it). A write moves the pages between them (lru_gen_change_state)" },
  { key: "lru_gen.max_nr_gens", type: "int", min: 3, max: 16, def: 4, modelled: true,
    help: "MGLRU generations per type (MAX_NR_GENS)" },
  { key: "memory.workingset.page_age_intervals", type: "intervals", scope: "memcg", def: "", modelled: true,
    help: "page_age histogram bin bounds in ms, written N<id>=a,b,c one node per write" },
  { key: "memory.workingset.reaccess_intervals", type: "intervals", scope: "memcg", def: "", modelled: true,
    help: "reaccess histogram bin bounds in ms, written N<id>=a,b,c" },
  { key: "memory.workingset.refresh_interval", type: "intervals", scope: "memcg", def: "", modelled: true,
    help: "page_age validity in ms, written N<id>=ms (0 disables refresh)" },
  { key: "memory.max", type: "limit", scope: "memcg", def: "max", modelled: true,
    help: "cgroup v2 hard limit of a memcg and its descendants: bytes (K/M/G suffixes) or max; over it a charge reclaims the memcg, then memcg OOM" },
  { key: "memory.high", type: "limit", scope: "memcg", def: "max", modelled: true,
    help: "cgroup v2 throttling limit: over it the task reclaims on return to user space and sleeps calculate_high_delay's penalty" },
  { key: "memory.low", type: "limit", scope: "memcg", def: "0", modelled: true,
    help: "cgroup v2 best-effort protection from reclaim (effective_protection), breached only when nothing else can be reclaimed" },
  { key: "memory.min", type: "limit", scope: "memcg", def: "0", modelled: true,
    help: "cgroup v2 hard protection from reclaim (effective_protection)" },
  { key: "memory.swap.max", type: "limit", scope: "memcg", def: "max", modelled: true,
    help: "cgroup v2 swap limit of a memcg and its descendants: bytes or max" },
  { key: "page_reporting.enabled", type: "int", min: 0, max: 1, def: 0, modelled: true,
    help: "free page reporting to the host (1 on the vm preset)" },
  { key: "page_reporting.mode", type: "enum", values: ["reporting", "aeration"], def: "reporting", modelled: true,
    help: "reporting (merged mm/page_reporting.c) or aeration (the RFC)" },
  { key: "page_reporting.order", type: "int", min: 0, max: 10, def: 9, modelled: true,
    help: "smallest order reported (page_reporting_order)" },
  { key: "page_reporting.capacity", type: "int", min: 1, max: 512, def: 32, modelled: true,
    help: "blocks per report (PAGE_REPORTING_CAPACITY)" },
  { key: "page_reporting.delay_ms", type: "int", min: 0, max: UINT_MAX,
    def: (_m, t) => (t.get("page_reporting.mode") === "aeration" ? 100 : 2000), modelled: true,
    help: "delay from a request to the pass: 2000, or 100 in aeration mode" },
  { key: "page_reporting.report_ms", type: "int", min: 0, max: UINT_MAX, def: 0, modelled: true,
    help: "virtual time one report takes (blocks stay isolated meanwhile)" },
  { key: "kpromoted.enabled", type: "int", min: 0, max: 1, def: 0, modelled: true, help: "kpromoted hot page promotion" },
  { key: "kpromoted.freq_window_ms", type: "int", min: 1, max: UINT_MAX, def: 5000, modelled: true, help: "frequency window (KPROMOTED_FREQ_WINDOW)" },
  { key: "kpromoted.freq_threshold", type: "int", min: 1, max: 255, def: 2, modelled: true, help: "accesses in a window that make a page hot" },
  { key: "kpromoted.delay_ms", type: "int", min: 1, max: UINT_MAX, def: 1000, modelled: true, help: "kpromoted wake-up period (KPROMOTE_DELAY)" },
  { key: "kpromoted.hash_order", type: "int", min: 1, max: 24, def: 16, modelled: true, help: "log2 of the record hash's buckets (KPROMOTED_HASH_ORDER)" },
  { key: "kpromoted.default_node", type: "node",
    def: (m) => m.nodes.find((n) => n.tier === 0)?.id ?? 0, modelled: true,
    help: "node for records without one (the patch hard-codes node 1); default the first top-tier node" },
  { key: "hotness.hw_sample_period", type: "int", min: 0, max: UINT_MAX, def: 0, modelled: true,
    help: "hardware hints: every Nth access to lower-tier memory is recorded (0 = off)" },
  { key: "kmmscand.enabled", type: "int", min: 0, max: 1, def: 0, modelled: true, help: "kmmscand page-table scanner" },
  { key: "kmmscand.feed", type: "enum", values: ["migrate", "kpromoted"], def: "migrate", modelled: true,
    help: "where scanned hot pages go: kmmmigrated (V1) or kpromoted" },
  { key: "kmmscand.scan_period_ms", type: "int", min: 500, max: 5000, def: 2000, modelled: true, help: "initial per-mm scan period" },
  { key: "kmmscand.scan_size", type: "size", min: 256 * 2 ** 20, max: 4 * 2 ** 30, def: 2 ** 30, modelled: true,
    help: "bytes of mappings scanned per mm visit (256M..4G)" },
  { key: "kmmscand.scan_sleep_ms", type: "int", min: 0, max: UINT_MAX, def: 16, modelled: true, help: "pause between scan rounds" },
  { key: "kmmscand.mms_to_scan", type: "int", min: 1, max: INT_MAX, def: 4096, modelled: true, help: "mms visited per round" },
  { key: "kmmscand.migrate_sleep_ms", type: "int", min: 0, max: UINT_MAX, def: 20, modelled: true, help: "kmmmigrated wait between cycles" },
  { key: "kmmscand.target_node", type: "node", def: 0, modelled: true, help: "promotion target when no top-tier node saw the mm" },
  { key: "kernel.numa_balancing", type: "int", min: 0, max: 4, def: 0, modelled: true,
    help: "automatic NUMA balancing, a bitmask: 1 NUMA locality (misplaced pages move to the accessing CPU's node), 2 memory tiering (hot lower-tier pages promoted on hint faults), 3 both; 4 (6.1 accepts it: bit 0x4 has no meaning) turns the scanner on with neither bit, so only lower-tier pages are hinted and they move as in mode 1; with no lower tier it does nothing" },
  { key: "kernel.numa_balancing_promote_rate_limit_MBps", type: "int", min: 0, max: INT_MAX, def: 65536, modelled: true,
    help: "tiering mode: promotion candidates per second per target node, in MB" },
  { key: "numa_balancing.scan_delay_ms", type: "int", min: 0, max: UINT_MAX, def: 1000, modelled: true,
    help: "CPU time a process runs before its first scan (debugfs sched/numa_balancing/ in 6.1)" },
  { key: "numa_balancing.scan_period_min_ms", type: "int", min: 0, max: UINT_MAX, def: 1000, modelled: true,
    help: "shortest scan period, divided by the process's RSS in scan_size windows" },
  { key: "numa_balancing.scan_period_max_ms", type: "int", min: 0, max: UINT_MAX, def: 60000, modelled: true,
    help: "longest scan period, likewise divided; also tiering mode's threshold-adjustment window" },
  { key: "numa_balancing.scan_size_mb", type: "int", min: 1, max: UINT_MAX, def: 256, modelled: true,
    help: "MB of ranges with a new hint per scan pass (8 times that of address space walked at most)" },
  { key: "numa_balancing.hot_threshold_ms", type: "int", min: 0, max: UINT_MAX, def: 1000, modelled: true,
    help: "tiering mode: a hint fault this soon after the scan marks the page hot (adjusted automatically, 1/8 steps, up to twice)" },
  { key: "numa.demotion_enabled", type: "int", min: 0, max: 1, def: 0, modelled: true, help: "reclaim demotes to the next tier instead of swapping" },
  { key: "wsim.kswapd_pages_per_ms", type: "int", min: 1, max: INT_MAX, def: 256, modelled: false,
    help: "removed (accepted and ignored, so older traces run): kswapd runs balance_pgdat's priority loop and its work takes cost.reclaim_scan_ns / cost.reclaim_page_ns of virtual time" },
  { key: "wsim.hot_truth_accesses", type: "int", min: 1, max: UINT_MAX, def: 2, modelled: true,
    help: "wsim's own: accesses to a lower-tier page within a kpromoted.freq_window_ms window that make it truly hot in the promotion ground truth (default: kpromoted's frequency threshold)" },
  { key: "wsim.page_tables", type: "int", min: 0, max: 1, def: 1, modelled: true,
    help: "wsim's own: 1 = page-table pages take memory as x86-64's do (nr_page_table_pages); 0 = faults allocate no table (earlier wsim results, subsystem tests)" },
  { key: "wsim.pcp", type: "int", min: 0, max: 1, def: 1, modelled: true,
    help: "wsim's own: 1 = per-cpu page lists as 6.1 keeps them (freed pages of orders 0-3 and 9 wait on them, outside nr_free_pages and buddyinfo); 0 = every allocation and free goes straight to the buddy lists (earlier wsim results, subsystem tests). Writing 0 drains them" },
  { key: "wsim.khugepaged", type: "int", min: 0, max: 1, def: 1, modelled: true,
    help: "wsim's own: 1 = khugepaged runs as 6.1's does while THP is not never (docs/khugepaged.md); 0 = no khugepaged, nothing registers with it (earlier wsim results, subsystem tests)" },
  { key: "wsim.slab", type: "int", min: 0, max: 1, def: 1, modelled: true,
    help: "wsim's own: 1 = VMAs take slab as 6.1's do (vm_area_struct, anon_vma, anon_vma_chain, maple_node: nr_slab_unreclaimable); 0 = no slab (earlier wsim results, subsystem tests)" },
  { key: "wsim.swap_writeback", type: "int", min: 0, max: 1, def: 0, modelled: true,
    help: "wsim's own: 1 = an anon page reclaim swaps out stays allocated, in the swap cache under writeback, until its write ends (cost.io_write_ns a page, one FIFO queue) and a later scan frees it, as 6.1's pageout does (docs/swap-writeback.md); 0 = it is freed at once (earlier wsim results)" },
  { key: "wsim.lru_gen_bloom", type: "int", min: 0, max: 1, def: 0, modelled: true,
    help: "wsim's own: 1 = reclaim's MGLRU aging walks page tables as 6.1's does (force_scan false: PTE tables not in the lruvec's Bloom filter and mms under 64 pages are skipped, so their accessed bits wait for eviction's look-around; docs/lru-gen-walk.md); 0 = it walks every table (force_scan, as the workingset report's aging always does; earlier wsim results)" },
  { key: "wsim.boot_in_use", type: "int", min: 0, max: 100, def: 0, modelled: true,
    help: "wsim's own: the percentage of a start state's boot owner LRU pages (--start-state) that stay in use: young whenever aging, eviction or look-around tests them (the processes that own them on the real machine go on running), spread evenly in pfn order; the others are idle; a later write re-marks the pages still mapped. 0 = none (earlier wsim results); wsim compare uses 100 unless --set gives it (its guest's boot pages are its helper's)" },
  { key: "cost.profile", type: "enum", values: ["server", "tcg"], def: "server", modelled: true,
    help: "which set of cost.* defaults applies: server (current x86-64 server hardware) or tcg (a QEMU TCG guest, for wsim compare); a cost.* written explicitly wins" },
  ...costTunables(),
];

export const TUNABLE_BY_KEY: ReadonlyMap<string, TunableSpec> = new Map(TUNABLES.map((t) => [t.key, t]));

/** "allowed values" text for messages and listings. */
export function describeAllowed(t: TunableSpec, m?: Machine): string {
  switch (t.type) {
    case "int":
      // MIN_PERCPU_PAGELIST_HIGH_FRACTION: 1..7 are refused (percpu_pagelist_high_fraction_sysctl_handler)
      if (t.key === "vm.percpu_pagelist_high_fraction") return `0 or an integer 8..${t.max}`;
      return `an integer ${t.min}..${t.max}`;
    case "enum":
      return `one of ${t.values!.join(", ")}`;
    case "size":
      return `a size ${fmtBytes(t.min!)}..${fmtBytes(t.max!)}`;
    case "intervals":
      return t.key.endsWith("refresh_interval") ? "N<node>=<ms>" : "N<node>=<ms>,<ms>,... (strictly increasing, fewer than 32)";
    case "node":
      return m ? `a node id 0..${m.nodes.length - 1}` : "a node id";
    case "limit":
      return "bytes (an integer, optionally with a K, M, G, T, P or E suffix) or max";
    case "ints":
      return `${LOWMEM_RATIO_COUNT} integers ${t.min}..${t.max} separated by spaces (DMA DMA32 Normal Movable Device)`;
  }
}

function fmtBytes(b: number): string {
  return b >= 2 ** 30 ? `${b / 2 ** 30}G` : `${b / 2 ** 20}M`;
}

/** Closest known keys, for "did you mean": small edit distance first, then shared words. */
export function suggestKeys(key: string): string[] {
  const keys = TUNABLES.map((t) => t.key);
  const near = keys
    .map((k) => [k, editDistance(k, key)] as const)
    .filter(([, d]) => d <= 3)
    .sort((a, b) => a[1] - b[1])
    .map(([k]) => k);
  if (near.length) return near.slice(0, 3);
  const tail = key.split(".").pop() ?? key;
  return keys.filter((k) => tail.length > 2 && k.includes(tail)).slice(0, 3);
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

/**
 * Parses and validates one value. Throws Error whose message names the key and what it
 * allows; callers turn it into a usage (argv) or data (trace) error.
 */
export function parseValue(key: string, raw: TunableValue, m: Machine): TunableValue {
  const t = TUNABLE_BY_KEY.get(key);
  if (!t) {
    const s = suggestKeys(key);
    throw new Error(`unknown tunable ${quoteInput(key)}${s.length ? ` (did you mean ${s.join(", ")}?)` : ""}; \`wsim tunables\` lists them all`);
  }
  const bad = (): never => {
    throw new Error(`${key}: expected ${describeAllowed(t, m)}, got ${quoteInput(String(raw))}`);
  };
  const s = String(raw).trim();
  switch (t.type) {
    case "int": {
      if (!/^\d+$/.test(s)) bad();
      const n = Number(s);
      if (n < t.min! || n > t.max!) bad();
      // percpu_pagelist_high_fraction_sysctl_handler: MIN_PERCPU_PAGELIST_HIGH_FRACTION
      if (key === "vm.percpu_pagelist_high_fraction" && n !== 0 && n < 8)
        throw new Error(`${key}: expected 0 or an integer 8..${t.max} (MIN_PERCPU_PAGELIST_HIGH_FRACTION is 8), got ${quoteInput(String(raw))}`);
      return n;
    }
    case "node": {
      if (!/^\d+$/.test(s)) bad();
      const n = Number(s);
      if (n >= m.nodes.length) bad();
      return n;
    }
    case "enum":
      if (!t.values!.includes(s)) bad();
      return s;
    case "size": {
      let b = 0;
      try {
        b = parseSizeBytes(s);
      } catch {
        bad();
      }
      if (b < t.min! || b > t.max!) bad();
      return b;
    }
    case "intervals":
      return parseIntervals(key, s, m);
    case "limit": {
      // page_counter_memparse: max or memparse's bytes, rounded down to pages; printed back in bytes
      const pages = parseLimit(s);
      if (pages === null) bad();
      return formatLimit(pages!);
    }
    case "ints": {
      // proc_dointvec_minmax's list, one value per zone (MAX_NR_ZONES)
      const parts = s.split(/[\s,]+/).filter((x) => x !== "");
      if (parts.length !== LOWMEM_RATIO_COUNT || parts.some((x) => !/^\d+$/.test(x) || Number(x) > t.max!)) bad();
      return parts.map(Number).join(" ");
    }
  }
}

/** values of vm.lowmem_reserve_ratio: MAX_NR_ZONES on x86-64 (DMA, DMA32, Normal, Movable, Device) */
const LOWMEM_RATIO_COUNT = 5;

/**
 * memory.workingset.* values as the RFC v3 parses them: `N<id>=a,b,c` (one node per write),
 * strictly increasing, fewer than 32 values; refresh_interval takes one value. An empty list
 * after `=` clears the node's intervals. Returns the normalised text.
 */
function parseIntervals(key: string, s: string, m: Machine): string {
  const mm = /^N(\d+)=(.*)$/.exec(s);
  if (!mm) throw new Error(`${key}: expected N<node>=<values>, got ${quoteInput(s)}`);
  const nid = Number(mm[1]);
  if (nid >= m.nodes.length) throw new Error(`${key}: node ${nid} has no memory (nodes 0..${m.nodes.length - 1})`);
  const list = mm[2]!.trim();
  const single = key.endsWith("refresh_interval");
  const parts = list === "" ? [] : list.split(",");
  const vals = parts.map((p) => {
    if (!/^\d+$/.test(p.trim()) || Number(p) > UINT_MAX) throw new Error(`${key}: ${quoteInput(p)} is not a number of ms`);
    return Number(p);
  });
  if (single && vals.length !== 1) throw new Error(`${key}: expected N<node>=<ms>, got ${quoteInput(s)}`);
  if (vals.length >= 32) throw new Error(`${key}: at most 31 intervals`);
  for (let i = 1; i < vals.length; i++)
    if (vals[i]! <= vals[i - 1]!) throw new Error(`${key}: intervals must be strictly increasing`);
  return `N${nid}=${vals.join(",")}`;
}

/** Default of one tunable on this machine given the others resolved so far. */
export function defaultOf(t: TunableSpec, m: Machine, vals: ReadonlyMap<string, TunableValue>): TunableValue {
  return typeof t.def === "function" ? t.def(m, vals) : t.def;
}
