/**
 * `wsim diff A B`: compare two runs' counters. A and B are `--format json` outputs, vmstat
 * outputs (`name value` lines, as /proc/vmstat or `--format vmstat`), or traces, which are
 * replayed (on `--machine`, with `--set`). Exit 0 within tolerance, 1 outside, 2 usage,
 * 3 unreadable input.
 */
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { gunzipSync } from "node:zlib";
import { DataError, describeErrno, describeValue, quoteInput, UsageError } from "../../errors.js";
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

/** What an empty side is told (issue 12 review A2). */
const EMPTY = "is empty: neither a JSON/vmstat output nor a trace with events";

/**
 * The counters of one side: a JSON output (`{"vmstat": {...}}`), a vmstat text (`name value`
 * lines), either gzipped, or a trace, which is replayed. With `outputsOnly` (`replay --expect
 * FILE`) only outputs are taken: a trace or anything else is DataError. Errors (exit 3,
 * `file:line: what`): unreadable, empty (nothing but blank and `#` lines), a counter given twice
 * in vmstat text, a counter that is not an integer within ±2^53-1 (it would lose precision:
 * wsim compares counters exactly, so such a value is refused rather than rounded).
 */
export async function loadCounters(
  path: string,
  o: { machine?: string; set?: string[]; outputsOnly?: boolean },
  /** set to true when path was a trace and was replayed */
  seen: { replayed: boolean } = { replayed: false },
): Promise<Record<string, number>> {
  const notOutput = () => new DataError(path, 0, "not a JSON or vmstat output (--expect takes a run's output, e.g. `wsim replay -o FILE.json`)");
  const replay = async (c: Parameters<typeof replayRun>[0]) => {
    if (o.outputsOnly) throw notOutput();
    seen.replayed = true;
    return replayRun(c);
  };
  let raw: Buffer;
  try {
    raw = readFileSync(path === "-" ? 0 : path); // - : standard input, read whole once
  } catch (e) {
    throw new DataError(path, 0, `cannot read: ${describeErrno(e)}`);
  }
  // a trace read from standard input is replayed from the bytes already read
  const original = raw;
  const stdin = () => (path === "-" ? Readable.from([original]) : undefined);
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    // a gzipped output (-o r.json.gz) is read as it is; else it is a gzipped trace
    try {
      raw = gunzipSync(raw);
    } catch {
      return (await replay({ trace: path, machine: o.machine, set: o.set, stdin: stdin() })).vmstat;
    }
  }
  const text = raw.toString("utf8").replace(/^\uFEFF/, ""); // a BOM is accepted, as in every input
  if (text.split("\n").every((l) => l.trim() === "" || l.trimStart().startsWith("#"))) throw new DataError(path, 0, o.outputsOnly ? "is empty: not a JSON or vmstat output" : EMPTY);
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
      for (const [k, v] of Object.entries(d.vmstat)) {
        if (typeof v !== "number")
          throw new DataError(path, lineOf(locateJson(text, 2), `/vmstat/${k}`), `vmstat ${quoteInput(k)}: expected a number, got ${describeValue(v)}`);
        if (Number.isInteger(v) && !Number.isSafeInteger(v))
          throw new DataError(path, lineOf(locateJson(text, 2), `/vmstat/${k}`), `vmstat ${quoteInput(k)}: ${BEYOND}`);
      }
      return d.vmstat as Record<string, number>;
    }
    return (await replay({ trace: path, machine: o.machine, set: o.set, stdin: stdin() })).vmstat;
  }
  const all = text.split("\n");
  const lines = all.filter((l) => l.trim() !== "");
  if (lines.length && lines.every((l) => /^[a-z0-9_]+ -?\d+$/.test(l.trim()))) {
    const out: Record<string, number> = {};
    const at = new Map<string, number>();
    all.forEach((l, i) => {
      if (l.trim() === "") return;
      const [k, v] = l.trim().split(" ") as [string, string];
      const first = at.get(k);
      if (first !== undefined) throw new DataError(path, i + 1, `counter ${quoteInput(k)} given twice (first at line ${first})`);
      at.set(k, i + 1);
      const n = Number(v);
      if (!Number.isSafeInteger(n)) throw new DataError(path, i + 1, `counter ${quoteInput(k)}: ${BEYOND}`);
      out[k] = n;
    });
    return out;
  }
  return (await replay({ trace: path, machine: o.machine, set: o.set, stdin: stdin() })).vmstat;
}

/** A counter too large to compare exactly as a JavaScript number. */
const BEYOND = `value beyond 2^53-1 (${Number.MAX_SAFE_INTEGER}): it would lose precision`;

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
  parseTolerances(o.tolerance, "--tolerance"); // a bad --tolerance is a usage error before any trace is replayed
  if (a === "-" && b === "-") throw new UsageError("A and B are both - (standard input): give at most one of them as -");
  const seen = { replayed: false };
  const [ca, cb] = [await loadCounters(a, o, seen), await loadCounters(b, o, seen)];
  // --machine and --set only shape the replay of a trace (issue 12 item 7)
  if (!seen.replayed && (o.machine !== undefined || o.set.length))
    throw new UsageError(`${o.machine !== undefined ? "--machine" : "--set"} only applies to a trace given as A or B; both are outputs: drop it`);
  const r = compare(ca, cb, o);
  await writeStdout(renderDiff(r, o.format, ["A", "B"]));
  return r.within ? 0 : 1;
}
