/**
 * Trace format v1 (SPEC §2) as the engine sees it: columnar batches of events in typed
 * arrays, so a reader allocates nothing per event. Absent numbers are -1; strings (cg, id,
 * key, value) are indices into the batch's `strs`, -1 when absent.
 */

export const OPS = ["access", "mmap", "munmap", "exit", "alloc", "free", "set", "read", "compact", "madvise", "mlock", "munlock", "fork", "fread", "fwrite", "fsync", "ftruncate", "fdelete"] as const;
export type OpName = (typeof OPS)[number];
export const OP_ACCESS = 0;
export const OP_MMAP = 1;
export const OP_MUNMAP = 2;
export const OP_EXIT = 3;
export const OP_ALLOC = 4;
export const OP_FREE = 5;
export const OP_SET = 6;
export const OP_READ = 7;
export const OP_COMPACT = 8;
export const OP_MADVISE = 9;
export const OP_MLOCK = 10;
export const OP_MUNLOCK = 11;
export const OP_FORK = 12;
/** buffered I/O through the page cache (SPEC §2 [next]; src/mm/pagecache.ts) */
export const OP_FREAD = 13;
export const OP_FWRITE = 14;
export const OP_FSYNC = 15;
export const OP_FTRUNCATE = 16;
export const OP_FDELETE = 17;

/**
 * The latest time a run can reach, ms (2^52 ms, about 142,000 years): a trace's time_ms,
 * --until, --drain, --interval and the last event's time + --drain stay below it, so every
 * timer's due time (a daemon's period past the end included) is an exact integer-capable
 * double below 2^53, with headroom for fractions (above 2^52 a double cannot hold .5).
 */
export const MAX_TIME_MS = 2 ** 52;

export const COLUMNS = [
  "time_ms", "op", "pid", "addr", "len", "rw", "node", "kind", "thp", "cg", "id", "order", "mt", "key", "value", "gfp", "advice", "cpu", "child", "file", "off",
] as const;
export type ColumnName = (typeof COLUMNS)[number];
export const C_TIME = 0;
export const C_OP = 1;
export const C_PID = 2;
export const C_ADDR = 3;
export const C_LEN = 4;
export const C_RW = 5;
export const C_NODE = 6;
export const C_KIND = 7;
export const C_THP = 8;
export const C_CG = 9;
export const C_ID = 10;
export const C_ORDER = 11;
export const C_MT = 12;
export const C_KEY = 13;
export const C_VALUE = 14;
export const C_GFP = 15;
export const C_ADVICE = 16;
export const C_CPU = 17;
export const C_CHILD = 18;
/** a file's name (fread, fwrite, fsync, ftruncate, fdelete, mmap of kind=file) */
export const C_FILE = 19;
/** a byte offset in the file */
export const C_OFF = 20;
/** the largest `cpu` a trace may name (the machine decides which exist) */
export const MAX_TRACE_CPU = 32767;
export const NR_COLUMNS = COLUMNS.length;

export const MT_NAMES = ["unmovable", "movable", "reclaimable"] as const;
/** the `gfp` column's values (SPEC §2), by their index in EventBatch.gfp; 0 (kernel) is the default */
export const GFP_NAMES = ["kernel", "dma32", "dma", "highuser_movable", "atomic"] as const;
/**
 * the `advice` column's values (SPEC §2: madvise's MADV_* in lower case), by their index in
 * EventBatch.advice less one; 0 there means absent
 */
export const ADVICE_NAMES = ["dontneed", "free", "cold", "pageout", "willneed", "hugepage", "nohugepage", "collapse"] as const;
export const MADV_DONTNEED = 1;
export const MADV_FREE = 2;
export const MADV_COLD = 3;
export const MADV_PAGEOUT = 4;
export const MADV_WILLNEED = 5;
export const MADV_HUGEPAGE = 6;
export const MADV_NOHUGEPAGE = 7;
export const MADV_COLLAPSE = 8;

export const BATCH_SIZE = 4096;

/** Byte offset of each column in a batch's one ArrayBuffer (8-byte columns first: aligned). */
const LAYOUT = (() => {
  const cols: [string, number][] = [
    ["time", 8], ["pid", 8], ["addr", 8], ["len", 8], ["line", 8], ["child", 8], ["off", 8],
    ["node", 4], ["cpu", 4], ["cg", 4], ["id", 4], ["key", 4], ["value", 4], ["fname", 4],
    ["op", 1], ["write", 1], ["file", 1], ["thp", 1], ["order", 1], ["mt", 1], ["gfp", 1], ["advice", 1],
  ];
  const at: Record<string, number> = {};
  let off = 0;
  for (const [name, size] of cols) {
    at[name] = off;
    off += size * BATCH_SIZE;
  }
  return { at, bytes: off, names: cols.map(([name]) => name) };
})();

/**
 * Each optional column's C_* id, the EventBatch array that holds it and its default (absent):
 * what reset() fills and clearSlot() writes.
 */
const COLUMN_DEFAULTS: readonly (readonly [number, "pid" | "addr" | "len" | "write" | "node" | "cpu" | "child" | "file" | "thp" | "cg" | "id" | "order" | "mt" | "gfp" | "advice" | "key" | "value" | "fname" | "off", number])[] = [
  [C_PID, "pid", -1],
  [C_ADDR, "addr", -1],
  [C_LEN, "len", 4096],
  [C_RW, "write", 0],
  [C_NODE, "node", -1],
  [C_CPU, "cpu", -1],
  [C_CHILD, "child", -1],
  [C_KIND, "file", 0],
  [C_THP, "thp", 0],
  [C_CG, "cg", -1],
  [C_ID, "id", -1],
  [C_ORDER, "order", 0],
  [C_MT, "mt", 0],
  [C_GFP, "gfp", 0],
  [C_ADVICE, "advice", 0],
  [C_KEY, "key", -1],
  [C_VALUE, "value", -1],
  [C_FILE, "fname", -1],
  [C_OFF, "off", 0],
];

/** The columns that hold an index into a batch's strs (-1: absent). */
export const STRING_COLUMNS = ["cg", "id", "key", "value", "fname"] as const;

/** COLUMN_DEFAULTS by C_* id (time_ms and op have none) */
const DEFAULT_OF = (() => {
  const by: (typeof COLUMN_DEFAULTS)[number][] = [];
  for (const d of COLUMN_DEFAULTS) by[d[0]] = d;
  return by;
})();

/**
 * A batch of events, its columns laid out in one ArrayBuffer so that a batch can move between
 * threads whole. Readers reuse one batch: consume it before asking for the next.
 */
export class EventBatch {
  static readonly BYTES = LAYOUT.bytes;
  n = 0;
  buffer: ArrayBufferLike;
  time!: Float64Array;
  op!: Uint8Array;
  pid!: Float64Array;
  addr!: Float64Array;
  /** bytes (default 4096) */
  len!: Float64Array;
  /** 1 = write */
  write!: Uint8Array;
  node!: Int32Array;
  /** the CPU an access or alloc runs on (-1: its node's first) */
  cpu!: Int32Array;
  /** fork: the new process's pid (-1 absent) */
  child!: Float64Array;
  /** 1 = file */
  file!: Uint8Array;
  thp!: Uint8Array;
  cg!: Int32Array;
  id!: Int32Array;
  order!: Int8Array;
  /** 0 unmovable, 1 movable, 2 reclaimable (the kernel's numbering) */
  mt!: Uint8Array;
  /** the alloc's gfp, an index into GFP_NAMES (0 kernel) */
  gfp!: Uint8Array;
  /** a madvise's advice: 1 + its index in ADVICE_NAMES (MADV_DONTNEED...), 0 absent */
  advice!: Uint8Array;
  key!: Int32Array;
  value!: Int32Array;
  /** the `file` column: a file's name, an index into strs (-1 absent) */
  fname!: Int32Array;
  /** the `off` column: a byte offset in the file (default 0) */
  off!: Float64Array;
  /** source line of each event, for `file:line` errors */
  line!: Float64Array;
  strs: string[] = [];
  /**
   * A bit (1 << C_*) per column a reader of this batch has written a value other than the
   * default in, since it was made (kept across reset and swap: the buffers a reader swaps in
   * were filled by it): reset() fills only these. A reader that writes columns without
   * saying so here must leave them all set (the default, ~0).
   */
  written = ~0;

  /** A fresh batch of defaults, or a view of a batch's buffer received from another thread. */
  constructor(buffer?: ArrayBufferLike, n = 0, strs: string[] = []) {
    this.buffer = buffer ?? new ArrayBuffer(LAYOUT.bytes);
    this.bind();
    this.n = n;
    this.strs = strs;
    if (!buffer) this.fillDefaults(~0);
  }

  /** (Re)creates the column views over this.buffer. */
  private bind(): void {
    const b = this.buffer;
    const at = LAYOUT.at;
    this.time = new Float64Array(b, at.time, BATCH_SIZE);
    this.pid = new Float64Array(b, at.pid, BATCH_SIZE);
    this.addr = new Float64Array(b, at.addr, BATCH_SIZE);
    this.len = new Float64Array(b, at.len, BATCH_SIZE);
    this.line = new Float64Array(b, at.line, BATCH_SIZE);
    this.off = new Float64Array(b, at.off, BATCH_SIZE);
    this.fname = new Int32Array(b, at.fname, BATCH_SIZE);
    this.node = new Int32Array(b, at.node, BATCH_SIZE);
    this.cpu = new Int32Array(b, at.cpu, BATCH_SIZE);
    this.child = new Float64Array(b, at.child, BATCH_SIZE);
    this.cg = new Int32Array(b, at.cg, BATCH_SIZE);
    this.id = new Int32Array(b, at.id, BATCH_SIZE);
    this.key = new Int32Array(b, at.key, BATCH_SIZE);
    this.value = new Int32Array(b, at.value, BATCH_SIZE);
    this.op = new Uint8Array(b, at.op, BATCH_SIZE);
    this.write = new Uint8Array(b, at.write, BATCH_SIZE);
    this.file = new Uint8Array(b, at.file, BATCH_SIZE);
    this.thp = new Uint8Array(b, at.thp, BATCH_SIZE);
    this.order = new Int8Array(b, at.order, BATCH_SIZE);
    this.mt = new Uint8Array(b, at.mt, BATCH_SIZE);
    this.gfp = new Uint8Array(b, at.gfp, BATCH_SIZE);
    this.advice = new Uint8Array(b, at.advice, BATCH_SIZE);
  }

  /**
   * Hands this batch's buffer (its n events, strs aside) to the caller, to be transferred to
   * another thread, and goes on in `next` (a buffer of EventBatch.BYTES this batch, or one of
   * the same reader, held before: its columns hold what reset() leaves there). The caller
   * resets the batch before refilling it, as after a yield.
   */
  swap(next: ArrayBufferLike): ArrayBufferLike {
    const old = this.buffer;
    this.buffer = next;
    this.bind();
    return old;
  }

  get full(): boolean {
    return this.n === BATCH_SIZE;
  }

  /**
   * Empties the batch; every slot holds the defaults again, so readers write only present
   * fields: the columns `written` names are filled again (the others were never changed).
   */
  reset(): void {
    this.n = 0;
    this.strs.length = 0;
    this.fillDefaults(this.written);
  }

  /**
   * Copies every column of row `from` of `src` into row `to` of this batch. From another batch,
   * the strings its string columns (STRING_COLUMNS) name are appended to this batch's strs and
   * the indexes remapped; within one batch the indexes stay as they are.
   */
  copyRow(src: EventBatch, from: number, to: number): void {
    for (const c of LAYOUT.names) (this as unknown as Record<string, number[]>)[c]![to] = (src as unknown as Record<string, number[]>)[c]![from]!;
    if (src === this) return;
    for (const col of STRING_COLUMNS) {
      const k = src[col][from]!;
      if (k >= 0) this[col][to] = this.strs.push(src.strs[k]!) - 1;
    }
  }

  /** Slot i back to the defaults (what reset() writes in every slot). */
  clearSlot(i: number): void {
    for (const [, col, v] of COLUMN_DEFAULTS) this[col][i] = v;
  }

  /**
   * Slots [from, to) of optional column c (a C_* other than time_ms and op) back to its default:
   * what a record without the column has (the .wtrace decoder's absent columns).
   */
  fillDefaultRange(c: number, from: number, to: number): void {
    const d = DEFAULT_OF[c]!;
    this[d[1]].fill(d[2], from, to);
  }

  /** Every slot of the columns in `mask` (bits 1 << C_*) back to the defaults. */
  private fillDefaults(mask: number): void {
    for (const [c, col, v] of COLUMN_DEFAULTS) if (mask & (1 << c)) this[col].fill(v);
  }

}

/**
 * What a trace file carries besides its events: a JSON document's own machine and
 * tunables, or the machine a CSV (`# wsim: machine=NAME`) or NDJSON (`{"machine": ...}`
 * first line) trace names.
 */
export interface TraceHeader {
  /** a machine object, or a string: a preset name or a machine file's path relative to the trace */
  machine?: unknown;
  /** the line that names the machine (CSV directive, NDJSON header line) */
  machineAt?: number;
  /** key -> value, with the line each was written on */
  tunables?: { key: string; value: string | number; line: number }[];
  /** a JSON document's `"plugins"`: plug-in module paths relative to the trace's directory */
  plugins?: string[];
  /** line resolver for the document's machine paths */
  machineLine?: (path: string) => number;
}

export interface TraceStats {
  events: number;
  firstMs: number;
  lastMs: number;
}

export type TraceFormat = "csv" | "ndjson" | "json" | "wtrace";
