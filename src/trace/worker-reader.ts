/**
 * Reading a CSV or NDJSON trace in a worker thread while the engine replays (issue 20 item
 * 1): on two cores a replay takes about max(parse, engine) instead of their sum. The batches
 * come in order, as the inline reader yields them, and a reader error comes after the
 * batches before it, so the run stops at the same event with the same `file:line` message.
 * Used by `wsim replay` (and replay() of the library) for a trace file; standard input is
 * read inline.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { DataError, InternalError, UsageError } from "../errors.js";
import { EventBatch, type TraceFormat } from "./types.js";

/**
 * batch slots shared by the threads (about 330 KB each): the reader fills one while the
 * others wait for the engine or are being replayed
 */
const SLOTS = 8;
/** smaller files are read inline: a worker's start (~50 ms) is more than their parsing */
export const WORKER_MIN_BYTES = 4 << 20;

/** The worker's script: beside this module in dist/, or dist/'s when running from src/ (tests). */
function script(): string | null {
  for (const rel of ["./parse-worker.js", "../../dist/trace/parse-worker.js"]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return null;
}

/**
 * Whether to read in a worker: `want` true forces it (when the script exists), false
 * forbids it; undefined is automatic: WSIM_WORKER=0 turns it off (=1 forces it on), else on
 * with at least 2 CPUs (os.availableParallelism) for a file of at least WORKER_MIN_BYTES.
 */
export function useWorker(want: boolean | undefined, size: number | null): boolean {
  const env = process.env.WSIM_WORKER;
  if (want === false || env === "0") return false;
  if (script() === null) return false;
  if (want === true || env === "1") return true;
  return availableParallelism() >= 2 && size !== null && size >= WORKER_MIN_BYTES;
}

/**
 * workers started by this process, and of them those that read a CSV file after the main
 * thread's part (open.ts headSplit) (tests check which path was taken)
 */
export const workerStats = { started: 0, split: 0 };

type Msg =
  | { type: "batch"; slot: number; n: number; strs: string[]; bytes: number }
  | { type: "end"; bytes: number }
  | { type: "error"; data: true; file: string; line: number; what: string }
  | { type: "error"; data: false; name?: string; message: string; stack?: string }
  | { type: "crash"; error: Error }
  | { type: "exit"; code: number };

/** A trace being read in a worker thread, started by startWorker. */
export interface WorkerReader {
  /** its batches, once (see startWorker) */
  batches: () => AsyncGenerator<EventBatch>;
  /** ends the worker when its batches will never be read */
  stop: () => void;
  /**
   * whether the worker has started (set by it in shared memory, read without a turn of the
   * event loop: the main thread asks between pieces of the part it parses)
   */
  ready: () => boolean;
  /** tells a worker started with `head` and no `head.at` where the main thread's part ends */
  split: (at: number) => void;
}

/**
 * Starts reading the trace at `path` (csv or ndjson) in a worker thread now, so that the
 * thread starts and parses its first batches while the caller builds its engine; they wait
 * in the slots for `batches()`. `onBytes` is told the bytes the worker has read, for
 * progress. `direct`: openTrace read the file directly, not as a stream (chunks.ts fileChunks).
 * `head`: the main thread parses the file up to a split point itself (a direct CSV file
 * whose first line, of `head.header` bytes, is its header): the worker reads the header,
 * then the lines from the split point on (chunks.ts fromLineAt). The split point is
 * `head.at`, or, without it, the one `split(at)` gives once `ready()` says the worker has
 * started (it then waits for it). Errors are rethrown by `batches()` as the inline reader throws them (DataError
 * with its file and line; others as InternalError). Breaking out of the loop (or an engine
 * error) ends the worker; so does `stop()`. Until `batches()` is called the worker does not
 * keep the process alive (a trace opened and never read).
 */
export function startWorker(
  path: string, format: TraceFormat, engine: "fast" | "csv-parse" | undefined, onBytes: (bytes: number) => void, direct: boolean,
  head?: { header: number; at?: number },
): WorkerReader {
  // the ring of batch slots (parse-worker.ts), each seen here through its own batch
  const slots = Array.from({ length: SLOTS }, () => new SharedArrayBuffer(EventBatch.BYTES));
  const views = slots.map((sab) => {
    const v = new EventBatch(sab);
    v.reset(); // every column at its default (written is all ones)
    return v;
  });
  const ready = new Int32Array(new SharedArrayBuffer(4));
  const w = new Worker(script()!, { workerData: { path, format, engine, slots, direct, head, ready } });
  workerStats.started++;
  if (head) workerStats.split++;
  const queue: Msg[] = [];
  let wake: (() => void) | null = null;
  const push = (m: Msg) => {
    queue.push(m);
    const f = wake;
    wake = null;
    f?.();
  };
  w.on("message", push);
  w.on("error", (error) => push({ type: "crash", error }));
  w.on("exit", (code) => push({ type: "exit", code }));
  // after the listeners (adding a "message" listener refs the thread again)
  w.unref();
  async function* batches(): AsyncGenerator<EventBatch> {
    w.ref();
    try {
      for (;;) {
        while (!queue.length) await new Promise<void>((res) => (wake = res));
        const m = queue.shift()!;
        switch (m.type) {
          case "batch": {
            onBytes(m.bytes);
            const b = views[m.slot]!;
            b.n = m.n;
            b.strs = m.strs;
            yield b;
            // the engine is done with it: back to the reader
            w.postMessage({ type: "free", slot: m.slot });
            break;
          }
          case "end":
            onBytes(m.bytes);
            return;
          case "error":
            if (m.data) throw new DataError(m.file, m.line, m.what);
            if (m.name === "UsageError") throw new UsageError(m.message);
            throw Object.assign(new InternalError(`trace reader: ${m.message}`), { stack: m.stack });
          case "crash":
            throw new InternalError(`trace reader thread: ${m.error.message}`);
          case "exit":
            throw new InternalError(`trace reader thread exited (code ${m.code}) before the end of the trace`);
        }
      }
    } finally {
      await w.terminate();
    }
  }
  return { batches, stop: () => void w.terminate(), ready: () => Atomics.load(ready, 0) === 1, split: (at) => w.postMessage({ type: "head", at }) };
}

/**
 * The batches of the trace at `path` (csv or ndjson), parsed in a worker started now
 * (startWorker(...).batches()).
 */
export function workerBatches(
  path: string, format: TraceFormat, engine: "fast" | "csv-parse" | undefined, onBytes: (bytes: number) => void,
): AsyncGenerator<EventBatch> {
  return startWorker(path, format, engine, onBytes, true).batches();
}
