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
 *   malloc-trim  an allocator's heap: chunks written, then given back with MADV_DONTNEED or
 *             MADV_FREE, and reused (the `advice` column)
 *   fork-snapshot  a THP heap written, a fork, the parent writing while the child reads the heap
 *             once and exits (Redis BGSAVE: copy-on-write; the `child` column)
 *   filecache a reader streaming a file larger than RAM through the page cache beside a small
 *             hot file read again and again, optionally a log appended (the `file`, `off` columns)
 */
import { Rng } from "../engine/rng.js";
import { UsageError } from "../errors.js";
import { PRESETS } from "../machine/machine.js";

export type Row = Record<string, string | number>;

/**
 * The values a knob takes: a number (an integer when `int`) from `min` to `max`; `min` itself
 * is excluded when `above` (a rate, a period: 0 would make times infinite).
 */
export interface KnobRange {
  min: number;
  max: number;
  int?: boolean;
  above?: boolean;
}

export interface GeneratorSpec {
  kind: string;
  help: string;
  /** option name -> [default, help, range] */
  options: Record<string, [number, string, KnobRange]>;
  /** knobs that are valid alone but not together: a message naming them, or null */
  check?: (o: Record<string, number>) => string | null;
  /** the last event's time_ms for these knobs (bounded, so every time is a finite decimal) */
  endMs: (o: Record<string, number>) => number;
  rows: (o: Record<string, number>, rng: Rng) => Generator<Row>;
  /** false for a generator that draws no random number (then --seed is a usage error) */
  seeded: boolean;
  /** the machine preset the trace is for, named in its output (`# wsim: machine=NAME`) */
  machine?: string;
  /** columns its rows use beyond COLUMNS (a CSV header gets them after COLUMNS) */
  columns?: string[];
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

/** The last time_ms a generator may write: about 31 years of virtual time, a plain decimal. */
export const MAX_END_MS = 1e12;
/** Bytes of user address space above BASE: x86-64's TASK_SIZE (47 bits) less the base. */
const USER_SPAN = 2 ** 47 - 4096 - BASE;

const count = (max: number): KnobRange => ({ min: 1, max, int: true });
const SHARE: KnobRange = { min: 0, max: 1 };
const FLAG: KnobRange = { min: 0, max: 1, int: true };
const RATE: KnobRange = { min: 0, max: 1e9, above: true };
const MIB: KnobRange = { min: 1, max: 2 ** 20, int: true };
/** a file's MiB: wsim's files reach 64 GiB (engine.ts MAX_FILE_BYTES) */
const FILE_MIB: KnobRange = { min: 1, max: 65536, int: true };

export const GENERATORS: Record<string, GeneratorSpec> = {
  zipf: {
    kind: "zipf",
    seeded: true,
    help: "accesses with Zipf popularity over a working set (hot and cold pages)",
    options: {
      // the CDF and the shuffle take 12 bytes a page: 2^25 pages (128 GiB) need 400 MB
      pages: [16384, "pages in the working set", count(2 ** 25)],
      events: [100000, "accesses", count(Number.MAX_SAFE_INTEGER)],
      alpha: [1.0, "Zipf exponent (higher: hotter hot set; 0: uniform)", { min: 0, max: 100 }],
      rate: [100, "accesses per ms", RATE],
      write_ratio: [0.3, "share of writes", SHARE],
    },
    endMs: (o) => (o.events! - 1) / o.rate!,
    rows: zipf,
  },
  scan: {
    kind: "scan",
    seeded: false,
    help: "sequential passes over a region",
    options: {
      pages: [16384, "pages in the region", count(2 ** 30)],
      passes: [3, "passes", count(Number.MAX_SAFE_INTEGER)],
      rate: [100, "accesses per ms", RATE],
      file: [0, "1: a file mapping", FLAG],
    },
    endMs: (o) => (o.pages! * o.passes! - 1) / o.rate!,
    rows: (o) => scan(o),
  },
  fragment: {
    kind: "fragment",
    seeded: true,
    help: "processes fault in turn, kernel allocations sprinkled in, some exit: holes in every pageblock",
    options: {
      procs: [8, "processes", count(2 ** 20)],
      pages_per_proc: [2048, "pages each", count(2 ** 30)],
      kernel_every: [16, "a kernel allocation every N rounds (0: none)", { min: 0, max: Number.MAX_SAFE_INTEGER, int: true }],
      exit_ratio: [0.5, "share of processes that exit at the end", SHARE],
      rate: [20, "faults per ms", RATE],
    },
    endMs: (o) => Math.ceil((o.procs! * o.pages_per_proc!) / o.rate!) + 1 + o.procs!,
    rows: fragment,
  },
  thp: {
    kind: "thp",
    seeded: true,
    help: "THP-eligible regions touched at 2 MiB strides, some unmapped in part",
    options: {
      regions: [8, "regions", count(2 ** 16)],
      region_mb: [32, "MiB each (whole 2 MiB ranges are THP-eligible)", { min: 2, max: 2 ** 20, int: true }],
      madvise: [1, "1: MADV_HUGEPAGE regions (thp=1)", FLAG],
      partial_unmap: [0.25, "share of regions with 64 KiB unmapped inside a huge page", SHARE],
      rate: [1, "faults per ms", RATE],
    },
    // regions sit 2 x region_mb apart
    check: (o) =>
      o.regions! * o.region_mb! * 2 * MB > USER_SPAN
        ? `--regions (${o.regions}) x 2 x --region-mb (${o.region_mb}) MiB must fit in the 128 TiB user address space`
        : null,
    endMs: (o) => o.regions! * (Math.ceil(o.region_mb! / 2) / o.rate! + 1),
    rows: thp,
  },
  tiered: {
    kind: "tiered",
    seeded: true,
    machine: "tiered",
    help: "a heap on a lower-tier node with a hot set that moves (use --machine tiered)",
    options: {
      heap_mb: [64, "heap MiB", MIB],
      hot_mb: [8, "hot set MiB (at most --heap-mb)", MIB],
      // a node of the machine the trace names (tiered: 0 DRAM, 1 CXL), so that it replays
      node: [1, "the heap's preferred node (of machine tiered: 0 or 1)", { min: 0, max: PRESETS.tiered!.nodes.length - 1, int: true }],
      duration_ms: [30000, "how long the hot set is accessed", { min: 0, max: MAX_END_MS, above: true }],
      shift_ms: [10000, "the hot set moves this often", { min: 0, max: MAX_END_MS, above: true }],
      rate: [2, "accesses per ms", RATE],
    },
    check: (o) => (o.hot_mb! > o.heap_mb! ? `--hot-mb (${o.hot_mb}) must be at most --heap-mb (${o.heap_mb}): the hot set lies inside the heap` : null),
    endMs: (o) => ((o.heap_mb! * MB) / 4096) * 0.01 + o.duration_ms!,
    rows: tiered,
  },
  balloon: {
    kind: "balloon",
    seeded: false,
    machine: "vm",
    help: "a guest allocates, frees, idles, allocates again (use --machine vm)",
    options: {
      alloc_mb: [1024, "MiB first allocated", MIB],
      again_mb: [256, "MiB allocated after the idle time", MIB],
      idle_ms: [30000, "idle time", { min: 0, max: MAX_END_MS }],
      stride_pages: [512, "touch one page in this many (512: one huge page each)", count(2 ** 28)],
      rate: [1, "touches per ms", RATE],
    },
    endMs: (o) => Math.ceil((o.alloc_mb! * MB) / 4096 / o.stride_pages! / o.rate!) + 1 + o.idle_ms! + Math.ceil((o.again_mb! * MB) / 4096 / o.stride_pages!) / o.rate!,
    rows: (o) => balloon(o),
  },
  "malloc-trim": {
    kind: "malloc-trim",
    seeded: true,
    columns: ["advice"],
    help: "an allocator's heap: chunks written, given back with MADV_DONTNEED or MADV_FREE, reused",
    options: {
      heap_mb: [64, "heap MiB (one anon region)", MIB],
      chunk_kb: [256, "chunk KiB, a multiple of 4 (what the allocator allocates and trims)", { min: 4, max: 2 ** 30, int: true }],
      ops: [2000, "chunk operations (allocate-and-write or trim)", count(2 ** 30)],
      free_ratio: [0.5, "share of trims that use MADV_FREE (the rest MADV_DONTNEED)", SHARE],
      rate: [100, "page writes per ms", RATE],
    },
    check: (o) =>
      o.chunk_kb! % 4 !== 0
        ? `--chunk-kb (${o.chunk_kb}) must be a multiple of 4 (whole pages)`
        : o.chunk_kb! > o.heap_mb! * 1024
          ? `--chunk-kb (${o.chunk_kb}) must be at most --heap-mb (${o.heap_mb}) x 1024: a chunk lies inside the heap`
          : null,
    // at most one chunk's pages written per op, plus the op itself
    endMs: (o) => (o.ops! * (o.chunk_kb! / 4 + 1)) / o.rate!,
    rows: mallocTrim,
  },
  "fork-snapshot": {
    kind: "fork-snapshot",
    seeded: true,
    columns: ["child"],
    help: "a THP heap written, a fork; the parent keeps writing while the child reads the heap once, then exits (Redis BGSAVE)",
    options: {
      heap_mb: [64, "heap MiB (one MADV_HUGEPAGE anon region, written whole before the fork)", MIB],
      writes: [4096, "page writes by the parent, uniformly over the heap, while the child reads it", count(2 ** 30)],
      rate: [100, "events per ms", RATE],
    },
    // the heap's pages written, the fork, the child's reads and the parent's writes, the exit
    endMs: (o) => ((o.heap_mb! * 256) * 2 + o.writes! + 2) / o.rate!,
    rows: forkSnapshot,
  },
  filecache: {
    kind: "filecache",
    seeded: false,
    columns: ["file", "off"],
    help: "a reader streaming a file larger than RAM beside a small hot file read repeatedly (buffered I/O, the page cache)",
    options: {
      file_mb: [6144, "MiB of the streamed file (larger than the machine's RAM: 4 GiB by default; wsim's files reach 64 GiB)", FILE_MIB],
      hot_mb: [16, "MiB of the hot file, read whole every --hot-every stream reads", FILE_MIB],
      chunk_kb: [128, "KiB a read asks for, a multiple of 4", { min: 4, max: 2 ** 20, int: true }],
      hot_every: [64, "stream reads between two reads of the hot file", count(2 ** 30)],
      append_kb: [0, "KiB appended to a log file after each stream read, a multiple of 4 (0: none; dirty pages, writeback)", { min: 0, max: 2 ** 20, int: true }],
      passes: [1, "passes over the streamed file", count(2 ** 20)],
      rate: [10, "reads (and appends) per ms", RATE],
    },
    check: (o) =>
      o.chunk_kb! % 4 !== 0
        ? `--chunk-kb (${o.chunk_kb}) must be a multiple of 4 (whole pages)`
        : o.append_kb! % 4 !== 0
          ? `--append-kb (${o.append_kb}) must be a multiple of 4 (whole pages)`
          : null,
    endMs: (o) => {
      const reads = o.passes! * Math.ceil((o.file_mb! * 1024) / o.chunk_kb!);
      return (reads * (o.append_kb! > 0 ? 2 : 1) + Math.floor(reads / o.hot_every!)) / o.rate!;
    },
    rows: fileCache,
  },
};

/**
 * fork-snapshot: pid 1 maps a heap of heap_mb with thp=1 (MADV_HUGEPAGE) and writes every page
 * of it (a huge page fault per 2 MiB when THP can be had); it forks pid 2, which reads the heap
 * once in address order (the snapshot being serialised) while pid 1 goes on writing `writes`
 * pages drawn uniformly, spread evenly between the child's reads: each write to a page still
 * shared is a copy-on-write fault (the first to a huge page splits its PMD). Then pid 2 exits;
 * pid 1 stays.
 */
function* forkSnapshot(o: Record<string, number>, rng: Rng): Generator<Row> {
  const pages = o.heap_mb! * 256;
  const step = 1 / o.rate!;
  let t = 0;
  yield { time_ms: 0, op: "mmap", pid: 1, addr: hex(BASE), len: pages * 4096, thp: 1 };
  for (let p = 0; p < pages; p++) {
    yield { time_ms: fmt(t), op: "access", pid: 1, addr: hex(BASE + p * 4096), rw: "w" };
    t += step;
  }
  yield { time_ms: fmt(t), op: "fork", pid: 1, child: 2 };
  t += step;
  let written = 0;
  for (let p = 0; p < pages; p++) {
    yield { time_ms: fmt(t), op: "access", pid: 2, addr: hex(BASE + p * 4096), rw: "r" };
    t += step;
    const due = Math.floor(((p + 1) * o.writes!) / pages);
    for (; written < due; written++) {
      yield { time_ms: fmt(t), op: "access", pid: 1, addr: hex(BASE + rng.int(pages) * 4096), rw: "w" };
      t += step;
    }
  }
  yield { time_ms: fmt(t), op: "exit", pid: 2 };
}

/**
 * filecache: pid 1 streams `stream` (file_mb) in chunk_kb reads, pass after pass, with no
 * reuse within a pass; after every hot_every of them pid 2 reads `hot` (hot_mb) whole; with
 * append_kb, pid 1 appends that much to `log` after each read. A stream larger than RAM evicts
 * its own pages (and, unless it is protected, the hot file's); the next pass refaults through
 * the shadow entries its eviction left.
 */
function* fileCache(o: Record<string, number>): Generator<Row> {
  const chunk = o.chunk_kb! * 1024;
  const size = o.file_mb! * MB;
  const step = 1 / o.rate!;
  let t = 0;
  let reads = 0;
  let logOff = 0;
  for (let p = 0; p < o.passes!; p++)
    for (let off = 0; off < size; off += chunk) {
      yield { time_ms: fmt(t), op: "fread", pid: 1, file: "stream", off, len: Math.min(chunk, size - off) };
      t += step;
      if (o.append_kb! > 0) {
        yield { time_ms: fmt(t), op: "fwrite", pid: 1, file: "log", off: logOff, len: o.append_kb! * 1024 };
        logOff += o.append_kb! * 1024;
        t += step;
      }
      if (++reads % o.hot_every! === 0) {
        yield { time_ms: fmt(t), op: "fread", pid: 2, file: "hot", off: 0, len: o.hot_mb! * MB };
        t += step;
      }
    }
}

/**
 * malloc-trim: one process maps a heap of heap_mb and runs `ops` chunk operations on chunks
 * drawn uniformly: a free chunk is allocated and written page by page (a fault for each page
 * not present: first use, or after MADV_DONTNEED or a dropped MADV_FREE page; a write to a
 * lazyfree page cancels the free); a chunk in use is trimmed with `madvise` FREE (share
 * free_ratio) or DONTNEED, as glibc's free/malloc_trim and jemalloc/tcmalloc's purging do.
 */
function* mallocTrim(o: Record<string, number>, rng: Rng): Generator<Row> {
  const chunkPages = o.chunk_kb! / 4;
  const nChunks = Math.floor((o.heap_mb! * 1024) / o.chunk_kb!);
  const used = new Uint8Array(nChunks);
  const step = 1 / o.rate!;
  let t = 0;
  yield { time_ms: 0, op: "mmap", pid: 1, addr: hex(BASE), len: nChunks * chunkPages * 4096 };
  for (let k = 0; k < o.ops!; k++) {
    const c = rng.int(nChunks);
    const addr = BASE + c * chunkPages * 4096;
    if (used[c]) {
      const advice = rng.next() < o.free_ratio! ? "free" : "dontneed";
      yield { time_ms: fmt(t), op: "madvise", pid: 1, addr: hex(addr), len: chunkPages * 4096, advice };
      used[c] = 0;
      t += step;
    } else {
      for (let p = 0; p < chunkPages; p++) {
        yield { time_ms: fmt(t), op: "access", pid: 1, addr: hex(addr + p * 4096), rw: "w" };
        t += step;
      }
      used[c] = 1;
    }
  }
}

/** "an integer from 1 to 33554432", "a number > 0 and <= 1000000000", as the range says */
export function rangeText(r: KnobRange): string {
  const lo = r.above ? `> ${r.min}` : r.int ? `from ${r.min}` : `>= ${r.min}`;
  const hi = r.int && !r.above ? `to ${r.max}` : `<= ${r.max}`;
  return `${r.int ? "an integer" : "a number"} ${lo} ${r.above || !r.int ? "and " : ""}${hi}`;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * The knobs of generator `spec`, from their command-line text (`raw(name)`, undefined for the
 * default), each checked against its range, then together (`check`) and for the trace's end
 * (at most MAX_END_MS). Throws UsageError naming the knob as `name` gives it (the command
 * line's `--hot-mb` by default; the library's `knob hot_mb`) and its range.
 */
export function knobValues(
  spec: GeneratorSpec,
  raw: (knob: string) => string | undefined,
  name: (knob: string) => string = (k) => `--${k.replace(/_/g, "-")}`,
): Record<string, number> {
  const o: Record<string, number> = {};
  for (const [k, [def, , range]] of Object.entries(spec.options)) {
    const text = raw(k);
    const v = text === undefined ? def : NUMBER.test(text.trim()) ? Number(text) : NaN;
    const ok = Number.isFinite(v) && (range.above ? v > range.min : v >= range.min) && v <= range.max && (!range.int || Number.isInteger(v));
    if (!ok) throw new UsageError(`${name(k)}: expected ${rangeText(range)}, got ${JSON.stringify(text !== undefined && text.length > 40 ? text.slice(0, 40) + "..." : text)}`);
    o[k] = v;
  }
  const bad = spec.check?.(o);
  if (bad) throw new UsageError(bad);
  const end = spec.endMs(o);
  if (!(end <= MAX_END_MS))
    throw new UsageError(`${spec.kind}: these knobs end the trace at ${end} ms, beyond ${MAX_END_MS} ms (about 31 years): raise --rate or lower the counts`);
  return o;
}

/** The CSV text of a row (the fixed header's columns, then `extra`). */
export function csvLine(r: Row, extra: readonly string[] = []): string {
  const cols = extra.length ? [...COLUMNS, ...extra] : COLUMNS;
  return cols.map((c) => (r[c] === undefined ? "" : String(r[c]))).join(",");
}

/** The NDJSON text of a row (keys in the header's order, then `extra`). */
export function ndjsonLine(r: Row, extra: readonly string[] = []): string {
  const o: Row = {};
  for (const c of COLUMNS) if (r[c] !== undefined) o[c] = r[c]!;
  for (const c of extra) if (r[c] !== undefined) o[c] = r[c]!;
  return JSON.stringify(o);
}
