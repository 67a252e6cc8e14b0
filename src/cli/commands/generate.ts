/** `wsim generate KIND`: a seeded synthetic trace, streamed to stdout or written whole to -o. */
import { UsageError } from "../../errors.js";
import { Rng } from "../../engine/rng.js";
import { COLUMNS, csvLine, GENERATORS, knobValues, ndjsonLine, type Row } from "../../generate/generators.js";
import { OutputSink } from "../output.js";

export interface GenerateOptions {
  /** undefined for a generator that draws no random number */
  seed?: string;
  format: string;
  output?: string;
  [knob: string]: string | undefined;
}

/** commander's camelCase option name for a knob */
export const knobFlag = (k: string) => k.replace(/_/g, "-");
const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

export async function generateCommand(kind: string, o: GenerateOptions): Promise<void> {
  const spec = GENERATORS[kind]!;
  // --seed that would change nothing is a usage error, as replay's (issue 12 review A4)
  if (!spec.seeded && o.seed !== undefined)
    throw new UsageError(`--seed: generate ${kind} draws no random number (the same knobs always give the same trace): drop --seed`);
  const seed = o.seed ?? "1";
  if (!/^\d+$/.test(seed) || !Number.isSafeInteger(Number(seed)))
    throw new UsageError(`--seed: expected an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got ${JSON.stringify(seed.slice(0, 40))}`);
  // every knob in its range, then together: a trace that replays (SPEC §2)
  const knobs = knobValues(spec, (k) => o[camel(k)]);
  // -o's extension names the format; a -f saying otherwise would be ignored by one of them
  // -o names the trace's format: .csv, .ndjson or .jsonl (any case, optionally + .gz); a name
  // with another extension would get a format it does not say (issue 12 review A4)
  let named: string | undefined;
  if (o.output && o.output !== "-") {
    const base = o.output.replace(/^.*\//, "").replace(/\.gz$/i, "");
    named = /\.(csv|ndjson|jsonl)$/i.exec(base)?.[1]?.toLowerCase();
    if (named === undefined && base.lastIndexOf(".") > 0)
      throw new UsageError(`-o ${o.output}: generate writes .csv, .ndjson or .jsonl (optionally + .gz): rename it`);
  }
  const byName = named === undefined ? undefined : named === "csv" ? "csv" : "ndjson";
  if (byName && o.formatGiven && byName !== o.format)
    throw new UsageError(`-o ${o.output} names ${byName} but -f is ${o.format}: drop one of them`);
  if (byName) o.format = byName;
  const extra = spec.columns ?? [];
  const line = o.format === "ndjson" ? (r: Row) => ndjsonLine(r, extra) : (r: Row) => csvLine(r, extra);
  // one writer for stdout and -o (whole or nothing, gzipped for .gz, waits for a slow pipe)
  const sink = new OutputSink(o.output);
  try {
    // a trace for a machine names it, so that it replays without --machine
    if (o.format !== "ndjson")
      sink.write(
        `# wsim generate ${kind}${spec.seeded ? ` --seed ${seed}` : ""} ${Object.entries(knobs).map(([k, v]) => `--${knobFlag(k)} ${v}`).join(" ")}\n` +
          (spec.machine ? `# wsim: machine=${spec.machine}\n` : "") +
          `${[...COLUMNS, ...extra].join(",")}\n`,
      );
    else if (spec.machine) sink.write(JSON.stringify({ machine: spec.machine }) + "\n");
    let n = 0;
    for (const r of spec.rows(knobs, new Rng(Number(seed)))) {
      sink.write(line(r) + "\n");
      // let SIGINT/SIGTERM handlers run (they remove -o's temporary file)
      if (++n % 65536 === 0) await new Promise((res) => setImmediate(res));
    }
    sink.commit();
  } catch (e) {
    sink.abort();
    throw e;
  }
}
