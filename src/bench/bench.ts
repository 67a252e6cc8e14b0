/**
 * `npm run bench`: generates its traces (2.5 M events each, seeded), then measures each
 * path in fresh processes (the median of 3 by events/s; peak RSS is the largest), all in the
 * same run so that their ratios mean something on a shared machine (issue 20 item 5):
 *  - the byte-level CSV parse ceiling (ceiling.ts: fields only, nothing else) and, as the
 *    ratio to it, every other path on the same trace;
 *  - the CSV reader alone (openTrace to the last batch) and the .wtrace reader alone;
 *  - CSV end to end with the parse worker (auto: on with 2+ CPUs) and without (--no-worker);
 *    NDJSON end to end; .wtrace end to end (the trace converted once by `wsim convert`);
 *  - the engine alone on pre-parsed batches, and (access) the floor under it: floor.ts
 *    accessFloor, the least an access costs on this machine with no model at all;
 *  - the host's cost of a first touch of a 4 KiB page of fresh memory (floor.ts), which every
 *    page of state a run touches first pays once (µs; a note row);
 *  - CSV end to end and the engine alone on a 64 GiB machine, and (access) CSV end to end on
 *    a 1 TiB machine: peak RSS per machine. The per-pfn arrays are reserved whole and the host
 *    commits their memory only where they are written (free order-10 blocks write none of the
 *    link arrays: PageArrays.linksOf); a machine whose worst case (hostBytesNeeded) exceeds
 *    this host's memory is not built: its row says "not possible: ..." instead;
 *  - (access) the ceiling and CSV end to end again on the same workload 10 times as long: the
 *    streaming rate without the run's fixed costs, and peak RSS flat in the trace's length;
 *  - `wsim convert` of a UCSD address trace and of an ftrace trace_pipe text of kmem page
 *    events (generate.ts writeTracePipe) of as many lines to CSV (lines/s).
 * WSIM_BENCH_EVENTS and WSIM_BENCH_REPEAT change the sizes.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { convertCommand } from "../cli/commands/convert.js";
import { hostBytesNeeded, hostMemoryLimit, loadMachine } from "../machine/machine.js";
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
  /** events/s over the ceiling's on the same trace */
  ratio?: number;
  /** a row that could not be measured, and why */
  note?: string;
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

/** host bytes a machine file may need at worst (every page used), hostBytesNeeded */
function worstBytes(file: string): number {
  return hostBytesNeeded(loadMachine(file));
}

async function main() {
  const machines: Record<string, string> = { default: "default" };
  for (const [name, mem] of [["64G", "64G"], ["1T", "1024G"]] as const) {
    const f = join(dir, `${name}.machine.json`);
    writeFileSync(f, JSON.stringify({ name, nodes: [{ id: 0, mem }] }));
    machines[name] = f;
  }
  const rows: Row[] = [];
  for (const kind of ["access", "allocfree"] as BenchKind[]) {
    const csv = join(dir, `${kind}.csv`);
    const nd = join(dir, `${kind}.ndjson`);
    const wt = join(dir, `${kind}.wtrace`);
    process.stderr.write(`generating ${kind} (${N} events)...\n`);
    await writeTrace(csv, kind, N, "csv");
    await writeTrace(nd, kind, N, "ndjson");
    await convertCommand(csv, wt, { refsPerMs: "1000", instrPerMs: "1000", pid: "1", timeUnit: "s", quiet: true });
    /** path, worker arguments, machine, and "10x" for the trace 10 times as long */
    const runs: [string, string[], string, string?][] = [
      ["csv parse ceiling", ["ceiling", csv], "-"],
      ["csv reader alone", ["reader", csv], "-"],
      ["wtrace reader alone", ["reader", wt], "-"],
      ["csv end to end", ["e2e", csv, "default", "auto"], "default"],
      ["csv e2e, no worker", ["e2e", csv, "default", "inline"], "default"],
      ["ndjson end to end", ["e2e", nd, "default"], "default"],
      ["wtrace end to end", ["e2e", wt, "default"], "default"],
      ["engine alone", ["engine", csv, "default"], "default"],
      ...(kind === "access" ? ([["floor, no model", ["floor", csv, "default"], "default"]] as [string, string[], string][]) : []),
      ["csv end to end", ["e2e", csv, machines["64G"]!, "auto"], "64G"],
      ["engine alone", ["engine", csv, machines["64G"]!], "64G"],
    ];
    if (kind === "access") runs.push(["csv end to end", ["e2e", csv, machines["1T"]!, "auto"], "1T"]);
    if (kind === "access") {
      // the same workload 10x as long: the streaming rate once the run's fixed costs (start,
      // machine, first faults, the worker's start) are spread, and whether peak RSS stays flat
      const long = join(dir, `${kind}-10x.csv`);
      process.stderr.write(`generating ${kind} (${10 * N} events)...\n`);
      await writeTrace(long, kind, 10 * N, "csv");
      runs.push(["csv parse ceiling", ["ceiling", long], "-", "10x"], ["csv end to end", ["e2e", long, "default", "auto"], "default", "10x"]);
    }
    let ceiling = 0;
    for (const [path, args, machine, long] of runs) {
      const file = machine === "-" ? null : machines[machine]!;
      if (file && file !== "default" && worstBytes(file) > hostMemoryLimit()) {
        rows.push({ workload: long ? `${kind} 10x` : kind, path, machine, events: 0, eventsPerSec: 0, maxRssMB: 0, note: `not possible: up to ${worstBytes(file)} bytes of page state, the host has ${hostMemoryLimit()}` });
        continue;
      }
      const workload = long ? `${kind} 10x` : kind;
      process.stderr.write(`  ${workload}: ${path} on ${machine}...\n`);
      const r = { ...median(args), workload, path, machine };
      if (path === "csv parse ceiling") ceiling = r.eventsPerSec;
      rows.push({ ...r, ratio: ceiling ? r.eventsPerSec / ceiling : undefined });
    }
  }
  // the host's first touch of fresh memory (the median of REPEAT processes)
  process.stderr.write("  host: first touch of memory...\n");
  const touch = Array.from({ length: REPEAT }, () => (JSON.parse(execFileSync(process.execPath, [worker, "touch"], { encoding: "utf8" })) as { micros: number }).micros).sort((a, b) => a - b)[REPEAT >> 1]!;
  rows.push({ workload: "host", path: "first touch of 4 KiB", machine: "-", events: 0, eventsPerSec: 0, maxRssMB: 0, note: `${touch.toFixed(2)} µs a page (64 MiB of fresh memory, one byte a page)` });
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
  const w = [10, 20, 8, 10, 12, 9, 10];
  const line = (cells: (string | number)[]) => cells.map((c, i) => String(c).padEnd(w[i]!)).join(" ").trimEnd();
  console.log(line(["workload", "path", "machine", "events", "events/s", "/ceiling", "peak RSS"]));
  for (const r of rows)
    console.log(
      r.note
        ? line([r.workload, r.path, r.machine, r.note])
        : line([r.workload, r.path, r.machine, r.events, `${(r.eventsPerSec / 1e6).toFixed(2)} M/s`, r.ratio === undefined ? "" : r.ratio.toFixed(2), `${r.maxRssMB} MB`]),
    );
  console.log(`node ${process.version}; medians of ${REPEAT} fresh processes; traces generated with seed 1 in ${dir} (removed)`);
}

try {
  await main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
