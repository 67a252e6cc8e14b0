/** `--format json`: a RunResult (or kernel result), keys as SPEC §5 lists them. */
export function renderJson(r: object): string {
  return JSON.stringify(r, null, 2) + "\n";
}
