/** `wsim replay TRACE`: replay a trace and print what the kernel would have counted. */
import { UsageError } from "../../errors.js";
import type { RunResult } from "../../engine/result.js";
import { renderJson } from "../../report/json.js";
import { renderText } from "../../report/text.js";
import { renderVmstat } from "../../report/vmstat.js";
import { replay } from "../../replay.js";
import type { TraceFormat } from "../../trace/types.js";
import { writeStdout, writeWhole } from "../output.js";
import { Progress } from "../progress.js";
import { sampleCsvHeader, sampleCsvRow } from "../../report/series.js";

export interface ReplayCliOptions {
  machine?: string;
  set: string[];
  format?: string;
  output?: string;
  until?: string;
  drain: string;
  /** gone: replay has nothing random; given, it is a usage error that says so */
  seed?: string;
  check?: boolean;
  lenient?: boolean;
  inputFormat?: string;
  csvParser: string;
  interval?: string;
  expect?: string;
  tolerance: string[];
  only: string[];
  ignore: string[];
}

export const OUTPUT_FORMATS = ["text", "vmstat", "json", "csv", "ndjson"] as const;
/** formats that stream one record per --interval sample */
const SERIES_FORMATS = ["csv", "ndjson"];

/**
 * A number of ms from an option: non-negative, or positive when `positive`. One message per
 * rule whatever the wrong value (-5, 0, abc).
 */
function num(name: string, v: string | undefined, positive = false): number | undefined {
  if (v === undefined) return undefined;
  const ok = /^\d+(\.\d+)?$/.test(v) && (!positive || Number(v) > 0);
  if (!ok) throw new UsageError(`--${name}: expected a ${positive ? "positive" : "non-negative"} number of ms, got "${v}"`);
  return Number(v);
}

/** text on a terminal; otherwise from -o's extension, else vmstat */
function pickFormat(o: ReplayCliOptions): string {
  if (o.format) {
    if (!(OUTPUT_FORMATS as readonly string[]).includes(o.format))
      throw new UsageError(`--format: expected one of ${OUTPUT_FORMATS.join(", ")}, got "${o.format}"`);
    return o.format;
  }
  if (o.output) return o.output.endsWith(".json") ? "json" : o.output.endsWith(".txt") ? "text" : "vmstat";
  return process.stdout.isTTY ? "text" : "vmstat";
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
  const streaming = SERIES_FORMATS.includes(format);
  if (streaming && interval === undefined) throw new UsageError(`--format ${format} needs --interval MS (one row per sample)`);
  const toFile = o.output !== undefined && o.output !== "-";
  let buffered = "";
  const emit = (text: string) => {
    if (toFile) buffered += text;
    else process.stdout.write(text);
  };
  let header = false;
  const progress = new Progress(process.stderr);
  if (o.inputFormat && !["csv", "ndjson", "json"].includes(o.inputFormat))
    throw new UsageError(`--input-format: expected csv, ndjson or json, got "${o.inputFormat}"`);
  if (!["fast", "csv-parse"].includes(o.csvParser))
    throw new UsageError(`--csv-parser: expected fast or csv-parse, got "${o.csvParser}"`);
  if (o.seed !== undefined)
    throw new UsageError(
      "--seed: replay has no randomness to seed (the model draws no random numbers: the same trace, machine and tunables always give the same output); `wsim generate KIND --seed N` seeds a synthetic trace",
    );
  const result = await replay({
    trace,
    machine: o.machine,
    set: o.set,
    format: o.inputFormat as TraceFormat | undefined,
    csvEngine: o.csvParser as "fast" | "csv-parse",
    until: num("until", o.until),
    drain: num("drain", o.drain),
    check: o.check,
    lenient: o.lenient,
    interval,
    keepSeries: !streaming,
    onProgress: progress.enabled ? (n, t, bytes, total) => progress.update(n, t, bytes, total) : undefined,
    onSample: streaming
      ? (smp) => {
          if (format === "ndjson") return emit(JSON.stringify(smp) + "\n");
          if (!header) {
            header = true;
            emit(sampleCsvHeader(smp) + "\n");
          }
          emit(sampleCsvRow(smp) + "\n");
        }
      : undefined,
  });
  progress.done();
  if (streaming) {
    if (toFile) writeWhole(o.output!, buffered);
    return 0;
  }
  const color = !toFile && process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== "dumb";
  const text = render(result, format, color);
  if (o.expect !== undefined) {
    // --expect: the run goes to -o (if given); stdout gets the comparison
    if (toFile) writeWhole(o.output!, text);
    const { compare, loadCounters, renderDiff } = await import("./diff.js");
    const r = compare(await loadCounters(o.expect, {}), result.vmstat, o);
    await writeStdout(renderDiff(r, format === "json" ? "json" : "table", ["expected", "run"]));
    return r.within ? 0 : 1;
  }
  if (toFile) writeWhole(o.output!, text);
  else await writeStdout(text);
  return 0;
}
