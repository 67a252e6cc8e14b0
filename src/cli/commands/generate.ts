/** `wsim generate KIND`: a seeded synthetic trace, streamed to stdout or written whole to -o. */
import { UsageError } from "../../errors.js";
import { Rng } from "../../engine/rng.js";
import { COLUMNS, csvLine, GENERATORS, knobValues, ndjsonLine } from "../../generate/generators.js";
import { writeWhole } from "../output.js";

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
  const line = o.format === "ndjson" ? ndjsonLine : csvLine;
  const toFile = o.output !== undefined && o.output !== "-";
  let buf = "";
  const parts: string[] = [];
  if (o.format !== "ndjson") buf += `# wsim generate ${kind} --seed ${o.seed} ${Object.entries(knobs).map(([k, v]) => `--${knobFlag(k)} ${v}`).join(" ")}\n${COLUMNS.join(",")}\n`;
  for (const r of spec.rows(knobs, new Rng(Number(o.seed)))) {
    buf += line(r) + "\n";
    if (buf.length >= 1 << 16) {
      if (toFile) parts.push(buf);
      else if (!process.stdout.write(buf)) await new Promise<void>((res) => process.stdout.once("drain", () => res()));
      buf = "";
    }
  }
  if (toFile) writeWhole(o.output!, parts.join("") + buf);
  else process.stdout.write(buf);
}
