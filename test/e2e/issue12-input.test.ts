/**
 * Issue 12, input items (14, 15, 16, 19, 21, 22) as a user meets them: bin/wsim's exit
 * code and its one-line stderr, never a stack. Needs the build (dist/).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const tmp = mkdtempSync(join(tmpdir(), "wsim-i12-input-"));

function wsim(args: string[], input?: string | Buffer) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, input, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 64 << 20 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function file(name: string, text: string | Buffer): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

/** A user error: exit 3, one line on stderr, no stack. */
function expectDataError(r: { code: number | null; err: string }, msg: RegExp) {
  expect(r.code).toBe(3);
  expect(r.err).toMatch(msg);
  expect(r.err.trim().split("\n")).toHaveLength(1);
  expect(r.err).not.toMatch(/\s+at |RangeError|internal error/);
}

describe("item 14: --csv-parser fast and csv-parse agree", () => {
  it("a bare CR after a quoted field, and CR-only line endings: the same error from both", () => {
    const a = file("cr.csv", 'time_ms,op,pid,addr\n0,access,"1",0x1000\r5,access,1,0x2000\n');
    const b = file("cronly.csv", "time_ms,op,pid,addr\r0,access,1,0x1000\r5,access,1,0x2000\r");
    for (const [p, line] of [[a, 2], [b, 1]] as const) {
      const fast = wsim(["replay", p, "--format", "vmstat", "--csv-parser", "fast"]);
      const slow = wsim(["replay", p, "--format", "vmstat", "--csv-parser", "csv-parse"]);
      expectDataError(fast, new RegExp(`^${p}:${line}: bare CR`));
      expect(slow.err).toBe(fast.err);
      expect(slow.code).toBe(3);
    }
  });
});

describe("item 15: a character split at the 1 MiB read boundary", () => {
  const head = '{"time_ms":0,"op":"alloc","id":"';
  const text = " ".repeat(1048575 - head.length - 1) + "\n" + head + 'é"}\n{"time_ms":1,"op":"free","id":"é"}\n';
  it("file, stdin and gzip replay the alloc and its free", () => {
    expect(Buffer.from(text).indexOf(Buffer.from("é"))).toBe(1048575);
    const p = file("mb.ndjson", text);
    const g = file("mb.ndjson.gz", gzipSync(text));
    for (const r of [wsim(["replay", p, "--format", "vmstat"]), wsim(["replay", "-", "--input-format", "ndjson", "--format", "vmstat"], text), wsim(["replay", g, "--format", "vmstat"])]) {
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^pgalloc_normal 1$/m);
    }
  });
  it("invalid UTF-8 in an id is an error", () => {
    const p = file("bad.ndjson", Buffer.concat([Buffer.from('{"time_ms":0,"op":"alloc","id":"a'), Buffer.from([0xff]), Buffer.from('"}\n')]));
    expectDataError(wsim(["replay", p]), new RegExp(`^${p}:1: not valid UTF-8`));
  });
});

describe("item 16: deep nesting is exit 3", () => {
  const arr = (n: number) => "[".repeat(n) + "]".repeat(n);
  const obj = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);
  it("NDJSON 5,000 levels, a document and a machine file 6,500 levels, diff's counters", () => {
    const nd = file("deep.ndjson", `{"time_ms":0,"op":"alloc","id":${arr(5000)}}\n`);
    expectDataError(wsim(["replay", nd]), /:1: id: expected a string or a number, got an array/);
    const doc = file("deep.json", `{"events": [{"time_ms":0,"op":"exit","pid":1,"x":${obj(6500)}}]}`);
    expectDataError(wsim(["replay", doc]), /:1: unknown column "x"/);
    const m = file("deep.machine.json", `{"nodes": [{"id": 0, "mem": "4G", "tier": ${obj(6500)}}]}`);
    expectDataError(wsim(["replay", "traces/faults.csv", "--machine", m]), /:1: node 0 tier must be an integer 0\.\.7, got an object/);
    const c = file("deep-run.json", `{"vmstat": {"pgfault": ${arr(6500)}}}`);
    expectDataError(wsim(["diff", c, c]), /:1: vmstat "pgfault": expected a number, got an array/);
  });
});

describe("item 19: bounded, escaped messages; BOM; empty traces", () => {
  it("a 10 MB header name gives a short line; an escape sequence is escaped", () => {
    const big = file("big.csv", `time_ms,op,${"x".repeat(10 << 20)}\n`);
    const r = wsim(["replay", big]);
    expectDataError(r, /:1: unknown column "x{60}…"/);
    expect(r.err.length).toBeLessThan(1100);
    const esc = file("esc.csv", "time_ms,op,\x1b[2J\n");
    const e = wsim(["replay", esc]);
    expectDataError(e, /:1: unknown column "\\u001b\[2J"/);
    expect(e.err).not.toContain("\x1b");
  });
  it("a BOM in a JSON document and a machine file", () => {
    const d = file("bom.json", '\uFEFF{"events": [{"time_ms":0,"op":"alloc","id":"a"}]}');
    const m = file("bom.machine.json", '\uFEFF{"nodes": [{"id": 0, "mem": "64M"}]}');
    const r = wsim(["replay", d, "--machine", m, "--format", "vmstat"]);
    expect(r.err).toBe("");
    expect(r.out).toMatch(/^pgalloc_normal 1$/m);
  });
  it("empty .csv, .ndjson and .json all replay an idle machine (exit 0)", () => {
    for (const n of ["e.csv", "e.ndjson", "e.json"]) {
      const r = wsim(["replay", file(n, ""), "--format", "json"]);
      expect(r.code, n).toBe(0);
      expect(JSON.parse(r.out).trace.events, n).toBe(0);
    }
  });
});

describe("item 21: foreign files at every entry point", () => {
  const trace = file("trace_pipe", "            bash-1234    [001] ..... 5123.456789: mm_page_alloc: page=000000004e5a7d3b pfn=0x12345 order=0 migratetype=0\n");
  const buddy = "test/fixtures/kernel-samples/buddyinfo.txt";
  const lcs = file("cachesim.csv", "time,obj_id,obj_size\n1,42,4096\n2,43,4096\n");
  it("replay, stat, diff, convert and --machine", () => {
    expectDataError(wsim(["replay", trace]), /:1: this looks like ftrace \/ trace_pipe text/);
    // issue 18 item 5: stat reads a kernel trace (perf kmem stat --page's summary)
    const st = wsim(["stat", trace]);
    expect(st.code, st.err).toBe(0);
    expect(st.out).toMatch(/kmem page events .*\n(no mm_page_free event in the trace: .*\n)?allocations: 1 request, 1 served \(1 page, 4 KiB\), 0 failed\n/);
    expectDataError(wsim(["diff", buddy, "traces/faults.csv"]), /buddyinfo\.txt:1: this looks like \/proc\/buddyinfo/);
    expectDataError(wsim(["replay", lcs]), /:1: this looks like a libCacheSim CSV .*wsim convert .*cachesim\.csv trace\.csv/);
    // convert sniffs it as it sniffs the other importers' formats (review B6)
    expect(wsim(["convert", lcs, join(tmp, "out.csv"), "--quiet"]).code).toBe(0);
    expect(wsim(["convert", "--from", "libcachesim", lcs, join(tmp, "out.csv"), "--quiet"]).code).toBe(0);
    expectDataError(wsim(["replay", "traces/faults.csv", "--machine", buddy]), /:1: this looks like \/proc\/buddyinfo .*not a machine file/);
    // a vmstat file is a legal diff input
    const v = wsim(["diff", "test/fixtures/kernel-samples/vmstat.txt", "test/fixtures/kernel-samples/vmstat.txt"]);
    expect(v.code).toBe(0);
  });
});

describe("item 22: traces name their machine", () => {
  it("the bundled traces replay without --machine; --machine still overrides", () => {
    const r = wsim(["replay", "traces/tiered-hotset.csv.gz", "--format", "json", "--until", "100"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).machine.name).toBe("tiered");
    const n = wsim(["replay", "traces/numa-spill.ndjson", "--format", "json"]);
    expect(JSON.parse(n.out).machine.name).toBe("numa2-small");
    const o = wsim(["replay", "traces/vm-balloon.csv", "--machine", "default", "--format", "json", "--until", "10"]);
    expect(JSON.parse(o.out).machine.name).toBe("default");
  });
  it("a node the machine lacks: the error names the machine used and --machine", () => {
    const p = file("node1.csv", "time_ms,op,id,node\n0,alloc,a,1\n");
    expectDataError(wsim(["replay", p]), /:2: node 1 does not exist \(machine "default": nodes 0\.\.0, CPUs on 0\); replay on another with --machine NAME\|FILE/);
  });
});
