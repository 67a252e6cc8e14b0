// File mappings that share the page cache (issue 15 item 2; src/mm/filemap.ts). Every figure is
// counted by hand from the trace it runs, with --check after every event (which verifies each
// file PTE against its region, the file's index and the page's file rmap).
//
// quietEngine(4096): one flat zone of 4096 pages, no watermarks. The mappings sit at 0x100000
// (vpn 256, in page-table leaf 0, 16-aligned), so a read fault at mapping page k opens the
// fault-around window (fault_around_bytes 64 KiB = 16 pages) at page k - k % 16, up to the end
// of the region.
import { describe, expect, it } from "vitest";
import { V } from "../../../src/stats/counters.js";
import { FILE } from "../../../src/mm/lru-gen.js";
import { PC_REFERENCED } from "../../../src/mm/pagecache.js";
import { PG_DIRTY, PG_FILE_MAPPED } from "../../../src/mm/pages.js";
import { checkMemory } from "../../../src/mm/check.js";
import { migratePage } from "../../../src/mm/migrate.js";
import { GFP_HIGHUSER_MOVABLE, MT_MOVABLE } from "../../../src/mm/constants.js";
import { fileMapcount } from "../../../src/mm/filemap.js";
import { K_FAULT } from "../../../src/mm/stall.js";
import { formatZoneinfo } from "../../../src/procfs/zoneinfo.js";
import { cpusByNodeOf, liveZoneinfo } from "../../../src/procfs/zoneinfo-live.js";
import { dataErrorOf, quietEngine, runCsv } from "../../helpers.js";
import type { Engine } from "../../../src/engine/engine.js";

const HDR = "time_ms,op,pid,addr,len,rw,file,off";
const run = (e: Engine, rows: string[]) => runCsv(e, [HDR, ...rows].join("\n"));
const engine = (sets: Record<string, string> = {}) => quietEngine(4096, sets, { check: true });
const P = 4096;
const BASE = 0x100000;
const addr = (k: number, base = BASE) => "0x" + (base + k * P).toString(16);
/** a read (r) or write (w) of mapping page k by pid */
const acc = (t: number, pid: number, k: number, rw = "r", base = BASE) => `${t},access,${pid},${addr(k, base)},,${rw},,`;
const mmap = (t: number, pid: number, pages: number, file: string, off = 0, base = BASE) => `${t},mmap,${pid},${addr(0, base)},${pages * P},,${file},${off}`;
const pte = (e: Engine, pid: number, k: number, base = BASE) => {
  const vpn = base / P + k;
  return e.mem.procs.get(pid)!.leaf(Math.floor(vpn / 512))?.[vpn % 512] ?? 0;
};
const cachedPfn = (e: Engine, name: string, idx: number) => e.mem.pageCache.file(name)!.at(idx) - 1;
const ev = (e: Engine, k: keyof typeof V) => e.mem.ev[V[k]]!;
const gauge = (e: Engine, k: keyof typeof V) => e.mem.vmstat()[V[k]]!;

describe("faults find the page cache's pages", () => {
  it("fread, then an mmap of the same pages: minor faults, fault-around maps 16 a fault, no page read or allocated", async () => {
    const e = engine();
    const reads = Array.from({ length: 32 }, (_, k) => acc(2, 1, k));
    await run(e, [`0,fread,1,,${32 * P},,data,0`, mmap(1, 1, 32, "data"), ...reads]);
    // page 0 maps pages 0..15 (the window), page 16 maps 16..31: two faults, none major
    expect(ev(e, "pgfault")).toBe(2);
    expect(ev(e, "pgmajfault")).toBe(0);
    expect(ev(e, "pgpgin")).toBe(32 * 4); // the fread's 32 pages only
    expect(e.mem.pageCache.nrPages).toBe(32);
    expect(gauge(e, "nr_file_pages")).toBe(32);
    expect(gauge(e, "nr_mapped")).toBe(32);
    expect(e.mem.procs.get(1)!.rssFile).toBe(32);
    for (let k = 0; k < 32; k++) expect(pte(e, 1, k)).toBe(cachedPfn(e, "data", k) + 1);
  });

  it("off: a mapping from file page 16 maps that page at its start, fault-around clipped to the region's 4 pages", async () => {
    const e = engine();
    const B2 = 0x200000;
    await run(e, [`0,fread,1,,${32 * P},,data,0`, mmap(1, 1, 4, "data", 16 * P, B2), acc(2, 1, 2, "r", B2)]);
    // vpn 514: window from vpn 512 (file page 16) to min(page 16 + 15, the region's last page 19)
    expect(ev(e, "pgfault")).toBe(1);
    for (let k = 0; k < 4; k++) expect(pte(e, 1, k, B2)).toBe(cachedPfn(e, "data", 16 + k) + 1);
    expect(gauge(e, "nr_mapped")).toBe(4);
    expect(e.mem.procs.get(1)!.rssFile).toBe(4);
    // the prefaulted pages are young but were not touched: their true access time is the fread's
    const la = e.mem.lastAccess;
    expect([16, 17, 18, 19].map((i) => la[cachedPfn(e, "data", i)])).toEqual([0, 0, 2, 0]);
  });

  it("mlock of a shared file mapping populates it with read faults (nothing dirtied) and mlocks the pages; munmap munlocks them", async () => {
    const e = engine();
    await run(e, [mmap(0, 1, 4, "l"), `1,mlock,1,${addr(0)},${4 * P},,,`]);
    // populate: a read fault per page (each major: nothing else cached), no write (a shared mapping)
    expect(ev(e, "pgmajfault")).toBe(4);
    expect(ev(e, "nr_dirtied")).toBe(0);
    expect(gauge(e, "nr_mlock")).toBe(4);
    expect(gauge(e, "nr_unevictable")).toBe(4);
    await run(e, [`2,munmap,1,${addr(0)},${4 * P},,,`]);
    expect(gauge(e, "nr_mlock")).toBe(0);
    expect(gauge(e, "nr_file_pages")).toBe(4); // still cached, evictable again
    expect(ev(e, "unevictable_pgs_rescued")).toBe(4);
  });

  it("mmap faults first: each page a major fault read into the oldest file generation; an fread then hits", async () => {
    const e = engine();
    await run(e, [mmap(0, 1, 8, "m"), ...Array.from({ length: 8 }, (_, k) => acc(1, 1, k))]);
    // fault-around finds nothing else cached each time: 8 faults, 8 reads, each read retried
    // (filemap_fault drops mmap_lock for it: VM_FAULT_RETRY, a second handle_mm_fault)
    expect(ev(e, "pgfault")).toBe(16);
    expect(ev(e, "pgmajfault")).toBe(8);
    expect(ev(e, "pgpgin")).toBe(32);
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    expect(lv.pagesIn(FILE, lv.minSeq[FILE]!)).toBe(8); // lru_gen_add_folio of an inactive folio
    await run(e, [`2,fread,1,,${8 * P},,m,0`]);
    expect(ev(e, "pgpgin")).toBe(32); // all 8 hit
    expect(e.mem.pageCache.nrPages).toBe(8);
    const pc = e.mem.pageCache;
    for (let k = 0; k < 8; k++) expect(pc.pcf[pte(e, 1, k) - 1]! & PC_REFERENCED).toBe(PC_REFERENCED);
  });

  it("zoneinfo's per-node nr_mapped counts the mapped cache pages only, nr_file_pages all of them", async () => {
    const e = engine();
    await run(e, [`0,fread,1,,${8 * P},,z,0`, mmap(1, 1, 2, "z"), acc(2, 1, 0)]);
    // the window of page 0 is the region's 2 pages: 2 of the 8 cached pages are mapped
    const text = formatZoneinfo(liveZoneinfo(e.mem, cpusByNodeOf(e.mem)));
    expect(text).toMatch(/\n\s+nr_mapped\s+2\n/);
    expect(text).toMatch(/\n\s+nr_file_pages\s+8\n/);
    expect(gauge(e, "nr_mapped")).toBe(2);
  });

  it("munmap keeps the pages cached (nr_file_pages 8, nr_mapped 8 -> 0); a new mapping finds them with one minor fault", async () => {
    const e = engine();
    await run(e, [mmap(0, 1, 8, "m"), ...Array.from({ length: 8 }, (_, k) => acc(1, 1, k)), `2,munmap,1,${addr(0)},${8 * P},,,`]);
    expect(gauge(e, "nr_file_pages")).toBe(8);
    expect(gauge(e, "nr_mapped")).toBe(0);
    expect(e.mem.procs.get(1)!.rssFile).toBe(0);
    expect(e.mem.pageCache.file("m")!.nrPages).toBe(8);
    await run(e, [mmap(3, 2, 8, "m"), acc(4, 2, 0)]);
    expect(ev(e, "pgfault")).toBe(17); // the window (pages 0..7) maps all 8: one minor fault
    expect(ev(e, "pgmajfault")).toBe(8);
    expect(e.mem.procs.get(2)!.rssFile).toBe(8);
    expect(gauge(e, "nr_mapped")).toBe(8);
  });
});

describe("writes through a shared mapping", () => {
  it("dirty the page once (nr_dirty, nr_dirtied); fsync writes it back; the next write faults again", async () => {
    const e = engine();
    await run(e, [mmap(0, 1, 4, "w"), acc(1, 1, 0, "w"), acc(2, 1, 0, "w"), acc(3, 1, 1, "r"), acc(4, 1, 1, "w")]);
    // w0: a major fault (do_shared_fault), dirtied; w0 again: the PTE is dirty, no fault;
    // r1: a major fault (page 0 is mapped, 2 and 3 not cached); w1: the write-protect fault
    // (wp_page_shared); each major fault is retried after its read: 2 + 2 + 1
    expect(ev(e, "pgfault")).toBe(5);
    expect(ev(e, "pgmajfault")).toBe(2);
    expect(ev(e, "nr_dirtied")).toBe(2);
    expect(gauge(e, "nr_dirty")).toBe(2);
    expect(e.mem.pages.flags[cachedPfn(e, "w", 1)]! & PG_DIRTY).toBe(PG_DIRTY);
    await run(e, [`5,fsync,1,,,,w,`]);
    expect(gauge(e, "nr_dirty")).toBe(0);
    expect(gauge(e, "nr_written")).toBe(2);
    expect(ev(e, "pgpgout")).toBe(8);
    // page_mkclean: the next write is a fault again, and dirties it again
    await run(e, [acc(6, 1, 0, "w")]);
    expect(ev(e, "pgfault")).toBe(6);
    expect(ev(e, "nr_dirtied")).toBe(3);
    expect(gauge(e, "nr_dirty")).toBe(1);
  });

  it("an fwrite dirties a mapped page: a write through the mapping then faults nothing", async () => {
    const e = engine();
    await run(e, [mmap(0, 1, 1, "x"), acc(1, 1, 0, "r"), `2,fwrite,1,,${P},,x,0`, acc(3, 1, 0, "w")]);
    expect(ev(e, "pgfault")).toBe(2); // the read fault only (a major one, retried after the read)
    expect(ev(e, "nr_dirtied")).toBe(1);
  });

  it("costs: a minor fault is cost.fault_ns alone, a major one adds cost.io_read_ns", async () => {
    const e = engine({ "cost.fault_ns": "1000", "cost.zero_page_ns": "500", "cost.io_read_ns": "100000" });
    await run(e, [`0,fread,1,,${P},,c,0`, mmap(1, 1, 2, "c"), acc(2, 1, 0), acc(3, 1, 1)]);
    // page 0: minor, 1 µs; page 1: major, 1 + 100 µs
    const h = e.stall.hist.toJson(K_FAULT);
    expect(h.count).toBe(2);
    expect(h.total_us).toBe(1 + 101);
    expect(h.max_us).toBe(101);
  });
});

describe("reclaim, truncate, delete", () => {
  it("MADV_PAGEOUT of a mapped page unmaps it and leaves a shadow; the next fault is a major fault and a refault", async () => {
    const e = engine();
    await run(e, [mmap(0, 1, 4, "r"), ...[0, 1, 2, 3].map((k) => acc(1, 1, k))]);
    // (the advice column is not in HDR: the madvise runs with its own header)
    await runCsv(e, ["time_ms,op,pid,addr,len,advice", `3,madvise,1,${addr(1)},${P},pageout`].join("\n"));
    expect(pte(e, 1, 1)).toBe(0);
    expect(e.mem.pageCache.file("r")!.at(1)).toBeLessThan(0); // a shadow entry
    expect(gauge(e, "nr_file_pages")).toBe(3);
    expect(gauge(e, "nr_mapped")).toBe(3);
    expect(e.mem.procs.get(1)!.rssFile).toBe(3);
    await run(e, [acc(4, 1, 1)]);
    expect(ev(e, "pgmajfault")).toBe(5);
    // evicted and refaulted with min_seq[FILE] 0 both times: a refault in a fault (activate, restore)
    expect(ev(e, "workingset_refault_file")).toBe(1);
    expect(ev(e, "workingset_activate_file")).toBe(1);
    expect(ev(e, "workingset_restore_file")).toBe(1);
  });

  it("MADV_PAGEOUT leaves a page two mms map alone (page_mapcount != 1)", async () => {
    const e = engine();
    await run(e, [mmap(0, 1, 1, "s"), mmap(0, 2, 1, "s"), acc(1, 1, 0), acc(1, 2, 0)]);
    expect(fileMapcount(e.mem.procs, cachedPfn(e, "s", 0))).toBe(2);
    await runCsv(e, ["time_ms,op,pid,addr,len,advice", `2,madvise,1,${addr(0)},${P},pageout`].join("\n"));
    expect(pte(e, 1, 0)).toBe(cachedPfn(e, "s", 0) + 1);
    expect(gauge(e, "nr_file_pages")).toBe(1);
  });

  for (const lru of ["mglru", "two-list"])
    it(`memory pressure (${lru}) evicts mapped pages from every mm that maps them; the cache, PTEs and counts agree`, async () => {
      // a 2048-page machine, a 3000-page file: both pids map pages 0..1499, pid 1 then 1500..2999
      const e = quietEngine(2048, lru === "two-list" ? { "lru_gen.enabled": "0" } : {}, { check: true });
      const rows = [mmap(0, 1, 3000, "big"), mmap(0, 2, 3000, "big")];
      for (let k = 0; k < 1500; k++) rows.push(acc(1, 1, k), acc(1, 2, k));
      for (let k = 1500; k < 3000; k++) rows.push(acc(2, 1, k));
      await run(e, rows);
      expect(ev(e, "pgsteal_file")).toBeGreaterThan(0);
      const f = e.mem.pageCache.file("big")!;
      let mapped = 0;
      let evictedShared = 0;
      for (let k = 0; k < 3000; k++) {
        const ent = f.at(k);
        // an evicted page (shadow) is mapped by no one; a cached one by pid 1, and by pid 2 below 1500
        expect(pte(e, 1, k)).toBe(ent > 0 ? ent : 0);
        if (k < 1500) expect(pte(e, 2, k)).toBe(ent > 0 ? ent : 0);
        if (ent > 0) mapped++;
        else if (k < 1500) evictedShared++;
      }
      expect(evictedShared).toBeGreaterThan(0); // try_to_unmap went through both mms
      expect(f.nrPages).toBe(mapped);
      expect(gauge(e, "nr_mapped")).toBe(mapped);
      expect(e.mem.procs.get(1)!.rssFile).toBe(mapped);
      expect(checkMemory(e.mem.mappingView())).toBeNull();
    });

  it("ftruncate unmaps and drops the pages past the new size; a fault there reads a new page (no refault)", async () => {
    const e = engine();
    await run(e, [mmap(0, 1, 8, "t"), ...Array.from({ length: 8 }, (_, k) => acc(1, 1, k))]);
    await run(e, [`2,ftruncate,1,,${3 * P + 1},,t,`]);
    // ceil((3 * 4096 + 1) / 4096) = 4: pages 4..7 go
    expect(e.mem.procs.get(1)!.rssFile).toBe(4);
    expect(gauge(e, "nr_mapped")).toBe(4);
    expect(gauge(e, "nr_file_pages")).toBe(4);
    expect(pte(e, 1, 5)).toBe(0);
    await run(e, [acc(3, 1, 5)]);
    expect(ev(e, "pgmajfault")).toBe(9);
    expect(ev(e, "workingset_refault_file")).toBe(0); // truncate dropped the shadows too
  });

  it("fdelete of a mapped file forgets the name; its pages stay mapped until the last mapping goes", async () => {
    const e = engine();
    await run(e, [mmap(0, 1, 4, "d"), ...[0, 1, 2, 3].map((k) => acc(1, 1, k)), `2,fdelete,1,,,,d,`]);
    expect(e.mem.pageCache.file("d")).toBeUndefined();
    expect(gauge(e, "nr_file_pages")).toBe(4);
    expect(e.mem.procs.get(1)!.rssFile).toBe(4);
    // the name is a new file now: its page is read afresh
    await run(e, [`3,fread,1,,${P},,d,0`]);
    expect(ev(e, "pgpgin")).toBe(5 * 4);
    expect(gauge(e, "nr_file_pages")).toBe(5);
    await run(e, [`4,munmap,1,${addr(0)},${4 * P},,,`]);
    expect(gauge(e, "nr_file_pages")).toBe(1);
    expect(gauge(e, "nr_mapped")).toBe(0);
  });
});

describe("several mms, fork, migration", () => {
  it("a forked child's fault maps the parent's cached page (minor); the child's exit drops its mapping only", async () => {
    const e = engine();
    await run(e, [mmap(0, 1, 4, "f"), acc(1, 1, 0)]);
    await runCsv(e, ["time_ms,op,pid,child", "2,fork,1,2"].join("\n"));
    await run(e, [acc(3, 2, 0)]);
    const pfn = cachedPfn(e, "f", 0);
    expect(ev(e, "pgmajfault")).toBe(1);
    expect(ev(e, "pgfault")).toBe(3); // the parent's major fault (retried: 2), the child's minor one
    expect(pte(e, 2, 0)).toBe(pfn + 1);
    expect(fileMapcount(e.mem.procs, pfn)).toBe(2);
    expect(gauge(e, "nr_mapped")).toBe(1); // one page, mapped twice
    await run(e, ["4,exit,2,,,,,"]);
    expect(e.mem.procs.get(1)!.rssFile).toBe(1);
    expect(fileMapcount(e.mem.procs, pfn)).toBe(1);
    expect(e.mem.pages.mflags[pfn]! & PG_FILE_MAPPED).toBe(PG_FILE_MAPPED);
  });

  it("migration of a page two mms map moves the file's entry and both PTEs", async () => {
    const e = engine();
    await run(e, [mmap(0, 1, 4, "g"), mmap(0, 2, 4, "g", 0, 0x400000), acc(1, 1, 3), acc(1, 2, 3, "r", 0x400000)]);
    const src = cachedPfn(e, "g", 3);
    const dst = e.mem.alloc.allocPages(0, MT_MOVABLE, GFP_HIGHUSER_MOVABLE, 0, 0);
    migratePage(e.mem.migrateCtx, src, dst);
    e.mem.alloc.freePages(src, 0);
    expect(cachedPfn(e, "g", 3)).toBe(dst);
    expect(pte(e, 1, 3)).toBe(dst + 1);
    expect(pte(e, 2, 3, 0x400000)).toBe(dst + 1);
    expect(fileMapcount(e.mem.procs, dst)).toBe(2);
    expect(e.mem.procs.fileMaps.has(src)).toBe(false);
    expect(checkMemory(e.mem.mappingView())).toBeNull();
    await run(e, [`2,fread,1,,${4 * P},,g,0`]);
    expect(ev(e, "pgpgin")).toBe(4 + 3 * 4); // page 3 hits; 0..2 are read now
  });
});

describe("compaction", () => {
  it("the compact op migrates mapped cache pages: the file's index and every PTE follow (--check after each event)", async () => {
    const e = engine();
    // files a and b read a page at a time, in turn, so their pages alternate through nearly all
    // of memory (free targets must lie in pageblocks not wholly free: suitable_migration_target);
    // pids 1 and 2 map a, fdelete b leaves a hole beside every page of a
    const rows: string[] = [];
    for (let k = 0; k < 2000; k++) rows.push(`0,fread,1,,${P},,a,${k * P}`, `0,fread,1,,${P},,b,${k * P}`);
    rows.push(mmap(1, 1, 2000, "a"), mmap(1, 2, 2000, "a", 0, 0x4000000));
    for (let k = 0; k < 2000; k += 16) rows.push(acc(2, 1, k), acc(2, 2, k, "r", 0x4000000));
    rows.push("3,fdelete,1,,,,b,");
    await run(e, rows);
    const before = Array.from({ length: 2000 }, (_, k) => cachedPfn(e, "a", k));
    await runCsv(e, ["time_ms,op", "4,compact"].join("\n"));
    const moved = Array.from({ length: 2000 }, (_, k) => cachedPfn(e, "a", k)).filter((p, k) => p !== before[k]).length;
    expect(moved).toBeGreaterThan(0);
    expect(ev(e, "pgmigrate_success")).toBeGreaterThanOrEqual(moved);
    for (let k = 0; k < 2000; k++) {
      expect(pte(e, 1, k)).toBe(cachedPfn(e, "a", k) + 1);
      expect(pte(e, 2, k, 0x4000000)).toBe(cachedPfn(e, "a", k) + 1);
    }
    expect(gauge(e, "nr_mapped")).toBe(2000);
    expect(e.mem.procs.get(2)!.rssFile).toBe(2000);
    expect(checkMemory(e.mem.mappingView())).toBeNull();
  });
});

describe("random traces under --check", () => {
  /** a seeded LCG (Numerical Recipes): the same trace every run */
  const lcg = (seed: number) => {
    let x = seed >>> 0;
    return (n: number) => {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      return x % n;
    };
  };
  for (const seed of [1, 2, 3])
    it(`seed ${seed}: mmap/access/munmap/fork/exit/fread/fwrite/fsync/ftruncate/fdelete/madvise/compact keep every invariant`, async () => {
      // a 384-page machine: the files (up to 208 pages each) and the mappings press on memory
      const e = quietEngine(384, {}, { check: true });
      const r = lcg(seed);
      // pid 1 runs first (a fork needs a parent that has run)
      const rows: string[] = ["time_ms,op,pid,addr,len,rw,file,off,advice,child", `0,mmap,1,0x100000,${P},,a,0,,`];
      const alive = new Set<number>([1]);
      let nextPid = 2;
      for (let t = 0; t < 1500; t++) {
        const pids = [...alive];
        const pid = pids[r(pids.length)]!;
        const file = ["a", "b", "c"][r(3)]!;
        const k = r(192);
        const base = 0x100000 + r(4) * 0x100000; // four 1 MiB slots of 256 pages
        const op = r(20);
        if (op < 3) rows.push(`${t},mmap,${pid},0x${base.toString(16)},${(1 + r(200)) * P},,${file},${r(64) * P},,`);
        else if (op < 11) rows.push(`${t},access,${pid},0x${(base + r(256) * P).toString(16)},,${r(3) ? "r" : "w"},,,,`);
        else if (op < 12) rows.push(`${t},munmap,${pid},0x${(base + r(128) * P).toString(16)},${(1 + r(128)) * P},,,,,`);
        else if (op < 13) rows.push(`${t},fread,${pid},,${(1 + r(16)) * P},,${file},${k * P},,`);
        else if (op < 14) rows.push(`${t},fwrite,${pid},,${(1 + r(16)) * P},,${file},${k * P},,`);
        else if (op < 15) rows.push(`${t},fsync,,,,,${file},,,`);
        else if (op < 16) rows.push(r(3) ? `${t},fsync,,,,,${file},,,` : r(4) ? `${t},ftruncate,,,${k * P},,${file},,,` : `${t},fdelete,,,,,${file},,,`);
        else if (op < 17) rows.push(`${t},madvise,${pid},0x${(base + r(256) * P).toString(16)},${(1 + r(32)) * P},,,,${["dontneed", "cold", "pageout"][r(3)]},`);
        else if (op < 18 && alive.size < 4) {
          rows.push(`${t},fork,${pid},,,,,,,${nextPid}`);
          alive.add(nextPid++);
        } else if (op < 19 && alive.size > 1) {
          rows.push(`${t},exit,${pid},,,,,,,`);
          alive.delete(pid);
        } else rows.push(`${t},compact,,,,,,,,`);
      }
      await runCsv(e, rows.join("\n"));
      expect(checkMemory(e.mem.mappingView())).toBeNull();
      // NR_FILE_MAPPED: the mapped cache pages, each with its file rmap
      expect(e.mem.pageCache.nrMapped).toBe(e.mem.procs.fileMaps.size);
      expect(ev(e, "pgfault")).toBeGreaterThan(0);
      expect(ev(e, "pgmajfault")).toBeGreaterThan(0);
      // coverage guard: seeds 1 and 2 press memory enough that reclaim takes file pages
      if (seed !== 3) expect(ev(e, "pgsteal_file")).toBeGreaterThan(0);
    });
});

describe("trace errors", () => {
  it("off without file, an unaligned off, a mapping past 64 GiB: exit 3 at the line", async () => {
    expect(await dataErrorOf(run(engine(), [`0,mmap,1,${addr(0)},${P},,,${P}`]))).toMatch(/t\.csv:2: mmap off 4096 needs file/);
    expect(await dataErrorOf(run(engine(), [`0,mmap,1,${addr(0)},${P},,f,100`]))).toMatch(/t\.csv:2: mmap off 100 is not page-aligned \(4096\)/);
    expect(await dataErrorOf(run(engine(), [`0,mmap,1,${addr(0)},${P},,f,${64 * 2 ** 30}`]))).toMatch(/t\.csv:2: mmap of file "f" reaches byte 68719480832/);
  });
});
