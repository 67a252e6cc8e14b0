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

// wsim starts from the guest's boot zoneinfo, buddyinfo and pagetypeinfo (`wsim compare --start
// boot`): both sides have the DMA and DMA32 zones, the same free blocks per zone, order and
// migratetype, per-cpu lists and the guest's used pages (wsim's boot owner). What the files do
// not say is reconstructed by rule, and the explanations below name that where it matters.
/**
 * Notes the explanations refer to with {note:ID}, printed once below the table (in this order)
 * when a shown explanation names them, so a long reason is not repeated row after row.
 */
export const NOTES = [
  {
    id: "layout",
    title: "start layout",
    text: "The start state gives wsim the guest's free blocks per zone, order and migratetype, but not where inside a zone its used pages lie nor the order of its free lists (wsim lays them out by rule: src/machine/start-state.ts), and compaction's scanners and fast searches count and stop by both.",
  },
  {
    id: "boot",
    title: "boot pages",
    text: "The guest's used movable pages at boot are stood in for by wsim's boot owner: as many as its boot zoneinfo has on LRU lists (its initramfs in tmpfs, the helper, init) are anonymous LRU pages that compaction migrates and reclaim swaps like the trace's, the rest (slab, stacks, page tables in Movable pageblocks) unmovable kernel pages; some of the guest's cannot be isolated at the moment compaction meets them (pages on the per-cpu LRU add batches, pages locked or under I/O).",
  },
  {
    id: "one-cpu",
    title: "one CPU",
    text: "The guest has one CPU (the trace's machine has one): its kswapd runs only while the helper sleeps through the trace's gaps or is preempted, and swaps to an emulated NVMe disk under TCG, so between two THP faults it reclaims far less than wsim's kswapd, which works beside the faulting process at the cost table's speed (docs/costs.md); wsim's kswapd, woken for order 9 by each THP fallback (defrag=defer), runs balance_pgdat to compact_gap(9) and frees order-9 blocks that the next faults take.",
  },
  {
    id: "clock",
    title: "TCG clock",
    text: "Under TCG the guest's clock runs on while it works, on top of the trace's gaps, and its kcompactd and kswapd run on that clock; wsim runs each event as late as the guest's mean time per event makes it (`--pace guest`, the default), but the guest spends that time unevenly (a fault that compacts or swaps takes far longer than a hit) and differently from boot to boot, so the daemons' runs fall at different points between the faults on each side.",
  },
  {
    id: "as-guest",
    title: "as the guest runs it",
    text: "Both replay the trace as the guest's helper runs it (`wsim compare`'s defaults): every pid in one process in the root memcg, so one lruvec holds all of the trace's pages (the trace's `cg` and its memcgs' `memory.*` files are left out, `--memcgs root`), and each event as late as the guest's mean time per event makes it (`--pace guest`: under TCG the guest's replay takes several times the trace's time, kernel.guest_ms, so its kswapd keeps up with allocations that at the trace's own times would reclaim directly).",
  },
];

const HELPER = "the guest helper's own faults and pages";

export const CASES = [
  {
    name: "compact-holes",
    label: "`compact-holes` (manual compaction)",
    trace: "traces/compact-holes.csv.gz",
    args: ["--mem", "192M"],
    rows: [
      { counters: ["pgmigrate_success"], why: "both compact DMA and DMA32 whole (compact_memory); the guest's used pages are stood in for by wsim's boot owner, and some of the guest's cannot be isolated at the moment compaction meets them {note:boot}" },
      { counters: ["pgmigrate_fail"], why: "pages the kernel could not migrate at that moment (a page under writeback, a short-lived reference); wsim's migrations of isolated user pages fail only when the free scanner runs dry" },
      { counters: ["compact_migrate_scanned", "compact_free_scanned"], why: "where the guest's used pages lie inside each zone, and the order of its free lists, are wsim's rule, and both sides' scanners count and stop by them {note:layout}" },
      { counters: ["pswpout"], why: "both swap some of the trace's anon pages out as free memory reaches the watermarks (those the guest had at the first event, raised by set_recommended_min_free_kbytes when THP was turned on); how many swings from boot to boot with when the guest's kswapd runs" },
      { counters: ["pgfault", "nr_anon_pages"], why: `${HELPER}; nr_anon_pages also falls by the pages each side swapped out (the pswpout row)` },
    ],
  },
  {
    name: "thp-defrag-never",
    label: "`thp-defrag`, defrag=never",
    trace: "traces/thp-defrag.csv.gz",
    args: ["--mem", "192M", "--set", "transparent_hugepage.defrag=never"],
    rows: [
      { counters: ["compact_stall"] },
      { counters: ["thp_fault_alloc", "thp_fault_fallback"], why: "proactive compaction in the guest may make or take order-9 blocks during the 32 THP faults, at points of its own clock {note:clock}" },
      { counters: ["pgmigrate_success"], why: "a boot whose kcompactd ran proactive compaction during the THP faults migrates pages, one that did not migrates none {note:clock}" },
    ],
  },
  {
    name: "thp-defrag-always",
    label: "`thp-defrag`, defrag=always",
    trace: "traces/thp-defrag.csv.gz",
    args: ["--mem", "192M", "--set", "transparent_hugepage.defrag=always"],
    rows: [
      { counters: ["compact_stall"], why: `direct compaction on every THP fault on both sides (compaction_capture, fast_isolate_freepages and fast_find_migrateblock as 6.1 has them); once a zone's scanners meet without an order-9 block its compaction is deferred and its skip bits stay set until kswapd or kcompactd resets them, so how many faults stall and succeed swings with where the first attempts end {note:layout}, and with what the guest's proactive compaction did before the burst {note:clock}` },
      { counters: ["thp_fault_alloc", "thp_fault_fallback"], why: "the same" },
    ],
  },
  {
    name: "fragmentation-40",
    label: "`fragmentation`, proactiveness=40",
    trace: "traces/fragmentation.csv.gz",
    args: ["--mem", "192M", "--set", "vm.compaction_proactiveness=40"],
    rows: [
      { counters: ["thp_fault_alloc", "thp_fault_fallback"], why: "kcompactd compacts while the trace idles on both sides; then the guest's kswapd, on its one CPU, reclaims less between two THP faults than wsim's {note:one-cpu}, and each side's daemons run at points of its own clock {note:clock}" },
      { counters: ["pswpout", "pageoutrun"], why: "the guest's kswapd, on its one CPU, reclaims less between two THP faults than wsim's, which also runs for order 9 after each THP fallback {note:one-cpu}" },
      { counters: ["compact_daemon_wake"], why: "6.1's proactive compaction does not count compact_daemon_*; on both sides the wake-ups come from kswapd going to sleep after an order-9 run (wakeup_kcompactd) and from THP faults that find the node balanced (wakeup_kswapd), and wsim's kswapd runs more often (above)" },
      { counters: ["pgmigrate_success"], why: `the two sides' proactive runs fall at different points of their clocks and move different amounts {note:clock}; wsim's kswapd also runs more often (above) and wakes kcompactd after its order-9 runs; not broken down further` },
      { counters: ["nr_active_anon", "nr_inactive_anon"], why: "MGLRU on both sides (`--lru mglru`, the default: Debian's 6.1 builds it but leaves it off); the youngest two generations print as active, and reclaim on each side ages different pages (above)" },
    ],
  },
  {
    name: "fragmentation-0",
    label: "`fragmentation`, proactiveness=0",
    trace: "traces/fragmentation.csv.gz",
    args: ["--mem", "192M", "--set", "vm.compaction_proactiveness=0"],
    rows: [
      { counters: ["thp_fault_alloc", "thp_fault_fallback"], why: "no proactive compaction on either side; the guest's kswapd, on its one CPU, reclaims less between two THP faults than wsim's, which also runs for order 9 after each THP fallback {note:one-cpu}" },
      { counters: ["compact_daemon_wake", "pgmigrate_success"], why: `kcompactd is woken when kswapd goes to sleep after an order-9 run (wakeup_kcompactd) and by THP faults that find the node balanced (wakeup_kswapd); how much a run migrates depends on where its scanners start and stop {note:layout}; not broken down further` },
      { counters: ["pswpout", "pageoutrun"], why: "the guest's kswapd, on its one CPU, reclaims less between two THP faults than wsim's, which also runs for order 9 after each THP fallback {note:one-cpu}" },
    ],
  },
  {
    name: "proactive",
    label: "`proactive` (`--mem 424M`, proactiveness 20, `cost.profile=tcg`)",
    trace: "traces/proactive.csv.gz",
    args: ["--mem", "424M", "--set", "cost.profile=tcg"],
    rows: [
      { counters: ["thp_fault_alloc", "thp_fault_fallback"],
        inRange: `every THP here is one proactive compaction made (defrag=never: no direct compaction, no kswapd): kcompactd checks every 500 ms, compacts while the node's fragmentation score is above the high mark (proactiveness 20: 90) down to the low mark, and a pass that makes no progress defers the next for 32 s, on both sides. The guest's daemons run on its own clock {note:clock}, so from boot to boot the guest's passes fall before or after the THP burst, finish or defer: the kernel's THP count spans {kernel:thp_fault_alloc}. wsim runs with cost.profile=tcg, whose passes take about ten times the server figures (docs/costs.md; the saved runs cannot pin those figures down, scripts/fit-tcg-costs.mjs), so its passes end later and it makes {wsim:thp_fault_alloc}, at the top of the kernel's span; with the server profile it makes one more, just above it`,
        why: `every THP here is one proactive compaction made (defrag=never: no direct compaction, no kswapd); the guest's daemons run on its own clock {note:clock}, so from boot to boot the guest's passes fall before or after the THP burst: the kernel's THP count spans {kernel:thp_fault_alloc} and wsim's is {wsim:thp_fault_alloc} with cost.profile=tcg, whose figures are guesses the saved runs cannot pin down (docs/costs.md). Since wsim starts from the state the guest printed at the first event (2026-12-01: after THP was turned on, which raises min_free_kbytes, instead of at boot) its passes move fewer pages (next row) and make fewer THPs, and the boot watermarks do not give them back (vm.min_free_kbytes 2,600, about the boot value: 37 THPs); how much its passes move swings with the guest's start state from one recording to the next (the same model moves 12,525 pages from the runs recorded at 20:00 on 2026-12-01 and 7,424 from those of 21:50, making 38 THPs from both); not broken down further yet` },
      { counters: ["pgmigrate_success"], why: "the pages proactive compaction moved (row above)" },
      { counters: ["compact_stall", "compact_daemon_wake"] },
    ],
  },
  {
    name: "hotset-shift",
    label: "`hotset-shift` (`--mem 256M`)",
    trace: "traces/hotset-shift.csv",
    args: ["--mem", "256M"],
    rows: [
      { counters: ["nr_anon_pages", "nr_anon_transparent_hugepages", "pgfault"], why: HELPER },
      { counters: ["nr_active_anon", "nr_inactive_anon"], why: "the trace's anon pages, all in the two youngest generations on both sides (neither reclaims, so neither ages), and the guest's also the pages its helper faulted meanwhile. The trace's `memory.workingset.*` files are not in 6.1 (counted as not replayed) and, for its memcg `/svc`, not replayed on wsim's side either (`wsim compare --memcgs root`, the default, as the guest runs every pid in the root memcg); with `--memcgs trace` wsim's kagingd (the workingset report RFC's aging thread, which they set going) ages the lruvec every 2 s and the pages the hot set left fall out of the two youngest generations" },
    ],
  },
  {
    name: "munmap-vmas",
    label: "`munmap-vmas` (`--mem 512M`)",
    trace: "traces/munmap-vmas.csv.gz",
    args: ["--mem", "512M"],
    rows: [
      { counters: ["nr_slab_unreclaimable"], why: "40,000 VMAs of one page: vm_area_struct, anon_vma_chain and maple tree nodes packed into slab pages on both sides (src/mm/slab.ts); the guest's slab also holds its own kernel's objects allocated and freed meanwhile (kmalloc caches, the helper's pipe and file buffers), and its maple tree's node count follows the tree's real splits where wsim estimates it from the number of VMAs" },
      { counters: ["nr_page_table_pages"], why: "a PTE table per 2 MiB of touched address space and the PMD and PUD tables above it on both sides; the guest's also include its helper's own mappings and those of the processes it ran at boot" },
      { counters: ["pgfault", "nr_anon_pages"], why: HELPER },
    ],
  },
  {
    name: "overcommit",
    label: "`overcommit` (`--mem 96M`)",
    trace: "traces/overcommit.json",
    args: ["--mem", "96M"],
    rows: [
      { counters: ["pswpout", "pswpin"], why: `reclaim on both sides, from the same start: the guest's state at the first event (its watermarks as set_recommended_min_free_kbytes raised them when THP was turned on; its boot LRU pages in the generations its lru_gen showed, and in use, as its helper's and init's are: wsim.boot_in_use=100); both replay the trace as the guest's helper runs it, at its pace, in one root lruvec {note:as-guest}. wsim writes more: it frees a page's swap slot whenever the page is mapped back (should_try_to_free_swap's exclusive case, taken for every swap-in: src/mm/process.ts), so every anon page it reclaims is written again (its pgsteal_anon, {wsim:pgsteal_anon}, is its pswpout), where 6.1 keeps the slot of a page read back by a read fault or read ahead and frees it, still clean in the swap cache, without I/O (the guest's pgsteal_anon, {kernel:pgsteal_anon}, is thousands above its pswpout). 6.1 also writes asynchronously: pageout leaves the page under writeback (min_seq + 1), folio_end_writeback rotates it to the oldest generation's tail (the pgrotated row) and only a later scan frees it; wsim frees it at once and counts that second scan (wsim.swap_writeback=0, the default). pswpin counts every page read back, through swap readahead windows of up to 8 pages (vm.page-cluster 3; on both sides the pages read ahead go to the youngest generation, as folio_add_lru in a fault files them); wsim, having written more out, reads more back. At the trace's clock and with its memcgs (\`--pace trace --memcgs trace\`) wsim writes 12,061 and reads 9,200; not broken down further` },
      { counters: ["pgrotated"], why: "one rotation per anon page written to swap (folio_end_writeback), on both sides: each side's follow its swap-outs (the pswpout row)" },
      { counters: ["pgmajfault", "swap_ra", "swap_ra_hit"], why: "both map the trace's file region as page cache (the guest: a file of its own on its data disk, shared, read_ahead_kb 0) whose first touches and re-reads are one major fault a page, and both reclaim those pages before each of the trace's later passes over them: 3 x 3072 file faults on both sides; both read swap ahead as 6.1 does on an SSD (swap_vma_readahead, vm.page-cluster 3: one major fault per read), and wsim swaps in more (first row), so it reads more pages ahead" },
      { counters: ["pgsteal_file", "workingset_refault_file"], why: "both drop each of the 3072 file pages before each later pass (2 x 3072 = 6,144; the guest's few more are files of its own); both count a refault only when its shadow's generation is still the oldest (lru_gen_refault's token), and more of wsim's file refaults find it so: its aging runs less often (max_seq 12 at the end of a run against the guest's 18), so its oldest generation lasts longer; not broken down further" },
      { counters: ["pgscan_kswapd", "pgscan_direct"], why: `both scan \`evictable >> priority\` per lruvec (MGLRU's get_nr_to_scan; kswapd skips an lruvec that needs aging and ages it in lru_gen_age_node before the next priority) and isolate each page swapped out twice (written, then freed after writeback's rotation); both replay the trace as the guest's helper runs it, at its pace, in one root lruvec {note:as-guest}, so on both sides kswapd does nearly all of it. The guest isolates more (its pgscan_anon, {kernel:pgscan_anon}, exceeds pgsteal_anon + pswpout by thousands; wsim's, {wsim:pgscan_anon}, is about twice its pswpout): its aging walk skips page tables outside its Bloom filter, so pages reach the oldest generation still young, and scan_folios isolates a batch of up to 64 pages before deciding any; lru_gen_look_around from the first young one marks its young neighbours in the batch referenced, and shrink_folio_list keeps them without a counter ("folio_update_gen() tried to promote this page?"), to be isolated again later. wsim isolates one page at a time and walks every table by default, so it has neither (docs/overcommit-balance.md, measured on a plain sequential-write trace); wsim scans for the clean swap-cache pages it writes again (the pswpout row). Kswapd / direct on the saved runs with the other settings of \`wsim compare\`: \`--memcgs trace\` 37,851 / 0 (32.9k / 0 at the fastest boot's pace); \`--pace trace\` 32,513 / 8,256; both, as \`wsim replay\` runs the trace, 28,251 / 3,072` },
      { counters: ["pageoutrun"], why: "wsim runs balance_pgdat about twice as often: it spreads the guest's working time evenly over the events (`--pace guest`), so its allocations trickle in and wake kswapd for a short run whenever free memory falls below the low mark, where the guest spends its time unevenly (mostly in the faults that swap in, while its kswapd runs on) and makes fewer, longer runs; at the trace's clock (`--pace trace`) wsim makes 96; not broken down further" },
      { counters: ["workingset_refault_anon", "workingset_activate_anon"], why: "refaults follow the swap-ins; a refault counts only while its shadow's generation is still the oldest (lru_gen_refault's token), and more of wsim's swap-ins find it so; not broken down further" },
    ],
  },
];
