/**
 * `.wtrace`: wsim's binary trace format (README: "The binary trace format"). A trace replayed
 * many times (sweeps, CI) skips parsing: the reader decodes fixed-width little-endian records
 * column by column straight into the EventBatch the engine consumes, nothing allocated per
 * event. Streamable both ways: the string table and the column set come in blocks as they
 * are needed, so a writer never seeks back and a reader holds one block at a time.
 *
 *   header  magic "\x89WTRACE\n" (8 bytes), u16 version (1), u16 flags (0),
 *           u32 L, L bytes of UTF-8 JSON: {"machine"?: NAME | {...}, "tunables"?: [[key, value], ...]}
 *   blocks  u8 kind, then
 *           'S' strings  u32 count, u8 reset (1: the table starts empty again), count x (u32 bytes, UTF-8)
 *           'R' records  u32 column set (bit c = COLUMNS[c]; time_ms and op always), u32 n (1..4096),
 *                        n records, each the set's fields in COLUMNS order (widths: FIELD_BYTES)
 *           'E' end      f64 the number of records in the file; nothing follows
 *
 * Fields: time_ms f64; op u8 (OPS index); pid, addr, len f64 (integers; pid and addr -1 when
 * absent, len 4096); rw u8 (1 = w); node i16 (-1 absent); kind u8 (1 = file); thp u8;
 * cg, id, key, value i32 (index into the string table, -1 absent); order u8; mt u8 (MT_NAMES); gfp u8 (GFP_NAMES);
 * advice u8 (0 absent, else 1 + its index in ADVICE_NAMES).
 * cpu i16 (-1 absent); child f64 (fork: the new pid, -1 absent); file i32 (a string, -1 absent);
 * off f64 (an integer byte offset, default 0).
 * A column left out of a block's set takes its default (EventBatch.reset) in every record.
 * The whole file may be gzipped (sniffed by its magic, as for every trace).
 */
import { DataError } from "../errors.js";
import { isCgPath } from "./fields.js";
import type { Row } from "../generate/generators.js";
import {
  BATCH_SIZE, COLUMNS, C_ADDR, C_CG, C_CPU, C_GFP, MAX_TRACE_CPU, C_ID, C_KEY, C_KIND, C_LEN, C_MT, C_NODE, C_ORDER, C_PID, C_RW, C_THP, C_VALUE, C_ADVICE, C_CHILD, C_FILE, C_OFF, ADVICE_NAMES, GFP_NAMES,
  EventBatch, MAX_TIME_MS, MT_NAMES, NR_COLUMNS, OPS, OP_ACCESS, OP_ALLOC, OP_EXIT, OP_FREE, OP_MMAP, OP_MUNMAP, OP_READ, OP_SET,
  OP_MADVISE, OP_MLOCK, OP_MUNLOCK, OP_FORK, OP_FREAD, OP_FWRITE, OP_FSYNC, OP_FTRUNCATE, OP_FDELETE, type TraceHeader,
} from "./types.js";

/** the first 8 bytes of every .wtrace file */
export const WTRACE_MAGIC = Buffer.from([0x89, 0x57, 0x54, 0x52, 0x41, 0x43, 0x45, 0x0a]);
export const WTRACE_VERSION = 1;
/** bytes of each column's field in a record, in COLUMNS order */
export const FIELD_BYTES = [8, 1, 8, 8, 8, 1, 2, 1, 1, 4, 4, 1, 1, 4, 4, 1, 1, 2, 8, 4, 8] as const;
const BLOCK_STRINGS = 0x53;
const BLOCK_RECORDS = 0x52;
const BLOCK_END = 0x45;
/** the writer starts a fresh string table past this many strings (bounds both sides' memory) */
export const STRING_TABLE_LIMIT = 1 << 16;
const ALL_COLUMNS = (1 << NR_COLUMNS) - 1;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** True when `first` starts with the .wtrace magic. */
export function isWtrace(first: Buffer): boolean {
  return first.length >= WTRACE_MAGIC.length && first.subarray(0, WTRACE_MAGIC.length).equals(WTRACE_MAGIC);
}

/** Byte width of a record with column set `mask`. */
export function recordWidth(mask: number): number {
  let w = 0;
  for (let c = 0; c < NR_COLUMNS; c++) if (mask & (1 << c)) w += FIELD_BYTES[c]!;
  return w;
}

/** Bytes of a stream, consumed in order, with as many held as a block needs. */
class ByteReader {
  buf: Buffer = Buffer.alloc(0);
  dv = new DataView(this.buf.buffer, 0, 0);
  pos = 0;
  /** file offset of buf[0] */
  base = 0;
  private done = false;
  constructor(private readonly it: AsyncIterator<Buffer>) {}

  /**
   * bytes held over from one chunk to the next, in a buffer of our own used again and again
   * (a fresh buffer per chunk, Buffer.concat, cost more CPU on this VM than decoding: new
   * memory is slow to touch)
   */
  private own = Buffer.allocUnsafe(0);
  /**
   * the part of the last chunk read that is not in buf yet: when a request straddles two
   * chunks, only the bytes it needs are copied into `own` after those held over, and the
   * reader goes on in the chunk itself (not every chunk copied whole)
   */
  private pending: Buffer | null = null;

  /** At least n bytes at pos; false when the data ends first. */
  async fill(n: number): Promise<boolean> {
    while (this.buf.length - this.pos < n) {
      // what is left goes to the start of `own` before the next read: a source may read
      // into the buffer `buf` is
      const restLen = this.buf.length - this.pos;
      if (this.pending === null && this.done) return false;
      if (restLen) {
        if (this.buf.buffer === this.own.buffer) this.own.copyWithin(0, this.pos, this.buf.length);
        else {
          if (this.own.length < restLen) this.own = Buffer.allocUnsafe(Math.max(2 * restLen, 1 << 21));
          this.buf.copy(this.own, 0, this.pos);
        }
      }
      this.base += this.pos;
      this.pos = 0;
      let c = this.pending;
      this.pending = null;
      if (c === null) {
        const r = await this.it.next();
        if (r.done) {
          this.done = true;
          this.setBuf(this.own.subarray(0, restLen));
          return false;
        }
        c = r.value;
      }
      if (!restLen) {
        this.setBuf(c);
        continue;
      }
      const take = Math.min(c.length, n - restLen);
      if (this.own.length < restLen + take) {
        const grown = Buffer.allocUnsafe(Math.max(2 * (restLen + take), 1 << 21));
        this.own.copy(grown, 0, 0, restLen);
        this.own = grown;
      }
      c.copy(this.own, restLen, 0, take);
      if (take < c.length) this.pending = c.subarray(take);
      this.setBuf(this.own.subarray(0, restLen + take));
    }
    return true;
  }

  private setBuf(b: Buffer): void {
    this.buf = b;
    this.dv = new DataView(b.buffer, b.byteOffset, b.length);
  }

  /** true when nothing is left */
  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }

  get offset(): number {
    return this.base + this.pos;
  }
}

/** The header of a .wtrace file, read from its chunks; `batches` then decodes the rest. */
export async function openWtrace(chunks: AsyncIterable<Buffer>, file: string): Promise<{ header: TraceHeader; batches: () => AsyncGenerator<EventBatch> }> {
  const r = new ByteReader(chunks[Symbol.asyncIterator]());
  const bad = (what: string): never => {
    throw new DataError(file, 0, what);
  };
  if (!(await r.fill(16))) bad("truncated .wtrace header (a file cut short?)");
  if (!r.buf.subarray(r.pos, r.pos + 8).equals(WTRACE_MAGIC)) bad("not a .wtrace file (its first bytes are not the magic \\x89WTRACE\\n)");
  const version = r.dv.getUint16(r.pos + 8, true);
  if (version !== WTRACE_VERSION) bad(`.wtrace version ${version}: this wsim reads version ${WTRACE_VERSION} (convert the trace again with this wsim)`);
  if (r.dv.getUint16(r.pos + 10, true) !== 0) bad("corrupt .wtrace header: unknown flags");
  const metaLen = r.dv.getUint32(r.pos + 12, true);
  r.pos += 16;
  if (metaLen > 1 << 26) bad(`corrupt .wtrace header: ${metaLen} bytes of metadata`);
  if (!(await r.fill(metaLen))) bad("truncated .wtrace header (a file cut short?)");
  let meta: { machine?: unknown; tunables?: [string, string | number][] };
  try {
    meta = JSON.parse(r.buf.toString("utf8", r.pos, r.pos + metaLen)) as typeof meta;
  } catch (e) {
    return bad(`corrupt .wtrace header: ${(e as Error).message}`);
  }
  r.pos += metaLen;
  const header: TraceHeader = {};
  if (meta === null || typeof meta !== "object" || Array.isArray(meta)) bad("corrupt .wtrace header: the metadata is not an object");
  if (meta.machine !== undefined) {
    header.machine = meta.machine;
    header.machineAt = 0;
  }
  if (meta.tunables !== undefined) {
    if (!Array.isArray(meta.tunables) || !meta.tunables.every((t) => Array.isArray(t) && t.length === 2 && typeof t[0] === "string" && (typeof t[1] === "string" || typeof t[1] === "number")))
      bad("corrupt .wtrace header: tunables must be [key, value] pairs");
    header.tunables = meta.tunables.map(([key, value]) => ({ key, value, line: 0 }));
  }
  let used = false;
  return {
    header,
    batches: () => {
      if (used) throw new Error("a trace's batches can be read once");
      used = true;
      return decode(r, file);
    },
  };
}

/** Ops' required columns as the CSV reader has them (fields.ts REQUIRED): checked on the decoded values. */
function missing(b: EventBatch, i: number): string | null {
  switch (b.op[i]) {
    case OP_ACCESS:
    case OP_MMAP:
    case OP_MUNMAP:
    case OP_MLOCK:
    case OP_MUNLOCK:
      return b.pid[i]! < 0 ? "pid" : b.addr[i]! < 0 ? "addr" : null;
    case OP_MADVISE:
      return b.pid[i]! < 0 ? "pid" : b.addr[i]! < 0 ? "addr" : b.advice[i] === 0 ? "advice" : null;
    case OP_EXIT:
      return b.pid[i]! < 0 ? "pid" : null;
    case OP_FORK:
      return b.pid[i]! < 0 ? "pid" : b.child[i]! < 0 ? "child" : null;
    case OP_ALLOC:
    case OP_FREE:
      return b.id[i]! < 0 ? "id" : null;
    case OP_SET:
      return b.key[i]! < 0 ? "key" : b.value[i]! < 0 ? "value" : null;
    case OP_READ:
      return b.key[i]! < 0 ? "key" : null;
    case OP_FREAD:
    case OP_FWRITE:
    case OP_FSYNC:
    case OP_FDELETE:
      return b.fname[i]! < 0 ? "file" : null;
    case OP_FTRUNCATE:
      return b.fname[i]! < 0 ? "file" : null;
  }
  return null;
}

async function* decode(r: ByteReader, file: string): AsyncGenerator<EventBatch> {
  const b = new EventBatch();
  let table: string[] = [];
  b.strs = table;
  let records = 0;
  let lastTime = 0;
  /** the error for record `k` (1-based, of the file) */
  const badRecord = (k: number, what: string): never => {
    throw new DataError(file, 0, `record ${k}: ${what}`);
  };
  const bad = (what: string): never => {
    throw new DataError(file, 0, `byte ${r.offset}: ${what}`);
  };
  const truncated = () => bad(`cut short after record ${records} (a .wtrace ends with its end block)`);
  for (;;) {
    if (r.buf.length - r.pos < 1 && !(await r.fill(1))) truncated();
    const kind = r.buf[r.pos]!;
    if (kind === BLOCK_END) {
      if (!(await r.fill(9))) truncated();
      const total = r.dv.getFloat64(r.pos + 1, true);
      if (total !== records) bad(`corrupt end block: it counts ${total} records, the file holds ${records}`);
      r.pos += 9;
      if (!(await r.atEnd())) bad("data after the end block");
      if (b.n) yield b;
      return;
    }
    if (kind === BLOCK_STRINGS) {
      if (!(await r.fill(6))) truncated();
      const count = r.dv.getUint32(r.pos + 1, true);
      const reset = r.buf[r.pos + 5]!;
      if (reset > 1) bad("corrupt string block: reset flag not 0 or 1");
      r.pos += 6;
      if (reset) {
        // records already in the batch index the old table
        if (b.n) {
          yield b;
          b.n = 0;
        }
        table = [];
        b.strs = table;
      }
      if (count > 1 << 24) bad(`corrupt string block: ${count} strings`);
      for (let k = 0; k < count; k++) {
        // awaited only when the bytes are not there yet (an await per string was most of the time)
        if (r.buf.length - r.pos < 4 && !(await r.fill(4))) truncated();
        const len = r.dv.getUint32(r.pos, true);
        if (len > 1 << 24) bad(`corrupt string block: a string of ${len} bytes`);
        if (r.buf.length - r.pos < 4 + len && !(await r.fill(4 + len))) truncated();
        table.push(r.buf.toString("utf8", r.pos + 4, r.pos + 4 + len));
        r.pos += 4 + len;
      }
      continue;
    }
    if (kind !== BLOCK_RECORDS) bad(`corrupt block kind 0x${kind.toString(16).padStart(2, "0")} (expected S, R or E)`);
    if (r.buf.length - r.pos < 9 && !(await r.fill(9))) truncated();
    const mask = r.dv.getUint32(r.pos + 1, true);
    const n = r.dv.getUint32(r.pos + 5, true);
    if ((mask & ~ALL_COLUMNS) !== 0 || (mask & 3) !== 3) bad(`corrupt record block: column set 0x${mask.toString(16)}`);
    if (n < 1 || n > BATCH_SIZE) bad(`corrupt record block: ${n} records (1..${BATCH_SIZE})`);
    const w = recordWidth(mask);
    r.pos += 9;
    if (r.buf.length - r.pos < n * w && !(await r.fill(n * w))) badRecord(records + Math.floor((r.buf.length - r.pos) / w) + 1, "cut short: the file ends inside it");
    if (b.n + n > BATCH_SIZE) {
      yield b;
      b.n = 0;
    }
    let t = mask === ACCESS_MASK ? accessBlock(r.dv, r.pos, n, b, b.n, lastTime, records + 1) : -1;
    if (t < 0) {
      decodeBlock(r.dv, r.pos, mask, w, n, b, b.n, table.length, records + 1, badRecord);
      t = checkRecords(b, b.n, n, lastTime, records + 1, badRecord);
    }
    lastTime = t;
    r.pos += n * w;
    b.n += n;
    records += n;
  }
}

/**
 * The record-level checks of batch slots [o, o+n), the records numbered from `first`: time
 * in order (from `lastTime`, returned updated), the columns each op needs (missing); sets
 * each slot's line to its record number. A plain function, not in the generator decode, so
 * that V8 optimises the loop (in the generator it cost about a third of reading a .wtrace).
 */
function checkRecords(b: EventBatch, o: number, n: number, lastTime: number, first: number, badRecord: (k: number, what: string) => never): number {
  const time = b.time;
  const op = b.op;
  const pid = b.pid;
  const addr = b.addr;
  const line = b.line;
  for (let i = o; i < o + n; i++) {
    const t = time[i]!;
    if (t < lastTime) badRecord(first + i - o, `time_ms goes back from ${lastTime} to ${t}`);
    lastTime = t;
    // an access with its pid and addr needs nothing more (missing's first case, the common record)
    if (op[i] !== OP_ACCESS || pid[i]! < 0 || addr[i]! < 0) {
      const m = missing(b, i);
      if (m !== null) badRecord(first + i - o, `${OPS[op[i]!]} needs ${m}`);
    }
    line[i] = first + i - o;
  }
  return lastTime;
}

/** the error callback of decode: record k (1-based, of the file) is bad */
type BadRecord = (k: number, what: string) => never;

/**
 * Decodes n records of width w at dv[pos..] into batch slots [o, o+n), column by column,
 * checking every value's range; a column not in `mask` is filled with its default. `first` is
 * the file's number of the first record, for errors. Each column's loop is a small function
 * of its own (one array type, no per-record branch on the column): V8 optimises each soon and
 * monomorphically (one loop over every kind cost ~2x).
 */
function decodeBlock(dv: DataView, pos: number, mask: number, w: number, n: number, b: EventBatch, o: number, nstr: number, first: number, badRecord: BadRecord): void {
  let off = 0;
  const end = o + n;
  for (let c = 0; c < NR_COLUMNS; c++) {
    const p = pos + off;
    if ((mask & (1 << c)) === 0) {
      b.fillDefaultRange(c, o, end);
      continue;
    }
    off += FIELD_BYTES[c]!;
    switch (c) {
      case 0:
        decTime(dv, p, w, b.time, o, end, first, badRecord);
        break;
      case 1:
        decOp(dv, p, w, b.op, o, end, first, badRecord);
        break;
      case C_PID:
      case C_CHILD:
      case C_ADDR:
      case C_OFF:
        decInt(dv, p, w, c === C_PID ? b.pid : c === C_CHILD ? b.child : c === C_ADDR ? b.addr : b.off, o, end, c === C_PID || c === C_CHILD ? 4294967295 : MAX_SAFE, c !== C_OFF, c, first, badRecord);
        break;
      case C_LEN:
        decLen(dv, p, w, b.len, b.op, o, end, first, badRecord);
        break;
      case C_NODE:
      case C_CPU:
        decI16(dv, p, w, c === C_NODE ? b.node : b.cpu, o, end, c === C_NODE ? 1023 : MAX_TRACE_CPU, c, first, badRecord);
        break;
      case C_RW:
      case C_KIND:
      case C_THP:
      case C_ORDER:
      case C_MT:
      case C_GFP:
      case C_ADVICE: {
        const a = c === C_RW ? b.write : c === C_KIND ? b.file : c === C_THP ? b.thp : c === C_ORDER ? b.order : c === C_MT ? b.mt : c === C_GFP ? b.gfp : b.advice;
        const max = c === C_ORDER ? 10 : c === C_MT ? 2 : c === C_GFP ? GFP_NAMES.length - 1 : c === C_ADVICE ? ADVICE_NAMES.length : 1;
        decU8(dv, p, w, a, o, end, max, c, first, badRecord);
        break;
      }
      default:
        // cg, id, key, value, file: string indices
        decStr(dv, p, w, c === C_CG ? b.cg : c === C_ID ? b.id : c === C_KEY ? b.key : c === C_FILE ? b.fname : b.value, o, end, nstr, c === C_CG ? b.strs : null, c, first, badRecord);
    }
  }
}

/** the column set of a block of plain accesses (time_ms, op, pid, addr, rw): accessBlock's */
const ACCESS_MASK = (1 << 0) | (1 << 1) | (1 << C_PID) | (1 << C_ADDR) | (1 << C_RW);
/** its record: time_ms f64 at 0, op u8 at 8, pid f64 at 9, addr f64 at 17, rw u8 at 25 */
const ACCESS_WIDTH = 26;

/**
 * A block of column set ACCESS_MASK in one pass over its records, decodeBlock's and
 * checkRecords' tests folded into one per record; the columns it leaves out get their defaults.
 * Returns the last time_ms, or -1 as soon as a record is anything but an access with its pid
 * and addr, every field in range, in time order (what it wrote is then written over): the caller then decodes the block column by
 * column (decodeBlock, checkRecords), which says the first error as ever. (The common block of
 * an access trace: one pass instead of eleven loops.)
 */
function accessBlock(dv: DataView, pos: number, n: number, b: EventBatch, o: number, lastTime: number, first: number): number {
  const end = o + n;
  const time = b.time;
  const op = b.op;
  const pid = b.pid;
  const addr = b.addr;
  const write = b.write;
  const line = b.line;
  // the defaults first: code after the loop had no type feedback when V8 compiled the loop on
  // stack (OSR) in the first call, and that code then bailed out at every call's end (~250 deopts a run)
  for (let c = 2; c < NR_COLUMNS; c++) if ((ACCESS_MASK & (1 << c)) === 0) b.fillDefaultRange(c, o, end);
  for (let i = o, p = pos; i < end; i++, p += ACCESS_WIDTH) {
    const t = dv.getFloat64(p, true);
    const v = dv.getFloat64(p + 9, true);
    const a = dv.getFloat64(p + 17, true);
    const rw = dv.getUint8(p + 25);
    // time in range and order (lastTime >= 0), an access, pid and addr integers in range (not -1:
    // an access needs both); v >>> 0 === v: v an integer in 0..2^32-1
    const ok = t >= lastTime && t < MAX_TIME_MS && dv.getUint8(p + 8) === OP_ACCESS && v >>> 0 === v && a >= 0 && Number.isSafeInteger(a) && rw <= 1;
    if (!ok) return -1;
    lastTime = t;
    time[i] = t;
    op[i] = OP_ACCESS;
    pid[i] = v;
    addr[i] = a;
    write[i] = rw;
    line[i] = first + i - o;
  }
  return lastTime;
}

// Each dec* below copies its column first, then checks the copied values in a loop of its own:
// two plain loops ran ~1.5x faster than one that loads, checks and stores (V8, this VM).

/** time_ms: f64 in [0, 2^52) */
function decTime(dv: DataView, p: number, w: number, a: Float64Array, o: number, end: number, first: number, badRecord: BadRecord): void {
  for (let i = o; i < end; i++, p += w) a[i] = dv.getFloat64(p, true);
  for (let i = o; i < end; i++) {
    const v = a[i]!;
    if (!(v >= 0 && v < MAX_TIME_MS)) badRecord(first + i - o, `time_ms ${v} out of range (0 to 2^52 ms)`);
  }
}

/** op: u8, an OPS index */
function decOp(dv: DataView, p: number, w: number, a: Uint8Array, o: number, end: number, first: number, badRecord: BadRecord): void {
  for (let i = o; i < end; i++, p += w) a[i] = dv.getUint8(p);
  for (let i = o; i < end; i++) {
    const v = a[i]!;
    if (v >= OPS.length) badRecord(first + i - o, `unknown op ${v} (0..${OPS.length - 1})`);
  }
}

/** pid, child, addr, off: an f64 integer in 0..max, or -1 when `minus1` */
function decInt(dv: DataView, p: number, w: number, a: Float64Array, o: number, end: number, max: number, minus1: boolean, c: number, first: number, badRecord: BadRecord): void {
  for (let i = o; i < end; i++, p += w) a[i] = dv.getFloat64(p, true);
  for (let i = o; i < end; i++) {
    const v = a[i]!;
    if (!((v >= 0 && v <= max && Math.floor(v) === v) || (v === -1 && minus1))) badRecord(first + i - o, `${COLUMNS[c]} ${v} out of range`);
  }
}

/** len: an f64 integer, at least 1 (0 only for ftruncate, as the text readers take it) */
function decLen(dv: DataView, p: number, w: number, a: Float64Array, op: Uint8Array, o: number, end: number, first: number, badRecord: BadRecord): void {
  for (let i = o; i < end; i++, p += w) a[i] = dv.getFloat64(p, true);
  for (let i = o; i < end; i++) {
    const v = a[i]!;
    const min = op[i] === OP_FTRUNCATE ? 0 : 1;
    if (!(v >= min && v <= MAX_SAFE && Math.floor(v) === v)) badRecord(first + i - o, `${COLUMNS[C_LEN]} ${v} out of range`);
  }
}

/** node, cpu: i16 in -1..max */
function decI16(dv: DataView, p: number, w: number, a: Int32Array, o: number, end: number, max: number, c: number, first: number, badRecord: BadRecord): void {
  for (let i = o; i < end; i++, p += w) a[i] = dv.getInt16(p, true);
  for (let i = o; i < end; i++) {
    const v = a[i]!;
    if (v < -1 || v > max) badRecord(first + i - o, `${COLUMNS[c]} ${v} out of range`);
  }
}

/**
 * rw, kind, thp, order, mt, gfp, advice: u8 in 0..max. (order's column is an Int8Array: a byte
 * above 127 is negative there, so the check is 0..max on the stored value, and the message
 * reads the byte again.)
 */
function decU8(dv: DataView, p: number, w: number, a: Uint8Array | Int8Array, o: number, end: number, max: number, c: number, first: number, badRecord: BadRecord): void {
  const p0 = p;
  for (let i = o; i < end; i++, p += w) a[i] = dv.getUint8(p);
  for (let i = o; i < end; i++) {
    const v = a[i]!;
    if (v < 0 || v > max) badRecord(first + i - o, `${COLUMNS[c]} ${dv.getUint8(p0 + (i - o) * w)} out of range (0..${max})`);
  }
}

/** cg, id, key, value, file: i32 indices into the string table (-1 absent); a cg's string a memcg path (`strs` given) */
function decStr(dv: DataView, p: number, w: number, a: Int32Array, o: number, end: number, nstr: number, strs: string[] | null, c: number, first: number, badRecord: BadRecord): void {
  for (let i = o; i < end; i++, p += w) a[i] = dv.getInt32(p, true);
  for (let i = o; i < end; i++) {
    const v = a[i]!;
    if (v < -1 || v >= nstr) badRecord(first + i - o, `${COLUMNS[c]}: string ${v} not in the table (${nstr} strings)`);
    if (strs !== null && v >= 0 && !isCgPath(strs[v]!)) badRecord(first + i - o, `cg: not a memcg path`);
  }
}

/** Where the writer's bytes go (convert/writer.ts Sink). */
export interface ByteSink {
  write(bytes: Buffer): Promise<void>;
  commit(): Promise<void>;
  abort(): void;
}

/**
 * A .wtrace being written from trace rows (`wsim convert`): rows gather into a block of up to
 * BATCH_SIZE records with the columns they use; before each block, the strings new to the
 * table. The header carries a document's machine (a name or an object) and its tunables, so
 * nothing is lost. `drain` writes what is ready; `end` writes the last block, the end block,
 * and commits.
 */
export class WtraceWriter {
  /** tunables are kept in the header, never written as set events */
  readonly setsAtMs: number | null = null;
  private out: Buffer[] = [];
  private strings = new Map<string, number>();
  private newStrings: string[] = [];
  private resetTable = false;
  private rows: Row[] = [];
  private mask = 3;
  private total = 0;

  constructor(
    private readonly sink: ByteSink,
    private readonly outName: string,
    header: { machine?: unknown; tunables?: { key: string; value: string | number }[] } = {},
  ) {
    const meta: { machine?: unknown; tunables?: [string, string | number][] } = {};
    if (header.machine !== undefined) meta.machine = header.machine;
    if (header.tunables?.length) meta.tunables = header.tunables.map((t) => [t.key, t.value]);
    const json = Buffer.from(JSON.stringify(meta), "utf8");
    const h = Buffer.alloc(16);
    WTRACE_MAGIC.copy(h, 0);
    h.writeUInt16LE(WTRACE_VERSION, 8);
    h.writeUInt16LE(0, 10);
    h.writeUInt32LE(json.length, 12);
    this.out.push(h, json);
  }

  /** a row as batchRows or an importer makes it (the row may be reused by its caller) */
  row(r: Row): void {
    if (this.strings.size >= STRING_TABLE_LIMIT) {
      this.flush();
      this.strings.clear();
      this.resetTable = true;
    }
    const k: Row = {};
    for (const c of COLUMNS) {
      const v = r[c];
      if (v === undefined) continue;
      k[c] = v;
      this.mask |= 1 << COLUMNS.indexOf(c);
      if (c === "cg" || c === "id" || c === "key" || c === "value" || c === "file") this.intern(String(v));
    }
    this.rows.push(k);
    if (this.rows.length === BATCH_SIZE) this.flush();
  }

  private intern(s: string): void {
    if (this.strings.has(s)) return;
    this.strings.set(s, this.strings.size);
    this.newStrings.push(s);
  }

  /** .wtrace has no comments: false, nothing written */
  comment(_text: string): boolean {
    return false;
  }

  /** the gathered rows as a string block (when there are new strings) and a record block */
  private flush(): void {
    if (this.newStrings.length || this.resetTable) {
      const parts = this.newStrings.map((s) => Buffer.from(s, "utf8"));
      const sb = Buffer.alloc(6 + parts.reduce((s, p) => s + 4 + p.length, 0));
      sb[0] = BLOCK_STRINGS;
      sb.writeUInt32LE(parts.length, 1);
      sb[5] = this.resetTable ? 1 : 0;
      let p = 6;
      for (const x of parts) {
        sb.writeUInt32LE(x.length, p);
        x.copy(sb, p + 4);
        p += 4 + x.length;
      }
      this.out.push(sb);
      this.newStrings = [];
      this.resetTable = false;
    }
    const n = this.rows.length;
    if (!n) return;
    const mask = this.mask;
    const w = recordWidth(mask);
    const rb = Buffer.alloc(9 + n * w);
    rb[0] = BLOCK_RECORDS;
    rb.writeUInt32LE(mask >>> 0, 1);
    rb.writeUInt32LE(n, 5);
    let p = 9;
    for (const r of this.rows) p = this.encode(rb, p, r, mask);
    this.out.push(rb);
    this.rows = [];
    this.mask = 3;
    this.total += n;
  }

  private str(v: string | number | undefined): number {
    return v === undefined ? -1 : this.strings.get(String(v))!;
  }

  private encode(b: Buffer, p: number, r: Row, mask: number): number {
    const num = (v: string | number | undefined, dflt: number): number => {
      if (v === undefined) return dflt;
      if (typeof v === "number") return v;
      return /^0x/i.test(v) ? parseInt(v.slice(2), 16) : Number(v);
    };
    for (let c = 0; c < NR_COLUMNS; c++) {
      if (!(mask & (1 << c))) continue;
      const v = r[COLUMNS[c]!];
      switch (c) {
        case 0:
          b.writeDoubleLE(num(v, 0), p);
          break;
        case 1: {
          const op = (OPS as readonly string[]).indexOf(String(v));
          if (op < 0) throw new DataError(this.outName, 0, `unknown op ${String(v)}`);
          b[p] = op;
          break;
        }
        case C_PID:
        case C_CHILD:
        case C_ADDR:
          b.writeDoubleLE(num(v, -1), p);
          break;
        case C_LEN:
          b.writeDoubleLE(num(v, 4096), p);
          break;
        case C_OFF:
          b.writeDoubleLE(num(v, 0), p);
          break;
        case C_RW:
          b[p] = v === "w" ? 1 : 0;
          break;
        case C_NODE:
        case C_CPU:
          b.writeInt16LE(num(v, -1), p);
          break;
        case C_KIND:
          b[p] = v === "file" ? 1 : 0;
          break;
        case C_THP:
          b[p] = v === 1 || v === "1" ? 1 : 0;
          break;
        case C_ORDER:
          b[p] = num(v, 0);
          break;
        case C_MT:
          b[p] = v === undefined ? 0 : Math.max(0, (MT_NAMES as readonly string[]).indexOf(String(v)));
          break;
        case C_GFP:
          b[p] = v === undefined ? 0 : Math.max(0, (GFP_NAMES as readonly string[]).indexOf(String(v)));
          break;
        case C_ADVICE:
          b[p] = v === undefined ? 0 : (ADVICE_NAMES as readonly string[]).indexOf(String(v)) + 1;
          break;
        default:
          b.writeInt32LE(this.str(v), p);
      }
      p += FIELD_BYTES[c]!;
    }
    return p;
  }

  /** Writes out what is ready (and waits for the sink). */
  async drain(): Promise<void> {
    const out = this.out;
    this.out = [];
    if (out.length) await this.sink.write(out.length === 1 ? out[0]! : Buffer.concat(out));
  }

  async end(): Promise<void> {
    this.flush();
    const e = Buffer.alloc(9);
    e[0] = BLOCK_END;
    e.writeDoubleLE(this.total, 1);
    this.out.push(e);
    await this.drain();
    await this.sink.commit();
  }
}
