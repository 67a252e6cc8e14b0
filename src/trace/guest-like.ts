/**
 * Rewrites of a batch that make a replay run the trace as `wsim compare`'s guest runs it
 * (src/kernel/script.ts, guest.c): its helper is one process in the root memcg, replaying the
 * events one after another, so (1) nothing is charged to the trace's memcgs and (2) every event
 * runs later than its trace time by the helper's time on the events before it.
 */
import { OP_READ, OP_SET, type EventBatch } from "./types.js";

/**
 * The guest's pace: event k of the trace (from 0) runs at its trace time + k × `msPerEvent`,
 * rounded to the nanosecond (1e-6 ms: no binary-fraction noise such as 339.07399999999996 in
 * the times a run prints). `first` is the index in the trace of the batch's first row. The
 * times stay in order (the trace's are, and the shift grows with k). Mutates b.time.
 */
export function paceBatch(b: EventBatch, first: number, msPerEvent: number): void {
  const time = b.time;
  for (let k = 0; k < b.n; k++) time[k] = Math.round((time[k]! + (first + k) * msPerEvent) * 1e6) / 1e6;
}

/** What rootMemcgBatch did to one batch. */
export interface RootMemcgCounts {
  /** events whose `cg` was dropped (they run in the root memcg) */
  cgDropped: number;
  /** `set` and `read` events of a memcg file (memory.*) of a memcg other than the root, removed */
  removed: number;
  /** of those removed, the ones at or before `until` */
  removedUntil: number;
}

/**
 * Every event in the root memcg, as the guest's helper runs them: the `cg` of an event other
 * than `set`/`read` is dropped; a `set` or `read` of a memcg file (a key starting `memory.`)
 * naming a memcg other than the root is removed from the batch (the guest has no such file:
 * its script skips them, src/kernel/script.ts); other `set`/`read` events are left for the
 * engine to check. Mutates b (rows after a removed one move down; b.n shrinks). `until` is
 * the replay's --until (Infinity: none), for counting the removed events it would have reached.
 */
export function rootMemcgBatch(b: EventBatch, until = Infinity): RootMemcgCounts {
  const out: RootMemcgCounts = { cgDropped: 0, removed: 0, removedUntil: 0 };
  const { cg, op, key, strs } = b;
  let j = 0;
  for (let k = 0; k < b.n; k++) {
    const c = cg[k]!;
    if (c >= 0) {
      if (op[k] === OP_SET || op[k] === OP_READ) {
        if (strs[c] !== "/" && key[k]! >= 0 && strs[key[k]!]!.startsWith("memory.")) {
          out.removed++;
          if (b.time[k]! <= until) out.removedUntil++;
          continue;
        }
      } else {
        cg[k] = -1;
        out.cgDropped++;
      }
    }
    if (j !== k) b.copyRow(b, k, j);
    j++;
  }
  b.n = j;
  return out;
}
