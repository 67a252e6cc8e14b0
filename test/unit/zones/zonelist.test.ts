/** src/mm/zonelist.ts: gfp_zone, gfp_migratetype, build_zonelists' node order, zones per node high to low. */
import { describe, expect, it } from "vitest";
import { ValueError } from "../../../src/errors.js";
import { PRESETS } from "../../../src/machine/machine.js";
import { machineZoneLayout, parseCoreParam, ZONE_DMA, ZONE_DMA32, ZONE_MOVABLE, ZONE_NORMAL } from "../../../src/machine/zones.js";
import {
  __GFP_DMA, __GFP_DMA32, __GFP_HIGHMEM, __GFP_MOVABLE, __GFP_RECLAIMABLE, buildNodeOrders, buildZonelists, eligibleZones, GFP_HIGHUSER_MOVABLE,
  GFP_KERNEL, GFP_USER, gfpMigratetype, gfpZone,
} from "../../../src/mm/zonelist.js";

const all = (n: number, cpus = true) => Array.from({ length: n }, (_, nid) => ({ nid, hasMemory: true, hasCpus: cpus }));
const refs = (l: { nid: number; zoneIdx: number }[]) => l.map((z) => `${z.nid}:${z.zoneIdx}`);

describe("gfp_zone and gfp_migratetype", () => {
  it("the allocation types of the issue: GFP_KERNEL -> Normal, GFP_HIGHUSER_MOVABLE -> Movable, GFP_DMA32 -> DMA32", () => {
    expect(GFP_KERNEL).toBe(0xcc0);
    expect(gfpZone(GFP_KERNEL)).toBe(ZONE_NORMAL);
    expect(gfpZone(GFP_USER)).toBe(ZONE_NORMAL);
    expect(gfpZone(GFP_HIGHUSER_MOVABLE)).toBe(ZONE_MOVABLE);
    expect(gfpZone(GFP_KERNEL | __GFP_DMA32)).toBe(ZONE_DMA32);
    expect(gfpZone(GFP_KERNEL | __GFP_DMA)).toBe(ZONE_DMA);
  });
  it("GFP_ZONE_TABLE's other entries: MOVABLE alone is Normal, HIGHMEM alone is Normal without highmem", () => {
    expect(gfpZone(__GFP_MOVABLE)).toBe(ZONE_NORMAL);
    expect(gfpZone(__GFP_HIGHMEM)).toBe(ZONE_NORMAL);
    expect(gfpZone(__GFP_MOVABLE | __GFP_DMA)).toBe(ZONE_DMA);
    expect(gfpZone(__GFP_MOVABLE | __GFP_DMA32)).toBe(ZONE_DMA32);
    expect(() => gfpZone(__GFP_DMA | __GFP_DMA32)).toThrow(ValueError);
    expect(() => gfpZone(__GFP_DMA32 | __GFP_HIGHMEM | __GFP_MOVABLE)).toThrow(/GFP_ZONE_BAD/);
  });
  it("migratetype from the mobility bits", () => {
    expect(gfpMigratetype(GFP_KERNEL)).toBe(0);
    expect(gfpMigratetype(GFP_HIGHUSER_MOVABLE)).toBe(1);
    expect(gfpMigratetype(GFP_KERNEL | __GFP_RECLAIMABLE)).toBe(2);
  });
});

describe("node order (find_next_best_node)", () => {
  it("four equidistant nodes with CPUs take turns: each list starts after its own node", () => {
    // node_load, shared by the passes, makes the first pick of each distance group rotate
    expect(buildNodeOrders(all(4))).toEqual([[0, 1, 2, 3], [1, 2, 3, 0], [2, 3, 0, 1], [3, 0, 1, 2]]);
  });
  it("a node without CPUs is preferred at equal distance", () => {
    const nodes = [{ nid: 0, hasMemory: true, hasCpus: true }, { nid: 1, hasMemory: true, hasCpus: true }, { nid: 2, hasMemory: true, hasCpus: false }];
    // node 0: 2 scores 20*1024 < 1's 21*1024; node 1: 2 (20*1024 + load 1) < 0 (22*1024);
    // node 2: 0 and 1 both 22*1024 + 0, the lower id wins
    expect(buildNodeOrders(nodes)).toEqual([[0, 2, 1], [1, 2, 0], [2, 0, 1]]);
  });
  it("distances decide first: a SLIT with a far node", () => {
    const d = [[10, 21, 31], [21, 10, 31], [31, 31, 10]];
    expect(buildNodeOrders(all(3), (a, b) => d[a]![b]!)).toEqual([[0, 1, 2], [1, 0, 2], [2, 0, 1]]);
  });
  it("a node without memory is never a fallback, but leads its own list", () => {
    const nodes = [{ nid: 0, hasMemory: true, hasCpus: true }, { nid: 1, hasMemory: false, hasCpus: true }];
    expect(buildNodeOrders(nodes)).toEqual([[0], [1, 0]]);
  });
});

describe("zonelists of the presets (QEMU pc layout)", () => {
  it("numa2: local zones high to low, then the other node's", () => {
    const z = buildZonelists(machineZoneLayout(PRESETS.numa2!, "qemu-pc"), [1, 1]);
    expect(refs(z[0]!)).toEqual(["0:2", "0:1", "0:0", "1:2"]);
    expect(refs(z[1]!)).toEqual(["1:2", "0:2", "0:1", "0:0"]);
  });
  it("a movable allocation falls back Movable -> DMA32 -> DMA; a kernel one never sees Movable", () => {
    const layout = machineZoneLayout(PRESETS.default!, "qemu-pc", { movablecore: parseCoreParam("1G") });
    const z = buildZonelists(layout, [1])[0]!;
    expect(refs(z)).toEqual(["0:3", "0:1", "0:0"]); // Normal is empty
    expect(refs(eligibleZones(z, gfpZone(GFP_HIGHUSER_MOVABLE)))).toEqual(["0:3", "0:1", "0:0"]);
    expect(refs(eligibleZones(z, gfpZone(GFP_KERNEL)))).toEqual(["0:1", "0:0"]);
    expect(refs(eligibleZones(z, gfpZone(GFP_KERNEL | __GFP_DMA32)))).toEqual(["0:1", "0:0"]);
    expect(refs(eligibleZones(z, ZONE_DMA))).toEqual(["0:0"]);
  });
  it("rejects a CPU list that does not match the nodes", () => {
    expect(() => buildZonelists(machineZoneLayout(PRESETS.numa2!, "qemu-pc"), [1])).toThrow(/2 nodes/);
  });
});
