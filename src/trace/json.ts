/**
 * JSON traces (SPEC §2): NDJSON (one event object a line) streamed, or a document
 * `{"machine": {...}, "tunables": {...}, "events": [...]}` read whole. Event objects use the
 * CSV column names as keys; values are strings or numbers (booleans for thp, null = absent)
 * and go through the same RowBuilder as CSV fields, so they are validated the same way.
 */
import { isUtf8 } from "node:buffer";
import { cut, DataError, describeValue, escapeControls, MAX_QUOTE, quoteInput } from "../errors.js";
import { BARE_CR, INVALID_UTF8, Scratch } from "./csv.js";
import { columnId, plainDecimal, RowBuilder, unknownColumnMessage } from "./fields.js";
import { duplicateKey, duplicateKeyMessage, jsonErrorLine, lineOf, locateJson } from "./json-locate.js";
import { C_THP, type EventBatch, type TraceHeader } from "./types.js";

const LONE_SURROGATE = /\p{Surrogate}/u;

/** A strict UTF-8 decoder: invalid bytes throw instead of becoming U+FFFD. */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });


/** Line (1-based, counted from `line0` + 1) of the first line of buf that is not valid UTF-8, or -1. */
function badUtf8Line(buf: Buffer, line0: number): number {
  let line = line0;
  for (let ls = 0; ls <= buf.length; ) {
    let nl = buf.indexOf(10, ls);
    if (nl < 0) nl = buf.length;
    line++;
    if (!isUtf8(buf.subarray(ls, nl))) return line;
    ls = nl + 1;
  }
  return -1;
}

/**
 * The text of a whole JSON file (a document or a machine file): strict UTF-8, a leading
 * BOM dropped. Invalid UTF-8 is a DataError at its line.
 */
export function decodeJsonText(buf: Buffer, file: string): string {
  let text: string;
  try {
    text = utf8.decode(buf);
  } catch {
    throw new DataError(file, Math.max(1, badUtf8Line(buf, 0)), INVALID_UTF8);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** A first NDJSON line `{"machine": ...}`: the machine the trace was made for (open.ts reads it). */
export function isMachineHeader(o: unknown): o is { machine: unknown } {
  if (typeof o !== "object" || o === null || Array.isArray(o)) return false;
  const keys = Object.keys(o);
  return keys.length === 1 && keys[0] === "machine";
}

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
      else if (typeof v === "string") {
        // "\ud800" and "\udbff" would both become U+FFFD: distinct ids made one
        if (LONE_SURROGATE.test(v)) throw new DataError(this.file, line, `${k}: not valid Unicode (an unpaired surrogate escape)`);
        s = v;
      }
      else if (typeof v === "number") s = plainDecimal(v); // 1e-7 as 0.0000001: CSV's fields take no exponent
      else if (typeof v === "boolean" && c === C_THP) s = v ? "1" : "0";
      else throw new DataError(this.file, line, `${k}: expected a string or a number, got ${describeValue(v)}`);
      if (n === 64) throw new DataError(this.file, line, "too many keys");
      this.cols[n++] = c;
      vals.push(s);
    }
    this.scratch.load(vals);
    this.rb.addRow(this.scratch.buf, this.cols, this.scratch.starts, this.scratch.ends, n, line);
  }
}

/**
 * NDJSON: one object a line; blank lines skipped; a first line `{"machine": ...}` names the
 * trace's machine (read by open.ts, skipped here). The bytes are split at newlines (a
 * newline byte is never inside a UTF-8 sequence). A line goes first to RowBuilder.fastJson,
 * which takes the common event line straight from its bytes (issue 20: no string, no
 * JSON.parse); any other line is decoded strictly (invalid UTF-8 is an error at its line) and
 * parsed with JSON.parse, as before. Lines are handled in order, so an error comes after the
 * events before it. Only a line cut by the end of a read chunk is copied, to join its rest.
 * `opts.fast` false sends every line to the general path (tests compare the two).
 */
export async function* readNdjson(chunks: AsyncIterable<Buffer>, file: string, opts: { fast?: boolean } = {}): AsyncGenerator<EventBatch> {
  const fast = opts.fast !== false;
  const rows = new ObjectRows(file);
  const rb = rows.rb;
  const b = rb.batch;
  let carry: Buffer | null = null;
  let lineNo = 0;
  let seenObject = false;
  /** the general path for the line `buf[s..e)` */
  const handle = (buf: Buffer, s: number, e: number) => {
    let text: string;
    try {
      text = utf8.decode(buf.subarray(s, e));
    } catch {
      throw new DataError(file, lineNo, INVALID_UTF8);
    }
    const t = text.trim();
    if (t === "") return;
    let obj: unknown;
    try {
      obj = JSON.parse(t);
    } catch (e) {
      // a CR inside the line: a CR-only file read as one line (as CSV says it)
      if (t.includes("\r")) throw new DataError(file, lineNo, BARE_CR);
      throw new DataError(file, lineNo, `invalid JSON: ${(e as Error).message}`);
    }
    // a key twice: JSON.parse would keep the last one silently (CSV: a column twice is an error)
    // (the machine line's object to the depth a machine file is checked to)
    const dup = duplicateKey(t, /^\{\s*"machine"/.test(t) ? 4 : 1);
    if (dup) throw new DataError(file, lineNo, duplicateKeyMessage(dup));
    if (!seenObject) {
      seenObject = true;
      if (isMachineHeader(obj)) return;
    } else if (isMachineHeader(obj)) throw new DataError(file, lineNo, 'a {"machine": ...} line must be the first line of the trace');
    // {"machine": ..., "tunables": ...} or {"tunables": ...}: a document's keys on an NDJSON line
    if (typeof obj === "object" && obj !== null && !Array.isArray(obj) && ("machine" in obj || "tunables" in obj))
      throw new DataError(file, lineNo, 'a {"machine": ...} line has the one key "machine" (tunables: `set` events at time 0, --set, or a JSON document {"machine", "tunables", "events"})');
    rows.add(obj, lineNo);
  };
  /** The lines of `buf[s..e)` (whole lines, each ending with a newline, but for the file's last one when `final`). */
  function* lines(buf: Buffer, s: number, e: number, final: boolean): Generator<EventBatch> {
    for (let ls = s; ls < e; ) {
      let nl = buf.indexOf(10, ls);
      if (nl < 0 || nl >= e) {
        if (!final) break;
        nl = e;
      }
      lineNo++;
      if (fast && rb.fastJson(buf, ls, nl, lineNo)) seenObject = true;
      else handle(buf, ls, nl);
      ls = nl + 1;
      if (b.full) {
        yield b;
        b.reset();
      }
    }
  }
  for await (const chunk of chunks) {
    let from = 0;
    if (carry) {
      // the line cut by the last chunk's end, joined with its rest
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        carry = Buffer.concat([carry, chunk]);
        continue;
      }
      const joined = Buffer.concat([carry, chunk.subarray(0, nl + 1)]);
      carry = null;
      yield* lines(joined, 0, joined.length, false);
      from = nl + 1;
    }
    const end = chunk.lastIndexOf(10) + 1;
    if (end > from) yield* lines(chunk, from, end, false);
    const rest = Math.max(end, from);
    carry = rest < chunk.length ? Buffer.from(chunk.subarray(rest)) : null;
  }
  if (carry && carry.length) yield* lines(carry, 0, carry.length, true);
  if (b.n) yield b;
}

/** A JSON document: parsed whole; its machine and tunables are returned in `header`. */
export async function readJsonDocument(
  chunks: AsyncIterable<Buffer>,
  file: string,
): Promise<{ header: TraceHeader; batches: () => AsyncGenerator<EventBatch> }> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  const text = decodeJsonText(Buffer.concat(parts), file);
  // an empty file is a trace with no events, as an empty CSV or NDJSON file is
  if (text.trim() === "") return { header: {}, batches: async function* () {} };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new DataError(file, jsonErrorLine(text, e), `invalid JSON: ${(e as Error).message}`);
  }
  const dups: { path: string; key: string; line: number }[] = [];
  const where = locateJson(text, 4, dups);
  const at = (p: string) => lineOf(where, p);
  // a key twice in the document, its machine or tunables, or an event: JSON.parse keeps the last silently
  if (dups.length) throw new DataError(file, dups[0]!.line, duplicateKeyMessage(dups[0]!, "the document"));
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw new DataError(file, 1, 'a JSON trace document must be an object {"machine", "tunables", "plugins", "events"}');
  const o = doc as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!["machine", "tunables", "plugins", "events"].includes(k))
      throw new DataError(file, at(`/${k}`), `unknown key ${quoteInput(k)} (known: machine, tunables, plugins, events)`);
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
        throw new DataError(file, at(`/tunables/${key}`), `${escapeControls(cut(key, MAX_QUOTE))}: expected a string or a number`);
      return { key, value, line: at(`/tunables/${key}`) };
    });
  }
  if (o.plugins !== undefined) {
    // plug-in modules (issue 22), relative to the trace's directory
    if (!Array.isArray(o.plugins) || !o.plugins.every((p) => typeof p === "string" && p !== ""))
      throw new DataError(file, at("/plugins"), '"plugins" must be an array of module paths ["plugin.mjs", ...]');
    header.plugins = o.plugins as string[];
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
