/**
 * `wsim sweep merge DIR`: one table of chosen counters per job, from the outputs `sweep run`
 * left in DIR (`ID.json`, each with its `sweep` record) and the failures (`ID.failed.json`:
 * exit code and stderr's last line). The same for every engine that ran the jobs (local cores,
 * GNU parallel, Kubernetes): only the files count. Rows are in plan order (the job's index),
 * then by id.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { DataError, describeErrno, UsageError } from "../errors.js";
import { globMatch, splitGlobs } from "../report/diff.js";
import { jsonErrorLine } from "../trace/json-locate.js";
import { TUNABLE_BY_KEY } from "../machine/tunables.js";
import type { FailedRecord, JobRecord } from "./run.js";

export interface MergeRow {
  id: string;
  index: number;
  trace: string;
  machine: string | null;
  set: Record<string, string>;
  status: "ok" | "failed";
  exit_code: number | null;
  /** a failed job's stderr's last line (its signal when it had none); "" for ok */
  error: string;
  /** the counters chosen (ok rows; failed rows have none) */
  counters: Record<string, number>;
  /** the job's output file (ok) or failure record */
  file: string;
}

export interface MergeTable {
  /** the tunables any job set, in first-seen order: one column each */
  sets: string[];
  counters: string[];
  rows: MergeRow[];
}

export interface JobResult {
  file: string;
  record: JobRecord;
  /** an ok job's vmstat */
  vmstat?: Record<string, number>;
  failed?: FailedRecord;
}

/** Reads the job outputs and failure records in DIR; `notes` names JSON files that are neither. */
export function readJobResults(dir: string): { results: JobResult[]; notes: string[] } {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    throw new DataError(dir, 0, `cannot read the sweep's output directory: ${describeErrno(e)}`);
  }
  const results = new Map<string, JobResult>();
  const notes: string[] = [];
  for (const n of names) {
    if (n.startsWith(".") || !n.endsWith(".json")) continue;
    const file = join(dir, n);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new DataError(file, 0, `cannot read a job's output: ${describeErrno(e)}`);
    }
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new DataError(file, jsonErrorLine(text, e), `not a sweep job's output: invalid JSON: ${(e as Error).message}`);
    }
    const failed = n.endsWith(".failed.json");
    // an output carries its record as "sweep", and so does a failure record
    const rec = doc?.sweep as JobRecord | undefined;
    if (!rec || typeof rec.id !== "string") {
      notes.push(`${file}: not a sweep job's output (no "sweep" record), left out`);
      continue;
    }
    // an output beside a failure record of the same job: the output is the newer (run removes the other)
    if (failed && results.has(rec.id)) continue;
    results.set(rec.id, failed ? { file, record: rec, failed: doc as unknown as FailedRecord } : { file, record: rec, vmstat: doc.vmstat as Record<string, number> });
  }
  // outputs of several specs (or versions of one): an index means a different job in each, so
  // rows are grouped by spec (its sha256), the group whose earliest file is older first, then in
  // plan order within each; ties by id, so the order never depends on the directory's listing
  const all = [...results.values()];
  const first = new Map<string, number>();
  for (const r of all) {
    const k = r.record.spec_sha256 ?? "";
    let t = 0;
    try {
      t = statSync(r.file).mtimeMs;
    } catch {
      /* read a moment ago */
    }
    first.set(k, Math.min(first.get(k) ?? Infinity, t));
  }
  const group = (r: JobResult) => r.record.spec_sha256 ?? "";
  const list = all.sort(
    (a, b) =>
      first.get(group(a))! - first.get(group(b))! ||
      (group(a) < group(b) ? -1 : group(a) > group(b) ? 1 : 0) ||
      a.record.index - b.record.index ||
      (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0),
  );
  return { results: list, notes };
}

/**
 * The results of a spec's current jobs only, in its plan order (each record's index made the
 * plan's); `left` counts the files of jobs the spec no longer has, `missing` its jobs with none.
 */
export function onlyJobs(results: JobResult[], jobs: readonly { id: string; index: number }[]): { results: JobResult[]; left: number; missing: number } {
  const index = new Map(jobs.map((j) => [j.id, j.index]));
  const kept = results.filter((r) => index.has(r.record.id)).map((r) => ({ ...r, record: { ...r.record, index: index.get(r.record.id)! } }));
  kept.sort((a, b) => a.record.index - b.record.index);
  return { results: kept, left: results.length - kept.length, missing: jobs.length - kept.length };
}

/** How many specs (by the spec_sha256 their records carry; none recorded counts as one) the results come from. */
export function specsOf(results: readonly JobResult[]): number {
  return new Set(results.map((r) => r.record.spec_sha256 ?? "")).size;
}

/**
 * The table: a column per tunable set, status, exit code, error, then the counters matching
 * `globs` (comma-separated or repeated, as `wsim diff --only`), in the kernel's order. Without
 * globs: the counters that are not the same in every ok job (all non-zero ones when none differ).
 * A glob that matches no counter is a UsageError.
 */
export function mergeTable(results: JobResult[], globs: readonly string[] = []): MergeTable {
  const ok = results.filter((r) => r.vmstat);
  const names: string[] = [];
  const seen = new Set<string>();
  for (const r of ok)
    for (const k of Object.keys(r.vmstat!))
      if (!seen.has(k)) {
        seen.add(k);
        names.push(k);
      }
  let counters: string[];
  const gs = splitGlobs(globs);
  if (gs.length) {
    for (const g of gs)
      if (ok.length && !names.some((n) => globMatch(g, n)))
        throw new UsageError(`--counters: ${g} matches no counter of the jobs' outputs (they have ${names.slice(0, 6).join(", ")}, ...; wsim replay --format vmstat lists them)`);
    counters = names.filter((n) => gs.some((g) => globMatch(g, n)));
  } else {
    const val = (r: JobResult, n: string) => r.vmstat![n] ?? 0;
    counters = names.filter((n) => ok.some((r) => val(r, n) !== val(ok[0]!, n)));
    if (!counters.length) counters = names.filter((n) => ok.some((r) => val(r, n) !== 0));
  }
  const sets: string[] = [];
  for (const r of results) for (const k of Object.keys(r.record.set ?? {})) if (!sets.includes(k)) sets.push(k);
  const rows = results.map((r): MergeRow => ({
    id: r.record.id,
    index: r.record.index,
    trace: r.record.trace,
    machine: r.record.machine,
    set: r.record.set ?? {},
    status: r.failed ? "failed" : "ok",
    exit_code: r.failed ? r.failed.exit_code : 0,
    error: r.failed ? r.failed.error || (r.failed.signal ? `killed by ${r.failed.signal}` : "") : "",
    counters: r.vmstat ? Object.fromEntries(counters.map((c) => [c, r.vmstat![c] ?? 0])) : {},
    file: r.file,
  }));
  return { sets, counters, rows };
}

/** The table as CSV (RFC 4180): id, trace, machine, the tunables, status, exit_code, error, the counters. */
export function tableCsv(t: MergeTable): string {
  const head = ["id", "trace", "machine", ...t.sets, "status", "exit_code", "error", ...t.counters];
  const lines = [head, ...t.rows.map((r) => [
    r.id, r.trace, r.machine ?? "", ...t.sets.map((k) => r.set[k] ?? ""), r.status, r.exit_code ?? "", r.error,
    ...t.counters.map((c) => (r.status === "ok" ? r.counters[c] : "")),
  ])];
  return lines.map((l) => l.map((v) => csvField(String(v ?? ""))).join(",")).join("\n") + "\n";
}

/** The table as JSON: `{sets, counters, rows: [{id, index, trace, machine, set, status, exit_code, error, counters}]}`. */
export function tableJson(t: MergeTable): string {
  // an integer tunable's value is a number in JSON ("vm.swappiness": 60), as the counters are
  const typed = (set: Record<string, string>) =>
    Object.fromEntries(Object.entries(set).map(([k, v]) => [k, TUNABLE_BY_KEY.get(k)?.type === "int" && /^-?\d+$/.test(v) ? Number(v) : v]));
  return JSON.stringify({ sets: t.sets, counters: t.counters, rows: t.rows.map(({ file: _file, ...r }) => ({ ...r, set: typed(r.set) })) }, null, 2) + "\n";
}

/**
 * The rows' names in the report: what tells the jobs apart, the trace's base name when the
 * traces differ, the machine's when the machines do, and the tunables whose values differ
 * (`zipf vm.compaction_proactiveness=20`); the trace's base name when nothing differs.
 */
export function rowLabels(rows: readonly MergeRow[]): string[] {
  const trace = (r: MergeRow) => basename(r.trace).replace(/(\.gz)?$/i, "").replace(/\.(csv|ndjson|jsonl|json)$/i, "");
  const machine = (r: MergeRow) => (r.machine === null ? "own machine" : basename(r.machine).replace(/(\.machine)?\.json$/i, ""));
  const varies = (f: (r: MergeRow) => string) => new Set(rows.map(f)).size > 1;
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.set)))].filter((k) => varies((r) => r.set[k] ?? ""));
  const showMachine = varies(machine);
  const showTrace = varies((r) => r.trace) || (!showMachine && !keys.length);
  return rows.map((r) => [showTrace ? trace(r) : "", showMachine ? machine(r) : "", ...keys.map((k) => `${k}=${r.set[k] ?? "-"}`)].filter(Boolean).join(" "));
}

// --- internal ---

function csvField(s: string): string {
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
