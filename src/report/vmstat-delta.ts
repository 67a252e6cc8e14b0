/**
 * Two /proc/vmstat snapshots of one kernel as the change between them (`wsim diff --delta
 * BEFORE AFTER`, issue 18 item 3). /proc/vmstat (mm/vmstat.c vmstat_text) prints the zone and
 * node stat items, the NUMA counters, the dirty thresholds and then the vm events: the events
 * and NUMA counters only grow from boot, so AFTER − BEFORE is what happened between the
 * snapshots; the `nr_*` items (but nr_dirtied, nr_written and the pin counts, which count
 * since boot) are gauges, current values, whose difference is a change, not a count: they are
 * marked as such. Pure functions; the command is src/cli/commands/diff.ts.
 */
import Table from "cli-table3";
import { DataError, quoteInput } from "../errors.js";
import { plural } from "./words.js";

/** the `nr_*` items of /proc/vmstat that count from boot (NR_DIRTIED, NR_WRITTEN, NR_FOLL_PIN_*), not gauges */
const CUMULATIVE_NR = new Set(["nr_dirtied", "nr_written", "nr_foll_pin_acquired", "nr_foll_pin_released"]);

/** wsim's own gauges (src/stats/counters.ts, "(gauge)") */
const WSIM_GAUGES = new Set(["wsim_kernel_pages", "wsim_swap_entries", "wsim_nr_reported_pages"]);

/** True for a current value (a gauge): `nr_*` but the four that count from boot, and wsim's gauges. */
export function isGauge(name: string): boolean {
  return (name.startsWith("nr_") && !CUMULATIVE_NR.has(name)) || WSIM_GAUGES.has(name);
}

/** A snapshot's counters and, where known, the line each is on (0: not known, as in JSON). */
export interface Snapshot {
  file: string;
  counters: Record<string, number>;
  lineOf: (name: string) => number;
}

export interface DeltaRow {
  counter: string;
  before: number;
  after: number;
  /** after − before */
  delta: number;
  /** a current value: its delta is a change, not a count */
  gauge: boolean;
}

/**
 * AFTER − BEFORE per counter, in AFTER's order. Throws DataError (exit 3) at its
 * `file:line` when a counter is in one snapshot only (two snapshots of one kernel name the
 * same counters), or when a counter that only grows (not a gauge) went down (the snapshots
 * are of two boots, or given in the wrong order).
 */
export function vmstatDelta(before: Snapshot, after: Snapshot): DeltaRow[] {
  const rows: DeltaRow[] = [];
  for (const [k, a] of Object.entries(after.counters)) {
    const b = before.counters[k];
    if (b === undefined)
      throw new DataError(after.file, after.lineOf(k), `counter ${quoteInput(k)} is not in ${before.file}: two snapshots of one kernel name the same counters`);
    const gauge = isGauge(k);
    if (!gauge && a < b)
      throw new DataError(after.file, after.lineOf(k), `counter ${quoteInput(k)} went down from ${b} (${before.file}) to ${a}: it only grows, so these are not BEFORE and AFTER of one boot`);
    rows.push({ counter: k, before: b, after: a, delta: a - b, gauge });
  }
  for (const k of Object.keys(before.counters))
    if (!(k in after.counters))
      throw new DataError(before.file, before.lineOf(k), `counter ${quoteInput(k)} is not in ${after.file}: two snapshots of one kernel name the same counters`);
  return rows;
}

/** The deltas as counters (name -> after − before), for comparing with a replay. */
export function deltaCounters(rows: readonly DeltaRow[]): Record<string, number> {
  return Object.fromEntries(rows.map((r) => [r.counter, r.delta]));
}

/**
 * The table `wsim diff --delta BEFORE AFTER` prints: a row per counter that moved (before,
 * after, delta, `gauge` for a current value), then how many counters there were and moved.
 */
export function renderDeltaTable(rows: readonly DeltaRow[], labels: [string, string]): string {
  const moved = rows.filter((r) => r.delta !== 0);
  const summary = `${plural(rows.length, "counter")}, ${moved.length} moved` + (moved.some((r) => r.gauge) ? "; a gauge's delta is the change of a current value, not a count" : "") + "\n";
  if (!moved.length) return summary;
  const t = new Table({
    head: ["counter", labels[0], labels[1], "delta", ""],
    style: { head: [], border: [], compact: true },
    colAligns: ["left", "right", "right", "right", "left"],
  });
  for (const r of moved) t.push([r.counter, String(r.before), String(r.after), (r.delta > 0 ? "+" : "") + r.delta, r.gauge ? "gauge" : ""]);
  return t.toString() + "\n" + summary;
}
