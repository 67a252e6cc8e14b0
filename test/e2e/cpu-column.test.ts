/**
 * The trace's `cpu` column (issue 13 item 2): the CPU an access or alloc runs on, whose per-cpu
 * lists it uses. Figures by hand on a 64 MiB node with 2 CPUs (batch 3: b = min(16384 >> 10,
 * 256) / 4 = 4, rounddown_pow_of_two(6) - 1 = 3), page tables off so only the trace's pages
 * count: a first fault on a CPU refills its empty Movable order-0 list with 3 pages from the
 * buddy (rmqueue_bulk) and takes one; the other 2 stay on that CPU's list, outside nr_free_pages.
 * convert keeps the column in NDJSON, JSON, .wtrace and CSV.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const dir = mkdtempSync(join(tmpdir(), "wsim-cpu-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const wsim = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8" });
const free = (out: string) => Number(/^nr_free_pages (\d+)$/m.exec(out)![1]);

writeFileSync(join(dir, "two.json"), JSON.stringify({ name: "two", nodes: [{ id: 0, mem: "64M", cpus: 2 }] }));
const replay = (f: string, ...more: string[]) => wsim(["replay", f, "--machine", "two.json", "--set", "wsim.page_tables=0", "-f", "vmstat", ...more]);

describe("the cpu column", () => {
  it("two faults on one CPU take one refill of 3 pages; on two CPUs, two refills", () => {
    writeFileSync(join(dir, "same.csv"), "time_ms,op,pid,addr,len,cpu\n0,access,1,0x1000,,1\n1,access,1,0x2000,,1\n");
    writeFileSync(join(dir, "both.csv"), "time_ms,op,pid,addr,len,cpu\n0,access,1,0x1000,,1\n1,access,1,0x2000,,0\n");
    writeFileSync(join(dir, "none.csv"), "time_ms,op,pid,addr,len\n0,access,1,0x1000,\n1,access,1,0x2000,\n");
    const same = replay("same.csv", "--check");
    expect(same.status, same.stderr).toBe(0);
    expect(free(same.stdout)).toBe(16384 - 3);
    expect(free(replay("both.csv", "--check").stdout)).toBe(16384 - 6);
    // without the column: the node's first CPU, both faults
    expect(free(replay("none.csv").stdout)).toBe(16384 - 3);
    // an alloc on CPU 1 (an unmovable order-0 refill there), freed back to that list
    writeFileSync(join(dir, "alloc.csv"), "time_ms,op,id,order,cpu\n0,alloc,a,0,1\n1,free,a,,\n");
    expect(free(replay("alloc.csv", "--check").stdout)).toBe(16384 - 3);
  });

  it("a free goes to the list of the CPU the trace names (free_unref_page on the freeing CPU), else the node's first", () => {
    // pagesets' counts per CPU from a zoneinfo read: [cpu 0, cpu 1]
    const counts = (f: string) => {
      const r = wsim(["replay", f, "--machine", "two.json", "--set", "wsim.page_tables=0", "--check", "-f", "json"]);
      expect(r.status, r.stderr).toBe(0);
      const z = JSON.parse(r.stdout).reads[0].value as string;
      return [...z.matchAll(/^\s+count:\s+(\d+)$/gm)].map((m) => Number(m[1])).slice(-2);
    };
    // the alloc on CPU 1 refills CPU 1's Unmovable list with 3 and takes 1: [0, 2]; its free on
    // CPU 1 puts it back there: [0, 3]; on CPU 0 it goes to CPU 0's list instead: [1, 2]
    writeFileSync(join(dir, "f1.csv"), "time_ms,op,id,order,cpu,key\n0,alloc,a,0,1,\n1,free,a,,1,\n2,read,,,,zoneinfo\n");
    writeFileSync(join(dir, "f0.csv"), "time_ms,op,id,order,cpu,key\n0,alloc,a,0,1,\n1,free,a,,0,\n2,read,,,,zoneinfo\n");
    writeFileSync(join(dir, "fn.csv"), "time_ms,op,id,order,cpu,key\n0,alloc,a,0,1,\n1,free,a,,,\n2,read,,,,zoneinfo\n");
    expect(counts("f1.csv")).toEqual([0, 3]);
    expect(counts("f0.csv")).toEqual([1, 2]);
    expect(counts("fn.csv")).toEqual([1, 2]); // no cpu: the node's first CPU, 0
    // a CPU the machine lacks is an error on any op that names one
    writeFileSync(join(dir, "badfree.csv"), "time_ms,op,pid,addr,len,id,order,cpu\n0,mmap,1,0x1000,4096,,,\n1,munmap,1,0x1000,4096,,,7\n");
    const bad = wsim(["replay", "badfree.csv", "--machine", "two.json"]);
    expect(bad.status).toBe(3);
    expect(bad.stderr).toMatch(/^badfree\.csv:3: cpu 7 does not exist: the machine has CPUs 0\.\.1/);
  });

  it("a CPU the machine lacks, a CPU of another node than the node column's, a bad value: exit 3 at the line", () => {
    writeFileSync(join(dir, "c2.csv"), "time_ms,op,pid,addr,len,cpu\n0,access,1,0x1000,,2\n");
    let r = replay("c2.csv");
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^c2\.csv:2: cpu 2 does not exist: the machine has CPUs 0\.\.1, numbered node by node \(a node's "cpus" gives its count\) \(machine "two"/);
    // numa2: one CPU per node, CPU 1 on node 1
    writeFileSync(join(dir, "mis.csv"), "time_ms,op,pid,addr,len,node,cpu\n0,access,1,0x1000,,0,1\n");
    r = wsim(["replay", "mis.csv", "--machine", "numa2"]);
    expect(r.status).toBe(3);
    expect(r.stderr).toBe("mis.csv:2: cpu 1 is on node 1, not node 0: give the node's CPU or leave node out\n");
    writeFileSync(join(dir, "x.csv"), "time_ms,op,pid,addr,len,cpu\n0,access,1,0x1000,,x\n");
    r = replay("x.csv");
    expect(r.status).toBe(3);
    expect(r.stderr).toBe('x.csv:2: cpu: expected a CPU number 0..32767, got "x"\n');
  });

  it("convert keeps it in NDJSON, JSON, .wtrace and CSV (each replays as the original)", () => {
    for (const out of ["b.ndjson", "b.json", "b.wtrace"]) expect(wsim(["convert", "both.csv", out]).status).toBe(0);
    expect(readFileSync(join(dir, "b.ndjson"), "utf8")).toBe(
      '{"time_ms":0,"op":"access","pid":1,"addr":"0x1000","rw":"r","cpu":1}\n{"time_ms":1,"op":"access","pid":1,"addr":"0x2000","rw":"r","cpu":0}\n',
    );
    expect(wsim(["convert", "b.wtrace", "w.ndjson"]).status).toBe(0);
    expect(readFileSync(join(dir, "w.ndjson"), "utf8")).toBe(readFileSync(join(dir, "b.ndjson"), "utf8"));
    for (const f of ["b.ndjson", "b.json", "b.wtrace"]) expect(free(replay(f).stdout), f).toBe(16384 - 6);
    // a CSV made of a wsim trace keeps every column (cpu among them): it replays as the original
    const r = wsim(["convert", "both.csv", "c.csv"]);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "c.csv"), "utf8").split("\n")[1]).toBe("0,access,1,0x1000,,r,,,,,,,,,,,,1,,,");
    expect(free(replay("c.csv").stdout)).toBe(16384 - 6);
    // an importer's CSV has none of the extra columns: a lackey log has no cpu, so nothing to refuse there
    expect(existsSync(join(dir, "c.csv"))).toBe(true);
  });
});
