/**
 * The progress line of long replays: on standard error, only when it is a terminal, at most
 * five times a second and not before a second has passed; events/s, virtual time, and the share
 * of the file read. Wall-clock time only decides when to draw: it never reaches the results.
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
    if (!this.enabled) return;
    const now = this.clock();
    if (now - this.start < 1000 || now - this.lastDraw < 200) return;
    this.lastDraw = now;
    const rate = events / Math.max((now - this.start) / 1000, 1e-3);
    const pct = total ? ` ${((100 * bytes) / total).toFixed(1).padStart(5)}%` : "";
    const line = `wsim:${pct} ${plural(events, "event")}, ${(rate / 1e6).toFixed(2)} M/s, virtual ${(virtualMs / 1000).toFixed(1)} s`;
    this.out.write(`\r${line.slice(0, (this.out.columns ?? 80) - 1).padEnd(Math.min(line.length + 2, (this.out.columns ?? 80) - 1))}`);
    this.drawn = true;
  }

  /** erases the line, so the output after it is clean */
  done(): void {
    if (this.drawn) this.out.write("\r\u001b[2K");
    this.drawn = false;
  }
}
