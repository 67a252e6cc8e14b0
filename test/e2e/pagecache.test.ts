/**
 * The page cache through the command line (issue 15 item 2): a trace of fread / fwrite / fsync /
 * ftruncate / fdelete replays under --check with hand-counted counters, the same in every format
 * `convert` writes that carries the file column; the errors (exit 3 at the line); and
 * `wsim generate filecache`'s output replays under --check.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const dir = mkdtempSync(join(tmpdir(), "wsim-pcache-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const wsim = (args: string[], input?: string) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8", input, maxBuffer: 1 << 28 });
const counters = (out: string) => Object.fromEntries(out.trim().split("\n").map((l) => [l.split(" ")[0]!, Number(l.split(" ")[1])]));
writeFileSync(join(dir, "small.json"), JSON.stringify({ name: "small", nodes: [{ id: 0, mem: "16M", cpus: true }] }));

// 10 pages read, then read again (hits); 2 pages written to a log and fsync'ed; 3 pages
// written and truncated before writeback; data truncated to 1 page (9 freed); log deleted (2).
const TRACE = `time_ms,op,pid,file,off,len
0,fread,1,data,0,40960
1,fread,1,data,0,40960
2,fwrite,1,log,0,8192
3,fsync,1,log,,
4,fwrite,2,tmp,0,12288
5,ftruncate,2,tmp,,0
6,ftruncate,,data,,4096
7,fdelete,,log,,
`;
const WANT = {
  pgpgin: 40, // 10 pages read once, KiB
  pgpgout: 8, // 2 pages written back
  nr_dirtied: 5,
  nr_written: 2,
  nr_dirty: 0,
  nr_writeback: 0,
  nr_file_pages: 1,
  pgalloc_normal: 15,
  pgfree: 14, // tmp's 3, data's 9, log's 2
  pgfault: 0,
};

describe("wsim replay of buffered I/O", () => {
  it("counts what the trace does, under --check, the same from CSV, NDJSON, JSON and .wtrace", () => {
    writeFileSync(join(dir, "io.csv"), TRACE);
    const want = (out: string) => {
      const v = counters(out);
      for (const [k, n] of Object.entries(WANT)) expect(v[k], k).toBe(n);
    };
    const r = wsim(["replay", "io.csv", "-m", "small.json", "--check", "-f", "vmstat"]);
    expect(r.status, r.stderr).toBe(0);
    want(r.stdout);
    for (const ext of ["ndjson", "json", "wtrace"]) {
      const c = wsim(["convert", "io.csv", `io.${ext}`]);
      expect(c.status, c.stderr).toBe(0);
      const x = wsim(["replay", `io.${ext}`, "-m", "small.json", "--check", "-f", "vmstat"]);
      expect(x.status, x.stderr).toBe(0);
      expect(x.stdout, ext).toBe(r.stdout);
    }
    // convert keeps the columns: back from NDJSON to NDJSON is byte for byte
    const back = wsim(["convert", "io.ndjson", "io2.ndjson"]);
    expect(back.status, back.stderr).toBe(0);
    expect(wsim(["convert", "io.csv", "-", "--to", "ndjson"]).stdout.split("\n")[0]).toBe('{"time_ms":0,"op":"fread","pid":1,"len":40960,"file":"data"}');
  });

  it("a CSV converted from it keeps the file and off columns", () => {
    writeFileSync(join(dir, "io.ndjson"), '{"time_ms":0,"op":"fread","file":"a","off":8192,"len":4096}\n');
    const c = wsim(["convert", "io.ndjson", "out.csv"]);
    expect(c.status, c.stderr).toBe(0);
    expect(readFileSync(join(dir, "out.csv"), "utf8").split("\n")[1]).toBe("0,fread,,,,,,,,,,,,,,,,,,a,8192");
  });

  const bad: [string, string, string][] = [
    ["fread without file", "time_ms,op,pid,off,len\n0,fread,1,0,4096\n", "t.csv:2: fread needs file"],
    ["negative off", "time_ms,op,file,off,len\n0,fread,a,-1,4096\n", 't.csv:2: off: expected a non-negative byte offset below 2^53, got "-1"'],
    ["fwrite of len 0", "time_ms,op,file,len\n0,fwrite,a,0\n", 't.csv:2: len: expected a positive number of bytes, got "0"'],
    ["ftruncate without len", "time_ms,op,file\n0,ftruncate,a\n", "t.csv:2: ftruncate needs len"],
    ["fsync without file", "time_ms,op,pid\n0,fsync,1\n", "t.csv:2: fsync needs file"],
    ["beyond 64 GiB", "time_ms,op,file,off,len\n0,fwrite,a,68719476736,1\n", 't.csv:2: fwrite of file "a" reaches byte 68719476737 (off + len), beyond the 64 GiB a file may have in wsim'],
  ];
  for (const [what, trace, msg] of bad)
    it(`${what}: exit 3, one line`, () => {
      writeFileSync(join(dir, "t.csv"), trace);
      const r = wsim(["replay", "t.csv", "-m", "small.json"]);
      expect(r.status).toBe(3);
      expect(r.stderr).toBe(msg + "\n");
      expect(r.stdout).toBe("");
    });

  it("ftruncate to 0 is accepted (len 0 only there)", () => {
    writeFileSync(join(dir, "z.csv"), "time_ms,op,file,len\n0,fwrite,a,8192\n1,ftruncate,a,0\n");
    const r = wsim(["replay", "z.csv", "-m", "small.json", "--check", "-f", "vmstat"]);
    expect(r.status, r.stderr).toBe(0);
    expect(counters(r.stdout).nr_dirtied).toBe(2);
    expect(counters(r.stdout).nr_file_pages).toBe(0);
  });
});

describe("wsim generate filecache", () => {
  it("writes the file and off columns, is deterministic, and replays under --check with refaults of the stream", () => {
    // a 24 MiB stream over a 16 MiB machine, twice; a 1 MiB hot file every 16 reads; 4 KiB appends
    const args = ["generate", "filecache", "--file-mb", "24", "--hot-mb", "1", "--hot-every", "16", "--passes", "2", "--append-kb", "4"];
    const a = wsim(args);
    expect(a.status, a.stderr).toBe(0);
    expect(wsim(args).stdout).toBe(a.stdout);
    const rows = a.stdout.split("\n").filter((l) => l && !l.startsWith("#"));
    expect(rows[0]).toBe("time_ms,op,pid,addr,len,rw,node,kind,thp,cg,id,order,mt,key,value,file,off");
    const streamReads = rows.filter((l) => l.includes(",fread,1,")).length;
    expect(streamReads).toBe(2 * 24 * 8); // 128 KiB reads: 8 a MiB, 2 passes
    expect(rows.filter((l) => l.includes(",fread,2,")).length).toBe(streamReads / 16);
    expect(rows.filter((l) => l.includes(",fwrite,1,")).length).toBe(streamReads);
    writeFileSync(join(dir, "fc.csv"), a.stdout);
    const r = wsim(["replay", "fc.csv", "-m", "small.json", "--check", "-f", "vmstat"]);
    expect(r.status, r.stderr).toBe(0);
    const v = counters(r.stdout);
    // the second pass finds the first pass's stream evicted: refaults through shadow entries
    expect(v.workingset_refault_file).toBeGreaterThan(0);
    expect(v.pgpgin).toBeGreaterThanOrEqual(4 * 2 * 24 * 256); // every stream page read both passes, at least
    expect(v.nr_dirtied).toBe(streamReads); // one new log page per append
  });
});
