/**
 * Issue 13 item 5: a machine read from a saved /proc/zoneinfo (its layout, watermarks,
 * protection and CPUs as the file prints them) and a start state from buddyinfo +
 * pagetypeinfo (parsing, the layout rule, the boot owner, read back, errors). Figures are
 * hand-computed from the files and the rule in src/machine/start-state.ts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataError } from "../../../src/errors.js";
import { parseMachine, type Machine } from "../../../src/machine/machine.js";
import { interleave, parseBuddyinfo, parseLruGenFile, parsePagetypeinfo, planZone, spread, zoneLruPages, type StartState } from "../../../src/machine/start-state.js";
import { PG_IN_USE } from "../../../src/mm/pages.js";
import { withBootInUse } from "../../../src/cli/commands/kernel.js";
import { machineFromZoneinfo } from "../../../src/machine/zoneinfo-machine.js";
import { bootZoneinfo, setupZones } from "../../../src/machine/zone-setup.js";
import { machineZoneLayout } from "../../../src/machine/zones.js";
import { formatZoneinfo } from "../../../src/procfs/zoneinfo.js";
import { checkMemory } from "../../../src/mm/check.js";
import { MT_MOVABLE, MT_UNMOVABLE } from "../../../src/mm/constants.js";
import { applyBootInUse, applyStartState, BOOT_PID } from "../../../src/mm/start-state.js";
import { WMARK_HIGH, WMARK_LOW, WMARK_MIN } from "../../../src/mm/buddy.js";
import { counters, dataErrorOf, engineFor, runCsv } from "../../helpers.js";
import { replay as libReplay } from "../../../src/library.js";

const ROOT = new URL("../../../", import.meta.url).pathname;
const sample = (name: string) => readFileSync(join(ROOT, "test/fixtures/kernel-samples", name), "utf8");

/** A pagetypeinfo of one node's zones: [zone, free[mt][11], blocks[5]] */
function pti(zones: [string, number[][], number[]][], nid = 0): string {
  const pad = (v: number | string, w: number) => String(v).padStart(w);
  const names = ["Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate"];
  let out = "Page block order: 9\nPages per block:  512\n\n";
  out += "Free pages count per migrate type at order       0      1      2      3      4      5      6      7      8      9     10 \n";
  for (const [z, free] of zones)
    for (let mt = 0; mt < 5; mt++) out += `Node ${pad(nid, 4)}, zone ${pad(z, 8)}, type ${pad(names[mt]!, 12)} ${(free[mt] ?? new Array(11).fill(0)).map((n) => pad(n, 6)).join(" ")} \n`;
  out += "\nNumber of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      Isolate \n";
  for (const [z, , blocks] of zones) out += `Node ${nid}, zone ${pad(z, 8)} ${blocks.map((n) => pad(n, 12)).join(" ")} \n`;
  return out;
}

/** buddyinfo with the per-order sums of those zones */
function bi(zones: [string, number[][], number[]][], nid = 0): string {
  return zones
    .map(([z, free]) => {
      const sums = Array.from({ length: 11 }, (_, o) => free.reduce((s, row) => s + (row?.[o] ?? 0), 0));
      return `Node ${nid}, zone ${z.padStart(8)} ${sums.map((n) => String(n).padStart(6)).join(" ")} \n`;
    })
    .join("");
}

function state(zones: [string, number[][], number[]][]): StartState {
  return parsePagetypeinfo(pti(zones), "pagetypeinfo", parseBuddyinfo(bi(zones), "buddyinfo"), "buddyinfo");
}

const row = (o: Record<number, number>) => Array.from({ length: 11 }, (_, k) => o[k] ?? 0);
/** free[mt][order] of all five migratetypes from the first few */
const rows = (...r: number[][]) => Array.from({ length: 5 }, (_, mt) => r[mt] ?? row({}));

/** a flat machine of 2048 pages: one Normal zone [0, 2048), 4 pageblocks, all managed */
const flat2048: Machine = { name: "t", nodes: [{ id: 0, mem: 2048, tier: 0, cpus: true }], tunables: {} };

describe("a machine from a saved /proc/zoneinfo", () => {
  // the 424 MiB one-CPU guest of kernel-samples/zoneinfo.txt
  const m = machineFromZoneinfo(sample("zoneinfo.txt"), "zoneinfo.txt");

  it("takes nodes, spans, present, managed, watermarks, protection and CPUs from the file", () => {
    // one node of 3998 + 104407 present pages, one CPU (pagesets list cpu 0)
    expect(m.nodes).toEqual([{ id: 0, mem: 108405, tier: 0, cpus: true, ncpus: 1 }]);
    expect(m.zones).toEqual([
      { node: 0, name: "DMA", start: 1, end: 4096, present: 3998, managed: 3840, min: 190, low: 237, high: 284, protection: [0, 356, 356, 356, 356] },
      { node: 0, name: "DMA32", start: 4096, end: 108503, present: 104407, managed: 93694, min: 4639, low: 5798, high: 6957, protection: [0, 0, 0, 0, 0] },
    ]);
  });

  it("the engine's zones are the file's: spans, holes below 1 MiB, reserved pages, marks not recomputed, pcp from them", () => {
    const e = engineFor(m, {}, { "wsim.pcp": "1" });
    expect(e.mem.zones.map((z) => [z.name, z.start, z.end, z.present, z.managed, z.freePages])).toEqual([
      ["DMA", 1, 4096, 3998, 3840, 3840],
      ["DMA32", 4096, 108503, 104407, 93694, 93694],
    ]);
    // DMA: 97 hole pages [0x9f, 0x100) (the span's 4095 minus 3998 present), the 158 present
    // pages below them reserved (3998 - 3840); DMA32's 10713 reserved at its top [97790, 108503)
    const managed = e.mem.managedMap()!;
    expect([managed[1], managed[0x9e], managed[0x9f], managed[0xff], managed[0x100], managed[4095]]).toEqual([0, 0, 0, 0, 1, 1]);
    expect([managed[97789], managed[97790], managed[108502]]).toEqual([1, 0, 0]);
    const [dma, dma32] = e.mem.zones;
    expect([dma!.wmark[WMARK_MIN], dma!.wmark[WMARK_LOW], dma!.wmark[WMARK_HIGH]]).toEqual([190, 237, 284]);
    expect([dma32!.wmark[WMARK_MIN], dma32!.wmark[WMARK_LOW], dma32!.wmark[WMARK_HIGH]]).toEqual([4639, 5798, 6957]);
    expect(Array.from(dma!.lowmemReserve)).toEqual([0, 356, 356, 356, 356]);
    // the file's pagesets: high 237 batch 1 (DMA), high 5798 batch 31 (DMA32), which
    // zone_highsize / zone_batchsize give from those low marks and one CPU
    const zi = e.readFile("zoneinfo")!;
    expect([...zi.matchAll(/high:\s+(\d+)\n\s+batch: (\d+)/g)].map((x) => [Number(x[1]), Number(x[2])])).toEqual([[237, 1], [5798, 31]]);
    for (const line of ["        spanned  4095", "        present  3998", "        managed  3840", "        protection: (0, 356, 356, 356, 356)", "  start_pfn:           4096"])
      expect(zi.split("\n")).toContain(line);
  });

  it("the machine as a run's JSON writes it reads back the same (ncpus included)", () => {
    const again = parseMachine(JSON.parse(JSON.stringify(m)), "run.json", () => 1);
    expect({ ...again }).toEqual({ ...m });
    expect(() => parseMachine({ nodes: [{ id: 0, mem: 4096, cpus: false, ncpus: 2 }] }, "m.json", () => 7)).toThrow(
      'm.json:7: node 0 ncpus (from a run\'s JSON) must come with "cpus": true and be a count 1..1024, got 2',
    );
    expect(() => parseMachine({ nodes: [{ id: 0, mem: 4096 }], zones: [{ node: 0, name: "Normal", start: 0, end: 4096, min: 5 }] }, "m.json", () => 3)).toThrow(
      "m.json:3: zones[0]: give min, low and high together",
    );
  });

  it("a later watermark write recomputes the marks (as the kernel does)", () => {
    const e = engineFor(m, {}, {});
    e.settings.set("vm.min_free_kbytes", "4096");
    // 1024 pages split by managed pages: DMA32 floor(1024 * 93694 / 97534) = 983
    expect(e.mem.zones[1]!.wmark[WMARK_MIN]).toBe(983);
  });

  it("two nodes: each node's zones, the CPUs dealt out evenly (zoneinfo does not say whose they are)", () => {
    // the numa2 x86 layout (two 4 GiB nodes) at boot with 3 CPUs, printed as 6.1 prints it
    const layout = machineZoneLayout({ nodes: [{ id: 0, mem: 1 << 20, tier: 0, cpus: true }, { id: 1, mem: 1 << 20, tier: 0, cpus: true }] }, "qemu-pc");
    const text = formatZoneinfo(bootZoneinfo(setupZones(layout, { cpusByNode: [2, 1] })));
    const two = machineFromZoneinfo(text, "zi2");
    // 3 CPUs over 2 nodes: node 0 gets 2, node 1 gets 1; node 0 presents 4 GiB less pfn 0, the
    // 97 pages [0x9f, 0x100) and SeaBIOS's 41 below 3.5 GiB: 1048576 - 139
    expect(two.nodes.map((n) => [n.mem, n.ncpus])).toEqual([[1048437, 2], [1 << 20, 1]]);
    const e = engineFor(two);
    const want = layout.nodes.flatMap((n) => n.zones.filter((z) => z.presentPages).map((z) => [n.nid, z.name, z.zoneStartPfn, z.zoneStartPfn + z.spannedPages, z.presentPages, z.managedPages]));
    expect(e.mem.zones.map((z) => [z.nid, z.name, z.start, z.end, z.present, z.managed])).toEqual(want);
    // node 1 is Normal only, [0x140000, 0x240000)
    expect(want[want.length - 1]).toEqual([1, "Normal", 0x140000, 0x240000, 1 << 20, 1 << 20]);
  });

  it("errors name the file and line", () => {
    const z = sample("zoneinfo.txt");
    // DMA's managed above present
    const bad = z.replace("        managed  3840", "        managed  4000");
    expect(() => machineFromZoneinfo(bad, "zi")).toThrow(DataError);
    expect(() => machineFromZoneinfo(bad, "zi")).toThrow(/^zi:1: .*managed <= present <= spanned/);
    expect(() => machineFromZoneinfo(z.replace("  pages free     3625", "  pages fre 3625"), "zi")).toThrow(/^zi:46: /);
  });
});

describe("buddyinfo and pagetypeinfo", () => {
  it("parse the real sample: free counts per migratetype and order, blocks per migratetype", () => {
    const s = parsePagetypeinfo(sample("pagetypeinfo.txt"), "p", parseBuddyinfo(sample("buddyinfo.txt"), "b"), "b");
    expect(s.warnings).toEqual([]);
    expect(s.zones.map((z) => [z.zone, z.blocks])).toEqual([
      ["DMA", [1, 7, 0, 0, 0]],
      ["DMA32", [33, 209, 6, 0, 0]],
    ]);
    expect(s.zones[1]!.free[MT_MOVABLE]).toEqual([0, 1, 0, 0, 1, 0, 0, 1, 1, 0, 103]);
  });

  it("pagetypeinfo wins where buddyinfo disagrees, with a warning", () => {
    const b = sample("buddyinfo.txt").replace("    16     14", "    17     14");
    const s = parsePagetypeinfo(sample("pagetypeinfo.txt"), "p", parseBuddyinfo(b, "b"), "b");
    expect(s.warnings).toEqual([
      "b:2: node 0 zone DMA32: buddyinfo and pagetypeinfo disagree (order 0: 17 vs 16); they are read at different instants: pagetypeinfo's counts are used (it says which migratetype each block is on)",
    ]);
    expect(s.zones[1]!.free.reduce((a, r) => a + r[0]!, 0)).toBe(16);
  });

  it("a >100000 count is buddyinfo's total less the other migratetypes'", () => {
    const z: [string, number[][], number[]][] = [["Normal", [row({ 0: 5 }), row({ 0: 100003 })], [1, 400, 0, 0, 0]]];
    const text = pti(z).replace("100003", ">100000");
    const s = parsePagetypeinfo(text, "p", parseBuddyinfo(bi(z), "b"), "b");
    expect(s.zones[0]!.free[MT_MOVABLE]![0]).toBe(100003);
  });

  it("malformed lines: file:line", async () => {
    expect(await dataErrorOf(() => parseBuddyinfo("Node 0, zone   Normal 1 2 3\n", "b"))).toBe("b:1: expected 11 counts (orders 0..10), got 3");
    expect(await dataErrorOf(() => parseBuddyinfo("Node 0, zone   Normal\n", "b"))).toMatch(/^b:1: expected "Node N, zone NAME" and 11 free block counts/);
    expect(await dataErrorOf(() => parseBuddyinfo("", "b"))).toMatch(/^b: empty/);
    const z: [string, number[][], number[]][] = [["Normal", [row({ 0: 1 })], [4, 0, 0, 0, 0]]];
    const good = pti(z);
    const buddy = parseBuddyinfo(bi(z), "b");
    // a CMA row is taken while empty (CONFIG_CMA kernels print one), refused with a free block
    expect(await dataErrorOf(() => parsePagetypeinfo(good.replace("Isolate      0", "CMA      1"), "p", buddy, "b"))).toMatch(/^p:9: node 0 zone \w+: free CMA blocks: wsim has no CMA migratetype/);
    expect(await dataErrorOf(() => parsePagetypeinfo(good.replace("Isolate      0", "Pinned      0"), "p", buddy, "b"))).toMatch(/^p:9: migratetype "Pinned": wsim knows .* \(and an empty CMA\)/);
    expect(await dataErrorOf(() => parsePagetypeinfo(good.replace("Page block order: 9", "Page block order: 10"), "p", buddy, "b"))).toMatch(/^p:1: pageblock order 10/);
    expect(await dataErrorOf(() => parsePagetypeinfo(good.replace(/\nNode 0, zone   Normal .*\n$/, "\n"), "p", buddy, "b"))).toMatch(/has free counts but no "Number of blocks type" line/);
    expect(await dataErrorOf(() => parsePagetypeinfo(good + "garbage\n", "p", buddy, "b"))).toBe('p:13: not a line of /proc/pagetypeinfo: "garbage"');
    expect(await dataErrorOf(() => parsePagetypeinfo(good, "p", parseBuddyinfo(bi(z).replace("Normal", "DMA32"), "b"), "b"))).toMatch(/^b: node 0 zone Normal is in pagetypeinfo but not in buddyinfo/);
  });
});

describe("the layout rule", () => {
  it("interleave and spread", () => {
    // keys: label 1 at 1/6, 3/6, 5/6; label 0 at 1/2 (ties: the lower label first)
    expect(interleave([1, 3])).toEqual([1, 0, 1, 1]);
    expect(interleave([2, 0, 2])).toEqual([0, 2, 0, 2]);
    expect(spread(1, 2)).toEqual([1]);
    expect(spread(3, 10)).toEqual([1, 5, 8]);
  });

  it("places free blocks so that none could merge, keeping a used page in each buddy", () => {
    // 4 pageblocks [0, 2048): 1 Unmovable, 3 Movable; free: one Movable order-10, Unmovable one order-3 and two order-0
    const plan = planZone({ start: 0, end: 2048, blocks: [0, 1, 2, 3], managed: () => true }, { free: rows(row({ 0: 2, 3: 1 }), row({ 10: 1 })), blocks: [1, 3, 0, 0, 0] });
    // order 10: candidate pairs (0,1), (2,3); spread(1, 2) picks the second. The rest: blocks 0, 1
    // for Unmovable 1, Movable 1: interleave([1, 1]) = U, M. Unmovable's order-3 at 0 (buddy
    // [8, 16) keeps 15), its order-0s at 8 (keeps 9) and 10 (keeps 11)
    expect(plan.pbMt).toEqual([[0, MT_UNMOVABLE], [1, MT_MOVABLE], [2, MT_MOVABLE], [3, MT_MOVABLE]]);
    expect(plan.free).toEqual([[0, 3, MT_UNMOVABLE], [8, 0, MT_UNMOVABLE], [10, 0, MT_UNMOVABLE], [1024, 10, MT_MOVABLE]]);
  });

  it("packs around holes and reserved pages (the real DMA zone)", () => {
    // DMA [1, 4096): managed [256, 4096); 1 Unmovable block with order 5, 6, 7 free; 7 Movable, one order 9 and three order 10
    const plan = planZone({ start: 1, end: 4096, blocks: [0, 1, 2, 3, 4, 5, 6, 7], managed: (p) => p >= 256 }, { free: rows(row({ 5: 1, 6: 1, 7: 1 }), row({ 9: 1, 10: 3 })), blocks: [1, 7, 0, 0, 0] });
    // pairs: (2,3), (4,5), (6,7) (block 0 is not whole); order 9: block 1; block 0 Unmovable:
    // order 7 at 256 (keeps 511), order 6 at 384, order 5 at 448 (511 stops both merges)
    expect(plan.free).toEqual([[256, 7, 0], [384, 6, 0], [448, 5, 0], [512, 9, 1], [1024, 10, 1], [2048, 10, 1], [3072, 10, 1]]);
  });

  it("small free blocks that their migratetype's pageblocks cannot hold lie in others' (strays), said in the plan", () => {
    // two free Unmovable order-8 blocks, one Unmovable pageblock: interleave([1, 3]) = M, U, M, M
    // gives it block 1 ([512, 768), keeping 1023); the second does not fit there, so it goes to
    // the lowest other block, 0 ([0, 256), keeping 511)
    const plan = planZone({ start: 0, end: 2048, blocks: [0, 1, 2, 3], managed: () => true }, { free: rows(row({ 8: 2 })), blocks: [1, 3, 0, 0, 0] });
    expect(plan.free).toEqual([[0, 8, MT_UNMOVABLE], [512, 8, MT_UNMOVABLE]]);
    expect(plan.pbMt).toEqual([[0, MT_MOVABLE], [1, MT_UNMOVABLE], [2, MT_MOVABLE], [3, MT_MOVABLE]]);
    expect(plan.spilled).toBe(1);
    // and on the model, pagetypeinfo reads back the same
    const strays: [string, number[][], number[]][] = [["Normal", [row({ 8: 2 })], [1, 3, 0, 0, 0]]];
    const e = engineFor(flat2048);
    const warnings: string[] = [];
    applyStartState(e.mem, state(strays), (w) => warnings.push(w));
    expect(e.readFile("pagetypeinfo")).toBe(pti(strays));
    expect(warnings).toEqual(["pagetypeinfo:12: node 0 zone Normal: 1 free blocks (or pageblocks of free order-9/10 blocks) lie in pageblocks of another migratetype: theirs had no room (the kernel leaves such strays after fallbacks)"]);
    expect(checkMemory(e.mem.mappingView())).toBeNull();
  });

  it("an order-10 Unmovable block with one Unmovable pageblock: its second pageblock is Movable (the kernel merges them)", () => {
    const plan = planZone({ start: 0, end: 2048, blocks: [0, 1, 2, 3], managed: () => true }, { free: rows(row({ 10: 1 })), blocks: [1, 3, 0, 0, 0] });
    // the pair (2, 3): block 2 takes the Unmovable one, block 3 the type with most left (Movable 3); blocks 0, 1 Movable and used
    expect(plan.free).toEqual([[1024, 10, MT_UNMOVABLE]]);
    expect(plan.pbMt).toEqual([[0, MT_MOVABLE], [1, MT_MOVABLE], [2, MT_UNMOVABLE], [3, MT_MOVABLE]]);
    expect(plan.spilled).toBe(1);
  });

  it("refuses a state larger than the zone, and order-9/10 blocks their migratetype's pageblocks cannot hold", () => {
    expect(() => planZone({ start: 0, end: 2048, blocks: [0, 1, 2, 3], managed: () => true }, { free: rows(), blocks: [5, 0, 0, 0, 0] })).toThrow(
      "5 pageblocks, but the machine's zone has 4: the start state is larger than the machine",
    );
    expect(() => planZone({ start: 0, end: 2048, blocks: [0, 1, 2, 3], managed: () => true }, { free: rows(row({}), row({ 10: 1 })), blocks: [0, 1, 0, 0, 0] })).toThrow(
      "free order-9/10 Movable blocks need more pageblocks than pagetypeinfo lists (0, 1, 0, 0, 0 by type)",
    );
    // HighAtomic never merges with another type
    expect(() => planZone({ start: 0, end: 2048, blocks: [0, 1, 2, 3], managed: () => true }, { free: rows(row({}), row({}), row({}), row({ 9: 1 })), blocks: [0, 4, 0, 0, 0] })).toThrow(
      "free order-9/10 HighAtomic blocks need more HighAtomic pageblocks than pagetypeinfo lists (0, 4, 0, 0, 0 by type)",
    );
    // pfns 600 and 2600 reserved: blocks 1 and 5 are not whole, leaving the pairs (2,3) and (6,7)
    const holes = { start: 0, end: 4096, blocks: [0, 1, 2, 3, 4, 5, 6, 7], managed: (p: number) => p !== 600 && p !== 2600 };
    expect(() => planZone(holes, { free: rows(row({}), row({ 10: 3 })), blocks: [0, 8, 0, 0, 0] })).toThrow(
      /3 free order-10 blocks, but the zone has 2 places/,
    );
  });
});

describe("a start state on the model", () => {
  const zones: [string, number[][], number[]][] = [["Normal", [row({ 0: 2, 3: 1 }), row({ 10: 1 })], [1, 3, 0, 0, 0]]];

  it("reads back the buddyinfo and pagetypeinfo it was built from, byte for byte", () => {
    const e = engineFor(flat2048);
    const s = applyStartState(e.mem, state(zones), () => {});
    expect(e.readFile("buddyinfo")).toBe(bi(zones));
    expect(e.readFile("pagetypeinfo")).toBe(pti(zones));
    // free 8 + 2 + 1024; block 1 (Movable) is the boot owner's 512 anon pages; block 0 keeps 512 - 10 unmovable
    expect([s.free, s.bootMovable, s.bootUnmovable]).toEqual([1034, 512, 502]);
    expect(counters(e, ["nr_free_pages", "nr_anon_pages", "wsim_kernel_pages"])).toEqual({ nr_free_pages: 1034, nr_anon_pages: 512, wsim_kernel_pages: 502 });
    expect(s.mm!.pid).toBe(BOOT_PID);
    expect(e.mem.procs.byPid.has(BOOT_PID)).toBe(false);
    expect(checkMemory(e.mem.mappingView())).toBeNull();
  });

  it("two nodes: each node's zone from its own section of the files, read back byte for byte", () => {
    const m2: Machine = { name: "t2", nodes: [0, 1].map((id) => ({ id, mem: 2048, tier: 0, cpus: true })), tunables: {} };
    const z0: [string, number[][], number[]][] = [["Normal", [row({ 1: 3 }), row({ 9: 1 })], [1, 3, 0, 0, 0]]];
    const z1: [string, number[][], number[]][] = [["Normal", [row({}), row({ 10: 1, 4: 2 }), row({ 0: 5 })], [0, 3, 1, 0, 0]]];
    const text = pti(z0, 0) + pti(z1, 1);
    const st = parsePagetypeinfo(text, "p", parseBuddyinfo(bi(z0, 0) + bi(z1, 1), "b"), "b");
    const e = engineFor(m2);
    const s = applyStartState(e.mem, st, () => {});
    expect(e.readFile("pagetypeinfo")).toBe(text);
    expect(e.readFile("buddyinfo")).toBe(bi(z0, 0) + bi(z1, 1));
    // node 0: 6 + 512 free; node 1: 1024 + 32 + 5
    expect(s.free).toBe(518 + 1061);
    expect(checkMemory(e.mem.mappingView())).toBeNull();
  });

  it("zoneinfo's pcp pages go to the CPU's list, spread over the used pages of Movable pageblocks", () => {
    const e = engineFor(flat2048, {}, { "wsim.pcp": "1" });
    const s = applyStartState(e.mem, state(zones), () => {}, [{ nid: 0, zone: "Normal", counts: [4] }]);
    // candidates: block 1's 512 used pages [512, 1024); 4 of them, k = 127, 255, 383, 511
    expect(s.pcp).toBe(4);
    expect(s.bootMovable).toBe(508);
    expect(e.mem.pcp.pagesets(0)[0]!.count).toBe(4);
    const onList = [639, 767, 895, 1023].map((pfn) => [e.mem.pages.flags[pfn], e.mem.ownerMm[pfn]]);
    expect(onList).toEqual([[0, 0], [0, 0], [0, 0], [0, 0]]);
    // free, but neither in nr_free_pages nor in buddyinfo
    expect(e.readFile("buddyinfo")).toBe(bi(zones));
    expect(counters(e, ["nr_free_pages", "nr_anon_pages"])).toEqual({ nr_free_pages: 1034, nr_anon_pages: 508 });
    expect(checkMemory(e.mem.mappingView())).toBeNull();
    // with wsim.pcp=0 they stay used, and a warning says so
    const warnings: string[] = [];
    const off = applyStartState(engineFor(flat2048).mem, state(zones), (w) => warnings.push(w), [{ nid: 0, zone: "Normal", counts: [4] }]);
    expect([off.pcp, off.bootMovable, warnings]).toEqual([0, 512, ["wsim.pcp=0: the pages zoneinfo shows on per-cpu lists count as used"]]);
  });

  it("zoneinfo's LRU counts cap the boot owner's anon pages: the other used Movable pages are the kernel's", () => {
    const e = engineFor(flat2048);
    const s = applyStartState(e.mem, state(zones), () => {}, [], [{ nid: 0, zone: "Normal", pages: 128 }]);
    // candidates: block 1's 512 used pages [512, 1024); 128 of them, the j-th when
    // floor((j + 1) * 128 / 512) > floor(j * 128 / 512): j = 3, 7, ..., 511 (every 4th: pfn 515, 519, ..., 1023)
    expect([s.bootMovable, s.bootUnmovable]).toEqual([128, 502 + 384]);
    expect(counters(e, ["nr_free_pages", "nr_anon_pages", "wsim_kernel_pages"])).toEqual({ nr_free_pages: 1034, nr_anon_pages: 128, wsim_kernel_pages: 886 });
    expect([512, 514, 515, 1023].map((pfn) => e.mem.ownerMm[pfn] !== 0)).toEqual([false, false, true, true]);
    expect(e.readFile("buddyinfo")).toBe(bi(zones));
    expect(checkMemory(e.mem.mappingView())).toBeNull();
    // a count above the candidates takes them all; another zone's count does not apply
    expect(applyStartState(engineFor(flat2048).mem, state(zones), () => {}, [], [{ nid: 0, zone: "Normal", pages: 5000 }]).bootMovable).toBe(512);
    expect(applyStartState(engineFor(flat2048).mem, state(zones), () => {}, [], [{ nid: 0, zone: "DMA", pages: 0 }]).bootMovable).toBe(512);
  });

  it("a saved lru_gen places the boot owner's pages by generation, oldest first, in its proportions", () => {
    const e = engineFor(flat2048);
    const lv = e.mem.memcgs.root.lruvecs[0]!;
    // a fresh lruvec: min_seq 0, max_seq 3. Ages (max_seq - seq) 0..3 hold 128, 0, 0, 384 of 512
    // pages: page m (pfn 512 + m) goes to age 3 (seq 0) while floor(m * 512 / 512) < 384, then age 0 (seq 3)
    const s = applyStartState(e.mem, state(zones), () => {}, [], [], [{ nid: 0, pages: [128, 0, 0, 384] }]);
    expect(s.bootMovable).toBe(512);
    expect([0, 1, 2, 3].map((seq) => lv.pagesIn(0, seq))).toEqual([384, 0, 0, 128]);
    expect([512, 895, 896, 1023].map((pfn) => e.mem.lru.seqOf(lv, pfn))).toEqual([0, 0, 3, 3]);
    // proportions, not counts: 1 : 3 over the same 512 pages is 128 at seq 0 and 384 at seq 1
    // (ages 2 and 3 of a 4-generation file: 3 x 512 / 4 = 384 pages before the cut)
    const e2 = engineFor(flat2048);
    applyStartState(e2.mem, state(zones), () => {}, [], [], [{ nid: 0, pages: [0, 0, 30, 10] }]);
    const lv2 = e2.mem.memcgs.root.lruvecs[0]!;
    expect([0, 1, 2, 3].map((seq) => lv2.pagesIn(0, seq))).toEqual([128, 384, 0, 0]);
    // another node's generations do not apply: all in the oldest
    const e3 = engineFor(flat2048);
    applyStartState(e3.mem, state(zones), () => {}, [], [], [{ nid: 1, pages: [512] }]);
    expect(e3.mem.memcgs.root.lruvecs[0]!.pagesIn(0, 0)).toBe(512);
    expect(checkMemory(e.mem.mappingView())).toBeNull();
  });

  it("parseLruGenFile: generations by age from each node's max_seq, memcgs summed, tier lines skipped", () => {
    // the real 6.1 file: seqs 3..6 on node 0; age 0 = seq 6 (15 + 0), 1 = seq 5 (3099 + 838), 2 = seq 4 (0 + 3), 3 = seq 3 (3872 + 0)
    expect(parseLruGenFile(sample("lru_gen.txt"), "lg")).toEqual([{ nid: 0, pages: [15, 3937, 3, 3872] }]);
    const two = "memcg     1 /\n node     0\n          0       100         10          5 \n          1        50          1          2 \n" +
      " node     1\n          7        10          4          4 \n" +
      "memcg     2 /a\n node     0\n          2        90          6          0 \n" +
      // lru_gen_full's tier line and mm-walk line (lru_gen_seq_show_full)
      "                     0          0r          0e          0p          0r          0e          0p\n                               0           0           0           0           0           0 \n";
    // node 0: memcg 1 ages [3, 15], memcg 2 age 0 = 6: [9, 15]; node 1: [8]; the full file's x marks read as numbers
    expect(parseLruGenFile(" node 0\n          0       100          0x          0x\n          1        50          2           3 \n", "lg")).toEqual([{ nid: 0, pages: [5, 0] }]);
    expect(parseLruGenFile(two, "lg")).toEqual([{ nid: 0, pages: [9, 15] }, { nid: 1, pages: [8] }]);
    expect(() => parseLruGenFile("          0   1   2   3\n", "lg")).toThrow(/^lg:1: generation line "0   1   2   3" before any " node N" line/);
  });

  it("wsim.boot_in_use: that share of the boot owner's pages stays young, and eviction keeps them", async () => {
    const e = engineFor(flat2048);
    // 25 %: page m when floor((m + 1) / 4) > floor(m / 4): m = 3, 7, ..., 511, pfn 515, 519, ..., 1023 (128 pages)
    const s = applyStartState(e.mem, state(zones), () => {}, [], [], [], 25);
    expect(s.inUse).toBe(128);
    expect([514, 515, 1023].map((pfn) => (e.mem.pages.mflags[pfn]! & PG_IN_USE) !== 0)).toEqual([false, true, true]);
    // testing the young bit clears nothing that makes an in-use page old
    expect([e.mem.lru.testClearYoung(515), e.mem.lru.testClearYoung(515), e.mem.lru.testClearYoung(514)]).toEqual([true, true, false]);
    // all in use: 1900 pages touched with 1034 free, reclaim swaps out the trace's pages, never the boot owner's
    const hot = engineFor(flat2048, {}, { "wsim.boot_in_use": "100", "transparent_hugepage.enabled": "never" });
    const h = applyStartState(hot.mem, state(zones), () => {}, [], [], [], 100);
    const lines = ["time_ms,op,pid,addr,len", `0,mmap,1,0x40000000,${8 * 1024 * 1024}`];
    for (let i = 0; i < 1900; i++) lines.push(`${1 + i * 0.01},access,1,${0x40000000 + i * 4096},`);
    await runCsv(hot, lines.join("\n"));
    expect(h.inUse).toBe(512);
    expect(h.mm!.rssAnon).toBe(512);
    expect(counters(hot, ["pswpout"]).pswpout).toBeGreaterThan(0);
    expect(checkMemory(hot.mem.mappingView())).toBeNull();
    // a trace's set of 0 makes them idle from then on: more pressure (1900 more pages) takes them too
    const rows = ["time_ms,op,pid,addr,len,key,value", "100,set,,,,wsim.boot_in_use,0", `100,mmap,2,0x80000000,${8 * 1024 * 1024},,`];
    for (let i = 0; i < 1900; i++) rows.push(`${101 + i * 0.01},access,2,${0x80000000 + i * 4096},,,`);
    await runCsv(hot, rows.join("\n"));
    expect(Array.from({ length: 512 }, (_, k) => hot.mem.pages.mflags[512 + k]! & PG_IN_USE).every((x) => x === 0)).toBe(true);
    expect(h.mm!.rssAnon).toBeLessThan(512);
    expect(checkMemory(hot.mem.mappingView())).toBeNull();
  });

  it("applyBootInUse: a later write marks that share of the boot owner's mapped pages, in address order", () => {
    const e = engineFor(flat2048);
    applyStartState(e.mem, state(zones), () => {}, [], [], [], 100);
    // 25 % of the 512 still mapped: m = 3, 7, ..., 511 (vpn order is pfn order here: 512 + m)
    expect(applyBootInUse(e.mem, 25)).toBe(128);
    expect([512, 514, 515, 1023].map((pfn) => (e.mem.pages.mflags[pfn]! & PG_IN_USE) !== 0)).toEqual([false, false, true, true]);
    // no boot owner: nothing
    expect(applyBootInUse(engineFor(flat2048).mem, 50)).toBe(0);
  });

  it("wsim compare's start: boot_in_use 100 unless --set gives it", () => {
    expect(withBootInUse(undefined)).toEqual(["wsim.boot_in_use=100"]);
    expect(withBootInUse(["vm.swappiness=10"])).toEqual(["wsim.boot_in_use=100", "vm.swappiness=10"]);
    expect(withBootInUse(["wsim.boot_in_use=0"])).toEqual(["wsim.boot_in_use=0"]);
  });

  it("zoneLruPages sums the zone's LRU items (a missing one is 0)", () => {
    // 1 + 2 + 3 + 4 + 5; nr_free_pages is not an LRU item
    expect(zoneLruPages({ nr_free_pages: 100, nr_zone_inactive_anon: 1, nr_zone_active_anon: 2, nr_zone_inactive_file: 3, nr_zone_active_file: 4, nr_zone_unevictable: 5 })).toBe(15);
    expect(zoneLruPages({ nr_zone_active_anon: 609 })).toBe(609);
  });

  it("the real sample on a 512 MiB x86 machine reads back byte for byte", () => {
    const e = engineFor({ name: "g", nodes: [{ id: 0, mem: 131072, tier: 0, cpus: true }], tunables: {}, zones: "x86" });
    const st = parsePagetypeinfo(sample("pagetypeinfo.txt"), "p", parseBuddyinfo(sample("buddyinfo.txt"), "b"), "b");
    applyStartState(e.mem, st, () => {});
    expect(e.readFile("buddyinfo")).toBe(sample("buddyinfo.txt"));
    expect(e.readFile("pagetypeinfo")).toBe(sample("pagetypeinfo.txt"));
    expect(checkMemory(e.mem.mappingView())).toBeNull();
  });

  it("a zone the machine lacks, and a state larger than the machine, are errors at the pagetypeinfo line", async () => {
    const e = engineFor(flat2048);
    const dma: [string, number[][], number[]][] = [["DMA", [row({ 0: 1 })], [4, 0, 0, 0, 0]]];
    expect(await dataErrorOf(() => applyStartState(e.mem, state(dma), () => {}))).toMatch(/^pagetypeinfo:12: node 0 zone DMA is not in machine t \(its populated zones: node 0 Normal\)/);
    const big: [string, number[][], number[]][] = [["Normal", [row({ 0: 1 })], [5, 0, 0, 0, 0]]];
    expect(await dataErrorOf(() => applyStartState(engineFor(flat2048).mem, state(big), () => {}))).toBe(
      "pagetypeinfo:12: node 0 zone Normal: 5 pageblocks, but the machine's zone has 4: the start state is larger than the machine",
    );
  });

  it("fewer pageblocks than the zone: the rest are Movable and used, with a warning", () => {
    const e = engineFor(flat2048);
    const warnings: string[] = [];
    const s = applyStartState(e.mem, state([["Normal", [row({ 0: 1 })], [1, 0, 0, 0, 0]]]), (w) => warnings.push(w));
    expect(warnings).toEqual(["pagetypeinfo:12: node 0 zone Normal: the files count 1 pageblocks, the machine's zone has 4: the other 3 are Movable and used"]);
    expect([s.free, s.bootMovable, s.bootUnmovable]).toEqual([1, 3 * 512, 511]);
  });

  it("--check holds while a trace runs from the state and the boot owner's pages are reclaimed", async () => {
    const e = engineFor(flat2048, { check: true }, { "transparent_hugepage.enabled": "always", "transparent_hugepage.defrag": "always" });
    const s = applyStartState(e.mem, state(zones), () => {});
    const lines = ["time_ms,op,pid,addr,len,thp", `0,mmap,1,0x40000000,${8 * 1024 * 1024},1`];
    for (let i = 0; i < 1900; i++) lines.push(`${1 + i * 0.01},access,1,${0x40000000 + i * 4096},,`);
    await runCsv(e, lines.join("\n"));
    expect(checkMemory(e.mem.mappingView())).toBeNull();
    // 1900 pages touched with 1034 free: reclaim swaps out, the boot owner's pages (the oldest generation) among the first
    expect(s.mm!.rssAnon).toBeLessThan(512);
    expect(counters(e, ["pswpout"]).pswpout).toBeGreaterThanOrEqual(512 - s.mm!.rssAnon);
  });
});

describe("a THP burst on a fragmented start state", () => {
  // 16 MiB flat (8 pageblocks), every block Movable, one free order-8 block in each: 2048 pages
  // free, none of order 9 or 10 (each block keeps a used page in its upper half)
  const frag: [string, number[][], number[]][] = [["Normal", [row({}), row({ 8: 8 })], [0, 8, 0, 0, 0]]];
  const machine: Machine = { name: "t", nodes: [{ id: 0, mem: 4096, tier: 0, cpus: true }], tunables: {} };
  const burst = (n: number) => {
    const lines = ["time_ms,op,pid,addr,len,thp", `0,mmap,1,0x40000000,${n * 2 * 1024 * 1024},1`];
    for (let i = 0; i < n; i++) lines.push(`${1 + i},access,1,${0x40000000 + i * 2 * 1024 * 1024},,`);
    return lines.join("\n");
  };

  it("defrag=never: every huge fault falls back on the fragmented box, none on a clean one", async () => {
    const sets = { "transparent_hugepage.enabled": "always", "transparent_hugepage.defrag": "never" };
    const fragmented = engineFor(machine, {}, sets);
    applyStartState(fragmented.mem, state(frag), () => {});
    await runCsv(fragmented, burst(2));
    // no free block of order >= 9 and no compaction: both faults fall back to order 0
    expect(counters(fragmented, ["thp_fault_alloc", "thp_fault_fallback"])).toEqual({ thp_fault_alloc: 0, thp_fault_fallback: 2 });
    const clean = engineFor(machine, {}, sets);
    await runCsv(clean, burst(2));
    // 4096 free pages in four order-10 blocks: both faults get a huge page
    expect(counters(clean, ["thp_fault_alloc", "thp_fault_fallback"])).toEqual({ thp_fault_alloc: 2, thp_fault_fallback: 0 });
  });

  it("defrag=always on Unmovable fragmentation: compaction cannot help, so it falls back more than a clean box", async () => {
    const unmovable: [string, number[][], number[]][] = [["Normal", [row({ 8: 8 })], [8, 0, 0, 0, 0]]];
    const sets = { "transparent_hugepage.enabled": "always", "transparent_hugepage.defrag": "always" };
    const fragmented = engineFor(machine, {}, sets);
    applyStartState(fragmented.mem, state(unmovable), () => {});
    await runCsv(fragmented, burst(2));
    const clean = engineFor(machine, {}, sets);
    await runCsv(clean, burst(2));
    const f = counters(fragmented, ["thp_fault_alloc", "thp_fault_fallback"]);
    const c = counters(clean, ["thp_fault_alloc", "thp_fault_fallback"]);
    // the used pages are unmovable kernel pages in every pageblock: no order-9 block can be made
    expect(f).toEqual({ thp_fault_alloc: 0, thp_fault_fallback: 2 });
    expect(c).toEqual({ thp_fault_alloc: 2, thp_fault_fallback: 0 });
  });

  it("defrag=always on Movable fragmentation: compaction migrates the boot owner's pages", async () => {
    // vm.extfrag_threshold 0: compaction_suitable's fragmentation index test never calls the zone
    // short of memory rather than fragmented. Eight free order-8 blocks give index 1000 -
    // (1000 + 1000 * 2048 / 512) / 8 = 375 <= 500, and whether direct reclaim's freed pages raise
    // it past 500 depends on how they merge (32 pages of one aligned order-5 block: 9 blocks,
    // index 431), which is not what this test is about
    const sets = { "transparent_hugepage.enabled": "always", "transparent_hugepage.defrag": "always", "vm.extfrag_threshold": "0" };
    const e = engineFor(machine, {}, sets);
    applyStartState(e.mem, state(frag), () => {});
    await runCsv(e, burst(1));
    const c = counters(e, ["thp_fault_alloc", "compact_stall", "pgmigrate_success"]);
    expect(c.compact_stall).toBeGreaterThan(0);
    expect(c.pgmigrate_success).toBeGreaterThan(0);
    expect(c.thp_fault_alloc).toBe(1);
  });
});

describe("the library", () => {
  it("replay({startState}) starts from DIR; a non-string is a usage error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wsim-ss-"));
    writeFileSync(join(dir, "buddyinfo"), sample("buddyinfo.txt"));
    writeFileSync(join(dir, "pagetypeinfo"), sample("pagetypeinfo.txt"));
    writeFileSync(join(dir, "t.csv"), "time_ms,op,key\n0,read,buddyinfo\n");
    const machine: Machine = { name: "g", nodes: [{ id: 0, mem: 131072, tier: 0, cpus: true }], tunables: {}, zones: "x86" };
    const warnings: string[] = [];
    const r = await libReplay({ trace: join(dir, "t.csv"), machine, startState: dir, onWarning: (w) => warnings.push(w) });
    expect(r.reads[0]!.value).toBe(sample("buddyinfo.txt"));
    expect(warnings).toEqual([]);
    await expect(libReplay({ trace: join(dir, "t.csv"), startState: 3 as unknown as string })).rejects.toThrow("replay: config.startState must be a directory path, got 3");
  });
});

