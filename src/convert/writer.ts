/**
 * Writing a trace as it is converted: rows are encoded into 1 MiB blocks that go out when full, to standard output (waiting for it to drain) or to a temporary file beside OUT that
 * is renamed into place at the end (OUT is written whole or not at all, as `-o` is elsewhere).
 * Memory is the buffer, whatever the trace's length.
 *
 * What each format carries of a JSON document's header (SPEC §2): a `.json` document keeps the
 * machine and the tunables; CSV and NDJSON carry the tunables as `set` events at time 0 (a
 * document's tunables hold from boot); NDJSON carries the machine as its first line `{"machine": ...}`; CSV carries a
 * machine's name (`# wsim: machine=NAME`) but not a machine object.
 */
import { OutputSink } from "../cli/output.js";
import { DataError } from "../errors.js";
import { plainDecimal } from "../trace/fields.js";
import { COLUMNS, type Row } from "../generate/generators.js";
import type { TraceFormat } from "../trace/types.js";

/** What a target format keeps of a document's machine and tunables. */
export const TARGET_CARRIES: Record<TraceFormat, { machine: "object" | "name"; tunables: "document" | "set events" }> = {
  // a document's "machine" (an object or a name); NDJSON's first line {"machine": ...}
  json: { machine: "object", tunables: "document" },
  ndjson: { machine: "object", tunables: "set events" },
  // CSV names a machine in a comment (`# wsim: machine=NAME`): a preset or a machine file
  csv: { machine: "name", tunables: "set events" },
  // .wtrace's header keeps a document's machine and tunables (src/trace/wtrace.ts)
  wtrace: { machine: "object", tunables: "document" },
};

/**
 * Where the formatted bytes go: written in order (each write resolves once its bytes are no
 * longer needed, so the writer reuses the buffer), then committed (or aborted on an error).
 */
export interface Sink {
  write(bytes: Buffer): Promise<void>;
  commit(): Promise<void>;
  abort(): void;
}

/**
 * `-o path` (or "-" for standard output) through the one writer every command uses
 * (OutputSink, src/cli/output.ts): whole or nothing, gzipped for a `.gz` name, devices, FIFOs
 * and symlinks written through, temporary files removed on SIGINT/SIGTERM, a slow pipe waited
 * for. The bytes are written (or copied) at once, so the writer may reuse its buffer.
 */
export function outputSink(path: string): Sink {
  const out = new OutputSink(path);
  return {
    write: async (bytes) => {
      out.writeBytes(bytes);
      // let SIGINT/SIGTERM handlers run between chunks (they remove the temporary file)
      await new Promise((res) => setImmediate(res));
    },
    commit: async () => out.commit(),
    abort: () => out.abort(),
  };
}

// TraceWriter.csv reads the columns by name, in this order
if (COLUMNS.join() !== "time_ms,op,pid,addr,len,rw,node,kind,thp,cg,id,order,mt,key,value") throw new Error("writer.ts: COLUMNS changed: update TraceWriter.csv");

/** the bytes a field may take in the block */
const room = (v: string | number | undefined): number => (v === undefined ? 0 : typeof v === "string" ? v.length * 3 + 3 : 24);

/** the size of the buffers rows are encoded into */
const BLOCK = 1 << 20;

/**
 * `v` in decimal at b[pos], as plainDecimal(v) prints it (String(v) without exponents), without making the string for the common
 * cases (integers, and times rounded to three decimals); returns the end.
 */
function putNumber(b: Buffer, pos: number, v: number): number {
  if (Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER) return putUint(b, pos, v);
  const u = Math.round(v * 1000);
  if (!(v > 0 && u / 1000 === v && u <= Number.MAX_SAFE_INTEGER)) return pos + b.write(plainDecimal(v), pos, "latin1");
  pos = putUint(b, pos, Math.floor(u / 1000));
  const f = u % 1000;
  const d1 = Math.floor(f / 100);
  const d2 = Math.floor(f / 10) % 10;
  const d3 = f % 10;
  b[pos++] = 46;
  b[pos++] = 48 + d1;
  if (d2 || d3) b[pos++] = 48 + d2;
  if (d3) b[pos++] = 48 + d3;
  return pos;
}

function putUint(b: Buffer, pos: number, n: number): number {
  if (n < 0x80000000) {
    // int32 arithmetic: (n / 10) | 0 is an integer division, Math.floor(n / 10) a float one
    let len = 1;
    for (let t = n; t >= 10; t = (t / 10) | 0) len++;
    for (let k = pos + len - 1; k >= pos; k--) {
      const q = (n / 10) | 0;
      b[k] = 48 + n - q * 10;
      n = q;
    }
    return pos + len;
  }
  let len = 1;
  for (let t = n; t >= 10; t = Math.floor(t / 10)) len++;
  for (let k = pos + len - 1; k >= pos; k--) {
    b[k] = 48 + (n % 10);
    n = Math.floor(n / 10);
  }
  return pos + len;
}

/**
 * A CSV field that needs no quoting and is ASCII, copied to b[pos]; returns the end, or
 * -(pos + 1) when the field needs csvField (quotes, outer spaces, non-ASCII).
 */
function putAscii(b: Buffer, pos: number, v: string): number {
  const n = v.length;
  if (n && (v.charCodeAt(0) <= 32 || v.charCodeAt(n - 1) <= 32)) return -pos - 1;
  for (let k = 0; k < n; k++) {
    const c = v.charCodeAt(k);
    if (c === 44 || c === 34 || c < 32 || c > 126) return -pos - 1;
    b[pos + k] = c;
  }
  return pos + n;
}

/** `"a,b"` for a CSV field that holds a comma, a quote or outer spaces (the readers trim). */
function csvField(v: string | number, out: string): string {
  if (typeof v === "number") return plainDecimal(v);
  let plain = v.length === 0 || (v.charCodeAt(0) > 32 && v.charCodeAt(v.length - 1) > 32);
  for (let k = 0; plain && k < v.length; k++) {
    const c = v.charCodeAt(k);
    plain = c !== 44 && c !== 34 && c !== 10 && c !== 13; // , " \n \r
  }
  if (plain) return v;
  if (/[\r\n]/.test(v)) throw new DataError(out, 0, `a value with a line break cannot be written to CSV (${JSON.stringify(v.slice(0, 40))}): write .ndjson or .json`);
  return '"' + v.replace(/"/g, '""') + '"';
}

/** The CSV text of a row (COLUMNS, then `extra`, quoted where a field needs it); `out` names the file in errors. */
export function csvRow(r: Row, out = "-", extra: readonly string[] = []): string {
  let s = "";
  const cols = extra.length ? [...COLUMNS, ...extra] : COLUMNS;
  for (let k = 0; k < cols.length; k++) {
    const v = r[cols[k]!];
    if (k) s += ",";
    if (v !== undefined) s += csvField(v, out);
  }
  return s;
}

/** NDJSON's and JSON's keys: CSV's columns, `gfp` (an alloc's), `advice` (a madvise's), `cpu`, `child` (a fork's), `file` and `off` (buffered I/O's), which they carry when a row has them. */
const ROW_KEYS = [...COLUMNS, "gfp", "advice", "cpu", "child", "file", "off"];

/** The NDJSON text of a row (keys in COLUMNS' order, then gfp, then cpu). */
export function ndjsonRow(r: Row): string {
  let s = "{";
  for (let k = 0; k < ROW_KEYS.length; k++) {
    const c = ROW_KEYS[k]!;
    const v = r[c];
    if (v === undefined) continue;
    if (s.length > 1) s += ",";
    s += `"${c}":` + (typeof v === "number" ? plainDecimal(v) : JSON.stringify(v));
  }
  return s + "}";
}

/** A document's header as convert keeps it. */
export interface DocHeader {
  /** the machine as the source wrote it: an object, or a name (a preset or a machine file's path) */
  machine?: unknown;
  /** the document's tunables, in its order */
  tunables?: { key: string; value: string | number }[];
  /** (an importer's) what the rows are: `# ` comment lines at the top of a CSV (other formats have no comments) */
  comment?: string;
  /**
   * the columns after COLUMNS a CSV carries (a subset of EXTRA_COLUMNS, in its order): a wsim
   * trace's gfp, advice, cpu, child, file, off; an importer's none (a row with another is an error)
   */
  columns?: readonly string[];
}

/** The columns a CSV may have after COLUMNS, in the order wsim writes them (SPEC §2). */
export const EXTRA_COLUMNS: readonly string[] = ["gfp", "advice", "cpu", "child", "file", "off"];

/**
 * A trace being written in `format` to `sink`. `row` formats at once (the row may be reused
 * by its caller); `drain` writes the buffer out once it is large and waits; `end` finishes the
 * format and commits. With a header, CSV and NDJSON get the tunables as set events before
 * the first row, at time 0 (a document's tunables hold from boot); `.json` keeps both.
 */
export class TraceWriter {
  // each row is encoded at once into a block (a string built by += is a rope of small pieces
  // until it is flattened: holding a chunk's worth of rows as one string took ~1 KB a row)
  private block: Buffer = Buffer.allocUnsafe(BLOCK);
  private pos = 0;
  private full: Buffer[] = [];
  /** blocks written out, to be filled again */
  private pool: Buffer[] = [];
  private rows = 0;
  private pendingSets: { key: string; value: string | number }[];
  /** the CSV's columns after COLUMNS (DocHeader.columns) */
  private readonly extra: readonly string[];
  /** the time the header's tunables were written at as set events, once they were */
  setsAtMs: number | null = null;

  constructor(
    readonly format: TraceFormat,
    private readonly sink: Sink,
    private readonly out: string,
    header: DocHeader = {},
  ) {
    const carries = TARGET_CARRIES[format];
    this.extra = format === "csv" ? EXTRA_COLUMNS.filter((c) => header.columns?.includes(c)) : [];
    this.pendingSets = carries.tunables === "set events" ? (header.tunables ?? []) : [];
    if (format === "csv") {
      if (typeof header.machine === "string") this.put(`# wsim: machine=${header.machine}\n`);
      for (const l of header.comment?.split("\n") ?? []) this.put(`# ${l}\n`);
      this.put([...COLUMNS, ...this.extra].join(",") + "\n");
    } else if (format === "ndjson") {
      if (header.machine !== undefined && (typeof header.machine === "string" || carries.machine === "object"))
        this.put(JSON.stringify({ machine: header.machine }) + "\n");
    } else if (format === "json") {
      this.put("{\n");
      if (header.machine !== undefined) this.put(`  "machine": ${JSON.stringify(header.machine)},\n`);
      if (header.tunables?.length) this.put(`  "tunables": ${JSON.stringify(Object.fromEntries(header.tunables.map((t) => [t.key, t.value])))},\n`);
      this.put('  "events": [\n');
    }
  }

  /** appends `s`; `put("")` when the block has too little room starts a new one */
  private put(s: string): void {
    if (this.pos + s.length * 3 > BLOCK || s === "") {
      if (this.pos) this.full.push(this.block.subarray(0, this.pos));
      this.block = s.length * 3 <= BLOCK ? (this.pool.pop() ?? Buffer.allocUnsafe(BLOCK)) : Buffer.allocUnsafe(s.length * 3);
      this.pos = 0;
    }
    this.pos += this.block.write(s, this.pos);
  }

  row(r: Row): void {
    if (this.pendingSets.length) this.writeSets(0); // a document's tunables hold from boot
    // the CSV header is written before the first row: a row with a column it lacks (an
    // importer's CSV has none of the extra ones) would lose it; NDJSON, JSON and .wtrace keep all
    if (this.format === "csv")
      for (const c of EXTRA_COLUMNS)
        if (r[c] !== undefined && !this.extra.includes(c))
          throw new DataError(this.out, 0, `${r.op}${r.pid !== undefined ? ` of pid ${r.pid}` : r.id !== undefined ? ` ${r.id}` : ""} at ${r.time_ms} ms has ${c}=${r[c]}, which this CSV's columns (those of its source) do not include: convert to .ndjson, .json or .wtrace, which keep it`);
    if (this.format === "csv") this.csv(r);
    else if (this.format === "ndjson") this.put(ndjsonRow(r) + "\n");
    else this.put((this.rows ? ",\n    " : "    ") + ndjsonRow(r));
    this.rows++;
  }

  /**
   * a CSV row written field by field into the block: no row string, little garbage. The
   * fields are read by name, one property access each (a loop over COLUMNS reading r[c] made
   * every access a megamorphic lookup: a third of `wsim convert --from ftrace`'s time).
   */
  private csv(r: Row): void {
    const t = r.time_ms, op = r.op, pid = r.pid, addr = r.addr, len = r.len, rw = r.rw, node = r.node, kind = r.kind;
    const thp = r.thp, cg = r.cg, id = r.id, order = r.order, mt = r.mt, key = r.key, value = r.value;
    let more = 0;
    for (let k = 0; k < this.extra.length; k++) more += 1 + room(r[this.extra[k]!]);
    const need = 32 + more + room(t) + room(op) + room(pid) + room(addr) + room(len) + room(rw) + room(node) + room(kind) + room(thp) + room(cg) + room(id) + room(order) + room(mt) + room(key) + room(value);
    if (this.pos + need > this.block.length) this.put("");
    if (need > this.block.length) return this.put(csvRow(r, this.out, this.extra) + "\n");
    const b = this.block;
    let pos = this.put1(b, this.pos, t);
    b[pos++] = 44;
    pos = this.put1(b, pos, op);
    b[pos++] = 44;
    pos = this.put1(b, pos, pid);
    b[pos++] = 44;
    pos = this.put1(b, pos, addr);
    b[pos++] = 44;
    pos = this.put1(b, pos, len);
    b[pos++] = 44;
    pos = this.put1(b, pos, rw);
    b[pos++] = 44;
    pos = this.put1(b, pos, node);
    b[pos++] = 44;
    pos = this.put1(b, pos, kind);
    b[pos++] = 44;
    pos = this.put1(b, pos, thp);
    b[pos++] = 44;
    pos = this.put1(b, pos, cg);
    b[pos++] = 44;
    pos = this.put1(b, pos, id);
    b[pos++] = 44;
    pos = this.put1(b, pos, order);
    b[pos++] = 44;
    pos = this.put1(b, pos, mt);
    b[pos++] = 44;
    pos = this.put1(b, pos, key);
    b[pos++] = 44;
    pos = this.put1(b, pos, value);
    for (let k = 0; k < this.extra.length; k++) {
      b[pos++] = 44;
      pos = this.put1(b, pos, r[this.extra[k]!]);
    }
    b[pos++] = 10;
    this.pos = pos;
  }

  /** one CSV field at b[pos] (nothing for undefined); returns the end */
  private put1(b: Buffer, pos: number, v: string | number | undefined): number {
    if (v === undefined) return pos;
    if (typeof v === "number") return putNumber(b, pos, v);
    const end = putAscii(b, pos, v);
    return end >= 0 ? end : pos + b.write(csvField(v, this.out), pos);
  }

  /**
   * `# TEXT` lines (CSV only: NDJSON and JSON have no comments; false is returned and nothing
   * written). Each line of `text` becomes one comment line.
   */
  comment(text: string): boolean {
    if (this.format !== "csv") return false;
    for (const l of text.split("\n")) this.put(`# ${l}\n`);
    return true;
  }

  private writeSets(t: number): void {
    const sets = this.pendingSets;
    this.pendingSets = [];
    this.setsAtMs = t;
    for (const s of sets) this.row({ time_ms: t, op: "set", key: s.key, value: String(s.value) });
  }

  /** Writes out the full blocks (and waits for the sink). */
  async drain(): Promise<void> {
    const full = this.full;
    this.full = [];
    for (const b of full) {
      await this.sink.write(b);
      if (b.buffer.byteLength === BLOCK && b.byteOffset === 0 && this.pool.length < 4) this.pool.push(Buffer.from(b.buffer, 0, BLOCK));
    }
  }

  async end(): Promise<void> {
    if (this.pendingSets.length) this.writeSets(0);
    if (this.format === "json") this.put((this.rows ? "\n" : "") + "  ]\n}\n");
    this.full.push(this.block.subarray(0, this.pos));
    this.pos = 0;
    await this.drain();
    await this.sink.commit();
  }
}
