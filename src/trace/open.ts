/**
 * Opening a trace: a path or `-` (standard input), gzip detected by its magic bytes and
 * inflated on the fly, the format taken from `format`, else the extension (`.csv`,
 * `.ndjson`/`.jsonl`, `.json`, each optionally `.gz`), else sniffed from the first bytes.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { DataError, describeErrno, quoteInput, UsageError } from "../errors.js";
import { CHUNK, countedChunks, directChunks, headerLineBytes, untilLineAt } from "./chunks.js";
import { timeBackMessage } from "./fields.js";
import { readCsv, type CsvOptions } from "./csv.js";
import { isMachineHeader, readJsonDocument, readNdjson } from "./json.js";
import { foreignTraceMessage } from "./sniff.js";
import { isWtrace, openWtrace } from "./wtrace.js";
import { startWorker, useWorker, type WorkerReader } from "./worker-reader.js";
import type { EventBatch, TraceFormat, TraceHeader } from "./types.js";

export interface OpenedTrace {
  /** the name errors use: the path, or `-` */
  name: string;
  /** bytes of the file read so far (compressed bytes for gzip), and its size (null: stdin) */
  progress: () => { bytes: number; total: number | null };
  format: TraceFormat;
  header: TraceHeader;
  batches: () => AsyncGenerator<EventBatch>;
  /**
   * closes what was opened when the batches will never be read (a run that fails before its
   * first event: a plug-in that does not load); a no-op once they are
   */
  close?: () => void;
}

export interface OpenOptions extends CsvOptions {
  format?: TraceFormat;
  /**
   * read a CSV/NDJSON file in a worker thread (worker-reader.ts): true forces it, false
   * forbids it, undefined (default) forbids it too; replay() passes its own choice. The
   * worker starts when the trace is opened (it parses while the caller sets up); call
   * `close()` when the batches will not be read
   */
  worker?: boolean | "auto";
  /** standard input, for `-` (tests pass their own) */
  stdin?: Readable;
  /**
   * the bytes of `path`, opened already by the caller (a FIFO such as `<(cat t.csv)` can be
   * read once: stat and convert sniff it, then hand on what they read): read instead of
   * opening `path`, inline; errors name `path`
   */
  source?: Readable;
}

export function formatFromName(path: string): TraceFormat | undefined {
  const p = path.toLowerCase().replace(/\.gz$/, "");
  if (p.endsWith(".csv")) return "csv";
  if (p.endsWith(".ndjson") || p.endsWith(".jsonl")) return "ndjson";
  if (p.endsWith(".json")) return "json";
  if (p.endsWith(".wtrace")) return "wtrace";
  return undefined;
}

/** csv, ndjson or json from the first bytes. */
export function sniffFormat(first: Buffer): TraceFormat {
  const text = first.toString("utf8", 0, Math.min(first.length, 65536)).replace(/^\uFEFF/, "");
  const t = text.trimStart();
  if (!t.startsWith("{")) return "csv";
  const firstLine = t.split("\n", 1)[0]!.trim();
  try {
    const o = JSON.parse(firstLine) as Record<string, unknown>;
    if (o && typeof o === "object" && !("events" in o)) return "ndjson";
  } catch {
    /* a multi-line document */
  }
  return "json";
}

export async function openTrace(path: string, opts: OpenOptions = {}): Promise<OpenedTrace> {
  const isStdin = path === "-";
  const name = isStdin ? "-" : path;
  let src: Readable;
  let total: number | null = null;
  let regular = false;
  const given = !isStdin && opts.source !== undefined;
  if (isStdin) src = opts.stdin ?? process.stdin;
  else if (given) src = opts.source!;
  else {
    try {
      const st = await stat(path);
      if (st.isDirectory()) throw new DataError(name, 0, "is a directory, not a trace");
      total = st.size;
      regular = st.isFile();
    } catch (e) {
      if (e instanceof DataError) throw e;
      throw new DataError(name, 0, `cannot read: ${describeErrno(e)}`);
    }
    if (regular && opts.format !== "json" && formatFromName(path) !== "json") {
      const direct = await directChunks(path, name);
      if (direct) {
        const { first, rest } = direct;
        let workerBytes = -1;
        const progress = () => ({ bytes: workerBytes >= 0 ? workerBytes : direct.bytes(), total });
        const worker = { size: total, direct: true, close: direct.close, onBytes: (b: number) => (workerBytes = b) };
        try {
          return await opened(path, name, isStdin, opts, first, rest, progress, worker);
        } catch (e) {
          direct.close(); // a trace refused by its first bytes: its batches never run to close the file
          throw e;
        }
      }
    }
    src = createReadStream(path, { highWaterMark: CHUNK });
  }
  let workerBytes = -1;
  const { first, rest, bytes } = await countedChunks(src, name);
  const progress = () => ({ bytes: workerBytes >= 0 ? workerBytes : bytes(), total });
  const worker = isStdin || given ? null : { size: total, direct: false, close: () => void src.destroy(), onBytes: (b: number) => (workerBytes = b) };
  try {
    return await opened(path, name, isStdin, opts, first, rest, progress, worker);
  } catch (e) {
    if (!isStdin) src.destroy();
    throw e;
  }
}

/**
 * Of a CSV file read in the parse worker, the main thread parses the first lines itself
 * while the worker starts (a Worker's isolate and its modules: ~0.1 s before its first batch
 * on a 2-core VM, in which the engine would wait): until the worker says it is ready (in
 * shared memory, looked at every 128 KiB), then to the end of the line there; the worker
 * counts the lines of that part (~2.5 ms per MiB) and parses from the next line. A split
 * point fixed in bytes (WSIM_WORKER_HEAD=BYTES, for tests; 0: the worker parses it all) fit
 * no load: the engine's first events cost the most (JIT warm-up, first faults) and the
 * worker's start took 0.1-0.4 s with the VM's load.
 */
function headSplit(first: Buffer): { header: number; at?: number } | null {
  const env = process.env.WSIM_WORKER_HEAD;
  if (env !== undefined && !/^\d+$/.test(env)) throw new UsageError(`WSIM_WORKER_HEAD must be a number of bytes, got ${quoteInput(env)}`);
  const header = headerLineBytes(first);
  // the worker parses the header too: it must be the first line, before the split point
  if (header < 0) return null;
  if (env === undefined) return { header };
  const at = Number(env);
  return at > header ? { header, at } : null;
}

/**
 * The batches of a CSV file split between the main thread and the worker (headSplit): the
 * main thread's part read from `rest` here, up to `split.at` (set, when headSplit did not,
 * by `split.poll` once the worker is ready), then the worker's. The worker's part
 * starts without the time of the event before it: its first event's check (RowBuilder's
 * time_ms going back) is made here, after every line before it, so the run stops where and
 * as the inline reader stops it. Ends the worker however it ends.
 */
async function* splitBatches(
  rest: AsyncIterable<Buffer>, split: { at: number; given: number; poll?: () => void }, name: string, opts: OpenOptions, w: WorkerReader,
): AsyncGenerator<EventBatch> {
  try {
    let lastTime = 0;
    let lastLine = 0;
    for await (const b of readCsv(untilLineAt(rest, split), name, opts)) {
      if (b.n) {
        lastTime = b.time[b.n - 1]!;
        lastLine = b.line[b.n - 1]!;
      }
      yield b;
    }
    // read to the end before the worker was ready: it has nothing to add
    if (split.at === Infinity) return;
    let first = true;
    for await (const b of w.batches()) {
      if (first && b.n) {
        first = false;
        if (b.time[0]! < lastTime) throw new DataError(name, b.line[0]!, timeBackMessage(lastTime, lastLine, b.time[0]!));
      }
      yield b;
    }
  } finally {
    w.stop();
  }
}

/** The trace once its first bytes are known: .wtrace, a JSON document, or CSV/NDJSON. */
async function opened(
  path: string, name: string, isStdin: boolean, opts: OpenOptions, first: Buffer, rest: AsyncIterable<Buffer>,
  progress: OpenedTrace["progress"],
  /**
   * a file that may be read in a worker instead: its size, whether it was read directly
   * (chunks.ts fileChunks), how to close what was opened here, where the worker's bytes go
   */
  worker: { size: number | null; direct: boolean; close: () => void; onBytes: (b: number) => void } | null = null,
): Promise<OpenedTrace> {
  // .wtrace: known by its magic, whatever the name; a name or --input-format that says
  // wtrace without the magic is a broken (or cut) file, said by openWtrace
  if (isWtrace(first) || (opts.format ?? (isStdin ? undefined : formatFromName(path))) === "wtrace") {
    const w = await openWtrace(rest, name);
    return { name, format: "wtrace", header: w.header, batches: w.batches, progress };
  }
  const foreign = foreignTraceMessage(first, name);
  if (foreign) throw new DataError(name, 1, foreign);
  const format = opts.format ?? (isStdin ? undefined : formatFromName(path)) ?? sniffFormat(first);
  if (format === "json") {
    const doc = await readJsonDocument(rest, name);
    return { name, format, header: doc.header, batches: doc.batches, progress };
  }
  const header: TraceHeader = {};
  const named = traceMachine(first, format, name);
  if (named) {
    header.machine = named.machine;
    header.machineAt = named.line;
  }
  let used = false;
  // the worker starts now: it parses while the caller builds its engine
  let inWorker: WorkerReader | null = null;
  /** the main thread's part of a CSV file read in the worker (headSplit): its split point (Infinity: not yet) and the bytes read */
  let split: { at: number; given: number; poll?: () => void } | null = null;
  if (worker && opts.worker !== undefined && useWorker(opts.worker === "auto" ? undefined : opts.worker, worker.size)) {
    const head = worker.direct && format === "csv" && opts.engine !== "csv-parse" ? headSplit(first) : null;
    if (!head) worker.close();
    else {
      // the main thread's part is read from here: the file stays open for it
      const w = startWorker(path, format, opts.engine, worker.onBytes, worker.direct, head);
      const sp = (split = { at: head.at ?? Infinity, given: 0, poll: undefined as (() => void) | undefined });
      if (head.at === undefined)
        sp.poll = () => {
          if (sp.at !== Infinity || !w.ready()) return;
          // the part ends with the line at the end of what was read so far (after the header)
          sp.at = Math.max(sp.given, head.header + 1);
          w.split(sp.at);
        };
      inWorker = w;
    }
    if (!inWorker) inWorker = startWorker(path, format, opts.engine, worker.onBytes, worker.direct);
  }
  const batches = () => {
    if (used) throw new Error("a trace's batches can be read once");
    used = true;
    if (inWorker && split) return splitBatches(rest, split, name, opts, inWorker);
    if (inWorker) return inWorker.batches();
    return format === "csv" ? readCsv(rest, name, opts) : readNdjson(rest, name);
  };
  const close = () => {
    if (used) return;
    inWorker?.stop();
    if (!inWorker || split) worker?.close();
  };
  return { name, format, header, batches, progress, close };
}

/** `# wsim: machine=NAME` (a preset name or a machine file's path, relative to the trace's directory). */
const DIRECTIVE = /^\s*#\s*wsim:\s*machine\s*=\s*(\S+)\s*$/;
/** a comment addressed to wsim: `# wsim:` (then it must be a DIRECTIVE) */
const WSIM_COMMENT = /^\s*#\s*wsim:/;

/**
 * The machine a CSV or NDJSON trace names for itself, from its first bytes: in CSV a
 * comment line `# wsim: machine=NAME` before the header; in NDJSON a first line
 * `{"machine": NAME}` (NAME a preset or a machine file's path relative to the trace, or
 * `{"machine": {...}}`, a machine object as in a JSON document). `--machine` overrides it.
 * Throws DataError at its line for a CSV `# wsim:` comment that is not a machine directive
 * (a typo such as `machin=`) or a second machine directive; plain `#` comments are free.
 */
export function traceMachine(first: Buffer, format: TraceFormat, file = "<trace>"): { machine: unknown; line: number } | null {
  const lines = first.toString("utf8", 0, Math.min(first.length, 65536)).replace(/^\uFEFF/, "").split("\n");
  let found: { machine: unknown; line: number } | null = null;
  for (let k = 0; k < lines.length; k++) {
    const t = lines[k]!.trim();
    if (t === "") continue;
    if (format === "csv") {
      if (!t.startsWith("#")) return found;
      // a plain `#` comment is free; a `# wsim:` one must be the one directive there is
      if (!WSIM_COMMENT.test(t)) continue;
      const m = DIRECTIVE.exec(t);
      if (!m) throw new DataError(file, k + 1, `not a wsim directive: ${quoteInput(t)} (the one there is: \`# wsim: machine=NAME\`; a plain \`#\` comment is free)`);
      if (found) throw new DataError(file, k + 1, `a second \`# wsim: machine=\` directive (the first is at line ${found.line}): name the machine once`);
      found = { machine: m[1]!, line: k + 1 };
      continue;
    }
    if (k === lines.length - 1 && first.length > 65536) return null;
    try {
      const o = JSON.parse(t) as unknown;
      return isMachineHeader(o) ? { machine: o.machine, line: k + 1 } : null;
    } catch {
      return null;
    }
  }
  return found;
}
