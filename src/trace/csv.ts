/**
 * CSV traces (SPEC §2). Two paths that accept and reject the same inputs:
 *  - the fast path scans bytes of each chunk, splits plain lines on commas and yields
 *    batches; a line it does not handle itself (a `"`, a form feed or vertical tab, a field
 *    ending in a non-ASCII byte: what csv-parse trims differently) goes through csv-parse
 *    (sync) on its own, with the same options;
 *  - `engine: "csv-parse"` runs the whole file through csv-parse's streaming parser.
 * Both check every line first with the same `lineFault` (a bare CR, an odd number of quotes,
 * invalid UTF-8), in line order, and hand fields to RowBuilder. Both accept and reject the
 * same files, but not always at the same line: csv-parse's streaming parser reads ahead, so
 * in a file with two faults it may report a later quote error first (line 6) where the fast
 * path reports the earlier field error (line 2). The CLI uses the fast path.
 * Rules both follow: a header names the columns (free order, any subset, time_ms and op
 * required); a line whose first non-blank character is `#` is a comment (`# wsim: machine=X`
 * before the header names the trace's machine, see open.ts); blank lines are skipped;
 * fields are trimmed of spaces and tabs; a row may stop early (missing trailing fields are
 * absent) but may not have more fields than the header; lines end with `\n` or `\r\n` (a
 * bare `\r`, as in CR-only files, is an error); a UTF-8 BOM is accepted; a quoted field may
 * not span lines; the file must be UTF-8. A file with no header (empty, or comments only) is
 * a trace with no events.
 */
import { isUtf8 } from "node:buffer";
import { createRequire } from "node:module";
import { pipeline, Readable } from "node:stream";
import { DataError, quoteInput } from "../errors.js";
import { columnId, RowBuilder, unknownColumnMessage } from "./fields.js";
import { BATCH_SIZE, type EventBatch } from "./types.js";

export interface CsvOptions {
  engine?: "fast" | "csv-parse";
  /**
   * (the parse worker's, fast path only) lines left out of the bytes after line `after`: the
   * line after it is numbered `after + lines + 1` (chunks.ts fromLineAt)
   */
  skipped?: { after: number; lines: number };
}

const CSV_PARSE_OPTS = {
  trim: true,
  relax_column_count: true,
  skip_empty_lines: true,
  comment: "#",
  comment_no_infix: true,
  bom: true,
  // a bare CR never gets here (lineFault); naming both endings keeps csv-parse's line count
  // right in files that mix them
  record_delimiter: ["\r\n", "\n"],
};

/**
 * csv-parse's sync parser, loaded on the first line that needs it (a quoted field...): most
 * traces never do, and loading it cost ~20 ms of every run's start and of the parse worker's
 * (its CommonJS build, the same code as the ES module, as a synchronous call needs it).
 */
let csvParseSync: typeof import("csv-parse/sync").parse | null = null;
function parseSync(input: string, opts: import("csv-parse/sync").Options): unknown {
  csvParseSync ??= (createRequire(import.meta.url)("csv-parse/sync") as typeof import("csv-parse/sync")).parse;
  return csvParseSync(input, opts);
}

/** A CR that does not end a line, said by every line reader (CSV's lineFault, NDJSON) */
export const BARE_CR = "bare CR: lines must end with \\n or \\r\\n (a CR-only file? convert it with tr '\\r' '\\n')";
/** Invalid UTF-8, said by every line reader */
export const INVALID_UTF8 = "not valid UTF-8 (a trace is UTF-8 text)";

/**
 * What is wrong with the line `buf[ls..le)` (le before its `\n` and the CR of a `\r\n`)
 * before any parser sees it, or null: a bare CR, an odd number of quotes (a quoted field
 * left open or spanning lines) outside comments, invalid UTF-8. Both paths call it on every
 * line in order, so they fail on the same line with the same message.
 */
export function lineFault(buf: Buffer, ls: number, le: number, checkUtf8: boolean): string | null {
  // byte loops bounded by the line (an indexOf would search the rest of the chunk for every line)
  for (let k = ls; k < le; k++)
    if (buf[k] === 13) return BARE_CR;
  if (checkUtf8 && !isUtf8(buf.subarray(ls, le))) return INVALID_UTF8;
  let a = ls;
  while (a < le && (buf[a] === 32 || buf[a] === 9 || buf[a] === 12)) a++;
  if (buf[a] === 35) return null; // comment
  let q = 0;
  for (let k = ls; k < le; k++) if (buf[k] === 34) q++;
  if (q % 2) return "unterminated quoted field (a quoted field may not span lines)";
  return null;
}

/** End of the line content before `nl` (the `\n`, or the end of the data): drops a CR before it. */
function contentEnd(buf: Buffer, ls: number, nl: number): number {
  return nl > ls && buf[nl - 1] === 13 ? nl - 1 : nl;
}

/** Offset of the first line of `buf[0..end)` that is not valid UTF-8 (end when all are). */
function firstBadUtf8Line(buf: Buffer, end: number): number {
  if (isUtf8(buf.subarray(0, end))) return end;
  for (let ls = 0; ls < end; ) {
    let nl = buf.indexOf(10, ls);
    if (nl < 0 || nl > end) nl = end;
    if (!isUtf8(buf.subarray(ls, nl))) return ls;
    ls = nl + 1;
  }
  return end;
}

/** A csv-parse record that is only blank lines (csv-parse folds them into one `[""]`). */
function isBlankRecord(fields: string[], raw: string): boolean {
  if (fields.length !== 1 || fields[0] !== "") return false;
  const body = raw.replace(/\r?\n$/, "");
  return body.slice(body.lastIndexOf("\n") + 1).trim() === "";
}

/** Header handling shared by both paths: column ids in field order. */
function headerColumns(fields: string[], file: string, line: number): Int8Array {
  const cols = new Int8Array(fields.length);
  const seen = new Set<number>();
  fields.forEach((f, k) => {
    const id = columnId(f);
    if (id < 0) throw new DataError(file, line, unknownColumnMessage(f));
    if (seen.has(id)) throw new DataError(file, line, `column ${quoteInput(f)} appears twice`);
    seen.add(id);
    cols[k] = id;
  });
  if (!seen.has(0) || !seen.has(1)) throw new DataError(file, line, "the header must name at least time_ms and op");
  return cols;
}

/** csv-parse's error as wsim says it, the same from either path (csv-parse's own text names its own line count). */
function csvParseMessage(err: unknown): string {
  const e = err as { code?: string; message?: string };
  switch (e.code) {
    case "CSV_QUOTE_NOT_CLOSED":
      return "unterminated quoted field (a quoted field may not span lines)";
    case "CSV_INVALID_CLOSING_QUOTE":
    case "CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE":
      return "broken quote: a quoted field must end at a comma or at the end of the line";
    case "INVALID_OPENING_QUOTE":
    case "CSV_INVALID_OPENING_QUOTE":
      return 'broken quote: a quote inside an unquoted field (quote the whole field and double the quote: "a""b")';
    default:
      return `CSV: ${e.code ?? e.message ?? String(err)}`;
  }
}

/** Lines given as string fields (from csv-parse): the header first, then rows for RowBuilder. */
class StringRows {
  readonly rb: RowBuilder;
  cols: Int8Array | null = null;
  private header: string[] = [];
  private readonly scratch = new Scratch();
  constructor(readonly file: string) {
    this.rb = new RowBuilder(file);
  }

  add(fields: string[], line: number): void {
    if (!this.cols) {
      this.header = fields;
      this.cols = headerColumns(fields, this.file, line);
      return;
    }
    this.checkCount(fields.length, line);
    this.scratch.load(fields);
    this.rb.addRow(this.scratch.buf, this.cols, this.scratch.starts, this.scratch.ends, fields.length, line);
  }

  checkCount(n: number, line: number): void {
    if (n > this.cols!.length) this.rb.fail(line, `expected at most ${this.cols!.length} fields (${this.header.join(",")}), found ${n}`);
  }
}

/**
 * The chunks as they are, line-aligned, up to the first line lineFault rejects; that
 * line's error is left in `fault` for the caller to throw once the lines before it are
 * parsed (so an earlier line's error comes first, as on the fast path).
 */
async function* checkedLines(chunks: AsyncIterable<Buffer>, file: string, fault: { err: DataError | null }): AsyncGenerator<Buffer> {
  let carry: Buffer | null = null;
  let lineNo = 0;
  const check = (buf: Buffer, end: number, final: boolean): number => {
    const bad = firstBadUtf8Line(buf, final ? buf.length : end);
    for (let ls = 0; ls < end || (final && ls === end && end < buf.length); ) {
      let nl = buf.indexOf(10, ls);
      if (nl < 0) nl = buf.length;
      lineNo++;
      const what = lineFault(buf, ls, contentEnd(buf, ls, nl), ls >= bad);
      if (what) {
        fault.err = new DataError(file, lineNo, what);
        return ls;
      }
      ls = nl + 1;
    }
    return -1;
  };
  for await (const chunk of chunks) {
    const buf: Buffer = carry && carry.length ? Buffer.concat([carry, chunk]) : chunk;
    const end = buf.lastIndexOf(10) + 1;
    const stop = check(buf, end, false);
    if (stop >= 0) {
      if (stop) yield Buffer.from(buf.subarray(0, stop));
      return;
    }
    if (end) yield Buffer.from(buf.subarray(0, end));
    carry = end < buf.length ? Buffer.from(buf.subarray(end)) : null;
  }
  if (carry && carry.length) {
    const stop = check(carry, 0, true);
    if (stop >= 0) return;
    yield carry;
  }
}

/** Bytes → batches through csv-parse's streaming parser. */
async function* csvParsePath(chunks: AsyncIterable<Buffer>, file: string): AsyncGenerator<EventBatch> {
  const rows = new StringRows(file);
  const b = rows.rb.batch;
  const fault: { err: DataError | null } = { err: null };
  // loaded here, not with this module: the fast path (the default) does not need it
  const { parse: parseStream } = await import("csv-parse");
  // pipeline, not pipe: a read error of the bytes (a corrupt gzip) reaches the parser and so
  // the loop below, instead of being an unhandled 'error' while the loop waits for ever
  const parser = parseStream({ ...CSV_PARSE_OPTS, info: true, raw: true });
  pipeline(Readable.from(checkedLines(chunks, file, fault)), parser, () => {});
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; raw: string; info: { lines: number } }>) {
      const fields = rec.record;
      if (isBlankRecord(fields, rec.raw)) continue;
      rows.add(fields, rec.info.lines);
      if (b.full) {
        yield b;
        b.reset();
      }
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    const lines = (e as { lines?: number }).lines ?? 0;
    throw new DataError(file, lines, csvParseMessage(e));
  }
  if (fault.err) throw fault.err;
  if (b.n) yield b;
}

/** Fields of strings laid out in one buffer, for RowBuilder. */
export class Scratch {
  buf = Buffer.alloc(4096);
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  load(fields: readonly string[]): void {
    let need = 0;
    for (const f of fields) need += Buffer.byteLength(f) + 1;
    if (need > this.buf.length) this.buf = Buffer.alloc(need * 2);
    if (fields.length > this.starts.length) {
      this.starts = new Int32Array(fields.length);
      this.ends = new Int32Array(fields.length);
    }
    let pos = 0;
    fields.forEach((f, k) => {
      this.starts[k] = pos;
      pos += this.buf.write(f, pos, "utf8");
      this.ends[k] = pos;
    });
  }
}

/**
 * The fast path: a byte scanner over chunks. A line goes first to RowBuilder.fastLine, which
 * takes the common line (plain ASCII fields) straight into the batch; any other line (the
 * header, comments, blank lines, quotes, spaces, CRs, non-ASCII bytes, a bad field: whatever
 * fastLine leaves) goes through the general path below, which accepts and rejects what the
 * csv-parse path does, with the same `file:line` errors. Chunks are scanned where they are:
 * only a line split between two chunks is copied (a chunk may be a buffer the next read
 * reuses).
 */
async function* fastPath(chunks: AsyncIterable<Buffer>, file: string, skipped?: CsvOptions["skipped"]): AsyncGenerator<EventBatch> {
  const skipAfter = skipped ? skipped.after : -1;
  const skipLines = skipped ? skipped.lines : 0;
  const rows = new StringRows(file);
  const rb = rows.rb;
  let starts = new Int32Array(16);
  let ends = new Int32Array(16);
  let lineNo = 0;

  /** A line csv-parse parses (with the stream path's options, so both paths agree). */
  const slowLine = (text: string, line: number) => {
    let recs: { record: string[]; raw: string }[];
    try {
      recs = parseSync(text + "\n", { ...CSV_PARSE_OPTS, bom: false, raw: true }) as unknown as { record: string[]; raw: string }[];
    } catch (e) {
      throw new DataError(file, line, csvParseMessage(e));
    }
    for (const r of recs) if (!isBlankRecord(r.record, r.raw)) rows.add(r.record, line);
  };

  /** The general path for line lineNo, `buf[ls..nl)` (nl its `\n`, or the end of the data). */
  const generalLine = (buf: Buffer, ls: number, nl: number) => {
    const le = contentEnd(buf, ls, nl);
    // lineFault's checks, for a line that could fail them: a CR, a quote, a non-ASCII byte
    let quote = false;
    let check = false;
    for (let k = ls; k < le; k++) {
      const c = buf[k]!;
      if (c === 34) quote = check = true;
      else if (c === 13 || c >= 0x80) check = true;
    }
    if (check) {
      const what = lineFault(buf, ls, le, true);
      if (what) rb.fail(lineNo, what);
    }
    // blank or comment: first non-blank character is `#`
    let a = ls;
    while (a < le && (buf[a] === 32 || buf[a] === 9)) a++;
    if (a === le) return; // blank
    if (buf[a] === 35) return; // comment
    // split on commas; a line the scanner does not handle goes to csv-parse
    let nf = 0;
    let slow = quote;
    let fs = ls;
    for (let k = ls; !slow; k++) {
      if (k < le && buf[k] !== 44) continue;
      let s = fs;
      let e = k;
      if (buf[s] === 32 || buf[s] === 9) while (s < e && (buf[s] === 32 || buf[s] === 9)) s++;
      if (e > s && (buf[e - 1] === 32 || buf[e - 1] === 9)) while (e > s && (buf[e - 1] === 32 || buf[e - 1] === 9)) e--;
      // csv-parse trims a leading form feed and any trailing Unicode space: its call
      if (s < e && (buf[s] === 12 || buf[e - 1]! >= 0x80 || buf[e - 1] === 11 || buf[e - 1] === 12)) {
        slow = true;
        break;
      }
      if (nf === starts.length) {
        const s2 = new Int32Array(nf * 2);
        s2.set(starts);
        starts = s2;
        const e2 = new Int32Array(nf * 2);
        e2.set(ends);
        ends = e2;
      }
      starts[nf] = s;
      ends[nf] = e;
      nf++;
      fs = k + 1;
      if (k >= le) break;
    }
    if (slow) {
      slowLine(buf.toString("utf8", ls, le), lineNo);
    } else if (!rows.cols) {
      const fields: string[] = [];
      for (let k = 0; k < nf; k++) fields.push(buf.toString("utf8", starts[k], ends[k]));
      rows.add(fields, lineNo);
    } else {
      rows.checkCount(nf, lineNo);
      rb.addRow(buf, rows.cols, starts, ends, nf, lineNo);
    }
  };

  /**
   * Scans lines of buf from pos until the batch is full or the data ends; returns the
   * offset of the first unconsumed byte (a partial last line stays unless `final`).
   * A plain function, not a generator, so that V8 optimises the byte loop.
   */
  const scan = (buf: Buffer, pos: number, final: boolean): number => {
    const n = buf.length;
    const b = rb.batch;
    // fastLine sees complete lines only (a partial last line would be one more way out of it)
    const lim = final ? n : buf.lastIndexOf(10) + 1;
    while (pos < n) {
      if (pos >= lim && !final) return pos; // a partial last line: the carry
      const cols = rows.cols;
      if (cols !== null) {
        const q = rb.fastLine(buf, pos, lim, cols, lineNo + 1);
        if (q >= 0) {
          lineNo++;
          pos = q;
          if (b.n === BATCH_SIZE) return pos;
          continue;
        }
      }
      let nl = buf.indexOf(10, pos);
      if (nl < 0) {
        if (!final) return pos;
        nl = n;
      }
      lineNo++;
      generalLine(buf, pos, nl);
      // the header (line 1) goes through generalLine, so the skip after it is here
      if (lineNo === skipAfter) lineNo += skipLines;
      pos = nl + 1;
      if (b.n === BATCH_SIZE) return pos;
    }
    return pos;
  };

  /** Scans buf from pos, yielding each batch as it fills; returns the unconsumed offset. */
  const scanAll = function* (buf: Buffer, pos: number, final: boolean): Generator<EventBatch, number> {
    for (;;) {
      pos = scan(buf, pos, final);
      if (!rb.batch.full) return pos;
      yield rb.batch;
      rb.batch.reset();
    }
  };

  /** the partial last line of the chunks so far (a copy) */
  let carry: Buffer | null = null;
  /** the first bytes, until there are 3 (a UTF-8 BOM may be split across chunks) */
  let head: Buffer | null = null;
  let first = true;
  for await (const chunk of chunks) {
    let buf: Buffer = chunk;
    let pos = 0;
    if (first) {
      if (head) buf = Buffer.concat([head, chunk]);
      if (buf.length < 3) {
        head = Buffer.from(buf);
        continue;
      }
      first = false;
      head = null;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3;
    } else if (carry) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        carry = Buffer.concat([carry, chunk]);
        continue;
      }
      // the line split between the chunks: the only bytes copied
      const line = Buffer.concat([carry, chunk.subarray(0, nl + 1)]);
      carry = null;
      yield* scanAll(line, 0, false);
      pos = nl + 1;
    }
    const used = yield* scanAll(buf, pos, false);
    // the carry must not alias a chunk the stream may reuse
    carry = used < buf.length ? Buffer.from(buf.subarray(used)) : null;
  }
  if (head) carry = head; // fewer than 3 bytes in all: no BOM
  if (carry && carry.length) yield* scanAll(carry, 0, true);
  if (rb.batch.n) yield rb.batch;
}

/** Batches of events from CSV bytes. */
export function readCsv(chunks: AsyncIterable<Buffer>, file: string, opts: CsvOptions = {}): AsyncGenerator<EventBatch> {
  return opts.engine === "csv-parse" ? csvParsePath(chunks, file) : fastPath(chunks, file, opts.skipped);
}

export { RowBuilder };
