/**
 * Issue 16 item 2, the scanners: khugepaged's do_scans and kmmscand's scan rounds spend their
 * work's cost on the virtual clock (BusyWindow), and their closed forms over idle time add the
 * skipped passes' cost. Every busy figure is hand-computed: khugepaged = PTE tables read ×
 * 512 × cost.compact_scan_ns + collapses × 512 × cost.migrate_ns; kmmscand = pages looked at
 * × cost.compact_scan_ns. Jumps are compared with ticking (--no-idle-jumps) byte for byte.
 */
import { describe, expect, it } from "vitest";
import type { Engine, EngineOptions } from "../../../src/engine/engine.js";
import { buildResult } from "../../../src/engine/result.js";
import { V } from "../../../src/stats/counters.js";
import { engineFor, QUIET_TUNABLES, runCsv, smallMachine, tiered } from "../../helpers.js";

const R = 0x40000000; // 2 MiB aligned
const MB2 = 2097152;
const HDR = "time_ms,op,pid,addr,len,rw,advice,key,value";
const hex = (a: number) => `0x${a.toString(16)}`;
const KH = { ...QUIET_TUNABLES, "transparent_hugepage.enabled": "always", "wsim.khugepaged": "1" };

/**
 * pid 1's region of n 2 MiB ranges at R, each faulted huge at t = 0, then at t = 1 the last
 * `drop` pages of each range dropped (MADV_DONTNEED splits the huge page): 512 - drop present.
 */
function splitRanges(n: number, drop: number): string[] {
  return [
    `0,mmap,1,${hex(R)},${n * MB2},,,,`,
    ...Array.from({ length: n }, (_, k) => `0,access,1,${hex(R + k * MB2)},,w,,,`),
    ...Array.from({ length: n }, (_, k) => `1,madvise,1,${hex(R + (k + 1) * MB2 - drop * 4096)},${drop * 4096},,dontneed,,`),
  ];
}

function khEngine(sets: Record<string, string>, opts: EngineOptions = {}, log = true): Engine {
  const e = engineFor(smallMachine("64M"), opts, { ...KH, ...sets });
  e.mem.khugepaged.keepLog = log;
  return e;
}

describe("khugepaged's busy window", () => {
  it("a scan reading 2 PTE tables and collapsing nothing is busy 2 * 512 * compact_scan_ns; the next sleep counts from its end's jiffy", async () => {
    // max_ptes_none 255 < 300 empty PTEs: each range is read and refused (thp_scan_exceed_none_pte)
    const e = khEngine({ "transparent_hugepage.khugepaged.max_ptes_none": "255", "cost.compact_scan_ns": "1000" });
    await runCsv(e, [HDR, ...splitRanges(2, 300)].join("\n"));
    // the scan at 0 meets huge PMDs (or none): no PTE table read, no time
    expect(e.mem.khugepaged.scans).toEqual([0]);
    expect(e.mem.khugepaged.busy.ns).toBe(0);
    e.advanceTo(30_002);
    // at 10,000: 2 * 512 * 1000 = 1,024,000 ns = 1.024 ms, until 10,001.024: the 10,000 ms sleep
    // from jiffy 10,001 ends at 20,001; busy until 20,002.024: the next at 30,002
    expect(e.mem.khugepaged.scans).toEqual([0, 10_000, 20_001, 30_002]);
    expect(e.mem.ev[V.thp_scan_exceed_none_pte]).toBe(3 * 2);
    expect(e.mem.khugepaged.busy.ns).toBe(3 * 1_024_000);
    expect(e.mem.vmstat()[V.wsim_khugepaged_busy_ms]).toBe(3); // 3.072 ms, rounded down
  });

  it("a collapse costs 512 * migrate_ns on top of its range's scan", async () => {
    const e = khEngine({ "cost.migrate_ns": "3000" });
    await runCsv(e, [HDR, ...splitRanges(1, 1)].join("\n"));
    e.advanceTo(30_001);
    // at 10,000: 1 table (511 present, 1 none <= 511) + 1 collapse: 512 * 40 + 512 * 3000 =
    // 20,480 + 1,536,000 = 1,556,480 ns, until 10,001.55648: next scan at 20,001, which meets
    // the new huge PMD (no cost): the next at 30,001
    expect(e.mem.ev[V.thp_collapse_alloc]).toBe(1);
    expect(e.mem.khugepaged.scans).toEqual([0, 10_000, 20_001, 30_001]);
    expect(e.mem.khugepaged.busy.ns).toBe(1_556_480);
    expect(e.mem.vmstat()[V.wsim_khugepaged_busy_ms]).toBe(1);
  });

  it("a scan_sleep_millisecs write during a scan is lost as a wake-up; the sleep after the scan reads the new value", async () => {
    // each scan: 2 * 512 * 100,000 = 102,400,000 ns = 102.4 ms. Scan at 10,000, busy until
    // 10,102.4; the write at 10,050 (2000 ms): khugepaged_wait_work sets sleep_expire anew at the
    // scan's end, so the next scan is at 10,102 + 2000 = 12,102 (not 10,050, not 20,102), busy
    // until 12,204.4: the next at 14,204
    const e = khEngine({ "transparent_hugepage.khugepaged.max_ptes_none": "255", "cost.compact_scan_ns": "100000" });
    const set = "10050,set,,,,,,transparent_hugepage.khugepaged.scan_sleep_millisecs,2000";
    await runCsv(e, [HDR, ...splitRanges(2, 300), set].join("\n"));
    expect(e.mem.khugepaged.scans).toEqual([0, 10_000]);
    e.advanceTo(14_204);
    expect(e.mem.khugepaged.scans).toEqual([0, 10_000, 12_102, 14_204]);
    expect(e.mem.khugepaged.busy.ns).toBe(3 * 102_400_000);
  });

  async function result(rows: string[], sets: Record<string, string>, idleJumps: boolean) {
    const e = khEngine(sets, { idleJumps }, false);
    await runCsv(e, [HDR, ...rows].join("\n"));
    const json = JSON.stringify(buildResult(e, { path: "t.csv", format: "csv", events: rows.length, firstMs: 0, lastMs: e.lastEventTime }));
    return { e, json };
  }

  it.each([
    // 2 * 512 * 300 = 307,200 ns = 0.3072 ms a scan (<= JIFFY_SAFE_NS): fast-forwarded with its cost
    ["300", true],
    // 2 * 512 * 975 = 998,400 ns (<= JIFFY_SAFE_NS 999,000): still in its start's jiffy, jumped
    ["975", true],
    // 2 * 512 * 1000 = 1.024 ms a scan: the ticks move by a jiffy each time, the jump is refused (ticked)
    ["1000", false],
  ])("scans of compact_scan_ns %s over a 10^7 ms gap: jumping gives ticking's bytes and busy counter", async (scanNs, steady) => {
    const rows = [...splitRanges(2, 300), `10000000,access,1,${hex(R)},,w,,,`];
    const sets = { "transparent_hugepage.khugepaged.max_ptes_none": "255", "cost.compact_scan_ns": scanNs };
    const jump = await result(rows, sets, true);
    const tick = await result(rows, sets, false);
    expect(jump.json).toBe(tick.json);
    const busy = tick.e.mem.vmstat()[V.wsim_khugepaged_busy_ms]!;
    // ~10^7 / 10,000 = 1000 scans (999 or so: the 1.024 ms scans push each by a jiffy)
    if (steady) {
      // scans at 10,000 k, k = 1..1000 (the timer due at the event's 10^7 fires before it):
      // 1000 * 0.3072 = 307.2 ms, or 1000 * 0.9984 = 998.4 ms
      expect(busy).toBe(scanNs === "300" ? 307 : 998);
      expect(jump.e.steadyTicksSkipped).toBeGreaterThan(900);
    } else {
      // scan k at 10,001 k - 1 (k = 1..), k <= 999 before 10^7 (10,001 * 999 - 1 = 9,990,998):
      // 999 * 1.024 = 1022.976 ms
      expect(busy).toBe(1022);
      expect(jump.e.steadyTicksSkipped).toBe(0);
    }
  });
});

describe("kmmscand's busy window", () => {
  const quiet = { "transparent_hugepage.enabled": "never", "vm.compaction_proactiveness": "0" };

  it("a round visiting 2 mms of 8 present pages each is busy 16 * compact_scan_ns; the next round counts from its end's jiffy", async () => {
    const e = engineFor(tiered(), {}, { ...quiet, "kmmscand.enabled": "1", "cost.compact_scan_ns": "500000" });
    const k = e.mem.kmmscand;
    k.keepLog = true;
    const lines = ["time_ms,op,pid,addr,len,node"];
    for (const pid of [1, 2]) {
      lines.push(`0,mmap,${pid},0x200000,32768,1`);
      for (let i = 0; i < 8; i++) lines.push(`0,access,${pid},${0x200000 + i * 4096},,`);
    }
    await runCsv(e, lines.join("\n"));
    e.advanceTo(4000);
    // the round at 1008 (the first of 16 ms rounds at or after 1000): 16 pages * 500,000 ns =
    // 8 ms, until 1016: rounds then at 1016 + 16 = 1032, 1048, ... (without the cost: 1024, ...).
    // Both mms are next due at 1008 + 2300 (period + 15%: nothing slow-tier useful >= 256) =
    // 3308: the round at 1032 + 16 * 143 = 3320 (ticking without cost would give 3312), again
    // 16 pages (on node 0 now, still present): 8 ms more
    expect(k.visits).toEqual([[1008, 1], [1008, 2], [3320, 1], [3320, 2]]);
    expect(e.mem.kmmscandDaemon.busy.ns).toBe(2 * 16 * 500_000);
    expect(e.mem.vmstat()[V.wsim_kmmscand_busy_ms]).toBe(16);
  });

  /** pid 1's 1 MiB on node 1, its 64 pages touched at t = 0..63, then a gap to 3,000,017 */
  const rows = [
    "0,mmap,1,0x40000000,1048576,1",
    ...Array.from({ length: 64 }, (_, k) => `${k},access,1,0x${(0x40000000 + k * 4096).toString(16)},,`),
    "3000017,access,1,0x40000000,,",
  ];
  async function run(scanNs: string, idleJumps: boolean) {
    const e = engineFor(smallMachine("16M", 2, (i) => i), { idleJumps, drain: 100_003 }, { ...quiet, "kmmscand.enabled": "1", "cost.compact_scan_ns": scanNs });
    await runCsv(e, ["time_ms,op,pid,addr,len,node", ...rows].join("\n"));
    const json = JSON.stringify(buildResult(e, { path: "t.csv", format: "csv", events: rows.length, firstMs: 0, lastMs: e.lastEventTime }));
    return { e, json };
  }

  it.each([
    // 64 pages * 5000 ns = 0.32 ms a visit: the steady rounds are fast-forwarded with their cost
    ["5000", true],
    // 64 * 15,000 = 0.96 ms a visit (<= JIFFY_SAFE_NS 999,000): still in its start's jiffy, fast-forwarded
    ["15000", true],
    // 64 * 20,000 = 1.28 ms a visit: each visit pushes the rounds after it by a jiffy (uneven:
    // Kmmscand.steadyUneven simulates them visit round by visit round)
    ["20000", true],
    // 64 * 200,000 = 12.8 ms a visit: 12 jiffies each
    ["200000", true],
  ])("visits of compact_scan_ns %s over a 3,000,000 ms gap: jumping gives ticking's bytes and busy counter", async (scanNs, steady) => {
    const jump = await run(scanNs, true);
    const tick = await run(scanNs, false);
    expect(jump.json).toBe(tick.json);
    const visits = tick.e.mem.vmstat()[V.nr_kmmscand_mm_scans]!;
    // every visit looks at the 64 present pages (the region is 256 pages, scan_size >= 256 MiB)
    expect(tick.e.mem.kmmscandDaemon.busy.ns).toBe(visits * 64 * Number(scanNs));
    expect(visits).toBeGreaterThan(500); // ~3.1e6 ms / 5000 ms at the slowest period
    expect(jump.e.mem.vmstat()[V.wsim_kmmscand_busy_ms]).toBe(Math.floor((visits * 64 * Number(scanNs)) / 1e6));
    if (steady) {
      expect(jump.e.steadyTicksSkipped).toBeGreaterThan(0);
      expect(jump.e.timerFirings).toBeLessThan(tick.e.timerFirings / 20);
    } else expect(jump.e.steadyTicksSkipped).toBe(0);
  });
});

describe("kmmscand's uneven rounds, two mms", () => {
  it("visits of 1.28 ms and 0.96 ms at different phases: jumping gives ticking's bytes", async () => {
    // pid 1: 64 pages from t = 0 (first scan at 1000 + a round); pid 2: 48 pages from t = 700
    // (first scan 1700 +): at 20,000 ns a page 1.28 ms and 0.96 ms a visit, in rounds of their own
    // or together (2.24 ms): every round after a visit is pushed by 0, 1 or 2 jiffies
    const rows = [
      "0,mmap,1,0x40000000,1048576,1",
      ...Array.from({ length: 64 }, (_, k) => `${k},access,1,0x${(0x40000000 + k * 4096).toString(16)},,`),
      "700,mmap,2,0x40000000,1048576,1",
      ...Array.from({ length: 48 }, (_, k) => `${700 + k},access,2,0x${(0x40000000 + k * 4096).toString(16)},,`),
      "3000017,access,1,0x40000000,,",
    ];
    const run = async (idleJumps: boolean) => {
      const e = engineFor(smallMachine("16M", 2, (i) => i), { idleJumps, drain: 100_003 }, {
        "transparent_hugepage.enabled": "never", "vm.compaction_proactiveness": "0", "kmmscand.enabled": "1", "cost.compact_scan_ns": "20000",
      });
      await runCsv(e, ["time_ms,op,pid,addr,len,node", ...rows].join("\n"));
      return { e, json: JSON.stringify(buildResult(e, { path: "t.csv", format: "csv", events: rows.length, firstMs: 0, lastMs: e.lastEventTime })) };
    };
    const jump = await run(true);
    const tick = await run(false);
    expect(jump.json).toBe(tick.json);
    expect(jump.e.steadyTicksSkipped).toBeGreaterThan(0);
    expect(jump.e.timerFirings).toBeLessThan(tick.e.timerFirings / 20);
    // the busy total: the pages both mms' visits looked at (their per-node scanned counts) at 20,000 ns
    const k = tick.e.mem.kmmscand;
    let pages = 0;
    for (const pid of [1, 2]) for (const c of k.stateOf(tick.e.mem.procs.get(pid)!.slot)!.scanned.values()) pages += c;
    expect(pages).toBeGreaterThan(1000 * 48); // over 1000 visits (~600 each at 5000 ms)
    expect(tick.e.mem.kmmscandDaemon.busy.ns).toBe(pages * 20_000);
    expect(jump.e.mem.kmmscandDaemon.busy.ns).toBe(pages * 20_000);
  });
});
