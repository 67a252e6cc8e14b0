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

/**
 * An ftrace trace_pipe text of `n` lines of kmem page events, for the convert rate: the
 * layout of KERNEL-REFERENCE-2 §12.2 (task-pid, [cpu], latency flags, secs.usecs), hashed
 * page=. About 45% mm_page_alloc (orders 0, 3 and 9 at 90/8/2%, migratetypes 0..2), 45%
 * mm_page_free of a live page (a third followed by its mm_page_free_batched), the rest
 * mm_page_pcpu_drain; at most 4096 blocks live at once, freed pfns reused, so every free
 * pairs. Seeded.
 */
export async function writeTracePipe(path: string, n: number, seed = 1): Promise<void> {
  const r = new Rng(seed);
  const out = createWriteStream(path);
  const live: number[] = [];
  const orders: number[] = [];
  const pool: number[] = [];
  let next = 0x100000;
  let us = 1523_000_000;
  let buf = "";
  const head = (cpu: number) => {
    us += 1 + r.int(5);
    return `          stress-${4242 + cpu}    [00${cpu}] .....  ${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, "0")}: `;
  };
  const page = (pfn: number) => `page=00000000${((pfn * 2654435761) >>> 0).toString(16).padStart(8, "0")} pfn=0x${pfn.toString(16)}`;
  for (let i = 0; i < n; ) {
    const cpu = r.int(4);
    const x = r.next();
    if (x < 0.1 && live.length) {
      buf += head(cpu) + `mm_page_pcpu_drain: ${page(live[0]!)} order=0 migratetype=1\n`;
      i++;
    } else if ((x < 0.55 && live.length < 4096) || !live.length) {
      const y = r.next();
      const order = y < 0.9 ? 0 : y < 0.98 ? 3 : 9;
      // freed pfns come back first, last freed first (as a per-cpu list hands them out)
      const pfn = pool.length ? pool.pop()! : (next += 512);
      live.push(pfn);
      orders.push(order);
      buf += head(cpu) + `mm_page_alloc: ${page(pfn)} order=${order} migratetype=${r.int(3)} gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_ZERO\n`;
      i++;
    } else {
      const k = r.int(live.length);
      const pfn = live[k]!;
      const order = orders[k]!;
      live[k] = live[live.length - 1]!;
      orders[k] = orders[orders.length - 1]!;
      live.pop();
      orders.pop();
      pool.push(pfn);
      buf += head(cpu) + `mm_page_free: ${page(pfn)} order=${order}\n`;
      i++;
      if (order === 0 && r.next() < 1 / 3 && i < n) {
        buf += head(cpu) + `mm_page_free_batched: ${page(pfn)} order=0\n`;
        i++;
      }
    }
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((res) => out.once("drain", () => res()));
      buf = "";
    }
  }
  out.write(buf);
  await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
}
