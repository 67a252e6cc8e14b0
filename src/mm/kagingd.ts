/**
 * kagingd, the workingset report's aging thread (RFC v3 7/8, mm/workingset_report_aging.c):
 * one daemon that walks every memcg on every node calling wsr_refresh_report with that memcg
 * as its own root, then sleeps until the earliest report timestamp + refresh_interval among
 * the configured ones (as later RFC versions compute it, even for reports still valid), or
 * waits when nothing is configured. It is woken when intervals are written while
 * refresh_interval is non-zero, or when a refresh_interval is set non-zero and was 0 or
 * longer. The seed's wake-up only ends the idle wait; wsim also cuts a timed sleep short, as
 * the seed's comment intends.
 */
import type { Daemon, EngineContext, SteadyAdvance } from "../engine/daemon.js";
import type { Timer } from "../engine/event-queue.js";
import type { MemcgTree } from "./memcg.js";

export class Kagingd implements Daemon {
  readonly name = "kagingd";
  private ctx: EngineContext | null = null;
  private timer: Timer | null = null;
  wakeups = 0;
  /** reports re-aggregated by kagingd */
  refreshes = 0;
  /** the virtual times of each pass, for tests and users */
  readonly log: number[] = [];
  keepLog = false;

  constructor(
    private readonly tree: MemcgTree,
    private readonly nrNodes: number,
    /** wsr_refresh_report(memcg, nid); true if it re-aggregated */
    private readonly refresh: (memcgId: number, nid: number) => boolean,
    /** the passes at a steady state from the timer's due time (kagingdAdvance), or null */
    private readonly steadyPasses?: (due: number) => SteadyAdvance | null,
  ) {}

  private readonly steady = () => (this.steadyPasses && this.timer && !this.keepLog ? this.steadyPasses(this.timer.due) : null);

  start(ctx: EngineContext): void {
    this.ctx = ctx;
    this.timer = ctx.schedule(0, () => this.pass());
  }

  /** wsr_wakeup_aging_thread */
  wake(): void {
    if (!this.ctx) return;
    if (this.timer) this.ctx.cancel(this.timer);
    this.timer = this.ctx.schedule(0, () => this.pass());
  }

  private pass(): void {
    const ctx = this.ctx!;
    this.timer = null;
    this.wakeups++;
    if (this.keepLog) this.log.push(ctx.now());
    let next = Infinity;
    for (let nid = 0; nid < this.nrNodes; nid++) {
      for (const m of this.tree.root.subtree()) {
        const w = m.wsr[nid]!;
        if (!w.configured) continue;
        if (this.refresh(m.id, nid)) this.refreshes++;
        next = Math.min(next, w.timestamp! + w.refreshInterval);
      }
    }
    if (next === Infinity) return; // wait until woken
    this.timer = ctx.schedule(Math.max(0, next - ctx.now()), () => this.pass(), undefined, this.steady);
  }
}
