/**
 * Property tests for the allocator: random alloc/free sequences of mixed orders and
 * migratetypes (and user faults) replayed with the invariant checker after every event;
 * freeing everything must give back exactly the starting buddyinfo.
 */
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/engine/rng.js";
import { V } from "../../src/stats/counters.js";
import { MT_NAMES } from "../../src/trace/types.js";
import { engineFor, runCsv, smallMachine } from "../helpers.js";

function randomTrace(seed: number, n: number, withFaults: boolean): string {
  const r = new Rng(seed);
  const live: string[] = [];
  const lines = ["time_ms,op,id,order,mt,pid,addr"];
  let next = 0;
  for (let i = 0; i < n; i++) {
    const t = i;
    const x = r.next();
    if (withFaults && x < 0.2) {
      lines.push(`${t},access,,,,${1 + r.int(3)},${r.int(2048) * 4096}`);
    } else if (withFaults && x < 0.22) {
      lines.push(`${t},exit,,,,${1 + r.int(3)},`);
    } else if (live.length && (x > 0.6 || live.length > 300)) {
      const k = r.int(live.length);
      lines.push(`${t},free,${live[k]},,,,`);
      live[k] = live[live.length - 1]!;
      live.pop();
    } else {
      // small orders are common, big ones rare, as in a kernel
      const o = r.next() < 0.7 ? r.int(2) : r.int(11);
      const id = `h${next++}`;
      live.push(id);
      lines.push(`${t},alloc,${id},${o},${MT_NAMES[r.int(3)]},,`);
    }
  }
  let t = n;
  for (const id of live) lines.push(`${t++},free,${id},,,,`);
  if (withFaults) for (const pid of [1, 2, 3]) lines.push(`${t++},exit,,,,${pid},`);
  return lines.join("\n") + "\n";
}

describe("allocator invariants under random alloc/free (--check after every event)", () => {
  it("100,000 events of mixed orders and migratetypes on one node", async () => {
    const e = engineFor(smallMachine("16M"), { check: true, lenient: true });
    const start = Array.from(e.mem.zones[0]!.nrFree);
    await runCsv(e, randomTrace(1, 100_000, false));
    const v = e.mem.vmstat();
    expect(v[V.wsim_events]).toBeGreaterThan(100_000);
    expect(v[V.wsim_alloc_fail]).toBeGreaterThan(0); // memory did run out at times
    expect(v[V.pgalloc_normal]).toBeGreaterThan(0);
    // every page back: the buddyinfo we started with
    expect(Array.from(e.mem.zones[0]!.nrFree)).toEqual(start);
    expect(e.mem.freePages()).toBe(4096);
  });

  for (const seed of [2, 3, 4]) {
    it(`faults, exits and kernel allocations on two nodes (seed ${seed})`, async () => {
      const e = engineFor(smallMachine("4M", 2), { check: true, lenient: true });
      const start = e.mem.zones.map((z) => Array.from(z.nrFree));
      await runCsv(e, randomTrace(seed, 10_000, true));
      expect(e.mem.zones.map((z) => Array.from(z.nrFree))).toEqual(start);
      // pageblocks were stolen along the way, so the history was not trivial
      expect(e.mem.vmstat()[V.numa_miss]).toBeGreaterThan(0);
    });
  }
});
