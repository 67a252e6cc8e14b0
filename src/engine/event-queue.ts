/**
 * The timer queue: a binary heap keyed (due time, creation sequence), SimPy's tuple, so
 * timers due at the same time fire in the order they were created. Determinism lives in
 * this key.
 */
import type { SteadyFn } from "./daemon.js";

export interface Timer {
  /** virtual ms; moved only by TimerQueue.reorder (an idle jump) */
  due: number;
  seq: number;
  readonly fn: () => void;
  cancelled: boolean;
  /**
   * A periodic daemon's tick: the delay it was scheduled with, which is also its period
   * while it stays quiet (0 for one-shot timers).
   */
  readonly period: number;
  /**
   * For a periodic tick: the virtual time before which this tick and the ones after it (every
   * `period` ms) change nothing, as long as nothing else does; -Infinity when it may act now.
   * Undefined for timers that cannot say (they block idle jumps).
   */
  readonly quietUntil?: (period: number) => number;
  /** For a periodic tick: its fast-forward at a steady state (see SteadyFn); undefined if none. */
  readonly steady?: SteadyFn;
}

export class TimerQueue {
  private heap: Timer[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(due: number, fn: () => void, period = 0, quietUntil?: (period: number) => number, steady?: SteadyFn): Timer {
    const t: Timer = { due, seq: this.seq++, fn, cancelled: false, period, quietUntil, steady };
    this.insert(t);
    return t;
  }

  /** The timers not cancelled, in no particular order. */
  live(): Timer[] {
    return this.heap.filter((t) => !t.cancelled);
  }

  /**
   * Replaces the queue by `timers` (their `due` possibly moved), given new sequence numbers in
   * the order of the array, which must be the order in which they were created.
   */
  reorder(timers: Timer[]): void {
    this.heap = [];
    for (const t of timers) {
      t.seq = this.seq++;
      this.insert(t);
    }
  }

  private insert(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(t, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = t;
  }

  /** due time of the earliest live timer, or Infinity */
  peekDue(): number {
    this.dropCancelled();
    return this.heap.length ? this.heap[0]!.due : Infinity;
  }

  pop(): Timer | undefined {
    this.dropCancelled();
    return this.popRaw();
  }

  private dropCancelled(): void {
    while (this.heap.length && this.heap[0]!.cancelled) this.popRaw();
  }

  private popRaw(): Timer | undefined {
    const h = this.heap;
    if (!h.length) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && less(h[r]!, h[l]!) ? r : l;
        if (!less(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

function less(a: Timer, b: Timer): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}
