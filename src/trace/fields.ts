/**
 * Validation of trace fields, shared by every reader (the CSV fast path, csv-parse, NDJSON,
 * JSON documents) so they accept and reject exactly the same inputs: each reader hands raw
 * field bytes to `RowBuilder.addRow`, which parses them without creating strings for numbers
 * and writes the event into the batch. Errors are DataError `file:line: what`.
 */
import { isUtf8 } from "node:buffer";
import { DataError, MAX_QUOTE, quoteInput } from "../errors.js";
import {
  COLUMNS, C_ADDR, C_CG, C_ID, C_KEY, C_KIND, C_LEN, C_MT, C_NODE, C_OP, C_ORDER, C_PID, C_RW, C_THP, C_TIME,
  C_VALUE, C_GFP, C_ADVICE, C_CPU, C_CHILD, OP_FORK, C_FILE, C_OFF, OP_FREAD, OP_FWRITE, OP_FSYNC, OP_FTRUNCATE, OP_FDELETE, MAX_TRACE_CPU, ADVICE_NAMES, EventBatch, GFP_NAMES, OP_MADVISE, OP_MLOCK, OP_MUNLOCK, MAX_TIME_MS, OPS, OP_ACCESS, OP_ALLOC, OP_EXIT, OP_FREE, OP_MMAP, OP_MUNMAP, OP_READ, OP_SET,
} from "./types.js";

const OP_BYTES = OPS.map((o) => Buffer.from(o, "latin1"));
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const REQUIRED: Record<number, number[] | undefined> = {
  [OP_ACCESS]: [C_PID, C_ADDR],
  [OP_MMAP]: [C_PID, C_ADDR],
  [OP_MUNMAP]: [C_PID, C_ADDR],
  [OP_EXIT]: [C_PID],
  [OP_ALLOC]: [C_ID],
  [OP_FREE]: [C_ID],
  [OP_SET]: [C_KEY, C_VALUE],
  [OP_READ]: [C_KEY],
  [OP_MADVISE]: [C_PID, C_ADDR, C_ADVICE],
  [OP_MLOCK]: [C_PID, C_ADDR],
  [OP_MUNLOCK]: [C_PID, C_ADDR],
  [OP_FORK]: [C_PID, C_CHILD],
  [OP_FREAD]: [C_FILE],
  [OP_FWRITE]: [C_FILE],
  [OP_FSYNC]: [C_FILE],
  [OP_FTRUNCATE]: [C_FILE, C_LEN],
  [OP_FDELETE]: [C_FILE],
};

/** REQUIRED as a bit mask of columns per op */
const REQUIRED_MASK = Int32Array.from(OPS, (_, op) => (REQUIRED[op] ?? []).reduce((m, c) => m | (1 << c), 0));

/** Maps column names to ids; unknown ones are an error listing the known ones. */
export function columnId(name: string): number {
  return (COLUMNS as readonly string[]).indexOf(name);
}

/** The error for a column (CSV) or key (JSON) that is not one of COLUMNS; the name quoted by quoteInput. */
export function unknownColumnMessage(name: string): string {
  return `unknown column ${quoteInput(name)} (known: ${COLUMNS.join(", ")})`;
}

export class RowBuilder {
  readonly batch = new EventBatch();
  private lastTime = 0;
  private lastLine = 0;
  events = 0;
  firstMs = -1;
  lastMs = 0;
  constructor(readonly file: string) {}

  fail(line: number, what: string): never {
    throw new DataError(this.file, line, what);
  }

  /**
   * Validates one event given as fields `buf[starts[k]..ends[k])` for columns `cols[k]`.
   * An empty field is absent. Writes the event at batch[n] and advances n.
   */
  addRow(buf: Buffer, cols: ArrayLike<number>, starts: ArrayLike<number>, ends: ArrayLike<number>, nf: number, line: number): void {
    const b = this.batch;
    const i = b.n;
    let seen = 0; // bit per column present
    // slot i holds the defaults (EventBatch.reset): write only the fields present
    let time = -1;
    let op = -1;
    let lenZero = false; // len 0: only ftruncate takes it (truncate to empty)
    for (let k = 0; k < nf; k++) {
      const s = starts[k]!;
      const e = ends[k]!;
      if (s === e) continue;
      const c = cols[k]!;
      seen |= 1 << c;
      switch (c) {
        case C_TIME:
          time = parseDecimal(buf, s, e);
          if (time < 0) this.bad(line, "time_ms", "a non-negative decimal number of ms", buf, s, e);
          if (time >= MAX_TIME_MS) this.fail(line, `time_ms ${quote(buf, s, e)} is beyond the latest time wsim replays (2^52 ms = ${MAX_TIME_MS} ms, about 142,000 years)`);
          break;
        case C_OP:
          op = parseOp(buf, s, e);
          if (op < 0) this.fail(line, `unknown op ${quote(buf, s, e)} (known: ${OPS.join(", ")})`);
          break;
        case C_PID: {
          const v = parseUint(buf, s, e);
          if (v < 0 || v > 4294967295) this.bad(line, "pid", "an integer 0..4294967295", buf, s, e);
          b.pid[i] = v;
          break;
        }
        case C_CHILD: {
          const v = parseUint(buf, s, e);
          if (v < 0 || v > 4294967295) this.bad(line, "child", "a pid 0..4294967295", buf, s, e);
          b.child[i] = v;
          break;
        }
        case C_ADDR: {
          const v = parseAddr(buf, s, e);
          if (v < 0) this.bad(line, "addr", "a decimal or 0x hex address below 2^53", buf, s, e);
          b.addr[i] = v;
          break;
        }
        case C_LEN: {
          const v = parseUint(buf, s, e);
          if (v < 0) this.bad(line, "len", "a positive number of bytes", buf, s, e);
          if (v === 0) lenZero = true;
          b.len[i] = v;
          break;
        }
        case C_OFF: {
          const v = parseUint(buf, s, e);
          if (v < 0) this.bad(line, "off", "a non-negative byte offset below 2^53", buf, s, e);
          b.off[i] = v;
          break;
        }
        case C_FILE:
          b.fname[i] = b.strs.push(this.text(buf, s, e, "file", line)) - 1;
          break;
        case C_RW:
          if (e - s === 1 && buf[s] === 0x72) b.write[i] = 0;
          else if (e - s === 1 && buf[s] === 0x77) b.write[i] = 1;
          else this.bad(line, "rw", "r or w", buf, s, e);
          break;
        case C_NODE: {
          const v = parseUint(buf, s, e);
          if (v < 0 || v > 1023) this.bad(line, "node", "a node id", buf, s, e);
          b.node[i] = v;
          break;
        }
        case C_CPU: {
          const v = parseUint(buf, s, e);
          if (v < 0 || v > MAX_TRACE_CPU) this.bad(line, "cpu", `a CPU number 0..${MAX_TRACE_CPU}`, buf, s, e);
          b.cpu[i] = v;
          break;
        }
        case C_KIND:
          if (eq(buf, s, e, "anon")) b.file[i] = 0;
          else if (eq(buf, s, e, "file")) b.file[i] = 1;
          else this.bad(line, "kind", "anon or file", buf, s, e);
          break;
        case C_THP:
          if (e - s === 1 && (buf[s] === 0x30 || buf[s] === 0x31)) b.thp[i] = buf[s]! - 0x30;
          else this.bad(line, "thp", "0 or 1", buf, s, e);
          break;
        case C_ORDER: {
          const v = parseUint(buf, s, e);
          if (v < 0 || v > 10) this.bad(line, "order", "an integer 0..10", buf, s, e);
          b.order[i] = v;
          break;
        }
        case C_MT:
          if (eq(buf, s, e, "unmovable")) b.mt[i] = 0;
          else if (eq(buf, s, e, "movable")) b.mt[i] = 1;
          else if (eq(buf, s, e, "reclaimable")) b.mt[i] = 2;
          else this.bad(line, "mt", "unmovable, movable or reclaimable", buf, s, e);
          break;
        case C_GFP: {
          let g = -1;
          for (let k = 0; k < GFP_NAMES.length; k++) if (eq(buf, s, e, GFP_NAMES[k]!)) g = k;
          if (g < 0) this.bad(line, "gfp", GFP_NAMES.join(", "), buf, s, e);
          b.gfp[i] = g;
          break;
        }
        case C_ADVICE: {
          let a = 0;
          for (let k = 0; k < ADVICE_NAMES.length; k++) if (eq(buf, s, e, ADVICE_NAMES[k]!)) a = k + 1;
          if (a === 0) this.fail(line, `unknown advice ${quote(buf, s, e)} (expected one of ${ADVICE_NAMES.join(", ")})`);
          b.advice[i] = a;
          break;
        }
        case C_CG: {
          const cg = this.text(buf, s, e, "cg", line);
          if (!isCgPath(cg)) this.bad(line, "cg", "a memcg path like / or /a/b", buf, s, e);
          b.cg[i] = b.strs.push(cg) - 1;
          break;
        }
        case C_ID:
          b.id[i] = b.strs.push(this.text(buf, s, e, "id", line)) - 1;
          break;
        case C_KEY:
          b.key[i] = b.strs.push(this.text(buf, s, e, "key", line)) - 1;
          break;
        case C_VALUE:
          b.value[i] = b.strs.push(this.text(buf, s, e, "value", line)) - 1;
          break;
      }
    }
    if (time < 0) this.fail(line, "missing time_ms");
    if (op < 0) this.fail(line, "missing op");
    if (lenZero && op !== OP_FTRUNCATE) this.fail(line, `len: expected a positive number of bytes, got "0"`);
    const need = REQUIRED_MASK[op]!;
    if ((seen & need) !== need)
      for (const c of REQUIRED[op]!) if (!(seen & (1 << c))) this.fail(line, `${OPS[op]} needs ${COLUMNS[c]}`);
    if (time < this.lastTime)
      this.fail(line, `time_ms goes back from ${this.lastTime} (line ${this.lastLine}) to ${time}`);
    this.lastTime = time;
    this.lastLine = line;
    if (this.firstMs < 0) this.firstMs = time;
    this.lastMs = time;
    b.time[i] = time;
    b.op[i] = op;
    b.line[i] = line;
    b.n = i + 1;
    this.events++;
  }

  /**
   * A string field: valid UTF-8 (decoding would turn every invalid byte into U+FFFD and make
   * distinct ids one), without line breaks.
   */
  private text(buf: Buffer, s: number, e: number, col: string, line: number): string {
    let ascii = true;
    for (let k = s; k < e; k++)
      if (buf[k]! >= 0x80) {
        ascii = false;
        break;
      }
    if (!ascii && !isUtf8(buf.subarray(s, e))) this.fail(line, `${col}: not valid UTF-8`);
    const v = buf.toString("utf8", s, e);
    if (/[\r\n]/.test(v)) this.fail(line, `${col}: a field may not contain a line break`);
    return v;
  }

  private bad(line: number, col: string, expected: string, buf: Buffer, s: number, e: number): never {
    this.fail(line, `${col}: expected ${expected}, got ${quote(buf, s, e)}`);
  }
}

/** A field as a message quotes it (quoteInput: bounded, control characters escaped). */
function quote(buf: Buffer, s: number, e: number): string {
  // decode a little more than is shown, so that quoteInput marks the cut
  return quoteInput(buf.toString("utf8", s, Math.min(e, s + 4 * MAX_QUOTE + 4)));
}

function eq(buf: Buffer, s: number, e: number, lit: string): boolean {
  if (e - s !== lit.length) return false;
  for (let k = 0; k < lit.length; k++) if (buf[s + k] !== lit.charCodeAt(k)) return false;
  return true;
}

export function isCgPath(s: string): boolean {
  return s === "/" || /^(\/[A-Za-z0-9_.:@+-]+)+$/.test(s);
}

/** op name -> OP_*, or -1. */
function parseOp(buf: Buffer, s: number, e: number): number {
  const len = e - s;
  for (let o = 0; o < OP_BYTES.length; o++) {
    const ob = OP_BYTES[o]!;
    if (ob.length !== len || ob[0] !== buf[s]) continue;
    let k = 1;
    while (k < len && ob[k] === buf[s + k]) k++;
    if (k === len) return o;
  }
  return -1;
}

/** Decimal digits only, up to 2^53-1; -1 if anything else. */
export function parseUint(buf: Buffer, s: number, e: number): number {
  if (e <= s || e - s > 16) return -1;
  let v = 0;
  for (let k = s; k < e; k++) {
    const d = buf[k]! - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v <= MAX_SAFE ? v : -1;
}

/** `digits[.digits]`: a non-negative decimal; -1 if malformed. */
export function parseDecimal(buf: Buffer, s: number, e: number): number {
  if (e <= s) return -1;
  let v = 0;
  let k = s;
  for (; k < e; k++) {
    const d = buf[k]! - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  if (k === e) return e - s <= 15 ? v : parseSlowDecimal(buf, s, e);
  if (buf[k] !== 46 || k === s || k === e - 1) return -1;
  for (k++; k < e; k++) {
    const c = buf[k]!;
    if (c < 48 || c > 57) return -1;
  }
  return parseSlowDecimal(buf, s, e);
}

function parseSlowDecimal(buf: Buffer, s: number, e: number): number {
  const v = Number(buf.toString("latin1", s, e));
  return Number.isFinite(v) ? v : -1;
}

/** Decimal or 0x hex, below 2^53; -1 if malformed. */
export function parseAddr(buf: Buffer, s: number, e: number): number {
  if (e - s > 2 && buf[s] === 48 && (buf[s + 1] === 120 || buf[s + 1] === 88)) {
    if (e - s - 2 > 14) return -1;
    let v = 0;
    for (let k = s + 2; k < e; k++) {
      const c = buf[k]!;
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else return -1;
      v = v * 16 + d;
    }
    return v <= MAX_SAFE ? v : -1;
  }
  return parseUint(buf, s, e);
}
