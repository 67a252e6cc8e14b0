/**
 * A command that reads its trace from a file leaves standard input alone: opening
 * `process.stdin` on a pipe makes libuv set O_NONBLOCK on fd 0, which every program sharing
 * the pipe sees (`wsim replay a.csv | cmp - <(wsim replay a.csv)` then failed with EAGAIN).
 * chalk's colour detection imported `node:process`, whose ESM facade reads process.stdin;
 * chalk is now loaded only to colour a terminal (src/report/paint.ts). Each command runs with
 * a preload that reports any read of process.stdin (with - it is read: the control).
 * Build first (`npx tsc -p tsconfig.json`), as for every e2e test.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const dir = mkdtempSync(join(tmpdir(), "wsim-stdin-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TRAP = join(dir, "trap.cjs");
writeFileSync(
  TRAP,
  `const d = Object.getOwnPropertyDescriptor(process, "stdin");
Object.defineProperty(process, "stdin", { configurable: true, enumerable: d.enumerable, get() { process._rawDebug("READ process.stdin"); return d.get.call(process); } });
`,
);
const TRACE = join(dir, "t.csv");
writeFileSync(TRACE, "time_ms,op,pid,addr,len\n0,mmap,1,0x10000,65536\n1,access,1,0x10000,\n");
const EXPECT = join(dir, "expect.vmstat");
writeFileSync(EXPECT, "pgfault 1\n");

/** wsim ARGS with stdin a pipe holding `input`, process.stdin trapped */
function run(args: string[], input = ""): { code: number | null; err: string; out: string } {
  const r = spawnSync(process.execPath, ["-r", TRAP, BIN, ...args], { cwd: dir, input, encoding: "utf8", env: { ...process.env, WSIM_WORKER: "0" } });
  return { code: r.status, err: r.stderr, out: r.stdout };
}

describe("standard input is left alone unless the trace is -", () => {
  /** name, arguments, exit code (--expect of one counter: the others are outside, 1) */
  const cases: [string, string[], number][] = [
    ["replay --format vmstat", ["replay", TRACE, "--format", "vmstat"], 0],
    ["replay --format text", ["replay", TRACE, "--format", "text"], 0],
    ["replay --format json", ["replay", TRACE, "--format", "json"], 0],
    ["replay --expect", ["replay", TRACE, "--expect", EXPECT], 1],
    ["stat", ["stat", TRACE], 0],
    ["diff", ["diff", TRACE, TRACE], 0],
    ["convert", ["convert", TRACE, join(dir, "out.ndjson")], 0],
  ];
  for (const [name, args, code] of cases)
    it(name, () => {
      const r = run(args);
      expect(r.err).not.toMatch(/READ process\.stdin/);
      expect(r.code, r.err).toBe(code);
    });

  it("the control: replay - reads it", () => {
    const r = run(["replay", "-", "--format", "vmstat"], "time_ms,op,pid,addr\n0,access,1,4096\n");
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/READ process\.stdin/);
    expect(r.out).toMatch(/^pgfault 1$/m);
  });
});
