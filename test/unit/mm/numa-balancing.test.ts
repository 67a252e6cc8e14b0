import { describe, expect, it } from "vitest";
import type { Engine } from "../../../src/engine/engine.js";
import { V } from "../../../src/stats/counters.js";
import { readCsv } from "../../../src/trace/csv.js";
import { chunksOf, counters, engineFor, tiered } from "../../helpers.js";
import { readFileSync } from "node:fs";
import { replay } from "../../../src/replay.js";
import { BEGIN, END, rows, table, TRACE } from "../../../scripts/numab-table.mjs";

/** node 0 and node 1, both with CPUs, both top tier (mode 1) */
const twoNodes = (pages = 4096) => ({
  name: "t",
  nodes: [
    { id: 0, mem: pages, tier: 0, cpus: true },
    { id: 1, mem: pages, tier: 0, cpus: true },
  ],
  tunables: {},
});
const quiet = { "transparent_hugepage.enabled": "never", "vm.compaction_proactiveness": "0", "vm.min_free_kbytes": "0" };
const REGION = 0x10000000;
const HEART = 0x70000000; // an address in no region: an implicit page, never scanned
const at = (vpn: number) => REGION + vpn * 4096;

/** Feeds CSV lines to the engine without ending the run (state can be inspected between calls). */
async function feed(e: Engine, lines: string[]): Promise<void> {
  for await (const b of readCsv(chunksOf(["time_ms,op,pid,addr,len,node,rw,kind,id,order"].concat(lines).join("\n")), "t.csv")) e.processBatch(b, "t.csv");
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

/**
 * A tiered machine whose DRAM is filled by kernel pages at 0 ms, so that the region's `n` pages
 * (faulted from node 0 at 0 ms) spill to CXL; then `room` of the kernel pages are freed at
 * 1 ms, so DRAM has room for promotions (but far less than the free-space bypass's 1 GiB).
 */
async function tieredRun(sets: Record<string, string>, n: number, room = 400): Promise<Engine> {
  const e = engineFor(tiered(), { check: true }, { ...quiet, "kernel.numa_balancing": "2", ...sets });
  const lines = [`0,mmap,1,${REGION},${n * 4096},`];
  for (let k = 0; k < 2048; k++) lines.push(`0,alloc,,,,0,,,k${k}`);
  for (let v = 0; v < n; v++) lines.push(`0,access,1,${at(v)},,0`);
  for (let k = 0; k < room; k++) lines.push(`1,free,,,,,,,k${k}`);
  await feed(e, lines);
  const onCxl = e.mem.zones[1]!.managed - e.mem.zones[1]!.freePages;
  expect(onCxl).toBeGreaterThanOrEqual(n); // the region is on CXL
  return e;
}
const nodeOfVpn = (e: Engine, v: number) => {
  const leaf = e.mem.procs.get(1)!.leaf(Math.floor((REGION / 4096 + v) / 512))!;
  return e.mem.alloc.zoneOf(leaf[(REGION / 4096 + v) % 512]! - 1).nid;
};
const PROMO = ["numa_pte_updates", "numa_hint_faults", "numa_hint_faults_local", "pgpromote_candidate", "pgpromote_success", "numa_pages_migrated"];

describe("NUMA balancing memory tiering mode (kernel.numa_balancing=2)", () => {
  it("a hint fault within hot_threshold_ms of the scan promotes, one outside does not", async () => {
    const e = await tieredRun({ "numa_balancing.scan_size_mb": "1" }, 64);
    // the pass at 1010 hints the 64 CXL pages and stamps them 1010 (xchg_page_access_time)
    await feed(e, byTime(heartbeat(1, 2200), [`1505,access,1,${at(0)},,0`, `2100,access,1,${at(1)},,0`]));
    // page 0: latency 1505 - 1010 = 495 < 1000: a candidate, promoted; page 1: 1090 >= 1000
    expect(counters(e, PROMO)).toEqual({
      numa_pte_updates: 64, numa_hint_faults: 2, numa_hint_faults_local: 0, pgpromote_candidate: 1, pgpromote_success: 1, numa_pages_migrated: 1,
    });
    expect([nodeOfVpn(e, 0), nodeOfVpn(e, 1)]).toEqual([0, 1]);
    expect(e.mem.numab.protNoneCount()).toBe(62);
    // the promotion reached task_numa_fault with a new numa_scan_seq: placement, and with no
    // local fault update_task_scan_period doubles the period (1000 -> 2000, max 60000)
    const t = e.mem.numab.tasks.get(e.mem.procs.get(1)!.slot)!;
    expect(t.scanPeriod).toBe(2000);
    expect(t.nextScan).toBe(1505 + 2000);
    // the ground truth hears of it under its promoter
    expect(e.mem.hotTruth!.result().by.numa_balancing!.promoted).toBe(1);
  });

  it("the rate limit caps candidates promoted per second (per target node)", async () => {
    // 1 MB/s = 256 pages/s
    const e = await tieredRun({ "numa_balancing.scan_size_mb": "2", "kernel.numa_balancing_promote_rate_limit_MBps": "1" }, 300);
    const faults = Array.from({ length: 300 }, (_, v) => `${1100 + v},access,1,${at(v)},,0`);
    await feed(e, byTime(heartbeat(1, 1500), faults));
    // one window (from the first candidate at 1100, which it includes): candidates 1..256 pass
    // (total - window start 0..255 < 256), the other 44 are throttled but counted
    expect(counters(e, PROMO)).toEqual({
      numa_pte_updates: 300, numa_hint_faults: 300, numa_hint_faults_local: 0, pgpromote_candidate: 300, pgpromote_success: 256, numa_pages_migrated: 256,
    });
  });

  it("the hot threshold adjusts once per scan_period_max_ms as numa_promotion_adjust_threshold computes it", async () => {
    // rate limit 1 MB/s = 256 pages/s; window 2000 ms: ref_cand = 256 * 2000 / 1000 = 512;
    // unit = 2 * 1000 / 16 = 125
    const sets = { "numa_balancing.scan_size_mb": "1", "kernel.numa_balancing_promote_rate_limit_MBps": "1", "numa_balancing.scan_period_max_ms": "2000" };
    const e = await tieredRun(sets, 64);
    await feed(e, byTime(heartbeat(1, 2200), [`2110,access,1,${at(0)},,0`]));
    // at 2110 (> 0 + 2000, nbp_th_start set when the mode was set): 0 candidates < 0.9 * 512:
    // the threshold rises to 1125, so a latency of 2110 - 1010 = 1100 now promotes
    expect(e.mem.numab.nodes[0]!.threshold).toBe(1125);
    expect(counters(e, ["pgpromote_candidate", "pgpromote_success"])).toEqual({ pgpromote_candidate: 1, pgpromote_success: 1 });
    // the same without the adjustment (window 60000 ms): 1100 >= 1000, not promoted
    const d = await tieredRun({ "numa_balancing.scan_size_mb": "1", "kernel.numa_balancing_promote_rate_limit_MBps": "1" }, 64);
    await feed(d, byTime(heartbeat(1, 2200), [`2110,access,1,${at(0)},,0`]));
    expect(d.mem.numab.nodes[0]!.threshold).toBe(0);
    expect(counters(d, ["pgpromote_candidate", "pgpromote_success"])).toEqual({ pgpromote_candidate: 0, pgpromote_success: 0 });
    // a rate limit of 0 throttles every candidate: ref_cand 0, so one candidate in the window
    // (1 > 0) lowers the threshold: 1000 - 125 = 875, and 1100 no longer qualifies
    const z = await tieredRun({ ...sets, "kernel.numa_balancing_promote_rate_limit_MBps": "0" }, 64);
    await feed(z, byTime(heartbeat(1, 2200), [`1500,access,1,${at(0)},,0`, `2110,access,1,${at(1)},,0`]));
    expect(z.mem.numab.nodes[0]!.threshold).toBe(875);
    expect(counters(z, ["numa_hint_faults", "pgpromote_candidate", "pgpromote_success"])).toEqual({ numa_hint_faults: 2, pgpromote_candidate: 1, pgpromote_success: 0 });
  });
});

describe("NUMA balancing tiering mode: pgdat_free_space_enough", () => {
  it("with DRAM free above WMARK_PROMO + 1 GiB every hint fault promotes: no latency test, no candidate, threshold reset", async () => {
    // 2 GiB of DRAM, filled with 511 4 MiB kernel blocks and 510 pages (free 514, below low = 524)
    const e = engineFor(tiered(524288, 4096), {}, { ...quiet, "kernel.numa_balancing": "2", "numa_balancing.scan_size_mb": "1" });
    const lines = [`0,mmap,1,${REGION},${64 * 4096},`];
    for (let k = 0; k < 511; k++) lines.push(`0,alloc,,,,0,,,k${k},10`);
    for (let k = 0; k < 510; k++) lines.push(`0,alloc,,,,0,,,p${k},0`);
    for (let v = 0; v < 64; v++) lines.push(`0,access,1,${at(v)},,0`);
    await feed(e, lines);
    expect(e.mem.zones[1]!.managed - e.mem.zones[1]!.freePages).toBeGreaterThanOrEqual(64);
    // free 300 blocks: 307,714 pages free > promo (3 * 524) + 2^18 (1 GiB)
    await feed(e, Array.from({ length: 300 }, (_, k) => `1,free,,,,,,,k${k}`));
    e.mem.numab.nodes[0]!.threshold = 875; // as if adjusted before
    // hinted at 1010; a fault 5000 ms later would fail the latency test, but DRAM has room
    await feed(e, byTime(heartbeat(1, 6100), [`6010,access,1,${at(0)},,0`]));
    expect(counters(e, ["numa_hint_faults", "pgpromote_candidate", "pgpromote_success"])).toEqual({ numa_hint_faults: 1, pgpromote_candidate: 0, pgpromote_success: 1 });
    expect(e.mem.numab.nodes[0]!.threshold).toBe(0);
  });
});

describe("NUMA balancing tiering mode and kswapd", () => {
  it("a promotion into a node below its high watermark fails and wakes its kswapd, which balances to WMARK_PROMO", async () => {
    const e = await tieredRun({ "numa_balancing.scan_size_mb": "1" }, 64, 3);
    const z = e.mem.zones[0]!;
    expect(z.freePages).toBeLessThanOrEqual(z.mark(2) + 1); // not above high + 1: not migrate_balanced_pgdat
    await feed(e, heartbeat(1, 1499));
    // (the heartbeat's own faults wake kswapd too: count the wakes of the hint fault alone)
    const k = e.mem.kswapd[0]!;
    const wakes: number[][] = [];
    const wake = k.wake.bind(k);
    k.wake = (order, gfp, hz) => {
      wakes.push([order, gfp ?? 0, hz ?? -1]);
      wake(order, gfp, hz);
    };
    await feed(e, [`1500,access,1,${at(0)},,0`]);
    expect(counters(e, ["numa_hint_faults", "pgpromote_candidate", "pgpromote_success"])).toEqual({ numa_hint_faults: 1, pgpromote_candidate: 1, pgpromote_success: 0 });
    expect(wakes).toEqual([[0, 0, 3]]); // wakeup_kswapd(zone, 0, order 0, ZONE_MOVABLE)
    expect(nodeOfVpn(e, 0)).toBe(1);
    // pgdat_balanced with the tiering bit: free pages between high and promo are not balanced
    const free = z.freePages;
    z.freePages = z.mark(2) + 1; // above high, not above promo (each mark is min + n * 2 pages here)
    expect(k.balanced(0, 3)).toBe(false);
    e.settings.set("kernel.numa_balancing", "1");
    expect(k.balanced(0, 3)).toBe(true);
    z.freePages = free;
  });
});

describe("NUMA balancing mode 1 (should_numa_migrate_memory)", () => {
  it("a hint fault from the page's own node is local: counted, not migrated, the cpupid untouched (mpol_misplaced returns early)", async () => {
    const e = engineFor(twoNodes(), { check: true }, { ...quiet, "kernel.numa_balancing": "1" });
    await feed(e, [`0,mmap,1,${REGION},4096,`, `0,access,1,${at(0)},,1`].concat(heartbeat(0, 1400)));
    const pfn = e.mem.procs.get(1)!.leaf(REGION / 4096 / 512)![0]! - 1;
    expect(e.mem.numab.protNone![pfn]).toBe(1); // hinted at 1010 (the task on node 0, the page on node 1)
    await feed(e, [`1500,access,1,${at(0)},,1`]); // the process now runs on node 1
    expect(counters(e, ["numa_hint_faults", "numa_hint_faults_local", "numa_pages_migrated"])).toEqual({ numa_hint_faults: 1, numa_hint_faults_local: 1, numa_pages_migrated: 0 });
    expect(e.mem.numab.cpupidOf(pfn)).toBe(-1);
    expect(e.mem.numab.protNone![pfn]).toBe(0);
  });

  it("on a tiered machine, a lower-tier page with no valid last cpupid stays on its first fault and moves on the second", async () => {
    // kernel.numa_balancing=1 without the tiering bit: should_numa_migrate_memory returns false
    // for a page off the top tier whose last cpupid is not valid, after recording this fault's
    const e = await tieredRun({ "kernel.numa_balancing": "1", "numa_balancing.scan_size_mb": "1", "numa_balancing.scan_period_max_ms": "1000" }, 64);
    await feed(e, byTime(heartbeat(1, 2200), [`1500,access,1,${at(0)},,0`]));
    expect([nodeOfVpn(e, 0), e.mem.vmstat()[V.numa_pages_migrated]]).toEqual([1, 0]);
    // the next pass (2010 or later) hints it again; the second fault moves it (early in the
    // task's life a fault whose last cpupid is this task's migrates)
    await feed(e, byTime(heartbeat(2200, 3200), [`3100,access,1,${at(0)},,0`]));
    expect([nodeOfVpn(e, 0), e.mem.vmstat()[V.numa_pages_migrated], e.mem.vmstat()[V.pgpromote_success]]).toEqual([0, 1, 1]);
    expect(e.mem.vmstat()[V.pgpromote_candidate]).toBe(0); // candidates are tiering mode's
  });

  it("the scan period adapts as update_task_scan_period computes it after each placement", async () => {
    const e = engineFor(twoNodes(), { check: true }, { ...quiet, "kernel.numa_balancing": "1" });
    const nb = e.mem.numab;
    nb.keepLog = true;
    await feed(e, [`0,mmap,1,${REGION},${2 * 4096},`, `0,access,1,${at(0)},,1`, `0,access,1,${at(1)},,1`].concat(heartbeat(0, 1010)));
    const t = nb.tasks.get(e.mem.procs.get(1)!.slot)!;
    expect([t.scanPeriod, t.mmSeq]).toEqual([1000, 1]); // task_scan_start: 1000 (RSS in one window); the pass wrapped
    // P's fault (remote, migrated): placement for seq 1 with no fault buffered yet: local +
    // shared = 0, so the period doubles (min(scan_period_max 60000, 2000)), next scan 1015 + 2000
    await feed(e, [`1015,access,1,${at(0)},,0`]);
    expect([t.scanPeriod, t.nextScan, t.scanPeriodMax]).toEqual([2000, 3015, 60000]);
    // the task moves to node 1; Q's fault there is local (no placement: same seq)
    await feed(e, [`1020,access,1,${at(1)},,1`]);
    expect(t.locality).toEqual([1, 1, 0]);
    // runtime > node_stamp 1002 + 2000 at 3010, but next scan is 3015: no pass; the next tick,
    // at 5010 (> 3002 + 2000), scans: P (on node 0) is hinted, seq 2
    await feed(e, heartbeat(1020, 5090, 1));
    expect(nb.log.map((l) => l[0])).toEqual([1010, 5010]);
    // P's fault from node 1: placement for seq 2 with 2 private faults, remote 1, local 1:
    // slot = ceil(2000 / 10) = 200, lr = 5, ps = 10 >= 7: diff = (10 - 7) * 200 = +600
    await feed(e, [`5100,access,1,${at(0)},,1`]);
    expect(t.scanPeriod).toBe(2600);
    expect(t.preferred).toBe(0); // decayed memory faults: node 0 1, node 1 1; the first wins
    // zeroed by the update, then this fault: remote (TNF_FAULT_LOCAL is set before the migration)
    expect(t.locality).toEqual([1, 0, 0]);
  });

  it("the two-stage filter: a page last seen from another node migrates on the second fault from the same node, not the first", async () => {
    const e = engineFor(twoNodes(), { check: true }, {
      ...quiet,
      "kernel.numa_balancing": "1",
      "numa_balancing.scan_size_mb": "1",
      "numa_balancing.scan_period_max_ms": "1000", // the period stays 1000 ms
    });
    const nb = e.mem.numab;
    const pfn = (v: number) => e.mem.procs.get(1)!.leaf(Math.floor((REGION / 4096 + v) / 512))![(REGION / 4096 + v) % 512]! - 1;
    const migrated = () => e.mem.vmstat()[V.numa_pages_migrated];
    // P (vpn 0) and Q (vpn 1) faulted from a CPU on node 1; the process then runs on node 0
    await feed(e, [`0,mmap,1,${REGION},${2 * 4096},`, `0,access,1,${at(0)},,1`, `0,access,1,${at(1)},,1`]);
    await feed(e, heartbeat(0, 1014));
    expect([nb.protNone![pfn(0)], nb.protNone![pfn(1)]]).toEqual([1, 1]); // the pass at 1010
    const t = nb.tasks.get(e.mem.procs.get(1)!.slot)!;
    // early in the task's life (numa_scan_seq <= 4, no preferred node) a first fault migrates
    await feed(e, [`1015,access,1,${at(0)},,0`]);
    expect([e.mem.alloc.zoneOf(pfn(0)).nid, migrated()]).toEqual([0, 1]);
    expect(nb.cpupidOf(pfn(0))).toBe((0 << 8) | 1); // the fault's (node, pid), moved with the page
    // Q, still PROT_NONE, faults after five passes: it migrates (no preferred node yet), and the
    // placement that follows sets the preferred node (node 0, where the faulted memory is)
    await feed(e, heartbeat(1015, 7990));
    expect(t.mmSeq).toBeGreaterThan(4);
    await feed(e, [`8000,access,1,${at(1)},,0`]);
    expect(migrated()).toBe(2);
    expect(t.preferred).toBe(0);
    expect(t.taskSeq).toBeGreaterThan(4);
    // the process moves to node 1: the next pass hints P (on node 0, not the task's node)
    await feed(e, heartbeat(8000, 9790, 1));
    expect(nb.protNone![pfn(0)]).toBe(1);
    // first fault from node 1: P's last fault came from node 0: not migrated; it records node 1
    await feed(e, [`9800,access,1,${at(0)},,1`]);
    expect([e.mem.alloc.zoneOf(pfn(0)).nid, migrated()]).toEqual([0, 2]);
    expect(nb.cpupidOf(pfn(0))).toBe((1 << 8) | 1);
    // the next pass hints P again; the second fault from node 1 migrates it
    await feed(e, heartbeat(9800, 11790, 1));
    expect(nb.protNone![pfn(0)]).toBe(1);
    await feed(e, [`11800,access,1,${at(0)},,1`]);
    expect([e.mem.alloc.zoneOf(pfn(0)).nid, migrated()]).toEqual([1, 3]);
    expect(counters(e, ["numa_hint_faults", "numa_hint_faults_local", "pgpromote_success"])).toEqual({
      numa_hint_faults: 4, numa_hint_faults_local: 0, pgpromote_success: 0,
    });
  });
});

describe("NUMA balancing and huge pages, and --check", () => {
  it("a PMD-mapped huge page is hinted and faults as one (numa_huge_pte_updates); --check holds, and catches a stray PROT_NONE", async () => {
    const e = engineFor(twoNodes(), { check: true }, {
      "vm.compaction_proactiveness": "0", "vm.min_free_kbytes": "0", "kernel.numa_balancing": "1",
    });
    const lines = [`0,mmap,1,${REGION},${1024 * 4096},`, `0,access,1,${at(0)},,1`, `0,access,1,${at(512)},,1`];
    await feed(e, lines.concat(heartbeat(0, 1100)));
    // two huge pages on node 1, hinted by the pass at 1010: 2 PMDs, 1024 entries
    expect(counters(e, ["thp_fault_alloc", "numa_pte_updates", "numa_huge_pte_updates"])).toEqual({ thp_fault_alloc: 2, numa_pte_updates: 1024, numa_huge_pte_updates: 2 });
    expect(e.mem.numab.protNoneCount()).toBe(1024);
    // one access to a subpage: one hint fault for the whole PMD; wsim moves order-0 pages only,
    // so the misplaced huge page stays (a failed migration)
    await feed(e, [`1105,access,1,${at(7)},,0`]);
    expect(counters(e, ["numa_hint_faults", "numa_pages_migrated", "wsim_numa_thp_unmigrated"])).toEqual({ numa_hint_faults: 1, numa_pages_migrated: 0, wsim_numa_thp_unmigrated: 1 });
    expect(e.mem.numab.protNoneCount()).toBe(512);
    // unmapping frees the pages and their PROT_NONE state
    await feed(e, [`1110,munmap,1,${REGION},${1024 * 4096},`]);
    expect(e.mem.numab.protNoneCount()).toBe(0);
    // the checker: a PROT_NONE byte on a page no page table maps is a broken invariant
    const { checkMemory } = await import("../../../src/mm/check.js");
    expect(checkMemory(e.mem.mappingView())).toBeNull();
    e.mem.numab.protNone![5] = 1;
    expect(checkMemory(e.mem.mappingView())).toMatch(/PROT_NONE but page tables map 0/);
  });
});

describe("a lower-tier huge page in tiering mode", () => {
  it("is a promotion candidate (512 pages, under the rate limit) that wsim cannot migrate: wsim_numa_thp_unmigrated", async () => {
    const e = engineFor(tiered(), { check: true }, {
      "vm.compaction_proactiveness": "0", "vm.min_free_kbytes": "0", "kernel.numa_balancing": "2",
    });
    // kernel allocations fill DRAM (node 0, 2048 pages); the region is MADV_HUGEPAGE (thp=1),
    // so the THP fault's second pass (direct reclaim allowed) falls back to node 1 (CXL): a
    // region without node=, which the pass at 1010 hints as one PMD
    const rows = ["time_ms,op,pid,addr,len,node,thp,id"];
    for (let k = 0; k < 2048; k++) rows.push(`0,alloc,,,,0,,k${k}`);
    rows.push(`0,mmap,1,${REGION},${512 * 4096},,1,`, `0,access,1,${at(0)},,0,,`);
    for (const l of heartbeat(0, 1100)) rows.push(l + ",,");
    for await (const b of readCsv(chunksOf(rows.join("\n")), "t.csv")) e.processBatch(b, "t.csv");
    expect(counters(e, ["thp_fault_alloc", "numa_huge_pte_updates"])).toEqual({ thp_fault_alloc: 1, numa_huge_pte_updates: 1 });
    expect(e.mem.alloc.zoneOf(e.mem.procs.get(1)!.leaf(REGION / 4096 / 512)![0]! - 1).nid).toBe(1);
    // the hint fault at 1105: DRAM (2048 pages) is far below WMARK_PROMO + 1 GiB, so no
    // free-space bypass; latency 1105 - 1010 = 95 ms < hot_threshold 1000: a candidate of 512
    // pages, counted by numa_promotion_rate_limit before the migration (65536 MB/s: not
    // throttled); migrate_misplaced_page would move the THP in 6.1, wsim cannot: one event
    await feed(e, [`1105,access,1,${at(7)},,0`]);
    expect(counters(e, ["numa_hint_faults", "pgpromote_candidate", "pgpromote_success", "wsim_numa_thp_unmigrated"])).toEqual({
      numa_hint_faults: 1, pgpromote_candidate: 512, pgpromote_success: 0, wsim_numa_thp_unmigrated: 1,
    });
  });
});

describe("the bundled comparison (scripts/numab-table.mjs on traces/tiered-spill.csv.gz)", () => {
  it("replays deterministically, and the README's table is the script's output", async () => {
    const root = new URL("../../../", import.meta.url).pathname;
    const rs = await rows(replay, root + TRACE);
    const readme = readFileSync(root + "README.md", "utf8");
    const block = readme.slice(readme.indexOf(BEGIN) + BEGIN.length + 1, readme.indexOf(END) - 1);
    expect(table(rs)).toBe(block);
    // the four policies differ; NUMA balancing promoted through its hint faults
    const [nb, kp, km, none] = rs;
    expect(nb.promoted).toBeGreaterThan(0);
    expect(new Set([nb.promoted, kp.promoted, km.promoted]).size).toBe(3);
    expect(none.promoted).toBe(0);
    // a second replay of the NUMA balancing run is byte-identical
    const a = await replay({ trace: root + TRACE, set: ["kernel.numa_balancing=2"] });
    const b = await replay({ trace: root + TRACE, set: ["kernel.numa_balancing=2"] });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  }, 120_000);

  it("--check holds with NUMA balancing on (the PROT_NONE state agrees with the page tables), modes 1 to 3", async () => {
    // a small tiered machine (--check is O(pages) per event): a heap spilling to CXL, random
    // accesses for 4 s, a munmap, an exit
    for (const mode of ["1", "2", "3"]) {
      const e = engineFor(tiered(2048, 4096), { check: true }, { ...quiet, "kernel.numa_balancing": mode, "numa_balancing.scan_size_mb": "1" });
      const lines = [`0,mmap,1,${REGION},${3072 * 4096},`];
      for (let v = 0; v < 3072; v++) lines.push(`0,access,1,${at(v)},,0`); // a third spills to CXL
      let x = 12345;
      for (let t = 1; t < 4000; t += 2) {
        x = (x * 1103515245 + 12345) % 2147483648;
        lines.push(`${t},access,1,${at(x % 3072)},,0,${x % 3 ? "r" : "w"}`);
        if (t === 2001) lines.push(`${t},munmap,1,${at(1024)},${512 * 4096},`);
      }
      lines.push(`4000,exit,1,,,`);
      await feed(e, lines);
      e.finish();
      const v = e.mem.vmstat();
      expect(v[V.numa_hint_faults]).toBeGreaterThan(0);
      expect(e.mem.numab.protNoneCount()).toBe(0); // the exit freed every page
    }
  }, 120_000);
});

describe("kernel.numa_balancing=4 (6.1 accepts 0..4; bit 0x4 has no meaning)", () => {
  it("turns the scanner on with neither NORMAL nor TIERING: only lower-tier pages are hinted, and they move as in mode 1 (second fault)", async () => {
    const e = await tieredRun({ "numa_balancing.scan_size_mb": "1", "kernel.numa_balancing": "4" }, 64);
    e.mem.numab.keepLog = true;
    await feed(e, byTime(heartbeat(1, 3200), [`1505,access,1,${at(0)},,0`, `2600,access,1,${at(0)},,0`]));
    // 6.1: any non-zero value turns sched_numa_balancing on, so task_numa_work runs (passes at
    // 1011 and 2011: the heartbeat's first event is at 11); change_prot_numa skips top-tier
    // pages without the NORMAL bit and records no scan time without the TIERING bit: the pass
    // at 1011 hints the 64 CXL pages. The fault at 1505: should_numa_migrate_memory's
    // non-tiering path, a lower-tier page whose last cpupid is unset (fresh) -> no move, the
    // cpupid recorded; task_numa_fault skips lower-tier memory with no valid cpupid. The pass
    // at 2011 re-hints page 0 (1 more: 65). The fault at 2600: same pid, no preferred node ->
    // migrated to node 0, and migrate_misplaced_page counts the lower-to-top move as a
    // promotion whatever the mode; the tiering branch (candidates, rate limit) is never taken.
    expect(e.mem.numab.log).toEqual([[1011, 1, 0, 0], [2011, 1, 0, 0]]);
    expect(counters(e, PROMO)).toEqual({
      numa_pte_updates: 65, numa_hint_faults: 2, numa_hint_faults_local: 0, pgpromote_candidate: 0, pgpromote_success: 1, numa_pages_migrated: 1,
    });
    expect(nodeOfVpn(e, 0)).toBe(0);
  });

  it("on a machine without a lower tier, 4 hints nothing (every page is top tier and NORMAL is off)", async () => {
    const e = engineFor(twoNodes(), { check: true }, { ...quiet, "kernel.numa_balancing": "4" });
    const lines = [`0,mmap,1,${REGION},${64 * 4096},`];
    for (let v = 0; v < 64; v++) lines.push(`0,access,1,${at(v)},,1`);
    await feed(e, byTime(lines, heartbeat(0, 2500)));
    expect(counters(e, ["numa_pte_updates", "numa_hint_faults", "numa_pages_migrated"])).toEqual({ numa_pte_updates: 0, numa_hint_faults: 0, numa_pages_migrated: 0 });
  });
});
