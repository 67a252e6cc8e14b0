/**
 * Issue 18 item 3: `wsim diff --delta BEFORE AFTER [REPLAY]`: two /proc/vmstat snapshots of
 * one kernel as AFTER − BEFORE (gauges marked), detected when both are raw /proc/vmstat, and
 * compared with a replay's counters. The snapshots (test/fixtures/ktrace/vmstat-*.txt) are
 * hand-written; every delta below was computed by hand from them.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isGauge, vmstatDelta, type Snapshot } from "../../../src/report/vmstat-delta.js";

const ROOT = new URL("../../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/wsim");
const FX = (f: string) => join(ROOT, "test/fixtures/ktrace", f);
const dir = mkdtempSync(join(tmpdir(), "wsim-i18-delta-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const wsim = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8" });
const BEFORE = FX("vmstat-before.txt");
const AFTER = FX("vmstat-after.txt");
const snap = (file: string, text: string): Snapshot => {
  const lines = text.trim().split("\n").map((l) => l.split(" "));
  return { file, counters: Object.fromEntries(lines.map(([k, v]) => [k, Number(v)])), lineOf: (k) => lines.findIndex(([n]) => n === k) + 1 };
};

/** AFTER − BEFORE of the fixtures, by hand */
const EXPECTED = [
  ["nr_free_pages", 112696, 110648, -2048, true],
  ["nr_zone_inactive_anon", 1000, 1512, 512, true],
  ["nr_dirtied", 500, 520, 20, false], // counts from boot: not a gauge
  ["nr_written", 400, 400, 0, false],
  ["nr_dirty_threshold", 22238, 22000, -238, true],
  ["numa_hit", 5000, 5530, 530, false],
  ["pgalloc_normal", 8000, 8530, 530, false],
  ["pgfree", 9000, 9018, 18, false],
  ["pgfault", 20000, 20512, 512, false],
  ["pgmajfault", 100, 100, 0, false],
  ["compact_stall", 3, 3, 0, false],
  ["thp_fault_alloc", 7, 8, 1, false],
] as const;

describe("issue 18 item 3: vmstat deltas", () => {
  it("vmstatDelta: AFTER − BEFORE per counter in AFTER's order, gauges marked", () => {
    const rows = vmstatDelta(snap("b", readFileSync(BEFORE, "utf8")), snap("a", readFileSync(AFTER, "utf8")));
    expect(rows.map((r) => [r.counter, r.before, r.after, r.delta, r.gauge])).toEqual(EXPECTED.map((e) => [...e]));
  });
  it("isGauge: nr_* but the four that count from boot; events and NUMA counters are not", () => {
    expect(["nr_free_pages", "nr_dirty_threshold", "nr_mlock", "wsim_kernel_pages"].map(isGauge)).toEqual([true, true, true, true]);
    expect(["nr_dirtied", "nr_written", "nr_foll_pin_acquired", "nr_foll_pin_released", "pgfault", "numa_hit", "workingset_refault_anon"].map(isGauge)).toEqual(Array(7).fill(false));
  });
  it("a counter that only grows going down, or in one snapshot only, is a data error at its file:line", () => {
    const b = snap("b.txt", "pgfault 10\nnr_free_pages 5\ncompact_stall 2\n");
    expect(() => vmstatDelta(b, snap("a.txt", "pgfault 9\nnr_free_pages 5\ncompact_stall 2\n"))).toThrow(/^a\.txt:1: counter "pgfault" went down from 10 \(b\.txt\) to 9: it only grows/);
    expect(vmstatDelta(b, snap("a.txt", "pgfault 10\nnr_free_pages 1\ncompact_stall 2\n"))[1]!.delta).toBe(-4); // a gauge may go down
    expect(() => vmstatDelta(b, snap("a.txt", "pgfault 10\nnr_free_pages 5\n"))).toThrow(/^b\.txt:3: counter "compact_stall" is not in a\.txt/);
    expect(() => vmstatDelta(b, snap("a.txt", "pgfault 10\nnr_free_pages 5\ncompact_stall 2\npgsteal 1\n"))).toThrow(/^a\.txt:4: counter "pgsteal" is not in b\.txt/);
  });
});

describe("issue 18 item 3: wsim diff --delta", () => {
  it("two raw /proc/vmstat snapshots: detected without --delta; the table has the moved counters and marks gauges; JSON has every counter", () => {
    for (const args of [[BEFORE, AFTER], ["--delta", BEFORE, AFTER]]) {
      const r = wsim(["diff", ...args]);
      expect(r.status, r.stderr).toBe(0);
      const rows = r.stdout.split("\n").filter((l) => l.startsWith("│") && !l.includes("counter")).map((l) => l.split("│").slice(1, -1).map((c) => c.trim()));
      expect(rows).toEqual(EXPECTED.filter((e) => e[3] !== 0).map(([k, b, a, d, g]) => [k, String(b), String(a), (d > 0 ? "+" : "") + d, g ? "gauge" : ""]));
      expect(r.stdout).toMatch(/\n12 counters, 9 moved; a gauge's delta is the change of a current value, not a count\n$/);
    }
    const j = JSON.parse(wsim(["diff", BEFORE, AFTER, "-f", "json"]).stdout) as { rows: { counter: string; delta: number; gauge: boolean }[] };
    expect(j.rows.map((r) => [r.counter, r.delta, r.gauge])).toEqual(EXPECTED.map((e) => [e[0], e[3], e[4]]));
  });
  it("--no-delta compares them as two runs, as diff did before", () => {
    const r = wsim(["diff", "--no-delta", BEFORE, AFTER, "--only", "pgfault"]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/pgfault +│ +20000 │ +20512 │ +\+512 │/);
  });
  it("wsim's own vmstat output is not a raw snapshot: two of them are compared as runs", () => {
    writeFileSync(join(dir, "w1.vmstat"), "pgfault 1\nwsim_events 1\n");
    writeFileSync(join(dir, "w2.vmstat"), "pgfault 1\nwsim_events 1\n");
    expect(wsim(["diff", "w1.vmstat", "w2.vmstat"]).stdout).toBe("2 counters compared: no differences\n");
  });

  // the replay: touch512.csv faults 512 pages (one 2 MiB-aligned range) in one process that never
  // exits, so by hand its changes are pgfault 512; pgalloc_normal 517 and nr_free_pages -517 (the
  // 512 pages, a PTE, a PMD and a PUD table and the order-1 PGD); numa_hit 516 (allocations, the
  // PGD one); pgfree 0, pgmajfault 0
  const ONLY = ["--only", "nr_free_pages", "--only", "numa_hit", "--only", "pgalloc_normal", "--only", "pgfree", "--only", "pgfault", "--only", "pgmajfault"];
  const cells = (out: string) => out.split("\n").filter((l) => l.startsWith("│") && !l.includes("counter")).map((l) => l.split("│").slice(1, 4).map((c) => c.trim()));
  // the replay's nr_free_pages: the pages that left the buddy, pcp refills included (batch 63 on
  // the 4 GiB zone): 512 movable faults take 9 refills of 63 = 567, the 3 order-0 tables one of
  // 63, the order-1 PGD max(63 >> 1, 2) = 31 blocks = 62: 692, of which 517 are allocated
  const WANT = [["nr_free_pages", "-2048", "-692"], ["numa_hit", "530", "516"], ["pgalloc_normal", "530", "517"], ["pgfree", "18", "0"]]; // pgfault and pgmajfault agree

  it("with REPLAY as a trace or its JSON output: the deltas beside the replay's changes in diff's table; exit 1 outside tolerance", () => {
    const json = join(dir, "t512.json");
    expect(wsim(["replay", FX("touch512.csv"), "-f", "json", "-o", json]).status).toBe(0);
    for (const replay of [FX("touch512.csv"), json]) {
      const r = wsim(["diff", "--delta", BEFORE, AFTER, replay, ...ONLY]);
      expect(r.status, r.stderr).toBe(1);
      expect(cells(r.stdout)).toEqual(WANT);
      expect(r.stdout).toMatch(/│ counter +│ kernel delta │ replay │/);
      expect(r.stdout).toMatch(/\n6 counters compared, 4 differ, 4 outside tolerance\ngauges \(a change of a current value, not a count\): nr_free_pages\n$/);
    }
    // within tolerance: exit 0
    const ok = wsim(["diff", BEFORE, AFTER, json, "--only", "pgfault", "--only", "numa_hit", "--tolerance", "numa_hit=18"]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/2 counters compared, 1 differs, 0 outside tolerance/);
  });
  it("REPLAY as vmstat text: nr_free_pages is left out (its start is unknown), said on stderr", () => {
    const vm = join(dir, "t512.vmstat");
    writeFileSync(vm, wsim(["replay", FX("touch512.csv"), "-f", "vmstat"]).stdout);
    const r = wsim(["diff", "--delta", BEFORE, AFTER, vm, ...ONLY]);
    expect(r.status).toBe(1);
    expect(cells(r.stdout)).toEqual(WANT.slice(1));
    expect(r.stderr).toMatch(/t512\.vmstat does not say how many pages its machine had, so its nr_free_pages is not a change: left out/);
  });
  it("errors: exit 3 with file:line, exit 2 for usage", () => {
    let r = wsim(["diff", "--delta", AFTER, BEFORE]); // swapped: nr_dirtied (line 3) went down
    expect([r.status, r.stderr]).toEqual([3, `${BEFORE}:3: counter "nr_dirtied" went down from 520 (${AFTER}) to 500: it only grows, so these are not BEFORE and AFTER of one boot\n`]);
    writeFileSync(join(dir, "short.txt"), readFileSync(AFTER, "utf8").replace("pgmajfault 100\n", ""));
    r = wsim(["diff", BEFORE, "short.txt"]);
    expect([r.status, r.stderr]).toEqual([3, `${BEFORE}:10: counter "pgmajfault" is not in short.txt: two snapshots of one kernel name the same counters\n`]);
    r = wsim(["diff", "--delta", FX("touch512.csv"), AFTER]);
    expect([r.status, r.stderr]).toEqual([3, `${FX("touch512.csv")}: --delta: BEFORE is not a /proc/vmstat snapshot (\`name value\` lines) or a JSON output with "vmstat"\n`]);
    r = wsim(["diff", "--no-delta", BEFORE, AFTER, FX("touch512.csv")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/REPLAY\) is compared with the deltas of BEFORE and AFTER: drop --no-delta/);
    writeFileSync(join(dir, "w.vmstat"), "pgfault 1\nwsim_events 1\n");
    r = wsim(["diff", "w.vmstat", "w.vmstat", "w.vmstat"]);
    expect([r.status, r.stderr]).toEqual([2, "wsim: a third argument (REPLAY) is only taken with --delta (BEFORE AFTER REPLAY)\n"]);
    r = wsim(["diff", "--delta", BEFORE, AFTER, "--machine", "vm"]);
    expect(r.status).toBe(2);
  });
});
