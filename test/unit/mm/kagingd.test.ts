import { describe, expect, it } from "vitest";
import { engineFor, runCsv, smallMachine } from "../../helpers.js";

/** Records (time, memcg) each time a report is re-aggregated. */
function watch(e: ReturnType<typeof engineFor>) {
  const log: [number, string][] = [];
  const orig = e.mem.refreshReport.bind(e.mem);
  e.mem.refreshReport = (id: number, nid: number) => {
    const did = orig(id, nid);
    if (did) log.push([e.now(), e.mem.memcgs.all[id]!.path]);
    return did;
  };
  return log;
}

describe("kagingd", () => {
  it("refreshes each configured memcg on its own refresh_interval and wakes when one is shortened", async () => {
    const e = engineFor(smallMachine("16M"));
    e.mem.kagingd.keepLog = true;
    const log = watch(e);
    await runCsv(e, [
      "time_ms,op,pid,addr,cg,key,value",
      "0,access,1,0x1000,/a,,",
      "0,access,2,0x1000,/b,,",
      '0,set,,,/a,memory.workingset.page_age_intervals,"N0=1000,4000"',
      "0,set,,,/a,memory.workingset.refresh_interval,N0=3000",
      '0,set,,,/b,memory.workingset.page_age_intervals,"N0=1000,4000"',
      "0,set,,,/b,memory.workingset.refresh_interval,N0=5000",
      "7000,set,,,/b,memory.workingset.refresh_interval,N0=1000", // shorter: wakes kagingd now
      "12000,access,1,0x2000,,,",
    ].join("\n"));
    // passes: boot (nothing configured yet: it waits), the two refresh_interval writes at 0,
    // then each earliest timestamp + refresh_interval, the wake-up at 7000, then every 1000 for /b
    expect(e.mem.kagingd.log).toEqual([0, 0, 0, 3000, 5000, 6000, 7000, 8000, 9000, 10000, 11000, 12000]);
    expect(log.filter((l) => l[1] === "/a").map((l) => l[0])).toEqual([0, 3000, 6000, 9000, 12000]);
    expect(log.filter((l) => l[1] === "/b").map((l) => l[0])).toEqual([0, 5000, 7000, 8000, 9000, 10000, 11000, 12000]);
    expect(e.mem.kagingd.wakeups).toBe(12);
    expect(e.mem.kagingd.refreshes).toBe(13);
  });

  it("waits when nothing is configured, and writing intervals while refresh_interval is set wakes it", async () => {
    const e = engineFor(smallMachine("16M"));
    e.mem.kagingd.keepLog = true;
    await runCsv(e, [
      "time_ms,op,cg,key,value",
      "0,set,/a,memory.workingset.refresh_interval,N0=2000", // no intervals yet: not configured
      "5000,set,/a,memory.workingset.page_age_intervals,N0=1000", // now configured: wake
      "9000,set,/a,memory.workingset.refresh_interval,N0=0", // off: the pass already due at 11000 finds nothing
      "20000,read,/a,memory.workingset.page_age,",
    ].join("\n"));
    // boot; woken by the first write (nothing configured: wait); woken at 5000; every 2000 until
    // the write of 0 (the 9000 pass runs first: a timer due at an event's time fires before it);
    // 11000 finds nothing configured and waits for good
    expect(e.mem.kagingd.log).toEqual([0, 0, 5000, 7000, 9000, 11000]);
  });

  it("a longer refresh_interval does not wake it", async () => {
    const e = engineFor(smallMachine("16M"));
    e.mem.kagingd.keepLog = true;
    await runCsv(e, [
      "time_ms,op,cg,key,value",
      "0,set,/a,memory.workingset.page_age_intervals,N0=1000",
      "0,set,/a,memory.workingset.refresh_interval,N0=2000",
      "500,set,/a,memory.workingset.refresh_interval,N0=4000",
      "5000,set,/a,memory.workingset.refresh_interval,N0=4000",
    ].join("\n"));
    // passes at 0 (boot), 0 (woken), 2000 (due before the longer value was seen: the report,
    // made at 0, is now valid until 4000), then 4000; the writes at 500 and 5000 wake nothing
    expect(e.mem.kagingd.log).toEqual([0, 0, 2000, 4000]);
    expect(e.now()).toBe(5000);
  });
});
