/**
 * Samples kept for a report without keeping every sample whole: `wsim replay --report` with
 * an output that has no `series` (vmstat, text, csv, ndjson) passes each `--interval` sample
 * here instead of the engine's series. A counter costs nothing until its value first differs
 * from the first sample's (its column is then back-filled), buddyinfo is kept as numbers, and
 * `reported` and `page_age` (no chart draws them) are dropped. A 2-hour run sampled every
 * 100 ms (72,000 samples of some 300 counters) then needs a few MB instead of over a GB.
 */
import type { Sample } from "../engine/engine.js";

export class SampleStore {
  private readonly times: number[] = [];
  private readonly ends: boolean[] = [];
  /** each counter's value in the first sample that had it */
  private readonly first = new Map<string, number>();
  /** the sample index a counter first appeared at (counters may appear mid-run: a feature turned on) */
  private readonly since = new Map<string, number>();
  /** columns of the counters that moved, one value per sample */
  private readonly columns = new Map<string, number[]>();
  private buddy: number[] = [];
  private nodes = -1;
  /** the promotion ground truth per sample (truly_hot, promoted_hot), on tiered machines */
  private readonly truth: number[] = [];

  /** Adds one sample (its objects are not kept). */
  push(s: Sample): void {
    const i = this.times.length;
    this.times.push(s.time_ms);
    this.ends.push(s.end === true);
    for (const k in s.vmstat) {
      const v = s.vmstat[k]!;
      const col = this.columns.get(k);
      if (col) {
        col.push(v);
        continue;
      }
      const f = this.first.get(k);
      if (f === undefined) {
        this.first.set(k, v);
        this.since.set(k, i);
      } else if (f !== v) {
        // moved: its column from the sample it appeared at (0 before: not printed yet)
        const from = this.since.get(k)!;
        const c = new Array<number>(i + 1);
        c.fill(0, 0, from).fill(f, from, i);
        c[i] = v;
        this.columns.set(k, c);
      }
    }
    // a counter seen before but missing now keeps its last value (it stops being printed only
    // if a feature is turned off; drawn flat)
    for (const c of this.columns.values()) if (c.length === i) c.push(c[i - 1]!);
    if (s.promotion) this.truth.push(s.promotion.truly_hot, s.promotion.promoted_hot);
    if (this.nodes < 0) this.nodes = s.buddyinfo.length;
    for (let n = 0; n < this.nodes; n++) for (let o = 0; o < 11; o++) this.buddy.push(s.buddyinfo[n]?.[o] ?? 0);
  }

  /** How many samples were pushed. */
  get length(): number {
    return this.times.length;
  }

  /**
   * The samples as the charts read them: `vmstat` holds the counters that moved and those
   * that were never 0 (a constant non-zero gauge), in first-seen order; counters that stayed 0
   * are left out (no chart draws a line at 0 unless asked: the promotion counters are kept).
   */
  samples(keep: (name: string) => boolean = () => false): Sample[] {
    const names = [...this.first.keys()].filter((k) => this.columns.has(k) || this.first.get(k) !== 0 || keep(k));
    const n = this.times.length;
    const out: Sample[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const vmstat: Record<string, number> = {};
      for (const k of names) {
        const c = this.columns.get(k);
        vmstat[k] = c ? c[i]! : i >= this.since.get(k)! ? this.first.get(k)! : 0;
      }
      const buddyinfo: number[][] = [];
      for (let node = 0; node < this.nodes; node++) buddyinfo.push(this.buddy.slice((i * this.nodes + node) * 11, (i * this.nodes + node + 1) * 11));
      out[i] = { time_ms: this.times[i]!, ...(this.ends[i] ? { end: true as const } : {}), vmstat, buddyinfo, reported: [], page_age: {} };
      if (this.truth.length) out[i]!.promotion = { truly_hot: this.truth[2 * i]!, promoted_hot: this.truth[2 * i + 1]! };
    }
    return out;
  }
}
