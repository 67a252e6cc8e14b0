/**
 * A sweep's spec (`wsim sweep SPEC.json|.yaml`) and the jobs it expands to. A spec names
 * traces (globs), machines, and the `--set` values to try: a grid (cartesian product, first
 * key outermost) and/or a list of combinations, with exclusions. Paths in a spec are relative
 * to the spec's own directory, so a spec and its files can move together (to another host, a
 * Kubernetes volume) and keep their job ids.
 *
 * A job's id is derived from what it replays as the spec names it: the trace's path, the
 * machine, the sorted `--set` pairs and the replay options (`faults-3f2a9c1e0b7d`: the trace's
 * base name, then 12 hex digits of a sha256). Content hashes of the files are not in the id;
 * they are recorded in each job's output, which is how `sweep run` knows an output is stale.
 *
 * Errors in a spec are DataError `SPEC:line: what` (exit 3); the line is the value's (JSON
 * via locateJson, YAML via the parser's ranges).
 */
import { createHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, resolve } from "node:path";
import { globSync, isDynamicPattern } from "tinyglobby";
import { isNode, LineCounter, parseDocument } from "yaml";
import { DataError, describeErrno, describeValue, quoteInput } from "../errors.js";
import { PRESETS } from "../machine/machine.js";
import { parseValue, suggestKeys, TUNABLE_BY_KEY } from "../machine/tunables.js";
import { jsonErrorLine, lineOf, locateJson } from "../trace/json-locate.js";
import { timeOption } from "../cli/time-option.js";
import { MAX_KEPT_SAMPLES } from "../engine/engine.js";

/** `replay` options a spec may give every job (`"replay": {"drain": 1000}`), in argv order. */
export const REPLAY_OPTIONS = ["interval", "until", "drain", "lenient"] as const;
type ReplayOption = (typeof REPLAY_OPTIONS)[number];

const KEYS = ["name", "description", "traces", "machines", "set", "grid", "list", "exclude", "replay", "plugins"];

/** A spec as read: everything checked, paths still as written. */
export interface Spec {
  /** the spec's path as given */
  path: string;
  /** its directory (absolute): paths in the spec are relative to it, and jobs run there */
  dir: string;
  /** `name`, else the file's base name without extensions: names the Kubernetes Job */
  name: string;
  traces: string[];
  /** null: the trace's own machine (no --machine) */
  machines: (string | null)[];
  set: [string, string][];
  grid: [string, string[]][];
  list: [string, string][][];
  exclude: Record<string, string>[];
  replay: [ReplayOption, string | true][];
  /** plug-in modules every job loads (`--plugin`, in order), relative to the spec's directory */
  plugins: string[];
  /** sha256 of the spec's text: recorded in each job's output, so merge can tell specs apart */
  sha256?: string;
  /** warnings about the spec (`SPEC:line: what`) for the command to print on stderr */
  notes: string[];
}

/** One replay of the sweep. */
export interface Job {
  /** position in the plan (0-based): `sweep run --index` and Kubernetes' completion index */
  index: number;
  /** stable id from the inputs as the spec names them: the output's file name */
  id: string;
  /** the trace as the spec's glob found it, relative to the spec's directory */
  trace: string;
  /** preset name or machine file (relative to the spec's directory); null: the trace's own */
  machine: string | null;
  /** the `--set` pairs in argv order: the spec's `set`, then the grid's keys, then the list's */
  set: [string, string][];
  replay: [string, string | true][];
  /** plug-in modules the job loads (the spec's plugins) */
  plugins: string[];
  /** `wsim replay ARGS` run in the spec's directory; ARGS end with `-f json` (output on stdout) */
  args: string[];
}

/**
 * Reads and checks a spec (JSON, or YAML by its extension .yaml/.yml). `-` reads standard input:
 * its paths are relative to the current directory, YAML unless it starts with `{`.
 */
export function readSpec(path: string): Spec {
  let text: string;
  try {
    text = readFileSync(path === "-" ? 0 : path, "utf8").replace(/^\uFEFF/, "");
  } catch (e) {
    throw new DataError(path, 0, `cannot read: ${describeErrno(e)}`);
  }
  const yaml = path === "-" ? !/^\s*\{/.test(text) : /\.ya?ml$/i.test(path);
  const { doc, lineAt } = yaml ? parseYaml(path, text) : parseJson(path, text);
  const spec = checkSpec(path, doc, lineAt);
  spec.sha256 = createHash("sha256").update(text).digest("hex");
  return spec;
}

/** Expands a spec to its jobs, in plan order: traces, then machines, then set combinations. */
export function expandJobs(spec: Spec, lineAt: (p: string) => number = () => 0): Job[] {
  return expand(spec, lineAt).jobs;
}

/** The jobs, and for each `exclude` entry whether it matched any job. */
function expand(spec: Spec, lineAt: LineAt): { jobs: Job[]; used: boolean[] } {
  const traces = expandTraces(spec, lineAt);
  const combos = setCombinations(spec);
  const jobs: Job[] = [];
  const used = spec.exclude.map(() => false);
  const ids = new Map<string, Job>();
  for (const trace of traces)
    for (const machine of spec.machines)
      for (const combo of combos) {
        const set = [...spec.set, ...combo];
        const hit = spec.exclude.map((e) => excludes(e, trace, machine, set));
        hit.forEach((h, i) => (used[i] ||= h));
        if (hit.some(Boolean)) continue;
        const id = jobId(trace, machine, set, spec.replay, spec.plugins);
        const twice = ids.get(id);
        if (twice)
          throw new DataError(spec.path, lineAt("/traces"), `job ${id} (${trace}, machine ${machine ?? "the trace's own"}, ${set.map(([k, v]) => `${k}=${v}`).join(" ") || "no --set"}) is planned twice, as job ${twice.index} and job ${jobs.length}: two jobs would write one output; give each combination once`);
        const args = [
          trace,
          ...(machine === null ? [] : ["-m", machine]),
          ...set.flatMap(([k, v]) => ["--set", `${k}=${v}`]),
          ...spec.replay.flatMap(([k, v]) => (v === true ? [`--${k}`] : [`--${k}`, v])),
          ...spec.plugins.flatMap((p) => ["--plugin", p]),
          "-f",
          "json",
        ];
        const job = { index: jobs.length, id, trace, machine, set, replay: spec.replay, plugins: spec.plugins, args };
        ids.set(id, job);
        jobs.push(job);
      }
  return { jobs, used };
}

/**
 * `base-hash12`: sha256 of the canonical JSON of {trace, machine, set (sorted), replay (sorted)}.
 * The same inputs always give the same id, whatever the order of the spec's keys or values.
 */
export function jobId(trace: string, machine: string | null, set: [string, string][], replay: [string, string | true][] = [], plugins: readonly string[] = []): string {
  const canon = JSON.stringify({
    trace: trace.split("\\").join("/"),
    machine,
    set: [...set].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
    replay: [...replay].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    // plugins change the output; a spec without them keeps the ids it always had
    ...(plugins.length ? { plugins: plugins.map((p) => p.split("\\").join("/")) } : {}),
  });
  const hash = createHash("sha256").update(canon).digest("hex").slice(0, 12);
  const base = basename(trace).replace(/(\.gz)?$/i, "").replace(/\.(csv|ndjson|jsonl|json)$/i, "").replace(/[^A-Za-z0-9_.-]+/g, "_").slice(0, 40);
  return `${base || "trace"}-${hash}`;
}

// --- internal ---

type LineAt = (path: string) => number;

function parseJson(path: string, text: string): { doc: unknown; lineAt: LineAt } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new DataError(path, jsonErrorLine(text, e), `invalid JSON: ${(e as Error).message}`);
  }
  // JSON.parse keeps the last of a repeated key, silently; YAML refuses it: so do we
  const lc = new LineCounter();
  const dup = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true }).errors.find((e) => e.code === "DUPLICATE_KEY");
  if (dup) {
    const m = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(dup.pos[0]));
    const key = m ? (JSON.parse(m[0]) as string) : "";
    throw new DataError(path, lc.linePos(dup.pos[0]).line, `key ${quoteInput(key)} is given twice in one object (JSON would keep the last silently): give each key once`);
  }
  const where = locateJson(text, 4);
  return { doc, lineAt: (p) => lineOf(where, p) };
}

function parseYaml(path: string, text: string): { doc: unknown; lineAt: LineAt } {
  const lc = new LineCounter();
  const d = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const err = d.errors[0];
  if (err) throw new DataError(path, err.linePos?.[0]?.line ?? lc.linePos(err.pos[0]).line, `invalid YAML: ${err.message.split("\n")[0]}`);
  const lineAt: LineAt = (p) => {
    const parts = p.split("/").slice(1).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    for (let n = parts.length; n >= 0; n--) {
      let node: unknown;
      try {
        node = d.getIn(parts.slice(0, n), true);
      } catch {
        continue; // a path into a scalar
      }
      if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
    }
    return 1;
  };
  return { doc: d.toJS(), lineAt };
}

function checkSpec(path: string, doc: unknown, lineAt: LineAt): Spec {
  const fail = (p: string, what: string): never => {
    throw new DataError(path, lineAt(p), what);
  };
  if (!isObject(doc)) fail("", `expected an object {traces, machines, grid, ...}, got ${describeValue(doc)}`);
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) {
    if (k === "seeds" || k === "seed" || k === "replicates")
      fail(`/${k}`, `${k}: wsim replay has no --seed: nothing in the model is random (the same trace, machine and tunables give the same output), so replicates would be identical; seed synthetic traces with wsim generate --seed N and list them under traces`);
    if (!KEYS.includes(k)) fail(`/${k}`, `unknown key ${quoteInput(k)}: a spec has ${KEYS.join(", ")}`);
  }
  const dir = path === "-" ? process.cwd() : resolve(dirname(path));
  const notes: string[] = [];
  let intervalNote: (() => void) | undefined;
  const strings = (key: string, v: unknown, allowNull = false): (string | null)[] => {
    // a list, always: a lone string is refused rather than guessed at (the README says so)
    if (!Array.isArray(v)) return fail(`/${key}`, `${key}: expected a list of ${key === "traces" ? "paths or globs" : "preset names or machine files"}, like ["${key === "traces" ? "traces/*.csv" : "default"}"], got ${describeValue(v)}`);
    const arr = v;
    if (!arr.length) fail(`/${key}`, `${key}: expected at least one entry`);
    return arr.map((x, i) => {
      const at = Array.isArray(v) ? `/${key}/${i}` : `/${key}`;
      if (x === null && allowNull) return null;
      if (typeof x !== "string" || !x) fail(at, `${key}${Array.isArray(v) ? `[${i}]` : ""}: expected a ${key === "traces" ? "path or glob" : "preset name or machine file"}${allowNull ? " (or null: the trace's own)" : ""}, got ${describeValue(x)}`);
      if (x === "-") fail(at, `${key}: "-" (standard input) cannot be replayed by many jobs: give a file`);
      return x as string;
    });
  };
  if (d.traces === undefined) fail("", "traces: missing: give the traces to replay, e.g. \"traces\": [\"traces/*.csv\"]");
  const traces = strings("traces", d.traces) as string[];
  // an entry repeated as written (./ aside) is a mistake; two globs that overlap are not (their files count once)
  traces.forEach((t, i) => {
    const j = traces.findIndex((u) => normPath(u) === normPath(t));
    if (j < i) fail(`/traces/${i}`, `traces[${i}]: ${quoteInput(t)} is given twice (also traces[${j}]): give each once`);
  });
  // "./m.machine.json" is "m.machine.json", as for traces: the job's id and exclude see one name
  const machines = d.machines === undefined || d.machines === null ? [null] : strings("machines", d.machines, true).map((m) => (m === null ? m : normPath(m)));
  machines.forEach((m, i) => {
    const j = machines.indexOf(m);
    if (j < i) fail(Array.isArray(d.machines) ? `/machines/${i}` : "/machines", `machines[${i}]: ${m === null ? "null (the trace's own)" : quoteInput(m)} is given twice (also machines[${j}]): its jobs would be planned twice`);
  });
  machines.forEach((m, i) => {
    if (m === null || m in PRESETS) return;
    const at = Array.isArray(d.machines) ? `/machines/${i}` : "/machines";
    try {
      if (!statSync(resolve(dir, m)).isFile()) fail(at, `machine ${quoteInput(m)}: not a file`);
    } catch (e) {
      if (e instanceof DataError) throw e;
      fail(at, `machine ${quoteInput(m)} is no preset (${Object.keys(PRESETS).join(", ")}) and no file beside the spec: ${describeErrno(e)}`);
    }
  });
  const value = (at: string, key: string, v: unknown): string => {
    if (typeof v === "number" && Number.isFinite(v)) v = String(v);
    if (typeof v !== "string") return fail(at, `${key}: expected a string or a number, got ${describeValue(v)}`);
    const t = TUNABLE_BY_KEY.get(key)!;
    // values that do not depend on the machine are checked now, the rest by each replay
    if (t.type !== "node" && t.type !== "intervals")
      try {
        parseValue(key, v, PRESETS.default!);
      } catch (e) {
        fail(at, (e as Error).message);
      }
    return v;
  };
  const tunable = (at: string, key: string) => {
    if (TUNABLE_BY_KEY.has(key)) return;
    const s = suggestKeys(key);
    fail(at, `unknown tunable ${quoteInput(key)}${s.length ? ` (did you mean ${s.join(", ")}?)` : ""}; \`wsim tunables\` lists them all`);
  };
  const pairs = (p: string, v: unknown, what: string): [string, string][] => {
    if (!isObject(v)) return fail(p, `${what}: expected an object of tunable to value, got ${describeValue(v)}`);
    return Object.entries(v).map(([k, x]) => {
      tunable(`${p}/${k}`, k);
      return [k, value(`${p}/${k}`, k, x)];
    });
  };
  const set = d.set === undefined ? [] : pairs("/set", d.set, "set");
  let grid: [string, string[]][] = [];
  if (d.grid !== undefined) {
    if (!isObject(d.grid)) fail("/grid", `grid: expected an object of tunable to a list of values, got ${describeValue(d.grid)}`);
    grid = Object.entries(d.grid as Record<string, unknown>).map(([k, vs]) => {
      tunable(`/grid/${k}`, k);
      if (!Array.isArray(vs) || !vs.length) fail(`/grid/${k}`, `grid ${k}: expected a non-empty list of values, got ${describeValue(vs)}`);
      const vals = (vs as unknown[]).map((x, i) => value(`/grid/${k}/${i}`, k, x));
      if (new Set(vals).size !== vals.length) fail(`/grid/${k}`, `grid ${k}: a value is given twice`);
      return [k, vals];
    });
  }
  let list: [string, string][][] = [];
  if (d.list !== undefined) {
    if (!Array.isArray(d.list) || !d.list.length) fail("/list", `list: expected a non-empty list of {tunable: value} combinations, got ${describeValue(d.list)}`);
    list = (d.list as unknown[]).map((c, i) => pairs(`/list/${i}`, c, `list[${i}]`));
    const canon = list.map((c) => JSON.stringify([...c].sort((a, b) => (a[0] < b[0] ? -1 : 1))));
    canon.forEach((c, i) => {
      const j = canon.indexOf(c);
      if (j < i) fail(`/list/${i}`, `list[${i}]: the same combination as list[${j}]: its jobs would be planned twice (two jobs writing one output)`);
    });
  }
  // a key given twice (set and grid, grid and a list entry) would make two --set of one key
  const setKeys = set.map(([k]) => k);
  for (const [k] of grid) if (setKeys.includes(k)) fail(`/grid/${k}`, `grid ${k}: also in "set": give each tunable in one place`);
  list.forEach((c, i) => {
    for (const [k] of c)
      if (setKeys.includes(k) || grid.some(([g]) => g === k)) fail(`/list/${i}/${k}`, `list[${i}] ${k}: also in ${setKeys.includes(k) ? '"set"' : '"grid"'}: give each tunable in one place`);
  });
  let exclude: Record<string, string>[] = [];
  if (d.exclude !== undefined) {
    if (!Array.isArray(d.exclude)) fail("/exclude", `exclude: expected a list of {tunable|trace|machine: value} patterns, got ${describeValue(d.exclude)}`);
    exclude = (d.exclude as unknown[]).map((e, i) => {
      if (!isObject(e) || !Object.keys(e).length) return fail(`/exclude/${i}`, `exclude[${i}]: expected {tunable|trace|machine: value, ...}, got ${describeValue(e)}`);
      return Object.fromEntries(
        Object.entries(e).map(([k, v]) => {
          if (k !== "trace" && k !== "machine") tunable(`/exclude/${i}/${k}`, k);
          if (k === "machine" && v === null) return [k, "\0own"];
          if ((k === "machine" || k === "trace") && typeof v === "string") return [k, normPath(v)];
          if (typeof v === "number" && Number.isFinite(v)) v = String(v);
          if (typeof v !== "string") fail(`/exclude/${i}/${k}`, `exclude[${i}] ${k}: expected a string or a number, got ${describeValue(v)}`);
          return [k, v as string];
        }),
      );
    });
  }
  let replay: [ReplayOption, string | true][] = [];
  if (d.replay !== undefined) {
    if (!isObject(d.replay)) fail("/replay", `replay: expected an object of replay options (${REPLAY_OPTIONS.join(", ")}), got ${describeValue(d.replay)}`);
    const r = d.replay as Record<string, unknown>;
    for (const k of Object.keys(r))
      if (!(REPLAY_OPTIONS as readonly string[]).includes(k)) fail(`/replay/${k}`, `replay: unknown option ${quoteInput(k)}: a spec may give ${REPLAY_OPTIONS.join(", ")} (the tunables go in set, grid or list)`);
    replay = REPLAY_OPTIONS.filter((k) => k in r).map((k): [ReplayOption, string | true] => {
      const v = r[k];
      if (k === "lenient") {
        if (typeof v !== "boolean") fail(`/replay/${k}`, `replay.lenient: expected true or false, got ${describeValue(v)}`);
        return [k, true];
      }
      // a number, as in wsim replay's flag: "1000" in quotes is a string, refused like any other type
      const s = typeof v === "number" ? String(v) : undefined;
      if (s === undefined) return fail(`/replay/${k}`, `replay.${k}: expected a number of ms (like 1000 or 0.5, not in quotes), got ${describeValue(v)}`);
      // wsim replay's own check, so that a value every job would refuse is refused here
      try {
        timeOption(k, s, k === "interval");
      } catch (e) {
        fail(`/replay/${k}`, `replay.${(e as Error).message.replace(/^--/, "")}`);
      }
      return [k, s];
    }).filter((e) => !(e[0] === "lenient" && r.lenient === false));
    if (r.interval !== undefined) {
      // a job's JSON keeps at most MAX_KEPT_SAMPLES samples, from 0 ms to the run's end:
      // min(last event + drain, until). Past it every job fails: refuse what surely is
      const iv = Number(r.interval), until = r.until === undefined ? Infinity : Number(r.until), drain = Number(r.drain ?? 0);
      const samples = (t: number) => Math.floor(t / iv) + 1;
      const cap = MAX_KEPT_SAMPLES.toLocaleString("en-US");
      const upTo = ((MAX_KEPT_SAMPLES - 1) * iv).toLocaleString("en-US", { maximumFractionDigits: 6 });
      if (samples(Math.min(drain, until)) > MAX_KEPT_SAMPLES)
        fail("/replay/interval", `replay.interval: ${r.interval} ms gives ${samples(Math.min(drain, until)).toLocaleString("en-US")} samples or more per job, more than the ${cap} a job's JSON keeps (samples run from 0 ms to the run's end): raise interval`);
      if (!(samples(until) <= MAX_KEPT_SAMPLES))
        intervalNote = () =>
          notes.push(`${path}:${lineAt("/replay/interval")}: replay.interval ${r.interval}: a job's JSON keeps at most ${cap} samples, so a job whose run (the trace's last event + drain${r.until === undefined ? "" : ", at most until"}) ends after ${upTo} ms fails; raise interval or set until if a trace is longer`);
    }
  }
  let name = path === "-" ? "stdin" : dnsLabel(basename(path).replace(/\.(json|ya?ml)$/i, ""));
  if (d.name !== undefined) {
    if (typeof d.name !== "string" || !/^[a-z0-9]([a-z0-9-]{0,50}[a-z0-9])?$/.test(d.name)) fail("/name", `name: expected a lowercase name of letters, digits and - (it names the Kubernetes Job), got ${describeValue(d.name)}`);
    name = d.name as string;
  }
  if (d.description !== undefined && typeof d.description !== "string") fail("/description", `description: expected a string, got ${describeValue(d.description)}`);
  // plug-in modules (issue 22): files beside the spec, loaded by every job in order
  let plugins: string[] = [];
  if (d.plugins !== undefined) {
    if (!Array.isArray(d.plugins)) fail("/plugins", `plugins: expected a list of module files, like ["policy.mjs"], got ${describeValue(d.plugins)}`);
    plugins = (d.plugins as unknown[]).map((x, i) => {
      if (typeof x !== "string" || !x) return fail(`/plugins/${i}`, `plugins[${i}]: expected a module file, got ${describeValue(x)}`);
      try {
        if (!statSync(resolve(dir, x)).isFile()) fail(`/plugins/${i}`, `plugin ${quoteInput(x)}: not a file`);
      } catch (e) {
        if (e instanceof DataError) throw e;
        fail(`/plugins/${i}`, `plugin ${quoteInput(x)}: no file beside the spec: ${describeErrno(e)}`);
      }
      return normPath(x);
    });
  }
  const spec: Spec = { path, dir, name, traces, machines, set, grid, list, exclude, replay, plugins, notes };
  // globs that find nothing are errors at their line: find out now, not in the plan
  const { jobs, used } = expand(spec, lineAt);
  // an exclusion that drops nothing is a typo ("./m.json", a value not in the grid), not a wish
  used.forEach((u, i) => {
    if (!u) fail(`/exclude/${i}`, `exclude[${i}] matches no job: each of its keys must be a job's (a trace glob, a machine as "machines" names it, a tunable's value from set, grid or list)`);
  });
  if (!jobs.length) fail("/exclude", "exclude: every job is excluded: the sweep has nothing to run");
  if (intervalNote) {
    // a plain CSV trace's last event is cheap to read (its tail): the run's end, so the samples, are known
    const r = d.replay as Record<string, unknown>;
    const iv = Number(r.interval), until = r.until === undefined ? Infinity : Number(r.until), drain = Number(r.drain ?? 0);
    let unknown = false;
    for (const t of new Set(jobs.map((j) => j.trace))) {
      const last = csvLastTime(resolve(dir, t));
      if (last === undefined) {
        unknown = true;
        continue;
      }
      const end = Math.min(last + drain, until);
      const n = Math.floor(end / iv) + 1;
      if (n > MAX_KEPT_SAMPLES)
        fail("/replay/interval", `replay.interval: ${r.interval} ms gives ${n.toLocaleString("en-US")} samples for ${t} (its run ends at ${end} ms: its last event${drain ? " + drain" : ""}), more than the ${MAX_KEPT_SAMPLES.toLocaleString("en-US")} a job's JSON keeps: raise interval${r.until === undefined ? " or set until" : ""}`);
    }
    if (unknown) intervalNote();
  }
  return spec;
}

/** Each pattern's files, sorted, in the order of the patterns; a file found twice counts once. */
function expandTraces(spec: Spec, lineAt: LineAt): string[] {
  const out: string[] = [];
  spec.traces.forEach((pat, i) => {
    const at = lineAt(`/traces/${i}`);
    let found: string[];
    if (isDynamicPattern(pat)) {
      // a glob such as "*" finds the spec itself and machine files too: they are no traces
      const all = globSync(pat, { cwd: spec.dir, onlyFiles: true, expandDirectories: false }).sort();
      // and the sweep's own outputs: job outputs in OUT directories (SPEC.out by default), a
      // merged table.csv or report.html, a job file: only a trace's extension, and a plain CSV
      // only when its header names time_ms (as a trace's does)
      found = all.filter(
        (f) =>
          resolve(spec.dir, f) !== resolve(spec.path) &&
          !/\.machine\.json$/i.test(f) &&
          TRACE_EXT.test(f) &&
          !/(^|\/)[^/]*\.out\//.test(f.split("\\").join("/")) &&
          !/\.failed\.json$/i.test(f) &&
          csvIsTrace(resolve(spec.dir, f)),
      );
      if (!found.length)
        throw new DataError(spec.path, at, `traces: ${quoteInput(pat)} matches no ${all.length ? "trace (a glob leaves out the spec, machine files, files without a trace's extension .csv, .ndjson, .jsonl, .json (+ .gz), CSV files whose header has no time_ms, and anything in a directory named *.out)" : "file"} (paths are relative to the spec's directory, ${spec.dir})`);
    } else {
      try {
        if (!statSync(resolve(spec.dir, pat)).isFile()) throw new DataError(spec.path, at, `traces: ${quoteInput(pat)} is not a file`);
      } catch (e) {
        if (e instanceof DataError) throw e;
        throw new DataError(spec.path, at, `traces: ${quoteInput(pat)}: cannot read: ${describeErrno(e)} (paths are relative to the spec's directory, ${spec.dir})`);
      }
      found = [isAbsolute(pat) ? pat : pat.replace(/^\.\//, "")];
    }
    for (const f of found) if (!out.includes(f)) out.push(f);
  });
  return out;
}

/** The names wsim replay reads as traces (by extension; .gz is gunzipped). */
const TRACE_EXT = /\.(csv|ndjson|jsonl|json)(\.gz)?$/i;

/** false for a plain .csv whose first line (not a # comment) has no time_ms column: a table, not a trace. */
function csvIsTrace(file: string): boolean {
  if (!/\.csv$/i.test(file)) return true;
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const b = Buffer.alloc(4096);
    const n = readSync(fd, b, 0, b.length, 0);
    const header = b.toString("utf8", 0, n).replace(/^\uFEFF/, "").split(/\r?\n/).find((l) => l.trim() && !l.startsWith("#"));
    return header === undefined || header.split(",").some((c) => c.trim() === "time_ms");
  } catch {
    return true; // replay says what is wrong with it
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The time of a plain CSV trace's last event (its last data line; times never go back), or
 * undefined when that is not cheap or not sure (gzip, another format, an odd line).
 */
function csvLastTime(file: string): number | undefined {
  if (!/\.csv$/i.test(file)) return undefined;
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const size = fstatSync(fd).size;
    const read = (at: number, n: number) => {
      const b = Buffer.alloc(Math.min(n, size - at));
      readSync(fd!, b, 0, b.length, at);
      return b.toString("utf8");
    };
    const lines = (t: string) => t.split(/\r?\n/).filter((l) => l.trim() && !l.startsWith("#"));
    const header = lines(read(0, 65536))[0];
    const col = header?.split(",").map((c) => c.trim()).indexOf("time_ms") ?? -1;
    const tail = lines(read(Math.max(0, size - 65536), 65536));
    const last = tail[tail.length - 1];
    if (col < 0 || last === undefined || last === header || last.includes('"')) return undefined;
    const v = last.split(",")[col]?.trim() ?? "";
    return /^\d+(\.\d+)?$/.test(v) ? Number(v) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The grid's points (first key outermost) times the list's entries; one empty one when neither is given. */
function setCombinations(spec: Spec): [string, string][][] {
  let combos: [string, string][][] = [[]];
  for (const [k, vals] of spec.grid) combos = combos.flatMap((c) => vals.map((v): [string, string][] => [...c, [k, v]]));
  if (spec.list.length) combos = combos.flatMap((c) => spec.list.map((l) => [...c, ...l]));
  return combos;
}

/** An exclusion drops a job when every key of it matches the job (`trace` by glob, as written). */
function excludes(e: Record<string, string>, trace: string, machine: string | null, set: [string, string][]): boolean {
  const sets = new Map(set);
  return Object.entries(e).every(([k, v]) => {
    if (k === "trace") return trace === v || matchGlob(v, trace);
    if (k === "machine") return v === "\0own" ? machine === null : machine === v;
    return sets.get(k) === v;
  });
}

/** A relative path without its leading "./" (as traces are named): one file, one name. */
function normPath(p: string): string {
  return isAbsolute(p) ? p : p.replace(/^(\.\/)+/, "");
}

function matchGlob(glob: string, s: string): boolean {
  const re = new RegExp("^" + glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*\*/g, "\0").replace(/\*/g, "[^/]*").replace(/\0/g, ".*").replace(/\?/g, "[^/]") + "$");
  return re.test(s);
}

/**
 * A file's name as a DNS-1123 label the Kubernetes Job's name can end with (`wsim-sweep-` + it
 * is at most 63): lowercase, [a-z0-9-], no leading or trailing dash, at most 52 characters;
 * `sweep-` and 6 hex digits of the name's sha256 when nothing is left (`__.json`).
 */
export function dnsLabel(s: string): string {
  const l = s.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/-+/g, "-").slice(0, 52).replace(/^-+|-+$/g, "");
  return l || `sweep-${createHash("sha256").update(s).digest("hex").slice(0, 6)}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
