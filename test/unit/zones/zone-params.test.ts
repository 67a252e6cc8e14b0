/**
 * src/mm/zone-params.ts against hand-computed values and against the real 6.1 zoneinfo of
 * ../shared/kernel-samples/zoneinfo.txt (copied to test/fixtures/kernel-samples/): a 424 MiB
 * QEMU guest with one CPU, DMA managed 3840, DMA32 managed 93694, Normal/Movable/Device empty.
 */
import { describe, expect, it } from "vitest";
import { ValueError } from "../../../src/errors.js";
import {
  calculateMinFreeKbytes, defaultMinFreeKbytes, lowmemReserve, normalStatThreshold, nrFreeBufferPages, pcpParams,
  pressureStatThreshold, recommendedMinFreeKbytes, setupPerZoneWmarks, totalreservePages, zoneBatchsize, zoneHighsize,
} from "../../../src/mm/zone-params.js";

/** the sample guest's managed pages per zone (DMA, DMA32, Normal, Movable, Device) */
const GUEST = [3840, 93694, 0, 0, 0];

describe("lowmem_reserve (setup_per_zone_lowmem_reserve)", () => {
  it("a 4 GiB node: DMA reserves (DMA32..j)/256, DMA32 Normal/256, Normal Movable/32", () => {
    const r = lowmemReserve([3840, 782295, 262144, 0, 0]);
    // 782295/256 = 3055.8; (782295+262144)/256 = 1044439/256 = 4079.8
    expect(r[0]).toEqual([0, 3055, 4079, 4079, 4079]);
    expect(r[1]).toEqual([0, 0, 1024, 1024, 1024]);
    expect(r[2]).toEqual([0, 0, 0, 0, 0]);
    expect(r[3]).toEqual([0, 0, 0, 0, 0]);
    expect(r[4]).toEqual([0, 0, 0, 0, 0]);
  });
  it("with ZONE_MOVABLE: Normal reserves Movable/32, DMA32 (Normal+Movable)/256", () => {
    const r = lowmemReserve([3840, 782295, 131072, 131072, 0]);
    expect(r[2]).toEqual([0, 0, 0, 4096, 4096]);
    expect(r[1]).toEqual([0, 0, 512, 1024, 1024]);
    expect(r[0]).toEqual([0, 3055, 3567, 4079, 4079]); // 913367/256 = 3567.8
  });
  it("a zone without managed pages, or with ratio 0 (or below 1), reserves nothing", () => {
    // a node above 4 GiB: no DMA, no DMA32
    expect(lowmemReserve([0, 0, 1048576, 262144, 0])).toEqual([
      [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 8192, 8192], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0],
    ]);
    expect(lowmemReserve([3840, 93694, 0, 0, 0], [0, 256, 32, 0, 0])[0]).toEqual([0, 0, 0, 0, 0]);
    expect(lowmemReserve([3840, 93694, 0, 0, 0], [-5, 256, 32, 0, 0])[0]).toEqual([0, 0, 0, 0, 0]);
    expect(lowmemReserve([3840, 93694, 0, 0, 0], [1, 256, 32, 0, 0])[0]).toEqual([0, 93694, 93694, 93694, 93694]);
  });
  it("the sample: DMA32 and the empty zones print (0, 0, 0, 0, 0)", () => {
    const r = lowmemReserve(GUEST);
    for (const z of [1, 2, 3, 4]) expect(r[z]).toEqual([0, 0, 0, 0, 0]);
  });
  it("the sample's DMA protection (0, 356, 356, 356, 356) comes from DMA32's managed pages at boot, not today's", () => {
    // today's managed gives 93694/256 = 365. 6.1 computes the reserve only in
    // init_per_zone_wmark_min (postcore_initcall) and on a sysctl write; the initrd and init
    // memory freed later raised DMA32's managed to 93694 without recomputing it. 356 means
    // DMA32 had 91136..91391 managed pages then: the boot count is an input we do not have.
    expect(lowmemReserve(GUEST)[0]).toEqual([0, 365, 365, 365, 365]);
    expect(lowmemReserve([3840, 91136, 0, 0, 0])[0]).toEqual([0, 356, 356, 356, 356]);
    expect(lowmemReserve([3840, 91391, 0, 0, 0])[0]).toEqual([0, 356, 356, 356, 356]);
    expect(lowmemReserve([3840, 91392, 0, 0, 0])[0]![1]).toBe(357);
    expect(lowmemReserve([3840, 91135, 0, 0, 0])[0]![1]).toBe(355);
  });
  it("rejects arrays of the wrong length and non-integers", () => {
    expect(() => lowmemReserve([1, 2, 3])).toThrow(ValueError);
    expect(() => lowmemReserve(GUEST, [256, 256, 32])).toThrow(/5 values/);
    expect(() => lowmemReserve([1.5, 0, 0, 0, 0])).toThrow(/non-negative integer/);
  });
});

describe("min_free_kbytes (calculate_min_free_kbytes, set_recommended_min_free_kbytes)", () => {
  it("boot value: int_sqrt(Σ managed * 4 * 16) over DMA..Normal", () => {
    // 97534 pages * 4 = 390136 KiB; * 16 = 6242176; 2498^2 = 6240004 <= it < 2499^2 = 6245001
    expect(calculateMinFreeKbytes([GUEST])).toBe(2498);
    // Movable is not in nr_free_buffer_pages
    expect(calculateMinFreeKbytes([[3840, 93694, 0, 1000000, 0]])).toBe(2498);
    // 4 GiB of Normal: sqrt(4194304 * 16) = 8192; the clamps 128 and 262144
    expect(calculateMinFreeKbytes([[0, 0, 1048576, 0, 0]])).toBe(8192);
    expect(calculateMinFreeKbytes([[0, 0, 64, 0, 0]])).toBe(128);
    expect(calculateMinFreeKbytes([[0, 0, 2 ** 31, 0, 0], [0, 0, 2 ** 31, 0, 0]])).toBe(262144);
  });
  it("THP raises it to min(512 * nr_zones * 11, nr_free_buffer_pages / 20) pages: the sample's 19320 KiB", () => {
    const base = setupPerZoneWmarks([GUEST], 2498);
    // pages_min 624: DMA min 624*3840/97534 = 24, delta max(6, 3) = 6, high 36;
    // DMA32 min 624*93694/97534 = 599, delta max(149, 93) = 149, high 897
    expect(base[0]![0]).toEqual({ min: 24, low: 30, high: 36, promo: 42 });
    expect(base[0]![1]).toEqual({ min: 599, low: 748, high: 897, promo: 1046 });
    const highs = [base[0]!.map((w) => w.high)];
    // (3840 - 36) + (93694 - 897) = 96601; / 20 = 4830 < 512 * 2 * 11 = 11264
    expect(nrFreeBufferPages([GUEST], highs)).toBe(96601);
    expect(recommendedMinFreeKbytes([GUEST], highs, 2498)).toBe(19320);
    expect(defaultMinFreeKbytes([GUEST], true)).toBe(19320);
    expect(defaultMinFreeKbytes([GUEST], false)).toBe(2498);
  });
  it("the recommendation never lowers a larger value, and counts only populated zones up to Normal", () => {
    expect(recommendedMinFreeKbytes([GUEST], [[0, 0, 0, 0, 0]], 65536)).toBe(65536);
    // 16 GiB node, DMA + DMA32 + Normal populated: 512 * 3 * 11 = 16896 pages = 67584 KiB (KERNEL-REFERENCE-2 §1.4)
    const big = [[3840, 782295, 3407872, 0, 0]];
    expect(defaultMinFreeKbytes(big, true)).toBe(67584);
    // a Movable zone adds no 11 pageblocks
    expect(recommendedMinFreeKbytes([[0, 0, 1048576, 1048576, 0]], [[0, 0, 0, 0, 0]], 0)).toBe(512 * 1 * 11 * 4);
  });
});

describe("watermarks (__setup_per_zone_wmarks)", () => {
  it("the sample's min/low/high of DMA and DMA32 from min_free_kbytes 19320", () => {
    const w = setupPerZoneWmarks([GUEST], 19320, 10)[0]!;
    // pages_min 4830: DMA 4830*3840/97534 = 190.2, delta max(47, 3) = 47
    expect(w[0]).toEqual({ min: 190, low: 237, high: 284, promo: 331 });
    // DMA32 4830*93694/97534 = 4639.9, delta max(1159, 93) = 1159
    expect(w[1]).toEqual({ min: 4639, low: 5798, high: 6957, promo: 8116 });
    for (const z of [2, 3, 4]) expect(w[z]).toEqual({ min: 0, low: 0, high: 0, promo: 0 });
  });
  it("watermark_scale_factor takes over when it is larger than min/4", () => {
    // 1 GiB Normal alone, min_free_kbytes 4096: min 1024, min/4 = 256, 262144*10/10000 = 262
    expect(setupPerZoneWmarks([[0, 0, 262144, 0, 0]], 4096, 10)[0]![2]).toEqual({ min: 1024, low: 1286, high: 1548, promo: 1810 });
    // factor 100: 2621
    expect(setupPerZoneWmarks([[0, 0, 262144, 0, 0]], 4096, 100)[0]![2]).toEqual({ min: 1024, low: 3645, high: 6266, promo: 8887 });
  });
  it("splits min over nodes and over Movable by managed pages (no highmem on x86-64)", () => {
    // pages_min 3000 over 1000 + 2000 managed pages
    const w = setupPerZoneWmarks([[0, 0, 1000, 0, 0], [0, 0, 0, 2000, 0]], 12000, 10);
    expect(w[0]![2]!.min).toBe(1000);
    expect(w[1]![3]!.min).toBe(2000);
  });
  it("a machine without a DMA zone (a node above 4 GiB) gets nothing there; all-empty gives 0s", () => {
    const w = setupPerZoneWmarks([[0, 0, 1048576, 0, 0]], 8192, 10)[0]!;
    expect(w[0]).toEqual({ min: 0, low: 0, high: 0, promo: 0 });
    expect(w[2]!.min).toBe(2048);
    expect(setupPerZoneWmarks([[0, 0, 0, 0, 0]], 8192, 10)[0]![2]).toEqual({ min: 0, low: 0, high: 0, promo: 0 });
  });
  it("rejects a scale factor out of 1..3000 and a negative min_free_kbytes", () => {
    expect(() => setupPerZoneWmarks([GUEST], 1024, 0)).toThrow(/1\.\.3000/);
    expect(() => setupPerZoneWmarks([GUEST], -1, 10)).toThrow(ValueError);
  });
  it("totalreserve_pages: per zone min(managed, largest reserve + high)", () => {
    const w = setupPerZoneWmarks([GUEST], 19320, 10);
    const r = [lowmemReserve([3840, 91264, 0, 0, 0])];
    // DMA min(3840, 356 + 284) = 640, DMA32 min(93694, 0 + 6957) = 6957
    expect(totalreservePages([GUEST], r, w)).toBe(640 + 6957);
  });
});

describe("pcp batch and high (zone_batchsize, zone_highsize)", () => {
  it("the sample's pagesets: DMA batch 1 high 237, DMA32 batch 31 high 5798 (one CPU)", () => {
    // DMA: 3840 >> 10 = 3, / 4 = 0 -> 1, rounddown_pow_of_two(1) - 1 = 0 -> max(1, 0) = 1
    expect(zoneBatchsize(3840)).toBe(1);
    // DMA32: 93694 >> 10 = 91, / 4 = 22, 22 + 11 = 33 -> 32 - 1 = 31
    expect(zoneBatchsize(93694)).toBe(31);
    expect(pcpParams({ managed: 3840, lowWmark: 237, nodeCpus: 1, onlineCpus: 1 })).toEqual({ batch: 1, high: 237 });
    expect(pcpParams({ managed: 93694, lowWmark: 5798, nodeCpus: 1, onlineCpus: 1 })).toEqual({ batch: 31, high: 5798 });
  });
  it("batch: 63 from 1 GiB up, 15 for 256 MiB, 1 for an empty zone", () => {
    expect(zoneBatchsize(262144)).toBe(63);
    expect(zoneBatchsize(4 * 262144)).toBe(63);
    expect(zoneBatchsize(65536)).toBe(15);
    expect(zoneBatchsize(0)).toBe(1);
  });
  it("high: the low watermark split over the node's CPUs, at least batch*4", () => {
    expect(zoneHighsize({ lowWmark: 5798, managed: 93694, batch: 31, nodeCpus: 4, onlineCpus: 4 })).toBe(1449);
    expect(zoneHighsize({ lowWmark: 100, managed: 93694, batch: 31, nodeCpus: 4, onlineCpus: 4 })).toBe(124);
    // a node without CPUs splits over every online CPU
    expect(zoneHighsize({ lowWmark: 5798, managed: 93694, batch: 31, nodeCpus: 0, onlineCpus: 2 })).toBe(2899);
    // while a CPU is being onlined it counts once more
    expect(zoneHighsize({ lowWmark: 5798, managed: 93694, batch: 31, nodeCpus: 1, onlineCpus: 1, cpuOnline: 1 })).toBe(2899);
  });
  it("percpu_pagelist_high_fraction: managed / fraction, and 1..7 is rejected", () => {
    expect(zoneHighsize({ lowWmark: 5798, managed: 93694, batch: 31, nodeCpus: 1, onlineCpus: 1, fraction: 8 })).toBe(11711);
    expect(() => zoneHighsize({ lowWmark: 5798, managed: 93694, batch: 31, nodeCpus: 1, onlineCpus: 1, fraction: 5 })).toThrow(/at least 8/);
  });
});

describe("vm stats threshold (calculate_normal_threshold, calculate_pressure_threshold)", () => {
  it("the sample's thresholds: DMA 2, DMA32 6", () => {
    // DMA 3840 >> 15 = 0: 2 * fls(1) * (1 + 0) = 2; DMA32 93694 >> 15 = 2: 2 * 1 * (1 + fls(2) = 2) = 6
    expect(normalStatThreshold(3840, 1)).toBe(2);
    expect(normalStatThreshold(93694, 1)).toBe(6);
  });
  it("grows with CPUs and memory, capped at 125", () => {
    // 782295 >> 15 = 23, fls 5: 2 * fls(4) = 6 * 6 = 36
    expect(normalStatThreshold(782295, 4)).toBe(36);
    expect(normalStatThreshold(2 ** 24, 64)).toBe(125);
    // fls at the edges of a power of two: mem 3 -> 2, mem 4 -> 3; 3 CPUs -> fls 2
    expect(normalStatThreshold(4 * 32768 - 1, 1)).toBe(6);
    expect(normalStatThreshold(4 * 32768, 1)).toBe(8);
    expect(normalStatThreshold(4 * 32768, 3)).toBe(16);
  });
  it("pressure threshold: (low - min) / CPUs, 1..125", () => {
    expect(pressureStatThreshold({ min: 190, low: 237 }, 1)).toBe(47);
    expect(pressureStatThreshold({ min: 4639, low: 5798 }, 1)).toBe(125);
    expect(pressureStatThreshold({ min: 0, low: 0 }, 4)).toBe(1);
  });
});
