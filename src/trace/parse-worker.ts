/**
 * The CSV/NDJSON reader in a worker thread (issue 20 item 1): opens the trace as the inline
 * path does (openTrace, the same readers, so the same events and the same `file:line`
 * errors) and posts each batch to the main thread in a buffer of a small pool, transferred
 * (not copied) both ways: the main thread hands a buffer back once the engine is done with
 * its batch, and the reader waits when the pool is empty (so at most POOL batches are in
 * flight, about 270 KB each). Messages: {type: "batch", buffer, n, strs, bytes},
 * {type: "end", bytes}, {type: "error", ...} (see worker-reader.ts).
 */
import { parentPort, workerData } from "node:worker_threads";
import { DataError } from "../errors.js";
import { openTrace } from "./open.js";
import { EventBatch, type TraceFormat } from "./types.js";

const data = workerData as { path: string; format?: TraceFormat; engine?: "fast" | "csv-parse"; pool: number };
const port = parentPort!;
const pool: ArrayBuffer[] = Array.from({ length: data.pool }, () => new ArrayBuffer(EventBatch.BYTES));
let wake: (() => void) | null = null;
port.on("message", (m: { type: "free"; buffer: ArrayBuffer }) => {
  pool.push(m.buffer);
  const w = wake;
  wake = null;
  w?.();
});

try {
  const t = await openTrace(data.path, { format: data.format, engine: data.engine, worker: false });
  for await (const b of t.batches()) {
    while (!pool.length) await new Promise<void>((res) => (wake = res));
    const buf = pool.pop()!;
    new Uint8Array(buf).set(new Uint8Array(b.buffer));
    port.postMessage({ type: "batch", buffer: buf, n: b.n, strs: b.strs, bytes: t.progress().bytes }, [buf]);
  }
  port.postMessage({ type: "end", bytes: t.progress().bytes });
} catch (e) {
  const err = e as Error & { exitCode?: number };
  if (e instanceof DataError) port.postMessage({ type: "error", data: true, file: e.file, line: e.line, what: e.what });
  else port.postMessage({ type: "error", data: false, name: err?.name, message: String(err?.message ?? e), stack: err?.stack });
}
port.close();
