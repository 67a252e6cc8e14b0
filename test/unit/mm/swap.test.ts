/**
 * Issue 14 item 4: finite swap and swap readahead (KERNEL-REFERENCE-2 §10). Every figure is
 * counted by hand from 6.1's rules: swap_vma_readahead's window (__swapin_nr_pages, placement
 * by the direction of the last fault, clipped to the region and its 2 MiB PMD), one pgmajfault
 * per fault that reads, swap_ra per page read ahead, swap_ra_hit per swap cache hit;
 * get_swappiness 0 below MIN_LRU_BATCH (64) free swap slots. A 1024-page machine with no
 * watermarks, THP or page tables (quietEngine); a region of 64 pages at 256 MiB (one 2 MiB leaf).
 * vm.page-cluster is set to 3 (8 pages), its default on machines of 16 MiB or more: this one is
 * smaller, so swap_setup would give it 2.
 */
import { describe, expect, it } from "vitest";
import { DataError } from "../../../src/errors.js";
import { parseMachine, swapPages, type Machine } from "../../../src/machine/machine.js";
import { swapinNrPages } from "../../../src/mm/process.js";
import { counters, engineFor, quietEngine, runCsv } from "../../helpers.js";

const BASE = 0x10000000;
const B = BASE / 4096; // the region's first vpn
const N = 64;
const at = (k: number) => `0x${(BASE + k * 4096).toString(16)}`;
const RA = ["pgmajfault", "pgfault", "pswpin", "swap_ra", "swap_ra_hit", "nr_swapcached"];

/** A process with the 64-page region touched once, then every page swapped out. */
async function swappedOut(extra: Record<string, string> = {}) {
  const e = quietEngine(1024, { "vm.page-cluster": "3", ...extra }, { check: true });
  const lines = ["time_ms,op,pid,addr,len", `0,mmap,1,${at(0)},${N * 4096}`];
  for (let k = 0; k < N; k++) lines.push(`1,access,1,${at(k)},`);
  await runCsv(e, lines.join("\n") + "\n");
  const lv = e.mem.memcgs.root.lruvecs[0]!;
  expect(e.mem.reclaim.shrinkLruvec(lv, N, true)).toBe(N);
  expect([e.mem.procs.get(1)!.rssAnon, e.mem.shadows.swapUsed, counters(e, ["pswpout"]).pswpout]).toEqual([0, N, N]);
  return e;
}

async function touch(e: ReturnType<typeof quietEngine>, ks: number[], t = 10) {
  await runCsv(e, ["time_ms,op,pid,addr", ...ks.map((k) => `${t},access,1,${at(k)}`)].join("\n") + "\n");
}

describe("__swapin_nr_pages", () => {
  it("1 for a first or scattered fault, 2 next to the last, hits + 2 rounded up to a power of two, capped, never under half the last window", () => {
    expect(swapinNrPages(0, 10, 0, 8, 0)).toBe(1);
    expect(swapinNrPages(9, 10, 0, 8, 0)).toBe(2);
    expect(swapinNrPages(11, 10, 0, 8, 0)).toBe(2);
    expect(swapinNrPages(5, 10, 1, 8, 0)).toBe(4); // 3 -> 4
    expect(swapinNrPages(5, 10, 3, 8, 0)).toBe(8); // 5 -> 8
    expect(swapinNrPages(5, 10, 10, 8, 0)).toBe(8); // 12 -> 16, capped at 8
    expect(swapinNrPages(5, 10, 0, 8, 8)).toBe(4); // 1, but half of the last window
    expect(swapinNrPages(5, 10, 2, 32, 0)).toBe(4);
  });
});

describe("swap readahead (swap_vma_readahead)", () => {
  it("vm.page-cluster defaults to 3, or 2 below 16 MiB of RAM (swap_setup)", () => {
    expect(quietEngine(4096).settings.num("vm.page-cluster")).toBe(3);
    expect(quietEngine(4095).settings.num("vm.page-cluster")).toBe(2);
  });

  it("with page-cluster 2 the window stops at 4 pages: majors at 0, 1, 3, then every 4", async () => {
    const e = await swappedOut({ "vm.page-cluster": "2" });
    await touch(e, Array.from({ length: N }, (_, k) => k));
    // windows {0}, [1,3), then 15 of 4 pages [3,7), [7,11), ..., [59,63), and {63} (the region's
    // end): 2 + 15 + 1 = 18 majors; read ahead 1 + 15 * 3 = 46 (1 + 2 + 60 + 1 = 64 pages read).
    // Every major but the first has a window over one page (63's is 4, clamped to the region):
    // read asynchronously, so do_swap_page's folio_lock_or_retry retries: 17 more pgfaults
    expect(counters(e, RA)).toEqual({ pgmajfault: 18, pgfault: N + N + 17, pswpin: N, swap_ra: 46, swap_ra_hit: 46, nr_swapcached: 0 });
  });

  it("a sequential pass: majors at 0, 1, 3, 7, then every 8 pages; every page read ahead is hit", async () => {
    const e = await swappedOut();
    await touch(e, Array.from({ length: N }, (_, k) => k));
    // windows: {0}, [1,3), [3,7), [7,15), [15,23), ... [55,63), {63} (the region ends at 64)
    // majors 0,1,3,7,15,23,31,39,47,55,63 = 11; read ahead 0+1+3+7+6*7+0 = 53, all hit; each
    // major after the first (window 1, read with do_poll) is retried: 10 more pgfaults
    expect(counters(e, RA)).toEqual({ pgmajfault: 11, pgfault: N + N + 10, pswpin: N, swap_ra: 53, swap_ra_hit: 53, nr_swapcached: 0 });
    expect([e.mem.procs.get(1)!.rssAnon, e.mem.procs.get(1)!.swapEnts, e.mem.shadows.swapUsed]).toEqual([N, 0, 0]);
  });

  it("a descending pass places each window below the fault: the same counts", async () => {
    const e = await swappedOut();
    await touch(e, Array.from({ length: N }, (_, k) => N - 1 - k));
    // majors 63,62,60,56,48,40,32,24,16,8,0: windows {63}, (60,62], (56,60], (48,56], ... (0,8], {0}
    // (0's window is 8, clamped): 10 retried
    expect(counters(e, RA)).toEqual({ pgmajfault: 11, pgfault: N + N + 10, pswpin: N, swap_ra: 53, swap_ra_hit: 53, nr_swapcached: 0 });
  });

  it("scattered faults (not adjacent, no hits) read one page each", async () => {
    const e = await swappedOut();
    await touch(e, [10, 20, 30, 40, 12]);
    expect(counters(e, RA)).toEqual({ pgmajfault: 5, pgfault: N + 5, pswpin: 5, swap_ra: 0, swap_ra_hit: 0, nr_swapcached: 0 });
  });

  it("a centred window after hits, and pages read ahead but not yet used wait in the swap cache", async () => {
    const e = await swappedOut();
    // 10: win 1; 11: win 2 -> [11,13); 12 hit (hits 1, last 12); 20: not adjacent but hits 1 ->
    // win 4, centred: left (4-1)/2 = 1 -> [19,23): 19, 21, 22 read ahead and waiting
    await touch(e, [10, 11, 12, 20]);
    // 11's and 20's faults (windows 2 and 4) are retried: 4 accesses, 6 pgfaults
    expect(counters(e, RA)).toEqual({ pgmajfault: 3, pgfault: N + 6, pswpin: 7, swap_ra: 4, swap_ra_hit: 1, nr_swapcached: 3 });
    const mm = e.mem.procs.get(1)!;
    // mapped: 10, 11, 12, 20; in the swap cache 19, 21, 22 (still swap entries and slots)
    expect([mm.rssAnon, mm.swapEnts, e.mem.shadows.swapUsed, counters(e, ["nr_anon_pages"]).nr_anon_pages]).toEqual([4, N - 4, N - 4, 4]);
  });

  it("vm.page-cluster 0 reads the faulting page alone", async () => {
    const e = await swappedOut({ "vm.page-cluster": "0" });
    await touch(e, Array.from({ length: N }, (_, k) => k));
    expect(counters(e, RA)).toEqual({ pgmajfault: N, pgfault: N + N, pswpin: N, swap_ra: 0, swap_ra_hit: 0, nr_swapcached: 0 });
  });

  it("the window stops at the 2 MiB leaf: a region across two leaves", async () => {
    const e = quietEngine(2048, { "vm.page-cluster": "3" }, { check: true });
    // region [B+500, B+530) crosses the leaf boundary at B+512
    const lines = ["time_ms,op,pid,addr,len", `0,mmap,1,${at(500)},${30 * 4096}`];
    for (let k = 500; k < 530; k++) lines.push(`1,access,1,${at(k)},`);
    await runCsv(e, lines.join("\n") + "\n");
    e.mem.reclaim.shrinkLruvec(e.mem.memcgs.root.lruvecs[0]!, 30, true);
    // 506: win 1; 507: 2 -> [507,509); 508 hit (hits 1); 509: 3 -> 4 -> [509,513), clipped to
    // the leaf's end 512: 510 and 511 read ahead, not 512
    await touch(e, [506, 507, 508, 509]);
    expect(counters(e, ["pgmajfault", "swap_ra", "swap_ra_hit", "nr_swapcached"])).toEqual({ pgmajfault: 3, swap_ra: 3, swap_ra_hit: 1, nr_swapcached: 2 });
    // 512 after 509, no hit since: not adjacent, but half the last window (4 / 2 = 2): centred,
    // left (2 - 1) >> 1 = 0 -> [512,514): 513 read ahead
    await touch(e, [512], 20);
    expect(counters(e, ["pgmajfault", "swap_ra", "nr_swapcached"])).toEqual({ pgmajfault: 4, swap_ra: 4, nr_swapcached: 3 });
  });

  it("reclaim drops a page waiting in the swap cache without writing it; its next access is a major fault again", async () => {
    const e = await swappedOut();
    await touch(e, [0, 1]); // 1 reads 2 ahead
    expect(counters(e, ["nr_swapcached", "swap_ra"])).toEqual({ nr_swapcached: 1, swap_ra: 1 });
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    const ra = Array.from({ length: 1024 }, (_, pfn) => pfn).filter((pfn) => e.mem.lru.lruvecOf[pfn] !== 0);
    expect(ra.map((pfn) => e.mem.lru.seqOf(lv, pfn))).toEqual([lv.maxSeq, lv.maxSeq, lv.maxSeq]);
    // the page read ahead went to the youngest generation with the two mapped ones (folio_add_lru
    // inside the fault makes it active), added after them: the list from its tail is 0, 1, 2.
    // Aging clears 0's and 1's accessed bits without moving them (they are in max_seq), so
    // evicting three writes 0 and 1 (new slots) and drops 2 without writing it, its slot kept
    expect(e.mem.reclaim.shrinkLruvec(lv, 3, true)).toBe(3);
    expect(counters(e, ["pswpout", "pgsteal_anon", "nr_swapcached"])).toEqual({ pswpout: N + 2, pgsteal_anon: N + 3, nr_swapcached: 0 });
    expect(e.mem.shadows.swapUsed).toBe(N); // N - 2 after the touches, + 2 written
    await touch(e, [2], 20);
    // 2 after 1 (no hit since): adjacent -> 2 pages [2,4): a major fault, 3 read ahead
    expect(counters(e, ["pgmajfault", "swap_ra", "swap_ra_hit"])).toEqual({ pgmajfault: 3, swap_ra: 2, swap_ra_hit: 0 });
  });
});

describe("finite swap", () => {
  const machine = (swap?: number | string): Machine => {
    const m: Record<string, unknown> = { name: "t", nodes: [{ id: 0, mem: 1024 }] };
    if (swap !== undefined) m.swap = swap;
    return parseMachine(m, "m.json", () => 1);
  };

  it("the machine's swap: a size or pages, 0 = none, default twice the memory", () => {
    expect(swapPages(machine())).toBe(2048);
    expect(swapPages(machine("1G"))).toBe(262144);
    expect(swapPages(machine(100))).toBe(100);
    expect(swapPages(machine(0))).toBe(0);
    expect(swapPages(machine("0"))).toBe(0);
  });

  it("a bad swap size is a data error at its line", () => {
    for (const [v, want] of [
      [-1, "m.json:1: swap: expected a positive page count or a size like 4G, got -1 (0 for no swap)"],
      ["4X", 'm.json:1: swap: expected a size like 512M, 4G or a page count, got "4X" (0 for no swap)'],
      [true, "m.json:1: swap must be a size like \"4G\", a page count, or 0 for none, got true"],
    ] as const) {
      let msg = "(no error)";
      try {
        machine(v as never);
      } catch (e) {
        msg = (e as DataError).message;
      }
      expect(msg).toBe(want);
    }
  });

  it("a full device stops anon reclaim: with 100 slots, swap-out stops once fewer than 64 are free (37 pages)", async () => {
    const e = engineFor(machine(100), { check: true }, { "transparent_hugepage.enabled": "never" });
    await runCsv(e, ["time_ms,op,pid,addr", ...Array.from({ length: 200 }, (_, k) => `0,access,1,${at(k)}`)].join("\n") + "\n");
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    // slot 37 would leave 100 - 37 = 63 < MIN_LRU_BATCH free: get_swappiness returns 0 before it
    expect(e.mem.reclaim.shrinkLruvec(lv, 200, true)).toBe(37);
    expect([counters(e, ["pswpout"]).pswpout, e.mem.shadows.swapUsed, e.mem.reclaim.swappinessOf(lv)]).toEqual([37, 37, 0]);
  });

  it("no swap: anon is never reclaimed, so anon larger than RAM is OOM-killed even at swappiness 60", async () => {
    const e = engineFor(machine(0), { check: true, lenient: true }, {
      "transparent_hugepage.enabled": "never", "vm.min_free_kbytes": "0", "vm.watermark_scale_factor": "1", "vm.watermark_boost_factor": "0",
    });
    await runCsv(e, ["time_ms,op,pid,addr", ...Array.from({ length: 1100 }, (_, k) => `${k},access,1,${at(k)}`)].join("\n") + "\n");
    expect(counters(e, ["pswpout", "oom_kill", "wsim_oom_victim_events", "nr_free_pages"])).toEqual({ pswpout: 0, oom_kill: 1, wsim_oom_victim_events: 75, nr_free_pages: 1024 });
  });

  it("slots are freed at swap-in, munmap and exit", async () => {
    const e = await swappedOut({ "vm.page-cluster": "0" });
    await touch(e, [0, 2, 4, 6, 8]); // 5 swapped in
    expect(e.mem.shadows.swapUsed).toBe(N - 5);
    // munmap pages 0..15: 5 of them mapped (0, 2, 4, 6, 8), 11 swap entries whose slots go
    await runCsv(e, `time_ms,op,pid,addr,len\n20,munmap,1,${at(0)},${16 * 4096}\n`);
    expect([e.mem.shadows.swapUsed, e.mem.procs.get(1)!.swapEnts]).toEqual([N - 16, N - 16]);
    await runCsv(e, "time_ms,op,pid\n30,exit,1\n");
    expect([e.mem.shadows.swapUsed, e.mem.shadows.inUse]).toEqual([0, 0]);
  });
});
