/**
 * `wsim report RUN.json... -o report.html` and `wsim plot KIND RUN.json... -o fig.svg`: the
 * runs' charts as one self-contained HTML file, or one chart as SVG (rendered in Node).
 * Inputs are `wsim replay --format json` outputs (several: overlaid) and at most one
 * `wsim compare --format json` output. Exit 2 for usage errors (unknown KIND, --chart, a
 * second compare output), 3 for bad data (not a run, no data for KIND).
 */
import { basename, dirname, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import { DataError, describeErrno, UsageError } from "../../errors.js";
import { buildCharts, CHART_KINDS, KIND_NEEDS, type ChartKind, type NamedRun } from "../../report/charts.js";
import { renderReport, type ReportInput } from "../../report/html.js";
import { readInput } from "../../report/run-file.js";
import { renderSvg } from "../../report/svg.js";
import { writeStdout, writeWhole } from "../output.js";

/** `wsim report`'s options: `-o FILE.html` (or `-` for standard output). */
export interface ReportCliOptions {
  output?: string;
}

/** `wsim plot`'s options: `-o FILE.svg` (or `-`), and `--chart ID` among several charts of KIND. */
export interface PlotCliOptions {
  output?: string;
  chart?: string;
}

/**
 * A run's name in titles: its file's base name without .json/.gz. Runs that share a base name
 * are told apart by the fewest parent directories that do it ("before/run", "after/run"); the
 * same file given again gets ` (2)`, ` (3)`...
 */
export function runNames(paths: readonly string[]): string[] {
  const baseOf = (p: string) => basename(p).replace(/\.gz$/i, "").replace(/\.json$/i, "") || p;
  const bases = paths.map(baseOf);
  const dirs = paths.map((p) => (p === "stdin" ? [] : dirname(resolve(p)).split(sep).filter(Boolean)));
  const full = paths.map((p) => (p === "stdin" ? p : resolve(p)));
  const named = bases.map((b, i) => {
    // the other files (not this one given again) of the same base name
    const files = [...new Set(bases.flatMap((x, j) => (x === b ? [full[j]!] : [])))];
    if (files.length < 2 || !dirs[i]!.length) return b;
    const dirsOf = (f: string) => dirs[full.indexOf(f)]!;
    const depth = Math.max(...files.map((f) => dirsOf(f).length));
    for (let d = 1; d <= depth; d++) {
      const name = (f: string) => [...dirsOf(f).slice(-d), b].join("/");
      if (new Set(files.map(name)).size === files.length) return name(full[i]!);
    }
    return b;
  });
  const seen = new Map<string, number>();
  return named.map((n) => {
    const k = (seen.get(n) ?? 0) + 1;
    seen.set(n, k);
    return k > 1 ? `${n} (${k})` : n;
  });
}

/** All of standard input (`-` among the runs); DataError("-") when it cannot be read. */
async function readStdin(stdin: Readable = process.stdin): Promise<Buffer> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  } catch (e) {
    throw new DataError("-", 0, `cannot read standard input: ${describeErrno(e)}`);
  }
  return Buffer.concat(chunks);
}

/**
 * Reads every input (DataError on a bad one); `-` is standard input, read once (a second `-`
 * is a usage error), named "stdin" in titles. More than one compare output is a usage error.
 */
export async function loadInputs(paths: readonly string[], stdin?: Readable): Promise<ReportInput> {
  if (paths.filter((p) => p === "-").length > 1) throw new UsageError("-: standard input can be read only once: give - at most one time");
  const names = runNames(paths.map((p) => (p === "-" ? "stdin" : p)));
  const runs: NamedRun[] = [];
  let compare: ReportInput["compare"];
  const data = paths.includes("-") ? await readStdin(stdin) : undefined;
  paths.forEach((p, i) => {
    const doc = p === "-" ? readInput(p, undefined, data) : readInput(p);
    if (doc.kind === "run") runs.push({ name: names[i]!, run: doc.run });
    else {
      if (compare) throw new UsageError(`${p}: a second wsim compare output (the first: ${compare.name}); give at most one`);
      compare = { name: names[i]!, rows: doc.compare.rows };
    }
  });
  return { runs, compare };
}

function checkExtension(output: string, exts: string[], what: string): void {
  if (output === "-") return;
  const m = /\.[^./]+$/.exec(basename(output));
  if (m && !exts.includes(m[0].toLowerCase())) throw new UsageError(`-o ${output}: ${what} is written as ${exts.join(" or ")}: name the file so`);
}

/** `wsim report`: writes the HTML to -o (whole or not at all), or standard output with `-o -`. */
export async function reportCommand(inputs: string[], o: ReportCliOptions): Promise<void> {
  if (!inputs.length) throw new UsageError("report: give at least one run (wsim replay --format json output)");
  if (o.output === undefined) throw new UsageError("report: -o FILE.html is required (or -o - for standard output)");
  checkExtension(o.output, [".html", ".htm"], "a report");
  const input = await loadInputs(inputs);
  const html = renderReport(input);
  if (o.output === "-") await writeStdout(html);
  else writeWhole(o.output, html);
}

/** `wsim plot KIND`: one chart as SVG; `--chart ID` picks one when the runs have several of KIND. */
export async function plotCommand(kind: string, inputs: string[], o: PlotCliOptions): Promise<void> {
  if (!(CHART_KINDS as readonly string[]).includes(kind)) throw new UsageError(`plot: unknown KIND "${kind}": expected one of ${CHART_KINDS.join(", ")}`);
  if (!inputs.length) throw new UsageError("plot: give at least one run (wsim replay --format json output)");
  if (o.output === undefined) throw new UsageError("plot: -o FILE.svg is required (or -o - for standard output)");
  checkExtension(o.output, [".svg"], "a plot");
  const input = await loadInputs(inputs);
  const charts = buildCharts(input.runs, input.compare).filter((c) => c.kind === (kind as ChartKind));
  if (!charts.length) {
    if (kind === "runs" && input.runs.length < 2) throw new UsageError(`plot runs: give two or more runs (got ${input.runs.length})`);
    throw new DataError(inputs.length === 1 ? inputs[0]! : inputs.join(", "), 0, `nothing to plot as ${kind}: it needs ${KIND_NEEDS[kind as ChartKind]}`);
  }
  let chart = charts[0]!;
  if (o.chart !== undefined) {
    const c = charts.find((x) => x.id === o.chart);
    if (!c) throw new UsageError(`--chart: no chart "${o.chart}" of kind ${kind} in these runs; there are: ${charts.map((x) => x.id).join(", ")}`);
    chart = c;
  }
  const svg = renderSvg(chart);
  if (o.output === "-") await writeStdout(svg);
  else writeWhole(o.output, svg);
}
