/**
 * A daemon's busy window on the virtual clock (issue 16 item 2, SPEC §4.1): wsim does a pass's
 * work at once, at its start, and the daemon is then busy for the pass's cost (its work at the
 * cost.* tunables, in virtual ns): it starts no new work before the end, and what would wake
 * it meanwhile is remembered as its wait queue's condition would be (the kernel's daemon is
 * not on the wait queue while it works, so a wake-up only sets the request it tests next).
 *
 * The pattern for a daemon (kcompactd, kpromoted, kmmmigrated, the reporting worker;
 * khugepaged's scan loop the same way): after a pass, `busy.charge(ctx.now(), ns)` and
 * schedule the next sleep with `busy.waitDelay(ctx.now(), sleepMs)` (the kernel starts its
 * wait or its sleep when the pass returns, and counts it in jiffies); a wake-up at `now` with
 * `busy.busyAt(now)` only records its request, for the wait's entry test at `busy.until`. A
 * timer that covers busy time must not answer quiet for it: its period is then not the
 * daemon's idle period, so a `quietUntil` that tests `period === idlePeriod` already refuses
 * it, and an idle jump never crosses a busy window it cannot reproduce. For khugepaged:
 * `const ms = ...; busy.charge(now, pagesScanned * cost.compact_scan_ns + collapsed pages *
 * cost.migrate_ns + ...)`, then `ctx.schedule(busy.waitDelay(now, scan_sleep_millisecs), ...)`,
 * and its counter wsim_khugepaged_busy_ms = busy.ms in Memory.vmstat.
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

  /**
   * The delay from `now` to a timeout of `timeoutMs` whole ms that starts when the pass
   * charged last ends: schedule_timeout / msleep count whole jiffies (HZ=1000: ms) from the
   * jiffy the wait starts in, so the wait ends at floor(end) + timeoutMs, a tick, not end +
   * timeoutMs. A pass under 1 ms started at a whole ms thus delays nothing; its time still
   * counts as busy. (Before any pass: now + timeoutMs.)
   */
  waitDelay(now: number, timeoutMs: number): number {
    return this.until >= now ? Math.floor(this.until) + timeoutMs - now : timeoutMs;
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

/**
 * The longest pass (ns) that ends within the jiffy it started in at any integer start x below
 * JIFFY_SAFE_BELOW, so that the next tick is exactly a sleep later (floor(fl(x + ms)) = x):
 * there ulp(x) <= 2^-10, x + 1 - ulp is representable and rounding is monotone, so for
 * ms <= 0.999 < 1 - 2^-10, fl(x + ms) <= x + 1 - ulp < x + 1. Steady closed forms of daemons
 * whose passes cost time (khugepaged, kmmscand) refuse passes above it.
 */
export const JIFFY_SAFE_NS = 999_000;
/** 2^43 ms (about 278 years): the tick times JIFFY_SAFE_NS holds below */
export const JIFFY_SAFE_BELOW = 2 ** 43;

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
 * The ticks of a periodic pass that is busy `ms` each time and then waits `timeoutMs` whole
 * jiffies (each tick at x schedules the next at floor(fl(x + ms)) + timeoutMs, as
 * BusyWindow.charge and waitDelay compute it), from an integer `due` on, that fall at or before
 * `last`: how many, the last one's time (`prev`; due - (floor(ms) + timeoutMs) when none) and
 * the next one's, exactly as ticking computes them. Every tick is then an integer below 2^53;
 * inside a binade fl(x + ms) rounds ms the same way for every integer x (a multiple of the
 * binade's ulp), so the step is constant there; a tie (ms ending exactly at half an ulp) or
 * the step that crosses into the next binade is ticked. Null for a fractional `due`.
 */
export function jiffyTicksThrough(due: number, ms: number, timeoutMs: number, last: number): { ticks: number; prev: number; due: number } | null {
  if (!Number.isInteger(due) || !Number.isInteger(timeoutMs)) return null;
  const next = (x: number) => Math.floor(x + ms) + timeoutMs;
  let ticks = 0;
  let at = due;
  let prev = due - (Math.floor(ms) + timeoutMs);
  while (at <= last) {
    if (at >= 2 ** 53) return null;
    let e = Math.max(0, Math.floor(Math.log2(Math.max(at, 1))));
    while (e > 0 && 2 ** e > at) e--;
    while (2 ** (e + 1) <= at) e++;
    const u = 2 ** (e - 52);
    const top = 2 ** (e + 1);
    const half = (ms / u) * 2;
    const step = next(at) - at;
    let m = 0;
    if (!(Number.isInteger(half) && half % 2 !== 0) && step > 0) {
      m = Math.max(0, Math.min(Math.floor((last - at) / step) + 1, Math.ceil((top - at) / step) - 1));
      while (m > 0 && (at + (m - 1) * step > last || at + m * step >= top)) m--;
    }
    if (m === 0) {
      ticks++;
      prev = at;
      at = next(prev);
      continue;
    }
    ticks += m;
    prev = at + (m - 1) * step;
    at = at + m * step;
  }
  return { ticks, prev, due: at };
}
