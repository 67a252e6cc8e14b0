/**
 * khugepaged through the command line (issue 15 item 4): its sysfs knobs as --set and `set`
 * events, its sysfs counters as `read` keys and vmstat lines, --interval samples that show
 * its collapse when it happens, the same bytes with --no-idle-jumps, and the errors.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const dir = mkdtempSync(join(tmpdir(), "wsim-khp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const wsim = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8", maxBuffer: 1 << 28 });
const counters = (out: string) => Object.fromEntries(out.trim().split("\n").map((l) => [l.split(" ")[0]!, Number(l.split(" ")[1])]));

// a 4 MiB region (two 2 MiB ranges) written at their first pages: two huge page faults, the
// first registering the mm (khugepaged's scan at t = 0 finds range 0 huge, range 1 empty);
// DONTNEED of each range's last page splits both huge pages (511 small pages each, the first
// young); a read of pages_collapsed at 15000 and 25000
const TRACE = `time_ms,op,pid,addr,len,rw,advice,key,value
0,mmap,1,0x40000000,4194304,,,,
0,access,1,0x40000000,,w,,,
0,access,1,0x40200000,,w,,,
1,madvise,1,0x401ff000,4096,,dontneed,,
1,madvise,1,0x403ff000,4096,,dontneed,,
15000,read,,,,,,transparent_hugepage.khugepaged.pages_collapsed,
25000,read,,,,,,transparent_hugepage.khugepaged.full_scans,
`;

describe("khugepaged through the CLI", () => {
  writeFileSync(join(dir, "k.csv"), TRACE);

  it("collapses both ranges at the first scan after scan_sleep_millisecs (default 10000 ms)", () => {
    const r = wsim(["replay", "k.csv", "--check", "--format", "vmstat"]);
    expect(r.status, r.stderr).toBe(0);
    const c = counters(r.stdout);
    expect(c.thp_fault_alloc).toBe(2);
    expect(c.thp_split_page).toBe(2);
    expect(c.thp_collapse_alloc).toBe(2);
    expect(c.thp_collapse_alloc_failed).toBe(0);
    expect(c.wsim_khugepaged_pages_collapsed).toBe(2);
    // full scans: t = 0; t = 10000 (collapse, collapse, then the region's end); t = 20000
    expect(c.wsim_khugepaged_full_scans).toBe(3);
    expect(c.nr_anon_transparent_hugepages).toBe(2);
  });

  it("takes the knobs from --set: pages_to_scan 513 collapses one range per scan; max_ptes_none 0 none", () => {
    const one = counters(wsim(["replay", "k.csv", "--format", "vmstat", "--until", "15000", "--set", "transparent_hugepage.khugepaged.pages_to_scan=513"]).stdout);
    expect(one.thp_collapse_alloc).toBe(1); // at 10000: 1 + 512 = 513 >= 513
    const none = counters(wsim(["replay", "k.csv", "--format", "vmstat", "--set", "transparent_hugepage.khugepaged.max_ptes_none=0"]).stdout);
    expect(none.thp_collapse_alloc).toBe(0);
    expect(none.thp_scan_exceed_none_pte).toBe(4); // both ranges at 10000 and 20000
    const slow = counters(wsim(["replay", "k.csv", "--format", "vmstat", "--set", "transparent_hugepage.khugepaged.scan_sleep_millisecs=30000"]).stdout);
    expect(slow.thp_collapse_alloc).toBe(0); // the next scan would be at 30000, after the last event
    const off = counters(wsim(["replay", "k.csv", "--format", "vmstat", "--set", "wsim.khugepaged=0"]).stdout);
    expect(off.thp_collapse_alloc).toBe(0);
  });

  it("reads pages_collapsed and full_scans as sysfs files", () => {
    const r = wsim(["replay", "k.csv", "--format", "json"]);
    expect(r.status, r.stderr).toBe(0);
    const reads = JSON.parse(r.stdout).reads as { key: string; value: string }[];
    expect(reads.map((x) => [x.key, x.value])).toEqual([
      ["transparent_hugepage.khugepaged.pages_collapsed", "2"],
      ["transparent_hugepage.khugepaged.full_scans", "3"],
    ]);
  });

  it("--interval samples show the collapse at 10000 ms; --no-idle-jumps prints the same bytes", () => {
    const args = ["replay", "k.csv", "--interval", "5000", "--format", "csv", "--drain", "1000000"];
    const a = wsim(args);
    expect(a.status, a.stderr).toBe(0);
    const lines = a.stdout.trim().split("\n");
    const head = lines[0]!.split(",");
    const col = head.indexOf("thp_collapse_alloc");
    expect(col).toBeGreaterThan(0);
    const at = (t: number) => Number(lines.find((l) => l.split(",")[0] === String(t))!.split(",")[col]);
    expect(at(5000)).toBe(0);
    expect(at(10000)).toBe(2);
    const b = wsim([...args, "--no-idle-jumps"]);
    expect(b.stdout).toBe(a.stdout);
  });

  it("refuses bad values: exit 2 for --set, exit 3 with file:line for a set event", () => {
    const r = wsim(["replay", "k.csv", "--set", "transparent_hugepage.khugepaged.max_ptes_swap=512"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/transparent_hugepage\.khugepaged\.max_ptes_swap: expected an integer 0\.\.511, got "512"/);
    const z = wsim(["replay", "k.csv", "--set", "transparent_hugepage.khugepaged.pages_to_scan=0"]);
    expect(z.status).toBe(2);
    expect(z.stderr).toMatch(/pages_to_scan: expected an integer 1\.\.4294967295/);
    writeFileSync(join(dir, "bad.csv"), "time_ms,op,key,value\n0,set,transparent_hugepage.khugepaged.defrag,2\n");
    const d = wsim(["replay", "bad.csv"]);
    expect(d.status).toBe(3);
    expect(d.stderr.trim()).toBe('bad.csv:2: transparent_hugepage.khugepaged.defrag: expected an integer 0..1, got "2"');
    writeFileSync(join(dir, "ro.csv"), "time_ms,op,key,value\n0,set,transparent_hugepage.khugepaged.full_scans,1\n");
    const ro = wsim(["replay", "ro.csv"]);
    expect(ro.status).toBe(3);
    expect(ro.stderr).toMatch(/^ro\.csv:2: unknown tunable "transparent_hugepage\.khugepaged\.full_scans"/);
  });
});
