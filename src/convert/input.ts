/**
 * The input of `wsim convert`, streamed: a path or `-`, gzip inflated on the fly (detected from
 * its magic bytes), the first 64 KiB held back for sniffing, then every chunk (the first again)
 * in order; lines decoded with a streaming UTF-8 decoder, so a character split across two
 * chunks stays whole. Memory is a chunk or two, whatever the input's length.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { createGunzip } from "node:zlib";
import { DataError, describeErrno } from "../errors.js";

// 256 KiB reads: each chunk is garbage once its lines are out, and less of it waits for the GC
const CHUNK = 1 << 18;
/** bytes sniffImport and the trace sniffer look at */
const SNIFF = 1 << 16;

export interface ConvertInput {
  /** the name errors use: the path, or `-` */
  name: string;
  /** at least the first 64 KiB of the (inflated) input, or all of it when shorter */
  first: Buffer;
  /** every chunk of the (inflated) input from its start, `first` included; read once */
  chunks: AsyncIterable<Buffer>;
  /** stops reading (the file is closed) when the chunks will not be read */
  close: () => void;
  /**
   * a regular file, which a reader may open again; false for standard input and for a FIFO
   * or device (`<(...)`), whose bytes can be read once: hand `chunks` on instead
   */
  regular: boolean;
}

/**
 * Opens `path` (`-`: standard input, or `stdin` when given) for converting. Throws DataError
 * `path: cannot read: WORDS (CODE)` when it cannot be opened, `path: gzip: ...` for broken gzip.
 */
export async function openConvertInput(path: string, stdin?: Readable): Promise<ConvertInput> {
  const isStdin = path === "-";
  const name = isStdin ? "-" : path;
  let src: Readable;
  let regular = false;
  if (isStdin) src = stdin ?? process.stdin;
  else {
    try {
      const st = await stat(path);
      if (st.isDirectory()) throw new DataError(name, 0, "is a directory, not a trace");
      regular = st.isFile();
    } catch (e) {
      if (e instanceof DataError) throw e;
      throw new DataError(name, 0, `cannot read: ${describeErrno(e)}`);
    }
    src = createReadStream(path, { highWaterMark: CHUNK });
  }
  const wrap = (e: unknown): Error => {
    if (e instanceof DataError) return e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code?.startsWith("Z_") || (e as Error).message?.includes("unexpected end")) return new DataError(name, 0, `gzip: ${(e as Error).message}`);
    return new DataError(name, 0, `cannot read: ${describeErrno(e)}`);
  };
  let it = (src as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const held: Buffer[] = [];
  let heldBytes = 0;
  let done = false;
  const pull = async (): Promise<Buffer | null> => {
    try {
      const r = await it.next();
      return r.done ? null : r.value;
    } catch (e) {
      throw wrap(e);
    }
  };
  const fill = async () => {
    while (heldBytes < SNIFF && !done) {
      const c = await pull();
      if (c === null) done = true;
      else (held.push(c), (heldBytes += c.length));
    }
  };
  await fill();
  const head = Buffer.concat(held);
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    // inflate: the raw chunks held so far, then the rest of the file, through one gunzip
    const rawIt = it;
    const rawDone = done;
    const gz = createGunzip({ chunkSize: CHUNK });
    const raw = (async function* () {
      yield head;
      if (!rawDone) for (let r = await rawIt.next(); !r.done; r = await rawIt.next()) yield r.value;
    })();
    (async () => {
      try {
        for await (const c of raw) if (!gz.write(c)) await new Promise((res) => gz.once("drain", res));
        gz.end();
      } catch (e) {
        gz.destroy(e as Error);
      }
    })();
    it = (gz as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    held.length = 0;
    heldBytes = 0;
    done = false;
    await fill();
  }
  const first = Buffer.concat(held);
  let used = false;
  async function* chunks(): AsyncGenerator<Buffer> {
    if (used) throw new Error("a convert input is read once");
    used = true;
    if (first.length) yield first;
    if (done) return;
    for (let c = await pull(); c !== null; c = await pull()) yield c;
  }
  const close = () => {
    (src as Readable).destroy?.();
  };
  return { name, first, chunks: chunks(), close, regular };
}

/**
 * Calls `line(text, number)` for every line of `chunks` (numbered from 1; `\n` ends a line, a
 * trailing `\r` is kept for the importer's own trimming), then `chunkDone()` after each chunk's
 * lines, so the caller can write out and wait for its output to drain.
 */
export async function forEachLine(
  chunks: AsyncIterable<Buffer>,
  line: (text: string, no: number) => void,
  chunkDone: () => Promise<void> | void,
): Promise<void> {
  const dec = new StringDecoder("utf8");
  let carry = "";
  let no = 0;
  for await (const c of chunks) {
    const text = carry + dec.write(c);
    let pos = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", pos)) {
      line(text.slice(pos, nl), ++no);
      pos = nl + 1;
    }
    carry = text.slice(pos);
    await chunkDone();
  }
  carry += dec.end();
  if (carry.length) line(carry, ++no);
  await chunkDone();
}

/**
 * forEachLine for an importer that reads bytes: `line(buf, start, end, number)` for every line
 * of `chunks` (the bytes before each `\n`, a trailing `\r` kept), then `chunkDone()` after each
 * chunk's lines. A line split across chunks is joined (its bytes copied once); nothing is
 * decoded, so a UTF-8 character is never cut.
 */
export async function forEachLineBytes(
  chunks: AsyncIterable<Buffer>,
  line: (buf: Buffer, start: number, end: number, no: number) => void,
  chunkDone: () => Promise<void> | void,
): Promise<void> {
  let carry: Buffer | null = null;
  let no = 0;
  for await (const c of chunks) {
    let pos = 0;
    if (carry) {
      // the line the last chunk ended in: joined with this chunk's first line alone (copying
      // the whole chunk onto it cost a copy of the input)
      const nl = c.indexOf(10);
      if (nl < 0) {
        carry = Buffer.concat([carry, c]);
        await chunkDone();
        continue;
      }
      const joined = Buffer.concat([carry, c.subarray(0, nl)]);
      carry = null;
      line(joined, 0, joined.length, ++no);
      pos = nl + 1;
    }
    for (let nl = c.indexOf(10, pos); nl >= 0; nl = c.indexOf(10, pos)) {
      line(c, pos, nl, ++no);
      pos = nl + 1;
    }
    carry = pos < c.length ? Buffer.from(c.subarray(pos)) : null;
    await chunkDone();
  }
  if (carry) line(carry, 0, carry.length, ++no);
  await chunkDone();
}
