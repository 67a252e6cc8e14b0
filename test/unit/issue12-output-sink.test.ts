/**
 * Issue 12 item 17 (c): the shared writer streams to -o's temporary file as it goes, so an
 * output larger than a JavaScript string can hold is written, and nothing appears at FILE
 * before commit (whole or not at all).
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OutputSink } from "../../src/cli/output.js";

const tmp = mkdtempSync(join(tmpdir(), "wsim-sink-"));

describe("OutputSink", () => {
  it("writes chunks to the temporary file before commit, and renames it into place at the end", () => {
    const out = join(tmp, "s.ndjson");
    const s = new OutputSink(out);
    const temp = join(tmp, `.s.ndjson.${process.pid}.tmp`);
    const line = "x".repeat(1023) + "\n"; // 1 KiB
    for (let i = 0; i < 1024; i++) s.write(line); // 1 MiB in all
    // at most one 64 KiB chunk is held in memory: the rest is on disk already
    expect(statSync(temp).size).toBeGreaterThanOrEqual(1024 * 1024 - 65536);
    expect(existsSync(out)).toBe(false);
    s.commit();
    expect(existsSync(temp)).toBe(false);
    expect(statSync(out).size).toBe(1024 * 1024);
    expect(readFileSync(out, "utf8").slice(0, 1024)).toBe(line);
  });

  it("abort leaves nothing behind", () => {
    const out = join(tmp, "a.csv");
    const s = new OutputSink(out);
    s.write("a,b\n".repeat(100000));
    s.abort();
    expect(readdirSync(tmp).filter((n) => n.includes("a.csv"))).toEqual([]);
  });
});
