/**
 * Opening a trace: a path or `-` (standard input), gzip detected by its magic bytes and
 * inflated on the fly, the format taken from `format`, else the extension (`.csv`,
 * `.ndjson`/`.jsonl`, `.json`, each optionally `.gz`), else sniffed from the first bytes.
 */
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { DataError, describeErrno, quoteInput } from "../errors.js";
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
}

const CHUNK = 1 << 20;

export function formatFromName(path: string): TraceFormat | undefined {
  const p = path.toLowerCase().replace(/\.gz$/, "");
  if (p.endsWith(".csv")) return "csv";
  if (p.endsWith(".ndjson") || p.endsWith(".jsonl")) return "ndjson";
  if (p.endsWith(".json")) return "json";
  if (p.endsWith(".wtrace")) return "wtrace";
  return undefined;
}

/** Chunks of a stream with gzip inflated when the first bytes are its magic. Returns the first chunk too. */
async function plainChunks(src: Readable, name: string): Promise<{ first: Buffer; rest: AsyncIterable<Buffer> }> {
  const it = src[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const wrapErr = (e: unknown) => {
    if (e instanceof DataError) return e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "Z_DATA_ERROR" || code === "Z_BUF_ERROR" || (e as Error).message?.includes("unexpected end"))
      return new DataError(name, 0, `gzip: ${(e as Error).message}`);
    return new DataError(name, 0, `cannot read: ${describeErrno(e)}`);
  };
  const raw = await peek(it, wrapErr);
  if (raw.first.length >= 2 && raw.first[0] === 0x1f && raw.first[1] === 0x8b) {
    const gz = Readable.from(raw.rest).pipe(createGunzip({ chunkSize: CHUNK }));
    return peek(gz[Symbol.asyncIterator]() as AsyncIterator<Buffer>, wrapErr);
  }
  return raw;
}

/** Reads the first chunk of an iterator; `rest` yields it again, then the others, errors wrapped. */
async function peek(
  it: AsyncIterator<Buffer>,
  wrapErr: (e: unknown) => Error,
): Promise<{ first: Buffer; rest: AsyncIterable<Buffer> }> {
  const next = async () => {
    try {
      return await it.next();
    } catch (e) {
      throw wrapErr(e);
    }
  };
  const r = await next();
  const first = r.done ? Buffer.alloc(0) : Buffer.from(r.value);
  async function* rest(): AsyncGenerator<Buffer> {
    if (first.length) yield first;
    for (let n = await next(); !n.done; n = await next()) yield n.value;
  }
  return { first, rest: rest() };
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
  if (isStdin) src = opts.stdin ?? process.stdin;
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
        const worker = { size: total, close: direct.close, onBytes: (b: number) => (workerBytes = b) };
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
  let bytes = 0;
  const counted = Readable.from(
    (async function* () {
      for await (const c of src as AsyncIterable<Buffer>) {
        bytes += c.length;
        yield c;
      }
    })(),
  );
  let workerBytes = -1;
  const progress = () => ({ bytes: workerBytes >= 0 ? workerBytes : bytes, total });
  const { first, rest } = await plainChunks(counted, name);
  const worker = isStdin ? null : { size: total, close: () => void src.destroy(), onBytes: (b: number) => (workerBytes = b) };
  try {
    return await opened(path, name, isStdin, opts, first, rest, progress, worker);
  } catch (e) {
    if (!isStdin) src.destroy();
    throw e;
  }
}

/**
 * A regular file that is not gzipped, read in CHUNK-sized pieces into two buffers used in
 * turn (a fresh 1 MiB buffer per chunk cost more CPU than decoding a .wtrace), the next
 * chunk read (in libuv's thread pool) while the current one is parsed: each chunk is valid
 * until the next is asked for, which every streaming reader here allows (they copy what
 * they carry over). `first` is a copy. null for a gzipped file (the stream path inflates
 * it) and for a JSON document (its reader keeps every chunk).
 */
async function directChunks(path: string, name: string): Promise<{ first: Buffer; rest: AsyncIterable<Buffer>; bytes: () => number; close: () => void } | null> {
  let fh: import("node:fs/promises").FileHandle;
  try {
    fh = await open(path, "r");
  } catch (e) {
    throw new DataError(name, 0, `cannot read: ${describeErrno(e)}`);
  }
  const bufs = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
  let bytes = 0;
  /** reads the next chunk into bufs[k]; never rejects (an error comes back as the value) */
  const read = (k: number): Promise<Buffer | Error> =>
    fh.read(bufs[k]!, 0, CHUNK, null).then(
      (r) => bufs[k]!.subarray(0, r.bytesRead),
      (e: unknown) => new DataError(name, 0, `cannot read: ${describeErrno(e)}`),
    );
  const got = async (p: Promise<Buffer | Error>): Promise<Buffer> => {
    const r = await p;
    if (r instanceof Error) {
      await fh.close().catch(() => {});
      throw r;
    }
    bytes += r.length; // what the reader has been given (or is about to be)
    return r;
  };
  const b0 = await got(read(0));
  if (b0.length >= 2 && b0[0] === 0x1f && b0[1] === 0x8b) {
    await fh.close();
    return null;
  }
  const first = Buffer.from(b0);
  async function* rest(): AsyncGenerator<Buffer> {
    try {
      if (first.length) yield first;
      if (!first.length) return;
      let k = 1;
      let next = read(k);
      for (;;) {
        const chunk = await got(next);
        if (!chunk.length) return;
        // the read after it goes into the other buffer, which the reader is done with
        k ^= 1;
        next = read(k);
        yield chunk;
      }
    } finally {
      await fh.close().catch(() => {});
    }
  }
  return { first, rest: rest(), bytes: () => bytes, close: () => void fh.close().catch(() => {}) };
}

/** The trace once its first bytes are known: .wtrace, a JSON document, or CSV/NDJSON. */
async function opened(
  path: string, name: string, isStdin: boolean, opts: OpenOptions, first: Buffer, rest: AsyncIterable<Buffer>,
  progress: OpenedTrace["progress"],
  /** a file that may be read in a worker instead: its size, how to close what was opened here, where the worker's bytes go */
  worker: { size: number | null; close: () => void; onBytes: (b: number) => void } | null = null,
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
  if (worker && opts.worker !== undefined && useWorker(opts.worker === "auto" ? undefined : opts.worker, worker.size)) {
    worker.close();
    inWorker = startWorker(path, format, opts.engine, worker.onBytes);
  }
  const batches = () => {
    if (used) throw new Error("a trace's batches can be read once");
    used = true;
    if (inWorker) return inWorker.batches();
    return format === "csv" ? readCsv(rest, name, opts) : readNdjson(rest, name);
  };
  return { name, format, header, batches, progress, close: () => void (!used && (inWorker ? inWorker.stop() : worker?.close())) };
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
