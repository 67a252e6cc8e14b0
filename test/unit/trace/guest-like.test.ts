/**
 * Running a trace as `wsim compare`'s guest runs it (src/trace/guest-like.ts, replay()'s paceMs
 * and rootMemcg, compare's guestPaceMs): the expectations are worked out by hand from the rows.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { guestPaceMs } from "../../../src/cli/commands/kernel.js";
import type { KernelResult } from "../../../src/kernel/kernel.js";
import { replay } from "../../../src/replay.js";
import { readCsv } from "../../../src/trace/csv.js";
import { paceBatch, rootMemcgBatch } from "../../../src/trace/guest-like.js";
import type { EventBatch } from "../../../src/trace/types.js";
import { chunksOf, collect, smallMachine } from "../../helpers.js";

const HEAD = "time_ms,op,pid,addr,len,rw,cg,key,value\n";

async function* transformed(csv: string, f: (b: EventBatch) => void): AsyncGenerator<EventBatch> {
  for await (const b of readCsv(chunksOf(csv), "t.csv")) {
    f(b);
    yield b;
  }
}

describe("paceBatch", () => {
  it("moves event k of the trace k × ms later, counting from the batch's first index", async () => {
    const csv = HEAD + "0,access,1,0x1000,,,,,\n0,access,1,0x2000,,,,,\n5,access,1,0x3000,,,,,\n10,access,1,0x4000,,,,,\n";
    const rows = await collect(transformed(csv, (b) => paceBatch(b, 2, 0.5)));
    // (2 + k) × 0.5 added: 1, 1.5, 2, 2.5
    expect(rows.map((r) => r.time)).toEqual([1, 1.5, 7, 12.5]);
    // nothing else moves
    expect(rows.map((r) => r.line)).toEqual([2, 3, 4, 5]);
  });
});

describe("rootMemcgBatch", () => {
  const csv =
    HEAD +
    [
      "0,mmap,1,0x10000000,65536,,/a,,", // line 2: cg dropped
      "1,set,,,,,/a,memory.max,1M", // 3: removed (a memcg file of /a)
      "2,set,,,,,/,memory.workingset.refresh_interval,N0=100", // 4: kept (the root's)
      "3,access,1,0x10000000,,w,,,", // 5: no cg
      "4,read,,,,,/b,memory.stat,", // 6: removed
      "5,read,,,,,/a,vmstat,", // 7: kept with its cg (not a memcg file: the engine decides)
      "6,exit,1,,,,/a,,", // 8: cg dropped
    ].join("\n") +
    "\n";

  it("drops cg from other events, removes memcg-file set/read of non-root memcgs, keeps the rest in order", async () => {
    const counts: ReturnType<typeof rootMemcgBatch>[] = [];
    const rows = await collect(transformed(csv, (b) => counts.push(rootMemcgBatch(b, 3.5))));
    expect(rows.map((r) => r.line)).toEqual([2, 4, 5, 7, 8]);
    expect(rows.map((r) => r.cg)).toEqual([null, "/", null, "/a", null]);
    expect(rows.map((r) => r.key)).toEqual([null, "memory.workingset.refresh_interval", null, "vmstat", null]);
    expect(rows.map((r) => r.time)).toEqual([0, 2, 3, 5, 6]);
    // two cgs dropped (mmap, exit); two removed, one of them (t = 1) at or before until 3.5
    expect(counts).toEqual([{ cgDropped: 2, removed: 2, removedUntil: 1 }]);
  });
});

describe("guestPaceMs", () => {
  const run = (guest_ms: number | null, slept_ms: number, events: number) => ({ kernel: { guest_ms, slept_ms }, trace: { events } }) as unknown as KernelResult;

  it("is the median over the runs of (guest_ms - slept_ms) / events", () => {
    // 0.3, 0.1, 0.2 ms an event: median 0.2
    expect(guestPaceMs([run(400, 100, 1000), run(200, 100, 1000), run(300, 100, 1000)])).toBeCloseTo(0.2, 12);
    // an even count: the middle two's mean, (0.1 + 0.3) / 2
    expect(guestPaceMs([run(400, 100, 1000), run(200, 100, 1000)])).toBeCloseTo(0.2, 12);
  });

  it("leaves out runs that did not time their replay, and is null without any", () => {
    expect(guestPaceMs([run(null, 100, 1000), run(600, 100, 1000)])).toBeCloseTo(0.5, 12);
    expect(guestPaceMs([run(null, 0, 1000)])).toBeNull();
    expect(guestPaceMs([run(500, 0, 0)])).toBeNull();
  });
});

describe("replay() with paceMs and rootMemcg", () => {
  const dir = mkdtempSync(join(tmpdir(), "wsim-guestlike-"));
  const trace = join(dir, "t.csv");
  writeFileSync(
    trace,
    HEAD +
      [
        "0,mmap,1,0x10000000,65536,,/a,,",
        "0,set,,,,,/a,memory.max,1M",
        "10,access,1,0x10000000,,w,,,",
        "20,read,,,,,,vmstat,",
        "30,exit,1,,,,/a,,",
      ].join("\n") +
      "\n",
  );

  it("runs event k at its time + k × paceMs; the trace's times and row count stay in trace", async () => {
    const r = await replay({ trace, machine: smallMachine("32M"), paceMs: 2, rootMemcg: true, onNote: () => {} });
    // the read is row 3: 20 + 3 × 2
    expect(r.reads.map((x) => x.time_ms)).toEqual([26]);
    // the exit is row 4: the run ends at 30 + 4 × 2
    expect(r.end_ms).toBe(38);
    expect(r.trace).toMatchObject({ events: 5, first_ms: 0, last_ms: 30 });
    expect(r.guest_like).toEqual({ pace_ms_per_event: 2, root_memcg: true, cg_dropped: 2, memcg_events_removed: 1 });
    // every page in the root memcg, and /a's memory.max never set: no memcg table
    expect(r.memcgs).toBeUndefined();
  });

  it("without them: no guest_like, the trace's times, its memcgs", async () => {
    const r = await replay({ trace, machine: smallMachine("32M"), onNote: () => {} });
    expect(r.guest_like).toBeUndefined();
    expect(r.reads.map((x) => x.time_ms)).toEqual([20]);
    expect(r.end_ms).toBe(30);
    // /a, with its memory.max, holds pid 1's page
    expect(r.memcgs?.["/a"]).toMatchObject({ max: 1048576 });
  });

  it("--until counts the removed events it reaches among the trace's events", async () => {
    const r = await replay({ trace, machine: smallMachine("32M"), paceMs: 2, rootMemcg: true, until: 15, onNote: () => {} });
    // rows 0 (t 0), 1 (removed, t 2), 2 (t 14) are at or before 15; row 3 is at 26
    expect(r.trace.events).toBe(3);
  });
});
