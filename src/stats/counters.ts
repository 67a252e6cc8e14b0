/**
 * The one list of counter names. KERNEL_VMSTAT is /proc/vmstat of Debian's Linux 6.1
 * (linux-image cloud 6.1.192) in its print order, copied from a real boot: a counter
 * wsim does not model still prints, as 0. WSIM_COUNTERS are wsim's own (prefix wsim_),
 * printed after the kernel's last line (nr_unstable). Each has one line of help.
 *
 * Counters are stored in one Float64Array indexed by position (exact integers up to
 * 2^53); the hot path uses the indices in `V` (V.pgfault, ...), so a name that is not
 * declared here does not type-check.
 */

export const KERNEL_VMSTAT = [
  "nr_free_pages",
  "nr_zone_inactive_anon",
  "nr_zone_active_anon",
  "nr_zone_inactive_file",
  "nr_zone_active_file",
  "nr_zone_unevictable",
  "nr_zone_write_pending",
  "nr_mlock",
  "nr_bounce",
  "nr_zspages",
  "nr_free_cma",
  "numa_hit",
  "numa_miss",
  "numa_foreign",
  "numa_interleave",
  "numa_local",
  "numa_other",
  "nr_inactive_anon",
  "nr_active_anon",
  "nr_inactive_file",
  "nr_active_file",
  "nr_unevictable",
  "nr_slab_reclaimable",
  "nr_slab_unreclaimable",
  "nr_isolated_anon",
  "nr_isolated_file",
  "workingset_nodes",
  "workingset_refault_anon",
  "workingset_refault_file",
  "workingset_activate_anon",
  "workingset_activate_file",
  "workingset_restore_anon",
  "workingset_restore_file",
  "workingset_nodereclaim",
  "nr_anon_pages",
  "nr_mapped",
  "nr_file_pages",
  "nr_dirty",
  "nr_writeback",
  "nr_writeback_temp",
  "nr_shmem",
  "nr_shmem_hugepages",
  "nr_shmem_pmdmapped",
  "nr_file_hugepages",
  "nr_file_pmdmapped",
  "nr_anon_transparent_hugepages",
  "nr_vmscan_write",
  "nr_vmscan_immediate_reclaim",
  "nr_dirtied",
  "nr_written",
  "nr_throttled_written",
  "nr_kernel_misc_reclaimable",
  "nr_foll_pin_acquired",
  "nr_foll_pin_released",
  "nr_kernel_stack",
  "nr_page_table_pages",
  "nr_sec_page_table_pages",
  "nr_swapcached",
  "pgpromote_success",
  "pgpromote_candidate",
  "nr_dirty_threshold",
  "nr_dirty_background_threshold",
  "pgpgin",
  "pgpgout",
  "pswpin",
  "pswpout",
  "pgalloc_dma",
  "pgalloc_dma32",
  "pgalloc_normal",
  "pgalloc_movable",
  "pgalloc_device",
  "allocstall_dma",
  "allocstall_dma32",
  "allocstall_normal",
  "allocstall_movable",
  "allocstall_device",
  "pgskip_dma",
  "pgskip_dma32",
  "pgskip_normal",
  "pgskip_movable",
  "pgskip_device",
  "pgfree",
  "pgactivate",
  "pgdeactivate",
  "pglazyfree",
  "pgfault",
  "pgmajfault",
  "pglazyfreed",
  "pgrefill",
  "pgreuse",
  "pgsteal_kswapd",
  "pgsteal_direct",
  "pgdemote_kswapd",
  "pgdemote_direct",
  "pgscan_kswapd",
  "pgscan_direct",
  "pgscan_direct_throttle",
  "pgscan_anon",
  "pgscan_file",
  "pgsteal_anon",
  "pgsteal_file",
  "zone_reclaim_failed",
  "pginodesteal",
  "slabs_scanned",
  "kswapd_inodesteal",
  "kswapd_low_wmark_hit_quickly",
  "kswapd_high_wmark_hit_quickly",
  "pageoutrun",
  "pgrotated",
  "drop_pagecache",
  "drop_slab",
  "oom_kill",
  "numa_pte_updates",
  "numa_huge_pte_updates",
  "numa_hint_faults",
  "numa_hint_faults_local",
  "numa_pages_migrated",
  "pgmigrate_success",
  "pgmigrate_fail",
  "thp_migration_success",
  "thp_migration_fail",
  "thp_migration_split",
  "compact_migrate_scanned",
  "compact_free_scanned",
  "compact_isolated",
  "compact_stall",
  "compact_fail",
  "compact_success",
  "compact_daemon_wake",
  "compact_daemon_migrate_scanned",
  "compact_daemon_free_scanned",
  "htlb_buddy_alloc_success",
  "htlb_buddy_alloc_fail",
  "unevictable_pgs_culled",
  "unevictable_pgs_scanned",
  "unevictable_pgs_rescued",
  "unevictable_pgs_mlocked",
  "unevictable_pgs_munlocked",
  "unevictable_pgs_cleared",
  "unevictable_pgs_stranded",
  "thp_fault_alloc",
  "thp_fault_fallback",
  "thp_fault_fallback_charge",
  "thp_collapse_alloc",
  "thp_collapse_alloc_failed",
  "thp_file_alloc",
  "thp_file_fallback",
  "thp_file_fallback_charge",
  "thp_file_mapped",
  "thp_split_page",
  "thp_split_page_failed",
  "thp_deferred_split_page",
  "thp_split_pmd",
  "thp_scan_exceed_none_pte",
  "thp_scan_exceed_swap_pte",
  "thp_scan_exceed_share_pte",
  "thp_split_pud",
  "thp_zero_page_alloc",
  "thp_zero_page_alloc_failed",
  "thp_swpout",
  "thp_swpout_fallback",
  "balloon_inflate",
  "balloon_deflate",
  "balloon_migrate",
  "swap_ra",
  "swap_ra_hit",
  "ksm_swpin_copy",
  "cow_ksm",
  "direct_map_level2_splits",
  "direct_map_level3_splits",
  "nr_unstable",
] as const;

/**
 * The seed RFCs' counters, printed at their patches' positions when their feature is enabled:
 * kpromoted's 13 events appended to vm_event_item (before nr_unstable), kmmscand V1's 8 after
 * numa_pages_migrated.
 */
export const KPROMOTED_COUNTERS = [
  "kpromoted_recorded_accesses", "kpromoted_recorded_hwhints", "kpromoted_recorded_pgtscans", "kpromoted_record_toptier",
  "kpromoted_record_added", "kpromoted_record_exists", "kpromoted_mig_right_node", "kpromoted_mig_non_lru",
  "kpromoted_mig_cold_old", "kpromoted_mig_cold_not_accessed", "kpromoted_mig_candidate", "kpromoted_mig_promoted",
  "kpromoted_mig_dropped",
] as const;
export const KMMSCAND_COUNTERS = [
  "nr_kmmscand_mm_scans", "nr_kmmscand_vma_scans", "nr_kmmscand_migadded", "nr_kmmscand_migrated",
  "nr_kmmscand_migrate_failed", "nr_kmmscand_slowtier", "nr_kmmscand_toptier", "nr_kmmscand_idlepage",
] as const;

/** wsim's own counters: not in any kernel, hence the prefix. */
export const WSIM_COUNTERS = {
  wsim_events: "trace events replayed",
  wsim_alloc_fail: "kernel alloc events that failed after the slow path",
  wsim_extfrag_fallbacks: "blocks taken from another migratetype's free lists (__rmqueue_fallback; the kernel's kmem:mm_page_alloc_extfrag events)",
  wsim_lenient_skipped: "bad events skipped under --lenient (unknown/failed handle freed, handle reused)",
  wsim_processes: "processes (mms) created",
  wsim_implicit_maps: "accesses outside any region that mapped one anon page implicitly",
  wsim_kernel_pages: "pages held by kernel alloc events now (gauge)",
  wsim_lru_gen_agings: "MGLRU agings (try_to_inc_max_seq), by reclaim, reads and kagingd",
  wsim_kagingd_wakeups: "kagingd passes",
  wsim_kagingd_refreshes: "workingset reports kagingd re-aggregated",
  wsim_wsr_refreshes: "workingset reports re-aggregated, by reads and kagingd",
  wsim_swap_entries: "swap and shadow entries in page tables now (gauge)",
  wsim_reporting_calls: "free page reporting: report() calls to the host",
  wsim_reported_blocks: "free page reporting: blocks reported",
  wsim_reported_pages: "free page reporting: pages reported",
  wsim_reported_reallocated: "free page reporting: pages of reported blocks allocated or split again (the guest faults them back)",
  wsim_nr_reported_pages: "free page reporting: pages reported and still free now (gauge)",
  wsim_promote_unbalanced:
    "migrations to another node (NUMA balancing, kpromoted, kmmscand) refused because the target was not above its high watermark (migrate_balanced_pgdat); only tiering mode wakes the target's kswapd",
  wsim_numa_thp_unmigrated: "NUMA balancing: hint faults on a huge page that should move (misplaced, or a promotion candidate let through) but did not, as wsim migrates order-0 pages only (6.1 would migrate the THP); events, not pages",
  wsim_kswapd_busy_ms: "kswapd's busy time, all nodes, in ms of virtual time: balance_pgdat's scanned and reclaimed pages at their cost.* (whole ms, rounded down)",
  wsim_oom_no_victim: "out_of_memory found no killable process (6.1 panics: \"System is deadlocked on memory\"); the allocation failed and the run went on",
  wsim_oom_victim_events: "events of a process the OOM killer had killed, skipped under --lenient",
  wsim_dirty_throttle_ms: "fwrite's balance_dirty_pages pauses, all writers, in ms of virtual time (I/O wait, not a memory stall; whole ms, rounded down)",
  wsim_khugepaged_pages_collapsed: "khugepaged's collapses: 2 MiB ranges made huge pages (sysfs transparent_hugepage/khugepaged/pages_collapsed)",
  wsim_khugepaged_full_scans: "khugepaged's passes over its whole mm list (sysfs transparent_hugepage/khugepaged/full_scans)",
} as const;

export type KernelCounter =
  | (typeof KERNEL_VMSTAT)[number]
  | (typeof KPROMOTED_COUNTERS)[number]
  | (typeof KMMSCAND_COUNTERS)[number];
export type WsimCounter = keyof typeof WSIM_COUNTERS;
export type CounterName = KernelCounter | WsimCounter;

/** Every counter, in storage order (V indexes): the kernel's, the seeds', then wsim's. */
export const COUNTER_NAMES: readonly CounterName[] = [
  ...KERNEL_VMSTAT,
  ...KPROMOTED_COUNTERS,
  ...KMMSCAND_COUNTERS,
  ...(Object.keys(WSIM_COUNTERS) as WsimCounter[]),
];

export interface SeedFeatures {
  kpromoted: boolean;
  kmmscand: boolean;
}

/** The names /proc/vmstat prints, in order, with the seeds' counters where their patches put them. */
export function printNames(f: SeedFeatures, withWsim: boolean): CounterName[] {
  const out: CounterName[] = [];
  for (const n of KERNEL_VMSTAT) {
    if (n === "nr_unstable" && f.kpromoted) out.push(...KPROMOTED_COUNTERS);
    out.push(n);
    if (n === "numa_pages_migrated" && f.kmmscand) out.push(...KMMSCAND_COUNTERS);
  }
  if (withWsim) out.push(...(Object.keys(WSIM_COUNTERS) as WsimCounter[]));
  return out;
}

/** Index of each counter in the counters array. */
export const V = Object.freeze(
  Object.fromEntries(COUNTER_NAMES.map((n, i) => [n, i])) as Record<CounterName, number>,
);

export const NR_COUNTERS = COUNTER_NAMES.length;

export function isKernelCounter(name: string): boolean {
  return (KERNEL_VMSTAT as readonly string[]).includes(name);
}

/**
 * Linux 6.1 counters that wsim models (the others print 0). A unit test keeps this list equal
 * to the kernel counters the engine's source updates; `wsim compare` marks the rest.
 */
/**
 * allocstall_<zone> by zone index (ZONE_DMA .. ZONE_MOVABLE): do_try_to_free_pages counts
 * sc->reclaim_idx's (no allocation asks for ZONE_DEVICE).
 */
export const ALLOCSTALL: readonly number[] = [V.allocstall_dma, V.allocstall_dma32, V.allocstall_normal, V.allocstall_movable];

export const MODELLED_KERNEL_COUNTERS: ReadonlySet<string> = new Set<KernelCounter>([
  "allocstall_dma",
  "allocstall_dma32",
  "allocstall_normal",
  "allocstall_movable",
  "compact_daemon_free_scanned",
  "compact_daemon_migrate_scanned",
  "compact_daemon_wake",
  "compact_fail",
  "compact_free_scanned",
  "compact_isolated",
  "compact_migrate_scanned",
  "compact_stall",
  "compact_success",
  "nr_active_anon",
  "nr_active_file",
  "nr_anon_pages",
  "nr_anon_transparent_hugepages",
  "nr_file_pages",
  "nr_free_pages",
  "nr_inactive_anon",
  "nr_inactive_file",
  "nr_mapped",
  "nr_mlock",
  "nr_dirty",
  "nr_dirtied",
  "nr_writeback",
  "nr_written",
  "nr_zone_write_pending",
  "pgrotated",
  "pgrefill",
  "nr_page_table_pages",
  "nr_slab_unreclaimable",
  "nr_unevictable",
  "nr_swapcached",
  "nr_vmscan_write",
  "nr_zone_active_anon",
  "nr_zone_active_file",
  "nr_zone_inactive_anon",
  "nr_zone_inactive_file",
  "nr_zone_unevictable",
  "numa_foreign",
  "numa_hint_faults",
  "numa_hint_faults_local",
  "numa_hit",
  "numa_huge_pte_updates",
  "numa_local",
  "numa_miss",
  "numa_other",
  "numa_pages_migrated",
  "numa_pte_updates",
  "oom_kill",
  "pageoutrun",
  "pgactivate",
  "pgalloc_device",
  "pgalloc_dma",
  "pgalloc_dma32",
  "pgalloc_movable",
  "pgalloc_normal",
  "pgdeactivate",
  "pgdemote_direct",
  "pgdemote_kswapd",
  "pgfault",
  "pgfree",
  "pglazyfree",
  "pglazyfreed",
  "pgmajfault",
  "pgmigrate_fail",
  "pgmigrate_success",
  "pgpgin",
  "pgpgout",
  "pgpromote_candidate",
  "pgpromote_success",
  "pgreuse",
  "pgrefill",
  "pgscan_anon",
  "pgscan_direct",
  "pgscan_file",
  "pgscan_kswapd",
  "pgsteal_anon",
  "pgsteal_direct",
  "pgsteal_file",
  "pgsteal_kswapd",
  "pswpin",
  "pswpout",
  "thp_collapse_alloc",
  "thp_collapse_alloc_failed",
  "thp_deferred_split_page",
  "swap_ra",
  "swap_ra_hit",
  "thp_fault_alloc",
  "thp_fault_fallback",
  "thp_fault_fallback_charge",
  "thp_split_page",
  "thp_split_pmd",
  "thp_scan_exceed_none_pte",
  "thp_scan_exceed_share_pte",
  "thp_scan_exceed_swap_pte",
  "unevictable_pgs_culled",
  "unevictable_pgs_mlocked",
  "unevictable_pgs_munlocked",
  "unevictable_pgs_rescued",
  "workingset_activate_anon",
  "workingset_activate_file",
  "workingset_refault_anon",
  "workingset_refault_file",
  "workingset_restore_anon",
  "workingset_restore_file",
]);
