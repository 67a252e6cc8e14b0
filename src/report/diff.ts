/**
 * Comparing two runs counter by counter (SPEC §5, `wsim diff`): tolerances global or per
 * counter, a percentage relative to A (|B - A| <= p * |A|, so A = 0 needs B = 0) or an absolute
 * number; with no tolerance any difference counts; a counter on one side only is a difference.
 * Pure functions: parsing, comparing, rendering.
 */
import { painter } from "./paint.js";
import Table from "cli-table3";
import { describeValue, isPlainObject } from "../args.js";
import { quoteInput, UsageError } from "../errors.js";
import { plural } from "./words.js";

export interface Tolerance {
  kind: "pct" | "abs";
  value: number;
}

export interface Tolerances {
  global: Tolerance | null;
  per: Map<string, Tolerance>;
}

/**
 * Parses tolerance specs as `--tolerance` takes them: `2%` (relative to A), `5` (absolute),
 * `compact_stall=0,pgmigrate_success=5%` (per counter), or a mix; one string or several (the
 * last global one wins). Throws UsageError with a sentence naming the bad spec, prefixed by
 * `label`: the argument as the caller knows it (`--tolerance` on the command line, the library's
 * `parseTolerances`, `diffCounters: options.tolerance`).
 */
export function parseTolerances(args: string | readonly string[], label = "parseTolerances"): Tolerances {
  const list = typeof args === "string" ? [args] : args;
  if (!Array.isArray(list) || !list.every((x) => typeof x === "string"))
    throw new UsageError(`parseTolerances: expected a tolerance spec like "2%" or an array of them, got ${describeValue(args)}`);
  const t: Tolerances = { global: null, per: new Map() };
  for (const arg of list)
    for (const item of arg.split(",").map((x) => x.trim()).filter(Boolean)) {
      const eq = item.indexOf("=");
      if (eq < 0) t.global = parseOne(item, label);
      else t.per.set(item.slice(0, eq).trim(), parseOne(item.slice(eq + 1).trim(), label));
    }
  return t;
}

function parseOne(s: string, label: string): Tolerance {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(s);
  if (!m) throw new UsageError(`${label}: expected a number or a percentage like 2%, got "${s}"`);
  return { kind: m[2] ? "pct" : "abs", value: Number(m[1]) };
}

/** glob with * and ? over counter names */
export function globMatch(glob: string, name: string): boolean {
  const re = new RegExp("^" + glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$");
  return re.test(name);
}

export interface DiffRow {
  counter: string;
  a: number | null;
  b: number | null;
  delta: number | null;
  tolerance: string;
  within: boolean;
}

export interface DiffResult {
  /** true when every row is within tolerance (no rows: true) */
  within: boolean;
  /** counters looked at (after `only` and `ignore`) */
  compared: number;
  /** every counter that differs (within tolerance or not), in A's order then B's */
  rows: DiffRow[];
}

/** The options of {@link diffCounters}, as `wsim diff` takes them on the command line. */
export interface DiffCountersOptions {
  /**
   * `"2%"`, `"5"`, `"compact_stall=0,pgmigrate_success=5%"`, an array of such specs, or what
   * {@link parseTolerances} returns. Default: none, so any difference counts.
   */
  tolerance?: string | readonly string[] | Tolerances;
  /** compare only counters matching one of these globs (`*`, `?`); default: all */
  only?: string | readonly string[];
  /** skip counters matching one of these globs */
  ignore?: string | readonly string[];
}

const DIFF_OPTIONS = ["tolerance", "only", "ignore"];

/**
 * Compares two sets of counters counter by counter (SPEC §5, `wsim diff`).
 *
 * @param a the baseline: counter name -> integer (a RunResult's or KernelResult's `vmstat`,
 *   or a parsed /proc/vmstat)
 * @param b the run to check, same shape
 * @param options `{tolerance, only, ignore}` ({@link DiffCountersOptions}); may be omitted
 * @returns `{within, compared, rows}`: a row per counter that differs or is on one side only
 * @throws UsageError (never a TypeError) when a, b or an option has the wrong shape, a value
 *   is not a number, or a tolerance spec does not parse; and when, with counters on either
 *   side, an `only` glob matches none of them, a per-counter tolerance names none of them, or
 *   `only`/`ignore` leave none to compare (a check that compares nothing is not a pass).
 *   Globs may also be given comma-separated in one string.
 */
export function diffCounters(a: Record<string, number>, b: Record<string, number>, options: DiffCountersOptions = {}): DiffResult {
  checkCounters("a", a);
  checkCounters("b", b);
  if (!isPlainObject(options))
    throw new UsageError(`diffCounters: options must be an object {tolerance?, only?, ignore?}, got ${describeValue(options)}`);
  for (const k of Object.keys(options))
    if (!DIFF_OPTIONS.includes(k)) throw new UsageError(`diffCounters: unknown option "${k}" (options: ${DIFF_OPTIONS.join(", ")})`);
  const tol = isTolerances(options.tolerance) ? options.tolerance : parseTolerances((options.tolerance ?? []) as string | readonly string[], "diffCounters: options.tolerance");
  const only = globList("only", options.only);
  const ignore = globList("ignore", options.ignore);
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  // a filter or tolerance that selects nothing would let a CI check pass on nothing (issue 12 item 7)
  if (names.length) {
    for (const g of only) if (!names.some((n) => globMatch(g, n))) throw new UsageError(`only ${quoteInput(g)}: matches no counter of either side`);
    for (const k of tol.per.keys()) if (!names.includes(k)) throw new UsageError(`tolerance ${quoteInput(k)}: no such counter on either side`);
  }
  const rows: DiffRow[] = [];
  let compared = 0;
  for (const n of names) {
    if (only.length && !only.some((g) => globMatch(g, n))) continue;
    if (ignore.some((g) => globMatch(g, n))) continue;
    compared++;
    const va = n in a ? a[n]! : null;
    const vb = n in b ? b[n]! : null;
    const t = tol.per.get(n) ?? tol.global;
    const label = t ? (t.kind === "pct" ? `${t.value}%` : String(t.value)) : "exact";
    if (va === null || vb === null) {
      rows.push({ counter: n, a: va, b: vb, delta: null, tolerance: label, within: false });
      continue;
    }
    if (va === vb) continue;
    const d = Math.abs(vb - va);
    const within = t ? (t.kind === "pct" ? d <= (t.value / 100) * Math.abs(va) : d <= t.value) : false;
    rows.push({ counter: n, a: va, b: vb, delta: vb - va, tolerance: label, within });
  }
  if (names.length && !compared) throw new UsageError(`no counter left to compare: the only/ignore globs exclude all ${names.length}`);
  return { within: rows.every((r) => r.within), compared, rows };
}

/** The change column: the delta relative to |A| with its sign either way (`+27.8%`, `-4.0%`); empty when A is 0 or missing. */
export function formatChange(row: Pick<DiffRow, "a" | "delta">): string {
  if (!row.a || row.delta === null) return "";
  const pct = (row.delta / Math.abs(row.a)) * 100;
  return `${pct > 0 ? "+" : ""}${pct.toFixed(1)}%`;
}


/**
 * The table `wsim diff` prints: a row per counter that differs (A, B, signed delta, signed
 * change relative to A, tolerance, ok/OUTSIDE), then a summary line; `color` adds ANSI colours.
 */
export function renderDiffTable(r: DiffResult, color: boolean, labels: [string, string]): string {
  const c = painter(color);
  if (!r.rows.length) return `${plural(r.compared, "counter")} compared: no differences\n`;
  const t = new Table({
    head: ["counter", labels[0], labels[1], "delta", "change", "tolerance", ""],
    style: { head: color ? ["cyan"] : [], border: color ? ["grey"] : [], compact: true },
    colAligns: ["left", "right", "right", "right", "right", "right", "left"],
  });
  for (const row of r.rows) {
    t.push([
      row.counter,
      row.a === null ? "(none)" : String(row.a),
      row.b === null ? "(none)" : String(row.b),
      row.delta === null ? "" : (row.delta > 0 ? "+" : "") + row.delta,
      formatChange(row),
      row.tolerance,
      row.within ? c.green("ok") : c.red("OUTSIDE"),
    ]);
  }
  const bad = r.rows.filter((x) => !x.within).length;
  return (
    t.toString() +
    `\n${plural(r.compared, "counter")} compared, ${plural(r.rows.length, "differs", "differ")}, ${bad} outside tolerance\n`
  );
}

// --- internal ---

function isTolerances(x: unknown): x is Tolerances {
  return typeof x === "object" && x !== null && !Array.isArray(x) && (x as Tolerances).per instanceof Map && "global" in x;
}

/** Globs as given, a comma separating them too (`--only 'thp_*,compact_*'`: counter names have none). */
export function splitGlobs(gs: readonly string[]): string[] {
  return gs.flatMap((g) => g.split(",")).filter((g) => g !== "");
}

function globList(name: string, v: unknown): readonly string[] {
  if (v === undefined) return [];
  if (typeof v === "string") return splitGlobs([v]);
  if (Array.isArray(v) && v.every((g) => typeof g === "string")) return splitGlobs(v);
  throw new UsageError(`diffCounters: options.${name} must be a glob or an array of globs, got ${describeValue(v)}`);
}

function checkCounters(side: "a" | "b", c: unknown): void {
  if (!isPlainObject(c))
    throw new UsageError(`diffCounters: ${side} must be an object of counter name to number (a result's vmstat), got ${describeValue(c)}`);
  for (const [k, v] of Object.entries(c))
    if (typeof v !== "number" || !Number.isFinite(v)) throw new UsageError(`diffCounters: ${side}.${k} must be a number, got ${describeValue(v)}`);
}
