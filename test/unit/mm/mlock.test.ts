// mlock / munlock (issue 15 item 3): counters as 6.1's mm/mlock.c counts them, counted by hand
// from each trace (16 MiB machine, no page-table pages, --check after every event).
import { describe, expect, it } from "vitest";
import { V } from "../../../src/stats/counters.js";
import { ANON, UNEVICTABLE_LI } from "../../../src/mm/lru-gen.js";
import { engineFor, runCsv, smallMachine } from "../../helpers.js";
import type { Engine } from "../../../src/engine/engine.js";
import { checkMemory } from "../../../src/mm/check.js";
import { GFP_HIGHUSER_MOVABLE, MT_MOVABLE } from "../../../src/mm/constants.js";
import { migratePage } from "../../../src/mm/migrate.js";
import { PG_MLOCKED, PG_UNEVICTABLE } from "../../../src/mm/pages.js";

const BASE = 0x100000;
const HDR = "time_ms,op,pid,addr,len,rw,advice";
const engine = (thp = "never", mem = "16M"): Engine => engineFor(smallMachine(mem), { check: true }, { "transparent_hugepage.enabled": thp });
const run = (e: Engine, rows: string[]) => runCsv(e, [HDR, ...rows].join("\n"));
/** mmap 16 pages at BASE, write the first 8 */
const setup = [`0,mmap,1,${BASE},65536,,`, ...Array.from({ length: 8 }, (_, i) => `0,access,1,${BASE + i * 4096},,w,`)];
const vmstat = (e: Engine) => e.mem.vmstat();

describe("mlock", () => {
  it("mlocks the mapped pages and populates the rest: all 16 on the unevictable list", async () => {
    const e = engine();
    await run(e, [...setup, `1,mlock,1,${BASE},65536,,`]);
    const v = vmstat(e);
    expect(v[V.unevictable_pgs_mlocked]).toBe(16); // 8 by mlock_folio, 8 by mlock_new_page
    expect(v[V.unevictable_pgs_culled]).toBe(16);
    expect(v[V.nr_mlock]).toBe(16);
    expect(v[V.nr_unevictable]).toBe(16);
    expect(v[V.nr_zone_unevictable]).toBe(16);
    expect(v[V.pgfault]).toBe(16); // 8 accesses, 8 populated
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    expect(lv.total[ANON]).toBe(0);
    expect(lv.count[UNEVICTABLE_LI]).toBe(16);
    expect(v[V.nr_active_anon]! + v[V.nr_inactive_anon]!).toBe(0);
    // mlock again: the region is VM_LOCKED already, nothing changes
    await run(e, [`2,mlock,1,${BASE},65536,,`]);
    expect(vmstat(e)[V.unevictable_pgs_mlocked]).toBe(16);
  });

  it("mlocked pages survive reclaim; the unlocked ones are swapped", async () => {
    const e = engine();
    const other = Array.from({ length: 8 }, (_, i) => `0,access,2,${0x800000 + i * 4096},,w,`);
    await run(e, [...setup, ...other, `1,mlock,1,${BASE},65536,,`]);
    const got = e.mem.reclaim.shrinkNode(0, 100, true);
    expect(got).toBe(8); // only pid 2's pages
    const v = vmstat(e);
    expect(v[V.pswpout]).toBe(8);
    expect(e.mem.procs.get(1)!.rssAnon).toBe(16);
    expect(e.mem.procs.get(2)!.rssAnon).toBe(0);
    expect(v[V.nr_mlock]).toBe(16);
    // and MADV_PAGEOUT/COLD/DONTNEED/FREE of a VM_LOCKED region are refused (-EINVAL)
    await run(e, ["pageout", "cold", "dontneed", "free"].map((a) => `2,madvise,1,${BASE},65536,,${a}`));
    const w = vmstat(e);
    expect(w[V.pswpout]).toBe(8);
    expect(w[V.pgdeactivate]).toBe(0);
    expect(w[V.pglazyfree]).toBe(0);
    expect(e.mem.procs.get(1)!.rssAnon).toBe(16);
  });

  it("a part of a region: the region splits, faults in the locked part are mlocked", async () => {
    const e = engine();
    await run(e, [`0,mmap,1,${BASE},65536,,`, `1,mlock,1,${BASE + 32768},32768,,`, `2,access,1,${BASE},,w,`]);
    expect(e.mem.procs.get(1)!.vmas.map((v) => v.locked === true)).toEqual([false, true]);
    const v = vmstat(e);
    expect(v[V.nr_mlock]).toBe(8);
    expect(v[V.pgfault]).toBe(9);
    await run(e, [`3,munlock,1,${BASE + 32768},32768,,`]);
    expect(e.mem.procs.get(1)!.vmas).toHaveLength(1); // merged again
  });

  it("a huge page is mlocked whole (512 pages, one entry)", async () => {
    const e = engine("always");
    const R = 0x40000000;
    await run(e, [`0,mmap,1,${R},2097152,,`, `1,mlock,1,${R},2097152,,`]);
    const v = vmstat(e);
    expect(v[V.thp_fault_alloc]).toBe(1);
    expect(v[V.pgfault]).toBe(1);
    expect(v[V.unevictable_pgs_mlocked]).toBe(512);
    expect(v[V.unevictable_pgs_culled]).toBe(512);
    expect(v[V.nr_mlock]).toBe(512);
    await run(e, [`2,munmap,1,${R},2097152,,`]);
    const w = vmstat(e);
    expect(w[V.unevictable_pgs_munlocked]).toBe(512);
    expect(w[V.nr_mlock]).toBe(0);
    expect(w[V.nr_unevictable]).toBe(0);
  });

  it("a range outside every region is a data error (the kernel's ENOMEM)", async () => {
    await expect(run(engine(), [`0,mmap,1,${BASE},4096,,`, `1,mlock,1,${BASE},8192,,`])).rejects.toThrow(
      "t.csv:3: mlock of [0x100000, +8192) of pid 1: the range is not wholly inside mmap'ed regions (the kernel's ENOMEM); mmap it first",
    );
    await expect(run(engine(), [`1,munlock,1,${BASE},8192,,`])).rejects.toThrow("t.csv:2: munlock of [0x100000, +8192)");
  });
});

describe("munlock, munmap and exit of mlocked pages", () => {
  it("munlock: unevictable_pgs_munlocked and _rescued, the pages back in a generation", async () => {
    const e = engine();
    await run(e, [...setup, `1,mlock,1,${BASE},65536,,`, `2,munlock,1,${BASE},65536,,`]);
    const v = vmstat(e);
    expect(v[V.unevictable_pgs_munlocked]).toBe(16);
    expect(v[V.unevictable_pgs_rescued]).toBe(16);
    expect(v[V.unevictable_pgs_cleared]).toBe(0);
    expect(v[V.nr_mlock]).toBe(0);
    expect(v[V.nr_unevictable]).toBe(0);
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    expect(lv.pagesIn(ANON, lv.minSeq[ANON]! + 1)).toBe(16); // lru_gen_add_folio: inactive anon
    // evictable again
    expect(e.mem.reclaim.shrinkNode(0, 100, true)).toBe(16);
  });

  it("munmap and exit munlock first (page_remove_rmap), then free", async () => {
    const e = engine();
    await run(e, [...setup, `1,mlock,1,${BASE},65536,,`, `2,munmap,1,${BASE},32768,,`]);
    let v = vmstat(e);
    expect(v[V.unevictable_pgs_munlocked]).toBe(8);
    expect(v[V.unevictable_pgs_rescued]).toBe(8);
    expect(v[V.nr_mlock]).toBe(8);
    expect(v[V.pgfree]).toBe(8);
    await run(e, ["3,exit,1,,,,"]);
    v = vmstat(e);
    expect(v[V.unevictable_pgs_munlocked]).toBe(16);
    expect(v[V.unevictable_pgs_cleared]).toBe(0);
    expect(v[V.nr_mlock]).toBe(0);
    expect(v[V.nr_unevictable]).toBe(0);
    expect(v[V.pgfree]).toBe(16);
  });

  it("migration (compaction's path) moves an mlocked page and it stays mlocked and unevictable", async () => {
    const e = engine();
    await run(e, [...setup, `1,mlock,1,${BASE},65536,,`]);
    const leaf = e.mem.procs.get(1)!.leaf(0)!;
    const src = leaf[256]! - 1;
    const dst = e.mem.alloc.allocPages(0, MT_MOVABLE, GFP_HIGHUSER_MOVABLE, 0, 0);
    migratePage(e.mem.migrateCtx, src, dst);
    e.mem.alloc.freePages(src, 0);
    expect(leaf[256]).toBe(dst + 1);
    expect(e.mem.pages.mflags[dst]! & (PG_MLOCKED | PG_UNEVICTABLE)).toBe(PG_MLOCKED | PG_UNEVICTABLE);
    expect(e.mem.memcgs.root.lruvecs[0]!.count[UNEVICTABLE_LI]).toBe(16);
    expect(checkMemory(e.mem.mappingView())).toBeNull();
    await run(e, [`2,munlock,1,${BASE},65536,,`]);
    expect(vmstat(e)[V.unevictable_pgs_rescued]).toBe(16);
    expect(vmstat(e)[V.nr_mlock]).toBe(0);
  });
});
