import { describe, expect, it } from "vitest";
import type { Engine } from "../../../src/engine/engine.js";
import { V } from "../../../src/stats/counters.js";
import { readCsv } from "../../../src/trace/csv.js";
import { chunksOf, engineFor } from "../../helpers.js";

/** node 0 and node 1, both with CPUs, both top tier (mode 1) */
const twoNodes = (pages = 4096) => ({
  name: "t",
  nodes: [
    { id: 0, mem: pages, tier: 0, cpus: true },
    { id: 1, mem: pages, tier: 0, cpus: true },
  ],
  tunables: {},
});
/** node 0: DRAM with CPUs, tier 0; node 1: CXL, no CPUs, tier 1 */
const tiered = (dram = 2048, cxl = 4096) => ({
  name: "t",
  nodes: [
    { id: 0, mem: dram, tier: 0, cpus: true },
    { id: 1, mem: cxl, tier: 1, cpus: false },
  ],
  tunables: {},
});
const quiet = { "transparent_hugepage.enabled": "never", "vm.compaction_proactiveness": "0", "vm.min_free_kbytes": "0" };
const counters = (e: Engine, names: string[]) => {
  const v = e.mem.vmstat();
  return Object.fromEntries(names.map((n) => [n, v[V[n as keyof typeof V]]]));
};
const REGION = 0x10000000;
const HEART = 0x70000000; // an address in no region: an implicit page, never scanned
const at = (vpn: number) => REGION + vpn * 4096;

/** Feeds CSV lines to the engine without ending the run (state can be inspected between calls). */
async function feed(e: Engine, lines: string[]): Promise<void> {
  for await (const b of readCsv(chunksOf(["time_ms,op,pid,addr,len,node,rw,kind,id"].concat(lines).join("\n")), "t.csv")) e.processBatch(b, "t.csv");
}
/** access events of pid 1 to the heartbeat page every `step` ms in (from, to], from a CPU on `node` */
const heartbeat = (from: number, to: number, node = 0, step = 10) => {
  const out: string[] = [];
  for (let t = from + step; t <= to; t += step) out.push(`${t},access,1,${HEART},,${node}`);
  return out;
};
/** merges event lines by time (stable) */
const byTime = (...lists: string[][]) => lists.flat().map((l, i) => [Number(l.split(",")[0]), i, l] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((x) => x[2]);

describe("NUMA balancing scanning (task_numa_work)", () => {
  it("the scan window advances by scan_size per pass (to a 2 MiB boundary) and wraps; PTE updates count pages made PROT_NONE", async () => {
    const e = engineFor(twoNodes(), { check: true }, {
      ...quiet,
      "kernel.numa_balancing": "1",
      "numa_balancing.scan_size_mb": "2", // 512 pages a pass
      "numa_balancing.scan_period_min_ms": "2000", // / 2 windows (RSS 960 pages): 1000 ms
      "numa_balancing.scan_period_max_ms": "2000",
    });
    const nb = e.mem.numab;
    nb.keepLog = true;
    // a 1280-page region, three pages in four faulted from a CPU on node 1 (960 pages on node 1)
    const lines = [`0,mmap,1,${REGION},${1280 * 4096},`];
    for (let v = 0; v < 1280; v++) if (v % 4 !== 3) lines.push(`0,access,1,${at(v)},,1`);
    // then the process runs on node 0: a heartbeat every 10 ms charges 10 ms of CPU time
    await feed(e, lines.concat(heartbeat(0, 3500)));
    // CPU time T at time T; mm->numa_next_scan = 0 + scan_delay (1000).
    // tick: runtime > node_stamp (0) + period (scan_delay 1000) at 1010: period = task_scan_min
    // = 1000, node_stamp 1000; the pass: next_scan 2010, node_stamp 1002, [0, 512): 384 pages.
    // runtime > 2002 at 2010: node_stamp 2002, pass [512, 1024), node_stamp 2004, next_scan 3010.
    // runtime > 3004 at 3010: [1024, 1280): 192 pages, budget left (512 - 256), no region
    // after it: reset_ptenuma_scan (offset 0, numa_scan_seq 1).
    const R = REGION / 4096; // the region's first vpn
    expect(nb.log).toEqual([[1010, 1, 0, R + 512], [2010, 1, R + 512, R + 1024], [3010, 1, R + 1024, 0]]);
    expect(counters(e, ["numa_pte_updates", "numa_huge_pte_updates", "numa_hint_faults"])).toEqual({
      numa_pte_updates: 960, numa_huge_pte_updates: 0, numa_hint_faults: 0,
    });
    expect(nb.protNoneCount()).toBe(960);
    const t = nb.tasks.get(e.mem.procs.get(1)!.slot)!;
    expect(t.mmSeq).toBe(1);
    // at 4010 a pass finds every page PROT_NONE already: nothing changes, so it walks the whole
    // region (virtpages 4096 > 1280) and wraps again
    await feed(e, heartbeat(3500, 4500));
    expect(nb.log[3]).toEqual([4010, 1, 0, 0]);
    expect(t.mmSeq).toBe(2);
    expect(e.mem.vmstat()[V.numa_pte_updates]).toBe(960);
  });

  it("change_prot_numa skips pages on the task's node and dirty file pages", async () => {
    const e = engineFor(twoNodes(), { check: true }, { ...quiet, "kernel.numa_balancing": "1" });
    const FILE = REGION + 0x200000;
    const lines = [`0,mmap,1,${REGION},${8 * 4096},`, `0,mmap,1,${FILE},${4 * 4096},,,file`];
    for (let v = 0; v < 8; v++) lines.push(`0,access,1,${at(v)},,${v < 4 ? 1 : 0}`); // 4 pages on node 1, 4 on node 0
    // file pages on node 1: two written (dirty), two read
    for (let v = 0; v < 4; v++) lines.push(`0,access,1,${FILE + v * 4096},,1,${v < 2 ? "w" : "r"}`);
    await feed(e, lines.concat(heartbeat(0, 1100)));
    // the pass at 1010 (the task on node 0): the 4 anon pages on node 1 and the 2 clean file pages
    expect(e.mem.vmstat()[V.numa_pte_updates]).toBe(6);
    const pn = e.mem.numab.protNone!;
    const pfnOf = (addr: number) => e.mem.procs.get(1)!.leaf(Math.floor(addr / 4096 / 512))![(addr / 4096) % 512]! - 1;
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((v) => pn[pfnOf(at(v))])).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
    expect([0, 1, 2, 3].map((v) => pn[pfnOf(FILE + v * 4096)])).toEqual([0, 0, 1, 1]);
  });

  it("CPU time is the time between a process's access events, at most 10 ms a gap", async () => {
    const e = engineFor(twoNodes(), {}, { ...quiet, "kernel.numa_balancing": "1" });
    const nb = e.mem.numab;
    nb.keepLog = true;
    const lines = [`0,mmap,1,${REGION},${16 * 4096},`];
    for (let v = 0; v < 16; v++) lines.push(`0,access,1,${at(v)},,1`);
    // an event every 100 ms: each charges 10 ms, so CPU time passes scan_delay (1000) at the
    // 101st, at 10100 ms of virtual time
    await feed(e, lines.concat(heartbeat(0, 12000, 0, 100)));
    expect(nb.log.map((l) => l[0])).toEqual([10100]);
    const t = nb.tasks.get(e.mem.procs.get(1)!.slot)!;
    expect(t.runtime).toBe(1200); // 120 events, 10 ms each
  });
});
