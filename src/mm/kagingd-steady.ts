/**
 * kagingd at a steady state (issue 12 item 13): every lruvec a configured report covers is
 * saturated (LruGen.saturated: nothing accessed, all pages in the oldest generation), so a
 * pass only stamps reports and shifts generations, and the passes repeat as a cycle. Reports
 * with different refresh intervals (two memcgs at 2000 and 3000 ms, or one memcg's two nodes)
 * make kagingd sleep unevenly (2000, 1000, 1000, 2000 ms: the earliest timestamp +
 * refresh_interval), which repeats after a cycle of the intervals' least common multiple or
 * twice it (an lruvec aged at one refresh is not older than refresh_interval at the next).
 *
 * The cycle is found by running the passes on what decides them alone: each report's
 * timestamp and each lruvec's youngest birth, relative to the pass time. When that comes back
 * to its value at the timer's due time, n cycles are applied in closed form: each lruvec aged
 * as many times as ticking would have, at the same times (LruGen.ageSaturated), each report
 * aggregated where its last refresh in the last cycle aggregates it, and the counters.
 */
import type { SteadyCycle } from "../engine/daemon.js";
import type { LruGen, Lruvec } from "./lru-gen.js";
import type { Memcg, MemcgTree, WsrState } from "./memcg.js";

/**
 * the most passes a cycle may take (a search costs about a microsecond a pass); longer cycles
 * (coprime intervals of 16 s and more, or three coprime ones near a second) are ticked
 */
export const MAX_CYCLE_PASSES = 65536;

export interface KagingdSteadyEnv {
  readonly tree: MemcgTree;
  readonly nrNodes: number;
  readonly lru: LruGen;
  /** refresh_aggregate of w over subtree on nid, stamped at now */
  aggregate(w: WsrState, subtree: readonly Memcg[], nid: number, now: number): void;
  /** counts n passes that made `refreshes` re-aggregations */
  count(passes: number, refreshes: number): void;
  /** told the pass time at which a search for a cycle gave up (MAX_CYCLE_PASSES passes) */
  gaveUp(t: number): void;
}

interface Report {
  m: Memcg;
  nid: number;
  w: WsrState;
  /** indices of the lruvecs of m's subtree on nid */
  lvs: number[];
  /** the last refresh of the cycle: ms after its start, and its rank among the cycle's steps */
  lastOff: number;
  lastStep: number;
}

/**
 * The cycle of kagingd's passes from its timer's due time `due` (integer ms), or null when a
 * report was never aggregated, an lruvec is not saturated, or no cycle closes within
 * MAX_CYCLE_PASSES passes. The passes follow Kagingd.pass and WorkingsetReport.refresh
 * (wsr_refresh_report): a report is refreshed when now >= timestamp + refresh_interval, its
 * subtree's lruvecs aged first where birth(max_seq) + refresh_interval < now.
 */
export function kagingdCycle(env: KagingdSteadyEnv, due: number): SteadyCycle | null {
  if (!Number.isInteger(due)) return null;
  const reports: Report[] = [];
  const lvs: Lruvec[] = [];
  for (let nid = 0; nid < env.nrNodes; nid++)
    for (const m of env.tree.root.subtree()) {
      const w = m.wsr[nid]!;
      if (!w.configured) continue;
      if (w.timestamp === null || !Number.isInteger(w.refreshInterval)) return null;
      const idx: number[] = [];
      for (const c of m.subtree()) {
        const lv = c.lruvecs[nid]!;
        let i = lvs.indexOf(lv);
        if (i < 0) i = lvs.push(lv) - 1;
        idx.push(i);
      }
      reports.push({ m, nid, w, lvs: idx, lastOff: 0, lastStep: 0 });
    }
  if (!reports.length || !lvs.every((lv) => env.lru.saturated(lv))) return null;

  // the passes on timestamps and births alone, until they come back to where they started
  const ts = reports.map((r) => r.w.timestamp!);
  const birth = lvs.map((lv) => lv.birthOf(lv.maxSeq));
  const start = [...ts, ...birth].map((x) => x - due);
  const agings: { off: number; step: number }[][] = lvs.map(() => []);
  let t = due;
  let passes = 0;
  let refreshes = 0;
  let step = 0;
  for (;;) {
    if (passes === MAX_CYCLE_PASSES) {
      env.gaveUp(t);
      return null;
    }
    let next = Infinity;
    for (let r = 0; r < reports.length; r++) {
      const rep = reports[r]!;
      const interval = rep.w.refreshInterval;
      if (t >= ts[r]! + interval) {
        for (const i of rep.lvs)
          if (birth[i]! + interval < t) {
            birth[i] = t;
            agings[i]!.push({ off: t - due, step: step++ });
          }
        ts[r] = t;
        rep.lastOff = t - due;
        rep.lastStep = step++;
        refreshes++;
      }
      next = Math.min(next, ts[r]! + interval);
    }
    passes++;
    t = Math.max(t, next);
    if (start.every((x, k) => x === (k < ts.length ? ts[k]! : birth[k - ts.length]!) - t)) break;
  }
  const cycle = t - due;
  if (cycle < 1) return null;

  return {
    cycle,
    ticks: passes,
    apply(n: number, firstDue: number): void {
      const last = firstDue + (n - 1) * cycle;
      // agings applied so far per lruvec, and the time of its i-th aging from firstDue
      const done = lvs.map(() => 0);
      const ageTo = (i: number, target: number) => {
        const a = agings[i]!;
        const from = done[i]!;
        if (target <= from) return;
        env.lru.ageSaturated(lvs[i]!, target - from, (k) => {
          const j = from + k;
          return firstDue + Math.floor(j / a.length) * cycle + a[j % a.length]!.off;
        });
        done[i] = target;
      };
      // each report's last refresh, in the order ticking makes them: its lruvecs aged up to
      // that step, then its histogram aggregated as it was then
      for (const rep of [...reports].sort((x, y) => x.lastStep - y.lastStep)) {
        for (const i of rep.lvs) {
          const a = agings[i]!;
          ageTo(i, (n - 1) * a.length + a.filter((g) => g.step < rep.lastStep).length);
        }
        env.aggregate(rep.w, rep.m.subtree(), rep.nid, last + rep.lastOff);
      }
      for (let i = 0; i < lvs.length; i++) ageTo(i, n * agings[i]!.length);
      env.count(n * passes, n * refreshes);
    },
  };
}
