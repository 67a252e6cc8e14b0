// khugepaged (issue 15 item 4): every expectation below is counted by hand from the trace it
// runs, with the scan rules of mm/khugepaged.c (6.1) written out next to it. Machines have no
// watermarks (QUIET_TUNABLES), no page-table pages and no pcp lists unless said.
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
  const e = engineFor(smallMachine(mem), { check: true, ...opts }, { ...QUIET_TUNABLES, "transparent_hugepage.enabled": "always", ...sets });
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
});
