/**
 * `wsim compare` zone by zone (issue 13 item 4): wsim's machine has the guest's zones, and the
 * per-zone table puts each zone's free pages, order-9+ free blocks and pageblock changes beside
 * the kernel's, on kernel results made by hand (no QEMU needed).
 */
import { describe, expect, it } from "vitest";
import { parseBuddyinfo, parsePageblockCountsByZone } from "../../../src/kernel/guest-output.js";
import { machineFromBuddyinfo, type KernelResult } from "../../../src/kernel/kernel.js";
import { replay } from "../../../src/replay.js";
import { renderCompare, zoneRows } from "../../../src/report/compare.js";
import { stdinOf } from "../../helpers.js";

const BOOT = "Node 0, zone      DMA      0      0      0      0      0      1      1      1      0      1      3 \n" +
  "Node 0, zone    DMA32      4      0      7     15     10      9      7     10      5      2     40 \n";
const PTI_HEAD = "Page block order: 9\nPages per block:  512\n\nNumber of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      Isolate \n";
const pti = (dma: number[], dma32: number[]) =>
  PTI_HEAD + `Node 0, zone      DMA ${dma.map((n) => String(n).padStart(12)).join(" ")} \nNode 0, zone    DMA32 ${dma32.map((n) => String(n).padStart(12)).join(" ")} \n`;

function kernelRun(finalBuddy: string, bootPti: string, finalPti: string): KernelResult {
  return {
    schema: 1, wsim_version: "test", source: "kernel",
    trace: { path: "t.csv", format: "csv", events: 4, first_ms: 0, last_ms: 0 },
    machine: machineFromBuddyinfo(parseBuddyinfo(BOOT)),
    tunables: {}, vmstat: {}, nodes: parseBuddyinfo(finalBuddy), reads: [], series: [],
    kernel: {
      image: "bz", release: "6.1.0-50-cloud-amd64", mem_mib: 192, numa_mib: [], cmdline: "", swap_mib: 0, data_mib: 0, lru: "mglru",
      wall_ms: 1, guest_ms: 1, slept_ms: 0, skipped_ms: 0, unsupported: {}, kalloc: { module: null, allocs: 0, failed: 0 }, dma_filled: null, errors: [],
      boot: { vmstat: {}, buddyinfo: BOOT, pagetypeinfo: bootPti, pageblocks: {} },
      final: { vmstat: {}, buddyinfo: finalBuddy, pagetypeinfo: finalPti, pageblocks: {} },
      workdir: null,
    },
  };
}

describe("wsim compare per zone", async () => {
  // three order-0 faults; no page tables, slab or pcp lists, so the pages are the trace's alone
  const sim = await replay({
    trace: "-",
    stdin: stdinOf("time_ms,op,pid,addr,len,rw\n0,mmap,1,0x10000,16384,\n0,access,1,0x10000,,w\n0,access,1,0x11000,,w\n0,access,1,0x12000,,w\n"),
    machine: machineFromBuddyinfo(parseBuddyinfo(BOOT)),
    set: ["wsim.page_tables=0", "wsim.slab=0", "wsim.pcp=0", "transparent_hugepage.enabled=never"],
  });

  it("reads pagetypeinfo's block table zone by zone", () => {
    expect(parsePageblockCountsByZone(pti([1, 7, 0, 0, 0], [33, 209, 6, 0, 0]))).toEqual(
      new Map([
        ["0 DMA", { Unmovable: 1, Movable: 7, Reclaimable: 0, HighAtomic: 0, Isolate: 0 }],
        ["0 DMA32", { Unmovable: 33, Movable: 209, Reclaimable: 6, HighAtomic: 0, Isolate: 0 }],
      ]),
    );
    expect(parsePageblockCountsByZone("").size).toBe(0);
  });

  it("compares each zone's free pages, order-9+ blocks and pageblocks with the kernel's", () => {
    // the kernel's DMA32 lost 3 order-0 pages (4 -> 1 at order 0); in the second run also an
    // order-10 block, whose two pageblocks became Unmovable
    const fin1 = BOOT.replace("DMA32      4      0      7", "DMA32      1      0      7");
    const fin2 = fin1.replace("2     40 ", "2     39 ");
    const runs = [
      kernelRun(fin1, pti([1, 6, 0, 0, 0], [33, 209, 6, 0, 0]), pti([1, 6, 0, 0, 0], [33, 209, 6, 0, 0])),
      kernelRun(fin2, pti([1, 6, 0, 0, 0], [33, 209, 6, 0, 0]), pti([1, 6, 0, 0, 0], [35, 207, 6, 0, 0])),
    ];
    const rows = zoneRows(sim, runs);
    const at = (zone: string, q: string) => rows.find((r) => r.zone === zone && r.quantity === q);
    // wsim: zones DMA [0, 3584) and DMA32 [3584, 49152); the faults take DMA32 (the zonelist's
    // highest zone first), from its order-9 block at pfn 3584 (the smallest free order)
    expect(at("DMA", "free pages, change")).toMatchObject({ node: 0, wsim: 0, kernel_min: 0, kernel_max: 0, in_range: true });
    expect(at("DMA32", "free pages, change")).toMatchObject({ wsim: -3, kernel_min: -1024 - 3, kernel_max: -3, in_range: true });
    // DMA: 3 order-10 blocks and 1 order-9 = 3584; DMA32: 44 order-10 blocks (4096..49152) left whole
    expect(at("DMA", "free pages in order-9+ blocks, end")).toMatchObject({ wsim: 3584, kernel_min: 512 + 3 * 1024, kernel_max: 3584 });
    expect(at("DMA32", "free pages in order-9+ blocks, end")).toMatchObject({ wsim: 44 * 1024, kernel_min: 2 * 512 + 39 * 1024, kernel_max: 2 * 512 + 40 * 1024, in_range: false });
    // pageblocks: only those that changed on either side; wsim's stay Movable
    expect(at("DMA32", "Unmovable pageblocks, change")).toMatchObject({ wsim: 0, kernel_min: 0, kernel_max: 2, in_range: true });
    expect(at("DMA32", "Movable pageblocks, change")).toMatchObject({ wsim: 0, kernel_min: -2, kernel_max: 0 });
    expect(at("DMA", "Unmovable pageblocks, change")).toBeUndefined();
    const text = renderCompare(sim, runs);
    expect(text).toMatch(/per zone \(wsim's zones start with what the guest's had free, in whole pageblocks\):/);
    expect(text).toMatch(/│ +0 │ DMA32 │ free pages in order-9\+ blocks, end │ +45056 │ +40960 – 41984 │ no +│/);
  });

  it("says so when wsim's machine lacks a zone the guest had (under a pageblock free)", () => {
    const tiny = "Node 0, zone      DMA      1      0      0      0      0      0      0      0      0      0      0 \n" + BOOT.split("\n")[1] + "\n";
    const k = kernelRun(tiny, "", "");
    const rows = zoneRows(sim, [k]);
    expect(rows.filter((r) => r.zone === "DMA").length).toBeGreaterThan(0);
    // wsim's machine here does have DMA; a machine without it gives null
    const noDma = { ...sim, nodes: sim.nodes.map((n) => ({ ...n, zones: n.zones.filter((z) => z.name !== "DMA") })) };
    expect(zoneRows(noDma, [k]).find((r) => r.zone === "DMA")).toMatchObject({ wsim: null, in_range: null });
    expect(renderCompare(noDma, [k])).toMatch(/│ DMA +│ free pages, change +│ no such zone │/);
  });
});
