/**
 * The .wtrace reader and writer (src/trace/wtrace.ts): files built byte by byte here (an
 * encoder written from the README's layout, not the writer's code) decode to the values
 * written; the writer's bytes are checked field by field; every corrupt or cut file is a
 * DataError `file: record N: ...` or `file: byte B: ...`.
 */
import { describe, expect, it } from "vitest";
import { DataError } from "../../../src/errors.js";
import { openWtrace, recordWidth, WtraceWriter, STRING_TABLE_LIMIT } from "../../../src/trace/wtrace.js";
import { batchRows } from "../../../src/trace/rows.js";
import type { EventBatch } from "../../../src/trace/types.js";

type F = ["f64" | "u8" | "i16" | "i32", number];

function header(meta: object = {}, version = 1): Buffer {
  const j = Buffer.from(JSON.stringify(meta));
  const h = Buffer.alloc(16);
  Buffer.from([0x89, 0x57, 0x54, 0x52, 0x41, 0x43, 0x45, 0x0a]).copy(h);
  h.writeUInt16LE(version, 8);
  h.writeUInt32LE(j.length, 12);
  return Buffer.concat([h, j]);
}
function strings(list: string[], reset = 0): Buffer {
  const parts = list.map((s) => {
    const b = Buffer.from(s);
    const l = Buffer.alloc(4);
    l.writeUInt32LE(b.length);
    return Buffer.concat([l, b]);
  });
  const h = Buffer.alloc(6);
  h[0] = 0x53;
  h.writeUInt32LE(list.length, 1);
  h[5] = reset;
  return Buffer.concat([h, ...parts]);
}
function records(mask: number, recs: F[][]): Buffer {
  const h = Buffer.alloc(9);
  h[0] = 0x52;
  h.writeUInt32LE(mask, 1);
  h.writeUInt32LE(recs.length, 5);
  const body = recs.flatMap((r) =>
    r.map(([t, v]) => {
      const b = Buffer.alloc(t === "f64" ? 8 : t === "u8" ? 1 : t === "i16" ? 2 : 4);
      if (t === "f64") b.writeDoubleLE(v);
      else if (t === "u8") b.writeUInt8(v);
      else if (t === "i16") b.writeInt16LE(v);
      else b.writeInt32LE(v);
      return b;
    }),
  );
  return Buffer.concat([h, ...body]);
}
function end(n: number): Buffer {
  const b = Buffer.alloc(9);
  b[0] = 0x45;
  b.writeDoubleLE(n, 1);
  return b;
}

/** every event of the file as rows (batchRows), and the record numbers errors would name */
async function read(bytes: Buffer, chunk = 7): Promise<{ rows: object[]; lines: number[]; header: object }> {
  // small chunks: every field is split across chunk boundaries somewhere
  const chunks = (async function* () {
    for (let k = 0; k < bytes.length; k += chunk) yield bytes.subarray(k, k + chunk);
  })();
  const w = await openWtrace(chunks, "t.wtrace");
  const rows: object[] = [];
  const lines: number[] = [];
  for await (const b of w.batches() as AsyncGenerator<EventBatch>) {
    for (const r of batchRows(b)) rows.push(r);
    for (let i = 0; i < b.n; i++) lines.push(b.line[i]!);
  }
  return { rows, lines, header: w.header };
}

async function fails(bytes: Buffer): Promise<string> {
  try {
    await read(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return (e as Error).message;
  }
  throw new Error("no error");
}

// masks: time 1, op 2, pid 4, addr 8, len 16, rw 32, node 64, kind 128, thp 256, cg 512, id 1024, order 2048, mt 4096, key 8192, value 16384
const ACCESS_MASK = 1 | 2 | 4 | 8 | 32;

describe(".wtrace reading", () => {
  it("record widths: an access record is 8+1+8+8+1 bytes; every column 56", () => {
    expect(recordWidth(ACCESS_MASK)).toBe(26);
    expect(recordWidth(0x7fff)).toBe(8 + 1 + 8 + 8 + 8 + 1 + 2 + 1 + 1 + 4 + 4 + 1 + 1 + 4 + 4);
  });

  it("decodes every op and column, with defaults for columns a block leaves out", async () => {
    const f = Buffer.concat([
      header({ machine: "vm", tunables: [["vm.swappiness", "10"]] }),
      strings(["/a", "h1", "vm.swappiness"]),
      // all columns: mmap of a file region, THP, in /a, node 1
      records(0x7fff, [
        [["f64", 1.5], ["u8", 1], ["f64", 7], ["f64", 0x10000], ["f64", 8192], ["u8", 0], ["i16", 1], ["u8", 1], ["u8", 1], ["i32", 0], ["i32", -1], ["u8", 0], ["u8", 0], ["i32", -1], ["i32", -1]],
      ]),
      // time, op, pid, addr, rw: an access that writes
      records(ACCESS_MASK, [[["f64", 2], ["u8", 0], ["f64", 7], ["f64", 0x10000], ["u8", 1]]]),
      strings(["20"]),
      // time, op, id, order, mt: alloc h1 order 3 reclaimable; then set vm.swappiness=20
      records(1 | 2 | 1024 | 2048 | 4096 | 8192 | 16384, [
        [["f64", 3], ["u8", 4], ["i32", 1], ["u8", 3], ["u8", 2], ["i32", -1], ["i32", -1]],
        [["f64", 3], ["u8", 6], ["i32", -1], ["u8", 0], ["u8", 0], ["i32", 2], ["i32", 3]],
      ]),
      records(1 | 2 | 4, [[["f64", 4], ["u8", 3], ["f64", 7]]]),
      end(5),
    ]);
    const { rows, lines, header: h } = await read(f);
    expect(h).toEqual({ machine: "vm", machineAt: 0, tunables: [{ key: "vm.swappiness", value: "10", line: 0 }] });
    expect(rows).toEqual([
      { time_ms: 1.5, op: "mmap", pid: 7, addr: "0x10000", len: 8192, node: 1, kind: "file", thp: 1, cg: "/a" },
      { time_ms: 2, op: "access", pid: 7, addr: "0x10000", rw: "w" },
      { time_ms: 3, op: "alloc", id: "h1", order: 3, mt: "reclaimable" },
      { time_ms: 3, op: "set", key: "vm.swappiness", value: "20" },
      { time_ms: 4, op: "exit", pid: 7 },
    ]);
    expect(lines).toEqual([1, 2, 3, 4, 5]);
  });

  it("a string table reset starts the indices again", async () => {
    const f = Buffer.concat([
      header(),
      strings(["a", "b"]),
      records(1 | 2 | 1024, [[["f64", 0], ["u8", 4], ["i32", 1]]]),
      strings(["c"], 1),
      records(1 | 2 | 1024, [[["f64", 0], ["u8", 5], ["i32", 0]]]),
      end(2),
    ]);
    expect((await read(f)).rows).toEqual([
      { time_ms: 0, op: "alloc", id: "b", order: 0, mt: "unmovable" },
      { time_ms: 0, op: "free", id: "c" },
    ]);
  });

  it("more records than a batch holds come out in batches, numbered across them", async () => {
    const recs: F[][] = Array.from({ length: 4096 }, (_, k) => [["f64", k], ["u8", 0], ["f64", 1], ["f64", 4096 * k], ["u8", 0]]);
    const f = Buffer.concat([header(), records(ACCESS_MASK, recs), records(ACCESS_MASK, recs.slice(0, 3).map((r) => [["f64", 5000], ...r.slice(1)] as F[])), end(4099)]);
    const { rows, lines } = await read(f, 1 << 16);
    expect(rows.length).toBe(4099);
    expect(lines[4098]).toBe(4099);
    expect(rows[4096]).toEqual({ time_ms: 5000, op: "access", pid: 1, addr: "0x0", rw: "r" });
  });

  it("an access block after a full batch with a node column leaves no node behind in the reused slots", async () => {
    // the reader reuses one batch: the second batch's 3 slots held node 1 from the first
    const withNode: F[][] = Array.from({ length: 4096 }, (_, k) => [["f64", 0], ["u8", 0], ["f64", 1], ["f64", 4096 * k], ["u8", 0], ["i16", 1]]);
    const accesses: F[][] = Array.from({ length: 3 }, (_, k) => [["f64", 1], ["u8", 0], ["f64", 2], ["f64", 4096 * k], ["u8", 1]]);
    const f = Buffer.concat([header(), records(ACCESS_MASK | 64, withNode), records(ACCESS_MASK, accesses), end(4099)]);
    const { rows } = await read(f, 1 << 16);
    expect(rows[4095]).toEqual({ time_ms: 0, op: "access", pid: 1, addr: "0x" + (4096 * 4095).toString(16), rw: "r", node: 1 });
    expect(rows.slice(4096)).toEqual([0, 1, 2].map((k) => ({ time_ms: 1, op: "access", pid: 2, addr: "0x" + (4096 * k).toString(16), rw: "w" })));
  });

  it("reads a source that reuses two buffers as directChunks does (a chunk valid until the next is asked for)", async () => {
    const recs: F[][] = Array.from({ length: 5000 }, (_, k) => [["f64", k], ["u8", 0], ["f64", 1 + (k % 3)], ["f64", 4096 * k], ["u8", k % 2]]);
    const f = Buffer.concat([header(), strings(["a"]), records(ACCESS_MASK, recs.slice(0, 4096)), records(ACCESS_MASK, recs.slice(4096)), end(5000)]);
    const expected = (await read(f)).rows;
    expect(expected.length).toBe(5000);
    for (const size of [100, 4099, 1 << 16]) {
      // chunk k+1 is read into the other buffer as chunk k is handed over: chunk k-1's bytes go
      const bufs = [Buffer.alloc(size), Buffer.alloc(size)];
      const chunks = (async function* () {
        let len = f.copy(bufs[0]!, 0, 0, size);
        for (let off = 0, k = 0; len > 0; off += size, k ^= 1) {
          const cur = bufs[k]!.subarray(0, len);
          bufs[k ^ 1]!.fill(0xee);
          len = f.copy(bufs[k ^ 1]!, 0, Math.min(off + size, f.length), off + 2 * size);
          yield cur;
        }
      })();
      const w = await openWtrace(chunks, "t.wtrace");
      const rows: object[] = [];
      for await (const b of w.batches() as AsyncGenerator<EventBatch>) rows.push(...batchRows(b));
      expect(rows).toEqual(expected);
    }
  });

  const ok = (n = 1): Buffer => records(ACCESS_MASK, Array.from({ length: n }, () => [["f64", 1], ["u8", 0], ["f64", 1], ["f64", 4096], ["u8", 0]] as F[]));
  const cases: [string, Buffer, string][] = [
    ["empty file", Buffer.alloc(0), "t.wtrace: truncated .wtrace header (a file cut short?)"],
    ["wrong magic", Buffer.concat([Buffer.from("WTRACE!!"), Buffer.alloc(8)]), "t.wtrace: not a .wtrace file (its first bytes are not the magic \\x89WTRACE\\n)"],
    ["version 2", Buffer.concat([header({}, 2), end(0)]), "t.wtrace: .wtrace version 2: this wsim reads version 1 (convert the trace again with this wsim)"],
    ["header metadata cut", header({ machine: "vm" }).subarray(0, 20), "t.wtrace: truncated .wtrace header (a file cut short?)"],
    ["no end block", Buffer.concat([header(), ok(2)]), "t.wtrace: byte 79: cut short after record 2 (a .wtrace ends with its end block)"],
    ["cut inside the second record", Buffer.concat([header(), ok(2)]).subarray(0, 18 + 9 + 26 + 10), "t.wtrace: record 2: cut short: the file ends inside it"],
    ["end count wrong", Buffer.concat([header(), ok(2), end(3)]), "t.wtrace: byte 79: corrupt end block: it counts 3 records, the file holds 2"],
    ["bytes after the end", Buffer.concat([header(), end(0), Buffer.from("x")]), "t.wtrace: byte 27: data after the end block"],
    ["unknown block kind", Buffer.concat([header(), Buffer.from("Z")]), "t.wtrace: byte 18: corrupt block kind 0x5a (expected S, R or E)"],
    ["block without op", Buffer.concat([header(), records(1, [[["f64", 0]]]), end(1)]), "t.wtrace: byte 18: corrupt record block: column set 0x1"],
    ["zero records", Buffer.concat([header(), records(3, []), end(0)]), "t.wtrace: byte 18: corrupt record block: 0 records (1..4096)"],
    ["unknown op", Buffer.concat([header(), records(3, [[["f64", 0], ["u8", 18]]]), end(1)]), "t.wtrace: record 1: unknown op 18 (0..17)"],
    ["time goes back", Buffer.concat([header(), records(3 | 4, [[["f64", 5], ["u8", 3], ["f64", 1]], [["f64", 4], ["u8", 3], ["f64", 1]]]), end(2)]), "t.wtrace: record 2: time_ms goes back from 5 to 4"],
    ["negative time", Buffer.concat([header(), records(3, [[["f64", -1], ["u8", 8]]]), end(1)]), "t.wtrace: record 1: time_ms -1 out of range (0 to 2^52 ms)"],
    ["access without addr", Buffer.concat([header(), records(3 | 4, [[["f64", 0], ["u8", 0], ["f64", 1]]]), end(1)]), "t.wtrace: record 1: access needs addr"],
    // pid -1 is "absent" (mask 3|4|8: time, op, pid, addr): the access's first need
    ["access without pid", Buffer.concat([header(), records(3 | 4 | 8, [[["f64", 0], ["u8", 0], ["f64", -1], ["f64", 4096]]]), end(1)]), "t.wtrace: record 1: access needs pid"],
    // the second block goes into the same batch after the first's 2 records: numbered 3, 4
    ["time goes back in a second block", Buffer.concat([header(), ok(2), records(3 | 4, [[["f64", 1], ["u8", 3], ["f64", 1]], [["f64", 0], ["u8", 3], ["f64", 1]]]), end(4)]), "t.wtrace: record 4: time_ms goes back from 1 to 0"],
    ["exit without pid in a second block", Buffer.concat([header(), ok(2), records(3, [[["f64", 2], ["u8", 3]]]), end(3)]), "t.wtrace: record 3: exit needs pid"],
    ["pid not an integer", Buffer.concat([header(), records(3 | 4, [[["f64", 0], ["u8", 3], ["f64", 1.5]]]), end(1)]), "t.wtrace: record 1: pid 1.5 out of range"],
    ["order 11", Buffer.concat([header(), strings(["h"]), records(3 | 1024 | 2048, [[["f64", 0], ["u8", 4], ["i32", 0], ["u8", 11]]]), end(1)]), "t.wtrace: record 1: order 11 out of range (0..10)"],
    // blocks of the access column set (time, op, pid, addr, rw) take the one-pass path, and a bad
    // record sends the block through the column-by-column one: the same errors, in the same order
    ["access block: pid -1", Buffer.concat([header(), ok(1), records(ACCESS_MASK, [[["f64", 1], ["u8", 0], ["f64", -1], ["f64", 4096], ["u8", 0]]]), end(2)]), "t.wtrace: record 2: access needs pid"],
    ["access block: rw 2", Buffer.concat([header(), records(ACCESS_MASK, [[["f64", 1], ["u8", 0], ["f64", 1], ["f64", 4096], ["u8", 2]]]), end(1)]), "t.wtrace: record 1: rw 2 out of range (0..1)"],
    ["access block: pid 2^32", Buffer.concat([header(), records(ACCESS_MASK, [[["f64", 1], ["u8", 0], ["f64", 4294967296], ["f64", 4096], ["u8", 0]]]), end(1)]), "t.wtrace: record 1: pid 4294967296 out of range"],
    ["access block: pid 1.5", Buffer.concat([header(), records(ACCESS_MASK, [[["f64", 1], ["u8", 0], ["f64", 1.5], ["f64", 4096], ["u8", 0]]]), end(1)]), "t.wtrace: record 1: pid 1.5 out of range"],
    ["access block: addr 2^53", Buffer.concat([header(), records(ACCESS_MASK, [[["f64", 1], ["u8", 0], ["f64", 1], ["f64", 2 ** 53], ["u8", 0]]]), end(1)]), "t.wtrace: record 1: addr 9007199254740992 out of range"],
    ["access block: addr not an integer", Buffer.concat([header(), records(ACCESS_MASK, [[["f64", 1], ["u8", 0], ["f64", 1], ["f64", 0.5], ["u8", 0]]]), end(1)]), "t.wtrace: record 1: addr 0.5 out of range"],
    ["access block: time goes back", Buffer.concat([header(), ok(1), records(ACCESS_MASK, [[["f64", 0], ["u8", 0], ["f64", 1], ["f64", 4096], ["u8", 0]]]), end(2)]), "t.wtrace: record 2: time_ms goes back from 1 to 0"],
    // time goes back at record 2, pid 1.5 at record 3: a field out of range is said first (as ever)
    ["access block: a field out of range before time order", Buffer.concat([header(), records(ACCESS_MASK, [[["f64", 5], ["u8", 0], ["f64", 1], ["f64", 0], ["u8", 0]], [["f64", 4], ["u8", 0], ["f64", 1], ["f64", 0], ["u8", 0]], [["f64", 6], ["u8", 0], ["f64", 1.5], ["f64", 0], ["u8", 0]]]), end(3)]), "t.wtrace: record 3: pid 1.5 out of range"],
    ["access block: an exit without pid", Buffer.concat([header(), records(ACCESS_MASK, [[["f64", 1], ["u8", 0], ["f64", 1], ["f64", 0], ["u8", 0]], [["f64", 1], ["u8", 3], ["f64", -1], ["f64", -1], ["u8", 0]]]), end(2)]), "t.wtrace: record 2: exit needs pid"],
    // order's column is an Int8Array: the byte 200 (stored as -56) is still said as 200
    ["order 200", Buffer.concat([header(), strings(["h"]), records(3 | 1024 | 2048, [[["f64", 0], ["u8", 4], ["i32", 0], ["u8", 200]]]), end(1)]), "t.wtrace: record 1: order 200 out of range (0..10)"],
    // the second record's order is bad: the record number counts from the block's first
    ["order 12 in a block's second record", Buffer.concat([header(), strings(["h"]), records(3 | 1024 | 2048, [[["f64", 0], ["u8", 4], ["i32", 0], ["u8", 1]], [["f64", 0], ["u8", 4], ["i32", 0], ["u8", 12]]]), end(2)]), "t.wtrace: record 2: order 12 out of range (0..10)"],
    ["string not in the table", Buffer.concat([header(), strings(["h"]), records(3 | 1024, [[["f64", 0], ["u8", 5], ["i32", 1]]]), end(1)]), "t.wtrace: record 1: id: string 1 not in the table (1 strings)"],
    ["cg not a path", Buffer.concat([header(), strings(["x"]), records(3 | 4 | 512, [[["f64", 0], ["u8", 3], ["f64", 1], ["i32", 0]]]), end(1)]), "t.wtrace: record 1: cg: not a memcg path"],
    ["string block cut", Buffer.concat([header(), strings(["hello"])]).subarray(0, 18 + 6 + 4 + 2), "t.wtrace: byte 24: cut short after record 0 (a .wtrace ends with its end block)"],
  ];
  for (const [what, bytes, msg] of cases)
    it(`error: ${what}`, async () => {
      expect(await fails(bytes)).toBe(msg);
    });

  it("bad tunables in the header", async () => {
    expect(await fails(Buffer.concat([header({ tunables: [["a"]] }), end(0)]))).toBe("t.wtrace: corrupt .wtrace header: tunables must be [key, value] pairs");
  });
});

describe(".wtrace writing", () => {
  function sink() {
    const parts: Buffer[] = [];
    let committed = false;
    return {
      parts,
      bytes: () => Buffer.concat(parts),
      committed: () => committed,
      write: async (b: Buffer) => void parts.push(Buffer.from(b)),
      commit: async () => void (committed = true),
      abort: () => {},
    };
  }

  it("lays out header, strings, the block's columns and the end as documented", async () => {
    const s = sink();
    const w = new WtraceWriter(s, "o.wtrace", { machine: "vm" });
    w.row({ time_ms: 0.5, op: "alloc", id: "k", order: 2, mt: "movable" });
    w.row({ time_ms: 1, op: "free", id: "k" });
    await w.end();
    expect(s.committed()).toBe(true);
    const b = s.bytes();
    const meta = '{"machine":"vm"}';
    expect(b.subarray(0, 8).toString("latin1")).toBe("\x89WTRACE\n");
    expect(b.readUInt16LE(8)).toBe(1);
    expect(b.readUInt32LE(12)).toBe(meta.length);
    expect(b.toString("utf8", 16, 16 + meta.length)).toBe(meta);
    let p = 16 + meta.length;
    // S: one string "k"
    expect([...b.subarray(p, p + 11)]).toEqual([0x53, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0x6b]);
    p += 11;
    // R: columns time, op, id, order, mt = 1|2|1024|2048|4096 = 7171; 2 records of 8+1+4+1+1 = 15 bytes
    expect(b[p]).toBe(0x52);
    expect(b.readUInt32LE(p + 1)).toBe(7171);
    expect(b.readUInt32LE(p + 5)).toBe(2);
    p += 9;
    expect(b.readDoubleLE(p)).toBe(0.5);
    expect([b[p + 8], b.readInt32LE(p + 9), b[p + 13], b[p + 14]]).toEqual([4, 0, 2, 1]);
    p += 15;
    expect(b.readDoubleLE(p)).toBe(1);
    // free: no order or mt given, their defaults
    expect([b[p + 8], b.readInt32LE(p + 9), b[p + 13], b[p + 14]]).toEqual([5, 0, 0, 0]);
    p += 15;
    expect(b[p]).toBe(0x45);
    expect(b.readDoubleLE(p + 1)).toBe(2);
    expect(b.length).toBe(p + 9);
    expect((await read(b)).rows).toEqual([
      { time_ms: 0.5, op: "alloc", id: "k", order: 2, mt: "movable" },
      { time_ms: 1, op: "free", id: "k" },
    ]);
  });

  it("starts a fresh string table past STRING_TABLE_LIMIT strings, and reads back the same ids", async () => {
    const s = sink();
    const w = new WtraceWriter(s, "o.wtrace");
    const n = STRING_TABLE_LIMIT + 10;
    for (let k = 0; k < n; k++) w.row({ time_ms: k, op: "alloc", id: `k${k}` });
    w.row({ time_ms: n, op: "free", id: "k0" });
    await w.end();
    const { rows } = await read(s.bytes(), 1 << 20);
    expect(rows.length).toBe(n + 1);
    expect(rows[n - 1]).toEqual({ time_ms: n - 1, op: "alloc", id: `k${n - 1}`, order: 0, mt: "unmovable" });
    expect(rows[n]).toEqual({ time_ms: n, op: "free", id: "k0" });
  });
});
