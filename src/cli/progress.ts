/**
 * The progress line of long replays and sweeps: on standard error, only when it is a terminal, at most
 * five times a second and not before a second has passed; events/s, virtual time, and the share
 * of the file read (a sweep: jobs done of all, as a bar). Wall-clock time only decides when to draw: it never reaches the results.
 */
import { plural } from "../report/words.js";
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

export class Progress {
  private readonly start: number;
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly out: ProgressStream,
    private readonly clock: () => number = Date.now,
  ) {
    this.start = clock();
  }

  get enabled(): boolean {
    return this.out.isTTY === true;
  }

  update(events: number, virtualMs: number, bytes: number, total: number | null): void {
    this.draw((elapsed) => {
      const rate = events / Math.max(elapsed / 1000, 1e-3);
      const pct = total ? ` ${((100 * bytes) / total).toFixed(1).padStart(5)}%` : "";
      return `wsim:${pct} ${plural(events, "event")}, ${(rate / 1e6).toFixed(2)} M/s, virtual ${(virtualMs / 1000).toFixed(1)} s`;
    });
  }

  /**
   * A bar of `done` of `total` things (a sweep's jobs), with `note` after it, and the time left
   * estimated from the pace so far (`now`: draw at once, for a last state).
   */
  bar(done: number, total: number, note: string, now = false): void {
    this.draw((elapsed) => {
      const width = 20;
      const full = total ? Math.round((width * done) / total) : width;
      const left = done && done < total ? `, ~${Math.ceil(((total - done) * elapsed) / done / 1000)} s left` : "";
      return `wsim: [${"#".repeat(full)}${"-".repeat(width - full)}] ${done}/${total}${note ? ` ${note}` : ""}${left}`;
    }, now);
  }

  /** Draws the line `text(elapsed ms)` makes, at most five times a second and not in the first second. */
  private draw(text: (elapsed: number) => string, now = false): void {
    if (!this.enabled) return;
    const t = this.clock();
    if (!now && (t - this.start < 1000 || t - this.lastDraw < 200)) return;
    this.lastDraw = t;
    const line = text(t - this.start);
    this.out.write(`\r${line.slice(0, (this.out.columns || 80) - 1).padEnd(Math.min(line.length + 2, (this.out.columns || 80) - 1))}`);
    this.drawn = true;
  }

  /** erases the line, so the output after it is clean */
  done(): void {
    if (this.drawn) this.out.write("\r\u001b[2K");
    this.drawn = false;
  }
}
