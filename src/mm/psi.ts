/**
 * Pressure stall information for memory (kernel/sched/psi.c, Linux 6.1; KERNEL-REFERENCE-2
 * §11): /proc/pressure/memory and a memcg's memory.pressure, with 6.1's state rules, its
 * per-CPU aggregation weighted by non-idle time, its 2 s averaging period and fixed-point
 * decay (calc_avgs, calc_load, fixed_power_int), and psi_show's format.
 *
 * What "a task" and "a CPU" are here (wsim has no scheduler; README "Pressure"):
 * - every pid of the trace is a task, non-idle (running) from its first event to its exit
 *   or the end of the run; kswapd and kcompactd are tasks while they work;
 * - every task runs on a CPU of its own (a machine with at least as many CPUs as busy
 *   tasks), so a task in a memory stall is the current task of its CPU: its CPU is in
 *   PSI_MEM_SOME and PSI_MEM_FULL for the stall (psi_group_change's in_memstall rule), and
 *   the group's totals weigh each task's CPU by its non-idle time (collect_percpu_times);
 * - a stall is an interval of virtual time [start, end) that the cost model (SPEC §4.8)
 *   gives; stalls of one task that overlap merge (psi_memstall_enter nests).
 * Times are integer nanoseconds of the virtual clock; HZ = 1000 (SPEC §4.1), so
 * PSI_FREQ = 2001 jiffies = 2.001 s and nsecs_to_jiffies truncates to whole ms.
 */

/** NSEC_PER_SEC / HZ */
const NS_PER_JIFFY = 1_000_000;
/** PSI_FREQ (2*HZ+1 jiffies) in ns: psi_period */
export const PSI_PERIOD_NS = 2001 * NS_PER_JIFFY;
/** FSHIFT / FIXED_1 (include/linux/sched/loadavg.h) */
const FSHIFT = 11;
const FIXED_1 = 1 << FSHIFT;
/** EXP_10s, EXP_60s, EXP_300s (kernel/sched/psi.c): 1/exp(2s/window) in fixed point */
export const PSI_EXP = [1677, 1981, 2034] as const;

/** The states psi keeps for memory, as indexes into times/total (PSI_MEM_SOME, PSI_MEM_FULL, PSI_NONIDLE). */
const SOME = 0;
const FULL = 1;
const NONIDLE = 2;

/**
 * calc_load (include/linux/sched/loadavg.h): one step of the exponential average in fixed
 * point, rounded up when the sample is at least the old value. Integers in, integer out.
 */
export function calcLoad(load: number, exp: number, active: number): number {
  let n = load * exp + active * (FIXED_1 - exp);
  if (active >= load) n += FIXED_1 - 1;
  return Math.floor(n / FIXED_1);
}

/** fixed_power_int (kernel/sched/loadavg.c): x^n in FSHIFT fixed point, rounding as the kernel does. */
export function fixedPowerInt(x: number, n: number): number {
  let result = FIXED_1;
  const half = 1 << (FSHIFT - 1);
  while (n) {
    if (n & 1) result = Math.floor((result * x + half) / FIXED_1);
    n >>>= 1;
    if (!n) break;
    x = Math.floor((x * x + half) / FIXED_1);
  }
  return result;
}

/** calc_avgs (kernel/sched/psi.c): decay over missed periods, then fold one sample (ns of `period`). */
export function calcAvgs(avg: number[], missed: number, time: number, period: number): void {
  if (missed) for (let i = 0; i < 3; i++) avg[i] = calcLoad(avg[i]!, fixedPowerInt(PSI_EXP[i]!, missed), 0);
  const pct = Math.floor((time * 100) / period) * FIXED_1;
  for (let i = 0; i < 3; i++) avg[i] = calcLoad(avg[i]!, PSI_EXP[i]!, pct);
}

/** "%lu.%02lu" of an average (LOAD_INT, LOAD_FRAC) */
function loadText(x: number): string {
  const frac = ((x & (FIXED_1 - 1)) * 100) >> FSHIFT;
  return `${x >> FSHIFT}.${String(frac).padStart(2, "0")}`;
}

/** One line of a pressure file: avgN as printed ("%lu.%02lu"), total stalled µs */
export interface PsiLine {
  avg10: string;
  avg60: string;
  avg300: string;
  total: number;
}

/** One task's CPU in one group (struct psi_group_cpu, memory states only). */
interface GroupCpu {
  /** 1 while the task is non-idle (NR_RUNNING) */
  running: number;
  /** 1 while the task is in a memory stall (NR_MEMSTALL, and in_memstall on CPU) */
  memstall: number;
  stateMask: number;
  stateStart: number;
  times: [number, number, number];
  /** times_prev[PSI_AVGS] */
  prev: [number, number, number];
}

/**
 * One psi_group: the system's (psi_system) or a memcg's. Its tasks' CPUs, the totals and the
 * averages. Driven by Psi, which owns the tasks and the clock.
 */
export class PsiGroup {
  private readonly cpus = new Map<number, GroupCpu>();
  /** total[PSI_AVGS][SOME, FULL] in ns */
  readonly total = [0, 0];
  private readonly avgTotal = [0, 0];
  /** avg[SOME], avg[FULL]: [avg10, avg60, avg300] in FIXED_1 fixed point */
  readonly avg = [[0, 0, 0], [0, 0, 0]];
  private avgLastUpdate = 0;
  private avgNextUpdate = PSI_PERIOD_NS;
  /** when psi_avgs_work runs next, or -1 when it is not scheduled (delayed_work_pending) */
  workDue = -1;

  /**
   * psi_group_change for one task's CPU: account the time since the last change in the old
   * state (record_times), apply the task's new counts, and schedule the averaging work if
   * it is idle (wake_clock).
   */
  change(task: number, running: number, memstall: number, now: number): void {
    let c = this.cpus.get(task);
    if (c === undefined) {
      c = { running: 0, memstall: 0, stateMask: 0, stateStart: now, times: [0, 0, 0], prev: [0, 0, 0] };
      this.cpus.set(task, c);
    }
    recordTimes(c, now);
    c.running = running;
    c.memstall = memstall;
    // test_state: SOME while a task is memstalled; FULL when every running task is (the
    // memstalled task is on its CPU: psi_group_change's in_memstall rule); NONIDLE otherwise busy
    c.stateMask = (memstall ? (1 << SOME) | (1 << FULL) : 0) | (running || memstall ? 1 << NONIDLE : 0);
    if (this.workDue < 0) this.workDue = jiffyAfter(now, 2001);
  }

  /** collect_percpu_times(PSI_AVGS): fold each CPU's recent times, weighted by its non-idle jiffies; returns whether any CPU had non-idle time */
  collect(now: number): boolean {
    const deltas = [0, 0];
    let nonidleTotal = 0;
    let changedNonidle = false;
    for (const c of this.cpus.values()) {
      const t0 = c.times[0], t1 = c.times[1], t2 = c.times[2];
      const live = now - c.stateStart;
      const cur = [
        t0 + (c.stateMask & (1 << SOME) ? live : 0),
        t1 + (c.stateMask & (1 << FULL) ? live : 0),
        t2 + (c.stateMask & (1 << NONIDLE) ? live : 0),
      ];
      const d0 = cur[0]! - c.prev[0], d1 = cur[1]! - c.prev[1], d2 = cur[2]! - c.prev[2];
      c.prev[0] = cur[0]!; c.prev[1] = cur[1]!; c.prev[2] = cur[2]!;
      if (d2 > 0) changedNonidle = true;
      const nonidle = Math.floor(d2 / NS_PER_JIFFY); // nsecs_to_jiffies
      nonidleTotal += nonidle;
      deltas[0] += d0 * nonidle;
      deltas[1] += d1 * nonidle;
    }
    const div = Math.max(nonidleTotal, 1);
    this.total[0] += Math.floor(deltas[0]! / div);
    this.total[1] += Math.floor(deltas[1]! / div);
    return changedNonidle;
  }

  /** update_averages: returns the next avg_next_update */
  private updateAverages(now: number): number {
    const expires = this.avgNextUpdate;
    let missed = 0;
    if (now - expires >= PSI_PERIOD_NS) missed = Math.floor((now - expires) / PSI_PERIOD_NS);
    const next = expires + (1 + missed) * PSI_PERIOD_NS;
    const period = now - (this.avgLastUpdate + missed * PSI_PERIOD_NS);
    this.avgLastUpdate = now;
    for (let s = 0; s < 2; s++) {
      let sample = this.total[s]! - this.avgTotal[s]!;
      if (sample > period) sample = period;
      this.avgTotal[s]! += sample;
      calcAvgs(this.avg[s]!, missed, sample, period);
    }
    return next;
  }

  /**
   * Nothing left to average: every average 0, every stall folded in, no CPU stalled now. Each
   * further psi_avgs_work then only moves the clock on by one period (its samples are 0 and
   * calc_load(0, e, 0) is 0), so `skip` may do n of them at once.
   */
  quiescent(): boolean {
    if (this.total[0] !== this.avgTotal[0] || this.total[1] !== this.avgTotal[1]) return false;
    for (const a of this.avg) if (a[0] || a[1] || a[2]) return false;
    for (const c of this.cpus.values()) if (c.memstall) return false;
    return true;
  }

  /**
   * n psi_avgs_work runs of a quiescent group whose work is due one jiffy after avg_next_update
   * (the steady rhythm): each would add a zero sample and move the update times by a period.
   * Returns false (doing nothing) when the work is not in that rhythm.
   */
  skip(n: number): boolean {
    if (this.workDue !== this.avgNextUpdate + NS_PER_JIFFY) return false;
    this.avgLastUpdate += n * PSI_PERIOD_NS;
    this.avgNextUpdate += n * PSI_PERIOD_NS;
    this.workDue += n * PSI_PERIOD_NS;
    return true;
  }

  /** psi_avgs_work at `now` (the time it was due) */
  runWork(now: number): void {
    const nonidle = this.collect(now);
    if (now >= this.avgNextUpdate) this.avgNextUpdate = this.updateAverages(now);
    this.workDue = nonidle ? jiffyAfter(now, Math.floor((this.avgNextUpdate - now) / NS_PER_JIFFY) + 1) : -1;
  }

  /** psi_show(PSI_MEM): the two lines of /proc/pressure/memory at `now` */
  show(now: number): string {
    const v = this.values(now);
    let out = "";
    for (const [name, l] of [["some", v.some], ["full", v.full]] as const)
      out += `${name} avg10=${l.avg10} avg60=${l.avg60} avg300=${l.avg300} total=${l.total}\n`;
    return out;
  }

  /** psi_show's figures at `now` as JSON: the averages as the text prints them ("25.00"), total in µs */
  values(now: number): { some: PsiLine; full: PsiLine } {
    this.collect(now);
    if (now >= this.avgNextUpdate) this.avgNextUpdate = this.updateAverages(now);
    const line = (full: number): PsiLine => {
      const a = this.avg[full]!;
      return { avg10: loadText(a[0]!), avg60: loadText(a[1]!), avg300: loadText(a[2]!), total: Math.floor(this.total[full]! / 1000) };
    };
    return { some: line(0), full: line(1) };
  }
}

/** record_times: the time since the last change goes to the states the CPU was in */
function recordTimes(c: GroupCpu, now: number): void {
  const delta = now - c.stateStart;
  c.stateStart = now;
  if (c.stateMask & (1 << SOME)) c.times[SOME] += delta;
  if (c.stateMask & (1 << FULL)) c.times[FULL] += delta;
  if (c.stateMask & (1 << NONIDLE)) c.times[NONIDLE] += delta;
}

/** schedule_delayed_work(.., j): runs j jiffies after the jiffy `now` falls in */
function jiffyAfter(now: number, j: number): number {
  return (Math.floor(now / NS_PER_JIFFY) + j) * NS_PER_JIFFY;
}

interface PsiTask {
  groups: PsiGroup[];
  running: number;
  /** end of the current memory stall (ns), or -1 */
  stallEnd: number;
}

/**
 * The tasks, their stalls and the groups they count in, on the virtual clock (ns). Stalls end
 * in the future of the event that caused them; `advance(now)` plays every stall end and
 * averaging work due up to `now` in time order. Nothing here runs per access: only at a
 * task's start and exit, a stall, and every 2 s per busy group.
 */
export class Psi {
  readonly system = new PsiGroup();
  private readonly tasks = new Map<number, PsiTask>();
  /** earliest stall end among tasks, or Infinity */
  private nextEnd = Infinity;
  private readonly groups: PsiGroup[] = [this.system];

  /** a group to count tasks in besides the system's (a memcg's memory.pressure) */
  addGroup(g: PsiGroup): void {
    if (!this.groups.includes(g)) this.groups.push(g);
  }

  /**
   * A task becomes non-idle (its first event) in `groups` (system first, then its memcg and
   * the memcg's ancestors); a task already known is left as it is.
   */
  start(task: number, groups: readonly PsiGroup[], now: number): void {
    if (this.tasks.has(task)) return;
    this.advance(now);
    const t: PsiTask = { groups: [...groups], running: 1, stallEnd: -1 };
    for (const g of t.groups) this.addGroup(g);
    this.tasks.set(task, t);
    for (const g of t.groups) g.change(task, 1, 0, now);
  }

  /** A task exits (or the replay ends for it): it goes idle; a stall in progress ends now. */
  exit(task: number, now: number): void {
    const t = this.tasks.get(task);
    if (t === undefined) return;
    this.advance(now);
    t.running = 0;
    t.stallEnd = -1;
    for (const g of t.groups) g.change(task, 0, 0, now);
    this.tasks.delete(task);
    this.recomputeNextEnd();
  }

  /**
   * psi_memstall_enter at `now`, psi_memstall_leave `ns` later. A stall overlapping one in
   * progress extends it (nesting). A task not started yet is started in the system group,
   * running (a pid) or, with `running` false, busy only while stalled (a daemon: kswapd).
   */
  memstall(task: number, now: number, ns: number, running = true): void {
    if (!(ns > 0)) return;
    this.advance(now);
    let t = this.tasks.get(task);
    if (t === undefined) {
      t = { groups: [this.system], running: running ? 1 : 0, stallEnd: -1 };
      this.tasks.set(task, t);
      this.system.change(task, t.running, 0, now);
    }
    const end = now + ns;
    if (t.stallEnd < 0) {
      t.stallEnd = end;
      for (const g of t.groups) g.change(task, t.running, 1, now);
    } else if (end > t.stallEnd) t.stallEnd = end;
    if (t.stallEnd < this.nextEnd) this.nextEnd = t.stallEnd;
  }

  /** Play stall ends and averaging work due at or before `now`, in time order (work before a stall end at the same time). */
  advance(now: number): void {
    for (;;) {
      let due = Infinity;
      let g: PsiGroup | null = null;
      for (const x of this.groups) if (x.workDue >= 0 && x.workDue < due) { due = x.workDue; g = x; }
      if (this.nextEnd <= now && this.nextEnd < due) {
        this.endStalls(this.nextEnd);
        continue;
      }
      if (g === null || due > now) return;
      // a quiescent group's works until the next stall end (or now) change nothing but the
      // clock: all but the last are skipped, exactly (a day of idle tasks is not 43,000 steps)
      const until = Math.min(now, this.nextEnd);
      const n = Math.floor((until - due) / PSI_PERIOD_NS) - 1;
      if (n > 0 && g.quiescent() && g.skip(n)) continue;
      g.runWork(due);
    }
  }

  private endStalls(at: number): void {
    for (const [id, t] of this.tasks) {
      if (t.stallEnd >= 0 && t.stallEnd <= at) {
        t.stallEnd = -1;
        for (const g of t.groups) g.change(id, t.running, 0, at);
      }
    }
    this.recomputeNextEnd();
  }

  private recomputeNextEnd(): void {
    let e = Infinity;
    for (const t of this.tasks.values()) if (t.stallEnd >= 0 && t.stallEnd < e) e = t.stallEnd;
    this.nextEnd = e;
  }

  /** /proc/pressure/memory (or a group's memory.pressure) at `now` */
  show(now: number, group: PsiGroup = this.system): string {
    this.advance(now);
    return group.show(now);
  }

  /** the same as figures (JSON) */
  values(now: number, group: PsiGroup = this.system): { some: PsiLine; full: PsiLine } {
    this.advance(now);
    return group.values(now);
  }
}
