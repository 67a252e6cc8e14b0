import { listNext } from "../../../src/mm/list.js";
import { describe, expect, it } from "vitest";
import { Buddy, FPI_AERATED, FPI_NONE, FPI_SKIP_REPORT_NOTIFY, FPI_TO_TAIL, Zone } from "../../../src/mm/buddy.js";
import { MIGRATE_TYPES, MT_MOVABLE } from "../../../src/mm/constants.js";
import { PageArrays, PG_ALLOC, PG_REPORTED } from "../../../src/mm/pages.js";
import { checkInvariants } from "../../../src/mm/check.js";
import { replay } from "../../../src/replay.js";
import { V } from "../../../src/stats/counters.js";
import { engineFor, runCsv } from "../../helpers.js";

function zone(n: number, aeration: boolean) {
  const pages = new PageArrays(n);
  const z = new Zone(0, 0, n);
  const b = new Buddy(pages, [z]);
  b.aeration = aeration;
  for (let s = 0; s < n; s += 1024) b.freeOnePage(z, s, 10, MT_MOVABLE, FPI_TO_TAIL);
  return { pages, z, b };
}

function list(z: Zone, p: PageArrays, order: number): string[] {
  const out: string[] = [];
  for (let q = z.head[order * MIGRATE_TYPES + MT_MOVABLE]!; q >= 0; q = listNext(p.linksOf(order), q)) out.push(`${q}${p.flags[q]! & PG_REPORTED ? "r" : ""}`);
  return out;
}

describe("reported blocks in the free lists", () => {
  it("reporting mode: reported blocks go back to the tail, allocation takes the unreported head first", () => {
    const { z, pages, b } = zone(4096, false);
    // report 0 and 1024 as the worker does: isolate, then put back to the tail and mark
    for (const pfn of [0, 1024]) b.isolateFreePage(z, pfn, 10);
    for (const pfn of [1024, 0]) {
      b.freeOnePage(z, pfn, 10, MT_MOVABLE, FPI_SKIP_REPORT_NOTIFY | FPI_TO_TAIL);
      b.markReported(z, pfn);
    }
    expect(list(z, pages, 10)).toEqual(["2048", "3072", "1024r", "0r"]);
    expect(z.reported[10]).toBe(2);
    // an allocation takes the head: unreported
    expect(b.rmqueueSmallest(z, 10, MT_MOVABLE)).toBe(2048);
    expect(list(z, pages, 10)).toEqual(["3072", "1024r", "0r"]);
    // a free of an order-10 block goes to the head (buddy_merge_likely is false at MAX_ORDER-1)
    b.freeOnePage(z, 2048, 10, MT_MOVABLE, FPI_NONE);
    expect(list(z, pages, 10)).toEqual(["2048", "3072", "1024r", "0r"]);
    let taken = 0;
    b.hooks.reportedTaken = (_z, _p, order, merging) => (taken += merging ? 0 : 1 << order);
    b.rmqueueSmallest(z, 10, MT_MOVABLE);
    b.rmqueueSmallest(z, 10, MT_MOVABLE);
    expect(taken).toBe(0);
    expect(b.rmqueueSmallest(z, 10, MT_MOVABLE)).toBe(1024); // only reported ones left
    expect(taken).toBe(1024);
    expect(pages.flags[1024]! & PG_REPORTED).toBe(0);
    expect(z.reported[10]).toBe(1);
  });

  it("merging with a reported buddy clears the flag and is not a reallocation", () => {
    const { z, pages, b } = zone(2048, false);
    const a = b.rmqueue(z, 9, MT_MOVABLE, 0); // 0..511, leaves 512 as an order-9 block
    b.markReported(z, 512);
    let taken = -1;
    b.hooks.reportedTaken = (_z, _p, _o, merging) => (taken = merging ? 1 : 0);
    b.freeOnePage(z, a, 9, MT_MOVABLE, FPI_NONE);
    expect(taken).toBe(1);
    expect(list(z, pages, 10)).toEqual(["0", "1024"]);
    expect(z.reported[9]).toBe(0);
    expect(checkInvariants(b)).toBeNull();
  });

  it("aeration mode: the boundary keeps aerated blocks contiguous at the tail and moves as the seed describes", () => {
    const { z, pages, b } = zone(4096, true);
    const li = 10 * MIGRATE_TYPES + MT_MOVABLE;
    expect(z.boundary[li]).toBe(-1);
    // fill from the tail toward the head, drain back below the boundary (aerated)
    for (const pfn of [3072, 2048]) b.isolateFreePage(z, pfn, 10);
    for (const pfn of [3072, 2048]) b.freeOnePage(z, pfn, 10, MT_MOVABLE, FPI_SKIP_REPORT_NOTIFY | FPI_TO_TAIL | FPI_AERATED);
    expect(list(z, pages, 10)).toEqual(["0", "1024", "3072r", "2048r"]);
    expect(z.boundary[li]).toBe(3072);
    // a raw block freed to the tail goes above the boundary
    b.isolateFreePage(z, 1024, 10);
    b.freeOnePage(z, 1024, 10, MT_MOVABLE, FPI_TO_TAIL);
    expect(list(z, pages, 10)).toEqual(["0", "1024", "3072r", "2048r"]);
    // allocations take the raw blocks first ...
    expect(b.rmqueueSmallest(z, 10, MT_MOVABLE)).toBe(0);
    expect(b.rmqueueSmallest(z, 10, MT_MOVABLE)).toBe(1024);
    expect(z.boundary[li]).toBe(3072);
    // ... then the boundary block itself: the boundary moves to the next aerated block
    expect(b.rmqueueSmallest(z, 10, MT_MOVABLE)).toBe(3072);
    expect(z.boundary[li]).toBe(2048);
    expect(b.rmqueueSmallest(z, 10, MT_MOVABLE)).toBe(2048);
    expect(z.boundary[li]).toBe(-1);
  });
});

const cfg = (mode: string, extra: Record<string, string> = {}) => ({
  "page_reporting.enabled": "1",
  "page_reporting.mode": mode,
  "page_reporting.capacity": "2",
  "vm.compaction_proactiveness": "0",
  ...extra,
});
const machine16 = { name: "t", nodes: [{ id: 0, mem: 4096, tier: 0, cpus: true }], tunables: {} };

describe("the reporting worker", () => {
  it("reporting mode: a pass 2 s after a request, a free mid-pass reschedules one, batches of `capacity`", async () => {
    // the worker's own work takes no time here (busy-daemons.test.ts tests its busy window)
    const e = engineFor(machine16, { check: true }, cfg("reporting", { "page_reporting.report_ms": "30", "cost.compact_scan_ns": "0" }));
    e.mem.reporting.log = [];
    await runCsv(e, [
      "time_ms,op,pid,addr,len",
      "5000,mmap,1,0x40000000,4194304",
      ...Array.from({ length: 4 }, (_, k) => `${5000 + k},access,1,${0x40000000 + k * 512 * 4096},`), // order-9 THP faults
      "5500,munmap,1,0x40000000,4194304", // frees of order >= 9: a request; the pass at 7500
      "7505,mmap,2,0x40000000,2097152",
      "7505,access,2,0x40000000,",
      "7510,munmap,2,0x40000000,2097152", // a free of order >= 9 while the 7500 pass reports
      "20000,exit,1,,",
    ].join("\n"));
    const rep = e.mem.reporting;
    // registration: 2000; the munmap at 5500: 7500; the free at 7510 came mid-pass, so the pass
    // that ended after its report (7500 + 30) scheduled the next at 9530
    expect(rep.passes).toEqual([2000, 7500, 9530]);
    // the boot pass: the order-10 list [0, 1024, 2048, 3072]; budget ceil(4 / (2 * 16)) = 1 call
    // per list before the budget test fails... the scatterlist (capacity 2) fills with 0 and
    // 1024 (listed last-isolated first), is reported and drained to the tail; 2048 and 3072 go
    // out as the zone's leftovers, 30 ms later
    expect(rep.log!.filter((r) => r.time_ms < 3000)).toEqual([
      { time_ms: 2000, nid: 0, blocks: [[1024, 10], [0, 10]] },
      { time_ms: 2030, nid: 0, blocks: [[3072, 10], [2048, 10]] },
    ]);
    for (const r of rep.log!) expect(r.blocks.length).toBeLessThanOrEqual(2);
    const v = e.mem.vmstat();
    expect(v[V.wsim_reporting_calls]).toBe(rep.log!.length);
    expect(v[V.wsim_reported_reallocated]).toBeGreaterThan(0); // the THP faults split reported blocks
  });

  it("aeration mode: a zone is requested when an order's raw blocks reach 32, the pass 100 ms later", async () => {
    const e = engineFor(
      // 288 MiB: the 256 MiB mapping fits with room to spare, so no reclaim moves the counts
      { name: "t", nodes: [{ id: 0, mem: 73728, tier: 0, cpus: true }], tunables: {} },
      { check: false },
      cfg("aeration", { "page_reporting.capacity": "32", "page_reporting.order": "9" }),
    );
    e.mem.reporting.log = [];
    const lines = ["time_ms,op,pid,addr,len", "500,mmap,1,0x40000000,268435456"];
    for (let k = 0; k < 128; k++) lines.push(`500,access,1,${0x40000000 + k * 512 * 4096},`); // 128 THP: 256 MiB
    lines.push("1000,munmap,1,0x40000000,67108864"); // 32 order-9 blocks -> 16 order-10 raw blocks: below 32
    lines.push("2000,munmap,1,0x44000000,67108864"); // 16 more order-10 raw blocks: 32 reached
    lines.push("3000,exit,1,,");
    await runCsv(e, lines.join("\n"));
    const passes = e.mem.reporting.passes;
    expect(passes[0]).toBe(100); // registration
    expect(passes[1]).toBe(2100); // HWM at 2000
    const v = e.mem.vmstat();
    expect(v[V.wsim_reported_blocks]).toBeGreaterThan(0);
  });

  it("after a large free and idle time every free block of order >= 9 is reported; allocating one counts a reallocation", async () => {
    for (const mode of ["reporting", "aeration"]) {
      const trace = new URL("../../../traces/vm-balloon.csv", import.meta.url).pathname;
      const r = await replay({ trace, machine: "vm", zones: "flat", set: [`page_reporting.mode=${mode}`, "wsim.pcp=0"], until: 40000 });
      const z = r.nodes[0]!.zones[0]!;
      expect(z.reported[9], mode).toBe(z.buddyinfo[9]);
      expect(z.reported[10], mode).toBe(z.buddyinfo[10]);
      expect(r.vmstat.wsim_nr_reported_pages).toBe(z.buddyinfo[9]! * 512 + z.buddyinfo[10]! * 1024);
      const all = await replay({ trace, machine: "vm", zones: "flat", set: [`page_reporting.mode=${mode}`, "wsim.pcp=0"] });
      // 512 MiB back (256 huge pages), and the order-9 reported block the first of their page
      // tables split (the 256 deposited PTE tables and the PMD fit in its 512 pages)
      expect(all.vmstat.wsim_reported_reallocated! - r.vmstat.wsim_reported_reallocated!).toBe(131072 + 512);
      expect(all.vmstat.wsim_nr_reported_pages).toBe(r.vmstat.wsim_nr_reported_pages! - 131072 - 512);
    }
  });

  it("both modes replay the demo deterministically, with different counters; --check holds on a small guest", async () => {
    const trace = new URL("../../../traces/vm-balloon.csv", import.meta.url).pathname;
    const run = (mode: string) => replay({ trace, machine: "vm", set: [`page_reporting.mode=${mode}`] });
    const [a1, a2, b1] = [await run("reporting"), await run("reporting"), await run("aeration")];
    expect(JSON.stringify(a2)).toBe(JSON.stringify(a1));
    expect(b1.vmstat.wsim_reporting_calls).not.toBe(a1.vmstat.wsim_reporting_calls);
    expect(b1.vmstat.wsim_reported_pages).not.toBe(a1.vmstat.wsim_reported_pages);
    // --check (reported flags on free blocks of order >= page_reporting.order, counts, boundaries)
    for (const mode of ["reporting", "aeration"]) {
      const e = engineFor(machine16, { check: true }, cfg(mode, { "page_reporting.report_ms": "5" }));
      const lines = ["time_ms,op,pid,addr,len"];
      for (let k = 0; k < 40; k++) {
        lines.push(`${k * 300},mmap,${k % 3},${0x40000000},4194304`);
        for (let j = 0; j < 4; j++) lines.push(`${k * 300 + j},access,${k % 3},${0x40000000 + j * 512 * 4096},`);
        lines.push(`${k * 300 + 150},munmap,${k % 3},${0x40000000},4194304`);
      }
      await runCsv(e, lines.join("\n"));
      expect(e.mem.vmstat()[V.wsim_reported_blocks]).toBeGreaterThan(0);
    }
  });
});

describe("--check on reported blocks", () => {
  it("catches a reported flag below page_reporting.order, a count off the lists, and a raw block below the boundary", () => {
    const { z, pages, b } = zone(4096, false);
    const a = b.rmqueue(z, 0, MT_MOVABLE, 0); // splits: order-0 .. order-9 blocks appear
    pages.flags[a] = PG_ALLOC;
    b.markReported(z, 1); // an order-0 block
    expect(checkInvariants(b, 9)).toMatch(/pfn 1 is reported at order 0, below page_reporting.order 9/);
    expect(checkInvariants(b, 0)).toBeNull();
    z.reported[0] = 5;
    expect(checkInvariants(b, 0)).toMatch(/order 0: 5 reported blocks counted, 1 on the lists/);
    const ae = zone(4096, true);
    ae.b.isolateFreePage(ae.z, 3072, 10);
    ae.b.freeOnePage(ae.z, 3072, 10, MT_MOVABLE, FPI_SKIP_REPORT_NOTIFY | FPI_TO_TAIL | FPI_AERATED);
    expect(checkInvariants(ae.b)).toBeNull();
    ae.z.boundary[10 * MIGRATE_TYPES + MT_MOVABLE] = -1; // lose the boundary: the raw blocks now seem below it
    expect(checkInvariants(ae.b)).toMatch(/the aeration boundary is -1, the first aerated block 3072/);
  });
});
