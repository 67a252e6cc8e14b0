/**
 * Issue 13 item 4: /proc/zoneinfo of the running model, as the `read` key `zoneinfo` and in the
 * JSON. The format is checked against the real 6.1 file in kernel-samples line structure by
 * line structure (every number replaced, the keys, their order and the padding kept); the
 * values of a small machine are computed by hand from 6.1's formulas.
 */
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PRESETS, type Machine } from "../../../src/machine/machine.js";
import { formatZoneinfo, parseZoneinfo } from "../../../src/procfs/zoneinfo.js";
import { cpusByNodeOf, liveZoneinfo } from "../../../src/procfs/zoneinfo-live.js";
import { replay } from "../../../src/replay.js";
import { engineFor, runCsv, smallMachine } from "../../helpers.js";

const SAMPLE = readFileSync(new URL("../../fixtures/kernel-samples/zoneinfo.txt", import.meta.url), "utf8");

/** each line with its numbers replaced by N: the keys, their order and their padding */
const shape = (text: string) => text.replace(/\r\n/g, "\n").split("\n").map((l) => l.replace(/\d+/g, "N"));
/** the lines of each "Node N, zone NAME" block, by zone name */
function blocks(lines: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let cur: string[] = [];
  for (const l of lines) {
    const m = /^Node N, zone +(\S+)$/.exec(l);
    if (m) out.set(m[1]!, (cur = [l]));
    else if (l !== "") cur.push(l);
  }
  return out;
}
const x86 = (m: Machine): Machine => ({ ...structuredClone(m), zones: "x86" });
const live = (e: ReturnType<typeof engineFor>) => formatZoneinfo(liveZoneinfo(e.mem, cpusByNodeOf(e.mem)));

describe("the live zoneinfo has 6.1's format", () => {
  it("a 424 MiB x86 machine (the sample's guest): the whole file, line structure for line structure", () => {
    const e = engineFor(x86(smallMachine("424M")));
    expect(shape(live(e))).toEqual(shape(SAMPLE));
  });

  it("the default preset under x86: DMA as the sample's DMA (with the per-node stats), DMA32 and Normal as its DMA32, Movable and Device empty", () => {
    const e = engineFor(x86(PRESETS.default!));
    const ours = blocks(shape(live(e)));
    const real = blocks(shape(SAMPLE));
    // (DMA32 reads "DMAN" once its digits are replaced)
    expect([...ours.keys()]).toEqual(["DMA", "DMAN", "Normal", "Movable", "Device"]);
    expect(ours.get("DMA")).toEqual(real.get("DMA"));
    expect(ours.get("DMAN")).toEqual(real.get("DMAN"));
    expect(ours.get("Normal")).toEqual(real.get("DMAN")!.map((l) => l.replace(/zone +DMAN$/, "zone   Normal")));
    expect(ours.get("Movable")).toEqual(real.get("Movable"));
    expect(ours.get("Device")).toEqual(real.get("Device"));
    // and the kernel's parser-checked rules hold: it parses, and formats back to itself
    const text = live(e);
    expect(formatZoneinfo(parseZoneinfo(text, "live"))).toBe(text);
  });
});

describe("values of a fresh 64 MiB x86 machine with vm.min_free_kbytes=4096, by hand", () => {
  // DMA [1, 4096): 3998 present (the EBDA hole 0x9f-0xff), 3840 managed (first MiB reserved).
  // DMA32 [4096, 16343): QEMU leaves the last 41 pages below 4 GiB to firmware: 12247 pages.
  // lowmem 16087; pages_min 1024: DMA min 1024*3840/16087 = 244, +max(244/4, 3) = 61 -> 305, 366;
  // DMA32 min 1024*12247/16087 = 779, +max(194, 12) = 194 -> 973, 1167.
  // protection: DMA 12247/256 = 47 for every zone above it; DMA32 nothing above it.
  // pcp: zone_batchsize DMA (3840>>10)/4 = 0 -> 1 -> 2^0-1 = 0 -> max 1; DMA32 11/4 = 2 -> 3 -> 2 - 1 = 1;
  // high = low watermark / 1 CPU on the node; vm stats threshold 2 * fls(1) * (1 + fls(managed>>15 = 0)) = 2.
  const e = engineFor(x86(smallMachine("64M")), {}, { "vm.min_free_kbytes": "4096" });
  const info = liveZoneinfo(e.mem, cpusByNodeOf(e.mem));
  const z = info.pgdats[0]!.zones;

  it("free, boost, marks, spans and protection", () => {
    const row = (i: number) => [z[i]!.name, z[i]!.freePages, z[i]!.watermarkBoost, z[i]!.min, z[i]!.low, z[i]!.high, z[i]!.spannedPages, z[i]!.presentPages, z[i]!.managedPages, z[i]!.lowmemReserve];
    expect(row(0)).toEqual(["DMA", 3840, 0, 244, 305, 366, 4095, 3998, 3840, [0, 47, 47, 47, 47]]);
    expect(row(1)).toEqual(["DMA32", 12247, 0, 779, 973, 1167, 12247, 12247, 12247, [0, 0, 0, 0, 0]]);
    for (const i of [2, 3, 4]) expect(row(i).slice(1)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, [0, 0, 0, 0, 0]]);
  });

  it("pagesets, threshold, start_pfn and node_unreclaimable", () => {
    expect(z[0]!.pagesets).toEqual([{ cpu: 0, count: 0, high: 305, batch: 1, statThreshold: 2 }]);
    expect(z[1]!.pagesets).toEqual([{ cpu: 0, count: 0, high: 973, batch: 1, statThreshold: 2 }]);
    expect([z[0]!.zoneStartPfn, z[1]!.zoneStartPfn, z[0]!.nodeUnreclaimable]).toEqual([1, 4096, 0]);
    expect(z[0]!.stats!.nr_free_pages).toBe(3840);
  });

  it("a boost is added to the marks zoneinfo prints", () => {
    const e2 = engineFor(x86(smallMachine("64M")), {}, { "vm.min_free_kbytes": "4096" });
    e2.mem.zones[1]!.watermarkBoost = 100;
    const d = liveZoneinfo(e2.mem, cpusByNodeOf(e2.mem)).pgdats[0]!.zones[1]!;
    expect([d.watermarkBoost, d.min, d.low, d.high]).toEqual([100, 879, 1073, 1267]);
  });
});

describe("the live counters", () => {
  it("faults land in their zone's LRU counts and numa_hit; slab and page tables in the node's stats", async () => {
    // 64 MiB flat: one Normal zone. 10 pages touched (anon, youngest generation: active)
    const e = engineFor(smallMachine("64M"), {}, { "wsim.slab": "1", "wsim.page_tables": "1", "transparent_hugepage.enabled": "never" });
    const lines = ["time_ms,op,pid,addr,len", `0,mmap,1,0x40000000,${10 * 4096}`];
    for (let k = 0; k < 10; k++) lines.push(`1,access,1,${0x40000000 + k * 4096},`);
    await runCsv(e, lines.join("\n") + "\n");
    const p = liveZoneinfo(e.mem, cpusByNodeOf(e.mem)).pgdats[0]!;
    const normal = p.zones[2]!;
    // allocations: PGD (order 1), PUD, PMD, PTE, then per page; slab: vma, maple, anon_vma, avc:
    // 4 + 3 + 1 + 10 = 18 allocations, all local hits
    expect([normal.stats!.nr_zone_active_anon, normal.stats!.nr_zone_inactive_anon, normal.stats!.numa_hit, normal.stats!.numa_local]).toEqual([10, 0, 18, 18]);
    expect([p.nodeStats!.nr_active_anon, p.nodeStats!.nr_anon_pages, p.nodeStats!.nr_slab_unreclaimable, p.nodeStats!.nr_page_table_pages]).toEqual([10, 10, 4, 2]);
    expect(normal.freePages).toBe(16384 - 10 - 4 - 5);
  });

  it("numa_miss on the zone used, numa_foreign on the preferred one", async () => {
    // two 16 MiB nodes; a region preferring node 1 faulted from node 0... then node 1 full:
    // simpler: a kernel alloc preferring node 1 of more than node 1 has falls back to node 0
    const e = engineFor(smallMachine("16M", 2), {}, { "vm.min_free_kbytes": "0", "vm.watermark_scale_factor": "1" });
    await runCsv(e, "time_ms,op,id,order,mt,node\n0,alloc,a,10,unmovable,1\n1,alloc,b,10,unmovable,1\n2,alloc,c,10,unmovable,1\n3,alloc,d,10,unmovable,1\n4,alloc,e,10,unmovable,1\n");
    const info = liveZoneinfo(e.mem, cpusByNodeOf(e.mem));
    const n0 = info.pgdats[0]!.zones[2]!.stats!;
    const n1 = info.pgdats[1]!.zones[2]!.stats!;
    // node 1 (4096 pages) holds four order-10 blocks; the fifth comes from node 0
    expect([n1.numa_hit, n1.numa_foreign, n0.numa_miss, n0.numa_hit]).toEqual([4, 1, 1, 0]);
  });
});

describe("the read key and the JSON", () => {
  it("`read` key zoneinfo gives the live file (one node with `node`), the JSON every zone of every node", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wsim-zi-"));
    const trace = join(dir, "t.csv");
    writeFileSync(trace, "time_ms,op,pid,addr,len,key,node\n0,access,1,0x40000000,,,\n1,read,,,,zoneinfo,\n2,read,,,,zoneinfo,1\n");
    const machine: Machine = { name: "two", nodes: [{ id: 0, mem: 8192, tier: 0, cpus: true }, { id: 1, mem: 8192, tier: 0, cpus: true }], tunables: {}, zones: "x86" };
    const r = await replay({ trace, machine, set: ["vm.min_free_kbytes=4096"] });
    const all = parseZoneinfo(r.reads[0]!.value, "read");
    expect(all.pgdats.map((p) => p.nodeId)).toEqual([0, 1]);
    // two CPUs online: pagesets list both in every populated zone
    expect(all.pgdats[0]!.zones[0]!.pagesets!.map((s) => s.cpu)).toEqual([0, 1]);
    const one = parseZoneinfo(r.reads[1]!.value, "read");
    expect(one.pgdats.map((p) => p.nodeId)).toEqual([1]);
    expect(r.reads[1]!.value.startsWith("Node 1, zone      DMA\n")).toBe(true);
    // JSON: structured, every zone in zoneinfo's order; populated ones with stats and pagesets
    const j = r.nodes[0]!.zoneinfo;
    expect(j.zones.map((z) => z.name)).toEqual(["DMA", "DMA32", "Normal", "Movable", "Device"]);
    expect(j.zones[0]!.free).toBe(all.pgdats[0]!.zones[0]!.freePages);
    expect(j.zones[0]!.pagesets![0]).toEqual({ cpu: 0, count: 0, high: all.pgdats[0]!.zones[0]!.pagesets![0]!.high, batch: 1, vm_stats_threshold: all.pgdats[0]!.zones[0]!.pagesets![0]!.statThreshold });
    expect(j.zones[4]!.stats).toBeUndefined();
    expect(j.per_node_stats!.nr_anon_pages).toBe(1);
    // node 1 starts above node 0: its DMA and DMA32 are empty (x86: DMA32 ends at 4 GiB, both nodes below)
    expect(r.nodes[1]!.zoneinfo.zones.map((z) => z.present > 0)).toEqual(all.pgdats[1]!.zones.map((z) => z.presentPages > 0));
  });

  it("an unknown read key names zoneinfo among the known ones", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wsim-zi-"));
    const trace = join(dir, "t.csv");
    writeFileSync(trace, "time_ms,op,key\n0,read,zoneinfoo\n");
    await expect(replay({ trace })).rejects.toThrow(/t\.csv:2: read: unknown file "zoneinfoo" \(known: vmstat, buddyinfo, pagetypeinfo, zoneinfo,/);
  });
});
