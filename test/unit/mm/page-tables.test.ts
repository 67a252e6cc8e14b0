/**
 * Issue 13 item 3, page tables: x86-64's four levels take memory through the allocator. Every
 * figure below is counted by hand from the rules: a PTE table per touched 2 MiB (a leaf), a
 * PMD table per 1 GiB, a PUD table per 512 GiB, an order-1 PGD with the first table; PTE and
 * PMD tables count in nr_page_table_pages; all unmovable order-0 (the PGD order 1) kernel
 * allocations; a leaf emptied by munmap goes with the tables left empty above it; exit frees all.
 */
import { describe, expect, it } from "vitest";
import { MT_UNMOVABLE } from "../../../src/mm/constants.js";
import { checkMemory } from "../../../src/mm/check.js";
import { PTE_TABLE } from "../../../src/mm/process.js";
import { counters, quietEngine, runCsv } from "../../helpers.js";

const PAGES = 16384; // 64 MiB, one node
const GiB = 1 << 30;
const hex = (a: number) => `0x${a.toString(16)}`;

async function run(lines: string[], extra: Record<string, string> = {}) {
  const e = quietEngine(PAGES, { "wsim.page_tables": "1", ...extra }, { check: true });
  await runCsv(e, ["time_ms,op,pid,addr,len", ...lines].join("\n") + "\n");
  return e;
}

describe("page tables take memory", () => {
  it("one page touched: its page, a PTE table, a PMD table, a PUD table and a 2-page PGD", async () => {
    const e = await run([`0,access,1,${hex(GiB)},`]);
    const c = counters(e, ["nr_page_table_pages", "nr_free_pages", "pgalloc_normal", "pgfault"]);
    // PTE + PMD = 2; pages taken: 1 + 1 + 1 + 1 + 2 = 6
    expect(c).toEqual({ nr_page_table_pages: 2, nr_free_pages: PAGES - 6, pgalloc_normal: 6, pgfault: 1 });
  });

  it("three 2 MiB ranges in one GiB and one in the next: 4 PTE tables, 2 PMD tables, 1 PUD", async () => {
    const e = await run([
      `0,access,1,${hex(GiB)},`,
      `1,access,1,${hex(GiB + 4096)},`, // same leaf: nothing new
      `2,access,1,${hex(GiB + (2 << 20))},`,
      `3,access,1,${hex(GiB + (4 << 20))},`,
      `4,access,1,${hex(2 * GiB)},`,
    ]);
    // 4 PTE + 2 PMD = 6 counted; pages: 5 data + 6 + 1 PUD + 2 PGD = 14
    expect(counters(e, ["nr_page_table_pages", "nr_free_pages"])).toEqual({ nr_page_table_pages: 6, nr_free_pages: PAGES - 14 });
    const mm = e.mem.procs.get(1)!;
    expect([mm.pt.size, mm.pmdTables.size, mm.pudTables.size]).toEqual([4, 2, 1]);
  });

  it("a page-table page is an unmovable allocation: it claims a pageblock of a machine born movable", async () => {
    const e = await run([`0,access,1,${hex(GiB)},`]);
    const leaf = e.mem.procs.get(1)!.leaf(GiB / 4096 / 512)!;
    const pte = leaf[PTE_TABLE]!;
    expect(e.mem.pages.pageblockMt(pte)).toBe(MT_UNMOVABLE);
    expect(counters(e, ["wsim_extfrag_fallbacks"]).wsim_extfrag_fallbacks).toBeGreaterThanOrEqual(1);
  });

  it("munmap that empties a leaf frees its PTE table, and the PMD and PUD when nothing is left under them; exit frees the PGD", async () => {
    const e = await run([
      `0,mmap,1,${hex(GiB)},${4 << 20}`,
      `1,access,1,${hex(GiB)},`,
      `2,access,1,${hex(GiB + (2 << 20))},`,
      `3,munmap,1,${hex(GiB)},${2 << 20}`,
    ]);
    // one leaf left: 1 PTE + 1 PMD; pages: 1 data + 1 PTE + 1 PMD + 1 PUD + 2 PGD = 6
    expect(counters(e, ["nr_page_table_pages", "nr_free_pages"])).toEqual({ nr_page_table_pages: 2, nr_free_pages: PAGES - 6 });
    const e2 = await run([
      `0,mmap,1,${hex(GiB)},${4 << 20}`,
      `1,access,1,${hex(GiB)},`,
      `2,munmap,1,${hex(GiB)},${4 << 20}`,
    ]);
    // nothing mapped: PTE, PMD and PUD gone, the PGD (2 pages) stays with the mm
    expect(counters(e2, ["nr_page_table_pages", "nr_free_pages"])).toEqual({ nr_page_table_pages: 0, nr_free_pages: PAGES - 2 });
    const e3 = await run([`0,access,1,${hex(GiB)},`, `1,access,1,${hex(3 * GiB)},`, "2,exit,1,,"]);
    expect(counters(e3, ["nr_page_table_pages", "nr_free_pages"])).toEqual({ nr_page_table_pages: 0, nr_free_pages: PAGES });
  });

  it("a huge page fault deposits a PTE table: 512 pages, PTE + PMD counted", async () => {
    const e = await run([`0,mmap,1,${hex(GiB)},${2 << 20}`, `1,access,1,${hex(GiB)},`], { "transparent_hugepage.enabled": "always" });
    // pages: 512 + PTE + PMD + PUD + 2 PGD = 517
    expect(counters(e, ["thp_fault_alloc", "nr_page_table_pages", "nr_free_pages"])).toEqual({ thp_fault_alloc: 1, nr_page_table_pages: 2, nr_free_pages: PAGES - 517 });
  });

  it("--check catches a page-table count that disagrees with the tables", async () => {
    const e = await run([`0,access,1,${hex(GiB)},`]);
    expect(checkMemory(e.mem.mappingView())).toBeNull();
    e.mem.procs.nrPageTables++;
    expect(checkMemory(e.mem.mappingView())).toBe("nr_page_table_pages is 3 but the processes hold 2 PTE and PMD tables");
    e.mem.procs.nrPageTables--;
    e.mem.procs.get(1)!.pmdTables.get(1)!.n = 2; // leaf 512 (1 GiB) lies under PMD table 1
    expect(checkMemory(e.mem.mappingView())).toMatch(/^pid 1: PMD table 1 counts 2 PTE tables but 1 leaves lie under it$/);
  });
});
