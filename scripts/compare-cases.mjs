/**
 * The cases of the README's comparison with a real kernel (scripts/compare-table.mjs): each a
 * bundled trace and the `wsim compare` arguments, and the rows to show: counters (several in
 * one row are printed "a / b") and why wsim's value differs from the kernel's when it is
 * outside the kernel's range over the boots. `{wsim:NAME}` and `{kernel:NAME}` in a text are
 * filled in from the run; `inRange` is an optional note for a row inside the range.
 *
 * An explanation must stay true whatever the boots give: write what differs between the
 * model and the kernel, not the numbers of one run (use the placeholders for those).
 */

const PCP = "6.1 keeps freed pages on per-cpu lists, outside the buddy lists, where they cannot merge; wsim has none (issue 13)";
const ZONES = "the guest's memory is two zones, DMA (16 MiB) and DMA32, compacted one by one; wsim has one Normal zone (issue 13)";
const DMA_BALANCED =
  "6.1's pgdat_balanced takes a node as balanced when any one of its zones meets the high watermark for the order; the guest's DMA zone keeps free order-9 and order-10 blocks (nothing here allocates from it), so a THP fault's wakeup_kswapd(order 9) finds the node balanced and wakes kcompactd instead of reclaiming. wsim's node is one zone without such blocks, so each THP fallback sends kswapd to reclaim for order 9 (balance_pgdat until compact_gap(9) = 1024 pages, then order 0)";
const GUEST_CLOCK =
  "under TCG the guest's clock runs on while it works, on top of the trace's gaps, and its kcompactd and kswapd run on that clock at different points from boot to boot; wsim's daemons run on the trace's clock";

export const CASES = [
  {
    name: "compact-holes",
    label: "`compact-holes` (manual compaction)",
    trace: "traces/compact-holes.csv.gz",
    args: ["--mem", "192M"],
    rows: [
      { counters: ["pgmigrate_success"], why: `${ZONES}; ${PCP}` },
      { counters: ["pgmigrate_fail"], why: "pages the kernel could not migrate at that moment (a page under writeback, a short-lived reference); wsim's migrations of isolated user pages fail only when the free scanner runs dry" },
      { counters: ["compact_migrate_scanned", "compact_free_scanned"], why: `${ZONES}, and the guest's own pages (kernel stacks, page tables) in the blocks scanned` },
      { counters: ["pgfault", "nr_anon_pages"], why: "the guest helper's own faults and pages" },
    ],
  },
  {
    name: "thp-defrag-never",
    label: "`thp-defrag`, defrag=never",
    trace: "traces/thp-defrag.csv.gz",
    args: ["--mem", "192M", "--set", "transparent_hugepage.defrag=never"],
    rows: [
      { counters: ["compact_stall"] },
      { counters: ["thp_fault_alloc", "thp_fault_fallback"], why: `${GUEST_CLOCK}: proactive compaction in the guest may make or take order-9 blocks during the 32 THP faults` },
      { counters: ["pgmigrate_success"], why: `${GUEST_CLOCK}: a boot whose kcompactd ran proactive compaction during the THP faults migrates pages, one that did not migrates none` },
    ],
  },
  {
    name: "thp-defrag-always",
    label: "`thp-defrag`, defrag=always",
    trace: "traces/thp-defrag.csv.gz",
    args: ["--mem", "192M", "--set", "transparent_hugepage.defrag=always"],
    rows: [
      { counters: ["compact_stall"], why: `direct compaction on every THP fault on both sides; how many stall depends on what the guest's proactive compaction did first (${GUEST_CLOCK}); wsim runs 6.1's compaction_capture, fast_isolate_freepages and fast_find_migrateblock too (issue 13 item 7), without the guest's per-cpu lists and its DMA zone` },
      { counters: ["thp_fault_alloc", "thp_fault_fallback"], why: "the same" },
    ],
  },
  {
    name: "fragmentation-40",
    label: "`fragmentation`, proactiveness=40",
    trace: "traces/fragmentation.csv.gz",
    args: ["--mem", "192M", "--set", "vm.compaction_proactiveness=40"],
    rows: [
      { counters: ["thp_fault_alloc", "thp_fault_fallback"], why: `kcompactd compacts while the trace idles on both sides; ${DMA_BALANCED}` },
      { counters: ["pswpout", "pageoutrun"], why: DMA_BALANCED },
      { counters: ["compact_daemon_wake"], why: "6.1's proactive compaction does not count compact_daemon_*; wsim's wake-ups come from kswapd going to sleep after an order-9 run, the kernel's from wakeup_kswapd on a node balanced through DMA (above)" },
      { counters: ["pgmigrate_success"], why: `${GUEST_CLOCK}; the kernel's kcompactd moves more in its proactive runs while the trace idles` },
      { counters: ["nr_active_anon", "nr_inactive_anon"], why: "MGLRU on both sides (`--lru mglru`, the default: Debian's 6.1 builds it but leaves it off); the youngest two generations print as active, and reclaim on each side ages different pages (above)" },
    ],
  },
  {
    name: "fragmentation-0",
    label: "`fragmentation`, proactiveness=0",
    trace: "traces/fragmentation.csv.gz",
    args: ["--mem", "192M", "--set", "vm.compaction_proactiveness=0"],
    rows: [
      { counters: ["thp_fault_alloc", "thp_fault_fallback"], why: "wsim's kswapd, reclaiming for order 9 after each fallback, frees an order-9 block the next fault takes; the guest's does not reclaim for order 9 (its DMA zone balances the node, above)" },
      { counters: ["compact_daemon_wake", "pgmigrate_success"], why: "the kernel's wake-ups come from wakeup_kswapd on a node balanced through its DMA zone; wsim's kswapd, going to sleep after its order-9 run, calls wakeup_kcompactd(9) as 6.1 does, but kcompactd_node_suitable then finds the order-9 block reclaim just freed and kcompactd stays asleep" },
      { counters: ["pswpout", "pageoutrun"], why: "wsim's kswapd reclaims for each THP fallback; the kernel's runs fewer times, for order-0 watermarks" },
    ],
  },
  {
    name: "hotset-shift",
    label: "`hotset-shift` (`--mem 256M`)",
    trace: "traces/hotset-shift.csv",
    args: ["--mem", "256M"],
    rows: [
      { counters: ["nr_anon_pages", "nr_anon_transparent_hugepages", "pgfault"], why: "the guest helper's own pages and faults" },
      { counters: ["nr_active_anon", "nr_inactive_anon"], why: "wsim's kagingd (the workingset report RFC's aging thread, set going by the trace's `memory.workingset.refresh_interval`) ages the lruvec every 2 s, so the pages the hot set left fall out of the two youngest generations; 6.1 has no such thread and, without reclaim, never ages. The `memory.workingset.*` files are not in 6.1 (counted as not replayed)" },
    ],
  },
  {
    name: "overcommit",
    label: "`overcommit` (`--mem 96M`)",
    trace: "traces/overcommit.json",
    args: ["--mem", "96M"],
    rows: [
      { counters: ["pswpout", "pswpin"], why: "reclaim on both sides; the guest has its own page tables, stacks and slab to keep (issue 13), and reads swap ahead (next row)" },
      { counters: ["pgmajfault", "swap_ra", "swap_ra_hit"], why: "both read swap ahead as 6.1 does on an SSD (swap_vma_readahead, vm.page-cluster 3): one major fault per read, the neighbours' faults then minor; the guest replays the trace's file mapping as anonymous memory, so all its major faults are swap-ins, while wsim drops file pages and counts each file refault as a major fault of its own (no page cache read-around): most of wsim's {wsim:pgmajfault}; wsim swaps in fewer pages (row above), so it reads fewer ahead" },
      { counters: ["pgscan_kswapd", "pgscan_direct"], why: "both scan `evictable >> priority` per lruvec (MGLRU's get_nr_to_scan); the guest's LRU also holds its own kernel's and helper's pages and its kswapd ages before it scans, while wsim's ages inside eviction; faults that outrun wsim's kswapd (each of its priority iterations takes cost.* time) reclaim directly" },
      { counters: ["workingset_refault_anon", "workingset_activate_anon"], why: "refaults follow the swap-ins: fewer swap-outs in wsim, fewer refaults" },
    ],
  },
];
