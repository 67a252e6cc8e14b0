/**
 * Bench workloads, generated from a seed: `access` (a few processes touching their working
 * sets with locality: mostly hits, some faults, a few munmaps) and `allocfree` (kernel
 * alloc/free of mixed orders and migratetypes around a bounded live set).
 */
import { createWriteStream } from "node:fs";
import { Rng } from "../engine/rng.js";

export type BenchKind = "access" | "allocfree";

export interface GeneratedEvent {
  time_ms: number;
  op: string;
  pid?: number;
  addr?: number;
  len?: number;
  rw?: string;
  id?: string;
  order?: number;
  mt?: string;
}

export function* generate(kind: BenchKind, n: number, seed = 1): Generator<GeneratedEvent> {
  const r = new Rng(seed);
  if (kind === "access") {
    const procs = 4;
    const pages = 65536; // 256 MiB per process
    for (let p = 0; p < procs; p++) yield { time_ms: 0, op: "mmap", pid: 100 + p, addr: 0x10000000 * (p + 1), len: pages * 4096 };
    let hot = 0;
    for (let i = 0; i < n; i++) {
      const t = Math.floor(i / 1000);
      const p = r.int(procs);
      // 90% of accesses near a moving hot spot, 10% anywhere in the region
      if (i % 50000 === 0) hot = r.int(pages - 4096);
      const page = r.next() < 0.9 ? hot + r.int(4096) : r.int(pages);
      if (i % 200000 === 199999) {
        yield { time_ms: t, op: "munmap", pid: 100 + p, addr: 0x10000000 * (p + 1) + page * 4096, len: 64 * 4096 };
        continue;
      }
      yield { time_ms: t, op: "access", pid: 100 + p, addr: 0x10000000 * (p + 1) + page * 4096, rw: r.next() < 0.3 ? "w" : "r" };
    }
  } else {
    const live: string[] = [];
    const mts = ["unmovable", "movable", "reclaimable"];
    let next = 0;
    for (let i = 0; i < n; i++) {
      const t = Math.floor(i / 1000);
      if (live.length > 20000 || (live.length && r.next() < 0.5)) {
        const k = r.int(live.length);
        const id = live[k]!;
        live[k] = live[live.length - 1]!;
        live.pop();
        yield { time_ms: t, op: "free", id };
      } else {
        const x = r.next();
        const order = x < 0.6 ? 0 : x < 0.85 ? r.int(4) : x < 0.98 ? 4 + r.int(5) : 9 + r.int(2);
        const id = `k${next++}`;
        live.push(id);
        yield { time_ms: t, op: "alloc", id, order, mt: mts[r.int(3)]! };
      }
    }
  }
}

const CSV_COLS = ["time_ms", "op", "pid", "addr", "len", "rw", "id", "order", "mt"] as const;

export async function writeTrace(path: string, kind: BenchKind, n: number, format: "csv" | "ndjson"): Promise<void> {
  const out = createWriteStream(path);
  let buf = format === "csv" ? CSV_COLS.join(",") + "\n" : "";
  for (const e of generate(kind, n)) {
    if (format === "csv") {
      const rec = e as unknown as Record<string, unknown>;
      buf += CSV_COLS.map((c) => (rec[c] === undefined ? "" : c === "addr" ? "0x" + (rec[c] as number).toString(16) : String(rec[c]))).join(",") + "\n";
    } else buf += JSON.stringify(e) + "\n";
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((res) => out.once("drain", () => res()));
      buf = "";
    }
  }
  out.write(buf);
  await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
}

/**
 * A UCSD address trace of `n` lines (`l|s 0xADDR N`, as the SPEC CPU2000 traces), for the
 * convert rate: a third stores, addresses over 64 MiB from a multiplicative hash, seeded.
 */
export async function writeUcsd(path: string, n: number, seed = 1): Promise<void> {
  const r = new Rng(seed);
  const out = createWriteStream(path);
  let buf = "";
  for (let i = 0; i < n; i++) {
    buf += `${r.next() < 1 / 3 ? "s" : "l"} 0x${(0x10000000 + r.int(0x4000000)).toString(16)} ${1 + r.int(8)}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((res) => out.once("drain", () => res()));
      buf = "";
    }
  }
  out.write(buf);
  await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
}
