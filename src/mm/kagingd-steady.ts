/**
 * kagingd at a steady state (issue 12 item 13): every lruvec a configured report covers is
 * saturated (LruGen.saturated: nothing accessed, all pages in the oldest generation), so a
 * pass only stamps reports and shifts generations. Kagingd wakes at the earliest timestamp +
 * refresh_interval among the reports, so each report is refreshed exactly every
 * refresh_interval ms, and its lruvecs aged at every other refresh (one aged at t is not older
 * than refresh_interval at the next). Reports that share lruvecs (a memcg's report and its
 * descendant's, on one node) interact through those lruvecs' births; the others do not.
 *
 * So the reports fall into components (reports linked by shared lruvecs), and each
 * component's passes repeat as a cycle, found by running them on what decides them alone
 * (each report's timestamp and each lruvec's youngest birth, relative to the pass time) until
 * that comes back. A jump to any time then applies, per component, the passes due by then in
 * closed form: each lruvec aged as often as ticking would have, at the same times
 * (LruGen.ageSaturated), each report aggregated where its last refresh aggregates it, and
 * the refresh counts. kagingd's own wake-ups are the union of the reports' refresh times
 * (each report is refreshed exactly every refresh_interval), counted by inclusion and
 * exclusion over the reports (the Chinese remainder theorem for each intersection of their
 * progressions), so uneven sleeps over reports with
 * different refresh intervals (two memcgs at 777 and 1300 ms, a memcg's two nodes, a parent
 * and a child) cost nothing either.
 */
import type { SteadyAdvance, SteadyPlan } from "../engine/daemon.js";
import type { LruGen, Lruvec } from "./lru-gen.js";
import type { Memcg, MemcgTree, WsrState } from "./memcg.js";

/**
 * the most passes a component's cycle may take (a search costs about a microsecond a pass);
 * longer ones (a report at 16381 ms with a nested one at 16411 ms) are ticked
 */
export const MAX_CYCLE_PASSES = 65536;
/** the most CRT intersections one wake-up count may take (non-empty subsets of the reports) */
export const MAX_INTERSECTIONS = 200_000;

export interface KagingdSteadyEnv {
  readonly tree: MemcgTree;
  readonly nrNodes: number;
  readonly lru: LruGen;
  /** refresh_aggregate of w over subtree on nid, stamped at now */
  aggregate(w: WsrState, subtree: readonly Memcg[], nid: number, now: number): void;
  /** counts n passes (kagingd's wake-ups) that made `refreshes` re-aggregations */
  count(passes: number, refreshes: number): void;
  /**
   * told when a search for a cycle is worth making again: where the cycle it found starts
   * (after passes that do not repeat), or the pass at which it gave up (MAX_CYCLE_PASSES)
   */
  retryAt(t: number): void;
}

interface Report {
  m: Memcg;
  nid: number;
  w: WsrState;
  /** indices (into the component's lvs) of the lruvecs of m's subtree on nid */
  lvs: number[];
  /** its refreshes in a cycle: the pass (index in the cycle) and the step (rank among the cycle's operations) */
  refreshes: { pass: number; step: number }[];
}

/** Reports linked by shared lruvecs, and their passes' cycle. */
interface Component {
  reports: Report[];
  lvs: Lruvec[];
  /** its first pass (ms) */
  first: number;
  /** ms */
  cycle: number;
  /** the passes' times in a cycle, from `first` (offs[0] = 0) */
  offs: number[];
  /** operations (agings and refreshes) in a cycle */
  steps: number;
  /** per lruvec, its agings in a cycle */
  agings: { pass: number; step: number }[][];
}

/**
 * kagingd's passes from its timer's due time `due` (integer ms) as a SteadyAdvance, or null
 * when a report was never aggregated or has a fractional interval, an lruvec is not
 * saturated, a component's passes do not come back to its first one's state within
 * MAX_CYCLE_PASSES passes (env.retryAt says when to ask again), or counting
 * the wake-ups would take more than MAX_INTERSECTIONS intersections. The passes follow
 * Kagingd.pass and WorkingsetReport.refresh (wsr_refresh_report): a report is refreshed when
 * now >= timestamp + refresh_interval, its subtree's lruvecs aged first where
 * birth(max_seq) + refresh_interval < now.
 */
export function kagingdAdvance(env: KagingdSteadyEnv, due: number): SteadyAdvance | null {
  if (!Number.isInteger(due)) return null;
  // the configured reports in pass order, and the components their lruvecs make (union-find)
  const reports: { m: Memcg; nid: number; w: WsrState; lvs: Lruvec[] }[] = [];
  for (let nid = 0; nid < env.nrNodes; nid++)
    for (const m of env.tree.root.subtree()) {
      const w = m.wsr[nid]!;
      if (!w.configured) continue;
      if (w.timestamp === null || !Number.isInteger(w.refreshInterval)) return null;
      reports.push({ m, nid, w, lvs: m.subtree().map((c) => c.lruvecs[nid]!) });
    }
  if (!reports.length) return null;
  const parent = reports.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const owner = new Map<Lruvec, number>();
  reports.forEach((r, i) => {
    for (const lv of r.lvs) {
      const o = owner.get(lv);
      if (o === undefined) owner.set(lv, i);
      else parent[find(i)] = find(o);
    }
  });
  for (const lv of owner.keys()) if (!env.lru.saturated(lv)) return null;
  const groups = new Map<number, number[]>();
  reports.forEach((_, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), i]));
  const comps: Component[] = [];
  for (const members of groups.values()) {
    const c = componentCycle(members.map((i) => reports[i]!), env);
    if (!c) return null;
    comps.push(c);
  }

  // each report is refreshed exactly every refresh_interval from its timestamp (kagingd wakes at
  // the earliest timestamp + refresh_interval): kagingd's passes are the union of these progressions
  const progressions = reports.map((r) => ({ first: r.w.timestamp! + r.w.refreshInterval, period: r.w.refreshInterval }));
  return {
    advance(last: number): SteadyPlan | null {
      const lim = Math.floor(last);
      // passes of each component at or before lim
      const n = comps.map((c) => passesUpTo(c, lim));
      const ticks = unionCount(progressions, lim);
      if (ticks === null) {
        env.retryAt(lim); // too many reports to count: tick to there, as ticking costs
        return null;
      }
      if (ticks === 0) return { ticks: 0, due, prev: due, apply() {} };
      let next = Infinity;
      let prev = -Infinity;
      comps.forEach((c, k) => {
        next = Math.min(next, passTime(c, n[k]!));
        if (n[k]! > 0) prev = Math.max(prev, passTime(c, n[k]! - 1));
      });
      return {
        ticks,
        due: next,
        prev,
        apply() {
          let refreshes = 0;
          comps.forEach((c, k) => (refreshes += applyPasses(c, n[k]!, env)));
          env.count(ticks, refreshes);
        },
      };
    },
  };
}

/** The cycle of one component's passes from its first, or null (see kagingdAdvance). */
function componentCycle(members: { m: Memcg; nid: number; w: WsrState; lvs: Lruvec[] }[], env: KagingdSteadyEnv): Component | null {
  const lvs: Lruvec[] = [];
  const reports: Report[] = members.map((r) => ({
    m: r.m,
    nid: r.nid,
    w: r.w,
    lvs: r.lvs.map((lv) => {
      const i = lvs.indexOf(lv);
      return i >= 0 ? i : lvs.push(lv) - 1;
    }),
    refreshes: [],
  }));
  const ts = reports.map((r) => r.w.timestamp!);
  const birth = lvs.map((lv) => lv.birthOf(lv.maxSeq));
  const first = Math.min(...reports.map((r, i) => ts[i]! + r.w.refreshInterval));
  const agings: { pass: number; step: number }[][] = lvs.map(() => []);
  const offs: number[] = [];
  // each pass's state (timestamps and births relative to it) -> its number
  const seen = new Map<string, number>();
  let t = first;
  let step = 0;
  for (;;) {
    const key = `${ts.map((x) => x - t).join()}|${birth.map((x) => x - t).join()}`;
    const again = seen.get(key);
    if (again !== undefined) {
      if (again === 0) break;
      env.retryAt(first + offs[again]!); // passes that lead into the cycle: it starts there
      return null;
    }
    if (offs.length === MAX_CYCLE_PASSES) {
      env.retryAt(t);
      return null;
    }
    const pass = offs.length;
    seen.set(key, pass);
    offs.push(t - first);
    let next = Infinity;
    for (let r = 0; r < reports.length; r++) {
      const rep = reports[r]!;
      const interval = rep.w.refreshInterval;
      if (t >= ts[r]! + interval) {
        for (const i of rep.lvs)
          if (birth[i]! + interval < t) {
            birth[i] = t;
            agings[i]!.push({ pass, step: step++ });
          }
        ts[r] = t;
        rep.refreshes.push({ pass, step: step++ });
      }
      next = Math.min(next, ts[r]! + interval);
    }
    t = Math.max(t, next);
  }
  const cycle = t - first;
  if (cycle < 1) return null;
  return { reports, lvs, first, cycle, offs, steps: step, agings };
}

/** The time of a component's pass number i (0: its first). */
function passTime(c: Component, i: number): number {
  const P = c.offs.length;
  return c.first + Math.floor(i / P) * c.cycle + c.offs[i % P]!;
}

/** How many of a component's passes fall at or before lim. */
function passesUpTo(c: Component, lim: number): number {
  if (lim < c.first) return 0;
  const full = Math.floor((lim - c.first) / c.cycle);
  const base = c.first + full * c.cycle;
  let i = 0;
  while (i < c.offs.length && base + c.offs[i]! <= lim) i++;
  return full * c.offs.length + i;
}

/**
 * A component's first n passes in closed form: each report's last refresh among them, in
 * the order ticking makes them (its lruvecs aged up to that step, then its histogram
 * aggregated as it was then), then every lruvec aged as often as the n passes age it.
 * Returns the refreshes made.
 */
function applyPasses(c: Component, n: number, env: KagingdSteadyEnv): number {
  if (n === 0) return 0;
  const P = c.offs.length;
  const q = Math.floor(n / P);
  const rem = n % P;
  const done = c.lvs.map(() => 0);
  const ageTo = (i: number, target: number) => {
    const a = c.agings[i]!;
    const from = done[i]!;
    if (target <= from) return;
    env.lru.ageSaturated(c.lvs[i]!, target - from, (k) => {
      const j = from + k;
      return passTime(c, Math.floor(j / a.length) * P + a[j % a.length]!.pass);
    });
    done[i] = target;
  };
  let refreshes = 0;
  const lasts: { rep: Report; pass: number; step: number }[] = [];
  for (const rep of c.reports) {
    const inRem = rep.refreshes.filter((e) => e.pass < rem);
    refreshes += q * rep.refreshes.length + inRem.length;
    const e = inRem.length ? inRem[inRem.length - 1]! : q > 0 ? rep.refreshes[rep.refreshes.length - 1]! : null;
    if (!e) continue;
    const cyc = inRem.length ? q : q - 1;
    lasts.push({ rep, pass: cyc * P + e.pass, step: cyc * c.steps + e.step });
  }
  lasts.sort((x, y) => x.step - y.step);
  for (const { rep, pass, step } of lasts) {
    const cyc = Math.floor(step / c.steps);
    const within = step % c.steps;
    for (const i of rep.lvs) {
      const a = c.agings[i]!;
      ageTo(i, cyc * a.length + a.filter((g) => g.step < within).length);
    }
    env.aggregate(rep.w, rep.m.subtree(), rep.nid, passTime(c, pass));
  }
  for (let i = 0; i < c.lvs.length; i++) {
    const a = c.agings[i]!;
    ageTo(i, q * a.length + a.filter((g) => g.pass < rem).length);
  }
  return refreshes;
}

const gcd = (a: bigint, b: bigint): bigint => {
  while (b) [a, b] = [b, a % b];
  return a;
};

/** x with a * x = 1 mod m (a, m coprime, m >= 1) */
function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [((a % m) + m) % m, m, 1n, 0n];
  while (r1) {
    const qt = r0 / r1;
    [r0, r1] = [r1, r0 - qt * r1];
    [s0, s1] = [s1, s0 - qt * s1];
  }
  return ((s0 % m) + m) % m;
}

/**
 * kagingd's wake-ups at or before lim: the distinct times among the reports' refreshes (each a
 * progression first + j * period, j >= 0), by inclusion and exclusion over the reports, the
 * Chinese remainder theorem for each intersection (BigInt: an intersection's period may pass
 * 2^53). Null past MAX_INTERSECTIONS non-empty intersections.
 */
function unionCount(progs: { first: number; period: number }[], lim: number): number | null {
  const L = BigInt(lim);
  let total = 0n;
  let budget = MAX_INTERSECTIONS;
  // x mod m: the intersection of the progressions taken so far, none before `from`
  const walk = (k: number, x: bigint, m: bigint, from: bigint, size: number): boolean => {
    for (let j = k; j < progs.length; j++) {
      if (--budget < 0) return false;
      const a = BigInt(progs[j]!.first);
      const p = BigInt(progs[j]!.period);
      const f = a > from ? a : from;
      let y: bigint;
      let lcm: bigint;
      if (size === 0) {
        y = a;
        lcm = p;
      } else {
        // x mod m and a mod p: solvable iff x = a mod gcd(m, p)
        const g = gcd(m, p);
        const d = a - x;
        if (d % g !== 0n) continue;
        const mg = m / g;
        const pg = p / g;
        const t = ((((d / g) % pg) + pg) % pg) * inverse(mg % pg, pg) % pg;
        lcm = mg * p;
        y = (((x + m * t) % lcm) + lcm) % lcm;
      }
      const x0 = f + ((((y - f) % lcm) + lcm) % lcm); // the first element >= f
      if (x0 > L) continue; // and every intersection with more progressions is emptier
      const cnt = (L - x0) / lcm + 1n;
      total += size % 2 === 0 ? cnt : -cnt;
      if (!walk(j + 1, y, lcm, f, size + 1)) return false;
    }
    return true;
  };
  if (!walk(0, 0n, 1n, 0n, 0)) return null;
  return Number(total);
}
