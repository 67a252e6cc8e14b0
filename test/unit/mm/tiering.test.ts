import { describe, expect, it } from "vitest";
import { hash64, SRC_HWHINT } from "../../../src/mm/kpromoted.js";
import { replay } from "../../../src/replay.js";
import { V } from "../../../src/stats/counters.js";
import { counters, engineFor, runCsv, tiered } from "../../helpers.js";

const quiet = { "transparent_hugepage.enabled": "never", "vm.compaction_proactiveness": "0" };

describe("hash_min", () => {
  it("matches the kernel's hash_64 with GOLDEN_RATIO_64 on known values", () => {
    // (val * 0x61C8864680B583EB mod 2^64) >> (64 - bits), worked out independently
    expect(hash64(1, 16)).toBe(25032);
    expect(hash64(2, 16)).toBe(50065);
    expect(hash64(0x12345, 16)).toBe(19374);
    expect(hash64(1000000, 20)).toBe(11796);
    expect(hash64(123456789, 8)).toBe(65);
  });
});

describe("kpromoted", () => {
  it("record_access and the walks, every counter: window resets, cold drops, failed promotions kept", async () => {
    const e = engineFor(tiered(), {}, { ...quiet, "kpromoted.enabled": "1", "hotness.hw_sample_period": "1" });
    // fill the DRAM node with kernel pages until it is just above its low mark (below high + 1):
    // promotions there fail (migrate_balanced_pgdat)
    const z0 = e.mem.zones[0]!;
    const fill = z0.freePages - z0.wmark[1]! - 4;
    const lines = ["time_ms,op,pid,addr,len,node,id"];
    for (let k = 0; k < fill; k++) lines.push(`0,alloc,,,,0,k${k}`);
    lines.push("0,mmap,1,0x100000,16384,1,"); // four pages preferring the CXL node
    const a = (i: number) => `,access,1,${0x100000 + i * 4096},,,`;
    lines.push(`100${a(0)}`, `101${a(0)}`, `102${a(1)}`); // a0 twice (freq 2), a1 once
    lines.push(`12000${a(2)}`, `12001${a(2)}`); // a2: freq 2 ...
    lines.push(`17500${a(2)}`); // ... 5500 ms later: a new window, freq 1 again
    for (let k = 0; k < fill; k++) lines.push(`17700,free,,,,,k${k}`); // DRAM has room again
    lines.push(`18100${a(3)}`, `18200${a(3)}`); // a3: freq 2
    lines.push(`19500${a(3)}`); // a3 was promoted at 19000: a top-tier access, no hint
    await runCsv(e, lines.join("\n"));
    expect(e.mem.kpromoted.recordOf(0)).toBeNull();
    // walks every 1000 ms on node 0 (the only node with CPUs, and the hints' node):
    //  a0: candidate, promotion fails, kept, at 1000 .. 10000 (10 times); at 11000 it is older
    //      than two windows (10900 > 10000): cold_old
    //  a1: freq 1 at 1000: cold_not_accessed
    //  a2: candidate (fails) at 13000 .. 17000 (5); freq reset at 17500: cold_not_accessed at 18000
    //  a3: candidate at 19000, promoted
    expect(counters(e, [
      "kpromoted_recorded_accesses", "kpromoted_recorded_hwhints", "kpromoted_recorded_pgtscans", "kpromoted_record_toptier",
      "kpromoted_record_added", "kpromoted_record_exists", "kpromoted_mig_right_node", "kpromoted_mig_non_lru",
      "kpromoted_mig_cold_old", "kpromoted_mig_cold_not_accessed", "kpromoted_mig_candidate", "kpromoted_mig_promoted",
      "kpromoted_mig_dropped", "pgpromote_candidate", "pgpromote_success", "numa_pages_migrated",
    ])).toEqual({
      kpromoted_recorded_accesses: 8, kpromoted_recorded_hwhints: 8, kpromoted_recorded_pgtscans: 0,
      kpromoted_record_toptier: 0, kpromoted_record_added: 4, kpromoted_record_exists: 4,
      kpromoted_mig_right_node: 0, kpromoted_mig_non_lru: 0, kpromoted_mig_cold_old: 1,
      kpromoted_mig_cold_not_accessed: 2, kpromoted_mig_candidate: 16, kpromoted_mig_promoted: 1,
      kpromoted_mig_dropped: 4, pgpromote_candidate: 16, pgpromote_success: 1, numa_pages_migrated: 1,
    });
    // a top-tier pfn is counted and ignored; a freed page's record is dropped as non-LRU
    const k = e.mem.kpromoted;
    k.recordAccess(10, 0, SRC_HWHINT, 19600);
    expect(e.mem.vmstat()[V.kpromoted_record_toptier]).toBe(1);
    const a1pfn = e.mem.zones[1]!.start + 1; // a1 still lives on the CXL node
    k.recordAccess(a1pfn, 0, SRC_HWHINT, 19600);
    await runCsv(e, "time_ms,op,pid,addr,len\n19700,munmap,1,0x101000,4096\n20500,exit,1,\n");
    expect(e.mem.vmstat()[V.kpromoted_mig_non_lru]).toBe(1);
  });
});

describe("kmmscand", () => {
  it("scans mms in order a second after they appear, splices onto the migration list, kmmmigrated every 40 ms, exits leave nothing", async () => {
    const e = engineFor(tiered(), {}, { ...quiet, "kmmscand.enabled": "1" });
    const k = e.mem.kmmscand;
    k.keepLog = true;
    const lines = ["time_ms,op,pid,addr,len,node"];
    for (const pid of [1, 2]) {
      lines.push(`0,mmap,${pid},0x200000,32768,1`);
      for (let i = 0; i < 8; i++) lines.push(`0,access,${pid},${0x200000 + i * 4096},,`);
    }
    lines.push("1020,exit,2,,,"); // after the scan at 1008, before kmmmigrated's cycle at 1040
    lines.push("1100,access,1,0x200000,,");
    await runCsv(e, lines.join("\n"));
    // rounds every scan_sleep_ms (16): the first at or after 1000 ms is 1008; pid 1 then pid 2
    expect(k.visits).toEqual([[1008, 1], [1008, 2]]);
    // kmmmigrated: msleep(20) + migrate_sleep_ms (20): cycles at 40, 80, ..., 1040, 1080
    expect(k.cycles.slice(0, 3)).toEqual([40, 80, 120]);
    expect(k.cycles).toContain(1040);
    expect(counters(e, ["nr_kmmscand_mm_scans", "nr_kmmscand_vma_scans", "nr_kmmscand_migadded", "nr_kmmscand_migrated",
      "nr_kmmscand_migrate_failed", "nr_kmmscand_slowtier", "nr_kmmscand_toptier", "pgpromote_success"])).toEqual({
      nr_kmmscand_mm_scans: 2, nr_kmmscand_vma_scans: 2, nr_kmmscand_migadded: 16, nr_kmmscand_migrated: 8,
      nr_kmmscand_migrate_failed: 0, nr_kmmscand_slowtier: 16, nr_kmmscand_toptier: 0, pgpromote_success: 8,
    });
    expect(k.migrationList).toEqual([]);
    // pid 1's pages are on DRAM now (target: no top-tier node seen, so kmmscand.target_node 0)
    expect(e.mem.zones[1]!.managed - e.mem.zones[1]!.freePages).toBe(0);
    // V1's adaptation: X = 0, Y = 8 (< 256 counts as 0): period + 15%, size / 2
    const st = k.stateOf(e.mem.procs.get(1)!.slot)!;
    expect(st.period).toBe(2300);
    expect(st.size).toBe(512 * 2 ** 20);
  });
});

describe("demotion and promotion through the shared migration path", () => {
  it("kswapd demotes cold DRAM pages to CXL, hints promote hot ones back; --check holds throughout", async () => {
    // faults spill to CXL without waking kswapd (the fast path falls back along the zonelist);
    // once both nodes are low the slow path wakes both kswapds: node 0's demotes to node 1
    const e = engineFor(tiered(2048, 2048), { check: true }, {
      ...quiet,
      "numa.demotion_enabled": "1",
      "kpromoted.enabled": "1",
      "hotness.hw_sample_period": "1",
    });
    const lines = ["time_ms,op,pid,addr"];
    for (let i = 0; i < 4400; i++) lines.push(`${i * 0.5},access,1,${i * 4096}`); // more than both hold
    // CXL pages again: 3000..3063, faulted onto CXL after DRAM filled and not among CXL's oldest
    // (its kswapd swaps those out first, a batch of 64 isolations at a time)
    for (let r = 0; r < 6; r++) for (let i = 0; i < 64; i++) lines.push(`${3000 + r * 300 + i},access,1,${(3000 + i) * 4096}`);
    await runCsv(e, lines.join("\n"));
    const v = counters(e, ["pgdemote_kswapd", "pgpromote_success", "pswpout", "pgmigrate_success"]);
    expect(v.pgdemote_kswapd).toBeGreaterThan(0);
    expect(v.pgpromote_success).toBeGreaterThan(0);
    expect(v.pgmigrate_success).toBe(v.pgdemote_kswapd! + v.pgpromote_success!);
  });
});

describe("the tiered demo (traces/tiered-hotset.csv.gz)", () => {
  it("runs deterministically and its three variants differ in promotions and latencies", async () => {
    const trace = new URL("../../../traces/tiered-hotset.csv.gz", import.meta.url).pathname;
    const hints = ["kpromoted.enabled=1", "hotness.hw_sample_period=8"];
    const scan = ["kmmscand.enabled=1"];
    const both = [...hints, "kmmscand.enabled=1", "kmmscand.feed=kpromoted"];
    const run = (set: string[]) => replay({ trace, machine: "tiered", set });
    const [h1, h2, s, b] = [await run(hints), await run(hints), await run(scan), await run(both)];
    expect(JSON.stringify(h2)).toBe(JSON.stringify(h1));
    const promoted = [h1, s, b].map((r) => r.vmstat.pgpromote_success);
    expect(new Set(promoted).size).toBe(3);
    expect(h1.vmstat.kpromoted_recorded_pgtscans).toBe(0);
    expect(b.vmstat.kpromoted_recorded_pgtscans).toBeGreaterThan(0);
    expect(s.vmstat.nr_kmmscand_migrated).toBeGreaterThan(0);
    expect(h1.vmstat.nr_kmmscand_migrated).toBeUndefined(); // not enabled: not printed
    const lat = (r: typeof h1) => JSON.stringify(r.promotion!.by);
    expect(lat(h1)).not.toBe(lat(b));
    expect(h1.promotion!.truly_hot).toBeGreaterThan(0);
  });
});
