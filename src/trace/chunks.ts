/**
 * The bytes of a trace file as chunks: a regular file read directly into two buffers used in
 * turn, or a stream (standard input, a pipe, a gzipped file) with gzip inflated on the fly.
 * Shared by openTrace (open.ts) and the parse worker (parse-worker.ts), which reads the file
 * again as openTrace did and imports only this and the readers (a worker's start is part of
 * every run that uses it).
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { pipeline, Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { DataError, describeErrno } from "../errors.js";

export const CHUNK = 1 << 20;
/**
 * bytes of a regular file's first read (directChunks): more than the 64 KiB that sniffing and
 * `# wsim: machine=` look at, which treat a first chunk of more than 64 KiB as cut there
 */
export const FIRST = 128 << 10;

/** Chunks of a stream with gzip inflated when the first bytes are its magic. Returns the first chunk too. */
export async function plainChunks(src: Readable, name: string): Promise<{ first: Buffer; rest: AsyncIterable<Buffer> }> {
  const it = src[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const wrapErr = (e: unknown) => {
    if (e instanceof DataError) return e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "Z_DATA_ERROR" || code === "Z_BUF_ERROR" || (e as Error).message?.includes("unexpected end"))
      return new DataError(name, 0, `gzip: ${(e as Error).message}`);
    return new DataError(name, 0, `cannot read: ${describeErrno(e)}`);
  };
  const raw = await peek(it, wrapErr);
  if (raw.first.length >= 2 && raw.first[0] === 0x1f && raw.first[1] === 0x8b) {
    // pipeline, not pipe: an error of the compressed stream (a read error, or the premature
    // close of a source closed while gunzip still read ahead, as when the parse worker takes
    // the file over) reaches gunzip and so its reader, instead of being an unhandled 'error'
    const gz = createGunzip({ chunkSize: CHUNK });
    pipeline(Readable.from(raw.rest), gz, () => {});
    return peek(gz[Symbol.asyncIterator]() as AsyncIterator<Buffer>, wrapErr);
  }
  return raw;
}

/** Reads the first chunk of an iterator; `rest` yields it again, then the others, errors wrapped. */
async function peek(
  it: AsyncIterator<Buffer>,
  wrapErr: (e: unknown) => Error,
): Promise<{ first: Buffer; rest: AsyncIterable<Buffer> }> {
  const next = async () => {
    try {
      return await it.next();
    } catch (e) {
      throw wrapErr(e);
    }
  };
  const r = await next();
  const first = r.done ? Buffer.alloc(0) : Buffer.from(r.value);
  async function* rest(): AsyncGenerator<Buffer> {
    if (first.length) yield first;
    for (let n = await next(); !n.done; n = await next()) yield n.value;
  }
  return { first, rest: rest() };
}

/**
 * A regular file that is not gzipped: its first FIRST bytes, then CHUNK-sized pieces read
 * into two buffers used in turn (a fresh 1 MiB buffer per chunk cost more CPU than decoding
 * a .wtrace), the next chunk read (in libuv's thread pool) while the current one is parsed:
 * each chunk is valid until the next is asked for, which every streaming reader here allows
 * (they copy what they carry over). `first` is the caller's to keep. null for a gzipped file (the stream path inflates
 * it) and for a JSON document (its reader keeps every chunk).
 */
export async function directChunks(path: string, name: string): Promise<{ first: Buffer; rest: AsyncIterable<Buffer>; bytes: () => number; close: () => void } | null> {
  let fh: import("node:fs/promises").FileHandle;
  try {
    fh = await open(path, "r");
  } catch (e) {
    throw new DataError(name, 0, `cannot read: ${describeErrno(e)}`);
  }
  let bytes = 0;
  /** reads the next bytes into buf (at most its length); never rejects (an error comes back as the value) */
  const read = (buf: Buffer): Promise<Buffer | Error> =>
    fh.read(buf, 0, buf.length, null).then(
      (r) => buf.subarray(0, r.bytesRead),
      (e: unknown) => new DataError(name, 0, `cannot read: ${describeErrno(e)}`),
    );
  const got = async (p: Promise<Buffer | Error>): Promise<Buffer> => {
    const r = await p;
    if (r instanceof Error) {
      await fh.close().catch(() => {});
      throw r;
    }
    bytes += r.length; // what the reader has been given (or is about to be)
    return r;
  };
  // the first read is small and its buffer the reader's own (never read into again): what
  // openTrace looks at needs 64 KiB, and two fresh 1 MiB buffers and a copy cost ~6 ms
  const first = await got(read(Buffer.allocUnsafe(FIRST)));
  if (first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b) {
    await fh.close();
    return null;
  }
  async function* rest(): AsyncGenerator<Buffer> {
    try {
      if (first.length) yield first;
      if (!first.length) return;
      // made at the second read: a file then read in the worker needs none here
      const bufs = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
      let k = 0;
      let next = read(bufs[k]!);
      for (;;) {
        const chunk = await got(next);
        if (!chunk.length) return;
        // the read after it goes into the other buffer, which the reader is done with
        k ^= 1;
        next = read(bufs[k]!);
        yield chunk;
      }
    } finally {
      await fh.close().catch(() => {});
    }
  }
  return { first, rest: rest(), bytes: () => bytes, close: () => void fh.close().catch(() => {}) };
}

/**
 * A stream's chunks, gzip inflated when the first bytes say so, counting the bytes read from
 * the stream (compressed bytes for gzip): openTrace's reading of anything but a plain regular file.
 */
export async function countedChunks(src: Readable, name: string): Promise<{ first: Buffer; rest: AsyncIterable<Buffer>; bytes: () => number }> {
  let bytes = 0;
  const counted = Readable.from(
    (async function* () {
      for await (const c of src as AsyncIterable<Buffer>) {
        bytes += c.length;
        yield c;
      }
    })(),
  );
  const { first, rest } = await plainChunks(counted, name);
  return { first, rest, bytes: () => bytes };
}

/**
 * The chunks of the file at `path` as openTrace read them when it opened it: `direct` when
 * it read the file directly (a regular file, not gzipped; directChunks), else as a stream
 * (countedChunks). `bytes` is what openTrace's progress says. Errors: DataError
 * `path:0: cannot read: ...` (and gzip's), as openTrace's.
 */
export async function fileChunks(path: string, direct: boolean): Promise<{ rest: AsyncIterable<Buffer>; bytes: () => number }> {
  if (direct) {
    const d = await directChunks(path, path);
    // a file gzipped since openTrace looked at it: read it as a stream, as openTrace would now
    if (d) return d;
  }
  const src = createReadStream(path, { highWaterMark: CHUNK });
  try {
    return await countedChunks(src, path);
  } catch (e) {
    src.destroy();
    throw e;
  }
}

/**
 * The bytes of a CSV trace's first line when it is the header (the file starts, after a
 * UTF-8 BOM, with a letter, as every column name does: no comment, blank line or `# wsim:`
 * directive before it) and it ends in `first`; else -1. A trace split between the main
 * thread and the parse worker (open.ts) needs its header there, as the worker parses it too.
 */
export function headerLineBytes(first: Buffer): number {
  const a = first.length >= 3 && first[0] === 0xef && first[1] === 0xbb && first[2] === 0xbf ? 3 : 0;
  const c = first[a] ?? 0;
  if (!((c >= 97 && c <= 122) || (c >= 65 && c <= 90))) return -1;
  const nl = first.indexOf(10, a);
  return nl < 0 ? -1 : nl + 1;
}

/** untilLineAt's pieces: a chunk is given out in pieces of at most this many bytes */
const PIECE = 128 << 10;

/**
 * The chunks up to the split point of `split.at`: the end of the first line that ends at or
 * after byte `at` - 1 (the bytes through its `\n`), or every chunk when no line does; then
 * the source is closed. `at` may be set while the chunks are read (Infinity: not yet):
 * `split.poll` is called before each piece of at most PIECE bytes is given out, and may set
 * it; `split.given` counts the bytes given out so far. The main thread parses these while
 * the parse worker starts, which takes the rest (fromLineAt: the same split point).
 */
export async function* untilLineAt(rest: AsyncIterable<Buffer>, split: { at: number; given: number; poll?: () => void }): AsyncGenerator<Buffer> {
  const it = rest[Symbol.asyncIterator]();
  /** the last byte given out was a newline */
  let endsLine = false;
  try {
    for (let r = await it.next(); !r.done; r = await it.next()) {
      const c = r.value;
      for (let p = 0; p < c.length; ) {
        split.poll?.();
        const end = Math.min(c.length, p + PIECE);
        const from = split.at - 1 - split.given;
        // byte at - 1 was given already (poll set at to the bytes given): when it ended a line,
        // the part is complete (fromLineAt starts the worker right after it)
        if (from < 0 && endsLine) return;
        if (from < end - p) {
          const nl = c.indexOf(10, p + Math.max(0, from));
          if (nl >= 0) {
            split.given += nl + 1 - p;
            yield c.subarray(p, nl + 1);
            return;
          }
        }
        split.given += end - p;
        endsLine = c[end - 1] === 10;
        yield c.subarray(p, end);
        p = end;
      }
    }
  } finally {
    await it.return?.();
  }
}

/** `\n` bytes in buf[a..b) */
function newlines(buf: Buffer, a: number, b: number): number {
  let n = 0;
  for (let k = a; k < b; k++) if (buf[k] === 10) n++;
  return n;
}

/**
 * What the parse worker reads of a trace the main thread parses up to the split point of
 * `at` (untilLineAt): the header line (the first `headerBytes` bytes, headerLineBytes), then
 * the bytes from the split point on; `lines` is the number of lines between the two (the
 * reader numbers the lines after the header from 2 + lines). Requires at > headerBytes.
 */
export async function fromLineAt(rest: AsyncIterable<Buffer>, headerBytes: number, at: number): Promise<{ chunks: AsyncGenerator<Buffer>; lines: number }> {
  const it = rest[Symbol.asyncIterator]();
  const head = Buffer.allocUnsafe(headerBytes);
  let got = 0;
  let off = 0;
  let lines = 0;
  /** the bytes from the split point in its chunk; null: the file ends before it */
  let tail: Buffer | null = null;
  for (let r = await it.next(); !r.done; r = await it.next()) {
    const c = r.value;
    let p = 0;
    if (got < headerBytes) {
      p = Math.min(c.length, headerBytes - got);
      c.copy(head, got, 0, p);
      got += p;
    }
    const from = Math.max(p, at - 1 - off);
    const nl = from < c.length ? c.indexOf(10, from) : -1;
    if (nl < 0) {
      lines += newlines(c, p, c.length);
      off += c.length;
      continue;
    }
    lines += newlines(c, p, nl + 1);
    tail = c.subarray(nl + 1);
    break;
  }
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      yield head.subarray(0, got);
      if (tail === null) return;
      if (tail.length) yield tail;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    } finally {
      await it.return?.();
    }
  }
  return { chunks: chunks(), lines };
}
