/**
 * CSV traces (SPEC §2). Two paths that accept and reject the same inputs, because both hand
 * raw fields to RowBuilder:
 *  - the fast path scans bytes of each chunk, splits plain lines on commas and yields
 *    batches; a line with a `"` goes through csv-parse (sync) on its own;
 *  - `engine: "csv-parse"` runs the whole file through csv-parse's streaming parser.
 * Rules both follow: a header names the columns (free order, any subset, time_ms and op
 * required); `#` at the start of a line is a comment; blank lines are skipped; fields are
 * trimmed of spaces and tabs; a row may stop early (missing trailing fields are absent) but
 * may not have more fields than the header; `\r\n` endings and a UTF-8 BOM are accepted; a quoted field
 * may not span lines.
 */
import { parse as parseSync } from "csv-parse/sync";
import { parse as parseStream } from "csv-parse";
import { Readable } from "node:stream";
import { DataError } from "../errors.js";
import { columnId, RowBuilder, unknownColumnMessage } from "./fields.js";
import { type EventBatch } from "./types.js";

export interface CsvOptions {
  engine?: "fast" | "csv-parse";
}

const CSV_PARSE_OPTS = {
  trim: true,
  relax_column_count: true,
  skip_empty_lines: true,
  comment: "#",
  comment_no_infix: true,
  bom: true,
} as const;

/** Header handling shared by both paths: column ids in field order. */
function headerColumns(fields: string[], file: string, line: number): Int8Array {
  const cols = new Int8Array(fields.length);
  const seen = new Set<number>();
  fields.forEach((f, k) => {
    const id = columnId(f);
    if (id < 0) throw new DataError(file, line, unknownColumnMessage(f));
    if (seen.has(id)) throw new DataError(file, line, `column "${f}" appears twice`);
    seen.add(id);
    cols[k] = id;
  });
  if (!seen.has(0) || !seen.has(1)) throw new DataError(file, line, "the header must name at least time_ms and op");
  return cols;
}

function csvParseMessage(err: unknown): string {
  const e = err as { code?: string; message?: string };
  switch (e.code) {
    case "CSV_QUOTE_NOT_CLOSED":
      return "unterminated quoted field";
    case "CSV_INVALID_CLOSING_QUOTE":
    case "CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE":
      return "broken quote: a quoted field must end at a comma or at the end of the line";
    default:
      return `CSV: ${e.message ?? String(err)}`;
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

/** Bytes → batches through csv-parse's streaming parser. */
async function* csvParsePath(chunks: AsyncIterable<Buffer>, file: string): AsyncGenerator<EventBatch> {
  const rows = new StringRows(file);
  const b = rows.rb.batch;
  const parser = Readable.from(chunks).pipe(parseStream({ ...CSV_PARSE_OPTS, info: true }));
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const fields = rec.record;
      if (fields.length === 1 && fields[0] === "") continue;
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
  if (!rows.cols) throw new DataError(file, 0, "no header line (expected e.g. time_ms,op,pid,addr)");
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

/** The fast path: a byte scanner over chunks. */
async function* fastPath(chunks: AsyncIterable<Buffer>, file: string): AsyncGenerator<EventBatch> {
  const rows = new StringRows(file);
  const rb = rows.rb;
  let starts = new Int32Array(16);
  let ends = new Int32Array(16);
  let lineNo = 0;
  let carry: Buffer | null = null;
  let first = true;

  const handleQuoted = (text: string, line: number) => {
    let recs: string[][];
    try {
      recs = parseSync(text, { trim: true, relax_column_count: true, bom: false }) as string[][];
    } catch (e) {
      throw new DataError(file, line, csvParseMessage(e));
    }
    rows.add(recs[0] ?? [""], line);
  };

  /**
   * Scans lines of buf from pos until the batch is full or the data ends; returns the
   * offset of the first unconsumed byte (a partial last line stays unless `final`).
   * A plain function, not a generator, so that V8 optimises the byte loop.
   */
  const scan = (buf: Buffer, pos: number, final: boolean): number => {
    if (first && buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3;
    first = false;
    const n = buf.length;
    let nextQuote = buf.indexOf(34, pos); // lines before it have no quote
    if (nextQuote < 0) nextQuote = n;
    while (pos < n) {
      let nl = buf.indexOf(10, pos);
      if (nl < 0) {
        if (!final) return pos;
        nl = n;
      }
      lineNo++;
      let le = nl;
      if (le > pos && buf[le - 1] === 13) le--;
      const ls = pos;
      pos = nl + 1;
      // trim for blank / comment detection
      let a = ls;
      while (a < le && (buf[a] === 32 || buf[a] === 9)) a++;
      if (a === le) continue; // blank
      if (buf[ls] === 35) continue; // '#' comment at line start
      // split on commas; a quote sends the line to csv-parse
      let nf = 0;
      if (nextQuote < ls) {
        nextQuote = buf.indexOf(34, ls);
        if (nextQuote < 0) nextQuote = n;
      }
      const hasQuote = nextQuote < le;
      let fs = ls;
      for (let k = ls; !hasQuote; k++) {
        if (k < le && buf[k] !== 44) continue;
        let s = fs;
        let e = k;
        if (buf[s] === 32 || buf[s] === 9) while (s < e && (buf[s] === 32 || buf[s] === 9)) s++;
        if (e > s && (buf[e - 1] === 32 || buf[e - 1] === 9)) while (e > s && (buf[e - 1] === 32 || buf[e - 1] === 9)) e--;
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
      if (hasQuote) {
        handleQuoted(buf.toString("utf8", ls, le), lineNo);
      } else if (!rows.cols) {
        const fields: string[] = [];
        for (let k = 0; k < nf; k++) fields.push(buf.toString("utf8", starts[k], ends[k]));
        rows.add(fields, lineNo);
      } else {
        rows.checkCount(nf, lineNo);
        rb.addRow(buf, rows.cols, starts, ends, nf, lineNo);
      }
      if (rb.batch.full) return pos;
    }
    return pos;
  };

  /** Scans all of buf, yielding each batch as it fills; returns the unconsumed offset. */
  const scanAll = function* (buf: Buffer, final: boolean): Generator<EventBatch, number> {
    let pos = 0;
    for (;;) {
      pos = scan(buf, pos, final);
      if (!rb.batch.full) return pos;
      yield rb.batch;
      rb.batch.reset();
    }
  };

  for await (const chunk of chunks) {
    const buf: Buffer = carry && carry.length ? Buffer.concat([carry, chunk]) : chunk;
    const used = yield* scanAll(buf, false);
    carry = used < buf.length ? buf.subarray(used) : null;
    // the carry must not alias a chunk the stream may reuse
    if (carry) carry = Buffer.from(carry);
  }
  if (carry && carry.length) yield* scanAll(carry, true);
  if (!rows.cols) throw new DataError(file, 0, "no header line (expected e.g. time_ms,op,pid,addr)");
  if (rb.batch.n) yield rb.batch;
}

/** Batches of events from CSV bytes. */
export function readCsv(chunks: AsyncIterable<Buffer>, file: string, opts: CsvOptions = {}): AsyncGenerator<EventBatch> {
  return opts.engine === "csv-parse" ? csvParsePath(chunks, file) : fastPath(chunks, file);
}

export { RowBuilder };
