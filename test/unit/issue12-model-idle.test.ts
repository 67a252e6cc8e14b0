/**
 * Issue 12, item 13: idle virtual time costs nothing. A daemon with nothing to do is skipped
 * over (an idle jump) and lands where ticking would have left it, so the counters are those
 * of ticking through; far-future and epoch-millisecond times replay.
 */
import { describe, expect, it } from "vitest";
import { V } from "../../src/stats/counters.js";
import { engineFor, runCsv, smallMachine } from "../helpers.js";

describe("idle time costs nothing (item 13)", () => {
  it("a 1e15 ms gap finishes with a handful of timer firings", async () => {
    const e = engineFor(smallMachine("16M"));
    await runCsv(e, "time_ms,op,pid,addr\n0,access,1,0x1000\n1000000000000000,access,1,0x2000\n");
    // ticking would fire kmmscand 6.25e13 times (every 16 ms), kmmmigrated 2.5e13 (40 ms),
    // kcompactd 2e12 (500 ms), kpromoted 1e12 (1000 ms); each quiet daemon is skipped at once
    expect(e.idleJumps).toBeGreaterThanOrEqual(1);
    expect(e.timerFirings).toBeLessThan(1000);
    expect(e.now()).toBe(1e15);
    expect(e.mem.ev[V.wsim_events]).toBe(2);
    expect(e.mem.procs.get(1)!.rssAnon).toBe(2);
  });

  it("an epoch-millisecond trace (times near 1.7e12) replays with few firings", async () => {
    const e = engineFor(smallMachine("16M"));
    const t0 = 1_732_960_000_000;
    const rows = ["time_ms,op,pid,addr"];
    for (let k = 0; k < 10; k++) rows.push(`${t0 + k * 60_000},access,1,0x${(0x1000 * (k + 1)).toString(16)}`);
    await runCsv(e, rows.join("\n") + "\n");
    expect(e.now()).toBe(t0 + 9 * 60_000);
    // one jump from 0 to the first event and one per 60 s gap at most, each leaving only the
    // ticks between the jump's landing and the event (under JUMP_MIN_MS = 10 s of them)
    expect(e.timerFirings).toBeLessThan(11 * (10_000 / 16 + 10_000 / 40 + 10_000 / 500 + 10_000 / 1000 + 10));
  });

  it("times around 1e15 stay exact: a timer lands on the integer ms ticking gives", async () => {
    const e = engineFor(smallMachine("16M"));
    await runCsv(e, "time_ms,op,pid,addr\n0,access,1,0x1000\n1000000000000003,access,1,0x2000\n");
    expect(e.now()).toBe(1000000000000003);
    expect(e.lastEventTime).toBe(1000000000000003);
  });

  // the same traces ticking through (idleJumps: false) and jumping: every counter equal
  const GAP = 200_000;
  const CASES: Record<string, { machine: ReturnType<typeof smallMachine>; sets: Record<string, string>; csv: string }> = {
    "defaults, one process": {
      machine: smallMachine("16M"),
      sets: {},
      csv: `time_ms,op,pid,addr\n0,access,1,0x1000\n${GAP},access,1,0x2000\n${2 * GAP + 7},access,1,0x3000\n`,
    },
    "kmmscand + kpromoted on a tiered machine, gaps between bursts": {
      machine: smallMachine("16M", 2, (i) => i),
      sets: { "kmmscand.enabled": "1", "kpromoted.enabled": "1", "hotness.hw_sample_period": "1", "numa.demotion_enabled": "1" },
      csv: ["time_ms,op,pid,addr,len,node,kind,thp", "0,mmap,1,0x40000000,1048576,1,anon,0",
        ...Array.from({ length: 40 }, (_, k) => `${(k % 4) * GAP + k},access,1,0x${(0x40000000 + (k % 20) * 4096).toString(16)},,0,,`),
        `${4 * GAP},access,1,0x40000000,,0,,`].sort((a, b) => parseFloat(a) - parseFloat(b) || 0).join("\n") + "\n",
    },
    "page reporting and proactive compaction after fragmentation": {
      machine: smallMachine("64M"),
      sets: { "page_reporting.enabled": "1", "page_reporting.order": "3" },
      csv: ["time_ms,op,id,order,mt",
        ...Array.from({ length: 200 }, (_, k) => `${k},alloc,h${k},2,${k % 2 ? "unmovable" : "movable"}`),
        ...Array.from({ length: 100 }, (_, k) => `${300 + k},free,h${2 * k},,`),
        `${GAP},alloc,x,9,movable`, `${2 * GAP},free,x,,`].join("\n") + "\n",
    },
  };

  it.each(Object.keys(CASES))("%s: the counters equal ticking through", async (name) => {
    const c = CASES[name]!;
    const tick = engineFor(c.machine, { idleJumps: false, drain: GAP }, c.sets);
    await runCsv(tick, c.csv);
    const jump = engineFor(c.machine, { drain: GAP }, c.sets);
    await runCsv(jump, c.csv);
    expect(jump.idleJumps).toBeGreaterThan(0);
    // kmmscand with a live mm scans every few seconds: only the ticks between scans go
    expect(jump.timerFirings).toBeLessThan(tick.timerFirings / 1.5);
    expect(jump.vmstatObject()).toEqual(tick.vmstatObject());
    expect(jump.readFile("buddyinfo")).toBe(tick.readFile("buddyinfo"));
    expect(jump.now()).toBe(tick.now());
  });
});
