import { describe, expect, it } from "vitest";
import { gzipSync } from "node:zlib";
import { DataError } from "../../../src/errors.js";
import { readCsv } from "../../../src/trace/csv.js";
import { openTrace, sniffFormat } from "../../../src/trace/open.js";
import { OP_ACCESS, OP_ALLOC, OP_SET } from "../../../src/trace/types.js";
import { chunksOf, collect, stdinOf } from "../../helpers.js";

async function both(text: string, chunk = 1 << 20) {
  const run = async (engine: "fast" | "csv-parse") => {
    try {
      return { events: await collect(readCsv(chunksOf(text, chunk), "t.csv", { engine })) };
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      return { error: e.message };
    }
  };
  return { fast: await run("fast"), slow: await run("csv-parse") };
}

const H = "time_ms,op,pid,addr,len,rw,node,kind,thp,cg,id,order,mt,key,value\n";

/** Inputs both paths must accept, with what they mean. */
const GOOD: [string, string][] = [
  ["plain", "time_ms,op,pid,addr\n0,access,1,4096\n1.5,access,2,0x2000\n"],
  ["columns in any order", "addr,pid,op,time_ms\n0x1000,1,access,0\n"],
  ["comments and blank lines", "# a trace\n\ntime_ms,op,pid,addr\n# more\n0,access,1,0\n\n   \n1,access,1,0\n"],
  ["CRLF and a BOM", "\uFEFFtime_ms,op,pid,addr\r\n0,access,1,0\r\n"],
  ["spaces around fields", "time_ms , op , pid , addr\n 0 , access , 1 , 0x10 \n"],
  ["a quoted value with a comma", 'time_ms,op,key,value,cg\n0,set,memory.workingset.page_age_intervals,"N0=1000,5000",/a\n'],
  ["quoted plain fields", 'time_ms,op,pid,addr\n"0","access","1","4096"\n'],
  ["short rows (missing trailing fields)", "time_ms,op,pid,addr,len\n0,exit,1\n1,mmap,2,0,8192\n"],
  ["every column", H + "0,mmap,1,0x10000,65536,,0,file,1,/a/b,,,,,\n1,alloc,,,,,0,,,,h1,3,movable,,\n2,free,,,,,,,,,h1,,,,\n3,read,,,,,,,,,,,,vmstat,\n4,access,1,0x10000,,w,0,,,/a/b,,,,,\n"],
  ["no final newline", "time_ms,op,pid,addr\n0,access,1,0"],
  ["hex in upper case", "time_ms,op,pid,addr\n0,access,1,0XABCDEF000\n"],
];

/** Inputs both paths must reject, with the message they give. */
const BAD: [string, string, RegExp][] = [
  ["unknown op", "time_ms,op,pid\n0,acess,1\n", /t\.csv:2: unknown op "acess"/],
  ["unknown column", "time_ms,op,pfn\n0,exit,1\n", /t\.csv:1: unknown column "pfn" \(known: time_ms, op, pid/],
  ["time going back", "time_ms,op,pid\n5,exit,1\n4,exit,1\n", /t\.csv:3: time_ms goes back from 5 \(line 2\) to 4/],
  ["bad number", "time_ms,op,pid,addr\n0,access,x1,0\n", /t\.csv:2: pid: expected an integer/],
  ["negative time", "time_ms,op,pid\n-1,exit,1\n", /t\.csv:2: time_ms: expected a non-negative/],
  ["exponent time", "time_ms,op,pid\n1e3,exit,1\n", /t\.csv:2: time_ms/],
  ["order 11", "time_ms,op,id,order\n0,alloc,a,11\n", /t\.csv:2: order: expected an integer 0\.\.10, got "11"/],
  ["unknown migratetype", "time_ms,op,id,mt\n0,alloc,a,cma\n", /t\.csv:2: mt: expected unmovable, movable or reclaimable, got "cma"/],
  ["broken quote", 'time_ms,op,key,value\n0,set,vm.swappiness,"60\n', /t\.csv:2: unterminated quoted field/],
  ["text after a closing quote", 'time_ms,op,key,value\n0,set,vm.swappiness,"60"x\n', /t\.csv:2: broken quote/],
  ["too many fields", "time_ms,op,pid\n0,exit,1,2\n", /t\.csv:2: expected at most 3 fields/],
  ["missing op", "time_ms,op,pid\n0,,1\n", /t\.csv:2: missing op/],
  ["missing time", "time_ms,op,pid\n,exit,1\n", /t\.csv:2: missing time_ms/],
  ["access without addr", "time_ms,op,pid,addr\n0,access,1,\n", /t\.csv:2: access needs addr/],
  ["alloc without id", "time_ms,op,id\n0,alloc,\n", /t\.csv:2: alloc needs id/],
  ["bad rw", "time_ms,op,pid,addr,rw\n0,access,1,0,x\n", /t\.csv:2: rw: expected r or w/],
  ["bad thp", "time_ms,op,pid,addr,thp\n0,mmap,1,0,2\n", /t\.csv:2: thp: expected 0 or 1/],
  ["bad kind", "time_ms,op,pid,addr,kind\n0,mmap,1,0,shm\n", /t\.csv:2: kind: expected anon or file/],
  ["bad cg", "time_ms,op,pid,addr,cg\n0,access,1,0,a/b\n", /t\.csv:2: cg: expected a memcg path/],
  ["huge address", "time_ms,op,pid,addr\n0,access,1,0xffffffffffffffff\n", /t\.csv:2: addr: expected/],
  ["zero len", "time_ms,op,pid,addr,len\n0,mmap,1,0,0\n", /t\.csv:2: len: expected a positive/],
  ["duplicate column", "time_ms,op,op\n0,exit,exit\n", /t\.csv:1: column "op" appears twice/],
  ["no time_ms column", "op,pid\nexit,1\n", /t\.csv:1: the header must name at least time_ms and op/],
];

describe("CSV: the fast path and csv-parse accept and reject the same inputs", () => {
  for (const [name, text] of GOOD) {
    it(`accepts: ${name}`, async () => {
      const r = await both(text);
      expect(r.fast.error).toBeUndefined();
      expect(r.fast.events!.length).toBeGreaterThan(0);
      expect(r.slow).toEqual(r.fast);
    });
  }
  for (const [name, text, msg] of BAD) {
    it(`rejects: ${name}`, async () => {
      const r = await both(text);
      expect(r.fast.error).toMatch(msg);
      expect(r.slow.error).toMatch(msg);
    });
  }

  it("parses values as the spec says", async () => {
    const { fast } = await both(GOOD.find((g) => g[0] === "every column")![1]);
    const ev = fast.events!;
    expect(ev[0]).toMatchObject({ op: 1, pid: 1, addr: 0x10000, len: 65536, node: 0, file: 1, thp: 1, cg: "/a/b", line: 2 });
    expect(ev[1]).toMatchObject({ op: OP_ALLOC, id: "h1", order: 3, mt: 1 });
    expect(ev[4]).toMatchObject({ op: OP_ACCESS, write: 1, len: 4096 });
    const q = (await both(GOOD.find((g) => g[0] === "a quoted value with a comma")![1])).fast.events!;
    expect(q[0]).toMatchObject({ op: OP_SET, key: "memory.workingset.page_age_intervals", value: "N0=1000,5000", cg: "/a" });
  });

  it("gives the same events whatever the chunk boundaries", async () => {
    let text = "time_ms,op,pid,addr,rw\n";
    for (let i = 0; i < 10000; i++) text += `${i},access,${i % 7},0x${(i * 4096).toString(16)},${i % 2 ? "w" : "r"}\n`;
    const whole = await collect(readCsv(chunksOf(text), "t.csv"));
    for (const size of [1, 7, 4095, 65536]) {
      const split = await collect(readCsv(chunksOf(text, size), "t.csv"));
      expect(split).toEqual(whole);
    }
    expect(whole.length).toBe(10000);
    expect(whole[9999]).toMatchObject({ time: 9999, pid: 9999 % 7, line: 10001 });
  });
});

describe("opening traces", () => {
  it("reads gzip transparently, from stdin too, and sniffs the format", async () => {
    const csv = "time_ms,op,pid,addr\n0,access,1,0\n";
    const t = await openTrace("-", { stdin: stdinOf("") as never });
    expect(t.format).toBe("csv");
    const gz = await openTrace("-", { stdin: (await import("node:stream")).Readable.from([gzipSync(csv)]) });
    expect(gz.format).toBe("csv");
    expect((await collect(gz.batches())).length).toBe(1);
    expect(sniffFormat(Buffer.from('{"time_ms":0,"op":"exit","pid":1}\n'))).toBe("ndjson");
    expect(sniffFormat(Buffer.from('{\n  "events": []\n}'))).toBe("json");
    expect(sniffFormat(Buffer.from('{"machine": {}, "events": []}'))).toBe("json");
    expect(sniffFormat(Buffer.from("time_ms,op\n"))).toBe("csv");
  });

  it("a missing file or a corrupt gzip is a data error naming the file", async () => {
    await expect(openTrace("/nonexistent/x.csv")).rejects.toThrow(/\/nonexistent\/x\.csv: cannot read: no such file or directory \(ENOENT\)/);
    const bad = Buffer.concat([gzipSync("time_ms,op\n0,exit\n").subarray(0, 12), Buffer.from("garbage")]);
    await expect(
      (async () => collect((await openTrace("-", { stdin: (await import("node:stream")).Readable.from([bad]) })).batches()))(),
    ).rejects.toThrow(/^-: gzip:/);
  });
});
