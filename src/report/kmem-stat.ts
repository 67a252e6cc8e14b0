/**
 * `wsim stat` of a kernel trace (ftrace, trace-cmd report or perf script text of the kmem page
 * events, issue 18 item 5): what `perf kmem stat --page` summarises (tools/perf/builtin-kmem.c
 * print_page_summary and its order × migratetype table), from the importer's counts
 * (src/convert/ktrace.ts, read with `detail`). Pure: (name, ImportStats) -> text or JSON.
 */
import Table from "cli-table3";
import type { ImportStats } from "../convert/importers.js";
import { describeSkipped } from "../convert/importers.js";
import { describeLost, describeUnread, type KmemStat } from "../convert/ktrace.js";
import { MT_NAMES } from "../trace/types.js";
import { plural } from "./words.js";

/** The numbers of the summary, as `wsim stat -f json` prints them. */
export interface KmemSummary {
  /** mm_page_alloc lines read (failures included, malformed ones not) */
  alloc_requests: number;
  alloc_served: number;
  alloc_failed: number;
  alloc_pages: number;
  /** mm_page_free lines */
  free_requests: number;
  /** frees written: paired with an allocation of the trace (mm_page_free_batched alone and implicit frees included) */
  frees_paired: number;
  free_pages: number;
  /** frees of pages allocated before the trace began (mm_page_free and mm_page_free_batched) */
  frees_unpaired: number;
  /** mm_page_free_batched of pages mm_page_free freed */
  batched_duplicates: number;
  /** allocations of a pfn still allocated (a free written first) */
  implicit_frees: number;
  /**
   * frees (mm_page_free, or mm_page_free_batched alone) of pages inside a block of the trace,
   * after split_page(): not in frees_paired; the block's own free (frees_paired) comes with its last page
   */
  split_frees: number;
  /** frees before their alloc in the file but stamped after it (CPUs out of order): paired, written after the alloc (in frees_paired) */
  out_of_order_frees: number;
  /** pages of a split block the replay freed while the kernel still held them: its first pfn was allocated again (the block's free written then) */
  split_pages_freed_early: number;
  /** pages of split blocks the kernel freed and the replay still holds at the end (in still_allocated_pages): the blocks' last pages were not freed */
  split_pages_held: number;
  /** as the replay of the converted trace holds them (a split block whole until its free is written) */
  still_allocated_blocks: number;
  still_allocated_pages: number;
  /** mm_page_alloc_extfrag lines */
  fallbacks: number;
  /** served allocations per order: {unmovable, movable, reclaimable} */
  by_order: Record<string, Record<string, number>>;
  /** allocation requests per gfp_flags text, most first */
  by_gfp: Record<string, number>;
  /** every event name -> lines */
  events: Record<string, number>;
  /** the last event's time (of any name), from the first alloc or free */
  last_ms: number;
  /** lines that are not kernel events, kmem events without their fields, events of a clock that does not count time */
  lines_not_read: { unrecognised: number; malformed: number; counter_clock: number; perf_samples: number };
  /** the first of them (up to three) as `FILE:LINE: why: "text"` */
  unread_examples: string[];
  /** events the ring buffer lost (the counts of its `CPU:N [LOST K EVENTS]` marks summed; marks without a count add none) */
  lost_events: number;
  /** the marks of lost events, and the first as FILE:LINE (null when none) */
  lost_marks: number;
  lost_first: string | null;
}

/** The summary's numbers from the importer's stats (`st.kmem` must be there). */
export function kmemSummary(st: ImportStats): KmemSummary {
  const k = st.kmem as KmemStat;
  const sk = st.skipped;
  const ev = st.events ?? {};
  const failed = sk["failed allocations (page=0 pfn=0x0)"] ?? 0;
  const served = k.blocks.reduce((s, r) => s + r.reduce((a, b) => a + b, 0), 0);
  const implicit = st.counted?.["allocations of a pfn still allocated (a free written first)"] ?? 0;
  const byOrder: KmemSummary["by_order"] = {};
  k.blocks.forEach((r, o) => {
    if (r.some((x) => x)) byOrder[o] = Object.fromEntries(MT_NAMES.map((m, i) => [m, r[i]!]));
  });
  return {
    alloc_requests: served + failed,
    alloc_served: served,
    alloc_failed: failed,
    alloc_pages: k.allocPages,
    free_requests: ev.mm_page_free ?? 0,
    frees_paired: st.rows!.free,
    free_pages: k.freePages,
    frees_unpaired: sk["frees of pages allocated before the trace began"] ?? 0,
    batched_duplicates: sk["mm_page_free_batched of pages mm_page_free freed (not counted twice)"] ?? 0,
    implicit_frees: implicit,
    split_frees: st.counted?.["frees of pages of a split block (the block freed with its last page)"] ?? 0,
    out_of_order_frees: st.counted?.["frees before their alloc in the file but after it in time (events out of order across CPUs: written after the alloc)"] ?? 0,
    split_pages_freed_early: st.counted?.["pages of a split block freed early because its first pfn was allocated again (the kernel still held them)"] ?? 0,
    split_pages_held: k.splitHeld,
    still_allocated_blocks: k.liveBlocks,
    still_allocated_pages: k.livePages,
    fallbacks: ev.mm_page_alloc_extfrag ?? 0,
    by_order: byOrder,
    by_gfp: Object.fromEntries(Object.entries(k.gfp).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))),
    events: ev,
    last_ms: k.lastMs,
    lines_not_read: {
      unrecognised: sk["unrecognised lines"] ?? 0,
      malformed: sk["malformed kmem events"] ?? 0,
      counter_clock: sk["events stamped by a clock that does not count time (no fraction)"] ?? 0,
      perf_samples: sk["perf mem samples (the file is read as kernel trace text, its first kind: convert the samples apart with --from perf-mem)"] ?? 0,
    },
    unread_examples: describeUnread(st, k.file),
    lost_events: st.lost?.events ?? 0,
    lost_marks: st.lost?.markers ?? 0,
    lost_first: st.lost ? `${st.lost.first.file}:${st.lost.first.no}` : null,
  };
}

const kib = (pages: number) => `${pages * 4} KiB`;

/** The text `wsim stat` prints for a kernel trace. */
export function renderKmemStat(name: string, st: ImportStats): string {
  const s = kmemSummary(st);
  const out: string[] = [];
  out.push(`${name}: kmem page events (ftrace, trace-cmd report or perf script text), 0..${s.last_ms} ms (from the first alloc or free to the last event)`);
  const lost = describeLost(st);
  if (lost) out.push(lost);
  out.push(...(st.notes ?? []));
  out.push(`allocations: ${plural(s.alloc_requests, "request")}, ${s.alloc_served} served (${plural(s.alloc_pages, "page")}, ${kib(s.alloc_pages)}), ${s.alloc_failed} failed`);
  out.push(
    `frees: ${plural(s.free_requests, "mm_page_free line")}; ${s.frees_paired} paired with an allocation of the trace (${plural(s.free_pages, "page")}` +
      (s.implicit_frees ? `, ${s.implicit_frees} of them implicit: an allocation of a pfn still allocated` : "") +
      `), ${s.frees_unpaired} unpaired (pages allocated before the trace began), ${plural(s.batched_duplicates, "mm_page_free_batched duplicate")}` +
      (s.split_frees ? `, ${plural(s.split_frees, "free")} of pages of a split block (split_page: the block is freed with its last page)` : "") +
      (s.out_of_order_frees ? `, ${plural(s.out_of_order_frees, "free")} before its alloc in the file but after it in time (CPUs out of order: paired)` : ""),
  );
  if (s.split_pages_freed_early)
    out.push(`split blocks freed early: ${plural(s.split_pages_freed_early, "page")} the kernel still held, freed by the replay because the block's first pfn was allocated again`);
  out.push(
    `still allocated at the end: ${plural(s.still_allocated_blocks, "block")}, ${plural(s.still_allocated_pages, "page")} (${kib(s.still_allocated_pages)})` +
      (s.split_pages_held ? `, ${plural(s.split_pages_held, "page")} of them freed by the kernel already (split blocks: the replay holds a block until its last page)` : ""),
  );
  out.push(`fallbacks (mm_page_alloc_extfrag): ${s.fallbacks}`);
  if (Object.keys(s.by_order).length) {
    const t = new Table({ head: ["order", ...MT_NAMES], style: { head: [], border: [], compact: true }, colAligns: ["right", "right", "right", "right"] });
    for (const [o, r] of Object.entries(s.by_order)) t.push([o, ...MT_NAMES.map((m) => (r[m] ? String(r[m]) : "."))]);
    out.push("allocations served by order and migratetype:", t.toString());
  }
  if (Object.keys(s.by_gfp).length) out.push(`allocation requests by gfp_flags: ${Object.entries(s.by_gfp).map(([g, n]) => `${g} ${n}`).join(", ")}`);
  const other = Object.entries(s.events).filter(([e]) => !["mm_page_alloc", "mm_page_free", "mm_page_free_batched"].includes(e));
  if (other.length) out.push(`other events: ${other.map(([e, n]) => `${e} ${n}`).join(", ")}`);
  const bad = describeSkipped(st).filter((x) => /unrecognised|malformed|clock that does not count|perf mem sample/.test(x));
  if (bad.length) out.push(`lines not read: ${bad.join(", ")}`, ...s.unread_examples.map((u) => "  " + u));
  return out.join("\n") + "\n";
}
