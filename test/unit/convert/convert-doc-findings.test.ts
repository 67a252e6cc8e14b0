/**
 * What writing docs/convert.md found wrong in the importers, and its fixes: a libCacheSim CSV
 * with quoted fields (sniffed as one, then refused); rows written at the time of the row before
 * listed as "skipped"; the lines lackey, ucsd, lirs and libcachesim could not read counted but
 * never named; the no-record error of those four not saying what a record looks like; a
 * libCacheSim header with no row called "empty". Expectations by hand.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DataError } from "../../../src/errors.js";
import { checkRecognised, DEFAULT_IMPORT, describeCounted, describeSkipped, lackey, libcachesim, lirs, newStats, sniffImport, ucsd } from "../../../src/convert/importers.js";
import { perfMem } from "../../../src/convert/perf-samples.js";
import { describeUnread } from "../../../src/convert/ktrace.js";
import type { Row } from "../../../src/generate/generators.js";

const ROOT = new URL("../../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const dir = mkdtempSync(join(tmpdir(), "wsim-convert-doc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const wsim = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd: dir });

type Make = typeof lackey;
/** runs a line importer over `text`: its rows (copied), its stats */
function run(make: Make, text: string, o = DEFAULT_IMPORT) {
  const st = newStats();
  const rows: Row[] = [];
  const imp = make(o, st, (r) => rows.push({ ...r }), "in.txt");
  text.split("\n").forEach((l, i) => imp.line(l, i + 1));
  imp.end();
  return { st, rows };
}

function errorOf(f: () => void): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return (e as Error).message;
  }
  throw new Error("no error");
}

describe("libCacheSim CSV with quoted fields", () => {
  const text = '"time","obj_id","obj_size"\n"10","42","4096"\n"12","7","512"\n';
  it("is sniffed as libcachesim and now read: the quotes are dropped from the header and the values", () => {
    expect(sniffImport(Buffer.from(text))).toBe("libcachesim");
    const { rows, st } = run(libcachesim, text);
    // object 42 -> page 42 = 42 * 4096 = 0x2a000 at 0 ms; object 7 -> 0x7000 at (12 - 10) s = 2000 ms
    expect(rows.map((r) => [r.time_ms, r.addr])).toEqual([
      [0, "0x2a000"],
      [2000, "0x7000"],
    ]);
    expect(st.skipped).toEqual({});
  });
});

describe("rows stamped earlier than the row before are written, so counted, not skipped", () => {
  it("libcachesim: 5 s, then 4 s -> both written, the second at 0 ms (5 - 5), not -1000", () => {
    const { rows, st } = run(libcachesim, "time,obj_id\n5,1\n4,3\n");
    expect(rows.map((r) => [r.time_ms, r.addr])).toEqual([
      [0, "0x1000"],
      [0, "0x3000"],
    ]);
    expect(describeSkipped(st)).toEqual([]);
    expect(describeCounted(st)).toEqual(["1 row going back in time (written at the time of the row before: time_ms never decreases)"]);
  });
  it("perf-mem: a sample at 1.000200 s after one at 1.000300 s is written at 0.1 ms", () => {
    const s = (t: string, addr: string) => `  a  7/7 [000]  ${t}:  100 cpu/mem-loads/P:  ${addr}  68100142 |OP LOAD|LVL L1 hit|`;
    const { rows, st } = run(perfMem, [s("1.000000", "1000"), s("1.000300", "2000"), s("1.000200", "3000")].join("\n"));
    // times from the first sample: 0, 0.3 ms, then 0.2 ms clamped to 0.3
    expect(rows.map((r) => [r.time_ms, r.addr])).toEqual([
      [0, "0x1000"],
      [0.3, "0x2000"],
      [0.3, "0x3000"],
    ]);
    expect(describeSkipped(st)).toEqual([]);
    expect(describeCounted(st)).toEqual(["1 sample going back in time (written at the time of the sample before: time_ms never decreases)"]);
  });
});

describe("the lines the address-trace importers could not read are named (the first three)", () => {
  it("lackey: lines 3, 4, 5 and 6 are not lackey records; the first three are kept", () => {
    const { st } = run(lackey, " L 00001000,4\n S 00002000,4\nzzz\n L 0x10\nyyy\nwww\n");
    expect(describeSkipped(st)).toEqual(["4 unrecognised lines"]);
    expect(describeUnread(st, "in.txt")).toEqual(['in.txt:3: "zzz"', 'in.txt:4: "L 0x10"' /* trimmed */, 'in.txt:5: "yyy"']);
  });
  it("ucsd and lirs: one each", () => {
    expect(describeUnread(run(ucsd, "l 0x1000 3\nl zz 3\n").st, "u")).toEqual(['u:2: "l zz 3"']);
    expect(describeUnread(run(lirs, "12\n*\n7\n").st, "l")).toEqual(['l:2: "*"']);
  });
  it("libcachesim: its rows with a bad time or object id", () => {
    const { st } = run(libcachesim, "time,obj_id\n1,2\nx,3\n");
    expect(describeSkipped(st)).toEqual(["1 row with a bad time or object id"]);
    expect(describeUnread(st, "c")).toEqual(['c:3: "x,3"']);
  });
  it("on convert's stderr, after the skip summary", () => {
    writeFileSync(join(dir, "l.trc"), "12\n*\n7\n");
    const r = wsim(["convert", "--from", "lirs", "l.trc", "-"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('lirs: pid 1; block n = page n (addr n * 4096); time = reference / 1000 per ms\n2 accesses written; skipped: 1 unrecognised line\nfirst lines not read:\n  l.trc:2: "*"\n');
  });
});

describe("no record of the format: the error says what one looks like", () => {
  const none = (make: Make, fmt: string, text: string) => {
    const { st } = run(make, text);
    return errorOf(() => checkRecognised(fmt, st, "in.txt"));
  };
  it("lackey, ucsd, lirs, libcachesim", () => {
    expect(none(lackey, "lackey", "hello\n")).toBe(
      'in.txt:1: lackey: no line of the file is a lackey record; the first it could not read is "hello" (a record is ` L ADDR,SIZE` (load), ` S ADDR,SIZE` (store), ` M ADDR,SIZE` (modify) or `I  ADDR,SIZE` (instruction fetch), ADDR in hex, as valgrind --tool=lackey --trace-mem=yes prints them)',
    );
    expect(none(ucsd, "ucsd", "\nhello\n")).toBe(
      'in.txt:2: ucsd: no line of the file is a ucsd record; the first it could not read is "hello" (a record is `l 0xADDR N` (load) or `s 0xADDR N` (store), N the instructions since the previous reference)',
    );
    expect(none(lirs, "lirs", "x1\n")).toBe('in.txt:1: lirs: no line of the file is a lirs record; the first it could not read is "x1" (a record is one block number a line)');
    expect(none(libcachesim, "libcachesim", "time,obj_id\nx,y\n")).toBe(
      `in.txt:2: libcachesim: no line of the file is a libcachesim record; the first it could not read is "x,y" (a record is a row with a number in the header's time column and an object id, an integer from 0, in its object column)`,
    );
  });
  it("libcachesim: a header and no row is named at the header's line, not called empty", () => {
    expect(errorOf(() => run(libcachesim, "# made by hand\ntime,obj_id,obj_size\n\n"))).toBe("in.txt:2: libcachesim: the header names the columns, but no row follows it");
    writeFileSync(join(dir, "h.csv"), "time,obj_id\n");
    const r = wsim(["convert", "h.csv", "out.csv"]);
    expect([r.status, r.stderr]).toEqual([3, "h.csv:1: libcachesim: the header names the columns, but no row follows it\n"]);
  });
});

describe("libcachesim: times beyond 10^15 ms say to give a finer --time-unit (it said 'raise --time-unit')", () => {
  // 2e12 s = 2e15 ms > 1e15; in ms 2e12 ms is below; in ns there is no finer unit to give
  it("seconds by default: names the finer units", () => {
    expect(errorOf(() => run(libcachesim, "time,obj_id\n0,1\n2000000000000,2\n"))).toBe(
      "in.txt:3: time_ms would be 2000000000000000, beyond 1000000000000000: is the time column in seconds (--time-unit, s by default)? give its unit: --time-unit ms, us or ns",
    );
    const { rows } = run(libcachesim, "time,obj_id\n0,1\n2000000000000,2\n", { ...DEFAULT_IMPORT, time_unit: "ms" });
    expect(rows.map((r) => r.time_ms)).toEqual([0, 2000000000000]);
  });
  it("ns: none finer", () => {
    // 2e21 ns = 2e15 ms
    expect(errorOf(() => run(libcachesim, "time,obj_id\n0,1\n2000000000000000000000,2\n", { ...DEFAULT_IMPORT, time_unit: "ns" }))).toBe(
      "in.txt:3: time_ms would be 2000000000000000, beyond 1000000000000000: the times span more than 10^15 ms even in ns",
    );
  });
});

describe("sniffing: a stray line among lackey, ucsd or LIRS records no longer makes the file a wsim CSV ('unknown column \"12\"')", () => {
  const sniff = (t: string) => sniffImport(Buffer.from(t));
  it("the first line and more than half of the lines (blank ones left out) are records: the format", () => {
    expect(sniff("12\n*\n7\n")).toBe("lirs"); // 2 of 3
    expect(sniff("l 0x1000 3\nhello\n\ns 0x2000 1\n")).toBe("ucsd"); // 2 of 3
    expect(sniff(" L 00001000,4\nhello from the program\n S 00002000,8\n")).toBe("lackey"); // 2 of 3, no ==PID== line
  });
  it("half or fewer, or a first line that is no record: not the format (a wsim trace, as before)", () => {
    expect(sniff("12\n*\n*\n7\n")).toBeNull(); // 2 of 4
    expect(sniff("*\n12\n7\n")).toBeNull(); // first line
    expect(sniff("time_ms,op,pid,addr\n0,access,1,0x1000\n")).toBeNull();
    expect(sniff("hello\nl 0x1000 3\ns 0x2000 1\n")).toBeNull();
  });
  it("convert reads the LIRS file with its end mark unasked; replay's hint names it", () => {
    writeFileSync(join(dir, "end.trc"), "12\n*\n7\n");
    const c = wsim(["convert", "end.trc", "-", "-q"]);
    expect([c.status, c.stdout.split("\n").slice(1, 3)]).toEqual([0, ["0,access,1,0xc000,,r,,,,,,,,,", "0.001,access,1,0x7000,,r,,,,,,,,,"]]);
    const r = wsim(["replay", "end.trc"]);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain("this looks like a LIRS page trace (one page number a line), not a wsim trace: import it with `wsim convert end.trc trace.csv`");
  });
});

describe("perf-mem: --refs-per-ms on perf script samples changed nothing, silently", () => {
  const script = "  a  7/7 [000]  1.000000:  100 cpu/mem-loads/P:  1000  68100142 |OP LOAD|LVL L1 hit|\n";
  const dump = "# PID, TID, IP, ADDR, LOCAL WEIGHT, DSRC, SYMBOL\n7 7 0x401136 0x7ffd1a2b3c40 35 0x68100142 /tmp/a:main\n7 7 0x401136 0x7ffd1a2b4c40 35 0x68100142 /tmp/a:main\n";
  it("a note says so when it is not the default", () => {
    expect(run(perfMem, script, { ...DEFAULT_IMPORT, refs_per_ms: 5 }).st.notes).toEqual([
      "--refs-per-ms 5 changed nothing: perf script samples carry their own times (it times perf mem report -D rows, which have none)",
    ]);
    expect(run(perfMem, script).st.notes).toBeUndefined();
  });
  it("perf mem report -D rows are timed by it: no note; the second row at 1 / 5 = 0.2 ms", () => {
    const { st, rows } = run(perfMem, dump, { ...DEFAULT_IMPORT, refs_per_ms: 5 });
    expect(rows.map((r) => r.time_ms)).toEqual([0, 0.2]);
    expect(st.notes).toBeUndefined();
  });
});

describe("lackey: only `==PID==` lines are valgrind's (a markdown file's `=====` made it an empty lackey trace, exit 0)", () => {
  const md = "Title\n=====\n\nSome text\n";
  it("is not sniffed as lackey", () => {
    expect(sniffImport(Buffer.from(md))).toBeNull();
    expect(sniffImport(Buffer.from("==884== Lackey, an example Valgrind tool\nI  0401ab70,3\n"))).toBe("lackey");
  });
  it("with --from lackey: no record, exit 3 at its first line", () => {
    const { st } = run(lackey, md);
    // Title, =====, Some text: three lines, none a record or a valgrind line
    expect(describeSkipped(st)).toEqual(["3 unrecognised lines"]);
    expect(errorOf(() => checkRecognised("lackey", st, "in.txt"))).toMatch(/^in\.txt:1: lackey: no line of the file is a lackey record; the first it could not read is "Title"/);
  });
});

describe("libcachesim: the object column of libCacheSim's own sample CSV, `lbn` (data/trace.csv: version,time,op,size,lbn)", () => {
  const text = "version,time,op,size,lbn\n1,33898,2a,512,42932745\n1,33899,2a,6144,31954535\n";
  it("is sniffed and read: lbn n -> page n", () => {
    expect(sniffImport(Buffer.from(text))).toBe("libcachesim");
    const { rows } = run(libcachesim, text, { ...DEFAULT_IMPORT, time_unit: "us" });
    // 42932745 * 4096 = 175,852,523,520 = 0x28f1a09000 at 0; 31954535 * 4096 = 0x1e79667000 at (33899 - 33898) us = 0.001 ms
    expect(rows.map((r) => [r.time_ms, r.addr])).toEqual([
      [0, "0x28f1a09000"],
      [0.001, "0x1e79667000"],
    ]);
  });
});

describe("a file no importer recognises and no wsim trace: the error says to name its format with --from", () => {
  it("UCSD with decimal addresses: unknown column, then the --from hint; with --from ucsd it converts", async () => {
    const { spawnSync } = await import("node:child_process");
    const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "wsim-hint-"));
    const f = join(dir, "dec.trace");
    writeFileSync(f, "l 140734799804576 3\ns 140734799804584 1\n");
    const bin = new URL("../../../bin/wsim", import.meta.url).pathname;
    const r = spawnSync(process.execPath, [bin, "convert", f, "-"], { encoding: "utf8" });
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/dec\.trace:1: unknown column "l 140734799804576 3" \(known: .*\); not a wsim trace, nor one of the formats convert recognises by their look: if it is one it imports, name it with --from lackey\|ucsd\|lirs\|damon\|libcachesim\|ftrace\|perf-mem/);
    const ok = spawnSync(process.execPath, [bin, "convert", f, "-", "--from", "ucsd"], { encoding: "utf8" });
    expect(ok.status).toBe(0);
    // a wsim header with a typo is a wsim trace: the error names the column, without the hint
    const typo = join(dir, "typo.csv");
    writeFileSync(typo, "time_ms,op,pid,adr\n0,access,1,0x1000\n");
    const t = spawnSync(process.execPath, [bin, "convert", typo, "-"], { encoding: "utf8" });
    expect(t.status).toBe(3);
    expect(t.stderr).toMatch(/typo\.csv:1: unknown column "adr" \(known: [^)]*\)\n$/);
    rmSync(dir, { recursive: true, force: true });
  });
});
