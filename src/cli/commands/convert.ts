/**
 * `wsim convert IN OUT`: between wsim's trace formats (CSV, NDJSON, JSON by extension), and
 * from real trace formats (lackey, ucsd, lirs, damon, libcachesim, ftrace, perf-mem; sniffed, or --from).
 * Streams, as replay does: memory does not grow with the input (a JSON document or a DAMON
 * record is parsed whole, as replay parses a document). The importer's mapping and what it
 * skipped go to standard error, and so does what OUT cannot carry of a document's header (its
 * machine, in CSV and NDJSON); OUT is written whole or not at all.
 */
import { inflateSync } from "node:zlib";
import { Readable } from "node:stream";
import { DataError, UsageError } from "../../errors.js";
import { openConvertInput, forEachLine, forEachLineBytes, type ConvertInput } from "../../convert/input.js";
import {
  checkRecognised, damon, DEFAULT_IMPORT, describeCounted, describeSkipped, libcachesim, lackey, lirs, newStats, sniffImport, ucsd,
  type Emit, type ImportOptions, type ImportStats, type LineImporter,
} from "../../convert/importers.js";
import { describeLost, describeUnread, ftrace } from "../../convert/ktrace.js";
import { perfMem } from "../../convert/perf-samples.js";
import { EXTRA_COLUMNS, outputSink, TARGET_CARRIES, TraceWriter, type DocHeader } from "../../convert/writer.js";
import { parseMachine, PRESETS } from "../../machine/machine.js";
import { dirname, relative, resolve } from "node:path";
import type { Row } from "../../generate/generators.js";
import { formatFromName, openTrace } from "../../trace/open.js";
import { batchRows } from "../../trace/rows.js";
import { isWtrace, WtraceWriter } from "../../trace/wtrace.js";
import { plural } from "../../report/words.js";
import type { TraceFormat } from "../../trace/types.js";
import { isSpecial } from "../output.js";

export const IMPORT_FORMATS = ["lackey", "ucsd", "lirs", "damon", "libcachesim", "ftrace", "perf-mem"];

export interface ConvertOptions {
  from?: string;
  refsPerMs: string;
  instrPerMs: string;
  instructions?: boolean;
  pid: string;
  timeUnit: string;
  quiet?: boolean;
  /** options given on the command line (not defaults), for the combination checks */
  given?: string[];
  /** the output's format when its name does not say (or to override it): csv, ndjson, json, wtrace */
  to?: string;
}

/** convert's import options and the importers they mean something to (issue 12 item 7) */
const IMPORT_OPTION_USERS: Record<string, [string, string[]]> = {
  refsPerMs: ["--refs-per-ms", ["lackey", "lirs", "perf-mem"]],
  instrPerMs: ["--instr-per-ms", ["ucsd"]],
  instructions: ["--instructions", ["lackey"]],
  timeUnit: ["--time-unit", ["libcachesim"]],
  pid: ["--pid", ["lackey", "ucsd", "lirs", "damon", "libcachesim"]],
};

/** An option given for an input it means nothing to is a usage error. `kind`: the importer, or "a wsim trace". */
function checkImportOptions(given: readonly string[], kind: string): void {
  for (const k of given) {
    const use = IMPORT_OPTION_USERS[k];
    if (use && !use[1].includes(kind))
      throw new UsageError(`${use[0]} applies to ${use[1].join(", ")} input only; this input is ${kind}: drop ${use[0]}`);
  }
}

const LINE_IMPORTERS: Record<string, (o: ImportOptions, st: ImportStats, emit: Emit, file: string) => LineImporter> = { lackey, ucsd, lirs, libcachesim, ftrace, "perf-mem": perfMem };

function importOptions(o: ConvertOptions): ImportOptions {
  return {
    ...DEFAULT_IMPORT,
    refs_per_ms: positive("refs-per-ms", o.refsPerMs),
    instr_per_ms: positive("instr-per-ms", o.instrPerMs),
    instructions: o.instructions === true,
    pid: pid(o.pid),
    time_unit: unit(o.timeUnit),
  };
}

/** What convert read: an importer's stats, or a wsim trace's document header. */
interface Converted {
  stats: ImportStats | null;
  header: DocHeader;
  /** the machine, parsed (validated), when the document has one */
  machine: ReturnType<typeof parseMachine> | null;
}

/**
 * Streams the rows of IN, from an importer or a wsim trace, to `emit`, calling `pause` between
 * chunks (so the caller can write out). `stdin` stands in for standard input (tests). Throws
 * DataError for unreadable input, UsageError for a bad --from or flag.
 */
export async function streamRows(
  path: string,
  o: ConvertOptions,
  emit: Emit,
  pause: () => Promise<void> | void,
  onHeader: (h: DocHeader) => void = () => {},
  stdin?: Readable,
): Promise<Converted> {
  const opts = importOptions(o);
  const input = await openConvertInput(path, stdin);
  // a .wtrace is binary: no importer's sniffer looks at it
  const fmt = o.from ?? (isWtrace(input.first) ? undefined : sniffImport(input.first));
  if (fmt && !IMPORT_FORMATS.includes(fmt)) throw new UsageError(`--from: expected one of ${IMPORT_FORMATS.join(", ")}, got "${fmt}"`);
  checkImportOptions(o.given ?? [], fmt ?? "a wsim trace");
  if (!fmt) {
    try {
      return await traceRows(path, input, emit, pause, onHeader);
    } catch (e) {
      // no importer recognised it and it is no wsim trace either: say how to name its format
      if (e instanceof DataError && e.line <= 1 && e.what.startsWith("unknown column") && o.from === undefined && !wsimHeader(input.first))
        throw new DataError(e.file, e.line, `${e.what}; not a wsim trace, nor one of the formats convert recognises by their look: if it is one it imports, name it with --from ${IMPORT_FORMATS.join("|")} (docs/convert.md shows each)`);
      throw e;
    }
  }
  const st = newStats();
  if (fmt === "damon") {
    await damon(await damonDoc(input), opts, st, emit, input.name, pause);
    return { stats: st, header: {}, machine: null };
  }
  const imp = LINE_IMPORTERS[fmt]!(opts, st, emit, input.name);
  onHeader(st.header ? { comment: st.header } : {});
  if (imp.bytes) {
    const bytes = imp.bytes;
    await forEachLineBytes(input.chunks, (buf, start, end, no) => bytes(buf, start, end, no), pause);
  } else await forEachLine(input.chunks, (text, no) => imp.line(text, no), pause);
  imp.end();
  checkRecognised(fmt, st, input.name);
  return { stats: st, header: {}, machine: null };
}

/** Does the first line look like a wsim CSV header (a time_ms and an op column), so an unknown column there is a typo? */
function wsimHeader(first: Buffer): boolean {
  const nl = first.indexOf(10);
  const cols = first.toString("latin1", 0, nl < 0 ? first.length : nl).split(",").map((c) => c.trim());
  return cols.includes("time_ms") && cols.includes("op");
}

/** A wsim trace (CSV, NDJSON or a JSON document) through the project's readers. */
async function traceRows(path: string, input: ConvertInput, emit: Emit, pause: () => Promise<void> | void, onHeader: (h: DocHeader) => void): Promise<Converted> {
  let t;
  if (path === "-") t = await openTrace("-", { stdin: Readable.from(input.chunks) });
  // a FIFO (`<(...)`) is read once: what was read to sniff it goes on
  else if (!input.regular) t = await openTrace(path, { source: Readable.from(input.chunks) });
  else {
    input.close();
    t = await openTrace(path);
  }
  const h = t.header;
  const header: DocHeader = {};
  let machine = null;
  if (typeof h.machine === "string") header.machine = h.machine; // a name: rewritten for OUT's directory by convertCommand
  else if (h.machine !== undefined) {
    machine = parseMachine(h.machine, t.name, h.machineLine ?? (() => h.machineAt ?? 1));
    header.machine = h.machine;
  }
  if (h.tunables?.length) header.tunables = h.tunables.map((x) => ({ key: x.key, value: x.value }));
  // a wsim trace may have any column: a CSV made of it keeps them all (gfp ... off)
  header.columns = EXTRA_COLUMNS;
  onHeader(header);
  for await (const b of t.batches()) {
    for (const r of batchRows(b)) emit(r);
    await pause();
  }
  return { stats: null, header, machine };
}

async function damonDoc(input: ConvertInput): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const c of input.chunks) parts.push(c);
  const raw = Buffer.concat(parts);
  if (!raw.length) throw new DataError(input.name, 0, "damon: the input is empty (no damon record)");
  let text: string;
  try {
    text = (raw[0] === 0x78 ? inflateSync(raw) : raw).toString("utf8");
  } catch (e) {
    throw new DataError(input.name, 0, `damon: not zlib-compressed JSON: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DataError(input.name, 0, `damon: invalid JSON: ${(e as Error).message}`);
  }
}

/**
 * Rows of IN, from an importer or a wsim trace, with the importer's stats: the whole trace in
 * memory (for tests and small inputs; `wsim convert` streams with streamRows).
 */
export async function importRows(path: string, o: ConvertOptions): Promise<{ rows: Row[]; stats: ImportStats | null }> {
  const rows: Row[] = [];
  const { stats } = await streamRows(path, o, (r) => rows.push({ ...r }), () => {});
  return { rows, stats };
}

function positive(flag: string, v: string): number {
  const n = /^\s*[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1e-3 && n <= 1e12)) throw new UsageError(`--${flag}: expected a number >= 0.001 and <= 1000000000000, got ${JSON.stringify(v.slice(0, 40))}`);
  return n;
}

function pid(v: string): number {
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n <= 4294967295)) throw new UsageError(`--pid: expected an integer from 0 to 4294967295, got ${JSON.stringify(v.slice(0, 40))}`);
  return n;
}

function unit(v: string): ImportOptions["time_unit"] {
  if (!["s", "ms", "us", "ns"].includes(v)) throw new UsageError(`--time-unit: expected s, ms, us or ns, got "${v}"`);
  return v as ImportOptions["time_unit"];
}

/** "1 node, 32 MiB", "2 nodes, 12 GiB" */
function machineSize(m: ReturnType<typeof parseMachine>): string {
  const bytes = m.nodes.reduce((s, n) => s + n.mem, 0) * 4096;
  const size = bytes % 2 ** 30 === 0 ? `${bytes / 2 ** 30} GiB` : `${Math.round((bytes / 2 ** 20) * 10) / 10} MiB`;
  return `${plural(m.nodes.length, "node")}, ${size}`;
}

export async function convertCommand(input: string, output: string, o: ConvertOptions): Promise<void> {
  // a device, FIFO or socket without an extension (/dev/stdout, /dev/null, a named pipe) is
  // written as CSV, as `-` is; a file's name says its format
  if (o.to !== undefined && !["csv", "ndjson", "json", "wtrace"].includes(o.to)) throw new UsageError(`--to: expected csv, ndjson, json or wtrace, got "${o.to}"`);
  const outFormat: TraceFormat | undefined =
    (o.to as TraceFormat | undefined) ?? (output === "-" || isSpecial(output) ? (formatFromName(output) ?? "csv") : formatFromName(output));
  if (!outFormat) throw new UsageError(`${output}: name the output .csv, .ndjson, .jsonl, .json or .wtrace (or - for CSV on standard output), or give --to`);
  importOptions(o); // flags first: a usage error before any file is touched
  const outName = output === "-" ? "-" : output;
  let writer: TraceWriter | WtraceWriter | null = null;
  let sink: ReturnType<typeof outputSink> | null = null;
  // the writer starts when the header is known (a document's machine and tunables)
  const start = (h: DocHeader) => {
    if (writer) return;
    // a machine file named relative to IN is named relative to OUT (a preset stays a name)
    if (typeof h.machine === "string" && !(h.machine in PRESETS))
      h = { ...h, machine: relative(dirname(resolve(output === "-" ? "." : output)), resolve(dirname(input === "-" ? "." : input), h.machine)) };
    sink = outputSink(output);
    writer = outFormat === "wtrace" ? new WtraceWriter(sink, outName, h) : new TraceWriter(outFormat, sink, outName, h);
  };
  let res: Converted;
  try {
    res = await streamRows(
      input,
      o,
      (r) => {
        if (!writer) start({});
        writer!.row(r);
      },
      () => writer?.drain(),
      start,
    );
    if (!writer) start(res.header);
    const observed = observedSection(res.stats);
    if (observed) writer!.comment(observed);
    if (res.stats?.sampled) writer!.comment(res.stats.sampled);
    await writer!.end();
  } catch (e) {
    (sink as ReturnType<typeof outputSink> | null)?.abort();
    throw e;
  }
  const w = writer!;
  const notes: string[] = [];
  const name = input === "-" ? "-" : input;
  if (res.machine && TARGET_CARRIES[outFormat].machine !== "object") {
    const json = JSON.stringify(res.header.machine);
    notes.push(
      `${outName} cannot carry the machine "${res.machine.name}" of ${name} (${machineSize(res.machine)}): save it as FILE and name it in the trace (\`# wsim: machine=FILE\`) or replay with --machine FILE, FILE holding ` +
        (json.length <= 400 ? json : `the document's "machine" object`),
    );
  }
  // --quiet silences the notes (mapping, skip summary, tunables as set events), never the
  // warning above: the machine is data OUT loses
  if (res.header.tunables?.length && w.setsAtMs !== null && !o.quiet)
    notes.push(`tunables written as set events at ${w.setsAtMs} ms: ${res.header.tunables.map((t) => `${t.key}=${t.value}`).join(", ")}`);
  if (notes.length) process.stderr.write(notes.join("\n") + "\n");
  const stats = res.stats;
  if (stats && !o.quiet) process.stderr.write(importSummary(stats, name));
}

/**
 * What convert says of an import on standard error: the mapping; the rows written and what was
 * skipped; for a kernel trace, what was counted beside the rows, the events not replayed per
 * name, and the first lines it could not read as `FILE:LINE: ...`. One string, lines ended.
 */
export function importSummary(stats: ImportStats, file: string): string {
  const skipped = describeSkipped(stats);
  const rows = stats.rows;
  const written = rows
    ? `${plural(rows.alloc, "alloc")} and ${plural(rows.free, "free")}`
    : plural(stats.kept, "access", "accesses") + (stats.mapped ? ` (and ${plural(stats.mapped, "mmap")} of 2 MiB)` : "");
  let out = `${stats.mapping}\n${written} written${skipped.length ? "; skipped: " + skipped.join(", ") : ""}\n`;
  if (stats.sampled) out += stats.sampled + "\n";
  const counted = describeCounted(stats);
  if (counted.length) out += `counted: ${counted.join(", ")}\n`;
  if (stats.events) {
    const other = Object.entries(stats.events).filter(([e]) => !REPLAYED_EVENTS.includes(e));
    if (other.length) out += `observed, not replayed: ${other.map(([e, k]) => `${k} ${e}`).join(", ")}\n`;
  }
  for (const n of stats.notes ?? []) out += n + "\n";
  const lost = describeLost(stats);
  if (lost) out += lost + "\n";
  const unread = describeUnread(stats, file);
  if (unread.length) out += `first lines not read:\n${unread.map((u) => "  " + u).join("\n")}\n`;
  return out;
}

/**
 * A kernel trace's events that are not rows, as the `# observed` section convert ends a CSV
 * with (one `EVENT COUNT` a line, under a heading), so the trace keeps what the kernel did
 * beside what it replays; null when there are none (or the input was not a kernel trace).
 */
export function observedSection(stats: ImportStats | null): string | null {
  const other = Object.entries(stats?.events ?? {}).filter(([e]) => !REPLAYED_EVENTS.includes(e));
  if (!other.length) return null;
  return ["observed: kernel events of the input, counted, not replayed", ...other.map(([e, k]) => `observed ${e} ${k}`)].join("\n");
}

/** the kernel events a kernel trace's rows come from */
const REPLAYED_EVENTS = ["mm_page_alloc", "mm_page_free", "mm_page_free_batched"];
