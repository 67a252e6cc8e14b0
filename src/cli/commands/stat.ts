/**
 * `wsim stat TRACE`: events per op, processes, duration, distinct pages, footprint, reuse; for
 * a kernel trace (ftrace text of the kmem page events), perf kmem stat --page's summary.
 */
import { Readable } from "node:stream";
import { checkRecognised, DEFAULT_IMPORT, newStats, sniffImport } from "../../convert/importers.js";
import { forEachLineBytes, openConvertInput } from "../../convert/input.js";
import { ftrace } from "../../convert/ktrace.js";
import { UsageError } from "../../errors.js";
import { observedBeside, renderObserved } from "../../report/kmem-observed.js";
import { kmemSummary, renderKmemStat } from "../../report/kmem-stat.js";
import { loadCounters } from "./diff.js";
import { openTrace } from "../../trace/open.js";
import { StatCollector, type TraceStat } from "../../trace/stat.js";
import type { TraceFormat } from "../../trace/types.js";
import { writeStdout } from "../output.js";
import { plural } from "../../report/words.js";
import { bytesSize, pagesSize } from "../../report/text.js";

export function renderStat(path: string, s: TraceStat): string {
  const out: string[] = [];
  out.push(`${path}: ${plural(s.events, "event")}, ${plural(s.processes, "process", "processes")}, ${s.first_ms ?? 0}..${s.last_ms ?? 0} ms`);
  out.push(`ops: ${Object.entries(s.ops).filter(([, n]) => n).map(([o, n]) => `${o} ${n}`).join(", ")}`);
  const k = s.kernel;
  if (k) {
    // alloc/free rows (a converted kernel trace): what stat of the kernel text says of them
    const kib = (pages: number) => `${pages * 4} KiB`;
    out.push(`kernel allocations: ${plural(k.allocs, "alloc")} (${plural(k.alloc_pages, "page")}, ${kib(k.alloc_pages)}), ${plural(k.frees, "free")} (${plural(k.free_pages, "page")})` + (k.frees_unknown ? `, ${plural(k.frees_unknown, "free")} of a handle not allocated` : ""));
    out.push(`still allocated at the end: ${plural(k.still_allocated_blocks, "block")}, ${plural(k.still_allocated_pages, "page")} (${kib(k.still_allocated_pages)})`);
    const orders = Object.entries(k.by_order);
    if (orders.length) out.push(`allocs by order: ${orders.map(([o, r]) => `${o}: ${Object.entries(r).filter(([, n]) => n).map(([m, n]) => `${m} ${n}`).join(" ")}`).join(", ")}`);
    // the access lines say nothing of a trace without accesses
    if (!s.reuse.accesses) return out.join("\n") + "\n";
  }
  const f = s.file_io;
  if (f) {
    out.push(
      `file I/O: ${plural(f.reads, "fread")} (${bytesSize(f.bytes_read)}), ${plural(f.writes, "fwrite")} (${bytesSize(f.bytes_written)}); ${plural(f.files, "file")}, ${f.distinct_pages} distinct file pages (${pagesSize(f.distinct_pages)})`,
    );
    if (!s.reuse.accesses) return out.join("\n") + "\n";
  }
  // counted per process: a forked child's access to a page it shares with its parent counts again
  const perPid = s.ops.fork ? ", per process: a forked child's count apart from its parent's" : "";
  out.push(`distinct pages: ${s.distinct_pages} (${((s.distinct_pages * 4096) / 2 ** 20).toFixed(1)} MiB${perPid})`);
  out.push(`footprint (distinct pages by time): ${s.footprint.map(([t, n]) => `${t}ms:${n}`).join(" ")}`);
  const r = s.reuse;
  out.push(`reuse: ${r.reaccesses} of ${plural(r.accesses, "access", "accesses")} (${(r.share * 100).toFixed(1)}%) touch a page seen before`);
  out.push(`time since the page's previous access: ${r.since_previous.map((b) => `${b.le_ms === null ? "longer" : `<${b.le_ms}ms`} ${b.count}`).join(", ")}`);
  return out.join("\n") + "\n";
}

/**
 * `wsim stat TRACE`: a wsim trace's summary; a kernel trace (the kmem page events as ftrace,
 * trace-cmd report or perf script text, sniffed as `wsim convert` sniffs it) gets perf kmem
 * stat --page's summary instead (src/report/kmem-stat.ts). DataError for unreadable input.
 */
export async function statCommand(
  path: string,
  o: { format?: string; inputFormat?: string; replay?: string; machine?: string; set?: string[]; plugin?: string[] },
  stdin?: Readable,
): Promise<void> {
  let source: Readable | undefined = stdin;
  if (o.replay === "-" && path === "-") throw new UsageError("--replay -: standard input is the kernel trace already");
  if (o.replay === undefined && (o.machine !== undefined || (o.set?.length ?? 0) > 0 || (o.plugin?.length ?? 0) > 0))
    throw new UsageError(
      `${o.machine !== undefined ? "--machine" : (o.set?.length ?? 0) > 0 ? "--set" : "--plugin"} is for --replay TRACE (${o.machine !== undefined || o.set?.length ? "the machine it is replayed on" : "a plugin it is replayed with"}); stat reads a trace without replaying it`,
    );
  if (!o.inputFormat) {
    const input = await openConvertInput(path, stdin);
    if (sniffImport(input.first) === "ftrace") {
      const st = newStats();
      const imp = ftrace(DEFAULT_IMPORT, st, () => {}, input.name, true);
      await forEachLineBytes(input.chunks, (buf, start, end, no) => imp.bytes!(buf, start, end, no), () => {});
      imp.end();
      checkRecognised("ftrace", st, input.name);
      const summary = kmemSummary(st);
      // --replay: the replay's counters beside the events the kernel trace observed
      // a trace given as the replay is replayed leniently: the free of an allocation its machine
      // refused is what a converted kernel trace holds when the machine is smaller (counted in
      // wsim_alloc_fail and wsim_lenient_skipped, not an error)
      const beside =
        o.replay === undefined
          ? null
          : observedBeside(
              summary,
              await loadCounters(o.replay, {
                machine: o.machine,
                set: o.set,
                plugin: o.plugin,
                lenient: true,
                refuseRaw: `--replay ${o.replay}: reads as a kernel's /proc/vmstat, whose counters count from boot, not from the trace's start; take two snapshots around the workload and use \`wsim diff --delta BEFORE AFTER REPLAY\`, or give --replay a replay's output or a trace`,
              }),
            );
      if (o.format === "json")
        await writeStdout(JSON.stringify({ trace: path, kind: "kmem", ...summary, ...(beside ? { replay: { path: o.replay, ...beside } } : {}) }, null, 2) + "\n");
      else await writeStdout(renderKmemStat(path, st) + (beside ? "\n" + renderObserved(beside, o.replay!) : ""));
      return;
    }
    // a FIFO (`<(...)`) is read once: what was read to sniff it goes on, as standard input's does
    if (path === "-" || !input.regular) source = Readable.from(input.chunks);
    else input.close();
  }
  if (o.replay !== undefined)
    throw new UsageError(`--replay sets a replay's counters beside a kernel trace's events (ftrace, trace-cmd report or perf script text); ${path} is a wsim trace`);
  const t = await openTrace(path, { format: o.inputFormat as TraceFormat | undefined, ...(path === "-" ? { stdin: source } : { source }) });
  const c = new StatCollector();
  for await (const b of t.batches()) c.add(b);
  const s = c.result();
  await writeStdout(o.format === "json" ? JSON.stringify({ trace: path, ...s }, null, 2) + "\n" : renderStat(path, s));
}
