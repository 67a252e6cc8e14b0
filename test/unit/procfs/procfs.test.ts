import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MAX_ORDER, MIGRATE_TYPES } from "../../../src/mm/constants.js";
import {
  formatBuddyinfo, formatExtfragIndex, formatPagetypeinfo, formatUnusableIndex, formatVmstat, type ZoneView,
} from "../../../src/procfs/procfs.js";
import { KERNEL_VMSTAT, NR_COUNTERS, printNames } from "../../../src/stats/counters.js";

const sample = (f: string) => readFileSync(new URL(`../../fixtures/kernel-samples/${f}`, import.meta.url), "utf8");

/** The two zones of the sample guest, rebuilt from its pagetypeinfo. */
function sampleZones(): ZoneView[] {
  const pti = sample("pagetypeinfo.txt").split("\n");
  const rows = (zone: string) =>
    pti.filter((l) => l.includes(`zone ${zone.padStart(8)}, type`)).map((l) => l.split(/\s+/).slice(6, 6 + MAX_ORDER).map(Number));
  const blocks = (zone: string) => pti.find((l) => l.startsWith(`Node 0, zone ${zone.padStart(8)} `))!.trim().split(/\s+/).slice(4).map(Number);
  const mk = (name: string, start: number): ZoneView => {
    const r = rows(name);
    const nrFreeMt = new Int32Array(MAX_ORDER * MIGRATE_TYPES);
    const nrFree = new Int32Array(MAX_ORDER);
    r.forEach((row, mt) => row.forEach((n, o) => {
      nrFreeMt[o * MIGRATE_TYPES + mt] = n;
      nrFree[o]! += n;
    }));
    // lay the pageblock counts out as a pbMt array
    const b = blocks(name);
    const total = b.reduce((s, x) => s + x, 0);
    const pbMt = new Uint8Array(start / 512 + total);
    let k = start / 512;
    b.forEach((n, mt) => {
      for (let i = 0; i < n; i++) pbMt[k++] = mt;
    });
    return { nid: 0, name, start, end: start + total * 512, nrFree, nrFreeMt, pbMt };
  };
  return [mk("DMA", 0), mk("DMA32", 4096)];
}

describe("kernel file formats match a real 6.1 to the byte", () => {
  it("/proc/buddyinfo", () => {
    expect(formatBuddyinfo(sampleZones())).toBe(sample("buddyinfo.txt"));
  });
  it("/proc/pagetypeinfo", () => {
    expect(formatPagetypeinfo(sampleZones())).toBe(sample("pagetypeinfo.txt"));
  });
  it("unusable_index", () => {
    expect(formatUnusableIndex(sampleZones())).toBe(sample("unusable_index.txt"));
  });
  it("extfrag_index", () => {
    expect(formatExtfragIndex(sampleZones())).toBe(sample("extfrag_index.txt"));
  });
  it("extfrag_index prints 0.xxx when no block of the order is free", () => {
    const nrFree = new Int32Array(MAX_ORDER);
    nrFree[0] = 100;
    const z: ZoneView = { nid: 0, name: "Normal", start: 0, end: 512, nrFree, nrFreeMt: new Int32Array(55), pbMt: new Uint8Array(1) };
    // order 1: 1000 - (1000 + 100*1000/2) / 100 = 1000 - 510 = 490
    expect(formatExtfragIndex([z]).split(/\s+/)[5]).toBe("0.490");
    expect(formatUnusableIndex([z]).split(/\s+/)[5]).toBe("1.000");
  });
  it("/proc/vmstat has 6.1's names in 6.1's order", () => {
    const names = sample("vmstat.txt").trim().split("\n").map((l) => l.split(" ")[0]);
    expect([...KERNEL_VMSTAT]).toEqual(names);
    const text = formatVmstat(new Float64Array(NR_COUNTERS), printNames({ kpromoted: false, kmmscand: false }, false));
    expect(text.split("\n").filter(Boolean).map((l) => l.split(" ")[0])).toEqual(names);
    expect(text.endsWith("nr_unstable 0\n")).toBe(true);
  });

  it("the seed RFCs' counters print at their patches' positions when enabled", () => {
    const n = printNames({ kpromoted: true, kmmscand: true }, true);
    const at = (x: string) => n.indexOf(x as never);
    expect(at("nr_kmmscand_mm_scans")).toBe(at("numa_pages_migrated") + 1);
    expect(at("kpromoted_mig_dropped")).toBe(at("nr_unstable") - 1);
    expect(at("kpromoted_recorded_accesses")).toBe(at("direct_map_level3_splits") + 1);
    expect(n[n.length - 1]!.startsWith("wsim_")).toBe(true);
    expect(printNames({ kpromoted: false, kmmscand: false }, false)).not.toContain("kpromoted_mig_dropped");
  });
});
