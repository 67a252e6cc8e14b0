/**
 * `wsim convert IN OUT`: between wsim's trace formats (CSV, NDJSON, JSON by extension), and
 * from real trace formats (lackey, ucsd, lirs, damon, libcachesim; sniffed, or --from). The
 * importer's mapping and what it skipped go to standard error; OUT is written whole.
 */
import { readFileSync } from "node:fs";
import { gunzipSync, inflateSync } from "node:zlib";
import { DataError, UsageError } from "../../errors.js";
import { DEFAULT_IMPORT, damon, libcachesim, lackey, lirs, sniffImport, ucsd, type ImportOptions, type ImportStats } from "../../convert/importers.js";
import { COLUMNS, csvLine, ndjsonLine, type Row } from "../../generate/generators.js";
import { formatFromName, openTrace } from "../../trace/open.js";
import { batchRows } from "../../trace/rows.js";
import { writeWhole } from "../output.js";
import { plural } from "../../report/words.js";

export const IMPORT_FORMATS = ["lackey", "ucsd", "lirs", "damon", "libcachesim"];

export interface ConvertOptions {
  from?: string;
  refsPerMs: string;
  instrPerMs: string;
  instructions?: boolean;
  pid: string;
  timeUnit: string;
  quiet?: boolean;
  /** options given on the command line (not defaults), for the combination checks */
  given?: string[];
}

/** convert's import options and the importers they mean something to (issue 12 item 7) */
const IMPORT_OPTION_USERS: Record<string, [string, string[]]> = {
  refsPerMs: ["--refs-per-ms", ["lackey", "lirs"]],
  instrPerMs: ["--instr-per-ms", ["ucsd"]],
  instructions: ["--instructions", ["lackey"]],
  timeUnit: ["--time-unit", ["libcachesim"]],
  pid: ["--pid", ["lackey", "ucsd", "lirs", "damon", "libcachesim"]],
  quiet: ["--quiet", ["lackey", "ucsd", "lirs", "damon", "libcachesim"]],
};

/** An option given for an input it means nothing to is a usage error. `kind`: the importer, or "a wsim trace". */
function checkImportOptions(given: readonly string[], kind: string): void {
  for (const k of given) {
    const use = IMPORT_OPTION_USERS[k];
    if (use && !use[1].includes(kind))
      throw new UsageError(`${use[0]} applies to ${use[1].join(", ")} input only; this input is ${kind}: drop ${use[0]}`);
  }
}

function readRaw(path: string): Buffer {
  try {
    const raw = readFileSync(path === "-" ? 0 : path);
    return raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
  } catch (e) {
    throw new DataError(path === "-" ? "<stdin>" : path, 0, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Rows of IN, from an importer or a wsim trace, with the importer's stats. */
export async function importRows(path: string, o: ConvertOptions): Promise<{ rows: Iterable<Row> | AsyncIterable<Row>; stats: ImportStats | null }> {
  const opts: ImportOptions = {
    ...DEFAULT_IMPORT,
    refs_per_ms: positive("refs-per-ms", o.refsPerMs),
    instr_per_ms: positive("instr-per-ms", o.instrPerMs),
    instructions: o.instructions === true,
    pid: positive("pid", o.pid),
    time_unit: unit(o.timeUnit),
  };
  const raw = readRaw(path);
  const fmt = o.from ?? sniffImport(raw);
  if (fmt && !IMPORT_FORMATS.includes(fmt)) throw new UsageError(`--from: expected one of ${IMPORT_FORMATS.join(", ")}, got "${fmt}"`);
  const name = path === "-" ? "<stdin>" : path;
  if (!fmt) {
    const t = await openTrace(path);
    async function* rows(): AsyncGenerator<Row> {
      for await (const b of t.batches()) yield* batchRows(b);
    }
    return { rows: rows(), stats: null };
  }
  const st: ImportStats = { mapping: "", kept: 0, skipped: {} };
  if (fmt === "damon") {
    let text: string;
    try {
      text = (raw[0] === 0x78 ? inflateSync(raw) : raw).toString("utf8");
    } catch (e) {
      throw new DataError(name, 0, `damon: not zlib-compressed JSON: ${(e as Error).message}`);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new DataError(name, 0, `damon: invalid JSON: ${(e as Error).message}`);
    }
    return { rows: [...damon(doc, opts, st)], stats: st };
  }
  const lines = raw.toString("utf8").split("\n");
  const gen = { lackey, ucsd, lirs, libcachesim }[fmt as "lackey"]!;
  try {
    return { rows: [...gen(lines, opts, st)], stats: st };
  } catch (e) {
    throw new DataError(name, 1, (e as Error).message);
  }
}

function positive(flag: string, v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new UsageError(`--${flag}: expected a positive number, got "${v}"`);
  return n;
}

function unit(v: string): ImportOptions["time_unit"] {
  if (!["s", "ms", "us", "ns"].includes(v)) throw new UsageError(`--time-unit: expected s, ms, us or ns, got "${v}"`);
  return v as ImportOptions["time_unit"];
}

export async function convertCommand(input: string, output: string, o: ConvertOptions): Promise<void> {
  const outFormat = output === "-" ? "csv" : formatFromName(output);
  if (!outFormat) throw new UsageError(`${output}: name the output .csv, .ndjson, .jsonl or .json (or - for CSV on standard output)`);
  const { rows, stats } = await importRows(input, o);
  checkImportOptions(o.given ?? [], stats ? stats.mapping.slice(0, stats.mapping.indexOf(":")) : "a wsim trace");
  const parts: string[] = [];
  let n = 0;
  if (outFormat === "csv") parts.push(COLUMNS.join(",") + "\n");
  if (outFormat === "json") parts.push('{\n  "events": [\n');
  for await (const r of rows as AsyncIterable<Row>) {
    if (outFormat === "csv") parts.push(csvLine(r) + "\n");
    else if (outFormat === "ndjson") parts.push(ndjsonLine(r) + "\n");
    else parts.push((n ? ",\n" : "") + "    " + ndjsonLine(r));
    n++;
  }
  if (outFormat === "json") parts.push("\n  ]\n}\n");
  const text = parts.join("");
  if (output === "-") process.stdout.write(text);
  else writeWhole(output, text);
  if (stats && !o.quiet) {
    const skipped = Object.entries(stats.skipped).map(([why, k]) => `${k} ${why}`);
    process.stderr.write(`${stats.mapping}\n${plural(stats.kept, "access", "accesses")} written${skipped.length ? "; skipped: " + skipped.join(", ") : ""}\n`);
  }
}
