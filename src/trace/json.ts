/**
 * JSON traces (SPEC §2): NDJSON (one event object a line) streamed, or a document
 * `{"machine": {...}, "tunables": {...}, "events": [...]}` read whole. Event objects use the
 * CSV column names as keys; values are strings or numbers (booleans for thp, null = absent)
 * and go through the same RowBuilder as CSV fields, so they are validated the same way.
 */
import { DataError } from "../errors.js";
import { Scratch } from "./csv.js";
import { columnId, RowBuilder, unknownColumnMessage } from "./fields.js";
import { jsonErrorLine, lineOf, locateJson } from "./json-locate.js";
import { C_THP, type EventBatch, type TraceHeader } from "./types.js";

class ObjectRows {
  readonly rb: RowBuilder;
  private readonly scratch = new Scratch();
  private readonly cols = new Int8Array(64);
  private readonly vals: string[] = [];
  constructor(readonly file: string) {
    this.rb = new RowBuilder(file);
  }

  add(obj: unknown, line: number): void {
    if (typeof obj !== "object" || obj === null || Array.isArray(obj))
      throw new DataError(this.file, line, "an event must be a JSON object");
    const vals = this.vals;
    vals.length = 0;
    let n = 0;
    for (const k in obj as Record<string, unknown>) {
      const c = columnId(k);
      if (c < 0) throw new DataError(this.file, line, unknownColumnMessage(k));
      const v = (obj as Record<string, unknown>)[k];
      let s: string;
      if (v === null || v === undefined) s = "";
      else if (typeof v === "string") s = v;
      else if (typeof v === "number") s = String(v);
      else if (typeof v === "boolean" && c === C_THP) s = v ? "1" : "0";
      else throw new DataError(this.file, line, `${k}: expected a string or a number, got ${JSON.stringify(v)}`);
      if (n === 64) throw new DataError(this.file, line, "too many keys");
      this.cols[n++] = c;
      vals.push(s);
    }
    this.scratch.load(vals);
    this.rb.addRow(this.scratch.buf, this.cols, this.scratch.starts, this.scratch.ends, n, line);
  }
}

/** NDJSON: one object a line; blank lines skipped. */
export async function* readNdjson(chunks: AsyncIterable<Buffer>, file: string): AsyncGenerator<EventBatch> {
  const rows = new ObjectRows(file);
  const b = rows.rb.batch;
  let carry = "";
  let lineNo = 0;
  const handle = (text: string) => {
    lineNo++;
    const t = text.trim();
    if (t === "") return;
    let obj: unknown;
    try {
      obj = JSON.parse(t);
    } catch (e) {
      throw new DataError(file, lineNo, `invalid JSON: ${(e as Error).message}`);
    }
    rows.add(obj, lineNo);
  };
  for await (const chunk of chunks) {
    const text = carry + chunk.toString("utf8");
    let pos = 0;
    for (;;) {
      const nl = text.indexOf("\n", pos);
      if (nl < 0) break;
      handle(text.slice(pos, nl));
      pos = nl + 1;
      if (b.full) {
        yield b;
        b.reset();
      }
    }
    carry = text.slice(pos);
  }
  if (carry.length) handle(carry);
  if (b.n) yield b;
}

/** A JSON document: parsed whole; its machine and tunables are returned in `header`. */
export async function readJsonDocument(
  chunks: AsyncIterable<Buffer>,
  file: string,
): Promise<{ header: TraceHeader; batches: () => AsyncGenerator<EventBatch> }> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  const text = Buffer.concat(parts).toString("utf8");
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new DataError(file, jsonErrorLine(text, e), `invalid JSON: ${(e as Error).message}`);
  }
  const where = locateJson(text, 4);
  const at = (p: string) => lineOf(where, p);
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw new DataError(file, 1, 'a JSON trace document must be an object {"machine", "tunables", "events"}');
  const o = doc as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!["machine", "tunables", "events"].includes(k))
      throw new DataError(file, at(`/${k}`), `unknown key "${k}" (known: machine, tunables, events)`);
  if (!Array.isArray(o.events)) throw new DataError(file, at("/events"), 'the document needs an "events" array');
  const header: TraceHeader = {};
  if (o.machine !== undefined) {
    header.machine = o.machine;
    header.machineLine = (p: string) => at(`/machine${p}`);
  }
  if (o.tunables !== undefined) {
    if (typeof o.tunables !== "object" || o.tunables === null || Array.isArray(o.tunables))
      throw new DataError(file, at("/tunables"), '"tunables" must be an object of key: value');
    header.tunables = Object.entries(o.tunables as Record<string, unknown>).map(([key, value]) => {
      if (typeof value !== "string" && typeof value !== "number")
        throw new DataError(file, at(`/tunables/${key}`), `${key}: expected a string or a number`);
      return { key, value, line: at(`/tunables/${key}`) };
    });
  }
  const events = o.events as unknown[];
  async function* batches(): AsyncGenerator<EventBatch> {
    const rows = new ObjectRows(file);
    const b = rows.rb.batch;
    for (let k = 0; k < events.length; k++) {
      rows.add(events[k], at(`/events/${k}`));
      if (b.full) {
        yield b;
        b.reset();
      }
    }
    if (b.n) yield b;
  }
  return { header, batches };
}
