/**
 * One bench measurement in its own process (so peak RSS is its own):
 *   node dist/bench/worker.js e2e TRACE MACHINE [worker|inline]   (replay(); the parse worker on or off, default auto)
 *   node dist/bench/worker.js engine TRACE MACHINE
 *   node dist/bench/worker.js reader TRACE           (openTrace to the last batch, no engine)
 *   node dist/bench/worker.js ceiling TRACE          (the byte-level CSV parse ceiling, ceiling.ts)
 *   node dist/bench/worker.js convert TRACE FORMAT   (wsim convert --from FORMAT to TRACE.csv; FORMAT - is ucsd)
 *   node dist/bench/worker.js floor TRACE MACHINE    (floor.ts accessFloor on pre-parsed batches: no model)
 *   node dist/bench/worker.js touch                  (floor.ts firstTouchMicros: {micros})
 * prints {events, seconds, eventsPerSec, maxRssMB} as JSON (for convert, events = input lines).
 */
import { readFileSync, rmSync } from "node:fs";
import { convertCommand } from "../cli/commands/convert.js";
import { Engine } from "../engine/engine.js";
import { loadMachine } from "../machine/machine.js";
import { Settings } from "../machine/settings.js";
import { replay } from "../replay.js";
import { openTrace } from "../trace/open.js";
import { EventBatch } from "../trace/types.js";
import { parseCeiling } from "./ceiling.js";
import { accessFloor, firstTouchMicros } from "./floor.js";

function copyBatch(b: EventBatch): EventBatch {
  return new EventBatch(b.buffer.slice(0), b.n, [...b.strs]);
}

async function main() {
  const [mode, trace, machineArg] = process.argv.slice(2) as [string, string, string];
  let events = 0;
  let seconds = 0;
  if (mode === "convert") {
    const out = trace + ".csv";
    const t0 = process.hrtime.bigint();
    await convertCommand(trace, out, { from: machineArg === "-" || !machineArg ? "ucsd" : machineArg, refsPerMs: "1000", instrPerMs: "1000", pid: "1", timeUnit: "s", quiet: true });
    seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
    const text = readFileSync(trace, "latin1");
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) events++;
    rmSync(out);
    process.stdout.write(JSON.stringify({ events, seconds, eventsPerSec: Math.round(events / seconds), maxRssMB }) + "\n");
    return;
  }
  if (mode === "ceiling" || mode === "reader") {
    const t0 = process.hrtime.bigint();
    if (mode === "ceiling") events = parseCeiling(trace).rows;
    else for await (const b of (await openTrace(trace)).batches()) events += b.n;
    seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
    process.stdout.write(JSON.stringify({ events, seconds, eventsPerSec: Math.round(events / seconds), maxRssMB }) + "\n");
    return;
  }
  if (mode === "touch") {
    process.stdout.write(JSON.stringify({ micros: firstTouchMicros() }) + "\n");
    return;
  }
  const machine = loadMachine(machineArg);
  if (mode === "e2e") {
    const w = process.argv[5];
    const t0 = process.hrtime.bigint();
    const r = await replay({ trace, machine, worker: w === "worker" ? true : w === "inline" ? false : "auto" });
    seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    events = r.trace.events;
  } else {
    const t = await openTrace(trace);
    const batches: EventBatch[] = [];
    for await (const b of t.batches()) batches.push(copyBatch(b));
    events = batches.reduce((s, b) => s + b.n, 0);
    if (mode === "floor") {
      seconds = accessFloor(batches, machine.nodes.reduce((s, n) => s + n.mem, 0)).seconds;
      const maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
      process.stdout.write(JSON.stringify({ events, seconds, eventsPerSec: Math.round(events / seconds), maxRssMB }) + "\n");
      return;
    }
    const engine = new Engine(new Settings(machine));
    const t0 = process.hrtime.bigint();
    for (const b of batches) engine.processBatch(b, trace);
    engine.finish();
    seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  }
  const maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(JSON.stringify({ events, seconds, eventsPerSec: Math.round(events / seconds), maxRssMB }) + "\n");
}

await main();
