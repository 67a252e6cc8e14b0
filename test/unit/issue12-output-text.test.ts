/**
 * Issue 12 item 26: the text output shows the counters that moved, grouped as the kernel
 * groups them, sizes beside page counts, the read events, and free pages per order on a log
 * scale. Expectations are worked out from a 16 MiB machine (4096 pages, 4 order-10 blocks).
 */
import { describe, expect, it } from "vitest";
import { buildResult } from "../../src/engine/result.js";
import { renderText } from "../../src/report/text.js";
import { engineFor, runCsv, smallMachine } from "../helpers.js";

const HEAD = "time_ms,op,pid,addr,len,key\n";

async function run(csv: string) {
  const e = engineFor(smallMachine("16M"));
  await runCsv(e, HEAD + csv);
  return buildResult(e, { path: "t.csv", format: "csv", events: 4, firstMs: 0, lastMs: 7 });
}

describe("text output (item 26)", () => {
  it("shows only counters that moved, in the kernel's groups, with sizes beside page counts", async () => {
    const r = await run("0,access,1,0x1000,,\n1,access,1,0x2000,,\n2,access,1,0x3000,,\n7,read,,,,vmstat\n");
    const t = renderText(r, { color: false, width: 100 });
    const row = (name: string) => t.split("\n").find((l) => new RegExp(`│ ${name} +│`).test(l));
    // three first touches: 3 faults, 3 order-0 pages allocated = 12 KiB
    expect(row("pgfault")).toMatch(/│ +3 │/);
    expect(row("pgalloc_normal")).toMatch(/│ +3 │ +12 KiB │/);
    // free pages: 4096 - 3 = 4093 pages = 16372 KiB = 16.0 MiB (one decimal)
    expect(row("nr_free_pages")).toMatch(/│ +4093 │ +16\.0 MiB │/);
    // counters that stayed 0 are not listed
    for (const zero of ["compact_stall", "pgscan_kswapd", "thp_fault_alloc", "oom_kill", "pswpout"]) expect(row(zero), zero).toBeUndefined();
    // numa_hit counts allocations (6.1 rmqueue: zone_statistics(.., 1)), so no size
    expect(row("numa_hit")).toMatch(/│ +3 │ +│/);
    // groups in the kernel's order: allocation, then NUMA, then the memory gauges
    const heads = ["allocation", "NUMA", "memory"].map((g) => t.indexOf(`│ ${g} `));
    for (const h of heads) expect(h).toBeGreaterThan(0);
    expect([...heads].sort((a, b) => a - b)).toEqual(heads);
  });

  it("prints each read event's text (vmstat reads: their non-zero lines)", async () => {
    const r = await run("0,access,1,0x1000,,\n7,read,,,,vmstat\n7,read,,,,buddyinfo\n");
    const t = renderText(r, { color: false });
    expect(t).not.toContain("see --format json");
    expect(t).toContain("t=7 ms read vmstat\n  nr_free_pages 4095\n");
    expect(t).toContain("\n  pgfault 1\n");
    expect(t).not.toMatch(/\n {2}compact_stall 0\n/);
    // the buddyinfo read, as the kernel prints it, indented
    expect(t).toContain("t=7 ms read buddyinfo\n  Node 0, zone   Normal ");
  });

  it("draws free pages per order on a log scale: order 0 with 1 page is visible beside 3072 pages", async () => {
    // one 4 KiB fault splits an order-10 block: 1 free block of each order 0..9, 3 of order 10
    const r = await run("0,access,1,0x1000,,\n");
    const bi = r.nodes[0]!.zones[0]!.buddyinfo;
    expect(bi).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3]);
    const t = renderText(r, { color: false, width: 100 });
    const bar = (o: number) => (t.split("\n").find((l) => l.startsWith(`  order ${String(o).padStart(2)} `))!.match(/█+/)?.[0].length ?? 0);
    // width 100: bars of up to 60; length = round(60 * log2(1 + pages) / log2(1 + 3072))
    const want = (pages: number) => Math.round((60 * Math.log2(1 + pages)) / Math.log2(3073));
    expect(bar(10)).toBe(60);
    expect(bar(0)).toBe(want(1)); // 5 (a linear scale gave 1)
    expect(bar(0)).toBe(5);
    expect(bar(3)).toBe(want(8)); // 16
    expect(bar(9)).toBe(want(512)); // 47
  });
});
