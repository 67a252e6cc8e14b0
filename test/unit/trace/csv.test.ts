import { describe, expect, it } from "vitest";
import { gzipSync } from "node:zlib";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataError } from "../../../src/errors.js";
import { readCsv } from "../../../src/trace/csv.js";
import { openTrace, sniffFormat } from "../../../src/trace/open.js";
import { OP_ACCESS, OP_ALLOC, OP_SET } from "../../../src/trace/types.js";
import { allColumns, chunksOf, collect, stdinOf } from "../../helpers.js";

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

  it("a gzip cut short is a data error with either CSV parser, without an unhandled error or a hang", async () => {
    // half a gzip of 200,000 rows, then garbage: csv-parse's path fed its parser with .pipe(),
    // which dropped the read error (an unhandled 'error', then the rows parsed so far)
    const good = gzipSync("time_ms,op,pid\n" + "0,exit,1\n".repeat(200000));
    const bad = Buffer.concat([good.subarray(0, good.length >> 1), Buffer.from("garbage-garbage")]);
    const unhandled: unknown[] = [];
    const catcher = (e: unknown) => unhandled.push(e);
    process.on("uncaughtException", catcher);
    try {
      for (const engine of ["fast", "csv-parse"] as const) {
        const t = await openTrace("-", { stdin: (await import("node:stream")).Readable.from([bad]), engine });
        await expect(collect(t.batches())).rejects.toThrow(/^-: gzip: unexpected end of file$/);
      }
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("uncaughtException", catcher);
    }
  });

  it("a missing file or a corrupt gzip is a data error naming the file", async () => {
    await expect(openTrace("/nonexistent/x.csv")).rejects.toThrow(/\/nonexistent\/x\.csv: cannot read: no such file or directory \(ENOENT\)/);
    const bad = Buffer.concat([gzipSync("time_ms,op\n0,exit\n").subarray(0, 12), Buffer.from("garbage")]);
    await expect(
      (async () => collect((await openTrace("-", { stdin: (await import("node:stream")).Readable.from([bad]) })).batches()))(),
    ).rejects.toThrow(/^-: gzip:/);
  });
});

async function allOrError(text: string, size: number, engine: "fast" | "csv-parse"): Promise<string[]> {
  try {
    return await allColumns(readCsv(chunksOf(text, size), "t.csv", { engine }));
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    return [e.message];
  }
}

describe("CSV: the byte fast path (RowBuilder.fastLine) and the general path agree", () => {
  it("gives a line it leaves whole to the general path, and refills the defaults after each batch", async () => {
    // line 3 has a space: fastLine writes pid, addr and len, then leaves the line to the
    // general path (addRow), which parses all of it; line 4 has no id, len or rw: -1, 4096
    // and 0 (the defaults), not line 3's values. Then 5000 rows
    // (row r on line 5 + r, event 3 + r): allocs with an id up to row 4092, the last of
    // the first batch of 4096 events, then accesses without one: event 4099 (row 4096,
    // line 4101) is in slot 3 of the second batch, which held row 0's id in the first.
    let text = "time_ms,op,pid,addr,len,rw,id\n0,access,1,0x1000,,w,\n1,access,2,0x2000,8192, r,k9\n2,access,3,0x3000,,,\n";
    for (let r = 0; r < 5000; r++) text += r >= 4093 ? `3,access,1,0x1000,,,\n` : `3,alloc,,,,,k${r}\n`;
    const ev = await allColumns(readCsv(chunksOf(text), "t.csv"));
    expect(ev.length).toBe(5003);
    // time|op|pid|addr|len|write|node|cpu|child|file|thp|cg|id|order|mt|gfp|advice|key|value|fname|off|line
    expect(ev[1]).toBe('1|0|2|8192|8192|0|-1|-1|-1|0|0|-|"k9"|0|0|0|0|-|-|-|0|3');
    expect(ev[2]).toBe("2|0|3|12288|4096|0|-1|-1|-1|0|0|-|-|0|0|0|0|-|-|-|0|4");
    expect(ev[3]).toBe('3|4|-1|-1|4096|0|-1|-1|-1|0|0|-|"k0"|0|0|0|0|-|-|-|0|5');
    expect(ev[4099]).toBe("3|0|1|4096|4096|0|-1|-1|-1|0|0|-|-|0|0|0|0|-|-|-|0|4101");
  });

  it("gives the same events and errors as csv-parse on made-up traces, whatever the chunk boundaries", async () => {
    // a seeded generator (mulberry32) of traces: random column subsets and order, mostly
    // valid rows, and in half of the files a few broken ones (bad values, spaces, tabs,
    // CR, non-ASCII, form feeds, extra or missing fields, comments, blank lines)
    let seed = 20261201;
    const rnd = () => {
      seed = (seed + 0x6d2b79f5) >>> 0;
      let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
    const GOOD: Record<string, string[]> = {
      pid: ["1", "7", "4294967295"], addr: ["0x1000", "8192", "0XABC000", "0x1fffffffffffff"], len: ["4096", "8192", ""], rw: ["r", "w", ""],
      node: ["0", "1023", ""], kind: ["anon", "file", ""], thp: ["0", "1", ""], cg: ["/", "/a/b", ""], id: ["k1", "k2", "x.y-z"],
      order: ["0", "10", ""], mt: ["movable", "reclaimable", ""], key: ["vm.swappiness"], value: ["60", "N0=1"], gfp: ["kernel", "atomic", ""],
      advice: ["cold", "collapse"], cpu: ["0", "32767", ""], child: ["9"], file: ["f1", "d/f2"], off: ["0", "4096", ""],
    };
    const BAD = ["", "x", "-1", "1.5", "1e3", "0x", "0xg", "4294967296", "1024", "32768", "11", "2", "rw", "shm", "a", "ACCESS", "99999999999999999", "#1"];
    const MUT = [(f: string) => " " + f, (f: string) => f + "\t", (f: string) => f + "\r", (f: string) => "\u00e9" + f, (f: string) => "\f" + f, (f: string) => f + "\v"];
    const REQ: Record<string, string[]> = {
      access: ["pid", "addr"], mmap: ["pid", "addr"], munmap: ["pid", "addr"], exit: ["pid"], alloc: ["id"], free: ["id"], set: ["key", "value"],
      madvise: ["pid", "addr", "advice"], fork: ["pid", "child"], fread: ["file"], ftruncate: ["file", "len"],
    };
    const names = ["pid", "addr", "len", "rw", "node", "kind", "thp", "cg", "id", "order", "mt", "key", "value", "gfp", "advice", "cpu", "child", "file", "off"];
    let events = 0;
    let errors = 0;
    for (let f = 0; f < 150; f++) {
      const cols = ["time_ms", "op", ...[...names].sort(() => rnd() - 0.5).slice(0, 2 + Math.floor(rnd() * 12))].sort(() => rnd() - 0.5);
      const ops = Object.keys(REQ).filter((o) => REQ[o]!.every((c) => cols.includes(c)));
      const badRate = rnd() < 0.5 ? 0 : 0.03;
      const lines = [cols.join(",")];
      let t = 0;
      for (let r = 0; r < 40; r++) {
        const bad = rnd() < badRate;
        if (rnd() < 0.02) lines.push(pick(["", "  # a comment", "#x"]));
        let fields = cols.map((c) =>
          c === "time_ms" ? String((t += Math.floor(rnd() * 3))) : c === "op" ? (ops.length ? pick(ops) : "read") : bad && rnd() < 0.3 ? pick(BAD) : pick(GOOD[c]!),
        );
        if (bad && rnd() < 0.5) {
          const k = Math.floor(rnd() * fields.length);
          fields[k] = pick(MUT)(fields[k]!);
        }
        if (bad && rnd() < 0.2) fields.push("extra");
        if (bad && rnd() < 0.2) fields = fields.slice(0, 1 + Math.floor(rnd() * fields.length));
        lines.push(fields.join(","));
      }
      const eol = rnd() < 0.2 ? "\r\n" : "\n";
      const text = lines.join(eol) + (rnd() < 0.9 ? eol : "");
      const want = await allOrError(text, 1 << 20, "csv-parse");
      if (want.length === 1 && /^t\.csv:/.test(want[0]!)) errors++;
      else events += want.length;
      for (const size of [1, 5, 64, 1 << 20]) expect(await allOrError(text, size, "fast")).toEqual(want);
    }
    // the generator makes both kinds of file (figures for this seed)
    expect(events).toBeGreaterThan(1000);
    expect(errors).toBeGreaterThan(10);
  });
});

describe("reading a trace file in chunks", () => {
  it("reads a file of several 1 MiB chunks (two buffers in turn) as the same events as its text in one piece, inline and in the worker", async () => {
    // 120,000 rows of ~35-45 bytes: about 4.6 MB, so five chunks, each a buffer the
    // previous-but-one read used; a row cut by every chunk boundary, and string ids (copied
    // out of the chunk) that must not change when a later read overwrites that buffer
    let text = "time_ms,op,pid,addr,rw,id\n";
    for (let i = 0; i < 120000; i++) text += i % 3 ? `${i},access,${i % 5},0x${(i * 4096).toString(16)},${i % 2 ? "w" : "r"},\n` : `${i},alloc,,,,id-${i}\n`;
    const dir = mkdtempSync(join(tmpdir(), "wsim-csv-chunks-"));
    try {
      const file = join(dir, "t.csv");
      writeFileSync(file, text);
      const want = await allColumns(readCsv(chunksOf(text), file));
      expect(want.length).toBe(120000);
      expect(await allColumns((await openTrace(file, { worker: false })).batches())).toEqual(want);
      expect(await allColumns((await openTrace(file, { worker: true })).batches())).toEqual(want);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
