/**
 * The CSV/NDJSON reader in a worker thread (issue 20 item 1): reads the trace's file as
 * openTrace did (chunks.ts fileChunks) through the same readers, so the same events and the
 * same `file:line` errors (openTrace has looked at the first bytes already: format, foreign
 * files, gzip; this imports only the readers, as the worker's start delays the first batch) and hands each batch to the main thread in a ring of SharedArrayBuffer slots
 * (worker-reader.ts makes them, every column at its default): the reader's batch is
 * switched into a free slot (EventBatch.swap) before it fills, so a full batch is handed
 * over by its slot number, never copied nor transferred (only its strings are cloned). The
 * main thread gives the slot back once the engine is done with it; the reader waits when
 * no slot is free. The slots it gets back were filled by this reader, so its batch's reset
 * refills what it wrote. The reader's first batch fills in its own buffer and is copied into
 * a slot, once. Messages to the main thread: {type: "batch", slot, n, strs, bytes}, {type:
 * "end", bytes}, {type: "error", ...}; from it: {type: "head", at} (where the main thread's
 * part of the file ends, the answer to `ready`), {type: "free", slot}.
 */
import { parentPort, workerData } from "node:worker_threads";
import { DataError } from "../errors.js";
import { fileChunks, fromLineAt } from "./chunks.js";
import { readCsv } from "./csv.js";
import { readNdjson } from "./json.js";

const data = workerData as {
  path: string;
  format: "csv" | "ndjson";
  engine?: "fast" | "csv-parse";
  slots: SharedArrayBuffer[];
  direct: boolean;
  /**
   * the main thread parses up to the split point of `at`, or, without it, of the one it
   * sends ({type: "head", at}) once it sees `ready` (worker-reader.ts startWorker)
   */
  head?: { header: number; at?: number };
  /** [0] set to 1 when this thread has started and waits for the split point */
  ready: Int32Array;
};
const port = parentPort!;
/** slot numbers free for the reader (all at first) */
const free: number[] = data.slots.map((_, k) => k);
let wake: (() => void) | null = null;
/** the main thread's split point, once it says it */
let headAt = data.head?.at ?? -1;
port.on("message", (m: { type: "free"; slot: number } | { type: "head"; at: number }) => {
  if (m.type === "head") headAt = m.at;
  else free.push(m.slot);
  const w = wake;
  wake = null;
  w?.();
});

async function freeSlot(): Promise<number> {
  while (!free.length) await new Promise<void>((res) => (wake = res));
  return free.shift()!;
}

try {
  const { rest, bytes } = await fileChunks(data.path, data.direct);
  let chunks: AsyncIterable<Buffer> = rest;
  let skipped: { after: number; lines: number } | undefined;
  if (data.head) {
    if (headAt < 0) {
      // the main thread parses until this thread is ready for the rest
      Atomics.store(data.ready, 0, 1);
      while (headAt < 0) await new Promise<void>((res) => (wake = res));
    }
    // the header line, then the lines after the main thread's part, numbered as in the file
    const from = await fromLineAt(rest, data.head.header, headAt);
    chunks = from.chunks;
    skipped = { after: 1, lines: from.lines };
  }
  // openTrace's readers, named as it names them (the path)
  const batches = data.format === "csv" ? readCsv(chunks, data.path, { engine: data.engine, skipped }) : readNdjson(chunks, data.path);
  /** the slot the reader's batch is in; -1 while it is in its own first buffer */
  let cur = -1;
  for await (const b of batches) {
    let full: number;
    if (cur < 0) {
      full = await freeSlot();
      new Uint8Array(data.slots[full]!).set(new Uint8Array(b.buffer));
    } else full = cur;
    // the reader goes on in another slot (the generator resets its batch when it resumes)
    cur = await freeSlot();
    b.swap(data.slots[cur]!);
    port.postMessage({ type: "batch", slot: full, n: b.n, strs: b.strs, bytes: bytes() });
  }
  port.postMessage({ type: "end", bytes: bytes() });
} catch (e) {
  const err = e as Error & { exitCode?: number };
  if (e instanceof DataError) port.postMessage({ type: "error", data: true, file: e.file, line: e.line, what: e.what });
  else port.postMessage({ type: "error", data: false, name: err?.name, message: String(err?.message ?? e), stack: err?.stack });
}
port.close();
