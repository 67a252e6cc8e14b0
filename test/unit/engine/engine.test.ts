import { describe, expect, it } from "vitest";
import type { Daemon, EngineContext } from "../../../src/engine/daemon.js";
import { engineFor, runCsv, smallMachine } from "../../helpers.js";

/** A daemon that logs its periodic wake-ups, first due one period after boot. */
function ticker(name: string, period: number, log: [number, string][]): Daemon {
  return {
    name,
    start(ctx: EngineContext) {
      const tick = () => {
        log.push([ctx.now(), name]);
        ctx.schedule(period, tick);
      };
      ctx.schedule(period, tick);
    },
  };
}

describe("engine: virtual time", () => {
  const csv = "time_ms,op,pid,addr\n0,access,1,0x1000\n250,access,1,0x2000\n1000,access,1,0x3000\n2500,access,1,0x4000\n";

  it("fires timers due at or before an event's time before the event, in (due, creation) order", async () => {
    const log: [number, string][] = [];
    const e = engineFor(smallMachine(), { daemons: [ticker("a", 500, log), ticker("b", 1000, log)] });
    await runCsv(e, csv);
    expect(log).toEqual([
      // at 1000, b's timer (made at boot) precedes a's (made at 500): creation order
      [500, "a"], [1000, "b"], [1000, "a"], [1500, "a"], [2000, "b"], [2000, "a"], [2500, "a"],
    ]);
    expect(e.now()).toBe(2500);
  });

  it("--drain lets daemons run past the last event", async () => {
    const log: [number, string][] = [];
    const e = engineFor(smallMachine(), { drain: 1000, daemons: [ticker("a", 500, log)] });
    await runCsv(e, csv);
    expect(log.map((l) => l[0])).toEqual([500, 1000, 1500, 2000, 2500, 3000, 3500]);
    expect(e.now()).toBe(3500);
  });

  it("--until stops at T and ignores later events", async () => {
    const log: [number, string][] = [];
    const e = engineFor(smallMachine(), { until: 1200, daemons: [ticker("a", 500, log)] });
    await runCsv(e, csv);
    expect(log.map((l) => l[0])).toEqual([500, 1000]);
    expect(e.now()).toBe(1200);
    expect(e.mem.procs.nrAnon).toBe(3); // the event at 2500 was not applied
  });

  it("a trace starting late starts idle: timers before its first event still fire", async () => {
    const log: [number, string][] = [];
    const e = engineFor(smallMachine(), { daemons: [ticker("a", 300, log)] });
    await runCsv(e, "time_ms,op,pid,addr\n1000,access,1,0x1000\n");
    expect(log.map((l) => l[0])).toEqual([300, 600, 900]);
  });
});
