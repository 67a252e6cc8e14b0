/**
 * Daemons are timers and wake-ups on the virtual clock, never threads (SPEC §4.1). A daemon
 * gets an EngineContext at boot (t = 0, in the order SPEC §4.1 gives) and schedules itself.
 */
import type { Timer } from "./event-queue.js";

export interface EngineContext {
  /** virtual time in ms */
  now(): number;
  /** run fn at now + delayMs (delay >= 0); same-time timers fire in creation order */
  schedule(delayMs: number, fn: () => void): Timer;
  cancel(t: Timer): void;
}

export interface Daemon {
  readonly name: string;
  start(ctx: EngineContext): void;
}
