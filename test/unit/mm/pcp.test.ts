/**
 * Issue 13 item 2, per-cpu page lists as 6.1 mm/page_alloc.c keeps them. Every figure is
 * counted by hand from the rules (KERNEL-REFERENCE-2 §2):
 * - zone_batchsize: b = min(managed >> 10, 256) / 4 (at least 1), batch = rounddown_pow_of_two(b + b/2) - 1, at least 1;
 * - zone_highsize: high = max(low watermark / CPUs of the node, batch * 4);
 * - __rmqueue_pcplist refills an empty list with batch blocks (max(batch >> order, 2) when batch > 1),
 *   taken one by one with __rmqueue, and hands out the first;
 * - free_unref_page_commit puts the block at the list head; at count >= high, free_pcppages_bulk
 *   frees nr_pcp_free pages from the tail: batch << free_factor, clamped to [batch, high - batch],
 *   free_factor growing while below high - batch;
 * - pcp pages are in neither NR_FREE_PAGES nor buddyinfo;
 * - __alloc_pages_direct_reclaim drains every pcp once when reclaim made progress and the retry failed;
 * - kcompactd_do_work drains the zone's pcps after compact_zone returns COMPACT_COMPLETE.
 * The 64 MiB quiet machine (16384 pages, min_free_kbytes 0, watermark_scale_factor 1): low =
 * max(0, mult_frac(16384, 1, 10000) = 1) = 1, b = min(16, 256) / 4 = 4, batch = 4 + 2 -> 4 - 1 = 3,
 * high = max(1 / 1, 3 * 4) = 12.
 */
import { describe, expect, it } from "vitest";
import { MT_MOVABLE } from "../../../src/mm/constants.js";
import { checkMemory } from "../../../src/mm/check.js";
import { describeAllowed, TUNABLE_BY_KEY } from "../../../src/machine/tunables.js";
import { ZONE_NORMAL } from "../../../src/machine/zones.js";
import { loadMachine, parseMachine } from "../../../src/machine/machine.js";
import { NR_PCP_LISTS, orderToPindex, pindexToOrder, pcpAllowedOrder } from "../../../src/mm/pcp.js";
import { counters, engineFor, quietEngine, runCsv } from "../../helpers.js";
import type { Engine } from "../../../src/engine/engine.js";
import { DataError } from "../../../src/errors.js";

const PAGES = 16384;
const PCP_ON = { "wsim.pcp": "1" };

function quiet(extra: Record<string, string> = {}): Engine {
  return quietEngine(PAGES, { ...PCP_ON, ...extra });
}

/** free blocks per order (the zone's buddyinfo row) */
const buddyinfo = (e: Engine) => Array.from(e.mem.zones[0]!.nrFree);
const pfnOf = (handle: number) => Math.floor(handle / 16);
const ok = (e: Engine) => expect(checkMemory(e.mem.mappingView())).toBeNull();

describe("pcp lists, their indexes and their high and batch", () => {
  it("order_to_pindex: 3 * order + mt for orders 0..3, one THP list for order 9; 13 lists", () => {
    expect(NR_PCP_LISTS).toBe(13);
    expect(orderToPindex(0, 0)).toBe(0);
    expect(orderToPindex(1, 0)).toBe(1);
    expect(orderToPindex(2, 3)).toBe(11);
    expect(orderToPindex(0, 9)).toBe(12);
    expect(orderToPindex(2, 9)).toBe(12);
    expect([0, 5, 11, 12].map(pindexToOrder)).toEqual([0, 1, 3, 9]);
    expect([0, 1, 2, 3, 4, 8, 9, 10].map(pcpAllowedOrder)).toEqual([true, true, true, true, false, false, true, false]);
  });

  it("the default preset's Normal zone (flat, 1048576 pages) with min_free_kbytes 16384: batch 63, high 5144", () => {
    // min = 16384 KiB / 4 = 4096 pages; low = 4096 + max(4096 / 4 = 1024, mult_frac(1048576, 10, 10000) = 1048) = 5144;
    // b = min(1024, 256) / 4 = 64, rounddown_pow_of_two(96) - 1 = 63; high = max(5144 / 1, 252) = 5144
    const e = engineFor({ ...loadMachine("default"), zones: "flat" }, {}, { ...PCP_ON, "vm.min_free_kbytes": "16384" });
    expect(e.mem.pcp.nrCpus).toBe(1);
    expect(e.mem.pcp.batch[0]).toBe(63);
    expect(e.mem.pcp.high[0]).toBe(5144);
    expect(e.mem.pcp.pagesets(0)).toEqual([{ cpu: 0, count: 0, high: 5144, batch: 63 }]);
  });

  it("two CPUs on the node split the low mark; vm.percpu_pagelist_high_fraction=8 uses managed / 8 instead", () => {
    const m = parseMachine({ nodes: [{ mem: "4G", cpus: 2 }] }, "m.json", () => 1);
    expect(m.nodes[0]).toMatchObject({ cpus: true, ncpus: 2 });
    const e = engineFor(m, {}, { ...PCP_ON, "vm.min_free_kbytes": "16384" });
    expect(e.mem.pcp.nrCpus).toBe(2);
    // 5144 / 2 = 2572 for each CPU
    expect(e.mem.pcp.pagesets(0)).toEqual([
      { cpu: 0, count: 0, high: 2572, batch: 63 },
      { cpu: 1, count: 0, high: 2572, batch: 63 },
    ]);
    e.settings.set("vm.percpu_pagelist_high_fraction", "8");
    // 1048576 / 8 = 131072, / 2 CPUs = 65536
    expect(e.mem.pcp.high[0]).toBe(65536);
    expect(() => e.settings.set("vm.percpu_pagelist_high_fraction", "7")).toThrow(/expected 0 or an integer 8\.\./);
    // and the listing says so (wsim tunables' allowed column)
    expect(describeAllowed(TUNABLE_BY_KEY.get("vm.percpu_pagelist_high_fraction")!)).toBe("0 or an integer 8..2147483647");
  });

  it("the 64 MiB quiet machine: batch 3, high 12", () => {
    const e = quiet();
    expect([e.mem.pcp.batch[0], e.mem.pcp.high[0]]).toEqual([3, 12]);
  });

  it("a node's cpus is true, false or a count 0..1024; anything else is an error at its line", () => {
    const parse = (cpus: unknown) => parseMachine({ nodes: [{ mem: "64M" }, { mem: "64M", cpus }] }, "m.json", () => 7);
    expect(parse(0).nodes[1]).toEqual({ id: 1, mem: 16384, tier: 0, cpus: false });
    expect(parse(true).nodes[1]!.ncpus).toBeUndefined();
    // CPUs are numbered node by node: node 0's one CPU is 0, node 1's three 1..3
    const e = engineFor(parse(3), {}, PCP_ON);
    expect([e.mem.pcp.nrCpus, ...e.mem.pcp.cpuNode, ...e.mem.pcp.nodeCpu]).toEqual([4, 0, 1, 1, 1, 0, 1]);
    for (const bad of [-1, 1.5, 1025, "2"])
      expect(() => parse(bad)).toThrow(new DataError("m.json", 7, `node 1 cpus must be true, false or a CPU count 0..1024, got ${typeof bad === "string" ? `"${bad}"` : bad}`));
  });
});

describe("allocation and free through the pcp lists (64 MiB, batch 3, high 12)", () => {
  it("an allocation refills batch (3) pages from the buddy and takes the first; the rest are on the pcp, not free", () => {
    const e = quiet();
    const before = buddyinfo(e);
    expect(before).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16]);
    const a = e.mem.kalloc(0, MT_MOVABLE, 0);
    // rmqueue_bulk: pfn 0 (the order-10 block at 0 split: 512, 256, ..., 2, 1 to the heads), 1, then 2 (from the order-1 block 2: 3 stays)
    expect(pfnOf(a)).toBe(0);
    expect(e.mem.pcp.count[0]).toBe(2);
    expect(e.mem.freePages()).toBe(PAGES - 3);
    expect(buddyinfo(e)).toEqual([1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 15]);
    // the next two come from the list, the buddy untouched
    expect(pfnOf(e.mem.kalloc(0, MT_MOVABLE, 0))).toBe(1);
    expect(pfnOf(e.mem.kalloc(0, MT_MOVABLE, 0))).toBe(2);
    expect(e.mem.pcp.count[0]).toBe(0);
    expect(e.mem.freePages()).toBe(PAGES - 3);
    ok(e);
  });

  it("a free below high stays on the pcp list, invisible to buddyinfo and nr_free_pages; reaching high drains batch pages", () => {
    const e = quiet();
    const h: number[] = [];
    for (let i = 0; i < 12; i++) h.push(e.mem.kalloc(0, MT_MOVABLE, 0));
    // four refills of 3: pfns 0..11 in order, the pcp empty again
    expect(h.map(pfnOf)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(e.mem.pcp.count[0]).toBe(0);
    expect(e.mem.freePages()).toBe(PAGES - 12);
    // left in the buddy: 12 (order 2), 16, 32, ..., 512 (orders 4..9), 15 order-10 blocks
    const rest = [0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 15];
    expect(buddyinfo(e)).toEqual(rest);
    for (let i = 0; i < 11; i++) e.mem.kfree(h[i]!);
    // 11 < high: all on the list, none free
    expect(e.mem.pcp.count[0]).toBe(11);
    expect(e.mem.freePages()).toBe(PAGES - 12);
    expect(buddyinfo(e)).toEqual(rest);
    ok(e);
    // the 12th free reaches high: nr_pcp_free = clamp(3 << 0, 3, 9) = 3 pages from the tail
    // (the oldest: 0, 1, 2): 0 and 1 merge into an order-1 block, 2's buddy 3 is on the pcp
    e.mem.kfree(h[11]!);
    expect(e.mem.pcp.count[0]).toBe(9);
    expect(e.mem.pcp.freeFactor[0]).toBe(1);
    expect(e.mem.freePages()).toBe(PAGES - 12 + 3);
    expect(buddyinfo(e)).toEqual([1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 15]);
    expect(e.mem.zones[0]!.freePages).toBe(PAGES - 9);
    ok(e);
    // an allocation takes the list's head (11, the last freed) and halves free_factor
    expect(pfnOf(e.mem.kalloc(0, MT_MOVABLE, 0))).toBe(11);
    expect(e.mem.pcp.freeFactor[0]).toBe(0);
    ok(e);
  });

  it("with wsim.pcp=0 a free goes straight to the buddy; writing 0 drains the lists", () => {
    const e = quiet();
    const a = e.mem.kalloc(0, MT_MOVABLE, 0);
    e.mem.kfree(a);
    expect(e.mem.pcp.count[0]).toBe(3);
    expect(e.mem.freePages()).toBe(PAGES - 3);
    e.settings.set("wsim.pcp", "0");
    expect(e.mem.pcp.count[0]).toBe(0);
    expect(e.mem.freePages()).toBe(PAGES);
    expect(buddyinfo(e)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16]);
    const b = e.mem.kalloc(0, MT_MOVABLE, 0);
    expect(e.mem.freePages()).toBe(PAGES - 1);
    e.mem.kfree(b);
    expect(e.mem.freePages()).toBe(PAGES);
    ok(e);
  });
});

describe("drains", () => {
  /** every page allocated as a movable order-0 kernel page: handle k holds pfn k */
  function full(): [Engine, number[]] {
    const e = quiet();
    const h: number[] = [];
    for (let i = 0; i < PAGES; i++) h.push(e.mem.kalloc(0, MT_MOVABLE, 0));
    // 5461 refills of 3 and a last one of 1 (the last page, through the min watermark)
    expect(h.map(pfnOf)).toEqual(Array.from({ length: PAGES }, (_, i) => i));
    expect([e.mem.freePages(), e.mem.pcp.count[0]]).toEqual([0, 0]);
    return [e, h];
  }

  it("__alloc_pages_direct_reclaim: the pages reclaim freed sit on the pcp, the retry fails, drain_all_pages, the second retry succeeds", () => {
    const [e, h] = full();
    // a reclaim that frees 5 pages (pfns 0..4) and reports that progress
    let calls = 0;
    (e.mem.reclaim as unknown as { directReclaim: (nodes: number[]) => number }).directReclaim = () => {
      calls++;
      for (let i = 0; i < 5; i++) e.mem.kfree(h[i]!);
      // below high: none reached the buddy, NR_FREE_PAGES is still 0 and every watermark fails
      expect([e.mem.freePages(), e.mem.pcp.count[0]]).toEqual([0, 5]);
      return 5;
    };
    const a = e.mem.kalloc(0, MT_MOVABLE, 0);
    expect(calls).toBe(1);
    // the drain freed 0..4 tail first: 0+1 -> order 1, 2+3 -> order 1 -> 0..3 order 2, 4 alone;
    // the refill took 4 (order 0), then 0 (order 2 split: 2 order 1, 1 order 0) and 1; the allocation 4
    expect(pfnOf(a)).toBe(4);
    expect(e.mem.pcp.count[0]).toBe(2);
    expect(e.mem.freePages()).toBe(2);
    expect(buddyinfo(e)).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    ok(e);
  });

  it("without pcp the same reclaim's pages are free at once: no drain needed, the first retry succeeds", () => {
    const [e, h] = full();
    e.settings.set("wsim.pcp", "0");
    (e.mem.reclaim as unknown as { directReclaim: (nodes: number[]) => number }).directReclaim = () => {
      for (let i = 0; i < 5; i++) e.mem.kfree(h[i]!);
      return 5;
    };
    // the buddy lists: 0..3 order 2, 4 order 0; __rmqueue_smallest takes 4
    expect(pfnOf(e.mem.kalloc(0, MT_MOVABLE, 0))).toBe(4);
    expect(e.mem.freePages()).toBe(4);
    ok(e);
  });

  it("kcompactd_do_work: compact_zone COMPLETE drains the zone's pcps (drain_all_pages(zone))", () => {
    const [e, h] = full();
    // free every second page: 8192 frees, bulk frees at 12: 3 (free_factor 1), 6 (2), then 9 each
    // time (12 << 2 clamped to high - batch = 9): 12 + 3 + 6 frees leave 3, then 907 rounds of 9
    // frees leave 3 again, and the last 8 frees make 11
    for (let i = 0; i < PAGES; i += 2) e.mem.kfree(h[i]!);
    expect(e.mem.pcp.count[0]).toBe(11);
    expect(e.mem.freePages()).toBe(8192 - 11);
    expect(buddyinfo(e)[0]).toBe(8192 - 11);
    ok(e);
    // kcompactd for order 9: suitable (8181 free > low 1 + compact_gap 1024; fragmentation index
    // 1000 - (1000 + 8181000 / 512) / 8181 = 998 > 500); no LRU page to migrate, the scanners
    // meet: COMPACT_COMPLETE, and the drain
    const k = e.mem.kcompactd[0] as unknown as { maxOrder: number; highestZoneidx: number; doWork: () => void };
    k.maxOrder = 9;
    k.highestZoneidx = ZONE_NORMAL;
    k.doWork();
    expect(e.mem.pcp.count[0]).toBe(0);
    expect(e.mem.freePages()).toBe(8192);
    expect(buddyinfo(e)[0]).toBe(8192);
    ok(e);
  });
});

describe("--check", () => {
  it("finds a pcp count that disagrees with the lists, and a pcp page that is also allocated", () => {
    const e = quiet();
    e.mem.kalloc(0, MT_MOVABLE, 0);
    ok(e);
    e.mem.pcp.count[0]!++;
    expect(checkMemory(e.mem.mappingView())).toBe("node 0 zone Normal cpu 0 pcp: count 3 but the lists hold 2");
    e.mem.pcp.count[0]!--;
    e.mem.pages.flags[1] = 4; // PG_ALLOC on a listed page
    expect(checkMemory(e.mem.mappingView())).toBe("node 0 zone Normal cpu 0 pcp: pfn 1 has flags 4 (a pcp page is neither PageBuddy nor allocated)");
  });

  it("finds a count above high, but for what refills (rmqueue_bulk does not look at high) and a short bulk free leave", () => {
    const e = quiet(); // high 12, batch 3
    // refills of the four low orders, each of an empty list: order 0 takes 3 blocks, orders 1-3
    // max(3 >> o, 2) = 2; one of each is allocated: 2 + 1*2 + 1*4 + 1*8 = 16 pages stay listed
    for (const o of [0, 1, 2, 3]) e.mem.kalloc(o, MT_MOVABLE, 0);
    expect(e.mem.pcp.count[0]).toBe(16);
    ok(e); // 16 > high 12, as 6.1 can have it
    e.mem.pcp.overHigh[0] = 0; // forget the allowance: the count is now unexplained
    expect(checkMemory(e.mem.mappingView())).toBe("node 0 zone Normal cpu 0 pcp: count 16 outside [0, high 12]");
    e.mem.pcp.overHigh[0] = 16;
    // an order-0 allocation from the list (15: the order-0 list keeps 1), then its free (16 >= high):
    // nr_pcp_free = clamp(3 << 0, 3, 12 - 3) = 3 pages, from the order-0 Movable list first (2
    // pages), then round robin to the next non-empty list, order-1 Movable (one 2-page block):
    // 4 pages freed, 12 left, no longer above high, and the allowance is gone
    const h = e.mem.kalloc(0, MT_MOVABLE, 0);
    expect(e.mem.pcp.count[0]).toBe(15);
    e.mem.kfree(h);
    expect(e.mem.pcp.count[0]).toBe(12);
    expect(e.mem.pcp.overHigh[0]).toBe(0);
    ok(e);
  });
});

describe("--check after every event with the pcp lists on", () => {
  it("faults, THP faults, munmap and exit on the 64 MiB machine: no invariant broken, the THP pcp list used", async () => {
    const e = quietEngine(PAGES, { ...PCP_ON, "transparent_hugepage.enabled": "always" }, { check: true });
    const hex = (a: number) => `0x${a.toString(16)}`;
    const base = 1 << 30;
    const lines = ["time_ms,op,pid,addr,len", `0,mmap,1,${hex(base)},${16 << 20}`];
    // 4 huge pages (THP faults: order 9 through the pcp's THP list) and 300 small pages elsewhere
    for (let k = 0; k < 4; k++) lines.push(`1,access,1,${hex(base + k * (2 << 20))},`);
    for (let k = 0; k < 300; k++) lines.push(`2,access,2,${hex(base + k * 4096)},`);
    lines.push(`3,munmap,1,${hex(base)},${4 << 20}`, "4,exit,2,,", "5,exit,1,,");
    await runCsv(e, lines.join("\n") + "\n");
    expect(counters(e, ["thp_fault_alloc"])).toEqual({ thp_fault_alloc: 4 });
    // the THP refill takes 2 blocks when batch > 1 (max(3 >> 9, 2)): 4 faults, 2 refills; the
    // frees of the 4 (munmap of 2, exit of 2) went to the THP list and bulk frees (high 12)
    ok(e);
  }, 60_000);
});
