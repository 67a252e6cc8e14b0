/**
 * Issue 12, item 9: every knob of every generator is validated (exit 2 naming the knob and its
 * range), and every generator's default output replays on its intended machine.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateCommand } from "../../../src/cli/commands/generate.js";
import { Rng } from "../../../src/engine/rng.js";
import { UsageError } from "../../../src/errors.js";
import { COLUMNS, csvLine, GENERATORS } from "../../../src/generate/generators.js";
import { replay } from "../../../src/replay.js";
import { engineFor, runCsv, stdinOf } from "../../helpers.js";

const ROOT = new URL("../../../", import.meta.url).pathname;
const wsim = (args: string[]) => spawnSync(process.execPath, [join(ROOT, "bin/wsim"), ...args], { cwd: ROOT, encoding: "utf8" });
const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Runs `wsim generate KIND` in process with commander's option shape; returns the error. */
async function generateError(kind: string, knobs: Record<string, string>, seed = "1"): Promise<unknown> {
  const o: Record<string, string> = { ...(GENERATORS[kind]!.seeded ? { seed } : {}), format: "csv", output: "/nonexistent-dir/never-written.csv" };
  for (const [k, [def]] of Object.entries(GENERATORS[kind]!.options)) o[camel(k)] = String(def);
  for (const [k, v] of Object.entries(knobs)) o[camel(k)] = v;
  try {
    await generateCommand(kind, o as never);
  } catch (e) {
    return e;
  }
  return null;
}

// Each knob's bad values, written by hand from what the generator does with it: a count of
// nothing, a fraction of a page or process, a share outside [0, 1], a rate of 0 (infinite
// times), sizes beyond what a generator can lay out.
const BAD: Record<string, Record<string, string[]>> = {
  zipf: {
    pages: ["0", "-1", "1.5", "33554433", "abc", ""],
    events: ["0", "2.5", "-3", "x"],
    alpha: ["-0.5", "101", "NaN"],
    rate: ["0", "-1", "Infinity", "2e9"],
    write_ratio: ["2", "-0.1", "1.01"],
  },
  scan: {
    pages: ["0", "0.5", "1073741825"],
    passes: ["0", "1.5"],
    rate: ["0", "-2"],
    file: ["2", "0.5", "-1"],
  },
  fragment: {
    procs: ["0", "1048577", "2.5"],
    pages_per_proc: ["0", "3.5"],
    kernel_every: ["-1", "0.5"],
    exit_ratio: ["1.5", "-1"],
    rate: ["0"],
  },
  thp: {
    regions: ["0", "65537", "1.5"],
    region_mb: ["1", "0", "2.5", "1048577"],
    madvise: ["2", "-1"],
    partial_unmap: ["1.5", "-0.5"],
    rate: ["0"],
  },
  tiered: {
    heap_mb: ["0", "1.5", "1048577"],
    hot_mb: ["0", "0.5"],
    node: ["-1", "1024", "0.5"],
    duration_ms: ["0", "-5"],
    shift_ms: ["0", "-1"],
    rate: ["0"],
  },
  balloon: {
    alloc_mb: ["0", "1.5"],
    again_mb: ["0", "-1"],
    idle_ms: ["-1", "1e13"],
    stride_pages: ["0", "0.5"],
    rate: ["0", "-1"],
  },
  "malloc-trim": {
    heap_mb: ["0", "1.5"],
    chunk_kb: ["0", "1.5"],
    ops: ["0", "2.5"],
    free_ratio: ["1.5", "-0.5"],
    rate: ["0"],
  },
  "fork-snapshot": {
    heap_mb: ["0", "1.5"],
    writes: ["0", "2.5"],
    rate: ["0", "-1"],
  },
  filecache: {
    file_mb: ["0", "1.5", "65537"],
    hot_mb: ["0", "-1"],
    chunk_kb: ["0", "2.5"],
    hot_every: ["0", "1.5"],
    append_kb: ["-4", "0.5"],
    passes: ["0", "1.5"],
    rate: ["0"],
  },
};

describe("wsim generate: every knob is validated", () => {
  it("the table covers every knob of every generator", () => {
    expect(Object.keys(BAD).sort()).toEqual(Object.keys(GENERATORS).sort());
    for (const [kind, spec] of Object.entries(GENERATORS)) expect(Object.keys(BAD[kind]!).sort(), kind).toEqual(Object.keys(spec.options).sort());
  });
  for (const [kind, knobs] of Object.entries(BAD))
    for (const [knob, values] of Object.entries(knobs))
      it(`${kind} --${knob.replace(/_/g, "-")}: ${values.join(" | ")} are usage errors naming the knob and its range`, async () => {
        for (const v of values) {
          const e = await generateError(kind, { [knob]: v });
          expect(e, `${kind} --${knob} ${v}`).toBeInstanceOf(UsageError);
          expect((e as Error).message, v).toMatch(new RegExp(`^--${knob.replace(/_/g, "-")}: expected (an integer|a number) `));
        }
      });

  it("the issue's cases, on the command line: exit 2, nothing written, the range in the message", () => {
    const cases: [string[], string][] = [
      [["zipf", "--pages", "0"], '--pages: expected an integer from 1 to 33554432, got "0"'],
      [["zipf", "--rate", "0"], '--rate: expected a number > 0 and <= 1000000000, got "0"'],
      [["zipf", "--write-ratio", "2"], '--write-ratio: expected a number >= 0 and <= 1, got "2"'],
      [["tiered", "--hot-mb", "100", "--heap-mb", "10"], "--hot-mb (100) must be at most --heap-mb (10): the hot set lies inside the heap"],
      [["zipf", "--seed", "99999999999999999999"], '--seed: expected an integer from 0 to 9007199254740991, got "99999999999999999999"'],
    ];
    for (const [args, msg] of cases) {
      const r = wsim(["generate", ...args]);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(`wsim: ${msg}\n`);
    }
  });

  it("knobs valid alone but not together: thp's address span, an end time beyond 1e12 ms", async () => {
    // 65536 regions x 2 x 1024 MiB = 128 TiB: past the 47-bit user address space
    expect(((await generateError("thp", { regions: "65536", region_mb: "1024" })) as Error).message).toMatch(/^--regions \(65536\) x 2 x --region-mb \(1024\) MiB must fit/);
    // 100000 events at 1e-8 per ms end at 99999e8 ms = 9.9999e12 > 1e12
    expect(((await generateError("zipf", { rate: "0.00000001" })) as Error).message).toMatch(/^zipf: these knobs end the trace at 9999900000000 ms, beyond 1000000000000 ms/);
    // a valid edge, the hot set as large as the heap, gets past validation to the write
    expect(((await generateError("tiered", { hot_mb: "64", heap_mb: "64", duration_ms: "10", node: "0" })) as Error).message).toMatch(/never-written\.csv: cannot write/);
  });
});

describe("every generator's default output replays on its intended machine", () => {
  const MACHINE: Record<string, string> = { zipf: "default", scan: "default", fragment: "default", thp: "default", tiered: "tiered", balloon: "vm", "malloc-trim": "default", "fork-snapshot": "default", filecache: "default" };
  it("the table names every generator", () => expect(Object.keys(MACHINE).sort()).toEqual(Object.keys(GENERATORS).sort()));
  for (const [kind, machine] of Object.entries(MACHINE))
    it(`${kind} on ${machine}: every row is an event, times finite and non-decreasing`, async () => {
      const spec = GENERATORS[kind]!;
      const o = Object.fromEntries(Object.entries(spec.options).map(([k, [d]]) => [k, d]));
      const rows = [...spec.rows(o, new Rng(1))];
      let last = 0;
      for (const r of rows) {
        expect(Number.isFinite(r.time_ms as number)).toBe(true);
        expect(r.time_ms as number).toBeGreaterThanOrEqual(last);
        last = r.time_ms as number;
        if (r.addr !== undefined) expect(String(r.addr)).toMatch(/^0x[0-9a-f]+$/);
      }
      expect(last).toBeLessThanOrEqual(spec.endMs(o) + 1);
      // a generator's own columns (malloc-trim's advice) follow the fixed ones, as `wsim generate` writes them
      const extra = spec.columns ?? [];
      const res = await replay({ trace: "-", stdin: stdinOf([...COLUMNS, ...extra].join(",") + "\n" + rows.map((r) => csvLine(r, extra)).join("\n") + "\n"), format: "csv", machine });
      expect(res.trace.events).toBe(rows.length);
    });
  // --check is O(pages) after every event (tens of ms on a 4 GiB machine), so the defaults'
  // shapes are checked on a 64 MiB machine with their sizes scaled down
  for (const kind of Object.keys(GENERATORS))
    it(`${kind}: the edges of its ranges replay under --check`, async () => {
      const spec = GENERATORS[kind]!;
      const o: Record<string, number> = Object.fromEntries(Object.entries(spec.options).map(([k, [d]]) => [k, d]));
      Object.assign(o, { pages: 1, events: 50, passes: 1, procs: 1, pages_per_proc: 1, regions: 2, region_mb: 2, heap_mb: 1, hot_mb: 1, duration_ms: 20, shift_ms: 5, alloc_mb: 1, again_mb: 1, idle_ms: 0, stride_pages: 1, ops: 50, writes: 1, file_mb: 1, hot_every: 2 });
      for (const k of ["write_ratio", "exit_ratio", "partial_unmap", "free_ratio"]) if (k in o) o[k] = 1;
      if (kind === "filecache") o.append_kb = 4;
      const machine = kind === "tiered"
        ? { name: "t", nodes: [{ id: 0, mem: 8192, tier: 0, cpus: true }, { id: 1, mem: 8192, tier: 1, cpus: false }], tunables: {} }
        : { name: "t", nodes: [{ id: 0, mem: 16384, tier: 0, cpus: true }], tunables: {} };
      const e = engineFor(machine, { check: true });
      const extra = spec.columns ?? [];
      await runCsv(e, [...COLUMNS, ...extra].join(",") + "\n" + [...spec.rows(o, new Rng(3))].map((r) => csvLine(r, extra)).join("\n"));
      expect(e.lastEventTime).toBeGreaterThanOrEqual(0);
    });
});
