/** `wsim kernel TRACE` and `wsim compare TRACE`: the same trace on a real kernel in QEMU (and in wsim). */
import { createReadStream, createWriteStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { DataError, UsageError } from "../../errors.js";
import { readBytes } from "../../report/run-file.js";
import { runKernel, type KernelConfig, type KernelResult } from "../../kernel/kernel.js";
import type { EventRecording } from "../../kernel/script.js";
import { loadMachine, type Machine } from "../../machine/machine.js";
import { machineFromZoneinfo } from "../../machine/zoneinfo-machine.js";
import { parseSizeBytes } from "../../machine/size.js";
import { compareRows, pageblockChanges, renderCompare, traceSpanMs, zoneRows } from "../../report/compare.js";
import { renderJson } from "../../report/json.js";
import { replay } from "../../replay.js";
import type { TraceFormat } from "../../trace/types.js";
import { writeStdout, writeWhole } from "../output.js";
import { plural } from "../../report/words.js";

export interface KernelCliOptions {
  kernel?: string;
  mem: string;
  numa: string[];
  append: string[];
  lru?: string;
  swap?: string;
  runs?: string;
  /** commander's --no-kalloc */
  kalloc?: boolean;
  fillDma?: boolean;
  timeout: string;
  maxGap: string;
  keep?: boolean;
  machine?: string;
  set: string[];
  format?: string;
  output?: string;
  inputFormat?: string;
  all?: boolean;
  events?: string;
  eventsOut?: string;
  eventsBuffer?: string;
  /** compare's --start: boot (default) or free */
  start?: string;
  /** compare's --kernel-runs FILE: the guest runs of an earlier `compare --format json` */
  kernelRuns?: string;
  /** compare's --pace: guest (default) or trace */
  pace?: string;
  /** compare's --memcgs: root (default) or trace */
  memcgs?: string;
}

/**
 * The guest's time per event, ms: over the runs that timed their replay, the median of
 * (guest_ms - slept_ms) / events, what the helper spent on the events themselves (its faults,
 * its reclaim, its reads, all under TCG) beside the sleeps that stand for the trace's gaps
 * (src/kernel/script.ts advance). null when no run has both figures (finite, 0 or more) or the
 * trace has no event; 0 when every run slept as long as it ran.
 */
export function guestPaceMs(runs: readonly KernelResult[]): number | null {
  // a run saved by an older wsim, or edited, may lack either figure: it says nothing of the pace
  const timed = (m: unknown): m is number => typeof m === "number" && Number.isFinite(m) && m >= 0;
  const per = runs
    .filter((k) => timed(k.kernel.guest_ms) && timed(k.kernel.slept_ms) && k.trace.events > 0)
    .map((k) => Math.max(0, k.kernel.guest_ms! - k.kernel.slept_ms) / k.trace.events)
    .sort((a, b) => a - b);
  if (!per.length) return null;
  const m = per.length >> 1;
  return per.length % 2 ? per[m]! : (per[m - 1]! + per[m]!) / 2;
}

/**
 * The kernel runs of an earlier `wsim compare --format json` output (`kernel_runs`, or
 * `kernel` alone from a single run) or of `wsim kernel --format json` (one run), optionally
 * gzipped, for `--kernel-runs`: the guest side is
 * taken from it instead of booting QEMU. Throws DataError (file, line 0) when the file cannot
 * be read or holds no kernel run (the caller checks that the runs replayed the same trace).
 */
export function loadKernelRuns(path: string): KernelResult[] {
  const raw = readBytes(path);
  let doc: { kernel?: KernelResult; kernel_runs?: KernelResult[]; source?: string };
  try {
    doc = JSON.parse(raw.toString("utf8").replace(/^\uFEFF/, ""));
  } catch {
    throw new DataError(path, 0, "not JSON: --kernel-runs takes the output of `wsim compare --format json` or `wsim kernel --format json`");
  }
  // a compare output's runs, or a `wsim kernel --format json` output (one run)
  const runs = Array.isArray(doc?.kernel_runs) ? doc.kernel_runs : doc?.source === "kernel" ? [doc as unknown as KernelResult] : doc?.kernel ? [doc.kernel] : [];
  if (!runs.length || runs.some((k) => k?.source !== "kernel" || typeof k.vmstat !== "object" || !k.kernel?.boot))
    throw new DataError(path, 0, "holds no kernel run: --kernel-runs takes the output of `wsim compare --format json` or `wsim kernel --format json`");
  return runs;
}

/** what `--events-out` alone records: the page allocator's events that `wsim convert` replays, and the fallbacks */
export const DEFAULT_EVENTS = ["kmem:mm_page_alloc", "kmem:mm_page_free", "kmem:mm_page_free_batched", "kmem:mm_page_alloc_extfrag"];

/**
 * --events, --events-out and --events-buffer as a recording: event names `system:event`,
 * `system/event` or `system` (`system:*`), normalised to `system:event` / `system`.
 */
function eventsArg(o: KernelCliOptions): EventRecording | undefined {
  if (o.events === undefined && o.eventsOut === undefined) return undefined;
  if (o.eventsOut === undefined)
    throw new UsageError("--events needs --events-out FILE: where the recorded events go");
  if (o.eventsOut === "-" && (!o.output || o.output === "-"))
    throw new UsageError("--events-out -: standard output takes the counters; give -o FILE for them");
  const events = o.events === undefined ? DEFAULT_EVENTS : o.events.split(",").map((e) => e.trim()).filter((e) => e !== "");
  if (!events.length) throw new UsageError(`--events: expected tracepoints like kmem:mm_page_alloc,kmem:mm_page_free, got "${o.events}"`);
  const names = events.map((e) => {
    const m = /^([a-z0-9_]+)(?:[:/]([a-z0-9_]+|\*))?$/i.exec(e);
    if (!m) throw new UsageError(`--events: "${e}" is not a tracepoint: expected SYSTEM:EVENT (kmem:mm_page_alloc) or SYSTEM (compaction)`);
    return m[2] === undefined || m[2] === "*" ? m[1]! : `${m[1]}:${m[2]}`;
  });
  const kb = sizeMiB("events-buffer", o.eventsBuffer ?? "8M", "8M or 65536K") * 1024;
  if (!Number.isInteger(kb) || kb < 4 || kb > 4 * 2 ** 20)
    throw new UsageError(`--events-buffer: expected whole KiB from 4K to 4G, got "${o.eventsBuffer}"`);
  return { events: [...new Set(names)], bufferKb: kb };
}

/** A size option in MiB, a bare number meaning MiB; `like` completes "expected a size like …". */
function sizeMiB(name: string, v: string, like: string): number {
  let bytes: number;
  try {
    bytes = parseSizeBytes(/^\d+$/.test(v) ? `${v}M` : v);
  } catch {
    throw new UsageError(`--${name}: expected a size like ${like}, got "${v}"`);
  }
  return bytes / 2 ** 20;
}

/** A guest memory size: whole MiB, at least 64M. */
function mib(name: string, v: string): number {
  const m = sizeMiB(name, v, "256M or 1G");
  if (m < 64 || !Number.isInteger(m)) throw new UsageError(`--${name}: expected whole MiB, at least 64M, got "${v}"`);
  return m;
}

/** A positive number from an option, in decimal notation (SPEC: numbers are decimal). */
function positive(name: string, v: string): number {
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0)
    throw new UsageError(`--${name}: expected a positive decimal number like 1000 or 0.5 (no sign, no exponent), got "${v}"`);
  return Number(v);
}

/** One --append value: kernel parameters, printable ASCII (QEMU passes it as one string). */
function appendArg(v: string): string {
  if (!/^[\x20-\x7e]*$/.test(v)) throw new UsageError(`--append: expected printable ASCII kernel parameters, got "${v}"`);
  if (/(^|\s)(console|init|rdinit)=/.test(v))
    throw new UsageError(`--append: "${v}" would take the guest's console or /init from wsim`);
  return v;
}

/** --swap: a size, or 0 for none; default twice the guest's memory (wsim's machines default to twice theirs: machine.ts swapPages) */
function swapMiB(v: string | undefined, guestMiB: number): number {
  if (v === undefined) return 2 * guestMiB;
  if (/^0+[KMG]?$/i.test(v)) return 0;
  const m = sizeMiB("swap", v, "512M or 2G, or 0 for none");
  if (!Number.isInteger(m)) throw new UsageError(`--swap: expected whole MiB, got "${v}"`);
  return m;
}

/** --runs: how many times to boot the kernel (its counters vary from boot to boot) */
function runsArg(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 20) throw new UsageError(`--runs: expected a whole number from 1 to 20, got "${v}"`);
  return Number(v);
}

function config(trace: string, o: KernelCliOptions): KernelConfig {
  if (o.inputFormat && !["csv", "ndjson", "json"].includes(o.inputFormat))
    throw new UsageError(`--input-format: expected csv, ndjson or json, got "${o.inputFormat}"`);
  const memMiB = mib("mem", o.mem);
  const numaMiB = o.numa.map((n) => mib("numa", n));
  return {
    trace,
    format: o.inputFormat as TraceFormat | undefined,
    machine: o.machine,
    set: o.set,
    kernel: o.kernel,
    memMiB,
    numaMiB,
    swapMiB: swapMiB(o.swap, memMiB + numaMiB.reduce((a, b) => a + b, 0)),
    append: o.append.map(appendArg),
    // commander allows only these; none given: as lru_gen.enabled (runKernel)
    lru: o.lru === "classic" ? "classic" : o.lru === "mglru" ? "mglru" : undefined,
    kalloc: o.kalloc !== false,
    fillDma: o.fillDma === true,
    timeoutS: positive("timeout", o.timeout),
    maxGapMs: positive("max-gap", o.maxGap),
    keep: o.keep,
    log: (m) => process.stderr.write(m + "\n"),
  };
}

/** vmstat format of a kernel run: its counters (changes since the first snapshot), kernel order */
function renderKernelVmstat(r: KernelResult): string {
  return Object.entries(r.vmstat).map(([k, v]) => `${k} ${v}\n`).join("");
}

export async function kernelCommand(trace: string, o: KernelCliOptions): Promise<number> {
  const named = o.output && o.output !== "-" ? /\.(json|vmstat|txt)(\.gz)?$/i.exec(o.output)?.[1]?.toLowerCase() : undefined;
  if (o.format && named && (named === "json") !== (o.format === "json"))
    throw new UsageError(`-o ${o.output} names ${named === "json" ? "json" : "vmstat"} but --format is ${o.format}: drop one of them`);
  const format = o.format ?? (named === "json" ? "json" : "vmstat");
  if (!["json", "vmstat"].includes(format)) throw new UsageError(`--format: expected json or vmstat, got "${format}"`);
  const cfg = config(trace, o);
  const events = eventsArg(o);
  let recorded = "";
  const r = await runKernel({ ...cfg, events, onEvents: (t) => (recorded = t) });
  report(r);
  const text = format === "json" ? renderJson(r) : renderKernelVmstat(r);
  if (o.output && o.output !== "-") writeWhole(o.output, text);
  if (events && o.eventsOut !== "-") writeWhole(o.eventsOut!, recorded);
  if (!o.output || o.output === "-") await writeStdout(text);
  else if (events && o.eventsOut === "-") await writeStdout(recorded);
  return 0;
}

/** What did not map onto the kernel, on stderr: never silently dropped. */
function report(r: KernelResult): void {
  const k = r.kernel;
  const lines = [`wsim kernel: ${plural(r.trace.events, "event")} replayed on Linux ${k.release ?? "(release unknown)"} in ${(k.wall_ms / 1000).toFixed(1)} s (slept ${k.slept_ms} ms of trace time${k.skipped_ms ? `, skipped ${k.skipped_ms} ms of long gaps` : ""})`];
  if (k.guest_ms !== null)
    lines.push(`wsim kernel: the guest's clock ran ${k.guest_ms} ms: ${k.slept_ms} ms asleep, ${Math.max(0, k.guest_ms - k.slept_ms)} ms working (the trace spans ${traceSpanMs(r)} ms)`);
  if (k.dma_filled !== null) lines.push(`wsim kernel: wsim_kalloc took ${plural(k.dma_filled, "page")} of ZONE_DMA before the first snapshot (--fill-dma)`);
  if (k.kalloc.module) lines.push(`wsim kernel: ${plural(k.kalloc.allocs, "kernel allocation")} made by wsim_kalloc, ${k.kalloc.failed} failed`);
  for (const [what, n] of Object.entries(k.unsupported)) lines.push(`wsim kernel: not replayed: ${n} × ${what}`);
  if (k.events) {
    const e = k.events;
    lines.push(`wsim kernel: recorded ${plural(e.lines, "event line")} of ${e.enabled.join(",")}` +
      (e.dropped ? `; the ${e.buffer_kb >= 1024 ? `${e.buffer_kb / 1024} MiB` : `${e.buffer_kb} KiB`} ring buffer was full and dropped the last ${plural(e.dropped, "event")} (--events-buffer)` : ""));
  }
  if (k.errors.length) lines.push(`wsim kernel: ${plural(k.errors.length, "helper error")}, first: ${k.errors[0]}`);
  if (k.workdir) lines.push(`wsim kernel: kept ${k.workdir} (initramfs, script, guest.log)`);
  process.stderr.write(lines.join("\n") + "\n");
}

/**
 * Standard input copied to a temporary file: compare reads the trace once per kernel run and
 * once more for wsim, and a pipe can be read only once. Streams, so memory stays flat.
 */
async function spoolStdin(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "wsim-stdin-"));
  const path = join(dir, "trace");
  await pipeline(process.stdin, createWriteStream(path));
  return path;
}

/**
 * wsim's start for `wsim compare --start boot` (the default): the guest's layout from its boot
 * /proc/zoneinfo (machineFromZoneinfo: zones, spans, managed pages, watermarks, CPUs; the nodes
 * after node 0 are `--numa`'s memory-only nodes, tier 1 as in machineFromBuddyinfo) and its boot
 * buddyinfo and pagetypeinfo written to a temporary directory for `--start-state` (the free
 * blocks per zone, order and migratetype; every other managed page used by wsim's boot owner),
 * with its boot lru_gen when it printed one (the generations of the boot owner's LRU pages).
 * Returns null when the guest printed none of the three (an old run); the caller removes `dir`.
 * Throws DataError when the guest's files do not parse.
 */
export function bootStart(k: KernelResult): { machine: Machine; dir: string } | null {
  const b = k.kernel.boot;
  if (!b.zoneinfo || !b.buddyinfo || !b.pagetypeinfo) return null;
  const m = machineFromZoneinfo(b.zoneinfo, "guest:/proc/zoneinfo");
  const machine = { ...m, nodes: m.nodes.map((n) => ({ ...n, tier: n.id === 0 ? 0 : 1 })) };
  const dir = mkdtempSync(join(tmpdir(), "wsim-boot-"));
  writeFileSync(join(dir, "zoneinfo"), b.zoneinfo);
  writeFileSync(join(dir, "buddyinfo"), b.buddyinfo);
  writeFileSync(join(dir, "pagetypeinfo"), b.pagetypeinfo);
  // the boot LRU's generations (guests recorded before 2026-12-01 have none: all in the oldest)
  if (b.lru_gen) writeFileSync(join(dir, "lru_gen"), b.lru_gen);
  return { machine, dir };
}

/**
 * `--set` for wsim's side of a compare that starts from the guest's boot state: the guest's
 * boot LRU pages are its helper's (and its init's), which run throughout the replay, so every
 * one of them stays in use (wsim.boot_in_use=100) unless `--set` says otherwise.
 */
export function withBootInUse(set: readonly string[] | undefined): string[] {
  const given = (set ?? []).some((x) => x.split("=")[0]!.trim() === "wsim.boot_in_use");
  return given ? [...(set ?? [])] : ["wsim.boot_in_use=100", ...(set ?? [])];
}

/** What `wsim compare` says on standard error about the pace of wsim's side. */
function paceNote(asked: string, guestPace: number | null, paceMs: number, runs: number): string {
  if (asked !== "guest") return "wsim runs at the trace's times (--pace trace); the guest ran later by its own time on each event";
  if (guestPace === null) return "the guest runs do not say how long the replay took (kernel.guest_ms, kernel.slept_ms): wsim runs at the trace's times";
  if (paceMs === 0) return "the guest's replay took no longer than its sleeps: wsim runs at the trace's times";
  return `wsim runs at the guest's pace: event k at its trace time + k × ${paceMs.toFixed(3)} ms (the guest's time per event, the median over ${plural(runs, "run")}; --pace trace keeps the trace's times)`;
}

export async function compareCommand(trace: string, o: KernelCliOptions): Promise<number> {
  const cfg = config(trace, o);
  const runs = runsArg(o.runs ?? "1");
  const spool = trace === "-" ? await spoolStdin() : null;
  // errors still name -: each pass reads the spooled copy as standard input
  const stdin = spool ? () => createReadStream(spool) : undefined;
  try {
    if (o.kernelRuns !== undefined && o.runs !== undefined && o.runs !== "1")
      throw new UsageError("--kernel-runs takes the guest runs from FILE: --runs would boot more");
    const kerns: KernelResult[] = o.kernelRuns !== undefined ? loadKernelRuns(o.kernelRuns) : [];
    if (o.kernelRuns !== undefined)
      process.stderr.write(`wsim compare: ${plural(kerns.length, "kernel run")} from ${o.kernelRuns} (Linux ${kerns[0]!.kernel.release ?? "release unknown"}); no guest booted\n`);
    for (let i = 0; o.kernelRuns === undefined && i < runs; i++) {
      if (runs > 1) process.stderr.write(`wsim compare: kernel run ${i + 1} of ${runs}\n`);
      const k = await runKernel({ ...cfg, stdin });
      report(k);
      kerns.push(k);
    }
    // wsim's machine is the first boot's guest: its zones and free blocks (--start); a --machine only lends its tunables
    const tunables = o.machine ? loadMachine(o.machine).tunables : {};
    const boot = o.start === "free" ? null : bootStart(kerns[0]!);
    if (o.start !== "free" && !boot)
      process.stderr.write("wsim compare: the guest printed no boot zoneinfo/buddyinfo/pagetypeinfo; wsim starts from its free pages (--start free)\n");
    const machine = boot ? { ...boot.machine, tunables } : { ...kerns[0]!.machine, tunables };
    // wsim's side runs the trace as the guest's helper ran it (one process in the root memcg,
    // its events late by its own time on the ones before) unless --pace trace / --memcgs trace
    const pace = o.pace ?? "guest";
    const guestPace = guestPaceMs(kerns);
    const paceMs = pace === "guest" ? (guestPace ?? 0) : 0;
    const rootMemcg = (o.memcgs ?? "root") === "root";
    let sim;
    try {
      sim = await replay({
        trace,
        machine,
        set: boot ? withBootInUse(o.set) : o.set,
        format: cfg.format,
        stdin: stdin?.(),
        paceMs,
        rootMemcg,
        ...(boot
          ? {
              startState: boot.dir,
              onWarning: (t: string) => process.stderr.write(`wsim compare: start state: ${t}\n`),
              onNote: (t: string) => process.stderr.write(`wsim compare: ${t.replace(boot.dir, "the guest's boot /proc files")}\n`),
            }
          : {}),
      });
    } finally {
      if (boot) rmSync(boot.dir, { recursive: true, force: true });
    }
    if (o.kernelRuns !== undefined) {
      // the saved guests ran with the tunables they wrote: a replay with others compares unlike runs
      const differ = Object.entries(kerns[0]!.tunables ?? {}).filter(([k, v]) => k in sim.tunables && String(sim.tunables[k]) !== String(v));
      if (differ.length)
        throw new UsageError(
          `--kernel-runs ${o.kernelRuns}: its guests ran with ${differ.map(([k, v]) => `${k}=${v}`).join(", ")}, this replay with ` +
            `${differ.map(([k]) => `${k}=${sim.tunables[k]}`).join(", ")}: give ${differ.map(([k, v]) => `--set ${k}=${v}`).join(" ")}`,
        );
    }
    process.stderr.write(`wsim compare: ${paceNote(pace, guestPace, paceMs, kerns.length)}\n`);
    const g = sim.guest_like!;
    process.stderr.write(
      rootMemcg
        ? `wsim compare: every pid in the root memcg, as in the guest: ${g.cg_dropped || g.memcg_events_removed ? `the cg of ${plural(g.cg_dropped, "event")} dropped, ${g.memcg_events_removed} ${g.memcg_events_removed === 1 ? "set or read" : "sets and reads"} of memory.* files of memcgs other than the root not replayed` : "the trace names no memcg"} (--memcgs trace keeps the trace's memcgs)\n`
        : "wsim compare: wsim keeps the trace's memcgs (--memcgs trace); the guest runs every pid in the root memcg\n",
    );
    if (o.kernelRuns !== undefined && sim.trace.events !== kerns[0]!.trace.events)
      throw new DataError(
        o.kernelRuns,
        0,
        `its kernel runs replayed ${plural(kerns[0]!.trace.events, "event")} of ${kerns[0]!.trace.path}, this trace has ${sim.trace.events}: not the same trace`,
      );
    const text =
      o.format === "json"
        ? renderJson({
            wsim: sim,
            kernel: kerns[0],
            ...(kerns.length > 1 ? { kernel_runs: kerns } : {}),
            rows: compareRows(sim, kerns, o.all),
            pageblock_changes: pageblockChanges(sim, kerns[0]!),
            zones: zoneRows(sim, kerns),
          })
        : renderCompare(sim, kerns, { all: o.all });
    if (o.output && o.output !== "-") writeWhole(o.output, text);
    else await writeStdout(text);
    return 0;
  } finally {
    if (spool) rmSync(dirname(spool), { recursive: true, force: true });
  }
}
