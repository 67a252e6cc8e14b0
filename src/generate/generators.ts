/**
 * Seeded synthetic workloads for `wsim generate KIND`: each a generator of trace rows (CSV
 * fields by column name), deterministic for its seed and options.
 *
 *   zipf      pages accessed with a Zipf(alpha) popularity over a working set: hot and cold pages
 *   scan      sequential passes over a region (a streaming workload)
 *   fragment  processes fault pages in turn with kernel allocations sprinkled in; some exit,
 *             leaving holes in every pageblock
 *   thp       THP-eligible regions (thp=1) touched at 2 MiB strides, some unmapped in part
 *   tiered    a heap on a lower-tier node whose hot set moves every `shift_ms`
 *   balloon   a guest allocates, frees, idles, allocates again (free page reporting)
 */
import { Rng } from "../engine/rng.js";

export type Row = Record<string, string | number>;

export interface GeneratorSpec {
  kind: string;
  help: string;
  /** option name -> [default, help] */
  options: Record<string, [number, string]>;
  rows: (o: Record<string, number>, rng: Rng) => Generator<Row>;
}

export const COLUMNS = ["time_ms", "op", "pid", "addr", "len", "rw", "node", "kind", "thp", "cg", "id", "order", "mt", "key", "value"];

const MB = 2 ** 20;
const hex = (n: number) => "0x" + n.toString(16);
const BASE = 0x10000000;

function* zipf(o: Record<string, number>, rng: Rng): Generator<Row> {
  const n = o.pages!;
  // the CDF of Zipf(alpha) over ranks 1..n; ranks map to pages through a seeded shuffle
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) cdf[k] = sum += 1 / Math.pow(k + 1, o.alpha!);
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  yield { time_ms: 0, op: "mmap", pid: 1, addr: hex(BASE), len: n * 4096 };
  for (let e = 0; e < o.events!; e++) {
    const x = rng.next() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    yield { time_ms: fmt(e / o.rate!), op: "access", pid: 1, addr: hex(BASE + perm[lo]! * 4096), rw: rng.next() < o.write_ratio! ? "w" : "r" };
  }
}

function* scan(o: Record<string, number>): Generator<Row> {
  yield { time_ms: 0, op: "mmap", pid: 1, addr: hex(BASE), len: o.pages! * 4096, kind: o.file ? "file" : "anon" };
  let e = 0;
  for (let p = 0; p < o.passes!; p++)
    for (let i = 0; i < o.pages!; i++) yield { time_ms: fmt(e++ / o.rate!), op: "access", pid: 1, addr: hex(BASE + i * 4096), rw: "r" };
}

function* fragment(o: Record<string, number>, rng: Rng): Generator<Row> {
  const procs = o.procs!;
  const per = o.pages_per_proc!;
  for (let p = 0; p < procs; p++) yield { time_ms: 0, op: "mmap", pid: 100 + p, addr: hex(BASE), len: per * 4096 };
  let t = 0;
  let k = 0;
  for (let i = 0; i < per; i++) {
    for (let p = 0; p < procs; p++) {
      yield { time_ms: fmt(t), op: "access", pid: 100 + p, addr: hex(BASE + i * 4096), rw: "w" };
      t += 1 / o.rate!;
    }
    if (o.kernel_every && i % o.kernel_every === 0)
      yield { time_ms: fmt(t), op: "alloc", id: `slab${k++}`, order: 0, mt: rng.next() < 0.5 ? "unmovable" : "reclaimable" };
  }
  t = Math.ceil(t) + 1;
  for (let p = 0; p < procs; p++) if (rng.next() < o.exit_ratio!) yield { time_ms: t++, op: "exit", pid: 100 + p };
}

function* thp(o: Record<string, number>, rng: Rng): Generator<Row> {
  const len = o.region_mb! * MB;
  let t = 0;
  for (let r = 0; r < o.regions!; r++) {
    const base = BASE + r * len * 2;
    yield { time_ms: fmt(t), op: "mmap", pid: 1, addr: hex(base), len, thp: o.madvise ? 1 : 0 };
    for (let off = 0; off < len; off += 2 * MB) {
      t += 1 / o.rate!;
      yield { time_ms: fmt(t), op: "access", pid: 1, addr: hex(base + off), rw: "w" };
    }
    if (rng.next() < o.partial_unmap!) {
      t += 1;
      yield { time_ms: fmt(t), op: "munmap", pid: 1, addr: hex(base + MB), len: 4096 * 16 };
    }
  }
}

function* tiered(o: Record<string, number>, rng: Rng): Generator<Row> {
  const pages = (o.heap_mb! * MB) / 4096;
  const hot = (o.hot_mb! * MB) / 4096;
  yield { time_ms: 0, op: "set", key: "transparent_hugepage.enabled", value: "never" };
  yield { time_ms: 0, op: "mmap", pid: 1, addr: hex(BASE), len: pages * 4096, node: o.node! };
  let t = 0;
  for (let i = 0; i < pages; i++) {
    yield { time_ms: fmt(t), op: "access", pid: 1, addr: hex(BASE + i * 4096), rw: "w" };
    t += 0.01;
  }
  let start = 0;
  const step = 1 / o.rate!;
  for (let at = 0; at < o.duration_ms!; at += step) {
    if (Math.floor(at / o.shift_ms!) !== Math.floor((at - step) / o.shift_ms!) && at > 0) start = rng.int(pages - hot);
    yield { time_ms: fmt(t + at), op: "access", pid: 1, addr: hex(BASE + (start + rng.int(hot)) * 4096), rw: "r" };
  }
}

function* balloon(o: Record<string, number>): Generator<Row> {
  const first = o.alloc_mb! * MB;
  yield { time_ms: 0, op: "mmap", pid: 1, addr: hex(BASE), len: first };
  let t = 0;
  for (let off = 0; off < first; off += 4096 * o.stride_pages!) yield { time_ms: fmt((t += 1 / o.rate!)), op: "access", pid: 1, addr: hex(BASE + off), rw: "w" };
  t = Math.ceil(t) + 1;
  yield { time_ms: t, op: "munmap", pid: 1, addr: hex(BASE), len: first };
  t += o.idle_ms!;
  const again = o.again_mb! * MB;
  yield { time_ms: t, op: "mmap", pid: 2, addr: hex(BASE), len: again };
  for (let off = 0; off < again; off += 4096 * o.stride_pages!) yield { time_ms: fmt((t += 1 / o.rate!)), op: "access", pid: 2, addr: hex(BASE + off), rw: "w" };
}

/** times with three decimals, so the text is the same on every machine */
function fmt(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

export const GENERATORS: Record<string, GeneratorSpec> = {
  zipf: {
    kind: "zipf",
    help: "accesses with Zipf popularity over a working set (hot and cold pages)",
    options: {
      pages: [16384, "pages in the working set"],
      events: [100000, "accesses"],
      alpha: [1.0, "Zipf exponent (higher: hotter hot set)"],
      rate: [100, "accesses per ms"],
      write_ratio: [0.3, "share of writes"],
    },
    rows: zipf,
  },
  scan: {
    kind: "scan",
    help: "sequential passes over a region",
    options: { pages: [16384, "pages in the region"], passes: [3, "passes"], rate: [100, "accesses per ms"], file: [0, "1: a file mapping"] },
    rows: (o) => scan(o),
  },
  fragment: {
    kind: "fragment",
    help: "processes fault in turn, kernel allocations sprinkled in, some exit: holes in every pageblock",
    options: {
      procs: [8, "processes"],
      pages_per_proc: [2048, "pages each"],
      kernel_every: [16, "a kernel allocation every N rounds (0: none)"],
      exit_ratio: [0.5, "share of processes that exit at the end"],
      rate: [20, "faults per ms"],
    },
    rows: fragment,
  },
  thp: {
    kind: "thp",
    help: "THP-eligible regions touched at 2 MiB strides, some unmapped in part",
    options: {
      regions: [8, "regions"],
      region_mb: [32, "MiB each (whole 2 MiB ranges are THP-eligible)"],
      madvise: [1, "1: MADV_HUGEPAGE regions (thp=1)"],
      partial_unmap: [0.25, "share of regions with 64 KiB unmapped inside a huge page"],
      rate: [1, "faults per ms"],
    },
    rows: thp,
  },
  tiered: {
    kind: "tiered",
    help: "a heap on a lower-tier node with a hot set that moves (use --machine tiered)",
    options: {
      heap_mb: [64, "heap MiB"],
      hot_mb: [8, "hot set MiB"],
      node: [1, "the heap's preferred node"],
      duration_ms: [30000, "how long the hot set is accessed"],
      shift_ms: [10000, "the hot set moves this often"],
      rate: [2, "accesses per ms"],
    },
    rows: tiered,
  },
  balloon: {
    kind: "balloon",
    help: "a guest allocates, frees, idles, allocates again (use --machine vm)",
    options: {
      alloc_mb: [1024, "MiB first allocated"],
      again_mb: [256, "MiB allocated after the idle time"],
      idle_ms: [30000, "idle time"],
      stride_pages: [512, "touch one page in this many (512: one huge page each)"],
      rate: [1, "touches per ms"],
    },
    rows: (o) => balloon(o),
  },
};

/** The CSV text of a row (the fixed header's columns). */
export function csvLine(r: Row): string {
  return COLUMNS.map((c) => (r[c] === undefined ? "" : String(r[c]))).join(",");
}

/** The NDJSON text of a row (keys in the header's order). */
export function ndjsonLine(r: Row): string {
  const o: Row = {};
  for (const c of COLUMNS) if (r[c] !== undefined) o[c] = r[c]!;
  return JSON.stringify(o);
}
