/** `--format vmstat`: /proc/vmstat's names in 6.1's order, then wsim's own (prefix wsim_). */
import type { RunResult } from "../engine/result.js";
import { COUNTER_NAMES } from "../stats/counters.js";

export function renderVmstat(r: RunResult): string {
  let out = "";
  for (const n of COUNTER_NAMES) out += `${n} ${r.vmstat[n] ?? 0}\n`;
  return out;
}
