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
import { diffCounters, globMatch, parseTolerances, renderDiffTable, splitGlobs, type DiffResult } from "../../report/diff.js";
import { replay as replayRun } from "../../replay.js";
import { loadColor } from "../../report/paint.js";
import { writeStdout } from "../output.js";
import { deltaCounters, isGauge, renderDeltaTable, vmstatDelta, type Snapshot } from "../../report/vmstat-delta.js";
import { simDelta } from "../../report/compare.js";
import { isFile } from "../../machine/machine.js";

export interface DiffOptions {
  tolerance: string[];
  only: string[];
  ignore: string[];
  format?: string;
  machine?: string;
  set: string[];
  /** --plugin FILE.mjs for traces given as A or B (repeatable) */
  plugin?: string[];
  /** --delta (true), --no-delta (false), or neither (detected: both sides raw /proc/vmstat) */
  delta?: boolean;
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
  o: {
    machine?: string;
    set?: string[];
    plugin?: string[];
    outputsOnly?: boolean;
    lenient?: boolean;
    /** a usage error to throw when path is a kernel's whole /proc/vmstat (counts since boot, not a run's) */
    refuseRaw?: string;
  },
  /** set to true when path was a trace and was replayed */
  seen: { replayed: boolean } = { replayed: false },
): Promise<Record<string, number>> {
  const notOutput = () => new DataError(path, 0, "not a JSON or vmstat output (--expect takes a run's output, e.g. `wsim replay -o FILE.json`)");
  const replay = async (c: Parameters<typeof replayRun>[0]) => {
    if (o.outputsOnly) throw notOutput();
    seen.replayed = true;
    return replayRun(c);
  };
  let raw = readBytes(path);
  // a trace read from standard input, or from a FIFO (`<(...)`), is replayed from the bytes
  // already read (readBytes kept them): neither can be read again
  const original = raw;
  const kept = sideBytes.has(path);
  const replayOf = (c: Parameters<typeof replayRun>[0]) =>
    replay(!kept ? c : path === "-" ? { ...c, stdin: Readable.from([original]) } : { ...c, source: Readable.from([original]) });
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    // a gzipped output (-o r.json.gz) is read as it is; else it is a gzipped trace
    try {
      raw = gunzipSync(raw);
    } catch {
      return (await replayOf({ trace: path, machine: o.machine, set: o.set, plugins: o.plugin, lenient: o.lenient })).vmstat;
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
    return (await replayOf({ trace: path, machine: o.machine, set: o.set, plugins: o.plugin, lenient: o.lenient })).vmstat;
  }
  const v = parseVmstatText(path, text);
  if (v && o.refuseRaw && isRawKernelVmstat(v.counters)) throw new UsageError(o.refuseRaw);
  if (v) return v.counters;
  return (await replayOf({ trace: path, machine: o.machine, set: o.set, plugins: o.plugin, lenient: o.lenient })).vmstat;
}

/**
 * vmstat text (`name value` lines, as /proc/vmstat or `--format vmstat`): the counters and the
 * line each is on, or null when `text` is not that (its first line is not `name value`: a
 * trace's header has commas). Once the first line says vmstat, every line must be `name
 * integer`: DataError at the first that is not, for a counter given twice, or one beyond
 * ±2^53-1. Blank and `#` lines are skipped.
 */
function parseVmstatText(path: string, text: string): { counters: Record<string, number>; at: Map<string, number> } | null {
  const all = text.split("\n");
  const skip = (l: string) => l.trim() === "" || l.trimStart().startsWith("#");
  const first = all.find((l) => !skip(l));
  if (first === undefined || !/^[a-z][a-z0-9_]*[ \t]+[^\s,]+$/.test(first.trim())) return null;
  const out: Record<string, number> = {};
  const at = new Map<string, number>();
  all.forEach((l, i) => {
    if (skip(l)) return;
    if (!/^[a-z0-9_]+ -?\d+$/.test(l.trim()))
      throw new DataError(path, i + 1, `expected a vmstat line \`name value\` with an integer value, got ${quoteInput(l.trim())}`);
    const [k, v] = l.trim().split(" ") as [string, string];
    const first = at.get(k);
    if (first !== undefined) throw new DataError(path, i + 1, `counter ${quoteInput(k)} given twice (first at line ${first})`);
    at.set(k, i + 1);
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw new DataError(path, i + 1, `counter ${quoteInput(k)}: ${BEYOND}`);
    out[k] = n;
  });
  return { counters: out, at };
}

/** A counter too large to compare exactly as a JavaScript number. */
const BEYOND = `value beyond 2^53-1 (${Number.MAX_SAFE_INTEGER}): it would lose precision`;

/** Compares two sides as `wsim diff` and `replay --expect` do; a bad tolerance is a UsageError (exit 2). */
export function compare(a: Record<string, number>, b: Record<string, number>, o: Pick<DiffOptions, "tolerance" | "only" | "ignore">): DiffResult {
  return diffCounters(a, b, { tolerance: o.tolerance, only: o.only, ignore: o.ignore });
}

/**
 * `--format json`: `{within, compared, rows}`, the library's DiffResult as it is; else the
 * table, coloured on a terminal (chalk loaded then only: src/report/paint.ts).
 */
export async function renderDiff(r: DiffResult, format: string | undefined, labels: [string, string]): Promise<string> {
  if (format === "json") return JSON.stringify({ within: r.within, compared: r.compared, rows: r.rows }, null, 2) + "\n";
  const color = process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== "dumb";
  if (color) await loadColor();
  return renderDiffTable(r, color, labels);
}

/**
 * Returns the exit code: 0 within tolerance, 1 outside. With --delta (or when A and B are both
 * raw /proc/vmstat, see snapshotOf, and --no-delta is not given) A and B are BEFORE and
 * AFTER snapshots of one kernel: their deltas are printed, or compared with REPLAY's counters.
 */
export async function diffCommand(a: string, b: string, o: DiffOptions, replay?: string): Promise<number> {
  if (o.format && !["table", "json"].includes(o.format)) throw new UsageError(`--format: expected table or json, got "${o.format}"`);
  parseTolerances(o.tolerance, "--tolerance"); // a bad --tolerance is a usage error before any trace is replayed
  const sides = [a, b, ...(replay !== undefined ? [replay] : [])];
  if (a === "-" && b === "-") throw new UsageError("A and B are both - (standard input): give at most one of them as -");
  if (sides.filter((x) => x === "-").length > 1) throw new UsageError("BEFORE, AFTER and REPLAY name - (standard input) more than once: give at most one of them as -");
  if (replay !== undefined && o.delta === false) throw new UsageError("a third argument (REPLAY) is compared with the deltas of BEFORE and AFTER: drop --no-delta");
  let delta = o.delta === true;
  if (o.delta === undefined && a !== "-" && b !== "-") {
    // detected: both sides raw /proc/vmstat (vmstat text without wsim's own counters)
    // vmstat text only: a JSON side is never raw, and is read (and its errors told) by loadCounters
    const rawText = (p: string) => {
      let t: string;
      try {
        t = readSide(p);
      } catch {
        return null; // told by loadCounters, in its words
      }
      return t.trimStart().startsWith("{") ? null : snapshotOf(p, t);
    };
    const sa = rawText(a);
    const sb = sa?.raw ? rawText(b) : null;
    delta = sa?.raw === true && sb?.raw === true;
  }
  if (replay !== undefined && !delta) throw new UsageError("a third argument (REPLAY) is only taken with --delta (BEFORE AFTER REPLAY)");
  if (delta) return deltaCommand(a, b, replay, o);
  const seen = { replayed: false };
  const [ca, cb] = [await loadCounters(a, o, seen), await loadCounters(b, o, seen)];
  // --machine and --set only shape the replay of a trace (issue 12 item 7)
  if (!seen.replayed && (o.machine !== undefined || o.set.length || o.plugin?.length))
    throw new UsageError(`${o.machine !== undefined ? "--machine" : o.set.length ? "--set" : "--plugin"} only applies to a trace given as A or B; both are outputs: drop it`);
  const r = compare(ca, cb, o);
  await writeStdout(await renderDiff(r, o.format, ["A", "B"]));
  return r.within ? 0 : 1;
}

/**
 * The bytes of a side (`-`: standard input), read whole once per path and run: a FIFO such as
 * `<(wsim replay ...)` can be read once, and diff reads a side to tell raw /proc/vmstat before
 * loadCounters reads it. DataError when unreadable.
 */
const sideBytes = new Map<string, Buffer>();
function readBytes(path: string): Buffer {
  const had = sideBytes.get(path);
  if (had !== undefined) return had;
  let raw: Buffer;
  try {
    raw = readFileSync(path === "-" ? 0 : path);
  } catch (e) {
    throw new DataError(path, 0, `cannot read: ${describeErrno(e)}`);
  }
  if (path === "-" || !isFile(path)) sideBytes.set(path, raw);
  return raw;
}

// --- wsim diff --delta ---

/** The text of one side (gunzipped when gzipped); DataError when unreadable. */
function readSide(path: string): string {
  let raw = readBytes(path);
  if (raw[0] === 0x1f && raw[1] === 0x8b)
    try {
      raw = gunzipSync(raw);
    } catch (e) {
      throw new DataError(path, 0, `gzip: ${(e as Error).message}`);
    }
  return raw.toString("utf8").replace(/^\uFEFF/, "");
}

/** A kernel's /proc/vmstat: vmstat_text's first item first (nr_free_pages), the vm events (pgfault), no wsim_ counter. */
function isRawKernelVmstat(counters: Record<string, number>): boolean {
  const keys = Object.keys(counters);
  return keys[0] === "nr_free_pages" && "pgfault" in counters && !keys.some((k) => k.startsWith("wsim_"));
}

/**
 * A side of --delta as a snapshot: vmstat text (`raw` when it reads as a kernel's whole
 * /proc/vmstat: nr_free_pages first, pgfault in it, no `wsim_` counter) or a JSON output's
 * "vmstat"; null when it is neither.
 */
function snapshotOf(path: string, text: string): (Snapshot & { raw: boolean; doc: unknown }) | null {
  const v = parseVmstatText(path, text);
  if (v) {
    // a kernel's /proc/vmstat: vmstat_text's first item first (nr_free_pages), the vm events (pgfault), no wsim_ counter
    return { file: path, counters: v.counters, lineOf: (k) => v.at.get(k) ?? 0, raw: isRawKernelVmstat(v.counters), doc: null };
  }
  if (!text.trimStart().startsWith("{")) return null;
  let doc: { vmstat?: unknown } | null = null;
  try {
    doc = JSON.parse(text) as { vmstat?: unknown };
  } catch {
    return null;
  }
  if (!doc || typeof doc.vmstat !== "object" || doc.vmstat === null) return null;
  const where = () => locateJson(text, 2);
  const counters = doc.vmstat as Record<string, unknown>;
  for (const [k, x] of Object.entries(counters)) {
    // loadCounters' checks and words
    if (typeof x !== "number") throw new DataError(path, lineOf(where(), `/vmstat/${k}`), `vmstat ${quoteInput(k)}: expected a number, got ${describeValue(x)}`);
    if (Number.isInteger(x) && !Number.isSafeInteger(x)) throw new DataError(path, lineOf(where(), `/vmstat/${k}`), `vmstat ${quoteInput(k)}: ${BEYOND}`);
  }
  return { file: path, counters: counters as Record<string, number>, lineOf: (k) => lineOf(where(), `/vmstat/${k}`), raw: false, doc };
}

/**
 * REPLAY's counters as changes from the start of its run, to set beside a kernel's deltas:
 * a JSON output (nr_free_pages less the managed pages of its nodes, as `wsim compare` does),
 * vmstat text (nr_free_pages left out, with a note: the text does not say how many pages the
 * machine had; the caller leaves the kernel's out too),
 * or a trace, replayed on --machine with --set. wsim's own `wsim_` counters are left out.
 */
async function replayChanges(path: string, o: DiffOptions): Promise<{ counters: Record<string, number>; note: string | null }> {
  const text = readSide(path);
  const snap = text.trim() ? snapshotOf(path, text) : null;
  if (snap && (o.machine !== undefined || o.set.length))
    throw new UsageError(`${o.machine !== undefined ? "--machine" : "--set"} only applies to a trace given as REPLAY; ${path} is an output: drop it`);
  let counters: Record<string, number>;
  let note: string | null = null;
  if (snap) {
    counters = { ...snap.counters };
    const nodes = (snap.doc as { nodes?: { zones?: { managed?: unknown }[] }[] } | null)?.nodes;
    const managed = Array.isArray(nodes) ? nodes.reduce((s, n) => s + (n.zones ?? []).reduce((t, z) => t + (typeof z.managed === "number" ? z.managed : NaN), 0), 0) : NaN;
    if (counters.nr_free_pages !== undefined) {
      if (Number.isFinite(managed)) counters.nr_free_pages -= managed;
      else {
        delete counters.nr_free_pages;
        note = `${path} does not say how many pages its machine had, so its nr_free_pages is not a change: left out of the comparison (give the replay's JSON output or its trace)`;
      }
    }
  } else {
    const stdin = path === "-" ? Readable.from([Buffer.from(text)]) : undefined;
    counters = simDelta(await replayRun({ trace: path, machine: o.machine, set: o.set, stdin }));
  }
  for (const k of Object.keys(counters)) if (k.startsWith("wsim_")) delete counters[k];
  return { counters, note };
}

/** `wsim diff --delta BEFORE AFTER [REPLAY]`: exit 0 (or, with REPLAY, 0 within tolerance, 1 outside). */
async function deltaCommand(before: string, after: string, replay: string | undefined, o: DiffOptions): Promise<number> {
  const side = (p: string, name: string) => {
    const text = readSide(p);
    const s = snapshotOf(p, text);
    if (!s) {
      // vmstat text whose first line is not `name value` (a word, then more, no comma: not a
      // trace's CSV header nor JSON): named at that line
      const lines = text.split("\n");
      const i = lines.findIndex((l) => l.trim() !== "" && !l.trimStart().startsWith("#"));
      if (i >= 0 && /^\s*[a-z][a-z0-9_]*\b[^,{]*$/i.test(lines[i]!))
        throw new DataError(p, i + 1, `--delta: ${name} is not a /proc/vmstat snapshot: expected a vmstat line \`name value\` with an integer value, got ${quoteInput(lines[i]!.trim())}`);
      throw new DataError(p, 0, `--delta: ${name} is not a /proc/vmstat snapshot (\`name value\` lines) or a JSON output with "vmstat"`);
    }
    return s;
  };
  const sb = side(before, "BEFORE");
  const sa = side(after, "AFTER");
  const rows = vmstatDelta(sb, sa);
  if (replay === undefined) {
    if (o.machine !== undefined || o.set.length) throw new UsageError(`${o.machine !== undefined ? "--machine" : "--set"} only applies to a trace given as REPLAY: drop it`);
    const only = o.only.length ? splitGlobs(o.only) : ["*"];
    // a filter that selects nothing is a usage error, as in every diff (issue 12 item 7)
    for (const g of only) if (!rows.some((r) => globMatch(g, r.counter))) throw new UsageError(`only ${quoteInput(g)}: matches no counter of either snapshot`);
    const shown = rows.filter((r) => only.some((g) => globMatch(g, r.counter)) && !splitGlobs(o.ignore).some((g) => globMatch(g, r.counter)));
    await writeStdout(o.format === "json" ? JSON.stringify({ rows: shown }, null, 2) + "\n" : renderDeltaTable(shown, ["before", "after"]));
    return 0;
  }
  const rep = await replayChanges(replay, o);
  if (rep.note) process.stderr.write(rep.note + "\n");
  const kernel = deltaCounters(rows);
  if (rep.note) delete kernel.nr_free_pages; // left out of both sides
  // ... and of --only: a glob that selected only it now selects nothing, which the note says
  let only = rep.note ? splitGlobs(o.only).filter((g) => !globMatch(g, "nr_free_pages") || Object.keys(kernel).some((n) => globMatch(g, n))) : o.only;
  if (o.only.length && !only.length) throw new UsageError(`--only ${o.only.join(",")}: nothing left to compare without nr_free_pages (above)`);
  // a counter one side does not have is not a difference here: the kernel prints only what its
  // config has (no pgalloc_device without ZONE_DEVICE), wsim only what it models. Those the
  // filters select are named; an --only glob that selected only such counters is dropped.
  const onlyGlobs = splitGlobs(only);
  const ignoreGlobs = splitGlobs(o.ignore);
  const selected = (k: string) => (!onlyGlobs.length || onlyGlobs.some((g) => globMatch(g, k))) && !ignoreGlobs.some((g) => globMatch(g, k));
  const oneSided = (from: Record<string, number>, other: Record<string, number>) => Object.keys(from).filter((k) => !(k in other));
  const replayOnlyAll = oneSided(rep.counters, kernel);
  const kernelOnlyAll = oneSided(kernel, rep.counters);
  for (const k of replayOnlyAll) delete rep.counters[k];
  for (const k of kernelOnlyAll) delete kernel[k];
  const replayOnly = replayOnlyAll.filter(selected);
  const kernelOnly = kernelOnlyAll.filter(selected);
  const names = (l: string[]) => (l.length > 12 ? `${l.slice(0, 12).join(", ")} and ${l.length - 12} more` : l.join(", "));
  if (replayOnly.length) process.stderr.write(`not in the kernel's snapshots, left out: ${names(replayOnly)}\n`);
  if (kernelOnly.length) process.stderr.write(`not counted by the replay, left out: ${names(kernelOnly)}\n`);
  const kept = onlyGlobs.filter((g) => Object.keys(kernel).some((n) => globMatch(g, n)) || ![...replayOnly, ...kernelOnly].some((n) => globMatch(g, n)));
  if (onlyGlobs.length && !kept.length) throw new UsageError(`--only ${onlyGlobs.join(",")}: selects counters on one side only (named above): nothing to compare`);
  only = onlyGlobs.length ? kept : only;
  const r = compare(kernel, rep.counters, { ...o, only });
  const gauges = r.rows.filter((x) => isGauge(x.counter)).map((x) => x.counter);
  if (o.format === "json")
    await writeStdout(JSON.stringify({ within: r.within, compared: r.compared, rows: r.rows, gauges, kernel_only: kernelOnly, replay_only: replayOnly }, null, 2) + "\n");
  else await writeStdout((await renderDiff(r, o.format, ["kernel delta", "replay"])) + (gauges.length ? `gauges (a change of a current value, not a count): ${gauges.join(", ")}\n` : ""));
  return r.within ? 0 : 1;
}
