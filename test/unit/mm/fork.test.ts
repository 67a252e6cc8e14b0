// fork and copy-on-write (issue 15 item 1): every expectation is counted by hand from the trace it
// runs (16 MiB one-node machine, no page tables, slab or pcp unless said, --check after every
// event, which verifies each owner's PTE and every shared page's mapcount).
import { describe, expect, it } from "vitest";
import type { Engine } from "../../../src/engine/engine.js";
import { checkMemory } from "../../../src/mm/check.js";
import { GFP_HIGHUSER_MOVABLE, MT_MOVABLE } from "../../../src/mm/constants.js";
import { mapcount } from "../../../src/mm/fork.js";
import { migratePage } from "../../../src/mm/migrate.js";
import { PG_ANON_SHARED } from "../../../src/mm/pages.js";
import { V } from "../../../src/stats/counters.js";
import { engineFor, runCsv, smallMachine } from "../../helpers.js";

const BASE = 0x200000; // 2 MiB aligned: vpn 512, leaf 1
const VPN = BASE / 4096;
const HDR = "time_ms,op,pid,addr,len,rw,child";
function engine(thp = "never", sets: Record<string, string> = {}): Engine {
  return engineFor(smallMachine("16M"), { check: true }, { "transparent_hugepage.enabled": thp, ...sets });
}
const run = (e: Engine, rows: string[]) => runCsv(e, [HDR, ...rows].join("\n"));
/** pid's PTE for page k of the region */
const pte = (e: Engine, pid: number, k: number) => e.mem.procs.get(pid)!.leaf(Math.floor((VPN + k) / 512))![(VPN + k) % 512]!;
const w = (t: number, pid: number, k: number) => `${t},access,${pid},${BASE + k * 4096},,w,`;
const r = (t: number, pid: number, k: number) => `${t},access,${pid},${BASE + k * 4096},,r,`;
/** pid 1 maps 16 pages and writes each once, then forks pid 2 */
const forked16 = [`0,mmap,1,${BASE},65536,,`, ...Array.from({ length: 16 }, (_, k) => w(0, 1, k)), "1,fork,1,,,,2"];
const ev = (e: Engine, n: keyof typeof V) => e.mem.ev[V[n]]!;

describe("fork shares the anon pages copy-on-write", () => {
  it("both mms map the same 16 pages, mapcount 2, write-protected; nothing allocated, nothing counted", async () => {
    const e = engine();
    await run(e, forked16);
    expect(e.mem.procs.get(2)!.vmas).toEqual([expect.objectContaining({ start: VPN, end: VPN + 16, file: false })]);
    for (let k = 0; k < 16; k++) {
      expect(pte(e, 2, k)).toBe(pte(e, 1, k));
      const pfn = pte(e, 1, k) - 1;
      expect(mapcount(e.mem.procs, pfn)).toBe(2);
      expect(e.mem.pages.mflags[pfn]! & PG_ANON_SHARED).toBe(PG_ANON_SHARED);
    }
    expect(e.mem.procs.get(1)!.rssAnon).toBe(16);
    expect(e.mem.procs.get(2)!.rssAnon).toBe(16);
    expect(e.mem.procs.nrAnon).toBe(16); // nr_anon_pages counts pages, not mappings
    expect(ev(e, "pgfault")).toBe(16);
    expect(ev(e, "pgalloc_normal")).toBe(16);
  });

  it("one COW copy per page written while shared; the last mapper's write reuses (pgreuse); reads fault nothing", async () => {
    const e = engine();
    const free0 = (await run(e, forked16), e.mem.vmstat()[V.nr_free_pages]!);
    // the parent writes pages 0..3: four copies
    await run(e, [w(2, 1, 0), w(2, 1, 1), w(2, 1, 2), w(2, 1, 3)]);
    expect(ev(e, "pgfault")).toBe(20);
    expect(ev(e, "pgalloc_normal")).toBe(20);
    expect(ev(e, "pgreuse")).toBe(0);
    expect(e.mem.procs.nrAnon).toBe(20);
    expect(e.mem.vmstat()[V.nr_free_pages]).toBe(free0 - 4);
    for (let k = 0; k < 4; k++) expect(pte(e, 1, k)).not.toBe(pte(e, 2, k));
    // the child writes the same pages: it maps the originals alone now, so it reuses them
    await run(e, [w(3, 2, 0), w(3, 2, 1), w(3, 2, 2), w(3, 2, 3)]);
    expect(ev(e, "pgfault")).toBe(24);
    expect(ev(e, "pgreuse")).toBe(4);
    expect(ev(e, "pgalloc_normal")).toBe(20);
    // a second write to a reused page is no fault at all; reads of shared pages neither
    await run(e, [w(4, 2, 0), r(4, 2, 9), r(4, 1, 9)]);
    expect(ev(e, "pgfault")).toBe(24);
    // the child writes page 4 first (a copy), then the parent (a reuse)
    await run(e, [w(5, 2, 4), w(5, 1, 4)]);
    expect(ev(e, "pgfault")).toBe(26);
    expect(ev(e, "pgalloc_normal")).toBe(21);
    expect(ev(e, "pgreuse")).toBe(5);
    expect(e.mem.procs.nrAnon).toBe(21);
    expect(e.mem.procs.get(1)!.rssAnon).toBe(16);
    expect(e.mem.procs.get(2)!.rssAnon).toBe(16);
    // conservation: 21 pages allocated since the 16 of the fork's parent, 5 of them copies
    expect(e.mem.vmstat()[V.nr_free_pages]).toBe(free0 - 5);
    expect(e.mem.procs.rmapShared.size).toBe(11); // pages 5..15
  });

  it("exit of the child frees exactly its own pages; the parent's then have one mapper", async () => {
    const e = engine();
    await run(e, [...forked16, w(2, 1, 0), w(2, 1, 1), w(2, 1, 2), w(2, 1, 3), w(3, 2, 4)]);
    const free0 = e.mem.vmstat()[V.nr_free_pages]!;
    const pgfree0 = ev(e, "pgfree");
    // the child maps: originals 0..3 (alone), its copy of 4, 5..15 shared
    await run(e, ["4,exit,2,,,,"]);
    expect(ev(e, "pgfree") - pgfree0).toBe(5);
    expect(e.mem.vmstat()[V.nr_free_pages]).toBe(free0 + 5);
    expect(e.mem.procs.nrAnon).toBe(16);
    expect(e.mem.procs.rmapShared.size).toBe(0);
    // the parent's write to a once-shared page now reuses it
    await run(e, [w(5, 1, 10)]);
    expect(ev(e, "pgreuse")).toBe(1);
    await run(e, ["6,exit,1,,,,"]);
    expect(ev(e, "pgfree") - pgfree0).toBe(21);
    expect(e.mem.procs.nrAnon).toBe(0);
  });

  it("exit of the parent frees only its copies; the child keeps the rest", async () => {
    const e = engine();
    await run(e, [...forked16, w(2, 1, 0), w(2, 1, 1), w(2, 1, 2), w(2, 1, 3)]);
    const pgfree0 = ev(e, "pgfree");
    await run(e, ["3,exit,1,,,,"]);
    expect(ev(e, "pgfree") - pgfree0).toBe(4);
    expect(e.mem.procs.nrAnon).toBe(16);
    expect(e.mem.procs.get(2)!.rssAnon).toBe(16);
    await run(e, [w(4, 2, 8)]);
    expect(ev(e, "pgreuse")).toBe(1);
    expect(ev(e, "pgalloc_normal")).toBe(20);
  });

  it("munmap by one mm drops its mappings only", async () => {
    const e = engine();
    await run(e, [...forked16, `2,munmap,2,${BASE},32768,,`]);
    expect(ev(e, "pgfree")).toBe(0);
    expect(e.mem.procs.get(2)!.rssAnon).toBe(8);
    expect(e.mem.procs.rmapShared.size).toBe(8);
    await run(e, [`3,munmap,1,${BASE},32768,,`]);
    expect(ev(e, "pgfree")).toBe(8);
    expect(e.mem.procs.nrAnon).toBe(8);
  });
});

describe("a shared huge page", () => {
  const thpForked = [`0,mmap,1,${BASE},2097152,,`, w(0, 1, 0), "1,fork,1,,,,2"];

  it("the first write splits the writer's PMD (thp_split_pmd 1, thp_deferred_split_page 1) and copies one 4 KiB page", async () => {
    const e = engine("always");
    await run(e, thpForked);
    expect(ev(e, "thp_fault_alloc")).toBe(1);
    expect(e.mem.procs.get(2)!.rssAnon).toBe(512);
    expect(e.mem.procs.nrThp).toBe(1);
    await run(e, [w(2, 1, 5)]);
    expect(ev(e, "pgfault")).toBe(2);
    expect(ev(e, "thp_split_pmd")).toBe(1);
    expect(ev(e, "thp_deferred_split_page")).toBe(1);
    expect(ev(e, "thp_split_page")).toBe(0);
    expect(ev(e, "pgalloc_normal")).toBe(512 + 1); // the THP, then one order-0 copy
    expect(e.mem.procs.nrAnon).toBe(513);
    expect(e.mem.procs.get(1)!.rssAnon).toBe(512);
    expect(pte(e, 1, 5)).not.toBe(pte(e, 2, 5));
    expect(pte(e, 1, 6)).toBe(pte(e, 2, 6));
    // the next write by the parent copies one more page; no second split
    await run(e, [w(3, 1, 6)]);
    expect(ev(e, "thp_split_pmd")).toBe(1);
    expect(ev(e, "pgalloc_normal")).toBe(514);
    // the child's write to page 5, which it alone maps now, reuses it
    await run(e, [w(4, 2, 5)]);
    expect(ev(e, "pgreuse")).toBe(1);
    expect(ev(e, "pgalloc_normal")).toBe(514);
  });

  it("a huge page one mm maps again after the other's exit is reused whole: no split", async () => {
    const e = engine("always");
    await run(e, [...thpForked, "2,exit,2,,,,"]);
    expect(ev(e, "pgfree")).toBe(0);
    await run(e, [w(3, 1, 7)]);
    expect(ev(e, "pgfault")).toBe(2);
    expect(ev(e, "thp_split_pmd")).toBe(0);
    expect(e.mem.procs.nrThp).toBe(1);
    expect(e.mem.pages.mflags[pte(e, 1, 0) - 1]! & PG_ANON_SHARED).toBe(0);
    await run(e, ["4,exit,1,,,,"]);
    expect(ev(e, "pgfree")).toBe(512);
  });

  it("the child's exit leaves the huge page to the parent; the parent's exit frees it whole", async () => {
    const e = engine("always");
    await run(e, [...thpForked, "2,exit,1,,,,"]);
    expect(ev(e, "pgfree")).toBe(0);
    expect(e.mem.procs.get(2)!.rssAnon).toBe(512);
    await run(e, ["3,exit,2,,,,"]);
    expect(ev(e, "pgfree")).toBe(512);
    expect(e.mem.procs.nrThp).toBe(0);
  });
});

describe("reclaim and migration of a page two mms map", () => {
  it("reclaim unmaps it from both: each PTE the same swap entry, one pswpout, one slot", async () => {
    const e = engine();
    await run(e, forked16);
    const pfn = pte(e, 1, 0) - 1;
    e.mem.reclaim.pageout(pfn);
    expect(checkMemory(e.mem.mappingView())).toBeNull();
    expect(ev(e, "pswpout")).toBe(1);
    expect(pte(e, 1, 0)).toBeLessThan(0);
    expect(pte(e, 2, 0)).toBe(pte(e, 1, 0));
    expect(e.mem.shadows.swapUsed).toBe(1);
    expect(e.mem.procs.get(1)!.swapEnts).toBe(1);
    expect(e.mem.procs.get(2)!.swapEnts).toBe(1);
    expect(e.mem.procs.get(1)!.rssAnon).toBe(15);
    expect(e.mem.procs.get(2)!.rssAnon).toBe(15);
    expect(e.mem.procs.nrAnon).toBe(15);
    // the parent's fault reads it back; the slot stays for the child's entry
    await run(e, [r(2, 1, 0)]);
    expect(ev(e, "pswpin")).toBe(1);
    expect(e.mem.shadows.swapUsed).toBe(1);
    // the child's exit drops the last reference: the slot is free
    await run(e, ["3,exit,2,,,,"]);
    expect(e.mem.shadows.swapUsed).toBe(0);
  });

  it("a swap entry in the parent at fork is duplicated into the child", async () => {
    const e = engine();
    await run(e, [`0,mmap,1,${BASE},65536,,`, w(0, 1, 0), w(0, 1, 1)]);
    e.mem.reclaim.pageout(pte(e, 1, 1) - 1);
    await run(e, ["1,fork,1,,,,2"]);
    expect(pte(e, 2, 1)).toBe(pte(e, 1, 1));
    expect(e.mem.procs.get(2)!.swapEnts).toBe(1);
    expect(e.mem.shadows.swapUsed).toBe(1);
    await run(e, ["2,exit,1,,,,"]);
    expect(e.mem.shadows.swapUsed).toBe(1);
    await run(e, ["3,exit,2,,,,"]);
    expect(e.mem.shadows.swapUsed).toBe(0);
  });

  it("migration moves it and both PTEs follow", async () => {
    const e = engine();
    await run(e, forked16);
    const src = pte(e, 1, 3) - 1;
    const dst = e.mem.alloc.allocPages(0, MT_MOVABLE, GFP_HIGHUSER_MOVABLE, 0, 0);
    migratePage(e.mem.migrateCtx, src, dst);
    e.mem.alloc.freePages(src, 0);
    expect(pte(e, 1, 3)).toBe(dst + 1);
    expect(pte(e, 2, 3)).toBe(dst + 1);
    expect(mapcount(e.mem.procs, dst)).toBe(2);
    expect(e.mem.procs.rmapShared.has(src)).toBe(false);
    expect(checkMemory(e.mem.mappingView())).toBeNull();
    // still write-protected in both: the child's write copies
    await run(e, [w(2, 2, 3)]);
    expect(ev(e, "pgalloc_normal")).toBe(16 + 1 + 1);
    expect(pte(e, 1, 3)).toBe(dst + 1);
  });
});

describe("the child's tables and VMA objects (dup_mmap, copy_page_range)", () => {
  it("a PTE table (and the PMD, PUD and PGD above it) per copied leaf; vm_area_struct, anon_vma and two chains per anon region", async () => {
    const e = engine("never", { "wsim.page_tables": "1", "wsim.slab": "1" });
    await run(e, [`0,mmap,1,${BASE},65536,,`, ...Array.from({ length: 16 }, (_, k) => w(0, 1, k))]);
    expect(e.mem.procs.nrPageTables).toBe(2); // PTE + PMD
    expect(e.mem.procs.nrUpperTablePages).toBe(3); // PUD + the order-1 PGD
    const inuse = () => e.mem.slub.caches.map((c) => c.inuse);
    expect(inuse().slice(0, 3)).toEqual([1, 1, 1]); // vm_area_struct, anon_vma, anon_vma_chain
    await run(e, ["1,fork,1,,,,2"]);
    expect(e.mem.procs.nrPageTables).toBe(4);
    expect(e.mem.procs.nrUpperTablePages).toBe(6);
    // the child: its vm_area_struct; anon_vma_fork: a chain to the parent's anon_vma, its own anon_vma and chain
    expect(inuse().slice(0, 3)).toEqual([2, 2, 3]);
    await run(e, ["2,exit,1,,,,"]);
    // the parent's anon_vma lives on while the child's chain links it
    expect(inuse().slice(0, 3)).toEqual([1, 2, 2]);
    await run(e, ["3,exit,2,,,,"]);
    expect(inuse().slice(0, 3)).toEqual([0, 0, 0]);
    expect(e.mem.procs.nrPageTables).toBe(0);
  });
});

describe("trace errors", () => {
  it("fork of an unknown parent, and to a child pid that is alive, are data errors", async () => {
    await expect(run(engine(), ["0,fork,7,,,,8"])).rejects.toThrow("t.csv:2: fork of pid 7, which has no earlier event");
    // a parent that has exited: the message says when, and so does a second exit
    await expect(run(engine(), [r(0, 1, 0), "1.5,exit,1,,,,", "2,fork,1,,,,8"])).rejects.toThrow("t.csv:4: fork of pid 1, which exited at 1.5 ms");
    await expect(run(engine(), [r(0, 1, 0), "1,exit,1,,,,", "2,exit,1,,,,"])).rejects.toThrow("t.csv:4: exit of pid 1, which already exited at 1 ms");
    await expect(run(engine(), [r(0, 1, 0), r(0, 2, 0), "1,fork,1,,,,2"])).rejects.toThrow("t.csv:4: fork's child pid 2 is alive");
    await expect(run(engine(), [r(0, 1, 0), "1,fork,1,,,,1"])).rejects.toThrow("t.csv:3: fork's child pid 1 is alive");
    await expect(run(engine(), [r(0, 1, 0), "1,fork,1,,,,"])).rejects.toThrow("t.csv:3: fork needs child");
    await expect(run(engine(), [r(0, 1, 0), "1,fork,1,,,,x"])).rejects.toThrow("t.csv:3:");
  });

  it("a pid that exited may be a fork's child again", async () => {
    const e = engine();
    await run(e, [...forked16, "2,exit,2,,,,", "3,fork,1,,,,2"]);
    expect(e.mem.procs.get(2)!.rssAnon).toBe(16);
  });
});

describe("compaction of pages two mms map", () => {
  it("manual compaction migrates shared pages and both mappings follow (--check after every event)", async () => {
    // pid 4 fills the lowest 2048 pages; pids 1 and 3 fault 512 pages each in turn above them, then
    // pids 5 and 6 likewise above those; 1 forks 2; 4 exits (whole free pageblocks, which the free
    // scanner skips), 3 and 6 exit (a hole every other page: migration targets above pid 1's pages)
    const e = engineFor(smallMachine("16M"), { check: true }, { "transparent_hugepage.enabled": "never", "vm.compaction_proactiveness": "0" });
    const at = (pid: number, base: number, k: number) => `0,access,${pid},${base + k * 4096},,w,`;
    const rows = [`0,mmap,1,${BASE},2097152,,`, "0,mmap,3,0x1000000,2097152,,", "0,mmap,4,0x2000000,8388608,,", "0,mmap,5,0x3000000,2097152,,", "0,mmap,6,0x4000000,2097152,,"];
    for (let k = 0; k < 2048; k++) rows.push(at(4, 0x2000000, k));
    for (let k = 0; k < 512; k++) rows.push(w(0, 1, k), at(3, 0x1000000, k));
    for (let k = 0; k < 500; k++) rows.push(at(5, 0x3000000, k), at(6, 0x4000000, k));
    await run(e, [...rows, "1,fork,1,,,,2", "2,exit,4,,,,", "2,exit,3,,,,", "2,exit,6,,,,"]);
    const before = Array.from({ length: 512 }, (_, k) => pte(e, 1, k));
    await run(e, ["3,compact,,,,,"]);
    const after = Array.from({ length: 512 }, (_, k) => pte(e, 1, k));
    const moved = after.filter((p, k) => p !== before[k]).length;
    expect(moved).toBeGreaterThan(0);
    expect(ev(e, "pgmigrate_success")).toBeGreaterThanOrEqual(moved); // pid 5's pages may move too
    for (let k = 0; k < 512; k++) {
      expect(pte(e, 2, k)).toBe(after[k]);
      expect(mapcount(e.mem.procs, after[k]! - 1)).toBe(2);
    }
    expect(e.mem.procs.rmapShared.size).toBe(512);
  });
});
