/**
 * What a kernel trace observed beside what a replay counted (`wsim stat KMEM --replay RUN`,
 * issue 18 item 1): each tracepoint that has a /proc/vmstat counter (or a wsim_ one) counting
 * the same thing, with the two numbers side by side. Pure: (KmemSummary, counters) -> rows.
 *
 * Pairs (6.1; where the event fires and where the counter is counted):
 *   mm_page_alloc, pages served  pgalloc_* (rmqueue: __count_zid_vm_events(PGALLOC, .., 1 << order))
 *   mm_page_free, pages          pgfree (free_unref_page_commit / __free_pages_ok: 1 << order)
 *   mm_page_alloc, failed        wsim_alloc_fail (not the same allocations: the kernel's failures
 *                                are not converted, the replay's are those its machine refused)
 *   mm_page_alloc_extfrag        wsim_extfrag_fallbacks (__rmqueue_fallback: one event per fallback)
 *   mm_compaction_kcompactd_wake compact_daemon_wake (kcompactd_do_work: both once per run)
 *   mm_vmscan_direct_reclaim_begin  allocstall_* (do_try_to_free_pages counts ALLOCSTALL once
 *                                per try_to_free_pages, which emits the event)
 *   mm_vmscan_kswapd_wake        pageoutrun (kswapd emits it before each balance_pgdat, which
 *                                counts PAGEOUTRUN once)
 * Other events (mm_compaction_begin/end per zone, mm_vmscan_wakeup_kswapd, ...) have no counter
 * that counts them one for one: they are listed as the kernel's only.
 */

/** one event beside its counter */
export interface ObservedRow {
  /** the tracepoint, and what of it is counted ("mm_page_alloc (pages served)") */
  event: string;
  /**
   * in the kernel trace; null when the trace has no line of the event (not recorded, or it did
   * not happen: a trace cannot tell which) — the page allocator's two are always counted
   */
  kernel: number | null;
  /** the replay's counter (a glob sum is named as `allocstall_*`) */
  counter: string;
  /** in the replay; null when the replay's output does not have the counter */
  replay: number | null;
}

/** tracepoint -> the replay counters that count it (summed) */
const PAIRS: readonly { event: string; counter: string; kernel: (s: KmemCounts) => number | undefined; sum: (n: string) => boolean }[] = [
  { event: "mm_page_alloc (pages served)", counter: "pgalloc_*", kernel: (s) => (s.events.mm_page_alloc ? s.alloc_pages : undefined), sum: (n) => n.startsWith("pgalloc_") },
  {
    event: "mm_page_free (pages, paired)",
    counter: "pgfree",
    kernel: (s) => (s.events.mm_page_free || s.events.mm_page_free_batched ? s.free_pages : undefined),
    sum: (n) => n === "pgfree",
  },
  // the kernel's failures (page=0) are not written; the replay's are its own (wsim_alloc_fail)
  { event: "mm_page_alloc (failed: page=0)", counter: "wsim_alloc_fail", kernel: (s) => (s.events.mm_page_alloc ? s.alloc_failed : undefined), sum: (n) => n === "wsim_alloc_fail" },
  { event: "mm_page_alloc_extfrag", counter: "wsim_extfrag_fallbacks", kernel: (s) => s.events.mm_page_alloc_extfrag, sum: (n) => n === "wsim_extfrag_fallbacks" },
  { event: "mm_compaction_kcompactd_wake", counter: "compact_daemon_wake", kernel: (s) => s.events.mm_compaction_kcompactd_wake, sum: (n) => n === "compact_daemon_wake" },
  { event: "mm_vmscan_direct_reclaim_begin", counter: "allocstall_*", kernel: (s) => s.events.mm_vmscan_direct_reclaim_begin, sum: (n) => n.startsWith("allocstall_") },
  { event: "mm_vmscan_kswapd_wake", counter: "pageoutrun", kernel: (s) => s.events.mm_vmscan_kswapd_wake, sum: (n) => n === "pageoutrun" },
];

/** the kmem page events, counted by the trace's own lines */
const PAGE_EVENTS = new Set(["mm_page_alloc", "mm_page_free", "mm_page_free_batched", "mm_page_alloc_extfrag", "mm_compaction_kcompactd_wake", "mm_vmscan_direct_reclaim_begin", "mm_vmscan_kswapd_wake"]);

/** what of a kernel trace's summary the pairs need */
export interface KmemCounts {
  alloc_pages: number;
  /** mm_page_alloc lines of failures (page=0 pfn=0x0) */
  alloc_failed: number;
  /**
   * pages freed by the frees paired with an allocation of the trace: the others freed pages
   * allocated before it began, which a replay of the converted trace never holds
   */
  free_pages: number;
  /** lines per event name */
  events: Record<string, number>;
}

/**
 * The rows: the page allocator's pages allocated and freed always (they are what the replay
 * replays), the others when the trace has the event or the replay's counter moved (a failure
 * row when either side failed). `counters` are the replay's (a run's
 * JSON or vmstat output); a counter it does not have gives `replay: null`.
 */
export function observedBeside(s: KmemCounts, counters: Record<string, number>): { rows: ObservedRow[]; kernel_only: Record<string, number> } {
  const rows: ObservedRow[] = [];
  PAIRS.forEach((p, i) => {
    const names = Object.keys(counters).filter(p.sum);
    const replay = names.length ? names.reduce((a, n) => a + counters[n]!, 0) : null;
    const kernel = p.kernel(s) ?? null;
    const shown = i < 2 || (i === 2 ? (kernel ?? 0) !== 0 || (replay ?? 0) !== 0 : kernel !== null || (replay ?? 0) !== 0);
    if (shown) rows.push({ event: p.event, kernel, counter: p.counter, replay });
  });
  const kernelOnly = Object.fromEntries(Object.entries(s.events).filter(([e]) => !PAGE_EVENTS.has(e)));
  return { rows, kernel_only: kernelOnly };
}

/** The rows as a text table: event, kernel, counter, replay, replay - kernel. */
export function renderObserved(r: ReturnType<typeof observedBeside>, replayName: string): string {
  const head = ["event (kernel trace)", "kernel", `counter (${replayName})`, "replay", "difference"];
  const body = r.rows.map((x) => [
    x.event,
    x.kernel === null ? "-" : String(x.kernel),
    x.counter,
    x.replay === null ? "-" : String(x.replay),
    x.replay === null || x.kernel === null ? "-" : signed(x.replay - x.kernel),
  ]);
  const w = head.map((h, c) => Math.max(h.length, ...body.map((b) => b[c]!.length)));
  const line = (cells: string[]) => cells.map((v, c) => (c === 1 || c >= 3 ? v.padStart(w[c]!) : v.padEnd(w[c]!))).join("  ").trimEnd();
  const out = [line(head), ...body.map(line)];
  if (r.rows.some((x) => x.kernel === null)) out.push("kernel -: the trace has no line of the event (not recorded, or it did not happen)");
  const only = Object.entries(r.kernel_only);
  if (only.length) out.push(`the kernel's only (no counter counts them one for one): ${only.map(([e, n]) => `${e} ${n}`).join(", ")}`);
  return out.join("\n") + "\n";
}

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));
