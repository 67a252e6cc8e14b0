/**
 * Issue 12, item 20: the streaming writer encodes rows straight into buffers; what it writes
 * must be what String() and CSV quoting would give, read back by csv-parse to the same values.
 */
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { TraceWriter, type Sink } from "../../../src/convert/writer.js";
import { COLUMNS, type Row } from "../../../src/generate/generators.js";

async function written(format: "csv" | "ndjson" | "json", rows: Row[], header = {}): Promise<string> {
  const parts: Buffer[] = [];
  const sink: Sink = { write: async (b) => void parts.push(Buffer.from(b)), commit: async () => {}, abort: () => {} };
  const w = new TraceWriter(format, sink, "t.csv", header);
  for (const r of rows) {
    w.row(r);
    await w.drain();
  }
  await w.end();
  return Buffer.concat(parts).toString("utf8");
}

describe("TraceWriter", () => {
  it("numbers print as String() prints them: integers, times of three decimals, and the rest", async () => {
    const times = [0, 0.001, 0.01, 0.1, 0.5, 1, 1.5, 1.25, 1.125, 12345.678, 999.999, 1e15, 0.0001, 1.0005, 123456789.012, 2 ** 53 - 1];
    for (let k = 0; k < 3000; k++) times.push(Math.round(k * 7.77) / 1000);
    const rows = times.map((t, k) => ({ time_ms: t, op: "access", pid: k, addr: "0x" + (k * 4096).toString(16) }));
    const lines = (await written("csv", rows)).trim().split("\n");
    expect(lines[0]).toBe(COLUMNS.join(","));
    for (const [k, t] of times.entries()) expect(lines[k + 1]).toBe(`${String(t)},access,${k},0x${(k * 4096).toString(16)},,,,,,,,,,,`);
  });

  it("numbers String() prints with an exponent are written in plain decimal, and read back to the same time", async () => {
    // 1e-7 ms is a valid CSV time (0.0000001), but String(1e-7) is "1e-7", which no reader takes
    const times = [2.5e-9, 1e-7, 1.2345e-7];
    const rows = times.map((t) => ({ time_ms: t, op: "exit", pid: 1 }));
    const csv = (await written("csv", rows)).trim().split("\n").slice(1).map((l) => l.split(",")[0]);
    expect(csv).toEqual(["0.0000000025", "0.0000001", "0.00000012345"]);
    const nd = (await written("ndjson", rows)).trim().split("\n").map((l) => (JSON.parse(l) as { time_ms: number }).time_ms);
    expect(nd).toEqual(times);
    expect(await written("ndjson", rows)).not.toMatch(/e-/);
    const { readCsv } = await import("../../../src/trace/csv.js");
    const { readNdjson } = await import("../../../src/trace/json.js");
    const { chunksOf, collect } = await import("../../helpers.js");
    for (const [read, text] of [[readCsv, await written("csv", rows)], [readNdjson, await written("ndjson", rows)]] as const)
      expect((await collect(read(chunksOf(text), "t"))).map((e) => e.time)).toEqual(times);
    // JSON numbers that JSON.parse gives back in exponent form are read as their plain decimal
    expect((await collect(readNdjson(chunksOf('{"time_ms":1e-7,"op":"exit","pid":1}\n'), "t"))).map((e) => e.time)).toEqual([1e-7]);
  });

  it("strings that need it are quoted (comma, quote, outer spaces) and non-ASCII is UTF-8; csv-parse reads back the values", async () => {
    const values = ["N0=1000,5000", 'say "hi"', " padded ", "é", "plain", "", "a\tb"];
    const rows = values.map((v) => ({ time_ms: 0, op: "set", key: "k", value: v }));
    const text = await written("csv", rows);
    const back = parse(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
    expect(back.map((r) => r.value)).toEqual(values);
    expect(text.split("\n")[1]).toBe('0,set,,,,,,,,,,,,k,"N0=1000,5000"');
  });

  it("a line break cannot be written to CSV: a data error naming the output", async () => {
    await expect(written("csv", [{ time_ms: 0, op: "alloc", id: "a\nb" }])).rejects.toThrow(/^t\.csv: a value with a line break cannot be written to CSV/);
    expect(JSON.parse((await written("ndjson", [{ time_ms: 0, op: "alloc", id: "a\nb" }])).trim())).toEqual({ time_ms: 0, op: "alloc", id: "a\nb" });
  });

  it("rows larger than a block, and many blocks, come out whole and in order", async () => {
    const big = "x".repeat(3 << 20);
    const rows: Row[] = [{ time_ms: 0, op: "alloc", id: big }];
    for (let k = 0; k < 100000; k++) rows.push({ time_ms: k, op: "free", id: `h${k}` });
    const lines = (await written("csv", rows)).split("\n");
    expect(lines[1]).toBe(`0,alloc,,,,,,,,,${big},,,,`);
    expect(lines[100001]).toBe("99999,free,,,,,,,,,h99999,,,,");
    expect(lines).toHaveLength(100003);
  });

  it("a document keeps machine and tunables; NDJSON the machine as its first line; CSV and NDJSON get set events at time 0 (a document's tunables hold from boot)", async () => {
    const header = { machine: { name: "m", nodes: [{ id: 0, mem: "32M" }] }, tunables: [{ key: "vm.swappiness", value: 10 }] };
    const rows = [{ time_ms: 3, op: "access", pid: 1, addr: "0x1000" }];
    expect(JSON.parse(await written("json", rows, header))).toEqual({ machine: header.machine, tunables: { "vm.swappiness": 10 }, events: [{ time_ms: 3, op: "access", pid: 1, addr: "0x1000" }] });
    expect((await written("ndjson", rows, header)).trim().split("\n").map((l) => JSON.parse(l))).toEqual([
      { machine: header.machine },
      { time_ms: 0, op: "set", key: "vm.swappiness", value: "10" },
      { time_ms: 3, op: "access", pid: 1, addr: "0x1000" },
    ]);
    expect((await written("csv", [], header)).split("\n")[1]).toBe("0,set,,,,,,,,,,,,vm.swappiness,10");
    // a machine's name goes in CSV's directive
    expect((await written("csv", rows, { machine: "tiered" })).split("\n")[0]).toBe("# wsim: machine=tiered");
  });
});
