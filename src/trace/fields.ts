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
  C_VALUE, C_GFP, C_ADVICE, C_CPU, C_CHILD, OP_FORK, C_FILE, C_OFF, OP_FREAD, OP_FWRITE, OP_FSYNC, OP_FTRUNCATE, OP_FDELETE, MAX_TRACE_CPU, ADVICE_NAMES, EventBatch, GFP_NAMES, MT_NAMES, OP_MADVISE, OP_MLOCK, OP_MUNLOCK, MAX_TIME_MS, OPS, OP_ACCESS, OP_ALLOC, OP_EXIT, OP_FREE, OP_MMAP, OP_MUNMAP, OP_READ, OP_SET,
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

/**
 * A number in plain decimal, as String() prints it but never in exponent form: 1e-7 is
 * "0.0000001", 1.5e+21 "1500000000000000000000" (the same digits, the point moved), so
 * that the CSV field (parseDecimal takes no exponent) and the JSON token read back as the
 * same number. The writers (convert) and the JSON readers' number values use it.
 */
export function plainDecimal(v: number): string {
  const s = String(v);
  const e = s.indexOf("e");
  if (e < 0) return s;
  const neg = s.charCodeAt(0) === 45 ? "-" : "";
  const mant = s.slice(neg.length, e);
  const exp = Number(s.slice(e + 1));
  const dot = mant.indexOf(".");
  const digits = dot < 0 ? mant : mant.slice(0, dot) + mant.slice(dot + 1);
  const point = (dot < 0 ? mant.length : dot) + exp; // digits before the point
  if (point <= 0) return `${neg}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return neg + digits + "0".repeat(point - digits.length);
  return `${neg}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Maps column names to ids; unknown ones are an error listing the known ones. */
export function columnId(name: string): number {
  return (COLUMNS as readonly string[]).indexOf(name);
}

/** The error for a column (CSV) or key (JSON) that is not one of COLUMNS; the name quoted by quoteInput. */
export function unknownColumnMessage(name: string): string {
  return `unknown column ${quoteInput(name)} (known: ${COLUMNS.join(", ")})`;
}

/**
 * The error of an event whose time_ms is before the one of the event before it (at line
 * `lastLine`); also said by open.ts where the main thread's part of a trace meets the worker's.
 */
export function timeBackMessage(lastTime: number, lastLine: number, time: number): string {
  return `time_ms goes back from ${plainDecimal(lastTime)} (line ${lastLine}) to ${plainDecimal(time)}`;
}

export class RowBuilder {
  readonly batch = new EventBatch();
  private lastTime = 0;
  private lastLine = 0;
  events = 0;
  firstMs = -1;
  lastMs = 0;
  constructor(readonly file: string) {
    // addRow and fastLine say which columns they write (reset refills only those)
    this.batch.written = 0;
  }

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
    if (time < this.lastTime) this.fail(line, timeBackMessage(this.lastTime, this.lastLine, time));
    this.lastTime = time;
    this.lastLine = line;
    if (this.firstMs < 0) this.firstMs = time;
    this.lastMs = time;
    b.time[i] = time;
    b.op[i] = op;
    b.line[i] = line;
    b.n = i + 1;
    b.written |= seen;
    this.events++;
  }

  /**
   * The CSV fast path for one line starting at `buf[ls]` (csv.ts): its fields, for columns
   * `cols` (the header's), parsed straight from the bytes into the batch's slot n, with no
   * string but for the string-table columns (cg, id, key, value, file). It takes only the
   * common line: `\n` or `\r\n` ended within `buf[..end)`, printable ASCII without quotes,
   * spaces or tabs, not a comment, integer time_ms, numbers of at most 10-15 digits, no more
   * fields than the header, and an event addRow would accept. Returns the offset after the
   * line's `\n` when it took the line (the event is in the batch), or -1 when it leaves it
   * to the general path (csv.ts: lineFault, split, addRow, csv-parse), having changed
   * nothing that path reads (slot n holds the defaults again, strs is as it was).
   * Like addRow it writes only the fields present (the slot holds the defaults).
   * The case labels are the C_* column ids as literals (checked at load below), so that the
   * switch compiles to a jump table.
   */
  fastLine(buf: Uint8Array, ls: number, end: number, cols: Int8Array, line: number): number {
    if (buf[ls] === 35) return -1; // a comment
    const b = this.batch;
    const i = b.n;
    const nc = cols.length;
    const strs0 = b.strs.length;
    bail: {
      let seen = 0;
      let time = -1;
      let op = -1;
      let p = ls;
      let k = 0;
      for (;;) {
        const x = p < end ? buf[p]! : -1;
        if (x !== 44 && x !== 10 && x !== 13) {
          const c = cols[k]!;
          seen |= 1 << c;
          let q = p;
          let v = 0;
          switch (c) {
            case 0: // C_TIME
              for (; q < end; q++) {
                const d = DIGIT[buf[q]!]!;
                if (d < 0) break;
                v = v * 10 + d;
              }
              if (q === p || q - p > 15) break bail;
              time = v;
              break;
            case 1: // C_OP
              op = fastOp(buf, p, end);
              if (op < 0) break bail;
              q = p + OP_BYTES[op]!.length;
              break;
            case 2: // C_PID
            case 18: // C_CHILD
              for (; q < end; q++) {
                const d = DIGIT[buf[q]!]!;
                if (d < 0) break;
                v = v * 10 + d;
              }
              if (q === p || q - p > 10 || this.fastNumber(c, v, i) < 0) break bail;
              break;
            case 3: // C_ADDR
              if (x === 48 && (buf[p + 1] === 120 || buf[p + 1] === 88)) {
                // 0x and 1..13 hex digits: below 2^52, always safe
                for (q = p + 2; q < end; q++) {
                  const d = HEX[buf[q]!]!;
                  if (d < 0) break;
                  v = v * 16 + d;
                }
                if (q === p + 2 || q - p > 15) break bail;
              } else {
                for (; q < end; q++) {
                  const d = DIGIT[buf[q]!]!;
                  if (d < 0) break;
                  v = v * 10 + d;
                }
                if (q === p || q - p > 15) break bail;
              }
              b.addr[i] = v;
              break;
            case 4: // C_LEN
            case 20: // C_OFF
            case 6: // C_NODE
            case 17: // C_CPU
            case 11: // C_ORDER
              for (; q < end; q++) {
                const d = DIGIT[buf[q]!]!;
                if (d < 0) break;
                v = v * 10 + d;
              }
              if (q === p || q - p > 15) break bail;
              {
                const z = this.fastNumber(c, v, i);
                if (z < 0) break bail;
                seen |= z;
              }
              break;
            case 5: // C_RW
              if (x === 0x72) b.write[i] = 0;
              else if (x === 0x77) b.write[i] = 1;
              else break bail;
              q = p + 1;
              break;
            case 8: // C_THP
              if (x !== 0x30 && x !== 0x31) break bail;
              b.thp[i] = x - 0x30;
              q = p + 1;
              break;
            default:
              // words (kind, mt, gfp, advice) and strings: printable ASCII but for the quote
              while (q < end && TEXT[buf[q]!] === 0) q++;
              if (q < end && TEXT[buf[q]!] !== 1) break bail;
              if (!this.fastWord(buf, p, q, c, i)) break bail;
          }
          p = q;
        }
        // after a field: a comma, or the end of the line
        const t = p < end ? buf[p]! : -1;
        if (t === 44) {
          p++;
          if (++k === nc) break bail; // more fields than the header
          continue;
        }
        if (t === 13 && p + 1 < end && buf[p + 1] === 10) p++;
        else if (t !== 10) break bail;
        break; // missing trailing fields are absent
      }
      if (!this.fastCommit(seen, time, op, line)) break bail;
      return p + 1;
    }
    // the one way out for a line left to the general path
    return this.unfast(strs0);
  }

  /**
   * fastLine's and fastJson's store of a numeric column's value `v` (its digits checked by
   * the caller) at slot i, with addRow's bounds for pid, child, node, cpu and order; returns
   * LEN_ZERO for a len of 0 (only ftruncate takes it: addRow says so for the others), 0, or
   * -1 for a value addRow refuses (the line goes to the general path).
   */
  private fastNumber(c: number, v: number, i: number): number {
    const b = this.batch;
    switch (c) {
      case 2: // C_PID
      case 18: // C_CHILD
        if (v > 4294967295) return -1;
        if (c === 2) b.pid[i] = v;
        else b.child[i] = v;
        return 0;
      case 3: // C_ADDR
        b.addr[i] = v;
        return 0;
      case 4: // C_LEN
        b.len[i] = v;
        return v === 0 ? LEN_ZERO : 0;
      case 20: // C_OFF
        b.off[i] = v;
        return 0;
      case 6: // C_NODE
        if (v > 1023) return -1;
        b.node[i] = v;
        return 0;
      case 17: // C_CPU
        if (v > MAX_TRACE_CPU) return -1;
        b.cpu[i] = v;
        return 0;
      case 11: // C_ORDER
        if (v > 10) return -1;
        b.order[i] = v;
        return 0;
    }
    return -1;
  }

  /**
   * The end of a line fastLine or fastJson took apart, fields `seen`: false when addRow would
   * refuse the event (no time or op, time going back, a len of 0 but for ftruncate, a column
   * its op needs missing); else the event is made whole at slot n (time, op, line) and true.
   */
  private fastCommit(seen: number, time: number, op: number, line: number): boolean {
    if (time < 0 || op < 0 || time < this.lastTime) return false;
    if (seen & LEN_ZERO && op !== OP_FTRUNCATE) return false;
    const need = REQUIRED_MASK[op]!;
    if ((seen & need) !== need) return false;
    const b = this.batch;
    const i = b.n;
    b.written |= seen & ~LEN_ZERO;
    this.lastTime = time;
    this.lastLine = line;
    if (this.firstMs < 0) this.firstMs = time;
    this.lastMs = time;
    b.time[i] = time;
    b.op[i] = op;
    b.line[i] = line;
    b.n = i + 1;
    this.events++;
    return true;
  }

  /** fastLine gives a line up: what it pushed on strs goes, its slot holds the defaults again. */
  private unfast(strs0: number): number {
    this.batch.strs.length = strs0;
    this.batch.clearSlot(this.batch.n);
    return -1;
  }

  /** fastLine's word and string columns, `buf[s..e)` printable ASCII; false where addRow would fail. */
  private fastWord(buf: Uint8Array, s: number, e: number, c: number, i: number): boolean {
    const b = this.batch;
    switch (c) {
      case C_ID:
        return setStr(b.id, i, b.strs, latin1(buf, s, e));
      case C_KEY:
        return setStr(b.key, i, b.strs, latin1(buf, s, e));
      case C_VALUE:
        return setStr(b.value, i, b.strs, latin1(buf, s, e));
      case C_FILE:
        return setStr(b.fname, i, b.strs, latin1(buf, s, e));
      case C_CG: {
        const cg = latin1(buf, s, e);
        return isCgPath(cg) && setStr(b.cg, i, b.strs, cg);
      }
      case C_MT:
        return setWord(b.mt, i, wordIndex(buf, s, e, MT_NAMES), 0);
      case C_KIND:
        return setWord(b.file, i, wordIndex(buf, s, e, KIND_NAMES), 0);
      case C_GFP:
        return setWord(b.gfp, i, wordIndex(buf, s, e, GFP_NAMES), 0);
      case C_ADVICE:
        return setWord(b.advice, i, wordIndex(buf, s, e, ADVICE_NAMES), 1);
    }
    return false;
  }

  /**
   * The NDJSON fast path (json.ts readNdjson) for one line `buf[ls..le)` (without its `\n`):
   * an event object parsed straight from the bytes into the batch's slot n, as fastLine does
   * for CSV. It takes only the common line: printable ASCII, `{`, then `"key":value` pairs
   * with a column name for key, no key twice, spaces or tabs around `{`, `}`, `:` and `,`
   * (and a `\r` at the end); a value is a JSON integer without a sign, exponent or leading
   * zero (numeric columns and thp; as many digits as fastLine takes), `true`/`false` (thp),
   * or a string without escapes whose text fastLine would take (op, rw and the word and
   * string columns). Anything else (null, fractions, numbers in strings, escapes, a
   * `{"machine": ...}` line, a bad value) is left to the general path (JSON.parse, then
   * addRow), which accepts and rejects exactly as before: for what this takes, String() of
   * JSON.parse's value is the token itself. Returns whether it took the line (false: the
   * slot holds its defaults again, strs is as it was).
   */
  fastJson(buf: Uint8Array, ls: number, le: number, line: number): boolean {
    const b = this.batch;
    const i = b.n;
    const strs0 = b.strs.length;
    bail: {
      let seen = 0; // the columns given a value
      let keys = 0; // the keys met (a key twice is left to JSON.parse: the last one wins)
      let time = -1;
      let op = -1;
      let p = ls;
      while (p < le && (buf[p] === 32 || buf[p] === 9)) p++;
      if (p >= le || buf[p] !== 123) break bail; // {
      p++;
      for (;;) {
        while (p < le && (buf[p] === 32 || buf[p] === 9)) p++;
        // a key: a column's name in quotes
        if (p >= le || buf[p] !== 34) break bail;
        const ks = ++p;
        while (p < le && LOWER_[buf[p]!] === 1) p++;
        if (p >= le || buf[p] !== 34) break bail;
        const c = jsonColumn(buf, ks, p);
        if (c < 0 || keys & (1 << c)) break bail;
        keys |= 1 << c;
        p++;
        while (p < le && (buf[p] === 32 || buf[p] === 9)) p++;
        if (p >= le || buf[p] !== 58) break bail; // :
        p++;
        while (p < le && (buf[p] === 32 || buf[p] === 9)) p++;
        if (p >= le) break bail;
        const x = buf[p]!;
        let q = p;
        let v = 0;
        // null: the key is absent (the general path's empty field)
        if (x === 110) {
          if (buf[p + 1] !== 117 || buf[p + 2] !== 108 || buf[p + 3] !== 108) break bail;
          q = p + 4;
        } else {
          seen |= 1 << c;
          switch (c) {
            case 0: // C_TIME
            case 2: // C_PID
            case 18: // C_CHILD
            case 3: // C_ADDR
            case 4: // C_LEN
            case 20: // C_OFF
            case 6: // C_NODE
            case 17: // C_CPU
            case 11: // C_ORDER
            case 8: {
              // C_THP as 0 or 1 too. A JSON integer: no sign, no leading zero, no fraction or
              // exponent; or the text of a CSV field in quotes ("0x1000", "007"), which the
              // general path hands to addRow as it is
              const quoted = x === 34;
              let s0 = quoted ? p + 1 : p;
              q = s0;
              if (quoted && c === 3 && buf[s0] === 48 && (buf[s0 + 1] === 120 || buf[s0 + 1] === 88)) {
                // 0x and 1..13 hex digits: below 2^52, always safe
                for (q = s0 + 2; q < le; q++) {
                  const d = HEX[buf[q]!]!;
                  if (d < 0) break;
                  v = v * 16 + d;
                }
                if (q === s0 + 2 || q - s0 > 15) break bail;
                s0 = -1; // hex: its digits were checked here
              } else
                for (; q < le; q++) {
                  const d = DIGIT[buf[q]!]!;
                  if (d < 0) break;
                  v = v * 10 + d;
                }
              const nd = q - s0;
              if (quoted) {
                if (q >= le || buf[q] !== 34) break bail;
                q++;
                if (s0 >= 0 && (nd === 0 || nd > 15)) break bail;
              } else if (nd === 0) {
                if (c !== 8) break bail;
                // thp: true or false
                if (x === 116 && buf[p + 1] === 114 && buf[p + 2] === 117 && buf[p + 3] === 101) (b.thp[i] = 1), (q = p + 4);
                else if (x === 102 && buf[p + 1] === 97 && buf[p + 2] === 108 && buf[p + 3] === 115 && buf[p + 4] === 101) (b.thp[i] = 0), (q = p + 5);
                else break bail;
                break;
              }
              // (a fraction or exponent after the digits is no `,` or `}`: left below)
              else if ((x === 48 && nd > 1) || nd > 15) break bail;
              if (c === 0) time = v;
              else if (c === 8) {
                if (v > 1 || nd !== 1) break bail; // "0" or "1", as addRow takes
                b.thp[i] = v;
              } else {
                if ((c === 2 || c === 18) && nd > 10) break bail;
                const z = this.fastNumber(c, v, i);
                if (z < 0) break bail;
                seen |= z;
              }
              break;
            }
            default: {
              // a string without escapes: "..." of fastLine's text bytes
              if (x !== 34) break bail;
              const s = p + 1;
              q = s;
              while (q < le && TEXT[buf[q]!] === 0 && buf[q] !== 92) q++;
              if (q >= le || buf[q] !== 34 || q === s) break bail;
              if (c === 1) {
                op = fastOp(buf, s, q);
                if (op < 0 || s + OP_BYTES[op]!.length !== q) break bail;
              } else if (c === 5) {
                if (q !== s + 1) break bail;
                if (buf[s] === 0x72) b.write[i] = 0;
                else if (buf[s] === 0x77) b.write[i] = 1;
                else break bail;
              } else if (!this.fastWord(buf, s, q, c, i)) break bail;
              q++;
            }
          }
        }
        p = q;
        while (p < le && (buf[p] === 32 || buf[p] === 9)) p++;
        if (p >= le) break bail;
        if (buf[p] === 44) {
          p++;
          continue;
        }
        if (buf[p] !== 125) break bail; // }
        p++;
        while (p < le && (buf[p] === 32 || buf[p] === 9 || buf[p] === 13)) p++;
        if (p !== le) break bail;
        break;
      }
      if (!this.fastCommit(seen, time, op, line)) break bail;
      return true;
    }
    this.unfast(strs0);
    return false;
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

/** ASCII bytes as a string (fastLine's strings: printable ASCII only). */
function latin1(buf: Uint8Array, s: number, e: number): string {
  return (buf as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(s, e);
}

const KIND_NAMES = ["anon", "file"] as const;

/** The index of the name `buf[s..e)` spells in `names` (the last one, as addRow's loops take), or -1. */
/** fastWord's string columns: `str` onto the batch's string table, its index into col[i]. */
function setStr(col: { [i: number]: number }, i: number, strs: string[], str: string): true {
  col[i] = strs.push(str) - 1;
  return true;
}

/** fastWord's enum columns: the word's index `w` (+ bias) into col[i]; false for no word (-1). */
function setWord(col: { [i: number]: number }, i: number, w: number, bias: number): boolean {
  if (w < 0) return false;
  col[i] = w + bias;
  return true;
}

function wordIndex(buf: Uint8Array, s: number, e: number, names: readonly string[]): number {
  let w = -1;
  for (let k = 0; k < names.length; k++) if (eq(buf as Buffer, s, e, names[k]!)) w = k;
  return w;
}

/** byte -> its decimal digit, or -1 */
const DIGIT = Int8Array.from({ length: 256 }, (_, c) => (c >= 48 && c <= 57 ? c - 48 : -1));
/** byte -> its hex digit, or -1 */
const HEX = Int8Array.from({ length: 256 }, (_, c) => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1));
/** byte -> 0 for fastLine's string bytes (printable ASCII but `"` and `,`), 1 for the bytes that end a field (`,` CR LF), 2 for the others */
const TEXT = Int8Array.from({ length: 256 }, (_, c) => (c === 44 || c === 10 || c === 13 ? 1 : c >= 0x21 && c <= 0x7e && c !== 34 ? 0 : 2));
/** byte -> 1 for a-z (op names), else 0 */
const LOWER = Int8Array.from({ length: 256 }, (_, c) => (c >= 97 && c <= 122 ? 1 : 0));
/** byte -> 1 for the bytes of a column's name (a-z, _), else 0 (fastJson's keys) */
const LOWER_ = Int8Array.from({ length: 256 }, (_, c) => ((c >= 97 && c <= 122) || c === 95 ? 1 : 0));
/** the columns' names as bytes, and a column by its name's length and first and last bytes (one candidate each) */
const COLUMN_BYTES = COLUMNS.map((c) => Buffer.from(c, "latin1"));
const COLUMN_BY_KEY = (() => {
  const t = new Int8Array(1 << 14).fill(-1);
  COLUMNS.forEach((c, k) => {
    const key = opKey(c.length, c.charCodeAt(0), c.charCodeAt(c.length - 1));
    if (t[key] !== -1) throw new Error(`fastJson: columns ${c} and ${COLUMNS[t[key]!]} share a key`);
    t[key] = k;
  });
  return t;
})();

/** The column named `buf[s..e)` (fastJson's keys: a-z and _ only), or -1. */
function jsonColumn(buf: Uint8Array, s: number, e: number): number {
  const len = e - s;
  if (len < 2 || len > 15) return -1;
  const c = COLUMN_BY_KEY[opKey(len, buf[s]!, buf[e - 1]!)]!;
  if (c < 0) return -1;
  const cb = COLUMN_BYTES[c]!;
  for (let k = 1; k < len - 1; k++) if (cb[k] !== buf[s + k]) return -1;
  return c;
}
/** fastLine's bit in its `seen` mask for a len of 0 (above every column's bit) */
const LEN_ZERO = 1 << 30;
/** op by its name's length and first two bytes (opKey), -1 for none: one candidate each, checked in full by fastOp */
const OP_BY_KEY = (() => {
  const t = new Int8Array(1 << 14).fill(-1);
  OPS.forEach((o, k) => {
    const key = opKey(o.length, o.charCodeAt(0), o.charCodeAt(1));
    if (t[key] !== -1) throw new Error(`fastOp: ${o} and ${OPS[t[key]!]} share a key`);
    t[key] = k;
  });
  return t;
})();
// fastLine's case labels are these ids
if (C_TIME !== 0 || C_OP !== 1 || C_PID !== 2 || C_ADDR !== 3 || C_LEN !== 4 || C_RW !== 5 || C_NODE !== 6 || C_THP !== 8 || C_ORDER !== 11 || C_CPU !== 17 || C_CHILD !== 18 || C_OFF !== 20)
  throw new Error("fields.ts: fastLine's column ids are out of date");

function opKey(len: number, c0: number, c1: number): number {
  return ((len & 15) << 10) | ((c0 & 31) << 5) | (c1 & 31);
}

/**
 * The op named at `buf[p..)` when a comma or line end follows it within `buf[..end)`, or -1
 * (then parseOp decides): the candidate by length and first two bytes, compared in full.
 */
function fastOp(buf: Uint8Array, p: number, end: number): number {
  let e = p;
  while (e < end && LOWER[buf[e]!] === 1) e++;
  const len = e - p;
  if (len < 3 || len > 9) return -1;
  const op = OP_BY_KEY[opKey(len, buf[p]!, buf[p + 1]!)]!;
  if (op < 0) return -1;
  const ob = OP_BYTES[op]!;
  for (let k = 2; k < len; k++) if (ob[k] !== buf[p + k]) return -1;
  return op;
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
function parseOp(buf: Uint8Array, s: number, e: number): number {
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

/**
 * Runs fastLine over a few made-up lines of every column kind, a dozen times, when this
 * module loads (well under a millisecond), so that V8 has type feedback for all its branches
 * when it optimises it: a branch first taken after that (a trace's first munmap with a len,
 * 200,000 lines in) would otherwise throw the optimised code away and run the interpreter
 * until it is optimised again. The lines parse into a throwaway batch; nothing else is kept.
 */
function warmFastLine(): void {
  const rows = [
    "access,7,0x1000,4096,w,0,1,anon,0,/a,k1,3,movable,key,val,dma32,cold,2,8,f\n",
    "mmap,7,4096,8192,r,,1,file,1,,,,,,,,,,,\r\n",
    "munmap,7,0x1000,4096\n",
    "alloc,,,,,,,,,,k2,0,unmovable\n",
    "free,,,,,,,,,,k2\n",
    "fork,7" + ",".repeat(16) + "9\n",
    "exit,9\n",
    "access,7,0x1000,,x\n", // given up: rw
    "access,7,0x1000\n",
  ];
  let text = "";
  for (let r = 0; r < 12; r++) for (let k = 0; k < rows.length; k++) text += `${r * rows.length + k},${rows[k]}`;
  const buf = Buffer.from(text, "latin1");
  const header = "time_ms,op,pid,addr,len,rw,node,thp,kind,cpu,cg,id,order,mt,key,value,gfp,advice,child,off,file".split(",");
  const cols = Int8Array.from(header, (h) => columnId(h));
  const rb = new RowBuilder("<warm-up>");
  for (let p = 0; p < buf.length; ) {
    if (rb.batch.full) rb.batch.reset();
    const q = rb.fastLine(buf, p, buf.length, cols, 1);
    p = q >= 0 ? q : buf.indexOf(10, p) + 1;
  }
}
warmFastLine();
