import { describe, expect, it } from "vitest";
import { KERNEL_VMSTAT, KPROMOTED_COUNTERS, KMMSCAND_COUNTERS, WSIM_COUNTERS } from "../../../src/stats/counters.js";
import { engineFor, runCsv, smallMachine } from "../../helpers.js";

describe("Engine.vmstatObject", () => {
  it("prints /proc/vmstat's names in order with their values, and the seeds' counters once a seed is on (the order cached per feature set)", async () => {
    const e = engineFor(smallMachine());
    // 3 accesses to 3 pages of pid 1: 3 anon pages, 3 wsim_events
    await runCsv(e, "time_ms,op,pid,addr\n0,access,1,0x1000\n1,access,1,0x2000\n2,access,1,0x3000\n");
    const before = e.vmstatObject();
    // without a seed: the kernel's names in 6.1's order, then wsim's
    expect(Object.keys(before)).toEqual([...KERNEL_VMSTAT, ...Object.keys(WSIM_COUNTERS)]);
    expect(before.nr_anon_pages).toBe(3);
    expect(before.wsim_events).toBe(3);
    expect(before.nr_free_pages).toBe(e.mem.freePages());
    // kpromoted on: its 13 counters go in before nr_unstable (printNames), the values unchanged
    e.settings.set("kpromoted.enabled", "1");
    const after = e.vmstatObject();
    const keys = Object.keys(after);
    expect(keys.length).toBe(KERNEL_VMSTAT.length + KPROMOTED_COUNTERS.length + Object.keys(WSIM_COUNTERS).length);
    expect(keys.indexOf("kpromoted_recorded_accesses")).toBe(KERNEL_VMSTAT.indexOf("nr_unstable"));
    expect(keys.indexOf("nr_unstable")).toBe(KERNEL_VMSTAT.indexOf("nr_unstable") + KPROMOTED_COUNTERS.length);
    expect(keys.some((k) => (KMMSCAND_COUNTERS as readonly string[]).includes(k))).toBe(false);
    expect(after.nr_anon_pages).toBe(3);
    expect(after.kpromoted_mig_promoted).toBe(0);
  });
});
