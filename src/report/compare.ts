/**
 * `wsim compare`: wsim's counters beside a real kernel's, for the same trace. Kernel counters
 * are changes since the helper's first snapshot; so are wsim's gauges here (a wsim machine
 * starts with every page free and nothing else counted).
 */
import Table from "cli-table3";
import type { RunResult } from "../engine/result.js";
import type { KernelResult } from "../kernel/kernel.js";
import { formatBuddyinfo } from "../procfs/procfs.js";
import { MODELLED_KERNEL_COUNTERS } from "../stats/counters.js";

export interface CompareRow {
  counter: string;
  wsim: number | null;
  kernel: number;
  difference: number | null;
  modelled: boolean;
}

/** wsim's counters as changes from the start of its run (only nr_free_pages starts non-zero). */
export function simDelta(sim: RunResult): Record<string, number> {
  const out: Record<string, number> = { ...sim.vmstat };
  const managed = sim.nodes.reduce((s, n) => s + n.zones.reduce((t, z) => t + z.managed, 0), 0);
  if (out.nr_free_pages !== undefined) out.nr_free_pages -= managed;
  return out;
}

/** Rows for every kernel counter that moved on either side, in /proc/vmstat's order. */
export function compareRows(sim: RunResult, kern: KernelResult, all = false): CompareRow[] {
  const s = simDelta(sim);
  const rows: CompareRow[] = [];
  for (const [counter, k] of Object.entries(kern.vmstat)) {
    const modelled = MODELLED_KERNEL_COUNTERS.has(counter);
    const w = modelled ? (s[counter] ?? 0) : null;
    if (!all && k === 0 && !w) continue;
    rows.push({ counter, wsim: w, kernel: k, difference: w === null ? null : k - w, modelled });
  }
  return rows;
}

export function renderCompare(sim: RunResult, kern: KernelResult, opts: { all?: boolean } = {}): string {
  const rows = compareRows(sim, kern, opts.all);
  const t = new Table({
    head: ["counter", "wsim", "kernel", "kernel − wsim"],
    style: { head: [], border: [] },
    colAligns: ["left", "right", "right", "right"],
  });
  for (const r of rows)
    t.push([r.counter, r.wsim === null ? "not modelled" : String(r.wsim), String(r.kernel), r.difference === null ? "" : String(r.difference)]);
  const out: string[] = [];
  out.push(`trace ${kern.trace.path}: ${kern.trace.events} events; guest ${kern.machine.nodes.map((n) => `node ${n.id} ${n.mem} pages free at start`).join(", ")}`);
  out.push(`counters: changes during the replay (kernel: /proc/vmstat after − before the first event)`);
  out.push(t.toString());
  out.push("", "buddyinfo, wsim:");
  out.push(
    formatBuddyinfo(sim.nodes.flatMap((n) => n.zones.map((z) => ({ nid: n.id, name: z.name, nrFree: z.buddyinfo })))).trimEnd(),
  );
  out.push("", "buddyinfo, kernel:", kern.kernel.final.buddyinfo.trimEnd());
  const un = Object.entries(kern.kernel.unsupported);
  if (un.length) {
    out.push("", "not replayed on the kernel (or only approximately):");
    for (const [what, n] of un) out.push(`  ${n}\t${what}`);
  }
  if (kern.kernel.skipped_ms > 0) out.push("", `time gaps longer than --max-gap: ${kern.kernel.skipped_ms} ms of trace time not slept`);
  if (kern.kernel.errors.length) {
    out.push("", "guest helper errors:");
    for (const e of kern.kernel.errors.slice(0, 20)) out.push(`  script line ${e}`);
  }
  return out.join("\n") + "\n";
}
