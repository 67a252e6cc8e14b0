/**
 * `wsim compare`: wsim's counters beside a real kernel's, for the same trace. Kernel counters
 * are changes since the helper's first snapshot; so are wsim's gauges here (a wsim machine
 * starts with every page free and nothing else counted).
 */
import Table from "cli-table3";
import type { RunResult } from "../engine/result.js";
import { parseBuddyinfo, parsePageblockCountsByZone } from "../kernel/guest-output.js";
import type { KernelResult } from "../kernel/kernel.js";
import { formatBuddyinfo } from "../procfs/procfs.js";
import { MODELLED_KERNEL_COUNTERS } from "../stats/counters.js";
import { plural } from "./words.js";

/** One counter of `wsim compare`; the keys are also its JSON's (`rows`), hence snake_case. */
export interface CompareRow {
  counter: string;
  /** wsim's change, or null where wsim does not model the counter */
  wsim: number | null;
  /** the kernel's change: lowest and highest over the runs (equal with one run) */
  kernel_min: number;
  kernel_max: number;
  /** kernel − wsim at both ends of the kernel's range; null where wsim does not model it */
  difference_min: number | null;
  difference_max: number | null;
  /** wsim's value lies within the kernel's range (null: not modelled) */
  in_range: boolean | null;
  modelled: boolean;
}

/** What `compare` needs of a run from a start state (replay's `start_state`): the counters and zones before the first event. */
export interface SimStart {
  vmstat: Record<string, number>;
  zones: { node: number; zone: string; free: number; pageblocks: Record<string, number> }[];
}

/** The run's start state, when it was replayed from one (`wsim compare --start boot`). */
function startOf(sim: RunResult): SimStart | undefined {
  return (sim as RunResult & { start_state?: SimStart }).start_state;
}

/**
 * wsim's counters as changes from the start of its run: from a start state, each minus its value
 * before the first event; from an empty machine only nr_free_pages starts non-zero (every
 * managed page free).
 */
export function simDelta(sim: RunResult): Record<string, number> {
  const out: Record<string, number> = { ...sim.vmstat };
  const start = startOf(sim);
  if (start) {
    for (const [k, v] of Object.entries(start.vmstat)) if (out[k] !== undefined) out[k] -= v;
    return out;
  }
  const managed = sim.nodes.reduce((s, n) => s + n.zones.reduce((t, z) => t + z.managed, 0), 0);
  if (out.nr_free_pages !== undefined) out.nr_free_pages -= managed;
  return out;
}

/**
 * Rows for every kernel counter that moved on either side in any run, in /proc/vmstat's order
 * (the first run's; a counter only a later run printed comes after).
 */
export function compareRows(sim: RunResult, kerns: readonly KernelResult[], all = false): CompareRow[] {
  if (kerns.length === 0) throw new RangeError("compareRows needs at least one kernel run");
  const s = simDelta(sim);
  const names = [...new Set(kerns.flatMap((k) => Object.keys(k.vmstat)))];
  const rows: CompareRow[] = [];
  for (const counter of names) {
    const ks = kerns.map((k) => k.vmstat[counter] ?? 0);
    const lo = Math.min(...ks);
    const hi = Math.max(...ks);
    const modelled = MODELLED_KERNEL_COUNTERS.has(counter);
    const w = modelled ? (s[counter] ?? 0) : null;
    if (!all && lo === 0 && hi === 0 && !w) continue;
    rows.push({
      counter,
      wsim: w,
      kernel_min: lo,
      kernel_max: hi,
      difference_min: w === null ? null : lo - w,
      difference_max: w === null ? null : hi - w,
      in_range: w === null ? null : w >= lo && w <= hi,
      modelled,
    });
  }
  return rows;
}

/**
 * How many pageblocks of each migratetype the replay made on each side (fallback steals,
 * compaction): wsim's start with every block Movable; the kernel's from /proc/pagetypeinfo
 * before and after. Null when the kernel run has no pagetypeinfo snapshots.
 */
export function pageblockChanges(sim: RunResult, kern: KernelResult): { wsim: Record<string, number>; kernel: Record<string, number> } | null {
  const boot = kern.kernel.boot.pageblocks ?? {};
  const final = kern.kernel.final.pageblocks ?? {};
  if (!Object.keys(boot).length || !Object.keys(final).length) return null;
  const kernel: Record<string, number> = {};
  for (const t of Object.keys(final)) kernel[t] = final[t]! - (boot[t] ?? 0);
  const end: Record<string, number> = {};
  for (const n of sim.nodes) for (const z of n.zones) for (const [t, c] of Object.entries(z.pageblocks)) end[t] = (end[t] ?? 0) + c;
  const total = Object.values(end).reduce((a, b) => a + b, 0);
  const wsim: Record<string, number> = {};
  const start = startOf(sim);
  const begin: Record<string, number> = {};
  if (start) for (const z of start.zones) for (const [t, c] of Object.entries(z.pageblocks)) begin[t] = (begin[t] ?? 0) + c;
  // from a start state its pageblocks; else every pageblock starts Movable
  for (const t of Object.keys(kernel)) wsim[t] = (end[t] ?? 0) - (start ? (begin[t] ?? 0) : t === "Movable" ? total : 0);
  return { wsim, kernel };
}

/**
 * One quantity of one zone in `wsim compare`'s per-zone table (issue 13 item 4); JSON `zones`.
 * `quantity`: "free pages, change" (end − start), "free pages in order-9+ blocks, end" (the
 * blocks a THP could take), or "TYPE pageblocks, change" for each migratetype that changed on
 * either side.
 */
export interface ZoneCompareRow {
  node: number;
  zone: string;
  quantity: string;
  /** wsim's value; null when wsim's machine has no such zone (a zone the guest had under a pageblock free) */
  wsim: number | null;
  kernel_min: number;
  kernel_max: number;
  in_range: boolean | null;
}

/** free pages in blocks of order ≥ 9 (pageblock_order on x86-64) from buddyinfo's counts */
function hugeFree(counts: readonly number[]): number {
  let n = 0;
  for (let o = 9; o < counts.length; o++) n += counts[o]! * 2 ** o;
  return n;
}

/**
 * The per-zone comparison: for every zone of the guest's final /proc/buddyinfo (node by node, in
 * the kernel's order) its free pages' change, its free pages in order-9+ blocks at the end, and
 * the change of each migratetype's pageblocks (pagetypeinfo before and after), beside the zone of
 * the same node and name in wsim's machine (`machineFromBuddyinfo` gives it the zone's free
 * pages at the start). Kernel values are the range over the runs.
 */
export function zoneRows(sim: RunResult, kerns: readonly KernelResult[]): ZoneCompareRow[] {
  if (kerns.length === 0) throw new RangeError("zoneRows needs at least one kernel run");
  type Side = Map<string, number>; // quantity -> value
  const perRun = kerns.map((k) => {
    const boot = parseBuddyinfo(k.kernel.boot.buddyinfo);
    const bootBlocks = parsePageblockCountsByZone(k.kernel.boot.pagetypeinfo);
    const finalBlocks = parsePageblockCountsByZone(k.kernel.final.pagetypeinfo);
    const zones = new Map<string, Side>();
    for (const n of k.nodes)
      for (const z of n.zones) {
        const key = `${n.id} ${z.name}`;
        const start = boot.find((b) => b.id === n.id)?.zones.find((b) => b.name === z.name)?.free ?? 0;
        const side: Side = new Map([
          ["free pages, change", z.free - start],
          ["free pages in order-9+ blocks, end", hugeFree(z.buddyinfo)],
        ]);
        const b0 = bootBlocks.get(key) ?? {};
        const b1 = finalBlocks.get(key) ?? {};
        for (const t of Object.keys(b1)) side.set(`${t} pageblocks, change`, b1[t]! - (b0[t] ?? 0));
        zones.set(key, side);
      }
    return zones;
  });
  const rows: ZoneCompareRow[] = [];
  for (const [key, first] of perRun[0]!) {
    const [node, zone] = [Number(key.split(" ")[0]), key.split(" ")[1]!];
    const wz = sim.nodes.find((n) => n.id === node)?.zones.find((z) => z.name === zone);
    const wsim = new Map<string, number>();
    if (wz) {
      const zs = startOf(sim)?.zones.find((z) => z.node === node && z.zone === zone);
      wsim.set("free pages, change", wz.free - (zs ? zs.free : wz.managed));
      wsim.set("free pages in order-9+ blocks, end", hugeFree(wz.buddyinfo));
      // from a start state its pageblocks; else wsim's zones start with every pageblock Movable
      const total = Object.values(wz.pageblocks).reduce((a, b) => a + b, 0);
      for (const [t, c] of Object.entries(wz.pageblocks))
        wsim.set(`${t} pageblocks, change`, c - (zs ? (zs.pageblocks[t] ?? 0) : t === "Movable" ? total : 0));
    }
    for (const quantity of first.keys()) {
      const ks = perRun.map((z) => z.get(key)?.get(quantity) ?? 0);
      const lo = Math.min(...ks);
      const hi = Math.max(...ks);
      const w = wz ? (wsim.get(quantity) ?? 0) : null;
      if (quantity.endsWith("pageblocks, change") && lo === 0 && hi === 0 && !w) continue;
      rows.push({ node, zone, quantity, wsim: w, kernel_min: lo, kernel_max: hi, in_range: w === null ? null : w >= lo && w <= hi });
    }
  }
  return rows;
}

/** From the trace's first event to its last, ms (0 for an empty trace). */
export function traceSpanMs(r: KernelResult): number {
  return r.trace.first_ms === null ? 0 : Math.round(r.trace.last_ms! - r.trace.first_ms);
}

const span = (a: number, b: number) => (a === b ? String(a) : `${a} – ${b}`);
/** a difference with its sign either way (`+5`, `-5`, `0`), as diff's change column */
const signed = (d: number) => (d > 0 ? `+${d}` : String(d));
const signedSpan = (a: number, b: number) => (a === b ? signed(a) : `${signed(a)} – ${signed(b)}`);

/** The side-by-side table; with several kernel runs, the kernel's range and whether wsim is in it. */
export function renderCompare(sim: RunResult, kerns: readonly KernelResult[], opts: { all?: boolean } = {}): string {
  const rows = compareRows(sim, kerns, opts.all);
  const kern = kerns[0]!;
  const runs = kerns.length;
  const t = new Table({
    head: ["counter", "wsim", runs > 1 ? `kernel, ${runs} runs` : "kernel", "kernel − wsim", ...(runs > 1 ? ["wsim in range"] : [])],
    style: { head: [], border: [] },
    colAligns: ["left", "right", "right", "right", "left"],
  });
  for (const r of rows) {
    const cells = [
      r.counter,
      r.wsim === null ? "not modelled" : String(r.wsim),
      span(r.kernel_min, r.kernel_max),
      r.difference_min === null ? "" : signedSpan(r.difference_min, r.difference_max!),
    ];
    if (runs > 1) cells.push(r.in_range === null ? "" : r.in_range ? "yes" : "no");
    t.push(cells);
  }
  const out: string[] = [];
  const releases = [...new Set(kerns.map((k) => k.kernel.release ?? "(release unknown)"))];
  // free pages per node at the first event: the guest's boot buddyinfo, taken just before it (an
  // old run without one: its machine, whose zones are the free pages in whole pageblocks)
  const bootFree = kern.kernel.boot?.buddyinfo ? parseBuddyinfo(kern.kernel.boot.buddyinfo).map((n) => ({ id: n.id, mem: n.zones.reduce((s, z) => s + z.free, 0) })) : kern.machine.nodes;
  out.push(`trace ${kern.trace.path}: ${plural(kern.trace.events, "event")}; guest ${bootFree.map((n) => `node ${n.id} ${plural(n.mem, "page")} free at start`).join(", ")}`);
  out.push(`kernel: Linux ${releases.join(", ")}`);
  // a saved run may lack the clock (an old wsim's, or a hand-edited file)
  const clocks = kerns.map((k) => k.kernel.guest_ms).filter((m): m is number => typeof m === "number" && Number.isFinite(m));
  const pace = sim.guest_like?.pace_ms_per_event ?? 0;
  if (clocks.length) {
    const slept = typeof kern.kernel.slept_ms === "number" ? `asleep ${kern.kernel.slept_ms} ms, working the rest` : "its sleeps not recorded";
    out.push(
      `guest clock: ${span(Math.min(...clocks), Math.max(...clocks))} ms for ${traceSpanMs(kern)} ms of trace (${slept}; the kernel's daemons ran on that clock, ` +
        (pace > 0 ? `wsim's at that pace: event k at its trace time + k × ${pace.toFixed(3)} ms)` : `wsim's on the trace's)`),
    );
  }
  out.push(`counters: changes during the replay (kernel: /proc/vmstat after − before the first event)`);
  out.push(t.toString());
  const zr = zoneRows(sim, kerns);
  if (zr.length) {
    const zt = new Table({
      head: ["node", "zone", "", "wsim", runs > 1 ? `kernel, ${runs} runs` : "kernel", ...(runs > 1 ? ["wsim in range"] : [])],
      style: { head: [], border: [] },
      colAligns: ["right", "left", "left", "right", "right", "left"],
    });
    for (const r of zr) {
      const cells = [String(r.node), r.zone, r.quantity, r.wsim === null ? "no such zone" : String(r.wsim), span(r.kernel_min, r.kernel_max)];
      if (runs > 1) cells.push(r.in_range === null ? "" : r.in_range ? "yes" : "no");
      zt.push(cells);
    }
    out.push(
      "",
      startOf(sim)
        ? "per zone (wsim starts from the guest's boot zoneinfo, buddyinfo and pagetypeinfo):"
        : "per zone (wsim's zones start with what the guest's had free, in whole pageblocks):",
      zt.toString(),
    );
  }
  out.push("", "buddyinfo, wsim:");
  out.push(
    formatBuddyinfo(sim.nodes.flatMap((n) => n.zones.map((z) => ({ nid: n.id, name: z.name, nrFree: z.buddyinfo })))).trimEnd(),
  );
  out.push("", runs > 1 ? `buddyinfo, kernel (run 1 of ${runs}):` : "buddyinfo, kernel:", kern.kernel.final.buddyinfo.trimEnd());
  const blocks = pageblockChanges(sim, kern);
  if (blocks) {
    out.push("", `pageblocks by migratetype, change during the replay${runs > 1 ? " (kernel: run 1)" : ""}:`);
    for (const [side, ch] of [["wsim", blocks.wsim], ["kernel", blocks.kernel]] as const)
      out.push(`  ${side.padEnd(7)}${Object.entries(ch).map(([t, n]) => `${t} ${n > 0 ? "+" : ""}${n}`).join("  ")}`);
  }
  const un = Object.entries(kern.kernel.unsupported);
  if (un.length) {
    out.push("", "not replayed on the kernel (or only approximately):");
    for (const [what, n] of un) out.push(`  ${n}\t${what}`);
  }
  if (kern.kernel.skipped_ms > 0) out.push("", `time gaps longer than --max-gap: ${kern.kernel.skipped_ms} ms of trace time not slept`);
  const errors = kerns.flatMap((k, i) => k.kernel.errors.map((e) => (runs > 1 ? `run ${i + 1}, script line ${e}` : `script line ${e}`)));
  if (errors.length) {
    out.push("", "guest helper errors:");
    for (const e of errors.slice(0, 20)) out.push(`  ${e}`);
  }
  return out.join("\n") + "\n";
}
