/** `wsim compare`'s rows and table, on kernel results made by hand (no QEMU needed). */
import { describe, expect, it } from "vitest";
import type { KernelResult } from "../../../src/kernel/kernel.js";
import { replay } from "../../../src/replay.js";
import { compareRows, renderCompare } from "../../../src/report/compare.js";

const ROOT = new URL("../../../", import.meta.url).pathname;

/** A kernel run of the bundled faults.csv with these counter changes. */
function kernelRun(vmstat: Record<string, number>, errors: string[] = [], blocks: Record<string, number>[] = []): KernelResult {
  return {
    schema: 1,
    wsim_version: "test",
    source: "kernel",
    trace: { path: "traces/faults.csv", format: "csv", events: 535, first_ms: 0, last_ms: 530 },
    machine: { name: "guest", nodes: [{ id: 0, mem: 32768, tier: 0, cpus: true }], tunables: {} },
    tunables: {},
    vmstat,
    nodes: [],
    reads: [],
    series: [],
    kernel: {
      image: "bz", release: "6.1.0-50-cloud-amd64", mem_mib: 192, numa_mib: [], cmdline: "console=ttyS0", swap_mib: 384, data_mib: 0, lru: "mglru",
      wall_ms: 1, guest_ms: 1, slept_ms: 0, skipped_ms: 0, unsupported: {}, kalloc: { module: null, allocs: 0, failed: 0 }, dma_filled: null, errors,
      boot: { vmstat: {}, buddyinfo: "", pagetypeinfo: "", pageblocks: blocks[0] ?? {} },
      final: { vmstat: {}, buddyinfo: "Node 0, zone    DMA32      1      0\n", pagetypeinfo: "", pageblocks: blocks[1] ?? {} },
      workdir: null,
    },
  };
}

describe("wsim compare", async () => {
  const sim = await replay({ trace: `${ROOT}traces/faults.csv`, machine: { name: "m", nodes: [{ id: 0, mem: 32768, tier: 0, cpus: true }], tunables: {} } });
  const pgfault = sim.vmstat.pgfault!;

  it("gives each counter the kernel's range over the runs and whether wsim lies in it", () => {
    const runs = [kernelRun({ pgfault: pgfault + 1, drop_pagecache: 400, compact_stall: 0 }), kernelRun({ pgfault: pgfault - 2, drop_pagecache: 390, compact_stall: 0 })];
    const rows = compareRows(sim, runs);
    const f = rows.find((r) => r.counter === "pgfault")!;
    expect(f).toMatchObject({ wsim: pgfault, kernel_min: pgfault - 2, kernel_max: pgfault + 1, difference_min: -2, difference_max: 1, in_range: true, modelled: true });
    // not modelled: no wsim value, no difference (pgalloc_dma32 is modelled since the zones: drop_pagecache never is)
    expect(rows.find((r) => r.counter === "drop_pagecache")).toMatchObject({ wsim: null, kernel_min: 390, kernel_max: 400, in_range: null, modelled: false });
    // a counter that moved on neither side is left out unless all
    expect(rows.some((r) => r.counter === "compact_stall")).toBe(false);
    expect(compareRows(sim, runs, true).some((r) => r.counter === "compact_stall")).toBe(true);
  });

  it("a wsim value outside the kernel's range is marked in the table", () => {
    const runs = [kernelRun({ pgfault: pgfault + 5 }), kernelRun({ pgfault: pgfault + 9 }, ["12: mmap : Cannot allocate memory"])];
    expect(compareRows(sim, runs)[0]).toMatchObject({ counter: "pgfault", in_range: false, difference_min: 5, difference_max: 9 });
    const text = renderCompare(sim, runs);
    expect(text).toMatch(/│ counter +│ +wsim │ +kernel, 2 runs │ +kernel − wsim │ wsim in range │/);
    expect(text).toMatch(new RegExp(`│ pgfault +│ +${pgfault} │ +${pgfault + 5} – ${pgfault + 9} │ +\\+5 – \\+9 │ no +│`));
    expect(text).toMatch(/buddyinfo, kernel \(run 1 of 2\):\nNode 0, zone +DMA32/);
    expect(text).toMatch(/^guest clock: 1 ms for 530 ms of trace \(asleep 0 ms, working the rest;/m);
    expect(text).toMatch(/^kernel: Linux 6\.1\.0-50-cloud-amd64$/m);
    expect(text).toMatch(/guest helper errors:\n  run 2, script line 12: mmap/);
  });

  it("shows how many pageblocks changed migratetype on each side (wsim starts all Movable)", () => {
    const blocks = [
      { Unmovable: 10, Movable: 30, Reclaimable: 2, HighAtomic: 0, Isolate: 0 },
      { Unmovable: 12, Movable: 27, Reclaimable: 3, HighAtomic: 0, Isolate: 0 },
    ];
    const text = renderCompare(sim, [kernelRun({ pgfault }, [], blocks)]);
    // faults.csv's pages are movable, but its processes' first page tables are unmovable: the
    // first falls back to an order-10 Movable block, and __rmqueue_fallback's
    // change_pageblock_range claims both of its pageblocks (current_order >= pageblock_order);
    // the tables after it come from that block, and the blocks stay Unmovable when freed
    expect(text).toMatch(/pageblocks by migratetype, change during the replay:\n  wsim   Unmovable \+2  Movable -2  Reclaimable 0  HighAtomic 0  Isolate 0\n  kernel Unmovable \+2  Movable -3  Reclaimable \+1  HighAtomic 0  Isolate 0\n/);
    // no snapshots (an older kernel JSON): no section
    expect(renderCompare(sim, [kernelRun({ pgfault })])).not.toMatch(/pageblocks by migratetype/);
  });

  it("with one run it prints the kernel's value and the difference, no range column", () => {
    const text = renderCompare(sim, [kernelRun({ pgfault: pgfault + 1 })]);
    expect(text).toMatch(/│ counter +│ +wsim │ kernel │ kernel − wsim │\n/);
    expect(text).toMatch(new RegExp(`│ pgfault +│ +${pgfault} │ +${pgfault + 1} │ +\\+1 │\n`));
    expect(text).not.toMatch(/in range/);
    // a kernel below wsim carries its minus sign, one above its plus sign (issue 12 item 27's kind)
    expect(renderCompare(sim, [kernelRun({ pgfault: pgfault - 3 })])).toMatch(new RegExp(`│ pgfault +│ +${pgfault} │ +${pgfault - 3} │ +-3 │\n`));
  });
});
