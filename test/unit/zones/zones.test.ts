/**
 * src/machine/zones.ts: the x86-64 zone layout, hand-computed. Pfns: 0x9f = 159, 0x100 = 256,
 * 4096 = 16 MiB, 0xc0000 = 786432 = 3 GiB, 0x100000 = 1048576 = 4 GiB, 0x140000 = 1310720.
 */
import { describe, expect, it } from "vitest";
import { ValueError } from "../../../src/errors.js";
import { PRESETS } from "../../../src/machine/machine.js";
import {
  archZoneRanges, findZoneMovablePfns, flatLayout, layoutZones, machineZoneLayout, managedByNode, parseCoreParam,
  qemuPcMemoryMap, ZONE_DMA, ZONE_DMA32, ZONE_MOVABLE, ZONE_NORMAL, type MemoryMap, type ZoneLayout,
} from "../../../src/machine/zones.js";

/** [zoneStartPfn, spanned, present, managed] per zone of a node */
const spans = (l: ZoneLayout, nid: number) => l.nodes[nid]!.zones.map((z) => [z.zoneStartPfn, z.spannedPages, z.presentPages, z.managedPages]);
const EMPTY = [0, 0, 0, 0];

describe("the sample guest (424 MiB QEMU pc, one CPU): ../shared/kernel-samples/zoneinfo.txt", () => {
  it("its RAM as SeaBIOS and Linux show it: [1, 0x9f), [0x100, 108503)", () => {
    expect(qemuPcMemoryMap([424 * 256])).toEqual({ nodes: [{ nid: 0, ranges: [{ start: 1, end: 159 }, { start: 256, end: 108503 }] }] });
  });
  it("reproduces DMA and DMA32 start_pfn, spanned, present; DMA managed; DMA32 managed from the measured reservation", () => {
    // DMA: [1, 4096) spans 4095, present 158 + 3840 = 3998, managed 3998 - 158 (first 1 MiB reserved) = 3840
    // DMA32: [4096, 108503) = 104407 present; managed 93694 = 104407 - 10713 pages that memblock
    // kept (kernel image, memmap, ...), which the sample alone cannot tell apart: a parameter
    const l = layoutZones(qemuPcMemoryMap([424 * 256]), { reservedPages: { 0: { [ZONE_DMA32]: 10713 } } });
    expect(spans(l, 0)).toEqual([[1, 4095, 3998, 3840], [4096, 104407, 104407, 93694], EMPTY, EMPTY, EMPTY]);
    expect(l.nodes[0]).toMatchObject({ nodeStartPfn: 1, nodeEndPfn: 108503, nodePresentPages: 3998 + 104407 });
    expect(l.movableZone).toBe(ZONE_DMA32);
    expect(managedByNode(l)).toEqual([[3840, 93694, 0, 0, 0]]);
  });
});

describe("the presets laid out as QEMU pc guests of the same sizes", () => {
  it("default (4 GiB): 3 GiB below 4 GiB, 1 GiB above; DMA32 spans the PCI hole", () => {
    const l = machineZoneLayout(PRESETS.default!, "qemu-pc");
    // RAM [1,159) [256,786391) [1048576,1310720); DMA32 = [4096, 0x100000): 1044480 spanned, 786391-4096 present
    expect(spans(l, 0)).toEqual([[1, 4095, 3998, 3840], [4096, 1044480, 782295, 782295], [1048576, 262144, 262144, 262144], EMPTY, EMPTY]);
    expect(l.nodes[0]).toMatchObject({ nodeStartPfn: 1, nodeEndPfn: 1310720, nodePresentPages: 1048437 });
    expect(l.movableZone).toBe(ZONE_NORMAL);
  });
  it("vm (2 GiB): all below 4 GiB, no Normal", () => {
    const l = machineZoneLayout(PRESETS.vm!, "qemu-pc");
    expect(spans(l, 0)).toEqual([[1, 4095, 3998, 3840], [4096, 520151, 520151, 520151], EMPTY, EMPTY, EMPTY]);
  });
  it("numa2 (4 + 4 GiB): node 1 is [0x140000, 0x240000), all Normal", () => {
    const l = machineZoneLayout(PRESETS.numa2!, "qemu-pc");
    expect(spans(l, 0)).toEqual(spans(machineZoneLayout(PRESETS.default!, "qemu-pc"), 0));
    expect(spans(l, 1)).toEqual([EMPTY, EMPTY, [1310720, 1048576, 1048576, 1048576], EMPTY, EMPTY]);
  });
  it("tiered (4 + 8 GiB): node 1 is [0x140000, 0x340000)", () => {
    const l = machineZoneLayout(PRESETS.tiered!, "qemu-pc");
    expect(spans(l, 1)).toEqual([EMPTY, EMPTY, [1310720, 2097152, 2097152, 2097152], EMPTY, EMPTY]);
  });
  it("a node boundary below 4 GiB: two 1 GiB nodes share DMA32", () => {
    const m = qemuPcMemoryMap([262144, 262144]);
    expect(m.nodes[1]!.ranges).toEqual([{ start: 262144, end: 524247 }]);
    const l = layoutZones(m);
    expect(spans(l, 1)).toEqual([EMPTY, [262144, 262103, 262103, 262103], EMPTY, EMPTY, EMPTY]);
    expect(spans(l, 0)[1]).toEqual([4096, 258048, 258048, 258048]);
  });
  it("the flat layout is today's: one Normal zone per node from pfn 0", () => {
    const l = machineZoneLayout(PRESETS.numa2!, "flat");
    expect(l.kind).toBe("flat");
    expect(spans(l, 0)).toEqual([EMPTY, EMPTY, [0, 1048576, 1048576, 1048576], EMPTY, EMPTY]);
    expect(spans(l, 1)).toEqual([EMPTY, EMPTY, [1048576, 1048576, 1048576, 1048576], EMPTY, EMPTY]);
    expect(flatLayout([512]).nodes[0]!.nodeEndPfn).toBe(512);
  });
});

describe("arch ranges and ZONE_MOVABLE (find_zone_movable_pfns_for_nodes)", () => {
  it("free_area_init lays the arch ranges end to end", () => {
    expect(archZoneRanges(1, 1310720)).toEqual([
      { start: 1, end: 4096 }, { start: 4096, end: 1048576 }, { start: 1048576, end: 1310720 }, { start: 0, end: 0 }, { start: 1310720, end: 1310720 },
    ]);
    // below 4 GiB Normal is empty: [max_pfn, max_pfn)
    expect(archZoneRanges(1, 108503)[ZONE_NORMAL]).toEqual({ start: 108503, end: 108503 });
  });
  it("movablecore=1G on the default preset: memory below 4 GiB is kernel memory, so Normal becomes all Movable", () => {
    // totalpages 1048437; kernelcore = 1048437 - 262144 = 786293, all met by the 786293 pages below 4 GiB
    const l = machineZoneLayout(PRESETS.default!, "qemu-pc", { movablecore: parseCoreParam("1G") });
    expect(l.zoneMovablePfn).toEqual([1048576]);
    expect(spans(l, 0)[ZONE_NORMAL]).toEqual(EMPTY);
    expect(spans(l, 0)[ZONE_MOVABLE]).toEqual([1048576, 262144, 262144, 262144]);
    expect(spans(l, 0)[ZONE_DMA32]).toEqual([4096, 1044480, 782295, 782295]);
  });
  it("kernelcore=1G over two 1 GiB nodes above 4 GiB: half of each node", () => {
    const map: MemoryMap = { nodes: [{ nid: 0, ranges: [{ start: 0x100000, end: 0x140000 }] }, { nid: 1, ranges: [{ start: 0x140000, end: 0x180000 }] }] };
    const l = layoutZones(map, { kernelcore: { pages: 262144 }, reservedRanges: [] });
    expect(l.zoneMovablePfn).toEqual([0x120000, 0x160000]);
    expect(spans(l, 0)[ZONE_NORMAL]).toEqual([0x100000, 131072, 131072, 131072]);
    expect(spans(l, 0)[ZONE_MOVABLE]).toEqual([0x120000, 131072, 131072, 131072]);
    expect(spans(l, 1)[ZONE_MOVABLE]).toEqual([0x160000, 131072, 131072, 131072]);
  });
  it("a node too small for its share: a second pass takes the rest from the other node", () => {
    // node 0 has 32768 pages, node 1 262144; kernelcore 262144: pass 1 takes 32768 + 131072,
    // pass 2 (one node) the remaining 98304 from node 1 -> node 1 movable from 0x140000
    const map: MemoryMap = { nodes: [{ nid: 0, ranges: [{ start: 0x100000, end: 0x108000 }] }, { nid: 1, ranges: [{ start: 0x108000, end: 0x148000 }] }] };
    const arch = archZoneRanges(0x100000, 0x148000);
    expect(findZoneMovablePfns(map, arch, { kernelcore: { pages: 262144 } })).toEqual([0, 0x140000]);
    const l = layoutZones(map, { kernelcore: { pages: 262144 }, reservedRanges: [] });
    expect(spans(l, 0)[ZONE_NORMAL]).toEqual([0x100000, 32768, 32768, 32768]);
    expect(spans(l, 0)[ZONE_MOVABLE]).toEqual(EMPTY);
    expect(spans(l, 1)[ZONE_NORMAL]).toEqual([0x108000, 229376, 229376, 229376]);
    expect(spans(l, 1)[ZONE_MOVABLE]).toEqual([0x140000, 32768, 32768, 32768]);
  });
  it("percentages, the MAX_ORDER round-up, and no Movable when kernelcore covers everything", () => {
    const map: MemoryMap = { nodes: [{ nid: 0, ranges: [{ start: 0x100000, end: 0x140000 }] }] };
    const arch = archZoneRanges(0x100000, 0x140000);
    // 25% of 262144 = 65536 kernel pages
    expect(findZoneMovablePfns(map, arch, { kernelcore: { percent: 25 } })).toEqual([0x110000]);
    // movablecore 1000 pages -> 1024; kernelcore 261120 -> start 0x100000 + 261120 = 0x13fc00
    expect(findZoneMovablePfns(map, arch, { movablecore: { pages: 1000 } })).toEqual([0x13fc00]);
    // kernelcore 1000 pages: start 0x1003e8 rounded up to 0x100400
    expect(findZoneMovablePfns(map, arch, { kernelcore: { pages: 1000 } })).toEqual([0x100400]);
    expect(findZoneMovablePfns(map, arch, { kernelcore: { pages: 262144 } })).toEqual([0]);
    expect(findZoneMovablePfns(map, arch, {})).toEqual([0]);
    // both: the larger kernelcore wins
    expect(findZoneMovablePfns(map, arch, { kernelcore: { pages: 131072 }, movablecore: { pages: 196608 } })).toEqual([0x120000]);
  });
  it("a 1 GiB guest: Movable comes out of DMA32", () => {
    // RAM [1,159) [256,262103): totalpages 158 + 261847 = 262005; 50% = 131002 -> 131072;
    // kernelcore 130933: 158 (below 1 MiB) + 3840 (DMA, below DMA32's arch start 4096) + 126935
    // from 4096 -> 131031, rounded up to 131072
    const l = layoutZones(qemuPcMemoryMap([262144]), { movablecore: { percent: 50 } });
    expect(l.zoneMovablePfn).toEqual([131072]);
    expect(spans(l, 0)).toEqual([[1, 4095, 3998, 3840], [4096, 126976, 126976, 126976], EMPTY, [131072, 131031, 131031, 131031], EMPTY]);
  });
});

describe("parameters and errors", () => {
  it("parseCoreParam reads sizes and percentages as the kernel does", () => {
    expect(parseCoreParam("512M")).toEqual({ pages: 131072 });
    expect(parseCoreParam("4g")).toEqual({ pages: 1048576 });
    expect(parseCoreParam("1048576K")).toEqual({ pages: 262144 });
    expect(parseCoreParam("12345")).toEqual({ pages: 3 });
    expect(parseCoreParam("25%")).toEqual({ percent: 25 });
    expect(() => parseCoreParam("lots")).toThrow(ValueError);
    expect(() => parseCoreParam("150%")).toThrow(/0\.\.100/);
  });
  it("rejects bad maps and reservations that do not fit", () => {
    expect(() => layoutZones({ nodes: [] })).toThrow(/at least one node/);
    expect(() => layoutZones({ nodes: [{ nid: 1, ranges: [{ start: 0, end: 10 }] }] })).toThrow(/expected 0/);
    expect(() => layoutZones({ nodes: [{ nid: 0, ranges: [{ start: 10, end: 5 }] }] })).toThrow(/bad pfn range/);
    expect(() => layoutZones(qemuPcMemoryMap([424 * 256]), { reservedPages: { 0: { [ZONE_DMA]: 3841 } } })).toThrow(/only 3840/);
    expect(() => layoutZones(qemuPcMemoryMap([424 * 256]), { reservedPages: { 0: { [ZONE_NORMAL]: 1 } } })).toThrow(/does not have/);
    expect(() => layoutZones(qemuPcMemoryMap([424 * 256]), { reservedPages: { 3: { [ZONE_DMA]: 1 } } })).toThrow(/node 3/);
    expect(() => qemuPcMemoryMap([100])).toThrow(/at least 2 MiB/);
  });
});
