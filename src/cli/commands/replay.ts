/** `wsim replay TRACE`: replay a trace and print what the kernel would have counted. */
import { UsageError } from "../../errors.js";
import type { RunResult } from "../../engine/result.js";
import { renderJson } from "../../report/json.js";
import { loadColor } from "../../report/paint.js";
import { renderText } from "../../report/text.js";
import { renderVmstat } from "../../report/vmstat.js";
import { replay } from "../../replay.js";
import type { TraceFormat } from "../../trace/types.js";
import { OutputSink, writeStdout, writeWhole } from "../output.js";
import { Progress } from "../progress.js";
import { timeOption } from "../time-option.js";
import { sampleCsvHeader, sampleCsvRow } from "../../report/series.js";

export interface ReplayCliOptions {
  /** the trace argument (filled in by replayCommand for the checks) */
  trace?: string;
  /** -q: no `note:` lines on standard error */
  quiet?: boolean;
  machine?: string;
  /** --zones flat|x86 */
  zones?: string;
  /** --start-state DIR */
  startState?: string;
  set: string[];
  /** --plugin FILE.mjs (repeatable) */
  plugin?: string[];
  format?: string;
  output?: string;
  until?: string;
  drain: string;
  /** gone: replay has nothing random; given, it is a usage error that says so */
  seed?: string;
  check?: boolean;
  lenient?: boolean;
  closedLoop?: boolean;
  /** false with --no-idle-jumps */
  idleJumps?: boolean;
  inputFormat?: string;
  csvParser: string;
  /** false with --no-worker: parse the trace on the main thread */
  worker?: boolean;
  interval?: string;
  expect?: string;
  tolerance: string[];
  only: string[];
  ignore: string[];
  /** --report FILE.html: also write the run's HTML report */
  report?: string;
  pageblockMap?: boolean;
  /** --pageblock-map-at MS,MS,...: also keep the map at these sample times */
  pageblockMapAt?: string;
}

export const OUTPUT_FORMATS = ["text", "vmstat", "json", "csv", "ndjson"] as const;
/** formats that stream one record per --interval sample */
const SERIES_FORMATS = ["csv", "ndjson"];

/**
 * A number of ms from an option: decimal notation (SPEC: numbers are decimal; no exponent,
 * no sign), non-negative, or positive when `positive`. One message per rule whatever the
 * wrong value (-5, 0, abc, 1e3), and it says the notation.
 */
const num = timeOption;

/** -o's extensions and the format each names (a trailing .gz gzips any of them) */
export const OUTPUT_EXTENSIONS: Record<string, string> = {
  ".json": "json",
  ".ndjson": "ndjson",
  ".jsonl": "ndjson",
  ".csv": "csv",
  ".txt": "text",
  ".vmstat": "vmstat",
};

/**
 * The format -o FILE names: by its extension (after removing .gz); a name without one
 * (/dev/null, a FIFO) says nothing (undefined). An extension not in OUTPUT_EXTENSIONS is a
 * usage error: nothing would honour it.
 */
export function formatFromOutputName(path: string): string | undefined {
  const name = path.replace(/^.*\//, "").replace(/\.gz$/i, "");
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return undefined;
  const ext = name.slice(dot).toLowerCase();
  const f = OUTPUT_EXTENSIONS[ext];
  if (f === undefined && (ext === ".html" || ext === ".htm"))
    throw new UsageError(`-o ${path}: -o is the run's own output (${Object.keys(OUTPUT_EXTENSIONS).join(", ")}); for an HTML report give --report ${path}`);
  if (f === undefined)
    throw new UsageError(
      `-o ${path}: unknown extension "${ext}": name it ${Object.keys(OUTPUT_EXTENSIONS).join(", ")} (optionally + .gz), or give --format`,
    );
  return f;
}

/** --format; else -o's extension; else text on a terminal, vmstat otherwise */
function pickFormat(o: ReplayCliOptions): string {
  const named = o.output !== undefined && o.output !== "-" && !o.format ? formatFromOutputName(o.output) : undefined;
  if (o.format) {
    if (!(OUTPUT_FORMATS as readonly string[]).includes(o.format))
      throw new UsageError(`--format: expected one of ${OUTPUT_FORMATS.join(", ")}, got "${o.format}"`);
    return o.format;
  }
  if (named) return named;
  if (o.output !== undefined && o.output !== "-") return "vmstat";
  return process.stdout.isTTY ? "text" : "vmstat";
}

/**
 * Options that would do nothing in this combination are usage errors saying what to add
 * (issue 12 item 7).
 */
function checkCombinations(o: ReplayCliOptions, format: string, interval: number | undefined): void {
  if (o.expect === undefined)
    for (const [flag, v] of [["--tolerance", o.tolerance], ["--only", o.only], ["--ignore", o.ignore]] as const)
      if (v.length) throw new UsageError(`${flag} only filters the comparison with --expect FILE: add --expect, or drop ${flag}`);
  if (interval !== undefined && !["json", ...SERIES_FORMATS].includes(format) && o.report === undefined)
    throw new UsageError(`--interval: --format ${format} prints no samples: add --format json, csv or ndjson (or -o FILE.json/.csv/.ndjson), or --report FILE.html, or drop --interval`);
  if (o.report !== undefined && !/\.html?$/i.test(o.report) && o.report !== "-" && /\.[^./]+$/.test(o.report))
    throw new UsageError(`--report ${o.report}: a report is written as .html or .htm: name the file so`);
  if (o.report === "-")
    throw new UsageError(
      o.output !== undefined && o.output !== "-"
        ? `--report -: the report is written to a file, not standard output: give it a file name (--report run.html)${format === "json" ? `; for a report on standard output, then run wsim report ${o.output} -o -` : ""}`
        : "--report -: standard output carries the run's own output; give the report a file name (--report run.html)",
    );
  if ((o.pageblockMap || o.pageblockMapAt !== undefined) && format !== "json" && o.report === undefined) {
    const flag = o.pageblockMap ? "--pageblock-map" : "--pageblock-map-at";
    throw new UsageError(`${flag} keeps pageblock maps in the JSON: add --format json (or -o FILE.json) or --report FILE.html, or drop ${flag}`);
  }
  if (SERIES_FORMATS.includes(format) && interval === undefined)
    throw new UsageError(`--format ${format} needs --interval MS (one row per sample)`);
  if (o.expect !== undefined && SERIES_FORMATS.includes(format) && (o.output === undefined || o.output === "-"))
    throw new UsageError(`--expect prints the comparison on standard output: with --format ${format}, add -o FILE for the samples`);
  if (o.expect !== undefined && interval !== undefined && (o.output === undefined || o.output === "-"))
    throw new UsageError("--interval: with --expect the run is only compared, its samples go nowhere: add -o FILE.json for them, or drop --interval");
  if (o.csvParser === "csv-parse") {
    const name = o.inputFormat ?? (/\.(ndjson|jsonl)(\.gz)?$/i.test(o.trace ?? "") ? "ndjson" : /\.json(\.gz)?$/i.test(o.trace ?? "") ? "json" : "csv");
    if (name !== "csv") throw new UsageError(`--csv-parser only parses CSV; this trace is ${name}: drop --csv-parser`);
  }
}

export function render(r: RunResult, format: string, color: boolean): string {
  switch (format) {
    case "json":
      return renderJson(r);
    case "text":
      return renderText(r, { color, width: process.stdout.columns });
    default:
      return renderVmstat(r);
  }
}

/** Returns the exit code: 0, or 1 when --expect found a difference beyond tolerance. */
export async function replayCommand(trace: string, o: ReplayCliOptions): Promise<number> {
  const format = pickFormat(o);
  const interval = num("interval", o.interval, true);
  if (o.inputFormat && !["csv", "ndjson", "json"].includes(o.inputFormat))
    throw new UsageError(`--input-format: expected csv, ndjson or json, got "${o.inputFormat}"`);
  if (!["fast", "csv-parse"].includes(o.csvParser))
    throw new UsageError(`--csv-parser: expected fast or csv-parse, got "${o.csvParser}"`);
  if (o.seed !== undefined)
    throw new UsageError(
      "--seed: replay has no randomness to seed (the model draws no random numbers: the same trace, machine and tunables always give the same output); `wsim generate KIND --seed N` seeds a synthetic trace",
    );
  checkCombinations({ ...o, trace }, format, interval);
  // a bad --tolerance is a usage error before the trace is replayed
  if (o.expect !== undefined) (await import("../../report/diff.js")).parseTolerances(o.tolerance, "--tolerance");
  if (o.expect === "-" && trace === "-") throw new UsageError("--expect - and the trace - both read standard input: give one of them as a file");
  const mapAt = o.pageblockMapAt === undefined ? undefined : o.pageblockMapAt.split(",").map((t) => num("pageblock-map-at", t.trim())!);
  if (mapAt && interval === undefined) throw new UsageError("--pageblock-map-at takes its maps at --interval samples: add --interval MS");
  const until = num("until", o.until);
  const drain = num("drain", o.drain);
  const streaming = SERIES_FORMATS.includes(format);
  // --report with an output that has no series: samples go to a compact store, not the engine's series
  const store = o.report !== undefined && format !== "json" ? new (await import("../../report/sample-store.js")).SampleStore() : undefined;
  const toFile = o.output !== undefined && o.output !== "-";
  // streamed samples go out as they are taken: to -o's temporary file, or standard output
  const sink = streaming ? new OutputSink(toFile ? o.output : undefined) : undefined;
  let header = false;
  const progress = new Progress(process.stderr);
  let result: RunResult;
  try {
    result = await replay({
      trace,
      machine: o.machine,
      zones: o.zones,
      startState: o.startState,
      set: o.set,
      plugins: o.plugin,
      format: o.inputFormat as TraceFormat | undefined,
      csvEngine: o.csvParser as "fast" | "csv-parse",
      worker: o.worker === false ? false : "auto",
      until,
      drain,
      check: o.check,
      lenient: o.lenient,
      closedLoop: o.closedLoop,
      idleJumps: o.idleJumps,
      interval,
      keepSeries: !streaming && store === undefined,
      pageblockMap: o.pageblockMap === true || o.report !== undefined,
      pageblockMapAt: mapAt,
      onNote: o.quiet ? undefined : (text) => process.stderr.write(`note: ${text}\n`),
      onProgress: progress.enabled ? (n, t, bytes, total) => progress.update(n, t, bytes, total) : undefined,
      onSample: sink || store
        ? (smp, zones) => {
            store?.push(smp);
            if (!sink) return;
            if (format === "ndjson") return sink.write(JSON.stringify(smp) + "\n");
            if (!header) {
              header = true;
              sink.write(sampleCsvHeader(smp, zones) + "\n");
            }
            sink.write(sampleCsvRow(smp) + "\n");
          }
        : undefined,
    });
  } catch (e) {
    sink?.abort();
    throw e;
  } finally {
    progress.done();
  }
  if (sink) sink.commit();
  if (o.report !== undefined) {
    const { renderReport } = await import("../../report/html.js");
    const { runNames } = await import("./report.js");
    const { isPromotionCounter } = await import("../../report/charts.js");
    const run = store ? { ...result, series: store.samples(isPromotionCounter) } : result;
    writeWhole(o.report, renderReport({ runs: [{ name: runNames([trace === "-" ? "stdin" : trace.replace(/\.(csv|ndjson|jsonl|json)(\.gz)?$/i, "")])[0]!, run }] }));
  }
  const color = !toFile && process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== "dumb";
  if (color) await loadColor(); // chalk only on a terminal (src/report/paint.ts)
  const text = streaming ? "" : render(result, format, color);
  if (o.expect !== undefined) {
    // --expect: the run goes to -o (if given); stdout gets the comparison
    if (toFile && !streaming) writeWhole(o.output!, text);
    const { compare, loadCounters, renderDiff } = await import("./diff.js");
    const r = compare(await loadCounters(o.expect, { outputsOnly: true }), result.vmstat, o);
    await writeStdout(await renderDiff(r, format === "json" ? "json" : "table", ["expected", "run"]));
    return r.within ? 0 : 1;
  }
  if (streaming) return 0;
  if (toFile) writeWhole(o.output!, text);
  else await writeStdout(text);
  return 0;
}
