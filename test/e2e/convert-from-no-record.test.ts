/**
 * `wsim convert --from FMT` on a file with no record of FMT names what a record looks like (a
 * new user got only "the first it could not read is …" with no reason), and says when the
 * file is a wsim CSV trace already.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const dir = mkdtempSync(join(tmpdir(), "wsim-from-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const wsim = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8" });

describe("convert --from with no record of that format", () => {
  it("ftrace: exit 3 at the first line, with the record's shape; nothing written", () => {
    writeFileSync(join(dir, "h.txt"), "\nhello world\nfoo bar\n");
    const r = wsim(["convert", "--from", "ftrace", "h.txt", "o.csv"]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^h\.txt:2: ftrace: no line of the file is a ftrace record; the first it could not read is "hello world" \(a record is `TASK-PID \[CPU\] FLAGS SECONDS\.MICROS: EVENT: FIELDS` as trace_pipe prints it/);
    expect(existsSync(join(dir, "o.csv"))).toBe(false);
  });
  it("a wsim CSV trace given --from ftrace is named as one", () => {
    writeFileSync(join(dir, "w.csv"), "time_ms,op,pid,addr\n0,access,1,0x1000\n");
    const r = wsim(["convert", "--from", "ftrace", "w.csv", "o.csv"]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/; it is a wsim CSV trace, which every command reads as it is\n$/);
  });
  it("perf-mem: the shape of a sample", () => {
    writeFileSync(join(dir, "p.txt"), "hello world\n");
    const r = wsim(["convert", "--from", "perf-mem", "p.txt", "o.csv"]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/perf-mem record.*\(a record is a perf script sample with its data address/);
  });
});
