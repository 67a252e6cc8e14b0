/** `wsim replay TRACE`: replay a trace and print what the kernel would have counted. */
import { UsageError } from "../../errors.js";
import type { RunResult } from "../../engine/result.js";
import { renderJson } from "../../report/json.js";
import { renderText } from "../../report/text.js";
import { renderVmstat } from "../../report/vmstat.js";
import { replay } from "../../replay.js";
import type { TraceFormat } from "../../trace/types.js";
import { writeStdout, writeWhole } from "../output.js";

export interface ReplayCliOptions {
  machine?: string;
  set: string[];
  format?: string;
  output?: string;
  until?: string;
  drain: string;
  seed: string;
  check?: boolean;
  lenient?: boolean;
  inputFormat?: string;
  csvParser: string;
}

export const OUTPUT_FORMATS = ["text", "vmstat", "json"] as const;

function num(name: string, v: string | undefined, min = 0): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) < min) throw new UsageError(`--${name}: expected a non-negative number of ms, got "${v}"`);
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

export async function replayCommand(trace: string, o: ReplayCliOptions): Promise<void> {
  const format = pickFormat(o);
  if (o.inputFormat && !["csv", "ndjson", "json"].includes(o.inputFormat))
    throw new UsageError(`--input-format: expected csv, ndjson or json, got "${o.inputFormat}"`);
  if (!["fast", "csv-parse"].includes(o.csvParser))
    throw new UsageError(`--csv-parser: expected fast or csv-parse, got "${o.csvParser}"`);
  if (!/^\d+$/.test(o.seed)) throw new UsageError(`--seed: expected a non-negative integer, got "${o.seed}"`);
  const result = await replay({
    trace,
    machine: o.machine,
    set: o.set,
    format: o.inputFormat as TraceFormat | undefined,
    csvEngine: o.csvParser as "fast" | "csv-parse",
    until: num("until", o.until),
    drain: num("drain", o.drain),
    seed: Number(o.seed),
    check: o.check,
    lenient: o.lenient,
  });
  const toFile = o.output !== undefined && o.output !== "-";
  const color = !toFile && process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== "dumb";
  const text = render(result, format, color);
  if (toFile) writeWhole(o.output!, text);
  else await writeStdout(text);
}
