/**
 * Issue 12, items 11 and 12: every tunable written at run time leaves the model consistent
 * (the invariant checker after every event) and no daemon loops at one virtual time. The
 * tunables come from the table itself, so a tunable added later is swept too.
 */
import { describe, expect, it } from "vitest";
import { TUNABLES, type TunableSpec } from "../../src/machine/tunables.js";
import { Settings } from "../../src/machine/settings.js";
import { V } from "../../src/stats/counters.js";
import { engineFor, runCsv, smallMachine } from "../helpers.js";

const MACHINE = smallMachine("16M", 2, (i) => i); // node 1 is a lower tier

/** Legal values other than the default: the bounds and a middle value, every enum value. */
function legalValues(t: TunableSpec, def: string): string[] {
  let vals: string[];
  switch (t.type) {
    case "int":
      vals = [String(t.min), String(Math.floor((t.min! + Math.min(t.max!, 10_000)) / 2)), String(t.max)];
      break;
    case "enum":
      vals = [...t.values!];
      break;
    case "size":
      vals = [String(t.min), String(t.max)];
      break;
    case "node":
      vals = MACHINE.nodes.map((n) => String(n.id));
      break;
    case "intervals":
      vals = t.key.endsWith("refresh_interval") ? ["N0=500", "N1=0"] : ["N0=100,1000", "N1=50"];
      break;
    case "ints": // vm.lowmem_reserve_ratio: none, the largest reserve, and the default
      vals = ["0 0 0 0 0", "1 1 1 1 1", "256 256 32 0 0"];
      break;
    case "limit": // cgroup v2 memory.max etc. (in bytes as they read back), of the memcg /t
      vals = ["1048576", "max"];
      break;
  }
  return vals.filter((v) => v !== def);
}

/** mmaps (one THP region), accesses on both nodes, kallocs and frees of several orders, a compaction, reads. */
function activity(t0: number, tag: string): string[] {
  const rows: string[] = [];
  rows.push(`${t0},mmap,1,0x40000000,4194304,,,,1,,,,,,`);
  rows.push(`${t0},mmap,1,0x50000000,2097152,,1,,0,,,,,,`);
  for (let k = 0; k < 24; k++) {
    const t = t0 + k * 100;
    rows.push(`${t},access,1,${"0x" + (0x40000000 + ((k * 37) % 1024) * 4096).toString(16)},,w,0,,,,,,,,`);
    rows.push(`${t},access,1,${"0x" + (0x50000000 + ((k * 13) % 512) * 4096).toString(16)},,r,${k % 2},,,,,,,,`);
    rows.push(`${t},alloc,,,,,${k % 2},,,,${tag}${k},${k % 11},${k % 3 ? "movable" : "unmovable"},,`);
    if (k % 3 === 2) rows.push(`${t + 50},free,,,,,,,,,${tag}${k - 2},,,,`);
  }
  rows.push(`${t0 + 2400},compact,,,,,,,,,,,,,`);
  rows.push(`${t0 + 2400},read,,,,,,,,,,,,vmstat,`);
  rows.push(`${t0 + 2400},read,,,,,,,,,,,,buddyinfo,`);
  return rows;
}

/** the memcg a cgroup v2 limit file is written to (the root has none) */
const LIMIT_CG = "/t";
const isLimit = (key: string) => TUNABLES.find((t) => t.key === key)?.type === "limit";

function trace(key: string, value: string): string {
  const head = "time_ms,op,pid,addr,len,rw,node,kind,thp,cg,id,order,mt,key,value";
  const cg = isLimit(key) ? LIMIT_CG : "";
  const setRow = `3000,set,,,,,,,,${cg},,,,${key},"${value}"`;
  const readKey = isLimit(key) ? key : key.startsWith("memory.") ? "memory.workingset.page_age" : key;
  return [head, ...activity(0, "a"), setRow, `3000,read,,,,,,,,${cg},,,,${readKey},`, ...activity(3100, "b"), `9000,munmap,1,0x40000000,4194304,,,,,,,,,,`].join("\n") + "\n";
}

/** The base configurations the writes are made against: both reporting modes, both promoters on. */
const BASES: Record<string, Record<string, string>> = {
  reporting: { "page_reporting.enabled": "1", "page_reporting.order": "5", "kpromoted.enabled": "1", "kmmscand.enabled": "1", "hotness.hw_sample_period": "1", "numa.demotion_enabled": "1" },
  aeration: { "page_reporting.enabled": "1", "page_reporting.mode": "aeration", "page_reporting.order": "5", "page_reporting.report_ms": "30" },
};

describe("every tunable written mid-run keeps the model consistent (items 11, 12)", () => {
  const cases: [string, string, string][] = [];
  for (const base of Object.keys(BASES))
    for (const t of TUNABLES) {
      const s = new Settings(MACHINE);
      for (const [k, v] of Object.entries(BASES[base]!)) s.set(k, v);
      const def = t.scope === "memcg" ? "" : String(s.readText(t.key, "/"));
      for (const v of legalValues(t, def)) cases.push([base, t.key, v]);
    }

  it("sweeps every tunable of the table", () => {
    const keys = new Set(cases.map((c) => c[1]));
    expect([...keys].sort()).toEqual(TUNABLES.map((t) => t.key).sort());
  });

  it.each(cases)("%s: set %s=%s at 3000 ms, under the checker after every event", async (base, key, value) => {
    const e = engineFor(MACHINE, { check: true, lenient: true, drain: 2000 }, BASES[base]);
    await runCsv(e, trace(key, value));
    expect(e.mem.ev[V.wsim_events]).toBeGreaterThan(100);
    if (isLimit(key)) expect(e.settings.readText(key, LIMIT_CG)).toBe(`${value}\n`);
    else expect(e.settings.readText(key, "/")).toContain(key.startsWith("memory.") ? value.split("=")[1]!.split(",")[0]! : value);
  });
});

describe("page reporting: the issue's two traces (items 11, 12)", () => {
  it("switching to aeration mid-run ends, and the host was given every raw block of the order", async () => {
    const e = engineFor(smallMachine("256M"), { check: true }, { "page_reporting.enabled": "1" });
    await runCsv(e, "time_ms,op,key,value\n3000,set,page_reporting.mode,aeration\n4000,read,buddyinfo,\n");
    // 256 MiB = 64 order-10 blocks, all free: the 2 s reporting pass reports the 64 of them
    // (65536 pages); the switch requests an aeration pass 100 ms later, which finds no raw
    // block and ends: nothing is reported twice
    const z = e.mem.zones[0]!;
    expect(Array.from(z.reported)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 64]);
    expect(e.mem.reporting.passes).toEqual([2000, 3100]);
    expect(e.mem.ev[V.wsim_reported_pages]).toBe(64 * 1024);
    expect(e.reads).toHaveLength(1);
  });

  it("raising page_reporting.order leaves order-9 blocks reported, as 6.1's module parameter does", async () => {
    const e = engineFor(smallMachine("256M"), { check: true }, { "page_reporting.enabled": "1" });
    await runCsv(e, "time_ms,op,pid,addr,key,value\n0,access,1,0x1000,,\n3000,set,,,page_reporting.order,10\n");
    const z = e.mem.zones[0]!;
    // the first access split an order-10 block down to order 0, leaving one free block of
    // each order 0..9; the 2 s pass reported the order-9 one and the 63 order-10 blocks
    expect(Array.from(z.reported)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 63]);
    expect(e.mem.reporting.lowestOrderReported).toBe(9);
  });
});
