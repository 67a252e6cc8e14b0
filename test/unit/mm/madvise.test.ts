// madvise (issue 15 item 3): every expectation below is counted by hand from the trace it
// runs (16 MiB machine, no page-table pages unless said, --check after every event).
import { describe, expect, it } from "vitest";
import { V } from "../../../src/stats/counters.js";
import { ANON, FILE } from "../../../src/mm/lru-gen.js";
import { PG_ACCESSED, PG_DIRTY, PG_LAZYFREE } from "../../../src/mm/pages.js";
import { engineFor, runCsv, smallMachine } from "../../helpers.js";
import type { Engine } from "../../../src/engine/engine.js";

const BASE = 0x100000;
const HDR = "time_ms,op,pid,addr,len,rw,advice";
/** a fresh engine: THP off unless `thp` names the mode */
function engine(thp = "never"): Engine {
  return engineFor(smallMachine("16M"), { check: true }, { "transparent_hugepage.enabled": thp });
}
/** mmap 16 pages at BASE and write each once, at time 0 */
const setup16 = [`0,mmap,1,${BASE},65536,,`, ...Array.from({ length: 16 }, (_, i) => `0,access,1,${BASE + i * 4096},,w,`)];
const run = (e: Engine, rows: string[]) => runCsv(e, [HDR, ...rows].join("\n"));
const pte = (e: Engine, vpn: number) => e.mem.procs.get(1)!.leaf(Math.floor(vpn / 512))![vpn % 512]!;

describe("MADV_DONTNEED", () => {
  it("frees the pages, keeps the region and the page table; a later read faults a fresh page", async () => {
    const e = engine();
    await run(e, [...setup16, `1,madvise,1,${BASE},32768,,dontneed`]);
    const ev = e.mem.ev;
    expect(e.mem.procs.nrAnon).toBe(8); // 16 faulted, 8 zapped
    expect(ev[V.pgfree]).toBe(8);
    expect(e.mem.procs.get(1)!.vmas).toHaveLength(1);
    expect(e.mem.procs.get(1)!.pt.size).toBe(1); // zap_page_range frees no table
    expect(pte(e, BASE / 4096)).toBe(0);
    await run(e, [`2,access,1,${BASE},,r,`]);
    expect(ev[V.pgfault]).toBe(17);
    expect(ev[V.pgmajfault]).toBe(0); // no swap entry was left: a zero-fill fault
    expect(ev[V.pswpin]).toBe(0);
    const pfn = pte(e, BASE / 4096) - 1;
    expect(pfn).toBeGreaterThanOrEqual(0);
    expect(e.mem.pages.flags[pfn]! & PG_DIRTY).toBe(0); // a read: the new page is clean
    expect(e.mem.procs.nrAnon).toBe(9);
  });

  it("all of a leaf zapped leaves the empty leaf (munmap would drop it)", async () => {
    const e = engine();
    await run(e, [...setup16, `1,madvise,1,${BASE},65536,,dontneed`]);
    expect(e.mem.procs.nrAnon).toBe(0);
    expect(e.mem.procs.get(1)!.pt.size).toBe(1);
    await run(e, [`2,munmap,1,${BASE},65536,,`]);
    expect(e.mem.procs.get(1)!.pt.size).toBe(0);
  });
});

describe("MADV_FREE", () => {
  it("moves the pages to the file LRU (pglazyfree); reclaim drops the clean ones without swap", async () => {
    const e = engine();
    await run(e, [...setup16, `1,madvise,1,${BASE},65536,,free`]);
    const ev = e.mem.ev;
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    expect(ev[V.pglazyfree]).toBe(16);
    expect(lv.total[ANON]).toBe(0);
    expect(lv.total[FILE]).toBe(16);
    expect(lv.pagesIn(FILE, lv.minSeq[FILE]!)).toBe(16); // the oldest file generation
    expect(e.mem.procs.nrAnon).toBe(16); // still anon pages of the process
    // pages 12..15 written again: they sit at the list's head (added in address order)
    await run(e, [12, 13, 14, 15].map((i) => `2,access,1,${BASE + i * 4096},,w,`));
    expect(e.mem.reclaim.shrinkLruvec(lv, 12, true)).toBe(12);
    expect(ev[V.pglazyfreed]).toBe(12);
    expect(ev[V.pswpout]).toBe(0);
    expect(ev[V.pgsteal_file]).toBe(12); // evicted from the file LRU
    expect(e.mem.shadows.inUse).toBe(0); // no swap entry
    expect(e.mem.procs.nrAnon).toBe(4);
    for (let i = 0; i < 12; i++) expect(pte(e, BASE / 4096 + i)).toBe(0);
    for (let i = 12; i < 16; i++) expect(pte(e, BASE / 4096 + i)).toBeGreaterThan(0);
    // a dropped page read again is a fresh zero-fill fault, not a swap-in
    await run(e, [`3,access,1,${BASE},,r,`]);
    expect(ev[V.pgmajfault]).toBe(0);
    expect(ev[V.pgfault]).toBe(17);
  });

  it("a write after MADV_FREE keeps the page: reclaim makes it anon again instead of dropping it", async () => {
    const e = engine();
    await run(e, [...setup16, `1,madvise,1,${BASE},65536,,free`, ...Array.from({ length: 16 }, (_, i) => `2,access,1,${BASE + i * 4096},,w,`)]);
    const ev = e.mem.ev;
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    // sort_folio moves the 16 dirty lazyfree pages back to anon (min_seq + 1), then anon
    // eviction finds them young (written) and ages twice before it swaps the first one out
    expect(e.mem.reclaim.shrinkLruvec(lv, 1, true)).toBe(1);
    expect(ev[V.pglazyfreed]).toBe(0);
    expect(lv.total[FILE]).toBe(0);
    expect(ev[V.pswpout]).toBe(1); // written data goes to swap, as for any anon page
    expect(e.mem.procs.nrAnon).toBe(15);
    for (let i = 0; i < 16; i++) {
      const p = pte(e, BASE / 4096 + i);
      if (p > 0) expect(e.mem.pages.mflags[p - 1]! & PG_LAZYFREE).toBe(0);
    }
  });

  it("frees swap entries in range; is refused on a file region", async () => {
    const e = engine();
    await run(e, [...setup16, `1,madvise,1,${BASE},16384,,pageout`]);
    expect(e.mem.ev[V.pswpout]).toBe(4);
    expect(e.mem.shadows.inUse).toBe(4);
    await run(e, [`2,madvise,1,${BASE},65536,,free`]);
    expect(e.mem.shadows.inUse).toBe(0);
    expect(pte(e, BASE / 4096)).toBe(0);
    expect(e.mem.ev[V.pglazyfree]).toBe(12);
    const f = engine();
    await runCsv(f, `time_ms,op,pid,addr,len,rw,kind,advice\n0,mmap,1,${BASE},16384,,file,\n0,access,1,${BASE},,w,,\n1,madvise,1,${BASE},16384,,,free`);
    expect(f.mem.ev[V.pglazyfree]).toBe(0); // -EINVAL: MADV_FREE is for anonymous regions
    expect(f.mem.procs.nrFile).toBe(1);
  });
});

describe("MADV_COLD and MADV_PAGEOUT", () => {
  it("COLD deactivates: anon pages into min_seq + 1, pgdeactivate, young bits cleared", async () => {
    const e = engine();
    await run(e, [...setup16, `1,madvise,1,${BASE},16384,,cold`]);
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    expect(e.mem.ev[V.pgdeactivate]).toBe(4);
    expect(lv.pagesIn(ANON, lv.minSeq[ANON]! + 1)).toBe(4);
    expect(lv.pagesIn(ANON, lv.maxSeq)).toBe(12);
    expect(e.mem.ev[V.pswpout]).toBe(0);
    for (let i = 0; i < 16; i++) expect(e.mem.pages.flags[pte(e, BASE / 4096 + i) - 1]! & PG_ACCESSED).toBe(i < 4 ? 0 : PG_ACCESSED);
  });

  it("PAGEOUT swaps the range out at once, with no pgscan or pgsteal; a later touch swaps in", async () => {
    const e = engine();
    await run(e, [...setup16, `1,madvise,1,${BASE},32768,,pageout`]);
    const ev = e.mem.ev;
    expect(ev[V.pswpout]).toBe(8);
    expect(ev[V.pgscan_kswapd]! + ev[V.pgscan_direct]!).toBe(0);
    expect(ev[V.pgsteal_kswapd]! + ev[V.pgsteal_direct]!).toBe(0);
    expect(e.mem.procs.nrAnon).toBe(8);
    await run(e, [`2,access,1,${BASE},,r,`]);
    expect(ev[V.pgmajfault]).toBe(1);
    expect(ev[V.pswpin]).toBe(1);
  });
});

describe("a huge page shared after fork, advised in part", () => {
  // a 2 MiB region at a 2 MiB boundary, one write: one THP (always); fork shares it with pid 2
  // (mapcount 2). madvise_free_huge_pmd and madvise_cold_or_pageout_pte_range test the
  // mapcount before they split for a part of the PMD: the THP stays whole and nothing is counted
  for (const advice of ["free", "cold", "pageout"]) {
    it(`${advice} of one page leaves it whole (no split, no pglazyfree/pgdeactivate/pswpout)`, async () => {
      const e = engine("always");
      const H = 0x40000000;
      await runCsv(e, [`time_ms,op,pid,addr,len,rw,child,advice`, `0,mmap,1,${H},2097152,,,`, `1,access,1,${H},,w,,`, `2,fork,1,,,,2,`, `3,madvise,1,${H},4096,,,${advice}`].join("\n"));
      const ev = e.mem.ev;
      expect(ev[V.thp_fault_alloc]).toBe(1);
      expect([ev[V.thp_split_pmd], ev[V.thp_split_page]]).toEqual([0, 0]);
      expect([ev[V.pglazyfree], ev[V.pgdeactivate], ev[V.pswpout]]).toEqual([0, 0, 0]);
      expect(e.mem.vmstat()[V.nr_anon_transparent_hugepages]).toBe(1);
    });
  }
});

describe("MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_COLLAPSE", () => {
  const R = 0x40000000; // 1 GiB: 2 MiB aligned
  it("HUGEPAGE makes half a region THP-eligible under enabled=madvise (the region splits)", async () => {
    const e = engine("madvise");
    await run(e, [`0,mmap,1,${R},4194304,,`, `1,madvise,1,${R},2097152,,hugepage`, `2,access,1,${R},,w,`, `2,access,1,${R + 2097152},,w,`]);
    expect(e.mem.ev[V.thp_fault_alloc]).toBe(1);
    expect(e.mem.ev[V.pgfault]).toBe(2);
    expect(e.mem.procs.nrAnon).toBe(513);
    expect(e.mem.procs.get(1)!.vmas.map((v) => [v.start, v.end, v.thp])).toEqual([[R / 4096, R / 4096 + 512, true], [R / 4096 + 512, R / 4096 + 1024, false]]);
  });

  it("NOHUGEPAGE keeps huge pages out even under enabled=always; the regions merge again after HUGEPAGE", async () => {
    const e = engine("always");
    await run(e, [`0,mmap,1,${R},4194304,,`, `1,madvise,1,${R},4194304,,nohugepage`, `2,access,1,${R},,w,`]);
    expect(e.mem.ev[V.thp_fault_alloc]).toBe(0);
    expect(e.mem.procs.nrAnon).toBe(1);
    await run(e, [`3,madvise,1,${R + 2097152},2097152,,hugepage`, `4,access,1,${R + 2097152},,w,`]);
    expect(e.mem.ev[V.thp_fault_alloc]).toBe(1);
    expect(e.mem.procs.get(1)!.vmas).toHaveLength(2);
    await run(e, [`5,madvise,1,${R},2097152,,hugepage`]);
    expect(e.mem.procs.get(1)!.vmas).toHaveLength(1);
  });

  it("COLLAPSE makes the small pages of a 2 MiB range one huge page, even under enabled=never", async () => {
    const e = engine("never");
    const ten = Array.from({ length: 10 }, (_, i) => `1,access,1,${R + i * 4096},,w,`);
    await run(e, [`0,mmap,1,${R},2097152,,`, ...ten]);
    const ev = e.mem.ev;
    const alloc0 = ev[V.pgalloc_normal]!;
    const free0 = ev[V.pgfree]!;
    await run(e, [`2,madvise,1,${R},2097152,,collapse`]);
    expect(ev[V.thp_collapse_alloc]).toBe(1);
    expect(ev[V.thp_collapse_alloc_failed]).toBe(0);
    expect(ev[V.pgalloc_normal]! - alloc0).toBe(512);
    expect(ev[V.pgfree]! - free0).toBe(10); // the ten small pages
    expect(e.mem.procs.nrThp).toBe(1);
    expect(e.mem.procs.nrAnon).toBe(512);
    expect(ev[V.pgfault]).toBe(10); // the 502 empty PTEs are filled without a fault
    // a range already huge is left as it is; a range with nothing present is not collapsed
    await run(e, [`3,madvise,1,${R},2097152,,collapse`, `4,mmap,1,${R + 2097152},2097152,,`, `5,madvise,1,${R + 2097152},2097152,,collapse`]);
    expect(ev[V.thp_collapse_alloc]).toBe(1);
  });

  it("COLLAPSE swaps in the swapped pages of the range and counts a failed allocation", async () => {
    const e = engine("never");
    await run(e, [`0,mmap,1,${R},2097152,,`, ...[0, 1, 2, 3].map((i) => `1,access,1,${R + i * 4096},,w,`), `2,madvise,1,${R},8192,,pageout`]);
    expect(e.mem.shadows.inUse).toBe(2);
    await run(e, [`3,madvise,1,${R},2097152,,collapse`]);
    expect(e.mem.ev[V.pswpin]).toBe(2);
    expect(e.mem.ev[V.pgmajfault]).toBe(2);
    expect(e.mem.shadows.inUse).toBe(0);
    expect(e.mem.procs.nrThp).toBe(1);
    // 4 MiB (1024 pages) with 901 mapped: no free order-9 block, direct reclaim frees 32
    // pages and a costly order gives up
    const small = engineFor(smallMachine("4M"), { check: true }, { "transparent_hugepage.enabled": "never" });
    const fill = Array.from({ length: 900 }, (_, i) => `1,access,2,${0x80000000 + i * 8192},,w,`);
    await run(small, [`0,mmap,1,${R},2097152,,`, `1,access,1,${R},,w,`, ...fill, `2,madvise,1,${R},2097152,,collapse`]);
    expect(small.mem.ev[V.thp_collapse_alloc_failed]).toBe(1);
    expect(small.mem.ev[V.thp_collapse_alloc]).toBe(0);
    expect(small.mem.procs.nrThp).toBe(0);
  });
});

describe("WILLNEED", () => {
  it("changes nothing (no swap cache in wsim)", async () => {
    const e = engine();
    await run(e, [...setup16, `1,madvise,1,${BASE},16384,,pageout`, `2,madvise,1,${BASE},65536,,willneed`]);
    expect(e.mem.ev[V.pswpin]).toBe(0);
    expect(e.mem.shadows.inUse).toBe(4);
  });
});

describe("the advice column", () => {
  it("an unknown advice is a data error naming the accepted ones", async () => {
    await expect(run(engine(), [`0,madvise,1,${BASE},4096,,sideways`])).rejects.toThrow(
      't.csv:2: unknown advice "sideways" (expected one of dontneed, free, cold, pageout, willneed, hugepage, nohugepage, collapse)',
    );
  });
  it("madvise without advice is a data error", async () => {
    await expect(run(engine(), [`0,madvise,1,${BASE},4096,,`])).rejects.toThrow("t.csv:2: madvise needs advice");
  });
  it("an unaligned address is a data error", async () => {
    await expect(run(engine(), [`0,madvise,1,${BASE + 1},4096,,cold`])).rejects.toThrow("t.csv:2: madvise addr 1048577 is not page-aligned (4096)");
  });
});
