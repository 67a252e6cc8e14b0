/**
 * The colours of the text reports (text.ts, diff.ts), with chalk loaded only when they are
 * wanted. chalk's colour detection (its vendored supports-color) imports `node:process`, and
 * in Node 20 the ESM facade of that module reads every export once, `process.stdin` included:
 * that opens fd 0 as a libuv pipe and sets O_NONBLOCK on it, for every program sharing the
 * pipe (`wsim replay a.csv | cmp - <(wsim replay a.csv)` then failed with EAGAIN). So the
 * CLI calls loadColor() only when it will colour (a terminal), and a run on a pipe never
 * imports chalk.
 */
import type { ChalkInstance } from "chalk";

/** The styles the reports use: each wraps a string (or returns it as it is, without colour). */
export type Painter = Pick<ChalkInstance, "bold" | "dim" | "cyan" | "green" | "magenta" | "red" | "yellow">;

const same = (s: string) => s;
/** No colour: every style returns its text. */
export const PLAIN: Painter = { bold: same, dim: same, cyan: same, green: same, magenta: same, red: same, yellow: same } as unknown as Painter;

let coloured: Painter | null = null;

/** Loads chalk (once) so that painter(true) colours. */
export async function loadColor(): Promise<void> {
  if (coloured === null) {
    const { Chalk } = await import("chalk");
    coloured = new Chalk({ level: 1 });
  }
}

/** ANSI colours (chalk, level 1) when `color` and loadColor() has run; else PLAIN. */
export function painter(color: boolean): Painter {
  return color && coloured !== null ? coloured : PLAIN;
}
