/**
 * The functions `import … from "wsim"` gives, each checking its arguments first: a caller who
 * passes nothing, a string for an object or a misspelt option gets a UsageError that names the
 * function, the argument and what it takes, never a TypeError (or a DataError about file
 * `undefined`) from deep inside. The CLI calls the unchecked functions underneath; its own
 * option parsing already gives them the right shapes.
 */
import type { Readable } from "node:stream";
import { describeValue, isPlainObject } from "./args.js";
import { DataError, quoteInput, UsageError } from "./errors.js";
import { replay as replayUnchecked, type ReplayConfig } from "./replay.js";
import type { RunResult } from "./engine/result.js";
import { runKernel as runKernelUnchecked, type KernelConfig, type KernelResult } from "./kernel/kernel.js";
import { formatVmstat as formatVmstatUnchecked, formatBuddyinfo as formatBuddyinfoUnchecked } from "./procfs/procfs.js";
import { renderVmstat as renderVmstatUnchecked } from "./report/vmstat.js";
import { renderJson as renderJsonUnchecked } from "./report/json.js";
import { openTrace as openTraceUnchecked, type OpenedTrace, type OpenOptions } from "./trace/open.js";
import { GENERATORS as SPECS, knobValues, type KnobRange, type Row } from "./generate/generators.js";
import { Rng } from "./engine/rng.js";
import { COUNTER_NAMES, type CounterName } from "./stats/counters.js";
import { parseMachine, type Machine } from "./machine/machine.js";
import { MAX_ORDER } from "./mm/constants.js";

const FORMATS = ["csv", "ndjson", "json"];

/**
 * The keys of ReplayConfig (with EngineOptions'), for a misspelt option. A Record over
 * `keyof ReplayConfig`, so a field added to ReplayConfig does not compile until it is listed.
 */
const REPLAY_KEYS = Object.keys({
  trace: 1, machine: 1, set: 1, format: 1, csvEngine: 1, stdin: 1, onProgress: 1, daemons: 1,
  until: 1, drain: 1, check: 1, lenient: 1, closedLoop: 1, idleJumps: 1, interval: 1, onSample: 1, keepSeries: 1,
  pageblockMap: 1, pageblockMapAt: 1, onNote: 1, plugins: 1, worker: 1, zones: 1, startState: 1, onWarning: 1,
  paceMs: 1, rootMemcg: 1,
} satisfies Record<keyof Omit<ReplayConfig, "source">, 1>); // source: wsim diff's, not the library's

/**
 * Replays a trace and returns what `wsim replay --format json` prints (SPEC §5).
 *
 * @param cfg `{trace, machine?, zones?, startState?, onWarning?, set?, plugins?, format?, csvEngine?, worker?, stdin?, until?, drain?,
 *   check?, lenient?, closedLoop?, interval?, onSample?, keepSeries?, pageblockMap?, pageblockMapAt?, onProgress?, onNote?,
 *   paceMs?, rootMemcg?}`: `trace` a file path
 *   (CSV, NDJSON or JSON, gzip allowed) or `"-"` with `stdin`; `machine` a preset name, a
 *   machine file or a Machine object; `set` `["key=value", ...]`; `plugins` plug-in module paths
 *   (relative to the working directory; docs/plugins.md); `paceMs` and `rootMemcg` run the trace
 *   as `wsim compare`'s guest does (event k at its time + k × paceMs; every event in the root
 *   memcg); times in ms of virtual time
 * @returns the RunResult (`vmstat`, `nodes`, `workingset`, `reads`, `series`, ...)
 * @throws UsageError for a config of the wrong shape, an unknown tunable or value in `set`, an
 *   unknown preset; DataError (`file:line: what`) for a bad trace or machine file
 */
export async function replay(cfg: ReplayConfig): Promise<RunResult> {
  const f = "replay";
  config(f, cfg, 'e.g. replay({ trace: "traces/faults.csv" })', REPLAY_KEYS);
  tracePath(f, cfg.trace);
  const machine = machineArg(f, cfg.machine);
  strings(f, "set", cfg.set, '["key=value", ...]');
  strings(f, "plugins", cfg.plugins, '["plugin.mjs", ...]');
  oneOf(f, "format", cfg.format, FORMATS);
  oneOf(f, "csvEngine", cfg.csvEngine, ["fast", "csv-parse"]);
  if (cfg.worker !== undefined && cfg.worker !== true && cfg.worker !== false && cfg.worker !== "auto")
    throw new UsageError(`${f}: config.worker must be true, false or "auto", got ${describeValue(cfg.worker)}`);
  oneOf(f, "zones", cfg.zones, ["flat", "x86"]);
  if (cfg.startState !== undefined && typeof cfg.startState !== "string")
    throw new UsageError(`${f}: config.startState must be a directory path, got ${describeValue(cfg.startState)}`);
  for (const k of ["until", "drain", "paceMs"] as const) number(f, k, cfg[k], 0);
  if (cfg.interval !== undefined && !(typeof cfg.interval === "number" && cfg.interval > 0 && Number.isFinite(cfg.interval)))
    throw new UsageError(`${f}: config.interval must be a number of ms > 0, got ${describeValue(cfg.interval)}`);
  for (const k of ["check", "lenient", "closedLoop", "keepSeries", "pageblockMap", "rootMemcg"] as const) boolean(f, k, cfg[k]);
  if (cfg.pageblockMapAt !== undefined) {
    if (!Array.isArray(cfg.pageblockMapAt) || !cfg.pageblockMapAt.every((t) => typeof t === "number" && t >= 0 && Number.isFinite(t)))
      throw new UsageError(`${f}: config.pageblockMapAt must be an array of times in ms (numbers >= 0), got ${describeValue(cfg.pageblockMapAt)}`);
    if (cfg.pageblockMapAt.length && cfg.interval === undefined)
      throw new UsageError(`${f}: config.pageblockMapAt takes its maps at samples: give config.interval too`);
  }
  for (const k of ["onSample", "onProgress", "onNote", "onWarning"] as const) fn(f, k, cfg[k]);
  readable(f, "stdin", cfg.stdin);
  if (cfg.daemons !== undefined && !Array.isArray(cfg.daemons)) throw new UsageError(`${f}: config.daemons must be an array, got ${describeValue(cfg.daemons)}`);
  // onSample without interval would never be called: the CLI's rule for --interval (review A10)
  if (cfg.onSample !== undefined && cfg.interval === undefined)
    throw new UsageError(`${f}: config.onSample is called once per config.interval ms of virtual time: give config.interval, or drop onSample`);
  try {
    return await replayUnchecked(machine === cfg.machine ? cfg : { ...cfg, machine });
  } catch (e) {
    throw librarySetError(f, e, (cfg.set ?? []) as readonly string[]);
  }
}

/**
 * Replays a trace on a real Linux kernel in QEMU and returns what `wsim kernel --format json`
 * prints.
 *
 * @param cfg `{trace, memMiB, numaMiB, timeoutS, maxGapMs, kernel?, swapMiB?, machine?, set?,
 *   format?, lru?, kalloc?, fillDma?, append?, keep?, stdin?, log?}` (sizes in MiB, times in
 *   seconds and ms)
 * @throws UsageError for a config of the wrong shape; EnvironmentError when QEMU, gcc or the
 *   kernel is missing or the guest fails; DataError for a bad trace
 */
export async function runKernel(cfg: KernelConfig): Promise<KernelResult> {
  const f = "runKernel";
  config(f, cfg, 'e.g. runKernel({ trace: "t.csv", memMiB: 256, numaMiB: [], timeoutS: 600, maxGapMs: 10000 })');
  tracePath(f, cfg.trace);
  const machine = machineArg(f, cfg.machine);
  strings(f, "set", cfg.set, '["key=value", ...]');
  strings(f, "append", cfg.append, '["param=value", ...]');
  oneOf(f, "format", cfg.format, FORMATS);
  oneOf(f, "lru", cfg.lru, ["mglru", "classic"]);
  for (const k of ["memMiB", "timeoutS", "maxGapMs"] as const) {
    if (cfg[k] === undefined) throw new UsageError(`${f}: config.${k} is required (a number)`);
    number(f, k, cfg[k], k === "maxGapMs" ? 0 : 1);
  }
  number(f, "swapMiB", cfg.swapMiB, 0);
  if (!Array.isArray(cfg.numaMiB) || !cfg.numaMiB.every((x) => typeof x === "number" && x > 0))
    throw new UsageError(`${f}: config.numaMiB must be an array of node sizes in MiB ([] for none), got ${describeValue(cfg.numaMiB)}`);
  if (cfg.kernel !== undefined && (typeof cfg.kernel !== "string" || cfg.kernel === ""))
    throw new UsageError(`${f}: config.kernel must be the path of a bzImage, got ${describeValue(cfg.kernel)}`);
  for (const k of ["kalloc", "fillDma", "keep"] as const) boolean(f, k, cfg[k]);
  for (const k of ["stdin", "log"] as const) fn(f, k, cfg[k]);
  return runKernelUnchecked(machine === cfg.machine ? cfg : { ...cfg, machine });
}

/**
 * Opens a trace for reading in batches (`for await (const b of t.batches())`).
 *
 * @param path a file path (CSV, NDJSON or JSON; gzip allowed) or `"-"` for `opts.stdin`
 * @param opts `{format?: "csv" | "ndjson" | "json", engine?: "fast" | "csv-parse", stdin?}`
 * @throws UsageError for arguments of the wrong shape; DataError for an unreadable trace
 */
export async function openTrace(path: string, opts: OpenOptions = {}): Promise<OpenedTrace> {
  const f = "openTrace";
  if (typeof path !== "string" || path === "") throw new UsageError(`${f}: path must be a trace file's path or "-", got ${describeValue(path)}`);
  if (!isPlainObject(opts)) throw new UsageError(`${f}: opts must be an object {format?, engine?, stdin?}, got ${describeValue(opts)}`);
  oneOf(f, "format", opts.format, FORMATS, "opts");
  oneOf(f, "engine", opts.engine, ["fast", "csv-parse"], "opts");
  readable(f, "stdin", opts.stdin, "opts");
  return openTraceUnchecked(path, opts);
}

/**
 * /proc/vmstat's text (`name value` lines) for the names given.
 *
 * @param values every counter's value, indexed as COUNTER_NAMES (values[i] is COUNTER_NAMES[i])
 * @param names the counters to print, in order (names from COUNTER_NAMES)
 * @throws UsageError for arguments of the wrong shape or an unknown name
 */
export function formatVmstat(values: ArrayLike<number>, names: readonly CounterName[]): string {
  const f = "formatVmstat";
  if (!isArrayLike(values) || values.length < COUNTER_NAMES.length)
    throw new UsageError(`${f}: values must be an array of ${COUNTER_NAMES.length} numbers indexed as COUNTER_NAMES, got ${describeValue(values)}`);
  if (!Array.isArray(names)) throw new UsageError(`${f}: names must be an array of counter names (from COUNTER_NAMES), got ${describeValue(names)}`);
  for (const n of names) if (!COUNTER_NAMES.includes(n)) throw new UsageError(`${f}: unknown counter ${describeValue(n)} (see COUNTER_NAMES)`);
  return formatVmstatUnchecked(values, names);
}

/**
 * /proc/buddyinfo's text: a line per zone.
 *
 * @param zones `[{nid, name, nrFree}]`: node id, zone name, free blocks per order 0..10
 * @throws UsageError for arguments of the wrong shape
 */
export function formatBuddyinfo(zones: readonly { nid: number; name: string; nrFree: ArrayLike<number> }[]): string {
  const f = "formatBuddyinfo";
  if (!Array.isArray(zones)) throw new UsageError(`${f}: zones must be an array of {nid, name, nrFree}, got ${describeValue(zones)}`);
  for (const [i, z] of zones.entries())
    if (!isPlainObject(z) || typeof z.nid !== "number" || typeof z.name !== "string" || !isArrayLike(z.nrFree) || z.nrFree.length < MAX_ORDER)
      throw new UsageError(`${f}: zones[${i}] must be {nid: number, name: string, nrFree: ${MAX_ORDER} numbers}, got ${describeValue(z)}`);
  return formatBuddyinfoUnchecked(zones);
}

/**
 * `--format vmstat`'s text: a RunResult's `vmstat` as `name value` lines.
 *
 * @throws UsageError when `r` is not a result with a `vmstat` object
 */
export function renderVmstat(r: RunResult): string {
  if (!isPlainObject(r) || !isPlainObject(r.vmstat)) throw new UsageError(`renderVmstat: r must be what replay() returns (with a vmstat object), got ${describeValue(r)}`);
  return renderVmstatUnchecked(r);
}

/**
 * `--format json`'s text of a RunResult or KernelResult (indented, one trailing newline).
 *
 * @throws UsageError when `r` is not an object
 */
export function renderJson(r: object): string {
  if (!isPlainObject(r)) throw new UsageError(`renderJson: r must be what replay() or runKernel() returns, got ${describeValue(r)}`);
  return renderJsonUnchecked(r);
}

/** A generator of synthetic traces as the library gives it. */
export interface LibraryGenerator {
  kind: string;
  help: string;
  /** knob -> [default, help, allowed range {min, max, int?, above?}] */
  options: Record<string, [number, string, KnobRange]>;
  /**
   * The trace's rows (`{time_ms, op, pid, addr, ...}`, CSV fields by column name).
   *
   * @param options knobs (names as in `options`, e.g. `{pages: 1024, write_ratio: 0.5}`);
   *   omitted ones take their defaults
   * @param seed the generator's seed (default 1), as `wsim generate --seed`
   * @throws UsageError for an unknown knob, a knob that is not a number, or a bad seed
   */
  rows(options?: Record<string, number>, seed?: number): Generator<Row>;
}

/** The synthetic workloads of `wsim generate`, by kind (zipf, scan, fragment, thp, tiered, balloon, malloc-trim, fork-snapshot). */
export const GENERATORS: Readonly<Record<string, LibraryGenerator>> = Object.freeze(
  Object.fromEntries(
    Object.entries(SPECS).map(([kind, spec]) => [
      kind,
      Object.freeze({
        kind: spec.kind,
        help: spec.help,
        options: spec.options,
        rows(options: Record<string, number> = {}, seed = 1): Generator<Row> {
          const f = `GENERATORS.${kind}.rows`;
          const known = Object.keys(spec.options);
          if (!isPlainObject(options)) throw new UsageError(`${f}: options must be an object of knobs {${known.join(", ")}}, got ${describeValue(options)}`);
          for (const [k, v] of Object.entries(options)) {
            if (!known.includes(k)) throw new UsageError(`${f}: unknown knob "${k}" (knobs: ${known.join(", ")})`);
            if (typeof v !== "number" || !Number.isFinite(v)) throw new UsageError(`${f}: knob ${k} must be a number, got ${describeValue(v)}`);
          }
          // each knob in its range and the knobs together, as `wsim generate` checks them
          let knobs: Record<string, number>;
          try {
            knobs = knobValues(spec, (k) => (options[k] === undefined ? undefined : String(options[k])), (k) => `knob ${k}`);
          } catch (e) {
            throw e instanceof UsageError ? new UsageError(`${f}: ${e.message}`) : e;
          }
          if (!Number.isSafeInteger(seed)) throw new UsageError(`${f}: seed must be an integer, got ${describeValue(seed)}`);
          return spec.rows(knobs, new Rng(seed));
        },
      }),
    ]),
  ),
);

// --- internal ---

/**
 * An error about a `set` entry, as the engine words it for the command line (`--set KEY: …`),
 * renamed for the library: `replay: config.set[0] ("vm.swappiness=300"): …`. Other errors as they are.
 */
function librarySetError(f: string, e: unknown, set: readonly string[]): unknown {
  if (!(e instanceof UsageError) || !e.message.startsWith("--set ")) return e;
  const rest = e.message.slice("--set ".length);
  let i = set.findIndex((s) => rest.startsWith(`expects key=value, got ${quoteInput(s)}`) || rest.startsWith(`expects key=value, got "${s}"`));
  // the entry the message is about: its key named, its value quoted when the message quotes one
  const about = (s: string) => {
    const eq = s.indexOf("=");
    const key = s.slice(0, eq).trim();
    return eq > 0 && (rest.startsWith(`${key}:`) || rest.includes(quoteInput(key)));
  };
  if (i < 0) i = set.findIndex((s) => about(s) && rest.includes(quoteInput(s.slice(s.indexOf("=") + 1).trim())));
  if (i < 0) i = set.findIndex(about);
  const which = i < 0 ? "config.set" : `config.set[${i}] (${quoteInput(set[i]!)})`;
  return new UsageError(`${f}: ${which}: ${rest}`);
}

function config(f: string, cfg: unknown, example: string, keys?: readonly string[]): asserts cfg is Record<string, unknown> {
  if (!isPlainObject(cfg)) throw new UsageError(`${f}: expected a config object, ${example}; got ${describeValue(cfg)}`);
  if (keys)
    for (const k of Object.keys(cfg))
      if (!keys.includes(k)) throw new UsageError(`${f}: unknown option "${k}" (options: ${keys.join(", ")})`);
}

function tracePath(f: string, v: unknown): void {
  if (typeof v !== "string" || v === "") throw new UsageError(`${f}: config.trace must be a trace file's path, or "-" with config.stdin, got ${describeValue(v)}`);
}

/** a preset name or file path as it is; a Machine object checked as a machine file is (parseMachine) */
function machineArg(f: string, v: unknown): string | Machine | undefined {
  if (v === undefined || (typeof v === "string" && v !== "")) return v;
  if (!isPlainObject(v)) throw new UsageError(`${f}: config.machine must be a preset name, a machine file's path or a Machine object, got ${describeValue(v)}`);
  try {
    return parseMachine(v, "config.machine", () => 0);
  } catch (e) {
    if (e instanceof DataError) throw new UsageError(`${f}: config.machine: ${e.what}`);
    throw e;
  }
}

function strings(f: string, k: string, v: unknown, shape: string): void {
  if (v !== undefined && !(Array.isArray(v) && v.every((x) => typeof x === "string")))
    throw new UsageError(`${f}: config.${k} must be an array of strings ${shape}, got ${describeValue(v)}`);
}

function oneOf(f: string, k: string, v: unknown, values: readonly string[], obj = "config"): void {
  if (v !== undefined && !(typeof v === "string" && values.includes(v)))
    throw new UsageError(`${f}: ${obj}.${k} must be one of ${values.join(", ")}, got ${describeValue(v)}`);
}

function number(f: string, k: string, v: unknown, min: number): void {
  if (v !== undefined && !(typeof v === "number" && Number.isFinite(v) && v >= min))
    throw new UsageError(`${f}: config.${k} must be a finite number >= ${min}, got ${describeValue(v)}`);
}

function boolean(f: string, k: string, v: unknown): void {
  if (v !== undefined && typeof v !== "boolean") throw new UsageError(`${f}: config.${k} must be true or false, got ${describeValue(v)}`);
}

function fn(f: string, k: string, v: unknown): void {
  if (v !== undefined && typeof v !== "function") throw new UsageError(`${f}: config.${k} must be a function, got ${describeValue(v)}`);
}

function readable(f: string, k: string, v: unknown, obj = "config"): void {
  if (v !== undefined && !(typeof v === "object" && v !== null && typeof (v as Readable).pipe === "function"))
    throw new UsageError(`${f}: ${obj}.${k} must be a readable stream, got ${describeValue(v)}`);
}

function isArrayLike(v: unknown): v is ArrayLike<number> {
  return (Array.isArray(v) || ArrayBuffer.isView(v)) && Array.prototype.every.call(v, (x: unknown) => typeof x === "number");
}
