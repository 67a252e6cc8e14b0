/**
 * `wsim diff A B`: compare two runs' counters. A and B are `--format json` outputs, vmstat
 * outputs (`name value` lines, as /proc/vmstat or `--format vmstat`), or traces, which are
 * replayed (on `--machine`, with `--set`). Exit 0 within tolerance, 1 outside, 2 usage,
 * 3 unreadable input.
 */
import { readFileSync } from "node:fs";
import { DataError, describeValue, quoteInput, UsageError } from "../../errors.js";
import { lineOf, locateJson } from "../../trace/json-locate.js";
import { diffCounters, parseTolerances, renderDiffTable, type DiffResult } from "../../report/diff.js";
import { replay as replayRun } from "../../replay.js";
import { writeStdout } from "../output.js";

export interface DiffOptions {
  tolerance: string[];
  only: string[];
  ignore: string[];
  format?: string;
  machine?: string;
  set: string[];
}

/** The counters of one side: a JSON output, a vmstat text, or a trace replayed. */
export async function loadCounters(
  path: string,
  o: { machine?: string; set?: string[] },
  /** set to true when path was a trace and was replayed */
  seen: { replayed: boolean } = { replayed: false },
): Promise<Record<string, number>> {
  const replay = async (c: Parameters<typeof replayRun>[0]) => ((seen.replayed = true), replayRun(c));
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (e) {
    throw new DataError(path, 0, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (raw[0] === 0x1f && raw[1] === 0x8b) return (await replay({ trace: path, machine: o.machine, set: o.set })).vmstat;
  const text = raw.toString("utf8").replace(/^\uFEFF/, ""); // a BOM is accepted, as in every input
  const t = text.trimStart();
  if (t.startsWith("{")) {
    let doc: unknown = null;
    try {
      doc = JSON.parse(text);
    } catch {
      /* NDJSON trace */
    }
    const d = doc as { vmstat?: Record<string, unknown>; events?: unknown } | null;
    if (d && typeof d.vmstat === "object" && d.vmstat !== null) {
      // counters are numbers: anything else (a value nested 10,000 deep too) is bad data, not a crash
      for (const [k, v] of Object.entries(d.vmstat))
        if (typeof v !== "number")
          throw new DataError(path, lineOf(locateJson(text, 2), `/vmstat/${k}`), `vmstat ${quoteInput(k)}: expected a number, got ${describeValue(v)}`);
      return d.vmstat as Record<string, number>;
    }
    return (await replay({ trace: path, machine: o.machine, set: o.set })).vmstat;
  }
  const lines = t.split("\n").filter((l) => l.trim() !== "");
  if (lines.length && lines.every((l) => /^[a-z0-9_]+ -?\d+$/.test(l.trim()))) {
    return Object.fromEntries(lines.map((l) => l.trim().split(" ")).map(([k, v]) => [k!, Number(v)]));
  }
  return (await replay({ trace: path, machine: o.machine, set: o.set })).vmstat;
}

/** Compares two sides as `wsim diff` and `replay --expect` do; a bad tolerance is a UsageError (exit 2). */
export function compare(a: Record<string, number>, b: Record<string, number>, o: Pick<DiffOptions, "tolerance" | "only" | "ignore">): DiffResult {
  return diffCounters(a, b, { tolerance: o.tolerance, only: o.only, ignore: o.ignore });
}

/** `--format json`: `{within, compared, rows}`, the library's DiffResult as it is; else the table. */
export function renderDiff(r: DiffResult, format: string | undefined, labels: [string, string]): string {
  if (format === "json") return JSON.stringify({ within: r.within, compared: r.compared, rows: r.rows }, null, 2) + "\n";
  const color = process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== "dumb";
  return renderDiffTable(r, color, labels);
}

/** Returns the exit code: 0 within tolerance, 1 outside. */
export async function diffCommand(a: string, b: string, o: DiffOptions): Promise<number> {
  if (o.format && !["table", "json"].includes(o.format)) throw new UsageError(`--format: expected table or json, got "${o.format}"`);
  parseTolerances(o.tolerance); // a bad --tolerance is a usage error before any trace is replayed
  const seen = { replayed: false };
  const [ca, cb] = [await loadCounters(a, o, seen), await loadCounters(b, o, seen)];
  // --machine and --set only shape the replay of a trace (issue 12 item 7)
  if (!seen.replayed && (o.machine !== undefined || o.set.length))
    throw new UsageError(`${o.machine !== undefined ? "--machine" : "--set"} only applies to a trace given as A or B; both are outputs: drop it`);
  const r = compare(ca, cb, o);
  await writeStdout(renderDiff(r, o.format, ["A", "B"]));
  return r.within ? 0 : 1;
}
