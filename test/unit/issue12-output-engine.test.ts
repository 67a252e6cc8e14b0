/**
 * Issue 12, the engine side of the outputs: --interval's last sample is the state at the
 * run's end (item 2), and a `read` of vmstat prints wsim's own counters after the kernel's
 * (item 3, SPEC §5). Expectations are worked out by hand from the tiny traces below.
 */
import { describe, expect, it } from "vitest";
import { KERNEL_VMSTAT, WSIM_COUNTERS } from "../../src/stats/counters.js";
import { engineFor, runCsv, smallMachine } from "../helpers.js";

const HEAD = "time_ms,op,pid,addr,len,key\n";

describe("--interval: the last sample is the run's end (item 2)", () => {
  it("adds a sample at end_ms, marked end, when the end is not a multiple of the interval", async () => {
    const e = engineFor(smallMachine(), { interval: 10 });
    // events at 0 and 25: samples at 10 and 20, then the end at 25
    await runCsv(e, HEAD + "0,access,1,0x1000,,\n25,access,1,0x2000,,\n");
    expect(e.series.map((s) => s.time_ms)).toEqual([10, 20, 25]);
    expect(e.series.map((s) => s.end)).toEqual([undefined, undefined, true]);
    // the end sample sees both accesses (two page faults); the one at 20 only the first
    expect(e.series[1]!.vmstat.wsim_events).toBe(1);
    expect(e.series[2]!.vmstat.wsim_events).toBe(2);
  });

  it("adds nothing when the end is a multiple of the interval", async () => {
    const e = engineFor(smallMachine(), { interval: 10 });
    await runCsv(e, HEAD + "0,access,1,0x1000,,\n20,access,1,0x2000,,\n");
    expect(e.series.map((s) => [s.time_ms, s.end])).toEqual([
      [10, undefined],
      [20, undefined],
    ]);
  });

  it("counts --drain and --until in the end", async () => {
    const d = engineFor(smallMachine(), { interval: 10, drain: 7 });
    await runCsv(d, HEAD + "0,access,1,0x1000,,\n5,access,1,0x2000,,\n");
    // end = 5 + 7 = 12
    expect(d.series.map((s) => [s.time_ms, s.end])).toEqual([
      [10, undefined],
      [12, true],
    ]);
    const u = engineFor(smallMachine(), { interval: 10, until: 15 });
    await runCsv(u, HEAD + "0,access,1,0x1000,,\n30,access,1,0x2000,,\n");
    expect(u.series.map((s) => [s.time_ms, s.end, s.vmstat.wsim_events])).toEqual([
      [10, undefined, 1],
      [15, true, 1],
    ]);
  });

  it("a run with no events still ends with one sample at 0", async () => {
    const e = engineFor(smallMachine(), { interval: 10 });
    await runCsv(e, HEAD);
    expect(e.series.map((s) => [s.time_ms, s.end])).toEqual([[0, true]]);
  });
});

describe("a read of vmstat prints wsim's counters after the kernel's (item 3)", () => {
  it("every line, in order: the kernel's 6.1 names, then each wsim_ counter", async () => {
    const e = engineFor(smallMachine());
    await runCsv(e, HEAD + "0,access,1,0x1000,,\n1,access,1,0x2000,,\n2,read,,,,vmstat\n");
    expect(e.reads).toHaveLength(1);
    const lines = e.reads[0]!.value.trimEnd().split("\n");
    const names = lines.map((l) => l.split(" ")[0]);
    expect(names).toEqual([...KERNEL_VMSTAT, ...Object.keys(WSIM_COUNTERS)]);
    const val = (n: string) => Number(lines.find((l) => l.startsWith(n + " "))!.split(" ")[1]);
    // the read is the third event: it counts itself, as wsim_events counts before dispatch
    expect(val("wsim_events")).toBe(3);
    // one process, two first touches of anon pages
    expect(val("wsim_processes")).toBe(1);
    expect(val("pgfault")).toBe(2);
  });
});
