/**
 * A trace or an output given as a FIFO (bash's `<(...)`) is read once: stat, convert and diff
 * sniffed it and then opened it again, which found it drained (stat said 0 events, convert
 * wrote a header, diff said "is empty", or hung on a named FIFO). Each now hands on what it
 * read. Run through bash for its process substitution. Build first (`npx tsc -p tsconfig.json`).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const W = `"${process.execPath}" "${join(ROOT, "bin/wsim")}"`;
const dir = mkdtempSync(join(tmpdir(), "wsim-fifo-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, "a.csv"), "time_ms,op,pid,addr\n0,access,1,4096\n1,access,1,8192\n2,exit,1,\n");

/** `script` in bash in the temporary directory: exit code and output */
function sh(script: string): { code: number | null; out: string; err: string } {
  const r = spawnSync("bash", ["-c", script], { cwd: dir, encoding: "utf8", timeout: 60_000, env: { ...process.env, WSIM_WORKER: "0" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("a FIFO is read once", () => {
  it("stat <(cat a.csv): its 3 events, as stat a.csv", () => {
    const r = sh(`${W} stat <(cat a.csv)`);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^\/dev\/fd\/\d+: 3 events, 1 process, 0\.\.2 ms$/m);
    expect(r.out.replace(/^\S+:/, "")).toBe(sh(`${W} stat a.csv`).out.replace(/^\S+:/, ""));
  });

  it("stat <(gzip -c a.csv): the same", () => {
    const r = sh(`${W} stat <(gzip -c a.csv)`);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/: 3 events, 1 process/);
  });

  it("convert <(cat a.csv) writes the same file as convert a.csv", () => {
    expect(sh(`${W} convert <(cat a.csv) fifo.csv -q && ${W} convert a.csv file.csv -q`).code).toBe(0);
    expect(readFileSync(join(dir, "fifo.csv"), "utf8")).toBe(readFileSync(join(dir, "file.csv"), "utf8"));
    expect(readFileSync(join(dir, "fifo.csv"), "utf8").trim().split("\n").length).toBe(4);
  });

  it("diff with a FIFO of an output or of a trace, on either side: no differences", () => {
    expect(sh(`${W} replay a.csv --format json -o a.json`).code).toBe(0);
    for (const cmd of [`diff <(${W} replay a.csv --format json) a.json`, `diff a.json <(${W} replay a.csv --format json)`, `diff <(cat a.csv) a.json`, `diff a.json <(cat a.csv)`]) {
      const r = sh(`${W} ${cmd}`);
      expect(r.code, `${cmd}: ${r.err}`).toBe(0);
      expect(r.out).toMatch(/counters compared: no differences/);
    }
  });

  it("diff of a named FIFO returns (it hung opening it again)", () => {
    const r = sh(`mkfifo ff && (cat a.json > ff &) && ${W} diff ff a.json; rc=$?; rm -f ff; exit $rc`);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/no differences/);
  });
});
