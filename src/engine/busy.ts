/**
 * A daemon's busy window on the virtual clock (issue 16 item 2, SPEC §4.1): wsim does a pass's
 * work at once, at its start, and the daemon is then busy for the pass's cost (its work at the
 * cost.* tunables, in virtual ns): it starts no new work before the end, and what would wake
 * it meanwhile is remembered as its wait queue's condition would be (the kernel's daemon is
 * not on the wait queue while it works, so a wake-up only sets the request it tests next).
 *
 * The pattern for a daemon (kcompactd, kpromoted, kmmscand, kmmmigrated, the reporting worker;
 * khugepaged's scan loop the same way): after a pass, `const ms = busy.charge(ctx.now(), ns)`
 * and schedule the next wait `ms` later than 6.1 would after a pass taking no time (the kernel
 * starts its wait or its sleep when the pass returns); a wake-up at `now` with
 * `busy.busyAt(now)` only records its request. A timer that covers the busy time must not
 * answer quiet for the busy part: ticks whose period includes the busy time are not the
 * daemon's idle period, so a `quietUntil` that tests `period === idlePeriod` already refuses
 * them, and an idle jump never crosses a busy window it cannot reproduce.
 */
export class BusyWindow {
  /** virtual ns busy so far, in total (its wsim_<daemon>_busy_ms counter, rounded down to ms) */
  ns = 0;
  /** virtual ms at which the last pass ends (-Infinity before the first) */
  until = -Infinity;

  /**
   * Charge a pass of `ns` virtual ns (>= 0) started at `now` (ms): adds to the total, sets the
   * window's end, and returns the pass's duration in ms (the delay from now to its end).
   */
  charge(now: number, ns: number): number {
    const ms = ns / 1e6;
    this.ns += ns;
    this.until = now + ms;
    return ms;
  }

  /** true while a pass started before `now` (ms) is still running */
  busyAt(now: number): boolean {
    return now < this.until;
  }

  /** the total in whole ms, rounded down (the wsim_<daemon>_busy_ms counters) */
  get ms(): number {
    return Math.floor(this.ns / 1e6);
  }
}

/** cost.compact_scan_ns and cost.migrate_ns, read when a pass ends (tunables may change). */
export interface ScanMigrateCosts {
  compactScan(): number;
  migrate(): number;
}

/**
 * What compaction work costs in virtual ns: pages looked at by either scanner ×
 * cost.compact_scan_ns + pages migrated × cost.migrate_ns (docs/costs.md), the same model as
 * direct compaction's stall (stall.ts).
 */
export function compactionWorkNs(scanned: number, migrated: number, scanNs: number, migrateNs: number): number {
  return scanned * scanNs + migrated * migrateNs;
}

/**
 * The ticks of a timer that reschedules itself `d` ms after each tick (d > 0, any double: a
 * wait after a busy pass), from its tick at `due` (>= 1) on, that fall at or before `last`:
 * how many, the time of the last of them (`prev`; due - d when none) and the next one's time,
 * each exactly as ticking computes it (fl(t + d), tick after tick). In closed form per binade:
 * inside [2^e, 2^(e+1)) every sum rounds by the same step (d rounded to a multiple of the
 * binade's ulp; a tie, d's bits ending exactly at half an ulp, is ticked), and the step that
 * crosses into the next binade is ticked; so a gap of any length takes at most a few steps
 * per binade.
 */
export function ticksThrough(due: number, d: number, last: number): { ticks: number; prev: number; due: number } {
  let ticks = 0;
  let at = due;
  let prev = due - d;
  while (at <= last) {
    let e = Math.floor(Math.log2(at));
    while (2 ** e > at) e--;
    while (2 ** (e + 1) <= at) e++;
    const u = 2 ** (e - 52);
    const top = 2 ** (e + 1);
    const q = d / u; // exact: a power of two
    const k = Math.floor(q);
    const r = q - k;
    let m = 0;
    let step = 0;
    if (r !== 0.5 && Number.isSafeInteger(k + 1) && !(at < 1)) {
      step = (r < 0.5 ? k : k + 1) * u;
      if (step > 0) {
        // m ticks at at, at + step, ..., each <= last, every next one still below top
        m = Math.max(0, Math.min(Math.floor((last - at) / step) + 1, Math.ceil((top - at) / step) - 1));
        while (m > 0 && (at + (m - 1) * step > last || at + m * step >= top)) m--;
      }
    }
    if (m === 0) {
      // tick one: the crossing into the next binade, a tie, or a step the binade cannot hold
      ticks++;
      prev = at;
      at = prev + d;
      continue;
    }
    ticks += m;
    prev = at + (m - 1) * step;
    at = at + m * step;
  }
  return { ticks, prev, due: at };
}
