/**
 * The bundled traces the golden outputs are pinned for, and the arguments each needs: one list
 * for the golden test and for the tests that must reproduce those outputs another way (the
 * parse worker, .wtrace).
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export const TRACES = new URL("../../traces", import.meta.url).pathname;

/** Extra arguments a trace needs, by file name; the machine is the one each trace names, given again (--machine overrides it). */
export const GOLDEN_ARGS: Record<string, { machine?: string; set?: string[] }> = {
  "vm-balloon.csv": { machine: "vm" },
  "tiered-hotset.csv.gz": { machine: "tiered", set: ["kpromoted.enabled=1", "hotness.hw_sample_period=8"] },
  "numa-spill.ndjson": { machine: join(TRACES, "numa2-small.machine.json") },
  "fragmentation.csv.gz": { machine: join(TRACES, "small128.machine.json") },
  "thp-defrag.csv.gz": { machine: join(TRACES, "small128.machine.json"), set: ["transparent_hugepage.defrag=always"] },
  "compact-holes.csv.gz": { machine: join(TRACES, "small128.machine.json") },
  "movable-compact.csv.gz": { machine: join(TRACES, "movable96.machine.json") },
  "containers.csv": { machine: join(TRACES, "containers.machine.json") },
};

/** Every trace under `dir` (CSV, NDJSON or JSON, gzipped or not; machine files left out), sorted. */
export function bundledTraces(dir = TRACES): string[] {
  return readdirSync(dir)
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? bundledTraces(p) : [p];
    })
    .filter((p) => /\.(csv|ndjson|json)(\.gz)?$/.test(p) && !p.endsWith(".machine.json"))
    .sort();
}
