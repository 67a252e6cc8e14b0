/** `--format json`: the RunResult, keys as SPEC §5 lists them. */
import type { RunResult } from "../engine/result.js";

export function renderJson(r: RunResult): string {
  return JSON.stringify(r, null, 2) + "\n";
}
