/**
 * Issue 20 item 1: a CSV/NDJSON trace parsed in a worker thread replays byte for byte as
 * the inline reader does: the golden outputs of every bundled trace with the worker forced
 * on and off; a reader error (bad field, bad JSON, csv-parse's quote error) and an engine
 * error at the same `file:line`, same exit code, same standard output; --until stopping
 * early; `--no-worker` and WSIM_WORKER. The worker runs dist/trace/parse-worker.js: build
 * first (`npx tsc -p tsconfig.json`), as for every e2e test.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { replay } from "../../src/replay.js";
import { replay as libraryReplay } from "../../src/library.js";
import { renderJson } from "../../src/report/json.js";
import { renderVmstat } from "../../src/report/vmstat.js";
import { workerStats } from "../../src/trace/worker-reader.js";
import { bundledTraces, GOLDEN_ARGS, TRACES } from "../golden/bundled.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const dir = mkdtempSync(join(tmpdir(), "wsim-worker-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (f: string) => join(dir, f);
const wsim = (args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8", maxBuffer: 1 << 28, env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};



describe("golden outputs with the worker on and off", () => {
  it("the worker's script is built", () => {
    expect(existsSync(join(ROOT, "dist/trace/parse-worker.js"))).toBe(true);
  });
  for (const path of bundledTraces().filter((p) => /\.(csv|ndjson)(\.gz)?$/.test(p))) {
    const name = relative(TRACES, path);
    const safe = name.replace(/[/]/g, "__");
    it(`${name}: pinned vmstat and reads both ways, JSON identical`, async () => {
      const cfg = { trace: path, ...GOLDEN_ARGS[name.split("/").pop()!] };
      const before = workerStats.started;
      const on = await replay({ ...cfg, worker: true });
      expect(workerStats.started).toBe(before + 1);
      const off = await replay({ ...cfg, worker: false });
      expect(workerStats.started).toBe(before + 1);
      const pinned = readFileSync(join(ROOT, "test/golden/__expected__", `${safe}.vmstat.txt`), "utf8");
      expect(renderVmstat(on)).toBe(pinned);
      expect(renderVmstat(off)).toBe(pinned);
      expect(renderJson(on)).toBe(renderJson(off));
      const reads = (r: typeof on) => r.reads.map((x) => `== t=${x.time_ms} read ${x.key}${x.node !== null ? ` node=${x.node}` : ""}\n${x.value}`).join("");
      expect(reads(on)).toBe(reads(off));
      const pr = join(ROOT, "test/golden/__expected__", `${safe}.reads.txt`);
      if (existsSync(pr)) expect(reads(on)).toBe(readFileSync(pr, "utf8"));
    });
  }
});

/** a CSV of n accesses over 4 processes (3 batches of 4096 and more for n = 10000), line k+2 for access k */
function accesses(n: number, bad?: { line: number; row: string }): string {
  const rows = ["time_ms,op,pid,addr,rw"];
  for (let k = 0; k < n; k++) rows.push(`${Math.floor(k / 100)},access,${1 + (k % 4)},0x${(0x10000000 + (k % 997) * 4096).toString(16)},${k % 3 ? "r" : "w"}`);
  if (bad) rows[bad.line - 1] = bad.row;
  return rows.join("\n") + "\n";
}

describe("errors and early stops are the same both ways", () => {
  const both = (args: string[], env: Record<string, string> = {}) => {
    const on = wsim(args, { ...env, WSIM_WORKER: "1" });
    const off = wsim(args, { ...env, WSIM_WORKER: "0" });
    expect(on).toEqual(off);
    return on;
  };

  it("a bad field at line 9001 (third batch): exit 3, the same line", () => {
    writeFileSync(at("badrw.csv"), accesses(10000, { line: 9001, row: "89,access,1,0x10000000,x" }));
    const r = both(["replay", "badrw.csv", "--format", "vmstat"]);
    expect(r.code).toBe(3);
    expect(r.err).toBe('badrw.csv:9001: rw: expected r or w, got "x"\n');
    expect(r.out).toBe("");
  });

  it("a broken quote through csv-parse (--csv-parser csv-parse) and through the fast path", () => {
    writeFileSync(at("quote.csv"), accesses(10000, { line: 5000, row: '49,access,1,"0x10000000' }));
    for (const parser of ["fast", "csv-parse"]) {
      const r = both(["replay", "quote.csv", "--csv-parser", parser]);
      expect(r.code).toBe(3);
      expect(r.err).toContain("quote.csv:5000: unterminated quoted field");
    }
  });

  it("time going back, found by the reader after two full batches", () => {
    writeFileSync(at("back.csv"), accesses(10000, { line: 8200, row: "0,access,1,0x10000000,r" }));
    const r = both(["replay", "back.csv"]);
    expect(r.code).toBe(3);
    expect(r.err).toContain("back.csv:8200: time_ms goes back from 81 (line 8199) to 0");
  });

  it("bad JSON in NDJSON at line 6000", () => {
    const lines = accesses(8000).trim().split("\n").slice(1).map((l) => {
      const [t, , pid, addr, rw] = l.split(",");
      return JSON.stringify({ time_ms: Number(t), op: "access", pid: Number(pid), addr, rw });
    });
    lines[5999] = "{not json";
    writeFileSync(at("bad.ndjson"), lines.join("\n") + "\n");
    const r = both(["replay", "bad.ndjson"]);
    expect(r.code).toBe(3);
    expect(r.err).toContain("bad.ndjson:6000:");
  });

  it("an engine error (exit of an unknown pid) after the reader went past it: the engine's error, the same line", () => {
    writeFileSync(at("exit.csv"), accesses(10000, { line: 7000, row: "69,exit,99,," }));
    const r = both(["replay", "exit.csv"]);
    expect(r.code).toBe(3);
    expect(r.err).toContain("exit.csv:7000:");
  });

  it("partial output as it streams (--interval, ndjson) is the same up to the error", () => {
    writeFileSync(at("late.csv"), accesses(10000, { line: 9500, row: "94,access,1,0x10000000,q" }));
    const r = both(["replay", "late.csv", "--interval", "10", "--format", "ndjson"]);
    expect(r.code).toBe(3);
    expect(r.err).toContain("late.csv:9500:");
  });

  it("--until stops early: the same output, the worker ended", () => {
    writeFileSync(at("ok.csv"), accesses(20000));
    const r = both(["replay", "ok.csv", "--until", "50", "--format", "json"]);
    expect(r.code).toBe(0);
    // events up to time 50: 51 ms × 100 accesses
    expect((JSON.parse(r.out) as { trace: { events: number } }).trace.events).toBe(5100);
  });

  it("--no-worker gives the same output; a file of 4 MiB or more takes the worker by default", async () => {
    writeFileSync(at("ok.csv"), accesses(20000));
    expect(wsim(["replay", "ok.csv", "--no-worker", "--format", "vmstat"])).toEqual(wsim(["replay", "ok.csv", "--format", "vmstat"], { WSIM_WORKER: "1" }));
    // 4 MiB of rows: auto takes the worker with 2+ CPUs (this machine has 2), not with WSIM_WORKER=0
    writeFileSync(at("big.csv"), accesses(160000));
    expect(statSync(at("big.csv")).size).toBeGreaterThanOrEqual(4 << 20);
    const before = workerStats.started;
    const prev = process.env.WSIM_WORKER;
    delete process.env.WSIM_WORKER;
    try {
      await replay({ trace: at("big.csv") });
      expect(workerStats.started).toBe(before + 1);
      await replay({ trace: at("ok.csv") }); // small: inline
      expect(workerStats.started).toBe(before + 1);
      process.env.WSIM_WORKER = "0";
      await replay({ trace: at("big.csv") });
      expect(workerStats.started).toBe(before + 1);
    } finally {
      if (prev === undefined) delete process.env.WSIM_WORKER;
      else process.env.WSIM_WORKER = prev;
    }
  });

  it("starts the worker when the trace is opened; a trace opened and never read neither hangs the process nor keeps its worker", async () => {
    writeFileSync(at("early.csv"), "time_ms,op,pid,addr\n0,mmap,1,0x1000\n1,access,1,0x1000\n");
    const { openTrace } = await import("../../src/trace/open.js");
    const before = workerStats.started;
    const t = await openTrace(at("early.csv"), { worker: true });
    expect(workerStats.started).toBe(before + 1); // before any batch is asked for
    const events: number[] = [];
    for await (const b of t.batches()) for (let i = 0; i < b.n; i++) events.push(b.time[i]!);
    expect(events).toEqual([0, 1]);
    // a process that opens a trace with the worker and never reads it exits by itself,
    // although the worker is still there, waiting for a free slot (40,000 events: more than
    // its 8 slots of 4096 hold)
    writeFileSync(at("early-big.csv"), accesses(40000));
    const open = new URL("../../dist/trace/open.js", import.meta.url).href;
    const code = `const { openTrace } = await import(${JSON.stringify(open)}); await openTrace(${JSON.stringify(at("early-big.csv"))}, { worker: true }); console.log("opened");`;
    writeFileSync(at("open-only.mjs"), code); // a file: the worker would inherit `--input-type` of `node -e`, which it cannot run with
    const r = spawnSync(process.execPath, [at("open-only.mjs")], { encoding: "utf8", timeout: 30000 });
    expect(r.signal).toBeNull(); // not killed by the timeout
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("opened\n");
  });

  it("the main thread parses the first lines while the worker starts (until it is ready, or WSIM_WORKER_HEAD): the same events, the worker's lines numbered as in the file", async () => {
    writeFileSync(at("ok.csv"), accesses(20000));
    const before = { ...workerStats };
    const prev = process.env.WSIM_WORKER_HEAD;
    try {
      // undefined: until the worker is ready (the whole file, if it is read first)
      for (const head of ["0", "1000", "300000", undefined]) {
        if (head === undefined) delete process.env.WSIM_WORKER_HEAD;
        else process.env.WSIM_WORKER_HEAD = head;
        const on = await replay({ trace: at("ok.csv"), worker: true });
        const off = await replay({ trace: at("ok.csv"), worker: false });
        expect(renderJson(on)).toBe(renderJson(off));
        expect(on.trace.events).toBe(20000);
      }
      // four workers, three of them after the main thread's part (0: no part)
      expect(workerStats.started).toBe(before.started + 4);
      expect(workerStats.split).toBe(before.split + 3);
    } finally {
      if (prev === undefined) delete process.env.WSIM_WORKER_HEAD;
      else process.env.WSIM_WORKER_HEAD = prev;
    }
  });

  it("a worker started without a split point says it is ready, waits for one, and parses from the line after it", async () => {
    const text = accesses(10000);
    writeFileSync(at("hand.csv"), text);
    const { startWorker } = await import("../../src/trace/worker-reader.js");
    const header = text.indexOf("\n") + 1; // "time_ms,op,pid,addr,rw\n"
    const w = startWorker(at("hand.csv"), "csv", undefined, () => {}, true, { header });
    for (let k = 0; k < 600 && !w.ready(); k++) await new Promise((r) => setTimeout(r, 50));
    expect(w.ready()).toBe(true);
    // split at the byte where line 7001 starts, + 1: the worker's part starts at line 7002
    w.split(Buffer.byteLength(text.split("\n").slice(0, 7000).join("\n")) + 2);
    const events: { line: number; time: number }[] = [];
    for await (const b of w.batches()) for (let i = 0; i < b.n; i++) events.push({ line: b.line[i]!, time: b.time[i]! });
    // lines 7002..10001: accesses 7000..9999, access k at floor(k / 100) ms
    expect(events.length).toBe(3000);
    expect(events[0]).toEqual({ line: 7002, time: 70 });
    expect(events[2999]).toEqual({ line: 10001, time: 99 });
  });

  /** WSIM_WORKER_HEAD for a split after line `line` of `text`: the byte where the line starts, + 1 */
  const headAfter = (text: string, line: number) => String(Buffer.byteLength(text.split("\n").slice(0, line - 1).join("\n")) + 2);

  it("time going back at the worker's first event (the line after the main thread's part, or after a comment there): the same error both ways", () => {
    const text = accesses(10000, { line: 5001, row: "0,access,1,0x10000000,r" });
    writeFileSync(at("edge.csv"), text);
    const head = { WSIM_WORKER_HEAD: headAfter(text, 5000) };
    const r = both(["replay", "edge.csv"], head);
    expect(r.code).toBe(3);
    // line 5000 is access 4998, at floor(4998 / 100) = 49 ms
    expect(r.err).toBe("edge.csv:5001: time_ms goes back from 49 (line 5000) to 0\n");
    const lines = accesses(10000, { line: 5002, row: "0,access,1,0x10000000,r" }).split("\n");
    lines[5000] = "# the worker's first line"; // line 5001
    writeFileSync(at("edge2.csv"), lines.join("\n"));
    const r2 = both(["replay", "edge2.csv"], { WSIM_WORKER_HEAD: headAfter(lines.join("\n"), 5000) });
    expect(r2.code).toBe(3);
    expect(r2.err).toBe("edge2.csv:5002: time_ms goes back from 49 (line 5000) to 0\n");
  });

  it("an error in the main thread's part stops the run there (the worker ended); a file whose first line is a comment is read by the worker alone", () => {
    const text = accesses(10000, { line: 100, row: "0,access,1,0x10000000,z" });
    writeFileSync(at("early-bad.csv"), text);
    const r = both(["replay", "early-bad.csv"], { WSIM_WORKER_HEAD: headAfter(text, 5000) });
    expect(r.code).toBe(3);
    expect(r.err).toBe('early-bad.csv:100: rw: expected r or w, got "z"\n');
    const commented = "# a comment first\n" + accesses(10000, { line: 9000, row: "89,access,1,0x10000000,z" });
    writeFileSync(at("commented.csv"), commented);
    const c = both(["replay", "commented.csv"], { WSIM_WORKER_HEAD: "1000" });
    expect(c.code).toBe(3);
    expect(c.err).toBe('commented.csv:9001: rw: expected r or w, got "z"\n');
  });

  it("WSIM_WORKER_HEAD that is not a number of bytes: a usage error", () => {
    writeFileSync(at("ok.csv"), accesses(100));
    const r = wsim(["replay", "ok.csv"], { WSIM_WORKER: "1", WSIM_WORKER_HEAD: "8M" });
    expect(r.code).toBe(2);
    expect(r.err).toBe('wsim: WSIM_WORKER_HEAD must be a number of bytes, got "8M"\n');
  });

  it("the library checks config.worker", async () => {
    await expect(libraryReplay({ trace: at("ok.csv"), worker: "yes" as unknown as boolean })).rejects.toThrow('replay: config.worker must be true, false or "auto", got "yes"');
  });
});
