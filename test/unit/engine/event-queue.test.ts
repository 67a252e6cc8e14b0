import { describe, expect, it } from "vitest";
import { TimerQueue } from "../../../src/engine/event-queue.js";
import { Rng } from "../../../src/engine/rng.js";

describe("timer queue", () => {
  it("pops by due time, ties in creation order", () => {
    const q = new TimerQueue();
    const log: string[] = [];
    for (const [due, name] of [[5, "a"], [1, "b"], [5, "c"], [0, "d"], [1, "e"], [5, "f"]] as const)
      q.push(due, () => log.push(name));
    while (q.size) q.pop()?.fn();
    expect(log).toEqual(["d", "b", "e", "a", "c", "f"]);
  });

  it("skips cancelled timers", () => {
    const q = new TimerQueue();
    const a = q.push(1, () => {});
    q.push(2, () => {});
    a.cancelled = true;
    expect(q.peekDue()).toBe(2);
    expect(q.pop()!.due).toBe(2);
    expect(q.pop()).toBeUndefined();
  });

  it("stays ordered under many random pushes", () => {
    const q = new TimerQueue();
    const r = new Rng(7);
    for (let i = 0; i < 5000; i++) q.push(r.int(100), () => {});
    let last = -1;
    let lastSeq = -1;
    while (q.size) {
      const t = q.pop()!;
      expect(t.due > last || (t.due === last && t.seq > lastSeq)).toBe(true);
      last = t.due;
      lastSeq = t.seq;
    }
  });
});

describe("seeded PRNG", () => {
  it("is deterministic per seed and differs across seeds", () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xa = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(xa);
    expect(Array.from({ length: 8 }, () => c.nextU32())).not.toEqual(xa);
    for (let i = 0; i < 1000; i++) {
      const v = a.next();
      expect(v >= 0 && v < 1).toBe(true);
    }
  });
});
