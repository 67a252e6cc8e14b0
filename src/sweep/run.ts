/**
 * Running a sweep's jobs on this machine: each job is a `wsim replay ... -f json` child process
 * (run in the spec's directory), at most `jobs` at a time. A job's output is the replay's JSON
 * with a `sweep` record of its inputs added at the end, written to `OUT/ID.json` whole or not
 * at all (writeWhole: a temporary file renamed into place). A job whose output exists and
 * records the same inputs (id, the trace's and machine file's sha256, wsim's version) is
 * skipped, so a sweep stopped by a crash or Ctrl-C resumes where it was.
 *
 * A job that fails leaves `OUT/ID.failed.json` (its inputs, exit code, signal and stderr's last
 * line) and the others go on; exit 70 (a wsim bug, a crash) is retried `retry` times. Aborting
 * (the signal) kills the children: no output of theirs is written.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, mkdirSync, readFileSync, unlinkSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DataError, describeErrno } from "../errors.js";
import { PRESETS } from "../machine/machine.js";
import { writeWhole } from "../cli/output.js";
import { WSIM_VERSION } from "../version.js";
import type { Job, Spec } from "./spec.js";

/** bin/wsim of this installation: what the jobs run (with this Node). */
export const WSIM_BIN = fileURLToPath(new URL("../../bin/wsim", import.meta.url));

/** The `sweep` record a job's output carries: its inputs, as `sweep run` compares them. */
export interface JobRecord {
  id: string;
  index: number;
  trace: string;
  trace_sha256: string;
  /** preset name or machine file as the spec names it; null: the trace's own */
  machine: string | null;
  /** sha256 of the machine file; null for a preset or the trace's own */
  machine_sha256: string | null;
  set: Record<string, string>;
  replay: Record<string, string | true>;
  wsim_version: string;
  /** sha256 of the spec's text when the job ran (older outputs lack it): merge tells specs apart by it */
  spec_sha256?: string;
  /** what ran: `wsim` then these, in the spec's directory */
  command: string[];
}

/** `ID.failed.json`: the record, and how the job failed. */
export interface FailedRecord {
  sweep: JobRecord;
  exit_code: number | null;
  signal: string | null;
  /** stderr's last non-empty line */
  error: string;
  attempts: number;
}

export interface RunProgress {
  total: number;
  done: number;
  skipped: number;
  failed: number;
  running: number;
}

export interface RunOptions {
  /** the output directory (created) */
  out: string;
  /** children at a time */
  jobs: number;
  /** runs of a job again after exit 70 */
  retry: number;
  /** the wsim each job runs (default WSIM_BIN, with this Node) */
  bin?: string;
  /** run even the jobs whose output is up to date */
  force?: boolean;
  /** aborting kills the children and ends the run (interrupted: true) */
  signal?: AbortSignal;
  onProgress?: (p: RunProgress) => void;
  /** a line about a job (a failure, a retry) */
  log?: (line: string) => void;
}

export interface RunSummary extends RunProgress {
  ran: number;
  failedJobs: { job: Job; record: FailedRecord }[];
  interrupted: boolean;
}

/** Runs the jobs (see the file's comment). Throws DataError when OUT cannot be made or written. */
export async function runJobs(spec: Spec, jobs: Job[], o: RunOptions): Promise<RunSummary> {
  const out = resolve(o.out);
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new DataError(o.out, 0, `cannot make the output directory: ${describeErrno(e)}`);
  }
  const hashes = new Map<string, Promise<string>>();
  const hashOf = (file: string) => {
    const p = resolve(spec.dir, file);
    if (!hashes.has(p)) hashes.set(p, sha256File(p));
    return hashes.get(p)!;
  };
  const s: RunSummary = { total: jobs.length, done: 0, skipped: 0, failed: 0, running: 0, ran: 0, failedJobs: [], interrupted: false };
  const children = new Set<ChildProcess>();
  const onAbort = () => {
    s.interrupted = true;
    for (const c of children) c.kill("SIGTERM");
  };
  o.signal?.addEventListener("abort", onAbort);
  const queue = [...jobs];
  const worker = async () => {
    for (let job = queue.shift(); job && !s.interrupted; job = queue.shift()) {
      const rec = await recordOf(spec, job, hashOf);
      const file = `${out}/${job.id}.json`;
      const failedFile = `${out}/${job.id}.failed.json`;
      if (!o.force && upToDate(file, rec)) {
        s.skipped++;
        s.done++;
        o.onProgress?.(s);
        continue;
      }
      let r: ChildResult;
      let attempts = 0;
      s.running++;
      o.onProgress?.(s);
      for (;;) {
        attempts++;
        r = await runChild(o.bin ?? WSIM_BIN, spec.dir, job.args, children);
        // Ctrl-C on a terminal reaches the children too: one may be seen dead before the abort
        if (r.signal === "SIGINT" || r.signal === "SIGTERM") await new Promise((t) => setTimeout(t, 200));
        if (s.interrupted || r.code !== 70 || attempts > o.retry) break;
        o.log?.(`job ${job.index} ${job.id} crashed (exit 70), retrying (${attempts} of ${o.retry}): ${r.lastLine}`);
      }
      s.running--;
      if (s.interrupted) break;
      if (r.code === 0) {
        writeWhole(file, withRecord(r.stdout, rec));
        removeIfThere(failedFile);
        s.ran++;
      } else {
        const f: FailedRecord = { sweep: rec, exit_code: r.code, signal: r.signal, error: r.lastLine, attempts };
        writeWhole(failedFile, JSON.stringify(f, null, 2) + "\n");
        removeIfThere(file); // an output of other inputs: stale
        s.failed++;
        s.failedJobs.push({ job, record: f });
        o.log?.(`job ${job.index} ${job.id} failed (${r.signal ? `signal ${r.signal}` : `exit ${r.code}`}): ${r.lastLine || "(nothing on stderr)"}`);
      }
      s.done++;
      o.onProgress?.(s);
    }
  };
  // an error of the sweep itself (OUT cannot be written: a full disk) stops every job
  const guarded = () =>
    worker().catch((e) => {
      onAbort();
      throw e;
    });
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(o.jobs, jobs.length)) }, guarded));
  } finally {
    o.signal?.removeEventListener("abort", onAbort);
  }
  return s;
}

/** The record a job's output must carry to count as up to date. */
export async function recordOf(spec: Spec, job: Job, hashOf: (file: string) => Promise<string>): Promise<JobRecord> {
  const machineFile = job.machine !== null && !(job.machine in PRESETS);
  return {
    id: job.id,
    index: job.index,
    trace: job.trace,
    trace_sha256: await hashOf(job.trace),
    machine: job.machine,
    machine_sha256: machineFile ? await hashOf(job.machine!) : null,
    set: Object.fromEntries(job.set),
    replay: Object.fromEntries(job.replay),
    wsim_version: WSIM_VERSION,
    ...(spec.sha256 ? { spec_sha256: spec.sha256 } : {}),
    command: ["replay", ...job.args],
  };
}

// --- internal ---

interface ChildResult {
  code: number | null;
  signal: string | null;
  stdout: Buffer;
  lastLine: string;
}

function runChild(bin: string, cwd: string, args: string[], children: Set<ChildProcess>): Promise<ChildResult> {
  return new Promise((done) => {
    const c = spawn(process.execPath, [bin, "replay", ...args], { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    children.add(c);
    const out: Buffer[] = [];
    let err = "";
    c.stdout!.on("data", (b: Buffer) => out.push(b));
    c.stderr!.on("data", (b: Buffer) => {
      err = (err + b.toString("utf8")).slice(-65536);
    });
    let finished = false;
    const finish = (code: number | null, signal: string | null) => {
      if (finished) return;
      finished = true;
      children.delete(c);
      const lines = err.split("\n").map((l) => l.trimEnd()).filter(Boolean);
      done({ code, signal, stdout: Buffer.concat(out), lastLine: lines[lines.length - 1] ?? "" });
    };
    c.on("error", (e) => {
      err += `\ncannot run ${bin}: ${describeErrno(e)}`;
      finish(127, null);
    });
    c.on("close", (code, signal) => finish(code, signal));
  });
}

/** The replay's JSON with `"sweep": record` added as its last key (the rest byte for byte). */
function withRecord(json: Buffer, rec: JobRecord): string {
  const text = json.toString("utf8");
  const end = text.lastIndexOf("}");
  if (!text.trimStart().startsWith("{") || end < 0) throw new DataError("-", 0, `wsim replay ${rec.command.slice(1).join(" ")}: its output is not a JSON object`);
  const body = JSON.stringify(rec, null, 2).replace(/\n/g, "\n  ");
  return `${text.slice(0, end).trimEnd()},\n  "sweep": ${body}\n}\n`;
}

/** Whether `file` is a job output recording these inputs. */
function upToDate(file: string, rec: JobRecord): boolean {
  let doc: { sweep?: Partial<JobRecord> };
  try {
    doc = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return false;
  }
  const r = doc?.sweep;
  return !!r && r.id === rec.id && r.trace_sha256 === rec.trace_sha256 && r.machine_sha256 === rec.machine_sha256 && r.wsim_version === rec.wsim_version;
}

function sha256File(path: string): Promise<string> {
  return new Promise((done, fail) => {
    const h = createHash("sha256");
    createReadStream(path)
      .on("data", (b) => h.update(b))
      .on("end", () => done(h.digest("hex")))
      .on("error", (e) => fail(new DataError(path, 0, `cannot read: ${describeErrno(e)}`)));
  });
}

function removeIfThere(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    /* not there */
  }
}
