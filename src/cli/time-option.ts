/**
 * The check of a time option in ms (`--interval`, `--until`, `--drain`): `wsim replay`'s, shared
 * with `wsim sweep`, which checks a spec's `replay` options before any job runs.
 */
import { UsageError } from "../errors.js";
import { MAX_TIME_MS } from "../trace/types.js";

/** The value of `--NAME V` in ms (undefined when not given); a UsageError saying what is wrong. */
export function timeOption(name: string, v: string | undefined, positive = false): number | undefined {
  if (v === undefined) return undefined;
  const ok = /^\d+(\.\d+)?$/.test(v) && (!positive || Number(v) > 0);
  if (!ok) throw new UsageError(`--${name}: expected a ${positive ? "positive" : "non-negative"} decimal number of ms like 1000 or 0.5 (no sign, no exponent), got "${v}"`);
  if (!(Number(v) < MAX_TIME_MS)) throw new UsageError(`--${name}: ${v} ms is beyond the latest time wsim replays (2^52 ms = ${MAX_TIME_MS} ms, about 142,000 years)`);
  return Number(v);
}
