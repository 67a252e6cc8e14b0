/**
 * `npm run bench`: generates its traces (2.5 M events each, seeded), then measures each
 * path in fresh processes (the median of 3; peak RSS is the largest): CSV end to end, NDJSON
 * end to end, the engine alone on pre-parsed batches, for the default machine and a 64 GiB
 * one, and `wsim convert` of a UCSD address trace and of an ftrace trace_pipe text of kmem page
 * events (generate.ts writeTracePipe) of as many lines to CSV; prints events/s
 * (lines/s for convert) and peak RSS. WSIM_BENCH_EVENTS and WSIM_BENCH_REPEAT change the sizes.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeTrace, writeTracePipe, writeUcsd, type BenchKind } from "./generate.js";

const N = Number(process.env.WSIM_BENCH_EVENTS ?? 2_500_000);
const REPEAT = Number(process.env.WSIM_BENCH_REPEAT ?? 3);
const dir = mkdtempSync(join(tmpdir(), "wsim-bench-"));
const worker = new URL("./worker.js", import.meta.url).pathname;

interface Row {
  workload: string;
  path: string;
  machine: string;
  events: number;
  eventsPerSec: number;
  maxRssMB: number;
}

/**
 * The median by events/s of REPEAT fresh worker processes given `args` (a shared 2-core VM is
 * noisy), with the highest peak RSS of them.
 */
function median(args: string[]): Row {
  const runs = Array.from({ length: REPEAT }, () =>
    JSON.parse(execFileSync(process.execPath, [worker, ...args], { encoding: "utf8", maxBuffer: 1 << 20 })) as Row,
  ).sort((a, b) => a.eventsPerSec - b.eventsPerSec);
  return { ...runs[REPEAT >> 1]!, maxRssMB: Math.max(...runs.map((x) => x.maxRssMB)) };
}

async function main() {
  const big = join(dir, "64g.machine.json");
  writeFileSync(big, JSON.stringify({ name: "64G", nodes: [{ id: 0, mem: "64G" }] }));
  const rows: Row[] = [];
  for (const kind of ["access", "allocfree"] as BenchKind[]) {
    const csv = join(dir, `${kind}.csv`);
    const nd = join(dir, `${kind}.ndjson`);
    process.stderr.write(`generating ${kind} (${N} events)...\n`);
    await writeTrace(csv, kind, N, "csv");
    await writeTrace(nd, kind, N, "ndjson");
    const runs: [string, string, string, string][] = [
      ["csv end to end", "e2e", csv, "default"],
      ["ndjson end to end", "e2e", nd, "default"],
      ["engine alone", "engine", csv, "default"],
      ["csv end to end", "e2e", csv, big],
      ["engine alone", "engine", csv, big],
    ];
    for (const [path, mode, file, machine] of runs) {
      process.stderr.write(`  ${kind}: ${path} on ${machine === big ? "64G" : machine}...\n`);
      rows.push({ ...median([mode, file, machine]), workload: kind, path, machine: machine === big ? "64G" : machine });
    }
  }
  // wsim convert: a UCSD address trace to CSV, streamed (its memory must not grow with N)
  const ucsd = join(dir, "addr.ucsd");
  process.stderr.write(`generating ucsd (${N} lines)...\n  ucsd: convert to CSV...\n`);
  await writeUcsd(ucsd, N);
  rows.push({ ...median(["convert", ucsd, "-"]), workload: "ucsd", path: "convert to CSV", machine: "-" });
  // wsim convert --from ftrace: a trace_pipe text of kmem page events (issue 18: >= 1 M lines/s)
  const tp = join(dir, "trace_pipe.txt");
  process.stderr.write(`generating trace_pipe (${N} lines)...\n  ftrace: convert to CSV...\n`);
  await writeTracePipe(tp, N);
  rows.push({ ...median(["convert", tp, "ftrace"]), workload: "ftrace", path: "convert to CSV", machine: "-" });
  const w = [10, 18, 8, 10, 14, 12];
  const line = (cells: (string | number)[]) => cells.map((c, i) => String(c).padEnd(w[i]!)).join(" ").trimEnd();
  console.log(line(["workload", "path", "machine", "events", "events/s", "peak RSS"]));
  for (const r of rows)
    console.log(line([r.workload, r.path, r.machine, r.events, `${(r.eventsPerSec / 1e6).toFixed(2)} M/s`, `${r.maxRssMB} MB`]));
  console.log(`node ${process.version}; traces generated with seed 1 in ${dir} (removed)`);
}

try {
  await main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
