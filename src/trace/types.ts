/**
 * Trace format v1 (SPEC §2) as the engine sees it: columnar batches of events in typed
 * arrays, so a reader allocates nothing per event. Absent numbers are -1; strings (cg, id,
 * key, value) are indices into the batch's `strs`, -1 when absent.
 */

export const OPS = ["access", "mmap", "munmap", "exit", "alloc", "free", "set", "read", "compact"] as const;
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

export const COLUMNS = [
  "time_ms", "op", "pid", "addr", "len", "rw", "node", "kind", "thp", "cg", "id", "order", "mt", "key", "value",
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
export const NR_COLUMNS = COLUMNS.length;

export const MT_NAMES = ["unmovable", "movable", "reclaimable"] as const;

export const BATCH_SIZE = 4096;

/** A batch of events. Readers reuse one batch: consume it before asking for the next. */
export class EventBatch {
  n = 0;
  readonly time = new Float64Array(BATCH_SIZE);
  readonly op = new Uint8Array(BATCH_SIZE);
  readonly pid = new Float64Array(BATCH_SIZE);
  readonly addr = new Float64Array(BATCH_SIZE);
  /** bytes (default 4096) */
  readonly len = new Float64Array(BATCH_SIZE);
  /** 1 = write */
  readonly write = new Uint8Array(BATCH_SIZE);
  readonly node = new Int32Array(BATCH_SIZE);
  /** 1 = file */
  readonly file = new Uint8Array(BATCH_SIZE);
  readonly thp = new Uint8Array(BATCH_SIZE);
  readonly cg = new Int32Array(BATCH_SIZE);
  readonly id = new Int32Array(BATCH_SIZE);
  readonly order = new Int8Array(BATCH_SIZE);
  /** 0 unmovable, 1 movable, 2 reclaimable (the kernel's numbering) */
  readonly mt = new Uint8Array(BATCH_SIZE);
  readonly key = new Int32Array(BATCH_SIZE);
  readonly value = new Int32Array(BATCH_SIZE);
  /** source line of each event, for `file:line` errors */
  readonly line = new Float64Array(BATCH_SIZE);
  strs: string[] = [];

  get full(): boolean {
    return this.n === BATCH_SIZE;
  }

  constructor() {
    this.fillDefaults();
  }

  /** Empties the batch; every slot holds the defaults again, so readers write only present fields. */
  reset(): void {
    this.n = 0;
    this.strs.length = 0;
    this.fillDefaults();
  }

  private fillDefaults(): void {
    this.pid.fill(-1);
    this.addr.fill(-1);
    this.len.fill(4096);
    this.write.fill(0);
    this.node.fill(-1);
    this.file.fill(0);
    this.thp.fill(0);
    this.cg.fill(-1);
    this.id.fill(-1);
    this.order.fill(0);
    this.mt.fill(0);
    this.key.fill(-1);
    this.value.fill(-1);
  }
}

/** What a trace file carries besides its events (a JSON document's own machine and tunables). */
export interface TraceHeader {
  machine?: unknown;
  /** key -> value, with the line each was written on */
  tunables?: { key: string; value: string | number; line: number }[];
  /** line resolver for the document's machine paths */
  machineLine?: (path: string) => number;
}

export interface TraceStats {
  events: number;
  firstMs: number;
  lastMs: number;
}

export type TraceFormat = "csv" | "ndjson" | "json";
