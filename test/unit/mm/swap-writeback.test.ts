import { describe, expect, it } from "vitest";
import { counters, engineFor, runCsv, smallMachine } from "../../helpers.js";
import { V } from "../../../src/stats/counters.js";
import { Engine } from "../../../src/engine/engine.js";
import { Settings } from "../../../src/machine/settings.js";
import { checkMemory } from "../../../src/mm/check.js";

/**
 * wsim.swap_writeback=1 (swap-writeback.ts): an anon page reclaim swaps out stays allocated, in
 * the swap cache under writeback, until the swap device completes its write; one page takes
 * cost.io_write_ns, here 1 ms, so the k-th page written from an idle device at t = 0 completes
 * at k ms.
 */
const ON = { "wsim.swap_writeback": "1", "cost.io_write_ns": "1000000" };

/** 10 anon pages of pid 1 faulted at t = 0, aged twice: none referenced, all in the oldest anon generation. */
async function tenPages(extra: Record<string, string> = {}): Promise<Engine> {
  const e = engineFor(smallMachine("4M"), { check: true }, { ...ON, ...extra });
  const lines = ["time_ms,op,pid,addr"];
  for (let i = 0; i < 10; i++) lines.push(`0,access,1,${i * 4096}`);
  await runCsv(e, lines.join("\n"));
  const lv = e.mem.memcgs.root.lruvecs[0]!;
  e.mem.age(lv);
  e.mem.age(lv);
  return e;
}

/** the pfn at the tail of lruvec lv's oldest generation with pages (the next one a scan takes) */
function oldestTail(e: Engine): number {
  const lv = e.mem.memcgs.root.lruvecs[0]!;
  for (let seq = lv.minSeq[0]!; seq <= lv.maxSeq; seq++) if (lv.pagesIn(0, seq)) return lv.tail[seq % 16]!;
  return -1;
}

const C = ["pgscan_kswapd", "pswpout", "pgsteal_anon", "pgsteal_kswapd", "nr_swapcached", "nr_writeback", "nr_written", "nr_anon_pages", "nr_free_pages", "pgrotated", "pgrefill", "pgfault", "pgmajfault", "pswpin", "swap_ra_hit"];

describe("anon swap-out under writeback (wsim.swap_writeback=1)", () => {
  it("a page written out is not freed until its write ends; the end rotates it to the oldest generation's tail; the next scan frees it", async () => {
    const e = await tenPages();
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    const p = oldestTail(e);
    const b = counters(e, C);
    // one page isolated (budget 1), written: nothing reclaimed
    expect(e.mem.reclaim.shrinkLruvec(lv, Infinity, true, 1)).toBe(0);
    let c = counters(e, C);
    expect(c.pgscan_kswapd! - b.pgscan_kswapd!).toBe(1);
    expect(c.pswpout! - b.pswpout!).toBe(1);
    expect(c.pgsteal_anon! - b.pgsteal_anon!).toBe(0);
    // still allocated: out of nr_anon_pages (unmapped), into the swap cache and nr_writeback
    expect(c.nr_free_pages).toBe(b.nr_free_pages);
    expect(c.nr_anon_pages).toBe(9);
    expect(c.nr_swapcached).toBe(1);
    expect(c.nr_writeback).toBe(1);
    // put back at min_seq + 1 (lru_gen_add_folio: reclaiming, under writeback)
    expect(e.mem.lru.seqOf(lv, p)).toBe(lv.minSeq[0]! + 1);
    expect(e.mem.swapWb.writeback(p)).toBe(true);
    // written from an idle device at t = 0: done at 0 + 1 ms
    expect(e.mem.swapWb.nrWriteback(0.999)).toBe(1);
    expect(e.mem.swapWb.nrWriteback(1)).toBe(0);

    // t = 2 ms (another process's fault moves the clock; no reclaim): the write is done
    await runCsv(e, "time_ms,op,pid,addr\n2,access,2,0\n");
    c = counters(e, C);
    expect(c.nr_writeback).toBe(0);
    expect(c.nr_written! - b.nr_written!).toBe(1);
    // the next scan applies the completion first: rotated to the oldest generation's tail, so
    // it is the page this one-page scan takes, and frees (clean, in the swap cache: no write)
    expect(e.mem.reclaim.shrinkLruvec(lv, Infinity, true, 1)).toBe(1);
    c = counters(e, C);
    expect(c.pgrotated! - b.pgrotated!).toBe(1);
    expect(c.pgscan_kswapd! - b.pgscan_kswapd!).toBe(2); // isolated twice
    expect(c.pswpout! - b.pswpout!).toBe(1); // written once
    expect(c.pgsteal_anon! - b.pgsteal_anon!).toBe(1);
    expect(c.nr_swapcached).toBe(0);
    expect(e.mem.pages.flags[p]! & 4).toBe(0); // PG_ALLOC clear: freed
    // pid 2's page came from the free lists, p went back to them: the same count as at the start
    expect(c.nr_free_pages).toBe(b.nr_free_pages);
    // its swap slot keeps the data (the PTE holds the swap entry)
    expect(e.mem.shadows.swapUsed).toBe(1);
  });

  it("a scan meeting pages under writeback passes over them: min_seq + 1, pgrefill, no pgscan; they use up the lruvec's scan budget", async () => {
    const e = await tenPages();
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    expect(e.mem.reclaim.shrinkLruvec(lv, Infinity, true, 10)).toBe(0); // all 10 written
    e.mem.age(lv); // a new youngest generation, so the oldest (with the 10) is above MIN_NR_GENS
    const min = lv.minSeq[0]!;
    const b = counters(e, C);
    // the 10 wait for their writes (done at 1..10 ms; now is 0): each sorted to min_seq + 1
    expect(e.mem.reclaim.shrinkLruvec(lv, Infinity, true, 100, false, true)).toBe(0);
    expect(e.mem.reclaim.lastScanned).toBe(0);
    expect(e.mem.reclaim.lastSorted).toBe(10);
    const c = counters(e, C);
    expect(c.pgrefill! - b.pgrefill!).toBe(10);
    expect(c.pgscan_kswapd! - b.pgscan_kswapd!).toBe(0);
    expect(c.nr_writeback).toBe(10);
    // min_seq was 3 with generation 3 empty (the 10 went to 4 when written) and max_seq 6:
    // try_to_inc_min_seq to 4, the 10 sorted into 5, then to 5: 2 generations left (MIN_NR_GENS),
    // nothing more to scan
    expect(min).toBe(3);
    expect(lv.maxSeq).toBe(6);
    expect(lv.minSeq[0]).toBe(5);
    expect(lv.pagesIn(0, 5)).toBe(10);
  });

  it("a fault on a page under writeback is a minor swap-cache hit (swap_ra_hit: PG_readahead is PG_reclaim); its end then rotates nothing", async () => {
    const e = await tenPages();
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    const p = oldestTail(e);
    const vpn = e.mem.ownerVpn[p]!;
    expect(e.mem.reclaim.shrinkLruvec(lv, Infinity, true, 1)).toBe(0);
    const b = counters(e, C);
    // t = 0.5 ms, the write (done at 1 ms) in flight: do_swap_page finds the page in the swap cache
    await runCsv(e, `time_ms,op,pid,addr\n0.5,access,1,${vpn * 4096}\n`);
    let c = counters(e, C);
    expect(c.pgfault! - b.pgfault!).toBe(1);
    expect(c.pgmajfault! - b.pgmajfault!).toBe(0);
    expect(c.pswpin! - b.pswpin!).toBe(0);
    expect(c.swap_ra_hit! - b.swap_ra_hit!).toBe(1);
    expect(c.nr_swapcached).toBe(0);
    expect(c.nr_anon_pages).toBe(10); // mapped again
    expect(c.nr_writeback).toBe(1); // the write goes on
    expect(e.mem.shadows.swapUsed).toBe(0); // the slot is freed at the mapping (wsim's simplification)
    // the write ends at 1 ms: nr_written, but PG_reclaim was cleared by the hit: no rotation
    await runCsv(e, "time_ms,op,pid,addr\n2,access,2,0\n");
    e.mem.age(lv); // applies the completions due
    c = counters(e, C);
    expect(c.nr_writeback).toBe(0);
    expect(c.nr_written! - b.nr_written!).toBe(1);
    expect(c.pgrotated! - b.pgrotated!).toBe(0);
    expect(e.mem.swapWb.writeback(p)).toBe(false);
  });

  it("a fault after the write ended is a minor fault without swap_ra_hit", async () => {
    const e = await tenPages();
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    const p = oldestTail(e);
    const vpn = e.mem.ownerVpn[p]!;
    expect(e.mem.reclaim.shrinkLruvec(lv, Infinity, true, 1)).toBe(0);
    const b = counters(e, C);
    await runCsv(e, `time_ms,op,pid,addr\n3,access,1,${vpn * 4096}\n`);
    const c = counters(e, C);
    expect(c.pgfault! - b.pgfault!).toBe(1);
    expect(c.pgmajfault! - b.pgmajfault!).toBe(0);
    expect(c.swap_ra_hit! - b.swap_ra_hit!).toBe(0);
    // the completion (at 1 ms) was applied first: rotated, written
    expect(c.pgrotated! - b.pgrotated!).toBe(1);
    expect(c.nr_written! - b.nr_written!).toBe(1);
    expect(c.nr_anon_pages).toBe(10);
  });

  it("nr_writeback counts the writes not done at the time read; the device completes them one after another (FIFO)", async () => {
    const e = await tenPages();
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    expect(e.mem.reclaim.shrinkLruvec(lv, Infinity, true, 3)).toBe(0);
    // done at 1, 2 and 3 ms
    expect(e.mem.swapWb.nrWriteback(0)).toBe(3);
    expect(e.mem.swapWb.nrWriteback(1.5)).toBe(2);
    expect(e.mem.swapWb.nrWriteback(2.5)).toBe(1);
    expect(e.mem.swapWb.nrWriteback(3)).toBe(0);
    // a vmstat at 2.5 ms: 1 in flight, 2 written
    await runCsv(e, "time_ms,op,pid,addr\n2.5,access,2,0\n");
    expect(counters(e, ["nr_writeback", "nr_written", "nr_zone_write_pending"])).toEqual({ nr_writeback: 1, nr_written: 2, nr_zone_write_pending: 1 });
  });

  it("munmap of a page under writeback frees it and its slot; its write leaves the queue (counted written, not rotated)", async () => {
    const e = await tenPages();
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    expect(e.mem.reclaim.shrinkLruvec(lv, Infinity, true, 2)).toBe(0);
    await runCsv(e, "time_ms,op,pid,addr,len\n0.5,munmap,1,0,40960\n");
    const c = counters(e, C);
    expect(c.nr_writeback).toBe(0);
    expect(c.nr_written).toBe(2);
    expect(c.pgrotated).toBe(0);
    expect(c.nr_swapcached).toBe(0);
    expect(e.mem.swapWb.inFlight).toBe(0);
    expect(e.mem.shadows.swapUsed).toBe(0);
  });

  it("off (the default): the page is freed at once, its second isolation counted against the budget", async () => {
    const e = await tenPages({ "wsim.swap_writeback": "0" });
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    const b = counters(e, C);
    // budget 2: written and freed, its second isolation counted (2), one page goes
    expect(e.mem.reclaim.shrinkLruvec(lv, Infinity, true, 2)).toBe(1);
    const c = counters(e, C);
    expect(c.pgscan_kswapd! - b.pgscan_kswapd!).toBe(2);
    expect(c.pswpout! - b.pswpout!).toBe(1);
    expect(c.pgsteal_anon! - b.pgsteal_anon!).toBe(1);
    expect(c.nr_writeback).toBe(0);
    expect(c.nr_free_pages! - b.nr_free_pages!).toBe(1);
  });

  it("a page two mms map (fork) is written once: the other mm's PTE gets the swap entry; --check holds, and exit frees every slot", async () => {
    const e = engineFor(smallMachine("4M"), { check: true }, ON);
    const H = "time_ms,op,pid,addr,len,rw,child";
    const rows = ["0,mmap,1,0x200000,40960,,"];
    for (let k = 0; k < 10; k++) rows.push(`0,access,1,${0x200000 + k * 4096},,w,`);
    rows.push("0,fork,1,,,,2");
    await runCsv(e, [H, ...rows].join("\n"));
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    e.mem.age(lv);
    e.mem.age(lv);
    expect(e.mem.reclaim.shrinkLruvec(lv, Infinity, true, 10)).toBe(0);
    // 10 pages written once each (pswpout 10), 10 slots, each referenced by both mms (one dup each)
    expect(counters(e, ["pswpout", "nr_swapcached", "nr_writeback"])).toEqual({ pswpout: 10, nr_swapcached: 10, nr_writeback: 10 });
    expect(e.mem.shadows.swapUsed).toBe(10);
    expect(e.mem.shadows.dupRefs).toBe(10);
    // the parent finds page 0 in the swap cache (minor); the child's swap entry for page 1 is
    // read from the device (wsim reads it again: 6.1 would find the swap cache page)
    await runCsv(e, [H, "0.5,access,1,0x200000,,r,", "0.5,access,2,0x201000,,r,"].join("\n"));
    expect(counters(e, ["swap_ra_hit", "pswpin"])).toEqual({ swap_ra_hit: 1, pswpin: 1 });
    await runCsv(e, [H, "20,exit,1,,,,", "20,exit,2,,,,"].join("\n"));
    expect(e.mem.shadows.swapUsed).toBe(0);
    expect(e.mem.swapWb.inFlight).toBe(0);
    expect(counters(e, ["nr_swapcached", "nr_writeback"])).toEqual({ nr_swapcached: 0, nr_writeback: 0 });
  });

  it("--check finds a writeback flag on a page that is not an allocated anon page, and a count that does not match", async () => {
    const e = await tenPages();
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    expect(e.mem.reclaim.shrinkLruvec(lv, Infinity, true, 1)).toBe(0);
    expect(checkMemory(e.mem.mappingView())).toBe(null);
    e.mem.swapWb.inFlight++;
    expect(checkMemory(e.mem.mappingView())).toBe("2 pages counted under swap writeback but 1 flagged");
    e.mem.swapWb.inFlight--;
    let free = 0;
    while (e.mem.pages.flags[free]! & 4) free++;
    e.mem.swapWb.flags[free] = 1;
    expect(checkMemory(e.mem.mappingView())).toBe(`pfn ${free} has PG_writeback or PG_reclaim (of swap) but is not an allocated anon page`);
  });

  it("wsim.swap_writeback takes 0 or 1 only", () => {
    const s = new Settings(smallMachine("4M"));
    expect(() => s.set("wsim.swap_writeback", "2")).toThrow();
  });
});
