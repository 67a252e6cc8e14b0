/**
 * src/machine/zone-setup.ts: a machine's zones after boot, put together from the layout and
 * the 6.1 formulas, checked against the real zoneinfo sample (424 MiB QEMU pc guest, one
 * CPU) and by hand for the default preset.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ValueError } from "../../../src/errors.js";
import { PRESETS } from "../../../src/machine/machine.js";
import { bootZoneinfo, layoutFromZoneinfo, NODE_STAT_ITEMS, setupZones, ZONE_STAT_ITEMS } from "../../../src/machine/zone-setup.js";
import { layoutZones, machineZoneLayout, qemuPcMemoryMap, ZONE_DMA32 } from "../../../src/machine/zones.js";
import { formatZoneinfo, parseZoneinfo } from "../../../src/procfs/zoneinfo.js";

const SAMPLE = readFileSync(new URL("../../fixtures/kernel-samples/zoneinfo.txt", import.meta.url), "utf8");
const real = parseZoneinfo(SAMPLE, "zoneinfo.txt");

/**
 * The sample guest from its description: QEMU pc with -m 424M and one CPU, DMA32 keeping
 * 10713 pages in memblock (kernel image, memmap, ...: not derivable, read off the sample), and
 * DMA32's managed pages at boot somewhere in 91136..91391 (the sample's DMA protection 356 says
 * so; the value itself is unknown, 91264 is the middle).
 */
function guestSetup() {
  const layout = layoutZones(qemuPcMemoryMap([424 * 256]), { reservedPages: { 0: { [ZONE_DMA32]: 10713 } } });
  return setupZones(layout, { cpusByNode: [1], reserveManaged: [[3840, 91264, 0, 0, 0]] });
}

describe("the sample guest, rebuilt from its description", () => {
  it("min_free_kbytes 19320 (THP on: set_recommended_min_free_kbytes)", () => {
    expect(guestSetup().minFreeKbytes).toBe(19320);
  });
  it("every static field of every zone equals the real zoneinfo", () => {
    const ours = bootZoneinfo(guestSetup());
    const pick = (z: (typeof ours.pgdats)[0]["zones"][0]) => ({
      name: z.name, min: z.min, low: z.low, high: z.high, spanned: z.spannedPages, present: z.presentPages, managed: z.managedPages,
      protection: z.lowmemReserve, start: z.zoneStartPfn, pcp: z.pagesets?.map((p) => [p.cpu, p.high, p.batch, p.statThreshold]),
    });
    expect(ours.pgdats[0]!.zones.map(pick)).toEqual(real.pgdats[0]!.zones.map(pick));
  });
  it("with the sample's counters filled in, formats to the sample byte for byte", () => {
    const ours = bootZoneinfo(guestSetup());
    ours.pgdats[0]!.nodeStats = real.pgdats[0]!.nodeStats;
    ours.pgdats[0]!.zones.forEach((z, i) => {
      const r = real.pgdats[0]!.zones[i]!;
      z.freePages = r.freePages;
      if (z.stats) z.stats = r.stats;
      z.pagesets?.forEach((p, k) => (p.count = r.pagesets![k]!.count));
    });
    expect(formatZoneinfo(ours, { lineEnding: "\r\n" })).toBe(SAMPLE);
  });
  it("the stat names are the sample's, in its order", () => {
    expect(Object.keys(real.pgdats[0]!.nodeStats!)).toEqual(NODE_STAT_ITEMS);
    expect(Object.keys(real.pgdats[0]!.zones[1]!.stats!)).toEqual(ZONE_STAT_ITEMS);
  });
  it("without the boot-time managed count, DMA's protection is 365, not 356", () => {
    const layout = layoutZones(qemuPcMemoryMap([424 * 256]), { reservedPages: { 0: { [ZONE_DMA32]: 10713 } } });
    expect(setupZones(layout, { cpusByNode: [1] }).nodes[0]!.zones[0]!.lowmemReserve).toEqual([0, 365, 365, 365, 365]);
  });
});

describe("the default preset (4 GiB, QEMU pc layout) with one CPU, by hand", () => {
  const s = setupZones(machineZoneLayout(PRESETS.default!, "qemu-pc"), { cpusByNode: [1] });
  const z = s.nodes[0]!.zones;
  it("min_free_kbytes: sqrt rule 8190, raised by THP to 512 * 3 zones * 11 = 16896 pages", () => {
    expect(s.minFreeKbytes).toBe(67584);
    expect(setupZones(machineZoneLayout(PRESETS.default!, "qemu-pc"), { cpusByNode: [1], thpEnabled: false }).minFreeKbytes).toBe(8190);
  });
  it("watermarks: pages_min 16896 split over 1048279 managed pages", () => {
    // DMA 16896*3840/1048279 = 61; DMA32 16896*782295/1048279 = 12608; Normal 16896*262144/1048279 = 4225
    expect(z.map((x) => [x.wmarks.min, x.wmarks.low, x.wmarks.high])).toEqual([
      [61, 76, 91], [12608, 15760, 18912], [4225, 5281, 6337], [0, 0, 0], [0, 0, 0],
    ]);
  });
  it("lowmem_reserve, pcp and thresholds", () => {
    expect(z[0]!.lowmemReserve).toEqual([0, 3055, 4079, 4079, 4079]);
    expect(z[1]!.lowmemReserve).toEqual([0, 0, 1024, 1024, 1024]);
    expect(z.map((x) => x.pcp)).toEqual([{ batch: 1, high: 76 }, { batch: 63, high: 15760 }, { batch: 63, high: 5281 }, null, null]);
    // 782295 >> 15 = 23 (fls 5): 2 * 1 * 6 = 12; 262144 >> 15 = 8 (fls 4): 10
    expect(z.map((x) => x.statThreshold)).toEqual([2, 12, 10, 0, 0]);
  });
  it("CPUs are numbered node by node; a CPU-less node splits pcp high over all CPUs", () => {
    const t = setupZones(machineZoneLayout(PRESETS.tiered!, "qemu-pc"), { cpusByNode: [2, 0] });
    expect(t.nodes.map((n) => n.cpus)).toEqual([[0, 1], []]);
    // 4 populated zones up to Normal: 512 * 4 * 11 = 22528 pages; node 1's Normal min
    // 22528 * 2097152 / 3145431 = 15020, delta max(3755, 2097) = 3755, low 18775; high 18775 / 2 CPUs
    expect(t.minFreeKbytes).toBe(90112);
    const normal1 = t.nodes[1]!.zones[2]!;
    expect(normal1.wmarks.low).toBe(18775);
    expect(normal1.pcp).toEqual({ batch: 63, high: 9387 });
    expect(() => setupZones(machineZoneLayout(PRESETS.tiered!, "qemu-pc"), { cpusByNode: [0, 0] })).toThrow(/at least one CPU/);
    expect(() => setupZones(machineZoneLayout(PRESETS.tiered!, "qemu-pc"), { cpusByNode: [1] })).toThrow(ValueError);
  });
  it("its boot zoneinfo parses back to itself", () => {
    const text = formatZoneinfo(bootZoneinfo(s));
    expect(text.startsWith("Node 0, zone      DMA\n  per-node stats\n      nr_inactive_anon 0\n")).toBe(true);
    expect(text).toContain("  pages free     782295\n");
    expect(formatZoneinfo(parseZoneinfo(text, "boot"))).toBe(text);
  });
});

describe("a machine read back from a saved zoneinfo", () => {
  it("the sample gives the same spans as its description, and CPU 0", () => {
    const { layout, cpus } = layoutFromZoneinfo(real);
    const described = layoutZones(qemuPcMemoryMap([424 * 256]), { reservedPages: { 0: { [ZONE_DMA32]: 10713 } } });
    expect(layout.nodes[0]!.zones).toEqual(described.nodes[0]!.zones);
    expect(layout.nodes[0]).toMatchObject({ nodeStartPfn: 1, nodeEndPfn: 108503, nodePresentPages: 108405 });
    expect(layout.movableZone).toBe(ZONE_DMA32);
    expect(cpus).toEqual([0]);
  });
  it("refuses zones that are not x86-64's and counts that contradict each other", () => {
    const bad = structuredClone(real);
    bad.pgdats[0]!.zones[1]!.name = "HighMem";
    expect(() => layoutFromZoneinfo(bad)).toThrow(/zones DMA, HighMem/);
    const worse = structuredClone(real);
    worse.pgdats[0]!.zones[0]!.managedPages = 5000;
    expect(() => layoutFromZoneinfo(worse)).toThrow(/managed <= present <= spanned/);
  });
});

describe("the flat layout keeps today's numbers", () => {
  // src/mm/watermarks.ts, which these were once compared with, is gone: the engine uses
  // zone-params.ts now, so the numbers it gave are pinned by hand instead
  it("min_free_kbytes and watermarks of the flat presets are the old model's", async () => {
    const { flatLayout, managedByNode } = await import("../../../src/machine/zones.js");
    const { defaultMinFreeKbytes, setupPerZoneWmarks } = await import("../../../src/mm/zone-params.js");
    const G = 262144;
    const one = managedByNode(flatLayout([4 * G]));
    // calculate_min_free_kbytes: int_sqrt(4 GiB in KiB * 16) = 8192; THP: 512 * 1 zone * 11 pages = 22528 KiB
    expect(defaultMinFreeKbytes(one, false)).toBe(8192);
    expect(defaultMinFreeKbytes(one, true)).toBe(22528);
    // min 22528 / 4 = 5632; delta max(1408, 1048576 * 10 / 10000 = 1048) = 1408
    expect(setupPerZoneWmarks(one, 22528)[0]![2]).toEqual({ min: 5632, low: 7040, high: 8448, promo: 9856 });
    // tiered: two Normal zones count twice in the THP floor; min split 4:8
    const two = managedByNode(flatLayout([4 * G, 8 * G]));
    expect(defaultMinFreeKbytes(two, true)).toBe(512 * 2 * 11 * 4);
    const w = setupPerZoneWmarks(two, 45056);
    expect(w[0]![2]!.min).toBe(Math.floor((11264 * 4) / 12));
    expect(w[1]![2]!.min).toBe(Math.floor((11264 * 8) / 12));
  });
});
