/** A kernel trace's events beside a replay's counters (wsim stat KMEM --replay RUN). */
import { describe, expect, it } from "vitest";
import { observedBeside, renderObserved } from "../../../src/report/kmem-observed.js";

describe("observedBeside", () => {
  const trace = { alloc_pages: 524, alloc_failed: 0, free_pages: 10, events: { mm_page_alloc: 7, mm_page_free: 3, mm_page_alloc_extfrag: 1, mm_vmscan_direct_reclaim_begin: 1, mm_compaction_end: 2 } };
  const run = { pgalloc_dma: 0, pgalloc_dma32: 4, pgalloc_normal: 520, pgfree: 10, wsim_extfrag_fallbacks: 2, allocstall_normal: 0, allocstall_movable: 0, compact_daemon_wake: 3, pageoutrun: 0 };

  it("pairs each event with the counters that count it, summing a family", () => {
    const r = observedBeside(trace, run);
    expect(r.rows).toEqual([
      { event: "mm_page_alloc (pages served)", kernel: 524, counter: "pgalloc_*", replay: 524 },
      { event: "mm_page_free (pages, paired)", kernel: 10, counter: "pgfree", replay: 10 },
      { event: "mm_page_alloc_extfrag", kernel: 1, counter: "wsim_extfrag_fallbacks", replay: 2 },
      // not in the trace, but the replay's kcompactd ran: shown, the kernel's side unknown
      { event: "mm_compaction_kcompactd_wake", kernel: null, counter: "compact_daemon_wake", replay: 3 },
      { event: "mm_vmscan_direct_reclaim_begin", kernel: 1, counter: "allocstall_*", replay: 0 },
    ]);
    // pageoutrun 0 and no mm_vmscan_kswapd_wake line: no row; compaction_end has no counter
    expect(r.kernel_only).toEqual({ mm_compaction_end: 2 });
  });

  it("failures: a row when either side failed; no mm_page_free line: the kernel's frees unknown", () => {
    const r = observedBeside({ ...trace, alloc_failed: 2, events: { mm_page_alloc: 9 } }, { ...run, wsim_alloc_fail: 0 });
    expect(r.rows.slice(0, 3)).toEqual([
      { event: "mm_page_alloc (pages served)", kernel: 524, counter: "pgalloc_*", replay: 524 },
      { event: "mm_page_free (pages, paired)", kernel: null, counter: "pgfree", replay: 10 },
      { event: "mm_page_alloc (failed: page=0)", kernel: 2, counter: "wsim_alloc_fail", replay: 0 },
    ]);
    // neither failed: no failure row
    expect(observedBeside(trace, { ...run, wsim_alloc_fail: 0 }).rows.map((x) => x.counter)).not.toContain("wsim_alloc_fail");
  });

  it("a counter the replay's output lacks is null, not 0", () => {
    const r = observedBeside(trace, { pgfree: 10 });
    expect(r.rows[0]).toEqual({ event: "mm_page_alloc (pages served)", kernel: 524, counter: "pgalloc_*", replay: null });
    expect(r.rows.find((x) => x.counter === "wsim_extfrag_fallbacks")!.replay).toBeNull();
  });

  it("renders a table with the difference replay - kernel, and says what - means", () => {
    const text = renderObserved(observedBeside(trace, run), "run.json");
    expect(text.split("\n")).toEqual([
      "event (kernel trace)            kernel  counter (run.json)      replay  difference",
      "mm_page_alloc (pages served)       524  pgalloc_*                  524           0",
      "mm_page_free (pages, paired)        10  pgfree                      10           0",
      "mm_page_alloc_extfrag                1  wsim_extfrag_fallbacks       2          +1",
      "mm_compaction_kcompactd_wake         -  compact_daemon_wake          3           -",
      "mm_vmscan_direct_reclaim_begin       1  allocstall_*                 0          -1",
      "kernel -: the trace has no line of the event (not recorded, or it did not happen)",
      "the kernel's only (no counter counts them one for one): mm_compaction_end 2",
      "",
    ]);
  });
});
