/**
 * Comparing two runs counter by counter (SPEC §5, `wsim diff`): tolerances global or per
 * counter, a percentage relative to A (|B - A| <= p * |A|, so A = 0 needs B = 0) or an absolute
 * number; with no tolerance any difference counts; a counter on one side only is a difference.
 * Pure functions: parsing, comparing, rendering.
 */
import { Chalk } from "chalk";
import Table from "cli-table3";
import { plural } from "./words.js";

export interface Tolerance {
  kind: "pct" | "abs";
  value: number;
}

export interface Tolerances {
  global: Tolerance | null;
  per: Map<string, Tolerance>;
}

/** Parses `2%`, `compact_stall=0,pgmigrate_success=5%`, or a mix; throws Error with a sentence. */
export function parseTolerances(args: readonly string[]): Tolerances {
  const t: Tolerances = { global: null, per: new Map() };
  for (const arg of args)
    for (const item of arg.split(",").map((x) => x.trim()).filter(Boolean)) {
      const eq = item.indexOf("=");
      if (eq < 0) t.global = parseOne(item);
      else t.per.set(item.slice(0, eq).trim(), parseOne(item.slice(eq + 1).trim()));
    }
  return t;
}

function parseOne(s: string): Tolerance {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(s);
  if (!m) throw new Error(`--tolerance: expected a number or a percentage like 2%, got "${s}"`);
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
  within: boolean;
  compared: number;
  /** every counter that differs (within tolerance or not) */
  rows: DiffRow[];
}

export function diffCounters(
  a: Record<string, number>,
  b: Record<string, number>,
  tol: Tolerances,
  only: readonly string[] = [],
  ignore: readonly string[] = [],
): DiffResult {
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])];
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
  return { within: rows.every((r) => r.within), compared, rows };
}

export function renderDiffTable(r: DiffResult, color: boolean, labels: [string, string]): string {
  const c = new Chalk({ level: color ? 1 : 0 });
  if (!r.rows.length) return `${plural(r.compared, "counter")} compared: no differences\n`;
  const t = new Table({
    head: ["counter", labels[0], labels[1], "delta", "change", "tolerance", ""],
    style: { head: color ? ["cyan"] : [], border: color ? ["grey"] : [], compact: true },
    colAligns: ["left", "right", "right", "right", "right", "right", "left"],
  });
  for (const row of r.rows) {
    const pct = row.a && row.delta !== null ? `${((row.delta / Math.abs(row.a)) * 100).toFixed(1)}%` : "";
    t.push([
      row.counter,
      row.a === null ? "(none)" : String(row.a),
      row.b === null ? "(none)" : String(row.b),
      row.delta === null ? "" : (row.delta > 0 ? "+" : "") + row.delta,
      pct,
      row.tolerance,
      row.within ? c.green("ok") : c.red("OUTSIDE"),
    ]);
  }
  const bad = r.rows.filter((x) => !x.within).length;
  return (
    t.toString() +
    `\n${plural(r.compared, "counter")} compared, ${r.rows.length} ${r.rows.length === 1 ? "differs" : "differ"}, ${bad} outside tolerance\n`
  );
}
