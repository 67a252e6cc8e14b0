/** `--format vmstat`: /proc/vmstat's names in 6.1's order, then wsim's own (prefix wsim_). */
import type { RunResult } from "../engine/result.js";

/** r.vmstat is already in print order (printNames): the seeds' counters where enabled. */
export function renderVmstat(r: RunResult): string {
  let out = "";
  for (const [n, v] of Object.entries(r.vmstat)) out += `${n} ${v}\n`;
  return out;
}
