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
export type SteadyFn = (period: number, due: number) => ((n: number, firstDue: number) => void) | SteadyAdvance | null;

/**
 * A steady state whose ticks are not evenly spaced (kagingd over reports with different
 * refresh intervals; kcompactd's deferred passes that take time): the daemon computes itself
 * which of its ticks fall by a time and what they do. Ticks fall at integer ms unless `exact`.
 */
export interface SteadyAdvance {
  /**
   * The daemon computes each tick's time with the same floating-point operations ticking
   * would (clock + delay, one tick after another), so its ticks may fall at any times and its
   * timer's period need not be a whole ms (a wait after a busy pass); without it, ticks fall
   * at integer ms.
   */
  readonly exact?: boolean;
  /**
   * The ticks due at or before `last` (ms, from the timer's due time on): how many, when the
   * next one is due (> last), when the last of them ran (the next timer's creation time), and
   * `apply`, which applies them in closed form, leaving the state byte for byte as ticking
   * would have. Null when it cannot say (the timer then blocks the jump).
   */
  advance(last: number): SteadyPlan | null;
}

export interface SteadyPlan {
  ticks: number;
  due: number;
  prev: number;
  apply(): void;
}

export interface Daemon {
  readonly name: string;
  start(ctx: EngineContext): void;
}
