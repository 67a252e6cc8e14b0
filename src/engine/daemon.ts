/**
 * Daemons are timers and wake-ups on the virtual clock, never threads (SPEC §4.1). A daemon
 * gets an EngineContext at boot (t = 0, in the order SPEC §4.1 gives) and schedules itself.
 */
import type { Timer } from "./event-queue.js";

export interface EngineContext {
  /** virtual time in ms */
  now(): number;
  /**
   * Run fn at now + delayMs (delay >= 0); same-time timers fire in creation order. A periodic
   * tick that reschedules itself every delayMs passes `quietUntil`: the virtual time before
   * which its ticks change nothing given the state now (Infinity: until something else
   * changes it; -Infinity: it may act at its next tick, or `period`, the delay this timer was
   * scheduled with, is not the one it would schedule next). While every pending timer is quiet
   * the engine skips their ticks (an idle jump), so idle virtual time costs nothing; the
   * ticks land where ticking would have put them, in the same order.
   */
  schedule(delayMs: number, fn: () => void, quietUntil?: (period: number) => number, steady?: SteadyFn): Timer;
  cancel(t: Timer): void;
}

/**
 * A periodic tick at a steady state: asked with the timer's period and its next due time, it
 * answers null unless its
 * ticks from the timer's due time on, every `period` ms, change only the daemon's own state in
 * a way it can compute in closed form (counters that add the same amount per tick or per cycle
 * of ticks, timestamps that move with the clock) and nothing any other timer's tick or
 * quietness depends on, as long as no event or other daemon changes what it reads. The answer
 * applies `n` such ticks at once (the ticks at firstDue, firstDue + period, ...,
 * firstDue + (n - 1) * period), leaving the state byte for byte as ticking would have; the
 * engine then moves the timer n periods on (an idle jump treats it as quiet forever).
 */
export type SteadyFn = (period: number, due: number) => ((n: number, firstDue: number) => void) | SteadyCycle | null;

/**
 * A steady state whose ticks are not evenly spaced but repeat as a whole: from the timer's due
 * time on, `ticks` ticks (the first at due) fill `cycle` ms, after which the daemon's state is
 * its state at due moved on by `cycle` ms (its timestamps) and by the cycle's counts. `apply`
 * applies n whole cycles at once from firstDue (the timer's due), leaving the state byte for
 * byte as ticking would have; the engine then moves the timer n cycles on, to the last cycle
 * start at or before the time it jumps to, and ticks the rest (less than a cycle). Integer ms
 * only: the engine refuses a cycle from a fractional due.
 */
export interface SteadyCycle {
  /** ms, an integer >= 1 */
  readonly cycle: number;
  /** ticks in one cycle */
  readonly ticks: number;
  apply(n: number, firstDue: number): void;
}

export interface Daemon {
  readonly name: string;
  start(ctx: EngineContext): void;
}
