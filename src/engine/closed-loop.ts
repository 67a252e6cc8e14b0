/**
 * Closed-loop replay (SPEC §4.8, `--closed-loop`): a stall pushes that pid's later events
 * back by the stall, so a user sees how much slower the workload would have run.
 *
 * Trace times are when a process *would* issue its events; with closed loop, pid p's event at
 * trace time t runs at t + delay[p], where delay[p] is the sum of p's stalls in the events it
 * ran before. An event of a pid that is behind (delay > 0, or events already held) is copied
 * here and released when the engine's time reaches its effective time; events of other pids
 * keep their own times, so the replay's order is by effective time, and among equal times the
 * trace's order. Only pids that stalled pay for this: a run with no stall holds nothing.
 */
import { BATCH_SIZE, EventBatch } from "../trace/types.js";

/** A pid's held events: chunks of rows in arrival order. */
interface PidQueue {
  chunks: EventBatch[];
  /** next row of chunks[0] to release */
  head: number;
}

/**
 * The held events of the pids that are behind, and each pid's delay in ms.
 */
export class ClosedLoop {
  /** pid -> total delay so far, ms */
  readonly delay = new Map<number, number>();
  private readonly queues = new Map<number, PidQueue>();
  /** rows held now, over all pids */
  held = 0;

  /** whether pid's next event must wait: it is behind, or has events waiting already */
  behind(pid: number): boolean {
    return this.queues.has(pid) || (this.delay.get(pid) ?? 0) > 0;
  }

  /** adds `ms` of stall to pid's delay */
  addDelay(pid: number, ms: number): void {
    this.delay.set(pid, (this.delay.get(pid) ?? 0) + ms);
  }

  /** copies row i of b (its strings too: EventBatch.copyRow) to the end of pid's queue */
  hold(pid: number, b: EventBatch, i: number): void {
    let q = this.queues.get(pid);
    if (q === undefined) this.queues.set(pid, (q = { chunks: [], head: 0 }));
    let dst = q.chunks[q.chunks.length - 1];
    if (dst === undefined || dst.n === BATCH_SIZE) q.chunks.push((dst = new EventBatch()));
    dst.copyRow(b, i, dst.n++);
    this.held++;
  }

  /**
   * The pid whose first held event has the smallest effective time (trace time + delay) at or
   * before `t`, ties by pid; null when none is due.
   */
  nextDue(t: number): { pid: number; at: number; b: EventBatch; i: number } | null {
    let best: { pid: number; at: number; b: EventBatch; i: number } | null = null;
    for (const [pid, q] of this.queues) {
      const b = q.chunks[0]!;
      const at = b.time[q.head]! + (this.delay.get(pid) ?? 0);
      if (at <= t && (best === null || at < best.at || (at === best.at && pid < best.pid))) best = { pid, at, b, i: q.head };
    }
    return best;
  }

  /** drops the first held event of pid (after it ran) */
  shift(pid: number): void {
    const q = this.queues.get(pid)!;
    q.head++;
    this.held--;
    if (q.head === q.chunks[0]!.n) {
      q.chunks.shift();
      q.head = 0;
      if (q.chunks.length === 0) this.queues.delete(pid);
    }
  }

  /** the pids with a delay, ascending, and their delays in ms (JSON `closed_loop`) */
  result(): { delay_ms: Record<string, number>; total_delay_ms: number } {
    const delay_ms: Record<string, number> = {};
    let total = 0;
    for (const pid of [...this.delay.keys()].sort((a, b) => a - b)) {
      const d = Math.round(this.delay.get(pid)! * 1e6) / 1e6;
      delay_ms[String(pid)] = d;
      total += this.delay.get(pid)!;
    }
    return { delay_ms, total_delay_ms: Math.round(total * 1e6) / 1e6 };
  }
}
