/**
 * Issue 16 item 2: busy daemons and idle jumps. Each scenario keeps a daemon busy (costs
 * raised so that passes last whole ms, so their timeouts move) before a long gap; jumping over
 * the gap gives ticking's JSON byte for byte (the busy counters included), and the busy counter
 * moved. Determinism: two runs give the same bytes.
 */
import { describe, expect, it } from "vitest";
import type { EngineOptions } from "../../src/engine/engine.js";
import { buildResult } from "../../src/engine/result.js";
import type { Machine } from "../../src/machine/machine.js";
import { V } from "../../src/stats/counters.js";
import { engineFor, runCsv, smallMachine } from "../helpers.js";

const HEADER = "time_ms,op,pid,addr,len,rw,node,kind,thp,cg,key,value,id,order,mt";
const pad = (row: string) => row + ",".repeat(15 - row.replace(/"[^"]*"/g, "").split(",").length);

interface Scenario {
  machine: Machine;
  sets: Record<string, string>;
  rows: string[];
  counter: number;
}

/** pages 0..3599 handed out one by one (unmovable), every other freed: fragmented */
const fragment = (at: number) => [
  ...Array.from({ length: 3600 }, (_, k) => `${at},alloc,,,,,,,,,,,k${k},0,unmovable`),
  ...Array.from({ length: 1800 }, (_, k) => `${at + 1},free,,,,,,,,,,,k${2 * k},,`),
];
/** pid 1's 1 MiB on `node`, its 64 pages touched at t = 0..63 */
const touch = (node: number) => [
  `0,mmap,1,0x40000000,1048576,,${node},anon,0,,,`,
  ...Array.from({ length: 64 }, (_, k) => `${k},access,1,0x${(0x40000000 + k * 4096).toString(16)},,w,0,,,,,`),
];

const GAP = 3_000_017;
const tail = [`${GAP},read,,,,,,,,,vmstat,`];

const SCENARIOS: Record<string, Scenario> = {
  "kcompactd: proactive passes of whole ms, deferred pass after pass": {
    machine: smallMachine("16M"),
    sets: { "cost.compact_scan_ns": "100000" },
    rows: [...fragment(100), ...tail],
    counter: V.wsim_kcompactd_busy_ms,
  },
  "kpromoted: walks promoting hinted pages from the lower tier": {
    machine: smallMachine("16M", 2, (i) => i),
    sets: { "kpromoted.enabled": "1", "hotness.hw_sample_period": "1", "cost.migrate_ns": "3000000" },
    rows: [...touch(1), ...touch(1).slice(1).map((r) => r.replace(/^(\d+)/, (m) => String(Number(m) + 100))), ...tail],
    counter: V.wsim_kpromoted_busy_ms,
  },
  "kmmmigrated: cycles migrating what kmmscand found": {
    machine: smallMachine("16M", 2, (i) => i),
    sets: { "kmmscand.enabled": "1", "cost.migrate_ns": "3000000" },
    rows: [...touch(1), ...Array.from({ length: 64 }, (_, k) => `${1500 + k},access,1,0x${(0x40000000 + k * 4096).toString(16)},,r,0,,,,,`), ...tail],
    counter: V.wsim_kmmmigrated_busy_ms,
  },
  "the reporting worker: passes over freed THP-sized blocks": {
    machine: smallMachine("16M"),
    sets: { "page_reporting.enabled": "1", "page_reporting.capacity": "2", "cost.compact_scan_ns": "1000000" },
    rows: [...touch(0), "3000,munmap,1,0x40000000,1048576,,,,,,,", ...tail],
    counter: V.wsim_page_reporting_busy_ms,
  },
};

async function run(s: Scenario, opts: EngineOptions): Promise<{ json: string; busy: number; firings: number; steady: number }> {
  const e = engineFor(s.machine, opts, s.sets);
  const rows = [...s.rows].sort((a, b) => parseFloat(a) - parseFloat(b));
  const csv = [HEADER, ...rows.map(pad)].join("\n") + "\n";
  await runCsv(e, csv);
  const json = JSON.stringify(buildResult(e, { path: "t.csv", format: "csv", events: rows.length, firstMs: 0, lastMs: e.lastEventTime }));
  return { json, busy: e.mem.vmstat()[s.counter]!, firings: e.timerFirings, steady: e.steadyTicksSkipped };
}

describe("busy daemons across idle jumps (issue 16 item 2)", () => {
  it.each(Object.keys(SCENARIOS))("%s: jumping gives ticking's bytes, the busy counter moved, deterministic", async (name) => {
    const s = SCENARIOS[name]!;
    const tick = await run(s, { idleJumps: false, drain: 100_003 });
    const jump = await run(s, { drain: 100_003 });
    const again = await run(s, { drain: 100_003 });
    expect(tick.busy).toBeGreaterThan(0);
    expect(jump.json).toBe(tick.json);
    expect(again.json).toBe(jump.json);
    expect(jump.firings).toBeLessThan(tick.firings / 20); // the gap was jumped, not ticked
    // kcompactd's deferred passes of 0 .. 1 ms or more each are fast-forwarded (jiffyTicksThrough)
    if (s.counter === V.wsim_kcompactd_busy_ms) expect(jump.steady).toBeGreaterThan(0);
  });
});
