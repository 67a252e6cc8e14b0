// The page cache outside mappings (issue 15 item 2; src/mm/pagecache.ts, KERNEL-REFERENCE-2 §7).
// Every expectation is counted by hand from the trace it runs, --check after every event.
//
// quietEngine(4096): one flat zone of 4096 pages, all free, no watermarks and no lowmem
// reserve, so totalreserve_pages = 0 and global_dirtyable_memory = free + file LRU + 1 = 4097
// for as long as pages only move from free to the file LRU. domain_dirty_limits: ratio =
// 20 * 4096 / 100 = 819 per page, thresh = 819 * 4097 / 4096 = 819 (819.2 rounded down);
// bg_ratio = 10 * 4096 / 100 = 409, bg_thresh = 409 * 4097 / 4096 = 409. The free run ends at
// (819 + 409) / 2 = 614 dirty + writeback pages.
import { describe, expect, it } from "vitest";
import { V } from "../../../src/stats/counters.js";
import { FILE } from "../../../src/mm/lru-gen.js";
import { PC_RECLAIM, PC_REFERENCED, PC_WORKINGSET } from "../../../src/mm/pagecache.js";
import { dataErrorOf, quietEngine, runCsv } from "../../helpers.js";
import type { Engine } from "../../../src/engine/engine.js";

const HDR = "time_ms,op,pid,file,off,len";
const run = (e: Engine, rows: string[]) => runCsv(e, [HDR, ...rows].join("\n"));
const engine = (sets: Record<string, string> = {}) => quietEngine(4096, sets, { check: true });
const P = 4096;
const pfnOf = (e: Engine, name: string, idx: number) => e.mem.pageCache.file(name)!.at(idx) - 1;
const gauge = (e: Engine, k: keyof typeof V) => e.mem.vmstat()[V[k]]!;

describe("reads", () => {
  it("a first read allocates and reads each page into the oldest file generation; a re-read hits", async () => {
    const e = engine();
    await run(e, [`0,fread,1,data,0,${10 * P}`]);
    const ev = e.mem.ev;
    expect(ev[V.pgpgin]).toBe(40); // 10 pages read, in KiB
    expect(ev[V.pgalloc_normal]).toBe(10);
    expect(ev[V.pgfault]).toBe(0); // read() faults nothing
    expect(ev[V.pgmajfault]).toBe(0);
    expect(gauge(e, "nr_file_pages")).toBe(10);
    expect(gauge(e, "nr_mapped")).toBe(0);
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    expect(lv.pagesIn(FILE, lv.minSeq[FILE]!)).toBe(10); // lru_gen_add_folio: not active -> min_seq
    expect(gauge(e, "nr_inactive_file")).toBe(10);
    await run(e, [`1,fread,1,data,0,${10 * P}`, `2,fread,1,data,${5 * P},${2 * P}`]);
    expect(ev[V.pgpgin]).toBe(40); // all hits
    expect(ev[V.pgalloc_normal]).toBe(10);
    expect(e.mem.pageCache.nrPages).toBe(10);
  });

  it("marks pages accessed as folio_inc_refs does: referenced, workingset, then refs; not twice within one page", async () => {
    const e = engine();
    await run(e, [`0,fread,1,f,0,${2 * P}`]);
    const pc = e.mem.pageCache;
    const p0 = pfnOf(e, "f", 0);
    const p1 = pfnOf(e, "f", 1);
    expect(pc.pcf[p0]! & PC_REFERENCED).toBe(PC_REFERENCED); // 1st access: PG_referenced
    expect(pc.refsOf(p0)).toBe(0);
    await run(e, [`1,fread,1,f,0,${P}`]); // 2nd access of page 0: PG_workingset
    expect(pc.pcf[p0]! & PC_WORKINGSET).toBe(PC_WORKINGSET);
    expect(pc.refsOf(p0)).toBe(1);
    // this read ended at byte 4096, in page 0; the next starts at 4096, in page 1: marked
    await run(e, [`2,fread,1,f,${P},100`]);
    expect(pc.refsOf(p1)).toBe(1);
    // the previous read ended at byte 4196 (page 1): a read from 4196 in page 1 is not marked again
    await run(e, [`3,fread,1,f,${P + 100},100`]);
    expect(pc.refsOf(p1)).toBe(1);
    // three more reads of page 0 from elsewhere: LRU_REFS 1, 2, 3, then saturated
    await run(e, [`4,fread,1,f,0,1`, `5,fread,1,f,${P},1`, `6,fread,1,f,0,1`, `7,fread,1,f,${P},1`, `8,fread,1,f,0,1`, `9,fread,1,f,${P},1`, `10,fread,1,f,0,1`]);
    expect(pc.refsOf(p0)).toBe(4); // 3 refs bits + workingset
  });

  it("a file larger than memory: the first pages are evicted to shadows and refault through them", async () => {
    const e = engine();
    await run(e, [`0,fread,1,big,0,${6000 * P}`]);
    const f = e.mem.pageCache.file("big")!;
    // every page is either cached or a shadow entry in the file's index
    expect(f.nrPages + e.mem.shadows.inUse).toBe(6000);
    expect(f.nrPages).toBeLessThanOrEqual(4096);
    expect(e.mem.ev[V.pgsteal_file]).toBe(6000 - f.nrPages);
    // eviction takes the oldest generation's tail: the first pages read
    for (let i = 0; i < 100; i++) expect(f.at(i)).toBeLessThan(0);
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    expect(lv.minSeq[FILE]).toBe(0); // reads fill min_seq, which never emptied: the shadows' tokens match
    await run(e, [`1,fread,1,big,0,${100 * P}`]);
    expect(e.mem.ev[V.pgpgin]).toBe(4 * 6100);
    expect(e.mem.ev[V.workingset_refault_file]).toBe(100);
    // read() refaults are neither activated nor restored (no in_lru_fault, refs not saturated)
    expect(e.mem.ev[V.workingset_activate_file]).toBe(0);
    expect(e.mem.ev[V.workingset_restore_file]).toBe(0);
  });

  it("a write over a shadow entry registers no refault (__GFP_WRITE)", async () => {
    const e = engine();
    await run(e, [`0,fread,1,big,0,${6000 * P}`, `1,fwrite,1,big,0,${10 * P}`]);
    expect(e.mem.ev[V.workingset_refault_file]).toBe(0);
    expect(e.mem.ev[V.pgpgin]).toBe(4 * 6000); // a write reads nothing (wsim: no read-modify-write)
  });
});

describe("dirty pages and writeback", () => {
  it("a write dirties each page once; background writeback starts above bg_thresh (409) and writes the excess", async () => {
    const e = engine();
    // 414 pages in one write: balance_dirty_pages every 32 pages finds nr_dirty <= 409 until the
    // end (414), then writes back 414 - 409 = 5 pages, lowest index first
    await run(e, [`0,fwrite,1,log,0,${414 * P}`]);
    expect(e.mem.ev[V.nr_dirtied]).toBe(414);
    expect(gauge(e, "nr_dirty")).toBe(409);
    expect(gauge(e, "nr_writeback")).toBe(5); // 40 µs a page: none done at t = 0
    expect(gauge(e, "nr_zone_write_pending")).toBe(414);
    expect(gauge(e, "nr_written")).toBe(0);
    const flags = e.mem.pages.flags;
    for (let i = 0; i < 5; i++) expect(flags[pfnOf(e, "log", i)]! & 64).toBe(0); // PG_dirty cleared for I/O
    expect(flags[pfnOf(e, "log", 5)]! & 64).toBe(64);
    expect(gauge(e, "wsim_dirty_throttle_ms")).toBe(0); // 414 <= 614: the free run
    // rewriting a dirty page dirties nothing new
    await run(e, [`1,fwrite,1,log,${100 * P},${P}`, `2,fsync,,none,,`]);
    expect(e.mem.ev[V.nr_dirtied]).toBe(414);
    expect(gauge(e, "nr_written")).toBe(5); // done by 0.2 ms
    expect(gauge(e, "nr_writeback")).toBe(0);
    expect(e.mem.ev[V.pgpgout]).toBe(20);
  });

  it("the flusher writes back a file dirty longer than dirty_expire_centisecs, at its 5 s ticks", async () => {
    const e = engine();
    // dirtied at 0: the flusher is armed for 5000 ms and re-arms; at 30000 the inode is 30 s old
    await run(e, [`0,fwrite,1,a,0,${10 * P}`, `29999,fsync,,none,,`]);
    expect(gauge(e, "nr_dirty")).toBe(10);
    expect(gauge(e, "nr_written")).toBe(0);
    await run(e, [`30001,fsync,,none,,`]);
    expect(gauge(e, "nr_dirty")).toBe(0);
    expect(gauge(e, "nr_written")).toBe(10); // started at 30000, done by 30000.4
    expect(e.mem.ev[V.pgpgout]).toBe(40);
  });

  it("dirty_expire_centisecs=1000: the 10 s tick writes it back", async () => {
    const e = engine({ "vm.dirty_expire_centisecs": "1000" });
    await run(e, [`0,fwrite,1,a,0,${3 * P}`, `9999,fsync,,none,,`]);
    expect(gauge(e, "nr_written")).toBe(0);
    await run(e, [`10001,fsync,,none,,`]);
    expect(gauge(e, "nr_written")).toBe(3);
  });

  it("fsync writes back and waits for the file's dirty pages, not another file's", async () => {
    const e = engine();
    await run(e, [`0,fwrite,1,a,0,${8 * P}`, `0,fwrite,1,b,0,${2 * P}`, `1,fsync,1,a,,`]);
    expect(gauge(e, "nr_written")).toBe(8);
    expect(gauge(e, "nr_dirty")).toBe(2);
    expect(gauge(e, "nr_writeback")).toBe(0);
    expect(e.mem.ev[V.pgpgout]).toBe(32);
    expect(e.mem.pageCache.file("a")!.dirtiedWhen).toBe(-1); // the inode is clean again
  });

  it("balance_dirty_pages pauses the writer above the free run by pages / (INIT_BW * pos_ratio)", async () => {
    // bg_ratio 0: background writeback of everything at each balance; a page's I/O takes 1 s, so
    // nothing completes: dirty + writeback = pages written. Balances at 32, 64, ..., 384 are <=
    // 409 (freerun = (819 + 0) / 2); at 416: setpoint = (409 + 819) / 2 = 614,
    // x = (614 - 416) / (819 - 614) = 198 / 205, pos_ratio = 1 + x^3, pause = 1000 * 32 / (25600 * pos_ratio) ms
    const e = engine({ "vm.dirty_background_ratio": "0", "cost.io_write_ns": "1000000000" });
    await run(e, [`0,fwrite,1,a,0,${416 * P}`]);
    const x = 198 / 205;
    expect(e.mem.pageCache.throttleMs).toBeCloseTo((1000 * 32) / (25600 * (1 + x * x * x)), 9);
    expect(gauge(e, "nr_writeback")).toBe(416);
    expect(gauge(e, "nr_dirty")).toBe(0);
  });
});

describe("reclaim of dirty cache pages (MGLRU sort_folio)", () => {
  it("dirty pages are passed over to min_seq + 1 with PG_reclaim, never written by reclaim; writeback's end rotates them", async () => {
    const e = engine();
    // 300 dirty pages (below bg_thresh 409), then a 5000-page read pushes them to the oldest tail
    await run(e, [`0,fwrite,1,a,0,${300 * P}`, `1,fread,1,b,0,${5000 * P}`]);
    const a = e.mem.pageCache.file("a")!;
    expect(a.nrPages).toBe(300);
    expect(gauge(e, "nr_dirty")).toBe(300);
    expect(e.mem.ev[V.nr_vmscan_write]).toBe(0);
    expect(e.mem.ev[V.pgrefill]).toBeGreaterThanOrEqual(300);
    for (let i = 0; i < 300; i++) expect(e.mem.pageCache.pcf[pfnOf(e, "a", i)]! & PC_RECLAIM).toBe(PC_RECLAIM);
    const b = e.mem.pageCache.file("b")!;
    expect(b.nrPages + e.mem.shadows.inUse).toBe(5000);
    // fsync: every page's writeback ends with PG_reclaim set: folio_rotate_reclaimable
    await run(e, [`2,fsync,1,a,,`]);
    expect(e.mem.ev[V.pgrotated]).toBe(300);
    expect(gauge(e, "nr_written")).toBe(300);
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    // the rotated pages sit at the oldest generation's tail: the next eviction takes a's page 299 first
    expect(lv.tail[FILE * 16 + (lv.minSeq[FILE]! % 16)]).toBe(pfnOf(e, "a", 299));
  });
});

describe("ftruncate and fdelete", () => {
  it("free exactly the file's pages past the new size, and a deleted file's pages and shadows", async () => {
    const e = engine();
    await run(e, [`0,fread,1,a,0,${10 * P}`, `0,fread,1,b,0,${6 * P}`, `1,ftruncate,,a,,${P + 1}`]);
    expect(e.mem.ev[V.pgfree]).toBe(8); // indices 2..9 (ceil(4097 / 4096) = 2 pages stay)
    expect(gauge(e, "nr_file_pages")).toBe(8);
    await run(e, [`2,fdelete,,b,,`]);
    expect(e.mem.ev[V.pgfree]).toBe(14);
    expect(gauge(e, "nr_file_pages")).toBe(2);
    expect(e.mem.pageCache.file("b")).toBeUndefined();
    await run(e, [`3,ftruncate,,a,,0`]);
    expect(gauge(e, "nr_file_pages")).toBe(0);
    expect(e.mem.freePages()).toBe(4096);
  });

  it("truncating dirty pages cancels their dirty state: nothing is written", async () => {
    const e = engine();
    await run(e, [`0,fwrite,1,c,0,${3 * P}`, `1,ftruncate,1,c,,0`]);
    expect(gauge(e, "nr_dirty")).toBe(0);
    expect(e.mem.ev[V.nr_dirtied]).toBe(3);
    expect(gauge(e, "nr_written")).toBe(0);
  });

  it("fdelete of a file larger than memory frees its pages and its shadow entries", async () => {
    const e = engine();
    await run(e, [`0,fread,1,big,0,${5000 * P}`, `1,fdelete,1,big,,`]);
    expect(e.mem.shadows.inUse).toBe(0);
    expect(e.mem.freePages()).toBe(4096);
  });

  it("a memcg named by the event (no pid) is charged", async () => {
    const e = engine();
    await runCsv(e, ["time_ms,op,file,len,cg", `0,fread,f,${3 * P},/a`].join("\n"));
    const lv = e.mem.memcgs.get("/a")!.lruvecs[0]!;
    expect(lv.total[FILE]).toBe(3);
  });
});

describe("bad events", () => {
  it("a file beyond 64 GiB is a data error at its line", async () => {
    const e = engine();
    expect(await dataErrorOf(run(e, [`0,fread,1,f,${64 * 2 ** 30},1`]))).toMatch(/t\.csv:2: fread of file "f" reaches byte 68719476737/);
  });
});
