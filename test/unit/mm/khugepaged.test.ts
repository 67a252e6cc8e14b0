// khugepaged (issue 15 item 4): every expectation below is counted by hand from the trace it
// runs, with the scan rules of mm/khugepaged.c (6.1) written out next to it. Machines have no
// watermarks (QUIET_TUNABLES), no page-table pages and no pcp lists unless said; khugepaged on
// (engineFor turns it off for the other subsystem tests).
import { describe, expect, it } from "vitest";
import type { Engine, EngineOptions } from "../../../src/engine/engine.js";
import { buildResult } from "../../../src/engine/result.js";
import { checkMemory } from "../../../src/mm/check.js";
import { PG_ACCESSED } from "../../../src/mm/pages.js";
import { V } from "../../../src/stats/counters.js";
import { engineFor, QUIET_TUNABLES, runCsv, smallMachine } from "../../helpers.js";

const R = 0x40000000; // 2 MiB aligned
const MB2 = 2097152;
const HDR = "time_ms,op,pid,addr,len,rw,advice";
const hex = (a: number) => `0x${a.toString(16)}`;

/** a quiet engine with THP always (the range faults are huge) and `sets` on top */
function engine(mem = "64M", sets: Record<string, string> = {}, opts: EngineOptions = {}): Engine {
  const e = engineFor(smallMachine(mem), { check: true, ...opts }, { ...QUIET_TUNABLES, "transparent_hugepage.enabled": "always", "wsim.khugepaged": "1", ...sets });
  e.mem.khugepaged.keepLog = true;
  return e;
}
const run = (e: Engine, rows: string[]) => runCsv(e, [HDR, ...rows].join("\n"));

/**
 * pid 1's region of n 2 MiB ranges at R: each range's first page written at t = 0 (a huge page
 * fault: the first registers the mm and wakes khugepaged, whose scan at t = 0 runs before the
 * next event), then at t = 1 MADV_DONTNEED of `drop` pages at the end of each range, which
 * splits its huge page: 512 - drop small pages, the first young (the one written), the rest not.
 */
function splitRanges(n: number, drop = 1): string[] {
  return [
    `0,mmap,1,${hex(R)},${n * MB2},,`,
    ...Array.from({ length: n }, (_, k) => `0,access,1,${hex(R + k * MB2)},,w,`),
    ...Array.from({ length: n }, (_, k) => `1,madvise,1,${hex(R + (k + 1) * MB2 - drop * 4096)},${drop * 4096},,dontneed`),
  ];
}

describe("khugepaged", () => {
  it("collapses an eligible range after exactly one scan period and counts thp_collapse_alloc", async () => {
    const e = engine();
    await run(e, splitRanges(1));
    const ev = e.mem.ev;
    expect(ev[V.thp_fault_alloc]).toBe(1);
    expect(ev[V.thp_split_page]).toBe(1);
    expect(e.mem.procs.nrThp).toBe(0);
    // the wake-up's scan at t = 0: mm visited (1) + the range, mapped huge (512): the region
    // done, the cursor back to the list head: full_scans 1; the second pass through the head ends do_scan
    expect(e.mem.khugepaged.scans).toEqual([0]);
    expect(ev[V.wsim_khugepaged_full_scans]).toBe(1);
    e.advanceTo(9999);
    expect(ev[V.thp_collapse_alloc]).toBe(0);
    e.advanceTo(10000); // scan_sleep_millisecs: 511 present (1 young), 1 none <= max_ptes_none 511
    expect(e.mem.khugepaged.scans).toEqual([0, 10000]);
    expect(ev[V.thp_collapse_alloc]).toBe(1);
    expect(ev[V.thp_collapse_alloc_failed]).toBe(0);
    expect(ev[V.wsim_khugepaged_pages_collapsed]).toBe(1);
    expect(e.mem.procs.nrThp).toBe(1);
    expect(e.mem.procs.nrAnon).toBe(512); // 511 copied + the empty PTE filled
    // the collapse drops the mmap_lock and returns (progress 1 + 512); the next call finds the
    // region done: cursor to the head, full_scans 2
    expect(ev[V.wsim_khugepaged_full_scans]).toBe(2);
    expect(checkMemory(e.mem.mappingView())).toBeNull();
    const leaf = e.mem.procs.get(1)!.leaf(R / 4096 / 512)!;
    expect(e.mem.pages.flags[leaf[0]! - 1]! & PG_ACCESSED).toBe(PG_ACCESSED); // the young bit copied
  });

  it("pages_to_scan limits the progress of each wake-up", async () => {
    // 4 split ranges; pages_to_scan 1024. Each collapse returns from khugepaged_scan_mm_slot
    // with progress 1 (the mm) + 512 (the range) = 513: the first call 513 < 1024 goes on,
    // the second makes 1026 >= 1024 and ends do_scan. So 2 collapses per wake-up.
    const e = engine("64M", { "transparent_hugepage.khugepaged.pages_to_scan": "1024" });
    await run(e, splitRanges(4));
    const ev = e.mem.ev;
    e.advanceTo(10000);
    expect(ev[V.thp_collapse_alloc]).toBe(2);
    // that do_scan read 2 PTE tables and collapsed 2 ranges (issue 16 item 2): busy
    // 2 * 512 * 40 + 2 * 512 * 2000 = 40,960 + 2,048,000 ns = 2.08896 ms, until 10,002.08896;
    // the 10,000 ms sleep counts from that jiffy: the next scan at 20,002
    expect(e.mem.khugepaged.busy.ns).toBe(2_088_960);
    e.advanceTo(20001);
    expect(ev[V.thp_collapse_alloc]).toBe(2);
    e.advanceTo(20002);
    expect(ev[V.thp_collapse_alloc]).toBe(4);
    expect(e.mem.khugepaged.scans).toEqual([0, 10000, 20002]);
    expect(e.mem.procs.nrThp).toBe(4);
    // with the default 4096 (4 * 513 = 2052, then the region ends) all four at the first wake-up
    const d = engine();
    await run(d, splitRanges(4));
    d.advanceTo(10000);
    expect(d.mem.ev[V.thp_collapse_alloc]).toBe(4);
    expect(checkMemory(d.mem.mappingView())).toBeNull();
  });

  it("max_ptes_none refuses a sparse range (thp_scan_exceed_none_pte)", async () => {
    // 300 pages dropped: 212 present, 300 none > max_ptes_none 255; the scan stops at the
    // 256th empty PTE and counts the event once per scan
    const e = engine("64M", { "transparent_hugepage.khugepaged.max_ptes_none": "255" });
    await run(e, splitRanges(1, 300));
    e.advanceTo(20000);
    expect(e.mem.ev[V.thp_collapse_alloc]).toBe(0);
    expect(e.mem.ev[V.thp_scan_exceed_none_pte]).toBe(2); // at 10000 and 20000
    expect(e.mem.procs.nrThp).toBe(0);
    // 6.1's default 511: the same range collapses
    const d = engine();
    await run(d, splitRanges(1, 300));
    d.advanceTo(10000);
    expect(d.mem.ev[V.thp_collapse_alloc]).toBe(1);
    expect(d.mem.ev[V.thp_scan_exceed_none_pte]).toBe(0);
  });

  it("no young page: SCAN_LACK_REFERENCED_PAGE, no collapse", async () => {
    // dropping the range's first page (the one written, the only young one) leaves 511 old pages
    const e = engine();
    await run(e, [`0,mmap,1,${hex(R)},${MB2},,`, `0,access,1,${hex(R)},,w,`, `1,madvise,1,${hex(R)},4096,,dontneed`]);
    e.advanceTo(10000);
    expect(e.mem.ev[V.thp_collapse_alloc]).toBe(0);
    expect(e.mem.procs.nrAnon).toBe(511);
  });

  it("a failed allocation counts thp_collapse_alloc_failed and sleeps alloc_sleep_millisecs; a second failure ends the scan", async () => {
    // 8 MiB = 2048 pages; two split ranges (1022 pages) and pid 2's 1000 pages leave fewer than
    // 512 free pages: no order-9 block; defrag 0 (GFP_TRANSHUGE_LIGHT) neither reclaims nor compacts
    const e = engine("8M", { "transparent_hugepage.khugepaged.defrag": "0" });
    const fill = Array.from({ length: 1000 }, (_, i) => `2,access,2,${hex(0x80000000 + i * 4096)},,w,`);
    await run(e, [...splitRanges(2), ...fill]);
    const ev = e.mem.ev;
    const k = e.mem.khugepaged;
    e.advanceTo(10000); // range 0: the allocation fails; progress 513 < 4096: alloc sleep
    expect(ev[V.thp_collapse_alloc_failed]).toBe(1);
    e.advanceTo(69999);
    expect(ev[V.thp_collapse_alloc_failed]).toBe(1);
    e.advanceTo(70000); // 10000 + 60000: do_scan goes on at range 1, fails again: the scan ends
    expect(ev[V.thp_collapse_alloc_failed]).toBe(2);
    expect(ev[V.thp_collapse_alloc]).toBe(0);
    // pid 2 exits at 75000; the next scan, 70000 + scan_sleep_millisecs, collapses both ranges
    await run(e, [`75000,exit,2,,,,`]);
    e.advanceTo(80000);
    expect(k.scans).toEqual([0, 10000, 80000]);
    expect(ev[V.thp_collapse_alloc]).toBe(2);
    expect(ev[V.thp_collapse_alloc_failed]).toBe(2);
    expect(e.mem.procs.nrThp).toBe(2);
    expect(checkMemory(e.mem.mappingView())).toBeNull();
  });

  it("defrag 1: the failing allocation reclaims directly, a stall of khugepaged's own task (PSI), in no memcg's histograms", async () => {
    const e = engine("8M");
    const fill = Array.from({ length: 1000 }, (_, i) => `2,access,2,${hex(0x80000000 + i * 4096)},,w,`);
    await run(e, [...splitRanges(2), ...fill]);
    const before = e.latencyByMemcg()["/"]!;
    const direct0 = e.mem.ev[V.pgscan_direct]!;
    e.advanceTo(10000); // GFP_TRANSHUGE: direct reclaim, as any costly allocation's slow path
    expect(e.mem.ev[V.pgscan_direct]!).toBeGreaterThan(direct0);
    expect(e.latencyByMemcg()["/"]).toEqual(before);
    // /proc/pressure/memory read during the stall, then after it (57 pages scanned: microseconds)
    expect(e.pressureResult()["/"]!.some.total).toBe(0);
    e.advanceTo(10001);
    expect(e.pressureResult()["/"]!.some.total).toBeGreaterThan(0);
  });

  it("skips a range advised MADV_NOHUGEPAGE (hugepage_vma_check) and scans on", async () => {
    // range 1 of 3 advised nohugepage at t = 2: the region splits in three; the middle one is
    // skipped (progress 1), ranges 0 and 2 collapse
    const e = engine();
    await run(e, [...splitRanges(3), `2,madvise,1,${hex(R + MB2)},${MB2},,nohugepage`]);
    e.advanceTo(10000);
    expect(e.mem.ev[V.thp_collapse_alloc]).toBe(2);
    expect(e.mem.procs.nrThp).toBe(2);
    const mm = e.mem.procs.get(1)!;
    expect(e.mem.procs.hugeHead(mm.leaf(R / 4096 / 512 + 1)![0]! - 1)).toBe(-1); // range 1 still small pages
  });

  it("MADV_HUGEPAGE registers a faulted region under enabled=madvise and wakes khugepaged at once", async () => {
    const e = engine("64M", { "transparent_hugepage.enabled": "madvise" });
    const ten = Array.from({ length: 10 }, (_, i) => `0,access,1,${hex(R + i * 4096)},,w,`);
    await run(e, [`0,mmap,1,${hex(R)},${MB2},,`, ...ten, `5,madvise,1,${hex(R)},${MB2},,hugepage`]);
    // no huge fault (madvise mode, no VM_HUGEPAGE then): nothing registered until t = 5
    expect(e.mem.khugepaged.scans).toEqual([5]);
    expect(e.mem.ev[V.thp_collapse_alloc]).toBe(1); // 10 young pages, 502 none
    expect(e.mem.procs.nrAnon).toBe(512);
  });

  it("enabled=never stops the thread; always starts it again with a scan at once", async () => {
    const e = engine();
    const set = (t: number, v: string) => `${t},set,,,,,,transparent_hugepage.enabled,${v}`;
    await runCsv(e, ["time_ms,op,pid,addr,len,rw,advice,key,value", ...splitRanges(1).map((r) => r + ",,"), set(5000, "never")].join("\n"));
    e.advanceTo(30000);
    expect(e.mem.khugepaged.scans).toEqual([0]); // stopped before its 10000 ms scan
    expect(e.mem.ev[V.thp_collapse_alloc]).toBe(0);
    // the mm stays on the list; kthread_run's first do_scan at the write collapses the range
    await runCsv(e, ["time_ms,op,pid,addr,len,rw,advice,key,value", set(40000, "always")].join("\n"));
    expect(e.mem.khugepaged.scans).toEqual([0, 40000]);
    expect(e.mem.ev[V.thp_collapse_alloc]).toBe(1);
  });

  it("a tunable write of scan_sleep_millisecs ends the current sleep", async () => {
    const e = engine();
    await runCsv(e, ["time_ms,op,pid,addr,len,rw,advice,key,value", ...splitRanges(1).map((r) => r + ",,"), "3000,set,,,,,,transparent_hugepage.khugepaged.scan_sleep_millisecs,2000"].join("\n"));
    // the write at 3000 wakes it: a scan at 3000 (collapse), then every 2000 ms after its busy
    // time: 1 PTE table read + 1 collapse = 512 * 40 + 512 * 2000 = 1,044,480 ns, until
    // 3001.04448: the next scan at 3001 + 2000 = 5001 (the scan at 0 met the huge PMD: no cost)
    expect(e.mem.khugepaged.scans).toEqual([0, 3000]);
    expect(e.mem.ev[V.thp_collapse_alloc]).toBe(1);
    expect(e.mem.khugepaged.busy.ns).toBe(1_044_480);
    e.advanceTo(5000);
    expect(e.mem.khugepaged.scans).toEqual([0, 3000]);
    e.advanceTo(5001);
    expect(e.mem.khugepaged.scans).toEqual([0, 3000, 5001]);
  });

  it("registration: a child of a listed mm at fork, in order; an exit takes an mm off the list", async () => {
    const e = engine();
    const k = e.mem.khugepaged;
    await runCsv(e, ["time_ms,op,pid,addr,len,rw,child", `0,mmap,1,${hex(R)},${MB2},,`, `0,access,1,${hex(R)},,w,`, `1,fork,1,,,,2`, `2,mmap,3,${hex(R)},65536,,`, `2,access,3,${hex(R)},,w,`].join("\n"));
    const pid = (n: number) => e.mem.procs.get(n)!;
    expect(k.list.map((m) => m.pid)).toEqual([1, 2]); // pid 3's 64 KiB region takes no huge fault
    expect(k.isRegistered(pid(3))).toBe(false);
    await runCsv(e, ["time_ms,op,pid", "3,exit,2"].join("\n"));
    expect(k.list.map((m) => m.pid)).toEqual([1]);
  });

  it("wsim.khugepaged=0: no registration, no scan", async () => {
    const e = engine("64M", { "wsim.khugepaged": "0" });
    await run(e, splitRanges(1));
    e.advanceTo(100000);
    expect(e.mem.khugepaged.scans).toEqual([]);
    expect(e.mem.ev[V.thp_collapse_alloc]).toBe(0);
  });
});

describe("khugepaged and idle jumps", () => {
  /** the JSON result of a run of `rows` (with a last event at `end`), jumping or ticking */
  async function result(rows: string[], sets: Record<string, string>, idleJumps: boolean): Promise<{ e: Engine; json: string }> {
    const e = engineFor(smallMachine("64M"), { idleJumps }, { ...QUIET_TUNABLES, "transparent_hugepage.enabled": "always", "wsim.khugepaged": "1", ...sets });
    await run(e, rows);
    const json = JSON.stringify(buildResult(e, { path: "t.csv", format: "csv", events: rows.length, firstMs: 0, lastMs: e.lastEventTime }));
    return { e, json };
  }

  it("a scan that collapses nothing is fast-forwarded over a long gap, byte for byte as ticking", async () => {
    // range 0: too sparse for max_ptes_none 255 (thp_scan_exceed_none_pte every scan); range 1
    // huge; a region skipped; then 10^7 ms of nothing but khugepaged's scans
    const split = splitRanges(2, 300).filter((r) => !r.includes(hex(R + 2 * MB2 - 300 * 4096)));
    const rows = [
      ...split.filter((r) => r.startsWith("0,")),
      `0,mmap,1,${hex(R + 8 * MB2)},${MB2 / 2},,`,
      `0,access,1,${hex(R + 8 * MB2)},,w,`,
      ...split.filter((r) => !r.startsWith("0,")),
      `10000000,access,1,${hex(R)},,w,`,
    ];
    const sets = { "transparent_hugepage.khugepaged.max_ptes_none": "255", "transparent_hugepage.khugepaged.pages_to_scan": "600" };
    const jump = await result(rows, sets, true);
    const tick = await result(rows, sets, false);
    expect(jump.json).toBe(tick.json);
    expect(jump.e.idleJumps).toBeGreaterThan(0);
    expect(jump.e.steadyTicksSkipped).toBeGreaterThan(0);
    expect(tick.e.mem.ev[V.thp_scan_exceed_none_pte]).toBeGreaterThan(900);
  });

  it("collapses during the gap, then fast-forwards: the same bytes", async () => {
    const rows = [...splitRanges(3), `50000000,access,1,${hex(R)},,w,`];
    const jump = await result(rows, {}, true);
    const tick = await result(rows, {}, false);
    expect(jump.json).toBe(tick.json);
    expect(jump.e.mem.ev[V.thp_collapse_alloc]).toBe(3);
    expect(jump.e.idleJumps).toBeGreaterThan(0);
  });

  it("three processes, regions of several sizes, one nohugepage, an exit in the gap: the same bytes at any pages_to_scan", async () => {
    // pid p maps (p + 1) ranges and a bit, and a separate 2 MiB region; range k of pid p loses
    // 100k + 50 pages; pid 2's range 1 is advised nohugepage; pid 1 exits at 3,000,000 ms
    const rows: string[] = [];
    const base = (p: number) => R + p * 64 * MB2;
    for (let p = 1; p <= 3; p++) {
      rows.push(`0,mmap,${p},${hex(base(p))},${(p + 1) * MB2 + 12288},,`, `0,mmap,${p},${hex(base(p) + 32 * MB2)},${MB2},,`);
      for (let k = 0; k <= p; k++) rows.push(`0,access,${p},${hex(base(p) + k * MB2)},,w,`);
    }
    for (let p = 1; p <= 3; p++)
      for (let k = 0; k <= p; k++) rows.push(`1,madvise,${p},${hex(base(p) + k * MB2 + 4096 * (100 * k + 1))},${4096 * (100 * k + 50)},,dontneed`);
    rows.push(`2,madvise,2,${hex(base(2) + MB2)},${MB2},,nohugepage`, `3000000,exit,1,,,,`, `9000000,access,2,${hex(base(2))},,w,`);
    for (const pages of ["1", "513", "4096"])
      for (const none of ["0", "300"]) {
        const sets = { "transparent_hugepage.khugepaged.pages_to_scan": pages, "transparent_hugepage.khugepaged.max_ptes_none": none };
        const jump = await result(rows, sets, true);
        const tick = await result(rows, sets, false);
        expect(jump.json, `pages_to_scan ${pages}, max_ptes_none ${none}`).toBe(tick.json);
        expect(jump.e.steadyTicksSkipped).toBeGreaterThan(800); // of 900 scans in 9,000,000 ms
      }
  });
});
