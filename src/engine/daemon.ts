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
  schedule(delayMs: number, fn: () => void, quietUntil?: (period: number) => number): Timer;
  cancel(t: Timer): void;
}

export interface Daemon {
  readonly name: string;
  start(ctx: EngineContext): void;
}
