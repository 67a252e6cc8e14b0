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
import { CHUNK, fileChunks } from "../../../src/trace/chunks.js";

const dir = mkdtempSync(join(tmpdir(), "wsim-chunks-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function all(rest: AsyncIterable<Buffer>): Promise<{ text: string; pieces: number }> {
  const parts: string[] = [];
  for await (const c of rest) parts.push(c.toString("latin1")); // a direct chunk is valid until the next is asked for
  return { text: parts.join(""), pieces: parts.length };
}

describe("fileChunks", () => {
  // CHUNK + 10 bytes: two reads of a plain file (1 MiB, then 10 bytes)
  const text = "x".repeat(CHUNK - 1) + "\n" + "0123456789";
  const plain = join(dir, "t.csv");
  writeFileSync(plain, text);

  it("a plain file read directly: every byte, in CHUNK pieces, bytes() the file's size", async () => {
    const { rest, bytes } = await fileChunks(plain, true);
    expect(await all(rest)).toEqual({ text, pieces: 2 });
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
