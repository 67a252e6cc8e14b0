/**
 * The cases of the README's comparison of issue 15's generators with a real kernel
 * (scripts/compare-generators.mjs): each a `wsim generate` command (small sizes: a minute or two
 * of QEMU TCG each), the `wsim compare` arguments, and the rows to show, as in
 * scripts/compare-cases.mjs: counters (several in one row are printed "a / b") and why wsim's
 * value differs from the kernel's when it is outside the kernel's range over the boots.
 * `{wsim:NAME}` and `{kernel:NAME}` in a text are filled in from the run; `inRange` is an
 * optional note for a row inside the range.
 *
 * An explanation must stay true whatever the boots give: write what differs between the model
 * and the kernel, not the numbers of one run (use the placeholders for those).
 */

const HELPER = "the guest helper's own faults and pages (its stack, libc's data)";
const DRIFT =
  "/proc/vmstat does not fold the per-cpu deltas of the nr_* counters, each kept under the stat threshold (a few pages on a guest this small: calculate_normal_threshold), at either snapshot; event counters such as pgfault are summed over the CPUs when read, exact";
const GUEST_CLOCK =
  "under TCG the guest's clock runs on while it works (its emulated disk reads stretch the trace's 0.26 s to seconds), and its kswapd and flusher run on that clock; wsim runs each event as late as the guest's mean time per event makes it (`wsim compare --pace guest`, the default), but the guest spends that time unevenly (mostly in the reads that miss)";

export const GEN_CASES = [
  {
    name: "fork-snapshot",
    label: "`fork-snapshot` (Redis BGSAVE: 8 MiB THP heap, fork, 256 parent writes while the child reads)",
    generate: ["fork-snapshot", "--heap-mb", "8", "--writes", "256", "--seed", "1"],
    args: ["--mem", "256M"],
    rows: [
      { counters: ["thp_fault_alloc", "thp_split_pmd", "thp_deferred_split_page"], why: "the parent's first write to each shared huge page splits its PMD and queues the folio for deferred split on both sides" },
      {
        counters: ["pgfault", "pgreuse"],
        why: "wsim's {wsim:pgfault}: a huge page fault per 2 MiB and a copy-on-write fault per distinct page the parent wrote after the fork; the kernel's more, and its pgreuse, are the guest helper's own stack and data pages, copied on write after its fork and reused (do_wp_page's wp_page_reuse) after the child's exit (its file buffers are MADV_DONTFORK)",
      },
      { counters: ["nr_page_table_pages"], why: "the forked helper's own page tables (its stack, text and data) come and go with the child" },
      {
        counters: ["pgfree"],
        why: "in 6.1 the huge pages stay whole after the split of the parent's PMD: they wait on the deferred split queue, still holding the subpages the parent copied away, and the child's exit frees none of them (only the shrinker's split would, under memory pressure); wsim splits the folio at once, so the child's exit frees the originals (README, Traces, \"fork: what wsim simplifies\")",
      },
      { counters: ["nr_active_anon"], why: "the copied-away subpages of the huge pages stay on the LRU in the kernel (above) while wsim's are freed; the helper's own pages (above)" },
    ],
  },
  {
    name: "malloc-trim",
    label: "`malloc-trim` (32 MiB heap, 256 KiB chunks, 600 malloc/free with MADV_FREE / DONTNEED)",
    generate: ["malloc-trim", "--heap-mb", "32", "--chunk-kb", "256", "--ops", "600", "--seed", "1"],
    args: ["--mem", "256M"],
    rows: [
      { counters: ["pgfault", "nr_anon_pages"], why: `pgfault: ${HELPER}; nr_anon_pages: ${DRIFT}` },
      { counters: ["thp_fault_alloc", "thp_split_pmd"], why: "the heap's huge page faults, and the PMD splits of the advice on part of a huge page, on both sides" },
      {
        counters: ["pglazyfree", "thp_split_page"],
        why: "MADV_FREE of a chunk inside a huge page splits the folio first (madvise_free_pte_range's split_folio); in the kernel that split can fail (another reference, such as a per-CPU LRU batch, holds the folio), which ends the advice there and leaves the rest of the range not lazyfreed; wsim's split never fails",
      },
      {
        counters: ["thp_deferred_split_page", "pgfree"],
        why: "a DONTNEED of part of a huge page splits only the PMD in 6.1 and queues the folio for deferred split, so its zapped subpages stay allocated until the shrinker splits it; wsim splits and frees at once (SPEC §4.3's simplification), so it frees more and counts no deferred split",
      },
      { counters: ["nr_active_anon", "nr_inactive_file"], why: "lazyfree pages move to the file LRU on both sides (inactive); the anon pages' generations differ by the helper's pages and the huge pages the kernel keeps whole (above)" },
    ],
  },
  {
    name: "filecache",
    label: "`filecache` (160 MiB streamed past an 8 MiB hot file, 16 KiB log appends; `--mem 128M`)",
    generate: ["filecache", "--file-mb", "160", "--hot-mb", "8", "--append-kb", "16", "--hot-every", "32"],
    args: ["--mem", "128M"],
    rows: [
      {
        counters: ["workingset_refault_file", "pgpgin"],
        why: "the guest's kernel (Debian's 6.1.0-57 is stable 6.1.192; its changelog lists the fix under 6.1.69) has \"mm/mglru: fix underprotected page cache\": sort_folio keeps a folio whose refs reached BIT(LRU_REFS_WIDTH) (read four times through a file descriptor) in the next generation instead of evicting it, so the hot file stays cached while the stream passes; wsim follows 6.1.15, whose tier protection needs refaults in the higher tiers (get_tier_idx) and which wsim leaves out (src/mm/pagecache.ts), so the stream pushes the hot file out and it is read again: wsim's {wsim:workingset_refault_file} refaults, 4 KiB each, are the difference in pgpgin (KiB) but for the kernel's few reads of ext4's metadata blocks",
      },
      { counters: ["workingset_activate_file", "nr_active_file"], why: "the protected hot file's pages (the row above): sort_folio counts each protection as workingset_activate_file and they reach the young generations, shown active; wsim protects none" },
      {
        counters: ["nr_dirtied", "nr_written", "nr_dirty"],
        why: "both dirty every appended page (the kernel a few more: ext4's bitmaps and inode on the block device's cache) and write back in the background above vm.dirty_background_ratio; the kernel's flusher writes an inode in chunks of at least MIN_WRITEBACK_PAGES (1024 pages, writeback_chunk_size) before it looks at the threshold again, so it ends further below it, while wsim writes back only the excess; not broken down further",
      },
      { counters: ["pgsteal_kswapd", "pgsteal_direct", "allocstall_normal"], why: `${GUEST_CLOCK}: the guest's kswapd keeps up with the reader; wsim's (its reclaim costs cost.* of virtual time) still falls behind it at times and the reader reclaims directly, {wsim:pgsteal_direct} pages (6,168 at the trace's own times, \`--pace trace\`, on the runs recorded on 2026-12-01)` },
      {
        counters: ["pgrotated"],
        why: "on both sides reclaim passes a dirty page it meets on with PG_reclaim, and the page is rotated to the oldest generation when its writeback ends; the kernel's flusher has written more of the log before reclaim reaches it (the row above), so its reclaim meets fewer dirty pages (not traced page by page)",
      },
    ],
  },
];
