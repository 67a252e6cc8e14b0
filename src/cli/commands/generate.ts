/** `wsim generate KIND`: a seeded synthetic trace, streamed to stdout or written whole to -o. */
import { UsageError } from "../../errors.js";
import { Rng } from "../../engine/rng.js";
import { COLUMNS, csvLine, GENERATORS, knobValues, ndjsonLine } from "../../generate/generators.js";
import { OutputSink } from "../output.js";

export interface GenerateOptions {
  seed: string;
  format: string;
  output?: string;
  [knob: string]: string | undefined;
}

/** commander's camelCase option name for a knob */
export const knobFlag = (k: string) => k.replace(/_/g, "-");
const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

export async function generateCommand(kind: string, o: GenerateOptions): Promise<void> {
  const spec = GENERATORS[kind]!;
  if (!/^\d+$/.test(o.seed) || !Number.isSafeInteger(Number(o.seed)))
    throw new UsageError(`--seed: expected an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got ${JSON.stringify(o.seed.slice(0, 40))}`);
  // every knob in its range, then together: a trace that replays (SPEC §2)
  const knobs = knobValues(spec, (k) => o[camel(k)]);
  // -o's extension names the format; a -f saying otherwise would be ignored by one of them
  const named = o.output && o.output !== "-" ? /\.(csv|ndjson|jsonl)(\.gz)?$/.exec(o.output)?.[1] : undefined;
  const byName = named === undefined ? undefined : named === "csv" ? "csv" : "ndjson";
  if (byName && o.formatGiven && byName !== o.format)
    throw new UsageError(`-o ${o.output} names ${byName} but -f is ${o.format}: drop one of them`);
  if (byName) o.format = byName;
  const line = o.format === "ndjson" ? ndjsonLine : csvLine;
  // one writer for stdout and -o (whole or nothing, gzipped for .gz, waits for a slow pipe)
  const sink = new OutputSink(o.output);
  try {
    if (o.format !== "ndjson") sink.write(`# wsim generate ${kind} --seed ${o.seed} ${Object.entries(knobs).map(([k, v]) => `--${knobFlag(k)} ${v}`).join(" ")}\n${COLUMNS.join(",")}\n`);
    let n = 0;
    for (const r of spec.rows(knobs, new Rng(Number(o.seed)))) {
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
