import { describe, expect, it } from "vitest";
import { calculateMinFreeKbytes as calcByNode, defaultMinFreeKbytes as defaultByNode, intSqrt, setupPerZoneWmarks } from "../../../src/mm/zone-params.js";
import { engineFor } from "../../helpers.js";
import { PRESETS } from "../../../src/machine/machine.js";

const G = 262144;

// watermarks.ts is gone (one formula source: zone-params.ts); these adapters keep the old
// shapes: a list of one-Normal-zone nodes by managed pages, marks as [min, low, high, promo]
const normal = (managed: number) => [0, 0, managed, 0, 0];
const calculateMinFreeKbytes = (managed: number) => calcByNode([normal(managed)]);
const defaultMinFreeKbytes = (nodes: number[], thp: boolean, scale: number) => defaultByNode(nodes.map(normal), thp, scale);
const computeWatermarks = (nodes: number[], kb: number, scale: number) =>
  setupPerZoneWmarks(nodes.map(normal), kb, scale).map((zs) => [zs[2]!.min, zs[2]!.low, zs[2]!.high, zs[2]!.promo]);

describe("watermarks (6.1 __setup_per_zone_wmarks)", () => {
  it("int_sqrt is exact", () => {
    for (const x of [0, 1, 2, 3, 4, 15, 16, 17, 67108864, 2 ** 40, 2 ** 40 - 1]) {
      const r = intSqrt(x);
      expect(r * r <= x && (r + 1) * (r + 1) > x).toBe(true);
    }
  });

  it("4 GiB: min_free_kbytes 8192 without THP, 22528 with it (set_recommended_min_free_kbytes)", () => {
    expect(calculateMinFreeKbytes(4 * G)).toBe(8192);
    const z = [4 * G];
    expect(defaultMinFreeKbytes(z, false, 10)).toBe(8192);
    expect(defaultMinFreeKbytes(z, true, 10)).toBe(22528);
    expect(computeWatermarks(z, 8192, 10)[0]).toEqual([2048, 3096, 4144, 5192]);
    expect(computeWatermarks(z, 22528, 10)[0]!.slice(0, 3)).toEqual([5632, 7040, 8448]);
  });

  it("the clamp holds at both ends", () => {
    expect(calculateMinFreeKbytes(256)).toBe(128);
    expect(calculateMinFreeKbytes(2 ** 30)).toBe(262144);
  });

  it("min is split across nodes by managed pages; two zones count twice in the THP floor", () => {
    const zs = [4 * G, 8 * G];
    const kb = defaultMinFreeKbytes(zs, true, 10);
    expect(kb).toBe(512 * 2 * 11 * 4);
    const w = computeWatermarks(zs, kb, 10);
    expect(w[0]![0]).toBe(Math.floor((kb / 4) * (4 * G) / (12 * G)));
    expect(w[1]![0]).toBe(Math.floor((kb / 4) * (8 * G) / (12 * G)));
  });

  it("the engine recomputes min_free_kbytes when THP changes, unless it was written", () => {
    // the preset's node as one flat Normal zone (the x86 layout's three zones give 67584)
    const e = engineFor({ ...PRESETS.default!, zones: "flat" });
    expect(e.settings.num("vm.min_free_kbytes")).toBe(22528);
    e.settings.set("transparent_hugepage.enabled", "never");
    expect(e.settings.num("vm.min_free_kbytes")).toBe(8192);
    expect(e.mem.zones[0]!.wmark[0]).toBe(2048);
    e.settings.set("vm.min_free_kbytes", "40000");
    e.settings.set("transparent_hugepage.enabled", "always");
    expect(e.settings.num("vm.min_free_kbytes")).toBe(40000);
    expect(e.mem.zones[0]!.wmark[0]).toBe(10000);
  });

  it("watermark_scale_factor widens the gaps", () => {
    const e = engineFor({ ...PRESETS.default!, zones: "flat" }, {}, { "vm.watermark_scale_factor": "100" });
    const z = e.mem.zones[0]!;
    expect(z.wmark[1]! - z.wmark[0]!).toBe(10485);
  });
});
