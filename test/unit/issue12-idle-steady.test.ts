/**
 * Issue 12, item 13 (the kinds left after the first idle jump): a daemon at a steady state,
 * whose ticks only add the same counts and move its own timestamps, is fast-forwarded in
 * closed form. Each scenario runs ticking through (idleJumps: false) and jumping over a gap of
 * millions of ms: the whole JSON result (vmstat, buddyinfo, workingset, reads) is byte for
 * byte the same; and a 1e15 ms gap finishes with a bounded number of timer firings.
 */
import { describe, expect, it } from "vitest";
import type { Engine, EngineOptions } from "../../src/engine/engine.js";
import { buildResult } from "../../src/engine/result.js";
import type { Machine } from "../../src/machine/machine.js";
import { V } from "../../src/stats/counters.js";
import { engineFor, runCsv, smallMachine } from "../helpers.js";

interface Scenario {
  machine: Machine;
  sets: Record<string, string>;
  /** rows before the gap (times < 1000), as CSV lines of HEADER */
  before: string[];
  /** rows after the gap, `${T}` standing for the gap's end */
  after: string[];
}

const HEADER = "time_ms,op,pid,addr,len,rw,node,kind,thp,cg,key,value,id,order,mt";

/** a row padded with empty fields to HEADER's 15 columns (commas inside quotes not counted) */
function pad(row: string): string {
  const fields = row.replace(/"[^"]*"/g, "").split(",").length;
  return row + ",".repeat(15 - fields);
}

function csvOf(s: Scenario, gap: number): string {
  const before = [...s.before].sort((a, b) => parseFloat(a) - parseFloat(b)); // stable: same-time rows keep their order
  return [HEADER, ...before, ...s.after.map((r) => r.replaceAll("${T}", String(gap)))].map((r, i) => (i ? pad(r) : r)).join("\n") + "\n";
}

/** Fragmented memory: pages 0..3599 handed out one by one (unmovable), every other freed. */
const fragment = (at: number) => [
  ...Array.from({ length: 3600 }, (_, k) => `${at},alloc,,,,,,,,,,,k${k},0,unmovable`),
  ...Array.from({ length: 1800 }, (_, k) => `${at + 1},free,,,,,,,,,,,k${2 * k},,`),
];

async function run(s: Scenario, gap: number, opts: EngineOptions): Promise<{ e: Engine; json: string }> {
  const e = engineFor(s.machine, opts, s.sets);
  const csv = csvOf(s, gap);
  await runCsv(e, csv);
  const events = csv.trim().split("\n").length - 1;
  const json = JSON.stringify(buildResult(e, { path: "t.csv", format: "csv", events, firstMs: 0, lastMs: e.lastEventTime }));
  return { e, json };
}

/** 20 pages of pid 1's 1 MiB anon region on node, accessed at t = 0..19 (from node 0's CPU) */
const touch = (node: number, cg = "") => [
  `0,mmap,1,0x40000000,1048576,,${node},anon,0,${cg},,`,
  ...Array.from({ length: 20 }, (_, k) => `${k},access,1,0x${(0x40000000 + k * 4096).toString(16)},,w,0,,,,,`),
];

const SCENARIOS: Record<string, Scenario> = {
  // (b) the scanner visits a live process whose pages nobody touches any more
  "kmmscand scanning an idle process (one tier)": {
    machine: smallMachine("16M"),
    sets: { "kmmscand.enabled": "1" },
    before: touch(0),
    after: ["${T},access,1,0x40001000,,r,0,,,,,", "${T},read,,,,,,,,,vmstat,"],
  },
  "kmmscand scanning an idle process on a lower tier, after promoting some of it": {
    machine: smallMachine("16M", 2, (i) => i),
    sets: { "kmmscand.enabled": "1", "kmmscand.scan_sleep_ms": "7" },
    before: touch(1),
    after: ["${T},access,1,0x40002000,,r,0,,,,,", "${T},read,,,,,,,,,vmstat,"],
  },
  // (b') more idle mms than a round visits: six processes, two a round. They are all due at
  // once at first (t = 1000), take turns for three rounds, and are then visited each when due
  "kmmscand scanning six idle processes, two a round (mms_to_scan)": {
    machine: smallMachine("16M"),
    sets: { "kmmscand.enabled": "1", "kmmscand.mms_to_scan": "2" },
    before: [1, 2, 3, 4, 5, 6].flatMap((pid) => touch(0).map((r) => r.replace(/^(\d+),(mmap|access),1,/, `$1,$2,${pid},`))),
    after: ["${T},access,1,0x40001000,,r,0,,,,,", "${T},read,,,,,,,,,vmstat,"],
  },
  // (b'') a region larger than scan_size (256 MiB): visits walk 256 MiB of it and the small
  // region in turn, the cursor coming back every few visits, each visit with its own counts
  "kmmscand walking a region larger than scan_size in a cycle of visits": {
    machine: { name: "t", nodes: [{ id: 0, mem: 4096, tier: 0, cpus: true }, { id: 1, mem: 8192, tier: 1, cpus: false }], tunables: {} },
    sets: { "kmmscand.enabled": "1", "transparent_hugepage.enabled": "never" },
    before: [
      "0,mmap,1,0x40000000,268435456,,1,anon,0,,,",
      "0,mmap,1,0x80000000,65536,,1,anon,0,,,",
      ...Array.from({ length: 128 }, (_, k) => `1,access,1,0x${(0x40000000 + k * 2 * 2 ** 20).toString(16)},,w,,,,,,`),
      "1,access,1,0x80000000,,w,,,,,,",
    ],
    after: ["${T},access,1,0x80001000,,r,0,,,,,", "${T},read,,,,,,,,,vmstat,"],
  },
  // (a) kagingd refreshing a report whose lruvecs saturate: nothing accessed after t = 19
  "kagingd with a refresh_interval over an idle memcg": {
    machine: smallMachine("16M"),
    sets: {},
    before: [
      `0,set,,,,,,,,/a,memory.workingset.page_age_intervals,"N0=1000,3000,600000"`,
      "0,set,,,,,,,,/a,memory.workingset.reaccess_intervals,N0=2000",
      "0,set,,,,,,,,/a,memory.workingset.refresh_interval,N0=510",
      ...touch(0, "/a"),
      "0,mmap,2,0x50000000,65536,,,file,0,/a/b,,",
      ...Array.from({ length: 16 }, (_, k) => `${k + 30},access,2,0x${(0x50000000 + k * 4096).toString(16)},,r,,,,,,`),
      "700,read,,,,,,,,/a,memory.workingset.page_age,",
    ],
    after: ["${T},read,,,,,,,,/a,memory.workingset.page_age,", "${T},read,,,,,,,,/a/b,memory.workingset.page_age,",
      "${T},access,1,0x40001000,,r,0,,,,,", "${T},read,,,,,,,,,vmstat,"],
  },
  "kagingd over nested reports (/ at 700 ms, /a/b at 700 ms) and max_nr_gens 6": {
    machine: smallMachine("16M"),
    sets: { "lru_gen.max_nr_gens": "6" },
    before: [
      `0,set,,,,,,,,/,memory.workingset.page_age_intervals,"N0=500,2000,9000"`,
      "0,set,,,,,,,,/,memory.workingset.refresh_interval,N0=700",
      `0,set,,,,,,,,/a/b,memory.workingset.page_age_intervals,"N0=100,100000"`,
      "0,set,,,,,,,,/a/b,memory.workingset.refresh_interval,N0=700",
      "0,mmap,2,0x50000000,65536,,,file,0,/a/b,,",
      ...Array.from({ length: 16 }, (_, k) => `${k + 30},access,2,0x${(0x50000000 + k * 4096).toString(16)},,w,,,,,,`),
      ...touch(0).slice(1),
    ],
    after: ["${T},read,,,,,,,,/,memory.workingset.page_age,", "${T},read,,,,,,,,/a/b,memory.workingset.page_age,"],
  },
  // (a') reports with different refresh intervals: kagingd sleeps 2000, 1000, 1000, 2000 ms
  // (the earliest timestamp + refresh_interval), a cycle of passes rather than a period
  "kagingd over two memcgs refreshed every 2000 and 3000 ms": {
    machine: smallMachine("16M"),
    sets: {},
    before: [
      `0,set,,,,,,,,/a,memory.workingset.page_age_intervals,"N0=1000,5000,60000"`,
      "0,set,,,,,,,,/a,memory.workingset.refresh_interval,N0=2000",
      `0,set,,,,,,,,/b,memory.workingset.page_age_intervals,"N0=1000,7000"`,
      "0,set,,,,,,,,/b,memory.workingset.reaccess_intervals,N0=2000",
      "0,set,,,,,,,,/b,memory.workingset.refresh_interval,N0=3000",
      ...touch(0, "/a"),
      "0,mmap,2,0x50000000,65536,,,file,0,/b,,",
      ...Array.from({ length: 16 }, (_, k) => `${k + 30},access,2,0x${(0x50000000 + k * 4096).toString(16)},,r,,,,,,`),
      "900,read,,,,,,,,/b,memory.workingset.page_age,",
    ],
    after: ["${T},read,,,,,,,,/a,memory.workingset.page_age,", "${T},read,,,,,,,,/b,memory.workingset.page_age,",
      "${T},read,,,,,,,,/b,memory.workingset.reaccess,", "${T},access,2,0x50001000,,r,,,,,,", "${T},read,,,,,,,,,vmstat,"],
  },
  "kagingd over one memcg's two nodes (700 ms on node 0, 1100 ms on node 1) and a nested report": {
    machine: smallMachine("16M", 2),
    sets: { "lru_gen.max_nr_gens": "5" },
    before: [
      `0,set,,,,,,,,/a,memory.workingset.page_age_intervals,"N0=500,2000"`,
      `0,set,,,,,,,,/a,memory.workingset.page_age_intervals,"N1=300,9000"`,
      "0,set,,,,,,,,/a,memory.workingset.refresh_interval,N0=700",
      "0,set,,,,,,,,/a,memory.workingset.refresh_interval,N1=1100",
      `0,set,,,,,,,,/a/b,memory.workingset.page_age_intervals,N1=100`,
      "0,set,,,,,,,,/a/b,memory.workingset.refresh_interval,N1=900",
      ...touch(0, "/a"),
      ...touch(1, "/a/b").map((r) => r.replace(/^(\d+),(mmap|access),1,0x4/, "$1,$2,3,0x4")),
    ],
    after: ["${T},read,,,,,,,,/a,memory.workingset.page_age,", "${T},read,,,,,,,,/a/b,memory.workingset.page_age,"],
  },
  // (a'') components whose joint cycle is longer than any gap: a parent and its child at 1300
  // and 777 ms (sharing the child's lruvec: one component) and a sibling at 2900 ms; each
  // component's passes repeat, kagingd's wake-ups are their union (as a new user's trace had it)
  "kagingd over a parent and child at 1300 and 777 ms and a sibling at 2900 ms": {
    machine: smallMachine("16M"),
    sets: {},
    before: [
      `0,set,,,,,,,,/x,memory.workingset.page_age_intervals,"N0=1000,4000,20000"`,
      "0,set,,,,,,,,/x,memory.workingset.refresh_interval,N0=1300",
      `0,set,,,,,,,,/x/z,memory.workingset.page_age_intervals,"N0=100,900"`,
      "0,set,,,,,,,,/x/z,memory.workingset.refresh_interval,N0=777",
      `0,set,,,,,,,,/y,memory.workingset.page_age_intervals,"N0=1500,6000"`,
      "0,set,,,,,,,,/y,memory.workingset.reaccess_intervals,N0=200",
      "0,set,,,,,,,,/y,memory.workingset.refresh_interval,N0=2900",
      ...touch(0, "/x"),
      "0,mmap,2,0x50000000,65536,,,file,0,/x/z,,",
      "0,mmap,3,0x60000000,65536,,,anon,0,/y,,",
      ...Array.from({ length: 16 }, (_, k) => `${k + 30},access,2,0x${(0x50000000 + k * 4096).toString(16)},,r,,,,,,`),
      ...Array.from({ length: 16 }, (_, k) => `${k + 60},access,3,0x${(0x60000000 + k * 4096).toString(16)},,w,,,,,,`),
    ],
    after: ["${T},read,,,,,,,,/x,memory.workingset.page_age,", "${T},read,,,,,,,,/x/z,memory.workingset.page_age,",
      "${T},read,,,,,,,,/y,memory.workingset.page_age,", "${T},access,3,0x60001000,,r,,,,,,", "${T},read,,,,,,,,,vmstat,"],
  },
  // (a3) two coupled components with long cycles (thousands of passes each): the root and /x
  // on node 0 at 2900 and 777 ms, /x and /x/z on node 1 at 1299 and 1301 (the second new-user
  // session: counting their wake-ups pass by pass made jumping slower than ticking)
  "kagingd over nested reports on two nodes at 2900/777 and 1299/1301 ms": {
    machine: smallMachine("16M", 2),
    sets: {},
    before: [
      `0,set,,,,,,,,/x,memory.workingset.page_age_intervals,"N0=777,2331"`,
      "0,set,,,,,,,,/x,memory.workingset.refresh_interval,N0=777",
      `0,set,,,,,,,,/x,memory.workingset.page_age_intervals,"N1=1299,3897"`,
      "0,set,,,,,,,,/x,memory.workingset.refresh_interval,N1=1299",
      `0,set,,,,,,,,/x/z,memory.workingset.page_age_intervals,"N1=1301,3903"`,
      "0,set,,,,,,,,/x/z,memory.workingset.refresh_interval,N1=1301",
      `0,set,,,,,,,,/,memory.workingset.page_age_intervals,"N0=2900,8700"`,
      "0,set,,,,,,,,/,memory.workingset.refresh_interval,N0=2900",
      ...touch(0, "/x"),
      ...touch(1, "/x/z").map((r) => r.replace(/^(\d+),(mmap|access),1,0x4/, "$1,$2,3,0x4")),
    ],
    after: ["${T},read,,,,,,,,/x,memory.workingset.page_age,", "${T},read,,,,,,,,/x/z,memory.workingset.page_age,", "${T},read,,,,,,,,/,memory.workingset.page_age,"],
  },
  // (c) proactive compaction that cannot lower the score: nothing movable, pass after pass
  "proactive compaction deferred pass after pass over fragmented unmovable memory": {
    machine: smallMachine("16M"),
    sets: {},
    before: [...fragment(100), "900,read,,,,,,,,,buddyinfo,"],
    after: ["${T},read,,,,,,,,,buddyinfo,", "${T},read,,,,,,,,,vmstat,"],
  },
};

describe("steady daemons are fast-forwarded exactly (item 13)", () => {
  const GAP = 3_000_017;
  it.each(Object.keys(SCENARIOS))("%s: jumping gives ticking's JSON byte for byte", async (name) => {
    const s = SCENARIOS[name]!;
    const tick = await run(s, GAP, { idleJumps: false, drain: 100_003 });
    const jump = await run(s, GAP, { drain: 100_003 });
    expect(jump.e.steadyTicksSkipped).toBeGreaterThan(0);
    expect(jump.e.timerFirings).toBeLessThan(tick.e.timerFirings / 20);
    expect(jump.json).toBe(tick.json);
    // the scanner's own state too (next scan, pages seen per node), and the lruvecs'
    const slot = tick.e.mem.procs.get(1)?.slot ?? -1;
    expect(jump.e.mem.kmmscand.stateOf(slot)).toEqual(tick.e.mem.kmmscand.stateOf(slot));
    expect(jump.e.mem.lru.lruvecs).toEqual(tick.e.mem.lru.lruvecs);
    expect(jump.e.mem.lru.slot).toEqual(tick.e.mem.lru.slot);
    expect(jump.e.now()).toBe(GAP + 100_003);
  });

  it("kmmscand's visits of an idle mm count as ticking's do: one every ceil(5000 / 16) rounds", async () => {
    const s = SCENARIOS["kmmscand scanning an idle process (one tier)"]!;
    const a = await run(s, 1_000_000, {});
    const b = await run(s, 2_000_000, {});
    // 1e6 ms more at the steady state: visits every 313 rounds of 16 ms = 5008 ms, each
    // counting the 20 resident pages idle and its one region
    const visits = b.e.mem.ev[V.nr_kmmscand_mm_scans]! - a.e.mem.ev[V.nr_kmmscand_mm_scans]!;
    expect([Math.floor(1e6 / 5008), Math.ceil(1e6 / 5008)]).toContain(visits);
    expect(b.e.mem.ev[V.nr_kmmscand_idlepage]! - a.e.mem.ev[V.nr_kmmscand_idlepage]!).toBe(20 * visits);
    expect(b.e.mem.ev[V.nr_kmmscand_vma_scans]! - a.e.mem.ev[V.nr_kmmscand_vma_scans]!).toBe(visits);
  });

  it.each(Object.keys(SCENARIOS))("%s: a 1e15 ms gap takes a bounded number of timer firings", async (name) => {
    const s = SCENARIOS[name]!;
    const { e } = await run(s, 1e15, {});
    expect(e.now()).toBe(1e15);
    expect(e.timerFirings).toBeLessThan(20_000);
  });
});
