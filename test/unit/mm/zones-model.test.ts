/**
 * Issue 13 item 1: the model with the zones of x86-64 Linux 6.1 (`"zones": "x86"`). Every
 * expectation is computed by hand in the comments, from the QEMU pc memory map
 * (src/machine/zones.ts qemuPcMemoryMap: RAM [1, 0x9f), [0x100, below-4G top - 41 firmware
 * pages), then from 4 GiB) and 6.1's formulas.
 */
import { describe, expect, it } from "vitest";
import { PRESETS, type Machine } from "../../../src/machine/machine.js";
import { ZONE_DMA, ZONE_DMA32, ZONE_MOVABLE, ZONE_NORMAL } from "../../../src/machine/zones.js";
import { WMARK_HIGH, WMARK_LOW, WMARK_MIN } from "../../../src/mm/buddy.js";
import { GFP_DMA, GFP_HIGHMEM, GFP_KERNEL, GFP_MOVABLE, MT_MOVABLE, MT_UNMOVABLE } from "../../../src/mm/constants.js";
import { checkInvariants } from "../../../src/mm/check.js";
import { V } from "../../../src/stats/counters.js";
import { engineFor, runCsv } from "../../helpers.js";

const x86 = (m: Machine, extra: Partial<Machine> = {}): Machine => ({ ...structuredClone(m), zones: "x86", ...extra });
/** [nid, zone name, start, end, present, managed] of every zone of the model */
const spans = (e: ReturnType<typeof engineFor>) => e.mem.zones.map((z) => [z.nid, z.name, z.start, z.end, z.present, z.managed]);

describe("zone layout of each preset under x86 (QEMU pc map)", () => {
  it("default (4 GiB): DMA [1, 4096), DMA32 [4096, 4 GiB) with the PCI hole, Normal [4 GiB, 5 GiB)", () => {
    const e = engineFor(x86(PRESETS.default!));
    // 4 GiB >= 3.5 GiB: 3 GiB (pfn 0xc0000 = 786432) below 4 GiB, the last 41 pages firmware's
    // DMA present: [1, 0x9f) = 158 + [0x100, 0x1000) = 3840 -> 3998; the first MiB is reserved: managed 3840
    // DMA32: [4096, 786391) present = 782295, spanned to 4 GiB (1048576 - 4096 = 1044480)
    // Normal: the 1 GiB above 4 GiB, [0x100000, 0x140000)
    expect(spans(e)).toEqual([
      [0, "DMA", 1, 4096, 3998, 3840],
      [0, "DMA32", 4096, 1048576, 782295, 782295],
      [0, "Normal", 1048576, 1310720, 262144, 262144],
    ]);
    expect(e.mem.nodeZones[0]!.map((z) => z.idx)).toEqual([ZONE_DMA, ZONE_DMA32, ZONE_NORMAL]);
    // every managed page is free at boot, nothing else
    expect(e.mem.freePages()).toBe(3840 + 782295 + 262144);
    expect(checkInvariants(e.mem.buddy)).toBeNull();
    // holes and the reserved first MiB are never free: pfn 0, the EBDA hole, the PCI hole
    for (const pfn of [0, 1, 0x9f, 0xff, 786391, 786432, 1048575]) expect(e.mem.pages.flags[pfn]! & 1).toBe(0);
    // the first free page is 256 (0x100): 256 is the start of an order-8 block (ctz(256) = 8)
    expect(e.mem.pages.flags[256]! & 1).toBe(1);
    expect(e.mem.pages.order[256]).toBe(8);
  });

  it("vm (2 GiB): all of it below 4 GiB, DMA and DMA32 only", () => {
    const e = engineFor(x86(PRESETS.vm!));
    // 524288 pages < 3.5 GiB: RAM [1, 0x9f), [0x100, 524288 - 41 = 524247)
    expect(spans(e)).toEqual([
      [0, "DMA", 1, 4096, 3998, 3840],
      [0, "DMA32", 4096, 524247, 520151, 520151],
    ]);
  });

  it("numa2 and tiered: node 1 is all Normal, from 5 GiB", () => {
    const n = engineFor(x86(PRESETS.numa2!));
    // node 1's 4 GiB of RAM offsets [1048576, 2097152) map above 4 GiB: 0x100000 + (1048576 - 786432) = 0x140000
    expect(spans(n).slice(3)).toEqual([[1, "Normal", 0x140000, 0x240000, 1048576, 1048576]]);
    expect(n.mem.nodeZones.map((zs) => zs.length)).toEqual([3, 1]);
    const t = engineFor(x86(PRESETS.tiered!));
    expect(spans(t).slice(3)).toEqual([[1, "Normal", 0x140000, 0x340000, 2097152, 2097152]]);
  });

  it("flat (a machine file's default) keeps one Normal zone per node from pfn 0", () => {
    const e = engineFor({ ...PRESETS.numa2!, zones: "flat" });
    expect(spans(e)).toEqual([
      [0, "Normal", 0, 1048576, 1048576, 1048576],
      [1, "Normal", 1048576, 2097152, 1048576, 1048576],
    ]);
  });
});

describe("lowmem_reserve and watermarks per zone (6.1 formulas)", () => {
  it("default x86: protection from vm.lowmem_reserve_ratio 256 256 32 0 0, marks split by managed pages", () => {
    const e = engineFor(x86(PRESETS.default!));
    const [dma, dma32, normal] = e.mem.zones;
    // DMA: 782295 / 256 = 3055; (782295 + 262144) / 256 = 4079, and 4079 for Movable and Device (empty)
    expect(Array.from(dma!.lowmemReserve)).toEqual([0, 3055, 4079, 4079, 4079]);
    // DMA32: 262144 / 256 = 1024
    expect(Array.from(dma32!.lowmemReserve)).toEqual([0, 0, 1024, 1024, 1024]);
    expect(Array.from(normal!.lowmemReserve)).toEqual([0, 0, 0, 0, 0]);
    // min_free_kbytes: THP on, 3 zones up to Normal: 512 * 3 * (2 + 9) = 16896 pages = 67584 KiB
    expect(e.settings.num("vm.min_free_kbytes")).toBe(67584);
    // min = 16896 * managed / 1048279; delta = max(min / 4, managed * 10 / 10000)
    // DMA: 61, delta max(15, 3) = 15; DMA32: 12608, delta 3152; Normal: 4225, delta 1056
    const marks = e.mem.zones.map((z) => [z.wmark[WMARK_MIN], z.wmark[WMARK_LOW], z.wmark[WMARK_HIGH]]);
    expect(marks).toEqual([
      [61, 76, 91],
      [12608, 15760, 18912],
      [4225, 5281, 6337],
    ]);
  });

  it("a write of vm.lowmem_reserve_ratio recomputes the reserves (setup_per_zone_lowmem_reserve)", () => {
    const e = engineFor(x86(PRESETS.default!), {}, { "vm.lowmem_reserve_ratio": "128 64 32 0 0" });
    // DMA: 782295 / 128 = 6111, 1044439 / 128 = 8159; DMA32: 262144 / 64 = 4096
    expect(Array.from(e.mem.zones[0]!.lowmemReserve)).toEqual([0, 6111, 8159, 8159, 8159]);
    expect(Array.from(e.mem.zones[1]!.lowmemReserve)).toEqual([0, 0, 4096, 4096, 4096]);
    e.settings.set("vm.lowmem_reserve_ratio", "0 0 0 0 0");
    for (const z of e.mem.zones) expect(Array.from(z.lowmemReserve)).toEqual([0, 0, 0, 0, 0]);
    expect(() => e.settings.set("vm.lowmem_reserve_ratio", "256 256 32")).toThrow(/5 integers/);
  });
});

describe("gfp_zone and the zonelist", () => {
  // default x86 with movablecore=512M: 131072 pages movable; kernelcore = 1048437 present -
  // 131072 = 917365; DMA and DMA32 (786293 present) count as kernel memory below Normal, the
  // other 131072 come from Normal's start: ZONE_MOVABLE starts at 0x100000 + 131072 = 0x120000
  const movable = () => engineFor(x86(PRESETS.default!, { movablecore: "512M" }));
  const NO_RECLAIM_MOVABLE = GFP_HIGHMEM | GFP_MOVABLE; // GFP_HIGHUSER_MOVABLE without reclaim: no kswapd, no direct reclaim

  it("movablecore gives four zones", () => {
    const e = movable();
    expect(spans(e)).toEqual([
      [0, "DMA", 1, 4096, 3998, 3840],
      [0, "DMA32", 4096, 1048576, 782295, 782295],
      [0, "Normal", 1048576, 0x120000, 131072, 131072],
      [0, "Movable", 0x120000, 0x140000, 131072, 131072],
    ]);
    // DMA: 782295 / 256 = 3055; + 131072 = 913367 / 256 = 3567; + 131072 = 1044439 / 256 = 4079
    expect(Array.from(e.mem.zones[0]!.lowmemReserve)).toEqual([0, 3055, 3567, 4079, 4079]);
  });

  it("a GFP_KERNEL allocation never lands in Movable; it starts in Normal", () => {
    const e = movable();
    const a = e.mem.alloc;
    const zones: number[] = [];
    for (;;) {
      const pfn = a.allocPages(10, MT_UNMOVABLE, GFP_KERNEL & ~0xc00, 0, 0); // GFP_KERNEL's zone, no reclaim
      if (pfn < 0) break;
      zones.push(a.zoneOf(pfn).idx);
    }
    expect(zones[0]).toBe(ZONE_NORMAL);
    expect(zones).not.toContain(ZONE_MOVABLE);
    const mov = e.mem.zones[3]!;
    expect(mov.freePages).toBe(131072); // untouched
    expect(e.mem.ev[V.pgalloc_movable]).toBe(0);
  });

  it("a movable allocation falls back Movable -> Normal -> DMA32 and stops at DMA's lowmem_reserve", () => {
    const e = movable();
    const a = e.mem.alloc;
    const seq: number[] = [];
    for (;;) {
      const pfn = a.allocPages(0, MT_MOVABLE, NO_RECLAIM_MOVABLE, 0, 0);
      if (pfn < 0) break;
      const idx = a.zoneOf(pfn).idx;
      if (seq[seq.length - 1] !== idx) seq.push(idx);
    }
    // the zonelist order, high to low, each zone used until its mark (+ reserve) stops it: first
    // the fast path at the low watermark, then the slow path's retry at the min watermark
    expect(seq).toEqual([ZONE_MOVABLE, ZONE_NORMAL, ZONE_DMA32, ZONE_MOVABLE, ZONE_NORMAL, ZONE_DMA32]);
    // DMA never: its 3840 free pages are below min 61 + lowmem_reserve[Movable] 4079 (the mark
    // of the slow path's retry at ALLOC_WMARK_MIN); DMA32 stops at min 12608 + reserve[Movable]
    // (131072 + 131072) / 256 = 1024
    const [dma, dma32, normal, mov] = e.mem.zones;
    expect(dma!.freePages).toBe(3840);
    expect(e.mem.ev[V.pgalloc_dma]).toBe(0);
    // min marks of the four zones: pages_min 16896 (3 zones up to Normal: still 512 * 3 * 11)
    // split over 1048279 managed: DMA32 12608, Normal 2112, Movable 2112
    expect(dma32!.freePages).toBe(dma32!.wmark[WMARK_MIN]! + dma32!.lowmemReserve[ZONE_MOVABLE]! + 0); // free - 0 <= mark stops it
    // Normal keeps min + lowmem_reserve[Movable] = 2112 + 131072 / 32 = 6208
    expect(normal!.freePages).toBe(6208);
    expect(Array.from(normal!.lowmemReserve)).toEqual([0, 0, 0, 4096, 4096]);
    expect(mov!.freePages).toBe(mov!.wmark[WMARK_MIN]!);
    expect([dma32!.wmark[WMARK_MIN], normal!.wmark[WMARK_MIN], mov!.wmark[WMARK_MIN]]).toEqual([12608, 2112, 2112]);
    // a DMA allocation (highest zone DMA, reserve 0) still gets a page there
    const pfn = a.allocPages(0, MT_UNMOVABLE, GFP_DMA, 0, 0);
    expect(a.zoneOf(pfn).idx).toBe(ZONE_DMA);
    expect(e.mem.ev[V.pgalloc_dma]).toBe(1);
    expect(checkInvariants(e.mem.buddy)).toBeNull();
  });

  it("pgalloc_* count the zone the page came from; a flat machine counts only pgalloc_normal", () => {
    const e = engineFor(x86(PRESETS.vm!));
    const a = e.mem.alloc;
    a.allocPages(0, MT_MOVABLE, NO_RECLAIM_MOVABLE, 0, 0); // vm has no Normal: DMA32
    a.allocPages(0, MT_UNMOVABLE, GFP_DMA, 0, 0);
    expect([e.mem.ev[V.pgalloc_dma], e.mem.ev[V.pgalloc_dma32], e.mem.ev[V.pgalloc_normal]]).toEqual([1, 1, 0]);
    const f = engineFor({ ...PRESETS.vm!, zones: "flat" });
    f.mem.alloc.allocPages(0, MT_MOVABLE, NO_RECLAIM_MOVABLE, 0, 0);
    // a flat node has no DMA zone: a DMA allocation finds no eligible zone and fails
    expect(f.mem.alloc.allocPages(0, MT_UNMOVABLE, GFP_DMA, 0, 0)).toBe(-1);
    expect([f.mem.ev[V.pgalloc_dma], f.mem.ev[V.pgalloc_normal]]).toEqual([0, 1]);
  });
});

describe("kswapd and kcompactd per node", () => {
  it("pgdat_balanced: any eligible zone at high + lowmem_reserve[highest_zoneidx]", () => {
    const e = engineFor(x86(PRESETS.default!));
    const k = e.mem.kswapd[0]!;
    const [dma, dma32, normal] = e.mem.zones;
    const saved = e.mem.zones.map((z) => z.freePages);
    dma32!.freePages = 0;
    normal!.freePages = 0;
    // DMA alone, 3840 free: high 91 + reserve[Normal] 3567? No: default x86 has no Movable, so
    // DMA's reserve[Normal] is 4079: 3840 <= 91 + 4079, not balanced for a Normal request
    expect(k.balanced(0, ZONE_NORMAL)).toBe(false);
    // for a DMA32 request: 91 + 3055 = 3146 < 3840: balanced (DMA is eligible and ok)
    expect(k.balanced(0, ZONE_DMA32)).toBe(true);
    dma!.freePages = 3146; // free <= mark
    expect(k.balanced(0, ZONE_DMA32)).toBe(false);
    expect(k.balanced(0, ZONE_DMA)).toBe(true); // 3146 > 91 + reserve[DMA] 0
    // Normal above its high (6337) is enough for any request that may use it
    normal!.freePages = 6338;
    expect(k.balanced(0, ZONE_NORMAL)).toBe(true);
    expect(k.balanced(0, ZONE_DMA32)).toBe(false); // Normal is not eligible for a DMA32 request
    e.mem.zones.forEach((z, i) => (z.freePages = saved[i]!));
    // a node without a managed zone up to highest_zoneidx is balanced: node 1 of numa2 has Normal only
    const n = engineFor(x86(PRESETS.numa2!));
    expect(n.mem.kswapd[1]!.balanced(0, ZONE_DMA32)).toBe(true);
  });

  it("wakeup_kswapd keeps the highest zone index asked for", async () => {
    const e = engineFor(x86(PRESETS.default!));
    await runCsv(e, "time_ms,op\n");
    const k = e.mem.kswapd[0]!;
    k.wake(0, 0, ZONE_DMA32);
    expect(k.highestZoneidx).toBe(ZONE_DMA32);
    k.wake(0, 0, ZONE_DMA);
    expect(k.highestZoneidx).toBe(ZONE_DMA32);
    k.wake(0, 0, ZONE_MOVABLE);
    expect(k.highestZoneidx).toBe(ZONE_MOVABLE);
  });

  it("wakeup_kcompactd keeps the largest order and the lowest highest_zoneidx; the work resets it", async () => {
    const e = engineFor(x86(PRESETS.default!), {}, { "vm.compaction_proactiveness": "0" });
    await runCsv(e, "time_ms,op\n");
    const kc = e.mem.kcompactd[0]!;
    // pgdat->nr_zones - 1: Normal
    expect(kc.highestZoneidx).toBe(ZONE_NORMAL);
    // an all-free node is not suitable (COMPACT_SUCCESS everywhere): the wake-up only records
    kc.wakeup(9, ZONE_NORMAL);
    kc.wakeup(4, ZONE_DMA32);
    expect([kc.maxOrder, kc.highestZoneidx]).toEqual([9, ZONE_DMA32]);
    kc.wakeup(10, ZONE_NORMAL);
    expect([kc.maxOrder, kc.highestZoneidx]).toEqual([10, ZONE_DMA32]);
  });

  it("the fragmentation score weighs each zone by present pages (fragmentation_score_zone_weighted)", () => {
    const e = engineFor(x86(PRESETS.default!));
    const c = e.mem.compaction;
    // all free in order-10 blocks: every zone scores 0 at order 9
    expect(c.scoreNode(0)).toBe(0);
    // node_present_pages = 3998 + 782295 + 262144 = 1048437; each zone adds present * score / 1048438
    c.scoreZone = (z) => (z.idx === ZONE_NORMAL ? 100 : 0);
    expect(c.scoreNode(0)).toBe(25); // 26214400 / 1048438 = 25.003
    c.scoreZone = () => 100;
    expect(c.scoreNode(0)).toBe(0 + 74 + 25); // DMA 399800 / 1048438 = 0.38, DMA32 78229500 / 1048438 = 74.6
  });
});

describe("a replay under x86 keeps the invariants", () => {
  it("--check's invariants catch a hole or reserved page on a free list", () => {
    const m: Machine = { name: "x64", nodes: [{ id: 0, mem: 16384, tier: 0, cpus: true }], tunables: {}, zones: "x86" };
    const e = engineFor(m);
    const managed = e.mem.managedMap()!;
    // pfn 0 and the EBDA/BIOS hole [0x9f, 0x100) are no RAM, [1, 0x9f) is RAM but reserved (the first MiB)
    expect([managed[0], managed[0x10], managed[0xa0], managed[0x100], managed[16342]]).toEqual([0, 0, 0, 1, 1]);
    expect(managed.length).toBe(16343); // pfns run to the node's end, 16384 - 41 firmware pages
    expect(checkInvariants(e.mem.buddy, 0, [], managed)).toBeNull();
    // hand a reserved page to the buddy allocator behind its back
    e.mem.pages.flags[0x10] = 0;
    e.mem.buddy.freeOnePage(e.mem.zones[0]!, 0x10, 0, MT_UNMOVABLE, 0);
    expect(checkInvariants(e.mem.buddy, 0, [], managed)).toBe("pfn 16 is free but is no managed RAM (a hole or a reserved page)");
    // a flat machine has no map: every pfn is managed
    expect(engineFor({ ...PRESETS.vm!, zones: "flat" }).mem.managedMap()).toBeNull();
  });

  it("faults, kernel allocations with every gfp, THP and frees under --check on a 64 MiB x86 machine", async () => {
    // 16384 pages: RAM [1, 0x9f), [0x100, 16343): DMA [1, 4096) managed 3840, DMA32 [4096, 16343)
    const m: Machine = { name: "x64", nodes: [{ id: 0, mem: 16384, tier: 0, cpus: true }], tunables: {}, zones: "x86" };
    const e = engineFor(m, { check: true });
    expect(spans(e)).toEqual([
      [0, "DMA", 1, 4096, 3998, 3840],
      [0, "DMA32", 4096, 16343, 12247, 12247],
    ]);
    const rows = ["time_ms,op,pid,addr,len,id,order,mt,gfp", "0,mmap,1,0x40000000,8388608,,,,"];
    for (let i = 0; i < 2048; i++) rows.push(`${i},access,1,0x${(0x40000000 + i * 4096).toString(16)},,,,,`);
    ["kernel", "dma32", "dma", "highuser_movable", "atomic"].forEach((g, i) => rows.push(`3000,alloc,,,,h${i},2,unmovable,${g}`));
    rows.push("3001,free,,,,h2,,,", "4000,munmap,1,0x40000000,8388608,,,,");
    await runCsv(e, rows.join("\n") + "\n");
    // the dma allocation took 4 pages of DMA (pgalloc_dma >= 4: faults may have fallen back too)
    expect(e.mem.ev[V.pgalloc_dma]).toBeGreaterThanOrEqual(4);
    expect(e.mem.ev[V.pgalloc_normal]).toBe(0); // no Normal zone
    expect(e.mem.kallocs.size).toBe(4);
  });
});

describe("an explicit zone list in a machine", () => {
  const list = (extra: object[] = []) => ({
    name: "explicit",
    nodes: [{ id: 0, mem: 16384 }, { id: 1, mem: 8192 }],
    zones: [
      { node: 0, name: "DMA", start: 0, end: 4096 },
      { node: 0, name: "DMA32", start: 4096, end: 16384, managed: 12000 },
      { node: 1, name: "Normal", start: 16384, end: 24576 },
      ...extra,
    ],
  });

  it("gives those zones, the unmanaged pages reserved at the top of their zone", async () => {
    const { parseMachine } = await import("../../../src/machine/machine.js");
    const m = parseMachine(list(), "m.json", () => 1);
    const e = engineFor(m, { check: true });
    expect(spans(e)).toEqual([
      [0, "DMA", 0, 4096, 4096, 4096],
      [0, "DMA32", 4096, 16384, 12288, 12000],
      [1, "Normal", 16384, 24576, 8192, 8192],
    ]);
    // 12288 - 12000 = 288 pages reserved at [16096, 16384): the free blocks end there
    expect(e.mem.zones[1]!.freePages).toBe(12000);
    expect(e.mem.managedMap()![16095]).toBe(1);
    expect(e.mem.managedMap()![16096]).toBe(0);
    // DMA reserve for a DMA32 request: 12000 / 256 = 46
    expect(e.mem.zones[0]!.lowmemReserve[ZONE_DMA32]).toBe(46);
    await runCsv(e, "time_ms,op,id,order,gfp\n0,alloc,a,3,dma\n0,alloc,b,3,dma32\n0,alloc,c,0,kernel\n");
    // dma from DMA; dma32 from DMA32 (the highest eligible zone); kernel: node 0 has no Normal, so DMA32
    expect([e.mem.ev[V.pgalloc_dma], e.mem.ev[V.pgalloc_dma32], e.mem.ev[V.pgalloc_normal]]).toEqual([8, 9, 0]);
  });

  it("refuses overlapping zones, a zone twice, a wrong total, with the entry's path", async () => {
    const { parseMachine } = await import("../../../src/machine/machine.js");
    const lines: Record<string, number> = { "/zones/1": 7, "/zones/3": 9, "/zones": 5 };
    const at = (p: string) => lines[p] ?? 1;
    const err = (doc: object) => {
      try {
        parseMachine(doc, "m.json", at);
      } catch (e) {
        return (e as Error).message;
      }
      return "";
    };
    expect(err(list([{ node: 1, name: "Normal", start: 30000, end: 31000 }]))).toBe("m.json:9: machine zones[3]: node 1 has zone Normal twice");
    const bad = list();
    bad.zones[1] = { node: 0, name: "DMA32", start: 4000, end: 16384 };
    expect(err(bad)).toMatch(/^m\.json:5: machine zones: node 0 zone DMA32 \[4000, 16384\) overlaps/);
    const big = list();
    bad.zones[1] = { node: 0, name: "DMA32", start: 4096, end: 16384, managed: 20000 };
    expect(err(bad)).toBe("m.json:7: machine zones[1]: managed must be 0..12288 pages, got 20000");
    big.nodes[1]!.mem = 4096;
    expect(err(big)).toBe("m.json:5: machine zones: node 1's zones hold 8192 pages, its mem is 4096");
    const dev = list();
    dev.zones[1] = { node: 0, name: "HighMem", start: 4096, end: 16384 };
    expect(err(dev)).toBe('m.json:7: machine zones[1]: zone name must be DMA, DMA32, Normal or Movable, got "HighMem"');
  });
});
