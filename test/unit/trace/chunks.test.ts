/**
 * chunks.ts fileChunks: the parse worker reads a trace's file as openTrace did, directly (a
 * plain regular file) or as a stream (gzip inflated), with the same bytes for progress and
 * the same errors.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { Readable } from "node:stream";
import { CHUNK, FIRST, fileChunks, fromLineAt, headerLineBytes, plainChunks, untilLineAt } from "../../../src/trace/chunks.js";

const dir = mkdtempSync(join(tmpdir(), "wsim-chunks-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function all(rest: AsyncIterable<Buffer>): Promise<{ text: string; pieces: number[] }> {
  const parts: string[] = [];
  for await (const c of rest) parts.push(c.toString("latin1")); // a direct chunk is valid until the next is asked for
  return { text: parts.join(""), pieces: parts.map((p) => p.length) };
}

describe("fileChunks", () => {
  // CHUNK + 10 bytes: two reads of a plain file (1 MiB, then 10 bytes)
  const text = "x".repeat(CHUNK - 1) + "\n" + "0123456789";
  const plain = join(dir, "t.csv");
  writeFileSync(plain, text);

  it("a plain file read directly: every byte, FIRST bytes then CHUNK pieces, bytes() the file's size", async () => {
    const { rest, bytes } = await fileChunks(plain, true);
    // 128 KiB, then the other CHUNK + 10 - 128 Ki = 917,514 bytes in one read
    expect(await all(rest)).toEqual({ text, pieces: [FIRST, CHUNK + 10 - FIRST] });
    expect(bytes()).toBe(CHUNK + 10);
  });

  it("as a stream: the same bytes", async () => {
    const { rest, bytes } = await fileChunks(plain, false);
    expect((await all(rest)).text).toBe(text);
    expect(bytes()).toBe(CHUNK + 10);
  });

  it("a gzipped file, said to be direct (it was gzipped since): inflated, bytes() the compressed size", async () => {
    const gz = join(dir, "t.csv.gz");
    const z = gzipSync(Buffer.from(text));
    writeFileSync(gz, z);
    for (const direct of [true, false]) {
      const { rest, bytes } = await fileChunks(gz, direct);
      expect((await all(rest)).text).toBe(text);
      expect(bytes()).toBe(z.length);
    }
  });

  it("a file that is gone: openTrace's error, path: cannot read (line 0: no line)", async () => {
    for (const direct of [true, false]) await expect(fileChunks(join(dir, "gone.csv"), direct)).rejects.toThrow(/gone\.csv: cannot read: no such file or directory \(ENOENT\)$/);
  });
});

describe("a gzipped stream closed while gunzip reads ahead", () => {
  it("is no unhandled error: the reader that asks again gets it (openTrace closes its stream when the parse worker takes the file over)", async () => {
    // a gzipped trace arriving in 64 pieces, one per turn of the event loop: after the first,
    // gunzip's feed (Readable.from) has a read pending on the source when it is destroyed
    const gz = gzipSync("time_ms,op,pid\n" + "0,exit,1\n".repeat(20000));
    const pieces = Array.from({ length: 64 }, (_, k) => gz.subarray(Math.floor((k * gz.length) / 64), Math.floor(((k + 1) * gz.length) / 64)));
    const src = Readable.from(
      (async function* () {
        for (const p of pieces) {
          await new Promise((r) => setImmediate(r));
          yield p;
        }
      })(),
    );
    const unhandled: unknown[] = [];
    const catcher = (e: unknown) => unhandled.push(e);
    process.on("uncaughtException", catcher);
    process.on("unhandledRejection", catcher);
    try {
      const { first, rest } = await plainChunks(src, "t.csv.gz");
      expect("time_ms,op,pid\n".startsWith(first.toString("latin1").slice(0, 15))).toBe(true);
      src.destroy(); // as worker.close() does
      for (let k = 0; k < 20; k++) await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
      // a reader that goes on gets the stream's end as an error of the trace, not a hang
      await expect(all(rest)).rejects.toThrow(/^t\.csv\.gz: cannot read: /);
    } finally {
      process.off("uncaughtException", catcher);
      process.off("unhandledRejection", catcher);
    }
  });
});

describe("the split of a CSV file between the main thread and the parse worker", () => {
  async function* pieces(buf: Buffer, size: number): AsyncGenerator<Buffer> {
    for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
  }
  async function bytesOf(it: AsyncIterable<Buffer>): Promise<string> {
    const parts: Buffer[] = [];
    for await (const c of it) parts.push(Buffer.from(c));
    return Buffer.concat(parts).toString("latin1");
  }

  it("headerLineBytes: the first line's bytes when it starts with a letter (after a BOM), else -1", () => {
    expect(headerLineBytes(Buffer.from("time_ms,op\n0,access\n"))).toBe(11); // "time_ms,op\n": 11 bytes
    expect(headerLineBytes(Buffer.from("\uFEFFtime_ms,op\n"))).toBe(14); // the BOM's 3 bytes + 11
    expect(headerLineBytes(Buffer.from("# wsim: machine=default\ntime_ms,op\n"))).toBe(-1);
    expect(headerLineBytes(Buffer.from("\ntime_ms,op\n"))).toBe(-1);
    expect(headerLineBytes(Buffer.from(" time_ms,op\n"))).toBe(-1);
    expect(headerLineBytes(Buffer.from("time_ms,op"))).toBe(-1); // no end of line in the first chunk
  });

  it("untilLineAt and fromLineAt split at the same line for every split point and chunk size: the main thread's part, then the header and the rest, make the file", async () => {
    // lines of 1 to 9 bytes (with their \n) after a 9-byte header
    const lines = ["h,e,a,d\r", ...Array.from({ length: 40 }, (_, k) => "x".repeat(k % 9))];
    const text = lines.join("\n") + "\n";
    const buf = Buffer.from(text, "latin1");
    const header = headerLineBytes(buf);
    expect(header).toBe(9);
    for (const size of [1, 2, 7, 64, 1000])
      for (let at = header + 1; at <= buf.length + 2; at++) {
        const head = await bytesOf(untilLineAt(pieces(buf, size), { at, given: 0 }));
        // the head ends with the line that ends at or after byte at - 1 (or is the whole file)
        const nl = text.indexOf("\n", at - 1);
        expect(head).toBe(nl < 0 ? text : text.slice(0, nl + 1));
        const from = await fromLineAt(pieces(buf, size), header, at);
        const rest = await bytesOf(from.chunks);
        expect(rest).toBe(text.slice(0, header) + text.slice(head.length));
        // the lines left out: the head's, less the header
        expect(from.lines).toBe(head.split("\n").length - 2);
      }
  });

  it("untilLineAt closes its source when it stops at the split point", async () => {
    let closed = false;
    async function* src(): AsyncGenerator<Buffer> {
      try {
        for (let k = 0; k < 10; k++) yield Buffer.from("abc\n");
      } finally {
        closed = true;
      }
    }
    // split at byte 6 - 1 = 5: the line that ends there is the second ("abc\n" at 4..7)
    expect(await bytesOf(untilLineAt(src(), { at: 6, given: 0 }))).toBe("abc\nabc\n");
    expect(closed).toBe(true);
  });

  it("untilLineAt with the split point set while it reads (poll, before each piece of 128 KiB): the part ends with the line at the bytes given so far", async () => {
    // 3 chunks of 300,000 bytes of 10-byte lines: 128 KiB pieces at 0, 131072, 262144 (of 37,856 bytes), ...
    const chunk = Buffer.from("012345678\n".repeat(30000));
    async function* src(): AsyncGenerator<Buffer> {
      for (let k = 0; k < 3; k++) yield chunk;
    }
    let polls = 0;
    const split: { at: number; given: number; poll?: () => void } = { at: Infinity, given: 0 };
    // set on the third poll, before the third piece: 2 pieces given (262,144 bytes)
    split.poll = () => {
      if (++polls === 3) split.at = split.given;
    };
    const head = await bytesOf(untilLineAt(src(), split));
    // the line with byte 262,143 in it ends at 262,149 (lines are 10 bytes): 262,150 bytes
    expect(split.at).toBe(2 * 131072);
    expect(head.length).toBe(262150);
    expect(split.given).toBe(262150);
    // fromLineAt, given that point, starts at the next line: 26,215 lines skipped after a 10-byte header
    const from = await fromLineAt(src(), 10, split.at);
    const rest = await bytesOf(from.chunks);
    expect(rest.length).toBe(10 + 3 * 300000 - 262150);
    expect(from.lines).toBe(26215 - 1);
  });

  it("untilLineAt with the split point set by poll when the bytes given so far end a line: the part ends there, and fromLineAt starts with the next line (no line read twice)", async () => {
    // 8-byte lines: 131,072 / 8 = 16,384 lines make the first 128 KiB piece exactly, so byte
    // 131,071 is a newline
    const chunk = Buffer.from("0123456\n".repeat(40000));
    async function* src(): AsyncGenerator<Buffer> {
      yield chunk;
    }
    let polls = 0;
    const split: { at: number; given: number; poll?: () => void } = { at: Infinity, given: 0 };
    split.poll = () => {
      if (++polls === 2) split.at = split.given;
    };
    const head = await bytesOf(untilLineAt(src(), split));
    expect(split.at).toBe(131072);
    // the line with byte 131,071 in it is the 16,384th, which ends there
    expect(head.length).toBe(131072);
    const from = await fromLineAt(src(), 8, split.at);
    const rest = await bytesOf(from.chunks);
    // the header line (the first 8 bytes) then everything after the main thread's part
    expect(rest.length).toBe(8 + 320000 - 131072);
    expect(from.lines).toBe(16384 - 1);
  });
});
