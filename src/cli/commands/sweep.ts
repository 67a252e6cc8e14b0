/**
 * `wsim sweep plan|run|merge`: many independent replays from one spec (src/sweep/spec.ts).
 * `plan` prints the jobs (or GNU parallel's job file, or a Kubernetes Indexed Job), `run` runs
 * them on this machine's cores (resumable), `merge` makes one table of the outputs.
 */
import { availableParallelism } from "node:os";
import { statSync } from "node:fs";
import { basename, isAbsolute, join, resolve } from "node:path";
import { PRESETS } from "../../machine/machine.js";
import { DataError, describeErrno, UsageError } from "../../errors.js";
import { DEFAULT_IMAGE, k8sManifest, parallelJobs, planHash, planJson, planText, shellQuote } from "../../sweep/emit.js";
import { mergeTable, onlyJobs, readJobResults, rowLabels, specsOf, tableCsv, tableJson } from "../../sweep/merge.js";
import { runJobs, WSIM_BIN } from "../../sweep/run.js";
import { expandJobs, readSpec, type Spec } from "../../sweep/spec.js";
import { isSpecial, writeStdout, writeWhole } from "../output.js";
import { Progress } from "../progress.js";

export interface SweepPlanOptions {
  format?: string;
  emit: string;
  output?: string;
  wsim?: string;
  out?: string;
  retry?: string;
  image?: string;
  claim?: string;
  parallelism?: string;
  given: string[];
}

export interface SweepRunOptions {
  out?: string;
  jobs?: string;
  index?: string;
  /** with --index: the job id the job file expects at that index */
  job?: string;
  /** with --index: the plan's hash (emit.ts planHash) the manifest expects */
  planHash?: string;
  retry: string;
  force?: boolean;
}

export interface SweepMergeOptions {
  counters: string[];
  format?: string;
  output?: string;
  html?: string;
  /** keep only this spec's current jobs */
  spec?: string;
}

/** `wsim sweep plan SPEC`: the job list, or with --emit a file for GNU parallel or Kubernetes. */
export async function sweepPlanCommand(specPath: string, o: SweepPlanOptions): Promise<void> {
  const only: Record<string, string[]> = { plan: ["format"], parallel: ["out", "retry"], k8s: ["image", "claim", "parallelism", "retry"] };
  if (!(o.emit in only)) throw new UsageError(`--emit: expected plan, parallel or k8s, got "${o.emit}"`);
  for (const [emit, keys] of Object.entries(only))
    for (const k of keys)
      if (o.given.includes(k) && !only[o.emit]!.includes(k)) throw new UsageError(`--${k} is for --emit ${emit}${emit === "plan" ? " (the default)" : ""}: it does nothing with --emit ${o.emit}`);
  const retry = count("--retry", o.retry ?? "0", 0);
  if (specPath === "-" && o.emit !== "plan")
    throw new UsageError(`--emit ${o.emit}: ${o.emit === "k8s" ? "each pod runs" : "each line runs"} \`wsim sweep run SPEC --index I\`, which reads the spec again: give the spec as a file, not - (standard input)`);
  // a PersistentVolumeClaim's name is a DNS-1123 subdomain: Kubernetes would refuse the Job
  if (o.claim !== undefined && !(o.claim.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(o.claim)))
    throw new UsageError(`--claim: a PersistentVolumeClaim's name is lowercase letters, digits, - and . (a DNS-1123 subdomain, at most 253 characters, starting and ending with a letter or digit), got "${o.claim}"`);
  const spec = readSpecWarning(specPath);
  const jobs = expandJobs(spec);
  const wsim = o.wsim ?? shellQuote(WSIM_BIN);
  let text: string;
  if (o.emit === "parallel") {
    outputFormat(o.output, undefined, { ".txt": "text" }, "--emit parallel writes a job file (one command a line) as text", false);
    // each line would fail on it: say so now, not once per line
    if (o.out !== undefined) outDirUsable(o.out);
    text = parallelJobs(spec, jobs, wsim, o.out ?? defaultOut(spec), retry);
  } else if (o.emit === "k8s") {
    // the pods see the claim at /sweep only: an absolute path in the spec names a file they do not have
    const abs = [...new Set(jobs.flatMap((j) => [j.trace, ...(j.machine !== null && !(j.machine in PRESETS) ? [j.machine] : [])]).filter((f) => isAbsolute(f)))];
    if (abs.length)
      throw new UsageError(`--emit k8s: the pods see only the claim, at /sweep, so these absolute paths in the spec would not exist in them: ${abs.join(", ")}; name them relative to the spec's directory (and copy them onto the claim with it)`);
    const format = outputFormat(o.output, undefined, { ".yaml": "yaml", ".yml": "yaml", ".json": "json" }, "--emit k8s writes a manifest as YAML or JSON", false) ?? "yaml";
    text = k8sManifest(spec, jobs, {
      image: o.image ?? DEFAULT_IMAGE,
      claim: o.claim ?? "wsim-sweep",
      parallelism: count("--parallelism", o.parallelism ?? "10", 1),
      retry,
      json: format === "json",
    });
  } else {
    if (o.format !== undefined && o.format !== "text" && o.format !== "json") throw new UsageError(`--format: expected text or json, got "${o.format}"`);
    const format = outputFormat(o.output, o.format, { ".txt": "text", ".json": "json" }, "the plan is text or json") ?? o.format ?? "text";
    text = format === "json" ? planJson(spec, jobs, wsim) : planText(spec, jobs, wsim);
  }
  if (o.output === undefined || o.output === "-") await writeStdout(text);
  else writeWhole(o.output, text);
}

/**
 * `wsim sweep run SPEC`: runs the jobs (all, or `--index I`) with `--jobs N` children. Returns
 * the exit code: 0 every job ran or was up to date, 1 some failed (recorded, the others ran).
 * SIGINT/SIGTERM kill the children (no partial output) and exit 130/143.
 */
export async function sweepRunCommand(specPath: string, o: SweepRunOptions): Promise<number> {
  const n = count("--jobs", o.jobs ?? String(availableParallelism()), 1);
  const retry = count("--retry", o.retry, 0);
  if (specPath === "-" && o.out === undefined) throw new UsageError("sweep run -: a spec on standard input has no name to name the output directory by: add --out DIR");
  const spec = readSpecWarning(specPath);
  let jobs = expandJobs(spec);
  if (o.index !== undefined) {
    const i = count("--index", o.index, 0);
    const stale = "the spec changed since this job file was emitted";
    if (o.planHash !== undefined && o.planHash !== planHash(jobs))
      throw new UsageError(`--plan-hash ${o.planHash}: ${stale}: the plan (its ${jobs.length} job ids) now hashes to ${planHash(jobs)}; emit it again`);
    if (i >= jobs.length)
      throw new UsageError(o.job !== undefined ? `--index ${i} --job ${o.job}: ${stale}: it now has ${jobs.length} jobs, 0..${jobs.length - 1}; emit it again` : `--index ${i}: the sweep has ${jobs.length} jobs, 0..${jobs.length - 1}`);
    if (o.job !== undefined && jobs[i]!.id !== o.job) throw new UsageError(`--job ${o.job}: ${stale}: job ${i} is now ${jobs[i]!.id}, not ${o.job}; emit it again`);
    jobs = [jobs[i]!];
  } else if (o.job !== undefined || o.planHash !== undefined) throw new UsageError(`--${o.job !== undefined ? "job" : "plan-hash"} checks the job --index I selects: give --index too`);
  // the summary names it absolute, whether given or the default
  const out = resolve(o.out ?? defaultOut(spec));
  outDirUsable(o.out ?? out);
  const progress = new Progress(process.stderr);
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    progress.done();
    process.stderr.write(`wsim sweep: ${sig}: stopping the running jobs; their outputs are not written. Run the same command again to finish the rest.\n`);
    ac.abort();
    process.exitCode = sig === "SIGINT" ? 130 : 143;
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let s;
  try {
    s = await runJobs(spec, jobs, {
      out,
      jobs: n,
      retry,
      force: o.force,
      signal: ac.signal,
      onProgress: (p) => progress.bar(p.done, p.total, [p.failed && `${p.failed} failed`, p.skipped && `${p.skipped} up to date`, `${p.running} running`].filter(Boolean).join(", ")),
      log: (line) => {
        progress.done();
        process.stderr.write(`wsim sweep: ${line}\n`);
      },
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    progress.done();
  }
  if (s.interrupted) return (process.exitCode as number) || 130;
  process.stderr.write(
    `wsim sweep: ${s.total} job${s.total === 1 ? "" : "s"}: ${s.ran} ran, ${s.skipped} up to date, ${s.failed} failed; outputs in ${out}` +
      (s.failed ? ` (failures in ID.failed.json; wsim sweep merge ${shellQuote(out)} lists them)` : "") +
      "\n",
  );
  return s.failed ? 1 : 0;
}

/** `wsim sweep merge DIR`: the table (CSV or JSON) and, with --html, the report of the ok jobs overlaid. */
export async function sweepMergeCommand(dir: string, o: SweepMergeOptions): Promise<void> {
  if (o.format !== undefined && o.format !== "csv" && o.format !== "json") throw new UsageError(`--format: expected csv or json, got "${o.format}"`);
  const format = outputFormat(o.output, o.format, { ".csv": "csv", ".json": "json" }, "the table is csv or json") ?? o.format ?? "csv";
  if (o.html !== undefined && !/\.html?$/i.test(o.html)) throw new UsageError(`--html ${o.html}: the report is HTML: name the file .html`);
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    throw new UsageError(`${dir}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such directory" : describeErrno(e)} (give the output directory of wsim sweep run)`);
  }
  if (!st.isDirectory()) throw new UsageError(`${dir}: not a directory (give the output directory of wsim sweep run, not a file in it)`);
  const read = readJobResults(dir);
  let results = read.results;
  const notes = read.notes;
  if (o.spec !== undefined) {
    if (o.spec === "-") throw new UsageError("--spec -: give the spec as a file (the directory's jobs are matched against it)");
    const only = onlyJobs(results, expandJobs(readSpec(o.spec)));
    results = only.results;
    if (only.left) notes.push(`${only.left} output${only.left === 1 ? "" : "s"} of jobs not in ${o.spec} (an earlier version of it, or another spec) left out`);
    if (only.missing) notes.push(`${only.missing} of ${o.spec}'s jobs have no output or failure record in ${dir} yet`);
  } else if (specsOf(results) > 1)
    notes.push(`warning: ${dir} holds outputs run from ${specsOf(results)} specs (or versions of one): the outputs of jobs a spec no longer has are in this table too; wsim sweep merge ${shellQuote(dir)} --spec SPEC keeps only SPEC's current jobs`);
  for (const n of notes) process.stderr.write(`wsim sweep merge: ${n}\n`);
  if (!results.length) throw new DataError(dir, 0, o.spec === undefined ? "no job outputs (ID.json) or failure records (ID.failed.json) here: run wsim sweep run SPEC --out DIR first" : `no output of ${o.spec}'s jobs here: run wsim sweep run ${shellQuote(o.spec)} --out ${shellQuote(dir)} first`);
  const table = mergeTable(results, o.counters);
  if (o.html !== undefined) {
    const { readInput } = await import("../../report/run-file.js");
    const { renderReport } = await import("../../report/html.js");
    const ok = table.rows.filter((r) => r.status === "ok");
    const names = rowLabels(ok);
    const runs = ok.map((r, i) => {
      const doc = readInput(r.file);
      if (doc.kind !== "run") throw new DataError(r.file, 0, "not a run");
      return { name: names[i]!, run: doc.run };
    });
    // the table of the failures is still what the user needs: the report alone is left out
    if (!runs.length) process.stderr.write(`wsim sweep merge: warning: every job failed: no run to draw, ${o.html} not written; the table lists the failures\n`);
    else writeWhole(o.html, renderReport({ runs }));
  }
  const text = format === "json" ? tableJson(table) : tableCsv(table);
  if (o.output === undefined || o.output === "-") await writeStdout(text);
  else writeWhole(o.output, text);
}

// --- internal ---

/**
 * The format -o FILE names by its extension (a trailing .gz gzips, as for wsim replay), from
 * `exts`; undefined for standard output or a name without one. An extension not in `exts`, or
 * one that contradicts --format, is a usage error: the file would not be what its name says.
 */
function outputFormat(output: string | undefined, format: string | undefined, exts: Record<string, string>, what: string, gz = true): string | undefined {
  if (output === undefined || output === "-") return undefined;
  const base = output.replace(/^.*\//, "");
  const isGz = /\.gz$/i.test(base);
  const name = base.replace(/\.gz$/i, "");
  const dot = name.lastIndexOf(".");
  const names = Object.keys(exts).join(", ") + (gz ? " (optionally + .gz)" : "");
  if (dot <= 0) {
    // a device, FIFO or socket (/dev/stdout, a named pipe) has no extension: written as - is, as wsim convert does
    if (!isGz && isSpecial(output)) return undefined;
    throw new UsageError(`-o ${output}: ${what}: name it ${names}${isGz ? ", not .gz alone" : ""} (or - for standard output)`);
  }
  const ext = name.slice(dot).toLowerCase();
  const f = exts[ext];
  if (f === undefined) throw new UsageError(`-o ${output}: ${what}: name it ${names}, not ${ext}${isGz ? ".gz" : ""}`);
  if (isGz && !gz) throw new UsageError(`-o ${output}: ${what}, read by other tools as it is: name it ${names}, not ${ext}.gz`);
  if (format !== undefined && format !== f) throw new UsageError(`-o ${output}: --format ${format} contradicts the extension ${ext} (${f}): name it for ${format}, or drop --format`);
  return f;
}

/** A usage error when DIR (--out) is an existing non-directory, or a path through one. */
function outDirUsable(dir: string): void {
  try {
    if (!statSync(dir).isDirectory()) throw new UsageError(`--out ${dir}: is not a directory (the outputs go in it, one ID.json a job)`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR") throw new UsageError(`--out ${dir}: a part of the path is a file, not a directory: cannot make the output directory there`);
    /* ENOENT: not there yet: made */
  }
}

/** readSpec, its warnings on stderr. */
function readSpecWarning(path: string): Spec {
  const spec = readSpec(path);
  for (const n of spec.notes) process.stderr.write(`wsim sweep: warning: ${n}\n`);
  return spec;
}

/** OUT when --out is not given: SPEC's name + `.out`, beside the spec (`sweep.json` → `sweep.out`). */
function defaultOut(spec: Spec): string {
  return join(spec.dir, basename(spec.path).replace(/\.(json|ya?ml)$/i, "") + ".out");
}

function count(flag: string, v: string, min: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > 1e6) throw new UsageError(`${flag}: expected an integer ${min} or more, got "${v}"`);
  return Number(v);
}
