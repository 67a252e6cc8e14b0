/**
 * One run end to end, with no CLI: open the trace, resolve the machine and tunables
 * (preset or file < the machine's own tunables < the trace's < --set), replay every batch
 * through the engine, and return the RunResult that every output format is made from.
 */
import type { Readable } from "node:stream";
import { existsSync } from "node:fs";
import { DataError, quoteInput, UsageError } from "./errors.js";
import { Engine, type EngineOptions } from "./engine/engine.js";
import { buildResult, zoneStarts, type GuestLike, type RunResult, type ZoneStart } from "./engine/result.js";
import { dirname, isAbsolute, join } from "node:path";
import { checkHostMemory, loadMachine, parseMachine, PRESETS, ZONES_KINDS, type Machine, type ZonesKind } from "./machine/machine.js";
import { Settings } from "./machine/settings.js";
import { machineZones } from "./machine/zones.js";
import { openTrace, type OpenedTrace } from "./trace/open.js";
import type { TraceFormat } from "./trace/types.js";
import { pageblockMap, type PageblockMap } from "./report/pageblock-map.js";
import { loadPlugins } from "./plugin/load.js";
import { loadStartState } from "./machine/start-state.js";
import { applyStartState, BOOT_PID } from "./mm/start-state.js";
import { paceBatch, rootMemcgBatch } from "./trace/guest-like.js";

export interface ReplayConfig extends Omit<EngineOptions, "daemons" | "plugins"> {
  /**
   * plug-in modules (`--plugin FILE.mjs`, repeatable): paths relative to the working
   * directory, loaded after the trace header's own `"plugins"` (relative to the trace's directory)
   */
  plugins?: readonly string[];
  /** a trace path, or `-` for standard input */
  trace: string;
  /** told, at the end, what the run did that a user may not expect (the CLI prints `note: ...`) */
  onNote?: (text: string) => void;
  /** preset name, JSON file path, or a Machine; default: the trace's own, else `default` */
  machine?: string | Machine;
  /** `key=value` writes applied after the trace's own tunables */
  set?: readonly string[];
  /** the trace format when the name does not say */
  format?: TraceFormat;
  /** CSV parser: the fast byte scanner (default) or csv-parse for everything */
  csvEngine?: "fast" | "csv-parse";
  /**
   * parse a CSV/NDJSON file in a worker thread while the engine replays: "auto" (default:
   * with 2+ CPUs, a file of 4 MiB or more, unless WSIM_WORKER=0), true, or false
   */
  worker?: boolean | "auto";
  stdin?: Readable;
  /**
   * the bytes of `trace` (not `-`), read already by the caller: a FIFO such as `<(cat t.csv)`
   * can be read once (wsim diff reads a side to tell an output from a trace). Not in the
   * library's API (library.ts)
   */
  source?: Readable;
  /** called after each batch with the events so far, the virtual time, and the bytes read of the file */
  onProgress?: (events: number, timeMs: number, bytes: number, total: number | null) => void;
  daemons?: EngineOptions["daemons"];
  /** keep the pageblock map at the end (`pageblock_map` in the result; for `wsim report`) */
  pageblockMap?: boolean;
  /**
   * also keep the map at these times (ms; needs `interval`): each taken at the first sample at
   * or after the time, into `pageblock_snapshots` (implies pageblockMap)
   */
  pageblockMapAt?: readonly number[];
  /** `--zones`: "flat" or "x86", replacing the machine's own zone layout */
  zones?: string;
  /**
   * `--start-state DIR`: start from DIR's buddyinfo and pagetypeinfo (src/mm/start-state.ts);
   * DIR/zoneinfo, when there, is the machine unless `machine` is given
   */
  startState?: string;
  /** told what a start state could not reproduce (default: standard error, `warning: ...`) */
  onWarning?: (text: string) => void;
  /**
   * virtual ms added per event, cumulatively: event k of the trace (from 0) runs at its time +
   * k × paceMs, rounded to the ns (`wsim compare`: the guest's time per event,
   * src/trace/guest-like.ts paceBatch); --until, the samples and the reads' times then go by
   * these times. 0 or absent: the trace's times. UsageError unless finite and 0 or more
   */
  paceMs?: number;
  /**
   * every event in the root memcg, as `wsim compare`'s guest runs the trace: `cg` dropped, and
   * `set`/`read` of memcg files of other memcgs removed (guest-like.ts rootMemcgBatch)
   */
  rootMemcg?: boolean;
}

/**
 * `--zones flat|x86`: the machine with that zone layout instead of its own (usage error for
 * another value, for a machine with an explicit zone list (a machine file's, a zoneinfo's), or
 * for "flat" on a machine that sets kernelcore/movablecore).
 */
export function withZones(machine: Machine, zones: string): Machine {
  if (!(ZONES_KINDS as readonly string[]).includes(zones))
    throw new UsageError(`--zones must be one of ${ZONES_KINDS.join(", ")}, got ${quoteInput(zones)}`);
  // a zone list (a machine file's "zones": [...] or a saved zoneinfo's) is the machine's own
  // layout, with spans, managed pages and marks that a computed layout would silently replace
  if (Array.isArray(machine.zones))
    throw new UsageError(
      `--zones ${zones}: machine ${quoteInput(machine.name)} gives its zones one by one (a zone list, or a saved /proc/zoneinfo), which --zones would replace; leave --zones out`,
    );
  if (zones === "flat" && (machine.kernelcore !== undefined || machine.movablecore !== undefined))
    throw new UsageError(`--zones flat: machine ${quoteInput(machine.name)} sets kernelcore/movablecore, which need the x86 layout`);
  const m: Machine = { ...machine, zones: zones as ZonesKind };
  try {
    machineZones(m);
  } catch (e) {
    throw new UsageError(`--zones ${zones}: machine ${quoteInput(machine.name)}: ${(e as Error).message}`);
  }
  if (machine.tunableAt) Object.defineProperty(m, "tunableAt", { value: machine.tunableAt, enumerable: false });
  return m;
}

/** Splits `key=value` (usage error otherwise). */
export function parseSetArg(s: string): [string, string] {
  const eq = s.indexOf("=");
  if (eq <= 0) throw new UsageError(`--set expects key=value, got "${s}"`);
  return [s.slice(0, eq).trim(), s.slice(eq + 1).trim()];
}

/**
 * The machine and tunables of a run: preset or file < the machine's own tunables < the
 * trace's < --set. Shared by `wsim replay` and `wsim kernel`.
 */
export function resolveSettings(trace: OpenedTrace, machineArg: string | Machine | undefined, set: readonly string[] = [], zones?: string): Settings {
  const sets = set.map(parseSetArg);
  let machine: Machine;
  if (typeof machineArg === "object") machine = machineArg;
  else if (machineArg !== undefined) machine = loadMachine(machineArg);
  else if (typeof trace.header.machine === "string") machine = loadTraceMachine(trace, trace.header.machine);
  else if (trace.header.machine !== undefined)
    machine = parseMachine(trace.header.machine, trace.name, trace.header.machineLine ?? (() => trace.header.machineAt ?? 1));
  else machine = loadMachine("default");
  if (zones !== undefined) machine = withZones(machine, zones);

  const settings = new Settings(machine);
  const own = trace.header.machine;
  settings.machineOrigin = {
    format: trace.format,
    overrode: machineArg !== undefined && own !== undefined ? (typeof own === "string" ? own : String((own as { name?: unknown }).name ?? "its own")) : undefined,
    named: machineArg === undefined && own !== undefined,
  };
  for (const [k, v] of Object.entries(machine.tunables)) {
    try {
      settings.set(k, v);
    } catch (e) {
      const at = machine.tunableAt;
      if (at) throw new DataError(at.file, at.line(k), `machine tunables: ${(e as Error).message}`);
      throw new DataError(typeof machineArg === "string" ? machineArg : trace.name, 0, `machine tunables: ${(e as Error).message}`);
    }
  }
  for (const t of trace.header.tunables ?? []) {
    try {
      settings.set(t.key, t.value);
    } catch (e) {
      throw new DataError(trace.name, t.line, (e as Error).message);
    }
  }
  for (const [k, v] of sets) {
    try {
      settings.set(k, v);
    } catch (e) {
      throw new UsageError(`--set ${(e as Error).message}`);
    }
  }
  return settings;
}

/**
 * The machine a trace names (`# wsim: machine=NAME`, an NDJSON `{"machine": NAME}` line, a
 * document's `"machine": NAME`): a preset, else a machine file's path relative to the
 * trace's directory (to the working directory for standard input). An unknown name is bad
 * data at the trace's line (exit 3).
 */
export function loadTraceMachine(trace: Pick<OpenedTrace, "name" | "header">, ref: string): Machine {
  const at = { file: trace.name, line: trace.header.machineAt ?? trace.header.machineLine?.("") ?? 1 };
  if (PRESETS[ref] || isAbsolute(ref) || trace.name === "-") return loadMachine(ref, at);
  const path = join(dirname(trace.name), ref);
  // a bare name is a file beside the trace if there is one, else an (unknown) preset
  if (!/[./]/.test(ref) && !existsSync(path)) return loadMachine(ref, at);
  return loadMachine(path, { ...at, ref });
}

/** JSON `start_state` of a run from `--start-state DIR`: where it came from and what it became. */
export interface StartStateJson {
  dir: string;
  /** pages on the free lists, on per-cpu lists, and the boot owner's movable and unmovable pages */
  free: number;
  pcp: number;
  boot_movable: number;
  boot_unmovable: number;
  /** the boot owner's movable pages that stay in use (wsim.boot_in_use), in pages */
  boot_in_use: number;
  /** DIR/lru_gen when it was read (the boot owner's pages placed by its generations), else null */
  lru_gen: string | null;
  warnings: string[];
  /** the counters that are not 0 once the state is laid out, before the first event (gauges such as nr_free_pages, nr_anon_pages) */
  vmstat: Record<string, number>;
  /** each zone's free pages and pageblocks per migratetype then */
  zones: ZoneStart[];
}

/**
 * The run of a trace: what `--format json` prints, with `pageblock_map` (the end) when
 * cfg.pageblockMap or cfg.pageblockMapAt, and `pageblock_snapshots` (earlier maps) with pageblockMapAt,
 * and `start_state` from cfg.startState. Errors: those of openTrace, resolveSettings, the plug-ins
 * and the engine (UsageError, DataError, PluginError); the trace file is closed either way.
 */
export async function replay(cfg: ReplayConfig): Promise<RunResult & { pageblock_map?: PageblockMap; pageblock_snapshots?: PageblockMap[]; start_state?: StartStateJson }> {
  const start = cfg.startState !== undefined ? loadStartState(cfg.startState) : undefined;
  const trace = await openTrace(cfg.trace, { format: cfg.format, engine: cfg.csvEngine, stdin: cfg.stdin, source: cfg.source, worker: cfg.worker ?? "auto" });
  try {
    return await replayOpened(cfg, trace, start);
  } finally {
    // a run that fails before its first event never reads the trace: close its file now (not
    // at garbage collection, which warns on standard error); a no-op once it was read
    trace.close?.();
  }
}

async function replayOpened(
  cfg: ReplayConfig,
  trace: OpenedTrace,
  start: ReturnType<typeof loadStartState> | undefined,
): Promise<RunResult & { pageblock_map?: PageblockMap; pageblock_snapshots?: PageblockMap[]; start_state?: StartStateJson }> {
  const pace = cfg.paceMs ?? 0;
  if (!(pace >= 0 && Number.isFinite(pace))) throw new UsageError(`paceMs must be a finite number of ms, 0 or more, got ${pace}`);
  const settings = resolveSettings(trace, cfg.machine ?? start?.zoneinfo ?? undefined, cfg.set, cfg.zones);
  if (cfg.machine === undefined && start?.zoneinfo && trace.header.machine !== undefined)
    cfg.onNote?.(
      `the machine is ${start.zoneinfo} (the start state's), not the one the trace names${typeof trace.header.machine === "string" ? ` (${trace.header.machine})` : ""}: give --machine to choose`,
    );
  // say what a huge machine needs before allocating it
  checkHostMemory(settings.machine);
  // the trace's own plugins (relative to its directory), then --plugin's
  const plugins = [
    ...(await loadPlugins(traceRelative(trace.name, trace.header.plugins ?? []), process.cwd())),
    ...(await loadPlugins(cfg.plugins ?? [])),
  ];
  const snapshots: PageblockMap[] = [];
  const wanted = [...(cfg.pageblockMapAt ?? [])].sort((a, b) => a - b);
  const engine: Engine = new Engine(
    settings,
    wanted.length
      ? {
          ...cfg,
          plugins,
          onSample: (smp, zones) => {
            // one snapshot per sample, however many wanted times it reaches
            if (wanted.length && wanted[0]! <= smp.time_ms) {
              while (wanted.length && wanted[0]! <= smp.time_ms) wanted.shift();
              snapshots.push({ ...pageblockMap(engine), time_ms: smp.time_ms });
            }
            cfg.onSample?.(smp, zones);
          },
        }
      : { ...cfg, plugins },
  );
  let startJson: StartStateJson | undefined;
  const say = cfg.onWarning ?? ((t: string) => process.stderr.write(`warning: ${t}\n`));
  if (!start && settings.num("wsim.boot_in_use") !== 0) say("wsim.boot_in_use has no effect without --start-state (it applies to a start state's boot owner pages)");
  if (start) {
    const warnings: string[] = [];
    const warn = (t: string) => {
      warnings.push(t);
      say(t);
    };
    for (const w of start.state.warnings) warn(w);
    const s = applyStartState(engine.mem, start.state, warn, start.pcp, start.lru, start.lruGen, settings.num("wsim.boot_in_use"));
    const vmstat = Object.fromEntries(Object.entries(engine.vmstatObject()).filter(([, v]) => v !== 0));
    startJson = { dir: cfg.startState!, free: s.free, pcp: s.pcp, boot_movable: s.bootMovable, boot_unmovable: s.bootUnmovable, boot_in_use: s.inUse, lru_gen: start.lruGenFile, warnings, vmstat, zones: zoneStarts(engine) };
    cfg.onNote?.(
      `start state from ${cfg.startState}: ${s.free} pages free${s.pcp ? ` and ${s.pcp} on per-cpu lists` : ""}, ${s.bootMovable} movable (anon, boot owner pid ${BOOT_PID}${s.inUse ? `, ${s.inUse} in use` : ""}${start.lruGenFile ? ", by lru_gen's generations" : ""}) and ${s.bootUnmovable} unmovable (wsim_kernel_pages) pages used`,
    );
  }
  let events = 0;
  let firstMs = -1;
  let lastMs = 0;
  const guestLike: GuestLike | undefined =
    cfg.paceMs !== undefined || cfg.rootMemcg !== undefined ? { pace_ms_per_event: pace, root_memcg: cfg.rootMemcg === true, cg_dropped: 0, memcg_events_removed: 0 } : undefined;
  for await (const b of trace.batches()) {
    if (b.n && firstMs < 0) firstMs = b.time[0]!;
    // the trace's own time of the batch's last event (pacing moves it)
    const rows = b.n;
    const traceLast = rows ? b.time[rows - 1]! : 0;
    let removedUntil = 0;
    if (guestLike) {
      if (pace > 0) paceBatch(b, events, pace);
      if (cfg.rootMemcg) {
        const r = rootMemcgBatch(b, cfg.until ?? Infinity);
        guestLike.cg_dropped += r.cgDropped;
        guestLike.memcg_events_removed += r.removed;
        removedUntil = r.removedUntil;
      }
    }
    const more = engine.processBatch(b, trace.name);
    // the trace's events, those rootMemcg removed included
    events += more ? rows : countUntil(b, cfg.until!) + removedUntil;
    if (rows) lastMs = more ? traceLast : engine.lastEventTime;
    if (cfg.onProgress) {
      const p = trace.progress();
      cfg.onProgress(events, engine.now(), p.bytes, p.total);
    }
    if (!more) break;
  }
  engine.finish();
  const skipped = engine.mem.numab.policySkippedRegions;
  if (skipped && cfg.onNote)
    cfg.onNote(
      `${skipped} region${skipped === 1 ? "" : "s"} with a preferred node (mmap node=) ${skipped === 1 ? "was" : "were"} not scanned by NUMA balancing, as 6.1 skips VMAs with an mbind policy`,
    );
  const built = buildResult(engine, { path: cfg.trace, format: trace.format, events, firstMs, lastMs });
  // the start state beside the machine it was laid on (a run from it needs DIR's files too)
  const result = { ...built, ...(startJson ? { start_state: startJson } : {}), ...(guestLike ? { guest_like: guestLike } : {}) };
  if (!cfg.pageblockMap && !cfg.pageblockMapAt?.length) return result;
  return { ...result, pageblock_map: pageblockMap(engine), ...(cfg.pageblockMapAt?.length ? { pageblock_snapshots: snapshots } : {}) };
}

/** A JSON trace's plugin paths, relative to the trace's directory (the working directory for standard input). */
function traceRelative(traceName: string, paths: readonly string[]): string[] {
  return paths.map((p) => (isAbsolute(p) || traceName === "-" ? p : join(dirname(traceName), p)));
}

function countUntil(b: { n: number; time: Float64Array }, until: number): number {
  let k = 0;
  while (k < b.n && b.time[k]! <= until) k++;
  return k;
}
